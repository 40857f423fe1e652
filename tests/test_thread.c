/* test_thread.c - plain OS threads (not goroutines) using gort.

   API.md: every blocking call works from a plain thread (it blocks that
   thread). Checked twice over: in background mode (gort_start, the
   program's main thread and its pthreads talk to goroutines; then
   gort_stop) and inside gort_run (the main goroutine starts pthreads).
   A third short background round checks that gort_start works again
   after gort_stop.
     - pthreads and goroutines as producers and consumers on the same
       channels, unbuffered and buffered, plain calls and select; the
       producers' WaitGroup is waited by a plain thread, which then closes
       the channel; every value arrives exactly once;
     - unbuffered rendezvous between a thread and a goroutine both ways:
       a send completes only after the receive began, plain data written
       on one side is visible on the other (TSan checks);
     - select from a plain thread: timeout 0 -> -EAGAIN, timeout > 0 ->
       -ETIMEDOUT (not early), blocking select woken by a goroutine's send,
       send case taken by a goroutine's receive;
     - gort_sleep and gort_after from a plain thread;
     - close from a goroutine wakes threads blocked in receive (0, zeroed)
       and in send (-EPIPE);
     - gort_go from a plain thread; gort_in_goroutine is 0 in a thread
       and 1 in a goroutine; gort_go before any runtime -> -ESRCH,
       gort_go(NULL, ...) -> -EINVAL;
     - 48 threads blocked in a receive at once, twice: every one gets its
       value (more than a pool of thread records holds, and records given
       back at thread exit reused).
   Inside gort_run a thread that has not yet called into gort does not
   count as a possible waker (API.md), so every thread here makes a gort
   call first and the starter waits for that before it blocks. */
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

/* ------------------------------------------------------------ helpers */

static gort_chan *reg_chan;   /* never used for data: a gort call to make */

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
    CHECK_EQ(gort_in_goroutine(), 0);
    CHECK_EQ(gort_chan_try_recv(reg_chan, &v), -EAGAIN);   /* calls into gort */
    STORE(&t->started, 1);
    return t->fn(t->arg);
}

static void th_start(struct th *t, void *(*fn)(void *), void *arg)
{
    t->fn = fn;
    t->arg = arg;
    t->started = 0;
    CHECK_EQ(pthread_create(&t->t, NULL, th_tramp, t), 0);
    CHECK(wait_for_nap(&t->started, 1, MS / 10));
}

static void th_join(struct th *t)
{
    int g = gort_in_goroutine();
    if (g)
        gort_block_begin();   /* pthread_join blocks the OS thread */
    pthread_join(t->t, NULL);
    if (g)
        gort_block_end();
}

static void set_case(gort_case *c, gort_chan *ch, int op, void *elem)
{
    c->chan = ch;
    c->op = op;
    c->elem = elem;
    c->ok = -1;
}

/* ------------------------------------------------------------ mixed producers and consumers */

enum { MX_GP = 2, MX_TP = 2, MX_GC = 2, MX_TC = 2 };

struct mix {
    gort_chan     *c;
    int            M;
    unsigned char *seen;      /* atomic bytes */
    gort_wg        prod_wg;   /* producers; waited by the closer thread */
    gort_wg        all_wg;
    int            next_p;    /* atomic */
    int            next_c;    /* atomic */
};

static void mix_produce(struct mix *m)
{
    int id = ADD(&m->next_p, 1) - 1, i;
    for (i = 0; i < m->M; i++) {
        int v = id * m->M + i;
        if (i & 1) {
            gort_case cs[2];
            set_case(&cs[0], NULL, GORT_RECV, NULL);
            set_case(&cs[1], m->c, GORT_SEND, &v);
            CHECK_EQ(gort_select(cs, 2, -1), 1);
            CHECK_EQ(cs[1].ok, 1);
        } else {
            CHECK_EQ(gort_chan_send(m->c, &v), 0);
        }
    }
    gort_wg_done(&m->prod_wg);
    gort_wg_done(&m->all_wg);
}

