/*
 * qtest for nvqemu's NVMe controller: through the host driver of
 * nvqemu-nvme-host.c it enables the controller, identifies it, creates
 * queues, does I/O with PRPs and SGLs, and drives the error paths,
 * arbitration, completion backpressure, controller reset and interrupt
 * coalescing.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qemu-version.h"
#include "qobject/qdict.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "hw/pci/pci_regs.h"
#include "hw/block/nvme/spec.h"
#include "qobject/qlist.h"
#include "tests/qtest/libqos/fw_cfg.h"

#include "nvqemu-nvme-host.h"

/* ---- tests --------------------------------------------------------------- */

static void test_registers(void)
{
    Nvme *n = nvme_boot("dstrd=1", NULL);
    uint64_t cap = (uint64_t)rd32(n, NVME_REG_CAP + 4) << 32 |
                   rd32(n, NVME_REG_CAP);
    uint32_t cc;

    n->dstrd = 1;
    g_assert_cmphex(qpci_config_readw(n->dev, PCI_CLASS_DEVICE), ==, 0x0108);
    g_assert_cmphex(qpci_config_readb(n->dev, PCI_CLASS_PROG), ==, 0x02);
    g_assert_cmpuint(FIELD_EX64(cap, NVME_CAP, MQES), ==, 0x7ff);
    g_assert_cmpuint(FIELD_EX64(cap, NVME_CAP, CQR), ==, 1);
    g_assert_cmpuint(FIELD_EX64(cap, NVME_CAP, AMS), ==, NVME_CAP_AMS_WRRU);
    g_assert_cmpuint(FIELD_EX64(cap, NVME_CAP, DSTRD), ==, 1);
    g_assert_cmpuint(FIELD_EX64(cap, NVME_CAP, CSS), ==, NVME_CAP_CSS_NVM);
    g_assert_cmpuint(FIELD_EX64(cap, NVME_CAP, MPSMIN), ==, 0);
    g_assert_cmphex(rd32(n, NVME_REG_VS), ==, NVME_VS(1, 4, 0));
    g_assert_cmphex(rd32(n, NVME_REG_CSTS), ==, 0);

    /* enable with a misaligned ASQ is refused */
    wr32(n, NVME_REG_AQA, 0x001f001f);
    wr32(n, NVME_REG_ASQ, 0x1234);
    wr32(n, NVME_REG_ACQ, 0x200000);
    wr32(n, NVME_REG_CC, 1);
    g_assert_cmphex(rd32(n, NVME_REG_CSTS), ==, 0);
    wr32(n, NVME_REG_CC, 0);

    ctrl_enable(n, NVME_CC_AMS_RR);
    /* the admin queue works with a doorbell stride of 8 bytes */
    g_assert_cmphex(identify(n, NVME_CNS_CTRL, 0, n->buf), ==, NVME_SUCCESS);

    /* normal shutdown */
    cc = rd32(n, NVME_REG_CC);
    wr32(n, NVME_REG_CC, FIELD_DP32(cc, NVME_CC, SHN, NVME_CC_SHN_NORMAL));
    g_assert_cmpuint(FIELD_EX32(rd32(n, NVME_REG_CSTS), NVME_CSTS, SHST), ==,
                     NVME_CSTS_SHST_COMPLETE);
    ctrl_disable(n);
    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(identify(n, NVME_CNS_CTRL, 0, n->buf), ==, NVME_SUCCESS);
    nvme_free(n);
}

/* Descriptor @type in an NS Identification Descriptor list, or NULL */
static const uint8_t *ns_desc(const uint8_t *list, uint8_t type)
{
    const uint8_t *p = list;

    while (p < list + NVME_IDENTIFY_DATA_SIZE - sizeof(NvmeNsDescHdr) &&
           p[0]) {
        if (p[0] == type) {
            return p + sizeof(NvmeNsDescHdr);
        }
        p += sizeof(NvmeNsDescHdr) + p[1];
    }
    return NULL;
}

