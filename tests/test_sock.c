/* test_sock.c - TCP over loopback through gort's I/O calls, the same on
   Linux (epoll) and Windows (the WSAPoll poller, >>poll-windows; a SOCKET
   in the int fd). Each part can fail on its own:
   - echo: 40 client goroutines connect (gort_connect) to a listener whose
     goroutine accepts (gort_accept) and starts an echo goroutine each;
     every client sends 200 messages of varying size with gort_write /
     gort_send / gort_writev and reads each echo back with gort_read /
     gort_recv / gort_readv; every byte is checked. 2 Ps.
   - parked reader: a goroutine reads a silent socket (parks), the peer
     writes 50 ms later: the reader wakes with the bytes; then again, to
     check the edge comes back after an EAGAIN (a level poller that
     stopped watching a reported direction for good would hang here).
   - timeouts: gort_read_timeout on a silent socket gives -ETIMEDOUT after
     at least its time; gort_wait_fd(GORT_IN) too, and GORT_IN once data
     is there; gort_select with an fd case and a channel case picks the
     fd case when the peer writes.
   - close: gort_close of a socket a goroutine is parked reading wakes it
     with -EBADF; a peer's close gives the reader 0 (end of stream).
   - refused: gort_connect to a port nobody listens on: -ECONNREFUSED.
   - plain thread: a plain thread's gort_read on a socket a goroutine
     writes to later (it waits in poll/WSAPoll, not in the scheduler).
   C99. */
// gort-test: windows
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <string.h>
#include <pthread.h>
#if defined(_WIN32)
#define SOCK_OK(s) ((s) != INVALID_SOCKET)
typedef SOCKET sock_t;
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#define SOCK_OK(s) ((s) >= 0)
typedef int sock_t;
#endif

#define MS 1000000LL

/* a socket as the API's int fd (on Windows a SOCKET, which fits) */
static int tcp_socket(void)
{
    sock_t s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (!SOCK_OK(s))
        return -1;
    return (int)s;
}

static int listener(int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int one = 1, fd = tcp_socket();
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, (const char *)&one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        gort_close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int dial(int port)
{
    struct sockaddr_in a;
    int fd = tcp_socket(), r;
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    r = gort_connect(fd, (struct sockaddr *)&a, sizeof a);
    if (r != 0) {
        gort_close(fd);
        return r;
    }
    return fd;
}

/* a connected pair: a (dialled) and b (accepted) */
static int pair(int *a, int *b)
{
    int port, l = listener(&port);
    if (l < 0)
        return -1;
    *a = dial(port);
    *b = *a >= 0 ? gort_accept(l, NULL, NULL) : -1;
    gort_close(l);
    return *a >= 0 && *b >= 0 ? 0 : -1;
}

static int read_full(int fd, char *p, size_t n, int how)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r;
        if (how == 0) {
            r = gort_read(fd, p + got, n - got);
        } else if (how == 1) {
            r = gort_recv(fd, p + got, n - got, 0);
        } else {
            struct iovec v[2];
            size_t half = (n - got) / 2;
            v[0].iov_base = p + got; v[0].iov_len = half;
            v[1].iov_base = p + got + half; v[1].iov_len = n - got - half;
            r = gort_readv(fd, v, 2);
        }
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* ------------------------------------------------------------ echo */

#define CLIENTS 40
#define MSGS    200

static long echo_ok, echo_bad;

static void echo_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[4096];
    for (;;) {
        ssize_t r = gort_read(fd, buf, sizeof buf);
        if (r <= 0)
            break;
        if (gort_write_all(fd, buf, (size_t)r) != r)
            break;
    }
    gort_close(fd);
}

static void echo_server(void *arg)
{
    int l = (int)(intptr_t)arg, i;
    for (i = 0; i < CLIENTS; i++) {
        int c = gort_accept(l, NULL, NULL);
        if (c < 0) {
            CHECK_EQ(c, 0);
            break;
        }
        CHECK_EQ(gort_go(echo_conn, (void *)(intptr_t)c), 0);
    }
    gort_close(l);
}

static int echo_port;

