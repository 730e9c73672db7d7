# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: Namespace Management with nvme-cli on an nvme-subsys with
# a namespace pool of nvq.pool bytes (ns-pool=) and one controller, no
# namespace at boot (issue 8).
#   nvq.phase=1  id-ctrl TNVMCAP/UNVMCAP and OACS bit 3; create-ns of 64 MiB
#                (512 B blocks, shared) and 32 MiB (4 KiB blocks, private);
#                a create beyond the capacity refused; attach-ns both;
#                ns-rescan, the block devices appear with their block
#                sizes and id-ns NVMCAP; fio --verify=crc32c on the first;
#                a pattern at 32 MiB of it ("NVQ-SUM:"); format the second
#                to 512 B blocks and detach-ns it.
#   nvq.phase=2  (same pool image, new QEMU) namespace 1 is back attached
#                with the pattern (nvq.sum), namespace 2 allocated but not
#                attached (attach-ns: 512 B blocks, as formatted);
#                detach-ns and delete-ns both; UNVMCAP back to
#                TNVMCAP; a new namespace reads zeroes where the old one
#                had data; create-ns --block-size=4096 (Identify NS
#                FFFFFFFFh).
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

POOL=${NVQ_POOL:?nvq.pool}
MiB=1048576
TOTAL=$(( (POOL / MiB - 1) * MiB ))

# kv KEY: value of "KEY   : value" in the last run's text output
kv() {
    sed -n "s/^$1[[:space:]]*:[[:space:]]*\\([^[:space:]]*\\).*/\\1/p" /tmp/nvq-last | head -n 1 | tr -d ,
}
# caps: TNVMCAP, UNVMCAP, CNTLID and OACS from id-ctrl
caps() {
    run nvme id-ctrl /dev/nvme0
    TNVMCAP=$(kv tnvmcap); UNVMCAP=$(kv unvmcap)
    CNTLID=$(( $(kv cntlid) )); OACS=$(( $(kv oacs) ))
    [ -n "$TNVMCAP" ] && [ -n "$UNVMCAP" ] || fail "id-ctrl: no tnvmcap/unvmcap"
}
lbs() { cat "/sys/block/$1/queue/logical_block_size"; }
rescan() {
    run nvme ns-rescan /dev/nvme0
}

wait_for 20 "/dev/nvme0" test -c /dev/nvme0
caps
[ $((OACS & 8)) = 8 ] || fail "id-ctrl: OACS $OACS without Namespace Management"
[ "$TNVMCAP" = "$TOTAL" ] || fail "id-ctrl: TNVMCAP $TNVMCAP, expected $TOTAL"

if [ "${NVQ_PHASE:-1}" = 1 ]; then
    [ "$UNVMCAP" = "$TOTAL" ] || fail "id-ctrl: UNVMCAP $UNVMCAP on an empty pool"
    run nvme create-ns /dev/nvme0 --nsze=$((64 * MiB / 512)) --ncap=$((64 * MiB / 512)) --flbas=0 --nmic=1
    expect 'created nsid: *1' "create-ns (64 MiB, 512 B)"
    run nvme create-ns /dev/nvme0 --nsze=$((32 * MiB / 4096)) --ncap=$((32 * MiB / 4096)) --flbas=4 --nmic=0
    expect 'created nsid: *2' "create-ns (32 MiB, 4 KiB)"
    caps
    [ "$UNVMCAP" = $((TOTAL - 96 * MiB)) ] || fail "id-ctrl: UNVMCAP $UNVMCAP after 96 MiB created"
    echo "+ nvme create-ns beyond the capacity"
    if nvme create-ns /dev/nvme0 --nsze=$((TOTAL / 512)) --ncap=$((TOTAL / 512)) --flbas=0 > /tmp/nvq-last 2>&1; then
        cat /tmp/nvq-last; fail "create-ns beyond the capacity succeeded"
    fi
    cat /tmp/nvq-last
    expect 'INSUFFICIENT|[Ii]nsufficient|115' "create-ns beyond the capacity: status"
    caps
    [ "$UNVMCAP" = $((TOTAL - 96 * MiB)) ] || fail "id-ctrl: UNVMCAP $UNVMCAP changed by a refused create"

    run nvme attach-ns /dev/nvme0 --namespace-id=1 --controllers=$CNTLID
    run nvme attach-ns /dev/nvme0 --namespace-id=2 --controllers=$CNTLID
    rescan
    wait_for 20 "/dev/nvme0n1" test -b /dev/nvme0n1
    wait_for 20 "/dev/nvme0n2" test -b /dev/nvme0n2
    [ "$(lbs nvme0n1)" = 512 ] || fail "nvme0n1: $(lbs nvme0n1)-byte blocks"
    [ "$(lbs nvme0n2)" = 4096 ] || fail "nvme0n2: $(lbs nvme0n2)-byte blocks"
    [ $(( $(cat /sys/block/nvme0n1/size) * 512 )) = $((64 * MiB)) ] || fail "nvme0n1 size"
    run nvme id-ns /dev/nvme0 -n 1
    [ "$(kv nvmcap)" = $((64 * MiB)) ] || fail "id-ns 1: nvmcap $(kv nvmcap)"
    [ $(( $(kv nmic) )) = 1 ] || fail "id-ns 1: nmic $(kv nmic)"

    run fio --name=verify --filename=/dev/nvme0n1 --direct=1 \
        --ioengine=libaio --rw=randwrite --bs=4k --iodepth=16 --numjobs=2 \
        --size=16M --offset_increment=16M --verify=crc32c --verify_fatal=1 \
        --group_reporting
    expect 'err= *0' "fio"
    reject 'verify: bad|verify failed|crc32c: verify' "fio"
    run fio --name=verify4k --filename=/dev/nvme0n2 --direct=1 \
        --ioengine=libaio --rw=write --bs=64k --iodepth=8 --size=16M \
        --verify=crc32c --verify_fatal=1
    expect 'err= *0' "fio (4 KiB namespace)"
    # a format of a created namespace is kept too
    run nvme format /dev/nvme0n2 --lbaf=0 --force
    rescan
    wait_for 20 "nvme0n2 in 512 B blocks" sh -c '[ "$(cat /sys/block/nvme0n2/queue/logical_block_size)" = 512 ]'
    run dd if=/dev/urandom of=/tmp/pattern bs=1M count=4
    run dd if=/tmp/pattern of=/dev/nvme0n1 bs=1M seek=32 conv=fsync
    sum=$(md5sum /tmp/pattern | cut -d' ' -f1)
    echo "NVQ-SUM: $sum"
    run nvme detach-ns /dev/nvme0 --namespace-id=2 --controllers=$CNTLID
    rescan
    wait_for 20 "nvme0n2 gone" sh -c '! test -b /dev/nvme0n2'
    exit 0
