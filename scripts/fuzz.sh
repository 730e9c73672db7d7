#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# nvqemu fuzzing (make fuzz): QEMU's libFuzzer build with ASan and UBSan
# (configure --fuzz, build/fuzz/qemu/qemu-fuzz-x86_64) on the targets of
# tests/fuzz/targets.
#
#   scripts/fuzz.sh build
#   scripts/fuzz.sh run [--time=SECONDS] [--runs=N] [--jobs=J] [TARGET...]
#   scripts/fuzz.sh report
#   scripts/fuzz.sh repro TARGET FILE
#   scripts/fuzz.sh args TARGET
#
# build   configure (idempotent) and build qemu-fuzz-x86_64
# run     fuzz each TARGET (default: all) for SECONDS (default 600) or N
#         executions, J targets at a time (default 1), each on one core
#         (nice 10); the corpus
#         grows in build/fuzz/corpus/TARGET (seeded from
#         tests/fuzz/corpus/TARGET), findings land in build/fuzz/crashes/TARGET,
#         each run adds a line to build/fuzz/campaign.tsv.  Exit 1 on any
#         crash, hang (an input taking more than 10 s), leak or sanitizer report;
#         a run stopped on purpose (SIGINT/SIGTERM: libFuzzer exits 72) is
#         not one, and its executions count.
# report  executions, exec/s and coverage per target and per device, summed
#         over build/fuzz/campaign.tsv
# repro   run one input again with the qtest trace on stderr (QTEST_LOG), the
#         starting point of a reproducer (docs/building.md)
# args    the libFuzzer arguments of TARGET, one a line (the smoke,
#         tests/fuzz/run.sh, runs with them and a fixed seed)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# NVQEMU_FUZZ_OUT, NVQEMU_FUZZ_BIN: another output directory and fuzzer
# binary (the scripts suite runs a stub)
out=${NVQEMU_FUZZ_OUT:-$top/build/fuzz}
bin=${NVQEMU_FUZZ_BIN:-$top/build/fuzz/qemu/qemu-fuzz-x86_64}
ledger=$out/campaign.tsv
log() { printf 'fuzz: %s\n' "$*" >&2; }

export CCACHE_DIR=${CCACHE_DIR:-${NVQEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nvqemu}/ccache}
export CCACHE_BASEDIR=$top/build CCACHE_NOHASHDIR=1

# Sanitizer settings: every report is fatal (UBSan recovers by default),
# leaks of QEMU's own start-up are suppressed as OSS-Fuzz does.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export LSAN_OPTIONS=suppressions=$top/build/src/scripts/oss-fuzz/lsan_suppressions.txt

# "target device smoke" lines of tests/fuzz/targets
targets() { grep -Ev '^[[:space:]]*(#|$)' "$top/tests/fuzz/targets"; }
device_of() { targets | awk -v t="$1" '$1 == t { print $2 }'; }

do_build() {
    # configure checks the dependencies (clang, libFuzzer) like make does
    "$top/configure" --fuzz >&2 || return 1
    "$top/scripts/link-overlay.sh" "$top" "$top/build/src" >/dev/null
    nice -n 10 ninja -C "$top/build/fuzz/qemu" -j"${JOBS:-2}" qemu-fuzz-x86_64 >&2 &&
        "$top/scripts/link-firmware.sh" "$top/build/fuzz/qemu"
}

# The libFuzzer arguments of run, repro, args and so the smoke:
# a 10 s hang limit, ASan's RSS, the dictionary.  generic-fuzz runs each
# input in a fork()ed child that leaves with _Exit(), so libFuzzer's
# per-input leak check only ever scans the parent, whose heap (QEMU with
# its machine, hundreds of MB) it walks after every input that allocated
# more than it freed: 15 times slower (37 against 551 exec/s on nvme), for
# no device code checked.  It stays on for the structured targets, which
# run in-process and reset the machine.
# NVQEMU_FUZZ_HANG: the hang limit in seconds (default 10).  libFuzzer's is
# wall-clock time: a campaign at a low priority beside other work can be
# starved past 10 s, and two such runs once both reported a "timeout" in
# the same second on inputs that replay in 20 ms; raise it for background
# campaigns (make fuzz FUZZ_HANG=60).
# NVQEMU_FUZZ_MAX_LEN: libFuzzer's -max_len (default: libFuzzer's own,
# which lets inputs grow with the corpus: on nvqemu-nvme-cmd-tick from 1 to
# 2 KiB over two hours, exec/s falling from ~700 to ~390 per core).
fuzz_args() {
    local t=$1 dict=$top/tests/fuzz/dict/$1.dict
    printf '%s\n' --fuzz-target="$t" -timeout="${NVQEMU_FUZZ_HANG:-10}" -rss_limit_mb=4096 \
        -print_final_stats=1
    [ -z "${NVQEMU_FUZZ_MAX_LEN:-}" ] || printf '%s\n' -max_len="$NVQEMU_FUZZ_MAX_LEN"
    case $t in generic-fuzz-*) printf '%s\n' -detect_leaks=0 ;; esac
    [ -f "$dict" ] && printf '%s\n' -dict="$dict"
    return 0
}

