/* fuzz_chan.c - libFuzzer harness: each input is a small concurrent
   program (goroutines, plain threads, channels, select, timers, a mutex,
   socketpair I/O) run by one gort_run and checked against a model.

   Build and run (what `make fuzz` and tests/run.sh do):

       clang -g -O1 -fsanitize=fuzzer,address,undefined -DGORT_FUZZ_LIBFUZZER \
             -I. -Itests tests/fuzz_chan.c -o fuzz_chan -pthread
       ./fuzz_chan -timeout=60 NEW_DIR tests/fuzz/corpus_chan

   Without -DGORT_FUZZ_LIBFUZZER (which the fuzzer builds pass; clang's
   -fsanitize=fuzzer defines no macro of its own), the file has its own
   main() that replays the files (or directories of files) given as
   arguments, so the corpus can be replayed under gcc, TSan or Valgrind:

       gcc -O1 -g -Wall -Wextra -pthread -I. -Itests tests/fuzz_chan.c -o replay
       ./replay tests/fuzz/corpus_chan

   What one input decodes into (a short input is padded with zero bytes):
     - the runtime: maxprocs 1 to 4, GORT_DEBUG_MIGRATE or not;
     - 1-4 shared channels, each of capacity 0, 1, 2, 3, 5, 8 or 64 and
       element size 0, 8, 12, 16, 24 or 72;
     - 1-4 goroutine actors and 0-2 plain-thread actors, each running a
       script of up to 24 ops on the shared channels: blocking send and
       receive, try_send, try_recv, close (if the input allows), select
       over up to 10 cases (NULL cases included) with timeout 0, 20 us,
       300 us or none, len/cap, sleep/yield, select with a gort_after
       timer (freed before it fires, or waited for), a gort_timer stopped
       and reset before a select, a receive under a context with a
       deadline (gort_chan_recv_ctx), nil-channel calls, a gort_mutex-guarded counter, and a
       "local" op: a private channel driven through a deterministic
       sequence of calls whose every result the model predicts exactly;
     - 0-2 socketpair streams, each in one or two rounds (the second reuses
       the first's fd numbers): a writer (goroutine or thread) writes a
       known byte pattern in chunks, a reader (goroutine or thread) reads it
       back (sometimes waiting first with gort_wait_fd, gort_read_timeout or
       a select with an fd case) until end-of-file, or (if the input says)
       to half way, then closes its end: the writer must then get -EPIPE
       or -ECONNRESET, or finish if the rest fitted in the socket buffer.

   A goroutine actor ends by returning or (if the input says) gort_exit().

   Termination: main waits for the actors until a short decoded deadline,
   then closes every shared channel, which releases every blocked send,
   receive and select (no op waits on a nil channel without a timeout), and
   waits for everyone. A plain thread counts for gort's deadlock detection
   only once it has called into gort, so whoever starts one waits (with a
   timeout pending) until it has. A watchdog thread aborts (after a goroutine dump) if
   one input runs longer than $GORT_FUZZ_WATCHDOG seconds (default 20).

   What is checked (every failure aborts, so libFuzzer saves the input):
     - every call returns one of the codes the contract lists for it;
     - every value received was sent by a send that returned success, at
       most once; every value sent successfully is received by the end
       (actors, or main draining the closed channels): counts add up;
     - a value arrives whole (element bytes are a function of its
       producer, channel and sequence number) on the channel it was sent on;
     - per receiver, values from one producer on one channel arrive in
       the order sent, and what main drains at the end is newer than
       anything an actor received from that producer (FIFO);
     - a receive that reports "closed" (0, or ok == 0 in select) zeroes
       the element and happens after a close; a send that fails with -EPIPE
       likewise; a channel is closed successfully exactly once;
     - select's unchosen receive cases leave their buffers alone; a select
       that times out waited at least its timeout;
     - len <= cap, cap is what was asked for; the local channel's every
       result matches the model exactly;
     - a gort_after channel gets one value, not before its time (main
       waits for the ones not yet fired and not freed); a gort_timer
       nobody received from stops with 1 and then holds nothing, a reset
       one fires no earlier than the reset's deadline and stops with 0
       once received; a context's timeout comes no sooner than asked;
     - the mutex counter equals the number of increments; socket streams
       arrive complete and in order; gort_run returns 0; nothing leaks
       (ASan's leak check under libFuzzer).

   The socket rounds may close their fds with plain close() inside the run
   (a second round then reuses the numbers), as ordinary C code does; gort
   owns no fd. GORT_FUZZ_PLAIN_CLOSE=0 turns that off (a round then uses
   gort_close, or shutdown() inside the run and close() after gort_run
   returns). */
#define GORT_IMPLEMENTATION
#include "gort.h"
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#define NGO_MAX    4
#define NTH_MAX    2
#define NACT       (NGO_MAX + NTH_MAX)   /* producer ids 0..5 */
#define NCHAN_MAX  4
#define MAXOPS     24
#define MAXSEQ     256                   /* per producer and channel: 24 ops x 10 cases < 256 */
#define MAXCASE    10                    /* more than 8: select's heap path */
#define ESIZE_MAX  72
#define NPAIR_MAX  2
#define MAIN_LOG   (NACT * NCHAN_MAX * MAXSEQ)

/* Any failed check aborts at the end of the input (after the run, so the
   message names every failure); the LLVMFuzzerTestOneInput caller then
   gets a crash with the input saved. */
