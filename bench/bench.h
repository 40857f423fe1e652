/* bench.h - helpers shared by the gort and pthreads benchmark programs.
   Header-only; every helper is static inline so that a program that uses
   only a few of them compiles warning-free.

   Every program prints its results as lines
       RESULT <key> <value> <unit>
   on stdout (run.sh collects them) and anything else on stderr. A program
   that finds a wrong result prints "FAIL ..." to stderr and exits 1.
   Linux and Windows (MinGW-w64 with winpthreads: run.sh --windows); on
   Windows the memory figures are the working set (no page tables). */
#ifndef BENCH_H
#define BENCH_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(_WIN32)
#include <windows.h>
#include <psapi.h>
#endif

static inline int64_t bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* BENCH_QUICK=1 (run.sh --quick): smaller counts, shorter runs. */
static inline int bench_quick(void) {
    const char *q = getenv("BENCH_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

/* How long a time-based benchmark runs: $BENCH_MS, else 200 ms (50 quick). */
static inline int64_t bench_duration_ns(void) {
    const char *s = getenv("BENCH_MS");
    long ms = s && *s ? atol(s) : 0;
    if (ms <= 0) ms = bench_quick() ? 50 : 200;
    return (int64_t)ms * 1000000;
}

/* argv[i] as a number, or def when absent; def_quick in quick mode. */
static inline long bench_arg(int argc, char **argv, int i, long def, long def_quick) {
    if (i < argc && argv[i][0] != '\0') return atol(argv[i]);
    return bench_quick() ? def_quick : def;
}

static inline void bench_result(const char *key, double value, const char *unit) {
    printf("RESULT %s %.4f %s\n", key, value, unit);
    fflush(stdout);
}

static inline void bench_fail(const char *what) {
    fprintf(stderr, "FAIL %s\n", what);
    fflush(stderr);
    exit(1);
}

/* A "Name:   123 kB" field of /proc/self/status, in KiB; -1 if missing.
   Windows: VmRSS and VmHWM are the working set and its peak; VmPTE 0. */
static inline long bench_status_kib(const char *name) {
#if defined(_WIN32)
    PROCESS_MEMORY_COUNTERS pmc;
    memset(&pmc, 0, sizeof pmc);
    pmc.cb = sizeof pmc;
    if (strcmp(name, "VmPTE") == 0) return 0;
    if (!K32GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc)) return -1;
    if (strcmp(name, "VmRSS") == 0) return (long)(pmc.WorkingSetSize / 1024);
    if (strcmp(name, "VmHWM") == 0) return (long)(pmc.PeakWorkingSetSize / 1024);
    return -1;
#else
    char line[256];
    size_t len = strlen(name);
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, name, len) == 0 && line[len] == ':') {
            v = atol(line + len + 1);
            break;
        }
    }
    fclose(f);
    return v;
#endif
}

/* Memory the process holds for its threads and goroutines: resident pages
   plus the page tables that map them. Kernel per-thread memory (kernel
   stack, task_struct) is in neither and is not counted. */
static inline long bench_mem_kib(void) {
    return bench_status_kib("VmRSS") + bench_status_kib("VmPTE");
}

/* Pin the calling thread to the first CPU it may run on (the pthreads
   stand-in for "maxprocs 1"). Returns that CPU, or -1. */
static inline int bench_pin_first_cpu(void) {
#if defined(_WIN32)
    DWORD_PTR pm = 0, sm = 0;
    int cpu;
    if (!GetProcessAffinityMask(GetCurrentProcess(), &pm, &sm) || !pm) return -1;
    for (cpu = 0; !(pm & ((DWORD_PTR)1 << cpu)); cpu++) {}
    return SetThreadAffinityMask(GetCurrentThread(), (DWORD_PTR)1 << cpu) ? cpu : -1;
#else
    cpu_set_t set;
    int cpu;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &set)) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0) return -1;
            return cpu;
        }
    }
    return -1;
#endif
}

#ifdef GORT_H
/* Options every gort benchmark runs with: maxprocs explicit, and the hog
   report off (a spawn loop over a million goroutines is meant to run long
   without a scheduling point). */
static inline gort_opts bench_opts(int maxprocs) {
    gort_opts o;
    memset(&o, 0, sizeof o);
    o.maxprocs = maxprocs;
    o.hog_ns = -1;
    return o;
}

static inline void bench_run(int maxprocs, void (*fn)(void *), void *arg) {
    gort_opts o = bench_opts(maxprocs);
    int rc = gort_run_opts(&o, fn, arg);
    if (rc != 0) {
        fprintf(stderr, "FAIL gort_run_opts returned %d (%s)\n", rc, gort_strerror(rc));
        exit(1);
    }
}
#endif

#endif /* BENCH_H */
