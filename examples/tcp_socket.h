/* tcp_socket.h - a new TCP socket as gort's int fd, on Linux and Windows,
 * for the network examples (echo.c, fetch.c, http.c).
 *
 *   new_tcp_socket()   a new IPv4 stream socket, or a negative errno
 *   sock_errno()       the last socket call's error as a negative errno
 *                      (-EIO on Windows, whose error is in WSAGetLastError)
 *   SHUT_WR            shutdown's "no more sending" (SD_SEND on Windows)
 *
 * On Windows a SOCKET is passed where gort takes an int fd (gort.h,
 * >>os-windows, says why it fits); winsock2.h and ws2tcpip.h come with
 * gort.h. Include it after gort.h. Static functions only. C99. */
#ifndef TCP_SOCKET_H
#define TCP_SOCKET_H

#include <errno.h>
#if defined(_WIN32)
static int new_tcp_socket(void) {
    SOCKET s = socket(AF_INET, SOCK_STREAM, 0);
    return s == INVALID_SOCKET ? -ENFILE : (int)s;
}
#define sock_errno() (-EIO)
#ifndef SHUT_WR
#define SHUT_WR SD_SEND
#endif
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
static int new_tcp_socket(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    return fd < 0 ? -errno : fd;
}
#define sock_errno() (-errno)
#endif

#endif
