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
# The configurations (gcc/clang -O0/-O2, Valgrind, UBSan, ASan, TSan,
# aarch64 under qemu) and the rules that build and run each program are
# in tests/matrix.mk; one run is tests/run1.sh, one check tests/checks.sh
# (the list of checks is there). This script does what make cannot: wait
# for another run on the same build directory, probe which
# configurations this machine can build and run (a skip, with the
# packages to install, instead of a failure), pick the programs and
# checks, and print the summary.
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
#   GORT_JOBS=n           parallel builds and checks (default: number of
#                         CPUs); each program runs as soon as its build is
#                         done, so runs share the CPUs with the builds
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
#   cflags=<flag>    one more compiler flag, in every configuration
#   also=<file.c>    compile and link another source from the tests
#                    directory into the program (one of them defines
#                    GORT_IMPLEMENTATION)
#   wrap=<symbol>    link with -Wl,--wrap=<symbol>: the program's calls to
#                    symbol go to its __wrap_<symbol>, which reaches the real
#                    one as __real_<symbol> (fault injection: test_faults.c)
#   winwrap=<symbol> the same, in the windows configuration instead of the
#                    wrap= ones (a DLL's function: its import slot,
#                    __imp_<name>)
#
# Logs: tests/build/<config>/<prog>.log (run) and .build.log (compile);
# tests/build/checks/<check>.log. The tail of a failing log is printed.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T=${GORT_TESTS_DIR:-$ROOT/tests}
B=${GORT_BUILD_DIR:-$ROOT/tests/build}
export ROOT T B
ALL_CONFIGS="gcc-O0 gcc-O2 clang-O0 clang-O2 valgrind ubsan asan tsan aarch64 musl compact windows"
MK=(make -s --no-print-directory -f "$ROOT/tests/matrix.mk")

# shellcheck source=tests/run1.sh
. "$ROOT/tests/run1.sh"   # now, elapsed, result

CONFIGS=${GORT_CONFIGS-$ALL_CONFIGS}
JOBS=${GORT_JOBS:-$(nproc 2>/dev/null || echo 2)}
RUN_JOBS=${GORT_RUN_JOBS:-1}
NO_SKIP=${GORT_NO_SKIP:-0}
T_START=$(now)

mkdir -p "$B"
# One run at a time per build directory (a second `make test` would delete
# this one's results): wait for the other to finish.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$B/.lock"
    if ! flock -n 9; then
        echo "waiting for another tests/run.sh using $B to finish..."
        flock 9
    fi
fi
rm -rf "$B/results" "$B/probe"
mkdir -p "$B/results" "$B/probe" "$B/checks"

# directives FILE: the program's "// gort-test: ..." words, one a line
directives() {
    sed -n 's,^[[:space:]]*//[[:space:]]*gort-test:[[:space:]]*,,p' "$1" | tr ' ,\t' '\n\n\n' | sed '/^$/d'
}

# Programs
PROGS=()
for f in "$T"/test_*.c; do
    [ -e "$f" ] || continue
    p=$(basename "$f" .c)
    if [ -n "${GORT_TESTS:-}" ]; then
        case " $GORT_TESTS " in *" $p "*|*" ${p#test_} "*) ;; *) continue ;; esac
    fi
    PROGS+=("$p")
done

# Configurations: probe each with a small threaded program that uses dladdr
# (finds out whether -ldl is needed), built and run the way the tests are.
cat >"$B/probe/probe.c" <<'EOF'
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
declare -A CFG_RUNNER CFG_ENV CFG_SCALE
probe_cfg() {   # prints the reason a config cannot run, or nothing
    local cfg=$1 p=$B/probe/$1 r
    command -v "$CC" >/dev/null 2>&1 || { echo "$CC not found"; return; }
    r=${RUNNER%% *}
    if [ -n "$r" ] && ! command -v "$r" >/dev/null 2>&1; then echo "$r not found"; return; fi
    mkdir -p "$B/$cfg"
    if [ "$cfg" = windows ]; then   # a Windows program under Wine
        echo "" >"$B/$cfg/.ldl"
        command -v wine64 >/dev/null 2>&1 || command -v wine >/dev/null 2>&1 || [ -x /usr/lib/wine/wine64 ] ||
            { echo "wine64 not found"; return; }
        printf '#include <windows.h>\n#include <stdio.h>\nint main(void) { printf("probe ok %%d\\n", GetCurrentThreadId() > 0); return 0; }\n' >"$B/probe/probe_win.c"
        # shellcheck disable=SC2086
        $CC $WARN $CFLAGS -o "$p" "$B/probe/probe_win.c" >"$p.log" 2>&1 ||
            { echo "$CC cannot build a Windows program: $(grep -m1 -iE 'error|cannot|not found' "$p.log")"; return; }
        # shellcheck disable=SC2086
        (cd "$B/probe" && timeout 120 $RUNNER "$p") >"$p.log" 2>&1 && grep -q 'probe ok 1' "$p.log" ||
            echo "Wine does not run a Windows program here: $(grep -v '^$' "$p.log" | head -n1)"
        return
    fi
    # shellcheck disable=SC2086
    if $CC $WARN $CFLAGS -o "$p" "$B/probe/probe.c" >"$p.log" 2>&1; then
        echo "" >"$B/$cfg/.ldl"
    elif $CC $WARN $CFLAGS -o "$p" "$B/probe/probe.c" -ldl >"$p.log" 2>&1; then
        echo "-ldl" >"$B/$cfg/.ldl"
    else
        echo "$CC cannot build with '$CFLAGS': $(grep -m1 -iE 'error|cannot|not found' "$p.log" || head -n1 "$p.log")"
        return
    fi
    # shellcheck disable=SC2086
    if ! (cd "$B/probe" && env $RUN_ENV timeout 60 $RUNNER "$p") >"$p.log" 2>&1; then
        echo "a test program does not run here: $(grep -v '^$' "$p.log" | head -n1)"
    fi
}