static void mix_consume(struct mix *m)
{
    int k = ADD(&m->next_c, 1), rc, n = (MX_GP + MX_TP) * m->M;
    for (;;) {
        int v = -1;
        if (k++ & 1) {
            gort_case cs[1];
            set_case(&cs[0], m->c, GORT_RECV, &v);
            CHECK_EQ(gort_select(cs, 1, -1), 0);
            rc = cs[0].ok;
        } else {
            rc = gort_chan_recv(m->c, &v);
        }
        if (rc != 1) {
            CHECK_EQ(rc, 0);
            break;
        }
        if (v < 0 || v >= n)
            CHECK(v >= 0 && v < n);
        else if (__atomic_fetch_add(&m->seen[v], 1, __ATOMIC_RELAXED) != 0)
            CHECK(!"a value was received twice");
    }
    gort_wg_done(&m->all_wg);
}

static void  mix_gprod(void *p) { mix_produce((struct mix *)p); }
static void  mix_gcons(void *p) { mix_consume((struct mix *)p); }
static void *mix_tprod(void *p) { mix_produce((struct mix *)p); return NULL; }
static void *mix_tcons(void *p) { mix_consume((struct mix *)p); return NULL; }

static void *mix_closer(void *p)
{
    struct mix *m = (struct mix *)p;
    gort_wg_wait(&m->prod_wg);        /* a WaitGroup waited by a plain thread */
    CHECK_EQ(gort_chan_close(m->c), 0);
    gort_wg_done(&m->all_wg);
    return NULL;
}

static void test_mixed(void)
{
    int cap, i, missing;
    for (cap = 0; cap <= 4; cap += 4) {
        struct mix m;
        struct th th[MX_TP + MX_TC + 1];
        int nt = 0, n;
        memset(&m, 0, sizeof m);
        m.c = gort_chan_make(sizeof(int), (size_t)cap);
        m.M = (int)check_scale(10000);
        n = (MX_GP + MX_TP) * m.M;
        m.seen = (unsigned char *)calloc((size_t)n, 1);
        gort_wg_add(&m.prod_wg, MX_GP + MX_TP);
        gort_wg_add(&m.all_wg, MX_GP + MX_TP + MX_GC + MX_TC + 1);
        th_start(&th[nt++], mix_closer, &m);
        for (i = 0; i < MX_TC; i++)
            th_start(&th[nt++], mix_tcons, &m);
        for (i = 0; i < MX_GC; i++)
            CHECK_EQ(gort_go(mix_gcons, &m), 0);
        for (i = 0; i < MX_TP; i++)
            th_start(&th[nt++], mix_tprod, &m);
        for (i = 0; i < MX_GP; i++)
            CHECK_EQ(gort_go(mix_gprod, &m), 0);
        gort_wg_wait(&m.all_wg);
        for (i = 0; i < nt; i++)
            th_join(&th[i]);
        missing = 0;
        for (i = 0; i < n; i++)
            if (m.seen[i] != 1)
                missing++;
        CHECK_EQ(missing, 0);
        CHECK_EQ(gort_chan_free(m.c), 0);
        free(m.seen);
    }
}

/* ------------------------------------------------------------ rendezvous */

/* As in test_chan: the receiver writes ack[i] (plain) before receiving
   value i, the sender reads it right after send i returned; the sender
   writes payload[i] (plain) before sending, the receiver reads it after.
   `sent` (atomic) must never run ahead of the receiver. */
struct rdv {
    gort_chan *c;
    int        n;
    int        sent;
    int       *ack, *payload;
    int        reported;   /* atomic: failures printed (capped, no floods) */
    gort_wg    wg;
};

#define RDV_CHECK(r, cond)                                   \
    do {                                                     \
        if (!(cond) && ADD(&(r)->reported, 1) <= 3)          \
            CHECK(cond);                                     \
    } while (0)

static void rdv_send(struct rdv *r)
{
    int i;
    for (i = 0; i < r->n; i++) {
        r->payload[i] = i + 5;
        CHECK_EQ(gort_chan_send(r->c, &i), 0);
        RDV_CHECK(r, r->ack[i] == i + 9);
        STORE(&r->sent, i + 1);
    }
    gort_wg_done(&r->wg);
}

