/*
 * NVMe log pages and asynchronous events (NVMe Base Specification 2.0c
 * sections 5.2 "Asynchronous Event Request" and 5.16 "Get Log Page"):
 * error information, SMART / health information, firmware slot
 * information, changed namespace list, commands supported and effects,
 * and with ocp=on the OCP Datacenter SSD extended SMART log (C0h).
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "trace.h"

enum {
    NVME_LOG_SPARE_PCT          = 100,
    NVME_LOG_SPARE_THRESH_PCT   = 10,
    NVME_LOG_UNITS_PER_DU       = 1000,     /* 512-byte units per data unit */
};

#define NVME_LOG_NS_PER_HOUR (3600 * NANOSECONDS_PER_SECOND)
/* the OCP extended SMART log's version, as stock reports it */
#define NVME_LOG_OCP_SMART_VERSION 5
/* our logs are at most 4 KiB; a longer read is zero filled up to this */
#define NVME_LOG_MAX_XFER (1024 * 1024)

/* SMART counters are 128-bit little-endian; ours fit in 64 bits */
static void nvme_log_put128(uint8_t field[16], uint64_t val)
{
    memset(field, 0, sizeof(uint8_t[16]));
    stq_le_p(field, val);
}

/* ---- error information (Base 5.16.1.2) ---------------------------------- */

static void nvme_log_fill_error(NvmeCtrl *n, NvmeErrorLogEntry *out)
{
    uint64_t count = MIN(n->error_count, (uint64_t)NVME_ERROR_LOG_ENTRIES);

    /* newest first */
    for (uint64_t i = 0; i < count; i++) {
        out[i] = n->errlog[(n->error_count - 1 - i) % NVME_ERROR_LOG_ENTRIES];
    }
}

/* ---- SMART / health (Base 5.16.1.3) ------------------------------------- */

/* The composite temperature is past a threshold (Base 5.27.1.4) */
static bool nvme_log_temperature_crossed(NvmeCtrl *n)
{
    return NVME_TEMPERATURE_K >= n->feat.temp_over ||
           (n->feat.temp_under && NVME_TEMPERATURE_K <= n->feat.temp_under);
}

/*
 * What the sensor and backends say, plus the bits set through the
 * smart_critical_warning property
 */
static uint8_t nvme_log_critical_warning(NvmeCtrl *n)
{
    uint8_t warn = n->smart_critical_warning;

    if (nvme_log_temperature_crossed(n)) {
        warn |= NVME_SMART_WARN_TEMPERATURE;
    }
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        if (n->ns[i] && !blk_is_writable(n->ns[i]->blkconf.blk)) {
            warn |= NVME_SMART_WARN_READ_ONLY;
        }
    }
    return warn;
}

static void nvme_log_fill_smart(NvmeCtrl *n, NvmeSmartLog *s)
{
    NvmeSmartCounters *c = &n->smart;
    int64_t on_ns = qemu_clock_get_ns(QEMU_CLOCK_HOST) - c->power_on_start;

    memset(s, 0, sizeof(*s));
    s->critical_warning = nvme_log_critical_warning(n);
    s->temperature = cpu_to_le16(NVME_TEMPERATURE_K);
    s->avail_spare = NVME_LOG_SPARE_PCT;
    s->avail_spare_thresh = NVME_LOG_SPARE_THRESH_PCT;
    nvme_log_put128(s->data_units_read,
                    DIV_ROUND_UP(c->units_read, NVME_LOG_UNITS_PER_DU));
    nvme_log_put128(s->data_units_written,
                    DIV_ROUND_UP(c->units_written, NVME_LOG_UNITS_PER_DU));
    nvme_log_put128(s->host_reads, c->host_reads);
    nvme_log_put128(s->host_writes, c->host_writes);
    nvme_log_put128(s->power_cycles, c->power_cycles);
    nvme_log_put128(s->power_on_hours, MAX(on_ns, 0) / NVME_LOG_NS_PER_HOUR);
    nvme_log_put128(s->unsafe_shutdowns, c->unsafe_shutdowns);
    nvme_log_put128(s->media_errors, c->media_errors);
    nvme_log_put128(s->num_err_log_entries, n->error_count);
    s->temp_sensor[0] = cpu_to_le16(NVME_TEMPERATURE_K);
}

