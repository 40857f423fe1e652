/* test_io.c - the netpoller and the I/O calls (>>netpoll, >>io).

   Only socketpair(2), 127.0.0.1 and a temporary regular file are used.
   The suite runs twice, with maxprocs 1 and 2. It checks:
     - with no runtime at all the calls are plain blocking calls; a
       deadline holds even on a blocking fd (a forked child with alarm()
       turns a call that ignores it into a failure, not a hang); timeout 0
       with data there returns the data;
     - ping-pong: two goroutines bounce a counter through a socketpair
       with gort_read/gort_write, 20,000 round trips (scaled);
     - many parked readers: 1,000 goroutines (scaled) parked in gort_read
       at once, each on its own socketpair, all seen parked ("io wait" in
       gort_dump), woken by writes from two writer goroutines; then 1,000
       goroutines parked in gort_read on ONE fd, woken by 1,000 bytes
       written in chunks: each gets exactly one byte, the bytes add up;
     - full duplex: 4 MiB each way at once through one socketpair with a
       small SO_SNDBUF (reader and writer goroutines on both ends), data
       checked against a pattern; gort_write is short (short writes are
       counted and must occur) and is retried; then the same with
       gort_write_all (returns exactly n); EOF after the writer's shutdown;
     - return codes: EOF (0, also for a reader parked when the peer
       closes); -EBADF for fd -1 and for an fd closed with gort_close (read,
       write, close, wait_fd); -EPIPE for write/send/writev/write_all to a
       socket whose peer closed, also for a writer parked on a full buffer
       when the peer closes, and the process is not killed by SIGPIPE (the
       test leaves SIGPIPE at its default); -ECONNREFUSED from gort_connect
       to a closed 127.0.0.1 port; readv/writev/recv/send move the bytes;
     - accept/connect: 100 client goroutines (scaled) connect at once to a
       127.0.0.1 listener; an accept loop starts one echo goroutine per
       connection; every client gets its own message back exactly;
     - gort_close wakes everything parked on the fd: a reader, a writer
       (buffer filled first), a select WAIT_IN case, a select WAIT_OUT case
       and gort_wait_fd get -EBADF (select: its fd case with ok == 0; the
       selects are retried, as a user would, if a stale edge ever wakes
       them while the fd is not ready);
     - deadlines: gort_read_timeout/gort_write_timeout/gort_accept_timeout
       and gort_wait_fd return -ETIMEDOUT (elapsed >= the timeout, a lower
       bound only), or the data / the fd / the ready mask when it comes in
       time; timeout 0 tries once; gort_wait_fd(GORT_IN|GORT_OUT) returns
       exactly the ready directions; events 0 is -EINVAL;
     - gort_select over a quit channel, a socket (GORT_WAIT_IN with .fd)
       and a timeout: each wins in its own scenario (fd case with ok == 1),
       also when it becomes ready while the select is parked; cases with
       fd -1 are never ready; WAIT_OUT; random choice between a ready
       channel and a ready fd; and a remembered epoll edge whose data was
       already read does not make an fd case ready; one edge is
       reported once: 400 rounds (scaled) of a byte taken by a parked
       select and read, then a second parked select must choose the
       channel a goroutine sends on, not the fd;
     - plain threads: a pthread writes (write(2), then gort_write) to a
       socket a goroutine is parked reading: the goroutine wakes. A pthread
       calling gort_read blocks in the system call and gets the data, on a
       blocking fd and on one that is non-blocking (as a goroutine's wait
       leaves it); a pthread's
       gort_write_all on a full non-blocking socket completes;
     - a regular file: gort_read/gort_write/gort_wait_fd/select on it from a
       goroutine work at once (not pollable, must not hang).
   On Windows the pairs are loopback TCP sockets with fixed receive
   buffers (util.h's tcp_pair): a write to a closed peer may go out once
   and then fails with the reset (-ECONNRESET or -ECONNABORTED as well as
   -EPIPE), a buffer is full once a pause of a delayed ACK's length makes
   no room, the no-runtime child makes its own blocking pair, and the
   regular file is a C runtime descriptor: its waits and timeouts say
   -ENOTSUP (README, Platforms). */
#define _GNU_SOURCE
// gort-test: windows
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(_WIN32)
#include <io.h>
#define SOCK_CLOEXEC 0
#define SHUT_WR SD_SEND
#define poll(p, n, t) WSAPoll((p), (ULONG)(n), (t))
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#define MS 1000000LL
#define HANG_NS (60000 * MS)   /* hang detector, not a timing assertion */

/* ------------------------------------------------------------ helpers */

/* A connected pair: socketpair(2), or on Windows two loopback TCP
   sockets (util.h's tcp_pair) */
static void mk_pair(int sv[2])
{
#if defined(_WIN32)
    int sz = 65536, i;   /* a fixed receive buffer: TCP's autotuning would make room in a "full" one later */
    CHECK_EQ(tcp_pair(sv), 0);
    for (i = 0; i < 2; i++)
        CHECK_EQ(setsockopt((SOCKET)(unsigned)sv[i], SOL_SOCKET, SO_RCVBUF, (const char *)&sz, sizeof sz), 0);
#else
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
#endif
}

/* write(2) on a socket, behind gort's back */
static ssize_t raw_write(int fd, const void *b, size_t n)
{
#if defined(_WIN32)
    return send((SOCKET)(unsigned)fd, (const char *)b, (int)n, 0);
#else
    return write(fd, b, n);
#endif
}

/* The socket made non-blocking as a goroutine's wait leaves it */
static void set_nonblock(int fd)
{
#if defined(_WIN32)
    u_long one = 1;
    CHECK_EQ(ioctlsocket((SOCKET)(unsigned)fd, FIONBIO, &one), 0);
#else
    int fl = fcntl(fd, F_GETFL);
    CHECK_EQ(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
#endif
}

/* Every fd that gort I/O touched is closed with gort_close (gort.h: a
   reused fd number could otherwise miss its wake-ups). */
static void close_pair(int sv[2])
{
    CHECK_EQ(gort_close(sv[0]), 0);
    CHECK_EQ(gort_close(sv[1]), 0);
}

static void small_sndbuf(int fd)
{
    int sz = 4096;
    CHECK_EQ(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, (const char *)&sz, sizeof sz), 0);
}

/* Writes without parking until the socket is full; returns the bytes. */
static size_t fill(int fd)
{
    static const char zero[4096];
    size_t total = 0;
    ssize_t r;
    while ((r = gort_write_timeout(fd, zero, sizeof zero, 0)) > 0)
        total += (size_t)r;
    CHECK_EQ(r, -ETIMEDOUT);
    CHECK(total > 0);
#if defined(_WIN32)
    /* loopback TCP moves the bytes on into the peer's receive buffer
       later (a delayed ACK: up to 200 ms): full is when a pause that long
       makes no more room */
    for (;;) {
        size_t more = 0;
        gort_sleep(250 * MS);
        while ((r = gort_write_timeout(fd, zero, sizeof zero, 0)) > 0)
            more += (size_t)r;
        if (more == 0)
            break;
        total += more;
    }
#endif
    return total;
}

/* A write to a connection whose peer has gone: -EPIPE (a socketpair);
   on Windows' loopback TCP the peer's reset: -ECONNRESET or -ECONNABORTED
   as well */
static int peer_gone(ssize_t r)
{
#if defined(_WIN32)
    return r == -EPIPE || r == -ECONNRESET || r == -ECONNABORTED;
#else
    return r == -EPIPE;
#endif
}

/* Counts `needle` in a gort_dump (written to an unlinked temporary file:
   a dump of 1000 goroutines does not fit a pipe). */
