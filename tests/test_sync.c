/* test_sync.c - WaitGroup, Mutex, RWMutex, Cond, Once.

   Checks, at maxprocs 2 and 4, with goroutines and plain threads mixed:
     - WaitGroup: 100,000 goroutines (scaled) each done once; plain data
       written before done is visible after wait (TSan); 100 waiters all
       released by the last done; add with a negative delta releases;
       wait at zero returns; reuse over many rounds;
     - Mutex: a plain counter incremented under the lock by 8 goroutines
       and 2 plain threads comes out exact; trylock returns 1 / 0 exactly;
       a lock held across gort_sleep parks the others; a waiter is not
       starved by a goroutine that relocks in a tight loop (the 1 ms
       handoff rule);
     - Once: fn runs exactly once among 100 goroutines and 2 threads, and
       every caller returns only after fn finished (it sees fn's plain
       writes; fn sleeps to widen the window);
     - RWMutex: readers hold it together (all 8 inside at once), a writer
       is alone (no reader or other writer inside; plain data checked by
       TSan), and a writer is not starved by overlapping readers;
     - Cond: broadcast wakes all waiters, signal-only bounded queue moves
       every item exactly once, a plain thread waits and is signalled;
     - every object is a static with its *_INIT initialiser. */
// gort-test: windows
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000LL

/* Plain threads. A thread counts as a possible waker for the deadlock
   detector only once it has called into gort (API.md), so the trampoline
   makes a gort call first and th_start waits for it before the starter
   goes on (and perhaps blocks waiting for the thread). */
static gort_chan *reg_chan;   /* never carries data */

struct th {
    pthread_t t;
    void    *(*fn)(void *);
    void     *arg;
    int       started;        /* atomic */
};

static void *th_tramp(void *p)
{
    struct th *t = (struct th *)p;
    int v;
    CHECK_EQ(gort_chan_try_recv(reg_chan, &v), -EAGAIN);
    STORE(&t->started, 1);
    return t->fn(t->arg);
}

static void th_start(struct th *t, void *(*fn)(void *), void *arg)
{
    t->fn = fn;
    t->arg = arg;
    t->started = 0;
    CHECK_EQ(pthread_create(&t->t, NULL, th_tramp, t), 0);
    CHECK(wait_for(&t->started, 1));
}

/* pthread_join blocks the OS thread: tell the runtime */
static void th_join(struct th *t)
{
    gort_block_begin();
    pthread_join(t->t, NULL);
    gort_block_end();
}

/* ------------------------------------------------------------ WaitGroup */

static gort_wg big_wg = GORT_WG_INIT;
static long    big_count;       /* atomic */
static int    *big_results;     /* plain: one writer each, read after wait */

static void big_fn(void *p)
{
    long i = (long)(intptr_t)p;
    big_results[i] = (int)(i * 3 + 1);
    ADD(&big_count, 1);
    gort_wg_done(&big_wg);
}

static gort_wg gate_wg = GORT_WG_INIT;
static gort_wg waiters_wg = GORT_WG_INIT;
static int     released;        /* atomic */
static int     gate_open;       /* atomic: set just before the last done */

static void waiter_fn(void *p)
{
    (void)p;
    gort_wg_wait(&gate_wg);
    if (!LOAD(&gate_open))
        CHECK(!"wg_wait returned before the count reached zero");
    ADD(&released, 1);
    gort_wg_done(&waiters_wg);
}

static gort_wg pair_wg = GORT_WG_INIT;
static void pair_fn(void *p)
{
    (void)p;
    gort_wg_done(&pair_wg);
}

