/* test_backtrace.c - backtraces in gort_dump and gort_dump_json (>>diag).

   Built with -fno-omit-frame-pointer (the flag the manual names for full
   traces). Static functions only: no symbol here is in the dynamic symbol
   table, so every name printed comes from the executable's own .symtab,
   found through dl_iterate_phdr, not from dladdr.
     - a goroutine parked in bt_worker -> bt_level1 -> bt_level2 ->
       gort_chan_recv: its JSON entry names the start function and lists
       bt_level2, bt_level1, bt_worker in that order (gort_chan_recv too
       where it is not inlined or tail-called), with no gort-internal frame
       (gort__*);
     - each of those frames names this executable (/proc/self/exe) and an
       object offset that lies inside the function it names (checked
       against the function's address less the load bias); on x86-64,
       addr2line -f -i -e <object> <offset> turns bt_level2's into its
       name and this file's line of the call (or, clang -O2, the line of
       gort_chan_recv's code inlined there);
     - a goroutine asleep in bt_nap (bt_sleeper), the dumping goroutine
       itself (running: walked from its own frame), and a plain thread
       blocked in bt_tlevel (bt_thread) get traces too;
     - what each waits on: the channel's address (JSON "object", text
       "chan receive on 0x..."), the sleep's deadline, and a select's
       first four channel cases with their direction and how many it has
       (JSON "cases" and "channels", text "select on recv 0x.., send
       0x.., ... and 2 more");
     - the text form shows the same frames ("    bt_level2+0x..  <exe>+0x..");
     - the deadlock report (a child process whose goroutines all block)
       prints the traces as well;
     - GORT_DUMP=json: SIGQUIT's dump is the JSON form, and the process
       exits with status 2 (on Windows: Ctrl+Break's, its console
       handler called by a thread standing in for the console's, as
       Wine delivers no console events here; Ctrl+C is left to others).
   On Windows the names come from the executable's COFF symbol table, the
   object is its path (GetModuleFileName) and the offset an RVA (from the
   image base); the addr2line case is Linux's (a note says so). */
// gort-test: cflags=-fno-omit-frame-pointer windows
#define _GNU_SOURCE
#define GORT_IMPLEMENTATION
#include "../gort.h"
#include "check.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#define NOINLINE __attribute__((noinline))
#define MS 1000000LL

static gort_chan *c_block, *c_thread;
static int sink;   /* atomic: keeps the calls from being tail calls */
#define SINK(x) __atomic_add_fetch(&sink, (x), __ATOMIC_RELAXED)
static int level2_line;

/* Each level does work after its call: no tail call, so each keeps its frame. */
static NOINLINE int bt_level2(void) {
    int v = 0;
    level2_line = __LINE__ + 1;
    gort_chan_recv(c_block, &v);
    SINK(v);
    return v;
}
static NOINLINE int bt_level1(void) { int r = bt_level2(); SINK(r); return r + 1; }
static NOINLINE void bt_worker(void *arg) { (void)arg; SINK(bt_level1()); }

static NOINLINE void bt_nap(void) { gort_sleep(3600 * 1000 * MS); SINK(1); }
static NOINLINE void bt_sleeper(void *arg) { (void)arg; bt_nap(); SINK(1); }

static NOINLINE void bt_tlevel(void) { int v = 0; gort_chan_recv(c_thread, &v); SINK(v); }
static NOINLINE void *bt_thread(void *arg) { (void)arg; bt_tlevel(); SINK(1); return NULL; }

static char exe[512];
static uintptr_t bias;
/* a pointer as gort's dumps print it (0x and lowercase hex everywhere:
   Windows' %p has no 0x) */
#define PTR(p) ((unsigned long long)(uintptr_t)(p))

/* The text of f (a temporary file, positioned at its end) from offset 0. */
static char *slurp(FILE *f) {
    long n;
    char *buf;
    fflush(f);
    n = ftell(f);
    buf = (char *)malloc((size_t)n + 1);
    CHECK(buf != NULL);
    rewind(f);
    CHECK_EQ((long)fread(buf, 1, (size_t)n, f), n);
    buf[n] = 0;
    return buf;
}

/* gort_dump (json 0) or gort_dump_json's output, through a temporary file. */
static char *dump_text(int json) {
    FILE *f = util_tmpfile();
    char *dump;
    CHECK(f != NULL);
    if (!f) abort();
    if (json) gort_dump_json(fileno(f));
    else gort_dump(fileno(f));
    fseek(f, 0, SEEK_END);
    dump = slurp(f);
    fclose(f);
    return dump;
}