for cfg in $CONFIGS; do
    eval "$("${MK[@]}" "cfg-$cfg")"
    if [ -z "$CC" ]; then
        echo "unknown configuration '$cfg' (known: $ALL_CONFIGS)" >&2
        exit 2
    fi
    why=$(probe_cfg "$cfg")
    if [ -n "$why" ]; then
        SKIPS+=("$cfg|$why|$INSTALL")
        continue
    fi
    ACTIVE+=("$cfg")
    CFG_RUNNER[$cfg]=$RUNNER
    CFG_ENV[$cfg]=$RUN_ENV
    CFG_SCALE[$cfg]=$(awk -v a="$SCALE" -v b="${GORT_SCALE_MUL:-1}" 'BEGIN { printf "%g", a * b }')
    rm -f "$B/$cfg"/*.secs
    # matrix.mk leaves these out; they are reported
    if [ "$cfg" = windows ]; then   # opt-in (matrix.mk): the rest are not ported yet, not skipped
        nw=0
        for p in "${PROGS[@]}"; do
            if directives "$T/$p.c" | grep -qx windows; then nw=$((nw + 1)); else result "$cfg.$p" none 0 "$cfg/$p"; fi
        done
        echo "windows: the ${nw} programs marked '// gort-test: windows' (the other $(( ${#PROGS[@]} - nw )) use Linux interfaces with no Windows form yet: README, Platforms)"
        continue
    fi
    for p in "${PROGS[@]}"; do
        directives "$T/$p.c" | grep -qx "no-$cfg" &&
            result "$cfg.$p" skip 0 "$cfg/$p" "excluded by '// gort-test: no-$cfg' in ${T#"$ROOT"/}/$p.c"
    done
done

# Checks (tests/checks.sh)
CHECKS=()
if [ "${GORT_CHECKS:-1}" != 0 ]; then
    CHECKS+=(compile-gcc-c99 compile-gcc-c11 compile-clang-c99 compile-clang-c11
             compile-g++-c++11 compile-g++-c++17 compile-clang++-c++11 compile-clang++-c++17
             compile-mixed compile-win-gcc-c99 compile-win-gcc-c11 compile-win-g++-c++11 compile-win-clang-c11
             compile-fail-send-c compile-fail-send-c++ compile-fail-close-c compile-fail-close-c++
             compile-fail-recv-c compile-fail-recv-c++ compile-fail-late-c
             api-defined install-pkgconfig cmake docs gdb-x64 gdb-a64 gdb-goroutines musl-static)
    for f in "$ROOT"/examples/*.c "$ROOT"/examples/*.cpp; do
        [ -e "$f" ] && { b=$(basename "$f"); CHECKS+=("example-${b%.*}"); }
    done
    # every example has a Windows form
    for e in hello sieve fib cxx echo http fetch pipeline; do CHECKS+=("example-win-$e"); done
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
[ -f "$B/gcc-O0/.ldl" ] || { mkdir -p "$B/gcc-O0"; echo "" >"$B/gcc-O0/.ldl"; }

echo "gort tests: ${#PROGS[@]} programs x ${#ACTIVE[@]} configurations (${ACTIVE[*]:-none}), ${#CHECKS[@]} checks"

# Build and check in make (tests/matrix.mk, target built), $JOBS at once,
# in the background, one configuration after the other, then the checks;
# run the programs here, one at a time in matrix order, each
# configuration's as soon as make has built it ($B/<config>/.built), so
# the runs overlap the later configurations' builds and the checks. (make
# 4.3 alone would build the whole matrix before its first run.)
# GORT_RUN_JOBS > 1: all in make (target results), runs included.
# -k: a failure stops nothing else.
if [ ${#ACTIVE[@]} -gt 0 ] || [ ${#CHECKS[@]} -gt 0 ]; then
    MKARGS=(PROGS="${PROGS[*]}" SCALE_MUL="${GORT_SCALE_MUL:-1}" RUN_JOBS="$RUN_JOBS")
    # (fd 9, the lock, stays with this script, not with test programs)
    if [ "$RUN_JOBS" -gt 1 ]; then
        "${MK[@]}" -k -j $((JOBS + RUN_JOBS)) results CONFIGS="${ACTIVE[*]}" CHECKS="${CHECKS[*]}" "${MKARGS[@]}" 9>&- ||
            echo "make -f tests/matrix.mk stopped with an error (see above)"
    else
        for cfg in "${ACTIVE[@]}"; do rm -f "$B/$cfg/.built"; done
        {
            for cfg in "${ACTIVE[@]}"; do
                "${MK[@]}" -k -j "$JOBS" built CONFIGS="$cfg" CHECKS= "${MKARGS[@]}" ||
                    echo "make -f tests/matrix.mk stopped with an error building $cfg (see above)"
                : >"$B/$cfg/.built"
            done
            if [ ${#CHECKS[@]} -gt 0 ]; then
                "${MK[@]}" -k -j "$JOBS" built CONFIGS= CHECKS="${CHECKS[*]}" "${MKARGS[@]}" ||
                    echo "make -f tests/matrix.mk stopped with an error in the checks (see above)"
            fi
        } 9>&- &
        BUILDER=$!
        for cfg in "${ACTIVE[@]}"; do
            while [ ! -e "$B/$cfg/.built" ] && kill -0 "$BUILDER" 2>/dev/null; do sleep 0.2; done
            for p in "${PROGS[@]}"; do
                [ -f "$B/results/$cfg.$p.res" ] && continue   # excluded (skip recorded)
                CFG=$cfg PROG=$p SCALE=${CFG_SCALE[$cfg]} RUNNER=${CFG_RUNNER[$cfg]} RUN_ENV=${CFG_ENV[$cfg]} \
                    bash "$ROOT/tests/run1.sh" 9>&-
            done
        done
        wait "$BUILDER"
    fi
fi

# Summary. A result make never wrote is a failure.
for cfg in "${ACTIVE[@]}"; do
    for p in "${PROGS[@]}"; do
        [ -f "$B/results/$cfg.$p.res" ] || result "$cfg.$p" fail 0 "$cfg/$p" "no result (make stopped before the run)"
    done
done
for c in "${CHECKS[@]}"; do
    [ -f "$B/results/check.$c.res" ] || result "check.$c" fail 0 "check/$c" "no result (make stopped before the check)"
done
declare -A CFG_SECS CFG_RUNS
PASSED=0; FAILED=0; FAILS=()
for f in "$B"/results/*.res; do
    [ -e "$f" ] || continue
    read -r st secs label detail <"$f"
    cfg=${label%%/*}
    case $st in
    pass) PASSED=$((PASSED + 1)) ;;
    fail) FAILED=$((FAILED + 1)); FAILS+=("$label") ;;
    skip) SKIPS+=("$label|$detail|"); continue ;;
    none) continue ;;   # not in the configuration (windows: not ported yet)
    esac
    CFG_SECS[$cfg]=$(awk -v a="${CFG_SECS[$cfg]:-0}" -v b="$secs" 'BEGIN { printf "%.1f", a + b }')
    CFG_RUNS[$cfg]=$(( ${CFG_RUNS[$cfg]:-0} + 1 ))
done

echo
echo "time per configuration (seconds; builds overlap runs and each other):"
printf '  %-10s %5s %8s %8s\n' config runs run build
for cfg in "${ACTIVE[@]}" check; do
    [ -n "${CFG_RUNS[$cfg]:-}" ] || continue
    b=$(cat "$B/$cfg"/*.secs 2>/dev/null | awk '{ s += $1 } END { printf "%.1f", s }')
    [ "$cfg" = check ] && b=-
    printf '  %-10s %5d %8s %8s\n' "$cfg" "${CFG_RUNS[$cfg]}" "${CFG_SECS[$cfg]}" "$b"
done
printf '  wall: %ss\n' "$(elapsed "$T_START")"
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
