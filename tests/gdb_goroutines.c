/* gdb_goroutines.c - the program tests/checks.sh (gdb-goroutines) runs
   under gdb, and whose core file it opens, to check gort's gdb commands
   (info goroutines, goroutine N bt full; embedded in gort.h's
   .debug_gdb_scripts section). Three goroutines park in known places,
   one with a local whose value the backtrace must show; then the main
   goroutine aborts. Built -O2 without frame pointers: the traces come
   from gdb's own unwinder (DWARF CFI), not from frame pointers. */
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"

#include <stdlib.h>

static gort_chan *c_park;
static gort_mutex mu = GORT_MUTEX_INIT;
static int sink;

static __attribute__((noinline)) void gdb_level2(int marker) {
    int v = 0;
    gort_chan_recv(c_park, &v);   /* gdb: gdb_level2 parks here */
    __atomic_add_fetch(&sink, v + marker, __ATOMIC_RELAXED);
}
static __attribute__((noinline)) void gdb_level1(void) {
    gdb_level2(4242);
    __atomic_add_fetch(&sink, 1, __ATOMIC_RELAXED);
}
static void gdb_worker(void *arg) {
    (void)arg;
    gdb_level1();
    __atomic_add_fetch(&sink, 1, __ATOMIC_RELAXED);
}
static void gdb_sleeper(void *arg) {
    (void)arg;
    gort_sleep(3600 * 1000000000LL);   /* gdb: gdb_sleeper parks here */
    __atomic_add_fetch(&sink, 1, __ATOMIC_RELAXED);
}
static void gdb_locker(void *arg) {
    (void)arg;
    gort_mutex_lock(&mu);   /* gdb: gdb_locker parks here */
    __atomic_add_fetch(&sink, 1, __ATOMIC_RELAXED);
    gort_mutex_unlock(&mu);
}

static void main_fn(void *arg) {
    (void)arg;
    c_park = gort_chan_make(sizeof(int), 0);
    gort_mutex_lock(&mu);
    gort_go(gdb_worker, NULL);
    gort_go(gdb_sleeper, NULL);
    gort_go(gdb_locker, NULL);
    gort_sleep(100 * 1000000LL);   /* all three park */
    abort();
}

int main(void) {
    return gort_run(main_fn, NULL);
}