#define FAIL_IF(cond, ...)                                              \
    do {                                                                \
        if (cond) {   /* evaluated once: cond may make a call */        \
            fflush(stdout);                                             \
            fprintf(stderr, "fuzz_chan: " __VA_ARGS__);                 \
            fputc('\n', stderr);                                        \
            check__fail(__FILE__, __LINE__, "not (" #cond ")");         \
        }                                                               \
    } while (0)

typedef struct { const uint8_t *p; size_t n, i; } reader;
static uint8_t rd(reader *r) { return r->i < r->n ? r->p[r->i++] : 0; }

typedef struct { uint8_t op, a1, a2, a3; } op_t;

typedef struct {
    uint32_t n;
    uint32_t v[MAXOPS];   /* pid << 24 | chan << 16 | seq */
} alog;

typedef struct {
    int id;                 /* index in world.io */
    int writer_thread, reader_thread;
    int rounds, close_mode; /* 0 gort_close, 1 shutdown + close after the run, 2 plain close */
    int early;              /* the reader stops half way and closes its end: the writer gets -EPIPE */
    size_t total;
    uint8_t wchunk, rchunk, rstyle;
    int fds[2];
    gort_chan *done;        /* reader -> writer: finished */
    gort_chan *started;     /* a reader that is a plain thread announces itself */
    pthread_t rthread;
} iopair;

static struct world {
    int maxprocs, migrate, ngo, nth, nchan, actor_close, npair;
    int64_t phase_ns;
    gort_chan *ch[NCHAN_MAX];
    size_t cap[NCHAN_MAX], esize[NCHAN_MAX];
    uint32_t closed[NCHAN_MAX];      /* atomic: set before any gort_chan_close */
    uint32_t close_ok[NCHAN_MAX];    /* atomic: closes that returned 0 */
    uint32_t tok_sent[NCHAN_MAX], tok_recv[NCHAN_MAX];   /* atomic: element size 0 */
    uint8_t  sent_ok[NACT][NCHAN_MAX][MAXSEQ];  /* written by the producer only */
    uint32_t nseq[NACT][NCHAN_MAX];             /* producer-private */
    op_t     script[NACT][MAXOPS];
    int      nops[NACT];
    int      goexit[NACT];
    alog     log[NACT];
    uint32_t main_log[MAIN_LOG];
    uint32_t main_n;
    gort_chan *done;
    gort_chan *started;              /* plain threads announce themselves here */
    gort_wg    wg;
    gort_mutex mu;
    long       mu_counter;           /* guarded by mu */
    long       mu_incs;              /* atomic */
    gort_chan *afters[NACT][MAXOPS]; /* gort_after channels not received from yet */
    int64_t    after_until[NACT][MAXOPS];
    int        nafter[NACT];
    pthread_t  threads[NTH_MAX];
    pthread_t  wthreads[NPAIR_MAX];      /* stream writers that are plain threads */
    iopair     io[NPAIR_MAX];
    int        late_close[NPAIR_MAX * 4];   /* fds to close() after gort_run */
    int        nlate;                       /* atomic */
    int        plain_close_ok;
} W;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ------------------------------------------------------------ values */

static uint8_t pat(unsigned pid, unsigned c, unsigned seq, size_t i) {
    return (uint8_t)(pid * 31u + c * 17u + seq * 7u + (unsigned)i * 3u + 1u);
}

static void encode(void *buf, size_t esize, unsigned pid, unsigned c, unsigned seq) {
    uint8_t *b = (uint8_t *)buf;
    size_t i;
    if (esize == 0) return;
    b[0] = (uint8_t)pid; b[1] = (uint8_t)c; b[2] = 0x5a; b[3] = (uint8_t)(~(pid ^ c));
    memcpy(b + 4, &seq, 4);
    for (i = 8; i < esize; i++) b[i] = pat(pid, c, seq, i);
}

static int all_bytes(const void *buf, size_t n, uint8_t v) {
    const uint8_t *b = (const uint8_t *)buf;
    size_t i;
    for (i = 0; i < n; i++)
        if (b[i] != v) return 0;
    return 1;
}

/* A value received on shared channel c: check it and return its log word
   (or UINT32_MAX if it is malformed). */
static uint32_t decode(const void *buf, int c) {
    const uint8_t *b = (const uint8_t *)buf;
    uint32_t seq;
    size_t i, es = W.esize[c];
    memcpy(&seq, b + 4, 4);
    if (b[2] != 0x5a || b[0] >= NACT || b[1] != (uint8_t)c || b[3] != (uint8_t)(~(b[0] ^ b[1])) || seq >= MAXSEQ) {
        FAIL_IF(1, "channel %d delivered a malformed value (%02x %02x %02x %02x seq %u)",
                c, b[0], b[1], b[2], b[3], seq);
        return UINT32_MAX;
    }
    for (i = 8; i < es; i++) {
        if (b[i] != pat(b[0], b[1], seq, i)) {
            FAIL_IF(1, "channel %d: value (producer %u, seq %u) corrupted at byte %zu", c, b[0], seq, i);
            return UINT32_MAX;
        }
    }
    return (uint32_t)b[0] << 24 | (uint32_t)c << 16 | seq;
}

static void logv(alog *l, uint32_t v) {
    if (v == UINT32_MAX) return;
    if (l->n < MAXOPS) l->v[l->n++] = v;
    else FAIL_IF(1, "receiver log overflow (more receives than ops)");
}

/* A plain thread counts for gort's deadlock detection once it has called
   into gort (API.md), so each one announces itself before it does anything
   else, and whoever started it waits for that with a timer pending (a timer
   also keeps gort from reporting a deadlock meanwhile). */
static void thread_announce(gort_chan *started) {
    int one = 1, r = gort_chan_send(started, &one);
    FAIL_IF(r != 0, "send on the started channel: %d", r);
}

static void wait_announced(gort_chan *started) {
    int v, r;
    for (;;) {
        gort_case cs;
        memset(&cs, 0, sizeof cs);
        cs.chan = started; cs.op = GORT_RECV; cs.elem = &v;
        r = gort_select(&cs, 1, 1000000000);
        if (r == 0 && cs.ok == 1) return;
        FAIL_IF(r != -ETIMEDOUT, "select on the started channel: %d ok %d", r, cs.ok);
        if (r != -ETIMEDOUT) return;
    }
}

static int is_closed(int c) { return (int)__atomic_load_n(&W.closed[c], __ATOMIC_ACQUIRE); }

static void do_close(int c) {
    int r;
    __atomic_store_n(&W.closed[c], 1, __ATOMIC_RELEASE);
    r = gort_chan_close(W.ch[c]);
    FAIL_IF(r != 0 && r != -EPIPE, "gort_chan_close returned %d", r);
    if (r == 0) __atomic_fetch_add(&W.close_ok[c], 1, __ATOMIC_SEQ_CST);
}

/* After a receive on shared channel c returned r (1 value, 0 closed). */
static void after_recv(alog *l, int c, int r, const void *buf, const char *what) {
    if (r == 1) {
        if (W.esize[c] == 0) __atomic_fetch_add(&W.tok_recv[c], 1, __ATOMIC_SEQ_CST);
        else logv(l, decode(buf, c));
    } else if (r == 0) {
        FAIL_IF(!is_closed(c), "%s on channel %d reported closed, but nobody closed it", what, c);
        FAIL_IF(!all_bytes(buf, W.esize[c], 0), "%s on closed channel %d did not zero the element", what, c);
    } else {
        FAIL_IF(1, "%s returned %d", what, r);
    }
}

/* ------------------------------------------------------------ the local op
   A channel nobody else sees: every call's result is predictable. */
static uint32_t xs(uint32_t *s) {
    uint32_t x = *s;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    return *s = x ? x : 0x9e3779b9u;
}

static void local_op(const op_t *o) {
    static const size_t caps[4] = { 0, 1, 2, 4 };
    static const size_t sizes[4] = { 0, 8, 4, 40 };
    uint32_t s = (uint32_t)o->a1 << 16 | (uint32_t)o->a2 << 8 | o->a3 | 1u;
    size_t cap = caps[o->a1 & 3], es = sizes[(o->a1 >> 2) & 3];
    uint32_t q[8], head = 0, cnt = 0, next = 1;   /* model: FIFO of sequence numbers */
    int closed = 0, k, m = 4 + (int)((o->a1 >> 4) & 7), r;
    uint8_t in[40], out[40];
    gort_chan *lc = gort_chan_make(es, cap);
    FAIL_IF(!lc, "gort_chan_make(%zu, %zu) failed", es, cap);
    if (!lc) return;
    FAIL_IF(gort_chan_cap(lc) != cap, "local cap %zu, asked for %zu", gort_chan_cap(lc), cap);
    for (k = 0; k < m; k++) {
        uint32_t x = xs(&s);
        int would_block_send = !closed && cnt == cap, would_block_recv = !closed && cnt == 0;
        memset(in, 0, sizeof in);
        memcpy(in, &next, sizeof next);
        memset(out, 0xcc, sizeof out);
        switch (x % 8) {
        case 0: case 1:   /* try_send */
            r = gort_chan_try_send(lc, es ? in : NULL);
            if (closed) FAIL_IF(r != -EPIPE, "local try_send on closed: %d", r);
            else if (cnt == cap) FAIL_IF(r != -EAGAIN, "local try_send on full (cap %zu): %d", cap, r);
            else { FAIL_IF(r != 0, "local try_send with room: %d", r); q[(head + cnt++) % 8] = next++; }
            break;
        case 2: case 3:   /* try_recv */
            r = gort_chan_try_recv(lc, es ? out : NULL);
            if (cnt) {
                FAIL_IF(r != 1, "local try_recv with %u buffered: %d", cnt, r);
                if (es >= 4) FAIL_IF(memcmp(out, &q[head], 4) != 0, "local try_recv: not FIFO");
                head = (head + 1) % 8; cnt--;
            } else if (closed) {
                FAIL_IF(r != 0, "local try_recv on closed and empty: %d", r);
                FAIL_IF(!all_bytes(out, es, 0), "local try_recv on closed: element not zeroed");
            } else {
                FAIL_IF(r != -EAGAIN, "local try_recv on empty: %d", r);
                FAIL_IF(!all_bytes(out, es, 0xcc), "local try_recv -EAGAIN wrote the element");
            }
            break;
        case 4: {   /* select with one or two cases, timeout 0 or 30 us */
            gort_case cs[2];
            int64_t tmo = (x >> 8) & 1 ? 30000 : 0, t0;
            int send = (x >> 9) & 1, two = (x >> 10) & 1;
            memset(cs, 0, sizeof cs);
            cs[0].chan = lc; cs[0].op = send ? GORT_SEND : GORT_RECV; cs[0].elem = send ? (void *)in : (void *)out;
            cs[1].chan = NULL; cs[1].op = GORT_RECV; cs[1].elem = NULL;   /* a nil case: never ready */
            t0 = gort_now();
            r = gort_select(cs, two ? 2 : 1, tmo);
            if (send ? would_block_send : would_block_recv) {
                FAIL_IF(r != (tmo ? -ETIMEDOUT : -EAGAIN), "local select that must block: %d", r);
                if (tmo) FAIL_IF(gort_now() - t0 < tmo, "select timed out after %lld ns < %lld",
                                 (long long)(gort_now() - t0), (long long)tmo);
            } else {
                FAIL_IF(r != 0, "local select with a ready case: %d", r);
                if (r != 0) break;
                if (send && closed) FAIL_IF(cs[0].ok != 0, "local select send on closed: ok %d", cs[0].ok);
                else if (send) { FAIL_IF(cs[0].ok != 1, "local select send: ok %d", cs[0].ok); q[(head + cnt++) % 8] = next++; }
                else if (cnt) {
                    FAIL_IF(cs[0].ok != 1, "local select recv: ok %d", cs[0].ok);
                    if (es >= 4) FAIL_IF(memcmp(out, &q[head], 4) != 0, "local select recv: not FIFO");
                    head = (head + 1) % 8; cnt--;
                } else {
                    FAIL_IF(cs[0].ok != 0, "local select recv on closed: ok %d", cs[0].ok);
                    FAIL_IF(!all_bytes(out, es, 0), "local select recv on closed: element not zeroed");
                }
            }
            break;
        }
        case 5:   /* blocking call that cannot block */
            if (!would_block_send && (x >> 8) & 1) {
                r = gort_chan_send(lc, es ? in : NULL);
                if (closed) FAIL_IF(r != -EPIPE, "local send on closed: %d", r);
                else { FAIL_IF(r != 0, "local send with room: %d", r); q[(head + cnt++) % 8] = next++; }
            } else if (!would_block_recv) {
                r = gort_chan_recv(lc, es ? out : NULL);
                if (cnt) {
                    FAIL_IF(r != 1, "local recv with %u buffered: %d", cnt, r);
                    if (es >= 4) FAIL_IF(memcmp(out, &q[head], 4) != 0, "local recv: not FIFO");
                    head = (head + 1) % 8; cnt--;
                } else {
                    FAIL_IF(r != 0, "local recv on closed: %d", r);
                    FAIL_IF(!all_bytes(out, es, 0), "local recv on closed: element not zeroed");
                }
            }
            break;
        case 6:
            FAIL_IF(gort_chan_len(lc) != cnt, "local len %zu, model %u", gort_chan_len(lc), cnt);
            break;
        case 7:
            if ((x >> 8) % 4 == 0) {
                r = gort_chan_close(lc);
                FAIL_IF(r != (closed ? -EPIPE : 0), "local close (closed %d): %d", closed, r);
                closed = 1;
            }
            break;
        }
    }
    FAIL_IF(gort_chan_len(lc) != cnt, "local len %zu at the end, model %u", gort_chan_len(lc), cnt);
    r = gort_chan_free(lc);
    FAIL_IF(r != 0, "gort_chan_free of a channel nobody waits on: %d", r);
}

/* ------------------------------------------------------------ actors */

static int pick_chan(uint8_t b) { return b % W.nchan; }

static void act_send(int me, int c, int block) {
    uint8_t buf[ESIZE_MAX];
    unsigned seq = W.nseq[me][c]++;
    int r;
    encode(buf, W.esize[c], (unsigned)me, (unsigned)c, seq);
    /* elem may be NULL when the element size is 0 */
    r = block ? gort_chan_send(W.ch[c], W.esize[c] ? buf : NULL)
              : gort_chan_try_send(W.ch[c], W.esize[c] ? buf : NULL);
    if (r == 0) {
        if (W.esize[c]) W.sent_ok[me][c][seq] = 1;
        else __atomic_fetch_add(&W.tok_sent[c], 1, __ATOMIC_SEQ_CST);
    } else if (r == -EPIPE) {
        FAIL_IF(!is_closed(c), "send on channel %d: -EPIPE, but nobody closed it", c);
    } else {
        FAIL_IF(block || r != -EAGAIN, "%s returned %d", block ? "gort_chan_send" : "gort_chan_try_send", r);
    }
}

static void act_recv(int me, int c, int block) {
    uint8_t buf[ESIZE_MAX];
    int r;
    memset(buf, 0xcc, sizeof buf);
    r = block ? gort_chan_recv(W.ch[c], buf) : gort_chan_try_recv(W.ch[c], buf);
    if (!block && r == -EAGAIN) {
        FAIL_IF(!all_bytes(buf, sizeof buf, 0xcc), "try_recv -EAGAIN wrote the element");
        return;
    }
    after_recv(&W.log[me], c, r, buf, block ? "gort_chan_recv" : "gort_chan_try_recv");
}

static void act_select(int me, const op_t *o) {
    static const int64_t tmos[4] = { 0, 20000, 300000, -1 };
    gort_case cs[MAXCASE];
    uint8_t bufs[MAXCASE][ESIZE_MAX];
    unsigned seqs[MAXCASE];
    int chans[MAXCASE];
    int n = 1 + (o->a1 & 3), i, r, live = 0;
    int64_t tmo = tmos[(o->a1 >> 2) & 3], t0;
    uint32_t bits = (uint32_t)o->a2 | (uint32_t)o->a3 << 8, more = bits | 1u;
    if ((o->a1 & 0x30) == 0x30) n = 9 + (o->a1 >> 6 & 1);   /* over 8 cases */
    memset(cs, 0, sizeof cs);
    for (i = 0; i < n; i++) {
        unsigned b = i < 4 ? bits >> (4 * i) : xs(&more);
        int c = (int)((b >> 1) & 7) % (W.nchan + 1);   /* nchan: a nil case */
        chans[i] = c < W.nchan ? c : -1;
        cs[i].op = b & 1 ? GORT_SEND : GORT_RECV;
        cs[i].chan = chans[i] >= 0 ? W.ch[c] : NULL;
        cs[i].elem = bufs[i];
        memset(bufs[i], 0xcc, ESIZE_MAX);
        if (chans[i] >= 0) {
            live++;
            if (cs[i].op == GORT_SEND) {
                seqs[i] = W.nseq[me][c]++;
                encode(bufs[i], W.esize[c], (unsigned)me, (unsigned)c, seqs[i]);
            }
        }
    }
    if (tmo < 0 && !live) tmo = 100000;   /* only closing a channel ends a blocked select */
    t0 = gort_now();
    r = gort_select(cs, n, tmo);
    if (r == -EAGAIN || r == -ETIMEDOUT) {
        FAIL_IF(r != (tmo == 0 ? -EAGAIN : -ETIMEDOUT) || tmo < 0, "gort_select(timeout %lld) returned %d",
                (long long)tmo, r);
        if (r == -ETIMEDOUT) FAIL_IF(gort_now() - t0 < tmo, "select timed out after %lld ns < %lld",
                                     (long long)(gort_now() - t0), (long long)tmo);
    } else if (r < 0 || r >= n) {
        FAIL_IF(1, "gort_select returned %d (n %d)", r, n);
        return;
    }
    for (i = 0; i < n; i++) {
        if (i == r || cs[i].op != GORT_RECV) continue;
        FAIL_IF(!all_bytes(bufs[i], ESIZE_MAX, 0xcc), "select wrote the buffer of case %d, chose %d", i, r);
    }
    if (r < 0) return;
    FAIL_IF(chans[r] < 0, "select chose nil case %d", r);
    if (chans[r] < 0) return;
    if (cs[r].op == GORT_SEND) {
        int c = chans[r];
        if (cs[r].ok == 1) {
            if (W.esize[c]) W.sent_ok[me][c][seqs[r]] = 1;
            else __atomic_fetch_add(&W.tok_sent[c], 1, __ATOMIC_SEQ_CST);
        } else {
            FAIL_IF(cs[r].ok != 0, "select send case: ok %d", cs[r].ok);
            FAIL_IF(!is_closed(c), "select send on channel %d: ok 0, but nobody closed it", c);
        }
    } else {
        FAIL_IF(cs[r].ok != 0 && cs[r].ok != 1, "select recv case: ok %d", cs[r].ok);
        after_recv(&W.log[me], chans[r], cs[r].ok, bufs[r], "select recv case");
    }
}

/* A gort_timer stopped or reset before the select, or a receive under a
   context with a deadline (gort_chan_recv_ctx). */
static void act_timer(int me, const op_t *o, int64_t ns) {
    int c = pick_chan(o->a2), r;
    uint8_t buf[ESIZE_MAX];
    memset(buf, 0xcc, sizeof buf);
    if ((o->a1 >> 2) % 3 == 1) {
        gort_timer *t = gort_timer_make(ns);
        gort_case cs[2];
        int64_t v = 0, armed;
        FAIL_IF(!t, "gort_timer_make failed");
        if (!t) return;
        if (o->a1 & 64) gort_yield();
        /* nobody received from it: pending, whether it fired or not */
        FAIL_IF((r = gort_timer_stop(t)) != 1, "gort_timer_stop of an unreceived timer: %d", r);
        FAIL_IF((r = gort_chan_try_recv(gort_timer_chan(t), &v)) != -EAGAIN, "a stopped timer delivered (%d)", r);
        armed = gort_now();
        FAIL_IF((r = gort_timer_reset(t, ns)) != 0, "gort_timer_reset of a stopped timer: %d", r);
        memset(cs, 0, sizeof cs);
        cs[0].chan = W.ch[c]; cs[0].op = GORT_RECV; cs[0].elem = buf;
        cs[1].chan = gort_timer_chan(t); cs[1].op = GORT_RECV; cs[1].elem = &v;
        r = gort_select(cs, 2, -1);
        if (r == 1) {
            FAIL_IF(v < armed + ns, "a reset timer fired %lld ns early", (long long)(armed + ns - v));
            FAIL_IF((r = gort_timer_stop(t)) != 0, "gort_timer_stop after its value was received: %d", r);
        } else if (r == 0) {
            after_recv(&W.log[me], c, cs[0].ok, buf, "select recv (with a gort_timer)");
        } else {
            FAIL_IF(1, "blocking gort_select returned %d", r);
        }
        FAIL_IF((r = gort_timer_free(t)) != 0, "gort_timer_free: %d", r);
    } else {
        int64_t until = gort_now() + ns;
        gort_ctx *ctx = gort_ctx_with_timeout(NULL, ns);
        FAIL_IF(!ctx, "gort_ctx_with_timeout failed");
        if (!ctx) return;
        r = gort_chan_recv_ctx(W.ch[c], buf, ctx);
        if (r == -ETIMEDOUT) {
            FAIL_IF(gort_now() < until, "gort_chan_recv_ctx timed out early");
            FAIL_IF(gort_ctx_err(ctx) != -ETIMEDOUT, "ctx err %d after a timeout", gort_ctx_err(ctx));
        } else {
            FAIL_IF(r != 0 && r != 1, "gort_chan_recv_ctx returned %d", r);
            after_recv(&W.log[me], c, r, buf, "gort_chan_recv_ctx");
        }
        gort_ctx_free(ctx);
    }
}

static void act_after(int me, const op_t *o) {
    int64_t ns = 10000 + (int64_t)(o->a1 % 4) * 50000, until = gort_now() + ns, fired = 0;
    int c = pick_chan(o->a2), r;
    gort_chan *t;
    gort_case cs[2];
    uint8_t buf[ESIZE_MAX];
    if ((o->a1 >> 2) % 3 != 0) { act_timer(me, o, ns); return; }
    t = gort_after(ns);
    FAIL_IF(!t, "gort_after failed");
    if (!t) return;
    memset(cs, 0, sizeof cs);
    memset(buf, 0xcc, sizeof buf);
    cs[0].chan = W.ch[c]; cs[0].op = GORT_RECV; cs[0].elem = buf;
    cs[1].chan = t; cs[1].op = GORT_RECV; cs[1].elem = &fired;
    r = gort_select(cs, 2, -1);
    if (r == 1) {
        FAIL_IF(cs[1].ok != 1, "gort_after channel closed?");
        FAIL_IF(fired < until, "gort_after(%lld) fired %lld ns early", (long long)ns, (long long)(until - fired));
        r = gort_chan_free(t);
        FAIL_IF(r != 0, "gort_chan_free(gort_after channel) returned %d", r);
        return;
    }
    if (r == 0) after_recv(&W.log[me], c, cs[0].ok, buf, "select recv (with gort_after)");
    else FAIL_IF(1, "blocking gort_select returned %d", r);
    if (o->a1 & 32) {   /* freed unfired: its timer goes with it */
        FAIL_IF((r = gort_chan_free(t)) != 0, "gort_chan_free(pending gort_after channel) returned %d", r);
        return;
    }
    /* Not fired yet. gort_run drops pending timers (and their records) when
       main returns, so main waits for this one to fire before it frees it:
       the leak check then sees nothing of the runtime's left. */
    W.afters[me][W.nafter[me]] = t;
    W.after_until[me][W.nafter[me]++] = until;
}

static void act_nil(void) {
    gort_case cs[2];
    uint8_t v[8] = { 0 };
    int r;
    int64_t t0;
    FAIL_IF((r = gort_chan_try_send(NULL, v)) != -EAGAIN, "try_send on nil: %d", r);
    FAIL_IF((r = gort_chan_try_recv(NULL, v)) != -EAGAIN, "try_recv on nil: %d", r);
    FAIL_IF(gort_chan_len(NULL) != 0 || gort_chan_cap(NULL) != 0, "len/cap of nil");
    FAIL_IF((r = gort_chan_close(NULL)) != -EINVAL, "close(NULL): %d", r);
    FAIL_IF((r = gort_chan_free(NULL)) != 0, "free(NULL): %d", r);
    memset(cs, 0, sizeof cs);
    cs[0].op = GORT_RECV; cs[0].elem = v;
    cs[1].op = GORT_SEND; cs[1].elem = v;
    FAIL_IF((r = gort_select(cs, 2, 0)) != -EAGAIN, "select on nil cases, timeout 0: %d", r);
    t0 = gort_now();
    FAIL_IF((r = gort_select(cs, 2, 15000)) != -ETIMEDOUT, "select on nil cases, timeout 15 us: %d", r);
    FAIL_IF(gort_now() - t0 < 15000, "select on nil cases returned early");
    FAIL_IF((r = gort_select(NULL, 0, 0)) != -EAGAIN, "select with no cases, timeout 0: %d", r);
}

static void act_mutex(const op_t *o) {
    long v;
    if (o->a1 & 2) {
        if (!gort_mutex_trylock(&W.mu)) return;
    } else {
        gort_mutex_lock(&W.mu);
    }
    v = W.mu_counter;
    if (o->a1 & 1) gort_yield();
    W.mu_counter = v + 1;
    gort_mutex_unlock(&W.mu);
    __atomic_fetch_add(&W.mu_incs, 1, __ATOMIC_SEQ_CST);
}

static void run_script(int me) {
    int i;
    for (i = 0; i < W.nops[me]; i++) {
        const op_t *o = &W.script[me][i];
        int c = pick_chan(o->a1);
        switch (o->op % 13) {
        case 0: act_send(me, c, 1); break;
        case 1: act_recv(me, c, 1); break;
        case 2: act_send(me, c, 0); break;
        case 3: act_recv(me, c, 0); break;
        case 4:
            if (W.actor_close) { do_close(c); break; }
            /* fall through */
        case 5: act_select(me, o); break;
        case 6: {
            size_t l = gort_chan_len(W.ch[c]), cp = gort_chan_cap(W.ch[c]);
            FAIL_IF(cp != W.cap[c], "cap %zu, made with %zu", cp, W.cap[c]);
            FAIL_IF(l > cp, "len %zu > cap %zu", l, cp);
            break;
        }
        case 7:
            switch (o->a2 % 4) {
            case 0: gort_yield(); break;
            case 1: gort_sleep(10000); break;
            case 2: gort_sleep(100000); break;
            default: gort_sleep(-1); break;
            }
            break;
        case 8: local_op(o); break;
        case 9: act_after(me, o); break;
        case 10: act_nil(); break;
        case 11: act_mutex(o); break;
        default:
            FAIL_IF(gort_maxprocs() != W.maxprocs, "gort_maxprocs %d, asked for %d", gort_maxprocs(), W.maxprocs);
            FAIL_IF(gort_goroutines() < 1, "gort_goroutines %ld while main lives", gort_goroutines());
            break;
        }
    }
}

static void actor_end(int me) {
    int r = gort_chan_send(W.done, &me);
    FAIL_IF(r != 0, "send on the done channel: %d", r);
    gort_wg_done(&W.wg);
}

static void go_actor(void *arg) {
    int me = (int)(intptr_t)arg;
    FAIL_IF(!gort_in_goroutine(), "a goroutine is not in a goroutine");
    run_script(me);
    actor_end(me);
    if (W.goexit[me]) {
        gort_exit();
        FAIL_IF(1, "gort_exit returned");
    }
}

static void *thread_actor(void *arg) {
    int me = (int)(intptr_t)arg;
    thread_announce(W.started);
    FAIL_IF(gort_in_goroutine(), "a plain thread says it is a goroutine");
    run_script(me);
    actor_end(me);
    return NULL;
}

/* ------------------------------------------------------------ socket streams */

static uint8_t io_pat(int id, int round, size_t i) { return (uint8_t)(id * 101 + round * 37 + (int)(i * 7 + i / 251)); }

typedef struct { iopair *p; int round; } ioarg;

static void io_close(iopair *p, int fd);

static void io_reader_body(iopair *p, int round) {
    uint8_t buf[16384];
    size_t got = 0, i, chunk = 1 + (size_t)p->rchunk * 16, want = p->early ? p->total / 2 : p->total;
    int fd = p->fds[0], style = p->rstyle;
    unsigned k = 0;
    if (chunk < p->total / 64) chunk = p->total / 64;   /* at most ~64 reads */
    if (chunk > sizeof buf) chunk = sizeof buf;
    while (!p->early || got < want) {
        ssize_t r;
        int w;
        switch ((style >> (k++ % 4 * 2)) & 3) {
        case 1:
            w = gort_wait_fd(fd, GORT_IN, 200000);
            FAIL_IF(w != GORT_IN && w != -ETIMEDOUT, "gort_wait_fd(IN) returned %d", w);
            r = gort_read(fd, buf, chunk);
            break;
        case 2:
            r = gort_read_timeout(fd, buf, chunk, 150000);
            if (r == -ETIMEDOUT) continue;
            break;
        case 3: {   /* select over the fd and a nil channel */
            gort_case cs[2];
            memset(cs, 0, sizeof cs);
            cs[0].op = GORT_WAIT_IN; cs[0].fd = fd;
            cs[1].op = GORT_RECV; cs[1].chan = NULL; cs[1].fd = -1;
            w = gort_select(cs, 2, 200000);
            FAIL_IF(w != -ETIMEDOUT && (w != 0 || cs[0].ok != 1), "select on a readable fd: %d ok %d", w, cs[0].ok);
            r = gort_read(fd, buf, chunk);
            break;
        }
        default:
            r = gort_read(fd, buf, chunk);
            break;
        }
        if (r == 0) break;
        if (r < 0 || (size_t)r > chunk) {
            FAIL_IF(1, "stream %d round %d: read returned %zd after %zu bytes", p->id, round, r, got);
            break;
        }
        for (i = 0; i < (size_t)r; i++)
            if (buf[i] != io_pat(p->id, round, got + i)) {
                FAIL_IF(1, "stream %d round %d: byte %zu is %u, expected %u", p->id, round, got + i, buf[i],
                        io_pat(p->id, round, got + i));
                break;
            }
        got += (size_t)r;
        if (got > p->total) { FAIL_IF(1, "stream %d: more bytes than written", p->id); break; }
    }
    if (p->early) {
        /* gone half way: a writer blocked on a full socket must wake up */
        if (p->close_mode == 1) FAIL_IF(shutdown(fd, SHUT_RDWR) != 0, "shutdown failed");
        io_close(p, fd);
    } else {
        FAIL_IF(got != p->total, "stream %d round %d: read %zu of %zu bytes", p->id, round, got, p->total);
    }
    {
        int r = gort_chan_send(p->done, &round);
        FAIL_IF(r != 0, "stream done send: %d", r);
    }
}

static void io_reader_go(void *arg) { ioarg *a = (ioarg *)arg; io_reader_body(a->p, a->round); }
static void *io_reader_thread(void *arg) {
    ioarg *a = (ioarg *)arg;
    thread_announce(a->p->started);
    io_reader_body(a->p, a->round);
    return NULL;
}

static void io_close(iopair *p, int fd) {
    int r;
    if (p->close_mode == 0) {
        r = gort_close(fd);
        FAIL_IF(r != 0, "gort_close(%d) returned %d", fd, r);
    } else if (p->close_mode == 2) {
        FAIL_IF(close(fd) != 0, "close(%d) failed", fd);
    } else {
        int i = __atomic_fetch_add(&W.nlate, 1, __ATOMIC_SEQ_CST);
        W.late_close[i] = fd;
    }
}

static void io_writer_body(iopair *p) {
    uint8_t buf[16384];
    int round;
    size_t chunk = 1 + (size_t)p->wchunk * 32;
    if (chunk < p->total / 64) chunk = p->total / 64;   /* at most ~64 writes */
    if (chunk > sizeof buf) chunk = sizeof buf;
    for (round = 0; round < p->rounds; round++) {
        ioarg a;
        size_t sent = 0, i;
        int got = -1, r;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p->fds) != 0) {
            FAIL_IF(1, "socketpair failed: %s", strerror(errno));
            break;
        }
        a.p = p; a.round = round;
        if (p->reader_thread) {
            r = pthread_create(&p->rthread, NULL, io_reader_thread, &a);
            FAIL_IF(r != 0, "pthread_create: %d", r);
            if (r) break;
            wait_announced(p->started);
        } else {
            r = gort_go(io_reader_go, &a);
            FAIL_IF(r != 0, "gort_go: %d", r);
            if (r) break;
        }
        while (sent < p->total) {
            size_t n = p->total - sent < chunk ? p->total - sent : chunk;
            ssize_t w;
            for (i = 0; i < n; i++) buf[i] = io_pat(p->id, round, sent + i);
            if ((p->wchunk & 3) == 3) {
                w = gort_write_all(p->fds[1], buf, n);
                if (p->early && (w == -EPIPE || w == -ECONNRESET)) break;   /* the reader has gone */
                FAIL_IF(w != (ssize_t)n, "gort_write_all(%zu) returned %zd", n, w);
            } else {
                w = gort_write(p->fds[1], buf, n);
                if (p->early && (w == -EPIPE || w == -ECONNRESET)) break;
                FAIL_IF(w <= 0 || (size_t)w > n, "gort_write(%zu) returned %zd", n, w);
            }
            if (w <= 0) break;
            sent += (size_t)w;
            if (p->wchunk & 4) gort_sleep(20000);
        }
        /* end of stream: the reader's read returns 0 */
        if (p->close_mode == 1) FAIL_IF(shutdown(p->fds[1], SHUT_WR) != 0, "shutdown failed");
        io_close(p, p->fds[1]);
        r = gort_chan_recv(p->done, &got);
        FAIL_IF(r != 1 || got != round, "stream done recv: %d (%d)", r, got);
        if (p->reader_thread) {
            gort_block_begin();
            pthread_join(p->rthread, NULL);
            gort_block_end();
        }
        if (!p->early) io_close(p, p->fds[0]);
    }
}

