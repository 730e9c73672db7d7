#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# libvirt suite: Debian's libvirt driving our qemu-system-x86_64 through
# <emulator>, on the pc and q35 machines.
#   domxml-to-native  <memory model='nvdimm'> (label size + node, pmem,
#                     readonly) and <memory model='dimm'> become the expected
#                     -machine/-m/-object/-device options
#   argv boots        the converted command line, run as it is, boots guest
#                     scenario nvdimm-coldplug (both phases)
#   attach-device     virsh attach-device --live of an NVDIMM and a DIMM on a
#                     running domain; the guest uses both; detach-device of
#                     the NVDIMM fails with QEMU's reason (no NVDIMM unplug)
#   nvme-multipath    a domain with an NVMe subsystem of two controllers
#                     sharing a namespace (JSON -device options in
#                     <qemu:commandline>) converts, and the converted
#                     command line boots guest scenario nvme-multipath
# libvirt runs embedded (qemu:///embed, the QEMU driver inside virsh) with
# its whole state and a private qemu.conf under a temp dir: no daemon, no
# change to the host's libvirt.  Every QEMU is stopped by PID at the end.
# TAP on stdout, diagnostics on stderr, logs in build/test-logs/libvirt/.
#
# Environment: NVQEMU_QEMU (binary), NVQEMU_LIBVIRT_MACHINES (default
# "pc q35").
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export NVQEMU_GUEST_LOGS=${NVQEMU_LIBVIRT_LOGS:-$top/build/test-logs/libvirt}
# shellcheck source=SCRIPTDIR/../guest/lib.sh
. "$top/tests/guest/lib.sh"
scen=$top/tests/guest/scenarios
machines=${NVQEMU_LIBVIRT_MACHINES:-pc q35}
MiB=1048576
fail=0

ok() { echo "ok - libvirt: $*"; }
notok() { echo "not ok - libvirt: $*"; fail=$((fail + 1)); }

guest_setup
if ! command -v virsh >/dev/null; then
    echo "not ok - libvirt: virsh not installed (scripts/install-deps.sh)"
    exit 1
fi
if [ ! -x "$NVQEMU_QEMU" ]; then
    echo "not ok - libvirt: no QEMU binary at $NVQEMU_QEMU"
    exit 1
fi
if ! guest_image; then
    echo "not ok - libvirt: building the guest image"
    exit 1
fi

# libvirt's QEMU driver runs embedded in virsh (qemu:///embed) as an
# unprivileged user, with its whole state under a temp dir: no daemon, no
# system user or config needed, nothing of the host's libvirt touched.
# (Privileged, the driver insists on the libvirt-qemu user, which only
# libvirt-daemon-system creates, together with services we don't want.)
# As a normal user, the driver simply runs as that user.
if [ "$(id -u)" -eq 0 ]; then
    lvuser=${NVQEMU_LIBVIRT_USER:-nobody}
else
    lvuser=$(id -un)
fi
as_lvuser() {
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid="$lvuser" --regid="$(id -g "$lvuser")" --clear-groups "$@"
    else
        "$@"
    fi
}
lvtmp=$(mktemp -d "${TMPDIR:-/tmp}/nvqemu-libvirt.XXXXXX")
root=$lvtmp/root
d=$lvtmp/work
mkdir -p "$root" "$d"
chown -R "$lvuser:" "$lvtmp"
chmod 755 "$lvtmp"
uri="qemu:///embed?root=$root"
lv() {
    as_lvuser env HOME="$root" virsh -q -c "$uri" "$@"
}

