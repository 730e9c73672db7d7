/*
 * NVMe command decoders: the command dwords of an SQE (wire order) to
 * host-order structs, one per command.  Pure and inline so that every
 * handler parses the same way and the unit tests check the field layout
 * against the NVMe Base Specification 2.0c and NVM Command Set 1.0c.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_NVME_CMD_H
#define HW_BLOCK_NVME_CMD_H

#include "qemu/bswap.h"
#include "hw/block/nvme/spec.h"

/* Command dword @idx (0..15) of an SQE, host order */
static inline uint32_t nvme_sqe_dw(const NvmeSqe *sqe, unsigned idx)
{
    return ldl_le_p((const uint8_t *)sqe + 4 * idx);
}

/* Read, Write, Compare, Verify, Write Zeroes: NVM Figures 43, 52, 60 */
typedef struct NvmeCmdRange {
    uint64_t slba;
    uint32_t nlb;               /* 1's based */
    bool fua;
    bool lr;
    bool deac;
} NvmeCmdRange;

static inline NvmeCmdRange nvme_cmd_range(const NvmeSqe *sqe)
{
    uint32_t dw12 = nvme_sqe_dw(sqe, 12);

    return (NvmeCmdRange) {
        .slba = (uint64_t)nvme_sqe_dw(sqe, 11) << 32 | nvme_sqe_dw(sqe, 10),
        .nlb = FIELD_EX32(dw12, NVME_RW_DW12, NLB) + 1,
        .fua = FIELD_EX32(dw12, NVME_RW_DW12, FUA),
        .lr = FIELD_EX32(dw12, NVME_RW_DW12, LR),
        .deac = FIELD_EX32(dw12, NVME_RW_DW12, DEAC),
    };
}

/*
 * End-to-end protection fields of Read, Write, Compare, Verify and Write
 * Zeroes: PRINFO (CDW12), EILBRT (CDW14, with bits 47:32 in CDW3 for
 * the 64b guard format), LBAT and LBATM (CDW15); NVM Figures 42-45
 */
typedef struct NvmeCmdPi {
    uint8_t prinfo;
    uint64_t eilbrt;            /* 48 bits; callers mask to the format */
    uint16_t lbat;
    uint16_t lbatm;
} NvmeCmdPi;

static inline NvmeCmdPi nvme_cmd_pi(const NvmeSqe *sqe)
{
    uint32_t dw15 = nvme_sqe_dw(sqe, 15);

    return (NvmeCmdPi) {
        .prinfo = FIELD_EX32(nvme_sqe_dw(sqe, 12), NVME_RW_DW12, PRINFO),
        .eilbrt = (uint64_t)FIELD_EX32(nvme_sqe_dw(sqe, 3), NVME_RW_DW3,
                                       EILBRT_HI) << 32 |
                  nvme_sqe_dw(sqe, 14),
        .lbat = FIELD_EX32(dw15, NVME_RW_DW15, LBAT),
        .lbatm = FIELD_EX32(dw15, NVME_RW_DW15, LBATM),
    };
}

/* Create I/O Completion Queue: Base Figures 149-151 */
typedef struct NvmeCmdCreateCq {
    uint16_t qid;
    uint32_t qsize;             /* 1's based */
    bool pc;
    bool ien;
    uint16_t iv;
    uint64_t prp1;
} NvmeCmdCreateCq;

static inline NvmeCmdCreateCq nvme_cmd_create_cq(const NvmeSqe *sqe)
{
    uint32_t dw10 = nvme_sqe_dw(sqe, 10), dw11 = nvme_sqe_dw(sqe, 11);

    return (NvmeCmdCreateCq) {
        .qid = FIELD_EX32(dw10, NVME_CREATEQ_DW10, QID),
        .qsize = FIELD_EX32(dw10, NVME_CREATEQ_DW10, QSIZE) + 1,
        .pc = FIELD_EX32(dw11, NVME_CREATECQ_DW11, PC),
        .ien = FIELD_EX32(dw11, NVME_CREATECQ_DW11, IEN),
        .iv = FIELD_EX32(dw11, NVME_CREATECQ_DW11, IV),
        .prp1 = ldq_le_p((const uint8_t *)sqe + offsetof(NvmeSqe, dptr)),
    };
}

/* Create I/O Submission Queue: Base Figures 153-155 */
typedef struct NvmeCmdCreateSq {
    uint16_t qid;
    uint32_t qsize;             /* 1's based */
    bool pc;
    uint8_t qprio;
    uint16_t cqid;
    uint64_t prp1;
} NvmeCmdCreateSq;

