#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# qtest suite: every nvqemu qtest binary built in the QEMU build, run against
# our qemu-system-x86_64.  TAP on stdout (see tests/run.sh).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib-tap.sh"
bld=${NVQEMU_QEMU_BUILD:-$top/build/qemu}

export QTEST_QEMU_BINARY=$bld/qemu-system-x86_64
export QTEST_QEMU_IMG=$bld/qemu-img
export NVQEMU_TOP=$top
[ -x "$QTEST_QEMU_BINARY" ] || { echo "not ok - qtest: $QTEST_QEMU_BINARY not built"; exit 1; }

shopt -s nullglob
tests=("$bld"/nvqemu/tests/qtest/nvqemu-*-test)
[ ${#tests[@]} -gt 0 ] || { echo "not ok - qtest: no test binaries in $bld/nvqemu/tests/qtest"; exit 1; }
for t in "${tests[@]}"; do
    tap_run "$(basename "$t")" 600 "$t" --tap -k
done
