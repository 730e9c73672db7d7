/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM device: a pc-dimm whose backend carries persistent memory
 * and, at its end, an optional label storage area.
 *
 *   backend: [ persistent memory (guest-visible) | gap | label area ]
 *            0                          pmem_size   label_offset   size
 *
 * The guest-visible part is the backend minus the label area, aligned down
 * to the backend's alignment; the label area is the last label-size bytes
 * and is reached only through the label DSM functions (hw/acpi/nvdimm-dsm.c).
 *
 * With nvdimm-n=on a state area (hw/mem/nvdimm-state.c) sits just below
 * the label area, at a NVDIMM_STATE_COPY_SIZE-aligned offset:
 *
 *   [ pmem | gap | state area | gap < 4 KiB | label area ]
 *   0   pmem_size state_offset               label_offset  size
 *
 * With it off the layout is exactly the one above (as stock QEMU's).
 *
 * Migration: a plain NVDIMM (nvdimm-n=off) has no VMState, as stock's
 * has none, so its stream stays the same.  Everything it holds is either
 * configuration (the destination is started with the same properties) or
 * lives in the backend RAM block, which pc_dimm_plug() registers for
 * migration; label writes mark that RAM dirty.  With nvdimm-n=on the
 * state area (health, thresholds, injections, shutdown count, poison)
 * also lives in the backend RAM: a migration target reads it when the VM
 * first runs there.  The one thing only in QEMU's memory is a health
 * event the guest has not fetched yet (nvdimm-events.c): it travels in a
 * small section of its own, "nvqemu-nvdimm-n", registered for NVDIMM-N
 * modules only (nvdimm_nvn_vmstate).  The root's event for new poison
 * (NVDIMMState.uc_error_pending, machine-wide) rides along in a
 * subsection of every module's section, sent only while it is pending.
 */
#include "qemu/osdep.h"
#include "qemu/module.h"
#include "qemu/cutils.h"
#include "qemu/units.h"
#include "qemu/error-report.h"
#include "qemu/pmem.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/mem/nvdimm.h"
#include "hw/boards.h"
#include "hw/mem/memory-device.h"
#include "hw/acpi/nvdimm-spec.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "system/hostmem.h"
#include "hw/mem/nvdimm-flush.h"
#include "system/system.h"
#include "system/runstate.h"
#include "migration/vmstate.h"
#include "trace.h"

/*
 * The realized NVDIMMs, from the end of realize to the start of unrealize,
 * for the DSM paths that look one up or ask whether any has a feature
 * (by handle, by SPA range, health events): nvdimm_get_device_list()
 * walks the whole QOM tree, and did so several times a call.  In no
 * particular order: what emits a list in an order the guest sees (the
 * NFIT, ARS Inject Status's records) keeps nvdimm_get_device_list()'s.
 */
static GSList *nvdimm_realized;

const GSList *nvdimm_realized_list(void)
{
    return nvdimm_realized;
}

uint32_t nvdimm_handle(const NVDIMMDevice *nvdimm)
{
    return PC_DIMM(nvdimm)->slot + 1;
}

NVDIMMDevice *nvdimm_find_by_handle(uint32_t handle)
{
    for (const GSList *l = nvdimm_realized; l; l = l->next) {
        if (nvdimm_handle(l->data) == handle) {
            return l->data;
        }
    }
    return NULL;
}

bool nvdimm_label_range_ok(const NVDIMMDevice *nvdimm, uint64_t offset,
                           uint64_t size)
{
    return nvdimm->label_data &&
           size <= nvdimm->label_size &&
           offset <= nvdimm->label_size - size;
}

/*
 * Work out the layout from the backend and create the guest-visible
 * region.  Called from the memory-device get_memory_region hook, which runs
 * before realize (in pre-plug), so it is idempotent and only reports errors
 * until it succeeds.
 */
static bool nvdimm_prepare_memory_region(NVDIMMDevice *nvdimm, Error **errp)
{
    PCDIMMDevice *dimm = PC_DIMM(nvdimm);
    g_autofree char *name = NULL;
    MemoryRegion *backend_mr;
    uint64_t size, align, pmem_size, reserved, pmem_end;

    if (nvdimm->nvdimm_mr) {
        return true;
    }
    if (!dimm->hostmem) {
        error_setg(errp, "nvdimm: property '" PC_DIMM_MEMDEV_PROP
                   "' must be set");
        return false;
    }

    name = host_memory_backend_get_name(dimm->hostmem);
    backend_mr = host_memory_backend_get_memory(dimm->hostmem);
    size = memory_region_size(backend_mr);
    align = memory_region_get_alignment(backend_mr);
    if (!align) {
        align = qemu_real_host_page_size();
    }

    if (nvdimm->label_size > UINT32_MAX) {
        /*
         * Get Label Size reports it in 32 bits, and QEMU always reported
         * its low 32 bits: keep that, for the labels a guest wrote.
         */
        warn_report("nvdimm: property '" NVDIMM_LABEL_SIZE_PROP "' is 0x%"
                    PRIx64 " bytes, more than the DSM interface can report; "
                    "the guest is told 0x%" PRIx32, nvdimm->label_size,
                    (uint32_t)nvdimm->label_size);
    }
    if (nvdimm->label_size >= size) {
        error_setg(errp, "nvdimm: memdev '%s' (%" PRIu64 " bytes) is too "
                   "small for property '" NVDIMM_LABEL_SIZE_PROP "' = %"
                   PRIu64 " bytes", name, size, nvdimm->label_size);
        return false;
    }
    pmem_end = size - nvdimm->label_size;
    if (nvdimm->nvdimm_n) {
        reserved = nvdimm->label_size + NVDIMM_STATE_AREA_SIZE;
        if (reserved >= size) {
            error_setg(errp, "nvdimm: memdev '%s' (%" PRIu64 " bytes) is too "
                       "small for the %u-byte NVDIMM-N state area and the %"
                       PRIu64 "-byte label area", name, size,
                       NVDIMM_STATE_AREA_SIZE, nvdimm->label_size);
            return false;
        }
        pmem_end = QEMU_ALIGN_DOWN(size - reserved, NVDIMM_STATE_COPY_SIZE);
        nvdimm->state_offset = pmem_end;
    }
    pmem_size = QEMU_ALIGN_DOWN(pmem_end, align);
    if (!pmem_size) {
        error_setg(errp, "nvdimm: memdev '%s' (%" PRIu64 " bytes) leaves "
                   "%" PRIu64 " bytes after the %" PRIu64 "-byte label area, "
                   "less than its alignment 0x%" PRIx64, name, size,
                   size - nvdimm->label_size, nvdimm->label_size, align);
        return false;
    }

    /*
     * Without labels nothing is meant to follow the pmem, so a tail below
     * the alignment is most likely a mistake in the backend size: it is
     * accepted (QEMU always has) but never reaches the guest.
     */
    if (!nvdimm->label_size && !nvdimm->nvdimm_n && pmem_size != size) {
        warn_report("nvdimm: memdev '%s' size 0x%" PRIx64 " is not a "
                    "multiple of its alignment 0x%" PRIx64 "; the guest "
                    "sees only the first 0x%" PRIx64 " bytes", name, size,
                    align, pmem_size);
    }

    nvdimm->readonly = memory_region_is_rom(backend_mr);
    if (nvdimm->readonly && !nvdimm->unarmed) {
        error_setg(errp, "nvdimm: memdev '%s' is read-only; a read-only "
                   "NVDIMM needs property '" NVDIMM_UNARMED_PROP "=on'", name);
        return false;
    }

    memory_region_init_alias(&nvdimm->pmem_mr, OBJECT(nvdimm),
                             "nvdimm-memory", backend_mr, 0, pmem_size);
    /* The memory-device core checks the size against this alignment. */
    nvdimm->pmem_mr.align = align;
    memory_region_set_nonvolatile(&nvdimm->pmem_mr, true);
    /* NVDIMM-N: the flush hint page follows the pmem (nvdimm-flush-hint.h) */
    nvdimm->nvdimm_mr = nvdimm->nvdimm_n ?
        nvdimm_flush_hint_region_init(nvdimm, &nvdimm->pmem_mr, align) :
        &nvdimm->pmem_mr;
    nvdimm->label_offset = size - nvdimm->label_size;
    trace_nvdimm_layout(name, size, pmem_size, nvdimm->label_size, align);
    if (nvdimm->nvdimm_n) {
        trace_nvdimm_nvn_layout(name, nvdimm->state_offset,
                                  NVDIMM_STATE_AREA_SIZE);
    }
    return true;
}

/*
 * Where an automatically placed, hot-plugged NVDIMM may start.
 *
 * Linux creates a namespace in fsdax or devdax mode (the "pfn" modes) only
 * where its start is aligned to memremap_compat_align(), 2 MiB on x86
 * (drivers/nvdimm/pfn_devs.c), and gives each region a namespace
 * alignment ("align") of 16 MiB by default (MEMREMAP_COMPAT_ALIGN_MAX,
 * drivers/nvdimm/region_devs.c); ndctl create-namespace refuses a
 * namespace whose start misses the region's alignment ("misaligned to
 * 16M, adjust region alignment and retry").  The first namespace starts
 * at the region start, i.e. at the DIMM's address.  First-fit placement
 * aligns only to the backend, so a DIMM plugged after one whose size is
 * not a multiple of 16 MiB (for example any DIMM with a label area) is
 * unusable for fsdax/devdax unless the user aligned the backends.
 *
 * Rounding up to 16 MiB moves a DIMM only where stock QEMU's address is
 * one ndctl refuses with the default region alignment.  Only for hot-plug
 * without "addr": cold-plugged DIMMs keep stock QEMU's placement, which
 * the guest-visible layout of existing command lines depends on (and a
 * migration from stock QEMU: its destination cold-plugs every DIMM); an
 * address given by the user is taken as it is.
 */
#define NVDIMM_HOTPLUG_ALIGN (16 * MiB)

static uint64_t nvdimm_md_get_min_alignment(const MemoryDeviceState *md)
{
    const PCDIMMDevice *dimm = PC_DIMM(md);

    if (!DEVICE(md)->hotplugged || dimm->addr) {
        return 0;       /* the backend's alignment alone, as stock */
    }
    return NVDIMM_HOTPLUG_ALIGN;
}

static MemoryRegion *nvdimm_md_get_memory_region(MemoryDeviceState *md,
                                                 Error **errp)
{
    NVDIMMDevice *nvdimm = NVDIMM(md);

    if (!nvdimm_prepare_memory_region(nvdimm, errp)) {
        return NULL;
    }
    return nvdimm->nvdimm_mr;
}

/*
 * How label writes reach the medium, decided once: the backend's fd, file
 * type and pmem flag do not change while the device exists.
 */
static NvdimmFlush nvdimm_label_flush_choose(HostMemoryBackend *hostmem,
                                             MemoryRegion *backend_mr)
{
    Object *obj = OBJECT(hostmem);
    int fd = memory_region_get_fd(backend_mr);
    struct stat st = { 0 };
    bool have_libpmem = false;
    /*
     * ramblock_is_pmem() is in the target-specific exec/ram_addr.h, out of
     * reach of this common-code file: ask the backend (file only) instead.
     */
    bool is_pmem = object_property_find(obj, "pmem") &&
                   object_property_get_bool(obj, "pmem", NULL);

#ifdef CONFIG_LIBPMEM
    have_libpmem = true;
#endif
    if (fd >= 0 && fstat(fd, &st) < 0) {
        st.st_mode = 0;     /* unknown: treated as a file */
    }
    return nvdimm_flush_method(fd >= 0, is_pmem, st.st_mode, have_libpmem);
}

static int nvdimm_label_persist(NVDIMMDevice *nvdimm, MemoryRegion *backend_mr,
                                void *ptr, uint64_t size);

/* NvdimmStatePersistFn: the state area is made durable like labels are. */
static int nvdimm_nvn_persist(void *opaque, void *ptr, size_t size)
{
    NVDIMMDevice *nvdimm = opaque;
    MemoryRegion *backend_mr =
        host_memory_backend_get_memory(PC_DIMM(nvdimm)->hostmem);
    uint64_t offset = (uint8_t *)ptr -
                      (uint8_t *)memory_region_get_ram_ptr(backend_mr);

    /* backend RAM: let migration resend it */
    memory_region_set_dirty(backend_mr, offset, size);
    return nvdimm_label_persist(nvdimm, backend_mr, ptr, size);
}

/*
 * Whether writes to the backend reach its medium: not for a read-only
 * backend, anonymous RAM or a private (share=off) mapping.
 */
static bool nvdimm_backend_is_durable(NVDIMMDevice *nvdimm,
                                      MemoryRegion *backend_mr)
{
    Object *obj = OBJECT(PC_DIMM(nvdimm)->hostmem);

    return !nvdimm->readonly && memory_region_get_fd(backend_mr) >= 0 &&
           object_property_find(obj, "share") &&
           object_property_get_bool(obj, "share", NULL);
}

/*
 * An orderly QEMU exit (poweroff, quit, SIGTERM) is a clean shutdown;
 * after a completed outgoing migration the run goes on at the destination,
 * which may share the backend: leave the state to it.
 */
static void nvdimm_exit_notify(Notifier *n, void *data)
{
    NVDIMMDevice *nvdimm = container_of(n, NVDIMMDevice, exit_notifier);

    if (runstate_check(RUN_STATE_POSTMIGRATE)) {
        return;
    }
    nvdimm_state_mark_clean(nvdimm->state);
}

static void nvdimm_nvn_start(NVDIMMDevice *nvdimm, MemoryRegion *backend_mr,
                             bool incoming)
{
    g_autofree char *name =
        host_memory_backend_get_name(PC_DIMM(nvdimm)->hostmem);
    NvdimmStateBacking backing = {
        .area = (uint8_t *)memory_region_get_ram_ptr(backend_mr) +
                nvdimm->state_offset,
        .persist = nvdimm_nvn_persist,
        .opaque = nvdimm,
        .volatile_only = !nvdimm_backend_is_durable(nvdimm, backend_mr),
        .name = name,
        .incoming = incoming,
    };

    if (backing.volatile_only) {
        warn_report("nvdimm: memdev '%s' is read-only, anonymous or not "
                    "shared: the NVDIMM-N state (health, shutdown count, "
                    "poison) is kept in memory only", name);
    }
    nvdimm->state = nvdimm_state_open(&backing, nvdimm);
    nvdimm->exit_notifier.notify = nvdimm_exit_notify;
    qemu_add_exit_notifier(&nvdimm->exit_notifier);
}

/*
 * On a migration target the state area arrives with the backend RAM, after
 * realize: read it when the VM first runs here, and count nothing (the
 * source's run goes on).
 */
static void nvdimm_nvn_vm_state(void *opaque, bool running, RunState state)
{
    NVDIMMDevice *nvdimm = opaque;

    if (!running) {
        return;
    }
    qemu_del_vm_change_state_handler(nvdimm->nvn_vm_state);
    nvdimm->nvn_vm_state = NULL;
    nvdimm_nvn_start(nvdimm,
                     host_memory_backend_get_memory(PC_DIMM(nvdimm)->hostmem),
                     true);
}

static void nvdimm_nvn_stop(NVDIMMDevice *nvdimm)
{
    if (nvdimm->nvn_vm_state) {
        qemu_del_vm_change_state_handler(nvdimm->nvn_vm_state);
        nvdimm->nvn_vm_state = NULL;
    }
    if (!nvdimm->state) {
        return;
    }
    qemu_remove_exit_notifier(&nvdimm->exit_notifier);
    /* an unplug is an orderly end of this module's run */
    nvdimm_state_mark_clean(nvdimm->state);
    nvdimm_state_close(nvdimm->state);
    nvdimm->state = NULL;
}

/* The machine's NVDIMM state, if the machine has one */
static NVDIMMState *nvdimm_machine_state(void)
{
    return MACHINE(qdev_get_machine())->nvdimms_state;
}

/* The root's new-poison event, as the stream carries it */
typedef struct NvdimmNvnRoot {
    NVDIMMDevice *parent;
    bool uc_error_pending;
} NvdimmNvnRoot;

static bool nvdimm_nvn_root_needed(void *opaque)
{
    NVDIMMState *s = nvdimm_machine_state();

    return s && s->uc_error_pending;
}

static int nvdimm_nvn_root_pre_save(void *opaque)
{
    NvdimmNvnRoot *t = opaque;

    t->uc_error_pending = nvdimm_nvn_root_needed(t->parent);
    return 0;
}

/* Each module's section may carry it: any of them sets the mark */
static int nvdimm_nvn_root_post_load(void *opaque, int version_id)
{
    NvdimmNvnRoot *t = opaque;
    NVDIMMState *s = nvdimm_machine_state();

    if (s) {
        s->uc_error_pending |= t->uc_error_pending;
    }
    return 0;
}

static const VMStateDescription nvdimm_nvn_root_tmp = {
    .name = "nvqemu-nvdimm-n/root/tmp",
    .pre_save = nvdimm_nvn_root_pre_save,
    .post_load = nvdimm_nvn_root_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(uc_error_pending, NvdimmNvnRoot),
        VMSTATE_END_OF_LIST()
    },
};