static int count_dump(const char *needle)
{
#if defined(_WIN32)
    FILE *f = util_tmpfile();
    long size;
    int n = 0;
    char *buf, *p;
    if (!f) {
        CHECK(!"tmpfile");
        return -1;
    }
    gort_dump(_fileno(f));
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    rewind(f);
    buf = (char *)malloc((size_t)size + 1);
    CHECK(buf != NULL);
    if (buf && fread(buf, 1, (size_t)size, f) == (size_t)size) {
        buf[size] = '\0';
        for (p = buf; (p = strstr(p, needle)) != NULL; p += strlen(needle))
            n++;
    }
    free(buf);
    fclose(f);
    return n;
#else
    char path[] = "/tmp/gort_test_io_XXXXXX";
    int fd = mkstemp(path), n = 0;
    off_t size;
    char *buf, *p;
    if (fd < 0) {
        CHECK(!"mkstemp");
        return -1;
    }
    unlink(path);
    gort_dump(fd);
    size = lseek(fd, 0, SEEK_END);
    buf = (char *)malloc((size_t)size + 1);
    CHECK(buf != NULL);
    if (buf && pread(fd, buf, (size_t)size, 0) == (ssize_t)size) {
        buf[size] = '\0';
        for (p = buf; (p = strstr(p, needle)) != NULL; p += strlen(needle))
            n++;
    }
    free(buf);
    close(fd);   /* never used with gort I/O */
    return n;
#endif
}

/* Waits (1 ms naps) until the dump shows `want` goroutines in io wait.
   Returns 0 on the hang detector. */
static int wait_io_parked(int want)
{
    int64_t end = gort_now() + HANG_NS;
    while (count_dump("[io wait") < want) {
        if (gort_now() > end) {
            CHECK(!"goroutines never parked in io wait");
            gort_dump(2);
            return 0;
        }
        gort_sleep(1 * MS);
    }
    return 1;
}

static int listen_local(struct sockaddr_in *sa)
{
    socklen_t sl = sizeof *sa;
    int l = (int)socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(l >= 0);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa->sin_port = 0;
    CHECK_EQ(bind(l, (struct sockaddr *)sa, sizeof *sa), 0);
    CHECK_EQ(listen(l, 512), 0);
    CHECK_EQ(getsockname(l, (struct sockaddr *)sa, &sl), 0);
    return l;
}

/* byte `off` of the stream with seed `seed` */
static unsigned char pat(unsigned seed, uint64_t off)
{
    uint64_t x = (off + (uint64_t)seed * 0x100000001B3ULL) * 0x9E3779B97F4A7C15ULL;
    return (unsigned char)(x >> 56);
}

/* ------------------------------------------------------------ no runtime */

/* A plain caller's gort_read_timeout on a blocking fd with nothing to
   read: exits 0 if both calls gave -ETIMEDOUT. */
static int read_timeout_child(void *fdp)
{
    char buf[8];
#if defined(_WIN32)
    /* a new process: a blocking socket of its own */
    WSADATA wd;
    int sv[2], fd;
    (void)fdp;
    if (WSAStartup(MAKEWORD(2, 2), &wd) != 0 || tcp_pair(sv) != 0)
        return 2;
    fd = sv[0];
#else
    int fd = *(int *)fdp;
#endif
    ssize_t r1 = gort_read_timeout(fd, buf, 1, 0);
    ssize_t r2 = gort_read_timeout(fd, buf, 1, 20 * MS);
    return r1 == -ETIMEDOUT && r2 == -ETIMEDOUT ? 0 : 1;
}

static void test_no_runtime(void)
{
    int sv[2];
    char buf[8];
    mk_pair(sv);
    CHECK_EQ(gort_write(sv[1], "abc", 3), 3);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_IN | GORT_OUT, -1), GORT_IN | GORT_OUT);
    CHECK_EQ(gort_read(sv[0], buf, sizeof buf), 3);
    CHECK(memcmp(buf, "abc", 3) == 0);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_IN, 5 * MS), -ETIMEDOUT);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_IN, 0), -ETIMEDOUT);
    CHECK_EQ(gort_write(sv[1], "z", 1), 1);
    CHECK_EQ(gort_read_timeout(sv[0], buf, 1, 0), 1);   /* timeout 0: one try, and data is there */
    CHECK_EQ(buf[0], 'z');
    /* The deadline holds for a plain caller on a blocking fd too. In a
       child process: if the call ignored its deadline it would block in
       read(2) forever (alarm turns that into a failure, not a hang). */
    {
        static struct child c;
        int fd = sv[0];
#if defined(_WIN32)
        (void)fd;
        run_child(read_timeout_child, NULL, 5, &c);
#else
        run_child(read_timeout_child, &fd, 5, &c);
#endif
        if (child_exit_code(&c) != 0) {
            fprintf(stderr, "gort_read_timeout with no runtime on a blocking fd: %s\n%s",
                    child_exit_code(&c) == CHILD_ALARM_CODE ? "blocked past its deadline"
                                                            : "did not return -ETIMEDOUT",
                    c.err);
            CHECK(!"gort_read_timeout: deadline ignored by a plain caller");
        }
    }
    close_pair(sv);
    CHECK_EQ(gort_read(sv[0], buf, 1), -EBADF);
}

/* ------------------------------------------------------------ ping-pong */

struct pp {
    int  fd;
    long n;
    long done;
    gort_wg *wg;
};

static void pp_echo(void *arg)
{
    struct pp *p = (struct pp *)arg;
    uint32_t v;
    long i;
    for (i = 0; i < p->n; i++) {
        if (gort_read(p->fd, &v, sizeof v) != (ssize_t)sizeof v)
            break;
        v++;
        if (gort_write(p->fd, &v, sizeof v) != (ssize_t)sizeof v)
            break;
    }
    p->done = i;
    gort_wg_done(p->wg);
}

static void test_pingpong(void)
{
    gort_wg wg = GORT_WG_INIT;
    struct pp p;
    int sv[2];
    long i, n = check_scale(20000), bad = 0;
    uint32_t v = 0, got;
    mk_pair(sv);
    p.fd = sv[1];
    p.n = n;
    p.done = -1;
    p.wg = &wg;
    gort_wg_add(&wg, 1);
    CHECK_EQ(gort_go(pp_echo, &p), 0);
    for (i = 0; i < n; i++) {
        if (gort_write(sv[0], &v, sizeof v) != (ssize_t)sizeof v) {
            bad++;
            break;
        }
        if (gort_read(sv[0], &got, sizeof got) != (ssize_t)sizeof got || got != v + 1) {
            bad++;
            break;
        }
        v = got + 1;
    }
    gort_wg_wait(&wg);
    CHECK_EQ(bad, 0);
    CHECK_EQ(p.done, n);
    CHECK_EQ(v, 2 * n);
    close_pair(sv);
}

/* ------------------------------------------------------------ many parked readers */

struct reader1 {
    int      fd;
    ssize_t  r;
    int      c;
    gort_wg *wg;
    int     *started;
};

static void read_one(void *arg)
{
    struct reader1 *r = (struct reader1 *)arg;
    unsigned char c = 0;
    ADD(r->started, 1);
    r->r = gort_read(r->fd, &c, 1);
    r->c = c;
    gort_wg_done(r->wg);
}

struct wr_range {
    int (*pairs)[2];
    long lo, hi;
    long bad;
    gort_wg *wg;
};

static void write_range(void *arg)
{
    struct wr_range *w = (struct wr_range *)arg;
    long i;
    for (i = w->lo; i < w->hi; i++) {
        unsigned char c = (unsigned char)(i * 7 + 1);
        if (gort_write(w->pairs[i][1], &c, 1) != 1)
            w->bad++;
        if (i % 64 == 0)
            gort_yield();
    }
    gort_wg_done(w->wg);
}

