#!/usr/bin/env bash
# tests/check_gdb.sh - a debugger unwinds out of goroutines and through the
# context switch (gort.h >>arch, >>asm-x64, >>asm-a64). Run by tests/run.sh
# as the checks gdb-x64 and gdb-a64; alone:
#
#     tests/check_gdb.sh x64|a64 [WORKDIR]
#
# Builds tests/test_gdb.c (x64: gcc -O2 with -fcf-protection=full, and
# clang -O0 with it; a64: aarch64-linux-gnu-gcc -O2), runs it under gdb in
# batch mode (a64: under qemu-aarch64 -g PORT, with gdb-multiarch), and
# checks with a Python script inside gdb:
#   - at each stop in a goroutine (gdb_stop_here: in goroutine_a, in
#     goroutine_b, in the main goroutine), `bt` shows the goroutine's start
#     function, below it only gort's own frames, and ends in
#     gort__ctx_entry: no "??" frame, no "Backtrace stopped";
#   - from the first instruction of the switch from goroutine_a into the
#     new goroutine_b until goroutine_b's code runs, at every instruction:
#     the same for `bt` (on the old stack it still shows goroutine_a; a
#     fresh goroutine's frame ends at the nop before gort__ctx_entry), and
#     the caller's registers (pc, sp and every callee-saved register) as
#     the unwinder computes them from the CFI equal the true ones: those
#     at the switch's first instruction while on the old stack, those at
#     gort__ctx_entry's first instruction once on the new one.
# Exit 0 pass, 1 fail (the reason on the last line of stdout), 2 skipped
# ("SKIP:<why>|<packages>" on stdout, as tests/checks.sh's checks print).
set -uo pipefail

ARCH=${1:-x64}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=${2:-$(mktemp -d)}
mkdir -p "$W"
SRC=$ROOT/tests/test_gdb.c
F="-Wall -Wextra -Wpedantic -Werror -g -pthread -fstack-clash-protection -I$ROOT -I$ROOT/tests"

skip() { echo "SKIP:$1|$2"; exit 2; }
die() { echo "$1"; exit 1; }

cat >"$W/check.py" <<'EOF'
import re
import gdb

fails = []
def fail(msg):
    fails.append(msg)
    print("@@FAIL " + msg)

arch = None
def regnames():
    if "aarch64" in arch:
        # (not d8-d15: gdb 13 does not unwind vector registers at all, not
        # even through gcc's own CFI; the table check in the script covers them)
        return ["x%d" % i for i in range(19, 30)]
    return ["rbx", "rbp", "r12", "r13", "r14", "r15"]

def regs(frame):
    r = {"pc": int(frame.pc()), "sp": int(frame.read_register("sp"))}
    for n in regnames():
        r[n] = int(frame.read_register(n))
    return r

