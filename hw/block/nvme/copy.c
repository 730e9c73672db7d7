/*
 * Copy (NVM Command Set Specification 1.0c section 3.3.1, with TP4130's
 * cross-namespace descriptor formats 2h and 3h): copy one or more source
 * ranges, of this namespace or (formats 2h/3h) of any namespace attached
 * to the controller with the same LBA format, to one consecutive
 * destination range of the namespace the command is sent to.
 *
 * Order, for a guest to rely on (docs/nvme.md, "Copy"):
 *  1. Everything is checked before any block is read: descriptor format,
 *     range count (MSRC), ILBRT, each range's source namespace, format,
 *     PRACT, EILBRT, length (MSSRL) and bounds, the total (MCL), the
 *     destination's bounds.  A command that fails a check writes nothing.
 *     The PI of the blocks is checked as they are read (PRINFOR) and
 *     before they are written (PRINFOW): a failure there stops the
 *     command like a backend error (3).
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
    NvmePiTags tags;            /* EILBRT/ELBAT/ELBATM with PRINFOR */
} NvmeCopySource;

/* What the coroutine needs, kept in the request's second bounce buffer */
typedef struct NvmeCopyJob {
    uint64_t sdlba;
    uint64_t total;             /* blocks */
    BdrvRequestFlags wflags;
    NvmePiTags wtags;           /* ILBRT/LBAT/LBATM with PRINFOW */
    uint16_t md_stride;         /* metadata bytes per block in the buffer */
    uint8_t *meta;              /* the step's metadata (md_stride > 0) */
    unsigned nr;
    NvmeCopySource src[];
} NvmeCopyJob;

uint16_t nvme_copy_ocfs(NvmeCtrl *n)
{
    return NVME_COPY_OCFS;
}

/*
 * Protection information (NVM 3.3.2.3, 3.3.2.4): PRINFOR applies to the
 * read of each source range with that range's EILBRT/ELBAT/ELBATM,
 * PRINFOW to the write with ILBRT/LBAT/LBATM.  Per source range, with
 * S the source namespace and D the destination:
 *   S, D without PI   the same LBA format (data and metadata size): the
 *                     metadata is copied as it is; PRINFO is ignored
 *   S, D with PI      the same LBA format and PI settings; PRACT the same
 *                     in PRINFOR and PRINFOW (else Invalid Field): PRACT 0
 *                     passes the PI through (checked per PRINFOR, then per
 *                     PRINFOW), PRACT 1 checks it per PRINFOR and writes
 *                     new PI from ILBRT/LBAT
 *   S without, D with PI    inserted: PRINFOW.PRACT, S has no metadata
 *                     and D only the PI
 *   S with, D without PI    stripped: PRINFOR.PRACT, S has only the PI
 *                     and D no metadata
 * Anything else is Incompatible Namespace or Format.
 */
static bool nvme_copy_pract(uint8_t prinfo)
{
    return prinfo & NVME_PRINFO_PRACT;
}

/* Whether @ns's metadata is its PI tuple and nothing else */
static bool nvme_copy_md_is_tuple(NvmeNs *ns)
{
    NvmePiLayout l = nvme_ns_pi_layout(ns);

    return nvme_pi_enabled(&l) && nvme_pi_md_is_tuple(&l);
}

/* Whether a range of namespace @src can be copied to @dst (see above) */
static bool nvme_copy_formats_match(NvmeNs *src, NvmeNs *dst,
                                    const NvmeCmdCopy *c)
{
    if (src->lbads != dst->lbads) {
        return false;
    }
    if (!src->pi_type && !dst->pi_type) {
        return src->ms == dst->ms;
    }
    if (src->pi_type && dst->pi_type) {
        return src->ms == dst->ms && src->pi_type == dst->pi_type &&
               src->pif == dst->pif && src->pil == dst->pil;
    }
    if (dst->pi_type) {
        return nvme_copy_pract(c->prinfow) && !src->ms &&
               nvme_copy_md_is_tuple(dst);
    }
    return nvme_copy_pract(c->prinfor) && !dst->ms &&
           nvme_copy_md_is_tuple(src);
}

/*
 * Whether descriptor format @format suits the destination's protection
 * information format (NVM 3.3.1): 16b guard PI takes 0h/2h, 32b and 64b
 * guard PI 1h/3h, otherwise Invalid Namespace or Format (stock: Invalid
 * Format).  A namespace without PI takes any (stock refuses 1h/3h there
 * with Invalid Format).
 */
static bool nvme_copy_format_fits(NvmeNs *dst, uint8_t format)
{
    bool wide = format == NVME_COPY_FORMAT_1 || format == NVME_COPY_FORMAT_3;

    if (!dst->pi_type) {
        return true;
    }
    return wide == (dst->pif != NVME_PIF_16B);
}

/* The reference tag bits of @ns's PI format */
static uint64_t nvme_copy_reftag_mask(NvmeNs *ns)
{
    return ns->pif == NVME_PIF_64B ? NVME_PI_REFTAG_ESCAPE_64B
                                   : NVME_PI_REFTAG_ESCAPE_16B;
}