static long fd_budget(long want_pairs)
{
#if defined(_WIN32)
    return want_pairs;   /* (no descriptor limit to raise) */
#else
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want_pairs;
    if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < 2 * want_pairs + 64 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < 2 * want_pairs + 64) {
        long n = ((long)rl.rlim_cur - 64) / 2;
        check_note("RLIMIT_NOFILE %ld: %ld socketpairs instead of %ld", (long)rl.rlim_cur, n, want_pairs);
        return n < 1 ? 1 : n;
    }
    return want_pairs;
#endif
}

static void test_many_readers_own_fd(void)
{
    long n = fd_budget(check_scale(1000)), i, bad = 0;
    int (*pairs)[2] = (int (*)[2])calloc((size_t)n, sizeof *pairs);
    struct reader1 *rs = (struct reader1 *)calloc((size_t)n, sizeof *rs);
    struct wr_range w[2];
    gort_wg wg = GORT_WG_INIT, wwg = GORT_WG_INIT;
    int started = 0;
    CHECK(pairs && rs);
    if (!pairs || !rs)
        return;
    for (i = 0; i < n; i++) {
        if (i % 64 == 63)
            gort_yield();   /* a long loop of system calls: stay polite */
        mk_pair(pairs[i]);
        rs[i].fd = pairs[i][0];
        rs[i].r = -12345;
        rs[i].wg = &wg;
        rs[i].started = &started;
    }
    gort_wg_add(&wg, (int)n);
    for (i = 0; i < n; i++)
        CHECK_EQ(gort_go(read_one, &rs[i]), 0);
    wait_io_parked((int)n);   /* all of them parked at once */
    CHECK_EQ(LOAD(&started), n);
    gort_wg_add(&wwg, 2);
    for (i = 0; i < 2; i++) {
        w[i].pairs = pairs;
        w[i].lo = i == 0 ? 0 : n / 2;
        w[i].hi = i == 0 ? n / 2 : n;
        w[i].bad = 0;
        w[i].wg = &wwg;
        CHECK_EQ(gort_go(write_range, &w[i]), 0);
    }
    gort_wg_wait(&wwg);
    gort_wg_wait(&wg);
    CHECK_EQ(w[0].bad + w[1].bad, 0);
    for (i = 0; i < n; i++)
        if (rs[i].r != 1 || rs[i].c != (unsigned char)(i * 7 + 1))
            bad++;
    CHECK_EQ(bad, 0);
    for (i = 0; i < n; i++) {
        if (i % 64 == 63)
            gort_yield();
        close_pair(pairs[i]);
    }
    free(pairs);
    free(rs);
}

static void test_many_readers_one_fd(void)
{
    long n = check_scale(1000), i, bad = 0, sum = 0, want = 0;
    struct reader1 *rs = (struct reader1 *)calloc((size_t)n, sizeof *rs);
    unsigned char *bytes = (unsigned char *)malloc((size_t)n);
    gort_wg wg = GORT_WG_INIT;
    int sv[2], started = 0;
    CHECK(rs && bytes);
    if (!rs || !bytes)
        return;
    mk_pair(sv);
    for (i = 0; i < n; i++) {
        rs[i].fd = sv[0];
        rs[i].r = -12345;
        rs[i].wg = &wg;
        rs[i].started = &started;
        bytes[i] = (unsigned char)(i % 251 + 1);
        want += bytes[i];
    }
    gort_wg_add(&wg, (int)n);
    for (i = 0; i < n; i++)
        CHECK_EQ(gort_go(read_one, &rs[i]), 0);
    wait_io_parked((int)n);
    /* in chunks: each edge wakes every parked reader; those that find
       nothing park again */
    for (i = 0; i < n; i += 100) {
        long len = n - i < 100 ? n - i : 100;
        CHECK_EQ(gort_write_all(sv[1], bytes + i, (size_t)len), len);
        gort_yield();
    }
    gort_wg_wait(&wg);
    for (i = 0; i < n; i++) {
        if (rs[i].r != 1)
            bad++;
        sum += rs[i].c;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(sum, want);
    CHECK_EQ(gort_read_timeout(sv[0], bytes, 1, 0), -ETIMEDOUT);   /* nothing left over */
    close_pair(sv);
    free(rs);
    free(bytes);
}

/* ------------------------------------------------------------ full duplex */

struct xfer {
    int      fd;
    unsigned seed;
    size_t   total;
    int      use_all;
    long     shorts;    /* out: writer's short writes */
    long     bad;       /* out: errors and mismatches */
    size_t   moved;     /* out */
    ssize_t  eof;       /* out: reader's final read (0: EOF) */
    gort_wg *wg;
};

#define XCHUNK (256 * 1024)

static void xfer_writer(void *arg)
{
    struct xfer *x = (struct xfer *)arg;
    unsigned char *buf = (unsigned char *)malloc(XCHUNK);
    size_t off = 0, j;
    if (!buf) {
        x->bad++;
        gort_wg_done(x->wg);
        return;
    }
    while (off < x->total) {
        size_t len = x->total - off < XCHUNK ? x->total - off : XCHUNK;
        for (j = 0; j < len; j++)
            buf[j] = pat(x->seed, off + j);
        if (x->use_all) {
            ssize_t r = gort_write_all(x->fd, buf, len);
            if (r != (ssize_t)len) {
                x->bad++;
                break;
            }
        } else {
            j = 0;
            while (j < len) {
                ssize_t r = gort_write(x->fd, buf + j, len - j);
                if (r <= 0) {
                    x->bad++;
                    goto out;
                }
                if ((size_t)r < len - j)
                    x->shorts++;
                j += (size_t)r;
            }
        }
        off += len;
    }
out:
    x->moved = off;
    if (shutdown(x->fd, SHUT_WR) != 0)
        x->bad++;
    free(buf);
    gort_wg_done(x->wg);
}

static void xfer_reader(void *arg)
{
    struct xfer *x = (struct xfer *)arg;
    unsigned char *buf = (unsigned char *)malloc(65536);
    size_t pos = 0;
    ssize_t r, k;
    if (!buf) {
        x->bad++;
        gort_wg_done(x->wg);
        return;
    }
    while (pos < x->total) {
        size_t want = x->total - pos < 65536 ? x->total - pos : 65536;
        r = gort_read(x->fd, buf, want);
        if (r <= 0) {
            x->bad++;
            break;
        }
        for (k = 0; k < r; k++)
            if (buf[k] != pat(x->seed, pos + (size_t)k))
                x->bad++;
        pos += (size_t)r;
    }
    x->moved = pos;
    x->eof = gort_read(x->fd, buf, 1);
    free(buf);
    gort_wg_done(x->wg);
}

static void test_duplex(int use_all)
{
    long total = check_scale(4L << 20);
    struct xfer x[4];
    gort_wg wg = GORT_WG_INIT;
    int sv[2], i;
    if (total < 256 * 1024)
        total = 256 * 1024;
    mk_pair(sv);
    small_sndbuf(sv[0]);
    small_sndbuf(sv[1]);
    memset(x, 0, sizeof x);
    /* x[0] writes sv[0] -> x[1] reads sv[1]; x[2] writes sv[1] -> x[3] reads sv[0] */
    for (i = 0; i < 4; i++) {
        x[i].fd = (i == 0 || i == 3) ? sv[0] : sv[1];
        x[i].seed = i < 2 ? 11u + (unsigned)use_all : 29u + (unsigned)use_all;
        x[i].total = (size_t)total;
        x[i].use_all = use_all;
        x[i].eof = -12345;
        x[i].wg = &wg;
    }
    gort_wg_add(&wg, 4);
    CHECK_EQ(gort_go(xfer_reader, &x[1]), 0);
    CHECK_EQ(gort_go(xfer_reader, &x[3]), 0);
    CHECK_EQ(gort_go(xfer_writer, &x[0]), 0);
    CHECK_EQ(gort_go(xfer_writer, &x[2]), 0);
    gort_wg_wait(&wg);
    for (i = 0; i < 4; i++) {
        CHECK_EQ(x[i].bad, 0);
        CHECK_EQ(x[i].moved, total);
    }
    CHECK_EQ(x[1].eof, 0);
    CHECK_EQ(x[3].eof, 0);
    if (!use_all)
        CHECK(x[0].shorts + x[2].shorts > 0);   /* the test did see short writes */
    close_pair(sv);
}

/* ------------------------------------------------------------ return codes */

struct op1 {
    int      fd;
    int      kind;   /* 0 read, 1 write, 2 select WAIT_IN, 3 wait_fd IN, 4 select WAIT_OUT */
    ssize_t  r;
    int      ok;
    char     c;      /* kind 0: the byte read */
    gort_wg *wg;
};

/* poll(2) says fd is ready for events now */
static int ready_now(int fd, short events)
{
    struct pollfd pfd;
    pfd.fd = fd;
    pfd.events = events;
    pfd.revents = 0;
    return poll(&pfd, 1, 0) > 0;
}

/* A select fd case, retried while its readiness was spurious: with an
   edge-triggered poller an edge taken from epoll while the fd was ready
   can reach a waiter that parked after the fd stopped being ready (gort_read
   and gort_wait_fd retry such wake-ups inside). */
static int select_fd(int fd, int op, int *ok)
{
    gort_case cs;
    int r;
    do {
        memset(&cs, 0, sizeof cs);
        cs.op = op;
        cs.fd = fd;
        cs.ok = -1;
        r = gort_select(&cs, 1, -1);
    } while (r == 0 && cs.ok == 1 && !ready_now(fd, op == GORT_WAIT_IN ? POLLIN : POLLOUT));
    *ok = cs.ok;
    return r;
}

static void op1_fn(void *arg)
{
    struct op1 *o = (struct op1 *)arg;
    static const char zero[4096];
    switch (o->kind) {
    case 0: o->r = gort_read(o->fd, &o->c, 1); break;
    case 1:
#if defined(_WIN32)
        /* loopback TCP can make room in a "full" buffer later (fill):
           write on until a write parks and fails, as the cases expect */
        while ((o->r = gort_write(o->fd, zero, sizeof zero)) > 0) {}
#else
        o->r = gort_write(o->fd, zero, sizeof zero);
#endif
        break;
    case 2: o->r = select_fd(o->fd, GORT_WAIT_IN, &o->ok); break;
    case 3: o->r = gort_wait_fd(o->fd, GORT_IN, -1); break;
    case 4: o->r = select_fd(o->fd, GORT_WAIT_OUT, &o->ok); break;
    }
    gort_wg_done(o->wg);
}

static void start_op(struct op1 *o, gort_wg *wg, int fd, int kind)
{
    o->fd = fd;
    o->kind = kind;
    o->r = -12345;
    o->ok = -1;
    o->c = 0;
    o->wg = wg;
    gort_wg_add(wg, 1);
    CHECK_EQ(gort_go(op1_fn, o), 0);
}

static void test_codes(void)
{
    gort_wg wg = GORT_WG_INIT;
    struct op1 o;
    struct iovec iov[3];
    struct sockaddr_in sa;
    char buf[64];
    int sv[2], l, s;

    /* EOF: the data first, then 0 and 0 again */
    mk_pair(sv);
    CHECK_EQ(gort_write(sv[1], "xyz", 3), 3);
    CHECK_EQ(gort_close(sv[1]), 0);
    CHECK_EQ(gort_read(sv[0], buf, sizeof buf), 3);
    CHECK(memcmp(buf, "xyz", 3) == 0);
    CHECK_EQ(gort_read(sv[0], buf, sizeof buf), 0);
    CHECK_EQ(gort_read(sv[0], buf, sizeof buf), 0);
    CHECK_EQ(gort_close(sv[0]), 0);

    /* EOF for a parked reader */
    mk_pair(sv);
    start_op(&o, &wg, sv[0], 0);
    wait_io_parked(1);
    CHECK_EQ(gort_close(sv[1]), 0);
    gort_wg_wait(&wg);
    CHECK_EQ(o.r, 0);
    CHECK_EQ(gort_close(sv[0]), 0);

    /* -EBADF: fd -1, and an fd closed with gort_close (no fd is created
       between the close and the calls) */
    CHECK_EQ(gort_read(-1, buf, 1), -EBADF);
    CHECK_EQ(gort_write(-1, buf, 1), -EBADF);
    CHECK_EQ(gort_accept(-1, NULL, NULL), -EBADF);
    mk_pair(sv);
    CHECK_EQ(gort_write(sv[0], "q", 1), 1);   /* registered with the poller */
    CHECK_EQ(gort_close(sv[0]), 0);
    CHECK_EQ(gort_read(sv[0], buf, 1), -EBADF);
    CHECK_EQ(gort_write(sv[0], buf, 1), -EBADF);
    CHECK_EQ(gort_read_timeout(sv[0], buf, 1, 10 * MS), -EBADF);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_IN, 0), -EBADF);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_IN, 10 * MS), -EBADF);
    CHECK_EQ(gort_close(sv[0]), -EBADF);
    CHECK_EQ(gort_close(sv[1]), 0);

    /* -EPIPE, not SIGPIPE (SIGPIPE is left at its default: it would kill us) */
    mk_pair(sv);
    CHECK_EQ(gort_close(sv[1]), 0);
