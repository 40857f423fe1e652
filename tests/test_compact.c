/* test_compact.c - stack compaction of long-parked goroutines (>>compact).

   Each part runs with gort_opts.compact_ns = 20 ms (unless it says
   otherwise) and waits until the goroutines it parks are compacted, as
   the runtime's counters and each G's state say (the test includes the
   implementation and reads them):

     - pointers: a goroutine parks with an array on its stack whose
       address it gave out; while it is compacted, another goroutine
       writes half of the array through that pointer, and once it is
       compacted again a plain thread writes the other half; then a send
       wakes it, the value landing in a variable on its stack (compacted
       a third time by then). It sees every write and the value, and the
       locals of the deeper frames it parked in (and a 24 KB array, so
       that a restore fills several pages) are intact;
     - mass: N goroutines (scaled) parked on one channel, each with a
       patterned array of locals, are all compacted; RSS + page tables per
       goroutine are noted (and at full scale, outside sanitizers and
       Valgrind, optimized, must be under 2 KiB); a close wakes them all and each
       finds its pattern;
     - sleepers: goroutines in gort_sleep are compacted while their timers
       sit in the heap; arming a thousand more timers after that restores
       none of them (a park's timer is in its G, never on its stack); each
       wakes, not early, with its locals intact;
     - select: goroutines parked in a select over two channels (waiters on
       their stacks) are compacted, then woken by one case each;
     - fork: a child forked while a stack is compacted reads it right
       (restored in the child, not through the parent's userfaultfd), and
       the parent's copy stays compacted until the parent touches it;
     - small: with 16 KiB stacks, a goroutine 8 KiB deep closes a channel
       of 50 compacted waiters (the restores must not borrow its stack);
     - off: compact_ns < 0 compacts nothing.
   pointers, mass and select run three times: with the fast restore
   (UFFDIO_COPY, where the kernel has it), with the long one
   (PROT_NONE, /proc/self/mem), and with the fast one cut short after
   its first page (the rest the long way: a restore split between the
   two); each time the counter of pages the fast restore filled must
   move, or not, as the mode says.
   Where compaction is not available (no MADV_GUARD_INSTALL: Valgrind,
   qemu-user, kernels before 6.13; no /proc/self/mem; an address-space
   limit) each part checks that nothing was compacted and says so. */
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#define MS 1000000LL
#define COMPACT_NS (20 * MS)

static int available(void) { return gort__the_rt->compact_ns >= 0; }
static uint64_t compactions(void) { return LOAD(&gort__the_rt->compactions); }
static uint64_t restores(void) { return LOAD(&gort__the_rt->restores); }
static long ncompacted(void) { return LOAD(&gort__the_rt->ncompacted); }

/* Wait (sleeping, so that sysmon runs) until g's stack has been compacted
   at least `times` times and is compacted now. 1 if so within 10 s. */
static int wait_compacted(gort__g *g, uint32_t times)
{
    int64_t end = gort_now() + 10000 * MS;
    while (gort_now() < end) {
        if (__atomic_load_n(&g->ncompact, __ATOMIC_ACQUIRE) >= times &&
            __atomic_load_n(&g->cst, __ATOMIC_ACQUIRE) == GORT__C_COMPACTED)
            return 1;
        gort_sleep(MS);
    }
    return 0;
}

static int uffd_mode;   /* gort__os_uffd_off for this round */
static int uffd_here;   /* the probe found the fast restore works here */

/* Can this kernel do what the fast restore needs, asked directly (not
   through gort's probe, which a bug could turn off without a trace):
   an unprivileged userfaultfd, a region registered with it, and
   UFFDIO_COPY filling a page that carries a guard. */