/* Only while the root event is pending: the stream is otherwise as before */
static const VMStateDescription nvdimm_nvn_root_vmstate = {
    .name = "nvqemu-nvdimm-n/root",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = nvdimm_nvn_root_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_WITH_TMP(NVDIMMDevice, NvdimmNvnRoot, nvdimm_nvn_root_tmp),
        VMSTATE_END_OF_LIST()
    },
};

/*
 * What an NVDIMM-N module holds outside its backend RAM.  Version 1; a
 * source with nvdimm-n=on and a destination with it off fail the load
 * (a section nobody claims).
 */
static const VMStateDescription nvdimm_nvn_vmstate = {
    .name = "nvqemu-nvdimm-n",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(health_event_pending, NVDIMMDevice),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &nvdimm_nvn_root_vmstate,
        NULL
    },
};

static void nvdimm_dimm_realize(PCDIMMDevice *dimm, Error **errp)
{
    ERRP_GUARD();
    NVDIMMDevice *nvdimm = NVDIMM(dimm);
    NVDIMMClass *nc = NVDIMM_GET_CLASS(nvdimm);
    MemoryRegion *backend_mr;

    if (!nvdimm_prepare_memory_region(nvdimm, errp)) {
        return;
    }
    backend_mr = host_memory_backend_get_memory(dimm->hostmem);
    if (nvdimm->label_size || nvdimm->nvdimm_n) {
        nvdimm->label_flush = nvdimm_label_flush_choose(dimm->hostmem,
                                                        backend_mr);
    }
    if (nvdimm->label_size) {
        nvdimm->label_data = (uint8_t *)memory_region_get_ram_ptr(backend_mr) +
                             nvdimm->label_offset;
    }
    if (nc->realize) {
        nc->realize(nvdimm, errp);
        if (*errp) {
            return;
        }
    }
    if (nvdimm->nvdimm_n && runstate_check(RUN_STATE_INMIGRATE)) {
        nvdimm->nvn_vm_state =
            qemu_add_vm_change_state_handler(nvdimm_nvn_vm_state, nvdimm);
    } else if (nvdimm->nvdimm_n) {
        nvdimm_nvn_start(nvdimm, backend_mr, false);
    }
    if (nvdimm->nvdimm_n) {
        /* the pmem is made durable like labels and the state area */
        nvdimm_flush_hint_realize(nvdimm, nvdimm->label_flush,
                                  memory_region_get_fd(backend_mr),
                                  memory_region_get_ram_ptr(backend_mr));
        /* one section per module, told apart by its slot */
        vmstate_register(VMSTATE_IF(nvdimm), dimm->slot,
                         &nvdimm_nvn_vmstate, nvdimm);
    }
    nvdimm_realized = g_slist_prepend(nvdimm_realized, nvdimm);
}

