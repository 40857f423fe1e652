/* test_config.c - option and environment resolution (>>runtime,
   gort__cfg_resolve), driven with tables and no runtime.

   gort__cfg_resolve is a pure function of gort_opts, the GORT_*
   environment strings, the CPU count and the page size. Each row gives
   those and the exact configuration expected: Ps, stack segment size,
   debug bits, hog threshold, SIGQUIT handler, which variables are ignored
   as malformed, and whether the options are refused (-EINVAL, with a
   message). Options win over the environment; the environment only fills
   what the options leave at 0.
   C99. */
// gort-test: windows
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define PAGE 4096
#define MS   1000000LL

struct row {
    const char *what;
    int maxprocs;                 /* gort_opts */
    size_t stack_size;
    int64_t hog_ns;
    int debug, no_sigquit;
    const char *e_procs, *e_stack, *e_hog, *e_debug, *e_quit;   /* $GORT_* */
    int ncpu;
    int rc;                       /* expected */
    int nprocs;
    size_t slot;
    int64_t hog;
    int dbg, quit, bad;
};

/* the segment for a stack size: whole pages, at least 4 (the G is not
   in it: it lives in its region's G array) */
static size_t seg(size_t ss)
{
    size_t min = 4 * PAGE;
#if defined(_WIN32)
    min += GORT__OS_GUARANTEE;   /* kept for the overflow handler there */
#endif
    if (ss < min)
        ss = min;
    return (ss + PAGE - 1) & ~(size_t)(PAGE - 1);
}