/*
 * OCP SMART / Health Information Extended log (C0h, ocp=on): the media
 * counters a virtual device has, from the SMART counters; the NAND,
 * ECC, PCIe and capacitor fields have nothing to count and read 0.
 */
static void nvme_log_fill_ocp_smart(NvmeCtrl *n, NvmeOcpSmartLog *l)
{
    static const uint8_t guid[] = NVME_OCP_SMART_GUID;
    NvmeSmartCounters *c = &n->smart;

    QEMU_BUILD_BUG_ON(sizeof(guid) != sizeof(l->log_page_guid));
    memset(l, 0, sizeof(*l));
    nvme_log_put128(l->physical_media_units_written,
                    c->units_written * BDRV_SECTOR_SIZE);
    nvme_log_put128(l->physical_media_units_read,
                    c->units_read * BDRV_SECTOR_SIZE);
    l->log_page_version = cpu_to_le16(NVME_LOG_OCP_SMART_VERSION);
    memcpy(l->log_page_guid, guid, sizeof(guid));
}

/* ---- changed namespaces, firmware, effects ------------------------------- */

static void nvme_log_fill_changed_ns(NvmeCtrl *n, NvmeChangedNsLog *l)
{
    memset(l, 0, sizeof(*l));
    if (n->changed_ns_count > NVME_CHANGED_NS_MAX) {
        l->nsid[0] = cpu_to_le32(NVME_NSID_BROADCAST);
    } else {
        for (unsigned i = 0; i < n->changed_ns_count; i++) {
            l->nsid[i] = cpu_to_le32(n->changed_ns[i]);
        }
    }
}

void nvme_log_ns_changed(NvmeCtrl *n, uint32_t nsid)
{
    bool listed = false;

    for (unsigned i = 0; i < MIN(n->changed_ns_count,
                                 (unsigned)NVME_CHANGED_NS_MAX); i++) {
        listed |= n->changed_ns[i] == nsid;
    }
    if (!listed) {
        if (n->changed_ns_count < NVME_CHANGED_NS_MAX) {
            n->changed_ns[n->changed_ns_count] = nsid;
        }
        n->changed_ns_count++;
    }
    if (FIELD_EX32(n->feat.async_event_conf, NVME_FEAT_AEC, NSAN)) {
        nvme_log_event(n, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_ATTR,
                       NVME_LOG_CHANGED_NS);
    }
}

static void nvme_log_fill_fw(NvmeFwSlotLog *l)
{
    memset(l, 0, sizeof(*l));
    l->afi = 1;     /* slot 1 active, no pending activation */
    strpadcpy(l->frs[0], sizeof(l->frs[0]), NVME_FIRMWARE_REV, ' ');
}

static void nvme_log_fill_effects(NvmeCtrl *n, NvmeEffectsLog *l)
{
    memset(l, 0, sizeof(*l));
    for (unsigned op = 0; op < ARRAY_SIZE(l->acs); op++) {
        l->acs[op] = cpu_to_le32(n->cmdset[NVME_CMDSET_ADMIN]->effects(n, op));
        l->iocs[op] = cpu_to_le32(n->cmdset[NVME_CMDSET_IO]->effects(n, op));
    }
}

static void nvme_log_aer_deliver(NvmeCtrl *n)
{
    unsigned i = 0;

    while (n->aer_outstanding && i < n->aer_queue->len) {
        NvmeAsyncEvent ev = g_array_index(n->aer_queue, NvmeAsyncEvent, i);
        NvmeRequest *req;

        if (n->aer_masked & BIT(ev.type)) {
            i++;
            continue;
        }
        g_array_remove_index(n->aer_queue, i);
        req = n->aer_reqs[--n->aer_outstanding];
        req->dw0 = FIELD_DP32(0, NVME_AER_DW0, TYPE, ev.type);
        req->dw0 = FIELD_DP32(req->dw0, NVME_AER_DW0, INFO, ev.info);
        req->dw0 = FIELD_DP32(req->dw0, NVME_AER_DW0, LID, ev.lid);
        /* no further events of this type until its log page is read */
        n->aer_masked |= BIT(ev.type);
        trace_nvme_dev_aer_complete(ev.type, ev.info, ev.lid);
        req->status = NVME_SUCCESS;
        nvme_engine_complete(req);
    }
}

/* ---- Get Log Page ----------------------------------------------------- */