# Stop every domain of the embedded driver, then anything left by PID
# (guests and the driver's virtlogd).
lv_cleanup() {
    local dom p
    if [ -d "$root" ]; then
        for dom in $(lv list --name 2>/dev/null); do lv destroy "$dom" >/dev/null 2>&1 || true; done
        # the guests, then the virtlogd that virsh spawned for the embedded
        # driver (its pid file is under HOME=$root; it outlives virsh)
        for p in "$root"/run/qemu/*.pid "$root"/.cache/libvirt/*.pid; do
            [ -f "$p" ] || continue
            kill "$(cat "$p")" 2>/dev/null || true
        done
    fi
    rm -rf "$lvtmp"
    guest_cleanup
}
trap lv_cleanup EXIT

# The unprivileged driver runs QEMU as $lvuser: it must reach the binary
# and the guest kernel.  Where a parent directory is private (a clone in a
# 0700 temp dir, say), run copies from the world-readable work dir instead;
# the binary takes its qemu-bundle (firmware links) along.
if ! as_lvuser test -r "$NVQEMU_QEMU"; then
    mkdir -p "$lvtmp/bin"
    cp "$NVQEMU_QEMU" "$lvtmp/bin/"
    [ ! -d "$(dirname "$NVQEMU_QEMU")/qemu-bundle" ] ||
        cp -a "$(dirname "$NVQEMU_QEMU")/qemu-bundle" "$lvtmp/bin/"
    NVQEMU_QEMU=$lvtmp/bin/$(basename "$NVQEMU_QEMU")
    chmod -R a+rX "$lvtmp/bin"
    glog "$lvuser cannot reach the binary's directory: using a copy in $lvtmp/bin"
fi
if ! as_lvuser test -r "$GUEST_VMLINUX"; then
    cp "$GUEST_VMLINUX" "$lvtmp/vmlinux"
    chmod a+r "$lvtmp/vmlinux"
    GUEST_VMLINUX=$lvtmp/vmlinux
fi
for f in "$NVQEMU_QEMU" "$GUEST_VMLINUX"; do
    if ! as_lvuser test -r "$f"; then
        echo "not ok - libvirt: $lvuser cannot read $f"
        exit 1
    fi
done

# The firmware options the binary may need (see guest_fw_args), passed
# through <qemu:commandline>.
guest_fw_args
# qemu_args [ARG_LINES_FILE]: the <qemu:commandline> block with the
# firmware options and the <qemu:arg> lines of the file
qemu_args() {
    local a extra=
    [ -z "${1:-}" ] || extra=$(grep '<qemu:arg' "$1")
    [ ${#GUEST_FW[@]} -gt 0 ] || [ -n "$extra" ] || return 0
    echo "  <qemu:commandline>"
    for a in "${GUEST_FW[@]}"; do echo "    <qemu:arg value='$a'/>"; done
    [ -z "$extra" ] || echo "$extra"
    echo "  </qemu:commandline>"
}
qemuargs=$(qemu_args)

# subst TEMPLATE KEY=VALUE...: the template with @KEY@ replaced.
subst() {
    python3 - "$@" <<'PY'
import sys
text = open(sys.argv[1]).read()
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    text = text.replace("@" + k + "@", v)
sys.stdout.write(text)
PY
}

# domain OUT NAME MACHINE INITRD CMDLINE SERIAL MEMDEV_XML...
domain() {
    local out=$1 name=$2 machine=$3 initrd=$4 cmdline=$5 serial=$6
    shift 6
    subst "$here/domain.xml.in" NAME="$name" MACHINE="$machine" QEMU="$NVQEMU_QEMU" \
        KERNEL="$GUEST_VMLINUX" INITRD="$initrd" \
        CMDLINE="$GUEST_APPEND_BASE $cmdline" SERIAL="$serial" \
        MEMDEVS="$(cat "$@" 2>/dev/null | grep -v '^<!--')" QEMUARGS="$qemuargs" > "$out"
}

# memdev OUT TEMPLATE PATH SIZE_KIB
memdev() {
    subst "$here/$2.xml.in" PATH="$3" SIZE_KIB="$4" > "$1"
}

# has OPTIONS_FILE OPT STRING...: one "OPT ..." line contains every STRING.
has() {
    local f=$1 opt=$2 line s
    shift 2
    while IFS= read -r line; do
        case $line in "$opt "*) ;; *) continue ;; esac
        for s in "$@"; do
            case $line in *"$s"*) ;; *) continue 2 ;; esac
        done
        return 0
    done < "$f"
    glog "no '$opt' option with: $*"
    return 1
}

# to_native NAME DOMAIN_XML: convert, leave the options in $d/NAME.opts.
to_native() {
    if ! lv domxml-to-native qemu-argv --xml "$2" > "$d/$1.argv" 2> "$d/$1.err"; then
        glog "domxml-to-native $1 failed: $(cat "$d/$1.err")"
        return 1
    fi
    cp "$d/$1.argv" "$GUEST_LOGDIR/$1.argv"
    python3 "$here/argv.py" options "$d/$1.argv" > "$d/$1.opts"
}

# t_convert MACHINE VARIANT: domxml-to-native and the expected options.
t_convert() {
    local m=$1 v=$2 img=$d/$2-$1.img name=conv-$2-$1 size=$((256 * MiB))
    truncate -s 256M "$img"
    memdev "$d/$v.xml" "$v" "$img" 262144
    domain "$d/$name.xml" "nvq-$name" "$m" "$GUEST_BASE" "" "$d/$name.serial" "$d/$v.xml"
    to_native "$name" "$d/$name.xml" || return 1
    local o=$d/$name.opts
    has "$o" -m "slots=4" || return 1
    case $v in
        nvdimm*)
            has "$o" -machine "nvdimm=on" &&
            has "$o" -object '"qom-type":"memory-backend-file"' "\"mem-path\":\"$img\"" \
                '"share":true' "\"size\":$size" "\"align\":$((16 * MiB))" &&
            has "$o" -device '"driver":"nvdimm"' '"label-size":131072' '"node":0' \
                '"memdev":"memnvdimm0"' || return 1 ;;
    esac
    case $v in
        nvdimm-pmem)
            has "$o" -object '"qom-type":"memory-backend-file"' '"pmem":true' || return 1 ;;
        nvdimm-readonly)
            has "$o" -device '"driver":"nvdimm"' '"unarmed":true' || return 1 ;;
        dimm)
            has "$o" -object '"qom-type":"memory-backend-ram"' "\"size\":$size" &&
            has "$o" -device '"driver":"pc-dimm"' '"node":0' '"memdev":"memdimm0"' || return 1 ;;
    esac
    rm -f "$img"
}

# run_argv NAME: run the converted command line as it is.  libvirt starts
# QEMU stopped (-S) and with -no-shutdown, so "cont" goes in over its QMP
# monitor and "quit" once the guest has printed its result.
run_argv() {
    local name=$1 mon
    local -a env cmd
    mapfile -d '' -t env < <(python3 "$here/argv.py" env "$d/$name.argv")
    mapfile -d '' -t cmd < <(python3 "$here/argv.py" argv "$d/$name.argv")
    mon=$(sed -n 's/^-chardev .*socket.*"path":"\([^"]*monitor.sock\)".*/\1/p; s/^-chardev socket,id=charmonitor,path=\([^,]*\),.*/\1/p' "$d/$name.opts" | head -n 1)
    [ -n "$mon" ] || { glog "no monitor socket in the argv"; return 1; }
    mkdir -p "$(dirname "$mon")"
    # the master key file libvirt would have written
    local key
    key=$(grep '^-object .*"qom-type":"secret"' "$d/$name.opts" | sed -n 's/.*"file":"\([^"]*\)".*/\1/p' | head -n 1)
    [ -z "$key" ] || head -c 32 /dev/urandom > "$key"
    GUEST_NAME=$name
    GUEST_LOG=$d/$name.serial
    GUEST_QMP=$mon
    rm -f "$GUEST_LOG"
    guest_spawn env "${env[@]}" "${cmd[@]}"
    guest_qmp cont || { guest_kill; return 1; }
    guest_wait_marker 'NVQ-RESULT' "$GUEST_TIMEOUT" || true
    kill -0 "$GUEST_PID" 2>/dev/null && guest_qmp quit
    cp "$GUEST_LOG" "$GUEST_LOGDIR/$name.log"
    GUEST_LOG=$GUEST_LOGDIR/$name.log
    guest_finish
}

