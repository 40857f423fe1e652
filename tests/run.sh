#!/usr/bin/env bash
# tests/run.sh - gort's test matrix (run by `make test`).
#
# Builds every tests/test_*.c in every configuration below, runs each
# program, runs the compile checks (tests/compile/), builds the examples,
# checks `make install` + pkg-config, and ends with one line:
#
#     N passed, N failed
#
# Before it comes one `skipped: ...` line per configuration or run that could
# not be done here, with the reason and what to install. The exit status is
# 1 if anything failed (or, with GORT_NO_SKIP=1, was skipped), else 0.
#
#   config     compiler, flags                                   scale  runner
#   gcc-O0     gcc -O0                                           1
#   gcc-O2     gcc -O2                                           1
#   clang-O0   clang -O0                                         1
#   clang-O2   clang -O2                                         1
#   valgrind   gcc -O1 -gdwarf-4 -DGORT_VALGRIND                 0.02   valgrind
#   ubsan      clang -O1 -fsanitize=undefined                    0.5
#   asan       clang -O1 -fsanitize=address                      0.2
#   tsan       clang -O1 -fsanitize=thread                       0.1
#   aarch64    aarch64-linux-gnu-gcc -O2                         0.05   qemu-aarch64
#
# Every configuration also gets -Wall -Wextra -Wpedantic -Werror -g -pthread
# -fstack-clash-protection -rdynamic, and links -lm (and -ldl where dladdr needs it). "scale" is what
# the program sees in $GORT_TEST_SCALE (tests/check.h: check_scale). The
# compiler's default language (gnu17) is used; tests/compile/ checks C99.
#
# The checks, one test each (sources in tests/compile/):
#   compile-<cc>-<std>   gort.h with GORT_IMPLEMENTATION (impl.c) and plain
#                        (use.c, use2.c) as c99, c11 (gcc, clang) and c++11,
#                        c++17 (g++, clang++), -O2 -Werror, linked and run
#   compile-mixed        implementation as C used from C++, and the reverse
#   compile-fail-X-LANG  a direction-handle misuse must not compile (send on
#                        an rx, close an rx, recv on a tx), C and C++
#   compile-fail-late-c  the implementation after <stdio.h> stops at gort.h's
#                        #error that says to include gort.h first (default
#                        standard and c99)
#   api-defined          every function gort.h declares is defined
#   install-pkgconfig    make install PREFIX=tmp (and DESTDIR), pkg-config
#                        --cflags --libs gort has -pthread and
#                        -fstack-clash-protection, a program builds
#   docs                 tests/check_docs.sh: gort.h's table of contents
#                        matches its section markers (all, in order), and
#                        the hello example in README.md and in gort.h is
#                        examples/hello.c
#   example-<name>       examples/<name>.c builds with gcc -O2 -Werror
#   gdb-x64, gdb-a64     tests/check_gdb.sh: gdb (aarch64: gdb-multiarch
#                        against qemu-aarch64 -g) unwinds out of goroutines
#                        and through every instruction of a context switch
#   fuzz-<name>          tests/fuzz_<name>.c: its replayer (no libFuzzer) builds
#                        with gcc -Werror and replays tests/fuzz/corpus_<name>/;
#                        the libFuzzer build (clang -fsanitize=fuzzer,address,
#                        undefined) then fuzzes from that corpus for its share
#                        of $GORT_FUZZ_SECONDS; a crash, leak, failed check or
#                        hang fails the check, the input is kept in
#                        tests/build/checks/fuzz-<name>/ (crash-*, leak-*,
#                        timeout-*). Skipped if clang cannot link libFuzzer.
#                        `make fuzz` runs the fuzzers until stopped.
#
# A run passes when the program exits 0, prints "PASS <prog>" and its output
# holds no sanitizer or Valgrind error report. A run that takes longer than
# $GORT_TEST_TIMEOUT seconds (default 300) gets SIGQUIT (gort prints every
# goroutine's state to the log and exits), SIGKILL 10 s later, and fails.
#
# Environment:
#   GORT_NO_SKIP=1        a skipped configuration or run counts as a failure
#   GORT_CONFIGS="a b"    run only these configurations (default: all; "" none)
#   GORT_TESTS="x y"      run only these programs (test_chan or chan)
#   GORT_CHECKS=0         leave out the compile/example/install/fuzz checks
#   GORT_CHECKS="a b"     run only these checks (e.g. "fuzz-chan api-defined")
#   GORT_TESTS_DIR=dir    where the test_*.c are (default tests/)
#   GORT_BUILD_DIR=dir    build outputs and logs (default tests/build)
#   GORT_JOBS=n           parallel builds (default: number of CPUs)
#   GORT_OVERLAP=0        build everything before the first run (default:
#                         each program runs as soon as its build is done, so
#                         runs share the CPUs with the remaining builds)
#   GORT_RUN_JOBS=n       parallel test runs (default 1: the scheduler tests
#                         measure nothing, but they are meant to have the
#                         machine's CPUs to themselves)
#   GORT_TEST_TIMEOUT=s   per-run time limit in seconds (default 300)
#   GORT_SCALE_MUL=f      multiply every configuration's scale by f
#   GORT_FUZZ_SECONDS=s   time the fuzz-* checks fuzz, shared between the
#                         fuzzers (default 60; 0: build and replay only)
#
# Per-program directives: a line in the test's source of the form
#
#     // gort-test: no-valgrind no-aarch64 no-leak-check timeout=600 heavy
#   heavy: full scale only in gcc-O2, a quarter of the config's scale elsewhere
#
#   no-<config>      do not run the program in <config>; reported as a
#                    `skipped:` line (and a failure under GORT_NO_SKIP=1).
#                    Prefer a test that adapts itself (check_scale, or
#                    leaving out one part under a sanitizer).
#   no-leak-check    run with ASAN_OPTIONS=detect_leaks=0 under asan
#   no-stack-clash-protection  build without -fstack-clash-protection
#   timeout=<s>      a longer (or shorter) limit for this program
#   also=<file.c>    compile and link another source from the tests
#                    directory into the program (one of them defines
#                    GORT_IMPLEMENTATION)
#   wrap=<symbol>    link with -Wl,--wrap=<symbol>: the program's calls to
#                    symbol go to its __wrap_<symbol>, which reaches the real
#                    one as __real_<symbol> (fault injection: test_faults.c)
#
# Logs: tests/build/<config>/<prog>.log (run) and .build.log (compile);
# tests/build/checks/<check>.log. The tail of a failing log is printed.

