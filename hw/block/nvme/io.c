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
    NVME_IO_READS       = 1 << 3,   /* only reads: rerror=, read errors */
};

typedef struct NvmeIoCmd {
    const char *name;
    NvmeIoFn *exec;
    uint32_t flags;
    uint32_t effects;
} NvmeIoCmd;

static const char *nvme_io_name(uint8_t opcode);
static bool nvme_io_reads(uint8_t opcode);

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

/*
 * The status of a command whose backend request failed with @ret (a
 * negative errno).  Media and Data Integrity Errors (Base 2.0c Figure
 * 105): a command that only reads gets Unrecovered Read Error (81h); one
 * that writes or makes writes durable (Write, Write Zeroes, Dataset
 * Management, Flush) gets Write Fault (80h), "the write data could not be
 * committed to the media"; both count in SMART Media and Data Integrity
 * Errors.  A backend out of space (ENOSPC) fails a writing command with
 * Capacity Exceeded (generic 81h: the namespace cannot hold the data,
 * as a thin-provisioned namespace whose NUSE reached NCAP), not a media
 * error; a read cannot exceed capacity, so it stays a read error.
 */
static uint16_t nvme_io_errno_status(NvmeRequest *req, int ret)
{
    bool reads = nvme_io_reads(req->opcode);

    if (ret == -ECANCELED) {
        return NVME_ABORT_REQUESTED;
    }
    if (ret == -ENOSPC && !reads) {
        return NVME_CAPACITY_EXCEEDED;
    }
    req->sq->ctrl->smart.media_errors++;
    return reads ? NVME_UNRECOVERED_READ : NVME_WRITE_FAULT;
}

/*
 * The drive's error action for a command whose backend request failed
 * with @ret (QEMU's werror= for commands that write or flush, rerror= for
 * those that only read, as virtio-blk and scsi-disk): BLOCK_IO_ERROR is
 * sent for every action; stop holds the command and stops the VM, and
 * `cont` runs it again (nvme_engine_hold); ignore completes it as if it
 * succeeded (*@ret = 0); report completes it with the error status.
 * True when the command was held.  A broadcast Flush (no one namespace to
 * take the action of) and a cancelled request always report.
 */
static bool nvme_io_error_action(NvmeRequest *req, int *ret)
{
    BlockBackend *blk = req->ns ? req->ns->blkconf.blk : NULL;
    bool is_read = nvme_io_reads(req->opcode);
    BlockErrorAction action;

    if (!blk || *ret == -ECANCELED) {
        return false;
    }
    action = blk_get_error_action(blk, is_read, -*ret);
    trace_nvme_dev_io_error_action(req->sq->sqid, req->cid, *ret, is_read,
                                   action);
    if (action == BLOCK_ERROR_ACTION_STOP) {
        nvme_engine_hold(req);
    }
    blk_error_action(blk, action, is_read, -*ret);
    if (action == BLOCK_ERROR_ACTION_IGNORE) {
        *ret = 0;
    }
    return action == BLOCK_ERROR_ACTION_STOP;
}

/* Finish a command whose block request(s) returned @ret */
static void nvme_io_finish(NvmeRequest *req, int ret)
{
    BlockAcctStats *stats = blk_get_stats(req->ns->blkconf.blk);

    if (ret && nvme_io_error_action(req, &ret)) {
        return;
    }
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

/* The metadata path's decoder and its helpers, used before their section */
static uint16_t nvme_io_md_start(NvmeCtrl *n, NvmeRequest *req,
                                 CoroutineEntry *co, bool transfers);
static bool nvme_io_md_path(NvmeCtrl *n, NvmeRequest *req);
static void coroutine_fn nvme_io_md_read_co(void *opaque);
static void coroutine_fn nvme_io_md_write_co(void *opaque);
static void coroutine_fn nvme_io_md_compare_co(void *opaque);
static void coroutine_fn nvme_io_md_verify_co(void *opaque);
static void coroutine_fn nvme_io_md_zeroes_co(void *opaque);

/* PRINFO on a namespace without protection information: Invalid Field */
static uint16_t nvme_io_check_prinfo(NvmeCtrl *n, NvmeRequest *req)
{
    uint8_t prinfo = nvme_cmd_pi(&req->cmd).prinfo;

    if (prinfo && !req->ns->pi_type) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "%s: PRINFO 0x%x on a namespace without "
                              "protection information",
                              nvme_io_name(req->opcode), prinfo);
    }
    return NVME_SUCCESS;
}

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

    req->flags = write && r.fua ? BDRV_REQ_FUA : 0;
    if (write) {
        req->flags |= nvme_atomic_write_flags(n, r.nlb);
    }
    if (nvme_io_md_path(n, req)) {
        return nvme_io_md_start(n, req, write ? nvme_io_md_write_co
                                              : nvme_io_md_read_co, true);
    }
    status = nvme_io_check_prinfo(n, req);
    if (!status) {
        status = nvme_io_check_range(n, req, r.slba, r.nlb);
    }
    if (!status) {
        status = nvme_io_check_mdts(n, req, len);
    }
    if (status) {
        return status;
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
    if (req->aio_ret && nvme_io_error_action(req, &req->aio_ret)) {
        return;
    }
    if (req->aio_ret) {
        req->status = nvme_io_errno_status(req, req->aio_ret);
        trace_nvme_dev_io_error(req->sq->sqid, req->cid, req->aio_ret);
    }
    nvme_engine_complete(req);
}

