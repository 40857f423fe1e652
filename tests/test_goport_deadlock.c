/* test_goport_deadlock.c - Go 1.19's deadlock crash tests
   (runtime/crash_test.go with testdata/testprog/deadlock.go and
   testprognet/net.go), ported to gort.

   Each scenario runs in a fork()ed child (on Windows: this program run
   again, util.h's util_spawn) whose stderr goes to a pipe; the
   child exits 42 if gort_run returned -EDEADLK, 0 if it returned 0, 3
   otherwise (an alarm turns a hang into SIGALRM). The parent checks the
   exit status, the report text and, for the timer cases, the time.

   Deadlocks (-EDEADLK, "all goroutines are asleep - deadlock!" and a dump
   entry per blocked goroutine with its state and start function):
     - TestSimpleDeadlock: main in select {};
     - TestInitDeadlock: a "package init" (gort_once_do's function) blocks
       forever, and a goroutine waits for the same once;
     - TestLockedDeadlock2 (without LockOSThread, which C has no use for):
       a goroutine in select {} and main in select {} after a sleep;
     - lock-order deadlock: two goroutines take two mutexes in opposite
       orders, main waits on a WaitGroup;
     - recursive read locking: a reader asks for the read lock again while
       a writer waits (Go's documented RWMutex rule);
     - main calls gort_exit while another goroutine is blocked: the report
       is "all goroutines are asleep" (as Go's checkdead: some goroutine
       still exists), naming the blocked one;
     - TestNetpollDeadlock, turned around: after the netpoller was used
       (a refused connect, a timed-out gort_wait_fd) a deadlock is still
       found.
   "no goroutines (main called gort_exit) - deadlock!":
     - TestGoexitDeadlock: main starts two goroutines that finish and
       calls gort_exit;
     - GoexitExit: main calls gort_exit while a goroutine sleeps 200 ms
       (scaled up on slow configurations): no report while the timer is
       pending (the sleeper's marker comes first and the child lives at
       least that long), the report once it has ended.
   Not deadlocks:
     - TestNetpollDeadlock: connect to a port nobody listens on, get
       -ECONNREFUSED, return: gort_run returns 0;
     - a goroutine in gort_sleep(INT64_MAX) and main in a select with a
       huge timeout: pending timers, so no report; the child is still
       alive (killed by our 1 s alarm), as in Go where checkdead returns
       while any timer is pending.
   Not ported: the panic/recover, stack overflow (see test_stack.c), thread
   exhaustion, LockOSThread and GC crash tests. */
#define _GNU_SOURCE
// gort-test: windows
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if !defined(_WIN32)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#define MS 1000000LL
#define DEADLOCK_MSG "all goroutines are asleep - deadlock!"
#define GOEXIT_MSG   "no goroutines (main called gort_exit) - deadlock!"
#define TIMER_MARK   "[sleeper: timer fired]"

struct scenario {
    void (*fn)(void *);
};

/* Non-static so that the dump can name them (-rdynamic). */
void gp_simple_main(void *arg);
void gp_init_main(void *arg);
void gp_init_caller(void *arg);
void gp_locked2_main(void *arg);
void gp_select_forever(void *arg);
void gp_lock_order_main(void *arg);
void gp_ab_locker(void *arg);
void gp_ba_locker(void *arg);
void gp_rlock_main(void *arg);
void gp_writer(void *arg);
void gp_goexit_main(void *arg);
void gp_spinner(void *arg);
void gp_goexit_blocked_main(void *arg);
void gp_blocked_receiver(void *arg);
void gp_goexit_timer_main(void *arg);
void gp_sleeper(void *arg);
void gp_netpoll_ok_main(void *arg);
void gp_netpoll_dead_main(void *arg);
void gp_huge_timer_main(void *arg);
void gp_huge_sleeper(void *arg);

/* ------------------------------------------------------------ scenarios */