static void test_identify(void)
{
    Nvme *n = nvme_boot("", "-drive id=d1,if=none,driver=null-co,"
                        "size=32M -device nvme-ns,drive=d1,bus=nvme0,nsid=7");
    NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    NvmeIdNs *ns = g_new0(NvmeIdNs, 1);
    uint8_t desc[4096];
    uint32_t list[1024];

    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(identify(n, NVME_CNS_CTRL, 0, n->buf), ==, NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, id, sizeof(*id));
    g_assert_cmphex(le16_to_cpu(id->vid), ==, 0x1b36);
    g_assert_cmpmem(id->sn, 7, "nvqtest", 7);
    g_assert_cmpmem(id->mn, 14, "QEMU NVMe Ctrl", 14);
    g_assert_cmpuint(id->mdts, ==, 7);
    g_assert_cmphex(le32_to_cpu(id->ver), ==, NVME_VS(1, 4, 0));
    g_assert_cmphex(id->sqes, ==, 0x66);
    g_assert_cmphex(id->cqes, ==, 0x44);
    g_assert_cmpuint(le32_to_cpu(id->nn), >=, 32);
    g_assert_cmphex(le16_to_cpu(id->oncs) & (NVME_ONCS_DSM |
                    NVME_ONCS_WRITE_ZEROES), ==,
                    NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES);
    g_assert_cmphex(le32_to_cpu(id->sgls) & 3, ==, 1);
    g_assert_cmphex(id->lpa & NVME_LPA_CMD_EFFECTS, ==, NVME_LPA_CMD_EFFECTS);
    g_assert_cmpstr(id->subnqn, ==, "nqn.2019-08.org.qemu:nvqtest");

    g_assert_cmphex(identify(n, NVME_CNS_ACTIVE_NS_LIST, 0, n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, list, sizeof(list));
    g_assert_cmpuint(le32_to_cpu(list[0]), ==, 1);
    g_assert_cmpuint(le32_to_cpu(list[1]), ==, 7);
    g_assert_cmpuint(le32_to_cpu(list[2]), ==, 0);

    /* stock's LBA format slots: 512 B is format 0, 4 KiB format 4 */
    g_assert_cmphex(identify(n, NVME_CNS_NS, 1, n->buf), ==, NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, ns, sizeof(*ns));
    g_assert_cmpuint(le64_to_cpu(ns->nsze), ==, IMG_SIZE / 512);
    g_assert_cmpuint(ns->nlbaf, ==, 7);
    g_assert_cmpuint(ns->flbas, ==, 0);
    g_assert_cmphex(ns->dlfeat, ==, NVME_DLFEAT_READ_ZEROES |
                    NVME_DLFEAT_WZ_DEAC);
    g_assert_cmpuint(ns->lbaf[0].lbads, ==, 9);
    g_assert_cmpuint(ns->lbaf[1].lbads, ==, 9);   /* 512 B + 8 metadata */
    g_assert_cmpuint(le16_to_cpu(ns->lbaf[1].ms), ==, 8);
    g_assert_cmpuint(ns->lbaf[4].lbads, ==, 12);
    /* the drive= namespace is not shared; no ids unless given */
    g_assert_cmpuint(ns->nmic, ==, 0);
    g_assert_true(buffer_is_zero(ns->nguid, sizeof(ns->nguid)));
    g_assert_true(buffer_is_zero(ns->eui64, sizeof(ns->eui64)));

    g_assert_cmphex(identify(n, NVME_CNS_NS, 7, n->buf), ==, NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, ns, sizeof(*ns));
    g_assert_cmpuint(le64_to_cpu(ns->nsze), ==, 32 * 1024 * 1024 / 512);
    g_assert_cmpuint(ns->nmic, ==, 1);      /* nvme-ns shared=on default */

    /* an inactive nsid reads as zeroes, nsid 0 is invalid */
    g_assert_cmphex(identify(n, NVME_CNS_NS, 5, n->buf), ==, NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, ns, sizeof(*ns));
    g_assert_cmpuint(ns->nsze, ==, 0);
    g_assert_cmphex(identify(n, NVME_CNS_NS, 0, n->buf), ==,
                    NVME_INVALID_NSID);

    /* only the command set identifier */
    g_assert_cmphex(identify(n, NVME_CNS_NS_DESC_LIST, 1, n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, desc, sizeof(desc));
    g_assert_cmpuint(desc[0], ==, NVME_NIDT_CSI);
    g_assert_cmpuint(desc[1], ==, NVME_NIDL_CSI);
    g_assert_cmpuint(desc[4], ==, NVME_CSI_NVM);
    g_assert_cmpuint(desc[5], ==, 0);
    g_assert_cmphex(identify(n, 0x42, 0, n->buf), ==, NVME_INVALID_FIELD);
    g_free(id);
    g_free(ns);
    nvme_free(n);
}

/*
 * derive-ns-ids=on: ids unique per (serial, nsid) for the namespaces that
 * are not given them; given ones are kept.
 */
static void test_derived_ids(void)
{
    Nvme *n = nvme_boot("derive-ns-ids=on",
                        "-drive id=d1,if=none,driver=null-co,size=32M "
                        "-device nvme-ns,drive=d1,bus=nvme0,nsid=7,"
                        "eui64=0x1122334455667788");
    g_autofree NvmeIdNs *ns = g_new0(NvmeIdNs, 1);
    static const uint8_t eui7[8] = {
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88
    };
    uint8_t nguid1[16], eui1[8], desc[4096];

    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(identify(n, NVME_CNS_NS, 1, n->buf), ==, NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, ns, sizeof(*ns));
    memcpy(nguid1, ns->nguid, 16);
    memcpy(eui1, ns->eui64, 8);
    g_assert_false(buffer_is_zero(nguid1, 16));
    g_assert_cmpmem(eui1, 3, "\x52\x54\x00", 3);

    g_assert_cmphex(identify(n, NVME_CNS_NS, 7, n->buf), ==, NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, ns, sizeof(*ns));
    g_assert_true(memcmp(nguid1, ns->nguid, 16) != 0);
    g_assert_false(buffer_is_zero(ns->nguid, 16));
    g_assert_cmpmem(ns->eui64, 8, eui7, 8);

    g_assert_cmphex(identify(n, NVME_CNS_NS_DESC_LIST, 1, n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, desc, sizeof(desc));
    /* stock's order: UUID, NGUID, EUI-64, CSI */
    g_assert_cmpuint(desc[0], ==, NVME_NIDT_UUID);
    g_assert_cmpuint(desc[20], ==, NVME_NIDT_NGUID);
    g_assert_cmpmem(desc + 24, 16, nguid1, 16);
    g_assert_cmpuint(desc[40], ==, NVME_NIDT_EUI64);
    g_assert_cmpmem(desc + 44, 8, eui1, 8);
    g_assert_cmpuint(desc[52], ==, NVME_NIDT_CSI);
    g_assert_nonnull(ns_desc(desc, NVME_NIDT_UUID));
    nvme_free(n);
}

/* namespaces 2..41 on null-co backends of growing size */
#define MANY_NS 40

static void test_many_namespaces(void)
{
    GString *extra = g_string_new("");
    g_autofree NvmeIdNs *ns = g_new0(NvmeIdNs, 1);
    uint32_t list[1024];
    Nvme *n;

    for (unsigned i = 2; i < 2 + MANY_NS; i++) {
        g_string_append_printf(extra, "-drive id=x%u,if=none,driver=null-co,"
                               "size=%uM -device nvme-ns,drive=x%u,"
                               "bus=nvme0,nsid=%u ", i, i, i, i);
    }
    n = nvme_boot("", extra->str);
    g_string_free(extra, true);
    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(identify(n, NVME_CNS_ACTIVE_NS_LIST, 0, n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, list, sizeof(list));
    for (unsigned i = 0; i < 1 + MANY_NS; i++) {
        g_assert_cmpuint(le32_to_cpu(list[i]), ==, i + 1);
    }
    g_assert_cmpuint(list[1 + MANY_NS], ==, 0);
    /* the list starts after the nsid given */
    g_assert_cmphex(identify(n, NVME_CNS_ACTIVE_NS_LIST, 30, n->buf), ==,
                    NVME_SUCCESS);
    g_assert_cmpuint(qtest_readl(n->qts, n->buf), ==, 31);
    g_assert_cmphex(identify(n, NVME_CNS_NS, 1 + MANY_NS, n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, ns, sizeof(*ns));
    g_assert_cmpuint(le64_to_cpu(ns->nsze), ==,
                     (1 + MANY_NS) * 1024 * 1024 / 512);
    nvme_free(n);
}

static void test_io_prp(void)
{
    Nvme *n = nvme_boot("", NULL);
    uint64_t wbuf = nvme_alloc(n, 5 * PAGE), rbuf = nvme_alloc(n, 5 * PAGE);
    uint64_t list = nvme_alloc(n, PAGE), list2 = nvme_alloc(n, PAGE);
    NvmeSqe c;

    ctrl_enable(n, NVME_CC_AMS_RR);
    io_queues(n, 1);
    irq_fired(n, 1);

    /* one page, two pages and five pages (a PRP list) */
    for (uint32_t pages = 1; pages <= 5; pages += 2) {
        uint32_t len = pages * PAGE;

        fill(n, wbuf, len, pages);
        qtest_memset(n->qts, rbuf, 0, len);
        c = rw_cmd(n, NVME_IO_WRITE, 100 * pages, len / 512);
        set_prps(n, &c, wbuf, len, list);
        g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
        g_assert_true(irq_fired(n, 1));
        c = rw_cmd(n, NVME_IO_READ, 100 * pages, len / 512);
        set_prps(n, &c, rbuf, len, list2);
        g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
        g_assert_true(same(n, wbuf, rbuf, len));
    }

    /* flush, and a PRP1 that starts mid-page (LBA 500 holds wbuf) */
    c = sqe_new(n, NVME_IO_FLUSH, 1);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    qtest_memset(n->qts, rbuf, 0, 2 * PAGE);
    c = rw_cmd(n, NVME_IO_READ, 500, 8);
    set_prps(n, &c, rbuf + 512, PAGE, list2);
    c.dptr[1] = cpu_to_le64(rbuf + PAGE);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    g_assert_true(same(n, wbuf, rbuf + 512, PAGE));
    nvme_free(n);
}

/*
 * Logical block sizes other than 512 B and 4 KiB (stock takes any power
 * of 2 QEMU does): stock's format index 8, the size in those blocks, I/O
 * in whole blocks, the range checked in blocks.
 */
static void test_block_sizes(void)
{
    static const uint32_t sizes[] = { 1024, 65536 };

    for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
        uint32_t lbs = sizes[i];
        g_autofree char *opts = g_strdup_printf("logical_block_size=%u,"
                                                "physical_block_size=%u",
                                                lbs, lbs);
        Nvme *n = nvme_boot(opts, NULL);
        uint64_t wbuf = nvme_alloc(n, 2 * lbs), rbuf = nvme_alloc(n, 2 * lbs);
        uint64_t list = nvme_alloc(n, PAGE), list2 = nvme_alloc(n, PAGE);
        g_autofree NvmeIdNs *ns = g_new0(NvmeIdNs, 1);
        NvmeSqe c;

        ctrl_enable(n, NVME_CC_AMS_RR);
        io_queues(n, 1);
        identify_read(n, NVME_CNS_NS, 1, ns, sizeof(*ns));
        g_assert_cmpuint(ns->nlbaf, ==, 8);
        g_assert_cmpuint(ns->flbas, ==, 8);
        g_assert_cmpuint(1u << ns->lbaf[8].lbads, ==, lbs);
        g_assert_cmpuint(le64_to_cpu(ns->nsze), ==, IMG_SIZE / lbs);

        fill(n, wbuf, 2 * lbs, i + 1);
        c = rw_cmd(n, NVME_IO_WRITE, IMG_SIZE / lbs - 2, 2);
        set_prps(n, &c, wbuf, 2 * lbs, list);
        g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
        c = rw_cmd(n, NVME_IO_READ, IMG_SIZE / lbs - 2, 2);
        set_prps(n, &c, rbuf, 2 * lbs, list2);
        g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
        g_assert_true(same(n, wbuf, rbuf, 2 * lbs));
        c = rw_cmd(n, NVME_IO_READ, IMG_SIZE / lbs - 1, 2);
        set_prps(n, &c, rbuf, 2 * lbs, list2);
        g_assert_cmphex(io(n, 1, &c), ==, NVME_LBA_OUT_OF_RANGE);
        nvme_free(n);
    }
}

static void test_io_sgl(void)
{
    Nvme *n = nvme_boot("", NULL);
    uint64_t wbuf = nvme_alloc(n, 4 * PAGE), rbuf = nvme_alloc(n, 4 * PAGE);
    uint64_t seg = nvme_alloc(n, PAGE);
    NvmeSglDesc d[3];
    NvmeSqe c;

    ctrl_enable(n, NVME_CC_AMS_RR);
    io_queues(n, 1);
    fill(n, wbuf, 4 * PAGE, 0x5a);
    qtest_memset(n->qts, rbuf, 0, 4 * PAGE);

    /* write 16 KiB from one data block */
    c = rw_cmd(n, NVME_IO_WRITE, 64, 32);
    set_sgl(&c, wbuf, 4 * PAGE, NVME_SGL_TYPE_DATA_BLOCK);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);

    /* read it back through a last segment of three scattered blocks */
    d[0] = (NvmeSglDesc) { .addr = cpu_to_le64(rbuf + 2 * PAGE),
                           .len = cpu_to_le32(PAGE) };
    d[1] = (NvmeSglDesc) { .addr = cpu_to_le64(rbuf),
                           .len = cpu_to_le32(2 * PAGE) };
    d[2] = (NvmeSglDesc) { .addr = cpu_to_le64(rbuf + 3 * PAGE),
                           .len = cpu_to_le32(PAGE) };
    qtest_memwrite(n->qts, seg, d, sizeof(d));
    c = rw_cmd(n, NVME_IO_READ, 64, 32);
    set_sgl(&c, seg, sizeof(d), NVME_SGL_TYPE_LAST_SEGMENT);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    g_assert_true(same(n, wbuf, rbuf + 2 * PAGE, PAGE));
    g_assert_true(same(n, wbuf + PAGE, rbuf, 2 * PAGE));
    g_assert_true(same(n, wbuf + 3 * PAGE, rbuf + 3 * PAGE, PAGE));

    /* SGL shorter than the transfer, and a bit bucket */
    c = rw_cmd(n, NVME_IO_READ, 64, 32);
    set_sgl(&c, rbuf, PAGE, NVME_SGL_TYPE_DATA_BLOCK);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_DATA_SGL_LEN_INVALID);
    c = rw_cmd(n, NVME_IO_READ, 64, 8);
    set_sgl(&c, rbuf, PAGE, NVME_SGL_TYPE_BIT_BUCKET);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SGL_DESC_TYPE_INVALID);
    nvme_free(n);
}

static void test_io_errors(void)
{
    Nvme *n = nvme_boot("", NULL);
    NvmeSqe c;

    ctrl_enable(n, NVME_CC_AMS_RR);
    io_queues(n, 1);
    c = rw_cmd(n, NVME_IO_READ, IMG_SIZE / 512 - 1, 2);
    c.dptr[0] = cpu_to_le64(n->buf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_LBA_OUT_OF_RANGE);
    c = rw_cmd(n, NVME_IO_READ, UINT64_MAX, 1);
    c.dptr[0] = cpu_to_le64(n->buf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_LBA_OUT_OF_RANGE);
    c = rw_cmd(n, NVME_IO_READ, 0, 1);
    c.nsid = cpu_to_le32(9);
    c.dptr[0] = cpu_to_le64(n->buf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_NSID);
    c = sqe_new(n, 0x7e, 1);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_OPCODE);
    /* 1 MiB exceeds MDTS (2^7 pages) */
    c = rw_cmd(n, NVME_IO_READ, 0, 2048);
    c.dptr[0] = cpu_to_le64(n->buf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_FIELD);
    /* data outside guest RAM */
    c = rw_cmd(n, NVME_IO_READ, 0, 8);
    c.dptr[0] = cpu_to_le64(UNMAPPED_ADDR);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_DATA_TRANSFER_ERROR);
    /* PRP list outside guest RAM */
    c = rw_cmd(n, NVME_IO_READ, 0, 24);
    c.dptr[0] = cpu_to_le64(n->buf);
    c.dptr[1] = cpu_to_le64(UNMAPPED_ADDR);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_DATA_TRANSFER_ERROR);
    /* two data pages, the second outside guest RAM (PRP2 as a page) */
    c = rw_cmd(n, NVME_IO_READ, 0, 16);
    c.dptr[0] = cpu_to_le64(n->buf);
    c.dptr[1] = cpu_to_le64(UNMAPPED_ADDR);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_DATA_TRANSFER_ERROR);
    /* two data pages, PRP2 not page aligned */
    c.dptr[1] = cpu_to_le64(n->buf + PAGE + 8);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_PRP_OFFSET_INVALID);
    /* data over the controller's own registers: MMIO, not RAM */
    c = rw_cmd(n, NVME_IO_READ, 0, 8);
    c.dptr[0] = cpu_to_le64(n->bar.addr);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_DATA_TRANSFER_ERROR);
    c = rw_cmd(n, NVME_IO_WRITE, 0, 8);
    c.dptr[0] = cpu_to_le64(n->bar.addr);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_DATA_TRANSFER_ERROR);
    c = rw_cmd(n, NVME_IO_READ, 0, 1);
    c.dptr[0] = cpu_to_le64(n->buf + 2);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_PRP_OFFSET_INVALID);
    /* fused commands are not supported */
    c = rw_cmd(n, NVME_IO_READ, 0, 1);
    c.cdw0 |= cpu_to_le32(1 << R_NVME_CDW0_FUSE_SHIFT);
    c.dptr[0] = cpu_to_le64(n->buf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_FIELD);
    /* and the controller still works */
    c = rw_cmd(n, NVME_IO_READ, 0, 1);
    c.dptr[0] = cpu_to_le64(n->buf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    nvme_free(n);
}

