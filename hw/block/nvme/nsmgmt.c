/*
 * NVMe Namespace Management (NVMe Base Specification 2.0c, Namespace
 * Management command; NVM capacity fields of Identify): namespaces
 * created in and deleted from the namespace pool of an NVM subsystem
 * (nvme-subsys ns-pool=, nvqemu's own), persisted in the pool's
 * namespace table (nstbl.c) so that a restart finds them, and their
 * attachments, again.
 *
 * A created namespace is an extent of the pool image: its backend is a
 * raw block node with offset and size over the pool's node, so the I/O
 * path serves it like any other namespace.  Every change is written to
 * the table (write + flush) before it is applied; a failed write leaves
 * everything as it was.  Opening block nodes needs the BQL: the
 * controllers of an nvme-subsys run in the main loop (iothread= is
 * refused with subsys=).  docs/nvme.md, "Namespace management".
 *
 * Below subsys.c (which calls the hooks at the end of the "nvme-subsys
 * side" section), it calls back into subsys.c's namespace registry
 * (nvme_subsys_ns_add/_remove, nvme_subsys_free_nsid) to allocate and
 * free what it creates.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/guest-random.h"
#include "qobject/qdict.h"
#include "block/block-global-state.h"
#include "block/block-io.h"
#include "system/block-backend.h"
#include "hw/block/nvme/nstbl.h"
#include "nvme.h"
#include "trace.h"

/*
 * The namespace pool of a subsystem.
 *
 * A change of the table (create, delete, attachment, a format's record)
 * waits for the block layer with blk_pwrite(), blk_flush() and drains,
 * whose nested aio_poll() runs whatever else the main loop has: another
 * controller's engine, a Format's completion.  They must not start a
 * change of their own meanwhile (they would build in @next and @buf under
 * the one in progress, or free a namespace it holds).  @busy is set
 * while a change is under way: a command then ends in Command
 * Interrupted (the host retries), a format's record is made when the
 * change ends (@resync).
 */
struct NvmeNsPool {
    BlockBackend *blk;          /* the ns-pool drive */
    NvmeNstbl *tbl;             /* as last written */
    NvmeNstbl *next;            /* the table a command builds */
    uint8_t *buf;               /* one encoded copy */
    bool busy;
    bool resync;                /* formats changed while busy */
};

/* the endurance group of created namespaces: as stock's nvme-ns */
#define NVME_NSMGMT_ENDGID 1

static NvmeNsPool *nvme_nsmgmt_pool(NvmeCtrl *n)
{
    return n->subsys ? n->subsys->pool : NULL;
}

/* Whether @n offers Namespace Management: its subsystem has a pool */
bool nvme_nsmgmt_offered(NvmeCtrl *n)
{
    return nvme_nsmgmt_pool(n);
}

/* ---- the table on the image ---------------------------------------------- */

/* Write @pool->next as the next generation; 0 or -errno */
static int nvme_nsmgmt_write(NvmeNsPool *pool)
{
    NvmeNstbl *t = pool->next;
    size_t len;
    int ret;

    t->generation = pool->tbl->generation + 1;
    len = nvme_nstbl_encode(t, pool->buf);
    ret = blk_pwrite(pool->blk, nvme_nstbl_slot_offset(t->generation), len,
                     pool->buf, 0);
    if (ret >= 0) {
        ret = blk_flush(pool->blk);
    }
    trace_nvme_dev_nsmgmt_write(t->generation, t->count, ret);
    if (ret < 0) {
        return ret;
    }
    *pool->tbl = *t;
    return 0;
}

/* Start a change: pool->next is a copy of the current table */
static NvmeNstbl *nvme_nsmgmt_begin(NvmeNsPool *pool)
{
    *pool->next = *pool->tbl;
    return pool->next;
}

/*
 * Record the formats of created namespaces that the table does not have
 * yet (Format NVM ends asynchronously, maybe during another change)
 */