static void io_writer_go(void *arg) { io_writer_body((iopair *)arg); gort_wg_done(&W.wg); }
static void *io_writer_thread(void *arg) {
    thread_announce(W.started);
    io_writer_body((iopair *)arg);
    gort_wg_done(&W.wg);
    return NULL;
}

/* ------------------------------------------------------------ main goroutine */

static void check_logs(void) {
    static uint8_t cnt[NACT][NCHAN_MAX][MAXSEQ];
    int a, c, s, l;
    int32_t last[NACT][NCHAN_MAX], maxrecv[NACT][NCHAN_MAX];
    memset(cnt, 0, sizeof cnt);
    for (a = 0; a < NACT; a++)
        for (c = 0; c < NCHAN_MAX; c++) maxrecv[a][c] = -1;
    for (l = 0; l <= NACT; l++) {
        uint32_t n = l < NACT ? W.log[l].n : W.main_n, i;
        const uint32_t *v = l < NACT ? W.log[l].v : W.main_log;
        for (a = 0; a < NACT; a++)
            for (c = 0; c < NCHAN_MAX; c++) last[a][c] = -1;
        for (i = 0; i < n; i++) {
            int pid = (int)(v[i] >> 24), ch = (int)((v[i] >> 16) & 0xff), seq = (int)(v[i] & 0xffff);
            if (cnt[pid][ch][seq] < 255) cnt[pid][ch][seq]++;
            FAIL_IF(seq <= last[pid][ch], "receiver %d got (producer %d, seq %d) after seq %d on channel %d: not FIFO",
                    l, pid, seq, last[pid][ch], ch);
            last[pid][ch] = seq;
            if (l < NACT) {
                if (seq > maxrecv[pid][ch]) maxrecv[pid][ch] = seq;
            } else {
                FAIL_IF(seq <= maxrecv[pid][ch], "drained (producer %d, seq %d) from channel %d after an actor "
                        "received seq %d: not FIFO", pid, seq, ch, maxrecv[pid][ch]);
            }
        }
    }
    for (a = 0; a < NACT; a++)
        for (c = 0; c < W.nchan; c++)
            for (s = 0; s < MAXSEQ; s++) {
                int sent = W.sent_ok[a][c][s], got = cnt[a][c][s];
                FAIL_IF(got > 1, "(producer %d, seq %d) on channel %d received %d times", a, s, c, got);
                FAIL_IF(got && !sent, "(producer %d, seq %d) on channel %d received, but its send did not succeed", a, s, c);
                FAIL_IF(sent && !got, "(producer %d, seq %d) on channel %d sent, never received (lost)", a, s, c);
            }
    for (c = 0; c < W.nchan; c++)
        FAIL_IF(W.tok_sent[c] != W.tok_recv[c], "channel %d (element size 0): %u sent, %u received",
                c, W.tok_sent[c], W.tok_recv[c]);
}

