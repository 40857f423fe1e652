/* test_sysmon.c - the monitor thread (>>sysmon) and blocking calls.

   Checks, with flags rather than timing wherever the property allows:
     - hand-off: at maxprocs 1 a goroutine sits in gort_block_begin();
       poll(NULL, 0, 1000) (1 s, scaled, at least 200 ms); gort_block_end()
       while two yielding goroutines, a gort_sleep ticker and a channel
       ping-pong pair keep running: each of them made progress while the
       blocked one was inside (counted only while its "inside" flag is
       set, read before it leaves). The same without any timing: the
       blocked goroutine polls a pipe that only another goroutine writes,
       after it has run 100 times while the first was inside;
     - 8 goroutines inside blocking calls at once (block_begin, then wait
       until a 9th goroutine has seen all 8 inside, then usleep 200 ms) at
       maxprocs 1 and 2: all finish, the 9th ran while they were blocked,
       gort_goroutines() is 10 while they are inside and 1 at the end;
       gort_block_begin/end from a plain thread are no-ops;
     - idle CPU: the process's CPU time over 1 s with gort_start(NULL) and
       nothing to do, and over a 1 s gort_sleep in gort_run with goroutines
       parked on a channel, on a socket and on a far timer, is < 10 ms
       (< 100 ms when GORT_TEST_SCALE < 1: Valgrind, sanitizers, qemu),
       and the process's threads went to sleep fewer than 30 times (60
       when GORT_TEST_SCALE < 1) in
       that second (voluntary context switches, /proc/self/task): sysmon
       sleeps until a P runs, not on a 10 ms period. The CPU limit is
       the one timing-like assertion, required by the design;
     - sysmon wakes from that sleep when a P runs: after 1.3 s idle at
       maxprocs 1, main starts a goroutine and stalls its thread in
       nanosleep (500 ms); the child runs while main is still inside (the
       hand-off needs sysmon);
     - an overdue timer while the one P computes (background mode,
       maxprocs 1, hand-off off): the M that was in the poller sleeps
       rather than spin in epoll_wait(0): the process's CPU time over the
       300 ms stays under 1.5x the wall time;
     - the hog report, in fork()ed children with stderr on a pipe: a
       goroutine that spins without yielding (100 ms, and on until the
       parent has seen the report) at maxprocs 2 while main waits on a
       channel is named once: "has run for" and its start function
       hog_spinner; with opts.hog_ns = -1 nothing is reported; a goroutine
       that runs as long but calls gort_yield() is not reported;
     - deadlock detection stays exact, in fork()ed children: no -EDEADLK
       while a goroutine is parked in gort_read (a plain thread that never
       calls gort writes after 100 ms), in a select with an fd case, inside
       gort_block_begin/end (100 ms), or while a plain thread whose first
       gort call is gort_read waits for data (API.md: a thread that has
       called into gort, I/O included, counts as live); and -EDEADLK after
       such a read or blocking call has finished and main then blocks
       forever (the counters went back down).
   On Windows (under Wine) the pipes are loopback TCP pairs polled with
   WSAPoll, a poll of nothing is a Sleep, the CPU time is
   GetProcessTimes', the thread wake-up counts are Linux's (/proc: said in
   a note), a hog spinner told to spin until the parent saw the report
   spins 1.5 s (no memory shared with a child that is the program run
   again), and a plain reader's thread is given 50 ms to block. */
#define _GNU_SOURCE
// gort-test: windows
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(_WIN32)
#define poll(p, n, t) WSAPoll((p), (ULONG)(n), (t))
typedef ULONG nfds_t;
#define usleep(us) Sleep((DWORD)((us) / 1000))
#define SOCK_CLOEXEC 0
/* a connected pair (socketpair(2) there): loopback TCP */
#define socketpair(d, t, p, sv) tcp_pair(sv)
#define pipe(p) tcp_pair(p)
/* read(2)/write(2)/close(2) of a socket, behind gort's back */
#define read(fd, b, n) recv((SOCKET)(unsigned)(fd), (char *)(b), (int)(n), 0)
#define write(fd, b, n) send((SOCKET)(unsigned)(fd), (const char *)(b), (int)(n), 0)
#define close(fd) closesocket((SOCKET)(unsigned)(fd))
#else
#include <dirent.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#define MS 1000000LL
#define HANG_MS 60000   /* hang detectors, not timing assertions */

static int64_t cpu_ns(void)
{
#if defined(_WIN32)
    FILETIME cr, ex, k, u;
    if (!GetProcessTimes(GetCurrentProcess(), &cr, &ex, &k, &u))
        return 0;
    return (int64_t)((((uint64_t)k.dwHighDateTime << 32) | k.dwLowDateTime) +
                     (((uint64_t)u.dwHighDateTime << 32) | u.dwLowDateTime)) * 100;
#else
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
#endif
}

static double test_scale(void)
{
    const char *s = getenv("GORT_TEST_SCALE");
    double f = s && *s ? strtod(s, NULL) : 1.0;
    return f > 0.0 ? f : 1.0;
}

