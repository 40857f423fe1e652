/* gort_ticker: how late a 1 ms ticker goroutine gets beside goroutines
   that compute in plain C without calling gort (one per P, so every P is
   taken by one), for 1 s (200 ms with BENCH_QUICK).
   usage: gort_ticker MAXPROCS
   Reports the ticker's worst and median lateness in ms (how much longer
   than 1 ms each gort_sleep(1 ms) took). gort moves the other goroutines
   off a P whose goroutine computes for GORT_HANDOFF_MS (10 ms); Go
   preempts the computing goroutine after 10 ms. */
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "bench.h"

#define MAXT 4096
static int64_t lates[MAXT];
static int nlates, spinners_done;
static int64_t spin_ns;
static unsigned long sink;

static void spinner(void *arg) {
    int64_t end = bench_now() + spin_ns;
    unsigned long x = (unsigned long)(uintptr_t)arg;
    (void)arg;
    while (bench_now() < end) {
        int i;
        for (i = 0; i < 1000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
    }
    __atomic_store_n(&sink, x, __ATOMIC_RELAXED);
    __atomic_add_fetch(&spinners_done, 1, __ATOMIC_SEQ_CST);
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void main_fn(void *arg) {
    int i, procs = (int)(intptr_t)arg;
    gort_sleep(2000000);   /* the runtime settles */
    for (i = 0; i < procs; i++)
        if (gort_go(spinner, (void *)(intptr_t)(i + 1)) != 0) bench_fail("gort_go");
    while (__atomic_load_n(&spinners_done, __ATOMIC_SEQ_CST) < procs && nlates < MAXT) {
        int64_t t = bench_now();
        gort_sleep(1000000);
        lates[nlates++] = bench_now() - t - 1000000;
    }
    while (__atomic_load_n(&spinners_done, __ATOMIC_SEQ_CST) < procs) gort_sleep(1000000);
}

int main(int argc, char **argv) {
    int procs = (int)bench_arg(argc, argv, 1, 1, 1);
    gort_opts o = bench_opts(procs);
    spin_ns = bench_quick() ? 200000000 : 1000000000;
    if (gort_run_opts(&o, main_fn, (void *)(intptr_t)procs) != 0) bench_fail("gort_run_opts");
    if (nlates == 0) bench_fail("no tick");
    qsort(lates, (size_t)nlates, sizeof lates[0], cmp64);
    bench_result("ticker_worst", (double)lates[nlates - 1] / 1e6, "ms");
    bench_result("ticker_median", (double)lates[nlates / 2] / 1e6, "ms");
    return 0;
}
