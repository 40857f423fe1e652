/* fetch.c - fetch from many servers at once with a group, a limit and a
 * timeout per request.
 *
 * What it shows: gort_group (Go's errgroup) runs one goroutine per
 * request, at most `limit` at a time; each request has its own context
 * below the group's (gort_ctx_with_timeout), and gort_connect_ctx,
 * gort_write_ctx and gort_read_ctx end when it does. A request that
 * times out is a result, not a failure; a reply that is wrong fails the
 * group, whose context is then cancelled, and every request still in
 * flight returns -ECANCELED at once.
 *
 * The servers are goroutines of the same program, each on its own
 * loopback port: a request is one line, "GET <n>\n"; the reply is a
 * payload of n-dependent bytes (1-64 KiB) followed by EOF. Some servers
 * are slow (they wait longer than the timeout before replying); with
 * --corrupt one of them sends a wrong byte.
 *
 * Usage:
 *   fetch [servers [slow [limit [timeout_ms]]]] [--corrupt]
 *       defaults 64 servers, 6 slow, 8 at once, 100 ms per request.
 *       Exit status 0 if every fast server's payload arrived intact and
 *       every slow one timed out (with --corrupt: if the group failed
 *       with -EPROTO and the requests in flight were cancelled).
 *   fetch --selftest    both runs, checked.
 *
 * Linux and Windows (MinGW-w64: link with -lsynchronization -lws2_32): on
 * Windows a SOCKET goes where gort takes an int fd, and the few lines
 * under _WIN32 below are all that differs.
 */
#define GORT_IMPLEMENTATION
#include "../gort.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tcp_socket.h"   /* new_tcp_socket, sock_errno: Linux and Windows */

#define MAXS 1024
#define MS   1000000LL

enum { RES_NONE = 0, RES_OK, RES_TIMEOUT, RES_CANCELLED, RES_BAD, RES_ERR };

static struct {
    int        n, nslow, limit, corrupt;   /* corrupt: index of the lying server, or -1 */
    int64_t    timeout;
    int        lfd[MAXS];
    int        port[MAXS];
    int        slow[MAXS];
    int        result[MAXS];
    gort_ctx  *stop;                        /* ends the servers */
    gort_wg    servers;
} f;

static size_t payload_len(int n) { return 1024 + (size_t)(n * 7919 % 64) * 1024; }
static unsigned char payload_byte(int n, size_t i) { return (unsigned char)(n * 31 + i * 7 + (i >> 8)); }

/* ---- the servers ---------------------------------------------------------- */

struct conn { int fd, n; };

static void serve_conn(void *arg) {
    struct conn c = *(struct conn *)arg;
    char line[32];
    size_t got = 0, len = payload_len(c.n), off;
    unsigned char buf[4096];
    free(arg);
    /* read the request line */
    while (got < sizeof line - 1) {
        ssize_t r = gort_read_ctx(c.fd, line + got, sizeof line - 1 - got, f.stop);
        if (r <= 0) goto out;
        got += (size_t)r;
        if (memchr(line, '\n', got)) break;
    }
    line[got] = '\0';
    if (strncmp(line, "GET ", 4) != 0 || atoi(line + 4) != c.n) goto out;
    if (f.slow[c.n] && gort_sleep_ctx(20 * f.timeout, f.stop) != 0) goto out;
    for (off = 0; off < len;) {
        size_t k, m = len - off < sizeof buf ? len - off : sizeof buf;
        ssize_t w;
        for (k = 0; k < m; k++) buf[k] = payload_byte(c.n, off + k);
        if (c.n == f.corrupt && off == 0) buf[m / 2] ^= 0x55;   /* the liar */
        for (k = 0; k < m; k += (size_t)w)
            if ((w = gort_write_ctx(c.fd, buf + k, m - k, f.stop)) < 0) goto out;
        off += m;
    }
out:
    gort_close(c.fd);
    gort_wg_done(&f.servers);
}

