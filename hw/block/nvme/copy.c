/*
 * Copy (NVM Command Set Specification 1.0c section 3.3.1, with TP4130's
 * cross-namespace descriptor formats 2h and 3h): copy one or more source
 * ranges, of this namespace or (formats 2h/3h) of any namespace attached
 * to the controller with the same LBA format, to one consecutive
 * destination range of the namespace the command is sent to.
 *
 * Order, for a guest to rely on (docs/nvme.md, "Copy"):
 *  1. Everything is checked before any block is read: descriptor format,
 *     range count (MSRC), each range's source namespace, format, length
 *     (MSSRL) and bounds, the total (MCL), the destination's bounds.  A
 *     command that fails a check writes nothing.
 *  2. The source ranges are read in list order into a buffer of up to
 *     8 MiB (or the atomic write unit if larger, see
 *     nvme_copy_step_blocks()), then the buffer is written to the destination
 *     with one write that the block layer serialises against every
 *     overlapping request (BDRV_REQ_SERIALISING).  A Copy that fits one
 *     step (with stock's default limits, any Copy on blocks of up to
 *     64 KiB) therefore reads all its
 *     sources before it writes: a source range that overlaps the
 *     destination is read as it was before the command, and the
 *     destination write is one atomic operation (ONCS NVMCSA).
 *     A larger Copy repeats this step by step.
 *  3. An error stops the command where it happened.  What earlier steps
 *     wrote stays written; CQE DW0 holds the lowest numbered source range
 *     that was not completely written (0 when nothing was), as NVM 3.3.1
 *     asks.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/coroutine.h"
#include "system/block-backend.h"
#include "block/accounting.h"
#include "nvme.h"
#include "trace.h"

/*
 * The buffer a Copy reads into before it writes: 8 MiB, or the atomic
 * write unit (atomic.awun) when that is larger, up to 64 MiB, so that a
 * step is never smaller than what must be written atomically.
 */
#define NVME_COPY_STEP_BYTES (8 * MiB)
#define NVME_COPY_STEP_MAX_BYTES (64 * MiB)

/* Descriptor formats we support: OCFS bits (Identify Controller) */
#define NVME_COPY_OCFS (BIT(NVME_COPY_FORMAT_0) | BIT(NVME_COPY_FORMAT_1) | \
                        BIT(NVME_COPY_FORMAT_2) | BIT(NVME_COPY_FORMAT_3))

/* A validated source range */
typedef struct NvmeCopySource {
    NvmeNs *ns;
    uint64_t slba;
    uint32_t nlb;               /* 1's based */
} NvmeCopySource;

/* What the coroutine needs, kept in the request's second bounce buffer */
typedef struct NvmeCopyJob {
    uint64_t sdlba;
    uint64_t total;             /* blocks */
    BdrvRequestFlags wflags;
    unsigned nr;
    NvmeCopySource src[];
} NvmeCopyJob;

uint16_t nvme_copy_ocfs(NvmeCtrl *n)
{
    return NVME_COPY_OCFS;
}

/*
 * Whether namespace @src's blocks can be copied to @dst as they are: the
 * same LBA data size (TP4130: otherwise Incompatible Namespace or
 * Format).  Metadata and protection information join this test when
 * namespaces carry them (pi.c).
 */
static bool nvme_copy_formats_match(NvmeNs *src, NvmeNs *dst)
{
    return src->lbads == dst->lbads;
}

/*
 * Whether descriptor format @format suits the destination's protection
 * information format (NVM 3.3.1): 16b guard PI takes 0h/2h, 32b and 64b
 * guard PI 1h/3h, otherwise Invalid Namespace or Format.  A namespace
 * without PI takes any (stock refuses 1h/3h there with Invalid Format).
 */
static bool nvme_copy_format_fits(NvmeNs *dst, uint8_t format)
{
    return true;
}

/*
 * Protection information of a Copy: PRINFOR for the sources, each range's
 * EILBRT/ELBAT/ELBATM, PRINFOW with ILBRT/LBAT/LBATM for the destination.
 * The namespaces carry no metadata yet, so there is nothing to check and
 * PRINFO is ignored, as for Read and Write on such a namespace; pi.c's
 * checks go here once they carry it.
 */
