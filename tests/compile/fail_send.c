/* Compile-FAIL check: gort_tx_send() on the wrong direction handle
   (gort_chan_rx) must not compile, as C or as C++. tests/run.sh
   compiles this with gcc and clang (or g++ and clang++) and passes when
   compilation fails; with -DGORT_CHECK_CONTROL (the right handle type,
   gort_chan_tx) it must compile warning-free, so the failure is the
   one we mean. */
#include "../../gort.h"

int use_handle(gort_chan *c);

int use_handle(gort_chan *c)
{
    int v = 1;
#ifdef GORT_CHECK_CONTROL
    gort_chan_tx h = gort_tx(c);
#else
    gort_chan_rx h = gort_rx(c);
#endif
    (void)v;
    return gort_tx_send(h, &v);
}
