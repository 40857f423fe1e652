#!/usr/bin/env bash
# bench/run.sh - gort against pthreads and Go, one table. `make bench` runs it.
#
# usage: bash bench/run.sh [--quick] [--runs N] [--only REGEX]
#   --quick       smoke run: smaller counts, 50 ms per timed loop, 1 run
#                 each (same as BENCH_QUICK=1)
#   --runs N      runs of every program; the table shows the median
#                 (default 5, or $BENCH_RUNS; the 1M-park rows run at most 3)
#   --only REGEX  only the rows whose id matches (ids: see ROWS below)
#   --windows     Windows x64 builds (MinGW-w64; pthreads from winpthreads,
#                 Go with GOOS=windows) run under Wine (tests/wine-run.sh),
#                 into bench/build/windows: the figures are Wine's, not
#                 Windows'. No compact_* rows (compaction is Linux-only),
#                 2k parked threads for pthreads (Wine runs out of fds at 10k);
#                 the network rows' servers under Wine, their load
#                 generators native (net.sh --windows). `make bench WINDOWS=1`.
# Environment: CC (gcc), GO (go), BENCH_CFLAGS, BENCH_RUNS, BENCH_QUICK, BENCH_MS
# (length of each timed loop, default 200), BENCH_TIMEOUT (s per program,
# default 120).
#
# Every program is built into bench/build/ (gcc -O2 -pthread), the Go ones
# into bench/build/gobench with `go build` when `go` is installed. Each
# program prints `RESULT <key> <value> <unit>` lines; this script runs each
# one several times, gort, pthreads and Go interleaved, and prints the
# median of every value.
#
# THE BENCHMARKS (gort program / pthreads counterpart / Go counterpart)
#  spawn_p1/p2   1M goroutines spawned and finished, each calling
#                gort_wg_done, in batches of 1000 waited for on a WaitGroup
#                (at most 1000 alive at once); ns per goroutine at maxprocs
#                1 and 2 / pthread_create + pthread_join of 20k threads in
#                batches of 64, ns per thread / `go f()` + sync.WaitGroup at
#                GOMAXPROCS 1 and 2, same batches.
#  spawn10k_*    the same, 200k goroutines in batches of 10000: more dead
#                stacks come back at once than gort keeps pooled (4096).
#  yield         two goroutines calling gort_yield in turn at maxprocs 1, ns
#                per yield / two threads pinned to one CPU calling
#                sched_yield (a kernel context switch) / runtime.Gosched.
#  yield_traced  the yield row with the execution trace recording (ring
#                mode, never written): one event per yield, so the
#                difference from the yield row is the cost of an event /
#                - / Go's execution tracer (runtime/trace into io.Discard).
#  selfyield     gort_yield with one goroutine and nothing else runnable: the
#                nearest thing to a raw context switch the public API has
#                (gort may return without switching; Go's Gosched always
#                goes through the scheduler) / sched_yield alone (a bare
#                system call) / runtime.Gosched alone.
#  pingpong_p1/p2  round trip over two unbuffered channels (send, echo back)
#                at maxprocs 1 and 2, ns per round trip / a mutex + two
#                condvars one-slot rendezvous, both threads pinned to one CPU
#                (for 1 P) or free (for 2 P) / Go channels.
#  buf_*         chan of cap 1024, 8-byte items, producers send for 200 ms,
#                then close; consumers count. Million items per second:
#                1 producer 1 consumer at maxprocs 1 and 2, 4P4C at
#                maxprocs 2 / a mutex + 2 condvar ring of 1024 with the same
#                thread counts (pinned to one CPU for 1 P) / Go channels.
#  select2/4     one goroutine gort_select-ing receives over 2 or 4 buffered
#                channels (cap 1024), each fed by its own producer, at
#                maxprocs 1; ns per select / no pthreads counterpart / Go
#                select.
#  skynet        1M goroutines in a 10-ary tree summing over unbuffered
#                channels at maxprocs 2; the sum must be 499999500000 (the
#                program fails otherwise); ms / not feasible with threads /
#                the canonical Go skynet.
#                skynet_rss: its peak RSS (VmHWM) in MiB, which shows how
#                many goroutines the schedule keeps alive at once.
#  park_*        1M goroutines blocked receiving on one channel at maxprocs
#                1: growth of VmRSS + VmPTE (/proc/self/status) per goroutine
#                in KiB; ns per goroutine to spawn them until all are parked;
#                ns per goroutine to close the channel and see all finish /
#                10k threads blocked on one condvar (default 8 MiB stack
#                reserve; kernel stacks are not in RSS and not counted) /
#                1M Go goroutines, measured the same way.
#  compact_*     1M goroutines blocked on one channel at maxprocs 1 with
#                stack compaction on (50 ms): RSS + PTE per goroutine once
#                sysmon has compacted them all, KiB; sysmon's ns per
#                compaction; ns per goroutine from close to all finished,
#                each wake restoring a stack / - / Go's 1M parked
#                goroutines (Go has no compaction: its parked cost and wake,
#                the park_* run's). About 45 s a run: sysmon compacts the
#                million one by one.
#  fib_*         fib(32) with a goroutine per call at n >= 15 joined by a
#                WaitGroup, best of 5, ms at maxprocs 1 and 2, and the
#                speedup (1 P time / 2 P time) / no pthreads counterpart / Go.
#  ticker_*      a goroutine sleeping 1 ms in a loop while one goroutine per
#                P computes in plain C (no gort call) for 1 s: the worst
#                lateness of a tick, ms, at maxprocs 1 and 2 (gort hands the
#                other goroutines off after GORT_HANDOFF_MS) / no pthreads
#                counterpart / Go (which preempts after 10 ms).
#  timer_stop    1M timers made (an hour out, all pending at once), then
#                each stopped (and freed) at maxprocs 1; ns per timer / - /
#                time.NewTimer + Stop.
#  tickers_*     k tickers of 1 ms, each read by its own goroutine that
#                also selects on a context's done channel, for 1 s at
#                maxprocs 2: process CPU time per tick received, and the
#                share of the k x 1000 ticks that were received (10k tickers
#                are more than two CPUs can serve, in Go too) / - / Go.
#  ctx_cancel    100k goroutines at maxprocs 2, each blocked on the done
#                channel of its own child of one root context; ms from the
#                root's cancel until all have returned / - / Go.
#
# Ratios are gort / other: below 1 is better for ns, ms and KiB, above 1 for
# M/s and speedups. "target" is the goal for gort on this 2-core machine:
# ok or MISS. The header gives the CPU model, the compiler and Go versions
# and the load average before and after; bench/build/results.txt keeps the
# table and bench/build/results.svg charts gort's speed relative to Go
# (with gnuplot installed). "-" means no counterpart; "n/a" that the program did not
# build; "FAIL" that it exited non-zero (its stderr is shown).
set -u
cd "$(dirname "$0")" || exit 2

