#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest suite: boot Debian's kernel under TCG on our qemu-system-x86_64 and
# check what Linux and its tools (ndctl, daxctl, nvme-cli, fio) see, on the
# pc and q35 machines:
#   nvdimm-coldplug  labels, devdax/sector/fsdax namespaces, ext4 -o dax,
#                    data kept across a new QEMU on the same backing file
#   nvdimm-hotplug   object-add + device_add nvdimm over QMP, new region used
#   nvdimm-hotplug-place  hot-plug with no backend "align" after a DIMM
#                    whose end is misaligned: placed on 16 MiB, fsdax and
#                    devdax work; device_del of it refused
#   dimm-hotplug     pc-dimm over QMP, the guest onlines the memory blocks
#   nvme             nvme-cli, fio randwrite with crc32c verify, data kept
#                    across a new QEMU
#   nvdimm-multi     16 NVDIMMs on two NUMA nodes (numa_node/target_node),
#                    read-labels/write-labels round trips reaching the files,
#                    an unarmed read-only DIMM flagged and refusing writes
#   nvme-cli         one controller, two namespaces: nvme-cli identify,
#                    logs, every feature, set-feature, format to 4 KiB,
#                    reset, fio verify, blkdiscard, data kept across a new QEMU
#   nvme-iothread    nvme-cli with iothread=io0,ioeventfd=on
#   nvdimm-health    NVDIMM-N (nvdimm-n=on): ndctl list -DH health, SMART
#                    injection and thresholds, a clean poweroff not counted
#                    as an unsafe shutdown, a SIGKILL of QEMU counted once
#   nvdimm-flush     nvdimm-n=on: region deep_flush is 1 and a write to it,
#                    and fsync on ext4 -o dax, reach the flush hint (QOM
#                    flush-count); the fsync'd data is in the backing file
#                    after a SIGKILL and in the file after a new boot
#   nvdimm-ars       NVDIMM-N media errors: inject-error, scrub, badblocks,
#                    failing reads, clear-errors and clearing writes; the
#                    poison is still there after a new QEMU
#   nvdimm-poison    NVDIMM-N poison injected over QMP reaches Linux by
#                    itself (root Notify 0x81, the kernel scrubs): raw reads
#                    fail, clear-errors; a guest inject-error the same way;
#                    QMP clear; a poisoned block of a file on ext4 -o dax
#                    (fsdax) fails to read with EIO until clear-errors
#   nvdimm-n-hotplug an NVDIMM-N hot-plugged into a machine booted without
#                    NVDIMMs (-global nvdimm.nvdimm-n=on): its poison and
#                    health events reach Linux without a scrub or polling
#   nvdimm-events    NVDIMM-N health events: `ndctl monitor` (no polling)
#                    logs an injected media temperature alarm and fatal
#                    health, delivered as GPE 4 + Notify (NV00, 0x81), and
#                    a spares injection made over QMP
#   nvme-multipath   an nvme-subsys with two controllers sharing a
#                    namespace: list-subsys, one multipath head, attach-ns/
#                    detach-ns of a detached namespace, fio verify, one
#                    path's PCI function removed under fio
#   nvme-nsmgmt      nvme-subsys with a namespace pool (ns-pool=): create-ns,
#                    attach-ns, fio verify, namespaces, attachments and data
#                    kept across a new QEMU, detach-ns, delete-ns, TNVMCAP/
#                    UNVMCAP
#   nvme-pi          PI Type 1 namespaces (ms=8,pi=1; one with meta-drive=):
#                    integrity/format T10-DIF-TYPE1-CRC, fio verify, the PI
#                    tuples the guest wrote found in the meta-drive, data
#                    altered in the image fails the read (guard error)
#   nvme-copy        nvme copy (formats 0h, 1h) and a Copy through
#                    io-passthru, read back and compared; a Copy beyond
#                    MSSRL refused
#   nvme-werror  werror=stop on a blkdebug drive failing one write under
#                fio verify: the VM stops (io-error), `cont`, the write
#                runs again, fio verify passes, no error reaches the guest
#   durability   NVMe (qcow2) and NVDIMM-N fsdax in one guest: files
#                written with fsync, QEMU SIGKILLed, NVQEMU_DURABLE_TRIALS
#                (1) times; every file intact in the next boot
#   nvme-lifecycle   fio with crc32c verify headers while the guest runs
#                    nvme reset, ns-rescan and a sysfs PCI function reset;
#                    then driver unbind/bind and fio --verify_only: 0 corrupt
#   migrate          fio verify on the NVMe namespace and on a file of ext4
#                    -o dax on an NVDIMM while the guest is live-migrated
#                    NVQEMU_MIG_HOPS (3) times between QEMU processes of two
#                    "hosts" (A -> B -> A -> B); fio must progress after
#                    each hop and end with 0 verify errors
#   migrate-nbd      the same with the namespace on an NBD export of a
#                    qemu-storage-daemon both processes open (shared
#                    storage) and one NVDIMM file both map (x-ignore-shared)
# TAP on stdout (see tests/run.sh), diagnostics on stderr, serial logs in
# build/test-logs/guest/.  Exits non-zero on any failure.
#
# Environment: NVQEMU_QEMU (binary), NVQEMU_GUEST_MACHINES (default
# "pc q35"), NVQEMU_GUEST_SCENARIOS (default all of them), NVQEMU_QEMU_WAIT
# (seconds to wait for a binary being rebuilt, default 0).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/lib.sh
. "$here/lib.sh"
sc=$here/scenarios

machines=${NVQEMU_GUEST_MACHINES:-pc q35}
scenarios=${NVQEMU_GUEST_SCENARIOS:-nvdimm-coldplug nvdimm-hotplug nvdimm-hotplug-place dimm-hotplug nvme nvdimm-multi nvme-cli nvme-iothread nvme-multipath nvme-nsmgmt nvme-pi nvme-copy nvme-lifecycle nvdimm-health nvdimm-events nvdimm-ars nvdimm-poison nvdimm-n-hotplug nvdimm-flush nvme-werror durability migrate migrate-nbd}
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

