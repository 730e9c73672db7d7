# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: nvme-cli and fio against one NVMe controller (serial
# nvq.serial) with two namespaces (nsid 1 and 2) of nvq.nsze 512-byte blocks
# each (issue 4).
#   nvq.phase=1  list, id-ctrl, list-ns, id-ns, ns-descs (unique ids),
#                get-feature of every feature the controller implements and
#                set-feature of arbitration and interrupt coalescing,
#                error-log (after a provoked LBA Out of Range), fw-log,
#                effects-log, format of namespace 2 to 4 KiB blocks with user
#                data erase (and its namespace-changed event), smart-log counters around fio --verify=crc32c
#                (2 jobs per namespace), blkdiscard then zeroes, controller
#                reset (features back to defaults, I/O still works); then a
#                pattern at 64 MiB of each namespace.  Prints "NVQ-SUM:"
#                (the patterns) and "NVQ-IDS:" (the namespace ids).
#   nvq.phase=2  (same images, new QEMU) the patterns read back (nvq.sum)
#                and the namespace ids are the same (nvq.ids).
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

S=${NVQ_SERIAL:?nvq.serial}
nsze=${NVQ_NSZE:?nvq.nsze}
MiB=1048576

# getf FID [ARGS]: get-feature FID (current value); FV = the value
getf() {
    _f=$1; shift
    run nvme get-feature /dev/nvme0 -f "$_f" -H "$@"
    _v=$(sed -n 's/.*Current value: *\(0x\)\{0,1\}\([0-9a-fA-F]\{1,8\}\).*/\2/p' /tmp/nvq-last | head -n 1)
    [ -n "$_v" ] || fail "get-feature $_f: no current value"
    FV=$((0x$_v))
}
# defv FID: DV = the feature's default value (SEL=1)
defv() {
    run nvme get-feature /dev/nvme0 -f "$1" -s 1
    _v=$(sed -n 's/.*Default value: *\(0x\)\{0,1\}\([0-9a-fA-F]\{1,8\}\).*/\2/p' /tmp/nvq-last | head -n 1)
    [ -n "$_v" ] || fail "get-feature $1 -s 1: no default value"
    DV=$((0x$_v))
}
# kv KEY: value of "KEY   : value" in the last run's text output
kv() {
    sed -n "s/^$1[[:space:]]*:[[:space:]]*\\([^[:space:]]*\\).*/\\1/p" /tmp/nvq-last | head -n 1
}
# jn KEY: numeric value of "KEY":N or "KEY":"N" in the last run's JSON
jn() {
    sed -n "s/.*\"$1\":\"\\{0,1\\}\\([0-9][0-9]*\\).*/\\1/p" /tmp/nvq-last | head -n 1
}
# smart: SMART counters into DUR DUW HRC HWC NERR
smart() {
    run nvme smart-log /dev/nvme0 -o json
    DUR=$(jn data_units_read); DUW=$(jn data_units_written)
    HRC=$(jn host_read_commands); HWC=$(jn host_write_commands)
    NERR=$(jn num_err_log_entries)
    [ -n "$DUR" ] && [ -n "$DUW" ] && [ -n "$HRC" ] && [ -n "$HWC" ] && [ -n "$NERR" ] ||
        fail "smart-log: counters missing"
}
# pattern FILE MIB: MIB MiB of random data
pattern() { dd if=/dev/urandom of="$1" bs=1M count="$2" 2>/dev/null || fail "dd urandom"; }
# zeroes DEV OFFSET_MIB MIB: the range reads back as zeroes
zeroes() {
    run dd if="$1" of=/tmp/rd bs=1M skip="$2" count="$3" iflag=direct
    dd if=/dev/zero of=/tmp/z bs=1M count="$3" 2>/dev/null
    cmp /tmp/z /tmp/rd || fail "$1: $3 MiB at $2 MiB are not zeroes"
}
# ids NSID: print "NSID eui64 nguid uuid" from ns-descs, all three present
ids() {
    run nvme ns-descs /dev/nvme0 -n "$1"
    _e=$(kv eui64); _g=$(kv nguid); _u=$(kv uuid)
    echo "$_e" | grep -Eq '^[0-9a-f]{16}$' || fail "ns-descs $1: EUI-64 '$_e'"
    echo "$_g" | grep -Eq '^[0-9a-f]{32}$' || fail "ns-descs $1: NGUID '$_g'"
    echo "$_u" | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' || fail "ns-descs $1: UUID '$_u'"
    [ "$_e" != 0000000000000000 ] && [ "$_g" != 00000000000000000000000000000000 ] &&
        [ "$_u" != 00000000-0000-0000-0000-000000000000 ] || fail "ns-descs $1: an all-zero id"
    echo "$1 $_e $_g $_u" >> /tmp/ids
}
lbs() { cat "/sys/block/$1/queue/logical_block_size"; }

