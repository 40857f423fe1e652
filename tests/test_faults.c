/* test_faults.c - fault injection: every system call and allocation gort
   makes can fail, and the runtime copes (issue 15).

   The program links with -Wl,--wrap for each call below (the wrap=
   directives), so gort's calls (and this file's) go through a shim that
   can make the Nth call of one kind fail with that call's real errno:

       mmap madvise mprotect process_madvise  ENOMEM
       ioctl(UFFDIO_COPY) (stack compaction's restore)  ENOMEM
       pthread_create  EAGAIN
       epoll_create1 eventfd pipe  EMFILE  epoll_ctl sigaltstack  ENOMEM
       calloc malloc realloc  NULL/ENOMEM  poll epoll_wait read write  EINTR

   - the sweep: a workload that spawns goroutines, moves values over
     channels (buffered and not, from goroutines and a plain thread), uses
     a mutex, a WaitGroup, sleeps, gort_after, timed selects, fd cases and
     gort_read/gort_write over a socket pair is run once to count each
     kind's calls, then again with the Nth call failing, for N over that
     range (check_scale sets how many N per kind), once failing just that
     call and, for a few N, every call from N on (a resource limit). Each
     run is a forked child with a watchdog. It passes when gort_run
     returns 0 with every value accounted for (a refused gort_go says
     -ENOMEM or -EAGAIN, a refused channel or gort_after says NULL) or a
     negative errno saying why the runtime could not start; and when a
     second gort_run in the same child, with nothing failing, works in
     full. A crash, a hang (the watchdog sends SIGQUIT: the log holds
     gort's dump), a lost value, "internal error" or a sanitizer report
     fails, named with the call and N;
   - regressions, each in a child: gort_run returns -EAGAIN when no
     thread for goroutines can be created (and -ENOMEM when its record
     cannot be allocated); gort_go from a plain thread in background mode
     likewise; a failed epoll_ctl of the wake-up eventfd fails startup;
     timers fire when the timer heap cannot grow (realloc failing);
     plain threads need no allocation to block; "could not create a
     thread" is said once per cause, not per attempt; with every new
     stack mapping failing, gort_go reuses the stacks cached by other Ps
     before it says -ENOMEM, round after round; when guard pages cannot
     be installed the loss is said once, with vm.max_map_count; with no
     free fd the guard probe still finds guard pages, so an overflow is
     reported, not a bare SIGSEGV; an EINTR in select's readiness check
     does not hide data that is already there; RLIMIT_NOFILE at each
     level near what gort needs gives a clean error or a working runtime.

   On Windows (MinGW, under Wine) the same sweep and the regressions that
   have a Windows form run over the calls of >>os-windows and
   >>poll-windows. A DLL's function is called through its import slot
   (__imp_<name>), and ld's --wrap of that slot's name points the slot
   at the shim (the winwrap= directives; the C runtime's malloc, calloc
   and realloc are plain symbols, wrapped as on Linux):

       VirtualAlloc VirtualProtect  ERROR_COMMITMENT_LIMIT
       _beginthreadex  EAGAIN   socket (the poller's break socket) WSAEMFILE
       CreateEventW CreateWaitableTimerExW  ERROR_NO_SYSTEM_RESOURCES
       calloc malloc realloc  NULL/ENOMEM   WSAPoll recv send  WSAEINTR

   The test's own threads and sockets are made with the shim off (own_*).
   Linux's alone: the eventfd's registration, the guard probe without a
   free fd, RLIMIT_NOFILE and RLIMIT_AS.
   C99 + POSIX (fork, poll, setrlimit), or Win32. */
// gort-test: wrap=mmap wrap=madvise wrap=mprotect wrap=pthread_create
// gort-test: wrap=epoll_create1 wrap=epoll_ctl wrap=epoll_wait wrap=eventfd
// gort-test: wrap=sigaltstack wrap=calloc wrap=malloc wrap=realloc wrap=pipe
// gort-test: wrap=poll wrap=read wrap=write wrap=syscall timeout=600 windows
// gort-test: winwrap=__imp_VirtualAlloc winwrap=__imp_VirtualProtect winwrap=__imp__beginthreadex
// gort-test: winwrap=__imp_socket winwrap=__imp_CreateEventW winwrap=__imp_CreateWaitableTimerExW
// gort-test: winwrap=WSAPoll winwrap=__imp_recv winwrap=__imp_send winwrap=calloc winwrap=malloc
// gort-test: winwrap=realloc
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(_WIN32)
#include <winsock2.h>
#include <windows.h>
#include <process.h>
#include <unistd.h>   /* usleep */
#ifndef SHUT_WR
#define SHUT_WR   SD_SEND
#define SHUT_RDWR SD_BOTH
#endif
#else
#include <poll.h>
#include <pthread.h>
#include <malloc.h>   /* mallopt (glibc's M_ARENA_MAX) */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

/* The sanitizer runtimes are linked into the program, so --wrap catches
   their own calls too, some before they are initialised: the shim must
   not be instrumented. */
#if defined(__has_attribute)
#if __has_attribute(disable_sanitizer_instrumentation)
#define SHIM __attribute__((disable_sanitizer_instrumentation))
#endif
#endif
#ifndef SHIM
#define SHIM
#endif

#define MS  1000000LL
#define SEC 1000000000LL

/* util.h's parent side reads the child's stderr: with the real calls, not
   the ones that inject faults (Linux: on Windows it makes none of them) */
#if !defined(_WIN32)
#include <sys/types.h>
ssize_t __real_read(int, void *, size_t);
int __real_pipe(int *);
int __real_poll(struct pollfd *, nfds_t, int);
#define UTIL_PIPE __real_pipe
#define UTIL_POLL __real_poll
#define UTIL_READ __real_read
#endif
#include "util.h"

/* ------------------------------------------------------------------ */
/* The shim                                                            */

#if defined(_WIN32)
/* The same names as on Linux where the part of gort is the same (F_MMAP:
   stack memory, F_POLL: the readiness check), so the regressions read
   alike; fname says the call. */
enum { F_MMAP, F_COMMIT, F_MPROTECT, F_PTHREAD_CREATE, F_SOCKET, F_EVENT, F_TIMER, F_POLL, F_CALLOC,
       F_MALLOC, F_REALLOC, F_READ, F_WRITE, F_N };
static const char *const fname[F_N] = {
    "VirtualAlloc(MEM_RESERVE)", "VirtualAlloc(MEM_COMMIT)", "VirtualProtect", "_beginthreadex", "socket",
    "CreateEventW", "CreateWaitableTimerExW", "WSAPoll", "calloc", "malloc", "realloc", "recv", "send" };
/* errno's for the C runtime's calls; EINTR marks a transient failure (no
   "every call after" run), as on Linux */
static const int ferrno[F_N] = {
    ENOMEM, ENOMEM, ENOMEM, EAGAIN, EMFILE, ENOMEM, ENOMEM, EINTR, ENOMEM, ENOMEM, ENOMEM, EINTR, EINTR };
#else
enum { F_MMAP, F_MADVISE, F_MPROTECT, F_PTHREAD_CREATE, F_EPOLL_CREATE1, F_EPOLL_CTL,
       F_EPOLL_WAIT, F_EVENTFD, F_SIGALTSTACK, F_CALLOC, F_MALLOC, F_REALLOC, F_PIPE,
       F_POLL, F_READ, F_WRITE, F_PMADVISE, F_UFFD, F_N };
static const char *const fname[F_N] = {
    "mmap", "madvise", "mprotect", "pthread_create", "epoll_create1", "epoll_ctl",
    "epoll_wait", "eventfd", "sigaltstack", "calloc", "malloc", "realloc", "pipe",
    "poll", "read", "write", "process_madvise", "userfaultfd ioctl" };
static const int ferrno[F_N] = {
    ENOMEM, ENOMEM, ENOMEM, EAGAIN, EMFILE, ENOMEM,
    EINTR, EMFILE, ENOMEM, ENOMEM, ENOMEM, ENOMEM, EMFILE,
    EINTR, EINTR, EINTR, ENOMEM, ENOMEM };
#endif