static void drain(int c) {
    uint8_t buf[ESIZE_MAX], v[ESIZE_MAX];
    gort_case cs;
    size_t n = 0;
    uint32_t lv;
    int r;
    for (;;) {
        memset(buf, 0xcc, sizeof buf);
        r = gort_chan_recv(W.ch[c], buf);
        if (r == 1) {
            n++;
            if (W.esize[c] == 0) { W.tok_recv[c]++; continue; }
            lv = decode(buf, c);
            if (lv != UINT32_MAX && W.main_n < MAIN_LOG) W.main_log[W.main_n++] = lv;
            continue;
        }
        FAIL_IF(r != 0, "gort_chan_recv while draining: %d", r);
        FAIL_IF(!all_bytes(buf, W.esize[c], 0), "recv on closed and drained channel %d: element not zeroed", c);
        break;
    }
    FAIL_IF(n > W.cap[c], "drained %zu values from channel %d of capacity %zu", n, c, W.cap[c]);
    memset(buf, 0xcc, sizeof buf);
    FAIL_IF((r = gort_chan_try_recv(W.ch[c], buf)) != 0, "try_recv on closed, drained: %d", r);
    FAIL_IF(!all_bytes(buf, W.esize[c], 0), "try_recv on closed and drained channel: element not zeroed");
    FAIL_IF(gort_chan_len(W.ch[c]) != 0, "len %zu after the drain", gort_chan_len(W.ch[c]));
    encode(v, W.esize[c], 0, (unsigned)c, 0);
    FAIL_IF((r = gort_chan_send(W.ch[c], v)) != -EPIPE, "send on closed: %d", r);
    FAIL_IF((r = gort_chan_try_send(W.ch[c], v)) != -EPIPE, "try_send on closed: %d", r);
    FAIL_IF((r = gort_chan_close(W.ch[c])) != -EPIPE, "second close: %d", r);
    memset(&cs, 0, sizeof cs);
    cs.chan = W.ch[c]; cs.op = GORT_SEND; cs.elem = v; cs.ok = 7;
    r = gort_select(&cs, 1, -1);
    FAIL_IF(r != 0 || cs.ok != 0, "select send on closed: %d ok %d", r, cs.ok);
    FAIL_IF(W.close_ok[c] != 1, "channel %d closed successfully %u times", c, W.close_ok[c]);
}

