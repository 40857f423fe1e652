/* check.h - the test helper for gort's tests. Header-only; include it in
   the test program (after gort.h or before, either works).

       CHECK(cond)        on failure prints file:line and the expression,
                          counts a failure and carries on
       CHECK_EQ(a, b)     compares a and b as long long; on failure prints
                          both expressions and both values
       check_scale(n)     n times $GORT_TEST_SCALE (a double, default 1),
                          at least 1 (n <= 0 is returned unchanged); use it
                          for loop and goroutine counts. Returns long. The
                          first call with a scale other than 1 prints a note.
       check_note(fmt, ...)  printf-style line on stdout, prefixed with the
                          program name
       check_done()       prints "PASS <prog>" or "FAIL <prog> (N failures)"
                          and returns the exit status for main (0 or 1)
       check_failures()   failures so far

   Every test program ends with `return check_done();`. The checks are not
   assert(): they stay in under NDEBUG, so calls with side effects inside
   them are fine. They may be called from any goroutine or thread at once
   (the counter is atomic; stdio locks each line). <prog> is the name of the
   source file that calls check_done, without its directory and suffix.
   The counter is shared by every translation unit of the program (a weak
   symbol), so checks in a second .c file count too.

   The helpers the programs share beyond checking (atomics, bounded waits,
   child processes with captured output) are in util.h, included after
   this file.

   Warning-free as C99 and C++ under -Wall -Wextra -Wpedantic. */
#ifndef GORT_CHECK_H
#define GORT_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One definition per program, whichever translation units include this:
   a weak symbol on ELF, a COMDAT (selectany) on PE, where gcc's weak
   definitions are unreliable (MinGW: the references stay undefined). */
#if defined(_WIN32)
#define CHECK__ONE __declspec(selectany)
#else
#define CHECK__ONE __attribute__((weak))
#endif
CHECK__ONE int check__nfail = 0;       /* atomic */
CHECK__ONE int check__scale_noted = 0; /* atomic: the scale note was printed */

/* "tests/test_chan.c" -> "test_chan" (at most 255 bytes) */
static inline const char *check__prog(const char *file, char *buf, size_t size)
{
    const char *base = strrchr(file, '/');
    size_t n;
    const char *dot;
    base = base ? base + 1 : file;
    dot = strrchr(base, '.');
    n = dot ? (size_t)(dot - base) : strlen(base);
    if (n >= size)
        n = size - 1;
    memcpy(buf, base, n);
    buf[n] = '\0';
    return buf;
}

static inline void check__vnote(const char *file, const char *fmt, va_list ap)
{
    char name[256], line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    /* one fprintf per line: stdio locks the stream, so lines from
       different threads do not interleave */
    fprintf(stdout, "%s: %s\n", check__prog(file, name, sizeof name), line);
    fflush(stdout);
}

#if defined(_WIN32) && defined(__USE_MINGW_ANSI_STDIO) && __USE_MINGW_ANSI_STDIO
__attribute__((format(gnu_printf, 2, 3)))   /* MinGW's own printf: C99's formats */
#else
__attribute__((format(printf, 2, 3)))
#endif
static inline void check__note(const char *file, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    check__vnote(file, fmt, ap);
    va_end(ap);
}

static inline void check__fail(const char *file, int line, const char *expr)
{
    __atomic_fetch_add(&check__nfail, 1, __ATOMIC_SEQ_CST);
    fflush(stdout);
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, expr);
    fflush(stderr);
}

static inline void check__fail_eq(const char *file, int line, const char *ea,
                                  const char *eb, long long a, long long b)
{
    __atomic_fetch_add(&check__nfail, 1, __ATOMIC_SEQ_CST);
    fflush(stdout);
    fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n",
            file, line, ea, eb, a, b);
    fflush(stderr);
}

static inline double check__scale_factor(void)
{
    const char *s = getenv("GORT_TEST_SCALE");
    char *end;
    double f;
    if (!s || !*s)
        return 1.0;
    f = strtod(s, &end);
    if (end == s || !(f > 0.0))   /* unparsable, zero, negative or NaN */
        return 1.0;
    return f;
}

static inline long check__scale(const char *file, long n)
{
    double f = check__scale_factor();
    double r;
    if (n <= 0)
        return n;
    if (f != 1.0 && !__atomic_exchange_n(&check__scale_noted, 1, __ATOMIC_SEQ_CST))
        check__note(file, "GORT_TEST_SCALE=%g: loop and goroutine counts scaled "
                          "(e.g. %ld -> %ld)", f, n,
                    n * f < 1.0 ? 1L : (long)(n * f));
    r = (double)n * f;
    if (r < 1.0)
        return 1;
    if (r > 9.0e18)
        return (long)9.0e18;
    return (long)r;
}

static inline int check__done(const char *file)
{
    char name[256];
    int n = __atomic_load_n(&check__nfail, __ATOMIC_SEQ_CST);
    fflush(stderr);
    if (n == 0)
        fprintf(stdout, "PASS %s\n", check__prog(file, name, sizeof name));
    else
        fprintf(stdout, "FAIL %s (%d failure%s)\n", check__prog(file, name, sizeof name),
                n, n == 1 ? "" : "s");
    fflush(stdout);
    return n == 0 ? 0 : 1;
}

static inline int check_failures(void)
{
    return __atomic_load_n(&check__nfail, __ATOMIC_SEQ_CST);
}

#ifdef __cplusplus
}
#endif

#define CHECK(cond)                                                  \
    do {                                                             \
        if (!(cond))                                                 \
            check__fail(__FILE__, __LINE__, #cond);                  \
    } while (0)

#define CHECK_EQ(a, b)                                               \
    do {                                                             \
        long long check__a_ = (long long)(a);                        \
        long long check__b_ = (long long)(b);                        \
        if (check__a_ != check__b_)                                  \
            check__fail_eq(__FILE__, __LINE__, #a, #b, check__a_, check__b_); \
    } while (0)

#define check_scale(n)    check__scale(__FILE__, (long)(n))
#define check_note(...)   check__note(__FILE__, __VA_ARGS__)
#define check_done()      check__done(__FILE__)

#endif /* GORT_CHECK_H */
