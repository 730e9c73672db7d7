/*
 * Live migration of the nvme controller (hw/block/nvme/vmstate.c): a
 * source and a destination QEMU on one machine, migrated over a unix
 * socket with QMP "migrate"; the test's host driver (nvqemu-nvme-host.c)
 * then goes on talking to the destination with the queues, buffers and
 * MSI-X vectors it set up on the source.
 *
 * What must hold: the registers, queues, shadow doorbells, features,
 * outstanding AERs, namespace formats and data are the same on the
 * destination; a command rung before the VM stopped completes exactly
 * once, before the stop or on the destination; commands in the block
 * layer when migration starts (a slow null-co backend) complete before
 * the device state is saved; commands a werror=/rerror=stop error action
 * holds on the source (a blkdebug rule fails them there, the destination's
 * drive has no rule) complete once on the destination after `cont`, and a
 * destination that cannot take them refuses the stream.
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
#include "nvqemu-nvdimm-dsm.h"

#define NSID            1
#define LBA_SIZE        512u
#define IO_BLOCKS       8u
#define IO_BYTES        (IO_BLOCKS * LBA_SIZE)
#define SLOW_NS         200000000       /* null-co latency: 200 ms */
#define MIG_BANDWIDTH   (64ll << 30)    /* bytes/s: no cap in practice */
/* longer than the RAM copy, so that the migration's stop finds them */
#define SLOWER_NS       2000000000u     /* 2 s */
#define NSLOW           8
/* Set Features values the destination must keep */
#define ARB_VALUE       0x03020103u     /* HPW 3, MPW 2, LPW 1, AB 3 */
#define IRQC_VALUE      0x0000ff04u     /* TIME 255 (25.5 ms), THR 4 */
#define KATO_MS         600000u
#define SMART_WARN_SPARE 0x01
#define MIG_SERIAL      "nvqmig"
/* commands held by the drive's error action (werror=/rerror=stop) */
#define HELD_LBA        64      /* the block the source's rule fails */
#define HELD_SEED       0x3c
#define HELD_BUF        4       /* n->buf + HELD_BUF * IO_BYTES onwards */
#define HELD_PER_SQ     3
#define HELD_SQS        2

typedef struct Mig {
    Nvme *n;
    char *cmdline;      /* the same for every destination */
    int generation;     /* migrations done */
} Mig;

static char *mig_socket(void)
{
    return g_strdup_printf("%s/nvqemu-mig-%d.sock", g_get_tmp_dir(),
                           (int)getpid());
}

/* The machine's command line with -drive @d0 */
static char *mig_cmdline(const char *d0, const char *ctrl_opts,
                         const char *extra)
{
    return g_strdup_printf("-nodefaults %s -device nvme,id=nvme0,addr=04.0,"
                           "drive=d0,serial=" MIG_SERIAL "%s%s %s", d0,
                           *ctrl_opts ? "," : "", ctrl_opts,
                           extra ? extra : "");
}

/*
 * A pc machine with nvme0 at DEVFN: on a 16 MiB raw image (d0) unless
 * @drive gives another -drive for d0; @ctrl_opts more nvme properties,
 * @extra more command line (an nvme-ns, an iothread).  With @src_file,
 * the source reads the image through it (a blkdebug filename with a
 * "%s" for the image) and @drive_opts; the destinations without it.
 */
static Mig *mig_boot_on(const char *drive, const char *src_file,
                        const char *drive_opts, const char *ctrl_opts,
                        const char *extra)
{
    Mig *m = g_new0(Mig, 1);
    Nvme *n = g_new0(Nvme, 1);
    int fd = g_file_open_tmp("nvqemu-mig-XXXXXX.img", &n->img, NULL);
    g_autofree char *d0 = NULL;
    g_autofree char *src = NULL;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, IMG_SIZE), ==, 0);
    close(fd);
    d0 = drive ? g_strdup(drive)
               : g_strdup_printf("-drive id=d0,if=none,format=raw,file=%s%s",
                                 n->img, drive_opts);
    m->cmdline = mig_cmdline(d0, ctrl_opts, extra);
    if (src_file) {
        g_autofree char *file = g_strdup_printf(src_file, n->img);
        g_autofree char *d0_src = g_strdup_printf(
            "-drive id=d0,if=none,format=raw,file=%s%s", file, drive_opts);

        src = mig_cmdline(d0_src, ctrl_opts, extra);
    }
    n->qs = qtest_pc_boot("%s", src ? src : m->cmdline);
    nvme_attach(n, DEVFN);
    m->n = n;
    return m;
}

static Mig *mig_boot(const char *drive, const char *ctrl_opts,
                     const char *extra)
{
    return mig_boot_on(drive, NULL, "", ctrl_opts, extra);
}

static void mig_free(Mig *m)
{
    nvme_free(m->n);
    g_free(m->cmdline);
    g_free(m);
}

static const char *qmp_status(QTestState *qts, const char *cmd,
                              const char *key, QDict **keep)
{
    QDict *r = qtest_qmp(qts, "{'execute': %s}", cmd);
    QDict *ret;

    g_assert_true(qdict_haskey(r, "return"));
    ret = qdict_get_qdict(r, "return");
    *keep = r;
    return qdict_haskey(ret, key) ? qdict_get_str(ret, key) : "";
}

static bool vm_running(QTestState *qts)
{
    QDict *r = qtest_qmp(qts, "{'execute': 'query-status'}");
    bool running = qdict_get_bool(qdict_get_qdict(r, "return"), "running");

    qobject_unref(r);
    return running;
}

/*
 * Wait until QMP @cmd reports a "status" among @want (NULL-terminated);
 * returns its index there
 */
