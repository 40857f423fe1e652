/* test_million.c - a million goroutines (>>stack, >>sched, >>chan, >>sync).

   1,000,000 goroutines (scaled by $GORT_TEST_SCALE) are started on 1 and
   on 2 Ps; each parks on one shared unbuffered channel (gort_chan_recv)
   or on one WaitGroup. With all of them parked gort_goroutines() is
   exactly N + 1; then one close (or one wg_done) releases them all, each
   is counted (and reports on a second WaitGroup the main goroutine waits
   on), and gort_goroutines() falls back to 1.
   The memory each parked goroutine costs (growth of VmRSS + VmPTE over
   N) is printed; at full scale it must stay under 16 KiB (a loose bound:
   the design target is about 4.5 KiB). Not checked under Valgrind or a
   sanitizer, or when scaled down.
   C99. */
#define _GNU_SOURCE
// gort-test: heavy timeout=900 windows
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WATCHDOG_S 1800
#define SEC        1000000000LL
#define WAIT_NS    (900 * SEC)   /* only a hang gets there */
#define FULL_N     1000000L

#include "util.h"   /* after WAIT_NS: its yield_until waits that long */


/* (no VmPTE on Windows: the working set alone) */
static long mem_kb(void)
{
    long pte = proc_status_kb("VmPTE");
    return proc_status_kb("VmRSS") + (pte > 0 ? pte : 0);
}

/* ------------------------------------------------------------------ */

enum { BY_CHAN, BY_WG };

static gort_chan *gate;
static gort_wg    gate_wg = GORT_WG_INIT;
static gort_wg    done_wg = GORT_WG_INIT;
static long       started, finished, bad_recv;

static void chan_waiter(void *arg)
{
    long v = 1;
    (void)arg;
    INC(&started);
    if (gort_chan_recv(gate, &v) != 0 || v != 0)   /* 0: closed, elem zeroed */
        INC(&bad_recv);
    INC(&finished);
    gort_wg_done(&done_wg);
}

static void wg_waiter(void *arg)
{
    (void)arg;
    INC(&started);
    gort_wg_wait(&gate_wg);
    INC(&finished);
    gort_wg_done(&done_wg);
}

struct run {
    int  maxprocs, how;
    long n;
    long spawned, peak_goroutines, after_goroutines;
    long mem_before, mem_peak;
};

static void million_main(void *arg)
{
    struct run *r = (struct run *)arg;
    long i;
    int rc = 0;
    int64_t end;

    STORE(&started, 0);
    STORE(&finished, 0);
    STORE(&bad_recv, 0);
    if (r->how == BY_CHAN) {
        gate = gort_chan_make(sizeof(long), 0);
        CHECK(gate != NULL);
        if (!gate)
            return;
    } else {
        gort_wg_add(&gate_wg, 1);
    }
    gort_wg_add(&done_wg, (int)r->n);
    r->mem_before = mem_kb();

    for (i = 0; i < r->n; i++) {
        rc = gort_go(r->how == BY_CHAN ? chan_waiter : wg_waiter, NULL);
        if (rc != 0)
            break;
    }
    r->spawned = i;
    CHECK_EQ(rc, 0);
    CHECK_EQ(r->spawned, r->n);
    if (rc != 0) {
        check_note("gort_go failed after %ld goroutines: %d (%s)", i, rc, gort_strerror(rc));
        gort_wg_add(&done_wg, -(int)(r->n - r->spawned));
    }

    /* every one has run up to its park */
    CHECK(yield_until(&started, r->spawned));
    r->peak_goroutines = gort_goroutines();
    CHECK_EQ(r->peak_goroutines, r->spawned + 1);
    CHECK_EQ(LOAD(&finished), 0);
    r->mem_peak = mem_kb();

    /* release them all at once, and wait for every one to be counted */
    if (r->how == BY_CHAN)
        CHECK_EQ(gort_chan_close(gate), 0);
    else
        gort_wg_done(&gate_wg);
    gort_wg_wait(&done_wg);
    CHECK_EQ(LOAD(&finished), r->spawned);
    CHECK_EQ(LOAD(&bad_recv), 0);

    end = gort_now() + WAIT_NS;
    while (gort_goroutines() != 1 && gort_now() < end)
        gort_yield();
    r->after_goroutines = gort_goroutines();
    CHECK_EQ(r->after_goroutines, 1);
    if (r->how == BY_CHAN)
        CHECK_EQ(gort_chan_free(gate), 0);
}

static void run_one(int maxprocs, int how, long n)
{
    struct run r;
    gort_opts o;
    int64_t t0;
    double per;
    int judge = n == FULL_N && !under_valgrind() && !(UNDER_ASAN || UNDER_TSAN);

    memset(&r, 0, sizeof r);
    r.maxprocs = maxprocs;
    r.how = how;
    r.n = n;
    memset(&o, 0, sizeof o);
    o.maxprocs = maxprocs;
    o.hog_ns = -1;   /* starting a million goroutines is one long stretch */
    t0 = gort_now();
    CHECK_EQ(gort_run_opts(&o, million_main, &r), 0);
    per = r.spawned > 0 ? (double)(r.mem_peak - r.mem_before) * 1024.0 / (double)r.spawned : 0;
    check_note("maxprocs %d, %s: %ld goroutines parked (gort_goroutines %ld, then %ld), "
               "%.0f bytes each (RSS+PTE %ld -> %ld KiB), %.2f s",
               maxprocs, how == BY_CHAN ? "channel" : "waitgroup", r.spawned,
               r.peak_goroutines, r.after_goroutines, per, r.mem_before, r.mem_peak,
               (double)(gort_now() - t0) / 1e9);
    if (judge)
        CHECK(per < 16.0 * 1024);
}

int main(void)
{
    long n = check_scale(FULL_N);
    watchdog(WATCHDOG_S);
    run_one(1, BY_CHAN, n);
    run_one(2, BY_WG, n);
    /* the other pairings, at a quarter of the size */
    run_one(2, BY_CHAN, n / 4 > 0 ? n / 4 : 1);
    run_one(1, BY_WG, n / 4 > 0 ? n / 4 : 1);
    return check_done();
}
