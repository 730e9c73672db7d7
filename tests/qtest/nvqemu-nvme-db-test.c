/*
 * qtest for the doorbell paths of nvqemu's NVMe controller (issue 10):
 * Doorbell Buffer Config (shadow doorbells and EventIdx, NVMe Base 2.0b
 * 5.8), doorbells through an ioeventfd, the engine in an IOThread, and an
 * idle engine that does not wake up.  Each case runs on every
 * configuration of db_configs[]; those that need a property the binary
 * lacks (stock QEMU has no iothread= nor engine-wakeups) are skipped,
 * saying which.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "tests/qtest/libqos/pci-pc.h"

#include "nvqemu-nvme-host.h"

#define MS              (1000 * 1000)
#define SECOND_NS       (1000 * MS)
#define NVME_SLOT       4           /* DEVFN's slot, for ACPI eject */
/* PIIX4 ACPI PCI hotplug: the eject register (0xae00 + 8, as libqos) */
#define ACPI_PCIHP_EJ   0xae08
/* a namespace whose commands stay in flight (real time) */
#define SLOW_NSID       2
#define SLOW_LATENCY_NS 200000000
#define SLOW_NS_OPTS    "-drive id=slow,if=none,driver=null-co,size=32M," \
                        "latency-ns=" stringify(SLOW_LATENCY_NS) " " \
                        "-device nvme-ns,drive=slow,bus=nvme0," \
                        "nsid=" stringify(SLOW_NSID) " "
#define BUSY_CMDS       8
#define IOTHREAD_ARGS   "-object iothread,id=io0"
#define NO_IOTHREAD     "nvme has no iothread property (issue 10)"
/* real time an iothread gets to finish what a doorbell set off */
#define SETTLE_US       (100 * 1000)

typedef struct DbConfig {
    const char *name;
    const char *ctrl_opts;      /* nvme properties */
    const char *args;           /* more command line */
    bool iothread;              /* needs our iothread= property */
    bool ioeventfd;             /* doorbell values unseen with shadows on */
} DbConfig;

static const DbConfig db_configs[] = {
    { "mmio", "ioeventfd=off", "", false, false },
    { "ioeventfd", "ioeventfd=on", "", false, true },
    { "iothread", "ioeventfd=off,iothread=io0", IOTHREAD_ARGS, true, false },
    { "iothread-ioeventfd", "ioeventfd=on,iothread=io0", IOTHREAD_ARGS,
      true, true },
};

typedef struct Db {
    Nvme *n;
    const DbConfig *cfg;
    uint64_t eis;               /* EventIdx page */
} Db;

static const char *test_dir;    /* where the other nvqemu qtests are */

/* ---- what the binary under test has -------------------------------------- */

/* Whether QEMU's nvme device has property @name (device-list-properties) */
static bool nvme_has_prop(const char *name)
{
    static GHashTable *props;

    if (!props) {
        QTestState *qts = qtest_init("-machine none");
        QDict *rsp = qtest_qmp(qts, "{'execute': 'device-list-properties',"
                               " 'arguments': {'typename': 'nvme'}}");
        QListEntry *e;

        props = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_assert(qdict_haskey(rsp, "return"));
        QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), e) {
            QDict *p = qobject_to(QDict, qlist_entry_obj(e));

            g_hash_table_add(props, g_strdup(qdict_get_str(p, "name")));
        }
        qobject_unref(rsp);
        qtest_quit(qts);
    }
    return g_hash_table_contains(props, name);
}

/*
 * Our controller, for the few checks where stock behaves otherwise (stock
 * has no engine-wakeups property)
 */
static bool ours(void)
{
    return nvme_has_prop("engine-wakeups");
}

/* Skip the case when the binary lacks @prop; true when skipped */
static bool skip_without(const char *prop, const char *what)
{
    if (nvme_has_prop(prop)) {
        return false;
    }
    g_test_skip(what);
    return true;
}

/* ---- booting a configuration --------------------------------------------- */

/* NULL (the case skipped) when the binary lacks what @cfg needs */
static Db *db_boot(const DbConfig *cfg, const char *ctrl_opts,
                   const char *extra)
{
    g_autofree char *opts = NULL;
    g_autofree char *args = NULL;
    Db *d;

    if (cfg->iothread &&
        skip_without("iothread", NO_IOTHREAD)) {
        return NULL;
    }
    opts = g_strjoin(",", cfg->ctrl_opts, ctrl_opts, NULL);
    args = g_strdup_printf("%s %s", cfg->args, extra ? extra : "");
    d = g_new0(Db, 1);
    d->cfg = cfg;
    d->n = nvme_boot(*ctrl_opts ? opts : cfg->ctrl_opts, args);
    d->n->dstrd = FIELD_EX64((uint64_t)rd32(d->n, NVME_REG_CAP + 4) << 32,
                             NVME_CAP, DSTRD);
    return d;
}

