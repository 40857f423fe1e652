/* test_fair.c - nobody waits behind a busy goroutine (>>sched, >>sysmon).

     - stranded work: at maxprocs 2 a goroutine spawns 1000 goroutines and
       then computes without a scheduling point; every one of the 1000 runs
       (on the other P) while it computes. Also with the spawner asleep
       first, so that the other M is deep asleep when the work appears;
     - ping-pong hog (Go's TestPingPongHog, proc_test.go): at maxprocs 1
       and 2, a pair handing a token back and forth over unbuffered
       channels with 1e6 units of work per turn and a pair with 1e3, for
       100 ms (600 ms in the slow configurations): the work done by the two pairs is within 20x of each other
       (a pair handing off through runnext runs in one time slice, and
       once it is used up the queues get their turn);
     - false hog reports, in forked children (on Windows: this program
       run again) with stderr in a file (a pipe on Windows) and a
       5 ms hog threshold: closing a channel that 50,000 (scaled) goroutines
       wait on, and a goroutine spawning 100,000 (scaled) goroutines in a
       loop, spend long stretches inside gort: neither is reported; a
       goroutine spinning in its own code is (the control: until it sees
       the report in its stderr; on Windows, 300 ms);
     - a fresh goroutine left behind newer ones: a chain that spawns
       two goroutines a step, forever (one runs next, the other goes to
       the queue's front, each step 20 us of work), does not keep the
       first one waiting: it runs within 3 s (the age limit is 100 ms;
       without it, only when the chain ends). Depth first itself is
       checked by test_sched's skynet tree. */
#define _GNU_SOURCE
// gort-test: windows
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <fcntl.h>
#include <signal.h>
#if !defined(_WIN32)
#include <sys/wait.h>
#include <unistd.h>
#endif

#define MS 1000000LL

/* ---- stranded work ---- */
static long stranded_ran;
static void stranded_worker(void *arg) {
    (void)arg;
    __atomic_add_fetch(&stranded_ran, 1, __ATOMIC_SEQ_CST);
}
static void stranded_main(void *arg) {
    int i, n = 1000;
    int64_t t0;
    if (arg) gort_sleep(50 * MS);   /* the other M sleeps deeply by now */
    __atomic_store_n(&stranded_ran, 0, __ATOMIC_SEQ_CST);
    for (i = 0; i < n; i++) CHECK_EQ(gort_go(stranded_worker, NULL), 0);
    /* compute: no scheduling point until they all ran (or 20 s) */
    t0 = gort_now();
    while (__atomic_load_n(&stranded_ran, __ATOMIC_SEQ_CST) < n && gort_now() - t0 < 20000 * MS) {
    }
#ifdef GORT_VALGRIND
    /* Valgrind runs one thread at a time, and a thread that spins keeps
       the CPU for its whole time slice: the thieves' progress is its
       choice, not gort's (the bound is checked in every other config) */
    if (__atomic_load_n(&stranded_ran, __ATOMIC_SEQ_CST) != n)
        check_note("stranded: not all ran under Valgrind; not checked here (it serializes threads)");
    else
#endif
    CHECK_EQ(__atomic_load_n(&stranded_ran, __ATOMIC_SEQ_CST), n);
    check_note("stranded%s: %d of %d ran while the spawner computed (%.2f ms)", arg ? " (after sleep)" : "",
               (int)__atomic_load_n(&stranded_ran, __ATOMIC_SEQ_CST), n, (double)(gort_now() - t0) / 1e6);
}

/* ---- ping-pong hog ---- */
typedef struct {
    gort_chan *wake;
    long limit;
    long *counter;
} pp_arg;
static gort_chan *pp_done;