set -uo pipefail

SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
export ROOT=${ROOT:-$(cd "$(dirname "$SELF")/.." && pwd)}
export TESTS_DIR=${GORT_TESTS_DIR:-$ROOT/tests}
export BUILD=${GORT_BUILD_DIR:-$ROOT/tests/build}
export TIMEOUT=${GORT_TEST_TIMEOUT:-300}
export SCALE_MUL=${GORT_SCALE_MUL:-1}
# (in the order they run: Valgrind's long single-threaded runs overlap the
# sanitizer builds)
ALL_CONFIGS="gcc-O0 gcc-O2 clang-O0 clang-O2 valgrind ubsan asan tsan aarch64"

# -fstack-clash-protection: gort.h asks it of code that runs in goroutines
# (gcc, clang and aarch64-linux-gnu-gcc all take it)
WARN="-Wall -Wextra -Wpedantic -Werror -g -pthread -fstack-clash-protection -rdynamic"
# What a failing run's output must not contain (reports from forked children
# that the parent did not check, and anything a tool reported but did not
# turn into an exit status).
export ERROR_MARKERS='ERROR: AddressSanitizer|Sanitizer: CHECK failed|ERROR: LeakSanitizer|WARNING: ThreadSanitizer|ERROR: ThreadSanitizer|runtime error: |^==[0-9]+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap)'

clang_major() { clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n1; }

# cfg_setup CONFIG: sets CC CFLAGS RUNNER SCALE RUN_ENV INSTALL (the packages)
cfg_setup() {
    local cv
    cv=$(clang_major); cv=${cv:-14}
    RUNNER=""; RUN_ENV=""; SCALE=1
    case $1 in
    gcc-O0)   CC=gcc;   CFLAGS="-O0"; INSTALL="gcc" ;;
    gcc-O2)   CC=gcc;   CFLAGS="-O2"; INSTALL="gcc" ;;
    clang-O0) CC=clang; CFLAGS="-O0"; INSTALL="clang" ;;
    clang-O2) CC=clang; CFLAGS="-O2"; INSTALL="clang" ;;
    ubsan)    CC=clang; CFLAGS="-O1 -fsanitize=undefined -fno-sanitize-recover=all"; SCALE=0.5
              RUN_ENV="UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
              INSTALL="clang libclang-rt-$cv-dev" ;;
    asan)     CC=clang; CFLAGS="-O1 -fsanitize=address -fno-omit-frame-pointer"; SCALE=0.2
              RUN_ENV="ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1"
              INSTALL="clang libclang-rt-$cv-dev" ;;
    tsan)     CC=clang; CFLAGS="-O1 -fsanitize=thread"; SCALE=0.1
              RUN_ENV="TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1"
              INSTALL="clang libclang-rt-$cv-dev" ;;
    valgrind) CC=gcc;   CFLAGS="-O1 -gdwarf-4 -DGORT_VALGRIND"; SCALE=0.02
              RUNNER="valgrind -q --error-exitcode=99 --exit-on-first-error=no --fair-sched=yes"
              INSTALL="gcc valgrind" ;;
    aarch64)  CC=aarch64-linux-gnu-gcc; CFLAGS="-O2"; SCALE=0.05
              RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
              INSTALL="gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user" ;;
    *)        return 1 ;;
    esac
    SCALE=$(awk -v a="$SCALE" -v b="$SCALE_MUL" 'BEGIN { printf "%g", a * b }')
}

