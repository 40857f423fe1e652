/* test_timer.c - gort_timer, gort_ticker_make, gort_after_func and the
   freeing of gort_after channels, ported from Go's time/sleep_test.go and
   tick_test.go (with Go 1.23's stop/reset semantics).

   Checks:
     - TestAfterFunc: a delayed call that re-arms itself 10 times, and
       its fn runs in its own goroutine (it may block); gort_go_after's
       timers free themselves (ASan's leak check);
     - TestAfterStop: a stopped timer and a stopped delayed call never
       deliver; a second stop returns 0 (retried 5 times);
     - TestReset: reset of a pending timer returns 1 and moves it; of one
       whose value was received, 0 (tries 25/75/175/375 ms units);
     - Go 1.23: a timer that fired with nobody receiving still counts as
       pending: stop returns 1 and empties the channel, reset likewise,
       and no value from before either is ever received;
     - stop racing the fire with a receiver blocked on the channel:
       exactly one of "stop returned 1" and "the receiver got a value",
       every round;
     - reset racing the fire: the one value that arrives after the reset
       is stamped no earlier than the reset's deadline;
     - TestTicker: n/2 ticks, a reset to twice the period, n/2 more take
       3 * delta * n/2 within 30% (retried with a longer period), and no
       tick after stop; a slow receiver finds one tick, not a backlog;
       period <= 0 is refused;
     - 5,000 tickers of 1 ms (more than two CPUs can serve): a sleeping
       goroutine still wakes (the timer runner fires a batch per look,
       then lets goroutines run);
     - TestTimerStopStress (scaled): delayed calls stopped halfway never
       run;
     - TestAdjustTimers: 100 timers moved earlier and later at random,
       none lost;
     - free racing the fire (0 ns timers, 1 us tickers freed at once, many
       times): no use after free (ASan, TSan) and no leak;
     - gort_after's channel freed before it fires: gort_chan_free returns
       0 and the pending timer goes with it; a gort_timer's own channel
       cannot be freed apart from the timer (-EINVAL);
     - 1M timers created and stopped (scaled), then freed;
     - a plain thread beside the runtime (gort_start) uses timers too;
     - timers still armed when gort_run returns can be stopped and freed
       after it (ASan: nothing leaks, nothing is touched after free).
   Only lower bounds on time are asserted, except TestTicker's window,
   which is retried as Go does. */
// gort-test: windows
#define _GNU_SOURCE
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

#define US 1000LL
#define MS 1000000LL

/* ---- TestAfterFunc */
static int af_count;
static gort_chan *af_done;
static void af_fn(void *arg) {
    (void)arg;
    gort_sleep(100 * US);   /* a goroutine: it may block */
    if (ADD(&af_count, 1) < 10) CHECK_EQ(gort_go_after(0, af_fn, NULL), 0);
    else send_int(af_done, 1);
}
static void test_after_func(void *arg) {
    (void)arg;
    STORE(&af_count, 0);
    af_done = gort_chan_make(sizeof(int), 0);
    CHECK_EQ(gort_go_after(0, af_fn, NULL), 0);
    CHECK_EQ(recv_int(af_done), 1);
    CHECK_EQ(LOAD(&af_count), 10);
    gort_chan_free(af_done);
}

