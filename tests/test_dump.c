/* test_dump.c - gort_dump.

   Goroutines are parked in every state gort_dump names (chan receive,
   chan send, select, sleep, mutex, waitgroup, cond, io wait, syscall)
   while the main goroutine (running) dumps to a temporary file and to a
   pipe. Each goroutine's entry starts with "goroutine <id> [<state>" and
   names its start function (the functions are global and the harness
   links with -rdynamic, so dladdr finds them). Checked:
     - an io wait names its fd ("io wait fd N"), for gort_read and for
       gort_wait_fd (which waits through the select path);
     - an entry for every expected (state, function) pair, including the
       dumping goroutine itself as running;
     - entries have distinct ids, and as many as gort_goroutines();
     - gort_dump from a plain thread, in background mode (gort_start), and
       to a bad fd (-1: no crash);
     - while the dump shows goroutines parked on channels (receive, send,
       select), gort_chan_free refuses with -EBUSY and frees nothing;
     - a dump stalled on a full pipe holds no lock: 300 goroutines spawned
       meanwhile all run (gort_go takes the stack lock the dump reads
       the goroutines under).
   A goroutine is "about to block" when it flags so, not necessarily
   parked yet, so the dump is retried (10 ms apart, 5 s at most) until
   every entry shows up. On Windows the io waits are on sockets (a pipe
   has no readiness there) and the stalled dump is not checked: a pipe's
   buffer size is only a hint to Windows (said in a note). */
#define _GNU_SOURCE
// gort-test: windows
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(_WIN32)
#include <io.h>
#define pipe(p) _pipe((p), 1 << 17, _O_BINARY)   /* (the dump fits) */
#define read _read
#define close _close
#else
#include <poll.h>
#include <unistd.h>
#endif

#define MS 1000000LL

void dump_main(void *arg);
void dump_chan_recv(void *arg);
void dump_chan_send(void *arg);
void dump_select(void *arg);
void dump_sleep(void *arg);
void dump_mutex(void *arg);
void dump_wg(void *arg);
void dump_cond(void *arg);
void dump_io(void *arg);
void dump_wait_fd(void *arg);
void dump_syscall(void *arg);
void dump_bg_recv(void *arg);
void dump_stall_child(void *arg);
void dump_stall_spawner(void *arg);

static gort_chan *c_recv, *c_send, *c_sel;
static gort_mutex mu = GORT_MUTEX_INIT;
static gort_wg    wg = GORT_WG_INIT;
static gort_mutex cv_mu = GORT_MUTEX_INIT;
static gort_cond  cv = GORT_COND_INIT;
static int        cv_go;         /* cv_mu */
static int        io_pipe[2];
static int        wfd_pipe[2];   /* dump_wait_fd waits on its read end */
static int        syscall_stop;  /* atomic */
static gort_wg    done = GORT_WG_INIT;

void dump_chan_recv(void *arg)
{
    int v;
    (void)arg;
    CHECK_EQ(gort_chan_recv(c_recv, &v), 1);
    gort_wg_done(&done);
}

void dump_chan_send(void *arg)
{
    int v = 1;
    (void)arg;
    CHECK_EQ(gort_chan_send(c_send, &v), 0);
    gort_wg_done(&done);
}

void dump_select(void *arg)
{
    gort_case cs[2];
    int v;
    (void)arg;
    cs[0].chan = NULL; cs[0].op = GORT_SEND; cs[0].elem = &v; cs[0].ok = -1;
    cs[1].chan = c_sel; cs[1].op = GORT_RECV; cs[1].elem = &v; cs[1].ok = -1;
    CHECK_EQ(gort_select(cs, 2, -1), 1);
    gort_wg_done(&done);
}

void dump_sleep(void *arg)
{
    (void)arg;
    gort_sleep(3600 * 1000 * MS);   /* dropped when main returns */
}

void dump_mutex(void *arg)
{
    (void)arg;
    gort_mutex_lock(&mu);
    gort_mutex_unlock(&mu);
    gort_wg_done(&done);
}