static void nvdimm_dimm_unrealize(PCDIMMDevice *dimm)
{
    NVDIMMDevice *nvdimm = NVDIMM(dimm);
    NVDIMMClass *nc = NVDIMM_GET_CLASS(nvdimm);

    nvdimm_realized = g_slist_remove(nvdimm_realized, nvdimm);
    if (nvdimm->nvdimm_n) {
        vmstate_unregister(VMSTATE_IF(nvdimm), &nvdimm_nvn_vmstate, nvdimm);
    }
    nvdimm_nvn_stop(nvdimm);
    if (nc->unrealize) {
        nc->unrealize(nvdimm);
    }
    nvdimm_flush_hint_unrealize(nvdimm);
    nvdimm->label_data = NULL;
}

static void nvdimm_read_label_data(NVDIMMDevice *nvdimm, void *buf,
                                   uint64_t size, uint64_t offset)
{
    if (!nvdimm_label_range_ok(nvdimm, offset, size)) {
        trace_nvdimm_label_range_bad("read", offset, size, nvdimm->label_size);
        memset(buf, 0, size);
        return;
    }
    memcpy(buf, (uint8_t *)nvdimm->label_data + offset, size);
}

/*
 * Make [@ptr, @ptr + @size) of the backend durable (nvdimm-flush.h):
 * 0, or the negative errno of a failed host flush.
 */
