# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: a cold-plugged NVDIMM with a fresh label area.
#   nvq.phase=1  list the DIMM and region, initialise the labels, create a
#                devdax, a sector and an fsdax namespace in turn (destroying
#                between), mkfs.ext4 + mount -o dax on the fsdax one and
#                write a file; prints "NVQ-SUM: <md5>" of the file.
#   nvq.phase=2  (same backing file, new QEMU) the fsdax namespace is still
#                there and the file's md5 equals nvq.sum.
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

run ndctl list -DRNi
expect '"dev":"nmem0"' "the DIMM nmem0"
expect '"dev":"region0"' "the region region0"

if [ "${NVQ_PHASE:-1}" = 1 ]; then
    nvdimm_init_labels region0 nmem0
    expect '"available_size":' "region0 after init-labels"

    run ndctl create-namespace -r region0 -m devdax
    expect '"mode":"devdax"'
    ns=$(field dev); dax=$(field chardev)
    [ -n "$dax" ] || fail "empty dax"
    [ -c "/dev/$dax" ] || fail "no device-dax character device for $ns"
    run daxctl list
    expect "\"chardev\":\"$dax\"" "daxctl list"
    run ndctl destroy-namespace -f "$ns"

    run ndctl create-namespace -r region0 -m sector
    expect '"mode":"sector"'
    ns=$(field dev); blk=$(field blockdev)
    [ -n "$blk" ] || fail "empty blk"
    [ -b "/dev/$blk" ] || fail "no BTT block device for $ns"
    roundtrip "/dev/$blk"
    run ndctl destroy-namespace -f "$ns"

    run ndctl create-namespace -r region0 -m fsdax
    expect '"mode":"fsdax"'
    blk=$(field blockdev)
    [ -n "$blk" ] || fail "empty blk"
    [ -b "/dev/$blk" ] || fail "no pmem block device"
    run mkfs.ext4 -F -q -b 4096 "/dev/$blk"
    run mount -o dax "/dev/$blk" /mnt
    grep -E "^/dev/$blk /mnt ext4 .*dax" /proc/mounts || fail "/mnt is not mounted with dax"
    run dd if=/dev/urandom of=/mnt/data bs=1M count=8
    sum=$(md5sum /mnt/data | cut -d' ' -f1)
    run umount /mnt
    echo "NVQ-SUM: $sum"
else
    expect '"mode":"fsdax"' "the fsdax namespace after a new boot"
    blk=$(field blockdev)
    [ -n "$blk" ] || fail "empty blk"
    [ -b "/dev/$blk" ] || fail "no pmem block device after a new boot"
    run mount -o dax "/dev/$blk" /mnt
    grep -E "^/dev/$blk /mnt ext4 .*dax" /proc/mounts || fail "/mnt is not mounted with dax"
    sum=$(md5sum /mnt/data | cut -d' ' -f1)
    echo "NVQ-SUM: $sum"
    [ "$sum" = "$NVQ_SUM" ] || fail "file checksum $sum, expected $NVQ_SUM"
    run umount /mnt
fi
