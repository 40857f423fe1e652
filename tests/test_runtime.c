/* test_runtime.c - the runtime's life cycle (>>runtime).

   - with no runtime: gort_running() 0, gort_in_goroutine() 0,
     gort_maxprocs() 0, gort_go -ESRCH;
   - gort_run returns 0 when main returns, with the runtime visible inside
     (gort_running, gort_in_goroutine, gort_maxprocs, gort_goroutines);
   - gort_go(NULL) is -EINVAL; gort_run(NULL) is -EINVAL; a second runtime
     cannot be started while one runs;
   - gort_run five times in a row in one process, with goroutines and
     channels each time;
   - gort_run returns 0 when main returns while other goroutines are
     blocked (channel nobody sends to, an hour's sleep, a mutex main holds,
     a WaitGroup) or still runnable (yield loops); they are dropped and a
     new runtime starts clean;
   - background mode: gort_start, gort_go from the main thread, channels
     between goroutines and a plain thread, gort_stop; then again;
   - NULL options (gort_start, gort_run_opts) mean the defaults;
   - gort_strerror.
   C99. */
// gort-test: windows
#define _GNU_SOURCE
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

#define WATCHDOG_S 900
#define SEC        1000000000LL

static void nop(void *arg) { (void)arg; }

/* ------------------------------------------------------------------ */
/* The runtime as seen from inside                                     */

static long main_ran, child_in_goroutine, child_running;

static void child(void *arg)
{
    gort_wg *wg = (gort_wg *)arg;
    STORE(&child_in_goroutine, gort_in_goroutine());
    STORE(&child_running, gort_running());
    gort_wg_done(wg);
}

static void inside_main(void *arg)
{
    gort_wg wg = GORT_WG_INIT;
    INC(&main_ran);
    CHECK_EQ(gort_running(), 1);
    CHECK_EQ(gort_in_goroutine(), 1);
    CHECK_EQ(gort_maxprocs(), (int)(intptr_t)arg);
    CHECK_EQ(gort_goroutines(), 1);
    CHECK_EQ(gort_go(NULL, NULL), -EINVAL);
    CHECK_EQ(gort_go(NULL, &wg), -EINVAL);
    CHECK_EQ(gort_goroutines(), 1);   /* nothing was started */
    gort_wg_add(&wg, 1);
    CHECK_EQ(gort_go(child, &wg), 0);
    gort_wg_wait(&wg);
    CHECK_EQ(LOAD(&child_in_goroutine), 1);
    CHECK_EQ(LOAD(&child_running), 1);
    CHECK(yield_until_alone());
}

static long nested_ran;
static void nested_fn(void *arg) { (void)arg; INC(&nested_ran); }

static void nested_main(void *arg)
{
    gort_opts o;
    (void)arg;
    memset(&o, 0, sizeof o);
    o.maxprocs = 1;
    /* a runtime already runs: starting another fails and runs nothing */
    CHECK(gort_run(nested_fn, NULL) < 0);
    CHECK(gort_run_opts(&o, nested_fn, NULL) < 0);
    CHECK(gort_start(&o) < 0);
    CHECK_EQ(LOAD(&nested_ran), 0);
    CHECK_EQ(gort_running(), 1);
    CHECK_EQ(gort_maxprocs(), 2);
}

static void test_inside(void)
{
    gort_opts o;
    int mp;
    for (mp = 1; mp <= 3; mp++) {
        memset(&o, 0, sizeof o);
        o.maxprocs = mp;
        STORE(&main_ran, 0);
        CHECK_EQ(gort_run_opts(&o, inside_main, (void *)(intptr_t)mp), 0);
        CHECK_EQ(LOAD(&main_ran), 1);
        CHECK_EQ(gort_running(), 0);
        CHECK_EQ(gort_in_goroutine(), 0);
        CHECK_EQ(gort_maxprocs(), 0);
    }
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    CHECK_EQ(gort_run_opts(&o, nested_main, NULL), 0);
    CHECK_EQ(gort_run(NULL, NULL), -EINVAL);
    CHECK_EQ(gort_run_opts(&o, NULL, NULL), -EINVAL);
    CHECK_EQ(gort_running(), 0);
}

