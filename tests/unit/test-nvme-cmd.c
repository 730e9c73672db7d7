/*
 * Unit tests for the NVMe command decoders (include/hw/block/nvme/cmd.h):
 * each field is put where the specification places it, by byte and bit
 * offset in the 64-byte SQE, and must come out of the decoder.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/block/nvme/cmd.h"

/* Set command dword @idx of @sqe, wire order */
static void set_dw(NvmeSqe *sqe, unsigned idx, uint32_t val)
{
    stl_le_p((uint8_t *)sqe + 4 * idx, val);
}

static void test_range(void)
{
    NvmeSqe sqe = { 0 };
    NvmeCmdRange r;

    set_dw(&sqe, 10, 0x89abcdef);               /* SLBA bits 31:0 */
    set_dw(&sqe, 11, 0x01234567);               /* SLBA bits 63:32 */
    set_dw(&sqe, 12, (1u << 30) | (1u << 25) | 0x00ff);
    r = nvme_cmd_range(&sqe);
    g_assert_cmphex(r.slba, ==, 0x0123456789abcdefull);
    g_assert_cmpuint(r.nlb, ==, 0x100);         /* 0's based */
    g_assert_true(r.fua);
    g_assert_true(r.deac);
    g_assert_false(r.lr);

    set_dw(&sqe, 12, (1u << 31) | 0xffff);
    r = nvme_cmd_range(&sqe);
    g_assert_cmpuint(r.nlb, ==, 0x10000);
    g_assert_true(r.lr);
    g_assert_false(r.fua);
}

static void test_create_queues(void)
{
    NvmeSqe sqe = { 0 };
    NvmeCmdCreateCq cq;
    NvmeCmdCreateSq sq;

    set_dw(&sqe, 6, 0x12345000);                /* PRP1 low */
    set_dw(&sqe, 7, 0x1);                       /* PRP1 high */
    set_dw(&sqe, 10, (1023u << 16) | 7);        /* QSIZE 1023, QID 7 */
    set_dw(&sqe, 11, (33u << 16) | 0x3);        /* IV 33, IEN, PC */
    cq = nvme_cmd_create_cq(&sqe);
    g_assert_cmpuint(cq.qid, ==, 7);
    g_assert_cmpuint(cq.qsize, ==, 1024);
    g_assert_true(cq.pc);
    g_assert_true(cq.ien);
    g_assert_cmpuint(cq.iv, ==, 33);
    g_assert_cmphex(cq.prp1, ==, 0x112345000ull);

    set_dw(&sqe, 11, (5u << 16) | (NVME_QPRIO_LOW << 1) | 1);
    sq = nvme_cmd_create_sq(&sqe);
    g_assert_cmpuint(sq.qid, ==, 7);
    g_assert_cmpuint(sq.cqid, ==, 5);
    g_assert_cmpuint(sq.qprio, ==, NVME_QPRIO_LOW);
    g_assert_true(sq.pc);

    set_dw(&sqe, 11, (5u << 16) | (NVME_QPRIO_URGENT << 1));
    sq = nvme_cmd_create_sq(&sqe);
    g_assert_cmpuint(sq.qprio, ==, NVME_QPRIO_URGENT);
    g_assert_false(sq.pc);
}

static void test_get_log(void)
{
    NvmeSqe sqe = { 0 };
    NvmeCmdGetLog l;

    /* NUMDL 0x7f, RAE, LSP 1, LID 2 */
    set_dw(&sqe, 10, (0x7fu << 16) | (1u << 15) | (1u << 8) | 0x02);
    set_dw(&sqe, 11, (9u << 16) | 0x1);         /* LSI 9, NUMDU 1 */
    set_dw(&sqe, 12, 0x200);
    set_dw(&sqe, 13, 0x1);
    set_dw(&sqe, 14, 0x5u << 24);
    l = nvme_cmd_get_log(&sqe);
    g_assert_cmpuint(l.lid, ==, 2);
    g_assert_true(l.rae);
    g_assert_cmpuint(l.lsp, ==, 1);
    g_assert_cmpuint(l.len, ==, (0x1007full + 1) * 4);
    g_assert_cmphex(l.offset, ==, 0x100000200ull);
    g_assert_cmpuint(l.lsi, ==, 9);
    g_assert_cmpuint(l.csi, ==, 5);
}