void dump_wg(void *arg)
{
    (void)arg;
    gort_wg_wait(&wg);
    gort_wg_done(&done);
}

void dump_cond(void *arg)
{
    (void)arg;
    gort_mutex_lock(&cv_mu);
    while (!cv_go)
        gort_cond_wait(&cv, &cv_mu);
    gort_mutex_unlock(&cv_mu);
    gort_wg_done(&done);
}

void dump_io(void *arg)
{
    char ch = 0;
    (void)arg;
    CHECK_EQ(gort_read(io_pipe[0], &ch, 1), 1);
    CHECK_EQ(ch, 'x');
    gort_wg_done(&done);
}

void dump_wait_fd(void *arg)
{
    (void)arg;
    CHECK_EQ(gort_wait_fd(wfd_pipe[0], GORT_IN, -1), GORT_IN);
    gort_wg_done(&done);
}

void dump_syscall(void *arg)
{
    (void)arg;
    gort_block_begin();
    while (!LOAD(&syscall_stop)) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    gort_block_end();
    gort_wg_done(&done);
}

/* ------------------------------------------------------------ reading dumps */

static char dumpbuf[1 << 17];

/* gort_dump to a temporary file; returns the text (in dumpbuf) */
static const char *dump_to_file(void)
{
    FILE *f = util_tmpfile();
    size_t n;
    if (!f) {
        CHECK(!"tmpfile");
        dumpbuf[0] = '\0';
        return dumpbuf;
    }
    gort_dump(fileno(f));
    rewind(f);
    n = fread(dumpbuf, 1, sizeof dumpbuf - 1, f);
    dumpbuf[n] = '\0';
    fclose(f);
    return dumpbuf;
}

/* gort_dump to a pipe (the dump is small enough for the pipe buffer) */
static const char *dump_to_pipe(void)
{
    int p[2];
    size_t len = 0;
    ssize_t n;
    if (pipe(p) != 0) {
        CHECK(!"pipe");
        dumpbuf[0] = '\0';
        return dumpbuf;
    }
    gort_dump(p[1]);
    close(p[1]);
    while ((n = read(p[0], dumpbuf + len, sizeof dumpbuf - 1 - len)) > 0)
        len += (size_t)n;
    dumpbuf[len] = '\0';
    close(p[0]);
    return dumpbuf;
}

/* An entry runs from a line starting "goroutine " to the next one. */
static int entry_has(const char *text, const char *state, const char *fn)
{
    const char *p = text;
    char st[64];
    snprintf(st, sizeof st, "[%s", state);
    while ((p = strstr(p, "goroutine ")) != NULL) {
        const char *end;
        size_t n;
        char buf[2048];
        if (p != text && p[-1] != '\n') {
            p++;
            continue;
        }
        end = strstr(p + 1, "\ngoroutine ");
        n = end ? (size_t)(end - p) : strlen(p);
        if (n >= sizeof buf)
            n = sizeof buf - 1;
        memcpy(buf, p, n);
        buf[n] = '\0';
        if (strstr(buf, st) && strstr(buf, fn))
            return 1;
        p++;
    }
    return 0;
}

/* counts entries; 0 if two share an id or an entry is malformed */
static int count_entries(const char *text)
{
    long ids[4096];
    int n = 0, i;
    const char *p = text;
    while ((p = strstr(p, "goroutine ")) != NULL) {
        char *end;
        long id;
        if (p != text && p[-1] != '\n') {
            p++;
            continue;
        }
        id = strtol(p + 10, &end, 10);
        if (end == p + 10 || strncmp(end, " [", 2) != 0)
            return 0;
        for (i = 0; i < n; i++)
            if (ids[i] == id)
                return 0;
        if (n < 4096)
            ids[n++] = id;
        p++;
    }
    return n;
}

static const char *const states[] = { "running", "chan receive", "chan send", "select",
                                      "sleep", "mutex", "waitgroup", "cond", "io wait",
                                      "syscall" };
/* the main goroutine's entry may name either dump_main or "main" (gort
   names it "main"); "main" matches both */
