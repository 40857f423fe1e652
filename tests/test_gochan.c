/* test_gochan.c - Go's classic channel programs, ported to gort.

     - goroutines.go: a chain of 10,000 goroutines (scaled), each passing
       one value from its right neighbour to its left, torn down cleanly;
       done with unbuffered and with buffered links;
     - sieve1.go: the concurrent prime sieve (a chain of filter goroutines
       added one per prime); the first 100 primes are checked against a
       table; unlike Go's version it shuts down cleanly (quit channel, each
       stage closes its output when its input closes) so every goroutine
       ends and every channel is freed;
     - powser1.go, smaller: power series as streams of integer
       coefficients through goroutines (ones, add, multiply, derivative,
       split); checks 1/(1-x)^2, 1/(1-x)^4, 1/(1-x)^2 + 1/(1-x) and
       d/dx 1/(1-x) coefficient by coefficient.
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

/* ------------------------------------------------------------ goroutines.go */

struct link {
    gort_chan *left, *right;
    gort_wg   *wg;
};

static void chain_link(void *p)
{
    struct link *l = (struct link *)p;
    int v = 0;
    CHECK_EQ(gort_chan_recv(l->right, &v), 1);
    CHECK_EQ(gort_chan_send(l->left, &v), 0);
    gort_wg_done(l->wg);
}

static void chain_feed(void *p)
{
    struct link *l = (struct link *)p;
    int one = 1;
    CHECK_EQ(gort_chan_send(l->right, &one), 0);
    gort_wg_done(l->wg);
}

static void test_goroutine_chain_passes_value_through(void)   /* Go test/chan/goroutines.go */
{
    long n = check_scale(10000), i;
    int cap, v;
    for (cap = 0; cap <= 1; cap++) {
        gort_chan **ch = (gort_chan **)calloc((size_t)n + 1, sizeof *ch);
        struct link *links = (struct link *)calloc((size_t)n + 1, sizeof *links);
        gort_wg wg = GORT_WG_INIT;
        for (i = 0; i <= n; i++) {
            ch[i] = gort_chan_make(sizeof(int), (size_t)cap);
            CHECK(ch[i] != NULL);
        }
        /* link i reads ch[i + 1] and writes ch[i]; ch[0] is the leftmost */
        for (i = 0; i < n; i++) {
            links[i].left = ch[i];
            links[i].right = ch[i + 1];
            links[i].wg = &wg;
            gort_wg_add(&wg, 1);
            CHECK_EQ(gort_go(chain_link, &links[i]), 0);
        }
        links[n].right = ch[n];
        links[n].wg = &wg;
        gort_wg_add(&wg, 1);
        CHECK_EQ(gort_go(chain_feed, &links[n]), 0);
        v = 0;
        CHECK_EQ(gort_chan_recv(ch[0], &v), 1);
        CHECK_EQ(v, 1);
        gort_wg_wait(&wg);
        for (i = 0; i <= n; i++)
            CHECK_EQ(gort_chan_free(ch[i]), 0);
        free(ch);
        free(links);
    }
}

/* ------------------------------------------------------------ sieve1.go */

static const int first_primes[100] = {
      2,   3,   5,   7,  11,  13,  17,  19,  23,  29,  31,  37,  41,  43,  47,
     53,  59,  61,  67,  71,  73,  79,  83,  89,  97, 101, 103, 107, 109, 113,
    127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193, 197,
    199, 211, 223, 227, 229, 233, 239, 241, 251, 257, 263, 269, 271, 277, 281,
    283, 293, 307, 311, 313, 317, 331, 337, 347, 349, 353, 359, 367, 373, 379,
    383, 389, 397, 401, 409, 419, 421, 431, 433, 439, 443, 449, 457, 461, 463,
    467, 479, 487, 491, 499, 503, 509, 521, 523, 541
};

enum { MAX_STAGES = 4096 };

struct sieve {
    gort_chan *primes, *quit;
    gort_chan *chans[MAX_STAGES];   /* every channel made, freed at the end */
    int        nchans;              /* written by the sieve goroutine only */
    gort_wg    wg;
};

struct gen {
    struct sieve *s;
    gort_chan    *out;
};

struct filt {
    struct sieve *s;
    gort_chan    *in, *out;
    int           prime;
};

/* sends 2, 3, 4, ... until quit is closed, then closes out */
static void sieve_generate(void *p)
{
    struct gen *g = (struct gen *)p;
    int i, r;
    for (i = 2;; i++) {
        gort_case cs[2];
        int v = i, q;
        cs[0].chan = g->out; cs[0].op = GORT_SEND; cs[0].elem = &v; cs[0].ok = -1;
        cs[1].chan = g->s->quit; cs[1].op = GORT_RECV; cs[1].elem = &q; cs[1].ok = -1;
        r = gort_select(cs, 2, -1);
        if (r != 0)
            break;
    }
    CHECK_EQ(r, 1);
    CHECK_EQ(gort_chan_close(g->out), 0);
    gort_wg_done(&g->s->wg);
    free(g);
}