static void db_free(Db *d)
{
    nvme_free(d->n);
    g_free(d);
}

/* Let whatever the last doorbell set off run to its end */
static void db_settle(Db *d)
{
    qtest_clock_step(d->n->qts, MS);
    if (d->cfg->iothread) {
        g_usleep(SETTLE_US);
    }
    qtest_clock_step(d->n->qts, MS);
}

static void qmp_alive(Db *d)
{
    QDict *rsp = qtest_qmp(d->n->qts, "{'execute': 'query-status'}");

    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
}

static uint64_t engine_wakeups(Db *d)
{
    return nvme_qom_get_int(d->n, "engine-wakeups");
}

/*
 * The engine does not run while nothing can progress: over a second of
 * virtual time (and, with an iothread, a second of real time, in which
 * it may poll) its wake-up count stays the same.  Skipped without the
 * engine-wakeups property.
 */
static void assert_no_wakeups(Db *d)
{
    int64_t deadline = g_get_monotonic_time() + WAIT_US;
    uint64_t before, now;

    if (!nvme_has_prop("engine-wakeups")) {
        return;
    }
    /*
     * First whatever the last command set off ends; an engine that never
     * does fails the check below.
     */
    now = engine_wakeups(d);
    do {
        before = now;
        db_settle(d);
        now = engine_wakeups(d);
    } while (now != before && g_get_monotonic_time() < deadline);
    before = now;

    qtest_clock_step(d->n->qts, SECOND_NS);
    if (d->cfg->iothread) {
        g_usleep(G_USEC_PER_SEC);
    }
    g_assert_cmpuint(engine_wakeups(d), ==, before);
}

/* ---- Doorbell Buffer Config ---------------------------------------------- */

static uint16_t dbbuf_config(Nvme *n, uint64_t dbs, uint64_t eis)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_DBBUF_CONFIG, 0);

    c.dptr[0] = cpu_to_le64(dbs);
    c.dptr[1] = cpu_to_le64(eis);
    return admin(n, &c, NULL);
}

/* Zeroed shadow doorbell and EventIdx pages, configured */
static void db_enable(Db *d)
{
    uint64_t dbs = nvme_alloc(d->n, PAGE);

    d->eis = nvme_alloc(d->n, PAGE);
    qtest_memset(d->n->qts, dbs, 0, PAGE);
    qtest_memset(d->n->qts, d->eis, 0, PAGE);
    g_assert_cmphex(dbbuf_config(d->n, dbs, d->eis), ==, NVME_SUCCESS);
    d->n->shadow = dbs;
}

/* Enabled, queue pair 1 with an SQ of @sq_size, shadow doorbells on */
static Db *db_start(const DbConfig *cfg, uint32_t sq_size, const char *extra)
{
    Db *d = db_boot(cfg, "", extra);

    if (!d) {
        return NULL;
    }
    ctrl_enable(d->n, NVME_CC_AMS_RR);
    g_assert_cmphex(create_cq(d->n, 1, QDEPTH, 1), ==, NVME_SUCCESS);
    g_assert_cmphex(create_sq(d->n, 1, 1, sq_size, NVME_QPRIO_MEDIUM), ==,
                    NVME_SUCCESS);
    db_enable(d);
    return d;
}

/*
 * Controller reset (not retained: the host forgets its shadow page too),
 * enabled again with queue pair 1 on MMIO doorbells
 */
static void db_reenable(Db *d)
{
    d->n->shadow = 0;
    ctrl_enable(d->n, NVME_CC_AMS_RR);
    io_queues(d->n, 1);
}

/* @count flushes into SQ @qid, no doorbell; returns the first one's CID */
static uint16_t put_flushes(Nvme *n, unsigned qid, unsigned count)
{
    uint16_t first = n->cid + 1;

    for (unsigned i = 0; i < count; i++) {
        NvmeSqe c = sqe_new(n, NVME_IO_FLUSH, 1);

        sq_put(n, qid, &c);
    }
    return first;
}

static void flush_ok(Nvme *n, unsigned qid)
{
    NvmeSqe c = sqe_new(n, NVME_IO_FLUSH, 1);

    g_assert_cmphex(io(n, qid, &c), ==, NVME_SUCCESS);
}

static uint32_t event_idx(Db *d, unsigned qid, bool cq)
{
    return qtest_readl(d->n->qts, shadow_slot(d->n, d->eis, qid, cq));
}

