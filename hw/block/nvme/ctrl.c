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
#include "qapi/visitor.h"
#include "qemu/error-report.h"
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

/* PCI function layout (the same as stock QEMU's, see docs/nvme.md) */
enum {
    NVME_PCI_PROG_IF_NVM    = 0x02,     /* PCIe Transport 3.1, NVM Express */
    NVME_PCI_REVISION       = 2,
    NVME_PCI_PM_CAP_OFFSET  = 0x60,
    NVME_PCI_EXP_CAP_OFFSET = 0x80,
    NVME_PCI_MSIX_BAR       = 4,        /* with msix-exclusive-bar=on */
    NVME_PCI_MSIX_ALIGN     = 4 * KiB,  /* MSI-X table and PBA in BAR0 */
    NVME_PCI_PBA_ALIGN_BITS = 64,       /* PBA: 64-bit QWORDs of bits */
    NVME_PCI_DEVICE_ID_INTEL = 0x5845,  /* use-intel-id=on (stock's id) */
    NVME_CAP_TO_7500MS      = 0x0f,     /* CAP.TO, 500 ms units */
    NVME_CAP_MPSMIN_4K      = 0,
    NVME_CAP_MPSMAX_64K     = 4,
    NVME_MAX_DSTRD          = 7,
    NVME_MAX_IOQPAIRS       = 0xffff,   /* stock's limit */
    NVME_MAX_MSIX_QSIZE     = PCI_MSIX_FLAGS_QSIZE + 1,
    /*
     * A transfer of 2^MDTS pages, plus one for an unaligned start, must
     * fit in IOV_MAX host iovecs: stock refuses anything else (and 0).
     */
    NVME_MAX_MDTS           = 9,
    NVME_SMART_WARN_ALL     = NVME_SMART_WARN_SPARE |
                              NVME_SMART_WARN_TEMPERATURE |
                              NVME_SMART_WARN_RELIABILITY |
                              NVME_SMART_WARN_READ_ONLY |
                              NVME_SMART_WARN_VOLATILE_MEM,
};
QEMU_BUILD_BUG_ON((1u << NVME_MAX_MDTS) + 1 > IOV_MAX);
QEMU_BUILD_BUG_ON((1u << (NVME_MAX_MDTS + 1)) + 1 <= IOV_MAX);

/*
 * A namespace given on this controller (nvme-ns device @dev, or the
 * drive= shorthand with @dev NULL) is allocated in its subsystem, which
 * attaches it; an nvme-subsys's namespace device moves to its bus.
 */
static bool nvme_ctrl_add_ns(NvmeCtrl *n, DeviceState *dev, NvmeNs *ns,
                             Error **errp)
{
    NvmeSubsys *s = n->subsys;

    /*
     * Its block requests complete in the engine's AioContext (only an
     * implicit subsystem has iothread=, so one controller uses it)
     */
    if (nvme_in_iothread(n) &&
        (blk_set_aio_context(ns->blkconf.blk, n->ctx, errp) < 0 ||
         (ns->params.meta_blk &&
          blk_set_aio_context(ns->params.meta_blk, n->ctx, errp) < 0))) {
        return false;
    }
    if (!ns->params.nsid) {
        ns->params.nsid = nvme_subsys_free_nsid(s);
    }
    if (n->params.derive_ns_ids) {
        nvme_ns_derive_ids(ns, n->params.serial);
    }
    if (!nvme_subsys_ns_add(s, ns, errp)) {
        return false;
    }
    if (dev && s->bus &&
        !qdev_set_parent_bus(dev, &s->bus->parent_obj, errp)) {
        nvme_subsys_ns_unplug(s, ns);
        return false;
    }
    return true;
}

static bool nvme_ctrl_attach_ns(NvmeBus *bus, DeviceState *dev, NvmeNs *ns,
                                Error **errp)
{
    NvmeCtrl *n = NVME(bus->parent_obj.parent);

    return nvme_ns_setup(ns, n, errp) && nvme_ctrl_add_ns(n, dev, ns, errp);
}

static void nvme_ctrl_detach_ns(NvmeBus *bus, NvmeNs *ns)
{
    if (ns->subsys) {
        nvme_subsys_ns_unplug(ns->subsys, ns);
    }
}

