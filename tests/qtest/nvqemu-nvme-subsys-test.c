/*
 * qtest for NVM subsystems: two controllers of one nvme-subsys (controller
 * ids, SUBNQN, CMIC/NMIC), shared, private and detached namespaces, the
 * Namespace Attachment command with each of its error statuses, the
 * Namespace Attribute Changed event and Changed Namespace List on the
 * controllers a change concerns, the Identify CNS values of subsystems
 * (08h, 10h-13h, 19h, 1Ch, 1Fh), I/O through both controllers, the unplug of
 * one controller, and a controller's implicit subsystem.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "hw/block/nvme/spec.h"

#include "nvqemu-nvme-host.h"

#define PEER_SLOT       5
#define PEER_DEVFN      QPCI_DEVFN(PEER_SLOT, 0)
#define ACPI_PCIHP_EJ   0xae08
#define SUBNQN          "nqn.2019-08.org.qemu:ss-test"
#define NULL_DRIVE(id)  "-drive id=" id ",if=none,driver=null-co," \
                        "size=8M,read-zeroes=on "

/*
 * Subsystem ss0 with controllers nvme0 (cntlid 0) and nvme1 (cntlid 1):
 *   nsid 1  shared, on image d0, attached to both
 *   nsid 2  private (shared=off), given on nvme0: attached to nvme0
 *   nsid 3  shared, detached: allocated, attached to none
 *   nsid 4  private, detached
 * nsid 1 and 2 are given before nvme1 exists: nsid 1 reaches it when it
 * joins.
 */
static const char subsys_devices[] =
    NULL_DRIVE("d1") NULL_DRIVE("d2") NULL_DRIVE("d3")
    "-device nvme-subsys,id=ss0,nqn=ss-test "
    "-device nvme,id=nvme0,addr=04.0,serial=ss-a,subsys=ss0 "
    "-device nvme-ns,bus=nvme0,drive=d0,nsid=1 "
    "-device nvme-ns,bus=nvme0,drive=d1,nsid=2,shared=off "
    "-device nvme,id=nvme1,addr=05.0,serial=ss-a,subsys=ss0 "
    "-device nvme-ns,bus=nvme1,drive=d2,nsid=3,detached=on "
    "-device nvme-ns,bus=nvme1,drive=d3,nsid=4,shared=off,detached=on";

typedef struct Pair {
    Nvme *a;                    /* nvme0, cntlid 0 */
    Nvme *b;                    /* nvme1, cntlid 1 */
} Pair;

static Pair pair_boot(void)
{
    Pair p;

    p.a = nvme_boot_devices(subsys_devices);
    p.b = nvme_peer(p.a, PEER_DEVFN);
    ctrl_enable(p.a, NVME_CC_AMS_RR);
    ctrl_enable(p.b, NVME_CC_AMS_RR);
    return p;
}

static void pair_free(Pair *p)
{
    if (p->b) {
        nvme_peer_free(p->b);
    }
    nvme_free(p->a);
}

/* ---- Identify helpers ---------------------------------------------------- */

static uint16_t identify_cntid(Nvme *n, uint8_t cns, uint32_t nsid,
                               uint16_t cntid)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_IDENTIFY, nsid);

    c.dptr[0] = cpu_to_le64(n->buf);
    c.cdw10 = cpu_to_le32(cns | (uint32_t)cntid << 16);
    return admin(n, &c, NULL);
}

/* The NSIDs of a namespace list (CNS 02h, 10h) as "1,2," */
static char *ns_list(Nvme *n, uint8_t cns)
{
    uint32_t list[NVME_NS_LIST_MAX];
    GString *s = g_string_new("");

    identify_read(n, cns, 0, list, sizeof(list));
    for (unsigned i = 0; i < NVME_NS_LIST_MAX && list[i]; i++) {
        g_string_append_printf(s, "%u,", le32_to_cpu(list[i]));
    }
    return g_string_free(s, false);
}

