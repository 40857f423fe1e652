/* Compile check: a second user translation unit (gort.h included plain),
   linked into the same program as use.c and impl.c. */
#include "../../gort.h"

GORT_CHAN_TYPED(intchan, int);

/* names a program may have: a type called n, a macro called cap (the
   typed channel's parameters must not meet them) */
typedef long n;
#define cap 7
GORT_CHAN_TYPED(nchan, n);
#undef cap
int use2_typed_n(void);
int use2_typed_n(void)
{
    nchan c = nchan_make(1);
    n v = 0;
    int ok = c.c && nchan_send(c, 5) == 0 && nchan_recv(c, &v) == 1 && v == 5;
    nchan_free(c);
    return ok;
}

int use2_sum(gort_chan *c);
int use2_typed(void);

/* receive through a receive-only handle until the channel is closed */
int use2_sum(gort_chan *c)
{
    gort_chan_rx rx = gort_rx(c);
    int v, sum = 0;
    while (gort_rx_recv(rx, &v) == 1)
        sum += v;
    return sum;
}

int use2_typed(void)
{
    intchan c = intchan_make(1);
    int v = 0;
    if (!c.c || intchan_send(c, 42) != 0 || intchan_recv(c, &v) != 1)
        return -1;
    intchan_close(c);
    intchan_free(c);
    return v;
}
