/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM: the one table of _DSM functions.
 *
 * Pure.  The dispatcher (nvdimm-dsm.c) finds functions here, the function-0
 * bitmaps are computed from here, and traces take their names from here, so
 * adding a function is one line in this table plus its handler.
 *
 * Functions 4-6 follow the Intel NVDIMM DSM interface revision 1; Read FIT
 * and Health Events are QEMU's (docs/specs/nvdimm-acpi.md).  The root device
 * (handle 0) implements the ARS and error-injection functions of ACPI 6.5
 * 9.20.7 only when an NVDIMM-N is plugged; otherwise, as in stock QEMU,
 * none (bitmap 0).  The SMART and health
 * functions (1, 2, 10, 17, 18) exist only on an NVDIMM-N (nvdimm-n=on) and
 * answer at revisions 1 and 2 (Linux asks 17 and 18 at revision 2).
 */
#include "qemu/osdep.h"
#include "nvdimm-internal.h"

/* Revisions of the SMART and health functions. */
#define NVDIMM_DSM_REVS_HEALTH                 \
    (NVDIMM_DSM_REV(NVDIMM_DSM_REVISION) |     \
     NVDIMM_DSM_REV(NVDIMM_DSM_REVISION_2))

static const NvdimmDsmFunc nvdimm_dsm_funcs[] = {
    {
        .target = NVDIMM_DSM_TARGET_DIMM,
        .function = NVDIMM_DSM_FN_SMART,
        .name = "smart",
        .op = NVDIMM_DSM_OP_SMART,
        .in_len = 0,
        .requires = NVDIMM_DSM_CAP_NVDIMM_N,
        .revisions = NVDIMM_DSM_REVS_HEALTH,
    }, {
        .target = NVDIMM_DSM_TARGET_DIMM,
        .function = NVDIMM_DSM_FN_SMART_THRESHOLD,
        .name = "smart-threshold",
        .op = NVDIMM_DSM_OP_SMART_THRESHOLD,
        .in_len = 0,
        .requires = NVDIMM_DSM_CAP_NVDIMM_N,
        .revisions = NVDIMM_DSM_REVS_HEALTH,
    }, {
        .target = NVDIMM_DSM_TARGET_DIMM,
        .function = NVDIMM_DSM_FN_GET_LABEL_SIZE,
        .name = "get-label-size",
        .op = NVDIMM_DSM_OP_GET_LABEL_SIZE,
        .in_len = 0,
        .requires = NVDIMM_DSM_CAP_LABEL,
    }, {
        .target = NVDIMM_DSM_TARGET_DIMM,
        .function = NVDIMM_DSM_FN_GET_LABEL_DATA,
        .name = "get-label-data",
        .op = NVDIMM_DSM_OP_GET_LABEL_DATA,
        .in_len = sizeof(NvdimmDsmLabelIn),
        .requires = NVDIMM_DSM_CAP_LABEL,
    }, {
        .target = NVDIMM_DSM_TARGET_DIMM,
        .function = NVDIMM_DSM_FN_SET_LABEL_DATA,
        .name = "set-label-data",
        .op = NVDIMM_DSM_OP_SET_LABEL_DATA,
        .in_len = sizeof(NvdimmDsmLabelIn),
        /* a read-only DIMM does not offer it: its labels are read-only */
        .requires = NVDIMM_DSM_CAP_LABEL | NVDIMM_DSM_CAP_WRITABLE,
    }, {
        .target = NVDIMM_DSM_TARGET_QEMU_ROOT,
        .function = NVDIMM_DSM_FN_READ_FIT,
        .name = "read-fit",
        .op = NVDIMM_DSM_OP_READ_FIT,
        .in_len = sizeof(NvdimmDsmReadFitIn),
        .requires = 0,
    }, {
        .target = NVDIMM_DSM_TARGET_DIMM,
        .function = NVDIMM_DSM_FN_LATCH_SHUTDOWN,
        .name = "latch-shutdown-status",
        .op = NVDIMM_DSM_OP_LATCH_SHUTDOWN,
        .in_len = sizeof(NvdimmDsmLatchShutdownIn),
        .requires = NVDIMM_DSM_CAP_NVDIMM_N,
        .revisions = NVDIMM_DSM_REVS_HEALTH,
    }, {
        .target = NVDIMM_DSM_TARGET_DIMM,
        .function = NVDIMM_DSM_FN_SET_SMART_THRESHOLD,
        .name = "set-smart-threshold",
        .op = NVDIMM_DSM_OP_SET_SMART_THRESHOLD,
        .in_len = sizeof(NvdimmDsmSetSmartThreshIn),
        .requires = NVDIMM_DSM_CAP_NVDIMM_N,
        .revisions = NVDIMM_DSM_REVS_HEALTH,
    }, {
        .target = NVDIMM_DSM_TARGET_DIMM,
        .function = NVDIMM_DSM_FN_INJECT_SMART,
        .name = "inject-smart",
        .op = NVDIMM_DSM_OP_INJECT_SMART,
        .in_len = sizeof(NvdimmDsmInjectSmartIn),
        .requires = NVDIMM_DSM_CAP_NVDIMM_N,
        .revisions = NVDIMM_DSM_REVS_HEALTH,
    }, {
        /* only while an NVDIMM-N module is plugged: stock has no such fn */
        .target = NVDIMM_DSM_TARGET_QEMU_ROOT,
        .function = NVDIMM_DSM_FN_HEALTH_EVENTS,
        .name = "health-events",
        .op = NVDIMM_DSM_OP_HEALTH_EVENTS,
        .in_len = 0,
        .requires = NVDIMM_DSM_CAP_NVDIMM_N,
    },
    /* root functions (ACPI 6.5 9.20.7), NVDIMM-N only: nvdimm-ars.c */
    {
        .target = NVDIMM_DSM_TARGET_ROOT,
        .function = NVDIMM_ROOT_FN_ARS_CAP,
        .name = "ars-cap",
        .op = NVDIMM_DSM_OP_ARS_CAP,
        .in_len = sizeof(NvdimmArsRangeIn),
        .requires = NVDIMM_DSM_CAP_ARS,
    },
    {
        .target = NVDIMM_DSM_TARGET_ROOT,
        .function = NVDIMM_ROOT_FN_ARS_START,
        .name = "ars-start",
        .op = NVDIMM_DSM_OP_ARS_START,
        .in_len = sizeof(NvdimmArsStartIn),
        .requires = NVDIMM_DSM_CAP_ARS,
    },
    {
        .target = NVDIMM_DSM_TARGET_ROOT,
        .function = NVDIMM_ROOT_FN_ARS_STATUS,
        .name = "ars-status",
        .op = NVDIMM_DSM_OP_ARS_STATUS,
        .in_len = 0,
        .requires = NVDIMM_DSM_CAP_ARS,
    },
    {
        .target = NVDIMM_DSM_TARGET_ROOT,
        .function = NVDIMM_ROOT_FN_CLEAR_ERROR,
        .name = "clear-error",
        .op = NVDIMM_DSM_OP_ARS_CLEAR_ERROR,
        .in_len = sizeof(NvdimmArsRangeIn),
        .requires = NVDIMM_DSM_CAP_ARS,
    },
    {
        .target = NVDIMM_DSM_TARGET_ROOT,
        .function = NVDIMM_ROOT_FN_INJECT,
        .name = "ars-inject",
        .op = NVDIMM_DSM_OP_ARS_INJECT,
        .in_len = sizeof(NvdimmArsInjectIn),
        .requires = NVDIMM_DSM_CAP_ARS,
    },
    {
        .target = NVDIMM_DSM_TARGET_ROOT,
        .function = NVDIMM_ROOT_FN_INJECT_CLEAR,
        .name = "ars-inject-clear",
        .op = NVDIMM_DSM_OP_ARS_INJECT_CLEAR,
        .in_len = sizeof(NvdimmArsRangeIn),
        .requires = NVDIMM_DSM_CAP_ARS,
    },
    {
        .target = NVDIMM_DSM_TARGET_ROOT,
        .function = NVDIMM_ROOT_FN_INJECT_STATUS,
        .name = "ars-inject-status",
        .op = NVDIMM_DSM_OP_ARS_INJECT_STATUS,
        .in_len = 0,
        .requires = NVDIMM_DSM_CAP_ARS,
    },
};

