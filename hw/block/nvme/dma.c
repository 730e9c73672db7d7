/*
 * Data transfers between guest memory and the controller: a command's
 * data pointer (PRP or SGL, walked by dptr.c) becomes a scatter-gather
 * list or, for the common Read/Write shape, host pointers straight into
 * guest RAM.  Only RAM is ever a DMA target: a pointer into MMIO (our own
 * BAR0 included) is refused, so no DMA of ours can re-enter the device.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "exec/memory.h"
#include "system/xen.h"
#include "nvme.h"
#include "trace.h"

/*
 * Guest memory the controller DMAs to must be RAM: a queue or data buffer
 * placed over an MMIO region (our own BAR0 included) is refused, so that
 * no DMA of ours can re-enter the device.
 */
bool nvme_dma_is_ram(NvmeCtrl *n, uint64_t addr, uint64_t len)
{
    AddressSpace *as = nvme_as(n);
    MemoryRegion *mr;
    hwaddr xlat, l = len;

    if (!len || addr + len < addr) {
        return false;
    }
    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(as, addr, &xlat, &l, true,
                                 MEMTXATTRS_UNSPECIFIED);
    return l >= len && memory_region_is_ram(mr);
}

typedef struct NvmeDmaWalk {
    NvmeRequest *req;
    AddressSpace *as;
    QEMUSGList *sg;             /* the list the segments go to */
    bool bad;
} NvmeDmaWalk;

static bool nvme_dma_read_cb(void *opaque, uint64_t addr, void *buf,
                            uint64_t len)
{
    NvmeDmaWalk *d = opaque;

    return dma_memory_read(d->as, addr, buf, len,
                           MEMTXATTRS_UNSPECIFIED) == MEMTX_OK;
}

static void nvme_dma_add_cb(void *opaque, uint64_t addr, uint64_t len)
{
    NvmeDmaWalk *d = opaque;

    if (!nvme_dma_is_ram(d->req->sq->ctrl, addr, len)) {
        d->bad = true;
        return;
    }
    qemu_sglist_add(d->sg, addr, len);
}

uint16_t nvme_dma_map(NvmeRequest *req, uint64_t len)
{
    NvmeCtrl *n = req->sq->ctrl;
    uint32_t cdw0 = le32_to_cpu(req->cmd.cdw0);
    NvmeDmaWalk d = { .req = req, .as = nvme_as(n), .sg = &req->sg };
    NvmeDptrOps ops = {
        .read = nvme_dma_read_cb, .add = nvme_dma_add_cb, .opaque = &d,
    };
    uint16_t status;

    g_assert(!req->sg_valid);
    qemu_sglist_init(&req->sg, nvme_dev(n), 4, d.as);
    req->sg_valid = true;
    if (FIELD_EX32(cdw0, NVME_CDW0, PSDT) == NVME_PSDT_PRP) {
        status = nvme_dptr_prp(le64_to_cpu(req->cmd.dptr[0]),
                              le64_to_cpu(req->cmd.dptr[1]), len,
                              n->page_bits, &ops);
    } else {
        status = nvme_dptr_sgl(req->cmd.dptr, len, &ops);
    }
    if (!status && d.bad) {
        status = NVME_DATA_TRANSFER_ERROR;
    }
    if (status) {
        return nvme_err_guest(n, req, status,
                              "data pointer for %" PRIu64 " bytes "
                              "rejected", len);
    }
    return NVME_SUCCESS;
}

