/* test_stress.c - stress that counts: values moved, lost and duplicated
   (>>chan, >>select, >>timer, >>sync, >>io). `make test` runs it at CI
   size; `make stress` at 100x (10^8 values through the close storms).
   // gort-test: timeout=900 windows

     - MPMC close storms: 8 producer and 8 consumer goroutines on one
       channel of capacity 0, 1, 64 and 4096, at maxprocs 1 and 2 (and one
       round at 2 with plain-thread producers). Values are (producer,
       sequence). A consumer closes the channel in mid-stream. Every send
       returns 0 or -EPIPE (and after its first -EPIPE a producer stops);
       every value received was sent, none twice, each consumer sees each
       producer's values in order; values received == sends that returned
       0 (nothing lost, the buffer drained after the close); after the
       drain every receive returns 0;
     - a SIGUSR1 storm (a handler installed without SA_RESTART, sent every
       50 us to the process and to each plain thread) while plain threads
       and goroutines sleep, select with timeouts, receive from channels,
       read sockets and wait on mutexes, conds and WaitGroups: no call
       returns -EINTR and none returns before its time (Linux: Windows
       has no signals that could interrupt a wait; said in a note there);
     - 100,000 concurrent timers (gort_after, scaled): every one fires, none
       before its deadline (the value received, gort_now() at the fire, is
       at least the deadline). */
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"

#include <pthread.h>
#include <signal.h>
#if !defined(_WIN32)
#include <sys/socket.h>
#include <unistd.h>
#endif

#define MS 1000000LL
#define NPROD 8
#define NCONS 8

/* ---- MPMC close storm ---- */
typedef struct { uint32_t prod, seq; } val_t;

typedef struct {
    gort_chan *c;
    long per_prod;           /* a producer stops after this many */
    long close_after;        /* the closing consumer closes after this many */
    long sent[NPROD];        /* sends that returned 0 */
    long refused[NPROD];     /* -EPIPE */
    long bad_rc;
    unsigned char *seen[NPROD];   /* seq -> received count */
    long received, dup, unknown, order;
    uint32_t lock;           /* guards the checking state (a plain spin) */
    int closed_mid;          /* a consumer closed it before the producers ended */
    gort_wg wg, pwg;
} storm_t;