# nvdimm-hotplug-place: no "align" on either backend (as libvirt builds
# them without <alignsize>); nv0's pmem is 256 MiB - 128 KiB.
t_nvdimm_hotplug_place() {
    local m=$1 img0=$GUEST_TMP/nvdimm-place-$1-0.img img1=$GUEST_TMP/nvdimm-place-$1-1.img
    truncate -s 256M "$img0" "$img1"
    guest_start "nvdimm-hotplug-place-$m" "$m,nvdimm=on" "$sc/nvdimm-hotplug-place.sh" "" \
        "${MEM[@]}" -object "memory-backend-file,id=mem-nv0,mem-path=$img0,size=$((256 * MiB)),share=on" \
        -device "nvdimm,id=nv0,memdev=mem-nv0,label-size=131072"
    if ! guest_wait_marker NVQ-READY 120 ||
       ! guest_qmp object-add "{\"qom-type\":\"memory-backend-file\",\"id\":\"mem-nv1\",\"mem-path\":\"$img1\",\"size\":$((256 * MiB)),\"share\":true}" \
                   device_add '{"driver":"nvdimm","id":"nv1","memdev":"mem-nv1","label-size":131072}'; then
        guest_kill; return 1
    fi
    if guest_qmp device_del '{"id":"nv1"}'; then
        glog "device_del of an nvdimm was accepted"; guest_kill; return 1
    fi
    if ! grep -q "nvdimm device hot unplug is not supported" "$GUEST_LOG.qmp"; then
        glog "device_del of an nvdimm did not fail as expected"; guest_kill; return 1
    fi
    glog "(the device_del failure above is the expected refusal)"
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

# nvdimm-multi: 16 NVDIMMs in slots 0-15 (NFIT handle = slot + 1), handle h
# on NUMA node (h - 1) % 2 (two nodes, one vCPU socket each); the last one
# read-only and unarmed, on node 1.  Its file starts with 1 MiB of random
# data and ends with a random label area: both must read back in the guest
# and the file must stay unchanged.  The label areas the guest writes on
# handles 1 and 2 must reach the backing files.
t_nvdimm_multi() {
    local m=$1 n=16 i img nodes="" ro rodata rolabel rosum h want got
    # shellcheck disable=SC2054  # commas inside QEMU option values
    local -a args=(-m "1G,slots=$n,maxmem=4G" -smp "2,sockets=2,cores=1,threads=1"
                   -object memory-backend-ram,id=ram0,size=512M
                   -object memory-backend-ram,id=ram1,size=512M
                   -numa node,nodeid=0,cpus=0,memdev=ram0
                   -numa node,nodeid=1,cpus=1,memdev=ram1)
    for ((i = 0; i < n - 1; i++)); do
        img=$GUEST_TMP/nvdimm-multi-$m-$i.img
        truncate -s $((32 * MiB + 131072)) "$img"
        args+=(-object "memory-backend-file,id=mem-nv$i,mem-path=$img,size=$((32 * MiB + 131072)),share=on,align=16M"
               -device "nvdimm,id=nv$i,memdev=mem-nv$i,slot=$i,node=$((i % 2)),label-size=131072")
        nodes+=$((i % 2))
    done
    ro=$GUEST_TMP/nvdimm-multi-$m-ro.img
    head -c $MiB /dev/urandom > "$ro"
    truncate -s $((32 * MiB)) "$ro"
    head -c 131072 /dev/urandom >> "$ro"
    rodata=$(head -c $MiB "$ro" | md5sum | cut -d' ' -f1)
    rolabel=$(tail -c 131072 "$ro" | md5sum | cut -d' ' -f1)
    rosum=$(md5sum < "$ro")
    args+=(-object "memory-backend-file,id=mem-nv$i,mem-path=$ro,size=$((32 * MiB + 131072)),share=on,readonly=on,align=16M"
           -device "nvdimm,id=nv$i,memdev=mem-nv$i,slot=$i,node=1,label-size=131072,unarmed=on")
    nodes+=1
    guest_boot "nvdimm-multi-$m" "$m,nvdimm=on" "$sc/nvdimm-multi.sh" \
        "nvq.dimms=$n nvq.ro=$n nvq.nodes=$nodes nvq.size=$((32 * MiB)) nvq.rodata=$rodata nvq.rolabel=$rolabel" \
        "${args[@]}" || return 1
    [ "$(md5sum < "$ro")" = "$rosum" ] || { glog "the read-only DIMM's file changed"; return 1; }
    for h in 1 2; do
        want=$(sed -n "s/.*NVQ-LABEL: $h \([0-9a-f]\{32\}\).*/\1/p" "$GUEST_LOG" | tail -n 1)
        got=$(tail -c 131072 "$GUEST_TMP/nvdimm-multi-$m-$((h - 1)).img" | md5sum | cut -d' ' -f1)
        [ -n "$want" ] || { glog "no NVQ-LABEL for handle $h in $GUEST_LOG"; return 1; }
        [ "$want" = "$got" ] || { glog "handle $h: label area in the file has md5 $got, the guest wrote $want"; return 1; }
    done
    rm -f "$GUEST_TMP"/nvdimm-multi-"$m"-*.img
}

# marker_of LOG NAME: the last "NAME: <md5>" the guest printed
marker_of() {
    sed -n "s/.*$2: \([0-9a-f]\{32\}\).*/\1/p" "$1" | tail -n 1
}

# nvme-cli: one controller, namespaces 1 (discard=unmap: discards reach the
# file) and 2 (the drive's default discard=ignore) of 128 MiB each; the second
# boot on the same images checks the data and the namespace ids.  Like stock
# QEMU, a namespace has only the ids it is given: namespace 1 gets all three
# on the command line, namespace 2 its derived ones (derive-ns-ids=on).
# NVQ_CTRL_OPTS: more nvme properties (nvme-iothread), NVQ_EXTRA: more args.
t_nvme_cli() {
    local m=$1 d1=$GUEST_TMP/nvme-cli-$1-1.img d2=$GUEST_TMP/nvme-cli-$1-2.img
    local serial=NVQCLI${1^^} sum ids
    local -a nvme=(-drive "file=$d1,if=none,id=d1,format=raw,discard=unmap"
                   -drive "file=$d2,if=none,id=d2,format=raw"
                   ${NVQ_EXTRA[@]+"${NVQ_EXTRA[@]}"}
                   -device "nvme,id=c0,serial=$serial,derive-ns-ids=on${NVQ_CTRL_OPTS:-}"
                   -device "nvme-ns,drive=d1,nsid=1,bus=c0,eui64=0x0123456789abcdef,nguid=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0,uuid=6f1c4a0e-2b7d-4c3e-9a5f-1d2e3f4a5b6c"
                   -device "nvme-ns,drive=d2,nsid=2,bus=c0")
    local app="nvq.serial=$serial nvq.nsze=$((128 * MiB / 512))"
    truncate -s 128M "$d1" "$d2"
    guest_boot "nvme-cli-$m-1" "$m" "$sc/nvme-cli.sh" "nvq.phase=1 $app" \
        "${MEM[@]}" "${nvme[@]}" || return 1
    sum=$(marker_of "$GUEST_LOG" NVQ-SUM); ids=$(marker_of "$GUEST_LOG" NVQ-IDS)
    [ -n "$sum" ] && [ -n "$ids" ] || { glog "no NVQ-SUM/NVQ-IDS in $GUEST_LOG"; return 1; }
    guest_boot "nvme-cli-$m-2" "$m" "$sc/nvme-cli.sh" "nvq.phase=2 $app nvq.sum=$sum nvq.ids=$ids" \
        "${MEM[@]}" "${nvme[@]}" || return 1
    rm -f "$d1" "$d2"
}

# nvme-iothread: the nvme-cli scenario with the engine in an iothread and
# doorbell eventfds (Linux uses shadow doorbells, so I/O doorbells are
# eventfds): identify, features, format, controller reset, fio verify,
# discard, data kept across a new QEMU.
t_nvme_iothread() {
    local -a NVQ_EXTRA=(-object iothread,id=io0)
    NVQ_CTRL_OPTS=",iothread=io0,ioeventfd=on" t_nvme_cli "$1"
}

# NVDIMM-N without a label area (one raw namespace), two boots on one file.
t_nvdimm_ars() {
    local m=$1 img=$GUEST_TMP/nvdimm-ars-$1.img
    local nv=(-object "memory-backend-file,id=mem-nv0,mem-path=$img,size=$((256 * MiB)),share=on"
              -device "nvdimm,id=nv0,memdev=mem-nv0,nvdimm-n=on")
    rm -f "$img"
    truncate -s 256M "$img"
    guest_boot "nvdimm-ars-$m-1" "$m,nvdimm=on" "$sc/nvdimm-ars.sh" \
        "nvq.phase=1" "${MEM[@]}" "${nv[@]}" || return 1
    guest_boot "nvdimm-ars-$m-2" "$m,nvdimm=on" "$sc/nvdimm-ars.sh" \
        "nvq.phase=2" "${MEM[@]}" "${nv[@]}" || return 1
    rm -f "$img"
}

# flush_count ID: the QOM flush-count of NVDIMM ID in the running guest.
flush_count() {
    python3 "$GUEST_SRC/qmp.py" "$GUEST_QMP" qom-get \
        "{\"path\":\"/machine/peripheral/$1\",\"property\":\"flush-count\"}" |
        grep -E '^[0-9]+$' | tail -n 1
}

# ack SOCKET: answer the guest waiting on its second serial port.
ack() {
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"go\n")
s.close()' "$1"
}

