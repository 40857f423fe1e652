/* win_stackgrow: the two ways issue 12 names for growing a goroutine
   stack on Windows, measured side by side (Windows x64 only; run under
   Wine here, so the figures are Wine's).

     guard   the system grows the stack: a PAGE_GUARD page below the
             committed part; a touch of it commits it and moves the guard
             down (what gort does: gort.h >>os-windows,
             gort__os_stack_ready). Measured on gort's own goroutine
             stacks: a goroutine touches PAGES pages of its stack
             downward, one at a time (its segment's pages go back when it
             ends, gort__os_stack_shrink, so the next one grows afresh).
     commit  explicit commit on a fault: the stack is only reserved; a
             vectored exception handler commits the page an access
             violation hit and resumes. Measured on a reservation touched
             the same way by the same goroutines (the handler runs on the
             goroutine's stack, as it would for its own).

   usage: win_stackgrow [goroutines=32] [pages=512]
   Prints ns per page grown for each, the median of the goroutines' times.
   Build:
     x86_64-w64-mingw32-gcc -O2 -I. bench/win_stackgrow.c -o win_stackgrow.exe \
         -lsynchronization -lws2_32
   and run it under Wine (or Windows). */
#if !defined(_WIN32)
#include <stdio.h>
int main(void)
{
    fprintf(stderr, "win_stackgrow: Windows only\n");
    return 2;
}
#else
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESERVE (8u << 20)

static long pages = 512;
static char *volatile region_lo, *volatile region_hi;   /* the commit-on-fault reservation in use */
static LONG faults;

static double now_ns(void)
{
    static LARGE_INTEGER f;
    LARGE_INTEGER c;
    if (!f.QuadPart)
        QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart * 1e9 / (double)f.QuadPart;
}

static LONG CALLBACK on_fault(EXCEPTION_POINTERS *ep)
{
    EXCEPTION_RECORD *er = ep->ExceptionRecord;
    char *at;
    if (er->ExceptionCode != EXCEPTION_ACCESS_VIOLATION || er->NumberParameters < 2)
        return EXCEPTION_CONTINUE_SEARCH;
    at = (char *)er->ExceptionInformation[1];
    if (at < region_lo || at >= region_hi)
        return EXCEPTION_CONTINUE_SEARCH;
    if (!VirtualAlloc((void *)((uintptr_t)at & ~(uintptr_t)4095), 4096, MEM_COMMIT, PAGE_READWRITE))
        return EXCEPTION_CONTINUE_SEARCH;
    InterlockedIncrement(&faults);
    return EXCEPTION_CONTINUE_EXECUTION;
}

/* Touches n pages downward from just below the caller's frame: the
   goroutine's own stack, grown by the system through its guard page. */
static __attribute__((noinline)) double grow_own(long n)
{
    volatile char probe;
    char *top = (char *)((uintptr_t)&probe & ~(uintptr_t)4095);   /* (page by page: the guard is the next one) */
    double t0 = now_ns();
    long i;
    for (i = 1; i <= n; i++)
        ((volatile char *)top)[-(i * 4096)] = 1;
    return now_ns() - t0;
}

/* Touches n pages downward from the top of a fresh reservation, each
   committed by on_fault. */
static double grow_commit(long n)
{
    char *b = (char *)VirtualAlloc(NULL, RESERVE, MEM_RESERVE, PAGE_READWRITE), *top;
    double t0, t;
    long i;
    if (!b) {
        fprintf(stderr, "VirtualAlloc(MEM_RESERVE) failed\n");
        exit(1);
    }
    region_lo = b;
    region_hi = b + RESERVE;
    top = b + RESERVE - 4096;
    t0 = now_ns();
    for (i = 0; i < n; i++)
        ((volatile char *)top)[-(i * 4096)] = 1;
    t = now_ns() - t0;
    region_lo = region_hi = NULL;
    VirtualFree(b, 0, MEM_RELEASE);
    return t;
}

struct result { double guard, commit; };

static void worker(void *p)
{
    struct result *r = (struct result *)p;
    r->guard = grow_own(pages) / (double)pages;
    r->commit = grow_commit(pages) / (double)pages;
}

static long nthreads = 32;
static struct result *res;
static void run_all(void *arg)
{
    long i;
    (void)arg;
    for (i = 0; i < nthreads; i++) {   /* one at a time: nothing beside it */
        gort_wg wg = GORT_WG_INIT;
        gort_wg_add(&wg, 1);
        if (gort_go(worker, &res[i]) != 0) {
            fprintf(stderr, "gort_go failed\n");
            exit(1);
        }
        while (res[i].commit == 0)
            gort_sleep(100000);
        gort_wg_done(&wg);
        gort_sleep(1000000);   /* (its segment back in the cache) */
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    long i;
    double *g, *c;
    gort_opts o;
    if (argc > 1)
        nthreads = atol(argv[1]);
    if (argc > 2)
        pages = atol(argv[2]);
    if (nthreads < 1 || pages < 1 || pages > (long)(RESERVE / 4096) - 64) {
        fprintf(stderr, "usage: win_stackgrow [threads >= 1] [pages 1..%u]\n", RESERVE / 4096 - 64);
        return 2;
    }
    res = (struct result *)calloc((size_t)nthreads, sizeof *res);
    g = (double *)calloc((size_t)nthreads, sizeof *g);
    c = (double *)calloc((size_t)nthreads, sizeof *c);
    if (!res || !g || !c)
        return 1;
    AddVectoredExceptionHandler(1, on_fault);
    memset(&o, 0, sizeof o);
    o.maxprocs = 1;
    o.stack_size = RESERVE;
    if (gort_run_opts(&o, run_all, NULL) != 0) {
        fprintf(stderr, "gort_run failed\n");
        return 1;
    }
    for (i = 0; i < nthreads; i++) {
        g[i] = res[i].guard;
        c[i] = res[i].commit;
    }
    if (faults != nthreads * pages) {
        fprintf(stderr, "win_stackgrow: %ld commits on fault, expected %ld\n", (long)faults, nthreads * pages);
        return 1;
    }
    qsort(g, (size_t)nthreads, sizeof *g, cmp);
    qsort(c, (size_t)nthreads, sizeof *c, cmp);
    printf("stack growth, ns per 4 KiB page (median of %ld goroutines, %ld pages each)\n", nthreads, pages);
    printf("  guard   (PAGE_GUARD, grown by the system)  %10.0f\n", g[nthreads / 2]);
    printf("  commit  (VirtualAlloc from a VEH on fault) %10.0f\n", c[nthreads / 2]);
    return 0;
}
#endif
