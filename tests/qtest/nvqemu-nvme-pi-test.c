/*
 * qtest for nvqemu's NVMe metadata and end-to-end protection: the
 * nvme-ns ms/mset/pi/pil/pif formats in Identify, MPTR (PRP and SGL),
 * extended LBAs, PRACT/PRCHK, every end-to-end error (bad tags from the
 * host and data altered in the backing file under QEMU), the metadata
 * layout in the image and in a meta-drive, Format NVM with PI, and DULBE.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "hw/block/nvme/spec.h"

#include "nvqemu-nvme-host.h"

#define NSID        2
#define NS_SIZE     (4 * 1024 * 1024)
#define LBS         512u

/* PRINFO bits in CDW12 (NVM Figure 11, bits 29:26) */
#define PRACT       (1u << 29)
#define PRCHK_GUARD (1u << 28)
#define PRCHK_APP   (1u << 27)
#define PRCHK_REF   (1u << 26)
#define PRCHK_ALL   (PRCHK_GUARD | PRCHK_APP | PRCHK_REF)

/* Stock's LBA formats: 512 B / 4 KiB with 0, 8, 16, 64 bytes metadata */
static const struct {
    uint8_t lbads;
    uint16_t ms;
} stock_lbafs[8] = {
    { 9, 0 }, { 9, 8 }, { 9, 16 }, { 9, 64 },
    { 12, 0 }, { 12, 8 }, { 12, 16 }, { 12, 64 },
};

/* CRC-16 T10-DIF, bit by bit: independent of the device's tables */
static uint16_t crc16(uint16_t crc, const uint8_t *p, size_t len)
{
    while (len--) {
        crc ^= *p++ << 8;
        for (int b = 0; b < 8; b++) {
            crc = crc & 0x8000 ? (crc << 1) ^ 0x8bb7 : crc << 1;
        }
    }
    return crc;
}

/* CRC-64/NVME, bit by bit */
static uint64_t crc64(const uint8_t *p, size_t len)
{
    uint64_t crc = ~0ull;

    while (len--) {
        crc ^= *p++;
        for (int b = 0; b < 8; b++) {
            crc = crc & 1 ? (crc >> 1) ^ 0x9a6c9329ac4bc9b5ull : crc >> 1;
        }
    }
    return ~crc;
}

typedef struct PiNs {
    Nvme *n;
    char *img;          /* the namespace's image */
    char *mimg;         /* its meta-drive, or NULL */
} PiNs;

