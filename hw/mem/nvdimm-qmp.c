/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM-N: QMP health control (qapi/nvqemu-nvdimm.json).
 *
 * nvdimm-query-health and nvdimm-inject-health act on a module's state
 * through include/hw/mem/nvdimm-state.h only, like the guest's Intel DSM
 * functions 1 and 18, so an injection persists and raises the same health
 * event (hw/acpi/nvdimm-events.c, a state change notifier).
 *
 * nvdimm-query-poison, nvdimm-inject-poison and nvdimm-clear-poison go
 * through the host API of the root's media error functions
 * (include/hw/mem/nvdimm-ars.h), like the guest's ARS Error Inject, Inject
 * Clear and Inject Status, so an injection persists and raises the same
 * root notification.  Unlike those, QMP wants whole poison units: a range
 * is refused rather than widened.
 */
#include "qemu/osdep.h"
#include <math.h>
#include "hw/acpi/nvdimm-spec.h"
#include "hw/mem/nvdimm.h"
#include "hw/mem/nvdimm-ars.h"
#include "hw/qdev-core.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-nvqemu-nvdimm.h"

/* Health status bits, most severe first, and what QMP calls them. */
static const struct {
    uint8_t bit;
    NvdimmHealthState state;
} nvdimm_qmp_health_states[] = {
    { NVDIMM_SMART_HEALTH_FATAL, NVDIMM_HEALTH_STATE_FATAL },
    { NVDIMM_SMART_HEALTH_CRITICAL, NVDIMM_HEALTH_STATE_CRITICAL },
    { NVDIMM_SMART_HEALTH_NON_CRITICAL, NVDIMM_HEALTH_STATE_NON_CRITICAL },
};

/* The NVDIMM-N device @id with its state open, or NULL with @errp set. */
static NVDIMMDevice *nvdimm_qmp_device(const char *id, Error **errp)
{
    Object *obj = object_resolve_path_component(
        machine_get_container("peripheral"), id);
    NVDIMMDevice *nvdimm;

    if (!obj || !object_dynamic_cast(obj, TYPE_DEVICE)) {
        error_setg(errp, "Device '%s' not found", id);
        return NULL;
    }
    nvdimm = (NVDIMMDevice *)object_dynamic_cast(obj, TYPE_NVDIMM);
    if (!nvdimm) {
        error_setg(errp, "Device '%s' is not an nvdimm", id);
        return NULL;
    }
    if (!nvdimm->nvdimm_n) {
        error_setg(errp, "NVDIMM '%s' is not an NVDIMM-N", id);
        error_append_hint(errp, "Health and poison control need -device "
                          "nvdimm,...,nvdimm-n=on\n");
        return NULL;
    }
    if (!nvdimm->state) {
        /* an incoming migration opens it when the VM first runs */
        error_setg(errp, "NVDIMM '%s': the NVDIMM-N state is not open yet "
                   "(incoming migration)", id);
        return NULL;
    }
    return nvdimm;
}

/* The state of the NVDIMM-N device @id, or NULL with @errp set. */
static NvdimmStateArea *nvdimm_qmp_state(const char *id, Error **errp)
{
    NVDIMMDevice *nvdimm = nvdimm_qmp_device(id, errp);

    return nvdimm ? nvdimm->state : NULL;
}

static double nvdimm_qmp_celsius(uint16_t temp)
{
    return (double)nvdimm_state_temp_decode(temp) / NVDIMM_SMART_TEMP_SCALE;
}

NvdimmHealthInfo *qmp_nvdimm_query_health(const char *id, Error **errp)
{
    NvdimmStateArea *st = nvdimm_qmp_state(id, errp);
    NvdimmHealthInfo *info;
    NvdimmThresholds thr;
    NvdimmHealth h;

    if (!st) {
        return NULL;
    }
    nvdimm_state_get_health(st, &h);
    nvdimm_state_get_thresholds(st, &thr);
    info = g_new0(NvdimmHealthInfo, 1);
    info->health_state = NVDIMM_HEALTH_STATE_OK;
    for (size_t i = 0; i < ARRAY_SIZE(nvdimm_qmp_health_states); i++) {
        if (h.health_status & nvdimm_qmp_health_states[i].bit) {
            info->health_state = nvdimm_qmp_health_states[i].state;
            break;
        }
    }
    info->spares = h.spares;
    info->life_used = h.life_used;
    info->media_temperature = nvdimm_qmp_celsius(h.media_temp);
    info->controller_temperature = nvdimm_qmp_celsius(h.ctrl_temp);
    info->alarm_spares = h.alarm_flags & NVDIMM_SMART_ALARM_SPARES;
    info->alarm_media_temperature =
        h.alarm_flags & NVDIMM_SMART_ALARM_MEDIA_TEMP;
    info->alarm_controller_temperature =
        h.alarm_flags & NVDIMM_SMART_ALARM_CTRL_TEMP;
    info->spares_threshold = thr.spares;
    info->media_temperature_threshold = nvdimm_qmp_celsius(thr.media_temp);
    info->controller_temperature_threshold =
        nvdimm_qmp_celsius(thr.ctrl_temp);
    info->shutdown_dirty = h.shutdown_dirty;
    info->shutdown_count = h.shutdown_count;
    info->persistent = h.persistent;
    return info;
}

/* Keep the worst setter result: -EINVAL over -EIO over 0. */
static void nvdimm_qmp_fold(int ret, int *worst)
{
    if (ret == -EINVAL || (ret < 0 && !*worst)) {
        *worst = ret;
    }
}