static int wait_status(QTestState *qts, const char *cmd,
                       const char *const *want)
{
    int64_t deadline = g_get_monotonic_time() + WAIT_US;

    for (;;) {
        QDict *r;
        const char *st = qmp_status(qts, cmd, "status", &r);
        int i = 0;

        while (want[i] && strcmp(st, want[i])) {
            i++;
        }
        qobject_unref(r);
        if (want[i]) {
            return i;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
}

static const char *const migration_end[] = {
    "completed", "failed", "cancelled", NULL
};

/*
 * Migrate @src to a new QEMU started with @cmdline, which it returns; @src
 * is gone.  The destination runs if the source ran.  @ready(@opaque), if
 * given, runs once the destination listens, right before "migrate".
 */
static QTestState *migrate_qts_at(QTestState *src, const char *cmdline,
                                  void (*ready)(void *), void *opaque)
{
    g_autofree char *sock = mig_socket();
    g_autofree char *uri = g_strdup_printf("unix:%s", sock);
    bool was_running = vm_running(src);
    QDict *st_keep;
    /* paused, or io-error with commands held for the error action */
    g_autofree char *src_state = g_strdup(qmp_status(src, "query-status",
                                                     "status", &st_keep));
    QTestState *dst;

    unlink(sock);
    dst = qtest_initf("%s -incoming %s", cmdline, uri);
    /* no bandwidth cap (128 MiB/s by default): the RAM copy is short */
    qtest_qmp_assert_success(src, "{'execute': 'migrate-set-parameters', "
                             "'arguments': {'max-bandwidth': %" PRId64 "}}",
                             (int64_t)MIG_BANDWIDTH);
    if (ready) {
        ready(opaque);
    }
    qtest_qmp_assert_success(src, "{'execute': 'migrate', 'arguments': "
                             "{'uri': %s}}", uri);
    g_assert_cmpint(wait_status(src, "query-migrate", migration_end), ==,
                    0);
    if (was_running) {
        int64_t deadline = g_get_monotonic_time() + WAIT_US;

        while (!vm_running(dst)) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            g_usleep(1000);
        }
    } else {
        /* loaded, and left stopped as the source was */
        const char *const stopped[] = { src_state, NULL };

        wait_status(dst, "query-status", stopped);
    }
    qobject_unref(st_keep);
    qtest_quit(src);
    unlink(sock);
    return dst;
}

static QTestState *migrate_qts(QTestState *src, const char *cmdline)
{
    return migrate_qts_at(src, cmdline, NULL, NULL);
}

/*
 * Migrate the machine to a new QEMU; the host driver follows it.
 * @ready: see migrate_qts_at().
 */
static void mig_move_at(Mig *m, void (*ready)(void *), void *opaque)
{
    Nvme *n = m->n;
    QTestState *dst = migrate_qts_at(n->qts, m->cmdline, ready, opaque);

    n->qts = n->qs->qts = dst;
    n->qs->pcibus->qts = dst;
    m->generation++;
}

static void mig_move(Mig *m)
{
    mig_move_at(m, NULL, NULL);
}

static void vm_stop(Nvme *n)
{
    qtest_qmp_assert_success(n->qts, "{'execute': 'stop'}");
}

static void vm_cont(Nvme *n)
{
    qtest_qmp_assert_success(n->qts, "{'execute': 'cont'}");
}

/* Write @seed's pattern to blocks @slba.. and read it back into buf */
static void write_blocks(Nvme *n, uint64_t slba, uint8_t seed)
{
    NvmeSqe c = rw_cmd(n, NVME_IO_WRITE, slba, IO_BLOCKS);

    fill(n, n->buf, IO_BYTES, seed);
    set_prps(n, &c, n->buf, IO_BYTES, 0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
}

static void check_blocks(Nvme *n, uint64_t slba, uint8_t seed)
{
    uint64_t rd = n->buf + 2 * IO_BYTES;
    NvmeSqe c = rw_cmd(n, NVME_IO_READ, slba, IO_BLOCKS);

    fill(n, n->buf + IO_BYTES, IO_BYTES, seed);
    qtest_memset(n->qts, rd, 0, IO_BYTES);
    set_prps(n, &c, rd, IO_BYTES, 0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    g_assert_true(same(n, n->buf + IO_BYTES, rd, IO_BYTES));
}

/* Every queued CQE of I/O queue @qid is one of @cids, each exactly once */
static void expect_cids_on(Nvme *n, unsigned qid, const uint16_t *cids,
                           unsigned count)
{
    g_autofree bool *seen = g_new0(bool, count);
    NvmeCqe cqe;

    for (unsigned got = 0; got < count; got++) {
        unsigned i;

        cq_wait(n, qid, &cqe);
        g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
        for (i = 0; i < count; i++) {
            if (cids[i] == le16_to_cpu(cqe.cid)) {
                break;
            }
        }
        g_assert_cmpuint(i, <, count);
        g_assert_false(seen[i]);
        seen[i] = true;
    }
    /* and nothing more: no completion posted twice */
    qtest_clock_step(n->qts, n->step_ns);
    g_assert_false(cq_peek(n, qid, &cqe));
}

static void expect_cids(Nvme *n, const uint16_t *cids, unsigned count)
{
    expect_cids_on(n, 1, cids, count);
}

/* ---- cases --------------------------------------------------------------- */

/* A controller enabled with nothing else: registers survive */
static void test_idle(void)
{
    Mig *m = mig_boot(NULL, "", NULL);
    Nvme *n = m->n;
    uint32_t cc;
    NvmeIdCtrl id;

    ctrl_enable(n, 0);
    cc = rd32(n, NVME_REG_CC);
    mig_move(m);
    g_assert_cmphex(rd32(n, NVME_REG_CC), ==, cc);
    g_assert_cmpuint(FIELD_EX32(rd32(n, NVME_REG_CSTS), NVME_CSTS, RDY), ==,
                     1);
    identify_read(n, NVME_CNS_CTRL, 0, &id, sizeof(id));
    g_assert_cmpmem(id.sn, strlen("nvqmig"), "nvqmig", strlen("nvqmig"));
    mig_free(m);
}

/* A disabled controller (never enabled) migrates and enables after */
static void test_disabled(void)
{
    Mig *m = mig_boot(NULL, "", NULL);

    mig_move(m);
    ctrl_enable(m->n, 0);
    io_queues(m->n, 1);
    write_blocks(m->n, 0, 7);
    check_blocks(m->n, 0, 7);
    mig_free(m);
}

/* Data written before, read after; I/O queues go on where they were */
static void data_case(const char *ctrl_opts, const char *extra)
{
    Mig *m = mig_boot(NULL, ctrl_opts, extra);
    Nvme *n = m->n;

    ctrl_enable(n, 0);
    io_queues(n, 2);
    write_blocks(n, 0, 1);
    write_blocks(n, 64, 2);
    mig_move(m);
    check_blocks(n, 0, 1);
    check_blocks(n, 64, 2);
    write_blocks(n, 128, 3);
    check_blocks(n, 128, 3);
    mig_free(m);
}

static void test_data(void)
{
    data_case("", NULL);
}

static void test_data_iothread(void)
{
    data_case("iothread=io0", "-object iothread,id=io0");
}

/* Back and forth several times, with I/O between */
static void test_many(void)
{
    Mig *m = mig_boot(NULL, "", NULL);
    Nvme *n = m->n;

    ctrl_enable(n, 0);
    io_queues(n, 1);
    for (unsigned i = 0; i < 4; i++) {
        write_blocks(n, 16 * i, 10 + i);
        mig_move(m);
        for (unsigned j = 0; j <= i; j++) {
            check_blocks(n, 16 * j, 10 + j);
        }
    }
    g_assert_cmpint(m->generation, ==, 4);
    mig_free(m);
}

/*
 * Commands written and rung while the VM is stopped (so not fetched):
 * the destination fetches them from guest RAM when it runs, once
 */
static void rung_case(const char *ctrl_opts, const char *extra)
{
    Mig *m = mig_boot(NULL, ctrl_opts, extra);
    Nvme *n = m->n;
    uint16_t cids[4];
    NvmeCqe cqe;

    ctrl_enable(n, 0);
    io_queues(n, 1);
    write_blocks(n, 0, 5);
    vm_stop(n);
    for (unsigned i = 0; i < ARRAY_SIZE(cids); i++) {
        NvmeSqe c = rw_cmd(n, NVME_IO_READ, 0, IO_BLOCKS);

        set_prps(n, &c, n->buf + i * IO_BYTES, IO_BYTES, 0);
        cids[i] = sqe_cid(&c);
        sq_put(n, 1, &c);
    }
    sq_ring(n, 1);
    /* nothing happens while the VM is stopped */
    g_assert_false(cq_peek(n, 1, &cqe));
    mig_move(m);
    g_assert_false(vm_running(n->qts));
    vm_cont(n);
    expect_cids(n, cids, ARRAY_SIZE(cids));
    check_blocks(n, 0, 5);
    mig_free(m);
}

static void test_rung(void)
{
    rung_case("", NULL);
}

static void test_rung_iothread(void)
{
    rung_case("iothread=io0", "-object iothread,id=io0");
}

/*
 * Commands in the block layer (200 ms or 2 s each on null-co) when the VM
 * stops (@stop: a QMP stop first, else the migration's own): the stop
 * waits for them and posts their completions, which reach the guest
 * exactly once
 */
static void ring_io_sq(void *opaque)
{
    sq_ring(opaque, 1);
}

static void inflight_case(const char *ctrl_opts, const char *extra,
                          bool stop)
{
    g_autofree char *drive = g_strdup_printf(
        "-drive id=d0,if=none,driver=null-co,size=%u,latency-ns=%u,"
        "read-zeroes=on", IMG_SIZE, stop ? SLOW_NS : SLOWER_NS);
    Mig *m = mig_boot(drive, ctrl_opts, extra);
    Nvme *n = m->n;
    uint16_t cids[NSLOW];

    ctrl_enable(n, 0);
    io_queues(n, 1);
    for (unsigned i = 0; i < NSLOW; i++) {
        NvmeSqe c = rw_cmd(n, NVME_IO_READ, i * IO_BLOCKS, IO_BLOCKS);

        set_prps(n, &c, n->buf + (i % 4) * IO_BYTES, IO_BYTES, 0);
        cids[i] = sqe_cid(&c);
        sq_put(n, 1, &c);
    }
    if (stop) {
        NvmeCqe cqe;

        sq_ring(n, 1);
        vm_stop(n);
        /* the stop returned: the completions are in guest RAM already */
        g_assert_true(cq_peek(n, 1, &cqe));
        mig_move(m);
        vm_cont(n);
    } else {
        /* rung once the destination listens: in flight when it stops */
        mig_move_at(m, ring_io_sq, n);
    }
    expect_cids(n, cids, NSLOW);
    mig_free(m);
}

static void test_inflight(void)
{
    inflight_case("", NULL, false);
}

static void test_inflight_stop(void)
{
    inflight_case("", NULL, true);
}

static void test_inflight_iothread(void)
{
    inflight_case("iothread=io0", "-object iothread,id=io0", false);
}

static void test_inflight_stop_iothread(void)
{
    inflight_case("iothread=io0", "-object iothread,id=io0", true);
}

/*
 * Commands held by the drive's error action: a blkdebug rule fails them
 * with EIO on the source (werror=/rerror=stop stops the VM, io-error);
 * the destination's drive has no rule.  The migration carries them and
 * `cont` on the destination executes them again from their SQEs: one
 * successful completion each, the data where it belongs.
 */

/*
 * A blkdebug filename (with a "%s" for the image) failing requests of
 * @iotype (read, write) with EIO: those touching HELD_LBA, once, or
 * (@every) every one.  *@conf: the rule file, to unlink.
 */
static char *held_blkdebug(const char *iotype, bool every, char **conf)
{
    g_autofree char *rule = g_strdup_printf(
        "[inject-error]\n"
        "event = \"%s_aio\"\n"
        "iotype = \"%s\"\n"
        "errno = \"%d\"\n"
        "once = \"%s\"\n"
        "%s",
        iotype, iotype, EIO, every ? "off" : "on",
        every ? "" : "sector = \"" stringify(HELD_LBA) "\"\n");
    int fd = g_file_open_tmp("nvqemu-mig-XXXXXX.conf", conf, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, rule, strlen(rule)), ==, strlen(rule));
    close(fd);
    return g_strdup_printf("blkdebug:%s:%%s", *conf);
}

static void check_state(QTestState *qts, const char *want)
{
    QDict *r;

    g_assert_cmpstr(qmp_status(qts, "query-status", "status", &r), ==,
                    want);
    qobject_unref(r);
}

/* Counts BLOCK_IO_ERROR events, each with the action stop */
static bool held_count_event(QTestState *qts, const char *name, QDict *ev,
                             void *opaque)
{
    unsigned *count = opaque;

    if (strcmp(name, "BLOCK_IO_ERROR")) {
        return false;
    }
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(ev, "data"), "action"),
                    ==, "stop");
    (*count)++;
    return true;
}

