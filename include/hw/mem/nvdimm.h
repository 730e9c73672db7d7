/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM: the device type and the interface the rest of QEMU calls.
 *
 * The names and signatures here are the ones QEMU's machine code, ACPI
 * table builders and hotplug handlers already use (hw/i386/pc*.c,
 * hw/i386/acpi-build.c, hw/acpi/piix4.c, ich9.c, generic_event_device.c,
 * hw/arm/virt*.c, hw/ppc/spapr_nvdimm.c), so none of them needs a patch.
 * The wire formats live in hw/acpi/nvdimm-spec.h; the guest ABI is described
 * in docs/specs/nvdimm-acpi.md.
 */
#ifndef HW_MEM_NVDIMM_H
#define HW_MEM_NVDIMM_H

#include "hw/mem/pc-dimm.h"
#include "hw/mem/nvdimm-flush.h"
#include "hw/mem/nvdimm-flush-hint.h"
#include "hw/mem/nvdimm-state.h"
#include "hw/acpi/acpi-defs.h"
#include "hw/acpi/bios-linker-loader.h"
#include "qemu/uuid.h"
#include "qom/object.h"

#define TYPE_NVDIMM "nvdimm"
OBJECT_DECLARE_TYPE(NVDIMMDevice, NVDIMMClass, NVDIMM)

/* User-visible property names (kept from upstream: libvirt passes them). */
#define NVDIMM_LABEL_SIZE_PROP "label-size"
#define NVDIMM_UUID_PROP "uuid"
#define NVDIMM_UNARMED_PROP "unarmed"
/* nvqemu's own: emulate an NVDIMM-N (health, dirty shutdown, ...). */
#define NVDIMM_NVDIMM_N_PROP "nvdimm-n"

/* fw_cfg file the firmware allocates the DSM page from (bios-linker). */
#define NVDIMM_DSM_MEM_FILE "etc/acpi/nvdimm-mem"

/* The DSM doorbell: a 4-byte I/O port on x86 (guest ABI). */
#define NVDIMM_ACPI_IO_BASE 0x0a18
#define NVDIMM_ACPI_IO_LEN 4

/*
 * One NVDIMM.  The fields spapr-nvdimm and the ACPI code read keep their
 * upstream names (hw/ppc/spapr_nvdimm.c uses them directly); the rest is
 * ours.  Backend layout: see hw/mem/nvdimm-device.c.
 */
struct NVDIMMDevice {
    PCDIMMDevice parent_obj;

    /* user properties */
    uint64_t label_size;        /* "label-size": label area, 0 = none */
    bool unarmed;               /* "unarmed": NFIT not-armed flag */
    QemuUUID uuid;              /* "uuid": spapr only */
    bool nvdimm_n;              /* "nvdimm-n": NVDIMM-N model (nvqemu) */

    /* derived from the backend when the region is prepared */
    bool readonly;              /* backend is ROM: label writes refused */
    MemoryRegion *nvdimm_mr;    /* guest-visible pmem, NULL until then */
    MemoryRegion pmem_mr;       /* what nvdimm_mr points to */
    uint64_t label_offset;      /* label area offset in the backend */
    void *label_data;           /* host address of the label area */
    NvdimmFlush label_flush;    /* how label/state writes are durable */
    bool label_flush_warned;    /* a failed flush was reported */

    /* nvdimm-n=on only (hw/mem/nvdimm-state.h); NULL state otherwise */
    uint64_t state_offset;      /* state area offset in the backend */
    NvdimmStateArea *state;     /* health, shutdown count, poison list */
    Notifier exit_notifier;     /* an orderly QEMU exit marks it clean */
    /* incoming migration: the state is opened once the VM runs */
    struct VMChangeStateEntry *nvn_vm_state;

    /* nvdimm-n=on: flush hint page and durability (nvdimm-flush-hint.c) */
    NvdimmFlushHint flush_hint;
    /* a health event the guest has not fetched yet (nvdimm-events.c) */
    bool health_event_pending;
};

/*
 * Hooks: subclasses (spapr-nvdimm) add realize/unrealize steps; label
 * accessors copy label bytes for callers that checked the range with
 * nvdimm_label_range_ok().  A write is made durable before it returns; it
 * returns 0, -EINVAL when it was refused (range outside the label area,
 * read-only backend), or another negative errno when the host could not
 * make it durable (the bytes may then be in the label area but not on the
 * medium).  Callers: hw/acpi/nvdimm-dsm.c (maps the two failures to DSM
 * status 3 and 4) and hw/ppc/spapr_nvdimm.c (checks the range itself and
 * ignores the result, as it always did).
 */
