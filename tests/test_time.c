/* test_time.c - gort_now, gort_sleep, gort_after, select timeouts.

   Checks:
     - gort_now is monotonic, within one goroutine and across goroutines on
       different threads (a timestamp sent over a channel is never later
       than the receiver's clock);
     - sleepers wake in deadline order (Go's 30/10/20 pattern with 50 ms
       gaps, larger on slow configurations, retried up to 5 times against
       OS scheduling noise) and never before their deadline;
       gort_sleep(0) and negative durations return at once; huge
       durations (INT64_MAX) do not overflow into "already expired";
     - 10,000 goroutines sleeping random 0-50 ms all wake, none early;
     - timer churn: many short sleeps and select timeouts on every P;
     - a sleeping goroutine parks only itself (maxprocs 1: others run);
     - a select timeout that lost the race to a channel does not fire
       later into an unrelated park (stale timers);
     - gort_after(ns) delivers exactly once, a value >= the deadline;
       gort_after(0) delivers; many concurrent gort_after channels each
       deliver once; gort_after as the timeout case of a select.
   Only lower bounds on elapsed time are asserted, never upper bounds
   (the few "returns at once" checks use a 2 s bound as a hang detector).
   The suite runs with maxprocs 1 and 2. */
// gort-test: windows
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define US 1000LL
#define MS 1000000LL

/* 50 ms at full scale; on slow configurations (scale < 1) the gap grows
   to 50 ms / scale, at most 250 ms, so that scheduling noise cannot
   reorder wakeups. */
static int64_t gap_ns(void)
{
    long s = check_scale(1000);
    int64_t g = 50 * MS;
    if (s < 1000) {
        g = 50 * MS * 1000 / (s > 0 ? s : 1);
        if (g > 250 * MS)
            g = 250 * MS;
    }
    return g;
}

/* ------------------------------------------------------------ gort_now */

struct stamp {
    gort_chan *c;
    int        n;
    gort_wg    wg;
};

static void stamp_sender(void *p)
{
    struct stamp *s = (struct stamp *)p;
    int i;
    for (i = 0; i < s->n; i++) {
        int64_t t = gort_now();
        CHECK_EQ(gort_chan_send(s->c, &t), 0);
        if ((i & 7) == 0)
            gort_yield();
    }
    gort_wg_done(&s->wg);
}

static void test_now(void)
{
    long n = check_scale(1000000), i;
    int64_t prev = gort_now(), t;
    struct stamp s;

    CHECK(prev > 0);
    for (i = 0; i < n; i++) {
        t = gort_now();
        if (t < prev) {
            CHECK(t >= prev);
            break;
        }
        prev = t;
    }

    /* across goroutines (and threads, with maxprocs > 1) */
    memset(&s, 0, sizeof s);
    s.c = gort_chan_make(sizeof(int64_t), 4);
    s.n = (int)check_scale(20000);
    gort_wg_add(&s.wg, 2);
    CHECK_EQ(gort_go(stamp_sender, &s), 0);
    CHECK_EQ(gort_go(stamp_sender, &s), 0);
    for (i = 0; i < 2L * s.n; i++) {
        int64_t sent = 0;
        CHECK_EQ(gort_chan_recv(s.c, &sent), 1);
        t = gort_now();
        if (t < sent) {
            CHECK(t >= sent);
            break;
        }
    }
    gort_wg_wait(&s.wg);
    CHECK_EQ(gort_chan_free(s.c), 0);
}

/* ------------------------------------------------------------ sleep order */

struct sleeper {
    int64_t  start, dur, woke;
    int      order;
    int     *seq;       /* atomic, shared */
    gort_wg *wg;
};

static void sleeper_fn(void *p)
{
    struct sleeper *s = (struct sleeper *)p;
    gort_sleep(s->dur);
    s->woke = gort_now();
    s->order = ADD(s->seq, 1) - 1;
    gort_wg_done(s->wg);
}

/* One attempt: 1 if the three woke in deadline order. Never waking early
   is checked every time. */
