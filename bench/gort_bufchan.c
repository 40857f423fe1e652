/* gort_bufchan: throughput of a buffered channel (cap 1024, 8-byte items).
   usage: gort_bufchan [maxprocs=1] [producers=1] [consumers=1]
   Producers send until BENCH_MS (200 ms) have passed (they read the clock
   every 1024 items), then the channel is closed and the consumers drain
   it. Reports items received per second, in millions. */
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "bench.h"

#define CAP 1024
#define MAXT 64

static gort_chan *ch;
static int64_t deadline;
static int nprod, ncons;
static long got[MAXT];
static gort_wg prod_wg = GORT_WG_INIT, cons_wg = GORT_WG_INIT;
static double mitems_per_s;

static void producer(void *arg) {
    long v = 0;
    (void)arg;
    do {
        int i;
        for (i = 0; i < 1024; i++, v++)
            if (gort_chan_send(ch, &v) != 0) bench_fail("gort_bufchan: send");
    } while (bench_now() < deadline);
    gort_wg_done(&prod_wg);
}

static void consumer(void *arg) {
    long *count = (long *)arg, n = 0, v;
    while (gort_chan_recv(ch, &v) == 1) n++;
    *count = n;
    gort_wg_done(&cons_wg);
}

static void main_fn(void *arg) {
    int i;
    long total = 0;
    int64_t t0;
    (void)arg;
    ch = gort_chan_make(sizeof(long), CAP);
    if (!ch) bench_fail("gort_chan_make");
    t0 = bench_now();
    deadline = t0 + bench_duration_ns();
    gort_wg_add(&cons_wg, ncons);
    gort_wg_add(&prod_wg, nprod);
    for (i = 0; i < ncons; i++)
        if (gort_go(consumer, &got[i]) != 0) bench_fail("gort_go");
    for (i = 0; i < nprod; i++)
        if (gort_go(producer, NULL) != 0) bench_fail("gort_go");
    gort_wg_wait(&prod_wg);
    gort_chan_close(ch);
    gort_wg_wait(&cons_wg);
    for (i = 0; i < ncons; i++) total += got[i];
    mitems_per_s = (double)total * 1e3 / (double)(bench_now() - t0);
    gort_chan_free(ch);
}

int main(int argc, char **argv) {
    int procs = (int)bench_arg(argc, argv, 1, 1, 1);
    nprod = (int)bench_arg(argc, argv, 2, 1, 1);
    ncons = (int)bench_arg(argc, argv, 3, 1, 1);
    if (nprod < 1 || ncons < 1 || nprod > MAXT || ncons > MAXT) bench_fail("gort_bufchan: bad counts");
    bench_run(procs, main_fn, NULL);
    bench_result("bufchan", mitems_per_s, "M/s");
    return 0;
}
