#!/usr/bin/env bash
# bench/net.sh - network benchmarks: gort against Go and thread-per-connection C.
#
# usage: bash bench/net.sh [--quick] [--runs N] [--only REGEX]
#   --quick       smoke run: 1 s per run, 1 run (also BENCH_QUICK=1)
#   --runs N      runs of every configuration; the table shows the median
#                 (default 3, or $NET_RUNS)
#   --only REGEX  only the rows whose id matches: http_c1, http_c100,
#                 http_c1000, echo_c1, echo_c100, echo_c1000 ("" = all)
#   --windows     the servers built for Windows x64 (MinGW-w64; Go with
#                 GOOS=windows) and run under Wine, the load generators
#                 (wrk, echo_client) native: Wine's figures, not Windows'.
#                 bench/run.sh --windows passes it on.
# Environment: CC (gcc), GO (go), NET_RUNS, NET_SECONDS (length of one
# run, default 3), NET_CONNS (default "1 100 1000"), BENCH_QUICK.
# bench/run.sh (`make bench`) calls it at the end with its --only and
# --quick; BENCH_NET=0 there skips it.
#
# THE BENCHMARKS. Every server runs on 127.0.0.1 with two threads running
# its code: gort at maxprocs 2 (GORT_MAXPROCS=2), Go at GOMAXPROCS=2; the
# thread-per-connection C server has as many threads as connections (the
# kernel runs them on the 2 CPUs).
#  http_cN   examples/http.c (a goroutine per connection, gort_read /
#            gort_write), `gobench httpserver` (Go net/http, the same
#            "hello\n" body and headers, no Date header), bench/pth_http.c
#            (a pthread per connection, the same parser and response bytes).
#            Load: wrk -t2 -cN -dSs --latency (-t1 for N = 1), keep-alive
#            GET /; requests/s and wrk's 99th percentile latency.
#  echo_cN   examples/echo.c, `gobench echoserver` (Go net, a goroutine per
#            connection), bench/pth_echo.c. Load: bench/echo_client (plain
#            epoll, 2 threads, 1 for N = 1): N connections, each with one
#            64-byte message in flight (send, wait for the whole echo, check
#            it, send the next); messages/s and 99th percentile round trip.
# Runs are interleaved (gort, Go, pthreads, gort, ...), each against a
# freshly started server; the table shows the median of the runs. The load
# generator shares the 2 CPUs with the server, the same for every server.
# The gort targets: HTTP requests/s >= 1.5x Go's (every connection count);
# echo messages/s >= Go's at 1000 connections. A server that dies, answers
# a wrong byte or cannot be started makes the script exit non-zero; a
# missed target does not.
set -u
cd "$(dirname "$0")" || exit 2

. ./lib.sh
RUNS=${NET_RUNS:-}
QUICK=${BENCH_QUICK:-0}
WINDOWS=0
bench_args net.sh 1 3 2,18 "$@"
SECS=${NET_SECONDS:-}
[ -n "$SECS" ] || { if [ "$QUICK" = 1 ]; then SECS=1; else SECS=3; fi; }
case $SECS in ''|*[!0-9]*|0) echo "net.sh: NET_SECONDS must be a positive whole number" >&2; exit 2 ;; esac
CONNS=${NET_CONNS:-1 100 1000}

# ---------------------------------------------------------------- rows
ROWS=()                     # ids selected by --only
for b in http echo; do
    for c in $CONNS; do
        case $c in ''|*[!0-9]*|0) echo "net.sh: bad connection count '$c'" >&2; exit 2 ;; esac
        id=${b}_c$c
        if [ -z "$ONLY" ] || [[ $id =~ $ONLY ]]; then ROWS+=("$id"); fi
    done
