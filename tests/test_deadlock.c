/* test_deadlock.c - gort_run's deadlock detection, in child processes.

   Each scenario runs in a fork()ed child whose stderr goes to a pipe; the
   child runs gort_run and exits 42 if it returned -EDEADLK, 0 if it
   returned 0, 3 otherwise (an alarm turns a hang into SIGALRM). The
   parent checks the exit status and the captured stderr.

   Deadlocks that must be reported (-EDEADLK, "all goroutines are asleep -
   deadlock!" and a dump naming each goroutine's state and start function;
   the main goroutine's may say "main"): main blocked receiving from a
   channel nobody sends to; many goroutines blocked in chan send, chan
   receive, select, mutex, waitgroup and cond at once; everyone on a
   mutex; a WaitGroup that never reaches zero; select {}; receive from the
   nil channel; a deadlock that only begins after a timer fired; a
   deadlock after the only outside thread that had called into gort
   exited; and a second gort_run in the same process after a deadlocked
   one works.

   Not deadlocks (gort_run returns 0): main waits for a goroutine that
   sends after gort_sleep(50 ms); for a plain thread that has called
   gort_chan_try_recv and sends after a plain 50 ms nanosleep; for a
   goroutine parked in gort_read on a pipe that a plain thread writes
   after 50 ms; for a goroutine inside gort_block_begin/end; for a token
   passed around a ring of 1000 goroutines. */
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
#include <fcntl.h>
#include <io.h>
#define pipe(fds) _pipe((fds), 4096, _O_BINARY)
#else
#include <sys/wait.h>
#include <unistd.h>
#endif

#define MS 1000000LL
#define DEADLOCK_MSG "all goroutines are asleep - deadlock!"

/* gort_sleep-polls (so a timer is always pending: never a deadlock)
   until *p is set */
static void poll_flag(int *p)
{
    while (!LOAD(p))
        gort_sleep(1 * MS);
}

/* ------------------------------------------------------------ scenarios
   Non-static so that the dump can name them (the harness links with
   -rdynamic). The main goroutine's entry may name either the function
   given to gort_run or "main" (gort names it "main"): the checks look for
   "main", which matches both. */

void dl_recv_main(void *arg);
void dl_many_main(void *arg);
void dl_sender(void *arg);
void dl_receiver(void *arg);
void dl_selecter(void *arg);
void dl_locker(void *arg);
void dl_wg_waiter(void *arg);
void dl_cond_waiter(void *arg);
void dl_mutex_main(void *arg);
void dl_wg_main(void *arg);
void dl_select_main(void *arg);
void dl_nil_main(void *arg);
void dl_after_timer_main(void *arg);
void dl_late_blocker(void *arg);
void dl_thread_exited_main(void *arg);
void ok_sleeper_main(void *arg);
void ok_late_sender(void *arg);
void ok_thread_main(void *arg);
void ok_io_main(void *arg);
void ok_io_reader(void *arg);
void ok_syscall_main(void *arg);
void ok_syscall_worker(void *arg);
void ok_ring_main(void *arg);
void ok_ring_link(void *arg);
void ok_simple_main(void *arg);

/* main receives from a channel nobody will ever send to */
void dl_recv_main(void *arg)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    int v;
    (void)arg;
    gort_chan_recv(c, &v);
}

static gort_mutex dl_mu = GORT_MUTEX_INIT;
static gort_wg    dl_wg = GORT_WG_INIT;
static gort_cond  dl_cv = GORT_COND_INIT;
static gort_mutex dl_cv_mu = GORT_MUTEX_INIT;
static int        dl_started;   /* atomic */

void dl_sender(void *arg)
{
    int v = 1;
    ADD(&dl_started, 1);
    gort_chan_send((gort_chan *)arg, &v);
}

void dl_receiver(void *arg)
{
    int v;
    ADD(&dl_started, 1);
    gort_chan_recv((gort_chan *)arg, &v);
}

void dl_selecter(void *arg)
{
    gort_case cs[2];
    int v = 0;
    cs[0].chan = (gort_chan *)arg; cs[0].op = GORT_RECV; cs[0].elem = &v; cs[0].ok = -1;
    cs[1].chan = NULL; cs[1].op = GORT_SEND; cs[1].elem = &v; cs[1].ok = -1;
    ADD(&dl_started, 1);
    gort_select(cs, 2, -1);
}

