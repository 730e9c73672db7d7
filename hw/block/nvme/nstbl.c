/*
 * The namespace table of an NVMe namespace pool: encode, decode, pick the
 * newest valid copy, and allocate extents (first fit).  Pure code; the
 * format is nvqemu's own (docs/nvme.md, "Namespace management").
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/crc32c.h"
#include "qemu/cutils.h"
#include "hw/block/nvme/nstbl.h"

/* On-image header, little endian (one per copy, at its start) */
typedef struct QEMU_PACKED NvmeNstblHdr {
    char magic[8];              /* NVME_NSTBL_MAGIC */
    uint32_t version;
    uint32_t crc;               /* CRC-32C of header (crc 0) + entries */
    uint64_t generation;
    uint32_t count;
    uint32_t entry_bytes;       /* NVME_NSTBL_ENTRY_BYTES */
    uint64_t data_start;        /* NVME_NSTBL_DATA_START */
    uint8_t rsvd40[24];
} NvmeNstblHdr;
QEMU_BUILD_BUG_ON(sizeof(NvmeNstblHdr) != NVME_NSTBL_HDR_BYTES);

/* On-image entry, little endian */
typedef struct QEMU_PACKED NvmeNstblDisk {
    uint32_t nsid;
    uint32_t rsvd4;
    uint64_t start;
    uint64_t nsze;
    uint8_t lbaf;
    uint8_t lbads;
    uint8_t nmic;
    uint8_t rsvd27;
    uint16_t nctrl;
    uint16_t rsvd30;
    uint8_t nguid[16];
    uint8_t eui64[8];
    uint8_t uuid[16];
    uint16_t ctrl[NVME_NSTBL_MAX_CTRLS];
    uint64_t bytes;
    uint8_t rsvd320[192];
} NvmeNstblDisk;
QEMU_BUILD_BUG_ON(sizeof(NvmeNstblDisk) != NVME_NSTBL_ENTRY_BYTES);
QEMU_BUILD_BUG_ON(NVME_NSTBL_HDR_BYTES +
                  NVME_NSTBL_MAX_ENTRIES * NVME_NSTBL_ENTRY_BYTES >
                  NVME_NSTBL_SLOT_BYTES);
QEMU_BUILD_BUG_ON(NVME_NSTBL_COPIES * NVME_NSTBL_SLOT_BYTES >
                  NVME_NSTBL_DATA_START);

uint64_t nvme_nstbl_extent_bytes(const NvmeNstblEntry *e)
{
    return ROUND_UP(e->bytes, NVME_NSTBL_EXTENT_ALIGN);
}

bool nvme_nstbl_init(NvmeNstbl *t, uint64_t image_bytes)
{
    memset(t, 0, sizeof(*t));
    t->data_end = QEMU_ALIGN_DOWN(image_bytes, NVME_NSTBL_EXTENT_ALIGN);
    return t->data_end > NVME_NSTBL_DATA_START;
}

uint64_t nvme_nstbl_total(const NvmeNstbl *t)
{
    return t->data_end - NVME_NSTBL_DATA_START;
}

uint64_t nvme_nstbl_unallocated(const NvmeNstbl *t)
{
    uint64_t used = 0;

    for (uint32_t i = 0; i < t->count; i++) {
        used += nvme_nstbl_extent_bytes(&t->e[i]);
    }
    return nvme_nstbl_total(t) - used;
}

static size_t nvme_nstbl_bytes(uint32_t count)
{
    return NVME_NSTBL_HDR_BYTES + (size_t)count * NVME_NSTBL_ENTRY_BYTES;
}

static uint32_t nvme_nstbl_crc(const uint8_t *buf, size_t len)
{
    NvmeNstblHdr hdr;

    memcpy(&hdr, buf, sizeof(hdr));
    hdr.crc = 0;
    return crc32c(crc32c(0xffffffff, (const uint8_t *)&hdr, sizeof(hdr)),
                  buf + sizeof(hdr), len - sizeof(hdr));
}