static int nvdimm_label_persist(NVDIMMDevice *nvdimm, MemoryRegion *backend_mr,
                                void *ptr, uint64_t size)
{
    switch (nvdimm->label_flush) {
    case NVDIMM_FLUSH_PMEM:
        pmem_persist(ptr, size);
        return 0;
    case NVDIMM_FLUSH_MSYNC:
        if (qemu_msync(ptr, size, memory_region_get_fd(backend_mr)) < 0) {
            return -errno;
        }
        return 0;
    case NVDIMM_FLUSH_NONE:
        break;
    }
    return 0;
}

/*
 * A host I/O error, not a guest one: traced each time, reported once per
 * device (a guest retrying must not flood the log).
 */
static void nvdimm_label_flush_failed(NVDIMMDevice *nvdimm, uint64_t offset,
                                      uint64_t size, int err)
{
    g_autofree char *name =
        host_memory_backend_get_name(PC_DIMM(nvdimm)->hostmem);

    trace_nvdimm_label_flush_failed(name, offset, size, err);
    warn_report_once_cond(&nvdimm->label_flush_warned,
                          "nvdimm: memdev '%s': a label write (offset 0x%"
                          PRIx64 ", 0x%" PRIx64 " bytes) could not be "
                          "flushed to the backend: %s; the guest is told "
                          "of a hardware error (reported once)", name,
                          offset, size, strerror(err));
}

