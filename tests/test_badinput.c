/* test_badinput.c - every public function with bad input (issue 15).

   A table of calls with NULL and out-of-range arguments, made with no
   runtime, from a goroutine and from a plain thread: each gives its
   documented error code (exact values) or, where the call cannot return
   one, a one-sentence misuse message; nothing is corrupted (the runtime
   works after each, and the sanitizer configurations check the memory).
   Covers gort.h's >>api section function by function:

   - runtime: gort_run(NULL), negative maxprocs, stack sizes over 1 GiB
     and SIZE_MAX (-EINVAL), INT_MAX maxprocs and INT64_MIN/MAX hog_ns
     (clamped, run), gort_run / gort_start inside a goroutine (-EBUSY),
     gort_start twice (-EBUSY), gort_stop with no runtime (-ESRCH), from a
     goroutine (-EBUSY), of a gort_run runtime (-EINVAL); gort_running;
   - goroutines: gort_go(NULL) -EINVAL, with no runtime -ESRCH and a
     message; gort_yield and gort_exit outside a goroutine (a message, no
     effect); gort_maxprocs / gort_goroutines / gort_in_goroutine with
     none;
   - channels: element sizes over 1 GiB and cap * size over 1 TiB
     (SIZE_MAX, overflowing products) give NULL and -EINVAL; NULL channel:
     try_send / try_recv -EAGAIN, close -EINVAL, free 0, len / cap 0,
     gort_after-style frees; NULL element for a sized channel -EINVAL;
     double close -EPIPE; free with a waiter -EBUSY; typed and direction
     handles on NULL;
   - select: n < 0, INT_MIN, NULL cases, unknown ops (0, 99, -1), send
     with NULL elem: -EINVAL; n = 0 with 0 / positive timeouts; INT64_MIN
     and INT64_MAX timeouts with a ready case and with a late one; an fd
     case with fd -1 (never ready), 5,000,000 (-EBADF); 100,000 cases;
     fd cases with no runtime (-ESRCH);
   - time: gort_sleep(INT64_MIN / 0 / 1), gort_after(INT64_MIN) fires at
     once, gort_after(INT64_MAX) freed unfired, gort_after with no runtime
     NULL, gort_after from a plain thread in background mode before any
     goroutine (no thread existed to run its timer) fires; a plain thread's poll timeout of 2^32 ms + 100 ms does not fire
     after 100 ms (32-bit truncation);
   - sync: NULL objects to every call, and wg_add making the counter
     negative, unlocking an unlocked mutex / rwmutex, runlock without a
     read lock: one line naming the call, then abort (in children,
     checked not to be a bare signal);
   - I/O: fds -1, 5,000,000 and closed ones (-EBADF) for every call, a
     non-socket to accept (-ENOTSOCK), NULL buffers (-EFAULT), negative
     iovec counts (-EINVAL), gort_wait_fd with no events (-EINVAL) and
     fd -1 (-EBADF at once, not after the timeout), INT64_MIN / INT64_MAX
     timeouts; gort_block_begin/end outside a goroutine (no effect), and
     unpaired inside one (end without begin, begin twice, a park or an
     exit between them): a message naming them, never "internal error";
   - diagnostics: gort_dump to fd -1 and with no runtime, gort_strerror
     of 0, known codes, positive values and INT_MIN.
   C99 + POSIX (fork, pipe). */
// gort-test: timeout=600 windows
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(_WIN32)
#include <io.h>
/* a pipe, as the C runtime has it (no readiness: I/O on it blocks) */
#define pipe(p) _pipe((p), 4096, _O_BINARY)
#define dup2 _dup2
#else
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#define MS  1000000LL
#define SEC 1000000000LL
#define HUGE_FD 5000000

/* ------------------------------------------------------------------ */
/* Children: a call that must print a message (and maybe abort)         */

/* The child aborted (SIGABRT, not SIGSEGV or a timeout) after one line
   that names `name`, and nothing says "internal error". */
static void expect_misuse_abort(const char *what, void (*fn)(void *), void *arg, const char *name)
{
    struct child c;
    int ok;
    run_child_void(fn, arg, 60, &c);
    ok = child_exit_code(&c) == CHILD_ABORT_CODE && strstr(c.err, "gort: ") &&
         strstr(c.err, name) && !strstr(c.err, "internal error");
    CHECK(ok);
    if (!ok) {
        fprintf(stderr, "%s: exit code %d (128 + a signal on Linux)\n", what, child_exit_code(&c));
        fprintf(stderr, "%s: stderr (want a line naming %s):\n%s\n", what, name, c.err);
    }
}

/* The child ran to the end (exit 0) and printed a line holding `text`. */
static void expect_message(const char *what, void (*fn)(void *), void *arg, const char *text)
{
    struct child c;
    int ok;
    run_child_void(fn, arg, 60, &c);
    ok = child_exit_code(&c) == 0 && strstr(c.err, text) != NULL;
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "%s: status %d, stderr (want \"%s\"):\n%s\n", what, c.status, text, c.err);
}