# nvdimm-flush: an NVDIMM-N DIMM on a shared file.  At each of the guest's
# steps the flush count is read while the guest waits (ack on ttyS1): a
# write to deep_flush and an fsync on ext4 -o dax must each raise it.  Right
# after the fsync QEMU is killed with SIGKILL: the written token must be in
# the backing file, and a new QEMU on it must find the file intact.
t_nvdimm_flush() {
    local m=$1 img=$GUEST_TMP/nvdimm-flush-$1.img sock=$GUEST_TMP/nvdimm-flush-$1.ack
    local c1 c2 c3 c4 token sum qpid p keep=()
    truncate -s 256M "$img"
    nvdimm_args nv0 "$img" 256
    NV[3]+=",nvdimm-n=on"
    rm -f "$sock"
    guest_start "nvdimm-flush-$m-1" "$m,nvdimm=on" "$sc/nvdimm-flush.sh" "nvq.phase=1" \
        "${MEM[@]}" "${NV[@]}" -chardev "socket,id=ack,path=$sock,server=on,wait=off" \
        -device isa-serial,chardev=ack
    guest_wait_marker "NVQ-STEP: 1" 300 && c1=$(flush_count nv0) && ack "$sock" &&
    guest_wait_marker "NVQ-STEP: 2" 60 && c2=$(flush_count nv0) && ack "$sock" &&
    guest_wait_marker "NVQ-STEP: 3" 120 && c3=$(flush_count nv0) && ack "$sock" &&
    guest_wait_marker "NVQ-STEP: 4" 120 && c4=$(flush_count nv0) ||
        { glog "nvdimm-flush: guest did not reach its steps"; guest_kill; return 1; }
    # the timeout wrapper's child is QEMU: kill it at once
    qpid=$(pgrep -P "$GUEST_PID" | head -n 1)
    [ -n "$qpid" ] && kill -KILL "$qpid"
    wait "$GUEST_PID" 2>/dev/null
    for p in "${GUEST_PIDS[@]}"; do [ "$p" = "$GUEST_PID" ] || keep+=("$p"); done
    GUEST_PIDS=("${keep[@]}")
    glog "nvdimm-flush ($m): flush-count $c1 -> $c2 (deep_flush) -> $c3 -> $c4 (fsync)"
    [ -n "$c1" ] && [ "$c2" -gt "$c1" ] || { glog "deep_flush did not reach the flush hint"; return 1; }
    [ "$c4" -gt "$c3" ] || { glog "fsync did not reach the flush hint"; return 1; }
    token=$(sed -n 's/.*NVQ-TOKEN: \(NVQFLUSH[0-9a-f]*\).*/\1/p' "$GUEST_LOG" | tail -n 1)
    sum=$(sum_of "$GUEST_LOG")
    [ -n "$token" ] && [ -n "$sum" ] || { glog "no NVQ-TOKEN/NVQ-SUM in $GUEST_LOG"; return 1; }
    grep -qa "$token-00511-" "$img" || { glog "the fsync'd data is not in $img after SIGKILL"; return 1; }
    guest_boot "nvdimm-flush-$m-2" "$m,nvdimm=on" "$sc/nvdimm-flush.sh" \
        "nvq.phase=2 nvq.sum=$sum" "${MEM[@]}" "${NV[@]}" || return 1
    rm -f "$img" "$sock"
}

# nvdimm-health: three boots on one NVDIMM-N backing file.  1: health,
# injection, thresholds, then a clean poweroff; 2: nothing counted, then
# QEMU is killed with SIGKILL (no exit notifier runs); 3: the kill counted
# once (shutdown state dirty, count 1).
t_nvdimm_health() {
    local m=$1 img=$GUEST_TMP/nvdimm-health-$1.img qpid p keep=()
    local -a nv=(-object "memory-backend-file,id=mem-nv0,mem-path=$img,size=$((256 * MiB)),share=on,align=16M"
                 -device "nvdimm,id=nv0,memdev=mem-nv0,label-size=131072,nvdimm-n=on")
    rm -f "$img"
    truncate -s 256M "$img"
    guest_boot "nvdimm-health-$m-1" "$m,nvdimm=on" "$sc/nvdimm-health.sh" \
        "nvq.phase=1" "${MEM[@]}" "${nv[@]}" || return 1
    guest_start "nvdimm-health-$m-2" "$m,nvdimm=on" "$sc/nvdimm-health.sh" \
        "nvq.phase=2" "${MEM[@]}" "${nv[@]}"
    if ! guest_wait_marker NVQ-READY 180; then
        guest_kill; return 1
    fi
    if grep -q NVQ-FAIL "$GUEST_LOG"; then
        guest_check "$GUEST_LOG"; guest_kill; return 1
    fi
    # GUEST_PID is timeout(1); QEMU is its only child
    qpid=$(pgrep -P "$GUEST_PID")
    [ -n "$qpid" ] || { glog "no QEMU under $GUEST_PID"; guest_kill; return 1; }
    glog "nvdimm-health-$m-2: SIGKILL to QEMU $qpid"
    kill -KILL "$qpid"
    wait "$GUEST_PID" || true
    for p in "${GUEST_PIDS[@]}"; do [ "$p" = "$GUEST_PID" ] || keep+=("$p"); done
    GUEST_PIDS=("${keep[@]}")
    rm -f "${GUEST_INITRD:-}" "${GUEST_QMP:-}"
    guest_boot "nvdimm-health-$m-3" "$m,nvdimm=on" "$sc/nvdimm-health.sh" \
        "nvq.phase=3" "${MEM[@]}" "${nv[@]}" || return 1
    rm -f "$img"
}