static int nvme_nsmgmt_sync_formats(NvmeSubsys *s, NvmeNsPool *pool)
{
    NvmeNstbl *t = nvme_nsmgmt_begin(pool);
    bool changed = false;

    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNs *ns = nvme_subsys_ns(s, nsid);
        NvmeNstblEntry *e = ns && ns->nvmcap ? nvme_nstbl_find(t, nsid)
                                             : NULL;

        if (e && (e->lbaf != ns->lbaf || e->nsze != ns->nsze)) {
            e->lbaf = ns->lbaf;
            e->lbads = ns->lbads;
            e->nsze = ns->nsze;
            changed = true;
        }
    }
    return changed ? nvme_nsmgmt_write(pool) : 0;
}

/*
 * End a change that returned @ret (0 or -errno): the formats that changed
 * meanwhile are recorded now.  @ret, or else the -errno of that record.
 */
static int nvme_nsmgmt_leave(NvmeSubsys *s, NvmeNsPool *pool, int ret)
{
    int synced = 0;

    while (pool->resync && !synced) {
        pool->resync = false;
        synced = nvme_nsmgmt_sync_formats(s, pool);
    }
    pool->busy = false;
    trace_nvme_dev_nsmgmt_leave(synced);
    return ret ?: synced;
}

/* ---- namespaces over extents of the pool --------------------------------- */

/* A BlockBackend of @bytes at @start of the pool (a raw node over it) */
static BlockBackend *nvme_nsmgmt_window(NvmeNsPool *pool, uint64_t start,
                                        uint64_t bytes, Error **errp)
{
    BlockDriverState *pool_bs = blk_bs(pool->blk);
    QDict *opts = qdict_new();
    BlockDriverState *bs;
    BlockBackend *blk;

    qdict_put_str(opts, "driver", "raw");
    qdict_put_str(opts, "file", bdrv_get_node_name(pool_bs));
    qdict_put_int(opts, "offset", start);
    qdict_put_int(opts, "size", bytes);
    /* discards reach the pool as its drive's discard= allows */
    bs = bdrv_open(NULL, NULL, opts,
                   BDRV_O_RDWR | (bdrv_get_flags(pool_bs) & BDRV_O_UNMAP),
                   errp);
    if (!bs) {
        return NULL;
    }
    blk = blk_new(qemu_get_aio_context(), 0, BLK_PERM_ALL);
    if (blk_insert_bs(blk, bs, errp) < 0) {
        blk_unref(blk);
        bdrv_unref(bs);
        return NULL;
    }
    bdrv_unref(bs);
    blk_set_enable_write_cache(blk, blk_enable_write_cache(pool->blk));
    return blk;
}

/* The namespace of table entry @e (not yet allocated in the subsystem) */
static NvmeNs *nvme_nsmgmt_ns_new(NvmeNsPool *pool, const NvmeNstblEntry *e,
                                  Error **errp)
{
    g_autofree NvmeNs *ns = g_new0(NvmeNs, 1);
    BlockConf *conf = &ns->blkconf;

    conf->blk = nvme_nsmgmt_window(pool, e->start, e->bytes, errp);
    if (!conf->blk) {
        return NULL;
    }
    /* the defaults of DEFINE_BLOCK_PROPERTIES */
    conf->bootindex = -1;
    conf->discard_granularity = -1;
    conf->wce = ON_OFF_AUTO_AUTO;
    conf->account_invalid = ON_OFF_AUTO_AUTO;
    conf->account_failed = ON_OFF_AUTO_AUTO;
    conf->backend_defaults = ON_OFF_AUTO_AUTO;
    conf->rerror = BLOCKDEV_ON_ERROR_REPORT;
    conf->werror = BLOCKDEV_ON_ERROR_REPORT;
    /*
     * the pool node is written through every namespace's window and the
     * table: each shares WRITE with the others (their ranges never meet)
     */
    conf->share_rw = true;
    conf->logical_block_size = 1u << e->lbads;
    conf->physical_block_size = 1u << e->lbads;
    ns->params.nsid = e->nsid;
    ns->params.shared = e->nmic & NVME_NMIC_SHRNS;
    ns->params.detached = true;         /* attached by nsmgmt, not auto */
    memcpy(ns->params.nguid.data, e->nguid, sizeof(e->nguid));
    memcpy(ns->params.uuid.data, e->uuid, sizeof(e->uuid));
    ns->params.eui64 = ldq_be_p(e->eui64);
    ns->endgid = NVME_NSMGMT_ENDGID;
    ns->nvmcap = nvme_nstbl_extent_bytes(e);
    if (!nvme_ns_setup(ns, NULL, errp)) {
        blk_unref(conf->blk);
        return NULL;
    }
    if (ns->lbaf != e->lbaf) {
        /* the table's format index is the model's for that size */
        error_setg(errp, "ns-pool: namespace %u has LBA format %u, "
                   "not %u", e->nsid, e->lbaf, ns->lbaf);
        blk_unref(conf->blk);
        return NULL;
    }
    return g_steal_pointer(&ns);
}