/*
 * Wait for the error action's stop (io-error); by then @nerrors commands
 * failed, each with its BLOCK_IO_ERROR, and nothing is in flight (the
 * stop waited for it)
 */
static void held_stopped(Nvme *n, unsigned nerrors)
{
    static const char *const io_error[] = { "io-error", NULL };
    unsigned got = 0;

    qtest_qmp_set_event_callback(n->qts, held_count_event, &got);
    wait_status(n->qts, "query-status", io_error);
    qtest_qmp_set_event_callback(n->qts, NULL, NULL);
    g_assert_cmpuint(got, ==, nerrors);
}

/* What the image file holds at block @slba, @len bytes */
static void image_read(Nvme *n, uint64_t slba, void *out, size_t len)
{
    int fd = open(n->img, O_RDONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, out, len, slba * LBA_SIZE), ==, len);
    close(fd);
}

static void held_case(bool read, const char *ctrl_opts, const char *extra)
{
    g_autofree char *conf = NULL;
    g_autofree char *file = held_blkdebug(read ? "read" : "write", false,
                                          &conf);
    Mig *m = mig_boot_on(NULL, file, read ? ",rerror=stop" : ",werror=stop",
                         ctrl_opts, extra);
    Nvme *n = m->n;
    uint64_t buf = n->buf + HELD_BUF * IO_BYTES;
    uint64_t want = buf + IO_BYTES;
    g_autofree uint8_t *guest = g_malloc(IO_BYTES);
    g_autofree uint8_t *disk = g_malloc(IO_BYTES);
    NvmeSqe c = rw_cmd(n, read ? NVME_IO_READ : NVME_IO_WRITE, HELD_LBA,
                       IO_BLOCKS);
    uint16_t cid = sqe_cid(&c);
    NvmeCqe cqe;

    ctrl_enable(n, 0);
    io_queues(n, 1);
    if (read) {
        /* the rule fails reads only: the block to read back */
        write_blocks(n, HELD_LBA, HELD_SEED);
        fill(n, want, IO_BYTES, HELD_SEED);
        qtest_memset(n->qts, buf, 0, IO_BYTES);
    } else {
        fill(n, buf, IO_BYTES, HELD_SEED);
    }
    set_prps(n, &c, buf, IO_BYTES, 0);
    sq_put(n, 1, &c);
    sq_ring(n, 1);
    held_stopped(n, 1);
    g_assert_false(cq_peek(n, 1, &cqe));

    mig_move(m);
    /* held on the destination too, until `cont` */
    check_state(n->qts, "io-error");
    qtest_clock_step(n->qts, n->step_ns);
    g_assert_false(cq_peek(n, 1, &cqe));
    vm_cont(n);
    expect_cids(n, &cid, 1);
    if (read) {
        g_assert_true(same(n, want, buf, IO_BYTES));
    } else {
        /* on the backing file itself */
        qtest_memread(n->qts, buf, guest, IO_BYTES);
        image_read(n, HELD_LBA, disk, IO_BYTES);
        g_assert_cmpmem(disk, IO_BYTES, guest, IO_BYTES);
    }
    check_state(n->qts, "running");
    mig_free(m);
    unlink(conf);
}

