/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM-N flush hints (nvdimm-n=on).
 *
 * Each NVDIMM-N DIMM gets one 4 KiB MMIO page right after its pmem, inside
 * the range the DIMM occupies in the device memory area (placement:
 * include/hw/mem/nvdimm-flush-hint.h).  The NFIT's Flush Hint Address
 * structure (ACPI 6.5 section 5.2.26.8, built in hw/acpi/nvdimm-nfit.c)
 * points at offset 0 of it.  Linux writes any value there to flush a
 * region (regionX/deep_flush, REQ_PREFLUSH/FUA from fsync on pmem/fsdax,
 * namespace shutdown: drivers/nvdimm/region_devs.c generic_nvdimm_flush).
 *
 * A write to the hint makes everything the guest wrote to the DIMM durable
 * on the host before the write completes: the vCPU is held until the host
 * flush of the whole pmem range returns.  How is the backend's business
 * (include/hw/mem/nvdimm-flush.h): msync() of the mapped range for a file
 * or memfd, pmem_persist() for real persistent memory (pmem=on, device-DAX),
 * nothing for anonymous RAM (nothing outlives QEMU there).  The flushes
 * served are counted in the read-only QOM property "flush-count".
 *
 * Migration: nothing to migrate.  The count is an observation of this QEMU
 * process, not guest-visible state (the guest cannot read it back: reads of
 * the page return 0), and everything made durable is in the backend.
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "qemu/pmem.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/mem/nvdimm.h"
#include "hw/mem/memory-device.h"
#include "qapi/qapi-types-machine.h"
#include "system/hostmem.h"
#include "exec/address-spaces.h"
#include "trace.h"

static const char *const nvdimm_flush_method_names[] = {
    [NVDIMM_FLUSH_NONE] = "none",
    [NVDIMM_FLUSH_PMEM] = "pmem_persist",
    [NVDIMM_FLUSH_MSYNC] = "msync",
};

static const char *nvdimm_flush_method_name(NvdimmFlush method)
{
    return method < ARRAY_SIZE(nvdimm_flush_method_names) &&
           nvdimm_flush_method_names[method] ?
           nvdimm_flush_method_names[method] : "?";
}

