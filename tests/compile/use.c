/* Compile check: a user translation unit (gort.h included plain, twice).

   The table below spells out every public function's type. Initialising
   it fails to compile (C: incompatible pointer type under -Werror; C++:
   no conversion) when a declaration drifts from the contract in API.md and
   the extensions documented in gort.h, and linking it fails when a
   function is declared but not defined. main runs a small program over
   channels and sync objects from static storage. */
#include "../../gort.h"

/* C++ is compiled with -Wzero-as-null-pointer-constant, which clang also
   applies to NULL */
#if defined(__cplusplus)
#define NIL nullptr
#else
#define NIL NULL
#endif
#include "../../gort.h"
#include <errno.h>
#include <stdio.h>

int use2_sum(gort_chan *c);
int use2_typed(void);
int use2_typed_n(void);

struct use_api {
    int          (*run)(void (*)(void *), void *);
    int          (*run_opts)(const gort_opts *, void (*)(void *), void *);
    int          (*start)(const gort_opts *);
    int          (*stop)(void);
    int          (*running)(void);
    int          (*go)(void (*)(void *), void *);
    void         (*yield)(void);
    void         (*exit_)(void);
    int          (*maxprocs)(void);
    long         (*goroutines)(void);
    int          (*in_goroutine)(void);
    gort_chan   *(*chan_make)(size_t, size_t);
    gort_chan   *(*chan_make_err)(size_t, size_t, int *);
    int          (*chan_free)(gort_chan *);
    int          (*chan_send)(gort_chan *, const void *);
    int          (*chan_recv)(gort_chan *, void *);
    int          (*chan_try_send)(gort_chan *, const void *);
    int          (*chan_try_recv)(gort_chan *, void *);
    int          (*chan_close)(gort_chan *);
    size_t       (*chan_len)(gort_chan *);
    size_t       (*chan_cap)(gort_chan *);
    gort_chan_tx (*tx)(gort_chan *);
    gort_chan_rx (*rx)(gort_chan *);
    int          (*tx_send)(gort_chan_tx, const void *);
    int          (*tx_try_send)(gort_chan_tx, const void *);
    int          (*rx_recv)(gort_chan_rx, void *);
    int          (*rx_try_recv)(gort_chan_rx, void *);
    int          (*tx_close)(gort_chan_tx);
    int          (*select)(gort_case *, int, int64_t);
    int64_t      (*now)(void);
    void         (*sleep)(int64_t);
    gort_chan   *(*after)(int64_t);
    void         (*wg_add)(gort_wg *, int);
    void         (*wg_done)(gort_wg *);
    void         (*wg_wait)(gort_wg *);
    void         (*mutex_lock)(gort_mutex *);
    int          (*mutex_trylock)(gort_mutex *);
    void         (*mutex_unlock)(gort_mutex *);
    void         (*rwmutex_rlock)(gort_rwmutex *);
    void         (*rwmutex_runlock)(gort_rwmutex *);
    void         (*rwmutex_lock)(gort_rwmutex *);
    void         (*rwmutex_unlock)(gort_rwmutex *);
    void         (*cond_wait)(gort_cond *, gort_mutex *);
    void         (*cond_signal)(gort_cond *);
    void         (*cond_broadcast)(gort_cond *);
    void         (*once_do)(gort_once *, void (*)(void));
    ssize_t      (*read)(int, void *, size_t);
    ssize_t      (*write)(int, const void *, size_t);
    int          (*accept)(int, struct sockaddr *, socklen_t *);
    int          (*connect)(int, const struct sockaddr *, socklen_t);
    int          (*wait_fd)(int, int, int64_t);
    int          (*close)(int);
    void         (*block_begin)(void);
    void         (*block_end)(void);
    void         (*dump)(int);
    const char  *(*strerror)(int);
};

/* not static: an unused static would warn, and this must be emitted */
struct use_api use_api_table = {
    gort_run, gort_run_opts, gort_start, gort_stop, gort_running,
    gort_go, gort_yield, gort_exit, gort_maxprocs, gort_goroutines, gort_in_goroutine,
    gort_chan_make, gort_chan_make_err, gort_chan_free, gort_chan_send, gort_chan_recv,
    gort_chan_try_send, gort_chan_try_recv, gort_chan_close, gort_chan_len, gort_chan_cap,
    gort_tx, gort_rx, gort_tx_send, gort_tx_try_send, gort_rx_recv, gort_rx_try_recv,
    gort_tx_close,
    gort_select, gort_now, gort_sleep, gort_after,
    gort_wg_add, gort_wg_done, gort_wg_wait,
    gort_mutex_lock, gort_mutex_trylock, gort_mutex_unlock,
    gort_rwmutex_rlock, gort_rwmutex_runlock, gort_rwmutex_lock, gort_rwmutex_unlock,
    gort_cond_wait, gort_cond_signal, gort_cond_broadcast, gort_once_do,
    gort_read, gort_write, gort_accept, gort_connect, gort_wait_fd, gort_close,
    gort_block_begin, gort_block_end, gort_dump, gort_strerror
};

/* every sync object statically initialised */
static gort_wg      wg   = GORT_WG_INIT;
static gort_mutex   mu   = GORT_MUTEX_INIT;
static gort_rwmutex rw   = GORT_RWMUTEX_INIT;
static gort_cond    cv   = GORT_COND_INIT;
static gort_once    once = GORT_ONCE_INIT;
static int once_count;
static int failures;

#define EXPECT(c)                                                        \
    do {                                                                 \
        if (!(c)) {                                                      \
            fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #c); \
            failures++;                                                  \
        }                                                                \
    } while (0)

static void once_fn(void) { once_count++; }

static void producer(void *arg)
{
    gort_chan *c = (gort_chan *)arg;
    gort_chan_tx tx = gort_tx(c);
    int i;
    for (i = 1; i <= 3; i++)
        gort_tx_send(tx, &i);
    gort_tx_close(tx);
    gort_wg_done(&wg);
}

static void main_fn(void *arg)
{
    int *sum = (int *)arg;
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    gort_case cs[1];
    EXPECT(c != NULL);
    EXPECT(gort_in_goroutine() == 1);
    gort_wg_add(&wg, 1);
    EXPECT(gort_go(producer, c) == 0);
    *sum = use2_sum(c);
    gort_wg_wait(&wg);
    EXPECT(gort_chan_free(c) == 0);

    gort_mutex_lock(&mu);
    EXPECT(gort_mutex_trylock(&mu) == 0);
    gort_cond_broadcast(&cv);
    gort_mutex_unlock(&mu);
    gort_rwmutex_rlock(&rw);
    gort_rwmutex_runlock(&rw);
    gort_once_do(&once, once_fn);
    gort_once_do(&once, once_fn);
    EXPECT(use2_typed() == 42);
    EXPECT(use2_typed_n() == 1);

    cs[0].chan = NIL;       /* the nil channel is never ready */
    cs[0].op = GORT_RECV;
    cs[0].elem = NIL;
    cs[0].ok = -1;
    EXPECT(gort_select(cs, 1, 1000000) == -ETIMEDOUT);
}

int main(void)
{
    int sum = 0;
    EXPECT(gort_running() == 0);
    EXPECT(gort_run(main_fn, &sum) == 0);
    EXPECT(sum == 6);
    EXPECT(once_count == 1);
    EXPECT(gort_running() == 0);
    if (failures == 0)
        printf("compile check ok (%s)\n",
#ifdef __cplusplus
               "C++"
#else
               "C"
#endif
        );
    return failures != 0;
}
