/* test_fdreuse.c - gort I/O on fd numbers that ordinary C code closed with
   close(2) and got back for another file (>>io, >>netpoll).

   gort owns no fd. These programs close with plain close(), reuse the
   numbers through socketpair/pipe/accept/dup2, and clear O_NONBLOCK behind
   gort's back; every gort call must still park only its goroutine and wake
   when the data comes. Each scenario runs at maxprocs 1, where a call that
   blocked its thread in the kernel would stop the only P (the writer that
   would wake it could never run) and at maxprocs 2. A watchdog (alarm)
   turns a hang into a failure with a dump.
     - reuse_socketpairs: 64 socketpairs carry a ping through parked
       readers, are closed with close(), then 100 new (blocking) socketpairs
       get the same numbers and carry a ping the same way;
     - reuse_pipes: the same with pipe(2);
     - nonblock_cleared: a registered socket and pipe get O_NONBLOCK
       cleared by "someone else" (fcntl); the next gort_read parks (the
       flag is back on while it waits) and gets the data;
     - reuse_listener: a listener parked in gort_accept, closed with
       close(), a new blocking listener on the same number: gort_accept
       parks and a client goroutine on the same P connects;
     - dup2_over: dup2(2) puts another socket on a registered number;
     - wait_fd_reused: gort_wait_fd and a select WAIT_IN case with a
       timeout on a reused number wake when data comes, not at the
       timeout;
     - blocking_read_handoff: a gort_read that spends long in the kernel
       (64 MiB of /dev/urandom) loses its P to sysmon: another goroutine
       runs meanwhile, also at maxprocs 1.
   On Windows the sockets are loopback TCP pairs closed with closesocket
   behind gort's back, the pipes the C runtime's (no readiness: a read
   blocks its thread inside gort_block_begin/end and sysmon hands the P
   on), the non-blocking flag is cleared with ioctlsocket (Windows cannot
   say whether it is set, so only the behaviour is checked), a number
   cannot be forced (no dup2 for sockets: dup2_over is Linux's, and the
   other cases check reuse where the system gave the number back), and
   the long read is a pipe read that a plain thread answers after 300 ms.
   Windows' own case, socket_to_crt: a registered socket's number, closed
   with closesocket, becomes a pipe's C runtime descriptor (_dup2), and
   gort_read reads the pipe. */
#define _GNU_SOURCE
// gort-test: windows
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <fcntl.h>
#include <signal.h>
#if defined(_WIN32)
#include <io.h>
#include <pthread.h>
#else
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#endif

#if defined(_WIN32)
/* close(2) behind gort's back: closesocket, or the C runtime's _close */
static int plain_close(int fd)
{
    if (gort__os_is_socket(fd))
        return closesocket((SOCKET)(unsigned)fd) == 0 ? 0 : -1;
    return _close(fd);
}
#define close plain_close
#endif

#define MAXPAIRS 128

typedef struct {
    int rfd, wfd;
    int got;            /* atomic: byte received, -1 none */
    int started;        /* atomic: the reader is about to call */
    gort_wg *wg;
} pair_t;

static void reader(void *arg) {
    pair_t *p = (pair_t *)arg;
    char c = 0;
    ssize_t r;
    __atomic_store_n(&p->started, 1, __ATOMIC_SEQ_CST);
    r = gort_read(p->rfd, &c, 1);
    CHECK_EQ(r, 1);
    __atomic_store_n(&p->got, r == 1 ? (unsigned char)c : -1, __ATOMIC_SEQ_CST);
    gort_wg_done(p->wg);
}

static void writer(void *arg) {
    pair_t *p = (pair_t *)arg;
    char c = (char)('a' + (p->rfd % 26));
    /* let the reader park first, so that its fd is registered */
    while (!__atomic_load_n(&p->started, __ATOMIC_SEQ_CST)) gort_yield();
    gort_sleep(1000000);
    CHECK_EQ(gort_write(p->wfd, &c, 1), 1);
    gort_wg_done(p->wg);
}