/* EventIdx of a queue that has gone idle reaches @want */
static void wait_event_idx(Db *d, unsigned qid, bool cq, uint32_t want)
{
    int64_t deadline = g_get_monotonic_time() + WAIT_US;

    while (event_idx(d, qid, cq) != want &&
           g_get_monotonic_time() < deadline) {
        db_settle(d);
    }
    g_assert_cmpuint(event_idx(d, qid, cq), ==, want);
}

static void shadow_write(Db *d, unsigned qid, bool cq, uint32_t val)
{
    qtest_writel(d->n->qts, shadow_slot(d->n, d->n->shadow, qid, cq), val);
}

/*
 * Linux's nvme_dbbuf_need_event() (virtio's vring_need_event): a doorbell
 * moving from @old to @new must be rung when EventIdx is in [old, new).
 */
static bool need_event(uint16_t event, uint16_t new, uint16_t old)
{
    return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

static uint16_t oacs(Nvme *n)
{
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);

    identify_read(n, NVME_CNS_CTRL, 0, id, sizeof(*id));
    return le16_to_cpu(id->oacs);
}

#define MISALIGN            4       /* a dword into the page */
/* garbage the admin queue's shadow and EventIdx slots hold */
#define ADMIN_SLOT_FILL     0x5a
#define ADMIN_SLOT_GARBAGE  0x5a5a5a5a

/* dbcs=on (the default): advertised, page-aligned buffers only */
/* The Commands Supported and Effects log entry of Doorbell Buffer Config */
static uint32_t dbbuf_effects(Nvme *n)
{
    g_assert_cmphex(get_log(n, NVME_LOG_CMD_EFFECTS, sizeof(NvmeEffectsLog),
                            n->buf), ==, NVME_SUCCESS);
    return qtest_readl(n->qts, n->buf + offsetof(NvmeEffectsLog, acs) +
                       sizeof(uint32_t) * NVME_ADM_DBBUF_CONFIG);
}

static void test_dbcs_on(void)
{
    Nvme *n = nvme_boot("", NULL);
    uint64_t dbs = nvme_alloc(n, PAGE), eis = nvme_alloc(n, PAGE);

    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(oacs(n) & NVME_OACS_DBBUF, ==, NVME_OACS_DBBUF);
    g_assert_cmphex(dbbuf_effects(n) & NVME_EFF_CSUPP, ==, NVME_EFF_CSUPP);
    g_assert_cmphex(dbbuf_config(n, dbs + MISALIGN, eis), ==,
                    NVME_INVALID_FIELD);
    g_assert_cmphex(dbbuf_config(n, dbs, eis + MISALIGN), ==,
                    NVME_INVALID_FIELD);
    /* ours: the pages must be guest RAM (stock takes any aligned address) */
    if (ours()) {
        g_assert_cmphex(dbbuf_config(n, UNMAPPED_ADDR, eis), ==,
                        NVME_INVALID_FIELD);
        g_assert_cmphex(dbbuf_config(n, dbs, UNMAPPED_ADDR), ==,
                        NVME_INVALID_FIELD);
    }
    qtest_memset(n->qts, dbs, ADMIN_SLOT_FILL, PAGE);
    qtest_memset(n->qts, eis, ADMIN_SLOT_FILL, PAGE);
    g_assert_cmphex(dbbuf_config(n, dbs, eis), ==, NVME_SUCCESS);

    /*
     * The admin queue stays on its MMIO doorbells: garbage in its shadow
     * slots does not matter, over more commands than its SQ holds.  Ours
     * leaves its slots alone; stock copies the MMIO values into the
     * shadow slots and writes EventIdx.
     */
    for (unsigned i = 0; i < 2 * n->sq[0].size; i++) {
        g_assert_cmphex(identify(n, NVME_CNS_CTRL, 0, n->buf), ==,
                        NVME_SUCCESS);
    }
    if (ours()) {
        for (unsigned cq = 0; cq <= 1; cq++) {
            g_assert_cmphex(qtest_readl(n->qts, shadow_slot(n, dbs, 0, cq)),
                            ==, ADMIN_SLOT_GARBAGE);
            g_assert_cmphex(qtest_readl(n->qts, shadow_slot(n, eis, 0, cq)),
                            ==, ADMIN_SLOT_GARBAGE);
        }
    }
    nvme_free(n);
}

static void test_dbcs_off(void)
{
    Nvme *n = nvme_boot("dbcs=off", NULL);
    uint64_t dbs = nvme_alloc(n, PAGE), eis = nvme_alloc(n, PAGE);

    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(oacs(n) & NVME_OACS_DBBUF, ==, 0);
    /* not offered, so not listed as supported either */
    g_assert_cmphex(dbbuf_effects(n), ==, 0);
    g_assert_cmphex(dbbuf_config(n, dbs, eis), ==, NVME_INVALID_OPCODE);
    nvme_free(n);
}

