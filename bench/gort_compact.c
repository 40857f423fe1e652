/* gort_compact: stack compaction of long-parked goroutines (gort.h >>compact).
   usage: gort_compact [maxprocs=1] [n=100000]
   Spawns n goroutines that each block receiving from one unbuffered
   channel, with compaction on at 50 ms (gort_opts.compact_ns), and waits
   until sysmon has compacted every one. Then reads VmRSS + VmPTE and
   compares with the value before the first spawn; then closes the
   channel, which wakes every one (each wake restores a stack), and waits
   for all to finish.
   Reports:
     compact_mem   (RSS + PTE growth) / n once all are compacted, KiB per
                   goroutine
     compact_cost  sysmon's time per compaction: from the first goroutine
                   due to all compacted, over n, ns
     compact_wake  ns per goroutine from close to all finished (each one
                   restored on the way) */
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "bench.h"

#define THRESHOLD_NS 50000000LL

static long n;
static gort_chan *ch;
static long parked;   /* atomic: goroutines about to block */
static gort_wg wg = GORT_WG_INIT;
static double kib_per_g, cost_ns, wake_ns;

static void waiter(void *arg) {
    (void)arg;
    __atomic_add_fetch(&parked, 1, __ATOMIC_RELAXED);
    if (gort_chan_recv(ch, NULL) != 0) bench_fail("gort_compact: recv did not see close");
    gort_wg_done(&wg);
}

static void main_fn(void *arg) {
    long i, before, after;
    int64_t t1, t2, t3, give_up;
    (void)arg;
    if (gort__the_rt->compact_ns < 0) bench_fail("gort_compact: compaction not available here (needs Linux 6.13+)");
    ch = gort_chan_make(0, 0);
    if (!ch) bench_fail("gort_chan_make");
    before = bench_mem_kib();
    gort_wg_add(&wg, (int)n);
    for (i = 0; i < n; i++)
        if (gort_go(waiter, NULL) != 0) bench_fail("gort_compact: gort_go");
    while (__atomic_load_n(&parked, __ATOMIC_RELAXED) < n) gort_yield();
    t1 = bench_now();
    give_up = t1 + 600 * 1000000000LL;
    while (__atomic_load_n(&gort__the_rt->ncompacted, __ATOMIC_ACQUIRE) < n && bench_now() < give_up) gort_sleep(1000000);
    if (__atomic_load_n(&gort__the_rt->ncompacted, __ATOMIC_ACQUIRE) < n) bench_fail("gort_compact: not all compacted");
    t2 = bench_now();
    gort_sleep(20000000);   /* sysmon frees what restores left (main's own parks) */
    after = bench_mem_kib();
    t3 = bench_now();
    gort_chan_close(ch);
    gort_wg_wait(&wg);
    wake_ns = (double)(bench_now() - t3) / (double)n;
    cost_ns = (double)(t2 - t1 - THRESHOLD_NS > 0 ? t2 - t1 - THRESHOLD_NS : 0) / (double)n;
    kib_per_g = (double)(after - before) / (double)n;
    gort_chan_free(ch);
}

int main(int argc, char **argv) {
    gort_opts o;
    int rc;
    memset(&o, 0, sizeof o);
    o.maxprocs = (int)bench_arg(argc, argv, 1, 1, 1);
    o.compact_ns = THRESHOLD_NS;
    n = bench_arg(argc, argv, 2, 100000, 20000);
    if ((rc = gort_run_opts(&o, main_fn, NULL)) != 0) bench_fail("gort_compact: gort_run_opts");
    bench_result("compact_mem", kib_per_g, "KiB/op");
    bench_result("compact_cost", cost_ns, "ns/op");
    bench_result("compact_wake", wake_ns, "ns/op");
    return 0;
}
