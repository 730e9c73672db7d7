/*
 * Interrupts: the INTx pin (NVMe over PCIe Transport 3.1.3.2, with
 * INTMS/INTMC), MSI-X vectors, and per-vector interrupt coalescing
 * (Base 5.27.1.7 Interrupt Coalescing, 5.27.1.8 Interrupt Vector
 * Configuration).  The engine tells this file how many entries it posted
 * to a CQ; this file decides whether and when that raises an interrupt.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "hw/pci/msix.h"
#include "nvme.h"
#include "trace.h"

/*
 * Pin-based interrupts (Base 3.5.1.2 / PCIe Transport 3.1.3.2): the pin
 * is asserted while any unmasked CQ with interrupts enabled holds entries
 * the host has not consumed.
 */
/*
 * Raising an interrupt needs the BQL.  An engine in an iothread hands the
 * vector (or the pin level) to a bottom half in the main loop, as
 * virtio's dataplane does without irqfd; the main-loop engine raises it
 * directly.
 */
static void nvme_irq_bh(void *opaque)
{
    NvmeCtrl *n = opaque;
    unsigned words = BITS_TO_LONGS(n->params.msix_qsize);

    for (unsigned w = 0; w < words; w++) {
        unsigned long bits = qatomic_xchg(&n->irq_pending[w], 0);

        while (bits) {
            unsigned bit = ctzl(bits);

            bits &= bits - 1;
            msix_notify(nvme_pci(n), w * BITS_PER_LONG + bit);
        }
    }
    if (!msix_enabled(nvme_pci(n))) {
        pci_set_irq(nvme_pci(n), qatomic_read(&n->irq_level));
    }
}

static void nvme_irq_set_pin(NvmeCtrl *n, bool level)
{
    if (nvme_in_iothread(n)) {
        qatomic_set(&n->irq_level, level);
        qemu_bh_schedule(n->irq_bh);
    } else {
        pci_set_irq(nvme_pci(n), level);
    }
}

static void nvme_irq_send(NvmeCtrl *n, uint16_t vector)
{
    if (nvme_in_iothread(n)) {
        set_bit_atomic(vector, n->irq_pending);
        qemu_bh_schedule(n->irq_bh);
    } else {
        msix_notify(nvme_pci(n), vector);
    }
}

void nvme_irq_update_pin(NvmeCtrl *n)
{
    PCIDevice *pci = nvme_pci(n);
    bool level = false;

    if (!msix_enabled(pci) && n->cq) {
        NvmeCQueue *cq;

        QTAILQ_FOREACH(cq, &n->active_cqs, active_entry) {
            level = cq->ien && cq->head != cq->tail &&
                    !(cq->vector < NVME_INTMS_VECTORS &&
                      (n->intms & BIT(cq->vector)));
            if (level) {
                break;
            }
        }
    }
    if (level != n->intx_level) {
        n->intx_level = level;
        trace_nvme_dev_irq_pin(level);
        nvme_irq_set_pin(n, level);
    }
}

static void nvme_irq_fire(NvmeCtrl *n, uint16_t vector)
{
    NvmeVector *v = &n->vec[vector];

    v->aggregated = 0;
    timer_del(v->timer);
    v->fired++;
    trace_nvme_dev_irq_msix(vector, v->fired);
    nvme_irq_send(n, vector);
}

void nvme_irq_notify(NvmeCtrl *n, NvmeCQueue *cq, uint32_t posted)
{
    NvmeVector *v;
    uint32_t thr, time;

    if (!cq->ien) {
        return;
    }
    if (!msix_enabled(nvme_pci(n))) {
        nvme_irq_update_pin(n);
        return;
    }
    v = &n->vec[cq->vector];
    thr = FIELD_EX32(n->feat.irq_coalescing, NVME_FEAT_IRQC, THR) + 1;
    time = FIELD_EX32(n->feat.irq_coalescing, NVME_FEAT_IRQC, TIME);
    /* coalescing never applies to the admin CQ (Base 5.27.1.7) */
    if (cq->cqid == NVME_ADMIN_QID || v->cd || time == 0) {
        nvme_irq_fire(n, cq->vector);
        return;
    }
    v->aggregated += posted;
    if (v->aggregated >= thr) {
        nvme_irq_fire(n, cq->vector);
    } else if (!timer_pending(v->timer)) {
        timer_mod(v->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                  (int64_t)time * NVME_IRQC_TIME_UNIT_NS);
    }
}

static void nvme_irq_vector_timer(void *opaque)
{
    NvmeVector *v = opaque;
    bool guard = nvme_guard_enter(v->ctrl);

    if (v->aggregated && v->ctrl->state != NVME_CTRL_FATAL) {
        nvme_irq_fire(v->ctrl, v->index);
    }
    nvme_guard_leave(v->ctrl, guard);
}

/* Drop pending coalesced interrupts */
void nvme_irq_quiesce(NvmeCtrl *n)
{
    for (uint32_t i = 0; i < n->params.msix_qsize; i++) {
        n->vec[i].aggregated = 0;
        timer_del(n->vec[i].timer);
    }
}

void nvme_irq_reset(NvmeCtrl *n)
{
    nvme_irq_quiesce(n);
    for (uint32_t i = 0; i < n->params.msix_qsize; i++) {
        n->vec[i].cd = false;
    }
}

/*
 * Raise now, with the BQL, what an iothread engine handed to the main
 * loop (the VM stops: the interrupts reach the interrupt controller
 * before its state is saved)
 */
void nvme_irq_flush(NvmeCtrl *n)
{
    if (nvme_in_iothread(n)) {
        qemu_bh_cancel(n->irq_bh);
        nvme_irq_bh(n);
    }
}

/*
 * The VM runs again, maybe on a migration's destination: a vector that
 * holds coalesced entries gets its aggregation time again (a whole one:
 * the time left is not migrated, Base 5.27.1.7 sets only an upper bound
 * the host may not rely on exactly), in the engine's thread.
 */
void nvme_irq_rearm(NvmeCtrl *n)
{
    uint32_t time = FIELD_EX32(n->feat.irq_coalescing, NVME_FEAT_IRQC, TIME);

    for (uint32_t i = 0; i < n->params.msix_qsize; i++) {
        NvmeVector *v = &n->vec[i];

        if (v->aggregated && !timer_pending(v->timer)) {
            timer_mod(v->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                      (int64_t)time * NVME_IRQC_TIME_UNIT_NS);
        }
    }
}

void nvme_irq_init(NvmeCtrl *n)
{
    n->irq_pending = bitmap_new(n->params.msix_qsize);
    n->irq_bh = aio_bh_new_guarded(qemu_get_aio_context(), nvme_irq_bh, n,
                                   &nvme_dev(n)->mem_reentrancy_guard);
    n->vec = g_new0(NvmeVector, n->params.msix_qsize);
    for (uint32_t i = 0; i < n->params.msix_qsize; i++) {
        n->vec[i].ctrl = n;
        n->vec[i].index = i;
        n->vec[i].timer = aio_timer_new(n->ctx, QEMU_CLOCK_VIRTUAL, SCALE_NS,
                                        nvme_irq_vector_timer, &n->vec[i]);
    }
}

void nvme_irq_fini(NvmeCtrl *n)
{
    for (uint32_t i = 0; i < n->params.msix_qsize; i++) {
        timer_free(n->vec[i].timer);
    }
    g_free(n->vec);
    n->vec = NULL;
    qemu_bh_delete(n->irq_bh);
    g_free(n->irq_pending);
}
