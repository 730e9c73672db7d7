# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: NVDIMM-N health events reach `ndctl monitor` without
# polling.  A monitor (no -p: it only wakes on a sysfs notification of
# nmem0/nfit/flags, i.e. a Notify (NV00, 0x81)) runs in the background;
# inject-smart of a media temperature above the alarm threshold, then of
# fatal health, must each make it log the event, and the NVDIMM GPE
# (gpe04) must have fired for each.  Then the guest prints NVQ-READY and
# the host injects low spares over QMP (nvdimm-inject-health): the monitor
# must log dimm-spares-remaining like for a guest-side injection.
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

dimm=nmem0
log=/tmp/monitor.json
gpe=/sys/firmware/acpi/interrupts/gpe04

# gpe_count: how many times the NVDIMM GPE fired so far
gpe_count() {
    set -- $(cat "$gpe")
    echo "$1"
}

# logged ERE: the monitor's log has a line matching ERE
logged() {
    grep -Eq -- "$1" "$log"
}

run ndctl list -DH -d "$dimm"
health_ok='"health_state":"ok"'
expect "$health_ok" "$dimm healthy at start"
run cat "$gpe"
g0=$(gpe_count)

: > "$log"
ndctl monitor -d "$dimm" -l "$log" &
mon=$!
# the monitor has set its alarm enables (function 17) once it is waiting
wait_for 60 "monitor started (alarm enables set)" \
    sh -c "ndctl list -DH -d $dimm | grep -q '\"alarm_enabled_media_temperature\":true'"
sleep 2
kill -0 "$mon" 2>/dev/null || fail "ndctl monitor exited"
run cat "$log"
reject 'dimm-media-temperature":true' "monitor log before any event"

# a media temperature over the threshold (85 C): the alarm trips
run ndctl inject-smart "$dimm" -m 90 --media-temperature-alarm=on
wait_for 60 "monitor logged dimm-media-temperature" \
    logged '"dimm-media-temperature":true'
run cat "$log"
g1=$(gpe_count)
[ "$g1" -gt "$g0" ] || fail "gpe04 did not fire ($g0 -> $g1)"
say "gpe04 $g0 -> $g1"

# fatal health: a dimm-health-state event
run ndctl inject-smart "$dimm" -f
wait_for 60 "monitor logged dimm-health-state" \
    logged '"dimm-health-state":true'
run cat "$log"
g2=$(gpe_count)
[ "$g2" -gt "$g1" ] || fail "gpe04 did not fire for fatal ($g1 -> $g2)"
say "gpe04 $g1 -> $g2"
run ndctl list -DH -d "$dimm"
expect '"health_state":"fatal"' "$dimm fatal"

# the host injects spares 5 (threshold 10) over QMP
g3=$(gpe_count)
ready
wait_for 120 "monitor logged dimm-spares-remaining (QMP injection)" \
    logged '"dimm-spares-remaining":true'
run cat "$log"
g4=$(gpe_count)
[ "$g4" -gt "$g3" ] || fail "gpe04 did not fire for the QMP injection ($g3 -> $g4)"
run ndctl list -DH -d "$dimm"
expect '"spares_percentage":5' "$dimm spares injected over QMP"

kill "$mon"
wait "$mon" 2>/dev/null
run ndctl inject-smart "$dimm" --uninject-all
run ndctl list -DH -d "$dimm"
expect "$health_ok" "$dimm healthy after uninject"
