/* test_platform.c - what the operating-system seam owes every program, on
   each system gort runs on (>>os-linux, >>os-windows, >>arch).

   - overflow: a goroutine that recurses without end is stopped at its
     guard page and reported by name ("stack overflow in goroutine N"),
     and the process ends as abort() ends it; checked in a child process
     (on Windows: the program run again, util.h's util_spawn).
   - foreign faults: a fault that is not gort's (an access to a page the
     program itself protected) still reaches the program's own handler
     (a SIGSEGV handler on Linux, a vectored exception handler on
     Windows), which fixes the page, and the goroutine goes on.
   - callee-saved state: two goroutines each keep twelve doubles live
     across gort_yield (on Win64 the compiler keeps them in xmm6-xmm15,
     which the switch must save) and in rounding-mode-sensitive sums; any
     value lost in a switch shows as a wrong total.
   - error texts: gort_strerror names the POSIX codes gort returns for
     sockets and contexts in words (the C runtime on Windows knows none
     of them: "Unknown error");
   - the system's view of the stack (Windows): inside a goroutine,
     GetCurrentThreadStackLimits names the goroutine's own stack, on
     whichever thread it runs after migrating (the switch moves the
     TIB's stack fields), so SEH and the C runtime's checks see it.
   C99. */
// gort-test: windows
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <string.h>
#if !defined(_WIN32)
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

#define NOINLINE __attribute__((noinline))

/* ------------------------------------------------------------ overflow */

static volatile long sink;

static NOINLINE long recurse_forever(long depth)
{
    volatile char frame[1024];
    frame[0] = (char)depth;
    frame[sizeof frame - 1] = (char)depth;
    sink += frame[0];
    if (depth > 1000000000L)   /* never (a million KiB of stack): keeps the compiler quiet */
        return frame[0];
    return recurse_forever(depth + 1) + frame[sizeof frame - 1];
}

static void overflow_g(void *arg)
{
    (void)arg;
    sink = recurse_forever(0);
}

static void overflow_main(void *arg)
{
    (void)arg;
    CHECK_EQ(gort_go(overflow_g, NULL), 0);
    gort_sleep(60 * 1000000000LL);   /* the overflow ends the process first */
}

static void overflow_child(void *arg)
{
    gort_opts o;
    (void)arg;
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    gort_run_opts(&o, overflow_main, NULL);
    fprintf(stderr, "overflow_child: the runtime returned\n");
    exit(9);
}

static void test_overflow(void)
{
    static struct child c;
    run_child_void(overflow_child, NULL, 120, &c);
    if (!child_has(&c, "stack overflow in goroutine") || child_exit_code(&c) != CHILD_ABORT_CODE)
        check_note("overflow child (exit %d):\n%s", child_exit_code(&c), c.err);
    CHECK(child_has(&c, "gort: stack overflow in goroutine "));
    CHECK(child_has(&c, "(started at "));
    CHECK(!child_has(&c, "the runtime returned"));
    CHECK_EQ(child_exit_code(&c), CHILD_ABORT_CODE);
}

/* ------------------------------------------------------------ foreign faults */

static char *fault_page;
static size_t fault_len;
static volatile long fault_calls;

#if defined(_WIN32)
static LONG CALLBACK own_handler(EXCEPTION_POINTERS *ep)
{
    DWORD old;
    char *a;
    if (ep->ExceptionRecord->ExceptionCode != EXCEPTION_ACCESS_VIOLATION ||
        ep->ExceptionRecord->NumberParameters < 2)
        return EXCEPTION_CONTINUE_SEARCH;
    a = (char *)ep->ExceptionRecord->ExceptionInformation[1];
    if (a < fault_page || a >= fault_page + fault_len)
        return EXCEPTION_CONTINUE_SEARCH;
    fault_calls++;
    VirtualProtect(fault_page, fault_len, PAGE_READWRITE, &old);
    return EXCEPTION_CONTINUE_EXECUTION;
}

static int protect_page(void)
{
    fault_len = 4096;
    fault_page = (char *)VirtualAlloc(NULL, fault_len, MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
    return fault_page && AddVectoredExceptionHandler(0, own_handler) != NULL;   /* 0: after gort's */
}
#else
static void own_handler(int sig, siginfo_t *si, void *uc)
{
    char *a = (char *)si->si_addr;
    (void)sig; (void)uc;
    if (a >= fault_page && a < fault_page + fault_len) {
        fault_calls++;
        mprotect(fault_page, fault_len, PROT_READ | PROT_WRITE);
    } else {
        signal(SIGSEGV, SIG_DFL);   /* not ours either: the default (a crash) */
    }
}

static int protect_page(void)
{
    struct sigaction sa;
    fault_len = (size_t)sysconf(_SC_PAGESIZE);
    fault_page = (char *)mmap(NULL, fault_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fault_page == MAP_FAILED)
        return 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = own_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGSEGV, &sa, NULL) == 0;
}
#endif

static NOINLINE void touch(volatile char *p, char v) { *p = v; }

static long fault_done;

