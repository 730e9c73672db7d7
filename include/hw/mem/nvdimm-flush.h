/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM: how a label write is made durable on the backend.
 *
 * Pure (no QEMU state), so the choice is unit-tested
 * (tests/unit/test-nvdimm-flush.c); hw/mem/nvdimm-device.c makes it once at
 * realize from the backend's fd, its file type and its pmem flag.
 */
#ifndef HW_MEM_NVDIMM_FLUSH_H
#define HW_MEM_NVDIMM_FLUSH_H

typedef enum NvdimmFlush {
    NVDIMM_FLUSH_NONE,      /* nothing to flush to, or no way to flush */
    NVDIMM_FLUSH_PMEM,      /* pmem_persist(): CPU cache flush (libpmem) */
    NVDIMM_FLUSH_MSYNC,     /* qemu_msync(): page cache to the file */
} NvdimmFlush;

/*
 * @has_fd: the backend RAM is fd-backed; @is_pmem: the RAM block is pmem
 * (memory-backend-file pmem=on); @st_mode: fstat() mode of the fd (0 when
 * unknown); @have_libpmem: pmem_persist() is available (CONFIG_LIBPMEM).
 *
 * A character device is device-DAX (/dev/daxX.Y): its mapping is the
 * medium itself and Linux has no fsync for it (msync() fails with EINVAL),
 * so only a cache flush applies.  Anonymous RAM has nothing to flush.
 */
static inline NvdimmFlush nvdimm_flush_method(bool has_fd, bool is_pmem,
                                              mode_t st_mode,
                                              bool have_libpmem)
{
    if (is_pmem || (has_fd && S_ISCHR(st_mode))) {
        return have_libpmem ? NVDIMM_FLUSH_PMEM : NVDIMM_FLUSH_NONE;
    }
    return has_fd ? NVDIMM_FLUSH_MSYNC : NVDIMM_FLUSH_NONE;
}

#endif /* HW_MEM_NVDIMM_FLUSH_H */
