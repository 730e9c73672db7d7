#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make check-valgrind: a few short qtest cases of ours with QEMU under
# valgrind memcheck (invalid reads/writes, uses of uninitialised values,
# definite leaks).  libqtest starts QTEST_QEMU_BINARY through the shell, so
# the binary is "valgrind ... qemu-system-x86_64"; QEMU is stopped with
# SIGTERM by qtest_quit and valgrind's exit status (99 on any error) fails
# the case.  QEMU under valgrind is slow (tens of seconds per QEMU start),
# so only a handful of cases run: I/O and reset on NVMe, malformed and label
# DSMs on NVDIMM.  Suppressions: tests/asan/valgrind.supp (upstream frames
# only, each with its reason).  TAP on stdout, one summary line at the end.
#
# Environment: NVQEMU_QEMU_BUILD (default build/qemu, the normal build:
# valgrind does not run ASan binaries), NVQEMU_VALGRIND_CASES ("TEST PATH"
# pairs, one per line, replacing the default list).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib-tap.sh"
bld=${NVQEMU_QEMU_BUILD:-$top/build/qemu}
logs=${NVQEMU_TEST_LOGS:-$top/build/test-logs}/valgrind
rm -rf "$logs"
mkdir -p "$logs"

command -v valgrind > /dev/null ||
    { echo "not ok - valgrind: not installed (make deps)"; echo "0 passed, 1 failed"; exit 1; }
qemu=$bld/qemu-system-x86_64
[ -x "$qemu" ] || { echo "not ok - valgrind: $qemu not built"; echo "0 passed, 1 failed"; exit 1; }

cases=${NVQEMU_VALGRIND_CASES:-"nvqemu-nvme-test /nvqemu/nvme/io-prp
nvqemu-nvme-test /nvqemu/nvme/io-sgl
nvqemu-nvme-test /nvqemu/nvme/reset-mid-io
nvqemu-nvme-test /nvqemu/nvme/queue-errors
nvqemu-nvdimm-dsm-test /x86_64/nvqemu/nvdimm/dsm/malformed
nvqemu-nvdimm-dsm-test /x86_64/nvqemu/nvdimm/dsm/label-roundtrip-persist"}

export QTEST_QEMU_BINARY="valgrind -q --error-exitcode=99 --leak-check=full \
--show-leak-kinds=definite --errors-for-leak-kinds=definite \
--suppressions=$top/tests/asan/valgrind.supp --log-file=$logs/vg.%p $qemu"
export QTEST_QEMU_IMG=$bld/qemu-img
export NVQEMU_TOP=$top

res=$(mktemp)
trap 'rm -f "$res"' EXIT
while read -r t p; do
    [ -n "$t" ] || continue
    tap_run "$t $p" 1800 "$bld/nvqemu/tests/qtest/$t" --tap -p "$p" | tee -a "$res"
done <<< "$cases"
# A valgrind log with anything in it is a failure even when the exit
# status was lost.
for f in "$logs"/vg.*; do
    [ -s "$f" ] || continue
    echo "not ok - valgrind: $(basename "$f"): $(grep -m1 -E '==[0-9]+== [A-Z]' "$f" | sed 's/^==[0-9]*== //')" |
        tee -a "$res"
done
p=$(grep -c '^ok ' "$res")
f=$(grep -c '^not ok ' "$res")
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
