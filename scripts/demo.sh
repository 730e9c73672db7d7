#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Demo (make demo): boot a Linux guest on our qemu-system-x86_64 (q35, TCG)
# with one NVDIMM and one NVMe controller whose backing files live in
# build/demo/ (kept between runs, so the namespace created by the first run
# is found again), and print what the guest sees: ndctl list -DRN, nvme list
# and a short fio figure per device.  Exits non-zero if the guest failed.
#
# Environment: NVQEMU_QEMU (binary), NVQEMU_DEMO_MACHINE (default q35).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
demo=$top/build/demo
export NVQEMU_GUEST_LOGS=$demo
# shellcheck source=SCRIPTDIR/../tests/guest/lib.sh
. "$top/tests/guest/lib.sh"
machine=${NVQEMU_DEMO_MACHINE:-q35}

guest_setup
[ -x "$NVQEMU_QEMU" ] || { echo "demo: no QEMU binary at $NVQEMU_QEMU (run make)" >&2; exit 1; }
guest_image
mkdir -p "$demo"
[ -f "$demo/nvdimm0.img" ] || truncate -s 512M "$demo/nvdimm0.img"
[ -f "$demo/nvme0.img" ] || truncate -s 1G "$demo/nvme0.img"

echo "demo: booting $machine with an NVDIMM ($demo/nvdimm0.img) and an NVMe controller ($demo/nvme0.img)"
rc=0
guest_boot demo "$machine,nvdimm=on" "$top/tests/guest/scenarios/demo.sh" "" \
    -m 1G,slots=4,maxmem=8G \
    -object "memory-backend-file,id=mem-nv0,mem-path=$demo/nvdimm0.img,size=512M,share=on,align=16M" \
    -device nvdimm,id=nv0,memdev=mem-nv0,label-size=131072 \
    -drive "file=$demo/nvme0.img,if=none,id=d0,format=raw" \
    -device nvme,drive=d0,serial=NVQDEMO0001 || rc=$?

# What the guest printed, without kernel messages and markers.
sed -n '/NVQ-BEGIN/,/NVQ-END/p' "$GUEST_LOG" |
    grep -Ev '^\[ *[0-9]+\.[0-9]+\]|NVQ-BEGIN|NVQ-END' | sed 's/^NVQ-DEMO: /==> /'
echo "demo: guest log $GUEST_LOG, $((GUEST_WALL_MS / 1000)) s"
if [ "$rc" -ne 0 ]; then
    echo "demo: the guest FAILED" >&2
    exit 1
fi
echo "demo: OK"