# The programs' directives ("// gort-test: ..."), one word a line.
directives() {
    sed -n 's,^[[:space:]]*//[[:space:]]*gort-test:[[:space:]]*,,p' "$1" | tr ' ,\t' '\n\n\n' | sed '/^$/d'
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# result ID STATUS SECONDS LABEL [DETAIL]: STATUS is pass, fail or skip
result() {
    printf '%s %s %s %s\n' "$2" "$3" "$4" "${5:-}" >"$BUILD/results/$1.res"
}

# report STATUS SECONDS LABEL DETAIL [LOG]: one line, and the log's tail on failure
report() {
    local out
    if [ "$1" = pass ]; then
        out=$(printf '  ok    %6ss  %s' "$2" "$3")
    else
        out=$(printf '  FAIL  %6ss  %s  (%s)' "$2" "$3" "$4")
        if [ -n "${5:-}" ] && [ -s "$5" ]; then
            out+=$'\n'"      --- last 40 lines of ${5#"$ROOT"/} ---"
            out+=$'\n'$(tail -n 40 "$5" | sed 's/^/      | /')
        fi
    fi
    printf '%s\n' "$out"
}

# ------------------------------------------------------------------ jobs

# job_build CONFIG PROG
job_build() {
    local t0
    t0=$(now)
    job_build_1 "$@"
    # the marker job_run waits for; holds the build's seconds
    elapsed "$t0" >"$BUILD/$1/$2.done"
}

job_build_1() {
    local cfg=$1 prog=$2 src dir out log cmd extra wraps d f inc
    cfg_setup "$cfg"
    src=$TESTS_DIR/$prog.c
    dir=$BUILD/$cfg; out=$dir/$prog; log=$dir/$prog.build.log
    extra=""; wraps=""
    local warn=$WARN
    for d in $(directives "$src"); do
        case $d in
        also=*) extra+=" $TESTS_DIR/${d#also=}" ;;
        wrap=*) wraps+=" -Wl,--wrap=${d#wrap=}" ;;
        no-stack-clash-protection) warn=${warn/ -fstack-clash-protection/} ;;
        esac
    done
    inc="-I$ROOT -I$ROOT/tests"
    [ "$TESTS_DIR" -ef "$ROOT/tests" ] || inc+=" -I$TESTS_DIR"
    cmd="$CC $warn $CFLAGS $inc -o $out $src$extra$wraps -lm $(cat "$dir/.ldl" 2>/dev/null)"
    # Up to date: same command, and newer than every input (the sources,
    # a test source they #include, gort.h, every header in the tests
    # directory).
    if [ -x "$out" ] && [ -f "$out.cmd" ] && [ "$(cat "$out.cmd")" = "$cmd" ]; then
        local stale=0 incs
        incs=$(sed -n 's,^#include "\([^"/]*\.c\)".*,'"$TESTS_DIR"'/\1,p' "$src")
        for f in "$src" $extra $incs "$ROOT/gort.h" "$ROOT"/tests/*.h "$TESTS_DIR"/*.h; do
            [ -e "$f" ] && [ "$f" -nt "$out" ] && { stale=1; break; }
        done
        [ $stale = 0 ] && return 0
    fi
    rm -f "$out" "$out.cmd"
    if (cd "$ROOT" && echo "$cmd" && $cmd) >"$log" 2>&1; then
        echo "$cmd" >"$out.cmd"
    else
        rm -f "$out"
    fi
}

# job_run CONFIG PROG
job_run() {
    local cfg=$1 prog=$2 src dir out log blog tmo envs d t0 rc secs id why
    cfg_setup "$cfg"
    src=$TESTS_DIR/$prog.c
    dir=$BUILD/$cfg; out=$dir/$prog; log=$dir/$prog.log; blog=$dir/$prog.build.log
    id=$cfg.$prog
    # builds run ahead of the runs (see Phase 1): wait for this one
    while [ ! -f "$out.done" ]; do
        if [ -n "${BUILDER_PID:-}" ] && ! kill -0 "$BUILDER_PID" 2>/dev/null; then
            break
        fi
        sleep 0.2
    done
    if [ ! -x "$out" ] || [ ! -f "$out.done" ]; then
        result "$id" fail 0 "$cfg/$prog" "build failed"
        report fail 0 "$cfg/$prog" "build failed" "$blog"
        return 0
    fi
    tmo=$TIMEOUT
    envs="GORT_TEST_SCALE=$SCALE $RUN_ENV"
    for d in $(directives "$src"); do
        case $d in
        timeout=*) tmo=${d#timeout=} ;;
        no-leak-check) envs=${envs//detect_leaks=1/detect_leaks=0} ;;
        heavy)   # full scale in gcc-O2 only; a quarter elsewhere (keeps CI short)
            if [ "$cfg" != gcc-O2 ]; then
                envs=${envs/GORT_TEST_SCALE=$SCALE/GORT_TEST_SCALE=$(awk -v a="$SCALE" 'BEGIN { printf "%g", a / 4 }')}
            fi ;;
        esac
    done
    t0=$(now)
    # shellcheck disable=SC2086
    # (the outer redirection keeps bash's "Aborted" notice out of the report)
    { (cd "$dir" && ulimit -c 0 && exec env $envs timeout -s QUIT -k 10 "$tmo" $RUNNER "./$prog") >"$log" 2>&1 </dev/null; } 2>/dev/null
    rc=$?
    secs=$(elapsed "$t0")
    why=""
    if [ $rc = 124 ] || [ $rc = 137 ]; then
        why="timed out after ${tmo}s; SIGQUIT sent, so the log ends with gort's goroutine dump"
    elif [ $rc != 0 ]; then
        if [ $rc -gt 128 ] && [ $rc -lt 160 ]; then
            why="exit $rc: killed by SIG$(kill -l $((rc - 128)) 2>/dev/null)"
        else
            why="exit $rc"
        fi
    elif ! grep -q "^PASS $prog\$" "$log"; then
        why="exit 0 but no 'PASS $prog' line: main must return check_done()"
    elif grep -Eq "$ERROR_MARKERS" "$log"; then
        why="exit 0 but the output holds an error report"
    fi
    if [ -z "$why" ]; then
        result "$id" pass "$secs" "$cfg/$prog"
        report pass "$secs" "$cfg/$prog"
    else
        result "$id" fail "$secs" "$cfg/$prog" "$why"
        report fail "$secs" "$cfg/$prog" "$why" "$log"
    fi
}

# check_* functions: run in $CDIR, write $CLOG, return 0 on success and
# print a reason on stdout otherwise. SKIP:<why>|<packages> means skipped.
CDIR_SRC() { echo "$ROOT/tests/compile"; }

need() {   # need TOOL PACKAGES
    command -v "$1" >/dev/null 2>&1 || { echo "SKIP:$1 not found|$2"; return 1; }
}

# compile-<cc>-<std>: impl TU + user TU, both with the same compiler and
# language, linked into one program that runs.
check_compile() {
    local cc=$1 std=$2 lang pkg
    case $cc in gcc) pkg=gcc ;; g++) pkg=g++ ;; *) pkg=clang ;; esac
    need "$cc" "$pkg" || return 1
    case $cc in *++) lang=c++ ;; *) lang=c ;; esac
    local F="-std=$std -Wall -Wextra -Wpedantic -Werror -O2 -pthread -x $lang"
    {
        $cc $F -c "$(CDIR_SRC)/impl.c" -o "$CDIR/impl.o" &&
        $cc $F -c "$(CDIR_SRC)/use.c" -o "$CDIR/use.o" &&
        $cc $F -c "$(CDIR_SRC)/use2.c" -o "$CDIR/use2.o" &&
        $cc -pthread -rdynamic "$CDIR/impl.o" "$CDIR/use.o" "$CDIR/use2.o" -o "$CDIR/prog" $LDL &&
        echo "+ ./prog" && timeout 60 "$CDIR/prog"
    } >>"$CLOG" 2>&1 || { echo "see log"; return 1; }
}

# compile-mixed: the implementation compiled as C and used from C++, and
# the other way round (extern "C" linkage on both sides).
check_mixed() {
    need g++ g++ || return 1
    local C="-Wall -Wextra -Wpedantic -Werror -O2 -pthread"
    {
        gcc -std=c99 $C -c "$(CDIR_SRC)/impl.c" -o "$CDIR/impl_c.o" &&
        g++ -std=c++11 $C -x c++ -c "$(CDIR_SRC)/use.c" -o "$CDIR/use_cxx.o" &&
        g++ -std=c++11 $C -x c++ -c "$(CDIR_SRC)/use2.c" -o "$CDIR/use2_cxx.o" &&
        g++ -pthread "$CDIR/impl_c.o" "$CDIR/use_cxx.o" "$CDIR/use2_cxx.o" -o "$CDIR/prog1" $LDL &&
        echo "+ ./prog1 (impl C, user C++)" && timeout 60 "$CDIR/prog1" &&
        g++ -std=c++11 $C -x c++ -c "$(CDIR_SRC)/impl.c" -o "$CDIR/impl_cxx.o" &&
        gcc -std=c99 $C -c "$(CDIR_SRC)/use.c" -o "$CDIR/use_c.o" &&
        gcc -std=c99 $C -c "$(CDIR_SRC)/use2.c" -o "$CDIR/use2_c.o" &&
        g++ -pthread "$CDIR/impl_cxx.o" "$CDIR/use_c.o" "$CDIR/use2_c.o" -o "$CDIR/prog2" $LDL &&
        echo "+ ./prog2 (impl C++, user C)" && timeout 60 "$CDIR/prog2"
    } >>"$CLOG" 2>&1 || { echo "see log"; return 1; }
}

# compile-fail-<what>-<lang>: the source must not compile, with gcc and
# with clang; the same source with -DGORT_CHECK_CONTROL (the right handle
# type) must compile, so the failure is the one we mean. Two optional
# lines in the source refine it:
#   // gort-check-std: default c99   compile with each (default: the
#                                    compiler's own standard only)
#   // gort-check-expect: TEXT       the failing compile must print TEXT
check_fail() {
    local what=$1 lang=$2 cc ccs n=0 src stds std sf expect
    src=$(CDIR_SRC)/fail_$what.c
    stds=$(sed -n 's,^[[:space:]]*//[[:space:]]*gort-check-std:[[:space:]]*,,p' "$src")
    expect=$(sed -n 's,^[[:space:]]*//[[:space:]]*gort-check-expect:[[:space:]]*,,p' "$src")
    if [ "$lang" = c ]; then ccs="gcc clang"; else ccs="g++ clang++"; fi
    for cc in $ccs; do
        command -v "$cc" >/dev/null 2>&1 || continue
        n=$((n + 1))
        for std in ${stds:-default}; do
            if [ "$std" = default ]; then sf=""; else sf="-std=$std"; fi
            local F="-Wall -Wextra -Wpedantic -O2 $sf -x $lang"
            echo "+ $cc $sf -DGORT_CHECK_CONTROL (must compile)" >>"$CLOG"
            $cc $F -Werror -DGORT_CHECK_CONTROL -c "$src" -o "$CDIR/ctl.o" >>"$CLOG" 2>&1 ||
                { echo "the control (-DGORT_CHECK_CONTROL) does not compile with $cc $sf"; return 1; }
            echo "+ $cc $sf (must fail)" >>"$CLOG"
            if $cc $F -c "$src" -o "$CDIR/bad.o" >"$CDIR/bad.log" 2>&1; then
                cat "$CDIR/bad.log" >>"$CLOG"
                echo "$cc $sf compiled it: the check does not work"; return 1
            fi
            cat "$CDIR/bad.log" >>"$CLOG"
            if [ -n "$expect" ] && ! grep -qF -- "$expect" "$CDIR/bad.log"; then
                echo "$cc $sf failed without saying: $expect"; return 1
            fi
        done
    done
    [ $n -gt 0 ] || { echo "SKIP:no C/C++ compiler|gcc g++"; return 1; }
}