static void test_waitgroup(void)
{
    long n = check_scale(100000), i;
    gort_wg zero = GORT_WG_INIT;
    int r;

    /* wait at zero */
    gort_wg_wait(&zero);

    /* many goroutines, one add each */
    big_count = 0;
    big_results = (int *)calloc((size_t)n, sizeof(int));
    for (i = 0; i < n; i++) {
        gort_wg_add(&big_wg, 1);
        CHECK_EQ(gort_go(big_fn, (void *)(intptr_t)i), 0);
    }
    gort_wg_wait(&big_wg);
    CHECK_EQ(LOAD(&big_count), n);
    for (i = 0; i < n; i++) {
        if (big_results[i] != (int)(i * 3 + 1)) {
            CHECK_EQ(big_results[i], i * 3 + 1);
            break;
        }
    }
    /* once more with a single add up front */
    big_count = 0;
    gort_wg_add(&big_wg, (int)n);
    for (i = 0; i < n; i++)
        CHECK_EQ(gort_go(big_fn, (void *)(intptr_t)i), 0);
    gort_wg_wait(&big_wg);
    CHECK_EQ(LOAD(&big_count), n);
    free(big_results);
    big_results = NULL;

    /* many waiters released by the last done */
    released = 0;
    gate_open = 0;
    gort_wg_add(&gate_wg, 3);
    gort_wg_add(&waiters_wg, 100);
    for (i = 0; i < 100; i++)
        CHECK_EQ(gort_go(waiter_fn, NULL), 0);
    gort_sleep(2 * MS);
    gort_wg_done(&gate_wg);
    gort_wg_done(&gate_wg);
    gort_sleep(2 * MS);
    CHECK_EQ(LOAD(&released), 0);
    STORE(&gate_open, 1);
    gort_wg_done(&gate_wg);
    gort_wg_wait(&waiters_wg);
    CHECK_EQ(LOAD(&released), 100);

    /* a negative add releases too */
    released = 0;
    gate_open = 0;
    gort_wg_add(&gate_wg, 5);
    gort_wg_add(&waiters_wg, 10);
    for (i = 0; i < 10; i++)
        CHECK_EQ(gort_go(waiter_fn, NULL), 0);
    gort_sleep(2 * MS);
    STORE(&gate_open, 1);
    gort_wg_add(&gate_wg, -5);
    gort_wg_wait(&waiters_wg);
    CHECK_EQ(LOAD(&released), 10);

    /* reuse */
    for (r = 0; r < (int)check_scale(2000); r++) {
        gort_wg_add(&pair_wg, 2);
        CHECK_EQ(gort_go(pair_fn, NULL), 0);
        CHECK_EQ(gort_go(pair_fn, NULL), 0);
        gort_wg_wait(&pair_wg);
    }
}

/* ------------------------------------------------------------ Mutex */

static gort_mutex counter_mu = GORT_MUTEX_INIT;
static long       counter;       /* plain, guarded by counter_mu */
static gort_wg    counter_wg = GORT_WG_INIT;
static int        counter_iters;

static void counter_fn(void *p)
{
    int i;
    (void)p;
    for (i = 0; i < counter_iters; i++) {
        gort_mutex_lock(&counter_mu);
        counter++;
        if ((i & 255) == 0)
            gort_yield();          /* hold it across a reschedule */
        gort_mutex_unlock(&counter_mu);
    }
    gort_wg_done(&counter_wg);
}

static void *counter_thread(void *p)
{
    int i;
    (void)p;
    for (i = 0; i < counter_iters; i++) {
        gort_mutex_lock(&counter_mu);
        counter++;
        gort_mutex_unlock(&counter_mu);
    }
    gort_wg_done(&counter_wg);
    return NULL;
}

static gort_mutex try_mu = GORT_MUTEX_INIT;
static int        try_result;    /* atomic */

static void try_other(void *p)
{
    gort_wg *wg = (gort_wg *)p;
    STORE(&try_result, gort_mutex_trylock(&try_mu));
    gort_wg_done(wg);
}

static gort_mutex sleepy_mu = GORT_MUTEX_INIT;
static int        sleepy_inside;  /* atomic */
static gort_wg    sleepy_wg = GORT_WG_INIT;

static void sleepy_fn(void *p)
{
    int i;
    (void)p;
    for (i = 0; i < 5; i++) {
        gort_mutex_lock(&sleepy_mu);
        if (ADD(&sleepy_inside, 1) != 1)
            CHECK(!"two holders of one mutex");
        gort_sleep(200000);   /* 0.2 ms, parked while holding the lock */
        ADD(&sleepy_inside, -1);
        gort_mutex_unlock(&sleepy_mu);
    }
    gort_wg_done(&sleepy_wg);
}

static gort_mutex hog_mu = GORT_MUTEX_INIT;
static int        hog_stop;       /* atomic: the waiter got the lock */
static int        hog_stopped;    /* atomic: the hog gave up */
static int        got_while_hogged;
static gort_wg    hog_wg = GORT_WG_INIT;

