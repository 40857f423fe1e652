#!/usr/bin/env bash
# tests/checks.sh - one check of the matrix (tests/matrix.mk's check rule):
#
#   bash tests/checks.sh NAME
#
# records $B/results/check.NAME.res and prints one line (the log's tail
# when it failed); the log is $B/checks/NAME.log. The checks:
#   compile-<cc>-<std>   gort.h with GORT_IMPLEMENTATION (impl.c) and plain
#                        (use.c, use2.c) as c99, c11 (gcc, clang) and c++11,
#                        c++17 (g++, clang++), -O2 -Werror, linked and run
#   compile-mixed        implementation as C used from C++, and the reverse
#   example-win-<name>   every example (hello, sieve, fib, cxx, echo, http,
#                        fetch, pipeline) built with MinGW-w64, run under Wine
#   compile-win-<cc>-<std>  the same for Windows x64 with MinGW-w64 gcc,
#                        g++ and clang --target=x86_64-w64-mingw32, -Werror,
#                        linked and run under Wine
#   compile-fail-X-LANG  a direction-handle misuse must not compile (send on
#                        an rx, close an rx, recv on a tx), C and C++
#   compile-fail-late-c  the implementation after <stdio.h> stops at gort.h's
#                        #error that says to include gort.h first (default
#                        standard and c99)
#   api-defined          every function gort.h declares is defined, and
#                        exported by a -fvisibility=hidden shared library
#                        (GORT_API), with no gort__ symbol; GORT_API
#                        defined as static builds one file warning-free
#   cmake                a consumer project builds with gort::gort through
#                        add_subdirectory, FetchContent and find_package
#   gdb-goroutines       gort's gdb commands (info goroutines, goroutine N
#                        bt) on tests/gdb_goroutines.c, live and its core;
#                        the aarch64 build live under qemu-aarch64
#   install-pkgconfig    make install PREFIX=tmp (and DESTDIR), pkg-config
#                        --cflags --libs gort has -pthread and
#                        -fstack-clash-protection, a program builds
#   docs                 tests/check_docs.sh: gort.h's table of contents
#                        matches its section markers (all, in order), and
#                        the hello example in README.md and in gort.h is
#                        examples/hello.c
#   example-<name>       examples/<name>.c builds with gcc -O2 -Werror and
#                        passes its own check, plain and with
#                        GORT_DEBUG=compact (pipeline also when stopped
#                        by a deadline and by SIGINT)
#   musl-static          examples built fully static with musl-gcc run and
#                        pass their self-checks
#   gdb-x64, gdb-a64     tests/check_gdb.sh: gdb (aarch64: gdb-multiarch
#                        against qemu-aarch64 -g) unwinds out of goroutines
#                        and through every instruction of a context switch
#   fuzz-<name>          tests/fuzz_<name>.c: its replayer (no libFuzzer) builds
#                        with gcc -Werror and replays tests/fuzz/corpus_<name>/
#                        (plain, then with GORT_DEBUG=compact);
#                        the libFuzzer build (clang -fsanitize=fuzzer,address,
#                        undefined) then fuzzes from that corpus for its share
#                        of $GORT_FUZZ_SECONDS; a crash, leak, failed check or
#                        hang fails the check, the input is kept in
#                        tests/build/checks/fuzz-<name>/ (crash-*, leak-*,
#                        timeout-*). Skipped if clang cannot link libFuzzer.
#                        `make fuzz` runs the fuzzers until stopped.
set -uo pipefail

# shellcheck source=tests/run1.sh
. "$(dirname "${BASH_SOURCE[0]}")/run1.sh"