static void fault_g(void *arg)
{
    (void)arg;
    touch(fault_page + 100, 42);   /* faults; the program's handler opens the page */
    CHECK_EQ(fault_page[100], 42);
    INC(&fault_done);
}

static void fault_main(void *arg)
{
    (void)arg;
    CHECK_EQ(gort_go(fault_g, NULL), 0);
    CHECK(wait_for((int *)(void *)&fault_done, 1));
}

static void test_foreign_fault(void)
{
    if (under_valgrind()) {   /* Valgrind does not resume a thread after its SIGSEGV handler */
        check_note("foreign fault: not checked under Valgrind");
        return;
    }
    CHECK(protect_page());
    CHECK_EQ(run_procs(2, fault_main, NULL), 0);
    CHECK_EQ(fault_calls, 1);
    CHECK_EQ(LOAD(&fault_done), 1);
}

/* ------------------------------------------------------------ callee-saved state */

static long fp_bad, fp_done;

static NOINLINE void fp_g(void *arg)
{
    double k = (double)(intptr_t)arg;
    double a0 = k + 0.5, a1 = k * 2 + 0.25, a2 = k * 3 + 0.125, a3 = k * 4 + 1.5, a4 = k * 5 + 2.5,
           a5 = k * 6 + 3.5, a6 = k * 7 + 4.5, a7 = k * 8 + 5.5, a8 = k * 9 + 6.5, a9 = k * 10 + 7.5,
           a10 = k * 11 + 8.5, a11 = k * 12 + 9.5;
    int i;
    for (i = 0; i < 2000; i++) {
        gort_yield();   /* the values above live across it */
        a0 += 1; a1 += 1; a2 += 1; a3 += 1; a4 += 1; a5 += 1;
        a6 += 1; a7 += 1; a8 += 1; a9 += 1; a10 += 1; a11 += 1;
    }
    if (a0 != k + 0.5 + 2000 || a1 != k * 2 + 0.25 + 2000 || a2 != k * 3 + 0.125 + 2000 ||
        a3 != k * 4 + 1.5 + 2000 || a4 != k * 5 + 2.5 + 2000 || a5 != k * 6 + 3.5 + 2000 ||
        a6 != k * 7 + 4.5 + 2000 || a7 != k * 8 + 5.5 + 2000 || a8 != k * 9 + 6.5 + 2000 ||
        a9 != k * 10 + 7.5 + 2000 || a10 != k * 11 + 8.5 + 2000 || a11 != k * 12 + 9.5 + 2000)
        INC(&fp_bad);
    INC(&fp_done);
}

static void fp_main(void *arg)
{
    intptr_t i;
    (void)arg;
    for (i = 1; i <= 4; i++)
        CHECK_EQ(gort_go(fp_g, (void *)(i * 1000)), 0);
    CHECK(wait_for((int *)(void *)&fp_done, 4));
}

static void test_callee_saved(void)
{
    CHECK_EQ(run_procs(1, fp_main, NULL), 0);
    CHECK_EQ(LOAD(&fp_bad), 0);
    CHECK_EQ(LOAD(&fp_done), 4);
}

/* ------------------------------------------------------------ the system's view of the stack */

#if defined(_WIN32)
static long tib_bad, tib_done;

static int in_own_stack(void)
{
    ULONG_PTR lo = 0, hi = 0;
    volatile char here = 0;
    GetCurrentThreadStackLimits(&lo, &hi);
    return (uintptr_t)&here >= lo && (uintptr_t)&here < hi && hi - lo <= 1024 * 1024;
}

static void tib_g(void *arg)
{
    int i;
    (void)arg;
    for (i = 0; i < 500; i++) {
        if (!in_own_stack())
            INC(&tib_bad);
        if (i % 50 == 0)
            gort_sleep(100000);   /* parks: resumes on either thread */
        else
            gort_yield();
    }
    INC(&tib_done);
}

static void tib_main(void *arg)
{
    int i;
    (void)arg;
    for (i = 0; i < 8; i++)
        CHECK_EQ(gort_go(tib_g, NULL), 0);
    CHECK(wait_for((int *)(void *)&tib_done, 8));
    CHECK(in_own_stack());
}

static void test_tib(void)
{
    ULONG_PTR lo0 = 0, hi0 = 0, lo1 = 0, hi1 = 0;
    GetCurrentThreadStackLimits(&lo0, &hi0);
    CHECK_EQ(run_procs(2, tib_main, NULL), 0);
    GetCurrentThreadStackLimits(&lo1, &hi1);
    CHECK_EQ(LOAD(&tib_bad), 0);
    CHECK_EQ(LOAD(&tib_done), 8);
    CHECK(lo0 == lo1 && hi0 == hi1);   /* the main thread's own stack again */
}

/* ------------------------------------------------------------ stacks committed as they grow (Windows) */

/* Committed bytes of [lo, hi). */
static size_t committed(uintptr_t lo, uintptr_t hi)
{
    size_t n = 0;
    uintptr_t a = lo;
    while (a < hi) {
        MEMORY_BASIC_INFORMATION mi;
        uintptr_t end;
        if (VirtualQuery((void *)a, &mi, sizeof mi) != sizeof mi)
            break;
        end = (uintptr_t)mi.BaseAddress + mi.RegionSize;
        if (end > hi)
            end = hi;
        if (mi.State == MEM_COMMIT)
            n += end - a;
        a = end;
    }
    return n;
}