static const char *const fns[] = { "main", "dump_chan_recv", "dump_chan_send",
                                   "dump_select", "dump_sleep", "dump_mutex", "dump_wg",
                                   "dump_cond", "dump_io", "dump_syscall" };
enum { NSTATES = sizeof states / sizeof states[0] };

static int all_present(const char *text, int report)
{
    int i, ok = 1;
    for (i = 0; i < NSTATES; i++) {
        if (!entry_has(text, states[i], fns[i])) {
            if (report)
                fprintf(stderr, "dump: no entry [%s ... %s\n", states[i], fns[i]);
            ok = 0;
        }
    }
    return ok;
}

/* Each io wait names its own fd: "[io wait fd N, ". */
static int fds_present(const char *text, int report)
{
    char st[2][64];
    const char *fn[2] = { "dump_io", "dump_wait_fd" };
    int i, ok = 1;
    snprintf(st[0], sizeof st[0], "io wait fd %d,", io_pipe[0]);
    snprintf(st[1], sizeof st[1], "io wait fd %d,", wfd_pipe[0]);
    for (i = 0; i < 2; i++) {
        if (!entry_has(text, st[i], fn[i])) {
            if (report)
                fprintf(stderr, "dump: no entry [%s ... %s\n", st[i], fn[i]);
            ok = 0;
        }
    }
    return ok;
}

/* A parked goroutine is runnable for a moment now and then (an fd's
   waiters wake every GORT__PD_CHECK_NS to check their registration), and
   under Valgrind that moment can be long: a dump that misses one is
   taken again, as dump_main's first loop does (Valgrind failed once). */
static void *thread_dump(void *arg)
{
    int *ok = (int *)arg;
    const char *text = NULL;
    int i, tries;
    for (tries = 0; tries < 100; tries++) {
        struct timespec ts = { 0, 10000000 };
        text = dump_to_pipe();
        *ok = 1;
        for (i = 1; i < NSTATES; i++)   /* everything but the running main */
            if (!entry_has(text, states[i], fns[i]))
                *ok = 0;
        if (*ok)
            return NULL;
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "---- last dump from a plain thread:\n%s---- end\n", text);
    return NULL;
}