void dl_locker(void *arg)
{
    (void)arg;
    ADD(&dl_started, 1);
    gort_mutex_lock(&dl_mu);   /* main holds it */
}

void dl_wg_waiter(void *arg)
{
    (void)arg;
    ADD(&dl_started, 1);
    gort_wg_wait(&dl_wg);
}

void dl_cond_waiter(void *arg)
{
    (void)arg;
    gort_mutex_lock(&dl_cv_mu);
    ADD(&dl_started, 1);
    gort_cond_wait(&dl_cv, &dl_cv_mu);
    gort_mutex_unlock(&dl_cv_mu);
}

/* every kind of blocked goroutine at once */
void dl_many_main(void *arg)
{
    gort_chan *a = gort_chan_make(sizeof(int), 0);
    gort_chan *b = gort_chan_make(sizeof(int), 0);
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    gort_chan *m = gort_chan_make(sizeof(int), 0);
    int v;
    (void)arg;
    gort_mutex_lock(&dl_mu);
    gort_wg_add(&dl_wg, 1);
    gort_go(dl_sender, a);
    gort_go(dl_receiver, b);
    gort_go(dl_selecter, c);
    gort_go(dl_locker, NULL);
    gort_go(dl_wg_waiter, NULL);
    gort_go(dl_cond_waiter, NULL);
    while (LOAD(&dl_started) < 6)
        gort_sleep(1 * MS);
    gort_chan_recv(m, &v);
}

/* everyone on one mutex */
void dl_mutex_main(void *arg)
{
    (void)arg;
    gort_mutex_lock(&dl_mu);
    gort_go(dl_locker, NULL);
    gort_go(dl_locker, NULL);
    gort_mutex_lock(&dl_mu);   /* not recursive: blocks forever */
}

/* a WaitGroup that never reaches zero */
void dl_wg_main(void *arg)
{
    (void)arg;
    gort_wg_add(&dl_wg, 2);
    gort_go(dl_wg_waiter, NULL);
    gort_wg_done(&dl_wg);
    gort_wg_wait(&dl_wg);
}

void dl_select_main(void *arg)
{
    (void)arg;
    gort_select(NULL, 0, -1);
}

void dl_nil_main(void *arg)
{
    int v;
    (void)arg;
    gort_chan_recv(NULL, &v);
}

/* the deadlock only begins after a sleeping goroutine wakes and blocks */
void dl_late_blocker(void *arg)
{
    int v;
    gort_sleep(100 * MS);
    gort_chan_recv((gort_chan *)arg, &v);
}

void dl_after_timer_main(void *arg)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    int v;
    (void)arg;
    gort_go(dl_late_blocker, c);
    gort_chan_recv(c, &v);
}

/* the only outside thread that called into gort has exited */
static int th_called;   /* atomic */

static void *short_thread(void *arg)
{
    int v;
    gort_chan_try_recv((gort_chan *)arg, &v);
    STORE(&th_called, 1);
    return NULL;
}

void dl_thread_exited_main(void *arg)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    pthread_t t;
    int v;
    (void)arg;
    pthread_create(&t, NULL, short_thread, c);
    poll_flag(&th_called);
    gort_block_begin();
    pthread_join(t, NULL);
    gort_block_end();
    gort_chan_recv(c, &v);
}

/* ------------------------------------------------------------ not deadlocks */

void ok_late_sender(void *arg)
{
    int v = 7;
    gort_sleep(50 * MS);
    gort_chan_send((gort_chan *)arg, &v);
}

static int ok_got;

void ok_sleeper_main(void *arg)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    (void)arg;
    gort_go(ok_late_sender, c);
    if (gort_chan_recv(c, &ok_got) != 1 || ok_got != 7)
        _exit(5);
}

static int th_ready;   /* atomic */

