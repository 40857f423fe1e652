/* util.h - what gort's test programs share, so that each helper has one
   copy. Include it after gort.h and check.h:

       #include "../gort.h"
       #include "check.h"
       #include "util.h"

   Atomics (over the __atomic builtins; any integer or pointer type):
       LOAD(p)            acquire load
       STORE(p, v)        release store
       ADD(p, v)          add, returns the new value (acq_rel)
       INC(p)             ADD(p, 1), value unused
   Bounded waits (hang detectors, not timing assertions: a bug shows as a
   failed check, not a hang):
       wait_for(p, want)           int *p: parks in 1 ms gort_sleeps until
                                   *p >= want; 0 after 20 s. From a
                                   goroutine or a plain thread.
       wait_for_nap(p, want, nap)  the same with naps of nap ns
       yield_until(p, want)        long *p: gort_yields until *p == want;
                                   0 after WAIT_NS
       yield_until_alone()         gort_yields until the caller is the only
                                   goroutine; 0 after WAIT_NS
     WAIT_NS is 120 s unless the program defines it before including this.
   Odds and ends:
       rng_next(&s)       xorshift64: the next value of state s (not 0)
       under_valgrind()   1 when the program runs under Valgrind
       UNDER_ASAN, UNDER_TSAN  1 when built with that sanitizer, else 0
       watchdog(s)        alarm(s): a hang that outlives every bound in the
                          program dies of SIGALRM (the harness also has a
                          timeout; this is the program's own, shorter one)
       plain_sleep_ms(ms) nanosleep, not a gort call (the runtime cannot
                          see it), resumed after signals
       proc_status_kb(f)  field f ("VmRSS") of /proc/self/status in KiB, -1
                          if there is none
       count_str(s, n)    how many times n occurs in s (not overlapping)
       run_procs(n, fn, arg)  gort_run_opts with maxprocs n, the rest default
       run_named(name, fn, procs, hog_ns, arg)  gort_run_opts at maxprocs
                          procs and that hog_ns (0: default, -1: off),
                          checked to return 0, then a note "name maxprocs
                          N ok|FAILED T ms" (the Go ports' drivers)
       recv_int(c), send_int(c, v)  an int over channel c, checked to
                          succeed (recv_int gives -1 if it did not)
       mono_ns()          CLOCK_MONOTONIC in ns (no runtime needed)
       tcp_pair(sv)       two connected loopback TCP sockets (pollable on
                          Windows too, where a pipe is not)
       poll_pair(fd)      a pollable pair: a pipe, or tcp_pair on Windows
                          (close both ends with gort_close)
       util_tmpfile()     tmpfile(); on Windows a uniquely named file in
                          the temporary directory, deleted when closed
   Child processes:
       struct child c;
       run_child(fn, arg, alarm_s, &c)
       run_child_opts(fn, arg, &opts, &c)
       run_child_void(vfn, arg, alarm_s, &c)   (void vfn(void *): exits 0)
     fork()s; the child points its stderr (and, with opts.stdout_too, its
     stdout) at a pipe, calls alarm(alarm_s) if alarm_s > 0, and exits with
     fn(arg)'s return value. The parent reads the pipe until the child
     closes it, then waits for it: c.status (waitpid's; -1 if there was no
     child), c.err (what the child wrote, NUL-terminated; the first 64 KiB,
     the rest is read and dropped, c.truncated says so), c.len, c.ns (how
     long it lived) and c.hung. Options (struct child_opts, zero = none):
       alarm_s     as above
       limit_ns    the parent's watchdog: if the pipe is still open after
                   limit_ns, the child gets limit_sig (SIGQUIT: gort prints
                   every goroutine; 0 means SIGKILL), SIGKILL 3 s and 6 s
                   later, and the parent stops reading at the third
                   signal; c.hung is set
       stdout_too  capture stdout as well
       to_file     stderr goes to an unlinked temporary file instead of a
                   pipe, so the child can read back what it wrote
                   (pread(2, ...)); the parent reads it when the child has
                   ended (limit_ns and on_output are not used then)
       on_output   called by the parent after each read with the output so
                   far (c->err, NUL-terminated), and ctx
     child_exit_code(&c) is the exit status, 128 + the signal, or -1;
     child_has(&c, s) whether c.err holds s; child_entry_has(&c, state,
     fn) whether one goroutine's entry of a gort dump in c.err names both.
     The system calls the parent makes go through UTIL_PIPE, UTIL_POLL and
     UTIL_READ (default pipe, poll, read): a program that wraps those
     (test_faults.c, -Wl,--wrap) points them at the real ones first.

   Static inline (unused helpers cost no warning), C99 and C++, Linux and
   Windows (MinGW-w64, run under Wine). On Windows a child is the program
   run again (see util_spawn: its arg must be static data), watchdog() is
   a thread that ends the process with exit status 142 (128 + SIGALRM),
   and proc_status_kb() knows VmRSS only. CHILD_ABORT_CODE is the exit
   status of a child that called abort() on either, CHILD_ALARM_CODE of
   one its alarm_s ended. */