static void test_held_write(void)
{
    held_case(false, "", NULL);
}

static void test_held_read(void)
{
    held_case(true, "", NULL);
}

static void test_held_write_iothread(void)
{
    held_case(false, "iothread=io0", "-object iothread,id=io0");
}

static void test_held_read_iothread(void)
{
    held_case(true, "iothread=io0", "-object iothread,id=io0");
}

/*
 * Every write fails on the source: HELD_PER_SQ writes on each of HELD_SQS
 * SQs, rung while the VM is stopped so that the engine fetches them all
 * in one run when it goes on, are all held when the error action's stop
 * is done; they go through two migrations before `cont`
 */
static Mig *held_many_boot(uint16_t cids[HELD_SQS][HELD_PER_SQ],
                           char **conf)
{
    g_autofree char *file = held_blkdebug("write", true, conf);
    Mig *m = mig_boot_on(NULL, file, ",werror=stop", "", NULL);
    Nvme *n = m->n;

    ctrl_enable(n, 0);
    io_queues(n, HELD_SQS);
    vm_stop(n);
    for (unsigned q = 0; q < HELD_SQS; q++) {
        for (unsigned i = 0; i < HELD_PER_SQ; i++) {
            unsigned k = q * HELD_PER_SQ + i;
            uint64_t buf = n->buf + (HELD_BUF + k) * IO_BYTES;
            NvmeSqe c = rw_cmd(n, NVME_IO_WRITE, HELD_LBA + k * IO_BLOCKS,
                               IO_BLOCKS);

            fill(n, buf, IO_BYTES, HELD_SEED + k);
            set_prps(n, &c, buf, IO_BYTES, 0);
            cids[q][i] = sqe_cid(&c);
            sq_put(n, 1 + q, &c);
        }
    }
    for (unsigned q = 0; q < HELD_SQS; q++) {
        sq_ring(n, 1 + q);
    }
    vm_cont(n);
    held_stopped(n, HELD_SQS * HELD_PER_SQ);
    return m;
}

static void test_held_many(void)
{
    uint16_t cids[HELD_SQS][HELD_PER_SQ];
    g_autofree char *conf = NULL;
    Mig *m = held_many_boot(cids, &conf);
    Nvme *n = m->n;
    g_autofree uint8_t *guest = g_malloc(IO_BYTES);
    g_autofree uint8_t *disk = g_malloc(IO_BYTES);

    /* two hops before `cont`: a destination passes them on as it got them */
    for (unsigned hop = 0; hop < 2; hop++) {
        NvmeCqe cqe;

        mig_move(m);
        check_state(n->qts, "io-error");
        for (unsigned q = 0; q < HELD_SQS; q++) {
            g_assert_false(cq_peek(n, 1 + q, &cqe));
        }
    }
    vm_cont(n);
    for (unsigned q = 0; q < HELD_SQS; q++) {
        expect_cids_on(n, 1 + q, cids[q], HELD_PER_SQ);
    }
    for (unsigned k = 0; k < HELD_SQS * HELD_PER_SQ; k++) {
        qtest_memread(n->qts, n->buf + (HELD_BUF + k) * IO_BYTES, guest,
                      IO_BYTES);
        image_read(n, HELD_LBA + k * IO_BLOCKS, disk, IO_BYTES);
        g_assert_cmpmem(disk, IO_BYTES, guest, IO_BYTES);
    }
    mig_free(m);
    unlink(conf);
}