/* Readers park, writers write a little later; every reader gets its byte. */
static void ping_all(pair_t *ps, int n) {
    gort_wg wg = GORT_WG_INIT;
    int i;
    for (i = 0; i < n; i++) {
        ps[i].got = -1;
        ps[i].started = 0;
        ps[i].wg = &wg;
        gort_wg_add(&wg, 2);
        CHECK_EQ(gort_go(reader, &ps[i]), 0);
        CHECK_EQ(gort_go(writer, &ps[i]), 0);
    }
    gort_wg_wait(&wg);
    for (i = 0; i < n; i++) CHECK_EQ(ps[i].got, 'a' + (ps[i].rfd % 26));
}

static int make_pairs(pair_t *ps, int n, int pipes) {
    int i, fds[2];
    for (i = 0; i < n; i++) {
#if defined(_WIN32)
        int r = pipes ? _pipe(fds, 4096, _O_BINARY) : tcp_pair(fds);
#else
        int r = pipes ? pipe(fds) : socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
#endif
        CHECK_EQ(r, 0);
        if (r) return i;
        ps[i].rfd = fds[0];
        ps[i].wfd = fds[1];
    }
    return n;
}

static void close_pairs(pair_t *ps, int n) {
    int i;
    for (i = 0; i < n; i++) {
        CHECK_EQ(close(ps[i].rfd), 0);
        CHECK_EQ(close(ps[i].wfd), 0);
    }
}

static void test_reuse(int pipes) {
    static pair_t a[MAXPAIRS], b[MAXPAIRS];
    int na = make_pairs(a, 64, pipes), nb, i, reused = 0;
    ping_all(a, na);
    close_pairs(a, na);
    nb = make_pairs(b, 100, pipes);
    for (i = 0; i < nb; i++) {
        int j;
        for (j = 0; j < na; j++) if (b[i].rfd == a[j].rfd || b[i].rfd == a[j].wfd) reused++;
#if !defined(_WIN32)
        /* fresh descriptors are blocking: gort must not trust its old belief */
        CHECK((fcntl(b[i].rfd, F_GETFL) & O_NONBLOCK) == 0);
#endif
    }
    CHECK(reused > 0);   /* the kernel hands out the lowest free numbers (Windows: freed handle values) */
    ping_all(b, nb);
    close_pairs(b, nb);
}

static void test_reuse_socketpairs(void *arg) { (void)arg; test_reuse(0); }
static void test_reuse_pipes(void *arg) { (void)arg; test_reuse(1); }

/* Someone else clears O_NONBLOCK on a registered fd. */
static void nonblock_case(int pipes) {
    pair_t p;
    gort_wg wg = GORT_WG_INIT;
    int fl;
    make_pairs(&p, 1, pipes);
    ping_all(&p, 1);   /* registered and non-blocking now */
    p.wg = &wg;
#if defined(_WIN32)
    (void)fl;
    if (!pipes) {
        u_long zero = 0;   /* blocking again, behind gort's back */
        CHECK_EQ(ioctlsocket((SOCKET)(unsigned)p.rfd, FIONBIO, &zero), 0);
    }
#else
    CHECK((fcntl(p.rfd, F_GETFL) & O_NONBLOCK) != 0);   /* set when it first parked */
    fl = fcntl(p.rfd, F_GETFL);
    CHECK_EQ(fcntl(p.rfd, F_SETFL, fl & ~O_NONBLOCK), 0);
#endif
    p.got = -1;
    p.started = 0;
    gort_wg_add(&wg, 1);
    CHECK_EQ(gort_go(reader, &p), 0);
    while (!__atomic_load_n(&p.started, __ATOMIC_SEQ_CST)) gort_yield();
    gort_sleep(20000000);
    /* The reader is parked: it would have blocked its thread (and at 1 P,
       us) in read(2) had it trusted the old flag. */
    CHECK_EQ(__atomic_load_n(&p.got, __ATOMIC_SEQ_CST), -1);
#if !defined(_WIN32)
    /* a pipe's reader put the flag back; a socket's needs none (MSG_DONTWAIT) */
    if (pipes) CHECK((fcntl(p.rfd, F_GETFL) & O_NONBLOCK) != 0);
#endif
    CHECK_EQ(gort_write(p.wfd, "z", 1), 1);
    gort_wg_wait(&wg);
    CHECK_EQ(p.got, 'z');
    close_pairs(&p, 1);
}
static void test_nonblock_cleared(void *arg) { (void)arg; nonblock_case(0); nonblock_case(1); }