static bool nvdimm_dsm_func_applies(const NvdimmDsmFunc *f,
                                    NvdimmDsmTarget target, unsigned caps)
{
    return f->target == target && (caps & f->requires) == f->requires;
}

static const char *const nvdimm_dsm_target_names[NVDIMM_DSM_TARGET__MAX] = {
    [NVDIMM_DSM_TARGET_ROOT] = "root",
    [NVDIMM_DSM_TARGET_QEMU_ROOT] = "qemu-root",
    [NVDIMM_DSM_TARGET_DIMM] = "dimm",
};

/* Function-0 bitmaps are one dword: functions 0..31. */
#define NVDIMM_DSM_FN_LIMIT 32
QEMU_BUILD_BUG_ON(NVDIMM_DSM_FN_SET_LABEL_DATA >= NVDIMM_DSM_FN_LIMIT);
QEMU_BUILD_BUG_ON(NVDIMM_DSM_FN_READ_FIT >= NVDIMM_DSM_FN_LIMIT);
QEMU_BUILD_BUG_ON(NVDIMM_ROOT_FN_INJECT_STATUS >= NVDIMM_DSM_FN_LIMIT);
QEMU_BUILD_BUG_ON(NVDIMM_DSM_FN_INJECT_SMART >= NVDIMM_DSM_FN_LIMIT);
QEMU_BUILD_BUG_ON(NVDIMM_DSM_FN_HEALTH_EVENTS >= NVDIMM_DSM_FN_LIMIT);

