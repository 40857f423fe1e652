#!/usr/bin/env bash
# tests/check_docs.sh - gort.h's table of contents and the hello example
# agree with the file and with examples/hello.c (the `docs` check of
# tests/checks.sh; runs on its own too).
#
#   bash tests/check_docs.sh [GORT_H [README [HELLO_C]]]
#
# Defaults: gort.h, README.md and examples/hello.c of this checkout. Prints
# one line per problem and exits 1, or prints "docs: ok" and exits 0.
#
# (a) The table of contents. Its entries are the lines of gort.h's opening
#     comment after the line "TABLE OF CONTENTS" up to the first blank line,
#     each of the form `    >>name  description` (the description may be
#     empty). A section is marked in one of two ways:
#       - a marker line, `/* ---...--- >>name` or `/* ===...=== >>name`
#         (the dashes or equals signs, then `>>name`, then the end of the
#         line or a space or `*/`), anywhere in the file;
#       - a heading in the opening doc block: a line that begins with
#         `>>name ` in column 0 (>>config, >>api, >>design are written so).
#     Each name must be marked at most once of each kind. A name's place
#     is its first mark (heading or marker). The check fails when
#       - a TOC entry has no mark ("listed in the TOC but not in the file"),
#       - a mark's name is not in the TOC ("in the file but not in the TOC"),
#       - the marks, by place, are not in the TOC's order (it names the
#         first entry that comes out of order and where it stands),
#       - a name is listed twice, or marked twice the same way.
#     `>>name` inside running text (">>stack says why") is not a mark.
#
# (b) The examples. The text compared:
#       - examples/hello.c: the whole file;
#       - README: the first ```c fenced block after the first line that
#         mentions `examples/hello.c`, without the fences;
#       - gort.h: the lines after the line that starts with
#         "EXAMPLE (examples/hello.c)" up to the next line that starts in
#         column 0 with something other than a blank, less the indentation
#         that all of its non-blank lines share.
#     Normalised before comparing: trailing blanks removed from each line,
#     blank lines at the start and the end dropped. Anything else (a
#     changed character, indentation inside the code, a blank line inside)
#     is a difference, shown as a diff.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GORT_H=${1:-$here/gort.h}
README=${2:-$here/README.md}
HELLO=${3:-$here/examples/hello.c}

fail=0
problem() { echo "docs: $*"; fail=1; }

for f in "$GORT_H" "$README" "$HELLO"; do
    [ -r "$f" ] || { echo "docs: cannot read $f"; exit 1; }
done

# ------------------------------------------------------------ (a) the TOC

# the TOC's names, in order
toc=$(awk '
    /^TABLE OF CONTENTS/ { on = 1; next }
    on && /^[[:space:]]*$/ { exit }
    on && /^[[:space:]]+>>[A-Za-z0-9_.-]+/ {
        s = $0; sub(/^[[:space:]]+>>/, "", s); sub(/[[:space:]].*/, "", s); print s; next }
    on { printf "BAD %d %s\n", NR, $0 }
' "$GORT_H")

if [ -z "$toc" ]; then
    problem "no TABLE OF CONTENTS in $GORT_H (a line 'TABLE OF CONTENTS', then lines '    >>name  description')"
fi
while read -r w n rest; do
    [ "$w" = BAD ] && problem "TOC line $n is not '    >>name  description': $rest"
done < <(printf '%s\n' "$toc" | grep '^BAD ')
toc=$(printf '%s\n' "$toc" | grep -v '^BAD ')

# the marks: "LINE KIND NAME", in file order (KIND: marker or heading)
marks=$(awk '
    /^\/\* *(---+|===+) *>>[A-Za-z0-9_.-]+([[:space:]]|\*\/|$)/ {
        s = $0; sub(/^[^>]*>>/, "", s); sub(/([[:space:]]|\*\/).*$/, "", s)
        print NR, "marker", s; next }
    NR > 1 && !closed && /^>>[A-Za-z0-9_.-]+([[:space:]]|$)/ {
        s = $0; sub(/^>>/, "", s); sub(/[[:space:]].*$/, "", s)
        print NR, "heading", s }
    /\*\// && !closed { closed = 1 }
' "$GORT_H")

# duplicates in the TOC, and marks made twice the same way
for d in $(printf '%s\n' "$toc" | sort | uniq -d); do
    problem "'>>$d' is listed more than once in the TOC"
done
while read -r kind name; do
    [ -n "$name" ] || continue
    problem "'>>$name' has more than one $kind (lines $(printf '%s\n' "$marks" |
        awk -v k="$kind" -v n="$name" '$2 == k && $3 == n { printf "%s%s", sep, $1; sep = ", " }'))"