wait_for 20 "/dev/nvme0n1" test -b /dev/nvme0n1
wait_for 20 "/dev/nvme0n2" test -b /dev/nvme0n2
run nvme list
[ "$(count "/dev/nvme0n[12] .* $S ")" = 2 ] || fail "nvme list: expected nvme0n1 and nvme0n2 with serial $S"
run nvme list-ns /dev/nvme0
expect '^\[ *0\]: *0x1$' "list-ns (nsid 1)"
expect '^\[ *1\]: *0x2$' "list-ns (nsid 2)"
[ "$(count '^\[')" = 2 ] || fail "list-ns: expected exactly two active namespaces"

# namespace identifiers: unique, and the same after a new boot
: > /tmp/ids
ids 1; ids 2
cat /tmp/ids
for col in 2 3 4; do
    [ "$(cut -d' ' -f$col /tmp/ids | sort -u | wc -l)" = 2 ] || fail "ns-descs: namespaces 1 and 2 share an id (field $col)"
done
idsum=$(md5sum < /tmp/ids | cut -d' ' -f1)
echo "NVQ-IDS: $idsum"
for ns in 1 2; do
    run nvme id-ns /dev/nvme0 -n $ns
    [ "$(kv nguid)" = "$(sed -n "s/^$ns [^ ]* \\([^ ]*\\) .*/\\1/p" /tmp/ids)" ] || fail "id-ns $ns: NGUID differs from ns-descs"
    [ "$(kv eui64)" = "$(sed -n "s/^$ns \\([^ ]*\\) .*/\\1/p" /tmp/ids)" ] || fail "id-ns $ns: EUI-64 differs from ns-descs"
done

if [ "${NVQ_PHASE:-1}" != 1 ]; then
    [ "$idsum" = "${NVQ_IDS:?nvq.ids}" ] || fail "namespace ids changed across boots"
    : > /tmp/back
    for ns in 1 2; do
        run dd if=/dev/nvme0n$ns of=/tmp/rd bs=1M skip=64 count=4 iflag=direct
        cat /tmp/rd >> /tmp/back
    done
    sum=$(md5sum < /tmp/back | cut -d' ' -f1)
    echo "NVQ-SUM: $sum"
    [ "$sum" = "${NVQ_SUM:?nvq.sum}" ] || fail "data at 64 MiB of both namespaces: md5 $sum, expected $NVQ_SUM"
    say "namespace 2 after a new boot: $(lbs nvme0n2)-byte blocks (the format is not kept across QEMU runs, docs/nvme.md)"
    exit 0
fi