#if defined(_WIN32)
    /* TCP: the first write after the peer's close may still go out (the
       reset comes back in answer to it) */
    (void)gort_write(sv[0], "x", 1);
    gort_sleep(20 * MS);
#endif
    CHECK(peer_gone(gort_write(sv[0], "x", 1)));
    CHECK(peer_gone(gort_send(sv[0], "x", 1, 0)));
    CHECK(peer_gone(gort_write_all(sv[0], "xy", 2)));
    CHECK(peer_gone(gort_write_timeout(sv[0], "x", 1, 10 * MS)));
    iov[0].iov_base = (void *)"ab";
    iov[0].iov_len = 2;
    CHECK(peer_gone(gort_writev(sv[0], iov, 1)));
    CHECK_EQ(gort_close(sv[0]), 0);

    /* -EPIPE for a writer parked on a full buffer when the peer closes */
    mk_pair(sv);
    small_sndbuf(sv[0]);
    fill(sv[0]);
    start_op(&o, &wg, sv[0], 1);
    wait_io_parked(1);
    CHECK_EQ(gort_close(sv[1]), 0);
    gort_wg_wait(&wg);
    if (!peer_gone(o.r))
        check_note("a writer parked on a full buffer got %ld when the peer closed", (long)o.r);
    CHECK(peer_gone(o.r));
    CHECK_EQ(gort_close(sv[0]), 0);

    /* -ECONNREFUSED: a 127.0.0.1 port that was just closed */
    l = listen_local(&sa);
    CHECK_EQ(gort_close(l), 0);
    s = (int)socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(s >= 0);
    CHECK_EQ(gort_connect(s, (struct sockaddr *)&sa, sizeof sa), -ECONNREFUSED);
    CHECK_EQ(gort_close(s), 0);

    /* readv / writev / recv / send */
    mk_pair(sv);
    iov[0].iov_base = (void *)"he";
    iov[0].iov_len = 2;
    iov[1].iov_base = (void *)"llo";
    iov[1].iov_len = 3;
    iov[2].iov_base = (void *)"!";
    iov[2].iov_len = 1;
    CHECK_EQ(gort_writev(sv[1], iov, 3), 6);
    CHECK_EQ(gort_recv(sv[0], buf, 2, MSG_PEEK), 2);
    CHECK(memcmp(buf, "he", 2) == 0);
    memset(buf, 0, sizeof buf);
    iov[0].iov_base = buf;
    iov[0].iov_len = 1;
    iov[1].iov_base = buf + 10;
    iov[1].iov_len = 5;
    CHECK_EQ(gort_readv(sv[0], iov, 2), 6);
    CHECK(buf[0] == 'h' && memcmp(buf + 10, "ello!", 5) == 0);
    CHECK_EQ(gort_send(sv[0], "pong", 4, 0), 4);
    CHECK_EQ(gort_recv(sv[1], buf, sizeof buf, 0), 4);
    CHECK(memcmp(buf, "pong", 4) == 0);
    close_pair(sv);
}

