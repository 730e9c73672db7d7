# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: poison injected from the host (QMP nvdimm-inject-poison)
# reaches Linux by itself, as on a platform that reports new memory errors:
# QEMU raises Notify (\_SB.NVDR, 0x81), the nfit driver scrubs and the
# badblocks lists get the poison -- the guest never runs start-scrub for it.
# The host (tests/guest/run.sh t_nvdimm_poison) acts at each
# "NVQ-STEP: n" and answers on the second serial port (ttyS1).
#   nv0 (nmem0, no label area: one raw namespace)
#     step 1   host: poison 1 KiB at offset 32 KiB (blocks 64, 65)
#              -> badblocks "64 2" without a scrub, raw reads fail,
#              ndctl clear-errors -> reads work; a guest inject-error
#              (notify by default) also arrives without a scrub
#     step 2   host: nvdimm-query-poison is empty (the guest's clears
#              reached the module); poison block 128 with notify=false
#              -> only the guest's own scrub finds it
#     step 3   host: nvdimm-clear-poison of it, query empty; the guest's
#              list keeps it (Linux only learns of poison from ARS) until
#              a write over it clears it -> reads work
#   nv1 (nmem1, labels, an fsdax namespace with ext4 -o dax)
#     step 4   the guest writes a 64 KiB file and prints the pmem offset
#              of its third 4 KiB block (filefrag, the fsdax data offset);
#              host: poison exactly that block -> the block device's
#              badblocks lists it, reading that block of the file fails
#              with EIO (the blocks before it read fine); umount, ndctl
#              clear-errors, mount: the file reads again, that block zero
#     step 5   host: nvdimm-query-poison of nv1 is empty
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

bus=/sys/bus/nd/devices/ndbus0
BPP=8               # 512-byte blocks in a 4 KiB page

# step N: tell the host, then wait for its answer on ttyS1.
step() {
    echo "NVQ-STEP: $1"
    read -r _ <&3 || fail "no answer from the host after step $1"
    say "step $1: host answered"
}

# badblocks_become FILE TEXT: wait until FILE holds TEXT (the kernel's own
# scrub after the root notification), without asking for a scrub.
badblocks_become() {
    wait_for 120 "$1 = '$2' (no scrub asked for)" \
        sh -c "[ \"\$(cat $1)\" = '$2' ]"
    badblocks_are "$1" "$2"
}

# read_fails DEV BLOCK / read_works DEV BLOCK: reading 512-byte BLOCK of
# DEV (through the page cache: its whole 4 KiB page)
read_fails() {
    if dd if="$1" of=/dev/null bs=512 skip="$2" count=1; then
        fail "reading poisoned block $2 of $1 succeeded"
    fi
    say "reading poisoned block $2 of $1 fails: ok"
}

read_works() {
    run dd if="$1" of=/dev/null bs=512 skip="$2" count=1
}

# scrub_count: how many scrubs the bus has run (a '+' while one runs)
scrub_count() {
    tr -d '+' < $bus/nfit/scrub
}

stty -F /dev/ttyS1 raw -echo || fail "cannot set up ttyS1"
exec 3</dev/ttyS1

[ -e $bus/nfit/scrub ] || fail "no $bus/nfit/scrub: ARS is not offered"
# the scrub Linux starts at boot
run ndctl wait-scrub

# ---- nv0: raw namespace ------------------------------------------------
run ndctl list -R -d nmem0
rA=$(field dev)
[ -n "$rA" ] || fail "no region on nmem0"
run ndctl list -N -r "$rA"
expect '"mode":"raw"' "the raw namespace of $rA"
nsA=$(field dev); blkA=$(field blockdev)
devA=/dev/$blkA
[ -b "$devA" ] || fail "no pmem block device for $nsA"
bbA=/sys/bus/nd/devices/$rA/badblocks
badblocks_are "$bbA" ""

step 1
badblocks_become "$bbA" "64 2"
badblocks_are "/sys/block/$blkA/badblocks" "64 2"
read_fails "$devA" 64
read_fails "$devA" 65
read_works "$devA" $((64 + BPP))
run ndctl clear-errors "$nsA"
badblocks_are "$bbA" ""
badblocks_are "/sys/block/$blkA/badblocks" ""
read_works "$devA" 64

