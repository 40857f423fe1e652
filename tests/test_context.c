/* test_context.c - gort_ctx, the _ctx forms of the blocking calls,
   gort_sem and gort_group, ported from Go's context/context_test.go,
   golang.org/x/sync/semaphore's and errgroup's tests.

   Checks:
     - TestBackground: never done (done is NULL), err 0, no deadline, no
       values; cancel refused (-EINVAL);
     - TestWithCancel / TestParentFinishesChild / TestChildFinishesFirst:
       a cancel closes done for the node and every descendant (through
       value nodes and deadline nodes), err is -ECANCELED, the parent of
       a cancelled child goes on;
     - TestDeadline / TestTimeout / TestCanceledTimeout: done closes no
       sooner than the deadline, err -ETIMEDOUT; a child's deadline is the
       earlier of its own and its parent's; a cancel before the deadline
       gives -ECANCELED; a deadline in the past starts cancelled;
     - TestValues: lookups through the chain, the nearest key wins;
     - TestWithCancelCanceledParent: a child of a cancelled parent starts
       cancelled with the parent's reason;
     - TestSimultaneousCancels: a tree of 100 nodes cancelled from 100
       goroutines at once in random order; every done closes;
     - TestInterlockedCancels; TestLayersCancel / TestLayersTimeout (30+
       random layers of values, cancels and timeouts);
     - a chain 100,000 deep cancelled from the top (no recursion: the
       goroutine's stack would overflow) and a parent with 100,000
       children;
     - a tree of 100,000 goroutines (scaled), each blocked in a _ctx call
       under its own child context, all return -ECANCELED after one
       cancel at the root; none lost (the time it took is noted, not
       asserted: bench/ measures it);
     - cancellation racing completion: a send_ctx and a recv_ctx on an
       unbuffered channel with a cancel at a random moment: the send
       succeeded exactly when the receive got the value, every round;
     - the I/O forms: read_ctx on an empty pipe returns -ECANCELED when
       another goroutine cancels and data when it comes first; accept_ctx
       with a timeout returns -ETIMEDOUT; connect_ctx and write_ctx work;
       sleep_ctx and select_ctx end early on cancel; recv_ctx from a plain
       thread (gort_start) is cancelled by a goroutine;
     - gort_sem: x/sync's TestWeighted (the held count never exceeds the
       size), TestWeightedTryAcquire, TestWeightedAcquire (cancel while
       queued: -ECANCELED, tokens intact), TestLargeAcquireDoesntStarve,
       TestAllocCancelDoesntStarve, release of more than held (-EINVAL),
       a request larger than the size (-EINVAL);
     - gort_group: errgroup's TestZeroGroup (first error kept),
       TestWithContext (the first error cancels the group's context),
       TestGoLimit (never more than the limit running), TestTryGo. */
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
#if !defined(_WIN32)
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#define US 1000LL
#define MS 1000000LL

static int is_done(gort_ctx *c) {
    gort_chan *d = gort_ctx_done(c);
    return d && gort_chan_try_recv(d, NULL) == 0;
}

/* ---- TestBackground and bad input */
static void test_background(void *arg) {
    gort_ctx *bg = gort_ctx_background();
    static int key;
    (void)arg;
    CHECK(bg != NULL);
    CHECK(gort_ctx_done(bg) == NULL);
    CHECK(gort_ctx_done(NULL) == NULL);
    CHECK_EQ(gort_ctx_err(bg), 0);
    CHECK_EQ(gort_ctx_err(NULL), 0);
    CHECK(gort_ctx_deadline(bg) == INT64_MAX);
    CHECK(gort_ctx_value(bg, &key) == NULL);
    CHECK_EQ(gort_ctx_cancel(bg), -EINVAL);
    CHECK_EQ(gort_ctx_cancel(NULL), -EINVAL);
    CHECK_EQ(gort_ctx_free(bg), 0);
    CHECK_EQ(gort_ctx_free(NULL), 0);
    gort_ctx_release(bg);
    CHECK(gort_ctx_with_value(NULL, NULL, NULL) == NULL);   /* a key is needed */
}