static int nvdimm_write_label_data(NVDIMMDevice *nvdimm, const void *buf,
                                   uint64_t size, uint64_t offset)
{
    HostMemoryBackend *hostmem = PC_DIMM(nvdimm)->hostmem;
    MemoryRegion *backend_mr;
    uint64_t backend_offset;
    uint8_t *dst;
    int ret;

    if (!nvdimm_label_range_ok(nvdimm, offset, size) || nvdimm->readonly) {
        trace_nvdimm_label_range_bad("write", offset, size,
                                     nvdimm->label_size);
        return -EINVAL;
    }
    if (!size) {
        /* nothing written, nothing to flush (offset may be the very end) */
        return 0;
    }
    backend_mr = host_memory_backend_get_memory(hostmem);
    backend_offset = nvdimm->label_offset + offset;
    dst = (uint8_t *)nvdimm->label_data + offset;

    memcpy(dst, buf, size);
    /* the label area is backend RAM: let migration resend it */
    memory_region_set_dirty(backend_mr, backend_offset, size);
    ret = nvdimm_label_persist(nvdimm, backend_mr, dst, size);
    if (ret < 0) {
        nvdimm_label_flush_failed(nvdimm, offset, size, -ret);
        /* -EINVAL means "refused" to the caller */
        return ret == -EINVAL ? -EIO : ret;
    }
    return 0;
}