/* The line of the JSON dump whose entry has "start":"<fn>" (or, for
   fn == NULL, the first thread entry), copied into out. */
static int json_entry(const char *dump, const char *fn, char *out, size_t n) {
    const char *p = dump;
    char key[128];
    if (fn) snprintf(key, sizeof key, "\"start\":\"%s\"", fn);
    else snprintf(key, sizeof key, "\"kind\":\"thread\"");
    for (;;) {
        const char *e = strchr(p, '\n'), *k = strstr(p, key);
        if (!k) return 0;
        if (e && k > e) { p = e + 1; continue; }
        {
            size_t len = e ? (size_t)(e - p) : strlen(p);
            if (len >= n) len = n - 1;
            memcpy(out, p, len);
            out[len] = 0;
        }
        return 1;
    }
}

/* The frames of an entry, in order: fn names (or "?" for unnamed frames),
   with each one's object and object offset. */
struct frame { char fn[64], obj[512]; unsigned long off; };
static int frames_of(const char *entry, struct frame *fr, int max) {
    const char *p = strstr(entry, "\"frames\":[");
    int n = 0;
    if (!p) return -1;
    p += 10;
    while (n < max && *p == '{') {
        const char *end = strchr(p, '}'), *q;
        memset(&fr[n], 0, sizeof fr[n]);
        strcpy(fr[n].fn, "?");
        if ((q = strstr(p, "\"fn\":\"")) && q < end) sscanf(q + 6, "%63[^\"]", fr[n].fn);
        if ((q = strstr(p, "\"object\":\"")) && q < end) {
            char *w = fr[n].obj;
            size_t k = 0;
            for (q += 10; *q && *q != '"' && k + 1 < sizeof fr[n].obj; q++) {
                if (*q == '\\' && q[1]) q++;   /* a JSON escape (Windows paths) */
                w[k++] = *q;
            }
            w[k] = 0;
        }
        if ((q = strstr(p, "\"object_off\":\"")) && q < end) fr[n].off = strtoul(q + 14, NULL, 16);
        n++;
        p = end + 1;
        if (*p == ',') p++;
    }
    return n;
}

static int find_frame(struct frame *fr, int n, const char *fn) {
    int i;
    for (i = 0; i < n; i++)
        if (strcmp(fr[i].fn, fn) == 0) return i;
    return -1;
}

/* Frame i names fn, this executable, and an offset inside fn. */
static void check_frame(struct frame *fr, int i, const char *fn, void *addr) {
    uintptr_t start = (uintptr_t)addr - bias;
    CHECK(i >= 0);
    if (i < 0) return;
    CHECK(strcmp(fr[i].fn, fn) == 0);
    CHECK(strcmp(fr[i].obj, exe) == 0);
    if (!(fr[i].off > start && fr[i].off < start + 4096))
        check_note("%s at object offset 0x%lx, the function starts at 0x%lx", fn, fr[i].off, (unsigned long)start);
    CHECK(fr[i].off > start && fr[i].off < start + 4096);
}

static void check_order(struct frame *fr, int n, const char *const *want, int nwant) {
    int i, last = -1;
    for (i = 0; i < nwant; i++) {
        int at = find_frame(fr, n, want[i]);
        if (at <= last) check_note("frame %s at %d, expected after %d", want[i], at, last);
        CHECK(at > last);
        last = at;
    }
    for (i = 0; i < n; i++) {
        if (strncmp(fr[i].fn, "gort__", 6) == 0) check_note("an internal frame is shown: %s", fr[i].fn);
        CHECK(strncmp(fr[i].fn, "gort__", 6) != 0);
    }
}

