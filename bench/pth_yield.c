/* pth_yield: sched_yield.
   usage: pth_yield pair|self
   pair: two threads pinned to the same CPU call sched_yield in a loop, so
         each yield switches to the other thread (kernel context switch).
   self: one pinned thread calls sched_yield with nothing else to run
         (a bare system call). Reports ns per yield. */
#include "bench.h"

static int64_t deadline;
static int stop;   /* atomic */
static pthread_barrier_t start;   /* both threads pinned before either counts */
static int paired;

static void *yielder(void *arg) {
    long *count = (long *)arg, n = 0;
    bench_pin_first_cpu();
    if (paired) pthread_barrier_wait(&start);
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        int i;
        for (i = 0; i < 256; i++) sched_yield();
        n += 256;
        if (bench_now() >= deadline) __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    }
    *count = n;
    return NULL;
}

int main(int argc, char **argv) {
    int self_mode = argc > 1 && strcmp(argv[1], "self") == 0;
    long counts[2] = { 0, 0 };
    pthread_t a, b;
    int64_t t0 = bench_now();
    deadline = t0 + bench_duration_ns();
    if (self_mode) {
        yielder(&counts[0]);
    } else {
        paired = 1;
        pthread_barrier_init(&start, NULL, 2);
        if (pthread_create(&a, NULL, yielder, &counts[0]) != 0) bench_fail("pthread_create");
        if (pthread_create(&b, NULL, yielder, &counts[1]) != 0) bench_fail("pthread_create");
        pthread_join(a, NULL);
        pthread_join(b, NULL);
    }
    bench_result("yield", (double)(bench_now() - t0) / (double)(counts[0] + counts[1]), "ns/op");
    return 0;
}