static char *tmp_image(uint64_t size)
{
    char *path;
    int fd = g_file_open_tmp("nvqemu-pi-XXXXXX.img", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

/*
 * Controller nvme0 (more properties @ctrl_opts) with namespace NSID on a
 * fresh image, props @ns_opts, and a meta-drive of @meta_size if not 0
 */
static PiNs *pi_boot_ctrl(const char *ctrl_opts, const char *ns_opts,
                          uint64_t meta_size)
{
    PiNs *p = g_new0(PiNs, 1);
    g_autofree char *extra = NULL;
    g_autofree char *mdrive = NULL;

    p->img = tmp_image(NS_SIZE);
    if (meta_size) {
        p->mimg = tmp_image(meta_size);
        mdrive = g_strdup_printf("-drive id=m1,if=none,format=raw,file=%s ",
                                 p->mimg);
    }
    extra = g_strdup_printf("-drive id=d1,if=none,format=raw,discard=unmap,"
                            "file=%s %s"
                            "-device nvme-ns,drive=d1,bus=nvme0,nsid=%u%s%s%s",
                            p->img, mdrive ? mdrive : "", NSID,
                            meta_size ? ",meta-drive=m1" : "",
                            *ns_opts ? "," : "", ns_opts);
    p->n = nvme_boot(ctrl_opts, extra);
    ctrl_enable(p->n, NVME_CC_AMS_RR);
    io_queues(p->n, 1);
    return p;
}

static PiNs *pi_boot(const char *ns_opts, uint64_t meta_size)
{
    return pi_boot_ctrl("", ns_opts, meta_size);
}

static void pi_free(PiNs *p)
{
    nvme_free(p->n);
    unlink(p->img);
    g_free(p->img);
    if (p->mimg) {
        unlink(p->mimg);
        g_free(p->mimg);
    }
    g_free(p);
}

static void id_ns(Nvme *n, NvmeIdNs *id)
{
    identify_read(n, NVME_CNS_NS, NSID, id, sizeof(*id));
}

/* An I/O command on NSID with PRPs for the data at @data */
static NvmeSqe pi_cmd(Nvme *n, uint8_t opc, uint64_t slba, uint32_t nlb,
                      uint32_t prinfo, uint64_t data, uint32_t len)
{
    NvmeSqe c = rw_cmd(n, opc, slba, nlb);

    c.nsid = cpu_to_le32(NSID);
    c.cdw12 = cpu_to_le32(le32_to_cpu(c.cdw12) | prinfo);
    if (len) {
        set_prps(n, &c, data, len, data + 60 * 1024);
    }
    return c;
}

static void set_tags(NvmeSqe *c, uint32_t ilbrt, uint16_t lbat,
                     uint16_t lbatm)
{
    c->cdw14 = cpu_to_le32(ilbrt);
    c->cdw15 = cpu_to_le32((uint32_t)lbatm << 16 | lbat);
}

/* 16b guard PI tuples (last in @ms bytes) for @nlb blocks at @data */
static void make_pi16(const uint8_t *data, uint8_t *meta, uint32_t nlb,
                      uint16_t ms, uint32_t ref, uint16_t app)
{
    for (uint32_t i = 0; i < nlb; i++) {
        uint8_t *md = meta + i * ms;
        uint8_t *t = md + ms - 8;
        uint16_t g = crc16(crc16(0, data + i * LBS, LBS), md, ms - 8);

        stw_be_p(t, g);
        stw_be_p(t + 2, app);
        stl_be_p(t + 4, ref + i);
    }
}

/* ---- identify ---------------------------------------------------------- */

static void test_identify_formats(void)
{
    static const struct {
        const char *opts;
        uint8_t lbaf;
        uint8_t nlbaf;      /* 0's based */
        bool ext;
        uint8_t dps;
        uint16_t ms8;       /* MS of format 8, if added */
        uint8_t pif;
    } cases[] = {
        { "", 0, 7, false, 0, 0, 0 },
        { "ms=8", 1, 7, false, 0, 0, 0 },
        { "ms=8,pi=1", 1, 7, false, 1, 0, 0 },
        { "ms=16,mset=1,pi=2,pil=1", 2, 7, true, 2 | 8, 0, 0 },
        { "ms=64,pi=3", 3, 7, false, 3, 0, 0 },
        { "ms=16,pi=1,pif=2", 2, 7, false, 1, 0, 2 },
        { "ms=32,pi=1", 8, 8, false, 1, 32, 0 },
        { "logical_block_size=4096,physical_block_size=4096,ms=8,pi=1",
          5, 7, false, 1, 0, 0 },
    };

    for (unsigned k = 0; k < ARRAY_SIZE(cases); k++) {
        PiNs *p = pi_boot(cases[k].opts, 0);
        g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
        g_autofree NvmeIdNsNvm *nvm = g_new0(NvmeIdNsNvm, 1);
        g_autofree NvmeIdCtrl *ctrl = g_new0(NvmeIdCtrl, 1);
        uint32_t ms = stock_lbafs[cases[k].lbaf % 8].ms;
        uint64_t lbs;

        id_ns(p->n, id);
        g_assert_cmpuint(id->nlbaf, ==, cases[k].nlbaf);
        g_assert_cmpuint(FIELD_EX32(id->flbas, NVME_FLBAS, LBAFL), ==,
                         cases[k].lbaf);
        g_assert_cmpuint(FIELD_EX32(id->flbas, NVME_FLBAS, EXTENDED), ==,
                         cases[k].ext);
        g_assert_cmphex(id->mc, ==, NVME_MC_EXTENDED | NVME_MC_SEPARATE);
        g_assert_cmphex(id->dpc, ==, 0x1f);
        g_assert_cmphex(id->dps, ==, cases[k].dps);
        g_assert_cmphex(id->nsfeat & NVME_NSFEAT_DAE, ==, NVME_NSFEAT_DAE);
        for (unsigned i = 0; i < 8; i++) {
            g_assert_cmpuint(id->lbaf[i].lbads, ==, stock_lbafs[i].lbads);
            g_assert_cmpuint(le16_to_cpu(id->lbaf[i].ms), ==,
                             stock_lbafs[i].ms);
        }
        if (cases[k].lbaf == 8) {
            ms = cases[k].ms8;
            g_assert_cmpuint(le16_to_cpu(id->lbaf[8].ms), ==, ms);
        }
        /* data and metadata share the image (stock's layout) */
        lbs = 1ull << id->lbaf[cases[k].lbaf].lbads;
        g_assert_cmpuint(le64_to_cpu(id->nsze), ==, NS_SIZE / (lbs + ms));

        identify_read(p->n, NVME_CNS_CSI_NS, NSID, nvm, sizeof(*nvm));
        g_assert_cmpuint(FIELD_EX32(le32_to_cpu(nvm->elbaf[cases[k].lbaf]),
                                    NVME_ELBAF, PIF), ==, cases[k].pif);
        g_assert_cmpuint(le64_to_cpu(nvm->lbstm), ==, 0);
        identify_read(p->n, NVME_CNS_CTRL, 0, ctrl, sizeof(*ctrl));
        g_assert_cmphex(le32_to_cpu(ctrl->ctratt) & NVME_CTRATT_ELBAS, ==,
                        NVME_CTRATT_ELBAS);
        pi_free(p);
    }
}

/* Properties out of range are refused with an error naming them */
static void test_bad_properties(void)
{
    static const struct {
        const char *opts;
        const char *msg;
    } cases[] = {
        { "pi=1", "at least 8 bytes of metadata" },
        { "ms=8,pi=1,pif=2", "at least 16 bytes of metadata" },
        { "ms=8,pi=4", "pi must be" },
        { "ms=16,pi=1,pif=1", "pif must be" },
        { "ms=16,pi=1,pif=3", "pif must be" },
    };

    for (unsigned k = 0; k < ARRAY_SIZE(cases); k++) {
        g_autofree char *img = tmp_image(NS_SIZE);
        g_autofree char *args = g_strdup_printf(
            "-nodefaults -M pc -display none "
            "-drive id=d1,if=none,format=raw,file=%s "
            "-device nvme,id=nvme0,serial=x "
            "-device nvme-ns,drive=d1,bus=nvme0,%s", img, cases[k].opts);
        g_autofree char *cmd = g_strdup_printf("timeout 60 %s %s",
                                               g_getenv("QTEST_QEMU_BINARY"),
                                               args);
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        int status;

        g_assert_true(g_spawn_command_line_sync(cmd, &out, &err, &status,
                                                NULL));
        g_assert_cmpint(status, !=, 0);
        g_assert_nonnull(strstr(err, cases[k].msg));
        unlink(img);
    }
}

/* ---- PI round trips ------------------------------------------------------ */

/*
 * Type 1, 8 bytes of metadata through MPTR: the host's tuples are
 * checked on write and read back; PRACT inserts them; each check fails
 * on its own field.
 */
static void test_type1_mptr(void)
{
    PiNs *p = pi_boot("ms=8,pi=1", 0);
    Nvme *n = p->n;
    uint64_t data = n->buf, rdata = n->buf + 16 * 1024;
    uint64_t meta = nvme_alloc(n, PAGE), rmeta = nvme_alloc(n, PAGE);
    uint8_t d[4 * LBS], m[4 * 8], r[4 * 8];
    NvmeSqe c;

    fill(n, data, sizeof(d), 0x31);
    qtest_memread(n->qts, data, d, sizeof(d));
    make_pi16(d, m, 4, 8, 10, 0x1234);
    qtest_memwrite(n->qts, meta, m, sizeof(m));

    /* write with every check, tags as given */
    c = pi_cmd(n, NVME_IO_WRITE, 10, 4, PRCHK_ALL, data, sizeof(d));
    c.mptr = cpu_to_le64(meta);
    set_tags(&c, 10, 0x1234, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);

    /* read back data and metadata */
    c = pi_cmd(n, NVME_IO_READ, 10, 4, PRCHK_ALL, rdata, sizeof(d));
    c.mptr = cpu_to_le64(rmeta);
    set_tags(&c, 10, 0x1234, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    g_assert_true(same(n, data, rdata, sizeof(d)));
    qtest_memread(n->qts, rmeta, r, sizeof(r));
    g_assert_cmpmem(r, sizeof(r), m, sizeof(m));

    /* application tag mismatch, and masked off */
    c = pi_cmd(n, NVME_IO_READ, 10, 4, PRCHK_ALL, rdata, sizeof(d));
    c.mptr = cpu_to_le64(rmeta);
    set_tags(&c, 10, 0x1235, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_E2E_APP_ERROR);
    c = pi_cmd(n, NVME_IO_READ, 10, 4, PRCHK_ALL, rdata, sizeof(d));
    c.mptr = cpu_to_le64(rmeta);
    set_tags(&c, 10, 0x1235, 0xfff0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);

    /* Type 1: ILBRT must be the SLBA */
    c = pi_cmd(n, NVME_IO_READ, 10, 4, PRCHK_ALL, rdata, sizeof(d));
    c.mptr = cpu_to_le64(rmeta);
    set_tags(&c, 11, 0x1234, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_PROT_INFO);

    /* a write whose guard is wrong */
    m[8 + 6] ^= 1;          /* block 1's ref tag */
    qtest_memwrite(n->qts, meta, m, sizeof(m));
    c = pi_cmd(n, NVME_IO_WRITE, 10, 4, PRCHK_ALL, data, sizeof(d));
    c.mptr = cpu_to_le64(meta);
    set_tags(&c, 10, 0x1234, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_E2E_REF_ERROR);
    m[8 + 6] ^= 1;
    m[16] ^= 0x80;          /* block 2's guard */
    qtest_memwrite(n->qts, meta, m, sizeof(m));
    c = pi_cmd(n, NVME_IO_WRITE, 10, 4, PRCHK_ALL, data, sizeof(d));
    c.mptr = cpu_to_le64(meta);
    set_tags(&c, 10, 0x1234, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_E2E_GUARD_ERROR);
    /* unchecked, it is stored as given, and then fails the read check */
    c = pi_cmd(n, NVME_IO_WRITE, 10, 4, 0, data, sizeof(d));
    c.mptr = cpu_to_le64(meta);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = pi_cmd(n, NVME_IO_READ, 10, 4, PRCHK_GUARD, rdata, sizeof(d));
    c.mptr = cpu_to_le64(rmeta);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_E2E_GUARD_ERROR);
    /* Verify checks the PI too */
    c = pi_cmd(n, NVME_IO_VERIFY, 10, 4, PRCHK_GUARD, 0, 0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_E2E_GUARD_ERROR);

    /* PRACT: the controller inserts the PI, no metadata from the host */
    c = pi_cmd(n, NVME_IO_WRITE, 10, 4, PRACT, data, sizeof(d));
    set_tags(&c, 10, 0x5678, 0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = pi_cmd(n, NVME_IO_READ, 10, 4, PRCHK_ALL, rdata, sizeof(d));
    c.mptr = cpu_to_le64(rmeta);
    set_tags(&c, 10, 0x5678, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    make_pi16(d, m, 4, 8, 10, 0x5678);
    qtest_memread(n->qts, rmeta, r, sizeof(r));
    g_assert_cmpmem(r, sizeof(r), m, sizeof(m));
    c = pi_cmd(n, NVME_IO_VERIFY, 10, 4, PRCHK_ALL, 0, 0);
    set_tags(&c, 10, 0x5678, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    /* a read with PRACT strips it: nothing is written at MPTR */
    qtest_memset(n->qts, rmeta, 0xee, sizeof(r));
    c = pi_cmd(n, NVME_IO_READ, 10, 4, PRACT | PRCHK_ALL, rdata, sizeof(d));
    c.mptr = cpu_to_le64(rmeta);
    set_tags(&c, 10, 0x5678, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    g_assert_cmphex(qtest_readb(n->qts, rmeta), ==, 0xee);
    /* Compare and Verify take no PRACT (stock: Invalid PI) */
    c = pi_cmd(n, NVME_IO_COMPARE, 10, 4, PRACT | PRCHK_ALL, data,
               sizeof(d));
    set_tags(&c, 10, 0x5678, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_PROT_INFO);
    c = pi_cmd(n, NVME_IO_VERIFY, 10, 4, PRACT, 0, 0);
    set_tags(&c, 10, 0x5678, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_PROT_INFO);
    /* Compare: same data and metadata pass, other data fails */
    qtest_memwrite(n->qts, meta, m, sizeof(m));
    c = pi_cmd(n, NVME_IO_COMPARE, 10, 4, PRCHK_ALL, data, sizeof(d));
    c.mptr = cpu_to_le64(meta);
    set_tags(&c, 10, 0x5678, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = pi_cmd(n, NVME_IO_COMPARE, 10, 4, 0, n->buf + 32 * 1024,
               sizeof(d));
    c.mptr = cpu_to_le64(meta);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_COMPARE_FAILURE);

    /* never-written blocks escape the checks (their PI reads as FFh) */
    c = pi_cmd(n, NVME_IO_READ, 100, 4, PRCHK_ALL, rdata, sizeof(d));
    c.mptr = cpu_to_le64(rmeta);
    set_tags(&c, 100, 0, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    g_assert_cmphex(qtest_readl(n->qts, rmeta), ==, 0xffffffff);

    /* a metadata pointer outside RAM, and misaligned */
    c = pi_cmd(n, NVME_IO_READ, 10, 4, 0, rdata, sizeof(d));
    c.mptr = cpu_to_le64(UNMAPPED_ADDR);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_DATA_TRANSFER_ERROR);
    c = pi_cmd(n, NVME_IO_WRITE, 10, 4, 0, data, sizeof(d));
    c.mptr = cpu_to_le64(meta + 2);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_FIELD);
    pi_free(p);
}

/* The metadata pointer as an SGL descriptor (PSDT 10b), data by SGL */
static void test_mptr_sgl(void)
{
    PiNs *p = pi_boot("ms=16,pi=2,pil=1", 0);
    Nvme *n = p->n;
    uint64_t data = n->buf, rdata = n->buf + 16 * 1024;
    uint64_t desc = nvme_alloc(n, PAGE), meta = nvme_alloc(n, PAGE);
    NvmeSglDesc sd = {
        .addr = cpu_to_le64(meta), .len = cpu_to_le32(2 * 16),
        .id = NVME_SGL_TYPE_DATA_BLOCK << R_NVME_SGL_ID_TYPE_SHIFT,
    };
    uint8_t m[2 * 16];
    NvmeSqe c;

    fill(n, data, 2 * LBS, 0x44);
    qtest_memwrite(n->qts, desc, &sd, sizeof(sd));
    c = pi_cmd(n, NVME_IO_WRITE, 3, 2, PRACT, 0, 0);
    set_sgl(&c, data, 2 * LBS, NVME_SGL_TYPE_DATA_BLOCK);
    c.cdw0 = cpu_to_le32(FIELD_DP32(le32_to_cpu(c.cdw0), NVME_CDW0, PSDT,
                                    NVME_PSDT_SGL_MPTR_SGL));
    c.mptr = cpu_to_le64(desc);
    set_tags(&c, 77, 0x0102, 0);
    /* PI first in 16 bytes: the host gives the other 8 bytes */
    qtest_memset(n->qts, meta, 0xab, sizeof(m));
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);

    qtest_memset(n->qts, meta, 0, sizeof(m));
    c = pi_cmd(n, NVME_IO_READ, 3, 2, PRCHK_ALL, 0, 0);
    set_sgl(&c, rdata, 2 * LBS, NVME_SGL_TYPE_DATA_BLOCK);
    c.cdw0 = cpu_to_le32(FIELD_DP32(le32_to_cpu(c.cdw0), NVME_CDW0, PSDT,
                                    NVME_PSDT_SGL_MPTR_SGL));
    c.mptr = cpu_to_le64(desc);
    set_tags(&c, 77, 0x0102, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    g_assert_true(same(n, data, rdata, 2 * LBS));
    qtest_memread(n->qts, meta, m, sizeof(m));
    g_assert_cmphex(lduw_be_p(m + 2), ==, 0x0102);
    g_assert_cmphex(ldl_be_p(m + 4), ==, 77);
    g_assert_cmphex(ldl_be_p(m + 16 + 4), ==, 78);
    g_assert_cmphex(m[8], ==, 0xab);
    /* Type 2: any ILBRT, but the tags must count from it */
    c = pi_cmd(n, NVME_IO_READ, 3, 2, PRCHK_REF, 0, 0);
    set_sgl(&c, rdata, 2 * LBS, NVME_SGL_TYPE_DATA_BLOCK);
    c.cdw0 = cpu_to_le32(FIELD_DP32(le32_to_cpu(c.cdw0), NVME_CDW0, PSDT,
                                    NVME_PSDT_SGL_MPTR_SGL));
    c.mptr = cpu_to_le64(desc);
    set_tags(&c, 78, 0, 0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_E2E_REF_ERROR);
    /* the descriptor outside RAM */
    set_tags(&c, 77, 0, 0);
    c.mptr = cpu_to_le64(UNMAPPED_ADDR);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_DATA_TRANSFER_ERROR);
    pi_free(p);
}

/* Extended LBAs: data and metadata interleaved in the data pointer */
static void test_extended(void)
{
    PiNs *p = pi_boot("ms=8,mset=1,pi=1", 0);
    Nvme *n = p->n;
    uint64_t data = n->buf, rdata = n->buf + 16 * 1024;
    uint8_t d[2 * LBS], m[2 * 8], ext[2 * (LBS + 8)], r[2 * (LBS + 8)];
    NvmeSqe c;

    fill(n, data, sizeof(d), 0x52);
    qtest_memread(n->qts, data, d, sizeof(d));
    make_pi16(d, m, 2, 8, 20, 0xbeef);
    for (int i = 0; i < 2; i++) {
        memcpy(ext + i * (LBS + 8), d + i * LBS, LBS);
        memcpy(ext + i * (LBS + 8) + LBS, m + i * 8, 8);
    }
    qtest_memwrite(n->qts, data, ext, sizeof(ext));
    c = pi_cmd(n, NVME_IO_WRITE, 20, 2, PRCHK_ALL, data, sizeof(ext));
    set_tags(&c, 20, 0xbeef, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = pi_cmd(n, NVME_IO_READ, 20, 2, PRCHK_ALL, rdata, sizeof(ext));
    set_tags(&c, 20, 0xbeef, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    qtest_memread(n->qts, rdata, r, sizeof(r));
    g_assert_cmpmem(r, sizeof(r), ext, sizeof(ext));
    /* PRACT with MS = 8: the data pointer holds the data only */
    c = pi_cmd(n, NVME_IO_READ, 20, 2, PRACT | PRCHK_ALL, rdata, sizeof(d));
    set_tags(&c, 20, 0xbeef, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    qtest_memread(n->qts, rdata, r, sizeof(d));
    g_assert_cmpmem(r, sizeof(d), d, sizeof(d));
    pi_free(p);
}

/*
 * MDTS counts the metadata interleaved in the data pointer (Base MDTS;
 * as stock): with mdts=1 (8 KiB), 16 blocks of 512 + 8 bytes are too
 * many, unless PRACT leaves the data alone in the transfer, or CTRATT.MEM
 * says MDTS excludes the metadata
 */
static void test_mdts_extended(void)
{
    PiNs *p = pi_boot_ctrl("mdts=1", "ms=8,mset=1,pi=1", 0);
    Nvme *n = p->n;
    NvmeSqe c;

    c = pi_cmd(n, NVME_IO_WRITE, 0, 15, 0, n->buf, 15 * (LBS + 8));
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = pi_cmd(n, NVME_IO_WRITE, 0, 16, 0, n->buf, 16 * (LBS + 8));
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_FIELD);
    c = pi_cmd(n, NVME_IO_WRITE, 0, 16, PRACT, n->buf, 16 * LBS);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = pi_cmd(n, NVME_IO_READ, 0, 17, PRACT, n->buf, 17 * LBS);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_FIELD);
    pi_free(p);

    /* ctratt.mem=on (CTRATT.MEM): MDTS counts the data alone, as stock */
    p = pi_boot_ctrl("mdts=1,ctratt.mem=on", "ms=8,mset=1,pi=1", 0);
    n = p->n;
    c = pi_cmd(n, NVME_IO_WRITE, 0, 16, 0, n->buf, 16 * (LBS + 8));
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = pi_cmd(n, NVME_IO_READ, 0, 17, 0, n->buf, 17 * (LBS + 8));
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_FIELD);
    pi_free(p);
}

/* 64b guard, Type 1: CRC-64 guard and 48-bit reference tags */
static void test_pif64(void)
{
    PiNs *p = pi_boot("ms=16,pi=1,pif=2", 0);
    Nvme *n = p->n;
    uint64_t data = n->buf, meta = nvme_alloc(n, PAGE);
    uint8_t d[LBS], m[16];
    NvmeSqe c;

    fill(n, data, sizeof(d), 0x61);
    qtest_memread(n->qts, data, d, sizeof(d));
    c = pi_cmd(n, NVME_IO_WRITE, 5, 1, PRACT, data, sizeof(d));
    set_tags(&c, 5, 0x4242, 0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = pi_cmd(n, NVME_IO_READ, 5, 1, PRCHK_ALL, data, sizeof(d));
    c.mptr = cpu_to_le64(meta);
    set_tags(&c, 5, 0x4242, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    qtest_memread(n->qts, meta, m, sizeof(m));
    g_assert_cmphex(ldq_be_p(m), ==, crc64(d, sizeof(d)));
    g_assert_cmphex(lduw_be_p(m + 8), ==, 0x4242);
    g_assert_cmphex(ldl_be_p(m + 12), ==, 5);
    /* EILBRT bits 47:32 in CDW3 count for the Type 1 rule */
    c = pi_cmd(n, NVME_IO_READ, 5, 1, PRCHK_ALL, data, sizeof(d));
    c.mptr = cpu_to_le64(meta);
    set_tags(&c, 5, 0x4242, 0xffff);
    c.cdw3 = cpu_to_le32(1);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_PROT_INFO);
    pi_free(p);
}

/* ---- where the metadata lives ------------------------------------------- */

static void read_file(const char *path, uint64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, len, off), ==, len);
    close(fd);
}

static void write_file(const char *path, uint64_t off, const void *buf,
                       size_t len)
{
    int fd = open(path, O_WRONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, buf, len, off), ==, len);
    g_assert_cmpint(fdatasync(fd), ==, 0);
    close(fd);
}

/* Flush so that the image files hold what was written */
static void ns_flush(Nvme *n)
{
    NvmeSqe c = sqe_new(n, NVME_IO_FLUSH, NSID);

    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
}

/*
 * Stock's layout: block n's metadata at nsze * 512 + n * ms of the image.
 * Data altered in the file behind QEMU's back fails the guard check.
 */
static void test_layout_image(void)
{
    PiNs *p = pi_boot("ms=8,pi=1", 0);
    Nvme *n = p->n;
    uint64_t nsze = NS_SIZE / (LBS + 8);
    uint64_t data = n->buf;
    uint8_t d[LBS], t[8], z = 0x99;
    NvmeSqe c;

    fill(n, data, sizeof(d), 0x17);
    qtest_memread(n->qts, data, d, sizeof(d));
    c = pi_cmd(n, NVME_IO_WRITE, 33, 1, PRACT, data, sizeof(d));
    set_tags(&c, 33, 0x0a0b, 0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    ns_flush(n);
    read_file(p->img, nsze * LBS + 33 * 8, t, sizeof(t));
    g_assert_cmphex(lduw_be_p(t), ==, crc16(0, d, sizeof(d)));
    g_assert_cmphex(lduw_be_p(t + 2), ==, 0x0a0b);
    g_assert_cmphex(ldl_be_p(t + 4), ==, 33);

    /* one byte of data changed in the image: guard check error */
    write_file(p->img, 33 * LBS + 100, &z, 1);
    c = pi_cmd(n, NVME_IO_READ, 33, 1, PRCHK_GUARD | PRCHK_REF, data,
               sizeof(d));
    c.mptr = cpu_to_le64(n->buf + 32 * 1024);
    set_tags(&c, 33, 0, 0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_E2E_GUARD_ERROR);
    /* a reference tag changed in the image: reference tag error */
    t[7] ^= 1;
    write_file(p->img, nsze * LBS + 33 * 8, t, sizeof(t));
    c = pi_cmd(n, NVME_IO_READ, 33, 1, PRCHK_REF, data, sizeof(d));
    c.mptr = cpu_to_le64(n->buf + 32 * 1024);
    set_tags(&c, 33, 0, 0);
    c.cdw14 = cpu_to_le32(33);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_E2E_REF_ERROR);
    pi_free(p);
}

/* meta-drive: block n's metadata at n * ms of its own image */
static void test_meta_drive(void)
{
    PiNs *p = pi_boot("ms=8,pi=1", NS_SIZE / LBS * 8);
    Nvme *n = p->n;
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    uint64_t data = n->buf;
    uint8_t d[2 * LBS], t[16], z[16] = { 0 };
    NvmeSqe c;

    id_ns(n, id);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, NS_SIZE / LBS);
    fill(n, data, sizeof(d), 0x23);
    qtest_memread(n->qts, data, d, sizeof(d));
    c = pi_cmd(n, NVME_IO_WRITE, 1000, 2, PRACT, data, sizeof(d));
    set_tags(&c, 1000, 0x7777, 0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    ns_flush(n);
    read_file(p->mimg, 1000 * 8, t, sizeof(t));
    g_assert_cmphex(lduw_be_p(t), ==, crc16(0, d, LBS));
    g_assert_cmphex(ldl_be_p(t + 4), ==, 1000);
    g_assert_cmphex(lduw_be_p(t + 8), ==, crc16(0, d + LBS, LBS));
    g_assert_cmphex(ldl_be_p(t + 12), ==, 1001);
    /* the data image holds data only: nothing after the blocks */
    read_file(p->img, NS_SIZE - 16, t, sizeof(t));
    g_assert_cmpmem(t, sizeof(t), z, sizeof(z));
    /* a tuple altered in the meta-drive: application tag error */
    t[0] = 0;
    read_file(p->mimg, 1000 * 8, t, sizeof(t));
    t[3] ^= 0x10;
    write_file(p->mimg, 1000 * 8, t, sizeof(t));
    c = pi_cmd(n, NVME_IO_READ, 1000, 2, PRACT | PRCHK_ALL, data, sizeof(d));
    set_tags(&c, 1000, 0x7777, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_E2E_APP_ERROR);
    /* Format NVM with user data erase erases the meta-drive too */
    c = sqe_new(n, NVME_ADM_FORMAT_NVM, NSID);
    c.cdw10 = cpu_to_le32(1 | 1 << 5 | NVME_FORMAT_SES_USER_DATA << 9);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_SUCCESS);
    read_file(p->mimg, 1000 * 8, t, sizeof(t));
    g_assert_cmpmem(t, sizeof(t), z, sizeof(z));
    /* a format whose metadata the meta-drive cannot hold: refused */
    c = sqe_new(n, NVME_ADM_FORMAT_NVM, NSID);
    c.cdw10 = cpu_to_le32(3 | 1 << 5);      /* 512 B + 64 B */
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_INVALID_FORMAT);
    pi_free(p);
}