. ./lib.sh
RUNS=${BENCH_RUNS:-}
QUICK=${BENCH_QUICK:-0}
WINDOWS=0
bench_args run.sh 1 5 2,12 "$@"
export BENCH_QUICK=$QUICK
TIMEOUT=${BENCH_TIMEOUT:-120}
CC=${CC:-gcc}
CFLAGS=${BENCH_CFLAGS:--O2 -pthread -std=c99 -Wall -Wextra -Wpedantic}
BUILD=build
LIBS=
RUNNER=()
if [ "$WINDOWS" = 1 ]; then
    CC=x86_64-w64-mingw32-gcc
    CFLAGS="$CFLAGS -static -D__USE_MINGW_ANSI_STDIO=1"
    LIBS="-lsynchronization -lws2_32 -lm"
    BUILD=build/windows
    RUNNER=(bash ../tests/wine-run.sh)
    export GOOS=windows GOARCH=amd64
    command -v "$CC" >/dev/null 2>&1 || { echo "run.sh --windows: $CC not found (apt-get install gcc-mingw-w64-x86-64 wine64)" >&2; exit 2; }
fi
RAW=$BUILD/raw
mkdir -p "$BUILD" && rm -rf "$RAW" && mkdir -p "$RAW" || exit 2
FAILURES=0

