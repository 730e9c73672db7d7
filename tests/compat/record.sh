#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Re-record the compat suite's expectations from stock QEMU built from the
# same source (make vanilla; `make compat-record` runs this):
#   expected/machines.txt    its versioned pc-i440fx-*/pc-q35-* machine types
#   expected/properties.txt  "device property type" of nvme, nvme-ns, nvdimm
#   expected/outcomes.txt    "row-id<TAB>outcome" of every row (lib.sh)
#
# usage: record.sh [STOCK_QEMU]   (default build/vanilla/qemu/qemu-system-x86_64)
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/compat/lib.sh"
stock=${1:-$top/build/vanilla/qemu/qemu-system-x86_64}
[ -x "$stock" ] || { echo "record: $stock not built (make vanilla)" >&2; exit 1; }
mkdir -p "$compat_expected"

fail() { echo "record: $*" >&2; exit 1; }

"$stock" -machine help | awk '{print $1}' | grep -E '^pc-(i440fx|q35)-[0-9]' |
    sort -V > "$compat_expected/machines.txt" || fail "$stock -machine help failed"

for d in "${COMPAT_DEVICES[@]}"; do
    # "  name=<type>  - description" -> "device name type"
    "$stock" -nodefaults -device "$d,help" |
        sed -n -E "s/^ +([^= ]+)=<(.+)>( .*)?$/$d \1 \2/p" | sort
done > "$compat_expected/properties.txt" || fail "$stock -device DEVICE,help failed"

compat_rows | COMPAT_JOBS=${COMPAT_JOBS:-2} compat_run_rows "$stock" \
    > "$compat_expected/outcomes.txt"
if grep -Ev $'\t(start|refuse\t.*)$' "$compat_expected/outcomes.txt" >&2; then
    fail "stock crashed or hung on the rows above"
fi
echo "record: $(wc -l < "$compat_expected/machines.txt") machine types," \
     "$(wc -l < "$compat_expected/properties.txt") properties," \
     "$(wc -l < "$compat_expected/outcomes.txt") rows from $stock" >&2
