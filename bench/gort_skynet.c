/* gort_skynet: the skynet benchmark (github.com/atemerev/skynet).
   usage: gort_skynet [maxprocs=2] [size=1000000]
   A 10-ary tree of `size` leaf goroutines; each leaf sends its number, each
   inner goroutine sums its children's values from its own unbuffered
   channel and sends the sum up. The total must be size*(size-1)/2
   (499999500000 for a million); anything else fails loudly. Reports the
   wall time in ms and the peak RSS (VmHWM) in MiB: how many goroutines
   the schedule keeps alive at once, a fresh stack page each. */
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "bench.h"

#define DIV 10

typedef struct sk_arg {
    gort_chan *out;
    long long num, size;
} sk_arg;

static long long size;
static long long result;
static double ms;

static void skynet(void *p) {
    sk_arg *a = (sk_arg *)p;
    gort_chan *out = a->out, *rc;
    long long num = a->num, sz = a->size, sum = 0, v;
    /* The children's arguments live in this frame: it outlives them, since
       this goroutine waits for every child's value before it returns. */
    sk_arg kids[DIV];
    int i;
    if (sz == 1) {
        gort_chan_send(out, &num);
        return;
    }
    rc = gort_chan_make(sizeof(long long), 0);
    if (!rc) bench_fail("gort_skynet: gort_chan_make");
    for (i = 0; i < DIV; i++) {
        kids[i].out = rc;
        kids[i].num = num + i * (sz / DIV);
        kids[i].size = sz / DIV;
        if (gort_go(skynet, &kids[i]) != 0) bench_fail("gort_skynet: gort_go");
    }
    for (i = 0; i < DIV; i++) {
        gort_chan_recv(rc, &v);
        sum += v;
    }
    gort_chan_free(rc);
    gort_chan_send(out, &sum);
}

static void main_fn(void *arg) {
    sk_arg root;
    int64_t t0;
    (void)arg;
    root.out = gort_chan_make(sizeof(long long), 0);
    root.num = 0;
    root.size = size;
    t0 = bench_now();
    if (gort_go(skynet, &root) != 0) bench_fail("gort_go");
    gort_chan_recv(root.out, &result);
    ms = (double)(bench_now() - t0) / 1e6;
    gort_chan_free(root.out);
}

int main(int argc, char **argv) {
    int procs = (int)bench_arg(argc, argv, 1, 2, 2);
    long long want;
    size = bench_arg(argc, argv, 2, 1000000, 1000000);
    want = size * (size - 1) / 2;
    bench_run(procs, main_fn, NULL);
    if (result != want) {
        fprintf(stderr, "FAIL gort_skynet: sum %lld, want %lld\n", result, want);
        return 1;
    }
    bench_result("skynet", ms, "ms");
    bench_result("skynet_rss", (double)bench_status_kib("VmHWM") / 1024.0, "MiB");
    return 0;
}