/* ------------------------------------------------------------ hand-off */

enum { A_Y0, A_Y1, A_SLEEPER, A_PINGPONG, A_N };
static int  a_inside, a_stop;   /* atomic */
static long a_prog[A_N];        /* atomic: progress made while a_inside */
static long a_snap[A_N];        /* read by the blocked goroutine before it left */
static long a_poll_ms;

static void a_note(int who)
{
    if (LOAD(&a_inside))
        ADD(&a_prog[who], 1);
}

static void a_yielder(void *arg)
{
    gort_wg *wg = (gort_wg *)((void **)arg)[0];
    int who = (int)(intptr_t)((void **)arg)[1];
    while (!LOAD(&a_stop)) {
        a_note(who);
        gort_yield();
    }
    gort_wg_done(wg);
}

static void a_sleeper(void *arg)
{
    gort_wg *wg = (gort_wg *)arg;
    while (!LOAD(&a_stop)) {
        gort_sleep(1 * MS);
        a_note(A_SLEEPER);
    }
    gort_wg_done(wg);
}

static void a_ponger(void *arg)
{
    gort_chan *c = (gort_chan *)((void **)arg)[2];
    gort_wg *wg = (gort_wg *)((void **)arg)[0];
    int v;
    while (gort_chan_recv(c, &v) == 1)
        ;
    gort_wg_done(wg);
}

static void a_pinger(void *arg)
{
    gort_chan *c = (gort_chan *)((void **)arg)[2];
    gort_wg *wg = (gort_wg *)((void **)arg)[0];
    int v = 0;
    while (!LOAD(&a_stop)) {
        if (gort_chan_send(c, &v) != 0)
            break;
        a_note(A_PINGPONG);
        v++;
    }
    CHECK_EQ(gort_chan_close(c), 0);
    gort_wg_done(wg);
}

/* poll(2) for ms, as careful C code does: the hand-off's signal (or any
   other) ends a poll early with EINTR, and the kernel does not restart it. */
static int poll_ms(struct pollfd *pfd, int n, long ms)
{
    int64_t end = mono_ns() + ms * 1000000LL;
    int rc;
#if defined(_WIN32)
    if (n == 0) {   /* WSAPoll wants a socket */
        Sleep((DWORD)ms);
        return 0;
    }
#endif
    for (;;) {
        int64_t left = end - mono_ns();
        rc = poll(pfd, (nfds_t)n, left > 0 ? (int)((left + 999999) / 1000000) : 0);
        if (rc >= 0 || errno != EINTR)
            return rc;
    }
}

static void a_blocker(void *arg)
{
    gort_wg *wg = (gort_wg *)arg;
    int i;
    STORE(&a_inside, 1);   /* maxprocs 1: nobody else runs until block_begin */
    gort_block_begin();
    poll_ms(NULL, 0, a_poll_ms);
    for (i = 0; i < A_N; i++)
        a_snap[i] = LOAD(&a_prog[i]);
    gort_block_end();
    STORE(&a_inside, 0);
    gort_wg_done(wg);
}

/* The timing-free variant: the blocked goroutine polls a pipe that only a
   goroutine writes, after running 100 times while the first is inside.
   Without hand-off that goroutine could not run: the 60 s poll timeout is
   the hang detector. */
static int b_pipe[2];
static int b_inside, b_done;   /* atomic */
static int b_poll_rc;

static void b_blocker(void *arg)
{
    gort_wg *wg = (gort_wg *)arg;
    struct pollfd pfd;
    char c;
    pfd.fd = b_pipe[0];
    pfd.events = POLLIN;
    pfd.revents = 0;
    STORE(&b_inside, 1);
    gort_block_begin();
    b_poll_rc = poll_ms(&pfd, 1, HANG_MS);
    if (b_poll_rc == 1 && read(b_pipe[0], &c, 1) != 1)
        b_poll_rc = -2;
    gort_block_end();
    STORE(&b_inside, 0);
    STORE(&b_done, 1);
    gort_wg_done(wg);
}

static void b_helper(void *arg)
{
    gort_wg *wg = (gort_wg *)arg;
    int n = 0;
    while (n < 100 && !LOAD(&b_done)) {
        if (LOAD(&b_inside))
            n++;
        gort_yield();
    }
    if (n == 100)
        CHECK_EQ(write(b_pipe[1], "x", 1), 1);
    gort_wg_done(wg);
}