static inline NvmeCmdCreateSq nvme_cmd_create_sq(const NvmeSqe *sqe)
{
    uint32_t dw10 = nvme_sqe_dw(sqe, 10), dw11 = nvme_sqe_dw(sqe, 11);

    return (NvmeCmdCreateSq) {
        .qid = FIELD_EX32(dw10, NVME_CREATEQ_DW10, QID),
        .qsize = FIELD_EX32(dw10, NVME_CREATEQ_DW10, QSIZE) + 1,
        .pc = FIELD_EX32(dw11, NVME_CREATESQ_DW11, PC),
        .qprio = FIELD_EX32(dw11, NVME_CREATESQ_DW11, QPRIO),
        .cqid = FIELD_EX32(dw11, NVME_CREATESQ_DW11, CQID),
        .prp1 = ldq_le_p((const uint8_t *)sqe + offsetof(NvmeSqe, dptr)),
    };
}

/* Get Log Page: Base Figures 197-201 */
typedef struct NvmeCmdGetLog {
    uint8_t lid;
    uint8_t lsp;
    bool rae;
    uint64_t len;               /* bytes, from the 0's based NUMD */
    uint64_t offset;
    uint16_t lsi;
    uint8_t csi;
} NvmeCmdGetLog;

static inline NvmeCmdGetLog nvme_cmd_get_log(const NvmeSqe *sqe)
{
    uint32_t dw10 = nvme_sqe_dw(sqe, 10), dw11 = nvme_sqe_dw(sqe, 11);
    uint64_t numd = (uint64_t)FIELD_EX32(dw11, NVME_GETLOG_DW11, NUMDU) << 16 |
                    FIELD_EX32(dw10, NVME_GETLOG_DW10, NUMDL);

    return (NvmeCmdGetLog) {
        .lid = FIELD_EX32(dw10, NVME_GETLOG_DW10, LID),
        .lsp = FIELD_EX32(dw10, NVME_GETLOG_DW10, LSP),
        .rae = FIELD_EX32(dw10, NVME_GETLOG_DW10, RAE),
        .len = (numd + 1) * 4,
        .offset = (uint64_t)nvme_sqe_dw(sqe, 13) << 32 | nvme_sqe_dw(sqe, 12),
        .lsi = FIELD_EX32(dw11, NVME_GETLOG_DW11, LSI),
        .csi = FIELD_EX32(nvme_sqe_dw(sqe, 14), NVME_GETLOG_DW14, CSI),
    };
}

/* Identify: Base Figure 273 */
typedef struct NvmeCmdIdentify {
    uint8_t cns;
    uint16_t cntid;
    uint16_t cnssid;
    uint8_t csi;
    uint32_t nsid;
} NvmeCmdIdentify;

static inline NvmeCmdIdentify nvme_cmd_identify(const NvmeSqe *sqe)
{
    uint32_t dw10 = nvme_sqe_dw(sqe, 10), dw11 = nvme_sqe_dw(sqe, 11);

    return (NvmeCmdIdentify) {
        .cns = FIELD_EX32(dw10, NVME_IDENTIFY_DW10, CNS),
        .cntid = FIELD_EX32(dw10, NVME_IDENTIFY_DW10, CNTID),
        .cnssid = FIELD_EX32(dw11, NVME_IDENTIFY_DW11, CNSSID),
        .csi = FIELD_EX32(dw11, NVME_IDENTIFY_DW11, CSI),
        .nsid = nvme_sqe_dw(sqe, 1),
    };
}

/* Get / Set Features: Base Figures 190, 317 */
typedef struct NvmeCmdFeatures {
    uint8_t fid;
    uint8_t sel;
    bool sv;
    uint32_t dw11;
} NvmeCmdFeatures;

static inline NvmeCmdFeatures nvme_cmd_features(const NvmeSqe *sqe)
{
    uint32_t dw10 = nvme_sqe_dw(sqe, 10);

    return (NvmeCmdFeatures) {
        .fid = FIELD_EX32(dw10, NVME_FEAT_DW10, FID),
        .sel = FIELD_EX32(dw10, NVME_FEAT_DW10, SEL),
        .sv = FIELD_EX32(dw10, NVME_FEAT_DW10, SV),
        .dw11 = nvme_sqe_dw(sqe, 11),
    };
}

