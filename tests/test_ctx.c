/* test_ctx.c - the context switch (>>arch, >>asm-x64, >>asm-a64).

   What must survive a switch, checked with many goroutines switching
   thousands of times on 1 and 2 Ps (and with GORT_DEBUG_MIGRATE, so the
   goroutines also change threads):
   - live integer and floating-point locals the compiler keeps in
     callee-saved registers or spills to the stack (compared against the
     same computation run without switching);
   - the callee-saved registers themselves, loaded with magic values by a
     small assembly routine that calls gort_yield (x86-64: rbx, rbp,
     r12-r15; Win64: those, rdi, rsi and xmm6-xmm15; aarch64: x19-x28,
     d8-d15);
   - the floating-point control state: each goroutine runs in its own
     rounding mode (x86-64: MXCSR and x87 control word; aarch64: FPCR) and
     a new goroutine starts in round-to-nearest even on a thread whose last
     goroutine left another mode behind;
   - stack alignment at goroutine entry (16 bytes), checked with the frame
     address, an aligned local, SSE/long double/__int128 locals and
     printf of floating-point values (glibc saves xmm registers with
     movaps, which faults on a misaligned stack).
   C99 with GNU extensions (inline asm, vector_size, __int128). */
#define _GNU_SOURCE
// gort-test: heavy windows
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <errno.h>
#include <fenv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

/* A hang is a failure: the harness's timeout or this watchdog ends it. */
#define WATCHDOG_S 900

static gort_wg wg = GORT_WG_INIT;

/* ------------------------------------------------------------------ */
/* 1. Live locals across switches                                      */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 32;
    return x;
}

static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static void sw_switch(long i)
{
    if ((i & 63) == 17)
        gort_sleep(1000);   /* 1 us: parks on a timer */
    else
        gort_yield();
}

static void sw_none(long i)
{
    (void)i;
    __asm__ volatile("" ::: "memory");
}

/* Twelve integers and four doubles stay live across every call to sw.
   At -O2 the integers fill the callee-saved registers and the rest are
   spilled to the stack; the doubles live in d8-d15 on aarch64 and on the
   stack on x86-64. The double arithmetic is exact (small integers), so
   the rounding mode does not matter. */
static NOINLINE uint64_t live_locals(uint64_t seed, long iters, void (*sw)(long))
{
    uint64_t a = mix(seed + 1), b = mix(seed + 2), c = mix(seed + 3), d = mix(seed + 4);
    uint64_t e = mix(seed + 5), f = mix(seed + 6), g = mix(seed + 7), h = mix(seed + 8);
    uint64_t p = mix(seed + 9), q = mix(seed + 10), r = mix(seed + 11), s = mix(seed + 12);
    double fa = (double)(seed & 0xffff), fb = (double)((seed >> 16) & 0xffff);
    double fc = (double)((seed >> 32) & 0xffff), fd = (double)((seed >> 48) & 0xffff);
    long i;
    for (i = 0; i < iters; i++) {
        sw(i);
        a = a * 3 + b;
        b ^= c >> 3;
        c += d;
        d = rotl(d ^ e, 7);
        e -= f;
        f ^= g << 1;
        g += h * 5;
        h ^= p;
        p = rotl(p + q, 13);
        q ^= r;
        r += s ^ (uint64_t)i;
        s = rotl(s, 1) ^ a;
        fa += (double)(i & 7);
        fb += (double)(i & 3);
        fc -= (double)(i & 1);
        fd += fa - fb;
        if (fd > 1e12 || fd < -1e12)   /* stays exact and in int64_t range */
            fd = 0;
    }
    return a ^ rotl(b, 1) ^ rotl(c, 2) ^ rotl(d, 3) ^ rotl(e, 4) ^ rotl(f, 5) ^
           rotl(g, 6) ^ rotl(h, 7) ^ rotl(p, 8) ^ rotl(q, 9) ^ rotl(r, 10) ^
           rotl(s, 11) ^ (uint64_t)(int64_t)fa ^ ((uint64_t)(int64_t)fb << 20) ^
           ((uint64_t)(int64_t)fc << 40) ^ (uint64_t)(int64_t)fd;
}