static void nvme_nsmgmt_ns_free(NvmeNs *ns)
{
    nvme_ns_drain(ns);
    blk_unref(ns->blkconf.blk);
    g_free(ns);
}

/* ---- the nvme-subsys side ------------------------------------------------ */

/*
 * Open the pool of subsystem @s on @blk (ns-pool=): read its table (or
 * start one on a blank image) and allocate the namespaces it lists.
 */
bool nvme_nsmgmt_realize(NvmeSubsys *s, BlockBackend *blk, Error **errp)
{
    ERRP_GUARD();
    g_autofree NvmeNsPool *pool = g_new0(NvmeNsPool, 1);
    g_autofree uint8_t *copy1 = g_malloc(NVME_NSTBL_SLOT_BYTES);
    const char *why = NULL;
    int64_t len;
    int ret;

    if (!blk) {
        return true;
    }
    pool->blk = blk;
    if (blk_set_perm(blk, BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE,
                     BLK_PERM_ALL, errp) < 0) {
        error_prepend(errp, "ns-pool: ");
        return false;
    }
    len = blk_getlength(blk);
    if (len < 0) {
        error_setg_errno(errp, -len, "ns-pool: cannot get the pool's size");
        return false;
    }
    pool->tbl = g_new0(NvmeNstbl, 1);
    pool->next = g_new0(NvmeNstbl, 1);
    pool->buf = g_malloc(NVME_NSTBL_SLOT_BYTES);
    if (!nvme_nstbl_init(pool->tbl, len)) {
        error_setg(errp, "ns-pool: the pool must be larger than %u MiB",
                   (unsigned)(NVME_NSTBL_DATA_START / MiB));
        goto fail;
    }
    ret = blk_pread(blk, nvme_nstbl_slot_offset(0), NVME_NSTBL_SLOT_BYTES,
                    pool->buf, 0);
    if (ret >= 0) {
        ret = blk_pread(blk, nvme_nstbl_slot_offset(1),
                        NVME_NSTBL_SLOT_BYTES, copy1, 0);
    }
    if (ret < 0) {
        error_setg_errno(errp, -ret, "ns-pool: cannot read the namespace "
                         "table");
        goto fail;
    }
    switch (nvme_nstbl_load(pool->buf, copy1, pool->tbl, &why)) {
    case 0:
        break;
    case 1:
        /*
         * a blank image: write generation 0 of an empty table (the one
         * before it, as nvme_nsmgmt_write counts, is UINT64_MAX)
         */
        *pool->next = *pool->tbl;
        pool->tbl->generation = UINT64_MAX;
        ret = nvme_nsmgmt_write(pool);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "ns-pool: cannot write the "
                             "namespace table");
            goto fail;
        }
        break;
    default:
        error_setg(errp, "ns-pool: the image is not a namespace pool (%s) "
                   "and not blank; refusing to overwrite it", why);
        goto fail;
    }
    trace_nvme_dev_nsmgmt_pool(pool->tbl->generation, pool->tbl->count,
                               nvme_nstbl_total(pool->tbl),
                               nvme_nstbl_unallocated(pool->tbl));
    for (uint32_t i = 0; i < pool->tbl->count; i++) {
        NvmeNs *ns = nvme_nsmgmt_ns_new(pool, &pool->tbl->e[i], errp);

        if (!ns) {
            goto fail;
        }
        if (!nvme_subsys_ns_add(s, ns, errp)) {
            nvme_nsmgmt_ns_free(ns);
            goto fail;
        }
    }
    s->pool = g_steal_pointer(&pool);
    return true;