static void handoff_main(void *arg)
{
    gort_wg wg = GORT_WG_INIT, bwg = GORT_WG_INIT;
    void *ya[2][3], *pa[3];
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    int i;
    (void)arg;
    CHECK_EQ(gort_maxprocs(), 1);
    a_poll_ms = check_scale(1000);
    if (a_poll_ms < 200)
        a_poll_ms = 200;
    gort_wg_add(&wg, 5);
    for (i = 0; i < 2; i++) {
        ya[i][0] = &wg;
        ya[i][1] = (void *)(intptr_t)(A_Y0 + i);
        ya[i][2] = NULL;
        CHECK_EQ(gort_go(a_yielder, ya[i]), 0);
    }
    CHECK_EQ(gort_go(a_sleeper, &wg), 0);
    pa[0] = &wg;
    pa[1] = NULL;
    pa[2] = c;
    CHECK_EQ(gort_go(a_pinger, pa), 0);
    CHECK_EQ(gort_go(a_ponger, pa), 0);
    gort_wg_add(&bwg, 1);
    CHECK_EQ(gort_go(a_blocker, &bwg), 0);
    gort_wg_wait(&bwg);
    STORE(&a_stop, 1);
    gort_wg_wait(&wg);
    for (i = 0; i < A_N; i++) {
        if (a_snap[i] <= 0)
            fprintf(stderr, "hand-off: goroutine %d made no progress while the blocked one was inside\n", i);
        CHECK(a_snap[i] > 0);
    }
    CHECK_EQ(gort_chan_free(c), 0);

    /* without timing */
    CHECK_EQ(pipe(b_pipe), 0);
    gort_wg_add(&bwg, 2);
    CHECK_EQ(gort_go(b_blocker, &bwg), 0);
    CHECK_EQ(gort_go(b_helper, &bwg), 0);
    gort_wg_wait(&bwg);
    CHECK_EQ(b_poll_rc, 1);
    close(b_pipe[0]);
    close(b_pipe[1]);
}

/* ------------------------------------------------------------ 8 blocked + 1 running */

#define NBLOCK 8
static int  m_inside, m_seen_all, m_finished;   /* atomic */
static long m_prog;                             /* atomic: 9th's progress while any inside */
static long m_goroutines_seen;

static void m_blocker(void *arg)
{
    gort_wg *wg = (gort_wg *)arg;
    int64_t end;
    gort_block_begin();
    ADD(&m_inside, 1);
    /* stay inside until the 9th has seen all 8 inside (hang detector) */
    end = mono_ns() + HANG_MS * MS;
    while (!LOAD(&m_seen_all) && mono_ns() < end)
        usleep(1000);
    usleep(200000);
    ADD(&m_inside, -1);
    gort_block_end();
    ADD(&m_finished, 1);
    gort_wg_done(wg);
}

static void m_runner(void *arg)
{
    gort_wg *wg = (gort_wg *)arg;
    int64_t end = mono_ns() + HANG_MS * MS;
    while (LOAD(&m_finished) < NBLOCK && mono_ns() < end) {
        int n = LOAD(&m_inside);
        if (n == NBLOCK && !LOAD(&m_seen_all)) {
            m_goroutines_seen = gort_goroutines();
            STORE(&m_seen_all, 1);
        }
        if (n > 0)
            ADD(&m_prog, 1);
        gort_yield();
    }
    gort_wg_done(wg);
}

static void *plain_block(void *arg)
{
    (void)arg;
    gort_block_begin();   /* not a goroutine: nothing to do */
    gort_block_end();
    return arg;
}

static void many_blocked_main(void *arg)
{
    gort_wg wg = GORT_WG_INIT;
    pthread_t t;
    int i;
    int64_t end;
    (void)arg;
    STORE(&m_inside, 0);
    STORE(&m_seen_all, 0);
    STORE(&m_finished, 0);
    STORE(&m_prog, 0);
    m_goroutines_seen = -1;
    CHECK_EQ(gort_goroutines(), 1);
    gort_wg_add(&wg, NBLOCK + 1);
    for (i = 0; i < NBLOCK; i++)
        CHECK_EQ(gort_go(m_blocker, &wg), 0);
    CHECK_EQ(gort_go(m_runner, &wg), 0);
    gort_wg_wait(&wg);
    CHECK_EQ(LOAD(&m_finished), NBLOCK);
    CHECK_EQ(LOAD(&m_seen_all), 1);
    CHECK_EQ(m_goroutines_seen, NBLOCK + 2);   /* main + 8 + the runner */
    CHECK(LOAD(&m_prog) > 0);
    /* the dead ones stop counting (hang detector, not timing) */
    end = gort_now() + HANG_MS * MS;
    while (gort_goroutines() != 1 && gort_now() < end)
        gort_sleep(1 * MS);
    CHECK_EQ(gort_goroutines(), 1);
    CHECK_EQ(pthread_create(&t, NULL, plain_block, NULL), 0);
    gort_block_begin();
    CHECK_EQ(pthread_join(t, NULL), 0);
    gort_block_end();
}

/* ------------------------------------------------------------ idle CPU */

/* sysmon backs off from 20 us to 10 ms (about 10 sleeps, each window
   below holds one such back-off: the goroutine that measures woke),
   then sleeps until a P runs: the 100 a second of a 10 ms period alone
   would fail this. Twice that under sanitizers, Valgrind and qemu:
   TSan's own background thread wakes ten times a second. */
#define IDLE_WAKE_MAX (test_scale() < 1.0 ? 60 : 30)

static int64_t idle_limit_ns(void)
{
    return test_scale() < 1.0 ? 100 * MS : 10 * MS;
}

static gort_wg idle_wg = GORT_WG_INIT;