static int  armed;          /* atomic: count calls (and fail one) */
static int  target = -1;    /* the kind to fail */
static long fail_at;        /* its Nth call fails (1-based) */
static int  persist;        /* and every call after it */
static long calls[F_N];     /* atomic */
static int  injected;       /* atomic: a call was made to fail */

/* The test's own calls (its threads, its sockets): not counted, never
   failed. Per thread: on Windows the thread's id, as MinGW's __thread
   is emulated with calloc (wrapped: it recursed). */
#if defined(_WIN32)
static DWORD own_tid;   /* atomic */
#define OWN_ON()  __atomic_store_n(&own_tid, GetCurrentThreadId(), __ATOMIC_SEQ_CST)
#define OWN_OFF() __atomic_store_n(&own_tid, (DWORD)0, __ATOMIC_SEQ_CST)
#define OWN_IS()  (__atomic_load_n(&own_tid, __ATOMIC_SEQ_CST) == GetCurrentThreadId())
#else
static __thread int own;
#define OWN_ON()  (own = 1)
#define OWN_OFF() (own = 0)
#define OWN_IS()  (own != 0)
#endif

SHIM static int inject(int k)
{
    long n;
    if (!__atomic_load_n(&armed, __ATOMIC_ACQUIRE) || OWN_IS() || k == F_N)
        return 0;
    n = __atomic_add_fetch(&calls[k], 1, __ATOMIC_SEQ_CST);
    if (k != target || n < fail_at || (n > fail_at && !persist))
        return 0;
    __atomic_store_n(&injected, 1, __ATOMIC_SEQ_CST);
    errno = ferrno[k];
    return 1;
}

static void arm(int kind, long n, int all_after)
{
    memset(calls, 0, sizeof calls);
    target = kind;
    fail_at = n;
    persist = all_after;
    __atomic_store_n(&injected, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&armed, 1, __ATOMIC_SEQ_CST);
}
static void disarm(void) { __atomic_store_n(&armed, 0, __ATOMIC_SEQ_CST); }

#if defined(_WIN32)
/* A wrapped import slot: __real___imp_<f> is the slot the loader filled,
   __wrap___imp_<f> the one gort's calls now read, holding the shim. */
