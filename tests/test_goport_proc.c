/* test_goport_proc.c - Go 1.19's runtime/proc_test.go (and a few
   scheduler tests from stack_test.go and crash_test.go), ported to gort.

   Each test runs as the main goroutine of its own gort_run, at the
   GOMAXPROCS the Go test uses. Checks:
     - TestGoroutineParallelism, ...Parallelism2: P goroutines that never
       yield and wait for each other by spinning on one counter all run at
       once (P = 4 and 2; nested spawns; after a load phase; after the
       netpoller was used);
     - TestYieldProgress: a goroutine looping on a non-blocking select and
       gort_yield lets main's sleep end and its send through (maxprocs 1
       and 2);
     - TestTimerFairness, ...2: goroutines busy trading on a channel do
       not keep a gort_after timer from being delivered (one main selecting
       against them; two with their own timers and a blocking call in the
       loop);
     - TestNumGoroutine, TestNoHelperGoroutines: gort_goroutines() is 1 in
       a fresh runtime, counts goroutines as they start, park and end, and
       agrees with the number of goroutines in gort_dump's output;
     - TestStackGrowth (stack_test.go): recursion 1024 calls deep, with a
       pointer to the caller's local checked at every depth, in one and in
       many goroutines at once;
     - TestGoNil (crash_test.go): gort_go(NULL) is refused (-EINVAL) and
       the program goes on;
     - TestBigGOMAXPROCS: a runtime with maxprocs 256 starts, runs
       goroutines on it and stops;
     - TestNetpollBreak-like: a timer armed while a thread sleeps in the
       poller for 10 s wakes it (a 10 ms sleep takes far less than 10 s);
       and, white-box, a look into the poller by another thread does not
       take the break meant for the one that sleeps there.
   Not ported: TestPingPongHog (tests/test_fair.c has it), the
   LockOSThread tests, preemption and GC tests (gort does not preempt and
   has no GC), TestSchedLocalQueue, TestStealOrder (internals). */
#define _GNU_SOURCE
// gort-test: windows
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#include <sys/mman.h>
#include <unistd.h>
#endif

#define MS 1000000LL
#define SEC 1000000000LL


/* ------------------------------------------------------------ TestGoroutineParallelism */

struct par {
    uint32_t   x;      /* atomic */
    int        np;
    gort_chan *done;
};

struct par_arg { struct par *s; int p; };

static void par_spinner(void *arg)
{
    struct par_arg *a = (struct par_arg *)arg;
    int i, one = 1;
    for (i = 0; i < 3; i++) {
        uint32_t expected = (uint32_t)(a->s->np * i + a->p);
        while (LOAD(&a->s->x) != expected)
            ;   /* never yields: every one of them must have its own P */
        STORE(&a->s->x, expected + 1);
    }
    CHECK_EQ(gort_chan_send(a->s->done, &one), 0);
}

/* Go: runtime/proc_test.go TestGoroutineParallelism */
static void goroutine_parallelism(int np)
{
    long tries = check_scale(10), t;
    struct par s;
    struct par_arg a[8];
    int p, v;
    s.np = np;
    s.done = gort_chan_make(sizeof(int), (size_t)np);   /* finishers never park */
    for (t = 0; t < tries; t++) {
        STORE(&s.x, 0);
        for (p = 0; p < np; p++) {
            a[p].s = &s; a[p].p = p;
            CHECK_EQ(gort_go(par_spinner, &a[p]), 0);
        }
        for (p = 0; p < np; p++)
            CHECK_EQ(gort_chan_recv(s.done, &v), 1);
        CHECK_EQ(LOAD(&s.x), 3 * np);
    }
    CHECK_EQ(gort_chan_free(s.done), 0);
}

static void test_goroutines_run_in_parallel(void *arg)   /* Go TestGoroutineParallelism */
{
    goroutine_parallelism(*(int *)arg);
}

/* TestGoroutineParallelism2: nested spawns, after a load phase and/or
   after the netpoller was used */
struct par2 { struct par *s; int p; struct par_arg kids[2]; };