/* ------------------------------------------------------------------ */
/* Fatal misuse, each in a child                                       */

static void nop(void *arg) { (void)arg; }
static void nop0(void) {}

static void m_wg_null(void *a) { (void)a; gort_wg_add(NULL, 1); }
static void m_wg_done_null(void *a) { (void)a; gort_wg_done(NULL); }
static void m_wg_wait_null(void *a) { (void)a; gort_wg_wait(NULL); }
static void m_wg_negative(void *a) { gort_wg wg = GORT_WG_INIT; (void)a; gort_wg_add(&wg, INT_MIN); }
static void m_wg_done_zero(void *a) { gort_wg wg = GORT_WG_INIT; (void)a; gort_wg_done(&wg); }
static void m_mutex_null(void *a) { (void)a; gort_mutex_lock(NULL); }
static void m_trylock_null(void *a) { (void)a; (void)gort_mutex_trylock(NULL); }
static void m_unlock_null(void *a) { (void)a; gort_mutex_unlock(NULL); }
static void m_unlock_unlocked(void *a) { gort_mutex m = GORT_MUTEX_INIT; (void)a; gort_mutex_unlock(&m); }
static void m_rw_rlock_null(void *a) { (void)a; gort_rwmutex_rlock(NULL); }
static void m_rw_runlock_null(void *a) { (void)a; gort_rwmutex_runlock(NULL); }
static void m_rw_lock_null(void *a) { (void)a; gort_rwmutex_lock(NULL); }
static void m_rw_unlock_null(void *a) { (void)a; gort_rwmutex_unlock(NULL); }
static void m_rw_runlock_none(void *a) { gort_rwmutex rw = GORT_RWMUTEX_INIT; (void)a; gort_rwmutex_runlock(&rw); }
static void m_rw_unlock_none(void *a) { gort_rwmutex rw = GORT_RWMUTEX_INIT; (void)a; gort_rwmutex_unlock(&rw); }
static void m_cond_wait_null(void *a) { gort_mutex m = GORT_MUTEX_INIT; (void)a; gort_cond_wait(NULL, &m); }
static void m_cond_wait_nullm(void *a) { gort_cond cv = GORT_COND_INIT; (void)a; gort_cond_wait(&cv, NULL); }
static void m_cond_signal_null(void *a) { (void)a; gort_cond_signal(NULL); }
static void m_cond_bcast_null(void *a) { (void)a; gort_cond_broadcast(NULL); }
static void m_once_null(void *a) { (void)a; gort_once_do(NULL, nop0); }
static void m_once_nullfn(void *a) { gort_once o = GORT_ONCE_INIT; (void)a; gort_once_do(&o, NULL); }

/* The same from a goroutine (the runtime must not turn them into
   something else). */
struct fnbox { void (*fn)(void *); };   /* a function pointer passed as void * */
static void (*in_goroutine_fn)(void *);
static void in_goroutine_main(void *a) { in_goroutine_fn(a); }
static void in_goroutine(void *a)
{
    in_goroutine_fn = ((struct fnbox *)a)->fn;
    gort_run(in_goroutine_main, NULL);
}

/* gort_block_begin/end unpaired. */
static void b_end_alone_main(void *a) { (void)a; gort_block_end(); }
static void b_begin_twice_main(void *a) { (void)a; gort_block_begin(); gort_block_begin(); }
static void b_park_main(void *a) { (void)a; gort_block_begin(); gort_sleep(MS); }
static void b_recv_main(void *a)
{
    int v;
    (void)a;
    gort_block_begin();
    gort_chan_recv(gort_chan_make(sizeof v, 0), &v);
}
static void b_exit_g(void *a) { (void)a; gort_block_begin(); }
static void b_exit_main(void *a) { (void)a; gort_go(b_exit_g, NULL); gort_sleep(2 * SEC); }
static void b_run(void *a) { gort_run(((struct fnbox *)a)->fn, NULL); }