done
[ ${#ROWS[@]} -gt 0 ] || exit 0     # --only matched none of ours: nothing to say

FAILURES=0
NOTES=()
BUILD=build
NATIVE=build                # the load generator's (native under --windows too)
WLIBS=
RUN_EXE=()                  # how a server starts: nothing, or Wine
if [ "$WINDOWS" = 1 ]; then
    BUILD=build/windows
    WLIBS="-static -lsynchronization -lws2_32"
    W=$(command -v wine64 || command -v wine || echo /usr/lib/wine/wine64)
    WS=$(command -v wineserver || echo /usr/lib/wine/wineserver)
    WINEPREFIX=$(cd .. && pwd)/tests/build/wine   # the prefix tests/wine-run.sh makes and uses
    export WINEDEBUG=-all WINEPREFIX GOOS=windows GOARCH=amd64
    mkdir -p "$WINEPREFIX" "$NATIVE"
    if [ ! -f "$WINEPREFIX/system.reg" ]; then "$W" wineboot --init >/dev/null 2>&1; "$WS" -w; fi
    RUN_EXE=("$W")
fi
RAW=$BUILD/net_raw
mkdir -p "$BUILD" && rm -rf "$RAW" && mkdir -p "$RAW" || exit 2

# 1000 connections need 1000+ fds in the server and in the load generator.
maxc=0
for c in $CONNS; do [ "$c" -gt "$maxc" ] && maxc=$c; done
want_fds=$((maxc * 2 + 2048))
[ $want_fds -lt 4096 ] && want_fds=4096
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $want_fds ]; then
    hard=$(ulimit -Hn)
    if [ "$hard" = unlimited ] || [ "$hard" -ge $want_fds ]; then
        ulimit -n $want_fds
    else
        ulimit -n "$hard"
    fi
fi
FDS=$(ulimit -n)

# ---------------------------------------------------------------- build
CC=${CC:-gcc}
NATIVE_CC=$CC
[ "$WINDOWS" = 1 ] && CC=x86_64-w64-mingw32-gcc NATIVE_CC=gcc
CFLAGS=${BENCH_CFLAGS:--O2 -pthread -std=c99 -Wall -Wextra -Wpedantic}
EXFLAGS="-O2 -pthread -Wall -Wextra -Wpedantic"   # the examples as `make examples` builds them, -O2
echo "net: building into bench/$BUILD ($CC -O2)" >&2
declare -A BUILT
compile() {                 # name "flags" source: build/NAME, log build/NAME.log
    # shellcheck disable=SC2086 # the flags are a list
    $CC $2 -o "$BUILD/$1" "$3" $WLIBS >"$BUILD/$1.log" 2>&1
}
built() {                   # name status: record or report
    if [ "$2" = 0 ]; then
        BUILT[$1]=1
        if [ -s "$BUILD/$1.log" ]; then echo "warnings in $1 (bench/$BUILD/$1.log)" >&2; fi
    else
        bench_build_failed "$1"
    fi
}
compile net_gort_echo "$EXFLAGS" ../examples/echo.c & p1=$!
compile net_gort_http "$EXFLAGS" ../examples/http.c & p2=$!
wait $p1; built net_gort_echo $?
wait $p2; built net_gort_http $?
compile pth_echo "$CFLAGS" pth_echo.c & p1=$!
compile pth_http "$CFLAGS" pth_http.c & p2=$!
wait $p1; built pth_echo $?
wait $p2; built pth_http $?
# shellcheck disable=SC2086 # the flags are a list
$NATIVE_CC $CFLAGS -o "$NATIVE/echo_client" echo_client.c >"$NATIVE/echo_client.log" 2>&1
built echo_client $?

bench_go_build "Go servers" || NOTES+=("go: not installed, skipped Go column")
HAVE_WRK=0
if command -v wrk >/dev/null 2>&1; then HAVE_WRK=1; else NOTES+=("wrk: not installed, skipped the http rows"); fi

# ---------------------------------------------------------------- servers
SRV_PID=
SRV_PORT=
SRV_OUT=$RAW/server.out
stop_server() {             # SIGTERM; SIGKILL if it is still there after 3 s
    local i
    if [ -n "$SRV_PID" ]; then
        kill "$SRV_PID" 2>/dev/null
        for ((i = 0; i < 150; i++)); do
            kill -0 "$SRV_PID" 2>/dev/null || break
            sleep 0.02
        done
        if kill -0 "$SRV_PID" 2>/dev/null; then
            echo "net.sh: server $SRV_PID ignored SIGTERM; killing it" >&2
            kill -9 "$SRV_PID" 2>/dev/null
        fi
        wait "$SRV_PID" 2>/dev/null
        SRV_PID=
        [ "$WINDOWS" = 1 ] && "$WS" -k 2>/dev/null   # (nothing of the server left in Wine)
    fi
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

server_cmd() {              # bench impl -> the command line, or "" if not built
    local x=
    [ "$WINDOWS" = 1 ] && x=.exe
    case $2 in
    gort) [ -n "${BUILT[net_gort_$1]:-}" ] && echo "env GORT_MAXPROCS=2 ${RUN_EXE[*]} $BUILD/net_gort_$1$x 0" ;;
    go)   [ $HAVE_GO = 1 ] && echo "env GOMAXPROCS=2 ${RUN_EXE[*]} $BUILD/gobench$x ${1}server 0" ;;
    pth)  [ -n "${BUILT[pth_$1]:-}" ] && echo "${RUN_EXE[*]} $BUILD/pth_$1$x 0" ;;
    esac
}

