# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: end-to-end protection (issue 8).  One controller, two
# namespaces with 8 bytes of metadata and PI Type 1 (Linux uses PI when
# MS = 8 with a 16-bit guard): nsid 1 keeps its metadata after the data
# in its image (stock's layout), nsid 2 in a meta-drive.
#   nvq.phase=1  both show integrity/format T10-DIF-TYPE1-CRC (tag_size 2)
#                and the NVMe format (id-ns: ms 8, dps 1); fio randwrite
#                with crc32c verify on both; a 4 KiB pattern at 1 MiB of
#                each.  Prints "NVQ-SUM:" (the pattern).
#   (the host checks the PI tuples nsid 2's meta-drive holds for it, and
#   flips a byte of nsid 1's data in its image)
#   nvq.phase=2  (new QEMU) reading nsid 1 at 1 MiB fails (EILSEQ) with a
#                Guard Check Error in dmesg; nsid 2's pattern reads back.
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

wait_for 20 "/dev/nvme0n1" test -b /dev/nvme0n1
wait_for 20 "/dev/nvme0n2" test -b /dev/nvme0n2

for d in nvme0n1 nvme0n2; do
    run cat /sys/block/$d/integrity/format
    expect '^T10-DIF-TYPE1-CRC$' "$d integrity/format"
    run cat /sys/block/$d/integrity/tag_size
    expect '^2$' "$d integrity/tag_size"
done

if [ "${NVQ_PHASE:-1}" = 1 ]; then
    run nvme id-ns /dev/nvme0n1
    expect '^dps +: +0x1$' "id-ns dps (Type 1, PI last)"
    expect 'ms:8 +lbads:9 .*\(in use\)' "id-ns in-use format (512 B + 8)"
    run nvme id-ns /dev/nvme0n2
    expect 'ms:8 +lbads:9 .*\(in use\)' "id-ns nsid 2 in-use format"
    for d in nvme0n1 nvme0n2; do
        run fio --name=pi-$d --filename=/dev/$d --direct=1 \
            --ioengine=libaio --rw=randwrite --bs=4k --iodepth=16 \
            --size=8M --offset=4M --verify=crc32c --verify_fatal=1
        expect 'err= *0' "fio on $d"
        reject 'verify: bad|verify failed|crc32c: verify' "fio on $d"
    done
    run dd if=/dev/urandom of=/tmp/pattern bs=4k count=1
    for d in nvme0n1 nvme0n2; do
        run dd if=/tmp/pattern of=/dev/$d bs=4k seek=256 oflag=direct conv=fsync
        run dd if=/dev/$d of=/tmp/back bs=4k skip=256 count=1 iflag=direct
        cmp /tmp/pattern /tmp/back || fail "$d: pattern read back differs"
    done
    echo "NVQ-SUM: $(md5sum /tmp/pattern | cut -d' ' -f1)"
else
    dmesg -c > /dev/null
    if dd if=/dev/nvme0n1 of=/tmp/back bs=4k skip=256 count=1 iflag=direct \
        > /tmp/nvq-last 2>&1; then
        fail "nvme0n1: the read of data altered on the host succeeded"
    fi
    cat /tmp/nvq-last
    # BLK_STS_PROTECTION reaches dd as EILSEQ
    expect 'Invalid or incomplete multibyte|Illegal byte sequence|Input/output error' \
        "dd of the altered block"
    run dmesg
    expect 'Guard Check Error|sc 0x82' "dmesg (guard check error)"
    run dd if=/dev/nvme0n2 of=/tmp/back bs=4k skip=256 count=1 iflag=direct
    sum=$(md5sum /tmp/back | cut -d' ' -f1)
    [ "$sum" = "$NVQ_SUM" ] || fail "nvme0n2 at 1 MiB: md5 $sum, expected $NVQ_SUM"
fi
