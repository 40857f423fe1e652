/* test_sched.c - the scheduler (>>sched, >>runq).

   - many goroutines run to completion on 1 and 2 Ps, also spawned as a
     tree, and gort_goroutines() falls back to 1; a spawning loop keeps at
     most a few hundred alive, and a skynet tree (10-ary, inner nodes
     wait on a channel) of 100k leaves at most 3000 of its 111k nodes;
   - two goroutines that never yield run at the same time on 2 Ps;
   - goroutines queued by a P whose goroutine then spins forever are
     stolen and run by the other P;
   - gort_yield lets the other goroutine run (two goroutines alternate on
     one P), and a goroutine yielding in a loop lets thousands of woken
     goroutines (spilled to the global queue) run;
   - gort_exit ends the goroutine from deep inside nested calls;
   - gort_maxprocs() reports opts.maxprocs, $GORT_MAXPROCS when it is 0,
     else the CPUs in the affinity mask, and 0 with no runtime;
   - gort_go from a plain thread and from the main thread in background
     mode (gort_start/gort_stop).
   A hang is a failure: every wait is bounded (generously: a slow machine
   only makes it slower, never fails it) and a watchdog ends the program.
   C99. */
#define _GNU_SOURCE
// gort-test: windows
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE   __attribute__((noinline))
#define WATCHDOG_S 900
#define SEC        1000000000LL
#define SPIN_NS    (30 * SEC)    /* bound on non-yielding spins */

static gort_wg wg = GORT_WG_INIT;

static void run(int maxprocs, void (*fn)(void *), void *arg)
{
    gort_opts o;
    memset(&o, 0, sizeof o);
    o.maxprocs = maxprocs;
    o.hog_ns = -1;   /* the spinning goroutines are meant to hog */
    CHECK_EQ(gort_run_opts(&o, fn, arg), 0);
}

/* ------------------------------------------------------------------ */
/* Many goroutines run to completion                                   */

static long counter;

static void count_one(void *arg)
{
    (void)arg;
    INC(&counter);
}

static void many_main(void *arg)
{
    long n = check_scale(20000), i, bad = 0, live = 0;
    (void)arg;
    STORE(&counter, 0);
    CHECK_EQ(gort_goroutines(), 1);
    for (i = 0; i < n; i++) {
        long l;
        if (gort_go(count_one, NULL) != 0)
            bad++;
        l = gort_goroutines();
        if (l > live)
            live = l;
    }
    CHECK_EQ(bad, 0);
    /* A spawning loop yields now and then (gort_go is a scheduling
       point): the children that ended left their stacks to the next, and
       at most a few hundred were alive at once, not all n. */
    check_note("spawn loop of %ld at maxprocs %d: at most %ld goroutines alive", n, gort_maxprocs(), live);
    CHECK(live <= 1024);
    CHECK(yield_until(&counter, n));
    CHECK_EQ(LOAD(&counter), n);
    CHECK(yield_until_alone());
    CHECK_EQ(gort_goroutines(), 1);
}

/* A binary tree of goroutines: each spawns two children until depth 0. */
static void tree_node(void *arg)
{
    long depth = (long)(intptr_t)arg;
    INC(&counter);
    if (depth > 0) {
        CHECK_EQ(gort_go(tree_node, (void *)(intptr_t)(depth - 1)), 0);
        CHECK_EQ(gort_go(tree_node, (void *)(intptr_t)(depth - 1)), 0);
    }
}

static void tree_main(void *arg)
{
    long depth = 1, nodes;
    (void)arg;
    while ((2L << (depth + 1)) - 1 <= check_scale(16383))
        depth++;
    nodes = (2L << depth) - 1;
    STORE(&counter, 0);
    CHECK_EQ(gort_go(tree_node, (void *)(intptr_t)depth), 0);
    CHECK(yield_until(&counter, nodes));
    CHECK(yield_until_alone());
}

/* The skynet shape (a 10-ary tree whose inner nodes wait for their
   children's sums on a channel): gort runs fresh goroutines newest first
   (>>runq), so the tree goes depth first and only a few hundred of its
   nodes are alive at once; run in spawn order (breadth first, as Go
   does) a tenth of the tree is alive, a fresh stack each. */
struct sky {
    gort_chan *out;
    long num, size;
};
static void sky_node(void *p);
static long sky_live, sky_max;   /* atomic: spawned and not yet ended */

static int sky_go(struct sky *a)
{
    long l = ADD(&sky_live, 1);
    while (l > LOAD(&sky_max))
        STORE(&sky_max, l);   /* (a lost update only lowers the peak seen) */
    return gort_go(sky_node, a);
}

