# SPDX-License-Identifier: GPL-2.0-or-later
#
# The command-line compatibility suite's rows and how one row is run.
# Sourced by tests/compat/run.sh (our binary against the expectations) and
# tests/compat/record.sh (stock QEMU, writing the expectations).
#
# A row is "ID<TAB>ARGS": ARGS are the device options of one command line,
# with @MACHINE@ for the -machine option and @MEM@ for a backing file.
# Rows come from three tables:
#   - every versioned pc-i440fx-*/pc-q35-* machine type stock lists
#     (expected/machines.txt) x the variants in COMPAT_VARIANTS;
#   - every property of nvme, nvme-ns and nvdimm in props.txt, once with its
#     valid and once with its invalid value, on the device's base line
#     (COMPAT_BASE) on q35;
#   - every value of bounds.txt (numeric properties at the ends of their
#     range and one beyond), on the device's base line like a property row;
#   - the whole command lines of lines.txt.

compat_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
compat_expected=$compat_dir/expected

# Devices whose properties the suite covers.
COMPAT_DEVICES=(nvme nvme-ns nvdimm)

# Machine type used for the property rows.
COMPAT_PROP_MACHINE=q35

# What every QEMU is started with: no guest code runs, the monitor on stdin
# gets "quit".
COMPAT_COMMON=(-nodefaults -display none -S -accel qtest -monitor stdio)

# A null block node for the drive= of nvme and nvme-ns.
COMPAT_DRIVE='-blockdev driver=null-co,node-name=d0,read-zeroes=on'
# An NVDIMM needs nvdimm=on, a slot and room above RAM.
COMPAT_NVDIMM_MEM='-m 1G,slots=2,maxmem=4G -object memory-backend-file,id=m0,mem-path=@MEM@,size=128M,share=on'

# Machine variants: "name|options|device" (device: the -device on which a
# property row sets its property; its parameters are "key=value,...").
COMPAT_VARIANTS=(
    "nvme|$COMPAT_DRIVE|nvme,serial=s0,drive=d0"
    "nvme-ns|$COMPAT_DRIVE -device nvme,id=c0,serial=s0|nvme-ns,drive=d0,bus=c0"
    "nvdimm|$COMPAT_NVDIMM_MEM|nvdimm,memdev=m0"
)

# Per device: the machine variant its property rows start from.
declare -A COMPAT_BASE=([nvme]=nvme [nvme-ns]=nvme-ns [nvdimm]=nvdimm)

# The -machine option of a row on TYPE for VARIANT.
compat_machine_opt() {
    case $2 in
        nvdimm) echo "-machine $1,nvdimm=on" ;;
        *) echo "-machine $1" ;;
    esac
}

# DEVICE_OPTS with KEY set to VALUE (replacing KEY if it is there).
compat_set_param() {
    local opts=$1 key=$2 val=$3 out="" kv
    local -a kvs
    IFS=, read -r -a kvs <<< "$opts"
    for kv in "${kvs[@]}"; do
        [ "${kv%%=*}" = "$key" ] || out+=",$kv"
    done
    echo "${out#,},$key=$val"
}

# variant name -> its "options|device" part
compat_variant() {
    local v
    for v in "${COMPAT_VARIANTS[@]}"; do
        [ "${v%%|*}" = "$1" ] && { echo "${v#*|}"; return 0; }
    done
    return 1
}