/* Where @needle is in @hay (@len bytes), or NULL */
static uint8_t *find_bytes(uint8_t *hay, size_t len, const char *needle)
{
    size_t nlen = strlen(needle);

    for (size_t i = 0; i + nlen <= len; i++) {
        if (!memcmp(hay + i, needle, nlen)) {
            return hay + i;
        }
    }
    return NULL;
}

/*
 * A stream (saved to a file) whose "held" subsection is patched: @at bytes
 * after the subsection's name (its version (4) and count (4), then the
 * first command's SQ id (2)), @width bytes of big-endian @value.  The
 * destination refuses it with @want (a message naming the problem, "%u"
 * standing for the held command's CID) and does not crash.
 */
typedef struct HeldPatch {
    size_t at;
    unsigned width;
    uint32_t value;
    const char *want;
} HeldPatch;

#define HELD_SUB        "nvqemu-nvme/state/held"
#define HELD_AT_COUNT   4
#define HELD_AT_SQID    8

static void held_refused_case(const HeldPatch *p)
{
    g_autofree char *conf = NULL;
    g_autofree char *file = held_blkdebug("write", false, &conf);
    Mig *m = mig_boot_on(NULL, file, ",werror=stop", "", NULL);
    Nvme *n = m->n;
    g_autofree char *stream = NULL, *log = NULL, *uri = NULL;
    g_autofree char *err = NULL, *want = NULL;
    g_autofree uint8_t *bytes = NULL;
    NvmeSqe c = rw_cmd(n, NVME_IO_WRITE, HELD_LBA, IO_BLOCKS);
    QTestState *dst;
    uint8_t *at;
    size_t len;
    int fd;

    ctrl_enable(n, 0);
    io_queues(n, 1);
    set_prps(n, &c, n->buf, IO_BYTES, 0);
    sq_put(n, 1, &c);
    sq_ring(n, 1);
    held_stopped(n, 1);

    fd = g_file_open_tmp("nvqemu-mig-XXXXXX.stream", &stream, NULL);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    uri = g_strdup_printf("file:%s", stream);
    qtest_qmp_assert_success(n->qts, "{'execute': 'migrate', 'arguments': "
                             "{'uri': %s}}", uri);
    g_assert_cmpint(wait_status(n->qts, "query-migrate", migration_end), ==,
                    0);
    g_assert_true(g_file_get_contents(stream, (char **)&bytes, &len, NULL));
    at = find_bytes(bytes, len, HELD_SUB);
    g_assert_nonnull(at);
    at += strlen(HELD_SUB) + p->at;
    g_assert_cmpuint(at + p->width - bytes, <=, len);
    /* what the source wrote there: one command, on SQ 1 */
    g_assert_cmpuint(p->width == 2 ? lduw_be_p(at) : ldl_be_p(at), ==, 1);
    if (p->width == 2) {
        stw_be_p(at, p->value);
    } else {
        stl_be_p(at, p->value);
    }
    g_assert_true(g_file_set_contents(stream, (char *)bytes, len, NULL));

    fd = g_file_open_tmp("nvqemu-stderr-XXXXXX", &log, NULL);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    /* (libqtest starts QEMU through "/bin/sh -c": only QEMU's stderr) */
    dst = qtest_initf("%s -incoming defer 2>%s", m->cmdline, log);
    qtest_qmp_assert_success(dst, "{'execute': 'migrate-incoming', "
                             "'arguments': {'uri': %s, "
                             "'exit-on-error': false}}", uri);
    g_assert_cmpint(wait_status(dst, "query-migrate", migration_end), ==, 1);
    qtest_quit(dst);
    g_assert_true(g_file_get_contents(log, &err, NULL, NULL));
    want = g_strdup_printf(p->want, sqe_cid(&c));
    if (!strstr(err, want)) {
        g_test_message("destination's stderr: %s", err);
    }
    g_assert_nonnull(strstr(err, want));
    mig_free(m);
    unlink(stream);
    unlink(log);
    unlink(conf);
}

/* A held command on an SQ the destination does not have */
static void test_held_refused(void)
{
    held_refused_case(&(HeldPatch) {
        HELD_AT_SQID, 2, 7, "nvme migration: " MIG_SERIAL ": command held "
        "for the error action (cid %u) on SQ 7, which does not exist" });
}

/* ... on the admin SQ, where no source holds one */
static void test_held_admin(void)
{
    held_refused_case(&(HeldPatch) {
        HELD_AT_SQID, 2, 0, "nvme migration: " MIG_SERIAL ": admin command "
        "(cid %u) held for the error action" });
}

/*
 * A count of held commands no source can send (it sized an allocation
 * before it was checked: g_malloc() aborted the destination)
 */
static void test_held_count(void)
{
    held_refused_case(&(HeldPatch) {
        HELD_AT_COUNT, 4, INT32_MAX, "nvme migration: " MIG_SERIAL ": "
        "2147483647 held commands in the stream, at most " });
    held_refused_case(&(HeldPatch) {
        HELD_AT_COUNT, 4, UINT32_MAX, "nvme migration: " MIG_SERIAL ": "
        "-1 held commands in the stream, at most " });
}