static void test_fatal_misuse(void)
{
    static const struct {
        const char *what;
        void (*fn)(void *);
        const char *name;
    } t[] = {
        { "gort_wg_add(NULL)", m_wg_null, "gort_wg_add" },
        { "gort_wg_done(NULL)", m_wg_done_null, "gort_wg" },
        { "gort_wg_wait(NULL)", m_wg_wait_null, "gort_wg_wait" },
        { "gort_wg_add(INT_MIN)", m_wg_negative, "gort_wg_add" },
        { "gort_wg_done with no add", m_wg_done_zero, "gort_wg_add" },
        { "gort_mutex_lock(NULL)", m_mutex_null, "gort_mutex_lock" },
        { "gort_mutex_trylock(NULL)", m_trylock_null, "gort_mutex_trylock" },
        { "gort_mutex_unlock(NULL)", m_unlock_null, "gort_mutex_unlock" },
        { "gort_mutex_unlock of an unlocked mutex", m_unlock_unlocked, "gort_mutex_unlock" },
        { "gort_rwmutex_rlock(NULL)", m_rw_rlock_null, "gort_rwmutex_rlock" },
        { "gort_rwmutex_runlock(NULL)", m_rw_runlock_null, "gort_rwmutex_runlock" },
        { "gort_rwmutex_lock(NULL)", m_rw_lock_null, "gort_rwmutex_lock" },
        { "gort_rwmutex_unlock(NULL)", m_rw_unlock_null, "gort_rwmutex_unlock" },
        { "gort_rwmutex_runlock with no reader", m_rw_runlock_none, "gort_rwmutex_runlock" },
        { "gort_rwmutex_unlock with no writer", m_rw_unlock_none, "gort_rwmutex_unlock" },
        { "gort_cond_wait(NULL, m)", m_cond_wait_null, "gort_cond_wait" },
        { "gort_cond_wait(cv, NULL)", m_cond_wait_nullm, "gort_cond_wait" },
        { "gort_cond_signal(NULL)", m_cond_signal_null, "gort_cond_signal" },
        { "gort_cond_broadcast(NULL)", m_cond_bcast_null, "gort_cond_broadcast" },
        { "gort_once_do(NULL, fn)", m_once_null, "gort_once_do" },
        { "gort_once_do(o, NULL)", m_once_nullfn, "gort_once_do" },
    };
    static const struct {
        const char *what;
        void (*main_fn)(void *);
        const char *name;
    } b[] = {
        { "gort_block_end without begin", b_end_alone_main, "gort_block_end" },
        { "gort_block_begin twice", b_begin_twice_main, "gort_block_begin" },
        { "a sleep inside gort_block_begin/end", b_park_main, "gort_block_begin" },
        { "a channel receive inside gort_block_begin/end", b_recv_main, "gort_block_begin" },
        { "a goroutine ending inside gort_block_begin", b_exit_main, "gort_block_begin" },
    };
    size_t i;
    static struct fnbox box;   /* static: on Windows the child is this program run again */
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        char what[160];
        expect_misuse_abort(t[i].what, t[i].fn, NULL, t[i].name);
        if (check_scale(100) < 10 && i % 4 != 0)
            continue;   /* Valgrind: a child costs seconds; a sample runs in goroutines */
        snprintf(what, sizeof what, "%s (in a goroutine)", t[i].what);
        box.fn = t[i].fn;
        expect_misuse_abort(what, in_goroutine, &box, t[i].name);
    }
    for (i = 0; i < sizeof b / sizeof b[0]; i++)
    {
        box.fn = b[i].main_fn;
        expect_misuse_abort(b[i].what, b_run, &box, b[i].name);
    }
}

/* ------------------------------------------------------------------ */
/* Messages that come with an error return                             */

static void msg_go(void *a) { (void)a; if (gort_go(nop, NULL) != -ESRCH) _exit(1); }
static void msg_exit(void *a) { (void)a; gort_exit(); }
static void msg_after(void *a) { (void)a; if (gort_after(MS) != NULL) _exit(1); }
static void msg_select_fd(void *a)
{
    gort_case cs[1];
    (void)a;
    memset(cs, 0, sizeof cs);
    cs[0].op = GORT_WAIT_IN;
    cs[0].fd = 0;
    if (gort_select(cs, 1, 0) != -ESRCH)
        _exit(1);
}
static void msg_maxprocs(void *a)
{
    gort_opts o;
    (void)a;
    memset(&o, 0, sizeof o);
    o.maxprocs = -1;
    if (gort_run_opts(&o, nop, NULL) != -EINVAL)
        _exit(1);
}
static void msg_stack(void *a)
{
    gort_opts o;
    (void)a;
    memset(&o, 0, sizeof o);
    o.stack_size = SIZE_MAX;
    if (gort_run_opts(&o, nop, NULL) != -EINVAL)
        _exit(1);
}
static void msg_chan_huge(void *a)
{
    int err = 0;
    (void)a;
    if (gort_chan_make_err(SIZE_MAX / 2, 3, &err) != NULL || err != -EINVAL)
        _exit(1);
}
static void msg_run_in_g_main(void *a)
{
    int *rc = (int *)a;
    *rc = gort_run(nop, NULL);
}
static void msg_run_in_g(void *a)
{
    int rc = 0;
    (void)a;
    if (gort_run(msg_run_in_g_main, &rc) != 0 || rc != -EBUSY)
        _exit(1);
}
static void msg_start_twice(void *a)
{
    (void)a;
    if (gort_start(NULL) != 0 || gort_start(NULL) != -EBUSY || gort_stop() != 0)
        _exit(1);
}