# t_argv_boot MACHINE: nvdimm-coldplug through libvirt's command line.
t_argv_boot() {
    local m=$1 img=$d/boot-$1.img sum name
    truncate -s 256M "$img"
    memdev "$d/boot-$m-nv.xml" nvdimm "$img" 262144
    for phase in 1 2; do
        name=argv-nvdimm-coldplug-$m-$phase
        guest_initrd "$scen/nvdimm-coldplug.sh" "$d/$name.initrd"
        domain "$d/$name.xml" "nvq-$name" "$m" "$d/$name.initrd" \
            "nvq.phase=$phase${sum:+ nvq.sum=$sum}" "$d/$name.serial" "$d/boot-$m-nv.xml"
        to_native "$name" "$d/$name.xml" || return 1
        run_argv "$name" || return 1
        sum=$(sed -n 's/.*NVQ-SUM: \([0-9a-f]\{32\}\).*/\1/p' "$GUEST_LOG" | tail -n 1)
        [ -n "$sum" ] || { glog "no NVQ-SUM in $GUEST_LOG"; return 1; }
        rm -f "$d/$name.initrd"
    done
    rm -f "$img"
}

# t_attach MACHINE: virsh create, then attach-device --live nvdimm + dimm.
t_attach() {
    local m=$1 name=attach-$1 rc=0
    # QEMU places each DIMM right after the previous one's usable area, and
    # Linux only adds RAM in whole memory blocks (128 MiB): NVDIMMs of 256
    # MiB + the 128 KiB label (libvirt rounds that up to 258 MiB) keep 256
    # MiB usable, so the DIMM attached after them starts block-aligned.
    truncate -s 258M "$d/att-$m-0.img" "$d/att-$m-1.img"
    memdev "$d/att-$m-nv0.xml" nvdimm "$d/att-$m-0.img" 262272
    memdev "$d/att-$m-nv1.xml" nvdimm "$d/att-$m-1.img" 262272
    memdev "$d/att-$m-dimm.xml" dimm "" 262144
    guest_initrd "$here/hotplug-guest.sh" "$d/$name.initrd"
    GUEST_NAME=$name
    GUEST_LOG=$d/$name.serial
    domain "$d/$name.xml" "nvq-$name" "$m" "$d/$name.initrd" "nvq.size=256" \
        "$GUEST_LOG" "$d/att-$m-nv0.xml"
    chown "$lvuser:" "$d"/att-"$m"-*.img "$d/$name.initrd"
    if ! lv create "$d/$name.xml" >&2; then
        glog "virsh create failed"
        rc=1
    else
        GUEST_PID=$(cat "$root/run/qemu/nvq-$name.pid")
        if ! guest_wait_marker NVQ-READY 120; then
            rc=1
        else
            lv attach-device "nvq-$name" "$d/att-$m-nv1.xml" --live >&2 || { glog "attach nvdimm failed"; rc=1; }
            lv attach-device "nvq-$name" "$d/att-$m-dimm.xml" --live >&2 || { glog "attach dimm failed"; rc=1; }
            # NVDIMM hot-unplug is refused (docs/nvdimm.md, "Hot-unplug"):
            # detach-device must fail with QEMU's reason, the guest go on
            if lv detach-device "nvq-$name" "$d/att-$m-nv1.xml" --live > "$d/$name.detach" 2>&1; then
                glog "detach-device of the nvdimm succeeded"; rc=1
            elif ! grep -q 'nvdimm device hot unplug is not supported' "$d/$name.detach"; then
                glog "detach-device of the nvdimm: $(cat "$d/$name.detach")"; rc=1
            fi
            lv dumpxml "nvq-$name" > "$GUEST_LOGDIR/$name.xml" 2>&1
            [ $rc = 1 ] || guest_wait_marker NVQ-RESULT "$GUEST_TIMEOUT" || rc=1
        fi
        lv destroy "nvq-$name" >/dev/null 2>&1 || true
    fi
    cp "$GUEST_LOG" "$GUEST_LOGDIR/$name.log" 2>/dev/null
    cp "$root/log/qemu/nvq-$name.log" "$GUEST_LOGDIR/$name.qemu.log" 2>/dev/null
    if [ $rc = 0 ]; then guest_check "$GUEST_LOGDIR/$name.log" || rc=1; fi
    rm -f "$d/$name.initrd" "$d"/att-"$m"-*.img
    return $rc
}

