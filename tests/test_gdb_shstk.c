/* test_gdb_shstk.c - gort refuses to start under a hardware shadow stack
   (>>arch: gort__ctx_check), which its context switch would trip.

   No machine here runs programs with one, so the kernel's answer to the
   status request (x86-64: arch_prctl ARCH_SHSTK_STATUS; aarch64: prctl
   PR_GET_SHADOW_STACK_STATUS) comes from a wrapper of syscall() (the
   program links with -Wl,--wrap=syscall): while it says "on", gort_run and
   gort_start return -ENOTSUP, start nothing and leave no runtime behind;
   the real answer (off, or a kernel that does not know the request) lets
   both run. */
// gort-test: wrap=syscall
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

long __real_syscall(long n, ...);
long __wrap_syscall(long n, ...);

static int fake_on;   /* atomic: answer "shadow stack on" */
static int asked;     /* atomic: status requests seen */

/* The status request is answered here, everything else forwarded. Of the
   arguments, five are read whatever the call passed (on x86-64 they come
   from registers); a sixth, which comes from the caller's stack, only for
   the six-argument calls gort makes (reading it otherwise is a stack
   underflow under ASan). */
long __wrap_syscall(long n, ...)
{
    va_list ap;
    long a[6] = { 0, 0, 0, 0, 0, 0 };
    int i, k = (n == SYS_futex || n == SYS_epoll_pwait2) ? 6 : 5;
    va_start(ap, n);
    for (i = 0; i < k; i++) a[i] = va_arg(ap, long);
    va_end(ap);
#if defined(__x86_64__)
    if (n == SYS_arch_prctl && a[0] == 0x5005) {
#else
    if (n == SYS_prctl && a[0] == 74) {
#endif
        __atomic_fetch_add(&asked, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&fake_on, __ATOMIC_SEQ_CST)) {
            *(unsigned long *)a[1] = 1;   /* the shadow stack bit */
            return 0;
        }
    }
    return __real_syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static int ran;

static void main_fn(void *arg)
{
    (void)arg;
    ran = 1;
}

int main(void)
{
    fprintf(stderr, "(a line from gort about a shadow stack is expected below, twice)\n");
    __atomic_store_n(&fake_on, 1, __ATOMIC_SEQ_CST);
    CHECK_EQ(gort_run(main_fn, NULL), -ENOTSUP);
    CHECK_EQ(ran, 0);
    CHECK_EQ(gort_running(), 0);
    CHECK_EQ(gort_start(NULL), -ENOTSUP);
    CHECK_EQ(gort_running(), 0);
    CHECK_EQ(gort_go(main_fn, NULL), -ESRCH);
    CHECK(__atomic_load_n(&asked, __ATOMIC_SEQ_CST) >= 2);

    __atomic_store_n(&fake_on, 0, __ATOMIC_SEQ_CST);
    CHECK_EQ(gort_run(main_fn, NULL), 0);
    CHECK_EQ(ran, 1);
    CHECK_EQ(gort_start(NULL), 0);
    CHECK_EQ(gort_running(), 1);
    CHECK_EQ(gort_stop(), 0);
    return check_done();
}
