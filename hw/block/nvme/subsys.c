/*
 * NVM subsystems (NVMe Base Specification 2.0c sections 1.5.50, 2.4 and
 * 5.19): the nvme-subsys device, the controllers of a subsystem, the
 * namespaces allocated in it and which controllers each is attached to,
 * and the Namespace Attachment command.
 *
 * A namespace is owned by its subsystem (NvmeSubsys.ns[], by NSID); a
 * controller's NvmeCtrl.ns[] holds the namespaces attached to it.  A
 * controller with no subsys= has an implicit subsystem of its own, named
 * after its serial, as stock QEMU has: Namespace Attachment and the
 * allocated namespace lists work the same there.
 *
 * An nvme-ns given on a controller of an nvme-subsys moves to the
 * subsystem's bus, so that it stays when that controller is unplugged;
 * requests in flight on other controllers keep their namespace.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/module.h"
#include "qemu/cutils.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "trace.h"

/* SUBNQN of a subsystem: stock's prefix, then its nqn, id or serial */
#define NVME_SUBSYS_NQN_FMT "nqn.2019-08.org.qemu:%s"

static void nvme_subsys_init(NvmeSubsys *s, const char *name, bool multi,
                             NvmeBus *bus)
{
    snprintf(s->subnqn, sizeof(s->subnqn), NVME_SUBSYS_NQN_FMT, name);
    s->multi_ctrl = multi;
    s->bus = bus;
}

NvmeSubsys *nvme_subsys_new_implicit(const char *serial)
{
    NvmeSubsys *s = g_new0(NvmeSubsys, 1);

    nvme_subsys_init(s, serial, false, NULL);
    return s;
}

void nvme_subsys_free_implicit(NvmeSubsys *s)
{
    g_free(s->serial);
    g_free(s);
}

NvmeCtrl *nvme_subsys_ctrl(NvmeSubsys *s, uint32_t cntlid)
{
    return cntlid < NVME_SUBSYS_MAX_CTRLS ? s->ctrls[cntlid] : NULL;
}

NvmeNs *nvme_subsys_ns(NvmeSubsys *s, uint32_t nsid)
{
    if (nsid == 0 || nsid > NVME_MAX_NAMESPACES) {
        return NULL;
    }
    return s->ns[nsid];
}

/* The lowest NSID not allocated, or 0 when all are */
uint32_t nvme_subsys_free_nsid(NvmeSubsys *s)
{
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        if (!s->ns[nsid]) {
            return nsid;
        }
    }
    return 0;
}

bool nvme_subsys_ns_attached(NvmeNs *ns, NvmeCtrl *n)
{
    return n->ns[ns->params.nsid] == ns;
}

/*
 * Make @ns active on @n; @notify: a runtime change the controller is told
 * of (Changed Namespace List, Namespace Attribute Changed event)
 */
static void nvme_subsys_link(NvmeNs *ns, NvmeCtrl *n, bool notify)
{
    uint32_t nsid = ns->params.nsid;

    n->ns[nsid] = ns;
    trace_nvme_dev_subsys_attach(n->cntlid, nsid, notify);
    if (notify) {
        nvme_log_ns_changed(n, nsid);
    }
}

static void nvme_subsys_unlink(NvmeNs *ns, NvmeCtrl *n, bool notify)
{
    uint32_t nsid = ns->params.nsid;

    n->ns[nsid] = NULL;
    trace_nvme_dev_subsys_detach(n->cntlid, nsid, notify);
    if (notify) {
        nvme_log_ns_changed(n, nsid);
    }
}

/*
 * @ns changed (Format NVM): every controller it is attached to gets the
 * NSID in its Changed Namespace List and the event
 */
void nvme_subsys_ns_changed(NvmeSubsys *s, NvmeNs *ns)
{
    for (unsigned i = 0; i < NVME_SUBSYS_MAX_CTRLS; i++) {
        if (s->ctrls[i] && nvme_subsys_ns_attached(ns, s->ctrls[i])) {
            nvme_log_ns_changed(s->ctrls[i], ns->params.nsid);
        }
    }
}

/* The controller other than @n a private namespace is attached to */
static NvmeCtrl *nvme_subsys_other_attached(NvmeSubsys *s, NvmeNs *ns,
                                            NvmeCtrl *n)
{
    for (unsigned i = 0; i < NVME_SUBSYS_MAX_CTRLS; i++) {
        if (s->ctrls[i] && s->ctrls[i] != n &&
            nvme_subsys_ns_attached(ns, s->ctrls[i])) {
            return s->ctrls[i];
        }
    }
    return NULL;
}