# --- identify
run nvme id-ctrl /dev/nvme0
expect "^sn +: +$S *\$" "id-ctrl serial"
expect '^mn +: +[^ ]' "id-ctrl model"
fr=$(kv fr); oacs=$(kv oacs); oncs=$(kv oncs); oaes=$(kv oaes); vwc=$(kv vwc); wctemp=$(kv wctemp); nn=$(kv nn)
[ -n "$fr" ] || fail "id-ctrl: empty firmware revision"
[ "$nn" -ge 2 ] || fail "id-ctrl nn=$nn, two namespaces are attached"
[ $((oacs & 0x2)) != 0 ] || fail "id-ctrl oacs=$oacs: no Format NVM"
[ $((oncs & 0x4)) != 0 ] || fail "id-ctrl oncs=$oncs: no Dataset Management"
[ $((oncs & 0x40)) != 0 ] || fail "id-ctrl oncs=$oncs: no Timestamp"
[ $((vwc & 0x1)) != 0 ] || fail "id-ctrl vwc=$vwc: no volatile write cache"
for ns in 1 2; do
    run nvme id-ns /dev/nvme0 -n $ns
    [ "$(($(kv nsze)))" = "$nsze" ] || fail "id-ns $ns: nsze $(kv nsze), expected $nsze"
    [ "$(($(kv ncap)))" = "$nsze" ] || fail "id-ns $ns: ncap $(kv ncap), expected $nsze"
    expect '^lbaf +0 : ms:0 +lbads:9 .*in use' "id-ns $ns: LBA format 0 (512 B) in use"
    expect '^lbaf +4 : ms:0 +lbads:12 ' "id-ns $ns: LBA format 4 (4 KiB, stock's index)"
    [ "$(lbs nvme0n$ns)" = 512 ] || fail "nvme0n$ns: $(lbs nvme0n$ns)-byte blocks, expected 512"
done

# --- features
getf 1
defv 1; arb0=$DV
[ "$FV" = "$arb0" ] || fail "arbitration: current $FV differs from default $arb0 before any Set Features"
getf 2
[ $((FV & 0x1f)) = 0 ] || fail "power management: power state $((FV & 0x1f)), only PS0 exists"
getf 4
[ $((FV & 0xffff)) = "$wctemp" ] || fail "temperature threshold $((FV & 0xffff)) K, expected WCTEMP $wctemp K"
# namespace specific: without -n nvme-cli sends FFFFFFFFh, which stock
# and ours refuse (Invalid Namespace) for Get
getf 5 -n 1
[ $((FV & 0x10000)) = 0 ] || fail "error recovery: DULBE set"
getf 6
wce=$((FV & 1))
case $(cat /sys/block/nvme0n1/queue/write_cache) in
    "write back") [ $wce = 1 ] || fail "volatile write cache off, the kernel sees write back" ;;
    *)            [ $wce = 0 ] || fail "volatile write cache on, the kernel sees write through" ;;
esac
getf 7
nsqa=$((FV & 0xffff)); ncqa=$((FV >> 16))
queues=$(dmesg | sed -n 's/.*nvme0: \([0-9]*\)\/0\/0 default\/read\/poll queues.*/\1/p' | tail -n 1)
[ -n "$queues" ] || fail "no 'default/read/poll queues' kernel line"
[ $((nsqa + 1)) = "$queues" ] && [ $((ncqa + 1)) = "$queues" ] ||
    fail "number of queues: NSQA $nsqa NCQA $ncqa (0's based), the kernel uses $queues I/O queues"
getf 8
[ "$FV" = 0 ] || fail "interrupt coalescing: $FV before any Set Features, expected 0"
for iv in 1 2; do
    getf 9 -c $iv
    [ $((FV & 0xffff)) = $iv ] || fail "interrupt vector configuration: IV $((FV & 0xffff)), asked for $iv"
done
getf 0xb
[ $((FV & 0x100)) = $((oaes & 0x100)) ] || fail "async event config $FV: namespace attribute notices do not follow OAES $oaes"
getf 0xe
expect 'initialized with a Timestamp value using a Set Features' "timestamp origin (the kernel sets it)"
ts=$(sed -n 's/.*The timestamp is : *\([0-9]*\).*/\1/p' /tmp/nvq-last)
now=$(date +%s)
[ -n "$ts" ] || fail "no timestamp"
[ $((ts / 1000 - now)) -le 60 ] && [ $((now - ts / 1000)) -le 60 ] || fail "timestamp $ts ms, guest clock $now s"
getf 0x16
expect 'Host Behavior Support' "host behavior support"

run nvme set-feature /dev/nvme0 -f 1 -v 0x07030102
getf 1
[ "$FV" = $((0x07030102)) ] || fail "arbitration after set-feature: $(printf %#x "$FV"), expected 0x07030102"
run nvme set-feature /dev/nvme0 -f 8 -v 0x0104
getf 8
[ "$FV" = $((0x0104)) ] || fail "interrupt coalescing after set-feature: $(printf %#x "$FV"), expected 0x104"

