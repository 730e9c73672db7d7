/*
 * nvqemu NVMe lifecycle under load: queue deletion, controller reset,
 * shutdown, system_reset, hot-unplug, Abort and the keep-alive timer with
 * commands in flight, and transfers at MDTS.  Written from the NVMe Base
 * specification 1.4 / 2.0 (3.7.2 Controller Reset, 3.6 Shutdown, 5.1
 * Abort, 5.6/5.7 Delete I/O CQ/SQ, 5.21.1.15 Keep Alive Timer, 5.15 MDTS).
 *
 * Commands stay in flight on a namespace backed by null-co with a latency
 * (real time).  After each disruption the CQ areas, the data buffers and
 * the MSI-X message page are filled with a sentinel, the backend is given
 * time to finish whatever it still had, and the sentinel must be intact:
 * no guest memory written after the reset, shutdown or deletion completed.
 * Every case runs with the engine in the main loop and in an iothread.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "nvqemu-nvme-host.h"

#define MS              (1000 * 1000LL)
#define NVME_SLOT       4           /* DEVFN's slot, for ACPI eject */
/* PIIX4 ACPI PCI hotplug: the eject register (0xae00 + 8, as libqos) */
#define ACPI_PCIHP_EJ   0xae08
/* a namespace whose commands stay in flight (real time) */
#define SLOW_NSID       2
#define SLOW_LATENCY_NS 400000000
#define SLOW_NS_OPTS    "-drive id=slow,if=none,driver=null-co,size=32M," \
                        "read-zeroes=on,latency-ns=" \
                        stringify(SLOW_LATENCY_NS) " " \
                        "-device nvme-ns,id=slowns,drive=slow,bus=nvme0," \
                        "nsid=" stringify(SLOW_NSID) " "
#define BUSY_CMDS       8
#define LBA_STEP        8           /* 4 KiB of 512-byte blocks */
#define SENTINEL        0x5a
#define LBA_SIZE        512
/* the Abort command's DW0 (Base 5.1.1): bit 0 set, not aborted */
#define ABORT_NOT_ABORTED 1u
/* KAS is 1 s (admin.c): a KATO of one granule */
#define KATO_MS         1000

typedef struct LifeConfig {
    const char *name;
    const char *ctrl_opts;
    const char *args;
} LifeConfig;

static const LifeConfig configs[] = {
    { "main", "", "" },
    { "iothread", "iothread=io0", "-object iothread,id=io0" },
};

typedef struct Life {
    Nvme *n;
    const LifeConfig *cfg;
    uint64_t data;          /* BUSY_CMDS pages the busy reads land in */
    uint16_t first;         /* CID of the first busy command */
    bool seen[BUSY_CMDS];
    unsigned done;          /* busy completions collected */
} Life;

static Life *life_boot(const LifeConfig *cfg, const char *ctrl_opts)
{
    Life *l = g_new0(Life, 1);
    g_autofree char *opts = g_strdup_printf("%s%s%s", cfg->ctrl_opts,
                                            *cfg->ctrl_opts && *ctrl_opts ?
                                            "," : "", ctrl_opts);
    g_autofree char *args = g_strdup_printf("%s %s", SLOW_NS_OPTS,
                                            cfg->args);

    l->cfg = cfg;
    l->n = nvme_boot(opts, args);
    l->data = nvme_alloc(l->n, BUSY_CMDS * PAGE);
    ctrl_enable(l->n, NVME_CC_AMS_RR);
    io_queues(l->n, 1);
    return l;
}

static void life_free(Life *l)
{
    nvme_free(l->n);
    g_free(l);
}

/* Let an iothread engine act on a doorbell (it is not the qtest thread) */
static void settle(Life *l)
{
    if (*l->cfg->ctrl_opts) {
        g_usleep(50 * 1000);
    }
    qtest_clock_step(l->n->qts, MS);
}