static void addr2line_check(struct frame *f) {
#if defined(_WIN32)
    (void)f;
    check_note("addr2line check left out on Windows (a host tool)");
#elif defined(__x86_64__)
    char cmd[1200], out[1024], want[64];
    FILE *p;
    size_t n;
    snprintf(cmd, sizeof cmd, "addr2line -f -i -e '%s' 0x%lx 2>&1", f->obj, f->off);
    p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p) return;
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    CHECK_EQ(pclose(p), 0);
    /* the function, and the line of its call: gcc says where in this file
       (with gort_chan_recv inlined there at -O2, as one more level);
       clang -O2 may give only the inlined code's line in gort.h */
    snprintf(want, sizeof want, "test_backtrace.c:%d", level2_line);
    if (!strstr(out, "bt_level2") || (!strstr(out, want) && !strstr(out, "gort.h:")))
        check_note("addr2line said %s; expected bt_level2 at %s", out, want);
    CHECK(strstr(out, "bt_level2") != NULL);
    CHECK(strstr(out, want) != NULL || strstr(out, "gort.h:") != NULL);
#else
    (void)f;
    check_note("addr2line check left out: the host's addr2line reads x86-64 objects only");
#endif
}

/* A goroutine in a select over six channels: dumps list the first four
   cases with their direction, and how many there are. */
static gort_chan *c_sel[6];
static void bt_selector(void *arg) {
    gort_case cs[6];
    int i, v = 1, got[6];
    (void)arg;
    memset(cs, 0, sizeof cs);
    for (i = 0; i < 6; i++) {
        cs[i].chan = c_sel[i];
        cs[i].op = i == 1 ? GORT_SEND : GORT_RECV;
        cs[i].elem = i == 1 ? (void *)&v : (void *)&got[i];
    }
    CHECK_EQ(gort_select(cs, 6, -1), 0);   /* released by closing c_sel[0] */
}