/* A meta-drive too small is refused at realize */
static void test_meta_drive_small(void)
{
    g_autofree char *img = tmp_image(NS_SIZE);
    g_autofree char *mimg = tmp_image(4096);
    g_autofree char *cmd = g_strdup_printf(
        "timeout 60 %s -nodefaults -M pc -display none "
        "-drive id=d1,if=none,format=raw,file=%s "
        "-drive id=m1,if=none,format=raw,file=%s "
        "-device nvme,id=nvme0,serial=x "
        "-device nvme-ns,drive=d1,bus=nvme0,ms=8,meta-drive=m1",
        g_getenv("QTEST_QEMU_BINARY"), img, mimg);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status;

    g_assert_true(g_spawn_command_line_sync(cmd, &out, &err, &status, NULL));
    g_assert_cmpint(status, !=, 0);
    g_assert_nonnull(strstr(err, "meta-drive"));
    unlink(img);
    unlink(mimg);
}

/* ---- Write Zeroes, Format NVM, PRINFO without PI, DULBE ----------------- */

static void test_write_zeroes(void)
{
    PiNs *p = pi_boot("ms=8,pi=1", 0);
    Nvme *n = p->n;
    uint64_t data = n->buf, meta = nvme_alloc(n, PAGE);
    uint8_t zero[LBS] = { 0 }, t[8];
    NvmeSqe c;

    fill(n, data, LBS, 0x71);
    c = pi_cmd(n, NVME_IO_WRITE, 7, 1, PRACT, data, LBS);
    set_tags(&c, 7, 0, 0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    /* with PRACT the zeroed block gets its PI generated */
    c = pi_cmd(n, NVME_IO_WRITE_ZEROES, 7, 1, PRACT, 0, 0);
    set_tags(&c, 7, 0x3333, 0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = pi_cmd(n, NVME_IO_READ, 7, 1, PRCHK_ALL, data, LBS);
    c.mptr = cpu_to_le64(meta);
    set_tags(&c, 7, 0x3333, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    ns_flush(n);
    read_file(p->img, NS_SIZE / (LBS + 8) * LBS + 7 * 8, t, sizeof(t));
    g_assert_cmphex(lduw_be_p(t), ==, crc16(0, zero, LBS));
    g_assert_cmphex(lduw_be_p(t + 2), ==, 0x3333);
    g_assert_cmphex(ldl_be_p(t + 4), ==, 7);
    /* without PRACT the metadata is zeroed */
    c = pi_cmd(n, NVME_IO_WRITE_ZEROES, 7, 1, 0, 0, 0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = pi_cmd(n, NVME_IO_READ, 7, 1, 0, data, LBS);
    c.mptr = cpu_to_le64(meta);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    pi_free(p);
}

static void test_format_pi(void)
{
    PiNs *p = pi_boot("", 0);
    Nvme *n = p->n;
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    NvmeSqe c;

    /* no PI on this format: PRINFO is an invalid field */
    c = pi_cmd(n, NVME_IO_READ, 0, 1, PRCHK_GUARD, n->buf, LBS);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_FIELD);
    c = pi_cmd(n, NVME_IO_WRITE, 0, 1, PRACT, n->buf, LBS);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_FIELD);

    /* PI on a format without metadata: Invalid Format */
    c = sqe_new(n, NVME_ADM_FORMAT_NVM, NSID);
    c.cdw10 = cpu_to_le32(0 | 1 << 5);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_INVALID_FORMAT);
    /* format 1 (512 + 8), Type 3, extended, PI first */
    c = sqe_new(n, NVME_ADM_FORMAT_NVM, NSID);
    c.cdw10 = cpu_to_le32(1 | 1 << 4 | 3 << 5 | 1 << 8);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_SUCCESS);
    id_ns(n, id);
    g_assert_cmpuint(FIELD_EX32(id->flbas, NVME_FLBAS, LBAFL), ==, 1);
    g_assert_cmpuint(FIELD_EX32(id->flbas, NVME_FLBAS, EXTENDED), ==, 1);
    g_assert_cmphex(id->dps, ==, 3 | 8);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, NS_SIZE / (LBS + 8));
    /* and it protects: a write with PRACT, a read with the guard check */
    fill(n, n->buf, LBS, 0x05);
    c = pi_cmd(n, NVME_IO_WRITE, 2, 1, PRACT, n->buf, LBS);
    set_tags(&c, 0x1111, 0x2222, 0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = pi_cmd(n, NVME_IO_READ, 2, 1, PRCHK_ALL, n->buf + 8192, LBS + 8);
    set_tags(&c, 0x1111, 0x2222, 0xffff);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    /* PI first: the tuple right after the data, Type 3 ref tag fixed */
    g_assert_cmphex(qtest_readl(n->qts, n->buf + 8192 + LBS + 4), ==,
                    cpu_to_be32(0x1111));
    /* back to no metadata */
    c = sqe_new(n, NVME_ADM_FORMAT_NVM, NSID);
    c.cdw10 = cpu_to_le32(0);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_SUCCESS);
    id_ns(n, id);
    g_assert_cmphex(id->dps, ==, 0);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, NS_SIZE / LBS);
    pi_free(p);
}

