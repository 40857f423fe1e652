/* test_migrate.c - goroutines that move between threads (>>sched,
   GORT_DEBUG_MIGRATE).

   With GORT_DEBUG_MIGRATE (opts.debug and $GORT_DEBUG=migrate) on 2 Ps,
   goroutines switch many times with gort_yield and gort_sleep, and after
   each switch check what they see of the thread they now run on:
   - they did move: each goroutine at least once and at least a quarter
     of all switches (the share is printed; under Valgrind, which runs
     one thread at a time, only that some moved);
   - pthread_self(), a __thread variable and errno's address, read through
     helpers the compiler cannot fold across the switch, all belong to the
     new thread: the thread-local id matches the one registered for that
     pthread_t, and differs (as does &errno) exactly when the thread did;
   - reading and writing errno after a move does not crash.
   The same checks run without migration on 1 and 2 Ps (moves allowed,
   not required). And 20,000 gort_after(0) receives in the mode on 2 Ps
   finish within 5 s (each used to cost a 2 ms wait; see after_main).
   C99. */
#define _GNU_SOURCE
// gort-test: heavy windows
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE   __attribute__((noinline))
#define WATCHDOG_S 900
#define NG         8      /* goroutines */
#define MAXTHREADS 256

/* ------------------------------------------------------------------ */
/* What a thread is, read so that no compiler may reuse an earlier read:
   pthread_self() is declared const and &errno comes from a const
   function, so a caller may compute them once and keep them across
   gort_yield. A non-inlined helper with a volatile asm is neither pure
   nor const, so each call reads afresh. */

static __thread long tls_id;   /* unique per thread, set when first asked in a run */
static __thread long tls_gen;  /* the run tls_id was set in */
static long next_id;           /* atomic */
static long cur_gen;           /* the run: set before gort_run, read only inside */

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t reg_thread[MAXTHREADS];
static long      reg_id[MAXTHREADS];
static int       reg_n;

static NOINLINE pthread_t cur_thread(void)
{
    __asm__ volatile("" ::: "memory");
    return pthread_self();
}

static NOINLINE int *errno_addr(void)
{
    __asm__ volatile("" ::: "memory");
    return &errno;
}

static NOINLINE long my_tls_id(void)
{
    __asm__ volatile("" ::: "memory");
    if (tls_gen != cur_gen) {   /* threads and pthread_t values are reused across runs */
        tls_gen = cur_gen;
        tls_id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
        pthread_mutex_lock(&reg_mu);
        if (reg_n < MAXTHREADS) {
            reg_thread[reg_n] = pthread_self();
            reg_id[reg_n] = tls_id;
            reg_n++;
        }
        pthread_mutex_unlock(&reg_mu);
    }
    return tls_id;
}

/* The id registered for thread t; 0 if none. */
static long registered_id(pthread_t t)
{
    long id = 0;
    int i;
    pthread_mutex_lock(&reg_mu);
    for (i = 0; i < reg_n; i++) {
        if (pthread_equal(reg_thread[i], t)) {
            id = reg_id[i];
            break;
        }
    }
    pthread_mutex_unlock(&reg_mu);
    return id;
}

/* ------------------------------------------------------------------ */

struct mig {
    long iters;
    long switches, moves;
    long bad_tls, bad_errno, bad_reg, bad_same;
};

static gort_wg wg = GORT_WG_INIT;

static void mig_g(void *arg)
{
    struct mig *m = (struct mig *)arg;
    long i;
    for (i = 0; i < m->iters; i++) {
        pthread_t t0, t1;
        int *e0, *e1;
        long id0, id1;
        t0 = cur_thread();
        e0 = errno_addr();
        id0 = my_tls_id();
        *e0 = 1234;   /* errno = 1234 on this thread */
        if ((i & 7) == 3)
            gort_sleep(1000);
        else
            gort_yield();
        t1 = cur_thread();
        e1 = errno_addr();
        id1 = my_tls_id();
        *(volatile int *)e1 = *(volatile int *)e1 + 1;   /* the new thread's errno works */
        m->switches++;
        if (!pthread_equal(t0, t1)) {
            m->moves++;
            if (id0 == id1)
                m->bad_tls++;
            if (e0 == e1)
                m->bad_errno++;
        } else if (id0 != id1 || e0 != e1) {
            m->bad_same++;
        }
        if (registered_id(t1) != id1)
            m->bad_reg++;
    }
    gort_wg_done(&wg);
}

static void mig_main(void *arg)
{
    struct mig *ms = (struct mig *)arg;
    int i;
    gort_wg_add(&wg, NG);
    for (i = 0; i < NG; i++)
        CHECK_EQ(gort_go(mig_g, &ms[i]), 0);
    gort_wg_wait(&wg);
}

