#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# /init of the nvqemu test guest (busybox ash).  Mounts the pseudo file
# systems, loads the modules listed in /etc/nvq-modules, runs /scenario.sh
# (appended to the initramfs by the host as a second cpio) and prints one
# result marker before powering off:
#   NVQ-RESULT: PASS            the scenario exited 0 and printed no NVQ-FAIL
#   NVQ-RESULT: FAIL (...)      anything else
# Scenario parameters come from the kernel command line as nvq.NAME=VALUE and
# are exported to the scenario as NVQ_NAME.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t devtmpfs dev /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
mkdir -p /tmp /run /mnt /dev/pts
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
echo "NVQ-BOOT: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus"

fails=0
while read -r mod; do
    [ -n "$mod" ] || continue
    insmod "$mod" || { echo "NVQ-FAIL: insmod $mod"; fails=$((fails + 1)); }
done < /etc/nvq-modules

# shellcheck disable=SC2013  # words, not lines
for arg in $(cat /proc/cmdline); do
    case $arg in
        nvq.*=*)
            name=${arg%%=*}; name=${name#nvq.}
            export "NVQ_$(echo "$name" | tr 'a-z-' 'A-Z_')=${arg#*=}" ;;
    esac
done

rc=0
if [ -f /scenario.sh ]; then
    echo "NVQ-BEGIN"
    sh /scenario.sh; rc=$?
    echo "NVQ-END rc=$rc"
    [ ! -s /tmp/nvq-fails ] || fails=$((fails + $(wc -l < /tmp/nvq-fails)))
else
    echo "NVQ-FAIL: no /scenario.sh in the initramfs"; fails=$((fails + 1))
fi

if [ "$rc" -eq 0 ] && [ "$fails" -eq 0 ]; then
    echo "NVQ-RESULT: PASS"
else
    echo "--- dmesg (last 60 lines)"
    dmesg | tail -n 60
    echo "NVQ-RESULT: FAIL (scenario rc=$rc, $fails failure markers)"
fi
sync
poweroff -f