/* Flush a namespace's image, and its meta-drive if it has one */
static void nvme_io_flush_ns(NvmeRequest *req, NvmeNs *ns)
{
    req->aio_pending++;
    blk_aio_flush(ns->blkconf.blk, nvme_io_multi_cb, req);
    if (ns->params.meta_blk) {
        req->aio_pending++;
        blk_aio_flush(ns->params.meta_blk, nvme_io_multi_cb, req);
    }
}

static uint16_t nvme_io_flush(NvmeCtrl *n, NvmeRequest *req)
{
    /* one extra count so that no callback completes the command early */
    req->aio_pending = 1;
    if (req->ns) {
        nvme_io_flush_ns(req, req->ns);
    } else {
        for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
            if (n->ns[i]) {
                nvme_io_flush_ns(req, n->ns[i]);
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
    uint16_t status;
    BdrvRequestFlags flags = 0;

    if (r.deac) {
        flags |= BDRV_REQ_MAY_UNMAP;
    }
    if (r.fua) {
        flags |= BDRV_REQ_FUA;
    }
    flags |= nvme_atomic_write_flags(n, r.nlb);
    if (ns->ms) {
        req->flags = flags;
        return nvme_io_md_start(n, req, nvme_io_md_zeroes_co, false);
    }
    status = nvme_io_check_prinfo(n, req);
    if (!status) {
        status = nvme_io_check_range(n, req, r.slba, r.nlb);
    }
    if (status) {
        return status;
    }
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

    if (nvme_io_md_path(n, req)) {
        return nvme_io_md_start(n, req, nvme_io_md_compare_co, true);
    }
    status = nvme_io_check_prinfo(n, req);
    if (!status) {
        status = nvme_io_check_range(n, req, r.slba, r.nlb);
    }
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

    if (nvme_io_md_path(n, req)) {
        return nvme_io_md_start(n, req, nvme_io_md_verify_co, false);
    }
    status = nvme_io_check_prinfo(n, req);
    if (!status) {
        status = nvme_io_check_range(n, req, r.slba, r.nlb);
    }
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

/* ---- Metadata, protection information, DULBE (NVM 5.2, 5.3) ------------ */

/*
 * Commands on a namespace with metadata, and reads when DULBE is on, take
 * this path: data and metadata go through two bounce buffers (data of
 * nlb blocks, then metadata of nlb blocks), so that extended LBA and
 * separate buffers, PRACT insert/strip and the PI checks work on one
 * shape; each command runs in a coroutine of its own.
 */
typedef struct NvmeIoMd {
    NvmeCmdRange r;
    NvmePiLayout l;
    NvmePiTags t;
    uint64_t dlen;              /* data bytes on the backend */
    uint64_t mlen;              /* metadata bytes on the backend */
    bool host_md;               /* the host transfers metadata */
    uint64_t xfer;              /* bytes the data pointer describes */
} NvmeIoMd;

/* Whether DULBE (Error Recovery feature, Base 5.27.1.4) is on for @ns */
static bool nvme_io_dulbe(NvmeNs *ns)
{
    return FIELD_EX32(ns->err_rec, NVME_FEAT_ERR_REC, DULBE);
}

/* Whether @req goes through the metadata path */
static bool nvme_io_md_path(NvmeCtrl *n, NvmeRequest *req)
{
    return req->ns->ms ||
           (req->opcode != NVME_IO_WRITE && nvme_io_dulbe(req->ns));
}

/* Decode and validate the PI fields and transfer shape of @req */
static uint16_t nvme_io_md_decode(NvmeCtrl *n, NvmeRequest *req,
                                  NvmeIoMd *md)
{
    NvmeNs *ns = req->ns;
    NvmeCmdPi pi = nvme_cmd_pi(&req->cmd);
    uint64_t mask = ns->pif == NVME_PIF_64B ? NVME_PI_REFTAG_ESCAPE_64B
                                            : NVME_PI_REFTAG_ESCAPE_16B;
    uint16_t status;

    md->r = nvme_cmd_range(&req->cmd);
    md->l = nvme_ns_pi_layout(ns);
    md->t = (NvmePiTags) {
        .reftag = pi.eilbrt & mask, .apptag = pi.lbat, .appmask = pi.lbatm,
        .prinfo = pi.prinfo,
    };
    if (pi.prinfo && !nvme_pi_enabled(&md->l)) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "%s: PRINFO 0x%x on a namespace without "
                              "protection information",
                              nvme_io_name(req->opcode), pi.prinfo);
    }
    /* Compare and Verify neither insert nor strip: PRACT is invalid */
    if (pi.prinfo & NVME_PRINFO_PRACT && nvme_pi_enabled(&md->l) &&
        (req->opcode == NVME_IO_COMPARE || req->opcode == NVME_IO_VERIFY)) {
        return nvme_err_guest(n, req, NVME_INVALID_PROT_INFO,
                              "%s: PRACT set", nvme_io_name(req->opcode));
    }
    status = nvme_pi_check_ilbrt(&md->l, md->r.slba, &md->t);
    if (status) {
        return nvme_err_guest(n, req, status,
                              "%s: ILBRT 0x%" PRIx64 " is not SLBA 0x%"
                              PRIx64 " (type 1)", nvme_io_name(req->opcode),
                              md->t.reftag, md->r.slba);
    }
    md->dlen = (uint64_t)md->r.nlb << ns->lbads;
    md->mlen = (uint64_t)md->r.nlb * ns->ms;
    /* PRACT with metadata that is only the PI: inserted/stripped here */
    md->host_md = ns->ms && !(pi.prinfo & NVME_PRINFO_PRACT &&
                              nvme_pi_md_is_tuple(&md->l));
    /* extended LBA: metadata travels with the data (counts for MDTS) */
    md->xfer = md->dlen + (ns->mset && md->host_md ? md->mlen : 0);
    return NVME_SUCCESS;
}

/* The bounce buffers of @req: data in req->bounce, metadata in bounce2 */
static uint16_t nvme_io_md_buffers(NvmeCtrl *n, NvmeRequest *req,
                                   uint64_t dlen, uint64_t mlen)
{
    uint16_t status = nvme_io_bounce(n, req, &req->bounce, MAX(dlen, 1));

    if (!status) {
        status = nvme_io_bounce(n, req, &req->bounce2, MAX(mlen, 1));
    }
    return status;
}

/*
 * Between host memory and the bounce buffers (@to_host: towards the
 * host), interleaving data and metadata for extended LBAs
 */
static uint16_t nvme_io_md_xfer(NvmeRequest *req, const NvmeIoMd *md,
                                uint8_t *data, uint8_t *meta, bool to_host)
{
    NvmeNs *ns = req->ns;
    uint32_t lbs = 1u << ns->lbads;
    g_autofree uint8_t *ext = NULL;
    uint16_t status = NVME_SUCCESS;

    if (!ns->mset || !md->host_md) {
        status = to_host ? nvme_dma_to_guest(req, data, md->dlen)
                         : nvme_dma_from_guest(req, data, md->dlen);
        if (!status && md->host_md) {
            status = to_host ? nvme_dma_md_to_guest(req, meta, md->mlen)
                             : nvme_dma_md_from_guest(req, meta, md->mlen);
        }
        return status;
    }
    ext = g_try_malloc(md->xfer);
    if (!ext) {
        return nvme_err_guest(req->sq->ctrl, req, NVME_INTERNAL_ERROR,
                              "no memory for %" PRIu64 " bytes", md->xfer);
    }
    if (!to_host) {
        status = nvme_dma_from_guest(req, ext, md->xfer);
    }
    for (uint32_t i = 0; !status && i < md->r.nlb; i++) {
        uint8_t *b = ext + (uint64_t)i * (lbs + ns->ms);
        uint8_t *d = data + (uint64_t)i * lbs;
        uint8_t *m = meta + (uint64_t)i * ns->ms;

        if (to_host) {
            memcpy(b, d, lbs);
            memcpy(b + lbs, m, ns->ms);
        } else {
            memcpy(d, b, lbs);
            memcpy(m, b + lbs, ns->ms);
        }
    }
    if (!status && to_host) {
        status = nvme_dma_to_guest(req, ext, md->xfer);
    }
    return status;
}

/*
 * The stored blocks of a read-type command: DULBE, then the metadata of
 * deallocated blocks reads as all ones, so that their PI escapes the
 * checks (DLFEAT guard bit 0: no guard for deallocated blocks), then
 * the PI checks.  Returns an NvmeStatus; *@ret gets a backend error.
 */
static uint16_t coroutine_fn nvme_io_md_co_load(NvmeCtrl *n,
                                                NvmeRequest *req,
                                                const NvmeIoMd *md,
                                                uint64_t slba, uint32_t nlb,
                                                uint8_t *data, uint8_t *meta,
                                                int *ret)
{
    NvmeNs *ns = req->ns;
    g_autofree bool *dealloc = g_new0(bool, nlb);
    uint32_t bad = 0;
    NvmePiTags t = md->t;
    int64_t ndealloc = 0;
    uint16_t status;

    if (nvme_io_dulbe(ns) || nvme_pi_enabled(&md->l)) {
        ndealloc = nvme_ns_co_dealloc(ns, slba, nlb, dealloc);
        if (ndealloc < 0) {
            *ret = ndealloc;
            return NVME_SUCCESS;
        }
    }
    if (ndealloc && nvme_io_dulbe(ns)) {
        for (bad = 0; !dealloc[bad]; bad++) {
            /* the first deallocated block, for the error log */
        }
        req->slba = slba + bad;
        return nvme_err_guest(n, req, NVME_DULB,
                              "%s: LBA %" PRIu64 " is deallocated (DULBE)",
                              nvme_io_name(req->opcode), slba + bad);
    }
    *ret = nvme_ns_co_read(ns, slba, nlb, data, meta);
    if (*ret || !nvme_pi_enabled(&md->l)) {
        return NVME_SUCCESS;
    }
    for (uint32_t i = 0; ndealloc && i < nlb; i++) {
        if (dealloc[i]) {
            memset(meta + (uint64_t)i * ns->ms, 0xff, ns->ms);
        }
    }
    /* the reference tags of a later chunk start further on */
    t.reftag += md->l.type == NVME_PI_TYPE3 ? 0 : slba - md->r.slba;
    status = nvme_pi_check(&md->l, data, meta, nlb, &t, &bad);
    if (status) {
        req->slba = slba + bad;
        return nvme_err_guest(n, req, status,
                              "%s: end-to-end check failed at LBA %"
                              PRIu64, nvme_io_name(req->opcode), slba + bad);
    }
    return NVME_SUCCESS;
}

/* Complete a metadata-path command: backend error @ret, else @status */
static void nvme_io_md_done(NvmeRequest *req, int ret, uint16_t status,
                            uint64_t bytes)
{
    BlockAcctStats *stats = blk_get_stats(req->ns->blkconf.blk);

    if (ret) {
        nvme_io_finish(req, ret);
        return;
    }
    if (status) {
        block_acct_failed(stats, &req->acct);
        req->status = status;
    } else {
        block_acct_done(stats, &req->acct);
        if (bytes) {
            nvme_io_account(req, bytes, req->opcode == NVME_IO_WRITE);
        }
    }
    nvme_engine_complete(req);
}

static void coroutine_fn nvme_io_md_read_co(void *opaque)
{
    NvmeRequest *req = opaque;
    NvmeCtrl *n = req->sq->ctrl;
    NvmeIoMd md;
    uint16_t status = nvme_io_md_decode(n, req, &md);
    int ret = 0;

    if (!status) {
        status = nvme_io_md_co_load(n, req, &md, md.r.slba, md.r.nlb,
                                    req->bounce, req->bounce2, &ret);
    }
    if (!status && !ret) {
        status = nvme_io_md_xfer(req, &md, req->bounce, req->bounce2, true);
    }
    nvme_io_md_done(req, ret, status, md.dlen);
}

static void coroutine_fn nvme_io_md_write_co(void *opaque)
{
    NvmeRequest *req = opaque;
    NvmeCtrl *n = req->sq->ctrl;
    NvmeIoMd md;
    uint16_t status = nvme_io_md_decode(n, req, &md);
    uint32_t bad = 0;
    int ret = 0;

    if (!status) {
        status = nvme_io_md_xfer(req, &md, req->bounce, req->bounce2, false);
    }
    if (!status && md.t.prinfo & NVME_PRINFO_PRACT) {
        nvme_pi_generate(&md.l, req->bounce, req->bounce2, md.r.nlb, &md.t);
    } else if (!status) {
        status = nvme_pi_check(&md.l, req->bounce, req->bounce2, md.r.nlb,
                               &md.t, &bad);
        if (status) {
            req->slba = md.r.slba + bad;
            status = nvme_err_guest(n, req, status,
                                    "WRITE: end-to-end check failed at LBA "
                                    "%" PRIu64, md.r.slba + bad);
        }
    }
    if (!status) {
        ret = nvme_ns_co_write(req->ns, md.r.slba, md.r.nlb, req->bounce,
                                  req->bounce2, req->flags);
    }
    nvme_io_md_done(req, ret, status, md.dlen);
}

static void coroutine_fn nvme_io_md_compare_co(void *opaque)
{
    NvmeRequest *req = opaque;
    NvmeCtrl *n = req->sq->ctrl;
    NvmeIoMd md;
    uint16_t status = nvme_io_md_decode(n, req, &md);
    g_autofree uint8_t *hdata = NULL, *hmeta = NULL;
    int ret = 0;

    if (!status) {
        status = nvme_io_md_co_load(n, req, &md, md.r.slba, md.r.nlb,
                                    req->bounce, req->bounce2, &ret);
    }
    if (!status && !ret) {
        hdata = g_try_malloc(MAX(md.dlen, 1));
        hmeta = g_try_malloc(MAX(md.mlen, 1));
        status = hdata && hmeta ? NVME_SUCCESS :
                 nvme_err_guest(n, req, NVME_INTERNAL_ERROR,
                                "COMPARE: no memory for its buffers");
    }
    if (!status && !ret) {
        status = nvme_io_md_xfer(req, &md, hdata, hmeta, false);
    }
    if (!status && !ret &&
        (memcmp(hdata, req->bounce, md.dlen) ||
         (md.host_md && memcmp(hmeta, req->bounce2, md.mlen)))) {
        status = NVME_COMPARE_FAILURE;
    }
    nvme_io_md_done(req, ret, status, md.dlen);
}

static void coroutine_fn nvme_io_md_verify_co(void *opaque)
{
    NvmeRequest *req = opaque;
    NvmeCtrl *n = req->sq->ctrl;
    NvmeNs *ns = req->ns;
    NvmeIoMd md;
    uint16_t status = nvme_io_md_decode(n, req, &md);
    uint32_t chunk = MAX(NVME_IO_VERIFY_CHUNK >> ns->lbads, 1);
    int ret = 0;

    for (uint64_t done = 0; !status && !ret && done < md.r.nlb;
         done += chunk) {
        uint32_t nlb = MIN(chunk, md.r.nlb - done);

        status = nvme_io_md_co_load(n, req, &md, md.r.slba + done, nlb,
                                    req->bounce, req->bounce2, &ret);
    }
    nvme_io_md_done(req, ret, status, md.dlen);
}

/*
 * Write Zeroes: zero data; the metadata gets the PI of zeroed blocks
 * under PRACT (NVM 3.2.8), zeroes otherwise.
 */
static void coroutine_fn nvme_io_md_zeroes_co(void *opaque)
{
    NvmeRequest *req = opaque;
    NvmeCtrl *n = req->sq->ctrl;
    NvmeNs *ns = req->ns;
    NvmeIoMd md;
    uint16_t status = nvme_io_md_decode(n, req, &md);
    uint32_t chunk = MAX(NVME_IO_VERIFY_CHUNK >> ns->lbads, 1);
    int ret = 0;

    if (!status) {
        ret = blk_co_pwrite_zeroes(ns->blkconf.blk, md.r.slba << ns->lbads,
                                   md.dlen, req->flags);
    }
    if (!status && !ret && !(md.t.prinfo & NVME_PRINFO_PRACT)) {
        ret = blk_co_pwrite_zeroes(ns->md_blk,
                                   nvme_ns_md_offset(ns, md.r.slba),
                                   md.mlen, req->flags & ~BDRV_REQ_MAY_UNMAP);
    }
    for (uint64_t done = 0; !status && !ret &&
         md.t.prinfo & NVME_PRINFO_PRACT && done < md.r.nlb; done += chunk) {
        uint32_t nlb = MIN(chunk, md.r.nlb - done);
        NvmePiTags t = md.t;

        memset(req->bounce, 0, (uint64_t)nlb << ns->lbads);
        memset(req->bounce2, 0, (uint64_t)nlb * ns->ms);
        t.reftag += md.l.type == NVME_PI_TYPE3 ? 0 : done;
        nvme_pi_generate(&md.l, req->bounce, req->bounce2, nlb, &t);
        ret = blk_co_pwrite(ns->md_blk,
                            nvme_ns_md_offset(ns, md.r.slba + done),
                            (int64_t)nlb * ns->ms, req->bounce2, 0);
    }
    nvme_io_md_done(req, ret, status, 0);
}

/*
 * Start a metadata-path command: range, MDTS (data plus interleaved
 * metadata, Base 5.17.2.1 MDTS) and the buffers are checked here, the
 * rest in @co.
 */
static uint16_t nvme_io_md_start(NvmeCtrl *n, NvmeRequest *req,
                                 CoroutineEntry *co, bool transfers)
{
    NvmeNs *ns = req->ns;
    NvmeIoMd md;
    uint16_t status = nvme_io_md_decode(n, req, &md);
    uint32_t nbuf = md.r.nlb;

    if (!status) {
        status = nvme_io_check_range(n, req, md.r.slba, md.r.nlb);
    }
    /* CTRATT.MEM (ctratt.mem=on): MDTS excludes the metadata, as stock */
    if (!status && transfers) {
        status = nvme_io_check_mdts(n, req, n->params.ctratt_mem ? md.dlen
                                                                 : md.xfer);
    }
    if (!status && !transfers) {
        /* Verify and Write Zeroes work in chunks */
        nbuf = MIN(nbuf, MAX(NVME_IO_VERIFY_CHUNK >> ns->lbads, 1));
        if (req->opcode == NVME_IO_VERIFY &&
            md.dlen > nvme_io_verify_limit(n)) {
            status = nvme_err_guest(n, req, NVME_INVALID_FIELD,
                                    "VERIFY of %" PRIu64 " bytes exceeds "
                                    "VSL", md.dlen);
        }
    }
    if (!status) {
        status = nvme_io_md_buffers(n, req, (uint64_t)nbuf << ns->lbads,
                                    (uint64_t)nbuf * ns->ms);
    }
    if (status) {
        return status;
    }
    trace_nvme_dev_io_md(req->sq->sqid, req->cid, md.r.slba, md.r.nlb,
                         md.t.prinfo, md.t.reftag, md.t.apptag,
                         md.t.appmask);
    block_acct_start(blk_get_stats(ns->blkconf.blk), &req->acct, md.dlen,
                     req->opcode == NVME_IO_WRITE ||
                     req->opcode == NVME_IO_WRITE_ZEROES ?
                     BLOCK_ACCT_WRITE : BLOCK_ACCT_READ);
    aio_co_enter(blk_get_aio_context(ns->blkconf.blk),
                 qemu_coroutine_create(co, req));
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
        "READ", nvme_io_rw, NVME_IO_NEEDS_NS | NVME_IO_READS,
        NVME_EFF_CSUPP },
    [NVME_IO_COMPARE] = {
        "COMPARE", nvme_io_compare, NVME_IO_NEEDS_NS | NVME_IO_READS,
        NVME_EFF_CSUPP },
    [NVME_IO_WRITE_ZEROES] = {
        "WRITE_ZEROES", nvme_io_write_zeroes,
        NVME_IO_NEEDS_NS | NVME_IO_WRITES, NVME_EFF_CSUPP | NVME_EFF_LBCC },
    [NVME_IO_DSM] = {
        "DSM", nvme_io_dsm, NVME_IO_NEEDS_NS | NVME_IO_WRITES,
        NVME_EFF_CSUPP | NVME_EFF_LBCC },
    [NVME_IO_VERIFY] = {
        "VERIFY", nvme_io_verify, NVME_IO_NEEDS_NS | NVME_IO_READS,
        NVME_EFF_CSUPP },
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

static bool nvme_io_reads(uint8_t opcode)
{
    return nvme_io_cmds[opcode].flags & NVME_IO_READS;
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