static void par2_parent(void *arg)
{
    struct par2 *q = (struct par2 *)arg;
    int p2;
    for (p2 = 0; p2 < 2; p2++) {
        q->kids[p2].s = q->s;
        q->kids[p2].p = q->p * 2 + p2;
        CHECK_EQ(gort_go(par_spinner, &q->kids[p2]), 0);
    }
}

struct load { uint32_t x; int np; gort_chan *done; gort_wg wg; };

static void load_spinner(void *arg)
{
    struct load *l = (struct load *)arg;
    if (ADD(&l->x, 1) == (uint32_t)l->np) {
        int one = 1;
        CHECK_EQ(gort_chan_send(l->done, &one), 0);
    } else {
        while (LOAD(&l->x) != (uint32_t)l->np)
            ;
    }
    gort_wg_done(&l->wg);
}

/* Go: runtime/proc_test.go TestGoroutineParallelism2 */
static void goroutine_parallelism2(int np, int load, int netpoll)
{
    long tries = check_scale(10), t;
    struct par s;
    struct par2 q[4];
    int p, v;
    s.np = np;
    s.done = gort_chan_make(sizeof(int), (size_t)np);
    for (t = 0; t < tries; t++) {
        if (load) {
            /* P goroutines that all run: the Ms park again after */
            struct load l;
            memset(&l, 0, sizeof l);
            l.np = np;
            l.done = gort_chan_make(sizeof(int), 1);
            gort_wg_add(&l.wg, np);
            for (p = 0; p < np; p++)
                CHECK_EQ(gort_go(load_spinner, &l), 0);
            CHECK_EQ(gort_chan_recv(l.done, &v), 1);
            gort_wg_wait(&l.wg);   /* l lives on this stack */
            CHECK_EQ(gort_chan_free(l.done), 0);
        }
        if (netpoll) {
            int fd[2];
            if (poll_pair(fd) == 0) {
                CHECK_EQ(gort_wait_fd(fd[0], GORT_IN, 1000), -ETIMEDOUT);
                gort_close(fd[0]);
                gort_close(fd[1]);
            }
        }
        STORE(&s.x, 0);
        for (p = 0; p < np / 2; p++) {
            q[p].s = &s; q[p].p = p;
            CHECK_EQ(gort_go(par2_parent, &q[p]), 0);
        }
        for (p = 0; p < np; p++)
            CHECK_EQ(gort_chan_recv(s.done, &v), 1);
        CHECK_EQ(LOAD(&s.x), 3 * np);
    }
    CHECK_EQ(gort_chan_free(s.done), 0);
}

static void test_goroutines_run_in_parallel_after_netpoll(void *arg)   /* Go TestGoroutineParallelism2 */
{
    int np = *(int *)arg;
    goroutine_parallelism2(np, 1, 0);
    goroutine_parallelism2(np, 0, 1);
    goroutine_parallelism2(np, 1, 1);
}

/* ------------------------------------------------------------ TestYieldProgress */

struct yp { gort_chan *c, *cack; };

static void yp_loop(void *arg)
{
    struct yp *y = (struct yp *)arg;
    for (;;) {
        int v, t = 1;
        gort_case cs;
        cs.chan = y->c; cs.op = GORT_RECV; cs.elem = &v; cs.ok = -1;
        if (gort_select(&cs, 1, 0) == 0) {
            CHECK_EQ(gort_chan_send(y->cack, &t), 0);
            return;
        }
        gort_yield();
    }
}

/* Go: runtime/proc_test.go TestYieldProgress */
static void test_yield_lets_a_waiting_goroutine_progress(void *arg)
{
    struct yp y;
    int t = 1, v;
    int64_t t0;
    (void)arg;
    y.c = gort_chan_make(sizeof(int), 0);
    y.cack = gort_chan_make(sizeof(int), 1);   /* the loop never parks at the end */
    CHECK_EQ(gort_go(yp_loop, &y), 0);
    t0 = gort_now();
    gort_sleep(10 * MS);   /* must end although the loop never blocks */
    CHECK(gort_now() - t0 >= 10 * MS);
    CHECK_EQ(gort_chan_send(y.c, &t), 0);
    CHECK_EQ(gort_chan_recv(y.cack, &v), 1);
    CHECK_EQ(gort_chan_free(y.c), 0);
    CHECK_EQ(gort_chan_free(y.cack), 0);
}