/* Set/Get Features Error Recovery on @nsid */
static uint16_t err_rec(Nvme *n, uint32_t nsid, bool set, uint32_t dw11,
                        uint32_t *dw0)
{
    NvmeSqe c = sqe_new(n, set ? NVME_ADM_SET_FEATURES
                               : NVME_ADM_GET_FEATURES, nsid);

    c.cdw10 = cpu_to_le32(NVME_FEAT_ERROR_RECOVERY);
    c.cdw11 = cpu_to_le32(dw11);
    return admin(n, &c, dw0);
}

static void test_dulbe(void)
{
    PiNs *p = pi_boot("", 0);
    Nvme *n = p->n;
    uint32_t dulbe = R_NVME_FEAT_ERR_REC_DULBE_MASK;
    uint32_t dw0;
    NvmeSqe c;

    /* off: unwritten blocks read as zeroes */
    c = pi_cmd(n, NVME_IO_READ, 50, 2, 0, n->buf, 2 * LBS);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    /* namespace specific, with stock's NSID rules */
    g_assert_cmphex(err_rec(n, 0, true, dulbe, NULL), ==,
                    NVME_INVALID_NSID);
    g_assert_cmphex(err_rec(n, 9, true, dulbe, NULL), ==,
                    NVME_INVALID_FIELD);
    g_assert_cmphex(err_rec(n, NVME_NSID_BROADCAST, false, 0, &dw0), ==,
                    NVME_INVALID_NSID);
    g_assert_cmphex(err_rec(n, NSID, true, dulbe | 5, NULL), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(err_rec(n, NSID, false, 0, &dw0), ==, NVME_SUCCESS);
    g_assert_cmphex(dw0, ==, dulbe | 5);
    g_assert_cmphex(err_rec(n, 1, false, 0, &dw0), ==, NVME_SUCCESS);
    g_assert_cmphex(dw0, ==, 0);
    c = pi_cmd(n, NVME_IO_READ, 50, 2, 0, n->buf, 2 * LBS);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_DULB);
    c = pi_cmd(n, NVME_IO_VERIFY, 50, 2, 0, 0, 0);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_DULB);
    /* written: read fine */
    fill(n, n->buf, 64 * 1024 - 8192, 0x11);
    c = pi_cmd(n, NVME_IO_WRITE, 0, 8192 / LBS, 0, n->buf, 8192);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = pi_cmd(n, NVME_IO_READ, 0, 8192 / LBS, 0, n->buf + 16384, 8192);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    g_assert_true(same(n, n->buf, n->buf + 16384, 8192));
    /* deallocated again (Write Zeroes with DEAC): error */
    c = pi_cmd(n, NVME_IO_WRITE_ZEROES, 0, 8192 / LBS, 0, 0, 0);
    c.cdw12 = cpu_to_le32(le32_to_cpu(c.cdw12) | R_NVME_RW_DW12_DEAC_MASK);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = pi_cmd(n, NVME_IO_READ, 0, 8192 / LBS, 0, n->buf + 16384, 8192);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_DULB);
    /* off again, for every namespace */
    g_assert_cmphex(err_rec(n, NVME_NSID_BROADCAST, true, 0, NULL), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    pi_free(p);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nvqemu/nvme-pi/identify-formats",
                    test_identify_formats);
    g_test_add_func("/nvqemu/nvme-pi/bad-properties", test_bad_properties);
    g_test_add_func("/nvqemu/nvme-pi/type1-mptr", test_type1_mptr);
    g_test_add_func("/nvqemu/nvme-pi/mptr-sgl", test_mptr_sgl);
    g_test_add_func("/nvqemu/nvme-pi/extended", test_extended);
    g_test_add_func("/nvqemu/nvme-pi/mdts-extended", test_mdts_extended);
    g_test_add_func("/nvqemu/nvme-pi/pif64", test_pif64);
    g_test_add_func("/nvqemu/nvme-pi/layout-image", test_layout_image);
    g_test_add_func("/nvqemu/nvme-pi/meta-drive", test_meta_drive);
    g_test_add_func("/nvqemu/nvme-pi/meta-drive-small",
                    test_meta_drive_small);
    g_test_add_func("/nvqemu/nvme-pi/write-zeroes", test_write_zeroes);
    g_test_add_func("/nvqemu/nvme-pi/format", test_format_pi);
    g_test_add_func("/nvqemu/nvme-pi/dulbe", test_dulbe);
    return g_test_run();
}
