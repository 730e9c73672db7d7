# SPDX-License-Identifier: GPL-2.0-or-later
# Copyright (c) 2026 nvqemu authors
#
# IOPS against queue depth, from the table bench/nvme writes beside the
# plot: tab-separated, one header line, column 1 the queue depth, then one
# column per device and configuration, and null_blk last (drawn as the
# dashed ceiling).
#
#   gnuplot -e "tsv='T.tsv'; png='T.png'; cols=N" bench/nvme-plot.gp

set datafile separator "\t"
set terminal pngcairo size 900,540 noenhanced font ",11"
set output png
set title "fio 4 KiB randread, io_uring, direct=1: guest under TCG, null-co backends"
set xlabel "queue depth"
set ylabel "IOPS (median of rounds)"
set logscale x 2
set yrange [0:*]
set grid
set key outside right top Left reverse
set style data linespoints

plot for [i = 2:cols - 1] tsv using 1:i:xtic(1) \
         lw 2 pt 7 ps 1.2 title columnhead(i), \
     tsv using 1:cols with lines dt 2 lw 2 lc "black" title columnhead(cols)
