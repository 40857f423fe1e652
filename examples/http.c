/* http.c - a minimal HTTP/1.1 server: keep-alive, pipelining, a fixed body.
 *
 * What it shows: a goroutine per connection that reads requests and writes
 * responses with gort_read/gort_write as if they blocked (the netpoller parks
 * the goroutine instead), batching the responses to pipelined requests into
 * one write, and an idle timeout with gort_read_timeout. Every request gets
 * "hello\n" (no Date header, so that responses are byte-for-byte fixed).
 *
 * Usage:
 *   http [port]                        serve on 0.0.0.0:port (default 8080)
 *                                      until killed; try curl localhost:8080
 *   http --selftest [clients [reqs]]   serve on 127.0.0.1 (a free port), run
 *                                      `clients` keep-alive client goroutines
 *                                      (default 32) of `reqs` requests each
 *                                      (default 200, some pipelined, some
 *                                      with bodies), plus clients for
 *                                      HTTP/1.0, a bad request and an idle
 *                                      connection; check every response byte
 *                                      and every close. Exit status 0 only if
 *                                      all matched.
 *
 * Linux and Windows (MinGW-w64: link with -lsynchronization -lws2_32): on
 * Windows a SOCKET goes where gort takes an int fd, and the few lines
 * under _WIN32 below are all that differs.
 */
#define GORT_IMPLEMENTATION
#include "../gort.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tcp_socket.h"   /* new_tcp_socket, sock_errno: Linux and Windows */

#include "http_parse.h"   /* the request parser and the response bytes, shared with bench/pth_http.c */

/* ---- the server --------------------------------------------------------- */

static int64_t idle_ns = 30 * 1000000000LL;   /* close a connection idle this long */
static gort_wg server_wg = GORT_WG_INIT;      /* the accept loop and every connection */
static long    requests_served;               /* atomic */
static long    idle_closed;                   /* atomic: connections closed for idling */

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = gort_write(fd, p, n);
        if (w < 0) return (int)w;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void serve_conn(void *arg) {
    int    fd = (int)(intptr_t)arg;
    char   in[HTTP_IN_BUF], out[HTTP_OUT_BUF];
    size_t have = 0;
    int    done = 0;
    while (!done) {
        size_t  off = 0, outlen = 0;
        int     r;
        ssize_t n;
        /* answer every complete request in the buffer, in one write if they fit */
        while ((r = http_answer(in, have, &off, out, &outlen, &requests_served)) == HTTP_FLUSH) {
            if (write_all(fd, out, outlen) < 0) { r = HTTP_DONE; outlen = 0; break; }
            outlen = 0;
        }
        if (r == HTTP_DONE) done = 1;
        if (outlen && write_all(fd, out, outlen) < 0) done = 1;
        if (done) break;
        memmove(in, in + off, have - off);
        have -= off;
        /* read more, but do not wait forever: one read that parks until
           data comes or the idle time is up (a gort_wait_fd first would
           add two poll(2) calls to every request) */
        n = gort_read_timeout(fd, in + have, HTTP_IN_BUF - have, idle_ns);
        if (n == -ETIMEDOUT) {
            __atomic_add_fetch(&idle_closed, 1, __ATOMIC_RELAXED);
            break;
        }
        if (n <= 0) break;   /* the client closed, or an error */
        have += (size_t)n;
    }
    gort_close(fd);
    gort_wg_done(&server_wg);
}

static void accept_loop(void *arg) {
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int fd = gort_accept(lfd, NULL, NULL);
        if (fd == -EBADF || fd == -EINVAL) break;   /* listener closed */
        if (fd < 0) {
            if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM)
                gort_sleep(10 * 1000000LL);   /* out of fds: let connections finish */
            continue;
        }
        gort_wg_add(&server_wg, 1);
        if (gort_go(serve_conn, (void *)(intptr_t)fd) != 0) {
            gort_close(fd);
            gort_wg_done(&server_wg);
        }
    }
    gort_wg_done(&server_wg);
}

static int listen_on(const char *addr, int port, int *bound_port) {
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int one = 1, fd = new_tcp_socket();
    if (fd < 0) return fd;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, addr, &sa.sin_addr);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, (const char *)&one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        int err = sock_errno();
        gort_close(fd);
        return err;
    }
    *bound_port = ntohs(sa.sin_port);
    return fd;
}

/* ---- the self-test clients ---------------------------------------------- */

enum { C_KEEPALIVE, C_HTTP10, C_BAD, C_IDLE };

typedef struct client {
    int  id, kind, port, reqs;
    long responses;   /* responses that matched */
    char err[160];    /* empty, or what went wrong */
} client;

static gort_wg clients_wg = GORT_WG_INIT;

static int dial(int port) {
    struct sockaddr_in sa;
    int rc, fd = new_tcp_socket();
    if (fd < 0) return fd;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = gort_connect(fd, (struct sockaddr *)&sa, sizeof sa);
    if (rc < 0) { gort_close(fd); return rc; }
    return fd;
}

