#define GORT_IMPLEMENTATION
#include "gort.h"
#include <stdio.h>

static void worker(void *arg) {
    gort_chan *c = (gort_chan *)arg;
    for (int i = 1; i <= 3; i++) gort_chan_send(c, &i);
    gort_chan_close(c);
}

static void main_fn(void *arg) {
    (void)arg;
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    gort_go(worker, c);
    int v;
    while (gort_chan_recv(c, &v) == 1) printf("got %d\n", v);
    gort_chan_free(c);
}

int main(void) { return gort_run(main_fn, NULL) == 0 ? 0 : 1; }