static int listener(struct sockaddr_in *sa) {
    socklen_t l = sizeof *sa;
    int fd = (int)socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(fd, (struct sockaddr *)sa, sizeof *sa), 0);
    CHECK_EQ(listen(fd, 16), 0);
    CHECK_EQ(getsockname(fd, (struct sockaddr *)sa, &l), 0);
    return fd;
}

static struct sockaddr_in lsa;
static int acc_result;
static void acceptor(void *arg) {
    int lfd = *(int *)arg;
    int r = gort_accept(lfd, NULL, NULL);
    CHECK(r >= 0);
    __atomic_store_n(&acc_result, r, __ATOMIC_SEQ_CST);
}
static void connector(void *arg) {
    int fd = (int)socket(AF_INET, SOCK_STREAM, 0);
    (void)arg;
    gort_sleep(5000000);
    CHECK_EQ(gort_connect(fd, (struct sockaddr *)&lsa, sizeof lsa), 0);
    CHECK_EQ(gort_write(fd, "k", 1), 1);
    close(fd);
}

static void accept_once(int lfd) {
    gort_chan *done = gort_chan_make(0, 1);
    char c = 0;
    __atomic_store_n(&acc_result, -1, __ATOMIC_SEQ_CST);
    CHECK_EQ(gort_go(acceptor, &lfd), 0);
    CHECK_EQ(gort_go(connector, NULL), 0);
    /* wait for the accept, with yields: at 1 P everyone shares our thread */
    while (__atomic_load_n(&acc_result, __ATOMIC_SEQ_CST) < 0) gort_sleep(1000000);
    CHECK_EQ(gort_read(__atomic_load_n(&acc_result, __ATOMIC_SEQ_CST), &c, 1), 1);
    CHECK_EQ(c, 'k');
    close(__atomic_load_n(&acc_result, __ATOMIC_SEQ_CST));
    gort_chan_free(done);
}

static void test_reuse_listener(void *arg) {
    int lfd, lfd2;
    (void)arg;
    lfd = listener(&lsa);
    accept_once(lfd);
    CHECK_EQ(close(lfd), 0);
    lfd2 = listener(&lsa);
#if defined(_WIN32)
    if (lfd2 != lfd)
        check_note("reuse_listener: the new listener got another number (%d, was %d)", lfd2, lfd);
#else
    if (lfd2 != lfd) {   /* a lower number was free: put it on the old one */
        CHECK_EQ(dup2(lfd2, lfd), lfd);
        CHECK_EQ(close(lfd2), 0);
        lfd2 = lfd;
    }
    CHECK((fcntl(lfd2, F_GETFL) & O_NONBLOCK) == 0);
#endif
    accept_once(lfd2);
    CHECK_EQ(close(lfd2), 0);
}

#if !defined(_WIN32)
static void test_dup2_over(void *arg) {
    pair_t p, q;
    gort_wg wg = GORT_WG_INIT;
    (void)arg;
    (void)wg;
    make_pairs(&p, 1, 0);
    ping_all(&p, 1);
    make_pairs(&q, 1, 0);
    /* q's reading end takes p.rfd's number; the old file is closed */
    CHECK_EQ(dup2(q.rfd, p.rfd), p.rfd);
    CHECK_EQ(close(q.rfd), 0);
    q.rfd = p.rfd;
    ping_all(&q, 1);
    CHECK_EQ(close(p.wfd), 0);
    close_pairs(&q, 1);
}
#endif

#if defined(_WIN32)
/* A socket gort knows (registered by a read), closed behind its back;
   its number then becomes a C runtime descriptor (_dup2 of a pipe's
   reading end): gort_read of the number reads the pipe. (gort trusts
   its registration to say "socket" without asking Winsock: the recv's
   ENOTSOCK must send it back to asking.) */
