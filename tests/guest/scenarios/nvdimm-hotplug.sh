# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: NVDIMM hot-plug.  One DIMM is cold-plugged; after
# "NVQ-READY" the host adds a second one over QMP.  The guest must see the
# new nmem1 and its region (ACPI notify, _FIT re-read) and create an fsdax
# namespace on it.
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

run ndctl list -DRi
expect '"dev":"nmem0"' "the cold-plugged DIMM"
[ ! -e /sys/bus/nd/devices/nmem1 ] || fail "nmem1 exists before the hot-plug"
ready
wait_region nmem1 60
region=$REGION
nvdimm_init_labels "$region" nmem1
run ndctl create-namespace -r "$region" -m fsdax
expect '"mode":"fsdax"'
blk=$(field blockdev)
[ -n "$blk" ] || fail "empty blk"
[ -b "/dev/$blk" ] || fail "no pmem block device on the hot-plugged DIMM"
roundtrip "/dev/$blk"
