/* pth_pingpong: round trips between two threads over a mutex and two
   condition variables (a one-slot rendezvous, the pthreads stand-in for an
   unbuffered channel).
   usage: pth_pingpong [pin=0]
   pin=1 pins both threads to one CPU (the stand-in for maxprocs 1); pin=0
   lets them run on two. Reports ns per round trip. */
#include "bench.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t to_echo = PTHREAD_COND_INITIALIZER, to_main = PTHREAD_COND_INITIALIZER;
static long slot;
static int full;      /* 1: slot holds a ping for the echoer; under mu */
static int pin;

static void *echo(void *arg) {
    (void)arg;
    if (pin) bench_pin_first_cpu();
    pthread_mutex_lock(&mu);
    for (;;) {
        while (!full) pthread_cond_wait(&to_echo, &mu);
        if (slot < 0) break;
        full = 0;                        /* hand the value back */
        pthread_cond_signal(&to_main);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(int argc, char **argv) {
    long n = 0;
    pthread_t th;
    int64_t t0, deadline;
    pin = (int)bench_arg(argc, argv, 1, 0, 0);
    if (pin) bench_pin_first_cpu();
    if (pthread_create(&th, NULL, echo, NULL) != 0) bench_fail("pthread_create");
    t0 = bench_now();
    deadline = t0 + bench_duration_ns();
    do {
        int i;
        for (i = 0; i < 256; i++, n++) {
            pthread_mutex_lock(&mu);
            slot = n;
            full = 1;
            pthread_cond_signal(&to_echo);
            while (full) pthread_cond_wait(&to_main, &mu);
            if (slot != n) bench_fail("pth_pingpong: wrong value echoed");
            pthread_mutex_unlock(&mu);
        }
    } while (bench_now() < deadline);
    bench_result("pingpong", (double)(bench_now() - t0) / (double)n, "ns/op");
    pthread_mutex_lock(&mu);
    slot = -1;
    full = 1;
    pthread_cond_signal(&to_echo);
    pthread_mutex_unlock(&mu);
    pthread_join(th, NULL);
    return 0;
}
