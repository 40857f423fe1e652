/* Compile-FAIL check: the implementation needs _GNU_SOURCE before the
   first system header. Here <stdio.h> comes first, so gort.h's own
   #define _GNU_SOURCE is too late, and its #error must say so (and not
   leave the user with "unknown type name 'Dl_info'"), at the compiler's
   default standard (gnu17: glibc shows the BSD names then, not the GNU
   ones) and as C99. With -DGORT_CHECK_CONTROL gort.h comes first and the
   file compiles. C only: g++ defines _GNU_SOURCE itself. */
// gort-check-std: default c99
// gort-check-expect: include gort.h before any other header
#ifndef GORT_CHECK_CONTROL
#include <stdio.h>
#endif
#define GORT_IMPLEMENTATION
#include "../../gort.h"
#include <stdio.h>

int late_main(void);

int late_main(void)
{
    return printf("%d\n", gort_running()) > 0 ? 0 : 1;
}