void dump_main(void *arg)
{
    const char *text = NULL;
    int tries, i, thread_ok = 0;
    char x = 'x';
    pthread_t t;
    (void)arg;

    c_recv = gort_chan_make(sizeof(int), 0);
    c_send = gort_chan_make(sizeof(int), 0);
    c_sel = gort_chan_make(sizeof(int), 0);
    CHECK_EQ(poll_pair(io_pipe), 0);
    CHECK_EQ(poll_pair(wfd_pipe), 0);
    gort_mutex_lock(&mu);
    gort_wg_add(&wg, 1);
    gort_wg_add(&done, 9);

    CHECK_EQ(gort_go(dump_chan_recv, NULL), 0);
    CHECK_EQ(gort_go(dump_chan_send, NULL), 0);
    CHECK_EQ(gort_go(dump_select, NULL), 0);
    CHECK_EQ(gort_go(dump_sleep, NULL), 0);
    CHECK_EQ(gort_go(dump_mutex, NULL), 0);
    CHECK_EQ(gort_go(dump_wg, NULL), 0);
    CHECK_EQ(gort_go(dump_cond, NULL), 0);
    CHECK_EQ(gort_go(dump_io, NULL), 0);
    CHECK_EQ(gort_go(dump_wait_fd, NULL), 0);
    CHECK_EQ(gort_go(dump_syscall, NULL), 0);

    for (tries = 0; tries < 500; tries++) {
        gort_sleep(10 * MS);
        text = dump_to_file();
        if (all_present(text, 0) && fds_present(text, 0))
            break;
    }
    if (!all_present(text, 1) || !fds_present(text, 1)) {
        fprintf(stderr, "---- last dump:\n%s---- end\n", text);
        CHECK(!"dump entries missing");
    }
    {
        int n = count_entries(text);
        long live = gort_goroutines();
        if (n == 0 || n != live) {
            fprintf(stderr, "dump: %d well-formed entries with distinct ids, "
                            "gort_goroutines() = %ld\n%s", n, live, text);
            CHECK_EQ(n, live);
        }
    }

    /* the dump shows them parked, so gort_chan_free must refuse (and
       free nothing) while a receiver, a sender or a select waits */
    CHECK_EQ(gort_chan_free(c_recv), -EBUSY);
    CHECK_EQ(gort_chan_free(c_send), -EBUSY);
    CHECK_EQ(gort_chan_free(c_sel), -EBUSY);

    /* the same through a pipe */
    text = dump_to_pipe();
    CHECK(all_present(text, 1));

    /* from a plain thread (it has no entry of its own) */
    CHECK_EQ(pthread_create(&t, NULL, thread_dump, &thread_ok), 0);
    gort_block_begin();
    pthread_join(t, NULL);
    gort_block_end();
    CHECK_EQ(thread_ok, 1);

    /* a bad fd is ignored */
    gort_dump(-1);

    /* release everyone but the sleeper */
    i = 1;
    CHECK_EQ(gort_chan_send(c_recv, &i), 0);
    CHECK_EQ(gort_chan_recv(c_send, &i), 1);
    CHECK_EQ(gort_chan_send(c_sel, &i), 0);
    gort_mutex_unlock(&mu);
    gort_wg_done(&wg);
    gort_mutex_lock(&cv_mu);
    cv_go = 1;
    gort_cond_broadcast(&cv);
    gort_mutex_unlock(&cv_mu);
    CHECK_EQ(gort_write(io_pipe[1], &x, 1), 1);
    CHECK_EQ(gort_write(wfd_pipe[1], &x, 1), 1);
    STORE(&syscall_stop, 1);
    gort_wg_wait(&done);
    CHECK_EQ(gort_chan_free(c_recv), 0);
    CHECK_EQ(gort_chan_free(c_send), 0);
    CHECK_EQ(gort_chan_free(c_sel), 0);
    gort_close(io_pipe[0]);
    gort_close(io_pipe[1]);
    gort_close(wfd_pipe[0]);
    gort_close(wfd_pipe[1]);
}

/* ------------------------------------------------------------ background mode */

static gort_wg bg_done = GORT_WG_INIT;

void dump_bg_recv(void *arg)
{
    int v;
    CHECK_EQ(gort_chan_recv((gort_chan *)arg, &v), 1);
    gort_wg_done(&bg_done);
}

static void test_background(void)
{
    gort_opts o;
    gort_chan *c;
    const char *text = NULL;
    int tries, v = 3;
    memset(&o, 0, sizeof o);
    CHECK_EQ(gort_start(&o), 0);
    c = gort_chan_make(sizeof(int), 0);
    gort_wg_add(&bg_done, 1);
    CHECK_EQ(gort_go(dump_bg_recv, c), 0);
    for (tries = 0; tries < 500; tries++) {
        gort_sleep(10 * MS);
        text = dump_to_file();
        if (entry_has(text, "chan receive", "dump_bg_recv"))
            break;
    }
    if (!entry_has(text, "chan receive", "dump_bg_recv")) {
        fprintf(stderr, "---- background dump:\n%s---- end\n", text);
        CHECK(!"background dump entry missing");
    }
    CHECK_EQ(gort_chan_send(c, &v), 0);
    gort_wg_wait(&bg_done);
    CHECK_EQ(gort_chan_free(c), 0);
    CHECK_EQ(gort_stop(), 0);
}

/* ------------------------------------------------------------ a stalled dump */

/* A dump into a pipe nobody reads blocks its writer; it must not hold a
   lock meanwhile. The pipe is left room for the header line only, so the
   dump stalls on its first goroutine line: gort_go (which takes the stack
   lock for segments) must go on working on the runtime's threads. */
#if defined(_WIN32)
static void test_stalled_dump(void)
{
    check_note("stalled dump: not checked on Windows (no one-page pipe: its size is only a hint)");
}
#else
static long stall_ran;   /* atomic */
static int  stall_done;  /* atomic: the dumping thread's gort_dump returned */
static int  stall_pipe[2];

