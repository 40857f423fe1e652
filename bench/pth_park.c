/* pth_park: memory of threads blocked on a condition variable.
   usage: pth_park [n=10000]
   Creates n threads (default attributes: 8 MiB stack reserve) that each
   wait on one condition variable; once all wait, reads VmRSS + VmPTE and
   compares with the value before. Kernel memory per thread (its kernel
   stack and task_struct, about 20 KiB) is in neither and not counted.
   Then broadcasts and joins them all.
   Reports park_mem (KiB per thread), park_spawn and park_release (ns per
   thread), as gort_park does. */
#include "bench.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER, all_parked = PTHREAD_COND_INITIALIZER;
static long parked, n;   /* under mu */
static int released;     /* under mu */

static void *waiter(void *arg) {
    (void)arg;
    pthread_mutex_lock(&mu);
    if (++parked == n) pthread_cond_signal(&all_parked);
    while (!released) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(int argc, char **argv) {
    long i, before, after;
    pthread_t *th;
    int64_t t0, t1, t2, t3;
    n = bench_arg(argc, argv, 1, 10000, 2000);
    th = (pthread_t *)malloc((size_t)n * sizeof *th);
    if (!th) bench_fail("malloc");
    before = bench_mem_kib();
    t0 = bench_now();
    for (i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, waiter, NULL) != 0) bench_fail("pthread_create");
    pthread_mutex_lock(&mu);
    while (parked < n) pthread_cond_wait(&all_parked, &mu);
    pthread_mutex_unlock(&mu);
    t1 = bench_now();
    {
        struct timespec ts = { 0, 20000000 };
        nanosleep(&ts, NULL);   /* let the last ones get into pthread_cond_wait */
    }
    after = bench_mem_kib();
    t2 = bench_now();
    pthread_mutex_lock(&mu);
    released = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (i = 0; i < n; i++) pthread_join(th[i], NULL);
    t3 = bench_now();
    bench_result("park_mem", (double)(after - before) / (double)n, "KiB/op");
    bench_result("park_spawn", (double)(t1 - t0) / (double)n, "ns/op");
    bench_result("park_release", (double)(t3 - t2) / (double)n, "ns/op");
    free(th);
    return 0;
}
