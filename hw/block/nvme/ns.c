/*
 * NVMe namespaces: the nvme-ns device and the namespace model shared with
 * the controller's drive= shorthand (NVMe Base Specification 2.0c section
 * 3.2.1, NVM Command Set Specification 1.0c section 4.1.5).
 *
 * A namespace is a QEMU block backend read and written in logical blocks
 * of 512 B to 2 MiB (any size QEMU's logical_block_size takes), each with
 * ms bytes of metadata (NVM 5.2.1).  The LBA format list has stock
 * QEMU's indices: 512 B with 0/8/16/64 bytes of metadata are formats 0-3,
 * 4 KiB formats 4-7, any other logical_block_size/ms pair is added as
 * format 8.  The metadata of block n is at nsze * lbasize + n * ms of the
 * data image (stock's layout), or at n * ms of the meta-drive.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/module.h"
#include "qemu/cutils.h"
#include "qemu/guest-random.h"
#include "qemu/units.h"
#include "qapi/visitor.h"
#include "qemu/ctype.h"
#include "block/block-io.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "system/block-backend.h"
#include "system/system.h"
#include "nvme.h"
#include "trace.h"

/* LBA format slots, by index, as stock QEMU numbers them */
enum {
    NVME_NS_LBAF_STOCK  = 8,        /* stock's formats 0-7 */
};

/* LBADS (log2 of the logical block size) of those formats */
enum {
    NVME_NS_LBADS_512   = 9,
    NVME_NS_LBADS_4K    = 12,
};

/*
 * Stock's LBA formats 0-7: 512 B and 4 KiB blocks, each with 0, 8, 16
 * and 64 bytes of metadata.  A logical_block_size/ms pair not among them
 * is added as format 8.
 */
static const struct {
    uint8_t lbads;
    uint16_t ms;
} nvme_ns_lbafs[NVME_NS_LBAF_STOCK] = {
    { NVME_NS_LBADS_512, 0 }, { NVME_NS_LBADS_512, 8 },
    { NVME_NS_LBADS_512, 16 }, { NVME_NS_LBADS_512, 64 },
    { NVME_NS_LBADS_4K, 0 }, { NVME_NS_LBADS_4K, 8 },
    { NVME_NS_LBADS_4K, 16 }, { NVME_NS_LBADS_4K, 64 },
};

/* stock's default discard granule, in bytes */
#define NVME_NS_DISCARD_MIN (4 * KiB)

/* stock's Copy limits of an nvme-ns: blocks per range, per Copy, ranges */
enum {
    NVME_NS_MSSRL_DEFAULT = 128,
    NVME_NS_MCL_DEFAULT = 128,
    NVME_NS_MSRC_DEFAULT = 127,     /* 0's based: 128 ranges */
};
/* stock's automatic EUI-64s: this base plus a per-process count */
#define NVME_NS_EUI64_DEFAULT_BASE 0x5254000000000000ull

/* RFC 4122 section 4.1.3 / 4.1.1: version 4 and variant 10b */
enum {
    NVME_NS_UUID_VERSION_BYTE = 6,
    NVME_NS_UUID_VERSION_MASK = 0x0f,
    NVME_NS_UUID_VERSION_4 = 0x40,
    NVME_NS_UUID_VARIANT_BYTE = 8,
    NVME_NS_UUID_VARIANT_MASK = 0x3f,
    NVME_NS_UUID_VARIANT_RFC = 0x80,
    NVME_NS_SHA256_BYTES = 32,
    NVME_NS_DIGEST_IDS = 16,        /* EUI-64 and UUID from digest[16..] */
};

/* EUI-64 company id prefix of derived ids: the QEMU OUI */
static const uint8_t nvme_ns_oui[3] = { 0x52, 0x54, 0x00 };

bool nvme_ns_lbaf_valid(NvmeNs *ns, uint8_t lbaf)
{
    return lbaf < ns->nlbaf && ns->lbaf_lbads[lbaf];
}

/*
 * LBADS of LBA format @lbaf for a namespace created with Namespace
 * Management (nsmgmt.c): the standard formats without metadata every
 * namespace offers; 0 for an index that is not one.
 */