static int sleep_order_once(int attempt)
{
    int64_t g = gap_ns();
    static const int mult[3] = { 3, 1, 2 };   /* Go's 30, 10, 20 */
    struct sleeper s[3];
    gort_wg wg = GORT_WG_INIT;
    int seq = 0, i, ok = 1;
    int64_t start = gort_now();
    for (i = 0; i < 3; i++) {
        s[i].start = start;
        s[i].dur = g * mult[i];
        s[i].seq = &seq;
        s[i].wg = &wg;
        gort_wg_add(&wg, 1);
        CHECK_EQ(gort_go(sleeper_fn, &s[i]), 0);
    }
    gort_wg_wait(&wg);
    for (i = 0; i < 3; i++) {
        CHECK(s[i].woke - start >= s[i].dur);
        if (s[i].order != mult[i] - 1)
            ok = 0;
    }
    if (!ok)
        check_note("sleep order attempt %d (maxprocs %d, gap %lld ms): sleeps of %lld/%lld/%lld ms "
                   "woke at %.1f/%.1f/%.1f ms, order %d/%d/%d", attempt, gort_maxprocs(),
                   (long long)(g / MS), (long long)(s[0].dur / MS), (long long)(s[1].dur / MS),
                   (long long)(s[2].dur / MS), (double)(s[0].woke - start) / 1e6,
                   (double)(s[1].woke - start) / 1e6, (double)(s[2].woke - start) / 1e6,
                   s[0].order, s[1].order, s[2].order);
    return ok;
}

/* On a shared, noisy machine the OS can hold a woken goroutine's thread
   off the CPU for longer than the gap, so one attempt may come out of
   order; an implementation that fires timers out of deadline order fails
   every attempt. Five attempts: a correct one fails only if the machine
   stalls a thread by more than 50 ms in all five. */
static void test_sleep_order(void)
{
    int attempt;
    for (attempt = 1; attempt <= 5; attempt++)
        if (sleep_order_once(attempt))
            return;
    CHECK(!"sleepers woke out of deadline order in 5 attempts out of 5");
}

/* ------------------------------------------------------------ edge durations */

static int forever_flag[3];   /* atomic */

static void sleep_forever(void *p)
{
    int i = (int)(intptr_t)p;
    gort_sleep(i == 0 ? INT64_MAX : INT64_MAX / 2);
    STORE(&forever_flag[i], 1);
}

static void select_forever(void *p)
{
    gort_case cs[1];
    (void)p;
    cs[0].chan = NULL;
    cs[0].op = GORT_RECV;
    cs[0].elem = NULL;
    cs[0].ok = -1;
    CHECK_EQ(gort_select(cs, 1, INT64_MAX), -ETIMEDOUT);
    STORE(&forever_flag[2], 1);
}

static void test_edges(void)
{
    int64_t t0, t1;
    int i;
    gort_case cs[1];

    t0 = gort_now();
    gort_sleep(0);
    gort_sleep(-1);
    gort_sleep(-5 * MS);
    gort_sleep(INT64_MIN);
    t1 = gort_now();
    CHECK(t1 - t0 < 2000 * MS);   /* hang detector, not a timing assertion */

    /* tiny sleeps still sleep at least that long */
    t0 = gort_now();
    gort_sleep(1);
    CHECK(gort_now() - t0 >= 1);
    t0 = gort_now();
    gort_sleep(1 * MS);
    CHECK(gort_now() - t0 >= 1 * MS);
    t0 = gort_now();
    gort_sleep(10 * MS);
    CHECK(gort_now() - t0 >= 10 * MS);

    /* select timeouts: never early */
    cs[0].chan = NULL;
    cs[0].op = GORT_RECV;
    cs[0].elem = NULL;
    cs[0].ok = -1;
    for (i = 0; i < 5; i++) {
        int64_t d = (int64_t)i * 2 * MS + 1;
        t0 = gort_now();
        CHECK_EQ(gort_select(cs, 1, d), -ETIMEDOUT);
        CHECK(gort_now() - t0 >= d);
    }

    /* deadlines near INT64_MAX must not wrap into the past; these stay
       asleep until the suite's main returns and drops them */
    for (i = 0; i < 3; i++)
        STORE(&forever_flag[i], 0);
    CHECK_EQ(gort_go(sleep_forever, (void *)(intptr_t)0), 0);
    CHECK_EQ(gort_go(sleep_forever, (void *)(intptr_t)1), 0);
    CHECK_EQ(gort_go(select_forever, NULL), 0);
    gort_sleep(30 * MS);
    for (i = 0; i < 3; i++) {
        static const char *const what[3] = { "gort_sleep(INT64_MAX)", "gort_sleep(INT64_MAX / 2)",
                                             "gort_select(..., INT64_MAX)" };
        if (LOAD(&forever_flag[i]) != 0) {
            fprintf(stderr, "%s returned after 30 ms\n", what[i]);
            CHECK_EQ(LOAD(&forever_flag[i]), 0);
        }
    }
}