/* ------------------------------------------------------------ accept / connect */

struct srv {
    int      l;
    long     n;
    long     bad;
    gort_wg *wg;   /* counts the echo goroutines too */
};

static void echo_conn(void *arg)
{
    struct srv *s = (struct srv *)((void **)arg)[0];
    int c = (int)(intptr_t)((void **)arg)[1];
    char *buf = (char *)malloc(4096);
    ssize_t r;
    free(arg);
    while (buf && (r = gort_read(c, buf, 4096)) > 0)
        if (gort_write_all(c, buf, (size_t)r) != r) {
            ADD(&s->bad, 1);
            break;
        }
    if (!buf)
        ADD(&s->bad, 1);
    free(buf);
    if (gort_close(c) != 0)
        ADD(&s->bad, 1);
    gort_wg_done(s->wg);
}

static void accept_loop(void *arg)
{
    struct srv *s = (struct srv *)arg;
    long i;
    for (i = 0; i < s->n; i++) {
        struct sockaddr_in peer;
        socklen_t pl = sizeof peer;
        void **a;
        int c = gort_accept(s->l, (struct sockaddr *)&peer, &pl);
        if (c < 0) {
            ADD(&s->bad, 1);
            break;
        }
        if (pl != sizeof peer || peer.sin_family != AF_INET || peer.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
            ADD(&s->bad, 1);
        a = (void **)malloc(2 * sizeof *a);
        if (!a) {
            ADD(&s->bad, 1);
            gort_close(c);
            continue;
        }
        a[0] = s;
        a[1] = (void *)(intptr_t)c;
        gort_wg_add(s->wg, 1);
        if (gort_go(echo_conn, a) != 0) {
            ADD(&s->bad, 1);
            gort_wg_done(s->wg);
            free(a);
            gort_close(c);
        }
    }
    gort_wg_done(s->wg);
}

struct cli {
    struct sockaddr_in sa;
    long     id;
    long     bad;
    gort_wg *wg;
};

static void client(void *arg)
{
    struct cli *c = (struct cli *)arg;
    size_t len = 5000 + (size_t)c->id * 97, got = 0, i;
    unsigned char *msg = (unsigned char *)malloc(len), *back = (unsigned char *)malloc(len + 1);
    int s = (int)socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ssize_t r;
    if (!msg || !back || s < 0) {
        c->bad++;
        goto out;
    }
    for (i = 0; i < len; i++)
        msg[i] = pat((unsigned)c->id, i);
    if ((r = gort_connect(s, (struct sockaddr *)&c->sa, sizeof c->sa)) != 0) {
        fprintf(stderr, "client %ld: gort_connect: %s\n", c->id, gort_strerror((int)r));
        c->bad++;
        goto out;
    }
    if (gort_write_all(s, msg, len) != (ssize_t)len || shutdown(s, SHUT_WR) != 0) {
        c->bad++;
        goto out;
    }
    while ((r = gort_read(s, back + got, len + 1 - got)) > 0) {
        got += (size_t)r;
        if (got == len + 1)
            break;
    }
    if (r < 0 || got != len || memcmp(msg, back, len) != 0)
        c->bad++;
out:
    if (s >= 0 && gort_close(s) != 0)
        c->bad++;
    free(msg);
    free(back);
    gort_wg_done(c->wg);
}

static void test_accept_connect(void)
{
    long n = check_scale(100), i, bad = 0;
    struct srv s;
    struct cli *cs = (struct cli *)calloc((size_t)n, sizeof *cs);
    struct sockaddr_in sa;
    gort_wg swg = GORT_WG_INIT, cwg = GORT_WG_INIT;
    CHECK(cs != NULL);
    if (!cs)
        return;
    s.l = listen_local(&sa);
    s.n = n;
    s.bad = 0;
    s.wg = &swg;
    gort_wg_add(&swg, 1);
    CHECK_EQ(gort_go(accept_loop, &s), 0);
    gort_wg_add(&cwg, (int)n);
    for (i = 0; i < n; i++) {
        cs[i].sa = sa;
        cs[i].id = i;
        cs[i].wg = &cwg;
        CHECK_EQ(gort_go(client, &cs[i]), 0);
    }
    gort_wg_wait(&cwg);
    gort_wg_wait(&swg);
    for (i = 0; i < n; i++)
        bad += cs[i].bad;
    CHECK_EQ(bad, 0);
    CHECK_EQ(LOAD(&s.bad), 0);
    CHECK_EQ(gort_close(s.l), 0);
    free(cs);
}

/* ------------------------------------------------------------ gort_close wakes */

static void test_close_wakes(void)
{
    gort_wg wg = GORT_WG_INIT;
    struct op1 o[5];
    int sv[2], i;
    mk_pair(sv);
    small_sndbuf(sv[0]);
    fill(sv[0]);   /* so that a writer parks */
    for (i = 0; i < 5; i++)
        start_op(&o[i], &wg, sv[0], i);
    wait_io_parked(5);
    CHECK_EQ(gort_close(sv[0]), 0);
    gort_wg_wait(&wg);
    CHECK_EQ(o[0].r, -EBADF);   /* gort_read */
    CHECK_EQ(o[1].r, -EBADF);   /* gort_write */
    CHECK_EQ(o[2].r, 0);        /* select WAIT_IN: case 0, closed */
    CHECK_EQ(o[2].ok, 0);
    CHECK_EQ(o[3].r, -EBADF);   /* gort_wait_fd */
    CHECK_EQ(o[4].r, 0);        /* select WAIT_OUT */
    CHECK_EQ(o[4].ok, 0);
    CHECK_EQ(gort_close(sv[1]), 0);
}

/* ------------------------------------------------------------ deadlines */

struct later {
    int      fd;
    int      what;   /* 0 write one byte, 1 drain n bytes, 2 connect, 3 send on chan */
    size_t   n;
    struct sockaddr_in sa;
    gort_chan *c;
    long     bad;
    gort_wg *wg;
};

static void later_fn(void *arg)
{
    struct later *l = (struct later *)arg;
    gort_sleep(5 * MS);
    switch (l->what) {
    case 0:
        if (gort_write(l->fd, "D", 1) != 1)
            l->bad++;
        break;
    case 1: {
        char buf[4096];
        size_t got = 0;
        while (got < l->n) {
            ssize_t r = gort_read(l->fd, buf, sizeof buf);
            if (r <= 0) {
                l->bad++;
                break;
            }
            got += (size_t)r;
        }
        break;
    }
    case 2: {
        int s = (int)socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 || gort_connect(s, (struct sockaddr *)&l->sa, sizeof l->sa) != 0)
            l->bad++;
        l->fd = s;   /* closed by the test */
        break;
    }
    case 3: {
        int v = 77;
        if (gort_chan_send(l->c, &v) != 0)
            l->bad++;
        break;
    }
    }
    gort_wg_done(l->wg);
}

static void start_later(struct later *l, gort_wg *wg, int what, int fd)
{
    l->what = what;
    l->fd = fd;
    l->bad = 0;
    l->wg = wg;
    gort_wg_add(wg, 1);
    CHECK_EQ(gort_go(later_fn, l), 0);
}