/* ---- TestAfterStop */
static int as_ran;
static void as_fn(void *arg) { (void)arg; INC(&as_ran); }
static void noop_fn(void *arg) { (void)arg; }
static void test_after_stop(void *arg) {
    int i, ok = 0;
    (void)arg;
    for (i = 0; i < 5 && !ok; i++) {
        gort_timer *f0 = gort_after_func(100 * MS, noop_fn, NULL);
        gort_timer *t0 = gort_timer_make(50 * MS);
        gort_timer *t1;
        gort_chan *c2;
        int64_t v;
        STORE(&as_ran, 0);
        t1 = gort_after_func(150 * MS, as_fn, NULL);
        c2 = gort_after(200 * MS);
        CHECK(f0 && t0 && t1 && c2);
        ok = gort_timer_stop(t0) == 1 && gort_timer_stop(t1) == 1;
        CHECK_EQ(gort_chan_recv(c2, &v), 1);
        if (ok) {
            CHECK_EQ(gort_chan_try_recv(gort_timer_chan(t0), &v), -EAGAIN);   /* event 0 was not stopped */
            CHECK_EQ(LOAD(&as_ran), 0);                                         /* event 1 was not stopped */
            CHECK_EQ(gort_timer_stop(t1), 0);                                   /* stop returned 1 twice */
            CHECK_EQ(gort_timer_stop(t0), 0);
        }
        CHECK_EQ(gort_timer_free(f0), 0);
        CHECK_EQ(gort_timer_free(t0), 0);
        CHECK_EQ(gort_timer_free(t1), 0);
        CHECK_EQ(gort_chan_free(c2), 0);
    }
    CHECK(ok);
}

/* ---- TestReset */
static int try_reset(int64_t d) {
    gort_timer *t0 = gort_timer_make(2 * d);
    int64_t v;
    int ok = 1;
    gort_sleep(d);
    if (gort_timer_reset(t0, 3 * d) != 1) { check_note("reset of an unfired timer returned 0"); ok = 0; }
    gort_sleep(2 * d);
    if (ok && gort_chan_try_recv(gort_timer_chan(t0), &v) != -EAGAIN) { check_note("timer fired early"); ok = 0; }
    gort_sleep(2 * d);
    if (ok && gort_chan_try_recv(gort_timer_chan(t0), &v) != 1) { check_note("reset timer did not fire"); ok = 0; }
    if (ok && gort_timer_reset(t0, 50 * MS) != 0) { check_note("reset of a received timer returned 1"); ok = 0; }
    gort_timer_free(t0);
    return ok;
}
static void test_reset(void *arg) {
    static const int64_t units[] = { 25 * MS, 75 * MS, 175 * MS, 375 * MS };
    int i, ok = 0;
    (void)arg;
    for (i = 0; i < 4 && !ok; i++) ok = try_reset(units[i]);
    CHECK(ok);
}

/* ---- Go 1.23: no stale value after stop or reset */
static void test_no_stale(void *arg) {
    gort_timer *t = gort_timer_make(1 * MS);
    int64_t v, t0;
    (void)arg;
    gort_sleep(5 * MS);                         /* fired, nobody received */
    CHECK_EQ(gort_chan_len(gort_timer_chan(t)), 1);
    CHECK_EQ(gort_timer_stop(t), 1);            /* the program had not received it */
    CHECK_EQ(gort_chan_try_recv(gort_timer_chan(t), &v), -EAGAIN);
    CHECK_EQ(gort_timer_stop(t), 0);
    /* reset of a fired, unreceived timer: pending, and the old value is gone */
    CHECK_EQ(gort_timer_reset(t, 1 * MS), 0);
    gort_sleep(5 * MS);
    t0 = gort_now();
    CHECK_EQ(gort_timer_reset(t, 20 * MS), 1);
    CHECK_EQ(gort_chan_try_recv(gort_timer_chan(t), &v), -EAGAIN);
    CHECK_EQ(gort_chan_recv(gort_timer_chan(t), &v), 1);
    CHECK(v >= t0 + 20 * MS);                   /* the new arming's value */
    CHECK(gort_now() - t0 >= 20 * MS);
    /* a stopped timer's channel stays quiet */
    CHECK_EQ(gort_timer_reset(t, 1 * MS), 0);
    CHECK_EQ(gort_timer_stop(t), 1);
    gort_sleep(5 * MS);
    CHECK_EQ(gort_chan_try_recv(gort_timer_chan(t), &v), -EAGAIN);
    /* bad input */
    CHECK_EQ(gort_timer_stop(NULL), -EINVAL);
    CHECK_EQ(gort_timer_reset(NULL, 1), -EINVAL);
    CHECK_EQ(gort_chan_free(gort_timer_chan(t)), -EINVAL);   /* the timer owns it */
    CHECK(gort_timer_chan(NULL) == NULL);
    CHECK_EQ(gort_timer_free(NULL), 0);
    CHECK_EQ(gort_timer_free(t), 0);
}