start_server() {            # command line; sets SRV_PID, SRV_PORT; 0 when it listens
    local i
    : >"$SRV_OUT"
    # shellcheck disable=SC2086 # a command line
    $1 >"$SRV_OUT" 2>&1 &
    SRV_PID=$!
    for ((i = 0; i < 500; i++)); do   # 10 s
        if grep -q listening "$SRV_OUT"; then
            SRV_PORT=$(grep -m 1 listening "$SRV_OUT" | grep -oE ':[0-9]+' | head -n 1 | tr -d :)
            [ -n "$SRV_PORT" ] && return 0
        fi
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.02
    done
    echo "FAIL: '$1' did not start listening:" >&2
    tail -n 5 "$SRV_OUT" | sed 's/^/    /' >&2
    stop_server
    return 1
}

http_check() {              # one request on a new connection: 200 and the body
    local resp
    # shellcheck disable=SC2016 # $1 is expanded by the inner bash
    resp=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" >&3
        cat <&3' _ "$1" 2>/dev/null)
    [[ $resp == "HTTP/1.1 200 OK"$'\r\n'* && $resp == *$'\r\n\r\nhello' ]]
}

to_us() {                   # wrk's "1.23ms" -> 1230
    awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") m = 1; else if (u == "ms") m = 1e3; else if (u == "s") m = 1e6;
        else if (u == "m") m = 6e7; else m = -1
        if (m < 0) exit 1; printf "%.1f\n", n * m }'
}

