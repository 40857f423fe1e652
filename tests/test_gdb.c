/* test_gdb.c - unwinding out of a goroutine (>>arch, >>asm-x64, >>asm-a64).

   Run alone (every configuration), it checks with libgcc's unwinder
   (_Unwind_Backtrace: what C++ exceptions, glibc's backtrace() and
   sanitizer reports rely on) that a goroutine's stack unwinds through its
   start function to gort__ctx_entry and ends there cleanly
   (_URC_END_OF_STACK), for the main goroutine, a goroutine it starts, and
   one that the second starts and switches to at once.

   tests/check_gdb.sh runs it under gdb: at each call of gdb_stop_here it
   checks `bt`, and between the first two it steps one instruction at a
   time through the switch from goroutine_a into the new goroutine_b,
   checking `bt` at every instruction (the CFI of gort__ctx_swap on both
   stacks, and the instruction before gort__ctx_entry). The stops are in
   order: 1 in goroutine_a, 2 in goroutine_b, 3 in main_fn. */
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <unwind.h>

#define NOINLINE __attribute__((noinline))

#if !defined(__GLIBC__) && defined(__x86_64__)
/* The musl configuration links Debian's libgcc_eh.a, built against glibc
   2.36, whose unwinder finds an object's unwind tables with glibc's
   _dl_find_object; musl has none (a musl toolchain's own libgcc, as on
   Alpine, does not ask for it). This stand-in, for that link only, does
   what libgcc did before: the object that holds pc, and its
   PT_GNU_EH_FRAME segment, through dl_iterate_phdr. The structure is
   glibc's struct dl_find_object on x86-64. */
#include <link.h>
struct test_dlfo {
    unsigned long long flags;
    void *map_start, *map_end, *link_map, *eh_frame;
    unsigned long long reserved[7];
};
struct test_dlfo_find { uintptr_t pc; struct test_dlfo *r; int found; };
static int test_dlfo_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct test_dlfo_find *f = (struct test_dlfo_find *)arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0, eh = 0;
    int i, in = 0;
    (void)size;
    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t a = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD) {
            if (a < lo) lo = a;
            if (a + ph->p_memsz > hi) hi = a + ph->p_memsz;
            if (f->pc >= a && f->pc < a + ph->p_memsz) in = 1;
        }
        if (ph->p_type == PT_GNU_EH_FRAME) eh = a;
    }
    if (!in || !eh) return 0;
    memset(f->r, 0, sizeof *f->r);
    f->r->map_start = (void *)lo;
    f->r->map_end = (void *)hi;
    f->r->eh_frame = (void *)eh;
    f->found = 1;
    return 1;
}
int _dl_find_object(void *pc, struct test_dlfo *r);
int _dl_find_object(void *pc, struct test_dlfo *r)
{
    struct test_dlfo_find f;
    f.pc = (uintptr_t)pc;
    f.r = r;
    f.found = 0;
    dl_iterate_phdr(test_dlfo_cb, &f);
    return f.found ? 0 : -1;
}
#endif

static volatile int sink;

/* gdb's breakpoint (check_gdb.sh sets it by name). */
NOINLINE void gdb_stop_here(int which);
NOINLINE void gdb_stop_here(int which)
{
    sink = which;
    __asm__ __volatile__("" ::: "memory");
}

#define MAX_FRAMES 64
struct walk {
    int n;
    uintptr_t ip[MAX_FRAMES], start[MAX_FRAMES];
};

static _Unwind_Reason_Code walk_frame(struct _Unwind_Context *ctx, void *arg)
{
    struct walk *w = (struct walk *)arg;
    if (w->n == MAX_FRAMES) return _URC_NORMAL_STOP;
    w->ip[w->n] = (uintptr_t)_Unwind_GetIP(ctx);
    w->start[w->n] = (uintptr_t)_Unwind_GetRegionStart(ctx);
    w->n++;
    return _URC_NO_REASON;
}

/* Unwind from here: the stack must hold start (the goroutine's function,
   found by the start of its code region), then at most `below` frames of
   gort (gort__g_main, the main goroutine's wrapper, gort__ctx_entry), the
   last in gort__ctx_entry; and the unwinder must say the stack ended. */
NOINLINE static void unwind_check(const char *who, void (*start)(void *), int below)
{
    struct walk w;
    int i, at = -1;
    _Unwind_Reason_Code rc;
    uintptr_t entry = (uintptr_t)gort__ctx_entry, fn = (uintptr_t)start;
    memset(&w, 0, sizeof w);
    rc = _Unwind_Backtrace(walk_frame, &w);
    /* libgcc reports the end as one more frame, at address 0 (glibc's
       backtrace() drops it too) */
    if (w.n > 1 && w.ip[w.n - 1] == 0) w.n--;
    for (i = 0; i < w.n; i++)
        if (w.start[i] == fn) at = i;
    if (rc != _URC_END_OF_STACK || at < 0 || w.n - 1 - at > below || w.n == 0 ||
        w.ip[w.n - 1] <= entry || w.ip[w.n - 1] > entry + 16) {
        check_note("%s: unwind ended with %d after %d frames (start function at %d, %d allowed below it):",
                   who, (int)rc, w.n, at, below);
        for (i = 0; i < w.n; i++)
            check_note("  #%d ip %#lx in code from %#lx%s", i, (unsigned long)w.ip[i],
                       (unsigned long)w.start[i], w.start[i] == fn ? " (start function)" : "");
        check_note("  gort__ctx_entry at %#lx", (unsigned long)entry);
    }
    CHECK(rc == _URC_END_OF_STACK);
    CHECK(at >= 0);
    CHECK(w.n - 1 - at <= below);
    CHECK(w.n > 0 && w.ip[w.n - 1] > entry && w.ip[w.n - 1] <= entry + 16);
}

static void goroutine_b(void *arg)
{
    gort_wg *wg = (gort_wg *)arg;
    gdb_stop_here(2);
    unwind_check("goroutine_b", goroutine_b, 2);
    gort_wg_done(wg);
    sink++;   /* no tail call: goroutine_b stays on the stack above */
}

static void goroutine_a(void *arg)
{
    gort_wg *wg = (gort_wg *)arg;
    unwind_check("goroutine_a", goroutine_a, 2);
    gdb_stop_here(1);
    /* goroutine_b goes to this P's runnext: the yield switches straight
       into it, through its first frame (gdb steps through this switch) */
    CHECK_EQ(gort_go(goroutine_b, wg), 0);
    gort_yield();
    gort_wg_done(wg);
    sink++;
}

static void main_fn(void *arg)
{
    gort_wg wg = GORT_WG_INIT;
    (void)arg;
    unwind_check("main_fn", main_fn, 3);
    gort_wg_add(&wg, 2);
    CHECK_EQ(gort_go(goroutine_a, &wg), 0);
    gort_wg_wait(&wg);
    gdb_stop_here(3);
    sink++;
}

int main(void)
{
    gort_opts o;
    memset(&o, 0, sizeof o);
    o.maxprocs = 1;   /* one P: the goroutines run in the order above */
    /* Under qemu's gdb stub sysmon runs on while gdb holds a goroutine's
       thread at a breakpoint: it named that goroutine a hog and handed its
       P off with a SIGURG into the held thread, after which gdb could not
       remove its breakpoint and lost the process (CI, check/gdb-a64, once).
       Native gdb stops every thread, sysmon's too. */
    o.hog_ns = -1;
    o.handoff_ns = -1;
    CHECK_EQ(gort_run_opts(&o, main_fn, NULL), 0);
    return check_done();
}