static void hog_fn(void *p)
{
    int64_t end = gort_now() + 10000 * MS;   /* hang detector */
    long i = 0;
    (void)p;
    while (!LOAD(&hog_stop)) {
        gort_mutex_lock(&hog_mu);
        gort_mutex_unlock(&hog_mu);
        if ((++i & 1023) == 0 && gort_now() > end)
            break;
    }
    STORE(&hog_stopped, 1);
    gort_wg_done(&hog_wg);
}

static void hog_waiter(void *p)
{
    (void)p;
    gort_sleep(1 * MS);   /* let the hog get going */
    gort_mutex_lock(&hog_mu);
    got_while_hogged = !LOAD(&hog_stopped);
    STORE(&hog_stop, 1);
    gort_mutex_unlock(&hog_mu);
    gort_wg_done(&hog_wg);
}

static void test_mutex(void)
{
    enum { G = 8, T = 2 };
    struct th th[T];
    gort_wg wg = GORT_WG_INIT;
    int i;

    /* trylock */
    CHECK_EQ(gort_mutex_trylock(&try_mu), 1);
    CHECK_EQ(gort_mutex_trylock(&try_mu), 0);
    gort_wg_add(&wg, 1);
    STORE(&try_result, -1);
    CHECK_EQ(gort_go(try_other, &wg), 0);
    gort_wg_wait(&wg);
    CHECK_EQ(LOAD(&try_result), 0);
    gort_mutex_unlock(&try_mu);
    CHECK_EQ(gort_mutex_trylock(&try_mu), 1);
    gort_mutex_unlock(&try_mu);
    gort_wg_add(&wg, 1);
    CHECK_EQ(gort_go(try_other, &wg), 0);
    gort_wg_wait(&wg);
    CHECK_EQ(LOAD(&try_result), 1);   /* the other goroutine holds it now */
    CHECK_EQ(gort_mutex_trylock(&try_mu), 0);
    gort_mutex_unlock(&try_mu);        /* unlocking from another goroutine is allowed, as in Go */
    CHECK_EQ(gort_mutex_trylock(&try_mu), 1);
    gort_mutex_unlock(&try_mu);

    /* the counter, goroutines and threads together */
    counter = 0;
    counter_iters = (int)check_scale(20000);
    gort_wg_add(&counter_wg, G + T);
    for (i = 0; i < G; i++)
        CHECK_EQ(gort_go(counter_fn, NULL), 0);
    for (i = 0; i < T; i++)
        th_start(&th[i], counter_thread, NULL);
    gort_wg_wait(&counter_wg);
    for (i = 0; i < T; i++)
        th_join(&th[i]);
    gort_mutex_lock(&counter_mu);
    CHECK_EQ(counter, (long)(G + T) * counter_iters);
    gort_mutex_unlock(&counter_mu);

    /* holders that sleep */
    gort_wg_add(&sleepy_wg, 6);
    for (i = 0; i < 6; i++)
        CHECK_EQ(gort_go(sleepy_fn, NULL), 0);
    gort_wg_wait(&sleepy_wg);

    /* no starvation (needs two Ps: the hog never yields) */
    if (gort_maxprocs() >= 2) {
        STORE(&hog_stop, 0);
        STORE(&hog_stopped, 0);
        got_while_hogged = 0;
        gort_wg_add(&hog_wg, 2);
        CHECK_EQ(gort_go(hog_fn, NULL), 0);
        CHECK_EQ(gort_go(hog_waiter, NULL), 0);
        gort_wg_wait(&hog_wg);
        CHECK_EQ(got_while_hogged, 1);
    }
}

/* ------------------------------------------------------------ Once */

static gort_once once = GORT_ONCE_INIT;
static int       once_calls;     /* atomic */
static int       once_data;      /* plain: written by fn, read by every caller */
static gort_wg   once_wg = GORT_WG_INIT;
static int       once_bad;       /* atomic */

static void once_fn(void)
{
    ADD(&once_calls, 1);
    gort_sleep(10 * MS);   /* keep the others waiting */
    once_data = 42;
}