#ifndef GORT_TEST_UTIL_H
#define GORT_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#if defined(_WIN32)
#include <windows.h>
#include <io.h>
#include <psapi.h>
#include <process.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#ifndef UTIL_PIPE
#define UTIL_PIPE pipe
#endif
#ifndef UTIL_POLL
#define UTIL_POLL poll
#endif
#ifndef UTIL_READ
#define UTIL_READ read
#endif

#ifndef WAIT_NS
#define WAIT_NS (120 * 1000000000LL)
#endif

/* ------------------------------------------------------------ atomics */

#define LOAD(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define ADD(p, v)   __atomic_add_fetch((p), (v), __ATOMIC_ACQ_REL)
#define INC(p)      ((void)__atomic_fetch_add((p), 1, __ATOMIC_ACQ_REL))

/* ------------------------------------------------------------ waits */

static inline int wait_for_nap(int *p, int want, int64_t nap_ns)
{
    int64_t end = gort_now() + 20000 * 1000000LL;
    while (LOAD(p) < want) {
        if (gort_now() > end)
            return 0;
        gort_sleep(nap_ns);
    }
    return 1;
}

static inline int wait_for(int *p, int want)
{
    return wait_for_nap(p, want, 1000000LL);
}

static inline int yield_until(const long *p, long want)
{
    int64_t end = gort_now() + WAIT_NS;
    while (LOAD(p) != want) {
        if (gort_now() > end)
            return 0;
        gort_yield();
    }
    return 1;
}

static inline int yield_until_alone(void)
{
    int64_t end = gort_now() + WAIT_NS;
    while (gort_goroutines() != 1) {
        if (gort_now() > end)
            return 0;
        gort_yield();
    }
    return 1;
}

/* ------------------------------------------------------------ odds and ends */

static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;   /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* UNDER_ASAN, UNDER_TSAN: 1 when built with that sanitizer (gcc says so
   with __SANITIZE_*__, clang with __has_feature), else 0. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

static inline int under_valgrind(void)
{
    const char *p = getenv("LD_PRELOAD");
    return p && strstr(p, "vgpreload") != NULL;
}

/* GORT_DEBUG=handoff (set by hand, or opts.debug: every P handed off at
   every sysmon look): no goroutine stays on a P long enough to be a hog */
static inline int debug_handoff(void)
{
    const char *d = getenv("GORT_DEBUG");
    return d && strstr(d, "handoff") != NULL;
}

/* GORT_DEBUG=compact: every park compacts the stack (tens of microseconds
   each), so bounds on how work splits between goroutines that park a
   lot measure compaction, not the scheduler. */
static inline int debug_compact(void)
{
    const char *d = getenv("GORT_DEBUG");
    return d && strstr(d, "compact") != NULL;
}

#if defined(_WIN32)
static unsigned __stdcall util_watchdog_main(void *a)
{
    Sleep((DWORD)(uintptr_t)a * 1000);
    fprintf(stderr, "watchdog: %u s passed, the program is hung\n", (unsigned)(uintptr_t)a);
    fflush(stderr);
    TerminateProcess(GetCurrentProcess(), 142);   /* 128 + SIGALRM, as on Linux */
    return 0;
}

static inline void watchdog(unsigned seconds)
{
    uintptr_t h = _beginthreadex(NULL, 64 * 1024, util_watchdog_main, (void *)(uintptr_t)seconds, 0, NULL);
    if (h)
        CloseHandle((HANDLE)h);
}

static inline void plain_sleep_ms(long ms)
{
    Sleep((DWORD)ms);
}

