# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: the NVMe drive is raw over blkdebug with werror=stop and
# rerror=stop; one rule fails one write (once) in the middle of the range
# fio writes.  The host sees the VM stop (io-error) and sends `cont`; the
# command runs again and completes once.  Here: fio randwrite with crc32c
# verify passes, the kernel logged no I/O error, and the controller's
# error log and SMART media error count stay empty (nothing failed as far
# as the guest can tell).
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

wait_for 20 "/dev/nvme0n1" test -b /dev/nvme0n1
run fio --name=werror --filename=/dev/nvme0n1 --direct=1 \
    --ioengine=libaio --rw=randwrite --bs=4k --iodepth=16 --numjobs=1 \
    --size=16M --verify=crc32c --verify_fatal=1
expect 'err= *0' "fio"
expect 'read: IOPS=' "fio verify pass"
reject 'verify: bad|verify failed|crc32c: verify' "fio"
run dmesg
reject 'I/O error|critical medium error' "kernel log"
run nvme smart-log /dev/nvme0
expect '^media_errors[[:space:]]+: 0$' "smart-log media_errors"
expect '^num_err_log_entries[[:space:]]+: 0$' "smart-log error log entries"
