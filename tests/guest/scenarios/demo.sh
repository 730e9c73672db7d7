# SPDX-License-Identifier: GPL-2.0-or-later
#
# Guest scenario for scripts/demo.sh: show what Linux sees of one NVDIMM and
# one NVMe controller.  The NVDIMM gets labels and an fsdax namespace on the
# first run (the backing file keeps them for the next); a short fio run on
# each device gives an (emulated, TCG) IOPS figure.
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/nvq.sh

run ndctl list -DRN
if ! grep -q '"mode":"fsdax"' /tmp/nvq-last; then
    say "fresh NVDIMM: initialising labels, creating an fsdax namespace"
    run ndctl list -R
    region=$(field dev)
    [ -n "$region" ] || fail "no NVDIMM region"
    nvdimm_init_labels "$region" nmem0
    run ndctl create-namespace -r "$region" -m fsdax
    run ndctl list -DRN
fi
expect '"mode":"fsdax"' "the fsdax namespace"
pmem=$(field blockdev)
wait_for 20 "/dev/nvme0n1" test -b /dev/nvme0n1
run nvme list
expect '/dev/nvme0n1' "nvme list"

for dev in "/dev/$pmem" /dev/nvme0n1; do
    echo "+ fio 4 KiB randread, libaio, QD32, 3 s on $dev"
    fio --name=demo --filename="$dev" --direct=1 --ioengine=libaio \
        --rw=randread --bs=4k --iodepth=32 --runtime=3 --time_based \
        --size=64M --output-format=terse --terse-version=3 > /tmp/fio.out 2>&1 ||
        { cat /tmp/fio.out; fail "fio on $dev"; }
    iops=$(cut -d';' -f8 /tmp/fio.out | tail -n 1)
    [ -n "$iops" ] || fail "no fio figure for $dev"
    echo "NVQ-DEMO: $dev: $iops IOPS (4 KiB random read, QD32, emulated under TCG)"
done
