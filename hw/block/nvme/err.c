/*
 * Guest errors: every error status the controller returns or event it
 * raises because of something the guest did is traced and logged here
 * (LOG_GUEST_ERROR, -d guest_errors), with the Do Not Retry bit set, and
 * a command that completes with an error is recorded in the Error
 * Information log.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "nvme.h"
#include "trace.h"

/* Error Information log entry: Parameter Error Location not given */
#define NVME_ERR_PARAM_LOC_NONE 0xffff

uint16_t nvme_err_guest(NvmeCtrl *n, NvmeRequest *req, uint16_t status,
                        const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    trace_nvme_dev_guest_error(req ? req->sq->sqid : 0, req ? req->cid : 0,
                           nvme_sc(status), msg);
    qemu_log_mask(LOG_GUEST_ERROR, "nvme %s: %s (status 0x%x)\n",
                  n->params.serial, msg, nvme_sc(status));
    return status | NVME_STATUS_DNR;
}

/*
 * Record a command that completed with an error in the Error Information
 * log (Base 5.16.1.2); log.c returns the entries, newest first.
 */
void nvme_err_record(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeErrorLogEntry *e;

    n->error_count++;
    e = &n->errlog[(n->error_count - 1) % NVME_ERROR_LOG_ENTRIES];
    *e = (NvmeErrorLogEntry) {
        .error_count = cpu_to_le64(n->error_count),
        .sqid = cpu_to_le16(req->sq->sqid),
        .cid = cpu_to_le16(req->cid),
        .status = cpu_to_le16(req->status << 1),
        .param_loc = cpu_to_le16(NVME_ERR_PARAM_LOC_NONE),
        .lba = cpu_to_le64(req->slba),
        .nsid = req->cmd.nsid,
    };
}

/* Record an error no command caused (a keep alive expiry) */
void nvme_err_record_event(NvmeCtrl *n, uint16_t status)
{
    NvmeErrorLogEntry *e;

    n->error_count++;
    e = &n->errlog[(n->error_count - 1) % NVME_ERROR_LOG_ENTRIES];
    *e = (NvmeErrorLogEntry) {
        .error_count = cpu_to_le64(n->error_count),
        .sqid = cpu_to_le16(NVME_ERR_NO_COMMAND),
        .cid = cpu_to_le16(NVME_ERR_NO_COMMAND),
        .status = cpu_to_le16(status << 1),
        .param_loc = cpu_to_le16(NVME_ERR_PARAM_LOC_NONE),
    };
}
