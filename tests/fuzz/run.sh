#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fuzz suite: a smoke of make fuzz.  Builds qemu-fuzz-x86_64 when needed
# (scripts/fuzz.sh build: mostly ccache hits after the first build on a
# machine), then runs every target of tests/fuzz/targets for its fixed number
# of executions (-runs, not a time limit) from the seed corpus, with ASan and
# UBSan.  One TAP line per target: "not ok" on a crash, hang, leak or
# sanitizer report, with the input kept in build/fuzz/smoke-crashes/.
# TAP on stdout (see tests/run.sh).
#
# NVQEMU_FUZZ_SMOKE_SCALE=K multiplies the runs (default 1);
# NVQEMU_FUZZ_BIN=FILE runs FILE instead of building.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/fuzz
bin=$out/qemu/qemu-fuzz-x86_64
scale=${NVQEMU_FUZZ_SMOKE_SCALE:-1}

# NVQEMU_FUZZ_BIN: run this binary instead of building (the scripts suite)
if [ -n "${NVQEMU_FUZZ_BIN:-}" ]; then
    bin=$NVQEMU_FUZZ_BIN
else
    start=$(date +%s)
    if ! "$top/scripts/fuzz.sh" build; then
        echo "not ok - fuzz: building qemu-fuzz-x86_64 failed (see stderr)"
        exit 1
    fi
    echo "# fuzz: build (or check) of qemu-fuzz-x86_64 took $(( $(date +%s) - start ))s"
fi

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$top/build/src/scripts/oss-fuzz/lsan_suppressions.txt

# The libFuzzer arguments make fuzz uses, and a fixed seed
fuzz_args() {
    "$top/scripts/fuzz.sh" args "$1" && echo -seed=1
}

while read -r t dev runs; do
    runs=$((runs * scale))
    corpus=$(mktemp -d)
    crashes=$out/smoke-crashes/$t
    rm -rf "$crashes"; mkdir -p "$crashes"
    mapfile -t args < <(fuzz_args "$t")
    seeds=()
    [ -d "$top/tests/fuzz/corpus/$t" ] && seeds=("$top/tests/fuzz/corpus/$t")
    flog=$(mktemp)
    s=$(date +%s)
    timeout --kill-after=10 1200 "$bin" "${args[@]}" -runs="$runs" \
        -artifact_prefix="$crashes/" "$corpus" "${seeds[@]}" > "$flog" 2>&1
    rc=$?
    secs=$(( $(date +%s) - s ))
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$flog" | tail -n1)
    reports=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$flog")
    { echo "=== $t (exit $rc)"; tail -n 40 "$flog"; } >&2
    if [ "$rc" -eq 0 ] && [ "$reports" -eq 0 ]; then
        echo "ok - fuzz: $t ($dev): $runs runs in ${secs}s, ${cov:-no coverage line}"
        rm -rf "$crashes"
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "not ok - fuzz: $t ($dev): did not finish $runs runs in 1200s"
    else
        echo "not ok - fuzz: $t ($dev): exit $rc, $reports sanitizer/libFuzzer reports; inputs in $crashes (scripts/fuzz.sh repro $t FILE)"
    fi
    rm -rf "$corpus" "$flog"
done < <(grep -Ev '^[[:space:]]*(#|$)' "$top/tests/fuzz/targets")
