# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: NVMe multipath (issue 8).  One nvme-subsys (SUBNQN
# nvq.nqn) with two controllers that share namespace 1, and a shared
# namespace 2 created detached.
#   - nvme list-subsys: one subsystem, two controllers; one multipath head
#     /dev/nvmeXn1 and no other block device (X, the subsystem's instance,
#     is the instance of whichever controller Linux probed first)
#   - attach-ns of namespace 2 to both controllers: its head appears with
#     two paths; detach-ns: it goes
#   - fio verify through the head; then a pattern, and one controller's
#     PCI function removed (echo 1 > .../remove) while fio runs: the I/O
#     continues on the other path, fio verifies, the pattern reads back,
#     list-subsys shows one controller
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

NQN=${NVQ_NQN:?nvq.nqn}

# ctrls: the controllers of the subsystem, one a line (nvme0, nvme1)
ctrls() { ls "$SS" | grep -E '^nvme[0-9]+$'; }
# heads: the namespace block devices (multipath heads) of the subsystem
heads() { ls /sys/block | grep -E '^nvme[0-9]+n[0-9]+$'; }
# pattern FILE MIB: MIB MiB of random data
pattern() { dd if=/dev/urandom of="$1" bs=1M count="$2" 2>/dev/null || fail "dd urandom"; }

