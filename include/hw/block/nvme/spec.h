/*
 * NVMe wire format: controller registers, queue entries, command dwords,
 * admin data structures and status codes.
 *
 * Written from the NVM Express Base Specification 2.0c ("Base") and the
 * NVM Express NVM Command Set Specification 1.0c ("NVM").  Section and
 * figure numbers below refer to those documents.  This header holds spec
 * facts only: no device state.  Multi-byte fields are little-endian on the
 * wire; structs here keep the wire byte order and are converted with
 * cpu_to_le*()/le*_to_cpu() at the point of use, never in place.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_NVME_SPEC_H
#define HW_BLOCK_NVME_SPEC_H

#include "hw/registerfields.h"

/* Base 3.1.4: controller registers (offsets into BAR0) */
enum NvmeRegOffset {
    NVME_REG_CAP    = 0x00,
    NVME_REG_VS     = 0x08,
    NVME_REG_INTMS  = 0x0c,
    NVME_REG_INTMC  = 0x10,
    NVME_REG_CC     = 0x14,
    NVME_REG_CSTS   = 0x1c,
    NVME_REG_NSSR   = 0x20,
    NVME_REG_AQA    = 0x24,
    NVME_REG_ASQ    = 0x28,
    NVME_REG_ACQ    = 0x30,
    NVME_REG_END    = 0x38,     /* end of the registers we implement */
    NVME_REG_DBS    = 0x1000,   /* first doorbell (SQ 0 tail) */
};

/* Base 3.1.4.1, Figure 36: Controller Capabilities */
FIELD(NVME_CAP, MQES, 0, 16)
FIELD(NVME_CAP, CQR, 16, 1)
FIELD(NVME_CAP, AMS, 17, 2)
FIELD(NVME_CAP, TO, 24, 8)
FIELD(NVME_CAP, DSTRD, 32, 4)
FIELD(NVME_CAP, NSSRS, 36, 1)
FIELD(NVME_CAP, CSS, 37, 8)
FIELD(NVME_CAP, BPS, 45, 1)
FIELD(NVME_CAP, CPS, 46, 2)
FIELD(NVME_CAP, MPSMIN, 48, 4)
FIELD(NVME_CAP, MPSMAX, 52, 4)
FIELD(NVME_CAP, PMRS, 56, 1)
FIELD(NVME_CAP, CMBS, 57, 1)
FIELD(NVME_CAP, NSSS, 58, 1)
FIELD(NVME_CAP, CRMS, 59, 2)

/* CAP.AMS bits: arbitration mechanisms beyond round robin */
enum NvmeCapAms {
    NVME_CAP_AMS_WRRU   = 1 << 0,   /* weighted round robin with urgent */
    NVME_CAP_AMS_VS     = 1 << 1,
};

/* CAP.CSS bits */
enum NvmeCapCss {
    NVME_CAP_CSS_NVM    = 1 << 0,
    NVME_CAP_CSS_CSI    = 1 << 6,
    NVME_CAP_CSS_ADMIN  = 1 << 7,
};

/* Base 3.1.4.2: Version, major 31:16, minor 15:8, tertiary 7:0 */
#define NVME_VS(maj, min, ter) (((maj) << 16) | ((min) << 8) | (ter))

/* Base 3.1.4.5, Figure 41: Controller Configuration */
FIELD(NVME_CC, EN, 0, 1)
FIELD(NVME_CC, CSS, 4, 3)
FIELD(NVME_CC, MPS, 7, 4)
FIELD(NVME_CC, AMS, 11, 3)
FIELD(NVME_CC, SHN, 14, 2)
FIELD(NVME_CC, IOSQES, 16, 4)
FIELD(NVME_CC, IOCQES, 20, 4)
FIELD(NVME_CC, CRIME, 24, 1)

/* CC.CSS values */
enum NvmeCcCss {
    NVME_CC_CSS_NVM         = 0,
    NVME_CC_CSS_CSI         = 6,
    NVME_CC_CSS_ADMIN_ONLY  = 7,
};

/* CC.AMS values */
enum NvmeCcAms {
    NVME_CC_AMS_RR      = 0,
    NVME_CC_AMS_WRRU    = 1,
    NVME_CC_AMS_VS      = 7,
};

/* CC.SHN values */
enum NvmeCcShn {
    NVME_CC_SHN_NONE    = 0,
    NVME_CC_SHN_NORMAL  = 1,
    NVME_CC_SHN_ABRUPT  = 2,
};

/* Base 3.1.4.6, Figure 42: Controller Status */
FIELD(NVME_CSTS, RDY, 0, 1)
FIELD(NVME_CSTS, CFS, 1, 1)
FIELD(NVME_CSTS, SHST, 2, 2)
FIELD(NVME_CSTS, NSSRO, 4, 1)
FIELD(NVME_CSTS, PP, 5, 1)

/* CSTS.SHST values */
enum NvmeCstsShst {
    NVME_CSTS_SHST_NORMAL   = 0,
    NVME_CSTS_SHST_OCCURRING = 1,
    NVME_CSTS_SHST_COMPLETE = 2,
};

/* Base 3.1.4.7: "NVMe" in ASCII written to NSSR resets the subsystem */
#define NVME_NSSR_MAGIC 0x4e564d65

/* Base 3.1.4.8, Figure 44: Admin Queue Attributes (0's based sizes) */
FIELD(NVME_AQA, ASQS, 0, 12)
FIELD(NVME_AQA, ACQS, 16, 12)

/* Base 4.2, Figure 87: Common Command Format, CDW0 */
FIELD(NVME_CDW0, OPC, 0, 8)
FIELD(NVME_CDW0, FUSE, 8, 2)
FIELD(NVME_CDW0, PSDT, 14, 2)
FIELD(NVME_CDW0, CID, 16, 16)

/* CDW0.PSDT values: PRP or SGL for data transfer */
enum NvmePsdt {
    NVME_PSDT_PRP       = 0,
    NVME_PSDT_SGL_MPTR_CONTIG = 1,
    NVME_PSDT_SGL_MPTR_SGL = 2,
};

/* Base 4.2, Figure 87: Submission Queue Entry */
typedef struct QEMU_PACKED NvmeSqe {
    uint32_t cdw0;
    uint32_t nsid;
    uint32_t cdw2;
    uint32_t cdw3;
    uint64_t mptr;
    uint64_t dptr[2];           /* PRP1/PRP2 or one SGL descriptor */
    uint32_t cdw10;
    uint32_t cdw11;
    uint32_t cdw12;
    uint32_t cdw13;
    uint32_t cdw14;
    uint32_t cdw15;
} NvmeSqe;
QEMU_BUILD_BUG_ON(sizeof(NvmeSqe) != 64);

/* Base 4.2.3, Figure 91/92: Completion Queue Entry and its Status Field */
typedef struct QEMU_PACKED NvmeCqe {
    uint32_t dw0;
    uint32_t dw1;
    uint16_t sqhd;
    uint16_t sqid;
    uint16_t cid;
    uint16_t status;            /* bit 0 is the phase tag */
} NvmeCqe;
QEMU_BUILD_BUG_ON(sizeof(NvmeCqe) != 16);

/* Status field without the phase tag (Base Figure 92, bits 15:1 >> 1) */
FIELD(NVME_STATUS, SC, 0, 8)
FIELD(NVME_STATUS, SCT, 8, 3)
FIELD(NVME_STATUS, CRD, 11, 2)
FIELD(NVME_STATUS, M, 13, 1)
FIELD(NVME_STATUS, DNR, 14, 1)

