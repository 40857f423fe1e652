/* test_util.c - tests/util.h's child runner, which most of the other
   programs rely on to see what a child process printed and how it ended:
     - stdout_too: both streams captured; the child's exit status comes
       back (exit 7);
     - output beyond the 64 KiB buffer: the first 64 KiB kept, the rest
       read and dropped (the child never blocks), truncated set;
     - the parent's watchdog: a child that hangs gets limit_sig (SIGTERM
       here) after limit_ns (200 ms), hung is set, on_output was called
       with what it printed first, and it lived at least 200 ms;
     - alarm_s: a hanging child dies of SIGALRM after 1 s, hung not set;
     - to_file: the child reads back its own stderr with pread.
   On Windows the child is this program run again (util_spawn): limit_sig
   is a Ctrl+Break, then TerminateProcess (exit 137) when that did not
   end it (Wine delivers none to a program without a console); alarm_s is
   exit 142 (CHILD_ALARM_CODE); to_file has no Windows form. */
#define _GNU_SOURCE
// gort-test: windows
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#define MS 1000000LL

static int both_streams(void *a)
{
    (void)a;
    printf("to-stdout\n");
    fflush(stdout);
    fprintf(stderr, "to-stderr\n");
    return 7;
}

static int flood(void *a)
{
    int i;
    (void)a;
    for (i = 0; i < 20000; i++)
        fprintf(stderr, "0123456789\n");   /* 220,000 bytes */
    return 0;
}

static int hang(void *a)
{
    (void)a;
    fprintf(stderr, "hanging\n");
    for (;;) {
#if defined(_WIN32)
        Sleep(INFINITE);
#else
        pause();
#endif
    }
    return 0;
}

#if !defined(_WIN32)
static int read_back(void *a)
{
    char b[64];
    ssize_t n;
    (void)a;
    fprintf(stderr, "abc\n");
    n = pread(2, b, sizeof b, 0);
    return n == 4 && memcmp(b, "abc\n", 4) == 0 ? 0 : 1;
}
#endif

static void count_calls(const struct child *c, void *ctx)
{
    (void)c;
    (*(int *)ctx)++;
}

int main(void)
{
    static struct child c;
    struct child_opts o;
    int calls = 0;

    memset(&o, 0, sizeof o);
    o.stdout_too = 1;
    CHECK_EQ(run_child_opts(both_streams, NULL, &o, &c), c.status);
    CHECK_EQ(child_exit_code(&c), 7);
    CHECK(child_has(&c, "to-stdout\n"));
    CHECK(child_has(&c, "to-stderr\n"));
    CHECK(!c.truncated && !c.hung);

    run_child(flood, NULL, 0, &c);
    CHECK_EQ(child_exit_code(&c), 0);
    CHECK(c.truncated);
    CHECK_EQ(c.len, sizeof c.err - 1);
    CHECK_EQ(strlen(c.err), c.len);

    memset(&o, 0, sizeof o);
    o.limit_ns = 200 * MS;
    o.limit_sig = SIGTERM;
    o.on_output = count_calls;
    o.ctx = &calls;
    run_child_opts(hang, NULL, &o, &c);
    CHECK(c.hung);
#if defined(_WIN32)
    /* Ctrl+Break's default action, or the TerminateProcess after it */
    if (child_exit_code(&c) != (int)0xC000013A)
        CHECK_EQ(child_exit_code(&c), 137);
#else
    CHECK_EQ(child_exit_code(&c), 128 + SIGTERM);
#endif
    CHECK(calls >= 1);
    CHECK(child_has(&c, "hanging\n"));
    CHECK(c.ns >= 200 * MS);

    run_child(hang, NULL, 1, &c);
    CHECK_EQ(child_exit_code(&c), CHILD_ALARM_CODE);
    CHECK(!c.hung);
#if !defined(_WIN32)

    memset(&o, 0, sizeof o);
    o.to_file = 1;
    run_child_opts(read_back, NULL, &o, &c);
    CHECK_EQ(child_exit_code(&c), 0);
    CHECK(strcmp(c.err, "abc\n") == 0);
    CHECK_EQ(c.len, 4);
    CHECK(!c.truncated);
#endif
    return check_done();
}