static void pp_run(void *arg) {
    pp_arg *a = (pp_arg *)arg;
    for (;;) {
        gort_case cs[2];
        int r;
        memset(cs, 0, sizeof cs);
        cs[0].chan = pp_done; cs[0].op = GORT_RECV;
        cs[1].chan = a->wake; cs[1].op = GORT_RECV;
        r = gort_select(cs, 2, -1);
        if (r == 0) return;
        CHECK_EQ(r, 1);
        {
            long i;
            for (i = 0; i < a->limit; i++)
                __atomic_store_n(a->counter, __atomic_load_n(a->counter, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
        }
        CHECK_EQ(gort_chan_send(a->wake, NULL), 0);
    }
}

static void pingpong_hog_main(void *arg) {
    static long hog, light;
    pp_arg ha, la;
    gort_chan *hogc = gort_chan_make(0, 0), *lightc = gort_chan_make(0, 0);
    int i;
    (void)arg;
    hog = light = 0;
    pp_done = gort_chan_make(0, 0);
    ha.wake = hogc; ha.limit = 1000000; ha.counter = &hog;
    la.wake = lightc; la.limit = 1000; la.counter = &light;
    for (i = 0; i < 2; i++) CHECK_EQ(gort_go(pp_run, &ha), 0);
    for (i = 0; i < 2; i++) CHECK_EQ(gort_go(pp_run, &la), 0);
    CHECK_EQ(gort_chan_send(hogc, NULL), 0);
    CHECK_EQ(gort_chan_send(lightc, NULL), 0);
    /* Go's 100 ms; where everything is 10x slower (sanitizers, Valgrind,
       qemu: scale < 1) a hog turn takes 15-25 ms, so a longer look */
    gort_sleep(check_scale(10) < 10 ? 600 * MS : 100 * MS);
    CHECK_EQ(gort_chan_close(pp_done), 0);
    CHECK_EQ(gort_chan_recv(hogc, NULL), 1);
    CHECK_EQ(gort_chan_recv(lightc, NULL), 1);
    {
        long h = __atomic_load_n(&hog, __ATOMIC_RELAXED), l = __atomic_load_n(&light, __ATOMIC_RELAXED);
        check_note("ping-pong hog at maxprocs %d: hog %ld, light %ld (ratio %.2f)", gort_maxprocs(), h, l,
                   l ? (double)h / (double)l : -1.0);
#ifdef GORT_VALGRIND
        /* Valgrind runs one thread at a time and picks which: at 2 Ps the
           pairs sit on two threads, so its choice, not gort's, decides */
        if (gort_maxprocs() > 1) {
            check_note("ping-pong hog at maxprocs %d: bound not checked under Valgrind (it serializes threads)",
                       gort_maxprocs());
            h = l = 1;
        }
#endif
        if (debug_compact()) {
            check_note("ping-pong hog: bound not checked under GORT_DEBUG=compact (a park costs a compaction)");
            h = l = 1;
        }
        CHECK(h / 20 <= l);
        CHECK(l / 20 <= h);
    }
    /* the pairs are back in their selects: let them see done closed */
    gort_sleep(10 * MS);
    gort_chan_free(hogc);
    gort_chan_free(lightc);
    gort_chan_free(pp_done);
}

/* ---- false hog reports ---- */
static gort_chan *fh_chan;
static long fh_woken;
static void fh_waiter(void *arg) {
    (void)arg;
    CHECK_EQ(gort_chan_recv(fh_chan, NULL), 0);
    __atomic_add_fetch(&fh_woken, 1, __ATOMIC_RELAXED);
}
static void fh_close_main(void *arg) {
    long i, n = check_scale(50000);
    (void)arg;
    fh_chan = gort_chan_make(0, 0);
    for (i = 0; i < n; i++) CHECK_EQ(gort_go(fh_waiter, NULL), 0);
    while (gort_goroutines() < n + 1) gort_sleep(MS);
    gort_sleep(20 * MS);   /* all parked */
    CHECK_EQ(gort_chan_close(fh_chan), 0);   /* wakes n: long, inside gort */
    while (__atomic_load_n(&fh_woken, __ATOMIC_RELAXED) < n) gort_sleep(MS);
    gort_chan_free(fh_chan);
}
static void fh_nop(void *arg) { (void)arg; }
static void fh_spawn_main(void *arg) {
    long i, n = check_scale(100000);
    (void)arg;
    for (i = 0; i < n; i++) CHECK_EQ(gort_go(fh_nop, NULL), 0);
    while (gort_goroutines() > 1) gort_sleep(MS);
}
static void fh_spin_main(void *arg) {
    int64_t t0 = gort_now();
    char buf[4096];
    (void)arg;
    /* spin in our own code until the report is out (stderr is a file;
       Valgrind may have written to it first) */
#if defined(_WIN32)
    (void)buf;
    while (gort_now() - t0 < 300 * MS) {}
#else
    for (;;) {
        ssize_t n = pread(2, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = 0;
        if (strstr(buf, "has run for") || gort_now() - t0 > 10000 * MS) break;
    }
#endif
}

struct hog_child {
    void (*fn)(void *);
    int    procs;
};

static int hog_child_run(void *arg) {
    const struct hog_child *h = (const struct hog_child *)arg;
    gort_opts o;
    int before = check_failures(), rc;
    memset(&o, 0, sizeof o);
    o.maxprocs = h->procs;
    /* 5 ms; 30 ms where everything is 10x slower (sanitizers,
       Valgrind, qemu: a TSan fiber switch alone can take ms) */
    o.hog_ns = check_scale(10) < 10 ? 30 * MS : 5 * MS;
    rc = gort_run_opts(&o, h->fn, NULL);
    if (rc != 0) fprintf(stderr, "gort_run_opts: %d\n", rc);
    return rc != 0 ? 2 : check_failures() != before ? 1 : 0;
}

/* Runs fn in a child at the given maxprocs with a 5 ms hog threshold;
   returns whether its stderr named a hog. Its stderr is a file: the
   control reads it back. */
static int child_reports_hog(void (*fn)(void *), int procs) {
    static struct child c;
    struct child_opts co;
    static struct hog_child h;   /* static: on Windows the child is this program run again */
    int st;
    h.fn = fn;
    h.procs = procs;
    memset(&co, 0, sizeof co);
    co.alarm_s = 120;
#if !defined(_WIN32)
    co.to_file = 1;
#endif
    run_child_opts(hog_child_run, &h, &co, &c);
    st = child_exit_code(&c);
    if (st != 0)
        check_note("child: exit status %d (128 + a signal on Linux)", st);
    CHECK_EQ(st, 0);
    if (strstr(c.err, "has run for") || st) check_note("child's stderr: %s", c.err);
    return strstr(c.err, "has run for") != NULL;
}

/* ---- a fresh goroutine behind an endless chain of newer ones ---- */
static long chain_first_ran, chain_steps;
static int64_t chain_deadline, chain_first_at;
static gort_chan *chain_done;
static void chain_idle(void *arg) { (void)arg; }
static void chain_first(void *arg) {
    (void)arg;
    chain_first_at = mono_ns();
    STORE(&chain_first_ran, 1L);
    send_int(chain_done, 1);
}
static void chain_step(void *arg) {
    int64_t until = mono_ns() + 20000;
    (void)arg;
    while (mono_ns() < until) {}
    ADD(&chain_steps, 1L);
    if (LOAD(&chain_first_ran) || mono_ns() > chain_deadline) return;
    /* the second pushes the first out of runnext to the queue's front */
    CHECK_EQ(gort_go(chain_idle, NULL), 0);
    CHECK_EQ(gort_go(chain_step, NULL), 0);
}
static void chain_main(void *arg) {
    (void)arg;
    chain_first_ran = chain_steps = 0;
    chain_deadline = mono_ns() + 3000 * MS;
    chain_done = gort_chan_make(sizeof(int), 0);
    CHECK_EQ(gort_go(chain_first, NULL), 0);
    CHECK_EQ(gort_go(chain_step, NULL), 0);
    /* parked, not asleep: a timer waking main would break the chain */
    CHECK_EQ(recv_int(chain_done), 1);
    CHECK(yield_until_alone());
    gort_chan_free(chain_done);
}

int main(void) {
    gort_opts o;
    int procs;
    memset(&o, 0, sizeof o);
    o.maxprocs = 1;
    CHECK_EQ(gort_run_opts(&o, chain_main, NULL), 0);
    check_note("a fresh goroutine behind an endless chain: ran after %ld steps, %.0f ms before the chain's end",
               chain_steps, (double)(chain_deadline - chain_first_at) / 1e6);
    CHECK_EQ(chain_first_ran, 1);
    CHECK(chain_first_at < chain_deadline);
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    CHECK_EQ(gort_run_opts(&o, stranded_main, NULL), 0);
    CHECK_EQ(gort_run_opts(&o, stranded_main, &o), 0);
    for (procs = 1; procs <= 2; procs++) {
        o.maxprocs = procs;
        o.hog_ns = -1;
        CHECK_EQ(gort_run_opts(&o, pingpong_hog_main, NULL), 0);
    }
    for (procs = 1; procs <= 2; procs++) {
        CHECK(!child_reports_hog(fh_close_main, procs));
        CHECK(!child_reports_hog(fh_spawn_main, procs));
    }
    if (debug_handoff())
        check_note("the hog report's control: not under GORT_DEBUG=handoff (the spinner never holds a P long)");
    else
        CHECK(child_reports_hog(fh_spin_main, 1));   /* the control */
    return check_done();
}
