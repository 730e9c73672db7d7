/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM-N: the Intel DSM SMART and health functions.
 *
 *   1  SMART and health info        (NvdimmDsmSmartOut, 132 bytes)
 *   2  get SMART thresholds         (NvdimmDsmSmartThreshOut, 12 bytes)
 *   10 enable latch system shutdown status (NvdimmDsmLatchShutdownIn)
 *   17 set SMART thresholds         (NvdimmDsmSetSmartThreshIn)
 *   18 inject SMART                 (NvdimmDsmInjectSmartIn)
 *
 * Layouts: Intel NVDIMM DSM interface as Linux (drivers/acpi/nfit/intel.h)
 * and ndctl v76 (ndctl/lib/intel.h) use it; guest ABI in
 * docs/specs/nvdimm-acpi.md.  Only an NVDIMM with nvdimm-n=on offers these
 * (the function table requires NVDIMM_DSM_CAP_NVDIMM_N), so call->nvdimm
 * has a state area.  The values live in hw/mem/nvdimm-state.c; this file
 * only decodes, validates and encodes.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "hw/mem/nvdimm.h"
#include "hw/mem/nvdimm-state.h"
#include "nvdimm-internal.h"
#include "trace.h"

/* Valid bits of function 1 we always fill in. */
#define NVDIMM_SMART_VALID_ALWAYS                                         \
    (NVDIMM_SMART_VALID_HEALTH | NVDIMM_SMART_VALID_SPARES |              \
     NVDIMM_SMART_VALID_USED | NVDIMM_SMART_VALID_MEDIA_TEMP |            \
     NVDIMM_SMART_VALID_CTRL_TEMP | NVDIMM_SMART_VALID_ALARM)
/* ... and those only a module that can track shutdowns fills in. */
#define NVDIMM_SMART_VALID_SHUTDOWN                                       \
    (NVDIMM_SMART_VALID_SHUTDOWN_COUNT | NVDIMM_SMART_VALID_SHUTDOWN_STATE)

/* A state update failed on the host (flush): the guest sees HW error. */
static void nvdimm_dsm_health_result(const NvdimmDsmCall *call,
                                     NvdimmDsmReply *reply, int ret)
{
    if (ret < 0) {
        nvdimm_dsm_host_error(call, reply,
                              "state update could not be made durable");
        return;
    }
    nvdimm_dsm_reply_status(reply, NVDIMM_DSM_STATUS_SUCCESS);
}

void nvdimm_dsm_smart(NVDIMMState *s, const NvdimmDsmCall *call,
                      NvdimmDsmReply *reply)
{
    NvdimmDsmSmartOut out = {};
    NvdimmHealth h;
    uint32_t valid = NVDIMM_SMART_VALID_ALWAYS;

    nvdimm_state_get_health(call->nvdimm->state, &h);
    if (h.persistent) {
        valid |= NVDIMM_SMART_VALID_SHUTDOWN;
    }
    out.status = cpu_to_le32(NVDIMM_DSM_STATUS_SUCCESS);
    out.flags = cpu_to_le32(valid);
    out.health = h.health_status;
    out.spares = h.spares;
    out.life_used = h.life_used;
    out.alarm_flags = h.alarm_flags;
    out.media_temperature = cpu_to_le16(h.media_temp);
    out.ctrl_temperature = cpu_to_le16(h.ctrl_temp);
    if (h.persistent) {
        out.shutdown_count = cpu_to_le32(h.shutdown_count);
        out.shutdown_state = h.shutdown_dirty ? NVDIMM_SMART_SHUTDOWN_DIRTY
                                              : NVDIMM_SMART_SHUTDOWN_CLEAN;
    }
    trace_nvdimm_dsm_smart(call->handle, valid, h.health_status, h.spares,
                           h.alarm_flags, h.shutdown_dirty,
                           h.shutdown_count);
    nvdimm_dsm_reply_data(reply, &out, sizeof(out));
}

static void nvdimm_dsm_thresh_encode(const NvdimmThresholds *t,
                                     NvdimmDsmSmartThresh *out)
{
    out->alarm_control = cpu_to_le16(t->alarm_control);
    out->spares = t->spares;
    out->media_temperature = cpu_to_le16(t->media_temp);
    out->ctrl_temperature = cpu_to_le16(t->ctrl_temp);
}

void nvdimm_dsm_smart_threshold(NVDIMMState *s, const NvdimmDsmCall *call,
                                NvdimmDsmReply *reply)
{
    NvdimmDsmSmartThreshOut out = {
        .status = cpu_to_le32(NVDIMM_DSM_STATUS_SUCCESS),
    };
    NvdimmThresholds t;

    nvdimm_state_get_thresholds(call->nvdimm->state, &t);
    nvdimm_dsm_thresh_encode(&t, &out.thresh);
    trace_nvdimm_dsm_smart_threshold(call->handle, t.alarm_control, t.spares,
                                     t.media_temp, t.ctrl_temp);
    nvdimm_dsm_reply_data(reply, &out, sizeof(out));
}