/* Make the whole pmem durable: 0, or the negative errno of the host. */
static int nvdimm_flush_hint_persist(const NvdimmFlushHint *fh)
{
    switch (fh->method) {
    case NVDIMM_FLUSH_PMEM:
        pmem_persist(fh->pmem, fh->pmem_size);
        return 0;
    case NVDIMM_FLUSH_MSYNC:
        if (qemu_msync(fh->pmem, fh->pmem_size, fh->fd) < 0) {
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
 * device.  The guest cannot be told through the hint (a posted write), so
 * the write still completes.
 */
static void nvdimm_flush_hint_failed(NVDIMMDevice *nvdimm, int err)
{
    g_autofree char *name =
        host_memory_backend_get_name(PC_DIMM(nvdimm)->hostmem);

    trace_nvdimm_flush_hint_failed(name, err);
    warn_report_once_cond(&nvdimm->flush_hint.failed_warned,
                          "nvdimm: memdev '%s': a guest flush (NVDIMM-N "
                          "flush hint) could not be made durable on the "
                          "backend: %s (reported once)", name, strerror(err));
}

/* Guest misuse of the hint page: traced and logged, otherwise ignored. */
static void nvdimm_flush_hint_guest_error(NVDIMMDevice *nvdimm, const char *op,
                                          hwaddr addr, unsigned size)
{
    trace_nvdimm_flush_hint_bad_access(nvdimm_handle(nvdimm), op, addr, size);
    qemu_log_mask(LOG_GUEST_ERROR, "nvdimm handle 0x%" PRIx32 ": %s of %u "
                  "bytes at flush hint page offset 0x%" HWADDR_PRIx
                  " ignored (the hint is a write-only register at offset "
                  "0x%x)\n", nvdimm_handle(nvdimm), op, size, addr,
                  NVDIMM_FLUSH_HINT_OFFSET);
}

/* Reads are not part of the interface: 0, and logged. */
static uint64_t nvdimm_flush_hint_read(void *opaque, hwaddr addr,
                                       unsigned size)
{
    nvdimm_flush_hint_guest_error(opaque, "read", addr, size);
    return 0;
}

/* A write of any value to the hint's 8 bytes flushes the DIMM. */
static void nvdimm_flush_hint_write(void *opaque, hwaddr addr, uint64_t val,
                                    unsigned size)
{
    NVDIMMDevice *nvdimm = opaque;
    NvdimmFlushHint *fh = &nvdimm->flush_hint;
    /* from the hint; wraps to a huge value below it */
    hwaddr off = addr - NVDIMM_FLUSH_HINT_OFFSET;
    int ret;

    if (off >= sizeof(uint64_t) || off + size > sizeof(uint64_t)) {
        nvdimm_flush_hint_guest_error(nvdimm, "write", addr, size);
        return;
    }
    ret = nvdimm_flush_hint_persist(fh);
    if (ret < 0) {
        nvdimm_flush_hint_failed(nvdimm, -ret);
    }
    fh->count++;
    trace_nvdimm_flush_hint(nvdimm_handle(nvdimm),
                            nvdimm_flush_method_name(fh->method), fh->count,
                            ret);
}

static const MemoryRegionOps nvdimm_flush_hint_ops = {
    .read = nvdimm_flush_hint_read,
    .write = nvdimm_flush_hint_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

MemoryRegion *nvdimm_flush_hint_region_init(NVDIMMDevice *nvdimm,
                                            MemoryRegion *pmem_mr,
                                            uint64_t align)
{
    NvdimmFlushHint *fh = &nvdimm->flush_hint;
    uint64_t pmem_size = memory_region_size(pmem_mr);
    uint64_t granule = MAX(align, NVDIMM_N_STRIDE);
    uint64_t size = QEMU_ALIGN_UP(pmem_size + NVDIMM_FLUSH_HINT_PAGE_SIZE,
                                  granule);

    /* pmem_size is a multiple of align >= the host page: the hint is too */
    g_assert(QEMU_IS_ALIGNED(pmem_size, NVDIMM_FLUSH_HINT_PAGE_SIZE));

    fh->fd = -1;
    fh->pmem_size = pmem_size;
    /*
     * The container reserves the DIMM's whole range in the device memory
     * area but holds only the pmem: the memory-device core expects RAM
     * alone there, so the hint page goes to system memory, over the hole
     * the container leaves (nvdimm_flush_hint_realize).
     */
    memory_region_init(&fh->container, OBJECT(nvdimm), "nvdimm-n", size);
    /* the memory-device core places and checks the DIMM by this */
    fh->container.align = granule;
    memory_region_add_subregion(&fh->container, 0, pmem_mr);
    memory_region_init_io(&fh->mmio, OBJECT(nvdimm), &nvdimm_flush_hint_ops,
                          nvdimm, "nvdimm-flush-hint",
                          NVDIMM_FLUSH_HINT_PAGE_SIZE);
    trace_nvdimm_flush_hint_region(pmem_size, size, granule);
    return &fh->container;
}

void nvdimm_flush_hint_realize(NVDIMMDevice *nvdimm, NvdimmFlush method,
                               int fd, void *pmem)
{
    NvdimmFlushHint *fh = &nvdimm->flush_hint;
    /* pre-plug has placed the DIMM: its address is known here */
    hwaddr page = PC_DIMM(nvdimm)->addr + fh->pmem_size;

    fh->method = method;
    fh->fd = fd;
    fh->pmem = pmem;
    g_assert(!fh->mapped);
    memory_region_add_subregion_overlap(get_system_memory(), page, &fh->mmio,
                                        NVDIMM_FLUSH_HINT_PRIORITY);
    fh->mapped = true;
}

void nvdimm_flush_hint_unrealize(NVDIMMDevice *nvdimm)
{
    NvdimmFlushHint *fh = &nvdimm->flush_hint;

    if (fh->mapped) {
        memory_region_del_subregion(get_system_memory(), &fh->mmio);
        fh->mapped = false;
    }
}

static void nvdimm_flush_hint_get_count(Object *obj, Visitor *v,
                                        const char *name, void *opaque,
                                        Error **errp)
{
    uint64_t count = NVDIMM(obj)->flush_hint.count;

    visit_type_uint64(v, name, &count, errp);
}

/* pc-dimm's query-memory-devices filler, which nvdimm_md_fill_info wraps */
static void (*nvdimm_parent_fill_info)(const MemoryDeviceState *md,
                                       MemoryDeviceInfo *info);

/*
 * query-memory-devices: an NVDIMM's size is its pmem, as without
 * nvdimm-n, not the range reserved with the hint page (pc-dimm reports
 * the size of the region the device maps).
 */
static void nvdimm_md_fill_info(const MemoryDeviceState *md,
                                MemoryDeviceInfo *info)
{
    const NVDIMMDevice *nvdimm = NVDIMM(md);

    nvdimm_parent_fill_info(md, info);
    if (nvdimm->nvdimm_n && info->type == MEMORY_DEVICE_INFO_KIND_NVDIMM) {
        info->u.nvdimm.data->size = nvdimm->flush_hint.pmem_size;
    }
}

void nvdimm_flush_hint_class_init(ObjectClass *oc)
{
    MemoryDeviceClass *mdc = MEMORY_DEVICE_CLASS(oc);

    nvdimm_parent_fill_info = mdc->fill_device_info;
    mdc->fill_device_info = nvdimm_md_fill_info;
    object_class_property_add(oc, NVDIMM_FLUSH_COUNT_PROP, "uint64",
                              nvdimm_flush_hint_get_count, NULL, NULL, NULL);
    object_class_property_set_description(oc, NVDIMM_FLUSH_COUNT_PROP,
        "guest writes to the NVDIMM-N flush hint served (read-only; "
        "0 without nvdimm-n=on)");
}