/* The working set stands in for VmRSS (under Wine it is the host's
   VmRSS); there is no VmPTE. */
static inline long proc_status_kb(const char *field)
{
    PROCESS_MEMORY_COUNTERS pmc;
    if (strcmp(field, "VmRSS") != 0)
        return -1;
    memset(&pmc, 0, sizeof pmc);
    pmc.cb = sizeof pmc;
    return K32GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc) ? (long)(pmc.WorkingSetSize / 1024) : -1;
}

/* POSIX's environment calls, over the C runtime's _putenv_s (which
   getenv, and so gort's $GORT_* settings, read) */
static inline int setenv(const char *name, const char *value, int overwrite)
{
    if (!overwrite && getenv(name))
        return 0;
    return _putenv_s(name, value) == 0 ? 0 : -1;
}

static inline int unsetenv(const char *name)
{
    return _putenv_s(name, "") == 0 ? 0 : -1;   /* "": removes it */
}

static inline int64_t mono_ns(void)
{
    LARGE_INTEGER c, f;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return c.QuadPart / f.QuadPart * 1000000000LL + c.QuadPart % f.QuadPart * 1000000000LL / f.QuadPart;
}
#else
static inline void watchdog(unsigned seconds)
{
    (void)alarm(seconds);
}

static inline void plain_sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static inline long util_status_kb(const char *path, const char *field);

static inline long proc_status_kb(const char *field)
{
    return util_status_kb("/proc/self/status", field);
}

/* field of a /proc/<pid>/status file in KiB, -1 if there is none */
static inline long util_status_kb(const char *path, const char *field)
{
    FILE *f = fopen(path, "r");
    char line[256];
    size_t n = strlen(field);
    long v = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

static inline int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
#endif

static inline int count_str(const char *hay, const char *needle)
{
    int n = 0;
    const char *s = hay;
    while ((s = strstr(s, needle)) != NULL) {
        n++;
        s += strlen(needle);
    }
    return n;
}

static inline int run_procs(int maxprocs, void (*fn)(void *), void *arg)
{
    gort_opts o;
    memset(&o, 0, sizeof o);
    o.maxprocs = maxprocs;
    return gort_run_opts(&o, fn, arg);
}

#define run_named(name, fn, procs, hog_ns, arg) \
    util_run_named(__FILE__, name, fn, procs, hog_ns, arg)

static inline void util_run_named(const char *file, const char *name, void (*fn)(void *),
                                  int procs, int64_t hog_ns, void *arg)
{
    gort_opts o;
    int fails = check_failures();
    int64_t t0 = gort_now();
    memset(&o, 0, sizeof o);
    o.maxprocs = procs;
    o.hog_ns = hog_ns;
    CHECK_EQ(gort_run_opts(&o, fn, arg), 0);
    check__note(file, "%-28s maxprocs %3d  %s  %.0f ms", name, procs,
                check_failures() == fails ? "ok" : "FAILED", (double)(gort_now() - t0) / 1e6);
}

static inline int recv_int(gort_chan *c)
{
    int v = -1;
    CHECK_EQ(gort_chan_recv(c, &v), 1);
    return v;
}

static inline void send_int(gort_chan *c, int v)
{
    CHECK_EQ(gort_chan_send(c, &v), 0);
}

/* ------------------------------------------------------------ sockets */

/* tcp_pair(sv): two connected TCP sockets over loopback, as int fds (on
   Windows SOCKETs, which fit; Winsock must be started). 0, or -1. Where
   a test needs a pollable pair on both systems (a pipe is not pollable
   on Windows). Close with gort_close. */
static inline int tcp_pair(int sv[2])
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int one = 1;
#if defined(_WIN32)
    SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP), c, s;
    if (l == INVALID_SOCKET)
        return -1;
#else
    int l = socket(AF_INET, SOCK_STREAM, 0), c, s;
    if (l < 0)
        return -1;
#endif
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, (const char *)&one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) != 0)
        goto fail;
    c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a) != 0)
        goto fail;
    s = accept(l, NULL, NULL);
    gort_close((int)l);
    sv[0] = (int)s;
    sv[1] = (int)c;
    return 0;
fail:
    gort_close((int)l);
    return -1;
}

/* poll_pair(fd): a pollable pair of fds, [0] to read and [1] to write:
   a pipe, or on Windows (where a pipe has no readiness) tcp_pair's two
   sockets. 0, or -1. Close with gort_close. */
