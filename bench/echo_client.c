/* echo_client.c - load generator for the echo servers (bench/net.sh).
 *
 * Opens `conns` TCP connections to host:port, then on each one, over and
 * over: send a 64-byte message, wait until all 64 bytes have come back
 * (checking them), send the next. So every connection has exactly one
 * message in flight; a message's latency is from its send to the last byte
 * of its echo. Runs `threads` threads (default 2, at most conns), each with
 * its own epoll instance over its share of the connections (plain epoll, no
 * gort, so the load generator is the same for every server). The first
 * 0.3 s (warm-up: the server accepting, threads being created) are not
 * counted; then it counts for `seconds`.
 *
 * Usage: echo_client host port conns seconds [threads]
 * Prints on stdout, as bench.h's RESULT lines:
 *   RESULT msgs <messages per second> msg/s
 *   RESULT p50  <median latency> us
 *   RESULT p99  <99th percentile latency> us
 * Exit status 1 (with "FAIL ..." on stderr) if a connection could not be
 * made, was closed or reset, or echoed a wrong byte.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MSG 64
#define WARMUP_NS 300000000LL

/* Latency histogram, log-linear: values below 64 ns exact, above that 32
   sub-buckets per power of two (about 3% wide). */
#define SUB_BITS 5
#define SUB (1 << SUB_BITS)
#define NBUCKETS ((64 - SUB_BITS) * SUB + 2 * SUB)

static int bucket_of(uint64_t v) {
    int e;
    if (v < 2 * SUB) return (int)v;
    e = 63 - __builtin_clzll(v);             /* v in [2^e, 2^(e+1)), e >= SUB_BITS + 1 */
    return (e - SUB_BITS) * SUB + (int)(v >> (e - SUB_BITS));
}

static uint64_t bucket_mid(int b) {          /* a value inside bucket b */
    int e;
    uint64_t lo, width;
    if (b < 2 * SUB) return (uint64_t)b;
    e = b / SUB + SUB_BITS - 1;
    lo = (uint64_t)(b % SUB + SUB) << (e - SUB_BITS);
    width = (uint64_t)1 << (e - SUB_BITS);
    return lo + width / 2;
}

typedef struct conn {
    int      fd;
    int      id;
    uint32_t seq;      /* message number, part of the payload */
    int      got;      /* bytes of the current echo received */
    int64_t  sent_at;
    char     msg[MSG];
} conn;

typedef struct worker {
    pthread_t th;
    conn     *conns;
    int       n;
    int       epfd;
    int64_t   count_from, count_until;   /* the counted window */
    uint64_t  msgs;                      /* completed inside the window */
    uint64_t  errors;
    uint64_t  hist[NBUCKETS];
    char      err[200];
} worker;

static void fill(conn *c) {
    for (int i = 0; i < MSG; i++) c->msg[i] = (char)(c->id * 31 + c->seq * 7 + i);
}

static int send_msg(worker *w, conn *c) {
    ssize_t n;
    c->seq++;
    fill(c);
    c->got = 0;
    c->sent_at = bench_now();
    do n = send(c->fd, c->msg, MSG, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n != MSG) {   /* 64 bytes into an empty socket buffer: never short */
        snprintf(w->err, sizeof w->err, "send on connection %d: %s", c->id,
                 n < 0 ? strerror(errno) : "short write");
        return -1;
    }
    return 0;
}

static void drop(worker *w, conn *c) {
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    w->errors++;
}

static void *run_worker(void *arg) {
    worker *w = (worker *)arg;
    struct epoll_event ev[256];
    int live = 0;
    for (int i = 0; i < w->n; i++) {
        if (send_msg(w, &w->conns[i]) < 0) drop(w, &w->conns[i]);
        else live++;
    }
    while (live > 0) {
        int64_t now = bench_now();
        int k;
        if (now >= w->count_until) break;
        k = epoll_wait(w->epfd, ev, 256, (int)((w->count_until - now) / 1000000 + 1));
        if (k < 0 && errno != EINTR) {
            snprintf(w->err, sizeof w->err, "epoll_wait: %s", strerror(errno));
            w->errors++;
            break;
        }
        for (int j = 0; j < k; j++) {
            conn *c = &w->conns[ev[j].data.u32];
            char buf[MSG];
            ssize_t n;
            if (c->fd < 0) continue;
            n = read(c->fd, buf, (size_t)(MSG - c->got));
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (n <= 0) {
                snprintf(w->err, sizeof w->err, "connection %d: %s", c->id,
                         n == 0 ? "closed by the server" : strerror(errno));
                drop(w, c);
                live--;
                continue;
            }
            if (memcmp(buf, c->msg + c->got, (size_t)n) != 0) {
                snprintf(w->err, sizeof w->err, "connection %d: wrong bytes echoed", c->id);
                drop(w, c);
                live--;
                continue;
            }
            c->got += (int)n;
            if (c->got < MSG) continue;
            now = bench_now();
            if (c->sent_at >= w->count_from && now <= w->count_until) {
                w->msgs++;
                w->hist[bucket_of((uint64_t)(now - c->sent_at))]++;
            }
            if (now < w->count_until && send_msg(w, c) < 0) {
                drop(w, c);
                live--;
            }
        }
    }
    return NULL;
}