/* ---- stop racing the fire, with a receiver blocked on the channel */
struct race { gort_timer *t; gort_chan *quit, *got; };
static void race_recv(void *arg) {
    struct race *r = (struct race *)arg;
    int64_t v;
    gort_case cs[2];
    int i;
    memset(cs, 0, sizeof cs);
    cs[0].chan = gort_timer_chan(r->t); cs[0].op = GORT_RECV; cs[0].elem = &v;
    cs[1].chan = r->quit; cs[1].op = GORT_RECV;
    i = gort_select(cs, 2, -1);
    send_int(r->got, i == 0);
}
static void test_stop_race(void *arg) {
    int rounds = (int)check_scale(2000), i, stopped = 0, fired = 0;
    uint64_t seed = 12345;
    (void)arg;
    for (i = 0; i < rounds; i++) {
        struct race r;
        int s, got;
        int64_t d = (int64_t)(rng_next(&seed) % 40) * US;
        r.t = gort_timer_make(d);
        r.quit = gort_chan_make(0, 0);
        r.got = gort_chan_make(sizeof(int), 1);
        CHECK(gort_go(race_recv, &r) == 0);
        if (rng_next(&seed) & 1) gort_yield();   /* let the receiver block, or not */
        gort_sleep(d / 2);
        s = gort_timer_stop(r.t);
        CHECK(s == 0 || s == 1);
        gort_chan_close(r.quit);
        got = recv_int(r.got);
        if (s + got != 1) check_note("round %d: stop returned %d, receiver got %d values", i, s, got);
        CHECK_EQ(s + got, 1);   /* exactly one outcome */
        stopped += s; fired += got;
        CHECK_EQ(gort_timer_free(r.t), 0);
        gort_chan_free(r.quit);
        gort_chan_free(r.got);
    }
    check_note("stop race: %d rounds, stop won %d, the fire won %d", rounds, stopped, fired);
}

/* ---- reset racing the fire: only the new arming's value arrives */
static void test_reset_race(void *arg) {
    int rounds = (int)check_scale(1000), i;
    uint64_t seed = 777;
    (void)arg;
    for (i = 0; i < rounds; i++) {
        int64_t d = (int64_t)(rng_next(&seed) % 30) * US, v, t0;
        gort_timer *t = gort_timer_make(d);
        gort_sleep(d / 2);
        t0 = gort_now();
        gort_timer_reset(t, 200 * US);
        CHECK_EQ(gort_chan_recv(gort_timer_chan(t), &v), 1);
        CHECK(v >= t0 + 200 * US);
        CHECK_EQ(gort_chan_try_recv(gort_timer_chan(t), &v), -EAGAIN);
        gort_timer_free(t);
    }
}

/* ---- TestTicker */
static int try_ticker(int count, int64_t delta) {
    gort_timer *tk = gort_ticker_make(delta);
    int64_t t0 = gort_now(), dt, target, slop, v;
    int i, ok;
    for (i = 0; i < count / 2; i++) CHECK_EQ(gort_chan_recv(gort_timer_chan(tk), &v), 1);
    CHECK_EQ(gort_ticker_reset(tk, 2 * delta), 1);
    for (i = count / 2; i < count; i++) CHECK_EQ(gort_chan_recv(gort_timer_chan(tk), &v), 1);
    gort_timer_stop(tk);
    dt = gort_now() - t0;
    target = 3 * delta * (count / 2);
    slop = target * 3 / 10;
    ok = dt >= target - slop && dt <= target + slop;
    if (!ok) check_note("%d ticks of %lld ms then %d of %lld ms took %lld ms, expected [%lld, %lld]",
                        count / 2, (long long)(delta / MS), count / 2, (long long)(2 * delta / MS),
                        (long long)(dt / MS), (long long)((target - slop) / MS), (long long)((target + slop) / MS));
    CHECK(dt >= target - slop);   /* never early */
    if (ok) {
        gort_sleep(2 * delta);
        CHECK_EQ(gort_chan_try_recv(gort_timer_chan(tk), &v), -EAGAIN);   /* stopped */
    }
    gort_timer_free(tk);
    return ok;
}
static void test_ticker(void *arg) {
    int ok;
    (void)arg;
    ok = try_ticker(10, 20 * MS) || try_ticker(10, 100 * MS) || try_ticker(8, 400 * MS);
    CHECK(ok);
}