static inline int poll_pair(int fd[2])
{
#if defined(_WIN32)
    return tcp_pair(fd);
#else
    return pipe(fd);
#endif
}

/* util_tmpfile(): tmpfile(), except on Windows, where msvcrt's makes
   its files in the drive's root under names that programs running at
   once collide on (a failed tmpfile, seen with three tests at once): a
   uniquely named file of the temporary directory, deleted when closed.
   NULL on failure. */
static inline FILE *util_tmpfile(void)
{
#if defined(_WIN32)
    char dir[MAX_PATH], path[MAX_PATH];
    HANDLE h;
    int fd;
    DWORD n = GetTempPathA(sizeof dir, dir);
    if (n == 0 || n >= sizeof dir || !GetTempFileNameA(dir, "gt", 0, path))
        return NULL;
    h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                    FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return NULL;
    fd = _open_osfhandle((intptr_t)h, _O_RDWR | _O_BINARY);
    if (fd < 0) {
        CloseHandle(h);
        return NULL;
    }
    return _fdopen(fd, "w+b");
#else
    return tmpfile();
#endif
}

/* ------------------------------------------------------------ children */

struct child {
    int     status;       /* waitpid's; -1 if there was no child */
    int     hung;         /* the parent's watchdog (limit_ns) fired */
    int     truncated;    /* the child wrote more than err holds */
    int64_t ns;           /* how long the child lived */
    size_t  len;          /* bytes in err */
    char    err[1 << 16]; /* what it wrote, NUL-terminated */
};

struct child_opts {
    unsigned alarm_s;
    int64_t  limit_ns;
    int      limit_sig;
    int      stdout_too;
    int      to_file;
    void   (*on_output)(const struct child *c, void *ctx);
    void    *ctx;
};

static inline void util_child_append(struct child *c, const char *p, size_t n)
{
    size_t room = sizeof c->err - 1 - c->len;
    if (n > room) {
        n = room;
        c->truncated = 1;
    }
    memcpy(c->err + c->len, p, n);
    c->len += n;
    c->err[c->len] = '\0';
}

#if defined(_WIN32)
/* Windows has no fork: the child is this program again (its own .exe),
   told by $GORT_TEST_CHILD what to run. fn and arg travel as offsets
   from the executable's base, the same in every process of the image
   wherever ASLR puts it, so arg must be NULL or point into the program's
   static data. The UTIL_ARG_COPY bytes at arg (fewer at the image's end)
   go along as the parent has them ($GORT_TEST_CHILD_ARG, in hex), words
   that point into the parent's image rebased to the child's: a static
   struct the parent filled in (function pointers included) arrives as
   fork would give it; anything else of the parent's is not there.
   util_child_entry, a constructor, runs fn(arg) before main and exits
   with its value (0 for a void function). The child gets a
   process group of its own, so the watchdog's limit_sig (any) becomes
   Ctrl+Break, gort's counterpart of SIGQUIT (the dump), before the
   TerminateProcess calls. to_file has no Windows form (a failed check).
   child_exit_code() is the exit code (abort(): 3; a crash: the exception
   code, e.g. 0xC0000005 as a negative int). */
static inline uintptr_t util_image_base(void)
{
    return (uintptr_t)GetModuleHandleA(NULL);
}

static inline size_t util_image_size(void)
{
    const IMAGE_DOS_HEADER *d = (const IMAGE_DOS_HEADER *)util_image_base();
    const IMAGE_NT_HEADERS *nt = (const IMAGE_NT_HEADERS *)((const char *)d + d->e_lfanew);
    return nt->OptionalHeader.SizeOfImage;
}

#define UTIL_ARG_COPY 512