# api-defined: every function gort.h declares extern (gcc -aux-info lists
# them, with the file they come from) is defined by the implementation.
check_api_defined() {
    need gcc gcc || return 1
    need nm binutils || return 1
    local missing
    (
        set -x
        echo '#include "gort.h"' >"$CDIR/decl.c" &&
        gcc -std=c99 -I"$ROOT" -fsyntax-only -aux-info "$CDIR/aux" "$CDIR/decl.c" &&
        grep -F "$ROOT/gort.h:" "$CDIR/aux" | grep -E '\*/ extern ' |
            sed -E 's/^[^(]*[ *](gort_[a-z0-9_]+) \(.*/\1/' | sort -u >"$CDIR/declared" &&
        test -s "$CDIR/declared" &&
        gcc -std=c99 -O0 -pthread -c "$(CDIR_SRC)/impl.c" -o "$CDIR/impl.o" &&
        nm -g --defined-only "$CDIR/impl.o" | awk '{ print $3 }' | sort -u >"$CDIR/defined" &&
        wc -l "$CDIR/declared" "$CDIR/defined"
    ) >>"$CLOG" 2>&1 || { echo "see log"; return 1; }
    missing=$(comm -23 "$CDIR/declared" "$CDIR/defined" | paste -sd' ' -)
    [ -z "$missing" ] || { echo "declared, not defined: $missing"; return 1; }
}