static void test_socket_to_crt(void *arg) {
    pair_t s, p;
    char c = 0;
    (void)arg;
    if (make_pairs(&s, 1, 0) != 1 || make_pairs(&p, 1, 1) != 1)
        return;
    CHECK_EQ(gort_write(s.wfd, "s", 1), 1);
    CHECK_EQ(gort_read(s.rfd, &c, 1), 1);   /* registered */
    CHECK_EQ(c, 's');
    CHECK_EQ(closesocket((SOCKET)(unsigned)s.rfd), 0);
    if (_dup2(p.rfd, s.rfd) != 0) {   /* a number past the C runtime's table */
        check_note("socket_to_crt: socket number %d cannot be a C runtime descriptor", s.rfd);
    } else {
        CHECK_EQ(gort_write(p.wfd, "p", 1), 1);
        c = 0;
        CHECK_EQ(gort_read(s.rfd, &c, 1), 1);
        CHECK_EQ(c, 'p');
        CHECK_EQ(_close(s.rfd), 0);
    }
    CHECK_EQ(gort_close(s.wfd), 0);
    CHECK_EQ(_close(p.rfd), 0);
    CHECK_EQ(_close(p.wfd), 0);
}
#endif

static int wfd_late;
static gort_chan *late_done;
static void late_writer(void *arg) {
    (void)arg;
    gort_sleep(10000000);
    CHECK_EQ(gort_write(wfd_late, "w", 1), 1);
    CHECK_EQ(gort_chan_send(late_done, NULL), 0);   /* before the close */
}

static void test_wait_fd_reused(void *arg) {
    pair_t p, q;
    gort_case cs[1];
    int64_t t0;
    char c;
    (void)arg;
    late_done = gort_chan_make(0, 1);
    make_pairs(&p, 1, 0);
    CHECK_EQ(gort_write(p.wfd, "x", 1), 1);
    CHECK_EQ(gort_wait_fd(p.rfd, GORT_IN, 1000000000), GORT_IN);   /* registers */
    close_pairs(&p, 1);
    make_pairs(&q, 1, 0);
#if !defined(_WIN32)
    if (q.rfd != p.rfd) { CHECK_EQ(dup2(q.rfd, p.rfd), p.rfd); close(q.rfd); q.rfd = p.rfd; }
#endif
    wfd_late = q.wfd;
    t0 = gort_now();
    CHECK_EQ(gort_go(late_writer, NULL), 0);
    CHECK_EQ(gort_wait_fd(q.rfd, GORT_IN, 5000000000LL), GORT_IN);
    CHECK(gort_now() - t0 < 4000000000LL);
    CHECK_EQ(gort_read(q.rfd, &c, 1), 1);
    CHECK_EQ(gort_chan_recv(late_done, NULL), 1);
    close_pairs(&q, 1);

    make_pairs(&p, 1, 0);
#if !defined(_WIN32)
    if (p.rfd != q.rfd) { CHECK_EQ(dup2(p.rfd, q.rfd), q.rfd); close(p.rfd); p.rfd = q.rfd; }
#endif
    wfd_late = p.wfd;
    memset(cs, 0, sizeof cs);
    cs[0].op = GORT_WAIT_IN;
    cs[0].fd = p.rfd;
    t0 = gort_now();
    CHECK_EQ(gort_go(late_writer, NULL), 0);
    CHECK_EQ(gort_select(cs, 1, 5000000000LL), 0);
    CHECK_EQ(cs[0].ok, 1);
    CHECK(gort_now() - t0 < 4000000000LL);
    CHECK_EQ(gort_chan_recv(late_done, NULL), 1);
    close_pairs(&p, 1);
    gort_chan_free(late_done);
}

/* A gort I/O call whose system call takes long in the kernel (a 64 MiB
   read of /dev/urandom: not pollable, never EAGAIN) holds up only its own
   goroutine: sysmon takes the P from the syscall state and the others run
   meanwhile (at maxprocs 1 they would all wait otherwise). */