/* Committed bytes of the allocation holding p (a region of segments). */
static size_t committed_alloc(void *p)
{
    MEMORY_BASIC_INFORMATION mi;
    size_t n = 0;
    char *base, *a;
    if (VirtualQuery(p, &mi, sizeof mi) != sizeof mi)
        return 0;
    base = a = (char *)mi.AllocationBase;
    while (VirtualQuery(a, &mi, sizeof mi) == sizeof mi && mi.AllocationBase == base) {
        if (mi.State == MEM_COMMIT)
            n += mi.RegionSize;
        a = (char *)mi.BaseAddress + mi.RegionSize;
    }
    return n;
}

static NOINLINE long grow(long kib)
{
    volatile char frame[1000];
    frame[0] = (char)kib;
    frame[sizeof frame - 1] = (char)kib;
    if (kib <= 1)
        return frame[0];
    return grow(kib - 1) + frame[sizeof frame - 1];
}

static ULONG_PTR deep_lo, deep_hi;
static size_t fresh_commit, deep_commit, reused_commit;
static long reused_same;

static void fresh_g(void *arg)
{
    (void)arg;
    GetCurrentThreadStackLimits(&deep_lo, &deep_hi);
    fresh_commit = committed(deep_lo, deep_hi);
    sink += grow(96);   /* 96 KiB down: the system grows the stack */
    deep_commit = committed(deep_lo, deep_hi);
}

static void reuse_g(void *arg)
{
    ULONG_PTR lo = 0, hi = 0;
    (void)arg;
    GetCurrentThreadStackLimits(&lo, &hi);
    reused_same = lo == deep_lo && hi == deep_hi;
    reused_commit = committed(lo, hi);
}

static gort_chan *park_ch;
static long parked;

static void park_g(void *arg)
{
    (void)arg;
    INC(&parked);
    gort_chan_recv(park_ch, NULL);
}

static void commit_main(void *arg)
{
    size_t before, after;
    int i;
    (void)arg;
    CHECK_EQ(gort_go(fresh_g, NULL), 0);
    gort_yield();   /* one P: fresh_g runs to its end */
    CHECK_EQ(gort_go(reuse_g, NULL), 0);   /* the same segment (the P's cache is LIFO) */
    gort_yield();
    /* 2000 parked goroutines: a page or two each, not their 256 KiB */
    park_ch = gort_chan_make(0, 0);
    CHECK(park_ch != NULL);
    before = committed_alloc((void *)deep_lo);
    for (i = 0; i < 2000; i++)
        CHECK_EQ(gort_go(park_g, NULL), 0);
    CHECK(wait_for((int *)(void *)&parked, 2000));
    after = committed_alloc((void *)deep_lo);
    check_note("2000 parked goroutines committed %zu KiB of stack", (after - before) / 1024);
    CHECK(after - before <= 2000u * 12 * 1024);
    CHECK(after - before >= 2000u * 4 * 1024);   /* (the walk sees them: each has its top page) */
    gort_chan_close(park_ch);
}

static void test_commit(void)
{
    CHECK_EQ(run_procs(1, commit_main, NULL), 0);
    check_note("a goroutine's stack committed: fresh %zu KiB, 96 KiB down %zu KiB, the next one there %zu KiB",
               fresh_commit / 1024, deep_commit / 1024, reused_commit / 1024);
    CHECK(deep_hi - deep_lo >= 112 * 1024);   /* the system sees the whole segment (128 KiB) */
    CHECK(fresh_commit <= 16 * 1024);          /* the top page, the guard page, what it touched */
    CHECK(deep_commit >= 96 * 1024);
    CHECK_EQ(reused_same, 1);
    CHECK(reused_commit <= 48 * 1024);         /* the deep pages went back when fresh_g ended */
    gort_chan_free(park_ch);
}
#endif

/* ------------------------------------------------------------ error texts */

static void test_strerror(void)
{
    static const struct { int err; const char *word; } t[] = {
        { -ECONNREFUSED, "efused" }, { -ECONNRESET, "eset" }, { -ECANCELED, "anceled" },
        { -EPROTO, "rotocol" }, { -ENOTSOCK, "ocket" }, { -ENOTSUP, "upported" },
        { -EADDRINUSE, "in use" }, { -EINPROGRESS, "progress" }, { -ENOTCONN, "connected" },
    };
    size_t i;
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *s = gort_strerror(t[i].err);
        if (!strstr(s, t[i].word))
            check_note("gort_strerror(%d) is \"%s\"", t[i].err, s);
        CHECK(strstr(s, t[i].word) != NULL);
    }
}

int main(void)
{
    watchdog(600);
    test_strerror();
    test_overflow();
    test_foreign_fault();
    test_callee_saved();
#if defined(_WIN32)
    test_tib();
    test_commit();
#endif
    return check_done();
}