/* Set Features Arbitration value: Base Figure 321 */
typedef struct NvmeCmdArbitration {
    uint8_t ab;
    uint8_t lpw;
    uint8_t mpw;
    uint8_t hpw;
} NvmeCmdArbitration;

static inline NvmeCmdArbitration nvme_cmd_arbitration(uint32_t dw11)
{
    return (NvmeCmdArbitration) {
        .ab = FIELD_EX32(dw11, NVME_FEAT_ARB, AB),
        .lpw = FIELD_EX32(dw11, NVME_FEAT_ARB, LPW),
        .mpw = FIELD_EX32(dw11, NVME_FEAT_ARB, MPW),
        .hpw = FIELD_EX32(dw11, NVME_FEAT_ARB, HPW),
    };
}

/* Abort: Base Figure 144 */
typedef struct NvmeCmdAbort {
    uint16_t sqid;
    uint16_t cid;
} NvmeCmdAbort;

static inline NvmeCmdAbort nvme_cmd_abort(const NvmeSqe *sqe)
{
    uint32_t dw10 = nvme_sqe_dw(sqe, 10);

    return (NvmeCmdAbort) {
        .sqid = FIELD_EX32(dw10, NVME_ABORT_DW10, SQID),
        .cid = FIELD_EX32(dw10, NVME_ABORT_DW10, CID),
    };
}

/* Format NVM: Base Figure 186 */
typedef struct NvmeCmdFormat {
    uint8_t lbaf;               /* LBAFU:LBAFL */
    bool mset;
    uint8_t pi;
    bool pil;
    uint8_t ses;
} NvmeCmdFormat;

static inline NvmeCmdFormat nvme_cmd_format(const NvmeSqe *sqe)
{
    uint32_t dw10 = nvme_sqe_dw(sqe, 10);

    return (NvmeCmdFormat) {
        .lbaf = FIELD_EX32(dw10, NVME_FORMAT_DW10, LBAFU) << 4 |
                FIELD_EX32(dw10, NVME_FORMAT_DW10, LBAFL),
        .mset = FIELD_EX32(dw10, NVME_FORMAT_DW10, MSET),
        .pi = FIELD_EX32(dw10, NVME_FORMAT_DW10, PI),
        .pil = FIELD_EX32(dw10, NVME_FORMAT_DW10, PIL),
        .ses = FIELD_EX32(dw10, NVME_FORMAT_DW10, SES),
    };
}

/* Namespace Management: Base 2.0c, Namespace Management command */
typedef struct NvmeCmdNsMgmt {
    uint8_t sel;                /* NvmeNsMgmtSel */
    uint8_t csi;                /* create: the command set */
} NvmeCmdNsMgmt;

static inline NvmeCmdNsMgmt nvme_cmd_ns_mgmt(const NvmeSqe *sqe)
{
    return (NvmeCmdNsMgmt) {
        .sel = FIELD_EX32(nvme_sqe_dw(sqe, 10), NVME_NSMGMT_DW10, SEL),
        .csi = FIELD_EX32(nvme_sqe_dw(sqe, 11), NVME_NSMGMT_DW11, CSI),
    };
}

/* Dataset Management: NVM Figures 39, 40 */
typedef struct NvmeCmdDsm {
    uint32_t nr;                /* ranges, 1's based */
    bool ad;
} NvmeCmdDsm;

static inline NvmeCmdDsm nvme_cmd_dsm(const NvmeSqe *sqe)
{
    return (NvmeCmdDsm) {
        .nr = FIELD_EX32(nvme_sqe_dw(sqe, 10), NVME_DSM_DW10, NR) + 1,
        .ad = FIELD_EX32(nvme_sqe_dw(sqe, 11), NVME_DSM_DW11, AD),
    };
}

/* Copy: NVM 3.3.1 (NVM CS 1.0c) and TP4130 */
typedef struct NvmeCmdCopy {
    uint64_t sdlba;
    uint32_t nr;                /* source ranges, 1's based */
    uint8_t format;             /* Source Range Entries descriptor format */
    uint8_t prinfor;
    uint8_t prinfow;
    uint8_t dtype;
    uint16_t dspec;
    bool stcw;
    bool fua;
    bool lr;
    uint64_t ilbrt;             /* CDW3 (upper bits) : CDW14 */
    uint16_t lbat;
    uint16_t lbatm;
} NvmeCmdCopy;