/* BUSY_CMDS reads of the slow namespace on SQ 1, fetched and in flight */
static void busy_start(Life *l)
{
    Nvme *n = l->n;

    qtest_memset(n->qts, l->data, 0xee, BUSY_CMDS * PAGE);
    l->first = n->cid + 1;
    for (unsigned i = 0; i < BUSY_CMDS; i++) {
        NvmeSqe c = rw_cmd(n, NVME_IO_READ, i * LBA_STEP, LBA_STEP);

        c.nsid = cpu_to_le32(SLOW_NSID);
        c.dptr[0] = cpu_to_le64(l->data + i * PAGE);
        sq_put(n, 1, &c);
    }
    sq_ring(n, 1);
    settle(l);
}

/*
 * Whether the busy commands are still in flight: false only when the
 * machine stalled longer than the backend's latency (then the case is
 * skipped rather than failed: it would not test what it means to)
 */
static bool busy_in_flight(Life *l)
{
    NvmeCqe cqe;

    if (cq_peek(l->n, 1, &cqe)) {
        g_test_skip("the machine stalled past the backend latency");
        return false;
    }
    return true;
}

/* Collect CQ 1's new entries: each busy command at most once, by @sc */
static unsigned busy_collect(Life *l, uint16_t sc_ok, uint16_t sc_alt)
{
    unsigned count = 0;
    NvmeCqe cqe;

    while (cq_peek(l->n, 1, &cqe)) {
        uint16_t idx = le16_to_cpu(cqe.cid) - l->first;
        uint16_t sc = cqe_sc(&cqe);

        g_assert_cmpuint(idx, <, BUSY_CMDS);
        g_assert_false(l->seen[idx]);
        g_assert_true(sc == sc_ok || sc == sc_alt);
        l->seen[idx] = true;
        cq_pop(l->n, 1, false);
        count++;
        l->done++;
    }
    return count;
}

/* Give the backend time to finish anything it still holds */
static void backend_drain(Life *l)
{
    g_usleep(2 * SLOW_LATENCY_NS / 1000);
    for (unsigned i = 0; i < 10; i++) {
        qtest_clock_step(l->n->qts, 100 * MS);
    }
    settle(l);
}

/* The CQs, the data pages and the MSI-X page hold the sentinel */
static void sentinel_fill(Life *l)
{
    Nvme *n = l->n;

    for (unsigned q = 0; q <= 1; q++) {
        qtest_memset(n->qts, n->cq[q].addr, SENTINEL,
                     n->cq[q].size * sizeof(NvmeCqe));
    }
    qtest_memset(n->qts, l->data, SENTINEL, BUSY_CMDS * PAGE);
    qtest_memset(n->qts, n->msix_page, SENTINEL, PAGE);
}

static void assert_sentinel(Nvme *n, uint64_t addr, size_t len,
                            const char *what)
{
    g_autofree uint8_t *p = g_malloc(len);

    qtest_memread(n->qts, addr, p, len);
    for (size_t i = 0; i < len; i++) {
        if (p[i] != SENTINEL) {
            g_test_message("%s written at +0x%zx after it stopped", what, i);
            g_assert_cmphex(p[i], ==, SENTINEL);
        }
    }
}

/* ... and still do after the backend finished: nothing was written */
static void sentinel_check(Life *l)
{
    Nvme *n = l->n;

    backend_drain(l);
    assert_sentinel(n, n->cq[0].addr, n->cq[0].size * sizeof(NvmeCqe),
                    "admin CQ");
    assert_sentinel(n, n->cq[1].addr, n->cq[1].size * sizeof(NvmeCqe),
                    "I/O CQ 1");
    assert_sentinel(n, l->data, BUSY_CMDS * PAGE, "read data");
    assert_sentinel(n, n->msix_page, PAGE, "MSI-X messages");
}

/* The controller works again after a reset: enable, queues, a read */
static void recovered(Life *l)
{
    NvmeSqe c;

    ctrl_enable(l->n, NVME_CC_AMS_RR);
    io_queues(l->n, 1);
    c = rw_cmd(l->n, NVME_IO_READ, 0, LBA_STEP);
    c.nsid = cpu_to_le32(SLOW_NSID);
    c.dptr[0] = cpu_to_le64(l->n->buf);
    g_assert_cmphex(io(l->n, 1, &c), ==, NVME_SUCCESS);
}