static void once_caller(void *p)
{
    (void)p;
    gort_once_do(&once, once_fn);
    if (once_data != 42)   /* plain read: fn happened-before this return */
        ADD(&once_bad, 1);
    gort_wg_done(&once_wg);
}

static void *once_thread(void *p)
{
    once_caller(p);
    return NULL;
}

static gort_once once_fast = GORT_ONCE_INIT;
static int       fast_calls;
static void      fast_fn(void) { fast_calls++; }

static void test_once(void)
{
    struct th th[2];
    int i;
    gort_wg_add(&once_wg, 102);
    for (i = 0; i < 50; i++)
        CHECK_EQ(gort_go(once_caller, NULL), 0);
    for (i = 0; i < 2; i++)
        th_start(&th[i], once_thread, NULL);
    for (i = 0; i < 50; i++)
        CHECK_EQ(gort_go(once_caller, NULL), 0);
    gort_wg_wait(&once_wg);
    for (i = 0; i < 2; i++)
        th_join(&th[i]);
    CHECK_EQ(LOAD(&once_calls), 1);
    CHECK_EQ(LOAD(&once_bad), 0);
    gort_once_do(&once, once_fn);   /* done already */
    CHECK_EQ(LOAD(&once_calls), 1);

    for (i = 0; i < 10; i++)
        gort_once_do(&once_fast, fast_fn);
    CHECK_EQ(fast_calls, 1);
}

/* ------------------------------------------------------------ RWMutex */

static gort_rwmutex rw = GORT_RWMUTEX_INIT;
static int          rw_readers;    /* atomic: readers inside */
static int          rw_writers;    /* atomic: writers inside */
static long         rw_data;       /* plain, guarded by rw */
static int          rw_iters;
static gort_wg      rw_wg = GORT_WG_INIT;

static int rw_arrived;   /* atomic: readers that got the read lock */

static void together_reader(void *p)
{
    int n = (int)(intptr_t)p;
    gort_rwmutex_rlock(&rw);
    ADD(&rw_arrived, 1);
    CHECK(wait_for(&rw_arrived, n));   /* all n hold it at once */
    gort_rwmutex_runlock(&rw);
    gort_wg_done(&rw_wg);
}

static void rw_reader(void *p)
{
    int i;
    long seen = 0;
    (void)p;
    for (i = 0; i < rw_iters; i++) {
        gort_rwmutex_rlock(&rw);
        ADD(&rw_readers, 1);
        if (LOAD(&rw_writers) != 0)
            CHECK(!"a reader inside with a writer");
        if (rw_data < seen)        /* plain read under the read lock */
            CHECK(rw_data >= seen);
        seen = rw_data;
        if ((i & 63) == 0)
            gort_yield();
        ADD(&rw_readers, -1);
        gort_rwmutex_runlock(&rw);
    }
    gort_wg_done(&rw_wg);
}

static void rw_writer(void *p)
{
    int i;
    (void)p;
    for (i = 0; i < rw_iters; i++) {
        gort_rwmutex_lock(&rw);
        if (ADD(&rw_writers, 1) != 1)
            CHECK(!"two writers inside");
        if (LOAD(&rw_readers) != 0)
            CHECK(!"a writer inside with readers");
        rw_data++;
        if ((i & 63) == 0)
            gort_yield();
        ADD(&rw_writers, -1);
        gort_rwmutex_unlock(&rw);
    }
    gort_wg_done(&rw_wg);
}

static void *rw_reader_thread(void *p) { rw_reader(p); return NULL; }
static void *rw_writer_thread(void *p) { rw_writer(p); return NULL; }

static int  ws_writer_done;    /* atomic */
static int  ws_readers_stopped;/* atomic */
static int  ws_got_in;

static void ws_reader(void *p)
{
    int64_t end = gort_now() + 10000 * MS;   /* hang detector */
    (void)p;
    while (!LOAD(&ws_writer_done) && gort_now() < end) {
        gort_rwmutex_rlock(&rw);
        gort_sleep(100000);   /* 0.1 ms: the readers overlap all the time */
        gort_rwmutex_runlock(&rw);
    }
    ADD(&ws_readers_stopped, 1);
    gort_wg_done(&rw_wg);
}