fi

# phase 2: a new QEMU on the same pool
[ "$UNVMCAP" = $((TOTAL - 96 * MiB)) ] || fail "id-ctrl: UNVMCAP $UNVMCAP after a restart"
wait_for 20 "/dev/nvme0n1" test -b /dev/nvme0n1
sleep 1
[ ! -b /dev/nvme0n2 ] || fail "namespace 2 attached after a restart (it was detached)"
run dd if=/dev/nvme0n1 of=/tmp/back bs=1M skip=32 count=4 iflag=direct
sum=$(md5sum < /tmp/back | cut -d' ' -f1)
echo "NVQ-SUM: $sum"
[ "$sum" = "${NVQ_SUM:?nvq.sum}" ] || fail "namespace 1 at 32 MiB: md5 $sum, expected $NVQ_SUM"

# namespace 2 comes back in the format it was given
run nvme attach-ns /dev/nvme0 --namespace-id=2 --controllers=$CNTLID
rescan
wait_for 20 "/dev/nvme0n2" test -b /dev/nvme0n2
[ "$(lbs nvme0n2)" = 512 ] || fail "nvme0n2: $(lbs nvme0n2)-byte blocks after a restart (formatted to 512)"
run nvme detach-ns /dev/nvme0 --namespace-id=2 --controllers=$CNTLID
run nvme detach-ns /dev/nvme0 --namespace-id=1 --controllers=$CNTLID
rescan
wait_for 20 "nvme0n1 gone" sh -c '! test -b /dev/nvme0n1'
run nvme delete-ns /dev/nvme0 --namespace-id=1
run nvme delete-ns /dev/nvme0 --namespace-id=2
caps
[ "$UNVMCAP" = "$TOTAL" ] || fail "id-ctrl: UNVMCAP $UNVMCAP after deleting everything"

# the extent is reused and reads zeroes, not the old data
run nvme create-ns /dev/nvme0 --nsze=$((64 * MiB / 512)) --ncap=$((64 * MiB / 512)) --flbas=0
expect 'created nsid: *1' "create-ns after delete-ns"
run nvme attach-ns /dev/nvme0 --namespace-id=1 --controllers=$CNTLID
rescan
wait_for 20 "/dev/nvme0n1" test -b /dev/nvme0n1
run dd if=/dev/nvme0n1 of=/tmp/back bs=1M skip=32 count=4 iflag=direct
dd if=/dev/zero of=/tmp/z bs=1M count=4 2>/dev/null
cmp /tmp/z /tmp/back || fail "a new namespace shows a deleted one's data"
# --block-size: nvme-cli picks the format from Identify NS FFFFFFFFh
run nvme create-ns /dev/nvme0 --nsze=1024 --ncap=1024 --block-size=4096
expect 'created nsid: *2' "create-ns --block-size=4096"
run nvme attach-ns /dev/nvme0 --namespace-id=2 --controllers=$CNTLID
rescan
wait_for 20 "/dev/nvme0n2" test -b /dev/nvme0n2
[ "$(lbs nvme0n2)" = 4096 ] || fail "create-ns --block-size=4096: $(lbs nvme0n2)-byte blocks"
say "namespace management: ok"