uint8_t nvme_ns_new_lbads(uint8_t lbaf)
{
    if (lbaf >= NVME_NS_LBAF_STOCK || nvme_ns_lbafs[lbaf].ms) {
        return 0;
    }
    return nvme_ns_lbafs[lbaf].lbads;
}

/* Fill the LBA format list for blocks of 2^@lbads with @ms metadata */
static void nvme_ns_init_lbafs(NvmeNs *ns, uint8_t lbads, uint16_t ms)
{
    memset(ns->lbaf_lbads, 0, sizeof(ns->lbaf_lbads));
    memset(ns->lbaf_ms, 0, sizeof(ns->lbaf_ms));
    ns->nlbaf = NVME_NS_LBAF_STOCK;
    for (uint8_t i = 0; i < ns->nlbaf; i++) {
        ns->lbaf_lbads[i] = nvme_ns_lbafs[i].lbads;
        ns->lbaf_ms[i] = nvme_ns_lbafs[i].ms;
    }
    for (uint8_t i = 0; i < ns->nlbaf; i++) {
        if (ns->lbaf_lbads[i] == lbads && ns->lbaf_ms[i] == ms) {
            ns->lbaf = i;
            return;
        }
    }
    ns->lbaf = ns->nlbaf++;
    ns->lbaf_lbads[ns->lbaf] = lbads;
    ns->lbaf_ms[ns->lbaf] = ms;
}

/*
 * Preferred deallocation granule in bytes: the discard granularity, or
 * the image's cluster size when that is larger (as stock reports it).
 */
static uint32_t nvme_ns_discard_granule(NvmeNs *ns)
{
    BlockDriverState *bs = blk_bs(ns->blkconf.blk);
    BlockDriverInfo bdi;
    uint32_t dg = ns->blkconf.discard_granularity;

    /* an empty drive (no medium) has no image to ask */
    if (bs && bdrv_get_info(bs, &bdi) >= 0 &&
        bdi.cluster_size > 0 && (uint32_t)bdi.cluster_size > dg) {
        dg = bdi.cluster_size;
    }
    return dg;
}

/*
 * Blocks that fit the backend(s) with metadata of @ms bytes per block of
 * 2^@lbads: with a meta-drive the data image holds data only; otherwise
 * the metadata of all blocks follows the data, as stock lays it out.
 */
static uint64_t nvme_ns_blocks(NvmeNs *ns, uint8_t lbads, uint16_t ms)
{
    int64_t len = blk_getlength(ns->blkconf.blk);
    uint64_t nsze;

    if (len <= 0) {
        return 0;
    }
    if (ns->params.meta_blk) {
        int64_t mlen = blk_getlength(ns->params.meta_blk);

        nsze = (uint64_t)len >> lbads;
        if (ms && (mlen < 0 || nsze > (uint64_t)mlen / ms)) {
            return 0;
        }
        return nsze;
    }
    return (uint64_t)len / ((1ull << lbads) + ms);
}

/* Recompute the size in logical blocks for the current format */
static void nvme_ns_resize(NvmeNs *ns)
{
    ns->lbads = ns->lbaf_lbads[ns->lbaf];
    ns->ms = ns->lbaf_ms[ns->lbaf];
    ns->nsze = nvme_ns_blocks(ns, ns->lbads, ns->ms);
    ns->discard_granule = nvme_ns_discard_granule(ns);
    if (ns->params.meta_blk) {
        ns->md_blk = ns->params.meta_blk;
        ns->md_offset = 0;
    } else {
        ns->md_blk = ns->blkconf.blk;
        ns->md_offset = ns->nsze << ns->lbads;
    }
}

/*
 * The metadata properties: stock's ranges and, where stock refuses a
 * combination, stock's message.  As stock, mset and pil are flags (any
 * non-zero value sets them) and pif is only checked when pi enables
 * protection information (tests/compat/bounds.txt).
 */