static void spin_lock(uint32_t *l) {
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE)) {
    }
}
static void spin_unlock(uint32_t *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

typedef struct { storm_t *s; int id; } role_t;

static void produce(storm_t *s, int id) {
    long i;
    for (i = 0; i < s->per_prod; i++) {
        val_t v;
        int rc;
        v.prod = (uint32_t)id;
        v.seq = (uint32_t)i;
        rc = gort_chan_send(s->c, &v);
        if (rc == 0) {
            s->sent[id]++;
        } else if (rc == -EPIPE) {
            s->refused[id]++;
            break;
        } else {
            __atomic_add_fetch(&s->bad_rc, 1, __ATOMIC_RELAXED);
            break;
        }
    }
}
static void producer(void *arg) {
    role_t *r = (role_t *)arg;
    produce(r->s, r->id);
    gort_wg_done(&r->s->pwg);
}
static int threads_in;   /* atomic: producer threads that called into gort */
static void *producer_thread(void *arg) {
    role_t *r = (role_t *)arg;
    /* A plain thread counts for deadlock detection once it has called
       into gort (API.md): announce ourselves before main may block. */
    gort_sleep(1);
    __atomic_add_fetch(&threads_in, 1, __ATOMIC_SEQ_CST);
    produce(r->s, r->id);
    gort_wg_done(&r->s->pwg);
    return NULL;
}

static void consumer(void *arg) {
    role_t *r = (role_t *)arg;
    storm_t *s = r->s;
    long last[NPROD], mine = 0;
    int i, rc;
    val_t v;
    for (i = 0; i < NPROD; i++) last[i] = -1;
    while ((rc = gort_chan_recv(s->c, &v)) == 1) {
        mine++;
        spin_lock(&s->lock);
        if (v.prod >= NPROD || (long)v.seq >= s->per_prod) {
            s->unknown++;
        } else {
            if (s->seen[v.prod][v.seq]++) s->dup++;
            if ((long)v.seq <= last[v.prod]) s->order++;
            last[v.prod] = (long)v.seq;
        }
        s->received++;
        spin_unlock(&s->lock);
        if (r->id == 0 && mine == s->close_after) {
            int crc = gort_chan_close(s->c);
            CHECK(crc == 0 || crc == -EPIPE);   /* main may have closed it */
            if (crc == 0) __atomic_store_n(&s->closed_mid, 1, __ATOMIC_RELAXED);
        }
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(gort_chan_recv(s->c, &v), 0);   /* closed and drained stays so */
    CHECK_EQ(v.prod, 0);
    gort_wg_done(&s->wg);
}

static long storm_values;   /* total moved, for the note */
static int storm_mid;       /* storms closed by a consumer in mid-stream */

static void storm(size_t cap, int threads) {
    static storm_t s;
    role_t roles[NPROD + NCONS];
    pthread_t th[NPROD];
    long total_sent = 0, i;
    int k;
    memset(&s, 0, sizeof s);
    s.c = gort_chan_make(sizeof(val_t), cap);
    CHECK(s.c != NULL);
    s.per_prod = check_scale(125000);
    /* close when about 3/4 of everything went through consumer 0's share */
    s.close_after = s.per_prod / 4;
    for (k = 0; k < NPROD; k++) s.seen[k] = (unsigned char *)calloc((size_t)s.per_prod, 1);
    gort_wg_add(&s.wg, NCONS);
    gort_wg_add(&s.pwg, NPROD);
    for (k = 0; k < NCONS; k++) {
        roles[NPROD + k].s = &s;
        roles[NPROD + k].id = k;
        CHECK_EQ(gort_go(consumer, &roles[NPROD + k]), 0);
    }
    for (k = 0; k < NPROD; k++) {
        roles[k].s = &s;
        roles[k].id = k;
        if (threads && k < 2) CHECK_EQ(pthread_create(&th[k], NULL, producer_thread, &roles[k]), 0);
        else CHECK_EQ(gort_go(producer, &roles[k]), 0);
    }
    if (threads) {
        while (__atomic_load_n(&threads_in, __ATOMIC_SEQ_CST) < 2) gort_sleep(100000);
        __atomic_store_n(&threads_in, 0, __ATOMIC_SEQ_CST);
    }
    gort_wg_wait(&s.pwg);
    {   /* the producers ran out before consumer 0 closed: close it here */
        int crc = gort_chan_close(s.c);
        CHECK(crc == 0 || crc == -EPIPE);
    }
    gort_wg_wait(&s.wg);
    if (threads) for (k = 0; k < 2; k++) pthread_join(th[k], NULL);
    for (k = 0; k < NPROD; k++) {
        total_sent += s.sent[k];
        /* a producer stops at its first -EPIPE, or runs out */
        CHECK(s.refused[k] == 1 || s.sent[k] == s.per_prod);
        for (i = 0; i < s.sent[k]; i++)
            if (s.seen[k][i] != 1) { CHECK_EQ(s.seen[k][i], 1); break; }   /* lost or duplicated */
        free(s.seen[k]);
    }
    CHECK_EQ(s.bad_rc, 0);
    CHECK_EQ(s.dup, 0);
    CHECK_EQ(s.unknown, 0);
    CHECK_EQ(s.order, 0);
    CHECK_EQ(s.received, total_sent);
    CHECK_EQ(gort_chan_len(s.c), 0);
    storm_values += s.received;
    storm_mid += s.closed_mid;
    CHECK_EQ(gort_chan_free(s.c), 0);
}

static void storms_main(void *arg) {
    static const size_t caps[] = { 0, 1, 64, 4096 };
    int i;
    for (i = 0; i < 4; i++) storm(caps[i], arg != NULL);
}

/* ---- SIGUSR1 storm ---- */
#if !defined(_WIN32)
static long sigs;
static void on_usr1(int sig) {
    (void)sig;
    __atomic_add_fetch(&sigs, 1, __ATOMIC_RELAXED);
}

static int storm_on;     /* atomic */
static pthread_t waiters[4];
static int nwaiters;
static int sig_threads;  /* atomic: also signal the waiter threads */
static long sig_loops;   /* atomic: the signaller's rounds */
static void *signaller(void *arg) {
    (void)arg;
    while (__atomic_load_n(&storm_on, __ATOMIC_ACQUIRE)) {
        int i;
        kill(getpid(), SIGUSR1);
        if (__atomic_load_n(&sig_threads, __ATOMIC_ACQUIRE))
            for (i = 0; i < nwaiters; i++) pthread_kill(waiters[i], SIGUSR1);
        __atomic_add_fetch(&sig_loops, 1, __ATOMIC_ACQ_REL);
        usleep(50);
    }
    return NULL;
}

static gort_chan *sig_ch;
static gort_mutex sig_mu = GORT_MUTEX_INIT;
static gort_cond sig_cv = GORT_COND_INIT;
static int sig_flag;
static int sig_sv[2];
static long early, eintr;
static int sig_at_recv;   /* atomic: waiter threads past waits() and the cond wait */

/* Each round: every kind of wait, each of which must take its full time
   or end only for its real reason. */
static void waits(int rounds) {
    int r;
    for (r = 0; r < rounds; r++) {
        int64_t t0 = gort_now();
        gort_case cs[1];
        int rc;
        char c;
        gort_sleep(2 * MS);
        if (gort_now() - t0 < 2 * MS) __atomic_add_fetch(&early, 1, __ATOMIC_RELAXED);
        memset(cs, 0, sizeof cs);
        cs[0].chan = sig_ch; cs[0].op = GORT_RECV;   /* nobody sends */
        t0 = gort_now();
        rc = gort_select(cs, 1, 2 * MS);
        if (rc == -EINTR) __atomic_add_fetch(&eintr, 1, __ATOMIC_RELAXED);
        else if (rc != -ETIMEDOUT || gort_now() - t0 < 2 * MS) __atomic_add_fetch(&early, 1, __ATOMIC_RELAXED);
        t0 = gort_now();
        rc = (int)gort_read_timeout(sig_sv[0], &c, 1, 2 * MS);   /* no data comes */
        if (rc == -EINTR) __atomic_add_fetch(&eintr, 1, __ATOMIC_RELAXED);
        else if (rc != -ETIMEDOUT || gort_now() - t0 < 2 * MS) __atomic_add_fetch(&early, 1, __ATOMIC_RELAXED);
    }
}

static void *waiter_thread(void *arg) {
    (void)arg;
    waits(10);
    /* a mutex and cond wait whose release comes from a goroutine */
    gort_mutex_lock(&sig_mu);
    while (!__atomic_load_n(&sig_flag, __ATOMIC_ACQUIRE)) gort_cond_wait(&sig_cv, &sig_mu);
    gort_mutex_unlock(&sig_mu);
    /* a receive that a goroutine answers after 5 ms (once every thread
       is here: a send while one is still in waits() would go to its
       select, and its receive here would wait forever) */
    __atomic_add_fetch(&sig_at_recv, 1, __ATOMIC_SEQ_CST);
    CHECK_EQ(gort_chan_recv(sig_ch, NULL), 1);
    return NULL;
}

static void waiter_g(void *arg) {
    gort_wg *wg = (gort_wg *)arg;
    waits(10);
    gort_wg_done(wg);
}

static void sigstorm_main(void *arg) {
    pthread_t sg;
    gort_wg wg = GORT_WG_INIT;
    int i;
    int64_t t0;
    (void)arg;
    sig_ch = gort_chan_make(0, 0);
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sig_sv), 0);
    nwaiters = 2;
    for (i = 0; i < nwaiters; i++) CHECK_EQ(pthread_create(&waiters[i], NULL, waiter_thread, NULL), 0);
    __atomic_store_n(&sig_threads, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&storm_on, 1, __ATOMIC_RELEASE);
    CHECK_EQ(pthread_create(&sg, NULL, signaller, NULL), 0);
    gort_wg_add(&wg, 4);
    for (i = 0; i < 4; i++) CHECK_EQ(gort_go(waiter_g, &wg), 0);
    t0 = gort_now();
    gort_wg_wait(&wg);
    CHECK(gort_now() - t0 >= 10 * 6 * MS);
    /* release the threads' cond waits, then their receives */
    gort_sleep(50 * MS);
    gort_mutex_lock(&sig_mu);
    __atomic_store_n(&sig_flag, 1, __ATOMIC_RELEASE);
    gort_cond_broadcast(&sig_cv);
    gort_mutex_unlock(&sig_mu);
    for (i = 0; i < 60000 && __atomic_load_n(&sig_at_recv, __ATOMIC_SEQ_CST) < nwaiters; i++) gort_sleep(MS);
    CHECK_EQ(__atomic_load_n(&sig_at_recv, __ATOMIC_SEQ_CST), nwaiters);
    for (i = 0; i < nwaiters; i++) {
        gort_sleep(5 * MS);
        CHECK_EQ(gort_chan_send(sig_ch, NULL), 0);
    }
    /* no pthread_kill of a thread once it is joined (its pthread_t is gone:
       musl's pthread_kill then touches freed memory): stop signalling the
       threads and wait until the signaller's round in flight is over */
    __atomic_store_n(&sig_threads, 0, __ATOMIC_RELEASE);
    {
        long l0 = __atomic_load_n(&sig_loops, __ATOMIC_ACQUIRE);
        for (i = 0; i < 60000 && __atomic_load_n(&sig_loops, __ATOMIC_ACQUIRE) < l0 + 2; i++) gort_sleep(MS);
    }
    for (i = 0; i < nwaiters; i++) pthread_join(waiters[i], NULL);
    /* a storm of at least 100 signals, however slowly a loaded machine
       runs the signaller (bounded: a signaller that never runs fails) */
    for (i = 0; i < 10000 && __atomic_load_n(&sigs, __ATOMIC_RELAXED) <= 100; i++)
        gort_sleep(MS);
    __atomic_store_n(&storm_on, 0, __ATOMIC_RELEASE);
    pthread_join(sg, NULL);
    {
        long ns = __atomic_load_n(&sigs, __ATOMIC_RELAXED), ni = __atomic_load_n(&eintr, __ATOMIC_RELAXED),
             ne = __atomic_load_n(&early, __ATOMIC_RELAXED);
        CHECK_EQ(ni, 0);
        CHECK_EQ(ne, 0);
        CHECK(ns > 100);
        check_note("SIGUSR1 storm: %ld signals, %ld -EINTR, %ld early wakes", ns, ni, ne);
    }
    close(sig_sv[0]);
    close(sig_sv[1]);
    gort_chan_free(sig_ch);
}
#endif