/* Go: runtime/crash_test.go TestSimpleDeadlock (deadlock.go SimpleDeadlock) */
void gp_simple_main(void *arg)
{
    (void)arg;
    gort_select(NULL, 0, -1);
}

/* Go: runtime/crash_test.go TestInitDeadlock. Go's program deadlocks in a
   package init; the C analogue of init is a gort_once_do function. */
static gort_once gp_once = GORT_ONCE_INIT;

static void gp_init_fn(void)
{
    gort_go(gp_init_caller, NULL);   /* started here: main is the first caller */
    gort_select(NULL, 0, -1);
}

void gp_init_caller(void *arg)
{
    (void)arg;
    gort_once_do(&gp_once, gp_init_fn);   /* waits for the first caller */
}

void gp_init_main(void *arg)
{
    (void)arg;
    gort_once_do(&gp_once, gp_init_fn);
}

/* Go: runtime/crash_test.go TestLockedDeadlock2, without LockOSThread */
void gp_select_forever(void *arg)
{
    (void)arg;
    gort_select(NULL, 0, -1);
}

void gp_locked2_main(void *arg)
{
    (void)arg;
    gort_go(gp_select_forever, NULL);
    gort_sleep(1 * MS);
    gort_select(NULL, 0, -1);
}

/* lock-order deadlock: A then B against B then A */
static gort_mutex gp_mu_a = GORT_MUTEX_INIT, gp_mu_b = GORT_MUTEX_INIT;
static gort_wg    gp_held = GORT_WG_INIT, gp_finished = GORT_WG_INIT;

void gp_ab_locker(void *arg)
{
    (void)arg;
    gort_mutex_lock(&gp_mu_a);
    gort_wg_done(&gp_held);
    gort_wg_wait(&gp_held);          /* both hold their first lock */
    gort_mutex_lock(&gp_mu_b);
    gort_mutex_unlock(&gp_mu_b);
    gort_mutex_unlock(&gp_mu_a);
    gort_wg_done(&gp_finished);
}

void gp_ba_locker(void *arg)
{
    (void)arg;
    gort_mutex_lock(&gp_mu_b);
    gort_wg_done(&gp_held);
    gort_wg_wait(&gp_held);
    gort_mutex_lock(&gp_mu_a);
    gort_mutex_unlock(&gp_mu_a);
    gort_mutex_unlock(&gp_mu_b);
    gort_wg_done(&gp_finished);
}

void gp_lock_order_main(void *arg)
{
    (void)arg;
    gort_wg_add(&gp_held, 2);
    gort_wg_add(&gp_finished, 2);
    gort_go(gp_ab_locker, NULL);
    gort_go(gp_ba_locker, NULL);
    gort_wg_wait(&gp_finished);
}

/* recursive read locking with a writer waiting in between */
static gort_rwmutex gp_rw = GORT_RWMUTEX_INIT;
static int gp_writer_started;   /* atomic */

void gp_writer(void *arg)
{
    (void)arg;
    STORE(&gp_writer_started, 1);
    gort_rwmutex_lock(&gp_rw);   /* waits for main's read lock */
    gort_rwmutex_unlock(&gp_rw);
}

void gp_rlock_main(void *arg)
{
    (void)arg;
    gort_rwmutex_rlock(&gp_rw);
    gort_go(gp_writer, NULL);
    while (!LOAD(&gp_writer_started))
        gort_sleep(1 * MS);
    gort_sleep(20 * MS);            /* the writer queues */
    gort_rwmutex_rlock(&gp_rw);     /* queues behind the writer: forever */
    gort_rwmutex_runlock(&gp_rw);
    gort_rwmutex_runlock(&gp_rw);
}

/* Go: runtime/crash_test.go TestGoexitDeadlock (deadlock.go GoexitDeadlock) */
void gp_spinner(void *arg)
{
    volatile int i;
    (void)arg;
    for (i = 0; i < 10; i++)
        ;
}