static bool nvme_ns_check_md_params(NvmeNs *ns, Error **errp)
{
    NvmeNsParams *p = &ns->params;
    unsigned tuple = nvme_pi_tuple_size(p->pif);

    if (p->pi > NVME_PI_TYPE3) {
        error_setg(errp, "pi must be 0 (none) or a protection information "
                   "type 1..3, not %u", p->pi);
        return false;
    }
    if (p->pi && (p->pif > NVME_PIF_64B || !tuple)) {
        error_setg(errp, "pif must be 0 (16b guard) or 2 (64b guard), "
                   "not %u", p->pif);
        return false;
    }
    if (p->pi && p->ms < tuple) {
        error_setg(errp, "at least %u bytes of metadata required to enable "
                   "protection information", tuple);
        return false;
    }
    if (p->meta_blk && !p->ms) {
        error_setg(errp, "meta-drive needs metadata (ms > 0)");
        return false;
    }
    return true;
}

/* The meta-drive: written by the namespace, its size checked */
static bool nvme_ns_setup_meta_drive(NvmeNs *ns, bool read_only,
                                     Error **errp)
{
    BlockBackend *mb = ns->params.meta_blk;
    uint64_t perm = BLK_PERM_CONSISTENT_READ | (read_only ? 0 :
                                                 BLK_PERM_WRITE);
    int64_t mlen;
    uint64_t need;

    if (!mb) {
        return true;
    }
    if (blk_set_perm(mb, perm, BLK_PERM_ALL, errp) < 0) {
        return false;
    }
    mlen = blk_getlength(mb);
    if (mlen < 0) {
        error_setg_errno(errp, -mlen, "meta-drive: could not get its size");
        return false;
    }
    need = ((uint64_t)blk_getlength(ns->blkconf.blk) >>
            ctz32(ns->blkconf.logical_block_size)) * ns->params.ms;
    if ((uint64_t)mlen < need) {
        error_setg(errp, "meta-drive is %" PRId64 " bytes: %" PRIu64
                   " needed (%u bytes of metadata per block)", mlen, need,
                   ns->params.ms);
        return false;
    }
    return true;
}

bool nvme_ns_setup(NvmeNs *ns, NvmeCtrl *n, Error **errp)
{
    ERRP_GUARD();
    BlockConf *conf = &ns->blkconf;
    static uint64_t ns_count;   /* namespaces set up in this process */
    bool read_only;
    uint32_t lbs;
    int64_t len;

    if (!conf->blk) {
        error_setg(errp, "drive property is required");
        return false;
    }
    if (!blkconf_blocksizes(conf, errp)) {
        return false;
    }
    read_only = !blk_supports_write_perm(conf->blk);
    /*
     * No rerror/werror device properties (stock has none): the drive's
     * own error actions stay (-drive werror=, rerror=), where a zeroed
     * BlockConf would reset them to report
     */
    conf->rerror = BLOCKDEV_ON_ERROR_AUTO;
    conf->werror = BLOCKDEV_ON_ERROR_AUTO;
    if (!blkconf_apply_backend_options(conf, read_only, false, errp)) {
        return false;
    }
    /* query-block io-status follows the errors the error actions see */
    blk_iostatus_enable(conf->blk);
    /* an empty drive (no medium) is refused, with stock's message */
    len = blk_getlength(conf->blk);
    if (len < 0) {
        error_setg_errno(errp, -len, "could not get blockdev size");
        return false;
    }
    /* blkconf_blocksizes checked: a power of 2 in 512 B..2 MiB */
    lbs = conf->logical_block_size;
    if (conf->discard_granularity == (uint32_t)-1) {
        conf->discard_granularity = MAX(lbs, NVME_NS_DISCARD_MIN);
    }
    if (!nvme_ns_check_md_params(ns, errp) ||
        !nvme_ns_setup_meta_drive(ns, read_only, errp)) {
        return false;
    }
    nvme_ns_init_lbafs(ns, ctz32(lbs), ns->params.ms);
    ns->mset = ns->params.mset;
    ns->pi_type = ns->params.pi;
    /* without PI an unsupported pif means nothing: the 16b format */
    ns->pif = nvme_pi_tuple_size(ns->params.pif) ? ns->params.pif
                                                 : NVME_PIF_16B;
    /* as stock, DPS reports PIL only with PI enabled */
    ns->pil = ns->params.pi && ns->params.pil;
    nvme_ns_resize(ns);
    if (!ns->nsze) {
        error_setg(errp, "drive is smaller than one %u-byte block",
                   conf->logical_block_size);
        return false;
    }
    ns->ctrl = n;

    /* ids given as properties, or stock's automatic EUI-64 */
    ns_count++;
    ns->uuid = ns->params.uuid;
    memcpy(ns->nguid, ns->params.nguid.data, sizeof(ns->nguid));
    if (!ns->params.eui64 && ns->params.eui64_default) {
        ns->params.eui64 = NVME_NS_EUI64_DEFAULT_BASE + ns_count;
    }
    stq_be_p(ns->eui64, ns->params.eui64);
    return true;
}

