#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The overlay: which upstream files nvqemu replaces, and where our files go
# in the prepared tree.  Sourced by scripts/prepare-tree.sh and
# scripts/link-overlay.sh; the lists here are the single place to edit when a
# device model moves in or out.

# Upstream sources removed from the prepared tree (paths relative to its
# root).  A directory removes everything below it.
OVERLAY_REPLACED=(
    "hw/nvme"
    "hw/mem/nvdimm.c"
    "hw/acpi/nvdimm.c"
    "include/hw/mem/nvdimm.h"
)

# Our directories whose files are linked into the prepared tree, as
# "repo-dir:tree-dir".  Files keep their names; the tree-dir is created.
OVERLAY_DIRS=(
    "hw/mem:hw/mem"
    "hw/acpi:hw/acpi"
    "include/hw/mem:include/hw/mem"
    "include/hw/acpi:include/hw/acpi"
    "tests/unit:nvqemu/tests/unit"
    "tests/qtest:nvqemu/tests/qtest"
    "tests/fuzz:tests/qtest/fuzz/nvqemu"
    "bench:nvqemu/bench"
    "hw/block/nvme:hw/block/nvme"
    "include/hw/block/nvme:include/hw/block/nvme"
)

# Single files linked into the prepared tree, as "repo-file:tree-file".
OVERLAY_FILES=(
    "meson.build:nvqemu/meson.build"
    "qapi/nvqemu-nvdimm.json:qapi/nvqemu-nvdimm.json"
)