/* A Controller List (CNS 12h, 13h) as "0,1," */
static char *ctrl_list(Nvme *n, uint8_t cns, uint32_t nsid, uint16_t cntid)
{
    g_autofree NvmeCtrlList *l = g_new0(NvmeCtrlList, 1);
    GString *s = g_string_new("");

    g_assert_cmphex(identify_cntid(n, cns, nsid, cntid), ==, NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, l, sizeof(*l));
    for (unsigned i = 0; i < le16_to_cpu(l->numids); i++) {
        g_string_append_printf(s, "%u,", le16_to_cpu(l->ids[i]));
    }
    return g_string_free(s, false);
}

static void assert_ns_list(Nvme *n, uint8_t cns, const char *want)
{
    g_autofree char *got = ns_list(n, cns);

    g_assert_cmpstr(got, ==, want);
}

static void assert_ctrl_list(Nvme *n, uint8_t cns, uint32_t nsid,
                             uint16_t cntid, const char *want)
{
    g_autofree char *got = ctrl_list(n, cns, nsid, cntid);

    g_assert_cmpstr(got, ==, want);
}

static uint64_t id_ns_nsze(Nvme *n, uint8_t cns, uint32_t nsid)
{
    NvmeIdNs id;

    identify_read(n, cns, nsid, &id, sizeof(id));
    return le64_to_cpu(id.nsze);
}

/* ---- Namespace Attachment ------------------------------------------------ */

static uint16_t ns_attach(Nvme *n, uint32_t nsid, uint8_t sel,
                          const uint16_t *ids, unsigned count)
{
    g_autofree NvmeCtrlList *l = g_new0(NvmeCtrlList, 1);
    NvmeSqe c = sqe_new(n, NVME_ADM_NS_ATTACHMENT, nsid);

    l->numids = cpu_to_le16(count);
    for (unsigned i = 0; i < count; i++) {
        l->ids[i] = cpu_to_le16(ids[i]);
    }
    qtest_memwrite(n->qts, n->buf, l, sizeof(*l));
    c.dptr[0] = cpu_to_le64(n->buf);
    c.cdw10 = cpu_to_le32(sel);
    return admin(n, &c, NULL);
}

/* Namespace attribute notices on, and one AER outstanding */
static NvmeSqe aer_arm(Nvme *n)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_ASYNC_EVENT, 0);
    NvmeCqe cqe;

    g_assert_cmphex(set_feature(n, NVME_FEAT_ASYNC_EVENT_CONF,
                                FIELD_DP32(0, NVME_FEAT_AEC, NSAN, 1),
                                NULL), ==, NVME_SUCCESS);
    sq_put(n, 0, &c);
    sq_ring(n, 0);
    qtest_clock_step(n->qts, n->step_ns);
    g_assert_false(cq_peek(n, 0, &cqe));
    return c;
}

/* The AER @aer completed with a Namespace Attribute Changed notice */
static void aer_expect_ns_changed(Nvme *n, NvmeSqe *aer)
{
    NvmeCqe cqe;
    uint32_t dw0;

    cq_wait_cid(n, 0, sqe_cid(aer), &cqe);
    g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
    dw0 = le32_to_cpu(cqe.dw0);
    g_assert_cmpuint(FIELD_EX32(dw0, NVME_AER_DW0, TYPE), ==,
                     NVME_AER_TYPE_NOTICE);
    g_assert_cmpuint(FIELD_EX32(dw0, NVME_AER_DW0, INFO), ==,
                     NVME_AER_NOTICE_NS_ATTR);
    g_assert_cmpuint(FIELD_EX32(dw0, NVME_AER_DW0, LID), ==,
                     NVME_LOG_CHANGED_NS);
}

/* No completion is waiting on the admin CQ (an AER still outstanding) */
static void aer_expect_none(Nvme *n)
{
    NvmeCqe cqe;

    qtest_clock_step(n->qts, n->step_ns);
    g_assert_false(cq_peek(n, 0, &cqe));
}