/* ------------------------------------------------------------ TestTimerFairness */

struct tf {
    gort_chan *c, *done;
    gort_wg    wg;
    long       got;
};

static void tf_sender(void *arg)
{
    struct tf *f = (struct tf *)arg;
    for (;;) {
        int t = 1, d;
        gort_case cs[2];
        cs[0].chan = f->c;    cs[0].op = GORT_SEND; cs[0].elem = &t; cs[0].ok = -1;
        cs[1].chan = f->done; cs[1].op = GORT_RECV; cs[1].elem = &d; cs[1].ok = -1;
        if (gort_select(cs, 2, -1) == 1)
            break;
    }
    gort_wg_done(&f->wg);
}

/* Go: runtime/proc_test.go TestTimerFairness */
static void test_timer_fires_amid_busy_senders(void *arg)
{
    struct tf f;
    gort_chan *timer;
    int64_t t0 = gort_now(), stamp = 0;
    int i;
    (void)arg;
    memset(&f, 0, sizeof f);
    f.c = gort_chan_make(sizeof(int), 0);
    f.done = gort_chan_make(sizeof(int), 0);
    gort_wg_add(&f.wg, 2);
    for (i = 0; i < 2; i++)
        CHECK_EQ(gort_go(tf_sender, &f), 0);
    timer = gort_after(20 * MS);
    for (;;) {
        int v, rc;
        gort_case cs[2];
        cs[0].chan = f.c;   cs[0].op = GORT_RECV; cs[0].elem = &v;     cs[0].ok = -1;
        cs[1].chan = timer; cs[1].op = GORT_RECV; cs[1].elem = &stamp; cs[1].ok = -1;
        rc = gort_select(cs, 2, -1);
        if (rc == 1)
            break;
        CHECK_EQ(rc, 0);
        f.got++;
        /* a hang detector: Go's test would never end */
        if (gort_now() - t0 > 30 * SEC) {
            CHECK(!"the timer was never chosen");
            break;
        }
    }
    CHECK(stamp >= t0 + 20 * MS);
    CHECK(f.got > 0);
    CHECK_EQ(gort_chan_close(f.done), 0);
    gort_wg_wait(&f.wg);
    CHECK_EQ(gort_chan_free(timer), 0);
    CHECK_EQ(gort_chan_free(f.c), 0);
    CHECK_EQ(gort_chan_free(f.done), 0);
}

static void tf2_worker(void *arg)
{
    struct tf *f = (struct tf *)arg;
    gort_chan *timer = gort_after(20 * MS);
    int64_t t0 = gort_now();
    char buf[1];
    for (;;) {
        int t = 1, v;
        int64_t stamp;
        gort_case cs[3];
        ssize_t n;
        gort_block_begin();
        n = read(0, buf, 0);   /* Go: syscall.Read(0, buf[0:0]) */
        gort_block_end();
        (void)n;
        cs[0].chan = f->c;  cs[0].op = GORT_SEND; cs[0].elem = &t;     cs[0].ok = -1;
        cs[1].chan = f->c;  cs[1].op = GORT_RECV; cs[1].elem = &v;     cs[1].ok = -1;
        cs[2].chan = timer; cs[2].op = GORT_RECV; cs[2].elem = &stamp; cs[2].ok = -1;
        if (gort_select(cs, 3, -1) == 2)
            break;
        ADD(&f->got, 1);
        if (gort_now() - t0 > 30 * SEC) {
            CHECK(!"the timer was never chosen");
            break;
        }
    }
    CHECK_EQ(gort_chan_free(timer), 0);
    gort_wg_done(&f->wg);   /* Go: done <- true */
}