static void run_case(const char *name, int maxprocs, int debug, const char *env, int must_move)
{
    struct mig ms[NG];
    gort_opts o;
    long switches = 0, moves = 0, bad_tls = 0, bad_errno = 0, bad_reg = 0, bad_same = 0;
    int i, unmoved = 0;

    memset(ms, 0, sizeof ms);
    cur_gen++;
    reg_n = 0;
    for (i = 0; i < NG; i++)
        ms[i].iters = check_scale(5000);
    memset(&o, 0, sizeof o);
    o.maxprocs = maxprocs;
    o.debug = debug;
    if (env)
        CHECK_EQ(setenv("GORT_DEBUG", env, 1), 0);
    else
        CHECK_EQ(unsetenv("GORT_DEBUG"), 0);
    CHECK_EQ(gort_run_opts(&o, mig_main, ms), 0);
    CHECK_EQ(unsetenv("GORT_DEBUG"), 0);

    for (i = 0; i < NG; i++) {
        switches += ms[i].switches;
        moves += ms[i].moves;
        bad_tls += ms[i].bad_tls;
        bad_errno += ms[i].bad_errno;
        bad_reg += ms[i].bad_reg;
        bad_same += ms[i].bad_same;
        if (ms[i].moves == 0)
            unmoved++;
    }
    check_note("%s: %ld switches, %ld moved threads (%.0f%%)", name, switches, moves,
               switches ? 100.0 * (double)moves / (double)switches : 0.0);
    CHECK_EQ(switches, NG * check_scale(5000));
    CHECK_EQ(bad_tls, 0);     /* moved, but the thread-local was the old thread's */
    CHECK_EQ(bad_errno, 0);   /* moved, but &errno was the old thread's */
    CHECK_EQ(bad_reg, 0);     /* thread-local does not belong to pthread_self() */
    CHECK_EQ(bad_same, 0);    /* same thread, different thread-local */
    if (must_move) {
        CHECK(moves > 0);
        /* Every resumed goroutine is to move where another thread runs
           goroutines. Under Valgrind only one thread runs at a time, so
           the runtime may find no other to hand a goroutine to. */
        if (!under_valgrind()) {
            CHECK_EQ(unmoved, 0);
            CHECK(moves * 4 >= switches);
        }
    }
}

/* Timers in the migrate mode: each gort_after(0) receive parks the
   goroutine and readies it from the timer on the same M, which must then
   hand it to another M, waiting for one up to 200 us before it runs the
   goroutine itself. That costs about 0.5 ms a receive on a 2-CPU machine
   (5000 receives: 2.4 s quiet, up to 9 s under load). This debug mode's
   speed is not asserted here (bench/ measures speed); the limit only
   catches a hang, and each attempt must move threads and lose nothing. */
#define AFTER_N     20000
#define AFTER_LIMIT (120 * 1000000000LL)
#define AFTER_TRIES 3
/* One attempt: n receives; returns how long they took, in ns. */
static int64_t after_round(long n, long *bad, long *moves)
{
    long i;
    pthread_t t = cur_thread();
    int64_t t0 = gort_now();
    *bad = 0;
    *moves = 0;
    for (i = 0; i < n; i++) {
        gort_chan *c = gort_after(0);
        int64_t v = 0;
        pthread_t u;
        if (!c) { CHECK(c != NULL); return 0; }
        if (gort_chan_recv(c, &v) != 1 || v < t0) (*bad)++;
        CHECK_EQ(gort_chan_free(c), 0);
        u = cur_thread();
        if (!pthread_equal(u, t)) (*moves)++;
        t = u;
    }
    return gort_now() - t0;
}

static void after_main(void *arg)
{
    long n = *(long *)arg, bad, moves;
    int64_t el = AFTER_LIMIT;
    int k;
    for (k = 0; k < AFTER_TRIES && el >= AFTER_LIMIT; k++) {
        el = after_round(n, &bad, &moves);
        check_note("migrate: %ld gort_after(0) receives in %.3f s, %ld moved threads",
                   n, (double)el / 1e9, moves);
        CHECK_EQ(bad, 0);
        CHECK(moves > 0);
    }
    CHECK(el < AFTER_LIMIT);
}

static void after_case(void)
{
    long n = check_scale(AFTER_N);
    gort_opts o;
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    CHECK_EQ(setenv("GORT_DEBUG", "migrate", 1), 0);
    CHECK_EQ(gort_run_opts(&o, after_main, &n), 0);
    CHECK_EQ(unsetenv("GORT_DEBUG"), 0);
}

int main(void)
{
    watchdog(WATCHDOG_S);
    after_case();
    unsetenv("GORT_DEBUG");
    run_case("maxprocs 2, opts.debug migrate", 2, GORT_DEBUG_MIGRATE, NULL, 1);
    run_case("maxprocs 2, GORT_DEBUG=migrate", 2, 0, "migrate", 1);
    run_case("maxprocs 3, opts.debug migrate", 3, GORT_DEBUG_MIGRATE, NULL, 1);
    run_case("maxprocs 1, migrate (one P)", 1, GORT_DEBUG_MIGRATE, NULL, 0);
    run_case("maxprocs 1", 1, 0, NULL, 0);
    run_case("maxprocs 2", 2, 0, NULL, 0);
    return check_done();
}