static void test_deadlines(void)
{
    gort_wg wg = GORT_WG_INIT;
    struct later lt;
    struct sockaddr_in sa;
    char buf[16];
    int sv[2], l, c;
    int64_t t0;
    size_t filled;

    memset(&lt, 0, sizeof lt);
    mk_pair(sv);
    small_sndbuf(sv[0]);

    /* read: nothing comes */
    t0 = gort_now();
    CHECK_EQ(gort_read_timeout(sv[0], buf, 1, 20 * MS), -ETIMEDOUT);
    CHECK(gort_now() - t0 >= 20 * MS);
    CHECK_EQ(gort_read_timeout(sv[0], buf, 1, 0), -ETIMEDOUT);
    /* read: data comes in time, or is there already */
    start_later(&lt, &wg, 0, sv[1]);
    buf[0] = 0;
    CHECK_EQ(gort_read_timeout(sv[0], buf, 1, 10000 * MS), 1);
    CHECK_EQ(buf[0], 'D');
    gort_wg_wait(&wg);
    CHECK_EQ(lt.bad, 0);
    CHECK_EQ(gort_write(sv[1], "E", 1), 1);
    CHECK_EQ(gort_read_timeout(sv[0], buf, 1, 0), 1);
    CHECK_EQ(buf[0], 'E');

    /* wait_fd */
    CHECK_EQ(gort_wait_fd(sv[0], 0, 0), -EINVAL);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_IN, 20 * MS), -ETIMEDOUT);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_IN, 0), -ETIMEDOUT);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_OUT, 0), GORT_OUT);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_IN | GORT_OUT, 20 * MS), GORT_OUT);
    CHECK_EQ(gort_write(sv[1], "F", 1), 1);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_IN, 0), GORT_IN);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_IN | GORT_OUT, -1), GORT_IN | GORT_OUT);
    CHECK_EQ(gort_read(sv[0], buf, sizeof buf), 1);
    start_later(&lt, &wg, 0, sv[1]);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_IN, 10000 * MS), GORT_IN);   /* parked, woken by data */
    gort_wg_wait(&wg);
    CHECK_EQ(gort_read(sv[0], buf, sizeof buf), 1);
    CHECK_EQ(lt.bad, 0);

    /* write: the buffer is full and nobody drains it */
    filled = fill(sv[0]);
    t0 = gort_now();
#if defined(_WIN32)
    {   /* room that loopback TCP made later is filled again (fill) */
        int k;
        ssize_t r = 0;
        for (k = 0; k < 5 && (r = gort_write_timeout(sv[0], "x", 1, 20 * MS)) == 1; k++) {
            filled += 1 + fill(sv[0]);
            t0 = gort_now();
        }
        CHECK_EQ(r, -ETIMEDOUT);
    }
#else
    CHECK_EQ(gort_write_timeout(sv[0], "x", 1, 20 * MS), -ETIMEDOUT);
#endif
    CHECK(gort_now() - t0 >= 20 * MS);
    t0 = gort_now();
    CHECK_EQ(gort_wait_fd(sv[0], GORT_OUT, 20 * MS), -ETIMEDOUT);
    CHECK(gort_now() - t0 >= 20 * MS);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_IN | GORT_OUT, 20 * MS), -ETIMEDOUT);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_IN | GORT_OUT, 0), -ETIMEDOUT);
    /* ... until someone drains it */
    lt.n = filled;
    start_later(&lt, &wg, 1, sv[1]);
    CHECK_EQ(gort_wait_fd(sv[0], GORT_OUT, -1), GORT_OUT);
    gort_wg_wait(&wg);
    CHECK_EQ(lt.bad, 0);
    CHECK_EQ(gort_write_timeout(sv[0], "x", 1, 20 * MS), 1);
    CHECK_EQ(gort_read(sv[1], buf, sizeof buf), 1);
    close_pair(sv);

    /* accept */
    l = listen_local(&sa);
    t0 = gort_now();
    CHECK_EQ(gort_accept_timeout(l, NULL, NULL, 20 * MS), -ETIMEDOUT);
    CHECK(gort_now() - t0 >= 20 * MS);
    CHECK_EQ(gort_accept_timeout(l, NULL, NULL, 0), -ETIMEDOUT);
    lt.sa = sa;
    start_later(&lt, &wg, 2, -1);
    c = gort_accept_timeout(l, NULL, NULL, 10000 * MS);
    CHECK(c >= 0);
    gort_wg_wait(&wg);
    CHECK_EQ(lt.bad, 0);
    if (c >= 0) {
        CHECK_EQ(gort_write(lt.fd, "A", 1), 1);
        CHECK_EQ(gort_read_timeout(c, buf, 1, 10000 * MS), 1);
        CHECK_EQ(buf[0], 'A');
        CHECK_EQ(gort_close(c), 0);
    }
    if (lt.fd >= 0)
        CHECK_EQ(gort_close(lt.fd), 0);
    CHECK_EQ(gort_close(l), 0);
}

/* ------------------------------------------------------------ select */

/* cases: 0 quit (recv), 1 fd (WAIT_IN), 2 and 3 fd -1 (never ready) */
static int sel3(gort_case cs[4], gort_chan *quit, int *qv, int fd, int64_t tmo)
{
    memset(cs, 0, 4 * sizeof *cs);
    cs[0].chan = quit;
    cs[0].op = GORT_RECV;
    cs[0].elem = qv;
    cs[1].op = GORT_WAIT_IN;
    cs[1].fd = fd;
    cs[2].op = GORT_WAIT_IN;
    cs[2].fd = -1;
    cs[3].op = GORT_WAIT_OUT;
    cs[3].fd = -1;
    cs[0].ok = cs[1].ok = cs[2].ok = cs[3].ok = -1;
    return gort_select(cs, 4, tmo);
}

static int other_parked_fd = -1;   /* atomic */

static void park_on_other(void *arg)
{
    char c;
    /* returns at EOF when the test closes the peer */
    CHECK_EQ(gort_read(LOAD(&other_parked_fd), &c, 1), 0);
    gort_wg_done((gort_wg *)arg);
}