/*
 * The command-wide PI checks: PRACT alike on both sides where both carry
 * PI, and ILBRT against SDLBA for Type 1 (Invalid Protection
 * Information).
 */
static uint16_t nvme_copy_pi_check(NvmeCtrl *n, NvmeRequest *req,
                                   const NvmeCmdCopy *c, NvmeCopyJob *job)
{
    NvmeNs *dst = req->ns;
    NvmePiLayout l = nvme_ns_pi_layout(dst);
    uint16_t status;

    job->wtags = (NvmePiTags) {
        .reftag = c->ilbrt & nvme_copy_reftag_mask(dst),
        .apptag = c->lbat, .appmask = c->lbatm, .prinfo = c->prinfow,
    };
    if (!dst->pi_type) {
        return NVME_SUCCESS;
    }
    status = nvme_pi_check_ilbrt(&l, c->sdlba, &job->wtags);
    if (status) {
        return nvme_err_guest(n, req, status, "copy: ILBRT 0x%" PRIx64
                              " is not SDLBA 0x%" PRIx64 " (type 1)",
                              job->wtags.reftag, c->sdlba);
    }
    return NVME_SUCCESS;
}

/* The per-range PI checks of range @i from @src (EILBRT for Type 1) */
static uint16_t nvme_copy_range_pi(NvmeCtrl *n, NvmeRequest *req,
                                   const NvmeCmdCopy *c, unsigned i,
                                   const NvmeCopyRange *r, NvmeNs *src,
                                   NvmeCopySource *s)
{
    NvmePiLayout l = nvme_ns_pi_layout(src);
    uint16_t status;

    s->tags = (NvmePiTags) {
        .reftag = r->eilbrt & nvme_copy_reftag_mask(src),
        .apptag = r->elbat, .appmask = r->elbatm, .prinfo = c->prinfor,
    };
    if (!src->pi_type) {
        return NVME_SUCCESS;
    }
    if (req->ns->pi_type &&
        nvme_copy_pract(c->prinfor) != nvme_copy_pract(c->prinfow)) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "copy range %u: PRACT differs between "
                              "PRINFOR and PRINFOW", i);
    }
    status = nvme_pi_check_ilbrt(&l, r->slba, &s->tags);
    if (status) {
        return nvme_err_guest(n, req, status, "copy range %u: EILBRT 0x%"
                              PRIx64 " is not SLBA 0x%" PRIx64 " (type 1)",
                              i, s->tags.reftag, r->slba);
    }
    return NVME_SUCCESS;
}

/*
 * The destination's metadata of @nlb blocks whose data is in @data and
 * whose source metadata (if any) is in @meta, per the table above:
 * passed through and checked per PRINFOW, or generated.  Returns an
 * NvmeStatus; *@bad gets the failing block.
 */