static uint16_t delete_queue(Nvme *n, uint8_t opc, unsigned qid)
{
    NvmeSqe c = sqe_new(n, opc, 0);

    c.cdw10 = cpu_to_le32(qid);
    return admin(n, &c, NULL);
}

static uint32_t csts(Nvme *n)
{
    return rd32(n, NVME_REG_CSTS);
}

/* ---- Delete I/O SQ / CQ (Base 5.6, 5.7) ----------------------------------- */

/*
 * With commands in flight: Delete CQ first is an Invalid Queue Deletion
 * and changes nothing; Delete SQ succeeds and each command completes once
 * (done, or Command Aborted due to SQ Deletion) before the Delete SQ's
 * own completion; then Delete CQ succeeds and nothing is posted into the
 * deleted CQ afterwards.
 */
static void test_delete_queues(const void *opaque)
{
    Life *l = life_boot(opaque, "");
    Nvme *n = l->n;

    busy_start(l);
    if (busy_in_flight(l)) {
        g_assert_cmphex(delete_queue(n, NVME_ADM_DELETE_CQ, 1), ==,
                        NVME_INVALID_QUEUE_DELETION);
        g_assert_cmphex(delete_queue(n, NVME_ADM_DELETE_SQ, 1), ==,
                        NVME_SUCCESS);
        /* posted before Delete SQ completed: all there now */
        busy_collect(l, NVME_SUCCESS, NVME_ABORTED_SQ_DELETION);
        g_assert_cmpuint(l->done, ==, BUSY_CMDS);
        g_assert_cmphex(delete_queue(n, NVME_ADM_DELETE_CQ, 1), ==,
                        NVME_SUCCESS);
        /* a second Delete of either is an Invalid Queue Identifier */
        g_assert_cmphex(delete_queue(n, NVME_ADM_DELETE_SQ, 1), ==,
                        NVME_INVALID_QID);
        g_assert_cmphex(delete_queue(n, NVME_ADM_DELETE_CQ, 1), ==,
                        NVME_INVALID_QID);
        sentinel_fill(l);
        /* a doorbell of the deleted SQ is ignored (or fatal), never run */
        wr32(n, sq_db(n, 1), 1);
        sentinel_check(l);
        if (FIELD_EX32(csts(n), NVME_CSTS, CFS)) {
            ctrl_disable(n);
            ctrl_enable(n, NVME_CC_AMS_RR);
        }
        io_queues(n, 1);
        g_assert_cmphex(identify(n, NVME_CNS_CTRL, 0, n->buf), ==,
                        NVME_SUCCESS);
    }
    life_free(l);
}

/* ---- CC.EN = 0 and CC.SHN (Base 3.7.2, 7.6.2) ----------------------------- */

/*
 * Controller reset with commands in flight: CSTS.RDY reads 0 once the
 * CC write is done; what was posted before is there at most once per
 * command; after that nothing reaches guest memory.
 */
static void test_reset_busy(const void *opaque)
{
    Life *l = life_boot(opaque, "");
    Nvme *n = l->n;

    busy_start(l);
    if (busy_in_flight(l)) {
        wr32(n, NVME_REG_CC, 0);
        g_assert_cmpuint(FIELD_EX32(csts(n), NVME_CSTS, RDY), ==, 0);
        busy_collect(l, NVME_SUCCESS, NVME_ABORTED_SQ_DELETION);
        sentinel_fill(l);
        sentinel_check(l);
        g_assert_cmphex(csts(n), ==, 0);
        recovered(l);
    }
    life_free(l);
}

/*
 * Shutdown notification (normal or abrupt) with commands in flight:
 * CSTS.SHST goes to Shutdown Processing Complete (through Occurring),
 * RDY stays 1 until CC.EN=0; nothing is written after SHST reads
 * complete, not even for a command submitted after; CC.EN=0 then clears
 * RDY and SHST, and the controller comes back.
 */