static void test_select(void)
{
    gort_wg wg = GORT_WG_INIT;
    gort_case cs[4];
    struct later lt;
    gort_chan *quit = gort_chan_make(sizeof(int), 1);
    char buf[16];
    int sv[2], other[2], qv, i, r, n_fd = 0, n_chan = 0;
    int64_t t0;

    memset(&lt, 0, sizeof lt);
    mk_pair(sv);

    /* the timeout wins */
    t0 = gort_now();
    CHECK_EQ(sel3(cs, quit, &qv, sv[0], 20 * MS), -ETIMEDOUT);
    CHECK(gort_now() - t0 >= 20 * MS);
    CHECK_EQ(sel3(cs, quit, &qv, sv[0], 0), -EAGAIN);
    /* the socket wins */
    CHECK_EQ(gort_write(sv[1], "S", 1), 1);
    CHECK_EQ(sel3(cs, quit, &qv, sv[0], 20 * MS), 1);
    CHECK_EQ(cs[1].ok, 1);
    CHECK_EQ(gort_read(sv[0], buf, sizeof buf), 1);   /* select consumed nothing */
    /* the quit channel wins (a value, then closed) */
    qv = 5;
    CHECK_EQ(gort_chan_send(quit, &qv), 0);
    qv = 0;
    CHECK_EQ(sel3(cs, quit, &qv, sv[0], 20 * MS), 0);
    CHECK_EQ(cs[0].ok, 1);
    CHECK_EQ(qv, 5);
    /* each one while the select is parked */
    start_later(&lt, &wg, 0, sv[1]);
    CHECK_EQ(sel3(cs, quit, &qv, sv[0], -1), 1);
    CHECK_EQ(cs[1].ok, 1);
    gort_wg_wait(&wg);
    CHECK_EQ(gort_read(sv[0], buf, sizeof buf), 1);
    start_later(&lt, &wg, 0, sv[1]);
    CHECK_EQ(sel3(cs, quit, &qv, sv[0], 10000 * MS), 1);
    CHECK_EQ(cs[1].ok, 1);
    gort_wg_wait(&wg);
    CHECK_EQ(gort_read(sv[0], buf, sizeof buf), 1);
    lt.c = quit;
    start_later(&lt, &wg, 3, -1);
    qv = 0;
    CHECK_EQ(sel3(cs, quit, &qv, sv[0], -1), 0);
    CHECK_EQ(cs[0].ok, 1);
    CHECK_EQ(qv, 77);
    gort_wg_wait(&wg);
    CHECK_EQ(lt.bad, 0);
    CHECK_EQ(gort_chan_close(quit), 0);
    qv = 9;
    CHECK_EQ(sel3(cs, quit, &qv, sv[0], -1), 0);
    CHECK_EQ(cs[0].ok, 0);
    CHECK_EQ(qv, 0);

    /* both ready: each is chosen some of the time */
    CHECK_EQ(gort_write(sv[1], "R", 1), 1);
    for (i = 0; i < 200; i++) {
        r = sel3(cs, quit, &qv, sv[0], 0);
        if (r == 0)
            n_chan++;
        else if (r == 1)
            n_fd++;
    }
    CHECK_EQ(n_chan + n_fd, 200);
    CHECK(n_chan > 0);
    CHECK(n_fd > 0);
    CHECK_EQ(gort_read(sv[0], buf, sizeof buf), 1);

    /* only fd -1 cases: never ready */
    CHECK_EQ(sel3(cs, NULL, &qv, -1, 0), -EAGAIN);
    t0 = gort_now();
    CHECK_EQ(sel3(cs, NULL, &qv, -1, 20 * MS), -ETIMEDOUT);
    CHECK(gort_now() - t0 >= 20 * MS);

    /* WAIT_OUT: ready on a socket with room */
    memset(cs, 0, sizeof cs);
    cs[0].op = GORT_WAIT_OUT;
    cs[0].fd = sv[0];
    cs[1].op = GORT_WAIT_IN;
    cs[1].fd = sv[0];
    CHECK_EQ(gort_select(cs, 2, 20 * MS), 0);
    CHECK_EQ(cs[0].ok, 1);

    /* A remembered edge is not readiness. With a goroutine parked on
       another fd, idle threads poll epoll: the edge for sv[0] (two bytes
       arrived) reaches a descriptor nobody waits on and is remembered. Both
       bytes are then read without parking; sv[0] is not readable, so the
       select must time out (and the WAIT_OUT case likewise once the buffer
       is full). */
    mk_pair(other);
    STORE(&other_parked_fd, other[0]);
    gort_wg_add(&wg, 1);
    CHECK_EQ(gort_go(park_on_other, &wg), 0);
    wait_io_parked(1);
    CHECK_EQ(gort_write(sv[1], "ab", 2), 2);
    CHECK_EQ(gort_read(sv[0], buf, 1), 1);
    gort_sleep(20 * MS);   /* an idle thread's epoll_wait takes the edge */
    CHECK_EQ(gort_read(sv[0], buf, 1), 1);
    CHECK_EQ(sel3(cs, NULL, &qv, sv[0], 20 * MS), -ETIMEDOUT);
    small_sndbuf(sv[0]);
    fill(sv[0]);
    gort_sleep(20 * MS);
    memset(cs, 0, sizeof cs);
    cs[0].op = GORT_WAIT_OUT;
    cs[0].fd = sv[0];
    CHECK_EQ(gort_select(cs, 1, 20 * MS), -ETIMEDOUT);
    CHECK_EQ(gort_close(other[1]), 0);   /* park_on_other reads EOF and ends */
    gort_wg_wait(&wg);
    CHECK_EQ(gort_close(other[0]), 0);

    close_pair(sv);
    CHECK_EQ(gort_chan_free(quit), 0);
}

/* ------------------------------------------------------------ plain threads */

struct thr {
    int        fd;
    int        use_gort;
    ssize_t    r;
    char       c;
    size_t     n;
    gort_chan *ready;   /* the thread's first gort call (so it counts as live) */
    gort_chan *done;
};

static void *thread_writer(void *arg)
{
    struct thr *t = (struct thr *)arg;
    char c = t->use_gort ? 'G' : 'W';
    t->r = t->use_gort ? gort_write(t->fd, &c, 1) : raw_write(t->fd, &c, 1);
    return NULL;
}

static void *thread_reader(void *arg)
{
    struct thr *t = (struct thr *)arg;
    int one = 1;
    gort_chan_send(t->ready, &one);
    t->r = gort_read(t->fd, &t->c, 1);
    gort_chan_send(t->done, &one);
    return NULL;
}

static void *thread_write_all(void *arg)
{
    struct thr *t = (struct thr *)arg;
    char *buf = (char *)calloc(1, t->n);
    int one = 1;
    gort_chan_send(t->ready, &one);
    t->r = buf ? gort_write_all(t->fd, buf, t->n) : -ENOMEM;
    free(buf);
    gort_chan_send(t->done, &one);
    return NULL;
}

/* One edge is reported once. Each round a goroutine writes one byte
   while a select parks on WAIT_IN; the byte is read; then a second
   select parks on the same fd and a channel, which a goroutine sends on
   a little later: the channel must be chosen, the fd never (nothing is
   there to read). With maxprocs 2, a spinning M looks at the network
   while another sleeps in the poller; Windows' WSAPoll is
   level-triggered, so both saw the byte, and a second report of it woke
   the second select (1 run in 20 of this suite, before the poller
   counted arms). */
struct stale_round {
    int fd;
    gort_chan *c;
    gort_wg *wg;
    long bad;   /* atomic */
};

static void stale_writer(void *arg)
{
    struct stale_round *sr = (struct stale_round *)arg;
    if (gort_write(sr->fd, "x", 1) != 1)
        ADD(&sr->bad, 1);
    gort_wg_done(sr->wg);
}

static void stale_sender(void *arg)
{
    struct stale_round *sr = (struct stale_round *)arg;
    int v = 7;
    gort_sleep(200 * 1000);   /* 200 us: the select parks first */
    if (gort_chan_send(sr->c, &v) != 0)
        ADD(&sr->bad, 1);
    gort_wg_done(sr->wg);
}

static void test_select_edge_once(void)
{
    gort_wg wg = GORT_WG_INIT;
    struct stale_round sr;
    gort_case cs[4];
    int sv[2], qv, i, r, rounds = (int)check_scale(400), wrong = 0;
    char c;

    mk_pair(sv);
    memset(&sr, 0, sizeof sr);
    sr.fd = sv[1];
    sr.c = gort_chan_make(sizeof(int), 0);
    sr.wg = &wg;
    for (i = 0; i < rounds; i++) {
        gort_wg_add(&wg, 1);
        CHECK_EQ(gort_go(stale_writer, &sr), 0);
        CHECK_EQ(sel3(cs, sr.c, &qv, sv[0], HANG_NS), 1);
        CHECK_EQ(gort_read(sv[0], &c, 1), 1);
        gort_wg_wait(&wg);
        gort_wg_add(&wg, 1);
        CHECK_EQ(gort_go(stale_sender, &sr), 0);
        qv = 0;
        r = sel3(cs, sr.c, &qv, sv[0], HANG_NS);
        if (r != 0) {
            wrong++;   /* the fd chosen: take the channel's value too */
            CHECK_EQ(gort_chan_recv(sr.c, &qv), 1);
        }
        CHECK_EQ(qv, 7);
        gort_wg_wait(&wg);
    }
    CHECK_EQ(wrong, 0);
    CHECK_EQ(LOAD(&sr.bad), 0);
    gort_chan_free(sr.c);
    CHECK_EQ(gort_close(sv[0]), 0);
    CHECK_EQ(gort_close(sv[1]), 0);
}