/* ------------------------------------------------------------ many sleepers */

struct many {
    int64_t  dur;
    int64_t  start;
    int     *early;   /* atomic, shared */
    gort_wg *wg;
};

static void many_fn(void *p)
{
    struct many *m = (struct many *)p;
    gort_sleep(m->dur);
    if (gort_now() - m->start < m->dur)
        ADD(m->early, 1);
    gort_wg_done(m->wg);
}

static void test_many_sleepers(void)
{
    long n = check_scale(10000), i;
    struct many *m = (struct many *)calloc((size_t)n, sizeof *m);
    gort_wg wg = GORT_WG_INIT;
    uint64_t seed = 0xfeedULL;
    int early = 0;
    for (i = 0; i < n; i++) {
        m[i].dur = (int64_t)(rng_next(&seed) % (50 * MS + 1));
        m[i].start = gort_now();
        m[i].early = &early;
        m[i].wg = &wg;
        gort_wg_add(&wg, 1);
        CHECK_EQ(gort_go(many_fn, &m[i]), 0);
    }
    gort_wg_wait(&wg);
    CHECK_EQ(early, 0);
    free(m);
}

/* ------------------------------------------------------------ churn */

struct churn {
    int      iters;
    int      early;   /* atomic */
    int      next;    /* atomic */
    gort_wg  wg;
};

static void churn_fn(void *p)
{
    struct churn *c = (struct churn *)p;
    uint64_t seed = 0x77ULL * (uint64_t)(ADD(&c->next, 1) + 1);
    gort_chan *never = gort_chan_make(sizeof(int), 0);
    int i, v;
    for (i = 0; i < c->iters; i++) {
        int64_t d = (int64_t)(rng_next(&seed) % (100 * US));
        int64_t t0 = gort_now();
        if (i & 1) {
            gort_sleep(d);
        } else {
            gort_case cs[1];
            cs[0].chan = never;
            cs[0].op = GORT_RECV;
            cs[0].elem = &v;
            cs[0].ok = -1;
            CHECK_EQ(gort_select(cs, 1, d + 1), -ETIMEDOUT);
            d++;
        }
        if (gort_now() - t0 < d)
            ADD(&c->early, 1);
    }
    CHECK_EQ(gort_chan_free(never), 0);
    gort_wg_done(&c->wg);
}

static void test_churn(void)
{
    struct churn c;
    int i;
    memset(&c, 0, sizeof c);
    c.iters = (int)check_scale(500);
    gort_wg_add(&c.wg, 16);
    for (i = 0; i < 16; i++)
        CHECK_EQ(gort_go(churn_fn, &c), 0);
    gort_wg_wait(&c.wg);
    CHECK_EQ(c.early, 0);
}

/* ------------------------------------------------------------ sleep parks only the goroutine */

static int long_sleeper_woke;   /* atomic */

static void long_sleeper(void *p)
{
    (void)p;
    gort_sleep(60000 * MS);   /* dropped long before: gort_run drops it */
    STORE(&long_sleeper_woke, 1);
}

