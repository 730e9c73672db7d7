#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# unit suite: the pure-C unit tests declared in tests/unit/meson.build, built
# in the QEMU build under nvqemu/tests/unit (no QEMU process).  Each declared
# test must be there: a missing binary is a "not ok", never a skip.  TAP on
# stdout (see tests/run.sh).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib-tap.sh"
bld=${NVQEMU_QEMU_BUILD:-$top/build/qemu}/nvqemu/tests/unit

mapfile -t tests < <(declared_tests "$top/tests/unit/meson.build" nvqemu_unit_tests)
[ ${#tests[@]} -gt 0 ] ||
    { echo "not ok - unit: no tests declared in tests/unit/meson.build"; exit 1; }
for t in "${tests[@]}"; do
    if [ -f "$bld/$t" ] && [ -x "$bld/$t" ]; then
        tap_run "$t" 120 "$bld/$t" --tap
    else
        echo "not ok - $t: not built ($bld/$t missing; run make build)"
    fi
done
