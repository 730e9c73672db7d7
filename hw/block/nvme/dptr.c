/*
 * NVMe data pointer walkers: Physical Region Page lists (NVMe Base
 * Specification 2.0c section 4.1.1) and Scatter Gather Lists (section
 * 4.1.2).  They turn a command's data pointer into a list of guest
 * physical segments; they neither map nor copy data.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/block/nvme/spec.h"
#include "hw/block/nvme/dptr.h"

/* PRP list pointers point to qword entries */
#define NVME_PRP_LIST_ALIGN_MASK 0x7ull
#define NVME_PRP_ENTRY_SIZE 8

uint16_t nvme_dptr_prp(uint64_t prp1, uint64_t prp2, uint64_t len,
                      unsigned page_bits, const NvmeDptrOps *ops)
{
    const uint64_t page = 1ull << page_bits;
    const uint64_t page_mask = page - 1;
    uint64_t first, remaining, list;

    if (!len) {
        return NVME_SUCCESS;
    }
    if (prp1 & NVME_PRP_ALIGN_MASK) {
        return NVME_PRP_OFFSET_INVALID;
    }
    first = MIN(len, page - (prp1 & page_mask));
    ops->add(ops->opaque, prp1, first);
    remaining = len - first;
    if (!remaining) {
        return NVME_SUCCESS;
    }

    if (remaining <= page) {
        /* PRP2 is the second (and last) data page */
        if (prp2 & page_mask) {
            return NVME_PRP_OFFSET_INVALID;
        }
        ops->add(ops->opaque, prp2, remaining);
        return NVME_SUCCESS;
    }

    /* PRP2 points to a PRP list, which may chain through its last entry */
    list = prp2;
    while (remaining) {
        uint64_t slots, needed, nents;
        bool chained;
        g_autofree uint64_t *ents = NULL;

        if (list & NVME_PRP_LIST_ALIGN_MASK) {
            return NVME_PRP_OFFSET_INVALID;
        }
        slots = (page - (list & page_mask)) / NVME_PRP_ENTRY_SIZE;
        needed = DIV_ROUND_UP(remaining, page);
        chained = needed > slots;
        nents = chained ? slots : needed;
        if (chained && slots < 2) {
            /* a list page holding only its chain pointer makes no progress */
            return NVME_PRP_OFFSET_INVALID;
        }

        ents = g_new(uint64_t, nents);
        if (!ops->read(ops->opaque, list, ents, nents * NVME_PRP_ENTRY_SIZE)) {
            return NVME_DATA_TRANSFER_ERROR;
        }
        for (uint64_t i = 0; i < nents - (chained ? 1 : 0); i++) {
            uint64_t addr = le64_to_cpu(ents[i]);
            uint64_t seg = MIN(remaining, page);

            if (addr & page_mask) {
                return NVME_PRP_OFFSET_INVALID;
            }
            ops->add(ops->opaque, addr, seg);
            remaining -= seg;
        }
        if (chained) {
            list = le64_to_cpu(ents[nents - 1]);
        }
    }
    return NVME_SUCCESS;
}

typedef struct NvmeSglDecoded {
    uint64_t addr;
    uint32_t len;
    uint8_t type;
    uint8_t subtype;
} NvmeSglDecoded;

static NvmeSglDecoded nvme_dptr_sgl_decode(const NvmeSglDesc *d)
{
    return (NvmeSglDecoded) {
        .addr = le64_to_cpu(d->addr),
        .len = le32_to_cpu(d->len),
        .type = FIELD_EX32(d->id, NVME_SGL_ID, TYPE),
        .subtype = FIELD_EX32(d->id, NVME_SGL_ID, SUBTYPE),
    };
}

/* Consume a Data Block descriptor; *remaining counts down to zero */
static uint16_t nvme_dptr_sgl_data(const NvmeSglDecoded *d, uint64_t *remaining,
                                  const NvmeDptrOps *ops)
{
    uint64_t seg;

    if (d->subtype != NVME_SGL_SUBTYPE_ADDRESS) {
        return NVME_SGL_DESC_TYPE_INVALID;
    }
    seg = MIN((uint64_t)d->len, *remaining);
    if (seg) {
        ops->add(ops->opaque, d->addr, seg);
        *remaining -= seg;
    }
    return NVME_SUCCESS;
}

static bool nvme_dptr_sgl_is_segment(uint8_t type)
{
    return type == NVME_SGL_TYPE_SEGMENT || type == NVME_SGL_TYPE_LAST_SEGMENT;
}

uint16_t nvme_dptr_sgl(const void *sgl1, uint64_t len, const NvmeDptrOps *ops)
{
    NvmeSglDesc first;
    NvmeSglDecoded d;
    uint64_t remaining = len;
    unsigned segments = 0;
    uint16_t status;

    memcpy(&first, sgl1, sizeof(first));
    d = nvme_dptr_sgl_decode(&first);

    if (d.type == NVME_SGL_TYPE_DATA_BLOCK) {
        status = nvme_dptr_sgl_data(&d, &remaining, ops);
        if (status) {
            return status;
        }
        return remaining ? NVME_DATA_SGL_LEN_INVALID : NVME_SUCCESS;
    }
    if (!nvme_dptr_sgl_is_segment(d.type)) {
        return NVME_SGL_DESC_TYPE_INVALID;
    }

    /* d describes the next segment to read */
    while (remaining) {
        bool last = d.type == NVME_SGL_TYPE_LAST_SEGMENT;
        unsigned ndesc, i;
        g_autofree NvmeSglDesc *descs = NULL;

        if (d.subtype != NVME_SGL_SUBTYPE_ADDRESS) {
            return NVME_SGL_DESC_TYPE_INVALID;
        }
        if (!d.len || d.len % sizeof(NvmeSglDesc)) {
            return NVME_INVALID_SGL_SEG_DESC;
        }
        if (++segments > NVME_DPTR_MAX_SGL_SEGMENTS) {
            return NVME_INVALID_NUM_SGL_DESC;
        }
        ndesc = d.len / sizeof(NvmeSglDesc);
        if (ndesc > NVME_DPTR_MAX_SEGMENT_DESCS) {
            return NVME_INVALID_NUM_SGL_DESC;
        }
        descs = g_new(NvmeSglDesc, ndesc);
        if (!ops->read(ops->opaque, d.addr, descs, d.len)) {
            return NVME_DATA_TRANSFER_ERROR;
        }

        for (i = 0; i < ndesc && remaining; i++) {
            NvmeSglDecoded e = nvme_dptr_sgl_decode(&descs[i]);

            if (e.type == NVME_SGL_TYPE_DATA_BLOCK) {
                status = nvme_dptr_sgl_data(&e, &remaining, ops);
                if (status) {
                    return status;
                }
                continue;
            }
            if (!nvme_dptr_sgl_is_segment(e.type)) {
                return NVME_SGL_DESC_TYPE_INVALID;
            }
            /* a segment pointer must be the last descriptor of a Segment */
            if (last || i != ndesc - 1) {
                return NVME_INVALID_SGL_SEG_DESC;
            }
            d = e;
            break;
        }
        if (!remaining) {
            return NVME_SUCCESS;
        }
        if (i == ndesc) {
            /* ran out of descriptors without a pointer onwards */
            return NVME_DATA_SGL_LEN_INVALID;
        }
    }
    return NVME_SUCCESS;
}
