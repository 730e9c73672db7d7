/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM-N media errors: the poison of an NVDIMM, for host code.
 *
 * The guest reaches poison through the root device's _DSM functions (ARS,
 * Clear Uncorrectable Error, error injection: hw/acpi/nvdimm-ars.c,
 * docs/specs/nvdimm-acpi.md).  Host code (QMP) injects and removes it with
 * the functions here, which do what the guest's injection functions do.
 *
 * Offsets are from the start of the DIMM's guest-visible persistent memory
 * (its SPA Range base in the NFIT), in bytes.  Poison is kept in units of
 * NVDIMM_ARS_CLEAR_UNIT bytes, the unit Query ARS Capabilities reports: a
 * range is widened to whole units.  It is stored in the DIMM's state area,
 * so it survives restarts.  Only an NVDIMM with nvdimm-n=on has poison.
 */
#ifndef HW_MEM_NVDIMM_ARS_H
#define HW_MEM_NVDIMM_ARS_H

#include "hw/mem/nvdimm.h"

/*
 * Poison granularity and the Clear Uncorrectable Error unit: a cache line
 * group as on hardware, and a divisor of the 512-byte sector Linux and
 * ndctl clear and inject by.
 */
#define NVDIMM_ARS_CLEAR_UNIT 256

/*
 * Poison [@offset, @offset + @length) of @nvdimm.  With @notify, tell the
 * guest as a platform does for an error injection with the notify option:
 * Notify (\_SB.NVDR, 0x81), on which Linux scrubs and finds the poison.
 */
bool nvdimm_ars_inject(NVDIMMDevice *nvdimm, uint64_t offset,
                       uint64_t length, bool notify, Error **errp);

/* The pmem size of @nvdimm (what offsets are within), 0 before plug. */
uint64_t nvdimm_ars_pmem_size(NVDIMMDevice *nvdimm);

/*
 * Remove the poison of [@offset, @offset + @length) of @nvdimm, leaving its
 * data as it is (what ARS Error Inject Clear does).
 */
bool nvdimm_ars_uninject(NVDIMMDevice *nvdimm, uint64_t offset,
                         uint64_t length, Error **errp);

/* Call @fn for each poisoned range of @nvdimm, in address order. */
typedef void NvdimmArsPoisonFn(uint64_t offset, uint64_t length,
                               void *opaque);
void nvdimm_ars_poison_foreach(NVDIMMDevice *nvdimm, NvdimmArsPoisonFn *fn,
                               void *opaque);

#endif /* HW_MEM_NVDIMM_ARS_H */