__attribute__((constructor)) static void util_child_entry(void)
{
    const char *e = getenv("GORT_TEST_CHILD"), *h = getenv("GORT_TEST_CHILD_ARG");
    unsigned long long f, a, pbase;
    unsigned al;
    int isvoid, r;
    if (!e || !*e)
        return;
    isvoid = *e == 'v';
    if (sscanf(e + isvoid, "%llx:%llx:%u:%llx", &f, &a, &al, &pbase) != 4)
        return;
    if (a && h) {   /* the parent's bytes at arg, pointers into its image rebased */
        unsigned char *dst = (unsigned char *)(util_image_base() + (uintptr_t)a);
        size_t n = strlen(h) / 2, i;
        DWORD old;
        VirtualProtect(dst, n, PAGE_READWRITE, &old);
        for (i = 0; i < n; i++) {
            unsigned v;
            if (sscanf(h + 2 * i, "%2x", &v) != 1)
                break;
            dst[i] = (unsigned char)v;
        }
        for (i = 0; i + 8 <= n; i++) {
            uint64_t w;
            if ((((uintptr_t)dst + i) & 7) != 0)
                continue;
            memcpy(&w, dst + i, 8);
            if (w >= pbase && w < pbase + util_image_size()) {
                w = w - pbase + util_image_base();
                memcpy(dst + i, &w, 8);
            }
        }
        VirtualProtect(dst, n, old, &old);
    }
    _putenv_s("GORT_TEST_CHILD", "");   /* the child's own children are not */
    _putenv_s("GORT_TEST_CHILD_ARG", "");
    if (al)
        watchdog(al);
    if (isvoid) {
        void (*vfn)(void *) = (void (*)(void *))(util_image_base() + (uintptr_t)f);
        vfn(a ? (void *)(util_image_base() + (uintptr_t)a) : NULL);
        r = 0;
    } else {
        int (*fn)(void *) = (int (*)(void *))(util_image_base() + (uintptr_t)f);
        r = fn(a ? (void *)(util_image_base() + (uintptr_t)a) : NULL);
    }
    fflush(NULL);
    _exit(r);
}

static inline HANDLE util_inheritable(HANDLE h)
{
    HANDLE d = NULL;
    if (h && h != INVALID_HANDLE_VALUE &&
        DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &d, 0, TRUE, DUPLICATE_SAME_ACCESS))
        return d;
    return NULL;
}

static inline int util_spawn(int isvoid, uintptr_t fn, void *arg, const struct child_opts *o, struct child *c)
{
    uintptr_t base = util_image_base();
    size_t size = util_image_size();
    SECURITY_ATTRIBUTES sa;
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    HANDLE rd, wr, in, out;
    char exe[MAX_PATH], env[96], hex[2 * UTIL_ARG_COPY + 1];
    int64_t t0, deadline;
    int sent = 0;
    DWORD code = 0;
    BOOL ok;
    memset(c, 0, sizeof *c);
    c->status = -1;
    if (o->to_file) {
        CHECK(!"run_child: to_file has no Windows form");
        return c->status;
    }
    if (arg && ((uintptr_t)arg < base || (uintptr_t)arg >= base + size)) {
        CHECK(!"run_child on Windows: arg must be NULL or point into static data (the child is a new process)");
        return c->status;
    }
    if (!GetModuleFileNameA(NULL, exe, sizeof exe)) {
        CHECK(!"GetModuleFileName");
        return c->status;
    }
    memset(&sa, 0, sizeof sa);
    sa.nLength = sizeof sa;
    sa.bInheritHandle = TRUE;
    if (!CreatePipe(&rd, &wr, &sa, 0)) {
        CHECK(!"CreatePipe");
        return c->status;
    }
    SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
    in = util_inheritable(GetStdHandle(STD_INPUT_HANDLE));
    out = o->stdout_too ? NULL : util_inheritable(GetStdHandle(STD_OUTPUT_HANDLE));
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = in;
    si.hStdOutput = o->stdout_too ? wr : out;
    si.hStdError = wr;
    snprintf(env, sizeof env, "%s%llx:%llx:%u:%llx", isvoid ? "v" : "", (unsigned long long)(fn - base),
             (unsigned long long)(arg ? (uintptr_t)arg - base : 0), o->alarm_s, (unsigned long long)base);
    hex[0] = 0;
    if (arg) {
        size_t n = base + size - (uintptr_t)arg, i;
        if (n > UTIL_ARG_COPY)
            n = UTIL_ARG_COPY;
        for (i = 0; i < n; i++)
            snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *)arg)[i]);
    }
    fflush(stdout);
    fflush(stderr);
    SetEnvironmentVariableA("GORT_TEST_CHILD", env);
    SetEnvironmentVariableA("GORT_TEST_CHILD_ARG", arg ? hex : NULL);
    t0 = mono_ns();
    ok = CreateProcessA(exe, NULL, NULL, NULL, TRUE, CREATE_NEW_PROCESS_GROUP, NULL, NULL, &si, &pi);
    SetEnvironmentVariableA("GORT_TEST_CHILD", NULL);
    SetEnvironmentVariableA("GORT_TEST_CHILD_ARG", NULL);
    CloseHandle(wr);
    if (in)
        CloseHandle(in);
    if (out)
        CloseHandle(out);
    if (!ok) {
        CHECK(!"CreateProcess");
        CloseHandle(rd);
        return c->status;
    }
    deadline = o->limit_ns > 0 ? t0 + o->limit_ns : -1;
    for (;;) {
        char buf[4096];
        DWORD avail = 0, n = 0;
        if (!PeekNamedPipe(rd, NULL, 0, NULL, &avail, NULL))
            break;   /* broken: every writer (the child) has gone */
        if (avail > 0) {
            DWORD i, k = 0;
            if (!ReadFile(rd, buf, avail < sizeof buf ? avail : (DWORD)sizeof buf, &n, NULL) || n == 0)
                break;
            for (i = 0; i < n; i++)   /* the C runtime's text mode: CRLF line ends back to LF */
                if (buf[i] != '\r')
                    buf[k++] = buf[i];
            util_child_append(c, buf, k);
            if (o->on_output)
                o->on_output(c, o->ctx);
            continue;
        }
        if (deadline >= 0 && mono_ns() > deadline) {   /* the watchdog */
            c->hung = 1;
            if (sent == 0 && o->limit_sig)
                GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, pi.dwProcessId);
            else
                TerminateProcess(pi.hProcess, 137);
            sent++;
            deadline = mono_ns() + 3000000000LL;
            if (sent > 2)
                break;
            continue;
        }
        WaitForSingleObject(pi.hProcess, 2);   /* a short nap, or the child's end */
    }
    if (sent > 2)
        TerminateProcess(pi.hProcess, 137);
    WaitForSingleObject(pi.hProcess, INFINITE);
    GetExitCodeProcess(pi.hProcess, &code);
    c->status = (int)code;
    c->ns = mono_ns() - t0;
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    CloseHandle(rd);
    return c->status;
}

