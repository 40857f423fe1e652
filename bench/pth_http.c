/* pth_http.c - the thread-per-connection counterpart of examples/http.c.
 *
 * The same server: HTTP/1.1 keep-alive and pipelining, every request gets
 * the same fixed "hello\n" response bytes (no Date header), the same request
 * parser and the same 400/413/431 answers (both include examples/http_parse.h)
 * and a 30 s idle timeout. One detached pthread per connection doing blocking
 * read/write (the idle timeout is SO_RCVTIMEO, the usual way with threads),
 * the accept loop on the main thread. bench/net.sh runs wrk against it.
 *
 * Usage: pth_http [port]   serve on 127.0.0.1:port (default 8080; 0: any
 *                          free port) until killed. Prints
 *                          "pth_http: listening on http://127.0.0.1:PORT/"
 *                          once the socket listens.
 *
 * Windows (MinGW-w64, winpthreads; link with -lws2_32): see pth_sock.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pth_sock.h"   /* the socket headers (Winsock on Windows) and write_all */

#include "../examples/http_parse.h"   /* the parser and the response bytes of examples/http.c */

#define THREAD_STACK (128 * 1024)   /* two 8 KiB buffers + libc frames */
#define IDLE_SECONDS 30             /* as examples/http.c's idle_ns */

/* ---- the server --------------------------------------------------------- */


static long requests_served;   /* atomic, as in examples/http.c */

static void *serve_conn(void *arg) {
    int            fd = (int)(intptr_t)arg;
    char           in[HTTP_IN_BUF], out[HTTP_OUT_BUF];
    size_t         have = 0;
    int            done = 0;
#if defined(_WIN32)
    DWORD          idle = IDLE_SECONDS * 1000;   /* (milliseconds there) */
#else
    struct timeval idle;
    idle.tv_sec = IDLE_SECONDS;   /* a read that waits this long fails with EAGAIN */
    idle.tv_usec = 0;
#endif
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, (const char *)&idle, sizeof idle);
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
        /* wait for more, but not forever (SO_RCVTIMEO) */
        do n = read(fd, in + have, HTTP_IN_BUF - have);
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
    int one = 1, fd = (int)socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return sock_err();
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, addr, &sa.sin_addr);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, (const char *)&one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        int err = sock_err();
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
#if defined(_WIN32)
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) return 1;
#else
    signal(SIGPIPE, SIG_IGN);
#endif
    lfd = listen_on("127.0.0.1", (int)port, &bound);
    if (lfd < 0) {
        fprintf(stderr, "pth_http: listen on port %ld: error %d\n", port, -lfd);
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
#if defined(_WIN32)
            usleep(10000);
#else
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                usleep(10000);   /* out of fds: let connections finish */
#endif
            continue;
        }
        if (pthread_create(&t, &attr, serve_conn, (void *)(intptr_t)fd) != 0) close(fd);
    }
}