static int kernel_has_fast_restore(void)
{
    int ok = 0;
#ifdef SYS_userfaultfd
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | 1 /* UFFD_USER_MODE_ONLY */);
    struct gort__uffdio_api api;
    struct gort__uffdio_register reg;
    struct gort__uffdio_copy c;
    static char src[4096];
    char *m;
    if (fd < 0) return 0;
    memset(&api, 0, sizeof api);
    api.api = 0xAA;
    m = (char *)mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(&reg, 0, sizeof reg);
    reg.start = (uint64_t)(uintptr_t)m; reg.len = 8192; reg.mode = 2 /* WP */;
    memset(src, 0x5a, sizeof src);
    if (m != MAP_FAILED && syscall(SYS_ioctl, fd, GORT__UFFDIO_API, &api) == 0 &&
        syscall(SYS_ioctl, fd, GORT__UFFDIO_REGISTER, &reg) == 0 &&
        (m[4096] = 1) && madvise(m + 4096, 4096, 102 /* MADV_GUARD_INSTALL */) == 0) {
        c.dst = (uint64_t)(uintptr_t)(m + 4096); c.src = (uint64_t)(uintptr_t)src; c.len = 4096; c.mode = 0; c.copy = 0;
        ok = syscall(SYS_ioctl, fd, GORT__UFFDIO_COPY, &c) == 0 && m[4096] == 0x5a;
    }
    if (m != MAP_FAILED) munmap(m, 8192);
    close(fd);
#endif
    return ok;
}

/* After a part that restored stacks: did the fast restore fill pages
   since `pages0`, as this round's mode says it must? */
static void check_restore_path(const char *part, uint64_t pages0)
{
    uint64_t d = LOAD(&gort__os_uffd_pages) - pages0;
    if (!available()) return;
    if (uffd_mode == 1) CHECK_EQ(d, 0);
    else if (uffd_here) CHECK(d > 0);
    else if (uffd_mode == 0) check_note("%s: no fast restore here (no userfaultfd, or UFFDIO_COPY cannot replace a guard): the long way", part);
}

static void run_compact(void (*fn)(void *), int procs, int64_t compact_ns)
{
    gort_opts o;
    memset(&o, 0, sizeof o);
    o.maxprocs = procs;
    o.compact_ns = compact_ns;
    CHECK_EQ(gort_run_opts(&o, fn, NULL), 0);
}

/* ------------------------------------------------------------ pointers */

#define PN 64
static gort_chan *p_wake;
static int *volatile p_arr;
static gort__g *p_owner;   /* atomic: set by the owner once it is about to park */
static long p_got = -1, p_bad = -1;

/* Parks three frames down, each frame with its own locals. */
static long p_deep(int depth)
{
    volatile long mine[16];
    long v = -1, s = 0;
    int i;
    for (i = 0; i < 16; i++) mine[i] = depth * 1000 + i;
    if (depth > 0) {
        v = p_deep(depth - 1);
    } else {
        STORE(&p_owner, gort__self());
        CHECK_EQ(gort_chan_recv(p_wake, &v), 1);   /* parks here */
    }
    for (i = 0; i < 16; i++) s += mine[i] != depth * 1000 + i;
    if (s) ADD(&p_bad, 1);
    return v;
}

static void p_ownerfn(void *arg)
{
    int arr[PN];
    volatile long big[3000];   /* 24 KB: a restore of several pages */
    int i;
    (void)arg;
    memset(arr, 0, sizeof arr);
    for (i = 0; i < 3000; i++) big[i] = i * 7919L;
    p_arr = arr;
    STORE(&p_got, p_deep(3));
    {
        long bad = 0;
        for (i = 0; i < PN; i++) bad += arr[i] != i * 3 + 1;
        for (i = 0; i < 3000; i++) bad += big[i] != i * 7919L;
        ADD(&p_bad, bad);
    }
}

static void p_writer(void *arg)
{
    int i;
    (void)arg;
    for (i = 0; i < PN / 2; i++) p_arr[i] = i * 3 + 1;
}

static void *p_thread(void *arg)
{
    int i;
    (void)arg;
    for (i = PN / 2; i < PN; i++) p_arr[i] = i * 3 + 1;
    return NULL;
}