static void nvdimm_get_label_size(Object *obj, Visitor *v, const char *name,
                                  void *opaque, Error **errp)
{
    uint64_t *ptr = object_field_prop_ptr(obj, opaque);

    visit_type_size(v, name, ptr, errp);
}

/*
 * label-size is 0 (no label area) only by default: a value given on the
 * command line or over QMP must be a real label area, as it always had to.
 *
 * The layout is computed from it in pre-plug (nvdimm_prepare_memory_region)
 * and never again, so it must not change afterwards; it cannot: qdev sets
 * properties only before realize (field_prop_set refuses a realized device,
 * this PropertyInfo does not set realized_set_allowed), and pre-plug and
 * realize run back to back under the BQL in qdev_realize().
 */
static void nvdimm_set_label_size(Object *obj, Visitor *v, const char *name,
                                  void *opaque, Error **errp)
{
    uint64_t *ptr = object_field_prop_ptr(obj, opaque);
    uint64_t value;

    if (!visit_type_size(v, name, &value, errp)) {
        return;
    }
    if (value < NVDIMM_LABEL_SIZE_MIN) {
        g_autofree char *min = size_to_str(NVDIMM_LABEL_SIZE_MIN);

        error_setg(errp, "property '" NVDIMM_LABEL_SIZE_PROP "' is %" PRIu64
                   " bytes; when given it must be at least %u bytes (%s)",
                   value, NVDIMM_LABEL_SIZE_MIN, min);
        return;
    }
    *ptr = value;
}

