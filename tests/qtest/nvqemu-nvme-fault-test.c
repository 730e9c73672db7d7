/*
 * qtest: backend faults and durability on the NVMe controller, through the
 * polled host driver.
 *
 *  - faults: a blkdebug layer under the namespace's drive injects EIO or
 *    ENOSPC on read, write or flush, once or on every request; the
 *    command's status (NVMe Base 2.0c Figure 102 generic, Figure 105
 *    media and data integrity errors), its Error Information log entry
 *    (Base 5.16.1.2, Figure 198) and the SMART media error and error log
 *    entry counters (Figure 207) are checked;
 *  - error actions: with werror=/rerror= stop (or enospc) on the drive the
 *    VM stops with a BLOCK_IO_ERROR event, the command does not complete,
 *    and `cont` runs it again: it completes once, successfully, with the
 *    data on the disk; with and without an iothread;
 *  - durability: a Write, a Flush that completed, SIGKILL, a new QEMU on
 *    the same image: the data is there (raw with cache.direct=on, qcow2
 *    whose metadata QEMU caches until a flush).
 *
 * Expectations marked "stock" were taken from stock QEMU 10.0 run as a
 * black box: with NVQEMU_PROBE=1 the checks print what they see instead
 * of failing, so this binary can be pointed at the stock binary
 * (QTEST_QEMU_BINARY=build/vanilla/qemu/qemu-system-x86_64) to compare.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "nvqemu-nvme-host.h"

#define LBS             512u
#define FAULT_LBA       64      /* the block the rules fail */
#define OTHER_LBA       512     /* a block no rule touches */
#define XFER_BLOCKS     8
#define XFER            (XFER_BLOCKS * LBS)
#define ERRLOG_ENTRIES  4       /* entries read back (newest first) */
#define QUIET_STEPS     64      /* clock steps that must post nothing */
#define DURABLE_TRIALS  5

/* errno values blkdebug injects (its "errno" option is a number) */
#define ERR_EIO         EIO
#define ERR_ENOSPC      ENOSPC

typedef struct Env {
    Nvme *n;
    char *img;
    char *conf;
    uint64_t wbuf, rbuf;
    bool dnr;                   /* the last I/O completion's DNR bit */
} Env;