/* ---- shadow doorbells ---------------------------------------------------- */

#define BATCH           5
#define BATCHES         3
#define SMALL_SQ        8           /* BATCHES x BATCH wraps it */
#define LBA_STEP        8           /* one 4 KiB page of 512 B blocks */
#define NEED_EVENT_CMDS (SMALL_SQ + 2)
#define SHADOW_AHEAD    3           /* commands the shadow is ahead by */

/* Write BATCH pages to @qid from @slba and read them back */
static void write_read_batch(Db *d, unsigned qid, uint64_t slba,
                             uint64_t wbuf, uint64_t rbuf)
{
    Nvme *n = d->n;
    uint16_t cid[BATCH];
    NvmeCqe cqe;

    fill(n, wbuf, BATCH * PAGE, slba);
    for (unsigned i = 0; i < BATCH; i++) {
        NvmeSqe c = rw_cmd(n, NVME_IO_WRITE, slba + i * LBA_STEP, LBA_STEP);

        c.dptr[0] = cpu_to_le64(wbuf + i * PAGE);
        cid[i] = sqe_cid(&c);
        sq_put(n, qid, &c);
    }
    sq_ring(n, qid);
    for (unsigned i = 0; i < BATCH; i++) {
        cq_wait_cid(n, qid, cid[i], &cqe);
        g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
    }
    /* idle: EventIdx is the tail consumed, so the next submission rings */
    wait_event_idx(d, qid, false, n->sq[qid].tail);

    qtest_memset(n->qts, rbuf, 0, BATCH * PAGE);
    for (unsigned i = 0; i < BATCH; i++) {
        NvmeSqe c = rw_cmd(n, NVME_IO_READ, slba + i * LBA_STEP, LBA_STEP);

        c.dptr[0] = cpu_to_le64(rbuf + i * PAGE);
        g_assert_cmphex(io(n, qid, &c), ==, NVME_SUCCESS);
    }
    g_assert_true(same(n, wbuf, rbuf, BATCH * PAGE));
}

/*
 * A host that rings the MMIO doorbell only when need_event() says so,
 * one command at a time, each after the queue went idle: every command
 * completes.  Returns how many doorbells it rang.
 */
static unsigned submit_need_event(Db *d, unsigned qid, unsigned count)
{
    Nvme *n = d->n;
    unsigned rung = 0;
    NvmeCqe cqe;

    for (unsigned i = 0; i < count; i++) {
        NvmeSqe c = sqe_new(n, NVME_IO_FLUSH, 1);
        uint16_t old = n->sq[qid].tail;

        sq_put(n, qid, &c);
        shadow_write(d, qid, false, n->sq[qid].tail);
        if (need_event(event_idx(d, qid, false), n->sq[qid].tail, old)) {
            wr32(n, sq_db(n, qid), n->sq[qid].tail);
            rung++;
        }
        cq_wait_cid(n, qid, sqe_cid(&c), &cqe);
        g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
        wait_event_idx(d, qid, false, n->sq[qid].tail);
    }
    return rung;
}

/*
 * Queue pair 1 created before Doorbell Buffer Config, pair 2 after: both
 * take their tails and heads from the shadow page, across SQ wrap-around,
 * and leave EventIdx at the consumed tail when idle.  The shadow tail is
 * authoritative: an MMIO write of an older (valid) tail still runs all
 * that the shadow holds.
 */
static void shadow_io(const DbConfig *cfg, const char *ctrl_opts)
{
    Db *d = db_boot(cfg, ctrl_opts, NULL);
    Nvme *n;
    uint64_t wbuf, rbuf;
    uint16_t first;
    NvmeCqe cqe;

    if (!d) {
        return;
    }
    n = d->n;
    wbuf = nvme_alloc(n, BATCH * PAGE);
    rbuf = nvme_alloc(n, BATCH * PAGE);
    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(create_cq(n, 1, QDEPTH, 1), ==, NVME_SUCCESS);
    g_assert_cmphex(create_sq(n, 1, 1, SMALL_SQ, NVME_QPRIO_MEDIUM), ==,
                    NVME_SUCCESS);
    db_enable(d);
    g_assert_cmphex(create_cq(n, 2, QDEPTH, 2), ==, NVME_SUCCESS);
    g_assert_cmphex(create_sq(n, 2, 2, SMALL_SQ, NVME_QPRIO_MEDIUM), ==,
                    NVME_SUCCESS);

    for (unsigned qid = 1; qid <= 2; qid++) {
        for (unsigned b = 0; b < BATCHES; b++) {
            uint64_t slba = (qid * BATCHES + b) * BATCH * LBA_STEP;

            write_read_batch(d, qid, slba, wbuf, rbuf);
        }
        /* after idle EventIdx asks for every doorbell */
        g_assert_cmpuint(submit_need_event(d, qid, NEED_EVENT_CMDS), ==,
                         NEED_EVENT_CMDS);

        /* MMIO says one command, the shadow SHADOW_AHEAD: all run */
        first = put_flushes(n, qid, SHADOW_AHEAD);
        shadow_write(d, qid, false, n->sq[qid].tail);
        wr32(n, sq_db(n, qid),
             (n->sq[qid].tail + SMALL_SQ - SHADOW_AHEAD + 1) % SMALL_SQ);
        for (unsigned i = 0; i < SHADOW_AHEAD; i++) {
            cq_wait_cid(n, qid, first + i, &cqe);
            g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
        }
    }
    g_assert_cmphex(FIELD_EX32(rd32(n, NVME_REG_CSTS), NVME_CSTS, CFS), ==,
                    0);
    db_free(d);
}

