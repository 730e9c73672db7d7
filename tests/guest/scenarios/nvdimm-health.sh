# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: an NVDIMM-N (nvdimm-n=on) seen through ndctl's Intel ops.
#   nvq.phase=1  fresh backend: `ndctl list -DH` shows the health object
#                (ok, 25/30 degrees C, 100 % spares, shutdown clean, count
#                0, thresholds); inject-smart of spares, media temperature
#                and fatal shows in list -DH with the alarms, thresholds set
#                with inject-smart show too, --uninject-all restores the
#                real values.  Then a clean poweroff.
#   nvq.phase=2  after that clean poweroff: shutdown clean, count 0, the
#                thresholds kept; prints NVQ-READY and waits to be killed
#                (the host SIGKILLs QEMU).
#   nvq.phase=3  after the SIGKILL: shutdown dirty, count 1, also in
#                nmem0/nfit/dirty_shutdown and the flush_fail flag.
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

dimm=nmem0
sysfs=/sys/bus/nd/devices/$dimm

# health KEY VALUE: list -DH shows "KEY":VALUE (a number may print as N.0)
health() {
    expect "\"$1\":$2([.]0+)?(,|}|$)" "list -DH $1"
}

run ndctl list -DH -d "$dimm"
expect '"health":' "a health object for $dimm"
run cat "$sysfs/nfit/family"
expect '^0$' "the Intel DSM family"
run cat "$sysfs/nfit/dsm_mask"
say "dsm_mask $(cat "$sysfs/nfit/dsm_mask")"
run cat "$sysfs/commands"
expect 'smart' "smart in $dimm commands"
expect 'smart_thresh' "smart_thresh in $dimm commands"

case "${NVQ_PHASE:-1}" in
1)
    run ndctl list -DH -d "$dimm"
    health health_state '"ok"'
    health temperature_celsius 25
    health controller_temperature_celsius 30
    health spares_percentage 100
    health life_used_percentage 0
    health shutdown_state '"clean"'
    health shutdown_count 0
    health alarm_enabled_spares true
    health temperature_threshold 85
    health spares_threshold 10
    run cat "$sysfs/nfit/dirty_shutdown"
    expect '^0$' "nfit/dirty_shutdown"

    # injections, one field at a time, shown with their alarms
    run ndctl inject-smart "$dimm" -s 5
    health spares_percentage 5
    health alarm_spares true
    run ndctl inject-smart "$dimm" -m 90
    health temperature_celsius 90
    health alarm_temperature true
    run ndctl inject-smart "$dimm" -f
    health health_state '"fatal"'
    run ndctl list -DH -d "$dimm"
    health health_state '"fatal"'
    health spares_percentage 5
    health temperature_celsius 90

    # thresholds and alarm enables (function 17)
    run ndctl inject-smart "$dimm" -M 70 -S 20 --ctrl-temperature-alarm=off
    run ndctl list -DH -d "$dimm"
    health temperature_threshold 70
    health spares_threshold 20
    health alarm_enabled_ctrl_temperature false

    # everything uninjected: the real values are back
    run ndctl inject-smart "$dimm" --uninject-all
    run ndctl list -DH -d "$dimm"
    health health_state '"ok"'
    health spares_percentage 100
    health temperature_celsius 25
    health alarm_spares false
    health alarm_temperature false
    health shutdown_state '"clean"'
    health shutdown_count 0
    ;;
2)
    run ndctl list -DH -d "$dimm"
    health shutdown_state '"clean"'
    health shutdown_count 0
    health temperature_threshold 70
    health spares_threshold 20
    run cat "$sysfs/nfit/dirty_shutdown"
    expect '^0$' "nfit/dirty_shutdown after a clean poweroff"
    run cat "$sysfs/nfit/flags"
    reject 'flush_fail' "nfit/flags after a clean poweroff"
    ready
    # the host kills QEMU now
    sleep 600
    fail "still running: QEMU was not killed"
    ;;
3)
    run ndctl list -DH -d "$dimm"
    health shutdown_state '"dirty"'
    health shutdown_count 1
    health health_state '"ok"'
    run cat "$sysfs/nfit/dirty_shutdown"
    expect '^1$' "nfit/dirty_shutdown after the SIGKILL"
    run cat "$sysfs/nfit/flags"
    expect 'flush_fail' "nfit/flags after the SIGKILL"
    ;;
esac
