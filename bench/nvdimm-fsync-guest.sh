# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest side of bench/nvdimm-fsync (appended to the test image as
# /scenario.sh).  Two pmem devices in one guest: an NVDIMM with
# nvdimm-n=on (flush hints; region0, labels) and a virtio-pmem device
# (the other region).  Each gets ext4 mounted with -o dax; then, for
# nvq.rounds rounds, fio writes 4 KiB blocks with an fsync after each for
# nvq.runtime seconds on one, then the other.  Prints one line per run:
#   NVQ-BENCH: round=R dev=nvdimm|virtio fsync_mean_ns=N iops=N
# shellcheck source=SCRIPTDIR/../tests/guest/guest-lib.sh
. /lib/nvq.sh

rounds=${NVQ_ROUNDS:-3}
runtime=${NVQ_RUNTIME:-5}

run ndctl list -Ri
nvdimm_init_labels region0 nmem0
run ndctl create-namespace -r region0 -m fsdax
nvblk=$(field blockdev)
[ -b "/dev/$nvblk" ] || fail "no fsdax block device on the NVDIMM"
[ "$(cat /sys/bus/nd/devices/region0/deep_flush)" = 1 ] ||
    fail "region0 has no flush hint (deep_flush is not 1)"

# virtio-pmem: the pmem device that is not the NVDIMM's namespace
vblk=
for b in /sys/block/pmem*; do
    [ -e "$b" ] || continue
    b=${b##*/}
    [ "$b" = "$nvblk" ] || vblk=$b
done
[ -n "$vblk" ] && [ -b "/dev/$vblk" ] || fail "no virtio-pmem block device"

mkdir -p /mnt/nvdimm /mnt/virtio
for d in nvdimm:$nvblk virtio:$vblk; do
    run mkfs.ext4 -F -q -b 4096 "/dev/${d#*:}"
    run mount -o dax "/dev/${d#*:}" "/mnt/${d%%:*}"
    grep -E "^/dev/${d#*:} /mnt/${d%%:*} ext4 .*dax" /proc/mounts ||
        fail "/mnt/${d%%:*} is not mounted with dax"
done

# fio's JSON: the mean of the "sync" latencies (ns), and the write IOPS.
fsync_run() {
    fio --name=f --filename="$1/bench" --rw=write --bs=4k --size=64M \
        --ioengine=psync --fsync=1 --runtime="$runtime" --time_based \
        --output-format=json 2>/dev/null > /tmp/fio.json || return 1
    mean=$(awk '/"sync"/ {s = 1} s && /"lat_ns"/ {l = 1}
                l && /"mean"/ {gsub(/[^0-9.]/, "", $0); print; exit}' /tmp/fio.json)
    iops=$(awk '/"write" : \{/ {w = 1} w && /"iops"/ {gsub(/[^0-9.]/, "", $0); print; exit}' /tmp/fio.json)
    [ -n "$mean" ] && [ -n "$iops" ]
}

r=1
while [ "$r" -le "$rounds" ]; do
    for dev in nvdimm virtio; do
        fsync_run "/mnt/$dev" || fail "fio on /mnt/$dev gave no figure"
        echo "NVQ-BENCH: round=$r dev=$dev fsync_mean_ns=$mean iops=$iops"
    done
    r=$((r + 1))
done
for dev in nvdimm virtio; do
    run umount "/mnt/$dev"
done
