/* pth_echo.c - the thread-per-connection counterpart of examples/echo.c.
 *
 * The same protocol: every byte a client sends comes back, read in pieces of
 * up to 16 KiB and written back whole, until the client closes. One detached
 * pthread per connection doing blocking read/write, the accept loop on the
 * main thread. bench/net.sh runs it against bench/echo_client.
 *
 * Usage: pth_echo [port]   serve on 127.0.0.1:port (default 7007; 0: any
 *                          free port) until killed. Prints
 *                          "pth_echo: listening on 127.0.0.1:PORT" once the
 *                          socket listens.
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

#define BUF 16384                       /* as examples/echo.c */
#define THREAD_STACK (128 * 1024)       /* 16 KiB buffer + libc frames */

static void *serve_conn(void *arg) {
    int     fd = (int)(intptr_t)arg;
    char    buf[BUF];
    ssize_t n;
    for (;;) {
        n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (write_all(fd, buf, (size_t)n) < 0) break;
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
    long port = 7007;
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
        fprintf(stderr, "pth_echo: listen on port %ld: error %d\n", port, -lfd);
        return 1;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    printf("pth_echo: listening on 127.0.0.1:%d\n", bound);
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