static void pointers_main(void *arg)
{
    gort__g *g;
    long v = 4242;
    uint64_t r0;
    pthread_t th;
    uint64_t pages0 = LOAD(&gort__os_uffd_pages);
    (void)arg;
    uffd_here = gort__os_uffd >= 0 && gort__os_uffd_pid == getpid();
    /* where the kernel can, gort must (and then the counter must move) */
    if (available()) CHECK_EQ(uffd_here, kernel_has_fast_restore());
    p_wake = gort_chan_make(sizeof(long), 0);
    p_arr = NULL;
    STORE(&p_owner, (gort__g *)NULL);
    STORE(&p_bad, 0);
    CHECK_EQ(gort_go(p_ownerfn, NULL), 0);
    while (!LOAD(&p_owner)) gort_sleep(MS);
    g = LOAD(&p_owner);
    if (!available()) {
        gort_sleep(3 * COMPACT_NS);
        CHECK_EQ(compactions(), 0);
        for (v = 0; v < PN; v++) p_arr[v] = (int)v * 3 + 1;
        v = 4242;
    } else {
        CHECK(wait_compacted(g, 1));
        r0 = restores();
        CHECK_EQ(gort_go(p_writer, NULL), 0);   /* faults, restores, writes */
        CHECK(wait_compacted(g, 2));            /* and compacted again */
        CHECK(restores() > r0);
        CHECK_EQ(pthread_create(&th, NULL, p_thread, NULL), 0);
        CHECK_EQ(pthread_join(th, NULL), 0);
        CHECK(wait_compacted(g, 3));
    }
    CHECK_EQ(gort_chan_send(p_wake, &v), 0);   /* the value goes onto the compacted stack */
    CHECK(yield_until_alone());
    CHECK_EQ(LOAD(&p_got), 4242);
    CHECK_EQ(LOAD(&p_bad), 0);
    CHECK_EQ(gort_chan_free(p_wake), 0);
    check_restore_path("pointers", pages0);
}

/* ------------------------------------------------------------ mass */

static gort_chan *m_gate;
static long m_parked, m_done, m_bad;
static long mem_kb(void) { return proc_status_kb("VmRSS") + proc_status_kb("VmPTE"); }

static void m_waiter(void *arg)
{
    volatile unsigned char pat[200];
    long v = 7, seed = (long)(intptr_t)arg, bad = 0;
    int i;
    for (i = 0; i < 200; i++) pat[i] = (unsigned char)(seed * 31 + i);
    INC(&m_parked);
    if (gort_chan_recv(m_gate, &v) != 0 || v != 0) bad++;   /* closed: 0, elem zeroed */
    for (i = 0; i < 200; i++) bad += pat[i] != (unsigned char)(seed * 31 + i);
    if (bad) ADD(&m_bad, 1);
    INC(&m_done);
}

static void mass_main(void *arg)
{
    long n = check_scale(20000), i, before, parked_kb, compact_kb;
    int64_t end;
    /* The bound holds for optimized code: unoptimized frames (this
       waiter's and gort's own on the way to the park) leave 2.0-2.06 KiB
       per goroutine live at 20000, a coin toss against 2048. */
#ifdef __OPTIMIZE__
    int measure = !UNDER_ASAN && !UNDER_TSAN && !under_valgrind() && n >= 20000 && uffd_mode == 0;
#else
    int measure = 0;
#endif
    uint64_t pages0 = LOAD(&gort__os_uffd_pages);
    (void)arg;
    if (n < 100) n = 100;
    m_gate = gort_chan_make(sizeof(long), 0);
    m_parked = m_done = m_bad = 0;
    before = mem_kb();
    for (i = 0; i < n; i++) CHECK_EQ(gort_go(m_waiter, (void *)(intptr_t)i), 0);
    CHECK(yield_until(&m_parked, n));
    gort_sleep(MS);
    parked_kb = mem_kb();
    if (available()) {
        end = gort_now() + 60000 * MS;
        while (ncompacted() < n && gort_now() < end) gort_sleep(5 * MS);
        CHECK(ncompacted() >= n);
        gort_sleep(20 * MS);   /* sysmon frees restored copies; let it settle */
    } else {
        gort_sleep(3 * COMPACT_NS);
        CHECK_EQ(compactions(), 0);
    }
    compact_kb = mem_kb();
    check_note("mass: %ld goroutines parked: %.0f B each, compacted: %.0f B each (RSS+PTE, %s)", n,
               (double)(parked_kb - before) * 1024 / (double)n, (double)(compact_kb - before) * 1024 / (double)n,
               available() ? "compaction on" : "compaction not available here");
    if (measure && available()) CHECK((compact_kb - before) * 1024 / n < 2048);
    CHECK_EQ(gort_chan_close(m_gate), 0);
    CHECK(yield_until(&m_done, n));
    CHECK_EQ(m_bad, 0);
    CHECK(yield_until_alone());
    CHECK_EQ(gort_chan_free(m_gate), 0);
    check_restore_path("mass", pages0);
}