struct lv_job {
    uint64_t seed;
    long     iters;
    uint64_t got, want;
};

static void lv_main(void *arg)
{
    struct lv_job *j = (struct lv_job *)arg;
    j->got = live_locals(j->seed, j->iters, sw_switch);
    j->want = live_locals(j->seed, j->iters, sw_none);
    gort_wg_done(&wg);
}

/* ------------------------------------------------------------------ */
/* 2. Callee-saved registers loaded by assembly across gort_yield      */

/* void ctx_regs_call(void (*fn)(void), const uint64_t *in, uint64_t *out):
   saves the callee-saved registers, loads them from in[], calls fn, stores
   them to out[] and restores them. Global but hidden: a reference to a
   local symbol becomes section+addend, which some GOT relocations drop. */
#if defined(__x86_64__) && defined(_WIN32)
/* Win64: fn in rcx, in in rdx, out in r8; rbx, rbp, rdi, rsi, r12-r15
   and xmm6-xmm15 (their low 64 bits loaded and compared) are callee-saved */
#define CTX_NREGS 18
static const char *const ctx_reg_names[CTX_NREGS] = {
    "rbx", "rbp", "rdi", "rsi", "r12", "r13", "r14", "r15",
    "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15" };
#define CTX_XMM(n, k) "    movdqu %xmm" #n ", " #k "(%rsp)\n"
#define CTX_XMMR(n, k) "    movdqu " #k "(%rsp), %xmm" #n "\n"
#define CTX_LD(n, k) "    movq " #k "(%rdx), %xmm" #n "\n"
#define CTX_ST(n, k) "    movq %xmm" #n ", " #k "(%rdx)\n"
__asm__(
    ".text\n"
    ".p2align 4\n"
    ".globl ctx_regs_call\n"
    ".def ctx_regs_call; .scl 2; .type 32; .endef\n"
    "ctx_regs_call:\n"
    "    pushq %rbp\n"                       /* entry rsp = 8 mod 16 */
    "    pushq %rbx\n"
    "    pushq %rdi\n"
    "    pushq %rsi\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    subq $200, %rsp\n"                  /* shadow 0-31, xmm 32-191, out 192; rsp = 0 mod 16 */
    CTX_XMM(6, 32) CTX_XMM(7, 48) CTX_XMM(8, 64) CTX_XMM(9, 80) CTX_XMM(10, 96)
    CTX_XMM(11, 112) CTX_XMM(12, 128) CTX_XMM(13, 144) CTX_XMM(14, 160) CTX_XMM(15, 176)
    "    movq %r8, 192(%rsp)\n"
    "    movq %rcx, %rax\n"
    "    movq 0(%rdx), %rbx\n"
    "    movq 8(%rdx), %rbp\n"
    "    movq 16(%rdx), %rdi\n"
    "    movq 24(%rdx), %rsi\n"
    "    movq 32(%rdx), %r12\n"
    "    movq 40(%rdx), %r13\n"
    "    movq 48(%rdx), %r14\n"
    "    movq 56(%rdx), %r15\n"
    CTX_LD(6, 64) CTX_LD(7, 72) CTX_LD(8, 80) CTX_LD(9, 88) CTX_LD(10, 96)
    CTX_LD(11, 104) CTX_LD(12, 112) CTX_LD(13, 120) CTX_LD(14, 128) CTX_LD(15, 136)
    "    callq *%rax\n"
    "    movq 192(%rsp), %rdx\n"
    "    movq %rbx, 0(%rdx)\n"
    "    movq %rbp, 8(%rdx)\n"
    "    movq %rdi, 16(%rdx)\n"
    "    movq %rsi, 24(%rdx)\n"
    "    movq %r12, 32(%rdx)\n"
    "    movq %r13, 40(%rdx)\n"
    "    movq %r14, 48(%rdx)\n"
    "    movq %r15, 56(%rdx)\n"
    CTX_ST(6, 64) CTX_ST(7, 72) CTX_ST(8, 80) CTX_ST(9, 88) CTX_ST(10, 96)
    CTX_ST(11, 104) CTX_ST(12, 112) CTX_ST(13, 120) CTX_ST(14, 128) CTX_ST(15, 136)
    CTX_XMMR(6, 32) CTX_XMMR(7, 48) CTX_XMMR(8, 64) CTX_XMMR(9, 80) CTX_XMMR(10, 96)
    CTX_XMMR(11, 112) CTX_XMMR(12, 128) CTX_XMMR(13, 144) CTX_XMMR(14, 160) CTX_XMMR(15, 176)
    "    addq $200, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rsi\n"
    "    popq %rdi\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n");