/* Base 4.2.3.2, Figure 94: Status Code Type */
enum NvmeSct {
    NVME_SCT_GENERIC    = 0,
    NVME_SCT_CMD        = 1,
    NVME_SCT_MEDIA      = 2,
    NVME_SCT_PATH       = 3,
};

/*
 * Status codes as (SCT << 8 | SC), the layout of NVME_STATUS without DNR.
 * Base Figures 95 (generic), 96 (command specific), 97 (media);
 * NVM Figures 64-66 for the NVM command set specific ones.
 */
#define NVME_SC(sct, sc) (((sct) << 8) | (sc))
enum NvmeStatus {
    NVME_SUCCESS                    = NVME_SC(NVME_SCT_GENERIC, 0x00),
    NVME_INVALID_OPCODE             = NVME_SC(NVME_SCT_GENERIC, 0x01),
    NVME_INVALID_FIELD              = NVME_SC(NVME_SCT_GENERIC, 0x02),
    NVME_CID_CONFLICT               = NVME_SC(NVME_SCT_GENERIC, 0x03),
    NVME_DATA_TRANSFER_ERROR        = NVME_SC(NVME_SCT_GENERIC, 0x04),
    NVME_ABORTED_POWER_LOSS         = NVME_SC(NVME_SCT_GENERIC, 0x05),
    NVME_INTERNAL_ERROR             = NVME_SC(NVME_SCT_GENERIC, 0x06),
    NVME_ABORT_REQUESTED            = NVME_SC(NVME_SCT_GENERIC, 0x07),
    NVME_ABORTED_SQ_DELETION        = NVME_SC(NVME_SCT_GENERIC, 0x08),
    NVME_ABORTED_MISSING_FUSED      = NVME_SC(NVME_SCT_GENERIC, 0x0a),
    NVME_INVALID_NSID               = NVME_SC(NVME_SCT_GENERIC, 0x0b),
    NVME_COMMAND_SEQ_ERROR          = NVME_SC(NVME_SCT_GENERIC, 0x0c),
    NVME_INVALID_SGL_SEG_DESC       = NVME_SC(NVME_SCT_GENERIC, 0x0d),
    NVME_INVALID_NUM_SGL_DESC       = NVME_SC(NVME_SCT_GENERIC, 0x0e),
    NVME_DATA_SGL_LEN_INVALID       = NVME_SC(NVME_SCT_GENERIC, 0x0f),
    NVME_SGL_DESC_TYPE_INVALID      = NVME_SC(NVME_SCT_GENERIC, 0x11),
    NVME_PRP_OFFSET_INVALID         = NVME_SC(NVME_SCT_GENERIC, 0x13),
    NVME_SGL_OFFSET_INVALID         = NVME_SC(NVME_SCT_GENERIC, 0x16),
    NVME_KEEP_ALIVE_EXPIRED         = NVME_SC(NVME_SCT_GENERIC, 0x19),
    NVME_NS_WRITE_PROTECTED         = NVME_SC(NVME_SCT_GENERIC, 0x20),
    NVME_COMMAND_INTERRUPTED        = NVME_SC(NVME_SCT_GENERIC, 0x21),
    NVME_LBA_OUT_OF_RANGE           = NVME_SC(NVME_SCT_GENERIC, 0x80),
    NVME_CAPACITY_EXCEEDED          = NVME_SC(NVME_SCT_GENERIC, 0x81),
    NVME_NS_NOT_READY               = NVME_SC(NVME_SCT_GENERIC, 0x82),
    NVME_FORMAT_IN_PROGRESS         = NVME_SC(NVME_SCT_GENERIC, 0x84),

    NVME_CQ_INVALID                 = NVME_SC(NVME_SCT_CMD, 0x00),
    NVME_INVALID_QID                = NVME_SC(NVME_SCT_CMD, 0x01),
    NVME_INVALID_QSIZE              = NVME_SC(NVME_SCT_CMD, 0x02),
    NVME_ABORT_LIMIT_EXCEEDED       = NVME_SC(NVME_SCT_CMD, 0x03),
    NVME_AER_LIMIT_EXCEEDED         = NVME_SC(NVME_SCT_CMD, 0x05),
    NVME_INVALID_FW_SLOT            = NVME_SC(NVME_SCT_CMD, 0x06),
    NVME_INVALID_IRQ_VECTOR         = NVME_SC(NVME_SCT_CMD, 0x08),
    NVME_INVALID_LOG_PAGE           = NVME_SC(NVME_SCT_CMD, 0x09),
    NVME_INVALID_FORMAT             = NVME_SC(NVME_SCT_CMD, 0x0a),
    NVME_INVALID_QUEUE_DELETION     = NVME_SC(NVME_SCT_CMD, 0x0c),
    NVME_FEAT_NOT_SAVEABLE          = NVME_SC(NVME_SCT_CMD, 0x0d),
    NVME_FEAT_NOT_CHANGEABLE        = NVME_SC(NVME_SCT_CMD, 0x0e),
    NVME_FEAT_NOT_NS_SPECIFIC       = NVME_SC(NVME_SCT_CMD, 0x0f),
    /* Namespace Management specific statuses (Base 2.0c) */
    NVME_NS_INSUFFICIENT_CAPACITY   = NVME_SC(NVME_SCT_CMD, 0x15),
    NVME_NS_ID_UNAVAILABLE          = NVME_SC(NVME_SCT_CMD, 0x16),
    NVME_THIN_PROV_NOT_SUPPORTED    = NVME_SC(NVME_SCT_CMD, 0x1b),
    /* Namespace Attachment, Base 5.19 Figure 309 */
    NVME_NS_ALREADY_ATTACHED        = NVME_SC(NVME_SCT_CMD, 0x18),
    NVME_NS_IS_PRIVATE              = NVME_SC(NVME_SCT_CMD, 0x19),
    NVME_NS_NOT_ATTACHED            = NVME_SC(NVME_SCT_CMD, 0x1a),
    NVME_CTRL_LIST_INVALID          = NVME_SC(NVME_SCT_CMD, 0x1c),
    NVME_INVALID_PROT_INFO          = NVME_SC(NVME_SCT_CMD, 0x81),
    /* NVM Figure 66 (NVM CS 1.0c) and TP4130: Copy */
    NVME_CMD_SIZE_LIMIT_EXCEEDED    = NVME_SC(NVME_SCT_CMD, 0x83),
    NVME_INCOMPATIBLE_NS_OR_FORMAT  = NVME_SC(NVME_SCT_CMD, 0x85),
    NVME_FAST_COPY_NOT_POSSIBLE     = NVME_SC(NVME_SCT_CMD, 0x86),
    NVME_OVERLAPPING_IO_RANGE       = NVME_SC(NVME_SCT_CMD, 0x87),

    NVME_WRITE_FAULT                = NVME_SC(NVME_SCT_MEDIA, 0x80),
    NVME_UNRECOVERED_READ           = NVME_SC(NVME_SCT_MEDIA, 0x81),
    NVME_E2E_GUARD_ERROR            = NVME_SC(NVME_SCT_MEDIA, 0x82),
    NVME_E2E_APP_ERROR              = NVME_SC(NVME_SCT_MEDIA, 0x83),
    NVME_E2E_REF_ERROR              = NVME_SC(NVME_SCT_MEDIA, 0x84),
    NVME_COMPARE_FAILURE            = NVME_SC(NVME_SCT_MEDIA, 0x85),
    NVME_DULB                       = NVME_SC(NVME_SCT_MEDIA, 0x87),
};
#define NVME_STATUS_DNR (1u << R_NVME_STATUS_DNR_SHIFT)

