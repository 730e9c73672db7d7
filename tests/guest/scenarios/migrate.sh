# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: fio with verification runs while the host live-migrates
# the guest between QEMU processes (tests/guest/run.sh t_migrate and
# t_migrate_nbd).  Two fio processes run from NVQ-READY until the host says
# "stop":
#   blk  libaio randwrite on the block device (nvq.blk=nvme: /dev/nvme0n1,
#        nvq.blk=virtio: /dev/vda), 4 KiB, QD 8
#   dax  psync randwrite on a file of ext4 -o dax on an fsdax namespace of
#        the NVDIMM (the writes land in the DIMM's memory, which migration
#        must carry across with its dirty pages), at most 2 MiB/s so that
#        the vCPUs leave the host's cores some time for the migration
# both with crc32c headers, verify_backlog (every block written is read back
# and checked while the job runs) and verify_fatal.  The host drives the
# guest on the second serial port (ttyS1), one command a line:
#   tick N   after hop N: both fio processes must be alive and must make
#            progress on the new QEMU (block device write count, dax job's
#            written bytes); answers "NVQ-TICK: N ..."
#   stop     stop both fio processes (SIGINT), check they exited 0 without a
#            verify error and report "NVQ-FIO: JOB writes=W verified=V"
#            (4 KiB blocks)
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

case ${NVQ_BLK:-nvme} in
    nvme) dev=nvme0n1 ;;
    virtio) dev=vda ;;
    *) fail "unknown nvq.blk=$NVQ_BLK" ;;
esac
# how long fio may run at most: the host stops it long before
runtime=${NVQ_RUNTIME:-1800}
# seconds a tick waits for both jobs to make progress
progress_wait=${NVQ_PROGRESS:-120}

wait_for 20 "/dev/$dev" test -b "/dev/$dev"
stty -F /dev/ttyS1 raw -echo || fail "cannot set up ttyS1"
exec 3</dev/ttyS1

nvdimm_init_labels region0 nmem0
run ndctl create-namespace -r region0 -m fsdax
expect '"mode":"fsdax"'
pmem=$(field blockdev)
[ -b "/dev/$pmem" ] || fail "no pmem block device"
run mkfs.ext4 -F -q -b 4096 "/dev/$pmem"
run mount -o dax "/dev/$pmem" /mnt
grep -E "^/dev/$pmem /mnt ext4 .*dax" /proc/mounts || fail "/mnt is not mounted with dax"

common="--rw=randwrite --bs=4k --size=32M --verify=crc32c --verify_backlog=256 --eta=never
        --verify_fatal=1 --time_based --runtime=$runtime --thread"
# shellcheck disable=SC2086  # $common is a list of options
fio --name=blk --filename="/dev/$dev" --direct=1 --ioengine=libaio --iodepth=8 \
    $common --output=/tmp/fio-blk.out &
blk_pid=$!
# shellcheck disable=SC2086
fio --name=dax --filename=/mnt/fio.dat --ioengine=psync $common \
    --rate=2m --output=/tmp/fio-dax.out &
dax_pid=$!

# blk_writes: write requests completed on the block device
blk_writes() { awk '{ print $5 }' "/sys/block/$dev/stat"; }
# dax_bytes: bytes the dax job has written (its threads' pwrite calls)
dax_bytes() { sed -n 's/^wchar: //p' "/proc/$dax_pid/io"; }

alive() {
    kill -0 "$blk_pid" 2>/dev/null || { cat /tmp/fio-blk.out; fail "fio (blk) is not running"; }
    kill -0 "$dax_pid" 2>/dev/null || { cat /tmp/fio-dax.out; fail "fio (dax) is not running"; }
}

# progress WHEN: wait until both jobs have written more than they had
# (both alive all along)
progress() {
    alive
    _b=$(blk_writes); _d=$(dax_bytes)
    _t=$((progress_wait * 5))
    while [ "$(blk_writes)" -le "$_b" ] || [ "$(dax_bytes)" -le "$_d" ]; do
        alive
        _t=$((_t - 1)); [ $_t -gt 0 ] || fail "fio made no progress $1"
        sleep 0.2
    done
}

progress "before the first hop"
echo "NVQ-READY"

# report JOB: check fio's exit and output, print the counts
report() {
    _out=/tmp/fio-$1.out
    cat "$_out"
    grep -Eq 'err= *0' "$_out" || fail "fio ($1): no 'err= 0'"
    ! grep -Eiq 'verify: bad|verify failed|crc32c: verify|bad magic|fio: pid=.*error' "$_out" ||
        fail "fio ($1) reported a verification error"
    _tot=$(sed -n 's/.*issued rwts: total=\([0-9]*\),\([0-9]*\),.*/\1 \2/p' "$_out" | head -n 1)
    [ -n "$_tot" ] || fail "fio ($1): no 'issued rwts' line"
    # shellcheck disable=SC2086  # two numbers
    set -- "$1" $_tot
    [ "$2" -gt 0 ] || fail "fio ($1) verified nothing"
    echo "NVQ-FIO: $1 writes=$3 verified=$2"
}

while read -r cmd arg <&3; do
    case $cmd in
        tick)
            progress "after hop $arg"
            echo "NVQ-TICK: $arg blk_writes=$(blk_writes) dax_bytes=$(dax_bytes)"
            ;;
        stop)
            alive
            kill -INT "$blk_pid" "$dax_pid"
            wait "$blk_pid"; rc_blk=$?
            wait "$dax_pid"; rc_dax=$?
            report blk
            report dax
            # fio exits 128 when a signal ended its run (0 when the run had
            # ended by itself); a verify error makes it exit 1
            case $rc_blk in 0|128) ;; *) fail "fio (blk) exited $rc_blk" ;; esac
            case $rc_dax in 0|128) ;; *) fail "fio (dax) exited $rc_dax" ;; esac
            run umount /mnt
            exit 0
            ;;
        *)
            say "ignoring '$cmd $arg' on ttyS1" ;;
    esac
done
fail "ttyS1 closed before 'stop'"