static void test_dump(void *arg) {
    static const char *const worker_want[] = { "bt_level2", "bt_level1", "bt_worker" };
    static const char *const nap_want[] = { "bt_nap", "bt_sleeper" };
    static const char *const thread_want[] = { "bt_tlevel", "bt_thread" };
    static char entry[16384];
    struct frame fr[32];
    pthread_t th;
    char *dump, line[640];
    int n, i, tries;
    (void)arg;
    c_block = gort_chan_make(sizeof(int), 0);
    c_thread = gort_chan_make(sizeof(int), 0);
    CHECK_EQ(gort_go(bt_worker, NULL), 0);
    CHECK_EQ(gort_go(bt_sleeper, NULL), 0);
    for (i = 0; i < 6; i++) c_sel[i] = gort_chan_make(sizeof(int), 0);
    CHECK_EQ(gort_go(bt_selector, NULL), 0);
    CHECK_EQ(pthread_create(&th, NULL, bt_thread, NULL), 0);

    /* JSON, retried until all three are parked (by their state: the
       start names bt_sleeper and bt_selector hold "sleep" and "select"
       too, so a bare substring passed while they still ran, under qemu) */
    for (tries = 0;; tries++) {
        int ok;
        gort_sleep(10 * MS);
        dump = dump_text(1);
        ok = json_entry(dump, "bt_worker", entry, sizeof entry) && strstr(entry, "\"state\":\"chan receive\"") &&
             json_entry(dump, "bt_sleeper", entry, sizeof entry) && strstr(entry, "\"state\":\"sleep\"") &&
             json_entry(dump, "bt_selector", entry, sizeof entry) && strstr(entry, "\"state\":\"select\"") &&
             json_entry(dump, NULL, entry, sizeof entry) && strstr(entry, "bt_tlevel");
        if (ok || tries == 500) break;
        free(dump);
    }
    CHECK(strncmp(dump, "{\"goroutines\":", 14) == 0);
    CHECK(strstr(dump, "\n]}\n") != NULL);

    CHECK(json_entry(dump, "bt_worker", entry, sizeof entry));
    CHECK(strstr(entry, "\"kind\":\"goroutine\"") && strstr(entry, "\"state\":\"chan receive\""));
    snprintf(line, sizeof line, "\"object\":\"0x%llx\"", PTR(c_block));   /* what it waits on */
    CHECK(strstr(entry, line) != NULL);
    n = frames_of(entry, fr, 32);
    CHECK(n >= 3);
    check_order(fr, n, worker_want, 3);
    check_frame(fr, find_frame(fr, n, "bt_level2"), "bt_level2", (void *)(uintptr_t)bt_level2);
    check_frame(fr, find_frame(fr, n, "bt_level1"), "bt_level1", (void *)(uintptr_t)bt_level1);
    check_frame(fr, find_frame(fr, n, "bt_worker"), "bt_worker", (void *)(uintptr_t)bt_worker);
    if (find_frame(fr, n, "bt_level2") >= 0) addr2line_check(&fr[find_frame(fr, n, "bt_level2")]);

    CHECK(json_entry(dump, "bt_sleeper", entry, sizeof entry));
    {   /* a sleep of an hour: its deadline, in ms from now */
        const char *d = strstr(entry, "\"deadline_in_ms\":");
        long long ms = d ? atoll(d + 17) : -1;
        if (!(ms > 3500 * 1000LL && ms <= 3600 * 1000LL)) check_note("deadline_in_ms %lld", ms);
        CHECK(ms > 3500 * 1000LL && ms <= 3600 * 1000LL);
    }
    n = frames_of(entry, fr, 32);
    check_order(fr, n, nap_want, 2);
    check_frame(fr, find_frame(fr, n, "bt_nap"), "bt_nap", (void *)(uintptr_t)bt_nap);

    CHECK(json_entry(dump, "bt_selector", entry, sizeof entry));
    snprintf(line, sizeof line,
             "\"state\":\"select\",\"wait_ms\":%s", "");
    CHECK(strstr(entry, line) != NULL);
    snprintf(line, sizeof line,
             "\"cases\":6,\"channels\":[{\"op\":\"recv\",\"chan\":\"0x%llx\"},{\"op\":\"send\",\"chan\":\"0x%llx\"},"
             "{\"op\":\"recv\",\"chan\":\"0x%llx\"},{\"op\":\"recv\",\"chan\":\"0x%llx\"}]",
             PTR(c_sel[0]), PTR(c_sel[1]), PTR(c_sel[2]), PTR(c_sel[3]));
    if (!strstr(entry, line)) check_note("select entry: %.400s", entry);
    CHECK(strstr(entry, line) != NULL);

    CHECK(json_entry(dump, NULL, entry, sizeof entry));
    snprintf(line, sizeof line, "\"object\":\"0x%llx\"", PTR(c_thread));
    CHECK(strstr(entry, line) != NULL);
    n = frames_of(entry, fr, 32);
    check_order(fr, n, thread_want, 2);
    check_frame(fr, find_frame(fr, n, "bt_tlevel"), "bt_tlevel", (void *)(uintptr_t)bt_tlevel);

    /* the dumping goroutine: running, walked from its own frame */
    CHECK(json_entry(dump, "main (test_dump)", entry, sizeof entry));
    CHECK(strstr(entry, "\"state\":\"running\"") != NULL);
    n = frames_of(entry, fr, 32);
    CHECK(find_frame(fr, n, "test_dump") >= 0);
    free(dump);

    /* text */
    dump = dump_text(0);
    CHECK(strstr(dump, "]: bt_worker\n") != NULL);
    snprintf(line, sizeof line, "[chan receive on 0x%llx, ", PTR(c_block));
    CHECK(strstr(dump, line) != NULL);
    CHECK(strstr(dump, "[sleep, deadline in ") != NULL);
    snprintf(line, sizeof line, "[select on recv 0x%llx, send 0x%llx, recv 0x%llx, recv 0x%llx and 2 more, ",
             PTR(c_sel[0]), PTR(c_sel[1]), PTR(c_sel[2]), PTR(c_sel[3]));
    CHECK(strstr(dump, line) != NULL);
    snprintf(line, sizeof line, "\n    bt_level2+0x");
    CHECK(strstr(dump, line) != NULL);
    snprintf(line, sizeof line, "  %s+0x", exe);
    CHECK(strstr(dump, line) != NULL);
    CHECK(strstr(dump, "\n    bt_tlevel+0x") != NULL);
    for (i = 0; dump[i]; i++) CHECK(strncmp(dump + i, "    gort__", 10) != 0);   /* no internal frame */
    free(dump);

    gort_chan_close(c_block);
    gort_chan_close(c_thread);
    gort_chan_close(c_sel[0]);
    CHECK_EQ(pthread_join(th, NULL), 0);
}

/* ---- the deadlock report shows the traces */
static int deadlock_child(void *arg) {
    (void)arg;
    c_block = gort_chan_make(sizeof(int), 0);
    gort_go(bt_worker, NULL);
    gort_go(bt_worker, NULL);
    return gort_run(bt_worker, NULL) == -EDEADLK ? 0 : 1;
}