/* ---- TestWithCancel, TestParentFinishesChild, TestChildFinishesFirst */
static void test_with_cancel(void *arg) {
    static int k1;
    gort_ctx *c1 = gort_ctx_with_cancel(NULL);
    gort_ctx *o = gort_ctx_with_value(c1, &k1, &k1);
    gort_ctx *c2 = gort_ctx_with_cancel(o);
    gort_ctx *t3 = gort_ctx_with_timeout(c2, 3600 * 1000 * MS);
    gort_ctx *other = gort_ctx_with_cancel(NULL);
    gort_ctx *all[4];
    int i;
    (void)arg;
    all[0] = c1; all[1] = o; all[2] = c2; all[3] = t3;
    for (i = 0; i < 4; i++) {
        CHECK(all[i] != NULL);
        CHECK(gort_ctx_done(all[i]) != NULL);
        CHECK(!is_done(all[i]));
        CHECK_EQ(gort_ctx_err(all[i]), 0);
    }
    CHECK(gort_ctx_done(o) == gort_ctx_done(c1));   /* a value node shares its parent's */
    /* a child's cancel leaves its parent alone */
    CHECK_EQ(gort_ctx_cancel(t3), 0);
    CHECK(is_done(t3));
    CHECK_EQ(gort_ctx_err(t3), -ECANCELED);
    CHECK(!is_done(c2));
    CHECK_EQ(gort_ctx_cancel(c1), 0);
    for (i = 0; i < 4; i++) {
        CHECK(is_done(all[i]));
        CHECK_EQ(gort_ctx_err(all[i]), -ECANCELED);
    }
    CHECK_EQ(gort_ctx_cancel(c1), 0);   /* again: nothing changes */
    CHECK_EQ(gort_ctx_err(t3), -ECANCELED);
    CHECK(!is_done(other));
    CHECK(gort_ctx_value(t3, &k1) == &k1);   /* values outlive the cancel */
    for (i = 3; i >= 0; i--) CHECK_EQ(gort_ctx_free(all[i]), 0);
    gort_ctx_free(other);
}

/* The parent released before its children: they keep it alive. */
static void test_release_order(void *arg) {
    static int k;
    gort_ctx *p = gort_ctx_with_cancel(NULL);
    gort_ctx *v = gort_ctx_with_value(p, &k, &k);
    gort_ctx *c = gort_ctx_with_cancel(v);
    (void)arg;
    gort_ctx_release(p);
    gort_ctx_release(v);
    CHECK(gort_ctx_value(c, &k) == &k);
    CHECK(!is_done(c));
    CHECK(gort_ctx_retain(c) == c);
    gort_ctx_free(c);     /* cancels; the reference from retain keeps it */
    CHECK(is_done(c));
    gort_ctx_release(c);
}

/* ---- TestDeadline, TestTimeout, TestCanceledTimeout */
static void test_deadline(void *arg) {
    int64_t t0 = gort_now(), d;
    gort_ctx *c = gort_ctx_with_deadline(NULL, t0 + 50 * MS);
    gort_ctx *later = gort_ctx_with_deadline(c, t0 + 3600 * 1000 * MS);
    gort_ctx *to, *past, *can;
    (void)arg;
    CHECK(c && later);
    CHECK(gort_ctx_deadline(c) == t0 + 50 * MS);
    CHECK(gort_ctx_deadline(later) == t0 + 50 * MS);   /* the parent's is earlier */
    CHECK_EQ(gort_chan_recv(gort_ctx_done(later), NULL), 0);
    d = gort_now() - t0;
    CHECK(d >= 50 * MS);
    CHECK_EQ(gort_ctx_err(c), -ETIMEDOUT);
    CHECK_EQ(gort_ctx_err(later), -ETIMEDOUT);
    gort_ctx_free(later);
    gort_ctx_free(c);
    t0 = gort_now();
    to = gort_ctx_with_timeout(NULL, 30 * MS);
    CHECK_EQ(gort_chan_recv(gort_ctx_done(to), NULL), 0);
    CHECK(gort_now() - t0 >= 30 * MS);
    CHECK_EQ(gort_ctx_err(to), -ETIMEDOUT);
    gort_ctx_free(to);
    past = gort_ctx_with_deadline(NULL, gort_now() - 1);
    CHECK(is_done(past));
    CHECK_EQ(gort_ctx_err(past), -ETIMEDOUT);
    gort_ctx_free(past);
    can = gort_ctx_with_timeout(NULL, 1000 * MS);
    gort_ctx_cancel(can);
    CHECK_EQ(gort_ctx_err(can), -ECANCELED);
    gort_sleep(2 * MS);
    CHECK_EQ(gort_ctx_err(can), -ECANCELED);
    gort_ctx_free(can);
}

/* ---- TestValues */
static void test_values(void *arg) {
    static int k1, k2, k3;
    int v1 = 1, v2 = 2, v3 = 3, v1b = 11;
    gort_ctx *c1 = gort_ctx_with_value(NULL, &k1, &v1);
    gort_ctx *c2 = gort_ctx_with_value(c1, &k2, &v2);
    gort_ctx *c3 = gort_ctx_with_cancel(c2);
    gort_ctx *c4 = gort_ctx_with_value(c3, &k1, &v1b);
    (void)arg;
    CHECK(gort_ctx_value(c1, &k1) == &v1);
    CHECK(gort_ctx_value(c1, &k2) == NULL);
    CHECK(gort_ctx_value(c3, &k1) == &v1);
    CHECK(gort_ctx_value(c3, &k2) == &v2);
    CHECK(gort_ctx_value(c4, &k1) == &v1b);   /* the nearest wins */
    CHECK(gort_ctx_value(c4, &k3) == NULL);
    CHECK(gort_ctx_value(NULL, &k1) == NULL);
    (void)v3;
    CHECK_EQ(gort_ctx_cancel(c4), -EINVAL);    /* a value node has no cancel of its own */
    gort_ctx_release(c4);
    gort_ctx_free(c3);
    gort_ctx_release(c2);
    gort_ctx_release(c1);
}