# t_nvme_multipath MACHINE: an NVMe subsystem through <qemu:commandline>:
# domxml-to-native keeps the devices, and the converted command line
# boots guest scenario nvme-multipath (two paths, attach-ns, path removal).
t_nvme_multipath() {
    local m=$1 name=nvme-multipath-$1 rc=0
    local img1=$d/mp-$1-1.img img2=$d/mp-$1-2.img
    truncate -s 128M "$img1" "$img2"
    chown "$lvuser:" "$img1" "$img2"
    subst "$here/nvme-multipath.xml.in" IMG1="$img1" IMG2="$img2" > "$d/$name.args"
    guest_initrd "$scen/nvme-multipath.sh" "$d/$name.initrd"
    qemuargs=$(qemu_args "$d/$name.args") \
        domain "$d/$name.xml" "nvq-$name" "$m" "$d/$name.initrd" \
            "nvq.nqn=nqn.2019-08.org.qemu:nvq-mp" "$d/$name.serial" /dev/null
    to_native "$name" "$d/$name.xml" || return 1
    has "$d/$name.opts" -device '"driver":"nvme-subsys"' '"nqn":"nvq-mp"' &&
    has "$d/$name.opts" -device '"driver":"nvme"' '"id":"c1"' '"subsys":"ss0"' &&
    has "$d/$name.opts" -device '"driver":"nvme-ns"' '"detached":true' || return 1
    run_argv "$name" || rc=1
    rm -f "$d/$name.initrd" "$img1" "$img2"
    return $rc
}