fail:
    g_free(pool->tbl);
    g_free(pool->next);
    g_free(pool->buf);
    return false;
}

/*
 * Whether controller @n, joining @s, has @ns attached as the table
 * records (a created namespace; others: false)
 */
bool nvme_nsmgmt_attached_at_start(NvmeSubsys *s, NvmeNs *ns, NvmeCtrl *n)
{
    NvmeNstblEntry *e;

    if (!s->pool || !ns->nvmcap) {
        return false;
    }
    e = nvme_nstbl_find(s->pool->tbl, ns->params.nsid);
    return e && nvme_nstbl_attached(e, n->cntlid);
}

/*
 * Namespace Attachment is about to attach (or detach) @ns to (from) the
 * @count controllers @ctrls: record it.  NVME_SUCCESS; Namespace Is
 * Private when a private namespace is recorded attached to a controller
 * that is not there now (it stays attached to it, as on a real drive
 * whose controller is offline); Internal Error when the table cannot be
 * written.  Nothing changes unless NVME_SUCCESS.
 */
uint16_t nvme_nsmgmt_attach_changed(NvmeSubsys *s, NvmeNs *ns,
                                    NvmeCtrl **ctrls, unsigned count,
                                    bool attach)
{
    NvmeNstbl *t;
    NvmeNstblEntry *e;

    if (!s->pool || !ns->nvmcap) {
        return NVME_SUCCESS;
    }
    if (s->pool->busy) {
        return NVME_COMMAND_INTERRUPTED;
    }
    t = nvme_nsmgmt_begin(s->pool);
    e = nvme_nstbl_find(t, ns->params.nsid);
    if (!e) {
        return NVME_SUCCESS;
    }
    for (unsigned i = 0; i < count; i++) {
        if (attach && !(e->nmic & NVME_NMIC_SHRNS) && e->nctrl) {
            return NVME_NS_IS_PRIVATE;
        }
        if (attach) {
            if (!nvme_nstbl_attach(e, ctrls[i]->cntlid) &&
                !nvme_nstbl_attached(e, ctrls[i]->cntlid)) {
                return NVME_INTERNAL_ERROR;     /* entry full */
            }
        } else {
            nvme_nstbl_detach(e, ctrls[i]->cntlid);
        }
    }
    s->pool->busy = true;
    return nvme_nsmgmt_leave(s, s->pool, nvme_nsmgmt_write(s->pool)) < 0
           ? NVME_INTERNAL_ERROR : NVME_SUCCESS;
}

/*
 * Format NVM gave created namespace @ns another LBA format: record it, so
 * that a restart brings the namespace back in that format.  0 or -errno.
 */
int nvme_nsmgmt_format_changed(NvmeCtrl *n, NvmeNs *ns)
{
    NvmeNsPool *pool = nvme_nsmgmt_pool(n);

    if (!pool || !ns->nvmcap) {
        return 0;
    }
    pool->resync = true;
    if (pool->busy) {
        /* recorded when the change under way ends */
        return 0;
    }
    pool->busy = true;
    return nvme_nsmgmt_leave(n->subsys, pool, 0);
}

/* ---- Identify ------------------------------------------------------------ */

