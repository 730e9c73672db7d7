/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM: the _DSM doorbell and the DSM functions.
 *
 * Guest ABI (docs/specs/nvdimm-acpi.md): the AML fills the 4 KiB DSM page
 * (NvdimmDsmInPage) and writes the page's guest-physical address to the
 * 4-byte doorbell (I/O port 0x0a18 on x86).  We copy the page once, decode
 * it into host order, validate, run the function found in the function
 * table (nvdimm-dsm-table.c), and write the reply (NvdimmDsmOutPage) back
 * over the same page.  The write is synchronous, so no call is ever in
 * flight across a migration and there is no state to migrate here.
 *
 * Every guest mistake becomes a DSM status code, is traced and is logged
 * as LOG_GUEST_ERROR through nvdimm_dsm_fail(); none can stop QEMU.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/log.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "hw/mem/nvdimm.h"
#include "nvdimm-internal.h"
#include "trace.h"

void nvdimm_dsm_reply_data(NvdimmDsmReply *reply, const void *data,
                           size_t len)
{
    assert(len <= sizeof(reply->page.data));
    memcpy(reply->page.data, data, len);
    reply->used = len;
}

void nvdimm_dsm_reply_status(NvdimmDsmReply *reply, uint32_t status)
{
    NvdimmDsmStatusOut out = { .status = cpu_to_le32(status) };

    nvdimm_dsm_reply_data(reply, &out, sizeof(out));
}

void nvdimm_dsm_fail(const NvdimmDsmCall *call, NvdimmDsmReply *reply,
                     uint32_t status, const char *fmt, ...)
{
    g_autofree char *why = NULL;
    va_list ap;

    va_start(ap, fmt);
    why = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    trace_nvdimm_dsm_fail(call->handle, call->function, status, why);
    qemu_log_mask(LOG_GUEST_ERROR, "nvdimm: _DSM handle 0x%" PRIx32
                  " function %" PRIu32 ": %s (status 0x%x)\n",
                  call->handle, call->function, why, status);
    nvdimm_dsm_reply_status(reply, status);
}

/*
 * A host I/O error, reported by the device: not the guest's fault, so
 * traced but not logged as a guest error.
 */
void nvdimm_dsm_host_error(const NvdimmDsmCall *call, NvdimmDsmReply *reply,
                           const char *why)
{
    trace_nvdimm_dsm_fail(call->handle, call->function,
                          NVDIMM_DSM_STATUS_HW_ERROR, why);
    nvdimm_dsm_reply_status(reply, NVDIMM_DSM_STATUS_HW_ERROR);
}

/*
 * Decode the {offset, length} header of Get/Set Label Data and check the
 * transfer: within the label area and no longer than one DSM page carries.
 */
static bool nvdimm_dsm_label_args(const NvdimmDsmCall *call,
                                  NvdimmDsmReply *reply,
                                  uint32_t *offset, uint32_t *length)
{
    *offset = ldl_le_p(call->arg + offsetof(NvdimmDsmLabelIn, offset));
    *length = ldl_le_p(call->arg + offsetof(NvdimmDsmLabelIn, length));

    if (*length > NVDIMM_DSM_LABEL_MAX_XFER) {
        nvdimm_dsm_fail(call, reply, NVDIMM_DSM_STATUS_INVALID_INPUT,
                        "label length %" PRIu32 " exceeds max transfer %zu",
                        *length, NVDIMM_DSM_LABEL_MAX_XFER);
        return false;
    }
    if (!nvdimm_label_range_ok(call->nvdimm, *offset, *length)) {
        nvdimm_dsm_fail(call, reply, NVDIMM_DSM_STATUS_INVALID_INPUT,
                        "label range offset %" PRIu32 " length %" PRIu32
                        " is outside the %" PRIu64 "-byte label area",
                        *offset, *length, call->nvdimm->label_size);
        return false;
    }
    return true;
}