# ---------------------------------------------------------------- build
declare -A BUILT            # program name -> 1 when it built
echo "building into bench/$BUILD ($CC $CFLAGS)" >&2
build_one() {               # source file; log in build/NAME.log
    local name=${1%.c}
    # shellcheck disable=SC2086 # CFLAGS is a list of flags
    $CC $CFLAGS -o "$BUILD/$name" "$1" $LIBS >"$BUILD/$name.log" 2>&1
}
SRCS=()
for src in gort_*.c pth_*.c; do
    # (the network rows' servers: net.sh builds them)
    if [ "$WINDOWS" = 1 ]; then case $src in pth_echo.c|pth_http.c) continue ;; esac; fi
    SRCS+=("$src")
done
pids=()
names=()
for src in "${SRCS[@]}"; do
    build_one "$src" &
    pids+=($!)
    names+=("${src%.c}")
    if [ ${#pids[@]} -ge 2 ]; then   # two at a time: this is a 2-core machine
        wait "${pids[0]}" && BUILT[${names[0]}]=1
        pids=("${pids[@]:1}")
        names=("${names[@]:1}")
    fi
done
for i in "${!pids[@]}"; do wait "${pids[$i]}" && BUILT[${names[$i]}]=1; done
for src in "${SRCS[@]}"; do
    name=${src%.c}
    if [ -z "${BUILT[$name]:-}" ]; then
        bench_build_failed "$name"
    elif [ -s "$BUILD/$name.log" ]; then
        echo "warnings in $name (bench/$BUILD/$name.log)" >&2
    fi
done

GO_NOTE=
if ! bench_go_build "Go benchmarks"; then
    echo "go: not installed, skipped Go column" >&2
    GO_NOTE="go: not installed, skipped Go column"
fi

# ---------------------------------------------------------------- rows
# id;label;unit;target;max runs;gort command;pthreads command;Go command;key
# A command is a program in build/ with its arguments; "go X" is gobench X;
# "-" is none. target: le:N (gort <= N), ge:N (gort >= N), ge_go:F
# (gort >= F x Go), le_go:F (gort <= F x Go), "-". The fib_speedup row is derived (fib_p1 / fib_p2).
ROWS=(
"spawn_p1;spawn+exit 1M (1k at once), 1 P;ns/op;le:80;;gort_spawn 1 1000000 1000;pth_spawn;go spawn 1 1000000 1000;spawn"
"spawn_p2;spawn+exit 1M (1k at once), 2 P;ns/op;le:80;;gort_spawn 2 1000000 1000;pth_spawn;go spawn 2 1000000 1000;spawn"
"spawn10k_p1;spawn+exit 200k (10k at once), 1 P;ns/op;le:80;;gort_spawn 1 200000 10000;pth_spawn;go spawn 1 200000 10000;spawn"
"spawn10k_p2;spawn+exit 200k (10k at once), 2 P;ns/op;le:80;;gort_spawn 2 200000 10000;pth_spawn;go spawn 2 200000 10000;spawn"
"yield;yield between 2 goroutines, 1 P;ns/op;le:12;;gort_yield pair;pth_yield pair;go yield pair;yield"
"selfyield;self-yield, 1 goroutine, 1 P;ns/op;-;;gort_yield self;pth_yield self;go yield self;yield"
"yield_traced;yield, 2 goroutines, 1 P, traced;ns/op;-;;gort_yield pair trace;-;go yield pair trace;yield"
"pingpong_p1;unbuffered ping-pong RTT, 1 P;ns/op;le:90;;gort_pingpong 1;pth_pingpong 1;go pingpong 1;pingpong"
"pingpong_p2;unbuffered ping-pong RTT, 2 P;ns/op;le_go:0.6;;gort_pingpong 2;pth_pingpong 0;go pingpong 2;pingpong"
"buf_1p1c_p1;chan(1024) 1 prod 1 cons, 1 P;M/s;ge:60;;gort_bufchan 1 1 1;pth_bufchan 1 1 1;go bufchan 1 1 1;bufchan"
"buf_1p1c_p2;chan(1024) 1 prod 1 cons, 2 P;M/s;ge_go:1.5;;gort_bufchan 2 1 1;pth_bufchan 0 1 1;go bufchan 2 1 1;bufchan"
"buf_4p4c_p2;chan(1024) 4 prod 4 cons, 2 P;M/s;ge_go:2;;gort_bufchan 2 4 4;pth_bufchan 0 4 4;go bufchan 2 4 4;bufchan"
"select2;select recv over 2 chans, 1 P;ns/op;-;;gort_select 1 2;-;go select 1 2;select"
"select4;select recv over 4 chans, 1 P;ns/op;-;;gort_select 1 4;-;go select 1 4;select"
"skynet;skynet 1M goroutines, 2 P;ms;le:200;;gort_skynet 2;-;go skynet 2;skynet"
"skynet_rss;skynet 1M goroutines, 2 P: peak RSS;MiB;le_go:1;;gort_skynet 2;-;go skynet 2;skynet_rss"
"park_mem;1M parked: RSS+PTE (pth: 10k);KiB/op;le:4.9;3;gort_park 1;pth_park;go park 1;park_mem"
"park_spawn;1M parked: spawn until parked;ns/op;le_go:0.5;3;gort_park 1;pth_park;go park 1;park_spawn"
"park_release;1M parked: close, all finish;ns/op;le_go:0.5;3;gort_park 1;pth_park;go park 1;park_release"
"compact_mem;1M parked, compacted (GORT_COMPACT_MS): RSS+PTE;KiB/op;le:2;3;gort_compact 1 1000000;-;go park 1;compact_mem"
"compact_cost;1M parked: sysmon time per compaction;ns/op;-;3;gort_compact 1 1000000;-;-;compact_cost"
"compact_wake;1M parked, compacted: close, all finish;ns/op;le:5000;3;gort_compact 1 1000000;-;go park 1;compact_wake"
"fib_p1;parallel fib(32), 1 P;ms;-;;gort_fib 1;-;go fib 1;fib"
"fib_p2;parallel fib(32), 2 P;ms;-;;gort_fib 2;-;go fib 2;fib"
"fib_speedup;parallel fib(32) speedup 2P/1P;x;-;;=fib_p1/fib_p2;=fib_p1/fib_p2;=fib_p1/fib_p2;-"
"ticker_p1;1 ms ticker beside a computing goroutine, 1 P: worst;ms;le:30;;gort_ticker 1;-;go ticker 1;ticker_worst"
"ticker_p2;1 ms ticker beside 2 computing goroutines, 2 P: worst;ms;le:30;;gort_ticker 2;-;go ticker 2;ticker_worst"
"timer_stop;timer make+stop (1M pending), 1 P;ns/op;le_go:1;;gort_toolbox timer;-;go toolbox timer;timer_stop"
"tickers_1k;1k tickers of 1 ms, 2 P: CPU per tick;ns/op;le_go:1;;gort_toolbox ticker 1000;-;go toolbox ticker 1000;ticker_cpu"
"tickers_10k;10k tickers of 1 ms, 2 P: CPU per tick;ns/op;le_go:1;;gort_toolbox ticker 10000;-;go toolbox ticker 10000;ticker_cpu"
"tickers_10k_recv;10k tickers of 1 ms, 2 P: ticks received;%;-;;gort_toolbox ticker 10000;-;go toolbox ticker 10000;ticker_recv"
"ctx_cancel;context cancel, 100k waiters, 2 P: all returned;ms;le:50;;gort_toolbox cancel;-;go toolbox cancel;cancel_all"
)

# ---------------------------------------------------------------- running
declare -A NRUN             # command -> runs done
declare -A STATE            # command -> ok | fail | na | none
raw_file() { echo "$RAW/$(echo "$1" | tr ' ' '_').txt"; }

cmd_state() {               # sets STATE[$1] the first time
    local cmd=$1 prog
    [ -n "${STATE[$cmd]:-}" ] && return
    case $cmd in
    -|=*) STATE[$cmd]=none ;;
    go\ *) if [ $HAVE_GO = 1 ]; then STATE[$cmd]=ok; else STATE[$cmd]=nogo; fi ;;
    *)  prog=${cmd%% *}
        if [ -n "${BUILT[$prog]:-}" ]; then STATE[$cmd]=ok; else STATE[$cmd]=na; fi ;;
    esac
}