wait_for 90 "a namespace head" sh -c "ls /sys/block | grep -qE '^nvme[0-9]+n1\$'"
H1=$(heads | grep -E '^nvme[0-9]+n1$' | head -n 1)
SI=${H1%n1}; SI=${SI#nvme}
SS=/sys/class/nvme-subsystem/nvme-subsys$SI
say "namespace 1 is /dev/$H1, subsystem nvme-subsys$SI"
wait_for 30 "/dev/$H1" test -b "/dev/$H1"
wait_for 60 "two controllers in nvme-subsys$SI" sh -c "[ \$(ls $SS | grep -cE '^nvme[0-9]+\$') = 2 ]"
run cat /sys/module/nvme_core/parameters/multipath
expect '^Y$' "nvme_core.multipath"
run cat "$SS/subsysnqn"
expect "^$NQN\$" "subsysnqn"

run nvme list-subsys
expect "nvme-subsys$SI - NQN=$NQN" "list-subsys: the subsystem"
[ "$(count 'nvme-subsys[0-9]+ - NQN')" = 1 ] || fail "list-subsys: expected one subsystem"
[ "$(count '^ *[+\\]- nvme[0-9]+ pcie ')" = 2 ] || fail "list-subsys: expected two controllers (paths)"
for c in $(ctrls); do
    run cat "/sys/class/nvme/$c/cntlid"
    echo "$c $(cat /sys/class/nvme/$c/cntlid)" >> /tmp/cntlids
done
[ "$(cut -d' ' -f2 /tmp/cntlids | sort -u | wc -l)" = 2 ] || fail "the two controllers share a cntlid"
run heads
[ "$(heads | wc -l)" = 1 ] || fail "expected one namespace block device (the head $H1)"
# the head's paths: one hidden disk per controller
[ "$(ls /sys/class/nvme/*/ | grep -cE "^nvme${SI}c[0-9]+n1\$")" = 2 ] ||
    fail "$H1: expected a path (nvme${SI}cXn1) through each controller"

# --- namespace 2, created detached: attach to both controllers, detach
c0=$(sed -n 1p /tmp/cntlids); c1=$(sed -n 2p /tmp/cntlids)
n0=${c0% *}; id0=${c0#* }; id1=${c1#* }
run nvme list-ns "/dev/$n0" --all
expect '^\[ *1\]: *0x2$' "list-ns --all: namespace 2 allocated"
run nvme list-ns "/dev/$n0"
reject '0x2$' "list-ns: namespace 2 attached before attach-ns"
run nvme list-ctrl "/dev/$n0"
expect '^num of ctrls present: 2$' "list-ctrl: two controllers"
run nvme attach-ns "/dev/$n0" -n 2 -c "$id0,$id1"
wait_for 30 "namespace 2's block device" sh -c "[ \$(ls /sys/block | grep -cE '^nvme[0-9]+n[0-9]+\$') = 2 ]"
head2=$(heads | grep -v "^$H1\$")
say "namespace 2 is /dev/$head2"
wait_for 20 "/dev/$head2" test -b "/dev/$head2"
run nvme list-ctrl "/dev/$n0" -n 2
expect '^num of ctrls present: 2$' "list-ctrl -n 2: both controllers"
pattern /tmp/p2 1
run dd if=/tmp/p2 of="/dev/$head2" bs=1M oflag=direct
run dd if="/dev/$head2" of=/tmp/r2 bs=1M count=1 iflag=direct
cmp /tmp/p2 /tmp/r2 || fail "$head2: data read back differs"
run nvme detach-ns "/dev/$n0" -n 2 -c "$id0,$id1"
wait_for 30 "namespace 2's block device gone" sh -c "[ ! -e /sys/block/$head2 ]"
run nvme list-ctrl "/dev/$n0" -n 2
expect '^num of ctrls present: 0$' "list-ctrl -n 2: none after detach-ns"
# detach again: Namespace Not Attached, a clean error
echo "+ nvme detach-ns /dev/$n0 -n 2 -c $id0 (must fail)"
if nvme detach-ns "/dev/$n0" -n 2 -c "$id0" > /tmp/nvq-last 2>&1; then
    cat /tmp/nvq-last; fail "a second detach-ns succeeded"
fi
cat /tmp/nvq-last
expect 'NS_NOT_ATTACHED|Not Attached|0x11a|0x211a' "detach-ns of a detached namespace"

# --- fio verify through the head
run fio --direct=1 --ioengine=libaio --rw=randwrite --bs=4k --iodepth=16 \
    --size=16M --verify=crc32c --verify_fatal=1 --name=mp --filename=/dev/$H1
[ "$(count 'err= *0')" = 1 ] || fail "fio: expected err=0"
reject 'verify: bad|verify failed|crc32c: verify' "fio"

# --- one path goes while I/O runs
pattern /tmp/p1 4
run dd if=/tmp/p1 of=/dev/$H1 bs=1M seek=32 oflag=direct
victim=$(ctrls | head -n 1)
bdf=$(basename "$(readlink -f /sys/class/nvme/$victim/device)")
say "removing $victim (PCI $bdf) under fio"
fio --direct=1 --ioengine=libaio --rw=randwrite --bs=4k --iodepth=8 \
    --size=32M --offset=64M --verify=crc32c --verify_fatal=1 --loops=3 \
    --name=failover --filename=/dev/$H1 \
    > /tmp/fio-failover 2>&1 &
fio_pid=$!
sleep 2
echo 1 > "/sys/bus/pci/devices/$bdf/remove" || fail "remove $bdf"
wait "$fio_pid"; rc=$?
cat /tmp/fio-failover
[ "$rc" = 0 ] || fail "fio across the path removal exited $rc"
grep -Eq 'err= *0' /tmp/fio-failover || fail "fio across the path removal: an error"
! grep -Eq 'verify: bad|verify failed|crc32c: verify' /tmp/fio-failover || fail "fio across the path removal: verify failed"
wait_for 20 "one controller left" sh -c "[ \$(ls $SS | grep -cE '^nvme[0-9]+\$') = 1 ]"
run nvme list-subsys
[ "$(count '^ *[+\\]- nvme[0-9]+ pcie ')" = 1 ] || fail "list-subsys: expected one controller after the removal"
run dd if=/dev/$H1 of=/tmp/r1 bs=1M skip=32 count=4 iflag=direct
cmp /tmp/p1 /tmp/r1 || fail "$H1: data written before the removal differs"
roundtrip /dev/$H1
say "multipath: I/O continued on the remaining path"