/* ------------------------------------------------------------------ */
/* Run five times in a row                                             */

struct pingpong {
    gort_chan *in, *out;
    gort_wg    done;   /* the echoes are done with the channels */
};

static void echo(void *arg)
{
    struct pingpong *pp = (struct pingpong *)arg;
    long v;
    while (gort_chan_recv(pp->in, &v) == 1)
        CHECK_EQ(gort_chan_send(pp->out, &(long){ v * 2 }), 0);
    gort_wg_done(&pp->done);
}

static void restart_main(void *arg)
{
    long round = (long)(intptr_t)arg, i, v, sum = 0, n = check_scale(2000);
    int k;
    struct pingpong pp;
    memset(&pp, 0, sizeof pp);
    pp.in = gort_chan_make(sizeof(long), 0);
    pp.out = gort_chan_make(sizeof(long), 4);
    CHECK(pp.in != NULL && pp.out != NULL);
    if (!pp.in || !pp.out)
        return;
    gort_wg_add(&pp.done, 8);
    for (k = 0; k < 8; k++)
        CHECK_EQ(gort_go(echo, &pp), 0);
    for (i = 1; i <= n; i++) {
        CHECK_EQ(gort_chan_send(pp.in, &i), 0);
        CHECK_EQ(gort_chan_recv(pp.out, &v), 1);
        sum += v;
    }
    CHECK_EQ(sum, n * (n + 1));
    CHECK_EQ(gort_chan_close(pp.in), 0);
    /* Free only after the echoes said they are done: that orders their
       last use of the channels before the free (gort_goroutines() alone
       does not). */
    gort_wg_wait(&pp.done);
    CHECK(yield_until_alone());
    CHECK_EQ(gort_chan_free(pp.in), 0);
    CHECK_EQ(gort_chan_free(pp.out), 0);
    INC(&main_ran);
    (void)round;
}

static void test_restart(void)
{
    gort_opts o;
    long r;
    STORE(&main_ran, 0);
    for (r = 0; r < 5; r++) {
        memset(&o, 0, sizeof o);
        o.maxprocs = 1 + (int)(r % 2);
        CHECK_EQ(gort_run_opts(&o, restart_main, (void *)(intptr_t)r), 0);
        CHECK_EQ(gort_running(), 0);
        CHECK_EQ(gort_go(nop, NULL), -ESRCH);
    }
    CHECK_EQ(LOAD(&main_ran), 5);
    /* and plain gort_run (default options) */
    CHECK_EQ(gort_run(restart_main, NULL), 0);
    CHECK_EQ(LOAD(&main_ran), 6);
}

/* ------------------------------------------------------------------ */
/* main returns while others are blocked or runnable                   */

static gort_chan *orphan_chan;       /* nobody sends on it */
static gort_chan *orphan_chans[2];   /* kept reachable: dropped waiters hold them */
static gort_mutex orphan_mu = GORT_MUTEX_INIT;
static gort_wg    orphan_wg = GORT_WG_INIT;
static long       orphan_started, orphan_finished;

static void orphan_recv(void *arg)
{
    long v;
    (void)arg;
    INC(&orphan_started);
    gort_chan_recv(orphan_chan, &v);
    INC(&orphan_finished);
}

static void orphan_nilchan(void *arg)
{
    long v;
    (void)arg;
    INC(&orphan_started);
    gort_chan_recv(NULL, &v);   /* blocks forever */
    INC(&orphan_finished);
}

static void orphan_sleep(void *arg)
{
    (void)arg;
    INC(&orphan_started);
    gort_sleep(3600 * SEC);
    INC(&orphan_finished);
}

static void orphan_mutex(void *arg)
{
    (void)arg;
    INC(&orphan_started);
    gort_mutex_lock(&orphan_mu);   /* main holds it and never unlocks */
    INC(&orphan_finished);
}

static void orphan_wg_wait(void *arg)
{
    (void)arg;
    INC(&orphan_started);
    gort_wg_wait(&orphan_wg);
    INC(&orphan_finished);
}

static void orphan_spin(void *arg)
{
    (void)arg;
    INC(&orphan_started);
    for (;;)
        gort_yield();
}

