/* cxx.cpp - gort from C++: goroutines that run lambdas, channels that move
   ownership, and RAII around gort's C calls.

   A producer goroutine makes 1,000 jobs (each a std::unique_ptr<Job>
   holding a std::string) and moves them over a channel to 8 worker
   goroutines; each worker counts the words of its job and moves a Result
   back over a second channel; main adds them up and checks the total.
   Along the way:
     - go(lambda) starts a goroutine from any callable: the callable moves
       to the heap and a captureless trampoline (a plain function pointer,
       what gort_go takes) runs it and deletes it; an exception that would
       leave the goroutine is caught there and reported (it must not
       unwind through gort's frames);
     - Chan<T> owns a gort_chan (freed by its destructor) and carries
       std::unique_ptr<T>: a send gives the object to whoever receives it,
       a send that fails (a closed channel) leaves it with the sender, and
       a receive on a closed channel still hands out what it held;
     - Lock is a scope guard for gort_mutex, WaitGroup for gort_wg;
     - every Job and Result is destroyed exactly once: the program counts
       the live ones and fails if any is left;
     - an exception thrown inside a goroutine is caught inside the same
       goroutine, as in plain C++, unwinding through frames that yielded
       in between (and so may have run on other threads).

   Build:  g++ -std=c++11 -O2 -pthread -fstack-clash-protection -I.. cxx.cpp -o cxx
   Run:    ./cxx        exits 0 if every check held */
#define GORT_IMPLEMENTATION
#include "gort.h"

#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace {

/* go(f): run f() in a new goroutine. 0, or gort_go's -errno (f not run). */
template <class F>
int go(F &&f)
{
    typedef std::function<void()> Fn;
    Fn *heap = new (std::nothrow) Fn(std::forward<F>(f));
    if (!heap)
        return -ENOMEM;
    int rc = gort_go(
        [](void *arg) {
            std::unique_ptr<Fn> fn(static_cast<Fn *>(arg));
            try {
                (*fn)();
            } catch (const std::exception &e) {
                std::fprintf(stderr, "cxx: a goroutine threw: %s\n", e.what());
                std::terminate();
            }
        },
        heap);
    if (rc != 0)
        delete heap;
    return rc;
}

/* A channel of std::unique_ptr<T>: what travels is the pointer, and with
   it the ownership. */
template <class T>
class Chan {
public:
    explicit Chan(size_t cap = 0) : c_(gort_chan_make(sizeof(T *), cap))
    {
        if (!c_)
            throw std::bad_alloc();
    }
    ~Chan()
    {
        /* whatever was sent and never received is still owned by the channel */
        while (std::unique_ptr<T> left = try_recv())
            ;
        gort_chan_free(c_);
    }
    Chan(const Chan &) = delete;
    Chan &operator=(const Chan &) = delete;

    /* true: v was moved to the receiver (v is empty now); false (closed):
       v is still the caller's */
    bool send(std::unique_ptr<T> &v)
    {
        T *raw = v.get();
        if (gort_chan_send(c_, &raw) != 0)
            return false;
        v.release();
        return true;
    }
    /* the next value, or an empty pointer once the channel is closed and drained */
    std::unique_ptr<T> recv()
    {
        T *raw = nullptr;
        return std::unique_ptr<T>(gort_chan_recv(c_, &raw) == 1 ? raw : nullptr);
    }
    std::unique_ptr<T> try_recv()
    {
        T *raw = nullptr;
        return std::unique_ptr<T>(gort_chan_try_recv(c_, &raw) == 1 ? raw : nullptr);
    }
    void close() { gort_chan_close(c_); }

private:
    gort_chan *c_;
};

class Lock {
public:
    explicit Lock(gort_mutex &m) : m_(m) { gort_mutex_lock(&m_); }
    ~Lock() { gort_mutex_unlock(&m_); }
    Lock(const Lock &) = delete;
    Lock &operator=(const Lock &) = delete;

private:
    gort_mutex &m_;
};

class WaitGroup {
public:
    WaitGroup() { std::memset(&wg_, 0, sizeof wg_); }
    void add(int n) { gort_wg_add(&wg_, n); }
    void done() { gort_wg_done(&wg_); }
    void wait() { gort_wg_wait(&wg_); }

private:
    gort_wg wg_;
};

int live;   /* Jobs and Results alive (atomic) */

struct Job {
    int id;
    std::string text;
    Job(int i, std::string t) : id(i), text(std::move(t)) { __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED); }
    ~Job() { __atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED); }
};
struct Result {
    int id;
    long words;
    Result(int i, long w) : id(i), words(w) { __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED); }
    ~Result() { __atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED); }
};