static void test_ticker_drop(void *arg) {
    gort_timer *tk = gort_ticker_make(1 * MS);
    int64_t v, t0, t1;
    (void)arg;
    gort_sleep(30 * MS);   /* about 30 ticks come, one is kept */
    CHECK_EQ(gort_chan_len(gort_timer_chan(tk)), 1);
    CHECK_EQ(gort_chan_try_recv(gort_timer_chan(tk), &t0), 1);
    CHECK_EQ(gort_chan_try_recv(gort_timer_chan(tk), &v), -EAGAIN);
    /* the next tick comes within the period's grid, not in a burst */
    CHECK_EQ(gort_chan_recv(gort_timer_chan(tk), &t1), 1);
    CHECK(t1 > t0);
    CHECK(gort_ticker_make(0) == NULL);
    CHECK(gort_ticker_make(-5) == NULL);
    CHECK_EQ(gort_ticker_reset(tk, 0), -EINVAL);
    CHECK_EQ(gort_ticker_reset(tk, -1), -EINVAL);
    /* reset of a plain timer through the ticker call is refused */
    {
        gort_timer *t = gort_timer_make(1 * MS);
        CHECK_EQ(gort_ticker_reset(t, 1 * MS), -EINVAL);
        gort_timer_free(t);
    }
    CHECK_EQ(gort_timer_free(tk), 0);
}

/* ---- TestTimerStopStress, scaled */
static int ss_ran;
static void ss_fn(void *arg) { (void)arg; INC(&ss_ran); }
static void ss_one(void *arg) {
    gort_timer *t = gort_after_func(200 * MS, ss_fn, NULL);
    gort_wg *wg = (gort_wg *)arg;
    gort_sleep(100 * MS);
    CHECK_EQ(gort_timer_stop(t), 1);
    gort_timer_free(t);
    gort_wg_done(wg);
}
static void test_stop_stress(void *arg) {
    gort_wg wg = GORT_WG_INIT;
    int i;
    (void)arg;
    for (i = 0; i < 100; i++) { gort_wg_add(&wg, 1); CHECK(gort_go(ss_one, &wg) == 0); }
    gort_wg_wait(&wg);
    gort_sleep(150 * MS);
    CHECK_EQ(LOAD(&ss_ran), 0);
}

/* ---- TestAdjustTimers */
static void test_adjust(void *arg) {
    enum { N = 100 };
    gort_timer *timers[N];
    int states[N], idx[N], left = N, i;
    uint64_t seed = (uint64_t)gort_now() | 1;
    int64_t v;
    (void)arg;
    for (i = 0; i < N; i++) { idx[i] = i; states[i] = 0; timers[i] = NULL; }
    while (left) {
        int ii = (int)(rng_next(&seed) % (uint64_t)left), k = idx[ii];
        gort_timer *t = timers[k];
        switch (states[k]++) {
        case 0: timers[k] = gort_timer_make(0); CHECK(timers[k] != NULL); break;
        case 1: CHECK_EQ(gort_chan_recv(gort_timer_chan(t), &v), 1); break;   /* idle now */
        case 2: CHECK_EQ(gort_timer_reset(t, 60000 * MS), 0); break;
        case 4: CHECK_EQ(gort_timer_reset(t, 180000 * MS), 1); break;
        case 6: CHECK_EQ(gort_timer_reset(t, 120000 * MS), 1); break;
        case 8: CHECK_EQ(gort_timer_reset(t, 0), 1); break;   /* to fire at once */
        case 9: CHECK_EQ(gort_chan_recv(gort_timer_chan(t), &v), 1); break;
        case 10:
            gort_timer_free(t);
            idx[ii] = idx[--left];
            break;
        default: break;   /* odd states: give the others a turn */
        }
    }
}

