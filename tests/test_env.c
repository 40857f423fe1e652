/* test_env.c - the environment variables gort_run reads (>>runtime,
   CONFIGURATION).

   Each case runs in a fork()ed child (on Windows: this program run
   again, util.h's util_spawn) with stderr on a pipe; the child
   starts a runtime three times (so "once" can be checked), then writes
   what the runtime chose (gort_maxprocs, how often main moved between
   threads) on a last stderr line.
   - bad values (GORT_DEBUG=bogus, GORT_MAXPROCS=abc, GORT_STACK_SIZE=1x,
     GORT_HOG_MS=soon) are each reported exactly once, in one line that
     names the variable and the value and shows an accepted form, and
     the defaults apply (the runtime runs);
   - one bad word in GORT_DEBUG does not drop the good ones beside it
     (migrate still applies: goroutines move between threads);
   - good values (GORT_MAXPROCS=" 3 ", GORT_STACK_SIZE=64k, GORT_DEBUG=
     migrate,guard=canary, GORT_HOG_MS=50) print nothing, and
     gort_maxprocs() is 3.
   C99. */
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
#include <sys/wait.h>
#include <unistd.h>
#endif

struct env { const char *name, *value; };

static int child_maxprocs;
static long child_moves;

static __attribute__((noinline)) pthread_t cur_thread(void)
{
    __asm__ volatile("" ::: "memory");
    return pthread_self();
}

static void child_main(void *arg)
{
    pthread_t t = cur_thread();
    int i;
    (void)arg;
    child_maxprocs = gort_maxprocs();
    /* 200 yields, and up to 5000 while none has moved: under GORT_DEBUG=
       migrate a yield waits at most 200 us for another M, which a loaded
       machine may not run that soon (CI: 0 moves in 200 under Wine) */
    for (i = 0; i < 200 || (child_moves == 0 && i < 5000); i++) {
        gort_yield();
        if (!pthread_equal(cur_thread(), t)) child_moves++;
        t = cur_thread();
    }
}

struct env_set {
    const struct env *env;
    int               nenv;
};

/* The child: sets the variables, starts a runtime three times, and prints
   "[child maxprocs N moves M]" on stderr. */
static int env_child(void *arg)
{
    const struct env_set *es = (const struct env_set *)arg;
    int rc = 0, i;
    unsetenv("GORT_DEBUG");
    unsetenv("GORT_MAXPROCS");
    unsetenv("GORT_STACK_SIZE");
    unsetenv("GORT_HOG_MS");
    unsetenv("GORT_HANDOFF_MS");
    for (i = 0; i < es->nenv; i++)
        setenv(es->env[i].name, es->env[i].value, 1);
    for (i = 0; i < 3 && rc == 0; i++) {
        child_moves = 0;
        rc = gort_run(child_main, NULL);
    }
    fprintf(stderr, "[child maxprocs %d moves %ld]\n", child_maxprocs, child_moves);
    return rc == 0 ? 0 : 3;
}

static void run_env_child(const struct env *env, int nenv, struct child *o)
{
    static struct env_set es;   /* static: on Windows the child is this program run again */
    es.env = env;
    es.nenv = nenv;
    run_child(env_child, &es, 60, o);
}

/* lines that start with "gort: " */
static int gort_lines(const char *text)
{
    int n = text[0] && !strncmp(text, "gort: ", 6);
    return n + count_str(text, "\ngort: ");
}

static void check_line(const char *err, const char *var_value, const char *form)
{
    const char *p = strstr(err, var_value);
    CHECK_EQ(count_str(err, var_value), 1);
    if (p) {
        const char *eol = strchr(p, '\n');
        char line[512];
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (n >= sizeof line) n = sizeof line - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        CHECK(strstr(line, "ignored") != NULL);
        CHECK(strstr(line, form) != NULL);
    }
}

int main(void)
{
    struct child *o = (struct child *)malloc(sizeof *o);
    int mp = 0;
    long moves = -1;
    const char *r;
    if (!o) return 1;

    {   /* bad values: one line each, once; the defaults apply */
        static const struct env bad[] = {
            { "GORT_DEBUG", "bogus" }, { "GORT_MAXPROCS", "abc" },
            { "GORT_STACK_SIZE", "1x" }, { "GORT_HOG_MS", "soon" }, { "GORT_HANDOFF_MS", "-3" },
            { "GORT_COMPACT_MS", "later" } };
        run_env_child(bad, 6, o);
        CHECK_EQ(child_exit_code(o), 0);
        check_line(o->err, "GORT_DEBUG: ignored 'bogus'", "migrate, guard=mprotect, guard=canary, handoff and compact");
        check_line(o->err, "GORT_MAXPROCS=abc", "GORT_MAXPROCS=4");
        check_line(o->err, "GORT_STACK_SIZE=1x", "k, m or g");
        check_line(o->err, "GORT_HOG_MS=soon", "milliseconds");
        check_line(o->err, "GORT_HANDOFF_MS=-3", "milliseconds");
        check_line(o->err, "GORT_COMPACT_MS=later", "GORT_COMPACT_MS=100");
        CHECK_EQ(gort_lines(o->err), 6);
        r = strstr(o->err, "[child maxprocs ");
        CHECK(r && sscanf(r, "[child maxprocs %d moves %ld]", &mp, &moves) == 2 && mp >= 1);
        if (check_failures())
            fprintf(stderr, "---- child's stderr:\n%s---- end\n", o->err);
    }

    {   /* a bad word beside a good one: the good one applies */
        static const struct env mixed[] = {
            { "GORT_DEBUG", "migrate,bogus" }, { "GORT_MAXPROCS", "2" } };
        run_env_child(mixed, 2, o);
        CHECK_EQ(child_exit_code(o), 0);
        check_line(o->err, "GORT_DEBUG: ignored 'bogus'", "migrate");
        CHECK_EQ(gort_lines(o->err), 1);
        r = strstr(o->err, "[child maxprocs ");
        mp = 0; moves = -1;
        CHECK(r && sscanf(r, "[child maxprocs %d moves %ld]", &mp, &moves) == 2);
        CHECK_EQ(mp, 2);
        CHECK(moves > 0);   /* migrate mode on 2 Ps: every yield moves */
    }

    {   /* good values: silent, and they apply */
        static const struct env good[] = {
            { "GORT_DEBUG", "migrate,guard=canary" }, { "GORT_MAXPROCS", " 3 " },
            { "GORT_STACK_SIZE", "64k" }, { "GORT_HOG_MS", "50" }, { "GORT_HANDOFF_MS", "20" } };
        run_env_child(good, 5, o);
        CHECK_EQ(child_exit_code(o), 0);
        CHECK_EQ(gort_lines(o->err), 0);
        r = strstr(o->err, "[child maxprocs ");
        mp = 0;
        CHECK(r && sscanf(r, "[child maxprocs %d", &mp) == 1);
        CHECK_EQ(mp, 3);
        if (gort_lines(o->err))
            fprintf(stderr, "---- child's stderr:\n%s---- end\n", o->err);
    }
    free(o);
    return check_done();
}
