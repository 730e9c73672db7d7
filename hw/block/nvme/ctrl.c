/*
 * The nvme device: an NVM Express controller on PCI Express (NVMe Base
 * Specification 2.0c, and the NVMe over PCIe Transport Specification 1.0c
 * for the PCI function: class code 01h/08h/02h, BAR0 registers, MSI-X).
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "hw/pci/msix.h"
#include "hw/pci/pcie.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "migration/vmstate.h"
#include "system/block-backend.h"
#include "system/system.h"
#include "nvme.h"
#include "trace.h"

/* PCI function layout */
enum {
    NVME_PCI_PROG_IF_NVM    = 0x02,     /* PCIe Transport 3.1, NVM Express */
    NVME_PCI_PM_CAP_OFFSET  = 0x60,
    NVME_PCI_EXP_CAP_OFFSET = 0x80,
    NVME_PCI_MSIX_BAR       = 4,
    NVME_CAP_TO_7500MS      = 0x0f,     /* CAP.TO, 500 ms units */
    NVME_CAP_MPSMIN_4K      = 0,
    NVME_CAP_MPSMAX_64K     = 4,
    NVME_MAX_DSTRD          = 7,
    NVME_MAX_IOQPAIRS       = 0xfffe,
    NVME_MAX_MSIX_QSIZE     = 2048,     /* MSI-X table size limit */
    NVME_MAX_AERL           = 15,       /* keeps AERs below the admin SQ */
};

NvmeNs *nvme_ctrl_ns(NvmeCtrl *n, uint32_t nsid)
{
    if (nsid == 0 || nsid > NVME_MAX_NAMESPACES) {
        return NULL;
    }
    return n->ns[nsid];
}

bool nvme_ctrl_attach_ns(NvmeCtrl *n, NvmeNs *ns, Error **errp)
{
    uint32_t nsid = ns->params.nsid;

    if (nsid == 0) {
        for (nsid = 1; nsid <= NVME_MAX_NAMESPACES && n->ns[nsid]; nsid++) {
            /* first free namespace id */
        }
    }
    if (nsid > NVME_MAX_NAMESPACES) {
        error_setg(errp, "nsid must be in 1..%u (or 0 for the first free)",
                   NVME_MAX_NAMESPACES);
        return false;
    }
    if (n->ns[nsid]) {
        error_setg(errp, "namespace %u is already attached to this "
                   "controller", nsid);
        return false;
    }
    ns->params.nsid = nsid;
    ns->ctrl = n;
    nvme_ns_derive_ids(ns, n->params.serial);
    n->ns[nsid] = ns;
    trace_nvme_dev_ns_attach(nsid, ns->nsze, 1u << ns->lbads);
    if (n->state == NVME_CTRL_ENABLED) {
        nvme_log_ns_changed(n, nsid);
    }
    return true;
}

/* Wait for every block request of every namespace to finish */
void nvme_ctrl_drain(NvmeCtrl *n)
{
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        if (n->ns[i]) {
            nvme_ns_drain(n->ns[i]);
        }
    }
}

/*
 * Pin-based interrupts (Base 3.5.1.2 / PCIe Transport 3.1.3.2): the pin
 * is asserted while any unmasked CQ with interrupts enabled holds entries
 * the host has not consumed.
 */
void nvme_ctrl_update_irq(NvmeCtrl *n)
{
    PCIDevice *pci = PCI_DEVICE(n);
    bool level = false;

    if (!msix_enabled(pci) && n->cq) {
        for (uint32_t i = 0; i < n->num_queues && !level; i++) {
            NvmeCQueue *cq = &n->cq[i];

            level = cq->state == NVME_QUEUE_ACTIVE && cq->ien &&
                    cq->head != cq->tail &&
                    !(cq->vector < NVME_INTMS_VECTORS &&
                      (n->intms & BIT(cq->vector)));
        }
    }
    if (level != n->intx_level) {
        n->intx_level = level;
        trace_nvme_dev_irq_pin(level);
        pci_set_irq(pci, level);
    }
}

