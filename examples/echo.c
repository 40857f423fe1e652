/* echo.c - a TCP echo server with one goroutine per connection.
 *
 * What it shows: the netpoller. gort_accept, gort_read and gort_write park
 * only the calling goroutine while the socket is not ready, so the code reads
 * like blocking code (one goroutine per connection, as in Go's net package)
 * and a few threads serve every connection. gort_close wakes a goroutine
 * parked on the listener, which is how the server is shut down. The self-test
 * also shows two goroutines on one socket, one writing and one reading, each
 * parked on its own direction.
 *
 * Usage:
 *   echo [port]                          serve on 0.0.0.0:port (default 7007)
 *                                        until killed
 *   echo --selftest [clients [kib]]      serve on 127.0.0.1 (a free port), run
 *                                        `clients` client goroutines (default 50)
 *                                        that each stream `kib` KiB (default 256)
 *                                        through the server in random-sized
 *                                        writes and check every echoed byte;
 *                                        exit status 0 only if all came back.
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

#define BUF 16384

/* ---- the server --------------------------------------------------------- */

static gort_wg server_wg = GORT_WG_INIT;   /* the accept loop and every connection */
static long    conns_served;               /* atomic */
static long    bytes_echoed;               /* atomic */

/* Write all n bytes; gort_write may be short like write(2). 0 or -errno. */
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
    int     fd = (int)(intptr_t)arg;
    char    buf[BUF];   /* on the goroutine's stack: 16 KiB of its 128 KiB */
    ssize_t n;
    long    total = 0;
    while ((n = gort_read(fd, buf, sizeof buf)) > 0) {
        if (write_all(fd, buf, (size_t)n) < 0) break;
        total += n;
    }
    gort_close(fd);
    __atomic_add_fetch(&bytes_echoed, total, __ATOMIC_RELAXED);
    __atomic_add_fetch(&conns_served, 1, __ATOMIC_RELAXED);
    gort_wg_done(&server_wg);
}

/* Accept until the listener is closed (gort_close makes gort_accept return
   -EBADF), one goroutine per connection. */
static void accept_loop(void *arg) {
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int fd = gort_accept(lfd, NULL, NULL);
        if (fd == -EBADF || fd == -EINVAL) break;   /* listener closed */
        if (fd < 0) {
            if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM)
                gort_sleep(10 * 1000000LL);   /* out of fds: let connections finish */
            continue;                         /* -ECONNABORTED and the like */
        }
        gort_wg_add(&server_wg, 1);
        if (gort_go(serve_conn, (void *)(intptr_t)fd) != 0) {
            gort_close(fd);
            gort_wg_done(&server_wg);
        }
    }
    gort_wg_done(&server_wg);
}

/* A listening socket on addr:port (port 0: any free one). fd or -errno. */
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

typedef struct client {
    int      id;
    int      port;
    long     bytes;      /* to send */
    int      fd;
    long     received;   /* reader: bytes back */
    int      rerr;       /* reader: 0, -errno, or 1: wrong data */
    long     bad_at;     /* reader: offset of the first wrong byte */
    int      werr;       /* writer: 0 or -errno */
    gort_wg  done;       /* the reader */
} client;

static gort_wg clients_wg = GORT_WG_INIT;