static void test_queue_errors(void)
{
    Nvme *n = nvme_boot("max_ioqpairs=4,msix_qsize=5", NULL);
    NvmeSqe c;
    uint32_t dw0;

    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(set_feature(n, NVME_FEAT_NUM_QUEUES, 0x00ff00ff, &dw0), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(dw0, ==, 0x00030003);           /* 4 granted */
    g_assert_cmphex(create_cq(n, 0, 16, 0), ==, NVME_INVALID_QID);
    g_assert_cmphex(create_cq(n, 5, 16, 0), ==, NVME_INVALID_QID);
    g_assert_cmphex(create_cq(n, 1, 1, 0), ==, NVME_INVALID_QSIZE);
    g_assert_cmphex(create_cq(n, 1, 0x1000, 0), ==, NVME_INVALID_QSIZE);
    g_assert_cmphex(create_cq(n, 1, 16, 5), ==, NVME_INVALID_IRQ_VECTOR);
    c = sqe_new(n, NVME_ADM_CREATE_CQ, 0);          /* PC = 0 */
    c.dptr[0] = cpu_to_le64(n->buf);
    c.cdw10 = cpu_to_le32((15u << 16) | 1);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_INVALID_FIELD);
    c = sqe_new(n, NVME_ADM_CREATE_CQ, 0);          /* outside RAM */
    c.dptr[0] = cpu_to_le64(UNMAPPED_ADDR);
    c.cdw10 = cpu_to_le32((15u << 16) | 1);
    c.cdw11 = cpu_to_le32(1);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_INVALID_FIELD);
    g_assert_cmphex(create_sq(n, 1, 1, 16, 0), ==, NVME_CQ_INVALID);
    g_assert_cmphex(create_cq(n, 1, 16, 1), ==, NVME_SUCCESS);
    g_assert_cmphex(create_cq(n, 1, 16, 1), ==, NVME_INVALID_QID);
    g_assert_cmphex(create_sq(n, 1, 1, 16, 0), ==, NVME_SUCCESS);
    g_assert_cmphex(create_sq(n, 1, 1, 16, 0), ==, NVME_INVALID_QID);
    /* number of queues cannot change once I/O queues exist */
    g_assert_cmphex(set_feature(n, NVME_FEAT_NUM_QUEUES, 0, NULL), ==,
                    NVME_COMMAND_SEQ_ERROR);
    c = sqe_new(n, NVME_ADM_DELETE_CQ, 0);
    c.cdw10 = cpu_to_le32(1);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_INVALID_QUEUE_DELETION);
    c = sqe_new(n, NVME_ADM_DELETE_SQ, 0);
    c.cdw10 = cpu_to_le32(0);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_INVALID_QID);
    c = sqe_new(n, NVME_ADM_DELETE_SQ, 0);
    c.cdw10 = cpu_to_le32(1);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_SUCCESS);
    c = sqe_new(n, NVME_ADM_DELETE_CQ, 0);
    c.cdw10 = cpu_to_le32(1);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_SUCCESS);
    c = sqe_new(n, 0xc3, 0);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_INVALID_OPCODE);
    nvme_free(n);
}

static void test_doorbell_aer(void)
{
    Nvme *n = nvme_boot("", NULL);
    NvmeSqe aer;
    NvmeCqe cqe;
    NvmeErrorLogEntry e;

    ctrl_enable(n, NVME_CC_AMS_RR);
    io_queues(n, 1);
    aer = sqe_new(n, NVME_ADM_ASYNC_EVENT, 0);
    sq_put(n, 0, &aer);
    sq_ring(n, 0);
    qtest_clock_step(n->qts, n->step_ns);
    g_assert_false(cq_peek(n, 0, &cqe));

    /* doorbell of a queue that does not exist */
    wr32(n, sq_db(n, 5), 1);
    cq_wait_cid(n, 0, sqe_cid(&aer), &cqe);
    g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
    g_assert_cmphex(le32_to_cpu(cqe.dw0), ==,
                    (NVME_LOG_ERROR << 16) |
                    (NVME_AER_ERR_INVALID_DB_REG << 8) | NVME_AER_TYPE_ERROR);

    /* next AER; the error type stays masked until the log is read */
    aer = sqe_new(n, NVME_ADM_ASYNC_EVENT, 0);
    sq_put(n, 0, &aer);
    sq_ring(n, 0);
    wr32(n, sq_db(n, 1), QDEPTH + 3);               /* tail beyond the SQ */
    qtest_clock_step(n->qts, n->step_ns);
    g_assert_false(cq_peek(n, 0, &cqe));
    g_assert_cmphex(get_log(n, NVME_LOG_ERROR, 64, n->buf), ==,
                    NVME_SUCCESS);
    cq_wait_cid(n, 0, sqe_cid(&aer), &cqe);
    g_assert_cmphex(le32_to_cpu(cqe.dw0), ==,
                    (NVME_LOG_ERROR << 16) |
                    (NVME_AER_ERR_INVALID_DB_VALUE << 8) |
                    NVME_AER_TYPE_ERROR);

    /* a CQ head beyond what was posted is an invalid value too */
    aer = sqe_new(n, NVME_ADM_ASYNC_EVENT, 0);
    sq_put(n, 0, &aer);
    sq_ring(n, 0);
    g_assert_cmphex(get_log(n, NVME_LOG_ERROR, 64, n->buf), ==,
                    NVME_SUCCESS);
    wr32(n, cq_db(n, 1), 7);
    cq_wait_cid(n, 0, sqe_cid(&aer), &cqe);

    /* the error log holds the failed commands; too many AERs fail */
    {
        NvmeSqe bad = sqe_new(n, 0xc3, 0);

        g_assert_cmphex(admin(n, &bad, NULL), ==, NVME_INVALID_OPCODE);
        g_assert_cmphex(get_log(n, NVME_LOG_ERROR, 64, n->buf), ==,
                        NVME_SUCCESS);
        qtest_memread(n->qts, n->buf, &e, sizeof(e));
        g_assert_cmpuint(le16_to_cpu(e.cid), ==, sqe_cid(&bad));
        g_assert_cmphex((le16_to_cpu(e.status) >> 1) & ~NVME_STATUS_DNR, ==,
                        NVME_INVALID_OPCODE);
    }
    for (unsigned i = 0; i < 4; i++) {
        aer = sqe_new(n, NVME_ADM_ASYNC_EVENT, 0);
        sq_put(n, 0, &aer);
    }
    aer = sqe_new(n, NVME_ADM_ASYNC_EVENT, 0);
    g_assert_cmphex(admin(n, &aer, NULL), ==, NVME_AER_LIMIT_EXCEEDED);
    nvme_free(n);
}

/* qom-set smart_critical_warning, as with stock: a SMART AER per new bit */
static void qom_set_smart_warning(Nvme *n, unsigned value, bool ok)
{
    QDict *r = qtest_qmp(n->qts, "{'execute': 'qom-set', 'arguments': {"
                         "'path': '/machine/peripheral/nvme0',"
                         "'property': 'smart_critical_warning',"
                         "'value': %u}}", value);

    g_assert_cmpint(qdict_haskey(r, "error"), ==, !ok);
    qobject_unref(r);
}

/* qom-get smart_critical_warning */
static unsigned qom_get_smart_warning(Nvme *n)
{
    return nvme_qom_get_int(n, "smart_critical_warning");
}

/* Submit an Asynchronous Event Request; returns its CID */
static uint16_t aer_submit(Nvme *n)
{
    NvmeSqe aer = sqe_new(n, NVME_ADM_ASYNC_EVENT, 0);

    sq_put(n, 0, &aer);
    sq_ring(n, 0);
    return sqe_cid(&aer);
}

/* The AER @cid completes with this log page, information and type */
static void aer_expect(Nvme *n, uint16_t cid, uint8_t lid, uint8_t info,
                       uint8_t type)
{
    NvmeCqe cqe;

    cq_wait_cid(n, 0, cid, &cqe);
    g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
    g_assert_cmphex(le32_to_cpu(cqe.dw0), ==,
                    (uint32_t)lid << 16 | info << 8 | type);
}

/* Nothing completes on the admin CQ */
static void aer_expect_none(Nvme *n)
{
    NvmeCqe cqe;

    qtest_clock_step(n->qts, n->step_ns);
    g_assert_false(cq_peek(n, 0, &cqe));
}

/*
 * smart_critical_warning raises SMART / Health AERs for the bits it sets
 * that Async Event Configuration enables, and shows in the SMART log;
 * aerl=19 (above the old cap of 15) lets 20 AERs be outstanding: the AER
 * slots follow AERL.
 */