clang_major() { clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n1; }

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
    # C++ users' files: the *_INIT macros use nullptr (clang also counts
    # NULL as a zero in the implementation, so that file goes without)
    local FU=$F
    [ $lang = c++ ] && FU="$F -Wzero-as-null-pointer-constant"
    {
        $cc $F -c "$(CDIR_SRC)/impl.c" -o "$CDIR/impl.o" &&
        $cc $FU -c "$(CDIR_SRC)/use.c" -o "$CDIR/use.o" &&
        $cc $FU -c "$(CDIR_SRC)/use2.c" -o "$CDIR/use2.o" &&
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
    # GORT_API: a shared library built with -fvisibility=hidden exports
    # every public function and nothing of gort's own
    (
        set -x
        gcc -std=c99 -O2 -pthread -fPIC -fvisibility=hidden -shared "$(CDIR_SRC)/impl.c" -o "$CDIR/libg.so" $LDL &&
        nm -D --defined-only "$CDIR/libg.so" | awk '{ print $3 }' | sort -u >"$CDIR/exported"
    ) >>"$CLOG" 2>&1 || { echo "see log"; return 1; }
    missing=$(comm -23 "$CDIR/declared" "$CDIR/exported" | paste -sd' ' -)
    [ -z "$missing" ] || { echo "not exported under -fvisibility=hidden: $missing"; return 1; }
    missing=$(grep '^gort__' "$CDIR/exported" | paste -sd' ' -)
    [ -z "$missing" ] || { echo "internal symbols exported: $missing"; return 1; }
    # GORT_API overridden: one translation unit, every function static
    (
        set -x
        printf '#define GORT_API static __attribute__((unused))\n#define GORT_IMPLEMENTATION\n#include "gort.h"\n%s\n' \
            'static void m(void *a) { (void)a; } int main(void) { return gort_run(m, 0); }' >"$CDIR/static.c" &&
        gcc -std=c99 -Wall -Wextra -Wpedantic -Werror -O2 -pthread -I"$ROOT" "$CDIR/static.c" -o "$CDIR/static" $LDL &&
        ! nm -g --defined-only "$CDIR/static" | grep -q ' T gort_[a-z]' && "$CDIR/static"
    ) >>"$CLOG" 2>&1 || { echo "GORT_API=static build: see log"; return 1; }
}

# cmake: a consumer project builds against gort::gort the three ways
# CMake users take it: add_subdirectory, FetchContent (from a tarball of
# this tree), and find_package after `make install`; each build's compile
# line has -pthread and -fstack-clash-protection, and the program runs
# (a goroutine and a channel, written in C++ for the last: the target
# works without C enabled).
check_cmake() {
    need cmake cmake || return 1
    need g++ g++ || return 1
    local P=$CDIR/consumer way
    mkdir -p "$P"
    cat >"$P/main.c" <<'C'
#define GORT_IMPLEMENTATION
#include "gort.h"
static gort_chan *ch;
static void child(void *arg) { int v = 42; (void)arg; gort_chan_send(ch, &v); }
static void main_fn(void *arg) {
    int v = 0;
    (void)arg;
    ch = gort_chan_make(sizeof(int), 0);
    gort_go(child, 0);
    gort_chan_recv(ch, &v);
    *(int *)arg = v;
}
int main(void) { int v = 0; return gort_run(main_fn, &v) == 0 && v == 42 ? 0 : 1; }
C
    cp "$P/main.c" "$P/main.cpp"
    (cd "$ROOT" && tar czf "$CDIR/gort.tar.gz" gort.h CMakeLists.txt) || { echo "tar failed"; return 1; }
    for way in subdir fetch installed; do
        local D=$CDIR/$way
        mkdir -p "$D"
        case $way in
        subdir)    printf '%s
' 'cmake_minimum_required(VERSION 3.14)' 'project(consumer C)'                        "add_subdirectory("$ROOT" gort)" 'add_executable(app main.c)'                        'target_link_libraries(app PRIVATE gort::gort)' >"$D/CMakeLists.txt"
                   cp "$P/main.c" "$D/" ;;
        fetch)     printf '%s
' 'cmake_minimum_required(VERSION 3.14)' 'project(consumer C)' 'include(FetchContent)'                        "FetchContent_Declare(gort URL "file://$CDIR/gort.tar.gz")" 'FetchContent_MakeAvailable(gort)'                        'add_executable(app main.c)' 'target_link_libraries(app PRIVATE gort::gort)' >"$D/CMakeLists.txt"
                   cp "$P/main.c" "$D/" ;;
        installed) (cd "$ROOT" && make -s install PREFIX="$CDIR/prefix") >>"$CLOG" 2>&1 ||
                       { echo "make install failed: see log"; return 1; }
                   printf '%s
' 'cmake_minimum_required(VERSION 3.14)' 'project(consumer CXX)'                        'find_package(gort 0.1 REQUIRED)' 'add_executable(app main.cpp)'                        'target_link_libraries(app PRIVATE gort::gort)' >"$D/CMakeLists.txt"
                   cp "$P/main.cpp" "$D/" ;;
        esac
        (
            set -x
            cmake -S "$D" -B "$D/build" -DCMAKE_PREFIX_PATH="$CDIR/prefix" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON &&
            env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL cmake --build "$D/build" --verbose >"$D/build.log" 2>&1 &&
            cat "$D/build.log" "$D/build/compile_commands.json" &&
            grep -q -- '-fstack-clash-protection' "$D/build/compile_commands.json" &&
            grep -q -- '-pthread' "$D/build/compile_commands.json" &&
            grep -q -- '-pthread.*-o app' "$D/build.log" &&
            "$D/build/app"
        ) >>"$CLOG" 2>&1 || { echo "$way: see log"; return 1; }
    done
}

