#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Link every overlay file of the repo into the prepared tree as a symlink, so
# that editing one of our files and running make recompiles just that file.
# Idempotent and cheap: run by every `make`.  Prints "changed" when it added
# or removed a link (the build then has to re-run meson).
#
# usage: link-overlay.sh REPO TREE
set -euo pipefail
repo=${1:?repo}; tree=${2:?tree}
# shellcheck source=scripts/overlay.sh
. "$repo/scripts/overlay.sh"

changed=0
for pair in "${OVERLAY_DIRS[@]}"; do
    from=${pair%%:*}; to=${pair#*:}
    [ -d "$repo/$from" ] || continue
    mkdir -p "$tree/$to"
    # add links for new files
    while IFS= read -r -d '' f; do
        rel=${f#"$repo/$from/"}
        dst=$tree/$to/$rel
        if [ "$(readlink "$dst" 2>/dev/null)" != "$f" ]; then
            mkdir -p "$(dirname "$dst")"
            ln -sfn "$f" "$dst"
            changed=1
        fi
    done < <(find "$repo/$from" -type f \( -name '*.[ch]' -o -name 'meson.build' \
                 -o -name 'Kconfig' -o -name 'trace-events' -o -name '*.json' \) -print0)
    # drop links whose target is gone
    while IFS= read -r -d '' l; do
        case "$(readlink "$l")" in
            "$repo"/*) [ -e "$l" ] || { rm -f "$l"; changed=1; } ;;
        esac
    done < <(find "$tree/$to" -type l -print0)
done
for pair in "${OVERLAY_FILES[@]}"; do
    from=$repo/${pair%%:*}; dst=$tree/${pair#*:}
    if [ "$(readlink "$dst" 2>/dev/null)" != "$from" ]; then
        mkdir -p "$(dirname "$dst")"
        ln -sfn "$from" "$dst"
        changed=1
    fi
done
[ $changed = 0 ] || echo changed