long count_words(const std::string &s)
{
    long n = 0;
    bool in = false;
    for (char ch : s) {
        bool sp = ch == ' ';
        if (!sp && !in)
            n++;
        in = !sp;
    }
    return n;
}

const int kJobs = 1000, kWorkers = 8;
int failures;

/* n frames deep, each yielding first; the deepest throws */
int deep_throw(int n)
{
    gort_yield();
    if (n == 0)
        throw std::runtime_error("from a goroutine");
    return deep_throw(n - 1) + 1;
}

void check(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "cxx: FAILED: %s\n", what);
        failures++;
    }
}

void main_goroutine()
{
    Chan<Job> jobs(16);
    Chan<Result> results(16);
    WaitGroup workers, helpers;   /* helpers: the producer and the closer, */
                                  /* which use the channels until they return */
    gort_mutex mu = GORT_MUTEX_INIT;
    int handled[kWorkers] = {};
    long want = 0;

    for (int i = 0; i < kJobs; i++)
        want += i % 7 + 1;   /* job i has i % 7 + 1 words */

    helpers.add(2);
    check(go([&jobs, &helpers] {
              for (int i = 0; i < kJobs; i++) {
                  std::string text;
                  for (int w = 0; w <= i % 7; w++)
                      text += (w ? " word" : "word");
                  std::unique_ptr<Job> j(new Job(i, text));
                  if (!jobs.send(j))
                      break;   /* j still ours: freed here */
              }
              jobs.close();
              helpers.done();
          }) == 0,
          "start the producer");

    workers.add(kWorkers);
    for (int w = 0; w < kWorkers; w++) {
        check(go([&, w] {
                  while (std::unique_ptr<Job> j = jobs.recv()) {
                      std::unique_ptr<Result> r(new Result(j->id, count_words(j->text)));
                      {
                          Lock hold(mu);
                          handled[w]++;
                      }
                      results.send(r);
                  }
                  workers.done();
              }) == 0,
              "start a worker");
    }
    check(go([&] {
              workers.wait();
              results.close();
              helpers.done();
          }) == 0,
          "start the closer");

    long total = 0;
    int n = 0;
    while (std::unique_ptr<Result> r = results.recv()) {
        total += r->words;
        n++;
    }
    helpers.wait();
    int sum = 0;
    for (int w = 0; w < kWorkers; w++)
        sum += handled[w];
    check(n == kJobs, "one result per job");
    check(sum == kJobs, "every job handled once");
    check(total == want, "the word count");

    /* a send on a closed channel fails and leaves the value with the sender */
    std::unique_ptr<Job> kept(new Job(-1, "kept"));
    check(!jobs.send(kept) && kept && kept->text == "kept", "a failed send keeps the value");

    /* a closed channel still hands out what it held; the rest is freed
       with the channel */
    {
        Chan<Job> buffered(4);
        std::unique_ptr<Job> a(new Job(1, "a")), b(new Job(2, "b"));
        check(buffered.send(a) && buffered.send(b) && !a && !b, "buffered sends");
        buffered.close();
        std::unique_ptr<Job> first = buffered.recv();
        check(first && first->id == 1, "a closed channel still hands out its values");
    }

    /* exceptions stay inside their goroutine */
    {
        WaitGroup throwers;
        int caught = 0;
        throwers.add(4);
        for (int g = 0; g < 4; g++) {
            check(go([&] {
                      for (int k = 0; k < 50; k++) {
                          try {
                              deep_throw(8);
                          } catch (const std::runtime_error &e) {
                              if (std::strcmp(e.what(), "from a goroutine") == 0)
                                  __atomic_add_fetch(&caught, 1, __ATOMIC_RELAXED);
                          }
                      }
                      throwers.done();
                  }) == 0,
                  "start a thrower");
        }
        throwers.wait();
        check(caught == 200, "exceptions thrown and caught inside goroutines");
    }
    std::printf("cxx: %d jobs, %ld words, handled by %d workers\n", n, total, kWorkers);
}

}   // namespace

int main()
{
    int rc = gort_run([](void *) { main_goroutine(); }, nullptr);
    check(rc == 0, "gort_run returns 0");
    check(__atomic_load_n(&live, __ATOMIC_RELAXED) == 0, "every Job and Result destroyed");
    if (__atomic_load_n(&live, __ATOMIC_RELAXED) != 0)
        std::fprintf(stderr, "cxx: %d objects left\n", live);
    return failures ? 1 : 0;
}