void dump_stall_child(void *arg)
{
    (void)arg;
    ADD(&stall_ran, 1);
}
void dump_stall_spawner(void *arg)
{
    long i, n = 0;
    CHECK_EQ(gort_chan_recv((gort_chan *)arg, &n), 1);   /* once the dump is stalled */
    for (i = 0; i < n; i++)
        CHECK_EQ(gort_go(dump_stall_child, NULL), 0);
    ADD(&stall_ran, 1);
}
static void *stall_dumper(void *arg)
{
    (void)arg;
    gort_dump(stall_pipe[1]);
    STORE(&stall_done, 1);
    return NULL;
}

static void test_stalled_dump(void)
{
    static char fill[4096];
    gort_opts o;
    gort_chan *c, *gate;
    pthread_t th;
    long n = 300, ran;
    int64_t end;
    int v = 1;
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    if (pipe(stall_pipe) != 0 || fcntl(stall_pipe[1], F_SETPIPE_SZ, 4096) != 4096) {
        check_note("stalled dump: no one-page pipe here; not checked");
        return;
    }
    CHECK_EQ(gort_start(&o), 0);
    c = gort_chan_make(sizeof(int), 0);
    gate = gort_chan_make(sizeof(long), 1);
    gort_wg_add(&bg_done, 1);
    CHECK_EQ(gort_go(dump_bg_recv, c), 0);   /* a goroutine for the dump to list */
    /* spawned now: from a plain thread gort_go itself takes the stack
       lock, and this thread must stay free to drain the pipe */
    CHECK_EQ(gort_go(dump_stall_spawner, gate), 0);
    gort_sleep(20 * MS);
    /* room for "gort: N goroutines, 2 Ps\n" and no more */
    memset(fill, 'x', sizeof fill);
    CHECK_EQ(write(stall_pipe[1], fill, 4096 - 40), 4096 - 40);
    CHECK_EQ(pthread_create(&th, NULL, stall_dumper, NULL), 0);
    gort_sleep(50 * MS);
    CHECK(!LOAD(&stall_done));   /* stalled, as intended */
    CHECK_EQ(gort_chan_send(gate, &n), 0);
    end = gort_now() + 5000 * MS;
    while (LOAD(&stall_ran) < n + 1 && gort_now() < end)
        gort_sleep(1 * MS);
    ran = LOAD(&stall_ran);
    if (ran != n + 1) {
        fprintf(stderr, "stalled dump: %ld of %ld goroutines ran in 5 s while a dump was stalled\n",
                ran, n + 1);
        CHECK(!"goroutines ran while a dump was stalled on a full pipe");
    }
    /* Drain: the dump finishes. */
    end = gort_now() + 10000 * MS;
    while (!LOAD(&stall_done) && gort_now() < end) {
        char buf[4096];
        struct pollfd pfd;
        pfd.fd = stall_pipe[0]; pfd.events = POLLIN; pfd.revents = 0;
        if (poll(&pfd, 1, 10) == 1 && read(stall_pipe[0], buf, sizeof buf) <= 0)
            break;
    }
    CHECK(LOAD(&stall_done));
    pthread_join(th, NULL);
    end = gort_now() + 10000 * MS;   /* (only a failed run has some left) */
    while (LOAD(&stall_ran) < n + 1 && gort_now() < end)
        gort_sleep(1 * MS);
    CHECK_EQ(gort_chan_send(c, &v), 0);
    gort_wg_wait(&bg_done);
    CHECK_EQ(gort_chan_free(c), 0);
    CHECK_EQ(gort_chan_free(gate), 0);
    CHECK_EQ(gort_stop(), 0);
    close(stall_pipe[0]);
    close(stall_pipe[1]);
    if (ran == n + 1)
        check_note("stalled dump: %ld goroutines ran while a dump waited on a full pipe", n);
}
#endif

int main(void)
{
    gort_opts o;
    memset(&o, 0, sizeof o);
    o.maxprocs = 2;
    o.no_sigquit = 1;
    CHECK_EQ(gort_run_opts(&o, dump_main, NULL), 0);
    test_background();
    test_stalled_dump();
    return check_done();
}
