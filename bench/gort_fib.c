/* gort_fib: parallel fib(32), a goroutine per call above a cutoff.
   usage: gort_fib [maxprocs=1] [n=32] [cutoff=15] [reps=5]
   fib(k) for k >= cutoff spawns a goroutine for fib(k-1), computes
   fib(k-2) itself and waits for the child on a WaitGroup; below the cutoff
   it recurses serially. Runs reps times and reports the best wall time in
   ms; run.sh divides the 1-P time by the 2-P time for the speedup. */
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "bench.h"

typedef struct fib_job {
    int      n;
    long     r;
    gort_wg *wg;
} fib_job;

static int n, cutoff, reps;
static double best_ms = 1e30;

static long fib_serial(int k) {
    return k < 2 ? k : fib_serial(k - 1) + fib_serial(k - 2);
}

static long fib_par(int k);

static void fib_go(void *p) {
    fib_job *j = (fib_job *)p;
    j->r = fib_par(j->n);
    gort_wg_done(j->wg);
}

static long fib_par(int k) {
    gort_wg wg = GORT_WG_INIT;
    fib_job j;
    long b;
    if (k < cutoff || k < 2) return fib_serial(k);
    j.n = k - 1;
    j.r = 0;
    j.wg = &wg;
    gort_wg_add(&wg, 1);
    if (gort_go(fib_go, &j) != 0) bench_fail("gort_fib: gort_go");
    b = fib_par(k - 2);
    gort_wg_wait(&wg);
    return j.r + b;
}

static void main_fn(void *arg) {
    int r;
    long want = fib_serial(n);
    (void)arg;
    for (r = 0; r < reps; r++) {
        int64_t t0 = bench_now();
        long got = fib_par(n);
        double ms = (double)(bench_now() - t0) / 1e6;
        if (got != want) {
            fprintf(stderr, "FAIL gort_fib: fib(%d) = %ld, want %ld\n", n, got, want);
            exit(1);
        }
        if (ms < best_ms) best_ms = ms;
    }
}

int main(int argc, char **argv) {
    int procs = (int)bench_arg(argc, argv, 1, 1, 1);
    n = (int)bench_arg(argc, argv, 2, 32, 32);
    cutoff = (int)bench_arg(argc, argv, 3, 15, 15);
    reps = (int)bench_arg(argc, argv, 4, 5, 2);
    bench_run(procs, main_fn, NULL);
    bench_result("fib", best_ms, "ms");
    return 0;
}