static void *late_thread(void *arg)
{
    gort_chan *c = (gort_chan *)arg;
    int v = 9;
    gort_chan_try_recv(c, &v);   /* the thread has now called into gort */
    STORE(&th_ready, 1);
    plain_sleep_ms(50);          /* not a gort call: the runtime cannot see it */
    v = 9;
    gort_chan_send(c, &v);
    return NULL;
}

void ok_thread_main(void *arg)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    pthread_t t;
    int v = 0;
    (void)arg;
    pthread_create(&t, NULL, late_thread, c);
    poll_flag(&th_ready);
    if (gort_chan_recv(c, &v) != 1 || v != 9)
        _exit(5);
    gort_block_begin();
    pthread_join(t, NULL);
    gort_block_end();
}

static int io_pipe[2];

static void *pipe_writer(void *arg)
{
    (void)arg;
    plain_sleep_ms(50);
    if (write(io_pipe[1], "x", 1) != 1)
        _exit(6);
    return NULL;
}

void ok_io_reader(void *arg)
{
    char ch = 0;
    int v;
    v = (int)gort_read(io_pipe[0], &ch, 1);
    if (v == 1 && ch == 'x')
        v = 11;
    gort_chan_send((gort_chan *)arg, &v);
}

void ok_io_main(void *arg)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    pthread_t t;
    int v = 0;
    (void)arg;
    if (pipe(io_pipe) != 0)
        _exit(6);
    gort_go(ok_io_reader, c);
    pthread_create(&t, NULL, pipe_writer, NULL);   /* never calls into gort */
    if (gort_chan_recv(c, &v) != 1 || v != 11)
        _exit(5);
    gort_block_begin();
    pthread_join(t, NULL);
    gort_block_end();
}

void ok_syscall_worker(void *arg)
{
    int v = 13;
    gort_block_begin();
    plain_sleep_ms(50);
    gort_block_end();
    gort_chan_send((gort_chan *)arg, &v);
}

void ok_syscall_main(void *arg)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    int v = 0;
    (void)arg;
    gort_go(ok_syscall_worker, c);
    if (gort_chan_recv(c, &v) != 1 || v != 13)
        _exit(5);
}

/* a token passed around a ring; every goroutine but one is always
   blocked, yet something can always run */
enum { RING = 1000 };
static gort_chan *ring[RING + 1];

void ok_ring_link(void *arg)
{
    int i = (int)(intptr_t)arg, v;
    while (gort_chan_recv(ring[i], &v) == 1) {
        v++;
        if (gort_chan_send(ring[i + 1], &v) != 0)
            break;
    }
}

void ok_ring_main(void *arg)
{
    int i, lap, v = 0;
    (void)arg;
    for (i = 0; i <= RING; i++)
        ring[i] = gort_chan_make(sizeof(int), 0);
    for (i = 0; i < RING; i++)
        gort_go(ok_ring_link, (void *)(intptr_t)i);
    for (lap = 0; lap < 5; lap++) {
        gort_chan_send(ring[0], &v);
        gort_chan_recv(ring[RING], &v);
    }
    if (v != 5 * RING)
        _exit(5);
}

void ok_simple_main(void *arg)
{
    (void)arg;
    gort_sleep(1 * MS);
}

/* ------------------------------------------------------------ parent side */

/* seconds before a child that hangs is killed; more on slow
   configurations (Valgrind, qemu); set in main, before any fork */
static unsigned alarm_s = 20;

/* how the child runs the scenario */
enum { ONCE, DEADLOCK_THEN_OK };

struct scenario {
    void (*fn)(void *);
    int    how;
};

/* The child: exits 42 if gort_run returned -EDEADLK, 0 if it returned 0,
   3 otherwise; DEADLOCK_THEN_OK: after the deadlock a second gort_run,
   43 if that returned 0. */
static int scenario_child(void *arg)
{
    const struct scenario *sc = (const struct scenario *)arg;
    int rc = gort_run(sc->fn, NULL);
    fprintf(stderr, "\n[child: gort_run returned %d]\n", rc);
    if (sc->how == DEADLOCK_THEN_OK) {
        int rc2;
        if (rc != -EDEADLK)
            return 3;
        rc2 = gort_run(ok_simple_main, NULL);
        fprintf(stderr, "[child: second gort_run returned %d]\n", rc2);
        return rc2 == 0 ? 43 : 4;
    }
    return rc == -EDEADLK ? 42 : rc == 0 ? 0 : 3;
}