static void test_identify_features(void)
{
    NvmeSqe sqe = { 0 };
    NvmeCmdIdentify id;
    NvmeCmdFeatures f;
    NvmeCmdArbitration a;

    set_dw(&sqe, 1, 0xffffffff);
    set_dw(&sqe, 10, (0x12u << 16) | NVME_CNS_NS_DESC_LIST);
    set_dw(&sqe, 11, (0x2u << 24) | 0xbeef);
    id = nvme_cmd_identify(&sqe);
    g_assert_cmpuint(id.cns, ==, NVME_CNS_NS_DESC_LIST);
    g_assert_cmpuint(id.cntid, ==, 0x12);
    g_assert_cmphex(id.cnssid, ==, 0xbeef);
    g_assert_cmpuint(id.csi, ==, 2);
    g_assert_cmphex(id.nsid, ==, 0xffffffff);

    set_dw(&sqe, 10, (1u << 31) | (3u << 8) | NVME_FEAT_IRQ_COALESCING);
    set_dw(&sqe, 11, 0xa0b0c0d3);
    f = nvme_cmd_features(&sqe);
    g_assert_cmpuint(f.fid, ==, NVME_FEAT_IRQ_COALESCING);
    g_assert_cmpuint(f.sel, ==, NVME_FEAT_SEL_CAPS);
    g_assert_true(f.sv);
    g_assert_cmphex(f.dw11, ==, 0xa0b0c0d3);

    a = nvme_cmd_arbitration(f.dw11);
    g_assert_cmpuint(a.ab, ==, 3);
    g_assert_cmphex(a.lpw, ==, 0xc0);
    g_assert_cmphex(a.mpw, ==, 0xb0);
    g_assert_cmphex(a.hpw, ==, 0xa0);

    g_assert_cmpuint(FIELD_EX32(f.dw11, NVME_FEAT_IRQC, THR), ==, 0xd3);
    g_assert_cmpuint(FIELD_EX32(f.dw11, NVME_FEAT_IRQC, TIME), ==, 0xc0);
    g_assert_cmpuint(FIELD_EX32(0x1000au, NVME_FEAT_IVC, CD), ==, 1);
    g_assert_cmpuint(FIELD_EX32(0x1000au, NVME_FEAT_IVC, IV), ==, 10);
}

static void test_abort_format_dsm(void)
{
    NvmeSqe sqe = { 0 };
    NvmeCmdAbort ab;
    NvmeCmdFormat fmt;
    NvmeCmdDsm dsm;

    set_dw(&sqe, 10, (0xbeefu << 16) | 3);
    ab = nvme_cmd_abort(&sqe);
    g_assert_cmpuint(ab.sqid, ==, 3);
    g_assert_cmphex(ab.cid, ==, 0xbeef);

    /* LBAFU 1, SES 1, PIL, PI 2, MSET, LBAFL 5 */
    set_dw(&sqe, 10, (1u << 12) | (1u << 9) | (1u << 8) | (2u << 5) |
           (1u << 4) | 5);
    fmt = nvme_cmd_format(&sqe);
    g_assert_cmpuint(fmt.lbaf, ==, 0x15);
    g_assert_cmpuint(fmt.ses, ==, 1);
    g_assert_true(fmt.pil);
    g_assert_cmpuint(fmt.pi, ==, 2);
    g_assert_true(fmt.mset);

    set_dw(&sqe, 10, 0xff);
    set_dw(&sqe, 11, 0x4);
    dsm = nvme_cmd_dsm(&sqe);
    g_assert_cmpuint(dsm.nr, ==, 256);
    g_assert_true(dsm.ad);
}