static void orphan_main(void *arg)
{
    int per = (int)(intptr_t)arg, i;
    int64_t end;
    orphan_chan = gort_chan_make(sizeof(long), 0);
    CHECK(orphan_chan != NULL);
    gort_mutex_lock(&orphan_mu);
    gort_wg_add(&orphan_wg, 1);
    for (i = 0; i < per; i++) {
        CHECK_EQ(gort_go(orphan_recv, NULL), 0);
        CHECK_EQ(gort_go(orphan_nilchan, NULL), 0);
        CHECK_EQ(gort_go(orphan_sleep, NULL), 0);
        CHECK_EQ(gort_go(orphan_mutex, NULL), 0);
        CHECK_EQ(gort_go(orphan_wg_wait, NULL), 0);
        CHECK_EQ(gort_go(orphan_spin, NULL), 0);
    }
    end = gort_now() + WAIT_NS;
    while (LOAD(&orphan_started) != 6L * per && gort_now() < end)
        gort_yield();
    CHECK_EQ(LOAD(&orphan_started), 6L * per);
    CHECK_EQ(gort_goroutines(), 1 + 6L * per);
    /* return with all of them blocked or spinning */
}

static void fresh_main(void *arg)
{
    (void)arg;
    CHECK_EQ(gort_goroutines(), 1);   /* nothing left over from before */
    INC(&main_ran);
}

static void test_orphans(void)
{
    gort_opts o;
    int mp;
    for (mp = 1; mp <= 2; mp++) {
        memset(&o, 0, sizeof o);
        o.maxprocs = mp;
        STORE(&orphan_started, 0);
        STORE(&orphan_finished, 0);
        memset(&orphan_mu, 0, sizeof orphan_mu);
        memset(&orphan_wg, 0, sizeof orphan_wg);
        CHECK_EQ(gort_run_opts(&o, orphan_main, (void *)(intptr_t)10), 0);
        orphan_chans[mp - 1] = orphan_chan;
        CHECK_EQ(LOAD(&orphan_finished), 0);
        CHECK_EQ(gort_running(), 0);
        /* orphan_chan still has (dropped) waiters: it is left alone */
        STORE(&main_ran, 0);
        CHECK_EQ(gort_run_opts(&o, fresh_main, NULL), 0);
        CHECK_EQ(LOAD(&main_ran), 1);
        CHECK_EQ(gort_run_opts(&o, restart_main, NULL), 0);
    }
}

/* ------------------------------------------------------------------ */
/* Background mode                                                     */

struct bg {
    gort_chan *to_thread;   /* goroutines -> plain thread */
    gort_chan *to_gor;      /* plain thread -> goroutine */
    gort_chan *done;        /* the goroutine's total */
    long       n;
    gort_wg    left;        /* the goroutines are done with the channels */
};

static long bg_flags;   /* bit 0: producer in goroutine; bit 1: consumer in goroutine */

static void bg_producer(void *arg)
{
    struct bg *b = (struct bg *)arg;
    long i;
    if (gort_in_goroutine())
        __atomic_fetch_or(&bg_flags, 1, __ATOMIC_RELAXED);
    for (i = 1; i <= b->n; i++)
        CHECK_EQ(gort_chan_send(b->to_thread, &i), 0);
    CHECK_EQ(gort_chan_close(b->to_thread), 0);
    gort_wg_done(&b->left);
}

static void bg_consumer(void *arg)
{
    struct bg *b = (struct bg *)arg;
    long v, sum = 0;
    if (gort_in_goroutine())
        __atomic_fetch_or(&bg_flags, 2, __ATOMIC_RELAXED);
    while (gort_chan_recv(b->to_gor, &v) == 1)
        sum += v;
    CHECK_EQ(gort_chan_send(b->done, &sum), 0);
    gort_wg_done(&b->left);
}

static void *bg_thread(void *arg)
{
    struct bg *b = (struct bg *)arg;
    long v, sum = 0, i;
    CHECK_EQ(gort_in_goroutine(), 0);
    CHECK_EQ(gort_running(), 1);
    while (gort_chan_recv(b->to_thread, &v) == 1)   /* blocks this thread */
        sum += v;
    CHECK_EQ(sum, b->n * (b->n + 1) / 2);
    for (i = 1; i <= b->n; i++)
        CHECK_EQ(gort_chan_send(b->to_gor, &i), 0);
    CHECK_EQ(gort_chan_close(b->to_gor), 0);
    return NULL;
}