static bool nvme_ctrl_check_params(NvmeCtrl *n, Error **errp)
{
    NvmeParams *p = &n->params;

    if (!p->serial) {
        error_setg(errp, "serial property is required");
        return false;
    }
    if (p->max_ioqpairs < 1 || p->max_ioqpairs > NVME_MAX_IOQPAIRS) {
        error_setg(errp, "max_ioqpairs must be in 1..%u",
                   NVME_MAX_IOQPAIRS);
        return false;
    }
    if (p->msix_qsize < 1 || p->msix_qsize > NVME_MAX_MSIX_QSIZE) {
        error_setg(errp, "msix_qsize must be in 1..%u", NVME_MAX_MSIX_QSIZE);
        return false;
    }
    if (p->mqes < 1) {
        error_setg(errp, "mqes must be at least 1 (0's based queue size)");
        return false;
    }
    if (p->dstrd > NVME_MAX_DSTRD) {
        error_setg(errp, "dstrd must be in 0..%u", NVME_MAX_DSTRD);
        return false;
    }
    if (p->aerl > NVME_MAX_AERL) {
        error_setg(errp, "aerl must be in 0..%u", NVME_MAX_AERL);
        return false;
    }
    if (p->tick_budget < 1 || p->tick_budget > NVME_MAX_TICK_BUDGET) {
        error_setg(errp, "tick-budget must be in 1..%u",
                   NVME_MAX_TICK_BUDGET);
        return false;
    }
    return true;
}

static void nvme_ctrl_init_regs(NvmeCtrl *n)
{
    uint64_t cap = 0;

    cap = FIELD_DP64(cap, NVME_CAP, MQES, n->params.mqes);
    cap = FIELD_DP64(cap, NVME_CAP, CQR, 1);
    cap = FIELD_DP64(cap, NVME_CAP, AMS, NVME_CAP_AMS_WRRU);
    cap = FIELD_DP64(cap, NVME_CAP, TO, NVME_CAP_TO_7500MS);
    cap = FIELD_DP64(cap, NVME_CAP, DSTRD, n->params.dstrd);
    cap = FIELD_DP64(cap, NVME_CAP, CSS, NVME_CAP_CSS_NVM);
    cap = FIELD_DP64(cap, NVME_CAP, MPSMIN, NVME_CAP_MPSMIN_4K);
    cap = FIELD_DP64(cap, NVME_CAP, MPSMAX, NVME_CAP_MPSMAX_64K);
    n->cap = cap;
    n->vs = NVME_VS(2, 0, 0);
}

static bool nvme_ctrl_init_pci(NvmeCtrl *n, Error **errp)
{
    PCIDevice *pci = PCI_DEVICE(n);
    uint64_t bar_size;

    pci_config_set_prog_interface(pci->config, NVME_PCI_PROG_IF_NVM);
    pci_config_set_interrupt_pin(pci->config, 1);

    bar_size = NVME_REG_DBS +
               2ull * n->num_queues * (4u << n->params.dstrd);
    memory_region_init_io(&n->bar0, OBJECT(n), &nvme_regs_ops, n,
                          "nvme-bar0", pow2ceil(bar_size));
    pci_register_bar(pci, 0, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &n->bar0);

    if (pci_pm_init(pci, NVME_PCI_PM_CAP_OFFSET, errp) < 0) {
        return false;
    }
    if (pcie_endpoint_cap_init(pci, NVME_PCI_EXP_CAP_OFFSET) < 0) {
        error_setg(errp, "cannot add the PCI Express capability");
        return false;
    }
    if (msix_init_exclusive_bar(pci, n->params.msix_qsize,
                                NVME_PCI_MSIX_BAR, errp)) {
        return false;
    }
    return true;
}