static void shutdown_busy(const LifeConfig *cfg, unsigned shn)
{
    Life *l = life_boot(cfg, "");
    Nvme *n = l->n;
    uint32_t cc = rd32(n, NVME_REG_CC);
    int64_t deadline = g_get_monotonic_time() + WAIT_US;
    unsigned shst;

    busy_start(l);
    if (!busy_in_flight(l)) {
        life_free(l);
        return;
    }
    wr32(n, NVME_REG_CC, FIELD_DP32(cc, NVME_CC, SHN, shn));
    while ((shst = FIELD_EX32(csts(n), NVME_CSTS, SHST)) !=
           NVME_CSTS_SHST_COMPLETE) {
        g_assert_cmpuint(shst, ==, NVME_CSTS_SHST_OCCURRING);
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        settle(l);
    }
    g_assert_cmpuint(FIELD_EX32(csts(n), NVME_CSTS, RDY), ==, 1);
    g_assert_cmpuint(FIELD_EX32(csts(n), NVME_CSTS, CFS), ==, 0);
    busy_collect(l, NVME_SUCCESS, NVME_ABORTED_SQ_DELETION);
    sentinel_fill(l);
    {
        /* a command after shutdown is not processed */
        NvmeSqe c = rw_cmd(n, NVME_IO_READ, 0, LBA_STEP);

        c.nsid = cpu_to_le32(SLOW_NSID);
        c.dptr[0] = cpu_to_le64(l->data);
        sq_put(n, 1, &c);
        sq_ring(n, 1);
    }
    sentinel_check(l);
    g_assert_cmpuint(FIELD_EX32(csts(n), NVME_CSTS, SHST), ==,
                     NVME_CSTS_SHST_COMPLETE);
    ctrl_disable(n);
    g_assert_cmphex(csts(n), ==, 0);
    recovered(l);
    life_free(l);
}

static void test_shutdown_normal(const void *opaque)
{
    shutdown_busy(opaque, NVME_CC_SHN_NORMAL);
}

static void test_shutdown_abrupt(const void *opaque)
{
    shutdown_busy(opaque, NVME_CC_SHN_ABRUPT);
}

/* ---- system_reset and device_del ------------------------------------------ */

/*
 * system_reset (QMP) with commands in flight: after the RESET event
 * nothing is written; the controller is disabled (CSTS 0) and comes back
 * after the host maps it again.
 */
static void test_system_reset(const void *opaque)
{
    Life *l = life_boot(opaque, "");
    Nvme *n = l->n;

    busy_start(l);
    if (busy_in_flight(l)) {
        qtest_qmp_assert_success(n->qts, "{'execute': 'system_reset'}");
        qtest_qmp_eventwait(n->qts, "RESET");
        busy_collect(l, NVME_SUCCESS, NVME_ABORTED_SQ_DELETION);
        sentinel_fill(l);
        sentinel_check(l);
        /* the reset unmapped the BARs: map them again, then CSTS */
        qpci_device_enable(n->dev);
        n->bar.addr = 0;
        nvme_msix_enable(n);
        msix_setup(n);
        g_assert_cmphex(csts(n), ==, 0);
        recovered(l);
    }
    life_free(l);
}

/* DEVICE_DELETED of @id, with a deadline, QEMU answering meanwhile */
static void wait_deleted(Nvme *n, const char *id)
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
        qtest_clock_step(n->qts, MS);
        qtest_qmp_assert_success(n->qts, "{'execute': 'query-status'}");
        g_usleep(10 * 1000);
    }
}

/*
 * device_del of the controller (ACPI hot-unplug, the guest's eject by
 * hand) with commands in flight: DEVICE_DELETED comes, nothing is
 * written after it, QEMU goes on.
 */
