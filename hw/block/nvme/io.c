/*
 * NVM command set I/O commands (NVM Command Set Specification 1.0c
 * chapter 3): Read, Write, Flush, Write Zeroes, Dataset Management,
 * Compare and Verify, on the QEMU block layer; Copy is in copy.c.
 *
 * Read and Write move data between the backend and guest memory without a
 * copy (dma_blk_io maps the guest pages); Compare and Verify use a bounce
 * buffer bounded by the Verify Size Limit.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "system/block-backend.h"
#include "block/accounting.h"
#include "nvme.h"
#include "trace.h"

typedef uint16_t NvmeIoFn(NvmeCtrl *n, NvmeRequest *req);

/* What dispatch checks before calling a handler */
enum NvmeIoFlags {
    NVME_IO_NEEDS_NS    = 1 << 0,   /* nsid must name an active namespace */
    NVME_IO_BROADCAST   = 1 << 1,   /* nsid FFFFFFFFh allowed */
    NVME_IO_WRITES      = 1 << 2,   /* refused on a read-only namespace */
};

typedef struct NvmeIoCmd {
    const char *name;
    NvmeIoFn *exec;
    uint32_t flags;
    uint32_t effects;
} NvmeIoCmd;

static const char *nvme_io_name(uint8_t opcode);

/*
 * Largest Verify in bytes: 2^VSL units of the
 * minimum memory page size (NVM Command Set 4.1.5.1, VSL), the limit
 * Identify reports; the only place that turns VSL into bytes.
 */
uint64_t nvme_io_verify_limit(NvmeCtrl *n)
{
    unsigned bits = NVME_MIN_PAGE_BITS + n->params.vsl;

    return bits >= 64 ? UINT64_MAX : 1ull << bits;
}

static uint16_t nvme_io_check_range(NvmeCtrl *n, NvmeRequest *req,
                                    uint64_t slba, uint64_t nlb)
{
    NvmeNs *ns = req->ns;

    req->slba = slba;
    if (nlb > ns->nsze || slba > ns->nsze - nlb) {
        return nvme_err_guest(n, req, NVME_LBA_OUT_OF_RANGE,
                              "LBA %" PRIu64 "+%" PRIu64 " beyond "
                              "namespace %u of %" PRIu64 " blocks",
                              slba, nlb, ns->params.nsid, ns->nsze);
    }
    return NVME_SUCCESS;
}

static uint16_t nvme_io_check_mdts(NvmeCtrl *n, NvmeRequest *req,
                                   uint64_t len)
{
    uint8_t mdts = n->params.mdts;

    if (mdts && len > (1ull << n->page_bits) << mdts) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "%" PRIu64 " bytes exceed MDTS %u",
                              len, mdts);
    }
    return NVME_SUCCESS;
}

static uint16_t nvme_io_errno_status(NvmeRequest *req, int ret)
{
    if (ret == -ECANCELED) {
        return NVME_ABORT_REQUESTED;
    }
    if (ret == -ENOSPC) {
        return NVME_CAPACITY_EXCEEDED;
    }
    req->sq->ctrl->smart.media_errors++;
    return req->opcode == NVME_IO_WRITE || req->opcode == NVME_IO_WRITE_ZEROES
           ? NVME_WRITE_FAULT : NVME_UNRECOVERED_READ;
}

/* Finish a command whose block request(s) returned @ret */
static void nvme_io_finish(NvmeRequest *req, int ret)
{
    BlockAcctStats *stats = blk_get_stats(req->ns->blkconf.blk);

    if (ret) {
        block_acct_failed(stats, &req->acct);
        req->status = nvme_io_errno_status(req, ret);
        trace_nvme_dev_io_error(req->sq->sqid, req->cid, ret);
    } else {
        block_acct_done(stats, &req->acct);
    }
    nvme_engine_complete(req);
}

/* ---- Read / Write (NVM 3.2.4, 3.2.6) ----------------------------------- */

