/* test_stack.c - goroutine stacks (>>stack).

   - a goroutine can use 4 MiB of an 8 MiB stack (opts.stack_size and
     $GORT_STACK_SIZE=8m), 96 KiB of the default 128 KiB, and 32 KiB of
     a 64 KiB stack; frames deep in the recursion keep their contents;
   - memory is given back: after 64 goroutines each used 1 MiB of stack
     and exited, VmRSS falls back to near where it was, also when what the
     frames held was zeros (skipped under Valgrind and the sanitizers,
     whose shadow memory is never returned);
   - overflow: in a child process a goroutine recursing without bound
     prints a line with "stack overflow" and "goroutine", and a trace
     whose first frame names the recursing function, and aborts,
     with the default guard and with guard=mprotect (environment and
     opts.debug), in the main goroutine and in another one;
   - a 300 KiB local array on a 128 KiB stack is reported as an overflow
     too (the matrix builds with -fstack-clash-protection), also when the
     frame sleeps; test_stack_noclash.c builds that case without the flag;
   - a SIGSEGV that is not a stack overflow still reaches the program's
     own handler (installed before gort_run), with the faulting address,
     and the program goes on after the handler fixed the fault; with no
     handler such a fault kills the process with SIGSEGV and no overflow
     message;
   - stack_size 1 byte is rounded up or rejected (-EINVAL), SIZE_MAX is
     rejected.
   On Windows the children are this program run again (util_spawn), a
   fault that is not an overflow ends the child with the access
   violation's code, and the program's own handler is test_platform's
   (a vectored one): the SIGSEGV handler case is Linux's (said in a note).
   C99 + POSIX (fork, sigaction, mmap). */
#define _GNU_SOURCE
// gort-test: windows
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#define NOINLINE   __attribute__((noinline))
#define WATCHDOG_S 900
#define SEC        1000000000LL
#define KiB        1024L
#define MiB        (1024L * 1024L)


/* ------------------------------------------------------------------ */
/* Using the stack                                                     */

/* Frames of a known size. A local array whose address never escapes may
   be shrunk to the elements used (clang -O2 does that even to a volatile
   one), so each frame's buffer goes through fill() and count_bad(), which
   the compiler cannot see into: the whole array must exist. fill() writes
   every 16th byte, so every page of the frame is dirtied; with zero set
   the bytes written are 0 (a zero-initialised local array). */
static int frames_zero;   /* write zeros instead of a pattern */

static NOINLINE void fill(unsigned char *b, size_t n, unsigned seed)
{
    size_t i;
    for (i = 0; i < n; i += 16)
        b[i] = frames_zero ? 0 : (unsigned char)((seed + i) | 1);
    b[n - 1] = frames_zero ? 0 : (unsigned char)(seed | 1);
    __asm__ volatile("" : : "r"(b) : "memory");
}

static NOINLINE long count_bad(const unsigned char *b, size_t n, unsigned seed)
{
    size_t i;
    long bad = 0;
    __asm__ volatile("" : : "r"(b) : "memory");
    for (i = 0; i < n; i += 16)
        bad += b[i] != (frames_zero ? 0 : (unsigned char)((seed + i) | 1));
    bad += b[n - 1] != (frames_zero ? 0 : (unsigned char)(seed | 1));
    return bad;
}

/* `frames` frames of about 1 KiB, each checked after the deeper ones
   returned; at the bottom at_bottom() (if set) runs. Returns the number
   of bad bytes. */
static void (*at_bottom)(void);

static NOINLINE long use_stack(long depth, long frames)
{
    unsigned char buf[1024];
    long bad = 0;
    fill(buf, sizeof buf, (unsigned)depth * 7);
    if (depth + 1 < frames)
        bad += use_stack(depth + 1, frames);
    else if (at_bottom)
        at_bottom();
    return bad + count_bad(buf, sizeof buf, (unsigned)depth * 7);
}

/* 4 KiB frames: fewer calls for the big stacks */
static NOINLINE long use_stack4k(long depth, long frames)
{
    unsigned char buf[4096];
    long bad = 0;
    fill(buf, sizeof buf, (unsigned)depth * 3);
    if (depth + 1 < frames)
        bad += use_stack4k(depth + 1, frames);
    return bad + count_bad(buf, sizeof buf, (unsigned)depth * 3);
}