# example-<name>: examples/<name>.c compiles warning-free with gcc -O2
# (linked with -lm, as `make examples` does)
check_example() {
    need gcc gcc || return 1
    (cd "$ROOT" && set -x && gcc -O2 -Wall -Wextra -Wpedantic -Werror -pthread -fstack-clash-protection -rdynamic \
        -I"$ROOT" -o "$CDIR/$1" "examples/$1.c" -lm $LDL) >>"$CLOG" 2>&1 || { echo "see log"; return 1; }
}

# install-pkgconfig: make install into a temporary prefix (and DESTDIR),
# pkg-config gives -pthread and -fstack-clash-protection, a program built
# with its flags runs.
check_install() {
    need pkg-config pkg-config || return 1
    need make make || return 1
    local p=$CDIR/prefix d=$CDIR/destdir flags
    rm -rf "$p" "$d"
    (
        set -x
        make -s -C "$ROOT" install PREFIX="$p" &&
        test -f "$p/include/gort.h" && test -f "$p/lib/pkgconfig/gort.pc" &&
        flags=$(PKG_CONFIG_PATH=$p/lib/pkgconfig pkg-config --cflags --libs gort) &&
        case " $flags " in *" -pthread "*) ;; *) echo "no -pthread in: $flags"; false ;; esac &&
        case " $flags " in *" -fstack-clash-protection "*) ;; *) echo "no -fstack-clash-protection in: $flags"; false ;; esac &&
        printf '#define GORT_IMPLEMENTATION\n#include <gort.h>\n%s\n' \
            'int main(void) { return gort_maxprocs() == 0 && gort_running() == 0 ? 0 : 1; }' >"$CDIR/pc.c" &&
        gcc -Wall -Wextra -Wpedantic -Werror "$CDIR/pc.c" -o "$CDIR/pc" $flags $LDL &&
        "$CDIR/pc" &&
        make -s -C "$ROOT" install PREFIX=/opt/gort DESTDIR="$d" &&
        test -f "$d/opt/gort/include/gort.h" &&
        grep -q '^prefix=/opt/gort$' "$d/opt/gort/lib/pkgconfig/gort.pc"
    ) >>"$CLOG" 2>&1 || { echo "see log"; return 1; }
}