static void test_copy(void)
{
    NvmeSqe sqe = { 0 };
    uint8_t list[2 * sizeof(NvmeCopySrc40)] = { 0 };
    NvmeCmdCopy c;
    NvmeCopyRange r;

    set_dw(&sqe, 3, 0x0000abcd);                /* ILBRT bits 63:32 */
    set_dw(&sqe, 10, 0x89abcdef);               /* SDLBA bits 31:0 */
    set_dw(&sqe, 11, 0x01234567);               /* SDLBA bits 63:32 */
    /* LR, FUA, PRINFOW 0xa, STCW, DTYPE 2, PRINFOR 5, format 3, NR 0x7f */
    set_dw(&sqe, 12, (1u << 31) | (1u << 30) | (0xau << 26) | (1u << 24) |
           (2u << 20) | (5u << 12) | (3u << 8) | 0x7f);
    set_dw(&sqe, 13, 0x1234u << 16);            /* DSPEC */
    set_dw(&sqe, 14, 0x11223344);               /* ILBRT bits 31:0 */
    set_dw(&sqe, 15, (0xff00u << 16) | 0x00ee); /* LBATM, LBAT */
    c = nvme_cmd_copy(&sqe);
    g_assert_cmphex(c.sdlba, ==, 0x0123456789abcdefull);
    g_assert_cmpuint(c.nr, ==, 0x80);           /* 0's based */
    g_assert_cmpuint(c.format, ==, NVME_COPY_FORMAT_3);
    g_assert_cmpuint(c.prinfor, ==, 5);
    g_assert_cmpuint(c.prinfow, ==, 0xa);
    g_assert_cmpuint(c.dtype, ==, 2);
    g_assert_cmphex(c.dspec, ==, 0x1234);
    g_assert_true(c.stcw && c.fua && c.lr);
    g_assert_cmphex(c.ilbrt, ==, 0x0000abcd11223344ull);
    g_assert_cmphex(c.lbat, ==, 0xee);
    g_assert_cmphex(c.lbatm, ==, 0xff00);

    /* format 2h, entry 1: SNSID 3:0, SLBA 15:8, NLB 17:16, SOPT 23:22 */
    g_assert_cmpuint(nvme_copy_entry_size(NVME_COPY_FORMAT_2), ==, 32);
    stl_le_p(list + 32, 7);
    stq_le_p(list + 32 + 8, 0x1122334455667788ull);
    stw_le_p(list + 32 + 16, 9);
    stw_le_p(list + 32 + 22, 0x8000);
    stl_le_p(list + 32 + 24, 0xcafef00d);       /* EILBRT */
    stw_le_p(list + 32 + 28, 0xbeef);           /* ELBAT */
    stw_le_p(list + 32 + 30, 0xf0f0);           /* ELBATM */
    r = nvme_copy_range(list, NVME_COPY_FORMAT_2, 1);
    g_assert_cmpuint(r.snsid, ==, 7);
    g_assert_cmphex(r.slba, ==, 0x1122334455667788ull);
    g_assert_cmpuint(r.nlb, ==, 10);
    g_assert_cmphex(r.sopt, ==, 0x8000);
    g_assert_cmphex(r.eilbrt, ==, 0xcafef00d);
    g_assert_cmphex(r.elbat, ==, 0xbeef);
    g_assert_cmphex(r.elbatm, ==, 0xf0f0);
    /* format 0h: SNSID and SOPT are reserved */
    r = nvme_copy_range(list, NVME_COPY_FORMAT_0, 1);
    g_assert_cmpuint(r.snsid, ==, 0);
    g_assert_cmpuint(r.sopt, ==, 0);
    g_assert_cmpuint(r.nlb, ==, 10);

    /* format 1h, entry 1: the 80-bit tag in bytes 35:26, MSB first */
    memset(list, 0, sizeof(list));
    g_assert_cmpuint(nvme_copy_entry_size(NVME_COPY_FORMAT_1), ==, 40);
    stq_le_p(list + 40 + 8, 42);
    stw_be_p(list + 40 + 26, 0x0102);
    stq_be_p(list + 40 + 28, 0x030405060708090aull);
    stw_le_p(list + 40 + 36, 0x1111);
    stw_le_p(list + 40 + 38, 0x2222);
    r = nvme_copy_range(list, NVME_COPY_FORMAT_1, 1);
    g_assert_cmpuint(r.slba, ==, 42);
    g_assert_cmpuint(r.nlb, ==, 1);
    g_assert_cmphex(r.elbst, ==, 0x0102);
    g_assert_cmphex(r.eilbrt, ==, 0x030405060708090aull);
    g_assert_cmphex(r.elbat, ==, 0x1111);
    g_assert_cmphex(r.elbatm, ==, 0x2222);
}

static void test_cdw0_and_status(void)
{
    uint32_t cdw0 = (0x1234u << 16) | (1u << 14) | (1u << 8) | 0x02;
    uint16_t st = NVME_LBA_OUT_OF_RANGE | NVME_STATUS_DNR;

    g_assert_cmpuint(FIELD_EX32(cdw0, NVME_CDW0, OPC), ==, NVME_IO_READ);
    g_assert_cmpuint(FIELD_EX32(cdw0, NVME_CDW0, FUSE), ==, 1);
    g_assert_cmpuint(FIELD_EX32(cdw0, NVME_CDW0, PSDT), ==,
                     NVME_PSDT_SGL_MPTR_CONTIG);
    g_assert_cmphex(FIELD_EX32(cdw0, NVME_CDW0, CID), ==, 0x1234);
    /* status field layout without the phase tag (Base Figure 92) */
    g_assert_cmpuint(FIELD_EX32(st, NVME_STATUS, SC), ==, 0x80);
    g_assert_cmpuint(FIELD_EX32(st, NVME_STATUS, SCT), ==, NVME_SCT_GENERIC);
    g_assert_cmpuint(FIELD_EX32(st, NVME_STATUS, DNR), ==, 1);
    g_assert_cmpuint(FIELD_EX32(NVME_INVALID_QID, NVME_STATUS, SCT), ==,
                     NVME_SCT_CMD);
    g_assert_cmpuint(FIELD_EX32(NVME_COMPARE_FAILURE, NVME_STATUS, SCT), ==,
                     NVME_SCT_MEDIA);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nvme/cmd/range", test_range);
    g_test_add_func("/nvme/cmd/create-queues", test_create_queues);
    g_test_add_func("/nvme/cmd/get-log", test_get_log);
    g_test_add_func("/nvme/cmd/identify-features", test_identify_features);
    g_test_add_func("/nvme/cmd/abort-format-dsm", test_abort_format_dsm);
    g_test_add_func("/nvme/cmd/cdw0-status", test_cdw0_and_status);
    g_test_add_func("/nvme/cmd/copy", test_copy);
    return g_test_run();
}