struct use_job {
    long      bytes;   /* stack to use, in KiB frames */
    int       big;     /* 4 KiB frames */
    long      bad;
    long      done;
    gort_wg  *wg;
};

static void use_job_main(void *arg)
{
    struct use_job *j = (struct use_job *)arg;
    if (j->big)
        j->bad = use_stack4k(0, j->bytes / (4 * KiB));
    else
        j->bad = use_stack(0, j->bytes / KiB);
    STORE(&j->done, 1);
    if (j->wg)
        gort_wg_done(j->wg);
}

/* Runs a goroutine using `bytes` of stack (and the main goroutine too). */
static void use_main(void *arg)
{
    struct use_job *j = (struct use_job *)arg;
    gort_wg wg = GORT_WG_INIT;
    struct use_job child = *j;
    child.wg = &wg;
    gort_wg_add(&wg, 1);
    CHECK_EQ(gort_go(use_job_main, &child), 0);
    gort_wg_wait(&wg);
    CHECK_EQ(LOAD(&child.done), 1);
    CHECK_EQ(child.bad, 0);
    use_job_main(j);   /* the main goroutine itself */
}

static void test_use(size_t stack_size, long bytes, int big)
{
    gort_opts o;
    struct use_job j;
    memset(&o, 0, sizeof o);
    memset(&j, 0, sizeof j);
    o.stack_size = stack_size;
    o.maxprocs = 2;
    o.hog_ns = -1;   /* touching megabytes of fresh stack is slow, not a hog */
    j.bytes = bytes;
    j.big = big;
    if (stack_size)
        CHECK_EQ(gort_run_opts(&o, use_main, &j), 0);
    else
        CHECK_EQ(gort_run(use_main, &j), 0);
    CHECK_EQ(j.done, 1);
    CHECK_EQ(j.bad, 0);
}

/* ------------------------------------------------------------------ */
/* Memory is given back                                                */

#define RELEASE_N 64
/* What RSS may keep of the 64 MiB once the goroutines are gone: Wine's
   own RSS moves by several MiB between two readings (6-9.4 MiB with four
   copies of this test at once, with the gort.h of before and after the
   128 KiB default), so Windows gets twice Linux's 8 MiB. */
#if defined(_WIN32)
#define RELEASE_SLACK_KIB (16 * 1024)
#else
#define RELEASE_SLACK_KIB (8 * 1024)
#endif
static gort_chan *release_gate;
static long       release_reached, release_left;

static void release_wait(void)
{
    long v;
    INC(&release_reached);
    CHECK_EQ(gort_chan_recv(release_gate, &v), 0);   /* closed */
}

static void release_g(void *arg)
{
    long *bad = (long *)arg;
    *bad = use_stack(0, 1024);   /* 1 MiB, parked at the bottom */
    INC(&release_left);          /* done with the gate */
}

static void shallow_g(void *arg)
{
    (void)arg;
    gort_yield();
}