# <pmem/> needs the backend's pmem property, which QEMU only has when built
# with libpmem; without it libvirt must refuse the XML.
has_pmem=0
"$NVQEMU_QEMU" -object memory-backend-file,help 2>/dev/null | grep -q '^ *pmem=' && has_pmem=1

t_no_pmem() {
    local m=$1 name=conv-nvdimm-pmem-$1
    memdev "$d/nvdimm-pmem.xml" nvdimm-pmem "$d/unused.img" 262144
    domain "$d/$name.xml" "nvq-$name" "$m" "$GUEST_BASE" "" "$d/$name.serial" "$d/nvdimm-pmem.xml"
    ! lv domxml-to-native qemu-argv --xml "$d/$name.xml" > /dev/null 2> "$d/$name.err" &&
        grep -q 'pmem property is not available' "$d/$name.err"
}

for m in $machines; do
    for v in nvdimm nvdimm-pmem nvdimm-readonly dimm; do
        if [ "$v" = nvdimm-pmem ] && [ "$has_pmem" = 0 ]; then
            if t_no_pmem "$m"; then
                ok "domxml-to-native $v ($m) # SKIP $NVQEMU_QEMU has no memory-backend-file pmem property (built without libpmem), libvirt refuses <pmem/> as expected"
            else
                notok "domxml-to-native $v ($m): libvirt did not refuse <pmem/> on a QEMU without pmem"
            fi
            continue
        fi
        if t_convert "$m" "$v"; then ok "domxml-to-native $v ($m)"; else notok "domxml-to-native $v ($m)"; fi
    done
    t0=$(date +%s)
    if t_argv_boot "$m"; then ok "argv boots nvdimm-coldplug ($m)"; else notok "argv boots nvdimm-coldplug ($m)"; fi
    glog "argv boot ($m): $(( $(date +%s) - t0 )) s"
    t0=$(date +%s)
    if t_attach "$m"; then ok "attach-device --live nvdimm + dimm, detach-device nvdimm refused ($m)"; else notok "attach-device --live nvdimm + dimm, detach-device nvdimm refused ($m)"; fi
    glog "attach ($m): $(( $(date +%s) - t0 )) s"
    t0=$(date +%s)
    if t_nvme_multipath "$m"; then ok "nvme-multipath via qemu:commandline ($m)"; else notok "nvme-multipath via qemu:commandline ($m)"; fi
    glog "nvme-multipath ($m): $(( $(date +%s) - t0 )) s"
done
[ "$fail" -eq 0 ]