/* The Changed Namespace List holds just @nsid (the read clears it) */
static void changed_ns_expect(Nvme *n, uint32_t nsid)
{
    NvmeChangedNsLog l;

    g_assert_cmphex(get_log(n, NVME_LOG_CHANGED_NS, sizeof(l), n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, &l, sizeof(l));
    g_assert_cmpuint(le32_to_cpu(l.nsid[0]), ==, nsid);
    g_assert_cmpuint(le32_to_cpu(l.nsid[1]), ==, 0);
}

/* ---- tests --------------------------------------------------------------- */

/* Controller ids, SUBNQN, CMIC, NMIC, the namespace lists */
static void test_identity(void)
{
    Pair p = pair_boot();
    g_autofree NvmeIdCtrl *ia = g_new(NvmeIdCtrl, 1);
    g_autofree NvmeIdCtrl *ib = g_new(NvmeIdCtrl, 1);
    NvmeIdNs ns;

    identify_read(p.a, NVME_CNS_CTRL, 0, ia, sizeof(*ia));
    identify_read(p.b, NVME_CNS_CTRL, 0, ib, sizeof(*ib));
    g_assert_cmpuint(le16_to_cpu(ia->cntlid), ==, 0);
    g_assert_cmpuint(le16_to_cpu(ib->cntlid), ==, 1);
    g_assert_cmpstr(ia->subnqn, ==, SUBNQN);
    g_assert_cmpstr(ib->subnqn, ==, SUBNQN);
    g_assert_cmphex(ia->cmic & NVME_CMIC_MULTI_CTRL, ==,
                    NVME_CMIC_MULTI_CTRL);
    g_assert_cmphex(ib->cmic & NVME_CMIC_MULTI_CTRL, ==,
                    NVME_CMIC_MULTI_CTRL);
    g_assert_cmphex(le16_to_cpu(ia->oacs) & NVME_OACS_NMS, ==,
                    NVME_OACS_NMS);

    /* attached: shared 1 on both, private 2 on nvme0 only */
    assert_ns_list(p.a, NVME_CNS_ACTIVE_NS_LIST, "1,2,");
    assert_ns_list(p.b, NVME_CNS_ACTIVE_NS_LIST, "1,");
    /* allocated: all four, seen from either controller */
    assert_ns_list(p.a, NVME_CNS_ALLOC_NS_LIST, "1,2,3,4,");
    assert_ns_list(p.b, NVME_CNS_ALLOC_NS_LIST, "1,2,3,4,");

    identify_read(p.a, NVME_CNS_NS, 1, &ns, sizeof(ns));
    g_assert_cmphex(ns.nmic, ==, NVME_NMIC_SHRNS);
    g_assert_cmpuint(le64_to_cpu(ns.nsze), ==, IMG_SIZE / 512);
    identify_read(p.a, NVME_CNS_NS, 2, &ns, sizeof(ns));
    g_assert_cmphex(ns.nmic, ==, 0);

    /* an allocated, unattached namespace: 00h zeroes, 11h its data */
    g_assert_cmpuint(id_ns_nsze(p.a, NVME_CNS_NS, 3), ==, 0);
    g_assert_cmpuint(id_ns_nsze(p.a, NVME_CNS_ALLOC_NS, 3), ==,
                     8 * 1024 * 1024 / 512);
    g_assert_cmpuint(id_ns_nsze(p.b, NVME_CNS_NS, 2), ==, 0);
    g_assert_cmpuint(id_ns_nsze(p.b, NVME_CNS_ALLOC_NS, 2), !=, 0);
    /* unallocated: zeroes; out of range: Invalid Namespace or Format */
    g_assert_cmpuint(id_ns_nsze(p.a, NVME_CNS_ALLOC_NS, 9), ==, 0);
    g_assert_cmphex(identify(p.a, NVME_CNS_ALLOC_NS, 0, p.a->buf), ==,
                    NVME_INVALID_NSID);

    pair_free(&p);
}

/* CNS 03h, 08h, 12h, 13h, 19h, 1Ch, 1Fh */
static void test_identify_cns(void)
{
    Pair p = pair_boot();
    NvmeIdNsInd ind;
    uint64_t vec[2];

    assert_ctrl_list(p.a, NVME_CNS_CTRL_LIST, 0, 0, "0,1,");
    assert_ctrl_list(p.b, NVME_CNS_CTRL_LIST, 0, 1, "1,");
    assert_ctrl_list(p.a, NVME_CNS_CTRL_LIST, 0, 2, "");
    assert_ctrl_list(p.a, NVME_CNS_NS_CTRL_LIST, 1, 0, "0,1,");
    assert_ctrl_list(p.b, NVME_CNS_NS_CTRL_LIST, 2, 0, "0,");
    assert_ctrl_list(p.a, NVME_CNS_NS_CTRL_LIST, 3, 0, "");
    g_assert_cmphex(identify_cntid(p.a, NVME_CNS_NS_CTRL_LIST, 9, 0), ==,
                    NVME_INVALID_FIELD);

    identify_read(p.a, NVME_CNS_IND_NS, 1, &ind, sizeof(ind));
    g_assert_cmphex(ind.nmic, ==, NVME_NMIC_SHRNS);
    g_assert_cmphex(ind.nstat, ==, NVME_NSTAT_NRDY);
    g_assert_cmpuint(le16_to_cpu(ind.endgid), ==, 1);
    /* not attached: 08h zeroes, 1Fh (allocated) its data */
    identify_read(p.a, NVME_CNS_IND_NS, 3, &ind, sizeof(ind));
    g_assert_cmphex(ind.nstat, ==, 0);
    identify_read(p.a, NVME_CNS_IND_ALLOC_NS, 3, &ind, sizeof(ind));
    g_assert_cmphex(ind.nstat, ==, NVME_NSTAT_NRDY);
    g_assert_cmphex(ind.nmic, ==, NVME_NMIC_SHRNS);
    identify_read(p.a, NVME_CNS_IND_ALLOC_NS, 4, &ind, sizeof(ind));
    g_assert_cmphex(ind.nmic, ==, 0);

    /* endurance group 1, as stock lists it; none from 2 on */
    assert_ctrl_list(p.a, NVME_CNS_ENDGRP_LIST, 0, 0, "1,");
    {
        NvmeSqe c = sqe_new(p.a, NVME_ADM_IDENTIFY, 0);
        uint16_t numids;

        c.dptr[0] = cpu_to_le64(p.a->buf);
        c.cdw10 = cpu_to_le32(NVME_CNS_ENDGRP_LIST);
        c.cdw11 = cpu_to_le32(2);
        g_assert_cmphex(admin(p.a, &c, NULL), ==, NVME_SUCCESS);
        numids = qtest_readw(p.a->qts, p.a->buf);
        g_assert_cmpuint(numids, ==, 0);
    }
    /* descriptors of an allocated, unattached NSID: stock's status */
    g_assert_cmphex(identify(p.a, NVME_CNS_NS_DESC_LIST, 3, p.a->buf), ==,
                    NVME_INVALID_FIELD);

    /* NVM alone (stock also lists ZNS, which we do not have) */
    identify_read(p.a, NVME_CNS_IOCS, 0, vec, sizeof(vec));
    g_assert_cmphex(le64_to_cpu(vec[0]), ==, 1ull << NVME_CSI_NVM);
    g_assert_cmphex(le64_to_cpu(vec[1]), ==, 0);

    pair_free(&p);
}

/*
 * Namespace Attachment: attach and detach, the event and log on the
 * controllers concerned only, and every error status, after which
 * nothing has changed
 */
static void test_attach(void)
{
    Pair p = pair_boot();
    const uint16_t c0[] = { 0 }, c1[] = { 1 }, both[] = { 0, 1 };
    const uint16_t twice[] = { 1, 1 }, unknown[] = { 7 };
    NvmeSqe aer_a = aer_arm(p.a), aer_b = aer_arm(p.b);

    /* shared detached nsid 3 to nvme1, asked through nvme0 */
    g_assert_cmphex(ns_attach(p.a, 3, NVME_NS_ATTACH_SEL_ATTACH, c1, 1), ==,
                    NVME_SUCCESS);
    aer_expect_ns_changed(p.b, &aer_b);
    changed_ns_expect(p.b, 3);
    aer_expect_none(p.a);
    assert_ns_list(p.b, NVME_CNS_ACTIVE_NS_LIST, "1,3,");
    assert_ns_list(p.a, NVME_CNS_ACTIVE_NS_LIST, "1,2,");
    assert_ctrl_list(p.a, NVME_CNS_NS_CTRL_LIST, 3, 0, "1,");

    /* errors */
    g_assert_cmphex(ns_attach(p.a, 3, NVME_NS_ATTACH_SEL_ATTACH, c1, 1), ==,
                    NVME_NS_ALREADY_ATTACHED);
    g_assert_cmphex(ns_attach(p.a, 3, NVME_NS_ATTACH_SEL_ATTACH, both, 2),
                    ==, NVME_NS_ALREADY_ATTACHED);
    g_assert_cmphex(ns_attach(p.a, 3, NVME_NS_ATTACH_SEL_DETACH, c0, 1), ==,
                    NVME_NS_NOT_ATTACHED);
    g_assert_cmphex(ns_attach(p.a, 4, NVME_NS_ATTACH_SEL_ATTACH, both, 2),
                    ==, NVME_NS_IS_PRIVATE);
    g_assert_cmphex(ns_attach(p.b, 2, NVME_NS_ATTACH_SEL_ATTACH, c1, 1), ==,
                    NVME_NS_IS_PRIVATE);
    g_assert_cmphex(ns_attach(p.a, 3, NVME_NS_ATTACH_SEL_ATTACH, unknown, 1),
                    ==, NVME_CTRL_LIST_INVALID);
    g_assert_cmphex(ns_attach(p.a, 3, NVME_NS_ATTACH_SEL_ATTACH, NULL, 0),
                    ==, NVME_CTRL_LIST_INVALID);
    g_assert_cmphex(ns_attach(p.a, 3, NVME_NS_ATTACH_SEL_ATTACH, twice, 2),
                    ==, NVME_CTRL_LIST_INVALID);
    /* a private namespace for two controllers: that, before the list */
    g_assert_cmphex(ns_attach(p.a, 4, NVME_NS_ATTACH_SEL_ATTACH, twice, 2),
                    ==, NVME_NS_IS_PRIVATE);
    g_assert_cmphex(ns_attach(p.a, 3, 2, c0, 1), ==, NVME_INVALID_FIELD);
    g_assert_cmphex(ns_attach(p.a, NVME_NSID_BROADCAST,
                              NVME_NS_ATTACH_SEL_ATTACH, c0, 1), ==,
                    NVME_INVALID_FIELD);
    g_assert_cmphex(ns_attach(p.a, 0, NVME_NS_ATTACH_SEL_ATTACH, c0, 1), ==,
                    NVME_INVALID_NSID);
    g_assert_cmphex(ns_attach(p.a, 9, NVME_NS_ATTACH_SEL_ATTACH, c0, 1), ==,
                    NVME_INVALID_FIELD);
    /*
     * a failed list changes nothing, not even its valid part (stock acts
     * on the controllers before the failing one)
     */
    g_assert_cmphex(ns_attach(p.a, 3, NVME_NS_ATTACH_SEL_DETACH, both, 2),
                    ==, NVME_NS_NOT_ATTACHED);
    assert_ctrl_list(p.a, NVME_CNS_NS_CTRL_LIST, 3, 0, "1,");
    assert_ctrl_list(p.a, NVME_CNS_NS_CTRL_LIST, 4, 0, "");
    aer_expect_none(p.a);
    aer_expect_none(p.b);

    /* the private one to nvme0 through nvme1: the event goes to nvme0 */
    g_assert_cmphex(ns_attach(p.b, 4, NVME_NS_ATTACH_SEL_ATTACH, c0, 1), ==,
                    NVME_SUCCESS);
    aer_expect_ns_changed(p.a, &aer_a);
    changed_ns_expect(p.a, 4);
    g_assert_cmphex(ns_attach(p.b, 4, NVME_NS_ATTACH_SEL_ATTACH, c1, 1), ==,
                    NVME_NS_IS_PRIVATE);

    /* detach 3 from nvme1 and 1 from both */
    aer_b = aer_arm(p.b);
    g_assert_cmphex(ns_attach(p.a, 3, NVME_NS_ATTACH_SEL_DETACH, c1, 1), ==,
                    NVME_SUCCESS);
    aer_expect_ns_changed(p.b, &aer_b);
    changed_ns_expect(p.b, 3);
    assert_ns_list(p.b, NVME_CNS_ACTIVE_NS_LIST, "1,");
    g_assert_cmphex(ns_attach(p.a, 1, NVME_NS_ATTACH_SEL_DETACH, both, 2),
                    ==, NVME_SUCCESS);
    assert_ns_list(p.a, NVME_CNS_ACTIVE_NS_LIST, "2,4,");
    assert_ns_list(p.b, NVME_CNS_ACTIVE_NS_LIST, "");
    assert_ns_list(p.b, NVME_CNS_ALLOC_NS_LIST, "1,2,3,4,");
    /* a detached namespace takes no I/O */
    io_queues(p.b, 1);
    {
        NvmeSqe c = rw_cmd(p.b, NVME_IO_READ, 0, 1);

        c.nsid = cpu_to_le32(1);
        set_prps(p.b, &c, p.b->buf, 512, 0);
        g_assert_cmphex(io(p.b, 1, &c), ==, NVME_INVALID_NSID);
    }

    pair_free(&p);
}

/* What one controller writes to the shared namespace the other reads */
static void test_shared_io(void)
{
    Pair p = pair_boot();
    uint64_t rbuf = nvme_alloc(p.b, PAGE);
    NvmeSqe c;

    io_queues(p.a, 1);
    io_queues(p.b, 1);
    fill(p.a, p.a->buf, PAGE, 0x5a);
    c = rw_cmd(p.a, NVME_IO_WRITE, 8, PAGE / 512);
    set_prps(p.a, &c, p.a->buf, PAGE, 0);
    g_assert_cmphex(io(p.a, 1, &c), ==, NVME_SUCCESS);

    c = rw_cmd(p.b, NVME_IO_READ, 8, PAGE / 512);
    set_prps(p.b, &c, rbuf, PAGE, 0);
    g_assert_cmphex(io(p.b, 1, &c), ==, NVME_SUCCESS);
    g_assert_true(same(p.b, p.a->buf, rbuf, PAGE));

    pair_free(&p);
}

/*
 * Format NVM of the shared namespace through nvme0: both controllers are
 * told (the other path must see the new block size too)
 */
static void test_format_shared(void)
{
    Pair p = pair_boot();
    NvmeSqe aer_a = aer_arm(p.a), aer_b = aer_arm(p.b);
    NvmeSqe c = sqe_new(p.a, NVME_ADM_FORMAT_NVM, 1);
    NvmeIdNs id;

    c.cdw10 = cpu_to_le32(4);      /* LBA format 4: 4 KiB */
    g_assert_cmphex(admin(p.a, &c, NULL), ==, NVME_SUCCESS);
    aer_expect_ns_changed(p.a, &aer_a);
    aer_expect_ns_changed(p.b, &aer_b);
    changed_ns_expect(p.a, 1);
    changed_ns_expect(p.b, 1);
    identify_read(p.b, NVME_CNS_NS, 1, &id, sizeof(id));
    g_assert_cmpuint(FIELD_EX32(id.flbas, NVME_FLBAS, LBAFL), ==, 4);
    g_assert_cmpuint(le64_to_cpu(id.nsze), ==, IMG_SIZE / 4096);
    pair_free(&p);
}

/*
 * DEVICE_DELETED of device @id: it is sent when the device is finalized,
 * so it also says nothing keeps a reference to an unplugged controller
 */
static void wait_device_gone(Nvme *n, const char *id)
{
    int64_t deadline = g_get_monotonic_time() + WAIT_US;
    bool gone = false;

    while (!gone) {
        QDict *ev = qtest_qmp_event_ref(n->qts, "DEVICE_DELETED");

        if (ev) {
            QDict *data = qdict_get_qdict(ev, "data");

            gone = qdict_haskey(data, "device") &&
                   !strcmp(qdict_get_str(data, "device"), id);
            qobject_unref(ev);
            continue;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        qtest_clock_step(n->qts, n->step_ns);
        /* events are read from the QMP socket with a command's reply */
        qobject_unref(qtest_qmp(n->qts, "{'execute': 'query-status'}"));
        g_usleep(10 * 1000);
    }
}

/*
 * device_del of nvme1 (ACPI hot-unplug, the guest's eject done by hand):
 * the subsystem keeps its namespaces and nvme0 its I/O
 */
static void test_unplug(void)
{
    Pair p = pair_boot();
    uint64_t wbuf = nvme_alloc(p.a, PAGE), rbuf = nvme_alloc(p.a, PAGE);
    NvmeSqe c;

    io_queues(p.a, 1);
    io_queues(p.b, 1);
    fill(p.a, wbuf, PAGE, 0x3c);
    c = rw_cmd(p.b, NVME_IO_WRITE, 16, PAGE / 512);
    set_prps(p.b, &c, wbuf, PAGE, 0);
    g_assert_cmphex(io(p.b, 1, &c), ==, NVME_SUCCESS);

    /* the eject must come after the request (another socket) */
    qobject_unref(qtest_qmp(p.a->qts, "{'execute': 'device_del',"
                            " 'arguments': {'id': 'nvme1'}}"));
    qtest_outl(p.a->qts, ACPI_PCIHP_EJ, 1 << PEER_SLOT);
    wait_device_gone(p.a, "nvme1");
    /* the device is gone: nothing of it to turn off */
    nvme_peer_free(p.b);
    p.b = NULL;

    assert_ctrl_list(p.a, NVME_CNS_CTRL_LIST, 0, 0, "0,");
    assert_ctrl_list(p.a, NVME_CNS_NS_CTRL_LIST, 1, 0, "0,");
    assert_ns_list(p.a, NVME_CNS_ALLOC_NS_LIST, "1,2,3,4,");
    c = rw_cmd(p.a, NVME_IO_READ, 16, PAGE / 512);
    set_prps(p.a, &c, rbuf, PAGE, 0);
    g_assert_cmphex(io(p.a, 1, &c), ==, NVME_SUCCESS);
    g_assert_true(same(p.a, wbuf, rbuf, PAGE));

    pair_free(&p);
}

/*
 * No subsys=: the controller's implicit subsystem (as stock), CNTLID 0,
 * no CMIC; a detached namespace is allocated and can be attached
 */
static void test_implicit(void)
{
    Nvme *n = nvme_boot_devices(
        NULL_DRIVE("d1")
        "-device nvme,id=nvme0,addr=04.0,serial=solo,drive=d0 "
        "-device nvme-ns,bus=nvme0,drive=d1,detached=on");
    g_autofree NvmeIdCtrl *id = g_new(NvmeIdCtrl, 1);
    const uint16_t c0[] = { 0 };
    NvmeSqe aer;

    ctrl_enable(n, NVME_CC_AMS_RR);
    identify_read(n, NVME_CNS_CTRL, 0, id, sizeof(*id));
    g_assert_cmpuint(le16_to_cpu(id->cntlid), ==, 0);
    g_assert_cmphex(id->cmic, ==, 0);
    g_assert_cmpstr(id->subnqn, ==, "nqn.2019-08.org.qemu:solo");
    assert_ns_list(n, NVME_CNS_ACTIVE_NS_LIST, "1,");
    assert_ns_list(n, NVME_CNS_ALLOC_NS_LIST, "1,2,");
    assert_ctrl_list(n, NVME_CNS_CTRL_LIST, 0, 0, "0,");

    aer = aer_arm(n);
    g_assert_cmphex(ns_attach(n, 2, NVME_NS_ATTACH_SEL_ATTACH, c0, 1), ==,
                    NVME_SUCCESS);
    aer_expect_ns_changed(n, &aer);
    changed_ns_expect(n, 2);
    assert_ns_list(n, NVME_CNS_ACTIVE_NS_LIST, "1,2,");
    g_assert_cmphex(ns_attach(n, 1, NVME_NS_ATTACH_SEL_DETACH, c0, 1), ==,
                    NVME_SUCCESS);
    assert_ns_list(n, NVME_CNS_ACTIVE_NS_LIST, "2,");
    nvme_free(n);
}

/* ---- configuration errors ------------------------------------------------ */

typedef struct StartCase {
    const char *devices;
    const char *refusal;        /* NULL: starts */
} StartCase;

static const StartCase start_cases[] = {
    { "-device nvme,serial=s,subsys=nope", "'nope'" },
    { "-device nvme-subsys,id=ss0 -device nvme,serial=s,subsys=ss0,"
      "iothread=io0 -object iothread,id=io0",
      "iothread cannot be used with subsys" },
    { "-device nvme-subsys,id=ss0 "
      "-device nvme,id=c0,serial=a,subsys=ss0 "
      "-device nvme,id=c1,serial=a,subsys=ss0 "
      "-device nvme-ns,bus=c0,drive=d0,nsid=1 "
      "-device nvme-ns,bus=c1,drive=d1,nsid=1",
      "namespace id '1' already allocated" },
    /* stock: one serial number in a subsystem */
    { "-device nvme-subsys,id=ss0 "
      "-device nvme,id=c0,serial=a,subsys=ss0 "
      "-device nvme,id=c1,serial=b,subsys=ss0",
      "invalid controller serial" },
    /* stock: no drive= with subsys= */
    { "-device nvme-subsys,id=ss0 -device nvme,serial=a,subsys=ss0,drive=d0",
      "subsystem support is unavailable with legacy namespace" },
    { "-device nvme-subsys,id=ss0 -device nvme-subsys,id=ss1,nqn=x "
      "-device nvme,serial=a,subsys=ss0 -device nvme,serial=b,subsys=ss1",
      NULL },
};

static void test_start(const void *opaque)
{
    const StartCase *sc = opaque;
    const char *bin = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *qemu = g_shell_quote(bin ? bin : "qemu-system-x86_64");
    g_autofree char *cmd = g_strdup_printf(
        "printf '%%s\\n' '{\"execute\":\"qmp_capabilities\"}' "
        "'{\"execute\":\"quit\"}' | %s -machine pc -display none "
        "-nodefaults -S -qmp stdio " NULL_DRIVE("d0") NULL_DRIVE("d1")
        "%s >/dev/null", qemu, sc->devices);
    char *argv[] = { (char *)"/bin/sh", (char *)"-c", cmd, NULL };
    g_autofree char *err = NULL;
    int status;

    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               NULL, &err, &status, NULL));
    g_test_message("%s: %s", sc->devices, err);
    if (!sc->refusal) {
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        return;
    }
    g_assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    g_assert_nonnull(strstr(err, sc->refusal));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/nvqemu/nvme-subsys/identity", test_identity);
    qtest_add_func("/nvqemu/nvme-subsys/identify-cns", test_identify_cns);
    qtest_add_func("/nvqemu/nvme-subsys/attach", test_attach);
    qtest_add_func("/nvqemu/nvme-subsys/shared-io", test_shared_io);
    qtest_add_func("/nvqemu/nvme-subsys/format-shared", test_format_shared);
    qtest_add_func("/nvqemu/nvme-subsys/unplug", test_unplug);
    qtest_add_func("/nvqemu/nvme-subsys/implicit", test_implicit);
    for (unsigned i = 0; i < ARRAY_SIZE(start_cases); i++) {
        g_autofree char *path = g_strdup_printf("/nvqemu/nvme-subsys/start/%u",
                                                i);

        qtest_add_data_func(path, &start_cases[i], test_start);
    }
    return g_test_run();
}