/* Go: runtime/proc_test.go TestTimerFairness2 */
static void test_timer_fires_amid_busy_selects(void *arg)
{
    struct tf f;
    int i;
    (void)arg;
    memset(&f, 0, sizeof f);
    f.c = gort_chan_make(sizeof(int), 0);
    gort_wg_add(&f.wg, 2);
    for (i = 0; i < 2; i++)
        CHECK_EQ(gort_go(tf2_worker, &f), 0);
    gort_wg_wait(&f.wg);
    CHECK_EQ(gort_chan_free(f.c), 0);
}

/* ------------------------------------------------------------ TestNumGoroutine */

/* Goroutines listed in gort_dump's output */
static long dump_goroutines(void)
{
    char *buf;
    size_t size = 1 << 20;
    FILE *f = util_tmpfile();
    long n = 0;
    size_t len;
    if (!f) {
        CHECK(!"tmpfile");
        return -1;
    }
    gort_dump(fileno(f));
    rewind(f);
    buf = (char *)malloc(size + 1);
    len = fread(buf, 1, size, f);
    buf[len] = '\0';
    fclose(f);
    {
        const char *p = buf;
        if (strncmp(p, "goroutine ", 10) == 0)
            n++;
        while ((p = strstr(p, "\ngoroutine ")) != NULL) {
            n++;
            p++;
        }
    }
    free(buf);
    return n;
}

struct ng { gort_chan *block; gort_wg started, ended; };

static void ng_blocker(void *arg)
{
    struct ng *g = (struct ng *)arg;
    int v;
    gort_wg_done(&g->started);
    CHECK_EQ(gort_chan_recv(g->block, &v), 0);   /* until closed */
    gort_wg_done(&g->ended);
}

/* The count settles once the goroutines that ended have been reaped
   (they are counted until they are DEAD): yield and retry a while. */
static long settle(long want)
{
    long n = gort_goroutines();
    int i;
    for (i = 0; i < 2000 && n != want; i++) {
        gort_sleep(1 * MS);
        n = gort_goroutines();
    }
    return n;
}

/* Go: runtime/proc_test.go TestNumGoroutine and crash_test.go
   TestNoHelperGoroutines */
static void test_goroutine_count_is_exact(void *arg)
{
    struct ng g;
    int i, k = 10;
    long n, nd;
    (void)arg;
    /* testprog NumGoroutine prints 1: no helper goroutines */
    CHECK_EQ(gort_goroutines(), 1);
    CHECK_EQ(dump_goroutines(), 1);

    memset(&g, 0, sizeof g);
    g.block = gort_chan_make(sizeof(int), 0);
    gort_wg_add(&g.started, k);
    gort_wg_add(&g.ended, k);
    for (i = 0; i < k; i++)
        CHECK_EQ(gort_go(ng_blocker, &g), 0);
    gort_wg_wait(&g.started);
    CHECK_EQ(gort_goroutines(), k + 1);
    /* Go: NumGoroutine and the stack dump agree (retried: racy by nature) */
    for (i = 0; i < 10; i++) {
        gort_yield();
        n = gort_goroutines();
        nd = dump_goroutines();
        if (n == nd)
            break;
    }
    CHECK_EQ(n, k + 1);
    CHECK_EQ(nd, n);
    CHECK_EQ(gort_chan_close(g.block), 0);
    gort_wg_wait(&g.ended);
    CHECK_EQ(settle(1), 1);
    CHECK_EQ(dump_goroutines(), 1);
    CHECK_EQ(gort_chan_free(g.block), 0);
}

/* ------------------------------------------------------------ TestStackGrowth */

static __attribute__((noinline)) void grow_stack_iter(int *p, int n)
{
    int x;
    if (n == 0) {
        *p = n + 1;
        return;
    }
    grow_stack_iter(&x, n - 1);
    if (x != n) {
        CHECK_EQ(x, n);   /* "stack is corrupted" */
        x = n;
    }
    *p = x + 1;
}

static long grow_stack(void)
{
    int n = 1 << 10, i;
    long bad = 0;
    for (i = 0; i < n; i++) {
        int x = 0;
        grow_stack_iter(&x, i);
        if (x != i + 1)
            bad++;
    }
    return bad;
}

struct gs { gort_wg wg; long bad; };

static void gs_worker(void *arg)
{
    struct gs *s = (struct gs *)arg;
    ADD(&s->bad, grow_stack());
    gort_wg_done(&s->wg);
}

