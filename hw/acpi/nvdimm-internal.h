/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM ACPI: interfaces between the files of hw/acpi/nvdimm-*.c.
 *
 *   nvdimm-nfit.c       NFIT structures from a list of DIMMs (pure)
 *   nvdimm-dsm-table.c  the DSM function table and bitmaps (pure)
 *   nvdimm-dsm.c        the DSM doorbell: page copy, validation, functions
 *   nvdimm-dsm-health.c Intel SMART/health functions (nvdimm-n=on)
 *   nvdimm-ars.c        root functions: ARS, clear and inject poison
 *   nvdimm-events.c     health events: GPE, pending DIMMs (nvdimm-n=on)
 *   nvdimm-ssdt.c       the NVDIMM SSDT (AML)
 *   nvdimm-acpi.c       the API the rest of QEMU calls (hw/mem/nvdimm.h)
 */
#ifndef HW_ACPI_NVDIMM_INTERNAL_H
#define HW_ACPI_NVDIMM_INTERNAL_H

#include "hw/acpi/acpi.h"
#include "hw/acpi/nvdimm-spec.h"

struct NVDIMMDevice;
struct NVDIMMState;

/* ------------------------------------------------------------------------ */
/* NFIT builder (nvdimm-nfit.c)                                              */

/*
 * Identity of every emulated DIMM in its Control Region structure.  Linux
 * folds vendor, serial number, manufacturing date and location into the
 * interleave-set cookie it stores in the namespace labels, so these values
 * must never change or guests lose their namespaces (they are the values
 * QEMU has always reported).
 */
#define NVDIMM_DCR_VENDOR_ID 0x8086
#define NVDIMM_DCR_DEVICE_ID 0x0001
#define NVDIMM_DCR_REVISION_ID 0x0001
#define NVDIMM_DCR_SERIAL_BASE 0x123456

/* One DIMM as the NFIT describes it. */
typedef struct NvdimmNfitDimm {
    uint32_t slot;          /* pc-dimm slot: handle and indexes follow */
    uint32_t node;          /* proximity domain */
    uint64_t addr;          /* guest physical base of the pmem */
    uint64_t size;          /* pmem size (without the label area) */
    bool unarmed;
    /*
     * nvdimm-n=on: energy-backed interface code, and a Flush Hint Address
     * structure with one hint at @flush_hint_addr (never 0 then).
     */
    bool nvdimm_n;
    uint64_t flush_hint_addr;
} NvdimmNfitDimm;

/* Flush hints per NVDIMM-N DIMM (include/hw/mem/nvdimm-flush-hint.h). */
#define NVDIMM_N_FLUSH_HINTS 1

/*
 * Platform capabilities (NFIT_CAP_*) emitted when a DIMM has nvdimm-n=on
 * and -machine nvdimm-persistence is not given: an energy-backed module
 * behind a memory controller whose write queues are flushed on power loss
 * (ADR), CPU caches not persistent, so the guest flushes through the hints.
 */
#define NVDIMM_N_DEFAULT_CAPS NFIT_CAP_MEM_CTRL_FLUSH

/* NFIT device handle of the DIMM in @slot (0 is the root device). */
static inline uint32_t nvdimm_slot_to_handle(uint32_t slot)
{
    return slot + 1;
}

/* The largest index, 2 * ACPI_MAX_RAM_SLOTS + 1, must fit in 16 bits. */
QEMU_BUILD_BUG_ON(2 * ACPI_MAX_RAM_SLOTS + 1 > UINT16_MAX);

/*
 * Structure indexes of the DIMM in @slot.  Index 0 means "none" (ACPI 6.5
 * Table 5.150), and each DIMM needs two: its SPA Range gets the even index
 * 2 * handle, its Control Region the odd one after it.  These are the
 * numbers QEMU has always emitted; guests compare _FIT structures byte for
 * byte with what they saw at boot, so they must not change.
 */
static inline uint16_t nvdimm_slot_to_spa_index(uint32_t slot)
{
    return nvdimm_slot_to_handle(slot) * 2;
}

static inline uint16_t nvdimm_slot_to_dcr_index(uint32_t slot)
{
    return nvdimm_slot_to_spa_index(slot) + 1;
}

/*
 * Append to @out the NFIT structures (no table header) describing @dimms,
 * an array of NvdimmNfitDimm, and, when @persistence (NFIT_CAP_* bits) is
 * non-zero, a Platform Capabilities structure; when it is 0 and a DIMM has
 * nvdimm_n, one with NVDIMM_N_DEFAULT_CAPS.
 */
void nvdimm_nfit_build(GArray *out, const GArray *dimms, uint32_t persistence);

/* ------------------------------------------------------------------------ */
/* DSM function table (nvdimm-dsm-table.c)                                   */