static void echo_client(void *arg)
{
    int id = (int)(intptr_t)arg, fd = dial(echo_port), m, ok = 1;
    char out[3000], in[3000];
    if (fd < 0) {
        INC(&echo_bad);
        return;
    }
    for (m = 0; m < MSGS && ok; m++) {
        size_t n = 1 + (size_t)((id * 131 + m * 71) % (int)sizeof out), k;
        int how = (id + m) % 3;
        for (k = 0; k < n; k++)
            out[k] = (char)(id ^ m ^ (int)k);
        if (how == 0) {
            ok = gort_write_all(fd, out, n) == (ssize_t)n;
        } else if (how == 1) {
            size_t sent = 0;
            while (ok && sent < n) {
                ssize_t r = gort_send(fd, out + sent, n - sent, 0);
                ok = r > 0;
                sent += r > 0 ? (size_t)r : 0;
            }
        } else {
            struct iovec v[2];
            ssize_t r;
            v[0].iov_base = out; v[0].iov_len = n / 2;
            v[1].iov_base = out + n / 2; v[1].iov_len = n - n / 2;
            r = gort_writev(fd, v, 2);
            ok = r > 0 && (r == (ssize_t)n || gort_write_all(fd, out + r, n - (size_t)r) == (ssize_t)(n - (size_t)r));
        }
        ok = ok && read_full(fd, in, n, how) == 0 && memcmp(in, out, n) == 0;
    }
    gort_close(fd);
    INC(ok ? &echo_ok : &echo_bad);
}

static void echo_main(void *arg)
{
    int l = listener(&echo_port), i;
    (void)arg;
    CHECK(l >= 0);
    if (l < 0)
        return;
    CHECK_EQ(gort_go(echo_server, (void *)(intptr_t)l), 0);
    for (i = 0; i < CLIENTS; i++)
        CHECK_EQ(gort_go(echo_client, (void *)(intptr_t)i), 0);
    CHECK(wait_for_nap((int *)(void *)&echo_ok, CLIENTS, MS));
}

/* ------------------------------------------------------------ parked reader */

static int pr_a, pr_b;
static long pr_got;

static void parked_reader(void *arg)
{
    char c[4];
    int round;
    (void)arg;
    for (round = 0; round < 3; round++) {
        ssize_t r = gort_read(pr_b, c, 1);   /* parks: nothing sent yet */
        if (r == 1 && c[0] == (char)('x' + round))
            INC(&pr_got);
    }
}

static void parked_main(void *arg)
{
    int round;
    char c;
    (void)arg;
    CHECK_EQ(pair(&pr_a, &pr_b), 0);
    CHECK_EQ(gort_go(parked_reader, NULL), 0);
    for (round = 0; round < 3; round++) {
        gort_sleep(50 * MS);
        CHECK_EQ(LOAD(&pr_got), round);   /* still parked */
        c = (char)('x' + round);
        CHECK_EQ(gort_write(pr_a, &c, 1), 1);
        CHECK(wait_for_nap((int *)(void *)&pr_got, round + 1, MS));
    }
    gort_close(pr_a);
    gort_close(pr_b);
}

/* ------------------------------------------------------------ timeouts, wait_fd, select */

static void timeout_main(void *arg)
{
    int a, b;
    char buf[8];
    int64_t t0;
    ssize_t r;
    gort_case cs[2];
    gort_chan *never = gort_chan_make(sizeof(int), 0);
    (void)arg;
    CHECK_EQ(pair(&a, &b), 0);
    t0 = gort_now();
    r = gort_read_timeout(b, buf, sizeof buf, 30 * MS);
    CHECK_EQ(r, -ETIMEDOUT);
    CHECK(gort_now() - t0 >= 30 * MS);
    t0 = gort_now();
    CHECK_EQ(gort_wait_fd(b, GORT_IN, 30 * MS), -ETIMEDOUT);
    CHECK(gort_now() - t0 >= 30 * MS);
    CHECK_EQ(gort_wait_fd(a, GORT_OUT, 30 * MS), GORT_OUT);
    CHECK_EQ(gort_write(a, "hi", 2), 2);
    CHECK_EQ(gort_wait_fd(b, GORT_IN, 1000 * MS), GORT_IN);
    CHECK_EQ(gort_read(b, buf, sizeof buf), 2);
    /* select: an fd case beside a channel that never sends */
    memset(cs, 0, sizeof cs);
    cs[0].op = GORT_RECV; cs[0].chan = never; cs[0].elem = buf;
    cs[1].op = GORT_WAIT_IN; cs[1].fd = b;
    {   /* readiness is a hint (gort.h, I/O): an edge the poller took while
           "hi" was there can still reach this select after the read; a
           user looks again, as here (a few times at most) */
        int k, rc = 0;
        for (k = 0; k < 5; k++) {
            rc = gort_select(cs, 2, 20 * MS);
            if (rc != 1 || gort_read_timeout(b, buf, sizeof buf, 0) != -ETIMEDOUT)
                break;
        }
        CHECK_EQ(rc, -ETIMEDOUT);
    }
    CHECK_EQ(gort_write(a, "!", 1), 1);
    CHECK_EQ(gort_select(cs, 2, 1000 * MS), 1);
    CHECK_EQ(cs[1].ok, 1);
    CHECK_EQ(gort_read(b, buf, sizeof buf), 1);
    gort_close(a);
    gort_close(b);
    gort_chan_free(never);
}