static char *tmp_file(const char *tmpl, const char *contents, size_t size)
{
    char *path;
    int fd = g_file_open_tmp(tmpl, &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    if (contents) {
        g_assert_cmpint(write(fd, contents, strlen(contents)), ==,
                        strlen(contents));
    } else {
        g_assert_cmpint(ftruncate(fd, size), ==, 0);
    }
    close(fd);
    return path;
}

/*
 * A blkdebug rule file: @errno_val on requests of @iotype (read, write,
 * flush) touching FAULT_LBA (flushes have no offset: every one), once or
 * on every request.  A rule is armed by its event, which the raw format
 * layer above raises before each request of that kind.
 */
static char *rule_file(const char *iotype, int errno_val, bool once)
{
    bool flush = !strcmp(iotype, "flush");
    g_autofree char *rule = g_strdup_printf(
        "[inject-error]\n"
        "event = \"%s\"\n"
        "iotype = \"%s\"\n"
        "errno = \"%d\"\n"
        "once = \"%s\"\n"
        "%s",
        flush ? "flush_to_disk" : !strcmp(iotype, "read") ? "read_aio"
                                                          : "write_aio",
        iotype, errno_val, once ? "on" : "off",
        flush ? "" : "sector = \"" stringify(FAULT_LBA) "\"\n");

    return tmp_file("nvqemu-fault-XXXXXX.conf", rule, 0);
}

/*
 * nvme0 on drive d1: raw over blkdebug (@conf, or none) over e->img,
 * with @drive_opts (werror=, rerror=, cache...) and @ctrl_opts
 */
static void env_start(Env *e, const char *fmt, const char *drive_opts,
                      const char *ctrl_opts, const char *extra)
{
    g_autofree char *file = e->conf ?
        g_strdup_printf("blkdebug:%s:%s", e->conf, e->img) :
        g_strdup(e->img);
    g_autofree char *devs = g_strdup_printf(
        "-drive id=d1,if=none,format=%s,file=%s%s%s "
        "-device nvme,id=nvme0,addr=04.0,drive=d1,serial=fault%s%s %s",
        fmt, file, *drive_opts ? "," : "", drive_opts,
        *ctrl_opts ? "," : "", ctrl_opts, extra);

    e->n = nvme_boot_devices(devs);
    ctrl_enable(e->n, 0);
    io_queues(e->n, 1);
    e->wbuf = nvme_alloc(e->n, XFER);
    e->rbuf = nvme_alloc(e->n, XFER);
}

static Env *env_boot(const char *conf_iotype, int errno_val, bool once,
                     const char *drive_opts, const char *ctrl_opts,
                     const char *extra)
{
    Env *e = g_new0(Env, 1);

    e->img = tmp_file("nvqemu-fault-XXXXXX.img", NULL, IMG_SIZE);
    if (conf_iotype) {
        e->conf = rule_file(conf_iotype, errno_val, once);
    }
    env_start(e, "raw", drive_opts, ctrl_opts, extra);
    return e;
}

static void env_free(Env *e)
{
    nvme_free(e->n);
    unlink(e->img);
    g_free(e->img);
    if (e->conf) {
        unlink(e->conf);
        g_free(e->conf);
    }
    g_free(e);
}

static NvmeSqe rw(Env *e, uint8_t opc, uint64_t lba, uint64_t buf)
{
    NvmeSqe c = rw_cmd(e->n, opc, lba, XFER_BLOCKS);

    set_prps(e->n, &c, buf, XFER, 0);
    return c;
}

static uint16_t run_io(Env *e, NvmeSqe *c)
{
    NvmeCqe cqe = submit_wait(e->n, 1, c);

    e->dnr = (le16_to_cpu(cqe.status) >> 1) & NVME_STATUS_DNR;
    return cqe_sc(&cqe);
}

static uint16_t do_write(Env *e, uint64_t lba, uint8_t seed)
{
    NvmeSqe c = rw(e, NVME_IO_WRITE, lba, e->wbuf);

    fill(e->n, e->wbuf, XFER, seed);
    return run_io(e, &c);
}

static uint16_t do_read(Env *e, uint64_t lba)
{
    NvmeSqe c = rw(e, NVME_IO_READ, lba, e->rbuf);

    qtest_memset(e->n->qts, e->rbuf, 0, XFER);
    return run_io(e, &c);
}

static uint16_t do_flush(Env *e)
{
    NvmeSqe c = sqe_new(e->n, NVME_IO_FLUSH, 1);

    return run_io(e, &c);
}

/*
 * A write for a Flush to make durable: the block layer skips the flush of
 * a node nothing was written to since its last flush
 */
static void dirty(Env *e)
{
    g_assert_cmphex(do_write(e, OTHER_LBA, 0x99), ==, NVME_SUCCESS);
}

/* A 128-bit SMART counter (little endian) that fits in 64 bits */
static uint64_t smart_u128(const uint8_t *p)
{
    g_assert_cmpuint(ldq_le_p(p + 8), ==, 0);
    return ldq_le_p(p);
}

static void smart_get(Env *e, NvmeSmartLog *s)
{
    g_assert_cmphex(get_log(e->n, NVME_LOG_SMART, sizeof(*s), e->n->buf),
                    ==, NVME_SUCCESS);
    qtest_memread(e->n->qts, e->n->buf, s, sizeof(*s));
}

static uint64_t media_errors(Env *e)
{
    NvmeSmartLog s;

    smart_get(e, &s);
    return smart_u128(s.media_errors);
}

static uint64_t errlog_entries(Env *e)
{
    NvmeSmartLog s;

    smart_get(e, &s);
    return smart_u128(s.num_err_log_entries);
}

/* The newest Error Information log entry */
static void errlog_newest(Env *e, NvmeErrorLogEntry *out)
{
    NvmeErrorLogEntry ents[ERRLOG_ENTRIES];

    g_assert_cmphex(get_log(e->n, NVME_LOG_ERROR, sizeof(ents), e->n->buf),
                    ==, NVME_SUCCESS);
    qtest_memread(e->n->qts, e->n->buf, ents, sizeof(ents));
    *out = ents[0];
}

/*
 * The newest error log entry is command @cid on SQ 1 of namespace 1,
 * with status @sc (without phase tag and DNR) and LBA @lba
 */
static void check_errlog(Env *e, uint64_t count, uint16_t cid, uint16_t sc,
                         uint64_t lba)
{
    NvmeErrorLogEntry ent;

    errlog_newest(e, &ent);
    check_val(le64_to_cpu(ent.error_count), count, "error count");
    check_val(le16_to_cpu(ent.sqid), 1, "error log SQID");
    check_val(le16_to_cpu(ent.cid), cid, "error log CID");
    check_sc((le16_to_cpu(ent.status) >> 1) & ~NVME_STATUS_DNR, sc,
             "error log status");
    check_val(le64_to_cpu(ent.lba), lba, "error log LBA");
    check_val(le32_to_cpu(ent.nsid), 1, "error log NSID");
}

/* ---- faults: status, error log, SMART ------------------------------------ */

typedef struct FaultCase {
    const char *name;
    const char *iotype;         /* read, write, flush */
    int errno_val;
    bool once;
    uint16_t sc;                /* status the command completes with */
    bool media;                 /* counted as a SMART media error */
} FaultCase;

/*
 * The mapping (docs/reliability.md, "Faults and durability"): a backend
 * that cannot read is an Unrecovered Read Error, one that cannot write or
 * make writes durable a Write Fault (both media and data integrity
 * errors, counted in SMART Media and Data Integrity Errors); a backend
 * out of space is Capacity Exceeded for writes and flushes, which is not
 * a media error.  A read cannot exceed capacity, so ENOSPC on a read is
 * an Unrecovered Read Error too.
 */
static const FaultCase fault_cases[] = {
    { "read-eio-once", "read", ERR_EIO, true, NVME_UNRECOVERED_READ, true },
    { "read-eio", "read", ERR_EIO, false, NVME_UNRECOVERED_READ, true },
    { "read-enospc", "read", ERR_ENOSPC, true, NVME_UNRECOVERED_READ, true },
    { "write-eio-once", "write", ERR_EIO, true, NVME_WRITE_FAULT, true },
    { "write-eio", "write", ERR_EIO, false, NVME_WRITE_FAULT, true },
    { "write-enospc-once", "write", ERR_ENOSPC, true,
      NVME_CAPACITY_EXCEEDED, false },
    { "write-enospc", "write", ERR_ENOSPC, false,
      NVME_CAPACITY_EXCEEDED, false },
    { "flush-eio-once", "flush", ERR_EIO, true, NVME_WRITE_FAULT, true },
    { "flush-eio", "flush", ERR_EIO, false, NVME_WRITE_FAULT, true },
    { "flush-enospc", "flush", ERR_ENOSPC, true,
      NVME_CAPACITY_EXCEEDED, false },
};

/* Run the command a rule of @fc fails; its CID in *@cid */
static uint16_t fault_cmd(Env *e, const FaultCase *fc, uint8_t seed,
                          uint16_t *cid)
{
    if (!strcmp(fc->iotype, "read")) {
        *cid = e->n->cid + 1;
        return do_read(e, FAULT_LBA);
    }
    if (!strcmp(fc->iotype, "write")) {
        *cid = e->n->cid + 1;
        return do_write(e, FAULT_LBA, seed);
    }
    dirty(e);
    *cid = e->n->cid + 1;
    return do_flush(e);
}

/* Stop @e's QEMU and start another on the same image, with @conf rules */
static void env_restart(Env *e, char *conf, const char *drive_opts,
                        const char *ctrl_opts, const char *extra)
{
    nvme_free(e->n);
    if (e->conf) {
        unlink(e->conf);
        g_free(e->conf);
    }
    e->conf = conf;
    env_start(e, "raw", drive_opts, ctrl_opts, extra);
}

static void test_fault(const void *opaque)
{
    const FaultCase *fc = opaque;
    bool read = !strcmp(fc->iotype, "read");
    uint64_t lba = !strcmp(fc->iotype, "flush") ? 0 : FAULT_LBA;
    Env *e;
    uint16_t cid, sc;

    /* a block to read back, written before a rule is armed */
    e = env_boot(NULL, 0, false, "", "", "");
    g_assert_cmphex(do_write(e, FAULT_LBA, 0x5a), ==, NVME_SUCCESS);
    env_restart(e, rule_file(fc->iotype, fc->errno_val, fc->once),
                "werror=report,rerror=report", "", "");

    check_val(errlog_entries(e), 0, "error log entries at start");
    check_val(media_errors(e), 0, "media errors at start");
    check_sc(fault_cmd(e, fc, 0x11, &cid), fc->sc, "first command");
    /* a backend error may be transient: the host may retry */
    check_val(e->dnr, 0, "DNR");
    check_errlog(e, 1, cid, fc->sc, lba);
    check_val(media_errors(e), fc->media, "media errors");
    check_val(errlog_entries(e), 1, "error log entries");

    /* once: the next one succeeds; otherwise it fails the same way */
    sc = fault_cmd(e, fc, 0x22, &cid);
    check_sc(sc, fc->once ? NVME_SUCCESS : fc->sc, "second command");
    if (read && sc == NVME_SUCCESS) {
        /* the block written before is intact */
        fill(e->n, e->wbuf, XFER, 0x5a);
        g_assert_true(same(e->n, e->wbuf, e->rbuf, XFER));
    }
    check_val(errlog_entries(e), fc->once ? 1 : 2, "error log entries");
    check_val(media_errors(e), fc->media * (fc->once ? 1 : 2),
              "media errors");
    if (!fc->once) {
        check_errlog(e, 2, cid, fc->sc, lba);
    }
    /* the rest of the namespace is unaffected (flush rules: all flushes) */
    g_assert_cmphex(do_write(e, OTHER_LBA, 0x33), ==, NVME_SUCCESS);
    g_assert_cmphex(do_read(e, OTHER_LBA), ==, NVME_SUCCESS);
    g_assert_true(same(e->n, e->wbuf, e->rbuf, XFER));
    env_free(e);
}

/* ---- error actions: werror= / rerror= ------------------------------------ */

typedef struct StopCase {
    const char *name;
    const char *iotype;
    int errno_val;
    const char *drive_opts;
    bool stops;                 /* else reported: status @sc */
    uint16_t sc;
    const char *ctrl_opts;
    const char *extra;
} StopCase;

#define IOTHREAD_ARGS   "-object iothread,id=io0"

static const StopCase stop_cases[] = {
    { "werror-stop", "write", ERR_EIO, "werror=stop", true },
    { "werror-stop-enospc", "write", ERR_ENOSPC, "werror=stop", true },
    { "werror-enospc", "write", ERR_ENOSPC, "werror=enospc", true },
    { "werror-enospc-eio", "write", ERR_EIO, "werror=enospc", false,
      NVME_WRITE_FAULT },
    { "werror-report", "write", ERR_EIO, "werror=report", false,
      NVME_WRITE_FAULT },
    { "werror-ignore", "write", ERR_EIO, "werror=ignore", false,
      NVME_SUCCESS },
    { "rerror-stop", "read", ERR_EIO, "rerror=stop", true },
    { "rerror-report", "read", ERR_EIO, "rerror=report,werror=stop", false,
      NVME_UNRECOVERED_READ },
    { "flush-werror-stop", "flush", ERR_EIO, "werror=stop", true },
    { "werror-stop-iothread", "write", ERR_EIO, "werror=stop", true, 0,
      "iothread=io0", IOTHREAD_ARGS },
    { "rerror-stop-iothread", "read", ERR_EIO, "rerror=stop", true, 0,
      "iothread=io0", IOTHREAD_ARGS },
    { "flush-werror-stop-iothread", "flush", ERR_EIO, "werror=stop", true, 0,
      "iothread=io0", IOTHREAD_ARGS },
};

static void check_status(QTestState *qts, const char *want, bool running)
{
    g_autoptr(QDict) r = qtest_qmp(qts, "{'execute': 'query-status'}");
    QDict *ret = qdict_get_qdict(r, "return");

    g_assert_cmpstr(qdict_get_str(ret, "status"), ==, want);
    g_assert_cmpint(qdict_get_bool(ret, "running"), ==, running);
}

/* The io-status query-block reports for drive d1 */
static char *io_status(QTestState *qts)
{
    g_autoptr(QDict) r = qtest_qmp(qts, "{'execute': 'query-block'}");
    QList *list = qdict_get_qlist(r, "return");
    QListEntry *ent;

    QLIST_FOREACH_ENTRY(list, ent) {
        QDict *d = qobject_to(QDict, qlist_entry_obj(ent));

        if (!strcmp(qdict_get_str(d, "device"), "d1")) {
            return g_strdup(qdict_get_try_str(d, "io-status") ?: "none");
        }
    }
    g_assert_not_reached();
}

/* No completion shows up on SQ 1's CQ while time passes */
static void check_quiet(Env *e)
{
    NvmeCqe cqe;

    for (int i = 0; i < QUIET_STEPS; i++) {
        qtest_clock_step(e->n->qts, e->n->step_ns);
        g_assert_false(cq_peek(e->n, 1, &cqe));
    }
}

/* Submit the command @sc's rule fails; returns its CID */
static uint16_t stop_submit(Env *e, const StopCase *sc)
{
    NvmeSqe c;

    if (!strcmp(sc->iotype, "flush")) {
        dirty(e);
        c = sqe_new(e->n, NVME_IO_FLUSH, 1);
    } else if (!strcmp(sc->iotype, "read")) {
        c = rw(e, NVME_IO_READ, FAULT_LBA, e->rbuf);
        qtest_memset(e->n->qts, e->rbuf, 0, XFER);
    } else {
        c = rw(e, NVME_IO_WRITE, FAULT_LBA, e->wbuf);
        fill(e->n, e->wbuf, XFER, 0x77);
    }
    sq_put(e->n, 1, &c);
    sq_ring(e->n, 1);
    return sqe_cid(&c);
}

/* With NVQEMU_PROBE: what the binary does, printed */
static void stop_probe(Env *e, const StopCase *sc)
{
    QTestState *qts = e->n->qts;
    g_autoptr(QDict) r = NULL;
    NvmeCqe cqe;
    bool done = false;

    for (int i = 0; i < 10 * QUIET_STEPS && !done; i++) {
        qtest_clock_step(qts, e->n->step_ns);
        done = cq_peek(e->n, 1, &cqe);
    }
    r = qtest_qmp(qts, "{'execute': 'query-status'}");
    g_test_message("%s: %s; status %s", sc->name,
                   done ? "completed" : "no completion",
                   qdict_get_str(qdict_get_qdict(r, "return"), "status"));
    if (done) {
        g_test_message("%s: completion status 0x%x", sc->name, cqe_sc(&cqe));
    }
}

static void test_stop(const void *opaque)
{
    const StopCase *sc = opaque;
    bool read = !strcmp(sc->iotype, "read");
    bool flush = !strcmp(sc->iotype, "flush");
    QTestState *qts;
    g_autoptr(QDict) ev = NULL;
    g_autofree char *ios = NULL;
    QDict *data;
    NvmeCqe cqe;
    uint16_t cid;
    Env *e;

    e = env_boot(NULL, 0, false, "", sc->ctrl_opts ?: "", sc->extra ?: "");
    g_assert_cmphex(do_write(e, FAULT_LBA, 0x5a), ==, NVME_SUCCESS);
    env_restart(e, rule_file(sc->iotype, sc->errno_val, true),
                sc->drive_opts, sc->ctrl_opts ?: "", sc->extra ?: "");
    qts = e->n->qts;

    cid = stop_submit(e, sc);
    if (probing()) {
        stop_probe(e, sc);
        env_free(e);
        return;
    }
    ev = qtest_qmp_eventwait_ref(qts, "BLOCK_IO_ERROR");
    data = qdict_get_qdict(ev, "data");
    g_assert_cmpstr(qdict_get_str(data, "device"), ==, "d1");
    g_assert_cmpstr(qdict_get_str(data, "operation"), ==,
                    read ? "read" : "write");
    g_assert_cmpint(qdict_get_try_bool(data, "nospace", false), ==,
                    sc->errno_val == ERR_ENOSPC);
    if (!sc->stops) {
        g_assert_cmpstr(qdict_get_str(data, "action"), ==,
                        sc->sc == NVME_SUCCESS ? "ignore" : "report");
        cq_wait_cid(e->n, 1, cid, &cqe);
        g_assert_cmphex(cqe_sc(&cqe), ==, sc->sc);
        check_status(qts, "running", true);
        check_val(errlog_entries(e), sc->sc != NVME_SUCCESS, "error log");
        env_free(e);
        return;
    }
    g_assert_cmpstr(qdict_get_str(data, "action"), ==, "stop");
    qtest_qmp_eventwait(qts, "STOP");
    check_status(qts, "io-error", false);
    ios = io_status(qts);
    g_assert_cmpstr(ios, ==,
                    sc->errno_val == ERR_ENOSPC ? "nospace" : "failed");
    /* held, not completed, while the VM is stopped */
    check_quiet(e);

    qtest_qmp_assert_success(qts, "{'execute': 'cont'}");
    qtest_qmp_eventwait(qts, "RESUME");
    cq_wait_cid(e->n, 1, cid, &cqe);
    g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
    /* exactly once */
    check_quiet(e);
    check_status(qts, "running", true);
    check_val(errlog_entries(e), 0, "error log entries");
    check_val(media_errors(e), 0, "media errors");

    /* the data: the write landed, the read returned the block */
    if (read) {
        fill(e->n, e->wbuf, XFER, 0x5a);
        g_assert_true(same(e->n, e->wbuf, e->rbuf, XFER));
    } else if (!flush) {
        g_assert_cmphex(do_read(e, FAULT_LBA), ==, NVME_SUCCESS);
        g_assert_true(same(e->n, e->wbuf, e->rbuf, XFER));
    }
    env_free(e);
}

/*
 * A controller reset (CC.EN=0, written while the VM is stopped) with a
 * command held for the error action: the reset does not wait for it; it
 * completes as Aborted due to SQ Deletion, posted by the reset as every
 * command the reset finds outstanding; nothing is posted after the reset
 * and `cont` runs nothing.
 */
static void test_stop_reset(void)
{
    QTestState *qts;
    StopCase sc = { "werror-stop", "write", ERR_EIO, "werror=stop", true };
    NvmeCqe cqe;
    uint16_t cid;
    Env *e;

    e = env_boot("write", ERR_EIO, true, "werror=stop", "", "");
    qts = e->n->qts;
    cid = stop_submit(e, &sc);
    qtest_qmp_eventwait(qts, "STOP");
    ctrl_disable(e->n);
    g_assert_true(cq_peek(e->n, 1, &cqe));
    g_assert_cmpuint(le16_to_cpu(cqe.cid), ==, cid);
    g_assert_cmphex(cqe_sc(&cqe), ==, NVME_ABORTED_SQ_DELETION);
    cq_pop(e->n, 1, false);
    qtest_qmp_assert_success(qts, "{'execute': 'cont'}");
    qtest_qmp_eventwait(qts, "RESUME");
    check_status(qts, "running", true);
    /* CQ memory untouched after the reset */
    check_quiet(e);
    /* the controller works again; the write was not done */
    ctrl_enable(e->n, 0);
    io_queues(e->n, 1);
    g_assert_cmphex(do_read(e, FAULT_LBA), ==, NVME_SUCCESS);
    qtest_memset(qts, e->wbuf, 0, XFER);
    g_assert_true(same(e->n, e->wbuf, e->rbuf, XFER));
    g_assert_cmphex(do_write(e, OTHER_LBA, 0x44), ==, NVME_SUCCESS);
    g_assert_cmphex(do_read(e, OTHER_LBA), ==, NVME_SUCCESS);
    g_assert_true(same(e->n, e->wbuf, e->rbuf, XFER));
    env_free(e);
}

/* ---- durability: SIGKILL after a completed Flush ------------------------ */

#define DURABLE_WRITES  4
#define DURABLE_STRIDE  128     /* blocks: 64 KiB, a new qcow2 cluster each */

/* Kill @e's QEMU with SIGKILL, as a host crash of the QEMU process would */
static void env_kill(Env *e)
{
    unlink(e->n->img);          /* nvme_boot_devices()'s own image */
    nvme_kill(e->n);
    e->n = NULL;
}

static int durable_trials(void)
{
    const char *env = g_getenv("NVQEMU_DURABLE_TRIALS");

    return env ? atoi(env) : DURABLE_TRIALS;
}

static uint64_t durable_lba(int trial, int w)
{
    return ((uint64_t)trial * DURABLE_WRITES + w) * DURABLE_STRIDE;
}

/*
 * @opaque names the format and cache mode.  Each trial writes
 * DURABLE_WRITES blocks of XFER bytes to blocks never written before,
 * sends a Flush and waits for its completion, then SIGKILLs QEMU; the
 * next trial runs in a new QEMU on the same image, and a last one reads
 * every block all trials wrote.  With NVQEMU_DURABLE_NOFLUSH=1
 * (a manual control run) the Flush is left out and the loss is only
 * reported.
 */
typedef struct DurableCase {
    const char *name;
    const char *fmt;
    const char *drive_opts;
} DurableCase;

static const DurableCase durable_cases[] = {
    { "raw-direct", "raw", "cache.direct=on" },
    { "raw-writeback", "raw", "cache=writeback" },
    { "qcow2-direct", "qcow2", "cache.direct=on" },
    { "qcow2-writeback", "qcow2", "cache=writeback" },
};

static void test_durable(const void *opaque)
{
    const DurableCase *dc = opaque;
    bool noflush = g_getenv("NVQEMU_DURABLE_NOFLUSH") != NULL;
    const char *qemu_img = g_getenv("QTEST_QEMU_IMG");
    int trials = durable_trials();
    uint64_t lost = 0;
    Env *e = g_new0(Env, 1);

    e->img = tmp_file("nvqemu-durable-XXXXXX.img", NULL,
                      strcmp(dc->fmt, "raw") ? 0 : IMG_SIZE);
    if (strcmp(dc->fmt, "raw")) {
        g_autofree char *cmd = NULL;

        if (!qemu_img) {
            g_test_skip("QTEST_QEMU_IMG not set");
            unlink(e->img);
            g_free(e->img);
            g_free(e);
            return;
        }
        cmd = g_strdup_printf("%s create -q -f %s %s %d", qemu_img, dc->fmt,
                              e->img, IMG_SIZE);
        g_assert_cmpint(system(cmd), ==, 0);
    }
    g_assert_cmpuint(durable_lba(trials, 0) * LBS, <=, IMG_SIZE);
    for (int t = 0; t < trials; t++) {
        env_start(e, dc->fmt, dc->drive_opts, "", "");
        for (int w = 0; w < DURABLE_WRITES; w++) {
            g_assert_cmphex(do_write(e, durable_lba(t, w),
                                     t * DURABLE_WRITES + w + 1), ==,
                            NVME_SUCCESS);
        }
        if (!noflush) {
            g_assert_cmphex(do_flush(e), ==, NVME_SUCCESS);
        }
        env_kill(e);
    }
    /* a new QEMU reads what every trial wrote */
    env_start(e, dc->fmt, dc->drive_opts, "", "");
    for (int p = 0; p < trials; p++) {
        for (int w = 0; w < DURABLE_WRITES; w++) {
            g_assert_cmphex(do_read(e, durable_lba(p, w)), ==, NVME_SUCCESS);
            fill(e->n, e->wbuf, XFER, p * DURABLE_WRITES + w + 1);
            if (!same(e->n, e->wbuf, e->rbuf, XFER)) {
                lost += XFER;
            }
        }
    }
    g_test_message("%s: %d trials (SIGKILL after %s), %" PRIu64
                   " of %d bytes lost", dc->name, trials,
                   noflush ? "the writes, no Flush" : "a completed Flush",
                   lost, trials * DURABLE_WRITES * XFER);
    if (!noflush) {
        g_assert_cmpuint(lost, ==, 0);
    }
    env_free(e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < ARRAY_SIZE(fault_cases); i++) {
        g_autofree char *path = g_strdup_printf("/nvme/fault/%s",
                                                fault_cases[i].name);

        qtest_add_data_func(path, &fault_cases[i], test_fault);
    }
    for (size_t i = 0; i < ARRAY_SIZE(stop_cases); i++) {
        g_autofree char *path = g_strdup_printf("/nvme/error-action/%s",
                                                stop_cases[i].name);

        qtest_add_data_func(path, &stop_cases[i], test_stop);
    }
    qtest_add_func("/nvme/error-action/reset-while-held", test_stop_reset);
    for (size_t i = 0; i < ARRAY_SIZE(durable_cases); i++) {
        g_autofree char *path = g_strdup_printf("/nvme/durable/%s",
                                                durable_cases[i].name);

        qtest_add_data_func(path, &durable_cases[i], test_durable);
    }
    return g_test_run();
}
