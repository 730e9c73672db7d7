#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run test suites and print one summary line "N passed, M failed[, K skipped]".
#
#   tests/run.sh all | SUITE...     SUITE: scripts unit qtest compat guest libvirt fuzz
#
# Every suite is tests/SUITE/run.sh, which prints TAP result lines
# ("ok ..."/"not ok ...", "# SKIP" for skips) on stdout and its diagnostics on
# stderr.  Logs go to build/test-logs/ (or $NVQEMU_TEST_LOGS).  Exit status: 0 only when nothing
# failed.  A suite runner that exits non-zero without a "not ok" line counts
# as one failure, so a crashed runner can never look green.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
logs=${NVQEMU_TEST_LOGS:-$top/build/test-logs}
mkdir -p "$logs"

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(all)
[ "${suites[0]}" != all ] || suites=(scripts unit qtest compat guest libvirt fuzz)

pass=0 fail=0 skip=0
for s in "${suites[@]}"; do
    runner=$top/tests/$s/run.sh
    if [ ! -x "$runner" ]; then
        echo "not ok - suite $s: no runner $runner"
        fail=$((fail + 1))
        continue
    fi
    echo "# suite $s"
    start=$(date +%s)
    "$runner" 2> "$logs/$s.stderr" | tee "$logs/$s.tap"
    rc=${PIPESTATUS[0]}
    p=$(grep -Ec '^ok ' "$logs/$s.tap")
    k=$(grep -Eic '^ok .*# skip' "$logs/$s.tap")
    f=$(grep -Ec '^not ok ' "$logs/$s.tap")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - suite $s: runner exited $rc (see $logs/$s.stderr)"
        f=1
    fi
    if [ "$f" -gt 0 ]; then
        echo "# suite $s: last lines of $logs/$s.stderr:"
        tail -n 25 "$logs/$s.stderr" | sed 's/^/#   /'
    fi
    echo "# suite $s: $((p - k)) passed, $f failed, $k skipped in $(( $(date +%s) - start ))s"
    pass=$((pass + p - k)); fail=$((fail + f)); skip=$((skip + k))
done

# The failures again, each with the TAP diagnostics under it, next to the
# summary (a CI log may keep only its first and last lines)
if [ "$fail" -gt 0 ]; then
    echo "# failures:"
    for s in "${suites[@]}"; do
        [ -f "$logs/$s.tap" ] || continue
        awk '/^not ok /{on=1; print; next} /^#/{if (on) print; next} {on=0}' "$logs/$s.tap"
    done
fi
if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
