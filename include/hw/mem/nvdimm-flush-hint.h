/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM-N flush hints (nvdimm-n=on): the MMIO page the NFIT Flush
 * Hint Address structure (ACPI 6.5 section 5.2.26.8) points at.  A guest
 * write to the hint makes everything written to the DIMM so far durable
 * on the host before the write completes.  Code: hw/mem/nvdimm-flush-hint.c;
 * placement and guest ABI: docs/specs/nvdimm-acpi.md.
 *
 * Placement: with nvdimm-n=on the region the DIMM occupies in the machine's
 * device memory area is a container larger than the pmem,
 *
 *   [ pmem (SPA Range) | flush hint page | unused ]
 *   addr          addr + pmem size       addr + NVDIMM_N_STRIDE-aligned
 *
 * so the memory-device allocator reserves the hint page with the DIMM: it
 * can collide with nothing (RAM, other DIMMs, PCI windows lie elsewhere),
 * moves with the DIMM on hot-plug, and needs no machine code.  The
 * container is a multiple of NVDIMM_N_STRIDE so the next DIMM keeps the
 * alignment Linux wants for fsdax/devdax namespaces.  The container holds
 * only the pmem (the memory-device core accounts RAM sections there and
 * warns about anything else); the hint page itself is mapped in system
 * memory over the container's hole, from realize to unrealize.
 */
#ifndef HW_MEM_NVDIMM_FLUSH_HINT_H
#define HW_MEM_NVDIMM_FLUSH_HINT_H

#include "exec/memory.h"
#include "hw/mem/nvdimm-flush.h"

/* Read-only QOM property: guest writes to the flush hint served so far. */
#define NVDIMM_FLUSH_COUNT_PROP "flush-count"

/*
 * The hint page: Linux maps each distinct 4 KiB page of hints
 * (drivers/nvdimm/region_devs.c), and a flush is one 8-byte write of any
 * value (generic_nvdimm_flush: writeq).  One hint per DIMM, at offset 0.
 */
#define NVDIMM_FLUSH_HINT_PAGE_SIZE 4096
#define NVDIMM_FLUSH_HINT_OFFSET 0
/* Over the device memory container's hole (priority 0 everywhere there). */
#define NVDIMM_FLUSH_HINT_PRIORITY 1

/*
 * Granule of the container: 16 MiB, the largest namespace alignment Linux
 * asks of a region (MEMREMAP_COMPAT_ALIGN_MAX), so a DIMM placed after an
 * NVDIMM-N one starts as aligned as it would without the hint page.
 */
#define NVDIMM_N_STRIDE (16 * 1024 * 1024)

typedef struct NVDIMMDevice NVDIMMDevice;

/* Per-DIMM flush hint state (NVDIMMDevice::flush_hint). */
typedef struct NvdimmFlushHint {
    MemoryRegion container;     /* what the DIMM maps: pmem + hole */
    MemoryRegion mmio;          /* the hint page */
    NvdimmFlush method;         /* how the pmem is made durable */
    int fd;                     /* backend fd (msync), -1 without */
    void *pmem;                 /* host address of the guest-visible pmem */
    uint64_t pmem_size;
    uint64_t count;             /* flushes served ("flush-count") */
    bool mapped;                /* mmio is in system memory */
    bool failed_warned;         /* a failed host flush was reported */
} NvdimmFlushHint;

/*
 * Pre-plug: build the container of @nvdimm around @pmem_mr (aligned to
 * @align, which the container keeps) and return it: the region the DIMM
 * maps.  Called once, when the region is first prepared.
 */
MemoryRegion *nvdimm_flush_hint_region_init(NVDIMMDevice *nvdimm,
                                            MemoryRegion *pmem_mr,
                                            uint64_t align);

/*
 * Realize (the DIMM is placed): record how to make the pmem durable
 * (@method, from the backend's fd @fd, -1 for none) and its host address
 * @pmem, and map the hint page.  Unrealize unmaps it.
 */
void nvdimm_flush_hint_realize(NVDIMMDevice *nvdimm, NvdimmFlush method,
                               int fd, void *pmem);
void nvdimm_flush_hint_unrealize(NVDIMMDevice *nvdimm);

/*
 * Guest-physical address of the hint of a DIMM mapped at @dimm_addr whose
 * pmem is @pmem_size bytes.
 */
static inline uint64_t nvdimm_flush_hint_addr(uint64_t dimm_addr,
                                              uint64_t pmem_size)
{
    return dimm_addr + pmem_size + NVDIMM_FLUSH_HINT_OFFSET;
}

/*
 * Class init of TYPE_NVDIMM: the read-only "flush-count" property, and
 * query-memory-devices reporting the pmem size, not the reserved range.
 */
void nvdimm_flush_hint_class_init(ObjectClass *oc);

#endif /* HW_MEM_NVDIMM_FLUSH_HINT_H */