#define WIN_SHIM(ret, name, params, args, kind, fail)              \
    typedef ret(WINAPI *name##_fn) params;                         \
    extern name##_fn __real___imp_##name;                          \
    static ret WINAPI shim_##name params                           \
    {                                                              \
        if (inject(kind)) {                                        \
            fail;                                                  \
        }                                                          \
        return __real___imp_##name args;                           \
    }                                                              \
    extern name##_fn __wrap___imp_##name;                          \
    name##_fn __wrap___imp_##name = shim_##name;
/* VirtualAlloc is two kinds: a new reservation (a region, Linux's mmap)
   and a commit in one (a stack made ready); MEM_RESET is never refused */
WIN_SHIM(LPVOID, VirtualAlloc, (LPVOID a, SIZE_T n, DWORD t, DWORD p), (a, n, t, p),
         (t & MEM_RESERVE) ? F_MMAP : (t & MEM_COMMIT) ? F_COMMIT : F_N,
         SetLastError(ERROR_COMMITMENT_LIMIT); return NULL)
WIN_SHIM(BOOL, VirtualProtect, (LPVOID a, SIZE_T n, DWORD p, PDWORD old), (a, n, p, old), F_MPROTECT,
         SetLastError(ERROR_COMMITMENT_LIMIT); return FALSE)
WIN_SHIM(SOCKET, socket, (int af, int type, int proto), (af, type, proto), F_SOCKET,
         WSASetLastError(WSAEMFILE); return INVALID_SOCKET)
WIN_SHIM(HANDLE, CreateEventW, (LPSECURITY_ATTRIBUTES sa, BOOL man, BOOL init, LPCWSTR name),
         (sa, man, init, name), F_EVENT, SetLastError(ERROR_NO_SYSTEM_RESOURCES); return NULL)
WIN_SHIM(HANDLE, CreateWaitableTimerExW, (LPSECURITY_ATTRIBUTES sa, LPCWSTR name, DWORD fl, DWORD acc),
         (sa, name, fl, acc), F_TIMER, SetLastError(ERROR_NO_SYSTEM_RESOURCES); return NULL)
WIN_SHIM(int, recv, (SOCKET s, char *b, int n, int fl), (s, b, n, fl), F_READ,
         WSASetLastError(WSAEINTR); return SOCKET_ERROR)
WIN_SHIM(int, send, (SOCKET s, const char *b, int n, int fl), (s, b, n, fl), F_WRITE,
         WSASetLastError(WSAEINTR); return SOCKET_ERROR)
/* the C runtime's own (cdecl is the one Win64 convention: WINAPI too) */
WIN_SHIM(uintptr_t, _beginthreadex,
         (void *sec, unsigned stack, unsigned(__stdcall *fn)(void *), void *arg, unsigned fl, unsigned *id),
         (sec, stack, fn, arg, fl, id), F_PTHREAD_CREATE, errno = EAGAIN; return 0)
/* WSAPoll is declared without dllimport: a plain symbol */
int WSAAPI __real_WSAPoll(LPWSAPOLLFD, ULONG, INT);
int WSAAPI __wrap_WSAPoll(LPWSAPOLLFD, ULONG, INT);
int WSAAPI __wrap_WSAPoll(LPWSAPOLLFD p, ULONG n, INT tmo)
{
    if (inject(F_POLL)) {
        WSASetLastError(WSAEINTR);
        return SOCKET_ERROR;
    }
    return __real_WSAPoll(p, n, tmo);
}
void *__real_calloc(size_t, size_t);
void *__real_malloc(size_t);
void *__real_realloc(void *, size_t);
void *__wrap_calloc(size_t, size_t);
void *__wrap_malloc(size_t);
void *__wrap_realloc(void *, size_t);
void *__wrap_calloc(size_t n, size_t s) { return inject(F_CALLOC) ? NULL : __real_calloc(n, s); }
void *__wrap_malloc(size_t s) { return inject(F_MALLOC) ? NULL : __real_malloc(s); }
void *__wrap_realloc(void *p, size_t s) { return inject(F_REALLOC) ? NULL : __real_realloc(p, s); }

/* The test's own threads, made with the shim off (winpthreads would
   start them with _beginthreadex, which is wrapped). */
typedef HANDLE own_thread;
struct own_start { void *(*fn)(void *); void *arg; };
static DWORD WINAPI own_thread_main(LPVOID p)
{
    struct own_start s = *(struct own_start *)p;
    free(p);
    s.fn(s.arg);
    return 0;
}
static int own_thread_create(own_thread *t, void *(*fn)(void *), void *arg)
{
    struct own_start *s;
    OWN_ON();
    s = (struct own_start *)malloc(sizeof *s);
    OWN_OFF();
    if (!s)
        return ENOMEM;
    s->fn = fn;
    s->arg = arg;
    *t = CreateThread(NULL, 0, own_thread_main, s, 0, NULL);
    if (!*t) {
        free(s);
        return EAGAIN;
    }
    return 0;
}
static void own_thread_join(own_thread t)
{
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
}
#else
void *__real_mmap(void *, size_t, int, int, int, off_t);
int __real_madvise(void *, size_t, int);
int __real_mprotect(void *, size_t, int);
int __real_pthread_create(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
int __real_epoll_create1(int);
int __real_epoll_ctl(int, int, int, struct epoll_event *);
int __real_epoll_wait(int, struct epoll_event *, int, int);
int __real_eventfd(unsigned int, int);
int __real_sigaltstack(const stack_t *, stack_t *);
void *__real_calloc(size_t, size_t);
void *__real_malloc(size_t);
void *__real_realloc(void *, size_t);
int __real_pipe(int *);
int __real_poll(struct pollfd *, nfds_t, int);
ssize_t __real_read(int, void *, size_t);
ssize_t __real_write(int, const void *, size_t);
long __real_syscall(long, ...);

void *__wrap_mmap(void *, size_t, int, int, int, off_t);
int __wrap_madvise(void *, size_t, int);
int __wrap_mprotect(void *, size_t, int);
int __wrap_pthread_create(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
int __wrap_epoll_create1(int);
int __wrap_epoll_ctl(int, int, int, struct epoll_event *);
int __wrap_epoll_wait(int, struct epoll_event *, int, int);
int __wrap_eventfd(unsigned int, int);
int __wrap_sigaltstack(const stack_t *, stack_t *);
void *__wrap_calloc(size_t, size_t);
void *__wrap_malloc(size_t);
void *__wrap_realloc(void *, size_t);
int __wrap_pipe(int *);
int __wrap_poll(struct pollfd *, nfds_t, int);
ssize_t __wrap_read(int, void *, size_t);
ssize_t __wrap_write(int, const void *, size_t);
long __wrap_syscall(long, ...);

SHIM void *__wrap_mmap(void *a, size_t l, int p, int f, int fd, off_t o)
{ return inject(F_MMAP) ? MAP_FAILED : __real_mmap(a, l, p, f, fd, o); }
SHIM int __wrap_madvise(void *a, size_t l, int adv)
{ return inject(F_MADVISE) ? -1 : __real_madvise(a, l, adv); }
SHIM int __wrap_mprotect(void *a, size_t l, int p)
{ return inject(F_MPROTECT) ? -1 : __real_mprotect(a, l, p); }
SHIM int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{ return inject(F_PTHREAD_CREATE) ? EAGAIN : __real_pthread_create(t, a, fn, arg); }
SHIM int __wrap_epoll_create1(int fl)
{ return inject(F_EPOLL_CREATE1) ? -1 : __real_epoll_create1(fl); }
SHIM int __wrap_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{ return inject(F_EPOLL_CTL) ? -1 : __real_epoll_ctl(ep, op, fd, ev); }
SHIM int __wrap_epoll_wait(int ep, struct epoll_event *ev, int n, int tmo)
{ return inject(F_EPOLL_WAIT) ? -1 : __real_epoll_wait(ep, ev, n, tmo); }
SHIM int __wrap_eventfd(unsigned int v, int fl)
{ return inject(F_EVENTFD) ? -1 : __real_eventfd(v, fl); }
SHIM int __wrap_sigaltstack(const stack_t *ss, stack_t *old)
{ return inject(F_SIGALTSTACK) ? -1 : __real_sigaltstack(ss, old); }
SHIM void *__wrap_calloc(size_t n, size_t s)
{ return inject(F_CALLOC) ? NULL : __real_calloc(n, s); }
SHIM void *__wrap_malloc(size_t s)
{ return inject(F_MALLOC) ? NULL : __real_malloc(s); }
SHIM void *__wrap_realloc(void *p, size_t s)
{ return inject(F_REALLOC) ? NULL : __real_realloc(p, s); }
SHIM int __wrap_pipe(int *fds)
{ return inject(F_PIPE) ? -1 : __real_pipe(fds); }
SHIM int __wrap_poll(struct pollfd *p, nfds_t n, int tmo)
{ return inject(F_POLL) ? -1 : __real_poll(p, n, tmo); }
SHIM ssize_t __wrap_read(int fd, void *b, size_t n)
{ return inject(F_READ) ? -1 : __real_read(fd, b, n); }
SHIM ssize_t __wrap_write(int fd, const void *b, size_t n)
{ return inject(F_WRITE) ? -1 : __real_write(fd, b, n); }
/* syscall(2): only process_madvise is failed (gort's batched guards and
   first pages for fresh stacks); every call passes six arguments on, as
   the C library's own syscall() reads six whatever was passed (reading
   past the ones given is what ASan calls an underflow: not checked here) */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define SYSCALL_SHIM SHIM __attribute__((no_sanitize("address", "thread", "undefined")))
#endif
#endif
#ifndef SYSCALL_SHIM
#define SYSCALL_SHIM SHIM
#endif
SYSCALL_SHIM long __wrap_syscall(long nr, ...)
{
    va_list ap;
    long a[6];
    int i;
    va_start(ap, nr);
    for (i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (nr == SYS_process_madvise && inject(F_PMADVISE))
        return -1;
    if (nr == SYS_ioctl && (unsigned long)a[1] == GORT__UFFDIO_COPY && inject(F_UFFD))
        return -1;   /* UFFDIO_COPY, the fast restore of a compacted stack: the long way then */
    return __real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

typedef pthread_t own_thread;
static int own_thread_create(own_thread *t, void *(*fn)(void *), void *arg)
{
    return __real_pthread_create(t, NULL, fn, arg);
}
static void own_thread_join(own_thread t) { pthread_join(t, NULL); }
#endif

/* A connected pair of sockets, made with the shim off. */
static int own_sock_pair(int sv[2])
{
    int rc;
    OWN_ON();
#if defined(_WIN32)
    rc = tcp_pair(sv);
#else
    rc = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
#endif
    OWN_OFF();
    return rc;
}

/* ------------------------------------------------------------------ */
/* Child processes with a watchdog                                     */


/* Runs fn(arg) in a child whose stderr is captured; the child's exit
   status is fn's return value. After limit_s seconds the child gets
   SIGQUIT (gort prints its dump) and, 3 s later, SIGKILL (c->hung). */
static void run_watched(int (*fn)(void *), void *arg, double limit_s, struct child *c)
{
    struct child_opts o;
    memset(&o, 0, sizeof o);
    o.limit_ns = (int64_t)(limit_s * 1e9);
#if defined(_WIN32)
    o.limit_sig = 1;   /* any: Ctrl+Break, gort's dump (util.h) */
#else
    o.limit_sig = SIGQUIT;
#endif
    run_child_opts(fn, arg, &o, c);
}

/* What a child's stderr must never hold. */
static const char *bad_output(const char *err)
{
    static const char *const bad[] = {
        "internal error", "AddressSanitizer", "LeakSanitizer", "ThreadSanitizer",
        "runtime error:", "Sanitizer: CHECK", NULL };
    int i;
    for (i = 0; bad[i]; i++)
        if (strstr(err, bad[i]))
            return bad[i];
    return NULL;
}

static void describe(const char *what, const struct child *c)
{
    if (c->hung)
        fprintf(stderr, "%s: hung (watchdog)\n", what);
    else
        fprintf(stderr, "%s: child exited with %d (128 + N: signal N)\n", what, child_exit_code(c));
    fprintf(stderr, "%s: child's stderr:\n%s\n", what, c->err);
}

/* ------------------------------------------------------------------ */
/* The workload                                                        */

#define NJOBS   64
#define NWORK   6
#define NMUTEX  4
#define IOBYTES (300 * 1024)

struct res {
    int  bad;          /* a check failed: why says which */
    char why[256];
    long refused;      /* calls that failed cleanly (injected faults) */
};

#define WCHECK(r, cond)                                                         \
    do {                                                                        \
        if (!(cond) && !(r)->bad) {                                             \
            (r)->bad = 1;                                                       \
            snprintf((r)->why, sizeof (r)->why, "line %d: %s", __LINE__, #cond); \
        }                                                                       \
    } while (0)

/* A child's whole body for most tests here: run main (given a struct res)
   in a runtime with maxprocs Ps (0: the default); 0 if it ran and every
   WCHECK held, else 1 with the reason on stderr. */
static int run_res(void (*main_fn)(void *), int maxprocs)
{
    struct res r;
    gort_opts o;
    int rc;
    memset(&r, 0, sizeof r);
    memset(&o, 0, sizeof o);
    o.maxprocs = maxprocs;
    rc = gort_run_opts(&o, main_fn, &r);
    if (rc != 0 || r.bad) {
        fprintf(stderr, "FAULT: gort_run %d, %s\n", rc, r.why);
        return 1;
    }
    return 0;
}

static int go_err_ok(int rc) { return rc == -ENOMEM || rc == -EAGAIN; }

struct jobctx {
    gort_chan *jobs, *results;
    gort_wg    wg;
    struct res *r;
};

static void worker(void *arg)
{
    struct jobctx *j = (struct jobctx *)arg;
    long v;
    int rc;
    while ((rc = gort_chan_recv(j->jobs, &v)) == 1) {
        long sq = v * v;
        if (v % 8 == 0)
            gort_sleep(100000);   /* 0.1 ms: a timer, and a park */
        WCHECK(j->r, gort_chan_send(j->results, &sq) == 0);
    }
    WCHECK(j->r, rc == 0);
    gort_wg_done(&j->wg);
}

struct mxctx {
    gort_mutex m;
    gort_wg    wg;
    long       count;
};
static void mx_worker(void *arg)
{
    struct mxctx *x = (struct mxctx *)arg;
    int i;
    for (i = 0; i < 500; i++) {
        gort_mutex_lock(&x->m);
        x->count++;
        if (i % 100 == 0)
            gort_yield();
        gort_mutex_unlock(&x->m);
    }
    gort_wg_done(&x->wg);
}

struct ioctx {
    int fd;
    gort_wg wg;
    ssize_t rc;
};
static void io_writer(void *arg)
{
    struct ioctx *x = (struct ioctx *)arg;
    static unsigned char buf[IOBYTES];
    size_t i;
    for (i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 7 + 3);
    x->rc = gort_write_all(x->fd, buf, sizeof buf);
    if (x->rc < 0)
        shutdown(x->fd, SHUT_WR);   /* the reader sees the end */
    gort_wg_done(&x->wg);
}

static void late_sender(void *arg)
{
    gort_chan *c = (gort_chan *)arg;
    long v = 77;
    gort_sleep(2 * MS);
    gort_chan_send(c, &v);   /* the select takes it, or it is dropped at exit */
}

struct thrctx {
    gort_chan *c;
    int sent;
    int in;    /* atomic: it has called into gort (counts as live) */
};
static void *plain_thread(void *arg)
{
    struct thrctx *t = (struct thrctx *)arg;
    long i;
    gort_mutex m = GORT_MUTEX_INIT;
    gort_mutex_lock(&m);
    gort_mutex_unlock(&m);
    __atomic_store_n(&t->in, 1, __ATOMIC_RELEASE);
    gort_sleep(100000);
    for (i = 1; i <= 3; i++)
        if (gort_chan_send(t->c, &i) == 0)
            t->sent++;
    gort_chan_close(t->c);
    return NULL;
}

static void part_jobs(struct res *r)
{
    struct jobctx j;
    int err1 = 0, err2 = 0, i, nw = 0;
    long v, sum = 0, want = 0, got = 0;
    memset(&j, 0, sizeof j);
    j.r = r;
    j.jobs = gort_chan_make_err(sizeof(long), 4, &err1);
    j.results = gort_chan_make_err(sizeof(long), NJOBS, &err2);
    if (!j.jobs || !j.results) {
        WCHECK(r, j.jobs || err1 == -ENOMEM);
        WCHECK(r, j.results || err2 == -ENOMEM);
        gort_chan_free(j.jobs);
        gort_chan_free(j.results);
        r->refused++;
        return;
    }
    for (i = 0; i < NWORK; i++) {
        int rc;
        gort_wg_add(&j.wg, 1);
        rc = gort_go(worker, &j);
        if (rc == 0) {
            nw++;
        } else {
            WCHECK(r, go_err_ok(rc));
            gort_wg_done(&j.wg);
            r->refused++;
        }
    }
    for (v = 1; v <= NJOBS; v++) {
        want += v * v;
        if (nw > 0) {
            WCHECK(r, gort_chan_send(j.jobs, &v) == 0);
        } else {
            long sq = v * v;
            WCHECK(r, gort_chan_send(j.results, &sq) == 0);
        }
    }
    WCHECK(r, gort_chan_close(j.jobs) == 0);
    gort_wg_wait(&j.wg);
    while (gort_chan_try_recv(j.results, &v) == 1) {
        sum += v;
        got++;
    }
    WCHECK(r, got == NJOBS);   /* no value lost */
    WCHECK(r, sum == want);
    WCHECK(r, gort_chan_free(j.jobs) == 0);
    WCHECK(r, gort_chan_free(j.results) == 0);
}

static void part_timers(struct res *r)
{
    int64_t t0 = gort_now();
    gort_chan *c, *a;
    gort_case cs[2];
    int rc;
    gort_sleep(1 * MS);
    WCHECK(r, gort_now() - t0 >= 1 * MS);

    a = gort_after(2 * MS);
    if (a) {
        int64_t when = 0;
        WCHECK(r, gort_chan_recv(a, &when) == 1);
        WCHECK(r, when - t0 >= 3 * MS);
        WCHECK(r, gort_chan_free(a) == 0);
    } else {
        r->refused++;
    }

    c = gort_chan_make(sizeof(long), 0);
    if (!c) {
        r->refused++;
        return;
    }
    memset(cs, 0, sizeof cs);
    cs[0].chan = c;
    cs[0].op = GORT_RECV;
    t0 = gort_now();
    rc = gort_select(cs, 1, 1 * MS);
    WCHECK(r, rc == -ETIMEDOUT);
    WCHECK(r, gort_now() - t0 >= 1 * MS);
    rc = gort_go(late_sender, c);
    if (rc == 0) {
        long v = 0;
        cs[0].elem = &v;
        rc = gort_select(cs, 1, 10 * SEC);
        WCHECK(r, rc == 0);
        WCHECK(r, v == 77);
    } else {
        WCHECK(r, go_err_ok(rc));
        r->refused++;
    }
    WCHECK(r, gort_chan_free(c) == 0);
}

static void part_sync(struct res *r)
{
    struct mxctx x;
    int i, n = 0;
    memset(&x, 0, sizeof x);
    for (i = 0; i < NMUTEX; i++) {
        int rc;
        gort_wg_add(&x.wg, 1);
        rc = gort_go(mx_worker, &x);
        if (rc == 0) {
            n++;
        } else {
            WCHECK(r, go_err_ok(rc));
            gort_wg_done(&x.wg);
            r->refused++;
        }
    }
    gort_wg_wait(&x.wg);
    WCHECK(r, x.count == 500L * n);
}

static void part_io(struct res *r)
{
    int sv[2], rc;
    struct ioctx x;
    static unsigned char buf[8192];
    size_t total = 0;
    gort_case cs[1];
    if (own_sock_pair(sv) != 0) {
        WCHECK(r, !"socket pair");
        return;
    }
    memset(&x, 0, sizeof x);
    x.fd = sv[0];
    gort_wg_add(&x.wg, 1);
    rc = gort_go(io_writer, &x);
    if (rc != 0) {
        WCHECK(r, go_err_ok(rc));
        r->refused++;
        gort_wg_done(&x.wg);
        x.rc = IOBYTES;   /* nothing to read: the sizes below agree */
    } else {
        while (total < IOBYTES) {
            ssize_t n = gort_read(sv[1], buf, sizeof buf);
            size_t i;
            if (n == 0) {   /* the writer failed: it must say how */
                gort_wg_wait(&x.wg);
                WCHECK(r, x.rc == -ENOMEM);
                r->refused++;
                x.rc = IOBYTES;
                total = IOBYTES;
                break;
            }
            if (n < 0) {    /* this fd could not be registered */
                WCHECK(r, n == -ENOMEM);
                r->refused++;
                shutdown(sv[1], SHUT_RDWR);   /* the writer gets EPIPE */
                gort_wg_wait(&x.wg);
                WCHECK(r, x.rc == IOBYTES || x.rc == -EPIPE || x.rc == -ENOMEM);
                x.rc = IOBYTES;
                total = IOBYTES;
                break;
            }
            for (i = 0; i < (size_t)n; i++)
                if (buf[i] != (unsigned char)((total + i) * 7 + 3))
                    break;
            WCHECK(r, i == (size_t)n);   /* every byte, in order */
            total += (size_t)n;
        }
        WCHECK(r, total == IOBYTES);
    }
    gort_wg_wait(&x.wg);
    WCHECK(r, x.rc == IOBYTES);

    if (r->refused) {
        gort_close(sv[0]);
        gort_close(sv[1]);
        return;
    }
    /* Readiness of data that is already there: an fd case and wait_fd. */
    WCHECK(r, gort_write(sv[0], "x", 1) == 1);
    memset(cs, 0, sizeof cs);
    cs[0].op = GORT_WAIT_IN;
    cs[0].fd = sv[1];
    rc = gort_select(cs, 1, 5 * SEC);
    WCHECK(r, rc == 0 || rc == -ENOMEM);
    if (rc == -ENOMEM)
        r->refused++;
    rc = gort_wait_fd(sv[1], GORT_IN, 5 * SEC);
    WCHECK(r, rc == GORT_IN || rc == -ENOMEM);
    WCHECK(r, gort_read(sv[1], buf, 1) == 1);
    WCHECK(r, gort_close(sv[0]) == 0);
    WCHECK(r, gort_close(sv[1]) == 0);
}

static void part_thread(struct res *r)
{
    struct thrctx t;
    own_thread th;
    long v, n = 0;
    int err = 0;
    memset(&t, 0, sizeof t);
    t.c = gort_chan_make_err(sizeof(long), 0, &err);
    if (!t.c) {
        WCHECK(r, err == -ENOMEM);
        r->refused++;
        return;
    }
    /* the test's own thread: not one of the calls under test */
    if (own_thread_create(&th, plain_thread, &t) != 0) {
        WCHECK(r, !"thread");
        return;
    }
    /* until its first call it is no thread of gort's: a receive before
       then could be reported as a deadlock, rightly */
    while (!__atomic_load_n(&t.in, __ATOMIC_ACQUIRE))
        gort_sleep(100000);
    while (gort_chan_recv(t.c, &v) == 1)
        WCHECK(r, v == ++n);
    own_thread_join(th);
    WCHECK(r, n == 3 && t.sent == 3);
    WCHECK(r, gort_chan_free(t.c) == 0);
}

static void workload(void *arg)
{
    struct res *r = (struct res *)arg;
    part_jobs(r);
    part_timers(r);
    part_sync(r);
    part_io(r);
    part_thread(r);
}

#if !defined(_WIN32)
/* No fds needed beyond the runtime's own (test_nofile). */
static void light_workload(void *arg)
{
    struct res *r = (struct res *)arg;
    part_jobs(r);
    part_timers(r);
    part_sync(r);
}
#endif

static int start_err_ok(int rc)
{
    return rc == -ENOMEM || rc == -EAGAIN || rc == -EMFILE || rc == -ENFILE;
}

/* One injected run and one clean run after it, in this (child) process.
   Exit status: 0 passed and something was injected, 10 passed with
   nothing injected (the workload made fewer calls), 1 failed. */
struct sweep_arg { int kind; long n; int persist; };

static int sweep_child(void *arg)
{
    const struct sweep_arg *a = (const struct sweep_arg *)arg;
    struct res r1, r2;
    gort_opts o;
    int rc, ok = 1, inj;
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    arm(a->kind, a->n, a->persist);
    rc = gort_run_opts(&o, workload, &r1);
    disarm();
    inj = __atomic_load_n(&injected, __ATOMIC_SEQ_CST);
    if (rc != 0 && !start_err_ok(rc)) {
        fprintf(stderr, "FAULT: gort_run returned %d (%s)\n", rc, gort_strerror(rc));
        ok = 0;
    }
    if (rc == 0 && r1.bad) {
        fprintf(stderr, "FAULT: workload: %s\n", r1.why);
        ok = 0;
    }
    rc = gort_run_opts(&o, workload, &r2);
    if (rc != 0 || r2.bad || r2.refused) {
        fprintf(stderr, "FAULT: the clean run after it: gort_run %d, %s, %ld refused\n",
                rc, r2.bad ? r2.why : "no failed check", r2.refused);
        ok = 0;
    }
    if (!ok)
        return 1;
    return inj ? 0 : 10;
}

/* Counts each kind's calls in one clean workload run; the counts come
   back on stderr, in a line "counts: N N ...". */
static int count_child(void *arg)
{
    struct res r;
    gort_opts o;
    int rc, k;
    (void)arg;
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    memset(&r, 0, sizeof r);
    arm(-1, 0, 0);
    rc = gort_run_opts(&o, workload, &r);
    disarm();
    fprintf(stderr, "counts:");
    for (k = 0; k < F_N; k++)
        fprintf(stderr, " %ld", __atomic_load_n(&calls[k], __ATOMIC_SEQ_CST));
    fprintf(stderr, "\n");
    if (rc != 0 || r.bad) {
        fprintf(stderr, "count run: gort_run %d, %s\n", rc, r.bad ? r.why : "");
        return 1;
    }
    return 0;
}

static long runs, faults, survived;

static void sweep_one(int kind, long n, int all_after)
{
    static struct sweep_arg a;   /* static: a Windows child is the program run again (util.h) */
    static struct child c;
    const char *bad;
    char what[96];
    a.kind = kind;
    a.n = n;
    a.persist = all_after;
    snprintf(what, sizeof what, "%s call %ld fails%s", fname[kind], n, all_after ? ", and every one after" : "");
    run_watched(sweep_child, &a, 30, &c);
    runs++;
    bad = bad_output(c.err);
    if (c.hung || (child_exit_code(&c) != 0 && child_exit_code(&c) != 10) || bad ||
        count_str(c.err, "could not create a thread") > 3) {
        CHECK(!"injected fault not survived");
        describe(what, &c);
        if (bad)
            fprintf(stderr, "%s: the child's output holds \"%s\"\n", what, bad);
        return;
    }
    if (child_exit_code(&c) == 0) {
        faults++;
        survived++;
    }
}

static void test_sweep(void)
{
    static struct child c;
    long counts[F_N];
    int k;
    long per_kind = check_scale(24);
    const char *line;
    memset(counts, 0, sizeof counts);
    run_watched(count_child, NULL, 60, &c);
    line = strstr(c.err, "counts:");
    if (c.hung || child_exit_code(&c) != 0 || !line) {
        CHECK(!"the counting run failed");
        describe("count run", &c);
        return;
    }
    line += strlen("counts:");
    for (k = 0; k < F_N; k++) {
        char *end;
        counts[k] = strtol(line, &end, 10);
        CHECK(end != line);
        line = end;
    }
    for (k = 0; k < F_N; k++) {
        long n, cnt = counts[k], step, last;
        check_note("%-15s %ld calls in one run", fname[k], cnt);
        /* ASan's runtime is linked into the program, so --wrap catches
           its own sigaltstack calls too (and it CHECK-fails on them) */
#if !defined(_WIN32)
        if (k == F_SIGALTSTACK && (UNDER_ASAN || UNDER_TSAN)) {
            check_note("sigaltstack not injected under ASan or TSan (their runtime calls it too)");
            continue;
        }
#endif
        if (cnt == 0)
            continue;
        /* every N up to per_kind; past that an even spread up to the count */
        step = cnt <= per_kind ? 1 : (cnt + per_kind - 1) / per_kind;
        last = cnt + 1;
        for (n = 1; n <= last; n += step)
            sweep_one(k, n, 0);
        /* as a limit: everything from the first, the second, the middle
           call on (not for EINTR: no limit makes every call interrupted) */
        if (ferrno[k] == EINTR)
            continue;
        sweep_one(k, 1, 1);
        if (per_kind < 4)
            continue;   /* Valgrind, qemu: each child costs seconds */
        if (cnt > 1)
            sweep_one(k, 2, 1);
        if (cnt > 4)
            sweep_one(k, cnt / 2, 1);
    }
    check_note("sweep: %ld runs, %ld with a fault injected, %ld of those survived", runs, faults, survived);
    CHECK(faults > 0);
}

/* ------------------------------------------------------------------ */
/* Regressions                                                         */

static void nop(void *arg) { (void)arg; }
static void flag_main(void *arg) { __atomic_store_n((int *)arg, 1, __ATOMIC_RELEASE); }

/* gort_run when its first goroutine thread cannot be created. */
static int first_thread_child(void *arg)
{
    int ran = 0, rc, kind = *(const int *)arg;
    /* pthread_create: call 1 is sysmon's, 2 the first M's; calloc for an M
       comes after the runtime's own allocations: fail them all */
    arm(kind, kind == F_PTHREAD_CREATE ? 2 : 1, 1);
    rc = gort_run(flag_main, &ran);
    disarm();
    if (kind == F_PTHREAD_CREATE && rc != -EAGAIN) {
        fprintf(stderr, "FAULT: gort_run returned %d, want -EAGAIN\n", rc);
        return 1;
    }
    if (kind != F_PTHREAD_CREATE && rc != -ENOMEM) {
        fprintf(stderr, "FAULT: gort_run returned %d, want -ENOMEM\n", rc);
        return 1;
    }
    if (ran) {
        fprintf(stderr, "FAULT: main ran although gort_run failed\n");
        return 1;
    }
    rc = gort_run(flag_main, &ran);
    if (rc != 0 || !ran) {
        fprintf(stderr, "FAULT: the next gort_run: %d, main ran %d\n", rc, ran);
        return 1;
    }
    return 0;
}

/* Background mode: gort_go from the main thread with no thread possible. */
static int start_thread_child(void *arg)
{
    int rc, ran = 0;
    int64_t end;
    (void)arg;
    if ((rc = gort_start(NULL)) != 0)
        return 2;
    arm(F_PTHREAD_CREATE, 1, 1);
    rc = gort_go(flag_main, &ran);
    disarm();
    if (rc != -EAGAIN) {
        fprintf(stderr, "FAULT: gort_go returned %d, want -EAGAIN\n", rc);
        return 1;
    }
    if (gort_goroutines() != 0) {
        fprintf(stderr, "FAULT: %ld goroutines after a refused gort_go\n", gort_goroutines());
        return 1;
    }
    rc = gort_go(flag_main, &ran);
    end = gort_now() + 10 * SEC;
    while (rc == 0 && !__atomic_load_n(&ran, __ATOMIC_ACQUIRE) && gort_now() < end)
        usleep(1000);
    if (rc != 0 || !ran) {
        fprintf(stderr, "FAULT: the next gort_go: %d, ran %d\n", rc, ran);
        return 1;
    }
    return gort_stop() == 0 ? 0 : 1;
}

/* the kinds first_thread_child fails (static: run_child's arg on Windows) */
static int kind_thread = F_PTHREAD_CREATE, kind_calloc = F_CALLOC;

static void test_first_thread(void)
{
    static struct child c;
    run_watched(first_thread_child, &kind_thread, 30, &c);
    if (c.hung || child_exit_code(&c) != 0 || bad_output(c.err)) {
        CHECK(!"gort_run with no thread for goroutines");
        describe("gort_run, pthread_create failing", &c);
    }
    run_watched(start_thread_child, NULL, 30, &c);
    if (c.hung || child_exit_code(&c) != 0 || bad_output(c.err)) {
        CHECK(!"gort_go in background mode with no thread for goroutines");
        describe("gort_start + gort_go, pthread_create failing", &c);
    }
}

#if defined(_WIN32)
/* A part of the poller cannot be made (its event, its timer, both of the
   timer's forms, its break socket): startup fails with that call's
   error, main never runs, and the next gort_run works. */
static const int poller_kinds[][3] = {   /* kind, every call after, the error */
    { F_EVENT, 0, -ENOMEM }, { F_TIMER, 1, -ENOMEM }, { F_SOCKET, 0, -EMFILE } };
static int poller_child(void *arg)
{
    const int *k = (const int *)arg;
    int ran = 0, rc;
    arm(k[0], 1, k[1]);
    rc = gort_run(flag_main, &ran);
    disarm();
    if (rc != k[2] || ran) {
        fprintf(stderr, "FAULT: %s failing: gort_run returned %d (main ran %d), want %d\n", fname[k[0]], rc, ran,
                k[2]);
        return 1;
    }
    return gort_run(flag_main, &ran) == 0 && ran ? 0 : 1;
}

static void test_evfd(void)
{
    static struct child c;
    size_t i;
    for (i = 0; i < sizeof poller_kinds / sizeof poller_kinds[0]; i++) {
        run_watched(poller_child, (void *)poller_kinds[i], 30, &c);
        if (c.hung || child_exit_code(&c) != 0 || bad_output(c.err)) {
            CHECK(!"gort_run with a part of the poller failing");
            describe(fname[poller_kinds[i][0]], &c);
        }
    }
}
#else
/* The eventfd's registration with epoll fails: startup must fail. */
static int evfd_child(void *arg)
{
    int ran = 0, rc;
    (void)arg;
    arm(F_EPOLL_CTL, 1, 0);
    rc = gort_run(flag_main, &ran);
    disarm();
    if (rc != -ENOMEM || ran) {
        fprintf(stderr, "FAULT: gort_run returned %d (main ran %d), want -ENOMEM\n", rc, ran);
        return 1;
    }
    return gort_run(flag_main, &ran) == 0 && ran ? 0 : 1;
}

static void test_evfd(void)
{
    static struct child c;
    run_watched(evfd_child, NULL, 30, &c);
    if (c.hung || child_exit_code(&c) != 0 || bad_output(c.err)) {
        CHECK(!"gort_run with the eventfd's epoll_ctl failing");
        describe("epoll_ctl of the eventfd fails", &c);
    }
}
#endif

/* Timers when the timer heap cannot grow, and plain threads when nothing
   can be allocated. */
static void sleeper(void *arg)
{
    gort_wg *wg = (gort_wg *)arg;
    gort_sleep(3 * MS);
    gort_wg_done(wg);
}

static void timers_main(void *arg)
{
    struct res *r = (struct res *)arg;
    gort_wg wg = GORT_WG_INIT;
    gort_chan *c = gort_chan_make(sizeof(long), 0);
    gort_case cs[1];
    int i, n = 0;
    int64_t t0;
    arm(F_REALLOC, 1, 1);   /* no timer heap can be allocated or grown */
    for (i = 0; i < 100; i++) {   /* more than one heap's first size (64) */
        gort_wg_add(&wg, 1);
        if (gort_go(sleeper, &wg) == 0)
            n++;
        else
            gort_wg_done(&wg);
    }
    t0 = gort_now();
    gort_sleep(1 * MS);
    WCHECK(r, gort_now() - t0 >= 1 * MS);
    memset(cs, 0, sizeof cs);
    cs[0].chan = c;
    cs[0].op = GORT_RECV;
    WCHECK(r, gort_select(cs, 1, 2 * MS) == -ETIMEDOUT);
    gort_wg_wait(&wg);   /* every sleeper woke */
    WCHECK(r, n == 100);
    WCHECK(r, __atomic_load_n(&injected, __ATOMIC_SEQ_CST));
    disarm();
    gort_chan_free(c);
}

static int timers_child(void *arg)
{
    (void)arg;
    return run_res(timers_main, 0);
}

static int alloc_free_in;   /* atomic */
static void *alloc_free_thread(void *arg)
{
    gort_chan *c = (gort_chan *)arg;
    long v = 5;
    gort_mutex m = GORT_MUTEX_INIT;
    gort_mutex_lock(&m);
    gort_mutex_unlock(&m);
    __atomic_store_n(&alloc_free_in, 1, __ATOMIC_RELEASE);
    gort_chan_send(c, &v);
    return NULL;
}

static void threadrec_main(void *arg)
{
    struct res *r = (struct res *)arg;
    gort_chan *c = gort_chan_make(sizeof(long), 0);
    own_thread th;
    long v = 0;
    arm(F_CALLOC, 1, 1);   /* the thread's first call into gort needs no memory */
    WCHECK(r, own_thread_create(&th, alloc_free_thread, c) == 0);
    while (!__atomic_load_n(&alloc_free_in, __ATOMIC_ACQUIRE))
        gort_sleep(100000);
    WCHECK(r, gort_chan_recv(c, &v) == 1);
    WCHECK(r, v == 5);
    disarm();
    own_thread_join(th);
    gort_chan_free(c);
}

static int threadrec_child(void *arg)
{
    (void)arg;
    return run_res(threadrec_main, 0);
}

static void test_no_memory(void)
{
    static struct child c;
    run_watched(timers_child, NULL, 30, &c);
    if (c.hung || child_exit_code(&c) != 0 || bad_output(c.err)) {
        CHECK(!"timers with a timer heap that cannot grow");
        describe("realloc failing: timers", &c);
    }
    run_watched(threadrec_child, NULL, 30, &c);
    if (c.hung || child_exit_code(&c) != 0 || bad_output(c.err)) {
        CHECK(!"a plain thread's first wait with calloc failing");
        describe("calloc failing: a plain thread's first call", &c);
    }
    run_watched(first_thread_child, &kind_calloc, 30, &c);
    if (c.hung || child_exit_code(&c) != 0 || bad_output(c.err)) {
        CHECK(!"gort_run with calloc failing");
        describe("gort_run, calloc failing", &c);
    }
}

/* Thread creation failing over and over is said once per cause. */
static void blocker(void *arg)
{
    gort_wg *wg = (gort_wg *)arg;
    gort_block_begin();
    usleep(2000);   /* long enough for sysmon to hand the P off (and try a thread) */
    gort_block_end();
    gort_wg_done(wg);
}

static void threadmsg_main(void *arg)
{
    struct res *r = (struct res *)arg;
    int round, i;
    /* the runtime's first threads exist; every later one fails */
    arm(F_PTHREAD_CREATE, 1, 1);
    for (round = 0; round < 20; round++) {
        gort_wg wg = GORT_WG_INIT;
        for (i = 0; i < 4; i++) {
            gort_wg_add(&wg, 1);
            if (gort_go(blocker, &wg) != 0)
                gort_wg_done(&wg);
        }
        gort_wg_wait(&wg);
    }
    WCHECK(r, calls[F_PTHREAD_CREATE] > 1);   /* it did try, more than once */
    disarm();
}

static int threadmsg_child(void *arg)
{
    (void)arg;
    return run_res(threadmsg_main, 2);
}

static void test_thread_message(void)
{
    static struct child c;
    int n;
    run_watched(threadmsg_child, NULL, 60, &c);
    n = count_str(c.err, "could not create a thread");
    if (c.hung || child_exit_code(&c) != 0 || bad_output(c.err) || n != 1) {
        CHECK(!"thread creation failing: one message");
        fprintf(stderr, "\"could not create a thread\" said %d times (want 1)\n", n);
        describe("pthread_create failing repeatedly", &c);
    }
}

/* With every new stack mapping failing, gort_go reuses what other Ps
   cache before it says -ENOMEM: each round spawns as many as the first. */
struct reclaim {
    gort_chan *gate;
    long counts[6];
};
static void gated(void *arg)
{
    long v;
    gort_chan_recv((gort_chan *)arg, &v);
}
static void reclaim_main(void *arg)
{
    struct reclaim *x = (struct reclaim *)arg;
    int round;
    x->gate = gort_chan_make(sizeof(long), 0);
    gort_go(nop, NULL);      /* the first region exists */
    while (gort_goroutines() > 1)
        gort_yield();
    gort_sleep(5 * MS);      /* its stack is back in a cache */
    arm(F_MMAP, 1, 1);       /* and no other region can be mapped */
    for (round = 0; round < 6; round++) {
        long n = 0;
        int64_t end = gort_now() + 20 * SEC;
        gort_chan *gate = gort_chan_make(sizeof(long), 0);
        while (n < 100000 && gort_go(gated, gate) == 0)
            n++;
        x->counts[round] = n;
        gort_chan_close(gate);
        while (gort_goroutines() > 1 && gort_now() < end)
            gort_yield();
        gort_chan_free(gate);
    }
    disarm();
    gort_chan_free(x->gate);
}
static int reclaim_child(void *arg)
{
    struct reclaim x;
    gort_opts o;
    int rc, i, ok = 1;
    long max;
    (void)arg;
    memset(&x, 0, sizeof x);
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    o.stack_size = 16 << 20;   /* 256 segments in a region */
    o.hog_ns = -1;
    rc = gort_run_opts(&o, reclaim_main, &x);
    for (i = 0; i < 6; i++)
        fprintf(stderr, "round %d: %ld goroutines\n", i, x.counts[i]);
    if (rc != 0)
        ok = 0;
    /* a P's cache holds up to 64, and gort_go waits until every P has
       spilled its cache; a goroutine exiting meanwhile may keep one or
       two in its P's cache for a round */
    for (i = 1, max = x.counts[0]; i < 6; i++)
        if (x.counts[i] > max)
            max = x.counts[i];
    for (i = 0; i < 6; i++)
        if (x.counts[i] < max - 3)
            ok = 0;
    if (x.counts[0] < 200)
        ok = 0;
    return ok ? 0 : 1;
}

static void test_reclaim(void)
{
    static struct child c;
    run_watched(reclaim_child, NULL, 60, &c);
    if (c.hung || child_exit_code(&c) != 0 || bad_output(c.err)) {
        CHECK(!"stacks cached by other Ps are reused before -ENOMEM");
        describe("mmap failing: reuse of cached stacks", &c);
    }
}

/* Guards that cannot be installed: said once, with vm.max_map_count. */
static void guard_main(void *arg)
{
    int i;
    gort_wg wg = GORT_WG_INIT;
    (void)arg;
    arm(F_MPROTECT, 1, 1);
    for (i = 0; i < 20; i++) {
        gort_wg_add(&wg, 1);
        if (gort_go(sleeper, &wg) != 0)
            gort_wg_done(&wg);
    }
    gort_wg_wait(&wg);
    disarm();
}
static int guard_child(void *arg)
{
    gort_opts o;
    (void)arg;
    memset(&o, 0, sizeof o);
    o.debug = GORT_DEBUG_GUARD_MPROT;
    return gort_run_opts(&o, guard_main, NULL) == 0 ? 0 : 1;
}

#if !defined(_WIN32)
/* No fd free when the guard probe runs: an overflow is still reported. */
static __attribute__((noinline)) long recurse(long depth)
{
    volatile unsigned char buf[256];
    buf[0] = (unsigned char)depth;
    buf[255] = (unsigned char)(depth >> 8);
    if (depth > (1L << 40))
        return buf[0];
    return recurse(depth + 1) + buf[255];
}
static void overflow_g(void *arg) { (void)arg; recurse(0); }
static void overflow_main(void *arg)
{
    gort_chan *c = (gort_chan *)arg;
    long v;
    gort_go(overflow_g, NULL);
    gort_chan_recv(c, &v);   /* never returns */
}
static int nofd_child(void *arg)
{
    struct rlimit rl;
    int fd, used = 0, rc;
    gort_opts o;
    (void)arg;
    /* the lowest free fd: fds below it are open; leave room for epoll and
       the eventfd, none for a pipe */
    fd = dup(0);
    if (fd < 0)
        return 2;
    close(fd);
    for (used = 0; used < fd + 64; used++)
        if (fcntl(used, F_GETFD) < 0)
            break;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = (rlim_t)used + 2;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 2;
    memset(&o, 0, sizeof o);
    o.stack_size = 64 * 1024;
    rc = gort_run_opts(&o, overflow_main, gort_chan_make(sizeof(long), 0));
    fprintf(stderr, "gort_run returned %d\n", rc);
    return 3;
}
#endif

/* (On Windows the message names Wine's map entries: the same words.) */
static void test_guards(void)
{
    static struct child c;
    int n;
    run_watched(guard_child, NULL, 30, &c);
    n = count_str(c.err, "vm.max_map_count");
    if (c.hung || child_exit_code(&c) != 0 || bad_output(c.err) || n != 1 ||
        !strstr(c.err, "guard")) {
        CHECK(!"lost guard pages are said once");
        fprintf(stderr, "the guard message came %d times (want 1)\n", n);
        describe("mprotect failing: guard message", &c);
    }
#if defined(_WIN32)
    check_note("the guard probe without a free fd: Linux's (no fd limit on Windows)");
#else
    run_watched(nofd_child, NULL, 30, &c);
    if (c.hung || !WIFSIGNALED(c.status) || WTERMSIG(c.status) != SIGABRT ||
        !strstr(c.err, "stack overflow")) {
        CHECK(!"no free fd at the guard probe: overflow still reported");
        describe("RLIMIT_NOFILE at the guard probe, then an overflow", &c);
    }
#endif
}

/* EINTR in select's readiness check of data that is already there. */
static void eintr_main(void *arg)
{
    struct res *r = (struct res *)arg;
    int sv[2], rc;
    char b;
    gort_case cs[1];
    if (own_sock_pair(sv) != 0) {
        WCHECK(r, !"socket pair");
        return;
    }
    WCHECK(r, gort_write(sv[0], "ab", 2) == 2);
    WCHECK(r, gort_read(sv[1], &b, 1) == 1);   /* registers sv[1]; one byte left */
    gort_sleep(20 * MS);                          /* the poller takes the edge */
    memset(cs, 0, sizeof cs);
    cs[0].op = GORT_WAIT_IN;
    cs[0].fd = sv[1];
    arm(F_POLL, 1, 0);
    rc = gort_select(cs, 1, 300 * MS);
    WCHECK(r, __atomic_load_n(&injected, __ATOMIC_SEQ_CST));
    disarm();
    WCHECK(r, rc == 0);
    arm(F_POLL, 1, 0);
    rc = gort_wait_fd(sv[1], GORT_IN, 300 * MS);
    disarm();
    WCHECK(r, rc == GORT_IN);
    gort_close(sv[0]);
    gort_close(sv[1]);
}
static int eintr_child(void *arg)
{
    (void)arg;
    return run_res(eintr_main, 0);
}

static void test_eintr(void)
{
    static struct child c;
    run_watched(eintr_child, NULL, 30, &c);
    if (c.hung || child_exit_code(&c) != 0 || bad_output(c.err)) {
        CHECK(!"EINTR in the readiness check");
        describe("poll EINTR in select / wait_fd", &c);
    }
}

#if !defined(_WIN32)
/* RLIMIT_NOFILE at each level near what gort needs. */
static int nofile_child(void *arg)
{
    long extra = (long)(intptr_t)arg;
    struct rlimit rl;
    struct res r;
    int fd, used, rc;
    gort_opts o;
    fd = dup(0);
    if (fd < 0)
        return 2;
    close(fd);
    for (used = 0; used < fd + 64; used++)
        if (fcntl(used, F_GETFD) < 0)
            break;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = (rlim_t)(used + extra);
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 2;
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    memset(&r, 0, sizeof r);
    rc = gort_run_opts(&o, light_workload, &r);
    if (rc != 0 && !start_err_ok(rc)) {
        fprintf(stderr, "FAULT: gort_run %d with %ld fds free\n", rc, extra);
        return 1;
    }
    if (rc == 0 && r.bad) {
        fprintf(stderr, "FAULT: %s with %ld fds free\n", r.why, extra);
        return 1;
    }
    return 0;
}

static void test_nofile(void)
{
    static struct child c;
    long extra;
    for (extra = 0; extra <= 6; extra++) {
        char what[64];
        run_watched(nofile_child, (void *)(intptr_t)extra, 30, &c);
        snprintf(what, sizeof what, "RLIMIT_NOFILE with %ld fds free", extra);
        if (c.hung || child_exit_code(&c) != 0 || bad_output(c.err)) {
            CHECK(!"RLIMIT_NOFILE");
            describe(what, &c);
        }
    }
}

/* RLIMIT_AS a little above what the process uses: gort_go says -ENOMEM
   (or -EAGAIN) at the limit, round after round about as many fit, and
   the runtime works in between. Not under the sanitizers (their shadow
   memory is a reservation far beyond any such limit) or Valgrind. */
static void as_main(void *arg)
{
    struct res *r = (struct res *)arg;
    long counts[4];
    int round, rc = 0;
    for (round = 0; round < 4; round++) {
        long n = 0;
        int64_t end = gort_now() + 20 * SEC;
        gort_chan *gate = gort_chan_make(sizeof(long), 0);
        WCHECK(r, gate != NULL);
        if (!gate)
            return;
        while (n < 1000000 && (rc = gort_go(gated, gate)) == 0)
            n++;
        WCHECK(r, go_err_ok(rc));
        counts[round] = n;
        gort_chan_close(gate);
        while (gort_goroutines() > 1 && gort_now() < end)
            gort_yield();
        gort_chan_free(gate);
        {   /* the address space of the ended goroutines' stacks goes back
               (sysmon's gort__stack_release): without it, the limit stayed
               reached and every later mmap (or malloc) of the program
               failed. 32 MiB: the region the main goroutine's stack is in
               (128 MiB), a malloc arena (64 MiB) and sysmon's thread stack
               (8 MiB) may stay. */
            void *big = MAP_FAILED;
            int64_t give = gort_now() + 2 * SEC;
            while ((big = mmap(NULL, (size_t)32 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) ==
                       MAP_FAILED &&
                   gort_now() < give)
                gort_sleep(MS);
            WCHECK(r, big != MAP_FAILED);
            if (big != MAP_FAILED) munmap(big, (size_t)32 << 20);
        }
        part_jobs(r);
        part_timers(r);
        fprintf(stderr, "round %d: %ld goroutines under RLIMIT_AS\n", round, n);
    }
    WCHECK(r, counts[0] > 100);
    /* Within 10%: a thread the scheduler starts between rounds (a spinning
       M, one for a handoff) takes its own stack from the same limit, 8 MiB,
       about 32 goroutines' worth; a stack that is not reused loses a whole
       round's worth. */
    for (round = 1; round < 4; round++)
        WCHECK(r, counts[round] >= counts[0] - counts[0] / 10 && counts[round] <= counts[0] + counts[0] / 10);
}
static int as_child(void *arg)
{
    struct rlimit rl;
    struct res r;
    gort_opts o;
    long pages = 0, rss;
    int rc;
    FILE *f = fopen("/proc/self/statm", "r");
    (void)arg;
    if (!f || fscanf(f, "%ld %ld", &pages, &rss) != 2)
        return 2;
    fclose(f);
#ifdef M_ARENA_MAX
    /* One malloc arena: glibc gives a thread that finds the arena busy
       one of its own, 64 MiB of address space at once, and a thread that
       did so between two rounds took 256 goroutines' worth from the
       later ones (ubsan: 1016, then 760; 1 run in 10). */
    mallopt(M_ARENA_MAX, 1);
#endif
    getrlimit(RLIMIT_AS, &rl);
    rl.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)256 << 20);
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        return 2;
    {   /* is the limit enforced? (qemu-user maps guest memory its own way) */
        void *m = mmap(NULL, (size_t)512 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m != MAP_FAILED) {
            munmap(m, (size_t)512 << 20);
            fprintf(stderr, "round 3: skipped, RLIMIT_AS is not enforced here\n");
            return 0;
        }
    }
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    o.hog_ns = -1;
    memset(&r, 0, sizeof r);
    rc = gort_run_opts(&o, as_main, &r);
    if (rc != 0 || r.bad) {
        fprintf(stderr, "FAULT: gort_run %d, %s\n", rc, r.why);
        return 1;
    }
    return 0;
}

static void test_rlimit_as(void)
{
    static struct child c;
#if defined(GORT__ASAN) || defined(GORT__TSAN) || defined(GORT_VALGRIND)
    check_note("RLIMIT_AS: not under ASan, TSan or Valgrind");
    return;
#endif
    run_watched(as_child, NULL, 60, &c);
    if (c.hung || child_exit_code(&c) != 0 || bad_output(c.err)) {
        CHECK(!"RLIMIT_AS");
        describe("RLIMIT_AS", &c);
    } else {
        const char *l = strstr(c.err, "round 3: ");
        check_note("RLIMIT_AS %s", l ? l : "(no rounds?)");
    }
}
#endif

int main(void)
{
    test_first_thread();
    test_evfd();
    test_no_memory();
    test_thread_message();
    test_reclaim();
    test_guards();
    test_eintr();
#if defined(_WIN32)
    check_note("RLIMIT_NOFILE and RLIMIT_AS: Linux's (Windows has neither)");
#else
    test_nofile();
    test_rlimit_as();
#endif
    test_sweep();
    return check_done();
}
