/*
 * qtest: the Copy command (NVM Command Set 3.3.1, TP4130 formats 2h/3h),
 * the write atomicity parameters (atomic.*, feature 0Ah), ctratt.mem and
 * the OCP datacenter log (ocp=on), through a polled host driver.
 *
 * Expectations marked "stock" were taken from stock QEMU 10.0 run as a
 * black box: with NVQEMU_PROBE=1 the status checks print what they see
 * instead of failing, so this binary can be pointed at the stock binary
 * (QTEST_QEMU_BINARY=build/vanilla/qemu/qemu-system-x86_64) to compare.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "nvqemu-nvme-host.h"
#include "hw/block/nvme/cmd.h"

#define LBS             512u
#define NS_IMG_SIZE     (32 * 1024 * 1024)
#define NS_BLOCKS       (NS_IMG_SIZE / LBS)
#define BIG_NS          2       /* nvme-ns with large Copy limits */
#define NS_A            2       /* nvme-ns, stock's default limits */
#define NS_B            3       /* nvme-ns, same format as NS_A */
#define NS_4K           4       /* nvme-ns with 4 KiB blocks */
#define STOCK_MSSRL     128
#define STOCK_MCL       128
#define STOCK_MSRC      127
#define COPY_STEP_BLOCKS (8 * 1024 * 1024 / LBS)   /* copy.c's step */
#define OCP_LOG_ID      0xc0
#define OCP_LOG_SIZE    512

/* Host Behavior Support (feature 16h) CDFE bits: formats 2h and 3h */
#define CDFE_23         ((1u << NVME_COPY_FORMAT_2) | \
                         (1u << NVME_COPY_FORMAT_3))

typedef struct Env {
    Nvme *n;
    char *img[NS_4K + 1];
    uint64_t list;              /* source range list */
    uint64_t wbuf, rbuf;        /* 64 KiB each */
} Env;

static char *img_new(void)
{
    char *path;
    int fd = g_file_open_tmp("nvqemu-copy-XXXXXX.img", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, NS_IMG_SIZE), ==, 0);
    close(fd);
    return path;
}

/*
 * nvme0 (namespace 1 from drive=) plus NS_A and NS_B (512 B blocks) and
 * NS_4K (4 KiB blocks) as nvme-ns; @ns_a_opts are more properties of
 * NS_A, @ns_a_drive replaces its -drive options (blkdebug).
 */
static Env *env_boot_ns(const char *ctrl_opts, const char *ns_a_opts,
                        const char *ns_b_opts, const char *ns_a_drive)
{
    Env *e = g_new0(Env, 1);
    g_autoptr(GString) extra = g_string_new("");

    for (unsigned i = NS_A; i <= NS_4K; i++) {
        e->img[i] = img_new();
        if (i == NS_A && ns_a_drive) {
            g_string_append_printf(extra, "-drive id=ns%u,if=none,%s,"
                                   "file.image.filename=%s ", i,
                                   ns_a_drive, e->img[i]);
        } else {
            g_string_append_printf(extra, "-drive id=ns%u,if=none,"
                                   "format=raw,file=%s ", i, e->img[i]);
        }
        g_string_append_printf(extra, "-device nvme-ns,bus=nvme0,nsid=%u,"
                               "drive=ns%u%s%s%s ", i, i,
                               i == NS_4K ? ",logical_block_size=4096,"
                               "physical_block_size=4096" : "",
                               i == NS_A && ns_a_opts ? ns_a_opts : "",
                               i == NS_B && ns_b_opts ? ns_b_opts : "");
    }
    e->n = nvme_boot(ctrl_opts, extra->str);
    ctrl_enable(e->n, NVME_CC_AMS_RR);
    io_queues(e->n, 1);
    e->list = nvme_alloc(e->n, 3 * PAGE);
    e->wbuf = nvme_alloc(e->n, 64 * 1024);
    e->rbuf = nvme_alloc(e->n, 64 * 1024);
    return e;
}

static Env *env_boot(const char *ctrl_opts, const char *ns_a_opts,
                     const char *ns_a_drive)
{
    return env_boot_ns(ctrl_opts, ns_a_opts, NULL, ns_a_drive);
}

static void env_free(Env *e)
{
    nvme_free(e->n);
    for (unsigned i = 0; i <= NS_4K; i++) {
        if (e->img[i]) {
            unlink(e->img[i]);
            g_free(e->img[i]);
        }
    }
    g_free(e);
}

/* Read or write @nlb blocks at @slba of @nsid from/to @buf */
static uint16_t ns_rw(Env *e, uint8_t opc, uint32_t nsid, uint64_t slba,
                      uint32_t nlb, uint64_t buf)
{
    NvmeSqe c = rw_cmd(e->n, opc, slba, nlb);
    uint64_t prp_list = nvme_alloc(e->n, PAGE);

    c.nsid = cpu_to_le32(nsid);
    set_prps(e->n, &c, buf, nlb * LBS, prp_list);
    return io(e->n, 1, &c);
}

/* Fill @nlb blocks at @slba of @nsid with a pattern from @seed */
static void ns_fill(Env *e, uint32_t nsid, uint64_t slba, uint32_t nlb,
                    uint8_t seed)
{
    fill(e->n, e->wbuf, nlb * LBS, seed);
    g_assert_cmphex(ns_rw(e, NVME_IO_WRITE, nsid, slba, nlb, e->wbuf), ==,
                    NVME_SUCCESS);
}

/* The blocks at @slba of @nsid, read into a new host buffer */
static uint8_t *ns_read(Env *e, uint32_t nsid, uint64_t slba, uint32_t nlb)
{
    uint8_t *p = g_malloc(nlb * LBS);

    g_assert_cmphex(ns_rw(e, NVME_IO_READ, nsid, slba, nlb, e->rbuf), ==,
                    NVME_SUCCESS);
    qtest_memread(e->n->qts, e->rbuf, p, nlb * LBS);
    return p;
}

/* One source range for copy_cmd() */
typedef struct Src {
    uint32_t snsid;
    uint64_t slba;
    uint32_t nlb;               /* 1's based */
} Src;

