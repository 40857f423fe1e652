/* pth_sock.h - what bench/pth_http.c and bench/pth_echo.c (the
 * thread-per-connection servers) share: the socket headers, and on Windows
 * (MinGW-w64, winpthreads; link with -lws2_32) Winsock's calls under the
 * POSIX names the servers use, for `bench/run.sh --windows` under Wine;
 * and a blocking write of a whole buffer. Include it in one file. C99. */
#ifndef PTH_SOCK_H
#define PTH_SOCK_H
#include <errno.h>
#include <stddef.h>
#if defined(_WIN32)
#include <winsock2.h>
#include <ws2tcpip.h>
#define MSG_NOSIGNAL 0
#define SOCK_CLOEXEC 0
#define sock_err() (-(int)WSAGetLastError())
#define read(fd, b, n) recv((SOCKET)(unsigned)(fd), (char *)(b), (int)(n), 0)
#define close(fd) closesocket((SOCKET)(unsigned)(fd))
#define accept4(l, a, n, f) ((int)accept((SOCKET)(unsigned)(l), (a), (n)))
#define usleep(us) Sleep((DWORD)((us) / 1000))
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#define sock_err() (-errno)
#endif

/* All of p to fd (blocking), or the error that stopped it. */
static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        int w = (int)send(fd, p, (int)n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return sock_err();
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
#endif