static void idle_reader(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char c;
    CHECK_EQ(gort_read(fd, &c, 1), 0);   /* EOF when the test closes the peer */
    gort_wg_done(&idle_wg);
}

static void idle_chan(void *arg)
{
    int v;
    CHECK_EQ(gort_chan_recv((gort_chan *)arg, &v), 0);   /* closed */
    gort_wg_done(&idle_wg);
}

static void idle_timer(void *arg)
{
    gort_case cs;
    int v;
    memset(&cs, 0, sizeof cs);
    cs.chan = (gort_chan *)arg;
    cs.op = GORT_RECV;
    cs.elem = &v;
    CHECK_EQ(gort_select(&cs, 1, 3600000 * MS), 0);   /* the quit channel, not the timer */
    gort_wg_done(&idle_wg);
}

static int64_t idle_used;
static long idle_switches;

/* Voluntary context switches of all the process's threads so far: each
   is a thread that went to sleep, so an idle runtime whose threads wake
   on a period shows one per period (sysmon's 10 ms back-off: 100 a
   second), while one that sleeps until there is work shows a handful.
   -1 if /proc cannot say. */
static long vol_switches(void)
{
#if defined(_WIN32)
    return -1;
#else
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    long total = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char path[300], line[128];
        FILE *f;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
        if (!(f = fopen(path, "r")))
            continue;   /* the thread has just exited */
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "voluntary_ctxt_switches:", 24) == 0)
                total += strtol(line + 24, NULL, 10);
        fclose(f);
    }
    closedir(d);
    return total;
#endif
}

/* the wake-up count's check, where there is one */
static int wakes_ok(long sw)
{
#if defined(_WIN32)
    static int said;
    if (!said++)
        check_note("thread wake-up counts: not checked on Windows (Linux's /proc counts them)");
    (void)sw;
    return 1;
#else
    return sw >= 1 && sw < IDLE_WAKE_MAX;
#endif
}

static void idle_main(void *arg)
{
    gort_chan *quit = gort_chan_make(sizeof(int), 0);
    int sv[2] = { -1, -1 }, i;
    int64_t c0;
    long sw0;
    (void)arg;
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    gort_wg_add(&idle_wg, 12);
    for (i = 0; i < 10; i++)
        CHECK_EQ(gort_go(idle_chan, quit), 0);
    CHECK_EQ(gort_go(idle_reader, (void *)(intptr_t)sv[0]), 0);
    CHECK_EQ(gort_go(idle_timer, quit), 0);
    gort_sleep(100 * MS);   /* let everyone park and the spinners stop */
    c0 = cpu_ns();
    sw0 = vol_switches();
    gort_sleep(1000 * MS);
    idle_used = cpu_ns() - c0;
    idle_switches = vol_switches() - sw0;
    CHECK_EQ(gort_chan_close(quit), 0);
    CHECK_EQ(gort_close(sv[1]), 0);
    gort_wg_wait(&idle_wg);
    CHECK_EQ(gort_close(sv[0]), 0);
    CHECK_EQ(gort_chan_free(quit), 0);
}

static void test_idle(void)
{
    gort_opts o;
    int64_t c0, used;
    long sw;

    /* background mode, nothing to do */
    CHECK_EQ(gort_start(NULL), 0);
    CHECK_EQ(gort_running(), 1);
    plain_sleep_ms(100);
    c0 = cpu_ns();
    sw = vol_switches();
    plain_sleep_ms(1000);
    used = cpu_ns() - c0;
    sw = vol_switches() - sw;
    CHECK_EQ(gort_stop(), 0);
    check_note("idle gort_start: %.2f ms CPU, %ld thread wake-ups in 1 s (limits %lld ms, %d)", used / 1e6, sw,
               (long long)(idle_limit_ns() / MS), IDLE_WAKE_MAX);
    CHECK(used < idle_limit_ns());
    CHECK(wakes_ok(sw));   /* main's own sleep is one */

    /* gort_run, main asleep, others parked on a channel, a socket, a timer */
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    idle_used = -1;
    CHECK_EQ(gort_run_opts(&o, idle_main, NULL), 0);
    check_note("idle gort_run: %.2f ms CPU, %ld thread wake-ups in 1 s (limits %lld ms, %d)", idle_used / 1e6,
               idle_switches, (long long)(idle_limit_ns() / MS), IDLE_WAKE_MAX);
    CHECK(idle_used >= 0 && idle_used < idle_limit_ns());
    CHECK(wakes_ok(idle_switches));
}

/* A sysmon asleep until a P runs must wake when one does: after 300 ms
   with nothing running (sysmon is in its deep sleep: the wake-up count
   over a further second shows it), main wakes, starts a goroutine and
   stalls its thread outside gort at maxprocs 1. The hand-off (sysmon's
   SIGURG) has to run the child while main is still inside. */
static int dw_inside, dw_ran, dw_ran_inside;   /* atomic */

