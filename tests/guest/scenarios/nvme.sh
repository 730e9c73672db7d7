# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: one NVMe controller with serial nvq.serial.
#   nvq.phase=1  nvme list / id-ctrl / smart-log, fio randwrite with crc32c
#                verification, then a pattern at 64 MiB; prints "NVQ-SUM:".
#   nvq.phase=2  (same image, new QEMU) the pattern reads back (nvq.sum).
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

wait_for 20 "/dev/nvme0n1" test -b /dev/nvme0n1
run nvme list
expect "$NVQ_SERIAL" "nvme list (serial $NVQ_SERIAL)"
expect '/dev/nvme0n1' "nvme list"

if [ "${NVQ_PHASE:-1}" = 1 ]; then
    run nvme id-ctrl /dev/nvme0
    expect "^sn +: +$NVQ_SERIAL" "id-ctrl serial"
    expect '^mn +: +[^ ]' "id-ctrl model"
    expect '^nn +: +[1-9]' "id-ctrl number of namespaces"
    run nvme list-ns /dev/nvme0
    expect '^\[ *0\]: *0x1$' "list-ns (active namespace 1)"
    [ "$(count '^\[')" = 1 ] || fail "list-ns: expected exactly one active namespace"
    run nvme smart-log /dev/nvme0
    expect '^critical_warning[[:space:]]+: 0$' "smart-log critical_warning"
    expect '^temperature[[:space:]]+: [0-9]+' "smart-log temperature"
    run nvme id-ns /dev/nvme0n1
    expect '^nsze +: +0x[0-9a-f]+' "id-ns size"
    run fio --name=randwrite --filename=/dev/nvme0n1 --direct=1 \
        --ioengine=libaio --rw=randwrite --bs=4k --iodepth=32 --numjobs=2 \
        --size=16M --offset_increment=16M --verify=crc32c --verify_fatal=1 \
        --group_reporting
    expect 'err= *0' "fio"
    expect 'read: IOPS=' "fio verify pass"
    expect 'write: IOPS=' "fio write pass"
    reject 'verify: bad|verify failed|crc32c: verify' "fio"
    run dd if=/dev/urandom of=/tmp/pattern bs=1M count=4
    run dd if=/tmp/pattern of=/dev/nvme0n1 bs=1M seek=64 conv=fsync
    sum=$(md5sum /tmp/pattern | cut -d' ' -f1)
    echo "NVQ-SUM: $sum"
else
    run dd if=/dev/nvme0n1 of=/tmp/back bs=1M skip=64 count=4
    sum=$(md5sum /tmp/back | cut -d' ' -f1)
    echo "NVQ-SUM: $sum"
    [ "$sum" = "$NVQ_SUM" ] || fail "data at 64 MiB: md5 $sum, expected $NVQ_SUM"
fi
