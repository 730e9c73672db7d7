# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario: pc-dimm hot-plug.  After "NVQ-READY" the host adds a
# pc-dimm of nvq.size MiB over QMP; the guest must see new memory blocks in
# /sys/devices/system/memory, online them, and MemTotal must grow.
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

blocks() { find /sys/devices/system/memory -maxdepth 1 -name "memory[0-9]*" | wc -l; }
memtotal() { sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo; }
bs=$(( 0x$(cat /sys/devices/system/memory/block_size_bytes) / 1048576 ))
before=$(blocks); mem0=$(memtotal)
want=$(( ${NVQ_SIZE:-256} / bs ))
say "memory blocks of $bs MiB: $before, MemTotal $mem0 kB; expecting $want more"
ready
wait_for 60 "$want new memory blocks" sh -c "[ \$(find /sys/devices/system/memory -maxdepth 1 -name 'memory[0-9]*' | wc -l) -ge $((before + want)) ]"
n=0
for st in /sys/devices/system/memory/memory*/state; do
    if [ "$(cat "$st")" = offline ]; then
        echo online > "$st" || fail "cannot online ${st%/state}"
        say "onlined $(basename "${st%/state}")"
        n=$((n + 1))
    fi
done
[ $n -ge "$want" ] || fail "onlined $n blocks, expected $want"
grep -l offline /sys/devices/system/memory/memory*/state && fail "memory blocks still offline"
mem1=$(memtotal)
say "MemTotal $mem0 kB -> $mem1 kB"
[ $(( (mem1 - mem0) / 1024 )) -ge $(( ${NVQ_SIZE:-256} - 8 )) ] || fail "MemTotal grew by only $(( (mem1 - mem0) / 1024 )) MiB"
# use the new memory: fill most of it in tmpfs
run dd if=/dev/zero of=/tmp/fill bs=1M count=$(( ${NVQ_SIZE:-256} / 2 ))
rm -f /tmp/fill
