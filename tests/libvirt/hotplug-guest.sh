# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario for the libvirt live-attach test: one NVDIMM is cold-plugged;
# after "NVQ-READY" the host runs virsh attach-device --live with an NVDIMM
# and a RAM DIMM of nvq.size MiB.  The guest must see nmem1 and its region
# and create an fsdax namespace there, and online the new memory blocks.
# shellcheck source=SCRIPTDIR/../guest/guest-lib.sh
. /lib/nvq.sh

mem_blocks() { find /sys/devices/system/memory -maxdepth 1 -name 'memory[0-9]*' | wc -l; }
bs=$(( 0x$(cat /sys/devices/system/memory/block_size_bytes) / 1048576 ))
want=$(( ${NVQ_SIZE:-256} / bs ))
before=$(mem_blocks)
run ndctl list -DRi
expect '"dev":"nmem0"' "the cold-plugged NVDIMM"
ready

wait_region nmem1 90
region=$REGION
nvdimm_init_labels "$region" nmem1
run ndctl create-namespace -r "$region" -m fsdax
expect '"mode":"fsdax"'
blk=$(field blockdev)
[ -b "/dev/$blk" ] || fail "no pmem block device on the attached NVDIMM"

wait_for 90 "$want new memory blocks" sh -c "[ \$(find /sys/devices/system/memory -maxdepth 1 -name 'memory[0-9]*' | wc -l) -ge $((before + want)) ]"
n=0
for st in /sys/devices/system/memory/memory*/state; do
    if [ "$(cat "$st")" = offline ]; then
        echo online > "$st" || fail "cannot online ${st%/state}"
        n=$((n + 1))
    fi
done
say "onlined $n memory blocks"
[ $n -ge "$want" ] || fail "onlined $n blocks, expected $want"