# gdb-goroutines: tests/gdb_goroutines.c (gcc -O2 -g, no frame pointers)
# under gdb, which loads gort's commands from the program itself
# (.debug_gdb_scripts): `info goroutines` lists each parked goroutine with
# its state, wait, start function and the file:line it parks at, and
# `goroutine N bt full` unwinds through gdb's own unwinder to the right
# functions, lines and a local's value; first on the live process, then on
# the core file the program leaves when it aborts (where core_pattern
# writes a file: a pipe to a crash collector gets the program's core
# instead, and the log says so); then the aarch64 build (aarch64-linux-gnu-gcc
# -O2) live under qemu-aarch64 -g with gdb-multiarch (qemu-user writes no
# core file gdb can read threads from: live only).
gdb_goroutines_expect() {   # OUTPUT: what both runs must show
    local out=$1 src=$ROOT/tests/gdb_goroutines.c l
    for what in gdb_level2 gdb_sleeper gdb_locker; do
        l=$(grep -n "gdb: $what parks here" "$src" | cut -d: -f1)
        grep -Eq "waiting +[a-z ]+ +[a-z_]+ +$what .*gdb_goroutines.c:$l\b" <<<"$out" ||
            { echo "info goroutines: no line for $what at gdb_goroutines.c:$l"; return 1; }
    done
    grep -Eq 'waiting +chan receive +gdb_worker ' <<<"$out" || { echo "info goroutines: gdb_worker not in chan receive"; return 1; }
    grep -Eq 'waiting +sleep +gdb_sleeper ' <<<"$out" || { echo "info goroutines: gdb_sleeper not in sleep"; return 1; }
    grep -Eq 'waiting +mutex +gdb_locker ' <<<"$out" || { echo "info goroutines: gdb_locker not in mutex"; return 1; }
    grep -Eq 'running +- +main \(main_fn\)' <<<"$out" || { echo "info goroutines: main not running"; return 1; }
    grep -Eq '^#[0-9]+ .*gdb_level2 \(marker=4242\) at .*gdb_goroutines.c:[0-9]+' <<<"$out" ||
        { echo "goroutine 2 bt full: no gdb_level2 frame with its argument"; return 1; }
    grep -Eq '^#[0-9]+ .*gdb_level1 \(\) at .*gdb_goroutines.c' <<<"$out" || { echo "goroutine 2 bt full: no gdb_level1"; return 1; }
    grep -Eq '^#[0-9]+ .*gdb_worker \(.*gdb_goroutines.c' <<<"$out" || { echo "goroutine 2 bt full: no gdb_worker"; return 1; }
    grep -Eq '^ +v = 0$' <<<"$out" || { echo "goroutine 2 bt full: no local v"; return 1; }
}
check_gdb_goroutines() {
    need gcc gcc || return 1
    need gdb gdb || return 1
    gdb -nx -batch -ex 'python print(1)' >/dev/null 2>&1 || { echo "SKIP:gdb has no Python|gdb"; return 1; }
    local G=(gdb -nx -batch -iex 'set auto-load safe-path /' -iex 'set debuginfod enabled off')
    local C=(-ex 'info goroutines' -ex 'goroutine 2 bt full' -ex 'goroutine 1 bt')
    local out why core pat
    (cd "$ROOT" && set -x && gcc -O2 -g -pthread -o "$CDIR/gdb_goroutines" tests/gdb_goroutines.c $LDL) >>"$CLOG" 2>&1 ||
        { echo "build failed: see log"; return 1; }
    out=$("${G[@]}" -ex run "${C[@]}" "$CDIR/gdb_goroutines" 2>&1)
    printf '%s
' "+ live process" "$out" >>"$CLOG"
    why=$(gdb_goroutines_expect "$out") || { echo "live: $why"; return 1; }
    grep -q 'goroutine 1 is running' <<<"$out" || { echo "live: goroutine 1 bt did not say it is running"; return 1; }
    pat=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
    if [ "${pat#|}" != "$pat" ] || [ "${pat#/}" != "$pat" ]; then
        echo "core file part left out: core_pattern is '$pat' (not a file in the working directory)" >>"$CLOG"
        return 0
    fi
    (cd "$CDIR" && rm -f core core.* && ulimit -c unlimited && { "$CDIR/gdb_goroutines"; true; }) >>"$CLOG" 2>&1
    core=$(ls "$CDIR"/core* 2>/dev/null | head -n1)
    [ -n "$core" ] || { echo "no core file (core_pattern '$pat')"; return 1; }
    out=$("${G[@]}" "${C[@]}" "$CDIR/gdb_goroutines" "$core" 2>&1)
    rm -f "$core"
    printf '%s
' "+ core file" "$out" >>"$CLOG"
    why=$(gdb_goroutines_expect "$out") || { echo "core: $why"; return 1; }
    check_gdb_goroutines_a64
}
check_gdb_goroutines_a64() {
    local prog=$CDIR/gdb_goroutines_a64 out port qpid i
    need aarch64-linux-gnu-gcc "gcc-aarch64-linux-gnu libc6-dev-arm64-cross" || return 1
    need qemu-aarch64 qemu-user || return 1
    need gdb-multiarch gdb-multiarch || return 1
    (cd "$ROOT" && set -x && aarch64-linux-gnu-gcc -O2 -g -pthread -o "$prog" tests/gdb_goroutines.c $LDL) >>"$CLOG" 2>&1 ||
        { echo "aarch64 build failed: see log"; return 1; }
    # a port picked at random; qemu exits at once if it is taken: try again
    for i in 1 2 3 4 5; do
        port=$(( 20000 + (RANDOM % 20000) ))
        GORT_NOSIGQUIT=1 qemu-aarch64 -L /usr/aarch64-linux-gnu -g "$port" "$prog" >>"$CLOG" 2>&1 &
        qpid=$!
        sleep 1
        kill -0 "$qpid" 2>/dev/null || { wait "$qpid" 2>/dev/null; continue; }
        out=$(timeout -s KILL 300 gdb-multiarch -nx -batch -iex 'set auto-load safe-path /' -iex 'set debuginfod enabled off' \
            -ex 'set architecture aarch64' -ex 'set sysroot /usr/aarch64-linux-gnu' -ex "file $prog" \
            -ex "target remote 127.0.0.1:$port" -ex continue \
            -ex 'info goroutines' -ex 'goroutine 2 bt full' -ex 'goroutine 1 bt' 2>&1)
        kill -9 "$qpid" 2>/dev/null
        wait "$qpid" 2>/dev/null
        grep -Eq '^127.0.0.1:[0-9]+: Connection (refused|timed out)' <<<"$out" || break
    done
    printf '%s
' "+ aarch64, live under qemu" "$out" >>"$CLOG"
    why=$(gdb_goroutines_expect "$out") || { echo "aarch64: $why"; return 1; }
    grep -q 'goroutine 1 is running' <<<"$out" || { echo "aarch64: goroutine 1 bt did not say it is running"; return 1; }
}