/* The block layer half of dma_blk_io(), for scatter-gather transfers */
static BlockAIOCB *nvme_io_dma_rw(int64_t offset, QEMUIOVector *iov,
                                  BlockCompletionFunc *cb, void *cb_opaque,
                                  void *opaque)
{
    NvmeRequest *req = opaque;
    BlockBackend *blk = req->ns->blkconf.blk;

    if (req->opcode == NVME_IO_WRITE) {
        return blk_aio_pwritev(blk, offset, iov, req->flags, cb, cb_opaque);
    }
    return blk_aio_preadv(blk, offset, iov, req->flags, cb, cb_opaque);
}

/* SMART counters: host commands and data units (Base Figure 207) */
static void nvme_io_account(NvmeRequest *req, uint64_t bytes, bool write)
{
    NvmeSmartCounters *c = &req->sq->ctrl->smart;
    uint64_t units = DIV_ROUND_UP(bytes, BDRV_SECTOR_SIZE);

    if (write) {
        c->host_writes++;
        c->units_written += units;
    } else {
        c->host_reads++;
        c->units_read += units;
    }
}

static void nvme_io_rw_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;

    /* data read into guest RAM must be marked dirty before completion */
    nvme_dma_unmap_direct(req);
    if (!ret) {
        nvme_io_account(req, req->sg_valid ? req->sg.size : req->iov.size,
                        req->opcode == NVME_IO_WRITE);
    }
    nvme_io_finish(req, ret);
}

/*
 * A directly mapped Read or Write runs in a coroutine of its own and
 * completes where the block layer returns: a backend that finishes at once
 * completes the command inside the engine's run, which posts it with the
 * rest of the batch, with no bottom half in between (blk_aio_* would add
 * an AIOCB and a completion BH per command).
 */
static void coroutine_fn nvme_io_rw_co(void *opaque)
{
    NvmeRequest *req = opaque;
    BlockBackend *blk = req->ns->blkconf.blk;
    int64_t offset = req->slba << req->ns->lbads;
    int ret;

    if (req->opcode == NVME_IO_WRITE) {
        ret = blk_co_pwritev(blk, offset, req->iov.size, &req->iov,
                             req->flags);
    } else {
        ret = blk_co_preadv(blk, offset, req->iov.size, &req->iov,
                            req->flags);
    }
    nvme_io_rw_cb(req, ret);
}

static uint16_t nvme_io_rw(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdRange r = nvme_cmd_range(&req->cmd);
    NvmeNs *ns = req->ns;
    bool write = req->opcode == NVME_IO_WRITE;
    uint64_t len = (uint64_t)r.nlb << ns->lbads;
    uint16_t status;

    status = nvme_io_check_range(n, req, r.slba, r.nlb);
    if (!status) {
        status = nvme_io_check_mdts(n, req, len);
    }
    if (status) {
        return status;
    }
    req->flags = write && r.fua ? BDRV_REQ_FUA : 0;
    if (write) {
        req->flags |= nvme_atomic_write_flags(n, r.nlb);
    }
    if (nvme_dma_map_direct(req, len, !write)) {
        /* guest pages mapped directly: no scatter list, no bounce */
        block_acct_start(blk_get_stats(ns->blkconf.blk), &req->acct, len,
                         write ? BLOCK_ACCT_WRITE : BLOCK_ACCT_READ);
        aio_co_enter(blk_get_aio_context(ns->blkconf.blk),
                     qemu_coroutine_create(nvme_io_rw_co, req));
        return NVME_NO_COMPLETE;
    }
    status = nvme_dma_map(req, len);
    if (status) {
        return status;
    }
    block_acct_start(blk_get_stats(ns->blkconf.blk), &req->acct, len,
                     write ? BLOCK_ACCT_WRITE : BLOCK_ACCT_READ);
    dma_blk_io(&req->sg, r.slba << ns->lbads, BDRV_SECTOR_SIZE,
               nvme_io_dma_rw, req, nvme_io_rw_cb, req,
               write ? DMA_DIRECTION_TO_DEVICE : DMA_DIRECTION_FROM_DEVICE);
    return NVME_NO_COMPLETE;
}

/* ---- Flush (NVM 3.2.2) ------------------------------------------------- */

static void nvme_io_multi_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;

    if (ret && !req->aio_ret) {
        req->aio_ret = ret;
    }
    if (--req->aio_pending) {
        return;
    }
    if (req->aio_ret) {
        req->status = nvme_io_errno_status(req, req->aio_ret);
    }
    nvme_engine_complete(req);
}

