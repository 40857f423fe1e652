/* gort_park: memory of parked goroutines.
   usage: gort_park [maxprocs=1] [n=1000000]
   Spawns n goroutines that each block receiving from one unbuffered
   channel. Once all are parked, reads VmRSS + VmPTE from /proc/self/status
   and compares with the value before the first spawn. Then closes the
   channel, which wakes every one, and waits for all to finish.
   Reports:
     park_mem      (RSS + PTE growth) / n, KiB per parked goroutine
     park_spawn    ns per goroutine from the first spawn to all parked
     park_release  ns per goroutine from close to all finished */
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "bench.h"

static long n;
static gort_chan *ch;
static long parked;   /* atomic: goroutines about to block */
static gort_wg wg = GORT_WG_INIT;
static double kib_per_g, spawn_ns, release_ns;

static void waiter(void *arg) {
    (void)arg;
    __atomic_add_fetch(&parked, 1, __ATOMIC_RELAXED);
    if (gort_chan_recv(ch, NULL) != 0) bench_fail("gort_park: recv did not see close");
    gort_wg_done(&wg);
}

static void main_fn(void *arg) {
    long i, before, after;
    int64_t t0, t1, t2;
    (void)arg;
    ch = gort_chan_make(0, 0);
    if (!ch) bench_fail("gort_chan_make");
    before = bench_mem_kib();
    gort_wg_add(&wg, (int)n);
    t0 = bench_now();
    for (i = 0; i < n; i++) {
        int rc = gort_go(waiter, NULL);
        if (rc != 0) {
            fprintf(stderr, "gort_go after %ld goroutines: %s\n", i, gort_strerror(rc));
            bench_fail("gort_park: gort_go");
        }
    }
    while (__atomic_load_n(&parked, __ATOMIC_RELAXED) < n) gort_yield();
    t1 = bench_now();
    gort_sleep(20000000);   /* let the last ones get from the counter into the channel */
    after = bench_mem_kib();
    if (gort_goroutines() < n) bench_fail("gort_park: goroutines missing");
    t2 = bench_now();
    gort_chan_close(ch);
    gort_wg_wait(&wg);
    release_ns = (double)(bench_now() - t2) / (double)n;
    spawn_ns = (double)(t1 - t0) / (double)n;
    kib_per_g = (double)(after - before) / (double)n;
    gort_chan_free(ch);
}

int main(int argc, char **argv) {
    int procs = (int)bench_arg(argc, argv, 1, 1, 1);
    n = bench_arg(argc, argv, 2, 1000000, 100000);
    bench_run(procs, main_fn, NULL);
    bench_result("park_mem", kib_per_g, "KiB/op");
    bench_result("park_spawn", spawn_ns, "ns/op");
    bench_result("park_release", release_ns, "ns/op");
    return 0;
}