/* ---- TestWithCancelCanceledParent, TestInterlockedCancels */
static void interlocked(void *arg) {
    gort_ctx **pc = (gort_ctx **)arg;
    gort_chan_recv(gort_ctx_done(pc[0]), NULL);
    gort_ctx_cancel(pc[1]);
}
static void test_cancelled_parent(void *arg) {
    gort_ctx *p = gort_ctx_with_cancel(NULL), *c, *pc[2];
    (void)arg;
    gort_ctx_cancel(p);
    c = gort_ctx_with_cancel(p);
    CHECK(is_done(c));
    CHECK_EQ(gort_ctx_err(c), -ECANCELED);
    gort_ctx_free(c);
    gort_ctx_free(p);
    p = gort_ctx_with_deadline(NULL, gort_now() - 1);
    c = gort_ctx_with_cancel(p);
    CHECK_EQ(gort_ctx_err(c), -ETIMEDOUT);   /* the parent's reason */
    gort_ctx_free(c);
    gort_ctx_free(p);
    pc[0] = gort_ctx_with_cancel(NULL);
    pc[1] = gort_ctx_with_cancel(pc[0]);
    CHECK(gort_go(interlocked, pc) == 0);
    gort_ctx_cancel(pc[0]);
    CHECK_EQ(gort_chan_recv(gort_ctx_done(pc[1]), NULL), 0);
    gort_yield();
    gort_sleep(1 * MS);   /* interlocked's cancel returns before we free */
    gort_ctx_free(pc[1]);
    gort_ctx_free(pc[0]);
}

/* ---- TestSimultaneousCancels */
struct simul { gort_ctx *c; gort_wg *wg; };
static void simul_cancel(void *arg) {
    struct simul *s = (struct simul *)arg;
    gort_ctx_cancel(s->c);
    gort_wg_done(s->wg);
}
static void test_simultaneous(void *arg) {
    enum { N = 101 };
    struct simul s[N];
    gort_ctx *nodes[N];
    gort_wg wg = GORT_WG_INIT;
    int n = 1, q = 0, i;
    uint64_t seed = (uint64_t)gort_now() | 1;
    (void)arg;
    nodes[0] = gort_ctx_with_cancel(NULL);
    while (n < N - 4 && q < n) {
        for (i = 0; i < 4; i++) nodes[n++] = gort_ctx_with_cancel(nodes[q]);
        q++;
    }
    for (i = n - 1; i > 0; i--) {   /* a random order */
        int j = (int)(rng_next(&seed) % (uint64_t)(i + 1));
        gort_ctx *t = nodes[i]; nodes[i] = nodes[j]; nodes[j] = t;
    }
    gort_wg_add(&wg, n);
    for (i = 0; i < n; i++) { s[i].c = nodes[i]; s[i].wg = &wg; CHECK(gort_go(simul_cancel, &s[i]) == 0); }
    for (i = 0; i < n; i++) {
        gort_ctx *w = gort_ctx_with_timeout(NULL, 20000 * MS);   /* a hang shows as a failure */
        CHECK_EQ(gort_chan_recv_ctx(gort_ctx_done(nodes[i]), NULL, w), 0);
        gort_ctx_free(w);
    }
    gort_wg_wait(&wg);
    for (i = 0; i < n; i++) { CHECK_EQ(gort_ctx_err(nodes[i]), -ECANCELED); gort_ctx_release(nodes[i]); }
}

/* ---- TestLayersCancel, TestLayersTimeout */
static void layers(int timeout, uint64_t seed) {
    enum { MAXL = 200 };
    static int keys[MAXL];
    gort_ctx *chain[MAXL], *cancels[MAXL], *ctx = NULL;
    int nl = 0, nc = 0, ntimers = 0, nvals = 0, i;
    int vals[MAXL];
    while (nl < MAXL && (nl < 30 || ntimers == 0 || nc == 0 || nvals == 0)) {
        switch (rng_next(&seed) % 3) {
        case 0:
            ctx = gort_ctx_with_value(ctx, &keys[nl], &keys[nl]);
            vals[nvals++] = nl;
            break;
        case 1:
            ctx = gort_ctx_with_cancel(ctx);
            cancels[nc++] = ctx;
            break;
        default:
            ctx = gort_ctx_with_timeout(ctx, timeout ? 10 * MS : 3600 * 1000 * MS);
            cancels[nc++] = ctx;
            ntimers++;
            break;
        }
        CHECK(ctx != NULL);
        chain[nl++] = ctx;
    }
    for (i = 0; i < nvals; i++) CHECK(gort_ctx_value(ctx, &keys[vals[i]]) == &keys[vals[i]]);
    if (timeout) {
        CHECK_EQ(gort_chan_recv(gort_ctx_done(ctx), NULL), 0);
        CHECK_EQ(gort_ctx_err(ctx), -ETIMEDOUT);
    } else {
        CHECK(!is_done(ctx));
        gort_ctx_cancel(cancels[rng_next(&seed) % (uint64_t)nc]);
        CHECK(is_done(ctx));
        CHECK_EQ(gort_ctx_err(ctx), -ECANCELED);
    }
    for (i = 0; i < nvals; i++) CHECK(gort_ctx_value(ctx, &keys[vals[i]]) == &keys[vals[i]]);
    for (i = nl - 1; i >= 0; i--) gort_ctx_free(chain[i]);
}
static void test_layers(void *arg) {
    int i;
    (void)arg;
    for (i = 0; i < 20; i++) layers(0, (uint64_t)gort_now() | 1);
    for (i = 0; i < 5; i++) layers(1, (uint64_t)gort_now() | 1);
}