# nvdimm-events: one boot with an NVDIMM-N; ndctl monitor in the guest
# must log injected events without polling, the guest's own injections
# and then one the host makes over QMP (nvdimm-inject-health).
t_nvdimm_events() {
    local m=$1 img=$GUEST_TMP/nvdimm-events-$1.img
    local -a nv=(-object "memory-backend-file,id=mem-nv0,mem-path=$img,size=$((256 * MiB)),share=on,align=16M"
                 -device "nvdimm,id=nv0,memdev=mem-nv0,label-size=131072,nvdimm-n=on")
    rm -f "$img"
    truncate -s 256M "$img"
    guest_start "nvdimm-events-$m" "$m,nvdimm=on" "$sc/nvdimm-events.sh" \
        "" "${MEM[@]}" "${nv[@]}"
    if ! guest_wait_marker NVQ-READY 180 ||
       ! guest_qmp nvdimm-inject-health '{"id":"nv0","spares":5}'; then
        guest_kill; return 1
    fi
    guest_finish || return 1
    rm -f "$img"
}

# poison_is ID JSON: nvdimm-query-poison of ID has exactly the ranges JSON
# (keys sorted).
poison_is() {
    local got
    got=$(python3 "$GUEST_SRC/qmp.py" "$GUEST_QMP" nvdimm-query-poison "{\"id\":\"$1\"}" |
          tail -n 1 | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["ranges"], sort_keys=True))')
    glog "$GUEST_NAME: poison of $1: $got"
    [ "$got" = "$2" ] || { glog "$GUEST_NAME: poison of $1 is $got, expected $2"; return 1; }
}

# nvdimm-poison: two NVDIMM-N DIMMs, nv0 without labels (a raw namespace),
# nv1 with labels (fsdax).  The host injects, clears and queries poison
# over QMP at the guest's steps (answered on its ttyS1, as nvdimm-flush).
t_nvdimm_poison() {
    local m=$1 a=$GUEST_TMP/nvdimm-poison-$1-0.img b=$GUEST_TMP/nvdimm-poison-$1-1.img
    local sock=$GUEST_TMP/nvdimm-poison-$1.ack off len
    local GUEST_TIMEOUT=$((GUEST_TIMEOUT + 180))
    rm -f "$a" "$b" "$sock"
    truncate -s 256M "$a" "$b"
    guest_start "nvdimm-poison-$m" "$m,nvdimm=on" "$sc/nvdimm-poison.sh" "" "${MEM[@]}" \
        -object "memory-backend-file,id=mem-nv0,mem-path=$a,size=$((256 * MiB)),share=on" \
        -device "nvdimm,id=nv0,memdev=mem-nv0,slot=0,nvdimm-n=on" \
        -object "memory-backend-file,id=mem-nv1,mem-path=$b,size=$((256 * MiB)),share=on,align=16M" \
        -device "nvdimm,id=nv1,memdev=mem-nv1,slot=1,label-size=131072,nvdimm-n=on" \
        -chardev "socket,id=ack,path=$sock,server=on,wait=off" -device isa-serial,chardev=ack
    guest_wait_marker "NVQ-STEP: 1" 300 &&
        guest_qmp nvdimm-inject-poison '{"id":"nv0","offset":32768,"length":1024}' && ack "$sock" &&
    guest_wait_marker "NVQ-STEP: 2" 240 && poison_is nv0 '[]' &&
        guest_qmp nvdimm-inject-poison '{"id":"nv0","offset":65536,"length":512,"notify":false}' &&
        ack "$sock" &&
    guest_wait_marker "NVQ-STEP: 3" 120 &&
        guest_qmp nvdimm-clear-poison '{"id":"nv0","offset":65536,"length":512}' &&
        poison_is nv0 '[]' && ack "$sock" &&
    guest_wait_marker "NVQ-STEP: 4" 240 &&
        read -r off len < <(sed -n 's/.*NVQ-POISON: \([0-9]*\) \([0-9]*\).*/\1 \2/p' "$GUEST_LOG" | tail -n 1) &&
        [ -n "$len" ] &&
        guest_qmp nvdimm-inject-poison "{\"id\":\"nv1\",\"offset\":$off,\"length\":$len}" &&
        poison_is nv1 "[{\"length\": $len, \"offset\": $off}]" && ack "$sock" &&
    guest_wait_marker "NVQ-STEP: 5" 240 && poison_is nv1 '[]' && ack "$sock" ||
        { glog "nvdimm-poison ($m): a step failed"; guest_kill; return 1; }
    guest_finish || return 1
    rm -f "$a" "$b" "$sock"
}

# nvdimm-n-hotplug: no NVDIMM at boot, -global nvdimm.nvdimm-n=on; the host
# hot-plugs one at step 1 and injects poison and fatal health at step 2.
t_nvdimm_n_hotplug() {
    local m=$1 img=$GUEST_TMP/nvdimm-n-hotplug-$1.img sock=$GUEST_TMP/nvdimm-n-hotplug-$1.ack
    rm -f "$img" "$sock"
    truncate -s 256M "$img"
    guest_start "nvdimm-n-hotplug-$m" "$m,nvdimm=on" "$sc/nvdimm-n-hotplug.sh" "" "${MEM[@]}" \
        -global nvdimm.nvdimm-n=on \
        -chardev "socket,id=ack,path=$sock,server=on,wait=off" -device isa-serial,chardev=ack
    guest_wait_marker "NVQ-STEP: 1" 300 &&
        guest_qmp object-add "{\"qom-type\":\"memory-backend-file\",\"id\":\"mem-nv0\",\"mem-path\":\"$img\",\"size\":$((256 * MiB)),\"share\":true}" \
                  device_add '{"driver":"nvdimm","id":"nv0","memdev":"mem-nv0"}' && ack "$sock" &&
    guest_wait_marker "NVQ-STEP: 2" 240 &&
        guest_qmp nvdimm-inject-poison '{"id":"nv0","offset":32768,"length":512}' \
                  nvdimm-inject-health '{"id":"nv0","fatal":true}' && ack "$sock" ||
        { glog "nvdimm-n-hotplug ($m): a step failed"; guest_kill; return 1; }
    guest_finish || return 1
    rm -f "$img" "$sock"
}