static void rdv_recv(struct rdv *r)
{
    int i, v, s;
    for (i = 0; i < r->n; i++) {
        s = LOAD(&r->sent);
        RDV_CHECK(r, s <= i);
        r->ack[i] = i + 9;
        v = -1;
        CHECK_EQ(gort_chan_recv(r->c, &v), 1);
        RDV_CHECK(r, v == i);
        RDV_CHECK(r, r->payload[i] == i + 5);
    }
    gort_wg_done(&r->wg);
}

static void  rdv_gsend(void *p) { rdv_send((struct rdv *)p); }
static void  rdv_grecv(void *p) { rdv_recv((struct rdv *)p); }
static void *rdv_tsend(void *p) { rdv_send((struct rdv *)p); return NULL; }
static void *rdv_trecv(void *p) { rdv_recv((struct rdv *)p); return NULL; }

static void test_rendezvous(void)
{
    int dir;
    for (dir = 0; dir < 2; dir++) {
        struct rdv r;
        struct th t;
        memset(&r, 0, sizeof r);
        r.c = gort_chan_make(sizeof(int), 0);
        r.n = (int)check_scale(5000);
        r.ack = (int *)calloc((size_t)r.n, sizeof(int));
        r.payload = (int *)calloc((size_t)r.n, sizeof(int));
        gort_wg_add(&r.wg, 2);
        if (dir == 0) {
            th_start(&t, rdv_tsend, &r);
            CHECK_EQ(gort_go(rdv_grecv, &r), 0);
        } else {
            th_start(&t, rdv_trecv, &r);
            CHECK_EQ(gort_go(rdv_gsend, &r), 0);
        }
        gort_wg_wait(&r.wg);
        th_join(&t);
        CHECK_EQ(r.sent, r.n);
        CHECK_EQ(gort_chan_free(r.c), 0);
        free(r.ack);
        free(r.payload);
    }
}

/* ------------------------------------------------------------ select, sleep, after from a thread */

struct ts {
    gort_chan *c;
    int        ready;    /* atomic: the thread is about to block */
    int        phase2;   /* atomic */
    int        got;
    gort_wg    wg;
};

static void ts_partner(void *p)
{
    struct ts *s = (struct ts *)p;
    int v = 77;
    CHECK_EQ(gort_in_goroutine(), 1);
    CHECK(wait_for_nap(&s->ready, 1, MS / 10));
    gort_sleep(10 * MS);
    CHECK_EQ(gort_chan_send(s->c, &v), 0);
    CHECK(wait_for_nap(&s->phase2, 1, MS / 10));
    gort_sleep(10 * MS);
    v = -1;
    CHECK_EQ(gort_chan_recv(s->c, &v), 1);
    s->got = v;
    gort_wg_done(&s->wg);
}

static void *ts_thread(void *p)
{
    struct ts *s = (struct ts *)p;
    gort_case cs[2];
    int v = -1, out = 88;
    int64_t t0, d;
    gort_chan *a;

    set_case(&cs[0], s->c, GORT_RECV, &v);
    set_case(&cs[1], NULL, GORT_SEND, NULL);
    CHECK_EQ(gort_select(cs, 2, 0), -EAGAIN);
    t0 = gort_now();
    CHECK_EQ(gort_select(cs, 2, 5 * MS), -ETIMEDOUT);
    CHECK(gort_now() - t0 >= 5 * MS);
    CHECK_EQ(gort_select(NULL, 0, 0), -EAGAIN);

    /* blocking select, woken by a goroutine's send */
    STORE(&s->ready, 1);
    CHECK_EQ(gort_select(cs, 2, -1), 0);
    CHECK_EQ(cs[0].ok, 1);
    CHECK_EQ(v, 77);

    /* a send case taken by a goroutine's receive */
    set_case(&cs[0], NULL, GORT_RECV, NULL);
    set_case(&cs[1], s->c, GORT_SEND, &out);
    STORE(&s->phase2, 1);
    CHECK_EQ(gort_select(cs, 2, 1000 * MS * 20), 1);   /* 20 s: hang detector */
    CHECK_EQ(cs[1].ok, 1);

    /* sleeps */
    t0 = gort_now();
    gort_sleep(0);
    gort_sleep(-3);
    CHECK(gort_now() - t0 < 2000 * MS);   /* hang detector */
    for (d = 1; d <= 10 * MS; d *= 100) {
        t0 = gort_now();
        gort_sleep(d);
        CHECK(gort_now() - t0 >= d);
    }

    /* gort_after */
    t0 = gort_now();
    a = gort_after(3 * MS);
    CHECK(a != NULL);
    if (a) {
        int64_t when = 0;
        CHECK_EQ(gort_chan_recv(a, &when), 1);
        CHECK(when >= t0 + 3 * MS);
        CHECK_EQ(gort_chan_try_recv(a, &when), -EAGAIN);
        CHECK_EQ(gort_chan_free(a), 0);
    }
    return NULL;
}