/*
 * derive-ns-ids=on (nvqemu's own, off by default): identifiers unique
 * per (serial, nsid) for those not given as properties, taken from a
 * SHA-256 of both, so two controllers with different serials never
 * report the same ids.
 */
void nvme_ns_derive_ids(NvmeNs *ns, const char *serial)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree char *key = g_strdup_printf("nvqemu-ns:%s:%u", serial,
                                           ns->params.nsid);
    uint8_t digest[NVME_NS_SHA256_BYTES];
    gsize dlen = sizeof(digest);

    g_checksum_update(sum, (const guchar *)key, strlen(key));
    g_checksum_get_digest(sum, digest, &dlen);

    if (buffer_is_zero(ns->nguid, sizeof(ns->nguid))) {
        memcpy(ns->nguid, digest, sizeof(ns->nguid));
    }
    if (buffer_is_zero(ns->eui64, sizeof(ns->eui64))) {
        memcpy(ns->eui64, nvme_ns_oui, sizeof(nvme_ns_oui));
        memcpy(ns->eui64 + sizeof(nvme_ns_oui), digest + NVME_NS_DIGEST_IDS,
               sizeof(ns->eui64) - sizeof(nvme_ns_oui));
    }
    if (qemu_uuid_is_null(&ns->uuid)) {
        uint8_t *u = ns->uuid.data;

        memcpy(u, digest + NVME_NS_DIGEST_IDS, sizeof(ns->uuid.data));
        u[NVME_NS_UUID_VERSION_BYTE] =
            (u[NVME_NS_UUID_VERSION_BYTE] & NVME_NS_UUID_VERSION_MASK) |
            NVME_NS_UUID_VERSION_4;
        u[NVME_NS_UUID_VARIANT_BYTE] =
            (u[NVME_NS_UUID_VARIANT_BYTE] & NVME_NS_UUID_VARIANT_MASK) |
            NVME_NS_UUID_VARIANT_RFC;
    }
}

void nvme_ns_identify(NvmeNs *ns, NvmeIdNs *id)
{
    memset(id, 0, sizeof(*id));
    id->nsze = cpu_to_le64(ns->nsze);
    id->ncap = cpu_to_le64(ns->nsze);
    id->nuse = cpu_to_le64(ns->nsze);
    /* DULBE: deallocated blocks are found through the block layer */
    id->nsfeat = NVME_NSFEAT_OPTPERF | NVME_NSFEAT_DAE;
    id->nlbaf = ns->nlbaf - 1;
    id->flbas = FIELD_DP32(0, NVME_FLBAS, LBAFL, ns->lbaf);
    id->flbas = FIELD_DP32(id->flbas, NVME_FLBAS, EXTENDED, ns->mset);
    /* any format may be extended or separate, with any PI type/place */
    id->mc = NVME_MC_EXTENDED | NVME_MC_SEPARATE;
    id->dpc = NVME_DPC_TYPE1 | NVME_DPC_TYPE2 | NVME_DPC_TYPE3 |
              NVME_DPC_FIRST | NVME_DPC_LAST;
    id->dps = FIELD_DP32(0, NVME_DPS, PIT, ns->pi_type);
    id->dps = FIELD_DP32(id->dps, NVME_DPS, PIP, ns->pil);
    /* shared (attachable to several controllers), as stock reports it */
    id->nmic = ns->params.shared ? NVME_NMIC_SHRNS : 0;
    id->endgid = cpu_to_le16(ns->endgid);
    /* deallocation is done with zeroes that may unmap (see io.c) */
    id->dlfeat = NVME_DLFEAT_READ_ZEROES | NVME_DLFEAT_WZ_DEAC;
    /*
     * NPDG/NPDA are 0's based counts of logical blocks.  NPWG/NPWA stay
     * 0 (one block) whatever physical_block_size says, as stock reports
     * them.
     */
    id->npdg = cpu_to_le16(MAX(ns->discard_granule >> ns->lbads, 1u) - 1);
    id->npda = id->npdg;
    /* a created namespace's extent in the pool (nsmgmt.c); else 0 */
    stq_le_p(id->nvmcap, ns->nvmcap);
    id->mssrl = cpu_to_le16(ns->params.mssrl);
    id->mcl = cpu_to_le32(ns->params.mcl);
    id->msrc = ns->params.msrc;
    memcpy(id->nguid, ns->nguid, sizeof(id->nguid));
    memcpy(id->eui64, ns->eui64, sizeof(id->eui64));
    for (int i = 0; i < ns->nlbaf; i++) {
        id->lbaf[i].lbads = ns->lbaf_lbads[i];
        id->lbaf[i].ms = cpu_to_le16(ns->lbaf_ms[i]);
    }
}