/* Clears the event mask of a type once its log page is read, unless RAE */
static void nvme_log_read_clears(NvmeCtrl *n, uint8_t type)
{
    n->aer_masked &= ~BIT(type);
    nvme_log_aer_deliver(n);
}

uint16_t nvme_log_get(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdGetLog c = nvme_cmd_get_log(&req->cmd);
    uint8_t lid = c.lid, csi = c.csi;
    bool rae = c.rae;
    uint64_t len = c.len, off = c.offset;
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    /* the largest of our log pages */
    g_autofree uint8_t *page = g_malloc0(sizeof(NvmeEffectsLog));
    g_autofree uint8_t *out = NULL;
    size_t size;
    int aer_type = -1;
    uint16_t status;

    trace_nvme_dev_get_log(lid, off, len);
    if (off & 3) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "log 0x%x: offset 0x%" PRIx64
                              " not dword aligned", lid, off);
    }
    switch (lid) {
    case NVME_LOG_ERROR:
        size = NVME_ERROR_LOG_ENTRIES * sizeof(NvmeErrorLogEntry);
        nvme_log_fill_error(n, (NvmeErrorLogEntry *)page);
        aer_type = NVME_AER_TYPE_ERROR;
        break;
    case NVME_LOG_SMART:
        if (nsid && nsid != NVME_NSID_BROADCAST) {
            return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                                  "SMART log for nsid 0x%x: only the "
                                  "controller-wide log exists", nsid);
        }
        size = sizeof(NvmeSmartLog);
        nvme_log_fill_smart(n, (NvmeSmartLog *)page);
        aer_type = NVME_AER_TYPE_SMART;
        break;
    case NVME_LOG_FW_SLOT:
        size = sizeof(NvmeFwSlotLog);
        nvme_log_fill_fw((NvmeFwSlotLog *)page);
        break;
    case NVME_LOG_CHANGED_NS:
        size = sizeof(NvmeChangedNsLog);
        nvme_log_fill_changed_ns(n, (NvmeChangedNsLog *)page);
        aer_type = NVME_AER_TYPE_NOTICE;
        break;
    case NVME_LOG_CMD_EFFECTS:
        if (csi != NVME_CSI_NVM) {
            return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                                  "effects log for CSI 0x%x", csi);
        }
        size = sizeof(NvmeEffectsLog);
        nvme_log_fill_effects(n, (NvmeEffectsLog *)page);
        break;
    case NVME_LOG_OCP_SMART_EXT:
        if (!n->params.ocp) {
            /* stock's status for it */
            return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                                  "OCP log page 0x%x with ocp=off", lid);
        }
        size = sizeof(NvmeOcpSmartLog);
        nvme_log_fill_ocp_smart(n, (NvmeOcpSmartLog *)page);
        break;
    default:
        return nvme_err_guest(n, req, NVME_INVALID_LOG_PAGE,
                              "log page 0x%x", lid);
    }
    if (off >= size) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "log 0x%x: offset 0x%" PRIx64
                              " beyond its %zu bytes", lid, off, size);
    }
    if (len > NVME_LOG_MAX_XFER) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "log 0x%x: %" PRIu64 " bytes requested",
                              lid, len);
    }
    /* what lies past the end of the log reads as zeroes */
    out = g_malloc0(len);
    memcpy(out, page + off, MIN(len, size - off));
    status = nvme_dma_to_guest(req, out, len);
    if (status) {
        return status;
    }
    if (lid == NVME_LOG_CHANGED_NS && !rae) {
        n->changed_ns_count = 0;
    }
    if (aer_type >= 0 && !rae) {
        nvme_log_read_clears(n, aer_type);
    }
    return NVME_SUCCESS;
}

/* ---- asynchronous events (Base 5.2) -------------------------------------- */

void nvme_log_event(NvmeCtrl *n, uint8_t type, uint8_t info, uint8_t lid)
{
    /*
     * aer_max_queued bounds the queue; stock drops what does not fit and
     * queues every event that does, the same one twice included
     */
    bool queued = n->aer_queue->len < n->params.aer_max_queued;

    trace_nvme_dev_aer_event(type, info, lid, queued);
    if (queued) {
        NvmeAsyncEvent ev = { .type = type, .info = info, .lid = lid };

        g_array_append_val(n->aer_queue, ev);
    }
    nvme_log_aer_deliver(n);
}

