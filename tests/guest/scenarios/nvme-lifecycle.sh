# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: the NVMe controller's lifecycle under load (issue 11).  One
# controller, one namespace.  fio writes 64 MiB with crc32c verify headers
# (rate-limited to 4 MiB/s, so it runs ~16 s) while the guest:
#   - resets the controller (nvme reset: CC.EN=0 with I/O in flight, then
#     the driver re-enables it and requeues what was cancelled),
#   - rescans the namespaces (nvme ns-rescan),
#   - resets the PCI function through sysfs (FLR where the device has it),
#   - resets the controller again;
# fio must end without an I/O error.  Then the driver is unbound from the
# device and bound again through sysfs (the controller is shut down and
# brought up from scratch), and fio reads everything back with
# --verify_only: 0 corrupt blocks.
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

DEV=/dev/nvme0n1
FIO="fio --name=life --rw=randwrite --bs=16k --size=64M \
 --direct=1 --ioengine=psync --iodepth=1 --randrepeat=1 --verify=crc32c \
 --verify_fatal=1"

# ns_dev: the (only) controller's namespace 1 block device, once it is there
ns_dev() {
    for d in /dev/nvme*n1; do
        [ -b "$d" ] && { echo "$d"; return 0; }
    done
    return 1
}

wait_for 30 "$DEV" test -b $DEV
BDF=$(basename "$(readlink /sys/class/nvme/nvme0/device)")
[ -e "/sys/bus/pci/devices/$BDF" ] || fail "no PCI device for nvme0 ($BDF)"
say "controller nvme0 at $BDF"

# the write pass, in the background, with disruptions under it
# shellcheck disable=SC2086
$FIO --filename=$DEV --do_verify=0 --rate=4m > /tmp/fio-write 2>&1 &
FIO_PID=$!
sleep 2
run nvme reset /dev/nvme0
wait_for 30 "$DEV after nvme reset" test -b $DEV
sleep 1
run nvme ns-rescan /dev/nvme0
sleep 1
if [ -e "/sys/bus/pci/devices/$BDF/reset" ]; then
    if echo 1 > "/sys/bus/pci/devices/$BDF/reset"; then
        say "PCI function reset through sysfs"
    else
        say "PCI function reset through sysfs refused (no reset method)"
    fi
fi
sleep 1
run nvme reset /dev/nvme0
kill -0 "$FIO_PID" 2>/dev/null || say "(fio ended before the last reset)"
wait "$FIO_PID"
rc=$?
cat /tmp/fio-write
[ $rc -eq 0 ] || fail "fio write pass under resets exited $rc"
grep -Eq 'err= *0' /tmp/fio-write || fail "fio write pass reported errors"
say "write pass under resets: no I/O error"

# driver unbind and bind: the controller is shut down and started afresh
echo "$BDF" > /sys/bus/pci/drivers/nvme/unbind || fail "unbind $BDF"
wait_for 30 "$DEV gone after unbind" sh -c "! test -e /sys/bus/pci/devices/$BDF/nvme"
echo "$BDF" > /sys/bus/pci/drivers/nvme/bind || fail "bind $BDF"
wait_for 30 "namespace after bind" ns_dev
DEV=$(ns_dev)
say "after unbind/bind: $DEV"

# shellcheck disable=SC2086
run $FIO --filename="$DEV" --verify_only
expect 'err= *0' "fio --verify_only"
reject 'verify failed|bad magic|bad header|corrupt' "fio --verify_only"
say "verify after the lifecycle: 0 corrupt"