/* Base 5, Figure 142: Admin Command Set opcodes */
enum NvmeAdminOpcode {
    NVME_ADM_DELETE_SQ      = 0x00,
    NVME_ADM_CREATE_SQ      = 0x01,
    NVME_ADM_GET_LOG_PAGE   = 0x02,
    NVME_ADM_DELETE_CQ      = 0x04,
    NVME_ADM_CREATE_CQ      = 0x05,
    NVME_ADM_IDENTIFY       = 0x06,
    NVME_ADM_ABORT          = 0x08,
    NVME_ADM_SET_FEATURES   = 0x09,
    NVME_ADM_GET_FEATURES   = 0x0a,
    NVME_ADM_ASYNC_EVENT    = 0x0c,
    NVME_ADM_NS_MGMT        = 0x0d,
    NVME_ADM_NS_ATTACHMENT  = 0x15,
    NVME_ADM_KEEP_ALIVE     = 0x18,
    NVME_ADM_DBBUF_CONFIG   = 0x7c,
    NVME_ADM_FORMAT_NVM     = 0x80,
    NVME_ADM_OPCODE_MAX     = 0xff,
};

/* NVM 3, Figure 19: NVM Command Set I/O opcodes */
enum NvmeIoOpcode {
    NVME_IO_FLUSH           = 0x00,
    NVME_IO_WRITE           = 0x01,
    NVME_IO_READ            = 0x02,
    NVME_IO_COMPARE         = 0x05,
    NVME_IO_WRITE_ZEROES    = 0x08,
    NVME_IO_DSM             = 0x09,
    NVME_IO_VERIFY          = 0x0c,
    NVME_IO_COPY            = 0x19,
    NVME_IO_OPCODE_MAX      = 0xff,
};

/* Base 5.4 / 5.5, Figures 149, 153: Create I/O CQ/SQ and Delete */
FIELD(NVME_CREATEQ_DW10, QID, 0, 16)
FIELD(NVME_CREATEQ_DW10, QSIZE, 16, 16)
FIELD(NVME_CREATECQ_DW11, PC, 0, 1)
FIELD(NVME_CREATECQ_DW11, IEN, 1, 1)
FIELD(NVME_CREATECQ_DW11, IV, 16, 16)
FIELD(NVME_CREATESQ_DW11, PC, 0, 1)
FIELD(NVME_CREATESQ_DW11, QPRIO, 1, 2)
FIELD(NVME_CREATESQ_DW11, CQID, 16, 16)
FIELD(NVME_DELETEQ_DW10, QID, 0, 16)

/* Base 5.5, Figure 153: Create I/O SQ queue priority */
enum NvmeQprioField {
    NVME_QPRIO_URGENT   = 0,
    NVME_QPRIO_HIGH     = 1,
    NVME_QPRIO_MEDIUM   = 2,
    NVME_QPRIO_LOW      = 3,
};

/* Base 5.1, Figure 144: Abort */
FIELD(NVME_ABORT_DW10, SQID, 0, 16)
FIELD(NVME_ABORT_DW10, CID, 16, 16)

/* Base 5.16, Figure 197/198: Get Log Page */
FIELD(NVME_GETLOG_DW10, LID, 0, 8)
FIELD(NVME_GETLOG_DW10, LSP, 8, 7)
FIELD(NVME_GETLOG_DW10, RAE, 15, 1)
FIELD(NVME_GETLOG_DW10, NUMDL, 16, 16)
FIELD(NVME_GETLOG_DW11, NUMDU, 0, 16)
FIELD(NVME_GETLOG_DW11, LSI, 16, 16)
FIELD(NVME_GETLOG_DW14, CSI, 24, 8)

/* Base 5.16.1, Figure 202: Log Page Identifiers */
enum NvmeLogId {
    NVME_LOG_ERROR          = 0x01,
    NVME_LOG_SMART          = 0x02,
    NVME_LOG_FW_SLOT        = 0x03,
    NVME_LOG_CHANGED_NS     = 0x04,
    NVME_LOG_CMD_EFFECTS    = 0x05,
};

/* Base 5.17, Figure 273: Identify */
FIELD(NVME_IDENTIFY_DW10, CNS, 0, 8)
FIELD(NVME_IDENTIFY_DW10, CNTID, 16, 16)
FIELD(NVME_IDENTIFY_DW11, CNSSID, 0, 16)
FIELD(NVME_IDENTIFY_DW11, CSI, 24, 8)

/* Base 5.17, Figure 274: Controller or Namespace Structure values */
enum NvmeCns {
    NVME_CNS_NS             = 0x00,
    NVME_CNS_CTRL           = 0x01,
    NVME_CNS_ACTIVE_NS_LIST = 0x02,
    NVME_CNS_NS_DESC_LIST   = 0x03,
    NVME_CNS_CSI_NS         = 0x05,
    NVME_CNS_CSI_CTRL       = 0x06,
    NVME_CNS_CSI_ACTIVE_NS_LIST = 0x07,
    NVME_CNS_IND_NS         = 0x08,
    NVME_CNS_ALLOC_NS_LIST  = 0x10,
    NVME_CNS_ALLOC_NS       = 0x11,
    NVME_CNS_NS_CTRL_LIST   = 0x12,
    NVME_CNS_CTRL_LIST      = 0x13,
    NVME_CNS_CSI_ALLOC_NS_LIST = 0x1a,
    NVME_CNS_ENDGRP_LIST    = 0x19,
    NVME_CNS_CSI_ALLOC_NS   = 0x1b,
    NVME_CNS_IOCS           = 0x1c,
    NVME_CNS_IND_ALLOC_NS   = 0x1f,     /* Base 2.1 */
};

/* Base 5.19, Figures 306-307: Namespace Attachment */
FIELD(NVME_NS_ATTACH_DW10, SEL, 0, 4)
enum NvmeNsAttachSel {
    NVME_NS_ATTACH_SEL_ATTACH = 0x0,
    NVME_NS_ATTACH_SEL_DETACH = 0x1,
};

/*
 * Base 4.6.1, Figure 134: Controller List (Identify 12h/13h, Namespace
 * Attachment); the Endurance Group List (Identify 19h) has its layout
 */
#define NVME_CTRL_LIST_MAX 2047
typedef struct QEMU_PACKED NvmeCtrlList {
    uint16_t numids;
    uint16_t ids[NVME_CTRL_LIST_MAX];
} NvmeCtrlList;
QEMU_BUILD_BUG_ON(sizeof(NvmeCtrlList) != 4096);

/*
 * Base 5.17.2.20, Figure 296: I/O Command Set data structure (CNS 1Ch),
 * 512 command set combinations; bit n of a vector is CSI n
 */
#define NVME_IOCS_VECTORS 512
typedef struct QEMU_PACKED NvmeIdIocs {
    uint64_t vector[NVME_IOCS_VECTORS];
} NvmeIdIocs;
QEMU_BUILD_BUG_ON(sizeof(NvmeIdIocs) != 4096);

/*
 * Base 5.17.2.9, Figure 284: I/O Command Set Independent Identify
 * Namespace data structure (CNS 08h, and 1Fh for an allocated NSID)
 */