# fuzz-<name>: the replayer builds (gcc, warning-free) and replays the
# corpus; the libFuzzer build fuzzes from the corpus for its share of
# GORT_FUZZ_SECONDS. New inputs go to $CDIR/corpus, never into tests/fuzz/.
check_fuzz() {
    local name=$1 src=$ROOT/tests/fuzz_$1.c corpus=$ROOT/tests/fuzz/corpus_$1 cv secs n rc why
    local F="-Wall -Wextra -Wpedantic -Werror -g -pthread -rdynamic -I$ROOT -I$ROOT/tests"
    need gcc gcc || return 1
    need clang clang || return 1
    cv=$(clang_major); cv=${cv:-14}
    mkdir -p "$CDIR/corpus"
    (
        set -x
        gcc $F -O1 -o "$CDIR/replay" "$src" $LDL &&
        if [ -d "$corpus" ]; then timeout 300 "$CDIR/replay" "$corpus"; else timeout 60 "$CDIR/replay"; fi
    ) >>"$CLOG" 2>&1 || { echo "the replayer (gcc, no libFuzzer) failed: see log"; return 1; }
    printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\n%s\n' \
        'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$CDIR/probe.c"
    if ! clang -fsanitize=fuzzer,address,undefined "$CDIR/probe.c" -o "$CDIR/probe" >>"$CLOG" 2>&1; then
        echo "SKIP:clang cannot link -fsanitize=fuzzer (no libFuzzer)|clang libclang-rt-$cv-dev"
        return 1
    fi
    (set -x; clang $F -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -DGORT_FUZZ_LIBFUZZER -o "$CDIR/fuzz_$name" "$src" $LDL) >>"$CLOG" 2>&1 ||
        { echo "the libFuzzer build failed: see log"; return 1; }
    n=$(ls "$ROOT"/tests/fuzz_*.c 2>/dev/null | wc -l)
    secs=$(( ${GORT_FUZZ_SECONDS:-60} / (n > 0 ? n : 1) ))
    [ "${GORT_FUZZ_SECONDS:-60}" -gt 0 ] && [ "$secs" -lt 1 ] && secs=1
    [ "$secs" -gt 0 ] || return 0
    # shellcheck disable=SC2086
    (cd "$CDIR" && set -x &&
        exec timeout -s KILL $((secs + 300)) ./fuzz_$name -max_total_time=$secs -timeout=60 \
            -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$CDIR/" corpus \
            $( [ -d "$corpus" ] && echo "$corpus" )) >"$CDIR/fuzz.log" 2>&1
    rc=$?
    cat "$CDIR/fuzz.log" >>"$CLOG"
    if [ $rc != 0 ]; then
        # the harness's own message first, else libFuzzer's or a sanitizer's
        why=$(grep -m1 -E '^fuzz_[a-z0-9_]+: ' "$CDIR/fuzz.log" || grep -m1 -E 'ERROR: |SUMMARY' "$CDIR/fuzz.log")
        echo "libFuzzer stopped with exit $rc: $(echo "$why" | cut -c1-160); input: $(ls "$CDIR" | grep -m1 -E '^(crash|leak|timeout|oom|slow-unit)-' || echo none)"
        return 1
    fi
    echo "fuzzed ${secs}s: $(grep -m1 'number_of_executed_units' "$CDIR/fuzz.log" | awk '{ print $2 }') inputs" >>"$CLOG"
}

# job_check NAME
job_check() {
    local name=$1 t0 why rc secs
    export CDIR=$BUILD/checks/$name CLOG=$BUILD/checks/$name.log
    rm -rf "$CDIR"; mkdir -p "$CDIR"; : >"$CLOG"
    LDL=$(cat "$BUILD/gcc-O0/.ldl" 2>/dev/null || echo -ldl)
    t0=$(now)
    case $name in
    compile-fail-*) why=$(check_fail "$(echo "$name" | cut -d- -f3)" "$(echo "$name" | cut -d- -f4)") ;;
    compile-mixed)  why=$(check_mixed) ;;
    compile-*)      why=$(check_compile "$(echo "$name" | cut -d- -f2)" "$(echo "$name" | cut -d- -f3)") ;;
    example-*)      why=$(check_example "${name#example-}") ;;
    api-defined)    why=$(check_api_defined) ;;
    install-pkgconfig) why=$(check_install) ;;
    fuzz-*)         why=$(check_fuzz "${name#fuzz-}") ;;
    gdb-*)          why=$(bash "$ROOT/tests/check_gdb.sh" "${name#gdb-}" "$CDIR" 2>&1 | tee -a "$CLOG" | tail -n1) ;;
    docs)           why=$(bash "$ROOT/tests/check_docs.sh" >>"$CLOG" 2>&1 ||
                          { grep -m1 '^docs: ' "$CLOG" | cut -c1-200; false; }) ;;
    *)              why="unknown check" ;;
    esac
    rc=$?
    secs=$(elapsed "$t0")
    if [ $rc = 0 ]; then
        result "check.$name" pass "$secs" "check/$name"
        report pass "$secs" "check/$name"
    elif [ "${why#SKIP:}" != "$why" ]; then
        result "check.$name" skip 0 "check/$name" "${why#SKIP:}"
    else
        result "check.$name" fail "$secs" "check/$name" "$why"
        report fail "$secs" "check/$name" "$why" "$CLOG"
    fi
}