static void test_shadow_io(const void *opaque)
{
    shadow_io(opaque, "");
}

/* Ours only: the shadow slots follow CAP.DSTRD as the registers do */
static void test_shadow_io_dstrd(const void *opaque)
{
    if (skip_without("dstrd", "nvme has no dstrd property (stock)")) {
        return;
    }
    shadow_io(opaque, "dstrd=1");
}

#define SMALL_CQ        4           /* 3 usable entries */
#define CQ_BURST        10

/*
 * A full CQ is freed by the shadow CQ head: the host consumes entries,
 * writes the new head to the shadow page only and rings the MMIO CQ
 * doorbell as a notification (with the new head, or every other time
 * with the head it last wrote there).  No entry is posted into a full CQ
 * and each command completes once.
 */
static void test_shadow_cq(const void *opaque)
{
    Db *d = db_boot(opaque, "", NULL);
    bool seen[CQ_BURST] = { 0 };
    unsigned got = 0, round = 0;
    uint16_t first, mmio_head = 0;
    Nvme *n;
    NvmeCqe cqe;

    if (!d) {
        return;
    }
    n = d->n;
    ctrl_enable(n, NVME_CC_AMS_RR);
    db_enable(d);
    g_assert_cmphex(create_cq(n, 1, SMALL_CQ, 1), ==, NVME_SUCCESS);
    g_assert_cmphex(create_sq(n, 1, 1, QDEPTH, NVME_QPRIO_MEDIUM), ==,
                    NVME_SUCCESS);
    first = put_flushes(n, 1, CQ_BURST);
    sq_ring(n, 1);
    while (got < CQ_BURST) {
        int64_t deadline = g_get_monotonic_time() + WAIT_US;
        unsigned batch = 0;

        while (batch < SMALL_CQ - 1 && got + batch < CQ_BURST) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            if (!cq_peek(n, 1, &cqe)) {
                qtest_clock_step(n->qts, n->step_ns);
                continue;
            }
            g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
            g_assert_cmpuint((uint16_t)(le16_to_cpu(cqe.cid) - first), <,
                             CQ_BURST);
            g_assert_false(seen[le16_to_cpu(cqe.cid) - first]);
            seen[le16_to_cpu(cqe.cid) - first] = true;
            cq_pop(n, 1, false);
            batch++;
        }
        got += batch;
        /* the slot after a full CQ stays empty */
        db_settle(d);
        g_assert_false(got < CQ_BURST && cq_peek(n, 1, &cqe));
        shadow_write(d, 1, true, n->cq[1].head);
        if (round++ % 2 == 0) {
            mmio_head = n->cq[1].head;
        }
        wr32(n, cq_db(n, 1), mmio_head);
    }
    /*
     * Ours: EventIdx is the last head the controller read.  Stock writes
     * it only before it posts, one doorbell behind.
     */
    if (ours()) {
        wait_event_idx(d, 1, true, n->cq[1].head);
    }
    db_free(d);
}

/*
 * With shadow doorbells an MMIO doorbell write is a notification whose
 * value is still checked: an SQ tail beyond the queue is an Invalid
 * Doorbell Write Value event, as without them, and the queue keeps
 * working.  Not run with ioeventfd=on, where the eventfd carries no value.
 */