# One run: start the server, load it, check it survived, stop it. Appends
# "RESULT tput V" and "RESULT p99 V" to the raw file; 1 on failure.
run_one() {                 # bench conns impl
    local bench=$1 conns=$2 impl=$3 cmd out thr rps p99 rc
    cmd=$(server_cmd "$bench" "$impl")
    out=$RAW/${bench}_c${conns}_$impl
    start_server "$cmd" || return 1
    thr=2
    [ "$conns" -lt 2 ] && thr=1
    if [ "$bench" = http ]; then
        if ! http_check "$SRV_PORT"; then
            echo "FAIL: $impl http server on port $SRV_PORT: wrong response to GET /" >&2
            stop_server
            return 1
        fi
        timeout $((SECS + 30)) wrk -t$thr -c"$conns" -d"${SECS}s" --latency \
            "http://127.0.0.1:$SRV_PORT/" >"$out.log" 2>&1
        rc=$?
        rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out.log")
        p99=$(awk '$1 == "99%" { print $2 }' "$out.log")
        [ -n "$p99" ] && p99=$(to_us "$p99")
        if [ $rc -ne 0 ] || [ -z "$rps" ] || [ -z "$p99" ]; then
            echo "FAIL: wrk against the $impl http server, $conns connections (rc $rc):" >&2
            tail -n 5 "$out.log" | sed 's/^/    /' >&2
            stop_server
            return 1
        fi
        local errs
        errs=$(grep -E 'Socket errors|Non-2xx' "$out.log" | tr -s ' ' | tr '\n' ';')
        [ -n "$errs" ] && NOTES+=("${bench}_c$conns $impl: wrk reported:$errs")
    else
        timeout $((SECS + 60)) "$NATIVE/echo_client" 127.0.0.1 "$SRV_PORT" "$conns" "$SECS" $thr \
            >"$out.log" 2>&1
        rc=$?
        rps=$(awk '$1 == "RESULT" && $2 == "msgs" { print $3 }' "$out.log")
        p99=$(awk '$1 == "RESULT" && $2 == "p99" { print $3 }' "$out.log")
        if [ $rc -ne 0 ] || [ -z "$rps" ] || [ -z "$p99" ]; then
            echo "FAIL: echo_client against the $impl echo server, $conns connections (rc $rc):" >&2
            tail -n 5 "$out.log" | sed 's/^/    /' >&2
            stop_server
            return 1
        fi
    fi
    if ! kill -0 "$SRV_PID" 2>/dev/null; then
        echo "FAIL: the $impl $bench server died under $conns connections:" >&2
        tail -n 10 "$SRV_OUT" | sed 's/^/    /' >&2
        SRV_PID=
        return 1
    fi
    stop_server
    printf 'RESULT tput %s\nRESULT p99 %s\n' "$rps" "$p99" >>"$out.txt"
    return 0
}