static void test_messages(void)
{
    expect_message("gort_go with no runtime", msg_go, NULL, "gort_go");
    expect_message("gort_exit outside a goroutine", msg_exit, NULL, "gort_exit");
    expect_message("gort_after with no runtime", msg_after, NULL, "gort_after");
    expect_message("gort_select fd case with no runtime", msg_select_fd, NULL, "gort_select");
    expect_message("negative maxprocs", msg_maxprocs, NULL, "maxprocs");
    expect_message("stack_size SIZE_MAX", msg_stack, NULL, "stack_size");
    expect_message("channel over 1 TiB", msg_chan_huge, NULL, "gort_chan_make");
    expect_message("gort_run inside a goroutine", msg_run_in_g, NULL, "gort_run");
    expect_message("gort_start twice", msg_start_twice, NULL, "gort_start");
}

/* ------------------------------------------------------------------ */
/* Returns, with no runtime (main thread)                              */

static void test_channels_table(void)
{
    int err = 1, v = 0;
    gort_chan *c;
    size_t big[][2] = {
        { SIZE_MAX, 1 }, { SIZE_MAX, SIZE_MAX }, { (size_t)1 << 31, 1 }, { 1, SIZE_MAX },
        { 16, (SIZE_MAX / 16) + 2 }, { (size_t)1 << 20, (size_t)1 << 21 }, { 3, SIZE_MAX / 2 },
    };
    size_t i;
    for (i = 0; i < sizeof big / sizeof big[0]; i++) {
        err = 1;
        CHECK(gort_chan_make_err(big[i][0], big[i][1], &err) == NULL);
        CHECK_EQ(err, -EINVAL);
        CHECK(gort_chan_make(big[i][0], big[i][1]) == NULL);
    }
    /* zero-sized elements: any capacity, no buffer */
    c = gort_chan_make_err(0, SIZE_MAX, &err);
    CHECK(c != NULL);
    CHECK_EQ(err, 0);
    CHECK_EQ(gort_chan_try_send(c, NULL), 0);
    CHECK_EQ(gort_chan_len(c), 1);
    CHECK_EQ(gort_chan_cap(c) == SIZE_MAX, 1);
    CHECK_EQ(gort_chan_try_recv(c, NULL), 1);
    CHECK_EQ(gort_chan_free(c), 0);

    /* the nil channel */
    CHECK_EQ(gort_chan_try_send(NULL, &v), -EAGAIN);
    CHECK_EQ(gort_chan_try_recv(NULL, &v), -EAGAIN);
    CHECK_EQ(gort_chan_close(NULL), -EINVAL);
    CHECK_EQ(gort_chan_free(NULL), 0);
    CHECK_EQ(gort_chan_len(NULL), 0);
    CHECK_EQ(gort_chan_cap(NULL), 0);
    CHECK_EQ(gort_tx_close(gort_tx(NULL)), -EINVAL);
    CHECK_EQ(gort_tx_try_send(gort_tx(NULL), &v), -EAGAIN);
    CHECK_EQ(gort_rx_try_recv(gort_rx(NULL), &v), -EAGAIN);

    /* NULL elements */
    c = gort_chan_make(sizeof(int), 1);
    CHECK(c != NULL);
    CHECK_EQ(gort_chan_send(c, NULL), -EINVAL);
    CHECK_EQ(gort_chan_try_send(c, NULL), -EINVAL);
    CHECK_EQ(gort_chan_len(c), 0);
    v = 9;
    CHECK_EQ(gort_chan_try_send(c, &v), 0);
    CHECK_EQ(gort_chan_try_recv(c, NULL), 1);   /* received and dropped */
    CHECK_EQ(gort_chan_len(c), 0);
    CHECK_EQ(gort_chan_close(c), 0);
    CHECK_EQ(gort_chan_close(c), -EPIPE);
    CHECK_EQ(gort_chan_send(c, &v), -EPIPE);
    CHECK_EQ(gort_chan_try_send(c, &v), -EPIPE);
    v = 5;
    CHECK_EQ(gort_chan_recv(c, &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(gort_chan_free(c), 0);
}

static void test_select_table(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 1);
    gort_case cs[2];
    int v = 1, ops[] = { 0, 4, 6, 99, -1, INT_MIN, INT_MAX };
    size_t i;
    memset(cs, 0, sizeof cs);
    CHECK_EQ(gort_select(NULL, 1, 0), -EINVAL);
    CHECK_EQ(gort_select(cs, -1, 0), -EINVAL);
    CHECK_EQ(gort_select(cs, INT_MIN, -1), -EINVAL);
    CHECK_EQ(gort_select(NULL, 0, 0), -EAGAIN);
    CHECK_EQ(gort_select(NULL, 0, 1 * MS), -ETIMEDOUT);
    for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        cs[0].chan = c;
        cs[0].op = ops[i];
        cs[0].elem = &v;
        CHECK_EQ(gort_select(cs, 1, 0), -EINVAL);
    }
    cs[0].op = GORT_SEND;
    cs[0].elem = NULL;
    CHECK_EQ(gort_select(cs, 1, 0), -EINVAL);
    CHECK_EQ(gort_chan_len(c), 0);   /* nothing moved */
    /* extreme timeouts with a ready case */
    cs[0].elem = &v;
    CHECK_EQ(gort_select(cs, 1, INT64_MIN), 0);
    cs[0].op = GORT_RECV;
    CHECK_EQ(gort_select(cs, 1, INT64_MAX), 0);
    CHECK_EQ(cs[0].ok, 1);
    /* nil-channel cases only: never ready */
    cs[0].chan = NULL;
    cs[1].chan = NULL;
    cs[1].op = GORT_SEND;
    CHECK_EQ(gort_select(cs, 2, 0), -EAGAIN);
    CHECK_EQ(gort_select(cs, 2, 1 * MS), -ETIMEDOUT);
    CHECK_EQ(gort_chan_free(c), 0);
}