/* Which _DSM a call is addressed to, derived from its handle. */
typedef enum NvdimmDsmTarget {
    NVDIMM_DSM_TARGET_ROOT,         /* handle 0, NVDIMM_DSM_UUID_ROOT */
    NVDIMM_DSM_TARGET_QEMU_ROOT,    /* handle 0x10000, NVDIMM_DSM_UUID_QEMU */
    NVDIMM_DSM_TARGET_DIMM,         /* handle slot + 1, NVDIMM_DSM_UUID_INTEL */
    NVDIMM_DSM_TARGET__MAX,
} NvdimmDsmTarget;

/* Handlers of nvdimm-dsm.c, named by the table. */
typedef enum NvdimmDsmOp {
    NVDIMM_DSM_OP_GET_LABEL_SIZE,
    NVDIMM_DSM_OP_GET_LABEL_DATA,
    NVDIMM_DSM_OP_SET_LABEL_DATA,
    NVDIMM_DSM_OP_READ_FIT,
    NVDIMM_DSM_OP_SMART,
    NVDIMM_DSM_OP_SMART_THRESHOLD,
    NVDIMM_DSM_OP_SET_SMART_THRESHOLD,
    NVDIMM_DSM_OP_INJECT_SMART,
    NVDIMM_DSM_OP_LATCH_SHUTDOWN,
    NVDIMM_DSM_OP_ARS_CAP,
    NVDIMM_DSM_OP_ARS_START,
    NVDIMM_DSM_OP_ARS_STATUS,
    NVDIMM_DSM_OP_ARS_CLEAR_ERROR,
    NVDIMM_DSM_OP_ARS_INJECT,
    NVDIMM_DSM_OP_ARS_INJECT_CLEAR,
    NVDIMM_DSM_OP_ARS_INJECT_STATUS,
    NVDIMM_DSM_OP_HEALTH_EVENTS,
    NVDIMM_DSM_OP__MAX,
} NvdimmDsmOp;

/* What a DIMM offers; a function lists what it requires. */
typedef enum NvdimmDsmCaps {
    NVDIMM_DSM_CAP_LABEL = 1 << 0,      /* has a label area */
    NVDIMM_DSM_CAP_WRITABLE = 1 << 1,   /* its backend is not read-only */
    NVDIMM_DSM_CAP_NVDIMM_N = 1 << 2,   /* nvdimm-n=on: has a state area */
    /* root: an NVDIMM-N is or may be plugged (nvdimm_ars_available()) */
    NVDIMM_DSM_CAP_ARS = 1 << 3,
} NvdimmDsmCaps;

/* _DSM revisions a function answers (bit r for revision r). */
#define NVDIMM_DSM_REV(r) (1u << (r))

typedef struct NvdimmDsmFunc {
    NvdimmDsmTarget target;
    uint32_t function;
    const char *name;
    NvdimmDsmOp op;
    uint32_t in_len;        /* fixed input header the function reads */
    unsigned requires;      /* NvdimmDsmCaps the target must have */
    unsigned revisions;     /* NVDIMM_DSM_REV() bits; 0 means revision 1 */
} NvdimmDsmFunc;

/*
 * The function @function of @target with capabilities @caps
 * (NvdimmDsmCaps), or NULL if not implemented there (at any revision).
 */
const NvdimmDsmFunc *nvdimm_dsm_func_find(NvdimmDsmTarget target,
                                          uint32_t function, unsigned caps);
/* Whether @f answers at _DSM revision @revision. */
bool nvdimm_dsm_func_has_revision(const NvdimmDsmFunc *f, uint32_t revision);
/*
 * Whether any function of @target with @caps answers at @revision
 * (revision 1 always counts: it is the interface's base revision).
 */
bool nvdimm_dsm_revision_known(NvdimmDsmTarget target, unsigned caps,
                               uint32_t revision);
/*
 * Function-0 bitmap of @target at _DSM revision @revision (bit 0 set iff
 * any other bit is).
 */
uint32_t nvdimm_dsm_supported_mask(NvdimmDsmTarget target, unsigned caps,
                                   uint32_t revision);
/* Name of @function for traces ("query", "get-label-size", "?"). */
const char *nvdimm_dsm_func_name(NvdimmDsmTarget target, uint32_t function);
const char *nvdimm_dsm_target_name(NvdimmDsmTarget target);

/* ------------------------------------------------------------------------ */
/* DSM calls (nvdimm-dsm.c) and function handlers (nvdimm-dsm-*.c)           */

/* One decoded call, host byte order. */
typedef struct NvdimmDsmCall {
    uint32_t handle;
    uint32_t revision;
    uint32_t function;
    NvdimmDsmTarget target;
    struct NVDIMMDevice *nvdimm;    /* NVDIMM_DSM_TARGET_DIMM only */
    const uint8_t *arg;             /* NVDIMM_DSM_ARG_MAX bytes */
} NvdimmDsmCall;

/* The reply: the out page in guest byte order, @used bytes of its data. */
typedef struct NvdimmDsmReply {
    size_t used;
    NvdimmDsmOutPage page;
} NvdimmDsmReply;