static void release_main(void *arg)
{
    static long bad[RELEASE_N];
    long before, peak, after = 0, i, sumbad = 0;
    int64_t end;
    int measure = !under_valgrind() && !(UNDER_ASAN || UNDER_TSAN);
    int zero = (int)(intptr_t)arg;

    /* warm up: the runtime's own structures for 64 goroutines */
    at_bottom = NULL;
    for (i = 0; i < RELEASE_N; i++)
        CHECK_EQ(gort_go(shallow_g, NULL), 0);
    CHECK(yield_until_alone());

    release_gate = gort_chan_make(sizeof(long), 0);
    CHECK(release_gate != NULL);
    STORE(&release_reached, 0);
    STORE(&release_left, 0);
    at_bottom = release_wait;
    frames_zero = zero;
    before = proc_status_kb("VmRSS");
    for (i = 0; i < RELEASE_N; i++)
        CHECK_EQ(gort_go(release_g, &bad[i]), 0);
    end = gort_now() + WAIT_NS;
    while (LOAD(&release_reached) != RELEASE_N && gort_now() < end)
        gort_sleep(SEC / 1000);
    CHECK_EQ(LOAD(&release_reached), RELEASE_N);
    peak = proc_status_kb("VmRSS");
    CHECK_EQ(gort_chan_close(release_gate), 0);
    end = gort_now() + WAIT_NS;
    while (LOAD(&release_left) != RELEASE_N && gort_now() < end)
        gort_yield();
    CHECK_EQ(LOAD(&release_left), RELEASE_N);
    CHECK(yield_until_alone());
    for (i = 0; i < RELEASE_N; i++)
        sumbad += bad[i];
    CHECK_EQ(sumbad, 0);
    CHECK_EQ(gort_chan_free(release_gate), 0);
    at_bottom = NULL;
    frames_zero = 0;

    /* The runtime may give stacks back lazily: wait up to 10 s. */
    end = gort_now() + 10 * SEC;
    do {
        after = proc_status_kb("VmRSS");
        if (after - before <= RELEASE_SLACK_KIB)
            break;
        gort_sleep(SEC / 20);
    } while (gort_now() < end);
    check_note("RSS before %ld KiB, with %d goroutines 1 MiB deep (frames %s) %ld KiB, "
               "after they exited %ld KiB%s", before, RELEASE_N,
               zero ? "zero-filled" : "patterned", peak, after,
               measure ? "" : " (not checked: Valgrind or a sanitizer)");
    if (measure) {
        CHECK(before > 0 && peak > 0 && after > 0);
        CHECK(peak - before >= 48 * 1024);   /* the measurement sees the stacks */
        CHECK(after - before <= RELEASE_SLACK_KIB);   /* and sees them given back */
    }
}

static void test_release(void)
{
    gort_opts o;
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    o.stack_size = 2 * MiB;
    o.hog_ns = -1;
    CHECK_EQ(gort_run_opts(&o, release_main, (void *)0), 0);
    /* Frames that hold zeros (zero-initialised local arrays) are just as
       resident: the runtime must not judge by the stack's contents. */
    CHECK_EQ(gort_run_opts(&o, release_main, (void *)1), 0);
}

/* ------------------------------------------------------------------ */
/* Child processes                                                     */

/* abort(), or an exit with a failure status (not a crash) */
static int aborted(const struct child *c)
{
    int code = child_exit_code(c);
    return code == CHILD_ABORT_CODE || (code > 0 && code < 128);
}

static void describe(const char *what, const struct child *c)
{
    check_note("%s: child's exit code %d (128 + a signal on Linux)", what, child_exit_code(c));
}

/* -- overflow -- */

static NOINLINE long recurse_forever(long depth)
{
    unsigned char buf[256];   /* smaller than any guard page */
    fill(buf, sizeof buf, (unsigned)depth);
    if (depth > (1L << 30))   /* never: keeps the compiler quiet */
        return buf[0];
    return recurse_forever(depth + 1) + count_bad(buf, sizeof buf, (unsigned)depth);
}

static void overflow_g(void *arg)
{
    (void)arg;
    recurse_forever(0);
}

static void overflow_main(void *arg)
{
    int in_main = (int)(intptr_t)arg;
    if (in_main) {
        recurse_forever(0);
    } else {
        long v;
        gort_chan *c = gort_chan_make(sizeof(long), 0);
        CHECK_EQ(gort_go(overflow_g, NULL), 0);
        gort_chan_recv(c, &v);   /* never returns */
    }
}

struct overflow_cfg {
    const char *env_debug;   /* $GORT_DEBUG, or NULL */
    int         debug;       /* opts.debug */
    int         in_main;
    int         maxprocs;
};

static void overflow_child(void *arg)
{
    const struct overflow_cfg *cfg = (const struct overflow_cfg *)arg;
    gort_opts o;
    int rc;
    if (cfg->env_debug)
        setenv("GORT_DEBUG", cfg->env_debug, 1);
    else
        unsetenv("GORT_DEBUG");
    memset(&o, 0, sizeof o);
    o.debug = cfg->debug;
    o.maxprocs = cfg->maxprocs;
    o.stack_size = 64 * KiB;
    rc = gort_run_opts(&o, overflow_main, (void *)(intptr_t)cfg->in_main);
    fprintf(stderr, "gort_run_opts returned %d\n", rc);
    _exit(3);
}