/* ---- free racing the fire */
static void test_free_race(void *arg) {
    int n = (int)check_scale(20000), i;
    (void)arg;
    for (i = 0; i < n; i++) {
        gort_timer *t = i % 3 == 0 ? gort_timer_make(0)
                      : i % 3 == 1 ? gort_after_func(0, noop_fn, NULL)
                                   : gort_ticker_make(1 * US);   /* fires while freed */
        gort_chan *c = gort_after(0);
        CHECK(t && c);
        if (i % 4 == 0) gort_yield();
        CHECK_EQ(gort_timer_free(t), 0);
        CHECK_EQ(gort_chan_free(c), 0);
    }
}

/* ---- gort_after freed unfired; 1M timers made and stopped */
static void test_after_free(void *arg) {
    int n = (int)check_scale(100000), i;
    long g0 = gort_goroutines();
    (void)arg;
    for (i = 0; i < n; i++) {
        gort_chan *c = gort_after(3600 * 1000 * MS);   /* an hour: freed long before */
        CHECK(c != NULL);
        CHECK_EQ(gort_chan_free(c), 0);
    }
    CHECK_EQ(gort_goroutines(), g0);
}

static void test_million(void *arg) {
    int n = (int)check_scale(1000000), i;
    gort_timer **ts = (gort_timer **)calloc((size_t)(n > 0 ? n : 1), sizeof *ts);
    int64_t t0 = gort_now();
    (void)arg;
    CHECK(ts != NULL);
    if (!ts) return;
    for (i = 0; i < n; i++) {
        ts[i] = gort_timer_make((int64_t)(1 + i % 1000) * 1000 * MS);
        CHECK(ts[i] != NULL);
    }
    for (i = 0; i < n; i++) CHECK_EQ(gort_timer_stop(ts[i]), 1);
    for (i = 0; i < n; i++) CHECK_EQ(gort_timer_free(ts[i]), 0);
    check_note("%d timers made, stopped and freed in %lld ms", n, (long long)((gort_now() - t0) / MS));
    free(ts);
}

/* ---- more tickers than the CPUs can serve: everything else still runs.
   (Before the timer runner had a budget per look, the scheduler stayed in
   the timer heap and a sleeping goroutine did not wake for minutes.) */
static gort_ctx *ov_ctx;
static gort_wg ov_wg = GORT_WG_INIT;
static void ov_reader(void *arg) {
    gort_timer *tk = gort_ticker_make(1 * MS);
    int64_t v;
    long *n = (long *)arg;
    CHECK(tk != NULL);
    while (tk && gort_chan_recv_ctx(gort_timer_chan(tk), &v, ov_ctx) == 1) INC(n);
    gort_timer_free(tk);
    gort_wg_done(&ov_wg);
}
static void test_overload(void *arg) {
    int k = (int)check_scale(5000), i;
    long ticks = 0;
    int64_t worst = 0;
    (void)arg;
    ov_ctx = gort_ctx_with_cancel(NULL);
    gort_wg_add(&ov_wg, k);
    for (i = 0; i < k; i++) CHECK(gort_go(ov_reader, &ticks) == 0);
    for (i = 0; i < 10; i++) {
        int64_t t0 = gort_now(), late;
        gort_sleep(10 * MS);
        late = gort_now() - t0 - 10 * MS;
        if (late > worst) worst = late;
    }
    check_note("%d tickers of 1 ms: %ld ticks received, a 10 ms sleep came back at most %.1f ms late",
               k, LOAD(&ticks), (double)worst / 1e6);
    CHECK(worst < 2000 * MS);   /* starvation, not speed: 10-40 ms late on a quiet
                                   machine; with two other busy processes on the two
                                   CPUs (gcc -O0) up to 300 ms, about one round of all
                                   5,000 readers. Before the global queue went first
                                   while timers were behind, 2.7 s: a G spilled there
                                   waited behind thousands at one G per 61 slices. */
    CHECK(LOAD(&ticks) > 0);
    gort_ctx_cancel(ov_ctx);
    gort_wg_wait(&ov_wg);   /* they use ov_ctx until they return */
    gort_ctx_free(ov_ctx);
}