struct pong {
    gort_chan *c;
    gort_wg    wg;
};

static void ponger(void *p)
{
    struct pong *q = (struct pong *)p;
    int v;
    while (gort_chan_recv(q->c, &v) == 1)
        CHECK_EQ(gort_chan_send(q->c, &v), 0);
    gort_wg_done(&q->wg);
}

static void test_sleep_parks(void)
{
    /* With maxprocs 1, a sleep that blocked the thread would hold up the
       ping-pong below for the whole 60 s, and the sleeper would be awake
       by the time it ends. 100 round trips take far less even under
       Valgrind. The sleeper is dropped when the suite returns. */
    struct pong q;
    int i, v;
    memset(&q, 0, sizeof q);
    q.c = gort_chan_make(sizeof(int), 0);
    STORE(&long_sleeper_woke, 0);
    CHECK_EQ(gort_go(long_sleeper, NULL), 0);
    gort_yield();
    gort_wg_add(&q.wg, 1);
    CHECK_EQ(gort_go(ponger, &q), 0);
    for (i = 0; i < 100; i++) {
        v = i;
        CHECK_EQ(gort_chan_send(q.c, &v), 0);
        CHECK_EQ(gort_chan_recv(q.c, &v), 1);
        CHECK_EQ(v, i);
    }
    CHECK_EQ(LOAD(&long_sleeper_woke), 0);
    CHECK_EQ(gort_chan_close(q.c), 0);
    gort_wg_wait(&q.wg);
    CHECK_EQ(gort_chan_free(q.c), 0);
}

/* ------------------------------------------------------------ stale timers */

/* A select with a 20 ms timeout is (usually) woken early by a partner's
   send. Its timer must then be dead: it must not cut short the 30 ms
   sleep that follows, nor wake the receive that follows (which the
   partner feeds only after 30 ms). If the partner was slow and the
   select really timed out, the round simply receives the value late. */
struct stale {
    gort_chan *c, *d;
    int        rounds;
    int       *early;   /* atomic, shared */
    gort_wg   *wg;
};

static void stale_partner(void *p)
{
    struct stale *s = (struct stale *)p;
    int i;
    for (i = 0; i < s->rounds; i++) {
        gort_yield();
        CHECK_EQ(gort_chan_send(s->c, &i), 0);
        if (i & 1) {
            gort_sleep(30 * MS);
            CHECK_EQ(gort_chan_send(s->d, &i), 0);
        }
    }
    gort_wg_done(s->wg);
}

static void stale_fn(void *p)
{
    struct stale *s = (struct stale *)p;
    int i, v, r;
    for (i = 0; i < s->rounds; i++) {
        gort_case cs[1];
        cs[0].chan = s->c;
        cs[0].op = GORT_RECV;
        cs[0].elem = &v;
        cs[0].ok = -1;
        v = -1;
        r = gort_select(cs, 1, 20 * MS);
        if (r == -ETIMEDOUT)
            CHECK_EQ(gort_chan_recv(s->c, &v), 1);
        else
            CHECK_EQ(r, 0);
        CHECK_EQ(v, i);
        if (i & 1) {
            v = -1;
            CHECK_EQ(gort_chan_recv(s->d, &v), 1);
            CHECK_EQ(v, i);
        } else {
            int64_t t0 = gort_now();
            gort_sleep(30 * MS);
            if (gort_now() - t0 < 30 * MS)
                ADD(s->early, 1);
        }
    }
    gort_wg_done(s->wg);
}

static void test_stale_timers(void)
{
    enum { PAIRS = 8 };
    struct stale s[PAIRS];
    gort_wg wg = GORT_WG_INIT;
    int early = 0, i;
    for (i = 0; i < PAIRS; i++) {
        s[i].c = gort_chan_make(sizeof(int), 0);
        s[i].d = gort_chan_make(sizeof(int), 0);
        s[i].rounds = (int)check_scale(10);
        s[i].early = &early;
        s[i].wg = &wg;
        gort_wg_add(&wg, 2);
        CHECK_EQ(gort_go(stale_fn, &s[i]), 0);
        CHECK_EQ(gort_go(stale_partner, &s[i]), 0);
    }
    gort_wg_wait(&wg);
    CHECK_EQ(early, 0);
    for (i = 0; i < PAIRS; i++) {
        CHECK_EQ(gort_chan_free(s[i].c), 0);
        CHECK_EQ(gort_chan_free(s[i].d), 0);
    }
}