# the guest's own injection, notify being ndctl's default, arrives the
# same way
run ndctl inject-error --block=256 --count=1 "$nsA"
badblocks_become "$bbA" "256 1"
read_fails "$devA" 256
run ndctl clear-errors "$nsA"
badblocks_are "$bbA" ""
read_works "$devA" 256

n0=$(scrub_count)
step 2
# notify=false: no notification; the guest's next scrub finds it
run ndctl start-scrub
run ndctl wait-scrub
[ "$(scrub_count)" -gt "$n0" ] || fail "no scrub ran"
badblocks_are "$bbA" "128 1"
read_fails "$devA" 128

step 3
# the host removed it; Linux keeps refusing it until it clears it itself
badblocks_are "$bbA" "128 1"
run dd if=/dev/zero of="$devA" bs=4096 seek=$((128 / BPP)) count=1 conv=fsync
badblocks_are "$bbA" ""
read_works "$devA" 128

# ---- nv1: ext4 -o dax on an fsdax namespace ----------------------------
run ndctl list -R -d nmem1
rB=$(field dev)
[ -n "$rB" ] || fail "no region on nmem1"
nvdimm_init_labels "$rB" nmem1
run ndctl create-namespace -r "$rB" -m fsdax
expect '"mode":"fsdax"'
nsB=$(field dev); blkB=$(field blockdev)
[ -b "/dev/$blkB" ] || fail "no pmem block device for $nsB"
# the pfn device under the disk: its resource is the SPA of sector 0
pfn=$(readlink -f "/sys/block/$blkB/device")
data_spa=$(cat "$pfn/resource")
region_spa=$(cat "/sys/bus/nd/devices/$rB/resource")
say "$blkB: data at $data_spa, region $rB at $region_spa"

run mkfs.ext4 -F -q -b 4096 "/dev/$blkB"
run mount -o dax "/dev/$blkB" /mnt
grep -E "^/dev/$blkB /mnt ext4 .*dax" /proc/mounts || fail "/mnt is not mounted with dax"
run dd if=/dev/urandom of=/tmp/pattern bs=4096 count=16
run dd if=/tmp/pattern of=/mnt/data bs=4096 conv=fsync
run sync
run filefrag -v -b4096 /mnt/data
# "   0:        0..      15:      34816..     34831:     16:   last,eof":
# extent 0's numbers are logical start and end, physical start and end,
# length
set -- $(awk '$1 == "0:"' /tmp/nvq-last | tr -c '0-9\n' ' ')
[ $# -ge 6 ] && [ "$2" = 0 ] && [ "$6" -ge 3 ] ||
    fail "filefrag: extent 0 is not 3 or more blocks from the start"
first=$4
fsblk=$((first + 2))
sector=$((fsblk * BPP))
offset=$((data_spa - region_spa + sector * 512))
say "file block 2 is fs block $fsblk, $blkB sector $sector, nmem1 offset $offset"
echo "NVQ-POISON: $offset 4096"

step 4
badblocks_become "/sys/block/$blkB/badblocks" "$sector $BPP"
run dd if=/mnt/data of=/tmp/head bs=4096 count=2
if dd if=/mnt/data of=/dev/null bs=4096 skip=2 count=1 2>/tmp/err; then
    fail "reading the poisoned block of /mnt/data succeeded"
fi
cat /tmp/err
grep -q 'Input/output error' /tmp/err || fail "the read did not fail with EIO"
if cat /mnt/data > /dev/null 2>/tmp/err; then
    fail "reading the whole of /mnt/data succeeded"
fi
cat /tmp/err
say "reading the poisoned block of the dax file fails with EIO: ok"

run umount /mnt
run ndctl clear-errors "$nsB"
badblocks_are "/sys/block/$blkB/badblocks" ""
run mount -o dax "/dev/$blkB" /mnt
run dd if=/mnt/data of=/tmp/back bs=4096
# Clear Uncorrectable Error zeroes what it clears
run dd if=/dev/zero of=/tmp/pattern bs=4096 seek=2 count=1 conv=notrunc
cmp /tmp/pattern /tmp/back || fail "the file after clear-errors is not the data with block 2 zeroed"
run umount /mnt
step 5