static uint16_t nvme_copy_pi_check(NvmeCtrl *n, NvmeRequest *req,
                                   const NvmeCmdCopy *c)
{
    return NVME_SUCCESS;
}

/* Blocks of @dst a Copy moves per step */
static uint64_t nvme_copy_step_blocks(NvmeCtrl *n, NvmeNs *dst)
{
    uint64_t unit = MIN((uint64_t)nvme_atomic_unit(n),
                        NVME_COPY_STEP_MAX_BYTES >> dst->lbads);

    return MAX(MAX(NVME_COPY_STEP_BYTES >> dst->lbads, unit), 1);
}

/* Status for a backend error @ret (not the guest's fault: no DNR) */
static uint16_t nvme_copy_errno_status(NvmeCtrl *n, int ret, bool write)
{
    if (ret == -ECANCELED) {
        return NVME_ABORT_REQUESTED;
    }
    if (ret == -ENOSPC && write) {
        return NVME_CAPACITY_EXCEEDED;
    }
    n->smart.media_errors++;
    return write ? NVME_WRITE_FAULT : NVME_UNRECOVERED_READ;
}

/*
 * SMART counters (Base Figure 207): a Copy is one host read and one host
 * write command, as stock counts it, and its blocks count as data units
 * read and written (stock leaves those alone).
 */
static void nvme_copy_account(NvmeCtrl *n, uint64_t bytes)
{
    uint64_t units = DIV_ROUND_UP(bytes, BDRV_SECTOR_SIZE);

    n->smart.host_reads++;
    n->smart.host_writes++;
    n->smart.units_read += units;
    n->smart.units_written += units;
}

/*
 * The source namespace of a format 2h/3h range (NVM 3.3.1.1): an NSID
 * that cannot name a namespace (0, FFFFFFFFh, beyond NN) is Invalid
 * Namespace or Format, one that names no attached namespace Invalid
 * Field in Command.
 */
static uint16_t nvme_copy_source_ns(NvmeCtrl *n, NvmeRequest *req,
                                    unsigned i, uint32_t snsid, NvmeNs **src)
{
    if (snsid == 0 || snsid > NVME_MAX_NAMESPACES) {
        return nvme_err_guest(n, req, NVME_INVALID_NSID,
                              "copy range %u: source namespace 0x%x is "
                              "not a valid NSID", i, snsid);
    }
    *src = nvme_ns_lookup(n, snsid);
    if (!*src) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "copy range %u: source namespace %u is not "
                              "active", i, snsid);
    }
    if ((*src)->format_req) {
        return nvme_err_guest(n, req, NVME_FORMAT_IN_PROGRESS,
                              "copy range %u: source namespace %u is being "
                              "formatted", i, snsid);
    }
    return NVME_SUCCESS;
}

/*
 * Whether source ranges of the destination namespace overlap the
 * destination: formats 2h and 3h forbid it (Overlapping I/O Range), for
 * formats 0h and 1h the spec leaves the result open and we read every
 * source before writing (see the top of this file).
 */
static bool nvme_copy_overlaps(const NvmeCopyJob *job, NvmeNs *dst,
                               uint64_t sdlba, uint64_t total)
{
    for (unsigned i = 0; i < job->nr; i++) {
        const NvmeCopySource *s = &job->src[i];

        if (s->ns == dst && s->slba < sdlba + total &&
            sdlba < s->slba + s->nlb) {
            return true;
        }
    }
    return false;
}

/*
 * Check every source range of @list against the destination namespace's
 * limits and fill @job.  Checks run in list order; the first failure is
 * the command's status.
 */