static void dw_child(void *arg)
{
    (void)arg;
    __atomic_store_n(&dw_ran_inside, __atomic_load_n(&dw_inside, __ATOMIC_SEQ_CST), __ATOMIC_SEQ_CST);
    __atomic_store_n(&dw_ran, 1, __ATOMIC_SEQ_CST);
}

static void deep_wake_main(void *arg)
{
    long sw;
    int64_t end;
    (void)arg;
    gort_sleep(300 * MS);
    sw = vol_switches();
    gort_sleep(1000 * MS);
    sw = vol_switches() - sw;
    check_note("deep sleep: %ld thread wake-ups in 1 s", sw);
    CHECK(wakes_ok(sw));
    CHECK_EQ(gort_go(dw_child, NULL), 0);
    __atomic_store_n(&dw_inside, 1, __ATOMIC_SEQ_CST);
    plain_sleep_ms(test_scale() < 1.0 ? 2000 : 500);
    __atomic_store_n(&dw_inside, 0, __ATOMIC_SEQ_CST);
    end = gort_now() + HANG_MS * MS;
    while (!__atomic_load_n(&dw_ran, __ATOMIC_SEQ_CST) && gort_now() < end)
        gort_sleep(1 * MS);
    CHECK_EQ(__atomic_load_n(&dw_ran, __ATOMIC_SEQ_CST), 1);
    CHECK_EQ(__atomic_load_n(&dw_ran_inside, __ATOMIC_SEQ_CST), 1);
}

/* An overdue timer while every P is busy: the M that was blocked in the
   poller has nothing it may run (no P is free), so it must sleep; the
   busy P runs the timer at its next scheduling point. It used to go back
   to the poller at once with a deadline in the past: a spin on
   epoll_wait(0), a second CPU burnt for as long as the timer stayed
   overdue. Background mode at maxprocs 1, the hand-off and hog report
   off: a goroutine that blocks in gort_block_begin makes sysmon start a
   second M (it takes the poller); a 20 ms sleeper's timer is armed; then
   a goroutine computes in C for 300 ms (scaled) and keeps the one P. The
   process's CPU time over that stays near one CPU's worth (< 1.5x the
   wall time; two CPUs' worth when the M spun). */
static int ov_blocked_done, ov_slept, ov_computed;   /* atomic */

static void ov_blocker(void *arg)
{
    (void)arg;
    gort_block_begin();
    plain_sleep_ms(30);
    gort_block_end();
    __atomic_store_n(&ov_blocked_done, 1, __ATOMIC_SEQ_CST);
}

static void ov_sleeper(void *arg)
{
    (void)arg;
    gort_sleep(20 * MS);
    __atomic_store_n(&ov_slept, 1, __ATOMIC_SEQ_CST);
}