# --- error log: a read past the end of namespace 1
smart; nerr0=$NERR
echo "+ nvme read /dev/nvme0n1 -s $nsze -c 0 -z 512 (must fail)"
if nvme read /dev/nvme0n1 -s "$nsze" -c 0 -z 512 -d /tmp/x > /tmp/nvq-last 2>&1; then
    cat /tmp/nvq-last; fail "a read of LBA $nsze (past the end) succeeded"
fi
cat /tmp/nvq-last
expect 'LBA Out of Range' "the read past the end"
run nvme error-log /dev/nvme0 -e 1 -o json
[ "$(jn lba)" = "$nsze" ] || fail "error-log: newest entry LBA '$(jn lba)', expected $nsze"
[ "$(jn nsid)" = 1 ] || fail "error-log: newest entry nsid '$(jn nsid)', expected 1"
sf=$(jn status_field)
[ -n "$sf" ] && [ $((sf & 0x7ff)) = $((0x80)) ] || fail "error-log: newest entry status '$sf', expected LBA Out of Range (0x80)"
[ "$(jn error_count)" -ge 1 ] || fail "error-log: error_count $(jn error_count)"
smart
[ "$NERR" -gt "$nerr0" ] || fail "smart-log num_err_log_entries $nerr0 -> $NERR after an error"

# --- firmware slot log, commands supported and effects
run nvme fw-log /dev/nvme0
afi=$(kv afi)
slot=$(( afi & 7 ))
[ "$slot" -ge 1 ] || fail "fw-log: no active firmware slot (afi $afi)"
frs=$(sed -n "s/^frs$slot *: *0x[0-9a-f]* *(\\(.*\\))\$/\\1/p" /tmp/nvq-last | sed 's/\.*$//')
[ "$frs" = "$fr" ] || fail "fw-log: active slot $slot revision '$frs', id-ctrl fr '$fr'"
run nvme effects-log /dev/nvme0 --csi=0
for c in 'ACS6 +\[Identify' 'ACS9 +\[Set Features' 'ACS10 +\[Get Features' 'ACS128 +\[Format NVM' \
         'IOCS1 +\[Write' 'IOCS2 +\[Read' 'IOCS9 +\[Dataset Management'; do
    expect "^$c +\\] [0-9a-f]{7}[13579bdf]\$" "effects-log: $c supported"
done

# --- format namespace 2 to 4 KiB blocks, erasing it; namespace 1 untouched
pattern /tmp/p1 4; pattern /tmp/p2 4
run dd if=/tmp/p1 of=/dev/nvme0n1 bs=1M seek=4 oflag=direct
run dd if=/tmp/p2 of=/dev/nvme0n2 bs=1M seek=4 oflag=direct
aen0=$(dmesg | grep -c 'nvme0: rescanning namespaces')
run nvme format /dev/nvme0n2 -l 4 -s 1 --force
# the kernel logs this only for a Namespace Attribute Changed async event
wait_for 20 "namespace attribute changed event" sh -c "[ \$(dmesg | grep -c 'nvme0: rescanning namespaces') -gt $aen0 ]"
wait_for 20 "nvme0n2 with 4096-byte blocks" sh -c '[ "$(cat /sys/block/nvme0n2/queue/logical_block_size)" = 4096 ]'
run blockdev --getss /dev/nvme0n2
expect '^4096$' "blockdev --getss nvme0n2"
run nvme id-ns /dev/nvme0 -n 2
expect '^lbaf +4 : ms:0 +lbads:12 .*in use' "id-ns 2: LBA format 4 in use after format"
[ "$(($(kv nsze)))" = $((nsze / 8)) ] || fail "id-ns 2: nsze $(kv nsze) after format, expected $((nsze / 8))"
zeroes /dev/nvme0n2 4 4
[ "$(lbs nvme0n1)" = 512 ] || fail "nvme0n1 changed block size with the format of namespace 2"
run dd if=/dev/nvme0n1 of=/tmp/rd bs=1M skip=4 count=4 iflag=direct
cmp /tmp/p1 /tmp/rd || fail "nvme0n1 data changed by the format of namespace 2"

