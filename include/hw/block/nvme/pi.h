/*
 * NVMe end-to-end data protection (NVM Command Set Specification 1.0c
 * section 5.2 and 5.3; NVMe Base Specification 2.0c section 8.3): the
 * guard CRCs, and generating and checking protection information tuples.
 * Pure code: no device state, unit tested (tests/unit/test-nvme-pi.c).
 *
 * Data and metadata are given as two separate buffers, one block after
 * the other: @data holds nlb blocks of l->lbasize bytes, @meta nlb blocks
 * of l->ms bytes (callers de-interleave extended LBA transfers).
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_NVME_PI_H
#define HW_BLOCK_NVME_PI_H

/* DPS.PIT / Format NVM PI: protection information type (NVM Figure 97) */
typedef enum NvmePiType {
    NVME_PI_NONE    = 0,
    NVME_PI_TYPE1   = 1,
    NVME_PI_TYPE2   = 2,
    NVME_PI_TYPE3   = 3,
} NvmePiType;

/* ELBAF.PIF: protection information format (NVM Figure 117) */
typedef enum NvmePiFormat {
    NVME_PIF_16B    = 0,        /* 16-bit CRC guard, 32-bit ref tag */
    NVME_PIF_32B    = 1,        /* 32-bit CRC guard (not supported) */
    NVME_PIF_64B    = 2,        /* 64-bit CRC guard, 48-bit ref tag */
} NvmePiFormat;

/* PRINFO of Read, Write, Compare, Verify, Write Zeroes (NVM Figure 11) */
enum NvmePrinfo {
    NVME_PRINFO_PRCHK_REF   = 1 << 0,
    NVME_PRINFO_PRCHK_APP   = 1 << 1,
    NVME_PRINFO_PRCHK_GUARD = 1 << 2,
    NVME_PRINFO_PRACT       = 1 << 3,
};
#define NVME_PRINFO_PRCHK_MASK (NVME_PRINFO_PRCHK_REF | \
                                NVME_PRINFO_PRCHK_APP | \
                                NVME_PRINFO_PRCHK_GUARD)

/* PI tuple sizes in bytes (NVM Figures 9 and 10) */
enum {
    NVME_PI_TUPLE_16B   = 8,
    NVME_PI_TUPLE_64B   = 16,
};

/* Escape values that turn checking off for a block (NVM 5.2.1.4) */
#define NVME_PI_APPTAG_ESCAPE 0xffff
#define NVME_PI_REFTAG_ESCAPE_16B 0xffffffffull
#define NVME_PI_REFTAG_ESCAPE_64B 0xffffffffffffull

/* How a namespace's blocks carry protection information */
typedef struct NvmePiLayout {
    uint32_t lbasize;           /* data bytes per block */
    uint16_t ms;                /* metadata bytes per block */
    uint8_t type;               /* NvmePiType */
    uint8_t pif;                /* NvmePiFormat */
    bool first;                 /* DPS bit 3: PI in the first bytes */
} NvmePiLayout;

/* The tags a command gives (ILBRT/EILBRT, LBAT, LBATM) and PRINFO */
typedef struct NvmePiTags {
    uint64_t reftag;            /* initial reference tag, 32 or 48 bits */
    uint16_t apptag;
    uint16_t appmask;
    uint8_t prinfo;             /* NvmePrinfo bits */
} NvmePiTags;

/* CRC-16 T10-DIF (poly 8BB7h, init 0): continue @crc over @len bytes */
uint16_t nvme_pi_crc16(uint16_t crc, const void *buf, size_t len);

/*
 * CRC-64/NVME (NVM 5.2.1.3.4): continue @crc (0 to start, the previous
 * result to continue) over @len bytes
 */
uint64_t nvme_pi_crc64(uint64_t crc, const void *buf, size_t len);

/* Size of a PI tuple of format @pif, 0 for an unsupported format */
unsigned nvme_pi_tuple_size(uint8_t pif);

/* Whether @l protects its blocks with PI */
static inline bool nvme_pi_enabled(const NvmePiLayout *l)
{
    return l->type != NVME_PI_NONE;
}

/* Whether the metadata is the PI tuple only (PRACT inserts/strips it) */
bool nvme_pi_md_is_tuple(const NvmePiLayout *l);

/*
 * Invalid Protection Information (NVM 5.2.1.4.1): Type 1 with reference
 * tag checking requires ILBRT to be the low bits of @slba.  Returns an
 * NvmeStatus (without DNR).
 */
uint16_t nvme_pi_check_ilbrt(const NvmePiLayout *l, uint64_t slba,
                             const NvmePiTags *t);

/*
 * PRACT on a write: fill in the PI tuple of @nlb blocks whose first
 * reference tag is t->reftag, application tag t->apptag.
 */
void nvme_pi_generate(const NvmePiLayout *l, const uint8_t *data,
                      uint8_t *meta, uint32_t nlb, const NvmePiTags *t);

/*
 * Check @nlb blocks per t->prinfo's PRCHK bits.  Returns NVME_SUCCESS or
 * the end-to-end status of the first failing block (guard, then
 * application tag, then reference tag), whose index goes to *@bad.
 */
uint16_t nvme_pi_check(const NvmePiLayout *l, const uint8_t *data,
                       const uint8_t *meta, uint32_t nlb,
                       const NvmePiTags *t, uint32_t *bad);

/* Decoded PI tuple of one block's metadata (for tests and tracing) */
typedef struct NvmePiTuple {
    uint64_t guard;
    uint16_t apptag;
    uint64_t reftag;
} NvmePiTuple;

NvmePiTuple nvme_pi_tuple_get(const NvmePiLayout *l, const uint8_t *md);

#endif /* HW_BLOCK_NVME_PI_H */