static void server(void *arg) {
    int n = (int)(intptr_t)arg, fd;
    while ((fd = gort_accept_ctx(f.lfd[n], NULL, NULL, f.stop)) >= 0) {
        struct conn *c = (struct conn *)malloc(sizeof *c);
        if (!c) { gort_close(fd); continue; }
        c->fd = fd; c->n = n;
        gort_wg_add(&f.servers, 1);
        if (gort_go(serve_conn, c) != 0) { gort_close(fd); free(c); gort_wg_done(&f.servers); }
    }
    gort_close(f.lfd[n]);
    gort_wg_done(&f.servers);
}

static int listen_loopback(int *port) {
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int fd = new_tcp_socket();
    if (fd < 0) return fd;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        int e = sock_errno();
        gort_close(fd);
        return e;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/* ---- the client ----------------------------------------------------------- */

static gort_group *group;

/* One request under its own timeout. Returns 0 (its outcome is in
   f.result) or -EPROTO for a wrong reply, which fails the group. */
static int fetch_one(void *arg) {
    int n = (int)(intptr_t)arg, fd, r;
    gort_ctx *ctx = gort_ctx_with_timeout(gort_group_ctx(group), f.timeout);
    struct sockaddr_in sa;
    char req[32];
    unsigned char buf[4096];
    size_t want = payload_len(n), got = 0;
    ssize_t k;
    if (!ctx) { f.result[n] = RES_ERR; return -ENOMEM; }
    fd = new_tcp_socket();
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)f.port[n]);
    snprintf(req, sizeof req, "GET %d\n", n);
    r = fd < 0 ? fd : gort_connect_ctx(fd, (struct sockaddr *)&sa, sizeof sa, ctx);
    if (r == 0) r = (int)gort_write_ctx(fd, req, strlen(req), ctx);
    if (r >= 0) {
        r = 0;
        while ((k = gort_read_ctx(fd, buf, sizeof buf, ctx)) > 0) {
            ssize_t i;
            for (i = 0; i < k; i++)
                if (got + (size_t)i >= want || buf[i] != payload_byte(n, got + (size_t)i)) r = -EPROTO;
            got += (size_t)k;
            if (r) break;
        }
        if (k < 0) r = (int)k;
        else if (!r && got != want) r = -EPROTO;
    }
    if (fd >= 0) gort_close(fd);
    gort_ctx_free(ctx);
    switch (r) {
    case 0:           f.result[n] = RES_OK; return 0;
    case -ETIMEDOUT:  f.result[n] = RES_TIMEOUT; return 0;   /* its own deadline: a result */
    case -ECANCELED:  f.result[n] = RES_CANCELLED; return 0; /* the group gave up */
    case -EPROTO:     f.result[n] = RES_BAD; return -EPROTO;
    default:          f.result[n] = RES_ERR; return r;
    }
}

static int run_ok;