static uint16_t nvme_io_flush(NvmeCtrl *n, NvmeRequest *req)
{
    /* one extra count so that no callback completes the command early */
    req->aio_pending = 1;
    if (req->ns) {
        req->aio_pending++;
        blk_aio_flush(req->ns->blkconf.blk, nvme_io_multi_cb, req);
    } else {
        for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
            if (n->ns[i]) {
                req->aio_pending++;
                blk_aio_flush(n->ns[i]->blkconf.blk, nvme_io_multi_cb, req);
            }
        }
    }
    nvme_io_multi_cb(req, 0);
    return NVME_NO_COMPLETE;
}

/* ---- Write Zeroes (NVM 3.2.8) ------------------------------------------ */

static void nvme_io_zeroes_cb(void *opaque, int ret)
{
    nvme_io_finish(opaque, ret);
}

static uint16_t nvme_io_write_zeroes(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdRange r = nvme_cmd_range(&req->cmd);
    NvmeNs *ns = req->ns;
    uint16_t status = nvme_io_check_range(n, req, r.slba, r.nlb);
    BdrvRequestFlags flags = 0;

    if (status) {
        return status;
    }
    if (r.deac) {
        flags |= BDRV_REQ_MAY_UNMAP;
    }
    if (r.fua) {
        flags |= BDRV_REQ_FUA;
    }
    flags |= nvme_atomic_write_flags(n, r.nlb);
    block_acct_start(blk_get_stats(ns->blkconf.blk), &req->acct, 0,
                     BLOCK_ACCT_WRITE);
    blk_aio_pwrite_zeroes(ns->blkconf.blk, r.slba << ns->lbads,
                          (int64_t)r.nlb << ns->lbads, flags,
                          nvme_io_zeroes_cb, req);
    return NVME_NO_COMPLETE;
}

/* ---- Dataset Management (NVM 3.2.3) ------------------------------------ */

static uint16_t nvme_io_dsm(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdDsm c = nvme_cmd_dsm(&req->cmd);
    uint32_t nr = c.nr;
    bool ad = c.ad;
    NvmeNs *ns = req->ns;
    g_autofree NvmeDsmRange *ranges = g_new(NvmeDsmRange, nr);
    uint16_t status;

    status = nvme_dma_from_guest(req, ranges, nr * sizeof(*ranges));
    if (status || !ad) {
        return status;      /* attributes other than deallocate are hints */
    }
    for (uint32_t i = 0; i < nr; i++) {
        status = nvme_io_check_range(n, req, le64_to_cpu(ranges[i].slba),
                                     le32_to_cpu(ranges[i].nlb));
        if (status) {
            return status;
        }
    }
    req->aio_pending = 1;
    for (uint32_t i = 0; i < nr; i++) {
        uint64_t slba = le64_to_cpu(ranges[i].slba);
        uint32_t nlb = le32_to_cpu(ranges[i].nlb);

        if (!nlb) {
            continue;
        }
        /*
         * Zeroes that may unmap: the backend discards where its discard=
         * option allows, and deallocated blocks read as zeroes either way,
         * as Identify Namespace DLFEAT promises.
         */
        trace_nvme_dev_dsm_discard(ns->params.nsid, slba, nlb);
        req->aio_pending++;
        blk_aio_pwrite_zeroes(ns->blkconf.blk, slba << ns->lbads,
                              (int64_t)nlb << ns->lbads, BDRV_REQ_MAY_UNMAP,
                              nvme_io_multi_cb, req);
    }
    nvme_io_multi_cb(req, 0);
    return NVME_NO_COMPLETE;
}

/* ---- Compare (NVM 3.2.1) ----------------------------------------------- */

/*
 * Compare reads the range into one buffer and the host's data into
 * another: both are bounded by MDTS (at most 2^MDTS pages of CC.MPS).
 */
static void nvme_io_compare_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;

    if (!ret) {
        nvme_io_account(req, req->iov.size, false);
        if (memcmp(req->bounce, req->bounce2, req->iov.size)) {
            req->status = NVME_COMPARE_FAILURE;
        }
    }
    nvme_io_finish(req, ret);
}

