# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: durability across SIGKILL of QEMU, on an NVMe namespace
# (qcow2 image: QEMU caches its metadata until a Flush) and on an NVDIMM-N
# fsdax namespace (nvdimm-n=on, ext4 -o dax: fsync writes the flush hint).
# The host (tests/guest/run.sh t_durability) boots nvq.trials + 1 times on
# the same two backing files:
#   nvq.phase=k (k <= trials)  the files of trials 1..k-1 read back with the
#       checksums of nvq.sums (comma separated); a new 4 MiB file t<k> is
#       written to both filesystems with dd conv=fsync (Flush / flush
#       hint); "NVQ-SYNCED: k" once both returned; the host SIGKILLs QEMU.
#   nvq.phase=trials+1  every file reads back; the guest powers off.
# Phase 1 also creates both filesystems.
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

k=${NVQ_PHASE:-1}
wait_for 20 "/dev/nvme0n1" test -b /dev/nvme0n1
if [ "$k" = 1 ]; then
    run mkfs.ext4 -F -q -b 4096 /dev/nvme0n1
    nvdimm_init_labels region0 nmem0
    run ndctl create-namespace -r region0 -m fsdax
    expect '"mode":"fsdax"'
fi
run ndctl list -N -r region0
expect '"mode":"fsdax"' "the fsdax namespace"
pmem=$(field blockdev)
[ -b "/dev/$pmem" ] || fail "no pmem block device"
[ "$k" = 1 ] && run mkfs.ext4 -F -q -b 4096 "/dev/$pmem"
mkdir -p /mnt/nvme /mnt/pmem
run mount /dev/nvme0n1 /mnt/nvme
run mount -o dax "/dev/$pmem" /mnt/pmem
grep -E "^/dev/$pmem /mnt/pmem ext4 .*dax" /proc/mounts || fail "/mnt/pmem is not mounted with dax"

# the files of the trials before, on both devices
i=1
for want in $(echo "${NVQ_SUMS:-}" | tr ',' ' '); do
    for d in nvme pmem; do
        [ -f "/mnt/$d/t$i" ] || fail "$d: t$i missing after the SIGKILL"
        got=$(md5sum "/mnt/$d/t$i" | cut -d' ' -f1)
        [ "$got" = "$want" ] || fail "$d: t$i md5 $got, expected $want"
    done
    say "t$i intact on nvme and pmem"
    i=$((i + 1))
done
[ $i = "$k" ] || fail "phase $k got $((i - 1)) checksums"

if [ "$k" -le "${NVQ_TRIALS:-1}" ]; then
    run dd if=/dev/urandom of=/tmp/pattern bs=1M count=4
    sum=$(md5sum /tmp/pattern | cut -d' ' -f1)
    run dd if=/tmp/pattern of="/mnt/nvme/t$k" bs=1M conv=fsync
    run dd if=/tmp/pattern of="/mnt/pmem/t$k" bs=1M conv=fsync
    echo "NVQ-SUM: $sum"
    echo "NVQ-SYNCED: $k"
    # the host kills QEMU now: nothing after this runs
    sleep 600
    fail "the host did not stop QEMU after trial $k"
fi
run umount /mnt/nvme
run umount /mnt/pmem