static void main_fn(void *arg) {
    int a, c, r, ndone = 0, nact = W.ngo + W.nth, v;
    int64_t deadline;
    (void)arg;
    FAIL_IF(gort_maxprocs() != W.maxprocs, "gort_maxprocs %d, asked for %d", gort_maxprocs(), W.maxprocs);
    for (c = 0; c < W.nchan; c++) {
        W.ch[c] = gort_chan_make(W.esize[c], W.cap[c]);
        FAIL_IF(!W.ch[c], "gort_chan_make failed");
        if (!W.ch[c]) abort();
    }
    W.done = gort_chan_make(sizeof(int), (size_t)nact);
    W.started = gort_chan_make(sizeof(int), NTH_MAX + 2 * NPAIR_MAX);
    if (!W.done || !W.started) abort();
    gort_wg_add(&W.wg, nact + W.npair);
    for (a = 0; a < W.ngo; a++) {
        r = gort_go(go_actor, (void *)(intptr_t)a);
        FAIL_IF(r != 0, "gort_go: %d", r);
        if (r) abort();
    }
    for (a = 0; a < W.nth; a++) {
        r = pthread_create(&W.threads[a], NULL, thread_actor, (void *)(intptr_t)(NGO_MAX + a));
        if (r) { fprintf(stderr, "fuzz_chan: pthread_create: %d\n", r); abort(); }
    }
    for (a = 0; a < W.nth; a++) wait_announced(W.started);
    for (a = 0; a < W.npair; a++) {
        iopair *p = &W.io[a];
        if (p->writer_thread) {
            r = pthread_create(&W.wthreads[a], NULL, io_writer_thread, p);
            if (r) { fprintf(stderr, "fuzz_chan: pthread_create: %d\n", r); abort(); }
            wait_announced(W.started);
        } else {
            r = gort_go(io_writer_go, p);
            if (r) abort();
        }
    }
    /* Let the scripts run until they finish or the phase ends. */
    deadline = gort_now() + W.phase_ns;
    while (ndone < nact) {
        gort_case cs;
        int64_t left = deadline - gort_now();
        if (left <= 0) break;
        memset(&cs, 0, sizeof cs);
        cs.chan = W.done; cs.op = GORT_RECV; cs.elem = &v;
        r = gort_select(&cs, 1, left);
        if (r == -ETIMEDOUT) break;
        FAIL_IF(r != 0 || cs.ok != 1, "select on done: %d ok %d", r, cs.ok);
        ndone++;
    }
    /* Release everyone still blocked, wait for all. */
    for (c = 0; c < W.nchan; c++) do_close(c);
    gort_wg_wait(&W.wg);
    gort_block_begin();
    for (a = 0; a < W.nth; a++) pthread_join(W.threads[a], NULL);
    for (a = 0; a < W.npair; a++)
        if (W.io[a].writer_thread) pthread_join(W.wthreads[a], NULL);
    gort_block_end();
    for (c = 0; c < W.nchan; c++) drain(c);
    check_logs();
    FAIL_IF(W.mu_counter != W.mu_incs, "mutex counter %ld, %ld increments", W.mu_counter, W.mu_incs);
    FAIL_IF(gort_chan_len(W.done) != (size_t)(nact - ndone), "done channel holds %zu, expected %d",
            gort_chan_len(W.done), nact - ndone);
    for (c = 0; c < W.nchan; c++)
        FAIL_IF((r = gort_chan_free(W.ch[c])) != 0, "gort_chan_free(channel %d): %d", c, r);
    FAIL_IF((r = gort_chan_free(W.done)) != 0, "gort_chan_free(done): %d", r);
    FAIL_IF((r = gort_chan_free(W.started)) != 0, "gort_chan_free(started): %d", r);
    for (a = 0; a < W.npair; a++) {
        FAIL_IF((r = gort_chan_free(W.io[a].done)) != 0, "gort_chan_free(stream done): %d", r);
        FAIL_IF((r = gort_chan_free(W.io[a].started)) != 0, "gort_chan_free(stream started): %d", r);
    }
    /* Every gort_after timer fires (and says when). */
    for (a = 0; a < NACT; a++)
        for (c = 0; c < W.nafter[a]; c++) {
            int64_t fired = 0;
            r = gort_chan_recv(W.afters[a][c], &fired);
            FAIL_IF(r != 1, "recv from a gort_after channel: %d", r);
            FAIL_IF(fired < W.after_until[a][c], "gort_after fired %lld ns early",
                    (long long)(W.after_until[a][c] - fired));
            FAIL_IF((r = gort_chan_free(W.afters[a][c])) != 0, "gort_chan_free(gort_after channel): %d", r);
        }
}