/* ---- a deep chain and a wide parent */
static void test_deep_wide(void *arg) {
    int n = (int)check_scale(100000), i;
    gort_ctx **v = (gort_ctx **)calloc((size_t)(n > 0 ? n : 1), sizeof *v);
    (void)arg;
    if (!v) { CHECK(v != NULL); return; }
    for (i = 0; i < n; i++) { v[i] = gort_ctx_with_cancel(i ? v[i - 1] : NULL); CHECK(v[i] != NULL); }
    gort_ctx_cancel(v[0]);
    CHECK(is_done(v[n - 1]));
    CHECK_EQ(gort_ctx_err(v[n - 1]), -ECANCELED);
    for (i = n - 1; i >= 0; i--) gort_ctx_free(v[i]);
    /* wide: children freed before the parent, and freed after its cancel */
    v[0] = gort_ctx_with_cancel(NULL);
    for (i = 1; i < n; i++) v[i] = gort_ctx_with_timeout(v[0], (int64_t)(1 + i % 100) * 1000 * MS);
    for (i = 1; i < n / 2; i++) gort_ctx_free(v[i]);
    gort_ctx_cancel(v[0]);
    for (i = n / 2; i < n; i++) { CHECK_EQ(gort_ctx_err(v[i]), -ECANCELED); gort_ctx_free(v[i]); }
    gort_ctx_free(v[0]);
    free(v);
}

/* ---- a tree of goroutines stopped by one cancel */
struct tree { gort_ctx *ctx; int depth; int *returned; int *bad; gort_wg *wg; };
static void tree_node(void *arg) {
    struct tree t = *(struct tree *)arg, kid[4];
    gort_ctx *mine = gort_ctx_with_cancel(t.ctx);
    int i, r;
    free(arg);
    if (t.depth > 0) {
        for (i = 0; i < 4; i++) {
            struct tree *k = (struct tree *)malloc(sizeof *k);
            kid[i] = t;
            kid[i].ctx = mine;
            kid[i].depth = t.depth - 1;
            *k = kid[i];
            gort_wg_add(t.wg, 1);
            if (gort_go(tree_node, k) != 0) { free(k); gort_wg_done(t.wg); INC(t.bad); }
        }
    }
    switch (t.depth % 3) {   /* a mix of blocking calls */
    case 0: r = gort_chan_recv_ctx(NULL, NULL, mine); break;
    case 1: r = gort_sleep_ctx(3600 * 1000 * MS, mine); break;
    default: {
        gort_case c;
        memset(&c, 0, sizeof c);
        c.op = GORT_RECV;
        r = gort_select_ctx(&c, 1, mine);
        break;
    }
    }
    if (r != -ECANCELED) INC(t.bad);
    INC(t.returned);
    gort_ctx_free(mine);
    gort_wg_done(t.wg);
}
static void test_tree(void *arg) {
    gort_wg wg = GORT_WG_INIT;
    int returned = 0, bad = 0, depth = 0, n = 1, want = (int)check_scale(100000);
    struct tree *t = (struct tree *)malloc(sizeof *t);
    gort_ctx *root = gort_ctx_with_cancel(NULL);
    int64_t t0;
    (void)arg;
    while (n * 4 + 1 <= want) { n = n * 4 + 1; depth++; }   /* 4-ary, up to want nodes */
    t->ctx = root; t->depth = depth; t->returned = &returned; t->bad = &bad; t->wg = &wg;
    gort_wg_add(&wg, 1);
    CHECK(gort_go(tree_node, t) == 0);
    while (gort_goroutines() < n + 1) gort_sleep(1 * MS);   /* all blocked (they block at once) */
    gort_sleep(5 * MS);
    CHECK_EQ(LOAD(&returned), 0);
    t0 = gort_now();
    gort_ctx_cancel(root);
    gort_wg_wait(&wg);
    check_note("%d goroutines under one context all returned %.1f ms after the cancel",
               n, (double)(gort_now() - t0) / 1e6);
    CHECK_EQ(LOAD(&returned), n);
    CHECK_EQ(LOAD(&bad), 0);
    gort_ctx_free(root);
}