static void ws_writer(void *p)
{
    (void)p;
    gort_sleep(2 * MS);
    gort_rwmutex_lock(&rw);
    ws_got_in = LOAD(&ws_readers_stopped) == 0;
    gort_rwmutex_unlock(&rw);
    STORE(&ws_writer_done, 1);
    gort_wg_done(&rw_wg);
}

static void test_rwmutex(void)
{
    enum { R = 8, W = 2 };
    struct th th[2];
    int i;

    /* readers together */
    rw_arrived = 0;
    gort_wg_add(&rw_wg, R);
    for (i = 0; i < R; i++)
        CHECK_EQ(gort_go(together_reader, (void *)(intptr_t)R), 0);
    gort_wg_wait(&rw_wg);

    /* writers alone */
    rw_readers = 0;
    rw_writers = 0;
    rw_data = 0;
    rw_iters = (int)check_scale(5000);
    gort_wg_add(&rw_wg, R + W + 2);
    for (i = 0; i < W; i++)
        CHECK_EQ(gort_go(rw_writer, NULL), 0);
    for (i = 0; i < R; i++)
        CHECK_EQ(gort_go(rw_reader, NULL), 0);
    th_start(&th[0], rw_reader_thread, NULL);
    th_start(&th[1], rw_writer_thread, NULL);
    gort_wg_wait(&rw_wg);
    th_join(&th[0]);
    th_join(&th[1]);
    gort_rwmutex_rlock(&rw);
    CHECK_EQ(rw_data, (long)(W + 1) * rw_iters);
    gort_rwmutex_runlock(&rw);

    /* a writer gets in while readers keep overlapping */
    ws_writer_done = 0;
    ws_readers_stopped = 0;
    ws_got_in = 0;
    gort_wg_add(&rw_wg, 5);
    for (i = 0; i < 4; i++)
        CHECK_EQ(gort_go(ws_reader, NULL), 0);
    CHECK_EQ(gort_go(ws_writer, NULL), 0);
    gort_wg_wait(&rw_wg);
    CHECK_EQ(ws_got_in, 1);
}

/* ------------------------------------------------------------ Cond */

static gort_mutex cv_mu = GORT_MUTEX_INIT;
static gort_cond  cv = GORT_COND_INIT;
static int        cv_go;          /* guarded by cv_mu */
static int        cv_waiting;     /* guarded by cv_mu */
static int        cv_woke;        /* guarded by cv_mu */
static gort_wg    cv_wg = GORT_WG_INIT;

static void cv_waiter(void *p)
{
    (void)p;
    gort_mutex_lock(&cv_mu);
    cv_waiting++;
    while (!cv_go)
        gort_cond_wait(&cv, &cv_mu);
    cv_woke++;
    gort_mutex_unlock(&cv_mu);
    gort_wg_done(&cv_wg);
}

static void *cv_waiter_thread(void *p)
{
    cv_waiter(p);
    return NULL;
}

/* bounded queue with signal only */
enum { QCAP = 8, QP = 4, QC = 4 };
static gort_mutex q_mu = GORT_MUTEX_INIT;
static gort_cond  q_notempty = GORT_COND_INIT;
static gort_cond  q_notfull = GORT_COND_INIT;
static int        q_buf[QCAP], q_head, q_len, q_done_producers; /* q_mu */
static int        q_items;
static unsigned char *q_seen;     /* atomic bytes */
static gort_wg    q_wg = GORT_WG_INIT;
static int        q_next_id;      /* atomic */

static void q_producer(void *p)
{
    int id = ADD(&q_next_id, 1) - 1, i;
    (void)p;
    for (i = 0; i < q_items; i++) {
        gort_mutex_lock(&q_mu);
        while (q_len == QCAP)
            gort_cond_wait(&q_notfull, &q_mu);
        q_buf[(q_head + q_len) % QCAP] = id * q_items + i;
        q_len++;
        gort_cond_signal(&q_notempty);
        gort_mutex_unlock(&q_mu);
    }
    gort_mutex_lock(&q_mu);
    q_done_producers++;
    gort_cond_broadcast(&q_notempty);   /* consumers may be waiting for the end */
    gort_mutex_unlock(&q_mu);
    gort_wg_done(&q_wg);
}