static void test_overflow(void)
{
    static const struct overflow_cfg cfgs[] = {
        { NULL, 0, 0, 1 },
        { NULL, 0, 1, 2 },
        { "guard=mprotect", 0, 0, 2 },
        { "guard=mprotect", 0, 1, 1 },
        { NULL, GORT_DEBUG_GUARD_MPROT, 0, 2 },
    };
    size_t i;
    struct child c;
    for (i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        char what[128];
        snprintf(what, sizeof what, "overflow (GORT_DEBUG=%s, debug=%d, %s goroutine)",
                 cfgs[i].env_debug ? cfgs[i].env_debug : "", cfgs[i].debug,
                 cfgs[i].in_main ? "main" : "another");
        run_child_void(overflow_child, (void *)&cfgs[i], 120, &c);
        describe(what, &c);
        CHECK(aborted(&c));
        CHECK(strstr(c.err, "stack overflow") != NULL);
        CHECK(strstr(c.err, "goroutine") != NULL);
        /* the report's trace starts at the faulting instruction: named
           even without frame pointers */
        CHECK(strstr(c.err, "\n    recurse_forever") != NULL || strstr(c.err, "\n    fill") != NULL);   /* gcc may add .isra.0 */
        if (!aborted(&c) || !strstr(c.err, "stack overflow") || !strstr(c.err, "+0x"))
            fprintf(stderr, "%s: child's stderr:\n%s\n", what, c.err);
    }
}

/* -- a large frame: a 300 KiB local array on a 128 KiB stack -- */

/* With -fstack-clash-protection (the test matrix's flags) the compiler
   touches each page of the frame from the top as it allocates it, so the
   guard page faults and is reported. Built without it
   (test_stack_noclash.c), the frame steps over the guard into the segment
   below; gort then catches it only at a switch made while the frame is
   live, which is what the sleep case does (see >>stack in gort.h). */
static int bigframe_yield;   /* the child's: sleep inside the frame */

static NOINLINE long big_frame(long n)
{
    unsigned char big[300 * KiB];   /* its address escapes: it must exist */
    fill(big, 256, (unsigned)n);                     /* the lowest bytes, far below the stack */
    fill(big + sizeof big - 256, 256, (unsigned)n);  /* the top, in it */
    if (bigframe_yield)
        gort_sleep(1000);   /* parks: a switch (gort_yield need not switch) */
    return count_bad(big, 256, (unsigned)n) + count_bad(big + sizeof big - 256, 256, (unsigned)n);
}

static void park_g(void *arg)
{
    long v;
    gort_chan_recv((gort_chan *)arg, &v);   /* never returns */
}

static void big_g(void *arg)
{
    long r = big_frame((long)(intptr_t)arg);
    fprintf(stderr, "big frame returned %ld: finished normally\n", r);
    _exit(0);
}

static void bigframe_main(void *arg)
{
    long v;
    int i;
    gort_chan *c = gort_chan_make(sizeof(long), 0);
    (void)arg;
    /* Parked goroutines first, so that the segment below the big frame's
       is mapped and in use, as in a real program. */
    for (i = 0; i < 3; i++)
        CHECK_EQ(gort_go(park_g, c), 0);
    CHECK_EQ(gort_go(big_g, (void *)(intptr_t)7), 0);
    gort_chan_recv(c, &v);   /* never returns */
}

static void bigframe_child(void *arg)
{
    gort_opts o;
    int rc;
    bigframe_yield = arg != NULL;
    memset(&o, 0, sizeof o);
    o.maxprocs = 1;
    rc = gort_run_opts(&o, bigframe_main, NULL);
    fprintf(stderr, "gort_run_opts returned %d\n", rc);
    _exit(3);
}

/* without and with a sleep inside the frame, or with only (the case gort
   must catch on its own) */
static const int bigframe_sleep = 1;   /* the child's argument: static data (util_spawn) */
static void test_bigframe(int yield_only)
{
    int y;
    struct child c;
    for (y = yield_only; y <= 1; y++) {
        char what[128];
        snprintf(what, sizeof what, "300 KiB frame on a 128 KiB stack%s", y ? ", sleeping inside" : "");
        run_child_void(bigframe_child, y ? (void *)&bigframe_sleep : NULL, 120, &c);
        describe(what, &c);
        CHECK(aborted(&c));
        CHECK(strstr(c.err, "stack overflow") != NULL);
        CHECK(strstr(c.err, "finished normally") == NULL);
        if (!aborted(&c) || !strstr(c.err, "stack overflow"))
            fprintf(stderr, "%s: child's stderr:\n%s\n", what, c.err);
    }
}