/* Shadow doorbells: on after migration, with a tail rung through them */
static void test_shadow(void)
{
    Mig *m = mig_boot(NULL, "", NULL);
    Nvme *n = m->n;
    uint64_t dbs, eis;
    NvmeSqe c;
    uint16_t cid;

    ctrl_enable(n, 0);
    dbs = nvme_alloc(n, PAGE);
    eis = nvme_alloc(n, PAGE);
    qtest_memset(n->qts, dbs, 0, PAGE);
    qtest_memset(n->qts, eis, 0, PAGE);
    c = sqe_new(n, NVME_ADM_DBBUF_CONFIG, 0);
    c.dptr[0] = cpu_to_le64(dbs);
    c.dptr[1] = cpu_to_le64(eis);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_SUCCESS);
    n->shadow = dbs;
    io_queues(n, 1);
    write_blocks(n, 0, 9);

    /* a command given through the shadow only, while stopped */
    vm_stop(n);
    c = rw_cmd(n, NVME_IO_READ, 0, IO_BLOCKS);
    set_prps(n, &c, n->buf, IO_BYTES, 0);
    cid = sqe_cid(&c);
    sq_put(n, 1, &c);
    qtest_writel(n->qts, shadow_slot(n, dbs, 1, false), n->sq[1].tail);
    mig_move(m);
    /* the shadow values are the host's, not rewritten by the load */
    g_assert_cmpuint(qtest_readl(n->qts, shadow_slot(n, dbs, 1, false)), ==,
                     n->sq[1].tail);
    vm_cont(n);
    /* the MMIO doorbell tells the engine to look (value from the shadow) */
    wr32(n, sq_db(n, 1), n->sq[1].tail);
    expect_cids(n, &cid, 1);
    /* and it goes on through the shadow buffer */
    check_blocks(n, 0, 9);
    write_blocks(n, 32, 11);
    check_blocks(n, 32, 11);
    mig_free(m);
}

/* An AER outstanding on the source completes on the destination */
static void test_aer(void)
{
    Mig *m = mig_boot(NULL, "", NULL);
    Nvme *n = m->n;
    NvmeSqe aer;
    NvmeCqe cqe;
    QDict *r;

    ctrl_enable(n, 0);
    io_queues(n, 1);
    aer = sqe_new(n, NVME_ADM_ASYNC_EVENT, 0);
    sq_put(n, 0, &aer);
    sq_ring(n, 0);
    qtest_clock_step(n->qts, n->step_ns);
    g_assert_false(cq_peek(n, 0, &cqe));
    mig_move(m);
    g_assert_false(cq_peek(n, 0, &cqe));
    /* an error event: the doorbell of a queue that does not exist */
    wr32(n, sq_db(n, 5), 1);
    cq_wait_cid(n, 0, sqe_cid(&aer), &cqe);
    g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
    g_assert_cmphex(le32_to_cpu(cqe.dw0), ==,
                    (NVME_LOG_ERROR << 16) |
                    (NVME_AER_ERR_INVALID_DB_REG << 8) | NVME_AER_TYPE_ERROR);
    /* the injected SMART warning migrates too */
    r = qtest_qmp(n->qts, "{'execute': 'qom-set', 'arguments': {"
                  "'path': '/machine/peripheral/nvme0', "
                  "'property': 'smart_critical_warning', 'value': %d}}",
                  SMART_WARN_SPARE);
    g_assert_true(qdict_haskey(r, "return"));
    qobject_unref(r);
    mig_move(m);
    g_assert_cmpint(nvme_qom_get_int(n, "smart_critical_warning"), ==,
                    SMART_WARN_SPARE);
    mig_free(m);
}

/* Set Features values (arbitration, coalescing, keep alive) survive */
static void test_features(void)
{
    Mig *m = mig_boot(NULL, "", NULL);
    Nvme *n = m->n;
    uint32_t v;

    ctrl_enable(n, 1);      /* weighted round robin */
    g_assert_cmphex(set_feature(n, NVME_FEAT_ARBITRATION, ARB_VALUE, NULL),
                    ==, NVME_SUCCESS);
    g_assert_cmphex(set_feature(n, NVME_FEAT_IRQ_COALESCING, IRQC_VALUE,
                                NULL), ==, NVME_SUCCESS);
    g_assert_cmphex(set_feature(n, NVME_FEAT_KEEP_ALIVE, KATO_MS, NULL), ==,
                    NVME_SUCCESS);
    io_queues(n, 1);
    mig_move(m);
    g_assert_cmphex(get_feature(n, NVME_FEAT_ARBITRATION, 0, &v), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(v, ==, ARB_VALUE);
    g_assert_cmphex(get_feature(n, NVME_FEAT_IRQ_COALESCING, 0, &v), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(v, ==, IRQC_VALUE);
    g_assert_cmphex(get_feature(n, NVME_FEAT_KEEP_ALIVE, 0, &v), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(v, ==, KATO_MS);
    g_assert_cmpuint(FIELD_EX32(rd32(n, NVME_REG_CC), NVME_CC, AMS), ==, 1);
    /* coalesced completions still reach the host (timer re-armed) */
    write_blocks(n, 0, 4);
    check_blocks(n, 0, 4);
    mig_free(m);
}

/* A namespace with metadata and PI, formatted on the source */
static void test_pi_format(void)
{
    g_autofree char *img = NULL;
    int fd = g_file_open_tmp("nvqemu-mig-ns-XXXXXX.img", &img, NULL);
    g_autofree char *extra = NULL;
    Mig *m;
    Nvme *n;
    NvmeIdNs id, id2;
    NvmeSqe c;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, IMG_SIZE), ==, 0);
    close(fd);
    extra = g_strdup_printf("-drive id=d1,if=none,format=raw,file=%s "
                            "-device nvme-ns,drive=d1,nsid=2,ms=8,pi=1",
                            img);
    m = mig_boot(NULL, "", extra);
    n = m->n;
    ctrl_enable(n, 0);
    identify_read(n, NVME_CNS_NS, 2, &id, sizeof(id));
    g_assert_cmphex(id.dps & 7, ==, 1);
    /* Format NVM: the same LBA format, PI off; the destination follows */
    c = sqe_new(n, NVME_ADM_FORMAT_NVM, 2);
    c.cdw10 = cpu_to_le32(id.flbas & 0xf);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_SUCCESS);
    identify_read(n, NVME_CNS_NS, 2, &id, sizeof(id));
    mig_move(m);
    identify_read(n, NVME_CNS_NS, 2, &id2, sizeof(id2));
    g_assert_cmphex(id2.flbas, ==, id.flbas);
    g_assert_cmphex(id2.dps, ==, id.dps);
    g_assert_cmphex(id2.dps & 7, ==, 0);
    g_assert_cmpuint(le64_to_cpu(id2.nsze), ==, le64_to_cpu(id.nsze));
    mig_free(m);
    unlink(img);
}

