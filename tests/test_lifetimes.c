/* test_lifetimes.c - many goroutine lifetimes on one stack slot (>>stack,
   >>sched, the sanitizer fiber hooks).

   At maxprocs 1 the dead-goroutine cache is LIFO, so a goroutine that is
   started after the last one ended gets the same stack slot. Main starts
   goroutines one after another, each waited for before the next:
   - most return normally; every 8th ends with gort_exit from 40 frames
     down (its frames are never unwound); every 1024th recurses 200 frames
     (about 60 KiB) deep and returns;
   - every one of them ran, exactly once, with its own argument;
   - at the end they all reused a handful of slots (the same slot, in fact,
     almost every time), which is what makes this test mean something:
     10M lifetimes at full scale (gcc -O2 runs that in a few seconds).
   A sanitizer keeps per-context state with each stack (TSan's fiber and
   its shadow call stack, ASan's fake stack): state that leaked per
   lifetime would overflow after some tens of thousands of lifetimes. The
   TSan configuration (scale 0.1, and a fifth of the count under TSan)
   runs 200,000 of them; a fiber kept with the slot used to break TSan
   after about 22,000.
   C99. */
#define _GNU_SOURCE
// gort-test: timeout=600 windows
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>

#define TOTAL 10000000L

static long ran;          /* goroutines that ran (main reads it after each) */
static long sum;          /* sum of their arguments */
static long exited;       /* those that ended by gort_exit */
static uintptr_t slot_lo = UINTPTR_MAX, slot_hi;  /* range of their stack addresses */

static __attribute__((noinline)) long deep_exit(long n)
{
    volatile long pad[4];
    pad[0] = n;
    if (n > 0) return deep_exit(n - 1) + pad[0];
    __atomic_fetch_add(&exited, 1, __ATOMIC_RELAXED);
    gort_exit();
    return 0;
}

static __attribute__((noinline)) long deep_return(long n)
{
    volatile long pad[32];
    pad[0] = n;
    if (n > 0) return deep_return(n - 1) + pad[0];
    return 0;
}

static void child(void *arg)
{
    long i = (long)(intptr_t)arg;
    volatile char here;
    uintptr_t a = (uintptr_t)&here;
    if (a < slot_lo) slot_lo = a;
    if (a > slot_hi) slot_hi = a;
    __atomic_fetch_add(&ran, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&sum, i, __ATOMIC_RELAXED);
    if (i % 8 == 7) deep_exit(40);
    if (i % 1024 == 1 && deep_return(200) != 200L * 201 / 2) CHECK(!"deep_return");
}

static void main_fn(void *arg)
{
    long n = *(long *)arg, i, want = 0;
    for (i = 0; i < n; i++) {
        long before = __atomic_load_n(&ran, __ATOMIC_RELAXED);
        int rc = gort_go(child, (void *)(intptr_t)i);
        if (rc != 0) { CHECK_EQ(rc, 0); return; }
        /* One P: the child runs while main yields, and is dead (its slot
           back in the cache) by the time main runs again. */
        while (__atomic_load_n(&ran, __ATOMIC_RELAXED) == before) gort_yield();
        gort_yield();
        want += i;
    }
    CHECK_EQ(__atomic_load_n(&ran, __ATOMIC_RELAXED), n);
    CHECK_EQ(__atomic_load_n(&sum, __ATOMIC_RELAXED), want);
    CHECK_EQ(__atomic_load_n(&exited, __ATOMIC_RELAXED), n / 8);
    CHECK_EQ(gort_goroutines(), 1);
}

int main(void)
{
    /* TSan pays for a fiber per lifetime (about 50 us): a fifth as many,
       still well past the 22,000 that used to break it. */
    long n = check_scale(UNDER_TSAN ? TOTAL / 5 : TOTAL);
    gort_opts o;
    memset(&o, 0, sizeof o);
    o.maxprocs = 1;
    CHECK_EQ(gort_run_opts(&o, main_fn, &n), 0);
    /* They all ran on a few slots: the stack addresses span at most a few
       slots' worth (128 KiB each by default). */
    CHECK(slot_hi - slot_lo < 4u * 1024 * 1024);
    check_note("%ld lifetimes, stack addresses within %lu KiB", n,
               (unsigned long)((slot_hi - slot_lo) / 1024));
    return check_done();
}