static void nvdimm_dsm_get_label_size(NVDIMMState *s,
                                      const NvdimmDsmCall *call,
                                      NvdimmDsmReply *reply)
{
    NvdimmDsmLabelSizeOut out = {
        .status = cpu_to_le32(NVDIMM_DSM_STATUS_SUCCESS),
        /* the low 32 bits of a larger one (see nvdimm-device.c) */
        .label_size = cpu_to_le32((uint32_t)call->nvdimm->label_size),
        .max_xfer = cpu_to_le32(NVDIMM_DSM_LABEL_MAX_XFER),
    };

    trace_nvdimm_dsm_label_size(call->handle, call->nvdimm->label_size,
                                NVDIMM_DSM_LABEL_MAX_XFER);
    memcpy(reply->page.data, &out, sizeof(out));
    reply->used = sizeof(out);
}

static void nvdimm_dsm_get_label_data(NVDIMMState *s,
                                      const NvdimmDsmCall *call,
                                      NvdimmDsmReply *reply)
{
    NVDIMMClass *nc = NVDIMM_GET_CLASS(call->nvdimm);
    const size_t hdr = sizeof(NvdimmDsmLabelDataOut);
    uint32_t offset, length;

    if (!nvdimm_dsm_label_args(call, reply, &offset, &length)) {
        return;
    }
    trace_nvdimm_dsm_label_read(call->handle, offset, length);
    nvdimm_dsm_reply_status(reply, NVDIMM_DSM_STATUS_SUCCESS);
    nc->read_label_data(call->nvdimm, reply->page.data + hdr, length, offset);
    reply->used = hdr + length;
}

static void nvdimm_dsm_set_label_data(NVDIMMState *s,
                                      const NvdimmDsmCall *call,
                                      NvdimmDsmReply *reply)
{
    NVDIMMClass *nc = NVDIMM_GET_CLASS(call->nvdimm);
    uint32_t offset, length;
    int ret;

    if (!nvdimm_dsm_label_args(call, reply, &offset, &length)) {
        return;
    }
    trace_nvdimm_dsm_label_write(call->handle, offset, length);
    ret = nc->write_label_data(call->nvdimm,
                               call->arg + sizeof(NvdimmDsmLabelIn),
                               length, offset);
    if (ret == -EINVAL) {
        nvdimm_dsm_fail(call, reply, NVDIMM_DSM_STATUS_INVALID_INPUT,
                        "label write offset %" PRIu32 " length %" PRIu32
                        " refused by the device", offset, length);
        return;
    }
    if (ret < 0) {
        nvdimm_dsm_host_error(call, reply,
                              "label write could not be made durable");
        return;
    }
    nvdimm_dsm_reply_status(reply, NVDIMM_DSM_STATUS_SUCCESS);
}

/*
 * Read FIT: the guest's _FIT reads the FIT in chunks.  A read at offset 0
 * starts over and takes the current FIT; a later chunk after the FIT
 * changed (hot-plug) answers FIT_CHANGED so the guest starts over.
 */
static void nvdimm_dsm_read_fit(NVDIMMState *s, const NvdimmDsmCall *call,
                                NvdimmDsmReply *reply)
{
    NvdimmFitBuffer *fb = &s->fit_buf;
    uint32_t offset = ldl_le_p(call->arg +
                               offsetof(NvdimmDsmReadFitIn, offset));
    const size_t hdr = sizeof(NvdimmDsmReadFitOut);
    size_t chunk;

    /* first: the offset of a stale read means nothing in the new FIT */
    if (offset && fb->dirty) {
        trace_nvdimm_dsm_fit_read(offset, fb->fit->len, 0, true);
        nvdimm_dsm_reply_status(reply, NVDIMM_DSM_STATUS_FIT_CHANGED);
        return;
    }
    if (offset > fb->fit->len) {
        nvdimm_dsm_fail(call, reply, NVDIMM_DSM_STATUS_INVALID_INPUT,
                        "FIT offset %" PRIu32 " beyond its %u bytes",
                        offset, fb->fit->len);
        return;
    }
    fb->dirty = false;
    chunk = MIN(fb->fit->len - offset, NVDIMM_DSM_FIT_CHUNK_MAX);
    trace_nvdimm_dsm_fit_read(offset, fb->fit->len, chunk, false);
    nvdimm_dsm_reply_status(reply, NVDIMM_DSM_STATUS_SUCCESS);
    /* an empty FIT (no NVDIMM yet) is a GArray without data: no copy */
    if (chunk) {
        memcpy(reply->page.data + hdr, fb->fit->data + offset, chunk);
    }
    reply->used = hdr + chunk;
}