static uint16_t nvme_copy_pi_write(NvmeNs *src, NvmeNs *dst,
                                   const NvmePiTags *wtags, uint64_t off,
                                   const uint8_t *data, uint8_t *meta,
                                   uint32_t nlb, uint32_t *bad)
{
    NvmePiLayout l = nvme_ns_pi_layout(dst);
    NvmePiTags t = *wtags;

    if (!dst->pi_type) {
        return NVME_SUCCESS;
    }
    /* the tags of a block @off blocks into the destination */
    t.reftag += l.type == NVME_PI_TYPE3 ? 0 : off;
    if (!src->pi_type || nvme_copy_pract(wtags->prinfo)) {
        nvme_pi_generate(&l, data, meta, nlb, &t);
        return NVME_SUCCESS;
    }
    return nvme_pi_check(&l, data, meta, nlb, &t, bad);
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

    /* a block's metadata in the buffer: the one size every side has */
    job->md_stride = dst->ms;
    for (unsigned i = 0; i < c->nr; i++) {
        NvmeCopyRange r = nvme_copy_range(list, c->format, i);
        NvmeNs *src = dst;
        uint16_t status;

        if (nvme_copy_format_has_snsid(c->format)) {
            status = nvme_copy_source_ns(n, req, i, r.snsid, &src);
            if (status) {
                return status;
            }
            if (!nvme_copy_formats_match(src, dst, c)) {
                return nvme_err_guest(n, req, NVME_INCOMPATIBLE_NS_OR_FORMAT,
                                      "copy range %u: namespace %u (%u+%u "
                                      "bytes, PI %u) cannot go to "
                                      "namespace %u (%u+%u bytes, PI %u)",
                                      i, src->params.nsid, 1u << src->lbads,
                                      src->ms, src->pi_type,
                                      dst->params.nsid, 1u << dst->lbads,
                                      dst->ms, dst->pi_type);
            }
        }
        status = nvme_copy_range_pi(n, req, c, i, &r, src, &job->src[i]);
        if (status) {
            return status;
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
        job->src[i].ns = src;
        job->src[i].slba = r.slba;
        job->src[i].nlb = r.nlb;
        job->md_stride = MAX(job->md_stride, src->ms);
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
 * Deallocated or unwritten blocks of a PI namespace carry no PI: their
 * metadata reads as all ones, which escapes the checks (NVM 5.2.1.4),
 * as it does for Read.  Returns 0 or a negative errno.
 */
static int coroutine_fn nvme_copy_co_escape_unwritten(NvmeNs *ns,
                                                      uint64_t slba,
                                                      uint64_t nlb,
                                                      uint8_t *meta)
{
    g_autofree bool *unwritten = g_new0(bool, nlb);
    int64_t count = nvme_ns_co_dealloc(ns, slba, nlb, unwritten);

    for (uint64_t b = 0; count > 0 && b < nlb; b++) {
        if (unwritten[b]) {
            memset(meta + b * ns->ms, 0xff, ns->ms);
        }
    }
    return count < 0 ? count : 0;
}

/*
 * Read @nlb blocks of source range @s from block @off of it into @data
 * and @meta, check their PI per PRINFOR, and prepare the destination's
 * metadata (the PI passed through and checked per PRINFOW, or generated)
 * for destination block @doff.  Returns an NvmeStatus; *@ret gets a
 * backend error, *@bad_lba the block a check failed on.
 */
static uint16_t coroutine_fn nvme_copy_co_piece(NvmeCopyJob *job,
                                               NvmeNs *dst,
                                               NvmeCopySource *s,
                                               uint64_t off, uint64_t nlb,
                                               uint64_t doff, uint8_t *data,
                                               uint8_t *meta, int *ret,
                                               uint64_t *bad_lba)
{
    NvmeNs *src = s->ns;
    NvmePiLayout l = nvme_ns_pi_layout(src);
    uint64_t slba = s->slba + off;
    uint32_t bad = 0;
    uint16_t status;

    *ret = nvme_ns_co_read(src, slba, nlb, data, meta);
    if (!*ret && src->pi_type) {
        *ret = nvme_copy_co_escape_unwritten(src, slba, nlb, meta);
    }
    if (*ret < 0) {
        return NVME_SUCCESS;
    }
    *ret = 0;
    if (src->pi_type) {
        NvmePiTags t = s->tags;

        t.reftag += l.type == NVME_PI_TYPE3 ? 0 : off;
        status = nvme_pi_check(&l, data, meta, nlb, &t, &bad);
        if (status) {
            *bad_lba = slba + bad;
            return status;
        }
    }
    status = nvme_copy_pi_write(src, dst, &job->wtags, doff, data, meta,
                                nlb, &bad);
    if (status) {
        *bad_lba = job->sdlba + doff + bad;
    }
    return status;
}

/*
 * The copy itself: step by step, read the next source blocks into the
 * bounce buffers, in list order, then write them to the destination.
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
    uint64_t bad_lba = 0;
    int ret = 0;

    while (idx < job->nr) {
        unsigned first = idx;   /* lowest range not completely written */
        uint64_t filled = 0;

        while (idx < job->nr && filled < step) {
            NvmeCopySource *s = &job->src[idx];
            uint64_t take = MIN(s->nlb - off, step - filled);

            status = nvme_copy_co_piece(job, dst, s, off, take,
                                        dlba - job->sdlba + filled,
                                        buf + (filled << lbads),
                                        job->meta + filled * job->md_stride,
                                        &ret, &bad_lba);
            if (ret < 0) {
                status = nvme_copy_errno_status(n, ret, false);
            }
            if (status) {
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
            ret = nvme_ns_co_write(dst, dlba, filled, buf, job->meta,
                                   job->wflags);
            if (ret < 0) {
                status = nvme_copy_errno_status(n, ret, true);
            }
        }
        if (status) {
            if (ret < 0) {
                trace_nvme_dev_io_error(req->sq->sqid, req->cid, ret);
            } else {
                req->slba = bad_lba;
                status = nvme_err_guest(n, req, status,
                                        "copy: end-to-end check failed at "
                                        "LBA %" PRIu64, bad_lba);
            }
            req->dw0 = first;
            break;
        }
        dlba += filled;
    }
    trace_nvme_dev_copy_done(req->sq->sqid, req->cid, dlba - job->sdlba,
                             status);
    g_free(job->meta);
    job->meta = NULL;
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
    uint64_t bytes, step;
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
    job = g_malloc0(sizeof(*job) + c.nr * sizeof(job->src[0]));
    req->bounce2 = job;
    job->nr = c.nr;
    job->sdlba = c.sdlba;
    status = nvme_copy_pi_check(n, req, &c, job);
    if (status) {
        return status;
    }
    list = g_malloc(list_len);
    status = nvme_dma_from_guest(req, list, list_len);
    if (status) {
        return status;
    }
    status = nvme_copy_check_ranges(n, req, &c, list, job);
    if (status) {
        return status;
    }
    step = MIN(job->total, nvme_copy_step_blocks(n, dst));
    bytes = step << dst->lbads;
    req->bounce = g_try_malloc(bytes);
    job->meta = g_try_malloc(MAX(step * job->md_stride, 1));
    if (!req->bounce || !job->meta) {
        g_free(job->meta);
        job->meta = NULL;
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