/* Identify Controller: TNVMCAP and UNVMCAP (Base 5.17.2.1) */
void nvme_nsmgmt_id_ctrl(NvmeCtrl *n, NvmeIdCtrl *id)
{
    NvmeNsPool *pool = nvme_nsmgmt_pool(n);

    if (!pool) {
        return;
    }
    stq_le_p(id->tnvmcap, nvme_nstbl_total(pool->tbl));
    stq_le_p(id->unvmcap, nvme_nstbl_unallocated(pool->tbl));
}

/*
 * Identify Namespace for NSID FFFFFFFFh: the capabilities common to every
 * namespace, here the LBA formats a namespace can be created with.
 * False when Namespace Management is not offered.
 */
bool nvme_nsmgmt_id_ns_common(NvmeCtrl *n, NvmeIdNs *id)
{
    uint8_t count = 0;

    if (!nvme_nsmgmt_offered(n)) {
        return false;
    }
    memset(id, 0, sizeof(*id));
    for (uint8_t i = 0; i < NVME_NUM_LBAF; i++) {
        id->lbaf[i].lbads = nvme_ns_new_lbads(i);
        if (id->lbaf[i].lbads) {
            count = i + 1;
        }
    }
    id->nlbaf = count - 1;
    id->nmic = NVME_NMIC_SHRNS;
    return true;
}

/* ---- Namespace Management (0Dh) ------------------------------------------ */

static void nvme_nsmgmt_random_ids(NvmeNstblEntry *e)
{
    QemuUUID uuid;

    qemu_uuid_generate(&uuid);          /* version 4 */
    memcpy(e->uuid, uuid.data, sizeof(e->uuid));
    qemu_guest_getrandom_nofail(e->nguid, sizeof(e->nguid));
}

/*
 * Parse and check the host data of a create (the Identify Namespace
 * layout: NSZE, NCAP, FLBAS, DPS, NMIC, ANAGRPID, NVMSETID, ENDGID) into
 * @e; NVME_SUCCESS or the status to end the command with.
 */
static uint16_t nvme_nsmgmt_parse_create(NvmeCtrl *n, NvmeRequest *req,
                                         const NvmeIdNs *hd,
                                         NvmeNstblEntry *e)
{
    uint64_t nsze = le64_to_cpu(hd->nsze), ncap = le64_to_cpu(hd->ncap);
    uint8_t lbaf = FIELD_EX32(hd->flbas, NVME_FLBAS, LBAFU) << 4 |
                   FIELD_EX32(hd->flbas, NVME_FLBAS, LBAFL);
    uint16_t endgid = le16_to_cpu(hd->endgid);

    if (FIELD_EX32(hd->flbas, NVME_FLBAS, EXTENDED) ||
        !nvme_ns_new_lbads(lbaf)) {
        return nvme_err_guest(n, req, NVME_INVALID_FORMAT,
                              "namespace management: FLBAS 0x%x",
                              hd->flbas);
    }
    if (hd->dps) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "namespace management: DPS 0x%x (no "
                              "protection information)", hd->dps);
    }
    if (hd->nmic & ~NVME_NMIC_SHRNS) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "namespace management: NMIC 0x%x", hd->nmic);
    }
    if (hd->anagrpid || hd->nvmsetid ||
        (endgid && endgid != NVME_NSMGMT_ENDGID)) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "namespace management: ANAGRPID %u "
                              "NVMSETID %u ENDGID %u",
                              le32_to_cpu(hd->anagrpid),
                              le16_to_cpu(hd->nvmsetid), endgid);
    }
    if (!nsze) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "namespace management: NSZE 0");
    }
    if (ncap != nsze) {
        return nvme_err_guest(n, req, NVME_THIN_PROV_NOT_SUPPORTED,
                              "namespace management: NCAP %" PRIu64
                              " != NSZE %" PRIu64, ncap, nsze);
    }
    memset(e, 0, sizeof(*e));
    e->lbaf = lbaf;
    e->lbads = nvme_ns_new_lbads(lbaf);
    e->nsze = nsze;
    e->nmic = hd->nmic;
    return NVME_SUCCESS;
}