typedef struct QEMU_PACKED NvmeIdNsInd {
    uint8_t nsfeat;
    uint8_t nmic;
    uint8_t rescap;
    uint8_t fpi;
    uint32_t anagrpid;
    uint8_t nsattr;
    uint8_t rsvd9;
    uint16_t nvmsetid;
    uint16_t endgid;
    uint8_t nstat;
    uint8_t rsvd15[4081];
} NvmeIdNsInd;
QEMU_BUILD_BUG_ON(sizeof(NvmeIdNsInd) != 4096);
QEMU_BUILD_BUG_ON(offsetof(NvmeIdNsInd, endgid) != 12);

/* NSTAT: the namespace is ready (Base Figure 284) */
enum {
    NVME_NSTAT_NRDY         = 1 << 0,
};

/* Base Figure 312: Command Set Identifiers */
enum NvmeCsi {
    NVME_CSI_NVM    = 0x00,
};

/* Base 5.27 / 5.15, Figures 317, 190: Set / Get Features */
FIELD(NVME_FEAT_DW10, FID, 0, 8)
FIELD(NVME_FEAT_DW10, SEL, 8, 3)
FIELD(NVME_FEAT_DW10, SV, 31, 1)

/* Get Features SEL values, Base Figure 191 */
enum NvmeFeatSel {
    NVME_FEAT_SEL_CURRENT   = 0,
    NVME_FEAT_SEL_DEFAULT   = 1,
    NVME_FEAT_SEL_SAVED     = 2,
    NVME_FEAT_SEL_CAPS      = 3,
};

/* Capabilities reported for SEL=3, Base Figure 192 */
enum NvmeFeatCap {
    NVME_FEAT_CAP_SAVE      = 1 << 0,
    NVME_FEAT_CAP_NS        = 1 << 1,
    NVME_FEAT_CAP_CHANGE    = 1 << 2,
};

/* Base 5.27.1, Figure 319: Feature Identifiers */
enum NvmeFid {
    NVME_FEAT_ARBITRATION       = 0x01,
    NVME_FEAT_POWER_MGMT        = 0x02,
    NVME_FEAT_TEMP_THRESHOLD    = 0x04,
    NVME_FEAT_ERROR_RECOVERY    = 0x05,
    NVME_FEAT_VOLATILE_WC       = 0x06,
    NVME_FEAT_NUM_QUEUES        = 0x07,
    NVME_FEAT_IRQ_COALESCING    = 0x08,
    NVME_FEAT_IRQ_CONFIG        = 0x09,
    NVME_FEAT_WRITE_ATOMICITY   = 0x0a,
    NVME_FEAT_ASYNC_EVENT_CONF  = 0x0b,
    NVME_FEAT_TIMESTAMP         = 0x0e,
    NVME_FEAT_KEEP_ALIVE        = 0x0f,
    NVME_FEAT_HOST_BEHAVIOR     = 0x16,
    NVME_FEAT_FID_MAX           = 0xff,
};

/* Base 5.27.1.1, Figure 321: Arbitration */
FIELD(NVME_FEAT_ARB, AB, 0, 3)
FIELD(NVME_FEAT_ARB, LPW, 8, 8)
FIELD(NVME_FEAT_ARB, MPW, 16, 8)
FIELD(NVME_FEAT_ARB, HPW, 24, 8)
#define NVME_ARB_AB_NO_LIMIT 7

/* Base 5.27.1.2, Figure 323: Power Management */
FIELD(NVME_FEAT_PM, PS, 0, 5)
FIELD(NVME_FEAT_PM, WH, 5, 3)

/* Base 5.27.1.3, Figure 325: Temperature Threshold */
FIELD(NVME_FEAT_TEMP, TMPTH, 0, 16)
FIELD(NVME_FEAT_TEMP, TMPSEL, 16, 4)
FIELD(NVME_FEAT_TEMP, THSEL, 20, 2)
enum NvmeTempThsel {
    NVME_TEMP_THSEL_OVER    = 0,
    NVME_TEMP_THSEL_UNDER   = 1,
};

/* Base 5.27.1.4, Figure 327: Error Recovery */
FIELD(NVME_FEAT_ERR_REC, TLER, 0, 16)
FIELD(NVME_FEAT_ERR_REC, DULBE, 16, 1)

/* Base 5.27.1.5: Volatile Write Cache */
FIELD(NVME_FEAT_VWC, WCE, 0, 1)

/* Base 5.27.1.6, Figure 330: Number of Queues (0's based) */
FIELD(NVME_FEAT_NQ, NSQ, 0, 16)
FIELD(NVME_FEAT_NQ, NCQ, 16, 16)

/* Base 5.27.1.7, Figure 332: Interrupt Coalescing */
FIELD(NVME_FEAT_IRQC, THR, 0, 8)
FIELD(NVME_FEAT_IRQC, TIME, 8, 8)
#define NVME_IRQC_TIME_UNIT_NS 100000   /* TIME is in 100 microseconds */

/* Base 5.27.1.8, Figure 334: Interrupt Vector Configuration */
FIELD(NVME_FEAT_IVC, IV, 0, 16)
FIELD(NVME_FEAT_IVC, CD, 16, 1)

/* Base 5.27.1.9 / Figure 336: Asynchronous Event Configuration */
FIELD(NVME_FEAT_AEC, SMART, 0, 8)
FIELD(NVME_FEAT_AEC, NSAN, 8, 1)
FIELD(NVME_FEAT_AEC, FWAN, 9, 1)

/* Base 5.27.1.10: Write Atomicity Normal (Disable Normal) */
FIELD(NVME_FEAT_WAN, DN, 0, 1)

/* Base 5.27.1.13, Figure 345: Keep Alive Timer */
FIELD(NVME_FEAT_KATO, KATO, 0, 32)

/* Base 5.27.1.11, Figure 341: Timestamp data, 6 bytes of ms + attrs */
typedef struct QEMU_PACKED NvmeTimestamp {
    uint8_t ts[6];
    uint8_t attr;
    uint8_t rsvd7;
} NvmeTimestamp;
QEMU_BUILD_BUG_ON(sizeof(NvmeTimestamp) != 8);

/* Base 5.27.1.18, Figure 362: Host Behavior Support */
typedef struct QEMU_PACKED NvmeHostBehavior {
    uint8_t acre;
    uint8_t etdas;
    uint8_t lbafee;
    uint8_t rsvd3;
    uint16_t cdfe;              /* Copy Descriptor Formats Enable (TP4130) */
    uint8_t rsvd6[506];
} NvmeHostBehavior;
QEMU_BUILD_BUG_ON(sizeof(NvmeHostBehavior) != 512);
QEMU_BUILD_BUG_ON(offsetof(NvmeHostBehavior, cdfe) != 4);

/* Base 5.2, Figure 146: Asynchronous Event Request completion DW0 */
FIELD(NVME_AER_DW0, TYPE, 0, 3)
FIELD(NVME_AER_DW0, INFO, 8, 8)
FIELD(NVME_AER_DW0, LID, 16, 8)

/* Base Figure 146: Asynchronous Event Type */
enum NvmeAerType {
    NVME_AER_TYPE_ERROR     = 0,
    NVME_AER_TYPE_SMART     = 1,
    NVME_AER_TYPE_NOTICE    = 2,
};

