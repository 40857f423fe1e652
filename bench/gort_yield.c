/* gort_yield: the cost of gort_yield at maxprocs 1.
   usage: gort_yield pair|self [trace]
   pair: two goroutines call gort_yield in a loop, so every yield switches
         to the other one. Reports ns per yield (total time / total yields).
   self: one goroutine yields with nothing else runnable: the nearest thing
         to a raw context switch that the public API offers (the runtime may
         return at once without switching; Go's Gosched always goes through
         the scheduler).
   trace: with the execution trace recording (gort_trace_ring, 4096
         events per thread, never written): each switch records a slice,
         so the difference from the same run without it is the cost of
         recording one event. */
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "bench.h"

static int64_t deadline;
static int stop;                 /* atomic */
static long counts[2];
static gort_wg wg = GORT_WG_INIT;
static int self_mode, trace_mode;
static double ns_per_yield;

static void yielder(void *arg) {
    long *count = (long *)arg, n = 0;
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        int i;
        for (i = 0; i < 256; i++) gort_yield();
        n += 256;
        if (bench_now() >= deadline) __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    }
    *count = n;
    gort_wg_done(&wg);
}

static void main_fn(void *arg) {
    int64_t t0 = bench_now();
    (void)arg;
    if (trace_mode && gort_trace_ring("/dev/null", 4096) != 0) bench_fail("gort_trace_ring");
    t0 = bench_now();
    deadline = t0 + bench_duration_ns();
    if (self_mode) {
        gort_wg_add(&wg, 1);
        yielder(&counts[0]);
    } else {
        gort_wg_add(&wg, 2);
        if (gort_go(yielder, &counts[0]) != 0 || gort_go(yielder, &counts[1]) != 0)
            bench_fail("gort_go");
        gort_wg_wait(&wg);
    }
    ns_per_yield = (double)(bench_now() - t0) / (double)(counts[0] + counts[1]);
}

int main(int argc, char **argv) {
    self_mode = argc > 1 && strcmp(argv[1], "self") == 0;
    trace_mode = argc > 2 && strcmp(argv[2], "trace") == 0;
    bench_run(1, main_fn, NULL);
    bench_result("yield", ns_per_yield, "ns/op");
    return 0;
}
