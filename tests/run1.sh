#!/usr/bin/env bash
# tests/run1.sh - run one test program of the matrix (tests/matrix.mk's
# run rule), record the result in $B/results/<config>.<prog>.res and print
# one line (with the log's tail when it failed).
#
#   CFG=gcc-O2 PROG=test_chan SCALE=1 RUNNER= RUN_ENV= bash tests/run1.sh
#
# A run passes when the program exits 0, prints "PASS <prog>" and its output
# holds no sanitizer or Valgrind error report. A run that takes longer than
# $GORT_TEST_TIMEOUT seconds (default 300, or the program's timeout=
# directive) gets SIGQUIT (gort prints every goroutine's state to the log
# and exits), SIGKILL 10 s later, and fails. Sourced by tests/checks.sh for
# result and report.
set -uo pipefail

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
T=${T:-$ROOT/tests}
B=${B:-$ROOT/tests/build}

# What a run's output must not contain (reports from forked children that
# the parent did not check, and anything a tool reported but did not turn
# into an exit status).
ERROR_MARKERS='ERROR: AddressSanitizer|Sanitizer: CHECK failed|ERROR: LeakSanitizer|WARNING: ThreadSanitizer|ERROR: ThreadSanitizer|runtime error: |^==[0-9]+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap)'

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# result ID STATUS SECONDS LABEL [DETAIL]: STATUS is pass, fail or skip
result() {
    printf '%s %s %s %s\n' "$2" "$3" "$4" "${5:-}" >"$B/results/$1.res"
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

run1() {
    local cfg=$CFG prog=$PROG src dir log tmo envs d t0 rc secs why scale=$SCALE
    src=$T/$prog.c
    dir=$B/$cfg; log=$dir/$prog.log
    if [ ! -x "$dir/$prog" ]; then
        result "$cfg.$prog" fail 0 "$cfg/$prog" "build failed"
        report fail 0 "$cfg/$prog" "build failed" "$dir/$prog.build.log"
        return 0
    fi
    tmo=${GORT_TEST_TIMEOUT:-300}
    envs=$RUN_ENV
    for d in $(sed -n 's,^[[:space:]]*//[[:space:]]*gort-test:[[:space:]]*,,p' "$src" | tr ',\t' '  '); do
        case $d in
        timeout=*) tmo=${d#timeout=} ;;
        no-leak-check) envs=${envs//detect_leaks=1/detect_leaks=0} ;;
        heavy)   # full scale in gcc-O2 only; a quarter elsewhere (keeps CI short)
            [ "$cfg" = gcc-O2 ] || scale=$(awk -v a="$scale" 'BEGIN { printf "%g", a / 4 }') ;;
        esac
    done
    t0=$(now)
    # shellcheck disable=SC2086
    # (the outer redirection keeps bash's "Aborted" notice out of the report)
    { (cd "$dir" && ulimit -c 0 && exec env GORT_TEST_SCALE=$scale $envs timeout -s QUIT -k 10 "$tmo" $RUNNER "./$prog") >"$log" 2>&1 </dev/null; } 2>/dev/null
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
        result "$cfg.$prog" pass "$secs" "$cfg/$prog"
        report pass "$secs" "$cfg/$prog"
    else
        result "$cfg.$prog" fail "$secs" "$cfg/$prog" "$why"
        report fail "$secs" "$cfg/$prog" "$why" "$log"
    fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    run1
fi