/* Go: runtime/stack_test.go TestStackGrowth (a plain goroutine; then,
   instead of the locked-thread and finalizer variants, many at once) */
static void test_deep_recursion_in_goroutines(void *arg)
{
    struct gs s;
    long i, many = check_scale(16);
    (void)arg;
    memset(&s, 0, sizeof s);
    gort_wg_add(&s.wg, 1);
    CHECK_EQ(gort_go(gs_worker, &s), 0);
    gort_wg_wait(&s.wg);
    CHECK_EQ(s.bad, 0);
    gort_wg_add(&s.wg, (int)many);
    for (i = 0; i < many; i++)
        CHECK_EQ(gort_go(gs_worker, &s), 0);
    gort_wg_wait(&s.wg);
    CHECK_EQ(LOAD(&s.bad), 0);
}

/* ------------------------------------------------------------ TestGoNil */

static int gn_ran;

static void gn_fn(void *arg)
{
    (void)arg;
    STORE(&gn_ran, 1);
}

/* Go: runtime/crash_test.go TestGoNil (Go: "go of nil func value" is
   fatal; gort refuses the call with -EINVAL and carries on) */
static void test_go_with_null_fn_is_refused(void *arg)
{
    (void)arg;
    CHECK_EQ(gort_go(NULL, NULL), -EINVAL);
    CHECK_EQ(gort_goroutines(), 1);
    CHECK_EQ(gort_go(gn_fn, NULL), 0);
    CHECK_EQ(settle(1), 1);
    CHECK_EQ(LOAD(&gn_ran), 1);
}

/* ------------------------------------------------------------ TestBigGOMAXPROCS */

struct big { gort_wg wg; int ran; };

static void big_worker(void *arg)
{
    struct big *b = (struct big *)arg;
    gort_sleep(1 * MS);
    ADD(&b->ran, 1);
    gort_wg_done(&b->wg);
}

/* Go: runtime/proc_test.go TestBigGOMAXPROCS */
static void test_huge_maxprocs_still_runs(void *arg)
{
    struct big b;
    int i, n = 64;
    (void)arg;
    CHECK_EQ(gort_maxprocs(), 256);
    memset(&b, 0, sizeof b);
    gort_wg_add(&b.wg, n);
    for (i = 0; i < n; i++)
        CHECK_EQ(gort_go(big_worker, &b), 0);
    gort_wg_wait(&b.wg);
    CHECK_EQ(LOAD(&b.ran), n);
}

/* ------------------------------------------------------------ TestNetpollBreak */

struct npb { int fd[2]; gort_wg wg; int rc; };

static void npb_waiter(void *arg)
{
    struct npb *s = (struct npb *)arg;
    s->rc = gort_wait_fd(s->fd[0], GORT_IN, 10 * SEC);
    gort_wg_done(&s->wg);
}

/* Go: runtime/proc_test.go TestNetpollBreak, through the public API: a
   goroutine waits in the poller with a 10 s deadline; main's 10 ms sleep
   (a new, earlier timer) must wake the thread in epoll_wait */
static void test_earlier_timer_wakes_poller(void *arg)
{
    struct npb s;
    int64_t t0, took;
    int i;
    char c = 'x';
    (void)arg;
    memset(&s, 0, sizeof s);
    if (poll_pair(s.fd) != 0) {
        CHECK(!"pipe");
        return;
    }
    gort_wg_add(&s.wg, 1);
    CHECK_EQ(gort_go(npb_waiter, &s), 0);
    gort_sleep(20 * MS);   /* the waiter parks; the idle M sleeps in the poller */
    for (i = 0; i < 5; i++) {
        t0 = gort_now();
        gort_sleep(10 * MS);
        took = gort_now() - t0;
        CHECK(took >= 10 * MS);
        if (took >= 5 * SEC)
            CHECK(took < 5 * SEC);   /* it waited for the 10 s poll */
    }
    CHECK_EQ(gort_write(s.fd[1], &c, 1), 1);
    gort_wg_wait(&s.wg);
    CHECK_EQ(s.rc, GORT_IN);
    gort_close(s.fd[0]);
    gort_close(s.fd[1]);
}

