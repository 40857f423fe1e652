# bench/lib.sh - what bench/run.sh and bench/net.sh share; sourced by both
# (after they cd into bench/). Not a program of its own.
#
#   bench_args NAME QUICK_RUNS FULL_RUNS HELP_LINES "$@"
#       parses --quick, --runs N (--runs=N), --only REGEX (--only=REGEX),
#       -h/--help (prints lines HELP_LINES, e.g. 2,12, of the calling
#       script). Reads and sets QUICK (0 or 1), RUNS and ONLY; set RUNS and
#       QUICK from the environment before calling. RUNS left empty becomes
#       QUICK_RUNS or FULL_RUNS. Exits 2 on a bad argument, naming NAME.
#   bench_median FILE KEY
#       the median of the values of the "RESULT KEY VALUE ..." lines in
#       FILE (the mean of the middle two for an even count); nothing if
#       FILE is missing or has none.
#   bench_go_build WHAT
#       builds bench/go into $BUILD/gobench when `go` ($GO) is installed:
#       HAVE_GO=1 on success; a failure is reported as "BUILD FAILED: WHAT"
#       and counted in FAILURES. Returns 1 when go is not installed.
#   bench_build_failed NAME
#       reports that $BUILD/NAME did not build, with the first errors of
#       its log, and counts it in FAILURES.
#   BENCH_AWK_FMT
#       awk functions isnum(s) and fmt(v) (3 significant figures or so) for
#       the tables, and words(g, go, unit): gort against Go in words
#       ("2.6x slower than Go", "1.8x less memory than Go"; rates such as
#       M/s, req/s and msg/s are better higher, everything else lower):
#       prepend to an awk program.

bench_args() {
    local name=$1 quick_runs=$2 full_runs=$3 help=$4
    shift 4
    ONLY=
    while [ $# -gt 0 ]; do
        case $1 in
        --quick) QUICK=1 ;;
        --runs|--only) [ $# -ge 2 ] || { echo "$name: $1 needs a value" >&2; exit 2; }
            if [ "$1" = --runs ]; then RUNS=$2; else ONLY=$2; fi
            shift ;;
        --runs=*) RUNS=${1#--runs=} ;;
        --windows) WINDOWS=1 ;;
        --only=*) ONLY=${1#--only=} ;;
        -h|--help) sed -n "${help}p" "$(basename "$0")"; exit 0 ;;   # (we are in bench/ now)
        *) echo "$name: unknown argument $1 (try --help)" >&2; exit 2 ;;
        esac
        shift
    done
    [ "$QUICK" = 0 ] || QUICK=1
    if [ -z "$RUNS" ]; then
        if [ "$QUICK" = 1 ]; then RUNS=$quick_runs; else RUNS=$full_runs; fi
    fi
    case $RUNS in ''|*[!0-9]*|0) echo "$name: runs must be a positive number" >&2; exit 2 ;; esac
}

bench_median() {
    [ -f "$1" ] || return
    awk -v k="$2" '$1 == "RESULT" && $2 == k { print $3 }' "$1" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) exit;
              if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

bench_go_build() {
    local gocache=()
    HAVE_GO=0
    GO=${GO:-go}
    command -v "$GO" >/dev/null 2>&1 || return 1
    [ -n "${HOME:-}" ] && [ -w "${HOME:-/nonexistent}" ] || gocache=(GOCACHE="$PWD/$BUILD/gocache")
    local out=gobench
    [ "${WINDOWS:-0}" = 1 ] && out=gobench.exe   # (GOOS=windows from the caller)
    if (cd go && env "${gocache[@]}" GOFLAGS=-mod=mod GOPROXY=off "$GO" build -o "../$BUILD/$out" .) \
        >"$BUILD/gobench.log" 2>&1; then
        HAVE_GO=1
    else
        echo "BUILD FAILED: $1 (bench/$BUILD/gobench.log):" >&2
        tail -n 5 "$BUILD/gobench.log" | sed 's/^/    /' >&2
        FAILURES=$((FAILURES + 1))
    fi
    return 0
}

bench_build_failed() {
    echo "BUILD FAILED: $1 (bench/$BUILD/$1.log):" >&2
    { grep -m 5 -E 'error|undefined' "$BUILD/$1.log" || tail -n 5 "$BUILD/$1.log"; } | sed 's/^/    /' >&2
    FAILURES=$((FAILURES + 1))
}

# shellcheck disable=SC2034 # used by the scripts that source this file
BENCH_AWK_FMT='
    function isnum(s) { return s ~ /^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$/ }
    function fmt(v) {
        if (!isnum(v)) return v
        v += 0
        if (v >= 100) return sprintf("%.0f", v)
        if (v >= 10) return sprintf("%.1f", v)
        return sprintf("%.2f", v)
    }
    function words(g, go, unit,   r, mem, up) {
        if (!isnum(g) || !isnum(go) || g + 0 == 0 || go + 0 == 0) return "-"
        mem = unit ~ /(KiB|MiB|GiB|B)$/
        up = unit ~ /\/s$/ || unit == "x"
        r = up ? g / go : go / g
        if (r >= 0.95 && r <= 1.05) return "same as Go"
        if (mem) return sprintf("%.1fx %s memory than Go", r >= 1 ? r : 1 / r, r >= 1 ? "less" : "more")
        return sprintf("%.1fx %s than Go", r >= 1 ? r : 1 / r, r >= 1 ? "faster" : "slower")
    }'
