# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: durability of an NVDIMM-N DIMM (nvdimm-n=on).  The host
# (tests/guest/run.sh t_nvdimm_flush) reads the DIMM's QOM flush-count at
# each "NVQ-STEP: n" and answers on the second serial port (ttyS1) before
# the guest goes on, so each count is taken while the guest is stopped.
#   nvq.phase=1  the region has a flush hint (deep_flush reads 1) and a
#                memory-controller persistence domain;
#                step 1 -> echo 1 > deep_flush -> step 2 (count +1);
#                fsdax + ext4 -o dax, step 3 -> a file written with
#                dd conv=fsync -> step 4 (count up); the host then SIGKILLs
#                QEMU and looks for the file's token in the backing file.
#   nvq.phase=2  (new QEMU, same file) the file's md5 equals nvq.sum.
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

deep=/sys/bus/nd/devices/region0/deep_flush

# step N: tell the host, then wait for its answer on ttyS1.
step() {
    echo "NVQ-STEP: $1"
    read -r _ <&3 || fail "no answer from the host after step $1"
    say "step $1: host answered"
}

run ndctl list -DRi
expect '"dev":"region0"' "the region region0"
expect '"persistence_domain":"memory_controller"' "region0's persistence domain"
[ -f "$deep" ] || fail "no $deep"
[ "$(cat $deep)" = 1 ] || fail "$deep reads '$(cat $deep)', expected 1 (flush hints)"

if [ "${NVQ_PHASE:-1}" = 1 ]; then
    stty -F /dev/ttyS1 raw -echo || fail "cannot set up ttyS1"
    exec 3</dev/ttyS1

    nvdimm_init_labels region0 nmem0
    run ndctl create-namespace -r region0 -m fsdax
    expect '"mode":"fsdax"'
    blk=$(field blockdev)
    [ -b "/dev/$blk" ] || fail "no pmem block device"

    step 1
    echo 1 > "$deep" || fail "writing 1 to $deep failed"
    step 2

    run mkfs.ext4 -F -q -b 4096 "/dev/$blk"
    run mount -o dax "/dev/$blk" /mnt
    grep -E "^/dev/$blk /mnt ext4 .*dax" /proc/mounts || fail "/mnt is not mounted with dax"
    token=NVQFLUSH$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
    i=0
    : > /tmp/pattern
    while [ $i -lt 512 ]; do
        printf '%s-%05d-' "$token" $i >> /tmp/pattern
        i=$((i + 1))
    done
    sum=$(md5sum /tmp/pattern | cut -d' ' -f1)
    echo "NVQ-TOKEN: $token"
    echo "NVQ-SUM: $sum"
    step 3
    run dd if=/tmp/pattern of=/mnt/data bs=4096 conv=fsync
    # the host kills QEMU at this step: nothing after it runs
    step 4
    fail "the host did not stop QEMU after step 4"
else
    run ndctl list -N -r region0
    expect '"mode":"fsdax"' "the fsdax namespace after the SIGKILL"
    blk=$(field blockdev)
    [ -b "/dev/$blk" ] || fail "no pmem block device after the SIGKILL"
    run mount -o dax "/dev/$blk" /mnt
    sum=$(md5sum /mnt/data | cut -d' ' -f1)
    echo "NVQ-SUM: $sum"
    [ "$sum" = "$NVQ_SUM" ] || fail "file checksum $sum, expected $NVQ_SUM"
    run umount /mnt
fi