# nvme-multipath: nvme-subsys ss0 with controllers c0 and c1 (stock's
# command line: one serial), namespace 1 shared by both, namespace 2
# shared but created detached (attached by the guest with nvme-cli).
t_nvme_multipath() {
    local m=$1 d1=$GUEST_TMP/nvme-mp-$1-1.img d2=$GUEST_TMP/nvme-mp-$1-2.img
    local -a nvme=(-drive "file=$d1,if=none,id=d1,format=raw"
                   -drive "file=$d2,if=none,id=d2,format=raw"
                   -device nvme-subsys,id=ss0,nqn=nvq-mp
                   -device nvme,id=c0,serial=NVQMP,subsys=ss0
                   -device nvme,id=c1,serial=NVQMP,subsys=ss0
                   -device nvme-ns,drive=d1,nsid=1,bus=c0
                   -device nvme-ns,drive=d2,nsid=2,bus=c0,detached=on)
    truncate -s 128M "$d1" "$d2"
    guest_boot "nvme-multipath-$m" "$m" "$sc/nvme-multipath.sh" \
        "nvq.nqn=nqn.2019-08.org.qemu:nvq-mp" "${MEM[@]}" "${nvme[@]}" || return 1
    rm -f "$d1" "$d2"
}

# nvme-nsmgmt: an nvme-subsys whose namespace pool is a 256 MiB qcow2 image,
# one controller and no namespace; the guest creates, attaches, uses,
# detaches and deletes namespaces with nvme-cli; a new QEMU on the same
# pool finds them (and the data) again.
t_nvme_nsmgmt() {
    local m=$1 pool=$GUEST_TMP/nvme-nsmgmt-$1.qcow2 sum size=$((256 * MiB))
    local -a nvme=(-drive "file=$pool,if=none,id=pool,format=qcow2"
                   -device "nvme-subsys,id=s0,nqn=nvq-nsmgmt-$m,ns-pool=pool"
                   -device "nvme,id=c0,serial=NVQNSM${1^^},subsys=s0")
    rm -f "$pool"
    "$(dirname "$NVQEMU_QEMU")/qemu-img" create -q -f qcow2 "$pool" "$size" ||
        { glog "qemu-img create $pool"; return 1; }
    guest_boot "nvme-nsmgmt-$m-1" "$m" "$sc/nvme-nsmgmt.sh" "nvq.phase=1 nvq.pool=$size" \
        "${MEM[@]}" "${nvme[@]}" || return 1
    sum=$(marker_of "$GUEST_LOG" NVQ-SUM)
    [ -n "$sum" ] || { glog "no NVQ-SUM in $GUEST_LOG"; return 1; }
    guest_boot "nvme-nsmgmt-$m-2" "$m" "$sc/nvme-nsmgmt.sh" "nvq.phase=2 nvq.pool=$size nvq.sum=$sum" \
        "${MEM[@]}" "${nvme[@]}" || return 1
    rm -f "$pool"
}

# nvme-pi: two PI Type 1 namespaces, nsid 1 with its metadata after the
# data in its image (stock's layout), nsid 2 with a meta-drive.  Between
# the boots the host checks the tuples of the pattern the guest wrote at
# LBA 2048 of nsid 2 in the meta-drive (CRC-16 guard of each block, ref
# tag = LBA), and flips a byte of nsid 1's data there: the guest's read
# must then fail with a guard check error.
t_nvme_pi() {
    local m=$1 d1=$GUEST_TMP/nvme-pi-$1-1.img d2=$GUEST_TMP/nvme-pi-$1-2.img
    local md=$GUEST_TMP/nvme-pi-$1-2.meta serial=NVQPI${1^^} sum
    local -a nvme=(-drive "file=$d1,if=none,id=d1,format=raw"
                   -drive "file=$d2,if=none,id=d2,format=raw"
                   -drive "file=$md,if=none,id=m2,format=raw"
                   -device "nvme,id=c0,serial=$serial"
                   -device "nvme-ns,drive=d1,nsid=1,bus=c0,ms=8,pi=1"
                   -device "nvme-ns,drive=d2,nsid=2,bus=c0,ms=8,pi=1,meta-drive=m2")
    rm -f "$d1" "$d2" "$md"
    truncate -s 32M "$d1" "$d2"
    truncate -s $((32 * MiB / 512 * 8)) "$md"
    guest_boot "nvme-pi-$m-1" "$m" "$sc/nvme-pi.sh" "nvq.phase=1" \
        "${MEM[@]}" "${nvme[@]}" || return 1
    sum=$(marker_of "$GUEST_LOG" NVQ-SUM)
    [ -n "$sum" ] || { glog "no NVQ-SUM in $GUEST_LOG"; return 1; }
    python3 - "$d1" "$d2" "$md" <<'EOF' || { glog "nvme-pi: host-side check of the images failed"; return 1; }
import sys


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8BB7) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


d1, d2, md = sys.argv[1:]
lba = 2048
with open(d2, 'rb') as f:
    f.seek(lba * 512)
    data = f.read(8 * 512)
with open(md, 'rb') as f:
    f.seek(lba * 8)
    meta = f.read(8 * 8)
for i in range(8):
    t = meta[8 * i:8 * i + 8]
    guard = int.from_bytes(t[0:2], 'big')
    ref = int.from_bytes(t[4:8], 'big')
    want = crc16(data[512 * i:512 * (i + 1)])
    if guard != want or ref != lba + i:
        sys.exit('meta-drive: LBA %d tuple %s: guard %04x (want %04x), '
                 'ref %d' % (lba + i, t.hex(), guard, want, ref))
# nsid 1: flip a byte of LBA 2048's data behind the guest's back
with open(d1, 'r+b') as f:
    f.seek(lba * 512 + 100)
    b = f.read(1)
    f.seek(lba * 512 + 100)
    f.write(bytes([b[0] ^ 0xA5]))
EOF
    guest_boot "nvme-pi-$m-2" "$m" "$sc/nvme-pi.sh" "nvq.phase=2 nvq.sum=$sum" \
        "${MEM[@]}" "${nvme[@]}" || return 1
    rm -f "$d1" "$d2" "$md"
}

# nvme-copy: one controller, namespaces 1 and 2 of 64 MiB (nvme-ns, stock's
# default Copy limits); the guest copies with nvme-cli and compares.
t_nvme_copy() {
    local m=$1 d1=$GUEST_TMP/nvme-copy-$1-1.img d2=$GUEST_TMP/nvme-copy-$1-2.img
    local -a nvme=(-drive "file=$d1,if=none,id=d1,format=raw"
                   -drive "file=$d2,if=none,id=d2,format=raw"
                   -device "nvme,id=c0,serial=NVQCOPY${1^^}"
                   -device "nvme-ns,drive=d1,nsid=1,bus=c0"
                   -device "nvme-ns,drive=d2,nsid=2,bus=c0")
    truncate -s 64M "$d1" "$d2"
    guest_boot "nvme-copy-$m" "$m" "$sc/nvme-copy.sh" "" \
        "${MEM[@]}" "${nvme[@]}" || return 1
    rm -f "$d1" "$d2"
}

