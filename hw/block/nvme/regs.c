/*
 * NVMe controller registers and doorbells in BAR0 (NVMe Base
 * Specification 2.0c section 3.1.4 and 3.5 "Controller Initialization",
 * 3.6 "Shutdown", 3.7.2 "Controller Reset").
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "hw/pci/msix.h"
#include "nvme.h"
#include "trace.h"

#define NVME_REG_PAGE_MASK 0xfffull     /* ASQ/ACQ are 4 KiB aligned */
#define NVME_MPS_BASE_BITS 12           /* CC.MPS: page = 2^(12 + MPS) */

static const char *nvme_regs_name(hwaddr off)
{
    switch (off) {
    case NVME_REG_CAP:      return "CAP";
    case NVME_REG_CAP + 4:  return "CAP.hi";
    case NVME_REG_VS:       return "VS";
    case NVME_REG_INTMS:    return "INTMS";
    case NVME_REG_INTMC:    return "INTMC";
    case NVME_REG_CC:       return "CC";
    case NVME_REG_CSTS:     return "CSTS";
    case NVME_REG_NSSR:     return "NSSR";
    case NVME_REG_AQA:      return "AQA";
    case NVME_REG_ASQ:      return "ASQ";
    case NVME_REG_ASQ + 4:  return "ASQ.hi";
    case NVME_REG_ACQ:      return "ACQ";
    case NVME_REG_ACQ + 4:  return "ACQ.hi";
    default:                return "reserved";
    }
}

/* CSTS, with CFS while the engine has stopped on a fatal error */
static uint32_t nvme_regs_csts(NvmeCtrl *n)
{
    return FIELD_DP32(n->csts, NVME_CSTS, CFS, n->state == NVME_CTRL_FATAL);
}

static uint32_t nvme_regs_read32(NvmeCtrl *n, hwaddr off)
{
    switch (off) {
    case NVME_REG_CAP:      return n->cap;
    case NVME_REG_CAP + 4:  return n->cap >> 32;
    case NVME_REG_VS:       return n->vs;
    case NVME_REG_INTMS:
    case NVME_REG_INTMC:    return n->intms;
    case NVME_REG_CC:       return n->cc;
    case NVME_REG_CSTS:     return nvme_regs_csts(n);
    case NVME_REG_NSSR:     return 0;
    case NVME_REG_AQA:      return n->aqa;
    case NVME_REG_ASQ:      return n->asq;
    case NVME_REG_ASQ + 4:  return n->asq >> 32;
    case NVME_REG_ACQ:      return n->acq;
    case NVME_REG_ACQ + 4:  return n->acq >> 32;
    default:                return 0;   /* reserved and doorbells */
    }
}

/*
 * Controller reset (CC.EN 1 -> 0, or a device reset): stop fetching, let
 * in-flight I/O finish, post its completions when @post_completions, then
 * delete every queue and return features to their defaults (Base 3.7.2).
 */
void nvme_regs_disable(NvmeCtrl *n, bool post_completions)
{
    NvmeCtrlState was = n->state;

    trace_nvme_dev_disable(was, post_completions);
    n->state = NVME_CTRL_DISABLED;
    nvme_engine_quiesce(n);
    if (post_completions && was != NVME_CTRL_FATAL) {
        nvme_engine_post_all(n);
    }
    nvme_log_aer_reset(n);
    nvme_engine_delete_all(n, post_completions && was != NVME_CTRL_FATAL);
    nvme_q_dbbuf_reset(n);
    nvme_irq_reset(n);
    nvme_admin_features_reset(n);
    /* a CQ write that failed while posting above made it fatal: cleared */
    n->state = NVME_CTRL_DISABLED;
    n->csts = 0;
    n->intx_level = false;
    nvme_irq_update_pin(n);
}