# musl-static: examples built with musl-gcc -static (-O2 -Werror) are fully
# static (no program interpreter, no dynamic section) and pass their own
# checks: hello, sieve, the echo server's and the HTTP server's self-tests.
check_musl_static() {
    local ex hdr
    need musl-gcc musl-tools || return 1
    need readelf binutils || return 1
    for ex in hello sieve echo http; do
        (cd "$ROOT" && set -x && musl-gcc -static -O2 -Wall -Wextra -Wpedantic -Werror -pthread -fstack-clash-protection \
            -fno-omit-frame-pointer -I"$ROOT" -o "$CDIR/$ex-static" examples/$ex.c -lm) >>"$CLOG" 2>&1 ||
            { echo "$ex: musl-gcc -static failed: see log"; return 1; }
        hdr=$(readelf -lW "$CDIR/$ex-static" 2>&1)
        if grep -qE '^ +(INTERP|DYNAMIC) ' <<<"$hdr"; then
            echo "$ex-static is not fully static (it has a program interpreter or a dynamic section)"; return 1
        fi
    done
    example_run hello-static || return 1
    example_run sieve-static 200 || return 1
    example_run echo-static --selftest 20 64 || return 1
    example_run http-static --selftest || return 1
}

# example-<name>: examples/<name>.c compiles warning-free with gcc -O2
# (linked with -lm, as `make examples` does), then runs its own check
# (each exits 0 only if its result checked out), under a 120 s timeout.
example_run() {   # example_run NAME ARGS...: runs it, output to the log; then again compacting at every park
    local name=$1; shift
    echo "+ $name $*" >>"$CLOG"
    timeout 120 "$CDIR/$name" "$@" >>"$CLOG" 2>&1 || { echo "$name $* failed (exit $?)"; return 1; }
    echo "+ GORT_DEBUG=compact $name $*" >>"$CLOG"
    GORT_DEBUG=compact timeout 120 "$CDIR/$name" "$@" >>"$CLOG" 2>&1 ||
        { echo "GORT_DEBUG=compact $name $* failed (exit $?)"; return 1; }
}
check_example() {
    local cc=gcc src=examples/$1.c std=
    if [ -e "$ROOT/examples/$1.cpp" ]; then cc=g++ src=examples/$1.cpp std=-std=c++11; fi
    need $cc $cc || return 1
    (cd "$ROOT" && set -x && $cc $std -O2 -Wall -Wextra -Wpedantic -Werror -pthread -fstack-clash-protection -fno-omit-frame-pointer \
        -I"$ROOT" -o "$CDIR/$1" "$src" -lm $LDL) >>"$CLOG" 2>&1 || { echo "see log"; return 1; }
    case $1 in
    hello)    example_run hello ;;
    sieve)    example_run sieve 200 ;;
    fib)      example_run fib 24 14 ;;
    echo)     example_run echo --selftest 20 64 ;;
    http)     example_run http --selftest ;;
    fetch)    example_run fetch --selftest ;;
    cxx)      example_run cxx ;;
    pipeline)
        example_run pipeline 3000 || return 1
        # a deadline stops it early; so does Ctrl+C (SIGINT)
        example_run pipeline 2000000 1 4 -t 300 || return 1
        grep -q "stopped after .* the deadline passed" "$CLOG" || { echo "pipeline -t: no deadline stop"; return 1; }
        local pid rc
        "$CDIR/pipeline" 2000000 >"$CDIR/pipeline.int" 2>&1 &
        pid=$!
        sleep 1
        kill -INT "$pid"
        wait "$pid"; rc=$?
        cat "$CDIR/pipeline.int" >>"$CLOG"
        [ "$rc" = 0 ] && grep -q "^interrupt: stopping" "$CDIR/pipeline.int" ||
            { echo "pipeline: Ctrl+C did not stop it cleanly (exit $rc)"; return 1; } ;;
    *)        example_run "$1" ;;
    esac
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
        if [ -d "$corpus" ]; then timeout 300 "$CDIR/replay" "$corpus"; else timeout 60 "$CDIR/replay"; fi &&
        if [ -d "$corpus" ]; then GORT_DEBUG=compact timeout 300 "$CDIR/replay" "$corpus"; else GORT_DEBUG=compact timeout 60 "$CDIR/replay"; fi
    ) >>"$CLOG" 2>&1 || { echo "the replayer (gcc, no libFuzzer; plain, then GORT_DEBUG=compact) failed: see log"; return 1; }
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