/* ------------------------------------------------------------ sleepers */

static long s_done, s_bad, s_parked;
static gort__g *s_gs[4096];

static void s_sleeper(void *arg)
{
    volatile long loc[32];
    int64_t d = (int64_t)(intptr_t)arg * MS, t0;
    long bad = 0;
    int i;
    for (i = 0; i < 32; i++) loc[i] = d + i;
    t0 = gort_now();
    s_gs[(intptr_t)arg - 1500] = gort__self();
    INC(&s_parked);
    gort_sleep(d);
    if (gort_now() - t0 < d) bad++;
    for (i = 0; i < 32; i++) bad += loc[i] != d + i;
    if (bad) ADD(&s_bad, 1);
    INC(&s_done);
}

static void s_short(void *arg)
{
    (void)arg;
    gort_sleep(MS * (300 + (int64_t)(gort__nanotime() % 50)));
    INC(&s_done);
}

static void sleepers_main(void *arg)
{
    long n = check_scale(2000) > 300 ? 300 : check_scale(2000), i, k = 1000;
    (void)arg;
    if (n < 50) n = 50;   /* each sleeps 1500 + its index ms: one per slot of s_gs */
    s_done = s_bad = s_parked = 0;
    for (i = 0; i < n; i++) CHECK_EQ(gort_go(s_sleeper, (void *)(intptr_t)(1500 + i)), 0);
    CHECK(yield_until(&s_parked, n));
    if (available()) {
        int64_t end = gort_now() + 1000 * MS;
        while (ncompacted() < n && gort_now() < end) gort_sleep(5 * MS);
        CHECK(ncompacted() >= n);
    }
    for (i = 0; i < k; i++) CHECK_EQ(gort_go(s_short, NULL), 0);   /* heap sifts over the compacted */
    gort_sleep(10 * MS);
    if (available()) {
        long restored = 0;
        for (i = 0; i < n; i++) restored += __atomic_load_n(&s_gs[i]->cst, __ATOMIC_ACQUIRE) != GORT__C_COMPACTED;
        CHECK_EQ(restored, 0);
    }
    CHECK(yield_until(&s_done, n + k));
    CHECK_EQ(s_bad, 0);
    CHECK(yield_until_alone());
}

/* ------------------------------------------------------------ select */

static gort_chan *x_a, *x_b;
static long x_done, x_bad, x_parked;
static int x_seen[4096];

static void x_waiter(void *arg)
{
    volatile long loc[8];
    long va = -1, vb = -1, id = (long)(intptr_t)arg;
    gort_case cs[2];
    int i, r;
    for (i = 0; i < 8; i++) loc[i] = id * 8 + i;
    memset(cs, 0, sizeof cs);
    cs[0].op = GORT_RECV; cs[0].chan = x_a; cs[0].elem = &va;
    cs[1].op = GORT_RECV; cs[1].chan = x_b; cs[1].elem = &vb;
    INC(&x_parked);
    r = gort_select(cs, 2, -1);
    if (r != 0 && r != 1) ADD(&x_bad, 1);
    else {
        long v = r == 0 ? va : vb;
        if (v < 0 || v >= 4096 || (r == 0) != (v % 2 == 0)) ADD(&x_bad, 1);
        else INC(&x_seen[v]);
    }
    for (i = 0; i < 8; i++) if (loc[i] != id * 8 + i) ADD(&x_bad, 1);
    INC(&x_done);
}