static void q_consumer(void *p)
{
    (void)p;
    for (;;) {
        int v;
        gort_mutex_lock(&q_mu);
        while (q_len == 0 && q_done_producers < QP)
            gort_cond_wait(&q_notempty, &q_mu);
        if (q_len == 0) {
            gort_mutex_unlock(&q_mu);
            break;
        }
        v = q_buf[q_head];
        q_head = (q_head + 1) % QCAP;
        q_len--;
        gort_cond_signal(&q_notfull);
        gort_mutex_unlock(&q_mu);
        if (v < 0 || v >= QP * q_items)
            CHECK(v >= 0 && v < QP * q_items);
        else if (__atomic_fetch_add(&q_seen[v], 1, __ATOMIC_RELAXED) != 0)
            CHECK(!"an item was taken twice");
    }
    gort_wg_done(&q_wg);
}

static void test_cond(void)
{
    enum { N = 50 };
    struct th th;
    int i, missing = 0;

    /* no waiters: no-ops */
    gort_cond_signal(&cv);
    gort_cond_broadcast(&cv);

    /* broadcast wakes everyone, goroutines and a thread */
    gort_wg_add(&cv_wg, N + 1);
    for (i = 0; i < N; i++)
        CHECK_EQ(gort_go(cv_waiter, NULL), 0);
    th_start(&th, cv_waiter_thread, NULL);
    for (;;) {   /* until all are waiting (or about to: they hold the lock) */
        int w;
        gort_mutex_lock(&cv_mu);
        w = cv_waiting;
        gort_mutex_unlock(&cv_mu);
        if (w == N + 1)
            break;
        gort_sleep(1 * MS);
    }
    gort_mutex_lock(&cv_mu);
    cv_go = 1;
    gort_cond_broadcast(&cv);
    gort_mutex_unlock(&cv_mu);
    gort_wg_wait(&cv_wg);
    th_join(&th);
    CHECK_EQ(cv_woke, N + 1);

    /* signal wakes one at a time: a thread waiter, then a goroutine */
    gort_mutex_lock(&cv_mu);
    cv_go = 0;
    cv_waiting = 0;
    cv_woke = 0;
    gort_mutex_unlock(&cv_mu);
    gort_wg_add(&cv_wg, 2);
    th_start(&th, cv_waiter_thread, NULL);
    CHECK_EQ(gort_go(cv_waiter, NULL), 0);
    for (;;) {
        int w;
        gort_mutex_lock(&cv_mu);
        w = cv_waiting;
        gort_mutex_unlock(&cv_mu);
        if (w == 2)
            break;
        gort_sleep(1 * MS);
    }
    gort_mutex_lock(&cv_mu);
    cv_go = 1;
    gort_cond_signal(&cv);
    gort_mutex_unlock(&cv_mu);
    for (;;) {   /* one woke; signal again until the other did too */
        int w;
        gort_mutex_lock(&cv_mu);
        w = cv_woke;
        if (w < 2)
            gort_cond_signal(&cv);
        gort_mutex_unlock(&cv_mu);
        if (w == 2)
            break;
        gort_sleep(1 * MS);
    }
    gort_wg_wait(&cv_wg);
    th_join(&th);

    /* the bounded queue */
    q_items = (int)check_scale(10000);
    q_seen = (unsigned char *)calloc((size_t)(QP * q_items), 1);
    gort_wg_add(&q_wg, QP + QC);
    for (i = 0; i < QC; i++)
        CHECK_EQ(gort_go(q_consumer, NULL), 0);
    for (i = 0; i < QP; i++)
        CHECK_EQ(gort_go(q_producer, NULL), 0);
    gort_wg_wait(&q_wg);
    for (i = 0; i < QP * q_items; i++)
        if (q_seen[i] != 1)
            missing++;
    CHECK_EQ(missing, 0);
    free(q_seen);
}

/* ------------------------------------------------------------ driver */

static void suite(void *arg)
{
    (void)arg;
    reg_chan = gort_chan_make(sizeof(int), 0);
    test_waitgroup();
    test_mutex();
    test_once();
    test_rwmutex();
    test_cond();
    CHECK_EQ(gort_chan_free(reg_chan), 0);
}

int main(void)
{
    gort_opts o;
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    CHECK_EQ(gort_run_opts(&o, suite, NULL), 0);
    return check_done();
}