static inline int run_child_opts(int (*fn)(void *), void *arg, const struct child_opts *o,
                                 struct child *c)
{
    return util_spawn(0, (uintptr_t)fn, arg, o, c);
}

static inline int run_child_void(void (*fn)(void *), void *arg, unsigned alarm_s, struct child *c)
{
    struct child_opts o;
    memset(&o, 0, sizeof o);
    o.alarm_s = alarm_s;
    return util_spawn(1, (uintptr_t)fn, arg, &o, c);
}

static inline int child_exit_code(const struct child *c)
{
    return c->status;
}

/* the exit code of abort(), and of a child its alarm_s ended */
#define CHILD_ABORT_CODE 3
#define CHILD_ALARM_CODE 142
#ifndef SIGKILL
#define SIGKILL 9   /* the watchdog's TerminateProcess exit code is 128 + SIGKILL, as on Linux */
#endif
#else
/* The parent's side with a pipe: read until EOF, with the watchdog. */
static inline void util_child_read_pipe(int fd, pid_t pid, const struct child_opts *o,
                                        struct child *c)
{
    int64_t deadline = o->limit_ns > 0 ? mono_ns() + o->limit_ns : -1;
    int sent = 0;
    char buf[4096];
    for (;;) {
        struct pollfd pf;
        int tmo = -1, r;
        ssize_t n;
        if (deadline >= 0) {
            int64_t left = deadline - mono_ns();
            tmo = left > 0 ? (int)(left / 1000000) + 1 : 0;
        }
        pf.fd = fd;
        pf.events = POLLIN;
        pf.revents = 0;
        r = UTIL_POLL(&pf, 1, tmo);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {   /* the watchdog */
            c->hung = 1;
            kill(pid, sent == 0 && o->limit_sig ? o->limit_sig : SIGKILL);
            sent++;
            deadline = mono_ns() + 3000000000LL;
            if (sent > 2)
                break;
            continue;
        }
        n = UTIL_READ(fd, buf, sizeof buf);
        if (n > 0) {
            util_child_append(c, buf, (size_t)n);
            if (o->on_output)
                o->on_output(c, o->ctx);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    if (sent > 2)
        kill(pid, SIGKILL);
}

static inline int run_child_opts(int (*fn)(void *), void *arg, const struct child_opts *o,
                                 struct child *c)
{
    int p[2];
    pid_t pid;
    int64_t t0;
    memset(c, 0, sizeof *c);
    c->status = -1;
    if (o->to_file) {
        char path[] = "/tmp/gort_test_XXXXXX";
        p[0] = mkstemp(path);
        if (p[0] < 0) {
            CHECK(!"mkstemp");
            return c->status;
        }
        unlink(path);
        p[1] = p[0];
    } else if (UTIL_PIPE(p) != 0) {
        CHECK(!"pipe");
        return c->status;
    }
    fflush(stdout);
    fflush(stderr);
    t0 = mono_ns();
    pid = fork();
    if (pid < 0) {
        CHECK(!"fork");
        close(p[0]);
        if (!o->to_file)
            close(p[1]);
        return c->status;
    }
    if (pid == 0) {
        if (!o->to_file)
            close(p[0]);
        dup2(p[1], 2);
        if (o->stdout_too)
            dup2(p[1], 1);
        close(p[1]);
        if (o->alarm_s)
            alarm(o->alarm_s);
        _exit(fn(arg));
    }
    if (o->to_file) {
        ssize_t n;
        while (waitpid(pid, &c->status, 0) < 0 && errno == EINTR)
            ;
        c->ns = mono_ns() - t0;
        n = pread(p[0], c->err, sizeof c->err - 1, 0);
        c->len = n > 0 ? (size_t)n : 0;
        c->err[c->len] = '\0';
        c->truncated = lseek(p[0], 0, SEEK_END) > (off_t)c->len;
        close(p[0]);
        return c->status;
    }
    close(p[1]);
    util_child_read_pipe(p[0], pid, o, c);
    close(p[0]);
    while (waitpid(pid, &c->status, 0) < 0 && errno == EINTR)
        ;
    c->ns = mono_ns() - t0;
    return c->status;
}

/* run_child for a function that returns nothing: the child exits 0 after
   it (unless it exits or dies itself). */
struct util_void_call {
    void (*fn)(void *);
    void *arg;
};

static inline int util_void_call_run(void *p)
{
    struct util_void_call *v = (struct util_void_call *)p;
    v->fn(v->arg);
    return 0;
}

static inline int run_child_void(void (*fn)(void *), void *arg, unsigned alarm_s, struct child *c)
{
    struct util_void_call v;
    struct child_opts o;
    memset(&o, 0, sizeof o);
    o.alarm_s = alarm_s;
    v.fn = fn;
    v.arg = arg;
    return run_child_opts(util_void_call_run, &v, &o, c);
}

static inline int child_exit_code(const struct child *c)
{
    if (WIFEXITED(c->status))
        return WEXITSTATUS(c->status);
    if (WIFSIGNALED(c->status))
        return 128 + WTERMSIG(c->status);
    return -1;
}

/* the exit code of abort() (SIGABRT) */
#define CHILD_ABORT_CODE (128 + SIGABRT)
#define CHILD_ALARM_CODE (128 + SIGALRM)
#endif

static inline int run_child(int (*fn)(void *), void *arg, unsigned alarm_s, struct child *c)
{
    struct child_opts o;
    memset(&o, 0, sizeof o);
    o.alarm_s = alarm_s;
    return run_child_opts(fn, arg, &o, c);
}

static inline int child_has(const struct child *c, const char *s)
{
    return strstr(c->err, s) != NULL;
}

/* Does one goroutine's entry in a gort dump in c->err mention both the
   state and the function (fn NULL: any)? An entry runs from a line
   starting "goroutine " to the next such line. */
static inline int child_entry_has(const struct child *c, const char *state, const char *fn)
{
    const char *p = c->err;
    while ((p = strstr(p, "goroutine ")) != NULL) {
        const char *end = strstr(p + 1, "\ngoroutine ");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char buf[2048];
        if (n >= sizeof buf)
            n = sizeof buf - 1;
        memcpy(buf, p, n);
        buf[n] = '\0';
        if (strstr(buf, state) && (!fn || strstr(buf, fn)))
            return 1;
        p += 1;
    }
    return 0;
}



#endif /* GORT_TEST_UTIL_H */
