# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest side of bench/nvme (appended to the test image as /scenario.sh).
# Interleaves fio 4 KiB random reads (io_uring, direct) across the NVMe
# namespace, a virtio-blk disk and the guest's own null_blk, for
# nvq.rounds rounds of nvq.runtime seconds per run, at each depth in
# nvq.depths (comma list, default 1,4,16,32).  Prints one line per run:
#   NVQ-BENCH: round=R qd=Q dev=nvme|virtio|null iops=N
# shellcheck source=SCRIPTDIR/../tests/guest/guest-lib.sh
. /lib/nvq.sh

rounds=${NVQ_ROUNDS:-3}
runtime=${NVQ_RUNTIME:-3}
depths=$(echo "${NVQ_DEPTHS:-1,4,16,32}" | tr ',' ' ')

# null_blk as the no-emulation ceiling: blk-mq, completions inline
# (irqmode=0), the same size as the others.
rmmod null_blk 2>/dev/null
nb=$(find /lib/modules -name 'null_blk.ko' | head -n 1)
[ -n "$nb" ] || fail "null_blk.ko not in the image"
run insmod "$nb" queue_mode=2 irqmode=0 nr_devices=1 gb=1 bs=4096 \
    submit_queues=2 hw_queue_depth=64

wait_for 20 "/dev/nvme0n1" test -b /dev/nvme0n1
wait_for 20 "/dev/vda" test -b /dev/vda
wait_for 20 "/dev/nullb0" test -b /dev/nullb0

# Terse fio output v3: field 8 is the read IOPS.
iops() {
    fio --name=b --filename="$1" --direct=1 --ioengine=io_uring \
        --rw=randread --bs=4k --iodepth="$2" --runtime="$runtime" \
        --time_based --size=512M --norandommap --randrepeat=0 \
        --output-format=terse --terse-version=3 2>/dev/null |
        awk -F';' '{print $8; exit}'
}

r=1
while [ "$r" -le "$rounds" ]; do
    for qd in $depths; do
        for dev in nvme:/dev/nvme0n1 virtio:/dev/vda null:/dev/nullb0; do
            v=$(iops "${dev#*:}" "$qd")
            [ -n "$v" ] || fail "fio on ${dev#*:} (qd $qd) gave no figure"
            echo "NVQ-BENCH: round=$r qd=$qd dev=${dev%%:*} iops=$v"
        done
    done
    r=$((r + 1))
done
