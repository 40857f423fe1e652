/* pth_http.c - the thread-per-connection counterpart of examples/http.c.
 *
 * The same server: HTTP/1.1 keep-alive and pipelining, every request gets
 * the same fixed "hello\n" response bytes (no Date header), the same request
 * parser (copied from examples/http.c), the same 400/413/431 answers and a
 * 30 s idle timeout. One detached pthread per connection doing blocking
 * read/write (the idle timeout is SO_RCVTIMEO, the usual way with threads),
 * the accept loop on the main thread. bench/net.sh runs wrk against it.
 *
 * Usage: pth_http [port]   serve on 127.0.0.1:port (default 8080; 0: any
 *                          free port) until killed. Prints
 *                          "pth_http: listening on http://127.0.0.1:PORT/"
 *                          once the socket listens.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define IN_BUF  8192   /* the largest request head plus body we accept */
#define OUT_BUF 8192
#define THREAD_STACK (128 * 1024)   /* two 8 KiB buffers + libc frames */
#define IDLE_SECONDS 30             /* as examples/http.c's idle_ns */

static const char RESP_KA[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";
static const char RESP_CLOSE[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n"
    "Connection: close\r\n\r\nhello\n";
#define BODY_LEN 6   /* "hello\n", the tail of RESP_KA and RESP_CLOSE */
static const char RESP_400[] =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static const char RESP_431[] =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
    "Connection: close\r\n\r\n";
static const char RESP_413[] =
    "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/* ---- the server --------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* Does [p, p+n) start with the lowercase word w, ignoring case? */
static int starts_with_ci(const char *p, size_t n, const char *w) {
    size_t i;
    for (i = 0; w[i]; i++)
        if (i >= n || lower((unsigned char)p[i]) != w[i]) return 0;
    return 1;
}

/* Does the header value [p, p+n) contain the lowercase token w? */
static int contains_ci(const char *p, size_t n, const char *w) {
    size_t wl = strlen(w);
    for (size_t i = 0; i + wl <= n; i++)
        if (starts_with_ci(p + i, n - i, w)) return 1;
    return 0;
}

static const char *find_head_end(const char *p, size_t n) {
    for (size_t i = 0; i + 4 <= n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
            return p + i + 4;
    return NULL;
}

enum { REQ_INCOMPLETE, REQ_KEEP, REQ_CLOSE, REQ_BAD, REQ_TOO_BIG, REQ_BODY_TOO_BIG };

/* The first "\r\n" in [p, lim), or lim. */
static const char *find_crlf(const char *p, const char *lim) {
    for (; p + 1 < lim; p++)
        if (p[0] == '\r' && p[1] == '\n') return p;
    return lim;
}

/* Parses the request at the start of [p, p+n): its total length (head and
   body) goes to *used, and whether it is a HEAD request to *head. Checks only
   what this server needs: the request line "METHOD SP target SP HTTP/1.x",
   Connection and Content-Length. */
static int parse_request(const char *p, size_t n, size_t *used, int *head) {
    const char *end = find_head_end(p, n), *line, *eol;
    size_t      i = 0, mend, body = 0;
    int         keep;
    if (!end) return n >= IN_BUF ? REQ_TOO_BIG : REQ_INCOMPLETE;

    /* request line */
    while (p[i] >= 'A' && p[i] <= 'Z') i++;   /* stops at the head's "\r\n" at the latest */
    mend = i;
    if (mend == 0 || p[i] != ' ') return REQ_BAD;
    eol = find_crlf(p, end);
    i = (size_t)(eol - p);
    if (i < mend + 11 || memcmp(p + i - 9, " HTTP/1.", 8) != 0 ||
        p[i - 1] < '0' || p[i - 1] > '9')
        return REQ_BAD;
    keep = p[i - 1] >= '1';   /* HTTP/1.1 keeps the connection by default, 1.0 does not */
    *head = mend == 4 && memcmp(p, "HEAD", 4) == 0;

    /* headers */
    for (line = eol + 2; line < end - 2; line = eol + 2) {
        size_t len;
        eol = find_crlf(line, end);
        len = (size_t)(eol - line);
        if (starts_with_ci(line, len, "connection:")) {
            if (contains_ci(line, len, "close")) keep = 0;
            else if (contains_ci(line, len, "keep-alive")) keep = 1;
        } else if (starts_with_ci(line, len, "content-length:")) {
            const char *v = line + 15;
            body = 0;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            if (v == eol) return REQ_BAD;
            for (; v < eol && *v >= '0' && *v <= '9'; v++) {
                body = body * 10 + (size_t)(*v - '0');
                if (body > IN_BUF) return REQ_BODY_TOO_BIG;
            }
        }
    }
    if ((size_t)(end - p) + body > n)
        return (size_t)(end - p) + body > IN_BUF ? REQ_BODY_TOO_BIG : REQ_INCOMPLETE;
    *used = (size_t)(end - p) + body;
    return keep ? REQ_KEEP : REQ_CLOSE;
}


static long requests_served;   /* atomic, as in examples/http.c */

static void *serve_conn(void *arg) {
    int            fd = (int)(intptr_t)arg;
    char           in[IN_BUF], out[OUT_BUF];
    size_t         have = 0;
    int            done = 0;
    struct timeval idle;
    idle.tv_sec = IDLE_SECONDS;   /* a read that waits this long fails with EAGAIN */
    idle.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
    while (!done) {
        size_t  off = 0, outlen = 0;
        int     r;
        ssize_t n;
        /* answer every complete request in the buffer, in one write if they fit */
        for (;;) {
            size_t      used = 0, rlen;
            int         head = 0;
            const char *resp;
            r = parse_request(in + off, have - off, &used, &head);
            if (r == REQ_INCOMPLETE) break;
            if (r == REQ_KEEP)       { resp = RESP_KA;    rlen = sizeof RESP_KA - 1; }
            else if (r == REQ_CLOSE) { resp = RESP_CLOSE; rlen = sizeof RESP_CLOSE - 1; }
            else if (r == REQ_BAD)   { resp = RESP_400;   rlen = sizeof RESP_400 - 1; }
            else if (r == REQ_TOO_BIG) { resp = RESP_431; rlen = sizeof RESP_431 - 1; }
            else                     { resp = RESP_413;   rlen = sizeof RESP_413 - 1; }
            if (head && (r == REQ_KEEP || r == REQ_CLOSE))
                rlen -= BODY_LEN;   /* HEAD: the same headers, no body */
            if (outlen + rlen > sizeof out) {
                if (write_all(fd, out, outlen) < 0) { done = 1; break; }
                outlen = 0;
            }
            memcpy(out + outlen, resp, rlen);
            outlen += rlen;
            if (r == REQ_KEEP || r == REQ_CLOSE)
                __atomic_add_fetch(&requests_served, 1, __ATOMIC_RELAXED);
            if (r != REQ_KEEP) { done = 1; break; }
            off += used;
        }
        if (outlen && write_all(fd, out, outlen) < 0) done = 1;
        if (done) break;
        memmove(in, in + off, have - off);
        have -= off;
        /* wait for more, but not forever (SO_RCVTIMEO) */
        do n = read(fd, in + have, IN_BUF - have);
        while (n < 0 && errno == EINTR);
        if (n <= 0) break;   /* the client closed, idled out, or an error */
        have += (size_t)n;
    }
    close(fd);
    return NULL;
}

static int listen_on(const char *addr, int port, int *bound_port) {
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, addr, &sa.sin_addr);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    *bound_port = ntohs(sa.sin_port);
    return fd;
}

int main(int argc, char **argv) {
    pthread_attr_t attr;
    char *end;
    long port = 8080;
    int bound = 0, lfd;
    if (argc > 2 || (argc == 2 && (port = strtol(argv[1], &end, 10), *end || port < 0 || port > 65535))) {
        fprintf(stderr, "usage: %s [port]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    lfd = listen_on("127.0.0.1", (int)port, &bound);
    if (lfd < 0) {
        fprintf(stderr, "pth_http: listen on port %ld: %s\n", port, strerror(-lfd));
        return 1;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    printf("pth_http: listening on http://127.0.0.1:%d/\n", bound);
    fflush(stdout);
    for (;;) {
        pthread_t t;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                usleep(10000);   /* out of fds: let connections finish */
            continue;
        }
        if (pthread_create(&t, &attr, serve_conn, (void *)(intptr_t)fd) != 0) close(fd);
    }
}