static void ov_computer(void *arg)
{
    int64_t end = mono_ns() + (int64_t)(intptr_t)arg * MS;
    unsigned long x = 1;
    while (mono_ns() < end) {
        int i;
        for (i = 0; i < 1000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
    }
    __atomic_store_n(&ov_computed, x | 1, __ATOMIC_SEQ_CST);
}

static void plain_wait_flag(int *flag)
{
    int64_t end = mono_ns() + HANG_MS * MS;
    while (!__atomic_load_n(flag, __ATOMIC_SEQ_CST) && mono_ns() < end)
        plain_sleep_ms(1);
}

static void test_overdue_no_spin(void)
{
    gort_opts o;
    int64_t c0, t0, cpu, wall;
    long compute_ms = test_scale() < 1.0 ? 600 : 300;
    memset(&o, 0, sizeof o);
    o.maxprocs = 1;
    o.handoff_ns = -1;
    o.hog_ns = -1;
    CHECK_EQ(gort_start(&o), 0);
    CHECK_EQ(gort_go(ov_blocker, NULL), 0);
    plain_wait_flag(&ov_blocked_done);
    plain_sleep_ms(20);   /* everyone idle: one M in the poller, one asleep */
    CHECK_EQ(gort_go(ov_sleeper, NULL), 0);
    plain_sleep_ms(5);    /* the sleeper parked on its timer */
    c0 = cpu_ns();
    t0 = mono_ns();
    CHECK_EQ(gort_go(ov_computer, (void *)(intptr_t)compute_ms), 0);
    plain_wait_flag(&ov_computed);
    cpu = cpu_ns() - c0;
    wall = mono_ns() - t0;
    plain_wait_flag(&ov_slept);
    CHECK_EQ(gort_stop(), 0);
    CHECK_EQ(__atomic_load_n(&ov_slept, __ATOMIC_SEQ_CST), 1);
    check_note("overdue timer, the P busy: %.0f ms CPU in %.0f ms", cpu / 1e6, wall / 1e6);
    CHECK(cpu < wall + wall / 2);
}

/* ------------------------------------------------------------ children */

static int *shared_seen;   /* MAP_SHARED: the parent saw the hog report */

enum { CHILD_HOG, CHILD_HOG_OFF, CHILD_POLITE, CHILD_RUN };

struct child_spec {
    int    kind;
    void (*fn)(void *);
    int    maxprocs;
};

/* The child: exits 0 if gort_run returned 0, 42 for -EDEADLK, 3
   otherwise. */
static int spec_child(void *arg)
{
    const struct child_spec *cs = (const struct child_spec *)arg;
    gort_opts opts;
    int rc;
    unsetenv("GORT_HOG_MS");
    memset(&opts, 0, sizeof opts);
    opts.maxprocs = cs->maxprocs;
    opts.hog_ns = cs->kind == CHILD_HOG_OFF ? -1 : 0;   /* 0: the default, 10 ms */
    /* The yielding spinner checks that yields reset the clock: 100 ms is
       still a third of its 300 ms spin, and well above what qemu's first
       translation of a path costs on a loaded machine (at 10 ms the main
       goroutine was named once, between its gort_go and its receive). */
    if (cs->kind == CHILD_POLITE)
        opts.hog_ns = 100 * MS;
    rc = gort_run_opts(&opts, cs->fn, NULL);
    fprintf(stderr, "\n[child: gort_run returned %d]\n", rc);
    return rc == -EDEADLK ? 42 : rc == 0 ? 0 : 3;
}

/* the parent, after each read of the child's stderr */
static void note_hog_report(const struct child *c, void *ctx)
{
    (void)ctx;
    if (strstr(c->err, "has run for"))
        STORE(shared_seen, 1);
}

/* Runs the scenario in a child with stderr on a pipe; alarm(30) turns a
   hang into SIGALRM. While reading, the parent sets *shared_seen as soon
   as the hog report has arrived (the spinner stops then). */
static void run_spec(const struct child_spec *cs, struct child *o)
{
    struct child_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.alarm_s = 30;
    opts.on_output = note_hog_report;
    STORE(shared_seen, 0);
    run_child_opts(spec_child, (void *)cs, &opts, o);
}

static void show(const char *name, const struct child *o)
{
    fprintf(stderr, "---- %s: exit %d, stderr:\n%s\n----\n", name, child_exit_code(o), o->err);
}

/* Non-static: the report names the start function (-rdynamic). */
void hog_spinner(void *arg);
void polite_spinner(void *arg);
void hog_main(void *arg);
void hog_off_main(void *arg);
void polite_main(void *arg);

static volatile unsigned long spin_sink;

void hog_spinner(void *arg)
{
    gort_chan *c = (gort_chan *)((void **)arg)[0];
    int until_seen = (int)(intptr_t)((void **)arg)[1];
    int64_t t0 = mono_ns(), now;
    int v = 1;
    unsigned long x = 0;
    /* No gort call in here: not a scheduling point. At least 100 ms; with
       until_seen, on until the parent saw the report (at most 20 s). */
    do {
        int i;
        for (i = 0; i < 1000; i++)
            x = x * 6364136223846793005UL + 1442695040888963407UL;
        spin_sink = x;
        now = mono_ns();
#if defined(_WIN32)
    /* (the child is another process there: no flag to wait for; 300 ms
       went unnamed once under CI's load, the thread given too little CPU) */
    } while (now - t0 < 100 * MS || (until_seen && now - t0 < 1500 * MS));
#else
    } while (now - t0 < 100 * MS || (until_seen && !LOAD(shared_seen) && now - t0 < 20000 * MS));
#endif
    gort_chan_send(c, &v);
}

void polite_spinner(void *arg)
{
    gort_chan *c = (gort_chan *)arg;
    int64_t t0 = mono_ns();
    int v = 1;
    while (mono_ns() - t0 < 300 * MS) {
        int i;
        unsigned long x = spin_sink;
        for (i = 0; i < 1000; i++)
            x = x * 6364136223846793005UL + 1442695040888963407UL;
        spin_sink = x;
        gort_yield();
    }
    gort_chan_send(c, &v);
}

static void hog_run(int until_seen)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    void *a[2];
    int v = 0;
    a[0] = c;
    a[1] = (void *)(intptr_t)until_seen;
    CHECK_EQ(gort_go(hog_spinner, a), 0);
    CHECK_EQ(gort_chan_recv(c, &v), 1);
    CHECK_EQ(v, 1);
    gort_chan_free(c);
}

void hog_main(void *arg)
{
    (void)arg;
    hog_run(1);
}

void hog_off_main(void *arg)
{
    (void)arg;
    hog_run(0);
}

void polite_main(void *arg)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    int v = 0;
    (void)arg;
    CHECK_EQ(gort_go(polite_spinner, c), 0);
    CHECK_EQ(gort_chan_recv(c, &v), 1);
    gort_chan_free(c);
}