/*
 * I/O Command Set specific Identify Namespace (CNS 05h, CSI 00h): no
 * storage tags (LBSTM, PIC, STS 0); every format has the namespace's
 * protection information format.
 */
void nvme_ns_identify_nvm(NvmeNs *ns, NvmeIdNsNvm *id)
{
    memset(id, 0, sizeof(*id));
    for (int i = 0; i < ns->nlbaf; i++) {
        id->elbaf[i] = cpu_to_le32(FIELD_DP32(0, NVME_ELBAF, PIF, ns->pif));
    }
}

/*
 * Whether Format NVM may give @ns format @lbaf with this PI setting:
 * the PI tuple must fit the format's metadata, and a meta-drive must
 * hold the metadata of every block.
 */
uint16_t nvme_ns_format_check(NvmeNs *ns, uint8_t lbaf, bool mset,
                              uint8_t pi, bool pil)
{
    if (!nvme_ns_lbaf_valid(ns, lbaf)) {
        return NVME_INVALID_FORMAT;
    }
    if (pi > NVME_PI_TYPE3) {
        return NVME_INVALID_FIELD;
    }
    if (pi && ns->lbaf_ms[lbaf] < nvme_pi_tuple_size(ns->pif)) {
        return NVME_INVALID_FORMAT;
    }
    if (ns->nvmcap && ns->lbaf_ms[lbaf]) {
        /*
         * a created namespace has no metadata, as nvme_ns_new_lbads()
         * allows at creation: its table entry (nsmgmt.c) records none
         */
        return NVME_INVALID_FORMAT;
    }
    if (!nvme_ns_blocks(ns, ns->lbaf_lbads[lbaf], ns->lbaf_ms[lbaf])) {
        return NVME_INVALID_FORMAT;
    }
    return NVME_SUCCESS;
}

uint16_t nvme_ns_format(NvmeNs *ns, uint8_t lbaf, bool mset, uint8_t pi,
                       bool pil)
{
    uint16_t status = nvme_ns_format_check(ns, lbaf, mset, pi, pil);

    if (status) {
        return status;
    }
    ns->lbaf = lbaf;
    ns->mset = mset;
    ns->pi_type = pi;
    ns->pil = pil;
    nvme_ns_resize(ns);
    trace_nvme_dev_ns_format(ns->params.nsid, lbaf, ns->nsze);
    return NVME_SUCCESS;
}

/* ---- blocks and their metadata (for io.c and copy.c) -------------------- */

/* Byte offset of block @lba's metadata in ns->md_blk */
int64_t nvme_ns_md_offset(NvmeNs *ns, uint64_t lba)
{
    return ns->md_offset + lba * ns->ms;
}