# nvme-werror: raw over blkdebug, one write at 4 MiB + 4 KiB failing once
# with EIO; werror=stop.  The host waits for the io-error stop (polling
# query-status), checks the BLOCK_IO_ERROR side (query-block io-status
# failed), sends `cont`, and the guest must pass.
t_nvme_werror() {
    local m=$1 img=$GUEST_TMP/nvme-werror-$1.img conf=$GUEST_TMP/nvme-werror-$1.conf
    local i st stops=0
    truncate -s 64M "$img"
    printf '[inject-error]\nevent = "write_aio"\niotype = "write"\nerrno = "5"\nonce = "on"\nsector = "8200"\n' > "$conf"
    guest_start "nvme-werror-$m" "$m" "$sc/nvme-werror.sh" "" "${MEM[@]}" \
        -drive "file=blkdebug:$conf:$img,if=none,id=d0,format=raw,werror=stop,rerror=stop" \
        -device "nvme,drive=d0,serial=NVQWERROR"
    for ((i = 0; i < 900; i++)); do
        kill -0 "$GUEST_PID" 2>/dev/null || break
        if guest_qmp query-status; then
            st=$(tail -n 1 "$GUEST_LOG.qmp")
            if [[ $st == *'"io-error"'* ]]; then
                guest_qmp query-block
                grep -q '"io-status": "failed"' "$GUEST_LOG.qmp" ||
                    { glog "nvme-werror: io-status is not failed"; guest_kill; return 1; }
                glog "nvme-werror ($m): VM stopped on the injected error; cont"
                guest_qmp cont || { guest_kill; return 1; }
                stops=$((stops + 1))
            fi
        fi
        sleep 1
    done
    guest_finish || return 1
    [ "$stops" -eq 1 ] || { glog "nvme-werror: $stops io-error stops, expected 1"; return 1; }
    rm -f "$img" "$conf"
}

# durability: an NVMe namespace on qcow2 (default cache) and an NVDIMM-N
# on a shared file; NVQEMU_DURABLE_TRIALS boots each end with a SIGKILL
# right after the guest's fsyncs returned, and the next boot checks every
# file written so far.
t_durability() {
    local m=$1 q=$GUEST_TMP/durability-$1.qcow2 nvimg=$GUEST_TMP/durability-$1.nv
    local trials=${NVQEMU_DURABLE_TRIALS:-1} k sums="" sum qpid p keep
    local -a dev
    rm -f "$q" "$nvimg"
    "$(dirname "$NVQEMU_QEMU")/qemu-img" create -q -f qcow2 "$q" 256M ||
        { glog "qemu-img create $q"; return 1; }
    truncate -s 256M "$nvimg"
    dev=(-drive "file=$q,if=none,id=d0,format=qcow2"
         -device "nvme,drive=d0,serial=NVQDURABLE"
         -object "memory-backend-file,id=mem-nv0,mem-path=$nvimg,size=$((256 * MiB)),share=on,align=16M"
         -device "nvdimm,id=nv0,memdev=mem-nv0,label-size=131072,nvdimm-n=on")
    for ((k = 1; k <= trials; k++)); do
        guest_start "durability-$m-$k" "$m,nvdimm=on" "$sc/durability.sh" \
            "nvq.phase=$k nvq.trials=$trials nvq.sums=${sums#,}" "${MEM[@]}" "${dev[@]}"
        if ! guest_wait_marker "NVQ-SYNCED: $k" 300 || grep -q NVQ-FAIL "$GUEST_LOG"; then
            guest_check "$GUEST_LOG"; guest_kill; return 1
        fi
        # GUEST_PID is timeout(1); QEMU is its only child
        qpid=$(pgrep -P "$GUEST_PID")
        [ -n "$qpid" ] || { glog "no QEMU under $GUEST_PID"; guest_kill; return 1; }
        kill -KILL "$qpid"
        wait "$GUEST_PID" 2>/dev/null
        keep=()
        for p in "${GUEST_PIDS[@]}"; do [ "$p" = "$GUEST_PID" ] || keep+=("$p"); done
        GUEST_PIDS=("${keep[@]}")
        rm -f "${GUEST_INITRD:-}" "${GUEST_QMP:-}"
        sum=$(sum_of "$GUEST_LOG")
        [ -n "$sum" ] || { glog "no NVQ-SUM in $GUEST_LOG"; return 1; }
        glog "durability ($m): trial $k fsync'd, QEMU $qpid SIGKILLed"
        sums+=",$sum"
    done
    guest_boot "durability-$m-$k" "$m,nvdimm=on" "$sc/durability.sh" \
        "nvq.phase=$k nvq.trials=$trials nvq.sums=${sums#,}" "${MEM[@]}" "${dev[@]}" || return 1
    glog "durability ($m): $trials SIGKILLs, every file intact"
    rm -f "$q" "$nvimg"
}

# nvme-lifecycle: fio with crc32c verify headers under nvme reset,
# ns-rescan and a sysfs PCI function reset, then driver unbind/bind and a
# --verify_only pass (issue 11)
t_nvme_lifecycle() {
    local m=$1 img=$GUEST_TMP/nvme-lifecycle-$1.img
    local -a nvme=(-drive "file=$img,if=none,id=d0,format=raw"
                   -device "nvme,drive=d0,serial=NVQLIFE${1^^}")
    truncate -s 128M "$img"
    guest_boot "nvme-lifecycle-$m" "$m" "$sc/nvme-lifecycle.sh" "" \
        "${MEM[@]}" "${nvme[@]}" || return 1
    rm -f "$img"
}

# --- live migration (migrate, migrate-nbd) ---------------------------------
# The guest (scenarios/migrate.sh) runs fio with verification on a block
# device and on a file of ext4 -o dax on an NVDIMM while the host moves it
# through MIG_HOPS live migrations between QEMU processes on two "hosts", A
# and B (A -> B -> A -> B ...).  Every process gets the same command line;
# only what is host-local differs (MIG_ARGS_A / MIG_ARGS_B) and the per-
# process sockets: QMP, the migration listener (-incoming defer, then
# migrate-incoming on a unix socket) and ttyS1, the channel the host drives
# the guest on.  The console (ttyS0) of every process appends to one log
# file, so it follows the guest: the source stops writing when it stops the
# vCPUs, the destination goes on from there.  Each QEMU is started directly
# (its PID is $!) and stopped by PID: the source with QMP quit once the
# destination runs, and a kill of that PID if it does not exit.
MIG_HOPS=${NVQEMU_MIG_HOPS:-3}
MIG_MEM=(-m "512M,slots=4,maxmem=4G")