static void test_background_once(int maxprocs)
{
    gort_opts o;
    struct bg b;
    pthread_t t;
    long total = 0;
    memset(&o, 0, sizeof o);
    o.maxprocs = maxprocs;
    CHECK_EQ(gort_running(), 0);
    CHECK_EQ(gort_start(&o), 0);
    CHECK_EQ(gort_running(), 1);
    CHECK_EQ(gort_in_goroutine(), 0);
    CHECK_EQ(gort_maxprocs(), maxprocs);
    CHECK(gort_start(&o) < 0);              /* already running */
    CHECK(gort_run(nested_fn, NULL) < 0);   /* likewise */
    CHECK_EQ(LOAD(&nested_ran), 0);
    CHECK_EQ(gort_running(), 1);

    memset(&b, 0, sizeof b);
    b.n = check_scale(3000);
    b.to_thread = gort_chan_make(sizeof(long), 0);
    b.to_gor = gort_chan_make(sizeof(long), 16);
    b.done = gort_chan_make(sizeof(long), 0);
    CHECK(b.to_thread && b.to_gor && b.done);
    STORE(&bg_flags, 0);
    gort_wg_add(&b.left, 2);
    CHECK_EQ(pthread_create(&t, NULL, bg_thread, &b), 0);
    CHECK_EQ(gort_go(bg_producer, &b), 0);   /* from the main thread */
    CHECK_EQ(gort_go(bg_consumer, &b), 0);
    CHECK_EQ(gort_chan_recv(b.done, &total), 1);   /* main thread blocks */
    CHECK_EQ(total, b.n * (b.n + 1) / 2);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(LOAD(&bg_flags), 3);
    gort_wg_wait(&b.left);   /* the main thread waits on a WaitGroup too */
    CHECK_EQ(gort_chan_free(b.to_thread), 0);
    CHECK_EQ(gort_chan_free(b.to_gor), 0);
    CHECK_EQ(gort_chan_free(b.done), 0);

    CHECK_EQ(gort_stop(), 0);
    CHECK_EQ(gort_running(), 0);
    CHECK_EQ(gort_maxprocs(), 0);
    CHECK_EQ(gort_go(nop, NULL), -ESRCH);
}

static void test_background(void)
{
    test_background_once(1);
    test_background_once(2);
    test_background_once(2);
    /* NULL options mean the defaults */
    CHECK_EQ(gort_start(NULL), 0);
    CHECK_EQ(gort_running(), 1);
    CHECK(gort_maxprocs() >= 1);
    CHECK_EQ(gort_stop(), 0);
    STORE(&main_ran, 0);
    CHECK_EQ(gort_run_opts(NULL, fresh_main, NULL), 0);
    CHECK_EQ(LOAD(&main_ran), 1);
    /* gort_run still works after background mode */
    STORE(&main_ran, 0);
    CHECK_EQ(gort_run(restart_main, NULL), 0);
    CHECK_EQ(LOAD(&main_ran), 1);
}

/* ------------------------------------------------------------------ */

static void test_strerror(void)
{
    static const int errs[] = { -EPIPE, -EINVAL, -ENOMEM, -EAGAIN, -ESRCH, -EDEADLK,
                                -ETIMEDOUT, -EBUSY, -EBADF, 0, -99999, 12345 };
    size_t i;
    for (i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        const char *s = gort_strerror(errs[i]);
        CHECK(s != NULL);
        if (s)
            CHECK(s[0] != '\0');
    }
}

int main(void)
{
    watchdog(WATCHDOG_S);
    unsetenv("GORT_MAXPROCS");

    CHECK_EQ(gort_running(), 0);
    CHECK_EQ(gort_in_goroutine(), 0);
    CHECK_EQ(gort_maxprocs(), 0);
    CHECK_EQ(gort_go(nop, NULL), -ESRCH);

    test_strerror();
    test_inside();
    test_restart();
    test_orphans();
    test_background();

    CHECK_EQ(gort_running(), 0);
    CHECK_EQ(gort_go(nop, NULL), -ESRCH);
    return check_done();
}