/* Base Figure 147: Error status events */
enum NvmeAerError {
    NVME_AER_ERR_INVALID_DB_REG     = 0,
    NVME_AER_ERR_INVALID_DB_VALUE   = 1,
    NVME_AER_ERR_PERSISTENT         = 3,
};

/* Base Figure 148: SMART / Health status events */
enum NvmeAerSmart {
    NVME_AER_SMART_RELIABILITY  = 0,
    NVME_AER_SMART_TEMP_THRESH  = 1,
    NVME_AER_SMART_SPARE        = 2,
};

/* Base Figure 149: Notice events */
enum NvmeAerNotice {
    NVME_AER_NOTICE_NS_ATTR     = 0,
};

/* Base 5.14, Figure 186: Format NVM CDW10 */
FIELD(NVME_FORMAT_DW10, LBAFL, 0, 4)
FIELD(NVME_FORMAT_DW10, MSET, 4, 1)
FIELD(NVME_FORMAT_DW10, PI, 5, 3)
FIELD(NVME_FORMAT_DW10, PIL, 8, 1)
FIELD(NVME_FORMAT_DW10, SES, 9, 3)
FIELD(NVME_FORMAT_DW10, LBAFU, 12, 2)

/* Namespace Management CDW10/CDW11 (Base 2.0c, Namespace Management) */
FIELD(NVME_NSMGMT_DW10, SEL, 0, 4)
FIELD(NVME_NSMGMT_DW11, CSI, 24, 8)
enum NvmeNsMgmtSel {
    NVME_NSMGMT_CREATE      = 0,
    NVME_NSMGMT_DELETE      = 1,
};

/* Base 5.14, Figure 186: Secure Erase Settings */
enum NvmeFormatSes {
    NVME_FORMAT_SES_NONE        = 0,
    NVME_FORMAT_SES_USER_DATA   = 1,
    NVME_FORMAT_SES_CRYPTO      = 2,
};

/* NVM 3.2.4 / 3.2.6, Figures 43, 52: Read / Write CDW12 */
FIELD(NVME_RW_DW12, NLB, 0, 16)
FIELD(NVME_RW_DW12, DTYPE, 20, 4)
FIELD(NVME_RW_DW12, STC, 24, 1)
FIELD(NVME_RW_DW12, DEAC, 25, 1)        /* Write Zeroes only */
FIELD(NVME_RW_DW12, PRINFO, 26, 4)
FIELD(NVME_RW_DW12, FUA, 30, 1)
FIELD(NVME_RW_DW12, LR, 31, 1)

/* NVM 3.2.4, Figure 45: Read/Write CDW15 (and CDW14: ILBRT low 32 bits) */
FIELD(NVME_RW_DW15, LBAT, 0, 16)
FIELD(NVME_RW_DW15, LBATM, 16, 16)
/* NVM 3.2.4, Figure 42: CDW3 holds EILBRT bits 47:32 for the 64b guard */
FIELD(NVME_RW_DW3, EILBRT_HI, 0, 16)

/* NVM 3.2.3, Figure 39/40: Dataset Management */
FIELD(NVME_DSM_DW10, NR, 0, 8)
FIELD(NVME_DSM_DW11, IDR, 0, 1)
FIELD(NVME_DSM_DW11, IDW, 1, 1)
FIELD(NVME_DSM_DW11, AD, 2, 1)
#define NVME_DSM_MAX_RANGES 256

/* NVM Figure 41: Dataset Management range */
typedef struct QEMU_PACKED NvmeDsmRange {
    uint32_t cattr;
    uint32_t nlb;
    uint64_t slba;
} NvmeDsmRange;
QEMU_BUILD_BUG_ON(sizeof(NvmeDsmRange) != 16);

/* NVM 3.3.1 (NVM CS 1.0c, TP4130): Copy CDW12, CDW13 */
FIELD(NVME_COPY_DW12, NR, 0, 8)
FIELD(NVME_COPY_DW12, DESFMT, 8, 4)
FIELD(NVME_COPY_DW12, PRINFOR, 12, 4)
FIELD(NVME_COPY_DW12, DTYPE, 20, 4)
FIELD(NVME_COPY_DW12, STCW, 24, 1)
FIELD(NVME_COPY_DW12, PRINFOW, 26, 4)
FIELD(NVME_COPY_DW12, FUA, 30, 1)
FIELD(NVME_COPY_DW12, LR, 31, 1)
FIELD(NVME_COPY_DW13, DSPEC, 16, 16)
#define NVME_COPY_MAX_RANGES 256        /* NR is 8 bits, 0's based */

/*
 * Source Range Entries descriptor formats (NVM 3.3.1.1 and TP4130 for
 * 2h and 3h).  OCFS bit n (Identify Controller bytes 535:534)
 * says format n is supported; Host Behavior Support CDFE bit n enables
 * the cross-namespace formats 2h and 3h.
 */
enum NvmeCopyFormat {
    NVME_COPY_FORMAT_0      = 0,        /* 32 bytes, 16b guard PI */
    NVME_COPY_FORMAT_1      = 1,        /* 40 bytes, 32b/64b guard PI */
    NVME_COPY_FORMAT_2      = 2,        /* format 0 with SNSID, SOPT */
    NVME_COPY_FORMAT_3      = 3,        /* format 1 with SNSID, SOPT */
};

/*
 * Source Range Entry, formats 0h and 2h (32 bytes).  SNSID and SOPT are
 * reserved in format 0h.
 */
typedef struct QEMU_PACKED NvmeCopySrc32 {
    uint32_t snsid;
    uint8_t rsvd4[4];
    uint64_t slba;
    uint16_t nlb;               /* 0's based */
    uint8_t cetype;
    uint8_t rsvd19;
    uint16_t cev;
    uint16_t sopt;
    uint32_t eilbrt;            /* Expected Initial LB Reference Tag */
    uint16_t elbat;             /* Expected LB Application Tag */
    uint16_t elbatm;            /* ... and its mask */
} NvmeCopySrc32;
QEMU_BUILD_BUG_ON(sizeof(NvmeCopySrc32) != 32);
QEMU_BUILD_BUG_ON(offsetof(NvmeCopySrc32, eilbrt) != 24);

/*
 * Source Range Entry, formats 1h and 3h (40 bytes): an 80-bit Expected
 * Logical Block Storage Tag and Initial Reference Tag in bytes 35:26.
 */
typedef struct QEMU_PACKED NvmeCopySrc40 {
    uint32_t snsid;
    uint8_t rsvd4[4];
    uint64_t slba;
    uint16_t nlb;               /* 0's based */
    uint8_t cetype;
    uint8_t rsvd19;
    uint16_t cev;
    uint16_t sopt;
    uint8_t rsvd24[2];
    uint8_t elbst_eilbrt[10];
    uint16_t elbat;
    uint16_t elbatm;
} NvmeCopySrc40;
QEMU_BUILD_BUG_ON(sizeof(NvmeCopySrc40) != 40);
QEMU_BUILD_BUG_ON(offsetof(NvmeCopySrc40, elbst_eilbrt) != 26);

/* SOPT, TP4130: Fast Copy Only */
FIELD(NVME_COPY_SOPT, FCO, 15, 1)

/* Base 4.3.2, Figure 113/114: SGL descriptor; byte 15 is the identifier */
typedef struct QEMU_PACKED NvmeSglDesc {
    uint64_t addr;
    uint32_t len;
    uint8_t rsvd12[3];
    uint8_t id;
} NvmeSglDesc;
QEMU_BUILD_BUG_ON(sizeof(NvmeSglDesc) != 16);