/* Write the Source Range Entries of @src in descriptor format @fmt */
static void put_ranges(Env *e, uint8_t fmt, const Src *src, unsigned nr)
{
    size_t esz = nvme_copy_entry_size(fmt);
    g_autofree uint8_t *buf = g_malloc0(esz * nr);

    g_assert_cmpuint(esz * nr, <=, 3 * PAGE);
    for (unsigned i = 0; i < nr; i++) {
        uint8_t *p = buf + i * esz;

        if (nvme_copy_format_has_snsid(fmt)) {
            stl_le_p(p + offsetof(NvmeCopySrc32, snsid), src[i].snsid);
        }
        stq_le_p(p + offsetof(NvmeCopySrc32, slba), src[i].slba);
        stw_le_p(p + offsetof(NvmeCopySrc32, nlb), src[i].nlb - 1);
    }
    qtest_memwrite(e->n->qts, e->list, buf, esz * nr);
}

/* Copy @nr ranges of @src to @sdlba of @nsid; its status, CQE DW0 */
static uint16_t copy_cmd(Env *e, uint32_t nsid, uint8_t fmt, uint64_t sdlba,
                         const Src *src, unsigned nr, uint32_t *dw0)
{
    NvmeSqe c = sqe_new(e->n, NVME_IO_COPY, nsid);
    uint64_t prp_list = nvme_alloc(e->n, PAGE);
    NvmeCqe cqe;

    put_ranges(e, fmt, src, nr);
    set_prps(e->n, &c, e->list, nr * nvme_copy_entry_size(fmt), prp_list);
    c.cdw10 = cpu_to_le32(sdlba);
    c.cdw11 = cpu_to_le32(sdlba >> 32);
    c.cdw12 = cpu_to_le32(FIELD_DP32(nr - 1, NVME_COPY_DW12, DESFMT, fmt));
    cqe = submit_wait(e->n, 1, &c);
    if (dw0) {
        *dw0 = le32_to_cpu(cqe.dw0);
    }
    return cqe_sc(&cqe);
}

/* Set Host Behavior Support CDFE (the formats 2h/3h a host enables) */
static void enable_cdfe(Env *e, uint16_t cdfe)
{
    NvmeHostBehavior hb = { 0 };
    NvmeSqe c = sqe_new(e->n, NVME_ADM_SET_FEATURES, 0);

    hb.cdfe = cpu_to_le16(cdfe);
    qtest_memwrite(e->n->qts, e->n->buf, &hb, sizeof(hb));
    c.dptr[0] = cpu_to_le64(e->n->buf);
    c.cdw10 = cpu_to_le32(NVME_FEAT_HOST_BEHAVIOR);
    g_assert_cmphex(admin(e->n, &c, NULL), ==, NVME_SUCCESS);
}

/* The expected result of copying @src: their blocks, concatenated */
static uint8_t *expected(Env *e, const Src *src, unsigned nr,
                         uint32_t dflt_nsid, uint32_t *total)
{
    g_autoptr(GByteArray) out = g_byte_array_new();

    *total = 0;
    for (unsigned i = 0; i < nr; i++) {
        g_autofree uint8_t *p = ns_read(e, src[i].snsid ?: dflt_nsid,
                                        src[i].slba, src[i].nlb);

        g_byte_array_append(out, p, src[i].nlb * LBS);
        *total += src[i].nlb;
    }
    return g_byte_array_free(g_steal_pointer(&out), false);
}

/* ---- Identify ------------------------------------------------------------ */

static void test_identify(void)
{
    Env *e = env_boot("", ",mssrl=64,mcl=256,msrc=3", NULL);
    g_autofree NvmeIdCtrl *ctrl = g_new0(NvmeIdCtrl, 1);
    g_autofree NvmeIdNs *ns = g_new0(NvmeIdNs, 1);
    g_autofree NvmeEffectsLog *eff = g_new0(NvmeEffectsLog, 1);
    uint16_t oncs;

    identify_read(e->n, NVME_CNS_CTRL, 0, ctrl, sizeof(*ctrl));
    oncs = le16_to_cpu(ctrl->oncs);
    /* stock: Copy with single atomicity and all copies fast */
    check_val(oncs & (NVME_ONCS_COPY | NVME_ONCS_NVMCSA | NVME_ONCS_NVMAFC),
              NVME_ONCS_COPY | NVME_ONCS_NVMCSA | NVME_ONCS_NVMAFC, "ONCS");
    check_val(le16_to_cpu(ctrl->ocfs), 0xf, "OCFS");
    check_val(le16_to_cpu(ctrl->awun), 0, "AWUN");
    check_val(le16_to_cpu(ctrl->awupf), 0, "AWUPF");
    check_val(le32_to_cpu(ctrl->ctratt) & NVME_CTRATT_MEM, 0, "CTRATT.MEM");

    /* the properties */
    identify_read(e->n, NVME_CNS_NS, NS_A, ns, sizeof(*ns));
    check_val(le16_to_cpu(ns->mssrl), 64, "MSSRL");
    check_val(le32_to_cpu(ns->mcl), 256, "MCL");
    check_val(ns->msrc, 3, "MSRC");
    /* stock's defaults on an nvme-ns */
    identify_read(e->n, NVME_CNS_NS, NS_B, ns, sizeof(*ns));
    check_val(le16_to_cpu(ns->mssrl), STOCK_MSSRL, "MSSRL default");
    check_val(le32_to_cpu(ns->mcl), STOCK_MCL, "MCL default");
    check_val(ns->msrc, STOCK_MSRC, "MSRC default");
    check_val(le16_to_cpu(ns->nawun), 0, "NAWUN");
    check_val(le16_to_cpu(ns->nawupf), 0, "NAWUPF");
    check_val(le16_to_cpu(ns->nabo), 0, "NABO");
    /* the drive= namespace: stock reports no limits (0) */
    identify_read(e->n, NVME_CNS_NS, 1, ns, sizeof(*ns));
    check_val(le16_to_cpu(ns->mssrl), 0, "MSSRL drive=");
    check_val(le32_to_cpu(ns->mcl), 0, "MCL drive=");
    check_val(ns->msrc, 0, "MSRC drive=");

    /* the effects log lists Copy: it changes logical block content */
    g_assert_cmphex(get_log(e->n, NVME_LOG_CMD_EFFECTS, sizeof(*eff),
                            e->n->buf), ==, NVME_SUCCESS);
    qtest_memread(e->n->qts, e->n->buf, eff, sizeof(*eff));
    check_val(le32_to_cpu(eff->iocs[NVME_IO_COPY]),
              NVME_EFF_CSUPP | NVME_EFF_LBCC, "effects Copy");
    env_free(e);
}