static NvdimmDsmHandler *const nvdimm_dsm_handlers[NVDIMM_DSM_OP__MAX] = {
    [NVDIMM_DSM_OP_GET_LABEL_SIZE] = nvdimm_dsm_get_label_size,
    [NVDIMM_DSM_OP_GET_LABEL_DATA] = nvdimm_dsm_get_label_data,
    [NVDIMM_DSM_OP_SET_LABEL_DATA] = nvdimm_dsm_set_label_data,
    [NVDIMM_DSM_OP_READ_FIT] = nvdimm_dsm_read_fit,
    [NVDIMM_DSM_OP_SMART] = nvdimm_dsm_smart,
    [NVDIMM_DSM_OP_SMART_THRESHOLD] = nvdimm_dsm_smart_threshold,
    [NVDIMM_DSM_OP_SET_SMART_THRESHOLD] = nvdimm_dsm_set_smart_threshold,
    [NVDIMM_DSM_OP_INJECT_SMART] = nvdimm_dsm_inject_smart,
    [NVDIMM_DSM_OP_LATCH_SHUTDOWN] = nvdimm_dsm_latch_shutdown,
    [NVDIMM_DSM_OP_ARS_CAP] = nvdimm_ars_dsm_cap,
    [NVDIMM_DSM_OP_ARS_START] = nvdimm_ars_dsm_start,
    [NVDIMM_DSM_OP_ARS_STATUS] = nvdimm_ars_dsm_status,
    [NVDIMM_DSM_OP_ARS_CLEAR_ERROR] = nvdimm_ars_dsm_clear_error,
    [NVDIMM_DSM_OP_ARS_INJECT] = nvdimm_ars_dsm_inject,
    [NVDIMM_DSM_OP_ARS_INJECT_CLEAR] = nvdimm_ars_dsm_inject_clear,
    [NVDIMM_DSM_OP_ARS_INJECT_STATUS] = nvdimm_ars_dsm_inject_status,
    [NVDIMM_DSM_OP_HEALTH_EVENTS] = nvdimm_dsm_health_events,
};

static void nvdimm_dsm_dispatch(NVDIMMState *s, NvdimmDsmCall *call,
                                NvdimmDsmReply *reply)
{
    const NvdimmDsmFunc *f;
    unsigned caps = 0;

    switch (call->handle) {
    case NVDIMM_HANDLE_ROOT:
        call->target = NVDIMM_DSM_TARGET_ROOT;
        break;
    case NVDIMM_HANDLE_QEMU_ROOT:
        call->target = NVDIMM_DSM_TARGET_QEMU_ROOT;
        /* health events exist while any NVDIMM-N module is plugged */
        caps |= nvdimm_acpi_health_events() ? NVDIMM_DSM_CAP_NVDIMM_N : 0;
        break;
    default:
        /* NULL for an empty slot: function 0 then lists no function */
        call->target = NVDIMM_DSM_TARGET_DIMM;
        call->nvdimm = nvdimm_find_by_handle(call->handle);
        break;
    }
    if (call->target == NVDIMM_DSM_TARGET_ROOT) {
        caps |= nvdimm_ars_available() ? NVDIMM_DSM_CAP_ARS : 0;
    }
    if (call->nvdimm) {
        caps |= call->nvdimm->label_size ? NVDIMM_DSM_CAP_LABEL : 0;
        caps |= call->nvdimm->readonly ? 0 : NVDIMM_DSM_CAP_WRITABLE;
        caps |= call->nvdimm->state ? NVDIMM_DSM_CAP_NVDIMM_N : 0;
    }
    trace_nvdimm_dsm_call(call->handle,
                          nvdimm_dsm_target_name(call->target),
                          call->revision, call->function,
                          nvdimm_dsm_func_name(call->target, call->function));

    if (call->function == NVDIMM_DSM_FN_QUERY) {
        /* ACPI 6.5 9.1.1: no function of an unknown revision is supported */
        NvdimmDsmQueryOut out = {
            .supported = cpu_to_le32(nvdimm_dsm_supported_mask(
                call->target, caps, call->revision)),
        };

        memcpy(reply->page.data, &out, sizeof(out));
        reply->used = sizeof(out);
        return;
    }
    if (!nvdimm_dsm_revision_known(call->target, caps, call->revision)) {
        nvdimm_dsm_fail(call, reply, NVDIMM_DSM_STATUS_UNSUPPORTED,
                        "revision %" PRIu32 " is not supported (only %d)",
                        call->revision, NVDIMM_DSM_REVISION);
        return;
    }
    if (call->target == NVDIMM_DSM_TARGET_DIMM && !call->nvdimm) {
        nvdimm_dsm_fail(call, reply, NVDIMM_DSM_STATUS_NO_DEVICE,
                        "no NVDIMM with this handle");
        return;
    }
    f = nvdimm_dsm_func_find(call->target, call->function, caps);
    if (!f) {
        nvdimm_dsm_fail(call, reply, NVDIMM_DSM_STATUS_UNSUPPORTED,
                        "function not supported by the %s%s%s",
                        nvdimm_dsm_target_name(call->target),
                        call->nvdimm && call->nvdimm->readonly ?
                        " (read-only)" : "",
                        call->nvdimm && !call->nvdimm->label_size ?
                        " (no label area)" : "");
        return;
    }
    if (!nvdimm_dsm_func_has_revision(f, call->revision)) {
        nvdimm_dsm_fail(call, reply, NVDIMM_DSM_STATUS_UNSUPPORTED,
                        "function %s is not supported at revision %" PRIu32,
                        f->name, call->revision);
        return;
    }
    nvdimm_dsm_handlers[f->op](s, call, reply);
}

