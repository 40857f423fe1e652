/* pipeline.c - a software-defined-radio scanner built as a goroutine pipeline.
 *
 * What it shows: stages joined by bounded channels (a slow stage holds the
 * ones before it back), a fan-out of parallel DSP workers and their fan-in,
 * sequence numbers and reordering, a free-list channel that bounds memory,
 * a context that stops every stage (on Ctrl+C, on a deadline, or when the
 * collector has what it wants) through the _ctx calls, a gort_ticker for
 * progress reports, WaitGroups and the "close when the last worker is
 * done" idiom.
 *
 *     capture --raw--> dsp x W --pow--> decode x 2 --det--> collector
 *        ^                                                      |
 *        +------------------ free (block pool) <----------------+
 *
 * capture synthesises blocks of samples as a receiver would deliver them: a
 * steady carrier and gaussian noise from a seeded PRNG, plus bursts of tones
 * on a few scanner channels at positions generated up front. The DSP workers
 * run one Goertzel filter per channel over each block (the power at that
 * channel's frequency); the decoders decide per block which channels carry a
 * burst. Blocks leave the parallel stages in any order: the collector (the
 * main goroutine) puts them back in sequence, joins consecutive detections
 * into bursts, prints them, and checks them against what was generated.
 *
 * The pool holds POOL blocks and the collector returns a block to it only
 * once it has consumed it in order, so at most POOL blocks are in flight
 * anywhere and their sequence numbers span less than POOL: a POOL-slot ring
 * reorders them.
 *
 * Ctrl+C (SIGINT) or -t ms (a deadline) stops the pipeline early: the
 * handler writes a byte to a pipe, a goroutine reading it with
 * gort_read_ctx cancels the context, and every stage returns; what was
 * collected until then is checked (the bursts that ended before it).
 * On Windows (MinGW-w64: link with -lsynchronization -lws2_32) Ctrl+C's
 * handler runs on a thread of its own and sends the byte on a channel.
 *
 * Usage: pipeline [blocks [seed [dsp_workers]]] [-t ms] [-v]
 * Exit status 0 only if every burst it saw end was decoded exactly (all
 * of them when it ran to the end).
 */
#define GORT_IMPLEMENTATION
#include "../gort.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#if !defined(_WIN32)
#include <unistd.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FS          2048000.0 /* sample rate, Hz (an RTL-SDR dongle's) */
#define N           1024      /* samples per block (a power of two); bins are FS/N = 2 kHz apart */
#define NCH         8         /* scanner channels */
#define CARRIER_BIN 17        /* the steady carrier, always on */
#define POOL        16        /* blocks in flight in the whole pipeline */
#define QCAP        4         /* capacity of each channel between stages */
#define MAX_DSP     16
#define NDEC        2         /* decode goroutines */
#define NOISE_SIGMA 0.5
#define CARRIER_AMP 0.7
#define BURST_AMP   0.5
/* A bin holds a burst when its power exceeds THRESH times the block's mean
   bin power (sum of x^2, by Parseval). With the amplitudes above a noise-only
   bin averages under 0.5 of that mean, so a false alarm has odds below
   e^-32 per bin and block, and a burst bin sits above 40 times the mean even
   with all eight channels on: the decisions do not depend on the seed. */
#define THRESH      16.0
#define PI          3.14159265358979323846

/* Channels sit on whole bins: a tone on bin k goes through a whole number of
   cycles per block, so it leaks nothing into other bins and its phase carries
   on from block to block by itself. */
static const int chan_bin[NCH] = { 40, 73, 111, 150, 187, 222, 260, 301 };

typedef struct burst {
    long start;  /* first block */
    long len;    /* blocks */
    int  ch;     /* scanner channel */
    int  phase;  /* tone phase, in table steps (generation only) */
} burst;

typedef struct block {
    long     seq;          /* capture order */
    float    x[N];         /* samples (capture writes; dsp reads) */
    double   energy;       /* dsp: sum of x^2, the mean bin power */
    double   power[NCH];   /* dsp: |X_k|^2 at each channel's bin */
    double   carrier;      /* dsp: |X_k|^2 at the carrier's bin */
    unsigned mask;         /* decode: bit ch set when channel ch has a burst */
    int      carrier_ok;   /* decode: carrier seen */
} block;