/* A destination with other queue counts refuses the stream */
static void test_refused(void)
{
    Mig *m = mig_boot(NULL, "", NULL);
    Nvme *n = m->n;
    g_autofree char *sock = mig_socket();
    g_autofree char *uri = g_strdup_printf("unix:%s", sock);
    g_autofree char *other = g_strdup_printf(
        "-nodefaults -drive id=d0,if=none,format=raw,file=%s "
        "-device nvme,id=nvme0,addr=04.0,drive=d0,serial=nvqmig,max_ioqpairs=4",
        n->img);
    QTestState *dst;

    ctrl_enable(n, 0);
    unlink(sock);
    dst = qtest_initf("%s -incoming %s", other, uri);
    qtest_set_expected_status(dst, 1);
    qtest_qmp_assert_success(n->qts, "{'execute': 'migrate', 'arguments': "
                             "{'uri': %s}}", uri);
    /* precopy: the source may finish before the destination refuses */
    g_assert_cmpint(wait_status(n->qts, "query-migrate", migration_end), !=,
                    2);
    /* the destination exits on a failed load */
    qtest_wait_qemu(dst);
    qtest_quit(dst);
    unlink(sock);
    /* the source goes on */
    if (!vm_running(n->qts)) {
        vm_cont(n);
    }
    io_queues(n, 1);
    write_blocks(n, 0, 3);
    check_blocks(n, 0, 3);
    mig_free(m);
}

/*
 * NVDIMM-N: a health event raised and not fetched by the guest before the
 * migration is fetched on the destination (GPE 4 and root function 2);
 * the injected state (backend RAM) is there too.  PIIX4's GPE0 status.
 */
#define NVN_BACKEND_SIZE (16 * 1024 * 1024)
#define NVN_LABEL_SIZE  (128 * 1024)
#define PIIX4_GPE0_STS  0xafe0
#define GPE_NVDIMM      0x10
#define FN_HEALTH_EVENTS 2
#define ALARM_MEDIA_TEMP 2
#define INJ_MTEMP       1
#define TEMP(c)         ((c) * 16)
/* QEMU root function 2's reply: status, 32 bytes of slots, root events */
#define HEALTH_EVENTS_SLOTS 4     /* slot 0 bit 0 is nv0 */
#define HEALTH_EVENTS_ROOT 36
#define ROOT_UC_ERROR   (1u << 0)
#define POISON_OFFSET   4096
#define POISON_LEN      512

/* A pc machine with NVDIMM nv0 on backend file @f0 */
static char *nvn_cmdline(const char *f0, bool nvdimm_n)
{
    return g_strdup_printf(
        "-nodefaults -machine pc,nvdimm=on -m 128M,slots=4,maxmem=1G "
        "-object memory-backend-file,id=m0,share=on,mem-path=%s,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,slot=0,label-size=%d%s",
        f0, NVN_BACKEND_SIZE, NVN_LABEL_SIZE,
        nvdimm_n ? ",nvdimm-n=on" : "");
}

/* The root event bits of QEMU root function 2 (reading clears them) */
static uint32_t nvn_root_events(QTestState *qts)
{
    DsmReply r;

    g_assert_cmphex(dsm_call(qts, HANDLE_QEMU_ROOT, 1, FN_HEALTH_EVENTS,
                             NULL, 0, &r), ==, ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, HEALTH_EVENTS_ROOT + sizeof(uint32_t));
    return ldl_le_p(r.data + HEALTH_EVENTS_ROOT);
}

static void test_nvdimm_n_event(void)
{
    g_autofree char *f0 = make_backing_file(NVN_BACKEND_SIZE);
    g_autofree char *cmdline = nvn_cmdline(f0, true);
    QTestState *qts = qtest_init(cmdline);
    uint8_t thresh[7] = { 0 }, inj[15] = { 0 };
    DsmReply r;

    stw_le_p(thresh, ALARM_MEDIA_TEMP);
    stw_le_p(thresh + 3, TEMP(60));
    stw_le_p(thresh + 5, TEMP(90));
    g_assert_cmphex(dsm_call(qts, 1, 2, FN_SET_SMART_THRESHOLD, thresh,
                             sizeof(thresh), &r), ==, ST_SUCCESS);
    stq_le_p(inj, INJ_MTEMP);
    inj[8] = 1;
    stw_le_p(inj + 9, TEMP(70));
    g_assert_cmphex(dsm_call(qts, 1, 2, FN_INJECT_SMART, inj, sizeof(inj),
                             &r), ==, ST_SUCCESS);
    g_assert_true(qtest_inb(qts, PIIX4_GPE0_STS) & GPE_NVDIMM);

    qts = migrate_qts(qts, cmdline);
    /* the GPE (ACPI device) and our pending mark both arrived */
    g_assert_true(qtest_inb(qts, PIIX4_GPE0_STS) & GPE_NVDIMM);
    g_assert_cmphex(dsm_call(qts, HANDLE_QEMU_ROOT, 1, FN_HEALTH_EVENTS,
                             NULL, 0, &r), ==, ST_SUCCESS);
    g_assert_cmphex(r.data[HEALTH_EVENTS_SLOTS], ==, 1u << 0);
    /* fetched once */
    g_assert_cmphex(dsm_call(qts, HANDLE_QEMU_ROOT, 1, FN_HEALTH_EVENTS,
                             NULL, 0, &r), ==, ST_SUCCESS);
    g_assert_cmphex(r.data[HEALTH_EVENTS_SLOTS], ==, 0);
    /* and back: nothing pending any more */
    qts = migrate_qts(qts, cmdline);
    g_assert_cmphex(dsm_call(qts, HANDLE_QEMU_ROOT, 1, FN_HEALTH_EVENTS,
                             NULL, 0, &r), ==, ST_SUCCESS);
    g_assert_cmphex(r.data[HEALTH_EVENTS_SLOTS], ==, 0);
    qtest_quit(qts);
    unlink(f0);
}

