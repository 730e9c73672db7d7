# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: many NVDIMMs at once (issue 3).  The host plugs nvq.dimms
# DIMMs in slots 0.. (NFIT handle = slot + 1), DIMM with handle h on the NUMA
# node given by character h of nvq.nodes; the DIMM with handle nvq.ro is
# read-only and unarmed (its backing file starts with 1 MiB whose md5 is
# nvq.rodata, its label area has md5 nvq.rolabel).  Checks:
#   - every DIMM and one region per DIMM are listed; every handle is there
#   - each region's numa_node and target_node (ndctl list -v) match nvq.nodes
#   - labels: on handle 1 init-labels + a raw namespace; read-labels saves
#     them, write-labels of zeroes reads back as zeroes and the namespace is
#     gone after the DIMM re-reads its labels, write-labels of the saved copy
#     reads back equal and brings the namespace back; on handle 2 random data
#     round trips.  "NVQ-LABEL: H MD5" lets the host compare the label area
#     in the backing files.
#   - the unarmed DIMM (and only it) is flagged failed-arm, its region and
#     pmem block device are read-only, a write to it fails, its data reads
#     as the file's, write-labels does not change its labels
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

n=${NVQ_DIMMS:?nvq.dimms}
ro=${NVQ_RO:?nvq.ro}
nodes=${NVQ_NODES:?nvq.nodes}
size=${NVQ_SIZE:?nvq.size}
label=131072
[ ${#nodes} -eq "$n" ] || fail "nvq.nodes has ${#nodes} entries, nvq.dimms is $n"

# nmem_of HANDLE: the nmem device whose NFIT handle is HANDLE
nmem_of() {
    for d in /sys/bus/nd/devices/nmem*; do
        [ "$(( $(cat "$d/nfit/handle") ))" = "$1" ] && { basename "$d"; return 0; }
    done
    return 1
}
# region_of NMEM: the (only) region mapping NMEM
region_of() {
    for r in /sys/bus/nd/devices/region*; do
        grep -q "^$1," "$r"/mapping0 2>/dev/null && { basename "$r"; return 0; }
    done
    return 1
}
md5() { md5sum "$1" | cut -d' ' -f1; }
# relabel NMEM REGION: make the DIMM re-read its label area, region back on
relabel() {
    run ndctl disable-dimm "$1"
    run ndctl enable-dimm "$1"
    run ndctl enable-region "$2"
}

run ndctl list -D
[ "$(count '"dev":"nmem')" = "$n" ] || fail "ndctl list -D: $(count '"dev":"nmem') DIMMs, expected $n"

# every handle, its region, NUMA placement, size: one "ndctl list -R -v"
# (a region's own fields come before its "namespaces" array)
run ndctl list -R -v
awk '/"dev":"region/ { if (r != "") print r, nn, tn, sz
                       r = $0; sub(/.*"dev":"/, "", r); sub(/".*/, "", r)
                       nn = tn = sz = "-"; inr = 1 }
     /"namespaces":/  { inr = 0 }
     inr && /"numa_node":/   { v = $0; gsub(/[^0-9]/, "", v); nn = v }
     inr && /"target_node":/ { v = $0; gsub(/[^0-9]/, "", v); tn = v }
     inr && /"size":/        { v = $0; gsub(/[^0-9]/, "", v); sz = v }
     END { if (r != "") print r, nn, tn, sz }' /tmp/nvq-last > /tmp/regions
cat /tmp/regions
[ "$(wc -l < /tmp/regions)" = "$n" ] || fail "ndctl list -R -v: $(wc -l < /tmp/regions) regions, expected $n"
h=1
while [ $h -le "$n" ]; do
    d=$(nmem_of $h) || fail "no nmem with NFIT handle $h"
    r=$(region_of "$d") || fail "no region maps $d (handle $h)"
    [ ! -e "/sys/bus/nd/devices/$r/mapping1" ] || fail "$r maps more than one DIMM"
    eval "NMEM_$h=$d REGION_$h=$r"
    want=$(echo "$nodes" | cut -c$h)
    # shellcheck disable=SC2046  # the line's four fields
    set -- $(grep "^$r " /tmp/regions)
    [ $# = 4 ] || fail "$r ($d, handle $h) is not in ndctl list -R -v"
    [ "$2" = "$want" ] || fail "$r ($d, handle $h): numa_node '$2', expected $want"
    [ "$3" = "$want" ] || fail "$r ($d, handle $h): target_node '$3', expected $want"
    [ "$4" = "$size" ] || fail "$r ($d, handle $h): size '$4', expected $size"
    [ "$(cat /sys/bus/nd/devices/"$r"/numa_node)" = "$want" ] || fail "$r: sysfs numa_node differs"
    say "handle $h: $d, $r, node $want"
    h=$((h + 1))
done

# --- the unarmed, read-only DIMM
eval "d=\$NMEM_$ro r=\$REGION_$ro"
run ndctl list -D
[ "$(count '"flag_')" = 1 ] || fail "expected exactly one flagged DIMM, got $(count '"flag_')"
run ndctl list -D -d "$d"
expect '"flag_failed_arm":true' "$d (unarmed) flag_failed_arm"
dmesg | grep 'Error found in NVDIMM' > /tmp/flags
cat /tmp/flags
[ "$(wc -l < /tmp/flags)" = 1 ] || fail "expected one 'Error found in NVDIMM' kernel line"
grep -Eq "Error found in NVDIMM $d flags: not_armed\$" /tmp/flags || fail "the kernel does not report $d as only not_armed"
[ "$(cat /sys/bus/nd/devices/"$r"/read_only)" = 1 ] || fail "$r (unarmed DIMM) is not read-only"
[ "$(cat /sys/bus/nd/devices/"$REGION_1"/read_only)" = 0 ] || fail "$REGION_1 (armed DIMM) is read-only"
run ndctl list -N -r "$r"
blk=$(field blockdev)
[ -n "$blk" ] && [ -b "/dev/$blk" ] || fail "no pmem block device on $r"
[ "$(cat "/sys/block/$blk/ro")" = 1 ] || fail "/dev/$blk (unarmed DIMM) is not read-only"
run dd if="/dev/$blk" of=/tmp/rodata bs=1M count=1
[ "$(md5 /tmp/rodata)" = "$NVQ_RODATA" ] || fail "/dev/$blk: first MiB md5 $(md5 /tmp/rodata), the file's is $NVQ_RODATA"
echo "+ dd of=/dev/$blk (must fail)"
if dd if=/dev/zero of="/dev/$blk" bs=4096 count=1 oflag=direct 2>&1; then
    fail "a write to the read-only /dev/$blk succeeded"
fi
run dd if="/dev/$blk" of=/tmp/rodata bs=1M count=1
[ "$(md5 /tmp/rodata)" = "$NVQ_RODATA" ] || fail "/dev/$blk changed after the refused write"
say "unarmed DIMM $d: flagged, read-only: ok"

# --- labels
run dd if=/dev/urandom of=/tmp/rand bs=4096 count=$((label / 4096))
run dd if=/dev/zero of=/tmp/zero bs=4096 count=$((label / 4096))

# the unarmed DIMM: write-labels must not change anything
run ndctl disable-region "$r"
run ndctl read-labels "$d" -o /tmp/ro-before
[ "$(stat -c %s /tmp/ro-before)" = $label ] || fail "read-labels $d: $(stat -c %s /tmp/ro-before) bytes, expected $label"
[ "$(md5 /tmp/ro-before)" = "$NVQ_ROLABEL" ] || fail "labels of $d: md5 $(md5 /tmp/ro-before), the file's is $NVQ_ROLABEL"
echo "+ ndctl write-labels $d -i /tmp/rand (must not take effect)"
ndctl write-labels "$d" -i /tmp/rand 2>&1; echo "rc=$?"
run ndctl read-labels "$d" -o /tmp/ro-after
cmp /tmp/ro-before /tmp/ro-after || fail "write-labels changed the labels of the read-only DIMM $d"
run ndctl enable-region "$r"

# handle 1: init-labels, a namespace, save / clear / restore its labels
d=$NMEM_1 r=$REGION_1
nvdimm_init_labels "$r" "$d"
run ndctl create-namespace -r "$r" -m raw
uuid=$(field uuid)
[ -n "$uuid" ] || fail "no uuid for the namespace on $r"
run ndctl disable-region "$r"
run ndctl read-labels "$d" -o /tmp/saved
[ "$(stat -c %s /tmp/saved)" = $label ] || fail "read-labels $d: $(stat -c %s /tmp/saved) bytes, expected $label"
cmp -s /tmp/saved /tmp/zero && fail "read-labels $d: all zero after init-labels + create-namespace"
run ndctl write-labels "$d" -i /tmp/zero
run ndctl read-labels "$d" -o /tmp/back
cmp /tmp/zero /tmp/back || fail "$d: labels read back differ from the zeroes written"
relabel "$d" "$r"
run ndctl list -N -r "$r"
reject "$uuid" "namespace $uuid after its labels were zeroed"
run ndctl disable-region "$r"
run ndctl write-labels "$d" -i /tmp/saved
run ndctl read-labels "$d" -o /tmp/back
cmp /tmp/saved /tmp/back || fail "$d: labels read back differ from the saved copy written"
relabel "$d" "$r"
run ndctl list -N -r "$r"
expect "\"uuid\":\"$uuid\"" "namespace $uuid after its labels were restored"
echo "NVQ-LABEL: 1 $(md5 /tmp/saved)"

# handle 2: random data
d=$NMEM_2 r=$REGION_2
run ndctl disable-region "$r"
run ndctl write-labels "$d" -i /tmp/rand
run ndctl read-labels "$d" -o /tmp/back
cmp /tmp/rand /tmp/back || fail "$d: labels read back differ from the random data written"
run ndctl enable-region "$r"
echo "NVQ-LABEL: 2 $(md5 /tmp/rand)"
say "label round trips: ok"
