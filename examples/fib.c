/* fib.c - parallel recursive Fibonacci: one goroutine per call above a cutoff.
 *
 * What it shows: fork-join with gort_go, a WaitGroup and a result slot that
 * live in the parent's stack frame (safe because the parent waits before it
 * returns); thousands of short-lived goroutines; and gort_run_opts called
 * twice in one process, at maxprocs 1 and then 2, to see the work-stealing
 * scheduler spread the same work over two cores.
 *
 * Usage: fib [n [cutoff]]    default fib(32), cutoff 18; calls below the
 * cutoff run serially. Prints the best of 5 runs at each maxprocs and the
 * speedup (not checked: the machine may be busy), and checks the value
 * against a loop; exit status 0 only if every run got it right.
 */
#define GORT_IMPLEMENTATION
#include "../gort.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define REPS  5
#define MAX_N 45

static int  cutoff = 18;
static long spawned;   /* atomic: goroutines started in this run */

static uint64_t sfib(int n) { return n < 2 ? (uint64_t)n : sfib(n - 1) + sfib(n - 2); }

typedef struct fib_job {
    int       n;
    uint64_t  result;  /* written by the child before gort_wg_done */
    gort_wg  *wg;
} fib_job;

static uint64_t pfib(int n);

static void fib_go(void *arg) {
    fib_job *j = (fib_job *)arg;
    j->result = pfib(j->n);
    gort_wg_done(j->wg);   /* publishes j->result to the parent's gort_wg_wait */
}

/* fib(n-1) in a new goroutine, fib(n-2) here, then join. */
static uint64_t pfib(int n) {
    gort_wg  wg = GORT_WG_INIT;
    fib_job  j;
    uint64_t b;
    if (n < cutoff) return sfib(n);
    j.n = n - 1;
    j.result = 0;
    j.wg = &wg;
    gort_wg_add(&wg, 1);
    if (gort_go(fib_go, &j) == 0) {
        __atomic_add_fetch(&spawned, 1, __ATOMIC_RELAXED);
    } else {
        fib_go(&j);   /* out of memory for goroutines: do it here */
    }
    b = pfib(n - 2);
    gort_wg_wait(&wg);
    return j.result + b;
}

typedef struct run {
    int      n;
    int      procs;     /* out: gort_maxprocs() inside the run */
    int      bad;       /* out: runs with a wrong value */
    uint64_t value;     /* out: the last value computed */
    int64_t  best_ns;   /* out */
    long     goroutines;/* out: per run */
} run;

static uint64_t want;   /* fib(n) by a loop */

static void main_fn(void *arg) {
    run *r = (run *)arg;
    r->procs = gort_maxprocs();
    r->best_ns = -1;
    for (int i = 0; i < REPS; i++) {
        int64_t t0, dt;
        __atomic_store_n(&spawned, 0, __ATOMIC_RELAXED);
        t0 = gort_now();
        r->value = pfib(r->n);
        dt = gort_now() - t0;
        if (r->value != want) r->bad++;
        if (r->best_ns < 0 || dt < r->best_ns) r->best_ns = dt;
        r->goroutines = __atomic_load_n(&spawned, __ATOMIC_RELAXED);
    }
}

static int parse(const char *s, long lo, long hi, long *out) {
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

int main(int argc, char **argv) {
    long     n = 32, c = cutoff;
    run      r[2];
    int      ok = 1;
    uint64_t a = 0, b = 1;

    if (argc > 3 || (argc > 1 && !parse(argv[1], 0, MAX_N, &n)) ||
        (argc > 2 && !parse(argv[2], 2, MAX_N, &c))) {
        fprintf(stderr, "usage: %s [n 0..%d [cutoff 2..%d]]\n", argv[0], MAX_N, MAX_N);
        return 2;
    }
    cutoff = (int)c;
    for (long i = 0; i < n; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    want = a;

    for (int p = 0; p < 2; p++) {
        gort_opts opts = { 0 };
        int rc;
        opts.maxprocs = p + 1;
        r[p].n = (int)n;
        r[p].bad = 0;
        rc = gort_run_opts(&opts, main_fn, &r[p]);
        if (rc != 0) {
            fprintf(stderr, "fib: gort_run_opts (maxprocs %d): %s\n", p + 1, gort_strerror(rc));
            return 1;
        }
        printf("maxprocs %d: fib(%ld) = %llu, best of %d: %8.2f ms (%ld goroutines per run, cutoff %d)\n",
               r[p].procs, n, (unsigned long long)r[p].value, REPS, (double)r[p].best_ns / 1e6,
               r[p].goroutines, cutoff);
        if (r[p].procs != p + 1) {
            printf("MISMATCH: asked for maxprocs %d, gort_maxprocs() said %d\n", p + 1, r[p].procs);
            ok = 0;
        }
        if (r[p].bad) {
            printf("MISMATCH: %d of %d runs got a value other than %llu\n", r[p].bad, REPS,
                   (unsigned long long)want);
            ok = 0;
        }
    }
    if (r[1].best_ns > 0)
        printf("speedup with 2 procs: %.2fx\n", (double)r[0].best_ns / (double)r[1].best_ns);
    if (!ok) {
        printf("FAILED\n");
        return 1;
    }
    printf("OK: fib(%ld) = %llu in every run\n", n, (unsigned long long)want);
    return 0;
}