/* ---- 100k timers ---- */
static void timers_main(void *arg) {
    long n = check_scale(100000), i, fired = 0, early_t = 0;
    gort_chan **cs = (gort_chan **)calloc((size_t)n, sizeof *cs);
    int64_t *due = (int64_t *)calloc((size_t)n, sizeof *due);
    (void)arg;
    for (i = 0; i < n; i++) {
        int64_t d = (int64_t)((i * 7919) % 200) * MS / 4 + 1;   /* 1 ns .. 50 ms */
        due[i] = gort_now() + d;
        cs[i] = gort_after(d);
        CHECK(cs[i] != NULL);
    }
    for (i = 0; i < n; i++) {
        int64_t at = 0;
        if (gort_chan_recv(cs[i], &at) == 1) {
            fired++;
            if (at < due[i]) early_t++;
        }
        gort_chan_free(cs[i]);
    }
    CHECK_EQ(fired, n);
    CHECK_EQ(early_t, 0);
    check_note("%ld timers: %ld fired, %ld early", n, fired, early_t);
    free(cs);
    free(due);
}

int main(void) {
    gort_opts o;
#if !defined(_WIN32)
    struct sigaction sa;
#endif
    int procs;
    memset(&o, 0, sizeof o);
    for (procs = 1; procs <= 2; procs++) {
        o.maxprocs = procs;
        CHECK_EQ(gort_run_opts(&o, storms_main, NULL), 0);
    }
    o.maxprocs = 2;
    CHECK_EQ(gort_run_opts(&o, storms_main, &o), 0);   /* plain-thread producers too */
    check_note("close storms: %ld values moved, 0 lost, 0 duplicated (checked); %d of 12 closed in mid-stream",
               storm_values, storm_mid);
    CHECK(storm_mid >= 6);

#if defined(_WIN32)
    check_note("SIGUSR1 storm: not run (Windows has no signals that could interrupt a wait)");
#else
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;   /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
    CHECK_EQ(gort_run_opts(&o, sigstorm_main, NULL), 0);
#endif

    CHECK_EQ(gort_run_opts(&o, timers_main, NULL), 0);
    return check_done();
}
