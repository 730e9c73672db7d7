#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# qtest suite, against our qemu-system-x86_64:
#   - every nvqemu qtest declared in tests/qtest/meson.build (a declared test
#     that was not built is a "not ok");
#   - upstream's qos tests that run through the "nvme" node (upstream's
#     tests/qtest/nvme-test.c, and generic tests on the pci-device it
#     produces), one qos-test run per path; those listed in
#     qos-nvme-xfail.txt must fail, and are reported as skipped.
# TAP on stdout (see tests/run.sh).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib-tap.sh"
bld=${NVQEMU_QEMU_BUILD:-$top/build/qemu}

export QTEST_QEMU_BINARY=$bld/qemu-system-x86_64
export QTEST_QEMU_IMG=$bld/qemu-img
export NVQEMU_TOP=$top
[ -x "$QTEST_QEMU_BINARY" ] || { echo "not ok - qtest: $QTEST_QEMU_BINARY not built"; exit 1; }

mapfile -t tests < <(declared_tests "$top/tests/qtest/meson.build" nvqemu_qtests)
[ ${#tests[@]} -gt 0 ] ||
    { echo "not ok - qtest: no tests declared in tests/qtest/meson.build"; exit 1; }
for t in "${tests[@]}"; do
    exe=$bld/nvqemu/tests/qtest/$t
    if [ -f "$exe" ] && [ -x "$exe" ]; then
        tap_run "$t" 600 "$exe" --tap -k
    else
        echo "not ok - $t: not built ($exe missing; run make build)"
    fi
done

# --- upstream qos tests on the nvme node
qos=$bld/tests/qtest/qos-test
xfail_list=$top/tests/qtest/qos-nvme-xfail.txt
if [ ! -x "$qos" ]; then
    echo "not ok - qos-test: not built ($qos missing; run make build)"
    exit 0
fi
# name -> "feature" and -> the property whose absence makes it fail
declare -A xfail=() xprop=()
while read -r name feature prop _; do
    xfail[$name]=$feature
    xprop[$name]=$prop
done < <(grep -Ev '^[[:space:]]*(#|$)' "$xfail_list")

mapfile -t paths < <(timeout 60 "$qos" -l 2>/dev/null | grep -E '^/.*/nvme/')
if [ ${#paths[@]} -eq 0 ]; then
    echo "not ok - qos-test: lists no path through the nvme node (is nvme-test.c built in?)"
    exit 0
fi
for name in "${!xfail[@]}"; do
    printf '%s\n' "${paths[@]}" | grep -q "/$name\$" ||
        echo "not ok - qos-test: $name (qos-nvme-xfail.txt) is not among its nvme paths"
done
for p in "${paths[@]}"; do
    name=${p##*/}
    if [ -z "${xfail[$name]:-}" ]; then
        tap_run qos-test 120 "$qos" --tap -p "$p"
        continue
    fi
    # An expected failure: it must still fail, for the listed reason.
    out=$(timeout --kill-after=10 120 "$qos" --tap -p "$p" 2>&1)
    rc=$?
    { echo "=== qos-test $p (expected failure, exit $rc)"; echo "$out"; } >&2
    why="Property 'nvme.${xprop[$name]}' not found"
    if [ $rc -eq 0 ] && grep -q '^ok ' <<< "$out" && ! grep -q '^not ok ' <<< "$out"; then
        echo "not ok - qos-test: $p: unexpectedly passed (remove $name from tests/qtest/qos-nvme-xfail.txt)"
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        echo "not ok - qos-test: $p: timed out (an expected failure must fail, not hang)"
    elif ! grep -qF "$why" <<< "$out"; then
        echo "not ok - qos-test: $p: failed, but not with \"$why\" (exit $rc; see the qtest log)"
    else
        echo "ok - qos-test: $p # SKIP expected failure until ${xfail[$name]}: $name"
    fi
done