int coroutine_fn nvme_ns_co_read(NvmeNs *ns, uint64_t slba, uint32_t nlb,
                                uint8_t *data, uint8_t *meta)
{
    int ret = blk_co_pread(ns->blkconf.blk, slba << ns->lbads,
                           (int64_t)nlb << ns->lbads, data, 0);

    if (!ret && ns->ms) {
        ret = blk_co_pread(ns->md_blk, nvme_ns_md_offset(ns, slba),
                           (int64_t)nlb * ns->ms, meta, 0);
    }
    return ret;
}

int coroutine_fn nvme_ns_co_write(NvmeNs *ns, uint64_t slba, uint32_t nlb,
                                 const uint8_t *data, const uint8_t *meta,
                                 BdrvRequestFlags flags)
{
    int ret = blk_co_pwrite(ns->blkconf.blk, slba << ns->lbads,
                            (int64_t)nlb << ns->lbads, data, flags);

    if (!ret && ns->ms) {
        ret = blk_co_pwrite(ns->md_blk, nvme_ns_md_offset(ns, slba),
                            (int64_t)nlb * ns->ms, meta, flags);
    }
    return ret;
}

/*
 * Deallocated or unwritten blocks in [@slba, @slba + @nlb), from the
 * block layer's block status (a hole, a zero cluster, or no data): the
 * whole blocks among them are marked in @dealloc (one bool per block).
 * Returns how many, or a negative errno.
 */
int64_t coroutine_fn nvme_ns_co_dealloc(NvmeNs *ns, uint64_t slba,
                                        uint32_t nlb, bool *dealloc)
{
    int64_t off = slba << ns->lbads;
    int64_t end = off + ((int64_t)nlb << ns->lbads);
    int64_t count = 0;

    while (off < end) {
        int64_t pnum = 0;
        int ret = blk_co_block_status_above(ns->blkconf.blk, NULL, off,
                                            end - off, &pnum, NULL, NULL);

        if (ret < 0) {
            return ret;
        }
        if (pnum <= 0) {
            break;
        }
        if (ret & BDRV_BLOCK_ZERO || !(ret & BDRV_BLOCK_DATA)) {
            uint64_t first = DIV_ROUND_UP(off, 1ull << ns->lbads);
            uint64_t last = (uint64_t)(off + pnum) >> ns->lbads;

            for (uint64_t b = first; b < last; b++) {
                dealloc[b - slba] = true;
                count++;
            }
        }
        off += pnum;
    }
    return count;
}

void nvme_ns_drain(NvmeNs *ns)
{
    blk_drain(ns->blkconf.blk);
    if (ns->params.meta_blk) {
        blk_drain(ns->params.meta_blk);
    }
}

void nvme_ns_flush_sync(NvmeNs *ns)
{
    if (blk_is_available(ns->blkconf.blk)) {
        blk_flush(ns->blkconf.blk);
    }
    if (ns->params.meta_blk && blk_is_available(ns->params.meta_blk)) {
        blk_flush(ns->params.meta_blk);
    }
}

void nvme_ns_set_write_cache(NvmeNs *ns, bool enable)
{
    blk_set_enable_write_cache(ns->blkconf.blk, enable);
}

bool nvme_ns_write_cache(NvmeNs *ns)
{
    return blk_enable_write_cache(ns->blkconf.blk);
}

/* ---- the nvme-ns device -------------------------------------------------- */

/*
 * The boot order entry ends in "/namespace@<nsid>,0", naming the
 * namespace to boot from.  The suffix lives in the device because the
 * bootindex property keeps a pointer to it.
 */
static void nvme_ns_print_boot_suffix(NvmeNsDevice *d)
{
    snprintf(d->boot_suffix, sizeof(d->boot_suffix), "/namespace@%" PRIu32
             ",0", d->ns.params.nsid);
}

/*
 * bootindex is set before realize, when the nsid may still be 0 (first
 * free), so the entry is written again once the namespace is attached.
 */
static void nvme_ns_set_boot_suffix(NvmeNsDevice *d)
{
    del_boot_device_path(DEVICE(d), d->boot_suffix);
    nvme_ns_print_boot_suffix(d);
    add_boot_device_path(d->ns.blkconf.bootindex, DEVICE(d), d->boot_suffix);
}