static bool nvme_regs_enable_check(NvmeCtrl *n, uint32_t cc)
{
    unsigned mps = FIELD_EX32(cc, NVME_CC, MPS);
    unsigned css = FIELD_EX32(cc, NVME_CC, CSS);
    unsigned ams = FIELD_EX32(cc, NVME_CC, AMS);
    const char *bad = NULL;

    if (n->asq & NVME_REG_PAGE_MASK || n->acq & NVME_REG_PAGE_MASK) {
        bad = "ASQ/ACQ not 4 KiB aligned";
    } else if (!nvme_dma_is_ram(n, n->asq, (FIELD_EX32(n->aqa, NVME_AQA, ASQS) +
                                1) * sizeof(NvmeSqe)) ||
               !nvme_dma_is_ram(n, n->acq, (FIELD_EX32(n->aqa, NVME_AQA, ACQS) +
                                1) * sizeof(NvmeCqe))) {
        bad = "ASQ/ACQ not in guest RAM";
    } else if (mps < FIELD_EX64(n->cap, NVME_CAP, MPSMIN) ||
               mps > FIELD_EX64(n->cap, NVME_CAP, MPSMAX)) {
        bad = "CC.MPS outside CAP.MPSMIN..MPSMAX";
    } else if (css != NVME_CC_CSS_NVM && css != NVME_CC_CSS_ADMIN_ONLY) {
        bad = "CC.CSS selects an unsupported command set";
    } else if (ams != NVME_CC_AMS_RR && ams != NVME_CC_AMS_WRRU) {
        bad = "CC.AMS selects an unsupported arbitration";
    } else if (FIELD_EX32(n->aqa, NVME_AQA, ASQS) < 1 ||
               FIELD_EX32(n->aqa, NVME_AQA, ACQS) < 1) {
        bad = "AQA sizes below 2 entries";
    }
    if (bad) {
        nvme_err_guest(n, NULL, NVME_INVALID_FIELD,
                       "enable refused: %s (CC 0x%x)", bad, cc);
        return false;
    }
    return true;
}

static void nvme_regs_enable(NvmeCtrl *n, uint32_t cc)
{
    if (!nvme_regs_enable_check(n, cc)) {
        return;
    }
    n->page_bits = NVME_MPS_BASE_BITS + FIELD_EX32(cc, NVME_CC, MPS);
    nvme_arb_set_mode(&n->arb, FIELD_EX32(cc, NVME_CC, AMS) ==
                      NVME_CC_AMS_WRRU ? NVME_ARB_WRR : NVME_ARB_RR);
    nvme_q_cq_create(n, NVME_ADMIN_QID, n->acq,
                     FIELD_EX32(n->aqa, NVME_AQA, ACQS) + 1, 0, true);
    nvme_q_sq_create(n, NVME_ADMIN_QID, NVME_ADMIN_QID, n->asq,
                     FIELD_EX32(n->aqa, NVME_AQA, ASQS) + 1, NVME_ARB_ADMIN);
    n->state = NVME_CTRL_ENABLED;
    n->csts = FIELD_DP32(0, NVME_CSTS, RDY, 1);
    trace_nvme_dev_enable(n->page_bits, FIELD_EX32(cc, NVME_CC, AMS));
}

static void nvme_regs_shutdown(NvmeCtrl *n, unsigned shn)
{
    trace_nvme_dev_shutdown(shn);
    if (n->state == NVME_CTRL_ENABLED) {
        n->state = NVME_CTRL_SHUTDOWN;
        nvme_engine_quiesce(n);
        nvme_engine_post_all(n);
    }
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        if (n->ns[i]) {
            nvme_ns_flush_sync(n->ns[i]);
        }
    }
    n->csts = FIELD_DP32(n->csts, NVME_CSTS, SHST, NVME_CSTS_SHST_COMPLETE);
}

static void nvme_regs_write_cc(NvmeCtrl *n, uint32_t val)
{
    /* a refused enable leaves CC.EN set but the controller disabled */
    bool en_old = n->state != NVME_CTRL_DISABLED;
    bool en_new = FIELD_EX32(val, NVME_CC, EN);
    unsigned shn_old = FIELD_EX32(n->cc, NVME_CC, SHN);
    unsigned shn_new = FIELD_EX32(val, NVME_CC, SHN);

    if (en_old && en_new) {
        /* only SHN may change while enabled (Base 3.1.4.5) */
        n->cc = FIELD_DP32(n->cc, NVME_CC, SHN, shn_new);
    } else {
        n->cc = val;
    }

    if (en_old && !en_new) {
        nvme_regs_disable(n, true);
        return;
    }
    if (!en_old && en_new) {
        nvme_regs_enable(n, val);
    }
    if (shn_new != NVME_CC_SHN_NONE && shn_old == NVME_CC_SHN_NONE) {
        nvme_regs_shutdown(n, shn_new);
    } else if (shn_new == NVME_CC_SHN_NONE) {
        n->csts = FIELD_DP32(n->csts, NVME_CSTS, SHST, NVME_CSTS_SHST_NORMAL);
    }
}