static void test_hog(void)
{
    struct child *o = (struct child *)malloc(sizeof *o);
    static struct child_spec cs;   /* static: on Windows the child is this program run again */
    int fails;
    CHECK(o != NULL);
    if (!o)
        return;

    fails = check_failures();
    cs.kind = CHILD_HOG;
    cs.fn = hog_main;
    cs.maxprocs = 2;
    run_spec(&cs, o);
    CHECK_EQ(child_exit_code(o), 0);
    if (debug_handoff()) {
        check_note("hog report: not under GORT_DEBUG=handoff (the spinner never holds a P long)");
    } else {
        CHECK_EQ(count_str(o->err, "has run for"), 1);   /* named once */
        CHECK(count_str(o->err, "hog_spinner") >= 1);
    }
    if (check_failures() != fails)
        show("hog", o);

    fails = check_failures();
    cs.kind = CHILD_HOG_OFF;
    cs.fn = hog_off_main;
    run_spec(&cs, o);
    CHECK_EQ(child_exit_code(o), 0);
    CHECK_EQ(count_str(o->err, "has run for"), 0);
    if (check_failures() != fails)
        show("hog_ns = -1", o);

    fails = check_failures();
    cs.kind = CHILD_POLITE;
    cs.fn = polite_main;
    run_spec(&cs, o);
    CHECK_EQ(child_exit_code(o), 0);
    CHECK_EQ(count_str(o->err, "has run for"), 0);
    if (check_failures() != fails)
        show("yielding spinner", o);
    free(o);
}

/* -------------- deadlock detection stays exact */

void dl_io_main(void *arg);
void dl_io_reader(void *arg);
void dl_sel_main(void *arg);
void dl_sel_waiter(void *arg);
void dl_sys_main(void *arg);
void dl_sys_worker(void *arg);
void dl_thread_read_main(void *arg);
void dl_io_then_block_main(void *arg);
void dl_sys_then_block_main(void *arg);

static int dl_sv[2];
static gort_chan *dl_c;

/* never calls into gort */
static void *dl_late_writer(void *arg)
{
    (void)arg;
    plain_sleep_ms(100);
    if (write(dl_sv[1], "w", 1) != 1)
        abort();
    return NULL;
}

void dl_io_reader(void *arg)
{
    char c;
    int v;
    (void)arg;
    v = (int)gort_read(dl_sv[0], &c, 1);
    gort_chan_send(dl_c, &v);
}

static void dl_setup(void)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, dl_sv) != 0)
        abort();
    dl_c = gort_chan_make(sizeof(int), 0);
}

static void dl_finish(pthread_t t, int v, int want)
{
    if (v != want) {
        fprintf(stderr, "[child: got %d, want %d]\n", v, want);
        _exit(5);
    }
    gort_block_begin();
    pthread_join(t, NULL);
    gort_block_end();
}

/* a goroutine parked in gort_read; main waits on what it sends after */
void dl_io_main(void *arg)
{
    pthread_t t;
    int v = 0;
    (void)arg;
    dl_setup();
    gort_go(dl_io_reader, NULL);
    pthread_create(&t, NULL, dl_late_writer, NULL);
    gort_chan_recv(dl_c, &v);
    dl_finish(t, v, 1);
}

/* the same with a select over an fd case and a channel nobody uses */
void dl_sel_waiter(void *arg)
{
    gort_case cs[2];
    gort_chan *never = gort_chan_make(sizeof(int), 0);
    int v, r;
    (void)arg;
    memset(cs, 0, sizeof cs);
    cs[0].chan = never;
    cs[0].op = GORT_RECV;
    cs[0].elem = &v;
    cs[1].op = GORT_WAIT_IN;
    cs[1].fd = dl_sv[0];
    r = gort_select(cs, 2, -1);
    v = r == 1 && cs[1].ok == 1 ? 1 : -100 + r;
    gort_chan_send(dl_c, &v);
}

void dl_sel_main(void *arg)
{
    pthread_t t;
    int v = 0;
    (void)arg;
    dl_setup();
    gort_go(dl_sel_waiter, NULL);
    pthread_create(&t, NULL, dl_late_writer, NULL);
    gort_chan_recv(dl_c, &v);
    dl_finish(t, v, 1);
}

/* a goroutine inside gort_block_begin/end for 100 ms */
void dl_sys_worker(void *arg)
{
    int v = 7;
    (void)arg;
    gort_block_begin();
    plain_sleep_ms(100);
    gort_block_end();
    gort_chan_send(dl_c, &v);
}

void dl_sys_main(void *arg)
{
    int v = 0;
    (void)arg;
    dl_c = gort_chan_make(sizeof(int), 0);
    gort_go(dl_sys_worker, NULL);
    gort_chan_recv(dl_c, &v);
    if (v != 7)
        _exit(5);
}

/* a plain thread whose first gort call is a blocking gort_read */
static long dl_reader_tid;   /* atomic */

static void *dl_thread_reader(void *arg)
{
    char c;
    int v;
    (void)arg;
#if defined(_WIN32)
    STORE(&dl_reader_tid, (long)GetCurrentThreadId());
#else
    STORE(&dl_reader_tid, (long)syscall(SYS_gettid));
#endif
    v = (int)gort_read(dl_sv[0], &c, 1);
    gort_chan_send(dl_c, &v);
    return NULL;
}

/* 1 when thread tid is blocked in read(2) or poll(2) (/proc), 0 if not
   (yet), -1 if this cannot be known here */