/* ---- data --------------------------------------------------------------- */

/*
 * Formats 0h and 1h within NS_A; 2h and 3h from NS_B (and NS_A) to NS_A.
 * Stock refuses 1h and 3h on a namespace without protection information
 * (Invalid Format); NVM 3.3.1 ties them to 32b/64b guard PI only.
 */
static void test_formats(void)
{
    Env *e = env_boot("", NULL, NULL);
    static const uint8_t fmts[] = {
        NVME_COPY_FORMAT_0, NVME_COPY_FORMAT_1,
        NVME_COPY_FORMAT_2, NVME_COPY_FORMAT_3,
    };

    ns_fill(e, NS_A, 0, 64, 0x11);
    ns_fill(e, NS_B, 0, 64, 0x77);
    enable_cdfe(e, CDFE_23);
    for (unsigned f = 0; f < ARRAY_SIZE(fmts); f++) {
        bool cross = nvme_copy_format_has_snsid(fmts[f]);
        Src src[] = {
            { cross ? NS_B : 0, 40, 3 },
            { cross ? NS_A : 0, 1, 5 },
            { cross ? NS_B : 0, 17, 8 },
        };
        uint64_t sdlba = 1000 + 100 * f;
        uint32_t total, dw0 = 0xdead;
        g_autofree uint8_t *want = expected(e, src, ARRAY_SIZE(src), NS_A,
                                            &total);
        g_autofree uint8_t *got = NULL;

        check_sc(copy_cmd(e, NS_A, fmts[f], sdlba, src, ARRAY_SIZE(src),
                          &dw0), NVME_SUCCESS, "copy");
        got = ns_read(e, NS_A, sdlba, total);
        g_assert_true(probing() || !memcmp(got, want, total * LBS));
    }
    env_free(e);
}

/*
 * Ranges that overlap the destination are read before it is written (a
 * Copy within one step): the result is the sources as they were.
 */
static void test_overlap(void)
{
    Env *e = env_boot("", NULL, NULL);
    Src src[] = { { 0, 8, 8 }, { 0, 0, 8 } };
    uint32_t total;
    g_autofree uint8_t *want = NULL;
    g_autofree uint8_t *got = NULL;

    ns_fill(e, NS_A, 0, 32, 0x5a);
    want = expected(e, src, ARRAY_SIZE(src), NS_A, &total);
    /* the destination 4..19 covers both sources */
    check_sc(copy_cmd(e, NS_A, NVME_COPY_FORMAT_0, 4, src, ARRAY_SIZE(src),
                      NULL), NVME_SUCCESS, "overlapping copy");
    got = ns_read(e, NS_A, 4, total);
    g_assert_true(probing() || !memcmp(got, want, total * LBS));
    env_free(e);
}

/* ---- limits and errors: each leaves the destination as it was ---------- */

typedef struct ErrCase {
    const char *what;
    uint32_t nsid;              /* destination */
    uint8_t fmt;
    uint64_t sdlba;
    Src src[4];
    unsigned nr;
    uint16_t status;
} ErrCase;

static void test_errors(void)
{
    /* NS_A: MSSRL 16, MCL 24, MSRC 2 (3 ranges) */
    Env *e = env_boot("", ",mssrl=16,mcl=24,msrc=2", NULL);
    const uint64_t dst = 2000;
    static const ErrCase cases[] = {
        { "4 ranges, MSRC 2", NS_A, NVME_COPY_FORMAT_0, dst,
          { { 0, 0, 1 }, { 0, 1, 1 }, { 0, 2, 1 }, { 0, 3, 1 } }, 4,
          NVME_CMD_SIZE_LIMIT_EXCEEDED },
        { "range of 17 blocks, MSSRL 16", NS_A, NVME_COPY_FORMAT_0, dst,
          { { 0, 0, 8 }, { 0, 8, 17 } }, 2, NVME_CMD_SIZE_LIMIT_EXCEEDED },
        { "25 blocks, MCL 24", NS_A, NVME_COPY_FORMAT_0, dst,
          { { 0, 0, 16 }, { 0, 16, 9 } }, 2, NVME_CMD_SIZE_LIMIT_EXCEEDED },
        { "descriptor format 4", NS_A, 4, dst,
          { { 0, 0, 1 } }, 1, NVME_INVALID_FIELD },
        { "source beyond the namespace", NS_A, NVME_COPY_FORMAT_0, dst,
          { { 0, 0, 4 }, { 0, NS_BLOCKS - 2, 4 } }, 2,
          NVME_LBA_OUT_OF_RANGE },
        { "source LBA overflows", NS_A, NVME_COPY_FORMAT_0, dst,
          { { 0, UINT64_MAX, 2 } }, 1, NVME_LBA_OUT_OF_RANGE },
        { "destination beyond the namespace", NS_A, NVME_COPY_FORMAT_0,
          NS_BLOCKS - 4, { { 0, 0, 8 } }, 1, NVME_LBA_OUT_OF_RANGE },
        { "source namespace with 4 KiB blocks", NS_A, NVME_COPY_FORMAT_2,
          dst, { { NS_A, 0, 4 }, { NS_4K, 0, 1 } }, 2,
          NVME_INCOMPATIBLE_NS_OR_FORMAT },
        { "inactive source namespace", NS_A, NVME_COPY_FORMAT_2, dst,
          { { NS_A, 0, 4 }, { 9, 0, 1 } }, 2, NVME_INVALID_FIELD },
        { "source namespace 0", NS_A, NVME_COPY_FORMAT_2, dst,
          { { 0, 0, 4 } }, 1, NVME_INVALID_NSID },
        { "source namespace 300", NS_A, NVME_COPY_FORMAT_2, dst,
          { { 300, 0, 4 } }, 1, NVME_INVALID_NSID },
        { "source namespace FFFFFFFFh", NS_A, NVME_COPY_FORMAT_2, dst,
          { { NVME_NSID_BROADCAST, 0, 4 } }, 1, NVME_INVALID_NSID },
        { "format 2h source overlaps the destination", NS_A,
          NVME_COPY_FORMAT_2, dst, { { NS_B, 0, 4 }, { NS_A, dst - 2, 4 } },
          2, NVME_OVERLAPPING_IO_RANGE },
    };
    g_autofree uint8_t *before = NULL;

    enable_cdfe(e, CDFE_23);
    ns_fill(e, NS_A, 0, 64, 0x21);
    ns_fill(e, NS_A, dst, 32, 0x99);
    ns_fill(e, NS_A, NS_BLOCKS - 8, 8, 0x33);
    before = ns_read(e, NS_A, dst, 32);
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        const ErrCase *c = &cases[i];
        g_autofree uint8_t *after = NULL;
        uint32_t dw0 = 0xdead;

        check_sc(copy_cmd(e, c->nsid, c->fmt, c->sdlba, c->src, c->nr,
                          &dw0), c->status, c->what);
        /* nothing written: DW0 0 (NVM 3.3.1; stock names the range) */
        check_val(dw0, 0, "DW0 of a refused Copy");
        after = ns_read(e, NS_A, dst, 32);
        g_assert_true(probing() || !memcmp(before, after, 32 * LBS));
    }

    /* within the limits: fine */
    {
        Src ok[] = { { 0, 0, 16 }, { 0, 16, 4 }, { 0, 20, 4 } };

        check_sc(copy_cmd(e, NS_A, NVME_COPY_FORMAT_0, dst, ok, 3, NULL),
                 NVME_SUCCESS, "copy at the limits");
    }
    env_free(e);
}