static void test_smart_warning(void)
{
    Nvme *n = nvme_boot("aerl=19", NULL);
    NvmeSmartLog smart;
    NvmeSqe aer;
    uint16_t cid;

    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(set_feature(n, NVME_FEAT_ASYNC_EVENT_CONF,
                                NVME_SMART_WARN_RELIABILITY, NULL), ==,
                    NVME_SUCCESS);
    cid = aer_submit(n);

    /* spare is not enabled in AEC: no event, but the log shows it */
    qom_set_smart_warning(n, NVME_SMART_WARN_SPARE, true);
    aer_expect_none(n);
    qom_set_smart_warning(n, NVME_SMART_WARN_SPARE |
                          NVME_SMART_WARN_RELIABILITY, true);
    aer_expect(n, cid, NVME_LOG_SMART, NVME_AER_SMART_RELIABILITY,
               NVME_AER_TYPE_SMART);
    g_assert_cmphex(get_log(n, NVME_LOG_SMART, sizeof(smart), n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, &smart, sizeof(smart));
    g_assert_cmphex(smart.critical_warning, ==,
                    NVME_SMART_WARN_SPARE | NVME_SMART_WARN_RELIABILITY);
    /* bits stock does not know are refused, the value stays */
    qom_set_smart_warning(n, 0x20, false);
    g_assert_cmphex(qom_get_smart_warning(n), ==,
                    NVME_SMART_WARN_SPARE | NVME_SMART_WARN_RELIABILITY);

    /*
     * Two bits at once with no AER outstanding: read-only and volatile
     * memory each raise a reliability event, and both are queued (as
     * stock does); the second reaches the next AER once the SMART log
     * has been read.
     */
    g_assert_cmphex(set_feature(n, NVME_FEAT_ASYNC_EVENT_CONF,
                                NVME_SMART_WARN_RELIABILITY |
                                NVME_SMART_WARN_READ_ONLY |
                                NVME_SMART_WARN_VOLATILE_MEM, NULL), ==,
                    NVME_SUCCESS);
    qom_set_smart_warning(n, NVME_SMART_WARN_SPARE |
                          NVME_SMART_WARN_RELIABILITY |
                          NVME_SMART_WARN_READ_ONLY |
                          NVME_SMART_WARN_VOLATILE_MEM, true);
    cid = aer_submit(n);
    aer_expect(n, cid, NVME_LOG_SMART, NVME_AER_SMART_RELIABILITY,
               NVME_AER_TYPE_SMART);
    cid = aer_submit(n);
    aer_expect_none(n);
    g_assert_cmphex(get_log(n, NVME_LOG_SMART, sizeof(smart), n->buf), ==,
                    NVME_SUCCESS);
    aer_expect(n, cid, NVME_LOG_SMART, NVME_AER_SMART_RELIABILITY,
               NVME_AER_TYPE_SMART);
    g_assert_cmphex(get_log(n, NVME_LOG_SMART, sizeof(smart), n->buf), ==,
                    NVME_SUCCESS);

    /* AERL 19: 20 outstanding, the 21st is refused */
    for (unsigned i = 0; i < 20; i++) {
        aer_submit(n);
        qtest_clock_step(n->qts, n->step_ns);
    }
    aer_expect_none(n);
    aer = sqe_new(n, NVME_ADM_ASYNC_EVENT, 0);
    g_assert_cmphex(admin(n, &aer, NULL), ==, NVME_AER_LIMIT_EXCEEDED);
    nvme_free(n);
}

/*
 * aer_max_queued=1: while no AER is outstanding one event waits, the
 * next is dropped (stock's semantics)
 */
static void test_aer_max_queued(void)
{
    Nvme *n = nvme_boot("aer_max_queued=1", NULL);
    uint16_t cid;

    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(set_feature(n, NVME_FEAT_ASYNC_EVENT_CONF,
                                NVME_SMART_WARN_RELIABILITY, NULL), ==,
                    NVME_SUCCESS);
    qom_set_smart_warning(n, NVME_SMART_WARN_RELIABILITY, true);
    wr32(n, sq_db(n, 5), 1);        /* an error event: no room for it */

    aer_expect(n, aer_submit(n), NVME_LOG_SMART, NVME_AER_SMART_RELIABILITY,
               NVME_AER_TYPE_SMART);
    cid = aer_submit(n);
    aer_expect_none(n);

    /* the next error event does reach the waiting AER */
    wr32(n, sq_db(n, 5), 1);
    aer_expect(n, cid, NVME_LOG_ERROR, NVME_AER_ERR_INVALID_DB_REG,
               NVME_AER_TYPE_ERROR);
    nvme_free(n);
}

/*
 * Function Level Reset (PCIe capability, as stock has it) with writes in
 * flight: the controller resets like a device reset, the function comes
 * back with its BARs and MSI-X cleared, and works once set up again.
 */
static void test_flr(void)
{
    Nvme *n = nvme_boot("tick-ns=1000000", NULL);
    uint8_t exp = qpci_find_capability(n->dev, PCI_CAP_ID_EXP, 0);
    uint64_t wbuf = nvme_alloc(n, PAGE);

    g_assert_cmphex(exp, ==, 0x80);
    g_assert_true(qpci_config_readl(n->dev, exp + PCI_EXP_DEVCAP) &
                  PCI_EXP_DEVCAP_FLR);
    n->step_ns = 1000000;
    ctrl_enable(n, NVME_CC_AMS_RR);
    io_queues(n, 1);
    fill(n, wbuf, PAGE, 0x5a);
    for (unsigned i = 0; i < 4; i++) {
        NvmeSqe c = rw_cmd(n, NVME_IO_WRITE, 8 * i, 8);

        c.dptr[0] = cpu_to_le64(wbuf);
        sq_put(n, 1, &c);
    }
    sq_ring(n, 1);
    qtest_clock_step(n->qts, n->step_ns);
    qpci_config_writew(n->dev, exp + PCI_EXP_DEVCTL,
                       qpci_config_readw(n->dev, exp + PCI_EXP_DEVCTL) |
                       PCI_EXP_DEVCTL_BCR_FLR);

    qpci_device_enable(n->dev);
    nvme_msix_enable(n);
    msix_setup(n);
    g_assert_cmphex(rd32(n, NVME_REG_CC), ==, 0);
    g_assert_cmphex(rd32(n, NVME_REG_CSTS), ==, 0);
    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(identify(n, NVME_CNS_CTRL, 0, n->buf), ==, NVME_SUCCESS);
    nvme_free(n);
}

/*
 * Verify does not need the data: one of 65536 blocks of 2 MiB (128 GiB,
 * within vsl=25) is read in chunks through a small buffer and succeeds.
 * It once asked for a 128 GiB buffer and failed with Internal Error.
 */
static void test_verify_large(void)
{
    Nvme *n = nvme_boot("vsl=25",
                        "-drive id=big,if=none,driver=null-co,size=128G "
                        "-device nvme-ns,drive=big,bus=nvme0,nsid=2,"
                        "logical_block_size=2097152,"
                        "physical_block_size=2097152");
    NvmeSqe c;

    ctrl_enable(n, NVME_CC_AMS_RR);
    io_queues(n, 1);
    c = rw_cmd(n, NVME_IO_VERIFY, 0, 65536);
    c.nsid = cpu_to_le32(2);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    /* past the end is still refused */
    c = rw_cmd(n, NVME_IO_VERIFY, 1, 65536);
    c.nsid = cpu_to_le32(2);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_LBA_OUT_OF_RANGE);
    nvme_free(n);
}

/*
 * One source for each limit: Verify is bounded by the VSL that Identify
 * reports (vsl=1: 2 x 4 KiB), Compare by MDTS; the firmware slot log and
 * Identify give the same revision.
 */
static void test_limits_agree(void)
{
    Nvme *n = nvme_boot("vsl=1", NULL);
    g_autofree NvmeIdCtrlNvm *nvm = g_new0(NvmeIdCtrlNvm, 1);
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);
    NvmeFwSlotLog fw;
    NvmeSqe c;

    ctrl_enable(n, NVME_CC_AMS_RR);
    io_queues(n, 1);
    identify_read(n, NVME_CNS_CSI_CTRL, 0, nvm, sizeof(*nvm));
    g_assert_cmpuint(nvm->vsl, ==, 1);
    c = rw_cmd(n, NVME_IO_VERIFY, 0, 2 * PAGE / 512);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = rw_cmd(n, NVME_IO_VERIFY, 0, 2 * PAGE / 512 + 1);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_INVALID_FIELD);
    /* Compare of 4 pages: within MDTS (7), beyond VSL */
    c = rw_cmd(n, NVME_IO_COMPARE, 0, 4 * PAGE / 512);
    set_prps(n, &c, n->buf, 4 * PAGE, n->buf + 8 * PAGE);
    qtest_memset(n->qts, n->buf, 0, 4 * PAGE);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);

    identify_read(n, NVME_CNS_CTRL, 0, id, sizeof(*id));
    g_assert_cmphex(get_log(n, NVME_LOG_FW_SLOT, sizeof(fw), n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, &fw, sizeof(fw));
    g_assert_cmpmem(fw.frs[0], sizeof(fw.frs[0]), id->fr, sizeof(id->fr));
    g_assert_cmpmem(id->fr, strlen(QEMU_VERSION), QEMU_VERSION,
                    strlen(QEMU_VERSION));
    nvme_free(n);
}

static void test_cq_backpressure(void)
{
    Nvme *n = nvme_boot("", NULL);
    unsigned got = 0;
    bool seen[64] = { 0 };
    uint16_t first;
    NvmeCqe cqe;

    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(create_cq(n, 1, 4, 1), ==, NVME_SUCCESS);   /* 3 slots */
    g_assert_cmphex(create_sq(n, 1, 1, 32, 0), ==, NVME_SUCCESS);
    first = n->cid + 1;
    for (unsigned i = 0; i < 20; i++) {
        NvmeSqe c = sqe_new(n, NVME_IO_FLUSH, 1);

        sq_put(n, 1, &c);
    }
    sq_ring(n, 1);
    while (got < 20) {
        unsigned batch = 0;
        int64_t deadline = g_get_monotonic_time() + WAIT_US;

        /* fill the CQ without consuming: never more than 3 entries */
        while (batch < 3 && got + batch < 20) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            if (cq_peek(n, 1, &cqe)) {
                uint16_t idx = le16_to_cpu(cqe.cid) - first;

                g_assert_cmpuint(idx, <, 20);
                g_assert_false(seen[idx]);
                seen[idx] = true;
                g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
                cq_pop(n, 1, false);
                batch++;
            } else {
                qtest_clock_step(n->qts, n->step_ns);
            }
        }
        /* the slot after a full CQ must stay empty */
        qtest_clock_step(n->qts, 1000000);
        g_assert_false(cq_peek(n, 1, &cqe));
        got += batch;
        wr32(n, cq_db(n, 1), n->cq[1].head);
    }
    for (unsigned i = 0; i < 20; i++) {
        g_assert_true(seen[i]);
    }
    nvme_free(n);
}

static void test_reset_mid_io(void)
{
    Nvme *n = nvme_boot("tick-ns=1000000", NULL);
    uint64_t wbuf = nvme_alloc(n, 8 * PAGE), rbuf = nvme_alloc(n, PAGE);
    const char *opts = g_getenv(NVME_ENV_CTRL_OPTS);
    bool iothread = opts && strstr(opts, "iothread=");
    bool done[8] = { false };
    uint16_t first = 0;
    unsigned posted = 0;
    NvmeCqe cqe;

    n->step_ns = 1000000;
    ctrl_enable(n, NVME_CC_AMS_RR);
    io_queues(n, 1);
    fill(n, wbuf, 8 * PAGE, 0x33);
    for (unsigned i = 0; i < 8; i++) {
        NvmeSqe c = rw_cmd(n, NVME_IO_WRITE, 1000 + 8 * i, 8);

        c.dptr[0] = cpu_to_le64(wbuf + i * PAGE);
        first = i ? first : sqe_cid(&c);
        sq_put(n, 1, &c);
    }
    sq_ring(n, 1);
    /* one service tick fetches all eight; reset while they are in flight */
    qtest_clock_step(n->qts, n->step_ns);
    wr32(n, NVME_REG_CC, 0);
    g_assert_cmphex(rd32(n, NVME_REG_CSTS), ==, 0);
    /* every fetched command got its completion before the queues went */
    while (posted < 8 && cq_peek(n, 1, &cqe)) {
        uint16_t k = le16_to_cpu(cqe.cid) - first;

        g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
        g_assert_cmpuint(k, <, 8);
        g_assert_false(done[k]);
        done[k] = true;
        cq_pop(n, 1, false);
        posted++;
    }
    /*
     * In an iothread the tick runs in the engine's thread, so the CC
     * write can overtake it: then fewer (or no) commands were fetched,
     * and only those have completions.  In the main loop the tick has run.
     */
    if (!iothread) {
        g_assert_cmpuint(posted, ==, 8);
    }

    /* the controller comes back, and the completed writes are there */
    ctrl_enable(n, NVME_CC_AMS_RR);
    io_queues(n, 1);
    for (unsigned i = 0; i < 8; i++) {
        NvmeSqe c = rw_cmd(n, NVME_IO_READ, 1000 + 8 * i, 8);

        if (!done[i]) {
            continue;
        }
        c.dptr[0] = cpu_to_le64(rbuf);
        g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
        g_assert_true(same(n, rbuf, wbuf + i * PAGE, PAGE));
    }
    /* doorbells while disabled are ignored, not fatal */
    ctrl_disable(n);
    wr32(n, sq_db(n, 1), 3);
    g_assert_cmphex(rd32(n, NVME_REG_CSTS), ==, 0);
    nvme_free(n);
}