/*
 * Attach @ns to @n at run time: NVME_SUCCESS, or why not (Base 5.19).
 * A private namespace (shared=off) is attached to one controller at most.
 */
uint16_t nvme_subsys_ns_attach(NvmeSubsys *s, NvmeNs *ns, NvmeCtrl *n)
{
    if (nvme_subsys_ns_attached(ns, n)) {
        return NVME_NS_ALREADY_ATTACHED;
    }
    if (!ns->params.shared && nvme_subsys_other_attached(s, ns, n)) {
        return NVME_NS_IS_PRIVATE;
    }
    nvme_subsys_link(ns, n, true);
    return NVME_SUCCESS;
}

uint16_t nvme_subsys_ns_detach(NvmeSubsys *s, NvmeNs *ns, NvmeCtrl *n)
{
    if (!nvme_subsys_ns_attached(ns, n)) {
        return NVME_NS_NOT_ATTACHED;
    }
    nvme_subsys_unlink(ns, n, true);
    return NVME_SUCCESS;
}

/*
 * Attach a namespace as its properties say when it is allocated or a
 * controller joins: a shared one to every controller, a private one to
 * the controller it was given on, a detached one to none.
 */
static bool nvme_subsys_auto_attach(NvmeNs *ns, NvmeCtrl *n)
{
    if (ns->params.detached) {
        return false;
    }
    return ns->params.shared || ns->ctrl == n;
}

/*
 * Allocate @ns in @s (NSID ns->params.nsid, or the lowest free one when
 * 0) and attach it to the controllers its properties name.
 */
bool nvme_subsys_ns_add(NvmeSubsys *s, NvmeNs *ns, Error **errp)
{
    uint32_t nsid = ns->params.nsid;

    if (nsid == 0) {
        nsid = nvme_subsys_free_nsid(s);
        if (nsid == 0) {
            error_setg(errp, "nsid: all %u namespace ids are in use",
                       NVME_MAX_NAMESPACES);
            return false;
        }
    }
    if (nsid > NVME_MAX_NAMESPACES) {
        error_setg(errp, "nsid must be in 1..%u (or 0 for the first free)",
                   NVME_MAX_NAMESPACES);
        return false;
    }
    if (s->ns[nsid]) {
        /* stock's message */
        error_setg(errp, "namespace id '%u' already allocated", nsid);
        return false;
    }
    ns->params.nsid = nsid;
    ns->subsys = s;
    s->ns[nsid] = ns;
    trace_nvme_dev_ns_attach(nsid, ns->nsze, 1u << ns->lbads);
    for (unsigned i = 0; i < NVME_SUBSYS_MAX_CTRLS; i++) {
        NvmeCtrl *n = s->ctrls[i];

        if (n && nvme_subsys_auto_attach(ns, n)) {
            nvme_subsys_link(ns, n, n->state == NVME_CTRL_ENABLED);
        }
    }
    return true;
}

static void nvme_subsys_ns_free(NvmeSubsys *s, NvmeNs *ns, bool notify)
{
    uint32_t nsid = ns->params.nsid;

    if (ns->subsys != s || s->ns[nsid] != ns) {
        return;
    }
    nvme_ns_drain(ns);
    for (unsigned i = 0; i < NVME_SUBSYS_MAX_CTRLS; i++) {
        NvmeCtrl *n = s->ctrls[i];

        if (n && nvme_subsys_ns_attached(ns, n)) {
            nvme_subsys_unlink(ns, n,
                               notify && n->state == NVME_CTRL_ENABLED);
        }
    }
    s->ns[nsid] = NULL;
    ns->subsys = NULL;
}

/*
 * Free @ns from @s (Namespace Management delete): it is detached from
 * every controller, each told if running, and its NSID becomes free.
 * Requests in flight finish first.  Runs in the engine's context of the
 * controller asking.
 */
void nvme_subsys_ns_remove(NvmeSubsys *s, NvmeNs *ns)
{
    nvme_subsys_ns_free(s, ns, true);
}

/*
 * The same when its device goes (unrealize, in the main loop): no event,
 * as the main loop must not post to an engine that lives in an iothread
 */
void nvme_subsys_ns_unplug(NvmeSubsys *s, NvmeNs *ns)
{
    nvme_subsys_ns_free(s, ns, false);
}

/*
 * A controller joins @s: it takes the lowest free controller id, and the
 * shared namespaces not created detached are attached to it (also when
 * it is hot-plugged, as stock does).
 */
