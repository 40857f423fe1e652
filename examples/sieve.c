/* sieve.c - Go's concurrent prime sieve: a generator and a daisy chain of
 * filter goroutines, one per prime found, joined by unbuffered channels.
 *
 * What it shows: goroutines handing values down a chain, direction-checked
 * channel handles (gort_chan_tx and gort_chan_rx are Go's chan<- and <-chan),
 * and a clean shutdown: Go's version simply returns from main and leaves the
 * chain blocked, here a quit channel and gort_select unwind every goroutine
 * so each channel can be freed.
 *
 * Usage: sieve [N]    prints the first N primes (default 100) and checks them
 * against trial division; exit status 0 only if they match.
 */
#define GORT_IMPLEMENTATION
#include "../gort.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_N 20000

static gort_chan *quit;                 /* closed by main: everyone stop */
static gort_wg    wg = GORT_WG_INIT;    /* the generator and every filter */

/* out <- v, unless quit closes first. 1 sent, 0 quitting. */
static int send_int(gort_chan_tx out, int v) {
    gort_case cs[2];
    cs[0].chan = out.c; cs[0].op = GORT_SEND; cs[0].elem = &v;  cs[0].ok = 0;
    cs[1].chan = quit;  cs[1].op = GORT_RECV; cs[1].elem = NULL; cs[1].ok = 0;
    return gort_select(cs, 2, -1) == 0 && cs[0].ok;
}

/* *v = <-in, unless quit closes first. 1 received, 0 quitting. */
static int recv_int(gort_chan_rx in, int *v) {
    gort_case cs[2];
    cs[0].chan = in.c; cs[0].op = GORT_RECV; cs[0].elem = v;    cs[0].ok = 0;
    cs[1].chan = quit; cs[1].op = GORT_RECV; cs[1].elem = NULL; cs[1].ok = 0;
    return gort_select(cs, 2, -1) == 0 && cs[0].ok;
}

/* Send 2, 3, 4, ... to out. */
static void generate(void *arg) {
    gort_chan_tx out = *(gort_chan_tx *)arg;
    for (int i = 2; send_int(out, i); i++) {}
    gort_wg_done(&wg);
}

typedef struct filter_arg {
    gort_chan_rx in;
    gort_chan_tx out;
    int          prime;
} filter_arg;

/* Copy the values from in to out, dropping those divisible by prime. */
static void filter(void *arg) {
    filter_arg *f = (filter_arg *)arg;
    int i;
    while (recv_int(f->in, &i))
        if (i % f->prime != 0 && !send_int(f->out, i)) break;
    gort_wg_done(&wg);
}

static int is_prime(int n) {
    if (n < 2) return 0;
    for (int d = 2; d <= n / d; d++)
        if (n % d == 0) return 0;
    return 1;
}

static int result = 1;

static void main_fn(void *arg) {
    int          n = *(int *)arg, made = 0, bad = 0;
    int         *primes = (int *)malloc((size_t)n * sizeof(int));
    gort_chan  **chans = (gort_chan **)malloc((size_t)n * sizeof(gort_chan *));
    filter_arg  *fa = (filter_arg *)malloc((size_t)n * sizeof(filter_arg));
    gort_chan_tx gen_out;
    gort_chan_rx ch;
    int64_t      t0 = gort_now(), t1;

    quit = gort_chan_make(0, 0);
    if (primes && chans && fa && quit && (chans[0] = gort_chan_make(sizeof(int), 0)) != NULL)
        made = 1;
    if (!made) {
        fprintf(stderr, "sieve: out of memory\n");
        goto out;
    }
    gen_out = gort_tx(chans[0]);
    ch = gort_rx(chans[0]);
    gort_wg_add(&wg, 1);
    if (gort_go(generate, &gen_out) != 0) {
        fprintf(stderr, "sieve: cannot start the generator\n");
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        int prime;
        if (gort_rx_recv(ch, &prime) != 1) {
            fprintf(stderr, "sieve: chain closed early\n");
            bad = 1;
            break;
        }
        primes[i] = prime;
        printf("%6d%s", prime, (i % 10 == 9 || i == n - 1) ? "\n" : " ");
        if (i == n - 1) break;   /* no filter needed after the last prime */
        if (!(chans[made] = gort_chan_make(sizeof(int), 0))) {
            fprintf(stderr, "sieve: out of memory\n");
            exit(1);
        }
        fa[i].in = ch;
        fa[i].out = gort_tx(chans[made]);
        fa[i].prime = prime;
        ch = gort_rx(chans[made++]);
        gort_wg_add(&wg, 1);
        if (gort_go(filter, &fa[i]) != 0) {
            fprintf(stderr, "sieve: cannot start filter %d\n", i);
            exit(1);
        }
    }
    t1 = gort_now();

    /* Unwind the chain: every goroutine is blocked in a select on quit. */
    gort_chan_close(quit);
    gort_wg_wait(&wg);

    if (!bad) {
        int k = 0;
        for (int c = 2; k < n; c++) {
            if (!is_prime(c)) continue;
            if (primes[k] != c) {
                printf("MISMATCH: prime #%d is %d, the sieve said %d\n", k + 1, c, primes[k]);
                bad = 1;
                break;
            }
            k++;
        }
    }
    if (!bad) {
        printf("OK: the first %d primes match trial division (%d filter goroutines, %.1f ms)\n",
               n, made - 1, (double)(t1 - t0) / 1e6);
        result = 0;
    } else {
        printf("FAILED\n");
    }

out:
    for (int i = 0; i < made; i++) gort_chan_free(chans[i]);
    if (quit) gort_chan_free(quit);
    free(primes);
    free(chans);
    free(fa);
}

int main(int argc, char **argv) {
    int  n = 100, rc;
    if (argc > 2) {
        fprintf(stderr, "usage: %s [N 1..%d]\n", argv[0], MAX_N);
        return 2;
    }
    if (argc == 2) {
        char *end;
        long v;
        errno = 0;
        v = strtol(argv[1], &end, 10);
        if (errno || end == argv[1] || *end || v < 1 || v > MAX_N) {
            fprintf(stderr, "usage: %s [N 1..%d]\n", argv[0], MAX_N);
            return 2;
        }
        n = (int)v;
    }
    rc = gort_run(main_fn, &n);
    if (rc != 0) {
        fprintf(stderr, "sieve: gort_run: %s\n", gort_strerror(rc));
        return 1;
    }
    return result;
}