static void select_main(void *arg)
{
    long n = check_scale(400) > 4000 ? 4000 : check_scale(400), i;
    (void)arg;
    if (n < 20) n = 20;
    memset(x_seen, 0, sizeof x_seen);
    x_done = x_bad = x_parked = 0;
    x_a = gort_chan_make(sizeof(long), 0);
    x_b = gort_chan_make(sizeof(long), 0);
    for (i = 0; i < n; i++) CHECK_EQ(gort_go(x_waiter, (void *)(intptr_t)i), 0);
    CHECK(yield_until(&x_parked, n));
    if (available()) {
        int64_t end = gort_now() + 10000 * MS;
        while (ncompacted() < n && gort_now() < end) gort_sleep(5 * MS);
        CHECK(ncompacted() >= n);
    }
    /* even values on a, odd on b: each waiter gets one, from the case it
       names */
    for (i = 0; i < n; i++) CHECK_EQ(gort_chan_send(i % 2 ? x_b : x_a, &i), 0);
    CHECK(yield_until(&x_done, n));
    for (i = 0; i < n; i++) CHECK_EQ(x_seen[i], 1);
    CHECK(yield_until_alone());
    CHECK_EQ(gort_chan_free(x_a), 0);
    CHECK_EQ(gort_chan_free(x_b), 0);
}

/* ------------------------------------------------------------ fork */

static gort_chan *f_wake;
static long *volatile f_arr;
static gort__g *f_owner;   /* atomic */
static long f_bad = -1;

static void f_ownerfn(void *arg)
{
    volatile long big[2000];   /* 16 KB: several pages */
    long v = 0, bad = 0;
    int i;
    (void)arg;
    for (i = 0; i < 2000; i++) big[i] = i * 31L;
    f_arr = (long *)big;
    STORE(&f_owner, gort__self());
    if (gort_chan_recv(f_wake, &v) != 1 || v != 5) bad++;
    for (i = 0; i < 2000; i++) bad += big[i] != i * 31L + (i < 10);
    STORE(&f_bad, bad);
}

/* A child forked while a goroutine's stack is compacted reads that stack
   (its fault restores it, the long way: the userfaultfd is the parent's,
   and the child must not fill the parent's pages through it); the
   parent's copy stays compacted, and its owner then sees the parent's
   own writes. */
static void fork_main(void *arg)
{
    gort__g *g;
    uint64_t pages0;
    pid_t pid;
    int st = -1, i;
    (void)arg;
    if (!available()) { check_note("fork: compaction not available here"); return; }
    f_wake = gort_chan_make(sizeof(long), 0);
    STORE(&f_owner, (gort__g *)NULL);
    STORE(&f_bad, -1);
    CHECK_EQ(gort_go(f_ownerfn, NULL), 0);
    while (!LOAD(&f_owner)) gort_sleep(MS);
    g = LOAD(&f_owner);
    CHECK(wait_compacted(g, 1));
    pages0 = LOAD(&gort__os_uffd_pages);
    pid = fork();
    if (pid == 0) {
        long bad = 0;
        for (i = 0; i < 2000; i++) bad += f_arr[i] != i * 31L;
        _exit(bad ? 1 : LOAD(&gort__os_uffd_pages) != pages0 ? 2 : 0);
    }
    CHECK(pid > 0);
    {
        /* a child that restores through the parent's fd never sees its
           own page come back: it faults for ever; 20 s is a hang */
        int64_t end = gort_now() + 20000 * MS;
        pid_t w;
        while ((w = waitpid(pid, &st, WNOHANG)) == 0 && gort_now() < end) gort_sleep(5 * MS);
        if (w == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            check_note("fork: the child hung restoring the stack");
        }
    }
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);   /* 1: it read wrong bytes; 2: it used the parent's userfaultfd */
    CHECK_EQ(__atomic_load_n(&g->cst, __ATOMIC_ACQUIRE), GORT__C_COMPACTED);
    for (i = 0; i < 10; i++) f_arr[i]++;
    {
        long v = 5;
        CHECK_EQ(gort_chan_send(f_wake, &v), 0);
    }
    CHECK(yield_until_alone());
    CHECK_EQ(LOAD(&f_bad), 0);
    CHECK_EQ(gort_chan_free(f_wake), 0);
}