/* Reads exactly len bytes and compares them with want, which holds
   `responses` responses. 0, or -1 with c->err set. */
static int expect(client *c, int fd, const char *want, size_t len, int responses) {
    char   buf[4096];
    size_t got = 0;
    while (got < len) {
        size_t  n_want = len - got < sizeof buf ? len - got : sizeof buf;
        ssize_t n = gort_read(fd, buf, n_want);
        if (n <= 0) {
            snprintf(c->err, sizeof c->err, "%s after %zu of %zu bytes",
                     n == 0 ? "EOF" : gort_strerror((int)n), got, len);
            return -1;
        }
        if (memcmp(buf, want + got, (size_t)n) != 0) {
            snprintf(c->err, sizeof c->err, "wrong response bytes at %zu..%zu of %zu", got,
                     got + (size_t)n, len);
            return -1;
        }
        got += (size_t)n;
    }
    c->responses += responses;
    return 0;
}

/* After the last response the server must close: read must give EOF. */
static int expect_eof(client *c, int fd) {
    char    b[64];
    ssize_t n = gort_read(fd, b, sizeof b);
    if (n == 0) return 0;
    snprintf(c->err, sizeof c->err, "expected the server to close, read gave %zd", n);
    return -1;
}

/* The requests a keep-alive client sends, in turn. */
static const char *const REQS[] = {
    "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n",
    "HEAD /x HTTP/1.1\r\nhost: localhost\r\nUser-Agent: gort-selftest\r\nAccept: */*\r\n\r\n",
    "POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\nhello=world",
    "GET /a/b/c?d=e HTTP/1.1\r\nHOST: localhost\r\nconnection: Keep-Alive\r\n\r\n",
};
#define NREQS ((int)(sizeof REQS / sizeof REQS[0]))
static const char LAST_REQ[] = "GET /bye HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

static void client_run(void *arg) {
    client *c = (client *)arg;
    int     fd = dial(c->port);
    char    batch[2048];
    if (fd < 0) {
        snprintf(c->err, sizeof c->err, "connect: %s", gort_strerror(fd));
        gort_wg_done(&clients_wg);
        return;
    }
    switch (c->kind) {
    case C_KEEPALIVE: {
        char   want[2048];
        int    sent = 0, k = c->id;
        while (sent < c->reqs - 1 && !c->err[0]) {
            /* 1 to 4 requests in one write: pipelining */
            int    depth = 1 + (sent + c->id) % 4;
            size_t len = 0, wlen = 0;
            if (depth > c->reqs - 1 - sent) depth = c->reqs - 1 - sent;
            for (int i = 0; i < depth; i++, k++) {
                const char *rq = REQS[k % NREQS];
                size_t      l = strlen(rq), rl = sizeof HTTP_RESP_KA - 1;
                memcpy(batch + len, rq, l);
                len += l;
                if (strncmp(rq, "HEAD ", 5) == 0) rl -= HTTP_BODY_LEN;
                memcpy(want + wlen, HTTP_RESP_KA, rl);
                wlen += rl;
            }
            if (write_all(fd, batch, len) < 0) {
                snprintf(c->err, sizeof c->err, "write failed");
                break;
            }
            if (expect(c, fd, want, wlen, depth) < 0) break;
            sent += depth;
        }
        if (!c->err[0]) {
            if (write_all(fd, LAST_REQ, sizeof LAST_REQ - 1) < 0)
                snprintf(c->err, sizeof c->err, "write failed");
            else if (expect(c, fd, HTTP_RESP_CLOSE, sizeof HTTP_RESP_CLOSE - 1, 1) == 0)
                expect_eof(c, fd);
        }
        break;
    }
    case C_HTTP10: {   /* HTTP/1.0 closes after one response unless asked */
        static const char req[] = "GET / HTTP/1.0\r\n\r\n";
        if (write_all(fd, req, sizeof req - 1) == 0 &&
            expect(c, fd, HTTP_RESP_CLOSE, sizeof HTTP_RESP_CLOSE - 1, 1) == 0)
            expect_eof(c, fd);
        break;
    }
    case C_BAD: {
        static const char req[] = "hello there\r\n\r\n";
        if (write_all(fd, req, sizeof req - 1) == 0 &&
            expect(c, fd, HTTP_RESP_400, sizeof HTTP_RESP_400 - 1, 1) == 0) {
            c->responses--;   /* a 400 is not a served request */
            expect_eof(c, fd);
        }
        break;
    }
    case C_IDLE:   /* say nothing: the server must hang up after idle_ns */
        expect_eof(c, fd);
        break;
    }
    gort_close(fd);
    gort_wg_done(&clients_wg);
}

typedef struct selftest { int nclients, reqs, ok; } selftest;

