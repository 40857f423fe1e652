/* Compile check: the implementation translation unit.

   gort.h is included twice with GORT_IMPLEMENTATION defined: the second
   include must add nothing (the header guard and the implementation guard
   each hold). It comes first in the file, as gort.h asks of the
   implementation file (it sets _GNU_SOURCE before the first system header).
   tests/run.sh builds this as C99, C11, C++11 and C++17 with gcc and clang
   under -Wall -Wextra -Wpedantic -Werror -O2, and links it with use.c and
   use2.c. */
#define GORT_IMPLEMENTATION
#include "../../gort.h"
#include "../../gort.h"