static uint16_t nvme_nsmgmt_create(NvmeCtrl *n, NvmeRequest *req,
                                   NvmeNsPool *pool)
{
    g_autofree NvmeIdNs *hd = g_new0(NvmeIdNs, 1);
    NvmeCmdNsMgmt c = nvme_cmd_ns_mgmt(&req->cmd);
    NvmeSubsys *s = n->subsys;
    Error *err = NULL;
    NvmeNstblEntry e;
    NvmeNstbl *t;
    NvmeNs *ns;
    uint16_t status;
    int ret;

    if (c.csi != NVME_CSI_NVM) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "namespace management: CSI 0x%x", c.csi);
    }
    status = nvme_dma_from_guest(req, hd, sizeof(*hd));
    if (status) {
        return status;
    }
    status = nvme_nsmgmt_parse_create(n, req, hd, &e);
    if (status) {
        return status;
    }
    e.nsid = nvme_subsys_free_nsid(s);
    t = nvme_nsmgmt_begin(pool);
    if (!e.nsid || t->count == NVME_NSTBL_MAX_ENTRIES) {
        return nvme_err_guest(n, req, NVME_NS_ID_UNAVAILABLE,
                              "namespace management: no free nsid");
    }
    /* the first test keeps the shift from overflowing */
    if (e.nsze > nvme_nstbl_total(t) >> e.lbads ||
        !nvme_nstbl_alloc(t, e.nsze << e.lbads, &e.start)) {
        return nvme_err_guest(n, req, NVME_NS_INSUFFICIENT_CAPACITY,
                              "namespace management: no room for %" PRIu64
                              " blocks of %u bytes (%" PRIu64 " unallocated)",
                              e.nsze, 1u << e.lbads,
                              nvme_nstbl_unallocated(t));
    }
    e.bytes = e.nsze << e.lbads;
    nvme_nsmgmt_random_ids(&e);
    ns = nvme_nsmgmt_ns_new(pool, &e, &err);
    if (!ns) {
        status = nvme_err_guest(n, req, NVME_INTERNAL_ERROR,
                                "namespace management: %s",
                                error_get_pretty(err));
        error_free(err);
        return status;
    }
    /* never show a deleted namespace's data */
    ret = blk_pwrite_zeroes(ns->blkconf.blk, 0, e.bytes, BDRV_REQ_MAY_UNMAP);
    if (ret >= 0) {
        ret = nvme_nstbl_add(t, &e) ? nvme_nsmgmt_write(pool) : -EINVAL;
    }
    if (ret < 0) {
        nvme_nsmgmt_ns_free(ns);
        return nvme_err_guest(n, req, NVME_INTERNAL_ERROR,
                              "namespace management: cannot set up the "
                              "namespace: %s", strerror(-ret));
    }
    if (!nvme_subsys_ns_add(s, ns, &err)) {
        /* the nsid was free: not reached; undo the table entry */
        nvme_nstbl_remove(nvme_nsmgmt_begin(pool), e.nsid);
        nvme_nsmgmt_write(pool);
        nvme_nsmgmt_ns_free(ns);
        status = nvme_err_guest(n, req, NVME_INTERNAL_ERROR,
                                "namespace management: %s",
                                error_get_pretty(err));
        error_free(err);
        return status;
    }
    trace_nvme_dev_nsmgmt_create(e.nsid, e.nsze, 1u << e.lbads, e.start,
                                 e.nmic);
    req->dw0 = e.nsid;
    return NVME_SUCCESS;
}

/* Whether @nsid is a namespace Namespace Management created */
static NvmeNs *nvme_nsmgmt_created(NvmeSubsys *s, uint32_t nsid)
{
    NvmeNs *ns = nvme_subsys_ns(s, nsid);

    return ns && ns->nvmcap && nvme_nstbl_find(s->pool->tbl, nsid) ? ns
                                                                   : NULL;
}