# mig_qmp I CMD [JSON]...: QMP commands to process I (output in the .qmp log)
mig_qmp() {
    local i=$1
    shift
    python3 "$GUEST_SRC/qmp.py" "$MIG_T/qmp$i" "$@" >> "$GUEST_LOG.qmp" 2>&1 || {
        glog "$GUEST_NAME: QMP to process $i failed: $(tail -n 3 "$GUEST_LOG.qmp")"
        return 1
    }
}

# mig_start I HOST: start QEMU process I on HOST (A or B); I > 0 waits for
# an incoming migration.
mig_start() {
    local i=$1 host=$2 qemu
    local -n hargs=MIG_ARGS_$host
    # shellcheck disable=SC2054  # commas inside QEMU option values
    local -a cmd=("$NVQEMU_QEMU" "${GUEST_FW[@]}" -machine "$MIG_MACHINE"
                  -accel "tcg,thread=multi" -smp 2 -cpu "qemu64,+rdrand"
                  -nodefaults -display none -no-reboot
                  -kernel "$GUEST_VMLINUX" -initrd "$GUEST_INITRD"
                  -append "$GUEST_APPEND_BASE $MIG_APPEND"
                  -chardev "file,id=con,path=$GUEST_LOG,append=on" -serial chardev:con
                  -chardev "socket,id=ctl,path=$MIG_T/ctl$i,server=on,wait=off"
                  -device isa-serial,chardev=ctl
                  -qmp "unix:$MIG_T/qmp$i,server=on,wait=off"
                  "${MIG_MEM[@]}" "${MIG_ARGS[@]}" "${hargs[@]}")
    [ "$i" = 0 ] || cmd+=(-incoming defer)
    printf '%q ' "${cmd[@]}" > "$GUEST_LOG.cmd$i"
    echo >> "$GUEST_LOG.cmd$i"
    "${cmd[@]}" > "$GUEST_LOG.qemu$i" 2>&1 &
    qemu=$!
    MIG_PID[i]=$qemu
    GUEST_PIDS+=("$qemu")
    glog "$GUEST_NAME: process $i on host $host: QEMU $qemu"
}

# mig_stop I: stop process I by its PID (after QMP quit, or at once with a
# second argument "kill"); its exit status is left in MIG_RC.
mig_stop() {
    local i=$1 pid=${MIG_PID[$1]} t=300 p keep=()
    if [ "${2:-}" = kill ]; then
        kill "$pid" 2>/dev/null
    else
        mig_qmp "$i" quit || kill "$pid" 2>/dev/null
    fi
    while kill -0 "$pid" 2>/dev/null && [ $t -gt 0 ]; do sleep 0.1; t=$((t - 1)); done
    kill -0 "$pid" 2>/dev/null && { glog "QEMU $pid did not exit: SIGKILL"; kill -KILL "$pid"; }
    wait "$pid"; MIG_RC=$?
    for p in "${GUEST_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    GUEST_PIDS=("${keep[@]}")
}

# mig_send I LINE: a command line to the guest's ttyS1 on process I
mig_send() {
    python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
s.close()' "$MIG_T/ctl$1" "$2"
}

# mig_wait_marker I MARKER SECONDS: MARKER in the console log while process
# I runs
mig_wait_marker() {
    local t=$(( $3 * 10 ))
    while [ $t -gt 0 ]; do
        grep -q -- "$2" "$GUEST_LOG" 2>/dev/null && return 0
        grep -q 'NVQ-FAIL' "$GUEST_LOG" 2>/dev/null && break
        kill -0 "${MIG_PID[$1]}" 2>/dev/null || break
        sleep 0.1; t=$((t - 1))
    done
    grep -q -- "$2" "$GUEST_LOG" 2>/dev/null && return 0
    glog "$GUEST_NAME: no '$2' from process $1"
    return 1
}

# mig_hop I: live-migrate from process I-1 to a new process I on the other
# host (tests/guest/migrate.py); the guest must then show fio progressing on
# process I.
mig_hop() {
    local i=$1 src=$(($1 - 1)) host stats
    host=$([ $((i % 2)) = 1 ] && echo B || echo A)
    mig_start "$i" "$host"
    stats=$(python3 "$GUEST_SRC/migrate.py" "$MIG_T/qmp$src" "$MIG_T/qmp$i" \
                "unix:$MIG_T/mig$i" "$MIG_CAPS" \
                '{"max-bandwidth":1073741824,"downtime-limit":1000}' \
                2>> "$GUEST_LOG.qmp" | sed -n 's/^STATS: //p')
    [ -n "$stats" ] || { glog "$GUEST_NAME: hop $i: $(tail -n 2 "$GUEST_LOG.qmp")"; return 1; }
    # shellcheck disable=SC2086  # three numbers
    set -- $stats
    mig_stop "$src"
    [ "$MIG_RC" = 0 ] || { glog "$GUEST_NAME: source process $src exited $MIG_RC"; return 1; }
    stats="$1 ms, downtime $2 ms, $(($3 / 1048576)) MiB RAM sent"
    glog "$GUEST_NAME: hop $i ($src -> $i, to host $host): $stats"
    echo "hop $i to host $host: $stats" >> "$GUEST_LOG.hops"
    mig_send "$i" "tick $i" && mig_wait_marker "$i" "NVQ-TICK: $i " 300
}

# mig_run MACHINE NAME BLK: boot on host A, MIG_HOPS hops, stop fio, wait
# for the guest to power off on the last process and check its log.
# MIG_ARGS, MIG_ARGS_A, MIG_ARGS_B, MIG_CAPS: set by the caller.
mig_run() {
    local m=$1 i last rc=0
    GUEST_NAME=$2
    GUEST_LOG=$GUEST_LOGDIR/$2.log
    GUEST_INITRD=$GUEST_TMP/$2.initrd
    MIG_MACHINE="$m,nvdimm=on"
    # init_on_free: pages the guest frees (its initramfs) are zero pages,
    # which the stream carries as a flag, not as 4 KiB each
    MIG_APPEND="nvq.blk=$3 init_on_free=1"
    MIG_PID=()
    rm -f "$GUEST_LOG" "$GUEST_LOG".*
    : > "$GUEST_LOG"
    guest_initrd "$sc/migrate.sh" "$GUEST_INITRD"
    [ -n "${GUEST_FW+set}" ] || guest_fw_args
    mig_start 0 A
    mig_wait_marker 0 NVQ-READY 300 || { mig_stop 0 kill; guest_check "$GUEST_LOG"; return 1; }
    for ((i = 1; i <= MIG_HOPS; i++)); do
        if ! mig_hop "$i"; then
            [ -z "${MIG_PID[$i]:-}" ] || mig_stop "$i" kill
            mig_stop $((i - 1)) kill
            guest_check "$GUEST_LOG" || true
            return 1
        fi
    done
    last=$MIG_HOPS
    mig_send "$last" stop
    # the guest powers off after its report (QEMU exits 0)
    i=3000
    while kill -0 "${MIG_PID[$last]}" 2>/dev/null && [ $i -gt 0 ]; do sleep 0.1; i=$((i - 1)); done
    mig_stop "$last" kill
    [ "$MIG_RC" = 0 ] || { glog "$GUEST_NAME: the last QEMU exited $MIG_RC"; rc=1; }
    guest_check "$GUEST_LOG" || rc=1
    grep 'NVQ-FIO:' "$GUEST_LOG" | sed "s/^/guest: $GUEST_NAME: /" >&2
    [ "$(grep -c 'NVQ-FIO: .* writes=[1-9][0-9]* verified=[1-9]' "$GUEST_LOG")" = 2 ] ||
        { glog "$GUEST_NAME: no fio counts for both jobs"; rc=1; }
    [ $rc = 0 ] && glog "$GUEST_NAME: $MIG_HOPS hops, 0 verify errors, verified $(
        sed -n 's/.*NVQ-FIO: \([a-z]*\) writes=\([0-9]*\) verified=\([0-9]*\).*/\1 \3/p' "$GUEST_LOG" |
        awk '{ printf "%s%s %.1f MiB", (NR > 1 ? ", " : ""), $1, $2 * 4096 / 1048576 }')"
    rm -f "$GUEST_INITRD"
    return $rc
}