# compile-win-<cc>-<std>: the same three files for Windows x64 (cc: gcc,
# g++ or clang: MinGW-w64's, or clang --target=x86_64-w64-mingw32 with
# MinGW's headers), -Werror, linked and run under Wine.
check_compile_win() {
    local cc=$1 std=$2 lang=c CC pkg=gcc-mingw-w64-x86-64 tgt=()
    case $cc in
    gcc)   CC=x86_64-w64-mingw32-gcc ;;
    g++)   CC=x86_64-w64-mingw32-g++; lang=c++; pkg=g++-mingw-w64-x86-64 ;;
    clang) CC=clang; tgt=(--target=x86_64-w64-mingw32); pkg="clang gcc-mingw-w64-x86-64" ;;
    esac
    need "$CC" "$pkg" || return 1
    command -v wine64 >/dev/null 2>&1 || command -v wine >/dev/null 2>&1 || [ -x /usr/lib/wine/wine64 ] ||
        { echo "SKIP:wine64 not found|wine64"; return 1; }
    local F=(-std="$std" -Wall -Wextra -Wpedantic -Werror -O2 "${tgt[@]}" -x "$lang")
    local FU=("${F[@]}")
    [ $lang = c++ ] && FU+=(-Wzero-as-null-pointer-constant)
    {
        $CC "${F[@]}" -c "$(CDIR_SRC)/impl.c" -o "$CDIR/impl.o" &&
        $CC "${FU[@]}" -c "$(CDIR_SRC)/use.c" -o "$CDIR/use.o" &&
        $CC "${FU[@]}" -c "$(CDIR_SRC)/use2.c" -o "$CDIR/use2.o" &&
        # (clang's objects linked by MinGW's gcc, which knows where its libgcc is)
        $([ "$cc" = clang ] && echo x86_64-w64-mingw32-gcc || echo "$CC") -static \
            "$CDIR/impl.o" "$CDIR/use.o" "$CDIR/use2.o" -o "$CDIR/prog.exe" -lsynchronization -lws2_32 &&
        echo "+ wine prog.exe" && timeout 120 bash "$ROOT/tests/wine-run.sh" "$CDIR/prog"
    } >>"$CLOG" 2>&1 || { echo "see log"; return 1; }
}