/* Revision bits are one unsigned: revisions 0..31. */
#define NVDIMM_DSM_REV_LIMIT 32

bool nvdimm_dsm_func_has_revision(const NvdimmDsmFunc *f, uint32_t revision)
{
    unsigned revs = f->revisions ? f->revisions
                                 : NVDIMM_DSM_REV(NVDIMM_DSM_REVISION);

    return revision < NVDIMM_DSM_REV_LIMIT &&
           (revs & NVDIMM_DSM_REV(revision));
}

bool nvdimm_dsm_revision_known(NvdimmDsmTarget target, unsigned caps,
                               uint32_t revision)
{
    if (revision == NVDIMM_DSM_REVISION) {
        return true;
    }
    for (size_t i = 0; i < ARRAY_SIZE(nvdimm_dsm_funcs); i++) {
        const NvdimmDsmFunc *f = &nvdimm_dsm_funcs[i];

        if (nvdimm_dsm_func_applies(f, target, caps) &&
            nvdimm_dsm_func_has_revision(f, revision)) {
            return true;
        }
    }
    return false;
}

const NvdimmDsmFunc *nvdimm_dsm_func_find(NvdimmDsmTarget target,
                                          uint32_t function, unsigned caps)
{
    for (size_t i = 0; i < ARRAY_SIZE(nvdimm_dsm_funcs); i++) {
        const NvdimmDsmFunc *f = &nvdimm_dsm_funcs[i];

        if (f->function == function &&
            nvdimm_dsm_func_applies(f, target, caps)) {
            return f;
        }
    }
    return NULL;
}

uint32_t nvdimm_dsm_supported_mask(NvdimmDsmTarget target, unsigned caps,
                                   uint32_t revision)
{
    uint32_t mask = 0;

    for (size_t i = 0; i < ARRAY_SIZE(nvdimm_dsm_funcs); i++) {
        const NvdimmDsmFunc *f = &nvdimm_dsm_funcs[i];

        /* ACPI 6.5 9.1.1: the functions of the revision asked about */
        if (nvdimm_dsm_func_applies(f, target, caps) &&
            nvdimm_dsm_func_has_revision(f, revision)) {
            mask |= 1u << f->function;
        }
    }
    /* ACPI 6.5 9.1.1: bit 0 says whether any other function exists */
    if (mask) {
        mask |= 1u << NVDIMM_DSM_FN_QUERY;
    }
    return mask;
}

const char *nvdimm_dsm_func_name(NvdimmDsmTarget target, uint32_t function)
{
    if (function == NVDIMM_DSM_FN_QUERY) {
        return "query";
    }
    for (size_t i = 0; i < ARRAY_SIZE(nvdimm_dsm_funcs); i++) {
        const NvdimmDsmFunc *f = &nvdimm_dsm_funcs[i];

        if (f->target == target && f->function == function) {
            return f->name;
        }
    }
    return "unknown";
}

const char *nvdimm_dsm_target_name(NvdimmDsmTarget target)
{
    return target < NVDIMM_DSM_TARGET__MAX ? nvdimm_dsm_target_names[target]
                                           : "invalid";
}

