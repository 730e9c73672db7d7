/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM: the NFIT structures (ACPI 6.5 section 5.2.26).
 *
 * Pure: a GArray of NvdimmNfitDimm in, the structures appended to a GArray
 * out, in guest (little-endian) byte order.  The same bytes form the body
 * of the NFIT table and the buffer _FIT returns.  Per DIMM, in this order:
 *
 *   SPA Range (type 0)          the DIMM's persistent memory range
 *   Memory Device to SPA (1)    handle -> SPA range and control region
 *   NVDIMM Control Region (4)   identity, byte-addressable interface code
 *   Flush Hint Address (6)      nvdimm-n=on only: the DIMM's flush hint
 *
 * and one Platform Capabilities structure (type 7) at the end when a
 * persistence domain was configured, or a DIMM has nvdimm-n=on.  With
 * nvdimm-n off everywhere, every field, index and flag is the
 * one QEMU has always emitted for the same configuration (indexes derived
 * from the slot: nvdimm_slot_to_spa_index()), so a guest migrated from
 * another QEMU accepts the _FIT it reads after a hot-plug.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "nvdimm-internal.h"

static const QemuUUID nfit_spa_guid_pm = { .data = NFIT_SPA_GUID_PM };

#define NFIT_HDR(t, s) { .type = cpu_to_le16(t), .length = cpu_to_le16(s) }

static void nfit_append_spa(GArray *out, const NvdimmNfitDimm *d)
{
    NfitSpaRange spa = {
        .hdr = NFIT_HDR(NFIT_TYPE_SPA_RANGE, sizeof(NfitSpaRange)),
        .range_index = cpu_to_le16(nvdimm_slot_to_spa_index(d->slot)),
        /*
         * The control region is only managed at hot-add (its identity
         * is fixed by the slot), and the proximity domain is valid.
         */
        .flags = cpu_to_le16(NFIT_SPA_FLAG_CONTROL_REGION_HOTPLUG |
                             NFIT_SPA_FLAG_PROXIMITY_VALID),
        .proximity_domain = cpu_to_le32(d->node),
        .base = cpu_to_le64(d->addr),
        .size = cpu_to_le64(d->size),
        .attributes = cpu_to_le64(NFIT_SPA_ATTR_WB | NFIT_SPA_ATTR_NV),
    };

    memcpy(spa.type_guid, nfit_spa_guid_pm.data, sizeof(spa.type_guid));
    g_array_append_vals(out, &spa, sizeof(spa));
}

static void nfit_append_memdev(GArray *out, const NvdimmNfitDimm *d)
{
    uint32_t handle = nvdimm_slot_to_handle(d->slot);
    NfitMemdevToSpa memdev = {
        .hdr = NFIT_HDR(NFIT_TYPE_MEMDEV_TO_SPA, sizeof(NfitMemdevToSpa)),
        .device_handle = cpu_to_le32(handle),
        .range_index = cpu_to_le16(nvdimm_slot_to_spa_index(d->slot)),
        .control_region_index =
            cpu_to_le16(nvdimm_slot_to_dcr_index(d->slot)),
        .region_size = cpu_to_le64(d->size),
        /* one DIMM per range: not interleaved, starts at DPA 0 */
        .interleave_ways = cpu_to_le16(1),
        .state_flags = cpu_to_le16(d->unarmed ? NFIT_MEMDEV_FLAG_NOT_ARMED
                                              : 0),
    };

    g_array_append_vals(out, &memdev, sizeof(memdev));
}

static void nfit_append_dcr(GArray *out, const NvdimmNfitDimm *d)
{
    NfitControlRegion dcr = {
        .hdr = NFIT_HDR(NFIT_TYPE_CONTROL_REGION, sizeof(NfitControlRegion)),
        .region_index = cpu_to_le16(nvdimm_slot_to_dcr_index(d->slot)),
        .vendor = cpu_to_le16(NVDIMM_DCR_VENDOR_ID),
        .device = cpu_to_le16(NVDIMM_DCR_DEVICE_ID),
        .revision = cpu_to_le16(NVDIMM_DCR_REVISION_ID),
        .serial = cpu_to_le32(NVDIMM_DCR_SERIAL_BASE + d->slot),
        .interface_code = cpu_to_le16(d->nvdimm_n ?
                                      NFIT_DCR_FIC_BYTE_ENERGY_BACKED :
                                      NFIT_DCR_FIC_BYTE_STANDARD),
        /* no block control windows: byte-addressable only */
    };

    g_array_append_vals(out, &dcr, sizeof(dcr));
}

/* The DIMM's hint page (include/hw/mem/nvdimm-flush-hint.h). */
static void nfit_append_flush_hint(GArray *out, const NvdimmNfitDimm *d)
{
    uint64_t hints[NVDIMM_N_FLUSH_HINTS] = {
        cpu_to_le64(d->flush_hint_addr),
    };
    NfitFlushHint fh = {
        .hdr = NFIT_HDR(NFIT_TYPE_FLUSH_HINT, sizeof(fh) + sizeof(hints)),
        .device_handle = cpu_to_le32(nvdimm_slot_to_handle(d->slot)),
        .hint_count = cpu_to_le16(ARRAY_SIZE(hints)),
    };

    g_array_append_vals(out, &fh, sizeof(fh));
    g_array_append_vals(out, hints, sizeof(hints));
}

static void nfit_append_platform_caps(GArray *out, uint32_t persistence)
{
    NfitPlatformCaps caps = {
        .hdr = NFIT_HDR(NFIT_TYPE_PLATFORM_CAPS, sizeof(NfitPlatformCaps)),
        .highest_valid = NFIT_CAP_HIGHEST_VALID,
        .capabilities = cpu_to_le32(persistence),
    };

    g_array_append_vals(out, &caps, sizeof(caps));
}

void nvdimm_nfit_build(GArray *out, const GArray *dimms, uint32_t persistence)
{
    bool any_nvdimm_n = false;

    for (guint i = 0; i < dimms->len; i++) {
        const NvdimmNfitDimm *d = &g_array_index(dimms, NvdimmNfitDimm, i);

        nfit_append_spa(out, d);
        nfit_append_memdev(out, d);
        nfit_append_dcr(out, d);
        if (d->nvdimm_n) {
            nfit_append_flush_hint(out, d);
            any_nvdimm_n = true;
        }
    }
    /* an explicit -machine nvdimm-persistence wins */
    if (!persistence && any_nvdimm_n) {
        persistence = NVDIMM_N_DEFAULT_CAPS;
    }
    if (persistence) {
        nfit_append_platform_caps(out, persistence);
    }
}
