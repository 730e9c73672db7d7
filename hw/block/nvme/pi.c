/*
 * NVMe end-to-end data protection: guard CRCs and the protection
 * information tuple (NVM Command Set Specification 1.0c section 5.2,
 * "End-to-end Data Protection"; PI formats of NVM 5.2.1: 16b Guard with a
 * 32-bit reference tag, 64b Guard with a 48-bit reference tag; storage
 * tags are not supported, STS = 0).
 *
 * Tuples are big-endian.  16b Guard (8 bytes): guard CRC-16 (2), application
 * tag (2), reference tag (4).  64b Guard (16 bytes): guard CRC-64 (8),
 * application tag (2), reference tag (6).  The tuple sits in the first
 * bytes of a block's metadata when DPS bit 3 is set, else in the last; the
 * guard covers the block's data, and when the tuple is last, the metadata
 * bytes before it.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "hw/block/nvme/spec.h"
#include "hw/block/nvme/pi.h"

/* CRC-16 T10-DIF: polynomial 8BB7h, MSB first, init 0, no final XOR */
#define NVME_PI_CRC16_POLY 0x8bb7
/* CRC-64/NVME: polynomial AD93D23594C93659h, reflected */
#define NVME_PI_CRC64_POLY_REFLECTED 0x9a6c9329ac4bc9b5ull

/* Offsets inside a tuple (NVM Figures 9 and 10) */
enum {
    NVME_PI_16B_APPTAG  = 2,
    NVME_PI_16B_REFTAG  = 4,
    NVME_PI_64B_APPTAG  = 8,
    NVME_PI_64B_REFTAG  = 10,
    NVME_PI_64B_REFTAG_BYTES = 6,
};

static uint16_t nvme_pi_crc16_table[256];
static uint64_t nvme_pi_crc64_table[256];

static void __attribute__((constructor)) nvme_pi_init_tables(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint16_t c16 = i << 8;
        uint64_t c64 = i;

        for (unsigned b = 0; b < 8; b++) {
            c16 = c16 & 0x8000 ? (c16 << 1) ^ NVME_PI_CRC16_POLY : c16 << 1;
            c64 = c64 & 1 ? (c64 >> 1) ^ NVME_PI_CRC64_POLY_REFLECTED
                          : c64 >> 1;
        }
        nvme_pi_crc16_table[i] = c16;
        nvme_pi_crc64_table[i] = c64;
    }
}

uint16_t nvme_pi_crc16(uint16_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len--) {
        crc = (crc << 8) ^ nvme_pi_crc16_table[((crc >> 8) ^ *p++) & 0xff];
    }
    return crc;
}

uint64_t nvme_pi_crc64(uint64_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    crc = ~crc;
    while (len--) {
        crc = (crc >> 8) ^ nvme_pi_crc64_table[(crc ^ *p++) & 0xff];
    }
    return ~crc;
}

unsigned nvme_pi_tuple_size(uint8_t pif)
{
    switch (pif) {
    case NVME_PIF_16B:
        return NVME_PI_TUPLE_16B;
    case NVME_PIF_64B:
        return NVME_PI_TUPLE_64B;
    default:
        return 0;
    }
}

bool nvme_pi_md_is_tuple(const NvmePiLayout *l)
{
    return nvme_pi_enabled(l) && l->ms == nvme_pi_tuple_size(l->pif);
}

/* The reference tag bits of format @pif */
static uint64_t nvme_pi_reftag_mask(uint8_t pif)
{
    return pif == NVME_PIF_64B ? NVME_PI_REFTAG_ESCAPE_64B
                               : NVME_PI_REFTAG_ESCAPE_16B;
}

/* Offset of the tuple in a block's metadata */
static unsigned nvme_pi_tuple_offset(const NvmePiLayout *l)
{
    return l->first ? 0 : l->ms - nvme_pi_tuple_size(l->pif);
}

/* Guard of one block: its data, then the metadata before a last tuple */
static uint64_t nvme_pi_guard(const NvmePiLayout *l, const uint8_t *data,
                              const uint8_t *md)
{
    unsigned pre = nvme_pi_tuple_offset(l);

    if (l->pif == NVME_PIF_64B) {
        return nvme_pi_crc64(nvme_pi_crc64(0, data, l->lbasize), md, pre);
    }
    return nvme_pi_crc16(nvme_pi_crc16(0, data, l->lbasize), md, pre);
}

NvmePiTuple nvme_pi_tuple_get(const NvmePiLayout *l, const uint8_t *md)
{
    const uint8_t *t = md + nvme_pi_tuple_offset(l);
    uint8_t ref[sizeof(uint64_t)] = { 0 };

    if (l->pif == NVME_PIF_64B) {
        memcpy(ref + sizeof(ref) - NVME_PI_64B_REFTAG_BYTES,
               t + NVME_PI_64B_REFTAG, NVME_PI_64B_REFTAG_BYTES);
        return (NvmePiTuple) {
            .guard = ldq_be_p(t),
            .apptag = lduw_be_p(t + NVME_PI_64B_APPTAG),
            .reftag = ldq_be_p(ref),
        };
    }
    return (NvmePiTuple) {
        .guard = lduw_be_p(t),
        .apptag = lduw_be_p(t + NVME_PI_16B_APPTAG),
        .reftag = (uint32_t)ldl_be_p(t + NVME_PI_16B_REFTAG),
    };
}