/* Formats 2h and 3h need Host Behavior Support CDFE (TP4130) */
static void test_cdfe(void)
{
    Env *e = env_boot("", NULL, NULL);
    Src src[] = { { NS_B, 0, 1 } };

    check_sc(copy_cmd(e, NS_A, NVME_COPY_FORMAT_2, 100, src, 1, NULL),
             NVME_INVALID_FIELD, "format 2h without CDFE");
    check_sc(copy_cmd(e, NS_A, NVME_COPY_FORMAT_3, 100, src, 1, NULL),
             NVME_INVALID_FIELD, "format 3h without CDFE");
    enable_cdfe(e, 1u << NVME_COPY_FORMAT_2);
    check_sc(copy_cmd(e, NS_A, NVME_COPY_FORMAT_2, 100, src, 1, NULL),
             NVME_SUCCESS, "format 2h with CDF2E");
    check_sc(copy_cmd(e, NS_A, NVME_COPY_FORMAT_3, 100, src, 1, NULL),
             NVME_INVALID_FIELD, "format 3h with CDF2E only");
    env_free(e);
}

/*
 * A read error in the second step of a large Copy: the first step stays
 * written, DW0 names the first range not copied (NVM 3.3.1), the rest of
 * the destination is untouched.
 */
static void test_error_midway(void)
{
    /* a read error on any request that touches source block 20000 */
    Env *e = env_boot("", ",mssrl=65535,mcl=100000",
                      "format=raw,file.driver=blkdebug,"
                      "file.inject-error.0.event=read_aio,"
                      "file.inject-error.0.iotype=read,"
                      "file.inject-error.0.sector=20000");
    const uint64_t dst = 40000;
    Src src[] = {
        { 0, 0, COPY_STEP_BLOCKS },             /* step 1 */
        { 0, 16384, 8 },                        /* step 2: fine */
        { 0, 19990, 20 },                       /* step 2: fails */
    };
    uint32_t dw0 = 0;
    g_autofree uint8_t *first = NULL;
    g_autofree uint8_t *got = NULL;
    g_autofree uint8_t *zero = g_malloc0(8 * LBS);

    if (probing()) {
        /* stock's limits and steps differ: nothing to learn here */
        env_free(e);
        return;
    }
    /* blocks 0..127 of the source hold a pattern, the rest zeroes */
    ns_fill(e, NS_A, 0, 128, 0x42);
    g_assert_cmphex(copy_cmd(e, NS_A, NVME_COPY_FORMAT_0, dst, src,
                             ARRAY_SIZE(src), &dw0), ==,
                    NVME_UNRECOVERED_READ);
    g_assert_cmpuint(dw0, ==, 1);
    /* step 1 was written: its first blocks hold the pattern */
    first = ns_read(e, NS_A, 0, 128);
    got = ns_read(e, NS_A, dst, 128);
    g_assert_true(!memcmp(first, got, 128 * LBS));
    g_free(got);
    /* step 2 was not: the destination after step 1 is still zero */
    got = ns_read(e, NS_A, dst + COPY_STEP_BLOCKS, 8);
    g_assert_true(!memcmp(zero, got, 8 * LBS));
    env_free(e);
}

/*
 * The drive= namespace reports MSSRL and MCL 0, which NVM Figure 42 reads
 * as no limit, and MSRC 0 (one range): a Copy of one long range works
 * (stock refuses every Copy there with Command Size Limit Exceeded).
 */