/* Count the CQEs that have appeared in @qid since the last call */
static unsigned cq_drain(Nvme *n, unsigned qid)
{
    NvmeCqe cqe;
    unsigned count = 0;

    while (cq_peek(n, qid, &cqe)) {
        g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
        cq_pop(n, qid, true);
        count++;
    }
    return count;
}

/* Wait (in real time, virtual clock frozen) for @want CQEs in @qid */
static unsigned cq_settle(Nvme *n, unsigned qid, unsigned want)
{
    int64_t deadline = g_get_monotonic_time() + WAIT_US;
    unsigned got = 0;

    while (got < want && g_get_monotonic_time() < deadline) {
        got += cq_drain(n, qid);
        g_usleep(1000);
    }
    g_usleep(20000);
    return got + cq_drain(n, qid);
}

static void test_wrr(void)
{
    /* one service tick serves 14 commands */
    Nvme *n = nvme_boot("tick-ns=1000000,tick-budget=14", NULL);
    static const unsigned prio[] = {
        0, NVME_QPRIO_HIGH, NVME_QPRIO_MEDIUM, NVME_QPRIO_LOW,
        NVME_QPRIO_URGENT,
    };
    unsigned served[5] = { 0 };

    n->step_ns = 1000000;
    ctrl_enable(n, NVME_CC_AMS_WRRU);
    /* burst 1, weights high 8, medium 4, low 2 */
    g_assert_cmphex(set_feature(n, NVME_FEAT_ARBITRATION,
                                (7u << 24) | (3u << 16) | (1u << 8), NULL),
                    ==, NVME_SUCCESS);
    for (unsigned q = 1; q <= 4; q++) {
        g_assert_cmphex(create_cq(n, q, QDEPTH, q), ==, NVME_SUCCESS);
        g_assert_cmphex(create_sq(n, q, q, QDEPTH, prio[q]), ==,
                        NVME_SUCCESS);
    }
    /* saturate high, medium and low */
    for (unsigned q = 1; q <= 3; q++) {
        for (unsigned i = 0; i < 42; i++) {
            NvmeSqe c = sqe_new(n, NVME_IO_FLUSH, 1);

            sq_put(n, q, &c);
        }
        sq_ring(n, q);
    }
    for (unsigned tick = 1; tick <= 3; tick++) {
        qtest_clock_step(n->qts, n->step_ns);
        for (unsigned q = 1; q <= 3; q++) {
            served[q] += cq_settle(n, q, (16 >> q) * tick - served[q]);
        }
        g_assert_cmpuint(served[1], ==, 8 * tick);
        g_assert_cmpuint(served[2], ==, 4 * tick);
        g_assert_cmpuint(served[3], ==, 2 * tick);
    }

    /* urgent has strict priority: it takes the whole next tick */
    for (unsigned i = 0; i < 20; i++) {
        NvmeSqe c = sqe_new(n, NVME_IO_FLUSH, 1);

        sq_put(n, 4, &c);
    }
    sq_ring(n, 4);
    qtest_clock_step(n->qts, n->step_ns);
    g_assert_cmpuint(cq_settle(n, 4, 14), ==, 14);
    for (unsigned q = 1; q <= 3; q++) {
        g_assert_cmpuint(cq_drain(n, q), ==, 0);
    }
    nvme_free(n);
}

