/* test_chan.c - channels.

   Ports the semantics (not the text) of Go's test/chan/fifo.go,
   nonblock.go, zerosize.go, sendstmt.go and test/closedchan.go, and checks
   what gort.h's API reference promises about channels:
     - make/len/cap, make_err on impossible sizes, zero-size elements with a
       NULL elem, the nil channel (try_* return -EAGAIN);
     - the exact return codes of send/recv/try_send/try_recv/close;
     - buffered FIFO order (also across wrap-around, and per producer with
       several producers), unbuffered rendezvous (a send completes only
       after a receiver took the value: checked in a way that fails on an
       implementation that buffers one value), and happens-before for plain
       data in both directions (TSan checks it);
     - close wakes every blocked receiver (0, elem zeroed) and every blocked
       sender (-EPIPE, the value stays with the caller: a closed buffered
       channel hands out exactly what was in it before), a closed buffered
       channel still hands out every value;
     - many producers and consumers racing a close: the received multiset
       equals the set of sends that returned 0, exactly;
     - element sizes from 1 byte to 4 KiB arrive intact;
     - the ring of a buffered channel (capacities 1 to 64) under three
       senders and three receivers that block, poll and select by turns.
   The suite runs three times, with maxprocs 1, 2 and 4 (so it also checks
   that gort_run can be called again after it returned). */
// gort-test: windows
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000LL

/* ------------------------------------------------------------ make, len, cap */

GORT_CHAN_TYPED(intchan, int);

static void test_make_len_cap(void)
{
    gort_chan *u = gort_chan_make(sizeof(int), 0);
    gort_chan *b = gort_chan_make(sizeof(int), 5);
    gort_chan *c;
    int v, err = 0;

    CHECK(u != NULL);
    CHECK(b != NULL);
    CHECK_EQ(gort_chan_cap(u), 0);
    CHECK_EQ(gort_chan_len(u), 0);
    CHECK_EQ(gort_chan_cap(b), 5);
    CHECK_EQ(gort_chan_len(b), 0);
    for (v = 1; v <= 3; v++)
        CHECK_EQ(gort_chan_send(b, &v), 0);
    CHECK_EQ(gort_chan_len(b), 3);
    CHECK_EQ(gort_chan_recv(b, &v), 1);
    CHECK_EQ(v, 1);
    CHECK_EQ(gort_chan_len(b), 2);
    CHECK_EQ(gort_chan_close(b), 0);
    CHECK_EQ(gort_chan_len(b), 2);   /* close keeps the buffer */
    CHECK_EQ(gort_chan_cap(b), 5);
    CHECK_EQ(gort_chan_recv(b, &v), 1);
    CHECK_EQ(v, 2);
    CHECK_EQ(gort_chan_recv(b, &v), 1);
    CHECK_EQ(v, 3);
    CHECK_EQ(gort_chan_len(b), 0);
    CHECK_EQ(gort_chan_free(b), 0);
    CHECK_EQ(gort_chan_free(u), 0);

    /* sizes that cannot be allocated fail cleanly */
    c = gort_chan_make_err(SIZE_MAX, 2, &err);
    CHECK(c == NULL);
    CHECK(err == -EINVAL || err == -ENOMEM);
    err = 0;
    c = gort_chan_make_err(sizeof(int), SIZE_MAX / 2, &err);
    CHECK(c == NULL);
    CHECK(err == -EINVAL || err == -ENOMEM);
    CHECK(gort_chan_make(SIZE_MAX / 4, SIZE_MAX / 4) == NULL);
    err = 1;
    c = gort_chan_make_err(8, 8, &err);
    CHECK(c != NULL);
    CHECK_EQ(gort_chan_cap(c), 8);
    CHECK_EQ(gort_chan_free(c), 0);

    /* zerosize.go: zero-size element types are fine, buffered or not */
    c = gort_chan_make(0, 0);
    CHECK(c != NULL);
    CHECK_EQ(gort_chan_free(c), 0);
    c = gort_chan_make(0, 1);
    CHECK(c != NULL);
    CHECK_EQ(gort_chan_free(c), 0);

    /* the typed wrapper and the direction handles */
    {
        intchan t = intchan_make(2);
        gort_chan_tx tx;
        gort_chan_rx rx;
        CHECK(t.c != NULL);
        CHECK_EQ(intchan_send(t, 7), 0);
        CHECK_EQ(intchan_try_send(t, 8), 0);
        CHECK_EQ(intchan_try_send(t, 9), -EAGAIN);
        CHECK_EQ(intchan_recv(t, &v), 1);
        CHECK_EQ(v, 7);
        CHECK_EQ(intchan_try_recv(t, &v), 1);
        CHECK_EQ(v, 8);
        CHECK_EQ(intchan_try_recv(t, &v), -EAGAIN);
        tx = gort_tx(t.c);
        rx = gort_rx(t.c);
        v = 11;
        CHECK_EQ(gort_tx_send(tx, &v), 0);
        v = 12;
        CHECK_EQ(gort_tx_try_send(tx, &v), 0);
        CHECK_EQ(gort_rx_recv(rx, &v), 1);
        CHECK_EQ(v, 11);
        CHECK_EQ(gort_rx_try_recv(rx, &v), 1);
        CHECK_EQ(v, 12);
        CHECK_EQ(gort_tx_close(tx), 0);
        CHECK_EQ(gort_tx_close(tx), -EPIPE);
        v = 5;
        CHECK_EQ(gort_rx_recv(rx, &v), 0);
        CHECK_EQ(v, 0);
        CHECK_EQ(intchan_close(t), -EPIPE);
        CHECK_EQ(intchan_free(t), 0);
    }
}

/* ------------------------------------------------------------ return codes */