/* A bounce buffer of @len bytes for @req, or an error status */
static uint16_t nvme_io_bounce(NvmeCtrl *n, NvmeRequest *req, void **buf,
                               uint64_t len)
{
    *buf = g_try_malloc(len);
    if (!*buf) {
        return nvme_err_guest(n, req, NVME_INTERNAL_ERROR,
                              "no memory for a %" PRIu64 " byte buffer",
                              len);
    }
    return NVME_SUCCESS;
}

static uint16_t nvme_io_compare(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdRange r = nvme_cmd_range(&req->cmd);
    NvmeNs *ns = req->ns;
    uint64_t len = (uint64_t)r.nlb << ns->lbads;
    uint16_t status;

    status = nvme_io_check_range(n, req, r.slba, r.nlb);
    if (!status) {
        status = nvme_io_check_mdts(n, req, len);
    }
    if (!status) {
        status = nvme_io_bounce(n, req, &req->bounce, len);
    }
    if (!status) {
        status = nvme_io_bounce(n, req, &req->bounce2, len);
    }
    if (!status) {
        status = nvme_dma_from_guest(req, req->bounce2, len);
    }
    if (status) {
        return status;
    }
    qemu_iovec_init(&req->iov, 1);
    qemu_iovec_add(&req->iov, req->bounce, len);
    block_acct_start(blk_get_stats(ns->blkconf.blk), &req->acct, len,
                     BLOCK_ACCT_READ);
    blk_aio_preadv(ns->blkconf.blk, r.slba << ns->lbads, &req->iov, 0,
                   nvme_io_compare_cb, req);
    return NVME_NO_COMPLETE;
}

/* ---- Verify (NVM 3.2.7) ------------------------------------------------- */

/*
 * Verify reads the range and drops the data: VSL allows up to 2^255
 * pages, so the range is read in chunks of at most this size through
 * one scratch buffer, one asynchronous read after the other.
 */
#define NVME_IO_VERIFY_CHUNK (1 * MiB)

static void nvme_io_verify_next(NvmeRequest *req);

static void nvme_io_verify_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;

    if (ret) {
        nvme_io_finish(req, ret);
        return;
    }
    req->verify_pos += req->iov.size;
    if (req->verify_pos < req->verify_end) {
        nvme_io_verify_next(req);
        return;
    }
    nvme_io_account(req, req->verify_end - (req->slba << req->ns->lbads),
                    false);
    nvme_io_finish(req, 0);
}

static void nvme_io_verify_next(NvmeRequest *req)
{
    uint64_t chunk = MIN(req->verify_end - req->verify_pos,
                         (uint64_t)NVME_IO_VERIFY_CHUNK);

    qemu_iovec_reset(&req->iov);
    qemu_iovec_add(&req->iov, req->bounce, chunk);
    blk_aio_preadv(req->ns->blkconf.blk, req->verify_pos, &req->iov, 0,
                   nvme_io_verify_cb, req);
}

static uint16_t nvme_io_verify(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdRange r = nvme_cmd_range(&req->cmd);
    NvmeNs *ns = req->ns;
    uint64_t len = (uint64_t)r.nlb << ns->lbads;
    uint16_t status;

    status = nvme_io_check_range(n, req, r.slba, r.nlb);
    if (status) {
        return status;
    }
    if (len > nvme_io_verify_limit(n)) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "%s of %" PRIu64 " bytes exceeds VSL",
                              nvme_io_name(req->opcode), len);
    }
    status = nvme_io_bounce(n, req, &req->bounce,
                            MIN(len, (uint64_t)NVME_IO_VERIFY_CHUNK));
    if (status) {
        return status;
    }
    req->verify_pos = r.slba << ns->lbads;
    req->verify_end = req->verify_pos + len;
    qemu_iovec_init(&req->iov, 1);
    block_acct_start(blk_get_stats(ns->blkconf.blk), &req->acct, len,
                     BLOCK_ACCT_READ);
    nvme_io_verify_next(req);
    return NVME_NO_COMPLETE;
}

/* ---- dispatch ------------------------------------------------------------ */