/*
 * NVDIMM-N: new poison injected with notify while the VM is stopped (the
 * root event pending, the guest not told yet) is announced on the
 * destination: GPE 4 and the root bit of QEMU root function 2, once; the
 * poison itself (in the module's state area, backend RAM) is there too
 */
static void test_nvdimm_n_poison(void)
{
    g_autofree char *f0 = make_backing_file(NVN_BACKEND_SIZE);
    g_autofree char *cmdline = nvn_cmdline(f0, true);
    QTestState *qts = qtest_init(cmdline);
    QDict *rsp, *ranges;

    g_assert_cmphex(nvn_root_events(qts), ==, 0);
    qtest_qmp_assert_success(qts, "{'execute': 'stop'}");
    qtest_qmp_assert_success(qts, "{'execute': 'nvdimm-inject-poison', "
                             "'arguments': {'id': 'nv0', 'offset': %d, "
                             "'length': %d, 'notify': true}}",
                             POISON_OFFSET, POISON_LEN);
    g_assert_true(qtest_inb(qts, PIIX4_GPE0_STS) & GPE_NVDIMM);

    qts = migrate_qts(qts, cmdline);
    g_assert_true(qtest_inb(qts, PIIX4_GPE0_STS) & GPE_NVDIMM);
    g_assert_cmphex(nvn_root_events(qts), ==, ROOT_UC_ERROR);
    /* fetched once */
    g_assert_cmphex(nvn_root_events(qts), ==, 0);
    qtest_qmp_assert_success(qts, "{'execute': 'cont'}");
    rsp = qtest_qmp(qts, "{'execute': 'nvdimm-query-poison', "
                    "'arguments': {'id': 'nv0'}}");
    ranges = qobject_to(QDict, qlist_peek(qdict_get_qlist(
        qdict_get_qdict(rsp, "return"), "ranges")));
    g_assert_nonnull(ranges);
    g_assert_cmpint(qdict_get_int(ranges, "offset"), ==, POISON_OFFSET);
    g_assert_cmpint(qdict_get_int(ranges, "length"), ==, POISON_LEN);
    qobject_unref(rsp);
    /* and back, the mark taken: nothing pending any more */
    qts = migrate_qts(qts, cmdline);
    g_assert_cmphex(nvn_root_events(qts), ==, 0);
    qtest_quit(qts);
    unlink(f0);
}

/* A plain NVDIMM (no section, as stock) migrates with its labels */
static void test_nvdimm_plain(void)
{
    g_autofree char *f0 = make_backing_file(NVN_BACKEND_SIZE);
    g_autofree char *cmdline = nvn_cmdline(f0, false);
    QTestState *qts = qtest_init(cmdline);
    uint8_t in[8 + 16];
    DsmReply r;

    /* Set Label Data (function 6): 16 bytes at offset 64 */
    stl_le_p(in, 64);
    stl_le_p(in + 4, 16);
    memset(in + 8, 0x5a, 16);
    g_assert_cmphex(dsm_call(qts, 1, 1, 6, in, sizeof(in), &r), ==,
                    ST_SUCCESS);
    qts = migrate_qts(qts, cmdline);
    /* Get Label Data (function 5) */
    g_assert_cmphex(dsm_call(qts, 1, 1, 5, in, 8, &r), ==, ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, 4 + 16);
    for (unsigned i = 0; i < 16; i++) {
        g_assert_cmphex(r.data[4 + i], ==, 0x5a);
    }
    qtest_quit(qts);
    unlink(f0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/nvqemu/nvme-migrate/idle", test_idle);
    qtest_add_func("/nvqemu/nvme-migrate/disabled", test_disabled);
    qtest_add_func("/nvqemu/nvme-migrate/data", test_data);
    qtest_add_func("/nvqemu/nvme-migrate/data-iothread", test_data_iothread);
    qtest_add_func("/nvqemu/nvme-migrate/many", test_many);
    qtest_add_func("/nvqemu/nvme-migrate/rung", test_rung);
    qtest_add_func("/nvqemu/nvme-migrate/rung-iothread", test_rung_iothread);
    qtest_add_func("/nvqemu/nvme-migrate/inflight", test_inflight);
    qtest_add_func("/nvqemu/nvme-migrate/inflight-iothread",
                   test_inflight_iothread);
    qtest_add_func("/nvqemu/nvme-migrate/inflight-stop", test_inflight_stop);
    qtest_add_func("/nvqemu/nvme-migrate/inflight-stop-iothread",
                   test_inflight_stop_iothread);
    qtest_add_func("/nvqemu/nvme-migrate/held-write", test_held_write);
    qtest_add_func("/nvqemu/nvme-migrate/held-read", test_held_read);
    qtest_add_func("/nvqemu/nvme-migrate/held-write-iothread",
                   test_held_write_iothread);
    qtest_add_func("/nvqemu/nvme-migrate/held-read-iothread",
                   test_held_read_iothread);
    qtest_add_func("/nvqemu/nvme-migrate/held-many", test_held_many);
    qtest_add_func("/nvqemu/nvme-migrate/held-refused", test_held_refused);
    qtest_add_func("/nvqemu/nvme-migrate/held-admin", test_held_admin);
    qtest_add_func("/nvqemu/nvme-migrate/held-count", test_held_count);
    qtest_add_func("/nvqemu/nvme-migrate/shadow", test_shadow);
    qtest_add_func("/nvqemu/nvme-migrate/aer", test_aer);
    qtest_add_func("/nvqemu/nvme-migrate/features", test_features);
    qtest_add_func("/nvqemu/nvme-migrate/pi-format", test_pi_format);
    qtest_add_func("/nvqemu/nvme-migrate/refused", test_refused);
    qtest_add_func("/nvqemu/nvme-migrate/nvdimm-n-event",
                   test_nvdimm_n_event);
    qtest_add_func("/nvqemu/nvme-migrate/nvdimm-n-poison",
                   test_nvdimm_n_poison);
    qtest_add_func("/nvqemu/nvme-migrate/nvdimm-plain", test_nvdimm_plain);
    return g_test_run();
}
