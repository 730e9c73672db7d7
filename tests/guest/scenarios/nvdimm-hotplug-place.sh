# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: hot-plug placement.  Neither backend has an "align": the
# cold-plugged DIMM has a label area, so its pmem ends 128 KiB short of a
# 16 MiB boundary, where stock QEMU puts the next DIMM (ndctl then refuses
# fsdax/devdax on it: "misaligned to 16M").  After "NVQ-READY" the host
# hot-plugs a second DIMM and tries device_del on it (refused, see
# docs/nvdimm.md); the guest must create fsdax and devdax namespaces on the
# new region, which starts on a 16 MiB boundary (Linux's default region
# alignment).
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

MiB=1048576
run ndctl list -DRi
expect '"dev":"nmem0"' "the cold-plugged DIMM"
ready
wait_region nmem1 60
region=$REGION
start=$(cat "/sys/bus/nd/devices/$region/resource")
say "$region starts at $start"
nvdimm_init_labels "$region" nmem1

run ndctl create-namespace -r "$region" -m fsdax
expect '"mode":"fsdax"'
ns=$(field dev)
blk=$(field blockdev)
[ -b "/dev/$blk" ] || fail "no pmem block device for $ns"
roundtrip "/dev/$blk"
run ndctl destroy-namespace -f "$ns"

run ndctl create-namespace -r "$region" -m devdax
expect '"mode":"devdax"'
ns=$(field dev)
chr=$(field chardev)
[ -c "/dev/$chr" ] || fail "no device-dax character device for $ns"
run ndctl destroy-namespace -f "$ns"
[ $(( start % (16 * MiB) )) -eq 0 ] || fail "$region at $start: not on a 16 MiB boundary"

# the refused device_del left the DIMM and its region in place
run ndctl list -R -d nmem1
expect "\"dev\":\"$region\""
