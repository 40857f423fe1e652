/* gort.h - Go's goroutines, channels, select and scheduler for C and C++.
   One header, no dependencies beyond libc and pthreads. Linux, x86-64 and
   aarch64, with glibc or musl (static binaries too); Windows x64
   (MinGW-w64, tested under Wine; what differs: README, Platforms). MIT
   licensed (see the end of this file).

   gort runs many thousands of cheap goroutines (a 128 KiB stack reserve,
   about 4.7 KiB of memory while parked; 1.1 KiB once compacted, with
   GORT_COMPACT_MS set: >>compact) on a few OS threads with Go's
   G-M-P work-stealing scheduler, and gives them Go's channels, select,
   timers, sync objects and an epoll netpoller. Everything blocking also
   works from plain threads, so a game loop or GUI thread can talk to
   goroutines.

DO THIS
    In exactly one C or C++ file:

        #define GORT_IMPLEMENTATION
        #include "gort.h"

    Everywhere else include it plain. Link with -pthread (Windows, with
    MinGW-w64 gcc or clang: -lsynchronization -lws2_32).

EXAMPLE (examples/hello.c)

        #define GORT_IMPLEMENTATION
        #include "gort.h"
        #include <stdio.h>

        static void worker(void *arg) {
            gort_chan *c = (gort_chan *)arg;
            for (int i = 1; i <= 3; i++) gort_chan_send(c, &i);
            gort_chan_close(c);
        }

        static void main_fn(void *arg) {
            (void)arg;
            gort_chan *c = gort_chan_make(sizeof(int), 0);
            gort_go(worker, c);
            int v;
            while (gort_chan_recv(c, &v) == 1) printf("got %d\n", v);
            gort_chan_free(c);
        }

        int main(void) { return gort_run(main_fn, NULL) == 0 ? 0 : 1; }

TABLE OF CONTENTS (grep for the anchor)
    >>config     configuration macros and environment variables
    >>api        public declarations
    >>design     how it works: G/M/P, life of a goroutine, invariants
    >>impl       implementation starts (GORT_IMPLEMENTATION only)
    >>platform   platform detection, includes, small helpers
    >>os-linux   the kernel seam: futex, stack memory and guards, CPUs, faults
    >>poll-epoll the poller seam: epoll, and an eventfd to break its wait
    >>os-windows the same seam on Windows x64: WaitOnAddress, VirtualAlloc
    >>poll-windows  its poller: WSAPoll for sockets, an event and a timer
    >>arch       context layout shared by C and assembly
    >>asm-x64    x86-64 System V context switch
    >>asm-win64  x86-64 Windows (Win64) context switch, with the TIB's stack
    >>asm-a64    aarch64 AAPCS64 context switch
    >>lock       internal locks and thread notes (over gort__os_wait)
    >>structs    G, M, P, the runtime
    >>waitq      waiter queues (gort__wq) and claim tickets
    >>san        ASan, TSan and Valgrind hooks, empty in a plain build
    >>stack      stack segments, guard pages, overflow handler
    >>compact    stack compaction of long-parked goroutines
    >>runq       per-P lock-free run queues and the global queue
    >>trace      the execution trace: per-thread buffers, its file
    >>sched      the scheduler: ready, park, find work, spin, sleep
    >>goroutine  gort_go, gort_yield, gort_exit: a goroutine's start and end
    >>thread     plain threads' stand-in Gs (they park in gort__park_thread)
    >>timer      per-P timer heaps, sleep
    >>netpoll    fd descriptors and their waiters, the netpoll step
    >>sysmon     the monitor thread: syscall handoff, hogs, SIGQUIT
    >>runtime    gort_run, gort_start, gort_stop, deadlock check (gort__checkdead)
    >>chan       channels
    >>select     select
    >>sync       WaitGroup, Mutex, RWMutex, Cond, Once
    >>io         read/write/accept/connect, block_begin/end
    >>toolbox    timers, tickers, contexts, the semaphore, groups
    >>diag       dump, deadlock report, strerror
    >>license

>>config CONFIGURATION
    Macros (define before including, in the implementation file):
      GORT_IMPLEMENTATION   compile the implementation into this file.
      GORT_VALGRIND         register goroutine stacks with Valgrind
                            (needs <valgrind/valgrind.h>; build with -gdwarf-4).
      GORT_ASSERT(c)        internal invariant check; default aborts with file
                            and line. Never compiled out.
      GORT_API              what every public declaration starts with (define
                            it before every include). Default: default
                            visibility, so a shared library built with
                            -fvisibility=hidden exports gort's calls (and
                            none of its internals). For everything in one
                            file with internal linkage:
                            #define GORT_API static __attribute__((unused))
    ASan and TSan are detected from the compiler (__SANITIZE_ADDRESS__,
    __SANITIZE_THREAD__, __has_feature) and their fiber APIs are wired
    into every switch.
    Compiler flags: -pthread, and -fstack-clash-protection for every file
    whose code runs in goroutines (pkg-config --cflags gort gives both);
    -fno-omit-frame-pointer for full backtraces in dumps (gort_dump; not
    needed on Windows, where the unwind tables are walked).
    Without -fstack-clash-protection a function with a local array
    larger than a page can step over the guard page into the next
    goroutine's stack, silently (>>stack says why, and what gort still
    catches).
    Shadow stacks: gort's switch does not maintain a hardware shadow stack
    (x86-64 CET, aarch64 GCS). Where the kernel and C library turn one on
    for a program built with -fcf-protection=full or =return (Ubuntu's
    default), gort_run/gort_start return -ENOTSUP with a line saying so;
    build with -fcf-protection=branch, or run with
    GLIBC_TUNABLES=glibc.cpu.x86_shstk=off. Branch tracking (IBT) is fine.

    Environment variables (read by gort_run/gort_start when the matching
    gort_opts field is 0). A value that cannot be used is said once on
    stderr (the variable, the value, an accepted form) and ignored:
      GORT_MAXPROCS=n       Ps (threads running goroutines at once).
                            Default: CPUs in the process's affinity mask.
      GORT_STACK_SIZE=n     per-goroutine stack reserve in bytes (k/m/g suffix
                            allowed). Default 128k (256k under ASan and
                            on Windows).
                            Rounded up to pages; one page of it is the
                            guard.
      GORT_DEBUG=migrate    every resumed goroutine is moved to a different
                            thread where there is more than one, so code that
                            caches a thread-local (or errno's address) across
                            a blocking call fails in tests, not in production.
      GORT_DEBUG=guard=mprotect|canary   force a guard mode (tests).
      GORT_DEBUG=handoff    hand every running goroutine's P off at every
                            sysmon look (tests: the hand-off's races show).
      GORT_DEBUG=compact    compact every goroutine's stack as soon as it
                            parks (tests: compaction's races show, and
                            code that hands pointers into a parked
                            goroutine's stack to system calls). Not
                            under TSan or Valgrind (>>compact says why).
                            Several GORT_DEBUG words: separate them with
                            commas (GORT_DEBUG=migrate,guard=canary).
      GORT_NOSIGQUIT=1      do not install the SIGQUIT goroutine dump.
      GORT_DUMP=json        SIGQUIT's dump as JSON (gort_dump_json).
      GORT_TRACE=file       record an execution trace from the start and
                            write it to file when the runtime stops (or the
                            program calls exit()); see "Execution trace".
      GORT_TRACE=ring:N[:file]  the flight recorder: keep each thread's last
                            N events (1 to 16777216) and write them on
                            SIGQUIT, on a deadlock, or at gort_trace_stop()
                            (file: gort-trace.PID.json in the working
                            directory unless given).
      GORT_HOG_MS=n         report a goroutine that runs n ms without reaching
                            a scheduling point (default 10; 0 turns it off).
      GORT_HANDOFF_MS=n     a goroutine computing n ms outside gort has its P
                            handed to another thread (default 10; 0 turns
                            the hand-off off, and with it the SIGURG that
                            gort sends; see "What blocks what").
      GORT_COMPACT_MS=n     a goroutine parked n ms has its stack compacted:
                            its live bytes copied aside, its pages given
                            back (unset or 0: off; 100 is a good value).
                            A system call that another goroutine or
                            thread makes with a pointer into a compacted
                            stack fails with EFAULT (gort's own I/O calls
                            restore the stack and retry): >>compact.

>>api API REFERENCE (every call returns a negative errno on failure)
  Runtime
    gort_run(fn, arg)            start, run fn as the main goroutine, return when
                                 it returns: 0, -errno, or -EDEADLK (with a dump);
                                 -EAGAIN / -ENOMEM when no thread can be made
    gort_run_opts(opts, fn, arg) the same with options (gort_opts, zero = defaults)
    gort_start(opts)             background mode beside the program's threads
    gort_stop()                  stop workers, free the runtime (drops goroutines)
    gort_running()               1 while a runtime runs, else 0
  Goroutines
    gort_go(fn, arg)             0, -EINVAL (fn NULL), -ENOMEM (no stack, after
                                 taking back the ones other Ps cache), -EAGAIN (no
                                 thread to run it), -ESRCH (no runtime: start
                                 one with gort_run/gort_start)
    gort_yield()                 let others run (Go's Gosched)
    gort_exit()                  end the calling goroutine (Go's Goexit)
    gort_maxprocs()              number of Ps (0 when no runtime)
    gort_goroutines()            live goroutines
    gort_in_goroutine()          1 when called from a goroutine
  Channels
    gort_chan_make(esize, cap)   NULL on failure (see gort_chan_make_err)
    gort_chan_make_err(esize, cap, &err)  as above, stores -EINVAL/-ENOMEM
    gort_chan_free(c)            -EBUSY (and nothing freed) while it has waiters
    gort_chan_send(c, &v)        0; -EPIPE if closed (nothing sent)
    gort_chan_recv(c, &v)        1 a value; 0 closed and drained (v zeroed)
    gort_chan_try_send/try_recv  as above, or -EAGAIN instead of blocking
    gort_chan_close(c)           0; -EPIPE if already closed; -EINVAL if NULL
    gort_chan_len, gort_chan_cap values buffered now; capacity
    gort_tx/gort_rx, gort_tx_send, gort_rx_recv, gort_tx_close: direction
                                 handles; misuse does not compile
    GORT_CHAN_TYPED(name, T);    defines type `name` and name_make, name_send,
                                 name_recv, name_try_send, name_try_recv,
                                 name_close, name_free for elements of type T
                                 (at file scope, with the semicolon)
  Select
    gort_select(cases, n, timeout_ns)   index, -EAGAIN, -ETIMEDOUT, -EINVAL
  Time
    gort_now()                   monotonic ns
    gort_sleep(ns)               parks the goroutine (a plain thread sleeps)
    gort_after(ns)               channel of int64_t that receives gort_now()
                                 once, ns from now; gort_chan_free it when
                                 done with it, received or not: that frees
                                 its timer too (a pending one is disarmed)
  Timers, tickers, delayed calls (one object type, gort_timer; NULL from a
  constructor means no memory, no runtime, or bad input, with a line)
    gort_timer_make(ns)          a timer: its channel (int64_t, gort_now() at
                                 the fire) gets one value ns from now
    gort_ticker_make(period)     a ticker: a value every period; a receiver
                                 that is behind finds one, the rest are
                                 dropped (period <= 0: NULL)
    gort_after_func(ns, fn, arg) fn(arg) in a new goroutine ns from now
                                 (if no goroutine can be made then, it is
                                 tried again every millisecond); no channel
    gort_go_after(ns, fn, arg)   the same, fire and forget: nothing to stop
                                 or free; 0, -EINVAL, -ENOMEM, -ESRCH
    gort_timer_chan(t)           its channel (NULL for a delayed call); it
                                 has a buffer of one and belongs to t
    gort_timer_stop(t)           1 if that stopped a fire that was due or
                                 took away a value nobody had received, else
                                 0; after it returns, no value from before
                                 is ever received (Go 1.23's semantics)
    gort_timer_reset(t, ns)      stop (same result), then fire ns from now
                                 (a ticker: its period from now)
    gort_ticker_reset(t, period) stop, then tick every period from now
    gort_timer_free(t)           stop and free t and its channel (-EBUSY,
                                 nothing done, while someone is blocked on
                                 the channel); from a fire in flight too.
                                 A timer still armed when gort_run returns
                                 can be stopped and freed after it
  Contexts (Go's context; a gort_ctx * of NULL is the background context:
  never done, no deadline, no values)
    gort_ctx_with_cancel(parent)            NULL on no memory
    gort_ctx_with_deadline(parent, when)    when on gort_now()'s clock; the
                                            earlier of it and the parent's
    gort_ctx_with_timeout(parent, ns)       the deadline gort_now() + ns
    gort_ctx_with_value(parent, key, val)   key: any unique address
    gort_ctx_cancel(c)           cancel c and everything below it (once;
                                 -ECANCELED); -EINVAL for a value context.
                                 Any thread or goroutine, not a signal
                                 handler: there, write to a pipe that a
                                 goroutine reads with gort_read_ctx and
                                 cancels (examples/pipeline.c does)
    gort_ctx_free(c)             cancel and release the caller's reference
                                 (Go's deferred cancel()); call it once per
                                 with_* call, after the goroutines that use
                                 c have returned (cancel, wait, free), or
                                 give each its own reference to release
    gort_ctx_retain/release(c)   one more reference / drop one; a context is
                                 freed when its last reference is gone and
                                 no child still holds it
    gort_ctx_done(c)             channel closed when c ends (NULL, never
                                 ready, for the background): a select case
    gort_ctx_err(c)              0, -ECANCELED or -ETIMEDOUT
    gort_ctx_deadline(c)         deadline, INT64_MAX if none
    gort_ctx_value(c, key)       nearest value for key up the chain, or NULL
    gort_chan_send_ctx(ch, &v, c), gort_chan_recv_ctx(ch, &v, c),
    gort_select_ctx(cases, n, c), gort_sleep_ctx(ns, c),
    gort_read_ctx/write_ctx(fd, buf, n, c), gort_accept_ctx(fd, a, l, c),
    gort_connect_ctx(fd, a, l, c), gort_wait_fd_ctx(fd, ev, c):
                                 the call, or gort_ctx_err(c) once c ends
                                 first (a context that has ended fails them
                                 at once); a send that fails so sends nothing
  Semaphore (Go's x/sync/semaphore: weighted, FIFO)
    gort_sem s = GORT_SEM_INIT(n), or gort_sem_init(&s, n)
    gort_sem_acquire(&s, n, c)   0, or gort_ctx_err(c) (nothing held);
                                 -EINVAL if n exceeds the size (Go's would
                                 wait for c to end)
    gort_sem_try_acquire(&s, n)  1 acquired, 0 not (also when others wait)
    gort_sem_release(&s, n)      0; -EINVAL if more than held
  Groups (Go's x/sync/errgroup)
    gort_group_make(parent)      a group with its own context below parent
    gort_group_ctx(g)            that context: cancelled by the first failure
                                 and by gort_group_wait
    gort_group_limit(g, n)       at most n running at once (n < 0: no
                                 limit); -EBUSY while any runs
    gort_group_go(g, fn, arg)    run int fn(arg) in a goroutine (waits for
                                 room under the limit); 0, -ENOMEM, -EAGAIN
    gort_group_try_go(g, fn, arg)  -EAGAIN at once if the limit is reached
    gort_group_wait(g)           wait for all; the first non-zero result
    gort_group_free(g)           after wait; -EBUSY while any runs
  Sync (all statically initialisable with the matching *_INIT)
    gort_wg_add/done/wait        WaitGroup
    gort_mutex_lock/trylock/unlock   mutex; a waiter that waited > 1 ms gets
                                 the lock handed to it (no starvation)
    gort_rwmutex_rlock/runlock/lock/unlock   writer-preferring RW lock
    gort_cond_wait(cv, m)/signal/broadcast   condition variable on gort_mutex
    gort_once_do(o, fn)
    (these cannot return errors: a NULL object or an unlock of what is not
    locked prints one line naming the call, then aborts)
  I/O and blocking calls
    gort_read/write(fd, buf, n)  bytes or -errno (a write may be short);
    gort_accept, gort_connect    new fd / 0, or -errno;
    gort_wait_fd(fd, ev, ns)     the ready GORT_IN/GORT_OUT events, or -ETIMEDOUT;
                                 any fd, whatever happened to its number before
                                 (closed with close() and reused, O_NONBLOCK
                                 cleared by someone else); from goroutines
                                 also -ENOMEM (or epoll's errno) when the fd
                                 cannot be registered, and -EBADF for fds from
                                 1048576 up (gort's fd table size)
    gort_close(fd)               wakes goroutines parked on fd (-EBADF), closes;
                                 optional (plain close() is fine when nobody
                                 waits on the fd)
    gort_block_begin/end         around a call that may block its thread: a
                                 hint (the hand-off finds it anyway, 50 us
                                 to 1 ms later); in pairs, with no gort call
                                 that parks between (else: a line naming
                                 them, then abort)
  Diagnostics
    gort_dump(fd)                every goroutine (and every plain thread
                                 blocked in gort): its state, what it waits
                                 on (the channel, mutex, waitgroup, rwmutex
                                 or cond by address; a select's first four
                                 channel cases, "select on recv 0x.., send
                                 0x.. and 2 more"; the fd; the deadline)
                                 and for how long, its start function, and
                                 a backtrace of where it is, e.g.
                                   goroutine 7 [chan receive on 0x7f3a10e60, 3 ms]: worker
                                       read_job+0x4a  /srv/app+0x1b2a
                                       worker+0x1f  /srv/app+0x1c40
                                 Each frame: the function (static ones too,
                                 from the object's ELF symbol table: no
                                 -rdynamic needed) and the object and
                                 offset, which `addr2line -f -i -e /srv/app
                                 0x1b2a` turns into a file and line. gort's
                                 own frames are left out. The same dump is
                                 printed on SIGQUIT and with a deadlock; a
                                 stack overflow's report ends with the
                                 goroutine's trace from the faulting
                                 instruction (whose function is named even
                                 without frame pointers).
                                 Traces follow frame pointers: build with
                                 -fno-omit-frame-pointer for full ones
                                 (without it, at -O1 and above on x86-64, a
                                 trace stops early or shows only some
                                 frames; it never reads outside the stack).
                                 On Windows they follow the unwind tables
                                 every x64 function has: whole either way.
                                 A goroutine running on another thread has
                                 no trace (its registers are in use); a
                                 tail call leaves no frame (a function whose
                                 last act is gort_chan_recv shows as its
                                 caller).
    gort_dump_json(fd)           the same as JSON: {"goroutines":N,
                                 "procs":P,"entries":[...]}, an entry per
                                 line: {"kind":"goroutine"|"thread","id",
                                 "state","wait_ms","fd" (io waits),"object"
                                 (waited on),"cases" and "channels":[{"op":
                                 "recv"|"send","chan"}] (a select's, the
                                 first four),"deadline_in_ms",
                                 "not_yielding","start","frames":[{"fn",
                                 "off","object","object_off","pc"}]}
                                 ("fn"/"off" only where a symbol names the
                                 frame). $GORT_DUMP=json makes SIGQUIT's dump
                                 this form.
    gort_strerror(err)           message for a negative errno gort returned
    gort_trace_start(path)       record an execution trace (see below) of
                                 the running runtime into path (created or
                                 truncated now): 0, -ESRCH no runtime,
                                 -EBUSY a trace is on, -EINVAL NULL path,
                                 the open's -errno
    gort_trace_ring(path, n)     the flight recorder: keep each thread's
                                 last n events, written to path on SIGQUIT,
                                 a deadlock or gort_trace_stop; -EINVAL
                                 unless 1 <= n <= 16777216, else as above
    gort_trace_stop()            stop and write the trace: 0, -EINVAL none
                                 on (never started, or already written when
                                 the runtime stopped), -ENOMEM, the write's
                                 -errno. A goroutine that calls it is in a
                                 blocking call while it writes (as
                                 gort_block_begin): its P goes on.
  Execution trace
    The file is the Trace Event Format (JSON) that Perfetto
    (ui.perfetto.dev, or its trace_processor offline) and Chrome's
    chrome://tracing open. Process "gort threads (M)" has a track per M
    and one for sysmon; process "gort processors (P)" a track per P.
      - a slice per run of a goroutine, named by its start function, on
        its M's track and its P's; args: g (id), p, end (why it stopped:
        the park's wait, such as "chan receive" or "mutex", and "object"
        the channel or lock; "yield", "exit", "block_begin", "system call
        (gort I/O)", "hand-off (computing outside gort)", "still running
        when the trace ended");
      - "NAME (system call)" slices on the M's track for the time a
        goroutine spends between gort_block_begin and gort_block_end (or
        in a gort I/O call's system call): its P may run others meanwhile;
      - flow arrows ("wake") from the slice that ran gort_go or readied a
        goroutine (a send, a close, an unlock...) to the slice where that
        goroutine next runs, with "go" and "ready" instants at the start;
        wake-ups by the scheduler come out of its own slices on the M:
        "timers" (a sleep, a deadline, a ticker firing), "netpoll" and
        "poller wait" (an fd became ready; on sysmon's track when sysmon
        polled);
      - "spinning" slices of Ms looking for work, and "steal" instants
        (args: the goroutine and the P it came from);
      - on sysmon's track: "retake P (system call)", "hand-off signal",
        "slice used up" (the P's next scheduling point serves the queues)
        and "hog".
    Not recorded: what plain threads do (a goroutine one readies has no
    flow arrow). A goroutine already running when the trace starts gets
    a slice from the trace's start at its first recorded act (a spawn, a
    ready, a system call, a switch); one still running when the trace
    stops without having acted has none.
    Cost: off, a load and a predicted branch at each hook (the switch,
    spawn, ready, steal, system calls); make bench's rows are unchanged.
    On, an event costs a clock read and two ordered stores, about 40 ns
    (bench row yield_traced: a yield between two goroutines, one event
    each, 67 ns against 26 untraced; Go 1.19's runtime/trace on the same
    loop, 555 ns against 68), and 64 bytes. A whole trace keeps
    every event in memory until it is written, and getting that memory
    is most of its cost: a million spawns (two events each) take 450-560
    ns each instead of 100, hold 160 MB and write a 550 MB file in about
    3 s; a ring of N costs N x 64 bytes per thread, once. A thread that
    cannot get memory drops events and counts them ("dropped" in the
    file's otherData).
  Debugging with gdb
    The implementation puts gort's gdb commands into the program (a
    .debug_gdb_scripts section; define GORT_NO_GDB_SCRIPT to leave them
    out). gdb runs them once the program is trusted, by one line in
    ~/.gdbinit:  add-auto-load-safe-path /path/to/program
    info goroutines              id, state, wait, start function, and the
                                 function and file:line where each parked
                                 goroutine is
    goroutine N bt [full]        goroutine N's backtrace through gdb's own
                                 unwinder from its saved registers (DWARF:
                                 whole at any -O, no frame pointers needed),
                                 with files, lines and, with full, locals;
                                 it starts at gort's innermost frame. A
                                 running goroutine's frames are its
                                 thread's (info threads, thread N, bt).
    Both work on a live process and on a core file (gdb 12 or later, with
    Python).

>>design DESIGN
  Glossary (Go's): a G is a goroutine (a stack segment and its saved
  registers); an M is an OS thread running Gs; a P is the right to run Gs,
  with a local run queue, a cache of dead Gs (stacks) and a timer heap.
  There are maxprocs Ps; an M needs one to run Gs.

  Life of a goroutine. gort_go takes a segment from the P's cache (no
  system call), builds a first frame whose return address is the asm
  trampoline, and puts the G in the P's runnext slot (from a plain
  thread: the global queue). The new G that finds runnext taken sends
  the one there, if it has not started either, to the front of the P's
  queue, not the back: fresh goroutines run newest first, so a tree of
  goroutines that spawn a few each runs depth first, with a few hundred
  alive at once and their stacks warm (skynet's 1.1M in make bench;
  tests/test_sched.c); what that may cost the Gs already queued is
  bounded, and argued in >>runq. A goroutine's GORT__SPAWN_BURST-th
  (128th) gort_go in one run yields after the spawn: a spawning loop lets
  its children run and hand their segments on. An M runs it by switching
  to it. At a
  blocking call the G parks: its state becomes
  WAITING, and gort switches directly to the next G of the P (or to the
  M's scheduler stack, g0, when there is none), and only then, from the
  new context, runs the park's "after" function, which publishes the G to
  its waker (unlocks the channel, arms the timer). So no waker can resume
  a G whose registers are still being saved. A waker makes it RUNNABLE and,
  if it runs on an M holding a P (a goroutine, or the scheduler running a
  timer), puts it in that P's runnext (locality: the partner runs next, on
  the same core). The exceptions go to the global queue: a waker that is a
  plain thread or has no P, every wake-up under GORT_DEBUG=migrate, and
  the waiters past the first 64 of a close or broadcast (in chains of
  256: one lock hold and one M woken per chain, gort__wake_list);
  the netpoller queues what it readies at the tail of the polling M's
  P's queue (the global queue when that M has no P, or when sysmon
  polls), and a goroutine back from a blocking call whose P was taken
  queues itself globally. When fn returns the G goes DEAD, the next
  context returns its segment to the P's cache (the pages more than 32 KiB
  below its top first go back to the OS if its frames went that deep, as
  seen at its switches), and it is FREE.

  What blocks what. A goroutine blocking in gort (channels, select, sync,
  sleep, gort I/O) parks only itself. A plain thread making the same calls
  blocks itself on a futex (its stand-in G has the same waiter records, so
  goroutines and threads meet on one channel; gort_dump and the deadlock
  report list the threads blocked in gort). A goroutine that blocks its
  thread outside gort (a read of a file or pipe, getaddrinfo, sleep, a
  mutex of another library) or computes without calling gort holds up
  nobody either: sysmon hands its P to another M, which runs the other
  goroutines, and the goroutine runs on, on its own thread, without a P.
  At its next call into gort it takes a P back (an idle one, else it
  queues itself and its thread sleeps); a buffered channel's send or
  receive that completes at once touches no P and takes none. Nothing
  is switched in the middle of C code: only the P moves, and only while
  the goroutine's thread is outside gort's code. How (the hand-off, >>goroutine):
    - sysmon looks at a running P at least every 500 us. When its
      goroutine has not reached a scheduling point since the last look,
      and other work waits for the P (its run queue, a due timer, the
      global queue with no idle P), sysmon sends SIGURG to the P's thread
      once the thread has stood still 50 us asleep in the kernel (its
      /proc state), or once it has computed GORT_HANDOFF_MS (10 ms);
    - the handler, on that thread, does what gort_block_begin does (the
      syscall state) if the thread was interrupted outside gort's code
      (g->in_gort, counted by every public call); sysmon then takes the P
      20 us later as for gort_block_begin, below. So a blocked thread's P
      moves about 1 ms into the call (sysmon's look, plus a thread's
      creation when no M is idle), a computing one's about 10 ms in.
  What the program can see: one SIGURG per stall, on the stalled thread
  only. SA_RESTART restarts read, write, wait and the like; calls the
  kernel never restarts return EINTR as for any signal (nanosleep, usleep,
  poll, epoll_wait, select, sem_timedwait, and sleep() returns early), so
  such a call in a goroutine needs the EINTR loop it needs in any threaded
  program. The program's own SIGURG handler keeps working: gort's signals
  carry a value (sigqueue) and every other SIGURG goes to the program's
  handler (installed before or after gort's: gort checks at every start).
  GORT_HANDOFF_MS=0 or gort_opts.handoff_ns < 0 turns it off; then such a
  goroutine holds its P until it returns to gort (as without the hand-off:
  work queued on that P goes to an idle P, if any, after 500 us).
  gort_block_begin/end around a call skip the wait: the P moves 20 us
  after a sysmon look sees the call (GORT__RETAKE_NS; looks come every
  20 us while anything happens), so with sleep and wake-up costs some
  0.1 ms into the call (measured 93-135 us), and about 3 ms when no M is
  idle and a thread must be created (measured 2.9 ms). gort's own I/O
  system calls run in the same state (>>io), so one that blocks after all
  holds up nobody else; as those are almost always short, sysmon does not
  hurry for them (it looks every 20 to 500 us while they come and go), so
  such a call loses its P within about 1 ms. sysmon names a goroutine that
  ran GORT_HOG_MS in its own code (time inside gort does not count), and
  says that the others were moved.

  Time slices. A G readied into runnext (a channel partner) runs in the
  time slice of the G that readied it, as in Go, so a pair handing off
  runs on one core. Once a slice has run 10 ms (or as long as the slice
  before it, if that one ran over: a turn of C code cannot be cut short)
  with other work waiting, sysmon marks the P and its next scheduling
  point serves the global and local queues before runnext. Every 61st
  slice the global queue goes first, and at every scheduling point while
  the P's timers are behind (more were due than the timer runner's batch
  of 64 fires at a look): timers readying goroutines faster than they run
  spill most of them there, and a G queued there must not wait behind all
  those readied after it.

  Invariants.
    - A G is on at most one run queue, and only in state RUNNABLE.
    - Each state change has exactly one party entitled to make it;
      gort__setstatus checks it against the table of allowed changes
      (gort__g_moves, >>structs) and checks the state being left. A P's
      state changes likewise only through gort__p_setstate / gort__p_cas.
    - An unbuffered channel's send and receive queues are never both
      non-empty, except while one select that both sends and receives on
      it waits in both (as in Go; see >>chan). A buffered channel's
      receivers park only on an empty ring and its senders only on a full
      one, each after a look made under the lock with its side's flag
      up; no value stays in the ring while a receiver sleeps (>>chan:
      a send that sees the flag settles the channel under the lock).
    - A waiter record lives on its goroutine's stack (a select over more
      than 8 cases keeps its waiters in memory it mallocs and frees
      itself) and is unlinked (by its waker, or by itself after a timeout
      or a lost select) before that goroutine returns from the call that
      queued it. A goroutine that gort_stop drops has its waiters
      unlinked by the stop.
    - A parked select holds a reference on each of its channels until its
      last pass is done, so gort_chan_free right after the wake-up that
      emptied the channel's queues is safe.
    - A select or timed wait is completed by exactly one waker: the one
      whose CAS on the G's claim ticket succeeds.
    - A P that its own M puts idle has an empty run queue (the M looked
      last, and only a P's owner queues on it). A P taken from a blocked
      M goes to another M if work is queued on it, and goes idle with its
      queue only if no thread can be made; spinning Ms steal from idle
      Ps too. A G becoming runnable while a P is idle and no M spins wakes
      exactly one M (no thundering herd).
    - An M switches to a G only while it holds a P in state RUNNING (a G
      in a blocking call goes on running on its M while sysmon takes the
      P), and only to a G whose context is saved (never one that runs).

  Memory ordering. Unbuffered channel, sync and waiter state change
  under the object's lock; a waker writes the result into the waiter and
  readies the G after unlocking; run queue publication is a release store
  (runqtail, the CAS of a front push on runqhead, the runnext exchange)
  paired with the consumer's acquire (with maxprocs 1 no thief can race
  the P's owner, so the last two are plain stores: gort__runnext_swap;
  that took a 1-P yield from 25 to 19 ns and a round trip from 137 to
  108 ns on an AMD EPYC guest, where each locked instruction after a
  switch waits for the switch's stores to drain), and a plain
  thread's futex word is stored with release and read with acquire; so
  everything a sender wrote before gort_chan_send is visible after the
  matching receive. A buffered channel's values go through its ring
  without the lock: a cell's stamp is stored with release after the
  value and loaded with acquire before it is read, the same edge (>>chan).
  An unbuffered channel's non-blocking calls read "closed" and
  "full/empty" as single atomic words in an order that is linearizable
  because a channel never reopens (see >>chan). The timer/poller handshake is argued at gort__timer_add.

  Timers and contexts. gort_timer and a context's deadline are entries
  in the same per-P timer heaps as sleeps and select timeouts (4-ary, so
  a million pending timers cost their memory and a log-time insert or
  removal each, nothing per tick). A timer's stop, reset and fire all
  run under the timer's own lock, and a fire only acts if the timer's
  generation has not changed since it was armed; stop and reset empty
  the channel's buffer of one. Hence Go 1.23's guarantee: after stop or
  reset returns, nothing from before it is received. A ticker that fires
  late re-arms on its period's grid, skipping the ticks it missed. An M
  looking for work fires at most 64 due timers per heap and look, then
  runs a goroutine: more tickers than the CPUs can serve make ticks late
  and dropped, not the scheduler stuck in the heap. A
  context is a node holding a reference on its parent; a cancellable
  node is linked into its nearest cancellable ancestor's list of
  children, and a cancel walks that tree with the lists as its work
  list (no recursion), closing each node's done channel once. The _ctx
  calls are a select of the call's own case (a channel, or the fd's
  readiness) against the context's done channel, so they work the same
  from goroutines and plain threads.

  Long-parked goroutines. With GORT_COMPACT_MS=n (or
  gort_opts.compact_ns) set, a goroutine parked n ms has its stack
  compacted by sysmon: the bytes from its saved stack
  pointer to the top (a few hundred in a typical wait) are copied to the
  heap and its pages given back under a guard, so an idle goroutine costs
  its G (384 bytes, in its region's G array), that copy and its share of
  a page table: 1.1 KiB, against 4.7 KiB parked and Go's 2.7 KiB. The M
  that resumes it restores the pages before switching to it; anyone else
  who touches them first (a waker storing a received value, a thread
  writing through a pointer it was given) faults, and the fault handler
  restores them, so the access completes as if nothing had happened. The
  G and a park's timer are never on the stack, so timer heaps and
  sysmon's walks never restore one (a dump that prints a compacted
  goroutine's frames does). The waiter record a channel or sync object
  queues is on the stack (as in every park), so the waker restores the
  stack before it touches the record, which the value it hands over
  needs anyway. A restore is one UFFDIO_COPY where the kernel allows it
  (a page filled and mapped in place of the guard: about 3 us), else
  four page-table calls (tens of microseconds); a goroutine restored
  while still parked is left alone for n ms more. >>compact has the
  states and the memory-ordering argument.

  Where to read more: >>sched (spinning, sleeping, the switch), >>stack
  (segments, guards, shrinking), >>compact, >>chan, >>select, >>netpoll,
  >>sysmon, >>toolbox.

  The operating system is behind two sections per system. >>os-linux is
  everything gort asks of the kernel beyond signals and read/write:
  futex wait/wake, stack reservations and guards, threads (start, join,
  the at-exit hook, stack bounds), sleep and yield, the CPU count, a
  thread's CPU time, the fault handler, accept4. >>poll-epoll is the
  poller: arm an fd with 64 bits of data, disarm it, wait until a
  deadline, break a wait. >>os-windows and >>poll-windows are the same
  calls for Windows x64 (WaitOnAddress, VirtualAlloc, _beginthreadex, a
  vectored exception handler; a WSAPoll poller). The
  portable sections call only those, except for what is signals on
  Linux, kept beside its Windows form under #if GORT__OS_LINUX: the
  hand-off's SIGURG (on Windows sysmon suspends the thread instead),
  the SIGQUIT dump (Ctrl+Break), an M's signal mask and alternate stack
  (on Windows: its stack guarantee, SetThreadStackGuarantee, which the
  overflow report runs in), the fault handler's entry
  (gort__segv_handler), and >>io's system calls, whose Windows form
  takes SOCKETs through the poller and blocks in gort_block_begin/end on
  C runtime descriptors.
  ASan, TSan and Valgrind are told what they must know through >>san; a
  port (kqueue) is a new pair of sections and the Mach-O spelling of the
  assembly.

  I/O readiness is a hint, as with poll(2): an fd case of gort_select (or
  gort_wait_fd) can report ready and the next read still find nothing, if
  another reader got there first; gort_read and friends retry on their own.
  gort_write on a socket returns -EPIPE instead of raising SIGPIPE; on a
  pipe whose reader is gone SIGPIPE is raised as by write(2) (ignore it if
  the program writes to pipes).

  gort owns no fd. Ordinary C code closes with close(2), gets the number
  back for another file, shares a file description with code that clears
  O_NONBLOCK; gort's calls trust nothing they believed about a number
  (>>io): sockets are read and written with MSG_DONTWAIT, other files get
  their O_NONBLOCK checked before each call, and a registration with epoll
  is re-armed (and renewed if it died with an old file) before a goroutine
  parks. Close with gort_close to wake goroutines parked on an fd; a plain
  close() of an fd that nobody waits on is fine.

  Limits, known and deliberate. Linux only (no kqueue yet). No
  preemption. gort_exit does not run C++ destructors of the frames it
  abandons. A single frame larger than the guard page can jump it: build
  with -fstack-clash-protection (see CONFIGURATION).
*/
#ifndef GORT_H
#define GORT_H

#define GORT_VERSION_STRING "0.1.0"

/* The implementation needs Linux and GNU interfaces (futex, MAP_NORESERVE,
   dladdr, accept4); they are only visible if _GNU_SOURCE is set before the
   first system header, so include gort.h first in the implementation file.
   A C library header that came first has already decided what to show:
   glibc and musl both guard <features.h>, which their headers include
   first, with _FEATURES_H, so seeing it here means defining _GNU_SOURCE
   now is too late (the implementation says so with an #error). */
#if defined(GORT_IMPLEMENTATION) && !defined(_GNU_SOURCE)
#if defined(_FEATURES_H)
#define GORT__GNU_SOURCE_LATE 1
#endif
#define _GNU_SOURCE 1
#endif

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#if defined(_WIN32)
#include <winsock2.h>   /* struct sockaddr; before <windows.h>, which would pull in winsock 1 */
#include <ws2tcpip.h>   /* socklen_t */
#else
#include <sys/socket.h>
#endif
#include <errno.h>   /* every call returns a negative errno: users compare with -ETIMEDOUT */

/* GORT_API marks the public functions: default visibility, so a shared
   library built with -fvisibility=hidden that contains the implementation
   exports them. Define it before including gort.h to change that, e.g.
   "#define GORT_API static" to keep everything in one translation unit. */
#ifndef GORT_API
#if defined(_WIN32)
#define GORT_API   /* PE has no ELF visibility: export from a DLL with a .def file */
#else
#define GORT_API __attribute__((visibility("default")))
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- >>api */

typedef struct gort_opts {
    int     maxprocs;    /* Ps running goroutines at once; 0: $GORT_MAXPROCS, else CPUs */
    size_t  stack_size;  /* per-goroutine stack reserve; 0: $GORT_STACK_SIZE, else 128 KiB (256 under ASan, on Windows) */
    int     debug;       /* GORT_DEBUG_* bits, or'd with $GORT_DEBUG */
    int     no_sigquit;  /* 1: leave SIGQUIT alone (no dump on SIGQUIT) */
    int64_t hog_ns;      /* report goroutines running this long without yielding;
                            0: $GORT_HOG_MS or 10 ms; negative: off */
    int64_t handoff_ns;  /* a goroutine computing this long outside gort has its
                            P handed to another thread (one blocked in the
                            kernel: at once); 0: $GORT_HANDOFF_MS or 10 ms;
                            negative: never (no SIGURG is sent) */
    int64_t compact_ns;  /* a goroutine parked this long has its stack
                            compacted (>>compact); 0: $GORT_COMPACT_MS,
                            else never; negative: never */
} gort_opts;

enum {
    GORT_DEBUG_MIGRATE      = 1,  /* move every resumed goroutine to another M */
    GORT_DEBUG_GUARD_MPROT  = 2,  /* force mprotect guard pages */
    GORT_DEBUG_GUARD_CANARY = 4,  /* force canary words instead of guard pages */
    GORT_DEBUG_HANDOFF      = 8,  /* hand a running goroutine's P off at every
                                     sysmon look (tests the hand-off's races) */
    GORT_DEBUG_COMPACT      = 16  /* compact every parked goroutine's stack at
                                     once (tests compaction's races) */
};

GORT_API int  gort_run(void (*main_fn)(void *arg), void *arg);
GORT_API int  gort_run_opts(const gort_opts *opts, void (*main_fn)(void *arg), void *arg);
GORT_API int  gort_start(const gort_opts *opts);
GORT_API int  gort_stop(void);
GORT_API int  gort_running(void);

GORT_API int  gort_go(void (*fn)(void *arg), void *arg);
GORT_API void gort_yield(void);
GORT_API void gort_exit(void);
GORT_API int  gort_maxprocs(void);
GORT_API long gort_goroutines(void);
GORT_API int  gort_in_goroutine(void);

/* Channels */
typedef struct gort_chan gort_chan;

GORT_API gort_chan *gort_chan_make(size_t elem_size, size_t cap);
GORT_API gort_chan *gort_chan_make_err(size_t elem_size, size_t cap, int *err);
GORT_API int        gort_chan_free(gort_chan *c);
GORT_API int        gort_chan_send(gort_chan *c, const void *elem);
GORT_API int        gort_chan_recv(gort_chan *c, void *elem);
GORT_API int        gort_chan_try_send(gort_chan *c, const void *elem);
GORT_API int        gort_chan_try_recv(gort_chan *c, void *elem);
GORT_API int        gort_chan_close(gort_chan *c);
GORT_API size_t     gort_chan_len(gort_chan *c);
GORT_API size_t     gort_chan_cap(gort_chan *c);

typedef struct { gort_chan *c; } gort_chan_tx;
typedef struct { gort_chan *c; } gort_chan_rx;
static inline __attribute__((unused)) gort_chan_tx gort_tx(gort_chan *c) { gort_chan_tx t; t.c = c; return t; }
static inline __attribute__((unused)) gort_chan_rx gort_rx(gort_chan *c) { gort_chan_rx r; r.c = c; return r; }
static inline __attribute__((unused)) int gort_tx_send(gort_chan_tx tx, const void *elem) { return gort_chan_send(tx.c, elem); }
static inline __attribute__((unused)) int gort_tx_try_send(gort_chan_tx tx, const void *elem) { return gort_chan_try_send(tx.c, elem); }
static inline __attribute__((unused)) int gort_rx_recv(gort_chan_rx rx, void *elem) { return gort_chan_recv(rx.c, elem); }
static inline __attribute__((unused)) int gort_rx_try_recv(gort_chan_rx rx, void *elem) { return gort_chan_try_recv(rx.c, elem); }
static inline __attribute__((unused)) int gort_tx_close(gort_chan_tx tx) { return gort_chan_close(tx.c); }

/* A channel of one element type, checked by the compiler (at file scope,
   with its semicolon; its parameters are gort__ names, so no T or user
   macro can clash with them):
       GORT_CHAN_TYPED(intchan, int);
       intchan c = intchan_make(16);  intchan_send(c, 42);  int v; intchan_recv(c, &v); */
#define GORT__TYPED_FN static inline __attribute__((unused))
#define GORT_CHAN_TYPED(name, T)                                                            \
    typedef struct { gort_chan *c; } name;                                                  \
    GORT__TYPED_FN name name##_make(size_t gort__cap) { name gort__ch; gort__ch.c = gort_chan_make(sizeof(T), gort__cap); return gort__ch; } \
    GORT__TYPED_FN int name##_send(name gort__ch, T gort__v) { return gort_chan_send(gort__ch.c, &gort__v); }          \
    GORT__TYPED_FN int name##_try_send(name gort__ch, T gort__v) { return gort_chan_try_send(gort__ch.c, &gort__v); }  \
    GORT__TYPED_FN int name##_recv(name gort__ch, T *gort__out) { return gort_chan_recv(gort__ch.c, gort__out); }      \
    GORT__TYPED_FN int name##_try_recv(name gort__ch, T *gort__out) { return gort_chan_try_recv(gort__ch.c, gort__out); } \
    GORT__TYPED_FN int name##_close(name gort__ch) { return gort_chan_close(gort__ch.c); }                 \
    GORT__TYPED_FN int name##_free(name gort__ch) { return gort_chan_free(gort__ch.c); }                   \
    typedef int name##_gort_typed_end_

/* Select */
enum { GORT_SEND = 1, GORT_RECV = 2,
       GORT_WAIT_IN = 3,    /* case is ready when fd is readable (chan unused) */
       GORT_WAIT_OUT = 5 }; /* case is ready when fd is writable (chan unused) */
typedef struct gort_case {
    gort_chan *chan;   /* NULL: this case is never ready */
    int        op;     /* GORT_SEND, GORT_RECV, GORT_WAIT_IN or GORT_WAIT_OUT */
    void      *elem;   /* value to send, or where to store the received one */
    int        ok;     /* out: 1 a value moved / fd ready; 0 the channel was
                          closed / the fd was closed by gort_close */
    int        fd;     /* GORT_WAIT_*: the fd (negative: never ready). Last, so
                          initialisers written for the four fields above work */
} gort_case;

GORT_API int gort_select(gort_case *cases, int n, int64_t timeout_ns);

/* Time */
GORT_API int64_t    gort_now(void);
GORT_API void       gort_sleep(int64_t ns);
GORT_API gort_chan *gort_after(int64_t ns);

/* Timers, tickers and delayed calls (Go's time.Timer, time.Ticker,
   time.AfterFunc). The object is private; one type serves all three. */
typedef struct gort_timer gort_timer;
GORT_API gort_timer *gort_timer_make(int64_t ns);
GORT_API gort_timer *gort_ticker_make(int64_t period_ns);
GORT_API gort_timer *gort_after_func(int64_t ns, void (*fn)(void *arg), void *arg);
GORT_API int         gort_go_after(int64_t ns, void (*fn)(void *arg), void *arg);
GORT_API gort_chan  *gort_timer_chan(gort_timer *t);
GORT_API int         gort_timer_stop(gort_timer *t);
GORT_API int         gort_timer_reset(gort_timer *t, int64_t ns);
GORT_API int         gort_ticker_reset(gort_timer *t, int64_t period_ns);
GORT_API int         gort_timer_free(gort_timer *t);

/* Contexts: cancellation, deadlines and values that flow down a tree of
   goroutines (Go's context.Context). NULL means the background context,
   never cancelled. */
typedef struct gort_ctx gort_ctx;
GORT_API gort_ctx   *gort_ctx_background(void);
GORT_API gort_ctx   *gort_ctx_with_cancel(gort_ctx *parent);
GORT_API gort_ctx   *gort_ctx_with_deadline(gort_ctx *parent, int64_t deadline);
GORT_API gort_ctx   *gort_ctx_with_timeout(gort_ctx *parent, int64_t ns);
GORT_API gort_ctx   *gort_ctx_with_value(gort_ctx *parent, const void *key, void *value);
GORT_API int         gort_ctx_cancel(gort_ctx *ctx);
GORT_API int         gort_ctx_free(gort_ctx *ctx);
GORT_API gort_ctx   *gort_ctx_retain(gort_ctx *ctx);
GORT_API void        gort_ctx_release(gort_ctx *ctx);
GORT_API gort_chan  *gort_ctx_done(gort_ctx *ctx);
GORT_API int         gort_ctx_err(gort_ctx *ctx);
GORT_API int64_t     gort_ctx_deadline(gort_ctx *ctx);
GORT_API void       *gort_ctx_value(gort_ctx *ctx, const void *key);
/* The blocking calls with a context: each returns what its plain form
   returns, or gort_ctx_err(ctx) (-ECANCELED, -ETIMEDOUT) once ctx ends
   first. */
GORT_API int     gort_chan_send_ctx(gort_chan *c, const void *elem, gort_ctx *ctx);
GORT_API int     gort_chan_recv_ctx(gort_chan *c, void *elem, gort_ctx *ctx);
GORT_API int     gort_select_ctx(gort_case *cases, int n, gort_ctx *ctx);
GORT_API int     gort_sleep_ctx(int64_t ns, gort_ctx *ctx);
GORT_API ssize_t gort_read_ctx(int fd, void *buf, size_t n, gort_ctx *ctx);
GORT_API ssize_t gort_write_ctx(int fd, const void *buf, size_t n, gort_ctx *ctx);
GORT_API int     gort_accept_ctx(int fd, struct sockaddr *addr, socklen_t *len, gort_ctx *ctx);
GORT_API int     gort_connect_ctx(int fd, const struct sockaddr *addr, socklen_t len, gort_ctx *ctx);
GORT_API int     gort_wait_fd_ctx(int fd, int events, gort_ctx *ctx);

/* Sync. The fields are private; the structs are public so that these can
   live in static storage and in the user's own structs. */
typedef struct gort__wq { void *head, *tail; } gort__wq;   /* waiter list */

typedef struct gort_wg {
    uint64_t state;   /* atomic: counter in the high 32 bits, waiters in the low */
    uint32_t lock;    /* guards waitq */
    gort__wq waitq;
} gort_wg;
typedef struct gort_mutex {
    uint32_t state;   /* atomic: bit 0 locked, bit 1 waiters queued */
    uint32_t lock;    /* guards waitq */
    gort__wq waitq;
} gort_mutex;
typedef struct gort_rwmutex {
    uint32_t lock;     /* guards everything below */
    int32_t  readers;  /* active readers */
    int32_t  writer;   /* 1 while a writer holds it */
    gort__wq rwait, wwait;
} gort_rwmutex;
typedef struct gort_cond {
    uint32_t lock;
    gort__wq waitq;
} gort_cond;
typedef struct gort_once {
    uint32_t   done;  /* atomic */
    gort_mutex m;
} gort_once;

/* a null pointer that -Wzero-as-null-pointer-constant accepts in C++ */
#if defined(__cplusplus) && __cplusplus >= 201103L
#define GORT__NULLP nullptr
#else
#define GORT__NULLP 0
#endif
#define GORT__WQ_INIT     { GORT__NULLP, GORT__NULLP }
#define GORT_WG_INIT      { 0, 0, GORT__WQ_INIT }
#define GORT_MUTEX_INIT   { 0, 0, GORT__WQ_INIT }
#define GORT_RWMUTEX_INIT { 0, 0, 0, GORT__WQ_INIT, GORT__WQ_INIT }
#define GORT_COND_INIT    { 0, GORT__WQ_INIT }
#define GORT_ONCE_INIT    { 0, GORT_MUTEX_INIT }

GORT_API void gort_wg_add(gort_wg *wg, int delta);
GORT_API void gort_wg_done(gort_wg *wg);
GORT_API void gort_wg_wait(gort_wg *wg);
GORT_API void gort_mutex_lock(gort_mutex *m);
GORT_API int  gort_mutex_trylock(gort_mutex *m);
GORT_API void gort_mutex_unlock(gort_mutex *m);
GORT_API void gort_rwmutex_rlock(gort_rwmutex *rw);
GORT_API void gort_rwmutex_runlock(gort_rwmutex *rw);
GORT_API void gort_rwmutex_lock(gort_rwmutex *rw);
GORT_API void gort_rwmutex_unlock(gort_rwmutex *rw);
GORT_API void gort_cond_wait(gort_cond *cv, gort_mutex *m);
GORT_API void gort_cond_signal(gort_cond *cv);
GORT_API void gort_cond_broadcast(gort_cond *cv);
GORT_API void gort_once_do(gort_once *o, void (*fn)(void));

/* A weighted semaphore with FIFO order (Go's x/sync/semaphore). */
typedef struct gort_sem {
    uint32_t lock;    /* guards everything below */
    int64_t  size;    /* tokens in all */
    int64_t  cur;     /* tokens held */
    gort__wq waitq;   /* blocked acquirers, oldest first */
} gort_sem;
#define GORT_SEM_INIT(n) { 0, (n), 0, GORT__WQ_INIT }
GORT_API int  gort_sem_init(gort_sem *s, int64_t n);
GORT_API int  gort_sem_acquire(gort_sem *s, int64_t n, gort_ctx *ctx);
GORT_API int  gort_sem_try_acquire(gort_sem *s, int64_t n);
GORT_API int  gort_sem_release(gort_sem *s, int64_t n);

/* A group of goroutines working on one task (Go's x/sync/errgroup). */
typedef struct gort_group gort_group;
GORT_API gort_group *gort_group_make(gort_ctx *parent);
GORT_API gort_ctx   *gort_group_ctx(gort_group *g);
GORT_API int         gort_group_limit(gort_group *g, int n);
GORT_API int         gort_group_go(gort_group *g, int (*fn)(void *arg), void *arg);
GORT_API int         gort_group_try_go(gort_group *g, int (*fn)(void *arg), void *arg);
GORT_API int         gort_group_wait(gort_group *g);
GORT_API int         gort_group_free(gort_group *g);

/* I/O and blocking calls */
enum { GORT_IN = 1, GORT_OUT = 4 };
GORT_API ssize_t gort_read(int fd, void *buf, size_t n);
GORT_API ssize_t gort_write(int fd, const void *buf, size_t n);
GORT_API int     gort_accept(int fd, struct sockaddr *addr, socklen_t *len);
GORT_API int     gort_connect(int fd, const struct sockaddr *addr, socklen_t len);
GORT_API int     gort_wait_fd(int fd, int events, int64_t timeout_ns);
GORT_API int     gort_close(int fd);
/* Beyond the basic calls: flags, vectors, whole writes and deadlines. The _timeout
   calls return -ETIMEDOUT when timeout_ns passes (0: just try once). */
#if defined(_WIN32) && !defined(GORT_NO_IOVEC)
struct iovec { void *iov_base; size_t iov_len; };   /* POSIX's, for gort_readv and gort_writev */
#else
struct iovec;
#endif
GORT_API ssize_t gort_recv(int fd, void *buf, size_t n, int flags);
GORT_API ssize_t gort_send(int fd, const void *buf, size_t n, int flags);
GORT_API ssize_t gort_readv(int fd, const struct iovec *iov, int cnt);
GORT_API ssize_t gort_writev(int fd, const struct iovec *iov, int cnt);
GORT_API ssize_t gort_write_all(int fd, const void *buf, size_t n);   /* n, or -errno (part may be written) */
GORT_API ssize_t gort_read_timeout(int fd, void *buf, size_t n, int64_t timeout_ns);
GORT_API ssize_t gort_write_timeout(int fd, const void *buf, size_t n, int64_t timeout_ns);
GORT_API int     gort_accept_timeout(int fd, struct sockaddr *addr, socklen_t *len, int64_t timeout_ns);
GORT_API int     gort_connect_timeout(int fd, const struct sockaddr *addr, socklen_t len, int64_t timeout_ns);
GORT_API void    gort_block_begin(void);
GORT_API void    gort_block_end(void);

/* Diagnostics */
GORT_API void        gort_dump(int fd);
GORT_API void        gort_dump_json(int fd);
GORT_API int         gort_trace_start(const char *path);
GORT_API int         gort_trace_ring(const char *path, int events_per_thread);
GORT_API int         gort_trace_stop(void);
GORT_API const char *gort_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif /* GORT_H */

/* ================================================================ >>impl
   IMPLEMENTATION. Everything below is private: names start with gort__. */
#if defined(GORT_IMPLEMENTATION) && !defined(GORT__IMPLEMENTED)
#define GORT__IMPLEMENTED

/* ---------------------------------------------------------------- >>platform */
#if defined(__x86_64__)
#define GORT__ARCH_X64 1
#elif defined(__aarch64__)
#define GORT__ARCH_A64 1
#else
#error "gort.h: supported architectures are x86-64 (System V) and aarch64 (AAPCS64)"
#endif
#if defined(__linux__)
#define GORT__OS_LINUX 1
#elif defined(_WIN32) && defined(GORT__ARCH_X64)
#define GORT__OS_WIN 1
#else
#error "gort.h: supported systems are Linux (glibc or musl) and Windows x64; macOS (kqueue) is not written yet"
#endif
#if !defined(__GNUC__)
#error "gort.h: needs gcc or clang (inline assembly, __atomic builtins)"
#endif
/* Too late for _GNU_SOURCE (see the top of the file): a C library header
   was read before gort.h defined it, or (glibc, whose <features.h> then
   defines __USE_GNU) before the program did. musl keeps no such trace, so
   there only the first case is caught. Checked before the includes below,
   so this is the first error the compiler prints. */
#if defined(GORT__GNU_SOURCE_LATE) || (defined(__GLIBC__) && !defined(__USE_GNU))
#error "gort.h: the implementation needs _GNU_SOURCE, and a system header was included before it was set: include gort.h before any other header in the file that defines GORT_IMPLEMENTATION, or compile that file with -D_GNU_SOURCE"
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <limits.h>
#if defined(GORT__OS_LINUX)
#include <poll.h>
#include <unistd.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <sys/ioctl.h>   /* _IOWR */
#include <dlfcn.h>
#include <link.h>
#include <sys/stat.h>
#include <sys/auxv.h>

/* The futex operations gort uses, by their kernel ABI values: musl's
   compiler wrapper (musl-gcc) has no kernel headers on its include path,
   so <linux/futex.h> is not included. */
#ifndef FUTEX_WAIT
#define FUTEX_WAIT 0
#endif
#ifndef FUTEX_WAKE
#define FUTEX_WAKE 1
#endif
#ifndef FUTEX_PRIVATE_FLAG
#define FUTEX_PRIVATE_FLAG 128
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102   /* Linux 6.13 */
#endif
#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE 103
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23   /* Linux 5.14 */
#endif
#ifndef MADV_NOHUGEPAGE
#define MADV_NOHUGEPAGE 15
#endif
/* userfaultfd's ABI, the three calls stack compaction's restore uses
   (>>compact, gort__os_uffd_fill), by their kernel values: musl-gcc has
   no <linux/userfaultfd.h> */
struct gort__uffdio_api { uint64_t api, features, ioctls; };
struct gort__uffdio_register { uint64_t start, len, mode, ioctls; };
struct gort__uffdio_copy { uint64_t dst, src, len, mode; int64_t copy; };
#define GORT__UFFD_API            0xAAu
#define GORT__UFFD_USER_MODE_ONLY 1
#define GORT__UFFD_REGISTER_WP    2u
#define GORT__UFFDIO_API          _IOWR(0xAA, 0x3F, struct gort__uffdio_api)
#define GORT__UFFDIO_REGISTER     _IOWR(0xAA, 0x00, struct gort__uffdio_register)
#define GORT__UFFDIO_COPY         _IOWR(0xAA, 0x03, struct gort__uffdio_copy)
#else   /* GORT__OS_WIN */
#include <windows.h>
#include <process.h>   /* _beginthreadex */
#include <io.h>        /* _write, _read */
#ifndef O_CLOEXEC
#define O_CLOEXEC O_NOINHERIT
#endif
#endif

/* Sanitizers. Their fiber APIs are declared here rather than included so the
   header needs no sanitizer headers on the include path. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORT__ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define GORT__TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(GORT__ASAN)
#define GORT__ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(GORT__TSAN)
#define GORT__TSAN 1
#endif
#ifdef __cplusplus
extern "C" {
#endif
#ifdef GORT__ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old, size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
void __lsan_register_root_region(const void *p, size_t size);
void __lsan_unregister_root_region(const void *p, size_t size);
#define GORT__NO_ASAN __attribute__((no_sanitize_address))
#else
#define GORT__NO_ASAN
#endif
#ifdef GORT__TSAN
#define GORT__NO_TSAN __attribute__((no_sanitize("thread")))
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void  __tsan_destroy_fiber(void *fiber);
void  __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif
/* The context switch, written in assembly below. */
void gort__ctx_swap(void **save_sp, void *load_sp);
void gort__ctx_entry(void);
#ifdef __cplusplus
}
#endif
#ifndef GORT__NO_TSAN
#define GORT__NO_TSAN
#endif
#ifdef GORT_VALGRIND
#include <valgrind/memcheck.h>   /* includes valgrind.h */
#endif

#ifndef GORT_ASSERT
#define GORT_ASSERT(c) ((c) ? (void)0 : gort__fatal(__FILE__, __LINE__, #c))
#endif

#define GORT__NOINLINE __attribute__((noinline))
/* a pointer for "0x%llx": %p's form differs (Windows prints no 0x) */
#define GORT__PTR(p) ((unsigned long long)(uintptr_t)(const void *)(p))
#define GORT__UNUSED   __attribute__((unused))
#define GORT__LIKELY(x)   __builtin_expect(!!(x), 1)
#define GORT__UNLIKELY(x) __builtin_expect(!!(x), 0)

#define GORT__LOAD(p)        __atomic_load_n((p), __ATOMIC_RELAXED)
#define GORT__LOAD_ACQ(p)    __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define GORT__STORE(p, v)    __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define GORT__STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define GORT__ADD(p, v)      __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)

static GORT__UNUSED int gort__cas_u32(uint32_t *p, uint32_t e, uint32_t d) {
    return __atomic_compare_exchange_n(p, &e, d, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}
static GORT__UNUSED int gort__cas_u64(uint64_t *p, uint64_t e, uint64_t d) {
    return __atomic_compare_exchange_n(p, &e, d, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

static void gort__fatal(const char *file, int line, const char *what) {
    fprintf(stderr, "gort: internal error at %s:%d: %s is false (a gort bug: please report it)\n", file, line, what);
    abort();
}

/* Misuse that we can detect cheaply: one sentence that says how to fix it. */
static void gort__misuse(const char *msg) {
    fprintf(stderr, "gort: %s\n", msg);
}

/* A NULL object passed to a call that cannot return an error: fatal, but
   named, rather than a bare SIGSEGV somewhere inside gort. */
static GORT__NOINLINE void gort__null_arg(const char *fn, const char *what) {
    fprintf(stderr, "gort: %s: called with a NULL %s; pass the address of one (zeroed or *_INIT)\n", fn, what);
    abort();
}
#define GORT__NONNULL(p, fn, what) do { if (GORT__UNLIKELY(!(p))) gort__null_arg(fn, what); } while (0)

static inline void gort__cpu_relax(void) {
#if defined(GORT__ARCH_X64)
    __asm__ __volatile__("pause" ::: "memory");
#else
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

#if defined(GORT__OS_LINUX)
static int64_t gort__nanotime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
#else
/* The performance counter, in nanoseconds: its frequency is fixed at boot
   (10 MHz on current Windows, 1 GHz under Wine), so the split into
   seconds and remainder below cannot overflow. */
static int64_t gort__nanotime(void) {
    static int64_t freq;   /* atomic: 0 until first asked */
    LARGE_INTEGER c, f;
    int64_t hz = __atomic_load_n(&freq, __ATOMIC_RELAXED);
    if (!hz) { QueryPerformanceFrequency(&f); hz = f.QuadPart; __atomic_store_n(&freq, hz, __ATOMIC_RELAXED); }
    QueryPerformanceCounter(&c);
    return c.QuadPart / hz * 1000000000LL + c.QuadPart % hz * 1000000000LL / hz;
}
#endif

static void gort__os_yield(void);   /* the OS seam (>>os-linux, >>os-windows) */
static void gort__os_sleep_ns(int64_t ns);

/* now + ns without overflow. INT64_MAX itself means "no timer" in the
   heaps, so the latest deadline is one less. */
static int64_t gort__deadline(int64_t ns) {
    int64_t now = gort__nanotime();
    if (ns <= 0) return now;
    if (ns >= INT64_MAX - 1 - now) return INT64_MAX - 1;
    return now + ns;
}

#if defined(GORT__OS_LINUX)
/* ---------------------------------------------------------------- >>os-linux
   Everything gort asks of the kernel beyond signals and read/write, in
   one place: a port writes this section and >>poll-epoll again (as
   >>os-windows and >>poll-windows do), with the headers of >>platform;
   the signal-based pieces the design names (>>design) have their
   Windows forms beside them. The portable sections call only these.

   wait/wake   gort__os_wait, gort__os_wake: sleep on a 32-bit word (futex)
   stacks      gort__os_reserve, gort__os_decommit, gort__os_release,
               gort__os_alloc_now, the guard calls (mmap, madvise,
               mprotect, getrandom, /proc) and a segment's life:
               gort__os_stack_region, _ready, _shrink, _drop
   threads     gort__os_thread_start/self/join/detach/forget,
               gort__os_yield, gort__os_sleep_ns, gort__os_stack_bounds,
               gort__os_at_thread_exit, gort__os_page_size
   CPUs        gort__os_ncpu (the affinity mask), gort__os_thread_clock and
               gort__os_thread_cpu_ns, gort__os_thread_id,
               gort__os_thread_asleep (/proc), gort__os_shadow_stack
               (CET/GCS, which the switch cannot keep)
   faults      gort__os_fault_install, gort__os_fault_chain (SIGSEGV/SIGBUS)
   sockets     gort__os_accept (accept4), GORT__OS_NOSIGNAL (MSG_NOSIGNAL) */

/* Sleep while *addr == val, until a wake, a spurious return or the
   deadline (gort__nanotime's clock; 0 = none). Callers re-check their
   condition: this says nothing about why it returned. */
static void gort__os_wait(uint32_t *addr, uint32_t val, int64_t deadline) {
    struct timespec ts, *tp = NULL;
    if (deadline) {
        int64_t d = deadline - gort__nanotime();
        if (d <= 0) return;
        ts.tv_sec = (time_t)(d / 1000000000LL);
        ts.tv_nsec = (long)(d % 1000000000LL);
        tp = &ts;
    }
    syscall(SYS_futex, addr, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, val, tp, NULL, 0);
}
/* Wake up to n threads sleeping in gort__os_wait on addr. The kernel
   reads nothing at addr (a private futex is found by its address alone),
   and addr may already be freed: an unlock's wake comes after the store
   that lets another thread take the lock, and that thread may free the
   lock's object at once (a channel closed and freed; POSIX allows the
   same of a mutex). At worst a word reused as another futex gets a
   spurious wake, which every waiter tolerates (it re-checks). Valgrind
   checks the word as if the kernel read it: not reported there. */
static void gort__os_wake(uint32_t *addr, int n) {
#ifdef GORT_VALGRIND
    VALGRIND_DISABLE_ERROR_REPORTING;
#endif
    syscall(SYS_futex, addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
#ifdef GORT_VALGRIND
    VALGRIND_ENABLE_ERROR_REPORTING;
#endif
}

/* Stack memory. A reservation is address space only: a page costs memory
   from its first touch until gort__os_decommit, after which it reads as
   zeros again (callers must not count on that: on Windows it may read as
   what it held). No huge pages: one
   would commit 2 MiB for a stack that touched 4 KiB. With
   vm.overcommit_memory=2 the kernel ignores MAP_NORESERVE and charges the
   whole reservation, so callers retry smaller. NULL when refused. */
static char *gort__os_reserve(size_t len) {
    char *b = (char *)mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (b == MAP_FAILED) return NULL;
    madvise(b, len, MADV_NOHUGEPAGE);
    return b;
}
static void gort__os_decommit(char *p, size_t len) { madvise(p, len, MADV_DONTNEED); }
/* A region of goroutine stacks (>>stack): len bytes, the last len - slots
   of them (the Gs) ordinary memory. Here all of it is gort__os_reserve's:
   a stack's pages come as they are touched. whole: its segments will
   have no guard pages (canaries). */
static char *gort__os_stack_region(size_t len, size_t slots, int whole) {
    (void)slots; (void)whole;
    return gort__os_reserve(len);
}
/* A segment's usable stack [lo, hi) is handed out fresh or after going
   cold: make it ready to run on. Returns the lowest byte it may use
   without the system growing it (Windows' StackLimit; lo here, where the
   kernel maps pages on touch), or NULL when refused (Windows' commit
   limit). whole: a segment without a guard page (a canary). */
static char *gort__os_stack_ready(char *lo, char *hi, size_t page, int whole) {
    (void)hi; (void)page; (void)whole;
    return lo;
}
/* A goroutine that went deep has ended: the pages [lo, mark) go back.
   limit is its segment's gort__os_stack_ready limit; the new one is
   returned. */
static char *gort__os_stack_shrink(char *lo, char *limit, char *mark, size_t page, int whole) {
    (void)limit; (void)page; (void)whole;
    madvise(lo, (size_t)(mark - lo), MADV_DONTNEED);
    return lo;
}
/* A segment goes cold: all of [lo, hi) goes back (gort__os_stack_ready
   makes it ready again). */
static void gort__os_stack_drop(char *lo, char *hi, int whole) {
    (void)whole;
    madvise(lo, (size_t)(hi - lo), MADV_DONTNEED);
}
/* The running goroutine's stack limit as the system moved it: only
   Windows moves it. */
#define GORT__OS_STACK_LIMIT_NOW(g) ((void)0)
/* Memory for use at once, every page present (the trace's buffers: a
   recording must not take page faults); NULL when refused. */
static char *gort__os_alloc_now(size_t len) {
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return m == MAP_FAILED ? NULL : (char *)m;
}
static void gort__os_release(char *p, size_t len) { munmap(p, len); }

enum { GORT__GUARD_MADV = 1, GORT__GUARD_MPROT = 2, GORT__GUARD_CANARY = 3 };

/* Guard pages, two ways (GORT__GUARD_MADV, GORT__GUARD_MPROT; see >>stack):
   MADV_GUARD_INSTALL (Linux 6.13) marks the page in the page tables and
   costs no map entry; mprotect splits the mapping, two entries per guard
   out of vm.max_map_count. 0, or -errno. */
static int gort__os_guard(char *page, size_t len, int mode) {
    int r = mode == GORT__GUARD_MADV ? madvise(page, len, MADV_GUARD_INSTALL) : mprotect(page, len, PROT_NONE);
    return r == 0 ? 0 : -errno;
}

/* madvise over many ranges in one system call (process_madvise on this
   process, Linux 6.13+ for advice such as MADV_GUARD_INSTALL and
   MADV_POPULATE_WRITE): a spawn storm's fresh segments get their guards
   and first pages a batch at a time (>>stack). 0 when every range was
   advised; -1 otherwise (none or some), and the caller does them one by
   one. The process is named by PIDFD_SELF_THREAD_GROUP where the kernel
   knows it (6.15), else by a pidfd opened for the call (never one kept:
   a forked child would advise its parent with it). */
#ifndef SYS_process_madvise
#define SYS_process_madvise 440   /* the same on x86-64 and aarch64 */
#endif
#define GORT__PIDFD_SELF (-10001)
static int gort__os_vec_mode;   /* atomic: 0 not yet asked, 1 PIDFD_SELF, 2 a pidfd each call, 3 none */
static int gort__os_madvise_vec(struct iovec *v, int n, int advice) {
    size_t want = 0;
    long r = -1;
    int i, mode = __atomic_load_n(&gort__os_vec_mode, __ATOMIC_RELAXED);
#ifdef GORT_VALGRIND
    if (RUNNING_ON_VALGRIND) return -1;   /* unknown to Valgrind 3.19 */
#endif
    if (mode == 3) return -1;
    for (i = 0; i < n; i++) want += v[i].iov_len;
    if (mode != 2) {
        r = syscall(SYS_process_madvise, GORT__PIDFD_SELF, v, (size_t)n, advice, 0u);
        if (r >= 0 || errno != EBADF) mode = 1;
        else mode = 2;
    }
#ifdef SYS_pidfd_open
    if (mode == 2) {
        int fd = (int)syscall(SYS_pidfd_open, (long)getpid(), 0u);
        if (fd >= 0) {
            r = syscall(SYS_process_madvise, fd, v, (size_t)n, advice, 0u);
            close(fd);
        } else mode = 3;
    }
#else
    if (mode == 2) mode = 3;
#endif
    if (r < 0 && (errno == ENOSYS || errno == EINVAL || errno == EPERM)) mode = 3;
    __atomic_store_n(&gort__os_vec_mode, mode, __ATOMIC_RELAXED);
    return r == (long)want ? 0 : -1;
}

/* Stack compaction's restore (>>compact): put the bytes from..from+(hi-at)
   back at at..hi, in pages lo..hi that carry guards, so that no other
   thread sees them half written: by UFFDIO_COPY where it can
   (gort__os_uffd_fill, below), else the long way: the range is made
   inaccessible (PROT_NONE: another thread's access faults, and its
   handler waits for us), unguarded, written through /proc/self/mem (the
   kernel writes where the program may not), and opened again.
   Async-signal-safe.
   gort__os_memfd is opened by gort__os_compact_probe; a forked child has
   its own /proc/self/mem, so the pid is checked. */
static int gort__os_memfd = -1;
static pid_t gort__os_memfd_pid;
/* madvise or mprotect that must succeed: the range is ours and a stack
   depends on it. A failure (ENOMEM for a page table, or one injected by
   a test) is retried; only one that lasts is fatal. */
static int gort__os_must(int how, char *p, size_t len, int arg, int probe, int remap_prot) {
    int i;
    for (i = 0; i < (probe ? 1 : 200); i++) {
        if ((how ? mprotect(p, len, arg) : madvise(p, len, arg)) == 0) return 0;
        if (i > 20) gort__os_yield();
    }
    if (probe) return -1;
    /* It keeps failing (a test's injected fault; no kernel fails these
       for good): a fresh mapping over the range with remap_prot (PROT_NONE
       while others must not see it yet) and no guard. Its bytes are lost:
       1 tells the caller. */
    for (i = 0; i < 1000; i++) {
        if (mmap(p, len, remap_prot, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) != MAP_FAILED)
            return 1;
        gort__os_yield();
    }
    GORT_ASSERT(!"madvise, mprotect and mmap of a goroutine stack kept failing");
    return -1;
}
static int gort__os_guard_faults(char *p);
static void gort__os_uffd_probe(size_t page);
static int gort__os_memfd_get(void) {
    if (getpid() != __atomic_load_n(&gort__os_memfd_pid, __ATOMIC_ACQUIRE)) return -1;
    return __atomic_load_n(&gort__os_memfd, __ATOMIC_RELAXED);
}

/* The fast restore: a userfaultfd used for nothing but UFFDIO_COPY, which
   allocates a page, fills it from a buffer and maps it where a guard (or
   nothing) was, in one page-table update under the page-table lock. No
   thread can see the page half written, so none of the PROT_NONE dance
   below is needed: one system call instead of four, none of which splits
   a map entry or takes the mmap lock for writing (a few microseconds
   less per wake-up, and no stall for the compactor's calls). The kernel
   lets UFFDIO_COPY replace a guard marker as it would an empty entry;
   gort__os_compact_probe checks that it does, on a scratch mapping.
   UFFDIO_COPY wants its destination registered with the userfaultfd:
   stack regions are, in write-protect mode, which no page ever uses, so
   ordinary faults in them go on as before, and nothing reads the fd
   (user-mode-only: Linux 5.11+, no privilege needed). Off where the
   probe fails, in a forked child (its own mappings are not registered:
   the pid is checked), and when gort__os_uffd_off is 1 (tests; 2: the
   first UFFDIO_COPY of each restore only, the long way for the rest). */
static int gort__os_uffd = -1;
static pid_t gort__os_uffd_pid;
static int gort__os_uffd_off;
static uint64_t gort__os_uffd_pages;   /* atomic: pages it filled (tests) */
/* ioctl(2) by number: musl declares the request an int, and these
   numbers do not fit one */
static long gort__os_uffd_ioctl(int fd, unsigned long req, void *arg) { return syscall(SYS_ioctl, fd, req, arg); }
static int gort__os_uffd_get(void) {
    if (__atomic_load_n(&gort__os_uffd_off, __ATOMIC_RELAXED) == 1) return -1;
    if (getpid() != __atomic_load_n(&gort__os_uffd_pid, __ATOMIC_ACQUIRE)) return -1;
    return __atomic_load_n(&gort__os_uffd, __ATOMIC_RELAXED);
}
/* Register len bytes at b for UFFDIO_COPY; 0, or -1 (no userfaultfd
   here: the restore takes the long way for these stacks). */
static int gort__os_uffd_register(char *b, size_t len) {
    struct gort__uffdio_register reg;
    int fd = gort__os_uffd_get();
    if (fd < 0) return -1;
    memset(&reg, 0, sizeof reg);
    reg.start = (uint64_t)(uintptr_t)b; reg.len = len; reg.mode = GORT__UFFD_REGISTER_WP;
    return gort__os_uffd_ioctl(fd, GORT__UFFDIO_REGISTER, &reg) == 0 ? 0 : -1;
}
/* Put from..from+(hi-at) at at..hi, pages lo..hi (each guarded or
   empty) filled and mapped by UFFDIO_COPY; the bytes below at in the
   first page are dead and read as zeros. first: 4 KiB of scratch, where
   that page is staged. Returns how far from lo the pages are in (hi: all
   of them; lo: none, the fd is not there or the range is not
   registered), the rest for the caller's long way. Async-signal-safe. */
GORT__NO_ASAN GORT__NO_TSAN static char *gort__os_uffd_fill(char *lo, char *hi, char *at, const char *from, char *first) {
    char *dst = lo;
    int fd = gort__os_uffd_get(), tries = 0;
    if (fd < 0) return lo;
    GORT_ASSERT(((uintptr_t)lo & 4095) == 0 && ((uintptr_t)hi & 4095) == 0 && lo <= at && at < hi);
    while (dst < hi && tries < 100) {
        struct gort__uffdio_copy c;
        const char *src;
        size_t len;
        if (dst < at) {
            /* the page at is in: staged whole, dead part zeroed (from
               is the heap copy and first is ours: memcpy may check them) */
            size_t skip = (size_t)(at - dst);
            memset(first, 0, skip);
            memcpy(first + skip, from, 4096 - skip);
            src = first;
            len = 4096;
        } else {
            src = from + (dst - at);
            len = (size_t)(hi - dst);
        }
        c.dst = (uint64_t)(uintptr_t)dst; c.src = (uint64_t)(uintptr_t)src; c.len = len; c.mode = 0; c.copy = 0;
        if (gort__os_uffd_ioctl(fd, GORT__UFFDIO_COPY, &c) == 0) c.copy = (int64_t)len;
        if (c.copy > 0) {   /* all or part went in */
            dst += (size_t)c.copy;
            GORT__ADD(&gort__os_uffd_pages, (uint64_t)c.copy / 4096);
            if (GORT__UNLIKELY(__atomic_load_n(&gort__os_uffd_off, __ATOMIC_RELAXED) == 2)) break;
            continue;
        }
        if (errno != EAGAIN && errno != EINTR) break;   /* EEXIST, EINVAL, ENOENT, ENOMEM, EFAULT */
        tries++;
    }
    return dst;
}
/* The same with the scratch on the caller's stack: 4 KiB that a
   goroutine with a small stack (16 KiB is allowed) may not have, so only
   where no M's scratch is there (a plain thread's fault or touch). */
GORT__NOINLINE static char *gort__os_uffd_fill_here(char *lo, char *hi, char *at, const char *from) {
    char first[4096];
    return gort__os_uffd_fill(lo, hi, at, from, first);
}
/* stage: 4 KiB of scratch for the fast restore, or NULL (the caller's
   stack then) */
GORT__NO_ASAN GORT__NO_TSAN static int gort__os_unguard_fill(char *lo, char *hi, char *at, const char *from, int probe, char *stage) {
    size_t len, n, done = 0;
    int fd = gort__os_memfd_get(), i, closed = -1;
    if (!probe) {
        char *d = stage ? gort__os_uffd_fill(lo, hi, at, from, stage) : gort__os_uffd_fill_here(lo, hi, at, from);
        if (d == hi) return 0;
        if (d > at) { from += d - at; at = d; }
        lo = d;   /* what went in stays: the long way does the rest */
    }
    len = (size_t)(hi - lo);
    n = (size_t)(hi - at);
    /* retried like gort__os_must: a failure here sends the restore into
       the open (below), where a thread that touches the pages meanwhile
       sees zeros; a single failed call did (test_faults: a WaitGroup on a
       compacted stack read as 0 and went negative) */
    for (i = 0; fd >= 0 && closed != 0 && i < (probe ? 1 : 200); i++) {
        closed = mprotect(lo, len, PROT_NONE);
        if (closed != 0 && i > 20) gort__os_yield();
    }
    if (closed == 0) {
        if (gort__os_must(0, lo, len, MADV_GUARD_REMOVE, probe, PROT_NONE) < 0) return -1;   /* 1: remapped, also fine */
        while (done < n) {
            ssize_t w = pwrite(fd, from + done, n - done, (off_t)(uintptr_t)(at + done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0 && probe) return -1;
            GORT_ASSERT(w > 0);   /* probed: the kernel writes into PROT_NONE pages */
            done += (size_t)w;
        }
        {
            /* merges what the first call split; 1: remapped, the bytes
               are gone: they go in again below, in the open */
            int r = gort__os_must(1, lo, len, PROT_READ | PROT_WRITE, probe, PROT_READ | PROT_WRITE);
            if (r != 1) return r;
        }
    }
    if (probe) return -1;
    /* No map entry left for the split (vm.max_map_count), 200 times over:
       restore in the open. A thread touching these pages in the few
       microseconds between the two calls would read zeros; only a program
       at its map limit that shares pointers into parked stacks can see it. */
    gort__os_must(0, lo, len, MADV_GUARD_REMOVE, 0, PROT_READ | PROT_WRITE);
    {
        volatile char *t = at;   /* not memcpy: no sanitizer may check these bytes */
        for (done = 0; done < n; done++) t[done] = from[done];
    }
    return 0;
}
/* Stack compaction's first half: copy at..hi to `to`, then give pages
   lo..hi back to the OS with a guard over them, so that no other thread
   sees a byte change on the way: the range is made inaccessible first
   (read-only would not do: while MADV_GUARD_INSTALL zaps the pages, a
   reader's fault maps the zero page), read through /proc/self/mem,
   guarded, and opened again (the guard keeps faulting). 0, or -1 with
   the pages as they were; with probe set, -1 also when they could not be
   opened again (the probe's scratch mapping: unmapped all the same). */
GORT__NO_ASAN GORT__NO_TSAN static int gort__os_copy_guard(char *lo, char *hi, char *at, char *to, int probe) {
    size_t len = (size_t)(hi - lo), n = (size_t)(hi - at), done = 0;
    int fd = gort__os_memfd_get(), e = 0;
    if (fd < 0 || mprotect(lo, len, PROT_NONE) != 0) return -1;   /* no map entry for the split */
    while (done < n) {
        ssize_t r = pread(fd, to + done, n - done, (off_t)(uintptr_t)(at + done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        done += (size_t)r;
    }
    if (done == n && madvise(lo, len, MADV_GUARD_INSTALL) == 0) e = 1;
    if (probe) return mprotect(lo, len, PROT_READ | PROT_WRITE) == 0 && e ? 0 : -1;
    if (gort__os_must(1, lo, len, PROT_READ | PROT_WRITE, 0, PROT_READ | PROT_WRITE) == 1) {   /* merges what the first call split */
        /* remapped: its bytes are gone, and only a full copy brings them back */
        volatile char *t = at;
        GORT_ASSERT(done == n);
        for (done = 0; done < n; done++) t[done] = to[done];
        return -1;
    }
    return e ? 0 : -1;
}

/* Can stacks be compacted here: guards, and /proc/self/mem writing into
   a PROT_NONE page? Tried on a scratch mapping. 1 yes. */
static int gort__os_compact_probe(size_t page) {
    static const char pat[8] = { 'g', 'o', 'r', 't', 'c', 'm', 'p', 0 };
    char *m;
    int ok = 0, fd;
    if (getpid() != __atomic_load_n(&gort__os_memfd_pid, __ATOMIC_ACQUIRE)) {
        fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
        if (fd < 0) return 0;
        __atomic_store_n(&gort__os_memfd, fd, __ATOMIC_RELAXED);
        __atomic_store_n(&gort__os_memfd_pid, getpid(), __ATOMIC_RELEASE);
    }
    /* Under an address-space limit, the copies' allocations (a malloc
       arena for sysmon: 64 MiB of address space) would come out of what
       goroutine stacks can have. */
    {
        struct rlimit rl;
        if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) return 0;
    }
    m = gort__os_reserve(2 * page);
    if (!m) return 0;
    {
        char got[sizeof pat];
        m[page] = 1;
        memcpy(m + 2 * page - sizeof pat, pat, sizeof pat);
        if (gort__os_copy_guard(m + page, m + 2 * page, m + 2 * page - sizeof pat, got, 1) == 0 &&
            memcmp(got, pat, sizeof pat) == 0 && gort__os_guard_faults(m + page) == 1) {
            ok = gort__os_unguard_fill(m + page, m + 2 * page, m + 2 * page - sizeof pat, pat, 1, NULL) == 0 &&
                 memcmp(m + 2 * page - sizeof pat, pat, sizeof pat) == 0 && m[page] == 0;
        }
    }
    gort__os_release(m, 2 * page);
    if (ok && page == 4096 && getpid() != __atomic_load_n(&gort__os_uffd_pid, __ATOMIC_ACQUIRE)) gort__os_uffd_probe(page);
    return ok;
}

/* Open the userfaultfd of gort__os_uffd_fill and check, on a scratch
   mapping, that UFFDIO_COPY fills a guarded page: the page must read
   back as written, and no longer be guarded. Leaves gort__os_uffd -1
   where anything fails (no userfaultfd: qemu-user, seccomp, a kernel
   built without it or older than 5.11 for an unprivileged process; a
   kernel that refuses to replace a guard). */
static void gort__os_uffd_probe(size_t page) {
    int fd = -1, ok = 0;
#ifdef SYS_userfaultfd
    struct gort__uffdio_api api;
    fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | GORT__UFFD_USER_MODE_ONLY);
    memset(&api, 0, sizeof api);
    api.api = GORT__UFFD_API;
    if (fd >= 0 && gort__os_uffd_ioctl(fd, GORT__UFFDIO_API, &api) == 0) {
        static const char pat[8] = { 'g', 'o', 'r', 't', 'u', 'f', 'f', 0 };
        char *m = gort__os_reserve(2 * page);
        __atomic_store_n(&gort__os_uffd, fd, __ATOMIC_RELAXED);
        __atomic_store_n(&gort__os_uffd_pid, getpid(), __ATOMIC_RELEASE);
        if (m && gort__os_uffd_register(m, 2 * page) == 0) {
            m[page] = 1;
            if (madvise(m + page, page, MADV_GUARD_INSTALL) == 0 && gort__os_guard_faults(m + page) == 1 &&
                gort__os_uffd_fill_here(m + page, m + 2 * page, m + 2 * page - sizeof pat, pat) == m + 2 * page)
                ok = memcmp(m + 2 * page - sizeof pat, pat, sizeof pat) == 0 && m[page] == 0 &&
                     gort__os_guard_faults(m + page) == 0;   /* last: it writes a byte there */
        }
        if (m) gort__os_release(m, 2 * page);
    }
#else
    (void)page;
#endif
    if (!ok && fd >= 0) close(fd);
    __atomic_store_n(&gort__os_uffd, ok ? fd : -1, __ATOMIC_RELAXED);
    __atomic_store_n(&gort__os_uffd_pid, getpid(), __ATOMIC_RELEASE);
}

/* Does the guard at p (one page) really fault? The kernel is asked to
   write into it (getrandom(2): no fd needed, so a process out of
   descriptors probes like any other): EFAULT means it refused. Where
   getrandom is missing, write(2) from the guard into a pipe. 1 faults,
   0 does not, -1 could not tell. */
static int gort__os_guard_faults(char *p) {
    int fds[2], ok = -1;
    long r;
#ifdef SYS_getrandom
    r = syscall(SYS_getrandom, p, (size_t)1, 1 /* GRND_NONBLOCK */);
    if (r >= 0 || errno == EFAULT) ok = r < 0;
#else
    r = -1;
#endif
    (void)r;
    if (ok < 0 && pipe(fds) == 0) {
        ssize_t w = write(fds[1], p, 1);
        ok = (w < 0 && errno == EFAULT);
        close(fds[0]); close(fds[1]);
    }
    return ok;
}

static long gort__read_long_file(const char *path, long dflt) {
    char buf[64];
    long v = dflt;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n > 0) { buf[n] = 0; v = strtol(buf, NULL, 10); }
        close(fd);
    }
    return v;
}

/* The process's map-entry limit (vm.max_map_count) and how many entries it
   uses now (lines of /proc/self/maps; 1000 if unreadable). */
static long gort__os_map_max(void) { return gort__read_long_file("/proc/sys/vm/max_map_count", 65530); }
static long gort__os_map_count(void) {
    char buf[4096];
    long lines = 0;
    ssize_t n, i;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 1000;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        for (i = 0; i < n; i++) lines += buf[i] == '\n';
    close(fd);
    return lines;
}

/* CPUs this process may run on (its affinity mask, as Go's getproccount). */
static int gort__os_ncpu(void) {
    unsigned long mask[64];
    long r = syscall(SYS_sched_getaffinity, 0, sizeof mask, mask);
    int n = 0;
    long i;
    if (r > 0) {
        for (i = 0; i < r / (long)sizeof(unsigned long); i++) n += __builtin_popcountl(mask[i]);
    }
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

/* The calling thread's CPU-time clock, for sysmon's hog check to read from
   another thread; CLOCK_MONOTONIC (wall time) where there is none. */
typedef clockid_t gort__os_cpuclock;
static gort__os_cpuclock gort__os_thread_clock(void) {
    clockid_t c;
    return pthread_getcpuclockid(pthread_self(), &c) == 0 ? c : CLOCK_MONOTONIC;
}
/* A thread's CPU time so far (read from another thread), ns; 0 unknown. */
static int64_t gort__os_thread_cpu_ns(gort__os_cpuclock c) {
    struct timespec ts;
    if (clock_gettime(c, &ts) != 0) return 0;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Threads, 256 KiB of stack each (gort's own: Ms and sysmon). 0, or a
   positive errno. The thread in *t is the caller's to join or detach
   (forget: an M records itself with gort__os_thread_self and is joined
   through that). */
typedef pthread_t gort__os_thread;
static int gort__os_thread_start(gort__os_thread *t, void *(*fn)(void *), void *arg) {
    pthread_attr_t attr;
    int err;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    err = pthread_create(t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return err;
}
static gort__os_thread gort__os_thread_self(void) { return pthread_self(); }
static void gort__os_thread_join(gort__os_thread t) { pthread_join(t, NULL); }
static void gort__os_thread_detach(gort__os_thread t) { pthread_detach(t); }
static void gort__os_thread_forget(gort__os_thread t) { (void)t; }
static void gort__os_yield(void) { sched_yield(); }
static size_t gort__os_page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }
static void gort__os_sleep_ns(int64_t ns) {
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    nanosleep(&ts, NULL);
}
/* The calling thread's stack, if the C library can say (else unchanged). */
static void gort__os_stack_bounds(char **lo, char **hi) {
    pthread_attr_t at;
    void *b;
    size_t sz;
    if (pthread_getattr_np(pthread_self(), &at) == 0) {
        if (pthread_attr_getstack(&at, &b, &sz) == 0) {
            *lo = (char *)b;
            *hi = (char *)b + sz;
        }
        pthread_attr_destroy(&at);
    }
}
/* Call dtor(p) when the calling thread exits (one registration per
   thread: the plain thread's stand-in G). */
static pthread_key_t gort__os_exit_key;
static pthread_once_t gort__os_exit_once = PTHREAD_ONCE_INIT;
static void (*gort__os_exit_fn)(void *);   /* atomic: every caller stores the same one */
static void gort__os_exit_key_init(void) {
    pthread_key_create(&gort__os_exit_key, __atomic_load_n(&gort__os_exit_fn, __ATOMIC_RELAXED));
}
static void gort__os_at_thread_exit(void (*dtor)(void *), void *p) {
    __atomic_store_n(&gort__os_exit_fn, dtor, __ATOMIC_RELAXED);
    pthread_once(&gort__os_exit_once, gort__os_exit_key_init);
    pthread_setspecific(gort__os_exit_key, p);
}

static long gort__os_thread_id(void) { return (long)syscall(SYS_gettid); }
/* Queue signal sig with value to thread tid of this process (what glibc's
   pthread_sigqueue does; musl has none): the handler sees si_code
   SI_QUEUE and the value in si_value. 0, or -errno. */
static int gort__os_thread_sigqueue(long tid, int sig, int value) {
    siginfo_t si;
    memset(&si, 0, sizeof si);   /* the kernel copies the whole structure */
    si.si_signo = sig;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = value;
    return syscall(SYS_rt_tgsigqueueinfo, (long)getpid(), tid, sig, &si) == 0 ? 0 : -errno;
}

/* Is thread tid of this process asleep in the kernel now (a blocking
   system call, a futex, a page-in)? 1 yes, 0 running or runnable, -1
   cannot tell. *fd caches its /proc stat file (-1: not open yet; the
   caller closes it). Another thread's CPU clock cannot tell: it moves at
   the scheduler's tick (4 ms here), not with the thread. */
static int gort__os_thread_asleep(long tid, int *fd) {
    char buf[512], *p;
    ssize_t n;
    if (*fd < 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
        if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return -1;
    }
    n = pread(*fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return -1;
    buf[n] = 0;
    p = strrchr(buf, ')');   /* the name may hold spaces and parentheses */
    if (!p || p[1] != ' ') return -1;
    return p[2] == 'S' || p[2] == 'D';
}

/* The fault handler for guard pages: installed once for SIGSEGV and SIGBUS
   on the alternate signal stack, keeping the program's SIGSEGV handler to
   chain to for faults that are not gort's. */
static struct sigaction gort__os_fault_old;
static uint32_t gort__os_fault_installed;
static void gort__os_fault_install(void (*h)(int, siginfo_t *, void *)) {
    struct sigaction sa;
    if (!gort__cas_u32(&gort__os_fault_installed, 0, 1)) return;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &gort__os_fault_old);
    sigaction(SIGBUS, &sa, NULL);
}
/* Pass a fault that is not gort's to the handler the program had. With
   none, restore the default action and return: the fault repeats and
   kills the process with the right signal and core dump. */
static void gort__os_fault_chain(int sig, siginfo_t *si, void *uc) {
    if (gort__os_fault_old.sa_flags & SA_SIGINFO) {
        if (gort__os_fault_old.sa_sigaction) { gort__os_fault_old.sa_sigaction(sig, si, uc); return; }
    } else if (gort__os_fault_old.sa_handler == SIG_IGN) {
        return;
    } else if (gort__os_fault_old.sa_handler != SIG_DFL && gort__os_fault_old.sa_handler) {
        gort__os_fault_old.sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);
}

/* Is a hardware shadow stack (x86-64 CET, aarch64 GCS) on for the calling
   thread? A kernel that does not know the request answers with an error,
   which means no. */
static int gort__os_shadow_stack(void) {
    unsigned long st = 0;
#if defined(GORT__ARCH_X64)
    /* ARCH_SHSTK_STATUS (Linux 6.6): bit 0, ARCH_SHSTK_SHSTK */
    return syscall(SYS_arch_prctl, 0x5005, &st) == 0 && (st & 1);
#else
    /* PR_GET_SHADOW_STACK_STATUS (Linux 6.13): bit 0, PR_SHADOW_STACK_ENABLE */
    return syscall(SYS_prctl, 74, &st, 0UL, 0UL, 0UL) == 0 && (st & 1);
#endif
}

/* poll(2): how many of the n descriptors are ready within tmo ms (-1: no
   limit), or -errno. */
static int gort__os_poll(struct pollfd *p, int n, int tmo) {
    int r = poll(p, (nfds_t)n, tmo);
    return r < 0 ? -errno : r;
}

/* Sockets: a send never raises SIGPIPE (the call gets -EPIPE), and an
   accepted fd is close-on-exec, non-blocking when asked, in one call. */
#define GORT__OS_NOSIGNAL MSG_NOSIGNAL
static int gort__os_accept(int fd, struct sockaddr *addr, socklen_t *len, int nonblock) {
    return accept4(fd, addr, len, SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0));
}

/* ---------------------------------------------------------------- >>poll-epoll
   The poller behind >>netpoll: one epoll instance per runtime and an
   eventfd to break its wait. >>netpoll owns the descriptors, sequence
   numbers and waiters; this section only talks to the kernel. Every fd is
   registered edge-triggered for both directions; an event carries the
   64-bit data the caller armed it with. */
typedef struct {
    int      epfd, evfd;
    uint32_t armed;              /* atomic: a break was written, not yet read */
    int      no_pwait2;          /* the kernel (or qemu) has no epoll_pwait2 */
} gort__poller;
typedef struct { uint64_t data; uint32_t events; } gort__pollev;
enum { GORT__POLL_IN = 1, GORT__POLL_OUT = 2 };   /* gort__pollev.events */
#define GORT__POLL_BATCH 128   /* events per wait; more stay queued in the kernel for the next */

/* 0 or -errno, with nothing left open on failure. */
static int gort__poller_init(gort__poller *pl) {
    struct epoll_event ev;
    int err;
    memset(pl, 0, sizeof *pl);
    pl->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (pl->epfd < 0) return -errno;
    pl->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (pl->evfd < 0) { err = -errno; close(pl->epfd); return err; }
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u64 = UINT64_MAX;   /* no fd's data: fd numbers fit in 32 bits */
    if (epoll_ctl(pl->epfd, EPOLL_CTL_ADD, pl->evfd, &ev) != 0) {
        err = -errno;
        close(pl->epfd); close(pl->evfd);
        return err;
    }
    /* Valgrind (3.19) does not know epoll_pwait2 and warns of it at every
       run; under it, the millisecond epoll_wait. Its preload library in
       LD_PRELOAD tells without its header. */
    {
        const char *pre = getenv("LD_PRELOAD");
        if (pre && strstr(pre, "vgpreload")) pl->no_pwait2 = 1;
#ifdef GORT_VALGRIND
        if (RUNNING_ON_VALGRIND) pl->no_pwait2 = 1;
#endif
    }
    return 0;
}
static void gort__poller_free(gort__poller *pl) {
    close(pl->epfd);
    close(pl->evfd);
}

/* Register fd (add) or re-arm its registration (!add: also re-delivers an
   edge if fd is ready now). 0; -EPERM: the file cannot be polled (a
   regular file: always ready); -ENOENT (re-arm): fd is not registered, its
   file was closed; -EEXIST (add): registered already; other -errno. */
static int gort__poller_arm(gort__poller *pl, int fd, uint64_t data, int add) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = data;
    return epoll_ctl(pl->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -errno;
}
static void gort__poller_disarm(gort__poller *pl, int fd) {
    epoll_ctl(pl->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* Make a gort__poller_wait return now, or the next one not wait. */
static void gort__poller_break(gort__poller *pl) {
    if (gort__cas_u32(&pl->armed, 0, 1)) {
        uint64_t one = 1;
        ssize_t r;
        while ((r = write(pl->evfd, &one, sizeof one)) < 0 && errno == EINTR) {}
        /* Not written: disarm, or no later break would write either and
           the poller could sleep through every new timer. (EAGAIN: the
           counter is full, so a wake-up is pending anyway.) */
        if (r < 0 && errno != EAGAIN) __atomic_store_n(&pl->armed, 0, __ATOMIC_SEQ_CST);
    }
}

/* Wait for events until deadline (gort__nanotime's clock; INT64_MAX: no
   limit; past: do not sleep; 0: only look, and leave a break for the
   thread that sleeps), or a break. Fills up to max events (in and
   out readiness; hang-ups and errors count as both, a read hang-up as
   in) and returns how many: 0 on a timeout, a break or EINTR. */
static int gort__poller_wait(gort__poller *pl, int64_t deadline, gort__pollev *out, int max) {
    struct epoll_event ev[GORT__POLL_BATCH];
    int n, i, k = 0, timeout = 0;
    int64_t d = deadline == INT64_MAX ? 0 : deadline - gort__nanotime();
    if (max > GORT__POLL_BATCH) max = GORT__POLL_BATCH;
    if (deadline == INT64_MAX) timeout = -1;
    else if (d <= 0) timeout = 0;
    else if (d > 1000000000LL * 1000) timeout = 1000000;
    else timeout = (int)((d + 999999) / 1000000);  /* round up: never wake early */
#ifdef SYS_epoll_pwait2
    /* epoll_pwait2 (Linux 5.11) takes nanoseconds: a 10 us sleep must not
       round up to epoll_wait's millisecond. */
    if (timeout > 0 && !pl->no_pwait2) {
        struct timespec ts;
        d = deadline - gort__nanotime();
        if (d < 0) d = 0;
        ts.tv_sec = (time_t)(d / 1000000000LL);
        ts.tv_nsec = (long)(d % 1000000000LL);
        n = (int)syscall(SYS_epoll_pwait2, pl->epfd, ev, max, &ts, NULL, (size_t)0);
        if (n < 0 && errno == ENOSYS) {
            pl->no_pwait2 = 1;
            n = epoll_wait(pl->epfd, ev, max, timeout);
        }
    } else
#endif
    n = epoll_wait(pl->epfd, ev, max, timeout);
    for (i = 0; i < n; i++) {
        uint32_t e = ev[i].events, r = 0;
        if (ev[i].data.u64 == UINT64_MAX) {   /* a break */
            /* Only a wait that could sleep takes the break. A look (the
               scheduler's or sysmon's, started when nobody seemed to
               poll) that took it would leave the thread that started to
               sleep in the meantime asleep past the new timer the break
               was for: the eventfd stays readable (level-triggered) for
               that thread to find. Seen under qemu: a 10 ms sleep that
               took the other goroutine's 10 s deadline. */
            if (deadline != 0) {
                uint64_t v;
                ssize_t rd = read(pl->evfd, &v, sizeof v);
                (void)rd;
                __atomic_store_n(&pl->armed, 0, __ATOMIC_SEQ_CST);
            }
            continue;
        }
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) r |= GORT__POLL_IN;
        if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) r |= GORT__POLL_OUT;
        out[k].data = ev[i].data.u64;
        out[k].events = r;
        k++;
    }
    return k;
}

#else   /* GORT__OS_WIN */
/* ---------------------------------------------------------------- >>os-windows
   The same seam for Windows x64 (MinGW-w64 gcc or clang; tested under
   Wine): what >>os-linux does with futex, mmap and signals, done with
   WaitOnAddress, VirtualAlloc and a vectored exception handler. Link with
   -lsynchronization (WaitOnAddress) and -lws2_32.

   wait/wake   WaitOnAddress, WakeByAddressSingle/All (Windows 8+)
   stacks      VirtualAlloc: a segment is committed as the system grows
               it, from a PAGE_GUARD page below its committed top, as a
               thread's own stack is (gort__os_stack_ready); its bottom
               page is never committed, and the system's
               EXCEPTION_STACK_OVERFLOW is the overflow report's start
   CPUs        GetProcessAffinityMask, GetThreadTimes (CPU time for the
               hog report), GetCurrentThreadId
   faults      AddVectoredExceptionHandler: an overflow is reported by
               name; every other exception goes on to the program's own
               handlers (EXCEPTION_CONTINUE_SEARCH)
   sockets     a SOCKET in the API's int fd, Winsock errors as errno,
               WSAPoll (gort__os_poll), non-blocking mode (FIONBIO)
   The hand-off of a busy goroutine's P suspends its thread instead of
   signalling it (gort__handoff_thread, >>goroutine). Not here: stack
   compaction (gort__stack_init turns it off). */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102   /* (advice numbers for gort__os_madvise_vec, which does nothing here) */
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
typedef HANDLE gort__os_cpuclock;   /* the thread, for GetThreadTimes */
typedef HANDLE gort__os_thread;

static void gort__os_wait(uint32_t *addr, uint32_t val, int64_t deadline) {
    DWORD ms = INFINITE;
    if (deadline) {
        int64_t d = deadline - gort__nanotime();
        if (d <= 0) return;
        /* round up: never wake early; INFINITE - 1 at most (about 49 days) */
        ms = d >= (int64_t)(INFINITE - 1) * 1000000 ? INFINITE - 1 : (DWORD)((d + 999999) / 1000000);
    }
    WaitOnAddress((volatile VOID *)addr, &val, sizeof val, ms);
}
/* addr may already be freed, as on Linux: WakeByAddress looks the address
   up in a table of waiters and reads nothing there. */
static void gort__os_wake(uint32_t *addr, int n) {
    if (n == 1) WakeByAddressSingle((PVOID)addr);
    else WakeByAddressAll((PVOID)addr);
}

static char *gort__os_reserve(size_t len) {
    return (char *)VirtualAlloc(NULL, len, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}
/* The pages' memory goes back; they stay committed (MEM_RESET: the
   commit charge stays, nothing to refuse) and read as what they held or
   as zeros (Wine: zeros, it is madvise's MADV_DONTNEED). A decommit and
   a commit again would give zeros for sure, but the commit can be
   refused (the commit limit, reached meanwhile by anyone) and the pages
   are in use: no caller needs the zeros (a cold slot's G reads
   GORT__G_FREE either way, a stack's old contents are garbage). */
static void gort__os_decommit(char *p, size_t len) {
    if (len > 0) VirtualAlloc(p, len, MEM_RESET, PAGE_READWRITE);
}
static void gort__os_release(char *p, size_t len) { (void)len; VirtualFree(p, 0, MEM_RELEASE); }
/* Goroutine stacks grow as Windows grows a thread's own stack, and count
   against the commit limit only as they do: a segment's top page is
   committed, the page below it is a PAGE_GUARD page, the rest is only
   reserved. The switch gives each goroutine's stack to the system as the
   thread's (>>asm-win64: StackBase = hi, StackLimit = the lowest
   committed byte, DeallocationStack = the segment's bottom, its guard
   page), so a touch of the guard page is stack growth, done by the
   system (Windows' kernel, Wine's fault handler): the guard page becomes
   an ordinary one, the page below it the new guard, and StackLimit moves
   down. Growth into the last GORT__OS_GUARANTEE bytes above the bottom
   page raises EXCEPTION_STACK_OVERFLOW instead, with those bytes
   committed for the handler (gort__segv_handler reports it by name); the
   bottom page is never committed. The Gs after the slots are committed
   with the region.
   A region whose segments will have no guard pages (canaries: under Wine
   once the host's map entries are used up, >>stack's budget) is
   committed whole when made, as is a segment of one when it goes cold:
   Wine makes each commit of part of a reservation a mapping of its own
   (one per batch of segments handed out, 31,000 for a million
   goroutines), where one commit of the whole costs one. */
static char *gort__os_stack_region(size_t len, size_t slots, int whole) {
    char *b;
    if (whole) return gort__os_reserve(len);
    b = (char *)VirtualAlloc(NULL, len, MEM_RESERVE, PAGE_READWRITE);
    if (b && len > slots && !VirtualAlloc(b + slots, len - slots, MEM_COMMIT, PAGE_READWRITE)) {
        VirtualFree(b, 0, MEM_RELEASE);
        b = NULL;
    }
    return b;
}
static char *gort__os_stack_ready(char *lo, char *hi, size_t page, int whole) {
    DWORD old;
    /* whole: the bottom page too, or its protection would split the
       mapping like a guard's (under Wine: the map entries it lacks) */
    if (whole) return VirtualAlloc(lo - page, (size_t)(hi - lo) + page, MEM_COMMIT, PAGE_READWRITE) ? lo : NULL;
    if (!VirtualAlloc(hi - 2 * page, 2 * page, MEM_COMMIT, PAGE_READWRITE)) return NULL;
    if (!VirtualProtect(hi - 2 * page, page, PAGE_READWRITE | PAGE_GUARD, &old)) {
        VirtualFree(hi - 2 * page, 2 * page, MEM_DECOMMIT);
        return NULL;
    }
    return hi - page;
}
/* The page below mark becomes the guard (it is committed: the stack went
   below mark), then everything below it goes back. */
static char *gort__os_stack_shrink(char *lo, char *limit, char *mark, size_t page, int whole) {
    DWORD old;
    if (whole) { gort__os_decommit(lo, (size_t)(mark - lo)); return lo; }
    if (limit >= mark) return limit;
    if (!VirtualProtect(mark - page, page, PAGE_READWRITE | PAGE_GUARD, &old)) return limit;
    if (mark - page > lo) VirtualFree(lo, (size_t)(mark - page - lo), MEM_DECOMMIT);
    return mark;
}
static void gort__os_stack_drop(char *lo, char *hi, int whole) {
    if (whole) gort__os_decommit(lo, (size_t)(hi - lo));
    else VirtualFree(lo, (size_t)(hi - lo), MEM_DECOMMIT);
}
/* A goroutine's StackLimit as the system left it (it ran on g's stack). */
#define GORT__OS_STACK_LIMIT_NOW(g) __asm__ volatile("movq %%gs:0x10, %0" : "=r"((g)->stack_limit))
/* The bytes kept for the overflow handler (SetThreadStackGuarantee, for
   every M: the system's default is two pages). */
#define GORT__OS_GUARANTEE (16u * 1024u)
static char *gort__os_alloc_now(size_t len) {
    char *m = gort__os_reserve(len);
    size_t i;
    if (m) for (i = 0; i < len; i += 4096) m[i] = 0;   /* present now: a recording takes no faults */
    return m;
}

enum { GORT__GUARD_MADV = 1, GORT__GUARD_MPROT = 2, GORT__GUARD_CANARY = 3 };
/* The Linux modes map to one here: MADV (no map entry) does not exist,
   MPROT is a PAGE_GUARD page (no map-entry limit to budget). */
static int gort__os_guard(char *page, size_t len, int mode) {
    DWORD old;
    if (mode == GORT__GUARD_MADV) return -EINVAL;
    if (VirtualProtect(page, len, PAGE_READWRITE | PAGE_GUARD, &old)) return 0;
    /* A page only reserved (not committed) faults at every touch already:
       a segment's bottom page (gort__os_stack_ready never commits it).
       (VirtualQuery would say so first, at a cost under Wine.) */
    return GetLastError() == ERROR_INVALID_ADDRESS ? 0 : -ENOMEM;
}
static int gort__os_guard_faults(char *p) {
    MEMORY_BASIC_INFORMATION mi;
    if (VirtualQuery(p, &mi, sizeof mi) != sizeof mi) return -1;
    return (mi.Protect & PAGE_GUARD) != 0;
}
static int gort__os_madvise_vec(struct iovec *v, int n, int advice) { (void)v; (void)n; (void)advice; return -1; }
/* Windows has no limit on how many protections a reservation holds, but
   Wine makes each VirtualProtect an mprotect of the host's mapping: two
   of Linux's vm.max_map_count entries per guard, and Wine itself fails
   (threads cannot start) once they are gone. Under Wine (ntdll exports
   wine_get_version) the host's limit is read through Wine's Z: drive
   (the host's root), so the guard budget of >>stack holds. */
static int gort__os_wine(void) {
    HMODULE nt = GetModuleHandleA("ntdll.dll");
    return nt && GetProcAddress(nt, "wine_get_version") != NULL;
}
/* (With ReadFile: MinGW's fscanf allocates, and wrote through the NULL
   it got when malloc failed: test_faults.) */
static long gort__os_map_max(void) {
    long v = LONG_MAX / 4;   /* no such limit */
    char buf[32];
    DWORD n = 0;
    HANDLE h;
    if (!gort__os_wine()) return v;
    h = CreateFileA("Z:\\proc\\sys\\vm\\max_map_count", GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) return v;
    v = 65530;   /* unreadable: Linux's default */
    if (ReadFile(h, buf, sizeof buf - 1, &n, NULL) && n > 0) {
        buf[n] = 0;
        v = strtol(buf, NULL, 10);
        if (v <= 0) v = 65530;
    }
    CloseHandle(h);
    return v;
}
/* The host's count cannot be read from inside Wine (its /proc/self is the
   wineserver's): Wine's own mappings are taken to be 4000 (3,100 measured
   for a test program under Wine 8); gort__slot_setup copes when that is
   short. */
static long gort__os_map_count(void) { return gort__os_wine() ? 4000 : 0; }

/* Stack compaction is Linux-only (it needs guards that survive a
   decommit and a way to fill a page atomically): gort__stack_init turns
   it off here, so these are never reached. */
static int gort__os_compact_probe(size_t page) { (void)page; return 0; }
static int gort__os_uffd_register(char *b, size_t len) { (void)b; (void)len; return -1; }
static int gort__os_unguard_fill(char *lo, char *hi, char *at, const char *from, int probe, char *stage) {
    (void)lo; (void)hi; (void)at; (void)from; (void)probe; (void)stage;
    GORT_ASSERT(!"stack compaction on Windows");
    return -1;
}
static int gort__os_copy_guard(char *lo, char *hi, char *at, char *to, int probe) {
    (void)lo; (void)hi; (void)at; (void)to; (void)probe;
    GORT_ASSERT(!"stack compaction on Windows");
    return -1;
}

/* CPUs this process may run on (its affinity mask; one processor group). */
static int gort__os_ncpu(void) {
    DWORD_PTR pm = 0, sm = 0;
    int n = 0;
    if (GetProcessAffinityMask(GetCurrentProcess(), &pm, &sm)) n = __builtin_popcountll((unsigned long long)pm);
    if (n <= 0) {
        SYSTEM_INFO si;
        GetSystemInfo(&si);
        n = (int)si.dwNumberOfProcessors;
    }
    return n > 0 ? n : 1;
}
/* The calling thread, as a handle other threads may pass to
   GetThreadTimes (the pseudo-handle of GetCurrentThread would name the
   caller). Kept for the thread's life: the M's. */
static gort__os_cpuclock gort__os_thread_clock(void) {
    HANDLE h = NULL;
    if (!DuplicateHandle(GetCurrentProcess(), GetCurrentThread(), GetCurrentProcess(), &h,
                         THREAD_QUERY_LIMITED_INFORMATION, FALSE, 0))
        h = NULL;
    return h;
}
/* Its CPU time so far, in nanoseconds (user + kernel); 0 if unknown. */
static int64_t gort__os_thread_cpu_ns(gort__os_cpuclock c) {
    FILETIME cr, ex, k, u;
    if (!c || !GetThreadTimes(c, &cr, &ex, &k, &u)) return 0;
    return ((int64_t)(((uint64_t)k.dwHighDateTime << 32 | k.dwLowDateTime) +
                      ((uint64_t)u.dwHighDateTime << 32 | u.dwLowDateTime))) * 100;
}
static long gort__os_thread_id(void) { return (long)GetCurrentThreadId(); }
/* Cannot tell cheaply: sysmon treats the thread as running. */
static int gort__os_thread_asleep(long tid, int *fd) { (void)tid; (void)fd; return -1; }
static int gort__os_shadow_stack(void) { return 0; }   /* CET shadow stacks are opt-in per binary (/CETCOMPAT) */

/* Threads: started with _beginthreadex (the C runtime's per-thread state
   is set up, as CreateThread would not on old CRTs). 0 or -errno. */
/* Threads. _beginthreadex sets up the C runtime's per-thread state;
   fn(arg) runs through a small trampoline for the calling convention.
   0, or a positive errno (as pthread_create). The handle in *t is the
   caller's: join, detach or forget it. */
struct gort__os_tramp { void *(*fn)(void *); void *arg; };
static unsigned __stdcall gort__os_thread_main(void *a) {
    struct gort__os_tramp t = *(struct gort__os_tramp *)a;
    free(a);
    t.fn(t.arg);
    return 0;
}
static int gort__os_thread_start(gort__os_thread *t, void *(*fn)(void *), void *arg) {
    struct gort__os_tramp *tr = (struct gort__os_tramp *)malloc(sizeof *tr);
    uintptr_t h;
    if (!tr) return ENOMEM;
    tr->fn = fn; tr->arg = arg;
    h = _beginthreadex(NULL, 256 * 1024, gort__os_thread_main, tr, STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
    if (!h) { free(tr); return EAGAIN; }
    *t = (HANDLE)h;
    return 0;
}
/* A handle to the calling thread that another thread can wait on. */
static gort__os_thread gort__os_thread_self(void) {
    HANDLE h = NULL;
    if (!DuplicateHandle(GetCurrentProcess(), GetCurrentThread(), GetCurrentProcess(), &h, 0, FALSE,
                         DUPLICATE_SAME_ACCESS))
        h = NULL;
    return h;
}
static void gort__os_thread_join(gort__os_thread t) { WaitForSingleObject(t, INFINITE); CloseHandle(t); }
static void gort__os_thread_detach(gort__os_thread t) { CloseHandle(t); }
static void gort__os_thread_forget(gort__os_thread t) { CloseHandle(t); }
static void gort__os_yield(void) { SwitchToThread(); }
static size_t gort__os_page_size(void) {
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwPageSize;
}
static void gort__os_sleep_ns(int64_t ns) { Sleep((DWORD)((ns + 999999) / 1000000)); }
static void gort__os_stack_bounds(char **lo, char **hi) {
    ULONG_PTR l = 0, h = 0;
    GetCurrentThreadStackLimits(&l, &h);
    if (h > l) { *lo = (char *)l; *hi = (char *)h; }
}
/* A fiber-local slot's callback runs when the thread exits. */
static DWORD gort__os_exit_slot = FLS_OUT_OF_INDEXES;
static uint32_t gort__os_exit_once;   /* atomic: 0, 1 being made, 2 made */
static void (*gort__os_exit_fn)(void *);
static VOID NTAPI gort__os_exit_cb(PVOID p) { if (p) gort__os_exit_fn(p); }
static void gort__os_at_thread_exit(void (*dtor)(void *), void *p) {
    if (__atomic_load_n(&gort__os_exit_once, __ATOMIC_ACQUIRE) != 2) {
        if (gort__cas_u32(&gort__os_exit_once, 0, 1)) {
            gort__os_exit_fn = dtor;
            gort__os_exit_slot = FlsAlloc(gort__os_exit_cb);
            __atomic_store_n(&gort__os_exit_once, 2, __ATOMIC_RELEASE);
        }
        while (__atomic_load_n(&gort__os_exit_once, __ATOMIC_ACQUIRE) != 2) SwitchToThread();
    }
    if (gort__os_exit_slot != FLS_OUT_OF_INDEXES) FlsSetValue(gort__os_exit_slot, p);
}

/* The overflow handler: a vectored exception handler, first in line. It
   sees every exception of every thread; the handler passes each one it
   does not claim to the next handler (the program's own, then SEH). */
typedef LONG (CALLBACK *gort__os_fault_fn)(EXCEPTION_POINTERS *);
static uint32_t gort__os_fault_installed;
static void gort__os_fault_install(gort__os_fault_fn h) {
    if (!gort__cas_u32(&gort__os_fault_installed, 0, 1)) return;
    AddVectoredExceptionHandler(1, h);
}

/* Sockets. The API's int fd holds a SOCKET: Windows keeps handle values
   in 32 bits (for 32-bit interoperation), and gort__os_sock checks that a
   socket from accept fits a non-negative int. A value that names a socket
   is taken as the socket, any other as a C runtime descriptor (gort_read
   and gort_write). Winsock errors become errno values. No SIGPIPE here. */
#define GORT__OS_NOSIGNAL 0
static SOCKET gort__os_sock(int fd) { return (SOCKET)(uintptr_t)(unsigned)fd; }
static int gort__os_sockerr(int w) {
    switch (w) {
    case WSAEWOULDBLOCK: return EAGAIN;
    case WSAEINTR: return EINTR;
    case WSAEBADF: return EBADF;
    case WSAEACCES: return EACCES;
    case WSAEFAULT: return EFAULT;
    case WSAEINVAL: return EINVAL;
    case WSAEMFILE: return EMFILE;
    case WSAEINPROGRESS: return EINPROGRESS;
    case WSAEALREADY: return EALREADY;
    case WSAENOTSOCK: return ENOTSOCK;
    case WSAEDESTADDRREQ: return EDESTADDRREQ;
    case WSAEMSGSIZE: return EMSGSIZE;
    case WSAEPROTOTYPE: return EPROTOTYPE;
    case WSAENOPROTOOPT: return ENOPROTOOPT;
    case WSAEPROTONOSUPPORT: return EPROTONOSUPPORT;
    case WSAEOPNOTSUPP: return EOPNOTSUPP;
    case WSAEAFNOSUPPORT: return EAFNOSUPPORT;
    case WSAEADDRINUSE: return EADDRINUSE;
    case WSAEADDRNOTAVAIL: return EADDRNOTAVAIL;
    case WSAENETDOWN: return ENETDOWN;
    case WSAENETUNREACH: return ENETUNREACH;
    case WSAENETRESET: return ENETRESET;
    case WSAECONNABORTED: return ECONNABORTED;
    case WSAECONNRESET: return ECONNRESET;
    case WSAENOBUFS: return ENOBUFS;
    case WSAEISCONN: return EISCONN;
    case WSAENOTCONN: return ENOTCONN;
    case WSAESHUTDOWN: return EPIPE;
    case WSAETIMEDOUT: return ETIMEDOUT;
    case WSAECONNREFUSED: return ECONNREFUSED;
    case WSAEHOSTUNREACH: return EHOSTUNREACH;
    case WSANOTINITIALISED: return ENOTSOCK;   /* no Winsock, so no socket */
    default: return EIO;
    }
}
static int gort__os_wsaerr(void) { return -gort__os_sockerr(WSAGetLastError()); }
/* gort's own sockets (each poller's break socket) are never the
   program's fd: their handle values can be the number of one of its C
   runtime descriptors (Wine hands out small ones: a pipe's fd 56 was
   taken for the break socket 56, and gort_write sent its byte there). */
#define GORT__OS_OWN_MAX 64
static uintptr_t gort__os_own[GORT__OS_OWN_MAX];   /* atomic slots: a SOCKET, 0 free */
/* 0, or -EMFILE with every slot taken (a break socket per runtime: two
   at most at once, a stopped one's and the next's): that poller is
   then not made, rather than have a socket of gort's taken for an fd. */
static int gort__os_own_add(SOCKET s) {
    int i;
    for (i = 0; i < GORT__OS_OWN_MAX; i++) {
        uintptr_t z = 0;
        if (__atomic_compare_exchange_n(&gort__os_own[i], &z, (uintptr_t)s, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            return 0;
    }
    return -EMFILE;
}
static void gort__os_own_del(SOCKET s) {
    int i;
    for (i = 0; i < GORT__OS_OWN_MAX; i++)
        if (__atomic_load_n(&gort__os_own[i], __ATOMIC_ACQUIRE) == (uintptr_t)s)
            __atomic_store_n(&gort__os_own[i], (uintptr_t)0, __ATOMIC_RELEASE);
}
static int gort__os_is_socket(int fd) {
    int t = 0, l = (int)sizeof t, i;
    if (fd < 0) return 0;
    for (i = 0; i < GORT__OS_OWN_MAX; i++)
        if (__atomic_load_n(&gort__os_own[i], __ATOMIC_ACQUIRE) == (uintptr_t)(unsigned)fd) return 0;
    return getsockopt(gort__os_sock(fd), SOL_SOCKET, SO_TYPE, (char *)&t, &l) == 0;
}
/* Non-blocking, for a socket (Windows cannot say whether one is: it is
   set at registration); nothing for anything else. 0 or -errno. */
static int gort__os_sock_nonblock(int fd) {
    u_long one = 1;
    if (!gort__os_is_socket(fd)) return 0;
    return ioctlsocket(gort__os_sock(fd), FIONBIO, &one) == 0 ? 0 : gort__os_wsaerr();
}
/* A C runtime descriptor (pipe, file, console): what is neither that
   nor a socket is no descriptor at all (-EBADF where an fd is asked
   for). msvcrt's _get_osfhandle answers -1 for any number it has not
   handed out. */
static int gort__os_crt_fd(int fd) { return fd >= 0 && _get_osfhandle(fd) != -1; }
/* WSAPoll: poll(2) for sockets. It fails the whole call for what is not
   a socket: -ENOTSUP for a C runtime descriptor (it has no readiness on
   Windows), -EBADF for no descriptor at all. */
static int gort__os_poll(struct pollfd *p, int n, int tmo) {
    int r = WSAPoll(p, (ULONG)n, tmo), i;
    if (r != SOCKET_ERROR) return r;
    r = gort__os_wsaerr();
    if (r == -ENOTSOCK)
        for (i = 0; i < n; i++)
            if (!gort__os_is_socket((int)p[i].fd)) return gort__os_crt_fd((int)p[i].fd) ? -ENOTSUP : -EBADF;
    return r;
}

/* ---------------------------------------------------------------- >>poll-windows
   The poller's Windows form. Sockets are watched with WSAPoll over the
   registered set (O(n) per wait, where epoll is O(ready); a poller over
   \Device\Afd with a completion port, as wepoll does, would be O(ready),
   but under Wine, where gort is tested, one AFD poll and its completion
   cost 170 us against WSAPoll's 61 us: README, Platforms), edge-triggered
   by hand: a direction reported ready is
   left out of the next waits until the socket is re-armed, which >>io
   does before every park (gort__io_park: gort__pd_arm with recheck), so
   a readable socket nobody reads does not spin the poller, and one that
   becomes readable again after an EAGAIN is reported again. A break is a
   byte sent to a loopback UDP socket connected to itself, which every
   WSAPoll also watches; with no socket registered the wait is on an
   auto-reset event and a high-resolution waitable timer (Windows 10
   1803+; a plain one before), so a 50 us sleep is not a 15.6 ms one.
   With sockets registered, WSAPoll's timeout is in milliseconds (rounded
   up). The set is guarded by an SRW lock; a wait polls a copy.
   Two threads may poll at once (a spinning M looks while another sleeps
   in the poller), and WSAPoll is level-triggered: both see the same
   readiness. So a result counts only for the directions still watched
   and only if the socket was not armed again since the copy was made
   (its arm count): else one edge would be reported twice, and the
   second report, coming after the data was read, would say a socket is
   readable when it is not (a select's WAIT_IN case chosen with nothing
   to read). A dropped result is not lost: the arm that made it stale
   broke the wait, and the next one polls a fresh copy. */
/* A registered socket (all fields under the poller's lk): its data for
   the events, the directions still watched (GORT__POLL_IN/OUT; a
   reported one is dropped until the next arm) and how often it was
   armed. */
typedef struct { SOCKET s; uint64_t data; uint32_t want, arms; } gort__pollsock;
typedef struct {
    HANDLE   ev, timer;
    uint32_t armed;              /* atomic: a break was set, not yet taken */
    SRWLOCK  lk;                 /* guards socks, nsocks, cap */
    gort__pollsock *socks;
    int      nsocks, cap;
    SOCKET   brk;                /* the break socket, or INVALID_SOCKET */
    int      wsa;                /* WSAStartup succeeded: WSACleanup at the end */
} gort__poller;
typedef struct { uint64_t data; uint32_t events; } gort__pollev;
enum { GORT__POLL_IN = 1, GORT__POLL_OUT = 2 };
#define GORT__POLL_BATCH 128
#ifndef CREATE_WAITABLE_TIMER_HIGH_RESOLUTION
#define CREATE_WAITABLE_TIMER_HIGH_RESOLUTION 0x2
#endif

static SOCKET gort__poller_brk_open(void) {
    struct sockaddr_in a;
    int len = (int)sizeof a;
    u_long one = 1;
    SOCKET s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    if (s == INVALID_SOCKET) return s;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, len) != 0 || getsockname(s, (struct sockaddr *)&a, &len) != 0 ||
        connect(s, (struct sockaddr *)&a, len) != 0 || ioctlsocket(s, FIONBIO, &one) != 0) {
        int e = WSAGetLastError();
        closesocket(s);
        WSASetLastError(e);   /* for gort__poller_init's error */
        return INVALID_SOCKET;
    }
    if (gort__os_own_add(s) != 0) {
        closesocket(s);
        WSASetLastError(WSAEMFILE);
        return INVALID_SOCKET;
    }
    return s;
}

static int gort__poller_init(gort__poller *pl) {
    WSADATA wd;
    memset(pl, 0, sizeof *pl);
    InitializeSRWLock(&pl->lk);
    pl->brk = INVALID_SOCKET;
    pl->ev = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (!pl->ev) return -ENOMEM;
    pl->timer = CreateWaitableTimerExW(NULL, NULL, CREATE_WAITABLE_TIMER_HIGH_RESOLUTION, TIMER_ALL_ACCESS);
    if (!pl->timer) pl->timer = CreateWaitableTimerExW(NULL, NULL, 0, TIMER_ALL_ACCESS);
    if (!pl->timer) { CloseHandle(pl->ev); return -ENOMEM; }
    /* Winsock for the break socket (and the program's own sockets: a
       program that uses none pays for a startup only). Without Winsock
       the program has no sockets either: none can be registered, and
       nothing else changes. Without the break socket, a socket's wait
       could not be broken: startup fails, as on Linux without the
       eventfd. */
    if (WSAStartup(MAKEWORD(2, 2), &wd) == 0) {
        pl->wsa = 1;
        pl->brk = gort__poller_brk_open();
        if (pl->brk == INVALID_SOCKET) {
            int e = gort__os_wsaerr();
            WSACleanup();
            CloseHandle(pl->ev);
            CloseHandle(pl->timer);
            return e < 0 ? e : -ENOMEM;
        }
    }
    return 0;
}
static void gort__poller_free(gort__poller *pl) {
    if (pl->brk != INVALID_SOCKET) {
        gort__os_own_del(pl->brk);
        closesocket(pl->brk);
    }
    if (pl->wsa) WSACleanup();
    free(pl->socks);
    CloseHandle(pl->ev);
    CloseHandle(pl->timer);
}
static int gort__poller_find(gort__poller *pl, SOCKET s) {
    int i;
    for (i = 0; i < pl->nsocks; i++)
        if (pl->socks[i].s == s) return i;
    return -1;
}
static void gort__poller_break(gort__poller *pl);
/* add: a new registration (-EEXIST if there is one; -EPERM for what is
   not a socket: always ready, as a regular file on Linux); !add: re-arm
   both directions (-ENOENT if the socket is not registered: closed and
   the number reused). Both break a wait under way, which polls a copy. */
static int gort__poller_arm(gort__poller *pl, int fd, uint64_t data, int add) {
    SOCKET s = gort__os_sock(fd);
    int i, r = 0;
    if (add && (pl->brk == INVALID_SOCKET || !gort__os_is_socket(fd))) return -EPERM;
    AcquireSRWLockExclusive(&pl->lk);
    i = gort__poller_find(pl, s);
    if (add) {
        if (i >= 0) r = -EEXIST;
        else if (pl->nsocks == pl->cap) {
            int cap = pl->cap ? pl->cap * 2 : 64;
            gort__pollsock *n = (gort__pollsock *)realloc(pl->socks, (size_t)cap * sizeof *n);
            if (!n) r = -ENOMEM;
            else { pl->socks = n; pl->cap = cap; }
        }
        if (r == 0) i = pl->nsocks++;
    } else if (i < 0) {
        r = -ENOENT;
    }
    if (r == 0) {
        pl->socks[i].s = s;
        pl->socks[i].data = data;
        pl->socks[i].want = GORT__POLL_IN | GORT__POLL_OUT;
        pl->socks[i].arms = add ? 0 : pl->socks[i].arms + 1;
    }
    ReleaseSRWLockExclusive(&pl->lk);
    if (r == 0) gort__poller_break(pl);
    return r;
}
static void gort__poller_disarm(gort__poller *pl, int fd) {
    int i;
    AcquireSRWLockExclusive(&pl->lk);
    i = gort__poller_find(pl, gort__os_sock(fd));
    if (i >= 0) pl->socks[i] = pl->socks[--pl->nsocks];
    ReleaseSRWLockExclusive(&pl->lk);
}
static void gort__poller_break(gort__poller *pl) {
    if (gort__cas_u32(&pl->armed, 0, 1)) {
        SetEvent(pl->ev);
        if (pl->brk != INVALID_SOCKET) send(pl->brk, "b", 1, 0);
    }
}
static void gort__poller_take_break(gort__poller *pl) {
    char b[16];
    if (pl->brk != INVALID_SOCKET)
        while (recv(pl->brk, b, sizeof b, 0) > 0) {}
    ResetEvent(pl->ev);
    __atomic_store_n(&pl->armed, 0, __ATOMIC_SEQ_CST);
}
/* The wait without sockets: the event and the timer. */
static void gort__poller_wait_timer(gort__poller *pl, int64_t deadline) {
    DWORD r;
    if (deadline == INT64_MAX) {
        r = WaitForSingleObject(pl->ev, INFINITE);
    } else {
        int64_t d = deadline - gort__nanotime();
        HANDLE hs[2];
        LARGE_INTEGER due;
        if (d <= 0) {
            r = WaitForSingleObject(pl->ev, 0);
        } else {
            due.QuadPart = -(d + 99) / 100;   /* relative, in 100 ns units, rounded up */
            if (!SetWaitableTimer(pl->timer, &due, 0, NULL, NULL, FALSE)) {
                r = WaitForSingleObject(pl->ev, (DWORD)((d + 999999) / 1000000));
            } else {
                hs[0] = pl->ev; hs[1] = pl->timer;
                r = WaitForMultipleObjects(2, hs, FALSE, INFINITE);
                if (r != WAIT_OBJECT_0 + 1) CancelWaitableTimer(pl->timer);
            }
        }
    }
    if (r == WAIT_OBJECT_0) gort__poller_take_break(pl);
}
/* As on Linux: deadline INT64_MAX waits for a break or an event, a past
   one does not sleep, 0 only looks (and leaves a break for a thread that
   sleeps). Fills up to max events; a socket's reported directions stop
   being watched until it is re-armed (the header above); a socket closed
   behind gort's back (POLLNVAL) is reported both ways and dropped. */
static int gort__poller_wait(gort__poller *pl, int64_t deadline, gort__pollev *out, int max) {
    struct pollfd small[65], *pf = small;
    uint64_t dsmall[65], *data = dsmall;
    uint32_t asmall[65], *arms = asmall;
    int n = 0, i, k = 0, r, tmo, cap;
    if (max > GORT__POLL_BATCH) max = GORT__POLL_BATCH;
    AcquireSRWLockShared(&pl->lk);
    cap = pl->nsocks + 1;
    if (pl->nsocks > 0 && cap > 65) {
        pf = (struct pollfd *)malloc((size_t)cap * sizeof *pf);
        data = (uint64_t *)malloc((size_t)cap * sizeof *data);
        arms = (uint32_t *)malloc((size_t)cap * sizeof *arms);
        if (!pf || !data || !arms) {   /* out of memory: this wait watches the first 64 */
            free(pf); free(data); free(arms);
            pf = small; data = dsmall; arms = asmall; cap = 65;
        }
    }
    if (pl->nsocks > 0) {
        pf[n].fd = pl->brk; pf[n].events = POLLIN; pf[n].revents = 0; data[n] = 0; arms[n] = 0; n++;
        for (i = 0; i < pl->nsocks && n < cap; i++) {
            uint32_t w = pl->socks[i].want;
            if (!w) continue;
            pf[n].fd = pl->socks[i].s;
            pf[n].events = (short)((w & GORT__POLL_IN ? POLLIN : 0) | (w & GORT__POLL_OUT ? POLLOUT : 0));
            pf[n].revents = 0;
            data[n] = pl->socks[i].data;
            arms[n] = pl->socks[i].arms;
            n++;
        }
    }
    ReleaseSRWLockShared(&pl->lk);
    if (n == 0) {
        if (deadline != 0) gort__poller_wait_timer(pl, deadline);
        return 0;
    }
    if (deadline == INT64_MAX) tmo = -1;
    else if (deadline == 0) tmo = 0;
    else {
        int64_t d = deadline - gort__nanotime();
        tmo = d <= 0 ? 0 : d >= (int64_t)INT_MAX * 1000000 ? INT_MAX : (int)((d + 999999) / 1000000);
    }
    r = WSAPoll(pf, (ULONG)n, tmo);
    if (r > 0) {
        if (pf[0].revents && deadline != 0) gort__poller_take_break(pl);
        AcquireSRWLockExclusive(&pl->lk);
        for (i = 1; i < n && k < max; i++) {
            short e = pf[i].revents;
            uint32_t got = 0;
            int j;
            if (!e) continue;
            if (e & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) got |= GORT__POLL_IN;
            if (e & (POLLOUT | POLLHUP | POLLERR | POLLNVAL)) got |= GORT__POLL_OUT;
            j = gort__poller_find(pl, pf[i].fd);
            if (j < 0 || pl->socks[j].data != data[i]) continue;   /* disarmed or re-registered meanwhile */
            if (pl->socks[j].arms != arms[i]) continue;   /* armed again since the copy: stale (above) */
            if (e & POLLNVAL) {
                pl->socks[j] = pl->socks[--pl->nsocks];
            } else {
                got &= pl->socks[j].want;   /* not reported already by another wait */
                if (!got) continue;
                pl->socks[j].want &= ~got;
            }
            out[k].data = data[i];
            out[k].events = got;
            k++;
        }
        ReleaseSRWLockExclusive(&pl->lk);
    }
    if (pf != small) { free(pf); free(data); free(arms); }
    return k;
}
#endif   /* GORT__OS_WIN */

/* ---------------------------------------------------------------- >>arch
   The context is one word: the saved stack pointer. gort__ctx_swap stores the
   callee-saved state in a frame on the current stack, stores sp in *save_sp,
   loads load_sp and restores the state from the frame found there. A new
   goroutine's stack gets a frame of the same shape (gort__ctx_init) whose
   return address is gort__ctx_entry.

   The frame is described twice: as struct gort__ctx_frame for C, and as the
   GORT__CTX_* offsets, which are pasted into the assembly text with
   GORT__XSTR. Every frame offset in the assembly (CFI included) is one of
   these constants, every constant is used there, and each is checked below
   against offsetof in the struct, so the two cannot drift apart.

   Unwinding (gdb, libgcc's _Unwind_Backtrace, perf). The CFI of
   gort__ctx_swap gives the canonical frame address and the slot of every
   register it saves, at every instruction, and is true on both stacks (the
   frame has the same shape on each), so a debugger stopped anywhere in a
   switch shows the context whose frame sp points at. A goroutine's stack
   ends in gort__ctx_entry, whose CFI marks the return address undefined:
   the unwinder's sign of the outermost frame, so `bt` ends there instead of
   reading whatever lies above the stack. gort__ctx_entry is preceded by one
   instruction (a nop, named gort__ctx_unstarted) inside its own CFI range:
   a goroutine that has not run yet has ctx_entry itself as its return
   address, and unwinders look up the code at return address - 1.
   tests/check_gdb.sh checks all of this under gdb, one instruction at a
   time through a switch, on both architectures.

   Shadow stacks (x86-64 CET, aarch64 GCS). A switch returns on another
   stack than it was called on, which a hardware shadow stack rejects (the
   process is killed). gort does not switch shadow stacks; instead
   gort_run/gort_start refuse with -ENOTSUP and a line on stderr when one is
   enabled for the calling thread (gort__ctx_check). Branch tracking (IBT,
   BTI) needs nothing: gort__ctx_entry is reached only by ret, which it
   does not check, and gort__ctx_swap only by direct calls (it starts with
   endbr64 anyway under -fcf-protection). */
#define GORT__STR(x)  #x
#define GORT__XSTR(x) GORT__STR(x)    /* expand x first, then make it a string */
/* A compile-time check that is valid C99 and C++: a negative array size. */
#define GORT__CTX_ASSERT(name, cond) typedef char gort__ctx_assert_##name[(cond) ? 1 : -1]
/* field f of the frame is at offset off, as the asm says */
#define GORT__CTX_AT(f, off) GORT__CTX_ASSERT(f, offsetof(gort__ctx_frame, f) == (off))
#if defined(GORT__ARCH_X64) && defined(GORT__OS_WIN)
/* Win64: rbx, rbp, rdi, rsi, r12-r15 and xmm6-xmm15 are callee-saved, and
   the Thread Information Block's stack fields go with the stack: the
   system's stack checks (SEH dispatch and unwinding, C++ exceptions,
   __chkstk) compare against them. xmm slots first: the frame's sp is
   16-byte aligned, as movaps needs. */
#define GORT__CTX_XMM6   0    /* xmm6..xmm15: 16 bytes each, to 160 */
#define GORT__CTX_MXCSR  160
#define GORT__CTX_FPCW   164
#define GORT__CTX_TBASE  168  /* TIB StackBase         %gs:0x08 */
#define GORT__CTX_TLIMIT 176  /* TIB StackLimit        %gs:0x10 */
#define GORT__CTX_TDEALL 184  /* TEB DeallocationStack %gs:0x1478 */
#define GORT__CTX_R15    192
#define GORT__CTX_R14    200
#define GORT__CTX_R13    208
#define GORT__CTX_R12    216
#define GORT__CTX_RSI    224
#define GORT__CTX_RDI    232
#define GORT__CTX_RBX    240
#define GORT__CTX_RBP    248
#define GORT__CTX_RET    264  /* (256: 8 unused bytes, for alignment) */
#define GORT__CTX_SIZE   272
typedef struct gort__ctx_frame {
    uint64_t xmm[20];
    uint32_t mxcsr;
    uint16_t fpcw, unused;
    uint64_t tbase, tlimit, tdeall;
    uint64_t r15, r14, r13, r12, rsi, rdi, rbx, rbp, pad;
    uint64_t ret;
} gort__ctx_frame;
GORT__CTX_AT(xmm, GORT__CTX_XMM6);
GORT__CTX_AT(mxcsr, GORT__CTX_MXCSR);
GORT__CTX_AT(fpcw, GORT__CTX_FPCW);
GORT__CTX_AT(tbase, GORT__CTX_TBASE);
GORT__CTX_AT(tlimit, GORT__CTX_TLIMIT);
GORT__CTX_AT(tdeall, GORT__CTX_TDEALL);
GORT__CTX_AT(r15, GORT__CTX_R15);
GORT__CTX_AT(r14, GORT__CTX_R14);
GORT__CTX_AT(r13, GORT__CTX_R13);
GORT__CTX_AT(r12, GORT__CTX_R12);
GORT__CTX_AT(rsi, GORT__CTX_RSI);
GORT__CTX_AT(rdi, GORT__CTX_RDI);
GORT__CTX_AT(rbx, GORT__CTX_RBX);
GORT__CTX_AT(rbp, GORT__CTX_RBP);
GORT__CTX_AT(ret, GORT__CTX_RET);
#elif defined(GORT__ARCH_X64)
#define GORT__CTX_MXCSR 0     /* SSE control and status (4 bytes) */
#define GORT__CTX_FPCW  4     /* x87 control word (2 bytes), then 2 unused */
#define GORT__CTX_R15   8
#define GORT__CTX_R14   16
#define GORT__CTX_R13   24
#define GORT__CTX_R12   32
#define GORT__CTX_RBX   40
#define GORT__CTX_RBP   48
#define GORT__CTX_RET   56    /* return address, pushed by the caller's call */
#define GORT__CTX_SIZE  64    /* saved sp to the caller's sp after the ret */
typedef struct gort__ctx_frame {
    uint32_t mxcsr;
    uint16_t fpcw, unused;
    uint64_t r15, r14, r13, r12, rbx, rbp;
    uint64_t ret;
} gort__ctx_frame;
GORT__CTX_AT(mxcsr, GORT__CTX_MXCSR);
GORT__CTX_AT(fpcw, GORT__CTX_FPCW);
GORT__CTX_AT(r15, GORT__CTX_R15);
GORT__CTX_AT(r14, GORT__CTX_R14);
GORT__CTX_AT(r13, GORT__CTX_R13);
GORT__CTX_AT(r12, GORT__CTX_R12);
GORT__CTX_AT(rbx, GORT__CTX_RBX);
GORT__CTX_AT(rbp, GORT__CTX_RBP);
GORT__CTX_AT(ret, GORT__CTX_RET);
#else
#define GORT__CTX_X19   0x00  /* stored in pairs (stp): each odd register */
#define GORT__CTX_X20   0x08  /* sits 8 bytes above the even one before it */
#define GORT__CTX_X21   0x10
#define GORT__CTX_X22   0x18
#define GORT__CTX_X23   0x20
#define GORT__CTX_X24   0x28
#define GORT__CTX_X25   0x30
#define GORT__CTX_X26   0x38
#define GORT__CTX_X27   0x40
#define GORT__CTX_X28   0x48
#define GORT__CTX_X29   0x50  /* frame pointer */
#define GORT__CTX_X30   0x58  /* link register: where the ret goes */
#define GORT__CTX_D8    0x60
#define GORT__CTX_D9    0x68
#define GORT__CTX_D10   0x70
#define GORT__CTX_D11   0x78
#define GORT__CTX_D12   0x80
#define GORT__CTX_D13   0x88
#define GORT__CTX_D14   0x90
#define GORT__CTX_D15   0x98
#define GORT__CTX_FPCR  0xa0  /* then 8 unused bytes: sp stays 16-aligned */
#define GORT__CTX_SIZE  0xb0  /* saved sp to the caller's sp */
typedef struct gort__ctx_frame {
    uint64_t x19, x20, x21, x22, x23, x24, x25, x26, x27, x28, x29, x30;
    uint64_t d8, d9, d10, d11, d12, d13, d14, d15;   /* bit patterns */
    uint64_t fpcr, unused;
} gort__ctx_frame;
GORT__CTX_AT(x19, GORT__CTX_X19);
GORT__CTX_AT(x20, GORT__CTX_X20);
GORT__CTX_AT(x21, GORT__CTX_X21);
GORT__CTX_AT(x22, GORT__CTX_X22);
GORT__CTX_AT(x23, GORT__CTX_X23);
GORT__CTX_AT(x24, GORT__CTX_X24);
GORT__CTX_AT(x25, GORT__CTX_X25);
GORT__CTX_AT(x26, GORT__CTX_X26);
GORT__CTX_AT(x27, GORT__CTX_X27);
GORT__CTX_AT(x28, GORT__CTX_X28);
GORT__CTX_AT(x29, GORT__CTX_X29);
GORT__CTX_AT(x30, GORT__CTX_X30);
GORT__CTX_AT(d8, GORT__CTX_D8);
GORT__CTX_AT(d9, GORT__CTX_D9);
GORT__CTX_AT(d10, GORT__CTX_D10);
GORT__CTX_AT(d11, GORT__CTX_D11);
GORT__CTX_AT(d12, GORT__CTX_D12);
GORT__CTX_AT(d13, GORT__CTX_D13);
GORT__CTX_AT(d14, GORT__CTX_D14);
GORT__CTX_AT(d15, GORT__CTX_D15);
GORT__CTX_AT(fpcr, GORT__CTX_FPCR);
#endif
GORT__CTX_ASSERT(size, sizeof(gort__ctx_frame) == GORT__CTX_SIZE);
GORT__CTX_ASSERT(size_16, GORT__CTX_SIZE % 16 == 0);
GORT__CTX_ASSERT(pointer_is_word, sizeof(void *) == 8 && sizeof(void (*)(void)) == 8);

/* Is a hardware shadow stack on for this thread (and so, inherited, for
   the threads gort makes)? Then the first switch would kill the process:
   say how to build instead, and refuse (gort__os_shadow_stack asks). */
static int gort__ctx_check(void) {
#if defined(GORT__ARCH_X64)
    if (!gort__os_shadow_stack()) return 0;
    gort__misuse("the CET shadow stack is enabled for this process and gort's context switch does not "
                 "maintain one: build without -fcf-protection=full/return (-fcf-protection=branch is fine), "
                 "or run with GLIBC_TUNABLES=glibc.cpu.x86_shstk=off");
#else
    if (!gort__os_shadow_stack()) return 0;
    gort__misuse("the aarch64 guarded control stack (GCS) is enabled for this process and gort's context "
                 "switch does not maintain one: build without -mbranch-protection=gcs (or =standard), "
                 "or run with GLIBC_TUNABLES=glibc.cpu.aarch64_gcs=0");
#endif
    return -ENOTSUP;
}

/* ---------------------------------------------------------------- >>asm-x64
   gort__ctx_swap(void **save_sp  [rdi], void *load_sp [rsi])

   The frame, on the stack being left and (same shape) on the one entered;
   offsets from the saved sp, stack grows down:
       +56  RET    return address (pushed by the caller's call)   CFA - 8
       +48  RBP    rbp                                            CFA - 16
       +40  RBX    rbx
       +32  R12    r12
       +24  R13    r13
       +16  R14    r14
       + 8  R15    r15                                            CFA - 56
       + 4  FPCW   x87 control word (2 bytes) | unused (2 bytes)
       + 0  MXCSR  mxcsr (4 bytes)                  <- sp, stored in *save_sp
   CFA (the caller's sp before its call) = sp + SIZE once the frame is made.
   System V makes rbx, rbp, r12-r15, rsp, the MXCSR control bits and the x87
   control word callee-saved; everything else is the caller's problem, which
   is what makes a switch this small. The CFI gives a slot for each of the
   six integer registers; the two control words have no DWARF slot that
   unwinders restore (they are state, not values a frame shows).

   gort__ctx_entry: the first code a new goroutine runs (the ret of its
   first switch lands here). Its frame (gort__ctx_init) holds the G in the
   r12 slot and the C entry function in the r13 slot. rsp is 16-byte
   aligned here, so the call leaves the callee at rsp % 16 == 8, as the ABI
   requires at function entry. */
#if defined(GORT__ARCH_X64) && defined(GORT__OS_LINUX)
#if defined(__CET__)
#define GORT__ENDBR "    endbr64\n"         /* a landing pad, should IBT be on */
#else
#define GORT__ENDBR ""
#endif
#define GORT__X(off) GORT__XSTR(GORT__CTX_##off)
/* CFA-relative offset of a frame slot, for .cfi_offset */
#define GORT__XC(off) GORT__XSTR(GORT__CTX_##off) "-" GORT__XSTR(GORT__CTX_SIZE)
__asm__(
    ".text\n"
    ".globl gort__ctx_swap\n"
    ".hidden gort__ctx_swap\n"
    ".type gort__ctx_swap,@function\n"
    ".p2align 4\n"
    "gort__ctx_swap:\n"
    ".cfi_startproc\n"
    GORT__ENDBR
    "    subq $" GORT__X(RET) ", %rsp\n"           /* room for the frame below the return address */
    ".cfi_def_cfa_offset " GORT__X(SIZE) "\n"
    "    movq %rbp, " GORT__X(RBP) "(%rsp)\n"      /* the callee-saved integer registers */
    ".cfi_offset %rbp, " GORT__XC(RBP) "\n"
    "    movq %rbx, " GORT__X(RBX) "(%rsp)\n"      /* (each followed by its CFI slot) */
    ".cfi_offset %rbx, " GORT__XC(RBX) "\n"
    "    movq %r12, " GORT__X(R12) "(%rsp)\n"      /* r12-r15: the G and entry function */
    ".cfi_offset %r12, " GORT__XC(R12) "\n"
    "    movq %r13, " GORT__X(R13) "(%rsp)\n"      /* of a new context are in its r12 */
    ".cfi_offset %r13, " GORT__XC(R13) "\n"
    "    movq %r14, " GORT__X(R14) "(%rsp)\n"      /* and r13 slots */
    ".cfi_offset %r14, " GORT__XC(R14) "\n"
    "    movq %r15, " GORT__X(R15) "(%rsp)\n"      /* last slot: the frame is complete */
    ".cfi_offset %r15, " GORT__XC(R15) "\n"
    "    stmxcsr " GORT__X(MXCSR) "(%rsp)\n"       /* SSE rounding mode, exception masks */
    "    fnstcw " GORT__X(FPCW) "(%rsp)\n"         /* x87 precision and rounding control */
    "    movq %rsp, %rax\n"                        /* keep the old frame: its FP control words */
    "    movq %rsp, (%rdi)\n"                      /* *save_sp = sp: the old context is saved */
    "    movq %rsi, %rsp\n"                        /* switch stacks; the CFI holds for the new frame */
    "    movl " GORT__X(MXCSR) "(%rsp), %ecx\n"    /* ldmxcsr and fldcw stall the pipeline: */
    "    cmpl " GORT__X(MXCSR) "(%rax), %ecx\n"    /* load them only when the new context's */
    "    je 1f\n"                                  /* values differ (almost never) */
    "    ldmxcsr " GORT__X(MXCSR) "(%rsp)\n"       /* the new context's MXCSR */
    "1:  movzwl " GORT__X(FPCW) "(%rsp), %ecx\n"   /* the same for the x87 control word */
    "    cmpw " GORT__X(FPCW) "(%rax), %cx\n"      /* against the old context's */
    "    je 2f\n"                                  /* the same: skip the load */
    "    fldcw " GORT__X(FPCW) "(%rsp)\n"          /* the new context's control word */
    "2:  movq " GORT__X(R15) "(%rsp), %r15\n"      /* the new context's registers */
    "    movq " GORT__X(R14) "(%rsp), %r14\n"      /* (the CFI need not change: each */
    "    movq " GORT__X(R13) "(%rsp), %r13\n"      /* slot still holds the value, and */
    "    movq " GORT__X(R12) "(%rsp), %r12\n"      /* it is the new context's caller */
    "    movq " GORT__X(RBX) "(%rsp), %rbx\n"      /* whose registers they are) */
    "    movq " GORT__X(RBP) "(%rsp), %rbp\n"      /* last one: all restored */
    "    addq $" GORT__X(RET) ", %rsp\n"           /* drop the frame; sp at the return address */
    ".cfi_def_cfa_offset " GORT__XSTR(GORT__CTX_SIZE - GORT__CTX_RET) "\n"
    ".cfi_restore %rbp\n"                      /* the slots are below sp now: the */
    ".cfi_restore %rbx\n"                      /* registers hold the values */
    ".cfi_restore %r12\n"
    ".cfi_restore %r13\n"
    ".cfi_restore %r14\n"
    ".cfi_restore %r15\n"
    "    ret\n"                                    /* resume the new context */
    ".cfi_endproc\n"
    ".size gort__ctx_swap, .-gort__ctx_swap\n"

    ".globl gort__ctx_entry\n"
    ".hidden gort__ctx_entry\n"
    ".type gort__ctx_entry,@function\n"
    ".type gort__ctx_unstarted,@function\n"       /* (a local name for the nop, for backtraces) */
    ".p2align 4\n"
    "gort__ctx_unstarted:\n"
    ".cfi_startproc\n"
    ".cfi_undefined %rip\n"                    /* outermost frame: unwinding stops here */
    "    nop\n"                                    /* return address - 1 of an unstarted G */
    ".size gort__ctx_unstarted, .-gort__ctx_unstarted\n"
    "gort__ctx_entry:\n"                           /* (no endbr64: reached by ret only) */
    "    xorl %ebp, %ebp\n"                        /* the frame-pointer chain ends here too */
    "    movq %r12, %rdi\n"                        /* the G */
    "    callq *%r13\n"                            /* gort__g_main(g); never returns */
    "    ud2\n"                                    /* (trap if it does) */
    ".cfi_endproc\n"
    ".size gort__ctx_entry, .-gort__ctx_entry\n"
);
#undef GORT__X
#undef GORT__XC
#endif

/* ---------------------------------------------------------------- >>asm-win64
   gort__ctx_swap(void **save_sp [rcx], void *load_sp [rdx]), Win64 ABI:
   the frame of >>arch's Win64 layout, on the stack left and the one
   entered. The three TIB words are read from and written to %gs (the TEB)
   around the switch of rsp. The .seh directives describe the prologue so
   that the system's unwinder (and a debugger) can step out of the switch
   on the stack being left.
   gort__ctx_entry: rsp is 16-byte aligned; 32 bytes of shadow space for
   the callee's register arguments, then call entry(g) with g in rcx. */
#if defined(GORT__ARCH_X64) && defined(GORT__OS_WIN)
#define GORT__X(off) GORT__XSTR(GORT__CTX_##off)
#define GORT__XMMSAVE(n, k) "    movaps %xmm" #n ", " GORT__XSTR(k) "(%rsp)\n"
#define GORT__XMMLOAD(n, k) "    movaps " GORT__XSTR(k) "(%rsp), %xmm" #n "\n"
__asm__(
    ".text\n"
    ".globl gort__ctx_swap\n"
    ".def gort__ctx_swap; .scl 2; .type 32; .endef\n"
    ".p2align 4\n"
    "gort__ctx_swap:\n"
    ".seh_proc gort__ctx_swap\n"
    "    subq $" GORT__X(RET) ", %rsp\n"
    ".seh_stackalloc " GORT__X(RET) "\n"
    "    movq %rbp, " GORT__X(RBP) "(%rsp)\n"
    ".seh_savereg %rbp, " GORT__X(RBP) "\n"
    "    movq %rbx, " GORT__X(RBX) "(%rsp)\n"
    ".seh_savereg %rbx, " GORT__X(RBX) "\n"
    "    movq %rdi, " GORT__X(RDI) "(%rsp)\n"
    ".seh_savereg %rdi, " GORT__X(RDI) "\n"
    "    movq %rsi, " GORT__X(RSI) "(%rsp)\n"
    ".seh_savereg %rsi, " GORT__X(RSI) "\n"
    "    movq %r12, " GORT__X(R12) "(%rsp)\n"
    ".seh_savereg %r12, " GORT__X(R12) "\n"
    "    movq %r13, " GORT__X(R13) "(%rsp)\n"
    ".seh_savereg %r13, " GORT__X(R13) "\n"
    "    movq %r14, " GORT__X(R14) "(%rsp)\n"
    ".seh_savereg %r14, " GORT__X(R14) "\n"
    "    movq %r15, " GORT__X(R15) "(%rsp)\n"
    ".seh_savereg %r15, " GORT__X(R15) "\n"
    GORT__XMMSAVE(6, 0) GORT__XMMSAVE(7, 16) GORT__XMMSAVE(8, 32) GORT__XMMSAVE(9, 48)
    GORT__XMMSAVE(10, 64) GORT__XMMSAVE(11, 80) GORT__XMMSAVE(12, 96) GORT__XMMSAVE(13, 112)
    GORT__XMMSAVE(14, 128) GORT__XMMSAVE(15, 144)
    ".seh_endprologue\n"
    "    stmxcsr " GORT__X(MXCSR) "(%rsp)\n"
    "    fnstcw " GORT__X(FPCW) "(%rsp)\n"
    "    movq %gs:0x08, %rax\n"                    /* the TIB's stack fields */
    "    movq %rax, " GORT__X(TBASE) "(%rsp)\n"
    "    movq %gs:0x10, %rax\n"
    "    movq %rax, " GORT__X(TLIMIT) "(%rsp)\n"
    "    movq %gs:0x1478, %rax\n"
    "    movq %rax, " GORT__X(TDEALL) "(%rsp)\n"
    "    movq %rsp, %rax\n"                        /* the old frame: its FP control words */
    "    movq %rsp, (%rcx)\n"                      /* *save_sp = sp */
    "    movq %rdx, %rsp\n"                        /* switch stacks */
    "    movq " GORT__X(TBASE) "(%rsp), %rcx\n"    /* the new context's stack, for the system */
    "    movq %rcx, %gs:0x08\n"
    "    movq " GORT__X(TLIMIT) "(%rsp), %rcx\n"
    "    movq %rcx, %gs:0x10\n"
    "    movq " GORT__X(TDEALL) "(%rsp), %rcx\n"
    "    movq %rcx, %gs:0x1478\n"
    "    movl " GORT__X(MXCSR) "(%rsp), %ecx\n"
    "    cmpl " GORT__X(MXCSR) "(%rax), %ecx\n"
    "    je 1f\n"
    "    ldmxcsr " GORT__X(MXCSR) "(%rsp)\n"
    "1:  movzwl " GORT__X(FPCW) "(%rsp), %ecx\n"
    "    cmpw " GORT__X(FPCW) "(%rax), %cx\n"
    "    je 2f\n"
    "    fldcw " GORT__X(FPCW) "(%rsp)\n"
    "2:\n"
    GORT__XMMLOAD(6, 0) GORT__XMMLOAD(7, 16) GORT__XMMLOAD(8, 32) GORT__XMMLOAD(9, 48)
    GORT__XMMLOAD(10, 64) GORT__XMMLOAD(11, 80) GORT__XMMLOAD(12, 96) GORT__XMMLOAD(13, 112)
    GORT__XMMLOAD(14, 128) GORT__XMMLOAD(15, 144)
    "    movq " GORT__X(R15) "(%rsp), %r15\n"
    "    movq " GORT__X(R14) "(%rsp), %r14\n"
    "    movq " GORT__X(R13) "(%rsp), %r13\n"
    "    movq " GORT__X(R12) "(%rsp), %r12\n"
    "    movq " GORT__X(RSI) "(%rsp), %rsi\n"
    "    movq " GORT__X(RDI) "(%rsp), %rdi\n"
    "    movq " GORT__X(RBX) "(%rsp), %rbx\n"
    "    movq " GORT__X(RBP) "(%rsp), %rbp\n"
    "    addq $" GORT__X(RET) ", %rsp\n"
    "    ret\n"
    ".seh_endproc\n"

    ".globl gort__ctx_entry\n"
    ".def gort__ctx_entry; .scl 2; .type 32; .endef\n"
    ".p2align 4\n"
    "gort__ctx_unstarted:\n"
    "    nop\n"                                    /* return address - 1 of an unstarted G */
    "gort__ctx_entry:\n"
    "    xorl %ebp, %ebp\n"
    "    subq $32, %rsp\n"                         /* the callee's shadow space */
    "    movq %r12, %rcx\n"                        /* the G */
    "    callq *%r13\n"                            /* gort__g_main(g); never returns */
    "    ud2\n"
);
#undef GORT__X
#undef GORT__XMMSAVE
#undef GORT__XMMLOAD
#endif

/* ---------------------------------------------------------------- >>asm-a64
   gort__ctx_swap(void **save_sp [x0], void *load_sp [x1])

   AAPCS64 callee-saved state: x19-x28, x29 (fp), x30 (lr), sp, the low 64
   bits of v8-v15 (d8-d15), and FPCR (rounding mode, flush-to-zero). The
   frame, on the stack being left and (same shape) on the one entered,
   0xb0 bytes so sp stays 16-byte aligned; offsets from the saved sp:
       0x00 X19 x19 x20 | 0x10 X21 x21 x22 | 0x20 X23 x23 x24
       0x30 X25 x25 x26 | 0x40 X27 x27 x28 | 0x50 X29 x29 x30 (lr: the return)
       0x60 D8  d8  d9  | 0x70 D10 d10 d11 | 0x80 D12 d12 d13
       0x90 D14 d14 d15 | 0xa0 FPCR fpcr, unused            0xb0 = CFA
   CFA (the caller's sp) = sp + SIZE once the frame is made. The CFI gives
   a slot for each of the twenty registers saved (d8-d15 as DWARF 72-79,
   the low halves of v8-v15); FPCR is state, with no slot unwinders use.

   gort__ctx_entry: the first code a new goroutine runs (the ret of its
   first switch lands here, sp 16-byte aligned). Its frame (gort__ctx_init)
   holds the G in the x19 slot and the C entry function in the x20 slot. */
#if defined(GORT__ARCH_A64)
#define GORT__X(off) GORT__XSTR(GORT__CTX_##off)
/* CFA-relative offset of a frame slot, for .cfi_offset */
#define GORT__XC(off) GORT__XSTR(GORT__CTX_##off) "-" GORT__XSTR(GORT__CTX_SIZE)
/* store a pair of registers to their slots, with their CFI */
#define GORT__STP(a, b, A, B) \
    "    stp " #a ", " #b ", [sp, #" GORT__X(A) "]\n" \
    ".cfi_offset " #a ", " GORT__XC(A) "\n" \
    ".cfi_offset " #b ", " GORT__XC(B) "\n"
__asm__(
    ".text\n"
    ".globl gort__ctx_swap\n"
    ".hidden gort__ctx_swap\n"
    ".type gort__ctx_swap,%function\n"
    ".p2align 4\n"
    "gort__ctx_swap:\n"
    ".cfi_startproc\n"
    "    sub sp, sp, #" GORT__X(SIZE) "\n"              /* make the frame */
    ".cfi_def_cfa_offset " GORT__X(SIZE) "\n"
    GORT__STP(x19, x20, X19, X20)                       /* callee-saved integer registers */
    GORT__STP(x21, x22, X21, X22)                       /* (each pair followed by its */
    GORT__STP(x23, x24, X23, X24)                       /* CFI slots; a new context's */
    GORT__STP(x25, x26, X25, X26)                       /* G and entry function are in */
    GORT__STP(x27, x28, X27, X28)                       /* its x19 and x20 slots) */
    GORT__STP(x29, x30, X29, X30)                       /* fp, and lr: the return address */
    "    stp d8, d9, [sp, #" GORT__X(D8) "]\n"          /* callee-saved FP registers (low halves) */
    ".cfi_offset 72, " GORT__XC(D8) "\n"
    ".cfi_offset 73, " GORT__XC(D9) "\n"
    "    stp d10, d11, [sp, #" GORT__X(D10) "]\n"      /* (DWARF numbers v8-v15: 72-79) */
    ".cfi_offset 74, " GORT__XC(D10) "\n"
    ".cfi_offset 75, " GORT__XC(D11) "\n"
    "    stp d12, d13, [sp, #" GORT__X(D12) "]\n"      /* (d8-d15 are their low halves) */
    ".cfi_offset 76, " GORT__XC(D12) "\n"
    ".cfi_offset 77, " GORT__XC(D13) "\n"
    "    stp d14, d15, [sp, #" GORT__X(D14) "]\n"      /* last pair: the frame is complete */
    ".cfi_offset 78, " GORT__XC(D14) "\n"
    ".cfi_offset 79, " GORT__XC(D15) "\n"
    "    mrs x10, fpcr\n"                               /* rounding mode, flush-to-zero */
    "    str x10, [sp, #" GORT__X(FPCR) "]\n"          /* kept in x10 to compare below */
    "    mov x9, sp\n"                                  /* (str cannot store sp itself) */
    "    str x9, [x0]\n"                                /* *save_sp = sp: the old context is saved */
    "    mov sp, x1\n"                                  /* switch stacks; the CFI holds for the new frame */
    "    ldr x9, [sp, #" GORT__X(FPCR) "]\n"            /* the new context's FPCR */
    "    cmp x9, x10\n"                                 /* msr fpcr is slow: only when it differs */
    "    b.eq 1f\n"                                     /* the same: skip the write */
    "    msr fpcr, x9\n"                                /* the new context's FPCR */
    "1:  ldp x19, x20, [sp, #" GORT__X(X19) "]\n"       /* the new context's registers */
    "    ldp x21, x22, [sp, #" GORT__X(X21) "]\n"       /* (the CFI need not change: */
    "    ldp x23, x24, [sp, #" GORT__X(X23) "]\n"       /* each slot still holds the */
    "    ldp x25, x26, [sp, #" GORT__X(X25) "]\n"       /* value, and it is the new */
    "    ldp x27, x28, [sp, #" GORT__X(X27) "]\n"       /* context's caller whose */
    "    ldp x29, x30, [sp, #" GORT__X(X29) "]\n"       /* registers they are) */
    "    ldp d8, d9, [sp, #" GORT__X(D8) "]\n"          /* callee-saved FP registers */
    "    ldp d10, d11, [sp, #" GORT__X(D10) "]\n"       /* (low halves of v8-v15; */
    "    ldp d12, d13, [sp, #" GORT__X(D12) "]\n"       /* the rest is the caller's) */
    "    ldp d14, d15, [sp, #" GORT__X(D14) "]\n"       /* last pair: all restored */
    "    add sp, sp, #" GORT__X(SIZE) "\n"              /* drop the frame */
    ".cfi_def_cfa_offset 0\n"
    ".cfi_restore x19\n.cfi_restore x20\n.cfi_restore x21\n.cfi_restore x22\n"   /* the slots are */
    ".cfi_restore x23\n.cfi_restore x24\n.cfi_restore x25\n.cfi_restore x26\n"   /* below sp now: */
    ".cfi_restore x27\n.cfi_restore x28\n.cfi_restore x29\n.cfi_restore x30\n"   /* the registers */
    ".cfi_restore 72\n.cfi_restore 73\n.cfi_restore 74\n.cfi_restore 75\n"       /* hold the values */
    ".cfi_restore 76\n.cfi_restore 77\n.cfi_restore 78\n.cfi_restore 79\n"
    "    ret\n"                                         /* to x30: resume the new context */
    ".cfi_endproc\n"
    ".size gort__ctx_swap, .-gort__ctx_swap\n"

    ".globl gort__ctx_entry\n"
    ".hidden gort__ctx_entry\n"
    ".type gort__ctx_entry,%function\n"
    ".type gort__ctx_unstarted,%function\n"            /* (a local name for the nop, for backtraces) */
    ".p2align 4\n"
    "gort__ctx_unstarted:\n"
    ".cfi_startproc\n"
    ".cfi_undefined x30\n"                         /* outermost frame: unwinding stops here */
    "    nop\n"                                         /* return address - 1 of an unstarted G */
    ".size gort__ctx_unstarted, .-gort__ctx_unstarted\n"
    "gort__ctx_entry:\n"
    "    mov x29, #0\n"                                 /* the frame-record chain ends here too */
    "    mov x30, #0\n"                                 /* no return address either */
    "    mov x0, x19\n"                                 /* the G */
    "    blr x20\n"                                     /* gort__g_main(g); never returns */
    "    brk #0\n"                                      /* (trap if it does) */
    ".cfi_endproc\n"
    ".size gort__ctx_entry, .-gort__ctx_entry\n"
);
#undef GORT__X
#undef GORT__XC
#undef GORT__STP
#endif

/* Build the first frame of a new context at the top of the stack
   [base, hi): returns the value for the saved sp. The ret of the first
   switch to it goes to gort__ctx_entry, which calls entry(g). base and
   limit are for Windows, whose system grows a stack (gort__os_stack_ready):
   the lowest byte of its reservation, and the lowest it may use now. */
static void *gort__ctx_init(char *base, char *limit, char *hi, void (*entry)(void *), void *g) {
    uintptr_t top = ((uintptr_t)hi) & ~(uintptr_t)15;
    gort__ctx_frame *f = (gort__ctx_frame *)(top - sizeof(gort__ctx_frame));
    void (*tramp)(void) = gort__ctx_entry;
    memset(f, 0, sizeof *f);
#if defined(GORT__ARCH_X64)
    f->mxcsr = 0x1F80;   /* all exceptions masked, round to nearest */
    f->fpcw = 0x037F;    /* x87 default: extended precision, nearest */
    memcpy(&f->r12, &g, sizeof g);
    memcpy(&f->r13, &entry, sizeof entry);
    memcpy(&f->ret, &tramp, sizeof tramp);
#if defined(GORT__OS_WIN)
    /* The stack as the system sees it: its whole reservation, the bottom
       page included (never committed: the system keeps the last page of
       a stack as its hard end), so that a touch of the guard page below
       limit is growth, and growth into the last GORT__OS_GUARANTEE bytes
       an EXCEPTION_STACK_OVERFLOW. */
    GORT_ASSERT(base <= limit && limit < hi);   /* (the system would grow, or probe, outside the segment) */
    f->tbase = (uint64_t)(uintptr_t)hi;
    f->tlimit = (uint64_t)(uintptr_t)limit;
    f->tdeall = (uint64_t)(uintptr_t)base;
#else
    (void)base; (void)limit;
#endif
#else
    (void)base; (void)limit;
    memcpy(&f->x19, &g, sizeof g);
    memcpy(&f->x20, &entry, sizeof entry);
    memcpy(&f->x30, &tramp, sizeof tramp);
#endif
    return f;
}

/* ---------------------------------------------------------------- >>lock
   Internal locks guard short critical sections (a channel's state, a run
   queue, a waiter list); a thread that finds one taken spins briefly and
   then sleeps in gort__os_wait, blocking its M (never a goroutine-level park: a
   holder never parks, waits for another thread or writes to an fd, except
   >>stack's one-time warnings on stderr). Three states, as in Drepper's
   "Futexes Are Tricky": 0 free, 1 held, 2 held with sleepers.
   A waiter looks at the lock GORT__LOCK_SPINS times, GORT__LOCK_PAUSES
   pauses apart (as Go's lock2 does: 4 x 30), then yields the CPU once
   (the holder may be a descheduled thread: a loaded machine, or a vCPU
   that its host took away), then sleeps. Critical sections are a few
   dozen instructions, so a holder on another CPU lets go within a few
   hundred cycles; 10 x 30 pauses (about 1-15 us, as pause costs 10-140
   cycles by CPU) cover that and cost less than the futex sleep and wake
   they save. Looking less often matters as much: a waiter that reads the
   lock's line every pause takes it away from the holder, which then
   waits for it back for each write of its critical section (a buffered
   channel's count and indexes shared the line then, before its ring):
   one producer and one consumer at 2 P went from 10.4 to 12.5-13.5 M/s
   (bench buf_1p1c_p2). */
#define GORT__LOCK_SPINS  10
#define GORT__LOCK_PAUSES 30
static GORT__NOINLINE void gort__lock_slow(uint32_t *l) {
    uint32_t c;
    int i;
    for (i = 0; i <= GORT__LOCK_SPINS; i++) {
        int k;
        c = 0;
        if (GORT__LOAD(l) == 0 &&
            __atomic_compare_exchange_n(l, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return;
        if (i < GORT__LOCK_SPINS)
            for (k = 0; k < GORT__LOCK_PAUSES; k++) gort__cpu_relax();
        else
            gort__os_yield();
    }
    c = __atomic_exchange_n(l, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        gort__os_wait(l, 2, 0);
        c = __atomic_exchange_n(l, 2, __ATOMIC_ACQUIRE);
    }
}
static inline void gort__lock(uint32_t *l) {
    uint32_t c = 0;
    if (GORT__LIKELY(__atomic_compare_exchange_n(l, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
        return;
    gort__lock_slow(l);
}
static inline void gort__unlock(uint32_t *l) {
    if (GORT__UNLIKELY(__atomic_exchange_n(l, 0, __ATOMIC_RELEASE) == 2))
        gort__os_wake(l, 1);
}

/* A note is a one-shot wake-up for one sleeping thread: sleep until woken
   (or until the deadline, 0 = none); clear before reuse. */
static int gort__note_sleep(uint32_t *n, int64_t deadline) {
    while (GORT__LOAD_ACQ(n) == 0) {
        if (deadline && gort__nanotime() >= deadline) return 0;
        gort__os_wait(n, 0, deadline);
    }
    return 1;
}
static void gort__note_wake(uint32_t *n) {
    __atomic_store_n(n, 1, __ATOMIC_RELEASE);
    gort__os_wake(n, 1);
}

/* ---------------------------------------------------------------- >>structs */
typedef struct gort__g      gort__g;
typedef struct gort__m      gort__m;
typedef struct gort__p      gort__p;
typedef struct gort__rt     gort__rt;
typedef struct gort__waiter gort__waiter;
typedef struct gort__timer  gort__timer;
/* A timer heap's entry: the deadline beside the pointer, so that a sift
   compares without touching the timers themselves (each a cache miss). */
typedef struct gort__hent { int64_t when; gort__timer *t; } gort__hent;

/* Goroutine states. Every change goes through gort__setstatus, which checks
   it against gort__g_moves below and checks the state being left. For
   each: who owns the stack, and which queue the G is on. */
enum {
    GORT__G_FREE = 0,   /* no goroutine: nobody runs on the stack; the
                           segment is in a P's cache or the hot pool (linked
                           by schedlink), or on the cold list */
    GORT__G_RUNNABLE,   /* stack idle (its context saved): on exactly one run
                           queue (a P's ring or runnext, or the global queue),
                           or in a netpoll list being injected; a plain
                           thread's stand-in: woken, not yet back from its
                           futex sleep (on no queue) */
    GORT__G_RUNNING,    /* the M whose curg it is owns the stack (a plain
                           thread: the thread itself); on no queue */
    GORT__G_WAITING,    /* parked: stack idle; on no run queue, only on the
                           waiter queues of what it waits for (and a timer
                           heap); woken only by gort__ready */
    GORT__G_SYSCALL,    /* between gort_block_begin/end or in a gort I/O
                           system call: its M runs it and owns the stack (the
                           P may be taken by sysmon); on no queue */
    GORT__G_DEAD,       /* finished: its M is switching away from the stack,
                           and the next context frees it; on no queue */
    GORT__G_NSTATES
};

/* Stack compaction states (g->cst), argued in >>compact. */
enum { GORT__C_NONE = 0, GORT__C_PARKED, GORT__C_COMPACTING, GORT__C_COMPACTED, GORT__C_RESTORING };

/* What a parked goroutine waits for (for gort_dump and deadlock reports). */
enum {
    GORT__W_NONE = 0, GORT__W_CHAN_SEND, GORT__W_CHAN_RECV, GORT__W_SELECT,
    GORT__W_SELECT_NONE, GORT__W_SEND_NIL, GORT__W_RECV_NIL, GORT__W_SLEEP, GORT__W_MUTEX,
    GORT__W_RWMUTEX, GORT__W_WG, GORT__W_COND, GORT__W_IO, GORT__W_YIELD,
    GORT__W_SYSCALL_RETURN
};

struct gort__timer {
    int64_t  when;                /* deadline, monotonic ns (timer's P lock) */
    void   (*fn)(gort__g *g, uint64_t seq, void *arg);  /* runs on an M, without locks */
    gort__g *g;                   /* passed to fn */
    uint64_t seq;                 /* passed to fn: the park it belongs to */
    void    *arg;
    gort__p *p;                   /* atomic: the heap it is in; NULL if in none */
    int      idx;                 /* position in that heap, -1: on its overflow
                                     list (its P's timer lock) */
    gort__timer *onext;           /* overflow list link (its P's timer lock) */
    int64_t  period;              /* > 0: re-armed in place on its period's grid
                                     each time it fires (tickers) */
    uint32_t refs;                /* atomic: for a gort_timer's entry, the
                                     object's references (>>toolbox); the
                                     runner adds one for each fire of a
                                     periodic timer it starts, as the entry
                                     stays in the heap */
};

/* A waiter: one goroutine (or plain thread) queued on one channel or sync
   object. It lives on the waiting goroutine's stack, which stays put while
   it is parked (a select over more than 8 cases: in its malloc'd scratch
   memory). Fields are guarded by the lock of the queue it is on. */
struct gort__waiter {
    gort__waiter *next, *prev;    /* queue links */
    gort__wq     *q;              /* queue it is on, NULL once removed */
    gort__g      *g;
    void         *elem;           /* value to send, or where a received one goes */
    uint64_t      seq;            /* select/timeout: the park's claim ticket */
    int           claimable;      /* must win g->claim (CAS on seq) before being completed */
    int           caseidx;        /* select: which case */
    int           success;        /* set by the waker: 1 moved a value, 0 closed */
    int           handoff;        /* mutex: ownership handed over directly */
    int64_t       since;          /* mutex: when it first queued (starvation) */
    gort__waiter *wake_next;      /* waker's private list of waiters to ready */
    gort__waiter *gnext;          /* the owner's list of its waiters (owner) */
    uint32_t     *qlock;          /* lock guarding q (for gort_stop's cleanup) */
    gort_chan    *chan;           /* select: the channel it holds a reference on */
};

struct gort__g {
    void     *sp;                 /* saved stack pointer while not running */
    uint32_t  status;             /* atomic: GORT__G_* */
    uint32_t  cst;                /* atomic: stack compaction, GORT__C_*
                                     (>>compact); beside status, which
                                     every switch touches too */
    uint32_t  is_thread;          /* a plain thread's stand-in, not a goroutine */
    gort__g  *schedlink;          /* global queue / free list link (their locks) */
    void    (*fn)(void *);        /* start function (set at spawn; read by dumps) */
    void     *arg;                /* its argument (set at spawn) */
    gort__rt *rt;                 /* runtime owning the segment (immutable) */
    uint64_t  id;                 /* for dumps only; set at spawn */
    char     *stack_lo;           /* lowest usable byte, just above the guard */
    char     *stack_hi;           /* one past the highest usable byte */
    char     *stack_limit;        /* lowest byte usable without the system
                                     growing the stack (Windows' StackLimit,
                                     kept across the segment's goroutines:
                                     gort__os_stack_ready); stack_lo on Linux.
                                     Written by the owner at goexit (from the
                                     TIB), then by gort__stack_put and
                                     gort__slot_setup while the segment is
                                     theirs alone; read by the switch */
    char     *sp_low;             /* lowest frame seen at its switches (owner):
                                     how deep it went, for gort__stack_put */
    int       guard;              /* GORT__GUARD_* this segment has */
    int       waitstate;          /* GORT__W_*: what it is parked on (its own) */
    int       waitfd;             /* io wait: the fd (for dumps) */
    int64_t   waitsince;          /* coarse time it parked */
    int64_t   crestored;          /* atomic: when a restore last brought
                                     its compacted stack back while it
                                     stayed parked; INT64_MAX once a waker
                                     took its waiter off a queue (it is
                                     about to be readied); 0 again at each
                                     park (>>compact) */
    uint64_t  claim;              /* atomic: park ticket; odd once claimed (select,
                                     timeouts): wakers race with a CAS */
    void     *param;              /* set by the waker before gort__ready */
    gort__waiter *waiting;        /* while parked on waiter queues: its waiters
                                     (one, or a select's list by gnext), for
                                     gort__abandon when gort_stop drops it (owner) */
    gort__m  *last_m;             /* where it last ran, NULL until it first
                                     runs: the run queue's fairness (>>runq)
                                     and debug migrate (atomic:
                                     gort__migrate_get watches it unlocked) */
    void     *asan_fake;          /* ASan's fake stack while switched out */
    const void *asan_bottom;      /* g0 only: thread stack bounds for ASan (its M) */
    size_t    asan_size;
    void     *tsan_fiber;         /* TSan's fiber for this goroutine's lifetime
                                     (gort__newproc to gort__goexit_after); NULL
                                     while the segment is free */
    unsigned  vg_id;              /* Valgrind stack id */
    uint32_t  inherit;            /* put in runnext: runs in the time slice of
                                     the G that readied it (the runnext owner;
                                     a thief that takes it clears it) */
    uint32_t  in_gort;            /* inside gort's code (GORT__API depth, the
                                     start and end of the goroutine): the
                                     hand-off signal leaves the P alone */
    uint32_t  handed;             /* the hand-off signal put it in the syscall
                                     state: its next entry takes a P back */
    const void *waitobj;          /* the channel, mutex, waitgroup, rwmutex or
                                     cond it parks on: a plain store by the
                                     owner before each such park (other
                                     parks leave it stale); dumps and the
                                     trace read it racily, and only for
                                     those wait states (gort__dump_wait) */
    int64_t   waitwhen;           /* the wait's deadline, 0 none: a plain
                                     store by the owner at each park (from
                                     the timer, or a thread's deadline);
                                     dumps read it racily */
    uint8_t   parkflags;          /* GORT__PARK_*, for the next park only:
                                     set by the owner, cleared by the park */
    const void *selchan[4];       /* a select's first channel cases, */
    uint8_t   selop[4];           /* their GORT_SEND/GORT_RECV, */
    int       seln;               /* and how many it has: written by the
                                     owner before each select park, read by
                                     dumps while it is in GORT__W_SELECT */
    uint64_t  trflow;             /* trace: the flow of its last spawn or ready,
                                     set by the readier before it queues the G,
                                     taken by the M that runs it (>>trace) */
    uint32_t  ncompact;           /* times its stack was compacted: atomic
                                     stores by the compactor; the fault
                                     handler reads it (ever compacted?) */
    char     *csp;                /* compacted: the saved sp, first byte copied */
    char     *cbuf;               /* compacted: the copy of csp..stack_hi. Both
                                     written by the compactor while cst is
                                     COMPACTING, read by the one restorer whose
                                     CAS took it to RESTORING (>>compact) */
    gort__timer ptimer;           /* its park's deadline (sleep, timeouts): here,
                                     not on its stack, so that timer heaps
                                     never touch a compacted stack (owner
                                     arms it; the heap's P lock) */
    int       hog_reported;       /* atomic: sysmon already named it. Last, so
                                     that gort__slot_setup's memset skips it:
                                     sysmon may read it through a stale pointer */
};

/* A plain thread's stand-in: its G first (so a G with is_thread set is one
   of these), then what only a thread needs. Kept out of gort__g so that
   the G array costs a goroutine 64 bytes less (384 a G, not 448). */
typedef struct gort__tg {
    gort__g   g;
    uint32_t  note;               /* futex word to sleep on */
    int       tio;                /* atomic: in a gort I/O wait */
    uint64_t  rnd;                /* random state */
    gort__g  *tlink;              /* list of all (gort__tg_lock) */
    int64_t   waitdeadline;       /* deadline of the wait, 0 none */
    uintptr_t tfp;                /* frame pointer where it blocked, stored
                                     (relaxed) by the thread before each
                                     park; dumps load it racily and walk
                                     only inside tstk_lo..tstk_hi, so a
                                     stale one shortens a trace */
    char     *tstk_lo, *tstk_hi;  /* the thread's stack, set once when it
                                     first calls in (before it is on the
                                     list dumps walk), then read only */
#if defined(GORT__OS_WIN)
    uint32_t  tctx_seq;           /* atomic: odd while tctx is written
                                     (a seqlock: dumps copy it, then check) */
    uintptr_t tctx_lo;            /* the stack's committed limit then */
    CONTEXT   tctx;               /* its registers where it blocked: Windows
                                     walks a stack by unwind tables, which
                                     need them all (>>diag, gort__unwind) */
#endif
} gort__tg;
#if defined(GORT__OS_WIN)
/* A plain thread about to block: its registers, for dumps. */
static GORT__NOINLINE void gort__tg_capture(gort__tg *t) {
    uintptr_t lo;
    uint32_t s = __atomic_load_n(&t->tctx_seq, __ATOMIC_RELAXED);
    __atomic_store_n(&t->tctx_seq, s + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    RtlCaptureContext(&t->tctx);
    __asm__ volatile("movq %%gs:0x10, %0" : "=r"(lo));   /* StackLimit */
    t->tctx_lo = lo;
    __atomic_store_n(&t->tctx_seq, s + 2, __ATOMIC_RELEASE);
}
#define GORT__TG_CAPTURE(t) gort__tg_capture(t)
#else
#define GORT__TG_CAPTURE(t) ((void)0)
#endif
static inline gort__tg *gort__tgof(gort__g *g) {
    GORT_ASSERT(g->is_thread);
    return (gort__tg *)(void *)g;
}

/* P states. The state word (p->state) packs a generation above the low
   byte and the state in it; the generation is the syscall ticket: each
   syscall entry makes a new one, so a stale block_end cannot take back a
   P that moved on. Changes, and who makes them:
     IDLE       -> RUNNING     gort__acquirep, by the M taking it
     RUNNING    -> IDLE        gort__pidleput_locked, by its M giving it up
     IDLE       -> IDLE        gort__pidleput_locked of a P no M runs
                               (sysmon's handoff, a failed thread, startup)
     RUNNING    -> SYSCALL(_IO) gort__syscall_enter, new generation
     SYSCALL(_IO) -> RUNNING   gort__syscall_exit: CAS on the ticket
     SYSCALL(_IO) -> IDLE      sysmon's retake: CAS on the ticket */
enum { GORT__P_IDLE = 0, GORT__P_RUNNING = 1, GORT__P_SYSCALL = 2, /* gort_block_begin/end */
       GORT__P_SYSCALL_IO = 3 /* a gort I/O call's system call */ };
#define GORT__PBIT(s) (1u << (s))
static inline uint32_t gort__pst_state(uint64_t w) { return (uint32_t)(w & 0xff); }
static inline uint64_t gort__pst_gen(uint64_t w) { return w >> 8; }
static inline uint64_t gort__pst_make(uint64_t gen, uint32_t st) { return (gen << 8) | st; }
static inline int gort__pst_insyscall(uint64_t w) {
    return gort__pst_state(w) == GORT__P_SYSCALL || gort__pst_state(w) == GORT__P_SYSCALL_IO;
}
static const char *gort__p_state_name(uint32_t s) {
    static const char *const names[] = { "IDLE", "RUNNING", "SYSCALL", "SYSCALL_IO" };
    return s < 4 ? names[s] : "(not a state)";
}
#define GORT__RUNQ 256            /* Go's size: large enough that overflow is rare */
#define GORT__GCACHE 64           /* dead Gs a P keeps before spilling */
#define GORT__LIFO_MAX 64          /* front pushes banked past Gs that have run, in halves */
#define GORT__FRONT_AGE_NS 100000000 /* a queued G waits about this long at most before front pushes stop */
#define GORT__SPAWN_BURST 128     /* gort_go calls in one run before it yields */

struct gort__p {
    int        id;                /* index in rt->allp (immutable) */
    uint64_t   state;             /* atomic: (generation, GORT__P_*), see above;
                                     read with gort__pst_*, changed only by
                                     gort__p_setstate and gort__p_cas */
    gort__m   *m;                 /* M holding it (sched lock / owner) */
    gort__p   *link;              /* idle list (sched lock) */
    uint32_t   schedtick;         /* owner; read racily by sysmon: Gs run */
    uint32_t   slicetick;         /* owner; read by sysmon: time slices begun (a
                                     G run from runnext continues its readier's) */
    uint64_t   parks;             /* owner (atomic stores); read by sysmon:
                                     parks while compaction is on (>>compact's
                                     walk is skipped while nothing changed) */
    uint32_t   gorttick;          /* owner; read by sysmon: progress inside gort
                                     (spawns, wake-ups), so that the hog check
                                     blames only the user's own code */
    uint32_t   preempt;           /* atomic: sysmon says the slice is used up; the
                                     next scheduling point serves the queues */
    uint32_t   fairtick;          /* owner: counts down to the global queue's turn */
    uint32_t   spawns;            /* owner: gort_go calls by the G running now */
    uint64_t   runqhead;          /* atomic: (front pushes << 32) | head index;
                                     thieves CAS it (gort__rqh) */
    uint32_t   runqtail;          /* atomic: written by the owner only */
    uint32_t   old_hi;            /* owner: ring index past the last G that had
                                     run before and was pushed at the tail, */
    uint32_t   old_any;           /* owner: ...while that G may still be queued */
    uint32_t   lifo;              /* owner: front pushes that may pass such Gs,
                                     in halves (gort__runq_put_front) */
    uint32_t   lifo_off;          /* atomic: 1, sysmon found a G queued for
                                     GORT__FRONT_AGE_NS; 2, the owner pushes at
                                     the tail and serves the ring first until
                                     head reaches front_cut */
    uint32_t   front_cut;         /* owner: where that drain ends */
    uint32_t   age_mark;          /* atomic, sysmon writes: the tail at its look */
    uint32_t   age_passed;        /* atomic: head has reached age_mark since
                                     (set by the owner before a front push
                                     takes head back below it, or by sysmon) */
    gort__g   *runnext;           /* atomic: next to run, ahead of runq */
    uint32_t   solo;              /* set at start: the runtime's only P, so no
                                     thief ever writes runnext or runqhead and
                                     the owner updates them without a locked
                                     instruction (gort__runnext_swap) */
    gort__g   *runq[GORT__RUNQ];  /* slots: atomic (thieves read racily) */
    void      *runq_sp[GORT__RUNQ]; /* atomic: hints, the saved sp of the G in
                                     the same slot when it was queued (for
                                     gort__prefetch_next; may be stale; NULL
                                     for a G that has not run) */
    gort__g   *gfree;             /* owner: dead Gs to reuse */
    int        ngfree;            /* owner: length of gfree */
    int        fresh_batch;       /* owner: fresh segments to take next (gort__stack_get) */
    uint32_t   gfree_spill;       /* atomic: out of stacks elsewhere; hand gfree
                                     to the global pool (gort__stack_reclaim) */
    int64_t    ngo;               /* atomic, owner writes: goroutines started
                                     minus ended here (gort_goroutines sums) */
    uint64_t   goid_next, goid_end; /* owner: batch of ids */
    /* timers: a 4-ary min-heap by when */
    uint32_t   tlock;             /* guards the heap: any M may run or add timers */
    gort__hent  *theap;           /* tlock */
    int        tlen, tcap;        /* tlock */
    int64_t    tnext;             /* atomic: heap's earliest when, or INT64_MAX */
    gort__timer *tovf;            /* tlock: timers the heap had no memory for */
    /* sysmon's view (sysmon thread only) */
    uint32_t   sm_tick;           /* schedtick + gorttick at its last look (hogs) */
    int64_t    sm_since;          /* when that (or state) last changed */
    uint32_t   sm_run, sm_slice;  /* schedtick, slicetick at its last look */
    int64_t    sm_run_since, sm_slice_since; /* when they last changed */
    int64_t    sm_fsince;         /* when age_mark was set (0: not set) */
    int64_t    sm_slice_len;      /* this slice's length: GORT__SLICE_NS, or as
                                     long as the last one ran, if it ran over */
    uint64_t   sm_sys;            /* state word of the syscall it is timing */
    int64_t    sm_sys_since;      /* when that syscall was first seen */
    int64_t    sm_cpu0;           /* hog check: M's CPU time once past hog_ns, -1 unset */
    uint32_t   ho_tick;           /* hand-off (sysmon): tick at the last look, */
    int64_t    ho_since;          /* since when it stood still, */
    int64_t    ho_cpu0;           /* the M's CPU time then (-1 unknown), */
    int64_t    ho_sent;           /* when the signal went (0: not this stall) */
};

/* The one checked store of a P's state (the CAS transitions use
   gort__p_cas): p must be in one of the states in from (GORT__PBIT mask);
   its generation goes up by gen_add. Only the P's owner stores, and sysmon
   only CASes a P in a syscall state, so a load and a store are enough.
   ord: the store's memory order (GORT__POK_*). Returns the new word. */
enum { GORT__POK_RELAXED, GORT__POK_RELEASE, GORT__POK_SEQ_CST };
static GORT__NOINLINE void gort__badpstate(gort__p *p, uint64_t w, uint32_t to, const char *file, int line) {
    fprintf(stderr, "gort: internal error at %s:%d: P %d is %s, which it may not leave for %s (a gort bug: please report it)\n",
            file, line, p->id, gort__p_state_name(gort__pst_state(w)), gort__p_state_name(to));
    abort();
}
static inline uint64_t gort__p_setstate_at(gort__p *p, uint32_t from, uint32_t to, uint64_t gen_add, int ord,
                                           const char *file, int line) {
    uint64_t w = GORT__LOAD(&p->state);
    if (GORT__UNLIKELY(!(from & GORT__PBIT(gort__pst_state(w))))) gort__badpstate(p, w, to, file, line);
    w = gort__pst_make(gort__pst_gen(w) + gen_add, to);
    if (ord == GORT__POK_SEQ_CST) __atomic_store_n(&p->state, w, __ATOMIC_SEQ_CST);
    else if (ord == GORT__POK_RELEASE) __atomic_store_n(&p->state, w, __ATOMIC_RELEASE);
    else __atomic_store_n(&p->state, w, __ATOMIC_RELAXED);
    return w;
}
#define gort__p_setstate(p, from, to, gen_add, ord) gort__p_setstate_at((p), (from), (to), (gen_add), (ord), __FILE__, __LINE__)
/* Leave a syscall state seen as the word old, for to (same generation):
   1 if p was still in it. An old word in no syscall state is a ticket
   that never was (gort_block_end without gort_block_begin): 0, and
   gort__setstatus then names the misuse. */
static inline int gort__p_cas(gort__p *p, uint64_t old, uint32_t to) {
    if (!gort__pst_insyscall(old)) return 0;
    return gort__cas_u64(&p->state, old, gort__pst_make(gort__pst_gen(old), to));
}

/* The execution trace's per-thread state (>>trace): each M has one, and
   sysmon one. Written only by its thread between gort__tr_enter and
   gort__tr_leave; read and reset by the trace's writer once recording is
   off and busy is 0. */
typedef struct gort__trchunk gort__trchunk;
typedef struct {
    uint32_t busy;                /* atomic: inside a recording (see >>trace) */
    int      tid;                 /* its track: M id + 1, 0 for sysmon */
    gort__trchunk *chunk;         /* events being written; NULL until the first */
    uint64_t cur_g;               /* the slice open on this thread: goroutine id */
    void   (*cur_fn)(void *);     /* (0 none), its start function, */
    int64_t  cur_t0;              /* start, */
    uint64_t cur_flow;            /* the flow that readied it (0 none), */
    int32_t  cur_p;               /* the P (-1: a system call, no P), */
    uint8_t  cur_type;            /* GORT__TR_RUN or GORT__TR_SYS */
    int64_t  spin0;               /* spinning since (trace time), -1 not */
    uint64_t flowseq;             /* flow ids handed out (unique with tid) */
    int64_t  g0_t0;               /* a "timers" slice open on g0 since, */
    int      g0_open, g0_flows;   /* whether, the flows started in it, */
    int      g0_respin;           /* and whether spinning goes on after it */
} gort__trm;

struct gort__m {
    gort__g    g0;                /* the scheduler's context on this thread's stack */
    gort__g   *curg;              /* goroutine running, NULL on g0 (owner) */
    gort__p   *p;                 /* attached P (owner) */
    gort__p   *nextp;             /* P handed over by whoever woke it (sched lock) */
    gort__rt  *rt;                /* immutable */
    gort__m   *link;              /* idle list (sched lock) */
    gort__m   *alllink;           /* all Ms (sched lock) */
    gort__os_thread thread;       /* atomic: set by the thread itself first thing
                                     (0 until then); sysmon signals it,
                                     gort__rt_stop joins it */
    uint32_t   note;              /* futex word: sleep in stopm, woken by startm/stop */
    int        spinning;          /* owner; counted in rt->nmspinning */
    int        id;                /* seeds rnd; unique in its runtime (immutable) */
    uint64_t   rnd;               /* owner: xorshift state */
    /* Work left for after the next switch, run by whichever context this
       M resumes (owner; see gort__park): arm after_timer, then
       after_fn(after_g, after_arg). */
    void     (*after_fn)(gort__g *g, void *arg);
    gort__g   *after_g;
    void      *after_arg;
    gort__timer *after_timer;
    gort__g   *after_park;        /* the G that parked: PARKED once saved (>>compact) */
    uint64_t   sys_ticket;        /* block_begin's P ticket (owner) */
    gort__os_cpuclock cpuclock;   /* this thread's CPU-time clock (for sysmon) */
    long       tid;               /* its kernel thread id (for sysmon) */
    int        statfd;            /* sysmon: its /proc stat file, -1 not open */
    void      *altstack;          /* owner: signal stack for the overflow handler */
    gort__trm  tr;                /* its execution trace buffer (>>trace) */
};

/* Guard modes, best first. */
#define GORT__CANARY 0x6a09e667f3bcc908ULL

/* A region: one mmap reservation carved into equal segments. */
typedef struct gort__region {
    char   *base;
    char   *gs;                   /* the G array: slot i's G at gs + i * gsize
                                     (immutable, like base) */
    uint8_t *cold;                /* bit i: slot i is on the cold list (stack lock) */
    size_t  nslots;
    size_t  used;                 /* slots handed out at least once (stack lock) */
    size_t  nfree;                /* gort__stack_release's count of free slots */
    int     whole;                /* made for canary segments: all usable
                                     from the start (gort__os_stack_region) */
    struct gort__region *next;
} gort__region;

enum { GORT__MODE_RUN = 1, GORT__MODE_START = 2 };
enum { GORT__MAIN_RUNNING = 0, GORT__MAIN_GOEXIT = 1,      /* main called gort_exit */
       GORT__MAIN_RETURNED = 2, GORT__MAIN_DEADLOCK = 3 };  /* final */

/* Stack reservations a runtime may hold (4 GiB each by default: 16 TiB). */
#define GORT__MAX_REGIONS   4096

struct gort__rt {
    /* Immutable after gort__rt_new. */
    int        nprocs;
    int        mode;              /* GORT__MODE_RUN or _START */
    int        debug;             /* GORT_DEBUG_* */
    int64_t    hog_ns;            /* sysmon's hog threshold, <= 0 off */
    int64_t    handoff_ns;        /* gort__sysmon_handoff's threshold: < 0 off,
                                     0 every look (GORT_DEBUG_HANDOFF) */
    uint32_t   nhandoffs;         /* atomic: Ps the hand-off signal released */
    int64_t    compact_ns;        /* compact stacks parked this long; < 0 off,
                                     0 at every park (GORT_DEBUG_COMPACT) */
    int64_t    compact_last;      /* sysmon: when its last pass began */
    int        compact_more;      /* sysmon: that pass left work (gort__compact_pass) */
    uint64_t   compact_seen;      /* sysmon: parks + restores when the last
                                     finished walk began */
    int64_t    compact_due_at;    /* sysmon: when the first goroutine that
                                     walk saw too young is old enough
                                     (INT64_MAX: none) */
    uint64_t   walk_seen;         /* sysmon: the same for the walk going on */
    int64_t    walk_due;
    long       compact_ri;        /* sysmon: where the walk resumes (stack lock) */
    size_t     compact_si;
    void      *cfree;             /* atomic: copies restored, to free (a
                                     Treiber stack: pushed by restorers,
                                     which may be signal handlers) */
    long       ncompacted;        /* atomic: stacks compacted now */
    uint64_t   compactions;       /* atomic: compactions, ever */
    uint64_t   restores;          /* atomic: restores, ever */
    size_t     slot_size;         /* segment size, guard included */
    size_t     page;
    gort__p   *allp;              /* nprocs of them */

    uint32_t   lock;              /* the sched lock: guards the fields below
                                     up to the next blank line */
    gort__m   *midle;             /* idle Ms sleeping on their note */
    int        mcount;            /* Ms created, or being created */
    int        mstarting;         /* of those, threads not yet known to exist
                                     (pthread_create runs unlocked) */
    int        mids;              /* M ids handed out */
    int        mcap_reported;     /* said once that GORT__MAX_M was reached */
    int        m_err;             /* why the last new M failed (-errno), 0 if none did */
    unsigned   m_err_said;        /* causes of failed Ms already reported (bits) */
    gort__m   *allm;
    gort__p   *pidle;             /* idle Ps */
    int        npidle;            /* also read racily (atomic) */
    gort__g   *gq_head, *gq_tail; /* global run queue */
    long       gq_size;           /* also read racily (atomic) */

    uint32_t   nmspinning;        /* atomic: Ms spinning for work */
    int64_t    ngo_extra;         /* atomic: goroutines started from plain threads */
    uint32_t   nsyscall;          /* atomic: goroutines inside block_begin/end */
    uint32_t   niowait;           /* atomic: goroutines parked on fds */
    uint32_t   stopping;          /* atomic: gort_stop was called */
    uint32_t   mlive;             /* atomic: M threads not yet exited */
    uint32_t   refs;              /* atomic: owner + live Ms; last one frees */
    uint64_t   goid_gen;          /* atomic */
    int64_t    coarse_now;        /* atomic: a recent gort__nanotime */

    /* run mode */
    uint32_t   done;              /* atomic futex word: gort_run may return */
    int        exit_code;         /* written before done is set */
    gort__g   *main_g;
    uint32_t   main_state;        /* atomic: GORT__MAIN_*; the CAS into a final
                                     state decides exit_code, once */
    int        run_thread_has_tg; /* gort_run's caller was a registered thread */

    /* stacks */
    uint32_t   stk_lock;          /* guards the stack fields below */
    gort__region *regions;       /* newest first; only the first has unused slots */
    gort__region *ridx[GORT__MAX_REGIONS]; /* the same, by base address */
    long       nregions;
    int        stk_pressure;      /* atomic: a reservation failed (gort__stack_release) */
    int        stk_walkers;       /* dumps walking the regions unlocked: none may go */
    long       rel_seen;          /* free segments at gort__stack_release's last pass, */
    uint64_t   rel_gets_seen;     /* and stk_gets then (both: stack lock) */
    gort__g   *stk_free;          /* hot pool: G page still committed */
    long       nstk_free;
    char     **stk_cold;          /* slots returned to the OS entirely */
    long       ncold, cold_cap;
    long       ncold_pending;     /* slots between the hot pool and the cold list */
    uint64_t   stk_gets;          /* segments taken from the hot pool (stack lock) */
    uint64_t   trim_gen_seen;     /* goid_gen at sysmon's last trim look (sysmon) */
    long       trim_free_seen;    /* nstk_free then (sysmon, under stk_lock) */
    int        guard_mode;        /* best mode the probe found */
    long       mprot_budget;      /* mprotect guards left under max_map_count */
    long       map_max;           /* vm.max_map_count; 0 until mprotect guards are needed */
    long       nguarded;          /* atomic: segments set up with a guard page */
    int        guard_said;        /* said once that guards ran out */
    size_t     region_slots;
    int        stk_reported;      /* said once that no stack could be reserved */

    /* netpoll */
    gort__poller poller;          /* >>poll-epoll */
    uint32_t   polling;           /* atomic: an M is (about to be) blocked in the poller */
    int64_t    poll_until;        /* atomic: that M's deadline (INT64_MAX: none) */
    int64_t    last_poll;         /* atomic */

    /* sysmon */
    gort__os_thread sysmon;
    uint32_t   sysmon_note;
    int64_t    sysmon_delay;      /* atomic: its current sleep */
    uint32_t   sysmon_deep;       /* atomic: asleep until a P runs (gort__sysmon_main) */
    uint32_t   sigquit;           /* atomic: dump requested */
};

/* The runtime that gort_go and friends use. Threads that run goroutines reach
   their own runtime through their M, so a stopped runtime whose threads are
   still finishing stays consistent. */
static gort__rt *gort__the_rt;
static uint32_t  gort__rt_lock;   /* guards starting and stopping */
static long      gort__nthreads;  /* atomic: live plain threads that called in */

#define GORT__M_MARK ((gort__g *)(uintptr_t)1)
#if defined(GORT__OS_WIN) && !defined(__clang__)
/* MinGW's gcc reaches __thread through emulated TLS, a function call with
   a lookup per access; the two thread-locals the scheduler reads on every
   path live in TEB TLS slots instead (TlsAlloc, made once, by a
   constructor or the first use), read straight from the TEB's TlsSlots array
   through %gs (volatile: never reused across a switch); written with
   TlsSetValue (thread start and end only). A slot index past the 64 in
   the TEB is read with TlsGetValue. clang for MinGW has native TLS. */
static DWORD gort__tls_slot_m = TLS_OUT_OF_INDEXES, gort__tls_slot_tg = TLS_OUT_OF_INDEXES;   /* atomic */
static uint32_t gort__tls_once;   /* atomic: 0, 1 being made, 2 made */
static void gort__tls_slots_init(void) {
    if (gort__cas_u32(&gort__tls_once, 0, 1)) {
        DWORD m = TlsAlloc(), tg = TlsAlloc();
        GORT_ASSERT(m != TLS_OUT_OF_INDEXES && tg != TLS_OUT_OF_INDEXES);
        __atomic_store_n(&gort__tls_slot_m, m, __ATOMIC_RELEASE);
        __atomic_store_n(&gort__tls_slot_tg, tg, __ATOMIC_RELEASE);
        __atomic_store_n(&gort__tls_once, 2, __ATOMIC_RELEASE);
    }
    while (__atomic_load_n(&gort__tls_once, __ATOMIC_ACQUIRE) != 2) SwitchToThread();
}
/* (early, so the readers' slow path is only for a program that calls in
   from a constructor that ran before this one) */
__attribute__((constructor)) static void gort__tls_slots_ctor(void) { gort__tls_slots_init(); }
static inline DWORD gort__tls_slot(DWORD *slotp) {
    DWORD slot = __atomic_load_n(slotp, __ATOMIC_ACQUIRE);
    if (GORT__UNLIKELY(slot == TLS_OUT_OF_INDEXES)) {
        gort__tls_slots_init();
        slot = __atomic_load_n(slotp, __ATOMIC_ACQUIRE);
    }
    return slot;
}
static inline void *gort__tls_get(DWORD *slotp) {
    DWORD slot = gort__tls_slot(slotp);
    void *v;
    if (GORT__UNLIKELY(slot >= 64)) return TlsGetValue(slot);
    __asm__ __volatile__("movq %%gs:0x1480(,%1,8), %0" : "=r"(v) : "r"((uintptr_t)slot) : "memory");
    return v;
}
#define GORT__TLS_M()       ((gort__m *)gort__tls_get(&gort__tls_slot_m))
#define GORT__TLS_TG()      ((gort__g *)gort__tls_get(&gort__tls_slot_tg))
#define GORT__TLS_SET_M(v)  ((void)TlsSetValue(gort__tls_slot(&gort__tls_slot_m), (void *)(v)))
#define GORT__TLS_SET_TG(v) ((void)TlsSetValue(gort__tls_slot(&gort__tls_slot_tg), (void *)(v)))
#else
static __thread gort__m *gort__tls_m;
static __thread gort__g *gort__tls_tg;   /* plain threads: their stand-in G; Ms: GORT__M_MARK */
#define GORT__TLS_M()       (gort__tls_m)
#define GORT__TLS_TG()      (gort__tls_tg)
#define GORT__TLS_SET_M(v)  ((void)(gort__tls_m = (v)))
#define GORT__TLS_SET_TG(v) ((void)(gort__tls_tg = (v)))
#endif

/* The current M, read afresh. Goroutines move between threads: a compiler
   that inlined this could keep the thread pointer (or the TLS address) of the
   thread a goroutine ran on before a switch. The volatile asm makes this
   function opaque to that optimisation (and to gcc's pure/const analysis),
   and noinline keeps it a real call. Call it again after anything that can
   switch. */
static GORT__NOINLINE gort__m *gort__getm(void) {
    gort__m *m = GORT__TLS_M();
    __asm__ __volatile__("" : "+r"(m) : : "memory");
    return m;
}

/* For assertions that a lock is held: the word is nonzero while anyone
   holds it (it cannot say who). */
#define GORT__HELD(l) (GORT__LOAD(l) != 0)

static inline uint64_t gort__rand_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    *s = x;
    return x;
}
static inline uint32_t gort__rand_n(uint64_t *s, uint32_t n) {
    return (uint32_t)(((gort__rand_next(s) >> 32) * (uint64_t)n) >> 32);
}

/* The G state machine: gort__g_moves[from] has bit `to` set when the
   change is allowed, and names who makes it (see the state comments):
     FREE     -> RUNNABLE  gort__newproc, spawning into the segment
     RUNNABLE -> RUNNING   the M that dequeued it (gort__execute); a woken
                           plain thread
     RUNNABLE -> FREE      gort__newproc_check: queued with no M to run it
     RUNNING  -> WAITING   the G itself, parking
     RUNNING  -> RUNNABLE  the G itself, yielding
     RUNNING  -> SYSCALL   the G itself, entering a blocking call
     RUNNING  -> DEAD      the G itself, ending
     WAITING  -> RUNNABLE  the waker that dequeued it or won its claim
     WAITING  -> RUNNING   a plain thread that won its own timed-out claim
     SYSCALL  -> RUNNING   the G itself, back with a P
     SYSCALL  -> RUNNABLE  the G itself, back with no P (queued globally)
     DEAD     -> FREE      the next context on its M (gort__goexit_after) */
#define GORT__GBIT(s) (1u << (s))
static const uint8_t gort__g_moves[GORT__G_NSTATES] = {
    /* FREE     */ GORT__GBIT(GORT__G_RUNNABLE),
    /* RUNNABLE */ GORT__GBIT(GORT__G_RUNNING) | GORT__GBIT(GORT__G_FREE),
    /* RUNNING  */ GORT__GBIT(GORT__G_WAITING) | GORT__GBIT(GORT__G_RUNNABLE) |
                   GORT__GBIT(GORT__G_SYSCALL) | GORT__GBIT(GORT__G_DEAD),
    /* WAITING  */ GORT__GBIT(GORT__G_RUNNABLE) | GORT__GBIT(GORT__G_RUNNING),
    /* SYSCALL  */ GORT__GBIT(GORT__G_RUNNING) | GORT__GBIT(GORT__G_RUNNABLE),
    /* DEAD     */ GORT__GBIT(GORT__G_FREE)
};
static const char *gort__g_state_name(uint32_t s) {
    static const char *const names[GORT__G_NSTATES] = {
        "FREE", "RUNNABLE", "RUNNING", "WAITING", "SYSCALL", "DEAD"
    };
    return s < GORT__G_NSTATES ? names[s] : "(not a state)";
}

/* Every state change goes through here (gort__setstatus passes the
   caller's file and line) and checks the state being left. Each
   transition has exactly one party entitled to make it (the table above),
   so a checked store is enough: no read-modify-write on the hot path. */
static GORT__NOINLINE void gort__badstatus(gort__g *g, uint32_t from, uint32_t cur, uint32_t to,
                                           const char *file, int line) {
    /* The user's own pairing of gort_block_begin/end shows up here
       first: name it rather than report a gort bug. */
    if (from == GORT__G_SYSCALL && cur == GORT__G_RUNNING)
        gort__misuse("gort_block_end: called without a matching gort_block_begin; call them in pairs around one blocking call");
    else if (cur == GORT__G_SYSCALL && to == GORT__G_SYSCALL)
        gort__misuse("gort_block_begin: called twice without gort_block_end; call them in pairs, not nested");
    else if (cur == GORT__G_SYSCALL)
        gort__misuse("a goroutine inside gort_block_begin blocked in gort, yielded or ended before gort_block_end; "
                     "call gort_block_end right after the blocking call");
    if (cur == GORT__G_SYSCALL || (from == GORT__G_SYSCALL && cur == GORT__G_RUNNING)) abort();
    if (from >= GORT__G_NSTATES || to >= GORT__G_NSTATES || !(gort__g_moves[from] & GORT__GBIT(to)))
        fprintf(stderr, "gort: internal error at %s:%d: goroutine %llu: %s -> %s is not a state change "
                        "gort makes (it is in %s; a gort bug: please report it)\n",
                file, line, (unsigned long long)g->id, gort__g_state_name(from), gort__g_state_name(to),
                gort__g_state_name(cur));
    else
        fprintf(stderr, "gort: internal error at %s:%d: goroutine %llu is %s, expected %s (going to %s; "
                        "a gort bug: please report it)\n",
                file, line, (unsigned long long)g->id, gort__g_state_name(cur), gort__g_state_name(from),
                gort__g_state_name(to));
    abort();
}
static inline void gort__setstatus_at(gort__g *g, uint32_t from, uint32_t to, const char *file, int line) {
    uint32_t cur = __atomic_load_n(&g->status, __ATOMIC_RELAXED);
    if (GORT__UNLIKELY(cur != from || from >= GORT__G_NSTATES || !(gort__g_moves[from] & GORT__GBIT(to))))
        gort__badstatus(g, from, cur, to, file, line);
    __atomic_store_n(&g->status, to, __ATOMIC_RELEASE);
}
#define gort__setstatus(g, from, to) gort__setstatus_at((g), (from), (to), __FILE__, __LINE__)

/* ---------------------------------------------------------------- >>waitq
   A gort__wq is a doubly linked FIFO of waiters. head is also read without
   the lock by channels' non-blocking fast path (hence the atomic store). */
static void gort__wake(gort__waiter *w);

static void gort__wake_list(gort__waiter *list);

static void gort__wq_push(gort__wq *q, gort__waiter *w) {
    gort__waiter *t = (gort__waiter *)q->tail;
    GORT_ASSERT(!w->qlock || GORT__HELD(w->qlock));
    GORT_ASSERT(w->q == NULL);   /* on one queue at a time */
    w->next = NULL; w->prev = t; w->q = q;
    if (t) t->next = w; else __atomic_store_n(&q->head, (void *)w, __ATOMIC_RELEASE);
    q->tail = w;
}
static void gort__wq_push_front(gort__wq *q, gort__waiter *w) {
    gort__waiter *h = (gort__waiter *)q->head;
    GORT_ASSERT(!w->qlock || GORT__HELD(w->qlock));
    GORT_ASSERT(w->q == NULL);
    w->prev = NULL; w->next = h; w->q = q;
    if (h) h->prev = w; else q->tail = w;
    __atomic_store_n(&q->head, (void *)w, __ATOMIC_RELEASE);
}
static void gort__wq_remove(gort__wq *q, gort__waiter *w) {
    GORT_ASSERT(w->q == q && (!w->qlock || GORT__HELD(w->qlock)));
    if (w->prev) w->prev->next = w->next; else __atomic_store_n(&q->head, (void *)w->next, __ATOMIC_RELEASE);
    if (w->next) w->next->prev = w->prev; else q->tail = w->prev;
    w->next = w->prev = NULL;
    __atomic_store_n(&w->q, (gort__wq *)NULL, __ATOMIC_RELEASE);   /* gort__abandon peeks */
}
static int gort__wq_empty(gort__wq *q) { return __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) == NULL; }

/* >>compact: a waiter record lives on its goroutine's stack, which may be
   compacted; so may the next one's, whose link a pop rewrites. Restored
   here, before the first touch, a fault and its signal are saved. */
static uint32_t gort__ncompacted_all;   /* atomic: compacted stacks, all runtimes */
static int gort__compact_touch(const void *p, size_t n);
static void gort__wq_pretouch(gort__waiter *w) {
    gort__compact_touch(w, sizeof *w);
    if (w->next) gort__compact_touch(w->next, sizeof *w->next);
}

/* Claims: a goroutine parked in select (or with a timeout) can be completed by
   several wakers; the one whose CAS turns its even ticket odd wins. */
static int gort__claim(gort__g *g, uint64_t seq) {
    return gort__cas_u64(&g->claim, seq, seq + 1);
}
static uint64_t gort__new_ticket(gort__g *g) {
    uint64_t s = GORT__LOAD(&g->claim);
    s = (s | 1) + 1;                     /* next even value */
    __atomic_store_n(&g->claim, s, __ATOMIC_SEQ_CST);
    return s;
}

/* Pop the first waiter that can be completed: plain ones always, select
   ones only if this caller wins their claim (losers are unlinked and
   dropped: their goroutine is being completed by someone else). */
static gort__waiter *gort__wq_pop_compact(gort__wq *q);
static inline __attribute__((always_inline)) gort__waiter *gort__wq_pop(gort__wq *q) {
    gort__waiter *w;
    if (GORT__UNLIKELY(GORT__LOAD(&gort__ncompacted_all) != 0)) return gort__wq_pop_compact(q);
    while ((w = (gort__waiter *)q->head) != NULL) {
        gort__wq_remove(q, w);
        if (!w->claimable || gort__claim(w->g, w->seq)) return w;
    }
    return NULL;
}
/* gort__wq_pop while some goroutine stack is compacted (>>compact): each
   waiter's stack, and the next one's, restored before the first touch,
   and the G popped marked so that sysmon leaves it until it runs. Out of
   line, and the pop above forced inline: without both, the check alone
   made the compiler call the pop, 5 ns on a 1-P ping-pong round trip. */
GORT__NOINLINE static gort__waiter *gort__wq_pop_compact(gort__wq *q) {
    gort__waiter *w;
    while ((w = (gort__waiter *)q->head) != NULL) {
        gort__wq_pretouch(w);
        gort__wq_remove(q, w);
        if (!w->claimable || gort__claim(w->g, w->seq)) {
            if (!w->g->is_thread) GORT__STORE(&w->g->crestored, INT64_MAX);   /* ready soon */
            return w;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- >>san
   What ASan, TSan and Valgrind must be told, in one place: which stack a
   switch goes to, a fiber per goroutine lifetime, which memory is a stack.
   Each helper is empty in a plain build, so no function body elsewhere
   carries an #ifdef for them. */

/* Before switching from `from` to `to` on m. A dead goroutine passes no
   fake-stack save: ASan then frees its fake stack, so no per-lifetime
   state outlives it (as with TSan's fiber, see gort__san_fiber_end;
   tests/test_lifetimes.c). */
static inline void gort__san_switch(gort__m *m, gort__g *from, gort__g *to) {
#ifdef GORT__ASAN
    void **fake = GORT__LOAD(&from->status) == GORT__G_DEAD ? NULL : &from->asan_fake;
    if (to == &m->g0 || to->is_thread)
        __sanitizer_start_switch_fiber(fake, m->g0.asan_bottom, m->g0.asan_size);
    else
        __sanitizer_start_switch_fiber(fake, to->stack_lo, (size_t)(to->stack_hi - to->stack_lo));
#endif
#ifdef GORT__TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    (void)m; (void)from; (void)to;
}
/* First thing on `self`'s stack after a switch to it. ASan reports the
   stack we came from; the first report on an M is its thread's stack. */
static inline void gort__san_switched(gort__m *m, gort__g *self) {
#ifdef GORT__ASAN
    const void *bot;
    size_t sz;
    __sanitizer_finish_switch_fiber(self->asan_fake, &bot, &sz);
    if (!m->g0.asan_bottom) { m->g0.asan_bottom = bot; m->g0.asan_size = sz; }
#endif
    (void)m; (void)self;
}
/* An M's thread starts: its g0 is the thread's own TSan fiber. */
static inline void gort__san_thread_start(gort__m *m) {
#ifdef GORT__TSAN
    m->g0.tsan_fiber = __tsan_get_current_fiber();
#endif
    (void)m;
}
/* A goroutine's lifetime begins on a segment (on the spawner's thread). A
   reused segment may carry ASan shadow of its last goroutine's frames (one
   that ended with gort_exit never unwound them). TSan gets one fiber per
   lifetime (see gort__san_fiber_end); creating it on the spawner also
   orders the spawner's writes before the child. */
static inline void gort__san_fiber_begin(gort__g *g) {
#ifdef GORT__ASAN
    __asan_unpoison_memory_region(g->stack_lo, (size_t)(g->stack_hi - g->stack_lo));
#endif
#ifdef GORT__TSAN
    GORT_ASSERT(g->tsan_fiber == NULL);
    g->tsan_fiber = __tsan_create_fiber(0);
#endif
    (void)g;
}
/* A lifetime ends (or a goroutine is taken back before it ran). A
   goroutine that ends never returns through its entry frames (nor through
   gort_exit's callers), so its fiber's shadow call stack keeps them; a
   fiber reused by the next goroutine on this segment would grow by a few
   entries per lifetime until TSan overruns it (64Ki entries) and corrupts
   its own memory. Never called for the fiber we are on. */
static inline void gort__san_fiber_end(gort__g *g) {
#ifdef GORT__TSAN
    if (g->tsan_fiber) __tsan_destroy_fiber(g->tsan_fiber);
#endif
    g->tsan_fiber = NULL;
}
/* A segment becomes a stack, or stops being one (Valgrind must know, or
   it takes a switch for a huge stack frame). */
static inline void gort__san_stack_add(gort__g *g) {
#ifdef GORT_VALGRIND
    g->vg_id = VALGRIND_STACK_REGISTER(g->stack_lo, g->stack_hi);
#endif
    (void)g;
}
static inline void gort__san_stack_del(gort__g *g) {
#ifdef GORT_VALGRIND
    VALGRIND_STACK_DEREGISTER(g->vg_id);
#endif
    (void)g;
}

/* ---------------------------------------------------------------- >>stack
   A goroutine's stack is a fixed-size segment of a large reservation:

       slot:  [ guard page | usable stack ... grows down <- ]
              lo                                             hi
       region: [ slot 0 | slot 1 | ... | slot n-1 | G array: G 0 .. G n-1 ]

   Why segments of one big mmap: a million stacks cost a few hundred map
   entries (vm.max_map_count is 65,530 by default), and the kernel commits
   pages only as they are touched, so a parked goroutine costs the page it
   uses plus its share of a page table. The Gs of a region's slots sit
   together after them (slot i's at gs + i * gsize): not on the stacks,
   so that a long-parked goroutine's stack pages can go back to the OS
   while wakers, timers and dumps still read its G (>>compact); and dense,
   so that a walk over every G (sysmon's compaction pass, the deadlock
   check, dumps) touches 12 Gs per page. A slot that goes cold takes its
   G's page with it once every G on that page is cold (gort__cold_push).

   Why a guard page: C cannot grow stacks, so running off the bottom must
   stop at a page that faults, not in the neighbouring segment. The guard is
   installed when a segment is first handed out (not for the whole
   reservation: each guard forces a page table for its 2 MiB). Modes, best
   first, each probed once because some environments (qemu-user) accept
   MADV_GUARD_INSTALL and install nothing:
     MADV_GUARD_INSTALL   no map entry, survives MADV_DONTNEED (Linux 6.13+)
     mprotect(PROT_NONE)  two map entries per stack; used within a budget
                          read from /proc/sys/vm/max_map_count
     canary               a word at the bottom checked at every switch away
                          (catches an overflow late; last resort)
   A frame larger than a page can jump the guard: build code that runs in
   goroutines with -fstack-clash-protection (gcc and clang, x86-64 and
   aarch64), which makes the compiler touch every page of a large frame as
   it allocates it, so the first touch below the stack is the guard's.
   Without it, a 300 KiB local array moves the stack pointer past the guard
   into the segment below (another goroutine's stack and G) or past the
   reservation, and its writes land there: nothing faults, or a fault comes
   late and elsewhere, and the program may even finish normally with
   another goroutine's memory overwritten. gort checks at every switch that
   the switching goroutine's frame is inside its stack, which catches such
   a frame only while it is live across a switch (a channel operation or a
   yield inside the function); nothing can catch the rest, hence the flag.
   An overflow inside a system call shows up as that call failing with
   EFAULT, not as a signal.

   Windows commits memory when it is promised, not when it is touched, and
   the commit limit (RAM plus page file) counts every committed page: a
   stack must be committed as it grows. There the guard is the system's
   own: a segment is handed out with its top page committed and a
   PAGE_GUARD page below it, the rest reserved, and the switch gives the
   system the goroutine's stack as the thread's (>>asm-win64), so the
   system grows it a page at a time and raises EXCEPTION_STACK_OVERFLOW
   near the bottom (gort__os_stack_ready). The segment's StackLimit (how
   far it has grown) is kept in its G (stack_limit) across goroutines;
   gort__stack_put gives back what went below GORT__SHRINK_KEEP and moves
   the guard page up (gort__os_stack_shrink). Wine's budget of guards is
   the host's map entries, as on Linux with mprotect (>>os-windows).

   Segments are pooled (a per-P cache, then a global hot pool) with their
   guard in place, so a spawn normally makes no system call. A P that
   keeps needing segments never handed out takes them in batches that
   double up to GORT__FRESH_MAX (gort__slots_fresh): one process_madvise
   installs the batch's guards and one more maps the top page of each
   and their Gs' pages, which a spawn storm otherwise paid for with a
   system call and two page faults per goroutine (1M goroutines spawned
   until parked: 6.4 us each before, 3.2 us after, here). Where
   process_madvise cannot do that (before Linux 6.13, Valgrind), each
   segment is guarded on its own as before. A goroutine
   that ran deeper than GORT__SHRINK_KEEP gives the pages below that back
   when it ends; how deep it went is the lowest frame seen at its switches
   (nothing is read from the stack, which would fault in pages never
   touched). A goroutine that went deep and came back up without switching
   leaves its pages to the next goroutine in its segment. When more than
   GORT__HOT_MAX segments sit pooled and unused, and the pool has stopped
   growing (no wave of exits is under way), sysmon hands them back to the
   OS entirely and keeps their addresses in a cold list (gort__stack_trim). Once a reservation has failed (RLIMIT_AS,
   vm.overcommit_memory=2), address space is what the program lacks: from
   then on segments skip the per-P caches (an exit takes the stack lock),
   and sysmon, while no goroutine is being started, unmaps every
   reservation whose segments are all free, within about GORT__TRIM_NS of
   the goroutines' end; a gort allocation that fails in a goroutine does so
   at once and retries (gort__stack_release). So a burst that hit the limit
   leaves the rest of the program its memory back when it ends. */
/* Why 128 KiB: C code is not written for small stacks (printf with a
   locale, getaddrinfo, a compression library each want 8-64 KiB), and a
   reservation costs no memory until touched; but every eight slots of
   256 KiB take a page table of their own, and page tables are what a
   hypervisor that shadows them (paging without EPT/NPT, nested guests,
   PVM) keeps a bounded number of. There, measured on a 2-CPU PVM guest,
   one write to each of 1M pages 256 KiB apart cost 730-1700 ns a page
   once the pages had been touched (the shadow tables overflow and are
   rebuilt), 128 KiB apart 45-90 ns, 4 KiB apart 25 ns; waking 1M parked
   goroutines went from 4.2 us each with 256 KiB slots to 0.9 us with
   128 KiB. A parked goroutine costs 4.7 KiB (its top page, its G, and
   0.25 KiB of page table: one 4 KiB table per sixteen slots), 1.1 KiB
   once compacted (>>compact). 64 KiB slots would save another 0.1 KiB
   while making overflows twice as likely again, so the default is
   128 KiB; $GORT_STACK_SIZE or gort_opts.stack_size give more. Under
   ASan it is 256 KiB: its redzones make every frame with a local array
   larger (a goroutine recursing through 1 KiB arrays overflowed 128 KiB
   at 96 frames). On Windows too: a Win64 frame carries 32 bytes of
   shadow space and the system keeps 16 KiB of every stack for the
   overflow report, so Go's TestStackGrowth (1024 calls deep) overflowed
   128 KiB there. */
#if defined(GORT__ASAN) || defined(GORT__OS_WIN)
#define GORT__DEFAULT_STACK (256u * 1024u)
#else
#define GORT__DEFAULT_STACK (128u * 1024u)
#endif
#define GORT__SHRINK_KEEP   (32u * 1024u)
#define GORT__HOT_MAX       4096
#define GORT__REGION_BYTES  ((size_t)4 << 30)

/* Process-wide table of reservations, for the SIGSEGV handler (which may
   not take locks). Entries are appended with a release store of the count
   and cleared on unmap. */
typedef struct { char *base; size_t len; size_t slot; size_t page; char *gs; } gort__segv_region;
static gort__segv_region gort__segv_tab[GORT__MAX_REGIONS];
static uint32_t gort__segv_n;
static uint32_t gort__segv_lock;

static size_t gort__gsize(void) { return (sizeof(gort__g) + 63) & ~(size_t)63; }
/* Slot i of region r, and its G. */
static char *gort__slot_at(gort__rt *rt, const gort__region *r, size_t i) { return r->base + i * rt->slot_size; }
static gort__g *gort__slot_g(const gort__region *r, size_t i) { return (gort__g *)(void *)(r->gs + i * gort__gsize()); }
/* The G array's bytes for n slots, whole pages. */
static size_t gort__garray_len(size_t n, size_t page) { return (n * gort__gsize() + page - 1) & ~(page - 1); }

static void gort__segv_add(char *base, size_t len, size_t slot, size_t page, char *gs) {
    uint32_t i;
    gort__lock(&gort__segv_lock);
    for (i = 0; i < gort__segv_n; i++) {
        if (gort__segv_tab[i].base == NULL) break;
    }
    if (i < GORT__MAX_REGIONS) {
        gort__segv_tab[i].len = len; gort__segv_tab[i].slot = slot; gort__segv_tab[i].page = page;
        gort__segv_tab[i].gs = gs;
        __atomic_store_n(&gort__segv_tab[i].base, base, __ATOMIC_RELEASE);
        if (i == gort__segv_n) __atomic_store_n(&gort__segv_n, i + 1, __ATOMIC_RELEASE);
    }
    gort__unlock(&gort__segv_lock);
}
static void gort__segv_del(char *base) {
    uint32_t i;
    gort__lock(&gort__segv_lock);
    for (i = 0; i < gort__segv_n; i++)
        if (gort__segv_tab[i].base == base) __atomic_store_n(&gort__segv_tab[i].base, (char *)NULL, __ATOMIC_RELEASE);
    gort__unlock(&gort__segv_lock);
}

static void gort__main_wrapper(void *arg);
typedef struct { void (*fn)(void *); void *arg; } gort__main_rec;
static gort__main_rec gort__main_args;

/* The start function's name for reports; gort_run's main goroutine is
   named by the user's function. */
static void gort__sym_name(uintptr_t pc, char *buf, size_t n);   /* >>diag */
/* A start function's name (static functions too), or where it is. */
static void gort__fn_name(void (*fn)(void *), char *buf, size_t n) {
    void *p;
    if (fn == gort__main_wrapper && gort__main_args.fn) fn = gort__main_args.fn;
    memcpy(&p, &fn, sizeof p);
    gort__sym_name((uintptr_t)p, buf, n);
}

/* All of s to fd, or the error that stopped it (0: written). */
static int gort__write_all_raw(int fd, const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return w < 0 ? errno : EIO;
        s += w; n -= (size_t)w;
    }
    return 0;
}

/* Buffered output to an fd, for the dumps and the trace's writer:
   formatted pieces gather in the caller's buffer (no allocation: a dump
   runs after an overflow or a signal) and go out when it fills. err
   keeps the first write error; later output is dropped. */
typedef struct {
    int    fd, err;
    size_t n, cap;
    char  *b;
} gort__out;
static void gort__out_init(gort__out *o, int fd, char *buf, size_t cap) {
    o->fd = fd; o->err = 0; o->n = 0; o->cap = cap; o->b = buf;
}
static void gort__out_flush(gort__out *o) {
    if (!o->err) o->err = gort__write_all_raw(o->fd, o->b, o->n);
    o->n = 0;
}
static void gort__out_put(gort__out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void gort__out_put(gort__out *o, const char *fmt, ...) {
    va_list ap;
    int k;
    va_start(ap, fmt);
    k = vsnprintf(o->b + o->n, o->cap - o->n, fmt, ap);
    va_end(ap);
    if (k > 0 && (size_t)k >= o->cap - o->n && o->n > 0) {   /* did not fit: again, in an empty buffer */
        gort__out_flush(o);
        va_start(ap, fmt);
        k = vsnprintf(o->b, o->cap, fmt, ap);
        va_end(ap);
    }
    if (k > 0) o->n += (size_t)k < o->cap - o->n ? (size_t)k : o->cap - o->n - 1;   /* else cut short */
}
/* s as a JSON string's contents (quotes, backslashes and control
   characters escaped), at most lim bytes of it. */
static void gort__out_jstr(gort__out *o, const char *s, size_t lim) {
    for (; *s && lim; s++, lim--) {
        unsigned char c = (unsigned char)*s;
        if (o->cap - o->n < 8) gort__out_flush(o);
        if (c == '"' || c == '\\') { o->b[o->n++] = '\\'; o->b[o->n++] = (char)c; }
        else if (c < 0x20) o->n += (size_t)snprintf(o->b + o->n, 8, "\\u%04x", c);
        else o->b[o->n++] = (char)c;
    }
}

static void gort__overflow_report(gort__g *g, size_t stack_bytes) {
    char name[128], msg[512];
    int n;
    gort__fn_name(g->fn, name, sizeof name);
    n = snprintf(msg, sizeof msg,
                 "gort: stack overflow in goroutine %llu (started at %s): it used up its %llu KiB stack; "
                 "raise gort_opts.stack_size or $GORT_STACK_SIZE, or use less stack (big locals, deep recursion)\n",
                 (unsigned long long)g->id, name, (unsigned long long)(stack_bytes / 1024));
    if (n > 0) gort__write_all_raw(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

static void gort__overflow_trace(gort__g *g, uintptr_t pc, uintptr_t fp, const void *uc);   /* >>diag */
static int gort__compact_fault(gort__g *g, const char *a);   /* >>compact */

/* A fault at a: a guard page's is a goroutine's overflow (report and
   abort); one in a compacted stack is restored (1: retry the access).
   0: not gort's. pc and fp (or 0s) are the faulting code's, for the
   report's stack trace. overflow: the system said it is one (Windows'
   EXCEPTION_STACK_OVERFLOW; a is the stack pointer): whose stack it is. */
static int gort__fault_at(char *a, uintptr_t pc, uintptr_t fp, int overflow, const void *uc) {
    uint32_t i, n = __atomic_load_n(&gort__segv_n, __ATOMIC_ACQUIRE);
    for (i = 0; i < n; i++) {
        char *base = __atomic_load_n(&gort__segv_tab[i].base, __ATOMIC_ACQUIRE);
        size_t off;
        if (!base || a < base || a >= base + gort__segv_tab[i].len) continue;
        off = (size_t)(a - base) % gort__segv_tab[i].slot;
        if (off >= gort__segv_tab[i].page && !overflow) {
            int saved = errno;   /* the restore's system calls must not show in the interrupted code's errno */
            int restored = gort__compact_fault(
                (gort__g *)(void *)(gort__segv_tab[i].gs + (size_t)(a - base) / gort__segv_tab[i].slot * gort__gsize()), a);
            errno = saved;
            if (restored) return 1;   /* a compacted stack, restored: the access is retried */
        }
        if (off < gort__segv_tab[i].page || overflow) {
            size_t idx = (size_t)(a - base) / gort__segv_tab[i].slot;
            gort__g *g = (gort__g *)(void *)(gort__segv_tab[i].gs + idx * gort__gsize());
            gort__overflow_report(g, gort__segv_tab[i].slot - gort__segv_tab[i].page);
            gort__overflow_trace(g, pc, fp, uc);
            signal(SIGABRT, SIG_DFL);
            abort();
        }
    }
    return 0;
}

#if defined(GORT__OS_LINUX)
/* Runs on the M's alternate signal stack. Anything that is not gort's
   goes on to the handler the program had (or the default action). */
static void gort__segv_handler(int sig, siginfo_t *si, void *uc) {
    uintptr_t pc = 0, fp = 0;
#if defined(GORT__ARCH_X64) && defined(REG_RBP)
            pc = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
            fp = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RBP];
#elif defined(GORT__ARCH_A64)
            pc = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.pc;
            fp = (uintptr_t)((ucontext_t *)uc)->uc_mcontext.regs[29];
#endif
    if (!gort__fault_at((char *)si->si_addr, pc, fp, 0, uc)) gort__os_fault_chain(sig, si, uc);   /* not ours */
}
#else
/* A vectored exception handler, on the faulting stack. A goroutine's
   overflow is the system's EXCEPTION_STACK_OVERFLOW, raised with
   GORT__OS_GUARANTEE bytes of the stack left for the handlers
   (gort__os_stack_ready); the goroutine is the one whose segment holds
   the stack pointer. An access violation in a segment's bottom page is
   an overflow too (a frame that skipped the guard page), as is a guard
   page's fault (STATUS_GUARD_PAGE_VIOLATION) outside the stack the
   system knows. Everything not gort's goes on down the chain. */
static LONG CALLBACK gort__segv_handler(EXCEPTION_POINTERS *ep) {
    DWORD code = ep->ExceptionRecord->ExceptionCode;
    uintptr_t pc = (uintptr_t)ep->ContextRecord->Rip, fp = (uintptr_t)ep->ContextRecord->Rbp;
    if (code == EXCEPTION_STACK_OVERFLOW)
        return gort__fault_at((char *)ep->ContextRecord->Rsp, pc, fp, 1, ep->ContextRecord)
                   ? EXCEPTION_CONTINUE_EXECUTION : EXCEPTION_CONTINUE_SEARCH;
    if ((code != EXCEPTION_GUARD_PAGE && code != EXCEPTION_ACCESS_VIOLATION) ||
        ep->ExceptionRecord->NumberParameters < 2)
        return EXCEPTION_CONTINUE_SEARCH;
    return gort__fault_at((char *)ep->ExceptionRecord->ExceptionInformation[1], pc, fp, 0, ep->ContextRecord)
               ? EXCEPTION_CONTINUE_EXECUTION : EXCEPTION_CONTINUE_SEARCH;
}
#endif


/* Does a guard installed this way really fault (gort__os_guard_faults)?
   1 works, 0 does not, -1 could not tell (out of memory or fds: not
   cached). EINVAL from MADV_GUARD_INSTALL: not this kernel. */
static int gort__guard_works(int mode, size_t page) {
    int ok, e;
    char *m = gort__os_reserve(2 * page);
    if (!m) return -1;
    if ((e = gort__os_guard(m, page, mode)) != 0) ok = (e == -ENOMEM || e == -EAGAIN) ? -1 : mode == GORT__GUARD_MADV ? 0 : -1;
    else ok = gort__os_guard_faults(m);
    gort__os_release(m, 2 * page);
    return ok;
}

/* How many mprotect guards fit under vm.max_map_count (each splits the
   reservation's map entry in two), keeping GORT__MAPS_KEEP entries for the
   program: its libraries, thread stacks and mallocs' arenas take a few
   hundred; 2048 leaves room for a program that maps files as well. */
#define GORT__MAPS_KEEP 2048
static void gort__mprot_budget(gort__rt *rt) {
    rt->map_max = gort__os_map_max();
    rt->mprot_budget = (rt->map_max - gort__os_map_count() - GORT__MAPS_KEEP) / 2;
    if (rt->mprot_budget < 0) rt->mprot_budget = 0;
}

/* A segment gets a canary although guards were chosen: say so, once. */
static void gort__guard_lost(gort__rt *rt, const char *why) {
    char msg[600];
    long nguarded = GORT__LOAD(&rt->nguarded);
    if (rt->guard_said) return;
    rt->guard_said = 1;
    snprintf(msg, sizeof msg,
             "%ld goroutine stacks have guard pages, later ones get canary checks (an overflow is found late, at "
             "the next switch) because %s; to guard them all, %s raise vm.max_map_count (now %ld) by 2 per "
             "stack: %ld would guard %ld more",
             nguarded, why,
#if defined(GORT__OS_WIN)
             "run on Windows itself (Wine makes each guard two of the host's map entries) or, on the host,",
#else
             "run Linux 6.13+ (MADV_GUARD_INSTALL needs no map entries) or",
#endif
             rt->map_max, rt->map_max + 2 * (nguarded > 1024 ? nguarded : 1024), nguarded > 1024 ? nguarded : 1024L);
    gort__misuse(msg);
}

static void gort__stack_init(gort__rt *rt) {
    static int probed;            /* 0 unknown, else the mode; same for the process */
    int mode = __atomic_load_n(&probed, __ATOMIC_ACQUIRE);
    if (!mode) {
        int madv = gort__guard_works(GORT__GUARD_MADV, rt->page);
        int mprot = madv == 1 ? 1 : gort__guard_works(GORT__GUARD_MPROT, rt->page);
        mode = madv == 1 ? GORT__GUARD_MADV : mprot == 1 ? GORT__GUARD_MPROT : GORT__GUARD_CANARY;
        /* a probe that could not tell (no memory) is not the answer for
           the process: the next runtime asks again */
        if (madv >= 0 && mprot >= 0) __atomic_store_n(&probed, mode, __ATOMIC_RELEASE);
        if (mode == GORT__GUARD_CANARY && !(rt->debug & GORT_DEBUG_GUARD_CANARY))
            gort__misuse(mprot < 0 ? "no guard page could be tested (out of memory): goroutine stacks get canary checks, "
                                     "which find an overflow late (at the next switch) instead of at the faulting access"
                                   : "guard pages do not fault here (an emulator?): goroutine stacks get canary checks, "
                                     "which find an overflow late (at the next switch) instead of at the faulting access");
    }
    if ((rt->debug & GORT_DEBUG_GUARD_MPROT) && mode == GORT__GUARD_MADV) mode = GORT__GUARD_MPROT;
    if (rt->debug & GORT_DEBUG_GUARD_CANARY) mode = GORT__GUARD_CANARY;
    rt->guard_mode = mode;
    if (mode != GORT__GUARD_MADV || (rt->compact_ns >= 0 && !gort__os_compact_probe(rt->page)))
        rt->compact_ns = -1;   /* >>compact needs MADV_GUARD_INSTALL and /proc/self/mem */
#if defined(GORT__TSAN) || defined(GORT_VALGRIND)
    rt->compact_ns = -1;   /* >>compact: TSan's code may fault holding its lock; Valgrind knows no guards */
#endif
    if (mode == GORT__GUARD_MPROT) gort__mprot_budget(rt);
    rt->region_slots = GORT__REGION_BYTES / rt->slot_size;
    if (rt->region_slots > 4096) rt->region_slots = 4096;
    if (rt->region_slots < 1) rt->region_slots = 1;
}

/* New reservation (stack lock held). Where the kernel charges the whole
   reservation (vm.overcommit_memory=2, RLIMIT_AS), try smaller ones before
   giving up, and go down the sizes a second time before saying -ENOMEM:
   near the limit another thread's mapping may be there for a moment only
   (glibc maps 64 MiB and unmaps it again each time a thread without an
   arena mallocs and cannot get one), and one such moment cost a quarter
   of the goroutines that fit. */
static gort__region *gort__region_new(gort__rt *rt) {
    size_t n = rt->region_slots;
    int tries = 0;
    for (;;) {
        size_t len = n * rt->slot_size + gort__garray_len(n, rt->page);
        /* segments with canaries only (guard pages chosen, but their
           budget is used up): all of it usable at once (>>os-windows) */
        int whole = rt->guard_mode == GORT__GUARD_CANARY || (rt->guard_mode == GORT__GUARD_MPROT && rt->mprot_budget <= 0);
        char *b = rt->nregions < GORT__MAX_REGIONS ? gort__os_stack_region(len, n * rt->slot_size, whole) : NULL;
        if (b) {
            gort__region *r = (gort__region *)calloc(1, sizeof *r);
            uint8_t *cold = (uint8_t *)calloc(n / 8 + 1, 1);
            long i;
            if (!r || !cold) { free(r); free(cold); gort__os_release(b, len); return NULL; }
            r->cold = cold;
            r->base = b; r->nslots = n; r->used = 0;
            r->whole = whole;
            r->gs = b + n * rt->slot_size;
#ifdef GORT__ASAN
            /* LeakSanitizer does not scan mappings: the Gs hold the only
               pointers to some heap blocks (a compacted stack's copy) */
            __lsan_register_root_region(r->gs, gort__garray_len(n, rt->page));
#endif
            r->next = rt->regions; rt->regions = r;
            for (i = rt->nregions; i > 0 && rt->ridx[i - 1]->base > b; i--) rt->ridx[i] = rt->ridx[i - 1];
            rt->ridx[i] = r;
            rt->nregions++;
            gort__segv_add(b, n * rt->slot_size, rt->slot_size, rt->page, r->gs);
            if (rt->compact_ns >= 0) gort__os_uffd_register(b, len);   /* >>compact's fast restore; -1: the long way */
            return r;
        }
        __atomic_store_n(&rt->stk_pressure, 1, __ATOMIC_RELAXED);
        if (n == 1 && ++tries < 3 && rt->nregions < GORT__MAX_REGIONS) {
            gort__os_yield();   /* out-of-memory path only */
            n = rt->region_slots;
            continue;
        }
        if (n == 1) {
            if (!rt->stk_reported) {
                rt->stk_reported = 1;
                gort__misuse("cannot reserve memory for another goroutine stack (gort_go returns -ENOMEM); "
                             "RLIMIT_AS and vm.overcommit_memory=2 charge every stack reservation in full: "
                             "lower GORT_STACK_SIZE, or raise the limit or vm.overcommit_ratio");
            }
            return NULL;
        }
        n /= 8;
        if (n < 1) n = 1;
    }
}

static void gort__canary_set(gort__g *g) { *(uint64_t *)(void *)g->stack_lo = GORT__CANARY; }

/* Prepare a segment handed out for the first time (or after going cold).
   Called without the stack lock: the slot is the caller's alone, and the
   guard's system call and the first touch of the G's page (a page fault)
   are the slow part of a spawn that needs a fresh segment; under the lock
   they made every other P's spawn and exit wait (88% of skynet's futex
   calls were on the stack lock). The budget of mprotect guards and the
   guard_lost report are shared: the stack lock guards them, taken only on
   those rare paths. 0, or -ENOMEM when the system will not commit the
   segment's first pages (Windows' commit limit): the caller lists it
   cold (gort__slot_unready). ready: the segment's pages are all usable
   already (a region made whole, or a canary segment that went cold:
   gort__os_stack_drop), if it gets a canary. */
static int gort__slot_setup(gort__rt *rt, gort__g *g, char *slot, int guard, int ready) {
    if (!guard) {
        guard = rt->guard_mode;   /* (set before the first goroutine) */
        if (guard == GORT__GUARD_MADV && gort__os_guard(slot, rt->page, GORT__GUARD_MADV) == 0) {
            GORT__ADD(&rt->nguarded, 1);
        } else if (guard != GORT__GUARD_CANARY) {
            const char *why = NULL;
            gort__lock(&rt->stk_lock);
            if (guard == GORT__GUARD_MADV) {
                guard = GORT__GUARD_MPROT;
                if (!rt->map_max) gort__mprot_budget(rt);
                why = "madvise(MADV_GUARD_INSTALL) failed";
            }
            if (rt->mprot_budget > 0 && gort__os_guard(slot, rt->page, GORT__GUARD_MPROT) == 0) {
                rt->mprot_budget--;
                GORT__ADD(&rt->nguarded, 1);
            } else {
#if defined(GORT__OS_WIN)
                if (rt->mprot_budget > 0) why = "VirtualProtect failed (out of memory or, under Wine, map entries)";
#else
                if (rt->mprot_budget > 0) why = "mprotect failed (out of memory or map entries)";
#endif
                else why = why ? "madvise(MADV_GUARD_INSTALL) failed and the vm.max_map_count budget is used up"
                               : "the vm.max_map_count budget for mprotect guards is used up";
                guard = GORT__GUARD_CANARY;
                gort__guard_lost(rt, why);
            }
            gort__unlock(&rt->stk_lock);
        }
    }
    /* status and cst by atomic stores, not the memset: sysmon's
       compaction pass reads them in every G of the region (>>compact) */
    memset(g, 0, offsetof(gort__g, status));
    memset((char *)g + offsetof(gort__g, status) + sizeof g->status, 0,
           offsetof(gort__g, cst) - offsetof(gort__g, status) - sizeof g->status);
    memset((char *)g + offsetof(gort__g, cst) + sizeof g->cst, 0,
           offsetof(gort__g, hog_reported) - offsetof(gort__g, cst) - sizeof g->cst);
    __atomic_store_n(&g->status, (uint32_t)GORT__G_FREE, __ATOMIC_RELAXED);
    __atomic_store_n(&g->cst, (uint32_t)GORT__C_NONE, __ATOMIC_RELAXED);
    __atomic_store_n(&g->hog_reported, 0, __ATOMIC_RELAXED);
    g->guard = guard;
    g->rt = rt;
    g->stack_lo = slot + rt->page;
    g->stack_hi = slot + rt->slot_size;
    g->stack_limit = ready && guard == GORT__GUARD_CANARY
                         ? g->stack_lo
                         : gort__os_stack_ready(g->stack_lo, g->stack_hi, rt->page, guard == GORT__GUARD_CANARY);
    if (!g->stack_limit && guard != GORT__GUARD_CANARY &&
        (g->stack_limit = gort__os_stack_ready(g->stack_lo, g->stack_hi, rt->page, 1)) != NULL) {
        /* Windows under Wine: the host's map entries ran out before the
           budget said (Wine's own use is a guess), and a segment without
           a guard page needs none: a canary from here on. (Where the
           commit limit refused, the whole segment is refused too.) */
        GORT__ADD(&rt->nguarded, -1);
        gort__lock(&rt->stk_lock);
        rt->mprot_budget = 0;
        gort__guard_lost(rt, "a guard page could not be made (out of memory or, under Wine, map entries)");
        gort__unlock(&rt->stk_lock);
        guard = g->guard = GORT__GUARD_CANARY;
    }
    if (!g->stack_limit) return -ENOMEM;
    if (guard == GORT__GUARD_CANARY) gort__canary_set(g);
    gort__san_stack_add(g);
    return 0;
}

/* Move p's whole cache to the hot pool (p's owner, or the sched lock held
   with p idle). */
static void gort__stack_spill(gort__rt *rt, gort__p *p) {
    gort__lock(&rt->stk_lock);
    while (p->gfree) {
        gort__g *x = p->gfree;
        p->gfree = x->schedlink;
        x->schedlink = rt->stk_free; rt->stk_free = x; rt->nstk_free++;
    }
    p->ngfree = 0;
    gort__unlock(&rt->stk_lock);
}

/* No segment can be mapped (RLIMIT_AS, memory): before gort_go says
   -ENOMEM, take back what other Ps keep cached. An idle P's cache is
   nobody's while the sched lock is held; a busy P is asked to spill its
   own (at its next goroutine exit or when it goes idle) and clears its
   gfree_spill when it has. We wait until every P has answered, or for
   GORT__RECLAIM_NS when one runs a goroutine that does not end: a fixed
   short wait lost a busy P's cache whenever its thread was not scheduled
   in time (tests/test_faults.c, reclaim, under TSan and load). 1 if the
   hot pool has a segment now. */
#define GORT__RECLAIM_NS 200000000LL
static int gort__stack_reclaim(gort__rt *rt, gort__p *self) {
    int i, asked = 0;
    long n;
    int64_t until = gort__nanotime() + GORT__RECLAIM_NS;
    for (;;) {
        gort__p *p;
        int pending = 0;
        gort__lock(&rt->lock);
        for (p = rt->pidle; p; p = p->link) {
            if (p->gfree) gort__stack_spill(rt, p);
            __atomic_store_n(&p->gfree_spill, 0, __ATOMIC_SEQ_CST);   /* answered for it */
        }
        gort__unlock(&rt->lock);
        /* Flags before the count: an owner spills, then clears its flag. */
        if (asked)
            for (i = 0; i < rt->nprocs; i++)
                pending += &rt->allp[i] != self && __atomic_load_n(&rt->allp[i].gfree_spill, __ATOMIC_SEQ_CST);
        gort__lock(&rt->stk_lock);
        n = rt->nstk_free;
        gort__unlock(&rt->stk_lock);
        if (n > 0) return 1;
        if (rt->nprocs == 1 && self) return 0;
        if ((asked && !pending) || gort__nanotime() > until) return 0;
        if (!asked) {
            asked = 1;
            for (i = 0; i < rt->nprocs; i++)
                if (&rt->allp[i] != self) __atomic_store_n(&rt->allp[i].gfree_spill, 1, __ATOMIC_SEQ_CST);
            continue;   /* Ps that went idle meanwhile are answered for under the lock */
        }
        gort__os_yield();   /* out-of-memory path only: give the owners a moment */
    }
}

static gort__region *gort__region_of(gort__rt *rt, const char *slot);
/* A segment for a new goroutine, or NULL when none can be mapped. */
/* Set up fresh segments first..first+k-1 of r (just taken from r->used
   under the stack lock, so ours alone) for p: one process_madvise guards
   them all and one maps their top pages and their Gs' pages (each would
   have been a page fault at the goroutine's first switch), then the
   first is returned and the others go to p's cache. Where the batched
   calls are not to be had, each segment is guarded on its own (the
   population is only a saving). */
#define GORT__FRESH_MAX 32   /* <= GORT__GCACHE / 2: the rest fit p's cache */
static void gort__slot_unready(gort__rt *rt, gort__g *g);
/* A cold list entry: the slot's address, its guard (GORT__GUARD_MADV or
   _MPROT; 0: a canary, which tries for a guard again) in the low bits,
   and GORT__COLD_UNREADY when gort__slot_setup failed on it (its pages
   were never made usable, canary or not). */
#define GORT__COLD_UNREADY 4
#define GORT__COLD_BITS    7
static GORT__NOINLINE gort__g *gort__slots_fresh(gort__rt *rt, gort__p *p, gort__region *r, size_t first, size_t k) {
    struct iovec v[GORT__FRESH_MAX + 1];   /* (one array, used twice: this runs on a goroutine's stack) */
    size_t j, gsz = gort__gsize();
    int guard = 0;
    GORT_ASSERT(k >= 1 && k <= GORT__FRESH_MAX && first + k <= r->nslots);   /* (used moves: the stack lock's) */
    if (rt->guard_mode == GORT__GUARD_MADV) {
        for (j = 0; j < k; j++) {
            v[j].iov_base = gort__slot_at(rt, r, first + j);
            v[j].iov_len = rt->page;
        }
        if (gort__os_madvise_vec(v, (int)k, MADV_GUARD_INSTALL) == 0) {
            guard = GORT__GUARD_MADV;
            GORT__ADD(&rt->nguarded, (long)k);
        }
    }
    for (j = 0; j < k; j++) {
        v[j].iov_base = gort__slot_at(rt, r, first + j) + rt->slot_size - rt->page;
        v[j].iov_len = rt->page;
    }
    {
        uintptr_t lo = (uintptr_t)(r->gs + first * gsz) & ~(uintptr_t)(rt->page - 1);
        uintptr_t hi = ((uintptr_t)(r->gs + (first + k) * gsz) + rt->page - 1) & ~(uintptr_t)(rt->page - 1);
        v[k].iov_base = (void *)lo;
        v[k].iov_len = (size_t)(hi - lo);
    }
    (void)gort__os_madvise_vec(v, (int)k + 1, MADV_POPULATE_WRITE);
    for (j = k; j-- > 0;) {   /* the cache hands them out in address order */
        gort__g *g = gort__slot_g(r, first + j);
        if (gort__slot_setup(rt, g, gort__slot_at(rt, r, first + j), guard, r->whole) != 0) {
            gort__slot_unready(rt, g);
            if (j == 0) return NULL;
            continue;
        }
        if (j > 0) {
            g->schedlink = p->gfree; p->gfree = g; p->ngfree++;
        }
    }
    return gort__slot_g(r, first);
}

static gort__g *gort__stack_get(gort__rt *rt, gort__p *p) {
    gort__g *g = NULL;
    char *slot = NULL;
    int guard = 0, reclaimed = 0, ready = 0;
    gort__region *fr = NULL;   /* fresh segments fi..fi+fk-1 of fr taken */
    size_t fi = 0, fk = 1;
retry:
    if (p && p->gfree) {
        g = p->gfree; p->gfree = g->schedlink; p->ngfree--;
        return g;
    }
    gort__lock(&rt->stk_lock);
    rt->stk_gets++;
    if (rt->stk_free) {
        /* Refill the P's cache with half a cache's worth in one lock hold. */
        int n = 0;
        if (p) p->fresh_batch = 0;   /* segments come back: fresh ones start in small batches again */
        g = rt->stk_free; rt->stk_free = g->schedlink; rt->nstk_free--;
        while (p && rt->stk_free && n < GORT__GCACHE / 2 && !__atomic_load_n(&rt->stk_pressure, __ATOMIC_RELAXED)) {
            gort__g *x = rt->stk_free;
            rt->stk_free = x->schedlink; rt->nstk_free--;
            x->schedlink = p->gfree; p->gfree = x; p->ngfree++; n++;
        }
        gort__unlock(&rt->stk_lock);
        return g;
    }
    if (rt->ncold > 0) {
        uintptr_t v = (uintptr_t)rt->stk_cold[--rt->ncold];
        if (p) p->fresh_batch = 0;
        gort__region *r;
        slot = (char *)(v & ~(uintptr_t)GORT__COLD_BITS);
        guard = (int)(v & 3);
        size_t i;
        r = gort__region_of(rt, slot);
        i = (size_t)(slot - r->base) / rt->slot_size;
        r->cold[i / 8] &= (uint8_t)~(1u << (i % 8));
        g = gort__slot_g(r, i);
        ready = r->whole || (!guard && !(v & GORT__COLD_UNREADY));   /* (a canary's tag has no guard bits) */
    } else {
        gort__region *r = rt->regions;
        if (!r || r->used == r->nslots) r = gort__region_new(rt);
        if (r) {
            /* A P that keeps needing fresh segments takes them a batch at
               a time (1, 2, 4 ... GORT__FRESH_MAX), the rest into its
               cache: one system call guards the batch and one maps its
               first pages, where each segment cost one of each, plus a
               page fault (gort__slots_fresh). */
            if (p && !__atomic_load_n(&rt->stk_pressure, __ATOMIC_RELAXED) && p->ngfree == 0) {
                fk = p->fresh_batch > 1 ? (size_t)p->fresh_batch : 1;
                if (fk > r->nslots - r->used) fk = r->nslots - r->used;
                if (p->fresh_batch < GORT__FRESH_MAX) p->fresh_batch = p->fresh_batch ? p->fresh_batch * 2 : 2;
            }
            fr = r; fi = r->used;
            ready = r->whole;
            g = gort__slot_g(r, r->used); slot = gort__slot_at(rt, r, r->used); r->used += fk;
        }
    }
    gort__unlock(&rt->stk_lock);
    if (fk > 1) g = gort__slots_fresh(rt, p, fr, fi, fk);   /* ours alone now: outside the lock */
    else if (slot && gort__slot_setup(rt, g, slot, guard, ready) != 0) {
        gort__slot_unready(rt, g);
        g = NULL;
    }
    if (!g && !reclaimed) {
        reclaimed = 1;
        if (gort__stack_reclaim(rt, p)) goto retry;
    }
    return g;
}

/* Did the goroutine run deeper than GORT__SHRINK_KEEP? Judged by the
   lowest frame seen when it switched away (g->sp_low), not by reading the
   stack: a read of a page it never touched would fault on every exit (a
   zero page mapped and a page-table entry written: a third of skynet's
   time). A goroutine that went deep and came back up without switching is
   not seen; its pages stay with its segment, for the next goroutine there,
   until sysmon's trim gives the segment back (gort__stack_trim). */
static int gort__stack_was_deep(const gort__g *g) {
    return (size_t)(g->stack_hi - g->stack_lo) > GORT__SHRINK_KEEP + 2 * 4096 &&
           (g->sp_low < g->stack_hi - GORT__SHRINK_KEEP ||
            (g->stack_limit > g->stack_lo && g->stack_limit < g->stack_hi - GORT__SHRINK_KEEP));
}

/* Room in the cold list for every slot on its way there (stack lock). */
static int gort__cold_reserve(gort__rt *rt) {
    if (rt->ncold + rt->ncold_pending + 1 > rt->cold_cap) {
        long nc = rt->cold_cap ? rt->cold_cap * 2 : 1024;
        char **a = (char **)realloc(rt->stk_cold, (size_t)nc * sizeof *a);
        if (!a) return 0;
        rt->stk_cold = a; rt->cold_cap = nc;
    }
    return 1;
}
/* List a slot cold (stack lock). Its G goes cold with it: the G array's
   pages whose every G is of a cold slot, or of one never handed out, go
   back to the OS (under the lock, so that no gort__stack_get sets one of
   those Gs up meanwhile). Readers of a stale G pointer (sysmon's hog
   check, the dumps' walks) then read zeros or, on Windows, what the G
   held: GORT__G_FREE either way (a G is FREE before its slot goes cold,
   asserted below). */
static int gort__slot_is_cold(const gort__region *r, size_t i) {
    return i >= r->used || (r->cold[i / 8] >> (i % 8)) & 1;
}
static void gort__cold_push(gort__rt *rt, char *tag) {
    char *slot = (char *)((uintptr_t)tag & ~(uintptr_t)GORT__COLD_BITS);
    gort__region *r = gort__region_of(rt, slot);
    size_t i = (size_t)(slot - r->base) / rt->slot_size, gs = gort__gsize();
    size_t pg, pfirst = i * gs / rt->page, plast = ((i + 1) * gs - 1) / rt->page;
    GORT_ASSERT(__atomic_load_n(&gort__slot_g(r, i)->status, __ATOMIC_RELAXED) == GORT__G_FREE);
    rt->ncold_pending--;
    rt->stk_cold[rt->ncold++] = tag;
    r->cold[i / 8] |= (uint8_t)(1u << (i % 8));
    for (pg = pfirst; pg <= plast; pg++) {
        size_t j = pg * rt->page / gs, jend = ((pg + 1) * rt->page - 1) / gs;
        for (; j <= jend && j < r->nslots; j++)
            if (!gort__slot_is_cold(r, j)) break;
        if (j > jend || j >= r->nslots) gort__os_decommit(r->gs + pg * rt->page, rt->page);
    }
}

/* A segment gort__slot_setup could not make ready goes to the cold list,
   for a later spawn to try again (stack lock not held). Without room in
   the list (malloc failed too) its address space stays unused. */
static void gort__slot_unready(gort__rt *rt, gort__g *g) {
    char *slot = g->stack_lo - rt->page;
    gort__lock(&rt->stk_lock);
    if (gort__cold_reserve(rt)) {
        rt->ncold_pending++;
        gort__cold_push(rt, (char *)((uintptr_t)slot | (uintptr_t)(g->guard == GORT__GUARD_CANARY ? 0 : g->guard) |
                                     GORT__COLD_UNREADY));
    }
    gort__unlock(&rt->stk_lock);
}

static void gort__stack_put(gort__rt *rt, gort__p *p, gort__g *g) {
    if (gort__stack_was_deep(g)) {
        /* Every page wholly below the top GORT__SHRINK_KEEP bytes. */
        char *mark = (char *)(((uintptr_t)(g->stack_hi - GORT__SHRINK_KEEP)) & ~(uintptr_t)4095);
        g->stack_limit = gort__os_stack_shrink(g->stack_lo, g->stack_limit, mark, rt->page, g->guard == GORT__GUARD_CANARY);
        if (g->guard == GORT__GUARD_CANARY) gort__canary_set(g);
    }
    /* Asked to (gort__stack_reclaim), or under memory pressure, where a
       segment kept in a P's cache would keep its region from going back
       (gort__stack_release): the cache goes to the hot pool, g with it. */
    if (p && GORT__UNLIKELY(__atomic_load_n(&p->gfree_spill, __ATOMIC_RELAXED) ||
                            __atomic_load_n(&rt->stk_pressure, __ATOMIC_RELAXED))) {
        gort__stack_spill(rt, p);
        __atomic_store_n(&p->gfree_spill, 0, __ATOMIC_SEQ_CST);   /* after: gort__stack_reclaim */
        p = NULL;   /* g too goes to the hot pool */
    }
    if (p && p->ngfree < GORT__GCACHE) {
        g->schedlink = p->gfree; p->gfree = g; p->ngfree++;
        return;
    }
    gort__lock(&rt->stk_lock);
    if (p) {
        /* Spill half the cache in one lock hold. */
        while (p->ngfree > GORT__GCACHE / 2) {
            gort__g *x = p->gfree;
            p->gfree = x->schedlink; p->ngfree--;
            x->schedlink = rt->stk_free; rt->stk_free = x; rt->nstk_free++;
        }
        if (p->ngfree < GORT__GCACHE) {
            gort__unlock(&rt->stk_lock);
            g->schedlink = p->gfree; p->gfree = g; p->ngfree++;
            return;
        }
    }
    g->schedlink = rt->stk_free; rt->stk_free = g; rt->nstk_free++;
    gort__unlock(&rt->stk_lock);
}

/* Called by sysmon: when the hot pool holds more than GORT__HOT_MAX
   segments, did not grow since the last look, and no goroutine was
   started since then either (goid_gen,
   which the Ps take ids from in batches of 16, did not move: the Ps'
   caches serve most spawns without touching the pool, and a segment
   trimmed in the middle of a spawn storm is faulted back in at once),
   hand up to
   GORT__TRIM_BATCH of them back to the OS. Doing it here rather than at
   exit keeps madvise (and its TLB flush) off the hot path, and a burst of
   a million goroutines that ends and restarts does not pay it at all.
   Returns 1 while more than GORT__HOT_MAX stay (sysmon looks again). */
#define GORT__TRIM_BATCH 4096
static int gort__stack_trim(gort__rt *rt) {
    gort__g *list = NULL, *g;
    long n = 0;
    int more;
    uint64_t gen = GORT__LOAD(&rt->goid_gen);
    if (gen != rt->trim_gen_seen) {
        rt->trim_gen_seen = gen;
        return 1;
    }
    gort__lock(&rt->stk_lock);
    if (rt->nstk_free <= GORT__HOT_MAX || rt->nstk_free != rt->trim_free_seen) {
        /* Below the floor, or still growing: goroutines are still exiting
           (a wave of wake-ups ends a hundred thousand of them), and each
           madvise now would interrupt them with a TLB flush. Later. */
        more = rt->nstk_free > GORT__HOT_MAX;
        rt->trim_free_seen = rt->nstk_free;
        gort__unlock(&rt->stk_lock);
        return more;
    }
    while (rt->nstk_free > GORT__HOT_MAX && n < GORT__TRIM_BATCH && gort__cold_reserve(rt)) {
        g = rt->stk_free;
        rt->stk_free = g->schedlink; rt->nstk_free--;
        g->schedlink = list; list = g;
        rt->ncold_pending++;
        n++;
    }
    more = rt->nstk_free > GORT__HOT_MAX;
    gort__unlock(&rt->stk_lock);
    while (list) {
        char *slot;
        uintptr_t tag;
        g = list;
        list = g->schedlink;
        slot = g->stack_lo - rt->page;
        tag = (uintptr_t)slot | (uintptr_t)(g->guard == GORT__GUARD_CANARY ? 0 : g->guard);
        GORT_ASSERT(g->tsan_fiber == NULL);   /* a free segment has none */
        gort__san_stack_del(g);
        /* Pages first, then the list: once listed, another thread may set
           the slot up for a new goroutine. */
        gort__os_stack_drop(slot + rt->page, slot + rt->slot_size, g->guard == GORT__GUARD_CANARY);
        gort__lock(&rt->stk_lock);
        gort__cold_push(rt, (char *)tag);
        gort__unlock(&rt->stk_lock);
    }
    return more;
}

/* Give a region's memory back (slots and G array). */
static void gort__region_unmap(gort__rt *rt, gort__region *r) {
#ifdef GORT__ASAN
    __lsan_unregister_root_region(r->gs, gort__garray_len(r->nslots, rt->page));
#endif
    gort__os_release(r->base, r->nslots * rt->slot_size + gort__garray_len(r->nslots, rt->page));
}

/* The region holding a slot (stack lock held). */
static gort__region *gort__region_of(gort__rt *rt, const char *slot) {
    long lo = 0, hi = rt->nregions - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        gort__region *r = rt->ridx[mid];
        if (slot < r->base) hi = mid - 1;
        else if (slot >= r->base + r->nslots * rt->slot_size) lo = mid + 1;
        else return r;
    }
    GORT_ASSERT(!"a free segment outside every region");
    return NULL;
}

/* Memory pressure: a reservation failed (RLIMIT_AS, vm.overcommit_memory=2),
   so the address space held by free segments is what the rest of the
   program lacks: after a burst that hit the limit, malloc would fail for
   good. Give back every region none of whose segments is in use: spill the
   idle Ps' caches, count each region's free segments in the hot pool and
   the cold list, and unmap the regions where that count is every segment
   handed out. Segments in a busy P's cache or on their way to the cold
   list keep their region for a later pass. Called by sysmon while the
   pool is idle, and by gort's own allocations that failed (gort__calloc).
   Not while a dump walks the regions. Returns the regions released. */
static long gort__stack_release(gort__rt *rt) {
    gort__region *r, **pr, *dead = NULL;
    gort__g **pg;
    gort__p *p;
    long i, k, released = 0;
    gort__lock(&rt->lock);
    for (p = rt->pidle; p; p = p->link)
        if (p->gfree) gort__stack_spill(rt, p);
    gort__unlock(&rt->lock);
    gort__lock(&rt->stk_lock);
    rt->rel_seen = rt->nstk_free + rt->ncold;
    rt->rel_gets_seen = rt->stk_gets;
    if (rt->stk_walkers) {
        gort__unlock(&rt->stk_lock);
        return 0;
    }
    for (i = 0; i < rt->nregions; i++) rt->ridx[i]->nfree = 0;
    for (pg = &rt->stk_free; *pg; pg = &(*pg)->schedlink) gort__region_of(rt, (*pg)->stack_lo - rt->page)->nfree++;
    for (i = 0; i < rt->ncold; i++) gort__region_of(rt, (char *)((uintptr_t)rt->stk_cold[i] & ~(uintptr_t)GORT__COLD_BITS))->nfree++;
    for (pg = &rt->stk_free; *pg;) {
        gort__g *g = *pg;
        r = gort__region_of(rt, g->stack_lo - rt->page);
        if (r->nfree == r->used) {
            GORT_ASSERT(g->tsan_fiber == NULL);   /* a free segment has none */
            *pg = g->schedlink; rt->nstk_free--;
            gort__san_stack_del(g);
        } else pg = &g->schedlink;
    }
    for (i = k = 0; i < rt->ncold; i++) {
        r = gort__region_of(rt, (char *)((uintptr_t)rt->stk_cold[i] & ~(uintptr_t)GORT__COLD_BITS));
        if (r->nfree != r->used) rt->stk_cold[k++] = rt->stk_cold[i];
    }
    rt->ncold = k;
    for (pr = &rt->regions; (r = *pr);) {
        if (r->nfree == r->used) { *pr = r->next; r->next = dead; dead = r; }
        else pr = &r->next;
    }
    for (i = k = 0; i < rt->nregions; i++)
        if (rt->ridx[i]->nfree != rt->ridx[i]->used) rt->ridx[k++] = rt->ridx[i];
    rt->nregions = k;
    rt->rel_seen = rt->nstk_free + rt->ncold;
    gort__unlock(&rt->stk_lock);
    while ((r = dead)) {
        dead = r->next;
        gort__segv_del(r->base);
        gort__region_unmap(rt, r);
        free(r->cold);
        free(r);
        released++;
    }
    return released;
}

/* sysmon: under pressure, a pass when segments were freed and none taken
   since the last one. Returns 1 under pressure (sysmon looks again). */
static int gort__stack_release_idle(gort__rt *rt) {
    int go;
    if (!__atomic_load_n(&rt->stk_pressure, __ATOMIC_RELAXED)) return 0;
    gort__lock(&rt->stk_lock);
    go = rt->stk_gets == rt->rel_gets_seen && rt->nstk_free + rt->ncold != rt->rel_seen;
    rt->rel_gets_seen = rt->stk_gets;
    gort__unlock(&rt->stk_lock);
    if (go) gort__stack_release(rt);
    return 1;
}

/* calloc for gort's own objects, called with no gort lock held: when it
   fails in a goroutine under memory pressure, free segments go back first
   (the program may have just ended a burst of goroutines that hit the
   limit). A plain thread's call has no runtime it may use: sysmon's pass
   serves it within GORT__TRIM_NS. */
static void *gort__calloc(size_t n, size_t size) {
    void *v = calloc(n, size);
    gort__m *m;
    if (!v && (m = gort__getm()) != NULL && m->p && m->rt && __atomic_load_n(&m->rt->stk_pressure, __ATOMIC_RELAXED) &&
        gort__stack_release(m->rt) > 0)
        v = calloc(n, size);
    return v;
}

static void gort__stack_free_all(gort__rt *rt) {
    gort__region *r = rt->regions, *n;
    for (; r; r = n) {
        size_t i;
        n = r->next;
        for (i = 0; i < r->used; i++) {
            gort__g *g = gort__slot_g(r, i);
            if (g->cbuf) { free(g->cbuf); g->cbuf = NULL; }   /* still compacted (>>compact) */
            gort__san_fiber_end(g);
            if (g->stack_lo) gort__san_stack_del(g);
        }
        gort__segv_del(r->base);
        gort__region_unmap(rt, r);
        free(r->cold);
        free(r);
    }
    rt->regions = NULL;
    rt->nregions = 0;
    free(rt->stk_cold);
    rt->stk_cold = NULL;
}

/* ---------------------------------------------------------------- >>compact
   Stack compaction: a goroutine parked for longer than rt->compact_ns
   (gort_opts.compact_ns, $GORT_COMPACT_MS; off unless set; at every
   park under GORT_DEBUG=compact) has the live part of its stack, from its
   saved stack pointer to the top (a few hundred bytes in a typical wait),
   copied to the heap, and the pages that held it given back to the OS
   with a guard installed over them (MADV_GUARD_INSTALL: a fault on
   touch, and no map entry). Pages below the saved stack pointer hold
   nothing live and are simply given back. Whatever touches a compacted
   page first restores it: the M about to resume the goroutine
   (gort__execute), or anyone else, through the fault handler (a waker
   writing a received value into the goroutine's variable, a plain thread
   writing through a pointer it was given into that stack). Restoring
   puts the bytes back in place of the guard (gort__os_unguard_fill:
   one UFFDIO_COPY where the kernel allows it, or the long way); the
   access then completes as if nothing had happened. A system call handed such a pointer fails
   with EFAULT instead (the kernel does not fault on a user's behalf):
   gort's own I/O calls (gort_read and the rest) restore the stack and
   retry; leave compaction off if a program passes pointers into one
   goroutine's stack to raw system calls made by another while it is
   parked.
   The G and a park's timer (g->ptimer) are in the region's G array, never
   on a compacted page, so timer heaps and walks over the Gs do not
   restore anything. A waiter record is on the stack, like the value it
   hands over: gort__wq_pop restores its stack, and the next waiter's
   (whose link it rewrites), before it touches them, so a wake-up takes
   no fault; and it marks the G (crestored) so that sysmon leaves it
   alone until it has run (a close pops every waiter before it readies
   the first, and with 100000 of them that takes longer than
   compact_ns). Any other restore of a parked goroutine keeps sysmon off
   it for compact_ns.

   Only with MADV_GUARD_INSTALL guards (Linux 6.13+): an mprotect guard
   per compacted stack would spend the map entries the guard pages need.
   And only where /proc/self/mem can write into a PROT_NONE page (see
   gort__os_copy_guard for why), and with no RLIMIT_AS: probed once. Not
   under TSan: its runtime touches application memory (an atomic on a
   variable in a parked goroutine's stack) while it holds its own lock,
   and the fault handler's atomics and system calls go through TSan and
   want that lock again. Not in a GORT_VALGRIND build: Valgrind does not
   know MADV_GUARD_INSTALL, and a fault on a guarded page reaches the
   handler as something else (an overflow, in tests/test_compact.c).

   Why it is off unless asked for: first, the EFAULT above. A program
   that hands a buffer on a waiting goroutine's stack to a thread that
   reads into it with a raw read(2) (a blocking-I/O pool, say) works
   until the wait outlasts compact_ns, and then the read fails; gort
   cannot restore on the kernel's behalf without a privileged
   userfaultfd. Second, the cost. A compaction is four system calls
   that change page tables (two split and merge a map entry under the
   mmap lock, two flush other CPUs' TLBs): about 30 us of sysmon's time
   on a 2-vCPU VM (bench/gort_compact.c's compact_cost). A wake-up that
   restores costs about 3 us there with the fast restore (compact_wake;
   tens of microseconds the long way), where a plain wake costs 1 us. A
   program that parks goroutines for long and wakes them rarely (a
   server holding idle connections) gains 3.6 KiB per goroutine for that;
   one whose goroutines sleep a second in a loop pays it every second.
   sysmon spends at most GORT__COMPACT_BUDGET_NS of every look on it.

   Page tables stay: of a compacted goroutine's 1.1 KiB, 0.25 KiB is its
   share of a page table (one per sixteen 128 KiB slots), which the
   kernel frees only when a range is unmapped, not on MADV_DONTNEED or a
   guard. Regrouping compacted goroutines so that whole tables could go
   would mean moving stacks, and pointers into them would break; a
   smaller slot would save the same 0.2 KiB and make overflows likelier
   (see GORT__DEFAULT_STACK). 1.1 KiB is under the 2 KiB asked for, so
   neither is done.

   States (g->cst), each change a CAS or a release store by the one
   thread the state lets act:
     0           running, runnable, or not parked through gort__park_g
     PARKED      parked, its context saved (set by the M that switched
                 away from it, before the park is published to wakers
                 and timers); the compactor may take it
     COMPACTING  the compactor's: the pages are read-only while it copies
                 (a write there faults, and the handler waits for the
                 copy), then guarded
     COMPACTED   pages guarded, the copy in g->cbuf
     RESTORING   a restorer's: guard removed, bytes going back; then
                 PARKED again
   gort__execute takes PARKED to 0 with a CAS before it switches to the
   goroutine; a compactor's CAS from PARKED fails from then on, and an M
   that finds the stack compacted restores it first. A compactor that
   sees anything but PARKED leaves the goroutine alone. */
#define GORT__COMPACT_MAX   (64u * 1024u)   /* live bytes past which a stack is left as it is */
#define GORT__COMPACT_BATCH 256             /* Gs a sysmon pass collects per lock hold */
#define GORT__COMPACT_BUDGET_NS 5000000     /* sysmon's time per pass */

static char *gort__page_down(const char *p) { return (char *)((uintptr_t)p & ~(uintptr_t)4095); }

/* Restore g's stack if it is compacted, or wait for the compactor or
   another restorer to finish with it. Async-signal-safe (the fault
   handler calls it): no lock, no allocation; the copy goes on a list
   that sysmon frees. Returns with g->cst NONE or PARKED. */
static void gort__uncompact(gort__rt *rt, gort__g *g) {
    int spins = 0;
    for (;;) {
        uint32_t c = __atomic_load_n(&g->cst, __ATOMIC_ACQUIRE);
        if (c == GORT__C_NONE || c == GORT__C_PARKED) return;
        if (c == GORT__C_COMPACTED && gort__cas_u32(&g->cst, GORT__C_COMPACTED, GORT__C_RESTORING)) {
            char *sp = g->csp, *buf = g->cbuf;
            void *head;
            gort__m *m = gort__getm();
            /* the fast restore's scratch: the lowest 4 KiB of this M's
               signal stack. A signal handler on it starts at the top, and
               none can come between the staging and the copy on this
               thread (they touch nothing that faults). */
            char *stage = m && m->altstack ? (char *)m->altstack : NULL;
            gort__os_unguard_fill(gort__page_down(sp), g->stack_hi, sp, buf, 0, stage);
            g->cbuf = NULL;
            head = __atomic_load_n(&rt->cfree, __ATOMIC_RELAXED);
            do *(void **)(void *)buf = head;
            while (!__atomic_compare_exchange_n(&rt->cfree, &head, (void *)buf, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
            GORT__ADD(&rt->ncompacted, -1);
            GORT__ADD(&gort__ncompacted_all, (uint32_t)-1);
            GORT__ADD(&rt->restores, 1);
            /* touched while parked (a dump, a thread writing through a
               pointer it was given): not compacted again for compact_ns.
               A waker's pop says more (gort__wq_pop), and stays. */
            if (GORT__LOAD(&g->crestored) != INT64_MAX)
                GORT__STORE(&g->crestored, gort__nanotime());   /* coarse_now may be stale: a close storm runs long on one P */
            __atomic_store_n(&g->cst, GORT__C_PARKED, __ATOMIC_RELEASE);
            return;
        }
        if (++spins < 100) gort__cpu_relax();
        else gort__os_yield();   /* the compactor's thread may be descheduled */
    }
}

/* Free the copies restorers left (not a signal handler). */
static void gort__cfree_drain(gort__rt *rt) {
    void *b = __atomic_exchange_n(&rt->cfree, (void *)NULL, __ATOMIC_ACQUIRE);
    while (b) {
        void *n = *(void **)b;
        free(b);
        b = n;
    }
}

/* Compact g's stack if g is parked with its context saved (PARKED).
   1 if it did. Never from a signal handler (it allocates). g may be a
   stale pointer, its slot set up for a new goroutine since (then it is
   not PARKED: gort__slot_setup stores status and cst atomically). */
static int gort__compact(gort__rt *rt, gort__g *g) {
    char *sp, *lo, *hi, *buf;
    size_t n;
    if (GORT__LOAD(&g->status) != GORT__G_WAITING || __atomic_load_n(&g->cst, __ATOMIC_RELAXED) != GORT__C_PARKED) return 0;
    if (!gort__cas_u32(&g->cst, GORT__C_PARKED, GORT__C_COMPACTING)) return 0;
    sp = (char *)g->sp;
    hi = g->stack_hi;
    /* PARKED: the context is saved and no M may resume it until we are done */
    GORT_ASSERT(sp != NULL && sp >= g->stack_lo && sp < hi);
    lo = gort__page_down(sp);
    n = (size_t)(hi - sp);
    buf = n <= GORT__COMPACT_MAX ? (char *)malloc(n < sizeof(void *) ? sizeof(void *) : n) : NULL;
    if (!buf) goto undo;
    if (gort__os_copy_guard(lo, hi, sp, buf, 0) != 0) { free(buf); goto undo; }
    /* Below the saved sp nothing is live: pages a deeper call left go back too. */
    if (g->sp_low < lo) {
        char *deep = gort__page_down(g->sp_low);
        if (deep < g->stack_lo) deep = g->stack_lo;
        if (deep < lo) gort__os_decommit(deep, (size_t)(lo - deep));
        g->sp_low = lo;
    }
    g->csp = sp;
    g->cbuf = buf;
    __atomic_store_n(&g->ncompact, g->ncompact + 1, __ATOMIC_RELAXED);   /* the fault handler reads it */
    GORT__ADD(&rt->ncompacted, 1);
    GORT__ADD(&gort__ncompacted_all, 1);
    GORT__ADD(&rt->compactions, 1);
    __atomic_store_n(&g->cst, GORT__C_COMPACTED, __ATOMIC_RELEASE);
    return 1;
undo:
    __atomic_store_n(&g->cst, GORT__C_PARKED, __ATOMIC_RELEASE);
    return 0;
}

/* gort__execute, before it switches to g: take it out of PARKED, first
   restoring its stack if it is compacted. */
static void gort__cst_resume(gort__rt *rt, gort__g *g) {
    for (;;) {
        uint32_t c = __atomic_load_n(&g->cst, __ATOMIC_ACQUIRE);
        if (c == GORT__C_NONE) return;
        if (c == GORT__C_PARKED) {
            if (gort__cas_u32(&g->cst, GORT__C_PARKED, GORT__C_NONE)) return;
            continue;
        }
        gort__uncompact(rt, g);
    }
}

/* The fault handler's part: a fault at a inside slot idx's usable stack.
   1 if it was compaction's (now restored: return and retry the access). */
static int gort__compact_fault(gort__g *g, const char *a) {
    gort__rt *rt = g->rt;
    uint32_t c;
    if (!rt || a < g->stack_lo || a >= g->stack_hi) return 0;
    c = __atomic_load_n(&g->cst, __ATOMIC_ACQUIRE);
    if (c == GORT__C_COMPACTING || c == GORT__C_COMPACTED || c == GORT__C_RESTORING) {
        gort__uncompact(rt, g);
        return 1;
    }
    /* Restored by someone else between the fault and now: retry. A
       stack never compacted has no reason to fault here. */
    return __atomic_load_n(&g->ncompact, __ATOMIC_RELAXED) != 0;
}

/* Restore every compacted goroutine stack that p..p+n overlaps (a system
   call got EFAULT there: the kernel does not fault on a program's
   behalf). 1 if one was. */
static int gort__compact_touch(const void *p, size_t n) {
    /* addresses as integers: p may be anything a caller passed (NULL) */
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095, end = (uintptr_t)p + n;
    static uint32_t hint;   /* atomic: the region of the last hit (a close's waiters sit side by side) */
    uint32_t k, i, nt = __atomic_load_n(&gort__segv_n, __ATOMIC_ACQUIRE);
    int did = 0;
    if (n == 0 || end < (uintptr_t)p) return 0;
    for (; a < end; a += 4096) {
        uint32_t h = __atomic_load_n(&hint, __ATOMIC_RELAXED);
        for (k = 0; k <= nt; k++) {
            uintptr_t base;
            gort__g *g;
            uint32_t c;
            i = k == 0 ? h : k - 1;   /* the hint first, then all */
            if (i >= nt || (k > 0 && i == h)) continue;
            base = (uintptr_t)__atomic_load_n(&gort__segv_tab[i].base, __ATOMIC_ACQUIRE);
            if (!base || a < base || a >= base + gort__segv_tab[i].len) continue;
            if (i != h) __atomic_store_n(&hint, i, __ATOMIC_RELAXED);
            g = (gort__g *)(void *)(gort__segv_tab[i].gs + (a - base) / gort__segv_tab[i].slot * gort__gsize());
            c = __atomic_load_n(&g->cst, __ATOMIC_ACQUIRE);
            if (g->rt && (c == GORT__C_COMPACTING || c == GORT__C_COMPACTED || c == GORT__C_RESTORING)) {
                gort__uncompact(g->rt, g);
                did = 1;
            }
            break;
        }
    }
    return did;
}

/* 1: g is parked (and saved) for ns or longer, and its stack was not
   restored in that time; -1: parked, not so long yet (*due: lowered to
   when it will be); 0: not parked. */
static int gort__compact_due(gort__g *g, int64_t now, int64_t ns, int64_t *due) {
    int64_t since, r;
    if (GORT__LOAD(&g->status) != GORT__G_WAITING || __atomic_load_n(&g->cst, __ATOMIC_ACQUIRE) != GORT__C_PARKED)
        return 0;
    since = GORT__LOAD(&g->waitsince);
    r = GORT__LOAD(&g->crestored);
    if (r == INT64_MAX) return 0;   /* a waker has it: ready soon */
    if (r > since) since = r;
    if (now - since >= ns) return 1;
    if (since + ns < *due) *due = since + ns;
    return -1;
}

/* sysmon: compact goroutines parked for rt->compact_ns or longer, for
   at most GORT__COMPACT_BUDGET_NS; the walk over the G arrays resumes
   where it stopped at the next call. Returns 1 if the walk did not
   finish, | 2 if it saw a parked goroutine not old enough yet. */
static int gort__compact_pass(gort__rt *rt, int64_t now) {
    gort__g *batch[GORT__COMPACT_BATCH];
    int more = 0, done = 0;
    int64_t until = now + GORT__COMPACT_BUDGET_NS;
    gort__lock(&rt->stk_lock);
    rt->stk_walkers++;            /* no region goes while we walk */
    gort__unlock(&rt->stk_lock);
    while (!done) {
        int n = 0, i;
        gort__lock(&rt->stk_lock);
        while (n < GORT__COMPACT_BATCH) {
            gort__region *r;
            if (rt->compact_ri >= rt->nregions) { rt->compact_ri = 0; rt->compact_si = 0; done = 1; break; }
            r = rt->ridx[rt->compact_ri];
            for (; rt->compact_si < r->used && n < GORT__COMPACT_BATCH; rt->compact_si++) {
                gort__g *g = gort__slot_g(r, rt->compact_si);
                int c = gort__compact_due(g, now, rt->compact_ns, &rt->walk_due);
                if (c > 0) batch[n++] = g;
                else if (c < 0) more |= 2;
            }
            if (rt->compact_si >= r->used) { rt->compact_ri++; rt->compact_si = 0; }
        }
        gort__unlock(&rt->stk_lock);
        for (i = 0; i < n; i++)
            if (!gort__compact(rt, batch[i]) && now + rt->compact_ns < rt->walk_due)
                rt->walk_due = now + rt->compact_ns;   /* woken, or it failed (no memory): look again then */
        if (!done && gort__nanotime() > until) { more |= 1; break; }
    }
    gort__lock(&rt->stk_lock);
    rt->stk_walkers--;
    gort__unlock(&rt->stk_lock);
    return more;
}

/* Parks and restores so far: what can make a goroutine compactable. */
static uint64_t gort__compact_events(gort__rt *rt) {
    uint64_t n = GORT__LOAD(&rt->restores);
    int i;
    for (i = 0; i < rt->nprocs; i++) n += GORT__LOAD(&rt->allp[i].parks);
    return n;
}

/* sysmon's look, every GORT__TRIM_NS or so: free restored copies, and
   walk the Gs every half compact_ns (at once while a walk is unfinished),
   but only if a goroutine parked or was restored since the last walk
   began, or one that walk found too young is old enough now: with a
   million goroutines a walk takes sysmon tens of milliseconds, and one
   every half compact_ns would keep a CPU busy while nothing changes (or
   while a close wakes them all).
   1: look again later (sysmon must not sleep deeply: a goroutine will be
   old enough, or the walk goes on). */
static int gort__compact_sysmon(gort__rt *rt, int64_t now) {
    if (rt->compact_ns < 0) return 0;
    gort__cfree_drain(rt);
    if (!(rt->compact_more & 1)) {   /* between walks */
        uint64_t seen = gort__compact_events(rt);
        int later = rt->compact_due_at != INT64_MAX || seen != rt->compact_seen;
        if (now - rt->compact_last < rt->compact_ns / 2) return later;
        if (seen == rt->compact_seen && now < rt->compact_due_at) return later;
        rt->walk_seen = seen;
        rt->walk_due = INT64_MAX;
    }
    rt->compact_last = now;
    rt->compact_more = gort__compact_pass(rt, now);
    if (rt->compact_more & 1) return 1;
    rt->compact_seen = rt->walk_seen;
    rt->compact_due_at = rt->walk_due;
    return rt->compact_due_at != INT64_MAX;
}

/* ---------------------------------------------------------------- >>runq
   Each P has a bounded ring of runnable Gs. The owner pushes at the tail and
   pops at the head; thieves take half from the head with a CAS. runqtail is
   written only by the owner (release), runqhead is CASed by everyone. A slot
   is read by a thief before its CAS on head can succeed, so slots are read
   and written atomically (relaxed): the CAS decides who owns what was read.
   runnext holds the G last made runnable on this P (a channel partner
   readied by the running G, a new goroutine, a G whose timer this P's M
   ran): running it next keeps producer/consumer pairs on one core.

   Depth first. A new goroutine that pushes the one before it out of
   runnext sends that one to the head of the ring, not the tail
   (gort__runq_put_front): fresh goroutines run newest first, as in
   work-first schedulers, so a tree of spawns (skynet: 1.1M goroutines)
   goes depth first with a few hundred alive, each on a stack still warm,
   instead of breadth first with 76k alive and 280 MiB of stacks. What
   that costs fairness is bounded:
     - a G that has run before waits at the tail (readied, yielded,
       preempted, stolen: it never goes to the front), and a front push
       that passes one costs two credits, of which the P earns one per
       goroutine it runs (GORT__LIFO_MAX banked): it is passed by at most
       half as many goroutines as its P runs meanwhile, plus 32. While no
       such G is queued (old_any), front pushes pass only Gs that have
       not started, and are free. (Credits per time slice instead were
       measured to tip skynet back to breadth first one run in two: a
       parent's receive loop readies its parked children one by one, and
       each pushes the one before it to the tail.)
     - any queued G, fresh ones included, waits at most about
       GORT__FRONT_AGE_NS before front pushes stop: sysmon notes the
       tail while the ring is not empty and, if head has not reached it
       that long after (gort__sysmon_front), sets lifo_off; the owner then
       pushes at the tail, and serves the ring before runnext, until
       everything queued at that moment has left the ring
       (gort__runq_draining).
   Front pushes move head backwards, so head carries a tag in its upper
   half, bumped by each: a thief that read slots at head h and sees h
   again after the owner popped past it and pushed back cannot succeed
   with a stale copy (the ABA that a head moving only forward rules out). */
static inline uint32_t gort__rqh(uint64_t w) { return (uint32_t)w; }
static inline uint64_t gort__rqh_set(uint64_t w, uint32_t h) { return (w & ~(uint64_t)0xffffffffu) | h; }
static int gort__runq_empty(gort__p *p) {
    uint32_t h = gort__rqh(GORT__LOAD_ACQ(&p->runqhead)), t = GORT__LOAD_ACQ(&p->runqtail);
    return h == t && GORT__LOAD(&p->runnext) == NULL;
}

static void gort__globrunq_put_locked(gort__rt *rt, gort__g *g, gort__g *last, long n) {
    GORT_ASSERT(GORT__HELD(&rt->lock));
    GORT_ASSERT(GORT__LOAD(&g->status) == GORT__G_RUNNABLE && GORT__LOAD(&last->status) == GORT__G_RUNNABLE);
    last->schedlink = NULL;
    if (rt->gq_tail) rt->gq_tail->schedlink = g; else rt->gq_head = g;
    rt->gq_tail = last;
    __atomic_store_n(&rt->gq_size, rt->gq_size + n, __ATOMIC_SEQ_CST);
}

/* The local queue is full: move half of it and g to the global queue. */
static int gort__runq_putslow(gort__rt *rt, gort__p *p, gort__g *g, uint64_t hw, uint32_t t) {
    gort__g *batch[GORT__RUNQ / 2 + 1];
    uint32_t h = gort__rqh(hw), n = (t - h) / 2, i;
    for (i = 0; i < n; i++) batch[i] = GORT__LOAD(&p->runq[(h + i) % GORT__RUNQ]);
    if (!__atomic_compare_exchange_n(&p->runqhead, &hw, gort__rqh_set(hw, h + n), 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        return 0;
    batch[n] = g;
    for (i = 0; i < n; i++) batch[i]->schedlink = batch[i + 1];
    gort__lock(&rt->lock);
    gort__globrunq_put_locked(rt, batch[0], batch[n], (long)n + 1);
    gort__unlock(&rt->lock);
    return 1;
}

/* Owner only: is p draining its queue after sysmon's age check (see
   above)? Then nothing is pushed at the front, and the queue goes before
   runnext, until everything queued when the owner first saw the flag
   has left the ring. (A chain of goroutines readied into runnext would
   otherwise leave the queue one turn per time slice.) */
static int gort__runq_draining(gort__p *p) {
    uint32_t off = GORT__LOAD(&p->lifo_off);
    if (GORT__LIKELY(!off)) return 0;
    if (off == 1) {
        p->front_cut = p->runqtail;
        GORT__STORE(&p->lifo_off, 2);
    }
    if ((int32_t)(p->front_cut - gort__rqh(GORT__LOAD(&p->runqhead))) > 0) return 1;
    GORT__STORE(&p->lifo_off, 0);
    return 0;
}

/* Owner only: the two words a thief may also write. A P that is the
   runtime's only one (solo) has no thieves: every writer of runnext and
   runqhead is its owner, which the M holding the P is, one at a time
   (a hand-off passes the P with a release/acquire pair), so a plain load
   and store do what the exchange and the CAS do, without their locked
   instructions (four of the dozen in a 1-P ping-pong round trip). Readers
   other than the owner (sysmon, the deadlock check, the prefetch hint)
   only look. The seq_cst of the exchange is the publication half of
   gort__wakep's dance, which a solo P does not need: while its owner
   holds it, no P is idle, so gort__wakep returns at its first look. */
static inline gort__g *gort__runnext_swap(gort__p *p, gort__g *g) {
    gort__g *old;
    if (!p->solo) return __atomic_exchange_n(&p->runnext, g, __ATOMIC_SEQ_CST);
    old = GORT__LOAD(&p->runnext);
    GORT__STORE_REL(&p->runnext, g);
    return old;
}
static inline gort__g *gort__runnext_take(gort__p *p) {
    gort__g *g = GORT__LOAD(&p->runnext);
    if (!g) return NULL;
    if (p->solo) {
        GORT__STORE(&p->runnext, (gort__g *)NULL);
        return g;
    }
    return __atomic_compare_exchange_n(&p->runnext, &g, (gort__g *)NULL, 0, __ATOMIC_ACQ_REL,
                                       __ATOMIC_RELAXED) ? g : NULL;
}
static inline int gort__runqhead_cas(gort__p *p, uint64_t *hw, uint64_t nw) {
    if (p->solo) {
        GORT_ASSERT(GORT__LOAD(&p->runqhead) == *hw);
        GORT__STORE_REL(&p->runqhead, nw);
        return 1;
    }
    return __atomic_compare_exchange_n(&p->runqhead, hw, nw, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

/* Owner only: g to the head of the ring (see above), if fairness allows;
   0 sends it to the tail instead. */
static int gort__runq_put_front(gort__p *p, gort__g *g) {
    GORT_ASSERT(!GORT__LOAD(&g->last_m));   /* what has run keeps the tail's fairness */
    if (gort__runq_draining(p)) return 0;
    for (;;) {
        uint64_t hw = GORT__LOAD_ACQ(&p->runqhead);
        uint32_t h = gort__rqh(hw), t = p->runqtail;
        if (t - h >= GORT__RUNQ) return 0;
        if (p->old_any && (int32_t)(p->old_hi - h) <= 0) p->old_any = 0;   /* it ran, or was stolen */
        /* head passed sysmon's age mark: all queued at its look has left
           (head goes back below it only here, so no crossing is missed) */
        if ((int32_t)(h - GORT__LOAD(&p->age_mark)) >= 0 && !GORT__LOAD(&p->age_passed))
            GORT__STORE(&p->age_passed, 1);
        if (p->old_any && p->lifo < 2) return 0;
        GORT__STORE(&p->runq_sp[(h - 1) % GORT__RUNQ], (void *)NULL);   /* new: nothing to fetch */
        GORT__STORE(&p->runq[(h - 1) % GORT__RUNQ], g);
        /* Release: a thief that reads the new head reads the slot's g. */
        if (gort__runqhead_cas(p, &hw, ((hw >> 32) + 1) << 32 | (uint32_t)(h - 1))) {
            if (p->old_any) p->lifo -= 2;
            return 1;
        }
    }
}

/* next: 0 to the tail; 1 into runnext, the G there to the tail; 2 (a new
   goroutine) into runnext, the G there to the front if it may. */
static void gort__runq_put(gort__rt *rt, gort__p *p, gort__g *g, int next) {
    uint64_t hw;
    uint32_t h, t;
    GORT_ASSERT(GORT__LOAD(&g->status) == GORT__G_RUNNABLE);
    if (next) {
        g->inherit = 1;
        /* seq_cst, the publication half of gort__wakep's dance (solo: none needed) */
        g = gort__runnext_swap(p, g);
        if (!g) return;
        /* the old runnext gets a slice of its own */
        g->inherit = 0;
        /* only a G that has not started: one that has run is owed the
           tail's fairness (old_any) */
        if (next == 2 && !GORT__LOAD(&g->last_m) && gort__runq_put_front(p, g)) return;
    }
    for (;;) {
        hw = GORT__LOAD_ACQ(&p->runqhead);
        h = gort__rqh(hw);
        t = p->runqtail;
        GORT_ASSERT(t - h <= GORT__RUNQ);   /* the ring is never over-full */
        if (t - h < GORT__RUNQ) {
            /* read before g is published: a thief may run it at once */
            int old = GORT__LOAD(&g->last_m) != NULL;
            GORT__STORE(&p->runq_sp[t % GORT__RUNQ], old ? g->sp : NULL);   /* new: nothing to fetch */
            GORT__STORE(&p->runq[t % GORT__RUNQ], g);
            GORT__STORE_REL(&p->runqtail, t + 1);
            if (old) {   /* it has run: front pushes may not pass it freely */
                p->old_hi = t + 1;
                p->old_any = 1;
            }
            return;
        }
        if (gort__runq_putslow(rt, p, g, hw, t)) return;
    }
}

/* Owner only. prefer_q skips runnext once in a while so that a pair of
   goroutines handing off through runnext cannot starve the queue. */
static gort__g *gort__runq_get(gort__p *p, int prefer_q) {
    gort__g *g;
    uint64_t hw;
    uint32_t h, t;
    if (!prefer_q && (g = gort__runnext_take(p)) != NULL) return g;
    for (;;) {
        hw = GORT__LOAD_ACQ(&p->runqhead);
        h = gort__rqh(hw);
        t = p->runqtail;
        if (t == h) break;
        g = GORT__LOAD(&p->runq[h % GORT__RUNQ]);
        if (gort__runqhead_cas(p, &hw, gort__rqh_set(hw, h + 1))) return g;
    }
    return prefer_q ? gort__runnext_take(p) : NULL;
}

/* How long a thief leaves a victim's runnext alone (gort__runq_grab). */
#define GORT__RUNNEXT_GRACE_NS 3000
/* Take half of victim's queue into p's ring starting at slot index t (p's
   tail); returns how many. Only p's owner calls it. */
static uint32_t gort__runq_grab(gort__p *victim, gort__p *p, uint32_t t, int stealnext) {
    for (;;) {
        uint64_t hw = GORT__LOAD_ACQ(&victim->runqhead);
        uint32_t h = gort__rqh(hw);
        uint32_t vt = GORT__LOAD_ACQ(&victim->runqtail);
        uint32_t n = vt - h, i;
        n = n - n / 2;
        if (n == 0) {
            gort__g *next;
            if (!stealnext) return 0;
            next = GORT__LOAD(&victim->runnext);
            if (!next) return 0;
            /* The victim is probably about to run it (it was just readied by
               its running G): give it a moment before taking it, or a
               handoff pair ends up bouncing between cores. GORT__RUNNEXT_GRACE_NS:
               Go's runqsteal sleeps 3 us here, about one switch and a
               wake-up on today's CPUs. */
            {
                uint32_t tick = GORT__LOAD(&victim->schedtick);
                int64_t until = gort__nanotime() + GORT__RUNNEXT_GRACE_NS;
                while (gort__nanotime() < until) gort__cpu_relax();
                if (GORT__LOAD(&victim->schedtick) != tick) return 0;
            }
            if (!__atomic_compare_exchange_n(&victim->runnext, &next, (gort__g *)NULL, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
                return 0;
            next->inherit = 0;   /* ours now: not the victim's slice */
            GORT__STORE(&p->runq_sp[t % GORT__RUNQ], next->sp);
            GORT__STORE(&p->runq[t % GORT__RUNQ], next);
            return 1;
        }
        if (n > GORT__RUNQ / 2) continue;   /* h and vt read at different times */
        for (i = 0; i < n; i++) {
            GORT__STORE(&p->runq[(t + i) % GORT__RUNQ], GORT__LOAD(&victim->runq[(h + i) % GORT__RUNQ]));
            GORT__STORE(&p->runq_sp[(t + i) % GORT__RUNQ], GORT__LOAD(&victim->runq_sp[(h + i) % GORT__RUNQ]));
        }
        if (__atomic_compare_exchange_n(&victim->runqhead, &hw, gort__rqh_set(hw, h + n), 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            return n;
    }
}

static gort__g *gort__runq_steal(gort__p *p, gort__p *victim, int stealnext) {
    uint32_t t = p->runqtail;
    uint32_t n = gort__runq_grab(victim, p, t, stealnext);
    gort__g *g;
    if (n == 0) return NULL;
    n--;
    g = GORT__LOAD(&p->runq[(t + n) % GORT__RUNQ]);
    if (n) {
        /* Gs that have run keep the tail's fairness here too (about to
           run, so looking at them costs no extra misses worth counting);
           read before they are published */
        uint32_t i;
        for (i = 0; i < n; i++)
            if (GORT__LOAD(&GORT__LOAD(&p->runq[(t + i) % GORT__RUNQ])->last_m)) {
                p->old_hi = t + n;
                p->old_any = 1;
                break;
            }
        GORT__STORE_REL(&p->runqtail, t + n);
    }
    return g;
}

/* Sched lock held. Takes one G and, for a P, a fair share more into its queue. */
static gort__g *gort__globrunq_get(gort__rt *rt, gort__p *p, int max);
/* gort__globrunq_get under the sched lock, taken only when the queue
   looks non-empty (the count is read racily: a miss is caught at the
   next look, and the queue is rechecked under the lock before sleeping). */
static gort__g *gort__globrunq_try(gort__rt *rt, gort__p *p, int max) {
    gort__g *g;
    if (GORT__LOAD(&rt->gq_size) == 0) return NULL;
    gort__lock(&rt->lock);
    g = gort__globrunq_get(rt, p, max);
    gort__unlock(&rt->lock);
    return g;
}
static gort__g *gort__globrunq_get(gort__rt *rt, gort__p *p, int max) {
    gort__g *g;
    long n;
    GORT_ASSERT(GORT__HELD(&rt->lock));
    if (rt->gq_size == 0) return NULL;
    n = rt->gq_size / rt->nprocs + 1;
    if (n > rt->gq_size) n = rt->gq_size;
    if (max > 0 && n > max) n = max;
    if (n > GORT__RUNQ / 2) n = GORT__RUNQ / 2;
    GORT__STORE(&rt->gq_size, rt->gq_size - n);
    g = rt->gq_head;
    rt->gq_head = g->schedlink;
    if (!rt->gq_head) rt->gq_tail = NULL;
    while (--n > 0) {
        gort__g *x = rt->gq_head;
        rt->gq_head = x->schedlink;
        if (!rt->gq_head) rt->gq_tail = NULL;
        gort__runq_put(rt, p, x, 0);
    }
    return g;
}

static const char *gort__wait_name(int w);   /* >>diag */
/* ---------------------------------------------------------------- >>trace
   The execution trace (GORT_TRACE, gort_trace_start): what every M did
   and when, written in the Trace Event Format that Perfetto and Chrome's
   trace viewer open.
   Recording. Each M, and sysmon, appends fixed-size events to a buffer of
   its own (its gort__trm), with no lock: a thread records only its own
   doings. In a whole trace a full chunk (GORT__TR_CHUNK events) goes onto
   the trace's list under gort__tr.lock, once per chunk; in ring mode the
   one chunk is a ring that keeps the thread's last N events. Plain threads
   record nothing (a goroutine they ready has no flow arrow).
   Exclusion without a lock. A recording thread stores busy = 1, then
   loads on; the writer stores on = 0, then loads every busy. All four are
   seq_cst, so at least one of the two sees the other's store: either the
   thread sees on == 0 and records nothing, or the writer sees busy == 1
   and waits for the thread's release store of busy = 0. Once on == 0 and
   each busy was seen 0, the writer owns every buffer. Recording never
   blocks (a chunk push takes gort__tr.lock, which nothing holds while it
   waits), so the wait is short.
   Slices. A goroutine's run on an M is one complete ("X") event, kept
   open in the thread's gort__trm from the switch that starts it to the
   switch that ends it, and written with its end's reason (the park's wait
   state, exit, yield) and P; the writer puts a copy on the P's track. A
   system call (gort_block_begin, gort's own I/O calls, the hand-off) ends
   the run slice and opens a syscall slice with no P before the P can
   move, so one P's slices never overlap. Spinning and the poller's sleep
   are slices of the M on g0, between goroutines.
   Flows. gort_go and every ready from a running goroutine record an
   instant with a fresh flow id and store it in the G (trflow) before the
   G is queued; the M that next runs the G takes it into the run slice.
   Readies on g0 start from a slice of their own: timers fire inside a
   "timers" slice (kept only if a flow starts in it), the poller's readied
   list gets flows at the end of its "netpoll" or "poller wait" slice. A
   spinning slice pauses around them (one slice at a time on a track).
   The writer keeps a flow only when both its ends were recorded.
   The hand-off's signal handler records too (the syscall slice): it runs
   only while its thread is in the program's own code (g->in_gort == 0),
   never inside a recording, and then allocates nothing (a full chunk
   drops the event and counts it). */
enum { GORT__TR_RUN = 1, GORT__TR_SYS, GORT__TR_SPIN, GORT__TR_POLL, GORT__TR_POLLWAIT,
       GORT__TR_TIMERS,                                                   /* slices */
       GORT__TR_GO, GORT__TR_READY, GORT__TR_STEAL,                       /* instants of an M */
       GORT__TR_RETAKE, GORT__TR_HANDOFF, GORT__TR_PREEMPT, GORT__TR_HOG  /* instants of sysmon */ };
/* Why a slice ended. */
enum { GORT__TRE_PARK = 1, GORT__TRE_EXIT, GORT__TRE_YIELD, GORT__TRE_BLOCK, GORT__TRE_IO,
       GORT__TRE_HANDED, GORT__TRE_NOP, GORT__TRE_BACK, GORT__TRE_OPEN };
#define GORT__TR_CHUNK 4096
typedef struct {
    int64_t  ts;                  /* ns since the trace began */
    int64_t  dur;                 /* slices: ns; GO/READY/STEAL/HANDOFF/HOG:
                                     the goroutine */
    uint64_t g;                   /* RUN/SYS: the goroutine; POLL(WAIT): Gs
                                     readied */
    uint64_t flow;                /* RUN: the flow that readied it; GO/READY:
                                     its own (0: none, readied from g0) */
    void   (*fn)(void *);         /* RUN/SYS/GO: start function */
    const void *obj;              /* RUN ended by a park: what it waits on */
    int32_t  p;                   /* P (-1 none); STEAL: the victim */
    int32_t  tid;                 /* the track, filled in by the writer */
    uint8_t  type, why, wait;     /* GORT__TR_*, GORT__TRE_*, GORT__W_* */
} gort__trev;
struct gort__trchunk {
    gort__trchunk *next;          /* the trace's list of full chunks */
    int      tid;
    uint32_t cap;
    uint64_t n;                   /* events written; a ring keeps the last cap */
    gort__trev ev[1];
};
static struct {
    uint32_t on;                  /* atomic: recording */
    uint32_t ctl;                 /* one start or stop at a time; guards the
                                     fields below but lock, full, dropped */
    gort__rt *rt;                 /* the runtime traced; NULL: no trace */
    uint32_t ring;                /* events kept per thread; 0: a whole trace */
    int      fd;                  /* whole trace: the file, open from the start */
    char    *path;
    int64_t  t0;                  /* gort__nanotime at the start */
    int      atexit_set;
    pid_t    pid;                 /* the process that started it */
    uint32_t lock;                /* guards full */
    gort__trchunk *full;
    uint64_t dropped;             /* atomic: events lost (no memory) */
    gort__trm sysmon;
} gort__tr;

static inline int gort__tr_on(void) {
    return GORT__UNLIKELY(__atomic_load_n(&gort__tr.on, __ATOMIC_RELAXED) != 0);
}
static int gort__tr_enter(gort__trm *t) {
    __atomic_store_n(&t->busy, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&gort__tr.on, __ATOMIC_SEQ_CST)) return 1;
    __atomic_store_n(&t->busy, 0, __ATOMIC_RELEASE);
    return 0;
}
static void gort__tr_leave(gort__trm *t) { __atomic_store_n(&t->busy, 0, __ATOMIC_RELEASE); }
static int64_t gort__tr_now(void) { return gort__nanotime() - gort__tr.t0; }

/* A chunk for cap events, its pages made present in the one call: a page
   fault per 64 events, where faults are slow (a VM), cost a whole trace
   more than the recording (measured: 1M spawns at 620 ns each with
   faulting malloc'd chunks, 450-560 ns populated, 100 ns untraced). */
static gort__trchunk *gort__tr_chunk_new(uint32_t cap) {
    size_t len = sizeof(gort__trchunk) + (size_t)(cap - 1) * sizeof(gort__trev);
    void *m = gort__os_alloc_now(len);
    gort__trchunk *c;
    if (!m) return NULL;
    c = (gort__trchunk *)m;
    c->next = NULL; c->cap = cap; c->n = 0;
    return c;
}
static void gort__tr_chunk_free(gort__trchunk *c) {
    gort__os_release((char *)c, sizeof(gort__trchunk) + (size_t)(c->cap - 1) * sizeof(gort__trev));
}

/* A slot for one event of t's thread, or NULL (counted as dropped).
   Also called from the hand-off's signal handler (gort__tr_sys), which
   acts only on a thread outside gort's code: this thread holds no gort
   lock there (gort__tr.lock included), and mmap is a plain system call.
   That handler's event is often the first of a thread that was
   computing when the trace began, so it must not be dropped for want of
   a chunk. */
static gort__trev *gort__tr_ev(gort__trm *t, int type, int64_t ts) {
    gort__trchunk *c = t->chunk;
    gort__trev *e;
    if (GORT__UNLIKELY(!c || (!gort__tr.ring && c->n == c->cap))) {
        uint32_t cap = gort__tr.ring ? gort__tr.ring : GORT__TR_CHUNK;
        if (c) {
            gort__lock(&gort__tr.lock);
            c->next = gort__tr.full;
            gort__tr.full = c;
            gort__unlock(&gort__tr.lock);
            t->chunk = NULL;
        }
        c = gort__tr_chunk_new(cap);
        if (!c) { GORT__ADD(&gort__tr.dropped, 1); return NULL; }
        c->tid = t->tid;
        t->chunk = c;
    }
    e = &c->ev[c->n++ % c->cap];
    memset(e, 0, sizeof *e);
    e->type = (uint8_t)type;
    e->ts = ts;
    e->p = -1;
    return e;
}

/* Open a slice of g on t's thread. */
static void gort__tr_open(gort__trm *t, gort__g *g, int type, int64_t now, int p, uint64_t flow) {
    t->cur_g = g->id; t->cur_fn = g->fn; t->cur_t0 = now; t->cur_flow = flow;
    t->cur_p = p; t->cur_type = (uint8_t)type;
}
/* Close g's slice, if one is open on t's thread, for reason why. */
static void gort__tr_close(gort__trm *t, gort__g *g, int64_t now, int why) {
    gort__trev *e;
    if (t->cur_g != g->id || !t->cur_g) return;
    t->cur_g = 0;
    e = gort__tr_ev(t, t->cur_type, t->cur_t0);
    if (!e) return;
    e->dur = now - t->cur_t0; e->g = g->id; e->flow = t->cur_flow; e->fn = t->cur_fn;
    e->p = t->cur_p; e->why = (uint8_t)why;
    if (why == GORT__TRE_PARK) {
        e->wait = (uint8_t)g->waitstate;
        switch (g->waitstate) {   /* the waits that set waitobj (as gort__dump_wait) */
        case GORT__W_CHAN_SEND: case GORT__W_CHAN_RECV: case GORT__W_MUTEX:
        case GORT__W_RWMUTEX: case GORT__W_WG: case GORT__W_COND:
            e->obj = g->waitobj;
            break;
        default:
            break;
        }
    }
}
/* The goroutine running on m has no slice yet: it was running when the
   trace began (or when the last one stopped and this one started), so
   its slice starts at the trace's start. Recording; m's own thread. */
static void gort__tr_adopt(gort__trm *t, gort__m *m) {
    gort__g *g = m->curg;
    if (t->cur_g || !g || !m->p || GORT__LOAD(&g->status) != GORT__G_RUNNING) return;
    gort__tr_open(t, g, GORT__TR_RUN, 0, m->p->id, 0);
}

/* Why the running g is being switched away from: its status says. */
static int gort__tr_why(gort__g *g) {
    switch (GORT__LOAD(&g->status)) {
    case GORT__G_WAITING: return GORT__TRE_PARK;
    case GORT__G_DEAD: return GORT__TRE_EXIT;
    default: return g->waitstate == GORT__W_SYSCALL_RETURN ? GORT__TRE_NOP : GORT__TRE_YIELD;
    }
}

/* gort__switch: from's slice ends, to's begins (g0 has none). */
static GORT__NOINLINE void gort__tr_switch(gort__m *m, gort__g *from, gort__g *to) {
    gort__trm *t = &m->tr;
    int64_t now;
    if (!gort__tr_enter(t)) return;
    now = gort__tr_now();
    if (from != &m->g0 && !t->cur_g) gort__tr_open(t, from, GORT__TR_RUN, 0, m->p ? m->p->id : -1, 0);
    if (from != &m->g0) gort__tr_close(t, from, now, gort__tr_why(from));
    if (to != &m->g0) {
        gort__tr_open(t, to, GORT__TR_RUN, now, m->p ? m->p->id : -1, to->trflow);
        to->trflow = 0;
    }
    gort__tr_leave(t);
}

/* A system call's edges: enter (before the P may move) ends the run
   slice and opens a syscall slice; leaving with a P does the reverse. */
static GORT__NOINLINE void gort__tr_sys(gort__m *m, gort__g *g, int enter, int why) {
    gort__trm *t = &m->tr;
    int64_t now;
    if (!gort__tr_enter(t)) return;
    now = gort__tr_now();
    if (!t->cur_g)   /* in it since before the trace began */
        gort__tr_open(t, g, enter ? GORT__TR_RUN : GORT__TR_SYS, 0, enter && m->p ? m->p->id : -1, 0);
    gort__tr_close(t, g, now, why);
    gort__tr_open(t, g, enter ? GORT__TR_SYS : GORT__TR_RUN, now, enter ? -1 : m->p->id, 0);
    gort__tr_leave(t);
}

/* An instant on t's thread. */
static GORT__NOINLINE void gort__tr_inst(gort__trm *t, int type, uint64_t g, int64_t arg, int p) {
    gort__trev *e;
    if (!gort__tr_enter(t)) return;
    e = gort__tr_ev(t, type, gort__tr_now());
    if (e) { e->g = g; e->dur = arg; e->p = p; }
    gort__tr_leave(t);
}

/* g is being spawned (go) or readied by the caller: an instant, and a
   flow to g's next run when the caller is a goroutine (a flow needs a
   slice to start from). From a plain thread nothing is recorded. */
static GORT__NOINLINE void gort__tr_flow(gort__g *g, int go) {
    gort__m *m = gort__getm();
    gort__trm *t;
    gort__trev *e;
    if (!m || m->rt != g->rt) return;
    t = &m->tr;
    if (!gort__tr_enter(t)) return;
    gort__tr_adopt(t, m);
    e = gort__tr_ev(t, go ? GORT__TR_GO : GORT__TR_READY, gort__tr_now());
    if (e) {
        e->dur = (int64_t)g->id;
        e->fn = g->fn;
        e->p = m->p ? m->p->id : -1;
        if ((m->curg && t->cur_g == m->curg->id) || (!m->curg && t->g0_open)) {
            e->flow = ((uint64_t)(uint32_t)t->tid << 40) | ++t->flowseq;
            g->trflow = e->flow;
            if (!m->curg) t->g0_flows++;
        }
    }
    gort__tr_leave(t);
}

/* Spinning (on g0) begins, or ends: one slice. */
static GORT__NOINLINE void gort__tr_spin(gort__m *m, int begin) {
    gort__trm *t = &m->tr;
    if (!gort__tr_enter(t)) return;
    if (begin) {
        if (t->spin0 < 0) t->spin0 = gort__tr_now();
    } else if (t->spin0 >= 0) {
        int64_t now = gort__tr_now();
        gort__trev *e = gort__tr_ev(t, GORT__TR_SPIN, t->spin0);
        if (e) { e->dur = now - t->spin0; e->p = m->p ? m->p->id : -1; }
        t->spin0 = -1;
    }
    gort__tr_leave(t);
}

/* Spinning stops for a slice of scheduler work on g0 (one slice at a
   time on an M's track); gort__tr_spin_resume starts it again after. */
static int gort__tr_spin_pause(gort__trm *t, int64_t now) {
    gort__trev *e;
    if (t->spin0 < 0) return 0;
    e = gort__tr_ev(t, GORT__TR_SPIN, t->spin0);
    if (e) e->dur = now - t->spin0;
    t->spin0 = -1;
    return 1;
}

/* The poller returned list (linked by schedlink) after a call that began
   at t0 (a gort__nanotime; the trace's clock is read only while
   recording): a slice ("poller wait" if it slept, else "netpoll") and a
   flow from its end to each goroutine it readied. On sysmon's track for
   sysmon's polls. A spin it interrupts goes on after it, unless
   spin_ends (the M found work: else the flows would start in the new
   spin slice, not in the poll's). */
static GORT__NOINLINE void gort__tr_poll(gort__trm *t, int64_t t0, gort__g *list, int wait, int spin_ends) {
    int64_t n = 0, now;
    gort__trev *e;
    gort__g *g;
    int respin;
    for (g = list; g; g = g->schedlink) n++;
    if (!gort__tr_enter(t)) return;
    now = gort__tr_now();
    t0 -= gort__tr.t0;
    if (t0 < 0) t0 = 0;   /* the trace began during the call */
    respin = gort__tr_spin_pause(t, t0);
    e = gort__tr_ev(t, wait ? GORT__TR_POLLWAIT : GORT__TR_POLL, t0);
    if (e) { e->dur = now - t0; e->g = (uint64_t)n; }
    for (g = list; g; g = g->schedlink) {
        e = gort__tr_ev(t, GORT__TR_READY, now);
        if (!e) break;
        e->dur = (int64_t)g->id;
        e->fn = g->fn;
        e->flow = ((uint64_t)(uint32_t)t->tid << 40) | ++t->flowseq;
        g->trflow = e->flow;   /* before the caller queues it */
    }
    if (respin && !spin_ends) t->spin0 = now;
    gort__tr_leave(t);
}

/* Timers fire on g0 (gort__timers_run): a "timers" slice around them, kept
   only if a flow starts in it (a goroutine woken by a sleep's or a
   select's deadline, a ticker, gort_after). */
static GORT__NOINLINE void gort__tr_timers(gort__m *m, int begin) {
    gort__trm *t = &m->tr;
    int64_t now;
    if (!gort__tr_enter(t)) return;
    now = gort__tr_now();
    if (begin) {
        t->g0_respin = gort__tr_spin_pause(t, now);
        t->g0_t0 = now;
        t->g0_flows = 0;
        t->g0_open = 1;
    } else if (t->g0_open) {
        if (t->g0_flows) {
            gort__trev *e = gort__tr_ev(t, GORT__TR_TIMERS, t->g0_t0);
            if (e) { e->dur = now - t->g0_t0; e->g = (uint64_t)t->g0_flows; }
        }
        t->g0_open = 0;
        if (t->g0_respin) t->spin0 = now;
    }
    gort__tr_leave(t);
}

/* The writer: the events of every thread, sorted by time, as one JSON
   object with a line per event. */
typedef struct {
    gort__out o;
    char      b[1 << 16];
} gort__trw;
/* A JSON string (with its quotes) of s, at most 300 bytes of it. */
static void gort__trw_str(gort__trw *w, const char *s) {
    gort__out_put(&w->o, "\"");
    gort__out_jstr(&w->o, s, 300);
    gort__out_put(&w->o, "\"");
}
/* ns as the format's microseconds, exactly. */
static void gort__trw_us(gort__trw *w, const char *key, int64_t ns) {
    if (ns < 0) ns = 0;
    gort__out_put(&w->o, ",\"%s\":%lld.%03d", key, (long long)(ns / 1000), (int)(ns % 1000));
}

static int gort__tr_cmp_ev(const void *a, const void *b) {
    const gort__trev *x = (const gort__trev *)a, *y = (const gort__trev *)b;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    /* a slice ends where the next begins: instants inside it sort after it */
    return (x->type > GORT__TR_TIMERS) - (y->type > GORT__TR_TIMERS);
}
static int gort__tr_cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}
static int gort__tr_has(const uint64_t *v, size_t n, uint64_t id) {
    return id && bsearch(&id, v, n, sizeof *v, gort__tr_cmp_u64) != NULL;
}

static const char *gort__tr_why_name(const gort__trev *e) {
    switch (e->why) {
    case GORT__TRE_PARK: return e->wait == GORT__W_NONE ? "park" : gort__wait_name(e->wait);
    case GORT__TRE_EXIT: return "exit";
    case GORT__TRE_YIELD: return "yield";
    case GORT__TRE_BLOCK: return "block_begin";
    case GORT__TRE_IO: return "system call (gort I/O)";
    case GORT__TRE_HANDED: return "hand-off (computing outside gort)";
    case GORT__TRE_NOP: return "no P free after the call (queued)";
    case GORT__TRE_BACK: return "call returned";
    case GORT__TRE_OPEN: return "still running when the trace ended";
    default: return "switch";
    }
}

/* One event; the run slices twice (the M's track and the P's). */
static void gort__tr_put_ev(gort__trw *w, const gort__trev *e, const uint64_t *starts, size_t nstarts,
                            const uint64_t *ends, size_t nends) {
    char name[160];
    int copy;
    switch (e->type) {
    case GORT__TR_RUN: case GORT__TR_SYS:
        gort__fn_name(e->fn, name, sizeof name);
        for (copy = 0; copy < (e->type == GORT__TR_RUN && e->p >= 0 ? 2 : 1); copy++) {
            gort__out_put(&w->o, ",\n{\"ph\":\"X\",\"pid\":%d,\"tid\":%d", copy ? 2 : 1, copy ? e->p : e->tid);
            gort__trw_us(w, "ts", e->ts);
            gort__trw_us(w, "dur", e->dur);
            gort__out_put(&w->o, ",\"name\":");
            if (e->type == GORT__TR_SYS) {
                char sys[200];
                snprintf(sys, sizeof sys, "%s (system call)", name);
                gort__trw_str(w, sys);
            } else {
                gort__trw_str(w, name);
            }
            gort__out_put(&w->o, ",\"cat\":\"%s\",\"args\":{\"g\":%llu,\"p\":%d,\"end\":", e->type == GORT__TR_RUN ? "run" : "syscall",
                          (unsigned long long)e->g, e->p);
            gort__trw_str(w, gort__tr_why_name(e));
            if (e->obj) gort__out_put(&w->o, ",\"object\":\"0x%llx\"", GORT__PTR(e->obj));
            gort__out_put(&w->o, "}}");
        }
        if (e->type == GORT__TR_RUN && gort__tr_has(starts, nstarts, e->flow)) {
            gort__out_put(&w->o, ",\n{\"ph\":\"f\",\"bp\":\"e\",\"pid\":1,\"tid\":%d", e->tid);
            gort__trw_us(w, "ts", e->ts);
            gort__out_put(&w->o, ",\"id\":%llu,\"name\":\"wake\",\"cat\":\"flow\"}", (unsigned long long)e->flow);
        }
        return;
    case GORT__TR_SPIN: case GORT__TR_POLL: case GORT__TR_POLLWAIT: case GORT__TR_TIMERS:
        gort__out_put(&w->o, ",\n{\"ph\":\"X\",\"pid\":1,\"tid\":%d", e->tid);
        gort__trw_us(w, "ts", e->ts);
        gort__trw_us(w, "dur", e->dur);
        if (e->type == GORT__TR_SPIN)
            gort__out_put(&w->o, ",\"name\":\"spinning\",\"cat\":\"sched\",\"args\":{\"p\":%d}}", e->p);
        else
            gort__out_put(&w->o, ",\"name\":\"%s\",\"cat\":\"sched\",\"args\":{\"readied\":%llu}}",
                          e->type == GORT__TR_POLL ? "netpoll" : e->type == GORT__TR_TIMERS ? "timers" : "poller wait",
                          (unsigned long long)e->g);
        return;
    default:
        break;
    }
    /* instants */
    gort__out_put(&w->o, ",\n{\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%d", e->tid);
    gort__trw_us(w, "ts", e->ts);
    switch (e->type) {
    case GORT__TR_GO: case GORT__TR_READY:
        gort__fn_name(e->fn, name, sizeof name);
        gort__out_put(&w->o, ",\"name\":\"%s\",\"cat\":\"sched\",\"args\":{\"g\":%lld,\"p\":%d,\"start\":",
                      e->type == GORT__TR_GO ? "go" : "ready", (long long)e->dur, e->p);
        gort__trw_str(w, name);
        gort__out_put(&w->o, "}}");
        if (gort__tr_has(ends, nends, e->flow)) {
            gort__out_put(&w->o, ",\n{\"ph\":\"s\",\"pid\":1,\"tid\":%d", e->tid);
            gort__trw_us(w, "ts", e->ts);
            gort__out_put(&w->o, ",\"id\":%llu,\"name\":\"wake\",\"cat\":\"flow\"}", (unsigned long long)e->flow);
        }
        return;
    case GORT__TR_STEAL:
        gort__out_put(&w->o, ",\"name\":\"steal\",\"cat\":\"sched\",\"args\":{\"g\":%lld,\"from_p\":%d}}", (long long)e->dur, e->p);
        return;
    case GORT__TR_RETAKE:
        gort__out_put(&w->o, ",\"name\":\"retake P (system call)\",\"cat\":\"sysmon\",\"args\":{\"p\":%d}}", e->p);
        return;
    case GORT__TR_HANDOFF:
        gort__out_put(&w->o, ",\"name\":\"hand-off signal\",\"cat\":\"sysmon\",\"args\":{\"g\":%lld,\"p\":%d}}", (long long)e->dur, e->p);
        return;
    case GORT__TR_PREEMPT:
        gort__out_put(&w->o, ",\"name\":\"slice used up\",\"cat\":\"sysmon\",\"args\":{\"p\":%d}}", e->p);
        return;
    default:   /* GORT__TR_HOG */
        gort__out_put(&w->o, ",\"name\":\"hog\",\"cat\":\"sysmon\",\"args\":{\"g\":%lld,\"p\":%d}}", (long long)e->dur, e->p);
        return;
    }
}

/* Write the recorded events (ev, n of them, sorted here) to fd. */
static int gort__tr_write(int fd, gort__rt *rt, gort__trev *ev, size_t n, uint64_t dropped) {
    gort__trw *w = (gort__trw *)malloc(sizeof *w);
    uint64_t *starts, *ends;
    size_t ns = 0, ne = 0, i;
    gort__m *m;
    int err;
    if (!w) return -ENOMEM;
    starts = (uint64_t *)malloc((n + 1) * sizeof *starts);
    ends = (uint64_t *)malloc((n + 1) * sizeof *ends);
    if (!starts || !ends) { free(starts); free(ends); free(w); return -ENOMEM; }
    qsort(ev, n, sizeof *ev, gort__tr_cmp_ev);
    for (i = 0; i < n; i++) {
        if ((ev[i].type == GORT__TR_GO || ev[i].type == GORT__TR_READY) && ev[i].flow) starts[ns++] = ev[i].flow;
        if (ev[i].type == GORT__TR_RUN && ev[i].flow) ends[ne++] = ev[i].flow;
    }
    qsort(starts, ns, sizeof *starts, gort__tr_cmp_u64);
    qsort(ends, ne, sizeof *ends, gort__tr_cmp_u64);
    gort__out_init(&w->o, fd, w->b, sizeof w->b);
    gort__out_put(&w->o, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"writer\":\"gort\",\"mode\":\"%s\",\"events_per_thread\":%u,"
                     "\"dropped\":%llu,\"procs\":%d},\n\"traceEvents\":[\n",
                  gort__tr.ring ? "ring" : "whole", gort__tr.ring, (unsigned long long)dropped, rt->nprocs);
    gort__out_put(&w->o, "{\"ph\":\"M\",\"pid\":1,\"name\":\"process_name\",\"args\":{\"name\":\"gort threads (M)\"}}");
    gort__out_put(&w->o, ",\n{\"ph\":\"M\",\"pid\":2,\"name\":\"process_name\",\"args\":{\"name\":\"gort processors (P)\"}}");
    gort__out_put(&w->o, ",\n{\"ph\":\"M\",\"pid\":1,\"tid\":0,\"name\":\"thread_name\",\"args\":{\"name\":\"sysmon\"}}");
    gort__lock(&rt->lock);
    m = rt->allm;
    gort__unlock(&rt->lock);
    for (; m; m = m->alllink)   /* Ms are never freed before rt */
        gort__out_put(&w->o, ",\n{\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"name\":\"thread_name\",\"args\":{\"name\":\"M%d\"}}", m->id + 1, m->id);
    for (i = 0; i < (size_t)rt->nprocs; i++)
        gort__out_put(&w->o, ",\n{\"ph\":\"M\",\"pid\":2,\"tid\":%d,\"name\":\"thread_name\",\"args\":{\"name\":\"P%d\"}}", (int)i, (int)i);
    for (i = 0; i < n; i++) gort__tr_put_ev(w, &ev[i], starts, ns, ends, ne);
    gort__out_put(&w->o, "\n]}\n");
    gort__out_flush(&w->o);
    err = w->o.err;
    free(starts); free(ends); free(w);
    return -err;
}

/* Every recorded event, in one array: the full chunks, then each
   thread's chunk (a ring's oldest first) and its open slice, closed at
   now. Frees the chunks and resets the threads' state. Recording is off. */
static gort__trev *gort__tr_collect(gort__rt *rt, int64_t now, size_t *np) {
    gort__trchunk *list, *c, *nx;
    gort__trev *ev;
    gort__m *all, *m;
    gort__trm *t;
    size_t n = 0, cap = 0;
    gort__lock(&rt->lock);
    all = rt->allm;   /* Ms are never freed before rt; new ones go in front */
    gort__unlock(&rt->lock);
    gort__lock(&gort__tr.lock);
    list = gort__tr.full;
    gort__tr.full = NULL;
    gort__unlock(&gort__tr.lock);
    for (t = &gort__tr.sysmon, m = all; t; t = m ? &m->tr : NULL, m = m ? m->alllink : NULL) {
        /* the writer's side of the exclusion (on is 0, seq_cst) */
        while (__atomic_load_n(&t->busy, __ATOMIC_SEQ_CST)) gort__os_yield();
        if (t->chunk) { t->chunk->next = list; list = t->chunk; t->chunk = NULL; }
        cap += 2;
    }
    for (c = list; c; c = c->next) cap += c->n < c->cap ? (size_t)c->n : c->cap;
    ev = (gort__trev *)malloc((cap + 1) * sizeof *ev);
    for (c = list; c; c = nx) {
        uint64_t j, first = c->n > c->cap ? c->n - c->cap : 0;
        nx = c->next;
        for (j = first; ev && j < c->n; j++) {
            ev[n] = c->ev[j % c->cap];
            ev[n++].tid = c->tid;
        }
        gort__tr_chunk_free(c);
    }
    for (t = &gort__tr.sysmon, m = all; t; t = m ? &m->tr : NULL, m = m ? m->alllink : NULL) {
        if (ev && t->cur_g) {
            gort__trev *e = &ev[n++];
            memset(e, 0, sizeof *e);
            e->type = t->cur_type; e->why = GORT__TRE_OPEN; e->ts = t->cur_t0;
            e->dur = now - t->cur_t0; e->g = t->cur_g; e->fn = t->cur_fn; e->flow = t->cur_flow;
            e->p = t->cur_p; e->tid = t->tid;
        }
        if (ev && t->g0_open && t->g0_flows) {   /* timers firing as it stopped: flows start in it */
            gort__trev *e = &ev[n++];
            memset(e, 0, sizeof *e);
            e->type = GORT__TR_TIMERS; e->ts = t->g0_t0; e->dur = now - t->g0_t0;
            e->g = (uint64_t)t->g0_flows; e->p = -1; e->tid = t->tid;
        }
        t->cur_g = 0; t->spin0 = -1; t->g0_open = 0;
    }
    *np = n;
    return ev;
}

/* ---------------------------------------------------------------- >>sched
   GLOSSARY (as in Go's runtime)
     G  a goroutine: a stack segment, its saved sp and its state.
     M  an OS thread that runs Gs. Its own stack ("g0") runs the scheduler.
     P  a permission to run Gs, with a local run queue, a cache of dead Gs
        and a timer heap. There are exactly maxprocs Ps; an M needs one to
        run Gs. An M in a blocking call can lose its P to another M.

   THE SWITCH. A G gives up its M only at a call into gort (park, yield,
   exit). gort__park records what to do once the G's context is saved (an
   "after" function: unlock the channel, put the G on a queue, free its
   stack), then switches straight to the next runnable G of its P if there
   is one, else to g0. Whichever context resumes runs the after function
   first. Until it runs, nobody else can see the parked G: whatever would
   wake it (a channel lock, a queue, a timer) is released or published by
   the after function, so a waker can never resume a G whose stack is
   still in use. The direct G-to-G switch is why a channel handoff costs
   one context switch instead of Go's two.

   SPINNING. An M that runs out of work spins: it looks at the global
   queue, the netpoller (every 4th round, while goroutines wait on I/O and
   no M sleeps in the poller) and steals from other Ps in random order,
   for about GORT__SPIN_NS, before giving up its P and sleeping. Waking a sleeping
   thread costs tens of microseconds on a virtual CPU, so a spinner that
   finds the work itself is far cheaper. A G made runnable wakes a sleeping
   M only if there is an idle P and no M is spinning (gort__wakep), so there
   is no thundering herd: at most one spinner is woken, and a spinner that
   finds work wakes the next one before running it (so parallelism builds
   up one thread at a time, as in Go), except when it found a G in the
   network itself and no other work waits (gort__stopspinning_polled;
   Linux only):
   then nothing is left for the next one. The race "submitter saw a spinner,
   spinner gave up just before" is closed by the spinner re-checking every
   run queue after it stops counting itself as spinning.

   SLEEPING. One idle M at a time blocks in the poller (gort__poller_wait) with a timeout of the
   earliest timer of any P (the poller); the others sleep on a futex until
   gort__startm hands them a P. New I/O, timers earlier than the poller's
   deadline, and gort_stop break the poller's wait through an eventfd. */
#define GORT__SPIN_NS 50000       /* 2x the measured cost of waking a thread here */
/* Pauses between a spinning M's looks (steal round, global queue, own
   queue): about 0.1-1 us, short against GORT__SPIN_NS, long enough not
   to hammer the victims' queue cache lines. */
#define GORT__SPIN_PAUSES 30

static void gort__after_switch(gort__g *self);
static void gort__checkdead(gort__rt *rt);
static gort__g *gort__netpoll(gort__rt *rt, int64_t deadline, int block);
static void gort__netpoll_break(gort__rt *rt);
static void gort__timers_run(gort__p *p, int64_t now, int other);
static void gort__timer_add(gort__rt *rt, gort__p *p, gort__timer *t);
static void gort__inject(gort__rt *rt, gort__g *list);
static int gort__timer_del(gort__timer *t);

static void gort__pidleput_locked(gort__rt *rt, gort__p *p) {
    GORT_ASSERT(GORT__HELD(&rt->lock));
    gort__p_setstate(p, GORT__PBIT(GORT__P_RUNNING) | GORT__PBIT(GORT__P_IDLE), GORT__P_IDLE, 0, GORT__POK_RELAXED);
    __atomic_store_n(&p->m, (gort__m *)NULL, __ATOMIC_RELAXED);   /* sysmon reads it */
    p->link = rt->pidle;
    rt->pidle = p;
    GORT__STORE(&rt->npidle, rt->npidle + 1);
}
static gort__p *gort__pidleget_locked(gort__rt *rt) {
    gort__p *p = rt->pidle;
    GORT_ASSERT(GORT__HELD(&rt->lock));
    if (p) {
        rt->pidle = p->link;
        GORT__STORE(&rt->npidle, rt->npidle - 1);
    }
    return p;
}
/* An idle P, taking the sched lock for it; NULL if there is none, or (by
   choice) once the runtime is stopping (read under the lock, so a P is
   not handed out after gort__rt_stop has woken the idle Ms). */
static gort__p *gort__pidleget(gort__rt *rt, int unless_stopping) {
    gort__p *p;
    gort__lock(&rt->lock);
    p = unless_stopping && GORT__LOAD(&rt->stopping) ? NULL : gort__pidleget_locked(rt);
    gort__unlock(&rt->lock);
    return p;
}
static void gort__acquirep(gort__m *m, gort__p *p) {
    GORT_ASSERT(m->p == NULL && __atomic_load_n(&p->m, __ATOMIC_RELAXED) == NULL);
    m->p = p;
    __atomic_store_n(&p->m, m, __ATOMIC_RELEASE);   /* sysmon reads m's fields */
    /* seq_cst, ordered before the sysmon_deep load: the other half of
       sysmon's store of sysmon_deep and its look at every P's state */
    gort__p_setstate(p, GORT__PBIT(GORT__P_IDLE), GORT__P_RUNNING, 0, GORT__POK_SEQ_CST);
    if (GORT__UNLIKELY(__atomic_load_n(&m->rt->sysmon_deep, __ATOMIC_SEQ_CST)) &&
        __atomic_exchange_n(&m->rt->sysmon_deep, 0, __ATOMIC_SEQ_CST))
        gort__note_wake(&m->rt->sysmon_note);
}

static void *gort__mstart(void *arg);
#define GORT__MAX_M 10000

/* Give p (or any idle P) to an idle or new M. spinning: the M was counted in
   nmspinning by the caller. */
static void gort__startm(gort__rt *rt, gort__p *p, int spinning) {
    gort__m *m;
    gort__os_thread tid;
    int err = 0, capped = 0;
    unsigned said;
    GORT_ASSERT(!spinning || GORT__LOAD(&rt->nmspinning) > 0);   /* counted by the caller */
    gort__lock(&rt->lock);
    if (!p) {
        p = gort__pidleget_locked(rt);
        if (!p) {
            gort__unlock(&rt->lock);
            if (spinning) GORT__ADD(&rt->nmspinning, (uint32_t)-1);
            return;
        }
    }
    m = rt->midle;
    if (m) {
        rt->midle = m->link;
        m->nextp = p;
        m->spinning = spinning;
        gort__unlock(&rt->lock);
        gort__note_wake(&m->note);
        return;
    }
    /* New thread, up to GORT__MAX_M (Go's limit): past it something is
       badly wrong (thousands of goroutines stuck in blocking calls). */
    m = rt->mcount < GORT__MAX_M ? (gort__m *)calloc(1, sizeof *m) : NULL;
    if (!m && rt->mcount >= GORT__MAX_M && !rt->mcap_reported) rt->mcap_reported = capped = 1;
    if (!m && rt->mcount < GORT__MAX_M) err = -ENOMEM;
    if (m) {
        m->rt = rt;
        m->id = rt->mids++;
        m->tr.tid = m->id + 1;
        m->tr.spin0 = -1;
        m->nextp = p;
        m->spinning = spinning;
        m->statfd = -1;
        m->rnd = 0x9E3779B97F4A7C15ULL * (uint64_t)(m->id + 1);
        m->alllink = rt->allm;
        rt->allm = m;
        rt->mcount++;
        rt->mstarting++;
        GORT__ADD(&rt->mlive, 1);
        GORT__ADD(&rt->refs, 1);
        /* The thread is created with the sched lock dropped (as Go drops
           sched.lock before newm): pthread_create maps a stack and clones,
           which can take milliseconds, and every gort_go and every M
           looking for work would wait on the lock meanwhile. m is counted
           in mcount and mstarting, so gort__newproc_check waits for the
           outcome; p is nobody else's (not on the idle list). */
        gort__unlock(&rt->lock);
        err = gort__os_thread_start(&tid, gort__mstart, m);
        if (err == 0) gort__os_thread_forget(tid);   /* joined as m->thread */
        gort__lock(&rt->lock);
        rt->mstarting--;
        if (err == 0) {
            gort__unlock(&rt->lock);
            return;
        }
        err = -err;
        {
            gort__m **pp;
            for (pp = &rt->allm; *pp != m; pp = &(*pp)->alllink) GORT_ASSERT(*pp != NULL);
            *pp = m->alllink;
        }
        rt->mcount--;
        GORT__ADD(&rt->mlive, (uint32_t)-1);
        GORT__ADD(&rt->refs, (uint32_t)-1);   /* not the last: the caller's M, sysmon or gort_go keeps rt alive */
        free(m);
    }
    /* No thread: the P goes back; whatever is queued waits for a running M.
       The poller may be the only M awake: break its sleep so that it looks
       at the queues (it would otherwise sleep until its next timer). With
       no M at all, gort__newproc hands the error to gort_go / gort_run. */
    if (err) rt->m_err = err;
    said = err == -ENOMEM ? 1u : err == -EAGAIN ? 2u : 4u;
    said = err && !(rt->m_err_said & said) && rt->mcount - rt->mstarting > 0 ? said : 0;
    rt->m_err_said |= said;
    gort__pidleput_locked(rt, p);
    gort__unlock(&rt->lock);
    if (spinning) GORT__ADD(&rt->nmspinning, (uint32_t)-1);
    if (__atomic_load_n(&rt->polling, __ATOMIC_SEQ_CST)) gort__netpoll_break(rt);
    if (capped)
        gort__misuse("10000 threads exist (most in gort_block_begin calls); no more are made: "
                     "bound the number of goroutines in blocking calls (a semaphore channel)");
    if (said) {   /* once per cause: a loop of failing attempts is not news */
        char msg[200];
        snprintf(msg, sizeof msg, "could not create a thread to run goroutines (%s); running with fewer: "
                 "raise the thread limits (ulimit -u, RLIMIT_AS) if this persists", strerror(-err));
        gort__misuse(msg);
    }
}

/* A G became runnable: make sure some M will look for it.
   The delicate dance (Go's name for it): the submitter publishes the G
   with a seq_cst store or RMW, then reads npidle and nmspinning (seq_cst);
   a spinner that gives up decrements nmspinning (seq_cst RMW), then reads
   every queue. Sequential consistency makes at least one of them see the
   other: either the submitter sees a spinner (who will find the G) or the
   spinner sees the G. Callers that published with a plain release store
   fence first (gort__wakep_fenced). */
static void gort__wakep(gort__rt *rt) {
    if (__atomic_load_n(&rt->npidle, __ATOMIC_SEQ_CST) == 0) return;
    if (__atomic_load_n(&rt->nmspinning, __ATOMIC_SEQ_CST) != 0 || !gort__cas_u32(&rt->nmspinning, 0, 1)) return;
    gort__startm(rt, NULL, 1);
}
static void gort__wakep_fenced(gort__rt *rt) {
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    gort__wakep(rt);
}

/* Make a parked G runnable. From an M holding a P of g's runtime (a
   goroutine, or the scheduler running timers) it goes to that P's runnext;
   from a plain thread, an M without a P, or under GORT_DEBUG=migrate to
   the global queue. A plain thread's stand-in is woken on its futex. */
static void gort__ready(gort__g *g) {
    gort__m *m;
    gort__rt *rt;
    if (g->is_thread) {
        gort__setstatus(g, GORT__G_WAITING, GORT__G_RUNNABLE);
        gort__note_wake(&gort__tgof(g)->note);
        return;
    }
    rt = g->rt;
    gort__setstatus(g, GORT__G_WAITING, GORT__G_RUNNABLE);
    if (gort__tr_on()) gort__tr_flow(g, 0);
    m = gort__getm();
    if (m && m->p && m->rt == rt && !(rt->debug & GORT_DEBUG_MIGRATE)) {
        __atomic_store_n(&m->p->gorttick, m->p->gorttick + 1, __ATOMIC_RELAXED);   /* not a hog */
        gort__runq_put(rt, m->p, g, 1);
    } else {
        gort__lock(&rt->lock);
        gort__globrunq_put_locked(rt, g, g, 1);
        gort__unlock(&rt->lock);
    }
    /* no fence: both branches published g with a seq_cst operation (the
       runnext exchange, the global queue's size), the first half of the
       dance in gort__wakep (the fence cost a 1-P ping-pong round trip
       about 8%: 173 -> 159 ns, medians of 7 alternated runs); a solo
       P's runnext is a plain store and needs none (gort__runnext_swap) */
    gort__wakep(rt);
}

/* Switch from the running context to another. Both are Gs (g0 included).
   Returns when `from` is resumed, on whatever M resumes it. */
static void gort__switch(gort__m *m, gort__g *from, gort__g *to) {
    char *fa = (char *)__builtin_frame_address(0);
    gort__san_switch(m, from, to);
    if (from->guard == GORT__GUARD_CANARY && from != &m->g0 &&
        *(uint64_t *)(void *)from->stack_lo != GORT__CANARY) {
        gort__overflow_report(from, (size_t)(from->stack_hi - from->stack_lo));
        abort();
    }
    /* A frame that jumped the guard (code built without
       -fstack-clash-protection, see >>stack) and is still live here. */
    if (GORT__UNLIKELY(fa < from->stack_lo) && from != &m->g0 && !from->is_thread) {
        gort__overflow_report(from, (size_t)(from->stack_hi - from->stack_lo));
        abort();
    }
    if (fa < from->sp_low) from->sp_low = fa;   /* how deep (gort__stack_put) */
    /* to was switched away from (its context is saved) and has not been
       resumed since: no other M runs it (gort__after_switch clears sp) */
    GORT_ASSERT(to->sp != NULL);
    if (gort__tr_on()) gort__tr_switch(m, from, to);
    __atomic_store_n(&m->curg, (to == &m->g0) ? (gort__g *)NULL : to, __ATOMIC_RELAXED);
    gort__ctx_swap(&from->sp, to->sp);
    gort__after_switch(from);
}

/* Run g on m (its P), switching from `from`. */
/* Start loading what the next goroutine in p's queue will touch first
   (its G, and the frames above its saved sp: a parked goroutine's stack
   is cold, and with a million of them each resume missed in the TLB and
   the cache) while this one runs. A hint only: read racily (a thief may
   take it meanwhile), and a prefetch never faults, guard or not. The
   sp comes from the ring's hint beside the slot, not from the G: the G
   may be stolen, run and gone, and its region unmapped (under address
   space pressure, gort__stack_release) between the slot's read and a
   load through it, which would fault. Lines:
   2 took the close-all phase of 1M parked goroutines from 811 to 692 ns
   each, 4 to 6 lines (the switch frame, the park and the channel
   operation's waiter) to about 350; a yield between two hot goroutines
   pays about 0.5 ns for them. A goroutine that has not run yet is
   queued with no hint (its stack holds nothing but the first frame):
   fetching it cost a spawn and exit at 1 P about 6 ns (95 -> 89 ns,
   gort_spawn 1, alternated runs), and gained nothing measurable in
   skynet or in waking 1M parked goroutines. */
#ifndef GORT__PREFETCH_LINES
#define GORT__PREFETCH_LINES 6
#endif
static GORT__NO_TSAN void gort__prefetch_next(gort__p *p) {
    uint32_t h = gort__rqh(__atomic_load_n(&p->runqhead, __ATOMIC_RELAXED));
    uint32_t t = __atomic_load_n(&p->runqtail, __ATOMIC_RELAXED);
    if (h != t) {
        gort__g *n = __atomic_load_n(&p->runq[h % GORT__RUNQ], __ATOMIC_RELAXED);
        if (n) {
            char *sp = (char *)__atomic_load_n(&p->runq_sp[h % GORT__RUNQ], __ATOMIC_RELAXED);
            __builtin_prefetch(n, 1);
            if (sp) {
                int i;
                for (i = 0; i < GORT__PREFETCH_LINES; i++) __builtin_prefetch(sp + 64 * i, 1);
            }
        }
    }
}

static void gort__execute(gort__m *m, gort__g *g, gort__g *from) {
    GORT_ASSERT(m->p && __atomic_load_n(&m->p->m, __ATOMIC_RELAXED) == m &&
                gort__pst_state(GORT__LOAD(&m->p->state)) == GORT__P_RUNNING);
    gort__setstatus(g, GORT__G_RUNNABLE, GORT__G_RUNNING);
    __atomic_store_n(&m->p->schedtick, m->p->schedtick + 1, __ATOMIC_RELAXED);   /* sysmon reads it */
    if (m->p->lifo < GORT__LIFO_MAX) m->p->lifo++;   /* a front push's credit (>>runq) */
    if (!g->inherit) {   /* a new time slice */
        __atomic_store_n(&m->p->slicetick, m->p->slicetick + 1, __ATOMIC_RELAXED);
        if (m->p->fairtick) m->p->fairtick--;
    }
    g->inherit = 0;
    m->p->spawns = 0;
    __atomic_store_n(&g->last_m, m, __ATOMIC_RELAXED);
    if (GORT__UNLIKELY(__atomic_load_n(&g->cst, __ATOMIC_RELAXED) != GORT__C_NONE)) gort__cst_resume(m->rt, g);
    gort__prefetch_next(m->p);
    gort__switch(m, from, g);
}

static void gort__after_switch(gort__g *self) {
    gort__m *m = gort__getm();
    void (*fn)(gort__g *, void *);
    gort__g *pg = m->after_park;
    gort__san_switched(m, self);
    self->sp = NULL;   /* running: no saved context until the next switch away */
    if (pg) {
        /* Saved, and not yet published to a timer or a waker (fn, and the
           timer below, publish it): the compactor may take it from now. */
        m->after_park = NULL;
        __atomic_store_n(&pg->cst, GORT__C_PARKED, __ATOMIC_RELEASE);
    }
    if (m->after_timer) {
        gort__timer *t = m->after_timer;
        m->after_timer = NULL;
        gort__timer_add(m->rt, m->p, t);
    }
    fn = m->after_fn;
    if (fn) {
        m->after_fn = NULL;
        fn(m->after_g, m->after_arg);
    }
    /* GORT_DEBUG=compact: at once, racing the wakers fn let in. pg may
       be running again, or even gone and its slot reused: gort__compact
       takes only a G that is PARKED, saved and not resumed. */
    if (pg && GORT__UNLIKELY(m->rt->compact_ns == 0)) gort__compact(m->rt, pg);
}

/* The next G for p without leaving the current goroutine's stack, or NULL
   when the scheduler proper (on g0) must decide: timers due, the global
   queue's turn, a drain (gort__runq_draining), a stop, or the migrate
   debug mode. */
static gort__g *gort__next_fast(gort__rt *rt, gort__p *p) {
    int64_t tn;
    if (GORT__UNLIKELY(GORT__LOAD(&rt->stopping) || (rt->debug & GORT_DEBUG_MIGRATE))) return NULL;
    if (GORT__UNLIKELY(p->fairtick == 0 || GORT__LOAD(&p->preempt) || GORT__LOAD(&p->lifo_off))) return NULL;
    tn = GORT__LOAD(&p->tnext);
    if (GORT__UNLIKELY(tn != INT64_MAX) && tn <= gort__nanotime()) return NULL;
    return gort__runq_get(p, 0);
}

/* Leave the running goroutine g (its new status already set): the next
   context, a runnable G of this P or else the scheduler on g0, runs
   fn(g, arg) and arms t (if any) once g's context is saved (>>sched,
   gort__after_switch). The one way a goroutine gives up its M. */
static void gort__switch_away(gort__m *m, gort__g *g, void (*fn)(gort__g *, void *), void *arg, gort__timer *t) {
    gort__g *next;
    GORT_ASSERT(m->after_fn == NULL && m->after_timer == NULL);
    m->after_fn = fn; m->after_g = g; m->after_arg = arg; m->after_timer = t;
    next = gort__next_fast(m->rt, m->p);
    if (next) gort__execute(m, next, g);
    else gort__switch(m, g, &m->g0);
}

/* g->parkflags, for a park that continues a wait gort broke in two (an
   fd's registration check, gort__io_park): the first part's timer is
   gort's own, not the caller's deadline (dumps show none), and the
   second part's wait began with the first (dumps and compaction count
   from there). */
enum { GORT__PARK_OWN_TIMER = 1, GORT__PARK_GOES_ON = 2 };

/* Park the running goroutine: after its context is saved, t (if any) is
   armed and fn(g, arg) runs; then g stays parked until gort__ready(g). */
static void gort__park_g(gort__m *m, void (*fn)(gort__g *, void *), void *arg, int waitstate, gort__timer *t) {
    gort__g *g = m->curg;
    gort__rt *rt = m->rt;
    GORT_ASSERT(g && m->p && m->after_fn == NULL && m->after_timer == NULL);
    g->waitstate = waitstate;
    if (!(g->parkflags & GORT__PARK_GOES_ON))
        GORT__STORE(&g->waitsince, GORT__LOAD(&rt->coarse_now));   /* sysmon's compaction reads it */
    if (rt->compact_ns >= 0) {   /* >>compact: a fresh park, and sysmon walks again */
        GORT__STORE(&g->crestored, 0);
        GORT__STORE(&m->p->parks, m->p->parks + 1);
    }
    g->waitwhen = t && !(g->parkflags & GORT__PARK_OWN_TIMER) ? t->when : 0;
    g->parkflags = 0;
    gort__setstatus(g, GORT__G_RUNNING, GORT__G_WAITING);
    if (rt->compact_ns >= 0) m->after_park = g;
    gort__switch_away(m, g, fn, arg, t);
}

/* The same wait for a plain thread: run fn at once, then sleep on the
   thread's note until readied or the deadline passes. Returns 0 on timeout
   (the caller must then win the claim or wait again with no deadline). */
static int gort__park_thread(gort__g *g, void (*fn)(gort__g *, void *), void *arg, int waitstate, int64_t deadline) {
    int woke;
    g->waitstate = waitstate;
    g->waitsince = gort__nanotime();
    gort__tgof(g)->waitdeadline = deadline;
    g->waitwhen = deadline > 0 && deadline != INT64_MAX ? deadline : 0;
    __atomic_store_n(&gort__tgof(g)->tfp, (uintptr_t)__builtin_frame_address(0), __ATOMIC_RELAXED);   /* for dumps */
    GORT__TG_CAPTURE(gort__tgof(g));
    if (deadline <= 0 && !__atomic_load_n(&gort__the_rt, __ATOMIC_ACQUIRE) && GORT__LOAD(&gort__nthreads) <= 1)
        gort__misuse("a plain thread blocks in a gort call with no runtime running and no other thread using gort: "
                     "nothing can wake it (start the runtime first with gort_start() or gort_run())");
    gort__setstatus(g, GORT__G_RUNNING, GORT__G_WAITING);
    if (fn) fn(g, arg);
    /* Waking a sleeping thread costs tens of microseconds here; a partner
       goroutine often answers sooner than that, so look for a while
       first (about 10 us). */
    {
        int i;
        for (i = 0; i < 2000 && !__atomic_load_n(&gort__tgof(g)->note, __ATOMIC_ACQUIRE); i++) gort__cpu_relax();
    }
    woke = gort__note_sleep(&gort__tgof(g)->note, deadline);
    if (woke) {
        __atomic_store_n(&gort__tgof(g)->note, 0, __ATOMIC_RELAXED);
        gort__setstatus(g, GORT__G_RUNNABLE, GORT__G_RUNNING);
    }
    return woke;
}

/* The wait that timers of claimable parks use: whoever wins the claim
   completes the park; a timeout leaves param NULL. */
static void gort__timeout_fire(gort__g *g, uint64_t seq, void *arg) {
    (void)arg;
    if (gort__claim(g, seq)) {
        g->param = NULL;
        gort__ready(g);
    }
}

/* Park the caller (goroutine or plain thread). With deadline > 0 the park
   is claimable (seq from gort__new_ticket) and times out; returns 1 if
   woken by a waker, 0 on timeout. fn runs once the caller is out of sight. */
static int gort__park(gort__g *g, void (*fn)(gort__g *, void *), void *arg, int waitstate,
                      int64_t deadline, uint64_t seq) {
    g->param = NULL;
    if (g->is_thread) {
        if (!gort__park_thread(g, fn, arg, waitstate, deadline)) {
            if (gort__claim(g, seq)) {
                gort__setstatus(g, GORT__G_WAITING, GORT__G_RUNNING);
                return 0;
            }
            /* lost the race to a waker: it is about to wake us */
            gort__note_sleep(&gort__tgof(g)->note, 0);
            __atomic_store_n(&gort__tgof(g)->note, 0, __ATOMIC_RELAXED);
            gort__setstatus(g, GORT__G_RUNNABLE, GORT__G_RUNNING);
        }
        return 1;
    } else {
        gort__m *m = gort__getm();
        if (deadline > 0) {
            gort__timer *t = &g->ptimer;
            memset(t, 0, sizeof *t);
            t->when = deadline; t->fn = gort__timeout_fire; t->g = g; t->seq = seq;
            gort__park_g(m, fn, arg, waitstate, t);
            if (g->param == NULL) return 0;
            gort__timer_del(t);
            return 1;
        }
        gort__park_g(m, fn, arg, waitstate, NULL);
        return 1;
    }
}

/* Run expired timers of every P (ours first). A timer's P may be idle, its
   M asleep: whoever looks for work runs them. */
static void gort__timers_run_all(gort__rt *rt, gort__p *p, int64_t now) {
    int i;
    if (GORT__LOAD(&p->tnext) <= now) gort__timers_run(p, now, 0);
    for (i = 0; i < rt->nprocs; i++) {
        gort__p *o = &rt->allp[i];
        if (o != p && GORT__LOAD(&o->tnext) <= now) gort__timers_run(o, now, 1);
    }
}

static int64_t gort__timers_earliest(gort__rt *rt) {
    int64_t d = INT64_MAX;
    int i;
    for (i = 0; i < rt->nprocs; i++) {
        int64_t t = GORT__LOAD(&rt->allp[i].tnext);
        if (t < d) d = t;
    }
    return d;
}

/* One round over the other Ps in random order. */
static gort__g *gort__steal_round(gort__m *m, gort__p *p, int stealnext) {
    gort__rt *rt = m->rt;
    uint32_t n = (uint32_t)rt->nprocs, start, i;
    if (n < 2) return NULL;
    start = gort__rand_n(&m->rnd, n);
    for (i = 0; i < n; i++) {
        gort__p *v = &rt->allp[(start + i) % n];
        gort__g *g;
        if (v == p) continue;
        if ((g = gort__runq_steal(p, v, stealnext)) != NULL) {
            if (gort__tr_on()) gort__tr_inst(&m->tr, GORT__TR_STEAL, 0, (int64_t)g->id, v->id);
            return g;
        }
    }
    return NULL;
}

static void gort__resetspinning(gort__m *m) {
    gort__rt *rt = m->rt;
    m->spinning = 0;
    if (gort__tr_on()) gort__tr_spin(m, 0);
    /* We found work while spinning: if we were the last spinner, start
       another so that newly readied work keeps a spinner looking for it. */
    if (GORT__ADD(&rt->nmspinning, (uint32_t)-1) == 0) gort__wakep(rt);
}

/* We found our next G in the network ourselves (a non-blocking netpoll
   while spinning): stop spinning, and start another spinner only if
   other work is waiting. What else the poll readied went through
   gort__inject, which wakes Ms for it; the one G this M runs next needs
   no one else. gort__resetspinning's unconditional wake-up here cost a
   futex wake and wait per message on a lone connection (the other M
   woke, spun and slept again): 0.55 pairs per message of an echo
   server. Go's findrunnable returns a G it polled the same way, not
   spinning. The count drops before the look (seq_cst), the other half of
   a submitter's queue-then-read-nmspinning in gort__wakep: one that saw
   us spinning queued its G before our look. */
static int gort__work_queued(gort__rt *rt);
static void gort__stopspinning_polled(gort__m *m) {
    if (!m->spinning) return;
#if defined(GORT__OS_WIN)
    /* Not on Windows: examples/fetch.c's selftest under Wine timed its
       fast servers out without the wake-up (the poller there is
       WSAPoll's, >>poll-windows); the gain was measured on Linux only. */
    gort__resetspinning(m);
#else
    m->spinning = 0;
    if (gort__tr_on()) gort__tr_spin(m, 0);
    GORT__ADD(&m->rt->nmspinning, (uint32_t)-1);
    if (gort__work_queued(m->rt)) gort__wakep(m->rt);
#endif
}

/* Is a G waiting in any run queue (a P's or the global one)? The look a
   spinner makes after it stops counting itself as spinning. */
static int gort__work_queued(gort__rt *rt) {
    int i;
    if (__atomic_load_n(&rt->gq_size, __ATOMIC_SEQ_CST) > 0) return 1;
    for (i = 0; i < rt->nprocs; i++)
        if (!gort__runq_empty(&rt->allp[i])) return 1;
    return 0;
}

/* Sleep on the M's note until gort__startm hands it a P. NULL if stopping. */
static gort__p *gort__stopm(gort__m *m) {
    gort__rt *rt = m->rt;
    GORT_ASSERT(m->p == NULL && !m->spinning);   /* an M sleeps with no P */
    gort__lock(&rt->lock);
    if (GORT__LOAD(&rt->stopping)) { gort__unlock(&rt->lock); return NULL; }
    __atomic_store_n(&m->note, 0, __ATOMIC_RELAXED);
    m->link = rt->midle;
    rt->midle = m;
    gort__unlock(&rt->lock);
    gort__note_sleep(&m->note, 0);
    if (GORT__LOAD(&rt->stopping)) return NULL;
    {
        gort__p *p = m->nextp;
        GORT_ASSERT(p != NULL);   /* only startm (with a P) and a stop wake it */
        m->nextp = NULL;
        return p;
    }
}

/* GORT_DEBUG=migrate: every resumed G goes through the global queue, and
   an M takes from it only Gs that last ran on another M. If it finds only
   its own, it makes sure another M is awake to take them and waits; after
   GORT__MIGRATE_WAIT_NS (the other Ms may all be busy in goroutines that
   never yield) it runs one itself, so the mode cannot deadlock.
   It waits without the scheduler lock, watching the queue's length and
   where its first G last ran: the M it waits for must take that lock to
   dequeue, and a waiter that took and dropped it in a loop kept it out
   (the lock is not fair: a sleeping contender loses to one that relocks
   at once). The length alone is not enough: another M may take the G,
   run it and queue it again (a timer, a channel partner) between two
   looks, and both Ms would then wait out the whole GORT__MIGRATE_WAIT_NS
   for each other; once the G ran elsewhere its last_m changes for good.
   Before, every goroutine readied in this mode could cost that wait:
   20,000 gort_after(0) receives took 14 s instead of 0.01 s.
   Why 200 us: a woken M normally takes the G within tens of
   microseconds; on an overloaded machine it may wait milliseconds for a
   CPU, and each readied G would pay the whole wait (2 ms made 20,000
   receives take up to 4 s under a load of 7 on 2 CPUs, 200 us about
   0.3 s). A G that stays on its M now and then still leaves the mode
   moving nearly every G. */
#define GORT__MIGRATE_WAIT_NS 200000
static gort__g *gort__migrate_get(gort__m *m) {
    gort__rt *rt = m->rt;
    int64_t until = 0;
    for (;;) {
        gort__g *g, *prev = NULL, *mine = NULL;
        int late = until && gort__nanotime() > until;
        long size;
        int i;
        if (GORT__LOAD(&rt->gq_size) == 0 || GORT__LOAD(&rt->stopping)) return NULL;
        gort__lock(&rt->lock);
        for (g = rt->gq_head; g; prev = g, g = g->schedlink) {
            if (GORT__LOAD(&g->last_m) != m || late) break;
            if (!mine) mine = g;
        }
        if (g) {
            if (prev) prev->schedlink = g->schedlink; else rt->gq_head = g->schedlink;
            if (rt->gq_tail == g) rt->gq_tail = prev;
            __atomic_store_n(&rt->gq_size, rt->gq_size - 1, __ATOMIC_SEQ_CST);
            gort__unlock(&rt->lock);
            return g;
        }
        size = rt->gq_size;
        gort__unlock(&rt->lock);
        if (!mine) return NULL;
        if (!until) until = gort__nanotime() + GORT__MIGRATE_WAIT_NS;
        gort__wakep_fenced(rt);
        /* Until the queue changes (another M took one, or more came) or
           the wait is over. After a short spin, yield the CPU: the M we
           woke may be waiting for one (on a machine with few CPUs a
           spinning waiter kept it off for milliseconds). A G's segment
           outlives the runtime's Ms, so mine stays readable. */
        for (i = 1; GORT__LOAD(&rt->gq_size) == size && GORT__LOAD(&mine->last_m) == m &&
                    !GORT__LOAD(&rt->stopping); i++) {
            if (i < 200) { gort__cpu_relax(); continue; }
            if (gort__nanotime() > until) break;
            gort__os_yield();
        }
    }
}

/* Find a G to run (on g0, holding m->p). Blocks, possibly giving the P up
   and getting another, until there is one; NULL when the runtime stops. */
static gort__g *gort__findrunnable(gort__m *m) {
    gort__rt *rt = m->rt;
    gort__p *p;
    gort__g *g;
    int64_t now, spin_until, deadline;
    int i, round;

top:
    p = m->p;
    if (GORT__LOAD(&rt->stopping)) return NULL;
    now = gort__nanotime();
    GORT__STORE(&rt->coarse_now, now);
    gort__timers_run_all(rt, p, now);
    if (GORT__UNLIKELY(rt->debug & GORT_DEBUG_MIGRATE) && rt->nprocs > 1 &&
        (g = gort__migrate_get(m)) != NULL)
        return g;
    /* Timers still due after the runner's batch ready goroutines faster
       than they run (5,000 tickers of 1 ms on two CPUs): the local queue
       refills as fast as it drains and spills its overflow to the global
       queue, which comes to hold most of what is runnable. At one G every
       61 slices a G queued there waited seconds while those readied after
       it ran; until the timers catch up, the global queue goes first, so
       every G waits about one round of all. (Only then: a spawn storm such
       as skynet also fills the global queue, and serving it first runs
       the tree breadth first, with every live goroutine's stack at once.) */
    if (GORT__UNLIKELY(GORT__LOAD(&p->tnext) <= now) && GORT__LOAD(&rt->gq_size) > 0) p->fairtick = 0;
    if (p->fairtick == 0 || GORT__LOAD(&p->preempt)) {
        /* Every 61st time slice (Go's number: prime, so it does not beat
           with loops in user code) the global queue goes first, so that
           local work cannot starve it. When sysmon found the slice used up
           (a pair handing off through runnext runs in one slice however
           many turns it takes), the local queue goes before runnext too.
           What runs now starts a slice of its own. */
        int preempted = GORT__LOAD(&p->preempt) != 0;
        if (preempted) GORT__STORE(&p->preempt, 0);
        if (p->fairtick == 0) p->fairtick = 61;
        g = gort__globrunq_try(rt, p, 1);
        if (g || (preempted && (g = gort__runq_get(p, 1)) != NULL)) {
            g->inherit = 0;
            return g;
        }
    }
    if ((g = gort__runq_get(p, gort__runq_draining(p))) != NULL) return g;
    if ((g = gort__globrunq_try(rt, p, 0)) != NULL) return g;
    if (GORT__LOAD(&rt->niowait) > 0 && !GORT__LOAD(&rt->polling)) {
        int64_t t0 = gort__tr_on() ? gort__nanotime() : -1;
        g = gort__netpoll(rt, 0, 0);
        if (g) {
            if (t0 >= 0) gort__tr_poll(&m->tr, t0, g, 0, 0);
            gort__inject(rt, g->schedlink);
            gort__stopspinning_polled(m);
            return g;
        }
    }

    /* Spin: steal, and keep looking for a while before sleeping. Limit the
       spinners to half the busy Ps, as Go does: more only burn CPU. */
    if (m->spinning || 2 * GORT__LOAD(&rt->nmspinning) < (uint32_t)(rt->nprocs - GORT__LOAD(&rt->npidle))) {
        if (!m->spinning) {
            m->spinning = 1;
            GORT__ADD(&rt->nmspinning, 1);
        }
        if (gort__tr_on()) gort__tr_spin(m, 1);
        spin_until = now + GORT__SPIN_NS;
        for (round = 0;; round++) {
            if (GORT__LOAD(&rt->stopping)) return NULL;
            if ((g = gort__steal_round(m, p, round >= 3)) != NULL) return g;
            if ((g = gort__globrunq_try(rt, p, 0)) != NULL) return g;
            if ((g = gort__runq_get(p, 0)) != NULL) return g;
            /* The network too, when goroutines wait on it and no M sleeps
               in the poller: else what comes in meanwhile waits for the
               spin to end (a request on a lone connection: 50 us more
               each, 0.7x Go's requests/s at one connection). A look is a
               system call: every 4th round, about every 5 us. */
            if ((round & 3) == 3 && GORT__LOAD(&rt->niowait) > 0 && !GORT__LOAD(&rt->polling)) {
                int64_t t0 = gort__tr_on() ? gort__nanotime() : -1;
                if ((g = gort__netpoll(rt, 0, 0)) != NULL) {
                    if (t0 >= 0) gort__tr_poll(&m->tr, t0, g, 0, 1);
                    gort__inject(rt, g->schedlink);
                    gort__stopspinning_polled(m);
                    return g;
                }
            }
            if ((round & 15) == 15) {
                now = gort__nanotime();
                if (gort__timers_earliest(rt) <= now) {
                    gort__timers_run_all(rt, p, now);
                    if ((g = gort__runq_get(p, 0)) != NULL) return g;
                }
                if (now > spin_until) break;
            }
            for (i = 0; i < GORT__SPIN_PAUSES; i++) gort__cpu_relax();
        }
    }

    /* Nothing: give the P up. */
    if (GORT__UNLIKELY(__atomic_load_n(&p->gfree_spill, __ATOMIC_RELAXED))) {
        gort__stack_spill(rt, p);
        __atomic_store_n(&p->gfree_spill, 0, __ATOMIC_SEQ_CST);   /* after: gort__stack_reclaim */
    }
    gort__lock(&rt->lock);
    if (GORT__LOAD(&rt->gq_size) > 0) {
        g = gort__globrunq_get(rt, p, 0);
        gort__unlock(&rt->lock);
        return g;
    }
    /* only p's owner queues on it, and we looked last */
    GORT_ASSERT(gort__runq_empty(p));
    m->p = NULL;
    gort__pidleput_locked(rt, p);
    gort__unlock(&rt->lock);

    if (m->spinning) {
        m->spinning = 0;
        if (gort__tr_on()) gort__tr_spin(m, 0);
        GORT__ADD(&rt->nmspinning, (uint32_t)-1);
        /* A submitter that saw us spinning did not wake anyone: look once
           more now that we no longer count as spinning (the other half of
           the dance in gort__wakep). */
        if (gort__work_queued(rt)) {
            p = gort__pidleget(rt, 0);
            if (p) {
                gort__acquirep(m, p);
                m->spinning = 1;
                GORT__ADD(&rt->nmspinning, 1);
                goto top;
            }
        }
    }

    gort__checkdead(rt);

    for (;;) {
        if (GORT__LOAD(&rt->stopping)) return NULL;
        if (gort__cas_u32(&rt->polling, 0, 1)) {
            /* We are the poller: sleep in the poller until the next timer,
               I/O, or a break. See gort__timer_add for the ordering. */
            __atomic_store_n(&rt->poll_until, INT64_MAX, __ATOMIC_SEQ_CST);
            deadline = gort__timers_earliest(rt);
            __atomic_store_n(&rt->poll_until, deadline, __ATOMIC_SEQ_CST);
            {
                int64_t t0 = gort__tr_on() ? gort__nanotime() : -1;
                g = gort__netpoll(rt, deadline, 1);
                if (t0 >= 0) gort__tr_poll(&m->tr, t0, g, 1, 0);
            }
            __atomic_store_n(&rt->polling, 0, __ATOMIC_SEQ_CST);
            now = gort__nanotime();
            GORT__STORE(&rt->coarse_now, now);
            if (g || gort__timers_earliest(rt) <= now || GORT__LOAD(&rt->gq_size) > 0) {
                p = gort__pidleget(rt, 0);
                if (p) {
                    gort__acquirep(m, p);
                    /* Run the first readied G ourselves (as Go does):
                       queueing it would wake another M to spin for a G
                       this one is about to run. */
                    if (g) {
                        gort__inject(rt, g->schedlink);
                        return g;
                    }
                    goto top;
                }
                /* Every P is busy: they run the due timers and the
                   readied goroutines at their next scheduling point. This
                   M sleeps; polling again at once would spin in
                   epoll_wait(0) for as long as a timer stays overdue
                   (measured: 4.4M calls a second with 10k tickers). */
                if (g) gort__inject(rt, g);
                goto stop;
            }
            continue;
        }
    stop:
        p = gort__stopm(m);
        if (!p) return NULL;
        gort__acquirep(m, p);
        goto top;
    }
}

static void gort__m_exit(gort__m *m);

static void gort__schedule(gort__m *m) {
    for (;;) {
        gort__g *g;
        if (!m->p) {   /* back from a blocking call that lost its P */
            gort__p *p = gort__stopm(m);
            if (!p) return;
            gort__acquirep(m, p);
        }
        g = gort__findrunnable(m);
        if (!g) return;
        if (m->spinning) gort__resetspinning(m);
        gort__execute(m, g, &m->g0);
    }
}

static void *gort__mstart(void *arg) {
    gort__m *m = (gort__m *)arg;
    gort__rt *rt = m->rt;
#if defined(GORT__OS_LINUX)
    stack_t ss;
    sigset_t set;
#endif
    GORT__TLS_SET_M(m);
    __atomic_store_n(&m->thread, gort__os_thread_self(), __ATOMIC_RELEASE);
#if defined(GORT__OS_LINUX)
    /* Signals are for the program's own threads; an M only keeps the
       synchronous ones (SIGSEGV for the overflow handler). */
    sigfillset(&set);
    sigdelset(&set, SIGSEGV); sigdelset(&set, SIGBUS); sigdelset(&set, SIGFPE);
    sigdelset(&set, SIGILL); sigdelset(&set, SIGABRT); sigdelset(&set, SIGTRAP);
    if (rt->handoff_ns >= 0) sigdelset(&set, SIGURG);   /* GORT__HANDOFF_SIG, from sysmon */
    /* SETMASK, not BLOCK: a thread inherits its creator's mask, and an M
       that sysmon started (a hand-off) would have everything blocked,
       the overflow handler's SIGSEGV included */
    pthread_sigmask(SIG_SETMASK, &set, NULL);
    /* The overflow handler needs a stack that is not the overflowed one. */
    m->altstack = malloc(64 * 1024);
    if (m->altstack) {
        ss.ss_sp = m->altstack; ss.ss_size = 64 * 1024; ss.ss_flags = 0;
        sigaltstack(&ss, NULL);
    }
#else
    {
        /* The overflow handler runs on the overflowed stack, in the bytes
           the system keeps for it (gort__os_stack_ready). */
        ULONG keep = GORT__OS_GUARANTEE;
        SetThreadStackGuarantee(&keep);
    }
#endif
    GORT__TLS_SET_TG(GORT__M_MARK);
    m->g0.rt = rt;
    m->cpuclock = gort__os_thread_clock();
    __atomic_store_n(&m->tid, gort__os_thread_id(), __ATOMIC_RELAXED);   /* sysmon reads it */
    gort__san_thread_start(m);
    gort__acquirep(m, m->nextp);
    m->nextp = NULL;
    gort__schedule(m);
    gort__m_exit(m);
    return NULL;
}

static void gort__rt_free(gort__rt *rt);
static void gort__tr_report(gort__rt *rt);

static void gort__m_exit(gort__m *m) {
    gort__rt *rt = m->rt;
#if defined(GORT__OS_LINUX)
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
#endif
    free(m->altstack);
    m->altstack = NULL;
    GORT__TLS_SET_M(NULL);
    if (GORT__ADD(&rt->mlive, (uint32_t)-1) == 0)
        gort__os_wake(&rt->mlive, 1);
    if (GORT__ADD(&rt->refs, (uint32_t)-1) == 0) gort__rt_free(rt);
}

/* ---------------------------------------------------------------- >>goroutine
   A goroutine's life outside the scheduler proper: gort_go (gort__newproc:
   a segment, a first frame, runnext), gort_yield, gort_exit and the end of
   the start function (gort__goexit: DEAD, then FREE on the next context). */

/* The hand-off (>>sysmon, gort__sysmon_handoff): sysmon sends SIGURG to
   the thread of a P whose goroutine has been outside gort too long with
   other work waiting; the handler, on that thread, puts the goroutine in
   the syscall state (gort__syscall_enter, as gort_block_begin does) when
   the thread was interrupted outside gort's code, and sysmon's retake then
   gives the P to another M. The goroutine runs on without a P; at its next
   call into gort (GORT__API) it takes one back (gort__syscall_exit, as
   gort_block_end does). "Outside gort's code" is g->in_gort == 0: every
   public function that may touch the P counts itself in with GORT__API
   (undone by a cleanup at every return), a new goroutine starts counted in
   until its function is called, and every switch happens inside gort. The
   handler runs on the thread whose counter it reads, so plain loads and
   stores with compiler fences (__atomic_signal_fence) order them: the
   entry counts in before it looks at handed, so either the handler ran
   first (and the entry sees handed) or it sees the count and does
   nothing. The cost on a fast path is a load, an increment, a test and a
   decrement of the G's own fields. */
static int gort__syscall_enter(gort__m *m, int io);
static void gort__syscall_exit(gort__m *m, int io);

typedef struct { gort__g *g; } gort__api_scope;

static GORT__NOINLINE void gort__handback(gort__g *g) {
    gort__m *m = gort__getm();
    GORT_ASSERT(m && m->curg == g && g->in_gort > 0);
    g->handed = 0;
    gort__syscall_exit(m, 0);
}

static inline gort__api_scope gort__api_enter(void) {
    gort__api_scope sc;
    gort__m *m = gort__getm();
    sc.g = m ? m->curg : NULL;
    if (sc.g) {
        sc.g->in_gort++;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        if (GORT__UNLIKELY(sc.g->handed)) gort__handback(sc.g);
    }
    return sc;
}

static inline void gort__api_leave(gort__api_scope *sc) {
    if (sc->g) {
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        sc->g->in_gort--;
    }
}

/* First statement of a public function that may touch the P. */
#if defined(__GNUC__) || defined(__clang__)
#define GORT__API() \
    gort__api_scope gort__api_sc __attribute__((cleanup(gort__api_leave), unused)) = gort__api_enter()
#else
#define GORT__API() ((void)0)   /* no cleanups: gort__handoff_install leaves the hand-off off */
#endif

#define GORT__HANDOFF_MAGIC 0x676f7274   /* "gort" in the signal's value: ours */
#if defined(GORT__OS_LINUX)
#define GORT__HANDOFF_SIG   SIGURG
static struct sigaction gort__urg_old;
static uint32_t gort__urg_lock;   /* one installer at a time */

static void gort__urg_handler(int sig, siginfo_t *si, void *uc) {
    int saved = errno;
    if (si && si->si_code == SI_QUEUE && si->si_value.sival_int == GORT__HANDOFF_MAGIC) {
        gort__m *m = GORT__TLS_M();
        gort__g *g = m ? m->curg : NULL;
        gort__p *p = m ? m->p : NULL;
        if (g && p && !g->in_gort && !g->handed && GORT__LOAD(&g->status) == GORT__G_RUNNING &&
            gort__pst_state(GORT__LOAD(&p->state)) == GORT__P_RUNNING) {
            g->handed = 1;
            gort__syscall_enter(m, 0);
            GORT__ADD(&m->rt->nhandoffs, 1);
        }
    } else if ((gort__urg_old.sa_flags & SA_SIGINFO) && gort__urg_old.sa_sigaction) {
        gort__urg_old.sa_sigaction(sig, si, uc);
    } else if (gort__urg_old.sa_handler != SIG_DFL && gort__urg_old.sa_handler != SIG_IGN) {
        gort__urg_old.sa_handler(sig);
    }
    errno = saved;
}

/* At every runtime start (the program may have installed its own handler
   since the last); the program's handler, if any, is called for every
   SIGURG that is not the hand-off's. */
static void gort__handoff_install(void) {
#if defined(__GNUC__) || defined(__clang__)
    struct sigaction sa, cur;
    gort__lock(&gort__urg_lock);
    /* at every start: the program may have put its own handler in since */
    if (sigaction(GORT__HANDOFF_SIG, NULL, &cur) == 0 &&
        !((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == gort__urg_handler)) {
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = gort__urg_handler;
        sigfillset(&sa.sa_mask);
        sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
        gort__urg_old = cur;   /* before ours can run: it reads this */
        sigaction(GORT__HANDOFF_SIG, &sa, NULL);
    }
    gort__unlock(&gort__urg_lock);
#endif
}
#else
#define GORT__HANDOFF_SIG 0
static void gort__handoff_install(void) {}
/* Windows has no signal to interrupt a thread with: sysmon stops it
   (SuspendThread, then GetThreadContext, which returns only once the
   thread has stopped: both are full barriers, so sysmon sees the thread's
   last stores and the thread will see sysmon's), makes the handler's
   checks and hand-off for it, and lets it go. The thread cannot be
   inside gort's own code (in_gort is 0) or hold gort's locks there, so
   the hand-off takes none it could hold; it was stopped at an arbitrary
   instruction of the program's code, as the signal would have found it,
   perhaps holding a lock of the system's (the heap's, WaitOnAddress's),
   so nothing here may take one: the state changes are atomics, and
   gort__syscall_enter skips its wake-up of sysmon when sysmon runs it. */
static void gort__handoff_thread(gort__m *m) {
    HANDLE h = (HANDLE)__atomic_load_n(&m->thread, __ATOMIC_ACQUIRE);   /* NULL until the thread set it */
    CONTEXT ctx;
    /* gort__syscall_enter reads this thread's thread-locals: MinGW's gcc
       emulates them and allocates a thread's block (malloc, the heap's
       lock) at its first access, which must come before the window */
    gort__m *self = gort__getm();   /* NULL: sysmon is no M */
    if (!h || self == m || SuspendThread(h) == (DWORD)-1) return;
    memset(&ctx, 0, sizeof ctx);
    ctx.ContextFlags = CONTEXT_CONTROL;
    if (GetThreadContext(h, &ctx)) {
        gort__g *g = GORT__LOAD(&m->curg);
        gort__p *p = GORT__LOAD(&m->p);
        if (g && p && !GORT__LOAD(&g->in_gort) && !GORT__LOAD(&g->handed) &&
            GORT__LOAD(&g->status) == GORT__G_RUNNING &&
            gort__pst_state(GORT__LOAD(&p->state)) == GORT__P_RUNNING) {
            g->handed = 1;
            gort__syscall_enter(m, 0);
            GORT__ADD(&m->rt->nhandoffs, 1);
        }
    }
    ResumeThread(h);
}
#endif

static void gort__goexit_after(gort__g *g, void *arg) {
    gort__m *m = gort__getm();
    (void)arg;
    gort__san_fiber_end(g);   /* we run on the next context: not the fiber we are on */
    gort__setstatus(g, GORT__G_DEAD, GORT__G_FREE);
    gort__stack_put(m->rt, m->p, g);
}

static GORT__NOINLINE void gort__goexit(void) {
    gort__m *m = gort__getm();
    gort__g *g = m->curg;
    gort__rt *rt = m->rt;
    GORT_ASSERT(g && m->p && m->after_fn == NULL);
    gort__setstatus(g, GORT__G_RUNNING, GORT__G_DEAD);
    GORT__OS_STACK_LIMIT_NOW(g);   /* for gort__stack_put: how far the system grew the stack */
    __atomic_store_n(&m->p->ngo, m->p->ngo - 1, __ATOMIC_RELAXED);
    if (g == __atomic_load_n(&rt->main_g, __ATOMIC_RELAXED)) {
        /* The main goroutine ended by gort_exit: as in Go, the others go on;
           when none is left, that is a deadlock. */
        gort__cas_u32(&rt->main_state, GORT__MAIN_RUNNING, GORT__MAIN_GOEXIT);
        __atomic_store_n(&rt->main_g, (gort__g *)NULL, __ATOMIC_RELAXED);
    }
    gort__switch_away(m, g, gort__goexit_after, NULL, NULL);
    GORT_ASSERT(!"a dead goroutine was resumed");
}

static void gort__g_main(void *arg) {
    gort__g *g = (gort__g *)arg;
    gort__after_switch(g);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    g->in_gort--;   /* counted in by gort__newproc: the user's code from here */
    g->fn(g->arg);
    g->in_gort++;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (GORT__UNLIKELY(g->handed)) gort__handback(g);
    gort__goexit();
}

/* gort__newproc from outside the runtime's threads queued g: is there an
   M to run it? None exists when the first thread could not be created
   (thread limits, memory). startm counts an M in mcount and mstarting
   before it creates the thread (unlocked) and settles both under the sched
   lock after, so: an M that exists (mcount > mstarting) will find g; one
   being created is waited for. With none at all, we start one ourselves
   and fail only if that fails (or the runtime is stopping): nobody can
   have taken g then, so take it back and report why, rather than leave
   it queued forever (gort_run would never return). Failing at once on
   "none at all" lost every gort_go of one plain thread while another
   thread's gort__wakep, whose claim of nmspinning had made ours do
   nothing, had not yet reached startm's count under the lock
   (test_sched, background mode, under qemu). A P is idle whenever no M
   is counted: startm takes the P and counts its M in one lock hold. */
static int gort__newproc_check(gort__rt *rt, gort__g *g) {
    gort__g *x, *prev = NULL;
    int err, tried = 0, stopping = 0;
    for (;;) {
        gort__lock(&rt->lock);
        if (rt->mcount > rt->mstarting) { gort__unlock(&rt->lock); return 0; }
        if (rt->mstarting == 0) {
            stopping = GORT__LOAD(&rt->stopping) != 0;
            if (tried || stopping) break;   /* our own start failed: rt->m_err says why */
            GORT_ASSERT(rt->npidle > 0);
            gort__unlock(&rt->lock);
            tried = 1;
            gort__startm(rt, NULL, 0);
            continue;
        }
        gort__unlock(&rt->lock);
        gort__os_yield();   /* the first thread is being created: its outcome decides */
    }
    for (x = rt->gq_head; x && x != g; prev = x, x = x->schedlink) {}
    GORT_ASSERT(x == g);
    if (prev) prev->schedlink = g->schedlink; else rt->gq_head = g->schedlink;
    if (rt->gq_tail == g) rt->gq_tail = prev;
    __atomic_store_n(&rt->gq_size, rt->gq_size - 1, __ATOMIC_SEQ_CST);
    err = stopping ? -ESRCH : rt->m_err ? rt->m_err : -EAGAIN;
    gort__unlock(&rt->lock);
    GORT__ADD(&rt->ngo_extra, -1);
    gort__setstatus(g, GORT__G_RUNNABLE, GORT__G_FREE);
    gort__san_fiber_end(g);   /* it never ran: a free slot holds no fiber */
    gort__stack_put(rt, NULL, g);
    return err;
}

/* Start fn(arg) as a goroutine of rt. */
static int gort__newproc(gort__rt *rt, void (*fn)(void *), void *arg, gort__g **out) {
    gort__m *m = gort__getm();
    gort__p *p = (m && m->rt == rt) ? m->p : NULL;
    gort__g *g = gort__stack_get(rt, p);
    if (!g) return -ENOMEM;
    gort__san_fiber_begin(g);
    g->fn = fn;
    g->arg = arg;
    g->sp_low = g->stack_hi;
    g->waitstate = GORT__W_NONE;
    g->in_gort = 1;   /* until gort__g_main calls fn */
    g->handed = 0;
    __atomic_store_n(&g->hog_reported, 0, __ATOMIC_RELAXED);   /* sysmon reads it */
    __atomic_store_n(&g->last_m, (gort__m *)NULL, __ATOMIC_RELAXED);
    if (p) {
        if (p->goid_next == p->goid_end) {
            p->goid_next = GORT__ADD(&rt->goid_gen, 16) - 16;
            p->goid_end = p->goid_next + 16;
        }
        g->id = ++p->goid_next;
    } else {
        g->id = GORT__ADD(&rt->goid_gen, 1);
    }
    g->sp = gort__ctx_init(g->stack_lo - rt->page, g->stack_limit, g->stack_hi, gort__g_main, g);
    g->trflow = 0;
    gort__setstatus(g, GORT__G_FREE, GORT__G_RUNNABLE);
    if (gort__tr_on()) gort__tr_flow(g, 1);
    if (out) *out = g;
    if (p) {
        __atomic_store_n(&p->ngo, p->ngo + 1, __ATOMIC_RELAXED);
        __atomic_store_n(&p->gorttick, p->gorttick + 1, __ATOMIC_RELAXED);   /* not a hog */
        gort__runq_put(rt, p, g, 2);
        /* Back-pressure: a goroutine spawning in a loop would otherwise
           keep every child alive (a fresh stack each) until it blocks.
           After GORT__SPAWN_BURST spawns in one run it yields, and the
           queue runs first: the children that finish hand their stacks
           to the next ones. Go's preemption gives the same effect;
           gort_go is a scheduling point for that reason. Counted per run,
           not by the queue's length: a tree of goroutines that each spawn
           a few (skynet) goes depth first through runnext and the front
           of the queue (>>runq), and a parent yielding after a few spawns
           would let its siblings' subtrees start first (measured before
           the front pushes: 320k goroutines alive at once for a 1M-leaf
           tree, against 76k without). */
        if (m->curg && ++p->spawns >= GORT__SPAWN_BURST) {
            p->spawns = 0;
            gort__wakep(rt);
            gort_yield();
            return 0;
        }
        /* no fence: the runnext exchange published g (seq_cst), the
           first half of the dance in gort__wakep, as in gort__ready (the
           fence cost a spawn and exit at 1 P about 3 ns); a solo P's
           plain store needs none (gort__runnext_swap) */
        gort__wakep(rt);
        return 0;
    }
    GORT__ADD(&rt->ngo_extra, 1);
    gort__lock(&rt->lock);
    gort__globrunq_put_locked(rt, g, g, 1);
    gort__unlock(&rt->lock);
    gort__wakep_fenced(rt);
    return gort__newproc_check(rt, g);
}

static gort__rt *gort__cur_rt(void) {
    gort__m *m = gort__getm();
    if (m) return m->rt;
    return __atomic_load_n(&gort__the_rt, __ATOMIC_ACQUIRE);
}

int gort_go(void (*fn)(void *arg), void *arg) {
    GORT__API();
    gort__rt *rt;
    if (!fn) return -EINVAL;
    rt = gort__cur_rt();
    if (!rt || GORT__LOAD(&rt->stopping)) {
        gort__misuse("gort_go: no runtime is running; start one with gort_run() or gort_start() first");
        return -ESRCH;
    }
    return gort__newproc(rt, fn, arg, NULL);
}

static void gort__yield_after(gort__g *g, void *arg) {
    gort__m *m = gort__getm();
    (void)arg;
    /* Behind the global queue when it has work (as Go's Gosched), or a
       yielder would come straight back ahead of it; else at our tail. */
    if (GORT__UNLIKELY(m->rt->debug & GORT_DEBUG_MIGRATE) || GORT__LOAD(&m->rt->gq_size) > 0) {
        gort__lock(&m->rt->lock);
        gort__globrunq_put_locked(m->rt, g, g, 1);
        gort__unlock(&m->rt->lock);
        gort__wakep_fenced(m->rt);
        return;
    }
    gort__runq_put(m->rt, m->p, g, 0);
}

/* No other P has queued work that a yield could steal and run here. */
static int gort__others_idle(gort__m *m) {
    int i;
    for (i = 0; i < m->rt->nprocs; i++)
        if (&m->rt->allp[i] != m->p && !gort__runq_empty(&m->rt->allp[i])) return 0;
    return 1;
}

void gort_yield(void) {
    GORT__API();
    gort__m *m = gort__getm();
    gort__g *g;
    if (!m || !m->curg) { gort__os_yield(); return; }
    g = m->curg;
    /* Nothing else runnable here: nothing to yield to (the other Ps, if
       idle, are spinning or will be woken for real work). */
    if (gort__runq_empty(m->p) && GORT__LOAD(&m->rt->gq_size) == 0 &&
        GORT__LOAD(&m->p->tnext) == INT64_MAX && !(m->rt->debug & GORT_DEBUG_MIGRATE) &&
        gort__others_idle(m)) {
        /* a scheduling point all the same (sysmon's hog check) */
        __atomic_store_n(&m->p->schedtick, m->p->schedtick + 1, __ATOMIC_RELAXED);
        return;
    }
    g->waitstate = GORT__W_YIELD;
    gort__setstatus(g, GORT__G_RUNNING, GORT__G_RUNNABLE);
    gort__switch_away(m, g, gort__yield_after, NULL, NULL);
}

void gort_exit(void) {
    GORT__API();
    gort__m *m = gort__getm();
    if (!m || !m->curg) {
        gort__misuse("gort_exit: called outside a goroutine; it ends only goroutines (use pthread_exit for threads)");
        return;
    }
    gort__goexit();
}

int gort_maxprocs(void) {
    gort__rt *rt = gort__cur_rt();
    return rt ? rt->nprocs : 0;
}

long gort_goroutines(void) {
    gort__rt *rt = gort__cur_rt();
    int64_t n;
    int i;
    if (!rt) return 0;
    n = GORT__LOAD(&rt->ngo_extra);
    for (i = 0; i < rt->nprocs; i++) n += __atomic_load_n(&rt->allp[i].ngo, __ATOMIC_ACQUIRE);
    return (long)n;
}

int gort_in_goroutine(void) {
    gort__m *m = gort__getm();
    return m && m->curg ? 1 : 0;
}

/* ---------------------------------------------------------------- >>thread
   Plain threads get a stand-in G the first time they call into gort; while
   it lives (until the thread exits) the thread counts against deadlock
   detection, since it may still send. It meets goroutines on the same
   waiter queues; it waits by sleeping on its futex word (gort__park_thread,
   in >>sched), and gort__threads_live (>>runtime) counts it for
   gort__checkdead. */
/* Every plain thread's stand-in, for dumps and deadlock detection. */
static gort__g *gort__tg_all;      /* gort__tg_lock */
static uint32_t gort__tg_lock;
static uint64_t gort__tg_ids;      /* atomic */

/* Where a plain thread's record lives: in its own TLS block, so that
   registering a thread allocates nothing and cannot fail (a void call
   such as gort_mutex_lock has no way to report -ENOMEM). MinGW's gcc has
   no such block: its __thread is emulated, allocated at a thread's first
   touch, and abort()s when the allocation fails (test_faults found it).
   There the records come from a static pool of GORT__TG_POOL, given back
   at thread exit, and from the process heap beyond it: a heap that
   refuses is said, then abort(), as emulated TLS would have. */
#if defined(GORT__OS_WIN) && !defined(__clang__)
#define GORT__TG_POOL 32
static gort__tg gort__tg_pool[GORT__TG_POOL];
static uint32_t gort__tg_pool_used[GORT__TG_POOL];   /* atomic: 1 taken */
static gort__tg *gort__tg_new(void) {
    gort__tg *t;
    int i;
    for (i = 0; i < GORT__TG_POOL; i++)
        if (gort__cas_u32(&gort__tg_pool_used[i], 0, 1)) return &gort__tg_pool[i];
    t = (gort__tg *)HeapAlloc(GetProcessHeap(), 0, sizeof *t);
    if (!t) {
        gort__misuse("out of memory for a plain thread's record (more than 32 plain threads in gort at once)");
        abort();
    }
    return t;
}
static void gort__tg_free(gort__tg *t) {
    if (t >= gort__tg_pool && t < gort__tg_pool + GORT__TG_POOL)
        __atomic_store_n(&gort__tg_pool_used[t - gort__tg_pool], 0, __ATOMIC_RELEASE);
    else
        HeapFree(GetProcessHeap(), 0, t);
}
#else
static __thread gort__tg gort__tg_own;
static gort__tg *gort__tg_new(void) { return &gort__tg_own; }   /* no switch after: the caller stays on its thread */
static void gort__tg_free(gort__tg *t) { (void)t; }
#endif

static void gort__tg_dtor(void *p) {
    gort__g *g = (gort__g *)p, **pp;
    gort__lock(&gort__tg_lock);
    for (pp = &gort__tg_all; *pp; pp = &gort__tgof(*pp)->tlink)
        if (*pp == g) { *pp = gort__tgof(g)->tlink; break; }
    gort__unlock(&gort__tg_lock);
    GORT__ADD(&gort__nthreads, -1);
    GORT__TLS_SET_TG(NULL);
    gort__tg_free(gort__tgof(g));   /* unlisted: no dump reads it now */
}

static GORT__NOINLINE gort__g *gort__thread_g(void) {
    gort__g *g = GORT__TLS_TG();
    if (!g && gort__getm()) return GORT__M_MARK;   /* not a plain thread */
    if (!g) {
        gort__tg *t = gort__tg_new();   /* no switch in here: a plain thread stays on its thread */
        memset(t, 0, sizeof *t);
        g = &t->g;
        g->is_thread = 1;
        g->status = GORT__G_RUNNING;
        t->rnd = (uint64_t)(uintptr_t)g * 0x9E3779B97F4A7C15ULL + (uint64_t)gort__nanotime();
        if (!t->rnd) t->rnd = 1;
        g->id = GORT__ADD(&gort__tg_ids, 1);
        gort__os_stack_bounds(&t->tstk_lo, &t->tstk_hi);
        gort__os_at_thread_exit(gort__tg_dtor, g);
        GORT__TLS_SET_TG(g);
        gort__lock(&gort__tg_lock);
        gort__tgof(g)->tlink = gort__tg_all;
        gort__tg_all = g;
        gort__unlock(&gort__tg_lock);
        GORT__ADD(&gort__nthreads, 1);
    }
    return g;
}

/* The P the caller runs on (NULL for a plain thread). Valid until the
   caller's next scheduling point. */
static gort__p *gort__cur_p(void) {
    gort__m *m = gort__getm();
    return m && m->curg ? m->p : NULL;
}

/* Progress inside gort (a long loop of wake-ups): sysmon's hog check must
   not blame the goroutine for it. */
static inline void gort__progress(gort__p *p) {
    if (p) __atomic_store_n(&p->gorttick, p->gorttick + 1, __ATOMIC_RELAXED);
}

/* The caller's G: the running goroutine, or the plain thread's stand-in. */
static gort__g *gort__self(void) {
    gort__m *m = gort__getm();
    if (m && m->curg) return m->curg;
    if (m) {
        gort__misuse("a blocking gort call was made from the scheduler itself (a timer callback?)");
        abort();
    }
    return gort__thread_g();
}

static uint64_t *gort__rnd_state(void) {
    gort__m *m = gort__getm();
    if (m) return &m->rnd;
    return &gort__tgof(gort__thread_g())->rnd;
}

/* ---------------------------------------------------------------- >>timer
   Each P has a 4-ary min-heap of timers (shallower than binary: fewer
   cache misses on sift-down, as in Go). A timer is added to the P of the
   goroutine that arms it, or to P 0 from a plain thread. Any M that looks
   for work runs the expired timers of every P (an idle P's timers must
   still fire), and the poller sleeps until the earliest of all of them.
   A timer's memory belongs to whoever armed it (usually a parked
   goroutine's stack): the runner copies what it needs and unlinks it under
   the heap's lock before calling fn, so after gort__timer_del returns
   nothing will touch it again. */
/* Sifts move the entry being placed along a hole and write each timer's
   idx once, where it lands. */
static void gort__heap_up(gort__hent *h, int i) {
    gort__hent e = h[i];
    while (i > 0) {
        int parent = (i - 1) / 4;
        if (h[parent].when <= e.when) break;
        h[i] = h[parent];
        h[i].t->idx = i;
        i = parent;
    }
    h[i] = e;
    e.t->idx = i;
}
static void gort__heap_down(gort__hent *h, int n, int i) {
    gort__hent e = h[i];
    for (;;) {
        int c = 4 * i + 1, best = -1, k;
        int64_t bw = e.when;
        for (k = 0; k < 4 && c + k < n; k++)
            if (h[c + k].when < bw) { bw = h[c + k].when; best = c + k; }
        if (best < 0) break;
        h[i] = h[best];
        h[i].t->idx = i;
        i = best;
    }
    h[i] = e;
    e.t->idx = i;
}
/* The earliest deadline in p's heap and overflow list (tlock). The list
   is empty unless growing the heap failed: timers are never refused (a
   parked goroutine's timer is armed after its switch, too late to fail). */
static int64_t gort__timers_min(gort__p *p) {
    int64_t w = p->tlen ? p->theap[0].when : INT64_MAX;
    gort__timer *t;
    for (t = p->tovf; t; t = t->onext)
        if (t->when < w) w = t->when;
    return w;
}
static void gort__heap_remove(gort__p *p, int i) {
    int last;
    GORT_ASSERT(GORT__HELD(&p->tlock) && i >= 0 && i < p->tlen);
    last = --p->tlen;
    if (i != last) {
        p->theap[i] = p->theap[last];
        gort__heap_down(p->theap, p->tlen, i);
        gort__heap_up(p->theap, i);
    }
    GORT__STORE(&p->tnext, gort__timers_min(p));
}
/* Unlink t from p's overflow list (tlock); with now >= 0, t is ignored and
   the first timer due by now is unlinked instead. Returns it, or NULL. */
static gort__timer *gort__ovf_remove(gort__p *p, gort__timer *t, int64_t now) {
    gort__timer **pp;
    for (pp = &p->tovf; *pp; pp = &(*pp)->onext) {
        if (now >= 0 ? (*pp)->when <= now : *pp == t) {
            t = *pp;
            *pp = t->onext;
            GORT__STORE(&p->tnext, gort__timers_min(p));
            return t;
        }
    }
    return NULL;
}

static void gort__netpoll_break(gort__rt *rt);

static void gort__timer_add(gort__rt *rt, gort__p *p, gort__timer *t) {
    int64_t when;
    if (!p) p = &rt->allp[0];
    gort__lock(&p->tlock);
    if (p->tlen == p->tcap) {
        int nc = p->tcap ? p->tcap * 2 : 64;
        gort__hent *h = (gort__hent *)realloc(p->theap, (size_t)nc * sizeof *h);
        if (h) { p->theap = h; p->tcap = nc; }
    }
    when = t->when;   /* t may fire and be gone once the lock is released */
    GORT_ASSERT(__atomic_load_n(&t->p, __ATOMIC_RELAXED) == NULL);   /* in no heap yet */
    if (p->tlen < p->tcap) {
        t->idx = p->tlen;
        p->theap[p->tlen].when = t->when;
        p->theap[p->tlen++].t = t;
        gort__heap_up(p->theap, t->idx);
        /* heap order where t settled: no earlier than its parent */
        GORT_ASSERT(p->theap[t->idx].t == t && p->theap[t->idx].when == t->when &&
                    (t->idx == 0 || p->theap[(t->idx - 1) / 4].when <= t->when));
    } else {   /* out of memory: the slow list (see gort__timers_min) */
        t->idx = -1;
        t->onext = p->tovf;
        p->tovf = t;
    }
    __atomic_store_n(&t->p, p, __ATOMIC_RELEASE);
    __atomic_store_n(&p->tnext, gort__timers_min(p), __ATOMIC_SEQ_CST);
    gort__unlock(&p->tlock);
    /* If the poller sleeps past this timer, wake it. The poller stores
       INT64_MAX before it scans the heaps and its real deadline after, all
       seq_cst like the tnext store above: either its scan sees this timer
       or we see a poll_until that makes us break its sleep. */
    if (__atomic_load_n(&rt->polling, __ATOMIC_SEQ_CST) &&
        when < __atomic_load_n(&rt->poll_until, __ATOMIC_SEQ_CST))
        gort__netpoll_break(rt);
}

/* 1 if removed before it fired; 0 if it fired (or is firing: its fn no
   longer looks at t). */
static int gort__timer_del(gort__timer *t) {
    gort__p *p = __atomic_load_n(&t->p, __ATOMIC_ACQUIRE);
    int removed = 0;
    if (!p) return 0;
    gort__lock(&p->tlock);
    if (t->p == p) {
        GORT_ASSERT(t->idx < 0 || (t->idx < p->tlen && p->theap[t->idx].t == t));
        if (t->idx < 0) gort__ovf_remove(p, t, -1);
        else gort__heap_remove(p, t->idx);
        __atomic_store_n(&t->p, (gort__p *)NULL, __ATOMIC_RELAXED);
        removed = 1;
    }
    gort__unlock(&p->tlock);
    return removed;
}

/* The first time after now on the grid when + k * period (k >= 1):
   missed ticks are skipped, as Go's tickers skip them. */
static int64_t gort__next_period(int64_t when, int64_t period, int64_t now) {
    int64_t next = when + period;
    if (next <= now) next = when + period * (1 + (now - when) / period);
    return next;
}

/* Run p's timers due by now, at most GORT__TIMER_BATCH of them: a heap
   that has more due than the CPUs can fire (10,000 tickers of 1 ms on
   two cores) must not keep the scheduler from running goroutines; the
   rest fire at the next look, a switch later. With other = 1 (another
   P's heap), a heap whose lock is taken is left to whoever holds it. */
#define GORT__TIMER_BATCH 64
static void gort__timers_fire(gort__p *p, int64_t now, int other);
static void gort__timers_run(gort__p *p, int64_t now, int other) {
    gort__m *m;
    if (GORT__LIKELY(!gort__tr_on()) || (m = gort__getm()) == NULL || m->curg) {
        gort__timers_fire(p, now, other);
        return;
    }
    gort__tr_timers(m, 1);   /* on g0: a slice for the flows to start in */
    gort__timers_fire(p, now, other);
    gort__tr_timers(m, 0);
}
static void gort__timers_fire(gort__p *p, int64_t now, int other) {
    int budget;
    for (budget = GORT__TIMER_BATCH; budget > 0; budget--) {
        gort__timer *t;
        void (*fn)(gort__g *, uint64_t, void *);
        gort__g *g;
        uint64_t seq;
        void *arg;
        if (other) {
            uint32_t z = 0;
            if (GORT__LOAD(&p->tlock) != 0 ||
                !__atomic_compare_exchange_n(&p->tlock, &z, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
                return;
        } else {
            gort__lock(&p->tlock);
        }
        if (p->tlen > 0 && p->theap[0].when <= now) {
            t = p->theap[0].t;
            /* the root is the earliest: its first children are no earlier */
            GORT_ASSERT(t->when == p->theap[0].when && (p->tlen < 2 || p->theap[1].when >= t->when));
            if (t->period > 0) {
                /* periodic: the next time on its grid after now, in place
                   (one sift instead of a removal and an insertion) */
                t->when = gort__next_period(t->when, t->period, now);
                p->theap[0].when = t->when;
                gort__heap_down(p->theap, p->tlen, 0);
                GORT__STORE(&p->tnext, gort__timers_min(p));
            } else {
                gort__heap_remove(p, 0);
            }
        } else if (!p->tovf || (t = gort__ovf_remove(p, NULL, now)) == NULL) {
            gort__unlock(&p->tlock);
            return;
        } else if (t->period > 0) {   /* the same on the overflow list */
            t->when = gort__next_period(t->when, t->period, now);
            t->onext = p->tovf;
            p->tovf = t;
            GORT__STORE(&p->tnext, gort__timers_min(p));
        }
        fn = t->fn; g = t->g; seq = t->seq; arg = t->arg;
        if (t->period > 0) __atomic_add_fetch(&t->refs, 1, __ATOMIC_ACQ_REL);   /* still in the heap */
        else __atomic_store_n(&t->p, (gort__p *)NULL, __ATOMIC_RELEASE);
        gort__unlock(&p->tlock);
        fn(g, seq, arg);
    }
}

int64_t gort_now(void) { return gort__nanotime(); }

static void gort__sleep_fire(gort__g *g, uint64_t seq, void *arg) {
    (void)seq; (void)arg;
    gort__ready(g);
}

void gort_sleep(int64_t ns) {
    GORT__API();
    gort__m *m;
    gort__timer *t;
    if (ns <= 0) { gort_yield(); return; }
    m = gort__getm();
    if (!m || !m->curg) {
        int64_t until = gort__deadline(ns), d;
        if (!m) gort__thread_g();
        while ((d = until - gort__nanotime()) > 0) gort__os_sleep_ns(d);
        return;
    }
    t = &m->curg->ptimer;
    memset(t, 0, sizeof *t);
    t->when = gort__deadline(ns);
    t->fn = gort__sleep_fire;
    t->g = m->curg;
    gort__park_g(m, NULL, NULL, GORT__W_SLEEP, t);
}

/* Timers that belong to gort's own objects (gort_timer, contexts) are in
   >>toolbox; a runtime that stops with one of them armed hands it back
   there (gort__timer_drop). */
static void gort__timer_drop(gort__timer *t);
static void gort__chan_unref(gort_chan *c);

/* ---------------------------------------------------------------- >>netpoll
   One epoll instance per runtime. An fd is registered, edge-triggered, for
   both directions, the first time a goroutine is about to park on it (or a
   select has a case on it), and the registration is checked again
   (EPOLL_CTL_MOD, which also re-arms the edge) each time a select with a
   timeout is about to park on it, and when a read, write, accept or
   gort_wait_fd has waited on it GORT__PD_CHECK_NS (50 ms) with no edge
   (gort__io_park: a check before every park was one system call in four
   of an echo server's; after 10 ms, an HTTP server's thousand
   connections, each asking every 11 ms or so, were checked often); one
   that died with an old file is renewed (gort__pd_arm). So a goroutine
   parked on a number that a plain close() freed and another file took
   waits at most 50 ms more. Its
   descriptor (gort__pd) holds the goroutines parked on it: readers and
   writers each in a FIFO; an edge wakes all waiters of that direction (each
   retries its call; those that get EAGAIN again park again). Each edge
   also bumps a per-direction counter (rseq/wseq). A call reads the counter
   before its system call and parks only if no edge came since: an edge that
   lands between a call's EAGAIN and its queueing (and woke only the waiters
   queued before it) is not lost. (A "ready" flag set only when nobody was
   woken loses exactly that case, when several goroutines read one fd.) The
   epoll data carries the fd and the descriptor's sequence number, which
   gort_close
   bumps, so an event for a closed fd whose number was reused is ignored.
   Descriptors live in a two-level table indexed by fd (chunks are never
   freed while the runtime lives, so a racing lookup cannot see freed
   memory). */
typedef struct gort__pd {
    uint32_t lock;
    uint32_t seq;          /* lock; read racily by the poller, rechecked under lock */
    int      state;        /* lock (read racily by the fast path): GORT__PD_* */
    int      notsock;      /* atomic hint: the last call found no socket here */
    gort__rt *owner;       /* lock (read racily by the fast path): the runtime
                              whose epoll it is registered with. A stopped
                              runtime can be freed late, while the next one
                              runs: it must only reset its own descriptors */
    uint32_t rseq, wseq;   /* written under lock, read racily: edges seen */
    gort__wq rq, wq;       /* lock: parked readers / writers */
} gort__pd;
#define GORT__PD_CHUNK 1024
#define GORT__PD_CHUNKS 1024
static gort__pd *gort__pd_tab[GORT__PD_CHUNKS];  /* process-wide; chunks live forever */

/* A new sequence number (pd lock held): events of the old registration
   are ignored from now on. Atomic: callers compare it without the lock. */
static void gort__pd_bump(gort__pd *pd) {
    __atomic_store_n(&pd->seq, pd->seq + 1, __ATOMIC_RELEASE);
}
/* What the poller hands back with fd's events: the fd and the sequence
   number it was armed under (pd lock held). */
static uint64_t gort__pd_data(gort__pd *pd, int fd) {
    return (uint64_t)(uint32_t)fd | ((uint64_t)pd->seq << 32);
}

static gort__pd *gort__pd_get(int fd, int create) {
    gort__pd *chunk;
    if (fd < 0 || fd >= GORT__PD_CHUNK * GORT__PD_CHUNKS) return NULL;
    chunk = __atomic_load_n(&gort__pd_tab[fd / GORT__PD_CHUNK], __ATOMIC_ACQUIRE);
    if (!chunk) {
        gort__pd *nc, *expected = NULL;
        if (!create) return NULL;
        nc = (gort__pd *)calloc(GORT__PD_CHUNK, sizeof *nc);
        if (!nc) return NULL;
        if (__atomic_compare_exchange_n(&gort__pd_tab[fd / GORT__PD_CHUNK], &expected, nc, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) chunk = nc;
        else { free(nc); chunk = expected; }
    }
    return &chunk[fd % GORT__PD_CHUNK];
}

/* Descriptor states (pd->state): UNKNOWN not registered with this
   runtime's epoll (new, or reset by gort_close, by a dead registration, or
   by its runtime's end); ARMED registered, edge-triggered, both
   directions; UNPOLLABLE epoll refused it (EPERM: a regular file, always
   ready). Every change goes through gort__pd_setstate. */
enum { GORT__PD_UNPOLLABLE = -1, GORT__PD_UNKNOWN = 0, GORT__PD_ARMED = 1 };

/* The one store of pd->state (pd's lock held). Release: the fast path in
   gort__pd_arm reads ARMED with acquire. */
static void gort__pd_setstate(gort__pd *pd, int st) {
    GORT_ASSERT(GORT__LOAD(&pd->lock) != 0);   /* held (by someone: the best a lock word says) */
    GORT_ASSERT(st == GORT__PD_UNPOLLABLE || st == GORT__PD_UNKNOWN || st == GORT__PD_ARMED);
    __atomic_store_n(&pd->state, st, __ATOMIC_RELEASE);
}

/* Forget pd's registration (pd lock held): UNKNOWN, under a new sequence
   number, so events of the old registration are ignored. */
static void gort__pd_reset(gort__pd *pd) {
    gort__pd_setstate(pd, GORT__PD_UNKNOWN);
    gort__pd_bump(pd);
}

/* Wake every goroutine parked on pd (pd lock held): success 1 makes each
   retry its call (the file behind the number changed), 0 says the fd was
   closed with gort_close. Returns the private list for gort__wake_list. */
static gort__waiter *gort__pd_evict_locked(gort__pd *pd, int success) {
    gort__waiter *w, *list = NULL;
    GORT_ASSERT(GORT__HELD(&pd->lock));
    while ((w = gort__wq_pop(&pd->rq)) != NULL) { w->success = success; w->wake_next = list; list = w; }
    while ((w = gort__wq_pop(&pd->wq)) != NULL) { w->success = success; w->wake_next = list; list = w; }
    return list;
}

/* O_NONBLOCK on fd, set if someone (a shared file description, a plain
   close() and reuse of the number) took it away. 0 or -errno. */
static int gort__fd_nonblock(int fd) {
#if defined(GORT__OS_LINUX)
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) return -errno;
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
    return 0;
#else
    return gort__os_sock_nonblock(fd);
#endif
}

/* Make fd's registration with rt's epoll live for the file the number
   names now. gort never owns an fd: the program may close() it and get
   the number back for another file at any time, and the kernel drops an
   epoll registration with its file, so a registration believed live may be
   dead. recheck asks the kernel (EPOLL_CTL_MOD: 0 live, ENOENT dead) and
   re-registers a dead one under a new sequence number, waking whoever was
   parked on the old file so that they retry on the new one. Callers
   recheck on the way to parking (the slow path), never on the fast path.
   Returns 1 (armed), 0 (not pollable: a regular file, always ready) or
   -errno. Takes pd's lock. */
static int gort__pd_arm(gort__rt *rt, gort__pd *pd, int fd, int recheck) {
    gort__waiter *evicted = NULL;
    int st, r;
    if (!recheck && GORT__LIKELY(__atomic_load_n(&pd->state, __ATOMIC_ACQUIRE) == GORT__PD_ARMED &&
                                 __atomic_load_n(&pd->owner, __ATOMIC_RELAXED) == rt))
        return 1;
    gort__lock(&pd->lock);
    if (__atomic_load_n(&pd->owner, __ATOMIC_RELAXED) != rt) {   /* registered with a runtime that is gone */
        gort__pd_reset(pd);
        __atomic_store_n(&pd->owner, rt, __ATOMIC_RELAXED);
    }
    st = __atomic_load_n(&pd->state, __ATOMIC_RELAXED);
    if (st == GORT__PD_ARMED && recheck) {
        /* Re-arming also re-delivers the edge: if fd is ready now, an event comes. */
        r = gort__poller_arm(&rt->poller, fd, gort__pd_data(pd, fd), 0);
        if (r == 0) { gort__unlock(&pd->lock); return 1; }
        if (r != -ENOENT) { gort__unlock(&pd->lock); return r; }
        /* ENOENT: closed with close() and the number reused. */
        st = GORT__PD_UNKNOWN;
        gort__pd_reset(pd);
        evicted = gort__pd_evict_locked(pd, 1);
    }
    if (st == GORT__PD_UNKNOWN || (st == GORT__PD_UNPOLLABLE && recheck)) {
        if ((r = gort__fd_nonblock(fd)) < 0) { gort__unlock(&pd->lock); gort__wake_list(evicted); return r; }
        if (st == GORT__PD_UNPOLLABLE) gort__pd_bump(pd);
        r = gort__poller_arm(&rt->poller, fd, gort__pd_data(pd, fd), 1);
        /* -EEXIST: registered under an older sequence number (the file
           outlived a gort_close through a dup): take it over. */
        if (r == -EEXIST) r = gort__poller_arm(&rt->poller, fd, gort__pd_data(pd, fd), 0);
        if (r == 0) st = GORT__PD_ARMED;
        else if (r == -EPERM) st = GORT__PD_UNPOLLABLE;   /* a regular file or similar: always ready */
        else {
            gort__pd_setstate(pd, GORT__PD_UNKNOWN);
            gort__unlock(&pd->lock);
            gort__wake_list(evicted);
            return r;
        }
        gort__pd_setstate(pd, st);
    }
    gort__unlock(&pd->lock);
    gort__wake_list(evicted);
    return st == GORT__PD_ARMED ? 1 : 0;
}

static void gort__netpoll_break(gort__rt *rt) { gort__poller_break(&rt->poller); }

/* Poll for I/O: block until deadline (INT64_MAX: no limit) if block, else
   just look. Returns the readied Gs as a list linked by schedlink, their
   state already RUNNABLE (the caller queues them). */
static gort__g *gort__netpoll(gort__rt *rt, int64_t deadline, int block) {
    gort__pollev ev[GORT__POLL_BATCH];
    gort__g *head = NULL, *tail = NULL;   /* in the poller's order: the first ready runs first */
    int n, i;
    GORT__STORE(&rt->last_poll, gort__nanotime());
    n = gort__poller_wait(&rt->poller, block ? deadline : 0, ev, GORT__POLL_BATCH);
    for (i = 0; i < n; i++) {
        uint64_t data = ev[i].data;
        int fd = (int)(uint32_t)data;
        uint32_t seq = (uint32_t)(data >> 32);
        gort__pd *pd;
        gort__waiter *w, *wake = NULL;
        pd = gort__pd_get(fd, 0);
        if (!pd) continue;
        gort__lock(&pd->lock);
        if (pd->seq != seq) { gort__unlock(&pd->lock); continue; }
        /* The edge is remembered unless it woke someone: a select waiter
           whose claim was lost to another case does not consume it. */
        if (ev[i].events & GORT__POLL_IN) {
            __atomic_store_n(&pd->rseq, pd->rseq + 1, __ATOMIC_RELEASE);
            while ((w = gort__wq_pop(&pd->rq)) != NULL) { w->success = 1; w->wake_next = wake; wake = w; }
        }
        if (ev[i].events & GORT__POLL_OUT) {
            __atomic_store_n(&pd->wseq, pd->wseq + 1, __ATOMIC_RELEASE);
            while ((w = gort__wq_pop(&pd->wq)) != NULL) { w->success = 1; w->wake_next = wake; wake = w; }
        }
        gort__unlock(&pd->lock);
        while (wake) {
            gort__waiter *nx = wake->wake_next;
            gort__g *g = wake->g;
            g->param = wake;
            if (g->is_thread) {
                gort__ready(g);
            } else {
                gort__setstatus(g, GORT__G_WAITING, GORT__G_RUNNABLE);
                g->schedlink = NULL;
                if (tail) tail->schedlink = g; else head = g;
                tail = g;
            }
            wake = nx;
        }
    }
    return head;
}

/* Queue readied Gs (from netpoll) on our P if we have one, else globally. */
static void gort__inject(gort__rt *rt, gort__g *list) {
    gort__m *m = gort__getm();
    int n = 0;
    while (list) {
        gort__g *nx = list->schedlink;
        if (m && m->p) gort__runq_put(rt, m->p, list, 0);
        else {
            gort__lock(&rt->lock);
            gort__globrunq_put_locked(rt, list, list, 1);
            gort__unlock(&rt->lock);
        }
        list = nx;
        n++;
    }
    while (n-- > 0) gort__wakep_fenced(rt);
}

/* ---------------------------------------------------------------- >>sysmon
   The monitor thread runs without a P. Every 20 us while anything is
   happening, backing off to 10 ms when nothing is (but at most
   GORT__SYSMON_BUSY while any P runs a goroutine), and sleeping until a
   P runs again once every P is idle and nothing is left for it (an idle
   program wakes no thread; see gort__sysmon_main), it:
   - takes the P from an M inside gort_block_begin/end (or a gort I/O
     system call) and hands it to another M (gort__handoffp), so the other
     goroutines keep running while that thread is blocked: at its first
     look at least GORT__RETAKE_NS after the look that first saw the same
     call (the same ticket). So the P moves one to two sysmon periods
     into the call: about 0.1 ms here (measured 93-135 us, timer slack and
     wake-ups included), plus the thread's creation (about 3 ms) when no M
     is idle. gort_block_begin wakes a sysmon that sleeps over 1 ms. gort's
     I/O calls do not, and a look that first sees one does not count as
     something happening (gort__sysmon_retake): while a P is in one,
     sysmon backs off as when idle, to GORT__SYSMON_BUSY at most, so such
     a call that blocks moves its P within about 1 ms (two periods). They
     are short, and a server is in one at most of sysmon's looks: counted
     as activity, they kept sysmon at a look every 20 us (about 5,000
     wake-ups a second, each taking a CPU from the goroutines: echo at 1
     connection 23.0k -> 28.8k messages/s, at 1000 61 -> 67k, medians of
     5 alternated runs);
   - hands work stranded behind a goroutine that does not switch to an
     idle P, ends time slices, and names, once, a goroutine that has run
     longer than hog_ns in its own code without reaching a scheduling
     point (C code cannot be preempted safely): gort__sysmon_watch;
   - sends the hand-off's SIGURG to the thread of a P whose goroutine is
     stalled outside gort with work waiting (gort__sysmon_handoff), whose
     handler puts it in the syscall state that the first item retakes;
   - polls the network if nobody has for 10 ms;
   - prints the goroutine dump when SIGQUIT arrived. */
#define GORT__SYSMON_MIN 20000
#define GORT__SYSMON_MAX 10000000
/* Stack trimming (gort__stack_trim) at most this often: cold segments
   give their pages back in batches, off the goroutine exit path. */
#define GORT__TRIM_NS 10000000
/* I/O waiters and no M in the poller for this long (every M busy running
   goroutines): sysmon polls without blocking, as Go's sysmon does after
   10 ms, so ready fds do not wait for a scheduling point. */
#define GORT__POLL_STALE_NS 10000000
#define GORT__RETAKE_NS  20000
/* Work queued behind a goroutine that computes is handed to an idle P
   within about 1-2 ms: sysmon looks every 500 us while a P runs, acts once
   that P has not switched for 500 us, and the spinner it wakes steals the
   work (tests/test_fair.c: stranded work). */
#define GORT__SYSMON_BUSY   500000
#define GORT__STRANDED_NS   500000
#define GORT__SLICE_NS    10000000   /* Go's forcePreemptNS */
#define GORT__SLICE_MAX_NS 100000000

static void gort__dump_rt(gort__rt *rt, int fd, int json);

static void gort__handoffp(gort__rt *rt, gort__p *p) {
    GORT_ASSERT(gort__pst_state(GORT__LOAD(&p->state)) == GORT__P_IDLE);   /* retaken by sysmon's CAS */
    if (!gort__runq_empty(p) || GORT__LOAD(&rt->gq_size) > 0 || GORT__LOAD(&p->tnext) != INT64_MAX ||
        GORT__LOAD(&rt->niowait) > 0) {
        gort__startm(rt, p, 0);
        return;
    }
    if (GORT__LOAD(&rt->nmspinning) == 0 && gort__cas_u32(&rt->nmspinning, 0, 1)) {
        gort__startm(rt, p, 1);
        return;
    }
    gort__lock(&rt->lock);
    if (GORT__LOAD(&rt->gq_size) > 0) {
        gort__unlock(&rt->lock);
        gort__startm(rt, p, 0);
        return;
    }
    gort__pidleput_locked(rt, p);
    gort__unlock(&rt->lock);
}

/* sysmon's look at a P in a system call (state word st): the first look
   at a call starts its clock; a look GORT__RETAKE_NS or more later takes
   the P (a CAS on the same ticket: a call that ended meanwhile keeps it)
   and hands it to another M. Returns whether sysmon should look again
   soon (GORT__SYSMON_MIN): it took the P, or the call may block (one
   inside gort_block_begin/end, or one it saw at its last look too);
   not for a gort I/O call seen for the first time (see >>sysmon). */
static int gort__sysmon_retake(gort__rt *rt, gort__p *p, uint64_t st, int64_t now) {
    if (st != p->sm_sys) {
        p->sm_sys = st;
        p->sm_sys_since = now;
        return gort__pst_state(st) != GORT__P_SYSCALL_IO;
    }
    if (now - p->sm_sys_since >= GORT__RETAKE_NS && gort__p_cas(p, st, GORT__P_IDLE)) {
        /* An I/O call is counted in nsyscall only now, before its P can
           look idle to gort__checkdead. */
        if (gort__pst_state(st) == GORT__P_SYSCALL_IO) GORT__ADD(&rt->nsyscall, 1);
        __atomic_store_n(&p->m, (gort__m *)NULL, __ATOMIC_RELAXED);
        if (gort__tr_on()) gort__tr_inst(&gort__tr.sysmon, GORT__TR_RETAKE, 0, 0, p->id);
        gort__handoffp(rt, p);
    }
    return 1;
}

/* Reads a running goroutine's fields from sysmon: diagnostics only. */
static GORT__NO_TSAN void gort__hog_report(gort__g *g, int64_t ran, int moved) {
    char name[128], msg[512];
    int n;
    if (gort__tr_on()) gort__tr_inst(&gort__tr.sysmon, GORT__TR_HOG, 0, (int64_t)g->id, -1);
    gort__fn_name(g->fn, name, sizeof name);
    n = snprintf(msg, sizeof msg,
                 "gort: goroutine %llu (started at %s) has run for %lld ms without reaching a scheduling point; "
                 "gort cannot preempt C code, so %s: call gort_yield() in long loops "
                 "(GORT_HOG_MS=0 turns this report off)\n",
                 (unsigned long long)g->id, name, (long long)(ran / 1000000),
                 moved ? "the other goroutines on its thread move to another one (it keeps a thread to itself)"
                       : "other goroutines on its thread wait");
    if (n > 0) gort__write_all_raw(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

static int64_t gort__thread_cpu(gort__m *m) { return gort__os_thread_cpu_ns(m->cpuclock); }

/* The hog check of gort__sysmon_watch: a G that ran hog_ns in its own
   code (tick: p's switches plus progress inside gort) and then used
   another hog_ns / 2 of CPU time, still without a switch, is named once.
   It never asks sysmon to look sooner: sysmon looks at least every
   GORT__SYSMON_BUSY while a P runs. */
static GORT__NO_TSAN void gort__sysmon_hog(gort__rt *rt, gort__p *p, gort__m *pm, gort__g *g, uint32_t tick, int64_t now) {
    if (tick != p->sm_tick || !g) {
        p->sm_tick = tick;
        p->sm_since = now;
        p->sm_cpu0 = -1;
    } else if (rt->hog_ns > 0 && now - p->sm_since >= rt->hog_ns &&
               !__atomic_load_n(&g->hog_reported, __ATOMIC_RELAXED)) {
        /* Same goroutine for hog_ns of wall time. On a loaded machine its
           thread may simply not have been running: it is a hog once it
           has used a further hog_ns / 2 of CPU time. Not within a window
           of wall time: on a machine busy enough to give it less than
           half a CPU (qemu under CI's load) such a window never filled,
           and a goroutine spinning for 20 s went unnamed. One asleep in
           the kernel uses none (another thread's CPU clock moves at the
           scheduler's tick: a thread asleep in the kernel is no hog
           whatever it says, so that is asked too). */
        int64_t cpu = gort__thread_cpu(pm);
        if (p->sm_cpu0 < 0 || cpu < p->sm_cpu0) {
            p->sm_cpu0 = cpu;
        } else if (cpu - p->sm_cpu0 >= rt->hog_ns / 2) {
            if (gort__os_thread_asleep(pm->tid, &pm->statfd) != 1) {
                __atomic_store_n(&g->hog_reported, 1, __ATOMIC_RELAXED);
                gort__hog_report(g, now - p->sm_since, rt->handoff_ns >= 0);
            }
            p->sm_cpu0 = -1;
        }
        /* (sysmon looks at least every GORT__SYSMON_BUSY while a P runs:
           soon enough for a report, and no 20 us polling of a clock for
           a thread the machine does not run) */
    }
}

/* The hand-off (see >>goroutine): p's goroutine has not reached a
   scheduling point (tick still) while other work waits on p (its queue,
   a due timer) or on the global queue with no idle P to take it. A thread
   asleep in the kernel (gort__os_thread_asleep) is signalled once it has
   stood still GORT__HANDOFF_ASLEEP_NS; one that computes (or that the
   machine does not run), after handoff_ns. One signal per stall, again
   every GORT__HANDOFF_AGAIN_NS if the handler found the goroutine inside
   gort (a long wait for one of gort's locks). With GORT_DEBUG_HANDOFF
   (handoff_ns 0) every running P is signalled at every look, at most
   every 2 * GORT__SYSMON_MIN. 1: look again soon. */
#define GORT__HANDOFF_ASLEEP_NS 50000
#define GORT__HANDOFF_AGAIN_NS  10000000
static GORT__NO_TSAN int gort__sysmon_handoff(gort__rt *rt, gort__p *p, gort__m *pm, gort__g *g, uint32_t tick, int64_t now) {
    int asleep = 0;
    long tid;
    if (rt->handoff_ns < 0 || !pm || !g) return 0;
    if (rt->handoff_ns > 0) {
        if (tick != p->ho_tick) {
            p->ho_tick = tick;
            p->ho_since = now;
            p->ho_cpu0 = rt->hog_ns > 0 ? gort__thread_cpu(pm) : -1;
            p->ho_sent = 0;
            return 0;
        }
        if (gort__runq_empty(p) && GORT__LOAD(&p->tnext) > now &&
            (GORT__LOAD(&rt->gq_size) == 0 || GORT__LOAD(&rt->npidle) > 0))
            return 0;
        if (p->ho_sent && now - p->ho_sent < GORT__HANDOFF_AGAIN_NS) return 0;
        if (now - p->ho_since >= GORT__HANDOFF_ASLEEP_NS)
            asleep = gort__os_thread_asleep(pm->tid, &pm->statfd) == 1;
        if (!asleep && now - p->ho_since < rt->handoff_ns) return now - p->ho_since < GORT__HANDOFF_ASLEEP_NS;
        /* A goroutine that computes is handed off before the hog check
           could name it (its P no longer runs): named here, if its thread
           used at least half the time since it stood still (not one the
           machine did not run; the clock moves at the scheduler's tick,
           so over 10 ms it tells) */
        if (!asleep && rt->hog_ns > 0 && now - p->ho_since >= rt->hog_ns && p->ho_cpu0 >= 0 &&
            gort__thread_cpu(pm) - p->ho_cpu0 >= (now - p->ho_since) / 2 &&
            !__atomic_load_n(&g->hog_reported, __ATOMIC_RELAXED)) {
            __atomic_store_n(&g->hog_reported, 1, __ATOMIC_RELAXED);
            gort__hog_report(g, now - p->ho_since, 1);
        }
    } else if (now - p->ho_sent < GORT__SYSMON_MIN * 2) {
        return 1;
    }
    p->ho_sent = now;
    tid = __atomic_load_n(&pm->tid, __ATOMIC_RELAXED);   /* 0 until the thread has set it */
#if defined(GORT__OS_LINUX)
    if (tid > 0) gort__os_thread_sigqueue(tid, GORT__HANDOFF_SIG, GORT__HANDOFF_MAGIC);
#else
    if (tid > 0) gort__handoff_thread(pm);
#endif
    if (gort__tr_on()) gort__tr_inst(&gort__tr.sysmon, GORT__TR_HANDOFF, 0, (int64_t)g->id, p->id);
    return 1;
}

/* The run queue's age (>>runq): Gs leave the ring in index order from
   head, and front pushes only add below it, so once head has reached the
   tail noted at a look (age_mark), everything queued then has left the
   ring (run, stolen, or moved to the global queue). Head seen below the
   mark may have reached it and come back since: the owner notes that in
   age_passed before a front push takes head back. Not reached after
   GORT__FRONT_AGE_NS: the owner stops pushing at the front until it is. */
static GORT__NO_TSAN void gort__sysmon_front(gort__p *p, int64_t now) {
    uint32_t h = gort__rqh(GORT__LOAD_ACQ(&p->runqhead)), t = GORT__LOAD_ACQ(&p->runqtail);
    if (h == t) {
        p->sm_fsince = 0;
    } else if (!p->sm_fsince || GORT__LOAD(&p->age_passed) || (int32_t)(h - GORT__LOAD(&p->age_mark)) >= 0) {
        /* a new mark; passed cleared first, so an owner that still saw
           the old mark can only make sysmon start over, not miss */
        GORT__STORE(&p->age_passed, 0);
        GORT__STORE(&p->age_mark, t);
        p->sm_fsince = now;
    } else if (now - p->sm_fsince >= GORT__FRONT_AGE_NS && !GORT__LOAD(&p->lifo_off)) {
        GORT__STORE(&p->lifo_off, 1);
        p->sm_fsince = 0;
    }
}

/* sysmon's look at a P that runs a goroutine (its M's fields are read
   racily: diagnostics and hints only). Three things, each on a counter
   that stood still since sysmon's last look:
   - stranded work: Gs queued on p while p runs the same G for
     GORT__STRANDED_NS (it computes without a scheduling point) are handed
     to an idle P: gort__wakep starts a spinner, which steals them.
   - the time slice: a slice begins when a G runs that was not readied
     into runnext (those run in their readier's slice, as in Go); after
     GORT__SLICE_NS (or as long as the last slice ran, if that one ran
     over) with other work waiting, p->preempt makes the next scheduling
     point serve the queues first (gort__findrunnable).
   - hogs (gort__sysmon_hog): a G that ran hog_ns in its own code
     (neither a switch nor progress inside gort, such as waking 200k
     waiters, counts) and then used a further hog_ns / 2 of CPU time is
     named once.
   Returns 1 if sysmon should look again soon. */
static GORT__NO_TSAN int gort__sysmon_watch(gort__rt *rt, gort__p *p, int64_t now) {
    uint32_t run = GORT__LOAD(&p->schedtick), slice = GORT__LOAD(&p->slicetick);
    uint32_t tick = run + GORT__LOAD(&p->gorttick);
    gort__m *pm = __atomic_load_n(&p->m, __ATOMIC_ACQUIRE);
    gort__g *g = pm ? __atomic_load_n(&pm->curg, __ATOMIC_RELAXED) : NULL;
    if (run != p->sm_run) {
        p->sm_run = run;
        p->sm_run_since = now;
    } else if (now - p->sm_run_since >= GORT__STRANDED_NS && !gort__runq_empty(p)) {
        gort__wakep_fenced(rt);
    }
    if (slice != p->sm_slice) {
        /* A slice that overran (a turn of C code cannot be cut short)
           earns the next one as long, so that two pairs taking turns get
           equal time, up to GORT__SLICE_MAX_NS. */
        int64_t len = now - p->sm_slice_since;
        /* only a slice seen from its start to its end counts: one that
           began before sysmon's first look, or several that went by
           between two looks, say nothing about one slice's length */
        if (!p->sm_slice_since || slice - p->sm_slice != 1) len = 0;
        p->sm_slice_len = len < GORT__SLICE_NS ? GORT__SLICE_NS : len > GORT__SLICE_MAX_NS ? GORT__SLICE_MAX_NS : len;
        p->sm_slice = slice;
        p->sm_slice_since = now;
    } else if (now - p->sm_slice_since >= p->sm_slice_len && !GORT__LOAD(&p->preempt) &&
               (gort__rqh(GORT__LOAD_ACQ(&p->runqhead)) != GORT__LOAD_ACQ(&p->runqtail) || GORT__LOAD(&rt->gq_size) > 0)) {
        GORT__STORE(&p->preempt, 1);
        p->sm_slice_since = now;
        if (gort__tr_on()) gort__tr_inst(&gort__tr.sysmon, GORT__TR_PREEMPT, 0, 0, p->id);
    }
    gort__sysmon_front(p, now);
    gort__sysmon_hog(rt, p, pm, g, tick, now);
    return gort__sysmon_handoff(rt, p, pm, g, tick, now);
}

/* 1 if every P is idle: no goroutine runs or is in a system call. */
static int gort__sysmon_all_idle(gort__rt *rt) {
    int i;
    for (i = 0; i < rt->nprocs; i++)
        if (gort__pst_state(__atomic_load_n(&rt->allp[i].state, __ATOMIC_SEQ_CST)) != GORT__P_IDLE) return 0;
    return 1;
}

static void *gort__sysmon_main(void *arg) {
    gort__rt *rt = (gort__rt *)arg;
    int64_t delay = GORT__SYSMON_MIN, last_trim = 0;
    int pending = 1;   /* the last look left something to do later */
#if defined(GORT__OS_LINUX)
    sigset_t set;
    sigfillset(&set);
    /* not faults: a blocked SIGSEGV kills the process, and sysmon's walks
       (dumps) may touch a compacted stack (>>compact) */
    sigdelset(&set, SIGSEGV);
    sigdelset(&set, SIGBUS);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
#endif
    for (;;) {
        int64_t now;
        int i, active = 0, busy = 0, insys = 0;
        /* Deep sleep: once sysmon has backed off to its longest period
           and nothing is left for it (every P idle, no trim or release
           pending, nobody owed a poll), it sleeps until a P runs
           (gort__acquirep), gort_block_begin, SIGQUIT or the runtime's
           stop wakes it; so an idle program does not wake it at all. The
           store of sysmon_deep and the look at every P's state are
           seq_cst, as are gort__acquirep's store of the state and its
           load of sysmon_deep: either sysmon sees the P run, or the
           acquirer sees sysmon_deep and wakes it. */
        int deep = 0;
        if (delay >= GORT__SYSMON_MAX && !pending) {
            __atomic_store_n(&rt->sysmon_deep, 1, __ATOMIC_SEQ_CST);
            if (gort__sysmon_all_idle(rt)) deep = 1;
            else __atomic_store_n(&rt->sysmon_deep, 0, __ATOMIC_SEQ_CST);
        }
        GORT__STORE(&rt->sysmon_delay, deep ? INT64_MAX : delay);
        gort__note_sleep(&rt->sysmon_note, deep ? 0 : gort__nanotime() + delay);
        __atomic_store_n(&rt->sysmon_note, 0, __ATOMIC_RELAXED);
        if (deep) {
            __atomic_store_n(&rt->sysmon_deep, 0, __ATOMIC_SEQ_CST);
            delay = GORT__SYSMON_MIN;
        }
        if (GORT__LOAD(&rt->stopping)) break;
        now = gort__nanotime();
        GORT__STORE(&rt->coarse_now, now);
        if (GORT__LOAD(&rt->sigquit)) {
#if defined(GORT__OS_LINUX)
            static const char hdr[] = "SIGQUIT: quit\n";
#else
            static const char hdr[] = "CTRL_BREAK: quit\n";
#endif
            const char *how = getenv("GORT_DUMP");
            gort__write_all_raw(2, hdr, sizeof hdr - 1);
            gort__dump_rt(rt, 2, how && strcmp(how, "json") == 0);
            gort__tr_report(rt);
            _exit(2);
        }
        for (i = 0; i < rt->nprocs; i++) {
            gort__p *p = &rt->allp[i];
            uint64_t st = GORT__LOAD(&p->state);
            if (gort__pst_state(st) != GORT__P_RUNNING) {
                /* Idle or in a system call: nobody's own code runs on it,
                   so the watch starts afresh when it runs again (a G back
                   from a long read on a P it got back is no hog). */
                p->sm_since = p->sm_run_since = p->sm_slice_since = now;
                p->sm_cpu0 = -1;
                p->sm_fsince = 0;   /* its ring is empty: a new age mark */
            }
            if (gort__pst_insyscall(st)) {
                insys = 1;
                active |= gort__sysmon_retake(rt, p, st, now);
            } else if (gort__pst_state(st) == GORT__P_RUNNING) {
                busy = 1;
                p->sm_sys = 0;
                active |= gort__sysmon_watch(rt, p, now);
            }
        }
        if (now - last_trim >= GORT__TRIM_NS) {
            last_trim = now;
            pending = gort__stack_trim(rt);
            pending |= gort__stack_release_idle(rt);
            pending |= gort__compact_sysmon(rt, now);
        }
        if (GORT__LOAD(&rt->niowait) > 0 && !GORT__LOAD(&rt->polling)) {
            pending = 1;   /* no deep sleep: nobody else polls */
            if (now - GORT__LOAD(&rt->last_poll) > GORT__POLL_STALE_NS) {
                int64_t t0 = gort__tr_on() ? gort__nanotime() : -1;
                gort__g *list = gort__netpoll(rt, 0, 0);
                if (list) {
                    if (t0 >= 0) gort__tr_poll(&gort__tr.sysmon, t0, list, 0, 0);
                    gort__inject(rt, list);
                    active = 1;
                }
            }
        }
        if (active) delay = GORT__SYSMON_MIN;
        else if (delay < GORT__SYSMON_MAX) delay = delay * 2 > GORT__SYSMON_MAX ? GORT__SYSMON_MAX : delay * 2;
        /* while goroutines run, stranded work and slices need a look at
           least this often (an idle runtime lets sysmon sleep 10 ms, then
           until woken), and so does a gort I/O call that blocks after all */
        if ((busy || insys) && delay > GORT__SYSMON_BUSY) delay = GORT__SYSMON_BUSY;
    }
    return NULL;
}

#if defined(GORT__OS_LINUX)
static struct sigaction gort__quit_old;
static uint32_t gort__quit_installed;
static void gort__quit_handler(int sig) {
    gort__rt *rt = __atomic_load_n(&gort__the_rt, __ATOMIC_ACQUIRE);
    if (rt) {
        __atomic_store_n(&rt->sigquit, 1, __ATOMIC_SEQ_CST);
        gort__note_wake(&rt->sysmon_note);
        return;
    }
    sigaction(sig, &gort__quit_old, NULL);
    raise(sig);
}
#else
/* Ctrl+Break (GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT) from another
   program) is SIGQUIT's counterpart: the dump, then exit status 2. Ctrl+C
   and the rest go on to the program's handlers and the default. */
static uint32_t gort__quit_installed;
static BOOL WINAPI gort__quit_console(DWORD ev) {
    gort__rt *rt = __atomic_load_n(&gort__the_rt, __ATOMIC_ACQUIRE);
    if (ev != CTRL_BREAK_EVENT || !rt) return FALSE;
    __atomic_store_n(&rt->sigquit, 1, __ATOMIC_SEQ_CST);
    gort__note_wake(&rt->sysmon_note);
    Sleep(INFINITE);   /* the handler's thread returning would end the process */
    return TRUE;
}
#endif

/* ---------------------------------------------------------------- >>runtime */
/* An environment variable that cannot be used is said once per process
   (a program may start many runtimes), then ignored. */
enum { GORT__ENV_DEBUG = 1, GORT__ENV_MAXPROCS = 2, GORT__ENV_STACK = 4, GORT__ENV_HOG = 8, GORT__ENV_HANDOFF = 16,
       GORT__ENV_COMPACT = 32 };
static int gort__env_warned_mask;   /* atomic */
static int gort__env_warned(int bit) {
    return __atomic_fetch_or(&gort__env_warned_mask, bit, __ATOMIC_RELAXED) & bit;
}

/* s as a whole number >= 0 (surrounding blanks allowed); -1 if NULL or
   empty, -2 if it is not such a number. */
static long long gort__parse_num(const char *s) {
    char *end;
    long long v;
    int saved = errno, bad;
    if (!s) return -1;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return -1;
    if (*s < '0' || *s > '9') return -2;
    errno = 0;
    v = strtoll(s, &end, 10);
    while (*end == ' ' || *end == '\t') end++;
    bad = *end || errno;
    errno = saved;   /* the caller's errno is not ours to change */
    return bad ? -2 : v;
}

/* "256k", "1m", "65536": bytes with an optional k, m or g (KiB, MiB, GiB).
   0 when s is unset or empty; (size_t)-1 when it is not such a size. */
static size_t gort__parse_size(const char *s) {
    char *end;
    unsigned long long v;
    int shift = 0;
    if (!s || !*s) return 0;
    if (*s < '0' || *s > '9') return (size_t)-1;
    v = strtoull(s, &end, 10);
    if (*end == 'k' || *end == 'K') { shift = 10; end++; }
    else if (*end == 'm' || *end == 'M') { shift = 20; end++; }
    else if (*end == 'g' || *end == 'G') { shift = 30; end++; }
    if (*end) return (size_t)-1;
    /* Far too big either way (the caller rejects over 1 GiB), and the
       shift cannot overflow. */
    if (v > (1ULL << 31)) v = 1ULL << 31;
    return (size_t)(v << shift);
}

/* GORT_DEBUG's words, separated by commas or spaces. An unknown word is
   ignored, the others still apply; the first is left in *bad (length
   *badlen) for the caller to report. */
static int gort__parse_debug(const char *e, const char **bad, int *badlen) {
    int d = 0;
    *bad = NULL; *badlen = 0;
    if (!e) return 0;
    while (*e) {
        size_t n = strcspn(e, ", \t");
        if (n == 7 && !strncmp(e, "migrate", n)) d |= GORT_DEBUG_MIGRATE;
        else if (n == 14 && !strncmp(e, "guard=mprotect", n)) d |= GORT_DEBUG_GUARD_MPROT;
        else if (n == 12 && !strncmp(e, "guard=canary", n)) d |= GORT_DEBUG_GUARD_CANARY;
        else if (n == 7 && !strncmp(e, "handoff", n)) d |= GORT_DEBUG_HANDOFF;
        else if (n == 7 && !strncmp(e, "compact", n)) d |= GORT_DEBUG_COMPACT;
        else if (n > 0 && !*bad) { *bad = e; *badlen = (int)n; }
        e += n;
        if (*e) e++;
    }
    return d;
}

/* A runtime's configuration from its options and environment, with no
   side effect (tests/test_config.c drives it with tables): gort__rt_new
   reads the environment into a gort__cfg_in, resolves, and then says what
   was ignored or refused. */
typedef struct {
    const char *maxprocs, *stack_size, *hog_ms, *debug, *nosigquit, *handoff_ms, *compact_ms;   /* $GORT_*; NULL: unset */
    int    ncpu;        /* gort__os_ncpu() */
    size_t page;        /* the page size */
} gort__cfg_in;
typedef struct {
    int         nprocs;      /* 1..GORT__MAXPROCS_MAX */
    size_t      slot_size;   /* a stack segment: whole pages, guard included */
    int         debug;       /* GORT_DEBUG_* */
    int64_t     hog_ns;      /* < 0: no hog reports */
    int64_t     handoff_ns;  /* < 0: no hand-off; 0: at every look */
    int64_t     compact_ns;  /* < 0: no compaction; 0: at every park */
    int         sigquit;     /* install the SIGQUIT dump handler */
    int         bad_env;     /* GORT__ENV_* bits: variables ignored as malformed */
    const char *bad_debug;   /* the first unknown GORT_DEBUG word, bad_debug_len long */
    int         bad_debug_len;
    const char *refused;     /* -EINVAL: the misuse, one sentence */
} gort__cfg;
#define GORT__MAXPROCS_MAX 1024   /* Ps are an array; more threads than this only contend */
#define GORT__HOG_DEFAULT_NS 10000000LL   /* 10 ms: Go's forcePreemptNS */
#define GORT__HANDOFF_DEFAULT_NS 10000000LL   /* 10 ms: the same */
#define GORT__COMPACT_DEFAULT_NS (-1)   /* off: see >>compact for why, and what it costs */

static int gort__cfg_resolve(const gort_opts *o, const gort__cfg_in *in, gort__cfg *c) {
    long long v;
    size_t ss;
    int np = o->maxprocs;
    memset(c, 0, sizeof *c);
    if (np < 0) {
        c->refused = "gort_opts.maxprocs is negative; use 0 for the default or a count of threads";
        return -EINVAL;
    }
    if (np == 0) {
        v = gort__parse_num(in->maxprocs);
        if (v == -2) c->bad_env |= GORT__ENV_MAXPROCS;
        else if (v > 0) np = v > GORT__MAXPROCS_MAX ? GORT__MAXPROCS_MAX : (int)v;
    }
    if (np <= 0) np = in->ncpu > 0 ? in->ncpu : 1;
    if (np > GORT__MAXPROCS_MAX) np = GORT__MAXPROCS_MAX;
    c->nprocs = np;
    ss = o->stack_size;
    if (ss == 0) {
        ss = gort__parse_size(in->stack_size);
        if (ss == (size_t)-1) { c->bad_env |= GORT__ENV_STACK; ss = 0; }
    }
    if (ss == 0) ss = GORT__DEFAULT_STACK;
    if (ss > ((size_t)1 << 30)) {
        c->refused = "stack_size is over 1 GiB; goroutine stacks are fixed reservations: pick a size a goroutine really needs";
        return -EINVAL;
    }
    if (ss < 4 * in->page) ss = 4 * in->page;  /* smallest: 16 KiB */
#if defined(GORT__OS_WIN)
    /* Windows keeps GORT__OS_GUARANTEE bytes of each stack for the
       overflow handler (gort__os_stack_ready): 16 KiB usable at least */
    if (ss < 4 * in->page + GORT__OS_GUARANTEE) ss = 4 * in->page + GORT__OS_GUARANTEE;
#endif
    c->slot_size = (ss + in->page - 1) & ~(in->page - 1);
    c->debug = o->debug | gort__parse_debug(in->debug, &c->bad_debug, &c->bad_debug_len);
    if (c->bad_debug) c->bad_env |= GORT__ENV_DEBUG;
    c->hog_ns = o->hog_ns;
    if (c->hog_ns == 0) {
        v = gort__parse_num(in->hog_ms);
        if (v == -2) c->bad_env |= GORT__ENV_HOG;
        c->hog_ns = v >= 0 ? (int64_t)(v > 1000000000LL ? 1000000000LL : v) * 1000000 : GORT__HOG_DEFAULT_NS;
    }
    c->sigquit = !o->no_sigquit && !(in->nosigquit && *in->nosigquit && *in->nosigquit != '0');
    c->handoff_ns = o->handoff_ns;
    if (c->handoff_ns == 0) {
        v = gort__parse_num(in->handoff_ms);
        if (v == -2) c->bad_env |= GORT__ENV_HANDOFF;
        c->handoff_ns = v > 0 ? (int64_t)(v > 1000000000LL ? 1000000000LL : v) * 1000000 : v == 0 ? -1
                                                                                  : GORT__HANDOFF_DEFAULT_NS;
    }
    if (c->handoff_ns < 0) c->handoff_ns = -1;
    else if (c->debug & GORT_DEBUG_HANDOFF) c->handoff_ns = 0;
    c->compact_ns = o->compact_ns;
    if (c->compact_ns == 0) {
        v = gort__parse_num(in->compact_ms);
        if (v == -2) c->bad_env |= GORT__ENV_COMPACT;
        c->compact_ns = v > 0 ? (int64_t)(v > 1000000000LL ? 1000000000LL : v) * 1000000 : GORT__COMPACT_DEFAULT_NS;
    }
    if (c->compact_ns < 0) c->compact_ns = -1;
    if (c->debug & GORT_DEBUG_COMPACT) c->compact_ns = 0;
    return 0;
}

/* Say (once per process and variable) which environment variables were
   ignored, with how to write them. */
static void gort__cfg_warn(const gort__cfg *c, const gort__cfg_in *in) {
    if ((c->bad_env & GORT__ENV_MAXPROCS) && !gort__env_warned(GORT__ENV_MAXPROCS))
        fprintf(stderr, "gort: GORT_MAXPROCS=%s ignored: give a whole number of threads, "
                        "e.g. GORT_MAXPROCS=4 (0 or unset: one per CPU)\n", in->maxprocs);
    if ((c->bad_env & GORT__ENV_STACK) && !gort__env_warned(GORT__ENV_STACK))
        fprintf(stderr, "gort: GORT_STACK_SIZE=%s ignored: give bytes with an optional k, m or g "
                        "suffix, e.g. GORT_STACK_SIZE=512k (unset: %s)\n", in->stack_size,
                GORT__DEFAULT_STACK == 128u * 1024u ? "128k" : "256k");
    if ((c->bad_env & GORT__ENV_HOG) && !gort__env_warned(GORT__ENV_HOG))
        fprintf(stderr, "gort: GORT_HOG_MS=%s ignored: give a whole number of milliseconds, "
                        "e.g. GORT_HOG_MS=50 (0 turns the report off; unset: 10)\n", in->hog_ms);
    if ((c->bad_env & GORT__ENV_HANDOFF) && !gort__env_warned(GORT__ENV_HANDOFF))
        fprintf(stderr, "gort: GORT_HANDOFF_MS=%s ignored: give a whole number of milliseconds, "
                        "e.g. GORT_HANDOFF_MS=50 (0 turns the hand-off off; unset: 10)\n", in->handoff_ms);
    if ((c->bad_env & GORT__ENV_COMPACT) && !gort__env_warned(GORT__ENV_COMPACT))
        fprintf(stderr, "gort: GORT_COMPACT_MS=%s ignored: give a whole number of milliseconds, "
                        "e.g. GORT_COMPACT_MS=100 (0 or unset: off)\n", in->compact_ms);
    if ((c->bad_env & GORT__ENV_DEBUG) && !gort__env_warned(GORT__ENV_DEBUG))
        fprintf(stderr, "gort: GORT_DEBUG: ignored '%.*s': the accepted values are migrate, "
                        "guard=mprotect, guard=canary, handoff and compact, separated by commas\n", c->bad_debug_len, c->bad_debug);
}

static void gort__abandon(gort__rt *rt);

/* The last reference (the owner or the last M out) frees the runtime: no
   M runs any of its goroutines any more. */
static void gort__rt_free(gort__rt *rt) {
    int i, c;
    gort__m *m, *n;
    gort__abandon(rt);
    /* before the stacks go: other timers in the heaps live on them */
    for (i = 0; i < rt->nprocs; i++) {
        gort__p *p = &rt->allp[i];
        gort__timer *t, *tn;
        int k;
        for (k = 0; k < p->tlen; k++) gort__timer_drop(p->theap[k].t);
        for (t = p->tovf; t; t = tn) { tn = t->onext; gort__timer_drop(t); }
        free(p->theap);
    }
    gort__stack_free_all(rt);
    gort__cfree_drain(rt);
    free(rt->allp);
    for (m = rt->allm; m; m = n) {
        n = m->alllink;
        if (m->statfd >= 0) close(m->statfd);
        free(m);
    }
    gort__poller_free(&rt->poller);
    /* Descriptors registered with this epoll must register again with the next. */
    for (c = 0; c < GORT__PD_CHUNKS; c++) {
        gort__pd *chunk = __atomic_load_n(&gort__pd_tab[c], __ATOMIC_ACQUIRE);
        if (!chunk) continue;
        for (i = 0; i < GORT__PD_CHUNK; i++) {
            if (__atomic_load_n(&chunk[i].owner, __ATOMIC_RELAXED) != rt) continue;
            gort__lock(&chunk[i].lock);
            if (__atomic_load_n(&chunk[i].owner, __ATOMIC_RELAXED) == rt) {
                gort__pd_reset(&chunk[i]);
                __atomic_store_n(&chunk[i].owner, (gort__rt *)NULL, __ATOMIC_RELAXED);
            }
            gort__unlock(&chunk[i].lock);
        }
    }
    free(rt);
}

static int gort__rt_new(const gort_opts *opts, int mode, gort__rt **out) {
    gort_opts o;
    gort__cfg_in in;
    gort__cfg cfg;
    gort__rt *rt;
    int i, np, err, serr;
    if ((err = gort__ctx_check()) != 0) return err;   /* a shadow stack: refuse (>>arch) */
    if (opts) o = *opts; else memset(&o, 0, sizeof o);
    in.maxprocs = getenv("GORT_MAXPROCS");
    in.stack_size = getenv("GORT_STACK_SIZE");
    in.hog_ms = getenv("GORT_HOG_MS");
    in.debug = getenv("GORT_DEBUG");
    in.nosigquit = getenv("GORT_NOSIGQUIT");
    in.handoff_ms = getenv("GORT_HANDOFF_MS");
    in.compact_ms = getenv("GORT_COMPACT_MS");
    in.page = gort__os_page_size();
    in.ncpu = o.maxprocs == 0 && gort__parse_num(in.maxprocs) <= 0 ? gort__os_ncpu() : 1;
    err = gort__cfg_resolve(&o, &in, &cfg);
    gort__cfg_warn(&cfg, &in);
    if (err) { gort__misuse(cfg.refused); return err; }
    np = cfg.nprocs;
    rt = (gort__rt *)calloc(1, sizeof *rt);
    if (!rt) return -ENOMEM;
    rt->page = in.page;
    rt->slot_size = cfg.slot_size;
    rt->nprocs = np;
    rt->mode = mode;
    rt->debug = cfg.debug;
    rt->hog_ns = cfg.hog_ns;
    rt->handoff_ns = cfg.handoff_ns;
    rt->compact_ns = cfg.compact_ns;
    if (rt->handoff_ns >= 0) gort__handoff_install();
    rt->allp = (gort__p *)calloc((size_t)np, sizeof(gort__p));
    if (!rt->allp) { free(rt); return -ENOMEM; }
    /* Without the poller's break nothing could end its sleep: timers and
       goroutines readied from other threads would wait forever. */
    if ((err = gort__poller_init(&rt->poller)) != 0) { free(rt->allp); free(rt); return err; }
    for (i = np - 1; i >= 0; i--) {
        gort__p *p = &rt->allp[i];
        p->id = i;
        p->solo = np == 1;
        p->tnext = INT64_MAX;
        gort__lock(&rt->lock);   /* nobody else sees rt yet: for the function's contract */
        gort__pidleput_locked(rt, p);
        gort__unlock(&rt->lock);
    }
    rt->poll_until = INT64_MAX;
    rt->refs = 1;
    rt->coarse_now = gort__nanotime();
    rt->last_poll = rt->coarse_now;
    gort__stack_init(rt);
    gort__os_fault_install(gort__segv_handler);
    if (cfg.sigquit && gort__cas_u32(&gort__quit_installed, 0, 1)) {
#if defined(GORT__OS_LINUX)
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = gort__quit_handler;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(SIGQUIT, &sa, &gort__quit_old);
#else
        SetConsoleCtrlHandler(gort__quit_console, TRUE);
#endif
    }
    /* sysmon gets a stack of a known size: C libraries' defaults differ
       (musl's is 128 KiB), and sysmon formats dumps and writes traces */
    serr = gort__os_thread_start(&rt->sysmon, gort__sysmon_main, rt);
    if (serr != 0) {
        rt->refs = 0;
        gort__rt_free(rt);
        return -EAGAIN;
    }
    *out = rt;
    return 0;
}

static int gort__install(gort__rt *rt) {
    int ok;
    gort__lock(&gort__rt_lock);
    ok = gort__the_rt == NULL;
    if (ok) __atomic_store_n(&gort__the_rt, rt, __ATOMIC_RELEASE);
    gort__unlock(&gort__rt_lock);
    return ok;
}

/* Unlink a parked goroutine's waiters from the objects it waits on, so the
   objects (which outlive the runtime) do not point into freed stacks. */
static void gort__abandon(gort__rt *rt) {
    gort__region *r;
    int64_t live = GORT__LOAD(&rt->ngo_extra);
    int i;
    /* No goroutine left (every one counted its end): nothing is parked,
       and the walk below would touch the top page of every segment ever
       used, a page fault each for those sysmon gave back. */
    for (i = 0; i < rt->nprocs; i++) live += __atomic_load_n(&rt->allp[i].ngo, __ATOMIC_ACQUIRE);
    if (live == 0) return;
    for (r = rt->regions; r; r = r->next) {
        size_t i;
        for (i = 0; i < r->used; i++) {
            gort__g *g = gort__slot_g(r, i);
            gort__waiter *w;
            uint32_t st = GORT__LOAD(&g->status);
            /* parked, or readied by one case of a select whose other
               waiters are still queued (its pass 3 will never run) */
            if (st == GORT__G_FREE || st == GORT__G_DEAD) continue;
            for (w = g->waiting; w; w = w->gnext) {
                /* A popped waiter's object may be gone (a channel freed
                   after its waker readied us); a queued one's cannot be
                   (free refuses while waiters remain, and a select holds
                   a reference). No M runs; plain threads may pop it
                   meanwhile, hence the check again under the lock. */
                if (w->qlock && __atomic_load_n(&w->q, __ATOMIC_ACQUIRE)) {
                    gort__lock(w->qlock);
                    if (w->q) gort__wq_remove(w->q, w);
                    gort__unlock(w->qlock);
                }
                if (w->chan) gort__chan_unref(w->chan);   /* the select's reference */
            }
            g->waiting = NULL;   /* done: gort__rt_free's pass finds nothing */
        }
    }
}

/* Start tracing rt: to path (whole), or, in ring mode, keeping the last
   ring events per thread, to be written to path on demand. */
static void gort__tr_atexit(void);
static int gort__tr_begin(gort__rt *rt, const char *path, uint32_t ring) {
    gort__m *m;
    int fd = -1;
    char *copy;
    if (!path || !*path) return -EINVAL;
    copy = strdup(path);
    if (!copy) return -ENOMEM;
    gort__lock(&gort__tr.ctl);
    if (gort__tr.rt) { gort__unlock(&gort__tr.ctl); free(copy); return -EBUSY; }
    if (!ring) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) { int e = errno; gort__unlock(&gort__tr.ctl); free(copy); return -e; }
    }
    gort__tr.rt = rt; gort__tr.ring = ring; gort__tr.fd = fd; gort__tr.path = copy;
    gort__tr.pid = getpid();
    GORT__STORE(&gort__tr.dropped, 0);
    gort__tr.sysmon.tid = 0; gort__tr.sysmon.cur_g = 0; gort__tr.sysmon.spin0 = -1;
    gort__lock(&rt->lock);
    for (m = rt->allm; m; m = m->alllink) { m->tr.cur_g = 0; m->tr.spin0 = -1; m->tr.g0_open = 0; }
    gort__unlock(&rt->lock);
    if (!gort__tr.atexit_set) { gort__tr.atexit_set = 1; atexit(gort__tr_atexit); }
    gort__tr.t0 = gort__nanotime();
    /* the caller, if a goroutine, is running: its slice starts now */
    m = gort__getm();
    if (m && m->rt == rt && m->curg && m->p && GORT__LOAD(&m->curg->status) == GORT__G_RUNNING)
        gort__tr_open(&m->tr, m->curg, GORT__TR_RUN, 0, m->p->id, 0);
    __atomic_store_n(&gort__tr.on, 1, __ATOMIC_SEQ_CST);   /* publishes the fields above */
    gort__unlock(&gort__tr.ctl);
    return 0;
}

/* Stop rt's trace (any runtime's: rt NULL) and, if write, write it:
   0 written, -EINVAL no such trace, or why the file failed. say: a line
   on stderr naming the file (SIGQUIT, a deadlock). */
static int gort__tr_end(gort__rt *rt, int write, int say) {
    gort__trev *ev;
    size_t n = 0;
    int rc = 0, fd, sys = 0;
    int64_t now;
    gort__lock(&gort__tr.ctl);
    if (!gort__tr.rt || (rt && gort__tr.rt != rt)) { gort__unlock(&gort__tr.ctl); return -EINVAL; }
    rt = gort__tr.rt;
    __atomic_store_n(&gort__tr.on, 0, __ATOMIC_SEQ_CST);
    now = gort__tr_now();
    /* A goroutine writing a large file is in a blocking call (as
       gort_block_begin): its P goes on without it, and no hog report. */
    {
        gort__m *m = gort__getm();
        if (m && m->rt == rt && m->curg && m->p && GORT__LOAD(&m->curg->status) == GORT__G_RUNNING)
            sys = gort__syscall_enter(m, 0);
    }
    ev = gort__tr_collect(rt, now, &n);
    fd = gort__tr.fd;
    if (write) {
        if (fd < 0) fd = open(gort__tr.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) rc = -errno;
        else if (!ev) rc = -ENOMEM;
        else rc = gort__tr_write(fd, rt, ev, n, GORT__LOAD(&gort__tr.dropped));
    }
    if (fd >= 0) close(fd);
    if (say) {
        char msg[600];
        int k;
        if (rc == 0)
            k = snprintf(msg, sizeof msg, "gort: execution trace (%s) written to %s\n",
                         gort__tr.ring ? "the last events of each thread" : "from its start", gort__tr.path);
        else
            k = snprintf(msg, sizeof msg, "gort: the execution trace could not be written to %s: %s\n",
                         gort__tr.path, strerror(-rc));
        if (k > 0) gort__write_all_raw(2, msg, (size_t)k < sizeof msg ? (size_t)k : sizeof msg - 1);
    }
    free(ev);
    free(gort__tr.path);
    gort__tr.path = NULL; gort__tr.fd = -1; gort__tr.rt = NULL; gort__tr.ring = 0;
    gort__unlock(&gort__tr.ctl);
    if (sys) gort__syscall_exit(gort__getm(), 0);
    return rc;
}

/* A program that ends by exit() with a whole trace on still gets it. Not
   a forked child: it shares the file, and the threads whose buffers it
   would wait for are not in it. */
static void gort__tr_atexit(void) {
    if (__atomic_load_n(&gort__tr.on, __ATOMIC_ACQUIRE) && !gort__tr.ring && gort__tr.pid == getpid())
        gort__tr_end(NULL, 1, 0);
}

/* The runtime stops: a whole trace is written, a ring dropped. */
static void gort__tr_rt_stop(gort__rt *rt) {
    if (__atomic_load_n(&gort__tr.on, __ATOMIC_ACQUIRE)) gort__tr_end(rt, !gort__tr.ring, 0);
}

/* SIGQUIT or a deadlock: the trace so far (a ring: its last events). */
static void gort__tr_report(gort__rt *rt) {
    if (__atomic_load_n(&gort__tr.on, __ATOMIC_ACQUIRE)) gort__tr_end(rt, 1, 1);
}

/* $GORT_TRACE, at a runtime's start: "PATH" (a whole trace) or
   "ring:N" / "ring:N:PATH" (the last N events per thread, written on
   SIGQUIT, a deadlock or gort_trace_stop; PATH defaults to
   gort-trace.PID.json). */
static void gort__tr_env(gort__rt *rt) {
    const char *v = getenv("GORT_TRACE");
    char def[64];
    int rc;
    if (!v || !*v) return;
    if (strncmp(v, "ring:", 5) == 0) {
        char *end;
        long long n;
        n = strtoll(v + 5, &end, 10);
        if (end == v + 5 || n <= 0 || n > (1LL << 24) || (*end && *end != ':') || (*end == ':' && !end[1])) {
            fprintf(stderr, "gort: GORT_TRACE=%s ignored: give ring:N or ring:N:PATH with N from 1 to 16777216 "
                            "events per thread, or a file name\n", v);
            return;
        }
        if (*end == ':') v = end + 1;
        else { snprintf(def, sizeof def, "gort-trace.%ld.json", (long)getpid()); v = def; }
        rc = gort__tr_begin(rt, v, (uint32_t)n);
    } else {
        rc = gort__tr_begin(rt, v, 0);
    }
    if (rc) fprintf(stderr, "gort: GORT_TRACE: no trace: %s: %s\n", v, strerror(-rc));
}

int gort_trace_start(const char *path) {
    GORT__API();
    gort__rt *rt = gort__cur_rt();
    if (!path) return -EINVAL;
    if (!rt) return -ESRCH;
    return gort__tr_begin(rt, path, 0);
}

int gort_trace_ring(const char *path, int events_per_thread) {
    GORT__API();
    gort__rt *rt = gort__cur_rt();
    if (!path || events_per_thread <= 0 || events_per_thread > (1 << 24)) return -EINVAL;
    if (!rt) return -ESRCH;
    return gort__tr_begin(rt, path, (uint32_t)events_per_thread);
}

int gort_trace_stop(void) {
    GORT__API();
    return gort__tr_end(NULL, 1, 0);
}

static void gort__rt_stop(gort__rt *rt) {
    gort__m *m;
    int64_t until;
    gort__lock(&gort__rt_lock);
    if (gort__the_rt == rt) __atomic_store_n(&gort__the_rt, (gort__rt *)NULL, __ATOMIC_RELEASE);
    gort__unlock(&gort__rt_lock);
    __atomic_store_n(&rt->stopping, 1, __ATOMIC_SEQ_CST);
    gort__note_wake(&rt->sysmon_note);
    gort__os_thread_join(rt->sysmon);
    gort__lock(&rt->lock);
    for (m = rt->midle; m; m = m->link) gort__note_wake(&m->note);
    rt->midle = NULL;
    gort__unlock(&rt->lock);
    gort__netpoll_break(rt);
    /* Ms at a scheduling point leave at once; one running a goroutine that
       never yields cannot be stopped. Wait a little for stragglers, then
       leave the runtime to be freed by the last M out. */
    until = gort__nanotime() + 200000000;
    for (;;) {
        uint32_t live = GORT__LOAD(&rt->mlive);
        int64_t d = until - gort__nanotime();
        if (live == 0 || d <= 0) break;
        /* 10 ms naps: the deadline is re-read even if a wake is missed */
        gort__os_wait(&rt->mlive, live, gort__nanotime() + (d > 10000000 ? 10000000 : d));
    }
    /* Every M has left the scheduler: unlink the dropped goroutines'
       waiters now, so that the channels work from this thread as soon as
       gort_stop returns (the last M out may still be about to free rt,
       which unlinks them too, for stragglers). */
    if (__atomic_load_n(&rt->mlive, __ATOMIC_ACQUIRE) == 0) gort__abandon(rt);
    /* Threads: when every M has left, wait for their threads to end too,
       so that the program has none of gort's left after gort_run (a fork
       then is a single-threaded one, which TSan and the child's own
       threads need). A straggler's thread, and the others with it, ends
       on its own (detached): rt, which allm lives in, is its to free. */
    gort__lock(&rt->lock);
    m = rt->allm;
    /* a thread still being created (by a plain thread's gort_go racing
       with the stop) has no m->thread yet: leave them all be */
    if (rt->mstarting) m = NULL;
    gort__unlock(&rt->lock);
    if (__atomic_load_n(&rt->mlive, __ATOMIC_ACQUIRE) == 0)
        for (; m; m = m->alllink) gort__os_thread_join(__atomic_load_n(&m->thread, __ATOMIC_ACQUIRE));
    else
        for (; m; m = m->alllink) {
            gort__os_thread t = __atomic_load_n(&m->thread, __ATOMIC_ACQUIRE);
            if (t) gort__os_thread_detach(t);   /* (0: not started yet; it will not be joined) */
        }
    gort__tr_rt_stop(rt);   /* a whole trace is written now, with every slice closed */
    if (GORT__ADD(&rt->refs, (uint32_t)-1) == 0) gort__rt_free(rt);
}

int gort_start(const gort_opts *opts) {
    gort__rt *rt;
    int rc;
    if (gort__getm()) {
        gort__misuse("gort_start: called from inside a goroutine; the runtime is already running");
        return -EBUSY;
    }
    rc = gort__rt_new(opts, GORT__MODE_START, &rt);
    if (rc) return rc;
    if (!gort__install(rt)) {
        gort__rt_stop(rt);
        gort__misuse("gort_start: a runtime is already running; call gort_stop() first");
        return -EBUSY;
    }
    gort__tr_env(rt);
    return 0;
}

int gort_stop(void) {
    gort__rt *rt;
    if (gort__getm()) {
        gort__misuse("gort_stop: called from inside a goroutine; call it from the thread that started the runtime");
        return -EBUSY;
    }
    rt = __atomic_load_n(&gort__the_rt, __ATOMIC_ACQUIRE);
    if (!rt) return -ESRCH;
    if (rt->mode != GORT__MODE_START) {
        gort__misuse("gort_stop: the runtime was started by gort_run, which stops it when its main function returns");
        return -EINVAL;
    }
    gort__rt_stop(rt);
    return 0;
}

int gort_running(void) {
    return __atomic_load_n(&gort__the_rt, __ATOMIC_ACQUIRE) != NULL || gort__getm() != NULL;
}


/* Move main to a final state (returned or deadlocked) unless it is in one:
   the first to get there sets gort_run's result. */
static int gort__main_claim(gort__rt *rt, uint32_t final) {
    uint32_t st = GORT__LOAD(&rt->main_state);
    for (;;) {
        if (st >= GORT__MAIN_RETURNED) return 0;
        if (__atomic_compare_exchange_n(&rt->main_state, &st, final, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            return 1;
    }
}
static void gort__main_finish(gort__rt *rt, int code) {
    rt->exit_code = code;
    __atomic_store_n(&rt->done, 1, __ATOMIC_SEQ_CST);
    gort__os_wake(&rt->done, 1);
}

static void gort__main_wrapper(void *arg) {
    gort__rt *rt = (gort__rt *)arg;
    void (*fn)(void *) = gort__main_args.fn;
    fn(gort__main_args.arg);
    rt = gort__getm()->rt;
    __atomic_store_n(&rt->main_g, (gort__g *)NULL, __ATOMIC_RELAXED);   /* a return, not gort_exit */
    if (gort__main_claim(rt, GORT__MAIN_RETURNED)) gort__main_finish(rt, 0);
}

int gort_run(void (*main_fn)(void *arg), void *arg) {
    return gort_run_opts(NULL, main_fn, arg);
}

int gort_run_opts(const gort_opts *opts, void (*main_fn)(void *arg), void *arg) {
    gort__rt *rt;
    int rc;
    if (!main_fn) return -EINVAL;
    if (gort__getm()) {
        gort__misuse("gort_run: called from inside a goroutine; start goroutines with gort_go instead");
        return -EBUSY;
    }
    rc = gort__rt_new(opts, GORT__MODE_RUN, &rt);
    if (rc) return rc;
    if (!gort__install(rt)) {
        gort__rt_stop(rt);
        gort__misuse("gort_run: a runtime is already running; only one runs at a time");
        return -EBUSY;
    }
    rt->run_thread_has_tg = GORT__TLS_TG() != NULL && GORT__TLS_TG() != GORT__M_MARK;
    gort__tr_env(rt);
    gort__main_args.fn = main_fn;
    gort__main_args.arg = arg;
    rc = gort__newproc(rt, gort__main_wrapper, rt, &rt->main_g);
    if (rc) {
        gort__rt_stop(rt);
        return rc;
    }
    while (!__atomic_load_n(&rt->done, __ATOMIC_ACQUIRE))
        gort__os_wait(&rt->done, 0, 0);
    rc = rt->exit_code;
    gort__rt_stop(rt);
    return rc;
}

/* Plain threads that may still wake a goroutine: all that called into
   gort, less those parked in a gort wait that has no deadline (a thread
   blocked on a channel sends nothing). A thread in a gort I/O wait counts:
   its data comes from outside. */
static GORT__NO_TSAN long gort__threads_live(void) {
    gort__g *g;
    long n = 0;
    if (GORT__LOAD(&gort__nthreads) <= 0) return 0;
    gort__lock(&gort__tg_lock);
    for (g = gort__tg_all; g; g = gort__tgof(g)->tlink)
        if (GORT__LOAD(&g->status) != GORT__G_WAITING || gort__tgof(g)->waitdeadline > 0) n++;
    gort__unlock(&gort__tg_lock);
    return n;
}

/* Called by an M about to sleep with its P given up. In gort_run mode, if
   no goroutine can ever run again, report and end gort_run. */
/* One look: every P idle with nothing queued, no timer, no goroutine in a
   system call or I/O wait, and no plain thread that could still wake one. */
static int gort__looks_dead(gort__rt *rt) {
    int dead, i;
    long threads = gort__threads_live() - (rt->run_thread_has_tg ? 1 : 0);
    gort__lock(&rt->lock);
    dead = rt->npidle == rt->nprocs && rt->gq_size == 0 && GORT__LOAD(&rt->nsyscall) == 0 &&
           GORT__LOAD(&rt->niowait) == 0 && threads <= 0;
    for (i = 0; dead && i < rt->nprocs; i++)
        if (GORT__LOAD(&rt->allp[i].tnext) != INT64_MAX || !gort__runq_empty(&rt->allp[i])) dead = 0;
    gort__unlock(&rt->lock);
    return dead;
}

static void gort__checkdead(gort__rt *rt) {
    if (rt->mode != GORT__MODE_RUN || GORT__LOAD(&rt->done)) return;
    if (!gort__looks_dead(rt)) return;
    /* Look again a moment later before a verdict that ends gort_run: a
       goroutine readied by a thread that is between its two steps (the
       state change, then the queue) can slip between the counters, and
       under an emulator (qemu) that moment is long. */
    gort__os_sleep_ns(5000000);
    if (GORT__LOAD(&rt->done) || !gort__looks_dead(rt) || !gort__main_claim(rt, GORT__MAIN_DEADLOCK)) return;
    if (gort_goroutines() == 0) {
        static const char msg[] = "no goroutines (main called gort_exit) - deadlock!\n";
        gort__write_all_raw(2, msg, sizeof msg - 1);
    } else {
        static const char msg[] = "all goroutines are asleep - deadlock!\n\n";
        gort__write_all_raw(2, msg, sizeof msg - 1);
        gort__dump_rt(rt, 2, 0);
    }
    gort__tr_report(rt);
    gort__main_finish(rt, -EDEADLK);   /* after the report: gort_run returns now */
}

/* ---------------------------------------------------------------- >>chan
   A channel is a lock, two FIFO queues of waiters and, when buffered, a
   ring that senders and receivers use without the lock.

   Unbuffered (cap 0): everything under the lock, as in Go. A value moves
   once, straight from the sender's memory into the receiver's: the one
   that comes second finds the other parked and completes it
   (gort__chan_send_locked, gort__chan_recv_locked, which gort_chan_send/
   recv and select's pass 1 all call, as Go's chansend, chanrecv and
   selectgo call send and recv). The send and receive queues are not both
   non-empty, with one exception (as in Go): a select that both sends and
   receives on the same channel queues a waiter in each, and then the
   other queue holds only that select's waiters. Every waiter is queued
   right after a pop of the other queue found it empty (a pop also
   unlinks the waiters of selects already completed through another
   case, gort__wq_pop); gort__chan_check_queue asserts it there.

   Buffered: the ring is a bounded queue of cells, each a stamp and a
   value (the array queue of Vyukov and of Rust's crossbeam): head and
   tail are positions, lap * one_lap + index, each on a cache line of its
   own, so a producer and a consumer on two cores share no line but the
   cells they pass; a cell's stamp says whose turn it is (tail: empty,
   ready for this lap's send; tail + 1: filled, ready for the receive;
   head + one_lap: taken, ready for the next lap). A send reserves a cell
   by a compare-and-swap of tail, copies its value in and publishes the
   stamp (release); a receive likewise with head, and its acquire of the
   stamp orders the value after the send. A reservation whose value is
   not yet stamped is a send in flight: a receive that meets it waits the
   few instructions it takes (gort__ring_wait), it never reports empty
   past it. Close sets tail's mark bit (under the lock): a send that has
   not reserved its cell by then fails, one that has completes, and
   receivers drain the ring before they see the close. Zero-sized
   elements need no cells: tail is then a count (with the mark and both
   flags above it), taken and given by compare-and-swap, for any
   capacity.
   A goroutine parks only after a look at the ring under the lock, made
   after its waiter is queued and its side's flag raised: a receiver on
   an empty ring raises rwait (a bit of tail), a sender on a full one
   swait (a bit of head). The flag goes up by a read-modify-write of the
   very word the other side's operations reserve their cells with, so
   the two are ordered: a send whose reservation came first is seen by
   the receiver's look (it waits for the value if it is still in
   flight); one that came after sees the flag. A send that sees rwait
   does not go in without the lock: it takes it, puts its value in, and
   settles the channel (gort__chan_settle): a parked receiver gets the
   oldest value straight from the ring, a parked sender's value goes
   into the ring, for as long as both a waiter and a value (or a free
   cell) are there; a side left with no waiter has its flag lowered.
   Receives mirror it with swait. So no value sits in the ring while a
   receiver sleeps, nor a free cell while a sender does, and the common
   case (nobody waiting) is one compare-and-swap and one stamp, with no
   fence and no look at the lock's line. The public send and receive
   calls try that case first, inline, before anything else
   (gort__ring_push_fast and _pop_fast): it touches neither the P nor
   the M, so it needs no API scope (>>handoff). A send without the lock
   never touches the channel after its stamp: its receiver may free the
   channel at once (one under the lock is safe: gort_chan_free takes
   it). A parked waiter so completed has its result set under the lock,
   as an unbuffered one has; a select's waiter that lost its value to a
   receive that took it without the lock (or its free cell to such a
   send) is woken to start again (GORT__CHAN_RETRY), a plain waiter is
   queued again at the front.

   Once closed, never reopened, and no waiter is left queued: close wakes
   them all (a receiver with a value still in the ring gets it) and no
   call queues one on a closed channel.
   Wakers set the waiter's result under the lock and ready its goroutine
   after unlocking; the lock's release and the run queue's publication order
   the value before the receiver sees it (send happens-before receive). */
#define GORT__LINE 64     /* the cache line size gort lays its hot data out for */
struct gort_chan {
    uint32_t  lock;
    uint32_t  closed;     /* atomic: written under lock, read by fast paths */
    size_t    esize;
    size_t    cap;
    gort__wq  recvq;      /* lock; its head is read without it (gort__wq_empty) */
    gort__wq  sendq;      /* lock; likewise */
    uint32_t  refs;       /* atomic: the owner, plus each select parked on it */
    struct gort_timer *timer;   /* the gort_timer whose channel this is, or NULL */
    char     *buf;        /* buffered: cap cells of slotsz bytes, a stamp then the value */
    void     *mem;        /* the allocation c lies in, GORT__LINE-aligned */
    size_t    slotsz;     /* a cell: 8 bytes of stamp, the value, rounded up to 8 */
    uint64_t  mark;       /* tail's closed bit; positions' index bits lie below it */
    /* the flags' bits (constant); a flag is raised and lowered only under
       the lock, read by anyone in the word it lives in */
    uint64_t  rwait;      /* tail's bit: receivers may be parked */
    uint64_t  swait;      /* head's bit (tail's for zero-sized elements): senders may be */
    uint64_t  one_lap;    /* 4 * mark: above both flags (zero-sized elements: unused) */
    /* atomic, each on a line of its own: the next cell to receive from */
    uint64_t  head __attribute__((aligned(GORT__LINE)));
    /* atomic: the next cell to send into, | mark once closed (zero-sized
       elements: the count of values, | mark) */
    uint64_t  tail __attribute__((aligned(GORT__LINE)));
};

static inline void gort__copy(void *dst, const void *src, size_t n) {
    /* The common element sizes without a call. The empty asm hides which
       object the pointers point to, or gcc -O3 warns about the 8-byte case
       in code paths where it can see a 4-byte element (it cannot know
       that n, fixed per channel, rules them out). */
    __asm__("" : "+r"(dst), "+r"(src));
    switch (n) {
    case 0: break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, n); break;
    }
}

gort_chan *gort_chan_make_err(size_t elem_size, size_t cap, int *err) {
    GORT__API();
    gort_chan *c;
    /* The header and the buffer each on cache lines of their own: a
       buffer that began on the header's last line would bounce it (and
       the lock in it) between a producer's and a consumer's cores with
       every value; measured: 6.3 M/s against 10.2 for 1 producer and 1
       consumer at 2 P (bench buf_1p1c_p2). */
    /* An unbuffered channel never touches head and tail: its allocation
       ends before them (a line, not three). */
    size_t hdr = ((cap ? sizeof(gort_chan) : offsetof(gort_chan, head)) + GORT__LINE - 1) & ~(size_t)(GORT__LINE - 1),
           slotsz, ncell;
    char *mem;
    if (cap && elem_size && cap > ((size_t)1 << 40) / elem_size) {
        if (err) *err = -EINVAL;
        gort__misuse("gort_chan_make: capacity times element size is over 1 TiB; a channel buffer that large is a bug");
        return NULL;
    }
    if (elem_size > ((size_t)1 << 30)) {
        if (err) *err = -EINVAL;
        gort__misuse("gort_chan_make: elements over 1 GiB; send a pointer instead");
        return NULL;
    }
    slotsz = (8 + elem_size + 7) & ~(size_t)7;
    ncell = cap && elem_size ? cap : 0;   /* zero-sized elements: a count, no cells */
    mem = (char *)gort__calloc(1, GORT__LINE - 1 + hdr + ncell * slotsz);
    if (!mem) { if (err) *err = -ENOMEM; return NULL; }
    c = (gort_chan *)(mem + (-(uintptr_t)mem & (GORT__LINE - 1)));
    c->mem = mem;
    c->esize = elem_size;
    c->cap = cap;
    c->refs = 1;
    c->buf = (char *)c + hdr;
    c->slotsz = slotsz;
    if (ncell) {
        size_t i;
        c->mark = 1;
        while (c->mark <= cap) c->mark <<= 1;   /* above every index */
        c->rwait = c->swait = c->mark << 1;     /* (on two words) */
        c->one_lap = c->mark << 2;
        for (i = 0; i < ncell; i++) *(uint64_t *)(void *)(c->buf + i * slotsz) = i;   /* lap 0: empty */
    } else {   /* a count never gets to the flags */
        c->mark = (uint64_t)1 << 63;
        c->rwait = (uint64_t)1 << 62;
        c->swait = (uint64_t)1 << 61;
    }
    if (err) *err = 0;
    return c;
}

gort_chan *gort_chan_make(size_t elem_size, size_t cap) {
    GORT__API();
    return gort_chan_make_err(elem_size, cap, NULL);
}

static void gort__chan_unref(gort_chan *c) {
    if (GORT__ADD(&c->refs, (uint32_t)-1) == 0) free(c->mem);
}

static int gort__chan_free_timer(gort_chan *c);

int gort_chan_free(gort_chan *c) {
    GORT__API();
    int busy;
    if (!c) return 0;
    if (c->timer) return gort__chan_free_timer(c);
    gort__lock(&c->lock);
    busy = !gort__wq_empty(&c->recvq) || !gort__wq_empty(&c->sendq);
    gort__unlock(&c->lock);
    if (busy) {
        gort__misuse("gort_chan_free: goroutines or threads are still blocked on this channel; close it and let them leave first");
        return -EBUSY;
    }
    gort__chan_unref(c);
    return 0;
}

static size_t gort__ring_len(gort_chan *c);
size_t gort_chan_len(gort_chan *c) { return c && c->cap ? gort__ring_len(c) : 0; }
size_t gort_chan_cap(gort_chan *c) { return c ? c->cap : 0; }

static void gort__unlock_after(gort__g *g, void *arg) {
    (void)g;
    gort__unlock((uint32_t *)arg);
}

static void gort__waiter_init(gort__waiter *w, gort__g *g, void *elem, uint32_t *qlock) {
    w->next = w->prev = NULL; w->q = NULL;
    w->g = g; w->elem = elem; w->qlock = qlock;
    w->seq = 0; w->claimable = 0; w->caseidx = 0; w->success = 0; w->handoff = 0;
    w->since = 0; w->wake_next = NULL; w->gnext = NULL; w->chan = NULL;
}

/* Wake a waiter completed under a lock that is now released. */
static void gort__wake(gort__waiter *w) {
    gort__g *g = w->g;
    g->param = w;
    gort__ready(g);
}

/* Make a chain of goroutines (linked by schedlink, head to tail, n of
   them, all of one runtime, already RUNNABLE) runnable in one publication:
   one hold of the sched lock, one M woken at most. */
static void gort__ready_batch(gort__g *head, gort__g *tail, long n) {
    gort__rt *rt = head->rt;
    gort__m *m = gort__getm();
    if (m && m->p && m->rt == rt)
        __atomic_store_n(&m->p->gorttick, m->p->gorttick + 1, __ATOMIC_RELAXED);   /* not a hog */
    if (gort__tr_on()) {
        gort__g *x;
        for (x = head; x; x = x == tail ? NULL : x->schedlink) gort__tr_flow(x, 0);
    }
    gort__lock(&rt->lock);
    gort__globrunq_put_locked(rt, head, tail, n);
    gort__unlock(&rt->lock);
    gort__wakep_fenced(rt);
}

/* Wake a private list (linked by wake_next) that a waker took off its
   queues under their lock; called with no lock held. Each next link is
   read before the wake: a woken waiter's record lives on a stack that may
   be gone at once. The first GORT__WAKE_DIRECT go the usual way (the
   waker's runnext and queue, where they stay warm); a longer list (a
   close or a broadcast with thousands waiting) goes to the global queue
   in chains of GORT__WAKE_BATCH: one lock hold and one wake-up per chain
   rather than per goroutine, and no pass over them to spill a full local
   queue (each is on a page of its own, cold by then). */
#define GORT__WAKE_DIRECT 64
#define GORT__WAKE_BATCH  256
static void gort__wake_list(gort__waiter *list) {
    gort__g *head = NULL, *tail = NULL;
    gort__p *p = gort__cur_p();   /* no switch in here: safe to keep */
    long n = 0, direct = 0;
    while (list) {
        gort__waiter *nx = list->wake_next;
        gort__g *g = list->g;
        if (direct < GORT__WAKE_DIRECT || g->is_thread || (head && g->rt != head->rt) ||
            (g->rt->debug & GORT_DEBUG_MIGRATE)) {
            direct++;
            gort__wake(list);
        } else {
            g->param = list;
            gort__setstatus(g, GORT__G_WAITING, GORT__G_RUNNABLE);
            gort__progress(p);   /* not a hog, however long the list */
            if (tail) tail->schedlink = g; else head = g;
            tail = g;
            if (++n == GORT__WAKE_BATCH) {
                gort__ready_batch(head, tail, n);
                head = tail = NULL;
                n = 0;
            }
        }
        list = nx;
    }
    if (n) gort__ready_batch(head, tail, n);
}

/* Blocks forever: the nil channel, select {}. */
static void gort__block_forever(int waitstate) {
    gort__g *g = gort__self();
    for (;;) gort__park(g, NULL, NULL, waitstate, 0, 0);
}

/* A waiter a waker has just dequeued (gort__wq_pop: unlinked, and claimed
   if claimable) and is about to complete: no one completed it before. */
static inline void gort__chan_check_popped(const gort__waiter *w) {
    GORT_ASSERT(w->q == NULL && w->next == NULL && w->prev == NULL);
    GORT_ASSERT(!w->success);
}

/* The queue invariant of an unbuffered channel, checked before g queues
   a waiter on c (lock held): the other queue, `other`, is empty, or every
   waiter in it is g's own (one select sending and receiving on c). */
static void gort__chan_check_queue(gort_chan *c, gort__wq *other, gort__g *g) {
    const gort__waiter *o;
    GORT_ASSERT(!c->closed && c->cap == 0);
    for (o = (const gort__waiter *)other->head; o; o = o->next)
        GORT_ASSERT(o->g == g && o->claimable);
}

/* The lock releases gort__chan_send_locked and _recv_locked take: a plain
   call's channel lock, or every lock of a select (gort__sel_unlock). */
typedef void (*gort__unlock_fn)(void *arg);
static void gort__unlock_lock(void *lock) { gort__unlock((uint32_t *)lock); }

/* Send *elem to r, a receiver just dequeued from c->recvq (gort__wq_pop)
   of an unbuffered channel (a buffered one's values go through its ring).
   Lock contract: called with c->lock held (from select, with all of its
   locks held); calls unlock(arg), which must release c->lock (and may
   release more), and returns with it RELEASED, after readying r. */
static void gort__chan_send_locked(gort_chan *c, gort__waiter *r, const void *elem,
                                   gort__unlock_fn unlock, void *arg) {
    gort__chan_check_popped(r);
    GORT_ASSERT(c->cap == 0);
    if (r->elem) gort__copy(r->elem, elem, c->esize);
    r->success = 1;
    unlock(arg);
    gort__wake(r);
}

/* Receive into elem (NULL: drop the value) with s, a sender just dequeued
   from c->sendq (gort__wq_pop) of an unbuffered channel: s's value,
   directly. Lock contract: as gort__chan_send_locked's: called with
   c->lock held, returns with it RELEASED by unlock(arg), after readying s. */
static void gort__chan_recv_locked(gort_chan *c, gort__waiter *s, void *elem,
                                   gort__unlock_fn unlock, void *arg) {
    gort__chan_check_popped(s);
    GORT_ASSERT(c->cap == 0);
    if (elem) gort__copy(elem, s->elem, c->esize);
    s->success = 1;
    unlock(arg);
    gort__wake(s);
}

/* The ring of a buffered channel (>>chan). Its operations run with or
   without the lock; they never take it. Positions carry two flag bits
   between their index and their lap: tail's mark (closed) and rwait
   (receivers may be parked), head's swait (senders may be parked); with
   zero-sized elements all three are tail's, above the count. */
enum { GORT__RING_OK = 0, GORT__RING_EMPTY = 1, GORT__RING_FULL = 1, GORT__RING_CLOSED = 2,
       GORT__RING_LOCK = 3 /* the other side's flag is up: call again holding the lock */ };
#define GORT__CHAN_RETRY 2   /* a select waiter's result: start again (>>chan) */

static inline uint64_t *gort__ring_cell(gort_chan *c, uint64_t pos) {
    return (uint64_t *)(void *)(c->buf + (size_t)(pos & (c->mark - 1)) * c->slotsz);
}
/* The position after pos (no flags): the next index, or index 0 of the next lap. */
static inline uint64_t gort__ring_next(gort_chan *c, uint64_t pos) {
    return (pos & (c->mark - 1)) + 1 < c->cap ? pos + 1 : (pos & ~(c->one_lap - 1)) + c->one_lap;
}
/* The word that carries swait: head's, or tail's for zero-sized elements. */
static inline uint64_t *gort__ring_sword(gort_chan *c) { return c->esize ? &c->head : &c->tail; }
/* Positions without their flags. */
static inline uint64_t gort__ring_tpos(gort_chan *c, uint64_t t) { return t & ~(c->mark | c->rwait | c->swait); }
static inline uint64_t gort__ring_hpos(gort_chan *c, uint64_t h) { return h & ~c->swait; }
/* A cell reserved by another party and not yet stamped: a few
   instructions away, unless that thread lost its CPU meanwhile. */
static void gort__ring_wait(unsigned *spins) {
    if (++*spins < 64) gort__cpu_relax();
    else gort__os_yield();
}

/* Put *elem in the ring: GORT__RING_OK, _FULL, _CLOSED, or (not
   locked) _LOCK. tail is read with acquire: a _CLOSED (_CLOSED of
   gort__ring_pop too) comes after the close (TSan: a receiver that saw
   the close without it and freed what the closer's side still used).
   The exchange that reserves the cell reads rwait: a receiver raises it
   (gort__ring_flag) before its last look, so either it sees this value
   or this send sees the flag. A send that sees it
   goes in under the lock and settles before it lets go: the value's
   stamp is the last touch of c by a send without the lock (its
   receiver may free the channel at once; gort_chan_free takes the
   lock, so a send holding it is safe). */
static int gort__ring_push(gort_chan *c, const void *elem, int locked) {
    uint64_t tail = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE), t2;
    unsigned spins = 0;
    if (c->esize == 0) {   /* a count */
        for (;;) {
            if (tail & c->mark) return GORT__RING_CLOSED;
            if ((tail & c->rwait) && !locked) return GORT__RING_LOCK;
            if (gort__ring_tpos(c, tail) >= c->cap) return GORT__RING_FULL;
            if (__atomic_compare_exchange_n(&c->tail, &tail, tail + 1, 1, __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
                return GORT__RING_OK;
        }
    }
    for (;;) {
        uint64_t *cell, stamp, pos;
        if (tail & c->mark) return GORT__RING_CLOSED;
        if ((tail & c->rwait) && !locked) return GORT__RING_LOCK;
        pos = gort__ring_tpos(c, tail);
        cell = gort__ring_cell(c, pos);
        stamp = __atomic_load_n(cell, __ATOMIC_ACQUIRE);
        if (stamp == pos) {   /* empty, this lap's: reserve it */
            if (__atomic_compare_exchange_n(&c->tail, &tail, gort__ring_next(c, pos) | (tail & c->rwait), 1,
                                            __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE)) {
                gort__copy(cell + 1, elem, c->esize);
                __atomic_store_n(cell, pos + 1, __ATOMIC_RELEASE);   /* c is not touched after this */
                return GORT__RING_OK;
            }
            continue;   /* the failed exchange read tail again */
        }
        if (stamp + c->one_lap == pos + 1) {
            /* Last lap's value is still in it: full, unless its receive is
               under way (head moved past it, the stamp not yet). */
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            if (gort__ring_hpos(c, __atomic_load_n(&c->head, __ATOMIC_RELAXED)) + c->one_lap == pos)
                return GORT__RING_FULL;
        }
        if ((t2 = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE)) != tail) { tail = t2; continue; }
        gort__ring_wait(&spins);
        tail = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE);
    }
}

/* Take the oldest value into elem (NULL: drop it): GORT__RING_OK,
   _EMPTY, _CLOSED (empty for good), or (not locked) _LOCK when swait is
   up, as gort__ring_push. A send in flight is waited for. */
static int gort__ring_pop(gort_chan *c, void *elem, int locked) {
    uint64_t head, h2;
    unsigned spins = 0;
    if (c->esize == 0) {
        uint64_t tail = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE);
        for (;;) {
            if (gort__ring_tpos(c, tail) == 0) return (tail & c->mark) ? GORT__RING_CLOSED : GORT__RING_EMPTY;
            if ((tail & c->swait) && !locked) return GORT__RING_LOCK;
            if (__atomic_compare_exchange_n(&c->tail, &tail, tail - 1, 1, __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
                return GORT__RING_OK;
        }
    }
    head = __atomic_load_n(&c->head, __ATOMIC_RELAXED);
    for (;;) {
        uint64_t pos = gort__ring_hpos(c, head), *cell = gort__ring_cell(c, pos);
        uint64_t stamp = __atomic_load_n(cell, __ATOMIC_ACQUIRE), lap = c->one_lap;
        if ((head & c->swait) && !locked) return GORT__RING_LOCK;
        if (stamp == pos + 1) {   /* filled, this lap's: take it */
            if (__atomic_compare_exchange_n(&c->head, &head, gort__ring_next(c, pos) | (head & c->swait), 1,
                                            __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE)) {
                if (elem) gort__copy(elem, cell + 1, c->esize);
                __atomic_store_n(cell, pos + lap, __ATOMIC_RELEASE);   /* c is not touched after this */
                return GORT__RING_OK;
            }
            continue;
        }
        if (stamp == pos) {
            /* Not filled: empty if tail is here too, else a send reserved
               it and is copying its value in. */
            uint64_t tail;
            __atomic_thread_fence(__ATOMIC_SEQ_CST);
            tail = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE);
            if (gort__ring_tpos(c, tail) == pos) return (tail & c->mark) ? GORT__RING_CLOSED : GORT__RING_EMPTY;
        }
        if ((h2 = __atomic_load_n(&c->head, __ATOMIC_RELAXED)) != head) { head = h2; continue; }
        gort__ring_wait(&spins);
        head = __atomic_load_n(&c->head, __ATOMIC_RELAXED);
    }
}

/* The common case of each, for the public calls to try before anything
   else (no API scope, no further call): a cell of this lap free (or
   filled) at the position read, no flag up and no close (a lost
   exchange looks again at the position it read). Anything else returns
   0, and the caller takes the whole way (gort__ring_push or _pop, which
   look again). Elements of nonzero size only (esize 0 keeps a count).
   The flags need no test of their own: a stamp is a position without
   them (its index is below mark, its lap above swait), so a word with
   any flag up (mark or rwait on tail, swait on head) equals no stamp,
   and the comparison fails. Neither touches the P or the M, so running
   counted out of gort (>>handoff) is harmless. */
static inline int gort__ring_push_fast(gort_chan *c, const void *elem) {
    uint64_t tail = __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE), *cell;
    do {   /* (a lost exchange read tail again) */
        cell = gort__ring_cell(c, tail);
        if (__atomic_load_n(cell, __ATOMIC_ACQUIRE) != tail) return 0;   /* (a flag fails it too) */
    } while (!__atomic_compare_exchange_n(&c->tail, &tail, gort__ring_next(c, tail), 1, __ATOMIC_SEQ_CST,
                                          __ATOMIC_ACQUIRE));
    gort__copy(cell + 1, elem, c->esize);
    __atomic_store_n(cell, tail + 1, __ATOMIC_RELEASE);   /* c is not touched after this */
    return 1;
}
static inline int gort__ring_pop_fast(gort_chan *c, void *elem) {
    uint64_t head = __atomic_load_n(&c->head, __ATOMIC_RELAXED), *cell, lap = c->one_lap;
    do {
        cell = gort__ring_cell(c, head);
        if (__atomic_load_n(cell, __ATOMIC_ACQUIRE) != head + 1) return 0;   /* (swait fails it too) */
    } while (!__atomic_compare_exchange_n(&c->head, &head, gort__ring_next(c, head), 1, __ATOMIC_SEQ_CST,
                                          __ATOMIC_RELAXED));
    if (elem) gort__copy(elem, cell + 1, c->esize);
    __atomic_store_n(cell, head + lap, __ATOMIC_RELEASE);   /* c is not touched after this */
    return 1;
}

/* Under the lock: a value (or a send in flight), a free cell (or a
   receive in flight). */
static int gort__ring_has_value(gort_chan *c) {
    uint64_t head = c->esize ? gort__ring_hpos(c, __atomic_load_n(&c->head, __ATOMIC_SEQ_CST)) : 0;
    return gort__ring_tpos(c, __atomic_load_n(&c->tail, __ATOMIC_SEQ_CST)) != head;
}
static int gort__ring_has_room(gort_chan *c) {
    uint64_t tail = gort__ring_tpos(c, __atomic_load_n(&c->tail, __ATOMIC_SEQ_CST));
    if (c->esize == 0) return tail < c->cap;
    return gort__ring_hpos(c, __atomic_load_n(&c->head, __ATOMIC_SEQ_CST)) + c->one_lap != tail;
}

/* Under the lock, after queueing a waiter: raise its side's flag (rwait
   for a receiver, swait for a sender). The read-modify-write is ordered
   with every send's (receive's) reservation of the same word: one that
   came before is seen by the caller's next look at the ring, one that
   comes after sees the flag and settles (>>chan). */
static void gort__ring_flag(gort_chan *c, int recv) {
    if (recv) __atomic_fetch_or(&c->tail, c->rwait, __ATOMIC_SEQ_CST);
    else __atomic_fetch_or(gort__ring_sword(c), c->swait, __ATOMIC_SEQ_CST);
}

static size_t gort__ring_len(gort_chan *c) {
    for (;;) {
        uint64_t tail = __atomic_load_n(&c->tail, __ATOMIC_SEQ_CST), head, hix, tix, tp;
        if (c->esize == 0) return (size_t)gort__ring_tpos(c, tail);
        head = gort__ring_hpos(c, __atomic_load_n(&c->head, __ATOMIC_SEQ_CST));
        if (__atomic_load_n(&c->tail, __ATOMIC_SEQ_CST) != tail) continue;   /* a consistent pair */
        tp = gort__ring_tpos(c, tail);
        hix = head & (c->mark - 1);
        tix = tp & (c->mark - 1);
        if (hix < tix) return (size_t)(tix - hix);
        if (hix > tix) return (size_t)(c->cap - hix + tix);
        return tp == head ? 0 : c->cap;
    }
}

/* A waiter popped for a value or a cell that someone took meanwhile: a
   select's (claimed by the pop) starts again; a plain one goes back to
   the front of its queue. */
static void gort__chan_requeue(gort__wq *q, gort__waiter *w, gort__waiter **list) {
    if (w->claimable) {
        w->success = GORT__CHAN_RETRY;
        w->wake_next = *list;
        *list = w;
        return;
    }
    if (q->head && GORT__UNLIKELY(GORT__LOAD(&gort__ncompacted_all) != 0))
        gort__compact_touch(q->head, sizeof(gort__waiter));   /* its prev link is written */
    gort__wq_push_front(q, w);
}

/* c->lock held, c buffered: while a receiver waits and the ring holds a
   value, the oldest value goes to it; while a sender waits and the ring
   has a free cell, its value goes in (>>chan). A side left with nobody
   waiting has its flag lowered (under the lock, as it is raised). The
   waiters completed join *list, to be woken once the lock is released. */
static void gort__chan_settle(gort_chan *c, gort__waiter **list) {
    int again;
    do {
        gort__waiter *w;
        again = 0;
        while (!gort__wq_empty(&c->recvq) && gort__ring_has_value(c) && (w = gort__wq_pop(&c->recvq)) != NULL) {
            int r;
            gort__chan_check_popped(w);
            r = gort__ring_pop(c, w->elem, 1);
            GORT_ASSERT(r != GORT__RING_CLOSED);   /* a close empties the queues, under the lock */
            if (r == GORT__RING_EMPTY) {
                /* taken meanwhile by a receive without the lock */
                gort__chan_requeue(&c->recvq, w, list);
                again = 1;
                break;
            }
            w->success = 1;
            w->wake_next = *list;
            *list = w;
        }
        while (!gort__wq_empty(&c->sendq) && gort__ring_has_room(c) && (w = gort__wq_pop(&c->sendq)) != NULL) {
            int r;
            gort__chan_check_popped(w);
            r = gort__ring_push(c, w->elem, 1);
            GORT_ASSERT(r != GORT__RING_CLOSED);
            if (r == GORT__RING_FULL) {
                /* taken meanwhile by a send without the lock */
                gort__chan_requeue(&c->sendq, w, list);
                again = 1;
                break;
            }
            w->success = 1;
            w->wake_next = *list;
            *list = w;
        }
    } while (again);
    if (gort__wq_empty(&c->recvq) && (__atomic_load_n(&c->tail, __ATOMIC_RELAXED) & c->rwait))
        __atomic_fetch_and(&c->tail, ~c->rwait, __ATOMIC_SEQ_CST);
    if (gort__wq_empty(&c->sendq) && (__atomic_load_n(gort__ring_sword(c), __ATOMIC_RELAXED) & c->swait))
        __atomic_fetch_and(gort__ring_sword(c), ~c->swait, __ATOMIC_SEQ_CST);
}


/* Non-blocking readiness, read without the lock. A channel never goes
   from closed to open, so "not closed" then "full" (each one atomic read)
   implies a moment when it was open and full: -EAGAIN is a correct answer
   for that moment. Symmetrically for receive ("empty", then "not
   closed"). */
static inline int gort__chan_full(gort_chan *c) {
    return c->cap == 0 ? gort__wq_empty(&c->recvq) : !gort__ring_has_room(c);
}
static inline int gort__chan_empty(gort_chan *c) {
    return c->cap == 0 ? gort__wq_empty(&c->sendq) : !gort__ring_has_value(c);
}

/* Every call that can block, or let another party proceed, counts its
   plain-thread caller as live for deadlock detection (a thread that only
   ever takes a free mutex will still unlock it). M threads carry a marker
   in gort__tls_tg, so this is one thread-local load on every path. It is
   read at entry, before any switch, so no stale thread-local is used. */
static inline void gort__register_thread(void) {
    if (GORT__UNLIKELY(!GORT__TLS_TG())) gort__thread_g();
}

/* A buffered channel's send: into the ring without the lock when no
   receiver's flag is up; else, or when the ring is full, under the lock,
   where a full ring means queue, raise the flag, look once more, and
   park (>>chan). */
static int gort__chan_send_buf(gort_chan *c, const void *elem, int block) {
    gort__waiter w, *list = NULL;
    gort__g *self;
    int r = gort__ring_push(c, elem, 0);
    if (GORT__LIKELY(r == GORT__RING_OK)) return 0;
    if (r == GORT__RING_CLOSED) return -EPIPE;
    if (r == GORT__RING_FULL && !block) return -EAGAIN;
    gort__lock(&c->lock);
    if (c->closed) {
        gort__unlock(&c->lock);
        return -EPIPE;
    }
    r = gort__ring_push(c, elem, 1);
    if (r == GORT__RING_FULL && block) {
        self = gort__self();
        gort__waiter_init(&w, self, (void *)(uintptr_t)elem, &c->lock);
        gort__wq_push(&c->sendq, &w);
        gort__ring_flag(c, 0);
        r = gort__ring_push(c, elem, 1);
        if (r == GORT__RING_FULL) {
            self->waiting = &w;   /* its one waiter, for gort_stop (gort__abandon) */
            self->waitobj = c;
            gort__park(self, gort__unlock_after, &c->lock, GORT__W_CHAN_SEND, 0, 0);
            self->waiting = NULL;
            return w.success ? 0 : -EPIPE;   /* (c not touched: it may be gone) */
        }
        gort__wq_remove(&c->sendq, &w);
    }
    GORT_ASSERT(r == GORT__RING_OK || r == GORT__RING_FULL);   /* a close takes the lock we hold */
    gort__chan_settle(c, &list);
    gort__unlock(&c->lock);
    gort__wake_list(list);
    return r == GORT__RING_OK ? 0 : -EAGAIN;
}

/* A buffered channel's receive, the mirror of gort__chan_send_buf. */
static int gort__chan_recv_buf(gort_chan *c, void *elem, int block) {
    gort__waiter w, *list = NULL;
    gort__g *self;
    size_t esize = c->esize;   /* c may be freed by the time we run again */
    int r = gort__ring_pop(c, elem, 0);
    if (GORT__LIKELY(r == GORT__RING_OK)) return 1;
    if (r == GORT__RING_CLOSED) goto closed;
    if (r == GORT__RING_EMPTY && !block) return -EAGAIN;
    gort__lock(&c->lock);
    r = gort__ring_pop(c, elem, 1);   /* closed: what it still holds, then _CLOSED */
    if (r == GORT__RING_EMPTY && block) {
        GORT_ASSERT(!c->closed);
        self = gort__self();
        gort__waiter_init(&w, self, elem, &c->lock);
        gort__wq_push(&c->recvq, &w);
        gort__ring_flag(c, 1);
        r = gort__ring_pop(c, elem, 1);
        if (r == GORT__RING_EMPTY) {
            self->waiting = &w;   /* its one waiter, for gort_stop (gort__abandon) */
            self->waitobj = c;
            gort__park(self, gort__unlock_after, &c->lock, GORT__W_CHAN_RECV, 0, 0);
            self->waiting = NULL;
            if (w.success) return 1;
            goto closed;
        }
        GORT_ASSERT(r == GORT__RING_OK);   /* a close takes the lock we hold */
        gort__wq_remove(&c->recvq, &w);
    }
    gort__chan_settle(c, &list);
    gort__unlock(&c->lock);
    gort__wake_list(list);
    if (r == GORT__RING_OK) return 1;
    if (r == GORT__RING_EMPTY) return -EAGAIN;
closed:
    if (elem && esize) memset(elem, 0, esize);
    return 0;
}

static int gort__chan_send(gort_chan *c, const void *elem, int block) {
    gort__waiter w, *r;
    gort__g *self;
    if (!c) {
        if (!block) return -EAGAIN;
        gort__block_forever(GORT__W_SEND_NIL);
    }
    if (!elem && c->esize) return -EINVAL;
    gort__register_thread();
    if (c->cap) return gort__chan_send_buf(c, elem, block);
    if (!block && !GORT__LOAD_ACQ(&c->closed) && gort__chan_full(c)) return -EAGAIN;
    gort__lock(&c->lock);
    if (c->closed) {
        gort__unlock(&c->lock);
        return -EPIPE;
    }
    if ((r = gort__wq_pop(&c->recvq)) != NULL) {
        gort__chan_send_locked(c, r, elem, gort__unlock_lock, &c->lock);
        return 0;
    }
    if (!block) {
        gort__unlock(&c->lock);
        return -EAGAIN;
    }
    self = gort__self();
    gort__chan_check_queue(c, &c->recvq, self);
    gort__waiter_init(&w, self, (void *)(uintptr_t)elem, &c->lock);
    gort__wq_push(&c->sendq, &w);
    self->waiting = &w;   /* its one waiter, for gort_stop (gort__abandon) */
    self->waitobj = c;
    gort__park(self, gort__unlock_after, &c->lock, GORT__W_CHAN_SEND, 0, 0);
    self->waiting = NULL;
    return w.success ? 0 : -EPIPE;
}

static int gort__chan_recv(gort_chan *c, void *elem, int block) {
    gort__waiter w, *s;
    gort__g *self;
    size_t esize;
    if (!c) {
        if (!block) return -EAGAIN;
        gort__block_forever(GORT__W_RECV_NIL);
    }
    gort__register_thread();
    if (c->cap) return gort__chan_recv_buf(c, elem, block);
    if (!block) {
        if (gort__chan_empty(c)) {
            if (!GORT__LOAD_ACQ(&c->closed)) return -EAGAIN;
            if (gort__chan_empty(c)) {
                if (elem && c->esize) memset(elem, 0, c->esize);
                return 0;
            }
        }
    }
    gort__lock(&c->lock);
    if ((s = gort__wq_pop(&c->sendq)) != NULL) {
        gort__chan_recv_locked(c, s, elem, gort__unlock_lock, &c->lock);
        return 1;
    }
    if (c->closed) {
        gort__unlock(&c->lock);
        if (elem && c->esize) memset(elem, 0, c->esize);
        return 0;
    }
    if (!block) {
        gort__unlock(&c->lock);
        return -EAGAIN;
    }
    self = gort__self();
    gort__chan_check_queue(c, &c->sendq, self);
    gort__waiter_init(&w, self, elem, &c->lock);
    gort__wq_push(&c->recvq, &w);
    self->waiting = &w;   /* its one waiter, for gort_stop (gort__abandon) */
    esize = c->esize;   /* c may be freed by the time we run again */
    self->waitobj = c;
    gort__park(self, gort__unlock_after, &c->lock, GORT__W_CHAN_RECV, 0, 0);
    self->waiting = NULL;
    if (!w.success && elem && esize) memset(elem, 0, esize);
    return w.success;
}

/* A buffered channel's common case first (gort__ring_push_fast): a
   registered caller (a goroutine, or a plain thread after its first
   call) with a value and room needs nothing else. */
#define GORT__CHAN_FAST(c, elem) \
    (GORT__LIKELY((c) != NULL) && (c)->cap && (c)->esize && (elem) && GORT__TLS_TG())
int gort_chan_send(gort_chan *c, const void *elem) {
    if (GORT__CHAN_FAST(c, elem) && gort__ring_push_fast(c, elem)) return 0;
    {
        GORT__API();
        return gort__chan_send(c, elem, 1);
    }
}
int gort_chan_try_send(gort_chan *c, const void *elem) {
    if (GORT__CHAN_FAST(c, elem) && gort__ring_push_fast(c, elem)) return 0;
    {
        GORT__API();
        return gort__chan_send(c, elem, 0);
    }
}
int gort_chan_recv(gort_chan *c, void *elem) {
    if (GORT__CHAN_FAST(c, c) && gort__ring_pop_fast(c, elem)) return 1;
    {
        GORT__API();
        return gort__chan_recv(c, elem, 1);
    }
}
int gort_chan_try_recv(gort_chan *c, void *elem) {
    if (GORT__CHAN_FAST(c, c) && gort__ring_pop_fast(c, elem)) return 1;
    {
        GORT__API();
        return gort__chan_recv(c, elem, 0);
    }
}
#undef GORT__CHAN_FAST

int gort_chan_close(gort_chan *c) {
    GORT__API();
    gort__waiter *w, *list = NULL;
    gort__p *p;
    if (!c) return -EINVAL;
    gort__register_thread();
    p = gort__cur_p();   /* no switch until the wake-ups: safe to keep */
    gort__lock(&c->lock);
    if (c->closed) {
        gort__unlock(&c->lock);
        return -EPIPE;
    }
    __atomic_store_n(&c->closed, 1, __ATOMIC_RELEASE);
    /* No send reserves a cell from now on; one that has completes. */
    if (c->cap) __atomic_fetch_or(&c->tail, c->mark, __ATOMIC_SEQ_CST);
    /* Receivers: a buffered channel's may find a value yet (sent, or in
       flight, since they looked: not settled yet); else the close. Senders
       get -EPIPE (Go panics). */
    while ((w = gort__wq_pop(&c->recvq)) != NULL) {
        int r;
        gort__chan_check_popped(w);
        r = c->cap ? gort__ring_pop(c, w->elem, 1) : GORT__RING_CLOSED;
        w->success = r == GORT__RING_OK;
        w->wake_next = list; list = w; gort__progress(p);
    }
    while ((w = gort__wq_pop(&c->sendq)) != NULL) {
        gort__chan_check_popped(w);
        w->success = 0; w->wake_next = list; list = w; gort__progress(p);
    }
    /* Closed with no waiter queued, and none can queue from now on. */
    GORT_ASSERT(gort__wq_empty(&c->recvq) && gort__wq_empty(&c->sendq));
    gort__unlock(&c->lock);
    gort__wake_list(list);
    return 0;
}

/* ---------------------------------------------------------------- >>select
   gort_select follows Go's selectgo, in the same steps:
     setup   check the cases; shuffle the ones that can ever be ready into
             poll order (uniform: when several are ready each is chosen
             with equal probability) and sort them by lock address into
             lock order: locks are taken in address order, each once, so
             two selects over the same channels cannot deadlock;
     pass 1  poll: with every lock held, complete the first ready case in
             poll order (a parked partner through gort__chan_send_locked /
             _recv_locked, as selectgo calls send and recv);
     pass 2  enqueue: none is ready and the caller may wait: queue a
             claimable waiter (carrying the park's claim ticket) on every
             case's queue;
     park    every lock is released after the switch;
     pass 3  dequeue: woken by the one waker that won the claim (a partner,
             a close, an fd's edge, or the timeout), lock every queue again
             and unlink the waiters that lost; an fd case won by an edge
             is checked with a poll and, if its fd is not ready (the
             edge's data was read meanwhile), the select starts again
             with what is left of its timeout.
   One exit at the end: it frees the scratch memory that a select over
   more than GORT__SEL_SMALL cases takes from malloc (its waiters live
   there, not on the stack). */

#define GORT__SEL_SMALL 8   /* up to this many cases, the per-case arrays are on the stack */

typedef struct {
    gort_case     *cases;
    int            npoll;       /* cases that can ever be ready (not a nil
                                   channel nor a negative fd) */
    int            nfd;         /* fd cases among them */
    gort__rt      *iort;        /* the runtime whose poller the fd cases use */
    int           *pollorder;   /* [npoll] case indices, shuffled */
    int           *lockorder;   /* [npoll] the same, sorted by lock address */
    uint32_t     **lockp;       /* [n] per case: the lock guarding its queues */
    gort__pd     **pds;         /* [n] per fd case: its poll descriptor */
    gort__waiter  *ws;          /* [npoll] pass 2's waiters, in lock order */
    void          *scratch_over_small;   /* malloc'd arrays for more than
                                   GORT__SEL_SMALL cases, else NULL */
    struct {                    /* the arrays for GORT__SEL_SMALL cases or fewer */
        int           order[2 * GORT__SEL_SMALL];
        uint32_t     *lockp[GORT__SEL_SMALL];
        gort__pd     *pds[GORT__SEL_SMALL];
        gort__waiter  ws[GORT__SEL_SMALL];
    } small;
} gort__sel;

static void gort__sel_lock(gort__sel *s) {
    int i;
    uint32_t *prev = NULL;
    for (i = 0; i < s->npoll; i++) {
        uint32_t *l = s->lockp[s->lockorder[i]];
        if (l != prev) gort__lock(l);
        prev = l;
    }
}
static void gort__sel_unlock(gort__sel *s) {
    int i;
    for (i = s->npoll - 1; i >= 0; i--) {
        uint32_t *l = s->lockp[s->lockorder[i]];
        if (i == 0 || s->lockp[s->lockorder[i - 1]] != l) gort__unlock(l);
    }
}
static void gort__sel_unlock_all(void *s) { gort__sel_unlock((gort__sel *)s); }
static void gort__sel_unlock_after(gort__g *g, void *arg) {
    (void)g;
    gort__sel_unlock((gort__sel *)arg);
}

/* Heap sort of case indices by lock address (no recursion, no malloc). */
static void gort__sel_sort(uint32_t **lp, int *a, int n) {
    int i, end;
    for (i = n / 2 - 1; i >= 0; i--) {
        int r = i;
        for (;;) {
            int c = 2 * r + 1, t;
            if (c >= n) break;
            if (c + 1 < n && (uintptr_t)lp[a[c]] < (uintptr_t)lp[a[c + 1]]) c++;
            if ((uintptr_t)lp[a[r]] >= (uintptr_t)lp[a[c]]) break;
            t = a[r]; a[r] = a[c]; a[c] = t;
            r = c;
        }
    }
    for (end = n - 1; end > 0; end--) {
        int t = a[0], r = 0;
        a[0] = a[end]; a[end] = t;
        for (;;) {
            int c = 2 * r + 1;
            if (c >= end) break;
            if (c + 1 < end && (uintptr_t)lp[a[c]] < (uintptr_t)lp[a[c + 1]]) c++;
            if ((uintptr_t)lp[a[r]] >= (uintptr_t)lp[a[c]]) break;
            t = a[r]; a[r] = a[c]; a[c] = t;
            r = c;
        }
    }
}


/* Is fd ready for op right now (in pass 1, pd lock held; after a wake,
   not)? select reports readiness to the caller, so ask the system. */
static int gort__sel_fd_ready(gort__pd *pd, int fd, int op) {
    struct pollfd pfd;
    int r;
    (void)pd;   /* held locked: an edge after this poll finds our waiter */
    pfd.fd = fd;
    pfd.events = op == GORT_WAIT_IN ? POLLIN : POLLOUT;
    pfd.revents = 0;
    /* A signal must not make a ready fd look idle (its edge may be long
       gone); any other failure says "ready": the caller's call finds out. */
    while ((r = gort__os_poll(&pfd, 1, 0)) == -EINTR) {}
    return r != 0;
}

/* Setup of fd case i (fd >= 0): find its poll descriptor and register or
   re-arm it (a select that may park re-arms, gort__pd_arm: the number may
   name another file than when it was registered). Returns 1 armed, 0 not
   pollable (a regular file: always ready), or -errno. */
static int gort__sel_fd_setup(gort__sel *s, int i, int64_t timeout_ns) {
    int fd = s->cases[i].fd;
    if (!s->iort) s->iort = gort__cur_rt();
    if (!s->iort) {
        gort__misuse("gort_select: fd cases need a running runtime (gort_run or gort_start)");
        return -ESRCH;
    }
    s->pds[i] = gort__pd_get(fd, 1);
    if (!s->pds[i]) return fd >= GORT__PD_CHUNK * GORT__PD_CHUNKS ? -EBADF : -ENOMEM;
    return gort__pd_arm(s->iort, s->pds[i], fd, timeout_ns != 0);
}

/* Pass 1, with every lock held: complete the first ready case in poll
   order. Returns its index with every lock RELEASED (and a parked partner
   readied), or -1 with every lock still HELD. */
static int gort__sel_poll(gort__sel *s) {
    int k, i = -1;
    gort__waiter *list = NULL;   /* waiters a buffered case's settling completed */
    for (k = 0; k < s->npoll; k++) {
        gort_case *cs;
        gort_chan *c;
        gort__waiter *o;
        int r;
        i = s->pollorder[k];
        cs = &s->cases[i];
        c = cs->chan;
        if (cs->op == GORT_RECV) {
            if (c->cap) {   /* the ring (>>chan) */
                if ((r = gort__ring_pop(c, cs->elem, 1)) == GORT__RING_OK) {
                    cs->ok = 1;
                    gort__chan_settle(c, &list);
                    break;
                }
                if (r == GORT__RING_CLOSED) {
                    if (cs->elem && c->esize) memset(cs->elem, 0, c->esize);
                    break;   /* ok stays 0 */
                }
                continue;
            }
            if ((o = gort__wq_pop(&c->sendq)) != NULL) {
                gort__chan_recv_locked(c, o, cs->elem, gort__sel_unlock_all, s);
                cs->ok = 1;
                return i;
            }
            if (c->closed) {
                if (cs->elem && c->esize) memset(cs->elem, 0, c->esize);
                break;   /* ok stays 0 */
            }
        } else if (cs->op == GORT_SEND) {
            if (c->closed) break;   /* ok stays 0 */
            if (c->cap) {
                if (gort__ring_push(c, cs->elem, 1) == GORT__RING_OK) {
                    cs->ok = 1;
                    gort__chan_settle(c, &list);
                    break;
                }
                continue;
            }
            if ((o = gort__wq_pop(&c->recvq)) != NULL) {
                gort__chan_send_locked(c, o, cs->elem, gort__sel_unlock_all, s);
                cs->ok = 1;
                return i;
            }
        } else if (gort__sel_fd_ready(s->pds[i], cs->fd, cs->op)) {
            cs->ok = 1;
            break;
        }
    }
    if (k == s->npoll) return -1;
    gort__sel_unlock(s);
    gort__wake_list(list);
    return i;
}

/* After pass 2, every lock still held: has a buffered case become ready
   since pass 1? A send or receive without the lock may have changed its
   ring before our waiter was on it and its flag up (>>chan): raise each
   buffered case's flag, then look. If one is ready, every waiter comes
   off again (no one else can have popped one: we hold the locks; a flag
   left up is lowered by the next settling) and the caller starts over. */
static int gort__sel_recheck(gort__sel *s, gort__g *self) {
    int k, ready = 0;
    for (k = 0; k < s->npoll; k++) {   /* every flag first, then the looks */
        gort_case *cs = &s->cases[s->lockorder[k]];
        if ((cs->op == GORT_RECV || cs->op == GORT_SEND) && cs->chan->cap) gort__ring_flag(cs->chan, cs->op == GORT_RECV);
    }
    for (k = 0; k < s->npoll && !ready; k++) {
        gort_case *cs = &s->cases[s->lockorder[k]];
        gort_chan *c = cs->chan;
        ready = (cs->op == GORT_RECV && c->cap && gort__ring_has_value(c)) ||
                (cs->op == GORT_SEND && c->cap && gort__ring_has_room(c));
    }
    if (!ready) return 0;
    for (k = 0; k < s->npoll; k++) {
        gort__waiter *w = &s->ws[k];
        GORT_ASSERT(w->q != NULL);
        gort__wq_remove(w->q, w);
    }
    gort__sel_unlock(s);
    for (k = 0; k < s->npoll; k++)
        if (s->ws[k].chan) gort__chan_unref(s->ws[k].chan);
    self->waiting = NULL;
    return 1;
}

/* Pass 2, with every lock held and no case ready: queue a claimable
   waiter for each case, all with the park's claim ticket, and list them
   on self->waiting (for gort_stop: gort__abandon). */
static void gort__sel_enqueue(gort__sel *s, gort__g *self, uint64_t ticket) {
    int k;
    self->waiting = NULL;
    for (k = 0; k < s->npoll; k++) {
        int i = s->lockorder[k];
        gort_case *cs = &s->cases[i];
        gort__waiter *w = &s->ws[k];
        gort__wq *q;
        gort__waiter_init(w, self, cs->elem, s->lockp[i]);
        w->claimable = 1; w->seq = ticket; w->caseidx = i;
        switch (cs->op) {
        case GORT_RECV:
            if (!cs->chan->cap) gort__chan_check_queue(cs->chan, &cs->chan->sendq, self);
            q = &cs->chan->recvq;
            break;
        case GORT_SEND:
            if (!cs->chan->cap) gort__chan_check_queue(cs->chan, &cs->chan->recvq, self);
            q = &cs->chan->sendq;
            break;
        case GORT_WAIT_IN: q = &s->pds[i]->rq; break;
        default: q = &s->pds[i]->wq; break;
        }
        /* Pass 3 locks every channel again after the wake-up, when the
           waker (which popped our waiter from its channel) may already
           have called gort_chan_free on it: hold each channel alive. */
        if (cs->op == GORT_RECV || cs->op == GORT_SEND) {
            GORT__ADD(&cs->chan->refs, 1);
            w->chan = cs->chan;
        }
        if (cs->op == GORT_WAIT_IN || cs->op == GORT_WAIT_OUT) self->waitfd = cs->fd;   /* dumps: "io wait fd N" */
        gort__wq_push(q, w);
        w->gnext = self->waiting;
        self->waiting = w;
    }
}

/* Pass 3, after the wake-up, no lock held. winner: the waiter whose waker
   won the claim (it dequeued it and set its result), NULL if the timeout
   won. Unlinks the waiters that lost, drops pass 2's channel references
   and returns the select's result. */
static int gort__sel_dequeue(gort__sel *s, gort__g *self, gort__waiter *winner) {
    int k, chosen, found = 0;
    gort__sel_lock(s);
    for (k = 0; k < s->npoll; k++) {
        gort__waiter *w = &s->ws[k];
        if (w == winner) {
            found++;
            GORT_ASSERT(w->q == NULL);   /* its waker dequeued it */
        } else {
            GORT_ASSERT(!w->success);    /* wakers that lost the claim leave it alone */
            if (w->q) gort__wq_remove(w->q, w);
        }
    }
    gort__sel_unlock(s);
    self->waiting = NULL;
    GORT_ASSERT(found == (winner != NULL));
    if (!winner) {
        chosen = -ETIMEDOUT;
    } else {
        gort_case *cs = &s->cases[winner->caseidx];
        chosen = winner->caseidx;
        cs->ok = winner->success;
        if (!winner->success && cs->op == GORT_RECV && cs->elem && cs->chan->esize)
            memset(cs->elem, 0, cs->chan->esize);
    }
    for (k = 0; k < s->npoll; k++)
        if (s->ws[k].chan) gort__chan_unref(s->ws[k].chan);
    return chosen;
}

int gort_select(gort_case *cases, int n, int64_t timeout_ns) {
    GORT__API();
    gort__sel s;
    gort__g *self;
    uint64_t *rnd, ticket;
    int i, k, live, chosen;
    int64_t deadline = timeout_ns > 0 ? gort__deadline(timeout_ns) : 0;

again:
    /* Setup. Nothing is taken before the cases are checked. */
    live = 0;
    s.cases = cases;
    s.npoll = s.nfd = 0;
    s.iort = NULL;
    s.scratch_over_small = NULL;
    chosen = -EINVAL;
    if (n < 0 || (n > 0 && !cases)) goto out;
    for (i = 0; i < n; i++) {
        int op = cases[i].op;
        if (op != GORT_SEND && op != GORT_RECV && op != GORT_WAIT_IN && op != GORT_WAIT_OUT) goto out;
        if (op == GORT_SEND && cases[i].chan && cases[i].chan->esize && !cases[i].elem) goto out;
        cases[i].ok = 0;
        live += op == GORT_SEND || op == GORT_RECV ? cases[i].chan != NULL : cases[i].fd >= 0;
    }
    gort__register_thread();
    if (live == 0) {
        /* Only nil channels and negative fds: nothing can ever be ready. */
        if (timeout_ns == 0) {
            chosen = -EAGAIN;
        } else {
            if (timeout_ns < 0) gort__block_forever(n ? GORT__W_SELECT : GORT__W_SELECT_NONE);
            gort_sleep(timeout_ns);
            chosen = -ETIMEDOUT;
        }
        goto out;
    }
    if (n <= GORT__SEL_SMALL) {
        s.pollorder = s.small.order; s.lockorder = s.small.order + GORT__SEL_SMALL;
        s.lockp = s.small.lockp; s.pds = s.small.pds; s.ws = s.small.ws;
    } else {
        s.scratch_over_small = gort__calloc((size_t)n, sizeof(gort__waiter) + sizeof(uint32_t *) +
                                                       sizeof(gort__pd *) + 2 * sizeof(int));
        chosen = -ENOMEM;
        if (!s.scratch_over_small) goto out;
        s.ws = (gort__waiter *)s.scratch_over_small;
        s.lockp = (uint32_t **)(void *)(s.ws + n);
        s.pds = (gort__pd **)(void *)(s.lockp + n);
        s.pollorder = (int *)(void *)(s.pds + n);
        s.lockorder = s.pollorder + n;
    }
    rnd = gort__rnd_state();
    for (i = 0; i < n; i++) {
        s.pds[i] = NULL;
        if (cases[i].op == GORT_WAIT_IN || cases[i].op == GORT_WAIT_OUT) {
            if (cases[i].fd < 0) continue;
            chosen = gort__sel_fd_setup(&s, i, timeout_ns);
            if (chosen < 0) goto out;
            if (chosen == 0) {   /* not pollable: ready now */
                cases[i].ok = 1;
                chosen = i;
                goto out;
            }
            s.lockp[i] = &s.pds[i]->lock;
            s.nfd++;
        } else {
            if (!cases[i].chan) continue;
            s.lockp[i] = &cases[i].chan->lock;
        }
        /* Fisher-Yates, inside out: case i goes to a uniform position. */
        k = (int)gort__rand_n(rnd, (uint32_t)s.npoll + 1);
        s.pollorder[s.npoll] = s.pollorder[k];
        s.pollorder[k] = i;
        s.npoll++;
    }
    GORT_ASSERT(s.npoll == live);
    memcpy(s.lockorder, s.pollorder, (size_t)s.npoll * sizeof(int));
    gort__sel_sort(s.lockp, s.lockorder, s.npoll);

    /* Pass 1: poll. */
    gort__sel_lock(&s);
    chosen = gort__sel_poll(&s);
    if (chosen >= 0) goto out;
    if (timeout_ns == 0) {
        gort__sel_unlock(&s);
        chosen = -EAGAIN;
        goto out;
    }

    /* Pass 2: enqueue. */
    self = gort__self();
    ticket = gort__new_ticket(self);
    gort__sel_enqueue(&s, self, ticket);
    if (gort__sel_recheck(&s, self)) goto retry;

    /* What it waits on, for dumps: the first channel cases. */
    self->seln = 0;
    for (i = 0; i < n; i++)
        if ((cases[i].op == GORT_SEND || cases[i].op == GORT_RECV) && cases[i].chan) {
            if (self->seln < 4) {
                self->selchan[self->seln] = cases[i].chan;
                self->selop[self->seln] = (uint8_t)cases[i].op;
            }
            self->seln++;
        }
    /* Park; gort__sel_unlock_after releases every lock after the switch. */
    if (s.nfd) GORT__ADD(&s.iort->niowait, 1);   /* parked on I/O: no deadlock */
    gort__park(self, gort__sel_unlock_after, &s, s.nfd ? GORT__W_IO : GORT__W_SELECT,
               timeout_ns > 0 ? gort__deadline(timeout_ns) : 0, ticket);
    if (s.nfd) GORT__ADD(&s.iort->niowait, (uint32_t)-1);

    /* Pass 3: dequeue. */
    chosen = gort__sel_dequeue(&s, self, (gort__waiter *)self->param);
    /* A buffered case's waiter whose value or cell someone else took
       (gort__chan_requeue): start again. */
    if (chosen >= 0 && cases[chosen].ok == GORT__CHAN_RETRY) goto retry;

    /* An fd case is chosen only if its fd is ready now. The edge that
       woke it may be older than the data it announced: the poller took
       it, then a reader (a goroutine's gort_read on the fast path, or
       this caller before the select) read the data, and only then was
       it delivered, to this select, parked after the read. Pass 1 asked
       the system itself; here ask again, and wait again with what is left
       of the timeout if the fd is not ready. */
    if (chosen >= 0 && cases[chosen].ok == 1 && (cases[chosen].op == GORT_WAIT_IN || cases[chosen].op == GORT_WAIT_OUT) &&
        !gort__sel_fd_ready(s.pds[chosen], cases[chosen].fd, cases[chosen].op))
        goto retry;

out:
    free(s.scratch_over_small);
    return chosen;
retry:
    free(s.scratch_over_small);
    if (timeout_ns > 0 && (timeout_ns = deadline - gort__nanotime()) <= 0) return -ETIMEDOUT;
    goto again;
}

/* ---------------------------------------------------------------- >>sync
   All sync objects park goroutines and block plain threads through the same
   waiter queues as channels, each guarded by the object's own internal
   lock. All are valid when zeroed (the *_INIT macros). */

/* Park on q (guarded by *lock, held by the caller); returns once woken. */
static void gort__wq_wait(gort__wq *q, uint32_t *lock, gort__waiter *w, int front, int waitstate, const void *obj) {
    gort__g *self = gort__self();
    self->waitobj = obj;
    gort__waiter_init(w, self, NULL, lock);
    if (front) gort__wq_push_front(q, w); else gort__wq_push(q, w);
    self->waiting = w;
    gort__park(self, gort__unlock_after, lock, waitstate, 0, 0);
    self->waiting = NULL;
    GORT_ASSERT(GORT__LOAD(&w->q) == NULL);   /* the waker unlinked it */
}

/* WaitGroup. Counter and waiter count share one word, as in Go, so that
   the gort_wg_done that brings the counter to zero touches the WaitGroup
   again only if someone waits: a waiter that saw zero may already have
   freed or reused it (a WaitGroup on a returning goroutine's stack). */
void gort_wg_add(gort_wg *wg, int delta) {
    GORT__API();
    uint64_t v;
    int32_t counter;
    gort__waiter *w, *list = NULL;
    GORT__NONNULL(wg, "gort_wg_add", "gort_wg");
    gort__register_thread();
    v = __atomic_add_fetch(&wg->state, (uint64_t)(int64_t)delta << 32, __ATOMIC_SEQ_CST);
    counter = (int32_t)(v >> 32);
    if (counter < 0) {
        gort__misuse("gort_wg_add: WaitGroup counter went negative (more gort_wg_done than gort_wg_add)");
        abort();
    }
    if (counter > 0 || (uint32_t)v == 0) return;
    /* Zero with waiters: no new waiter can join (they see zero), so reset
       the waiter count and wake everyone queued. */
    gort__lock(&wg->lock);
    __atomic_store_n(&wg->state, 0, __ATOMIC_SEQ_CST);
    while ((w = gort__wq_pop(&wg->waitq)) != NULL) { w->wake_next = list; list = w; }
    gort__unlock(&wg->lock);
    gort__wake_list(list);
}
void gort_wg_done(gort_wg *wg) { GORT__API(); gort_wg_add(wg, -1); }
void gort_wg_wait(gort_wg *wg) {
    GORT__API();
    gort__waiter w;
    uint64_t v;
    GORT__NONNULL(wg, "gort_wg_wait", "gort_wg");
    gort__register_thread();
    v = __atomic_load_n(&wg->state, __ATOMIC_ACQUIRE);
    if ((v >> 32) == 0) return;
    gort__lock(&wg->lock);
    for (;;) {
        v = __atomic_load_n(&wg->state, __ATOMIC_ACQUIRE);
        if ((v >> 32) == 0) { gort__unlock(&wg->lock); return; }
        if (gort__cas_u64(&wg->state, v, v + 1)) break;
    }
    gort__wq_wait(&wg->waitq, &wg->lock, &w, 0, GORT__W_WG, wg);
}

/* Mutex. state: bit 0 locked, bit 1 waiters queued.
   Normal mode lets a running goroutine barge in (fast: no switch), but a
   waiter that has waited more than 1 ms (Go's starvation threshold) gets
   the lock handed to it directly by the unlocker, which leaves bit 0 set
   and marks the hand-off in the waiter (w->handoff), not in state: it
   cannot starve.
   Every change of the waiters bit happens under the internal lock; the
   two lock-free transitions (0 -> locked, locked -> 0) fail whenever the
   bit is set, so no wake-up is lost. */
enum { GORT__MX_LOCKED = 1, GORT__MX_WAITERS = 2 };
#define GORT__MX_STARVE_NS 1000000

int gort_mutex_trylock(gort_mutex *m) {
    GORT__API();
    GORT__NONNULL(m, "gort_mutex_trylock", "gort_mutex");
    uint32_t s = GORT__LOAD(&m->state);
    gort__register_thread();
    while (!(s & GORT__MX_LOCKED)) {
        if (__atomic_compare_exchange_n(&m->state, &s, s | GORT__MX_LOCKED, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return 1;
    }
    return 0;
}

/* Tries before a contended gort_mutex_lock queues: a holder running on
   another CPU usually lets go within a few hundred cycles; 40 tries with a
   pause each (a few us) is below what parking and waking costs. */
#define GORT__MUTEX_SPINS 40
void gort_mutex_lock(gort_mutex *m) {
    GORT__API();
    uint32_t s = 0;
    gort__waiter w;
    int64_t since = 0;
    int spins, requeue = 0;
    GORT__NONNULL(m, "gort_mutex_lock", "gort_mutex");
    gort__register_thread();
    if (__atomic_compare_exchange_n(&m->state, &s, GORT__MX_LOCKED, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    for (;;) {
        /* Spin briefly while the holder is likely running elsewhere. */
        for (spins = 0; spins < GORT__MUTEX_SPINS; spins++) {
            if (gort_mutex_trylock(m)) return;
            gort__cpu_relax();
        }
        gort__lock(&m->lock);
        s = GORT__LOAD(&m->state);
        for (;;) {
            if (!(s & GORT__MX_LOCKED)) {
                if (__atomic_compare_exchange_n(&m->state, &s, s | GORT__MX_LOCKED, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
                    gort__unlock(&m->lock);
                    return;
                }
                continue;
            }
            if (__atomic_compare_exchange_n(&m->state, &s, s | GORT__MX_WAITERS, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                break;
        }
        if (!since) since = gort__nanotime();
        {
            gort__g *self = gort__self();
            gort__waiter_init(&w, self, NULL, &m->lock);
            w.since = since;
            /* A waiter woken but beaten to the lock goes back to the front. */
            if (requeue) gort__wq_push_front(&m->waitq, &w); else gort__wq_push(&m->waitq, &w);
            self->waiting = &w;
            self->waitobj = m;
            gort__park(self, gort__unlock_after, &m->lock, GORT__W_MUTEX, 0, 0);
            self->waiting = NULL;
            GORT_ASSERT(GORT__LOAD(&w.q) == NULL);
        }
        if (w.handoff) return;   /* the unlocker left it locked for us */
        requeue = 1;
    }
}

void gort_mutex_unlock(gort_mutex *m) {
    GORT__API();
    uint32_t s = GORT__MX_LOCKED;
    gort__waiter *w;
    int handoff;
    GORT__NONNULL(m, "gort_mutex_unlock", "gort_mutex");
    if (__atomic_compare_exchange_n(&m->state, &s, 0, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        return;
    if (!(s & GORT__MX_LOCKED)) {
        gort__misuse("gort_mutex_unlock: the mutex is not locked");
        abort();
    }
    gort__lock(&m->lock);
    w = gort__wq_pop(&m->waitq);
    handoff = w && gort__nanotime() - w->since > GORT__MX_STARVE_NS;
    if (w) w->handoff = handoff;
    /* Still locked while we hold the internal lock; the waiters bit is
       brought up to date here, under it. */
    __atomic_store_n(&m->state, GORT__MX_LOCKED | (gort__wq_empty(&m->waitq) ? 0u : (uint32_t)GORT__MX_WAITERS),
                     __ATOMIC_RELAXED);
    gort__unlock(&m->lock);
    /* The last touch of m: once it is unlocked a new owner may unlock and
       free it (a mutex may be destroyed as soon as it is unlocked). With a
       handoff it stays locked, now owned by w. */
    if (!handoff) __atomic_fetch_and(&m->state, ~(uint32_t)GORT__MX_LOCKED, __ATOMIC_RELEASE);
    if (w) gort__wake(w);
}

/* RWMutex: writer-preferring. Readers queue behind a waiting writer so a
   stream of readers cannot starve it; a writer's unlock admits all the
   readers that queued meanwhile before the next writer. */
void gort_rwmutex_rlock(gort_rwmutex *rw) {
    GORT__API();
    gort__waiter w;
    GORT__NONNULL(rw, "gort_rwmutex_rlock", "gort_rwmutex");
    gort__register_thread();
    gort__lock(&rw->lock);
    if (!rw->writer && gort__wq_empty(&rw->wwait)) {
        rw->readers++;
        gort__unlock(&rw->lock);
        return;
    }
    gort__wq_wait(&rw->rwait, &rw->lock, &w, 0, GORT__W_RWMUTEX, rw);   /* woken holding a read lock */
}
void gort_rwmutex_runlock(gort_rwmutex *rw) {
    GORT__API();
    gort__waiter *w = NULL;
    GORT__NONNULL(rw, "gort_rwmutex_runlock", "gort_rwmutex");
    gort__register_thread();
    gort__lock(&rw->lock);
    if (rw->readers <= 0) {
        gort__unlock(&rw->lock);
        gort__misuse("gort_rwmutex_runlock: no read lock is held");
        abort();
    }
    if (--rw->readers == 0 && (w = gort__wq_pop(&rw->wwait)) != NULL) rw->writer = 1;
    gort__unlock(&rw->lock);
    if (w) gort__wake(w);
}
void gort_rwmutex_lock(gort_rwmutex *rw) {
    GORT__API();
    gort__waiter w;
    GORT__NONNULL(rw, "gort_rwmutex_lock", "gort_rwmutex");
    gort__register_thread();
    gort__lock(&rw->lock);
    if (!rw->writer && rw->readers == 0) {
        rw->writer = 1;
        gort__unlock(&rw->lock);
        return;
    }
    gort__wq_wait(&rw->wwait, &rw->lock, &w, 0, GORT__W_RWMUTEX, rw);   /* woken as the writer */
}
void gort_rwmutex_unlock(gort_rwmutex *rw) {
    GORT__API();
    gort__waiter *w, *list = NULL;
    GORT__NONNULL(rw, "gort_rwmutex_unlock", "gort_rwmutex");
    gort__register_thread();
    gort__lock(&rw->lock);
    if (!rw->writer) {
        gort__unlock(&rw->lock);
        gort__misuse("gort_rwmutex_unlock: no write lock is held");
        abort();
    }
    rw->writer = 0;
    while ((w = gort__wq_pop(&rw->rwait)) != NULL) { rw->readers++; w->wake_next = list; list = w; }
    if (!list && (w = gort__wq_pop(&rw->wwait)) != NULL) { rw->writer = 1; w->wake_next = NULL; list = w; }
    gort__unlock(&rw->lock);
    gort__wake_list(list);
}

/* Cond: the waiter is queued before the mutex is released and the park's
   after function releases both, so a signal between unlock and sleep
   cannot be lost. */
typedef struct { gort_cond *cv; gort_mutex *m; } gort__condctx;
static void gort__cond_after(gort__g *g, void *arg) {
    gort__condctx *c = (gort__condctx *)arg;
    (void)g;
    gort__unlock(&c->cv->lock);
    gort_mutex_unlock(c->m);
}
void gort_cond_wait(gort_cond *cv, gort_mutex *m) {
    GORT__API();
    gort__waiter w;
    gort__condctx ctx;
    gort__g *self;
    GORT__NONNULL(cv, "gort_cond_wait", "gort_cond");
    GORT__NONNULL(m, "gort_cond_wait", "gort_mutex");
    gort__register_thread();
    self = gort__self();
    ctx.cv = cv; ctx.m = m;
    gort__lock(&cv->lock);
    gort__waiter_init(&w, self, NULL, &cv->lock);
    gort__wq_push(&cv->waitq, &w);
    self->waiting = &w;
    self->waitobj = cv;
    gort__park(self, gort__cond_after, &ctx, GORT__W_COND, 0, 0);
    self->waiting = NULL;
    GORT_ASSERT(GORT__LOAD(&w.q) == NULL);
    gort_mutex_lock(m);
}
void gort_cond_signal(gort_cond *cv) {
    GORT__API();
    gort__waiter *w;
    GORT__NONNULL(cv, "gort_cond_signal", "gort_cond");
    gort__register_thread();
    gort__lock(&cv->lock);
    w = gort__wq_pop(&cv->waitq);
    gort__unlock(&cv->lock);
    if (w) gort__wake(w);
}
void gort_cond_broadcast(gort_cond *cv) {
    GORT__API();
    gort__waiter *w, *list = NULL;
    GORT__NONNULL(cv, "gort_cond_broadcast", "gort_cond");
    gort__register_thread();
    gort__lock(&cv->lock);
    while ((w = gort__wq_pop(&cv->waitq)) != NULL) { w->wake_next = list; list = w; }
    gort__unlock(&cv->lock);
    gort__wake_list(list);
}

void gort_once_do(gort_once *o, void (*fn)(void)) {
    GORT__NONNULL(o, "gort_once_do", "gort_once");
    GORT__NONNULL(fn, "gort_once_do", "function");
    gort__register_thread();
    if (__atomic_load_n(&o->done, __ATOMIC_ACQUIRE)) return;
    gort_mutex_lock(&o->m);   /* no GORT__API here: fn is the program's code */
    if (!o->done) {
        fn();
        __atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
    }
    gort_mutex_unlock(&o->m);
}

/* ---------------------------------------------------------------- >>io
   Each call tries the system call first and parks only on EAGAIN. From a
   plain thread (or with no runtime) they are ordinary blocking calls, with
   poll(2) covering fds that a goroutine already made non-blocking.

   gort owns no fd: ordinary C code closes with close(2), gets the number
   back from socket/pipe/accept/dup2, and may share a file description with
   code that clears O_NONBLOCK. So a goroutine's call never trusts what it
   believed about a number:
   - on sockets it passes MSG_DONTWAIT (recv/send/recvmsg/sendmsg), which
     does not block whatever O_NONBLOCK says;
   - on anything else (pipes, ttys, eventfds) it checks O_NONBLOCK with one
     fcntl before the call and sets it if it is gone;
   - before it parks it re-arms the epoll registration (gort__pd_arm with
     recheck), which finds a registration that died with an old file;
   - the call itself runs in the syscall state (gort__syscall_enter), so a
     call that blocks all the same loses its P to sysmon, and the other
     goroutines keep running. */
static int gort__syscall_enter(gort__m *m, int io);
static void gort__syscall_exit(gort__m *m, int io);

static gort__rt *gort__io_rt(void) {
    gort__m *m = gort__getm();
    return (m && m->curg) ? m->rt : NULL;
}

/* Park until fd is ready for mode (GORT_IN / GORT_OUT) or the deadline
   (0: none). eseq: the direction's edge count read before the failed
   system call; seq: pd->seq when it was armed; flags: GORT__PARK_* (a
   part of a wait gort__io_park broke in two). 0 ready (or: try again),
   -ETIMEDOUT, -EBADF (closed by gort_close). */
static int gort__pd_wait(gort__rt *rt, gort__pd *pd, int fd, int mode, uint32_t eseq, uint32_t seq,
                         int64_t deadline, int flags) {
    gort__waiter w;
    gort__g *self = gort__self();
    uint32_t *edges = mode == GORT_IN ? &pd->rseq : &pd->wseq;
    gort__wq *q = mode == GORT_IN ? &pd->rq : &pd->wq;
    uint64_t ticket = 0;
    int woke;
    gort__lock(&pd->lock);
    /* Re-registered since (another file behind the number), or an edge
       since the failed call: try the call again. */
    if (__atomic_load_n(&pd->state, __ATOMIC_RELAXED) != GORT__PD_ARMED || pd->seq != seq || *edges != eseq) {
        gort__unlock(&pd->lock);
        return 0;
    }
    gort__waiter_init(&w, self, NULL, &pd->lock);
    if (deadline > 0) { ticket = gort__new_ticket(self); w.claimable = 1; w.seq = ticket; }
    self->waitfd = fd;
    gort__wq_push(q, &w);
    self->waiting = &w;
    GORT__ADD(&rt->niowait, 1);
    self->parkflags = (uint8_t)flags;
    woke = gort__park(self, gort__unlock_after, &pd->lock, GORT__W_IO, deadline, ticket);
    GORT__ADD(&rt->niowait, (uint32_t)-1);
    self->waiting = NULL;
    if (!woke) {
        gort__lock(&pd->lock);
        if (w.q) gort__wq_remove(w.q, &w);
        gort__unlock(&pd->lock);
        return -ETIMEDOUT;
    }
    GORT_ASSERT(GORT__LOAD(&w.q) == NULL);   /* popped by its waker */
    return w.success ? 0 : -EBADF;
}

/* A plain thread waits with poll(2). Returns 0 ready (or interrupted: the
   caller retries its call), -ETIMEDOUT or -errno. */
static int gort__poll_wait(int fd, int mode, int64_t deadline) {
    struct pollfd pfd;
    int r, tmo = -1;
    pfd.fd = fd;
    pfd.events = (short)((mode & GORT_IN ? POLLIN : 0) | (mode & GORT_OUT ? POLLOUT : 0));
    pfd.revents = 0;
    if (deadline > 0) {
        int64_t d = deadline - gort__nanotime();
        /* round up (never wake early); a deadline past poll's int range
           waits the longest poll can and the caller comes back */
        tmo = d <= 0 ? 0 : d >= (int64_t)INT_MAX * 1000000 ? INT_MAX : (int)((d + 999999) / 1000000);
    }
    {
        /* a plain thread's wait shows in dumps (and counts as live: data
           from outside may come) */
        gort__g *tg = GORT__TLS_TG();
        if (tg == GORT__M_MARK) tg = NULL;
        if (tg) {
            tg->waitfd = fd;
            tg->waitsince = gort__nanotime();
            __atomic_store_n(&gort__tgof(tg)->tfp, (uintptr_t)__builtin_frame_address(0), __ATOMIC_RELAXED);   /* for dumps */
            GORT__TG_CAPTURE(gort__tgof(tg));
            __atomic_store_n(&gort__tgof(tg)->tio, 1, __ATOMIC_RELEASE);
        }
        r = gort__os_poll(&pfd, 1, tmo);
        if (tg) __atomic_store_n(&gort__tgof(tg)->tio, 0, __ATOMIC_RELEASE);
    }
    if (r < 0) return r == -EINTR ? 0 : r;
    if (r == 0) return deadline > 0 && gort__nanotime() >= deadline ? -ETIMEDOUT : 0;
    if (pfd.revents & POLLNVAL) return -EBADF;
    return 0;
}

/* The descriptor a goroutine's call on fd uses, or NULL (plain thread). */
static gort__pd *gort__io_pd(int fd, int *err) {
    gort__pd *pd;
    *err = 0;
    if (!gort__io_rt()) return NULL;
    if (fd < 0) { *err = -EBADF; return NULL; }
    pd = gort__pd_get(fd, 1);
    if (!pd) *err = fd >= GORT__PD_CHUNK * GORT__PD_CHUNKS ? -EBADF : -ENOMEM;
    return pd;
}

/* How long a goroutine waits on a registered fd (Linux) before the
   registration is checked (>>netpoll): what a number reused after a plain
   close() can cost a goroutine parked on it, at most. */
#define GORT__PD_CHECK_NS (50 * 1000000LL)

/* A goroutine's call got EAGAIN: make sure an edge will come, then wait
   for it. 0: try the call again; <0: the call's result. On Linux a
   registration taken for live is checked only after GORT__PD_CHECK_NS of
   waiting with no edge (an EPOLL_CTL_MOD before every park was one system
   call in four of an echo server's); on Windows every park re-arms (the
   arm re-watches the directions a report dropped: >>poll-windows). */
static int gort__io_park(gort__pd *pd, int fd, int mode, uint32_t eseq, int64_t deadline) {
    gort__rt *rt = gort__io_rt();
    uint32_t seq = __atomic_load_n(&pd->seq, __ATOMIC_ACQUIRE);
#if defined(GORT__OS_LINUX)
    int r = gort__pd_arm(rt, pd, fd, __atomic_load_n(&pd->state, __ATOMIC_ACQUIRE) != GORT__PD_ARMED);
#else
    int r = gort__pd_arm(rt, pd, fd, 1);
#endif
    if (r < 0) return r;
    if (r == 0) {
        /* EAGAIN from a file epoll cannot watch (rare: some character
           devices). Wait in the syscall state: sysmon hands the P on. */
        int sys = gort__syscall_enter(gort__getm(), 1);
        r = gort__poll_wait(fd, mode, deadline);
        if (sys) gort__syscall_exit(gort__getm(), 1);
        return r;
    }
    /* re-registered: a new file, a new sequence; no edge of it seen yet */
    if (__atomic_load_n(&pd->seq, __ATOMIC_ACQUIRE) != seq) return 0;
#if defined(GORT__OS_LINUX)
    {
        int64_t check = gort__nanotime() + GORT__PD_CHECK_NS;
        if (deadline == 0 || deadline > check) {
            r = gort__pd_wait(rt, pd, fd, mode, eseq, seq, check, GORT__PARK_OWN_TIMER);
            if (r != -ETIMEDOUT) return r;
            /* No edge for a while: is the registration still the file's?
               (A dead one is renewed, and the call tried again.) */
            if ((r = gort__pd_arm(rt, pd, fd, 1)) <= 0) return r;
            if (__atomic_load_n(&pd->seq, __ATOMIC_ACQUIRE) != seq) return 0;
            return gort__pd_wait(rt, pd, fd, mode, eseq, seq, deadline, GORT__PARK_GOES_ON);
        }
    }
#endif
    return gort__pd_wait(rt, pd, fd, mode, eseq, seq, deadline, 0);
}

/* gort_close's part before the system's close: fd's registration with
   this runtime's poller goes, and every goroutine parked on fd wakes with
   -EBADF (both systems). */
static void gort__pd_close(int fd) {
    gort__pd *pd = gort__pd_get(fd, 0);
    gort__rt *rt = gort__cur_rt();
    if (pd) {
        gort__waiter *list;
        gort__lock(&pd->lock);
        if (__atomic_load_n(&pd->state, __ATOMIC_RELAXED) == GORT__PD_ARMED &&
            __atomic_load_n(&pd->owner, __ATOMIC_RELAXED) == rt && rt)
            gort__poller_disarm(&rt->poller, fd);
        gort__pd_reset(pd);
        list = gort__pd_evict_locked(pd, 0);
        gort__unlock(&pd->lock);
        gort__wake_list(list);
    }
}

/* Wait for fd after EAGAIN, whoever the caller is. */
static int gort__fd_wait(gort__pd *pd, int fd, int mode, uint32_t eseq, int64_t deadline) {
    return pd ? gort__io_park(pd, fd, mode, eseq, deadline) : gort__poll_wait(fd, mode, deadline);
}
static uint32_t gort__fd_edges(gort__pd *pd, int mode) {
    if (!pd) return 0;
    return __atomic_load_n(mode == GORT_IN ? &pd->rseq : &pd->wseq, __ATOMIC_ACQUIRE);
}

int gort_wait_fd(int fd, int events, int64_t timeout_ns) {
    GORT__API();
    struct pollfd pfd;
    gort__pd *pd;
    int64_t deadline = timeout_ns > 0 ? gort__deadline(timeout_ns) : 0;
    int r;
    if (!(events & (GORT_IN | GORT_OUT))) return -EINVAL;
    if (fd < 0) return -EBADF;   /* poll(2) would skip it: wait out the timeout */
    gort__register_thread();
    pd = gort__io_pd(fd, &r);   /* a goroutine's: its edges (NULL for a plain thread) */
    if (r) return r;
    for (;;) {
        int got = 0;
        uint32_t eseq = gort__fd_edges(pd, events & GORT_IN ? GORT_IN : GORT_OUT);
        pfd.fd = fd;
        pfd.events = (short)((events & GORT_IN ? POLLIN : 0) | (events & GORT_OUT ? POLLOUT : 0));
        pfd.revents = 0;
        r = gort__os_poll(&pfd, 1, 0);   /* ready now? (edge-triggered epoll would not say) */
        if (r == -EINTR) continue;
        if (r < 0) return r;
        if (r > 0) {
            if (pfd.revents & POLLNVAL) return -EBADF;
            if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) got |= events & GORT_IN;
            if (pfd.revents & (POLLOUT | POLLHUP | POLLERR)) got |= events & GORT_OUT;
            if (got) return got;
        }
        if (timeout_ns == 0) return -ETIMEDOUT;
        if (!gort__io_rt()) {
            r = gort__poll_wait(fd, events, deadline);
        } else if (pd && (events & (GORT_IN | GORT_OUT)) != (GORT_IN | GORT_OUT)) {
            /* One direction: park on its edges as a failed read or write
               does (no edge since eseq, read before the poll that said
               "not ready"), then look again. A select would re-arm and
               poll once more on the way in, and again on the way out. */
            r = gort__io_park(pd, fd, events & GORT_IN ? GORT_IN : GORT_OUT, eseq, deadline);
        } else {
            /* Both directions at once is a select over two fd cases. */
            gort_case cs[2];
            int nc = 0;
            int64_t left = deadline ? deadline - gort__nanotime() : -1;
            if (deadline && left <= 0) return -ETIMEDOUT;
            memset(cs, 0, sizeof cs);
            if (events & GORT_IN) { cs[nc].op = GORT_WAIT_IN; cs[nc].fd = fd; nc++; }
            if (events & GORT_OUT) { cs[nc].op = GORT_WAIT_OUT; cs[nc].fd = fd; nc++; }
            r = gort_select(cs, nc, left);
            if (r >= 0 && !cs[r].ok) return -EBADF;   /* closed by gort_close */
        }
        if (r < 0) return r;
    }
}

/* What an I/O call does (gort__io's kind, on either system). */
enum { GORT__IO_READ, GORT__IO_WRITE, GORT__IO_RECV, GORT__IO_SEND, GORT__IO_READV, GORT__IO_WRITEV };

#if defined(GORT__OS_LINUX)

/* One non-blocking attempt of a goroutine's call. -errno on failure. */
static ssize_t gort__io_try(gort__pd *pd, int kind, int fd, void *buf, size_t n, int flags) {
    struct msghdr mh;
    ssize_t r;
    int e;
    if (!__atomic_load_n(&pd->notsock, __ATOMIC_RELAXED)) {
        switch (kind) {
        case GORT__IO_READ: case GORT__IO_RECV:
            r = recv(fd, buf, n, flags | MSG_DONTWAIT);
            break;
        case GORT__IO_WRITE: case GORT__IO_SEND:
            r = send(fd, buf, n, flags | MSG_DONTWAIT | GORT__OS_NOSIGNAL);
            break;
        default:
            memset(&mh, 0, sizeof mh);
            mh.msg_iov = (struct iovec *)buf;
            mh.msg_iovlen = n;
            r = kind == GORT__IO_READV ? recvmsg(fd, &mh, MSG_DONTWAIT)
                                       : sendmsg(fd, &mh, MSG_DONTWAIT | GORT__OS_NOSIGNAL);
            break;
        }
        if (r >= 0) return r;
        e = errno;
        if (e != ENOTSOCK || kind == GORT__IO_RECV || kind == GORT__IO_SEND) return -e;
        __atomic_store_n(&pd->notsock, 1, __ATOMIC_RELAXED);
    }
    if ((e = gort__fd_nonblock(fd)) < 0) return e;
    switch (kind) {
    case GORT__IO_READ: r = read(fd, buf, n); break;
    case GORT__IO_WRITE: r = write(fd, buf, n); break;
    case GORT__IO_READV: r = readv(fd, (const struct iovec *)buf, (int)n); break;
    case GORT__IO_WRITEV: r = writev(fd, (const struct iovec *)buf, (int)n); break;
    default: r = kind == GORT__IO_RECV ? recv(fd, buf, n, flags | MSG_DONTWAIT)
                                       : send(fd, buf, n, flags | MSG_DONTWAIT | GORT__OS_NOSIGNAL); break;
    }
    if (r >= 0) return r;
    e = errno;
    /* a number that was a pipe and is a socket now */
    if (e == ENOTSOCK) __atomic_store_n(&pd->notsock, 1, __ATOMIC_RELAXED);
    return -e;
}

/* One blocking attempt of a plain thread's call: the system call as the
   program would make it (send with GORT__OS_NOSIGNAL: -EPIPE, not SIGPIPE). */
static ssize_t gort__io_try_thread(int kind, int fd, void *buf, size_t n, int flags) {
    struct msghdr mh;
    ssize_t r;
    switch (kind) {
    case GORT__IO_READ: r = read(fd, buf, n); break;
    case GORT__IO_RECV: r = recv(fd, buf, n, flags); break;
    case GORT__IO_SEND: r = send(fd, buf, n, flags | GORT__OS_NOSIGNAL); break;
    case GORT__IO_READV: r = readv(fd, (const struct iovec *)buf, (int)n); break;
    case GORT__IO_WRITEV:
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = (struct iovec *)buf;
        mh.msg_iovlen = n;
        r = sendmsg(fd, &mh, GORT__OS_NOSIGNAL);
        if (r < 0 && errno == ENOTSOCK) r = writev(fd, (const struct iovec *)buf, (int)n);
        break;
    default:
        r = send(fd, buf, n, GORT__OS_NOSIGNAL);
        if (r < 0 && errno == ENOTSOCK) r = write(fd, buf, n);
        break;
    }
    return r >= 0 ? r : -errno;
}

/* EFAULT: is the buffer (or an iovec's) on a compacted goroutine stack
   (>>compact)? Then it is restored, and 1 says try again. */
static int gort__io_unfault(int kind, void *buf, size_t n) {
    if (kind == GORT__IO_READV || kind == GORT__IO_WRITEV) {
        const struct iovec *iov = (const struct iovec *)buf;
        size_t i;
        int did = gort__compact_touch(iov, n * sizeof *iov);
        for (i = 0; i < n; i++) did |= gort__compact_touch(iov[i].iov_base, iov[i].iov_len);
        return did;
    }
    return gort__compact_touch(buf, n);
}

/* One retry loop for every call: try, park on EAGAIN until ready or the
   deadline (0: none), try again. */
static ssize_t gort__io(int kind, int fd, void *buf, size_t n, int flags, int64_t deadline) {
    int mode = (kind == GORT__IO_READ || kind == GORT__IO_RECV || kind == GORT__IO_READV) ? GORT_IN : GORT_OUT;
    gort__pd *pd;
    int e, unfaults = 0;
    gort__register_thread();   /* a plain thread in I/O may still send: no deadlock */
    pd = gort__io_pd(fd, &e);
    if (e) return e;
    for (;;) {
        ssize_t r;
        if (pd) {
            uint32_t eseq = __atomic_load_n(mode == GORT_IN ? &pd->rseq : &pd->wseq, __ATOMIC_ACQUIRE);
            int sys = gort__syscall_enter(gort__getm(), 1);
            r = gort__io_try(pd, kind, fd, buf, n, flags);
            if (sys) gort__syscall_exit(gort__getm(), 1);
            if (r >= 0) return r;
            if (r == -EINTR) continue;
            if (r == -EFAULT && unfaults++ < 8 && gort__io_unfault(kind, buf, n)) continue;
            if (r != -EAGAIN && r != -EWOULDBLOCK) return r;
            if (deadline > 0 && gort__nanotime() >= deadline) return -ETIMEDOUT;
            if ((e = gort__io_park(pd, fd, mode, eseq, deadline)) < 0) return e;
            continue;
        }
        /* A plain thread with a deadline may hold a blocking fd: wait for
           readiness first, so the call itself cannot outlast the deadline. */
        if (deadline > 0 && (e = gort__poll_wait(fd, mode, deadline)) < 0) return e;
        r = gort__io_try_thread(kind, fd, buf, n, flags);
        if (r >= 0) return r;
        if (r == -EINTR) continue;
        if (r == -EFAULT && unfaults++ < 8 && gort__io_unfault(kind, buf, n)) continue;
        if (r != -EAGAIN && r != -EWOULDBLOCK) return r;
        if (deadline > 0 && gort__nanotime() >= deadline) return -ETIMEDOUT;
        if ((e = gort__poll_wait(fd, mode, deadline)) < 0) return e;
    }
}


static int gort__accept(int fd, struct sockaddr *addr, socklen_t *len, int64_t deadline) {
    gort__pd *pd;
    int e;
    gort__register_thread();
    pd = gort__io_pd(fd, &e);
    if (e) return e;
    for (;;) {
        uint32_t eseq = gort__fd_edges(pd, GORT_IN);
        int r;
        if (pd) {
            /* accept has no MSG_DONTWAIT: make sure of O_NONBLOCK */
            int sys = gort__syscall_enter(gort__getm(), 1);
            r = (e = gort__fd_nonblock(fd)) < 0 ? -1 : gort__os_accept(fd, addr, len, 1);
            if (r < 0 && e == 0) e = -errno;
            if (sys) gort__syscall_exit(gort__getm(), 1);
        } else {
            r = gort__os_accept(fd, addr, len, 0);
            e = r < 0 ? -errno : 0;
        }
        if (r >= 0) return r;
        if (e == -EINTR || e == -ECONNABORTED) continue;
        if (e != -EAGAIN && e != -EWOULDBLOCK) return e;
        if (deadline > 0 && gort__nanotime() >= deadline) return -ETIMEDOUT;
        if ((e = gort__fd_wait(pd, fd, GORT_IN, eseq, deadline)) < 0) return e;
    }
}

static int gort__connect(int fd, const struct sockaddr *addr, socklen_t len, int64_t deadline) {
    int r, e, soerr = 0;
    socklen_t sl = sizeof soerr;
    gort__pd *pd;
    uint32_t eseq;
    if (!addr) return -EFAULT;
    gort__register_thread();
    pd = gort__io_pd(fd, &e);
    if (e) return e;
    eseq = gort__fd_edges(pd, GORT_OUT);
    if (pd) {
        int sys = gort__syscall_enter(gort__getm(), 1);
        r = (e = gort__fd_nonblock(fd)) < 0 ? -1 : connect(fd, addr, len);
        if (r < 0 && e == 0) e = -errno;
        if (sys) gort__syscall_exit(gort__getm(), 1);
    } else {
        r = connect(fd, addr, len);
        e = r < 0 ? -errno : 0;
    }
    if (r == 0) return 0;
    e = -e;
    if (e != EINPROGRESS && e != EINTR && e != EAGAIN) return -e;
    if (e == EAGAIN && addr->sa_family != AF_UNIX) return -e;
    for (;;) {
        if ((e = gort__fd_wait(pd, fd, GORT_OUT, eseq, deadline)) < 0) return e;
        eseq = gort__fd_edges(pd, GORT_OUT);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, (char *)(void *)&soerr, &sl) < 0) return -errno;
        if (soerr == 0) {
            struct sockaddr_storage ss;
            socklen_t l = sizeof ss;
            /* Spurious wake-up or really connected? */
            if (getpeername(fd, (struct sockaddr *)&ss, &l) == 0) return 0;
            if (errno != ENOTCONN) return -errno;
            continue;
        }
        return -soerr;
    }
}


int gort_close(int fd) {
    GORT__API();
    gort__pd_close(fd);
    return close(fd) == 0 ? 0 : -errno;
}

#else   /* GORT__OS_WIN */
/* Windows. Sockets (a SOCKET in the int fd: >>os-windows) go through the
   poller as on Linux: a goroutine's call is tried non-blocking (the
   socket is made non-blocking when first registered) and parks on
   WSAEWOULDBLOCK; a plain thread's waits in WSAPoll. C runtime
   descriptors (pipes, files, consoles) have no readiness on Windows:
   gort_read and gort_write make the blocking call inside
   gort_block_begin/end (the thread blocks, sysmon hands its P on), and
   their _timeout forms and gort_wait_fd return -ENOTSUP for them. A
   number that is neither is -EBADF (gort__os_crt_fd). */

static ssize_t gort__io_blocking(int write_, int fd, void *buf, size_t n) {
    int r;
    unsigned c = n > 0x7fffffffu ? 0x7fffffffu : (unsigned)n;   /* _read/_write take an unsigned count */
    if (fd < 0) return -EBADF;
    if (!buf && n > 0) return -EFAULT;   /* (the C runtime says EINVAL; the Linux kernel, EFAULT) */
    gort_block_begin();
    r = write_ ? _write(fd, buf, c) : _read(fd, buf, c);
    if (r < 0) r = -errno;
    gort_block_end();
    return r;
}
/* readv/writev on a C runtime descriptor: each buffer in turn, up to the
   first short transfer. */
static ssize_t gort__io_blocking_v(int write_, int fd, const struct iovec *iov, int cnt) {
    ssize_t total = 0, r;
    int i;
    if (cnt < 0 || cnt > 1024) return -EINVAL;
    for (i = 0; i < cnt; i++) {
        if (iov[i].iov_len == 0) continue;
        r = gort__io_blocking(write_, fd, iov[i].iov_base, iov[i].iov_len);
        if (r < 0) return total > 0 ? total : r;
        total += r;
        if ((size_t)r < iov[i].iov_len) break;
    }
    return total;
}

/* One attempt on socket fd; -errno on failure (-EAGAIN: not ready). */
static ssize_t gort__io_sock(int kind, int fd, void *buf, size_t n, int flags) {
    SOCKET s = gort__os_sock(fd);
    int c = n > 0x7fffffff ? 0x7fffffff : (int)n, r;
    if (kind == GORT__IO_READV || kind == GORT__IO_WRITEV) {
        const struct iovec *iov = (const struct iovec *)buf;
        WSABUF small[16], *wb = small;
        DWORD got = 0, fl = 0;
        int i, cnt = (int)n;
        if (cnt < 0 || cnt > 1024) return -EINVAL;
        if (cnt > 16 && !(wb = (WSABUF *)malloc((size_t)cnt * sizeof *wb))) return -ENOMEM;
        for (i = 0; i < cnt; i++) {
            if (iov[i].iov_len > 0xffffffffu) { if (wb != small) free(wb); return -EINVAL; }
            wb[i].len = (ULONG)iov[i].iov_len;
            wb[i].buf = (char *)iov[i].iov_base;
        }
        r = kind == GORT__IO_READV ? WSARecv(s, wb, (DWORD)cnt, &got, &fl, NULL, NULL)
                                   : WSASend(s, wb, (DWORD)cnt, &got, 0, NULL, NULL);
        if (r != 0) r = gort__os_wsaerr();
        if (wb != small) free(wb);
        return r == 0 ? (ssize_t)got : r;
    }
    if (kind == GORT__IO_READ || kind == GORT__IO_RECV) r = recv(s, (char *)buf, c, flags);
    else r = send(s, (const char *)buf, c, flags);
    return r == SOCKET_ERROR ? gort__os_wsaerr() : r;
}

/* A socket registered with this runtime's poller is known to be one
   without asking Winsock: getsockopt, gort__os_is_socket's question, is
   a round trip to the wineserver under Wine (87 us measured, more than
   the recv it came before). The number may have been closed behind
   gort's back (closesocket) and reused for a C runtime descriptor: the
   socket call then fails (ENOTSOCK; Wine: EOPNOTSUPP, when the handle's
   number went to the descriptor's own handle), gort__io asks Winsock,
   and on "no socket" drops the registration and looks at fd afresh. */
static int gort__io_known_socket(int fd) {
    gort__pd *pd = gort__pd_get(fd, 0);
    gort__rt *rt = gort__io_rt();
    return pd && rt && __atomic_load_n(&pd->state, __ATOMIC_ACQUIRE) == GORT__PD_ARMED &&
           __atomic_load_n(&pd->owner, __ATOMIC_RELAXED) == rt;
}

static ssize_t gort__io(int kind, int fd, void *buf, size_t n, int flags, int64_t deadline) {
    int mode = (kind == GORT__IO_READ || kind == GORT__IO_RECV || kind == GORT__IO_READV) ? GORT_IN : GORT_OUT;
    gort__pd *pd;
    int e, known;
    if (fd < 0) return -EBADF;
again:
    known = gort__io_known_socket(fd);
    if (!known && !gort__os_is_socket(fd)) {
        if (!gort__os_crt_fd(fd)) return -EBADF;
        if (kind == GORT__IO_RECV || kind == GORT__IO_SEND) return -ENOTSOCK;
        if ((kind == GORT__IO_READV || kind == GORT__IO_WRITEV) && (int)n < 0) return -EINVAL;
        if (deadline != 0) return -ENOTSUP;   /* no readiness for what is not a socket */
        if (kind == GORT__IO_READV || kind == GORT__IO_WRITEV)
            return gort__io_blocking_v(kind == GORT__IO_WRITEV, fd, (const struct iovec *)buf, (int)n);
        return gort__io_blocking(kind == GORT__IO_WRITE, fd, buf, n);
    }
    gort__register_thread();   /* a plain thread in I/O may still send: no deadlock */
    pd = gort__io_pd(fd, &e);
    if (e) return e;
    /* registered (and so non-blocking) before the first try: a blocking
       socket's call would block the thread */
    if (pd && (e = gort__pd_arm(gort__io_rt(), pd, fd, 0)) < 0) return e;
    for (;;) {
        ssize_t r;
        uint32_t eseq = gort__fd_edges(pd, mode);
        if (!pd && deadline > 0 && (e = gort__poll_wait(fd, mode, deadline)) < 0) return e;
        if (pd) {
            int sys = gort__syscall_enter(gort__getm(), 1);
            r = gort__io_sock(kind, fd, buf, n, flags);
            if (sys) gort__syscall_exit(gort__getm(), 1);
        } else {
            r = gort__io_sock(kind, fd, buf, n, flags);
        }
        if (r >= 0) return r;
        if (r == -EINTR) continue;
        if (r != -EAGAIN && known && !gort__os_is_socket(fd)) {   /* no socket now: the number was reused */
            gort__pd_close(fd);
            goto again;
        }
        if (r != -EAGAIN) return r;
        if (deadline > 0 && gort__nanotime() >= deadline) return -ETIMEDOUT;
        if ((e = gort__fd_wait(pd, fd, mode, eseq, deadline)) < 0) return e;
    }
}


static int gort__accept(int fd, struct sockaddr *addr, socklen_t *len, int64_t deadline) {
    gort__pd *pd;
    int e, known;
    if (fd < 0) return -EBADF;
    known = gort__io_known_socket(fd);   /* (as gort__io: a listener accepts many) */
    if (!known && !gort__os_is_socket(fd)) return gort__os_crt_fd(fd) ? -ENOTSOCK : -EBADF;
    gort__register_thread();
    pd = gort__io_pd(fd, &e);
    if (e) return e;
    if (pd && (e = gort__pd_arm(gort__io_rt(), pd, fd, 0)) < 0) return e;
    for (;;) {
        uint32_t eseq = gort__fd_edges(pd, GORT_IN);
        SOCKET c;
        if (!pd && deadline > 0 && (e = gort__poll_wait(fd, GORT_IN, deadline)) < 0) return e;
        if (pd) {
            int sys = gort__syscall_enter(gort__getm(), 1);
            c = accept(gort__os_sock(fd), addr, len);
            e = c == INVALID_SOCKET ? gort__os_wsaerr() : 0;
            if (sys) gort__syscall_exit(gort__getm(), 1);
        } else {
            c = accept(gort__os_sock(fd), addr, len);
            e = c == INVALID_SOCKET ? gort__os_wsaerr() : 0;
        }
        if (c != INVALID_SOCKET) {
            if ((uint64_t)c > (uint64_t)INT_MAX) { closesocket(c); return -EMFILE; }   /* does not fit an int fd */
            return (int)c;
        }
        if (e == -EINTR || e == -ECONNABORTED || e == -ECONNRESET) continue;
        if (e != -EAGAIN && known && !gort__os_is_socket(fd)) {   /* the number was reused */
            gort__pd_close(fd);
            return gort__os_crt_fd(fd) ? -ENOTSOCK : -EBADF;
        }
        if (e != -EAGAIN) return e;
        if (deadline > 0 && gort__nanotime() >= deadline) return -ETIMEDOUT;
        if ((e = gort__fd_wait(pd, fd, GORT_IN, eseq, deadline)) < 0) return e;
    }
}

/* A non-blocking connect says WSAEWOULDBLOCK; writable then means done,
   and SO_ERROR says how. */
static int gort__connect(int fd, const struct sockaddr *addr, socklen_t len, int64_t deadline) {
    int r, e, soerr = 0, sl = (int)sizeof soerr;
    gort__pd *pd;
    uint32_t eseq;
    if (fd < 0) return -EBADF;
    if (!gort__os_is_socket(fd)) return gort__os_crt_fd(fd) ? -ENOTSOCK : -EBADF;
    if (!addr) return -EFAULT;
    gort__register_thread();
    pd = gort__io_pd(fd, &e);
    if (e) return e;
    if (pd && (e = gort__pd_arm(gort__io_rt(), pd, fd, 0)) < 0) return e;
    if (!pd && (e = gort__os_sock_nonblock(fd)) < 0) return e;   /* so that the deadline holds */
    eseq = gort__fd_edges(pd, GORT_OUT);
    r = connect(gort__os_sock(fd), addr, len);
    if (r == 0) return 0;
    e = gort__os_wsaerr();
    if (e != -EAGAIN && e != -EINPROGRESS) return e;
    for (;;) {
        if ((e = gort__fd_wait(pd, fd, GORT_OUT, eseq, deadline)) < 0) return e;
        eseq = gort__fd_edges(pd, GORT_OUT);
        if (getsockopt(gort__os_sock(fd), SOL_SOCKET, SO_ERROR, (char *)(void *)&soerr, &sl) != 0)
            return gort__os_wsaerr();
        if (soerr) return -gort__os_sockerr(soerr);
        {
            struct sockaddr_storage ss;
            int l = (int)sizeof ss;
            /* spurious wake-up, or really connected? */
            if (getpeername(gort__os_sock(fd), (struct sockaddr *)&ss, &l) == 0) return 0;
            e = gort__os_wsaerr();
            if (e != -ENOTCONN) return e;
        }
        if (deadline > 0 && gort__nanotime() >= deadline) return -ETIMEDOUT;
    }
}

int gort_close(int fd) {
    int known;
    GORT__API();
    if (fd < 0) return -EBADF;
    known = gort__io_known_socket(fd);   /* (as gort__io) */
    gort__pd_close(fd);
    if (known && closesocket(gort__os_sock(fd)) == 0) return 0;
    if (gort__os_is_socket(fd)) return closesocket(gort__os_sock(fd)) == 0 ? 0 : gort__os_wsaerr();
    return _close(fd) == 0 ? 0 : -errno;
}
#endif

/* The public calls over each system's gort__io, gort__accept and
   gort__connect (above). */
ssize_t gort_read(int fd, void *buf, size_t n) { GORT__API(); return gort__io(GORT__IO_READ, fd, buf, n, 0, 0); }
ssize_t gort_write(int fd, const void *buf, size_t n) {
    GORT__API();
    return gort__io(GORT__IO_WRITE, fd, (void *)(uintptr_t)buf, n, 0, 0);
}
ssize_t gort_recv(int fd, void *buf, size_t n, int flags) { GORT__API(); return gort__io(GORT__IO_RECV, fd, buf, n, flags, 0); }
ssize_t gort_send(int fd, const void *buf, size_t n, int flags) {
    GORT__API();
    return gort__io(GORT__IO_SEND, fd, (void *)(uintptr_t)buf, n, flags, 0);
}
ssize_t gort_readv(int fd, const struct iovec *iov, int cnt) {
    GORT__API();
    return gort__io(GORT__IO_READV, fd, (void *)(uintptr_t)iov, (size_t)cnt, 0, 0);
}
ssize_t gort_writev(int fd, const struct iovec *iov, int cnt) {
    GORT__API();
    return gort__io(GORT__IO_WRITEV, fd, (void *)(uintptr_t)iov, (size_t)cnt, 0, 0);
}
ssize_t gort_read_timeout(int fd, void *buf, size_t n, int64_t timeout_ns) {
    GORT__API();
    return gort__io(GORT__IO_READ, fd, buf, n, 0, timeout_ns > 0 ? gort__deadline(timeout_ns) : gort__nanotime());
}
ssize_t gort_write_timeout(int fd, const void *buf, size_t n, int64_t timeout_ns) {
    GORT__API();
    return gort__io(GORT__IO_WRITE, fd, (void *)(uintptr_t)buf, n, 0,
                    timeout_ns > 0 ? gort__deadline(timeout_ns) : gort__nanotime());
}
ssize_t gort_write_all(int fd, const void *buf, size_t n) {
    GORT__API();
    const char *p = (const char *)buf;
    size_t done = 0;
    while (done < n) {
        ssize_t r = gort__io(GORT__IO_WRITE, fd, (void *)(uintptr_t)(p + done), n - done, 0, 0);
        if (r < 0) return r;
        done += (size_t)r;
    }
    return (ssize_t)n;
}
int gort_accept(int fd, struct sockaddr *addr, socklen_t *len) { GORT__API(); return gort__accept(fd, addr, len, 0); }
int gort_accept_timeout(int fd, struct sockaddr *addr, socklen_t *len, int64_t timeout_ns) {
    GORT__API();
    return gort__accept(fd, addr, len, timeout_ns > 0 ? gort__deadline(timeout_ns) : gort__nanotime());
}
int gort_connect(int fd, const struct sockaddr *addr, socklen_t len) { GORT__API(); return gort__connect(fd, addr, len, 0); }
int gort_connect_timeout(int fd, const struct sockaddr *addr, socklen_t len, int64_t timeout_ns) {
    GORT__API();
    return gort__connect(fd, addr, len, timeout_ns > 0 ? gort__deadline(timeout_ns) : gort__nanotime());
}

/* The syscall state: the goroutine runs a system call that may block its
   thread. The P's state word goes to SYSCALL (SYSCALL_IO for gort's own
   I/O calls) with a new ticket above the low byte; sysmon takes a P whose
   ticket has stayed for GORT__RETAKE_NS and hands it to another M, so the
   other goroutines keep running. exit takes the P back with a CAS on the
   same ticket (a stale exit cannot take back a P that moved on), or, if
   sysmon took it, finds an idle P or queues the goroutine.
   io: a gort I/O call, almost always short: it costs two stores and a CAS
   (no count in rt->nsyscall, which sysmon adds when it takes the P, and no
   wake-up for a sleeping sysmon, which looks at least every
   GORT__SYSMON_BUSY while a P runs or is in such a call). Returns 0 when
   the goroutine already is in the state (a gort call inside
   gort_block_begin/end): then the caller does not exit it. */
static int gort__syscall_enter(gort__m *m, int io) {
    gort__p *p = m->p;
    gort__rt *rt = m->rt;
    gort__g *g = m->curg;
    uint64_t st;
    GORT_ASSERT(g);
    if (io && GORT__LOAD(&g->status) != GORT__G_RUNNING) return 0;
    /* first: gort_block_begin twice is the user's misuse, named there,
       and sysmon may have taken the P since the first */
    if (!io) GORT__ADD(&rt->nsyscall, 1);   /* before the state: gort__checkdead */
    gort__setstatus(g, GORT__G_RUNNING, GORT__G_SYSCALL);
    GORT_ASSERT(p && __atomic_load_n(&p->m, __ATOMIC_RELAXED) == m);
    g->waitsince = GORT__LOAD(&rt->coarse_now);
    /* the trace's run slice ends before the P can move (>>trace) */
    if (gort__tr_on()) gort__tr_sys(m, g, 1, io ? GORT__TRE_IO : g->handed ? GORT__TRE_HANDED : GORT__TRE_BLOCK);
    /* io: release (sysmon only needs the ticket); else seq_cst, ordered
       before the sysmon_delay load below */
    st = gort__p_setstate(p, GORT__PBIT(GORT__P_RUNNING), io ? GORT__P_SYSCALL_IO : GORT__P_SYSCALL, 1,
                          io ? GORT__POK_RELEASE : GORT__POK_SEQ_CST);
    m->sys_ticket = st;
    if (io) return 1;
    /* (not from sysmon itself: Windows' hand-off runs this on sysmon while
       m's thread is suspended, and a wake-up there could wait on a lock of
       the system's that the suspended thread holds) */
    if (GORT__LOAD(&rt->sysmon_delay) > 1000000 && gort__getm() == m) gort__note_wake(&rt->sysmon_note);
    return 1;
}

static void gort__syscall_requeue(gort__g *g, void *arg) {
    gort__rt *rt = (gort__rt *)arg;
    gort__lock(&rt->lock);
    gort__globrunq_put_locked(rt, g, g, 1);
    gort__unlock(&rt->lock);
    GORT__ADD(&rt->nsyscall, (uint32_t)-1);   /* after queueing: see gort__checkdead */
    gort__wakep_fenced(rt);
}

static void gort__syscall_exit(gort__m *m, int io) {
    gort__g *g = m->curg;
    gort__rt *rt = m->rt;
    gort__p *p = m->p;
    if (GORT__LIKELY(gort__p_cas(p, m->sys_ticket, GORT__P_RUNNING))) {
        gort__setstatus(g, GORT__G_SYSCALL, GORT__G_RUNNING);
        if (!io) GORT__ADD(&rt->nsyscall, (uint32_t)-1);
        if (gort__tr_on()) gort__tr_sys(m, g, 0, GORT__TRE_BACK);
        return;
    }
    /* sysmon gave our P away (and counted us in nsyscall): any idle P will do. */
    m->p = NULL;
    p = gort__pidleget(rt, 1);
    if (p) {
        gort__acquirep(m, p);
        gort__setstatus(g, GORT__G_SYSCALL, GORT__G_RUNNING);
        GORT__ADD(&rt->nsyscall, (uint32_t)-1);
        if (gort__tr_on()) gort__tr_sys(m, g, 0, GORT__TRE_BACK);
        return;
    }
    /* None: queue the goroutine for whichever M frees up, and this M sleeps. */
    gort__setstatus(g, GORT__G_SYSCALL, GORT__G_RUNNABLE);
    g->waitstate = GORT__W_SYSCALL_RETURN;
    m->after_fn = gort__syscall_requeue; m->after_g = g; m->after_arg = rt; m->after_timer = NULL;
    gort__switch(m, g, &m->g0);
}

/* Blocking calls: the syscall state around the program's own call.
   Cheap when the call is short; a call still on at sysmon's look
   GORT__RETAKE_NS after the one that first saw it loses its P (about
   0.1 ms into the call, see >>sysmon). */
void gort_block_begin(void) {
    GORT__API();
    gort__m *m = gort__getm();
    if (!m || !m->curg) return;
    gort__syscall_enter(m, 0);
}

void gort_block_end(void) {
    GORT__API();
    gort__m *m = gort__getm();
    if (!m || !m->curg) return;
    gort__syscall_exit(m, 0);
}

/* ---------------------------------------------------------------- >>toolbox
   Timers, contexts, the semaphore and the group: Go's time, context and
   x/sync, built on the channels, the timer heaps and select.

   gort_timer. One object for the three kinds: a timer (one value on its
   channel), a ticker (a value every period; a receiver that is behind
   finds at most one, as in Go, the others are dropped) and a delayed call
   (a goroutine that runs fn). Its heap entry (>>timer) is armed in the
   heap of the caller's P. Stop and reset have Go 1.23's semantics: under
   the timer's lock they bump its generation, take the entry out of its
   heap and empty the channel; a fire runs under the same lock and does
   nothing unless its generation is current. So after stop or reset
   returns, no value from before it is ever received: it was either taken
   before (the receive happened first) or it is gone. The channel has a
   buffer of one, which holds the value of a fire that nobody waited for
   (gort_chan_cap says 1; Go's says 0).
   Lifetime: t.refs counts the owner (until gort_timer_free), the heap
   entry and each fire running (a one-shot fire takes over its entry's
   reference, the runner adds one for a ticker's); whoever drops the last
   one frees the object, and drops it only after its last use of the
   timer's lock, so a fire that an M took out of the heap just before
   gort_timer_free never touches freed memory, nor does the unlock that
   lets gort_timer_free in. gort_after is a timer whose channel is the
   handle: gort_chan_free on it frees the timer too, armed or not. */
enum { GORT__TM_TIMER = 0, GORT__TM_TICKER, GORT__TM_FUNC, GORT__TM_AFTER };

struct gort_timer {
    gort__timer t;            /* the heap entry; t.seq is the generation it was armed with */
    uint32_t    lock;         /* guards the fields below and the arming of t */
    int         kind;
    int         armed;        /* a fire of the current generation is due */
    int         freed;        /* the owner let go (checks double frees) */
    uint64_t    gen;
    int64_t     period;       /* tickers */
    gort_chan  *c;            /* timers and tickers; NULL for a delayed call */
    void      (*fn)(void *);  /* delayed call */
    void       *arg;
};

static void gort__tm_fire(gort__g *g, uint64_t seq, void *arg);
static void gort__tm_tick(gort__g *g, uint64_t seq, void *arg);

static void gort__tm_destroy(gort_timer *t);

/* Drop one reference; the last frees t. Never with t->lock held. */
static void gort__tm_unref(gort_timer *t) {
    if (__atomic_sub_fetch(&t->t.refs, 1, __ATOMIC_ACQ_REL) == 0) gort__tm_destroy(t);
}

/* Put an object's timer entry in the heap of the caller's P, or P 0
   from a plain thread, which also makes sure some M will look. */
static void gort__timer_add_here(gort__rt *rt, gort__timer *e) {
    gort__m *m = gort__getm();
    int ours = m && m->rt == rt;
    gort__timer_add(rt, ours ? m->p : NULL, e);
    if (ours && m->curg) gort__progress(m->p);   /* not a hog */
    if (!ours && !__atomic_load_n(&rt->polling, __ATOMIC_SEQ_CST)) gort__wakep(rt);
}

/* Arm t to fire at when (t->lock held). */
static void gort__tm_arm(gort__rt *rt, gort_timer *t, int64_t when) {
    GORT_ASSERT(GORT__HELD(&t->lock) && __atomic_load_n(&t->t.p, __ATOMIC_RELAXED) == NULL);
    t->t.when = when;
    t->t.fn = t->kind == GORT__TM_TICKER ? gort__tm_tick : gort__tm_fire;
    t->t.period = t->kind == GORT__TM_TICKER ? t->period : 0;
    t->t.arg = t;
    t->t.seq = t->gen;
    t->armed = 1;
    __atomic_add_fetch(&t->t.refs, 1, __ATOMIC_RELAXED);   /* the entry's */
    gort__timer_add_here(rt, &t->t);
}

/* Disarm t (t->lock held): 1 if a fire was due or a value was waiting
   in the channel (Go's "Stop returns true"). */
static int gort__tm_disarm(gort_timer *t) {
    int pending = t->armed;
    gort__m *m = gort__getm();
    GORT_ASSERT(GORT__HELD(&t->lock));
    if (m && m->curg) gort__progress(m->p);   /* a loop of stops is not a hog */
    t->armed = 0;
    t->gen++;
    if (gort__timer_del(&t->t)) {   /* the entry's reference: the caller still holds one */
        uint32_t left = __atomic_sub_fetch(&t->t.refs, 1, __ATOMIC_ACQ_REL);
        GORT_ASSERT(left > 0);
    }
    if (t->c) {
        int64_t stale;
        if (gort_chan_try_recv(t->c, &stale) == 1) pending = 1;
    }
    return pending;
}

static void gort__tm_destroy(gort_timer *t) {
    if (t->c) gort__chan_unref(t->c);
    free(t);
}

/* The delayed call's goroutine: fn runs in it, so it may block. */
static void gort__tm_func_main(void *arg) {
    gort_timer *t = (gort_timer *)arg;
    void (*fn)(void *) = t->fn;
    void *fa = t->arg;
    gort__tm_unref(t);   /* fn and arg read: the goroutine's reference */
    fn(fa);
}

static void gort__tm_fire(gort__g *g, uint64_t seq, void *arg) {
    gort_timer *t = (gort_timer *)arg;
    gort__m *m = gort__getm();
    (void)g;
    gort__lock(&t->lock);
    if (seq == t->gen && t->armed) {
        int64_t now = gort__nanotime();
        GORT_ASSERT(t->kind != GORT__TM_TICKER);   /* tickers fire through gort__tm_tick */
        switch (t->kind) {
        case GORT__TM_FUNC:
            /* the goroutine holds a reference until it has read fn and arg */
            t->armed = 0;
            __atomic_add_fetch(&t->t.refs, 1, __ATOMIC_RELAXED);
            if (gort__newproc(m->rt, gort__tm_func_main, t, NULL) != 0) {
                /* no stack now: try again in a millisecond (this fire's
                   reference keeps t, so the count stays above 0) */
                __atomic_sub_fetch(&t->t.refs, 1, __ATOMIC_RELAXED);
                gort__tm_arm(m->rt, t, now + 1000000);
            }
            break;
        default:
            t->armed = 0;
            gort_chan_try_send(t->c, &now);   /* the buffer is empty: stop and reset drain it */
            break;
        }
    }
    gort__unlock(&t->lock);
    gort__tm_unref(t);   /* the fire's: its entry's, taken over */
}

/* A ticker's fire. The runner has already moved its heap entry to the
   next time on its grid (in place, >>timer) and added a reference for
   this fire; a fire of an older generation (a stop or reset came in
   between) sends nothing. */
static void gort__tm_tick(gort__g *g, uint64_t seq, void *arg) {
    gort_timer *t = (gort_timer *)arg;
    (void)g;
    gort__lock(&t->lock);
    GORT_ASSERT(t->kind == GORT__TM_TICKER);
    /* full: the receiver is behind, and the tick is dropped (read first:
       a ticker that nobody keeps up with skips the clock read too) */
    if (seq == t->gen && t->armed && !gort__chan_full(t->c)) {
        int64_t now = gort__nanotime();
        gort_chan_try_send(t->c, &now);
    }
    gort__unlock(&t->lock);
    gort__tm_unref(t);   /* the fire's */
}

/* gort_stop with t armed: the heap goes away, and t with it if its
   owner already let go. */
static void gort__tm_drop(gort_timer *t) {
    gort__lock(&t->lock);
    __atomic_store_n(&t->t.p, (gort__p *)NULL, __ATOMIC_RELAXED);
    t->armed = 0;
    gort__unlock(&t->lock);
    gort__tm_unref(t);   /* the entry's */
}

static gort__rt *gort__tm_rt(const char *call) {
    gort__rt *rt = gort__cur_rt();
    if (!rt || GORT__LOAD(&rt->stopping)) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s: no runtime is running; start one with gort_run() or gort_start() first", call);
        gort__misuse(msg);
        return NULL;
    }
    return rt;
}

static gort_timer *gort__tm_make(const char *call, int kind, int64_t ns, int64_t period,
                                 void (*fn)(void *), void *arg) {
    gort__rt *rt = gort__tm_rt(call);
    gort_timer *t;
    if (!rt) return NULL;
    t = (gort_timer *)gort__calloc(1, sizeof *t);
    if (!t) return NULL;
    t->kind = kind;
    t->period = period;
    t->fn = fn;
    t->arg = arg;
    t->t.refs = 1;   /* the owner's, until gort_timer_free */
    if (kind != GORT__TM_FUNC) {
        t->c = gort_chan_make(sizeof(int64_t), 1);
        if (!t->c) { free(t); return NULL; }
        t->c->timer = t;
    }
    gort__lock(&t->lock);
    gort__tm_arm(rt, t, gort__deadline(ns));
    gort__unlock(&t->lock);
    return t;
}

gort_timer *gort_timer_make(int64_t ns) {
    GORT__API();
    return gort__tm_make("gort_timer_make", GORT__TM_TIMER, ns, 0, NULL, NULL);
}

gort_timer *gort_ticker_make(int64_t period_ns) {
    GORT__API();
    if (period_ns <= 0) {
        gort__misuse("gort_ticker_make: the period must be positive");
        return NULL;
    }
    return gort__tm_make("gort_ticker_make", GORT__TM_TICKER, period_ns, period_ns, NULL, NULL);
}

gort_timer *gort_after_func(int64_t ns, void (*fn)(void *arg), void *arg) {
    GORT__API();
    if (!fn) {
        gort__misuse("gort_after_func: fn is NULL");
        return NULL;
    }
    return gort__tm_make("gort_after_func", GORT__TM_FUNC, ns, 0, fn, arg);
}

/* A delayed call nobody will stop: its owner lets go at once, so the
   last reference (the goroutine's, once it has read fn) frees it. */
int gort_go_after(int64_t ns, void (*fn)(void *arg), void *arg) {
    GORT__API();
    gort_timer *t;
    if (!fn) {
        gort__misuse("gort_go_after: fn is NULL");
        return -EINVAL;
    }
    if (!gort__tm_rt("gort_go_after")) return -ESRCH;
    if (!(t = gort__tm_make("gort_go_after", GORT__TM_FUNC, ns, 0, fn, arg))) return -ENOMEM;
    gort__lock(&t->lock);
    t->freed = 1;
    gort__unlock(&t->lock);
    gort__tm_unref(t);   /* the owner's */
    return 0;
}

gort_chan *gort_after(int64_t ns) {
    GORT__API();
    gort_timer *t = gort__tm_make("gort_after", GORT__TM_AFTER, ns, 0, NULL, NULL);
    return t ? t->c : NULL;
}

gort_chan *gort_timer_chan(gort_timer *t) { return t ? t->c : NULL; }

/* gort_chan_free of a timer's channel: gort_after's frees its timer (armed
   or not); a gort_timer's channel is freed with the timer. */
static int gort__chan_free_timer(gort_chan *c) {
    if (c->timer->kind != GORT__TM_AFTER) {
        gort__misuse("gort_chan_free: this channel belongs to a gort_timer; free the timer with gort_timer_free");
        return -EINVAL;
    }
    return gort_timer_free(c->timer);
}

int gort_timer_stop(gort_timer *t) {
    GORT__API();
    int pending;
    if (!t) return -EINVAL;
    gort__lock(&t->lock);
    pending = gort__tm_disarm(t);
    gort__unlock(&t->lock);
    return pending;
}

static int gort__tm_reset(gort_timer *t, int64_t ns, int64_t period, const char *call) {
    gort__rt *rt;
    int pending;
    if (!t) return -EINVAL;
    if (!(rt = gort__tm_rt(call))) return -ESRCH;
    gort__lock(&t->lock);
    pending = gort__tm_disarm(t);
    if (period > 0) t->period = period;
    gort__tm_arm(rt, t, gort__deadline(ns));
    gort__unlock(&t->lock);
    return pending;
}

int gort_timer_reset(gort_timer *t, int64_t ns) {
    GORT__API();
    if (t && t->kind == GORT__TM_TICKER) return gort__tm_reset(t, t->period, 0, "gort_timer_reset");
    return gort__tm_reset(t, ns, 0, "gort_timer_reset");
}

int gort_ticker_reset(gort_timer *t, int64_t period_ns) {
    GORT__API();
    if (t && t->kind != GORT__TM_TICKER) {
        gort__misuse("gort_ticker_reset: not a ticker (use gort_timer_reset)");
        return -EINVAL;
    }
    if (period_ns <= 0) {
        gort__misuse("gort_ticker_reset: the period must be positive");
        return -EINVAL;
    }
    return gort__tm_reset(t, period_ns, period_ns, "gort_ticker_reset");
}

int gort_timer_free(gort_timer *t) {
    GORT__API();
    int busy = 0;
    if (!t) return 0;
    gort__lock(&t->lock);
    if (t->c) {
        gort__lock(&t->c->lock);
        busy = !gort__wq_empty(&t->c->recvq) || !gort__wq_empty(&t->c->sendq);
        gort__unlock(&t->c->lock);
    }
    if (busy) {
        gort__unlock(&t->lock);
        gort__misuse("gort_timer_free: goroutines or threads are still blocked on its channel; stop it and let them leave first");
        return -EBUSY;
    }
    gort__tm_disarm(t);
    GORT_ASSERT(!t->freed);   /* freed twice */
    t->freed = 1;
    gort__unlock(&t->lock);
    gort__tm_unref(t);   /* the owner's: the last one unless a fire runs */
    return 0;
}

/* gort_ctx. A tree: each node holds a reference on its parent, and a
   cancellable node is linked into the children list of its nearest
   cancellable ancestor (value nodes only carry a key and a value; they
   share the cancellation of the node above them). Cancelling a node sets
   its err under its lock, takes its children list and closes its done
   channel, then does the same for each child, with the children lists as
   the work list (no recursion: a deep chain does not grow the stack).
   So a cancel reaches every descendant once, in time linear in their
   number, and a child created under a cancelled parent starts cancelled.
   A child whose last reference goes unlinks itself from that list; a
   cancel racing with it skips a child whose count already reached 0.
   A deadline is a timer entry in the node; the armed entry holds a
   reference, given back by whoever disarms it (the cancel that takes it
   out of the heap, or the fire). */
enum { GORT__CTX_BACKGROUND = 0, GORT__CTX_CANCEL, GORT__CTX_VALUE };

struct gort_ctx {
    uint32_t    lock;       /* guards err, kids, the kid links of the children, tarmed */
    uint32_t    refs;       /* atomic */
    int         err;        /* atomic read; 0 until cancelled */
    int         kind;
    gort_ctx   *parent;     /* referenced; NULL for the background */
    gort_ctx   *owner;      /* the cancellable node whose err and done this one
                               has (itself, or for a value node the one above) */
    gort_ctx   *kids;       /* children linked here (this node's lock) */
    gort_ctx   *knext, *kprev;   /* links in owner-of-parent's kids (its lock) */
    int         linked;     /* in that list (its lock) */
    gort_chan  *done;       /* closed at cancel */
    int64_t     deadline;   /* INT64_MAX: none */
    gort__timer t;          /* the deadline's heap entry */
    int         tarmed;     /* t is armed and holds a reference (lock) */
    const void *key;        /* value nodes */
    void       *value;
};

static gort_ctx gort__ctx_bg = { 0, 1, 0, GORT__CTX_BACKGROUND, NULL, &gort__ctx_bg, NULL,
                                 NULL, NULL, 0, NULL, INT64_MAX,
                                 { 0, NULL, NULL, 0, NULL, NULL, 0, NULL, 0, 0 }, 0, NULL, NULL };

gort_ctx *gort_ctx_background(void) { return &gort__ctx_bg; }

static gort_ctx *gort__ctx(gort_ctx *c) { return c ? c : &gort__ctx_bg; }

static void gort__ctx_progress(void) {
    gort__m *m = gort__getm();
    if (m && m->curg) gort__progress(m->p);   /* a loop of these is not a hog */
}

gort_ctx *gort_ctx_retain(gort_ctx *ctx) {
    ctx = gort__ctx(ctx);
    if (ctx->kind != GORT__CTX_BACKGROUND) {
        uint32_t n = GORT__ADD(&ctx->refs, 1);
        GORT_ASSERT(n > 1);   /* the caller had a reference */
    }
    return ctx;
}

/* A reference for a cancel's work list, unless the last one is gone. */
static int gort__ctx_try_retain(gort_ctx *c) {
    uint32_t n = __atomic_load_n(&c->refs, __ATOMIC_RELAXED);
    while (n > 0)
        if (__atomic_compare_exchange_n(&c->refs, &n, n + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) return 1;
    return 0;
}

/* Take c out of its parent's children list (as Go's cancel does: a
   long-lived parent does not collect cancelled or released children). */
static void gort__ctx_unlink(gort_ctx *c) {
    gort_ctx *a = c->parent ? c->parent->owner : NULL;
    if (!a || a->kind == GORT__CTX_BACKGROUND) return;
    /* Once out, never back in: a 0 read without the lock is final (a
       parent's cancel takes out every child at once, and then they all
       come here). */
    if (!__atomic_load_n(&c->linked, __ATOMIC_ACQUIRE)) return;
    gort__lock(&a->lock);
    if (c->linked) {
        if (c->kprev) c->kprev->knext = c->knext; else a->kids = c->knext;
        if (c->knext) c->knext->kprev = c->kprev;
        __atomic_store_n(&c->linked, 0, __ATOMIC_RELEASE);
    }
    gort__unlock(&a->lock);
}

void gort_ctx_release(gort_ctx *ctx) {
    GORT__API();
    gort_ctx *c = ctx;
    gort__ctx_progress();
    while (c && c->kind != GORT__CTX_BACKGROUND) {
        gort_ctx *parent = c->parent;
        uint32_t left = GORT__ADD(&c->refs, (uint32_t)-1);
        GORT_ASSERT(left != (uint32_t)-1);   /* released more often than retained */
        if (left) return;
        /* Last reference: an armed deadline holds one, so none is armed. */
        GORT_ASSERT(!c->tarmed);
        if (c->kind == GORT__CTX_CANCEL) gort__ctx_unlink(c);
        if (c->done && gort_chan_free(c->done) != 0) {
            /* gort_chan_free said why: someone still waits on done. The
               channel stays (leaked) rather than freed under them. */
        }
        free(c);
        c = parent;
    }
}

/* Mark c cancelled with err and detach its children (c->lock held).
   Returns them, each with a reference taken, linked through knext; *tmr
   says whether the deadline's entry was armed. 0 if c was already done. */
static int gort__ctx_mark(gort_ctx *c, int err, gort_ctx **kids, int *tmr) {
    gort_ctx *k, *next, *out = NULL;
    GORT_ASSERT(GORT__HELD(&c->lock) && c->kind == GORT__CTX_CANCEL && err < 0);
    *kids = NULL; *tmr = 0;
    if (c->err) return 0;
    __atomic_store_n(&c->err, err, __ATOMIC_RELEASE);
    for (k = c->kids; k; k = next) {
        next = k->knext;
        __atomic_store_n(&k->linked, 0, __ATOMIC_RELEASE);
        k->kprev = NULL;
        if (gort__ctx_try_retain(k)) { k->knext = out; out = k; }
    }
    c->kids = NULL;
    *kids = out;
    *tmr = c->tarmed;
    c->tarmed = 0;
    return 1;
}

/* Cancel c and every descendant with err. The caller holds a reference
   on c; the children's references are given back here. */
static void gort__ctx_cancel(gort_ctx *c, int err) {
    gort_ctx *work = NULL, *kids, *k;
    int tmr, first = 1;
    gort__ctx_unlink(c);
    while (c) {
        gort__lock(&c->lock);
        if (gort__ctx_mark(c, err, &kids, &tmr)) {
            gort__unlock(&c->lock);
            while (kids) { k = kids; kids = k->knext; k->knext = work; work = k; }
            if (tmr && gort__timer_del(&c->t)) gort_ctx_release(c);   /* the entry's reference: c keeps ours */
            gort_chan_close(c->done);
        } else {
            gort__unlock(&c->lock);
        }
        if (!first) gort_ctx_release(c);
        first = 0;
        c = work;
        if (c) work = c->knext;
        gort__ctx_progress();   /* a big tree is work, not a hog */
    }
}

static void gort__ctx_fire(gort__g *g, uint64_t seq, void *arg) {
    gort_ctx *c = (gort_ctx *)arg;
    int mine;
    (void)g; (void)seq;
    gort__lock(&c->lock);
    mine = c->tarmed;
    c->tarmed = 0;
    gort__unlock(&c->lock);
    if (mine) gort__ctx_cancel(c, -ETIMEDOUT);
    gort_ctx_release(c);   /* the entry's reference */
}

static void gort__ctx_drop(gort_ctx *c) {
    int mine;
    gort__lock(&c->lock);
    __atomic_store_n(&c->t.p, (gort__p *)NULL, __ATOMIC_RELAXED);
    mine = c->tarmed;
    c->tarmed = 0;
    gort__unlock(&c->lock);
    if (mine) gort_ctx_release(c);
}

static gort_ctx *gort__ctx_new(gort_ctx *parent, int kind) {
    gort_ctx *c = (gort_ctx *)gort__calloc(1, sizeof *c);
    gort__ctx_progress();
    if (!c) return NULL;
    parent = gort__ctx(parent);
    c->refs = 1;
    c->kind = kind;
    c->parent = gort_ctx_retain(parent);
    c->deadline = parent->owner->deadline;
    c->owner = kind == GORT__CTX_CANCEL ? c : parent->owner;
    return c;
}

gort_ctx *gort_ctx_with_deadline(gort_ctx *parent, int64_t deadline) {
    GORT__API();
    gort_ctx *c, *a;
    int err = 0;
    gort__rt *rt = NULL;
    if (deadline < INT64_MAX && deadline < gort__ctx(parent)->owner->deadline &&
        deadline > gort__nanotime() && !(rt = gort__tm_rt("gort_ctx_with_deadline")))
        return NULL;   /* a timer is needed, and no runtime runs one */
    c = gort__ctx_new(parent, GORT__CTX_CANCEL);
    if (!c) return NULL;
    c->done = gort_chan_make(0, 0);
    if (!c->done) { gort_ctx_release(c); return NULL; }
    a = c->parent->owner;
    if (a->kind != GORT__CTX_BACKGROUND) {
        gort__lock(&a->lock);
        err = a->err;
        if (!err) {
            c->knext = a->kids;
            if (a->kids) a->kids->kprev = c;
            a->kids = c;
            c->linked = 1;
        }
        gort__unlock(&a->lock);
    }
    if (err) {
        gort__ctx_cancel(c, err);
    } else if (deadline < c->deadline) {
        c->deadline = deadline;
        if (deadline <= gort__nanotime()) {
            gort__ctx_cancel(c, -ETIMEDOUT);
        } else {
            gort__lock(&c->lock);
            if (!c->err) {
                GORT__ADD(&c->refs, 1);   /* the entry's */
                c->tarmed = 1;
                c->t.when = deadline;
                c->t.fn = gort__ctx_fire;
                c->t.arg = c;
                gort__timer_add_here(rt, &c->t);
            }
            gort__unlock(&c->lock);
        }
    }
    return c;
}

gort_ctx *gort_ctx_with_cancel(gort_ctx *parent) {
    GORT__API();
    return gort_ctx_with_deadline(parent, INT64_MAX);
}

gort_ctx *gort_ctx_with_timeout(gort_ctx *parent, int64_t ns) {
    GORT__API();
    return gort_ctx_with_deadline(parent, ns < 0 ? gort__nanotime() : gort__deadline(ns));
}

gort_ctx *gort_ctx_with_value(gort_ctx *parent, const void *key, void *value) {
    GORT__API();
    gort_ctx *c;
    if (!key) {
        gort__misuse("gort_ctx_with_value: the key is NULL (use the address of a static object)");
        return NULL;
    }
    c = gort__ctx_new(parent, GORT__CTX_VALUE);
    if (!c) return NULL;
    c->key = key;
    c->value = value;
    return c;
}

int gort_ctx_cancel(gort_ctx *ctx) {
    GORT__API();
    if (!ctx || ctx->kind != GORT__CTX_CANCEL) {
        gort__misuse("gort_ctx_cancel: not a context made by gort_ctx_with_cancel, _deadline or _timeout");
        return -EINVAL;
    }
    gort__ctx_cancel(ctx, -ECANCELED);
    return 0;
}

int gort_ctx_free(gort_ctx *ctx) {
    GORT__API();
    if (!ctx || ctx->kind == GORT__CTX_BACKGROUND) return 0;
    if (ctx->kind == GORT__CTX_CANCEL) gort__ctx_cancel(ctx, -ECANCELED);
    gort_ctx_release(ctx);
    return 0;
}

gort_chan *gort_ctx_done(gort_ctx *ctx) { return gort__ctx(ctx)->owner->done; }
int gort_ctx_err(gort_ctx *ctx) { return __atomic_load_n(&gort__ctx(ctx)->owner->err, __ATOMIC_ACQUIRE); }
int64_t gort_ctx_deadline(gort_ctx *ctx) { return gort__ctx(ctx)->owner->deadline; }

void *gort_ctx_value(gort_ctx *ctx, const void *key) {
    gort_ctx *c;
    for (c = ctx; c; c = c->parent)
        if (c->kind == GORT__CTX_VALUE && c->key == key) return c->value;
    return NULL;
}

static void gort__timer_drop(gort__timer *t) {
    if (t->fn == gort__tm_fire || t->fn == gort__tm_tick) gort__tm_drop((gort_timer *)t->arg);
    else if (t->fn == gort__ctx_fire) gort__ctx_drop((gort_ctx *)t->arg);
}

/* The context forms of the blocking calls: the call's own case beside a
   receive on the context's done channel, in one select. The background
   context's done is NULL, a case that is never ready. A context already
   ended wins before anything else is tried, so a loop that checks
   nothing else still stops. */
#define GORT__CTX_CASES 16

int gort_select_ctx(gort_case *cases, int n, gort_ctx *ctx) {
    GORT__API();
    gort_case local[GORT__CTX_CASES + 1], *cs = local;
    gort_chan *done = gort_ctx_done(ctx);
    int r, err;
    if (n < 0 || (n > 0 && !cases)) return -EINVAL;
    if ((err = gort_ctx_err(ctx)) != 0) return err;
    if (!done) return gort_select(cases, n, -1);
    if (n >= GORT__CTX_CASES) {
        cs = (gort_case *)malloc(((size_t)n + 1) * sizeof *cs);
        if (!cs) return -ENOMEM;
    }
    if (n) memcpy(cs, cases, (size_t)n * sizeof *cs);
    memset(&cs[n], 0, sizeof cs[n]);
    cs[n].chan = done;
    cs[n].op = GORT_RECV;
    r = gort_select(cs, n + 1, -1);
    if (r >= 0 && r < n) cases[r].ok = cs[r].ok;
    if (cs != local) free(cs);
    if (r == n) return gort_ctx_err(ctx);
    return r;
}

int gort_chan_send_ctx(gort_chan *c, const void *elem, gort_ctx *ctx) {
    GORT__API();
    gort_case cs;
    int r;
    memset(&cs, 0, sizeof cs);
    cs.chan = c; cs.op = GORT_SEND; cs.elem = (void *)(uintptr_t)elem;
    r = gort_select_ctx(&cs, 1, ctx);
    if (r == 0) return cs.ok ? 0 : -EPIPE;
    return r;
}

int gort_chan_recv_ctx(gort_chan *c, void *elem, gort_ctx *ctx) {
    GORT__API();
    gort_case cs;
    int r;
    memset(&cs, 0, sizeof cs);
    cs.chan = c; cs.op = GORT_RECV; cs.elem = elem;
    r = gort_select_ctx(&cs, 1, ctx);
    if (r == 0) return cs.ok;
    return r;
}

int gort_sleep_ctx(int64_t ns, gort_ctx *ctx) {
    GORT__API();
    int64_t until = gort__deadline(ns);
    gort_chan *done = gort_ctx_done(ctx);
    int err;
    if ((err = gort_ctx_err(ctx)) != 0) return err;
    if (!done) { gort_sleep(ns); return 0; }
    for (;;) {
        int64_t left = until - gort__nanotime();
        gort_case cs;
        int r;
        if (left <= 0) return 0;
        memset(&cs, 0, sizeof cs);
        cs.chan = done; cs.op = GORT_RECV;
        r = gort_select(&cs, 1, left);
        if (r == 0) return gort_ctx_err(ctx);
        if (r == -ETIMEDOUT) return 0;
        if (r < 0) return r;
    }
}

/* Wait until fd has one of events or ctx ends. */
int gort_wait_fd_ctx(int fd, int events, gort_ctx *ctx) {
    GORT__API();
    gort_case cs[2];
    int nc = 0, r, err;
    if ((err = gort_ctx_err(ctx)) != 0) return err;
    if (!(events & (GORT_IN | GORT_OUT))) return -EINVAL;
    if (fd < 0) return -EBADF;
    r = gort_wait_fd(fd, events, 0);   /* ready now? */
    if (r != -ETIMEDOUT) return r;
    memset(cs, 0, sizeof cs);
    if (events & GORT_IN) { cs[nc].op = GORT_WAIT_IN; cs[nc].fd = fd; nc++; }
    if (events & GORT_OUT) { cs[nc].op = GORT_WAIT_OUT; cs[nc].fd = fd; nc++; }
    r = gort_select_ctx(cs, nc, ctx);
    if (r < 0) return r;
    if (!cs[r].ok) return -EBADF;   /* gort_close closed it */
    return cs[r].op == GORT_WAIT_IN ? GORT_IN : GORT_OUT;
}

ssize_t gort_read_ctx(int fd, void *buf, size_t n, gort_ctx *ctx) {
    GORT__API();
    for (;;) {
        ssize_t r;
        int w, err;
        if ((err = gort_ctx_err(ctx)) != 0) return err;
        r = gort_read_timeout(fd, buf, n, 0);
        if (r != -ETIMEDOUT) return r;
        if ((w = gort_wait_fd_ctx(fd, GORT_IN, ctx)) < 0) return w;
    }
}

ssize_t gort_write_ctx(int fd, const void *buf, size_t n, gort_ctx *ctx) {
    GORT__API();
    for (;;) {
        ssize_t r;
        int w, err;
        if ((err = gort_ctx_err(ctx)) != 0) return err;
        r = gort_write_timeout(fd, buf, n, 0);
        if (r != -ETIMEDOUT) return r;
        if ((w = gort_wait_fd_ctx(fd, GORT_OUT, ctx)) < 0) return w;
    }
}

int gort_accept_ctx(int fd, struct sockaddr *addr, socklen_t *len, gort_ctx *ctx) {
    GORT__API();
    for (;;) {
        int r, w, err;
        if ((err = gort_ctx_err(ctx)) != 0) return err;
        r = gort_accept_timeout(fd, addr, len, 0);
        if (r != -ETIMEDOUT) return r;
        if ((w = gort_wait_fd_ctx(fd, GORT_IN, ctx)) < 0) return w;
    }
}

int gort_connect_ctx(int fd, const struct sockaddr *addr, socklen_t len, gort_ctx *ctx) {
    GORT__API();
    int r, err;
    if ((err = gort_ctx_err(ctx)) != 0) return err;
    r = gort_connect_timeout(fd, addr, len, 0);
    while (r == -ETIMEDOUT) {   /* under way */
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        struct sockaddr_storage ss;
        socklen_t l = sizeof ss;
        if ((r = gort_wait_fd_ctx(fd, GORT_OUT, ctx)) < 0) return r;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, (char *)(void *)&soerr, &sl) < 0) return -errno;
        if (soerr) return -soerr;
        if (getpeername(fd, (struct sockaddr *)&ss, &l) == 0) return 0;
        if (errno != ENOTCONN) return -errno;
        r = -ETIMEDOUT;   /* woken early: not connected yet */
    }
    return r;
}

/* gort_sem: Go's weighted semaphore. Strict FIFO: a large request at the
   head of the queue is not passed by smaller ones behind it (no
   starvation), and an acquire that would fit still queues behind
   earlier waiters. A waiter owns an unbuffered channel on which the
   releaser that grants it closes; it selects on that and its context's
   done channel. If both happen at once, it gives the tokens back and
   reports the context's end, as Go's does. */
typedef struct gort__semw {
    struct gort__semw *next, *prev;
    int64_t    n;
    gort_chan *ready;   /* closed once granted */
    int        granted; /* the semaphore's lock */
} gort__semw;

int gort_sem_init(gort_sem *s, int64_t n) {
    if (!s || n < 0) return -EINVAL;
    memset(s, 0, sizeof *s);
    s->size = n;
    return 0;
}

/* Grant what fits from the head of the queue (s->lock held). */
static gort__semw *gort__sem_grant(gort_sem *s) {
    gort__semw *out = NULL, *w;
    while ((w = (gort__semw *)s->waitq.head) && s->size - s->cur >= w->n) {
        s->cur += w->n;
        s->waitq.head = w->next;
        if (w->next) w->next->prev = NULL; else s->waitq.tail = NULL;
        w->granted = 1;
        w->next = out;   /* now ours: closed after the unlock */
        out = w;
    }
    return out;
}

static void gort__sem_wake(gort__semw *list) {
    while (list) {
        gort__semw *w = list;
        gort_chan *c = w->ready;
        list = w->next;
        gort_chan_close(c);   /* w may be gone once this returns */
    }
}

int gort_sem_try_acquire(gort_sem *s, int64_t n) {
    GORT__API();
    int ok;
    if (!s || n < 0) return -EINVAL;
    gort__lock(&s->lock);
    ok = s->size - s->cur >= n && !s->waitq.head;
    if (ok) s->cur += n;
    gort__unlock(&s->lock);
    return ok;
}

int gort_sem_acquire(gort_sem *s, int64_t n, gort_ctx *ctx) {
    GORT__API();
    gort__semw w;
    int err, r;
    if (!s || n < 0) return -EINVAL;
    if (n > s->size) {
        gort__misuse("gort_sem_acquire: asks for more than the semaphore's size; it could never succeed");
        return -EINVAL;
    }
    if ((err = gort_ctx_err(ctx)) != 0) return err;
    gort__lock(&s->lock);
    if (s->size - s->cur >= n && !s->waitq.head) {
        s->cur += n;
        gort__unlock(&s->lock);
        return 0;
    }
    gort__unlock(&s->lock);
    memset(&w, 0, sizeof w);
    w.n = n;
    if (!(w.ready = gort_chan_make(0, 0))) return -ENOMEM;
    gort__lock(&s->lock);
    if (s->size - s->cur >= n && !s->waitq.head) {   /* freed meanwhile */
        s->cur += n;
        gort__unlock(&s->lock);
        gort_chan_free(w.ready);
        return 0;
    }
    w.prev = (gort__semw *)s->waitq.tail;
    if (w.prev) w.prev->next = &w; else s->waitq.head = &w;
    s->waitq.tail = &w;
    gort__unlock(&s->lock);
    r = gort_chan_recv_ctx(w.ready, NULL, ctx);
    if (r < 0) {
        gort__semw *wake = NULL;
        gort__lock(&s->lock);
        if (w.granted) {
            /* granted as the context ended: give the tokens back */
            s->cur -= n;
        } else {
            if (w.prev) w.prev->next = w.next; else s->waitq.head = w.next;
            if (w.next) w.next->prev = w.prev; else s->waitq.tail = w.prev;
        }
        wake = gort__sem_grant(s);   /* leaving the head may let others in */
        gort__unlock(&s->lock);
        gort__sem_wake(wake);
        if (w.granted) gort_chan_recv(w.ready, NULL);   /* the granter's close has happened */
    }
    gort_chan_free(w.ready);
    return r < 0 ? r : 0;
}

int gort_sem_release(gort_sem *s, int64_t n) {
    GORT__API();
    gort__semw *wake;
    if (!s || n < 0) return -EINVAL;
    gort__lock(&s->lock);
    if (n > s->cur) {
        gort__unlock(&s->lock);
        gort__misuse("gort_sem_release: releases more than is held");
        return -EINVAL;
    }
    s->cur -= n;
    wake = gort__sem_grant(s);
    gort__unlock(&s->lock);
    gort__sem_wake(wake);
    return 0;
}

/* gort_group: Go's errgroup. Each goroutine's record carries its
   function; the first non-zero result is kept and cancels the group's
   context; the limit is a semaphore. */
struct gort_group {
    gort_ctx *ctx;
    gort_wg   wg;
    gort_sem  sem;
    int       limited;
    int       err;      /* atomic: the first non-zero result */
    long      active;   /* atomic: started, not yet finished */
};

typedef struct { gort_group *g; int (*fn)(void *); void *arg; } gort__group_job;

gort_group *gort_group_make(gort_ctx *parent) {
    GORT__API();
    gort_group *g = (gort_group *)gort__calloc(1, sizeof *g);
    if (!g) return NULL;
    if (!(g->ctx = gort_ctx_with_cancel(parent))) { free(g); return NULL; }
    return g;
}

gort_ctx *gort_group_ctx(gort_group *g) { return g ? g->ctx : NULL; }

int gort_group_limit(gort_group *g, int n) {
    GORT__API();
    if (!g) return -EINVAL;
    if (GORT__LOAD(&g->active) != 0) {
        gort__misuse("gort_group_limit: goroutines of the group are still running; set the limit before starting them");
        return -EBUSY;
    }
    g->limited = n >= 0;
    gort_sem_init(&g->sem, n < 0 ? 0 : n);
    return 0;
}

static void gort__group_main(void *arg) {
    gort__group_job j = *(gort__group_job *)arg;
    int r, zero = 0;
    free(arg);
    r = j.fn(j.arg);
    if (r != 0 && __atomic_compare_exchange_n(&j.g->err, &zero, r, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        gort__ctx_cancel(j.g->ctx, -ECANCELED);
    if (j.g->limited) gort_sem_release(&j.g->sem, 1);
    GORT__ADD(&j.g->active, -1);
    gort_wg_done(&j.g->wg);
}

static int gort__group_go(gort_group *g, int (*fn)(void *), void *arg, int block) {
    gort__group_job *j;
    int r;
    if (!g || !fn) return -EINVAL;
    if (g->limited) {
        if (g->sem.size == 0) {
            gort__misuse("gort_group_go: the group's limit is 0; it admits no goroutine");
            return -EINVAL;
        }
        if (block) {
            if ((r = gort_sem_acquire(&g->sem, 1, NULL)) != 0) return r;
        } else if (gort_sem_try_acquire(&g->sem, 1) != 1) {
            return -EAGAIN;
        }
    }
    j = (gort__group_job *)gort__calloc(1, sizeof *j);
    r = -ENOMEM;
    if (j) {
        j->g = g; j->fn = fn; j->arg = arg;
        GORT__ADD(&g->active, 1);
        gort_wg_add(&g->wg, 1);
        if ((r = gort_go(gort__group_main, j)) == 0) return 0;
        gort_wg_add(&g->wg, -1);
        GORT__ADD(&g->active, -1);
        free(j);
    }
    if (g->limited) gort_sem_release(&g->sem, 1);
    return r;
}

int gort_group_go(gort_group *g, int (*fn)(void *arg), void *arg) {
    GORT__API();
    return gort__group_go(g, fn, arg, 1);
}

int gort_group_try_go(gort_group *g, int (*fn)(void *arg), void *arg) {
    GORT__API();
    return gort__group_go(g, fn, arg, 0);
}

int gort_group_wait(gort_group *g) {
    GORT__API();
    if (!g) return -EINVAL;
    gort_wg_wait(&g->wg);
    gort__ctx_cancel(g->ctx, -ECANCELED);
    return __atomic_load_n(&g->err, __ATOMIC_ACQUIRE);
}

int gort_group_free(gort_group *g) {
    GORT__API();
    if (!g) return 0;
    if (GORT__LOAD(&g->active) != 0) {
        gort__misuse("gort_group_free: goroutines of the group are still running; gort_group_wait first");
        return -EBUSY;
    }
    /* The last gort_wg_done may still be inside the wait group's lock
       (a second waiter can see zero before it is out): let it leave. */
    gort__lock(&g->wg.lock);
    gort__unlock(&g->wg.lock);
    gort_ctx_free(g->ctx);
    free(g);
    return 0;
}

/* ---------------------------------------------------------------- >>diag */
static const char *gort__wait_name(int w) {
    switch (w) {
    case GORT__W_CHAN_SEND: return "chan send";
    case GORT__W_CHAN_RECV: return "chan receive";
    case GORT__W_SELECT: return "select";
    case GORT__W_SELECT_NONE: return "select (no cases)";
    case GORT__W_SEND_NIL: return "chan send (nil chan)";
    case GORT__W_RECV_NIL: return "chan receive (nil chan)";
    case GORT__W_SLEEP: return "sleep";
    case GORT__W_MUTEX: return "mutex";
    case GORT__W_RWMUTEX: return "rwmutex";
    case GORT__W_WG: return "waitgroup";
    case GORT__W_COND: return "cond";
    case GORT__W_IO: return "io wait";
    default: return "waiting";
    }
}

/* Symbols for backtraces. A pc is looked up in the object that holds it
   (dl_iterate_phdr: the executable or a shared library, with its load
   bias), first in that object's ELF symbol table (.symtab, which names
   static functions too, then .dynsym), read from its file mapped
   read-only, then with dladdr. The frame always says which object and
   offset it is at, the form `addr2line -e object offset` turns into a file
   and line; a frame without a name shows only that. Files stay mapped
   for the life of the process (a dump is usually followed by more); a
   pc's answer is cached, so a million goroutines parked at the same few
   places cost a table lookup each. One lock (never held while writing)
   serialises it; a dump that finds it taken for long (a signal handler's
   report on the thread that holds it) prints bare addresses. */
#define GORT__SYM_FILES 16
#define GORT__SYM_CACHE 1024
typedef struct {
    uintptr_t   base;        /* load bias (dlpi_addr) */
    const char *map;         /* the file mapped, or NULL (unreadable) */
    size_t      len;
    char        path[160];
} gort__symfile;
typedef struct {
    uintptr_t pc;
    uintptr_t off;           /* pc - symbol start */
    uintptr_t modoff;        /* pc - load bias */
    short     file;          /* index in gort__sym_files, -1 none */
    char      name[90];      /* "" when no symbol covers pc */
} gort__symres;
static uint32_t gort__sym_lock;
static int gort__sym_nfiles;
static gort__symfile gort__sym_files[GORT__SYM_FILES];
static gort__symres gort__sym_cache[GORT__SYM_CACHE];

#if defined(GORT__OS_LINUX)
struct gort__sym_find { uintptr_t pc, base; const char *name; int found, is_main; };
static int gort__sym_phdr_cb(struct dl_phdr_info *info, size_t size, void *arg) {
    struct gort__sym_find *f = (struct gort__sym_find *)arg;
    int i;
    (void)size;
    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && f->pc >= lo && f->pc < lo + ph->p_memsz) {
            f->base = (uintptr_t)info->dlpi_addr;
            f->name = info->dlpi_name;
            /* the program itself: glibc names it "", musl as it was run
               ("./app"); its program headers are the kernel's AT_PHDR */
            f->is_main = (uintptr_t)info->dlpi_phdr == (uintptr_t)getauxval(AT_PHDR);
            f->found = 1;
            return 1;
        }
    }
    return 0;
}

/* The index of the object file at bias base (mapped on first use), or -1. */
static int gort__sym_file(uintptr_t base, const char *name, int is_main) {
    gort__symfile *sf;
    struct stat st;
    int i, fd;
    for (i = 0; i < gort__sym_nfiles; i++)
        if (gort__sym_files[i].base == base) return i;
    if (gort__sym_nfiles == GORT__SYM_FILES) return -1;
    sf = &gort__sym_files[gort__sym_nfiles];
    memset(sf, 0, sizeof *sf);
    sf->base = base;
    if (is_main) {
        ssize_t n = readlink("/proc/self/exe", sf->path, sizeof sf->path - 1);
        sf->path[n > 0 ? n : 0] = 0;
        fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    } else {
        snprintf(sf->path, sizeof sf->path, "%s", name);
        fd = open(name, O_RDONLY | O_CLOEXEC);
    }
    if (fd >= 0) {
        if (fstat(fd, &st) == 0 && st.st_size >= (off_t)sizeof(ElfW(Ehdr))) {
            void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (m != MAP_FAILED) { sf->map = (const char *)m; sf->len = (size_t)st.st_size; }
        }
        close(fd);
    }
    return gort__sym_nfiles++;
}

/* The function symbol of the mapped ELF file covering the file address
   a (pc - bias): .symtab first (static functions), then .dynsym. */
static int gort__sym_elf(const gort__symfile *sf, uintptr_t a, char *name, size_t n, uintptr_t *start) {
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)(const void *)sf->map;
    const ElfW(Shdr) *sh;
    int pass;
    if (!sf->map || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) ||
        eh->e_shoff == 0 || eh->e_shentsize != sizeof(ElfW(Shdr)) ||
        eh->e_shoff + (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) > sf->len)
        return 0;
    sh = (const ElfW(Shdr) *)(const void *)(sf->map + eh->e_shoff);
    for (pass = 0; pass < 2; pass++) {
        unsigned want = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM, i;
        for (i = 0; i < eh->e_shnum; i++) {
            const ElfW(Sym) *sym;
            const ElfW(Shdr) *strs;
            size_t k, cnt, best = 0;
            int have = 0;
            if (sh[i].sh_type != want || sh[i].sh_entsize != sizeof(ElfW(Sym)) || sh[i].sh_link >= eh->e_shnum ||
                sh[i].sh_offset + sh[i].sh_size > sf->len)
                continue;
            strs = &sh[sh[i].sh_link];
            if (strs->sh_offset + strs->sh_size > sf->len) continue;
            sym = (const ElfW(Sym) *)(const void *)(sf->map + sh[i].sh_offset);
            cnt = sh[i].sh_size / sizeof(ElfW(Sym));
            for (k = 0; k < cnt; k++) {
                unsigned type = ELF64_ST_TYPE(sym[k].st_info);
                if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym[k].st_shndx == SHN_UNDEF) continue;
                if (a < sym[k].st_value || a - sym[k].st_value >= (sym[k].st_size ? sym[k].st_size : 1)) continue;
                if (!have || sym[k].st_value > sym[best].st_value) { best = k; have = 1; }
            }
            if (have && sym[best].st_name < strs->sh_size) {
                const char *nm = sf->map + strs->sh_offset + sym[best].st_name;
                size_t max = strs->sh_size - sym[best].st_name;
                snprintf(name, n, "%.*s", (int)(max < n ? max : n - 1), nm);
                *start = sym[best].st_value;
                return 1;
            }
        }
    }
    return 0;
}

/* Resolve pc (an address inside the instruction wanted: a return address
   less one) into r. Sym lock held. */
static void gort__sym_lookup(uintptr_t pc, gort__symres *r) {
    struct gort__sym_find f;
    Dl_info di;
    uintptr_t start = 0;
    memset(r, 0, sizeof *r);
    r->pc = pc;
    r->file = -1;
    memset(&f, 0, sizeof f);
    f.pc = pc;
    dl_iterate_phdr(gort__sym_phdr_cb, &f);
    if (f.found) {
        r->file = (short)gort__sym_file(f.base, f.name, f.is_main);
        r->modoff = pc - f.base;
        if (r->file >= 0 && gort__sym_elf(&gort__sym_files[r->file], pc - f.base, r->name, sizeof r->name, &start)) {
            r->off = pc - f.base - start;
            return;
        }
    }
    if (dladdr((void *)pc, &di) && di.dli_sname && di.dli_saddr && (uintptr_t)di.dli_saddr <= pc) {
        snprintf(r->name, sizeof r->name, "%s", di.dli_sname);
        r->off = pc - (uintptr_t)di.dli_saddr;
    }
}
#else
/* Windows: the module that holds pc (the executable or a DLL), pc's
   offset from its base (an RVA: `addr2line -e prog.exe` wants the image
   base added), and the function from the module's COFF symbol table,
   which MinGW's linker writes unless told to strip (-s): it is not loaded
   with the image, so the file is mapped read-only, once, as on Linux.
   Functions are the symbols of type 0x20 (external or static); the one
   with the highest address at or below pc names it. */
static uint32_t gort__sym_rd32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t gort__sym_rd16(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static int gort__sym_coff(const gort__symfile *sf, uintptr_t rva, char *name, size_t n, uintptr_t *start) {
    const unsigned char *f = (const unsigned char *)sf->map, *fh, *sec, *sym, *best = NULL;
    size_t len = sf->len;
    uint32_t peoff, symoff, nsym, i, bestaddr = 0, strsz;
    uint16_t nsec, optsz;
    if (!f || len < 0x40) return 0;
    peoff = gort__sym_rd32(f + 0x3c);
    if ((size_t)peoff + 24 > len || memcmp(f + peoff, "PE\0\0", 4) != 0) return 0;
    fh = f + peoff + 4;
    nsec = gort__sym_rd16(fh + 2);
    symoff = gort__sym_rd32(fh + 8);
    nsym = gort__sym_rd32(fh + 12);
    optsz = gort__sym_rd16(fh + 16);
    sec = fh + 20 + optsz;
    if (!symoff || !nsym || (size_t)symoff + (size_t)nsym * 18 + 4 > len ||
        (size_t)(sec - f) + (size_t)nsec * 40 > len)
        return 0;
    strsz = gort__sym_rd32(f + symoff + (size_t)nsym * 18);
    if ((size_t)symoff + (size_t)nsym * 18 + strsz > len) strsz = 0;
    for (i = 0; i < nsym; i += 1u + sym[17]) {
        uint16_t secn, type;
        uint32_t addr;
        sym = f + symoff + (size_t)i * 18;
        secn = gort__sym_rd16(sym + 12);
        type = gort__sym_rd16(sym + 14);
        if ((sym[16] != 2 && sym[16] != 3) || (type & 0x30) != 0x20 || secn == 0 || secn > nsec) continue;
        addr = gort__sym_rd32(sec + (size_t)(secn - 1) * 40 + 12) + gort__sym_rd32(sym + 8);
        if (addr <= rva && addr >= bestaddr) { bestaddr = addr; best = sym; }
    }
    if (!best) return 0;
    if (gort__sym_rd32(best) == 0) {   /* a long name: in the string table */
        uint32_t off = gort__sym_rd32(best + 4);
        const char *str = (const char *)f + symoff + (size_t)nsym * 18;
        size_t k;
        if (off >= strsz) return 0;
        for (k = 0; off + k < strsz && str[off + k] && k + 1 < n; k++) name[k] = str[off + k];
        name[k] = 0;
    } else {
        size_t k;
        for (k = 0; k < 8 && best[k] && k + 1 < n; k++) name[k] = (char)best[k];
        name[k] = 0;
    }
    *start = bestaddr;
    return 1;
}
static void gort__sym_lookup(uintptr_t pc, gort__symres *r) {
    HMODULE mod = NULL;
    uintptr_t start = 0;
    int i;
    memset(r, 0, sizeof *r);
    r->pc = pc;
    r->file = -1;
    if (!GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            (LPCSTR)pc, &mod) || !mod)
        return;
    r->modoff = pc - (uintptr_t)mod;
    for (i = 0; i < gort__sym_nfiles; i++)
        if (gort__sym_files[i].base == (uintptr_t)mod) break;
    if (i == gort__sym_nfiles) {
        gort__symfile *sf;
        HANDLE fh, mh;
        if (gort__sym_nfiles == GORT__SYM_FILES) return;
        sf = &gort__sym_files[i];
        sf->base = (uintptr_t)mod;
        if (!GetModuleFileNameA(mod, sf->path, sizeof sf->path)) snprintf(sf->path, sizeof sf->path, "?");
        fh = CreateFileA(sf->path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL, OPEN_EXISTING, 0, NULL);
        if (fh != INVALID_HANDLE_VALUE) {
            LARGE_INTEGER sz;
            if (GetFileSizeEx(fh, &sz) && sz.QuadPart > 0 &&
                (mh = CreateFileMappingA(fh, NULL, PAGE_READONLY, 0, 0, NULL)) != NULL) {
                sf->map = (const char *)MapViewOfFile(mh, FILE_MAP_READ, 0, 0, 0);
                if (sf->map) sf->len = (size_t)sz.QuadPart;
                CloseHandle(mh);   /* the view keeps the mapping */
            }
            CloseHandle(fh);
        }
        gort__sym_nfiles++;
    }
    r->file = (short)i;
    if (gort__sym_coff(&gort__sym_files[i], r->modoff, r->name, sizeof r->name, &start)) r->off = r->modoff - start;
}
#endif

/* Copies pc's symbol (cached) into r; 0 when the lock stayed taken for
   about a thousand yields (r has the bare pc): another thread's lookup
   (sysmon's hog report beside a dump or a trace) ends long before; a
   holder that never lets go is this thread, interrupted inside a lookup
   by the overflow report's signal. */
static int gort__sym(uintptr_t pc, gort__symres *r) {
    uint32_t z = 0;
    gort__symres *c;
    int tries = 0;
    while (!__atomic_compare_exchange_n(&gort__sym_lock, &z, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        z = 0;
        if (++tries < 1000) { gort__os_yield(); continue; }
        memset(r, 0, sizeof *r);
        r->pc = pc;
        r->file = -1;
        return 0;
    }
    c = &gort__sym_cache[(pc >> 2) % GORT__SYM_CACHE];
    if (c->pc != pc) gort__sym_lookup(pc, c);
    *r = *c;
    __atomic_store_n(&gort__sym_lock, 0, __ATOMIC_RELEASE);
    return 1;
}

/* name for a function's own address: "name", "name+0x1c" inside one,
   "object+0x1234" without a name, the bare address without an object. */
static void gort__sym_name(uintptr_t pc, char *buf, size_t n) {
    gort__symres r;
    gort__sym(pc, &r);
    if (r.name[0] && r.off == 0) snprintf(buf, n, "%s", r.name);
    else if (r.name[0]) snprintf(buf, n, "%s+0x%llx", r.name, (unsigned long long)r.off);
    else if (r.file >= 0) snprintf(buf, n, "%s+0x%llx", gort__sym_files[r.file].path, (unsigned long long)r.modoff);
    else snprintf(buf, n, "0x%llx", (unsigned long long)pc);
}

/* The path of r's object file ("?" if none). Files are never removed. */
static const char *gort__sym_path(const gort__symres *r) {
    return r->file >= 0 ? gort__sym_files[r->file].path : "?";
}

/* A stack walked by its frame pointers: from pc and fp (the saved
   registers of a parked goroutine, or the live ones of the caller), each
   frame record is {caller's fp, return address} at fp, on x86-64 and
   AArch64 alike. Each fp must lie inside [lo, hi), aligned and above the
   last: code built without frame pointers (-O2 on x86-64 without
   -fno-omit-frame-pointer) leaves fp holding anything, and the walk then
   stops early, never outside the stack. Returns the number of pcs (return
   addresses, the first one included). */
static GORT__NO_ASAN GORT__NO_TSAN int gort__walk(uintptr_t pc, uintptr_t fp, uintptr_t lo, uintptr_t hi,
                                                  uintptr_t *pcs, int max) {
    int n = 0;
    if (pc && n < max) pcs[n++] = pc;
    while (n < max && fp >= lo && fp + 2 * sizeof(uintptr_t) <= hi && (fp & (sizeof(uintptr_t) - 1)) == 0) {
        const uintptr_t *rec = (const uintptr_t *)fp;
        uintptr_t next = rec[0], ret = rec[1];
        if (ret < 4096) break;
        pcs[n++] = ret;
        if (next <= fp) break;
        fp = next;
    }
    return n;
}

#if defined(GORT__OS_WIN)
/* Windows: a stack walked by the unwind tables every x64 function has
   (.pdata: MinGW's compilers write them whether or not frame pointers
   are kept, and gort__ctx_swap's .seh directives describe the switch),
   from a full register context, as the system's own unwinder and
   debuggers walk it. Each step's stack pointer must lie inside [lo, hi)
   (lo: the stack's committed limit, so that no read faults) and rise. */
/* Do the stack reads that unwinding one frame of fe makes stay inside
   [lo, hi)? A dump walks a parked goroutine's stack while it may resume
   (gort__dump_rt_w): a stale return address can name a function whose
   frame runs past the stack's top, and above it is the next segment's
   never-committed bottom page. The frame's extent is summed from its
   unwind codes (pushes, allocations, a machine frame, chained entries:
   the documented x64 UNWIND_INFO), from the stack pointer or, where the
   function keeps a frame register, from that register's value. */
static int gort__unwind_fits(DWORD64 base, PRUNTIME_FUNCTION fe, const CONTEXT *c, uintptr_t lo, uintptr_t hi) {
    int chain;
    uint64_t from = c->Rsp, size = 8;   /* the return address */
    for (chain = 0; chain < 8; chain++) {
        const uint8_t *ui = (const uint8_t *)(uintptr_t)(base + fe->UnwindData);
        unsigned flags = ui[0] >> 3, ncodes = ui[2], freg = ui[3] & 15, i;
        const uint16_t *code = (const uint16_t *)(const void *)(ui + 4);
        if (freg) {   /* the frame register: Rbp, ... (0..15 in CONTEXT order from Rax) */
            const DWORD64 *regs = &c->Rax;
            from = regs[freg] - (uint64_t)(ui[3] >> 4) * 16;
        }
        for (i = 0; i < ncodes; i++) {
            unsigned op = (code[i] >> 8) & 15, info = code[i] >> 12;
            switch (op) {
            case 0: size += 8; break;                                       /* UWOP_PUSH_NONVOL */
            case 1: if (info == 0) { size += (uint64_t)code[i + 1] * 8; i += 1; }   /* UWOP_ALLOC_LARGE */
                    else { size += code[i + 1] | (uint64_t)code[i + 2] << 16; i += 2; }
                    break;
            case 2: size += (uint64_t)info * 8 + 8; break;                  /* UWOP_ALLOC_SMALL */
            case 4: case 8: i += 1; break;                                  /* SAVE_NONVOL, SAVE_XMM128 */
            case 5: case 9: i += 2; break;                                  /* their _FAR forms */
            case 10: size += info ? 48 : 40; break;                         /* UWOP_PUSH_MACHFRAME */
            default: break;                                                 /* SET_FPREG, EPILOG, ... */
            }
        }
        if (!(flags & UNW_FLAG_CHAININFO)) break;
        fe = (PRUNTIME_FUNCTION)(void *)(code + ((ncodes + 1) & ~1u));
    }
    return from >= lo && from <= hi && size <= hi - from;
}

static int gort__unwind(CONTEXT *c, uintptr_t lo, uintptr_t hi, uintptr_t *pcs, int max) {
    int n = 0;
    while (n < max && c->Rip >= 4096 && c->Rsp >= lo && c->Rsp + 8 <= hi && (c->Rsp & 7) == 0) {
        DWORD64 base = 0, est[2];
        PVOID hd = NULL;
        DWORD64 sp = c->Rsp;
        PRUNTIME_FUNCTION fe = RtlLookupFunctionEntry(c->Rip, &base, NULL);
        pcs[n++] = (uintptr_t)c->Rip;
        if (fe) {
            if (!gort__unwind_fits(base, fe, c, lo, hi)) break;
            RtlVirtualUnwind(UNW_FLAG_NHANDLER, base, c->Rip, fe, c, &hd, est, NULL);
        } else {   /* a leaf: its return address on top */
            c->Rip = *(const DWORD64 *)(uintptr_t)c->Rsp;
            c->Rsp += 8;
        }
        if (c->Rsp <= sp) break;
    }
    return n;
}
/* The context a parked goroutine's frame holds (>>asm-win64), as it is
   just after its gort__ctx_swap returned. */
static GORT__NO_ASAN GORT__NO_TSAN void gort__ctx_context(const void *sp, CONTEXT *c) {
    const gort__ctx_frame *f = (const gort__ctx_frame *)sp;
    memset(c, 0, sizeof *c);
    c->ContextFlags = CONTEXT_FULL;
    c->Rip = f->ret;
    c->Rsp = (DWORD64)(uintptr_t)sp + GORT__CTX_RET + 8;
    c->Rbp = f->rbp; c->Rbx = f->rbx; c->Rsi = f->rsi; c->Rdi = f->rdi;
    c->R12 = f->r12; c->R13 = f->r13; c->R14 = f->r14; c->R15 = f->r15;
}
#endif

/* The frames a parked goroutine's saved context starts with. Read by
   dumps racily (the goroutine may resume and reuse that stack meanwhile:
   see gort__dump_rt_w), so out of the sanitizers' sight like gort__walk. */
static GORT__NO_ASAN GORT__NO_TSAN void gort__ctx_regs(const void *sp, uintptr_t *pc, uintptr_t *fp) {
    const gort__ctx_frame *f = (const gort__ctx_frame *)sp;
#if defined(GORT__ARCH_X64)
    *pc = (uintptr_t)f->ret; *fp = (uintptr_t)f->rbp;
#else
    *pc = (uintptr_t)f->x30; *fp = (uintptr_t)f->x29;
#endif
}

/* gort's own frames (the switch, the park, the entry) are left out of
   traces: a trace starts at the gort call the goroutine made. */
static int gort__sym_internal(const char *name) {
    return strncmp(name, "gort__", 6) == 0;
}

/* A dump writes to an fd that may block (a full pipe, a terminal held by
   ^S), so it never writes while holding a lock: it copies what it prints,
   a batch at a time, under the lock, and formats and writes with the lock
   released. Entries that come or go between batches may be missed or
   shown twice: a dump is a snapshot of a running system. */
#define GORT__DUMP_BATCH 16
#define GORT__DUMP_PCS   24
typedef struct {
    void   (*fn)(void *);
    uint64_t id;
    int64_t  waitsince;
    uint32_t status;
    int      waitstate, waitfd, tio, hog, npc, thread, self;
    const void *obj;         /* what it waits on (channel, mutex...), or NULL */
    int64_t  when;           /* its deadline, 0 none */
    const void *selchan[4];  /* a select's first channel cases, their ops, */
    uint8_t  selop[4];
    int      seln;           /* and how many (0: not a select) */
    uintptr_t pcs[GORT__DUMP_PCS];
} gort__dump_ent;

/* What e's goroutine or thread waits on and until when, for a parked one:
   the object for the waits that set it (channels, sync), the deadline. */
static GORT__NO_TSAN void gort__dump_wait(gort__dump_ent *e, gort__g *g) {
    e->obj = NULL;
    e->when = 0;
    e->seln = 0;
    if (e->status != GORT__G_WAITING && !e->tio) return;
    if (e->waitstate == GORT__W_SELECT) {
        int i;
        e->seln = g->seln;
        for (i = 0; i < 4; i++) { e->selchan[i] = g->selchan[i]; e->selop[i] = g->selop[i]; }
    }
    switch (e->waitstate) {
    case GORT__W_CHAN_SEND: case GORT__W_CHAN_RECV: case GORT__W_MUTEX:
    case GORT__W_RWMUTEX: case GORT__W_WG: case GORT__W_COND:
        e->obj = g->waitobj;
        break;
    default:
        break;
    }
    e->when = g->waitwhen;
}

/* Output, a buffer at a time. */
typedef struct {
    gort__out o;
    int       json, first;
    char      b[1024];
} gort__dumpw;
static void gort__dumpw_init(gort__dumpw *w, int fd, int json) {
    gort__out_init(&w->o, fd, w->b, sizeof w->b);
    w->json = json; w->first = 1;
}

/* The stack of e's goroutine or thread, while the list lock that keeps g
   from being freed is held: from its saved context if it is parked or
   runnable, from here if it is the caller; a goroutine running on another
   M has no trace (its registers are its M's). */
static GORT__NO_TSAN void gort__dump_trace(gort__dump_ent *e, gort__g *g) {
    uintptr_t pc = 0, fp = 0;
    e->npc = 0;
    e->self = 0;
    if (g->is_thread) {
#if defined(GORT__OS_WIN)
        gort__tg *t = gort__tgof(g);
        CONTEXT c;
        uintptr_t lo;
        uint32_t s1 = __atomic_load_n(&t->tctx_seq, __ATOMIC_ACQUIRE);
        if (!s1 || (s1 & 1) || !t->tstk_lo) return;
        memcpy(&c, &t->tctx, sizeof c);   /* (a seqlock's read: checked below) */
        lo = t->tctx_lo;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&t->tctx_seq, __ATOMIC_RELAXED) != s1) return;   /* it blocked again meanwhile */
        if (lo >= (uintptr_t)t->tstk_lo && lo < (uintptr_t)t->tstk_hi)
            e->npc = gort__unwind(&c, lo, (uintptr_t)t->tstk_hi, e->pcs, GORT__DUMP_PCS);
        (void)pc; (void)fp;
        return;
#endif
        fp = *(volatile uintptr_t *)&gort__tgof(g)->tfp;   /* racy by design (see gort__dump_rt_w) */
        if (fp && gort__tgof(g)->tstk_lo)
            e->npc = gort__walk(0, fp, (uintptr_t)gort__tgof(g)->tstk_lo, (uintptr_t)gort__tgof(g)->tstk_hi, e->pcs, GORT__DUMP_PCS);
        return;
    }
    if (e->status == GORT__G_RUNNING || e->status == GORT__G_SYSCALL) {
        gort__m *m = gort__getm();
        if (!m || m->curg != g) return;
        e->self = 1;
#if defined(GORT__OS_WIN)
        {
            CONTEXT c;
            uintptr_t lo;
            RtlCaptureContext(&c);
            __asm__ volatile("movq %%gs:0x10, %0" : "=r"(lo));   /* this stack's committed limit */
            e->npc = gort__unwind(&c, lo, (uintptr_t)g->stack_hi, e->pcs, GORT__DUMP_PCS);
            return;
        }
#endif
        fp = (uintptr_t)__builtin_frame_address(0);
    } else {
        void *sp = *(void *volatile *)&g->sp;
        if (!sp || (char *)sp < g->stack_lo || (char *)sp + sizeof(gort__ctx_frame) > g->stack_hi) return;
        if (g->rt && __atomic_load_n(&g->cst, __ATOMIC_ACQUIRE) >= GORT__C_COMPACTING)
            gort__uncompact(g->rt, g);   /* >>compact; the walk would fault it back anyway */
#if defined(GORT__OS_WIN)
        {
            CONTEXT c;
            /* from the frame's saved StackLimit: below it nothing is committed */
            uintptr_t lo = (uintptr_t)((const gort__ctx_frame *)sp)->tlimit;
            if (lo < (uintptr_t)g->stack_lo || lo > (uintptr_t)sp) lo = (uintptr_t)sp;
            gort__ctx_context(sp, &c);
            e->npc = gort__unwind(&c, lo, (uintptr_t)g->stack_hi, e->pcs, GORT__DUMP_PCS);
            return;
        }
#endif
        gort__ctx_regs(sp, &pc, &fp);
    }
    e->npc = gort__walk(pc, fp, (uintptr_t)g->stack_lo, (uintptr_t)g->stack_hi, e->pcs, GORT__DUMP_PCS);
}

/* One goroutine or thread. Text: a header line, then a line per frame,
   gort's own frames left out:
       goroutine 7 [chan receive, 3 ms]: worker
           gort_chan_recv+0x5e  /path/prog+0x2f3e
           worker+0x1a  /path/prog+0x1b2a
   JSON: one object, on a line of its own. */
static void gort__dump_one(gort__dumpw *w, gort__dump_ent *e, int64_t now) {
    const char *what;
    char name[128], det[256];
    int64_t waited = -1;
    int j, shown = 0;
    if (e->thread) {
        what = e->status == GORT__G_WAITING ? gort__wait_name(e->waitstate) : "io wait";
        waited = now - e->waitsince;
        snprintf(name, sizeof name, "a plain thread blocked in gort");
    } else {
        switch (e->status) {
        case GORT__G_RUNNABLE: what = "runnable"; break;
        case GORT__G_RUNNING: what = "running"; break;
        case GORT__G_SYSCALL: what = "syscall"; waited = now - e->waitsince; break;
        default: what = gort__wait_name(e->waitstate); waited = now - e->waitsince; break;
        }
        if (e->fn == gort__main_wrapper) {
            char user[112];
            gort__fn_name(e->fn, user, sizeof user);
            snprintf(name, sizeof name, "main (%s)", user);
        } else {
            gort__fn_name(e->fn, name, sizeof name);
        }
    }
    {
        /* the wait in words: "chan receive on 0x55d0c8", "io wait fd 5",
           then ", deadline in 20 ms" */
        int io = (e->status == GORT__G_WAITING && e->waitstate == GORT__W_IO) || (e->thread && e->tio);
        size_t k = (size_t)snprintf(det, sizeof det, "%s", what);
        if (e->obj && k < sizeof det) k += (size_t)snprintf(det + k, sizeof det - k, " on 0x%llx", GORT__PTR(e->obj));
        for (j = 0; j < e->seln && j < 4 && k < sizeof det; j++)
            k += (size_t)snprintf(det + k, sizeof det - k, "%s%s 0x%llx", j ? ", " : " on ",
                                  e->selop[j] == GORT_SEND ? "send" : "recv", GORT__PTR(e->selchan[j]));
        if (e->seln > 4 && k < sizeof det) k += (size_t)snprintf(det + k, sizeof det - k, " and %d more", e->seln - 4);
        if (io && k < sizeof det) k += (size_t)snprintf(det + k, sizeof det - k, " fd %d", e->waitfd);
        if (e->when && now && k < sizeof det) {
            long long ms = (long long)((e->when - now) / 1000000);
            if (ms >= 0) snprintf(det + k, sizeof det - k, ", deadline in %lld ms", ms);
            else snprintf(det + k, sizeof det - k, ", deadline passed %lld ms ago", -ms);
        }
        if (w->json) {
            gort__out_put(&w->o, "%s{\"kind\":\"%s\",\"id\":%llu,\"state\":\"%s\"", w->first ? "" : ",\n",
                         e->thread ? "thread" : "goroutine", (unsigned long long)e->id, what);
            w->first = 0;
            if (waited >= 0) gort__out_put(&w->o, ",\"wait_ms\":%lld", (long long)(waited / 1000000));
            if (io) gort__out_put(&w->o, ",\"fd\":%d", e->waitfd);
            if (e->obj) gort__out_put(&w->o, ",\"object\":\"0x%llx\"", GORT__PTR(e->obj));
            if (e->seln > 0) {
                gort__out_put(&w->o, ",\"cases\":%d,\"channels\":[", e->seln);
                for (j = 0; j < e->seln && j < 4; j++)
                    gort__out_put(&w->o, "%s{\"op\":\"%s\",\"chan\":\"0x%llx\"}", j ? "," : "",
                                 e->selop[j] == GORT_SEND ? "send" : "recv", GORT__PTR(e->selchan[j]));
                gort__out_put(&w->o, "]");
            }
            if (e->when && now) gort__out_put(&w->o, ",\"deadline_in_ms\":%lld", (long long)((e->when - now) / 1000000));
            if (e->hog) gort__out_put(&w->o, ",\"not_yielding\":true");
            if (!e->thread) {
                gort__out_put(&w->o, ",\"start\":\"");
                gort__out_jstr(&w->o, name, (size_t)-1);
                gort__out_put(&w->o, "\"");
            }
            gort__out_put(&w->o, ",\"frames\":[");
        } else if (waited >= 0) {
            gort__out_put(&w->o, "%s %llu [%s, %lld ms]: %s\n", e->thread ? "thread" : "goroutine",
                         (unsigned long long)e->id, det, (long long)(waited / 1000000), name);
        } else {
            gort__out_put(&w->o, "goroutine %llu [%s%s]: %s\n", (unsigned long long)e->id, det,
                         e->hog ? ", not yielding" : "", name);
        }
    }
    for (j = 0; j < e->npc; j++) {
        gort__symres r;
        /* a return address less one: inside the call, not after it */
        gort__sym(e->pcs[j] - 1, &r);
        if (r.name[0] && gort__sym_internal(r.name)) continue;
        if (w->json) {
            gort__out_put(&w->o, "%s{", shown ? "," : "");
            if (r.name[0]) {
                gort__out_put(&w->o, "\"fn\":\"");
                gort__out_jstr(&w->o, r.name, (size_t)-1);
                gort__out_put(&w->o, "\",\"off\":%llu,", (unsigned long long)(r.off + 1));
            }
            gort__out_put(&w->o, "\"object\":\"");
            gort__out_jstr(&w->o, gort__sym_path(&r), (size_t)-1);
            gort__out_put(&w->o, "\",\"object_off\":\"0x%llx\",\"pc\":\"0x%llx\"}", (unsigned long long)r.modoff,
                         (unsigned long long)e->pcs[j]);
        } else if (r.name[0]) {
            gort__out_put(&w->o, "    %s+0x%llx  %s+0x%llx\n", r.name, (unsigned long long)(r.off + 1), gort__sym_path(&r),
                         (unsigned long long)r.modoff);
        } else if (r.file >= 0) {
            gort__out_put(&w->o, "    %s+0x%llx\n", gort__sym_path(&r), (unsigned long long)r.modoff);
        } else {
            gort__out_put(&w->o, "    0x%llx\n", (unsigned long long)e->pcs[j]);
        }
        shown++;
    }
    if (w->json) gort__out_put(&w->o, "]}");
}

/* The overflowed goroutine's entry, from the registers of the fault (pc
   0: none), in a signal handler on its way to abort: the symbol lookup is
   not async-signal-safe, but it takes only its own lock (tried, not
   waited for) and the loader's. */
static GORT__NO_ASAN GORT__NO_TSAN void gort__overflow_trace(gort__g *g, uintptr_t pc, uintptr_t fp, const void *uc) {
    gort__dumpw w;
    gort__dump_ent e;
    memset(&e, 0, sizeof e);
    e.fn = g->fn;
    e.id = g->id;
    e.status = GORT__G_RUNNING;
#if defined(GORT__OS_WIN)
    if (uc) {   /* the exception's registers: walked by the unwind tables */
        CONTEXT c = *(const CONTEXT *)uc;
        e.npc = gort__unwind(&c, (uintptr_t)g->stack_lo, (uintptr_t)g->stack_hi, e.pcs, GORT__DUMP_PCS);
        if (e.npc > 0) e.pcs[0] += 1;   /* the faulting instruction: see below */
        pc = 0;
    }
#else
    (void)uc;
#endif
    if (pc) {
        /* the faulting instruction is not a return address: one byte on,
           so that gort__dump_one's "less one" lands on it */
        e.npc = gort__walk(pc + 1, fp, (uintptr_t)g->stack_lo, (uintptr_t)g->stack_hi, e.pcs, GORT__DUMP_PCS);
    }
    gort__dumpw_init(&w, 2, 0);
    gort__dump_one(&w, &e, 0);
    gort__out_flush(&w.o);
}

/* Plain threads blocked in a gort call: parked (a channel, a mutex, a
   sleep) or waiting for an fd. */
static GORT__NO_TSAN void gort__dump_threads(gort__dumpw *w, int64_t now) {
    gort__dump_ent ent[GORT__DUMP_BATCH];
    long skip = 0;
    for (;;) {
        gort__g *g;
        long k = 0;
        int n = 0, j;
        gort__lock(&gort__tg_lock);
        for (g = gort__tg_all; g && n < GORT__DUMP_BATCH; g = gort__tgof(g)->tlink) {
            if (k++ < skip) continue;
            ent[n].thread = 1;
            ent[n].id = g->id;
            ent[n].status = GORT__LOAD(&g->status);
            ent[n].waitstate = g->waitstate;
            ent[n].waitfd = g->waitfd;
            ent[n].waitsince = g->waitsince;
            ent[n].tio = __atomic_load_n(&gort__tgof(g)->tio, __ATOMIC_ACQUIRE);
            ent[n].hog = 0;
            ent[n].fn = NULL;
            gort__dump_wait(&ent[n], g);
            if (ent[n].status == GORT__G_WAITING || ent[n].tio) gort__dump_trace(&ent[n], g);
            n++;
        }
        gort__unlock(&gort__tg_lock);
        skip += n;
        for (j = 0; j < n; j++)
            if (ent[j].status == GORT__G_WAITING || ent[j].tio) gort__dump_one(w, &ent[j], now);
        if (n < GORT__DUMP_BATCH) return;
    }
}

/* Reads other goroutines' fields without their owners' locks: a dump is a
   snapshot of a running system, and a torn field only makes one line stale
   (a stack walked while its goroutine resumes stops early or shows a frame
   it has just left, never reads outside its stack). The stack lock keeps
   the regions' list and counts still while a batch is copied;
   stk_walkers keeps gort__stack_release from freeing a region until the
   walk is done, so the walk resumes where the last batch ended. */
static GORT__NO_TSAN void gort__dump_rt_w(gort__rt *rt, gort__dumpw *w) {
    gort__dump_ent ent[GORT__DUMP_BATCH];
    gort__region *r;
    size_t i = 0;
    int64_t now = gort__nanotime();
    if (w->json)
        gort__out_put(&w->o, "{\"goroutines\":%ld,\"procs\":%d,\"entries\":[\n", gort_goroutines(), rt->nprocs);
    else
        gort__out_put(&w->o, "gort: %ld goroutines, %d Ps\n", gort_goroutines(), rt->nprocs);
    gort__lock(&rt->stk_lock);
    r = rt->regions;
    rt->stk_walkers++;            /* no region goes while r points into the list */
    gort__unlock(&rt->stk_lock);
    while (r) {
        int cnt = 0, j;
        gort__lock(&rt->stk_lock);
        for (; r && cnt < GORT__DUMP_BATCH; r = r->next, i = 0) {
            for (; i < r->used && cnt < GORT__DUMP_BATCH; i++) {
                gort__g *g = gort__slot_g(r, i);
                uint32_t st = GORT__LOAD(&g->status);
                if (st == GORT__G_FREE || st == GORT__G_DEAD || !g->fn) continue;
                ent[cnt].thread = 0;
                ent[cnt].tio = 0;
                ent[cnt].fn = g->fn;
                ent[cnt].id = g->id;
                ent[cnt].status = st;
                ent[cnt].waitstate = g->waitstate;
                ent[cnt].waitfd = g->waitfd;
                ent[cnt].waitsince = g->waitsince;
                ent[cnt].hog = __atomic_load_n(&g->hog_reported, __ATOMIC_RELAXED);
                gort__dump_wait(&ent[cnt], g);
                gort__dump_trace(&ent[cnt], g);
                cnt++;
            }
            if (i < r->used) break;   /* batch full inside this region: resume at i */
        }
        gort__unlock(&rt->stk_lock);
        for (j = 0; j < cnt; j++) gort__dump_one(w, &ent[j], now);
    }
    gort__dump_threads(w, now);
    if (w->json) gort__out_put(&w->o, "\n]}\n");
    gort__out_flush(&w->o);
    gort__lock(&rt->stk_lock);
    rt->stk_walkers--;
    gort__unlock(&rt->stk_lock);
}

static void gort__dump_rt(gort__rt *rt, int fd, int json) {
    gort__dumpw w;
    gort__dumpw_init(&w, fd, json);
    gort__dump_rt_w(rt, &w);
}

static void gort__dump_fd(int fd, int json) {
    gort__rt *rt = gort__cur_rt();
    gort__dumpw w;
    gort__dumpw_init(&w, fd, json);
    if (rt) {
        gort__dump_rt_w(rt, &w);
        return;
    }
    if (json) gort__out_put(&w.o, "{\"goroutines\":0,\"procs\":0,\"entries\":[\n");
    else gort__out_put(&w.o, "gort: no runtime is running\n");
    gort__dump_threads(&w, gort__nanotime());
    if (json) gort__out_put(&w.o, "\n]}\n");
    gort__out_flush(&w.o);
}

void gort_dump(int fd) {
    GORT__API();
    gort__dump_fd(fd, 0);
}

void gort_dump_json(int fd) {
    GORT__API();
    gort__dump_fd(fd, 1);
}

#if defined(GORT__OS_WIN)
/* The C runtime's strerror knows errno values up to ERANGE only: the
   POSIX ones gort returns beyond those (Winsock's, as >>os-windows maps
   them, and the toolbox's) in the words Linux uses. */
static const char *gort__os_strerror(int e) {
    switch (e) {
    case ECANCELED: return "Operation canceled";
    case EPROTO: return "Protocol error";
    case ENOTSOCK: return "Socket operation on non-socket";
    case ENOTSUP: return "Operation not supported";
#if EOPNOTSUPP != ENOTSUP
    case EOPNOTSUPP: return "Operation not supported on transport endpoint";
#endif
    case ECONNREFUSED: return "Connection refused";
    case ECONNRESET: return "Connection reset by peer";
    case ECONNABORTED: return "Software caused connection abort";
    case EADDRINUSE: return "Address already in use";
    case EADDRNOTAVAIL: return "Cannot assign requested address";
    case ENETDOWN: return "Network is down";
    case ENETUNREACH: return "Network is unreachable";
    case ENETRESET: return "Network dropped connection on reset";
    case EHOSTUNREACH: return "No route to host";
    case ENOTCONN: return "Transport endpoint is not connected";
    case EISCONN: return "Transport endpoint is already connected";
    case EINPROGRESS: return "Operation now in progress";
    case EALREADY: return "Operation already in progress";
    case EMSGSIZE: return "Message too long";
    case ENOBUFS: return "No buffer space available";
    case EAFNOSUPPORT: return "Address family not supported by protocol";
    case EPROTONOSUPPORT: return "Protocol not supported";
    case EPROTOTYPE: return "Protocol wrong type for socket";
    case ENOPROTOOPT: return "Protocol not available";
    case EDESTADDRREQ: return "Destination address required";
    case EOVERFLOW: return "Value too large for defined data type";
    default: return strerror(e);
    }
}
#else
#define gort__os_strerror strerror
#endif

const char *gort_strerror(int err) {
    switch (err) {
    case 0: return "success";
    case -EINVAL: return "invalid argument";
    case -ENOMEM: return "out of memory (goroutine stacks or channel buffers could not be mapped)";
    case -EAGAIN: return "operation would block";
    case -EPIPE: return "channel closed";
    case -ETIMEDOUT: return "timed out";
    case -EDEADLK: return "all goroutines are asleep - deadlock";
    case -ESRCH: return "no runtime is running (call gort_run or gort_start first)";
    case -EBUSY: return "busy (runtime already running, or channel still has waiters)";
    case -EBADF: return "bad file descriptor (or closed by gort_close while waiting)";
    default: return err < 0 && err > -4096 ? gort__os_strerror(-err) : "not an error code";   /* -INT_MIN overflows */
    }
}

/* gdb: `info goroutines` and `goroutine N bt [full]`, loaded by gdb from
   this section of the program (see "Debugging with gdb" in the manual).
   Python, one .ascii line per line of the script; it has neither
   backslashes nor double quotes, so nothing in it needs escaping. The
   entry is one NUL-terminated string (the kind byte 4: a script given
   inline, then its name and text), written in pieces short enough for
   -Woverlength-strings; top-level asm keeps their order. */
#if defined(__ELF__) && !defined(GORT_NO_GDB_SCRIPT)
__asm__(".pushsection \".debug_gdb_scripts\", \"MS\", %progbits, 1\n"
        ".byte 4\n"
        ".ascii \"gort-gdb.py\\n\"\n"
        ".ascii \"# gort's gdb commands: info goroutines, goroutine N bt [full]\\n\"\n"
        ".ascii \"import gdb\\n\"\n"
        ".ascii \"import gdb.unwinder\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"def _consts(names):\\n\"\n"
        ".ascii \"    # {value: word} for the enumerators the program's debug info has\\n\"\n"
        ".ascii \"    out = {}\\n\"\n"
        ".ascii \"    for n, word in names:\\n\"\n"
        ".ascii \"        try:\\n\"\n"
        ".ascii \"            out[int(gdb.parse_and_eval(n))] = word\\n\"\n"
        ".ascii \"        except gdb.error:\\n\"\n"
        ".ascii \"            pass\\n\"\n"
        ".ascii \"    return out\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"def _gort_rt():\\n\"\n"
        ".ascii \"    try:\\n\"\n"
        ".ascii \"        rt = gdb.parse_and_eval('gort__the_rt')\\n\"\n"
        ".ascii \"    except gdb.error:\\n\"\n"
        ".ascii \"        return None\\n\"\n"
        ".ascii \"    if int(rt) == 0:\\n\"\n"
        ".ascii \"        return None\\n\"\n"
        ".ascii \"    return rt.dereference()\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"def _goroutines():\\n\"\n"
        ".ascii \"    rt = _gort_rt()\\n\"\n"
        ".ascii \"    if rt is None:\\n\"\n"
        ".ascii \"        return []\\n\"\n"
        ".ascii \"    gt = gdb.lookup_type('gort__g')\\n\"\n"
        ".ascii \"    gsz = (gt.sizeof + 63) & ~63\\n\"\n"
        ".ascii \"    slot = int(rt['slot_size'])\\n\"\n"
        ".popsection\n");
__asm__(".pushsection \".debug_gdb_scripts\", \"MS\", %progbits, 1\n"
        ".ascii \"    out = []\\n\"\n"
        ".ascii \"    r = rt['regions']\\n\"\n"
        ".ascii \"    while int(r) != 0:\\n\"\n"
        ".ascii \"        base = int(r['base'])\\n\"\n"
        ".ascii \"        for i in range(int(r['used'])):\\n\"\n"
        ".ascii \"            g = gdb.Value(int(r['gs']) + i * gsz).cast(gt.pointer()).dereference()\\n\"\n"
        ".ascii \"            if int(g['status']) != 0 and int(g['fn']) != 0:\\n\"\n"
        ".ascii \"                out.append(g)\\n\"\n"
        ".ascii \"        r = r['next']\\n\"\n"
        ".ascii \"    return out\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"def _arch():\\n\"\n"
        ".ascii \"    return 'a64' if 'aarch64' in gdb.selected_frame().architecture().name() else 'x64'\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"def _saved_regs(g):\\n\"\n"
        ".ascii \"    # the registers gort__ctx_swap saved, as of the return into gort__switch\\n\"\n"
        ".ascii \"    sp = int(g['sp'])\\n\"\n"
        ".ascii \"    if sp == 0:\\n\"\n"
        ".ascii \"        return None\\n\"\n"
        ".ascii \"    f = gdb.Value(sp).cast(gdb.lookup_type('gort__ctx_frame').pointer()).dereference()\\n\"\n"
        ".ascii \"    if _arch() == 'x64':\\n\"\n"
        ".ascii \"        regs = {'rip': f['ret'], 'rsp': sp + 64, 'rbp': f['rbp'], 'rbx': f['rbx'],\\n\"\n"
        ".ascii \"                'r12': f['r12'], 'r13': f['r13'], 'r14': f['r14'], 'r15': f['r15']}\\n\"\n"
        ".ascii \"    else:\\n\"\n"
        ".ascii \"        regs = {'pc': f['x30'], 'sp': sp + 0xb0, 'x29': f['x29'], 'x30': f['x30']}\\n\"\n"
        ".ascii \"        for k in range(19, 29):\\n\"\n"
        ".ascii \"            regs['x%d' % k] = f['x%d' % k]\\n\"\n"
        ".ascii \"    return dict((k, gdb.Value(int(v)).cast(gdb.lookup_type('unsigned long'))) for k, v in regs.items())\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"class _FrameId(object):\\n\"\n"
        ".popsection\n");
__asm__(".pushsection \".debug_gdb_scripts\", \"MS\", %progbits, 1\n"
        ".ascii \"    def __init__(self, sp, pc):\\n\"\n"
        ".ascii \"        self.sp = sp\\n\"\n"
        ".ascii \"        self.pc = pc\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"class _GortUnwinder(gdb.unwinder.Unwinder):\\n\"\n"
        ".ascii \"    # While a goroutine is selected, frame 0's caller is the goroutine's\\n\"\n"
        ".ascii \"    # saved context: gdb's own unwinder (DWARF CFI) goes on from there,\\n\"\n"
        ".ascii \"    # on a live process and on a core file alike.\\n\"\n"
        ".ascii \"    def __init__(self):\\n\"\n"
        ".ascii \"        super(_GortUnwinder, self).__init__('gort')\\n\"\n"
        ".ascii \"        self.regs = None\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"    def __call__(self, pf):\\n\"\n"
        ".ascii \"        if self.regs is None or pf.level() != 0:\\n\"\n"
        ".ascii \"            return None\\n\"\n"
        ".ascii \"        ui = pf.create_unwind_info(_FrameId(pf.read_register('sp'), pf.read_register('pc')))\\n\"\n"
        ".ascii \"        for k, v in self.regs.items():\\n\"\n"
        ".ascii \"            ui.add_saved_register(k, v)\\n\"\n"
        ".ascii \"        return ui\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"_unwinder = _GortUnwinder()\\n\"\n"
        ".ascii \"gdb.unwinder.register_unwinder(None, _unwinder, replace=True)\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"def _select(regs):\\n\"\n"
        ".ascii \"    _unwinder.regs = regs\\n\"\n"
        ".ascii \"    gdb.invalidate_cached_frames()\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"def _internal(name):\\n\"\n"
        ".ascii \"    return name is None or name.startswith('gort__') or name.startswith('gort.') or name.startswith('gort_')\\n\"\n"
        ".ascii \"\\n\"\n"
        ".popsection\n");
__asm__(".pushsection \".debug_gdb_scripts\", \"MS\", %progbits, 1\n"
        ".ascii \"def _where(g):\\n\"\n"
        ".ascii \"    regs = _saved_regs(g)\\n\"\n"
        ".ascii \"    if regs is None:\\n\"\n"
        ".ascii \"        return ('-', '-')\\n\"\n"
        ".ascii \"    _select(regs)\\n\"\n"
        ".ascii \"    try:\\n\"\n"
        ".ascii \"        f = gdb.newest_frame().older()\\n\"\n"
        ".ascii \"        first = f\\n\"\n"
        ".ascii \"        while f is not None and _internal(f.name()):\\n\"\n"
        ".ascii \"            f = f.older()\\n\"\n"
        ".ascii \"        if f is None:\\n\"\n"
        ".ascii \"            f = first\\n\"\n"
        ".ascii \"        sal = f.find_sal()\\n\"\n"
        ".ascii \"        loc = '%s:%d' % (sal.symtab.filename, sal.line) if sal.symtab else hex(int(f.pc()))\\n\"\n"
        ".ascii \"        return (f.name() or '?', loc)\\n\"\n"
        ".ascii \"    finally:\\n\"\n"
        ".ascii \"        _select(None)\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"def _fn_name(v):\\n\"\n"
        ".ascii \"    b = gdb.block_for_pc(int(v))\\n\"\n"
        ".ascii \"    if b is not None and b.function is not None:\\n\"\n"
        ".ascii \"        return b.function.name\\n\"\n"
        ".ascii \"    s = gdb.execute('info symbol %d' % int(v), to_string=True).split(' ')\\n\"\n"
        ".ascii \"    return s[0] if s else hex(int(v))\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"class InfoGoroutines(gdb.Command):\\n\"\n"
        ".ascii \"    '''List gort's goroutines: id, state, wait reason, start function, and\\n\"\n"
        ".ascii \"the function, file and line where a parked goroutine is.'''\\n\"\n"
        ".ascii \"    def __init__(self):\\n\"\n"
        ".ascii \"        super(InfoGoroutines, self).__init__('info goroutines', gdb.COMMAND_STACK)\\n\"\n"
        ".popsection\n");
__asm__(".pushsection \".debug_gdb_scripts\", \"MS\", %progbits, 1\n"
        ".ascii \"\\n\"\n"
        ".ascii \"    def invoke(self, arg, from_tty):\\n\"\n"
        ".ascii \"        gs = _goroutines()\\n\"\n"
        ".ascii \"        if not gs:\\n\"\n"
        ".ascii \"            print('no gort runtime (gort__the_rt is NULL)')\\n\"\n"
        ".ascii \"            return\\n\"\n"
        ".ascii \"        st = _consts([('GORT__G_RUNNABLE', 'runnable'), ('GORT__G_RUNNING', 'running'),\\n\"\n"
        ".ascii \"                      ('GORT__G_SYSCALL', 'syscall'), ('GORT__G_WAITING', 'waiting'), ('GORT__G_DEAD', 'dead')])\\n\"\n"
        ".ascii \"        ws = _consts([('GORT__W_CHAN_SEND', 'chan send'), ('GORT__W_CHAN_RECV', 'chan receive'),\\n\"\n"
        ".ascii \"                      ('GORT__W_SELECT', 'select'), ('GORT__W_SELECT_NONE', 'select (no cases)'),\\n\"\n"
        ".ascii \"                      ('GORT__W_SEND_NIL', 'send (nil chan)'), ('GORT__W_RECV_NIL', 'receive (nil chan)'),\\n\"\n"
        ".ascii \"                      ('GORT__W_SLEEP', 'sleep'), ('GORT__W_MUTEX', 'mutex'), ('GORT__W_RWMUTEX', 'rwmutex'),\\n\"\n"
        ".ascii \"                      ('GORT__W_WG', 'waitgroup'), ('GORT__W_COND', 'cond'), ('GORT__W_IO', 'io wait')])\\n\"\n"
        ".ascii \"        print('%5s  %-9s %-13s %-20s %s' % ('id', 'state', 'wait', 'start', 'where'))\\n\"\n"
        ".ascii \"        for g in gs:\\n\"\n"
        ".ascii \"            s = st.get(int(g['status']), str(int(g['status'])))\\n\"\n"
        ".ascii \"            w = ws.get(int(g['waitstate']), '-') if s == 'waiting' else '-'\\n\"\n"
        ".ascii \"            fn, loc = _where(g) if s in ('waiting', 'runnable') else ('-', '(on its thread: info threads)')\\n\"\n"
        ".ascii \"            start = _fn_name(g['fn'])\\n\"\n"
        ".ascii \"            if start == 'gort__main_wrapper':\\n\"\n"
        ".ascii \"                try:\\n\"\n"
        ".ascii \"                    start = 'main (%s)' % _fn_name(gdb.parse_and_eval('gort__main_args.fn'))\\n\"\n"
        ".ascii \"                except gdb.error:\\n\"\n"
        ".ascii \"                    start = 'main'\\n\"\n"
        ".ascii \"            print('%5d  %-9s %-13s %-20s %s %s' % (int(g['id']), s, w, start, fn, loc))\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"class Goroutine(gdb.Command):\\n\"\n"
        ".ascii \"    '''goroutine N bt [full]: the backtrace of goroutine N (from its saved\\n\"\n"
        ".ascii \"registers, through gdb's unwinder: files, lines and, with full, locals).'''\\n\"\n"
        ".ascii \"    def __init__(self):\\n\"\n"
        ".popsection\n");
__asm__(".pushsection \".debug_gdb_scripts\", \"MS\", %progbits, 1\n"
        ".ascii \"        super(Goroutine, self).__init__('goroutine', gdb.COMMAND_STACK)\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"    def invoke(self, arg, from_tty):\\n\"\n"
        ".ascii \"        a = arg.split()\\n\"\n"
        ".ascii \"        if len(a) < 2 or a[1] != 'bt':\\n\"\n"
        ".ascii \"            raise gdb.GdbError('usage: goroutine N bt [full]')\\n\"\n"
        ".ascii \"        want = int(a[0])\\n\"\n"
        ".ascii \"        for g in _goroutines():\\n\"\n"
        ".ascii \"            if int(g['id']) == want:\\n\"\n"
        ".ascii \"                break\\n\"\n"
        ".ascii \"        else:\\n\"\n"
        ".ascii \"            raise gdb.GdbError('no goroutine %d' % want)\\n\"\n"
        ".ascii \"        regs = _saved_regs(g)\\n\"\n"
        ".ascii \"        if regs is None:\\n\"\n"
        ".ascii \"            raise gdb.GdbError('goroutine %d is running: its frames are on its thread (info threads)' % want)\\n\"\n"
        ".ascii \"        _select(regs)\\n\"\n"
        ".ascii \"        try:\\n\"\n"
        ".ascii \"            text = gdb.execute('bt full' if len(a) > 2 and a[2] == 'full' else 'bt', to_string=True)\\n\"\n"
        ".ascii \"        finally:\\n\"\n"
        ".ascii \"            _select(None)\\n\"\n"
        ".ascii \"        # frame 0 is the selected thread's own; the goroutine's start at 1\\n\"\n"
        ".ascii \"        n = -1\\n\"\n"
        ".ascii \"        end = False\\n\"\n"
        ".ascii \"        for line in text.splitlines():\\n\"\n"
        ".ascii \"            if line.startswith('#'):\\n\"\n"
        ".ascii \"                n += 1\\n\"\n"
        ".ascii \"                if n == 0 or end:\\n\"\n"
        ".ascii \"                    continue\\n\"\n"
        ".ascii \"                end = 'ctx_entry' in line\\n\"\n"
        ".ascii \"                line = '#%-3d' % (n - 1) + line.split(' ', 1)[1].lstrip()\\n\"\n"
        ".popsection\n");
__asm__(".pushsection \".debug_gdb_scripts\", \"MS\", %progbits, 1\n"
        ".ascii \"                print(line)\\n\"\n"
        ".ascii \"            elif n >= 1 and not end:\\n\"\n"
        ".ascii \"                print(line)\\n\"\n"
        ".ascii \"\\n\"\n"
        ".ascii \"InfoGoroutines()\\n\"\n"
        ".ascii \"Goroutine()\\n\"\n"
        ".byte 0\n"
        ".popsection\n");
#endif

#endif /* GORT_IMPLEMENTATION */

/* ---------------------------------------------------------------- >>license
MIT License

Copyright (c) 2026 the gort authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
*/