static void test_misc_no_runtime(void)
{
    char buf[8];
    int i;
    static const int codes[] = { 0, -EINVAL, -ENOMEM, -EAGAIN, -EPIPE, -ETIMEDOUT, -EDEADLK, -ESRCH,
                                 -EBUSY, -EBADF, -EIO, 1, 4096, INT_MAX, INT_MIN, -4096, -99999 };
    CHECK_EQ(gort_running(), 0);
    CHECK_EQ(gort_in_goroutine(), 0);
    CHECK_EQ(gort_maxprocs(), 0);
    CHECK_EQ(gort_goroutines(), 0);
    CHECK_EQ(gort_go(NULL, NULL), -EINVAL);
    CHECK_EQ(gort_run(NULL, NULL), -EINVAL);
    CHECK_EQ(gort_run_opts(NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(gort_stop(), -ESRCH);
    gort_yield();
    gort_sleep(INT64_MIN);
    gort_sleep(0);
    gort_sleep(1);
    for (i = 0; i < (int)(sizeof codes / sizeof codes[0]); i++) {
        const char *s = gort_strerror(codes[i]);
        CHECK(s != NULL && s[0] != '\0');
    }
    gort_dump(-1);
    /* I/O with bad fds from a plain thread, no runtime */
    CHECK_EQ(gort_read(-1, buf, 1), -EBADF);
    CHECK_EQ(gort_write(-1, buf, 1), -EBADF);
    CHECK_EQ(gort_read(HUGE_FD, buf, 1), -EBADF);
    CHECK_EQ(gort_wait_fd(-1, GORT_IN, 10 * SEC), -EBADF);
    CHECK_EQ(gort_wait_fd(HUGE_FD, GORT_IN, 10 * SEC), -EBADF);
    CHECK_EQ(gort_wait_fd(0, 0, 0), -EINVAL);
    CHECK_EQ(gort_close(-1), -EBADF);
    CHECK_EQ(gort_close(HUGE_FD), -EBADF);
    gort_block_begin();   /* not a goroutine: no effect */
    gort_block_end();
    gort_block_end();
}

/* ------------------------------------------------------------------ */
/* Returns inside a runtime (from goroutines)                          */

static void late_sender(void *arg)
{
    int v = 42;
    gort_sleep(2 * MS);
    gort_chan_send((gort_chan *)arg, &v);
}

#define CLOSED_FD 900   /* under RLIMIT_NOFILE's usual 1024 */

static void io_table(void)
{
    char buf[16];
    struct iovec iov;
    int sv[2] = { -1, -1 }, fd, p[2], rc;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int64_t t0;
    static const int fds[] = { -1, INT_MIN, HUGE_FD, INT_MAX };
    size_t i;
    memset(buf, 'b', sizeof buf);
    iov.iov_base = buf;
    iov.iov_len = sizeof buf;
    for (i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        int f = fds[i];
        CHECK_EQ(gort_read(f, buf, sizeof buf), -EBADF);
        CHECK_EQ(gort_write(f, buf, sizeof buf), -EBADF);
        CHECK_EQ(gort_recv(f, buf, sizeof buf, 0), -EBADF);
        CHECK_EQ(gort_send(f, buf, sizeof buf, 0), -EBADF);
        CHECK_EQ(gort_readv(f, &iov, 1), -EBADF);
        CHECK_EQ(gort_writev(f, &iov, 1), -EBADF);
        CHECK_EQ(gort_write_all(f, buf, sizeof buf), -EBADF);
        CHECK_EQ(gort_read_timeout(f, buf, sizeof buf, MS), -EBADF);
        CHECK_EQ(gort_write_timeout(f, buf, sizeof buf, MS), -EBADF);
        CHECK_EQ(gort_accept(f, NULL, NULL), -EBADF);
        CHECK_EQ(gort_accept_timeout(f, NULL, NULL, MS), -EBADF);
        CHECK_EQ(gort_connect(f, (struct sockaddr *)&ss, sl), -EBADF);
        CHECK_EQ(gort_connect_timeout(f, (struct sockaddr *)&ss, sl, MS), -EBADF);
        t0 = gort_now();
        CHECK_EQ(gort_wait_fd(f, GORT_IN | GORT_OUT, 10 * SEC), -EBADF);
        CHECK(gort_now() - t0 < 5 * SEC);   /* at once, not after the timeout */
        CHECK_EQ(gort_close(f), -EBADF);
    }
    /* a closed fd: moved up to a number nothing else gets (the kernel
       hands out the lowest free one, and the runtime's threads may open
       files meanwhile: a clang-O2 CI run once read a byte from what had
       become another file under p[0]'s number) */
    CHECK_EQ(pipe(p), 0);
#if defined(_WIN32)
    CHECK_EQ(dup2(p[0], CLOSED_FD), 0);   /* (_dup2 says 0) */
#else
    CHECK_EQ(dup2(p[0], CLOSED_FD), CLOSED_FD);
#endif
    CHECK_EQ(gort_close(CLOSED_FD), 0);
    CHECK_EQ(gort_close(p[0]), 0);
    CHECK_EQ(gort_close(p[1]), 0);
    CHECK_EQ(gort_read(CLOSED_FD, buf, 1), -EBADF);
    CHECK_EQ(gort_close(CLOSED_FD), -EBADF);
    /* a pipe is no socket */
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(gort_accept(p[0], NULL, NULL), -ENOTSOCK);
    CHECK_EQ(gort_wait_fd(p[0], 0, 0), -EINVAL);
#if defined(_WIN32)
    /* a pipe has no readiness on Windows: waits and timeouts say so, and
       the plain calls block (inside gort_block_begin/end) */
    CHECK_EQ(gort_wait_fd(p[1], GORT_OUT, INT64_MAX), -ENOTSUP);
    CHECK_EQ(gort_read_timeout(p[0], buf, 1, INT64_MIN), -ENOTSUP);
    CHECK_EQ(gort_write(p[1], "ab", 2), 2);
    CHECK_EQ(gort_wait_fd(p[0], GORT_IN, INT64_MIN), -ENOTSUP);
    CHECK_EQ(gort_read_timeout(p[0], buf, 1, INT64_MAX), -ENOTSUP);
    CHECK_EQ(gort_read(p[0], buf, 1), 1);
    iov.iov_len = 1;
    CHECK_EQ(gort_readv(p[0], &iov, 1), 1);   /* readv and writev work on one */
    CHECK_EQ(gort_writev(p[1], &iov, 1), 1);
    CHECK_EQ(gort_read(p[0], buf, 1), 1);
    iov.iov_len = sizeof buf;
    CHECK_EQ(gort_recv(p[0], buf, 1, 0), -ENOTSOCK);
    CHECK_EQ(gort_send(p[1], buf, 1, 0), -ENOTSOCK);
#else
    CHECK_EQ(gort_wait_fd(p[1], GORT_OUT, INT64_MAX), GORT_OUT);
    CHECK_EQ(gort_read_timeout(p[0], buf, 1, INT64_MIN), -ETIMEDOUT);   /* empty: looks once */
    CHECK_EQ(gort_write(p[1], "ab", 2), 2);
    CHECK_EQ(gort_wait_fd(p[0], GORT_IN, INT64_MIN), GORT_IN);   /* negative: no limit */
    CHECK_EQ(gort_read_timeout(p[0], buf, 1, INT64_MAX), 1);
#endif
#ifndef GORT_VALGRIND   /* Valgrind reports these bad buffers itself (as it should) */
    CHECK_EQ(gort_read(p[0], NULL, 1), -EFAULT);
    CHECK_EQ(gort_readv(p[0], &iov, -1), -EINVAL);
    rc = (int)gort_writev(p[1], &iov, -1);
    CHECK(rc == -EINVAL || rc == -EMSGSIZE);   /* qemu-user checks the count in sendmsg first */
#endif
    (void)rc;
    CHECK_EQ(gort_write_all(p[1], buf, 0), 0);
    CHECK_EQ(gort_close(p[0]), 0);
    CHECK_EQ(gort_close(p[1]), 0);
    /* a socket: accept with NULL address works; connect with NULL fails */
#if defined(_WIN32)
    CHECK_EQ(tcp_pair(sv), 0);
    CHECK_EQ(gort_accept_timeout(sv[0], NULL, NULL, MS), -EINVAL);   /* not listening */
    fd = (int)socket(AF_INET, SOCK_STREAM, 0);
#else
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ(gort_accept_timeout(sv[0], NULL, NULL, MS), -EINVAL);   /* not listening */
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
#endif
    CHECK(fd >= 0);
    CHECK(gort_connect(fd, NULL, 0) < 0);
    CHECK(gort_connect(fd, NULL, sizeof ss) < 0);
    CHECK_EQ(gort_close(fd), 0);
    CHECK_EQ(gort_close(sv[0]), 0);
    CHECK_EQ(gort_close(sv[1]), 0);
}

static void badinput_main(void *arg)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0), *a;
    gort_case cs[3], *many;
    int v = 0, rc, i;
    int64_t t0;
    gort_opts o;
    (void)arg;
    CHECK_EQ(gort_running(), 1);
    CHECK_EQ(gort_in_goroutine(), 1);
    CHECK_EQ(gort_go(NULL, NULL), -EINVAL);
    CHECK_EQ(gort_run(nop, NULL), -EBUSY);
    memset(&o, 0, sizeof o);
    CHECK_EQ(gort_run_opts(&o, nop, NULL), -EBUSY);
    CHECK_EQ(gort_start(NULL), -EBUSY);
    CHECK_EQ(gort_stop(), -EBUSY);

    /* select: fd cases */
    memset(cs, 0, sizeof cs);
    cs[0].op = GORT_WAIT_IN;
    cs[0].fd = -1;   /* never ready */
    CHECK_EQ(gort_select(cs, 1, 0), -EAGAIN);
    CHECK_EQ(gort_select(cs, 1, 1 * MS), -ETIMEDOUT);
    cs[0].fd = HUGE_FD;
    CHECK_EQ(gort_select(cs, 1, 1 * MS), -EBADF);
    cs[0].op = GORT_WAIT_OUT;
    CHECK_EQ(gort_select(cs, 1, 0), -EBADF);
    /* a late value with an INT64_MAX timeout and an INT64_MIN one */
    CHECK_EQ(gort_go(late_sender, c), 0);
    memset(cs, 0, sizeof cs);
    cs[0].chan = c;
    cs[0].op = GORT_RECV;
    cs[0].elem = &v;
    CHECK_EQ(gort_select(cs, 1, INT64_MIN), 0);   /* blocks (negative: forever) */
    CHECK_EQ(v, 42);
    CHECK_EQ(gort_go(late_sender, c), 0);
    v = 0;
    CHECK_EQ(gort_select(cs, 1, INT64_MAX), 0);
    CHECK_EQ(v, 42);
    /* 100,000 cases (the heap path), all nil but one */
    many = (gort_case *)calloc(100000, sizeof *many);
    CHECK(many != NULL);
    if (many) {
        for (i = 0; i < 100000; i++)
            many[i].op = (i & 1) ? GORT_SEND : GORT_RECV;
        CHECK_EQ(gort_select(many, 100000, 0), -EAGAIN);
        many[77777].chan = c;
        many[77777].op = GORT_RECV;
        many[77777].elem = &v;
        CHECK_EQ(gort_go(late_sender, c), 0);
        v = 0;
        rc = gort_select(many, 100000, 10 * SEC);
        CHECK_EQ(rc, 77777);
        CHECK_EQ(v, 42);
        free(many);
    }

    /* time */
    gort_sleep(INT64_MIN);
    gort_sleep(0);
    t0 = gort_now();
    a = gort_after(INT64_MIN);
    CHECK(a != NULL);
    if (a) {
        int64_t when = 0;
        CHECK_EQ(gort_chan_recv(a, &when), 1);
        CHECK(when >= t0);
        CHECK_EQ(gort_chan_free(a), 0);
    }
    a = gort_after(INT64_MAX);   /* never fires; freed while armed */
    CHECK(a != NULL);
    CHECK_EQ(gort_chan_try_recv(a, &t0), -EAGAIN);
    CHECK_EQ(gort_chan_free(a), 0);

    /* free with a waiter: -EBUSY, nothing freed */
    CHECK_EQ(gort_go(late_sender, c), 0);
    gort_sleep(200 * MS);   /* it sends after 2 ms: parked by now */
    CHECK_EQ(gort_chan_free(c), -EBUSY);
    CHECK_EQ(gort_chan_recv(c, &v), 1);
    CHECK_EQ(v, 42);
    CHECK_EQ(gort_chan_free(c), 0);

    io_table();
    gort_dump(-1);
    gort_block_begin();
    gort_block_end();
}

