# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for guest scenario scripts (busybox ash), installed in the image as
# /lib/nvq.sh; a scenario starts with ". /lib/nvq.sh".  Every failed check
# prints "NVQ-FAIL: ..." (which the host looks for), records it for /init and
# ends the scenario.

say() { echo "NVQ: $*"; }

fail() {
    echo "NVQ-FAIL: $*"
    echo "$*" >> /tmp/nvq-fails
    exit 1
}

# run CMD...: echo and run a command; its output (stdout+stderr) is printed
# and kept in /tmp/nvq-last for expect/field; a non-zero exit fails.
run() {
    echo "+ $*"
    "$@" > /tmp/nvq-last 2>&1
    _rc=$?
    cat /tmp/nvq-last
    [ $_rc -eq 0 ] || fail "'$*' exited $_rc"
}

# expect ERE [WHAT]: the last run's output must match ERE.
expect() {
    grep -Eq -- "$1" /tmp/nvq-last || fail "${2:-output of the last command} does not match /$1/"
}

# reject ERE [WHAT]: the last run's output must not match ERE.
reject() {
    ! grep -Eq -- "$1" /tmp/nvq-last || fail "${2:-output of the last command} matches /$1/"
}

# field NAME: first string value of "NAME":"..." in the last run's JSON.
field() {
    sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" /tmp/nvq-last | head -n 1
}

# count ERE: how many lines of the last run's output match ERE.
count() {
    grep -Ec -- "$1" /tmp/nvq-last
}

# wait_for SECONDS WHAT CMD...: poll CMD every 0.2 s until it succeeds.
wait_for() {
    _t=$(( $1 * 5 )); _what=$2; shift 2
    while ! "$@" >/dev/null 2>&1; do
        _t=$((_t - 1))
        [ $_t -gt 0 ] || fail "timed out waiting for $_what"
        sleep 0.2
    done
    say "$_what: ok"
}

# wait_region NMEM SECONDS: wait up to SECONDS for a hot-plugged NMEM, then
# for a region on it; its name is left in REGION.
wait_region() {
    wait_for "$2" "hot-plugged $1" test -e "/sys/bus/nd/devices/$1"
    wait_for 20 "a region for $1" sh -c "ndctl list -R -d $1 | grep -q '\"dev\":\"region'"
    run ndctl list -R -d "$1"
    REGION=$(field dev)
    [ -n "$REGION" ] || fail "no region on $1"
}

# nvdimm_init_labels REGION NMEM: give a fresh DIMM an initialised label
# area (a new backing file has empty index blocks) and check the region is
# back with its full size available.
nvdimm_init_labels() {
    run ndctl disable-region "$1"
    run ndctl init-labels -f "$2"
    expect 'initialized 1 nmem' "init-labels"
    run ndctl enable-region "$1"
    run ndctl list -R -r "$1"
}

# roundtrip DEV: write 1 MiB of random data to block device DEV, read it
# back and compare.
roundtrip() {
    run dd if=/dev/urandom of=/tmp/pattern bs=64k count=16
    run dd if=/tmp/pattern of="$1" bs=64k conv=fsync
    run dd if="$1" of=/tmp/back bs=64k count=16
    cmp /tmp/pattern /tmp/back || fail "data read back from $1 differs"
}

# badblocks_are FILE TEXT: FILE (a badblocks list) holds exactly TEXT
# ("" for none).
badblocks_are() {
    got=$(cat "$1")
    echo "$1: '$got'"
    [ "$got" = "$2" ] || fail "$1 is '$got', expected '$2'"
}

# ready: tell the host the guest is waiting for a hot-plug.
ready() {
    sync
    echo "NVQ-READY"
}