struct NVDIMMClass {
    PCDIMMDeviceClass parent_class;

    void (*realize)(NVDIMMDevice *nvdimm, Error **errp);
    void (*unrealize)(NVDIMMDevice *nvdimm);
    void (*read_label_data)(NVDIMMDevice *nvdimm, void *buf,
                            uint64_t size, uint64_t offset);
    int (*write_label_data)(NVDIMMDevice *nvdimm, const void *buf,
                            uint64_t size, uint64_t offset);
};

/* The FIT: what _FIT returns, and whether it changed since a read began. */
typedef struct NvdimmFitBuffer {
    GArray *fit;                /* NFIT structures of all plugged NVDIMMs */
    bool dirty;                 /* changed since the last read at offset 0 */
} NvdimmFitBuffer;

/* Per-machine NVDIMM state, MachineState::nvdimms_state. */
typedef struct NVDIMMState {
    /* machine options, set by hw/core/machine.c */
    bool is_enabled;            /* -machine nvdimm=on */
    char *persistence_string;   /* -machine nvdimm-persistence=cpu|mem-ctrl */
    int32_t persistence;        /* its NFIT_CAP_* bits, 0: no structure */

    /* the DSM transport */
    struct AcpiGenericAddress dsm_io;  /* where the doorbell is */
    MemoryRegion io_mr;         /* the doorbell */
    GArray *dsm_mem;            /* DSM page template, NVDIMM_DSM_MEM_FILE */
    bool dsm_busy;              /* serving a call: refuse re-entry */

    NvdimmFitBuffer fit_buf;

    /* the root's address range scrub, hw/acpi/nvdimm-ars.c; NULL before */
    struct NvdimmArs *ars;
    /* health events of NVDIMM-N modules (hw/acpi/nvdimm-events.c) */
    Notifier health_notifier;   /* every module's state changes */
    DeviceState *acpi_dev;      /* raises the NVDIMM GPE */
    bool uc_error_pending;      /* root Notify 0x81 not fetched yet */
} NVDIMMState;

/*
 * Machine init (pc_piix.c, pc_q35.c, arm virt.c): map the DSM doorbell at
 * @dsm_io in @io and export the DSM page template through @fw_cfg.
 */
void nvdimm_init_acpi_state(NVDIMMState *state, MemoryRegion *io,
                            struct AcpiGenericAddress dsm_io,
                            FWCfgState *fw_cfg, Object *owner);

/* Machine plug handler (pc.c, virt.c): rebuild the FIT, mark it changed. */
void nvdimm_plug(NVDIMMState *state);

/*
 * ACPI device plug handler (piix4.c, ich9.c, generic_event_device.c):
 * tell the guest about a hot-plugged NVDIMM.
 */
void nvdimm_acpi_plug_cb(HotplugHandler *hotplug_dev, DeviceState *dev);

/* SRAT (acpi-build.c): a non-volatile memory affinity entry per NVDIMM. */
void nvdimm_build_srat(GArray *table_data);

/*
 * Health events (nvdimm-n=on): the SSDT method the DSDT's NVDIMM GPE
 * handler (_E04) calls after Notify (\_SB.NVDR, 0x80) when
 * nvdimm_acpi_health_events() says the tables being built have it.  It
 * sends Notify (NVxx, 0x81) to each DIMM with a pending health event.
 */
#define NVDIMM_ACPI_HEALTH_EVENT_METHOD "\\_SB.NVDR.NEVT"
bool nvdimm_acpi_health_events(void);

/*
 * Tables (acpi-build.c): the NFIT when NVDIMMs are plugged, and the SSDT
 * with the NVDIMM root device and @ram_slots children.
 */
void nvdimm_build_acpi(GArray *table_offsets, GArray *table_data,
                       BIOSLinker *linker, NVDIMMState *state,
                       uint32_t ram_slots, const char *oem_id,
                       const char *oem_table_id);

/* nvqemu additions, used by hw/acpi/nvdimm-*.c */

/*
 * The realized NVDIMMs in no particular order (the list is the device
 * model's: do not free or change it).
 */
const GSList *nvdimm_realized_list(void);
/* NFIT device handle of @nvdimm (slot + 1). */
uint32_t nvdimm_handle(const NVDIMMDevice *nvdimm);
/* The realized NVDIMM with NFIT handle @handle, or NULL. */
NVDIMMDevice *nvdimm_find_by_handle(uint32_t handle);
/* Whether [@offset, @offset + @size) lies inside the label area. */
bool nvdimm_label_range_ok(const NVDIMMDevice *nvdimm, uint64_t offset,
                           uint64_t size);

#endif /* HW_MEM_NVDIMM_H */