/* extreme options still run */
static long opt_ran;
static void opt_main(void *a) { (void)a; __atomic_fetch_add(&opt_ran, 1, __ATOMIC_SEQ_CST); }

static void test_runtime_opts(void)
{
    gort_opts o;
    size_t sizes[] = { 1, 4096, ((size_t)1 << 30) + 1, SIZE_MAX };
    int want[] = { 0, 0, -EINVAL, -EINVAL };
    size_t i;
    memset(&o, 0, sizeof o);
    o.maxprocs = INT_MAX;
    o.hog_ns = INT64_MIN;
    CHECK_EQ(gort_run_opts(&o, opt_main, NULL), 0);
    o.maxprocs = 1;
    o.hog_ns = INT64_MAX;
    o.no_sigquit = 1;
    CHECK_EQ(gort_run_opts(&o, opt_main, NULL), 0);
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        memset(&o, 0, sizeof o);
        o.stack_size = sizes[i];
        CHECK_EQ(gort_run_opts(&o, opt_main, NULL), want[i]);
    }
    CHECK_EQ(opt_ran, 4);
}

/* Background mode: gort_stop of a gort_run runtime, from a plain thread. */
static int stop_rc = 1;
static void *stopper(void *a)
{
    (void)a;
    stop_rc = gort_stop();
    return NULL;
}
static void stop_main(void *a)
{
    pthread_t t;
    (void)a;
    CHECK_EQ(pthread_create(&t, NULL, stopper, NULL), 0);
    pthread_join(t, NULL);
}