/* -- other stack sizes, in a child where a wrong guess could kill -- */

static void env_size_child(void *arg)
{
    struct use_job j;
    (void)arg;
    setenv("GORT_STACK_SIZE", "8m", 1);
    memset(&j, 0, sizeof j);
    j.bytes = 4 * MiB;
    j.big = 1;
    if (gort_run(use_main, &j) != 0 || j.bad != 0 || !j.done)
        _exit(4);
    _exit(check_failures() ? 5 : 0);
}

static long tiny_ran;

static void tiny_main(void *arg)
{
    (void)arg;
    tiny_ran = 1;
}

/* exit status: 10 ran, 20 -EINVAL, 21 -ENOMEM, 30 other */
static void size_child(void *arg)
{
    gort_opts o;
    int rc;
    memset(&o, 0, sizeof o);
    o.stack_size = *(const size_t *)arg;
    tiny_ran = 0;
    rc = gort_run_opts(&o, tiny_main, NULL);
    if (rc == 0 && tiny_ran)
        _exit(10);
    if (rc == -EINVAL && !tiny_ran)
        _exit(20);
    if (rc == -ENOMEM && !tiny_ran)
        _exit(21);
    fprintf(stderr, "gort_run_opts returned %d, main ran: %ld\n", rc, tiny_ran);
    _exit(30);
}

static void test_sizes_in_child(void)
{
    static struct child c;
    static size_t size;   /* static: the child's argument (util_spawn) */

    run_child_void(env_size_child, NULL, 120, &c);
    describe("GORT_STACK_SIZE=8m, 4 MiB used", &c);
    CHECK_EQ(child_exit_code(&c), 0);

    size = 1;
    run_child_void(size_child, &size, 120, &c);
    CHECK(child_exit_code(&c) == 10 || child_exit_code(&c) == 20);
    if (child_exit_code(&c) == 10)
        check_note("stack_size 1: rounded up (gort_run_opts returned 0)");
    else if (child_exit_code(&c) == 20)
        check_note("stack_size 1: rejected with -EINVAL");
    else
        describe("stack_size 1", &c);

    size = SIZE_MAX;
    run_child_void(size_child, &size, 120, &c);
    describe("stack_size SIZE_MAX", &c);
    CHECK(child_exit_code(&c) == 20 || child_exit_code(&c) == 21);
}

/* -- SIGSEGV that is not an overflow -- */

static char  *fault_page;
#if !defined(_WIN32)
static long   page_size;
static void  *volatile fault_addr;
static volatile sig_atomic_t fault_calls;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    if (sig == SIGSEGV) {
        fault_calls++;
        fault_addr = si->si_addr;
    }
    /* fix the fault: the load is retried and succeeds */
    mprotect(fault_page, (size_t)page_size, PROT_READ | PROT_WRITE);
}

#endif
static NOINLINE int touch(volatile char *p) { return *p; }
#if !defined(_WIN32)

static void fault_g(void *arg)
{
    gort_wg *wg = (gort_wg *)arg;
    CHECK_EQ(touch(fault_page + 100), 0);
    gort_wg_done(wg);
}

static void fault_main(void *arg)
{
    gort_wg wg = GORT_WG_INIT;
    (void)arg;
    /* in the main goroutine */
    CHECK_EQ(touch(fault_page + 100), 0);
    CHECK_EQ(fault_calls, 1);
    CHECK(fault_addr == (void *)(fault_page + 100));
    /* in another goroutine, maybe on another thread */
    CHECK_EQ(mprotect(fault_page, (size_t)page_size, PROT_NONE), 0);
    gort_wg_add(&wg, 1);
    CHECK_EQ(gort_go(fault_g, &wg), 0);
    gort_wg_wait(&wg);
    CHECK_EQ(fault_calls, 2);
    CHECK(fault_addr == (void *)(fault_page + 100));
}