static void nvme_pi_tuple_put(const NvmePiLayout *l, uint8_t *md,
                              const NvmePiTuple *v)
{
    uint8_t *t = md + nvme_pi_tuple_offset(l);
    uint8_t ref[sizeof(uint64_t)];

    if (l->pif == NVME_PIF_64B) {
        stq_be_p(t, v->guard);
        stw_be_p(t + NVME_PI_64B_APPTAG, v->apptag);
        stq_be_p(ref, v->reftag);
        memcpy(t + NVME_PI_64B_REFTAG,
               ref + sizeof(ref) - NVME_PI_64B_REFTAG_BYTES,
               NVME_PI_64B_REFTAG_BYTES);
        return;
    }
    stw_be_p(t, v->guard);
    stw_be_p(t + NVME_PI_16B_APPTAG, v->apptag);
    stl_be_p(t + NVME_PI_16B_REFTAG, v->reftag);
}

/*
 * The reference tag block @i is expected to carry: Types 1 and 2 count up
 * from the initial tag, Type 3 has one tag for all blocks (NVM 5.2.1.4).
 */
static uint64_t nvme_pi_reftag(const NvmePiLayout *l, const NvmePiTags *t,
                               uint32_t i)
{
    uint64_t ref = l->type == NVME_PI_TYPE3 ? t->reftag : t->reftag + i;

    return ref & nvme_pi_reftag_mask(l->pif);
}

uint16_t nvme_pi_check_ilbrt(const NvmePiLayout *l, uint64_t slba,
                             const NvmePiTags *t)
{
    uint64_t mask = nvme_pi_reftag_mask(l->pif);

    if (l->type == NVME_PI_TYPE1 && t->prinfo & NVME_PRINFO_PRCHK_REF &&
        (slba & mask) != (t->reftag & mask)) {
        return NVME_INVALID_PROT_INFO;
    }
    return NVME_SUCCESS;
}

void nvme_pi_generate(const NvmePiLayout *l, const uint8_t *data,
                      uint8_t *meta, uint32_t nlb, const NvmePiTags *t)
{
    for (uint32_t i = 0; i < nlb; i++) {
        const uint8_t *d = data + (uint64_t)i * l->lbasize;
        uint8_t *md = meta + (uint64_t)i * l->ms;
        NvmePiTuple v = {
            .guard = nvme_pi_guard(l, d, md),
            .apptag = t->apptag,
            .reftag = nvme_pi_reftag(l, t, i),
        };

        nvme_pi_tuple_put(l, md, &v);
    }
}

/* Whether a block's tuple turns checking off (NVM 5.2.1.4) */
static bool nvme_pi_escaped(const NvmePiLayout *l, const NvmePiTuple *v)
{
    if (v->apptag != NVME_PI_APPTAG_ESCAPE) {
        return false;
    }
    return l->type != NVME_PI_TYPE3 ||
           v->reftag == nvme_pi_reftag_mask(l->pif);
}

uint16_t nvme_pi_check(const NvmePiLayout *l, const uint8_t *data,
                       const uint8_t *meta, uint32_t nlb,
                       const NvmePiTags *t, uint32_t *bad)
{
    if (!nvme_pi_enabled(l) || !(t->prinfo & NVME_PRINFO_PRCHK_MASK)) {
        return NVME_SUCCESS;
    }
    for (uint32_t i = 0; i < nlb; i++) {
        const uint8_t *d = data + (uint64_t)i * l->lbasize;
        const uint8_t *md = meta + (uint64_t)i * l->ms;
        NvmePiTuple v = nvme_pi_tuple_get(l, md);
        uint16_t status = NVME_SUCCESS;

        if (nvme_pi_escaped(l, &v)) {
            continue;
        }
        if (t->prinfo & NVME_PRINFO_PRCHK_GUARD &&
            v.guard != nvme_pi_guard(l, d, md)) {
            status = NVME_E2E_GUARD_ERROR;
        } else if (t->prinfo & NVME_PRINFO_PRCHK_APP &&
                   (v.apptag & t->appmask) != (t->apptag & t->appmask)) {
            status = NVME_E2E_APP_ERROR;
        } else if (t->prinfo & NVME_PRINFO_PRCHK_REF &&
                   v.reftag != nvme_pi_reftag(l, t, i)) {
            status = NVME_E2E_REF_ERROR;
        }
        if (status) {
            *bad = i;
            return status;
        }
    }
    return NVME_SUCCESS;
}