/* ---- GORT_DUMP=json on SIGQUIT */
#if !defined(_WIN32)
static void quit_main(void *arg) {
    (void)arg;
    c_block = gort_chan_make(sizeof(int), 0);
    gort_go(bt_worker, NULL);
    gort_sleep(20 * MS);
    kill(getpid(), SIGQUIT);
    gort_sleep(10000 * MS);
}
static int quit_child(void *arg) {
    (void)arg;
    setenv("GORT_DUMP", "json", 1);
    return gort_run(quit_main, NULL);
}
#else
/* Wine delivers no console event to a program without a console (and
   GenerateConsoleCtrlEvent fails in one made with AllocConsole), so the
   console's handler thread is played by a thread of our own: gort's
   handler, as SetConsoleCtrlHandler installed it. Ctrl+C is not its. */
static DWORD WINAPI quit_console_thread(LPVOID arg) {
    (void)arg;
    if (gort__quit_console(CTRL_C_EVENT) != FALSE) {
        fprintf(stderr, "Ctrl+C was taken\n");
        _exit(7);
    }
    gort__quit_console(CTRL_BREAK_EVENT);   /* never returns: sysmon ends the process */
    return 0;
}
static void quit_main(void *arg) {
    HANDLE h;
    (void)arg;
    c_block = gort_chan_make(sizeof(int), 0);
    gort_go(bt_worker, NULL);
    gort_sleep(20 * MS);
    h = CreateThread(NULL, 0, quit_console_thread, NULL, 0, NULL);
    CHECK(h != NULL);
    gort_sleep(10000 * MS);
}
static int quit_child(void *arg) {
    (void)arg;
    _putenv_s("GORT_DUMP", "json");
    return gort_run(quit_main, NULL);
}
#endif

int main(void) {
    static struct child c;
#if defined(_WIN32)
    DWORD k;
    watchdog(120);
    k = GetModuleFileNameA(NULL, exe, sizeof exe);
    CHECK(k > 0 && k < sizeof exe);
    bias = (uintptr_t)GetModuleHandleA(NULL);   /* offsets are RVAs */
#else
    Dl_info di;
    ssize_t k;
    watchdog(120);
    k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK(k > 0);
    exe[k > 0 ? k : 0] = 0;
    CHECK(dladdr((void *)(uintptr_t)main, &di) != 0);
    bias = (uintptr_t)di.dli_fbase;
    {   /* a PIE's bias is its base; a fixed executable's is 0 */
        FILE *f = fopen("/proc/self/exe", "rb");
        unsigned char eh[18];
        CHECK(f && fread(eh, 1, sizeof eh, f) == sizeof eh);
        if (f) fclose(f);
        if (eh[16] == 2) bias = 0;   /* ET_EXEC */
    }
#endif
    run_named("DumpTraces", test_dump, 2, 0, NULL);

    run_child(deadlock_child, NULL, 30, &c);
    CHECK_EQ(child_exit_code(&c), 0);
    CHECK(strstr(c.err, "all goroutines are asleep - deadlock!") != NULL);
    CHECK(strstr(c.err, "\n    bt_level2+0x") != NULL);
    CHECK(strstr(c.err, "\n    bt_worker+0x") != NULL);
    if (!strstr(c.err, "\n    bt_level2+0x")) check_note("deadlock report:\n%s", c.err);

#if UNDER_TSAN
    /* TSan holds a signal until the thread it chose makes an intercepted
       call; gort's threads sleep in raw futex calls, so SIGQUIT waits. */
    check_note("GORT_DUMP=json on SIGQUIT left out under TSan: it delays the signal indefinitely");
    return check_done();
#endif
    run_child(quit_child, NULL, 30, &c);
    if (child_exit_code(&c) != 2) check_note("status %d:\n%s", child_exit_code(&c), c.err);
    CHECK_EQ(child_exit_code(&c), 2);
#if defined(_WIN32)
    CHECK(strstr(c.err, "CTRL_BREAK: quit\n{\"goroutines\":") != NULL);
#else
    CHECK(strstr(c.err, "SIGQUIT: quit\n{\"goroutines\":") != NULL);
#endif
    CHECK(strstr(c.err, "\"start\":\"bt_worker\"") != NULL);
    CHECK(strstr(c.err, "{\"fn\":\"bt_level2\"") != NULL);
    if (!strstr(c.err, "{\"fn\":\"bt_level2\"")) check_note("SIGQUIT dump:\n%s", c.err);
    return check_done();
}
