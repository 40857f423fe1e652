#!/usr/bin/env bash
# tests/wine-run.sh ./PROG - run a test program built for Windows (the
# windows configuration of tests/matrix.mk: PROG.exe, with PROG a link to
# it) under Wine, as tests/run1.sh runs the others: its output on stdout
# when it ends (stderr merged, as run1.sh logs them together) and its
# exit status as this script's. Wine writes the text streams with CRLF line ends; they
# become LF, so the harness's "^PASS prog$" matches. The Wine prefix is
# $B/wine (tests/build/wine; made on the first run, a few seconds), so a
# user's ~/.wine is left alone. SIGQUIT or SIGTERM (run1.sh's timeout)
# ends the program and the prefix's wineserver: nothing is left running.
set -uo pipefail
prog=$1; shift
[ -f "$prog.exe" ] && prog=$prog.exe
W=$(command -v wine64 || command -v wine || echo /usr/lib/wine/wine64)
WS=$(command -v wineserver || echo /usr/lib/wine/wineserver)
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export WINEDEBUG=${WINEDEBUG:--all}
WINEPREFIX=${WINEPREFIX:-${B:-$ROOT/tests/build}/wine}
mkdir -p "$WINEPREFIX"
WINEPREFIX=$(cd "$WINEPREFIX" && pwd)   # wine wants it absolute
export WINEPREFIX
# A new prefix first: a program run while Wine makes one loses its output.
# (One maker at a time: checks run in parallel.)
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    exec 8>"$WINEPREFIX.lock"
    command -v flock >/dev/null 2>&1 && flock 8
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
        "$W" wineboot --init >/dev/null 2>&1
        "$WS" -w
    fi
    exec 8>&-
fi
# Wine takes file descriptors per thread (its server pipes): a program
# with thousands of threads needs more than the usual soft limit of 1024.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
out=$(mktemp)
done_() { kill "$pid" 2>/dev/null; "$WS" -k 2>/dev/null; tr -d '\r' <"$out"; rm -f "$out"; exit "$1"; }
trap 'done_ 131' QUIT
trap 'done_ 143' TERM INT
# Wine's own client now and then loses its wineserver connection ("wine
# client error: ... recvmsg: Connection reset by peer") and the program
# dies of it: that run is Wine's failure, not the program's, and it is run
# once more (said in the output). Any other failure stands.
for try in 1 2; do
    "$W" "$prog" "$@" >"$out" 2>&1 &
    pid=$!
    wait "$pid"
    rc=$?
    if [ $rc != 0 ] && [ $try = 1 ] && grep -q '^wine client error' "$out"; then
        echo "wine-run.sh: Wine lost its server connection (exit $rc; output below); running once more:"
        tr -d '\r' <"$out"
        continue
    fi
    break
done
tr -d '\r' <"$out"
rm -f "$out"
exit $rc