/* ---- cancellation racing completion */
struct pair { gort_chan *c; gort_ctx *ctx; int r; gort_wg *wg; };
static void pair_send(void *arg) {
    struct pair *p = (struct pair *)arg;
    int v = 7;
    p->r = gort_chan_send_ctx(p->c, &v, p->ctx);
    gort_wg_done(p->wg);
}
struct racecancel { gort_ctx *ctx; int yields; gort_wg *wg; };
static void race_cancel(void *arg) {
    struct racecancel *c = (struct racecancel *)arg;
    int i;
    for (i = 0; i < c->yields; i++) gort_yield();
    gort_ctx_cancel(c->ctx);
    gort_wg_done(c->wg);
}
static void test_race(void *arg) {
    int rounds = (int)check_scale(3000), i, moved = 0, cancelled = 0;
    struct racecancel cl;
    uint64_t seed = 99;
    (void)arg;
    for (i = 0; i < rounds; i++) {
        gort_wg wg = GORT_WG_INIT;
        struct pair p;
        gort_ctx *rc;
        int v = 0, rr;
        p.c = gort_chan_make(sizeof(int), 0);
        p.ctx = gort_ctx_with_cancel(NULL);
        rc = gort_ctx_with_cancel(p.ctx);
        p.wg = &wg;
        cl.wg = &wg;
        gort_wg_add(&wg, 1);
        CHECK(gort_go(pair_send, &p) == 0);
        if (rng_next(&seed) & 1) gort_yield();
        switch (rng_next(&seed) % 3) {
        case 0: gort_ctx_cancel(p.ctx); break;   /* before the receive */
        case 1:                                  /* while both run */
            cl.ctx = p.ctx; cl.yields = (int)(rng_next(&seed) % 4);
            gort_wg_add(&wg, 1);
            CHECK(gort_go(race_cancel, &cl) == 0);
            break;
        default: break;                          /* after */
        }
        rr = gort_chan_recv_ctx(p.c, &v, rc);
        gort_ctx_cancel(p.ctx);
        gort_wg_wait(&wg);
        CHECK(rr == 1 || rr == -ECANCELED);
        CHECK(p.r == 0 || p.r == -ECANCELED);
        CHECK_EQ(rr == 1, p.r == 0);   /* exactly one outcome on both sides */
        if (rr == 1) { CHECK_EQ(v, 7); moved++; } else cancelled++;
        gort_ctx_free(rc);
        gort_ctx_free(p.ctx);
        gort_chan_free(p.c);
    }
    check_note("cancel race: %d rounds, %d values moved, %d cancelled", rounds, moved, cancelled);
}