void gp_goexit_main(void *arg)
{
    (void)arg;
    gort_go(gp_spinner, NULL);
    gort_go(gp_spinner, NULL);
    gort_exit();
}

/* main calls gort_exit while another goroutine is blocked for ever */
void gp_blocked_receiver(void *arg)
{
    int v;
    gort_chan_recv((gort_chan *)arg, &v);
}

void gp_goexit_blocked_main(void *arg)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    (void)arg;
    gort_go(gp_blocked_receiver, c);
    gort_sleep(1 * MS);
    gort_exit();
}

/* Go: deadlock.go GoexitExit: a sleeping goroutine keeps the program
   alive after main's gort_exit; the report comes when it has ended */
/* 200 ms; 1 s on the slow configurations, to outlast slow start-up
   (Valgrind, qemu). Worked out where used: on Windows the child is this
   program run again, and main has not run in it. */
static int64_t gp_sleep_ns(void)
{
    return check_scale(1000) < 1000 ? 1000 * MS : 200 * MS;
}

void gp_sleeper(void *arg)
{
    static const char mark[] = TIMER_MARK "\n";
    ssize_t n;
    (void)arg;
    gort_sleep(gp_sleep_ns());
    n = write(2, mark, sizeof mark - 1);
    (void)n;
}

void gp_goexit_timer_main(void *arg)
{
    (void)arg;
    gort_go(gp_sleeper, NULL);
    gort_exit();
}

/* Go: runtime/crash_test.go TestNetpollDeadlock (testprognet
   NetpollDeadlock): a connect that is refused does not hang the program.
   Returns the connect's result, or 1 if no refused port could be set up. */
static int refused_connect(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int s, rc;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* a port that was free a moment ago: bind to port 0, note it, close */
    s = (int)socket(AF_INET, SOCK_STREAM, 0);   /* (a SOCKET on Windows: it fits) */
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(s, (struct sockaddr *)&sa, &len) != 0) {
        if (s >= 0)
            gort_close(s);
        return 1;
    }
    gort_close(s);
    s = (int)socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return 1;
    rc = gort_connect(s, (struct sockaddr *)&sa, sizeof sa);
    gort_close(s);
    return rc;
}

void gp_netpoll_ok_main(void *arg)
{
    int rc;
    (void)arg;
    fprintf(stderr, "dialing\n");
    rc = refused_connect();
    fprintf(stderr, "connect: %d\ndone\n", rc);
}

void gp_netpoll_dead_main(void *arg)
{
    int p[2], rc, v;
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    (void)arg;
    rc = refused_connect();
    fprintf(stderr, "connect: %d\n", rc);
    if (tcp_pair(p) == 0) {   /* pollable on Windows too */
        rc = gort_wait_fd(p[0], GORT_IN, 1 * MS);
        fprintf(stderr, "wait_fd: %d\n", rc);
    }
    gort_chan_recv(c, &v);
}

/* A timer that will never fire in practice is still a pending timer */
void gp_huge_sleeper(void *arg)
{
    (void)arg;
    gort_sleep(INT64_MAX);
}

void gp_huge_timer_main(void *arg)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    gort_case cs;
    int v;
    (void)arg;
    gort_go(gp_huge_sleeper, NULL);
    cs.chan = c; cs.op = GORT_RECV; cs.elem = &v; cs.ok = -1;
    gort_select(&cs, 1, INT64_MAX);
}

/* ------------------------------------------------------------ harness */

static unsigned alarm_s = 20;   /* more on slow configurations; set in main */

/* The child: exits 42 if gort_run returned -EDEADLK, 0 if it returned 0,
   3 otherwise. */
static int scenario_child(void *sc)
{
    int rc = gort_run(((const struct scenario *)sc)->fn, NULL);
    fprintf(stderr, "\n[child: gort_run returned %d]\n", rc);
    return rc == -EDEADLK ? 42 : rc == 0 ? 0 : 3;
}