static void nvme_ctrl_realize(PCIDevice *pci, Error **errp)
{
    ERRP_GUARD();
    NvmeCtrl *n = NVME(pci);

    if (!nvme_ctrl_check_params(n, errp)) {
        return;
    }
    n->num_queues = n->params.max_ioqpairs + 1;
    nvme_ctrl_init_regs(n);
    if (!nvme_ctrl_init_pci(n, errp)) {
        return;
    }
    nvme_q_init(n);
    nvme_admin_init(n);
    n->smart.power_on_start = qemu_clock_get_ns(QEMU_CLOCK_HOST);
    qbus_init(&n->bus, sizeof(n->bus), TYPE_NVME_BUS, DEVICE(n),
              DEVICE(n)->id);

    if (n->ns0.blkconf.blk) {
        n->ns0.params.nsid = 1;
        if (!nvme_ns_setup(&n->ns0, n, errp) ||
            !nvme_ctrl_attach_ns(n, &n->ns0, errp)) {
            nvme_admin_fini(n);
            nvme_q_fini(n);
            msix_uninit_exclusive_bar(pci);
            return;
        }
    }
}

static void nvme_ctrl_exit(PCIDevice *pci)
{
    NvmeCtrl *n = NVME(pci);

    nvme_regs_disable(n, false);
    nvme_admin_fini(n);
    nvme_q_fini(n);
    msix_uninit_exclusive_bar(pci);
}

static void nvme_ctrl_reset(DeviceState *dev)
{
    nvme_regs_reset(NVME(dev));
}

static const Property nvme_ctrl_props[] = {
    DEFINE_BLOCK_PROPERTIES(NvmeCtrl, ns0.blkconf),
    DEFINE_PROP_STRING("serial", NvmeCtrl, params.serial),
    DEFINE_PROP_UINT32("max_ioqpairs", NvmeCtrl, params.max_ioqpairs, 64),
    DEFINE_PROP_UINT32("msix_qsize", NvmeCtrl, params.msix_qsize, 65),
    DEFINE_PROP_UINT32("mqes", NvmeCtrl, params.mqes, 0x7ff),
    DEFINE_PROP_UINT8("mdts", NvmeCtrl, params.mdts, 7),
    DEFINE_PROP_UINT8("aerl", NvmeCtrl, params.aerl, 3),
    DEFINE_PROP_UINT8("dstrd", NvmeCtrl, params.dstrd, 0),
    DEFINE_PROP_UINT32("tick-ns", NvmeCtrl, params.tick_ns, 0),
    DEFINE_PROP_UINT32("tick-budget", NvmeCtrl, params.tick_budget, 64),
    DEFINE_PROP_UINT32("cq-retry-ns", NvmeCtrl, params.cq_retry_ns, 100000),
};

/*
 * Not migratable yet: the engine keeps requests in flight in the block
 * layer, per-queue state and coalescing timers that have no vmstate yet.
 * A later issue adds the sections (queues, features, logs, timers) and
 * drains I/O before saving; until then migration is refused rather than
 * silently losing queue state.
 */
static const VMStateDescription nvme_ctrl_vmstate = {
    .name = "nvqemu-nvme",
    .unmigratable = 1,
};

static void nvme_ctrl_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(oc);

    pc->realize = nvme_ctrl_realize;
    pc->exit = nvme_ctrl_exit;
    pc->vendor_id = PCI_VENDOR_ID_REDHAT;
    pc->device_id = PCI_DEVICE_ID_REDHAT_NVME;
    pc->class_id = PCI_CLASS_STORAGE_EXPRESS;
    pc->revision = 2;
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    dc->desc = "nvqemu NVM Express controller";
    device_class_set_props(dc, nvme_ctrl_props);
    device_class_set_legacy_reset(dc, nvme_ctrl_reset);
    dc->vmsd = &nvme_ctrl_vmstate;
}

static void nvme_ctrl_instance_init(Object *obj)
{
    NvmeCtrl *n = NVME(obj);

    device_add_bootindex_property(obj, &n->ns0.blkconf.bootindex,
                                  "bootindex", "/namespace@1,0",
                                  DEVICE(obj));
}

static const TypeInfo nvme_ctrl_types[] = {
    {
        .name = TYPE_NVME,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(NvmeCtrl),
        .instance_init = nvme_ctrl_instance_init,
        .class_init = nvme_ctrl_class_init,
        .interfaces = (InterfaceInfo[]) {
            { INTERFACE_PCIE_DEVICE },
            { }
        },
    },
    {
        .name = TYPE_NVME_BUS,
        .parent = TYPE_BUS,
        .instance_size = sizeof(BusState),
    },
};

DEFINE_TYPES(nvme_ctrl_types)
