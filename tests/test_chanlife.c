/* test_chanlife.c - a channel's life against the parties still using it
   (>>chan, >>select, >>runtime).

     - free right after the wake-up: a select parked on channels A and B is
       woken through A (A closed, or a value sent on A), and the waker
       frees A at once (gort_chan_free returns 0: no waiter is left on A).
       The select's last pass locks A again: A must still be alive (ASan
       turns a use after free into a failure). 20,000 rounds (scaled) at
       maxprocs 2, half by close, half by send;
     - channels outlive a stopped runtime: goroutines parked on a channel
       (receive, send, and a select over two channels) are dropped by
       gort_stop;
       afterwards the channels work from the plain thread as if they had
       never been waited on: try_send is -EAGAIN on the unbuffered one (no
       receiver is left), try_recv -EAGAIN, close is 0, free is 0. */
// gort-test: windows
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"

#include <unistd.h>

#define MS 1000000LL

typedef struct {
    gort_chan *a, *b;
    int by_send;
    gort_chan *done;
} round_t;

static void selector(void *arg) {
    round_t *r = (round_t *)arg;
    gort_case cs[2];
    int v = 0, got;
    memset(cs, 0, sizeof cs);
    cs[0].chan = r->a; cs[0].op = GORT_RECV; cs[0].elem = &v;
    cs[1].chan = r->b; cs[1].op = GORT_RECV; cs[1].elem = &v;
    got = gort_select(cs, 2, -1);
    CHECK_EQ(got, 0);
    CHECK_EQ(cs[0].ok, r->by_send ? 1 : 0);
    CHECK_EQ(v, r->by_send ? 7 : 0);
    CHECK_EQ(gort_chan_send(r->done, NULL), 0);
}

static void free_after_wake_main(void *arg) {
    long i, n = check_scale(20000);
    gort_chan *done = gort_chan_make(0, 1);
    (void)arg;
    for (i = 0; i < n; i++) {
        round_t r;
        int seven = 7;
        r.a = gort_chan_make(sizeof(int), 0);
        r.b = gort_chan_make(sizeof(int), 0);
        r.by_send = (int)(i & 1);
        r.done = done;
        CHECK_EQ(gort_go(selector, &r), 0);
        /* wait until the select is parked on A */
        while (gort__wq_empty(&r.a->recvq)) gort_yield();
        if (r.by_send) CHECK_EQ(gort_chan_send(r.a, &seven), 0);
        else CHECK_EQ(gort_chan_close(r.a), 0);
        CHECK_EQ(gort_chan_free(r.a), 0);   /* no waiter left on A */
        CHECK_EQ(gort_chan_recv(done, NULL), 1);
        CHECK_EQ(gort_chan_free(r.b), 0);
    }
    gort_chan_free(done);
}

/* ---- stop with parked goroutines ---- */
static gort_chan *su, *sb, *sx;
static void recv_forever(void *arg) { (void)arg; gort_chan_recv(su, NULL); }
static void send_forever(void *arg) { int v = 1; (void)arg; gort_chan_send(sb, &v); }
static void select_forever(void *arg) {
    gort_case cs[2];
    (void)arg;
    memset(cs, 0, sizeof cs);
    cs[0].chan = su; cs[0].op = GORT_RECV;
    cs[1].chan = sx; cs[1].op = GORT_RECV;
    gort_select(cs, 2, -1);
    for (;;) gort_chan_recv(sx, NULL);   /* parks again */
}

static void test_stop_unlinks(void) {
    int v = 0, i;
    gort_opts o;
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    su = gort_chan_make(0, 0);     /* unbuffered, no element */
    sb = gort_chan_make(sizeof(int), 1);
    sx = gort_chan_make(0, 0);
    CHECK_EQ(gort_chan_send(sb, &v), 0);   /* full: the sender parks */
    CHECK_EQ(gort_start(&o), 0);
    for (i = 0; i < 4; i++) {
        CHECK_EQ(gort_go(recv_forever, NULL), 0);
        CHECK_EQ(gort_go(send_forever, NULL), 0);
        CHECK_EQ(gort_go(select_forever, NULL), 0);
    }
    usleep(100000);   /* all parked */
    CHECK_EQ(gort_goroutines(), 12);
    CHECK_EQ(gort_stop(), 0);
    /* the channels, from this plain thread, with no runtime */
    CHECK_EQ(gort_chan_try_send(su, NULL), -EAGAIN);   /* no receiver is left */
    CHECK_EQ(gort_chan_try_send(sx, NULL), -EAGAIN);
    CHECK_EQ(gort_chan_try_recv(su, NULL), -EAGAIN);   /* no sender either */
    CHECK_EQ(gort_chan_try_recv(sb, &v), 1);           /* the buffered value */
    CHECK_EQ(gort_chan_try_recv(sb, &v), -EAGAIN);     /* and no parked sender */
    CHECK_EQ(gort_chan_close(su), 0);
    CHECK_EQ(gort_chan_close(sx), 0);
    CHECK_EQ(gort_chan_free(su), 0);
    CHECK_EQ(gort_chan_free(sb), 0);
    CHECK_EQ(gort_chan_free(sx), 0);
}

int main(void) {
    gort_opts o;
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    CHECK_EQ(gort_run_opts(&o, free_after_wake_main, NULL), 0);
    test_stop_unlinks();
    return check_done();
}