/* Byte i of client id's stream. */
static unsigned char pattern(int id, long i) {
    return (unsigned char)(i * 131 + (i >> 9) + id * 17);
}

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Reads the echo until the server closes, checking each byte. */
static void client_reader(void *arg) {
    client *c = (client *)arg;
    char    buf[BUF];
    ssize_t n;
    while ((n = gort_read(c->fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            if (!c->rerr && (unsigned char)buf[i] != pattern(c->id, c->received + i)) {
                c->rerr = 1;
                c->bad_at = c->received + i;
            }
        c->received += n;
    }
    if (n < 0 && !c->rerr) c->rerr = (int)n;
    gort_wg_done(&c->done);
}

/* Connects, starts a reader, writes the stream in random-sized pieces, then
   shuts down its sending side so that the server sees EOF and closes. */
static void client_writer(void *arg) {
    client            *c = (client *)arg;
    struct sockaddr_in sa;
    char               buf[BUF];
    uint64_t           rng = (uint64_t)c->id * 7919 + 1;
    long               sent = 0;
    int                rc;

    c->fd = new_tcp_socket();
    if (c->fd < 0) { c->werr = c->fd; goto out; }
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)c->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = gort_connect(c->fd, (struct sockaddr *)&sa, sizeof sa);
    if (rc < 0) { c->werr = rc; goto out; }

    gort_wg_add(&c->done, 1);
    if (gort_go(client_reader, c) != 0) { c->werr = -ENOMEM; gort_wg_done(&c->done); goto out; }
    while (sent < c->bytes) {
        long n = 1 + (long)(rng_next(&rng) % BUF);
        if (n > c->bytes - sent) n = c->bytes - sent;
        for (long i = 0; i < n; i++) buf[i] = (char)pattern(c->id, sent + i);
        rc = write_all(c->fd, buf, (size_t)n);
        if (rc < 0) { c->werr = rc; break; }
        sent += n;
    }
    shutdown(c->fd, SHUT_WR);
    gort_wg_wait(&c->done);   /* the reader has seen EOF */
out:
    if (c->fd >= 0) gort_close(c->fd);
    gort_wg_done(&clients_wg);
}

typedef struct selftest { int nclients; long kib; int ok; } selftest;

static void selftest_main(void *arg) {
    selftest *st = (selftest *)arg;
    client   *cl = (client *)calloc((size_t)st->nclients, sizeof(client));
    int       port = 0, lfd, failed = 0;
    long      want = 0, got = 0;
    int64_t   t0, t1;

    if (!cl) { fprintf(stderr, "echo: out of memory\n"); return; }
    lfd = listen_on("127.0.0.1", 0, &port);
    if (lfd < 0) { fprintf(stderr, "echo: listen: %s\n", gort_strerror(lfd)); free(cl); return; }
    gort_wg_add(&server_wg, 1);
    if (gort_go(accept_loop, (void *)(intptr_t)lfd) != 0) {
        fprintf(stderr, "echo: cannot start the accept loop\n");
        exit(1);
    }

    t0 = gort_now();
    for (int i = 0; i < st->nclients; i++) {
        cl[i].id = i;
        cl[i].port = port;
        cl[i].bytes = st->kib * 1024;
        cl[i].fd = -1;
        want += cl[i].bytes;
        gort_wg_add(&clients_wg, 1);
        if (gort_go(client_writer, &cl[i]) != 0) {
            fprintf(stderr, "echo: cannot start client %d\n", i);
            exit(1);
        }
    }
    gort_wg_wait(&clients_wg);
    t1 = gort_now();

    gort_close(lfd);            /* wakes the accept loop with -EBADF */
    gort_wg_wait(&server_wg);   /* it and every connection have finished */

    for (int i = 0; i < st->nclients; i++) {
        got += cl[i].received;
        if (cl[i].rerr == 1) {
            printf("MISMATCH: client %d: wrong byte at offset %ld\n", i, cl[i].bad_at);
        } else if (cl[i].werr || cl[i].rerr) {
            printf("FAIL: client %d: %s\n", i, gort_strerror(cl[i].werr ? cl[i].werr : cl[i].rerr));
        } else if (cl[i].received != cl[i].bytes) {
            printf("MISMATCH: client %d: sent %ld bytes, got %ld back\n", i, cl[i].bytes,
                   cl[i].received);
        } else {
            continue;
        }
        failed++;
    }
    printf("echo selftest: %d clients x %ld KiB through 127.0.0.1:%d in %.1f ms (%.1f MB/s each way)\n",
           st->nclients, st->kib, port, (double)(t1 - t0) / 1e6,
           (double)got / 1e6 / ((double)(t1 - t0) / 1e9));
    printf("server: %ld connections, %ld bytes echoed; clients got %ld of %ld bytes back\n",
           __atomic_load_n(&conns_served, __ATOMIC_RELAXED),
           __atomic_load_n(&bytes_echoed, __ATOMIC_RELAXED), got, want);
    if (!failed && got == want && __atomic_load_n(&conns_served, __ATOMIC_RELAXED) == st->nclients &&
        __atomic_load_n(&bytes_echoed, __ATOMIC_RELAXED) == want) {
        printf("OK: every byte came back in order\n");
        st->ok = 1;
    } else {
        printf("FAILED (%d clients failed)\n", failed);
    }
    free(cl);
}

/* ---- serving for real --------------------------------------------------- */

static void serve_main(void *arg) {
    int port = *(int *)arg, bound = 0;
    int lfd = listen_on("0.0.0.0", port, &bound);
    if (lfd < 0) {
        fprintf(stderr, "echo: listen on port %d: %s\n", port, gort_strerror(lfd));
        return;
    }
    printf("echo: listening on 0.0.0.0:%d (try: nc localhost %d)\n", bound, bound);
    fflush(stdout);
    gort_wg_add(&server_wg, 1);
    accept_loop((void *)(intptr_t)lfd);   /* the main goroutine accepts; returns on error only */
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
    signal(SIGPIPE, SIG_IGN);   /* a peer that goes away makes gort_write fail with -EPIPE */
#endif
    if (argc > 1 && strcmp(argv[1], "--selftest") == 0) {
        selftest st;
        long n = 50, kib = 256;
        if (argc > 4 || (argc > 2 && !parse(argv[2], 1, 10000, &n)) ||
            (argc > 3 && !parse(argv[3], 0, 1L << 20, &kib))) {
            fprintf(stderr, "usage: %s --selftest [clients 1..10000 [kib]]\n", argv[0]);
            return 2;
        }
        st.nclients = (int)n;
        st.kib = kib;
        st.ok = 0;
        rc = gort_run(selftest_main, &st);
        if (rc != 0) fprintf(stderr, "echo: gort_run: %s\n", gort_strerror(rc));
        return rc == 0 && st.ok ? 0 : 1;
    } else {
        long port = 7007;
        int  p;
        if (argc > 2 || (argc == 2 && !parse(argv[1], 0, 65535, &port))) {
            fprintf(stderr, "usage: %s [port] | --selftest [clients [kib]]\n", argv[0]);
            return 2;
        }
        p = (int)port;
        rc = gort_run(serve_main, &p);
        if (rc != 0) fprintf(stderr, "echo: gort_run: %s\n", gort_strerror(rc));
        return 1;   /* serving ends only on an error */
    }
}