bool nvme_subsys_ctrl_register(NvmeSubsys *s, NvmeCtrl *n, Error **errp)
{
    unsigned id;

    /* stock: the controllers of a subsystem have one serial number */
    if (s->serial && strcmp(s->serial, n->params.serial)) {
        error_setg(errp, "invalid controller serial");
        return false;
    }
    for (id = 0; id < NVME_SUBSYS_MAX_CTRLS && s->ctrls[id]; id++) {
        /* lowest free controller id */
    }
    if (id == NVME_SUBSYS_MAX_CTRLS) {
        error_setg(errp, "subsys: subsystem %s has %u controllers already",
                   s->subnqn, NVME_SUBSYS_MAX_CTRLS);
        return false;
    }
    if (!s->serial) {
        s->serial = g_strdup(n->params.serial);
    }
    s->ctrls[id] = n;
    n->cntlid = id;
    n->subsys = s;
    trace_nvme_dev_subsys_ctrl(s->subnqn, id, true);
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        if (s->ns[nsid] && ((s->ns[nsid]->params.shared &&
                             !s->ns[nsid]->params.detached) ||
                            nvme_nsmgmt_attached_at_start(s, s->ns[nsid],
                                                          n))) {
            nvme_subsys_link(s->ns[nsid], n, false);
        }
    }
    return true;
}

/*
 * A controller leaves its subsystem (unplugged): its namespaces stay
 * allocated, attached to the other controllers as they were.
 */
void nvme_subsys_ctrl_unregister(NvmeSubsys *s, NvmeCtrl *n)
{
    if (s->ctrls[n->cntlid] != n) {
        return;
    }
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        if (n->ns[nsid]) {
            nvme_subsys_unlink(n->ns[nsid], n, false);
        }
        if (s->ns[nsid] && s->ns[nsid]->ctrl == n) {
            s->ns[nsid]->ctrl = NULL;
        }
    }
    s->ctrls[n->cntlid] = NULL;
    trace_nvme_dev_subsys_ctrl(s->subnqn, n->cntlid, false);
}

/* ---- Namespace Attachment (Base 5.19) ----------------------------------- */

/*
 * The controllers a Controller List names, checked whole before anything
 * changes: each must exist in the subsystem, once.
 */
static uint16_t nvme_subsys_parse_ctrl_list(NvmeCtrl *n, NvmeRequest *req,
                                            const NvmeCtrlList *list,
                                            NvmeCtrl **ctrls,
                                            unsigned *count)
{
    unsigned num = le16_to_cpu(list->numids);

    if (num == 0 || num > NVME_CTRL_LIST_MAX) {
        return nvme_err_guest(n, req, NVME_CTRL_LIST_INVALID,
                              "namespace attachment: %u controller ids",
                              num);
    }
    for (unsigned i = 0; i < num; i++) {
        uint16_t id = le16_to_cpu(list->ids[i]);
        NvmeCtrl *c = nvme_subsys_ctrl(n->subsys, id);

        if (!c) {
            return nvme_err_guest(n, req, NVME_CTRL_LIST_INVALID,
                                  "namespace attachment: no controller "
                                  "0x%x in the subsystem", id);
        }
        for (unsigned j = 0; j < i; j++) {
            if (ctrls[j] == c) {
                return nvme_err_guest(n, req, NVME_CTRL_LIST_INVALID,
                                      "namespace attachment: controller "
                                      "0x%x listed twice", id);
            }
        }
        ctrls[i] = c;
    }
    *count = num;
    return NVME_SUCCESS;
}

/* Why @ns cannot be attached to (or detached from) @c, or NVME_SUCCESS */
static uint16_t nvme_subsys_attach_check(NvmeSubsys *s, NvmeNs *ns,
                                         NvmeCtrl *c, bool attach,
                                         unsigned count)
{
    bool attached = nvme_subsys_ns_attached(ns, c);

    if (!attach) {
        return attached ? NVME_SUCCESS : NVME_NS_NOT_ATTACHED;
    }
    if (attached) {
        return NVME_NS_ALREADY_ATTACHED;
    }
    if (!ns->params.shared &&
        (count > 1 || nvme_subsys_other_attached(s, ns, c))) {
        return NVME_NS_IS_PRIVATE;
    }
    return NVME_SUCCESS;
}

