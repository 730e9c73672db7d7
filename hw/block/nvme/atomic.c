/*
 * Write atomicity (NVMe Base Specification 2.0c section 2.1.4 "Atomic
 * Operations", Identify Controller AWUN/AWUPF, feature 0Ah Write
 * Atomicity Normal).
 *
 * The controller's atomic write unit is AWUN + 1 logical blocks in normal
 * operation, or AWUPF + 1 when the host has set Disable Normal (DN) and
 * only asks for atomicity across power failure (stock's properties
 * atomic.awun, atomic.awupf and atomic.dn, the last one giving DN's value
 * after a reset).  A write of at most that many blocks (Write, Write
 * Zeroes, the destination write of a Copy) is atomic with respect to
 * every other command: the block layer serialises it against all
 * overlapping requests in flight (BDRV_REQ_SERIALISING), so a concurrent
 * Read sees all old or all new data and two overlapping atomic writes
 * never interleave.  Without atomic.awun and atomic.awupf (both 0, the
 * default) nothing is serialised, as stock reports no atomicity beyond
 * one logical block.
 *
 * Like stock, the unit is not a limit: a longer write is carried out, just
 * without the guarantee.  Get Features 0Ah with SEL=default reports DN 0
 * whatever atomic.dn says, as stock does.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "nvme.h"

/*
 * AWUPF as Identify reports it: at most AWUN (Base 5.17.2.1); like stock,
 * an atomic.awupf above atomic.awun is reported (and used) as 0.
 */
uint16_t nvme_atomic_awupf(NvmeCtrl *n)
{
    return n->params.atomic_awupf <= n->params.atomic_awun ?
           n->params.atomic_awupf : 0;
}

/* The atomic write unit in logical blocks (1's based) */
uint32_t nvme_atomic_unit(NvmeCtrl *n)
{
    return (n->feat.atomic_dn ? nvme_atomic_awupf(n)
                              : n->params.atomic_awun) + 1u;
}

/* Block layer flags for a write of @nlb blocks */
BdrvRequestFlags nvme_atomic_write_flags(NvmeCtrl *n, uint64_t nlb)
{
    if (!n->params.atomic_awun && !n->params.atomic_awupf) {
        return 0;
    }
    return nlb <= nvme_atomic_unit(n) ? BDRV_REQ_SERIALISING : 0;
}