static void test_thread_select(void)
{
    struct ts s;
    struct th t;
    memset(&s, 0, sizeof s);
    s.c = gort_chan_make(sizeof(int), 0);
    gort_wg_add(&s.wg, 1);
    CHECK_EQ(gort_go(ts_partner, &s), 0);
    th_start(&t, ts_thread, &s);
    gort_wg_wait(&s.wg);
    th_join(&t);
    CHECK_EQ(s.got, 88);
    CHECK_EQ(gort_chan_free(s.c), 0);
}

/* ------------------------------------------------------------ close wakes threads */

struct cwt {
    gort_chan *r, *s;   /* threads receive on r, send on s */
    int        arrived; /* atomic */
    int        bad;     /* atomic */
};

static void *cwt_receiver(void *p)
{
    struct cwt *w = (struct cwt *)p;
    long long v = 0x1122334455667788LL;
    ADD(&w->arrived, 1);
    if (gort_chan_recv(w->r, &v) != 0 || v != 0)
        ADD(&w->bad, 1);
    return NULL;
}

static void *cwt_sender(void *p)
{
    struct cwt *w = (struct cwt *)p;
    long long v = 5;
    ADD(&w->arrived, 1);
    if (gort_chan_send(w->s, &v) != -EPIPE || v != 5)
        ADD(&w->bad, 1);
    return NULL;
}

static void cwt_closer(void *p)
{
    struct cwt *w = (struct cwt *)p;
    CHECK(wait_for_nap(&w->arrived, 8, MS / 10));
    gort_sleep(5 * MS);   /* most of them are blocked by now */
    CHECK_EQ(gort_chan_close(w->r), 0);
    CHECK_EQ(gort_chan_close(w->s), 0);
}

static void test_close_wakes_threads(void)
{
    struct cwt w;
    struct th th[8];
    int i;
    memset(&w, 0, sizeof w);
    w.r = gort_chan_make(sizeof(long long), 0);
    w.s = gort_chan_make(sizeof(long long), 0);
    for (i = 0; i < 4; i++)
        th_start(&th[i], cwt_receiver, &w);
    for (i = 4; i < 8; i++)
        th_start(&th[i], cwt_sender, &w);
    CHECK_EQ(gort_go(cwt_closer, &w), 0);
    for (i = 0; i < 8; i++)
        th_join(&th[i]);
    CHECK_EQ(w.bad, 0);
    CHECK_EQ(gort_chan_free(w.r), 0);
    CHECK_EQ(gort_chan_free(w.s), 0);
}

/* ------------------------------------------------------------ gort_go from a thread */

static void child_fn(void *p)
{
    gort_chan *c = (gort_chan *)p;
    int v = gort_in_goroutine();
    CHECK_EQ(gort_chan_send(c, &v), 0);
}

static void *spawner(void *p)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    int i, v;
    (void)p;
    for (i = 0; i < 100; i++)
        CHECK_EQ(gort_go(child_fn, c), 0);
    for (i = 0; i < 100; i++) {
        v = -1;
        CHECK_EQ(gort_chan_recv(c, &v), 1);
        CHECK_EQ(v, 1);
    }
    CHECK_EQ(gort_chan_free(c), 0);
    return NULL;
}