static void test_shadow_db_value(const void *opaque)
{
    Db *d = db_start(opaque, QDEPTH, NULL);
    NvmeSqe aer;
    NvmeCqe cqe;

    if (!d) {
        return;
    }
    aer = sqe_new(d->n, NVME_ADM_ASYNC_EVENT, 0);
    sq_put(d->n, 0, &aer);
    sq_ring(d->n, 0);
    wr32(d->n, sq_db(d->n, 1), QDEPTH);
    cq_wait_cid(d->n, 0, sqe_cid(&aer), &cqe);
    g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
    g_assert_cmphex(le32_to_cpu(cqe.dw0), ==,
                    (NVME_LOG_ERROR << 16) |
                    (NVME_AER_ERR_INVALID_DB_VALUE << 8) |
                    NVME_AER_TYPE_ERROR);
    flush_ok(d->n, 1);
    db_free(d);
}

#define STALE_CMDS      3

/*
 * A guest that stops updating the shadow page: the MMIO SQ tail moves on,
 * the shadow tail does not.  Nothing the shadow does not hold runs, the
 * controller does not fail or spin, and a controller reset brings back
 * plain MMIO doorbells (the configuration is not kept): the stale shadow
 * and EventIdx pages are then neither read nor written.
 */
static void test_stale_shadow(const void *opaque)
{
    Db *d = db_start(opaque, QDEPTH, NULL);
    uint64_t eis;
    Nvme *n;
    NvmeCqe cqe;

    if (!d) {
        return;
    }
    n = d->n;
    flush_ok(n, 1);
    put_flushes(n, 1, STALE_CMDS);
    wr32(n, sq_db(n, 1), n->sq[1].tail);
    db_settle(d);
    g_assert_false(cq_peek(n, 1, &cqe));
    g_assert_cmphex(FIELD_EX32(rd32(n, NVME_REG_CSTS), NVME_CSTS, CFS), ==,
                    0);
    assert_no_wakeups(d);
    g_assert_false(cq_peek(n, 1, &cqe));
    qmp_alive(d);

    /* reset: the same pages, stale, stay in guest RAM */
    eis = d->eis;
    qtest_memset(n->qts, eis, 0xa5, PAGE);
    ctrl_disable(n);
    db_reenable(d);
    for (unsigned i = 0; i < STALE_CMDS; i++) {
        flush_ok(n, 1);
    }
    db_settle(d);
    for (unsigned off = 0; off < PAGE; off += 4) {
        g_assert_cmphex(qtest_readl(n->qts, eis + off), ==, 0xa5a5a5a5);
    }
    db_free(d);
}

/*
 * Shadow values out of range (a tail or head past the queue): no crash,
 * no spin, nothing run but the one command written (not the zeroed SQ
 * slots), and a reset brings the controller back.
 */
static void test_shadow_garbage(const void *opaque)
{
    Db *d = db_start(opaque, SMALL_SQ, NULL);
    unsigned posted = 0;
    NvmeCqe cqe;

    if (!d) {
        return;
    }
    put_flushes(d->n, 1, 1);
    shadow_write(d, 1, false, UINT16_MAX);
    wr32(d->n, sq_db(d->n, 1), d->n->sq[1].tail);
    shadow_write(d, 1, true, UINT16_MAX);
    wr32(d->n, cq_db(d->n, 1), 0);
    db_settle(d);
    while (cq_peek(d->n, 1, &cqe)) {
        cq_pop(d->n, 1, false);
        posted++;
        g_assert_cmpuint(posted, <, SMALL_SQ);
    }
    /* at most the one command there is: the zeroed slots are not run */
    g_assert_cmpuint(posted, <=, 1);
    assert_no_wakeups(d);
    qmp_alive(d);

    ctrl_disable(d->n);
    db_reenable(d);
    flush_ok(d->n, 1);
    db_free(d);
}

/* ---- commands in flight -------------------------------------------------- */

/* BUSY_CMDS reads of the slow namespace on queue 1, shadow doorbells on */
static Db *busy_boot(const DbConfig *cfg, uint16_t *first)
{
    Db *d = db_start(cfg, QDEPTH, SLOW_NS_OPTS);
    Nvme *n;

    if (!d) {
        return NULL;
    }
    n = d->n;
    *first = n->cid + 1;
    for (unsigned i = 0; i < BUSY_CMDS; i++) {
        NvmeSqe c = rw_cmd(n, NVME_IO_READ, i * LBA_STEP, LBA_STEP);

        c.nsid = cpu_to_le32(SLOW_NSID);
        c.dptr[0] = cpu_to_le64(n->buf + i * PAGE);
        sq_put(n, 1, &c);
    }
    sq_ring(n, 1);
    /* fetched, not yet done (the backend takes SLOW_LATENCY_NS) */
    qtest_clock_step(n->qts, MS);
    return d;
}

