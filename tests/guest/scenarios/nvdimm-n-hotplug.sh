# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: an NVDIMM-N hot-plugged into a machine booted without
# NVDIMMs but with -global nvdimm.nvdimm-n=on (tests/guest/run.sh
# t_nvdimm_n_hotplug; the host acts at each "NVQ-STEP: n" and answers on
# ttyS1).  The tables carry NEVT from boot, so the new DIMM's events reach
# Linux like a cold-plugged one's:
#   step 1   host: object-add + device_add nvdimm (no label area)
#            -> nmem0, its region and raw namespace; the bus offers ARS;
#            `ndctl monitor` on nmem0 is started
#   step 2   host: nvdimm-inject-poison (block 64) and nvdimm-inject-health
#            fatal -> the region's badblocks list block 64 without a scrub
#            (root Notify 0x81), reading it fails, and the monitor logs
#            the health event (Notify (NV00, 0x81))
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

log=/tmp/monitor.json

step() {
    echo "NVQ-STEP: $1"
    read -r _ <&3 || fail "no answer from the host after step $1"
    say "step $1: host answered"
}

stty -F /dev/ttyS1 raw -echo || fail "cannot set up ttyS1"
exec 3</dev/ttyS1

step 1
wait_region nmem0 120
run ndctl list -N -r "$REGION"
expect '"mode":"raw"' "the raw namespace of $REGION"
blk=$(field blockdev)
[ -b "/dev/$blk" ] || fail "no pmem block device"
run cat /sys/bus/nd/devices/ndbus0/commands
expect 'ars_start' "the bus commands of a bus that booted without NVDIMMs"
run ndctl wait-scrub
badblocks_are "/sys/bus/nd/devices/$REGION/badblocks" ""
run ndctl list -DH -d nmem0
expect '"health_state":"ok"' "nmem0 healthy"

: > "$log"
ndctl monitor -d nmem0 -l "$log" &
mon=$!
wait_for 60 "monitor started (alarm enables set)" \
    sh -c "ndctl list -DH -d nmem0 | grep -q '\"alarm_enabled_media_temperature\":true'"

step 2
wait_for 120 "region badblocks '64 1' (no scrub asked for)" \
    sh -c "[ \"\$(cat /sys/bus/nd/devices/$REGION/badblocks)\" = '64 1' ]"
if dd if="/dev/$blk" of=/dev/null bs=512 skip=64 count=1; then
    fail "reading poisoned block 64 succeeded"
fi
wait_for 120 "monitor logged dimm-health-state" \
    grep -q '"dimm-health-state":true' "$log"
run cat "$log"
kill "$mon"
wait "$mon" 2>/dev/null
run ndctl list -DH -d nmem0
expect '"health_state":"fatal"' "nmem0 fatal"