FIELD(NVME_SGL_ID, SUBTYPE, 0, 4)
FIELD(NVME_SGL_ID, TYPE, 4, 4)

/* Base Figure 115: SGL Descriptor types */
enum NvmeSglType {
    NVME_SGL_TYPE_DATA_BLOCK    = 0x0,
    NVME_SGL_TYPE_BIT_BUCKET    = 0x1,
    NVME_SGL_TYPE_SEGMENT       = 0x2,
    NVME_SGL_TYPE_LAST_SEGMENT  = 0x3,
    NVME_SGL_TYPE_KEYED         = 0x4,
    NVME_SGL_TYPE_TRANSPORT     = 0x5,
};

/* Base Figure 116: SGL Descriptor sub types */
enum NvmeSglSubtype {
    NVME_SGL_SUBTYPE_ADDRESS    = 0x0,
    NVME_SGL_SUBTYPE_OFFSET     = 0x1,
};

/* Identify Controller SGLS field, Base Figure 275 bytes 539:536 */
enum NvmeIdCtrlSgls {
    NVME_SGLS_SUPPORTED_NO_ALIGN    = 1 << 0,
    NVME_SGLS_MPTR_SGL              = 1 << 19,  /* MPTR holds an SGL */
};

/* Base 5.17.2.1, Figure 275: Power State Descriptor */
typedef struct QEMU_PACKED NvmePsd {
    uint16_t mp;
    uint8_t rsvd2;
    uint8_t flags;
    uint32_t enlat;
    uint32_t exlat;
    uint8_t rrt;
    uint8_t rrl;
    uint8_t rwt;
    uint8_t rwl;
    uint16_t idlp;
    uint8_t ips;
    uint8_t rsvd19;
    uint16_t actp;
    uint8_t apw_aps;
    uint8_t rsvd23[9];
} NvmePsd;
QEMU_BUILD_BUG_ON(sizeof(NvmePsd) != 32);

/* Base 5.17.2.1, Figure 275: Identify Controller data structure */
typedef struct QEMU_PACKED NvmeIdCtrl {
    uint16_t vid;
    uint16_t ssvid;
    char sn[20];
    char mn[40];
    char fr[8];
    uint8_t rab;
    uint8_t ieee[3];
    uint8_t cmic;
    uint8_t mdts;
    uint16_t cntlid;
    uint32_t ver;
    uint32_t rtd3r;
    uint32_t rtd3e;
    uint32_t oaes;
    uint32_t ctratt;
    uint16_t rrls;
    uint8_t rsvd102[9];
    uint8_t cntrltype;
    uint8_t fguid[16];
    uint16_t crdt[3];
    uint8_t rsvd134[119];
    uint8_t nvmsr;
    uint8_t vwci;
    uint8_t mec;
    uint16_t oacs;
    uint8_t acl;
    uint8_t aerl;
    uint8_t frmw;
    uint8_t lpa;
    uint8_t elpe;
    uint8_t npss;
    uint8_t avscc;
    uint8_t apsta;
    uint16_t wctemp;
    uint16_t cctemp;
    uint16_t mtfa;
    uint32_t hmpre;
    uint32_t hmmin;
    uint8_t tnvmcap[16];
    uint8_t unvmcap[16];
    uint32_t rpmbs;
    uint16_t edstt;
    uint8_t dsto;
    uint8_t fwug;
    uint16_t kas;
    uint16_t hctma;
    uint16_t mntmt;
    uint16_t mxtmt;
    uint32_t sanicap;
    uint32_t hmminds;
    uint16_t hmmaxd;
    uint16_t nsetidmax;
    uint16_t endgidmax;
    uint8_t anatt;
    uint8_t anacap;
    uint32_t anagrpmax;
    uint32_t nanagrpid;
    uint32_t pels;
    uint16_t domainid;
    uint8_t rsvd358[10];
    uint8_t megcap[16];
    uint8_t rsvd384[128];
    uint8_t sqes;
    uint8_t cqes;
    uint16_t maxcmd;
    uint32_t nn;
    uint16_t oncs;
    uint16_t fuses;
    uint8_t fna;
    uint8_t vwc;
    uint16_t awun;
    uint16_t awupf;
    uint8_t icsvscc;
    uint8_t nwpc;
    uint16_t acwu;
    uint16_t ocfs;
    uint32_t sgls;
    uint32_t mnan;
    uint8_t maxdna[16];
    uint32_t maxcna;
    uint8_t rsvd564[204];
    char subnqn[256];
    uint8_t rsvd1024[1024];
    NvmePsd psd[32];
    uint8_t vs[1024];
} NvmeIdCtrl;
QEMU_BUILD_BUG_ON(sizeof(NvmeIdCtrl) != 4096);
QEMU_BUILD_BUG_ON(offsetof(NvmeIdCtrl, oacs) != 256);
QEMU_BUILD_BUG_ON(offsetof(NvmeIdCtrl, kas) != 320);
QEMU_BUILD_BUG_ON(offsetof(NvmeIdCtrl, sqes) != 512);
QEMU_BUILD_BUG_ON(offsetof(NvmeIdCtrl, sgls) != 536);
QEMU_BUILD_BUG_ON(offsetof(NvmeIdCtrl, subnqn) != 768);
QEMU_BUILD_BUG_ON(offsetof(NvmeIdCtrl, psd) != 2048);

/* Identify Controller bit fields */
enum NvmeIdCtrlCmic {
    NVME_CMIC_MULTI_PORT    = 1 << 0,
    NVME_CMIC_MULTI_CTRL    = 1 << 1,   /* two or more controllers */
};
enum NvmeIdCtrlOaes {
    NVME_OAES_NS_ATTR       = 1 << 8,
};
enum NvmeIdCtrlCtratt {
    NVME_CTRATT_ENDGRPS     = 1 << 4,   /* endurance groups */
    NVME_CTRATT_ELBAS       = 1 << 15,  /* extended LBA formats */
    NVME_CTRATT_MEM         = 1 << 16,  /* MDTS and size limits exclude
                                           metadata (Base 2.1) */
};
enum NvmeIdCtrlOacs {
    NVME_OACS_FORMAT        = 1 << 1,
    NVME_OACS_NMS           = 1 << 3,   /* NS Management and Attachment */
    NVME_OACS_DBBUF         = 1 << 8,   /* Doorbell Buffer Config */
};
enum NvmeIdCtrlLpa {
    NVME_LPA_NS_SMART       = 1 << 0,
    NVME_LPA_CMD_EFFECTS    = 1 << 1,
    NVME_LPA_EXTENDED       = 1 << 2,
};
enum NvmeIdCtrlFrmw {
    NVME_FRMW_SLOT1_RO      = 1 << 0,
    NVME_FRMW_NUM_SLOTS_1   = 1 << 1,     /* bits 3:1 = 1 slot */
};
enum NvmeIdCtrlOncs {
    NVME_ONCS_COMPARE       = 1 << 0,
    NVME_ONCS_WRITE_UNCOR   = 1 << 1,
    NVME_ONCS_DSM           = 1 << 2,
    NVME_ONCS_WRITE_ZEROES  = 1 << 3,
    NVME_ONCS_SAVE_FEATURES = 1 << 4,
    NVME_ONCS_TIMESTAMP     = 1 << 6,
    NVME_ONCS_VERIFY        = 1 << 7,
    NVME_ONCS_COPY          = 1 << 8,
    NVME_ONCS_NVMCSA        = 1 << 9,   /* Copy Single Atomicity (TP4130) */
    NVME_ONCS_NVMAFC        = 1 << 10,  /* All Fast Copy (TP4130) */
};
enum NvmeIdCtrlFna {
    NVME_FNA_FORMAT_ALL     = 1 << 0,
};
enum NvmeIdCtrlVwc {
    NVME_VWC_PRESENT        = 1 << 0,
    NVME_VWC_NSID_FFFFFFFF  = 3 << 1,   /* flush to all NSs supported */
};
#define NVME_SQES_64 0x66   /* required and maximum entry size 2^6 */
#define NVME_CQES_16 0x44   /* required and maximum entry size 2^4 */
#define NVME_NSID_BROADCAST 0xffffffffu