/* copies in to out, dropping multiples of prime; closes out when in closes */
static void sieve_filter(void *p)
{
    struct filt *f = (struct filt *)p;
    int v;
    while (gort_chan_recv(f->in, &v) == 1)
        if (v % f->prime != 0)
            CHECK_EQ(gort_chan_send(f->out, &v), 0);
    CHECK_EQ(gort_chan_close(f->out), 0);
    gort_wg_done(&f->s->wg);
    free(f);
}

static void sieve_main(void *p)
{
    struct sieve *s = (struct sieve *)p;
    struct gen *g = (struct gen *)malloc(sizeof *g);
    gort_chan *ch = gort_chan_make(sizeof(int), 0);
    int prime;
    s->chans[s->nchans++] = ch;
    g->s = s;
    g->out = ch;
    gort_wg_add(&s->wg, 1);
    CHECK_EQ(gort_go(sieve_generate, g), 0);
    while (gort_chan_recv(ch, &prime) == 1) {
        struct filt *f;
        gort_chan *ch1;
        CHECK_EQ(gort_chan_send(s->primes, &prime), 0);
        if (s->nchans == MAX_STAGES) {
            CHECK(s->nchans < MAX_STAGES);
            break;
        }
        ch1 = gort_chan_make(sizeof(int), 0);
        s->chans[s->nchans++] = ch1;
        f = (struct filt *)malloc(sizeof *f);
        f->s = s;
        f->in = ch;
        f->out = ch1;
        f->prime = prime;
        gort_wg_add(&s->wg, 1);
        CHECK_EQ(gort_go(sieve_filter, f), 0);
        ch = ch1;
    }
    CHECK_EQ(gort_chan_close(s->primes), 0);
    gort_wg_done(&s->wg);
}

static void test_prime_sieve_finds_first_100_primes(void)   /* Go test/chan/sieve1.go */
{
    struct sieve *s = (struct sieve *)calloc(1, sizeof *s);
    int i, v, extra = 0;
    s->primes = gort_chan_make(sizeof(int), 0);
    s->quit = gort_chan_make(0, 0);
    gort_wg_add(&s->wg, 1);
    CHECK_EQ(gort_go(sieve_main, s), 0);
    for (i = 0; i < 100; i++) {
        v = -1;
        CHECK_EQ(gort_chan_recv(s->primes, &v), 1);
        if (v != first_primes[i]) {
            CHECK_EQ(v, first_primes[i]);
            break;
        }
    }
    /* shut down: the generator stops, each stage closes behind it, the
       sieve closes primes; whatever primes were still on the way are
       drained */
    CHECK_EQ(gort_chan_close(s->quit), 0);
    while (gort_chan_recv(s->primes, &v) == 1) {
        CHECK(extra >= 0);
        extra++;
    }
    gort_wg_wait(&s->wg);
    for (i = 0; i < s->nchans; i++)
        CHECK_EQ(gort_chan_free(s->chans[i]), 0);
    CHECK_EQ(gort_chan_free(s->primes), 0);
    CHECK_EQ(gort_chan_free(s->quit), 0);
    free(s);
}

/* ------------------------------------------------------------ powser, small */

/* A power series is a stream of N integer coefficients on a channel,
   closed after the last. Each operator is a goroutine. Channels are
   buffered N deep so that split never blocks whatever the consumers'
   order (powser1.go uses a demand-driven split for the same reason). */
enum { PS_N = 30, PS_MAXCH = 32 };

struct ps {
    gort_chan *ch[PS_MAXCH];
    int        nch;
    gort_wg    wg;
};

struct psop {
    struct ps *ps;
    int        kind;   /* 0 ones, 1 add, 2 mul, 3 split, 4 deriv */
    int        n;      /* ones: how many terms */
    gort_chan *a, *b, *out, *out2;
};

static gort_chan *ps_chan(struct ps *ps)
{
    gort_chan *c = gort_chan_make(sizeof(long), PS_N + 1);
    CHECK(ps->nch < PS_MAXCH);
    ps->ch[ps->nch++] = c;
    return c;
}

static void ps_run(void *p)
{
    struct psop *o = (struct psop *)p;
    long a[PS_N + 1], b[PS_N + 1], x, y;
    int n = 0, k;
    switch (o->kind) {
    case 0:
        for (n = 0; n < o->n; n++) {
            x = 1;
            CHECK_EQ(gort_chan_send(o->out, &x), 0);
        }
        break;
    case 1:
        while (gort_chan_recv(o->a, &x) == 1 && gort_chan_recv(o->b, &y) == 1) {
            x += y;
            CHECK_EQ(gort_chan_send(o->out, &x), 0);
        }
        break;
    case 2:
        while (n <= PS_N && gort_chan_recv(o->a, &a[n]) == 1 &&
               gort_chan_recv(o->b, &b[n]) == 1) {
            x = 0;
            for (k = 0; k <= n; k++)
                x += a[k] * b[n - k];
            CHECK_EQ(gort_chan_send(o->out, &x), 0);
            n++;
        }
        break;
    case 3:
        while (gort_chan_recv(o->a, &x) == 1) {
            CHECK_EQ(gort_chan_send(o->out, &x), 0);
            CHECK_EQ(gort_chan_send(o->out2, &x), 0);
        }
        CHECK_EQ(gort_chan_close(o->out2), 0);
        break;
    case 4:
        if (gort_chan_recv(o->a, &x) == 1)   /* drop the constant term */
            for (n = 1; gort_chan_recv(o->a, &x) == 1; n++) {
                x *= n;
                CHECK_EQ(gort_chan_send(o->out, &x), 0);
            }
        break;
    }
    CHECK_EQ(gort_chan_close(o->out), 0);
    gort_wg_done(&o->ps->wg);
}

