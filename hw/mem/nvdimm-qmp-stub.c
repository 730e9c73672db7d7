/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nvqemu NVDIMM-N QMP commands for targets built without NVDIMM support. */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-nvqemu-nvdimm.h"

NvdimmHealthInfo *qmp_nvdimm_query_health(const char *id, Error **errp)
{
    error_setg(errp, "NVDIMM support is not built into this binary");
    return NULL;
}

void qmp_nvdimm_inject_health(const char *id, bool has_media_temperature,
                              double media_temperature, bool has_spares,
                              uint8_t spares, bool has_fatal, bool fatal,
                              bool has_unsafe_shutdown, bool unsafe_shutdown,
                              bool has_uninject, bool uninject,
                              Error **errp)
{
    error_setg(errp, "NVDIMM support is not built into this binary");
}

NvdimmPoisonInfo *qmp_nvdimm_query_poison(const char *id, Error **errp)
{
    error_setg(errp, "NVDIMM support is not built into this binary");
    return NULL;
}

void qmp_nvdimm_inject_poison(const char *id, uint64_t offset,
                              uint64_t length, bool has_notify, bool notify,
                              Error **errp)
{
    error_setg(errp, "NVDIMM support is not built into this binary");
}

void qmp_nvdimm_clear_poison(const char *id, uint64_t offset,
                             uint64_t length, Error **errp)
{
    error_setg(errp, "NVDIMM support is not built into this binary");
}