# Print every row: ID<TAB>MACHINE-OPTION<TAB>ARGS.
compat_rows() {
    local m v name rest opts dev d p valid invalid base
    while read -r m; do
        for v in "${COMPAT_VARIANTS[@]}"; do
            name=${v%%|*}; rest=${v#*|}
            opts=${rest%%|*}; dev=${rest#*|}
            printf 'machine %s %s\t%s\t%s -device %s\n' "$m" "$name" \
                "$(compat_machine_opt "$m" "$name")" "$opts" "$dev"
        done
    done < "$compat_expected/machines.txt"
    while read -r d p valid invalid; do
        base=${COMPAT_BASE[$d]}
        rest=$(compat_variant "$base")
        opts=${rest%%|*}; dev=${rest#*|}
        for val in "$valid" "$invalid"; do
            printf 'property %s.%s=%s\t%s\t%s -device %s\n' "$d" "$p" "$val" \
                "$(compat_machine_opt "$COMPAT_PROP_MACHINE" "$base")" "$opts" \
                "$(compat_set_param "$dev" "$p" "$val")"
        done
    done < <(compat_table "$compat_dir/props.txt")
    while read -r d p vals; do
        base=${COMPAT_BASE[$d]}
        rest=$(compat_variant "$base")
        opts=${rest%%|*}; dev=${rest#*|}
        for val in $vals; do
            printf 'bound %s.%s=%s\t%s\t%s -device %s\n' "$d" "$p" "$val" \
                "$(compat_machine_opt "$COMPAT_PROP_MACHINE" "$base")" "$opts" \
                "$(compat_set_param "$dev" "$p" "$val")"
        done
    done < <(compat_table "$compat_dir/bounds.txt")
    # "ID | MACHINE-OPTION | OPTIONS" -> "line ID<TAB>..."
    compat_table "$compat_dir/lines.txt" |
        sed -E 's/^(.*[^ ]) +\| +(.*[^ ]) +\| +(.*)$/line \1\t\2\t\3/'
}

# The lines of a table file without comments and blank lines.
compat_table() {
    grep -Ev '^[[:space:]]*(#|$)' "$1"
}

# The property of a row ID ("property nvme.mqes=0" or "bound nvme.mqes=0"
# -> "nvme.mqes"), or nothing for a machine row.
compat_row_property() {
    case $1 in
        "property "*) local p=${1#property }; echo "${p%%=*}" ;;
        "bound "*) local p=${1#bound }; echo "${p%%=*}" ;;
    esac
}

# Run QEMU binary $1 with the machine option $2 and the args $3 (split on
# spaces; @MEM@ becomes a file in $4), and print the outcome on one line:
#   start                     it started and quit from the monitor
#   refuse<TAB>MESSAGE        it exited non-zero; its last error line,
#                             without the program name and option text
#   crash<TAB>STATUS MESSAGE  it died from a signal (abort, segfault)
#   timeout                   it did not quit within $COMPAT_TIMEOUT s
compat_run_qemu() {
    local qemu=$1 mopt=$2 args=$3 tmp=$4 err rc msg
    local -a argv
    read -r -a argv <<< "$mopt ${args//@MEM@/$tmp/mem}"
    err=$tmp/stderr
    rc=0
    echo quit | timeout --kill-after=5 "${COMPAT_TIMEOUT:-20}" \
        "$qemu" "${COMPAT_COMMON[@]}" "${argv[@]}" > /dev/null 2> "$err" || rc=$?
    rm -f "$tmp/mem"
    msg=$( (grep -v ': warning: ' "$err" || :) | tail -n 1 |
          sed -E -e 's/^[^ :]*qemu-system-x86_64: //' -e 's/^-[a-z]+ [^ ]*: //' \
                 -e "s|$tmp/mem|@MEM@|g")
    if [ $rc -eq 0 ]; then
        echo start
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        echo timeout
    elif [ $rc -gt 128 ]; then
        printf 'crash\t%s %s\n' "$rc" "$msg"
    else
        printf 'refuse\t%s\n' "$msg"
    fi
}

# Run every row of stdin ("ID<TAB>MOPT<TAB>ARGS") on QEMU $1, $COMPAT_JOBS at
# a time, and print "ID<TAB>OUTCOME" in input order.
compat_run_rows() {
    local qemu=$1 work i=0 id mopt args n
    work=$(mktemp -d)
    while IFS=$'\t' read -r id mopt args; do
        i=$((i + 1))
        mkdir -p "$work/$i"
        printf '%s' "$id" > "$work/$i/id"
        ( compat_run_qemu "$qemu" "$mopt" "$args" "$work/$i" > "$work/$i/out" ) &
        while [ "$(jobs -rp | wc -l)" -ge "${COMPAT_JOBS:-2}" ]; do
            wait -n || :
        done
    done
    wait
    for ((n = 1; n <= i; n++)); do
        printf '%s\t%s\n' "$(cat "$work/$n/id")" "$(cat "$work/$n/out")"
    done
    rm -rf "$work"
}