static uint16_t nvme_copy_check_ranges(NvmeCtrl *n, NvmeRequest *req,
                                       const NvmeCmdCopy *c,
                                       const void *list, NvmeCopyJob *job)
{
    NvmeNs *dst = req->ns;
    uint64_t total = 0;

    for (unsigned i = 0; i < c->nr; i++) {
        NvmeCopyRange r = nvme_copy_range(list, c->format, i);
        NvmeNs *src = dst;

        if (nvme_copy_format_has_snsid(c->format)) {
            uint16_t status = nvme_copy_source_ns(n, req, i, r.snsid, &src);

            if (status) {
                return status;
            }
            if (!nvme_copy_formats_match(src, dst)) {
                return nvme_err_guest(n, req, NVME_INCOMPATIBLE_NS_OR_FORMAT,
                                      "copy range %u: namespace %u has "
                                      "%u-byte blocks, namespace %u %u",
                                      i, src->params.nsid, 1u << src->lbads,
                                      dst->params.nsid, 1u << dst->lbads);
            }
        }
        /* MSSRL and MCL of 0: no limit (NVM Figure 42, status 83h) */
        if (dst->params.mssrl && r.nlb > dst->params.mssrl) {
            return nvme_err_guest(n, req, NVME_CMD_SIZE_LIMIT_EXCEEDED,
                                  "copy range %u: %u blocks exceed MSSRL "
                                  "%u", i, r.nlb, dst->params.mssrl);
        }
        if (r.slba > src->nsze || r.nlb > src->nsze - r.slba) {
            req->slba = r.slba;
            return nvme_err_guest(n, req, NVME_LBA_OUT_OF_RANGE,
                                  "copy range %u: LBA %" PRIu64 "+%u "
                                  "beyond namespace %u of %" PRIu64
                                  " blocks", i, r.slba, r.nlb,
                                  src->params.nsid, src->nsze);
        }
        total += r.nlb;
        if (dst->params.mcl && total > dst->params.mcl) {
            return nvme_err_guest(n, req, NVME_CMD_SIZE_LIMIT_EXCEEDED,
                                  "copy: %" PRIu64 " blocks exceed MCL %u",
                                  total, dst->params.mcl);
        }
        job->src[i] = (NvmeCopySource) {
            .ns = src, .slba = r.slba, .nlb = r.nlb,
        };
    }
    req->slba = c->sdlba;
    if (c->sdlba > dst->nsze || total > dst->nsze - c->sdlba) {
        return nvme_err_guest(n, req, NVME_LBA_OUT_OF_RANGE,
                              "copy: destination LBA %" PRIu64 "+%" PRIu64
                              " beyond namespace %u of %" PRIu64 " blocks",
                              c->sdlba, total, dst->params.nsid, dst->nsze);
    }
    if (nvme_copy_format_has_snsid(c->format) &&
        nvme_copy_overlaps(job, dst, c->sdlba, total)) {
        return nvme_err_guest(n, req, NVME_OVERLAPPING_IO_RANGE,
                              "copy: a source range overlaps the "
                              "destination %" PRIu64 "+%" PRIu64,
                              c->sdlba, total);
    }
    job->total = total;
    return NVME_SUCCESS;
}

/*
 * The copy itself: step by step, read the next source blocks into the
 * bounce buffer, in list order, then write them to the destination.
 */