static void main_fn(void *arg) {
    int i, err, counts[RES_ERR + 1] = { 0 };
    int64_t t0;
    (void)arg;
    f.stop = gort_ctx_with_cancel(NULL);
    for (i = 0; i < f.n; i++) {
        if ((f.lfd[i] = listen_loopback(&f.port[i])) < 0) {
            fprintf(stderr, "fetch: listen: %s\n", gort_strerror(f.lfd[i]));
            f.n = i;
            break;
        }
        f.slow[i] = (i * f.nslow) / f.n != ((i + 1) * f.nslow) / f.n;   /* nslow of them, spread out */
        f.result[i] = RES_NONE;
        gort_wg_add(&f.servers, 1);
        if (gort_go(server, (void *)(intptr_t)i) != 0) { gort_wg_done(&f.servers); gort_close(f.lfd[i]); f.lfd[i] = -1; }
    }
    printf("fetch: %d servers (%d slow%s), %d requests at a time, %lld ms per request\n",
           f.n, f.nslow, f.corrupt >= 0 ? ", one corrupt" : "", f.limit, (long long)(f.timeout / MS));

    t0 = gort_now();
    group = gort_group_make(NULL);
    if (!group) { fprintf(stderr, "fetch: out of memory\n"); return; }
    gort_group_limit(group, f.limit);
    for (i = 0; i < f.n; i++)
        if ((err = gort_group_go(group, fetch_one, (void *)(intptr_t)i)) != 0) {
            fprintf(stderr, "fetch: gort_group_go: %s\n", gort_strerror(err));
            f.result[i] = RES_ERR;
        }
    err = gort_group_wait(group);
    gort_group_free(group);
    for (i = 0; i < f.n; i++) counts[f.result[i]]++;
    printf("%d fetched, %d timed out, %d cancelled, %d bad, %d not started or failed, in %.0f ms; group: %s\n",
           counts[RES_OK], counts[RES_TIMEOUT], counts[RES_CANCELLED], counts[RES_BAD], counts[RES_NONE] + counts[RES_ERR],
           (double)(gort_now() - t0) / 1e6, err ? gort_strerror(err) : "ok");

    if (f.corrupt < 0) {
        run_ok = err == 0 && counts[RES_OK] == f.n - f.nslow;
        for (i = 0; i < f.n; i++)
            if (f.result[i] != (f.slow[i] ? RES_TIMEOUT : RES_OK)) {
                printf("MISMATCH: server %d (%s) gave %d\n", i, f.slow[i] ? "slow" : "fast", f.result[i]);
                run_ok = 0;
            }
    } else {
        /* the liar failed the group; what was in flight was cancelled and
           what had not started never ran */
        run_ok = err == -EPROTO && f.result[f.corrupt] == RES_BAD &&
                 counts[RES_OK] + counts[RES_TIMEOUT] < f.n - 1 &&
                 counts[RES_CANCELLED] + counts[RES_NONE] > 0;
    }
    printf("%s\n", run_ok ? "OK" : "FAILED");

    gort_ctx_cancel(f.stop);   /* the servers return */
    gort_wg_wait(&f.servers);
    gort_ctx_free(f.stop);     /* only now: they used it until they returned */
}

static int run(int n, int nslow, int limit, int64_t timeout, int corrupt) {
    int rc;
    memset(&f, 0, sizeof f);
    f.n = n; f.nslow = nslow; f.limit = limit; f.timeout = timeout;
    f.corrupt = corrupt ? n / 2 : -1;
    run_ok = 0;
    rc = gort_run(main_fn, NULL);
    if (rc != 0) {
        fprintf(stderr, "fetch: gort_run: %s\n", gort_strerror(rc));
        return 1;
    }
    return run_ok ? 0 : 1;
}

int main(int argc, char **argv) {
    int v[4] = { 64, 6, 8, 100 }, nv = 0, corrupt = 0, i;
#if defined(_WIN32)
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) return 1;
#endif
    if (argc == 2 && strcmp(argv[1], "--selftest") == 0) {
        /* a second per request: a fast request takes about 10 ms under
           Wine (0.5 ms on Linux), and on a loaded machine (CI) well over
           the default 100 ms, which timed fast servers out */
        int a = run(64, 6, 8, 1000 * MS, 0);
        int b = run(64, 0, 4, 2000 * MS, 1);
        return a || b;
    }
    for (i = 1; i < argc; i++) {
        char *end;
        long x;
        if (strcmp(argv[i], "--corrupt") == 0) { corrupt = 1; continue; }
        x = strtol(argv[i], &end, 10);
        if (nv == 4 || end == argv[i] || *end || x < 0 || x > (nv == 0 ? MAXS : 1000000)) {
            fprintf(stderr, "usage: %s [servers (1..%d) [slow [limit [timeout_ms]]]] [--corrupt] | --selftest\n",
                    argv[0], MAXS);
            return 2;
        }
        v[nv++] = (int)x;
    }
    if (v[0] < 1 || v[1] > v[0] || v[2] < 1 || v[3] < 1) {
        fprintf(stderr, "fetch: need 1 <= servers, slow <= servers, limit >= 1, timeout >= 1 ms\n");
        return 2;
    }
    return run(v[0], v[1], v[2], (int64_t)v[3] * MS, corrupt);
}