static void test_background(void)
{
    CHECK_EQ(gort_run(stop_main, NULL), 0);
    CHECK_EQ(stop_rc, -EINVAL);
    CHECK_EQ(gort_start(NULL), 0);
    CHECK_EQ(gort_running(), 1);
    {   /* gort_after from this thread before any goroutine exists */
        gort_chan *a = gort_after(2 * MS);
        int64_t when = 0;
        gort_case cs[1];
        memset(cs, 0, sizeof cs);
        cs[0].chan = a;
        cs[0].op = GORT_RECV;
        cs[0].elem = &when;
        CHECK(a != NULL);
        CHECK_EQ(gort_select(cs, 1, 20 * SEC), 0);   /* fires (no M existed to run it) */
        CHECK(when > 0);
        gort_chan_free(a);
    }
    CHECK_EQ(gort_go(NULL, NULL), -EINVAL);
    CHECK_EQ(gort_stop(), 0);
    CHECK_EQ(gort_stop(), -ESRCH);
    CHECK_EQ(gort_running(), 0);
}

/* A plain thread's poll timeout past 2^32 ms must not wrap to 100 ms. */
static int long_wait_done;
static void *long_waiter(void *a)
{
    int fd = *(int *)a;
    (void)gort_wait_fd(fd, GORT_IN, (((int64_t)1 << 32) + 100) * MS);
    __atomic_store_n(&long_wait_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}
static void *long_reader(void *a)
{
    int fd = *(int *)a;
    char b;
    (void)gort_read_timeout(fd, &b, 1, (((int64_t)1 << 32) + 100) * MS);
    __atomic_store_n(&long_wait_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}
static void long_timeout_child(void *arg)
{
    int p[2];
    pthread_t t;
#if defined(_WIN32)
    WSADATA wd;
    CHECK_EQ(WSAStartup(MAKEWORD(2, 2), &wd), 0);
    CHECK_EQ(tcp_pair(p), 0);   /* pollable (a pipe is not, there) */
#else
    CHECK_EQ(pipe(p), 0);
    if (arg)
        fcntl(p[0], F_SETFL, O_NONBLOCK);
#endif
    CHECK_EQ(pthread_create(&t, NULL, arg ? long_reader : long_waiter, &p[0]), 0);
    plain_sleep_ms(400);
    if (__atomic_load_n(&long_wait_done, __ATOMIC_SEQ_CST)) {
        fprintf(stderr, "the wait of 2^32 ms + 100 ms returned within 400 ms\n");
        _exit(1);
    }
    _exit(0);
}

static const int reader_arg = 1;   /* non-NULL: the reader */

static void test_long_timeouts(void)
{
    struct child c;
    run_child_void(long_timeout_child, NULL, 60, &c);
    CHECK_EQ(child_exit_code(&c), 0);
    if (child_exit_code(&c) != 0)
        fprintf(stderr, "gort_wait_fd: %s\n", c.err);
    run_child_void(long_timeout_child, (void *)&reader_arg, 60, &c);   /* (static data: see util_spawn) */
    CHECK_EQ(child_exit_code(&c), 0);
    if (child_exit_code(&c) != 0)
        fprintf(stderr, "gort_read_timeout: %s\n", c.err);
}

int main(void)
{
    /* children first, while this process has no threads */
    test_fatal_misuse();
    test_messages();
    test_long_timeouts();
    test_misc_no_runtime();
    test_channels_table();
    test_select_table();
    CHECK_EQ(gort_run(badinput_main, NULL), 0);
    test_runtime_opts();
    test_background();
    return check_done();
}