# ---------------------------------------------------------------- running
IMPLS=(gort go pth)
declare -A STATE            # "row,impl" -> ok | fail | na
t_start=$(date +%s)
load0=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo ?)
i=0
for id in "${ROWS[@]}"; do
    i=$((i + 1))
    bench=${id%%_*}
    conns=${id#*_c}
    label="$bench, $conns connection(s)"
    printf '[%d/%d] net %-30s' "$i" "${#ROWS[@]}" "$label" >&2
    for impl in "${IMPLS[@]}"; do
        if [ "$bench" = http ] && [ $HAVE_WRK = 0 ]; then STATE[$id,$impl]=na
        elif [ -z "$(server_cmd "$bench" "$impl")" ]; then STATE[$id,$impl]=na
        elif [ "$bench" = echo ] && [ -z "${BUILT[echo_client]:-}" ]; then STATE[$id,$impl]=na
        elif [ "$FDS" != unlimited ] && [ "$FDS" -lt $((conns + 64)) ]; then
            STATE[$id,$impl]=na
            NOTES+=("$id: ulimit -n is $FDS, too low for $conns connections")
        else STATE[$id,$impl]=ok
        fi
    done
    for ((r = 0; r < RUNS; r++)); do
        for impl in "${IMPLS[@]}"; do
            [ "${STATE[$id,$impl]}" = ok ] || continue
            if ! run_one "$bench" "$conns" "$impl"; then
                STATE[$id,$impl]=fail
                FAILURES=$((FAILURES + 1))
            fi
        done
        printf '.' >&2
    done
    echo >&2
done
t_total=$(( $(date +%s) - t_start ))

# ---------------------------------------------------------------- table
val() {                     # row impl key
    case ${STATE[$1,$2]} in
    ok) bench_median "$RAW/${1}_$2.txt" "$3" ;;
    fail) echo FAIL ;;
    *) echo n/a ;;
    esac
}
table() {
    local id bench conns unit
    for id in "${ROWS[@]}"; do
        bench=${id%%_*}
        conns=${id#*_c}
        if [ "$bench" = http ]; then unit=req/s; tgt="ge_go:1.5"; label="http hello (wrk)"
        else unit=msg/s; tgt=-; label="echo 64 B (echo_client)"
            [ "$conns" = 1000 ] && tgt="ge_go:1"
        fi
        printf '%s;%s;%s;%s;%s;%s;%s\n' "$label" "$conns" "$unit" "$tgt" \
            "$(val "$id" gort tput)" "$(val "$id" go tput)" "$(val "$id" pth tput)"
        printf '%s;%s;%s;%s;%s;%s;%s\n' "$label" "$conns" "p99 us" "-" \
            "$(val "$id" gort p99)" "$(val "$id" go p99)" "$(val "$id" pth p99)"
    done | awk -F';' -v runs="$RUNS" -v secs="$SECS" -v quick="$QUICK" "$BENCH_AWK_FMT"'
    function ratio(a, b) {
        if (!isnum(a) || !isnum(b) || b + 0 == 0) return "-"
        return sprintf("%.2fx", a / b)
    }
    function tgt(t, g, go,   n, ok) {
        if (t == "-" || t == "") return "-"
        n = t; sub(/^[^:]*:/, "", n)
        s = ">=" n "x Go"
        if (!isnum(g) || !isnum(go)) return s
        ok = g + 0 >= (n + 0) * (go + 0)
        return s (ok ? " ok" : " MISS")
    }
    function note_target(t, b, c, g, go,   r) {    # for the summary under the table
        if (t == "-" || t == "") return
        r = (isnum(g) && isnum(go) && go + 0 > 0) ? sprintf("%.2fx", g / go) : "n/a"
        sum[b] = sum[b] (sum[b] == "" ? "" : ", ") c " conns " r
        nconn[b]++
        if (r == "n/a") { miss[b] = miss[b] + 0; unmeasured[b]++ }
        else if (g + 0 < (substr(t, index(t, ":") + 1) + 0) * (go + 0)) miss[b]++
        else miss[b] = miss[b] + 0
        want[b] = substr(t, index(t, ":") + 1)
        if (!(b in seen)) { seen[b] = 1; order[++nb] = b }
    }
    BEGIN {
        hdr = sprintf("%-24s %6s %-7s %9s %9s %9s %8s  %-22s %s", "benchmark", "conns", "unit", "gort", "Go",
                      "pthreads", "gort/Go", "gort, in words", "target (gort)")
        print hdr
        line = hdr; gsub(/./, "-", line); print line
    }
    {
        printf "%-24s %6s %-7s %9s %9s %9s %8s  %-22s %s\n", $1, $2, $3, fmt($5), fmt($6), fmt($7),
               ratio($5, $6), words($5, $6, $3 == "p99 us" ? "us" : $3), tgt($4, $5, $6)
        note_target($4, ($1 ~ /^http/ ? "HTTP " : "echo ") $3, $2, $5, $6)
    }
    END {
        if (nb) print ""
        for (i = 1; i <= nb; i++) {
            b = order[i]
            printf "target: gort %s >= %sx Go: %s (gort/Go: %s)\n", b, want[b],
                   miss[b] ? "MISS" : (!unmeasured[b] ? "met" : (unmeasured[b] == nconn[b] ? "not measured" : "met where measured")), sum[b]
        }
        printf "\nmedian of %d run(s) of %d s%s; servers at 2 threads (GORT_MAXPROCS=2, GOMAXPROCS=2;\n",
               runs, secs, quick ? ", QUICK mode (not comparable)" : ""
        print "pthreads: a thread per connection). gort/Go: higher is better for req/s and msg/s,"
        print "lower for p99 (microseconds). The load generator shares the 2 CPUs with the server."
    }'
}
echo
echo "gort network benchmarks ($(nproc 2>/dev/null || echo ?) CPUs, $(uname -m), ${t_total}s;" \
    "load average $load0 before, $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo ?) after)" \
    "$([ "$WINDOWS" = 1 ] && echo "; the servers Windows x64 builds under $("$W" --version 2>/dev/null): Wine's figures, not Windows'")"
{ table; [ ${#NOTES[@]} -eq 0 ] || printf 'note: %s\n' "${NOTES[@]}"; } | tee "$BUILD/net_results.txt"
if [ $FAILURES -gt 0 ]; then
    echo "net.sh: $FAILURES failure(s), see above" >&2
    exit 1
fi
exit 0