static void test_codes(void)
{
    gort_chan *u = gort_chan_make(sizeof(int), 0);
    gort_chan *b = gort_chan_make(sizeof(int), 2);
    int v;

    /* unbuffered, nobody on the other side */
    v = 77;
    CHECK_EQ(gort_chan_try_send(u, &v), -EAGAIN);
    CHECK_EQ(gort_chan_try_recv(u, &v), -EAGAIN);
    CHECK_EQ(v, 77);                    /* a failed receive leaves elem alone */

    /* buffered: fills, then would block; drains, then would block */
    v = 1;
    CHECK_EQ(gort_chan_try_send(b, &v), 0);
    v = 2;
    CHECK_EQ(gort_chan_try_send(b, &v), 0);
    v = 3;
    CHECK_EQ(gort_chan_try_send(b, &v), -EAGAIN);
    CHECK_EQ(gort_chan_len(b), 2);
    CHECK_EQ(gort_chan_try_recv(b, &v), 1);
    CHECK_EQ(v, 1);
    CHECK_EQ(gort_chan_try_recv(b, &v), 1);
    CHECK_EQ(v, 2);
    v = 77;
    CHECK_EQ(gort_chan_try_recv(b, &v), -EAGAIN);
    CHECK_EQ(v, 77);

    /* closed with one value left: sends fail, the value still comes out,
       then receives report closed with elem zeroed */
    v = 5;
    CHECK_EQ(gort_chan_send(b, &v), 0);
    CHECK_EQ(gort_chan_close(b), 0);
    v = 6;
    CHECK_EQ(gort_chan_try_send(b, &v), -EPIPE);
    CHECK_EQ(gort_chan_send(b, &v), -EPIPE);
    CHECK_EQ(v, 6);
    CHECK_EQ(gort_chan_len(b), 1);
    CHECK_EQ(gort_chan_try_recv(b, &v), 1);
    CHECK_EQ(v, 5);
    v = 77;
    CHECK_EQ(gort_chan_try_recv(b, &v), 0);
    CHECK_EQ(v, 0);
    v = 77;
    CHECK_EQ(gort_chan_recv(b, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(gort_chan_close(b), -EPIPE);
    CHECK_EQ(gort_chan_close(b), -EPIPE);

    /* closed unbuffered */
    CHECK_EQ(gort_chan_close(u), 0);
    CHECK_EQ(gort_chan_try_send(u, &v), -EPIPE);
    CHECK_EQ(gort_chan_send(u, &v), -EPIPE);
    v = 77;
    CHECK_EQ(gort_chan_try_recv(u, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(gort_chan_close(u), -EPIPE);

    /* close(NULL); the nil channel is never ready */
    CHECK_EQ(gort_chan_close(NULL), -EINVAL);
    v = 77;
    CHECK_EQ(gort_chan_try_send(NULL, &v), -EAGAIN);
    CHECK_EQ(gort_chan_try_recv(NULL, &v), -EAGAIN);
    CHECK_EQ(v, 77);

    CHECK_EQ(gort_chan_free(u), 0);
    CHECK_EQ(gort_chan_free(b), 0);
}

/* ------------------------------------------------------------ fifo.go */

struct chain_link {
    gort_chan *ch, *in, *out;
    int        val;
};

static void fifo_chain(void *p)
{
    struct chain_link *l = (struct chain_link *)p;
    int v = -1;
    CHECK_EQ(gort_chan_recv(l->in, NULL), 1);    /* wait for my turn */
    CHECK_EQ(gort_chan_recv(l->ch, &v), 1);
    CHECK_EQ(v, l->val);
    CHECK_EQ(gort_chan_send(l->out, NULL), 0);   /* next one's turn */
}

struct fifo_prod {
    gort_chan *c;
    int        id, n;
    gort_wg   *wg;
};

static void fifo_producer(void *p)
{
    struct fifo_prod *f = (struct fifo_prod *)p;
    int i;
    for (i = 0; i < f->n; i++) {
        int v = f->id * f->n + i;
        CHECK_EQ(gort_chan_send(f->c, &v), 0);
    }
    gort_wg_done(f->wg);
}

static void test_fifo(void)
{
    enum { N = 10, NP = 4 };
    gort_chan *ch = gort_chan_make(sizeof(int), N);
    struct chain_link links[N];
    gort_chan *turns[N + 1];
    int i, v, round, next_send = 0, next_recv = 0;

    /* AsynchFifo: a buffered channel hands values out in order */
    for (i = 0; i < N; i++)
        CHECK_EQ(gort_chan_send(ch, &i), 0);
    for (i = 0; i < N; i++) {
        CHECK_EQ(gort_chan_recv(ch, &v), 1);
        CHECK_EQ(v, i);
    }
    CHECK_EQ(gort_chan_free(ch), 0);

    /* the same across the ring buffer's wrap-around: cap 7, fill k, drain k */
    ch = gort_chan_make(sizeof(int), 7);
    for (round = 0; round < 200; round++) {
        int k = (round * 5) % 8;   /* 0..7 */
        for (i = 0; i < k; i++) {
            v = next_send++;
            CHECK_EQ(gort_chan_send(ch, &v), 0);
        }
        CHECK_EQ(gort_chan_len(ch), k);
        for (i = 0; i < k; i++) {
            CHECK_EQ(gort_chan_recv(ch, &v), 1);
            CHECK_EQ(v, next_recv);
            next_recv++;
        }
    }
    CHECK_EQ(gort_chan_free(ch), 0);

    /* SynchFifo: a daisy chain of goroutines receives in sequence */
    ch = gort_chan_make(sizeof(int), 0);
    for (i = 0; i <= N; i++)
        turns[i] = gort_chan_make(0, 0);
    for (i = 0; i < N; i++) {
        links[i].ch = ch;
        links[i].in = turns[i];
        links[i].out = turns[i + 1];
        links[i].val = i;
        CHECK_EQ(gort_go(fifo_chain, &links[i]), 0);
    }
    CHECK_EQ(gort_chan_send(turns[0], NULL), 0);
    for (i = 0; i < N; i++)
        CHECK_EQ(gort_chan_send(ch, &i), 0);
    CHECK_EQ(gort_chan_recv(turns[N], NULL), 1);
    for (i = 0; i <= N; i++)
        CHECK_EQ(gort_chan_free(turns[i]), 0);
    CHECK_EQ(gort_chan_free(ch), 0);

    /* Several producers, one consumer, small buffer: each producer's
       values arrive in the order it sent them (a send completes before the
       producer's next one starts, and the buffer is FIFO). */
    {
        int n = (int)check_scale(20000);
        int last[NP];
        struct fifo_prod fp[NP];
        gort_wg wg = GORT_WG_INIT;
        ch = gort_chan_make(sizeof(int), 3);
        for (i = 0; i < NP; i++) {
            last[i] = -1;
            fp[i].c = ch;
            fp[i].id = i;
            fp[i].n = n;
            fp[i].wg = &wg;
            gort_wg_add(&wg, 1);
            CHECK_EQ(gort_go(fifo_producer, &fp[i]), 0);
        }
        for (i = 0; i < NP * n; i++) {
            int p;
            CHECK_EQ(gort_chan_recv(ch, &v), 1);
            p = v / n;
            if (p < 0 || p >= NP) {
                CHECK(p >= 0 && p < NP);
                continue;
            }
            if (v % n != last[p] + 1)
                CHECK_EQ(v % n, last[p] + 1);
            last[p] = v % n;
        }
        gort_wg_wait(&wg);
        CHECK_EQ(gort_chan_len(ch), 0);
        CHECK_EQ(gort_chan_free(ch), 0);
    }
}

/* ------------------------------------------------------------ nonblock.go */

struct nb {
    gort_chan    *c, *strobe;
    size_t        size;
    unsigned char seed;
};

static void fill(unsigned char *buf, size_t n, unsigned char seed)
{
    size_t i;
    for (i = 0; i < n; i++)
        buf[i] = (unsigned char)(seed + i * 31u);
}

static int filled(const unsigned char *buf, size_t n, unsigned char seed)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (buf[i] != (unsigned char)(seed + i * 31u))
            return 0;
    return 1;
}

static void nb_receiver(void *p)
{
    struct nb *a = (struct nb *)p;
    unsigned char buf[1024];
    CHECK_EQ(gort_chan_recv(a->c, buf), 1);
    CHECK(filled(buf, a->size, a->seed));
    CHECK_EQ(gort_chan_send(a->strobe, NULL), 0);
}

static void nb_sender(void *p)
{
    struct nb *a = (struct nb *)p;
    unsigned char buf[1024];
    fill(buf, a->size, a->seed);
    CHECK_EQ(gort_chan_send(a->c, buf), 0);
    CHECK_EQ(gort_chan_send(a->strobe, NULL), 0);
}

/* try_op until it stops saying -EAGAIN; a hang detector gives up after 20 s */
static int try_until(int (*op)(gort_chan *, void *), gort_chan *c, void *elem)
{
    int64_t end = gort_now() + 20000 * MS;
    int rc;
    while ((rc = op(c, elem)) == -EAGAIN && gort_now() < end)
        gort_sleep(MS / 20);
    return rc;
}

static int try_send_cast(gort_chan *c, void *e) { return gort_chan_try_send(c, e); }
static int try_recv_cast(gort_chan *c, void *e) { return gort_chan_try_recv(c, e); }

static void test_nonblock(void)
{
    static const size_t sizes[] = { 1, 4, 8, 32, 1000 };
    gort_chan *strobe = gort_chan_make(0, 0);
    unsigned char buf[1024];
    int buffer;
    size_t s;

    for (buffer = 0; buffer < 2; buffer++) {
        for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            struct nb a;
            a.c = gort_chan_make(sizes[s], (size_t)buffer);
            a.strobe = strobe;
            a.size = sizes[s];

            /* nothing there: a non-blocking receive does not block */
            CHECK_EQ(gort_chan_try_recv(a.c, buf), -EAGAIN);

            /* a waiting receiver makes a non-blocking send succeed */
            a.seed = (unsigned char)(10 + s);
            CHECK_EQ(gort_go(nb_receiver, &a), 0);
            fill(buf, a.size, a.seed);
            CHECK_EQ(try_until(try_send_cast, a.c, buf), 0);
            CHECK_EQ(gort_chan_recv(strobe, NULL), 1);

            /* a sender makes a non-blocking receive succeed; with a buffer
               the value is there as soon as the sender's send returned */
            a.seed = (unsigned char)(100 + s);
            CHECK_EQ(gort_go(nb_sender, &a), 0);
            memset(buf, 0, sizeof buf);
            if (buffer > 0) {
                CHECK_EQ(gort_chan_recv(strobe, NULL), 1);
                CHECK_EQ(gort_chan_try_recv(a.c, buf), 1);
            } else {
                CHECK_EQ(try_until(try_recv_cast, a.c, buf), 1);
                CHECK_EQ(gort_chan_recv(strobe, NULL), 1);
            }
            CHECK(filled(buf, a.size, a.seed));
            CHECK_EQ(gort_chan_free(a.c), 0);
        }
    }
    CHECK_EQ(gort_chan_free(strobe), 0);
}

/* ------------------------------------------------------------ closedchan.go */

/* Every operation three ways, as closedchan.go does: the direct call, a
   one-case select, and a select with an extra never-ready case. */
enum { MODE_DIRECT, MODE_SELECT, MODE_SELECT2, NMODES };
static gort_chan *g_never;   /* unbuffered, nobody ever uses it */

static int m_send(int mode, gort_chan *c, int v, int block)
{
    gort_case cs[2];
    int n = 0, idx, r, d = 1234;
    if (mode == MODE_DIRECT)
        return block ? gort_chan_send(c, &v) : gort_chan_try_send(c, &v);
    idx = n;
    cs[n].chan = c; cs[n].op = GORT_SEND; cs[n].elem = &v; cs[n].ok = -1; n++;
    if (mode == MODE_SELECT2) {
        cs[n].chan = g_never; cs[n].op = GORT_RECV; cs[n].elem = &d; cs[n].ok = -1; n++;
    }
    r = gort_select(cs, n, block ? -1 : 0);
    CHECK_EQ(d, 1234);
    if (r == -EAGAIN && !block)
        return -EAGAIN;
    CHECK_EQ(r, idx);
    if (r != idx)
        return -EINVAL;
    CHECK(cs[idx].ok == 0 || cs[idx].ok == 1);
    return cs[idx].ok == 1 ? 0 : -EPIPE;
}

static int m_recv(int mode, gort_chan *c, int *v, int block)
{
    gort_case cs[2];
    int n = 0, idx, r, d = 1234;
    if (mode == MODE_DIRECT)
        return block ? gort_chan_recv(c, v) : gort_chan_try_recv(c, v);
    if (mode == MODE_SELECT2) {
        cs[n].chan = g_never; cs[n].op = GORT_SEND; cs[n].elem = &d; cs[n].ok = -1; n++;
    }
    idx = n;
    cs[n].chan = c; cs[n].op = GORT_RECV; cs[n].elem = v; cs[n].ok = -1; n++;
    r = gort_select(cs, n, block ? -1 : 0);
    if (r == -EAGAIN && !block)
        return -EAGAIN;
    CHECK_EQ(r, idx);
    if (r != idx)
        return -EINVAL;
    CHECK(cs[idx].ok == 0 || cs[idx].ok == 1);
    return cs[idx].ok;
}

/* a closed channel, many times over: receives say closed with a zero
   value, sends fail and leave nothing behind */
static void closed_test1(int mode, gort_chan *c)
{
    int i, v;
    for (i = 0; i < 3; i++) {
        v = 99;
        CHECK_EQ(m_recv(mode, c, &v, 1), 0);
        CHECK_EQ(v, 0);
        v = 99;
        CHECK_EQ(m_recv(mode, c, &v, 0), 0);
        CHECK_EQ(v, 0);
    }
    CHECK_EQ(m_send(mode, c, 1, 0), -EPIPE);
    v = 99;
    CHECK_EQ(m_recv(mode, c, &v, 1), 0);   /* the failed send left nothing */
    CHECK_EQ(v, 0);
    CHECK_EQ(m_send(mode, c, 2, 1), -EPIPE);
    v = 99;
    CHECK_EQ(m_recv(mode, c, &v, 1), 0);
    CHECK_EQ(v, 0);
}

static void test_closedchan(void)
{
    int mode, how, v;
    g_never = gort_chan_make(sizeof(int), 0);
    for (mode = 0; mode < NMODES; mode++) {
        gort_chan *c = gort_chan_make(sizeof(int), 0);
        CHECK_EQ(gort_chan_close(c), 0);
        closed_test1(mode, c);
        CHECK_EQ(gort_chan_free(c), 0);
    }
    /* closed buffered channel with one value: the value comes out first,
       by a blocking or a non-blocking receive */
    for (how = 0; how < 2; how++) {
        for (mode = 0; mode < NMODES; mode++) {
            gort_chan *c = gort_chan_make(sizeof(int), 2);
            CHECK_EQ(m_send(mode, c, 1, how), 0);
            CHECK_EQ(gort_chan_close(c), 0);
            v = 0;
            CHECK_EQ(m_recv(mode, c, &v, how), 1);
            CHECK_EQ(v, 1);
            closed_test1(mode, c);
            CHECK_EQ(gort_chan_free(c), 0);
        }
    }
    /* close of the nil channel and of a closed channel fail */
    CHECK_EQ(gort_chan_close(NULL), -EINVAL);
    {
        gort_chan *c = gort_chan_make(sizeof(int), 0);
        CHECK_EQ(gort_chan_close(c), 0);
        CHECK_EQ(gort_chan_close(c), -EPIPE);
        CHECK_EQ(gort_chan_free(c), 0);
    }
    CHECK_EQ(gort_chan_free(g_never), 0);
    g_never = NULL;
}

/* ------------------------------------------------------------ zero-size */

struct zs {
    gort_chan *c;
    int        n;
    gort_wg   *wg;
};

static void zs_sender(void *p)
{
    struct zs *z = (struct zs *)p;
    int i;
    for (i = 0; i < z->n; i++)
        CHECK_EQ(gort_chan_send(z->c, NULL), 0);
    CHECK_EQ(gort_chan_close(z->c), 0);
    gort_wg_done(z->wg);
}

static void test_zerosize(void)
{
    gort_wg wg = GORT_WG_INIT;
    struct zs z;
    int got = 0, rc, i;
    gort_chan *b = gort_chan_make(0, 3);

    /* buffered, zero-size elements: the buffer counts them */
    for (i = 0; i < 3; i++)
        CHECK_EQ(gort_chan_send(b, NULL), 0);
    CHECK_EQ(gort_chan_len(b), 3);
    CHECK_EQ(gort_chan_try_send(b, NULL), -EAGAIN);
    for (i = 0; i < 3; i++)
        CHECK_EQ(gort_chan_recv(b, NULL), 1);
    CHECK_EQ(gort_chan_try_recv(b, NULL), -EAGAIN);
    CHECK_EQ(gort_chan_try_send(b, NULL), 0);
    CHECK_EQ(gort_chan_close(b), 0);
    CHECK_EQ(gort_chan_try_send(b, NULL), -EPIPE);
    CHECK_EQ(gort_chan_recv(b, NULL), 1);
    CHECK_EQ(gort_chan_recv(b, NULL), 0);
    CHECK_EQ(gort_chan_free(b), 0);

    /* unbuffered, zero-size: pure synchronisation between goroutines */
    z.c = gort_chan_make(0, 0);
    z.n = (int)check_scale(5000);
    z.wg = &wg;
    gort_wg_add(&wg, 1);
    CHECK_EQ(gort_go(zs_sender, &z), 0);
    while ((rc = gort_chan_recv(z.c, NULL)) == 1)
        got++;
    CHECK_EQ(rc, 0);
    CHECK_EQ(got, z.n);
    gort_wg_wait(&wg);
    CHECK_EQ(gort_chan_free(z.c), 0);
}

/* ------------------------------------------------------------ rendezvous */

/* An unbuffered send completes only after a receiver took the value, and
   the receive happens-before the send completes. The receiver writes
   ack[i] (plain memory) just before it starts receiving value i; the
   sender reads ack[i] (plain) right after send i returned and must see it.
   An implementation that let a send complete early (a hidden one-slot
   buffer) fails both the `sent <= i` check and the ack check, and TSan
   reports the race. The other direction is the classic one: payload[i] is
   written before send i and read after receive i. */
struct rdv {
    gort_chan *c;
    int        n, mode;
    int        sent;      /* atomic: sends completed */
    int       *ack;       /* plain: written by the receiver */
    int       *payload;   /* plain: written by the sender */
    int        reported;  /* atomic: failures printed (capped, no floods) */
    gort_wg    wg;
};

/* CHECK, but only the first few failures of one run are printed */
#define RDV_CHECK(r, cond)                                   \
    do {                                                     \
        if (!(cond) && ADD(&(r)->reported, 1) <= 3)          \
            CHECK(cond);                                     \
    } while (0)

static int rdv_send(struct rdv *r, int v)
{
    if (r->mode == 0)
        return gort_chan_send(r->c, &v);
    {
        gort_case cs[2];
        int rc;
        cs[0].chan = NULL; cs[0].op = GORT_RECV; cs[0].elem = NULL; cs[0].ok = -1;
        cs[1].chan = r->c; cs[1].op = GORT_SEND; cs[1].elem = &v; cs[1].ok = -1;
        rc = gort_select(cs, 2, -1);
        CHECK_EQ(rc, 1);
        return cs[1].ok == 1 ? 0 : -EPIPE;
    }
}

static int rdv_recv(struct rdv *r, int *v)
{
    if (r->mode == 0)
        return gort_chan_recv(r->c, v);
    {
        gort_case cs[2];
        int rc;
        cs[0].chan = r->c; cs[0].op = GORT_RECV; cs[0].elem = v; cs[0].ok = -1;
        cs[1].chan = NULL; cs[1].op = GORT_SEND; cs[1].elem = NULL; cs[1].ok = -1;
        rc = gort_select(cs, 2, -1);
        CHECK_EQ(rc, 0);
        return cs[0].ok;
    }
}

static void rdv_sender(void *p)
{
    struct rdv *r = (struct rdv *)p;
    int i;
    for (i = 0; i < r->n; i++) {
        r->payload[i] = i * 3 + 1;
        CHECK_EQ(rdv_send(r, i), 0);
        RDV_CHECK(r, r->ack[i] == i * 7 + 2);   /* plain read: receive happened-before */
        STORE(&r->sent, i + 1);
    }
    gort_wg_done(&r->wg);
}

static void rdv_receiver(void *p)
{
    struct rdv *r = (struct rdv *)p;
    int i, v, s;
    for (i = 0; i < r->n; i++) {
        /* give a broken sender every chance to run ahead */
        if ((i & 3) == 0)
            gort_yield();
        s = LOAD(&r->sent);
        RDV_CHECK(r, s <= i);       /* send i completed before receive i began */
        r->ack[i] = i * 7 + 2;
        v = -1;
        CHECK_EQ(rdv_recv(r, &v), 1);
        RDV_CHECK(r, v == i);
        RDV_CHECK(r, r->payload[i] == i * 3 + 1);   /* plain read: send happened-before */
        s = LOAD(&r->sent);
        RDV_CHECK(r, s <= i + 1);
    }
    gort_wg_done(&r->wg);
}

static void test_rendezvous(void)
{
    int mode;
    for (mode = 0; mode < 4; mode++) {
        struct rdv r;
        memset(&r, 0, sizeof r);
        r.c = gort_chan_make(sizeof(int), 0);
        r.n = (int)check_scale(20000);
        r.mode = mode & 1;           /* plain calls or select */
        r.ack = (int *)calloc((size_t)r.n, sizeof(int));
        r.payload = (int *)calloc((size_t)r.n, sizeof(int));
        gort_wg_add(&r.wg, 2);
        if (mode & 2) {              /* the receiver first, or the sender */
            CHECK_EQ(gort_go(rdv_receiver, &r), 0);
            CHECK_EQ(gort_go(rdv_sender, &r), 0);
        } else {
            CHECK_EQ(gort_go(rdv_sender, &r), 0);
            CHECK_EQ(gort_go(rdv_receiver, &r), 0);
        }
        gort_wg_wait(&r.wg);
        CHECK_EQ(r.sent, r.n);
        CHECK_EQ(gort_chan_free(r.c), 0);
        free(r.ack);
        free(r.payload);
    }
}

/* A buffered channel of capacity 1 used as a mutex (send to lock, receive
   to unlock) protects plain data: the k-th receive happens-before the
   (k+cap)-th send completes. With capacity 3 it is a counting semaphore. */
struct sem {
    gort_chan *c;
    int        iters, cap;
    long       counter;   /* plain, guarded by the channel when cap == 1 */
    int        inside;    /* atomic */
    int        max_inside;/* atomic */
    gort_wg    wg;
};

static void sem_worker(void *p)
{
    struct sem *s = (struct sem *)p;
    int i, in, m;
    for (i = 0; i < s->iters; i++) {
        CHECK_EQ(gort_chan_send(s->c, NULL), 0);
        in = ADD(&s->inside, 1);
        m = LOAD(&s->max_inside);
        while (in > m && !__atomic_compare_exchange_n(&s->max_inside, &m, in, 0,
                                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            ;
        if (s->cap == 1)
            s->counter++;
        if ((i & 15) == 0)
            gort_yield();
        ADD(&s->inside, -1);
        CHECK_EQ(gort_chan_recv(s->c, NULL), 1);
    }
    gort_wg_done(&s->wg);
}

static void test_semaphore(void)
{
    int cap, i;
    for (cap = 1; cap <= 3; cap += 2) {
        struct sem s;
        memset(&s, 0, sizeof s);
        s.c = gort_chan_make(0, (size_t)cap);
        s.cap = cap;
        s.iters = (int)check_scale(5000);
        gort_wg_add(&s.wg, 8);
        for (i = 0; i < 8; i++)
            CHECK_EQ(gort_go(sem_worker, &s), 0);
        gort_wg_wait(&s.wg);
        CHECK(s.max_inside >= 1 && s.max_inside <= cap);
        if (cap == 1)
            CHECK_EQ(s.counter, 8L * s.iters);
        CHECK_EQ(gort_chan_len(s.c), 0);
        CHECK_EQ(gort_chan_free(s.c), 0);
    }
}

/* ------------------------------------------------------------ close wakes */

/* Enough waiters that a close readies most in chains through the global
   queue (past gort's first 64, in chains of 256), not one at a time. */
#define NCW 1000

struct big { uint64_t a, b; };

struct cw {
    gort_chan  *c;
    int         arrived;   /* atomic */
    int         use_select;
    int         data;      /* plain: written before close */
    gort_wg     wg;
    int         rc[NCW];
    struct big  got[NCW];
    int         idx;       /* atomic: hands out slots */
};

static void cw_receiver(void *p)
{
    struct cw *w = (struct cw *)p;
    int me = ADD(&w->idx, 1) - 1;
    struct big e;
    e.a = 0xaaaaaaaaaaaaaaaaULL;
    e.b = 0x5555555555555555ULL;
    ADD(&w->arrived, 1);
    if (w->use_select && (me & 1)) {
        gort_case cs[2];
        int r;
        cs[0].chan = NULL; cs[0].op = GORT_RECV; cs[0].elem = NULL; cs[0].ok = -1;
        cs[1].chan = w->c; cs[1].op = GORT_RECV; cs[1].elem = &e; cs[1].ok = -1;
        r = gort_select(cs, 2, -1);
        CHECK_EQ(r, 1);
        w->rc[me] = cs[1].ok;
    } else {
        w->rc[me] = gort_chan_recv(w->c, &e);
    }
    w->got[me] = e;
    if (w->rc[me] == 0)
        CHECK_EQ(w->data, 42);   /* close happens-before the receive that saw it */
    gort_wg_done(&w->wg);
}

static void test_close_wakes_receivers(void)
{
    int cap, i;
    for (cap = 0; cap <= 4; cap += 4) {
        struct cw *w = (struct cw *)calloc(1, sizeof *w);
        w->c = gort_chan_make(sizeof(struct big), (size_t)cap);
        w->use_select = cap > 0;
        gort_wg_add(&w->wg, NCW);
        for (i = 0; i < NCW; i++)
            CHECK_EQ(gort_go(cw_receiver, w), 0);
        CHECK(wait_for(&w->arrived, NCW));
        gort_sleep(5 * MS);      /* most of them are parked by now */
        w->data = 42;
        CHECK_EQ(gort_chan_close(w->c), 0);
        gort_wg_wait(&w->wg);
        for (i = 0; i < NCW; i++) {
            CHECK_EQ(w->rc[i], 0);
            CHECK(w->got[i].a == 0 && w->got[i].b == 0);
        }
        CHECK_EQ(gort_chan_free(w->c), 0);
        free(w);
    }
}

struct sw {
    gort_chan *c;
    int        arrived;
    gort_wg    wg;
    int        rc[NCW];
    int        idx;
};

static void sw_sender(void *p)
{
    struct sw *w = (struct sw *)p;
    int me = ADD(&w->idx, 1) - 1;
    int v = 100 + me;
    ADD(&w->arrived, 1);
    if (me & 1) {
        gort_case cs[2];
        int r;
        cs[0].chan = w->c; cs[0].op = GORT_SEND; cs[0].elem = &v; cs[0].ok = -1;
        cs[1].chan = NULL; cs[1].op = GORT_SEND; cs[1].elem = &v; cs[1].ok = -1;
        r = gort_select(cs, 2, -1);
        CHECK_EQ(r, 0);
        w->rc[me] = cs[0].ok == 1 ? 0 : -EPIPE;
    } else {
        w->rc[me] = gort_chan_send(w->c, &v);
    }
    CHECK_EQ(v, 100 + me);   /* the value is still the caller's */
    gort_wg_done(&w->wg);
}

static void test_close_wakes_senders(void)
{
    int cap, i, v;
    for (cap = 0; cap <= 2; cap += 2) {
        struct sw *w = (struct sw *)calloc(1, sizeof *w);
        w->c = gort_chan_make(sizeof(int), (size_t)cap);
        for (i = 1; i <= cap; i++)
            CHECK_EQ(gort_chan_send(w->c, &i), 0);   /* full */
        gort_wg_add(&w->wg, NCW);
        for (i = 0; i < NCW; i++)
            CHECK_EQ(gort_go(sw_sender, w), 0);
        CHECK(wait_for(&w->arrived, NCW));
        gort_sleep(5 * MS);
        CHECK_EQ(gort_chan_close(w->c), 0);
        gort_wg_wait(&w->wg);
        for (i = 0; i < NCW; i++)
            CHECK_EQ(w->rc[i], -EPIPE);
        /* exactly what was buffered before the close, then closed */
        for (i = 1; i <= cap; i++) {
            v = 0;
            CHECK_EQ(gort_chan_recv(w->c, &v), 1);
            CHECK_EQ(v, i);
        }
        v = 9;
        CHECK_EQ(gort_chan_recv(w->c, &v), 0);
        CHECK_EQ(v, 0);
        CHECK_EQ(gort_chan_free(w->c), 0);
        free(w);
    }
}

/* A closed buffered channel hands out every value, to several receivers */
struct drain {
    gort_chan *c;
    int        total;   /* atomic */
    long       sum;     /* atomic */
    gort_wg    wg;
};

static void drainer(void *p)
{
    struct drain *d = (struct drain *)p;
    int v, rc;
    while ((rc = gort_chan_recv(d->c, &v)) == 1) {
        ADD(&d->total, 1);
        ADD(&d->sum, (long)v);
    }
    CHECK_EQ(rc, 0);
    gort_wg_done(&d->wg);
}

static void test_closed_drain(void)
{
    enum { N = 1000 };
    struct drain d;
    int i;
    memset(&d, 0, sizeof d);
    d.c = gort_chan_make(sizeof(int), N);
    for (i = 0; i < N; i++)
        CHECK_EQ(gort_chan_send(d.c, &i), 0);
    CHECK_EQ(gort_chan_close(d.c), 0);
    CHECK_EQ(gort_chan_len(d.c), N);
    gort_wg_add(&d.wg, 4);
    for (i = 0; i < 4; i++)
        CHECK_EQ(gort_go(drainer, &d), 0);
    gort_wg_wait(&d.wg);
    CHECK_EQ(d.total, N);
    CHECK_EQ(d.sum, (long)N * (N - 1) / 2);
    CHECK_EQ(gort_chan_free(d.c), 0);
}

/* ------------------------------------------------------------ sendstmt.go */

static void test_chanchan(void)
{
    gort_chan *cc = gort_chan_make(sizeof(gort_chan *), 1);
    gort_chan *c = gort_chan_make(sizeof(int), 1);
    gort_chan *got = NULL;
    gort_case cs[1];
    int two = 2, v = 0;
    CHECK_EQ(gort_chan_send(cc, &c), 0);
    CHECK_EQ(gort_chan_recv(cc, &got), 1);
    CHECK(got == c);
    cs[0].chan = got; cs[0].op = GORT_SEND; cs[0].elem = &two; cs[0].ok = -1;
    CHECK_EQ(gort_select(cs, 1, 0), 0);
    CHECK_EQ(cs[0].ok, 1);
    CHECK_EQ(gort_chan_recv(c, &v), 1);
    CHECK_EQ(v, 2);
    CHECK_EQ(gort_chan_free(c), 0);
    CHECK_EQ(gort_chan_free(cc), 0);
}

/* ------------------------------------------------------------ element sizes */

struct sz {
    gort_chan *c;
    size_t     size;
    int        n;
    gort_wg   *wg;
};

static void sz_sender(void *p)
{
    struct sz *z = (struct sz *)p;
    unsigned char *buf = (unsigned char *)malloc(z->size);
    int i;
    for (i = 0; i < z->n; i++) {
        fill(buf, z->size, (unsigned char)i);
        CHECK_EQ(gort_chan_send(z->c, buf), 0);
    }
    free(buf);
    CHECK_EQ(gort_chan_close(z->c), 0);
    gort_wg_done(z->wg);
}

static void test_sizes(void)
{
    static const size_t sizes[] = { 1, 2, 3, 7, 8, 16, 24, 100, 1000, 4104 };
    size_t s;
    int cap;
    for (cap = 0; cap <= 3; cap += 3) {
        for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            gort_wg wg = GORT_WG_INIT;
            struct sz z;
            unsigned char *buf = (unsigned char *)malloc(sizes[s] + 16);
            int i = 0, rc;
            z.c = gort_chan_make(sizes[s], (size_t)cap);
            z.size = sizes[s];
            z.n = 200;
            z.wg = &wg;
            gort_wg_add(&wg, 1);
            CHECK_EQ(gort_go(sz_sender, &z), 0);
            memset(buf + sizes[s], 0xee, 16);    /* must not be overwritten */
            while ((rc = gort_chan_recv(z.c, buf)) == 1) {
                if (!filled(buf, z.size, (unsigned char)i))
                    CHECK(filled(buf, z.size, (unsigned char)i));
                i++;
            }
            CHECK_EQ(rc, 0);
            CHECK_EQ(i, z.n);
            for (i = 0; i < 16; i++)
                CHECK_EQ(buf[sizes[s] + (size_t)i], 0xee);
            gort_wg_wait(&wg);
            CHECK_EQ(gort_chan_free(z.c), 0);
            free(buf);
        }
    }
}

/* ------------------------------------------------------------ MPMC vs close */

/* P producers send unique values (id * M + i) until a send fails; C
   consumers receive until the channel is closed and drained, marking each
   value seen; a closer closes the channel at a random point while they
   race. A send that returned 0 must be received exactly once; a send that
   returned -EPIPE must never be received. Producers stop at their first
   -EPIPE, so producer p's delivered set is exactly {p*M + i : i < sent[p]}. */
enum { MP_P = 4, MP_C = 4 };

struct mp {
    gort_chan     *c;
    long           M;
    unsigned char *seen;      /* atomic per byte */
    long           sent[MP_P];/* plain, read after the WaitGroup */
    long           total;     /* atomic: values received */
    long           threshold;
    int            use_select;
    int            producers_done; /* atomic */
    gort_wg        wg;
    int            next_id;   /* atomic */
};

static void mp_producer(void *p)
{
    struct mp *m = (struct mp *)p;
    int id = ADD(&m->next_id, 1) - 1;
    long i, n = 0;
    for (i = 0; i < m->M; i++) {
        long v = id * m->M + i;
        int rc;
        if (m->use_select && (i & 1)) {
            gort_case cs[2];
            long junk = -1;
            cs[0].chan = NULL; cs[0].op = GORT_RECV; cs[0].elem = &junk; cs[0].ok = -1;
            cs[1].chan = m->c; cs[1].op = GORT_SEND; cs[1].elem = &v; cs[1].ok = -1;
            rc = gort_select(cs, 2, -1);
            CHECK_EQ(rc, 1);
            rc = cs[1].ok == 1 ? 0 : -EPIPE;
        } else {
            rc = gort_chan_send(m->c, &v);
        }
        if (rc != 0) {
            CHECK_EQ(rc, -EPIPE);
            break;
        }
        n++;
    }
    m->sent[id] = n;
    ADD(&m->producers_done, 1);
    gort_wg_done(&m->wg);
}

static void mp_consumer(void *p)
{
    struct mp *m = (struct mp *)p;
    long v;
    int rc, k = 0;
    for (;;) {
        v = -1;
        if (m->use_select && (k++ & 1)) {
            gort_case cs[2];
            cs[0].chan = m->c; cs[0].op = GORT_RECV; cs[0].elem = &v; cs[0].ok = -1;
            cs[1].chan = NULL; cs[1].op = GORT_SEND; cs[1].elem = &v; cs[1].ok = -1;
            rc = gort_select(cs, 2, -1);
            CHECK_EQ(rc, 0);
            rc = cs[0].ok;
        } else {
            rc = gort_chan_recv(m->c, &v);
        }
        if (rc != 1) {
            CHECK_EQ(rc, 0);
            CHECK_EQ(v, 0);
            break;
        }
        if (v < 0 || v >= MP_P * m->M) {
            CHECK(v >= 0 && v < MP_P * m->M);
            continue;
        }
        if (__atomic_fetch_add(&m->seen[v], 1, __ATOMIC_RELAXED) != 0)
            CHECK(!"a value was received twice");
        ADD(&m->total, 1);
    }
    gort_wg_done(&m->wg);
}

static void mp_closer(void *p)
{
    struct mp *m = (struct mp *)p;
    while (LOAD(&m->total) < m->threshold && LOAD(&m->producers_done) < MP_P)
        gort_yield();
    CHECK_EQ(gort_chan_close(m->c), 0);
    gort_wg_done(&m->wg);
}

static void test_mpmc_close(void)
{
    int rounds = (int)check_scale(8), r, i;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (r = 0; r < rounds * 2; r++) {
        struct mp *m = (struct mp *)calloc(1, sizeof *m);
        long p, k, total = 0;
        int cap = (r & 1) ? 16 : 0;
        m->M = check_scale(10000);
        m->c = gort_chan_make(sizeof(long), (size_t)cap);
        m->seen = (unsigned char *)calloc((size_t)(MP_P * m->M), 1);
        m->use_select = (r / 2) & 1;
        m->threshold = (long)(rng_next(&seed) % (uint64_t)(MP_P * m->M / 2));
        gort_wg_add(&m->wg, MP_P + MP_C + 1);
        for (i = 0; i < MP_C; i++)
            CHECK_EQ(gort_go(mp_consumer, m), 0);
        for (i = 0; i < MP_P; i++)
            CHECK_EQ(gort_go(mp_producer, m), 0);
        CHECK_EQ(gort_go(mp_closer, m), 0);
        gort_wg_wait(&m->wg);
        for (p = 0; p < MP_P; p++) {
            for (k = 0; k < m->M; k++) {
                int want = k < m->sent[p];
                if (m->seen[p * m->M + k] != want) {
                    CHECK_EQ(m->seen[p * m->M + k], want);
                    break;
                }
            }
            total += m->sent[p];
        }
        CHECK_EQ(m->total, total);
        CHECK_EQ(gort_chan_len(m->c), 0);
        CHECK_EQ(gort_chan_free(m->c), 0);
        free(m->seen);
        free(m);
    }
}

/* ------------------------------------------------------------ the ring */

/* A buffered channel's ring under churn (>>chan): small capacities, so
   that senders and receivers park and are settled all the time, three of
   each taking the ways in one after another (a blocking call, a try in a
   loop with yields, a select beside a channel nobody uses), and a
   24-byte value that is checked whole. Each receiver must see each
   sender's values in order, and every value must arrive exactly once;
   the close comes once every value is in the ring or received, so the
   receivers drain it across the close. */
enum { RS_P = 3, RS_C = 3 };
struct rs_val { long p, k, check; };
struct rs {
    gort_chan *c, *idle;
    long       n;                 /* values per sender */
    long       got[RS_P];         /* atomic: received per sender */
    unsigned char *seen;          /* [RS_P * n] */
    gort_wg    wg;
};

static void rs_send(void *arg)
{
    struct rs *r = (struct rs *)arg;
    static long next_id;
    long id = ADD(&next_id, 1) % RS_P, k;
    for (k = 0; k < r->n; k++) {
        struct rs_val v;
        int rc;
        v.p = id; v.k = k; v.check = id * 1000003 + k;
        switch (k % 3) {
        case 0:
            rc = gort_chan_send(r->c, &v);
            break;
        case 1:
            while ((rc = gort_chan_try_send(r->c, &v)) == -EAGAIN) gort_yield();
            break;
        default: {
            gort_case cs[2];
            struct rs_val dummy;
            memset(cs, 0, sizeof cs);
            cs[0].chan = r->idle; cs[0].op = GORT_RECV; cs[0].elem = &dummy;
            cs[1].chan = r->c; cs[1].op = GORT_SEND; cs[1].elem = &v;
            rc = gort_select(cs, 2, -1);
            CHECK_EQ(rc, 1);
            rc = cs[1].ok == 1 ? 0 : -1;
        }
        }
        CHECK_EQ(rc, 0);
    }
    gort_wg_done(&r->wg);
}

static void rs_recv(void *arg)
{
    struct rs *r = (struct rs *)arg;
    long last[RS_P], i = 0;
    int p;
    for (p = 0; p < RS_P; p++) last[p] = -1;
    for (;; i++) {
        struct rs_val v;
        int rc;
        memset(&v, 0xee, sizeof v);
        switch (i % 3) {
        case 0:
            rc = gort_chan_recv(r->c, &v);
            break;
        case 1:
            while ((rc = gort_chan_try_recv(r->c, &v)) == -EAGAIN) gort_yield();
            break;
        default: {
            gort_case cs[2];
            struct rs_val dummy;
            memset(cs, 0, sizeof cs);
            cs[0].chan = r->idle; cs[0].op = GORT_RECV; cs[0].elem = &dummy;
            cs[1].chan = r->c; cs[1].op = GORT_RECV; cs[1].elem = &v;
            rc = gort_select(cs, 2, -1);
            CHECK_EQ(rc, 1);
            rc = cs[1].ok;
        }
        }
        if (rc == 0) {   /* closed and drained: the zero value */
            CHECK_EQ(v.p, 0);
            CHECK_EQ(v.k, 0);
            break;
        }
        CHECK_EQ(rc, 1);
        if (v.p < 0 || v.p >= RS_P || v.k < 0 || v.k >= r->n || v.check != v.p * 1000003 + v.k) {
            CHECK(!"a value arrived torn or out of range");
            continue;
        }
        CHECK(v.k > last[v.p]);   /* one sender's values in order */
        last[v.p] = v.k;
        if (__atomic_fetch_add(&r->seen[v.p * r->n + v.k], 1, __ATOMIC_RELAXED) != 0)
            CHECK(!"a value was received twice");
        ADD(&r->got[v.p], 1);
    }
    gort_wg_done(&r->wg);
}

/* Each of the four public calls, on its first try (no lock), must wake a
   goroutine parked on the other side: a send into an empty ring whose
   receiver sleeps, a receive from a full ring whose sender sleeps. One
   that left it asleep ends here in a deadlock report, since main then
   waits for the sleeper's answer. (The stress test above cannot tell:
   later sends that find the ring full settle it.) */
struct rw {
    gort_chan *c, *ack;
    long       v;      /* what rw_send sends */
};

static void rw_recv(void *arg)
{
    struct rw *w = (struct rw *)arg;
    long v = 0;
    CHECK_EQ(gort_chan_recv(w->c, &v), 1);
    CHECK_EQ(gort_chan_send(w->ack, &v), 0);
}

static void rw_send(void *arg)
{
    struct rw *w = (struct rw *)arg;
    long v = w->v;
    CHECK_EQ(gort_chan_send(w->c, &v), 0);
    CHECK_EQ(gort_chan_send(w->ack, &v), 0);
}

static void test_ring_wakes(void)
{
    static const size_t caps[] = { 1, 4 };
    size_t ci;
    int mode;
    for (ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
        for (mode = 0; mode < 2; mode++) {
            struct rw w;
            long v = 0, k;
            memset(&w, 0, sizeof w);
            w.c = gort_chan_make(sizeof(long), caps[ci]);
            w.ack = gort_chan_make(sizeof(long), 0);
            CHECK(w.c && w.ack);
            /* a receiver asleep on the empty ring (most likely by the
               time the sleep ends; if not, it finds the value) */
            CHECK_EQ(gort_go(rw_recv, &w), 0);
            gort_sleep(2 * MS);
            v = 41;
            CHECK_EQ(mode ? gort_chan_try_send(w.c, &v) : gort_chan_send(w.c, &v), 0);
            v = 0;
            CHECK_EQ(gort_chan_recv(w.ack, &v), 1);
            CHECK_EQ(v, 41);
            /* a sender asleep on the full ring */
            for (k = 0; k < (long)caps[ci]; k++)
                CHECK_EQ(gort_chan_send(w.c, &k), 0);
            w.v = 1000;
            CHECK_EQ(gort_go(rw_send, &w), 0);
            gort_sleep(2 * MS);
            v = -1;
            CHECK_EQ(mode ? gort_chan_try_recv(w.c, &v) : gort_chan_recv(w.c, &v), 1);
            CHECK_EQ(v, 0);
            CHECK_EQ(gort_chan_recv(w.ack, &v), 1);
            CHECK_EQ(v, 1000);
            /* what is left comes in order, the sleeper's value last */
            for (k = 1; k <= (long)caps[ci]; k++) {
                CHECK_EQ(gort_chan_try_recv(w.c, &v), 1);
                CHECK_EQ(v, k < (long)caps[ci] ? k : 1000);
            }
            CHECK_EQ(gort_chan_try_recv(w.c, &v), -EAGAIN);
            CHECK_EQ(gort_chan_free(w.c), 0);
            CHECK_EQ(gort_chan_free(w.ack), 0);
        }
    }
}

static void test_ring_stress(void)
{
    static const size_t caps[] = { 1, 2, 3, 5, 64 };
    size_t ci;
    for (ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
        struct rs *r = (struct rs *)calloc(1, sizeof *r);
        long p, k, held;
        int i;
        r->n = check_scale(20000);
        r->c = gort_chan_make(sizeof(struct rs_val), caps[ci]);
        r->idle = gort_chan_make(sizeof(struct rs_val), 1);
        r->seen = (unsigned char *)calloc((size_t)(RS_P * r->n), 1);
        CHECK(r->c && r->idle && r->seen);
        /* first the senders alone, until they park on a full ring */
        gort_wg_add(&r->wg, RS_P);
        for (i = 0; i < RS_P; i++) CHECK_EQ(gort_go(rs_send, r), 0);
        while (gort_chan_len(r->c) < caps[ci]) gort_yield();
        CHECK_EQ(gort_chan_len(r->c), caps[ci]);
        gort_wg_add(&r->wg, RS_C);
        for (i = 0; i < RS_C; i++) CHECK_EQ(gort_go(rs_recv, r), 0);
        /* every value sent, then close; the receivers drain what is left */
        for (;;) {
            long sum = 0;
            for (p = 0; p < RS_P; p++) sum += LOAD(&r->got[p]);
            held = (long)gort_chan_len(r->c);
            if (sum + held == RS_P * r->n) break;
            gort_sleep(1 * MS / 10);
        }
        CHECK_EQ(gort_chan_close(r->c), 0);
        gort_wg_wait(&r->wg);
        for (p = 0; p < RS_P; p++) {
            CHECK_EQ(r->got[p], r->n);
            for (k = 0; k < r->n; k++)
                if (r->seen[p * r->n + k] != 1) { CHECK_EQ(r->seen[p * r->n + k], 1); break; }
        }
        CHECK_EQ(gort_chan_len(r->c), 0);
        CHECK_EQ(gort_chan_free(r->c), 0);
        CHECK_EQ(gort_chan_free(r->idle), 0);
        free(r->seen);
        free(r);
    }
}

/* ------------------------------------------------------------ driver */

static void suite(void *arg)
{
    (void)arg;
    test_make_len_cap();
    test_codes();
    test_fifo();
    test_nonblock();
    test_closedchan();
    test_zerosize();
    test_rendezvous();
    test_semaphore();
    test_close_wakes_receivers();
    test_close_wakes_senders();
    test_closed_drain();
    test_chanchan();
    test_sizes();
    test_mpmc_close();
    test_ring_stress();
    test_ring_wakes();
}

int main(void)
{
    static const int procs[] = { 1, 2, 4 };
    size_t i;
    for (i = 0; i < sizeof procs / sizeof procs[0]; i++) {
        CHECK_EQ(run_procs(procs[i], suite, NULL), 0);
        CHECK_EQ(gort_running(), 0);
    }
    return check_done();
}
