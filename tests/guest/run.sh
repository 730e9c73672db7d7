#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest suite: boot Debian's kernel under TCG on our qemu-system-x86_64 and
# check what Linux and its tools (ndctl, daxctl, nvme-cli, fio) see, on the
# pc and q35 machines:
#   nvdimm-coldplug  labels, devdax/sector/fsdax namespaces, ext4 -o dax,
#                    data kept across a new QEMU on the same backing file
#   nvdimm-hotplug   object-add + device_add nvdimm over QMP, new region used
#   dimm-hotplug     pc-dimm over QMP, the guest onlines the memory blocks
#   nvme             nvme-cli, fio randwrite with crc32c verify, data kept
#                    across a new QEMU
# TAP on stdout (see tests/run.sh), diagnostics on stderr, serial logs in
# build/test-logs/guest/.  Exits non-zero on any failure.
#
# Environment: NVQEMU_QEMU (binary), NVQEMU_GUEST_MACHINES (default
# "pc q35"), NVQEMU_GUEST_SCENARIOS (default all four), NVQEMU_QEMU_WAIT
# (seconds to wait for a binary being rebuilt, default 0).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh"
sc=$here/scenarios

machines=${NVQEMU_GUEST_MACHINES:-pc q35}
scenarios=${NVQEMU_GUEST_SCENARIOS:-nvdimm-coldplug nvdimm-hotplug dimm-hotplug nvme}
MEM=(-m "1G,slots=4,maxmem=8G")
MiB=1048576

guest_setup
if ! guest_wait_qemu "${NVQEMU_QEMU_WAIT:-0}"; then
    echo "not ok - guest: no QEMU binary at $NVQEMU_QEMU"
    exit 1
fi
if ! guest_image; then
    echo "not ok - guest: building the guest image"
    exit 1
fi

# sum_of LOG: the NVQ-SUM the guest printed.
sum_of() {
    sed -n 's/.*NVQ-SUM: \([0-9a-f]\{32\}\).*/\1/p' "$1" | tail -n 1
}

# nvdimm_args ID FILE SIZE_MIB: QEMU options (in array NV) for a file-backed
# NVDIMM as libvirt builds it.
nvdimm_args() {
    NV=(-object "memory-backend-file,id=mem-$1,mem-path=$2,size=$(($3 * MiB)),share=on,align=16M"
        -device "nvdimm,id=$1,memdev=mem-$1,label-size=131072")
}

t_nvdimm_coldplug() {
    local m=$1 img=$GUEST_TMP/nvdimm-coldplug-$1.img sum
    truncate -s 256M "$img"
    nvdimm_args nv0 "$img" 256
    guest_boot "nvdimm-coldplug-$m-1" "$m,nvdimm=on" "$sc/nvdimm-coldplug.sh" \
        "nvq.phase=1" "${MEM[@]}" "${NV[@]}" || return 1
    sum=$(sum_of "$GUEST_LOG")
    [ -n "$sum" ] || { glog "no NVQ-SUM in $GUEST_LOG"; return 1; }
    guest_boot "nvdimm-coldplug-$m-2" "$m,nvdimm=on" "$sc/nvdimm-coldplug.sh" \
        "nvq.phase=2 nvq.sum=$sum" "${MEM[@]}" "${NV[@]}" || return 1
    [ "$(sum_of "$GUEST_LOG")" = "$sum" ] || { glog "checksum differs after the new boot"; return 1; }
    rm -f "$img"
}

t_nvdimm_hotplug() {
    local m=$1 img0=$GUEST_TMP/nvdimm-hotplug-$1-0.img img1=$GUEST_TMP/nvdimm-hotplug-$1-1.img
    truncate -s 256M "$img0" "$img1"
    nvdimm_args nv0 "$img0" 256
    guest_start "nvdimm-hotplug-$m" "$m,nvdimm=on" "$sc/nvdimm-hotplug.sh" "" \
        "${MEM[@]}" "${NV[@]}"
    if ! guest_wait_marker NVQ-READY 120 ||
       ! guest_qmp object-add "{\"qom-type\":\"memory-backend-file\",\"id\":\"mem-nv1\",\"mem-path\":\"$img1\",\"size\":$((256 * MiB)),\"share\":true,\"align\":$((16 * MiB))}" \
                   device_add '{"driver":"nvdimm","id":"nv1","memdev":"mem-nv1","label-size":131072}'; then
        guest_kill; return 1
    fi
    guest_finish || return 1
    rm -f "$img0" "$img1"
}

t_dimm_hotplug() {
    local m=$1
    guest_start "dimm-hotplug-$m" "$m" "$sc/dimm-hotplug.sh" "nvq.size=256" "${MEM[@]}"
    if ! guest_wait_marker NVQ-READY 120 ||
       ! guest_qmp object-add "{\"qom-type\":\"memory-backend-ram\",\"id\":\"mem-d1\",\"size\":$((256 * MiB))}" \
                   device_add '{"driver":"pc-dimm","id":"dimm1","memdev":"mem-d1"}'; then
        guest_kill; return 1
    fi
    guest_finish
}

t_nvme() {
    local m=$1 img=$GUEST_TMP/nvme-$1.img sum serial=NVQ${1^^}0001
    local -a nvme=(-drive "file=$img,if=none,id=d0,format=raw"
                   -device "nvme,drive=d0,serial=$serial")
    truncate -s 256M "$img"
    guest_boot "nvme-$m-1" "$m" "$sc/nvme.sh" "nvq.phase=1 nvq.serial=$serial" \
        "${MEM[@]}" "${nvme[@]}" || return 1
    sum=$(sum_of "$GUEST_LOG")
    [ -n "$sum" ] || { glog "no NVQ-SUM in $GUEST_LOG"; return 1; }
    guest_boot "nvme-$m-2" "$m" "$sc/nvme.sh" "nvq.phase=2 nvq.serial=$serial nvq.sum=$sum" \
        "${MEM[@]}" "${nvme[@]}" || return 1
    rm -f "$img"
}

fail=0
for m in $machines; do
    for s in $scenarios; do
        fn=t_${s//-/_}
        if ! declare -F "$fn" >/dev/null; then
            echo "not ok - guest: $s ($m): unknown scenario"
            fail=$((fail + 1))
            continue
        fi
        t0=$(date +%s)
        glog "=== $s ($m)"
        if "$fn" "$m"; then
            echo "ok - guest: $s ($m)"
        else
            echo "not ok - guest: $s ($m)"
            fail=$((fail + 1))
        fi
        glog "=== $s ($m): $(( $(date +%s) - t0 )) s"
    done
done
[ "$fail" -eq 0 ]