uint16_t nvme_dma_to_guest(NvmeRequest *req, const void *buf, uint64_t len)
{
    uint16_t status = nvme_dma_map(req, len);

    if (status) {
        return status;
    }
    if (dma_buf_read((void *)buf, len, NULL, &req->sg,
                     MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
        return nvme_err_guest(req->sq->ctrl, req,
                              NVME_DATA_TRANSFER_ERROR,
                              "write to guest memory failed");
    }
    return NVME_SUCCESS;
}

uint16_t nvme_dma_from_guest(NvmeRequest *req, void *buf, uint64_t len)
{
    uint16_t status = nvme_dma_map(req, len);

    if (status) {
        return status;
    }
    if (dma_buf_write(buf, len, NULL, &req->sg,
                      MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
        return nvme_err_guest(req->sq->ctrl, req,
                              NVME_DATA_TRANSFER_ERROR,
                              "read from guest memory failed");
    }
    return NVME_SUCCESS;
}

/*
 * The metadata pointer (Base 4.2, Figure 87 MPTR): with PSDT 00b or 01b
 * the address of one contiguous buffer (dword aligned with PRPs), with
 * 10b the address of one SGL descriptor describing the metadata.  @sg is
 * initialised here and destroyed by the caller, on success only.
 */
static uint16_t nvme_dma_md_map(NvmeRequest *req, QEMUSGList *sg,
                                uint64_t len)
{
    NvmeCtrl *n = req->sq->ctrl;
    uint32_t psdt = FIELD_EX32(le32_to_cpu(req->cmd.cdw0), NVME_CDW0, PSDT);
    uint64_t mptr = le64_to_cpu(req->cmd.mptr);
    NvmeDmaWalk d = { .req = req, .as = nvme_as(n), .sg = sg };
    NvmeDptrOps ops = {
        .read = nvme_dma_read_cb, .add = nvme_dma_add_cb, .opaque = &d,
    };
    uint16_t status = NVME_SUCCESS;
    NvmeSglDesc desc;

    qemu_sglist_init(sg, nvme_dev(n), 1, d.as);
    if (psdt == NVME_PSDT_SGL_MPTR_SGL) {
        if (!nvme_dma_is_ram(n, mptr, sizeof(desc)) ||
            !nvme_dma_read_cb(&d, mptr, &desc, sizeof(desc))) {
            status = NVME_DATA_TRANSFER_ERROR;
        } else {
            status = nvme_dptr_sgl(&desc, len, &ops);
        }
    } else if (psdt == NVME_PSDT_PRP && mptr & NVME_PRP_ALIGN_MASK) {
        status = NVME_INVALID_FIELD;
    } else {
        nvme_dma_add_cb(&d, mptr, len);
    }
    if (!status && d.bad) {
        status = NVME_DATA_TRANSFER_ERROR;
    }
    if (status) {
        qemu_sglist_destroy(sg);
        return nvme_err_guest(n, req, status, "metadata pointer 0x%" PRIx64
                              " for %" PRIu64 " bytes rejected", mptr, len);
    }
    return NVME_SUCCESS;
}

uint16_t nvme_dma_md_to_guest(NvmeRequest *req, const void *buf,
                              uint64_t len)
{
    QEMUSGList sg;
    MemTxResult res;
    uint16_t status = nvme_dma_md_map(req, &sg, len);

    if (status) {
        return status;
    }
    res = dma_buf_read((void *)buf, len, NULL, &sg, MEMTXATTRS_UNSPECIFIED);
    qemu_sglist_destroy(&sg);
    if (res != MEMTX_OK) {
        return nvme_err_guest(req->sq->ctrl, req, NVME_DATA_TRANSFER_ERROR,
                              "metadata write to guest memory failed");
    }
    return NVME_SUCCESS;
}

uint16_t nvme_dma_md_from_guest(NvmeRequest *req, void *buf, uint64_t len)
{
    QEMUSGList sg;
    MemTxResult res;
    uint16_t status = nvme_dma_md_map(req, &sg, len);

    if (status) {
        return status;
    }
    res = dma_buf_write(buf, len, NULL, &sg, MEMTXATTRS_UNSPECIFIED);
    qemu_sglist_destroy(&sg);
    if (res != MEMTX_OK) {
        return nvme_err_guest(req->sq->ctrl, req, NVME_DATA_TRANSFER_ERROR,
                              "metadata read from guest memory failed");
    }
    return NVME_SUCCESS;
}

/*
 * Host pointer to @len bytes of guest RAM at @addr that the device may
 * access directly (for writing when @to_guest), with a reference on the
 * memory region that nvme_dma_unmap_direct() drops.  NULL when the range is
 * not one piece of such RAM: the caller then takes the checked path.
 */
static void *nvme_dma_ram_ptr(NvmeCtrl *n, uint64_t addr, uint64_t len,
                            bool to_guest)
{
    MemoryRegion *mr;
    hwaddr xlat, l = len;

    if (xen_enabled() || addr + len < addr) {
        return NULL;
    }
    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(nvme_as(n), addr, &xlat, &l, to_guest,
                                 MEMTXATTRS_UNSPECIFIED);
    if (l < len || !memory_region_is_ram(mr) ||
        !memory_access_is_direct(mr, to_guest, MEMTXATTRS_UNSPECIFIED)) {
        return NULL;
    }
    memory_region_ref(mr);
    return (uint8_t *)memory_region_get_ram_ptr(mr) + xlat;
}

void nvme_dma_unmap_direct(NvmeRequest *req)
{
    AddressSpace *as = nvme_as(req->sq->ctrl);

    for (unsigned i = 0; i < req->ndirect; i++) {
        address_space_unmap(as, req->direct[i].iov_base,
                            req->direct[i].iov_len, req->direct_to_guest,
                            req->direct[i].iov_len);
    }
    req->ndirect = 0;
}

/*
 * The fast path of Read and Write: a PRP data pointer naming at most two
 * data pages (PRP1, and PRP2 as a page, not a list), each in RAM the
 * device can access directly, becomes req->iov pointing straight at guest
 * memory.  Returns false, with nothing mapped, for anything else (SGLs,
 * PRP lists, offsets, MMIO, ROM, bad addresses); the caller then uses
 * nvme_dma_map(), which validates and reports errors.
 */
bool nvme_dma_map_direct(NvmeRequest *req, uint64_t len, bool to_guest)
{
    NvmeCtrl *n = req->sq->ctrl;
    uint32_t cdw0 = le32_to_cpu(req->cmd.cdw0);
    uint64_t page = 1ull << n->page_bits;
    uint64_t prp1 = le64_to_cpu(req->cmd.dptr[0]);
    uint64_t prp2 = le64_to_cpu(req->cmd.dptr[1]);
    uint64_t seg[NVME_DIRECT_SEGS][2];
    unsigned nseg = 1;

    if (FIELD_EX32(cdw0, NVME_CDW0, PSDT) != NVME_PSDT_PRP || !len ||
        prp1 & NVME_PRP_ALIGN_MASK) {
        return false;
    }
    seg[0][0] = prp1;
    seg[0][1] = MIN(len, page - (prp1 & (page - 1)));
    if (seg[0][1] < len) {
        if (len - seg[0][1] > page || prp2 & (page - 1)) {
            return false;
        }
        seg[1][0] = prp2;
        seg[1][1] = len - seg[0][1];
        nseg = 2;
    }
    g_assert(!req->ndirect);
    req->direct_to_guest = to_guest;
    for (unsigned i = 0; i < nseg; i++) {
        void *p = nvme_dma_ram_ptr(n, seg[i][0], seg[i][1], to_guest);

        if (!p) {
            nvme_dma_unmap_direct(req);
            return false;
        }
        req->direct[i] = (struct iovec) { .iov_base = p,
                                          .iov_len = seg[i][1] };
        req->ndirect++;
    }
    qemu_iovec_init_external(&req->iov, req->direct, nseg);
    return true;
}