static void ps_start(struct ps *ps, struct psop *o)
{
    o->ps = ps;
    gort_wg_add(&ps->wg, 1);
    CHECK_EQ(gort_go(ps_run, o), 0);
}

static long binom(int n, int k)
{
    long r = 1;
    int i;
    for (i = 1; i <= k; i++)
        r = r * (n - k + i) / i;
    return r;
}

static void expect_series(gort_chan *c, int terms, long (*coef)(int), const char *what)
{
    long x;
    int n = 0, rc;
    while ((rc = gort_chan_recv(c, &x)) == 1) {
        if (n < terms && x != coef(n)) {
            fprintf(stderr, "powser %s: coefficient %d is %ld, want %ld\n", what, n, x, coef(n));
            CHECK_EQ(x, coef(n));
        }
        n++;
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(n, terms);
}

static long c_sq(int n) { return n + 1; }                 /* 1/(1-x)^2 */
static long c_4(int n) { return binom(n + 3, 3); }        /* 1/(1-x)^4 */
static long c_sum(int n) { return n + 2; }                /* 1/(1-x)^2 + 1/(1-x) */

static void test_power_series_streams_match_closed_forms(void)   /* Go test/chan/powser1.go */
{
    struct ps ps;
    struct psop op[16];
    gort_chan *s, *s1, *s2, *sq, *sqa, *sqb, *sqc, *q4, *ones2, *ones3, *sum, *d;
    int i;
    memset(&ps, 0, sizeof ps);
    memset(op, 0, sizeof op);
    s = ps_chan(&ps);
    s1 = ps_chan(&ps);
    s2 = ps_chan(&ps);
    sq = ps_chan(&ps);
    sqa = ps_chan(&ps);
    sqb = ps_chan(&ps);
    sqc = ps_chan(&ps);
    q4 = ps_chan(&ps);
    ones2 = ps_chan(&ps);
    ones3 = ps_chan(&ps);
    sum = ps_chan(&ps);
    d = ps_chan(&ps);

    op[0].kind = 0; op[0].n = PS_N; op[0].out = s;                 /* S = 1/(1-x) */
    op[1].kind = 3; op[1].a = s; op[1].out = s1; op[1].out2 = s2;   /* split S */
    op[2].kind = 2; op[2].a = s1; op[2].b = s2; op[2].out = sq;     /* S*S */
    op[3].kind = 3; op[3].a = sq; op[3].out = sqa; op[3].out2 = sqb;/* split S^2 */
    op[4].kind = 3; op[4].a = sqb; op[4].out = sqc; op[4].out2 = ones2; /* and again */
    op[5].kind = 2; op[5].a = sqa; op[5].b = sqc; op[5].out = q4;   /* S^4 */
    op[6].kind = 0; op[6].n = PS_N; op[6].out = ones3;
    /* ones2 carries S^2 (the second copy); add the fresh ones3 stream */
    op[7].kind = 1; op[7].a = ones2; op[7].b = ones3; op[7].out = sum;
    for (i = 0; i < 8; i++)
        ps_start(&ps, &op[i]);
    expect_series(q4, PS_N, c_4, "1/(1-x)^4");
    expect_series(sum, PS_N, c_sum, "1/(1-x)^2 + 1/(1-x)");

    /* d/dx of 1/(1-x) with N+1 terms: N terms of n+1 */
    {
        gort_chan *o = ps_chan(&ps);
        op[8].kind = 0; op[8].n = PS_N + 1; op[8].out = o;
        op[9].kind = 4; op[9].a = o; op[9].out = d;
        ps_start(&ps, &op[8]);
        ps_start(&ps, &op[9]);
        expect_series(d, PS_N, c_sq, "d/dx 1/(1-x)");
    }
    gort_wg_wait(&ps.wg);
    for (i = 0; i < ps.nch; i++)
        CHECK_EQ(gort_chan_free(ps.ch[i]), 0);
}

/* ------------------------------------------------------------ driver */

static void suite(void *arg)
{
    (void)arg;
    test_goroutine_chain_passes_value_through();
    test_prime_sieve_finds_first_100_primes();
    test_power_series_streams_match_closed_forms();
}

int main(void)
{
    CHECK_EQ(run_procs(1, suite, NULL), 0);
    CHECK_EQ(run_procs(2, suite, NULL), 0);
    return check_done();
}
