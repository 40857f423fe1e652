/* gort_toolbox: timers, tickers and contexts at scale (bench/go/toolbox.go
   is the Go twin).
   usage: gort_toolbox timer [n]      n timers made and stopped, 1 P: ns per
                                      make + stop (+ free) (timer_stop)
          gort_toolbox ticker [k]     k tickers of 1 ms, each read by its own
                                      goroutine, for 1 s at 2 P: process CPU
                                      time per tick received (ticker_cpu, ns)
                                      and the share of ticks received
                                      (ticker_recv, %)
          gort_toolbox cancel [n]     n goroutines at 2 P, each blocked on its
                                      own child context of one root; the root
                                      is cancelled: ms until every one of them
                                      has returned (cancel_all) */
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "bench.h"

#if !defined(_WIN32)
#include <sys/resource.h>
#endif

static const char *mode;
static long n;

/* the process's CPU time so far (user + system), ns */
static double cpu_ns(void) {
#if defined(_WIN32)
    FILETIME cr, ex, k, u;
    GetProcessTimes(GetCurrentProcess(), &cr, &ex, &k, &u);
    return ((double)(((uint64_t)k.dwHighDateTime << 32) | k.dwLowDateTime) +
            (double)(((uint64_t)u.dwHighDateTime << 32) | u.dwLowDateTime)) * 100.0;
#else
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec * 1e9 + (double)ru.ru_utime.tv_usec * 1e3 +
           (double)ru.ru_stime.tv_sec * 1e9 + (double)ru.ru_stime.tv_usec * 1e3;
#endif
}

static void bench_timers(void) {
    gort_timer **ts = (gort_timer **)malloc((size_t)n * sizeof *ts);
    int64_t t0;
    long i;
    if (!ts) bench_fail("malloc");
    t0 = bench_now();
    for (i = 0; i < n; i++)
        if (!(ts[i] = gort_timer_make(3600LL * 1000000000LL + i))) bench_fail("gort_timer_make");
    for (i = 0; i < n; i++)
        if (gort_timer_stop(ts[i]) != 1) bench_fail("gort_timer_stop");
    for (i = 0; i < n; i++) gort_timer_free(ts[i]);
    bench_result("timer_stop", (double)(bench_now() - t0) / (double)n, "ns/op");
    free(ts);
}

static long *ticks;         /* per reader, atomic (relaxed) */
static gort_ctx *stop_ctx;
static gort_wg wg = GORT_WG_INIT;

static void tick_reader(void *arg) {
    long *mine = &ticks[(intptr_t)arg];
    gort_timer *tk = gort_ticker_make(1000000);
    int64_t v;
    if (!tk) bench_fail("gort_ticker_make");
    while (gort_chan_recv_ctx(gort_timer_chan(tk), &v, stop_ctx) == 1)
        __atomic_store_n(mine, *mine + 1, __ATOMIC_RELAXED);
    gort_timer_free(tk);
    gort_wg_done(&wg);
}

static long ticks_sum(void) {
    long i, s = 0;
    for (i = 0; i < n; i++) s += __atomic_load_n(&ticks[i], __ATOMIC_RELAXED);
    return s;
}

static void bench_tickers(void) {
    int64_t dur = bench_quick() ? 200000000 : 1000000000, t0, el;
    double c0, cpu;
    long i, k0, got;
    ticks = (long *)calloc((size_t)n, sizeof *ticks);
    stop_ctx = gort_ctx_with_cancel(NULL);
    if (!ticks || !stop_ctx) bench_fail("calloc");
    gort_wg_add(&wg, (int)n);
    for (i = 0; i < n; i++)
        if (gort_go(tick_reader, (void *)(intptr_t)i) != 0) bench_fail("gort_go");
    gort_sleep(50000000);   /* all started and ticking */
    k0 = ticks_sum();
    c0 = cpu_ns();
    t0 = bench_now();
    gort_sleep(dur);
    got = ticks_sum() - k0;
    cpu = cpu_ns() - c0;
    el = bench_now() - t0;
    gort_ctx_cancel(stop_ctx);
    gort_wg_wait(&wg);
    gort_ctx_free(stop_ctx);
    free(ticks);
    bench_result("ticker_cpu", cpu / (double)(got > 0 ? got : 1), "ns/op");
    bench_result("ticker_recv", 100.0 * (double)got / ((double)n * (double)el / 1e6), "%");
}

static int returned;        /* atomic */

static void waiter(void *arg) {
    gort_ctx *c = gort_ctx_with_cancel((gort_ctx *)arg);
    if (!c) bench_fail("gort_ctx_with_cancel");
    gort_chan_recv(gort_ctx_done(c), NULL);
    gort_ctx_free(c);
    __atomic_add_fetch(&returned, 1, __ATOMIC_RELAXED);
    gort_wg_done(&wg);
}

static void bench_cancel(void) {
    gort_ctx *root = gort_ctx_with_cancel(NULL);
    int64_t t0;
    long i;
    gort_wg_add(&wg, (int)n);
    for (i = 0; i < n; i++)
        if (gort_go(waiter, root) != 0) bench_fail("gort_go");
    while (gort_goroutines() < n + 1) gort_sleep(1000000);
    gort_sleep(20000000);   /* all parked */
    t0 = bench_now();
    gort_ctx_cancel(root);
    if (getenv("BENCH_VERBOSE"))   /* the cancel's own walk, the rest is the wake-ups */
        fprintf(stderr, "cancel walk %.1f ms\n", (double)(bench_now() - t0) / 1e6);
    gort_wg_wait(&wg);
    bench_result("cancel_all", (double)(bench_now() - t0) / 1e6, "ms");
    if (__atomic_load_n(&returned, __ATOMIC_RELAXED) != n) bench_fail("lost a waiter");
    gort_ctx_free(root);
}

static void main_fn(void *arg) {
    (void)arg;
    if (strcmp(mode, "timer") == 0) bench_timers();
    else if (strcmp(mode, "ticker") == 0) bench_tickers();
    else bench_cancel();
}

int main(int argc, char **argv) {
    gort_opts o;
    mode = argc > 1 ? argv[1] : "timer";
    if (strcmp(mode, "timer") == 0) n = bench_arg(argc, argv, 2, 1000000, 100000);
    else if (strcmp(mode, "ticker") == 0) n = bench_arg(argc, argv, 2, 10000, 1000);
    else if (strcmp(mode, "cancel") == 0) n = bench_arg(argc, argv, 2, 100000, 10000);
    else { fprintf(stderr, "usage: gort_toolbox timer|ticker|cancel [n]\n"); return 2; }
    o = bench_opts(strcmp(mode, "timer") == 0 ? 1 : 2);
    if (gort_run_opts(&o, main_fn, NULL) != 0) bench_fail("gort_run_opts");
    return 0;
}