/* Join the nvme-subsys of subsys=, or an implicit subsystem of our own */
static bool nvme_ctrl_join_subsys(NvmeCtrl *n, Error **errp)
{
    NvmeSubsys *s;

    if (n->subsys_dev) {
        if (n->ns0.blkconf.blk) {
            /* stock's refusal */
            error_setg(errp, "subsystem support is unavailable with legacy "
                       "namespace ('drive' property)");
            return false;
        }
        /*
         * Controllers of one subsystem change each other's attached
         * namespaces from their engines: those must share one context
         */
        if (n->params.iothread) {
            error_setg(errp, "iothread cannot be used with subsys");
            return false;
        }
        s = &n->subsys_dev->subsys;
    } else {
        s = nvme_subsys_new_implicit(n->params.serial);
    }
    if (!nvme_subsys_ctrl_register(s, n, errp)) {
        if (!n->subsys_dev) {
            nvme_subsys_free_implicit(s);
        }
        return false;
    }
    return true;
}

static void nvme_ctrl_leave_subsys(NvmeCtrl *n)
{
    NvmeSubsys *s = n->subsys;

    if (!s) {
        return;
    }
    /* the drive= namespace lives in the controller: it goes too */
    if (n->ns0.subsys) {
        nvme_subsys_ns_unplug(s, &n->ns0);
    }
    nvme_subsys_ctrl_unregister(s, n);
    if (!n->subsys_dev) {
        nvme_subsys_free_implicit(s);
    }
    n->subsys = NULL;
}