static void selftest_main(void *arg) {
    selftest *st = (selftest *)arg;
    int       total = st->nclients + 3, port = 0, lfd, failed = 0;
    client   *cl = (client *)calloc((size_t)total, sizeof(client));
    long      want = (long)st->nclients * st->reqs + 1, got = 0, served;
    int64_t   t0, t1;

    if (!cl) { fprintf(stderr, "http: out of memory\n"); return; }
    idle_ns = 2 * 1000000000LL;   /* long enough that busy clients never hit it */
    lfd = listen_on("127.0.0.1", 0, &port);
    if (lfd < 0) { fprintf(stderr, "http: listen: %s\n", gort_strerror(lfd)); free(cl); return; }
    gort_wg_add(&server_wg, 1);
    if (gort_go(accept_loop, (void *)(intptr_t)lfd) != 0) {
        fprintf(stderr, "http: cannot start the accept loop\n");
        exit(1);
    }

    t0 = gort_now();
    for (int i = 0; i < total; i++) {
        cl[i].id = i;
        cl[i].port = port;
        cl[i].reqs = st->reqs;
        cl[i].kind = i < st->nclients ? C_KEEPALIVE : C_HTTP10 + (i - st->nclients);
        gort_wg_add(&clients_wg, 1);
        if (gort_go(client_run, &cl[i]) != 0) {
            fprintf(stderr, "http: cannot start client %d\n", i);
            exit(1);
        }
    }
    gort_wg_wait(&clients_wg);
    t1 = gort_now();

    gort_close(lfd);
    gort_wg_wait(&server_wg);

    for (int i = 0; i < total; i++) {
        static const char *const kinds[] = { "keep-alive", "HTTP/1.0", "bad request", "idle" };
        got += cl[i].responses;
        if (cl[i].err[0]) {
            printf("FAIL: %s client %d: %s\n", kinds[cl[i].kind], i, cl[i].err);
            failed++;
        }
    }
    served = __atomic_load_n(&requests_served, __ATOMIC_RELAXED);
    printf("http selftest: %d keep-alive clients x %d requests (pipelined 1-4 deep) on "
           "127.0.0.1:%d, plus HTTP/1.0, bad-request and idle clients, in %.1f ms\n",
           st->nclients, st->reqs, port, (double)(t1 - t0) / 1e6);
    printf("server: %ld requests served, %ld idle connection(s) closed; clients checked %ld "
           "responses of %ld\n",
           served, __atomic_load_n(&idle_closed, __ATOMIC_RELAXED), got, want);
    if (!failed && got == want && served == want &&
        __atomic_load_n(&idle_closed, __ATOMIC_RELAXED) == 1) {
        printf("OK: every response matched byte for byte, every close came when due\n");
        st->ok = 1;
    } else {
        printf("FAILED\n");
    }
    free(cl);
}

/* ---- serving for real --------------------------------------------------- */

static void serve_main(void *arg) {
    int port = *(int *)arg, bound = 0;
    int lfd = listen_on("0.0.0.0", port, &bound);
    if (lfd < 0) {
        fprintf(stderr, "http: listen on port %d: %s\n", port, gort_strerror(lfd));
        return;
    }
    printf("http: listening on http://0.0.0.0:%d/\n", bound);
    fflush(stdout);
    gort_wg_add(&server_wg, 1);
    accept_loop((void *)(intptr_t)lfd);
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
    int rc;
#if defined(_WIN32)
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) return 1;   /* no SIGPIPE on Windows */
#else
    signal(SIGPIPE, SIG_IGN);   /* a client that goes away makes gort_write fail with -EPIPE */
#endif
    if (argc > 1 && strcmp(argv[1], "--selftest") == 0) {
        selftest st;
        long n = 32, reqs = 200;
        if (argc > 4 || (argc > 2 && !parse(argv[2], 1, 10000, &n)) ||
            (argc > 3 && !parse(argv[3], 1, 1000000, &reqs))) {
            fprintf(stderr, "usage: %s --selftest [clients 1..10000 [requests]]\n", argv[0]);
            return 2;
        }
        st.nclients = (int)n;
        st.reqs = (int)reqs;
        st.ok = 0;
        rc = gort_run(selftest_main, &st);
        if (rc != 0) fprintf(stderr, "http: gort_run: %s\n", gort_strerror(rc));
        return rc == 0 && st.ok ? 0 : 1;
    } else {
        long port = 8080;
        int  p;
        if (argc > 2 || (argc == 2 && !parse(argv[1], 0, 65535, &port))) {
            fprintf(stderr, "usage: %s [port] | --selftest [clients [requests]]\n", argv[0]);
            return 2;
        }
        p = (int)port;
        rc = gort_run(serve_main, &p);
        if (rc != 0) fprintf(stderr, "http: gort_run: %s\n", gort_strerror(rc));
        return 1;   /* serving ends only on an error */
    }
}