/* Receives what a new plain thread sends. Not a plain gort_chan_recv: a
   thread counts as live for deadlock detection only once it has called
   into gort, so main blocked forever on a thread that has not started yet
   would be reported as a deadlock (API.md). A timed wait is never one. */
static int recv_from_thread(gort_chan *c, int *v)
{
    gort_case cs;
    int r;
    memset(&cs, 0, sizeof cs);
    cs.chan = c;
    cs.op = GORT_RECV;
    cs.elem = v;
    r = gort_select(&cs, 1, HANG_NS);
    return r == 0 ? cs.ok : r;
}

static void join(pthread_t t)
{
    gort_block_begin();   /* the thread may still be on its way out */
    CHECK_EQ(pthread_join(t, NULL), 0);
    gort_block_end();
}

static void test_threads(void)
{
    gort_wg wg = GORT_WG_INIT;
    struct op1 o;
    struct thr t;
    pthread_t th;
    int sv[2], k, v;
    char buf[4096];
    size_t filled, got;

    memset(&t, 0, sizeof t);
    t.ready = gort_chan_make(sizeof(int), 1);
    t.done = gort_chan_make(sizeof(int), 1);

    /* a plain thread wakes a goroutine parked in gort_read */
    for (k = 0; k < 2; k++) {
        mk_pair(sv);
        start_op(&o, &wg, sv[0], 0);
        wait_io_parked(1);
        t.fd = sv[1];
        t.use_gort = k;
        t.r = -12345;
        CHECK_EQ(pthread_create(&th, NULL, thread_writer, &t), 0);
        gort_wg_wait(&wg);
        join(th);
        CHECK_EQ(t.r, 1);
        CHECK_EQ(o.r, 1);
        CHECK_EQ(o.c, k ? 'G' : 'W');
        close_pair(sv);
    }

    /* a plain thread in gort_read: first on a fresh (blocking) fd, then on
       one that a goroutine has made non-blocking (it must block, not
       return -EAGAIN) */
    for (k = 0; k < 2; k++) {
        mk_pair(sv);
        if (k == 1) {
            CHECK_EQ(gort_read_timeout(sv[0], buf, 1, 0), -ETIMEDOUT);
            /* goroutines on sockets use MSG_DONTWAIT and set O_NONBLOCK
               only once they park: set it as a goroutine's wait would */
            set_nonblock(sv[0]);
        }
        t.fd = sv[0];
        t.r = -12345;
        t.c = 0;
        CHECK_EQ(pthread_create(&th, NULL, thread_reader, &t), 0);
        CHECK_EQ(recv_from_thread(t.ready, &v), 1);
        gort_sleep(5 * MS);   /* most likely it is blocked by now; not relied on */
        CHECK_EQ(gort_write(sv[1], "P", 1), 1);
        CHECK_EQ(recv_from_thread(t.done, &v), 1);
        join(th);
        CHECK_EQ(t.r, 1);
        CHECK_EQ(t.c, 'P');
        close_pair(sv);
    }

    /* a plain thread's gort_write_all on a full non-blocking socket waits
       for room instead of failing */
    mk_pair(sv);
    small_sndbuf(sv[0]);
    filled = fill(sv[0]);
    t.fd = sv[0];
    t.n = 100000;
    t.r = -12345;
    CHECK_EQ(pthread_create(&th, NULL, thread_write_all, &t), 0);
    CHECK_EQ(recv_from_thread(t.ready, &v), 1);
    got = 0;
    while (got < filled + t.n) {
        ssize_t r = gort_read(sv[1], buf, sizeof buf);
        if (r <= 0) {
            CHECK(!"drain");
            break;
        }
        got += (size_t)r;
    }
    CHECK_EQ(recv_from_thread(t.done, &v), 1);
    join(th);
    CHECK_EQ(t.r, 100000);
    CHECK_EQ(got, filled + 100000);
    close_pair(sv);

    CHECK_EQ(gort_chan_free(t.ready), 0);
    CHECK_EQ(gort_chan_free(t.done), 0);
}

/* ------------------------------------------------------------ regular file */

/* A regular file never blocks: the plain calls work, a select fd case on
   it is ready. Linux: its waits and timeouts return at once (ready both
   ways, a read at EOF 0). Windows: a file is a C runtime descriptor,
   which has no readiness there: the plain calls block inside
   gort_block_begin/end, the waits and timeouts say -ENOTSUP. */
static void test_regular_file(void)
{
    char buf[64];
    gort_case cs[2];
#if defined(_WIN32)
    FILE *f = util_tmpfile();
    int fd = f ? _dup(_fileno(f)) : -1;
#define file_seek _lseek
    const ssize_t timed_read = -ENOTSUP;
    const int wait_both = -ENOTSUP;
#else
    char path[] = "/tmp/gort_test_io_file_XXXXXX";
    int fd = mkstemp(path);
#define file_seek lseek
    const ssize_t timed_read = 0;   /* EOF */
    const int wait_both = GORT_IN | GORT_OUT;
    if (fd >= 0)
        unlink(path);
#endif
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK_EQ(gort_write(fd, "regular file", 12), 12);
    CHECK_EQ(file_seek(fd, 0, SEEK_SET), 0);
    CHECK_EQ(gort_read(fd, buf, 7), 7);
    CHECK(memcmp(buf, "regular", 7) == 0);
    CHECK_EQ(gort_read(fd, buf, sizeof buf), 5);
    CHECK_EQ(gort_read(fd, buf, sizeof buf), 0);   /* EOF, no hang */
    CHECK_EQ(gort_read_timeout(fd, buf, sizeof buf, 20 * MS), timed_read);
    CHECK_EQ(gort_wait_fd(fd, GORT_IN | GORT_OUT, -1), wait_both);
    memset(cs, 0, sizeof cs);
    cs[0].op = GORT_WAIT_IN;
    cs[0].fd = fd;
    cs[1].op = GORT_WAIT_IN;
    cs[1].fd = -1;
    CHECK_EQ(gort_select(cs, 2, -1), 0);
    CHECK_EQ(cs[0].ok, 1);
    CHECK_EQ(gort_write_all(fd, "more", 4), 4);
    CHECK_EQ(file_seek(fd, 12, SEEK_SET), 12);
    CHECK_EQ(gort_read(fd, buf, 4), 4);
    CHECK(memcmp(buf, "more", 4) == 0);
    CHECK_EQ(gort_close(fd), 0);
#if defined(_WIN32)
    fclose(f);
#endif
#undef file_seek
}

/* ------------------------------------------------------------ driver */

/* Each test says its name first: a hang's log (the last lines of it,
   where there is no dump: Wine delivers no SIGQUIT) names the test. */
#define STEP(call) (check_note("%s", #call), call)

static void suite(void *arg)
{
    (void)arg;
    CHECK_EQ(gort_in_goroutine(), 1);
    STEP(test_pingpong());
    STEP(test_many_readers_own_fd());
    STEP(test_many_readers_one_fd());
    STEP(test_duplex(0));
    STEP(test_duplex(1));
    STEP(test_codes());
    STEP(test_accept_connect());
    STEP(test_close_wakes());
    STEP(test_deadlines());
    STEP(test_select());
    STEP(test_select_edge_once());
    STEP(test_threads());
    STEP(test_regular_file());
}

int main(void)
{
    int procs;
#if defined(_WIN32)
    WSADATA wd;   /* the tests' own sockets, before any runtime */
    CHECK_EQ(WSAStartup(MAKEWORD(2, 2), &wd), 0);
#endif
    test_no_runtime();
    for (procs = 1; procs <= 2; procs++) {
        gort_opts o;
        memset(&o, 0, sizeof o);
        o.maxprocs = procs;
        CHECK_EQ(gort_run_opts(&o, suite, NULL), 0);
        check_note("maxprocs %d done (%d failures so far)", procs, check_failures());
    }
    return check_done();
}