static void test_coalescing(void)
{
    Nvme *n = nvme_boot("", NULL);
    uint32_t dw0;

    ctrl_enable(n, NVME_CC_AMS_RR);
    io_queues(n, 1);
    /* threshold 4 entries (0's based 3), time 1 ms (10 x 100 us) */
    g_assert_cmphex(set_feature(n, NVME_FEAT_IRQ_COALESCING, (10u << 8) | 3,
                                NULL), ==, NVME_SUCCESS);
    g_assert_cmphex(get_feature(n, NVME_FEAT_IRQ_COALESCING, 0, &dw0), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(dw0, ==, (10u << 8) | 3);
    irq_fired(n, 1);

    /* three completions: below the threshold, no interrupt yet */
    for (unsigned i = 0; i < 3; i++) {
        NvmeSqe c = sqe_new(n, NVME_IO_FLUSH, 1);

        sq_put(n, 1, &c);
    }
    sq_ring(n, 1);
    g_assert_cmpuint(cq_settle(n, 1, 3), ==, 3);
    g_assert_false(irq_fired(n, 1));
    /* the aggregation time runs out: the interrupt comes */
    qtest_clock_step(n->qts, 500000);
    g_assert_false(irq_fired(n, 1));
    qtest_clock_step(n->qts, 600000);
    g_assert_true(irq_fired(n, 1));

    /* four completions reach the threshold without waiting */
    for (unsigned i = 0; i < 4; i++) {
        NvmeSqe c = sqe_new(n, NVME_IO_FLUSH, 1);

        sq_put(n, 1, &c);
    }
    sq_ring(n, 1);
    g_assert_cmpuint(cq_settle(n, 1, 4), ==, 4);
    g_assert_true(irq_fired(n, 1));

    /* the admin queue is never coalesced */
    irq_fired(n, 0);
    g_assert_cmphex(get_feature(n, NVME_FEAT_ARBITRATION, 0, NULL), ==,
                    NVME_SUCCESS);
    g_assert_true(irq_fired(n, 0));

    /* coalescing disabled on vector 1: every completion interrupts */
    g_assert_cmphex(set_feature(n, NVME_FEAT_IRQ_CONFIG, (1u << 16) | 1,
                                NULL), ==, NVME_SUCCESS);
    g_assert_cmphex(get_feature(n, NVME_FEAT_IRQ_CONFIG, 1, &dw0), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(dw0, ==, (1u << 16) | 1);
    {
        NvmeSqe c = sqe_new(n, NVME_IO_FLUSH, 1);

        g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
        g_assert_true(irq_fired(n, 1));
    }
    nvme_free(n);
}

static void test_keep_alive(void)
{
    Nvme *n = nvme_boot("", NULL);
    NvmeSqe c;

    ctrl_enable(n, NVME_CC_AMS_RR);
    /* 100 ms keep alive timeout, refreshed by Keep Alive commands */
    g_assert_cmphex(set_feature(n, NVME_FEAT_KEEP_ALIVE, 100, NULL), ==,
                    NVME_SUCCESS);
    for (unsigned i = 0; i < 3; i++) {
        qtest_clock_step(n->qts, 60 * 1000 * 1000);
        c = sqe_new(n, NVME_ADM_KEEP_ALIVE, 0);
        g_assert_cmphex(admin(n, &c, NULL), ==, NVME_SUCCESS);
    }
    g_assert_cmpuint(FIELD_EX32(rd32(n, NVME_REG_CSTS), NVME_CSTS, CFS), ==,
                     0);
    /* silence past the timeout: controller fatal status */
    qtest_clock_step(n->qts, 150 * 1000 * 1000);
    g_assert_cmpuint(FIELD_EX32(rd32(n, NVME_REG_CSTS), NVME_CSTS, CFS), ==,
                     1);
    /* a controller reset clears it and the controller works again */
    ctrl_disable(n);
    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(identify(n, NVME_CNS_CTRL, 0, n->buf), ==, NVME_SUCCESS);
    nvme_free(n);
}

/* PIIX3 PIRQ route control registers (PIRQA at 0x60), devfn 01.0 */
#define PIIX3_DEVFN         QPCI_DEVFN(1, 0)
#define PIIX3_PIRQA_ROUTE   0x60
#define INTX_IRQ            11

/*
 * Wait until the INTx line is at @level.  With the engine in an iothread
 * the pin is set by a main-loop bottom half after the entry is in guest
 * memory (and after an INTMS/INTMC write), so each qtest command gives the
 * main loop a turn; the bound only stops a test that would hang.
 */
#define INTX_WAIT_TURNS 100000

static void intx_wait(Nvme *n, bool level)
{
    for (unsigned i = 0; qtest_get_irq(n->qts, INTX_IRQ) != level; i++) {
        g_assert_cmpuint(i, <, INTX_WAIT_TURNS);
        qtest_clock_step(n->qts, n->step_ns);
    }
}

static void test_intx(void)
{
    Nvme *n = nvme_boot("", NULL);
    QPCIDevice *isa = qpci_device_find(n->qs->pcibus, PIIX3_DEVFN);
    NvmeSqe c;
    NvmeCqe cqe;

    /* route PIRQA..D (whichever slot 4 pin A lands on) to IRQ 11 */
    g_assert(isa);
    for (unsigned i = 0; i < 4; i++) {
        qpci_config_writeb(isa, PIIX3_PIRQA_ROUTE + i, INTX_IRQ);
    }
    g_free(isa);
    qpci_msix_disable(n->dev);
    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_false(qtest_get_irq(n->qts, INTX_IRQ));

    /* a completion the host has not consumed holds the pin */
    c = sqe_new(n, NVME_ADM_GET_FEATURES, 0);
    c.cdw10 = cpu_to_le32(NVME_FEAT_ARBITRATION);
    sq_put(n, 0, &c);
    sq_ring(n, 0);
    while (!cq_peek(n, 0, &cqe)) {
        qtest_clock_step(n->qts, n->step_ns);
    }
    intx_wait(n, true);
    /* INTMS masks it, INTMC unmasks it */
    wr32(n, NVME_REG_INTMS, 1);
    intx_wait(n, false);
    wr32(n, NVME_REG_INTMC, 1);
    intx_wait(n, true);
    /* consuming the entry drops it */
    cq_pop(n, 0, true);
    intx_wait(n, false);

    /* without MSI-X only vector 0 exists */
    g_assert_cmphex(create_cq(n, 1, 16, 1), ==, NVME_INVALID_IRQ_VECTOR);
    g_assert_cmphex(create_cq(n, 1, 16, 0), ==, NVME_SUCCESS);
    g_assert_cmphex(create_sq(n, 1, 1, 16, 0), ==, NVME_SUCCESS);
    c = rw_cmd(n, NVME_IO_READ, 0, 8);
    c.dptr[0] = cpu_to_le64(n->buf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    /* the entry was consumed: the pin drops */
    intx_wait(n, false);
    nvme_msix_enable(n);
    nvme_free(n);
}

static void test_commands(void)
{
    Nvme *n = nvme_boot("", NULL);
    uint64_t wbuf = nvme_alloc(n, 2 * PAGE), rbuf = nvme_alloc(n, 2 * PAGE);
    NvmeSmartLog smart;
    NvmeEffectsLog *eff = g_new0(NvmeEffectsLog, 1);
    NvmeIdNs *ns = g_new0(NvmeIdNs, 1);
    NvmeDsmRange r;
    uint64_t writes;
    uint32_t dw0;
    NvmeSqe c;

    ctrl_enable(n, NVME_CC_AMS_RR);
    io_queues(n, 1);

    g_assert_cmphex(get_log(n, NVME_LOG_SMART, 512, n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, &smart, sizeof(smart));
    writes = ldq_le_p(smart.host_writes);
    g_assert_cmpuint(le16_to_cpu(smart.temperature), >, 273);

    fill(n, wbuf, PAGE, 0x11);
    c = rw_cmd(n, NVME_IO_WRITE, 8, 8);
    c.dptr[0] = cpu_to_le64(wbuf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    g_assert_cmphex(get_log(n, NVME_LOG_SMART, 512, n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, &smart, sizeof(smart));
    g_assert_cmpuint(ldq_le_p(smart.host_writes), ==, writes + 1);
    g_assert_cmpuint(ldq_le_p(smart.data_units_written), >=, 1);

    /* compare: equal, then different */
    c = rw_cmd(n, NVME_IO_COMPARE, 8, 8);
    c.dptr[0] = cpu_to_le64(wbuf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    fill(n, rbuf, PAGE, 0x12);
    c = rw_cmd(n, NVME_IO_COMPARE, 8, 8);
    c.dptr[0] = cpu_to_le64(rbuf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_COMPARE_FAILURE);
    c = rw_cmd(n, NVME_IO_VERIFY, 0, 64);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);

    /* write zeroes, then read back zeroes */
    c = rw_cmd(n, NVME_IO_WRITE_ZEROES, 8, 8);
    c.cdw12 |= cpu_to_le32(1u << R_NVME_RW_DW12_DEAC_SHIFT);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    qtest_memset(n->qts, wbuf, 0, PAGE);
    fill(n, rbuf, PAGE, 0x77);
    c = rw_cmd(n, NVME_IO_READ, 8, 8);
    c.dptr[0] = cpu_to_le64(rbuf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    g_assert_true(same(n, wbuf, rbuf, PAGE));

    /*
     * dataset management deallocate reads back as zeroes (DLFEAT), even
     * with the drive's default discard=ignore; then a range out of bounds
     */
    fill(n, wbuf, PAGE, 0x21);
    c = rw_cmd(n, NVME_IO_WRITE, 64, 8);
    c.dptr[0] = cpu_to_le64(wbuf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    r = (NvmeDsmRange) { .slba = cpu_to_le64(64), .nlb = cpu_to_le32(64) };
    qtest_memwrite(n->qts, n->buf, &r, sizeof(r));
    c = sqe_new(n, NVME_IO_DSM, 1);
    c.dptr[0] = cpu_to_le64(n->buf);
    c.cdw11 = cpu_to_le32(1u << R_NVME_DSM_DW11_AD_SHIFT);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    qtest_memset(n->qts, wbuf, 0, PAGE);
    fill(n, rbuf, PAGE, 0x78);
    c = rw_cmd(n, NVME_IO_READ, 64, 8);
    c.dptr[0] = cpu_to_le64(rbuf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    g_assert_true(same(n, wbuf, rbuf, PAGE));
    r.slba = cpu_to_le64(IMG_SIZE / 512);
    qtest_memwrite(n->qts, n->buf, &r, sizeof(r));
    c = sqe_new(n, NVME_IO_DSM, 1);
    c.dptr[0] = cpu_to_le64(n->buf);
    c.cdw11 = cpu_to_le32(1u << R_NVME_DSM_DW11_AD_SHIFT);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_LBA_OUT_OF_RANGE);

    /* the effects log comes from the dispatch tables */
    g_assert_cmphex(get_log(n, NVME_LOG_CMD_EFFECTS, 4096, n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, eff, sizeof(*eff));
    g_assert_cmphex(le32_to_cpu(eff->iocs[NVME_IO_READ]) & NVME_EFF_CSUPP,
                    ==, NVME_EFF_CSUPP);
    g_assert_cmphex(le32_to_cpu(eff->iocs[NVME_IO_WRITE]) & NVME_EFF_LBCC,
                    ==, NVME_EFF_LBCC);
    g_assert_cmphex(le32_to_cpu(eff->acs[NVME_ADM_IDENTIFY]), ==,
                    NVME_EFF_CSUPP);
    g_assert_cmphex(le32_to_cpu(eff->acs[0x7f]), ==, 0);
    g_assert_cmphex(get_log(n, 0x77, 512, n->buf), ==, NVME_INVALID_LOG_PAGE);
    g_assert_cmphex(get_log(n, NVME_LOG_FW_SLOT, 512, n->buf), ==,
                    NVME_SUCCESS);

    /* features: every one we list answers Get */
    {
        static const uint8_t fids[] = {
            NVME_FEAT_ARBITRATION, NVME_FEAT_POWER_MGMT,
            NVME_FEAT_TEMP_THRESHOLD, NVME_FEAT_ERROR_RECOVERY,
            NVME_FEAT_VOLATILE_WC, NVME_FEAT_NUM_QUEUES,
            NVME_FEAT_IRQ_COALESCING, NVME_FEAT_IRQ_CONFIG,
            NVME_FEAT_ASYNC_EVENT_CONF, NVME_FEAT_TIMESTAMP,
            NVME_FEAT_KEEP_ALIVE, NVME_FEAT_HOST_BEHAVIOR,
        };

        for (unsigned i = 0; i < ARRAY_SIZE(fids); i++) {
            NvmeSqe g = sqe_new(n, NVME_ADM_GET_FEATURES,
                                fids[i] == NVME_FEAT_ERROR_RECOVERY ? 1 : 0);

            /* Error Recovery is namespace specific: it needs a nsid */
            g.cdw10 = cpu_to_le32(fids[i]);
            g_assert_cmphex(admin(n, &g, NULL), ==, NVME_SUCCESS);
        }
        g_assert_cmphex(get_feature(n, 0x7d, 0, NULL), ==,
                        NVME_INVALID_FIELD);
    }
    g_assert_cmphex(set_feature(n, NVME_FEAT_VOLATILE_WC, 0, NULL), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(get_feature(n, NVME_FEAT_VOLATILE_WC, 0, &dw0), ==,
                    NVME_SUCCESS);
    g_assert_cmpuint(dw0, ==, 0);
    g_assert_cmphex(set_feature(n, NVME_FEAT_POWER_MGMT, 3, NULL), ==,
                    NVME_INVALID_FIELD);

    /* temperature threshold below the current temperature: SMART event */
    g_assert_cmphex(set_feature(n, NVME_FEAT_ASYNC_EVENT_CONF,
                                0xff | (1u << 8), NULL), ==, NVME_SUCCESS);
    {
        NvmeSqe aer = sqe_new(n, NVME_ADM_ASYNC_EVENT, 0);
        NvmeCqe cqe;

        sq_put(n, 0, &aer);
        g_assert_cmphex(set_feature(n, NVME_FEAT_TEMP_THRESHOLD, 300, NULL),
                        ==, NVME_SUCCESS);
        cq_wait_cid(n, 0, sqe_cid(&aer), &cqe);
        g_assert_cmphex(le32_to_cpu(cqe.dw0), ==,
                        (NVME_LOG_SMART << 16) |
                        (NVME_AER_SMART_TEMP_THRESH << 8) |
                        NVME_AER_TYPE_SMART);
        g_assert_cmphex(get_log(n, NVME_LOG_SMART, 512, n->buf), ==,
                        NVME_SUCCESS);
        qtest_memread(n->qts, n->buf, &smart, sizeof(smart));
        g_assert_cmphex(smart.critical_warning & NVME_SMART_WARN_TEMPERATURE,
                        ==, NVME_SMART_WARN_TEMPERATURE);

        /* format to 4 KiB: namespace attribute notice */
        aer = sqe_new(n, NVME_ADM_ASYNC_EVENT, 0);
        sq_put(n, 0, &aer);
        c = sqe_new(n, NVME_ADM_FORMAT_NVM, 1);
        c.cdw10 = cpu_to_le32(4);          /* stock's 4 KiB format */
        g_assert_cmphex(admin(n, &c, NULL), ==, NVME_SUCCESS);
        cq_wait_cid(n, 0, sqe_cid(&aer), &cqe);
        g_assert_cmphex(le32_to_cpu(cqe.dw0), ==,
                        (NVME_LOG_CHANGED_NS << 16) | NVME_AER_TYPE_NOTICE);
        g_assert_cmphex(get_log(n, NVME_LOG_CHANGED_NS, 4096, n->buf), ==,
                        NVME_SUCCESS);
        g_assert_cmpuint(qtest_readl(n->qts, n->buf), ==, 1);
    }
    g_assert_cmphex(identify(n, NVME_CNS_NS, 1, n->buf), ==, NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, ns, sizeof(*ns));
    g_assert_cmpuint(ns->flbas & 0xf, ==, 4);
    g_assert_cmpuint(le64_to_cpu(ns->nsze), ==, IMG_SIZE / 4096);
    c = rw_cmd(n, NVME_IO_READ, IMG_SIZE / 4096 - 1, 1);
    c.dptr[0] = cpu_to_le64(rbuf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = sqe_new(n, NVME_ADM_FORMAT_NVM, 1);
    /* PI type 1 on 512 B without metadata */
    c.cdw10 = cpu_to_le32(FIELD_DP32(0, NVME_FORMAT_DW10, PI, 1));
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_INVALID_FORMAT);
    c = sqe_new(n, NVME_ADM_FORMAT_NVM, 1);
    c.cdw10 = cpu_to_le32(8);              /* past NLBAF */
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_INVALID_FORMAT);

    /* format with user data erase: the data reads back as zeroes */
    fill(n, wbuf, PAGE, 0x44);
    c = rw_cmd(n, NVME_IO_WRITE, 3, 1);
    c.dptr[0] = cpu_to_le64(wbuf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    c = sqe_new(n, NVME_ADM_FORMAT_NVM, NVME_NSID_BROADCAST);
    c.cdw10 = cpu_to_le32((1u << R_NVME_FORMAT_DW10_SES_SHIFT) | 4);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_SUCCESS);
    qtest_memset(n->qts, wbuf, 0, PAGE);
    c = rw_cmd(n, NVME_IO_READ, 3, 1);
    c.dptr[0] = cpu_to_le64(rbuf);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);
    g_assert_true(same(n, wbuf, rbuf, PAGE));

    /* abort of a command that is not outstanding; keep alive */
    c = sqe_new(n, NVME_ADM_ABORT, 0);
    c.cdw10 = cpu_to_le32((0x4321u << 16) | 1);
    g_assert_cmphex(admin(n, &c, &dw0), ==, NVME_SUCCESS);
    g_assert_cmpuint(dw0 & 1, ==, 1);
    c = sqe_new(n, NVME_ADM_KEEP_ALIVE, 0);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_SUCCESS);
    g_free(eff);
    g_free(ns);
    nvme_free(n);
}

/* ---- defects found in review (issue 7) ----------------------------------- */

#define MS              (1000 * 1000)
/* a namespace whose reads stay in flight for a while (real time) */
#define SLOW_NS         2
#define SLOW_NS_OPTS    "-drive id=slow,if=none,driver=null-co,size=32M," \
                        "latency-ns=1000000000 " \
                        "-device nvme-ns,drive=slow,bus=nvme0,nsid=2 "

/* Completed reads of block backend @name (query-blockstats) */
static int64_t blk_reads_done(Nvme *n, const char *name)
{
    QDict *rsp = qtest_qmp(n->qts, "{'execute': 'query-blockstats'}");
    QListEntry *e;
    int64_t ops = -1;

    g_assert(qdict_haskey(rsp, "return"));
    QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), e) {
        QDict *dev = qobject_to(QDict, qlist_entry_obj(e));

        if (!g_strcmp0(qdict_get_try_str(dev, "device"), name)) {
            ops = qdict_get_int(qdict_get_qdict(dev, "stats"),
                                "rd_operations");
        }
    }
    qobject_unref(rsp);
    g_assert_cmpint(ops, >=, 0);
    return ops;
}

/* ---- boot order ---------------------------------------------------------- */

/*
 * Each namespace's boot entry names its controller and its own nsid,
 * given or assigned at realize.  Stock QEMU 10.0 writes
 * "/nvme-ns/namespace@0,0" for every nvme-ns; ours once read a suffix
 * string freed before the boot order was built.
 */
static void test_boot_order(void)
{
    Nvme *n = nvme_boot("bootindex=3",
                        "-drive id=d1,if=none,driver=null-co,size=32M "
                        "-device nvme-ns,drive=d1,bus=nvme0,nsid=7,"
                        "bootindex=1 "
                        "-drive id=d2,if=none,driver=null-co,size=32M "
                        "-device nvme-ns,drive=d2,bus=nvme0,bootindex=2");
    QFWCFG *fw = pc_fw_cfg_init(n->qts);
    char order[1024] = { 0 };
    size_t len = qfw_cfg_get_file(fw, "bootorder", order, sizeof(order) - 1);

    g_assert_cmpuint(len, <, sizeof(order));
    g_assert_cmpstr(order, ==,
                    "/pci@i0cf8/pci1b36,0010@4/nvme-ns/namespace@7,0\n"
                    "/pci@i0cf8/pci1b36,0010@4/nvme-ns/namespace@2,0\n"
                    "/pci@i0cf8/pci1b36,0010@4/namespace@1,0");
    pc_fw_cfg_uninit(fw);
    nvme_free(n);
}

/* ---- paused queues ------------------------------------------------------- */

/* How many times the service tick ran, from the trace log */
static unsigned ticks_logged(const char *log)
{
    g_autofree char *text = NULL;
    unsigned count = 0;

    g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
    for (const char *p = text; (p = strstr(p, "nvme_dev_tick ")); p++) {
        count++;
    }
    return count;
}

/*
 * Fill CQ 1 (4 entries: 3 usable) with flushes from a deeper SQ 1 and do
 * not consume them: SQ 1 is then paused with 7 commands left in it.
 */
static void fill_cq_and_pause(Nvme *n)
{
    unsigned seen = 0;
    NvmeCqe cqe;

    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(create_cq(n, 1, 4, 1), ==, NVME_SUCCESS);
    g_assert_cmphex(create_sq(n, 1, 1, 32, 0), ==, NVME_SUCCESS);
    for (unsigned i = 0; i < 10; i++) {
        NvmeSqe c = sqe_new(n, NVME_IO_FLUSH, 1);

        sq_put(n, 1, &c);
    }
    sq_ring(n, 1);
    while (seen < 3) {
        int64_t deadline = g_get_monotonic_time() + WAIT_US;

        while (!cq_peek(n, 1, &cqe)) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            qtest_clock_step(n->qts, n->step_ns);
        }
        g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
        cq_pop(n, 1, false);
        seen++;
    }
    /* whatever the last completions set off has run */
    qtest_clock_step(n->qts, MS);
}

/*
 * While the CQ is full and the host does nothing, nothing runs: the
 * service tick does not fire however far the clock moves.  The CQ head
 * doorbell alone resumes the SQ.
 */
static void test_pause_no_polling(void)
{
    g_autofree char *log = NULL;
    int fd = g_file_open_tmp("nvqemu-nvme-trace-XXXXXX.log", &log, NULL);
    g_autofree char *extra = NULL;
    unsigned before, served = 0;
    NvmeCqe cqe;
    Nvme *n;

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    extra = g_strdup_printf("-trace nvme_dev_tick -D %s", log);
    n = nvme_boot("", extra);
    fill_cq_and_pause(n);

    before = ticks_logged(log);
    g_assert_cmpuint(before, >, 0);
    qtest_clock_step(n->qts, 50 * MS);
    g_assert_cmpuint(ticks_logged(log), ==, before);
    g_assert_false(cq_peek(n, 1, &cqe));

    /* the host consumes the three entries: the rest comes */
    wr32(n, cq_db(n, 1), n->cq[1].head);
    while (served < 7) {
        cq_wait(n, 1, &cqe);
        g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
        served++;
    }
    g_assert_cmpuint(ticks_logged(log), >, before);
    nvme_free(n);
    unlink(log);
}

/*
 * An AER waiting for an event holds no admin CQ slot: with an admin CQ
 * of 4 entries (3 usable) and aerl=3, four AERs are outstanding and an
 * Identify still completes (it once paused the admin SQ for good).  An
 * event then completes one of them.
 */
static void test_aer_cq_slots(void)
{
    Nvme *n = nvme_boot("aerl=3", NULL);
    uint16_t cid[4];

    ctrl_enable_aq(n, NVME_CC_AMS_RR, 32, 4);
    g_assert_cmphex(set_feature(n, NVME_FEAT_ASYNC_EVENT_CONF,
                                NVME_SMART_WARN_RELIABILITY, NULL), ==,
                    NVME_SUCCESS);
    for (unsigned i = 0; i < ARRAY_SIZE(cid); i++) {
        cid[i] = aer_submit(n);
    }
    aer_expect_none(n);
    for (unsigned i = 0; i < 4; i++) {
        g_assert_cmphex(identify(n, NVME_CNS_CTRL, 0, n->buf), ==,
                        NVME_SUCCESS);
    }
    qom_set_smart_warning(n, NVME_SMART_WARN_RELIABILITY, true);
    /* the newest outstanding AER takes the event */
    aer_expect(n, cid[3], NVME_LOG_SMART, NVME_AER_SMART_RELIABILITY,
               NVME_AER_TYPE_SMART);
    nvme_free(n);
}

/*
 * An AER that would take the admin SQ's last request is refused with
 * AER Limit Exceeded: the SQ (4 entries, 4 requests) must still fetch
 * the commands that read the logs.
 */
static void test_aer_sq_slots(void)
{
    Nvme *n = nvme_boot("aerl=3", NULL);
    NvmeSqe aer;

    ctrl_enable_aq(n, NVME_CC_AMS_RR, 4, 32);
    for (unsigned i = 0; i < 3; i++) {
        aer_submit(n);
        qtest_clock_step(n->qts, n->step_ns);
    }
    aer_expect_none(n);
    aer = sqe_new(n, NVME_ADM_ASYNC_EVENT, 0);
    g_assert_cmphex(admin(n, &aer, NULL), ==, NVME_AER_LIMIT_EXCEEDED);
    g_assert_cmphex(identify(n, NVME_CNS_CTRL, 0, n->buf), ==,
                    NVME_SUCCESS);
    nvme_free(n);
}

/* ---- Abort --------------------------------------------------------------- */

static uint16_t abort_cmd(Nvme *n, unsigned sqid, uint16_t cid, uint32_t *dw0)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_ABORT, 0);
    uint32_t dw10 = FIELD_DP32(0, NVME_ABORT_DW10, SQID, sqid);

    c.cdw10 = cpu_to_le32(FIELD_DP32(dw10, NVME_ABORT_DW10, CID, cid));
    return admin(n, &c, dw0);
}

/*
 * Abort reports a command aborted (DW0 bit 0 clear) exactly when that
 * command completes with Command Abort Requested: an outstanding AER is
 * aborted; a read the block layer is still doing is not.
 */
static void test_abort_report(void)
{
    Nvme *n = nvme_boot("", SLOW_NS_OPTS);
    NvmeSqe aer, rd, fmt;
    NvmeCqe cqe;
    uint32_t dw0;
    uint16_t sc[2];

    ctrl_enable(n, NVME_CC_AMS_RR);
    io_queues(n, 1);

    aer = sqe_new(n, NVME_ADM_ASYNC_EVENT, 0);
    sq_put(n, 0, &aer);
    g_assert_cmphex(abort_cmd(n, 0, sqe_cid(&aer), &dw0), ==, NVME_SUCCESS);
    g_assert_cmphex(dw0 & 1, ==, 0);
    cq_wait_cid(n, 0, sqe_cid(&aer), &cqe);
    g_assert_cmphex(cqe_sc(&cqe), ==, NVME_ABORT_REQUESTED);

    /* a read that stays a second in the backend */
    rd = rw_cmd(n, NVME_IO_READ, 0, 8);
    rd.nsid = cpu_to_le32(SLOW_NS);
    rd.dptr[0] = cpu_to_le64(n->buf);
    sq_put(n, 1, &rd);
    sq_ring(n, 1);
    qtest_clock_step(n->qts, n->step_ns);
    g_assert_cmphex(abort_cmd(n, 1, sqe_cid(&rd), &dw0), ==, NVME_SUCCESS);
    cq_wait_cid(n, 1, sqe_cid(&rd), &cqe);
    g_assert_cmphex(cqe_sc(&cqe), ==,
                    dw0 & 1 ? NVME_SUCCESS : NVME_ABORT_REQUESTED);
    g_assert_cmphex(dw0 & 1, ==, 1);

    /* a command that is not outstanding is not aborted either */
    g_assert_cmphex(abort_cmd(n, 1, 0xbeef, &dw0), ==, NVME_SUCCESS);
    g_assert_cmphex(dw0 & 1, ==, 1);

    /*
     * An AER is found by its CID among the outstanding AERs, even when
     * an older admin command (a Format erasing the slow namespace)
     * carries the same CID.
     */
    fmt = sqe_new(n, NVME_ADM_FORMAT_NVM, SLOW_NS);
    fmt.cdw10 = cpu_to_le32(FIELD_DP32(0, NVME_FORMAT_DW10, SES, 1));
    aer = sqe_new(n, NVME_ADM_ASYNC_EVENT, 0);
    aer.cdw0 = cpu_to_le32(NVME_ADM_ASYNC_EVENT |
                           (uint32_t)sqe_cid(&fmt) << 16);
    sq_put(n, 0, &fmt);
    sq_put(n, 0, &aer);
    sq_ring(n, 0);
    qtest_clock_step(n->qts, n->step_ns);
    g_assert_cmphex(abort_cmd(n, 0, sqe_cid(&aer), &dw0), ==, NVME_SUCCESS);
    g_assert_cmphex(dw0 & 1, ==, 0);
    /* two completions with that CID: the AER's and the Format's */
    cq_wait_cid(n, 0, sqe_cid(&fmt), &cqe);
    sc[0] = cqe_sc(&cqe);
    cq_wait_cid(n, 0, sqe_cid(&fmt), &cqe);
    sc[1] = cqe_sc(&cqe);
    g_assert_cmphex(MIN(sc[0], sc[1]), ==, NVME_SUCCESS);
    g_assert_cmphex(MAX(sc[0], sc[1]), ==, NVME_ABORT_REQUESTED);
    nvme_free(n);
}

/* ---- fatal status -------------------------------------------------------- */

/*
 * After the keep alive timeout makes the controller fatal, no completion
 * reaches the CQ (not even that of a read in flight at that moment) and
 * no interrupt comes from a coalescing timer armed before; CC.EN=0 then
 * brings the controller back.
 */
static void test_fatal_stops(void)
{
    Nvme *n = nvme_boot("", SLOW_NS_OPTS);
    NvmeSqe c;
    NvmeCqe cqe;
    int64_t deadline;

    ctrl_enable(n, NVME_CC_AMS_RR);
    io_queues(n, 1);
    /* coalescing: 4 entries or 10 ms (100 x 100 us) */
    g_assert_cmphex(set_feature(n, NVME_FEAT_IRQ_COALESCING,
                                (100u << 8) | 3, NULL), ==, NVME_SUCCESS);
    /* keep alive timeout 5 ms; the virtual clock stands still from here */
    g_assert_cmphex(set_feature(n, NVME_FEAT_KEEP_ALIVE, 5, NULL), ==,
                    NVME_SUCCESS);
    irq_fired(n, 0);
    irq_fired(n, 1);

    /* one completion: its interrupt waits for the coalescing time */
    c = sqe_new(n, NVME_IO_FLUSH, 1);
    sq_put(n, 1, &c);
    sq_ring(n, 1);
    g_assert_cmpuint(cq_settle(n, 1, 1), ==, 1);
    g_assert_false(irq_fired(n, 1));

    /* a slow read is fetched and goes to the backend */
    c = rw_cmd(n, NVME_IO_READ, 0, 8);
    c.nsid = cpu_to_le32(SLOW_NS);
    c.dptr[0] = cpu_to_le64(n->buf);
    sq_put(n, 1, &c);
    sq_ring(n, 1);
    qtest_clock_step(n->qts, 1);

    /* past the keep alive timeout (5 ms) and the coalescing time (10 ms) */
    qtest_clock_step(n->qts, 20 * MS);
    g_assert_cmpuint(FIELD_EX32(rd32(n, NVME_REG_CSTS), NVME_CSTS, CFS), ==,
                     1);
    g_assert_false(irq_fired(n, 1));

    /* the read ends in the backend; its completion is not posted */
    deadline = g_get_monotonic_time() + WAIT_US;
    while (blk_reads_done(n, "slow") < 1) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(10000);
    }
    qtest_clock_step(n->qts, 20 * MS);
    g_assert_false(cq_peek(n, 1, &cqe));
    g_assert_false(irq_fired(n, 1));
    g_assert_false(irq_fired(n, 0));

    ctrl_disable(n);
    g_assert_cmphex(rd32(n, NVME_REG_CSTS), ==, 0);
    ctrl_enable(n, NVME_CC_AMS_RR);
    g_assert_cmphex(identify(n, NVME_CNS_CTRL, 0, n->buf), ==, NVME_SUCCESS);
    nvme_free(n);
}

/* ---- Format NVM ---------------------------------------------------------- */

/* Identify Namespace of @nsid into @id */
static void id_ns(Nvme *n, uint32_t nsid, NvmeIdNs *id)
{
    g_assert_cmphex(identify(n, NVME_CNS_NS, nsid, n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, id, sizeof(*id));
}

static uint8_t ns_lbaf(Nvme *n, uint32_t nsid)
{
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);

    id_ns(n, nsid, id);
    return FIELD_EX32(id->flbas, NVME_FLBAS, LBAFL);
}

/* The index of the 4 KiB LBA format namespace @nsid offers */
static uint8_t ns_lbaf_4k(Nvme *n, uint32_t nsid)
{
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);

    id_ns(n, nsid, id);
    for (uint8_t i = 0; i <= id->nlbaf; i++) {
        if (id->lbaf[i].lbads == ctz32(PAGE)) {
            return i;
        }
    }
    g_assert_not_reached();
}