uint16_t nvme_log_aer(NvmeCtrl *n, NvmeRequest *req)
{
    if (n->aer_outstanding > n->params.aerl) {
        return nvme_err_guest(n, req, NVME_AER_LIMIT_EXCEEDED,
                              "more than AERL+1 (%u) async event "
                              "requests", n->params.aerl + 1);
    }
    /*
     * An admin SQ whose every request waits for an event could never
     * fetch the command that would read the event's log page: one
     * request stays for other commands.
     */
    if (QTAILQ_EMPTY(&req->sq->free_list)) {
        return nvme_err_guest(n, req, NVME_AER_LIMIT_EXCEEDED,
                              "async event request would take the "
                              "last of the admin SQ's %u requests",
                              req->sq->size);
    }
    /* waiting for an event, it holds no admin CQ slot (queue.c) */
    nvme_engine_park(req);
    n->aer_reqs[n->aer_outstanding++] = req;
    nvme_log_aer_deliver(n);
    return NVME_NO_COMPLETE;
}

void nvme_log_aer_reset(NvmeCtrl *n)
{
    /* outstanding AERs die with the admin queue, without a completion */
    for (unsigned i = 0; i < n->aer_outstanding; i++) {
        NvmeRequest *req = n->aer_reqs[i];

        QTAILQ_REMOVE(&req->sq->out_list, req, entry);
        nvme_q_req_release(req);
    }
    n->aer_outstanding = 0;
    g_array_set_size(n->aer_queue, 0);
    n->aer_masked = 0;
}

void nvme_log_init(NvmeCtrl *n)
{
    /* AERL is 0's based: at most AERL + 1 requests are outstanding */
    n->aer_reqs = g_new0(NvmeRequest *, n->params.aerl + 1);
    n->aer_queue = g_array_new(false, true, sizeof(NvmeAsyncEvent));
}

void nvme_log_fini(NvmeCtrl *n)
{
    g_free(n->aer_reqs);
    n->aer_reqs = NULL;
    if (n->aer_queue) {
        g_array_free(n->aer_queue, true);
        n->aer_queue = NULL;
    }
}

/*
 * The AER information for each critical warning bit (Base Figure 151):
 * spare and temperature have their own, the rest are reliability.
 */
static const struct {
    uint8_t warning;
    uint8_t info;
} nvme_log_smart_aer_info[] = {
    { NVME_SMART_WARN_SPARE,        NVME_AER_SMART_SPARE },
    { NVME_SMART_WARN_TEMPERATURE,  NVME_AER_SMART_TEMP_THRESH },
    { NVME_SMART_WARN_RELIABILITY,  NVME_AER_SMART_RELIABILITY },
    { NVME_SMART_WARN_READ_ONLY,    NVME_AER_SMART_RELIABILITY },
    { NVME_SMART_WARN_VOLATILE_MEM, NVME_AER_SMART_RELIABILITY },
};

/*
 * Critical warning bits newly set (the smart_critical_warning property):
 * each raises a SMART / Health Status event if Asynchronous Event
 * Configuration enables it, as stock does.
 */
void nvme_log_smart_warning_raised(NvmeCtrl *n, uint8_t bits)
{
    uint8_t enabled = FIELD_EX32(n->feat.async_event_conf, NVME_FEAT_AEC,
                                 SMART);

    for (unsigned i = 0; i < ARRAY_SIZE(nvme_log_smart_aer_info); i++) {
        if (bits & enabled & nvme_log_smart_aer_info[i].warning) {
            nvme_log_event(n, NVME_AER_TYPE_SMART,
                           nvme_log_smart_aer_info[i].info, NVME_LOG_SMART);
        }
    }
}

void nvme_log_check_temperature(NvmeCtrl *n)
{
    bool crit = nvme_log_temperature_crossed(n);
    bool enabled = FIELD_EX32(n->feat.async_event_conf, NVME_FEAT_AEC,
                              SMART) & NVME_SMART_WARN_TEMPERATURE;

    if (!crit) {
        n->temp_warned = false;
        return;
    }
    if (enabled && !n->temp_warned) {
        n->temp_warned = true;
        nvme_log_event(n, NVME_AER_TYPE_SMART, NVME_AER_SMART_TEMP_THRESH,
                       NVME_LOG_SMART);
    }
}