/* ---- a plain thread beside the runtime */
static void *plain_thread(void *arg) {
    int64_t v, t0 = gort_now();
    gort_timer *t = gort_timer_make(2 * MS), *tk = gort_ticker_make(1 * MS);
    int i;
    (void)arg;
    CHECK(t && tk);
    CHECK_EQ(gort_chan_recv(gort_timer_chan(t), &v), 1);
    CHECK(v >= t0 + 2 * MS);
    for (i = 0; i < 3; i++) CHECK_EQ(gort_chan_recv(gort_timer_chan(tk), &v), 1);
    CHECK_EQ(gort_timer_reset(t, 1 * MS), 0);
    CHECK_EQ(gort_chan_recv(gort_timer_chan(t), &v), 1);
    gort_timer_free(t);
    gort_timer_free(tk);
    return NULL;
}
static void test_plain_thread(void) {
    gort_opts o;
    pthread_t th;
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    CHECK_EQ(gort_start(&o), 0);
    CHECK_EQ(pthread_create(&th, NULL, plain_thread, NULL), 0);
    pthread_join(th, NULL);
    CHECK_EQ(gort_stop(), 0);
}

/* ---- a timer still armed when its runtime ends stays the program's:
   stop and free work after gort_run returns (the heap it was in is gone) */
static gort_timer *armed_t, *armed_f;
static gort_chan *armed_c;
static void test_stop_armed(void *arg) {
    (void)arg;
    armed_t = gort_timer_make(3600 * 1000 * MS);
    armed_f = gort_after_func(3600 * 1000 * MS, noop_fn, NULL);
    armed_c = gort_after(3600 * 1000 * MS);
    CHECK(armed_t && armed_f && armed_c);
}

int main(void) {
    int procs;
    watchdog(600);
    for (procs = 1; procs <= 2; procs++) {
        run_named("TestAfterFunc", test_after_func, procs, 0, NULL);
        run_named("TestAfterStop", test_after_stop, procs, 0, NULL);
        run_named("TestReset", test_reset, procs, 0, NULL);
        run_named("NoStaleValue", test_no_stale, procs, 0, NULL);
        run_named("StopRace", test_stop_race, procs, 0, NULL);
        run_named("ResetRace", test_reset_race, procs, 0, NULL);
        run_named("TestTickerDrop", test_ticker_drop, procs, 0, NULL);
        run_named("TestTimerStopStress", test_stop_stress, procs, 0, NULL);
        run_named("TestAdjustTimers", test_adjust, procs, 0, NULL);
        run_named("FreeRace", test_free_race, procs, 0, NULL);
        run_named("AfterFree", test_after_free, procs, 0, NULL);
    }
    run_named("TestTicker", test_ticker, 2, 0, NULL);
    run_named("Overload", test_overload, 2, 0, NULL);
    run_named("Million", test_million, 2, 0, NULL);
    test_plain_thread();
    run_named("ArmedAtExit", test_stop_armed, 2, 0, NULL);
    CHECK_EQ(gort_timer_stop(armed_t), 0);   /* the runtime's end disarmed it */
    CHECK_EQ(gort_timer_free(armed_t), 0);
    CHECK_EQ(gort_timer_free(armed_f), 0);
    CHECK_EQ(gort_chan_free(armed_c), 0);
    return check_done();
}