# migrate: the block device on an image file both processes open (shared
# storage on one host; the block layer hands it over at switch-over), the
# NVDIMM on a file per host: its contents, the DAX writes included, travel
# in the migration stream as two hosts with local pmem would do it.
t_migrate() {
    local m=$1 img=$GUEST_TMP/migrate-$1.img blk=${NVQEMU_MIG_BLK:-nvme}
    MIG_T=$GUEST_TMP/migrate-$m
    mkdir -p "$MIG_T"
    truncate -s 64M "$img"
    truncate -s 256M "$MIG_T/nvdimm-A.img" "$MIG_T/nvdimm-B.img"
    MIG_ARGS=(-drive "file=$img,if=none,id=d0,format=raw")
    mig_blk_dev "$blk"
    mig_nvdimm A "$MIG_T/nvdimm-A.img"
    mig_nvdimm B "$MIG_T/nvdimm-B.img"
    MIG_CAPS='{"capabilities":[]}'
    mig_run "$m" "migrate-$m" "$blk" || return 1
    rm -rf "$img" "$MIG_T"
}

# mig_blk_dev BLK: the device for drive d0 (nvme or virtio), into MIG_ARGS
mig_blk_dev() {
    case $1 in
        nvme) MIG_ARGS+=(-device "nvme,drive=d0,serial=NVQMIG") ;;
        virtio) MIG_ARGS+=(-device "virtio-blk-pci,drive=d0") ;;
    esac
}

# mig_nvdimm HOST FILE: the NVDIMM on HOST (MIG_ARGS_HOST), backed by FILE
mig_nvdimm() {
    local -n a=MIG_ARGS_$1
    # shellcheck disable=SC2034  # a names MIG_ARGS_A or MIG_ARGS_B
    a=(-object "memory-backend-file,id=mem-nv0,mem-path=$2,size=$((256 * MiB)),share=on,align=16M"
       -device "nvdimm,id=nv0,memdev=mem-nv0,label-size=131072")
}

# migrate-nbd: the scale-out path.  The block device's disk is an NBD export
# of a qemu-storage-daemon (started and stopped here by PID), which source
# and destination both open as two hosts would: no storage migration.  The
# NVDIMM is one file both processes map (share=on), so the RAM block is
# left out of the stream (x-ignore-shared, on both sides): sending it would
# write stale pages into the memory the running source still uses.
t_migrate_nbd() {
    local m=$1 img=$GUEST_TMP/migrate-nbd-$1.img blk=${NVQEMU_MIG_BLK:-nvme}
    local qsd sock rc=0 i
    MIG_T=$GUEST_TMP/migrate-nbd-$m
    sock=$MIG_T/nbd.sock
    mkdir -p "$MIG_T"
    truncate -s 64M "$img"
    truncate -s 256M "$MIG_T/nvdimm.img"
    "$(dirname "$NVQEMU_QEMU")/storage-daemon/qemu-storage-daemon" \
        --blockdev "driver=file,node-name=file0,filename=$img" \
        --blockdev "driver=raw,node-name=disk0,file=file0" \
        --nbd-server "addr.type=unix,addr.path=$sock" \
        --export "type=nbd,id=exp0,node-name=disk0,name=disk0,writable=on" \
        > "$GUEST_LOGDIR/migrate-nbd-$m.qsd" 2>&1 &
    qsd=$!
    GUEST_PIDS+=("$qsd")
    glog "migrate-nbd-$m: qemu-storage-daemon $qsd serving $img on $sock"
    i=100
    while [ ! -S "$sock" ] && kill -0 "$qsd" 2>/dev/null && [ $i -gt 0 ]; do sleep 0.1; i=$((i - 1)); done
    if [ ! -S "$sock" ]; then
        glog "qemu-storage-daemon did not start: $(tail -n 5 "$GUEST_LOGDIR/migrate-nbd-$m.qsd")"
        rc=1
    else
        MIG_ARGS=(-blockdev "driver=nbd,node-name=d0,server.type=unix,server.path=$sock,export=disk0")
        mig_blk_dev "$blk"
        mig_nvdimm A "$MIG_T/nvdimm.img"
        mig_nvdimm B "$MIG_T/nvdimm.img"
        MIG_CAPS='{"capabilities":[{"capability":"x-ignore-shared","state":true}]}'
        mig_run "$m" "migrate-nbd-$m" "$blk" || rc=1
    fi
    kill "$qsd" 2>/dev/null
    wait "$qsd" || { glog "qemu-storage-daemon exited $?"; rc=1; }
    local p keep=()
    for p in "${GUEST_PIDS[@]}"; do [ "$p" = "$qsd" ] || keep+=("$p"); done
    GUEST_PIDS=("${keep[@]}")
    [ $rc = 0 ] || return 1
    rm -rf "$img" "$MIG_T"
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
        # the scenario's diagnostics go to stderr when it ends, and after a
        # failure also into the TAP stream, under its "not ok" line
        "$fn" "$m" 2> "$GUEST_TMP/diag"
        rc=$?
        cat "$GUEST_TMP/diag" >&2
        if [ $rc = 0 ]; then
            echo "ok - guest: $s ($m)"
        else
            echo "not ok - guest: $s ($m)"
            tail -n 30 "$GUEST_TMP/diag" | sed 's/^/#   /'
            fail=$((fail + 1))
        fi
        glog "=== $s ($m): $(( $(date +%s) - t0 )) s"
    done
done
if [ "$GUEST_BOOT_HANGS" -gt 0 ]; then
    echo "# guest: $GUEST_BOOT_HANGS boot(s) hung in the kernel before init (guest_await_init boots such a guest once more)"
fi
[ "$fail" -eq 0 ]