static void coroutine_fn nvme_copy_co(void *opaque)
{
    NvmeRequest *req = opaque;
    NvmeCtrl *n = req->sq->ctrl;
    NvmeCopyJob *job = req->bounce2;
    NvmeNs *dst = req->ns;
    unsigned lbads = dst->lbads;
    uint64_t step = nvme_copy_step_blocks(n, dst);
    uint64_t dlba = job->sdlba;
    uint8_t *buf = req->bounce;
    unsigned idx = 0;           /* range being read */
    uint64_t off = 0;           /* its blocks read so far */
    BlockAcctStats *stats = blk_get_stats(dst->blkconf.blk);
    uint16_t status = NVME_SUCCESS;
    int ret = 0;

    while (idx < job->nr) {
        unsigned first = idx;   /* lowest range not completely written */
        uint64_t filled = 0;

        while (idx < job->nr && filled < step) {
            NvmeCopySource *s = &job->src[idx];
            uint64_t take = MIN(s->nlb - off, step - filled);

            ret = blk_co_pread(s->ns->blkconf.blk, (s->slba + off) << lbads,
                               take << lbads, buf + (filled << lbads), 0);
            if (ret < 0) {
                status = nvme_copy_errno_status(n, ret, false);
                break;
            }
            filled += take;
            off += take;
            if (off == s->nlb) {
                idx++;
                off = 0;
            }
        }
        if (!status) {
            ret = blk_co_pwrite(dst->blkconf.blk, dlba << lbads,
                                filled << lbads, buf, job->wflags);
            if (ret < 0) {
                status = nvme_copy_errno_status(n, ret, true);
            }
        }
        if (status) {
            trace_nvme_dev_io_error(req->sq->sqid, req->cid, ret);
            req->dw0 = first;
            break;
        }
        dlba += filled;
    }
    trace_nvme_dev_copy_done(req->sq->sqid, req->cid, dlba - job->sdlba,
                             status);
    if (status) {
        block_acct_failed(stats, &req->acct);
    } else {
        block_acct_done(stats, &req->acct);
        nvme_copy_account(n, job->total << lbads);
    }
    req->status = status;
    nvme_engine_complete(req);
}

uint16_t nvme_copy_exec(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdCopy c = nvme_cmd_copy(&req->cmd);
    NvmeNs *dst = req->ns;
    size_t list_len = (size_t)c.nr * nvme_copy_entry_size(c.format);
    g_autofree void *list = NULL;
    NvmeCopyJob *job;
    uint64_t bytes;
    uint16_t status;

    if (!(nvme_copy_ocfs(n) & BIT(c.format))) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "copy: descriptor format %u unsupported",
                              c.format);
    }
    if (nvme_copy_format_has_snsid(c.format) &&
        !(le16_to_cpu(n->feat.host_behavior.cdfe) & BIT(c.format))) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "copy: descriptor format %u not enabled "
                              "(Host Behavior Support CDFE)", c.format);
    }
    if (c.nr > dst->params.msrc + 1u) {
        return nvme_err_guest(n, req, NVME_CMD_SIZE_LIMIT_EXCEEDED,
                              "copy: %u ranges exceed MSRC %u (0's based)",
                              c.nr, dst->params.msrc);
    }
    if (!nvme_copy_format_fits(dst, c.format)) {
        return nvme_err_guest(n, req, NVME_INVALID_NSID,
                              "copy: descriptor format %u does not suit "
                              "namespace %u's protection information",
                              c.format, dst->params.nsid);
    }
    status = nvme_copy_pi_check(n, req, &c);
    if (status) {
        return status;
    }
    list = g_malloc(list_len);
    status = nvme_dma_from_guest(req, list, list_len);
    if (status) {
        return status;
    }
    job = g_malloc0(sizeof(*job) + c.nr * sizeof(job->src[0]));
    req->bounce2 = job;
    job->nr = c.nr;
    job->sdlba = c.sdlba;
    status = nvme_copy_check_ranges(n, req, &c, list, job);
    if (status) {
        return status;
    }
    bytes = MIN(job->total, nvme_copy_step_blocks(n, dst)) << dst->lbads;
    req->bounce = g_try_malloc(bytes);
    if (!req->bounce) {
        return nvme_err_guest(n, req, NVME_INTERNAL_ERROR,
                              "copy: no memory for a %" PRIu64
                              " byte buffer", bytes);
    }
    /* one atomic write per step (ONCS NVMCSA), FUA if asked */
    job->wflags = BDRV_REQ_SERIALISING | (c.fua ? BDRV_REQ_FUA : 0);
    trace_nvme_dev_copy(req->sq->sqid, req->cid, dst->params.nsid, c.format,
                        c.nr, c.sdlba, job->total);
    block_acct_start(blk_get_stats(dst->blkconf.blk), &req->acct,
                     job->total << dst->lbads, BLOCK_ACCT_WRITE);
    aio_co_enter(blk_get_aio_context(dst->blkconf.blk),
                 qemu_coroutine_create(nvme_copy_co, req));
    return NVME_NO_COMPLETE;
}