# --- fio with crc32c verify, 2 jobs per namespace; SMART counters follow
smart
r0=$DUR w0=$DUW hr0=$HRC hw0=$HWC
run fio --direct=1 --ioengine=libaio --rw=randwrite --bs=4k --iodepth=16 \
    --numjobs=2 --size=8M --offset_increment=8M --verify=crc32c --verify_fatal=1 \
    --name=ns1 --filename=/dev/nvme0n1 --name=ns2 --filename=/dev/nvme0n2
[ "$(count 'err= *0')" = 4 ] || fail "fio: expected 4 jobs with err=0"
reject 'verify: bad|verify failed|crc32c: verify' "fio"
smart
ios=$((4 * 8 * MiB / 4096))            # 4 KiB writes, and as many verify reads
units=$((4 * 8 * MiB / 512000))        # SMART data units: 1000 x 512 bytes
say "SMART deltas: read cmds $((HRC - hr0)) units $((DUR - r0)), write cmds $((HWC - hw0)) units $((DUW - w0)); fio moved $ios x 4 KiB each way"
[ $((HWC - hw0)) -ge $ios ] && [ $((HWC - hw0)) -le $((ios + ios / 4)) ] ||
    fail "host_write_commands grew by $((HWC - hw0)), fio wrote $ios blocks"
[ $((HRC - hr0)) -ge $ios ] && [ $((HRC - hr0)) -le $((ios + ios / 4)) ] ||
    fail "host_read_commands grew by $((HRC - hr0)), fio verified $ios blocks"
[ $((DUW - w0)) -ge $units ] && [ $((DUW - w0)) -le $((units + units / 4 + 2)) ] ||
    fail "data_units_written grew by $((DUW - w0)), expected about $units"
[ $((DUR - r0)) -ge $units ] && [ $((DUR - r0)) -le $((units + units / 4 + 2)) ] ||
    fail "data_units_read grew by $((DUR - r0)), expected about $units"

# --- discard: written data reads back, discarded data reads as zeroes
for ns in 1 2; do
    dev=/dev/nvme0n$ns
    [ "$(cat /sys/block/nvme0n$ns/queue/discard_max_bytes)" -gt 0 ] || fail "$dev: the kernel sees no discard support"
    pattern /tmp/p 2
    run dd if=/tmp/p of=$dev bs=1M seek=32 oflag=direct
    run dd if=$dev of=/tmp/rd bs=1M skip=32 count=2 iflag=direct
    cmp /tmp/p /tmp/rd || fail "$dev: data at 32 MiB does not read back"
    run blkdiscard -o $((32 * MiB)) -l $((2 * MiB)) $dev
    zeroes $dev 32 2
done

# --- controller reset: features back to their defaults, I/O works
run nvme reset /dev/nvme0
wait_for 30 "controller live after reset" sh -c '[ "$(cat /sys/class/nvme/nvme0/state)" = live ] && [ -b /dev/nvme0n2 ]'
getf 1
[ "$FV" = "$arb0" ] || fail "arbitration after reset: $(printf %#x "$FV"), expected the default $(printf %#x "$arb0")"
getf 8
[ "$FV" = 0 ] || fail "interrupt coalescing after reset: $(printf %#x "$FV"), expected 0"
[ "$(lbs nvme0n2)" = 4096 ] || fail "nvme0n2: $(lbs nvme0n2)-byte blocks after reset, the format is 4 KiB"
run fio --direct=1 --ioengine=libaio --rw=randwrite --bs=4k --iodepth=8 \
    --size=2M --offset=16M --verify=crc32c --verify_fatal=1 \
    --name=ns1 --filename=/dev/nvme0n1 --name=ns2 --filename=/dev/nvme0n2
[ "$(count 'err= *0')" = 2 ] || fail "fio after reset: expected 2 jobs with err=0"

# --- data for the next boot
: > /tmp/all
for ns in 1 2; do
    pattern /tmp/p 4
    run dd if=/tmp/p of=/dev/nvme0n$ns bs=1M seek=64 oflag=direct conv=fsync
    cat /tmp/p >> /tmp/all
done
echo "NVQ-SUM: $(md5sum < /tmp/all | cut -d' ' -f1)"