static uint16_t format(Nvme *n, uint32_t nsid, uint8_t lbaf)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_FORMAT_NVM, nsid);

    c.cdw10 = cpu_to_le32(lbaf);
    return admin(n, &c, NULL);
}

/*
 * Format NVM without erase changes the LBA format: refused with Namespace
 * Is Write Protected on a read-only drive, alone or as part of all.
 */
static void test_format_read_only(void)
{
    Nvme *n = nvme_boot("", "-drive id=ro,if=none,driver=null-co,size=32M,"
                        "read-only=on -device nvme-ns,drive=ro,bus=nvme0,"
                        "nsid=2");
    uint8_t lbaf;

    ctrl_enable(n, NVME_CC_AMS_RR);
    lbaf = ns_lbaf_4k(n, 2);
    g_assert_cmpuint(ns_lbaf(n, 2), !=, lbaf);
    g_assert_cmphex(format(n, 2, lbaf), ==, NVME_NS_WRITE_PROTECTED);
    g_assert_cmpuint(ns_lbaf(n, 2), !=, lbaf);
    g_assert_cmphex(format(n, NVME_NSID_BROADCAST, lbaf), ==,
                    NVME_NS_WRITE_PROTECTED);
    g_assert_cmpuint(ns_lbaf(n, 1), !=, lbaf);
    g_assert_cmpuint(ns_lbaf(n, 2), !=, lbaf);
    /* the writable namespace still formats */
    g_assert_cmphex(format(n, 1, lbaf), ==, NVME_SUCCESS);
    g_assert_cmpuint(ns_lbaf(n, 1), ==, lbaf);
    nvme_free(n);
}

