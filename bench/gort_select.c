/* gort_select: gort_select receiving from k buffered channels (cap 1024),
   each fed by its own producer goroutine.
   usage: gort_select [maxprocs=1] [k=2]
   Producers send until BENCH_MS (200 ms) have passed, then close their
   channel; the selecting goroutine drops a closed channel's case (sets it
   to NULL: never ready) and stops when all are closed. Reports ns per
   select that received a value (total time / values received). */
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "bench.h"

#define CAP 1024
#define MAXK 8

static gort_chan *chans[MAXK];
static int k;
static int64_t deadline;
static double ns_per_select;

static void producer(void *arg) {
    gort_chan *c = (gort_chan *)arg;
    long v = 0;
    do {
        int i;
        for (i = 0; i < 1024; i++, v++)
            if (gort_chan_send(c, &v) != 0) bench_fail("gort_select: send");
    } while (bench_now() < deadline);
    gort_chan_close(c);
}

static void main_fn(void *arg) {
    gort_case cases[MAXK];
    long vals[MAXK], n = 0;
    int i, open = k;
    int64_t t0;
    (void)arg;
    for (i = 0; i < k; i++) {
        chans[i] = gort_chan_make(sizeof(long), CAP);
        if (!chans[i]) bench_fail("gort_chan_make");
        cases[i].chan = chans[i];
        cases[i].op = GORT_RECV;
        cases[i].elem = &vals[i];
        cases[i].ok = 0;
    }
    t0 = bench_now();
    deadline = t0 + bench_duration_ns();
    for (i = 0; i < k; i++)
        if (gort_go(producer, chans[i]) != 0) bench_fail("gort_go");
    while (open > 0) {
        int r = gort_select(cases, k, -1);
        if (r < 0 || r >= k) bench_fail("gort_select: bad return");
        if (cases[r].ok) {
            n++;
        } else {
            cases[r].chan = NULL;
            open--;
        }
    }
    ns_per_select = (double)(bench_now() - t0) / (double)n;
    for (i = 0; i < k; i++) gort_chan_free(chans[i]);
}

int main(int argc, char **argv) {
    int procs = (int)bench_arg(argc, argv, 1, 1, 1);
    k = (int)bench_arg(argc, argv, 2, 2, 2);
    if (k < 1 || k > MAXK) bench_fail("gort_select: bad k");
    bench_run(procs, main_fn, NULL);
    bench_result("select", ns_per_select, "ns/op");
    return 0;
}