static bool nvme_ctrl_check_params(NvmeCtrl *n, Error **errp)
{
    NvmeParams *p = &n->params;

    if (p->num_queues) {
        warn_report("num_queues is deprecated; please use max_ioqpairs "
                    "instead");
        p->max_ioqpairs = p->num_queues - 1;
    }
    if (p->max_ioqpairs < 1 || p->max_ioqpairs > NVME_MAX_IOQPAIRS) {
        error_setg(errp, "max_ioqpairs must be in 1..%u (num_queues in "
                   "2..%u)", NVME_MAX_IOQPAIRS, NVME_MAX_IOQPAIRS + 1);
        return false;
    }
    if (p->msix_qsize < 1 || p->msix_qsize > NVME_MAX_MSIX_QSIZE) {
        error_setg(errp, "msix_qsize must be in 1..%u", NVME_MAX_MSIX_QSIZE);
        return false;
    }
    if (!p->serial) {
        error_setg(errp, "serial property is required");
        return false;
    }
    if (p->mqes < 1) {
        error_setg(errp, "mqes must be in 1..%u (0's based queue size)",
                   UINT16_MAX);
        return false;
    }
    if (p->mdts < 1 || p->mdts > NVME_MAX_MDTS) {
        error_setg(errp, "mdts must be in 1..%u", NVME_MAX_MDTS);
        return false;
    }
    if (p->vsl < 1) {
        error_setg(errp, "vsl must be in 1..%u", UINT8_MAX);
        return false;
    }
    if (p->dstrd > NVME_MAX_DSTRD) {
        error_setg(errp, "dstrd must be in 0..%u", NVME_MAX_DSTRD);
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
    n->vs = NVME_SPEC_VERSION;
}

/* Bytes of BAR0 the registers and doorbells of every queue pair take */
static uint64_t nvme_ctrl_regs_size(NvmeCtrl *n)
{
    return NVME_REG_DBS +
           2ull * n->num_queues * nvme_db_stride(n->params.dstrd);
}

/*
 * PCI power management as stock sets it up: PM 1.2, No_Soft_Reset (a
 * D3hot -> D0 transition keeps the controller's state), D-state writable.
 */
static bool nvme_ctrl_init_pm(PCIDevice *pci, Error **errp)
{
    if (pci_pm_init(pci, NVME_PCI_PM_CAP_OFFSET, errp) < 0) {
        return false;
    }
    pci_set_word(pci->config + NVME_PCI_PM_CAP_OFFSET + PCI_PM_PMC,
                 PCI_PM_CAP_VER_1_2);
    pci_set_word(pci->config + NVME_PCI_PM_CAP_OFFSET + PCI_PM_CTRL,
                 PCI_PM_CTRL_NO_SOFT_RESET);
    pci_set_word(pci->wmask + NVME_PCI_PM_CAP_OFFSET + PCI_PM_CTRL,
                 PCI_PM_CTRL_STATE_MASK);
    return true;
}

/*
 * The outcome of MSI-X setup (@ret, @err): an interrupt controller
 * without MSI (-ENOTSUP) leaves the function on INTx with a warning, as
 * stock does; any other failure fails realize.
 */
static bool nvme_ctrl_msix_done(int ret, Error *err, Error **errp)
{
    if (ret == -ENOTSUP) {
        warn_report_err(err);
        return true;
    }
    if (ret < 0) {
        error_propagate(errp, err);
        return false;
    }
    return true;
}

/*
 * BAR0 holds the registers, then (4 KiB aligned) the MSI-X table and PBA,
 * rounded up to a power of two, as stock lays it out; with
 * msix-exclusive-bar=on the table and PBA move to BAR4 instead.
 */
static bool nvme_ctrl_init_bars(NvmeCtrl *n, Error **errp)
{
    PCIDevice *pci = PCI_DEVICE(n);
    uint64_t regs_size = nvme_ctrl_regs_size(n);
    uint16_t nvec = n->params.msix_qsize;
    uint64_t table_off, pba_off, bar_size;
    Error *err = NULL;
    int ret;

    if (n->params.msix_exclusive_bar) {
        memory_region_init_io(&n->regs, OBJECT(n), &nvme_regs_ops, n,
                              "nvme-regs", pow2ceil(regs_size));
        pci_register_bar(pci, 0, PCI_BASE_ADDRESS_SPACE_MEMORY |
                         PCI_BASE_ADDRESS_MEM_TYPE_64, &n->regs);
        ret = msix_init_exclusive_bar(pci, nvec, NVME_PCI_MSIX_BAR, &err);
        return nvme_ctrl_msix_done(ret, err, errp);
    }

    table_off = QEMU_ALIGN_UP(regs_size, NVME_PCI_MSIX_ALIGN);
    pba_off = QEMU_ALIGN_UP(table_off + (uint64_t)nvec * PCI_MSIX_ENTRY_SIZE,
                            NVME_PCI_MSIX_ALIGN);
    bar_size = pow2ceil(pba_off + QEMU_ALIGN_UP(nvec, NVME_PCI_PBA_ALIGN_BITS)
                        / BITS_PER_BYTE);
    memory_region_init(&n->bar0, OBJECT(n), "nvme-bar0", bar_size);
    memory_region_init_io(&n->regs, OBJECT(n), &nvme_regs_ops, n,
                          "nvme-regs", table_off);
    memory_region_add_subregion(&n->bar0, 0, &n->regs);
    pci_register_bar(pci, 0, PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &n->bar0);
    ret = msix_init(pci, nvec, &n->bar0, 0, table_off, &n->bar0, 0,
                    pba_off, 0, &err);
    return nvme_ctrl_msix_done(ret, err, errp);
}

static void nvme_ctrl_fini_bars(NvmeCtrl *n)
{
    PCIDevice *pci = PCI_DEVICE(n);

    if (n->params.msix_exclusive_bar) {
        msix_uninit_exclusive_bar(pci);
    } else {
        msix_uninit(pci, &n->bar0, &n->bar0);
        /*
         * A subregion holds a reference to its owner: left in place, it
         * kept an unplugged controller from being finalized (no
         * DEVICE_DELETED for it).
         */
        memory_region_del_subregion(&n->bar0, &n->regs);
    }
}

static bool nvme_ctrl_init_pci(NvmeCtrl *n, Error **errp)
{
    PCIDevice *pci = PCI_DEVICE(n);

    if (n->params.use_intel_id) {
        pci_config_set_vendor_id(pci->config, PCI_VENDOR_ID_INTEL);
        pci_config_set_device_id(pci->config, NVME_PCI_DEVICE_ID_INTEL);
    }
    pci_config_set_prog_interface(pci->config, NVME_PCI_PROG_IF_NVM);
    pci_config_set_interrupt_pin(pci->config, 1);

    if (!nvme_ctrl_init_pm(pci, errp)) {
        return false;
    }
    if (pcie_endpoint_cap_init(pci, NVME_PCI_EXP_CAP_OFFSET) < 0) {
        error_setg(errp, "cannot add the PCI Express capability");
        return false;
    }
    pcie_cap_flr_init(pci);
    if (!nvme_ctrl_init_bars(n, errp)) {
        return false;
    }
    pcie_cap_deverr_init(pci);
    return true;
}

static void nvme_ctrl_write_config(PCIDevice *pci, uint32_t addr,
                                   uint32_t val, int len)
{
    pci_default_write_config(pci, addr, val, len);
    /* Function Level Reset resets the device (PCIe Transport 3.7.2) */
    pcie_cap_flr_write_config(pci, addr, val, len);
}

/* smart_critical_warning: a QOM property that injects SMART warnings */
typedef struct NvmeCtrlWarning {
    NvmeCtrl *n;
    uint8_t bits;
} NvmeCtrlWarning;

static void nvme_ctrl_raise_warning(void *opaque)
{
    NvmeCtrlWarning *w = opaque;

    nvme_log_smart_warning_raised(w->n, w->bits);
}

static void nvme_ctrl_get_smart_warning(Object *obj, Visitor *v,
                                        const char *name, void *opaque,
                                        Error **errp)
{
    uint8_t value = NVME(obj)->smart_critical_warning;

    visit_type_uint8(v, name, &value, errp);
}

static void nvme_ctrl_set_smart_warning(Object *obj, Visitor *v,
                                        const char *name, void *opaque,
                                        Error **errp)
{
    NvmeCtrl *n = NVME(obj);
    uint8_t value, raised;

    if (!visit_type_uint8(v, name, &value, errp)) {
        return;
    }
    if (value & ~NVME_SMART_WARN_ALL) {
        error_setg(errp, "smart_critical_warning: unsupported bits 0x%x "
                   "(supported: 0x%x)", value & ~NVME_SMART_WARN_ALL,
                   NVME_SMART_WARN_ALL);
        return;
    }
    raised = value & ~n->smart_critical_warning;
    n->smart_critical_warning = value;
    trace_nvme_dev_smart_warning(value, raised);
    if (raised && n->aer_queue) {
        NvmeCtrlWarning w = { .n = n, .bits = raised };

        nvme_engine_run(n, nvme_ctrl_raise_warning, &w);
    }
}

/* What realize set up, undone (the engine stopped) */
static void nvme_ctrl_teardown(NvmeCtrl *n)
{
    nvme_vmstate_fini(n);
    nvme_ctrl_leave_subsys(n);
    nvme_admin_fini(n);
    nvme_log_fini(n);
    nvme_irq_fini(n);
    nvme_engine_fini(n);
    nvme_q_fini(n);
    nvme_ctrl_fini_bars(n);
}

/* The drive= shorthand: namespace 1, private to this controller */
static bool nvme_ctrl_init_ns0(NvmeCtrl *n, Error **errp)
{
    if (!n->ns0.blkconf.blk) {
        return true;
    }
    n->ns0.params.nsid = 1;
    return nvme_ns_setup(&n->ns0, n, errp) &&
           nvme_ctrl_add_ns(n, NULL, &n->ns0, errp);
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
    n->cmdset[NVME_CMDSET_ADMIN] = &nvme_admin_cmdset;
    n->cmdset[NVME_CMDSET_IO] = &nvme_io_cmdset;
    nvme_q_init(n);
    nvme_engine_init(n);
    nvme_irq_init(n);
    nvme_log_init(n);
    nvme_admin_init(n);
    nvme_vmstate_init(n);
    n->smart.power_on_start = qemu_clock_get_ns(QEMU_CLOCK_HOST);
    qbus_init(&n->bus, sizeof(n->bus), TYPE_NVME_BUS, DEVICE(n),
              DEVICE(n)->id);
    n->bus.attach = nvme_ctrl_attach_ns;
    n->bus.detach = nvme_ctrl_detach_ns;

    if (!nvme_ctrl_join_subsys(n, errp) || !nvme_ctrl_init_ns0(n, errp)) {
        nvme_ctrl_teardown(n);
    }
}

static void nvme_ctrl_disable_engine(void *opaque)
{
    nvme_regs_disable(opaque, false);
}

static void nvme_ctrl_exit(PCIDevice *pci)
{
    NvmeCtrl *n = NVME(pci);

    nvme_engine_run(n, nvme_ctrl_disable_engine, n);
    nvme_engine_ioeventfd_update(n);
    /* with iothread=, every namespace of the (implicit) subsystem */
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        NvmeNs *ns = n->subsys->ns[i];

        if (ns && nvme_in_iothread(n)) {
            blk_set_aio_context(ns->blkconf.blk, qemu_get_aio_context(),
                                &error_abort);
            /* allocated, maybe not attached (detached=on) */
            if (ns->params.meta_blk) {
                blk_set_aio_context(ns->params.meta_blk,
                                    qemu_get_aio_context(), &error_abort);
            }
        }
    }
    nvme_ctrl_teardown(n);
}