/* ------------------------------------------------------------ close */

static int cl_b;
static long cl_result = 1, cl_done;

static void close_reader(void *arg)
{
    char c;
    (void)arg;
    cl_result = gort_read(cl_b, &c, 1);
    INC(&cl_done);
}

static void close_main(void *arg)
{
    int a;
    char c;
    (void)arg;
    CHECK_EQ(pair(&a, &cl_b), 0);
    CHECK_EQ(gort_go(close_reader, NULL), 0);
    gort_sleep(30 * MS);
    CHECK_EQ(LOAD(&cl_done), 0);
    CHECK_EQ(gort_close(cl_b), 0);   /* wakes the parked reader */
    CHECK(wait_for_nap((int *)(void *)&cl_done, 1, MS));
    CHECK_EQ(cl_result, -EBADF);
    /* the peer's close: end of stream */
    {
        int x, y;
        CHECK_EQ(pair(&x, &y), 0);
        CHECK_EQ(gort_close(x), 0);
        CHECK_EQ(gort_read(y, &c, 1), 0);
        gort_close(y);
    }
    gort_close(a);
}

/* ------------------------------------------------------------ refused */

static void refused_main(void *arg)
{
    int port, l = listener(&port), fd;
    (void)arg;
    CHECK(l >= 0);
    gort_close(l);   /* nobody listens there now */
    fd = dial(port);
    CHECK_EQ(fd, -ECONNREFUSED);
}

/* ------------------------------------------------------------ plain thread */

static int pt_a, pt_b;
static long pt_ok;

static void *plain_reader(void *arg)
{
    char buf[16];
    ssize_t r;
    (void)arg;
    r = gort_read(pt_b, buf, sizeof buf);   /* waits in poll, outside the scheduler */
    if (r == 5 && memcmp(buf, "plain", 5) == 0)
        INC(&pt_ok);
    return NULL;
}

static void plain_main(void *arg)
{
    pthread_t t;
    (void)arg;
    CHECK_EQ(pair(&pt_a, &pt_b), 0);
    CHECK_EQ(pthread_create(&t, NULL, plain_reader, NULL), 0);
    gort_sleep(30 * MS);
    CHECK_EQ(gort_write(pt_a, "plain", 5), 5);
    pthread_join(t, NULL);
    CHECK_EQ(LOAD(&pt_ok), 1);
    gort_close(pt_a);
    gort_close(pt_b);
}

int main(void)
{
#if defined(_WIN32)
    WSADATA wd;
    CHECK_EQ(WSAStartup(MAKEWORD(2, 2), &wd), 0);
#endif
    watchdog(300);
    CHECK_EQ(run_procs(2, echo_main, NULL), 0);
    CHECK_EQ(LOAD(&echo_ok), CLIENTS);
    CHECK_EQ(LOAD(&echo_bad), 0);
    CHECK_EQ(run_procs(1, parked_main, NULL), 0);
    CHECK_EQ(LOAD(&pr_got), 3);
    CHECK_EQ(run_procs(2, timeout_main, NULL), 0);
    CHECK_EQ(run_procs(2, close_main, NULL), 0);
    CHECK_EQ(run_procs(1, refused_main, NULL), 0);
    CHECK_EQ(run_procs(2, plain_main, NULL), 0);
    return check_done();
}