static void test_unplug_ctrl(const void *opaque)
{
    Life *l = life_boot(opaque, "");
    Nvme *n = l->n;

    busy_start(l);
    if (busy_in_flight(l)) {
        qtest_qmp_device_del_send(n->qts, "nvme0");
        qtest_outl(n->qts, ACPI_PCIHP_EJ, 1 << NVME_SLOT);
        wait_deleted(n, "nvme0");
        busy_collect(l, NVME_SUCCESS, NVME_ABORTED_SQ_DELETION);
        sentinel_fill(l);
        sentinel_check(l);
        qtest_qmp_assert_success(n->qts, "{'execute': 'query-status'}");
    }
    /* the device is gone: no MSI-X to turn off */
    g_free(n->dev);
    qtest_pc_shutdown(n->qs);
    unlink(n->img);
    g_free(n->img);
    g_free(n);
    g_free(l);
}

/*
 * device_del of the namespace the commands are in flight on: refused (an
 * nvme-ns is not hot-pluggable, in stock's nvme-bus neither), no crash;
 * the reads complete once each, nothing is written after, the namespace
 * goes on working.
 */
static void test_unplug_ns(const void *opaque)
{
    Life *l = life_boot(opaque, "");
    Nvme *n = l->n;
    QDict *rsp;
    NvmeSqe c;

    busy_start(l);
    if (busy_in_flight(l)) {
        rsp = qtest_qmp(n->qts, "{'execute': 'device_del', 'arguments': {"
                        "'id': 'slowns'}}");
        g_assert_true(qdict_haskey(rsp, "error"));
        g_test_message("device_del slowns: %s",
                       qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"));
        qobject_unref(rsp);
        for (unsigned i = 0; i < BUSY_CMDS; i++) {
            NvmeCqe cqe;

            cq_wait_cid(n, 1, l->first + i, &cqe);
            g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
        }
        sentinel_fill(l);
        sentinel_check(l);
        c = rw_cmd(n, NVME_IO_READ, 0, LBA_STEP);
        c.nsid = cpu_to_le32(SLOW_NSID);
        c.dptr[0] = cpu_to_le64(n->buf);
        g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    }
    life_free(l);
}

/* ---- Abort (Base 5.1) ------------------------------------------------------ */

static uint16_t abort_cmd(Nvme *n, unsigned sqid, uint16_t cid, uint32_t *dw0)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_ABORT, 0);
    uint32_t dw10 = FIELD_DP32(0, NVME_ABORT_DW10, SQID, sqid);

    c.cdw10 = cpu_to_le32(FIELD_DP32(dw10, NVME_ABORT_DW10, CID, cid));
    return admin(n, &c, dw0);
}

/*
 * Abort of each in-flight read, and of a CID nothing carries: DW0 bit 0
 * says whether the command was aborted; each read completes exactly once,
 * with Command Abort Requested exactly when DW0 said aborted.
 */
static void test_abort_busy(const void *opaque)
{
    Life *l = life_boot(opaque, "");
    Nvme *n = l->n;
    bool aborted[BUSY_CMDS];
    uint32_t dw0;

    busy_start(l);
    if (busy_in_flight(l)) {
        for (unsigned i = 0; i < BUSY_CMDS; i++) {
            g_assert_cmphex(abort_cmd(n, 1, l->first + i, &dw0), ==,
                            NVME_SUCCESS);
            aborted[i] = !(dw0 & ABORT_NOT_ABORTED);
        }
        g_assert_cmphex(abort_cmd(n, 1, l->first + BUSY_CMDS + 100, &dw0),
                        ==, NVME_SUCCESS);
        g_assert_cmphex(dw0 & ABORT_NOT_ABORTED, ==, ABORT_NOT_ABORTED);
        for (unsigned i = 0; i < BUSY_CMDS; i++) {
            NvmeCqe cqe;

            cq_wait_cid(n, 1, l->first + i, &cqe);
            g_assert_cmphex(cqe_sc(&cqe), ==,
                            aborted[i] ? NVME_ABORT_REQUESTED : NVME_SUCCESS);
        }
        /* nothing more: no second completion of any */
        sentinel_fill(l);
        sentinel_check(l);
    }
    life_free(l);
}