run_cmd() {                 # one run of a command, RESULT lines appended to its raw file
    local cmd=$1 out err rc
    out=$(raw_file "$cmd")
    err="$out.err"
    # shellcheck disable=SC2086 # a command is a program and its arguments
    case $cmd in
    go\ *) timeout "$TIMEOUT" "${RUNNER[@]}" "$BUILD/gobench" ${cmd#go } >>"$out" 2>"$err" ;;
    *) timeout "$TIMEOUT" "${RUNNER[@]}" "$BUILD/"$cmd >>"$out" 2>"$err" ;;
    esac
    rc=$?
    if [ $rc -ne 0 ]; then
        STATE[$cmd]=fail
        FAILURES=$((FAILURES + 1))
        if [ $rc -eq 124 ]; then
            echo "FAIL: '$cmd' timed out after ${TIMEOUT}s" >&2
        else
            echo "FAIL: '$cmd' exited with status $rc" >&2
        fi
        tail -n 20 "$err" | sed 's/^/    /' >&2
    fi
    NRUN[$cmd]=$(( ${NRUN[$cmd]:-0} + 1 ))
}

median() {                  # median of the values of key $2 in command $1's runs
    bench_median "$(raw_file "$1")" "$2"
}

declare -A VAL              # "row,impl" -> median, or - / n/a / FAIL
ROWDONE=()
nrows=0
for row in "${ROWS[@]}"; do
    IFS=';' read -r id label _ _ _ _ _ _ _ <<<"$row"
    if [ "$WINDOWS" = 1 ] && [[ $id == compact_* ]]; then continue; fi
    if [ -z "$ONLY" ] || [[ $id =~ $ONLY ]]; then nrows=$((nrows + 1)); fi
