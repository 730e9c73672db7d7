#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Prepare build/src from the pristine (cached) upstream tree:
#   1. copy the pristine tree
#   2. remove the upstream sources nvqemu replaces (scripts/overlay.sh)
#   3. link our sources in (scripts/link-overlay.sh)
#   4. apply patches/*.patch in name order (wiring only, no upstream code)
# With --vanilla only step 1 is done (the stock reference tree).
#
# usage: prepare-tree.sh [--vanilla] REPO PRISTINE DEST
set -euo pipefail
vanilla=0
[ "${1:-}" = --vanilla ] && { vanilla=1; shift; }
repo=${1:?repo}; pristine=${2:?pristine}; dest=${3:?dest}
# shellcheck source=scripts/overlay.sh
. "$repo/scripts/overlay.sh"
log() { printf 'prepare-tree: %s\n' "$*" >&2; }

tmp=$dest.tmp
rm -rf "$tmp"
cp -a "$pristine" "$tmp"
rm -rf "$tmp/debian"
if [ $vanilla = 0 ]; then
    for p in "${OVERLAY_REPLACED[@]}"; do
        [ -e "$tmp/$p" ] || { log "upstream path $p to replace is missing"; exit 1; }
        rm -rf "${tmp:?}/$p"
        log "removed upstream $p"
    done
    "$repo/scripts/link-overlay.sh" "$repo" "$tmp" >/dev/null
    for p in "$repo"/patches/*.patch; do
        [ -f "$p" ] || continue
        log "applying $(basename "$p")"
        patch -d "$tmp" -p1 -s --no-backup-if-mismatch < "$p"
    done
fi
rm -rf "$dest"
mv "$tmp" "$dest"
