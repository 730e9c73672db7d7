/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM ACPI: the entry points the rest of QEMU calls
 * (include/hw/mem/nvdimm.h) -- machine init, table building, SRAT, plug.
 *
 * The FIT (the NFIT structures without the table header) is kept in
 * NVDIMMState::fit_buf and rebuilt on every plug; the guest reads it through
 * _FIT after a hot-plug notification (GPE bit ACPI_NVDIMM_HOTPLUG_STATUS,
 * whose handler in the DSDT does Notify (\_SB.NVDR, 0x80)).
 *
 * Migration: NVDIMMState has no VMState.  The FIT is derived from the
 * devices, which the destination has too, and every plug on the destination
 * (cold-plug included) marks it changed, so a guest caught in the middle of
 * a _FIT read when migrating gets FIT_CHANGED and starts over.  The DSM
 * page is guest RAM and a DSM call completes within one I/O write.
 */
#include "qemu/osdep.h"
#include "exec/memory.h"
#include "hw/acpi/acpi.h"
#include "hw/acpi/acpi_dev_interface.h"
#include "hw/acpi/aml-build.h"
#include "hw/acpi/bios-linker-loader.h"
#include "hw/boards.h"
#include "hw/mem/nvdimm.h"
#include "hw/nvram/fw_cfg.h"
#include "qemu/nvdimm-utils.h"
#include "nvdimm-internal.h"
#include "trace.h"

/*
 * The plugged NVDIMMs as the NFIT builder wants them, in the order
 * nvdimm_get_device_list() walks the QOM tree (not slot order): the order
 * QEMU has always emitted them in, which guests see in the NFIT, the SRAT
 * and _FIT.
 */
static GArray *nvdimm_plugged_dimms(void)
{
    g_autoptr(GSList) list = nvdimm_get_device_list();
    GArray *dimms = g_array_new(false, true, sizeof(NvdimmNfitDimm));

    for (GSList *l = list; l; l = l->next) {
        NVDIMMDevice *nvdimm = l->data;
        PCDIMMDevice *dimm = PC_DIMM(nvdimm);
        NvdimmNfitDimm d;

        /* region and slot are assigned in pre-plug */
        if (!nvdimm->nvdimm_mr || dimm->slot < 0) {
            continue;
        }
        d = (NvdimmNfitDimm) {
            .slot = dimm->slot,
            .node = dimm->node,
            .addr = dimm->addr,
            /* the pmem only: with nvdimm-n, nvdimm_mr has the hint too */
            .size = memory_region_size(&nvdimm->pmem_mr),
            .unarmed = nvdimm->unarmed,
            .nvdimm_n = nvdimm->nvdimm_n,
        };
        if (nvdimm->nvdimm_n) {
            d.flush_hint_addr = nvdimm_flush_hint_addr(d.addr, d.size);
        }
        g_array_append_val(dimms, d);
    }
    return dimms;
}

static void nvdimm_fit_rebuild(NVDIMMState *state)
{
    NvdimmFitBuffer *fb = &state->fit_buf;
    g_autoptr(GArray) dimms = nvdimm_plugged_dimms();

    if (!fb->fit) {
        fb->fit = g_array_new(false, true, 1);
    }
    g_array_set_size(fb->fit, 0);
    nvdimm_nfit_build(fb->fit, dimms, state->persistence);
    fb->dirty = true;
    trace_nvdimm_fit_rebuilt(dimms->len, fb->fit->len);
}

void nvdimm_init_acpi_state(NVDIMMState *state, MemoryRegion *io,
                            struct AcpiGenericAddress dsm_io,
                            FWCfgState *fw_cfg, Object *owner)
{
    state->dsm_io = dsm_io;
    memory_region_init_io(&state->io_mr, owner, &nvdimm_dsm_ops, state,
                          "nvdimm-acpi-io", NVDIMM_ACPI_IO_LEN);
    memory_region_add_subregion(io, dsm_io.address, &state->io_mr);

    /* the firmware allocates the DSM page from this (zeroed) template */
    state->dsm_mem = g_array_new(false, true, 1);
    g_array_set_size(state->dsm_mem, NVDIMM_DSM_PAGE_SIZE);
    fw_cfg_add_file(fw_cfg, NVDIMM_DSM_MEM_FILE, state->dsm_mem->data,
                    state->dsm_mem->len);

    nvdimm_fit_rebuild(state);
    nvdimm_events_init(state);
}

static void nvdimm_build_nfit(GArray *table_offsets, GArray *table_data,
                              BIOSLinker *linker, const GArray *dimms,
                              uint32_t persistence, const char *oem_id,
                              const char *oem_table_id)
{
    AcpiTable table = {
        .sig = "NFIT", .rev = NFIT_TABLE_REVISION,
        .oem_id = oem_id, .oem_table_id = oem_table_id,
    };

    acpi_add_table(table_offsets, table_data);
    acpi_table_begin(&table, table_data);
    build_append_int_noprefix(table_data, 0, NFIT_HEADER_RESERVED_BYTES);
    nvdimm_nfit_build(table_data, dimms, persistence);
    acpi_table_end(linker, &table);
}

void nvdimm_build_acpi(GArray *table_offsets, GArray *table_data,
                       BIOSLinker *linker, NVDIMMState *state,
                       uint32_t ram_slots, const char *oem_id,
                       const char *oem_table_id)
{
    g_autoptr(GArray) dimms = NULL;

    /*
     * Without memory slots no NVDIMM can ever be plugged: no root device,
     * no DSM page, no NFIT (what QEMU has always done).
     */
    if (!ram_slots) {
        return;
    }
    /* SSDT first, then the NFIT: the table order guests have always seen */
    nvdimm_ssdt_build(table_offsets, table_data, linker, &state->dsm_io,
                      state->dsm_mem, ram_slots,
                      nvdimm_acpi_health_events(), oem_id, oem_table_id);

    /*
     * Without NVDIMMs there is no NFIT; the root device is still there for
     * hot-plug (the OS then finds the DIMMs through _FIT).
     */
    dimms = nvdimm_plugged_dimms();
    if (dimms->len) {
        nvdimm_build_nfit(table_offsets, table_data, linker, dimms,
                          state->persistence, oem_id, oem_table_id);
    }
}

void nvdimm_build_srat(GArray *table_data)
{
    g_autoptr(GArray) dimms = nvdimm_plugged_dimms();

    for (guint i = 0; i < dimms->len; i++) {
        const NvdimmNfitDimm *d = &g_array_index(dimms, NvdimmNfitDimm, i);

        build_srat_memory(table_data, d->addr, d->size, d->node,
                          MEM_AFFINITY_ENABLED | MEM_AFFINITY_NON_VOLATILE);
    }
}

void nvdimm_plug(NVDIMMState *state)
{
    nvdimm_fit_rebuild(state);
}

void nvdimm_acpi_plug_cb(HotplugHandler *hotplug_dev, DeviceState *dev)
{
    MachineState *ms = MACHINE(qdev_get_machine());

    /* every plug (cold ones too) names the device that raises the GPE */
    if (ms->nvdimms_state) {
        nvdimm_events_set_acpi_dev(ms->nvdimms_state, DEVICE(hotplug_dev));
    }
    if (dev->hotplugged) {
        trace_nvdimm_hotplug_event(nvdimm_handle(NVDIMM(dev)));
        acpi_send_event(DEVICE(hotplug_dev), ACPI_NVDIMM_HOTPLUG_STATUS);
    }
}