/* a missed deadlock would hang: the alarm kills the child instead */
static void run_scenario(void (*fn)(void *), int how, struct child *o)
{
    static struct scenario sc;   /* static: on Windows the child gets it by copy (util.h) */
    sc.fn = fn;
    sc.how = how;
    run_child(scenario_child, &sc, alarm_s, o);
}

static void show(const char *name, const struct child *o)
{
    fprintf(stderr, "---- %s: status 0x%x, child stderr:\n%s\n---- end %s\n",
            name, o->status, o->err, name);
}

static struct child out;

static void expect_deadlock(const char *name, void (*fn)(void *),
                            const char *const *states, const char *const *fns)
{
    int fails = check_failures(), i;
    run_scenario(fn, ONCE, &out);
    CHECK_EQ(child_exit_code(&out), 42);
    CHECK(child_has(&out, DEADLOCK_MSG));
    CHECK(child_has(&out, "goroutine "));
    for (i = 0; states && states[i]; i++) {
        if (!child_entry_has(&out, states[i], fns ? fns[i] : NULL)) {
            fprintf(stderr, "%s: no dump entry with \"%s\"%s%s\n", name, states[i],
                    fns && fns[i] ? " and " : "", fns && fns[i] ? fns[i] : "");
            CHECK(!"dump entry missing");
        }
    }
    if (check_failures() != fails)
        show(name, &out);
}

static void expect_ok(const char *name, void (*fn)(void *))
{
    int fails = check_failures();
    run_scenario(fn, ONCE, &out);
    CHECK_EQ(child_exit_code(&out), 0);
    CHECK(!child_has(&out, "deadlock"));
    if (check_failures() != fails)
        show(name, &out);
}

int main(void)
{
    if (check_scale(1000) < 1000)
        alarm_s = 200;
    {
        static const char *const st[] = { "chan receive", NULL };
        static const char *const fn[] = { "main", NULL };
        expect_deadlock("recv", dl_recv_main, st, fn);
    }
    {
        static const char *const st[] = { "chan receive", "chan send", "chan receive",
                                          "select", "mutex", "waitgroup", "cond", NULL };
        static const char *const fn[] = { "main", "dl_sender", "dl_receiver",
                                          "dl_selecter", "dl_locker", "dl_wg_waiter",
                                          "dl_cond_waiter", NULL };
        expect_deadlock("many", dl_many_main, st, fn);
    }
    {
        static const char *const st[] = { "mutex", NULL };
        static const char *const fn[] = { "main", NULL };
        expect_deadlock("mutex", dl_mutex_main, st, fn);
    }
    {
        static const char *const st[] = { "waitgroup", "waitgroup", NULL };
        static const char *const fn[] = { "main", "dl_wg_waiter", NULL };
        expect_deadlock("waitgroup", dl_wg_main, st, fn);
    }
    {
        static const char *const st[] = { "select", NULL };
        expect_deadlock("select{}", dl_select_main, st, NULL);
    }
    {
        static const char *const st[] = { "nil chan", NULL };
        expect_deadlock("nil chan", dl_nil_main, st, NULL);
    }
    {
        static const char *const st[] = { "chan receive", "chan receive", NULL };
        static const char *const fn[] = { "main", "dl_late_blocker", NULL };
        expect_deadlock("after timer", dl_after_timer_main, st, fn);
    }
    {
        static const char *const st[] = { "chan receive", NULL };
        expect_deadlock("thread exited", dl_thread_exited_main, st, NULL);
    }
    {
        int fails = check_failures();
        run_scenario(dl_recv_main, DEADLOCK_THEN_OK, &out);
        CHECK_EQ(child_exit_code(&out), 43);
        if (check_failures() != fails)
            show("run again", &out);
    }

    expect_ok("sleeper", ok_sleeper_main);
    expect_ok("thread", ok_thread_main);
    expect_ok("io", ok_io_main);
    expect_ok("syscall", ok_syscall_main);
    expect_ok("ring", ok_ring_main);
    return check_done();
}