static void nvme_ctrl_reset(DeviceState *dev)
{
    nvme_regs_reset(NVME(dev));
}

/* Upstream's names and defaults, then nvqemu's own (docs/nvme.md) */
static const Property nvme_ctrl_props[] = {
    DEFINE_BLOCK_PROPERTIES(NvmeCtrl, ns0.blkconf),
    DEFINE_PROP_STRING("serial", NvmeCtrl, params.serial),
    DEFINE_PROP_LINK("subsys", NvmeCtrl, subsys_dev, TYPE_NVME_SUBSYS,
                     NvmeSubsysDevice *),
    DEFINE_PROP_UINT32("num_queues", NvmeCtrl, params.num_queues, 0),
    DEFINE_PROP_UINT32("max_ioqpairs", NvmeCtrl, params.max_ioqpairs, 64),
    DEFINE_PROP_UINT16("msix_qsize", NvmeCtrl, params.msix_qsize, 65),
    DEFINE_PROP_UINT8("aerl", NvmeCtrl, params.aerl, 3),
    DEFINE_PROP_UINT32("aer_max_queued", NvmeCtrl, params.aer_max_queued,
                       64),
    DEFINE_PROP_UINT8("mdts", NvmeCtrl, params.mdts, 7),
    DEFINE_PROP_UINT8("vsl", NvmeCtrl, params.vsl, 7),
    DEFINE_PROP_BOOL("use-intel-id", NvmeCtrl, params.use_intel_id, false),
    DEFINE_PROP_BOOL("msix-exclusive-bar", NvmeCtrl,
                     params.msix_exclusive_bar, false),
    DEFINE_PROP_UINT16("mqes", NvmeCtrl, params.mqes, 0x7ff),
    DEFINE_PROP_BOOL("atomic.dn", NvmeCtrl, params.atomic_dn, false),
    DEFINE_PROP_UINT16("atomic.awun", NvmeCtrl, params.atomic_awun, 0),
    DEFINE_PROP_UINT16("atomic.awupf", NvmeCtrl, params.atomic_awupf, 0),
    DEFINE_PROP_BOOL("ctratt.mem", NvmeCtrl, params.ctratt_mem, false),
    DEFINE_PROP_BOOL("ocp", NvmeCtrl, params.ocp, false),
    DEFINE_PROP_BOOL("derive-ns-ids", NvmeCtrl, params.derive_ns_ids, false),
    DEFINE_PROP_UINT8("dstrd", NvmeCtrl, params.dstrd, 0),
    DEFINE_PROP_UINT32("tick-ns", NvmeCtrl, params.tick_ns, 0),
    DEFINE_PROP_UINT32("tick-budget", NvmeCtrl, params.tick_budget, 64),
    DEFINE_PROP_UINT32("cq-retry-ns", NvmeCtrl, params.cq_retry_ns, 100000),
    DEFINE_PROP_BOOL("dbcs", NvmeCtrl, params.dbcs, true),
    DEFINE_PROP_BOOL("ioeventfd", NvmeCtrl, params.ioeventfd, false),
    DEFINE_PROP_LINK("iothread", NvmeCtrl, params.iothread, TYPE_IOTHREAD,
                     IOThread *),
};

