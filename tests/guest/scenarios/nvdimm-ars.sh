# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: NVDIMM-N media errors (nvdimm-n=on, no label area, so the
# region has one raw namespace, namespace0.0 -> /dev/pmem0).
#   nvq.phase=1  the bus offers ARS and error injection; inject-error ->
#                start-scrub/wait-scrub -> region and disk badblocks list
#                the blocks -> reading them fails -> clear-errors -> reading
#                works; a second error is cleared by writing the sector
#                (Linux clears through the root's Clear Uncorrectable Error);
#                a third is injected and left for phase 2.
#   nvq.phase=2  (same backing file, new QEMU) the third error is back in
#                badblocks after the boot-time scrub, and reads of it fail.
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

bus=/sys/bus/nd/devices/ndbus0
region=/sys/bus/nd/devices/region0

# read_fails BLOCK: reading 512-byte BLOCK of /dev/$blk fails.  (busybox dd
# reads through the page cache: the whole 4 KiB page around BLOCK is read,
# so a block next to a poisoned one in the same page fails too.)
read_fails() {
    if dd if="/dev/$blk" of=/dev/null bs=512 skip="$1" count=1; then
        fail "reading poisoned block $1 of /dev/$blk succeeded"
    fi
    say "reading poisoned block $1 fails: ok"
}

# read_works BLOCK: reading BLOCK (and so its page) works.
read_works() {
    run dd if="/dev/$blk" of=/tmp/blk bs=512 skip="$1" count=1
}

# 512-byte blocks in a 4 KiB page
BPP=8

scrub() {
    run ndctl start-scrub
    run ndctl wait-scrub
}

run cat $bus/commands
expect 'ars_cap' "the bus commands"
expect 'ars_start'
expect 'ars_status'
expect 'clear_error'
[ -e $bus/nfit/scrub ] || fail "no $bus/nfit/scrub: ARS is not offered"
run ndctl list -N
expect '"mode":"raw"' "the raw namespace"
ns=$(field dev); blk=$(field blockdev)
[ -b "/dev/$blk" ] || fail "no pmem block device for $ns"
# the scrub Linux starts at boot
run ndctl wait-scrub

if [ "${NVQ_PHASE:-1}" = 1 ]; then
    badblocks_are "$region/badblocks" ""

    run ndctl inject-error --block=64 --count=2 --no-notify "$ns"
    run ndctl inject-error --status "$ns"
    expect '"block":64' "injection status"
    expect '"count":2' "injection status"
    scrub
    badblocks_are "$region/badblocks" "64 2"
    badblocks_are "/sys/block/$blk/badblocks" "64 2"
    read_fails 64
    read_fails 65
    read_works $((64 + BPP))

    run ndctl clear-errors "$ns"
    badblocks_are "$region/badblocks" ""
    badblocks_are "/sys/block/$blk/badblocks" ""
    read_works 64
    read_works 65
    scrub
    badblocks_are "$region/badblocks" ""

    # a write clears the poison of the sectors it covers
    run ndctl inject-error --block=128 --count=1 --no-notify "$ns"
    scrub
    badblocks_are "/sys/block/$blk/badblocks" "128 1"
    read_fails 128
    # a whole page, so that the page cache has nothing to read first
    run dd if=/dev/zero of="/dev/$blk" bs=4096 seek=$((128 / BPP)) count=1 conv=fsync
    badblocks_are "/sys/block/$blk/badblocks" ""
    read_works 128
    run ndctl inject-error --status "$ns"
    reject '"block"' "injection status after the write"

    # left poisoned for the next boot
    run ndctl inject-error --block=200 --count=1 --no-notify "$ns"
    scrub
    badblocks_are "$region/badblocks" "200 1"
else
    badblocks_are "$region/badblocks" "200 1"
    badblocks_are "/sys/block/$blk/badblocks" "200 1"
    read_fails 200
    run ndctl clear-errors "$ns"
    badblocks_are "$region/badblocks" ""
    read_works 200
fi
