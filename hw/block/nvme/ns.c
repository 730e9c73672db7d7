/*
 * NVMe namespaces: the nvme-ns device and the namespace model shared with
 * the controller's drive= shorthand (NVMe Base Specification 2.0c section
 * 3.2.1, NVM Command Set Specification 1.0c section 4.1.5).
 *
 * A namespace is a QEMU block backend read and written in logical blocks
 * of 512 B (LBA format 0) or 4 KiB (LBA format 1), without metadata.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/module.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "system/block-backend.h"
#include "system/system.h"
#include "nvme.h"
#include "trace.h"

/* LBA formats we offer, by index (LBADS = log2 of the block size) */
static const uint8_t nvme_ns_lbads[NVME_NUM_LBAF] = { 9, 12 };

/* EUI-64 company id prefix: the QEMU OUI, locally chosen extension */
static const uint8_t nvme_ns_oui[3] = { 0x52, 0x54, 0x00 };

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

static int nvme_ns_lbaf_of(uint32_t lbsize)
{
    for (int i = 0; i < NVME_NUM_LBAF; i++) {
        if (1u << nvme_ns_lbads[i] == lbsize) {
            return i;
        }
    }
    return -1;
}

/* Recompute the size in logical blocks for the current format */
static void nvme_ns_resize(NvmeNs *ns)
{
    int64_t len = blk_getlength(ns->blkconf.blk);

    ns->lbads = nvme_ns_lbads[ns->lbaf];
    ns->nsze = len > 0 ? (uint64_t)len >> ns->lbads : 0;
}

bool nvme_ns_setup(NvmeNs *ns, NvmeCtrl *n, Error **errp)
{
    ERRP_GUARD();
    BlockConf *conf = &ns->blkconf;
    bool read_only;
    int lbaf;

    if (!conf->blk) {
        error_setg(errp, "drive property is required");
        return false;
    }
    if (!blkconf_blocksizes(conf, errp)) {
        return false;
    }
    read_only = !blk_supports_write_perm(conf->blk);
    if (!blkconf_apply_backend_options(conf, read_only, false, errp)) {
        return false;
    }
    lbaf = nvme_ns_lbaf_of(conf->logical_block_size);
    if (lbaf < 0) {
        error_setg(errp, "logical_block_size must be 512 or 4096, not %u",
                   conf->logical_block_size);
        return false;
    }
    ns->lbaf = lbaf;
    nvme_ns_resize(ns);
    if (!ns->nsze) {
        error_setg(errp, "drive is smaller than one %u-byte block",
                   conf->logical_block_size);
        return false;
    }
    ns->ctrl = n;
    return true;
}

/*
 * Identifiers unique per (serial, nsid): NGUID, EUI-64 and UUID are taken
 * from a SHA-256 of both unless given as properties.  Two controllers
 * with different serials therefore never report the same ids.
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

    memcpy(ns->nguid, digest, sizeof(ns->nguid));
    if (ns->params.eui64_set) {
        stq_be_p(ns->eui64, ns->params.eui64);
    } else {
        memcpy(ns->eui64, nvme_ns_oui, sizeof(nvme_ns_oui));
        memcpy(ns->eui64 + sizeof(nvme_ns_oui), digest + NVME_NS_DIGEST_IDS,
               sizeof(ns->eui64) - sizeof(nvme_ns_oui));
    }
    if (!qemu_uuid_is_null(&ns->params.uuid)) {
        ns->uuid = ns->params.uuid;
    } else {
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
    uint32_t pbs = MAX(ns->blkconf.physical_block_size, 1u << ns->lbads);
    uint16_t npwg = pbs >> ns->lbads;

    memset(id, 0, sizeof(*id));
    id->nsze = cpu_to_le64(ns->nsze);
    id->ncap = cpu_to_le64(ns->nsze);
    id->nuse = cpu_to_le64(ns->nsze);
    id->nsfeat = NVME_NSFEAT_OPTPERF;
    id->nlbaf = NVME_NUM_LBAF - 1;
    id->flbas = FIELD_DP32(0, NVME_FLBAS, LBAFL, ns->lbaf);
    /* deallocation is done with zeroes that may unmap (see io.c) */
    id->dlfeat = NVME_DLFEAT_READ_ZEROES | NVME_DLFEAT_WZ_DEAC;
    /* NPWG/NPWA/NPDG/NPDA are 0's based counts of logical blocks */
    id->npwg = cpu_to_le16(npwg - 1);
    id->npwa = cpu_to_le16(npwg - 1);
    if (ns->blkconf.discard_granularity &&
        ns->blkconf.discard_granularity != (uint32_t)-1) {
        uint32_t dg = ns->blkconf.discard_granularity >> ns->lbads;

        id->npdg = cpu_to_le16(MAX(dg, 1u) - 1);
        id->npda = id->npdg;
    }
    memcpy(id->nguid, ns->nguid, sizeof(id->nguid));
    memcpy(id->eui64, ns->eui64, sizeof(id->eui64));
    for (int i = 0; i < NVME_NUM_LBAF; i++) {
        id->lbaf[i].lbads = nvme_ns_lbads[i];
    }
}

uint16_t nvme_ns_format(NvmeNs *ns, uint8_t lbaf)
{
    if (lbaf >= NVME_NUM_LBAF) {
        return NVME_INVALID_FORMAT;
    }
    ns->lbaf = lbaf;
    nvme_ns_resize(ns);
    trace_nvme_dev_ns_format(ns->params.nsid, lbaf, ns->nsze);
    return NVME_SUCCESS;
}

void nvme_ns_drain(NvmeNs *ns)
{
    blk_drain(ns->blkconf.blk);
}

void nvme_ns_flush_sync(NvmeNs *ns)
{
    if (blk_is_available(ns->blkconf.blk)) {
        blk_flush(ns->blkconf.blk);
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

static void nvme_ns_realize(DeviceState *dev, Error **errp)
{
    NvmeNsDevice *d = NVME_NS(dev);
    BusState *bus = qdev_get_parent_bus(dev);
    NvmeCtrl *n;

    if (!bus || !bus->parent) {
        error_setg(errp, "nvme-ns must sit on an nvme controller's bus "
                   "(bus=<controller id>)");
        return;
    }
    n = NVME(bus->parent);
    d->ns.params.eui64_set = d->ns.params.eui64 != 0;
    if (!nvme_ns_setup(&d->ns, n, errp)) {
        return;
    }
    if (nvme_ctrl_attach_ns(n, &d->ns, errp)) {
        nvme_ns_set_boot_suffix(d);
    }
}

static void nvme_ns_unrealize(DeviceState *dev)
{
    NvmeNsDevice *d = NVME_NS(dev);
    NvmeCtrl *n = d->ns.ctrl;

    if (n && n->ns[d->ns.params.nsid] == &d->ns) {
        nvme_ns_drain(&d->ns);
        n->ns[d->ns.params.nsid] = NULL;
    }
}

static const Property nvme_ns_props[] = {
    DEFINE_BLOCK_PROPERTIES(NvmeNsDevice, ns.blkconf),
    DEFINE_PROP_UINT32("nsid", NvmeNsDevice, ns.params.nsid, 0),
    DEFINE_PROP_UUID_NODEFAULT("uuid", NvmeNsDevice, ns.params.uuid),
    DEFINE_PROP_UINT64("eui64", NvmeNsDevice, ns.params.eui64, 0),
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