static int blocked_in_read(long tid)
{
#if defined(_WIN32)
    (void)tid;
    return -1;
#else
    char path[64], buf[64];
    long nr;
    FILE *f;
    snprintf(path, sizeof path, "/proc/self/task/%ld/syscall", tid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    if (!fgets(buf, sizeof buf, f)) {
        fclose(f);
        return -1;
    }
    fclose(f);
    if (sscanf(buf, "%ld", &nr) != 1)
        return 0;   /* "running" */
    return nr == SYS_read
#ifdef SYS_poll
           || nr == SYS_poll
#endif
#ifdef SYS_ppoll
           || nr == SYS_ppoll
#endif
        ;
#endif
}

void dl_thread_read_main(void *arg)
{
    pthread_t t1, t2;
    int v = 0, b = 0;
    int64_t end;
    (void)arg;
    dl_setup();
    pthread_create(&t1, NULL, dl_thread_reader, NULL);
    /* wait (on timers: never a deadlock) until the thread is blocked in its
       read, so that what follows is about a thread inside gort_read; where
       /proc cannot tell, 50 ms make it likely (nothing depends on it) */
    end = gort_now() + 5000 * MS;
    while (gort_now() < end) {
        long tid = LOAD(&dl_reader_tid);
        if (tid && (b = blocked_in_read(tid)) != 0)
            break;
        gort_sleep(1 * MS);
    }
    if (b != 1)
        gort_sleep(50 * MS);
    pthread_create(&t2, NULL, dl_late_writer, NULL);
    gort_chan_recv(dl_c, &v);
    dl_finish(t2, v, 1);
    gort_block_begin();
    pthread_join(t1, NULL);
    gort_block_end();
}

/* controls: once the read / the blocking call is over, blocking forever
   is a deadlock again */
void dl_io_then_block_main(void *arg)
{
    pthread_t t;
    int v = 0;
    (void)arg;
    dl_setup();
    gort_go(dl_io_reader, NULL);
    pthread_create(&t, NULL, dl_late_writer, NULL);
    gort_chan_recv(dl_c, &v);
    dl_finish(t, v, 1);
    gort_chan_recv(dl_c, &v);   /* nobody sends again */
}

void dl_sys_then_block_main(void *arg)
{
    int v = 0;
    (void)arg;
    dl_sys_main(NULL);
    gort_chan_recv(dl_c, &v);   /* nobody sends again */
}

static void test_deadlock_exact(void)
{
    static const struct {
        const char *name;
        void (*fn)(void *);
        int want;
    } cases[] = {
        { "goroutine in gort_read", dl_io_main, 0 },
        { "goroutine in select with an fd case", dl_sel_main, 0 },
        { "goroutine in gort_block_begin/end", dl_sys_main, 0 },
        { "plain thread in gort_read", dl_thread_read_main, 0 },
        { "after gort_read, block forever", dl_io_then_block_main, 42 },
        { "after block_begin/end, block forever", dl_sys_then_block_main, 42 },
    };
    struct child *o = (struct child *)malloc(sizeof *o);
    size_t i;
    int procs;
    CHECK(o != NULL);
    if (!o)
        return;
    for (procs = 1; procs <= 2; procs++) {
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            static struct child_spec cs;   /* static: see test_hog */
            int fails = check_failures();
            cs.kind = CHILD_RUN;
            cs.fn = cases[i].fn;
            cs.maxprocs = procs;
            run_spec(&cs, o);
            CHECK_EQ(child_exit_code(o), cases[i].want);
            if (cases[i].want == 0)
                CHECK_EQ(count_str(o->err, "deadlock"), 0);
            else
                CHECK(count_str(o->err, "all goroutines are asleep - deadlock!") == 1);
            if (check_failures() != fails) {
                char name[128];
                snprintf(name, sizeof name, "%s (maxprocs %d)", cases[i].name, procs);
                show(name, o);
            }
        }
    }
    free(o);
}

/* ------------------------------------------------------------ driver */

int main(void)
{
    gort_opts o;
#if defined(_WIN32)
    static int seen;   /* the parent's own: a child cannot see it (hog_spinner) */
    WSADATA wd;
    shared_seen = &seen;
    CHECK_EQ(WSAStartup(MAKEWORD(2, 2), &wd), 0);
#else
    shared_seen = (int *)mmap(NULL, sizeof *shared_seen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared_seen != MAP_FAILED);
    if (shared_seen == MAP_FAILED)
        return check_done();
#endif

    /* children first: fork() from a process with no runtime threads */
    test_hog();
    test_deadlock_exact();

    memset(&o, 0, sizeof o);
    o.maxprocs = 1;
    CHECK_EQ(gort_run_opts(&o, handoff_main, NULL), 0);
    for (o.maxprocs = 1; o.maxprocs <= 2; o.maxprocs++)
        CHECK_EQ(gort_run_opts(&o, many_blocked_main, NULL), 0);
    test_idle();
    test_overdue_no_spin();
    o.maxprocs = 1;
    CHECK_EQ(gort_run_opts(&o, deep_wake_main, NULL), 0);
    return check_done();
}
