# SPDX-License-Identifier: GPL-2.0-or-later
#
# Shared by the suite runners: run one TAP-speaking test program and re-emit
# its result lines, prefixed with the program's name.  A program that dies
# (signal, non-zero exit, or fewer results than its plan) adds a "not ok".
#
#   tap_run NAME TIMEOUT_S CMD...
tap_run() {
    local name=$1 tmo=$2 out rc planned got
    shift 2
    out=$(mktemp)
    # stderr is inherited: reopening /dev/stderr fails for a user whose
    # terminal belongs to root (su)
    timeout --kill-after=10 "$tmo" "$@" > "$out"
    rc=$?
    sed -n -E "s/^(not ok|ok) [0-9]+ ?-? ?/\1 - $(sed_escape "$name"): /p" "$out"
    planned=$(sed -n -E 's/^1\.\.([0-9]+).*/\1/p' "$out" | tail -n 1)
    got=$(grep -Ec '^(not )?ok ' "$out")
    if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$out"; then
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            echo "not ok - $name: timed out after ${tmo}s"
        else
            echo "not ok - $name: exited with status $rc"
        fi
    elif [ -n "$planned" ] && [ "$got" -lt "$planned" ]; then
        echo "not ok - $name: ran $got of $planned planned tests"
    elif [ "$got" -eq 0 ]; then
        echo "not ok - $name: reported no test result"
    fi
    { echo "=== $name (exit $rc)"; cat "$out"; } >&2
    rm -f "$out"
}

# The test names a meson.build declares in its dictionary DICT
# ("DICT = {" ... "}", one "'name': [...]," entry per line), one per line.
# The runners run this list, not what happens to be in the build directory,
# so a test that was not built is a failure rather than a silent pass.
#
#   declared_tests MESON_BUILD DICT
declared_tests() {
    sed -n "/^$2 = {/,/^}/p" "$1" | sed -n -E "s/^ *'([^']+)' *:.*/\1/p"
}

# STRING made safe as the replacement of a sed s/// command.
sed_escape() {
    printf '%s' "$1" | sed 's/[\/&]/\\&/g'
}