/* ------------------------------------------------------------ small */

static gort_chan *k_ch;
static long k_parked, k_done;

static void k_waiter(void *arg)
{
    long v;
    (void)arg;
    INC(&k_parked);
    CHECK_EQ(gort_chan_recv(k_ch, &v), 0);   /* closed */
    INC(&k_done);
}

static void k_closer(void *arg)
{
    volatile char big[8 * 1024];   /* of a 16 KiB stack (12 usable) */
    size_t i;
    (void)arg;
    for (i = 0; i < sizeof big; i += 64) big[i] = 1;
    CHECK_EQ(gort_chan_close(k_ch), 0);   /* restores every waiter's stack */
    (void)big[0];
}

/* With the smallest stacks (16 KiB), a goroutine 8 KiB deep closes a
   channel whose 50 waiters are compacted: the restores it makes must not
   take their 4 KiB of scratch from its stack (they did: an overflow). */
static void small_main(void *arg)
{
    int i;
    (void)arg;
    if (!available()) { check_note("small: compaction not available here"); return; }
    k_ch = gort_chan_make(sizeof(long), 0);
    k_parked = k_done = 0;
    for (i = 0; i < 50; i++) CHECK_EQ(gort_go(k_waiter, NULL), 0);
    CHECK(yield_until(&k_parked, 50));
    {
        int64_t end = gort_now() + 10000 * MS;
        while (ncompacted() < 50 && gort_now() < end) gort_sleep(MS);
    }
    CHECK(ncompacted() >= 50);
    CHECK_EQ(gort_go(k_closer, NULL), 0);
    CHECK(yield_until(&k_done, 50));
    CHECK(yield_until_alone());
    CHECK_EQ(gort_chan_free(k_ch), 0);
}

/* ------------------------------------------------------------ off */

static void off_main(void *arg)
{
    (void)arg;
    if (gort__the_rt->debug & GORT_DEBUG_COMPACT) {
        check_note("off: not under GORT_DEBUG=compact (it compacts at every park)");
        return;
    }
    m_gate = gort_chan_make(sizeof(long), 0);
    m_parked = m_done = m_bad = 0;
    CHECK_EQ(gort_go(m_waiter, (void *)(intptr_t)1), 0);
    CHECK(yield_until(&m_parked, 1));
    gort_sleep(100 * MS);
    CHECK_EQ(compactions(), 0);
    CHECK_EQ(gort__the_rt->compact_ns, -1);
    CHECK_EQ(gort_chan_close(m_gate), 0);
    CHECK(yield_until(&m_done, 1));
    CHECK_EQ(m_bad, 0);
    CHECK_EQ(gort_chan_free(m_gate), 0);
}

int main(void)
{
    watchdog(600);
    for (uffd_mode = 0; uffd_mode < 3; uffd_mode++) {
        STORE(&gort__os_uffd_off, uffd_mode);
        run_compact(pointers_main, 2, COMPACT_NS);
        run_compact(pointers_main, 1, COMPACT_NS);
        run_compact(mass_main, 2, COMPACT_NS);
        run_compact(select_main, 1, COMPACT_NS);
    }
    STORE(&gort__os_uffd_off, 0);
    run_compact(sleepers_main, 2, COMPACT_NS);
    run_compact(fork_main, 2, COMPACT_NS);
    {
        gort_opts o;
        memset(&o, 0, sizeof o);
        o.maxprocs = 1;
        o.compact_ns = COMPACT_NS;
        o.stack_size = 16 * 1024;
        CHECK_EQ(gort_run_opts(&o, small_main, NULL), 0);
    }
    run_compact(off_main, 2, -1);
    if (!getenv("GORT_COMPACT_MS")) run_compact(off_main, 2, 0);   /* the default: off */
    return check_done();
}
