/* test_plainthread.c - plain threads blocked in gort are seen (>>diag,
   >>runtime's deadlock detection). Each case runs in a forked child with
   stderr on a pipe and an alarm, so a hang is a failure, not a stuck run.
     - deadlock with a thread: under gort_run, a plain thread blocks in
       gort_chan_recv on a channel nobody will send on, then main blocks
       forever: gort_run returns -EDEADLK (the thread, blocked on a channel
       with no deadline, cannot wake anyone) and the report lists
       "thread N [chan receive". A thread in gort_sleep counts as live: no
       report while it sleeps, and it is the one that ends the wait;
     - dump in background mode: after gort_start the main thread blocks in
       gort_chan_recv; another thread's gort_dump lists it
       ("thread N [chan receive on 0x..., ... ms]"), then releases it;
     - no runtime: a thread that blocks in gort_chan_recv before any
       runtime exists, with no other thread in gort, says so on stderr
       ("no runtime running") and blocks (the parent kills it). */
// gort-test: windows
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <pthread.h>
#include <signal.h>
#if !defined(_WIN32)
#include <unistd.h>
#endif

#define MS 1000000LL

static struct child kid;   /* the last child's status and stderr */

/* Run fn in a child; returns its exit status (or 128 + signal) and leaves
   its stderr in kid.err. kill_after_ms > 0: SIGKILL it then (for a
   child that is meant to block forever). */
static int in_child(int (*fn)(void *), int kill_after_ms) {
    struct child_opts o;
    memset(&o, 0, sizeof o);
    o.alarm_s = 60;
    o.limit_ns = (int64_t)kill_after_ms * MS;
    o.limit_sig = SIGKILL;
    run_child_opts(fn, NULL, &o, &kid);
    return child_exit_code(&kid);
}

/* ---- deadlock with a blocked thread ---- */
static gort_chan *never;
static void *blocked_thread(void *arg) {
    (void)arg;
    gort_chan_recv(never, NULL);   /* forever */
    return NULL;
}
static void dl_main(void *arg) {
    pthread_t th;
    gort_chan *c = gort_chan_make(0, 0);
    (void)arg;
    CHECK_EQ(pthread_create(&th, NULL, blocked_thread, NULL), 0);
    gort_sleep(50 * MS);   /* the thread is parked by now */
    gort_chan_recv(c, NULL);   /* forever */
}
static int dl_child(void *arg) {
    (void)arg;
    never = gort_chan_make(0, 0);
    return gort_run(dl_main, NULL) == -EDEADLK ? 0 : 1;
}

/* A sleeping thread is live: it is the one that releases main. */
static gort_chan *rel;
static int sleeper_in;   /* atomic: the thread has called into gort */
static void *sleeper_thread(void *arg) {
    (void)arg;
    gort_sleep(MS);
    __atomic_store_n(&sleeper_in, 1, __ATOMIC_SEQ_CST);
    gort_sleep(200 * MS);
    CHECK_EQ(gort_chan_send(rel, NULL), 0);
    return NULL;
}
static void sl_main(void *arg) {
    pthread_t th;
    (void)arg;
    rel = gort_chan_make(0, 0);
    CHECK_EQ(pthread_create(&th, NULL, sleeper_thread, NULL), 0);
    /* a thread counts once it has called into gort */
    while (!__atomic_load_n(&sleeper_in, __ATOMIC_SEQ_CST)) gort_sleep(MS);
    CHECK_EQ(gort_chan_recv(rel, NULL), 1);
    pthread_join(th, NULL);
}
static int sl_child(void *arg) { (void)arg; return gort_run(sl_main, NULL) == 0 && check_failures() == 0 ? 0 : 1; }

/* ---- dump in background mode ---- */
static gort_chan *bg;
static int dump_fd = -1;
static void *dumper_thread(void *arg) {
    (void)arg;
    plain_sleep_ms(100);
    gort_dump(dump_fd);
    gort_chan_send(bg, NULL);
    return NULL;
}
static int bg_child(void *arg) {
    (void)arg;
    pthread_t th;
    char buf[4096];
    size_t n;
    FILE *f = util_tmpfile();   /* the dump's file (deleted when closed) */
    if (!f || gort_start(NULL) != 0) return 2;
    dump_fd = fileno(f);
    bg = gort_chan_make(0, 0);
    pthread_create(&th, NULL, dumper_thread, NULL);
    if (gort_chan_recv(bg, NULL) != 1) return 3;
    pthread_join(th, NULL);
    rewind(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fputs(buf, stderr);   /* for the parent */
    gort_stop();
    return 0;
}

/* ---- no runtime ---- */
static int nort_child(void *arg) {
    (void)arg;
    gort_chan *c = gort_chan_make(0, 0);
    gort_chan_recv(c, NULL);   /* forever, after saying so */
    return 0;
}

int main(void) {
    int rc;
    rc = in_child(dl_child, 0);
    CHECK_EQ(rc, 0);
    CHECK(strstr(kid.err, "deadlock") != NULL);
    CHECK(strstr(kid.err, "[chan receive") != NULL && strstr(kid.err, "thread ") != NULL);
    if (check_failures()) check_note("deadlock child's stderr:\n%s", kid.err);

    rc = in_child(sl_child, 0);
    CHECK_EQ(rc, 0);
    CHECK(strstr(kid.err, "deadlock") == NULL);

    rc = in_child(bg_child, 0);
    CHECK_EQ(rc, 0);
    CHECK(strstr(kid.err, "thread ") != NULL && strstr(kid.err, "[chan receive on 0x") != NULL &&
          strstr(kid.err, " ms]: a plain thread blocked in gort") != NULL);
    if (check_failures()) check_note("background child's stderr:\n%s", kid.err);

    rc = in_child(nort_child, 300);
    CHECK_EQ(rc, 128 + SIGKILL);   /* it blocked, as documented */
    CHECK(strstr(kid.err, "no runtime running") != NULL);
    return check_done();
}