void qmp_nvdimm_inject_health(const char *id, bool has_media_temperature,
                              double media_temperature, bool has_spares,
                              uint8_t spares, bool has_fatal, bool fatal,
                              bool has_unsafe_shutdown, bool unsafe_shutdown,
                              bool has_uninject, bool uninject,
                              Error **errp)
{
    NvdimmStateArea *st = nvdimm_qmp_state(id, errp);
    const double max_c = (double)NVDIMM_SMART_TEMP_MAGNITUDE /
                         NVDIMM_SMART_TEMP_SCALE;
    bool any = has_media_temperature || has_spares || has_fatal ||
               has_unsafe_shutdown;
    int ret = 0;

    if (!st) {
        return;
    }
    uninject = has_uninject && uninject;
    /* validate everything first: an error changes nothing */
    if (!uninject && has_media_temperature &&
        !(media_temperature >= -max_c && media_temperature <= max_c)) {
        error_setg(errp, "media-temperature %g is outside -%g..%g",
                   media_temperature, max_c, max_c);
        return;
    }
    if (!uninject && has_spares && spares > 100) {
        error_setg(errp, "spares %u is outside 0..100", spares);
        return;
    }

    if (uninject && !any) {
        nvdimm_qmp_fold(nvdimm_state_uninject_all(st), &ret);
    }
    if (has_media_temperature) {
        int32_t sixteenths = lround(media_temperature *
                                    NVDIMM_SMART_TEMP_SCALE);

        nvdimm_qmp_fold(nvdimm_state_inject_media_temp(st, !uninject,
            nvdimm_state_temp_encode(sixteenths)), &ret);
    }
    if (has_spares) {
        nvdimm_qmp_fold(nvdimm_state_inject_spares(st, !uninject, spares),
                        &ret);
    }
    if (has_fatal) {
        nvdimm_qmp_fold(nvdimm_state_inject_fatal(st, !uninject && fatal),
                        &ret);
    }
    if (has_unsafe_shutdown) {
        nvdimm_qmp_fold(nvdimm_state_inject_unsafe_shutdown(st,
            !uninject && unsafe_shutdown), &ret);
    }
    if (ret == -EINVAL) {
        error_setg(errp, "NVDIMM '%s': a value was refused by the module",
                   id);
    } else if (ret < 0) {
        error_setg(errp, "NVDIMM '%s': the injection is in effect but could "
                   "not be made durable on the backend", id);
    }
}

/* ------------------------------------------------------------------------ */
/* Poison                                                                   */

/*
 * Check that [@offset, @offset + @length) is a non-empty range of whole
 * poison units within the pmem of @nvdimm (the host API would widen it).
 */
static bool nvdimm_qmp_poison_range(const char *id, NVDIMMDevice *nvdimm,
                                    uint64_t offset, uint64_t length,
                                    Error **errp)
{
    uint64_t size = nvdimm_ars_pmem_size(nvdimm);

    if (!length || !QEMU_IS_ALIGNED(offset | length, NVDIMM_ARS_CLEAR_UNIT)) {
        error_setg(errp, "NVDIMM '%s': range offset 0x%" PRIx64 " length 0x%"
                   PRIx64 " is empty or not in units of %d bytes", id,
                   offset, length, NVDIMM_ARS_CLEAR_UNIT);
        return false;
    }
    if (length > size || offset > size - length) {
        error_setg(errp, "NVDIMM '%s': range offset 0x%" PRIx64 " length 0x%"
                   PRIx64 " is not within its 0x%" PRIx64 " bytes of "
                   "persistent memory", id, offset, length, size);
        return false;
    }
    return true;
}

static void nvdimm_qmp_poison_add(uint64_t offset, uint64_t length,
                                  void *opaque)
{
    NvdimmPoisonRangeList ***tail = opaque;
    NvdimmPoisonRange *range = g_new0(NvdimmPoisonRange, 1);

    range->offset = offset;
    range->length = length;
    QAPI_LIST_APPEND(*tail, range);
}

NvdimmPoisonInfo *qmp_nvdimm_query_poison(const char *id, Error **errp)
{
    NVDIMMDevice *nvdimm = nvdimm_qmp_device(id, errp);
    NvdimmPoisonRangeList **tail;
    NvdimmPoisonInfo *info;

    if (!nvdimm) {
        return NULL;
    }
    info = g_new0(NvdimmPoisonInfo, 1);
    info->unit = NVDIMM_ARS_CLEAR_UNIT;
    info->size = nvdimm_ars_pmem_size(nvdimm);
    info->max_ranges = NVDIMM_STATE_POISON_MAX;
    tail = &info->ranges;
    nvdimm_ars_poison_foreach(nvdimm, nvdimm_qmp_poison_add, &tail);
    return info;
}

void qmp_nvdimm_inject_poison(const char *id, uint64_t offset,
                              uint64_t length, bool has_notify, bool notify,
                              Error **errp)
{
    NVDIMMDevice *nvdimm = nvdimm_qmp_device(id, errp);

    if (!nvdimm || !nvdimm_qmp_poison_range(id, nvdimm, offset, length, errp)) {
        return;
    }
    nvdimm_ars_inject(nvdimm, offset, length, !has_notify || notify, errp);
}

void qmp_nvdimm_clear_poison(const char *id, uint64_t offset,
                             uint64_t length, Error **errp)
{
    NVDIMMDevice *nvdimm = nvdimm_qmp_device(id, errp);

    if (!nvdimm || !nvdimm_qmp_poison_range(id, nvdimm, offset, length, errp)) {
        return;
    }
    nvdimm_ars_uninject(nvdimm, offset, length, errp);
}
