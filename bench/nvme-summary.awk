# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 nvqemu authors
#
# Medians of bench/nvme's guest runs (any POSIX awk).
#
# In:  one fio run a line: CONFIG BOOT ROUND QD DEV IOPS
#      (DEV is nvme, virtio or null; a round is one run of each DEV).
# Out: one line per (CONFIG, QD), tab-separated:
#      CONFIG QD NVME-IOPS VIRTIO-IOPS NULL-IOPS NVME/VIRTIO NVME/NULL
#      medians over every round of every boot of CONFIG; the ratios are
#      medians of the per-round ratios.  CONFIG "all" pools virtio-blk and
#      null_blk over every boot (its nvme columns are "-").  A round that
#      lacks a figure is left out.

function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) {
        t = a[i] + 0
        for (j = i - 1; j >= 1 && a[j] + 0 > t; j--)
            a[j + 1] = a[j]
        a[j + 1] = t
    }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

function add(config, qd, what, x) {
    vals[config, qd, what] = vals[config, qd, what] " " x
    cells[config, qd] = 1
}

# "-" for an empty list, else its median printed with FMT
function med(config, qd, what, fmt) {
    if (vals[config, qd, what] == "")
        return "-"
    return sprintf(fmt, median(vals[config, qd, what]))
}

{
    run = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4
    iops[run, $5] = $6
    runs[run] = 1
}

END {
    for (run in runs) {
        split(run, f, SUBSEP)
        nv = iops[run, "nvme"]; vb = iops[run, "virtio"]; nb = iops[run, "null"]
        if (!(nv > 0 && vb > 0 && nb > 0))
            continue
        add(f[1], f[4], "nvme", nv)
        add(f[1], f[4], "virtio", vb)
        add(f[1], f[4], "null", nb)
        add(f[1], f[4], "nvme/virtio", nv / vb)
        add(f[1], f[4], "nvme/null", nv / nb)
        add("all", f[4], "virtio", vb)
        add("all", f[4], "null", nb)
    }
    for (cell in cells) {
        split(cell, f, SUBSEP)
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f[1], f[2],
               med(f[1], f[2], "nvme", "%.0f"),
               med(f[1], f[2], "virtio", "%.0f"),
               med(f[1], f[2], "null", "%.0f"),
               med(f[1], f[2], "nvme/virtio", "%.4f"),
               med(f[1], f[2], "nvme/null", "%.4f")
    }
}