static int big_inside;   /* atomic: the reader is in its call */
static long big_progress;
#if defined(_WIN32)
static int big_pipe[2];
static void *big_answer(void *arg) {   /* a plain thread, 300 ms later */
    (void)arg;
    plain_sleep_ms(300);
    CHECK_EQ(_write(big_pipe[1], "b", 1), 1);
    return NULL;
}
static void big_reader(void *arg) {
    char b = 0;
    gort_wg *wg = (gort_wg *)arg;
    pthread_t t;
    CHECK_EQ(_pipe(big_pipe, 4096, _O_BINARY), 0);
    CHECK_EQ(pthread_create(&t, NULL, big_answer, NULL), 0);
    __atomic_store_n(&big_inside, 1, __ATOMIC_SEQ_CST);
    CHECK_EQ(gort_read(big_pipe[0], &b, 1), 1);
    __atomic_store_n(&big_inside, 2, __ATOMIC_SEQ_CST);
    pthread_join(t, NULL);
    _close(big_pipe[0]);
    _close(big_pipe[1]);
    gort_wg_done(wg);
}
#else
static void big_reader(void *arg) {
    size_t n = (size_t)64 << 20;
    char *buf = (char *)malloc(n);
    int fd = open("/dev/urandom", O_RDONLY);
    gort_wg *wg = (gort_wg *)arg;
    CHECK(buf != NULL && fd >= 0);
    __atomic_store_n(&big_inside, 1, __ATOMIC_SEQ_CST);
    CHECK(gort_read(fd, buf, n) > 0);
    __atomic_store_n(&big_inside, 2, __ATOMIC_SEQ_CST);
    close(fd);
    free(buf);
    gort_wg_done(wg);
}
#endif
static void big_other(void *arg) {
    gort_wg *wg = (gort_wg *)arg;
    while (__atomic_load_n(&big_inside, __ATOMIC_SEQ_CST) != 2) {
        if (__atomic_load_n(&big_inside, __ATOMIC_SEQ_CST) == 1) big_progress++;
        gort_yield();
    }
    gort_wg_done(wg);
}
static void test_blocking_read_handoff(void *arg) {
    gort_wg wg = GORT_WG_INIT;
    (void)arg;
    big_inside = 0;
    big_progress = 0;
    gort_wg_add(&wg, 2);
    CHECK_EQ(gort_go(big_other, &wg), 0);
    CHECK_EQ(gort_go(big_reader, &wg), 0);
    gort_wg_wait(&wg);
    check_note("a goroutine ran %ld times while another was in a long read", big_progress);
    CHECK(big_progress >= 10);
}

typedef struct { const char *name; void (*fn)(void *); } scenario;
static const scenario scenarios[] = {
    { "reuse_socketpairs", test_reuse_socketpairs },
    { "reuse_pipes", test_reuse_pipes },
    { "nonblock_cleared", test_nonblock_cleared },
    { "reuse_listener", test_reuse_listener },
#if defined(_WIN32)
    { "socket_to_crt", test_socket_to_crt },
#else
    { "dup2_over", test_dup2_over },
#endif
    { "wait_fd_reused", test_wait_fd_reused },
    { "blocking_read_handoff", test_blocking_read_handoff },
};

int main(void) {
    int procs, i;
#if defined(_WIN32)
    watchdog(600);   /* (no alarm: one for the whole program) */
#define alarm(s) ((void)0)
#else
    signal(SIGPIPE, SIG_IGN);
#endif
    for (procs = 1; procs <= 2; procs++) {
        for (i = 0; i < (int)(sizeof scenarios / sizeof scenarios[0]); i++) {
            gort_opts o;
            int rc;
            memset(&o, 0, sizeof o);
            o.maxprocs = procs;
            /* a hang gets SIGQUIT's dump from the runner's timeout; this
               alarm makes it a quick failure instead */
            alarm(120);
            rc = gort_run_opts(&o, scenarios[i].fn, NULL);
            alarm(0);
            CHECK_EQ(rc, 0);
            check_note("%s at maxprocs %d: done", scenarios[i].name, procs);
        }
    }
    return check_done();
}