/* a missed deadlock would hang: the alarm kills the child instead */
static void run_scenario(void (*fn)(void *), unsigned alarm_after, struct child *o)
{
    static struct scenario sc;   /* static: on Windows the child is this program run again */
    sc.fn = fn;
    run_child(scenario_child, &sc, alarm_after, o);
}

/* How many dump entries mention state? */
static int entries_with(const struct child *o, const char *state)
{
    const char *p = o->err;
    int n = 0;
    while ((p = strstr(p, "goroutine ")) != NULL) {
        const char *end = strstr(p + 1, "\ngoroutine ");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *s = strstr(p, state);
        if (s && (size_t)(s - p) < len)
            n++;
        p += 1;
    }
    return n;
}

static void show(const char *name, const struct child *o)
{
    fprintf(stderr, "---- %s: status 0x%x, %.0f ms, child stderr:\n%s\n---- end %s\n",
            name, o->status, (double)o->ns / 1e6, o->err, name);
}

static struct child out;

/* "what: -E...\n", as the child prints an error (errno values differ
   between systems) */
static const char *errline(const char *what, int rc)
{
    static char buf[4][64];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, sizeof buf[0], "%s: %d\n", what, rc);
    return b;
}

/* states[i] with fns[i] (NULL: any function) must each have an entry */
static void expect_deadlock(const char *name, void (*fn)(void *),
                            const char *const *states, const char *const *fns)
{
    int fails = check_failures(), i;
    run_scenario(fn, alarm_s, &out);
    CHECK_EQ(child_exit_code(&out), 42);
    CHECK(child_has(&out, DEADLOCK_MSG));
    CHECK(!child_has(&out, GOEXIT_MSG));
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

/* Go: runtime/crash_test.go TestSimpleDeadlock */
static void test_simple_deadlock(void)
{
    static const char *const st[] = { "select", NULL };
    static const char *const fn[] = { "main", NULL };
    expect_deadlock("SimpleDeadlock", gp_simple_main, st, fn);
}

/* Go: runtime/crash_test.go TestInitDeadlock */
static void test_init_deadlock(void)
{
    static const char *const st[] = { "select", "mutex", NULL };
    static const char *const fn[] = { "main", "gp_init_caller", NULL };
    expect_deadlock("InitDeadlock", gp_init_main, st, fn);
}

/* Go: runtime/crash_test.go TestLockedDeadlock2 */
static void test_select_forever_deadlock(void)
{
    static const char *const st[] = { "select", "select", NULL };
    static const char *const fn[] = { "main", "gp_select_forever", NULL };
    int fails = check_failures();
    expect_deadlock("LockedDeadlock2", gp_locked2_main, st, fn);
    CHECK_EQ(entries_with(&out, "select"), 2);
    if (check_failures() != fails)
        show("LockedDeadlock2", &out);
}

/* lock-order (ABBA) deadlock between two mutexes */
static void test_lock_order_deadlock(void)
{
    static const char *const st[] = { "mutex", "mutex", "waitgroup", NULL };
    static const char *const fn[] = { "gp_ab_locker", "gp_ba_locker", "main", NULL };
    expect_deadlock("lock order", gp_lock_order_main, st, fn);
}

/* Go: sync.RWMutex's rule (a blocked Lock excludes new readers), which
   makes recursive read locking a deadlock */
static void test_recursive_rlock_deadlock(void)
{
    static const char *const st[] = { "rwmutex", "rwmutex", NULL };
    static const char *const fn[] = { "main", "gp_writer", NULL };
    expect_deadlock("recursive rlock", gp_rlock_main, st, fn);
}

/* Go's checkdead: main's Goexit with a goroutine still blocked is "all
   goroutines are asleep" */
static void test_goexit_with_blocked_goroutine(void)
{
    static const char *const st[] = { "chan receive", NULL };
    static const char *const fn[] = { "gp_blocked_receiver", NULL };
    expect_deadlock("goexit, one blocked", gp_goexit_blocked_main, st, fn);
}

/* Go: runtime/crash_test.go TestNetpollDeadlock, the other way round */
static void test_deadlock_after_netpoll(void)
{
    static const char *const st[] = { "chan receive", NULL };
    static const char *const fn[] = { "main", NULL };
    int fails = check_failures();
    expect_deadlock("netpoll then deadlock", gp_netpoll_dead_main, st, fn);
    CHECK(child_has(&out, errline("connect", -ECONNREFUSED)));
    CHECK(child_has(&out, errline("wait_fd", -ETIMEDOUT)));
    if (check_failures() != fails)
        show("netpoll then deadlock", &out);
}

/* Go: runtime/crash_test.go TestGoexitDeadlock */
static void test_goexit_deadlock(void)
{
    int fails = check_failures();
    run_scenario(gp_goexit_main, alarm_s, &out);
    CHECK_EQ(child_exit_code(&out), 42);
    CHECK(child_has(&out, GOEXIT_MSG));
    CHECK(!child_has(&out, DEADLOCK_MSG));
    if (check_failures() != fails)
        show("GoexitDeadlock", &out);
}

/* Go: deadlock.go GoexitExit (TestGoexitExit was dropped from Go's
   crash_test.go, the program is still in testprog): no report while a
   timer is pending, the report after */
static void test_goexit_timer(void)
{
    int fails = check_failures();
    const char *mark, *msg;
    run_scenario(gp_goexit_timer_main, alarm_s, &out);
    CHECK_EQ(child_exit_code(&out), 42);
    mark = strstr(out.err, TIMER_MARK);
    msg = strstr(out.err, GOEXIT_MSG);
    CHECK(mark != NULL);
    CHECK(msg != NULL);
    CHECK(mark && msg && mark < msg);      /* nothing reported before it fired */
    CHECK(out.ns >= gp_sleep_ns());        /* the child lived that long */
    CHECK(!child_has(&out, DEADLOCK_MSG));
    if (check_failures() != fails)
        show("GoexitExit", &out);
}

/* Go: runtime/crash_test.go TestNetpollDeadlock */
static void test_netpoll_no_deadlock(void)
{
    int fails = check_failures();
    run_scenario(gp_netpoll_ok_main, alarm_s, &out);
    CHECK_EQ(child_exit_code(&out), 0);
    CHECK(child_has(&out, "dialing\n"));
    CHECK(child_has(&out, errline("connect", -ECONNREFUSED)) || child_has(&out, "connect: 1\n"));
    CHECK(child_has(&out, "done\n"));
    CHECK(!child_has(&out, "deadlock"));
    if (check_failures() != fails)
        show("NetpollDeadlock", &out);
}

/* A pending timer, however far away, is not a deadlock: the child runs
   until our alarm ends it */
static void test_huge_timer_is_not_deadlock(void)
{
    int fails = check_failures();
    run_scenario(gp_huge_timer_main, 1, &out);
    CHECK_EQ(child_exit_code(&out), CHILD_ALARM_CODE);   /* still alive when its alarm came */
    CHECK(!child_has(&out, "deadlock"));
    if (check_failures() != fails)
        show("huge timer", &out);
}

int main(void)
{
    if (check_scale(1000) < 1000)
        alarm_s = 200;
    test_simple_deadlock();
    test_init_deadlock();
    test_select_forever_deadlock();
    test_lock_order_deadlock();
    test_recursive_rlock_deadlock();
    test_goexit_with_blocked_goroutine();
    test_deadlock_after_netpoll();
    test_goexit_deadlock();
    test_goexit_timer();
    test_netpoll_no_deadlock();
    test_huge_timer_is_not_deadlock();
    return check_done();
}