static void test_drive_ns(void)
{
    Env *e = env_boot("", NULL, NULL);
    Src src[] = { { 0, 0, 1000 } };
    Src two[] = { { 0, 0, 1 }, { 0, 1, 1 } };
    g_autofree uint8_t *want = NULL;
    g_autofree uint8_t *got = NULL;

    ns_fill(e, 1, 0, 100, 0x3c);
    ns_fill(e, 1, 100, 100, 0x4d);
    want = ns_read(e, 1, 0, 100);
    check_sc(copy_cmd(e, 1, NVME_COPY_FORMAT_0, 5000, src, 1, NULL),
             NVME_SUCCESS, "1000 blocks on the drive= namespace");
    got = ns_read(e, 1, 5000, 100);
    g_assert_true(probing() || !memcmp(got, want, 100 * LBS));
    check_sc(copy_cmd(e, 1, NVME_COPY_FORMAT_0, 5000, two, 2, NULL),
             NVME_CMD_SIZE_LIMIT_EXCEEDED, "2 ranges, MSRC 0");
    env_free(e);
}

/* SMART: a Copy counts its blocks as read and written */
static void test_smart(void)
{
    Env *e = env_boot("", NULL, NULL);
    NvmeSmartLog s0, s1;
    Src src[] = { { 0, 0, 100 } };

    g_assert_cmphex(get_log(e->n, NVME_LOG_SMART, sizeof(s0), e->n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(e->n->qts, e->n->buf, &s0, sizeof(s0));
    /* 100 blocks of 512 B: 50 KiB; data units are 1000 × 512 B */
    for (unsigned i = 0; i < 20; i++) {
        check_sc(copy_cmd(e, NS_A, NVME_COPY_FORMAT_0, 1000, src, 1, NULL),
                 NVME_SUCCESS, "copy");
    }
    g_assert_cmphex(get_log(e->n, NVME_LOG_SMART, sizeof(s1), e->n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(e->n->qts, e->n->buf, &s1, sizeof(s1));
    /* 2000 units of 512 B each way */
    check_val(ldq_le_p(s1.data_units_read) - ldq_le_p(s0.data_units_read),
              2, "data units read");
    check_val(ldq_le_p(s1.data_units_written) -
              ldq_le_p(s0.data_units_written), 2, "data units written");
    check_val(ldq_le_p(s1.host_writes) - ldq_le_p(s0.host_writes), 20,
              "host write commands");
    check_val(ldq_le_p(s1.host_reads) - ldq_le_p(s0.host_reads), 20,
              "host read commands");
    env_free(e);
}

/* ---- atomic write parameters -------------------------------------------- */

static void test_atomic(void)
{
    Env *e = env_boot("atomic.dn=on,atomic.awun=15,atomic.awupf=7", NULL,
                      NULL);
    g_autofree NvmeIdCtrl *ctrl = g_new0(NvmeIdCtrl, 1);
    g_autofree NvmeIdNs *ns = g_new0(NvmeIdNs, 1);
    uint32_t dw0;

    identify_read(e->n, NVME_CNS_CTRL, 0, ctrl, sizeof(*ctrl));
    check_val(le16_to_cpu(ctrl->awun), 15, "AWUN");
    check_val(le16_to_cpu(ctrl->awupf), 7, "AWUPF");
    identify_read(e->n, NVME_CNS_NS, NS_A, ns, sizeof(*ns));
    check_val(le16_to_cpu(ns->nawun), 0, "NAWUN");
    check_val(le16_to_cpu(ns->nawupf), 0, "NAWUPF");
    check_val(ns->nsfeat & 2, 0, "NSFEAT.NSABP");

    /* feature 0Ah: DN from atomic.dn, then as the host sets it */
    check_sc(get_feature(e->n, NVME_FEAT_WRITE_ATOMICITY, 0, &dw0),
             NVME_SUCCESS, "get 0Ah");
    check_val(dw0, 1, "0Ah DN current");
    check_sc(set_feature(e->n, NVME_FEAT_WRITE_ATOMICITY, 0, NULL),
             NVME_SUCCESS, "set 0Ah DN=0");
    check_sc(get_feature(e->n, NVME_FEAT_WRITE_ATOMICITY, 0, &dw0),
             NVME_SUCCESS, "get 0Ah");
    check_val(dw0, 0, "0Ah DN after set");
    {
        NvmeSqe c = sqe_new(e->n, NVME_ADM_GET_FEATURES, 0);

        c.cdw10 = cpu_to_le32(NVME_FEAT_WRITE_ATOMICITY |
                              NVME_FEAT_SEL_DEFAULT << 8);
        check_sc(admin(e->n, &c, &dw0), NVME_SUCCESS, "get 0Ah default");
        /* stock's default is 0 whatever atomic.dn says */
        check_val(dw0, 0, "0Ah DN default");
    }

    /* writes within and beyond the unit (AWUN 15: 16 blocks) */
    fill(e->n, e->wbuf, 64 * LBS, 3);
    check_sc(ns_rw(e, NVME_IO_WRITE, NS_A, 0, 16, e->wbuf), NVME_SUCCESS,
             "write of AWUN+1 blocks");
    check_sc(ns_rw(e, NVME_IO_WRITE, NS_A, 0, 17, e->wbuf), NVME_SUCCESS,
             "write of AWUN+2 blocks");
    check_sc(set_feature(e->n, NVME_FEAT_WRITE_ATOMICITY, 1, NULL),
             NVME_SUCCESS, "set 0Ah DN=1");
    check_sc(ns_rw(e, NVME_IO_WRITE, NS_A, 0, 9, e->wbuf), NVME_SUCCESS,
             "write of AWUPF+2 blocks");
    check_sc(ns_rw(e, NVME_IO_WRITE, NS_A, 3, 8, e->wbuf), NVME_SUCCESS,
             "write of AWUPF+1 blocks");
    env_free(e);

    /* an AWUPF above AWUN is reported as 0, as stock does */
    e = env_boot("atomic.awun=3,atomic.awupf=7", NULL, NULL);
    identify_read(e->n, NVME_CNS_CTRL, 0, ctrl, sizeof(*ctrl));
    check_val(le16_to_cpu(ctrl->awun), 3, "AWUN");
    check_val(le16_to_cpu(ctrl->awupf), 0, "AWUPF above AWUN");
    env_free(e);
}

/*
 * Overlapping atomic writes submitted together on two queues never
 * interleave: the range afterwards holds one of the two patterns whole.
 */
static void test_atomic_overlap(void)
{
    Env *e = env_boot("atomic.awun=63", NULL, NULL);
    uint64_t b1 = nvme_alloc(e->n, 64 * 1024), b2 = nvme_alloc(e->n,
                                                               64 * 1024);
    uint64_t l1 = nvme_alloc(e->n, PAGE), l2 = nvme_alloc(e->n, PAGE);
    g_autofree uint8_t *p1 = g_malloc(32 * 1024);
    g_autofree uint8_t *p2 = g_malloc(32 * 1024);

    g_assert_cmphex(create_cq(e->n, 2, QDEPTH, 2), ==, NVME_SUCCESS);
    g_assert_cmphex(create_sq(e->n, 2, 2, QDEPTH, NVME_QPRIO_MEDIUM), ==,
                    NVME_SUCCESS);
    fill(e->n, b1, 32 * 1024, 1);
    fill(e->n, b2, 32 * 1024, 2);
    qtest_memread(e->n->qts, b1, p1, 32 * 1024);
    qtest_memread(e->n->qts, b2, p2, 32 * 1024);
    for (unsigned round = 0; round < 8; round++) {
        NvmeSqe w1 = rw_cmd(e->n, NVME_IO_WRITE, 0, 64);
        NvmeSqe w2 = rw_cmd(e->n, NVME_IO_WRITE, 0, 64);
        g_autofree uint8_t *got = NULL;
        NvmeCqe cqe;

        w1.nsid = w2.nsid = cpu_to_le32(NS_A);
        set_prps(e->n, &w1, b1, 32 * 1024, l1);
        set_prps(e->n, &w2, b2, 32 * 1024, l2);
        sq_put(e->n, 1, &w1);
        sq_put(e->n, 2, &w2);
        sq_ring(e->n, 1);
        sq_ring(e->n, 2);
        cq_wait_cid(e->n, 1, sqe_cid(&w1), &cqe);
        g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
        cq_wait_cid(e->n, 2, sqe_cid(&w2), &cqe);
        g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
        got = ns_read(e, NS_A, 0, 64);
        g_assert_true(!memcmp(got, p1, 32 * 1024) ||
                      !memcmp(got, p2, 32 * 1024));
    }
    env_free(e);
}

/* ---- protection information on both sides ------------------------------- */

/* PRINFO bits (NVM Figure 11) */
enum {
    PR_REF = 1 << 0,
    PR_APP = 1 << 1,
    PR_GUARD = 1 << 2,
    PR_PRACT = 1 << 3,
};

/* Write or read @nlb blocks of @nsid with PRINFO @prinfo and ILBRT @ilbrt */
static uint16_t pi_rw(Env *e, uint8_t opc, uint32_t nsid, uint64_t slba,
                      uint32_t nlb, uint8_t prinfo, uint64_t ilbrt)
{
    NvmeSqe c = rw_cmd(e->n, opc, slba, nlb);

    c.nsid = cpu_to_le32(nsid);
    set_prps(e->n, &c, opc == NVME_IO_WRITE ? e->wbuf : e->rbuf, nlb * LBS,
             nvme_alloc(e->n, PAGE));
    c.cdw12 |= cpu_to_le32((uint32_t)prinfo << 26);
    c.cdw14 = cpu_to_le32(ilbrt);
    c.cdw3 = cpu_to_le32(ilbrt >> 32);
    return io(e->n, 1, &c);
}

/*
 * A one-range Copy on @nsid with PRINFOR/PRINFOW, ILBRT and the range's
 * EILBRT (@be: formats 1h/3h's tag most significant byte first, as
 * nvme-cli writes it and stock reads it)
 */
static uint16_t pi_copy(Env *e, uint32_t nsid, uint8_t fmt, uint32_t snsid,
                        uint64_t sdlba, uint64_t slba, uint32_t nlb,
                        uint8_t prinfor, uint8_t prinfow, uint64_t ilbrt,
                        uint64_t eilbrt, bool be, uint32_t *dw0)
{
    NvmeSqe c = sqe_new(e->n, NVME_IO_COPY, nsid);
    uint8_t ent[sizeof(NvmeCopySrc40)] = { 0 };
    NvmeCqe cqe;

    stl_le_p(ent + offsetof(NvmeCopySrc32, snsid), snsid);
    stq_le_p(ent + offsetof(NvmeCopySrc32, slba), slba);
    stw_le_p(ent + offsetof(NvmeCopySrc32, nlb), nlb - 1);
    if (nvme_copy_entry_size(fmt) == sizeof(NvmeCopySrc32)) {
        stl_le_p(ent + offsetof(NvmeCopySrc32, eilbrt), eilbrt);
    } else if (be) {
        stq_be_p(ent + offsetof(NvmeCopySrc40, elbst_eilbrt) + 2, eilbrt);
    } else {
        stq_le_p(ent + offsetof(NvmeCopySrc40, elbst_eilbrt), eilbrt);
    }
    qtest_memwrite(e->n->qts, e->list, ent, sizeof(ent));
    c.dptr[0] = cpu_to_le64(e->list);
    c.cdw10 = cpu_to_le32(sdlba);
    c.cdw11 = cpu_to_le32(sdlba >> 32);
    c.cdw12 = cpu_to_le32(FIELD_DP32(0, NVME_COPY_DW12, DESFMT, fmt) |
                          FIELD_DP32(0, NVME_COPY_DW12, PRINFOR, prinfor) |
                          FIELD_DP32(0, NVME_COPY_DW12, PRINFOW, prinfow));
    c.cdw14 = cpu_to_le32(ilbrt);
    c.cdw3 = cpu_to_le32(ilbrt >> 32);
    cqe = submit_wait(e->n, 1, &c);
    if (dw0) {
        *dw0 = le32_to_cpu(cqe.dw0);
    }
    return cqe_sc(&cqe);
}

/* Type 1, 16b guard (ms=8): PRACT, pass-through, checks, corruption */
static void test_pi_16b(void)
{
    Env *e = env_boot("", ",ms=8,pi=1", NULL);
    const uint8_t rd = PR_PRACT | PR_REF, both = PR_PRACT | PR_REF;
    uint32_t dw0;
    g_autofree uint8_t *before = NULL;
    g_autofree uint8_t *after = NULL;
    uint8_t junk[16];
    int fd;

    fill(e->n, e->wbuf, 8 * LBS, 7);
    g_assert_cmphex(pi_rw(e, NVME_IO_WRITE, NS_A, 100, 8, PR_PRACT, 100), ==,
                    NVME_SUCCESS);
    /* PRACT on both sides: checked on the way in, new PI from ILBRT */
    check_sc(pi_copy(e, NS_A, NVME_COPY_FORMAT_0, 0, 1000, 100, 8, rd,
                     PR_PRACT, 1000, 100, false, NULL), NVME_SUCCESS,
             "copy, PRACT both sides");
    check_sc(pi_rw(e, NVME_IO_READ, NS_A, 1000, 8, both, 1000), NVME_SUCCESS,
             "read back with ref check");
    g_assert_true(probing() || same(e->n, e->wbuf, e->rbuf, 8 * LBS));
    /* the stock statuses */
    check_sc(pi_copy(e, NS_A, NVME_COPY_FORMAT_0, 0, 1000, 100, 8, rd,
                     PR_PRACT, 1000, 7, false, NULL), NVME_INVALID_PROT_INFO,
             "EILBRT is not SLBA");
    check_sc(pi_copy(e, NS_A, NVME_COPY_FORMAT_0, 0, 1000, 100, 8, rd, 0,
                     1000, 100, false, NULL), NVME_INVALID_FIELD,
             "PRACT differs");
    /* pass-through: the PI keeps its reference tags 100.. */
    check_sc(pi_copy(e, NS_A, NVME_COPY_FORMAT_0, 0, 2000, 100, 8, PR_REF, 0,
                     2000, 100, false, NULL), NVME_SUCCESS, "pass-through");
    check_sc(pi_rw(e, NVME_IO_READ, NS_A, 2000, 8, both, 2000),
             NVME_E2E_REF_ERROR, "read back pass-through PI");
    /* ... and checked per PRINFOW: nothing written */
    before = ns_read(e, NS_A, 3000, 8);
    check_sc(pi_copy(e, NS_A, NVME_COPY_FORMAT_0, 0, 3000, 100, 8, 0, PR_REF,
                     3000, 100, false, &dw0), NVME_E2E_REF_ERROR,
             "pass-through checked per PRINFOW");
    check_val(dw0, 0, "DW0");
    after = ns_read(e, NS_A, 3000, 8);
    g_assert_true(probing() || !memcmp(before, after, 8 * LBS));
    /* format 1h does not suit 16b guard PI (stock: Invalid Format) */
    check_sc(pi_copy(e, NS_A, NVME_COPY_FORMAT_1, 0, 1000, 100, 8, 0, 0,
                     1000, 100, false, NULL),
             probing() ? NVME_INVALID_FORMAT : NVME_INVALID_NSID,
             "format 1h on 16b guard PI");

    /* data altered behind the guest's back: the guard check catches it */
    memset(junk, 0xa5, sizeof(junk));
    fd = open(e->img[NS_A], O_WRONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, junk, sizeof(junk), 103 * LBS + 40), ==,
                    sizeof(junk));
    close(fd);
    g_free(before);
    g_free(after);
    before = ns_read(e, NS_A, 4000, 8);
    check_sc(pi_copy(e, NS_A, NVME_COPY_FORMAT_0, 0, 4000, 100, 8,
                     PR_PRACT | PR_GUARD, PR_PRACT, 4000, 100, false, &dw0),
             NVME_E2E_GUARD_ERROR, "guard error on the source");
    check_val(dw0, 0, "DW0");
    after = ns_read(e, NS_A, 4000, 8);
    g_assert_true(probing() || !memcmp(before, after, 8 * LBS));
    env_free(e);
}

/* Type 1, 64b guard (ms=16): format 1h's 80-bit tag, MSB first */
static void test_pi_64b(void)
{
    Env *e = env_boot("", ",ms=16,pi=1,pif=2", NULL);
    const uint8_t rd = PR_PRACT | PR_REF | PR_GUARD;

    fill(e->n, e->wbuf, 8 * LBS, 9);
    g_assert_cmphex(pi_rw(e, NVME_IO_WRITE, NS_A, 100, 8, PR_PRACT, 100), ==,
                    NVME_SUCCESS);
    check_sc(pi_copy(e, NS_A, NVME_COPY_FORMAT_1, 0, 1000, 100, 8, rd,
                     PR_PRACT, 1000, 100, true, NULL), NVME_SUCCESS,
             "format 1h, EILBRT MSB first");
    check_sc(pi_copy(e, NS_A, NVME_COPY_FORMAT_1, 0, 1000, 100, 8, rd,
                     PR_PRACT, 1000, 100, false, NULL), NVME_INVALID_PROT_INFO,
             "format 1h, EILBRT LSB first");
    check_sc(pi_rw(e, NVME_IO_READ, NS_A, 1000, 8, rd, 1000), NVME_SUCCESS,
             "read back with guard and ref check");
    g_assert_true(probing() || same(e->n, e->wbuf, e->rbuf, 8 * LBS));
    check_sc(pi_copy(e, NS_A, NVME_COPY_FORMAT_0, 0, 1000, 100, 8, 0, 0,
                     1000, 100, false, NULL),
             probing() ? NVME_INVALID_FORMAT : NVME_INVALID_NSID,
             "format 0h on 64b guard PI");
    env_free(e);
}

/* Across namespaces: PI inserted (PRINFOW.PRACT) and stripped (PRINFOR) */
static void test_pi_cross(void)
{
    Env *e = env_boot("", ",ms=8,pi=1", NULL);
    const uint8_t both = PR_PRACT | PR_REF | PR_GUARD;
    g_autofree uint8_t *want = NULL;
    g_autofree uint8_t *got = NULL;

    enable_cdfe(e, CDFE_23);
    ns_fill(e, NS_B, 0, 8, 0x61);
    want = ns_read(e, NS_B, 0, 8);
    check_sc(pi_copy(e, NS_A, NVME_COPY_FORMAT_2, NS_B, 500, 0, 8, 0, 0, 500,
                     0, false, NULL), NVME_INCOMPATIBLE_NS_OR_FORMAT,
             "no PI to PI without PRACT");
    check_sc(pi_copy(e, NS_A, NVME_COPY_FORMAT_2, NS_B, 500, 0, 8, 0,
                     PR_PRACT, 500, 0, false, NULL), NVME_SUCCESS,
             "PI inserted");
    check_sc(pi_rw(e, NVME_IO_READ, NS_A, 500, 8, both, 500), NVME_SUCCESS,
             "read back the inserted PI");
    got = g_malloc(8 * LBS);
    qtest_memread(e->n->qts, e->rbuf, got, 8 * LBS);
    g_assert_true(probing() || !memcmp(got, want, 8 * LBS));
    g_free(got);
    /* and back, stripped: PRINFOR.PRACT; without it incompatible */
    check_sc(pi_copy(e, NS_B, NVME_COPY_FORMAT_2, NS_A, 900, 500, 8, 0, 0,
                     900, 500, false, NULL), NVME_INCOMPATIBLE_NS_OR_FORMAT,
             "PI to no PI without PRACT");
    check_sc(pi_copy(e, NS_B, NVME_COPY_FORMAT_2, NS_A, 900, 500, 8,
                     PR_PRACT | PR_REF | PR_GUARD, 0, 900, 500, false, NULL),
             NVME_SUCCESS, "PI stripped");
    got = ns_read(e, NS_B, 900, 8);
    g_assert_true(probing() || !memcmp(got, want, 8 * LBS));
    env_free(e);
}

/* ---- ctratt.mem, ocp ---------------------------------------------------- */

static void test_ctratt_mem(void)
{
    Env *e = env_boot("ctratt.mem=on", NULL, NULL);
    g_autofree NvmeIdCtrl *ctrl = g_new0(NvmeIdCtrl, 1);

    identify_read(e->n, NVME_CNS_CTRL, 0, ctrl, sizeof(*ctrl));
    check_val(le32_to_cpu(ctrl->ctratt) & NVME_CTRATT_MEM, NVME_CTRATT_MEM,
              "CTRATT.MEM");
    env_free(e);
}

static void dump_log(Env *e, uint8_t lid, unsigned len)
{
    g_autofree uint8_t *p = g_malloc(len);

    qtest_memread(e->n->qts, e->n->buf, p, len);
    for (unsigned off = 0; off < len; off += 32) {
        g_autoptr(GString) s = qemu_hexdump_line(NULL, p + off, 32, 0, 0);

        g_test_message("log 0x%x %04x %s", lid, off, s->str);
    }
}

static void test_ocp(void)
{

    static const uint8_t guid[] = NVME_OCP_SMART_GUID;
    uint8_t want[OCP_LOG_SIZE] = { 0 }, got[OCP_LOG_SIZE];
    Env *e = env_boot("", NULL, NULL);

    /* stock's status without ocp=on */
    check_sc(get_log(e->n, OCP_LOG_ID, OCP_LOG_SIZE, e->n->buf),
             NVME_INVALID_FIELD, "log C0h with ocp=off");
    env_free(e);

    /*
     * What stock returns after 64 blocks written and 16 read: the bytes
     * written and read (physical media units), version 5, the GUID.
     */
    e = env_boot("ocp=on", NULL, NULL);
    ns_fill(e, NS_A, 0, 64, 1);
    g_free(ns_read(e, NS_A, 0, 16));
    check_sc(get_log(e->n, OCP_LOG_ID, OCP_LOG_SIZE, e->n->buf),
             NVME_SUCCESS, "log C0h with ocp=on");
    if (probing()) {
        dump_log(e, OCP_LOG_ID, OCP_LOG_SIZE);
    } else {
        stq_le_p(want + offsetof(NvmeOcpSmartLog,
                                 physical_media_units_written), 64 * LBS);
        stq_le_p(want + offsetof(NvmeOcpSmartLog,
                                 physical_media_units_read), 16 * LBS);
        stw_le_p(want + offsetof(NvmeOcpSmartLog, log_page_version), 5);
        memcpy(want + offsetof(NvmeOcpSmartLog, log_page_guid), guid,
               sizeof(guid));
        qtest_memread(e->n->qts, e->n->buf, got, sizeof(got));
        g_assert_true(!memcmp(want, got, sizeof(got)));
    }
    env_free(e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/nvqemu/nvme-copy/identify", test_identify);
    qtest_add_func("/nvqemu/nvme-copy/formats", test_formats);
    qtest_add_func("/nvqemu/nvme-copy/overlap", test_overlap);
    qtest_add_func("/nvqemu/nvme-copy/errors", test_errors);
    qtest_add_func("/nvqemu/nvme-copy/cdfe", test_cdfe);
    qtest_add_func("/nvqemu/nvme-copy/error-midway", test_error_midway);
    qtest_add_func("/nvqemu/nvme-copy/drive-ns", test_drive_ns);
    qtest_add_func("/nvqemu/nvme-copy/smart", test_smart);
    qtest_add_func("/nvqemu/nvme-copy/pi-16b", test_pi_16b);
    qtest_add_func("/nvqemu/nvme-copy/pi-64b", test_pi_64b);
    qtest_add_func("/nvqemu/nvme-copy/pi-cross", test_pi_cross);
    qtest_add_func("/nvqemu/nvme-copy/atomic", test_atomic);
    qtest_add_func("/nvqemu/nvme-copy/atomic-overlap", test_atomic_overlap);
    qtest_add_func("/nvqemu/nvme-copy/ctratt-mem", test_ctratt_mem);
    qtest_add_func("/nvqemu/nvme-copy/ocp", test_ocp);
    return g_test_run();
}