done < <(printf '%s\n' "$marks" | awk 'NF == 3 { print $2, $3 }' | sort | uniq -d)

# every TOC entry is marked; every mark is in the TOC
for name in $toc; do
    printf '%s\n' "$marks" | awk -v n="$name" '$3 == n { f = 1 } END { exit !f }' ||
        problem "'>>$name' is listed in the TOC but not in the file (no '/* ---- >>$name' marker, no '>>$name' heading)"
done
while read -r line kind name; do
    [ -n "${name:-}" ] || continue
    printf '%s\n' "$toc" | grep -qxF -- "$name" ||
        problem "'>>$name' ($kind, line $line) is in the file but not in the TOC"
done <<<"$marks"

# order: each name's first mark, in file order, against the TOC's order
# (names missing on either side were reported above and are left out here)
order=$(printf '%s\n' "$marks" | awk 'NF == 3 && !seen[$3]++ { print $3 }' |
        grep -xF -f <(printf '%s\n' "$toc"))
want=$(printf '%s\n' "$toc" | grep -xF -f <(printf '%s\n' "$order"))
if [ "$order" != "$want" ]; then
    # the first place where they differ
    i=0
    while read -r a <&3 && read -r b <&4; do
        i=$((i + 1))
        if [ "$a" != "$b" ]; then
            line=$(printf '%s\n' "$marks" | awk -v n="$a" '$3 == n { print $1; exit }')
            problem "sections out of the TOC's order: section $i of the file is '>>$a' (line $line), the TOC has '>>$b' there (file order: $(echo $order | sed 's/ / > /g'))"
            break
        fi
    done 3<<<"$order" 4<<<"$want"
fi

# ------------------------------------------------------ (b) the examples

norm() {   # trailing blanks off, blank lines at the start and the end off
    sed 's/[[:space:]]*$//' | awk '
        NF { for (i = 0; i < nb; i++) print ""; nb = 0; started = 1; print; next }
        started { nb++ }'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

norm <"$HELLO" >"$tmp/hello"

awk '
    !found && index($0, "examples/hello.c") { found = 1; next }
    found && !in_ && /^```c[[:space:]]*$/ { in_ = 1; next }
    in_ && /^```/ { exit }
    in_ { print }
' "$README" | norm >"$tmp/readme"
if [ ! -s "$tmp/readme" ]; then
    problem "no example in $README (a \`\`\`c block after a line that mentions examples/hello.c)"
elif ! diff -u --label "examples/hello.c" --label "README example" "$tmp/hello" "$tmp/readme" >"$tmp/d1"; then
    problem "the README's example differs from examples/hello.c:"
    sed 's/^/    /' "$tmp/d1"
fi

awk '
    /^EXAMPLE \(examples\/hello\.c\)/ { on = 1; next }
    on && /^[^[:space:]]/ { exit }
    on { print }
' "$GORT_H" | awk '
    { l[NR] = $0 }
    NF { match($0, /^ */); if (min == "" || RLENGTH < min) min = RLENGTH }
    END { for (i = 1; i <= NR; i++) print substr(l[i], min + 1) }
' | norm >"$tmp/gorth"
if [ ! -s "$tmp/gorth" ]; then
    problem "no example in $GORT_H (a line 'EXAMPLE (examples/hello.c)', then the code indented)"
elif ! diff -u --label "examples/hello.c" --label "gort.h example" "$tmp/hello" "$tmp/gorth" >"$tmp/d2"; then
    problem "gort.h's example differs from examples/hello.c:"
    sed 's/^/    /' "$tmp/d2"
fi

[ $fail = 0 ] && echo "docs: ok"
exit $fail