done
t_start=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
i=0
for row in "${ROWS[@]}"; do
    IFS=';' read -r id label unit target maxruns c_gort c_pth c_go key <<<"$row"
    if [ -n "$ONLY" ] && ! [[ $id =~ $ONLY ]]; then continue; fi
    if [ "$WINDOWS" = 1 ] && [[ $id == compact_* ]]; then continue; fi   # (compaction is Linux-only)
    # Wine takes file descriptors per thread: 10k threads run out of them
    if [ "$WINDOWS" = 1 ] && [ "$c_pth" = pth_park ]; then c_pth="pth_park 2000"; label=${label/pth: 10k/pth: 2k}; fi
    i=$((i + 1))
    runs=$RUNS
    [ -n "$maxruns" ] && [ "$maxruns" -lt "$runs" ] && runs=$maxruns
    printf '[%2d/%d] %-40s' "$i" "$nrows" "$label" >&2
    cmds=("$c_gort" "$c_pth" "$c_go")
    for c in "${cmds[@]}"; do cmd_state "$c"; done
    for ((r = 0; r < runs; r++)); do
        for c in "${cmds[@]}"; do
            if [ "${STATE[$c]}" = ok ] && [ "${NRUN[$c]:-0}" -le $r ]; then run_cmd "$c"; fi
        done
        printf '.' >&2
    done
    echo >&2
    impls=(gort pth go)
    for j in 0 1 2; do
        c=${cmds[$j]}
        case ${STATE[$c]} in
        ok) v=$(median "$c" "$key"); VAL[$id,${impls[$j]}]=${v:-FAIL}
            [ -z "$v" ] && { echo "FAIL: '$c' printed no RESULT $key" >&2; FAILURES=$((FAILURES + 1)); } ;;
        fail) VAL[$id,${impls[$j]}]=FAIL ;;
        na) VAL[$id,${impls[$j]}]=n/a ;;
        none|nogo)
            if [[ $c == =* ]]; then          # derived: =rowA/rowB
                a=${c#=}; b=${a#*/}; a=${a%/*}
                va=${VAL[$a,${impls[$j]}]:--}; vb=${VAL[$b,${impls[$j]}]:--}
                if [[ $va =~ ^[0-9] && $vb =~ ^[0-9] ]]; then
                    VAL[$id,${impls[$j]}]=$(awk -v a="$va" -v b="$vb" 'BEGIN { if (b > 0) printf "%.4f", a / b; else print "-" }')
                else
                    VAL[$id,${impls[$j]}]=-
                fi
            else
                VAL[$id,${impls[$j]}]=-
            fi ;;
        esac
    done
    ROWDONE+=("$id;$label;$unit;$target")
done
t_total=$(( $(date +%s) - t_start ))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)