/* ------------------------------------------------------------ the driver */

static int64_t watch_since;        /* atomic: when the current input started; 0 idle */
static pthread_once_t watch_once = PTHREAD_ONCE_INIT;

static void *watchdog(void *arg) {
    const char *e = getenv("GORT_FUZZ_WATCHDOG");
    int64_t limit = (e && atoi(e) > 0 ? atoi(e) : 20) * 1000000000LL;
    (void)arg;
    for (;;) {
        int64_t s = __atomic_load_n(&watch_since, __ATOMIC_ACQUIRE);
        struct timespec ts = { 0, 50000000 };
        if (s && now_ns() - s > limit) {
            fprintf(stderr, "fuzz_chan: watchdog: one input has run for %lld s: a hang. Goroutines:\n",
                    (long long)(limit / 1000000000LL));
            gort_dump(2);
            abort();
        }
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void watch_start(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, watchdog, NULL) == 0) pthread_detach(t);
}

static void decode_input(const uint8_t *data, size_t size) {
    static const size_t caps[8] = { 0, 0, 1, 2, 3, 5, 8, 64 };
    static const size_t sizes[8] = { 8, 8, 12, 16, 24, 72, 0, 8 };
    static const int64_t phases[4] = { 500000, 2000000, 5000000, 20000000 };
    static const size_t totals[4] = { 1, 300, 4096, 300000 };
    reader in = { data, size, 0 };
    uint8_t h0 = rd(&in), h1 = rd(&in);
    int a, c, i;
    const char *e = getenv("GORT_FUZZ_PLAIN_CLOSE");
    memset(&W, 0, sizeof W);
    W.plain_close_ok = !(e && *e == '0');
    W.maxprocs = 1 + (h0 & 1);
    W.nth = ((h0 >> 1) & 3) % (NTH_MAX + 1);
    W.ngo = 1 + ((h0 >> 3) & 3);
    W.actor_close = (h0 >> 5) & 1;
    W.npair = ((h0 >> 6) & 3) % (NPAIR_MAX + 1);
    W.nchan = 1 + (h1 & 3);
    W.phase_ns = phases[(h1 >> 2) & 3];
    if (((h1 >> 4) & 3) == 3) W.maxprocs += 2;   /* 3 or 4: more Ps than this machine may have CPUs */
    W.migrate = (h1 >> 6) & 1;
    for (c = 0; c < W.nchan; c++) {
        uint8_t b = rd(&in);
        W.cap[c] = caps[b & 7];
        W.esize[c] = sizes[(b >> 3) & 7];
    }
    for (i = 0; i < W.npair; i++) {
        iopair *p = &W.io[i];
        uint8_t b = rd(&in);
        p->id = i;
        p->writer_thread = b & 1;
        p->reader_thread = (b >> 1) & 1;
        p->rounds = 1 + ((b >> 2) & 1);
        p->close_mode = ((b >> 3) & 3) % 3;
        if (p->close_mode == 2 && !W.plain_close_ok) p->close_mode = 1;
        p->total = totals[(b >> 5) & 3];
        p->early = b >> 7;
        p->wchunk = rd(&in);
        p->rchunk = rd(&in);
        p->rstyle = rd(&in);
        p->done = gort_chan_make(sizeof(int), 0);
        p->started = gort_chan_make(sizeof(int), 1);
        if (!p->done || !p->started) abort();
    }
    for (a = 0; a < NACT; a++) {
        if (!((a < NGO_MAX && a < W.ngo) || (a >= NGO_MAX && a - NGO_MAX < W.nth))) continue;
        i = rd(&in);
        W.nops[a] = i % (MAXOPS + 1);
        W.goexit[a] = i >> 7;   /* a goroutine ends with gort_exit() */
        for (i = 0; i < W.nops[a]; i++) {
            W.script[a][i].op = rd(&in);
            W.script[a][i].a1 = rd(&in);
            W.script[a][i].a2 = rd(&in);
            W.script[a][i].a3 = rd(&in);
        }
    }
}