FRAME = re.compile(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(")
# (an argument that cannot be read, as at -O0 before the prologue, is no
# fault of the unwinder: "Cannot access memory" alone does not count)
BAD = re.compile(r"Backtrace stopped|corrupt stack")
GORT = re.compile(r"^gort(__|\.)(g_main|main_wrapper|ctx_entry|ctx_unstarted)$")
LAST = re.compile(r"^gort(__|\.)(ctx_entry|ctx_unstarted)$")

def check_bt(where, start=None):
    text = gdb.execute("bt", to_string=True)
    print("@@BT " + where)
    print(text.rstrip())
    names = [m.group(1) for m in (FRAME.match(l) for l in text.splitlines()) if m]
    if BAD.search(text):
        fail(where + ": the backtrace was cut short")
    if "??" in names or not names:
        fail(where + ": a frame without a function")
    elif not LAST.match(names[-1]):
        fail(where + ": the last frame is " + names[-1] + ", not gort__ctx_entry")
    if start is not None:
        if start not in names:
            fail(where + ": no frame of " + start)
        else:
            below = names[len(names) - 1 - names[::-1].index(start) + 1:]
            if not all(GORT.match(n) for n in below):
                fail(where + ": frames after " + start + " that are not gort's: " + " ".join(below))
    return names

def stop(n, start):
    f = gdb.newest_frame()
    if f.name() != "gdb_stop_here":
        fail("stop %d: stopped in %s, not gdb_stop_here" % (n, f.name()))
        return
    which = int(f.read_var("which"))
    if which != n:
        fail("stop %d: gdb_stop_here(%d)" % (n, which))
    check_bt("stop %d" % n, start)

def main():
    global arch
    gdb.execute("break gdb_stop_here")
    gdb.execute("continue")
    arch = gdb.newest_frame().architecture().name()
    stop(1, "goroutine_a")
    # the next switch is from goroutine_a into the new goroutine_b
    gdb.execute("delete")
    gdb.execute("break *gort__ctx_swap")   # the first instruction, no prologue skipping
    gdb.execute("continue")
    gdb.execute("delete")
    f0 = gdb.newest_frame()
    if "ctx_swap" not in (f0.name() or ""):
        fail("not stopped in gort__ctx_swap but in %s" % f0.name())
        return
    old_sp = int(f0.read_register("sp"))
    at_call = regs(f0.older())
    check_bt("switch entry", "goroutine_a")
    pending = []          # caller registers computed on the new stack
    entered = False
    for step in range(1, 200):
        gdb.execute("stepi", to_string=True)
        f0 = gdb.newest_frame()
        name = f0.name() or "??"
        where = "switch step %d (%#x in %s)" % (step, int(f0.pc()), name)
        if "ctx_swap" in name:
            sp = int(f0.read_register("sp"))
            old = old_sp - 1024 <= sp <= old_sp + 64
            check_bt(where, "goroutine_a" if old else None)
            if f0.older() is None:
                fail(where + ": no caller frame")
                continue
            got = regs(f0.older())
            if old:
                for k in got:
                    if got[k] != at_call[k]:
                        fail("%s: the caller's %s is %#x, was %#x at the call" % (where, k, got[k], at_call[k]))
            else:
                pending.append((where, got))
        elif LAST.match(name) and not entered:
            check_bt(where)
            entered = True
            now = regs(f0)
            if not pending:
                fail(where + ": no step on the new stack before gort__ctx_entry")
            for w, got in pending:
                for k in got:
                    if got[k] != now[k]:
                        fail("%s: the caller's %s is %#x, %#x at gort__ctx_entry" % (w, k, got[k], now[k]))
        elif entered and name == "gort__g_main":
            check_bt(where)
            break
        elif entered:
            check_bt(where)
        else:
            fail(where + ": stepped out of the switch into %s" % name)
            break
    if not entered:
        fail("the switch did not enter gort__ctx_entry")
    print("@@STEPS %d" % step)
    gdb.execute("break gdb_stop_here")
    gdb.execute("continue")
    stop(2, "goroutine_b")
    gdb.execute("continue")
    stop(3, "main_fn")

try:
    main()
except gdb.error as e:
    fail("gdb: %s" % e)
print("@@RESULT " + ("ok" if not fails else "%d failures; first: %s" % (len(fails), fails[0])))
gdb.execute("kill")
EOF

# cfi_table PROG REG...: in the CFI table of gort__ctx_swap in PROG (as
# readelf prints it) some row has every REG saved in a slot of its own. gdb
# cannot show this for aarch64's d8-d15 (it does not unwind them).
cfi_table() {
    local prog=$1 addr
    shift
    addr=$(nm "$prog" | awk '$3 == "gort__ctx_swap" { print $1 }')
    [ -n "$addr" ] || { echo "$(basename "$prog"): no gort__ctx_swap in nm's list"; return 1; }
    readelf --debug-dump=frames-interp "$prog" >"$prog.frames" 2>&1
    awk -v pc="pc=$addr.." -v want="$*" '
        /FDE/ { inf = index($0, pc) > 0; next }
        inf && /^ *LOC/ { for (i = 1; i <= NF; i++) col[i] = $i; ncol = NF; next }
        inf && NF > 2 {
            nw = split(want, w, " "); ok = 1; split("", seen)
            for (k = 1; k <= nw; k++) {
                f = 0
                for (i = 3; i <= ncol; i++)
                    if (col[i] == w[k] && $i ~ /^c-[0-9]+$/ && !($i in seen)) { f = 1; seen[$i] = 1 }
                if (!f) ok = 0
            }
            if (ok) good = 1
        }
        END { exit !good }' "$prog.frames" ||
        { echo "$(basename "$prog"): no point in gort__ctx_swap where the CFI has a slot for each of: $*"; return 1; }
}

# run_gdb GDB PROG LOG [qemu]: the script against PROG; its verdict
run_gdb() {
    local gdbx=$1 prog=$2 log=$3 how=${4:-native} port qpid i rc
    local cmds=(-nx -batch -ex 'set pagination off' -ex 'set confirm off'
                -ex 'set print thread-events off' -ex 'set width 0')
    if [ "$how" = native ]; then
        # stop at main first, so that the script starts with a live process
        cmds+=(-ex 'break main' -ex 'run' -ex 'delete' -ex 'set scheduler-locking step')
        GORT_NOSIGQUIT=1 timeout -s KILL 300 "$gdbx" "${cmds[@]}" -x "$W/check.py" "$prog" >"$log" 2>&1
        rc=$?
    else
        # A port picked at random: qemu exits at once if it is taken, and
        # gdb cannot connect if qemu was slow to listen: then try again.
        for i in 1 2 3 4 5; do
            port=$(( 20000 + (RANDOM % 20000) ))
            GORT_NOSIGQUIT=1 qemu-aarch64 -L /usr/aarch64-linux-gnu -g "$port" "$prog" >"$log.qemu" 2>&1 &
            qpid=$!
            sleep 1
            if ! kill -0 "$qpid" 2>/dev/null; then
                wait "$qpid" 2>/dev/null
                rc="qemu-aarch64 -g $port exited: $(head -n1 "$log.qemu")"
                continue
            fi
            timeout -s KILL 300 "$gdbx" "${cmds[@]}" -ex 'set architecture aarch64' \
                -ex "set sysroot /usr/aarch64-linux-gnu" -ex "file $prog" \
                -ex "target remote 127.0.0.1:$port" -x "$W/check.py" >"$log" 2>&1
            rc=$?
            kill -9 "$qpid" 2>/dev/null
            wait "$qpid" 2>/dev/null
            grep -Eq '^127.0.0.1:[0-9]+: Connection (refused|timed out)' "$log" || break
        done
    fi
    if grep -q '^@@RESULT ok$' "$log"; then
        return 0
    fi
    if grep -q '^@@RESULT ' "$log"; then
        echo "$(basename "$prog"): $(sed -n 's/^@@RESULT //p' "$log" | head -n1)"
    else
        echo "$(basename "$prog"): gdb exited $rc without a verdict: $(grep -v '^$' "$log" | tail -n1)"
    fi
    return 1
}

case $ARCH in
x64)
    [ "$(uname -m)" = x86_64 ] || skip "not an x86-64 machine" ""
    command -v gdb >/dev/null 2>&1 || skip "gdb not found" "gdb"
    command -v gcc >/dev/null 2>&1 || skip "gcc not found" "gcc"
    command -v readelf >/dev/null 2>&1 || skip "readelf not found" "binutils"
    gdb -nx -batch -ex 'python print(1)' >/dev/null 2>&1 || skip "gdb has no Python" "gdb"
    n=0
    for cc in "gcc -O2" "clang -O0"; do
        command -v "${cc%% *}" >/dev/null 2>&1 || continue
        n=$((n + 1))
        out=$W/test_gdb-${cc%% *}
        # -fcf-protection=full: what Ubuntu builds with; must stay warning-free
        echo "+ $cc -fcf-protection=full"
        $cc $F -fcf-protection=full -o "$out" "$SRC" -lm || die "$cc -fcf-protection=full: the build failed"
        GORT_NOSIGQUIT=1 timeout 120 "$out" >"$out.log" 2>&1 ||
            { cat "$out.log"; die "$cc: test_gdb failed when run alone (log: $out.log)"; }
        cfi_table "$out" rbx rbp r12 r13 r14 r15 ra || exit 1
        why=$(run_gdb gdb "$out" "$out.gdb.log") || { cat "$out.gdb.log"; die "$why (under gdb; log: $out.gdb.log)"; }
        echo "ok: $cc: $(sed -n 's/^@@STEPS //p' "$out.gdb.log") instructions stepped, $(grep -c '^@@BT' "$out.gdb.log") backtraces"
    done
    ;;
a64)
    command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || skip "aarch64-linux-gnu-gcc not found" "gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
    command -v qemu-aarch64 >/dev/null 2>&1 || skip "qemu-aarch64 not found" "qemu-user"
    command -v readelf >/dev/null 2>&1 || skip "readelf not found" "binutils"
    command -v gdb-multiarch >/dev/null 2>&1 || skip "gdb-multiarch not found" "gdb-multiarch"
    gdb-multiarch -nx -batch -ex 'python print(1)' >/dev/null 2>&1 || skip "gdb-multiarch has no Python" "gdb-multiarch"
    out=$W/test_gdb-aarch64
    echo "+ aarch64-linux-gnu-gcc -O2"
    aarch64-linux-gnu-gcc $F -O2 -o "$out" "$SRC" -lm || die "aarch64-linux-gnu-gcc: the build failed"
    GORT_NOSIGQUIT=1 timeout 120 qemu-aarch64 -L /usr/aarch64-linux-gnu "$out" >"$out.log" 2>&1 ||
        { cat "$out.log"; die "aarch64: test_gdb failed when run alone (log: $out.log)"; }
    cfi_table "$out" x19 x20 x21 x22 x23 x24 x25 x26 x27 x28 x29 ra v8 v9 v10 v11 v12 v13 v14 v15 || exit 1
    why=$(run_gdb gdb-multiarch "$out" "$out.gdb.log" qemu) || { cat "$out.gdb.log"; die "$why (under gdb-multiarch and qemu; log: $out.gdb.log)"; }
    echo "ok: aarch64: $(sed -n 's/^@@STEPS //p' "$out.gdb.log") instructions stepped, $(grep -c '^@@BT' "$out.gdb.log") backtraces"
    ;;
*)
    echo "usage: $0 x64|a64 [WORKDIR]" >&2; exit 2 ;;
esac
exit 0
