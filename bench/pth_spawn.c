/* pth_spawn: threads created and joined.
   usage: pth_spawn [n=20000]
   Creates threads in batches of 64 (default attributes, so glibc's stack
   cache is used), then joins the batch. Reports wall time per thread. */
#include "bench.h"

#define BATCH 64

static void *child(void *arg) {
    return arg;
}

int main(int argc, char **argv) {
    long n = bench_arg(argc, argv, 1, 20000, 5000);
    long done = 0;
    pthread_t th[BATCH];
    int64_t t0 = bench_now();
    while (done < n) {
        long i, b = n - done < BATCH ? n - done : BATCH;
        for (i = 0; i < b; i++)
            if (pthread_create(&th[i], NULL, child, NULL) != 0) bench_fail("pthread_create");
        for (i = 0; i < b; i++) pthread_join(th[i], NULL);
        done += b;
    }
    bench_result("spawn", (double)(bench_now() - t0) / (double)n, "ns/op");
    return 0;
}