if [ "${1:-}" = __job ]; then
    exec 9>&-   # the lock stays with the main script, not with test programs
    shift
    case $1 in
    build) job_build "$2" "$3" ;;
    run)   job_run "$2" "$3" ;;
    check) job_check "$2" ;;
    esac
    exit 0
fi

# ------------------------------------------------------------------ main

CONFIGS=${GORT_CONFIGS-$ALL_CONFIGS}
JOBS=${GORT_JOBS:-$(nproc 2>/dev/null || echo 2)}
RUN_JOBS=${GORT_RUN_JOBS:-1}
NO_SKIP=${GORT_NO_SKIP:-0}
T_START=$(now)

mkdir -p "$BUILD"
# One run at a time per build directory (a second `make test` would delete
# this one's results): wait for the other to finish.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$BUILD/.lock"
    if ! flock -n 9; then
        echo "waiting for another tests/run.sh using $BUILD to finish..."
        flock 9
    fi
fi
rm -rf "$BUILD/results" "$BUILD/probe"
mkdir -p "$BUILD/results" "$BUILD/probe" "$BUILD/checks"

# Programs
PROGS=()
for f in "$TESTS_DIR"/test_*.c; do
    [ -e "$f" ] || continue
    p=$(basename "$f" .c)
    if [ -n "${GORT_TESTS:-}" ]; then
        case " $GORT_TESTS " in *" $p "*|*" ${p#test_} "*) ;; *) continue ;; esac
    fi
    PROGS+=("$p")
done

# Configurations: probe each with a small threaded program that uses dladdr
# (finds out whether -ldl is needed), built and run the way the tests are.
cat >"$BUILD/probe/probe.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#ifdef GORT_VALGRIND
#include <valgrind/valgrind.h>
#endif
static int n;
static void *f(void *a) { (void)a; __atomic_fetch_add(&n, 1, __ATOMIC_SEQ_CST); return NULL; }
int main(void)
{
    pthread_t t;
    Dl_info info;
    if (pthread_create(&t, NULL, f, NULL) != 0 || pthread_join(t, NULL) != 0) return 1;
    if (!dladdr((void *)&n, &info)) return 2;
    printf("probe ok %d\n", n);
    return n == 1 ? 0 : 3;
}
EOF

SKIPS=()      # "label|why|packages"
ACTIVE=()
probe_cfg() {   # prints the reason a config cannot run, or nothing
    local cfg=$1 p=$BUILD/probe/$1 r
    cfg_setup "$cfg"
    command -v "$CC" >/dev/null 2>&1 || { echo "$CC not found"; return; }
    r=${RUNNER%% *}
    if [ -n "$r" ] && ! command -v "$r" >/dev/null 2>&1; then echo "$r not found"; return; fi
    mkdir -p "$BUILD/$cfg"
    if $CC $WARN $CFLAGS -o "$p" "$BUILD/probe/probe.c" >"$p.log" 2>&1; then
        echo "" >"$BUILD/$cfg/.ldl"
    elif $CC $WARN $CFLAGS -o "$p" "$BUILD/probe/probe.c" -ldl >"$p.log" 2>&1; then
        echo "-ldl" >"$BUILD/$cfg/.ldl"
    else
        echo "$CC cannot build with '$CFLAGS': $(grep -m1 -iE 'error|cannot|not found' "$p.log" || head -n1 "$p.log")"
        return
    fi
    # shellcheck disable=SC2086
    if ! (cd "$BUILD/probe" && env $RUN_ENV timeout 60 $RUNNER "$p") >"$p.log" 2>&1; then
        echo "a test program does not run here: $(grep -v '^$' "$p.log" | head -n1)"
    fi
}

for cfg in $CONFIGS; do
    if ! cfg_setup "$cfg"; then
        echo "unknown configuration '$cfg' (known: $ALL_CONFIGS)" >&2
        exit 2
    fi
    why=$(probe_cfg "$cfg")
    if [ -n "$why" ]; then
        SKIPS+=("$cfg|$why|$INSTALL")
    else
        ACTIVE+=("$cfg")
    fi
done