static uint16_t nvme_nsmgmt_delete(NvmeCtrl *n, NvmeRequest *req,
                                   NvmeNsPool *pool)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    NvmeSubsys *s = n->subsys;
    NvmeNs *victims[NVME_MAX_NAMESPACES];
    unsigned count = 0;
    NvmeNstbl *t = nvme_nsmgmt_begin(pool);

    if (nsid == NVME_NSID_BROADCAST) {
        for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
            NvmeNs *ns = nvme_nsmgmt_created(s, i);

            if (ns) {
                victims[count++] = ns;
            }
        }
    } else if (!nsid || !nvme_subsys_ns(s, nsid)) {
        return nvme_err_guest(n, req, NVME_INVALID_NSID,
                              "namespace management: delete nsid 0x%x "
                              "(not allocated)", nsid);
    } else if (!nvme_nsmgmt_created(s, nsid)) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "namespace management: nsid %u is given on "
                              "the command line, not created", nsid);
    } else {
        victims[count++] = nvme_subsys_ns(s, nsid);
    }
    for (unsigned i = 0; i < count; i++) {
        nvme_nstbl_remove(t, victims[i]->params.nsid);
    }
    if (count && nvme_nsmgmt_write(pool) < 0) {
        return nvme_err_guest(n, req, NVME_INTERNAL_ERROR,
                              "namespace management: cannot write the "
                              "namespace table");
    }
    for (unsigned i = 0; i < count; i++) {
        trace_nvme_dev_nsmgmt_delete(victims[i]->params.nsid);
        /*
         * detached from every controller first, each told, so that no
         * controller submits more I/O to it while it is drained
         */
        for (unsigned id = 0; id < NVME_SUBSYS_MAX_CTRLS; id++) {
            NvmeCtrl *c = nvme_subsys_ctrl(s, id);

            if (c && nvme_subsys_ns_attached(victims[i], c)) {
                nvme_subsys_ns_detach(s, victims[i], c);
            }
        }
    }
    /*
     * A command that found a victim before the detach may still use it
     * between two block requests (a Copy goes range by range, and
     * blk_drain() returns with its next request queued): wait for every
     * command of every controller that is in the block layer.
     */
    for (unsigned id = 0; count && id < NVME_SUBSYS_MAX_CTRLS; id++) {
        NvmeCtrl *c = nvme_subsys_ctrl(s, id);

        if (c) {
            nvme_engine_drain(c);
        }
    }
    for (unsigned i = 0; i < count; i++) {
        nvme_subsys_ns_remove(s, victims[i]);
        nvme_nsmgmt_ns_free(victims[i]);
    }
    return NVME_SUCCESS;
}

uint16_t nvme_nsmgmt_cmd(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdNsMgmt c = nvme_cmd_ns_mgmt(&req->cmd);
    NvmeNsPool *pool = nvme_nsmgmt_pool(n);
    uint16_t status;

    if (!pool) {
        return nvme_err_guest(n, req, NVME_INVALID_OPCODE,
                              "namespace management without an ns-pool");
    }
    trace_nvme_dev_nsmgmt(c.sel, le32_to_cpu(req->cmd.nsid));
    if (c.sel != NVME_NSMGMT_CREATE && c.sel != NVME_NSMGMT_DELETE) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "namespace management: SEL %u", c.sel);
    }
    if (pool->busy) {
        return nvme_err_guest(n, req, NVME_COMMAND_INTERRUPTED,
                              "namespace management while another change "
                              "of the namespace table is under way");
    }
    pool->busy = true;
    status = c.sel == NVME_NSMGMT_CREATE ? nvme_nsmgmt_create(n, req, pool)
                                         : nvme_nsmgmt_delete(n, req, pool);
    /* formats that ended meanwhile; the command's own status stands */
    nvme_nsmgmt_leave(n->subsys, pool, 0);
    return status;
}