void nvdimm_dsm_set_smart_threshold(NVDIMMState *s, const NvdimmDsmCall *call,
                                    NvdimmDsmReply *reply)
{
    NvdimmDsmSetSmartThreshIn in;
    NvdimmThresholds t;

    memcpy(&in, call->arg, sizeof(in));
    t.alarm_control = le16_to_cpu(in.alarm_control);
    t.spares = in.spares;
    t.media_temp = le16_to_cpu(in.media_temperature);
    t.ctrl_temp = le16_to_cpu(in.ctrl_temperature);

    if (t.alarm_control & ~NVDIMM_SMART_ALARM_MASK) {
        nvdimm_dsm_fail(call, reply, NVDIMM_DSM_STATUS_INVALID_INPUT,
                        "alarm control 0x%" PRIx16 " has reserved bits set",
                        t.alarm_control);
        return;
    }
    if (t.spares > NVDIMM_SMART_PERCENT_MAX) {
        nvdimm_dsm_fail(call, reply, NVDIMM_DSM_STATUS_INVALID_INPUT,
                        "spares threshold %u%% is over %u%%", t.spares,
                        NVDIMM_SMART_PERCENT_MAX);
        return;
    }
    trace_nvdimm_dsm_set_smart_threshold(call->handle, t.alarm_control,
                                         t.spares, t.media_temp, t.ctrl_temp);
    nvdimm_dsm_health_result(call, reply,
        nvdimm_state_set_thresholds(call->nvdimm->state, &t));
}

/* An *_enable byte of function 18: 0 or 1. */
static bool nvdimm_dsm_inject_enable_ok(uint8_t enable)
{
    return enable == NVDIMM_SMART_INJECT_DISABLE ||
           enable == NVDIMM_SMART_INJECT_ENABLE;
}

void nvdimm_dsm_inject_smart(NVDIMMState *s, const NvdimmDsmCall *call,
                             NvdimmDsmReply *reply)
{
    NvdimmStateArea *st = call->nvdimm->state;
    NvdimmDsmInjectSmartIn in;
    uint64_t flags;
    uint16_t mtemp;
    int ret = 0;

    /* parse and validate everything before changing anything */
    memcpy(&in, call->arg, sizeof(in));
    flags = le64_to_cpu(in.flags);
    mtemp = le16_to_cpu(in.media_temperature);
    if (flags & ~(uint64_t)NVDIMM_SMART_INJECT_MASK) {
        nvdimm_dsm_fail(call, reply, NVDIMM_DSM_STATUS_INVALID_INPUT,
                        "inject flags 0x%" PRIx64 " name no injectable field "
                        "(controller temperature cannot be injected)", flags);
        return;
    }
    if (!nvdimm_dsm_inject_enable_ok(in.mtemp_enable) ||
        !nvdimm_dsm_inject_enable_ok(in.spare_enable) ||
        !nvdimm_dsm_inject_enable_ok(in.fatal_enable) ||
        !nvdimm_dsm_inject_enable_ok(in.unsafe_shutdown_enable)) {
        nvdimm_dsm_fail(call, reply, NVDIMM_DSM_STATUS_INVALID_INPUT,
                        "inject enable bytes %u/%u/%u/%u are not 0 or 1",
                        in.mtemp_enable, in.spare_enable, in.fatal_enable,
                        in.unsafe_shutdown_enable);
        return;
    }
    if ((flags & NVDIMM_SMART_INJECT_SPARES) && in.spare_enable &&
        in.spares > NVDIMM_SMART_PERCENT_MAX) {
        nvdimm_dsm_fail(call, reply, NVDIMM_DSM_STATUS_INVALID_INPUT,
                        "injected spares %u%% is over %u%%", in.spares,
                        NVDIMM_SMART_PERCENT_MAX);
        return;
    }
    trace_nvdimm_dsm_inject_smart(call->handle, flags, in.mtemp_enable, mtemp,
                                  in.spare_enable, in.spares, in.fatal_enable,
                                  in.unsafe_shutdown_enable);

    /* flags 0 is a valid no-op (ndctl's uninject-all sends one) */
    if (flags & NVDIMM_SMART_INJECT_MEDIA_TEMP) {
        ret = MIN(ret, nvdimm_state_inject_media_temp(st, in.mtemp_enable,
                                                      mtemp));
    }
    if (flags & NVDIMM_SMART_INJECT_SPARES) {
        ret = MIN(ret, nvdimm_state_inject_spares(st, in.spare_enable,
                                                  in.spares));
    }
    if (flags & NVDIMM_SMART_INJECT_FATAL) {
        ret = MIN(ret, nvdimm_state_inject_fatal(st, in.fatal_enable));
    }
    if (flags & NVDIMM_SMART_INJECT_UNSAFE_SHUTDOWN) {
        ret = MIN(ret, nvdimm_state_inject_unsafe_shutdown(
                           st, in.unsafe_shutdown_enable));
    }
    nvdimm_dsm_health_result(call, reply, ret);
}

void nvdimm_dsm_latch_shutdown(NVDIMMState *s, const NvdimmDsmCall *call,
                               NvdimmDsmReply *reply)
{
    NvdimmDsmLatchShutdownIn in;

    memcpy(&in, call->arg, sizeof(in));
    if (in.enable != NVDIMM_LATCH_SHUTDOWN_DISABLE &&
        in.enable != NVDIMM_LATCH_SHUTDOWN_ENABLE) {
        nvdimm_dsm_fail(call, reply, NVDIMM_DSM_STATUS_INVALID_INPUT,
                        "latch enable %u is not 0 or 1", in.enable);
        return;
    }
    trace_nvdimm_dsm_latch_shutdown(call->handle, in.enable);
    nvdimm_state_set_shutdown_latch(call->nvdimm->state, in.enable);
    nvdimm_dsm_reply_status(reply, NVDIMM_DSM_STATUS_SUCCESS);
}