uint16_t nvme_subsys_attach_cmd(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeSubsys *s = n->subsys;
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    uint8_t sel = FIELD_EX32(nvme_sqe_dw(&req->cmd, 10), NVME_NS_ATTACH_DW10,
                             SEL);
    bool attach = sel == NVME_NS_ATTACH_SEL_ATTACH;
    g_autofree NvmeCtrlList *list = g_new0(NvmeCtrlList, 1);
    g_autofree NvmeCtrl **ctrls = g_new0(NvmeCtrl *, NVME_CTRL_LIST_MAX);
    unsigned count = 0;
    NvmeNs *ns;
    uint16_t status;

    if (sel != NVME_NS_ATTACH_SEL_ATTACH && sel != NVME_NS_ATTACH_SEL_DETACH) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "namespace attachment: SEL %u", sel);
    }
    /* the statuses stock gives for these NSIDs */
    if (nsid == 0) {
        return nvme_err_guest(n, req, NVME_INVALID_NSID,
                              "namespace attachment: nsid 0");
    }
    ns = nvme_subsys_ns(s, nsid);
    if (!ns) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "namespace attachment: nsid 0x%x is not "
                              "allocated", nsid);
    }
    status = nvme_dma_from_guest(req, list, sizeof(*list));
    if (status) {
        return status;
    }
    /* several controllers for a private namespace: stock checks first */
    if (attach && !ns->params.shared && le16_to_cpu(list->numids) > 1) {
        return nvme_err_guest(n, req, NVME_NS_IS_PRIVATE,
                              "namespace attachment: private nsid %u to "
                              "%u controllers", nsid,
                              le16_to_cpu(list->numids));
    }
    status = nvme_subsys_parse_ctrl_list(n, req, list, ctrls, &count);
    if (status) {
        return status;
    }
    trace_nvme_dev_ns_attachment(nsid, attach, count);
    for (unsigned i = 0; i < count; i++) {
        status = nvme_subsys_attach_check(s, ns, ctrls[i], attach, count);
        if (status) {
            return nvme_err_guest(n, req, status,
                                  "namespace attachment: nsid %u %s "
                                  "controller 0x%x", nsid,
                                  attach ? "to" : "from", ctrls[i]->cntlid);
        }
    }
    /* a created namespace records its controllers (nsmgmt.c) */
    status = nvme_nsmgmt_attach_changed(s, ns, ctrls, count, attach);
    if (status) {
        return nvme_err_guest(n, req, status, "namespace attachment: "
                              "nsid %u: %s", nsid,
                              status == NVME_COMMAND_INTERRUPTED
                              ? "another change of the namespace table is "
                                "under way"
                              : "refused by the namespace pool's record");
    }
    for (unsigned i = 0; i < count; i++) {
        if (attach) {
            nvme_subsys_link(ns, ctrls[i], true);
        } else {
            nvme_subsys_unlink(ns, ctrls[i], true);
        }
    }
    return NVME_SUCCESS;
}

/* ---- the nvme-subsys device ---------------------------------------------- */

/*
 * The subsystem's bus only takes namespaces moved from a controller of
 * the subsystem (nvme_ctrl_add_ns), never one realized on it
 */
static bool nvme_subsys_bus_attach(NvmeBus *bus, DeviceState *dev,
                                   NvmeNs *ns, Error **errp)
{
    error_setg(errp, "nvme-ns must sit on an nvme controller's bus "
               "(bus=<controller id>)");
    return false;
}

static void nvme_subsys_bus_detach(NvmeBus *bus, NvmeNs *ns)
{
    if (ns->subsys) {
        nvme_subsys_ns_unplug(ns->subsys, ns);
    }
}

static void nvme_subsys_realize(DeviceState *dev, Error **errp)
{
    NvmeSubsysDevice *d = NVME_SUBSYS(dev);

    /* stock: no nqn names the subsystem after the device's id */
    nvme_subsys_init(&d->subsys, d->nqn ? d->nqn : dev->id, true, &d->bus);
    qbus_init(&d->bus, sizeof(d->bus), TYPE_NVME_BUS, dev, dev->id);
    d->bus.attach = nvme_subsys_bus_attach;
    d->bus.detach = nvme_subsys_bus_detach;
    /* ns-pool=: Namespace Management's capacity (nsmgmt.c) */
    nvme_nsmgmt_realize(&d->subsys, d->ns_pool, errp);
}

static const Property nvme_subsys_props[] = {
    DEFINE_PROP_STRING("nqn", NvmeSubsysDevice, nqn),
    DEFINE_PROP_DRIVE("ns-pool", NvmeSubsysDevice, ns_pool),  /* nsmgmt.c */
};

static void nvme_subsys_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    dc->realize = nvme_subsys_realize;
    dc->desc = "nvqemu NVMe subsystem";
    dc->hotpluggable = false;
    device_class_set_props(dc, nvme_subsys_props);
}

static const TypeInfo nvme_subsys_types[] = {
    {
        .name = TYPE_NVME_SUBSYS,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(NvmeSubsysDevice),
        .class_init = nvme_subsys_class_init,
    },
};

DEFINE_TYPES(nvme_subsys_types)