/* Collect CQ 1's new entries: each of the busy commands at most once */
static unsigned busy_collect(Db *d, uint16_t first, bool *seen)
{
    unsigned count = 0;
    NvmeCqe cqe;

    while (cq_peek(d->n, 1, &cqe)) {
        uint16_t idx = le16_to_cpu(cqe.cid) - first;

        g_assert_cmpuint(idx, <, BUSY_CMDS);
        g_assert_false(seen[idx]);
        seen[idx] = true;
        cq_pop(d->n, 1, false);
        count++;
    }
    return count;
}

/* Wait in real time until the slow backend is surely done */
static void busy_drain(Db *d)
{
    g_usleep(2 * SLOW_LATENCY_NS / 1000);
    db_settle(d);
}

/* Plain I/O works again after the queues came back */
static void busy_recovered(Db *d)
{
    flush_ok(d->n, 1);
    qmp_alive(d);
}

/*
 * Controller reset while commands are in flight: nothing is posted after
 * CSTS.RDY reads 0, nothing twice, and the controller comes back.
 */
static void test_reset_busy(const void *opaque)
{
    bool seen[BUSY_CMDS] = { 0 };
    uint16_t first;
    Db *d = busy_boot(opaque, &first);

    if (!d) {
        return;
    }
    ctrl_disable(d->n);
    busy_collect(d, first, seen);
    busy_drain(d);
    g_assert_cmpuint(busy_collect(d, first, seen), ==, 0);
    db_reenable(d);
    busy_recovered(d);
    db_free(d);
}

static uint16_t delete_queue(Nvme *n, uint8_t opc, unsigned qid)
{
    NvmeSqe c = sqe_new(n, opc, 0);

    c.cdw10 = cpu_to_le32(qid);
    return admin(n, &c, NULL);
}

/*
 * Delete SQ and CQ while commands are in flight: both succeed, nothing
 * completes twice, and new queues work.
 */
static void test_delete_busy(const void *opaque)
{
    bool seen[BUSY_CMDS] = { 0 };
    uint16_t first;
    Db *d = busy_boot(opaque, &first);

    if (!d) {
        return;
    }
    g_assert_cmphex(delete_queue(d->n, NVME_ADM_DELETE_SQ, 1), ==,
                    NVME_SUCCESS);
    busy_collect(d, first, seen);
    g_assert_cmphex(delete_queue(d->n, NVME_ADM_DELETE_CQ, 1), ==,
                    NVME_SUCCESS);
    busy_drain(d);
    busy_collect(d, first, seen);
    io_queues(d->n, 1);
    busy_recovered(d);
    db_free(d);
}

/*
 * DEVICE_DELETED of the controller itself (sent when it is finalized; its
 * namespaces' events are skipped), with a deadline rather than
 * qtest_qmp_eventwait()'s forever
 */