/* "int" is the type name QEMU has always reported for label-size. */
static const PropertyInfo nvdimm_prop_label_size = {
    .type = "int",
    .description = "label storage area at the end of the memdev, bytes "
                   "(at least 128 KiB; none when not given)",
    .get = nvdimm_get_label_size,
    .set = nvdimm_set_label_size,
};

static void nvdimm_get_uuid(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    QemuUUID *uuid = object_field_prop_ptr(obj, opaque);
    char buf[UUID_STR_LEN];
    char *str = buf;

    qemu_uuid_unparse(uuid, buf);
    visit_type_str(v, name, &str, errp);
}

/* A UUID in its 36-character form; unlike qdev's uuid type, no "auto". */
static void nvdimm_set_uuid(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    QemuUUID *uuid = object_field_prop_ptr(obj, opaque);
    g_autofree char *str = NULL;

    if (!visit_type_str(v, name, &str, errp)) {
        return;
    }
    if (qemu_uuid_parse(str, uuid) < 0) {
        error_setg(errp, "property '" NVDIMM_UUID_PROP "' has invalid value "
                   "'%s': expected a UUID, xxxxxxxx-xxxx-xxxx-xxxx-"
                   "xxxxxxxxxxxx in hex digits", str);
    }
}

/* "QemuUUID" is the type name QEMU has always reported for uuid. */
static const PropertyInfo nvdimm_prop_uuid = {
    .type = "QemuUUID",
    .description = "UUID of the DIMM (used by the pseries machine only)",
    .get = nvdimm_get_uuid,
    .set = nvdimm_set_uuid,
};

static const Property nvdimm_properties[] = {
    DEFINE_PROP(NVDIMM_LABEL_SIZE_PROP, NVDIMMDevice, label_size,
                nvdimm_prop_label_size, uint64_t),
    DEFINE_PROP(NVDIMM_UUID_PROP, NVDIMMDevice, uuid, nvdimm_prop_uuid,
                QemuUUID),
    DEFINE_PROP_BOOL(NVDIMM_UNARMED_PROP, NVDIMMDevice, unarmed, false),
    DEFINE_PROP_BOOL(NVDIMM_NVDIMM_N_PROP, NVDIMMDevice, nvdimm_n, false),
};

static void nvdimm_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    PCDIMMDeviceClass *ddc = PC_DIMM_CLASS(oc);
    MemoryDeviceClass *mdc = MEMORY_DEVICE_CLASS(oc);
    NVDIMMClass *nc = NVDIMM_CLASS(oc);

    dc->desc = "NVDIMM (byte-addressable persistent memory) module";
    device_class_set_props(dc, nvdimm_properties);
    object_class_property_set_description(oc, NVDIMM_NVDIMM_N_PROP,
        "emulate an energy-backed NVDIMM-N: SMART health, thresholds and "
        "injection, dirty-shutdown count, poison list, kept in a state area "
        "of the memdev below the label area, and NFIT flush hints "
        "(default off)");
    ddc->realize = nvdimm_dimm_realize;
    ddc->unrealize = nvdimm_dimm_unrealize;
    mdc->get_memory_region = nvdimm_md_get_memory_region;
    mdc->get_min_alignment = nvdimm_md_get_min_alignment;
    nc->read_label_data = nvdimm_read_label_data;
    nc->write_label_data = nvdimm_write_label_data;
    nvdimm_flush_hint_class_init(oc);
}

static const TypeInfo nvdimm_info = {
    .name = TYPE_NVDIMM,
    .parent = TYPE_PC_DIMM,
    .instance_size = sizeof(NVDIMMDevice),
    .class_size = sizeof(NVDIMMClass),
    .class_init = nvdimm_class_init,
};

static void nvdimm_register_types(void)
{
    type_register_static(&nvdimm_info);
}

type_init(nvdimm_register_types)