#define CTX_HAVE_ASM 1
#elif defined(__x86_64__)
#define CTX_NREGS 6
static const char *const ctx_reg_names[CTX_NREGS] = { "rbx", "rbp", "r12", "r13", "r14", "r15" };
__asm__(
    ".pushsection .text\n"
    ".p2align 4\n"
    ".globl ctx_regs_call\n"
    ".hidden ctx_regs_call\n"
    ".type ctx_regs_call, @function\n"
    "ctx_regs_call:\n"
    ".cfi_startproc\n"
    "    pushq %rbp\n"                       /* entry rsp = 8 mod 16 */
    ".cfi_adjust_cfa_offset 8\n"
    ".cfi_rel_offset %rbp, 0\n"
    "    pushq %rbx\n"
    ".cfi_adjust_cfa_offset 8\n"
    ".cfi_rel_offset %rbx, 0\n"
    "    pushq %r12\n"
    ".cfi_adjust_cfa_offset 8\n"
    ".cfi_rel_offset %r12, 0\n"
    "    pushq %r13\n"
    ".cfi_adjust_cfa_offset 8\n"
    ".cfi_rel_offset %r13, 0\n"
    "    pushq %r14\n"
    ".cfi_adjust_cfa_offset 8\n"
    ".cfi_rel_offset %r14, 0\n"
    "    pushq %r15\n"
    ".cfi_adjust_cfa_offset 8\n"
    ".cfi_rel_offset %r15, 0\n"
    "    pushq %rdx\n"                       /* out; 7 pushes: rsp = 0 mod 16 */
    ".cfi_adjust_cfa_offset 8\n"
    "    movq 0(%rsi), %rbx\n"
    "    movq 8(%rsi), %rbp\n"
    "    movq 16(%rsi), %r12\n"
    "    movq 24(%rsi), %r13\n"
    "    movq 32(%rsi), %r14\n"
    "    movq 40(%rsi), %r15\n"
    "    callq *%rdi\n"
    "    popq %rdx\n"
    ".cfi_adjust_cfa_offset -8\n"
    "    movq %rbx, 0(%rdx)\n"
    "    movq %rbp, 8(%rdx)\n"
    "    movq %r12, 16(%rdx)\n"
    "    movq %r13, 24(%rdx)\n"
    "    movq %r14, 32(%rdx)\n"
    "    movq %r15, 40(%rdx)\n"
    "    popq %r15\n"
    ".cfi_adjust_cfa_offset -8\n"
    "    popq %r14\n"
    ".cfi_adjust_cfa_offset -8\n"
    "    popq %r13\n"
    ".cfi_adjust_cfa_offset -8\n"
    "    popq %r12\n"
    ".cfi_adjust_cfa_offset -8\n"
    "    popq %rbx\n"
    ".cfi_adjust_cfa_offset -8\n"
    "    popq %rbp\n"
    ".cfi_adjust_cfa_offset -8\n"
    "    ret\n"
    ".cfi_endproc\n"
    ".size ctx_regs_call, .-ctx_regs_call\n"
    ".popsection\n");