/* ---- Keep Alive Timer (Base 5.21.1.15, 7.12) ------------------------------- */

static uint16_t keep_alive(Nvme *n)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_KEEP_ALIVE, 0);

    return admin(n, &c, NULL);
}

/*
 * KATO set, Keep Alives sent within it, I/O going on: no expiry, the
 * reads complete.  Then silence past KATO: the controller stops
 * processing commands and sets CSTS.CFS; what was in flight is not
 * posted after that; CC.EN=0 brings it back.
 */
static void test_keep_alive_busy(const void *opaque)
{
    Life *l = life_boot(opaque, "");
    Nvme *n = l->n;
    NvmeIdCtrl id;
    uint32_t dw0;

    identify_read(n, NVME_CNS_CTRL, 0, &id, sizeof(id));
    g_assert_cmpuint(le16_to_cpu(id.kas), !=, 0);
    g_assert_cmphex(set_feature(n, NVME_FEAT_KEEP_ALIVE, KATO_MS, NULL), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(get_feature(n, NVME_FEAT_KEEP_ALIVE, 0, &dw0), ==,
                    NVME_SUCCESS);
    g_assert_cmpuint(dw0, ==, KATO_MS);

    /* kept alive for 5 KATO while reads go on: no expiry */
    busy_start(l);
    for (unsigned i = 0; i < 10; i++) {
        qtest_clock_step(n->qts, KATO_MS / 2 * MS);
        g_assert_cmphex(keep_alive(n), ==, NVME_SUCCESS);
    }
    g_usleep(2 * SLOW_LATENCY_NS / 1000);
    for (unsigned i = 0; i < BUSY_CMDS; i++) {
        NvmeCqe cqe;

        qtest_clock_step(n->qts, KATO_MS / 4 * MS);
        g_assert_cmphex(keep_alive(n), ==, NVME_SUCCESS);
        cq_wait_cid(n, 1, l->first + i, &cqe);
        g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
    }
    g_assert_cmpuint(FIELD_EX32(csts(n), NVME_CSTS, CFS), ==, 0);

    /* silence with reads in flight: expiry, nothing posted after it */
    l->done = 0;
    memset(l->seen, 0, sizeof(l->seen));
    g_assert_cmphex(keep_alive(n), ==, NVME_SUCCESS);
    busy_start(l);
    if (busy_in_flight(l)) {
        int64_t deadline = g_get_monotonic_time() + WAIT_US;

        qtest_clock_step(n->qts, 2 * KATO_MS * MS);
        /* an iothread's timer fires in its own time */
        while (!FIELD_EX32(csts(n), NVME_CSTS, CFS)) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            settle(l);
        }
        busy_collect(l, NVME_SUCCESS, NVME_ABORTED_SQ_DELETION);
        sentinel_fill(l);
        sentinel_check(l);
        ctrl_disable(n);
        sentinel_check(l);
        recovered(l);
        /* the expiry is in the Error Information log, newest first */
        {
            NvmeErrorLogEntry e;

            g_assert_cmphex(get_log(n, NVME_LOG_ERROR, sizeof(e), n->buf), ==,
                            NVME_SUCCESS);
            qtest_memread(n->qts, n->buf, &e, sizeof(e));
            g_assert_cmphex(le16_to_cpu(e.status) >> 1, ==,
                            NVME_KEEP_ALIVE_EXPIRED);
            g_assert_cmphex(le16_to_cpu(e.sqid), ==, NVME_ERR_NO_COMMAND);
            g_assert_cmphex(le16_to_cpu(e.cid), ==, NVME_ERR_NO_COMMAND);
        }
        /* KATO is back to its default (0) after the reset: no expiry */
        qtest_clock_step(n->qts, 4 * KATO_MS * MS);
        g_assert_cmpuint(FIELD_EX32(csts(n), NVME_CSTS, CFS), ==, 0);
    }
    life_free(l);
}

/* ---- transfers at MDTS (Base 5.15.2.1 Identify Controller MDTS) ----------- */