static NvmeBus *nvme_ns_bus(DeviceState *dev)
{
    BusState *bus = qdev_get_parent_bus(dev);

    return bus && bus->parent ? container_of(bus, NvmeBus, parent_obj)
                              : NULL;
}

/*
 * The bus's owner (a controller, or an nvme-subsys) sets the namespace up
 * and allocates it in its subsystem.
 */
static void nvme_ns_realize(DeviceState *dev, Error **errp)
{
    NvmeNsDevice *d = NVME_NS(dev);
    NvmeBus *nbus = nvme_ns_bus(dev);

    if (!nbus) {
        error_setg(errp, "nvme-ns must sit on an nvme controller's bus "
                   "(bus=<controller id>)");
        return;
    }
    /*
     * Stock QEMU puts every nvme-ns (not the drive= shorthand) in
     * endurance group 1 of its implicit subsystem and reports it.
     */
    d->ns.endgid = NVME_ENDGID_NVME_NS;
    if (nbus->attach(nbus, dev, &d->ns, errp)) {
        nvme_ns_set_boot_suffix(d);
    }
}

static void nvme_ns_unrealize(DeviceState *dev)
{
    NvmeNsDevice *d = NVME_NS(dev);
    NvmeBus *nbus = nvme_ns_bus(dev);

    if (nbus) {
        nbus->detach(nbus, &d->ns);
    }
}

/*
 * nguid: 32 hex digits, optionally grouped by '-' between whole bytes
 * (stock's syntax), or "auto" for a random one; read back as 32 digits.
 */
#define NVME_NS_NGUID_AUTO "auto"

static bool nvme_ns_parse_nguid(const char *str, uint8_t nguid[16])
{
    unsigned digits = 0;

    for (const char *c = str; *c; c++) {
        if (*c == '-') {
            /* between whole bytes: not first, last, doubled or mid-byte */
            if (c == str || c[-1] == '-' || !c[1] || digits % 2) {
                return false;
            }
            continue;
        }
        if (!qemu_isxdigit(*c) || digits == 2 * NVME_NIDL_NGUID) {
            return false;
        }
        nguid[digits / 2] = (nguid[digits / 2] << 4) |
                            g_ascii_xdigit_value(*c);
        digits++;
    }
    return digits == 2 * NVME_NIDL_NGUID;
}

static void nvme_ns_get_nguid(Object *obj, Visitor *v, const char *name,
                              void *opaque, Error **errp)
{
    const Property *prop = opaque;
    NvmeNguid *nguid = object_field_prop_ptr(obj, prop);
    g_autoptr(GString) str = qemu_hexdump_line(NULL, nguid->data,
                                               NVME_NIDL_NGUID,
                                               0, 0);

    visit_type_str(v, name, &str->str, errp);
}

static void nvme_ns_set_nguid(Object *obj, Visitor *v, const char *name,
                              void *opaque, Error **errp)
{
    const Property *prop = opaque;
    NvmeNguid *nguid = object_field_prop_ptr(obj, prop);
    uint8_t parsed[NVME_NIDL_NGUID] = { 0 };
    g_autofree char *str = NULL;

    if (!visit_type_str(v, name, &str, errp)) {
        return;
    }
    if (!strcmp(str, NVME_NS_NGUID_AUTO)) {
        qemu_guest_getrandom_nofail(parsed, sizeof(parsed));
    } else if (!nvme_ns_parse_nguid(str, parsed)) {
        error_setg(errp, "nguid: '%s' is not 16 bytes of hex digits "
                   "(optionally '-' between bytes) or \"auto\"", str);
        return;
    }
    memcpy(nguid->data, parsed, sizeof(parsed));
}

static const PropertyInfo nvme_ns_prop_nguid = {
    .type = "str",
    .description = "NGUID (32 hex digits) or \"" NVME_NS_NGUID_AUTO
                   "\" for a random one",
    .get = nvme_ns_get_nguid,
    .set = nvme_ns_set_nguid,
};

