/* gort_pingpong: round trips over two unbuffered channels.
   usage: gort_pingpong [maxprocs=1]
   The main goroutine sends a value on `ping` and receives it back on
   `pong`; a second goroutine echoes. Runs for BENCH_MS (200 ms), then sends
   -1 to stop the echoer. Reports ns per round trip (two channel handoffs,
   two goroutine switches at maxprocs 1). */
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "bench.h"

static gort_chan *ping, *pong;
static gort_wg wg = GORT_WG_INIT;
static double ns_per_rt;

static void echo(void *arg) {
    long v;
    (void)arg;
    for (;;) {
        if (gort_chan_recv(ping, &v) != 1) bench_fail("gort_pingpong: recv");
        if (v < 0) break;
        if (gort_chan_send(pong, &v) != 0) bench_fail("gort_pingpong: send");
    }
    gort_wg_done(&wg);
}

static void main_fn(void *arg) {
    long n = 0, v, stopv = -1;
    int64_t t0, deadline;
    (void)arg;
    ping = gort_chan_make(sizeof(long), 0);
    pong = gort_chan_make(sizeof(long), 0);
    if (!ping || !pong) bench_fail("gort_chan_make");
    gort_wg_add(&wg, 1);
    if (gort_go(echo, NULL) != 0) bench_fail("gort_go");
    t0 = bench_now();
    deadline = t0 + bench_duration_ns();
    do {
        int i;
        for (i = 0; i < 256; i++, n++) {
            gort_chan_send(ping, &n);
            gort_chan_recv(pong, &v);
            if (v != n) bench_fail("gort_pingpong: wrong value echoed");
        }
    } while (bench_now() < deadline);
    ns_per_rt = (double)(bench_now() - t0) / (double)n;
    gort_chan_send(ping, &stopv);
    gort_wg_wait(&wg);
    gort_chan_free(ping);
    gort_chan_free(pong);
}

int main(int argc, char **argv) {
    int procs = (int)bench_arg(argc, argv, 1, 1, 1);
    bench_run(procs, main_fn, NULL);
    bench_result("pingpong", ns_per_rt, "ns/op");
    return 0;
}