static void nvme_regs_write_mask(NvmeCtrl *n, hwaddr off, uint32_t val)
{
    if (msix_enabled(nvme_pci(n))) {
        nvme_err_guest(n, NULL, NVME_INVALID_FIELD,
                       "%s written while MSI-X is enabled",
                       nvme_regs_name(off));
        return;
    }
    if (off == NVME_REG_INTMS) {
        n->intms |= val;
    } else {
        n->intms &= ~val;
    }
    nvme_irq_update_pin(n);
}

static void nvme_regs_write32(NvmeCtrl *n, hwaddr off, uint32_t val)
{
    trace_nvme_dev_reg_write(nvme_regs_name(off), off, val);
    switch (off) {
    case NVME_REG_INTMS:
    case NVME_REG_INTMC:
        nvme_regs_write_mask(n, off, val);
        break;
    case NVME_REG_CC:
        nvme_regs_write_cc(n, val);
        break;
    case NVME_REG_NSSR:
        /* CAP.NSSRS is 0: NVM Subsystem Reset is not supported */
        nvme_err_guest(n, NULL, NVME_INVALID_FIELD,
                       "NSSR written, subsystem reset not supported");
        break;
    case NVME_REG_AQA:
        n->aqa = val;
        break;
    case NVME_REG_ASQ:
        n->asq = deposit64(n->asq, 0, 32, val);
        break;
    case NVME_REG_ASQ + 4:
        n->asq = deposit64(n->asq, 32, 32, val);
        break;
    case NVME_REG_ACQ:
        n->acq = deposit64(n->acq, 0, 32, val);
        break;
    case NVME_REG_ACQ + 4:
        n->acq = deposit64(n->acq, 32, 32, val);
        break;
    default:
        nvme_err_guest(n, NULL, NVME_INVALID_FIELD,
                       "write to read-only or reserved register %s "
                       "(0x%" HWADDR_PRIx ")", nvme_regs_name(off), off);
        break;
    }
}

typedef struct NvmeRegsEvent {
    NvmeCtrl *n;
    uint8_t info;
} NvmeRegsEvent;

static void nvme_regs_raise_error_event(void *opaque)
{
    NvmeRegsEvent *ev = opaque;

    nvme_log_event(ev->n, NVME_AER_TYPE_ERROR, ev->info, NVME_LOG_ERROR);
}

/*
 * A bad doorbell write is reported with an Error async event (Base 5.2),
 * raised in the engine's thread: the event queue and the AERs waiting
 * for it are the engine's (an iothread's, with iothread=)
 */
static void nvme_regs_bad_doorbell(NvmeCtrl *n, uint8_t info, hwaddr off,
                                   uint32_t val)
{
    NvmeRegsEvent ev = { .n = n, .info = info };

    nvme_err_guest(n, NULL, NVME_INVALID_FIELD,
                   "invalid doorbell %s at 0x%" HWADDR_PRIx
                   " value %u", info == NVME_AER_ERR_INVALID_DB_REG ?
                   "register" : "value", off, val);
    nvme_engine_run(n, nvme_regs_raise_error_event, &ev);
}

static void nvme_regs_doorbell(NvmeCtrl *n, hwaddr off, uint32_t val)
{
    uint32_t stride = nvme_db_stride(n->params.dstrd);
    uint64_t idx = (off - NVME_REG_DBS) / stride;
    uint64_t qid = idx >> 1;
    bool is_cq = idx & 1;

    if ((off - NVME_REG_DBS) % stride) {
        nvme_regs_bad_doorbell(n, NVME_AER_ERR_INVALID_DB_REG, off, val);
        return;
    }
    if (n->state != NVME_CTRL_ENABLED) {
        nvme_err_guest(n, NULL, NVME_COMMAND_SEQ_ERROR,
                       "doorbell 0x%" HWADDR_PRIx " rung while the "
                       "controller is not ready", off);
        return;
    }
    if (qid >= n->num_queues) {
        nvme_regs_bad_doorbell(n, NVME_AER_ERR_INVALID_DB_REG, off, val);
        return;
    }

    if (is_cq) {
        NvmeCQueue *cq = &n->cq[qid];

        if (cq->state != NVME_QUEUE_ACTIVE) {
            nvme_regs_bad_doorbell(n, NVME_AER_ERR_INVALID_DB_REG, off, val);
            return;
        }
        /*
         * The head may not pass entries the controller has not posted; the
         * engine may be posting in its own thread, so compare with where
         * its posting ends.  With shadow doorbells the shadow holds the
         * head (Base 5.8).
         */
        if (val >= cq->size ||
            (!cq->shadow &&
             !nvme_ring_within(cq->size, qatomic_read(&cq->db_head),
                               qatomic_load_acquire(&cq->tail_next), val))) {
            nvme_regs_bad_doorbell(n, NVME_AER_ERR_INVALID_DB_VALUE, off, val);
            return;
        }
        trace_nvme_dev_db_cq(qid, val);
        nvme_engine_cq_doorbell(n, cq, val);
    } else {
        NvmeSQueue *sq = &n->sq[qid];

        if (sq->state != NVME_QUEUE_ACTIVE) {
            nvme_regs_bad_doorbell(n, NVME_AER_ERR_INVALID_DB_REG, off, val);
            return;
        }
        if (val >= sq->size) {
            nvme_regs_bad_doorbell(n, NVME_AER_ERR_INVALID_DB_VALUE, off, val);
            return;
        }
        trace_nvme_dev_db_sq(qid, val);
        nvme_engine_sq_doorbell(n, sq, val);
    }
}