#define CTX_HAVE_ASM 1
#elif defined(__aarch64__)
#define CTX_NREGS 18
static const char *const ctx_reg_names[CTX_NREGS] = {
    "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
    "d8", "d9", "d10", "d11", "d12", "d13", "d14", "d15" };
__asm__(
    ".pushsection .text\n"
    ".p2align 4\n"
    ".globl ctx_regs_call\n"
    ".hidden ctx_regs_call\n"
    ".type ctx_regs_call, %function\n"
    "ctx_regs_call:\n"
    ".cfi_startproc\n"
    "    stp x29, x30, [sp, #-176]!\n"
    ".cfi_def_cfa_offset 176\n"
    ".cfi_offset x29, -176\n"
    ".cfi_offset x30, -168\n"
    "    mov x29, sp\n"
    "    stp x19, x20, [sp, #16]\n"
    "    stp x21, x22, [sp, #32]\n"
    "    stp x23, x24, [sp, #48]\n"
    "    stp x25, x26, [sp, #64]\n"
    "    stp x27, x28, [sp, #80]\n"
    "    stp d8, d9, [sp, #96]\n"
    "    stp d10, d11, [sp, #112]\n"
    "    stp d12, d13, [sp, #128]\n"
    "    stp d14, d15, [sp, #144]\n"
    "    str x2, [sp, #160]\n"               /* out */
    "    ldp x19, x20, [x1, #0]\n"
    "    ldp x21, x22, [x1, #16]\n"
    "    ldp x23, x24, [x1, #32]\n"
    "    ldp x25, x26, [x1, #48]\n"
    "    ldp x27, x28, [x1, #64]\n"
    "    ldp d8, d9, [x1, #80]\n"
    "    ldp d10, d11, [x1, #96]\n"
    "    ldp d12, d13, [x1, #112]\n"
    "    ldp d14, d15, [x1, #128]\n"
    "    blr x0\n"
    "    ldr x2, [sp, #160]\n"
    "    stp x19, x20, [x2, #0]\n"
    "    stp x21, x22, [x2, #16]\n"
    "    stp x23, x24, [x2, #32]\n"
    "    stp x25, x26, [x2, #48]\n"
    "    stp x27, x28, [x2, #64]\n"
    "    stp d8, d9, [x2, #80]\n"
    "    stp d10, d11, [x2, #96]\n"
    "    stp d12, d13, [x2, #112]\n"
    "    stp d14, d15, [x2, #128]\n"
    "    ldp x19, x20, [sp, #16]\n"
    "    ldp x21, x22, [sp, #32]\n"
    "    ldp x23, x24, [sp, #48]\n"
    "    ldp x25, x26, [sp, #64]\n"
    "    ldp x27, x28, [sp, #80]\n"
    "    ldp d8, d9, [sp, #96]\n"
    "    ldp d10, d11, [sp, #112]\n"
    "    ldp d12, d13, [sp, #128]\n"
    "    ldp d14, d15, [sp, #144]\n"
    "    ldp x29, x30, [sp], #176\n"
    ".cfi_def_cfa_offset 0\n"
    ".cfi_restore x29\n"
    ".cfi_restore x30\n"
    "    ret\n"
    ".cfi_endproc\n"
    ".size ctx_regs_call, .-ctx_regs_call\n"
    ".popsection\n");
#define CTX_HAVE_ASM 1
#else
#define CTX_HAVE_ASM 0
#endif

#if CTX_HAVE_ASM
void ctx_regs_call(void (*fn)(void), const uint64_t *in, uint64_t *out);

static long asm_bad;   /* atomic: mismatched registers seen */