/* ---- the I/O forms */
struct canceller { gort_ctx *ctx; int64_t after; };
static void cancel_later(void *arg) {
    struct canceller *c = (struct canceller *)arg;
    gort_sleep(c->after);
    gort_ctx_cancel(c->ctx);
}
static void write_later(void *arg) {
    int fd = *(int *)arg;
    gort_sleep(2 * MS);
    CHECK_EQ(gort_write(fd, "hi", 2), 2);
}
static void test_io(void *arg) {
    int p[2] = { -1, -1 }, wfd, lfd, cfd, afd;
    char buf[8];
    struct canceller cl;
    gort_ctx *c, *to;
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    gort_case cs[2];
    int64_t t0;
    (void)arg;
#if defined(_WIN32)
    CHECK_EQ(tcp_pair(p), 0);   /* a pipe has no readiness on Windows */
#else
    CHECK_EQ(pipe(p), 0);
#endif
    /* read_ctx: cancelled while waiting */
    c = gort_ctx_with_cancel(NULL);
    cl.ctx = c; cl.after = 5 * MS;
    CHECK(gort_go(cancel_later, &cl) == 0);
    CHECK_EQ(gort_read_ctx(p[0], buf, sizeof buf, c), -ECANCELED);
    CHECK_EQ(gort_read_ctx(p[0], buf, sizeof buf, c), -ECANCELED);   /* ended: at once */
    gort_ctx_free(c);
    /* read_ctx: data first */
    c = gort_ctx_with_timeout(NULL, 10000 * MS);
    wfd = p[1];
    CHECK(gort_go(write_later, &wfd) == 0);
    CHECK_EQ(gort_read_ctx(p[0], buf, sizeof buf, c), 2);
    CHECK_EQ(gort_write_ctx(p[1], "x", 1, c), 1);
    CHECK_EQ(gort_read_ctx(p[0], buf, sizeof buf, NULL), 1);
    CHECK_EQ(gort_wait_fd_ctx(p[1], GORT_OUT, c), GORT_OUT);
    gort_ctx_free(c);
    gort_close(p[0]); gort_close(p[1]);
    /* accept_ctx times out; connect_ctx, accept_ctx, write/read over TCP */
    lfd = (int)socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    CHECK_EQ(listen(lfd, 16), 0);
    CHECK_EQ(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    t0 = gort_now();   /* before the deadline is set: it counts from then */
    to = gort_ctx_with_timeout(NULL, 20 * MS);
    CHECK_EQ(gort_accept_ctx(lfd, NULL, NULL, to), -ETIMEDOUT);
    CHECK(gort_now() - t0 >= 20 * MS);
    gort_ctx_free(to);
    c = gort_ctx_with_timeout(NULL, 10000 * MS);
    cfd = (int)socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(gort_connect_ctx(cfd, (struct sockaddr *)&sa, sizeof sa, c), 0);
    afd = gort_accept_ctx(lfd, NULL, NULL, c);
    CHECK(afd >= 0);
    CHECK_EQ(gort_write_ctx(cfd, "ping", 4, c), 4);
    CHECK_EQ(gort_read_ctx(afd, buf, sizeof buf, c), 4);
    CHECK_EQ(memcmp(buf, "ping", 4), 0);
    gort_ctx_free(c);
    gort_close(afd); gort_close(cfd); gort_close(lfd);
    /* sleep_ctx and select_ctx end early */
    c = gort_ctx_with_cancel(NULL);
    cl.ctx = c; cl.after = 5 * MS;
    CHECK(gort_go(cancel_later, &cl) == 0);
    t0 = gort_now();
    CHECK_EQ(gort_sleep_ctx(3600 * 1000 * MS, c), -ECANCELED);
    CHECK(gort_now() - t0 < 3600 * 1000 * MS);
    memset(cs, 0, sizeof cs);
    cs[0].op = GORT_RECV;
    CHECK_EQ(gort_select_ctx(cs, 1, c), -ECANCELED);
    CHECK_EQ(gort_sleep_ctx(1 * MS, NULL), 0);
    gort_ctx_free(c);
}

/* ---- a plain thread blocked in recv_ctx, cancelled by a goroutine */
static gort_ctx *pt_ctx;
static int pt_r = 1;
static void *pt_main(void *arg) {
    gort_chan *c = (gort_chan *)arg;
    int v;
    STORE(&pt_r, gort_chan_recv_ctx(c, &v, pt_ctx));
    return NULL;
}
static void pt_cancel(void *arg) { (void)arg; gort_sleep(5 * MS); gort_ctx_cancel(pt_ctx); }
static void test_plain_thread(void) {
    gort_opts o;
    pthread_t th;
    gort_chan *c;
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    CHECK_EQ(gort_start(&o), 0);
    c = gort_chan_make(sizeof(int), 0);
    pt_ctx = gort_ctx_with_cancel(NULL);
    CHECK_EQ(pthread_create(&th, NULL, pt_main, c), 0);
    CHECK(gort_go(pt_cancel, NULL) == 0);
    pthread_join(th, NULL);
    CHECK_EQ(LOAD(&pt_r), -ECANCELED);
    gort_ctx_free(pt_ctx);
    gort_chan_free(c);
    CHECK_EQ(gort_stop(), 0);
}

/* ---- gort_sem */
struct semw { gort_sem *s; int64_t size; int64_t *held; int loops; uint64_t seed; gort_wg *wg; };
static void sem_worker(void *arg) {
    struct semw *w = (struct semw *)arg;
    int i;
    for (i = 0; i < w->loops; i++) {
        int64_t n = (int64_t)(rng_next(&w->seed) % (uint64_t)w->size) + 1, h;
        CHECK_EQ(gort_sem_acquire(w->s, n, NULL), 0);
        h = ADD(w->held, n);
        CHECK(h <= w->size);
        if (i % 4 == 0) gort_yield();
        ADD(w->held, -n);
        CHECK_EQ(gort_sem_release(w->s, n), 0);
    }
    gort_wg_done(w->wg);
}
static int sem_acq_r = 1;
static void sem_acquirer(void *arg) {
    void **a = (void **)arg;
    STORE(&sem_acq_r, gort_sem_acquire((gort_sem *)a[0], (int64_t)(intptr_t)a[1], (gort_ctx *)a[2]));
}
/* Until an acquirer is queued on s (at most 10 s). A fixed 2 ms sleep was
   not enough under Wine on a loaded machine: the acquirer, on the other
   P's thread, had not yet run, so a try_acquire meant to queue behind it
   got through. */
static int sem_queued(gort_sem *s) {
    int q;
    gort__lock(&s->lock);   /* the queue is the lock's (TSan: not read racily) */
    q = s->waitq.head != NULL;
    gort__unlock(&s->lock);
    return q;
}
static void sem_wait_queued(gort_sem *s) {
    int i;
    for (i = 0; i < 100000 && !sem_queued(s); i++) gort_sleep(100 * US);
    CHECK(sem_queued(s));
}
static void test_sem(void *arg) {
    gort_sem s = GORT_SEM_INIT(10), s2;
    struct semw w[8];
    gort_wg wg = GORT_WG_INIT;
    int64_t held = 0;
    gort_ctx *c;
    void *a[3];
    int i;
    (void)arg;
    /* TestWeighted */
    for (i = 0; i < 8; i++) {
        w[i].s = &s; w[i].size = 10; w[i].held = &held; w[i].loops = (int)check_scale(2000);
        w[i].seed = (uint64_t)i * 7919 + 1; w[i].wg = &wg;
        gort_wg_add(&wg, 1);
        CHECK(gort_go(sem_worker, &w[i]) == 0);
    }
    gort_wg_wait(&wg);
    CHECK_EQ(s.cur, 0);
    /* TestWeightedTryAcquire */
    CHECK_EQ(gort_sem_init(&s2, 2), 0);
    CHECK_EQ(gort_sem_try_acquire(&s2, 1), 1);
    CHECK_EQ(gort_sem_try_acquire(&s2, 1), 1);
    CHECK_EQ(gort_sem_try_acquire(&s2, 1), 0);
    CHECK_EQ(gort_sem_release(&s2, 2), 0);
    CHECK_EQ(gort_sem_try_acquire(&s2, 2), 1);
    CHECK_EQ(gort_sem_release(&s2, 2), 0);
    /* bad input */
    CHECK_EQ(gort_sem_release(&s2, 1), -EINVAL);   /* more than held */
    CHECK_EQ(gort_sem_acquire(&s2, 3, NULL), -EINVAL);   /* more than the size */
    CHECK_EQ(gort_sem_acquire(NULL, 1, NULL), -EINVAL);
    CHECK_EQ(gort_sem_init(&s2, -1), -EINVAL);
    /* TestWeightedAcquire: cancel while queued */
    CHECK_EQ(gort_sem_init(&s2, 2), 0);
    CHECK_EQ(gort_sem_acquire(&s2, 2, NULL), 0);
    c = gort_ctx_with_cancel(NULL);
    a[0] = &s2; a[1] = (void *)(intptr_t)1; a[2] = c;
    STORE(&sem_acq_r, 1);
    CHECK(gort_go(sem_acquirer, a) == 0);
    sem_wait_queued(&s2);
    CHECK_EQ(LOAD(&sem_acq_r), 1);   /* still waiting */
    gort_ctx_cancel(c);
    while (LOAD(&sem_acq_r) == 1) gort_sleep(100 * US);
    CHECK_EQ(LOAD(&sem_acq_r), -ECANCELED);
    CHECK_EQ(gort_sem_acquire(&s2, 1, c), -ECANCELED);   /* ended: fails at once */
    gort_ctx_free(c);
    CHECK_EQ(gort_sem_release(&s2, 2), 0);
    CHECK_EQ(gort_sem_try_acquire(&s2, 2), 1);   /* tokens intact */
    CHECK_EQ(gort_sem_release(&s2, 2), 0);
    /* TestAllocCancelDoesntStarve: a big waiter at the head is cancelled;
       the small one behind it gets through */
    CHECK_EQ(gort_sem_init(&s2, 10), 0);
    CHECK_EQ(gort_sem_acquire(&s2, 1, NULL), 0);
    c = gort_ctx_with_cancel(NULL);
    a[0] = &s2; a[1] = (void *)(intptr_t)10; a[2] = c;
    STORE(&sem_acq_r, 1);
    CHECK(gort_go(sem_acquirer, a) == 0);
    sem_wait_queued(&s2);
    CHECK_EQ(gort_sem_try_acquire(&s2, 1), 0);   /* FIFO: behind the big one */
    {
        void *b[3];
        gort_ctx *c2 = gort_ctx_with_timeout(NULL, 10000 * MS);
        static int small_r = 1;
        b[0] = &s2; b[1] = (void *)(intptr_t)1; b[2] = c2;
        gort_ctx_cancel(c);
        CHECK_EQ(gort_sem_acquire(&s2, 1, c2), 0);
        (void)b; (void)small_r;
        gort_ctx_free(c2);
    }
    while (LOAD(&sem_acq_r) == 1) gort_sleep(100 * US);
    CHECK_EQ(LOAD(&sem_acq_r), -ECANCELED);
    gort_ctx_free(c);
    CHECK_EQ(gort_sem_release(&s2, 2), 0);
    CHECK_EQ(s2.cur, 0);
}

/* ---- gort_group */
static int fail_with(void *arg) { return (int)(intptr_t)arg; }
static int wait_ctx(void *arg) {
    gort_group *g = (gort_group *)arg;
    return gort_chan_recv_ctx(NULL, NULL, gort_group_ctx(g)) == -ECANCELED ? 0 : -EPROTO;
}
static int active, peak;
static int limited(void *arg) {
    int a = ADD(&active, 1), p;
    (void)arg;
    while ((p = LOAD(&peak)) < a && !__atomic_compare_exchange_n(&peak, &p, a, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {}
    gort_sleep(100 * US);
    ADD(&active, -1);
    return 0;
}
static int blocker_go;
static int blocker(void *arg) {
    (void)arg;
    while (!LOAD(&blocker_go)) gort_sleep(100 * US);
    return 0;
}
static void test_group(void *arg) {
    gort_group *g = gort_group_make(NULL);
    int i;
    (void)arg;
    /* TestZeroGroup: no error, then the first error is kept */
    CHECK(g != NULL);
    CHECK_EQ(gort_group_wait(g), 0);
    CHECK_EQ(gort_group_free(g), 0);
    g = gort_group_make(NULL);
    CHECK_EQ(gort_group_go(g, fail_with, (void *)(intptr_t)0), 0);
    CHECK_EQ(gort_group_go(g, fail_with, (void *)(intptr_t)-EIO), 0);
    CHECK_EQ(gort_group_wait(g), -EIO);
    CHECK_EQ(gort_group_free(g), 0);
    /* TestWithContext: the first error cancels the others' context */
    g = gort_group_make(NULL);
    for (i = 0; i < 10; i++) CHECK_EQ(gort_group_go(g, wait_ctx, g), 0);
    CHECK_EQ(gort_ctx_err(gort_group_ctx(g)), 0);
    CHECK_EQ(gort_group_go(g, fail_with, (void *)(intptr_t)-ENOENT), 0);
    CHECK_EQ(gort_group_wait(g), -ENOENT);
    CHECK_EQ(gort_ctx_err(gort_group_ctx(g)), -ECANCELED);
    CHECK_EQ(gort_group_free(g), 0);
    /* a parent's cancel reaches the group */
    {
        gort_ctx *p = gort_ctx_with_cancel(NULL);
        g = gort_group_make(p);
        for (i = 0; i < 5; i++) CHECK_EQ(gort_group_go(g, wait_ctx, g), 0);
        gort_ctx_cancel(p);
        CHECK_EQ(gort_group_wait(g), 0);
        CHECK_EQ(gort_group_free(g), 0);
        gort_ctx_free(p);
    }
    /* TestGoLimit */
    g = gort_group_make(NULL);
    CHECK_EQ(gort_group_limit(g, 3), 0);
    STORE(&active, 0); STORE(&peak, 0);
    for (i = 0; i < (int)check_scale(200); i++) CHECK_EQ(gort_group_go(g, limited, NULL), 0);
    CHECK_EQ(gort_group_wait(g), 0);
    CHECK(LOAD(&peak) <= 3);
    CHECK(LOAD(&peak) >= 1);
    CHECK_EQ(gort_group_free(g), 0);
    /* TestTryGo */
    g = gort_group_make(NULL);
    CHECK_EQ(gort_group_limit(g, 2), 0);
    STORE(&blocker_go, 0);
    CHECK_EQ(gort_group_try_go(g, blocker, NULL), 0);
    CHECK_EQ(gort_group_try_go(g, blocker, NULL), 0);
    CHECK_EQ(gort_group_try_go(g, blocker, NULL), -EAGAIN);
    CHECK_EQ(gort_group_limit(g, 5), -EBUSY);   /* not while some run */
    CHECK_EQ(gort_group_free(g), -EBUSY);
    STORE(&blocker_go, 1);
    CHECK_EQ(gort_group_wait(g), 0);
    CHECK_EQ(gort_group_try_go(g, blocker, NULL), 0);
    CHECK_EQ(gort_group_wait(g), 0);
    CHECK_EQ(gort_group_free(g), 0);
    CHECK_EQ(gort_group_go(NULL, blocker, NULL), -EINVAL);
    CHECK_EQ(gort_group_wait(NULL), -EINVAL);
}

/* Without a runtime: a cancel context works, a deadline needs one. */
static void test_no_runtime(void) {
    gort_ctx *c = gort_ctx_with_cancel(NULL);
    CHECK(c != NULL);
    CHECK_EQ(gort_ctx_cancel(c), 0);
    CHECK_EQ(gort_ctx_err(c), -ECANCELED);
    gort_ctx_free(c);
    CHECK(gort_ctx_with_timeout(NULL, 1000 * MS) == NULL);
    c = gort_ctx_with_timeout(NULL, -1);   /* already over: no timer needed */
    CHECK(c != NULL);
    CHECK_EQ(gort_ctx_err(c), -ETIMEDOUT);
    gort_ctx_free(c);
}

int main(void) {
    int procs;
#if defined(_WIN32)
    WSADATA wd;
    CHECK_EQ(WSAStartup(MAKEWORD(2, 2), &wd), 0);
#endif
    watchdog(600);
    test_no_runtime();
    for (procs = 1; procs <= 2; procs++) {
        run_named("TestBackground", test_background, procs, 0, NULL);
        run_named("TestWithCancel", test_with_cancel, procs, 0, NULL);
        run_named("ReleaseOrder", test_release_order, procs, 0, NULL);
        run_named("TestDeadline", test_deadline, procs, 0, NULL);
        run_named("TestValues", test_values, procs, 0, NULL);
        run_named("TestCanceledParent", test_cancelled_parent, procs, 0, NULL);
        run_named("TestSimultaneousCancels", test_simultaneous, procs, 0, NULL);
        run_named("TestLayers", test_layers, procs, 0, NULL);
        run_named("DeepWide", test_deep_wide, procs, 0, NULL);
        run_named("CancelRace", test_race, procs, 0, NULL);
        run_named("IO", test_io, procs, 0, NULL);
        run_named("Semaphore", test_sem, procs, 0, NULL);
        run_named("Group", test_group, procs, 0, NULL);
    }
    run_named("Tree", test_tree, 2, 0, NULL);
    test_plain_thread();
    return check_done();
}