static void test_go_from_thread(void)
{
    struct th t;
    th_start(&t, spawner, NULL);
    th_join(&t);
}

/* ------------------------------------------------------------ many threads at once */

/* More plain threads blocked in gort at once than a record pool holds
   (Windows with MinGW's gcc keeps 32: gort__tg_new), twice: each gets
   its own value, and the records of the first round's exited threads
   serve the second. */
enum { MANY = 48 };
struct many {
    gort_chan *c;
    int        got[MANY];
};
static void *many_thread(void *p)
{
    struct many *m = (struct many *)p;
    int v = -1;
    CHECK_EQ(gort_chan_recv(m->c, &v), 1);
    CHECK(v >= 0 && v < MANY);
    if (v >= 0 && v < MANY)
        __atomic_add_fetch(&m->got[v], 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_many_threads(void)
{
    static struct th t[MANY];
    struct many m;
    int round, i;
    for (round = 0; round < 2; round++) {
        memset(&m, 0, sizeof m);
        m.c = gort_chan_make(sizeof(int), 0);
        for (i = 0; i < MANY; i++)
            th_start(&t[i], many_thread, &m);   /* each has called in: MANY records live */
        for (i = 0; i < MANY; i++)
            CHECK_EQ(gort_chan_send(m.c, &i), 0);
        for (i = 0; i < MANY; i++)
            th_join(&t[i]);
        for (i = 0; i < MANY; i++)
            CHECK_EQ(m.got[i], 1);
        CHECK_EQ(gort_chan_free(m.c), 0);
    }
}

/* ------------------------------------------------------------ driver */

static void suite(void)
{
    reg_chan = gort_chan_make(sizeof(int), 0);
    test_mixed();
    test_rendezvous();
    test_thread_select();
    test_close_wakes_threads();
    test_go_from_thread();
    test_many_threads();
    CHECK_EQ(gort_chan_free(reg_chan), 0);
    reg_chan = NULL;
}

static void run_main(void *arg)
{
    (void)arg;
    CHECK_EQ(gort_in_goroutine(), 1);
    suite();
}

struct echo {
    gort_chan *c;
    gort_wg    wg;
};

static void echo(void *p)
{
    struct echo *e = (struct echo *)p;
    int v;
    while (gort_chan_recv(e->c, &v) == 1)
        CHECK_EQ(gort_chan_send(e->c, &v), 0);
    gort_wg_done(&e->wg);
}

int main(void)
{
    gort_opts o;
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;

    /* no runtime yet: gort_go says so */
    CHECK_EQ(gort_running(), 0);
    CHECK_EQ(gort_go(child_fn, NULL), -ESRCH);

    /* background mode: this thread is a plain thread */
    CHECK_EQ(gort_start(&o), 0);
    CHECK_EQ(gort_running(), 1);
    CHECK_EQ(gort_in_goroutine(), 0);
    CHECK_EQ(gort_go(NULL, NULL), -EINVAL);
    suite();
    CHECK_EQ(gort_stop(), 0);
    CHECK_EQ(gort_running(), 0);

    /* the same inside gort_run */
    CHECK_EQ(gort_run_opts(&o, run_main, NULL), 0);
    CHECK_EQ(gort_running(), 0);

    /* background mode once more, after a stop and a run, with defaults */
    memset(&o, 0, sizeof o);
    CHECK_EQ(gort_start(&o), 0);
    {
        struct echo e;
        int i, v;
        memset(&e, 0, sizeof e);
        e.c = gort_chan_make(sizeof(int), 0);
        gort_wg_add(&e.wg, 1);
        CHECK_EQ(gort_go(echo, &e), 0);
        for (i = 0; i < 100; i++) {
            v = i;
            CHECK_EQ(gort_chan_send(e.c, &v), 0);
            CHECK_EQ(gort_chan_recv(e.c, &v), 1);
            CHECK_EQ(v, i);
        }
        CHECK_EQ(gort_chan_close(e.c), 0);
        gort_wg_wait(&e.wg);
        CHECK_EQ(gort_chan_free(e.c), 0);
    }
    CHECK_EQ(gort_stop(), 0);
    return check_done();
}