size_t nvme_nstbl_encode(const NvmeNstbl *t, uint8_t *buf)
{
    size_t len = nvme_nstbl_bytes(t->count);
    NvmeNstblHdr hdr = {
        .version = cpu_to_le32(NVME_NSTBL_VERSION),
        .generation = cpu_to_le64(t->generation),
        .count = cpu_to_le32(t->count),
        .entry_bytes = cpu_to_le32(NVME_NSTBL_ENTRY_BYTES),
        .data_start = cpu_to_le64(NVME_NSTBL_DATA_START),
    };

    memset(buf, 0, NVME_NSTBL_SLOT_BYTES);
    memcpy(hdr.magic, NVME_NSTBL_MAGIC, sizeof(hdr.magic));
    for (uint32_t i = 0; i < t->count; i++) {
        const NvmeNstblEntry *e = &t->e[i];
        NvmeNstblDisk d = {
            .nsid = cpu_to_le32(e->nsid),
            .start = cpu_to_le64(e->start),
            .nsze = cpu_to_le64(e->nsze),
            .bytes = cpu_to_le64(e->bytes),
            .lbaf = e->lbaf,
            .lbads = e->lbads,
            .nmic = e->nmic,
            .nctrl = cpu_to_le16(e->nctrl),
        };

        memcpy(d.nguid, e->nguid, sizeof(d.nguid));
        memcpy(d.eui64, e->eui64, sizeof(d.eui64));
        memcpy(d.uuid, e->uuid, sizeof(d.uuid));
        for (uint16_t c = 0; c < e->nctrl; c++) {
            d.ctrl[c] = cpu_to_le16(e->ctrl[c]);
        }
        memcpy(buf + nvme_nstbl_bytes(i), &d, sizeof(d));
    }
    memcpy(buf, &hdr, sizeof(hdr));
    hdr.crc = cpu_to_le32(nvme_nstbl_crc(buf, len));
    memcpy(buf, &hdr, sizeof(hdr));
    return ROUND_UP(len, NVME_NSTBL_IO_ALIGN);
}

/* Whether entry @e is consistent (on its own and after @prev) */
static const char *nvme_nstbl_check_entry(const NvmeNstbl *t,
                                          const NvmeNstblEntry *e,
                                          const NvmeNstblEntry *prev)
{
    if (!e->nsid || e->nsid > NVME_NSTBL_MAX_NSID) {
        return "entry with an invalid nsid";
    }
    if (e->lbads < NVME_NSTBL_LBADS_MIN || e->lbads > NVME_NSTBL_LBADS_MAX) {
        return "entry with an invalid block size";
    }
    if (!e->bytes || e->bytes > t->data_end || !e->nsze ||
        e->nsze > e->bytes >> e->lbads) {
        return "entry with an invalid size";
    }
    if (e->nctrl > NVME_NSTBL_MAX_CTRLS) {
        return "entry with too many controllers";
    }
    if (e->start < NVME_NSTBL_DATA_START ||
        e->start % NVME_NSTBL_EXTENT_ALIGN ||
        e->start > t->data_end ||
        nvme_nstbl_extent_bytes(e) > t->data_end - e->start) {
        return "entry outside the pool";
    }
    if (prev && prev->start + nvme_nstbl_extent_bytes(prev) > e->start) {
        return "entries overlap or are not sorted";
    }
    for (const NvmeNstblEntry *o = t->e; o < e; o++) {
        if (o->nsid == e->nsid) {
            return "two entries with one nsid";
        }
    }
    return NULL;
}

bool nvme_nstbl_decode(const uint8_t *buf, size_t len, NvmeNstbl *t,
                       const char **why)
{
    NvmeNstblHdr hdr;
    uint32_t count;

    if (len < sizeof(hdr)) {
        *why = "truncated header";
        return false;
    }
    memcpy(&hdr, buf, sizeof(hdr));
    if (memcmp(hdr.magic, NVME_NSTBL_MAGIC, sizeof(hdr.magic))) {
        *why = "no table magic";
        return false;
    }
    if (le32_to_cpu(hdr.version) != NVME_NSTBL_VERSION ||
        le32_to_cpu(hdr.entry_bytes) != NVME_NSTBL_ENTRY_BYTES ||
        le64_to_cpu(hdr.data_start) != NVME_NSTBL_DATA_START) {
        *why = "unknown table version";
        return false;
    }
    count = le32_to_cpu(hdr.count);
    if (count > NVME_NSTBL_MAX_ENTRIES || nvme_nstbl_bytes(count) > len) {
        *why = "entry count out of range";
        return false;
    }
    if (nvme_nstbl_crc(buf, nvme_nstbl_bytes(count)) !=
        le32_to_cpu(hdr.crc)) {
        *why = "checksum mismatch";
        return false;
    }
    t->generation = le64_to_cpu(hdr.generation);
    t->count = count;
    for (uint32_t i = 0; i < count; i++) {
        NvmeNstblEntry *e = &t->e[i];
        NvmeNstblDisk d;

        memcpy(&d, buf + nvme_nstbl_bytes(i), sizeof(d));
        memset(e, 0, sizeof(*e));
        e->nsid = le32_to_cpu(d.nsid);
        e->start = le64_to_cpu(d.start);
        e->nsze = le64_to_cpu(d.nsze);
        e->bytes = le64_to_cpu(d.bytes);
        e->lbaf = d.lbaf;
        e->lbads = d.lbads;
        e->nmic = d.nmic;
        e->nctrl = le16_to_cpu(d.nctrl);
        memcpy(e->nguid, d.nguid, sizeof(e->nguid));
        memcpy(e->eui64, d.eui64, sizeof(e->eui64));
        memcpy(e->uuid, d.uuid, sizeof(e->uuid));
        *why = nvme_nstbl_check_entry(t, e, i ? &t->e[i - 1] : NULL);
        if (*why) {
            return false;
        }
        for (uint16_t c = 0; c < e->nctrl; c++) {
            e->ctrl[c] = le16_to_cpu(d.ctrl[c]);
        }
    }
    return true;
}