static void asm_main(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg;
    long iters = check_scale(3000), i;
    int k;
    for (i = 0; i < iters; i++) {
        uint64_t in[CTX_NREGS], out[CTX_NREGS];
        for (k = 0; k < CTX_NREGS; k++) {
            in[k] = 0xA5C3000000000000ull ^ (id << 40) ^ ((uint64_t)i << 8) ^ (uint64_t)k;
            out[k] = 0;
        }
        ctx_regs_call(gort_yield, in, out);
        for (k = 0; k < CTX_NREGS; k++) {
            if (in[k] != out[k]) {
                if (__atomic_fetch_add(&asm_bad, 1, __ATOMIC_RELAXED) < 10)
                    fprintf(stderr, "goroutine %d iteration %ld: %s was %#llx, now %#llx\n",
                            (int)id, i, ctx_reg_names[k], (unsigned long long)in[k],
                            (unsigned long long)out[k]);
            }
        }
    }
    gort_wg_done(&wg);
}

/* Control: the routine itself keeps the registers across a plain call. */
static void nothing(void) { __asm__ volatile("" ::: "memory"); }
#endif

/* ------------------------------------------------------------------ */
/* 3. Floating-point control state                                     */

static const int fp_modes[4] = { FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO };
static double      fp_third[4];       /* 1.0/3.0 in each mode */
static long double fp_third_ld[4];    /* 1.0L/3.0L in each mode */

static NOINLINE double third(void)
{
    volatile double a = 1.0, b = 3.0;
    return a / b;
}

static NOINLINE long double third_ld(void)
{
    volatile long double a = 1.0L, b = 3.0L;
    return a / b;
}

/* The whole control register, status (sticky exception) bits masked off. */
static NOINLINE unsigned long fp_control(void)
{
#if defined(__x86_64__)
    unsigned int mxcsr;
    unsigned short cw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return ((unsigned long)(mxcsr & ~0x3fu) << 16) | cw;
#elif defined(__aarch64__)
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return (unsigned long)fpcr;
#else
    return 0;
#endif
}

static unsigned long fp_ctl_nearest;   /* fp_control() in round-to-nearest */
static long fp_bad;          /* atomic */
static long fp_not_nearest;  /* atomic: goroutines that did not start in nearest */

static void fp_note_bad(int id, long i, const char *what)
{
    if (__atomic_fetch_add(&fp_bad, 1, __ATOMIC_RELAXED) < 10)
        fprintf(stderr, "fp goroutine %d iteration %ld: %s\n", id, i, what);
}

static void fp_main(void *arg)
{
    int id = (int)(uintptr_t)arg;
    int m = id % 4, mode = fp_modes[m];
    long iters = check_scale(2000), i;
    unsigned long ctl;
    if (fegetround() != FE_TONEAREST || fp_control() != fp_ctl_nearest)
        __atomic_fetch_add(&fp_not_nearest, 1, __ATOMIC_RELAXED);
    CHECK_EQ(fesetround(mode), 0);
    ctl = fp_control();
    for (i = 0; i < iters; i++) {
        if ((i & 63) == 9)
            gort_sleep(1000);
        else
            gort_yield();
        if (fegetround() != mode)
            fp_note_bad(id, i, "fegetround() changed");
        if (fp_control() != ctl)
            fp_note_bad(id, i, "control register changed");
        if (memcmp(&(double){ third() }, &fp_third[m], sizeof(double)) != 0)
            fp_note_bad(id, i, "double division rounded in another mode");
        if (third_ld() != fp_third_ld[m])
            fp_note_bad(id, i, "long double division rounded in another mode");
    }
    /* Leave the mode set: the next goroutine on this thread must still
       start in round-to-nearest. */
    gort_wg_done(&wg);
}

/* ------------------------------------------------------------------ */
/* 4. Stack alignment at goroutine entry                               */

typedef float ctx_v4 __attribute__((vector_size(16)));
__extension__ typedef unsigned __int128 ctx_u128;

static long align_bad;   /* atomic */
static long align_ran;   /* atomic */