/* NVM 4.1.5.3, Figure 100: I/O Command Set Specific Identify Controller */
typedef struct QEMU_PACKED NvmeIdCtrlNvm {
    uint8_t vsl;
    uint8_t wzsl;
    uint8_t wusl;
    uint8_t dmrl;
    uint32_t dmrsl;
    uint64_t dmsl;
    uint8_t rsvd16[4080];
} NvmeIdCtrlNvm;
QEMU_BUILD_BUG_ON(sizeof(NvmeIdCtrlNvm) != 4096);

/* DMRL as stock QEMU reports it: 255 ranges recommended at most */
#define NVME_ID_CTRL_NVM_DMRL 255

/* Base 5.17: every Identify data structure is 4 KiB */
#define NVME_IDENTIFY_DATA_SIZE 4096

/* Base 3.1.4.3: INTMS/INTMC mask the first 32 vectors (pin-based) */
#define NVME_INTMS_VECTORS 32

/* Base 5.17.2.2: Identify Namespace List (CNS 02h), 1024 NSIDs */
#define NVME_NS_LIST_MAX 1024

/* Get Features Timestamp attributes, Base Figure 341 byte 6 */
FIELD(NVME_TS_ATTR, SYNCH, 0, 1)
FIELD(NVME_TS_ATTR, ORIGIN, 1, 3)
enum NvmeTsOrigin {
    NVME_TS_ORIGIN_RESET    = 0,
    NVME_TS_ORIGIN_HOST     = 1,
};

/* NVM 4.1.5.1, Figure 97: LBA Format data structure */
typedef struct QEMU_PACKED NvmeLbaf {
    uint16_t ms;
    uint8_t lbads;
    uint8_t rp;
} NvmeLbaf;
QEMU_BUILD_BUG_ON(sizeof(NvmeLbaf) != 4);

/* NVM 4.1.5.1, Figure 97: Identify Namespace data structure */
typedef struct QEMU_PACKED NvmeIdNs {
    uint64_t nsze;
    uint64_t ncap;
    uint64_t nuse;
    uint8_t nsfeat;
    uint8_t nlbaf;
    uint8_t flbas;
    uint8_t mc;
    uint8_t dpc;
    uint8_t dps;
    uint8_t nmic;
    uint8_t rescap;
    uint8_t fpi;
    uint8_t dlfeat;
    uint16_t nawun;
    uint16_t nawupf;
    uint16_t nacwu;
    uint16_t nabsn;
    uint16_t nabo;
    uint16_t nabspf;
    uint16_t noiob;
    uint8_t nvmcap[16];
    uint16_t npwg;
    uint16_t npwa;
    uint16_t npdg;
    uint16_t npda;
    uint16_t nows;
    uint16_t mssrl;
    uint32_t mcl;
    uint8_t msrc;
    uint8_t rsvd81;
    uint8_t nulbaf;
    uint8_t rsvd83[9];
    uint32_t anagrpid;
    uint8_t rsvd96[3];
    uint8_t nsattr;
    uint16_t nvmsetid;
    uint16_t endgid;
    uint8_t nguid[16];
    uint8_t eui64[8];
    NvmeLbaf lbaf[64];
    uint8_t rsvd384[3328];
    uint8_t vs[384];
} NvmeIdNs;
QEMU_BUILD_BUG_ON(sizeof(NvmeIdNs) != 4096);
QEMU_BUILD_BUG_ON(offsetof(NvmeIdNs, nguid) != 104);
QEMU_BUILD_BUG_ON(offsetof(NvmeIdNs, lbaf) != 128);

/* NMIC: namespace may be attached to two or more controllers */
enum {
    NVME_NMIC_SHRNS         = 1 << 0,
};

FIELD(NVME_FLBAS, LBAFL, 0, 4)
FIELD(NVME_FLBAS, EXTENDED, 4, 1)
FIELD(NVME_FLBAS, LBAFU, 5, 2)
enum NvmeIdNsNsfeat {
    NVME_NSFEAT_THINP       = 1 << 0,
    NVME_NSFEAT_DAE         = 1 << 2,   /* DULBE supported */
    NVME_NSFEAT_OPTPERF     = 1 << 4,
};
/* DLFEAT: deallocated blocks read as zeroes, Write Zeroes may deallocate */
enum NvmeIdNsDlfeat {
    NVME_DLFEAT_READ_ZEROES = 1,
    NVME_DLFEAT_WZ_DEAC     = 1 << 3,
};

/* NVM Figure 97 MC: metadata capabilities */
enum NvmeIdNsMc {
    NVME_MC_EXTENDED        = 1 << 0,
    NVME_MC_SEPARATE        = 1 << 1,
};
/* NVM Figure 97 DPC: end-to-end data protection capabilities */
enum NvmeIdNsDpc {
    NVME_DPC_TYPE1          = 1 << 0,
    NVME_DPC_TYPE2          = 1 << 1,
    NVME_DPC_TYPE3          = 1 << 2,
    NVME_DPC_FIRST          = 1 << 3,
    NVME_DPC_LAST           = 1 << 4,
};
/* NVM Figure 97 DPS: end-to-end data protection type settings */
FIELD(NVME_DPS, PIT, 0, 3)
FIELD(NVME_DPS, PIP, 3, 1)      /* PI in the first bytes of metadata */

/*
 * NVM 4.1.5.2, Figure 117: I/O Command Set specific Identify Namespace
 * for the NVM command set (CNS 05h, CSI 00h)
 */
typedef struct QEMU_PACKED NvmeIdNsNvm {
    uint64_t lbstm;
    uint8_t pic;
    uint8_t rsvd9[3];
    uint32_t elbaf[64];
    uint8_t rsvd268[3828];
} NvmeIdNsNvm;
QEMU_BUILD_BUG_ON(sizeof(NvmeIdNsNvm) != 4096);
QEMU_BUILD_BUG_ON(offsetof(NvmeIdNsNvm, elbaf) != 12);

/* NVM Figure 118: Extended LBA Format */
FIELD(NVME_ELBAF, STS, 0, 7)
FIELD(NVME_ELBAF, PIF, 7, 2)

/* Base 5.17.2.3, Figure 278: Namespace Identification Descriptor */
typedef struct QEMU_PACKED NvmeNsDescHdr {
    uint8_t nidt;
    uint8_t nidl;
    uint8_t rsvd2[2];
} NvmeNsDescHdr;
QEMU_BUILD_BUG_ON(sizeof(NvmeNsDescHdr) != 4);