# One libFuzzer run: TARGET LIMIT_ARG LOG; prints its ledger line.
run_one() {
    local t=$1 limit=$2 flog=$3 corpus=$out/corpus/$1 seeds=$top/tests/fuzz/corpus/$1
    local crashes=$out/crashes/$1 rc execs eps cov ft found args
    mkdir -p "$corpus" "$crashes"
    mapfile -t args < <(fuzz_args "$t")
    local dirs=("$corpus")
    [ -d "$seeds" ] && dirs+=("$seeds")
    nice -n 10 "$bin" "${args[@]}" "$limit" -artifact_prefix="$crashes/" \
        "${dirs[@]}" > "$flog" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$flog" | tail -n1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$flog" | tail -n1)
    cov=$(grep -oE 'cov: [0-9]+' "$flog" | tail -n1 | cut -d' ' -f2)
    ft=$(grep -oE 'ft: [0-9]+' "$flog" | tail -n1 | cut -d' ' -f2)
    found=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$flog")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" \
        "$(device_of "$t")" "${execs:-0}" "${eps:-0}" "${cov:-0}" "${ft:-0}" \
        "$found" "$rc"
}

# libFuzzer's exit status when interrupted (-handle_int, -handle_term):
# the run was stopped, nothing was found
LIBFUZZER_INTERRUPTED=72

# One target of a campaign: run it, add its ledger line, say how it went;
# exit status 1 on a finding
run_target() {
    local t=$1 limit=$2 line
    log "$t: $limit"
    line=$(run_one "$t" "$limit" "$out/logs/$t.$(date -u +%Y%m%dT%H%M%S).$$.log")
    echo "$line" >> "$ledger"
    echo "$line" | awk -F'\t' '{ printf "fuzz: %s: %s execs, %s exec/s, cov %s ft %s, %s reports, exit %s\n", $2, $4, $5, $6, $7, $8, $9 }' >&2
    echo "$line" | awk -F'\t' -v stop=$LIBFUZZER_INTERRUPTED \
        '$8 != 0 || ($9 != 0 && $9 != stop) { exit 1 }' || {
        log "$t: FINDING, see $out/crashes/$t and $out/logs"
        return 1
    }
}

do_run() {
    local limit=-max_total_time=600 t fail=0 sel=() jobs=1 running=0
    for a in "$@"; do
        case $a in
            --time=*) limit=-max_total_time=${a#*=} ;;
            --runs=*) limit=-runs=${a#*=} ;;
            --jobs=*) jobs=${a#*=}
                      [[ $jobs =~ ^[1-9][0-9]*$ ]] || { log "bad $a"; return 2; } ;;
            -*) log "unknown option $a"; return 2 ;;
            *) sel+=("$a") ;;
        esac
    done
    [ ${#sel[@]} -gt 0 ] || mapfile -t sel < <(targets | awk '{ print $1 }')
    [ -x "$bin" ] || { log "$bin is not built (scripts/fuzz.sh build)"; return 1; }
    mkdir -p "$out/logs"
    [ -f "$ledger" ] || printf 'date\ttarget\tdevice\texecs\texec_s\tcov\tft\treports\texit\n' > "$ledger"
    for t in "${sel[@]}"; do
        [ -n "$(device_of "$t")" ] || { log "unknown target $t (tests/fuzz/targets)"; return 2; }
    done
    for t in "${sel[@]}"; do
        if [ $running -ge "$jobs" ]; then
            wait -n || fail=1
            running=$((running - 1))
        fi
        run_target "$t" "$limit" &
        running=$((running + 1))
    done
    while [ $running -gt 0 ]; do
        wait -n || fail=1
        running=$((running - 1))
    done
    return $fail
}

do_report() {
    [ -f "$ledger" ] || { log "no campaign yet ($ledger)"; return 1; }
    awk -F'\t' -v stop=$LIBFUZZER_INTERRUPTED 'NR > 1 {
            n[$2] += $4; dev[$2] = $3; d[$3] += $4
            rep[$2] += $8 + ($9 != 0 && $9 != stop)
            if ($6 > cov[$2]) cov[$2] = $6
            if ($7 > ft[$2]) ft[$2] = $7
            if ($4 > 0) { t[$2] += $4 / ($5 > 0 ? $5 : 1) }
        }
        END {
            printf "%-34s %-7s %12s %8s %6s %6s %7s\n", "target", "device", "execs", "exec/s", "cov", "ft", "reports"
            for (k in n) printf "%-34s %-7s %12d %8d %6d %6d %7d\n", k, dev[k], n[k], t[k] ? n[k] / t[k] : 0, cov[k], ft[k], rep[k]
            for (k in d) printf "device %-8s %12d executions\n", k, d[k]
        }' "$ledger"
}

do_repro() {
    local t=${1:?target} f=${2:?input file} args
    mapfile -t args < <(fuzz_args "$t")
    # the serialized qtest trace goes to stderr, ready for
    # build/src/scripts/oss-fuzz/reorder_fuzzer_qtest_trace.py
    QEMU_FUZZ_TIMEOUT=0 QTEST_LOG=1 FUZZ_SERIALIZE_QTEST=1 \
        "$bin" "${args[@]}" "$f"
}

case ${1:-} in
    build) shift; do_build ;;
    run) shift; do_run "$@" ;;
    report) do_report ;;
    repro) shift; do_repro "$@" ;;
    args) fuzz_args "${2:?target}" ;;
    *) sed -n '4,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 2 ;;
esac