/*
 * Erasing more than one 32-bit block-layer request (about 2 GiB) at once:
 * a Dataset Management deallocate of a 3 GiB range, Write Zeroes of 65536
 * blocks of 64 KiB (4 GiB) and Format NVM with user data erase of a 4 GiB
 * namespace all succeed (the block layer splits zero writes itself).
 */
static void test_large_erase(void)
{
    const uint64_t blocks_3g = 3ull * 1024 * 1024 * 1024 / 512;
    Nvme *n = nvme_boot("", "-drive id=big,if=none,driver=null-co,size=4G "
                        "-device nvme-ns,drive=big,bus=nvme0,nsid=2 "
                        "-drive id=wide,if=none,driver=null-co,size=4G "
                        "-device nvme-ns,drive=wide,bus=nvme0,nsid=3,"
                        "logical_block_size=65536,"
                        "physical_block_size=65536");
    NvmeDsmRange r = { .slba = cpu_to_le64(1),
                       .nlb = cpu_to_le32(blocks_3g) };
    NvmeSqe c;

    ctrl_enable(n, NVME_CC_AMS_RR);
    io_queues(n, 1);
    qtest_memwrite(n->qts, n->buf, &r, sizeof(r));
    c = sqe_new(n, NVME_IO_DSM, 2);
    c.dptr[0] = cpu_to_le64(n->buf);
    c.cdw11 = cpu_to_le32(1u << R_NVME_DSM_DW11_AD_SHIFT);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);

    c = rw_cmd(n, NVME_IO_WRITE_ZEROES, 0, 65536);
    c.nsid = cpu_to_le32(3);
    g_assert_cmphex(io(n, 1, &c), ==, NVME_SUCCESS);

    c = sqe_new(n, NVME_ADM_FORMAT_NVM, 2);
    c.cdw10 = cpu_to_le32(FIELD_DP32(ns_lbaf(n, 2), NVME_FORMAT_DW10, SES,
                                     NVME_FORMAT_SES_USER_DATA));
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_SUCCESS);
    nvme_free(n);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nvqemu/nvme/registers", test_registers);
    g_test_add_func("/nvqemu/nvme/identify", test_identify);
    g_test_add_func("/nvqemu/nvme/derived-ids", test_derived_ids);
    g_test_add_func("/nvqemu/nvme/many-namespaces", test_many_namespaces);
    g_test_add_func("/nvqemu/nvme/io-prp", test_io_prp);
    g_test_add_func("/nvqemu/nvme/io-sgl", test_io_sgl);
    g_test_add_func("/nvqemu/nvme/block-sizes", test_block_sizes);
    g_test_add_func("/nvqemu/nvme/io-errors", test_io_errors);
    g_test_add_func("/nvqemu/nvme/queue-errors", test_queue_errors);
    g_test_add_func("/nvqemu/nvme/doorbell-aer", test_doorbell_aer);
    g_test_add_func("/nvqemu/nvme/smart-warning", test_smart_warning);
    g_test_add_func("/nvqemu/nvme/limits-agree", test_limits_agree);
    g_test_add_func("/nvqemu/nvme/verify-large", test_verify_large);
    g_test_add_func("/nvqemu/nvme/aer-max-queued", test_aer_max_queued);
    g_test_add_func("/nvqemu/nvme/flr", test_flr);
    g_test_add_func("/nvqemu/nvme/cq-backpressure", test_cq_backpressure);
    g_test_add_func("/nvqemu/nvme/reset-mid-io", test_reset_mid_io);
    g_test_add_func("/nvqemu/nvme/wrr", test_wrr);
    g_test_add_func("/nvqemu/nvme/coalescing", test_coalescing);
    g_test_add_func("/nvqemu/nvme/keep-alive", test_keep_alive);
    g_test_add_func("/nvqemu/nvme/intx", test_intx);
    g_test_add_func("/nvqemu/nvme/commands", test_commands);
    g_test_add_func("/nvqemu/nvme/boot-order", test_boot_order);
    g_test_add_func("/nvqemu/nvme/pause-no-polling",
                    test_pause_no_polling);
    g_test_add_func("/nvqemu/nvme/aer-cq-slots", test_aer_cq_slots);
    g_test_add_func("/nvqemu/nvme/aer-sq-slots", test_aer_sq_slots);
    g_test_add_func("/nvqemu/nvme/abort-report", test_abort_report);
    g_test_add_func("/nvqemu/nvme/fatal-stops", test_fatal_stops);
    g_test_add_func("/nvqemu/nvme/format-read-only",
                    test_format_read_only);
    g_test_add_func("/nvqemu/nvme/large-erase", test_large_erase);
    return g_test_run();
}