static NOINLINE void align_check(int depth)
{
    uintptr_t fa = (uintptr_t)__builtin_frame_address(0);
    __attribute__((aligned(16))) volatile unsigned char buf[32];
    volatile ctx_v4 va = { 1.0f, 2.0f, 3.0f, 4.0f }, vb = { 0.5f, 0.25f, 2.0f, 8.0f };
    ctx_v4 vc;
    volatile long double ld = 1.0L;
    volatile ctx_u128 big = 1;
    char text[128];
    if (fa % 16 != 0 || (uintptr_t)buf % 16 != 0 || (uintptr_t)&va % 16 != 0 ||
        (uintptr_t)&big % 16 != 0) {
        if (__atomic_fetch_add(&align_bad, 1, __ATOMIC_RELAXED) < 10)
            fprintf(stderr, "misaligned at depth %d: frame %#lx buf %p va %p big %p\n", depth,
                    (unsigned long)fa, (void *)buf, (void *)&va, (void *)&big);
    }
    buf[0] = 1;
    vc = va * vb;
    CHECK(vc[0] == 0.5f && vc[1] == 0.5f && vc[2] == 6.0f && vc[3] == 32.0f);
    ld = ld * 3.0L + 0.5L;
    CHECK(ld == 3.5L);
    big = (big << 100) + 7;
    CHECK((uint64_t)(big >> 100) == 1 && (uint64_t)big == 7);
    snprintf(text, sizeof text, "%.2f %.2Lf %d", 2.5, (long double)ld, depth);
    CHECK(strncmp(text, "2.50 3.50 ", 10) == 0);
    __atomic_fetch_add(&align_ran, 1, __ATOMIC_RELAXED);
}

static void align_entry(void *arg)
{
    uintptr_t fa = (uintptr_t)__builtin_frame_address(0);
    __attribute__((aligned(16))) volatile unsigned char here[16];
    int nested = (int)(uintptr_t)arg;
    if (fa % 16 != 0 || (uintptr_t)here % 16 != 0) {
        __atomic_fetch_add(&align_bad, 1, __ATOMIC_RELAXED);
        fprintf(stderr, "misaligned goroutine entry: frame %#lx local %p\n", (unsigned long)fa,
                (void *)here);
    }
    here[0] = 0;
    align_check(0);
    gort_yield();
    align_check(1);
    if (nested) {
        gort_wg_add(&wg, 1);
        CHECK_EQ(gort_go(align_entry, (void *)0), 0);
    }
    gort_wg_done(&wg);
}

/* ------------------------------------------------------------------ */

struct cfg {
    int  nlv, nasm, nfp, nalign;
    long lv_iters;
};

static void main_fn(void *arg)
{
    const struct cfg *cfg = (const struct cfg *)arg;
    struct lv_job jobs[16];
    int i, n = 0;

    gort_wg_add(&wg, 1);      /* align_entry does wg_done */
    align_entry((void *)0);   /* the main goroutine too */

    for (i = 0; i < cfg->nlv; i++) {
        jobs[i].seed = mix(0x1234u + (uint64_t)i);
        jobs[i].iters = cfg->lv_iters;
        jobs[i].got = 1;
        jobs[i].want = 2;
        gort_wg_add(&wg, 1);
        CHECK_EQ(gort_go(lv_main, &jobs[i]), 0);
    }
#if CTX_HAVE_ASM
    for (i = 0; i < cfg->nasm; i++) {
        gort_wg_add(&wg, 1);
        CHECK_EQ(gort_go(asm_main, (void *)(uintptr_t)(i + 1)), 0);
    }
#endif
    for (i = 0; i < cfg->nfp; i++) {
        gort_wg_add(&wg, 1);
        CHECK_EQ(gort_go(fp_main, (void *)(uintptr_t)i), 0);
    }
    for (i = 0; i < cfg->nalign; i++) {
        gort_wg_add(&wg, 1);
        CHECK_EQ(gort_go(align_entry, (void *)(uintptr_t)1), 0);
    }
    gort_wg_wait(&wg);

    for (i = 0; i < cfg->nlv; i++) {
        if (jobs[i].got != jobs[i].want)
            n++;
    }
    CHECK_EQ(n, 0);   /* live locals corrupted by a switch */

    /* A second wave on threads whose last goroutines left odd rounding
       modes behind: each must still start in round-to-nearest. */
    for (i = 0; i < cfg->nfp; i++) {
        gort_wg_add(&wg, 1);
        CHECK_EQ(gort_go(fp_main, (void *)(uintptr_t)i), 0);
    }
    gort_wg_wait(&wg);

    /* The main goroutine never changed its mode. */
    CHECK_EQ(fegetround(), FE_TONEAREST);
    CHECK_EQ(fp_control(), fp_ctl_nearest);
}