/* Everything the stages share. Set up by main_fn before any stage starts;
   the stages only read it, except the counters (atomic). */
static struct {
    long       nblocks;      /* blocks the collector checks */
    uint64_t   seed;
    int        ndsp;
    int        verbose;
    gort_chan *free_ch;      /* block *: the pool, cap POOL */
    gort_chan *raw;          /* block *: capture -> dsp */
    gort_chan *pow;          /* block *: dsp -> decode */
    gort_chan *det;          /* block *: decode -> collector */
    gort_ctx  *ctx;          /* cancelled by the collector, Ctrl+C or the deadline */
    int64_t    deadline_ms;  /* -t: 0 none */
#if defined(_WIN32)
    gort_chan *sigch;        /* Ctrl+C's handler sends a byte on it */
#else
    int        sigpipe[2];   /* SIGINT's handler writes to [1] */
#endif
    gort_wg    all;          /* every goroutine but the collector */
    gort_wg    dsp_wg;       /* dsp workers; a closer closes pow after them */
    gort_wg    dec_wg;       /* decoders; a closer closes det after them */
    burst     *chb[NCH];     /* generated bursts per channel, by start */
    long       nchb[NCH];
    double     coeff[NCH + 1]; /* Goertzel 2cos(w) per channel, then the carrier */
    float      costab[N];      /* cos(2 pi m / N) */
    long       consumed;       /* atomic: blocks the collector took in order */
} pl;

/* ---- PRNG (splitmix64) and noise ---------------------------------------- */

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Near-gaussian, mean 0, variance 1: the sum of four 16-bit uniforms
   (Irwin-Hall), centred and scaled. Cheap, so capture is not the bottleneck. */
static float gauss(uint64_t *s) {
    uint64_t r = rng_next(s);
    double u = (double)(r & 0xffff) + (double)((r >> 16) & 0xffff)
             + (double)((r >> 32) & 0xffff) + (double)(r >> 48);
    return (float)((u / 65536.0 - 2.0) * 1.7320508075688772);
}

/* ---- stage helpers ------------------------------------------------------ */

/* Send *b on c unless the context ends first. 1 sent, 0 stopping. */
static int send_or_quit(gort_chan *c, block **b) {
    return gort_chan_send_ctx(c, b, pl.ctx) == 0;
}

/* Receive into *b from c unless the context ends first. 1 got one, 0 stopping. */
static int recv_or_quit(gort_chan *c, block **b) {
    return gort_chan_recv_ctx(c, b, pl.ctx) == 1;
}

typedef struct closer_arg { gort_wg *wg; gort_chan *c; } closer_arg;

/* Go's `go func() { wg.Wait(); close(out) }()`: the fan-in channel closes
   once every worker feeding it has returned. */
static void closer(void *arg) {
    closer_arg *ca = (closer_arg *)arg;
    gort_wg_wait(ca->wg);
    gort_chan_close(ca->c);
    gort_wg_done(&pl.all);
}

/* ---- capture: the receiver ---------------------------------------------- */

static void synth(block *b, long seq, uint64_t *rng, long *idx) {
    int active[NCH], phase[NCH], na = 0;
    for (int ch = 0; ch < NCH; ch++) {
        while (idx[ch] < pl.nchb[ch] &&
               pl.chb[ch][idx[ch]].start + pl.chb[ch][idx[ch]].len <= seq)
            idx[ch]++;
        if (idx[ch] < pl.nchb[ch] && pl.chb[ch][idx[ch]].start <= seq) {
            active[na] = chan_bin[ch];
            phase[na++] = pl.chb[ch][idx[ch]].phase;
        }
    }
    b->seq = seq;
    for (int i = 0; i < N; i++) {
        double v = NOISE_SIGMA * gauss(rng)
                 + CARRIER_AMP * pl.costab[(CARRIER_BIN * i) & (N - 1)];
        for (int a = 0; a < na; a++)
            v += BURST_AMP * pl.costab[(active[a] * i + phase[a]) & (N - 1)];
        b->x[i] = (float)v;
    }
}

