/* gort_ctxswitch: the raw context switch, gort__ctx_swap, with nothing of
   the scheduler around it. Two contexts (the thread's own stack and one
   built with gort__ctx_init) switch to each other; each switch is a call
   from C that saves the callee-saved registers and FP control words and
   resumes the other side by `ret`. Reports ns per switch. Uses gort's
   internals: this file defines GORT_IMPLEMENTATION, so they are visible. */
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "bench.h"

static void *main_sp, *co_sp;
static long iters;

static void co_body(void *arg) {
    (void)arg;
    for (;;) gort__ctx_swap(&co_sp, main_sp);
}

int main(void) {
    static char stack[64 * 1024] __attribute__((aligned(16)));
    long i;
    int64_t t0, t1;
    iters = bench_quick() ? 2000000 : 20000000;
    co_sp = gort__ctx_init(stack, stack, stack + sizeof stack, co_body, NULL);
    gort__ctx_swap(&main_sp, co_sp);          /* warm up: enter co_body */
    t0 = bench_now();
    for (i = 0; i < iters; i++) gort__ctx_swap(&main_sp, co_sp);
    t1 = bench_now();
    bench_result("ctxswitch", (double)(t1 - t0) / (2.0 * (double)iters), "ns/op");
    return 0;
}