int main(void)
{
    const size_t dflt = seg(GORT__DEFAULT_STACK);
    const struct row rows[] = {
        { "defaults", 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 8,
          0, 8, 0, 10 * MS, 0, 1, 0 },
        { "no CPU count: one P", 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 0,
          0, 1, 0, 10 * MS, 0, 1, 0 },
        { "GORT_MAXPROCS with blanks", 0, 0, 0, 0, 0, " 3 ", NULL, NULL, NULL, NULL, 8,
          0, 3, 0, 10 * MS, 0, 1, 0 },
        { "opts.maxprocs wins over GORT_MAXPROCS", 2, 0, 0, 0, 0, "5", NULL, NULL, NULL, NULL, 8,
          0, 2, 0, 10 * MS, 0, 1, 0 },
        { "GORT_MAXPROCS malformed: ignored, CPU count", 0, 0, 0, 0, 0, "abc", NULL, NULL, NULL, NULL, 6,
          0, 6, 0, 10 * MS, 0, 1, GORT__ENV_MAXPROCS },
        { "GORT_MAXPROCS=0: CPU count", 0, 0, 0, 0, 0, "0", NULL, NULL, NULL, NULL, 6,
          0, 6, 0, 10 * MS, 0, 1, 0 },
        { "GORT_MAXPROCS capped", 0, 0, 0, 0, 0, "99999", NULL, NULL, NULL, NULL, 6,
          0, GORT__MAXPROCS_MAX, 0, 10 * MS, 0, 1, 0 },
        { "opts.maxprocs capped", 5000, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 6,
          0, GORT__MAXPROCS_MAX, 0, 10 * MS, 0, 1, 0 },
        { "negative maxprocs refused", -1, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 6,
          -EINVAL, 0, 0, 0, 0, 0, 0 },
        { "GORT_STACK_SIZE=64k", 0, 0, 0, 0, 0, NULL, "64k", NULL, NULL, NULL, 2,
          0, 2, 65536, 10 * MS, 0, 1, 0 },
        { "GORT_STACK_SIZE=1M", 0, 0, 0, 0, 0, NULL, "1M", NULL, NULL, NULL, 2,
          0, 2, 1 << 20, 10 * MS, 0, 1, 0 },
        { "opts.stack_size wins", 0, 100000, 0, 0, 0, NULL, "64k", NULL, NULL, NULL, 2,
          0, 2, 0, 10 * MS, 0, 1, 0 },
        { "tiny stack: raised to the minimum", 0, 1, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 2,
          0, 2, 0, 10 * MS, 0, 1, 0 },
        { "GORT_STACK_SIZE malformed: ignored", 0, 0, 0, 0, 0, NULL, "1x", NULL, NULL, NULL, 2,
          0, 2, 0, 10 * MS, 0, 1, GORT__ENV_STACK },
        { "stack over 1 GiB refused", 0, ((size_t)1 << 30) + 1, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 2,
          -EINVAL, 0, 0, 0, 0, 0, 0 },
        { "GORT_STACK_SIZE=2g refused", 0, 0, 0, 0, 0, NULL, "2g", NULL, NULL, NULL, 2,
          -EINVAL, 0, 0, 0, 0, 0, 0 },
        { "GORT_HOG_MS=50", 0, 0, 0, 0, 0, NULL, NULL, "50", NULL, NULL, 2,
          0, 2, 0, 50 * MS, 0, 1, 0 },
        { "GORT_HOG_MS=0: off", 0, 0, 0, 0, 0, NULL, NULL, "0", NULL, NULL, 2,
          0, 2, 0, 0, 0, 1, 0 },
        { "opts.hog_ns < 0 wins", 0, 0, -1, 0, 0, NULL, NULL, "50", NULL, NULL, 2,
          0, 2, 0, -1, 0, 1, 0 },
        { "GORT_HOG_MS malformed: default", 0, 0, 0, 0, 0, NULL, NULL, "soon", NULL, NULL, 2,
          0, 2, 0, 10 * MS, 0, 1, GORT__ENV_HOG },
        { "GORT_DEBUG two words", 0, 0, 0, 0, 0, NULL, NULL, NULL, "migrate,guard=canary", NULL, 2,
          0, 2, 0, 10 * MS, GORT_DEBUG_MIGRATE | GORT_DEBUG_GUARD_CANARY, 1, 0 },
        { "GORT_DEBUG: a bad word keeps the good one", 0, 0, 0, 0, 0, NULL, NULL, NULL, "bogus migrate", NULL, 2,
          0, 2, 0, 10 * MS, GORT_DEBUG_MIGRATE, 1, GORT__ENV_DEBUG },
        { "opts.debug and GORT_DEBUG add up", 0, 0, 0, GORT_DEBUG_GUARD_MPROT, 0, NULL, NULL, NULL, "migrate", NULL, 2,
          0, 2, 0, 10 * MS, GORT_DEBUG_MIGRATE | GORT_DEBUG_GUARD_MPROT, 1, 0 },
        { "GORT_NOSIGQUIT=1", 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, "1", 2,
          0, 2, 0, 10 * MS, 0, 0, 0 },
        { "GORT_NOSIGQUIT=0 keeps it", 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, "0", 2,
          0, 2, 0, 10 * MS, 0, 1, 0 },
        { "opts.no_sigquit", 0, 0, 0, 0, 1, NULL, NULL, NULL, NULL, NULL, 2,
          0, 2, 0, 10 * MS, 0, 0, 0 },
    };
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        gort_opts o;
        gort__cfg_in in;
        gort__cfg c;
        int rc, fails = check_failures();
        size_t want_slot;
        memset(&o, 0, sizeof o);
        o.maxprocs = r->maxprocs;
        o.stack_size = r->stack_size;
        o.hog_ns = r->hog_ns;
        o.debug = r->debug;
        o.no_sigquit = r->no_sigquit;
        memset(&in, 0, sizeof in);
        in.maxprocs = r->e_procs;
        in.stack_size = r->e_stack;
        in.hog_ms = r->e_hog;
        in.debug = r->e_debug;
        in.nosigquit = r->e_quit;
        in.ncpu = r->ncpu;
        in.page = PAGE;
        rc = gort__cfg_resolve(&o, &in, &c);
        CHECK_EQ(rc, r->rc);
        if (rc != 0) {
            CHECK(c.refused != NULL && strlen(c.refused) > 20);
        } else {
            want_slot = r->slot ? seg(r->slot) : r->stack_size ? seg(r->stack_size) : dflt;
            CHECK(c.refused == NULL);
            CHECK_EQ(c.nprocs, r->nprocs);
            CHECK_EQ(c.slot_size, want_slot);
            CHECK_EQ(c.slot_size % PAGE, 0);
            CHECK_EQ(c.hog_ns, r->hog);
            CHECK_EQ(c.debug, r->dbg);
            CHECK_EQ(c.sigquit, r->quit);
            CHECK_EQ(c.bad_env, r->bad);
            if (r->bad & GORT__ENV_DEBUG)
                CHECK(c.bad_debug != NULL && c.bad_debug_len == 5 && !strncmp(c.bad_debug, "bogus", 5));
        }
        if (check_failures() != fails)
            check_note("row %zu (%s) failed", i, r->what);
    }
    {   /* the hand-off's threshold: opts.handoff_ns, $GORT_HANDOFF_MS,
           GORT_DEBUG=handoff */
        static const struct {
            const char *what;
            int64_t opt;
            int debug;
            const char *env, *e_debug;
            int64_t want;
            int bad;
        } h[] = {
            { "hand-off default 10 ms", 0, 0, NULL, NULL, 10 * MS, 0 },
            { "GORT_HANDOFF_MS=50", 0, 0, "50", NULL, 50 * MS, 0 },
            { "GORT_HANDOFF_MS=0: off", 0, 0, "0", NULL, -1, 0 },
            { "GORT_HANDOFF_MS malformed: default", 0, 0, "later", NULL, 10 * MS, GORT__ENV_HANDOFF },
            { "opts.handoff_ns wins", 3 * MS, 0, "50", NULL, 3 * MS, 0 },
            { "opts.handoff_ns < 0: off", -5, 0, NULL, NULL, -1, 0 },
            { "GORT_DEBUG=handoff: every look", 0, 0, NULL, "handoff", 0, 0 },
            { "opts.debug handoff over a threshold", 50 * MS, GORT_DEBUG_HANDOFF, NULL, NULL, 0, 0 },
            { "off wins over GORT_DEBUG=handoff", -1, 0, NULL, "handoff", -1, 0 },
        };
        for (i = 0; i < sizeof h / sizeof h[0]; i++) {
            gort_opts o;
            gort__cfg_in in;
            gort__cfg c;
            int fails = check_failures();
            memset(&o, 0, sizeof o);
            o.handoff_ns = h[i].opt;
            o.debug = h[i].debug;
            memset(&in, 0, sizeof in);
            in.handoff_ms = h[i].env;
            in.debug = h[i].e_debug;
            in.ncpu = 2;
            in.page = PAGE;
            CHECK_EQ(gort__cfg_resolve(&o, &in, &c), 0);
            CHECK_EQ(c.handoff_ns, h[i].want);
            CHECK_EQ(c.bad_env, h[i].bad);
            if (check_failures() != fails)
                check_note("hand-off row %zu (%s) failed", i, h[i].what);
        }
    }
    return check_done();
}
