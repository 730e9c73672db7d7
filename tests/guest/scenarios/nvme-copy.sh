# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: the NVMe Copy command from a Linux guest (issue 8).  One
# controller with namespaces 1 and 2 (nvme-ns, 512-byte blocks, stock's
# default Copy limits).  Linux 6.1 has no copy offload, so Copy goes
# through nvme-cli: `nvme copy` (descriptor formats 0h and 1h), each copy
# read back with O_DIRECT and compared with its sources; a Copy beyond
# MSSRL fails with Command Size Limit Exceeded and writes nothing.
#
# Not here: the cross-namespace formats 2h/3h.  They need Host Behavior
# Support CDFE, and Linux 6.1 undoes it: with CTRATT.ELBAS set (stock and
# ours) every passthrough Set Features makes it re-send Host Behavior
# Support with only LBAFEE, which clears CDFE again (the qtest covers 2h
# and 3h).
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

NS1=/dev/nvme0n1
NS2=/dev/nvme0n2

# jn KEY: numeric value of "KEY":N in the last run's JSON
jn() {
    sed -n "s/.*\"$1\":\"\\{0,1\\}\\([0-9][0-9]*\\).*/\\1/p" /tmp/nvq-last | head -n 1
}
# le VALUE COUNT: COUNT bytes of VALUE, least significant first
le() {
    _v=$1; _n=$2
    while [ "$_n" -gt 0 ]; do
        # shellcheck disable=SC2059
        printf "\\$(printf %03o $((_v & 255)))"
        _v=$((_v >> 8)); _n=$((_n - 1))
    done
}
# put DEV LBA COUNT FILE: write COUNT blocks of FILE at LBA
put() {
    run dd if="$4" of="$1" bs=512 seek="$2" count="$3" oflag=direct conv=fsync
}
# get DEV LBA COUNT FILE: read COUNT blocks at LBA into FILE
get() {
    run dd if="$1" of="$4" bs=512 skip="$2" count="$3" iflag=direct
}
# same FILE1 FILE2 WHAT
same() {
    cmp "$1" "$2" || fail "$3: the data read back differs"
    say "$3: data verified"
}

wait_for 30 "namespace 2" test -b $NS2

# what the controller and namespace report
run nvme id-ctrl /dev/nvme0 -o json
oncs=$(jn oncs); ocfs=$(jn ocfs)
[ -n "$oncs" ] && [ $((oncs & 0x100)) -ne 0 ] || fail "ONCS $oncs: Copy not supported"
[ "$ocfs" = 15 ] || fail "OCFS $ocfs, expected formats 0-3 (15)"
run nvme id-ns $NS1 -o json
[ "$(jn mssrl)" = 128 ] && [ "$(jn mcl)" = 128 ] && [ "$(jn msrc)" = 127 ] ||
    fail "MSSRL/MCL/MSRC not stock's 128/128/127"

# sources: 128 random blocks at LBA 0 of namespace 1, 64 of namespace 2
run dd if=/dev/urandom of=/tmp/src1 bs=512 count=128
run dd if=/dev/urandom of=/tmp/src2 bs=512 count=64
put $NS1 0 128 /tmp/src1
put $NS2 0 64 /tmp/src2

# format 0h: blocks 64..127 then 0..63 (NLB is 0's based) to LBA 4096
run nvme copy $NS1 --sdlba=4096 --slbs=64,0 --blocks=63,63 --format=0
run dd if=/tmp/src1 of=/tmp/want bs=512 skip=64 count=64
run dd if=/tmp/src1 of=/tmp/want bs=512 seek=64 count=64 conv=notrunc
get $NS1 4096 128 /tmp/got
same /tmp/want /tmp/got "copy, format 0h"

# format 1h: three ranges to LBA 8192
run nvme copy $NS1 --sdlba=8192 --slbs=10,100,0 --blocks=4,9,0 --format=1
run dd if=/tmp/src1 of=/tmp/want bs=512 skip=10 count=5
run dd if=/tmp/src1 of=/tmp/want bs=512 skip=100 seek=5 count=10 conv=notrunc
run dd if=/tmp/src1 of=/tmp/want bs=512 skip=0 seek=15 count=1 conv=notrunc
get $NS1 8192 16 /tmp/got
same /tmp/want /tmp/got "copy, format 1h"

# beyond MSSRL (129 blocks): refused, the destination untouched
get $NS1 16384 129 /tmp/before
if nvme copy $NS1 --sdlba=16384 --slbs=0 --blocks=128 > /tmp/nvq-last 2>&1; then
    cat /tmp/nvq-last
    fail "a copy of 129 blocks (MSSRL 128) succeeded"
fi
cat /tmp/nvq-last
expect '[Ll]imit|183' "the status of a copy beyond MSSRL"
get $NS1 16384 129 /tmp/after
same /tmp/before /tmp/after "refused copy"

# the same blocks again through io-passthru (format 0h entries built here),
# as a host without `nvme copy` would send them: 64 blocks of namespace 2's
# pattern, first put at LBA 256 of namespace 1, to LBA 12288
put $NS1 256 64 /tmp/src2
{ le 0 8; le 256 8; le 63 2; le 0 14; } > /tmp/ranges
run nvme io-passthru $NS1 --opcode=0x19 --namespace-id=1 --data-len=32 \
    --write --input-file=/tmp/ranges --cdw10=12288 --cdw12=0
get $NS1 12288 64 /tmp/got
same /tmp/src2 /tmp/got "copy through io-passthru"

say "nvme-copy done"