typedef void NvdimmDsmHandler(struct NVDIMMState *s,
                              const NvdimmDsmCall *call,
                              NvdimmDsmReply *reply);

/* Reply with only a status dword. */
void nvdimm_dsm_reply_status(NvdimmDsmReply *reply, uint32_t status);
/* Reply with @len bytes of @data (a whole output struct, status first). */
void nvdimm_dsm_reply_data(NvdimmDsmReply *reply, const void *data,
                           size_t len);
/*
 * A guest error: trace it, log it, and answer with @status (a
 * NvdimmDsmStatus, or for root functions a NvdimmArsStatus with its
 * extended status in bits 31:16).
 */
void G_GNUC_PRINTF(4, 5)
nvdimm_dsm_fail(const NvdimmDsmCall *call, NvdimmDsmReply *reply,
                uint32_t status, const char *fmt, ...);

/* A host error (a state or label write not durable): status 4, traced. */
void nvdimm_dsm_host_error(const NvdimmDsmCall *call, NvdimmDsmReply *reply,
                           const char *why);

/* Intel SMART and health functions (nvdimm-dsm-health.c). */
NvdimmDsmHandler nvdimm_dsm_smart;
NvdimmDsmHandler nvdimm_dsm_smart_threshold;
NvdimmDsmHandler nvdimm_dsm_set_smart_threshold;
NvdimmDsmHandler nvdimm_dsm_inject_smart;
NvdimmDsmHandler nvdimm_dsm_latch_shutdown;

/* ------------------------------------------------------------------------ */
/* Health events (nvdimm-events.c)                                           */

/* Start listening to every module's state changes (machine init). */
void nvdimm_events_init(struct NVDIMMState *s);
/* The ACPI device that raises the GPE (every plug passes it). */
void nvdimm_events_set_acpi_dev(struct NVDIMMState *s, DeviceState *acpi_dev);
/*
 * New poison the guest should learn of (ARS Error Inject with the notify
 * option, QMP nvdimm-inject-poison): mark a root event pending and raise
 * the GPE; the SSDT's NEVT then sends Notify (NVDR, 0x81) and Linux
 * re-scrubs.  @s NULL: the machine's.
 */
void nvdimm_events_uc_error(struct NVDIMMState *s);
/*
 * Whether -global nvdimm.nvdimm-n=on makes every NVDIMM an NVDIMM-N, also
 * those hot-plugged later: the machine then has the NVDIMM-N ACPI parts
 * (NEVT, the QEMU root's function 2, the root's ARS functions) from boot,
 * before any such DIMM is plugged.
 */
bool nvdimm_events_nvdimm_n_default(void);
/* QEMU root function 2: the slots with a pending event; clears them. */
NvdimmDsmHandler nvdimm_dsm_health_events;

/* ------------------------------------------------------------------------ */
/* DSM doorbell (nvdimm-dsm.c) and SSDT (nvdimm-ssdt.c)                      */

struct AcpiGenericAddress;
struct BIOSLinker;
struct MemoryRegionOps;

/* The doorbell's MemoryRegionOps; opaque is the NVDIMMState. */
extern const struct MemoryRegionOps nvdimm_dsm_ops;

/*
 * Append the NVDIMM SSDT to @table_data: the root device, one child per
 * RAM slot, and the DSM page pointer, which the bios-linker patches to the
 * page it allocates from NVDIMM_DSM_MEM_FILE (@dsm_mem, the template).
 * @health_events adds the NVDIMM_ACPI_HEALTH_EVENT_METHOD method, which the
 * DSDT's NVDIMM GPE handler then calls.
 */
void nvdimm_ssdt_build(GArray *table_offsets, GArray *table_data,
                       struct BIOSLinker *linker,
                       const struct AcpiGenericAddress *dsm_io,
                       GArray *dsm_mem, uint32_t ram_slots,
                       bool health_events,
                       const char *oem_id, const char *oem_table_id);

/* ------------------------------------------------------------------------ */
/* Root functions: ARS, clear, error injection (nvdimm-ars.c)                */

/*
 * Whether the root offers them: some plugged NVDIMM has nvdimm-n=on, or
 * every NVDIMM will (nvdimm_events_nvdimm_n_default()).
 */
bool nvdimm_ars_available(void);

NvdimmDsmHandler nvdimm_ars_dsm_cap;
NvdimmDsmHandler nvdimm_ars_dsm_start;
NvdimmDsmHandler nvdimm_ars_dsm_status;
NvdimmDsmHandler nvdimm_ars_dsm_clear_error;
NvdimmDsmHandler nvdimm_ars_dsm_inject;
NvdimmDsmHandler nvdimm_ars_dsm_inject_clear;
NvdimmDsmHandler nvdimm_ars_dsm_inject_status;

#endif /* HW_ACPI_NVDIMM_INTERNAL_H */