enum NvmeNidt {
    NVME_NIDT_EUI64 = 1,
    NVME_NIDT_NGUID = 2,
    NVME_NIDT_UUID  = 3,
    NVME_NIDT_CSI   = 4,
};
enum NvmeNidl {
    NVME_NIDL_EUI64 = 8,
    NVME_NIDL_NGUID = 16,
    NVME_NIDL_UUID  = 16,
    NVME_NIDL_CSI   = 1,
};

/* Base 5.16.1.2, Figure 205: Error Information Log Entry */
typedef struct QEMU_PACKED NvmeErrorLogEntry {
    uint64_t error_count;
    uint16_t sqid;
    uint16_t cid;
    uint16_t status;        /* status field incl. phase tag position */
    uint16_t param_loc;
    uint64_t lba;
    uint32_t nsid;
    uint8_t vs;
    uint8_t trtype;
    uint8_t rsvd30[2];
    uint64_t csi;
    uint16_t trtype_info;
    uint8_t rsvd42[22];
} NvmeErrorLogEntry;
QEMU_BUILD_BUG_ON(sizeof(NvmeErrorLogEntry) != 64);
/* SQID and CID of an entry no command caused (Base 5.16.1.2, Figure 205) */
#define NVME_ERR_NO_COMMAND 0xffff

/* Base 5.16.1.3, Figure 207: SMART / Health Information */
typedef struct QEMU_PACKED NvmeSmartLog {
    uint8_t critical_warning;
    uint16_t temperature;
    uint8_t avail_spare;
    uint8_t avail_spare_thresh;
    uint8_t percent_used;
    uint8_t endurance_cw;
    uint8_t rsvd7[25];
    uint8_t data_units_read[16];
    uint8_t data_units_written[16];
    uint8_t host_reads[16];
    uint8_t host_writes[16];
    uint8_t ctrl_busy_time[16];
    uint8_t power_cycles[16];
    uint8_t power_on_hours[16];
    uint8_t unsafe_shutdowns[16];
    uint8_t media_errors[16];
    uint8_t num_err_log_entries[16];
    uint32_t warning_temp_time;
    uint32_t critical_temp_time;
    uint16_t temp_sensor[8];
    uint8_t rsvd216[296];
} NvmeSmartLog;
QEMU_BUILD_BUG_ON(sizeof(NvmeSmartLog) != 512);
QEMU_BUILD_BUG_ON(offsetof(NvmeSmartLog, data_units_read) != 32);
QEMU_BUILD_BUG_ON(offsetof(NvmeSmartLog, warning_temp_time) != 192);

/* SMART critical warning bits, Base Figure 207 byte 0 */
enum NvmeSmartWarn {
    NVME_SMART_WARN_SPARE       = 1 << 0,
    NVME_SMART_WARN_TEMPERATURE = 1 << 1,
    NVME_SMART_WARN_RELIABILITY = 1 << 2,
    NVME_SMART_WARN_READ_ONLY   = 1 << 3,
    NVME_SMART_WARN_VOLATILE_MEM = 1 << 4,
};

/* Base 5.16.1.4, Figure 209: Firmware Slot Information */
typedef struct QEMU_PACKED NvmeFwSlotLog {
    uint8_t afi;
    uint8_t rsvd1[7];
    char frs[7][8];
    uint8_t rsvd64[448];
} NvmeFwSlotLog;
QEMU_BUILD_BUG_ON(sizeof(NvmeFwSlotLog) != 512);

/* Base 5.16.1.5: Changed Namespace List, up to 1024 NSIDs */
#define NVME_CHANGED_NS_MAX 1024
typedef struct QEMU_PACKED NvmeChangedNsLog {
    uint32_t nsid[NVME_CHANGED_NS_MAX];
} NvmeChangedNsLog;
QEMU_BUILD_BUG_ON(sizeof(NvmeChangedNsLog) != 4096);

/* Base 5.16.1.6, Figures 210/211: Commands Supported and Effects */
typedef struct QEMU_PACKED NvmeEffectsLog {
    uint32_t acs[256];
    uint32_t iocs[256];
    uint8_t rsvd2048[2048];
} NvmeEffectsLog;
QEMU_BUILD_BUG_ON(sizeof(NvmeEffectsLog) != 4096);

enum NvmeEffects {
    NVME_EFF_CSUPP  = 1 << 0,   /* command supported */
    NVME_EFF_LBCC   = 1 << 1,   /* logical block content change */
    NVME_EFF_NCC    = 1 << 2,   /* namespace capability change */
    NVME_EFF_NIC    = 1 << 3,   /* namespace inventory change */
    NVME_EFF_CCC    = 1 << 4,   /* controller capability change */
};
/* Command Submission and Execution field, bits 18:16 */
#define NVME_EFF_CSE_SINGLE_NS  (1u << 16)
#define NVME_EFF_CSE_ALL_NS     (2u << 16)

/*
 * OCP Datacenter NVMe SSD Specification 2.0, 4.8.1: SMART / Health
 * Information Extended log (C0h), 512 bytes, vendor specific log page.
 */
#define NVME_LOG_OCP_SMART_EXT 0xc0

typedef struct QEMU_PACKED NvmeOcpSmartLog {
    uint8_t physical_media_units_written[16];
    uint8_t physical_media_units_read[16];
    uint8_t bad_user_blocks[8];         /* raw 47:0, normalized 63:48 */
    uint8_t bad_system_blocks[8];
    uint64_t xor_recovery_count;
    uint64_t uncorrectable_read_errors;
    uint64_t soft_ecc_errors;
    uint32_t end_to_end_corrected;
    uint32_t end_to_end_detected;
    uint8_t system_data_used_pct;
    uint8_t refresh_counts[7];
    uint32_t max_user_erase_count;
    uint32_t min_user_erase_count;
    uint8_t thermal_throttling_events;
    uint8_t thermal_throttling_status;
    uint8_t errata_version;
    uint16_t point_version;
    uint16_t minor_version;
    uint8_t major_version;
    uint64_t pcie_correctable_errors;
    uint32_t incomplete_shutdowns;
    uint8_t rsvd116[4];
    uint8_t free_blocks_pct;
    uint8_t rsvd121[7];
    uint16_t capacitor_health;
    uint8_t nvme_errata_version;
    uint8_t rsvd131[5];
    uint64_t unaligned_io;
    uint64_t security_version;
    uint64_t nuse;
    uint8_t plp_start_count[16];
    uint8_t endurance_estimate[16];
    uint64_t pcie_link_retraining;
    uint64_t power_state_changes;
    uint8_t rsvd208[286];
    uint16_t log_page_version;
    uint8_t log_page_guid[16];
} NvmeOcpSmartLog;
QEMU_BUILD_BUG_ON(sizeof(NvmeOcpSmartLog) != 512);
QEMU_BUILD_BUG_ON(offsetof(NvmeOcpSmartLog, pcie_correctable_errors) != 104);
QEMU_BUILD_BUG_ON(offsetof(NvmeOcpSmartLog, unaligned_io) != 136);
QEMU_BUILD_BUG_ON(offsetof(NvmeOcpSmartLog, log_page_version) != 494);

/* Its Log Page GUID AFD514C97C6F4F9CA4F2BFEA2810AFC5h, as the wire has it */
#define NVME_OCP_SMART_GUID { 0xc5, 0xaf, 0x10, 0x28, 0xea, 0xbf, 0xf2, 0xa4, \
                              0x9c, 0x4f, 0x6f, 0x7c, 0xc9, 0x14, 0xd5, 0xaf }

#endif /* HW_BLOCK_NVME_SPEC_H */