int nvme_nstbl_load(const uint8_t *copy0, const uint8_t *copy1,
                    NvmeNstbl *t, const char **why)
{
    const uint8_t *copies[NVME_NSTBL_COPIES] = { copy0, copy1 };
    g_autofree NvmeNstbl *c = g_new(NvmeNstbl, 1);
    bool found = false;
    const char *why_copy = NULL;

    for (unsigned i = 0; i < NVME_NSTBL_COPIES; i++) {
        c->data_end = t->data_end;
        if (!nvme_nstbl_decode(copies[i], NVME_NSTBL_SLOT_BYTES, c,
                               &why_copy)) {
            *why = why_copy;
            continue;
        }
        /* a copy sits in the slot of its generation */
        if (nvme_nstbl_slot_offset(c->generation) !=
            nvme_nstbl_slot_offset(i)) {
            *why = "copy in the wrong slot";
            continue;
        }
        if (!found || c->generation > t->generation) {
            *t = *c;
            found = true;
        }
    }
    if (found) {
        return 0;
    }
    if (buffer_is_zero(copy0, NVME_NSTBL_SLOT_BYTES) &&
        buffer_is_zero(copy1, NVME_NSTBL_SLOT_BYTES)) {
        t->generation = 0;
        t->count = 0;
        return 1;
    }
    return -1;
}

bool nvme_nstbl_alloc(const NvmeNstbl *t, uint64_t bytes, uint64_t *start)
{
    uint64_t pos = NVME_NSTBL_DATA_START;

    if (!bytes || bytes > nvme_nstbl_total(t)) {
        return false;
    }
    bytes = ROUND_UP(bytes, NVME_NSTBL_EXTENT_ALIGN);
    for (uint32_t i = 0; i <= t->count; i++) {
        uint64_t end = i < t->count ? t->e[i].start : t->data_end;

        if (end >= pos && end - pos >= bytes) {
            *start = pos;
            return true;
        }
        if (i < t->count) {
            pos = t->e[i].start + nvme_nstbl_extent_bytes(&t->e[i]);
        }
    }
    return false;
}

bool nvme_nstbl_add(NvmeNstbl *t, const NvmeNstblEntry *e)
{
    uint32_t i;

    if (t->count == NVME_NSTBL_MAX_ENTRIES || nvme_nstbl_find(t, e->nsid)) {
        return false;
    }
    for (i = 0; i < t->count && t->e[i].start < e->start; i++) {
        /* insertion point, sorted by start */
    }
    if ((i > 0 && t->e[i - 1].start + nvme_nstbl_extent_bytes(&t->e[i - 1])
                  > e->start) ||
        (i < t->count &&
         e->start + nvme_nstbl_extent_bytes(e) > t->e[i].start) ||
        e->start < NVME_NSTBL_DATA_START ||
        e->start + nvme_nstbl_extent_bytes(e) > t->data_end) {
        return false;
    }
    memmove(&t->e[i + 1], &t->e[i], (t->count - i) * sizeof(t->e[0]));
    t->e[i] = *e;
    t->count++;
    return true;
}

NvmeNstblEntry *nvme_nstbl_find(NvmeNstbl *t, uint32_t nsid)
{
    for (uint32_t i = 0; i < t->count; i++) {
        if (t->e[i].nsid == nsid) {
            return &t->e[i];
        }
    }
    return NULL;
}

bool nvme_nstbl_remove(NvmeNstbl *t, uint32_t nsid)
{
    NvmeNstblEntry *e = nvme_nstbl_find(t, nsid);
    uint32_t i;

    if (!e) {
        return false;
    }
    i = e - t->e;
    memmove(&t->e[i], &t->e[i + 1], (t->count - i - 1) * sizeof(t->e[0]));
    t->count--;
    return true;
}

bool nvme_nstbl_attached(const NvmeNstblEntry *e, uint16_t cntlid)
{
    for (uint16_t c = 0; c < e->nctrl; c++) {
        if (e->ctrl[c] == cntlid) {
            return true;
        }
    }
    return false;
}

bool nvme_nstbl_attach(NvmeNstblEntry *e, uint16_t cntlid)
{
    if (nvme_nstbl_attached(e, cntlid) || e->nctrl == NVME_NSTBL_MAX_CTRLS) {
        return false;
    }
    e->ctrl[e->nctrl++] = cntlid;
    return true;
}

bool nvme_nstbl_detach(NvmeNstblEntry *e, uint16_t cntlid)
{
    for (uint16_t c = 0; c < e->nctrl; c++) {
        if (e->ctrl[c] == cntlid) {
            e->ctrl[c] = e->ctrl[--e->nctrl];
            return true;
        }
    }
    return false;
}