static void run_one(const uint8_t *data, size_t size) {
    gort_opts o;
    int r, before = check_failures(), i;
    pthread_once(&watch_once, watch_start);
    decode_input(data, size);
    memset(&o, 0, sizeof o);
    o.maxprocs = W.maxprocs;
    if (W.migrate) o.debug = GORT_DEBUG_MIGRATE;   /* every resume moves the goroutine to another M */
    o.hog_ns = -1;   /* the machine is shared: no reports of slow goroutines */
    __atomic_store_n(&watch_since, now_ns(), __ATOMIC_RELEASE);
    r = gort_run_opts(&o, main_fn, NULL);
    __atomic_store_n(&watch_since, 0, __ATOMIC_RELEASE);
    FAIL_IF(r != 0, "gort_run_opts returned %d", r);
    for (i = 0; i < W.nlate; i++) close(W.late_close[i]);
    if (check_failures() != before) {
        fprintf(stderr, "fuzz_chan: %d check(s) failed for this input\n", check_failures() - before);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    run_one(data, size);
    return 0;
}

#ifndef GORT_FUZZ_LIBFUZZER
/* Replay: each argument is an input file or a directory of them. */
#include <dirent.h>
#include <sys/stat.h>

static int replay_file(const char *path) {
    static uint8_t buf[1 << 16];
    size_t n;
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    run_one(buf, n);
    return 0;
}

int main(int argc, char **argv) {
    int i, files = 0, bad = 0;
    for (i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) { perror(argv[i]); bad++; continue; }
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *de;
            if (!d) { perror(argv[i]); bad++; continue; }
            while ((de = readdir(d)) != NULL) {
                char p[4096];
                if (de->d_name[0] == '.') continue;
                snprintf(p, sizeof p, "%s/%s", argv[i], de->d_name);
                bad += replay_file(p);
                files++;
            }
            closedir(d);
        } else {
            bad += replay_file(argv[i]);
            files++;
        }
    }
    if (argc < 2) {
        static const uint8_t empty[1] = { 0 };
        run_one(empty, 0);   /* the all-defaults program */
        files++;
    }
    check_note("replayed %d inputs", files);
    if (bad) return 1;
    return check_done();
}
#endif