/* The other half of the same wake-up, below the scheduler: a thread
   sleeps in the poller; a break is written for it; before that thread
   runs, another looks (a wait with deadline 0, as an idle M or sysmon
   does when nobody seemed to poll). The look must leave the break to the
   sleeper: when it took it, the sleeper slept on to its own deadline (a
   10 ms gort_sleep took 10 s under qemu in CI). White-box: the race is
   too narrow to aim at through the public API. */
struct brk { gort__poller pl; int64_t took; int n; };

static void *brk_sleeper(void *arg)
{
    struct brk *b = (struct brk *)arg;
    gort__pollev ev[4];
    int64_t t0 = gort__nanotime();
    b->n = gort__poller_wait(&b->pl, t0 + 2 * SEC, ev, 4);
    b->took = gort__nanotime() - t0;
    return NULL;
}

static void test_look_leaves_break_to_sleeper(void)
{
    int round;
    for (round = 0; round < 3; round++) {
        struct brk b;
        gort__pollev ev[4];
        pthread_t th;
        int i, n = 0;
        memset(&b, 0, sizeof b);
        CHECK_EQ(gort__poller_init(&b.pl), 0);
        CHECK_EQ(pthread_create(&th, NULL, brk_sleeper, &b), 0);
        plain_sleep_ms(50);   /* in epoll_wait (WSAPoll) by now */
        gort__poller_break(&b.pl);
        for (i = 0; i < 100; i++)   /* look, again and again, while it wakes */
            n += gort__poller_wait(&b.pl, 0, ev, 4);
        CHECK_EQ(n, 0);   /* a break is no event */
        CHECK_EQ(pthread_join(th, NULL), 0);
        CHECK_EQ(b.n, 0);
        CHECK(b.took < SEC);   /* woken by the break, not its deadline */
        /* and it took the break: the next sleep sleeps */
        {
            int64_t t0 = gort__nanotime();
            CHECK_EQ(gort__poller_wait(&b.pl, t0 + 20 * MS, ev, 4), 0);
            CHECK(gort__nanotime() - t0 >= 20 * MS);
        }
        gort__poller_free(&b.pl);
    }
}

/* ------------------------------------------------------------ main */

/* the spinners are meant to hog: no hog reports */
#define run(name, fn, procs, arg) run_named(name, fn, procs, -1, arg)

int main(void)
{
    static int two = 2, four = 4;
    run("TestGoroutineParallelism", test_goroutines_run_in_parallel, 4, &four);
    run("TestGoroutineParallelism", test_goroutines_run_in_parallel, 2, &two);
    run("TestGoroutineParallelism2", test_goroutines_run_in_parallel_after_netpoll, 4, &four);
    run("TestGoroutineParallelism2", test_goroutines_run_in_parallel_after_netpoll, 2, &two);
    run("TestYieldProgress", test_yield_lets_a_waiting_goroutine_progress, 1, NULL);
    run("TestYieldProgress", test_yield_lets_a_waiting_goroutine_progress, 2, NULL);
    run("TestTimerFairness", test_timer_fires_amid_busy_senders, 1, NULL);
    run("TestTimerFairness", test_timer_fires_amid_busy_senders, 2, NULL);
    run("TestTimerFairness2", test_timer_fires_amid_busy_selects, 1, NULL);
    run("TestTimerFairness2", test_timer_fires_amid_busy_selects, 2, NULL);
    run("TestNumGoroutine", test_goroutine_count_is_exact, 2, NULL);
    run("TestStackGrowth", test_deep_recursion_in_goroutines, 2, NULL);
    run("TestGoNil", test_go_with_null_fn_is_refused, 2, NULL);
    run("TestBigGOMAXPROCS", test_huge_maxprocs_still_runs, 256, NULL);
    run("TestNetpollBreak", test_earlier_timer_wakes_poller, 2, NULL);
    run("TestNetpollBreak", test_earlier_timer_wakes_poller, 1, NULL);
    test_look_leaves_break_to_sleeper();
    return check_done();
}