static int dial(const struct sockaddr_in *sa) {
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int main(int argc, char **argv) {
    struct sockaddr_in sa;
    long conns, threads;
    double seconds;
    conn *cs;
    worker *ws;
    int64_t t0, from, until;
    uint64_t msgs = 0, errors = 0, total = 0, seen = 0;
    static uint64_t hist[NBUCKETS];
    double p50 = 0, p99 = 0;
    const char *err = NULL;

    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: %s host port conns seconds [threads]\n", argv[0]);
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(argv[2]));
    conns = atol(argv[3]);
    seconds = atof(argv[4]);
    threads = argc > 5 ? atol(argv[5]) : 2;
    if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 || conns < 1 || seconds <= 0 || threads < 1) {
        fprintf(stderr, "%s: bad arguments\n", argv[0]);
        return 2;
    }
    if (threads > conns) threads = conns;
    cs = (conn *)calloc((size_t)conns, sizeof *cs);
    ws = (worker *)calloc((size_t)threads, sizeof *ws);
    if (!cs || !ws) bench_fail("out of memory");

    for (long i = 0; i < conns; i++) {
        int fd = dial(&sa);
        if (fd < 0) {
            fprintf(stderr, "FAIL connect %ld of %ld to %s:%s: %s\n", i + 1, conns, argv[1], argv[2],
                    strerror(-fd));
            return 1;
        }
        cs[i].fd = fd;
        cs[i].id = (int)i;
    }
    t0 = bench_now();
    from = t0 + WARMUP_NS;
    until = from + (int64_t)(seconds * 1e9);
    for (long t = 0; t < threads; t++) {
        worker *w = &ws[t];
        long lo = conns * t / threads, hi = conns * (t + 1) / threads;
        w->conns = cs + lo;
        w->n = (int)(hi - lo);
        w->count_from = from;
        w->count_until = until;
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (w->epfd < 0) bench_fail("epoll_create1");
        for (int i = 0; i < w->n; i++) {
            struct epoll_event ev;
            memset(&ev, 0, sizeof ev);
            ev.events = EPOLLIN;
            ev.data.u32 = (uint32_t)i;
            if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->conns[i].fd, &ev) < 0) bench_fail("epoll_ctl");
        }
        if (pthread_create(&w->th, NULL, run_worker, w) != 0) bench_fail("pthread_create");
    }
    for (long t = 0; t < threads; t++) {
        pthread_join(ws[t].th, NULL);
        msgs += ws[t].msgs;
        errors += ws[t].errors;
        if (ws[t].err[0] && !err) err = ws[t].err;
        for (int b = 0; b < NBUCKETS; b++) hist[b] += ws[t].hist[b];
    }
    for (long i = 0; i < conns; i++)
        if (cs[i].fd >= 0) close(cs[i].fd);

    for (int b = 0; b < NBUCKETS; b++) total += hist[b];
    for (int b = 0; b < NBUCKETS && total; b++) {
        uint64_t before = seen;
        seen += hist[b];
        if (before < (total + 1) / 2 && seen >= (total + 1) / 2) p50 = (double)bucket_mid(b) / 1e3;
        if (before < total - total / 100 && seen >= total - total / 100) p99 = (double)bucket_mid(b) / 1e3;
    }
    if (errors) {
        fprintf(stderr, "FAIL %llu connection(s) failed; first: %s\n", (unsigned long long)errors,
                err ? err : "?");
        return 1;
    }
    if (msgs == 0) bench_fail("no message came back in the counted window");
    fprintf(stderr, "echo_client: %ld connections, %ld threads, %.1f s: %llu messages\n", conns,
            threads, seconds, (unsigned long long)msgs);
    bench_result("msgs", (double)msgs / seconds, "msg/s");
    bench_result("p50", p50, "us");
    bench_result("p99", p99, "us");
    return 0;
}
