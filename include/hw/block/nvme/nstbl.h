/*
 * The namespace table of an NVMe namespace pool (nvme-subsys ns-pool=):
 * nvqemu's own on-image format, kept at the start of the pool image, that
 * records the namespaces Namespace Management created (their extent in
 * the pool, LBA format, identifiers and attached controllers) so that a
 * restart finds them again.  Pure code (no QEMU device state), unit
 * tested in tests/unit/test-nvme-nstbl.c; docs/nvme.md "Namespace
 * management" describes the layout.
 *
 * Two copies ("slots") of the table live in the image; every update
 * writes the next generation into the slot the current one is not in, so
 * a torn write never loses the last complete table: the reader takes the
 * valid copy (magic, version, CRC-32C) with the higher generation.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_NVME_NSTBL_H
#define HW_BLOCK_NVME_NSTBL_H

#include "qemu/units.h"

#define NVME_NSTBL_MAGIC "NVQNSTBL"

enum {
    NVME_NSTBL_VERSION      = 1,
    NVME_NSTBL_MAX_ENTRIES  = 256,          /* namespaces in one pool */
    NVME_NSTBL_MAX_NSID     = 256,          /* NVME_MAX_NAMESPACES */
    NVME_NSTBL_MAX_CTRLS    = 120,          /* attached controllers */
    NVME_NSTBL_COPIES       = 2,
    NVME_NSTBL_HDR_BYTES    = 64,
    NVME_NSTBL_ENTRY_BYTES  = 512,
    NVME_NSTBL_IO_ALIGN     = 4 * KiB,      /* table writes are padded */
    NVME_NSTBL_LBADS_MIN    = 9,            /* 512 B */
    NVME_NSTBL_LBADS_MAX    = 21,           /* 2 MiB, QEMU's limit */
};

/* One copy: the header and every entry, rounded to the write alignment */
#define NVME_NSTBL_SLOT_BYTES  (256 * KiB)
/* Namespaces start here (after both copies) and on this alignment */
#define NVME_NSTBL_DATA_START  (1 * MiB)
#define NVME_NSTBL_EXTENT_ALIGN (1 * MiB)

/* A created namespace, host order */
typedef struct NvmeNstblEntry {
    uint32_t nsid;
    uint64_t start;             /* byte offset in the pool image */
    uint64_t bytes;             /* its window there, fixed at create */
    uint64_t nsze;              /* size in logical blocks (bytes >> lbads) */
    uint8_t lbaf;               /* LBA format index (FLBAS) */
    uint8_t lbads;              /* log2 of its logical block size */
    uint8_t nmic;               /* Identify NS NMIC */
    uint8_t nguid[16];
    uint8_t eui64[8];
    uint8_t uuid[16];
    uint16_t nctrl;             /* controllers it is attached to */
    uint16_t ctrl[NVME_NSTBL_MAX_CTRLS];
} NvmeNstblEntry;

/* The table, host order; entries sorted by start */
typedef struct NvmeNstbl {
    uint64_t generation;        /* of the copy it was read from / written */
    uint64_t data_end;          /* end of the usable pool (not stored) */
    uint32_t count;
    NvmeNstblEntry e[NVME_NSTBL_MAX_ENTRIES];
} NvmeNstbl;

/* Byte offset in the image of the copy that holds @generation */
static inline uint64_t nvme_nstbl_slot_offset(uint64_t generation)
{
    return (generation % NVME_NSTBL_COPIES) * NVME_NSTBL_SLOT_BYTES;
}

/* Bytes of the pool an entry occupies (its extent, aligned) */
uint64_t nvme_nstbl_extent_bytes(const NvmeNstblEntry *e);

/* An empty table for a pool image of @image_bytes (false: too small) */
bool nvme_nstbl_init(NvmeNstbl *t, uint64_t image_bytes);

/* Total and unallocated capacity, in bytes (TNVMCAP, UNVMCAP) */
uint64_t nvme_nstbl_total(const NvmeNstbl *t);
uint64_t nvme_nstbl_unallocated(const NvmeNstbl *t);

/*
 * Encode @t into @buf (NVME_NSTBL_SLOT_BYTES, zeroed beyond the entries);
 * returns how many bytes to write (a multiple of NVME_NSTBL_IO_ALIGN).
 */
size_t nvme_nstbl_encode(const NvmeNstbl *t, uint8_t *buf);

/*
 * Decode one copy (@len bytes, at most NVME_NSTBL_SLOT_BYTES) into @t,
 * keeping its data_end; false with *@why set when the copy is not a valid
 * table or an entry does not fit below data_end.
 */
bool nvme_nstbl_decode(const uint8_t *buf, size_t len, NvmeNstbl *t,
                       const char **why);

/*
 * Load the table from both copies (each NVME_NSTBL_SLOT_BYTES): the
 * valid one with the higher generation.  Returns 0 for a table, 1 when
 * both copies are blank (all zero: a new pool, @t left empty), -1 when
 * neither is valid and the area is not blank (*@why says why).
 */
int nvme_nstbl_load(const uint8_t *copy0, const uint8_t *copy1,
                    NvmeNstbl *t, const char **why);

/* First fit: where an extent of @bytes fits (false: no hole large enough) */
bool nvme_nstbl_alloc(const NvmeNstbl *t, uint64_t bytes, uint64_t *start);

/* Insert @e (its start from nvme_nstbl_alloc); false if full or overlapping */
bool nvme_nstbl_add(NvmeNstbl *t, const NvmeNstblEntry *e);

/* Remove namespace @nsid; false if the table has none */
bool nvme_nstbl_remove(NvmeNstbl *t, uint32_t nsid);

NvmeNstblEntry *nvme_nstbl_find(NvmeNstbl *t, uint32_t nsid);

/* Record / forget that controller @cntlid has @e attached */
bool nvme_nstbl_attach(NvmeNstblEntry *e, uint16_t cntlid);
bool nvme_nstbl_detach(NvmeNstblEntry *e, uint16_t cntlid);
bool nvme_nstbl_attached(const NvmeNstblEntry *e, uint16_t cntlid);

#endif /* HW_BLOCK_NVME_NSTBL_H */
