/* Compile check: a second user translation unit (gort.h included plain),
   linked into the same program as use.c and impl.c. */
#include "../../gort.h"

GORT_CHAN_TYPED(intchan, int);

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