# ---------------------------------------------------------------- table
table() {
    printf '%s\n' "${ROWDONE[@]}" | while IFS=';' read -r id label unit target; do
        printf '%s;%s;%s;%s;%s;%s;%s\n' "$id" "$label" "$unit" "$target" \
            "${VAL[$id,gort]}" "${VAL[$id,pth]}" "${VAL[$id,go]}"
    done | awk -F';' -v runs="$RUNS" -v quick="$QUICK" "$BENCH_AWK_FMT"'
    function ratio(a, b) {
        if (!isnum(a) || !isnum(b) || b + 0 == 0) return "-"
        r = a / b
        return sprintf(r >= 0.1 ? "%.2fx" : (r >= 0.001 ? "%.4fx" : "%.2ex"), r)
    }
    function tgt(t, g, go,   op, n) {
        if (t == "-" || t == "") return "-"
        op = t; sub(/:.*/, "", op); n = t; sub(/^[^:]*:/, "", n)
        if (op == "le") { s = "<=" n }
        else if (op == "ge") { s = ">=" n }
        else if (op == "le_go") { s = "<=" n "x Go" }
        else { s = ">=" n "x Go" }
        if (!isnum(g) || (op ~ /_go$/ && !isnum(go))) return s
        if (op == "le") ok = g + 0 <= n + 0
        else if (op == "ge") ok = g + 0 >= n + 0
        else if (op == "le_go") ok = g + 0 <= (n + 0) * (go + 0)
        else ok = g + 0 >= (n + 0) * (go + 0)
        return s (ok ? " ok" : " MISS")
    }
    BEGIN {
        hdr = sprintf("%-40s %-7s %9s %9s %9s %13s %8s  %-26s %s", "benchmark", "unit", "gort", "pthreads", "Go",
                      "gort/pthreads", "gort/Go", "gort, in words", "target (gort)")
        print hdr
        line = hdr; gsub(/./, "-", line); print line
    }
    {
        printf "%-40s %-7s %9s %9s %9s %13s %8s  %-26s %s\n", $2, $3, fmt($5), fmt($6), fmt($7),
               ratio($5, $6), ratio($5, $7), words($5, $7, $3), tgt($4, $5, $7)
    }
    END {
        printf "\nmedian of %d run(s)%s; ratios are gort/other (lower is better for ns, ms, KiB;\n", runs,
               quick ? ", QUICK mode (smaller counts: not comparable)" : ""
        print "higher for M/s and x). pthreads \"1 P\" = threads pinned to one CPU; park pthreads = 10k threads."
    }'
}
# The chart: gort's speed relative to Go on every row that has both (Go's
# value over gort's for ns, ms, KiB and MiB; gort's over Go's for M/s and
# x), on a log scale: above 1, gort is ahead. bench/build/results.svg.
chart() {
    local dat=$BUILD/chart.dat
    if ! command -v gnuplot >/dev/null 2>&1; then
        echo "chart: gnuplot not installed (apt-get install gnuplot-nox), no bench/$BUILD/results.svg"
        return
    fi
    printf '%s\n' "${ROWDONE[@]}" | while IFS=';' read -r id label unit _; do
        g=${VAL[$id,gort]} o=${VAL[$id,go]}
        [[ $g =~ ^[0-9.e+-]+$ && $o =~ ^[0-9.e+-]+$ ]] || continue
        awk -v id="$id" -v g="$g" -v o="$o" -v u="$unit" 'BEGIN {
            if (g + 0 <= 0 || o + 0 <= 0) exit
            r = (u == "M/s" || u == "x") ? g / o : o / g
            printf "\"%s\" %.4f\n", id, r }'
    done >"$dat"
    if [ ! -s "$dat" ]; then echo "chart: no row has both gort and Go values"; return; fi
    gnuplot -e "set terminal svg size 1000,480 dynamic background rgb 'white';
        set output '$BUILD/results.svg';
        set title 'gort vs Go: speed relative to Go (above 1: gort ahead; log scale)';
        set logscale y 2; set yrange [0.03:64]; set grid ytics;
        set style fill solid 0.6; set offsets 0.6, 0.6, 0, 0; set xtics rotate by -45 noenhanced;
        set key off; set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb 'black';
        plot '$dat' using 0:2:(\$0-0.35):(\$0+0.35):(1):2:xtic(1) with boxxyerror lc rgb '#3070b0'" 2>"$BUILD/chart.log" &&
        echo "chart: bench/$BUILD/results.svg" ||
        echo "chart: gnuplot failed (bench/$BUILD/chart.log)"
}