static void sky_node(void *p)
{
    struct sky *a = (struct sky *)p, kids[10];
    long sum = 0, v;
    int i;
    if (a->size == 1) {
        sum = a->num;
    } else {
        gort_chan *rc = gort_chan_make(sizeof(long), 0);
        CHECK(rc != NULL);
        for (i = 0; i < 10; i++) {
            kids[i].out = rc;
            kids[i].num = a->num + i * (a->size / 10);
            kids[i].size = a->size / 10;
            CHECK_EQ(sky_go(&kids[i]), 0);
        }
        for (i = 0; i < 10; i++) {
            CHECK_EQ(gort_chan_recv(rc, &v), 1);
            sum += v;
        }
        CHECK_EQ(gort_chan_free(rc), 0);
    }
    CHECK_EQ(gort_chan_send(a->out, &sum), 0);
    ADD(&sky_live, -1);
}

static void skytree_main(void *arg)
{
    struct sky root;
    long size = 10, nodes = 1, sum = 0, lvl;
    (void)arg;
    while (size * 10 <= check_scale(100000))
        size *= 10;
    for (lvl = size; lvl > 1; lvl /= 10)
        nodes += lvl;   /* + the inner nodes above: 1 + 10 + ... */
    STORE(&sky_live, 0);
    STORE(&sky_max, 0);
    root.out = gort_chan_make(sizeof(long), 0);
    root.num = 0;
    root.size = size;
    CHECK_EQ(sky_go(&root), 0);
    CHECK_EQ(gort_chan_recv(root.out, &sum), 1);
    CHECK_EQ(sum, size * (size - 1) / 2);
    CHECK_EQ(gort_chan_free(root.out), 0);
    check_note("skynet tree of %ld leaves at maxprocs %d: at most %ld of %ld goroutines alive", size, gort_maxprocs(),
               LOAD(&sky_max), nodes);
    /* Measured at 100k leaves: 51 alive at 1 P, 100-300 at 2 P; in spawn
       order, 9,000-11,500 (8-10%). A smaller tree (where the configuration's scale is below
       1) is mostly its top levels, alive either way: only reported there. */
    if (size >= 100000)
        CHECK(LOAD(&sky_max) <= 3000);
}

/* ------------------------------------------------------------------ */
/* Two goroutines that never yield run in parallel on 2 Ps             */

static long par_flag[2], par_saw[2];

static void par_spin(void *arg)
{
    int me = (int)(intptr_t)arg;
    int64_t end;
    STORE(&par_flag[me], 1);
    end = gort_now() + SPIN_NS;
    /* no scheduling point in this loop: only another P can run the other */
    while (!LOAD(&par_flag[1 - me]) && gort_now() < end)
        ;
    STORE(&par_saw[me], LOAD(&par_flag[1 - me]));
    gort_wg_done(&wg);
}

static void par_main(void *arg)
{
    (void)arg;
    memset(par_flag, 0, sizeof par_flag);
    memset(par_saw, 0, sizeof par_saw);
    gort_wg_add(&wg, 2);
    CHECK_EQ(gort_go(par_spin, (void *)0), 0);
    CHECK_EQ(gort_go(par_spin, (void *)1), 0);
    gort_wg_wait(&wg);   /* parks main: its P is free for a spinner */
    CHECK_EQ(LOAD(&par_saw[0]), 1);
    CHECK_EQ(LOAD(&par_saw[1]), 1);
}

/* ------------------------------------------------------------------ */
/* Work queued behind a spinning goroutine is stolen                   */

#define STEAL_N 100
static long steal_ran, steal_seen;

static void steal_child(void *arg)
{
    (void)arg;
    INC(&steal_ran);
}

static void steal_spawner(void *arg)
{
    int i;
    int64_t end;
    (void)arg;
    for (i = 0; i < STEAL_N; i++)
        CHECK_EQ(gort_go(steal_child, NULL), 0);
    end = gort_now() + SPIN_NS;
    /* never yields: the children sit in this P's queue until stolen */
    while (LOAD(&steal_ran) != STEAL_N && gort_now() < end)
        ;
    STORE(&steal_seen, LOAD(&steal_ran));
    gort_wg_done(&wg);
}

static void steal_main(void *arg)
{
    (void)arg;
    STORE(&steal_ran, 0);
    STORE(&steal_seen, 0);
    gort_wg_add(&wg, 1);
    CHECK_EQ(gort_go(steal_spawner, NULL), 0);
    gort_wg_wait(&wg);
    CHECK_EQ(LOAD(&steal_seen), STEAL_N);
    CHECK(yield_until_alone());
}

/* ------------------------------------------------------------------ */
/* gort_yield lets the other goroutine run                             */

static long fair_progress[2], fair_stalls[2], fair_iters;