static void nvme_ctrl_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(oc);

    pc->realize = nvme_ctrl_realize;
    pc->exit = nvme_ctrl_exit;
    pc->config_write = nvme_ctrl_write_config;
    pc->vendor_id = PCI_VENDOR_ID_REDHAT;
    pc->device_id = PCI_DEVICE_ID_REDHAT_NVME;
    pc->class_id = PCI_CLASS_STORAGE_EXPRESS;
    pc->revision = NVME_PCI_REVISION;
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    dc->desc = "nvqemu NVM Express controller";
    device_class_set_props(dc, nvme_ctrl_props);
    device_class_set_legacy_reset(dc, nvme_ctrl_reset);
    /* migratable: the stream and its rules are in vmstate.c */
    dc->vmsd = &nvme_vmstate_ctrl;
}

static void nvme_ctrl_instance_init(Object *obj)
{
    NvmeCtrl *n = NVME(obj);

    device_add_bootindex_property(obj, &n->ns0.blkconf.bootindex,
                                  "bootindex", "/namespace@1,0",
                                  DEVICE(obj));
    object_property_add_uint64_ptr(obj, "engine-wakeups", &n->wakeups,
                                   OBJ_PROP_FLAG_READ);
    object_property_add(obj, "smart_critical_warning", "uint8",
                        nvme_ctrl_get_smart_warning,
                        nvme_ctrl_set_smart_warning, NULL, NULL);
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
        .instance_size = sizeof(NvmeBus),
    },
};

DEFINE_TYPES(nvme_ctrl_types)