static void run_cfg(const char *name, int maxprocs, int debug, const struct cfg *cfg)
{
    gort_opts o;
    memset(&o, 0, sizeof o);
    o.maxprocs = maxprocs;
    o.debug = debug;
    o.hog_ns = -1;
    __atomic_store_n(&asm_bad, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&fp_bad, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&fp_not_nearest, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&align_bad, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&align_ran, 0, __ATOMIC_RELAXED);
    CHECK_EQ(gort_run_opts(&o, main_fn, (void *)cfg), 0);
#if CTX_HAVE_ASM
    CHECK_EQ(asm_bad, 0);
#endif
    CHECK_EQ(fp_bad, 0);
    CHECK_EQ(fp_not_nearest, 0);
    CHECK_EQ(align_bad, 0);
    /* main goroutine: 2; each nalign goroutine: 2, plus 2 for its child */
    CHECK_EQ(align_ran, 2 + 4L * cfg->nalign);
    /* The thread that called gort_run gets its own mode back. */
    CHECK_EQ(fegetround(), FE_TONEAREST);
    CHECK_EQ(fp_control(), fp_ctl_nearest);
    check_note("%s: done", name);
}

int main(void)
{
    struct cfg cfg;
    int m;

    watchdog(WATCHDOG_S);

    /* Expected results per rounding mode, computed on this thread. */
    for (m = 0; m < 4; m++) {
        CHECK_EQ(fesetround(fp_modes[m]), 0);
        fp_third[m] = third();
        fp_third_ld[m] = third_ld();
    }
    CHECK_EQ(fesetround(FE_TONEAREST), 0);
    fp_ctl_nearest = fp_control();
    /* The modes really differ, so the checks can fail. Valgrind computes
       in round-to-nearest whatever the mode (it still keeps the control
       registers, which fp_control() checks). */
    if (under_valgrind()) {
        check_note("Valgrind: rounding modes are not emulated; only the control registers are checked");
    } else {
        CHECK(fp_third[1] != fp_third[2]);
        CHECK(fp_third_ld[1] != fp_third_ld[2]);
    }

#if CTX_HAVE_ASM
    {   /* the assembly routine works at all */
        uint64_t in[CTX_NREGS], out[CTX_NREGS];
        int k;
        for (k = 0; k < CTX_NREGS; k++) {
            in[k] = 0x0123456789abcdefull + (uint64_t)k;
            out[k] = 0;
        }
        ctx_regs_call(nothing, in, out);
        CHECK(memcmp(in, out, sizeof in) == 0);
    }
#else
    check_note("no register test for this architecture");
#endif

    memset(&cfg, 0, sizeof cfg);
    cfg.nlv = 16;
    cfg.nasm = 8;
    cfg.nfp = 8;
    cfg.nalign = 8;
    cfg.lv_iters = check_scale(20000);

    run_cfg("maxprocs 1", 1, 0, &cfg);
    run_cfg("maxprocs 2", 2, 0, &cfg);
    run_cfg("maxprocs 2, migrate", 2, GORT_DEBUG_MIGRATE, &cfg);
    run_cfg("maxprocs 4", 4, 0, &cfg);
    return check_done();
}
