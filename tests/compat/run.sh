#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# compat suite: each row of the compatibility table (tests/compat/lib.sh) is
# run against our qemu-system-x86_64 and its start/refuse outcome compared
# with the one recorded from stock QEMU built from the same source
# (expected/outcomes.txt, written by `make compat-record`).  A refused
# property row must also name the property in our error (or give stock's
# error word for word).  Rows whose
# property is in skip.txt are reported as skipped (with the reason there).
# Also checked: props.txt has a row for exactly the properties stock lists
# (expected/properties.txt), and each of them that ours has is of stock's
# type.  TAP on stdout (see tests/run.sh).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/compat/lib.sh"
qemu=${NVQEMU_QEMU:-${NVQEMU_QEMU_BUILD:-$top/build/qemu}/qemu-system-x86_64}
[ -x "$qemu" ] || { echo "not ok - compat: $qemu not built"; exit 1; }
for f in machines.txt properties.txt outcomes.txt; do
    [ -s "$compat_expected/$f" ] ||
        { echo "not ok - compat: no expected/$f (make compat-record)"; exit 1; }
done

# An outcome in words: "starts", "refuses: MSG", "crashes: STATUS MSG".
describe() {
    case $1 in
        start) echo starts ;;
        refuse*) echo "refuses: ${1#*$'\t'}" ;;
        crash*) echo "crashes: ${1#*$'\t'}" ;;
        timeout) echo "does not quit (timeout)" ;;
        *) echo "gives no outcome" ;;
    esac
}

n=0
emit() { n=$((n + 1)); echo "$1 $n - $2"; }
# The command line and both outcomes of a failed row, on stderr.
explain() {
    { echo "row $n: $1"; echo "  args:  $2"; echo "  stock: $3"; echo "  ours:  $4"; } >&2
}

# The table covers every property stock has, and no other.
declare -A in_table=()
while read -r d p _; do in_table[$d.$p]=1; done < <(compat_table "$compat_dir/props.txt")
declare -A in_stock=()
while read -r d p _; do
    in_stock[$d.$p]=1
    [ -n "${in_table[$d.$p]:-}" ] ||
        emit "not ok" "compat: stock property $d.$p has no row in tests/compat/props.txt"
done < "$compat_expected/properties.txt"
for dp in "${!in_table[@]}"; do
    [ -n "${in_stock[$dp]:-}" ] ||
        emit "not ok" "compat: tests/compat/props.txt row $dp is not a stock property"
done

# property -> reason, for the rows that differ from stock until a later
# issue (8 or 10) implements the property
declare -A skip=()
while read -r p reason; do skip[$p]=$reason; done < <(compat_table "$compat_dir/skip.txt")

# row ID -> reason, for the rows ours refuses on purpose (differs.txt)
declare -A differs=()
while IFS='|' read -r id reason; do
    id=${id%"${id##*[![:space:]]}"}
    differs[$id]=${reason# }
done < <(grep -Ev '^[[:space:]]*(#|$)' "$compat_dir/differs.txt")

# Every stock property ours has must have stock's QOM type: -device help
# and device-list-properties show it, and management tools read it.
# (Skipped properties are absent until their issue lands.)
if [[ types =~ ${COMPAT_ONLY:-.} ]]; then
    declare -A our_type=()
    while read -r d p t; do
        [ -n "$d" ] && our_type[$d.$p]=$t
    done < <(for d in "${COMPAT_DEVICES[@]}"; do
                 "$qemu" -nodefaults -device "$d,help" 2>/dev/null |
                     sed -n -E "s/^ +([^= ]+)=<(.+)>( .*)?$/$d \1 \2/p"
             done)
    bad=0
    while read -r d p t; do
        [ -z "${skip[$d.$p]:-}" ] || continue
        if [ -z "${our_type[$d.$p]:-}" ]; then
            emit "not ok" "types: stock property $d.$p ($t) is missing from ours"
            bad=1
        elif [ "${our_type[$d.$p]}" != "$t" ]; then
            emit "not ok" "types: $d.$p is of type ${our_type[$d.$p]}, stock's is $t"
            bad=1
        fi
    done < "$compat_expected/properties.txt"
    [ $bad = 1 ] || emit ok "types: every stock property ours has has stock's type"
fi

declare -A expect=()
while IFS=$'\t' read -r id outcome; do expect[$id]=$outcome; done < "$compat_expected/outcomes.txt"

# Run every row that is not skipped (COMPAT_ONLY=REGEX: the rows whose ID
# matches it).
rows=$(compat_rows | awk -F'\t' -v re="${COMPAT_ONLY:-.}" '$1 ~ re')
declare -A ours=()
while IFS=$'\t' read -r id outcome; do
    ours[$id]=$outcome
done < <(while IFS=$'\t' read -r id mopt args; do
             p=$(compat_row_property "$id")
             [ -n "$p" ] && [ -n "${skip[$p]:-}" ] && continue
             printf '%s\t%s\t%s\n' "$id" "$mopt" "$args"
         done <<< "$rows" | compat_run_rows "$qemu")

echo "# compat: $qemu against stock outcomes in tests/compat/expected/outcomes.txt" >&2
while IFS=$'\t' read -r id mopt args; do
    [ -n "$id" ] || continue
    p=$(compat_row_property "$id")
    if [ -n "$p" ] && [ -n "${skip[$p]:-}" ]; then
        emit ok "$id # SKIP differs from stock until a later issue: $p (${skip[$p]})"
        continue
    fi
    want=${expect[$id]:-}
    got=${ours[$id]:-}
    if [ -z "$want" ]; then
        emit "not ok" "$id: no recorded stock outcome (make compat-record)"
        continue
    fi
    if [ -n "${differs[$id]:-}" ]; then
        p=${p:-$(sed -E 's/.* ([^ =]+)=[^ ]*$/\1/' <<< "$id")}
        if [[ $want == start && $got == refuse* && ${got#refuse$'\t'} == *"${p#*.}"* ]]; then
            emit ok "$id (differs on purpose: ${differs[$id]})"
        else
            emit "not ok" "$id: listed in differs.txt, but stock $(describe "$want"); ours $(describe "$got")"
            explain "$id" "$mopt $args" "$want" "$got"
        fi
        continue
    fi
    case $want:$got in
        start:start)
            emit ok "$id" ;;
        refuse*:refuse*)
            msg=${got#refuse$'\t'}
            prop=${p#*.}
            if [ -n "$p" ] && [[ $msg != *"$prop"* ]] && [ "$got" != "$want" ]; then
                emit "not ok" "$id: refused, but our error does not name '$prop': $msg"
                explain "$id" "$mopt $args" "$want" "$got"
            else
                emit ok "$id"
            fi ;;
        *)
            emit "not ok" "$id: stock $(describe "$want"); ours $(describe "$got")"
            explain "$id" "$mopt $args" "$want" "$got" ;;
    esac
done <<< "$rows"
echo "1..$n"