static uint64_t nvme_regs_read(void *opaque, hwaddr off, unsigned size)
{
    NvmeCtrl *n = opaque;
    uint64_t val;

    if (off & (size - 1)) {
        nvme_err_guest(n, NULL, NVME_INVALID_FIELD,
                       "unaligned %u-byte read at 0x%" HWADDR_PRIx,
                       size, off);
        return 0;
    }
    val = nvme_regs_read32(n, off);
    if (size == 8) {
        val |= (uint64_t)nvme_regs_read32(n, off + 4) << 32;
    }
    trace_nvme_dev_reg_read(nvme_regs_name(off), off, val);
    return val;
}

/* A register write, run in the engine's thread (see nvme_engine_run) */
typedef struct NvmeRegsWrite {
    NvmeCtrl *n;
    hwaddr off;
    uint64_t val;
    unsigned size;
} NvmeRegsWrite;

static void nvme_regs_write_engine(void *opaque)
{
    NvmeRegsWrite *w = opaque;

    nvme_regs_write32(w->n, w->off, w->val);
    if (w->size == 8) {
        nvme_regs_write32(w->n, w->off + 4, w->val >> 32);
    }
}

static void nvme_regs_write(void *opaque, hwaddr off, uint64_t val,
                            unsigned size)
{
    NvmeCtrl *n = opaque;
    NvmeRegsWrite write;

    if (nvme_engine_thread_busy) {
        /* DMA of an engine in an iothread hit a BAR (see nvme.h) */
        nvme_err_guest(n, NULL, NVME_INVALID_FIELD,
                       "re-entrant write at 0x%" HWADDR_PRIx " from an "
                       "iothread's DMA, blocked", off);
        return;
    }

    if (off & (size - 1)) {
        nvme_err_guest(n, NULL, NVME_INVALID_FIELD,
                       "unaligned %u-byte write at 0x%" HWADDR_PRIx,
                       size, off);
        return;
    }
    if (off >= NVME_REG_DBS) {
        if (size != 4) {
            nvme_err_guest(n, NULL, NVME_INVALID_FIELD,
                           "%u-byte doorbell write", size);
            return;
        }
        nvme_regs_doorbell(n, off, val);
        return;
    }
    write = (NvmeRegsWrite) { .n = n, .off = off, .val = val, .size = size };
    nvme_engine_run(n, nvme_regs_write_engine, &write);
    /* doorbell eventfds follow shadow doorbells and CC.EN (BQL) */
    nvme_engine_ioeventfd_update(n);
}

const MemoryRegionOps nvme_regs_ops = {
    .read = nvme_regs_read,
    .write = nvme_regs_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

static void nvme_regs_reset_engine(void *opaque)
{
    NvmeCtrl *n = opaque;

    if (n->state == NVME_CTRL_ENABLED) {
        /* power went away without a shutdown notification */
        n->smart.unsafe_shutdowns++;
    }
    nvme_regs_disable(n, false);
    n->cc = 0;
    n->csts = 0;
    n->aqa = 0;
    n->asq = 0;
    n->acq = 0;
    n->intms = 0;
    n->smart.power_cycles++;
}

/* Device reset (with the BQL) */
void nvme_regs_reset(NvmeCtrl *n)
{
    nvme_engine_run(n, nvme_regs_reset_engine, n);
    nvme_engine_ioeventfd_update(n);
}