/* ------------------------------------------------------------ gort_after */

struct aft {
    int64_t  dur;
    int      got;      /* values received */
    int      bad;
    gort_wg *wg;
};

static void after_fn(void *p)
{
    struct aft *a = (struct aft *)p;
    int64_t t0 = gort_now(), v = 0;
    gort_chan *c = gort_after(a->dur);
    CHECK(c != NULL);
    if (!c) {
        gort_wg_done(a->wg);
        return;
    }
    if (gort_chan_recv(c, &v) == 1)
        a->got++;
    if (v < t0 + a->dur)
        a->bad++;
    gort_sleep(a->dur + 1 * MS);
    if (gort_chan_try_recv(c, &v) != -EAGAIN)   /* exactly once */
        a->bad++;
    CHECK_EQ(gort_chan_free(c), 0);
    gort_wg_done(a->wg);
}

static void test_after(void)
{
    int64_t t0, v = 0;
    gort_chan *c, *never;
    gort_case cs[2];
    int i;
    long n;

    t0 = gort_now();
    c = gort_after(5 * MS);
    CHECK(c != NULL);
    CHECK_EQ(gort_chan_recv(c, &v), 1);
    CHECK(v >= t0 + 5 * MS);
    CHECK(gort_now() >= v);
    gort_sleep(10 * MS);
    CHECK_EQ(gort_chan_try_recv(c, &v), -EAGAIN);
    CHECK_EQ(gort_chan_free(c), 0);

    c = gort_after(0);
    CHECK(c != NULL);
    CHECK_EQ(gort_chan_recv(c, &v), 1);
    CHECK_EQ(gort_chan_free(c), 0);

    /* the usual timeout idiom */
    never = gort_chan_make(sizeof(int), 0);
    t0 = gort_now();
    c = gort_after(3 * MS);
    cs[0].chan = never; cs[0].op = GORT_RECV; cs[0].elem = &i; cs[0].ok = -1;
    cs[1].chan = c; cs[1].op = GORT_RECV; cs[1].elem = &v; cs[1].ok = -1;
    CHECK_EQ(gort_select(cs, 2, -1), 1);
    CHECK_EQ(cs[1].ok, 1);
    CHECK(v >= t0 + 3 * MS);
    CHECK(gort_now() - t0 >= 3 * MS);
    CHECK_EQ(gort_chan_free(c), 0);
    CHECK_EQ(gort_chan_free(never), 0);

    /* many at once */
    n = check_scale(1000);
    {
        struct aft *a = (struct aft *)calloc((size_t)n, sizeof *a);
        gort_wg wg = GORT_WG_INIT;
        uint64_t seed = 99;
        for (i = 0; i < n; i++) {
            a[i].dur = (int64_t)(rng_next(&seed) % (20 * MS));
            a[i].wg = &wg;
            gort_wg_add(&wg, 1);
            CHECK_EQ(gort_go(after_fn, &a[i]), 0);
        }
        gort_wg_wait(&wg);
        for (i = 0; i < n; i++) {
            CHECK_EQ(a[i].got, 1);
            CHECK_EQ(a[i].bad, 0);
        }
        free(a);
    }
}

/* ------------------------------------------------------------ driver */

static void suite(void *arg)
{
    (void)arg;
    test_now();
    test_sleep_order();
    test_edges();
    test_many_sleepers();
    test_churn();
    test_sleep_parks();
    test_stale_timers();
    test_after();
}

int main(void)
{
    CHECK_EQ(run_procs(1, suite, NULL), 0);
    CHECK_EQ(run_procs(2, suite, NULL), 0);
    return check_done();
}