# example-win-<name>: the example built for Windows x64 with MinGW-w64
# (-Werror, linked static) and run under Wine with the arguments its
# Linux check uses (the examples with a Windows form: run.sh lists them).
check_example_win() {
    local cc=x86_64-w64-mingw32-gcc src=examples/$1.c std= pkg=gcc-mingw-w64-x86-64
    if [ -e "$ROOT/examples/$1.cpp" ]; then cc=x86_64-w64-mingw32-g++ src=examples/$1.cpp std=-std=c++11 pkg=g++-mingw-w64-x86-64; fi
    need $cc $pkg || return 1
    (cd "$ROOT" && set -x && $cc $std -O2 -Wall -Wextra -Wpedantic -Werror -static -I"$ROOT" -o "$CDIR/$1.exe" "$src" \
        -lsynchronization -lws2_32) >>"$CLOG" 2>&1 || { echo "see log"; return 1; }
    local args=()
    case $1 in
    sieve) args=(200) ;;
    fib)   args=(24 14) ;;
    echo)  args=(--selftest 20 64) ;;
    http|fetch) args=(--selftest) ;;
    pipeline)   args=(3000) ;;
    esac
    echo "+ wine $1.exe ${args[*]}" >>"$CLOG"
    timeout 180 bash "$ROOT/tests/wine-run.sh" "$CDIR/$1" "${args[@]}" >>"$CLOG" 2>&1 ||
        { echo "$1 ${args[*]} failed under Wine (exit $?)"; return 1; }
    if [ "$1" = pipeline ]; then   # (Ctrl+C is Linux's check: Wine sends no console events)
        echo "+ wine pipeline.exe 2000000 1 4 -t 300" >>"$CLOG"
        timeout 180 bash "$ROOT/tests/wine-run.sh" "$CDIR/$1" 2000000 1 4 -t 300 >>"$CLOG" 2>&1 ||
            { echo "pipeline -t 300 failed under Wine (exit $?)"; return 1; }
        grep -q "stopped after .* the deadline passed" "$CLOG" || { echo "pipeline -t: no deadline stop"; return 1; }
    fi
}

# job_check NAME
job_check() {
    local name=$1 t0 why rc secs
    export CDIR=$B/checks/$name CLOG=$B/checks/$name.log
    rm -rf "$CDIR"; mkdir -p "$CDIR"; : >"$CLOG"
    LDL=$(cat "$B/gcc-O0/.ldl" 2>/dev/null || echo -ldl)
    t0=$(now)
    case $name in
    compile-fail-*) why=$(check_fail "$(echo "$name" | cut -d- -f3)" "$(echo "$name" | cut -d- -f4)") ;;
    compile-mixed)  why=$(check_mixed) ;;
    compile-win-*)  why=$(check_compile_win "$(echo "$name" | cut -d- -f3)" "$(echo "$name" | cut -d- -f4)") ;;
    compile-*)      why=$(check_compile "$(echo "$name" | cut -d- -f2)" "$(echo "$name" | cut -d- -f3)") ;;
    example-win-*)  why=$(check_example_win "${name#example-win-}") ;;
    example-*)      why=$(check_example "${name#example-}") ;;
    api-defined)    why=$(check_api_defined) ;;
    cmake)          why=$(check_cmake) ;;
    install-pkgconfig) why=$(check_install) ;;
    fuzz-*)         why=$(check_fuzz "${name#fuzz-}") ;;
    gdb-goroutines) why=$(check_gdb_goroutines) ;;
    musl-static)    why=$(check_musl_static) ;;
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

job_check "$1"