/* A write of @nlb blocks with PRPs or one SGL data block descriptor */
static uint16_t mdts_write(Nvme *n, uint64_t buf, uint64_t list,
                           uint32_t nlb, bool sgl)
{
    NvmeSqe c = rw_cmd(n, NVME_IO_WRITE, 0, nlb);

    if (sgl) {
        set_sgl(&c, buf, nlb * LBA_SIZE, NVME_SGL_TYPE_DATA_BLOCK);
    } else {
        set_prps(n, &c, buf, nlb * LBA_SIZE, list);
    }
    return io(n, 1, &c);
}

/*
 * MDTS (2^MDTS pages of CC.MPS): a transfer of exactly that works with a
 * PRP list and with an SGL, and reads back; one block more is an Invalid
 * Field.  mdts=0 (no limit) is refused on the command line as by stock
 * (tests/compat bounds rows).
 */
static void mdts_case(const LifeConfig *cfg, unsigned mdts)
{
    g_autofree char *opt = g_strdup_printf("mdts=%u", mdts);
    Life *l = life_boot(cfg, opt);
    Nvme *n = l->n;
    uint32_t max = PAGE << mdts;
    uint32_t nlb = max / LBA_SIZE;
    uint64_t wbuf = nvme_alloc(n, max + PAGE);
    uint64_t rbuf = nvme_alloc(n, max);
    uint64_t list = nvme_alloc(n, PAGE * 2);
    NvmeIdCtrl id;
    NvmeSqe c;

    identify_read(n, NVME_CNS_CTRL, 0, &id, sizeof(id));
    g_assert_cmpuint(id.mdts, ==, mdts);
    for (int sgl = 0; sgl <= 1; sgl++) {
        fill(n, wbuf, max, 0x40 + sgl);
        g_assert_cmphex(mdts_write(n, wbuf, list, nlb, sgl), ==,
                        NVME_SUCCESS);
        c = rw_cmd(n, NVME_IO_READ, 0, nlb);
        set_prps(n, &c, rbuf, max, list);
        g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
        g_assert_true(same(n, wbuf, rbuf, max));
        g_assert_cmphex(mdts_write(n, wbuf, list, nlb + 1, sgl), ==,
                        NVME_INVALID_FIELD);
        c = rw_cmd(n, NVME_IO_READ, 0, nlb + 1);
        set_prps(n, &c, rbuf, max + LBA_SIZE, list);
        g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_FIELD);
    }
    life_free(l);
}

static void test_mdts_default(const void *opaque)
{
    mdts_case(opaque, 7);
}

static void test_mdts_min(const void *opaque)
{
    mdts_case(opaque, 1);
}

static void test_mdts_max(const void *opaque)
{
    mdts_case(opaque, 9);
}

/* ---- registration ---------------------------------------------------------- */

typedef struct LifeCase {
    const char *name;
    GTestDataFunc fn;
} LifeCase;

static const LifeCase cases[] = {
    { "delete-queues", test_delete_queues },
    { "reset-busy", test_reset_busy },
    { "shutdown-normal", test_shutdown_normal },
    { "shutdown-abrupt", test_shutdown_abrupt },
    { "system-reset", test_system_reset },
    { "unplug-ctrl", test_unplug_ctrl },
    { "unplug-ns", test_unplug_ns },
    { "abort-busy", test_abort_busy },
    { "keep-alive-busy", test_keep_alive_busy },
    { "mdts", test_mdts_default },
    { "mdts-min", test_mdts_min },
    { "mdts-max", test_mdts_max },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (unsigned i = 0; i < ARRAY_SIZE(configs); i++) {
        for (unsigned j = 0; j < ARRAY_SIZE(cases); j++) {
            g_autofree char *path = g_strdup_printf("/nvqemu/nvme-life/%s/%s",
                                                    configs[i].name,
                                                    cases[j].name);

            g_test_add_data_func(path, &configs[i], cases[j].fn);
        }
    }
    return g_test_run();
}