static inline NvmeCmdCopy nvme_cmd_copy(const NvmeSqe *sqe)
{
    uint32_t dw12 = nvme_sqe_dw(sqe, 12), dw15 = nvme_sqe_dw(sqe, 15);

    return (NvmeCmdCopy) {
        .sdlba = (uint64_t)nvme_sqe_dw(sqe, 11) << 32 | nvme_sqe_dw(sqe, 10),
        .nr = FIELD_EX32(dw12, NVME_COPY_DW12, NR) + 1,
        .format = FIELD_EX32(dw12, NVME_COPY_DW12, DESFMT),
        .prinfor = FIELD_EX32(dw12, NVME_COPY_DW12, PRINFOR),
        .prinfow = FIELD_EX32(dw12, NVME_COPY_DW12, PRINFOW),
        .dtype = FIELD_EX32(dw12, NVME_COPY_DW12, DTYPE),
        .dspec = FIELD_EX32(nvme_sqe_dw(sqe, 13), NVME_COPY_DW13, DSPEC),
        .stcw = FIELD_EX32(dw12, NVME_COPY_DW12, STCW),
        .fua = FIELD_EX32(dw12, NVME_COPY_DW12, FUA),
        .lr = FIELD_EX32(dw12, NVME_COPY_DW12, LR),
        .ilbrt = (uint64_t)nvme_sqe_dw(sqe, 3) << 32 | nvme_sqe_dw(sqe, 14),
        .lbat = extract32(dw15, 0, 16),
        .lbatm = extract32(dw15, 16, 16),
    };
}

/* Size in bytes of a Source Range Entry of descriptor format @format */
static inline size_t nvme_copy_entry_size(uint8_t format)
{
    return format == NVME_COPY_FORMAT_1 || format == NVME_COPY_FORMAT_3
           ? sizeof(NvmeCopySrc40) : sizeof(NvmeCopySrc32);
}

/* Whether descriptor format @format names its source namespace */
static inline bool nvme_copy_format_has_snsid(uint8_t format)
{
    return format == NVME_COPY_FORMAT_2 || format == NVME_COPY_FORMAT_3;
}

/* One Source Range Entry in host order, whatever its format */
typedef struct NvmeCopyRange {
    uint32_t snsid;             /* 0 in formats 0h and 1h */
    uint64_t slba;
    uint32_t nlb;               /* 1's based */
    uint16_t sopt;
    uint64_t eilbrt;            /* reference tag (low 64 bits of 80) */
    uint16_t elbst;             /* storage tag bits above them (fmt 1h/3h) */
    uint16_t elbat;
    uint16_t elbatm;
} NvmeCopyRange;

/*
 * Decode entry @idx of a Source Range Entries list @buf (wire order) of
 * descriptor format @format.  In formats 1h and 3h the 80-bit
 * ELBST/EILBRT field is read most significant byte first, as libnvme
 * (nvme-cli's copy) writes it.
 */
static inline NvmeCopyRange nvme_copy_range(const void *buf, uint8_t format,
                                            unsigned idx)
{
    const uint8_t *p = (const uint8_t *)buf +
                       (size_t)idx * nvme_copy_entry_size(format);
    bool has_snsid = nvme_copy_format_has_snsid(format);
    NvmeCopyRange r = {
        .snsid = has_snsid ? (uint32_t)ldl_le_p(p + offsetof(NvmeCopySrc32,
                                                             snsid)) : 0,
        .slba = ldq_le_p(p + offsetof(NvmeCopySrc32, slba)),
        .nlb = lduw_le_p(p + offsetof(NvmeCopySrc32, nlb)) + 1u,
        .sopt = has_snsid ? lduw_le_p(p + offsetof(NvmeCopySrc32, sopt)) : 0,
    };

    if (nvme_copy_entry_size(format) == sizeof(NvmeCopySrc32)) {
        r.eilbrt = (uint32_t)ldl_le_p(p + offsetof(NvmeCopySrc32, eilbrt));
        r.elbat = lduw_le_p(p + offsetof(NvmeCopySrc32, elbat));
        r.elbatm = lduw_le_p(p + offsetof(NvmeCopySrc32, elbatm));
    } else {
        const uint8_t *t = p + offsetof(NvmeCopySrc40, elbst_eilbrt);

        r.elbst = lduw_be_p(t);
        r.eilbrt = ldq_be_p(t + sizeof(uint16_t));
        r.elbat = lduw_le_p(p + offsetof(NvmeCopySrc40, elbat));
        r.elbatm = lduw_le_p(p + offsetof(NvmeCopySrc40, elbatm));
    }
    return r;
}

#endif /* HW_BLOCK_NVME_CMD_H */