# Compile checks
CHECKS=()
if [ "${GORT_CHECKS:-1}" != 0 ]; then
    CHECKS+=(compile-gcc-c99 compile-gcc-c11 compile-clang-c99 compile-clang-c11
             compile-g++-c++11 compile-g++-c++17 compile-clang++-c++11 compile-clang++-c++17
             compile-mixed
             compile-fail-send-c compile-fail-send-c++ compile-fail-close-c compile-fail-close-c++
             compile-fail-recv-c compile-fail-recv-c++ compile-fail-late-c
             api-defined install-pkgconfig docs gdb-x64 gdb-a64)
    for f in "$ROOT"/examples/*.c; do
        [ -e "$f" ] && CHECKS+=("example-$(basename "$f" .c)")
    done
    for f in "$ROOT"/tests/fuzz_*.c; do
        [ -e "$f" ] && { b=$(basename "$f" .c); CHECKS+=("fuzz-${b#fuzz_}"); }
    done
    case ${GORT_CHECKS:-1} in
    1) ;;
    *)  want=(); for c in "${CHECKS[@]}"; do
            case " $GORT_CHECKS " in *" $c "*) want+=("$c") ;; esac
        done
        CHECKS=("${want[@]}") ;;
    esac
fi
# gcc-O0's probe wrote the -ldl answer the checks use; make sure it exists
[ -f "$BUILD/gcc-O0/.ldl" ] || { mkdir -p "$BUILD/gcc-O0"; echo "" >"$BUILD/gcc-O0/.ldl"; }

echo "gort tests: ${#PROGS[@]} programs x ${#ACTIVE[@]} configurations (${ACTIVE[*]:-none}), ${#CHECKS[@]} checks"

# Phase 1: build every (config, program), then the checks, $JOBS at once,
# in the background. Phase 2 runs each program as soon as its build is
# done, one at a time, so the slow runs (Valgrind, qemu, TSan) overlap the
# slow builds (the sanitizers). GORT_OVERLAP=0: build everything first.
T_BUILD=$(now)
for cfg in "${ACTIVE[@]}"; do rm -f "$BUILD/$cfg"/*.done; done
{
    for cfg in "${ACTIVE[@]}"; do
        for p in "${PROGS[@]}"; do
            # excluded runs need no build
            directives "$TESTS_DIR/$p.c" | grep -qx "no-$cfg" && continue
            echo "build $cfg $p"
        done
    done
    for c in "${CHECKS[@]}"; do echo "check $c -"; done
} | { xargs -r -P "$JOBS" -n 3 bash "$SELF" __job; elapsed "$T_BUILD" >"$BUILD/results/build.secs"; } &
BUILDER=$!
if [ "${GORT_OVERLAP:-1}" = 0 ]; then
    wait "$BUILDER"
    echo "built in $(cat "$BUILD/results/build.secs")s"
fi

# Phase 2: run, config by config, $RUN_JOBS at once.
T_RUN=$(now)
for cfg in "${ACTIVE[@]}"; do
    for p in "${PROGS[@]}"; do
        if directives "$TESTS_DIR/$p.c" | grep -qx "no-$cfg"; then
            result "$cfg.$p" skip 0 "$cfg/$p" "excluded by '// gort-test: no-$cfg' in ${TESTS_DIR#"$ROOT"/}/$p.c"
            continue
        fi
        echo "run $cfg $p"
    done
done | BUILDER_PID=$BUILDER xargs -r -P "$RUN_JOBS" -n 3 bash "$SELF" __job
RUN_SECS=$(elapsed "$T_RUN")
wait "$BUILDER"
BUILD_SECS=$(cat "$BUILD/results/build.secs" 2>/dev/null || echo "?")

# Summary
declare -A CFG_SECS CFG_RUNS
PASSED=0; FAILED=0; FAILS=()
for f in "$BUILD"/results/*.res; do
    [ -e "$f" ] || continue
    read -r st secs label detail <"$f"
    cfg=${label%%/*}
    case $st in
    pass) PASSED=$((PASSED + 1)) ;;
    fail) FAILED=$((FAILED + 1)); FAILS+=("$label") ;;
    skip) SKIPS+=("$label|$detail|"); continue ;;
    esac
    CFG_SECS[$cfg]=$(awk -v a="${CFG_SECS[$cfg]:-0}" -v b="$secs" 'BEGIN { printf "%.1f", a + b }')
    CFG_RUNS[$cfg]=$(( ${CFG_RUNS[$cfg]:-0} + 1 ))
done

echo
echo "time per configuration (seconds; builds overlap runs and each other):"
printf '  %-10s %5s %8s %8s\n' config runs run build
for cfg in "${ACTIVE[@]}" check; do
    [ -n "${CFG_RUNS[$cfg]:-}" ] || continue
    b=$(cat "$BUILD/$cfg"/*.done 2>/dev/null | awk '{ s += $1 } END { printf "%.1f", s }')
    [ "$cfg" = check ] && b=-
    printf '  %-10s %5d %8s %8s\n' "$cfg" "${CFG_RUNS[$cfg]}" "${CFG_SECS[$cfg]}" "$b"
done
printf '  wall: builds and checks %ss, runs %ss, total %ss\n' "$BUILD_SECS" "$RUN_SECS" "$(elapsed "$T_START")"
[ ${#FAILS[@]} -gt 0 ] && echo "failed: ${FAILS[*]}"
for s in "${SKIPS[@]}"; do
    IFS='|' read -r label why pkgs <<<"$s"
    if [ -n "$pkgs" ]; then
        echo "skipped: $label ($why, install: apt-get install $pkgs)"
    else
        echo "skipped: $label ($why)"
    fi
    [ "$NO_SKIP" = 1 ] && FAILED=$((FAILED + 1))
done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