/* Upstream's names and defaults (docs/nvme.md) */
static const Property nvme_ns_props[] = {
    DEFINE_BLOCK_PROPERTIES(NvmeNsDevice, ns.blkconf),
    DEFINE_PROP_BOOL("shared", NvmeNsDevice, ns.params.shared, true),
    DEFINE_PROP_BOOL("detached", NvmeNsDevice, ns.params.detached, false),
    DEFINE_PROP_UINT32("nsid", NvmeNsDevice, ns.params.nsid, 0),
    DEFINE_PROP_UUID_NODEFAULT("uuid", NvmeNsDevice, ns.params.uuid),
    DEFINE_PROP("nguid", NvmeNsDevice, ns.params.nguid, nvme_ns_prop_nguid,
                NvmeNguid),
    DEFINE_PROP_UINT64("eui64", NvmeNsDevice, ns.params.eui64, 0),
    DEFINE_PROP_BOOL("eui64-default", NvmeNsDevice, ns.params.eui64_default,
                     false),
    DEFINE_PROP_UINT16("mssrl", NvmeNsDevice, ns.params.mssrl,
                       NVME_NS_MSSRL_DEFAULT),
    DEFINE_PROP_UINT32("mcl", NvmeNsDevice, ns.params.mcl,
                       NVME_NS_MCL_DEFAULT),
    DEFINE_PROP_UINT8("msrc", NvmeNsDevice, ns.params.msrc,
                      NVME_NS_MSRC_DEFAULT),
    DEFINE_PROP_UINT16("ms", NvmeNsDevice, ns.params.ms, 0),
    DEFINE_PROP_UINT8("mset", NvmeNsDevice, ns.params.mset, 0),
    DEFINE_PROP_UINT8("pi", NvmeNsDevice, ns.params.pi, 0),
    DEFINE_PROP_UINT8("pil", NvmeNsDevice, ns.params.pil, 0),
    DEFINE_PROP_UINT8("pif", NvmeNsDevice, ns.params.pif, 0),
    /* nvqemu: the metadata in an image of its own */
    DEFINE_PROP_DRIVE("meta-drive", NvmeNsDevice, ns.params.meta_blk),
};

static void nvme_ns_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    dc->bus_type = TYPE_NVME_BUS;
    dc->realize = nvme_ns_realize;
    dc->unrealize = nvme_ns_unrealize;
    dc->desc = "nvqemu NVMe namespace";
    dc->hotpluggable = false;
    device_class_set_props(dc, nvme_ns_props);
}

static void nvme_ns_instance_init(Object *obj)
{
    NvmeNsDevice *d = NVME_NS(obj);

    /* the nsid property is not set yet: see nvme_ns_set_boot_suffix() */
    nvme_ns_print_boot_suffix(d);
    device_add_bootindex_property(obj, &d->ns.blkconf.bootindex,
                                  "bootindex", d->boot_suffix, DEVICE(obj));
}

static const TypeInfo nvme_ns_types[] = {
    {
        .name = TYPE_NVME_NS,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(NvmeNsDevice),
        .instance_init = nvme_ns_instance_init,
        .class_init = nvme_ns_class_init,
    },
};

DEFINE_TYPES(nvme_ns_types)

NvmeNs *nvme_ns_lookup(NvmeCtrl *n, uint32_t nsid)
{
    if (nsid == 0 || nsid > NVME_MAX_NAMESPACES) {
        return NULL;
    }
    return n->ns[nsid];
}

/*
 * Identify CNS 06h DMRSL: the most logical blocks one Dataset Management
 * range should hold, what one block layer request can take in the
 * smallest logical block of the namespaces (0, no limit, without any),
 * as stock reports it.
 */
uint32_t nvme_ns_dsm_range_limit(NvmeCtrl *n)
{
    uint32_t limit = 0;

    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        if (n->ns[i]) {
            uint32_t blocks = BDRV_REQUEST_MAX_BYTES >> n->ns[i]->lbads;

            limit = limit ? MIN(limit, blocks) : blocks;
        }
    }
    return limit;
}

/* Wait for every block request of every namespace to finish */
void nvme_ns_drain_all(NvmeCtrl *n)
{
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        if (n->ns[i]) {
            nvme_ns_drain(n->ns[i]);
        }
    }
}