cpu_model() {
    local m
    m=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
    [ -n "$m" ] || m=$(lscpu 2>/dev/null | awk -F': *' '/^Model name/ { print $2; exit }')
    echo "${m:-unknown CPU}"
}

echo
{
    echo "gort benchmarks ($(nproc 2>/dev/null || echo ?) CPUs, $(uname -m), ${t_total}s)$([ "$WINDOWS" = 1 ] && echo "; Windows x64 builds under $(wine64 --version 2>/dev/null || /usr/lib/wine/wine64 --version 2>/dev/null || echo Wine): Wine's figures, not Windows'")"
    echo "CPU: $(cpu_model); $CC: $($CC --version 2>/dev/null | head -n 1); Go: $([ "$HAVE_GO" = 1 ] && "${GO:-go}" version 2>/dev/null || echo none)"
    echo "load average (1, 5, 15 min): before ${LOAD_BEFORE:-?}, after ${LOAD_AFTER:-?}"
    table
    [ -z "$GO_NOTE" ] || echo "$GO_NOTE"
    chart
} | tee "$BUILD/results.txt"
[ "${BENCH_NET:-1}" = 0 ] || bash ./net.sh --only "$ONLY" $([ "$WINDOWS" = 1 ] && echo --windows) || FAILURES=$((FAILURES + 1))   # network rows (net.sh; BENCH_QUICK is exported)
if [ $FAILURES -gt 0 ]; then
    echo "run.sh: $FAILURES failure(s), see above" >&2
    exit 1
fi
exit 0
