#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# unit suite: the pure-C unit tests (tests/unit/meson.build), built in the
# QEMU build under nvqemu/tests/unit (no QEMU process).  TAP on stdout (see tests/run.sh).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib-tap.sh"
bld=${NVQEMU_QEMU_BUILD:-$top/build/qemu}/nvqemu

shopt -s nullglob
tests=("$bld"/tests/unit/test-*)
if [ ${#tests[@]} -eq 0 ]; then
    echo "# unit: no unit tests are built yet" >&2
    exit 0
fi
for t in "${tests[@]}"; do
    # skip meson's object directories (test-*.p)
    if [ -f "$t" ] && [ -x "$t" ]; then
        tap_run "$(basename "$t")" 120 "$t" --tap
    fi
done
