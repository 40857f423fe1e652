/* test_stack_noclash.c - test_stack.c's large-frame case built WITHOUT
   -fstack-clash-protection (the directive below takes it out of the
   matrix's flags).

   A 300 KiB local array on a 128 KiB stack then moves the stack pointer
   past the guard page into the segment below, and nothing faults. gort
   checks at every switch that the frame is inside the goroutine's stack,
   so a frame that is live across a switch (here: gort_sleep inside it)
   must still be reported as a stack overflow, never "finish normally".
   A frame that does not switch cannot be caught: gort.h's CONFIGURATION
   and >>stack say why -fstack-clash-protection is required.
   C99. */
// gort-test: no-stack-clash-protection
#define STACK_NOCLASH 1
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"   /* test_stack.c's other cases */
#endif
#include "test_stack.c"

int main(void)
{
    watchdog(WATCHDOG_S);
    unsetenv("GORT_STACK_SIZE");
    unsetenv("GORT_DEBUG");
    if (under_valgrind())
        /* Valgrind itself reports the write below the stack (as an
           invalid write, which the test runner counts as a failure):
           the case is covered, by the tool. */
        check_note("under Valgrind: not run (Valgrind reports the frame's writes below the stack itself)");
    else
        test_bigframe(1);
    return check_done();
}