static void test_foreign_segv(void)
{
    struct sigaction sa;
    gort_opts o;
    int mp;

    if (under_valgrind()) {
        /* Valgrind (3.19) resumes a thread that returned from a SIGSEGV
           handler while on a stack it switched to with a register
           clobbered, with or without gort (makecontext shows it too), and
           reports the deliberate fault as an error. */
        check_note("program's own SIGSEGV handler: not checked under Valgrind");
        return;
    }
    page_size = sysconf(_SC_PAGESIZE);
    fault_page = (char *)mmap(NULL, (size_t)page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
                              -1, 0);
    CHECK(fault_page != (char *)MAP_FAILED);
    if (fault_page == (char *)MAP_FAILED)
        return;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGSEGV, &sa, NULL), 0);

    for (mp = 1; mp <= 2; mp++) {
        memset(&o, 0, sizeof o);
        o.maxprocs = mp;
        fault_calls = 0;
        fault_addr = NULL;
        CHECK_EQ(mprotect(fault_page, (size_t)page_size, PROT_NONE), 0);
        CHECK_EQ(gort_run_opts(&o, fault_main, NULL), 0);
        CHECK_EQ(fault_calls, 2);
    }
    /* after the runtime is gone the handler is still the program's */
    CHECK_EQ(mprotect(fault_page, (size_t)page_size, PROT_NONE), 0);
    fault_calls = 0;
    CHECK_EQ(touch(fault_page + 8), 0);
    CHECK_EQ(fault_calls, 1);
    CHECK(fault_addr == (void *)(fault_page + 8));
    munmap(fault_page, (size_t)page_size);
}
#endif

/* With no handler of the program's own, such a fault kills the process
   with SIGSEGV, and is not reported as an overflow. */
static void default_segv_main(void *arg)
{
    (void)arg;
    touch(fault_page + 100);
}

static void default_segv_child(void *arg)
{
    gort_opts o;
    (void)arg;
#if defined(_WIN32)
    /* a page of its own (the child is a new process) */
    fault_page = (char *)VirtualAlloc(NULL, 4096, MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
#else
    signal(SIGSEGV, SIG_DFL);
#endif
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    gort_run_opts(&o, default_segv_main, NULL);
    _exit(3);
}

static void test_default_segv(void)
{
    static struct child c;
#if defined(_WIN32)
    run_child_void(default_segv_child, NULL, 120, &c);
    describe("access violation outside any stack, no handler", &c);
    CHECK_EQ(child_exit_code(&c), (int)0xC0000005);   /* EXCEPTION_ACCESS_VIOLATION */
    CHECK(strstr(c.err, "stack overflow") == NULL);
#else
    if (under_valgrind()) {
        /* Valgrind reports the deliberate fault on its own log, which
           the forked child shares with this process. */
        check_note("SIGSEGV with no handler: not checked under Valgrind");
        return;
    }
    page_size = sysconf(_SC_PAGESIZE);
    fault_page = (char *)mmap(NULL, (size_t)page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
                              -1, 0);
    CHECK(fault_page != (char *)MAP_FAILED);
    if (fault_page == (char *)MAP_FAILED)
        return;
    run_child_void(default_segv_child, NULL, 120, &c);
    describe("SIGSEGV outside any stack, no handler", &c);
    CHECK_EQ(child_exit_code(&c), 128 + SIGSEGV);
    CHECK(strstr(c.err, "stack overflow") == NULL);
    munmap(fault_page, (size_t)page_size);
#endif
}

#ifndef STACK_NOCLASH   /* test_stack_noclash.c has its own main */
int main(void)
{
    watchdog(WATCHDOG_S);
    unsetenv("GORT_STACK_SIZE");
    unsetenv("GORT_DEBUG");

    /* children first, while this process has no runtime threads */
    test_overflow();
    test_bigframe(0);
    test_sizes_in_child();
    test_default_segv();

    test_use(8 * MiB, 4 * MiB, 1);     /* 4 MiB of 8 MiB */
    test_use(0, 96 * KiB, 0);          /* 96 KiB of the default 128 KiB */
    test_use(64 * KiB, 32 * KiB, 0);   /* 32 KiB of 64 KiB */
    test_release();
#if defined(_WIN32)
    check_note("the program's own fault handler: test_platform's (a vectored handler) on Windows");
#else
    test_foreign_segv();
#endif
    return check_done();
}
#endif
