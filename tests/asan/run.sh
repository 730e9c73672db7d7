#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make check-asan: the unit, qtest, compat and guest suites against the
# AddressSanitizer + UndefinedBehaviorSanitizer build in build/qemu-asan
# (./configure --asan).  Each suite runs through tests/run.sh with
# NVQEMU_QEMU_BUILD/NVQEMU_QEMU pointing at that build, so the suites are the
# same as in `make check`.  Ends with one summary line "N passed, M failed".
#
# Any sanitizer report fails the run, in two ways:
#   - the process stops at the first report (ASan halt_on_error and
#     abort_on_error, UBSan halt_on_error, LeakSanitizer's exit status), so the
#     test that ran it fails;
#   - every ASan/LSan report is also written to build/asan/reports/
#     (log_path), and each file there is a "not ok" of the last check,
#     "sanitizer reports", which catches reports from processes whose exit
#     status a suite ignores (a guest QEMU stopped by a signal, a child of a
#     child); UBSan reports (gcc's libubsan ignores log_path) are found in
#     the suites' stderr logs the same way.
# Leak detection is on for the unit and qtest suites (QEMU under qtest is
# stopped with SIGTERM and exits through its normal shutdown path).  It is off
# for compat (hundreds of QEMUs refusing a command line, leaking in
# upstream's option parsing on the way out) and guest (shut down by poweroff
# or killed).  Suppressions: tests/asan/lsan.supp and tests/asan/ubsan.supp,
# upstream frames only, each entry with its reason.
#
# Environment: NVQEMU_ASAN_BUILD (default build/qemu-asan),
# NVQEMU_ASAN_OUT (reports and logs, default build/asan),
# NVQEMU_ASAN_SUITES (default "unit qtest compat guest"),
# NVQEMU_GUEST_MACHINES (default "pc" here: one machine, the guest suite
# under ASan is slow), NVQEMU_GUEST_SCENARIOS, NVQEMU_GUEST_TIMEOUT
# (default 900 s per boot here), COMPAT_TIMEOUT (default 120 s here).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/asan
bld=${NVQEMU_ASAN_BUILD:-$top/build/qemu-asan}
out=${NVQEMU_ASAN_OUT:-$(dirname "$bld")/asan}
reports=$out/reports
logs=$out/test-logs
suites=${NVQEMU_ASAN_SUITES:-unit qtest compat guest}

rm -rf "$reports" "$logs"
mkdir -p "$reports" "$logs"
export NVQEMU_QEMU_BUILD=$bld
export NVQEMU_QEMU=$bld/qemu-system-x86_64
export NVQEMU_TEST_LOGS=$logs
export NVQEMU_GUEST_LOGS=$logs/guest
export NVQEMU_GUEST_MACHINES=${NVQEMU_GUEST_MACHINES:-pc}
export NVQEMU_GUEST_TIMEOUT=${NVQEMU_GUEST_TIMEOUT:-900}
# A sanitizer QEMU starts slower; on a loaded machine the compat suite's
# 20 s per start was too short for some rows.
export COMPAT_TIMEOUT=${COMPAT_TIMEOUT:-120}

# The options of all three runtimes.  exitcode is for LeakSanitizer (the
# leak check runs at exit, after main returned).
common="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$reports/report"
# Allocation stacks are unwound the fast way (ASan's default).  The fast
# unwinder stops at the first frame without a frame pointer (glib's), so a
# leak report often shows only g_malloc: rerun the failing test with
# ASAN_OPTIONS=...:fast_unwind_on_malloc=0 to read the whole stack
# (docs/reliability.md).  The slow unwinder on every malloc made the run
# 100 to 200 times slower where QEMU allocates a lot (the NVMe namespace
# management qtest, 256 namespaces on one pool node: over 15 minutes for one
# case against 3 s), so it cannot be the default.
asan_options() {   # asan_options DETECT_LEAKS
    echo "$common:detect_leaks=$1:exitcode=66"
}
export UBSAN_OPTIONS="$common:suppressions=$here/ubsan.supp"
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0:exitcode=66"

pass=0 fail=0 skip=0
for s in $suites; do
    case $s in
        unit|qtest) leaks=1 ;;
        *) leaks=0 ;;
    esac
    echo "# asan: suite $s (detect_leaks=$leaks)"
    ASAN_OPTIONS=$(asan_options $leaks) "$top/tests/run.sh" "$s" | tee "$logs/$s.out"
    res=$(tail -n 1 "$logs/$s.out")
    read -r p f k <<< "$(sed -E 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$/\1 \2 \4/' <<< "$res")"
    if ! [[ $p =~ ^[0-9]+$ && $f =~ ^[0-9]+$ ]]; then
        echo "not ok - asan: suite $s gave no summary line ($res)"
        fail=$((fail + 1))
        continue
    fi
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + ${k:-0}))
done

# Every report file with an error in it is a failure, named by its first
# error line.  A file with nothing but ASan's warning that it "doesn't fully
# support makecontext/swapcontext" (every QEMU prints it once, when its
# first coroutine is created; QEMU's coroutine switches are annotated for
# ASan, see scripts/asan-cc) is not.
report_re='ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY:'
echo "# asan: sanitizer reports in $reports"
n=0
for r in "$reports"/report.*; do
    [ -e "$r" ] || continue
    grep -Eq "$report_re" "$r" || continue
    n=$((n + 1))
    what=$(grep -m1 -E "$report_re" "$r" | sed 's/^==[0-9]*==//')
    echo "not ok - sanitizer report $(basename "$r"): ${what:-see the file}"
    sed 's/^/#   /' "$r" | head -n 40
done
# gcc 12's libubsan ignores log_path: its reports go to the process's
# stderr, which the suites keep in the logs (tests/run.sh's SUITE.stderr for
# the unit and qtest programs and the QEMUs they start, the guest suite's
# NAME.qemu files).  Each of those reports is a failure too.
while IFS= read -r hit; do
    n=$((n + 1))
    echo "not ok - sanitizer report in ${hit#"$logs"/}"
done < <(grep -rE -m1 'runtime error:' "$logs" 2>/dev/null | cut -c1-300)
if [ $n -eq 0 ]; then
    echo "ok - sanitizer reports: none"
    pass=$((pass + 1))
fi
fail=$((fail + n))

if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