/* An endless source, like a radio: it stops only when the context ends. */
static void capture(void *arg) {
    uint64_t rng = pl.seed ^ 0x5DEECE66Dull;
    long idx[NCH];
    (void)arg;
    memset(idx, 0, sizeof idx);
    for (long seq = 0;; seq++) {
        block *b;
        if (!recv_or_quit(pl.free_ch, &b)) break;   /* waits here when the pool is empty */
        synth(b, seq, &rng, idx);
        if (!send_or_quit(pl.raw, &b)) break;      /* and here when the DSP stage is busy */
    }
    gort_chan_close(pl.raw);
    gort_wg_done(&pl.all);
}

/* ---- dsp: Goertzel filters ---------------------------------------------- */

static double goertzel(const float *x, double coeff) {
    double s1 = 0, s2 = 0;
    for (int i = 0; i < N; i++) {
        double s = x[i] + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

static void dsp(void *arg) {
    block *b;
    (void)arg;
    /* raw closes when capture quits, so a plain receive ends this loop */
    while (gort_chan_recv(pl.raw, &b) == 1) {
        double e = 0;
        for (int i = 0; i < N; i++) e += (double)b->x[i] * b->x[i];
        b->energy = e;
        for (int ch = 0; ch < NCH; ch++) b->power[ch] = goertzel(b->x, pl.coeff[ch]);
        b->carrier = goertzel(b->x, pl.coeff[NCH]);
        if (!send_or_quit(pl.pow, &b)) break;
    }
    gort_wg_done(&pl.dsp_wg);
    gort_wg_done(&pl.all);
}

/* ---- decode: per-block burst detection ---------------------------------- */

static void decode(void *arg) {
    block *b;
    (void)arg;
    while (gort_chan_recv(pl.pow, &b) == 1) {
        double thr = THRESH * b->energy;
        b->mask = 0;
        for (int ch = 0; ch < NCH; ch++)
            if (b->power[ch] > thr) b->mask |= 1u << ch;
        b->carrier_ok = b->carrier > thr;
        if (!send_or_quit(pl.det, &b)) break;
    }
    gort_wg_done(&pl.dec_wg);
    gort_wg_done(&pl.all);
}

/* ---- ticker: progress every 250 ms until the context ends --------------- */

static void ticker(void *arg) {
    long        last = 0;
    int64_t     t_last = gort_now(), t;
    gort_timer *tk = gort_ticker_make(250 * 1000000LL);
    (void)arg;
    while (tk && gort_chan_recv_ctx(gort_timer_chan(tk), &t, pl.ctx) == 1) {
        long n = __atomic_load_n(&pl.consumed, __ATOMIC_RELAXED);
        printf("  ... %ld blocks (%.0f blocks/s)\n", n, (double)(n - last) * 1e9 / (double)(t - t_last));
        last = n;
        t_last = t;
    }
    gort_timer_free(tk);
    gort_wg_done(&pl.all);
}

/* ---- Ctrl+C: the handler writes a byte, this goroutine cancels ---------- */

#if defined(_WIN32)
/* Windows runs Ctrl+C's handler on a thread of its own, an ordinary one
   (not a signal context), which may call gort: it hands the event over a
   channel. Ctrl+Break is left to gort (the dump). */
static BOOL WINAPI on_ctrl_c(DWORD type) {
    char c = 2;
    if (type != CTRL_C_EVENT) return FALSE;
    (void)gort_chan_try_send(pl.sigch, &c);
    return TRUE;
}
#else
static void on_sigint(int sig) {
    int saved = errno;   /* the handler runs on whatever thread SIGINT hit */
    char c = (char)sig;
    (void)!write(pl.sigpipe[1], &c, 1);
    errno = saved;
}
#endif

static void interrupt_watch(void *arg) {
    char c;
    (void)arg;
    /* ends with -ECANCELED or -ETIMEDOUT when the pipeline stops otherwise */
#if defined(_WIN32)
    if (gort_chan_recv_ctx(pl.sigch, &c, pl.ctx) == 1) {
#else
    if (gort_read_ctx(pl.sigpipe[0], &c, 1, pl.ctx) == 1) {
#endif
        printf("interrupt: stopping every stage\n");
        gort_ctx_cancel(pl.ctx);
    }
    gort_wg_done(&pl.all);
}

/* ---- generation and checking -------------------------------------------- */

static int burst_cmp(const void *a, const void *b) {
    const burst *x = (const burst *)a, *y = (const burst *)b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->ch - y->ch;
}

/* Bursts of 1..12 blocks, 2..101 blocks apart on each channel, all inside
   the checked blocks. Returns the total, or -1 when out of memory. */
static long generate(void) {
    uint64_t rng = pl.seed;
    long total = 0;
    for (int ch = 0; ch < NCH; ch++) {
        long cap = pl.nblocks / 3 + 1, n = 0;
        long t = (long)(rng_next(&rng) % 100);
        pl.chb[ch] = (burst *)malloc((size_t)cap * sizeof(burst));
        if (!pl.chb[ch]) return -1;
        for (;;) {
            long len = 1 + (long)(rng_next(&rng) % 12);
            if (t + len > pl.nblocks || n == cap) break;
            pl.chb[ch][n].start = t;
            pl.chb[ch][n].len = len;
            pl.chb[ch][n].ch = ch;
            pl.chb[ch][n].phase = (int)(rng_next(&rng) % N);
            n++;
            t += len + 2 + (long)(rng_next(&rng) % 100);
        }
        pl.nchb[ch] = n;
        total += n;
    }
    return total;
}

static void print_burst(const char *tag, const burst *b) {
    printf("%s ch %d %6.1f kHz  blocks %6ld..%-6ld %5.2f ms\n", tag, b->ch,
           chan_bin[b->ch] * FS / N / 1000.0, b->start, b->start + b->len - 1,
           b->len * N / FS * 1000.0);
}

/* ---- the collector: main goroutine -------------------------------------- */

static int result = 1;   /* exit status, set by main_fn */

static void main_fn(void *arg) {
    block  *pool = NULL, *ring[POOL];
    burst  *gen = NULL, *found = NULL;
    long    ngen, nfound = 0, next = 0, reordered = 0, carrier_blocks = 0;
    long    open[NCH];
    int     ok = 1, stopped = 0;
    int64_t t0, t1;
    closer_arg dsp_closer, dec_closer;
    (void)arg;

    /* tables and the scenario */
    for (int m = 0; m < N; m++) pl.costab[m] = (float)cos(2 * PI * m / N);
    for (int ch = 0; ch < NCH; ch++) pl.coeff[ch] = 2 * cos(2 * PI * chan_bin[ch] / N);
    pl.coeff[NCH] = 2 * cos(2 * PI * CARRIER_BIN / N);
    ngen = generate();
    pool = (block *)calloc(POOL, sizeof(block));
    if (ngen < 0 || !pool) { fprintf(stderr, "pipeline: out of memory\n"); goto out; }
    gen = (burst *)malloc((size_t)(ngen + 1) * sizeof(burst));
    found = (burst *)malloc((size_t)(ngen + 1) * sizeof(burst));
    if (!gen || !found) { fprintf(stderr, "pipeline: out of memory\n"); goto out; }
    ngen = 0;
    for (int ch = 0; ch < NCH; ch++)
        for (long i = 0; i < pl.nchb[ch]; i++) gen[ngen++] = pl.chb[ch][i];
    qsort(gen, (size_t)ngen, sizeof(burst), burst_cmp);

    pl.free_ch = gort_chan_make(sizeof(block *), POOL);
    pl.raw     = gort_chan_make(sizeof(block *), QCAP);
    pl.pow     = gort_chan_make(sizeof(block *), QCAP);
    pl.det     = gort_chan_make(sizeof(block *), QCAP);
    pl.ctx     = pl.deadline_ms > 0 ? gort_ctx_with_timeout(NULL, pl.deadline_ms * 1000000LL)
                                    : gort_ctx_with_cancel(NULL);
    if (!pl.free_ch || !pl.raw || !pl.pow || !pl.det || !pl.ctx) {
        fprintf(stderr, "pipeline: cannot make channels\n");
        goto out;
    }
    for (int i = 0; i < POOL; i++) {
        block *b = &pool[i];
        gort_chan_send(pl.free_ch, &b);   /* cap POOL: never blocks */
        ring[i] = NULL;
    }
    for (int ch = 0; ch < NCH; ch++) open[ch] = -1;

    printf("pipeline: %ld blocks of %d samples at %.3f MS/s, %d channels, %d dsp + %d decode "
           "goroutines, %d procs, seed %llu\n",
           pl.nblocks, N, FS / 1e6, NCH, pl.ndsp, NDEC, gort_maxprocs(),
           (unsigned long long)pl.seed);
    printf("generated %ld bursts; carrier at %.1f kHz\n", ngen, CARRIER_BIN * FS / N / 1000.0);

    /* start the stages */
    t0 = gort_now();
    gort_wg_add(&pl.all, 1 + pl.ndsp + NDEC + 2 + 1 + 1);
    gort_wg_add(&pl.dsp_wg, pl.ndsp);
    gort_wg_add(&pl.dec_wg, NDEC);
    dsp_closer.wg = &pl.dsp_wg; dsp_closer.c = pl.pow;
    dec_closer.wg = &pl.dec_wg; dec_closer.c = pl.det;
    {
        int err = gort_go(capture, NULL);
        for (int i = 0; i < pl.ndsp && !err; i++) err = gort_go(dsp, NULL);
        for (int i = 0; i < NDEC && !err; i++) err = gort_go(decode, NULL);
        if (!err) err = gort_go(closer, &dsp_closer);
        if (!err) err = gort_go(closer, &dec_closer);
        if (!err) err = gort_go(ticker, NULL);
        if (!err) err = gort_go(interrupt_watch, NULL);
        if (err) {
            /* the goroutines started so far would wait forever; a real
               program would cancel the context and unwind them */
            fprintf(stderr, "pipeline: gort_go: %s\n", gort_strerror(err));
            exit(1);
        }
    }

    /* collect: reorder, join detections into bursts */
    while (next < pl.nblocks) {
        block *b;
        int r = gort_chan_recv_ctx(pl.det, &b, pl.ctx);
        if (r < 0) {   /* Ctrl+C or the deadline */
            stopped = r;
            printf("stopped after %ld blocks: %s\n", next,
                   r == -ETIMEDOUT ? "the deadline passed" : "cancelled");
            break;
        }
        if (r != 1) {
            fprintf(stderr, "pipeline: det closed early at block %ld\n", next);
            ok = 0;
            break;
        }
        if (b->seq != next) reordered++;
        if (b->seq < next || b->seq >= next + POOL || ring[b->seq % POOL]) {
            fprintf(stderr, "pipeline: block %ld outside the window at %ld\n", b->seq, next);
            ok = 0;
            break;
        }
        ring[b->seq % POOL] = b;
        while (next < pl.nblocks && (b = ring[next % POOL]) != NULL) {
            ring[next % POOL] = NULL;
            for (int ch = 0; ch < NCH; ch++) {
                int on = (b->mask >> ch) & 1;
                if (on && open[ch] < 0) open[ch] = next;
                if (!on && open[ch] >= 0) {
                    if (nfound <= ngen) {
                        found[nfound].start = open[ch];
                        found[nfound].len = next - open[ch];
                        found[nfound].ch = ch;
                    }
                    nfound++;
                    open[ch] = -1;
                }
            }
            carrier_blocks += b->carrier_ok;
            next++;
            __atomic_store_n(&pl.consumed, next, __ATOMIC_RELAXED);
            gort_chan_send(pl.free_ch, &b);   /* back to the pool, let capture go on */
        }
    }
    t1 = gort_now();

    /* shut down: cancel, drain what is in flight, wait for every goroutine */
    gort_ctx_cancel(pl.ctx);
    {
        block *b;
        while (gort_chan_recv(pl.det, &b) == 1) {}
    }
    gort_wg_wait(&pl.all);

    /* Stopped early: check the bursts that ended before the stop (a burst
       is closed at the first block after it, so it ended before next - 1). */
    if (stopped) {
        long k = 0;
        for (long i = 0; i < ngen; i++)
            if (gen[i].start + gen[i].len < next) gen[k++] = gen[i];
        ngen = k;
    }
    for (int ch = 0; ch < NCH && !stopped; ch++)   /* a burst still on at the last block */
        if (open[ch] >= 0) {
            if (nfound <= ngen) {
                found[nfound].start = open[ch];
                found[nfound].len = next - open[ch];
                found[nfound].ch = ch;
            }
            nfound++;
        }

    {
        double secs = (double)(t1 - t0) / 1e9;
        printf("%ld blocks (%.1f M samples) in %.1f ms: %.0f blocks/s, %.1f M samples/s; "
               "%ld arrived out of order\n",
               next, next * (double)N / 1e6, secs * 1e3, next / secs, next * (double)N / secs / 1e6,
               reordered);
    }

    /* check */
    if (nfound > ngen) {
        printf("MISMATCH: decoded %ld bursts, generated %ld\n", nfound, ngen);
        ok = 0;
    } else {
        long shown = 0;
        qsort(found, (size_t)nfound, sizeof(burst), burst_cmp);
        for (long i = 0; i < nfound; i++) {
            if (pl.verbose || i < 8) print_burst("  found", &found[i]);
            else if (i == 8) printf("  ... (-v prints all)\n");
        }
        for (long i = 0; i < ngen || i < nfound; i++) {
            if (i < ngen && i < nfound && burst_cmp(&gen[i], &found[i]) == 0 &&
                gen[i].len == found[i].len)
                continue;
            ok = 0;
            if (shown++ < 5) {
                printf("MISMATCH at burst %ld:\n", i);
                if (i < ngen) print_burst("  generated", &gen[i]);
                if (i < nfound) print_burst("  decoded  ", &found[i]);
            }
        }
        if (nfound != ngen) printf("MISMATCH: decoded %ld bursts, generated %ld\n", nfound, ngen);
    }
    if (carrier_blocks != next) {
        printf("MISMATCH: carrier seen in %ld of %ld blocks\n", carrier_blocks, next);
        ok = 0;
    }
    if (ok) {
        printf("OK: all %ld bursts on %d channels decoded exactly; carrier in %ld/%ld blocks%s\n",
               ngen, NCH, carrier_blocks, next, stopped ? " (up to the stop)" : "");
        result = 0;
    } else {
        printf("FAILED\n");
    }

out:
    if (pl.free_ch) gort_chan_free(pl.free_ch);
    if (pl.raw) gort_chan_free(pl.raw);
    if (pl.pow) gort_chan_free(pl.pow);
    if (pl.det) gort_chan_free(pl.det);
    gort_ctx_free(pl.ctx);
    for (int ch = 0; ch < NCH; ch++) free(pl.chb[ch]);
    free(pool);
    free(gen);
    free(found);
}

static int parse(const char *s, long lo, long hi, long *out) {
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

int main(int argc, char **argv) {
    long v[3] = { 20000, 1, 4 }, ms;
    int nv = 0, rc;
    static const long lo[3] = { 1, 0, 1 }, hi[3] = { 100000000L, LONG_MAX, MAX_DSP };
#if !defined(_WIN32)
    struct sigaction sa;
#endif
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            pl.verbose = 1;
        } else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc && parse(argv[i + 1], 1, 86400000L, &ms)) {
            pl.deadline_ms = ms;
            i++;
        } else if (nv < 3 && parse(argv[i], lo[nv], hi[nv], &v[nv])) {
            nv++;
        } else {
            fprintf(stderr, "usage: %s [blocks [seed [dsp_workers 1..%d]]] [-t ms] [-v]\n", argv[0], MAX_DSP);
            return 2;
        }
    }
    pl.nblocks = v[0];
    pl.seed = (uint64_t)v[1];
    pl.ndsp = (int)v[2];
#if defined(_WIN32)
    pl.sigch = gort_chan_make(1, 1);
    if (!pl.sigch) { fprintf(stderr, "pipeline: out of memory\n"); return 1; }
    SetConsoleCtrlHandler(on_ctrl_c, TRUE);
#else
    if (pipe(pl.sigpipe) != 0) { perror("pipeline: pipe"); return 1; }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
#endif
    rc = gort_run(main_fn, NULL);
    if (rc != 0) {
        fprintf(stderr, "pipeline: gort_run: %s\n", gort_strerror(rc));
        return 1;
    }
    return result;
}
