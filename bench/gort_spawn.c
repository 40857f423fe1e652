/* gort_spawn: goroutines spawned and run to completion.
   usage: gort_spawn [maxprocs=1] [n=1000000] [batch=1000]
   Spawns n goroutines in batches of `batch`, waiting for each batch on a
   WaitGroup (gort_go does not yield, so at maxprocs 1 a batch is spawned
   before any of it runs: the batch is how many stacks are alive at once);
   each goroutine calls gort_wg_done. Reports the wall time per goroutine,
   spawn to finish. run.sh runs batches of 1000 and of 10000 (the latter
   shows what happens when more dead stacks come back at once than the
   runtime keeps pooled). */
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "bench.h"

#define BATCH_DEFAULT 1000

static long n_total, batch;
static double ns_per_op;
static gort_wg wg = GORT_WG_INIT;

static void child(void *arg) {
    (void)arg;
    gort_wg_done(&wg);
}

static void main_fn(void *arg) {
    long done = 0;
    int64_t t0;
    (void)arg;
    t0 = bench_now();
    while (done < n_total) {
        long i, b = n_total - done < batch ? n_total - done : batch;
        gort_wg_add(&wg, (int)b);
        for (i = 0; i < b; i++) {
            int rc = gort_go(child, NULL);
            if (rc != 0) {
                fprintf(stderr, "gort_go: %s\n", gort_strerror(rc));
                bench_fail("gort_spawn: gort_go failed");
            }
        }
        gort_wg_wait(&wg);
        done += b;
    }
    ns_per_op = (double)(bench_now() - t0) / (double)n_total;
}

int main(int argc, char **argv) {
    int procs = (int)bench_arg(argc, argv, 1, 1, 1);
    n_total = bench_arg(argc, argv, 2, 1000000, 100000);
    batch = bench_arg(argc, argv, 3, BATCH_DEFAULT, BATCH_DEFAULT);
    if (batch < 1) bench_fail("gort_spawn: bad batch");
    bench_run(procs, main_fn, NULL);
    bench_result("spawn", ns_per_op, "ns/op");
    return 0;
}