static void wait_device_deleted(Db *d)
{
    int64_t deadline = g_get_monotonic_time() + WAIT_US;
    bool gone = false;

    while (!gone) {
        QDict *ev = qtest_qmp_event_ref(d->n->qts, "DEVICE_DELETED");

        if (ev) {
            QDict *data = qdict_get_qdict(ev, "data");

            gone = qdict_haskey(data, "device") &&
                   !strcmp(qdict_get_str(data, "device"), "nvme0");
            qobject_unref(ev);
            continue;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        qtest_clock_step(d->n->qts, MS);
        qmp_alive(d);
        g_usleep(10 * 1000);
    }
}

/*
 * device_del of the controller (ACPI hot-unplug, the guest's eject done
 * by hand) while commands are in flight: the device is finalized
 * (DEVICE_DELETED), nothing completes twice, and QEMU still answers.
 */
static void test_unplug_busy(const void *opaque)
{
    bool seen[BUSY_CMDS] = { 0 };
    uint16_t first;
    Db *d = busy_boot(opaque, &first);
    Nvme *n;

    if (!d) {
        return;
    }
    n = d->n;
    qtest_qmp_device_del_send(n->qts, "nvme0");
    qtest_outl(n->qts, ACPI_PCIHP_EJ, 1 << NVME_SLOT);
    wait_device_deleted(d);
    busy_collect(d, first, seen);
    qmp_alive(d);
    /* the device is gone: no MSI-X to turn off */
    g_free(n->dev);
    qtest_pc_shutdown(n->qs);
    unlink(n->img);
    g_free(n->img);
    g_free(n);
    g_free(d);
}

/* ---- an idle engine ------------------------------------------------------ */

/*
 * Queues created, nothing submitted: the engine does not run, with plain
 * doorbells and then with shadow doorbells (which it might be tempted to
 * poll).
 */
static void test_idle(const void *opaque)
{
    Db *d;

    if (skip_without("engine-wakeups",
                     "nvme has no engine-wakeups property (issue 10)")) {
        return;
    }
    d = db_boot(opaque, "", NULL);
    if (!d) {
        return;
    }
    ctrl_enable(d->n, NVME_CC_AMS_RR);
    io_queues(d->n, 2);
    assert_no_wakeups(d);
    db_enable(d);
    for (unsigned qid = 1; qid <= 2; qid++) {
        flush_ok(d->n, qid);
    }
    assert_no_wakeups(d);
    db_free(d);
}

/* ---- nvqemu-nvme-test's cases in an iothread ------------------------------ */

/*
 * Cases of nvqemu-nvme-test worth running with the engine in an iothread,
 * as each crosses the thread boundary in its own way: arbitration and
 * coalescing under polling, the INTx pin set by a main-loop bottom half,
 * resets run in the engine's thread (FLR, CC.EN=0 with I/O in flight),
 * the engine failing itself there, the keep-alive timer in its AioContext.
 */
static const char *const nvme_test_iothread_cases[] = {
    "wrr", "coalescing", "intx", "flr", "reset-mid-io", "fatal-stops",
    "keep-alive", "doorbell-aer",
};

typedef struct NvmeTestRun {
    const DbConfig *cfg;
    const char *name;           /* the case in nvqemu-nvme-test */
} NvmeTestRun;

/*
 * nvqemu-nvme-test's case, run with every controller in IOThread io0 (the
 * binary takes more options from its environment)
 */
static void run_nvme_test_case(const void *opaque)
{
    const NvmeTestRun *run = opaque;
    g_autofree char *exe = g_build_filename(test_dir, "nvqemu-nvme-test",
                                            NULL);
    g_autofree char *path = g_strdup_printf("/nvqemu/nvme/%s", run->name);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_auto(GStrv) env = g_get_environ();
    const char *argv[] = { exe, "--tap", "-p", path, NULL };
    g_autoptr(GError) gerr = NULL;
    int status;

    if (skip_without("iothread", NO_IOTHREAD)) {
        return;
    }
    env = g_environ_setenv(env, NVME_ENV_CTRL_OPTS, run->cfg->ctrl_opts, true);
    env = g_environ_setenv(env, NVME_ENV_ARGS, run->cfg->args, true);
    g_assert_true(g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_DEFAULT,
                               NULL, NULL, &out, &err, &status, &gerr));
    g_test_message("%s %s: %s%s", exe, path, out, err);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_assert_nonnull(strstr(out, "\nok 1 "));
    g_assert_null(strstr(out, "# SKIP"));
}

/* ---- registration -------------------------------------------------------- */

typedef struct DbCase {
    const char *name;
    GTestDataFunc fn;
    bool needs_value;           /* reads doorbell values: no ioeventfd */
} DbCase;

static const DbCase db_cases[] = {
    { "shadow-io", test_shadow_io },
    { "shadow-io-dstrd", test_shadow_io_dstrd },
    { "shadow-cq", test_shadow_cq },
    { "shadow-db-value", test_shadow_db_value, true },
    { "stale-shadow", test_stale_shadow },
    { "shadow-garbage", test_shadow_garbage },
    { "reset-busy", test_reset_busy },
    { "delete-busy", test_delete_busy },
    { "unplug-busy", test_unplug_busy },
    { "idle", test_idle },
};

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    test_dir = g_path_get_dirname(argv[0]);
    g_test_add_func("/nvqemu/nvme-db/dbcs-on", test_dbcs_on);
    g_test_add_func("/nvqemu/nvme-db/dbcs-off", test_dbcs_off);
    for (unsigned i = 0; i < ARRAY_SIZE(db_configs); i++) {
        const DbConfig *cfg = &db_configs[i];

        for (unsigned j = 0; j < ARRAY_SIZE(db_cases); j++) {
            g_autofree char *path = NULL;

            if (db_cases[j].needs_value && cfg->ioeventfd) {
                continue;
            }
            path = g_strdup_printf("/nvqemu/nvme-db/%s/%s", cfg->name,
                                   db_cases[j].name);
            g_test_add_data_func(path, cfg, db_cases[j].fn);
        }
        for (unsigned j = 0; cfg->iothread &&
                             j < ARRAY_SIZE(nvme_test_iothread_cases); j++) {
            NvmeTestRun *run = g_new(NvmeTestRun, 1);
            g_autofree char *path = NULL;

            *run = (NvmeTestRun) {
                .cfg = cfg, .name = nvme_test_iothread_cases[j],
            };
            path = g_strdup_printf("/nvqemu/nvme-db/%s/%s", cfg->name,
                                   run->name);
            g_test_add_data_func_full(path, run, run_nvme_test_case, g_free);
        }
    }
    return g_test_run();
}