static void fair_main_g(void *arg)
{
    int me = (int)(intptr_t)arg, other = 1 - me;
    long i, before, after;
    for (i = 0; i < fair_iters; i++) {
        before = LOAD(&fair_progress[other]);
        STORE(&fair_progress[me], i + 1);
        gort_yield();
        after = LOAD(&fair_progress[other]);
        /* on one P the other goroutine, unless finished, ran meanwhile */
        if (after == before && after < fair_iters)
            fair_stalls[me]++;
    }
    gort_wg_done(&wg);
}

static void fair_main(void *arg)
{
    (void)arg;
    fair_iters = check_scale(20000);
    memset(fair_progress, 0, sizeof fair_progress);
    memset(fair_stalls, 0, sizeof fair_stalls);
    gort_wg_add(&wg, 2);
    CHECK_EQ(gort_go(fair_main_g, (void *)0), 0);
    CHECK_EQ(gort_go(fair_main_g, (void *)1), 0);
    gort_wg_wait(&wg);
    check_note("yield fairness: %ld and %ld of %ld yields did not let the other run",
               fair_stalls[0], fair_stalls[1], fair_iters);
    /* A scheduler may now and then pick the yielder again (Go takes the
       global queue first every 61st tick); a yield that does nothing
       stalls every time. */
    CHECK(fair_stalls[0] <= fair_iters / 10 + 2);
    CHECK(fair_stalls[1] <= fair_iters / 10 + 2);
}

/* A goroutine yielding in a loop lets every runnable goroutine run, also
   those that overflowed into the global queue: one close wakes N
   goroutines (more than a P's local queue holds) and the waker yields
   until all of them ran. Each yield must let others run; a yield that
   comes straight back while the global queue waits (serving it only on
   the scheduler's every-61st-tick fairness check) needs ~60 per goroutine.
   Go puts a yielding goroutine behind the global queue. */

static gort_chan *yg_gate;
static long       yg_done;

static void yg_waiter(void *arg)
{
    long v;
    (void)arg;
    gort_chan_recv(yg_gate, &v);
    INC(&yg_done);
}

static void yield_global_main(void *arg)
{
    long n = check_scale(20000), i, yields = 0;
    int64_t end;
    (void)arg;
    if (n < 1000)
        n = 1000;   /* well past a local queue (256) */
    STORE(&yg_done, 0);
    yg_gate = gort_chan_make(sizeof(long), 0);
    CHECK(yg_gate != NULL);
    for (i = 0; i < n; i++)
        CHECK_EQ(gort_go(yg_waiter, NULL), 0);
    end = gort_now() + WAIT_NS;
    while (gort_goroutines() != n + 1 && gort_now() < end)
        gort_yield();
    for (i = 0; i < 10; i++)
        gort_yield();   /* every waiter is parked */
    CHECK_EQ(gort_chan_close(yg_gate), 0);
    end = gort_now() + WAIT_NS;
    while (LOAD(&yg_done) != n && gort_now() < end) {
        gort_yield();
        yields++;
    }
    CHECK_EQ(LOAD(&yg_done), n);
    check_note("yield with %ld goroutines woken at once: %ld yields until all ran", n, yields);
    CHECK(yields <= n);
    CHECK(yield_until_alone());
    CHECK_EQ(gort_chan_free(yg_gate), 0);
}

/* ------------------------------------------------------------------ */
/* gort_exit                                                           */

static long exit_before, exit_after, exit_unwound, exit_started;

static NOINLINE void exit_deep(int depth)
{
    if (depth == 0) {
        INC(&exit_before);
        gort_wg_done(&wg);
        gort_exit();
        INC(&exit_after);   /* never runs */
        return;
    }
    exit_deep(depth - 1);
    INC(&exit_unwound);     /* never runs */
}

static void exit_g(void *arg)
{
    INC(&exit_started);
    exit_deep((int)(intptr_t)arg);
    INC(&exit_unwound);     /* never runs */
}

static void exit_main(void *arg)
{
    long n = 50, i;
    (void)arg;
    STORE(&exit_before, 0);
    STORE(&exit_after, 0);
    STORE(&exit_unwound, 0);
    STORE(&exit_started, 0);
    gort_wg_add(&wg, (int)n);
    for (i = 0; i < n; i++)
        CHECK_EQ(gort_go(exit_g, (void *)(intptr_t)(i % 10)), 0);
    gort_wg_wait(&wg);
    CHECK(yield_until_alone());
    CHECK_EQ(LOAD(&exit_started), n);
    CHECK_EQ(LOAD(&exit_before), n);
    CHECK_EQ(LOAD(&exit_after), 0);
    CHECK_EQ(LOAD(&exit_unwound), 0);
    /* the runtime still works after goroutines exited this way */
    STORE(&counter, 0);
    for (i = 0; i < n; i++)
        CHECK_EQ(gort_go(count_one, NULL), 0);
    CHECK(yield_until(&counter, n));
    CHECK(yield_until_alone());
}

