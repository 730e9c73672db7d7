/*
 * NVMe data pointer walkers: PRP (Base 4.1.1) and SGL (Base 4.1.2).  Pure
 * code: guest memory is read through a callback, and each data segment
 * found is handed to another, so the walkers can be unit tested without a
 * device and used with any address space.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_NVME_DPTR_H
#define HW_BLOCK_NVME_DPTR_H

/* PRP entries: bits 1:0 are reserved (dword alignment), Base 4.1.1 */
#define NVME_PRP_ALIGN_MASK 0x3ull

/* Read @len bytes of guest memory at @addr; false on a failed access */
typedef bool NvmeDptrReadFn(void *opaque, uint64_t addr, void *buf,
                           uint64_t len);
/* One contiguous data segment of the transfer, in transfer order */
typedef void NvmeDptrAddFn(void *opaque, uint64_t addr, uint64_t len);

typedef struct NvmeDptrOps {
    NvmeDptrReadFn *read;
    NvmeDptrAddFn *add;
    void *opaque;
} NvmeDptrOps;

enum {
    NVME_DPTR_MAX_SGL_SEGMENTS = 4096,   /* guards against SGL loops */
    NVME_DPTR_MAX_SEGMENT_DESCS = 256,   /* descriptors read per segment */
};

/*
 * Walk PRP1/PRP2 for a transfer of @len bytes with a memory page of
 * 1 << @page_bits bytes.  Returns an NvmeStatus.
 */
uint16_t nvme_dptr_prp(uint64_t prp1, uint64_t prp2, uint64_t len,
                      unsigned page_bits, const NvmeDptrOps *ops);

/*
 * Walk the SGL whose first descriptor is @sgl1 (the 16-byte DPTR, wire
 * order) for a transfer of @len bytes.  Returns an NvmeStatus.
 */
uint16_t nvme_dptr_sgl(const void *sgl1, uint64_t len, const NvmeDptrOps *ops);

#endif /* HW_BLOCK_NVME_DPTR_H */