static void nvdimm_dsm_doorbell_write(void *opaque, hwaddr addr,
                                      uint64_t val, unsigned size)
{
    NVDIMMState *s = opaque;
    const hwaddr page = val;
    g_autofree NvdimmDsmInPage *in = g_new(NvdimmDsmInPage, 1);
    g_autofree NvdimmDsmReply *reply = g_new0(NvdimmDsmReply, 1);
    NvdimmDsmCall call = {};
    MemTxResult res;

    /* the page could be the doorbell itself (MMIO on arm): never recurse */
    if (s->dsm_busy) {
        trace_nvdimm_dsm_page_error(page, "doorbell re-entered");
        qemu_log_mask(LOG_GUEST_ERROR, "nvdimm: DSM doorbell re-entered "
                      "through page 0x%" HWADDR_PRIx "\n", page);
        return;
    }
    s->dsm_busy = true;

    res = address_space_read(&address_space_memory, page,
                             MEMTXATTRS_UNSPECIFIED, in, sizeof(*in));
    if (res != MEMTX_OK) {
        trace_nvdimm_dsm_page_error(page, "page read failed");
        qemu_log_mask(LOG_GUEST_ERROR, "nvdimm: cannot read DSM page at 0x%"
                      HWADDR_PRIx "\n", page);
        goto out;
    }
    call.handle = le32_to_cpu(in->handle);
    call.revision = le32_to_cpu(in->revision);
    call.function = le32_to_cpu(in->function);
    call.arg = in->arg;

    nvdimm_dsm_dispatch(s, &call, reply);

    reply->page.len = cpu_to_le32(offsetof(NvdimmDsmOutPage, data) +
                                  reply->used);
    trace_nvdimm_dsm_reply(call.handle, call.function,
                           ldl_le_p(reply->page.data), reply->used);
    res = address_space_write(&address_space_memory, page,
                              MEMTXATTRS_UNSPECIFIED, &reply->page,
                              offsetof(NvdimmDsmOutPage, data) + reply->used);
    if (res != MEMTX_OK) {
        trace_nvdimm_dsm_page_error(page, "page write failed");
        qemu_log_mask(LOG_GUEST_ERROR, "nvdimm: cannot write DSM reply to 0x%"
                      HWADDR_PRIx "\n", page);
    }
out:
    s->dsm_busy = false;
}

static uint64_t nvdimm_dsm_doorbell_read(void *opaque, hwaddr addr,
                                         unsigned size)
{
    trace_nvdimm_dsm_doorbell_read(addr);
    qemu_log_mask(LOG_GUEST_ERROR, "nvdimm: the DSM doorbell is write-only\n");
    return 0;
}

const MemoryRegionOps nvdimm_dsm_ops = {
    .read = nvdimm_dsm_doorbell_read,
    .write = nvdimm_dsm_doorbell_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = NVDIMM_ACPI_IO_LEN,
        .max_access_size = NVDIMM_ACPI_IO_LEN,
    },
};