static const NvmeIoCmd nvme_io_cmds[NVME_IO_OPCODE_MAX + 1] = {
    [NVME_IO_FLUSH] = {
        "FLUSH", nvme_io_flush, NVME_IO_NEEDS_NS | NVME_IO_BROADCAST,
        NVME_EFF_CSUPP },
    [NVME_IO_WRITE] = {
        "WRITE", nvme_io_rw, NVME_IO_NEEDS_NS | NVME_IO_WRITES,
        NVME_EFF_CSUPP | NVME_EFF_LBCC },
    [NVME_IO_READ] = {
        "READ", nvme_io_rw, NVME_IO_NEEDS_NS, NVME_EFF_CSUPP },
    [NVME_IO_COMPARE] = {
        "COMPARE", nvme_io_compare, NVME_IO_NEEDS_NS, NVME_EFF_CSUPP },
    [NVME_IO_WRITE_ZEROES] = {
        "WRITE_ZEROES", nvme_io_write_zeroes,
        NVME_IO_NEEDS_NS | NVME_IO_WRITES, NVME_EFF_CSUPP | NVME_EFF_LBCC },
    [NVME_IO_DSM] = {
        "DSM", nvme_io_dsm, NVME_IO_NEEDS_NS | NVME_IO_WRITES,
        NVME_EFF_CSUPP | NVME_EFF_LBCC },
    [NVME_IO_VERIFY] = {
        "VERIFY", nvme_io_verify, NVME_IO_NEEDS_NS, NVME_EFF_CSUPP },
    [NVME_IO_COPY] = {
        "COPY", nvme_copy_exec, NVME_IO_NEEDS_NS | NVME_IO_WRITES,
        NVME_EFF_CSUPP | NVME_EFF_LBCC },
};

static uint32_t nvme_io_effects(NvmeCtrl *n, uint8_t opcode)
{
    return nvme_io_cmds[opcode].effects;
}

static const char *nvme_io_name(uint8_t opcode)
{
    return nvme_io_cmds[opcode].name ?: "unknown";
}

static uint16_t nvme_io_exec(NvmeCtrl *n, NvmeRequest *req)
{
    const NvmeIoCmd *cmd = &nvme_io_cmds[req->opcode];
    uint32_t cdw0 = le32_to_cpu(req->cmd.cdw0);
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);

    trace_nvme_dev_io_cmd(req->sq->sqid, req->cid, req->opcode,
                      nvme_io_name(req->opcode), nsid);
    if (FIELD_EX32(n->cc, NVME_CC, CSS) == NVME_CC_CSS_ADMIN_ONLY ||
        !cmd->exec) {
        return nvme_err_guest(n, req, NVME_INVALID_OPCODE,
                              "I/O opcode 0x%x", req->opcode);
    }
    if (FIELD_EX32(cdw0, NVME_CDW0, FUSE)) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "fused %s: fused operations unsupported",
                              cmd->name);
    }
    if (FIELD_EX32(cdw0, NVME_CDW0, PSDT) > NVME_PSDT_SGL_MPTR_SGL) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "%s: reserved PSDT", cmd->name);
    }
    if (cmd->flags & NVME_IO_BROADCAST && nsid == NVME_NSID_BROADCAST) {
        req->ns = NULL;
        return cmd->exec(n, req);
    }
    req->ns = nvme_ns_lookup(n, nsid);
    if (!req->ns) {
        return nvme_err_guest(n, req, NVME_INVALID_NSID,
                              "%s: namespace 0x%x is not active",
                              cmd->name, nsid);
    }
    if (req->ns->format_req) {
        /* transient: no DNR, the host retries once the format is done */
        trace_nvme_dev_io_format_busy(req->sq->sqid, req->cid, nsid);
        return NVME_FORMAT_IN_PROGRESS;
    }
    if (cmd->flags & NVME_IO_WRITES &&
        !blk_is_writable(req->ns->blkconf.blk)) {
        return nvme_err_guest(n, req, NVME_NS_WRITE_PROTECTED,
                              "%s: namespace %u is read-only",
                              cmd->name, nsid);
    }
    return cmd->exec(n, req);
}

const NvmeCmdSet nvme_io_cmdset = {
    .exec = nvme_io_exec,
    .effects = nvme_io_effects,
};
