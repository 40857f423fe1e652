/* pth_bufchan: throughput of a bounded queue (ring of 1024 8-byte items)
   under one pthread mutex with two condition variables (not_full,
   not_empty), signalled only when someone waits.
   usage: pth_bufchan [pin=0] [producers=1] [consumers=1]
   pin=1 puts every thread on one CPU (the stand-in for maxprocs 1).
   Producers put until BENCH_MS (200 ms) have passed, then the queue is
   closed and drained. Reports items taken per second, in millions. */
#include "bench.h"

#define CAP 1024
#define MAXT 64

static struct {
    pthread_mutex_t mu;
    pthread_cond_t not_full, not_empty;
    long buf[CAP];
    size_t head, len;           /* under mu */
    int closed;                 /* under mu */
    int wait_put, wait_get;     /* threads waiting in put/get; under mu */
} q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
        { 0 }, 0, 0, 0, 0, 0 };

static int64_t deadline;
static int pin;

static void q_put(long v) {
    pthread_mutex_lock(&q.mu);
    while (q.len == CAP) {
        q.wait_put++;
        pthread_cond_wait(&q.not_full, &q.mu);
        q.wait_put--;
    }
    q.buf[(q.head + q.len) % CAP] = v;
    q.len++;
    if (q.wait_get) pthread_cond_signal(&q.not_empty);
    pthread_mutex_unlock(&q.mu);
}

static int q_get(long *v) {   /* 1 got one, 0 closed and empty */
    pthread_mutex_lock(&q.mu);
    while (q.len == 0 && !q.closed) {
        q.wait_get++;
        pthread_cond_wait(&q.not_empty, &q.mu);
        q.wait_get--;
    }
    if (q.len == 0) {
        pthread_mutex_unlock(&q.mu);
        return 0;
    }
    *v = q.buf[q.head];
    q.head = (q.head + 1) % CAP;
    q.len--;
    if (q.wait_put) pthread_cond_signal(&q.not_full);
    pthread_mutex_unlock(&q.mu);
    return 1;
}

static void *producer(void *arg) {
    long v = 0;
    (void)arg;
    if (pin) bench_pin_first_cpu();
    do {
        int i;
        for (i = 0; i < 1024; i++, v++) q_put(v);
    } while (bench_now() < deadline);
    return NULL;
}

static void *consumer(void *arg) {
    long *count = (long *)arg, n = 0, v;
    if (pin) bench_pin_first_cpu();
    while (q_get(&v)) n++;
    *count = n;
    return NULL;
}

int main(int argc, char **argv) {
    int i, nprod, ncons;
    long got[MAXT], total = 0;
    pthread_t prod[MAXT], cons[MAXT];
    int64_t t0;
    pin = (int)bench_arg(argc, argv, 1, 0, 0);
    nprod = (int)bench_arg(argc, argv, 2, 1, 1);
    ncons = (int)bench_arg(argc, argv, 3, 1, 1);
    if (nprod < 1 || ncons < 1 || nprod > MAXT || ncons > MAXT) bench_fail("pth_bufchan: bad counts");
    if (pin) bench_pin_first_cpu();
    t0 = bench_now();
    deadline = t0 + bench_duration_ns();
    for (i = 0; i < ncons; i++)
        if (pthread_create(&cons[i], NULL, consumer, &got[i]) != 0) bench_fail("pthread_create");
    for (i = 0; i < nprod; i++)
        if (pthread_create(&prod[i], NULL, producer, NULL) != 0) bench_fail("pthread_create");
    for (i = 0; i < nprod; i++) pthread_join(prod[i], NULL);
    pthread_mutex_lock(&q.mu);
    q.closed = 1;
    pthread_cond_broadcast(&q.not_empty);
    pthread_mutex_unlock(&q.mu);
    for (i = 0; i < ncons; i++) {
        pthread_join(cons[i], NULL);
        total += got[i];
    }
    bench_result("bufchan", (double)total * 1e3 / (double)(bench_now() - t0), "M/s");
    return 0;
}