/* ------------------------------------------------------------------ */
/* gort_maxprocs                                                       */

static long seen_maxprocs;

static void maxprocs_main(void *arg)
{
    (void)arg;
    STORE(&seen_maxprocs, gort_maxprocs());
}

static long run_maxprocs(int maxprocs, int use_plain_run)
{
    STORE(&seen_maxprocs, -1);
    if (use_plain_run)
        CHECK_EQ(gort_run(maxprocs_main, NULL), 0);
    else
        run(maxprocs, maxprocs_main, NULL);
    return LOAD(&seen_maxprocs);
}

/* CPUs in this process's affinity mask, or 0 if unknown */
static int affinity_cpus(void)
{
#if defined(_WIN32)
    DWORD_PTR pm = 0, sm = 0;
    if (!GetProcessAffinityMask(GetCurrentProcess(), &pm, &sm))
        return 0;
    return __builtin_popcountll((unsigned long long)pm);
#else
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 0;
    return CPU_COUNT(&set);
#endif
}

static void test_maxprocs(void)
{
    int cpus;
    static const int values[] = { 1, 2, 3, 7 };
    size_t i;

    CHECK_EQ(gort_maxprocs(), 0);   /* no runtime */
    for (i = 0; i < sizeof values / sizeof values[0]; i++)
        CHECK_EQ(run_maxprocs(values[i], 0), values[i]);

    CHECK_EQ(setenv("GORT_MAXPROCS", "3", 1), 0);
    CHECK_EQ(run_maxprocs(0, 0), 3);   /* opts 0: the environment */
    CHECK_EQ(run_maxprocs(0, 1), 3);   /* gort_run: the environment */
    CHECK_EQ(run_maxprocs(2, 0), 2);   /* opts win over the environment */
    CHECK_EQ(setenv("GORT_MAXPROCS", "5", 1), 0);
    CHECK_EQ(run_maxprocs(0, 0), 5);   /* read again at each start */
    CHECK_EQ(unsetenv("GORT_MAXPROCS"), 0);

    cpus = affinity_cpus();
    if (cpus > 0)
        CHECK_EQ(run_maxprocs(0, 0), cpus);
    CHECK_EQ(gort_maxprocs(), 0);
}

/* ------------------------------------------------------------------ */
/* Background mode: gort_go from plain threads                         */

static gort_wg bg_wg = GORT_WG_INIT;
static long bg_count, bg_in_goroutine;

static void bg_work(void *arg)
{
    (void)arg;
    if (gort_in_goroutine())
        INC(&bg_in_goroutine);
    INC(&bg_count);
    gort_wg_done(&bg_wg);
}

static void *bg_thread(void *arg)
{
    long n = (long)(intptr_t)arg, i, bad = 0;
    gort_wg_add(&bg_wg, (int)n);
    for (i = 0; i < n; i++) {
        if (gort_go(bg_work, NULL) != 0) {
            bad++;
            gort_wg_done(&bg_wg);
        }
    }
    CHECK_EQ(bad, 0);
    gort_wg_wait(&bg_wg);   /* blocks this plain thread */
    return NULL;
}

static void test_background(int maxprocs)
{
    gort_opts o;
    pthread_t t[2];
    long n = check_scale(5000);
    int i;
    memset(&o, 0, sizeof o);
    o.maxprocs = maxprocs;
    STORE(&bg_count, 0);
    STORE(&bg_in_goroutine, 0);
    CHECK_EQ(gort_start(&o), 0);
    CHECK_EQ(gort_maxprocs(), maxprocs);
    for (i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, bg_thread, (void *)(intptr_t)n), 0);
    /* and from the main thread */
    bg_thread((void *)(intptr_t)n);
    for (i = 0; i < 2; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    CHECK_EQ(LOAD(&bg_count), 3 * n);
    CHECK_EQ(LOAD(&bg_in_goroutine), 3 * n);
    CHECK_EQ(gort_stop(), 0);
    CHECK_EQ(gort_go(bg_work, NULL), -ESRCH);
}

int main(void)
{
    int mp;
    watchdog(WATCHDOG_S);
    unsetenv("GORT_MAXPROCS");

    for (mp = 1; mp <= 2; mp++) {
        run(mp, many_main, NULL);
        run(mp, tree_main, NULL);
        run(mp, skytree_main, NULL);
        run(mp, exit_main, NULL);
    }
    run(2, par_main, NULL);
    run(2, steal_main, NULL);
    run(1, fair_main, NULL);
    run(1, yield_global_main, NULL);
    test_maxprocs();
    /* again and again: three plain threads' first gort_go race for the
       first M (one of them lost all of its spawns to -EAGAIN under qemu
       while another's start of that M was descheduled) */
    for (mp = 0; mp < 10; mp++) {
        test_background(1);
        test_background(2);
    }
    return check_done();
}
