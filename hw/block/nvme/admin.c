/*
 * NVMe admin command set (NVMe Base Specification 2.0c chapter 5):
 * queue management, Identify, Get/Set Features, Abort, Asynchronous Event
 * Request, Keep Alive and Format NVM.  Log pages are in log.c.
 *
 * One table gives each opcode its handler and its Commands Supported and
 * Effects entry; dispatch and the Effects log are both computed from it.
 * Handlers parse the command dwords into host-order values, validate them,
 * then act.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "hw/pci/msix.h"
#include "exec/memory.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "trace.h"

typedef uint16_t NvmeAdminFn(NvmeCtrl *n, NvmeRequest *req);

typedef struct NvmeAdminCmd {
    const char *name;
    NvmeAdminFn *exec;
    uint32_t effects;
} NvmeAdminCmd;

enum {
    NVME_ACL = 3,                   /* 0's based: 4 concurrent aborts */
    NVME_ELPE = NVME_ERROR_LOG_ENTRIES - 1,
    NVME_WCTEMP_K = 343,
    NVME_CCTEMP_K = 373,
    NVME_KAS_100MS = 10,            /* keep alive granularity: 1 s */
    NVME_RAB = 6,
    NVME_PS0_MP_CW = 2500,          /* 25 W in centiwatts */
    NVME_CNTRLTYPE_IO = 1,
    NVME_PS0_ENLAT_US = 0x10,       /* stock's power state 0 latencies */
    NVME_PS0_EXLAT_US = 0x4,
    NVME_IEEE_OUI_LEN = 3,
};

/* Identity strings and OUIs stock QEMU reports (docs/nvme.md) */
#define NVME_ADMIN_MODEL    "QEMU NVMe Ctrl"

/* IEEE OUI, least significant byte first: Red Hat's, or Intel's */
static const uint8_t nvme_admin_ieee_oui[NVME_IEEE_OUI_LEN] = {
    0x00, 0x54, 0x52
};
static const uint8_t nvme_admin_ieee_oui_intel[NVME_IEEE_OUI_LEN] = {
    0xb3, 0x02, 0x00
};

/* ---- queue management (Base 5.4, 5.5, 5.6, 5.7) ------------------------- */

static bool nvme_admin_queue_mem_ok(NvmeCtrl *n, uint64_t addr, uint64_t len)
{
    return !(addr & ((1ull << n->page_bits) - 1)) &&
           nvme_dma_is_ram(n, addr, len);
}

/* Queue ids granted by Set Features Number of Queues, 1's based */
static uint32_t nvme_admin_max_qid(NvmeCtrl *n, bool cq)
{
    uint32_t nq = cq ? FIELD_EX32(n->feat.num_queues, NVME_FEAT_NQ, NCQ)
                     : FIELD_EX32(n->feat.num_queues, NVME_FEAT_NQ, NSQ);

    return nq + 1;
}

static uint16_t nvme_admin_create_cq(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdCreateCq c = nvme_cmd_create_cq(&req->cmd);
    uint16_t qid = c.qid, iv = c.iv;
    uint32_t qsize = c.qsize;
    uint64_t addr = c.prp1;

    if (!qid || qid > nvme_admin_max_qid(n, true) ||
        qid >= n->num_queues || n->cq[qid].state != NVME_QUEUE_FREE) {
        return nvme_err_guest(n, req, NVME_INVALID_QID,
                              "create CQ: bad queue id %u", qid);
    }
    if (qsize < 2 || qsize > FIELD_EX64(n->cap, NVME_CAP, MQES) + 1) {
        return nvme_err_guest(n, req, NVME_INVALID_QSIZE,
                              "create CQ %u: bad size %u", qid, qsize);
    }
    if (!c.pc) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "create CQ %u: PC=0 but CAP.CQR=1", qid);
    }
    if (iv >= n->params.msix_qsize ||
        (iv && !msix_enabled(nvme_pci(n)))) {
        return nvme_err_guest(n, req, NVME_INVALID_IRQ_VECTOR,
                              "create CQ %u: bad vector %u", qid, iv);
    }
    if (FIELD_EX32(n->cc, NVME_CC, IOCQES) != ctz32(sizeof(NvmeCqe))) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "create CQ %u: CC.IOCQES is not 16 bytes",
                              qid);
    }
    if (!nvme_admin_queue_mem_ok(n, addr, (uint64_t)qsize *
                                 sizeof(NvmeCqe))) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "create CQ %u: bad base 0x%" PRIx64,
                              qid, addr);
    }
    return nvme_q_cq_create(n, qid, addr, qsize, iv, c.ien);
}

static uint16_t nvme_admin_create_sq(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdCreateSq c = nvme_cmd_create_sq(&req->cmd);
    uint16_t qid = c.qid, cqid = c.cqid;
    uint32_t qsize = c.qsize;
    NvmeQprio prio = c.qprio;
    uint64_t addr = c.prp1;

    if (!qid || qid > nvme_admin_max_qid(n, false) ||
        qid >= n->num_queues || n->sq[qid].state != NVME_QUEUE_FREE) {
        return nvme_err_guest(n, req, NVME_INVALID_QID,
                              "create SQ: bad queue id %u", qid);
    }
    if (!cqid || cqid >= n->num_queues ||
        n->cq[cqid].state != NVME_QUEUE_ACTIVE) {
        return nvme_err_guest(n, req, NVME_CQ_INVALID,
                              "create SQ %u: CQ %u does not exist",
                              qid, cqid);
    }
    if (qsize < 2 || qsize > FIELD_EX64(n->cap, NVME_CAP, MQES) + 1) {
        return nvme_err_guest(n, req, NVME_INVALID_QSIZE,
                              "create SQ %u: bad size %u", qid, qsize);
    }
    if (!c.pc) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "create SQ %u: PC=0 but CAP.CQR=1", qid);
    }
    if (FIELD_EX32(n->cc, NVME_CC, IOSQES) != ctz32(sizeof(NvmeSqe))) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "create SQ %u: CC.IOSQES is not 64 bytes",
                              qid);
    }
    if (!nvme_admin_queue_mem_ok(n, addr, (uint64_t)qsize *
                                 sizeof(NvmeSqe))) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "create SQ %u: bad base 0x%" PRIx64,
                              qid, addr);
    }
    /* QPRIO only means something under weighted round robin */
    if (FIELD_EX32(n->cc, NVME_CC, AMS) != NVME_CC_AMS_WRRU) {
        prio = NVME_ARB_MEDIUM;
    }
    return nvme_q_sq_create(n, qid, cqid, addr, qsize, prio);
}

static uint16_t nvme_admin_delete_sq(NvmeCtrl *n, NvmeRequest *req)
{
    uint16_t qid = FIELD_EX32(nvme_sqe_dw(&req->cmd, 10), NVME_DELETEQ_DW10,
                              QID);

    if (!qid || qid >= n->num_queues ||
        n->sq[qid].state != NVME_QUEUE_ACTIVE) {
        return nvme_err_guest(n, req, NVME_INVALID_QID,
                              "delete SQ: bad queue id %u", qid);
    }
    nvme_engine_sq_delete(n, qid, true);
    return NVME_SUCCESS;
}

static uint16_t nvme_admin_delete_cq(NvmeCtrl *n, NvmeRequest *req)
{
    uint16_t qid = FIELD_EX32(nvme_sqe_dw(&req->cmd, 10), NVME_DELETEQ_DW10,
                              QID);

    if (!qid || qid >= n->num_queues ||
        n->cq[qid].state != NVME_QUEUE_ACTIVE) {
        return nvme_err_guest(n, req, NVME_INVALID_QID,
                              "delete CQ: bad queue id %u", qid);
    }
    if (!QTAILQ_EMPTY(&n->cq[qid].sq_list)) {
        return nvme_err_guest(n, req, NVME_INVALID_QUEUE_DELETION,
                              "delete CQ %u: SQs still use it", qid);
    }
    nvme_q_cq_delete(n, qid);
    return NVME_SUCCESS;
}

/* ---- Identify (Base 5.17) ---------------------------------------------- */

static void nvme_admin_id_ctrl(NvmeCtrl *n, NvmeIdCtrl *id)
{
    PCIDevice *pci = nvme_pci(n);
    uint16_t oncs = NVME_ONCS_COMPARE | NVME_ONCS_DSM |
                    NVME_ONCS_WRITE_ZEROES | NVME_ONCS_SAVE_FEATURES |
                    NVME_ONCS_TIMESTAMP | NVME_ONCS_VERIFY |
                    NVME_ONCS_COPY | NVME_ONCS_NVMCSA | NVME_ONCS_NVMAFC;

    memset(id, 0, sizeof(*id));
    id->vid = cpu_to_le16(pci_get_word(pci->config + PCI_VENDOR_ID));
    id->ssvid = cpu_to_le16(pci_get_word(pci->config +
                                         PCI_SUBSYSTEM_VENDOR_ID));
    strpadcpy(id->sn, sizeof(id->sn), n->params.serial, ' ');
    strpadcpy(id->mn, sizeof(id->mn), NVME_ADMIN_MODEL, ' ');
    strpadcpy(id->fr, sizeof(id->fr), NVME_FIRMWARE_REV, ' ');
    id->rab = NVME_RAB;
    memcpy(id->ieee, n->params.use_intel_id ? nvme_admin_ieee_oui_intel
                                            : nvme_admin_ieee_oui,
           sizeof(id->ieee));
    id->cmic = n->subsys->multi_ctrl ? NVME_CMIC_MULTI_CTRL : 0;
    id->mdts = n->params.mdts;
    id->cntlid = cpu_to_le16(n->cntlid);
    id->ver = cpu_to_le32(n->vs);
    id->oaes = cpu_to_le32(NVME_OAES_NS_ATTR);
    /* extended LBA formats: ELBAF (PIF) in Identify CNS 05h */
    id->ctratt = cpu_to_le32(NVME_CTRATT_ELBAS |
                             (n->params.ctratt_mem ? NVME_CTRATT_MEM : 0));
    /* stock: an nvme-subsys reports its one endurance group, 1 */
    if (n->subsys->multi_ctrl) {
        id->endgidmax = cpu_to_le16(NVME_ENDGID_NVME_NS);
        id->ctratt |= cpu_to_le32(NVME_CTRATT_ENDGRPS);
    }
    id->cntrltype = NVME_CNTRLTYPE_IO;
    id->oacs = cpu_to_le16(NVME_OACS_FORMAT | NVME_OACS_NMS |
                           (n->params.dbcs ? NVME_OACS_DBBUF : 0));
    id->acl = NVME_ACL;
    id->aerl = n->params.aerl;
    id->frmw = NVME_FRMW_SLOT1_RO | NVME_FRMW_NUM_SLOTS_1;
    id->lpa = NVME_LPA_CMD_EFFECTS | NVME_LPA_EXTENDED;
    id->elpe = NVME_ELPE;
    id->npss = 0;
    id->wctemp = cpu_to_le16(NVME_WCTEMP_K);
    id->cctemp = cpu_to_le16(NVME_CCTEMP_K);
    id->kas = cpu_to_le16(NVME_KAS_100MS);
    id->sqes = NVME_SQES_64;
    id->cqes = NVME_CQES_16;
    id->nn = cpu_to_le32(NVME_MAX_NAMESPACES);
    id->oncs = cpu_to_le16(oncs);
    id->vwc = NVME_VWC_PRESENT | NVME_VWC_NSID_FFFFFFFF;
    id->awun = cpu_to_le16(n->params.atomic_awun);
    id->awupf = cpu_to_le16(nvme_atomic_awupf(n));
    id->ocfs = cpu_to_le16(nvme_copy_ocfs(n));
    id->sgls = cpu_to_le32(NVME_SGLS_SUPPORTED_NO_ALIGN | NVME_SGLS_MPTR_SGL);
    pstrcpy(id->subnqn, sizeof(id->subnqn), n->subsys->subnqn);
    nvme_nsmgmt_id_ctrl(n, id);
    id->psd[0].mp = cpu_to_le16(NVME_PS0_MP_CW);
    id->psd[0].enlat = cpu_to_le32(NVME_PS0_ENLAT_US);
    id->psd[0].exlat = cpu_to_le32(NVME_PS0_EXLAT_US);
}

/*
 * Namespace list (CNS 02h/07h of @table n->ns, the attached namespaces;
 * CNS 10h/1Ah of the subsystem's allocated ones): NSIDs after CDW1
 */
static uint16_t nvme_admin_id_ns_list(NvmeCtrl *n, NvmeRequest *req,
                                      NvmeNs *const *table)
{
    uint32_t list[NVME_NS_LIST_MAX] = { 0 };
    uint32_t start = le32_to_cpu(req->cmd.nsid);
    unsigned count = 0;

    if (start >= NVME_NSID_BROADCAST - 1) {
        return nvme_err_guest(n, req, NVME_INVALID_NSID,
                              "namespace list after nsid 0x%x", start);
    }
    for (uint32_t nsid = start + 1;
         nsid <= NVME_MAX_NAMESPACES && count < NVME_NS_LIST_MAX; nsid++) {
        if (table[nsid]) {
            list[count++] = cpu_to_le32(nsid);
        }
    }
    return nvme_dma_to_guest(req, list, sizeof(list));
}

/*
 * Controller List (Base Figure 134) of the subsystem's controllers with
 * an id of @cntid or more: all of them (CNS 13h), or those @ns is
 * attached to (CNS 12h)
 */
static uint16_t nvme_admin_id_ctrl_list(NvmeCtrl *n, NvmeRequest *req,
                                        NvmeNs *ns, uint16_t cntid)
{
    g_autofree NvmeCtrlList *list = g_new0(NvmeCtrlList, 1);
    unsigned count = 0;

    for (unsigned id = cntid; id < NVME_SUBSYS_MAX_CTRLS; id++) {
        NvmeCtrl *c = nvme_subsys_ctrl(n->subsys, id);

        if (c && (!ns || nvme_subsys_ns_attached(ns, c))) {
            list->ids[count++] = cpu_to_le16(id);
        }
    }
    list->numids = cpu_to_le16(count);
    return nvme_dma_to_guest(req, list, sizeof(*list));
}

/*
 * Endurance Group List (CNS 19h, Base 5.17.2.18): the ids from @from on.
 * A subsystem has one endurance group, 1 (every nvme-ns reports it), as
 * stock lists it.
 */
static uint16_t nvme_admin_id_endgrp_list(NvmeCtrl *n, NvmeRequest *req,
                                          uint16_t from)
{
    g_autofree NvmeCtrlList *list = g_new0(NvmeCtrlList, 1);

    if (from <= NVME_ENDGID_NVME_NS) {
        list->numids = cpu_to_le16(1);
        list->ids[0] = cpu_to_le16(NVME_ENDGID_NVME_NS);
    }
    return nvme_dma_to_guest(req, list, sizeof(*list));
}

/* I/O Command Set Independent Identify Namespace (CNS 08h, 1Fh) */
static void nvme_admin_id_ns_ind(NvmeNs *ns, NvmeIdNsInd *ind)
{
    g_autofree NvmeIdNs *id = g_new(NvmeIdNs, 1);

    nvme_ns_identify(ns, id);
    ind->nsfeat = id->nsfeat;
    ind->nmic = id->nmic;
    ind->endgid = id->endgid;
    ind->nstat = ns->format_req ? 0 : NVME_NSTAT_NRDY;
}

/*
 * I/O Command Set data structure (CNS 1Ch): one combination, the NVM
 * command set alone, selected (index 0) on every controller
 */
static void nvme_admin_id_iocs(NvmeIdIocs *iocs)
{
    iocs->vector[0] = cpu_to_le64(BIT_ULL(NVME_CSI_NVM));
}

/* The Identify data of namespace @nsid (@ns, NULL when not in @table) */
static uint16_t nvme_admin_id_ns(NvmeCtrl *n, NvmeRequest *req, uint8_t cns,
                                 uint32_t nsid, NvmeNs *ns, void *buf)
{
    /* FFFFFFFFh: what namespaces have in common (nsmgmt.c) */
    if (nsid == NVME_NSID_BROADCAST && cns == NVME_CNS_NS &&
        nvme_nsmgmt_id_ns_common(n, buf)) {
        return nvme_dma_to_guest(req, buf, sizeof(NvmeIdNs));
    }
    if (!nsid || nsid > NVME_MAX_NAMESPACES) {
        return nvme_err_guest(n, req, NVME_INVALID_NSID,
                              "identify CNS 0x%x of namespace 0x%x",
                              cns, nsid);
    }
    /* an inactive or unallocated nsid reads as zeroes (Base 5.17.2) */
    if (ns) {
        switch (cns) {
        case NVME_CNS_NS:
        case NVME_CNS_ALLOC_NS:
            nvme_ns_identify(ns, buf);
            break;
        case NVME_CNS_IND_NS:
        case NVME_CNS_IND_ALLOC_NS:
            nvme_admin_id_ns_ind(ns, buf);
            break;
        default:
            /* NVM command set specific (05h, 1Bh) */
            nvme_ns_identify_nvm(ns, buf);
            break;
        }
    }
    return nvme_dma_to_guest(req, buf, NVME_IDENTIFY_DATA_SIZE);
}

/*
 * Namespace Identification Descriptor list (Base 5.17.2.3): the ids the
 * namespace has, in stock's order (UUID, NGUID, EUI-64), then the CSI.
 */
static uint16_t nvme_admin_id_ns_descs(NvmeCtrl *n, NvmeRequest *req,
                                       NvmeNs *ns)
{
    uint8_t buf[NVME_IDENTIFY_DATA_SIZE] = { 0 };
    uint8_t *p = buf;
    const uint8_t csi = NVME_CSI_NVM;
    const struct {
        uint8_t nidt, nidl;
        const void *nid;
        bool present;
    } descs[] = {
        { NVME_NIDT_UUID, NVME_NIDL_UUID, ns->uuid.data,
          !qemu_uuid_is_null(&ns->uuid) },
        { NVME_NIDT_NGUID, NVME_NIDL_NGUID, ns->nguid,
          !buffer_is_zero(ns->nguid, sizeof(ns->nguid)) },
        { NVME_NIDT_EUI64, NVME_NIDL_EUI64, ns->eui64,
          !buffer_is_zero(ns->eui64, sizeof(ns->eui64)) },
        { NVME_NIDT_CSI, NVME_NIDL_CSI, &csi, true },
    };

    for (unsigned i = 0; i < ARRAY_SIZE(descs); i++) {
        NvmeNsDescHdr hdr = { .nidt = descs[i].nidt, .nidl = descs[i].nidl };

        if (!descs[i].present) {
            continue;
        }
        memcpy(p, &hdr, sizeof(hdr));
        memcpy(p + sizeof(hdr), descs[i].nid, descs[i].nidl);
        p += sizeof(hdr) + descs[i].nidl;
    }
    return nvme_dma_to_guest(req, buf, sizeof(buf));
}

/*
 * I/O Command Set specific Identify Controller for NVM (CNS 06h): VSL,
 * and stock's Dataset Management limits (recommendations; DMSL is DMRL
 * ranges of DMRSL blocks).  WZSL and WUSL stay 0 (no limit).
 */
static void nvme_admin_id_ctrl_nvm(NvmeCtrl *n, NvmeIdCtrlNvm *id)
{
    uint32_t dmrsl = nvme_ns_dsm_range_limit(n);

    id->vsl = n->params.vsl;
    id->dmrl = NVME_ID_CTRL_NVM_DMRL;
    id->dmrsl = cpu_to_le32(dmrsl);
    id->dmsl = cpu_to_le64((uint64_t)NVME_ID_CTRL_NVM_DMRL * dmrsl);
}

static uint16_t nvme_admin_identify(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdIdentify c = nvme_cmd_identify(&req->cmd);
    uint8_t cns = c.cns, csi = c.csi;
    uint32_t nsid = c.nsid;
    NvmeNs *ns = nvme_ns_lookup(n, nsid);
    NvmeNs *alloc = nvme_subsys_ns(n->subsys, nsid);
    g_autofree void *buf = g_malloc0(NVME_IDENTIFY_DATA_SIZE);

    trace_nvme_dev_identify(cns, csi, nsid);
    switch (cns) {
    case NVME_CNS_CTRL:
        nvme_admin_id_ctrl(n, buf);
        return nvme_dma_to_guest(req, buf, sizeof(NvmeIdCtrl));
    case NVME_CNS_CSI_CTRL:
        if (csi != NVME_CSI_NVM) {
            break;
        }
        nvme_admin_id_ctrl_nvm(n, buf);
        return nvme_dma_to_guest(req, buf, sizeof(NvmeIdCtrlNvm));
    case NVME_CNS_CSI_NS:
    case NVME_CNS_CSI_ALLOC_NS:
        if (csi != NVME_CSI_NVM) {
            break;
        }
        /* fall through */
    case NVME_CNS_NS:
    case NVME_CNS_IND_NS:
        return nvme_admin_id_ns(n, req, cns, nsid,
                                cns == NVME_CNS_CSI_ALLOC_NS ? alloc : ns,
                                buf);
    case NVME_CNS_ALLOC_NS:
    case NVME_CNS_IND_ALLOC_NS:
        return nvme_admin_id_ns(n, req, cns, nsid, alloc, buf);
    case NVME_CNS_ACTIVE_NS_LIST:
    case NVME_CNS_CSI_ACTIVE_NS_LIST:
        if (cns == NVME_CNS_CSI_ACTIVE_NS_LIST && csi != NVME_CSI_NVM) {
            break;
        }
        return nvme_admin_id_ns_list(n, req, n->ns);
    case NVME_CNS_ALLOC_NS_LIST:
    case NVME_CNS_CSI_ALLOC_NS_LIST:
        if (cns == NVME_CNS_CSI_ALLOC_NS_LIST && csi != NVME_CSI_NVM) {
            break;
        }
        return nvme_admin_id_ns_list(n, req, n->subsys->ns);
    case NVME_CNS_NS_CTRL_LIST:
        if (!alloc) {
            /* Invalid Field, as stock answers an unallocated NSID */
            return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                                  "controllers of namespace 0x%x", nsid);
        }
        return nvme_admin_id_ctrl_list(n, req, alloc, c.cntid);
    case NVME_CNS_CTRL_LIST:
        return nvme_admin_id_ctrl_list(n, req, NULL, c.cntid);
    case NVME_CNS_ENDGRP_LIST:
        return nvme_admin_id_endgrp_list(n, req, c.cnssid);
    case NVME_CNS_IOCS:
        nvme_admin_id_iocs(buf);
        return nvme_dma_to_guest(req, buf, sizeof(NvmeIdIocs));
    case NVME_CNS_NS_DESC_LIST:
        if (!ns) {
            /* Invalid Field for an inactive NSID, as stock answers */
            return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                                  "descriptors of namespace 0x%x", nsid);
        }
        return nvme_admin_id_ns_descs(n, req, ns);
    default:
        break;
    }
    return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                          "identify CNS 0x%x CSI 0x%x unsupported",
                          cns, csi);
}

/* ---- Features (Base 5.15, 5.27) ---------------------------------------- */

/* Number of Queues value (0's based counts), Base Figure 330 */
static uint32_t nvme_admin_nq(uint32_t nsq, uint32_t ncq)
{
    uint32_t v = FIELD_DP32(0, NVME_FEAT_NQ, NSQ, nsq);

    return FIELD_DP32(v, NVME_FEAT_NQ, NCQ, ncq);
}

void nvme_admin_features_reset(NvmeCtrl *n)
{
    NvmeFeatures *f = &n->feat;
    uint32_t nq = n->params.max_ioqpairs - 1;

    memset(f, 0, sizeof(*f));
    f->arbitration = FIELD_DP32(0, NVME_FEAT_ARB, AB, NVME_ARB_AB_NO_LIMIT);
    f->temp_over = NVME_TEMP_OVER_DEFAULT_K;
    f->num_queues = nvme_admin_nq(nq, nq);
    f->atomic_dn = n->params.atomic_dn;
    nvme_arb_configure(&n->arb, NVME_ARB_AB_NO_LIMIT, 0, 0, 0);
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        if (n->ns[i]) {
            n->ns[i]->err_rec = 0;
        }
    }
    n->temp_warned = false;
    if (n->kato_timer) {
        timer_del(n->kato_timer);
    }
}

static bool nvme_admin_any_io_queue(NvmeCtrl *n)
{
    NvmeSQueue *sq;
    NvmeCQueue *cq;

    QTAILQ_FOREACH(sq, &n->active_sqs, active_entry) {
        if (sq->sqid != NVME_ADMIN_QID) {
            return true;
        }
    }
    QTAILQ_FOREACH(cq, &n->active_cqs, active_entry) {
        if (cq->cqid != NVME_ADMIN_QID) {
            return true;
        }
    }
    return false;
}

static NvmeNs *nvme_admin_first_ns(NvmeCtrl *n)
{
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        if (n->ns[i]) {
            return n->ns[i];
        }
    }
    return NULL;
}

static void nvme_admin_kato_arm(NvmeCtrl *n)
{
    if (n->feat.kato) {
        timer_mod(n->kato_timer, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) +
                  n->feat.kato);
    } else {
        timer_del(n->kato_timer);
    }
}

/*
 * Keep Alive Timer expiry (Base 1.4 7.12.2): an Error Information log
 * entry with status Keep Alive Timer Expired, then no more commands
 * processed and CSTS.CFS set.
 */
static void nvme_admin_kato_expired(void *opaque)
{
    NvmeCtrl *n = opaque;

    if (n->state == NVME_CTRL_ENABLED) {
        nvme_err_record_event(n, NVME_KEEP_ALIVE_EXPIRED);
        nvme_engine_fail(n, "keep alive timeout expired");
    }
}

static uint64_t nvme_admin_timestamp_now(NvmeCtrl *n, uint8_t *attr)
{
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL);

    *attr = FIELD_DP32(0, NVME_TS_ATTR, ORIGIN,
                       n->feat.timestamp_set ? NVME_TS_ORIGIN_HOST
                                             : NVME_TS_ORIGIN_RESET);
    if (!n->feat.timestamp_set) {
        return now;
    }
    return n->feat.timestamp_base_ms + (now - n->feat.timestamp_set_at);
}

/*
 * Error Recovery (Base 5.27.1.4) is namespace specific, TLER and DULBE
 * alike (as stock keeps them): the namespace the command names, or every
 * namespace for a Set with FFFFFFFFh.  The NSID rules are stock's: 0 is an
 * Invalid Namespace (also FFFFFFFFh for Get), an inactive one an Invalid
 * Field.  *@ns is the namespace, or NULL for all.
 */
static uint16_t nvme_admin_err_rec_ns(NvmeCtrl *n, NvmeRequest *req,
                                      bool set, NvmeNs **ns)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);

    *ns = NULL;
    if (set && nsid == NVME_NSID_BROADCAST) {
        return NVME_SUCCESS;
    }
    if (!nsid || nsid > NVME_MAX_NAMESPACES) {
        return nvme_err_guest(n, req, NVME_INVALID_NSID,
                              "error recovery: namespace 0x%x", nsid);
    }
    *ns = nvme_ns_lookup(n, nsid);
    if (!*ns) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "error recovery: namespace %u is not active",
                              nsid);
    }
    return NVME_SUCCESS;
}

/* The current (or default) value of a feature, in CQE DW0 layout */
static uint16_t nvme_admin_feat_value(NvmeCtrl *n, NvmeRequest *req,
                                      uint8_t fid, bool dflt, uint32_t *val)
{
    uint32_t dw11 = nvme_cmd_features(&req->cmd).dw11;
    NvmeNs *ns;

    switch (fid) {
    case NVME_FEAT_ARBITRATION:
        *val = dflt ? FIELD_DP32(0, NVME_FEAT_ARB, AB, NVME_ARB_AB_NO_LIMIT)
                    : n->feat.arbitration;
        return NVME_SUCCESS;
    case NVME_FEAT_POWER_MGMT:
        *val = dflt ? 0 : n->feat.power_mgmt;
        return NVME_SUCCESS;
    case NVME_FEAT_TEMP_THRESHOLD:
        if (FIELD_EX32(dw11, NVME_FEAT_TEMP, TMPSEL) != 0) {
            return NVME_INVALID_FIELD;
        }
        if (FIELD_EX32(dw11, NVME_FEAT_TEMP, THSEL) == NVME_TEMP_THSEL_OVER) {
            *val = dflt ? NVME_TEMP_OVER_DEFAULT_K : n->feat.temp_over;
        } else {
            *val = dflt ? 0 : n->feat.temp_under;
        }
        return NVME_SUCCESS;
    case NVME_FEAT_ERROR_RECOVERY:
        ns = nvme_ns_lookup(n, le32_to_cpu(req->cmd.nsid));
        *val = dflt || !ns ? 0 : ns->err_rec;
        return NVME_SUCCESS;
    case NVME_FEAT_VOLATILE_WC:
        ns = nvme_admin_first_ns(n);
        *val = ns && (dflt ? ns->blkconf.wce != ON_OFF_AUTO_OFF
                           : nvme_ns_write_cache(ns));
        return NVME_SUCCESS;
    case NVME_FEAT_NUM_QUEUES:
        *val = n->feat.num_queues;
        return NVME_SUCCESS;
    case NVME_FEAT_IRQ_COALESCING:
        *val = dflt ? 0 : n->feat.irq_coalescing;
        return NVME_SUCCESS;
    case NVME_FEAT_IRQ_CONFIG: {
        uint16_t iv = FIELD_EX32(dw11, NVME_FEAT_IVC, IV);

        if (iv >= n->params.msix_qsize) {
            return NVME_INVALID_FIELD;
        }
        *val = FIELD_DP32(0, NVME_FEAT_IVC, IV, iv);
        *val = FIELD_DP32(*val, NVME_FEAT_IVC, CD, dflt ? 0 : n->vec[iv].cd);
        return NVME_SUCCESS;
    }
    case NVME_FEAT_WRITE_ATOMICITY:
        /* stock's default is DN 0 whatever atomic.dn sets at reset */
        *val = FIELD_DP32(0, NVME_FEAT_WAN, DN, dflt ? 0 : n->feat.atomic_dn);
        return NVME_SUCCESS;
    case NVME_FEAT_ASYNC_EVENT_CONF:
        *val = dflt ? 0 : n->feat.async_event_conf;
        return NVME_SUCCESS;
    case NVME_FEAT_KEEP_ALIVE:
        *val = dflt ? 0 : n->feat.kato;
        return NVME_SUCCESS;
    case NVME_FEAT_TIMESTAMP:
    case NVME_FEAT_HOST_BEHAVIOR:
        *val = 0;
        return NVME_SUCCESS;
    default:
        return NVME_INVALID_FIELD;
    }
}

static uint16_t nvme_admin_get_features(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdFeatures c = nvme_cmd_features(&req->cmd);
    uint8_t fid = c.fid, sel = c.sel;
    uint32_t val = 0;
    uint16_t status;

    trace_nvme_dev_get_features(fid, sel);
    if (fid == NVME_FEAT_ERROR_RECOVERY) {
        NvmeNs *ns;

        status = nvme_admin_err_rec_ns(n, req, false, &ns);
        if (status) {
            return status;
        }
    }
    status = nvme_admin_feat_value(n, req, fid, sel != NVME_FEAT_SEL_CURRENT,
                                   &val);
    if (status) {
        return nvme_err_guest(n, req, status,
                              "get features 0x%x: unsupported", fid);
    }
    if (sel == NVME_FEAT_SEL_CAPS) {
        req->dw0 = fid == NVME_FEAT_NUM_QUEUES ? 0 : NVME_FEAT_CAP_CHANGE;
        return NVME_SUCCESS;
    }
    if (sel > NVME_FEAT_SEL_CAPS) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "get features: bad SEL %u", sel);
    }
    req->dw0 = val;
    if (fid == NVME_FEAT_TIMESTAMP) {
        NvmeTimestamp ts = { 0 };
        uint64_t ms = nvme_admin_timestamp_now(n, &ts.attr);

        for (unsigned i = 0; i < sizeof(ts.ts); i++) {
            ts.ts[i] = ms >> (8 * i);
        }
        return nvme_dma_to_guest(req, &ts, sizeof(ts));
    }
    if (fid == NVME_FEAT_HOST_BEHAVIOR) {
        return nvme_dma_to_guest(req, &n->feat.host_behavior,
                                 sizeof(n->feat.host_behavior));
    }
    return NVME_SUCCESS;
}

static uint16_t nvme_admin_set_num_queues(NvmeCtrl *n, NvmeRequest *req,
                                          uint32_t dw11)
{
    uint32_t nsq = FIELD_EX32(dw11, NVME_FEAT_NQ, NSQ);
    uint32_t ncq = FIELD_EX32(dw11, NVME_FEAT_NQ, NCQ);
    uint32_t max = n->params.max_ioqpairs - 1;

    if (nsq == UINT16_MAX || ncq == UINT16_MAX) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "number of queues: 65536 requested");
    }
    if (nvme_admin_any_io_queue(n)) {
        return nvme_err_guest(n, req, NVME_COMMAND_SEQ_ERROR,
                              "number of queues set with I/O queues "
                              "present");
    }
    n->feat.num_queues = nvme_admin_nq(MIN(nsq, max), MIN(ncq, max));
    req->dw0 = n->feat.num_queues;
    return NVME_SUCCESS;
}

static uint16_t nvme_admin_set_features(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdFeatures c = nvme_cmd_features(&req->cmd);
    uint8_t fid = c.fid;
    uint32_t dw11 = c.dw11;
    uint32_t unused;
    uint16_t status;

    trace_nvme_dev_set_features(fid, dw11);
    if (c.sv) {
        return nvme_err_guest(n, req, NVME_FEAT_NOT_SAVEABLE,
                              "set features 0x%x: save requested", fid);
    }
    status = nvme_admin_feat_value(n, req, fid, false, &unused);
    if (status) {
        return nvme_err_guest(n, req, status,
                              "set features 0x%x: unsupported", fid);
    }

    switch (fid) {
    case NVME_FEAT_ARBITRATION: {
        NvmeCmdArbitration a = nvme_cmd_arbitration(dw11);

        n->feat.arbitration = dw11;
        nvme_arb_configure(&n->arb, a.ab, a.hpw, a.mpw, a.lpw);
        break;
    }
    case NVME_FEAT_POWER_MGMT:
        if (FIELD_EX32(dw11, NVME_FEAT_PM, PS) != 0) {
            return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                                  "power state %u does not exist",
                                  FIELD_EX32(dw11, NVME_FEAT_PM, PS));
        }
        n->feat.power_mgmt = dw11;
        break;
    case NVME_FEAT_TEMP_THRESHOLD:
        if (FIELD_EX32(dw11, NVME_FEAT_TEMP, THSEL) == NVME_TEMP_THSEL_OVER) {
            n->feat.temp_over = FIELD_EX32(dw11, NVME_FEAT_TEMP, TMPTH);
        } else if (FIELD_EX32(dw11, NVME_FEAT_TEMP, THSEL) ==
                   NVME_TEMP_THSEL_UNDER) {
            n->feat.temp_under = FIELD_EX32(dw11, NVME_FEAT_TEMP, TMPTH);
        } else {
            return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                                  "temperature threshold: bad THSEL");
        }
        nvme_log_check_temperature(n);
        break;
    case NVME_FEAT_ERROR_RECOVERY: {
        /* DULBE: every namespace reports NSFEAT.DAE (see io.c) */
        NvmeNs *ns;

        status = nvme_admin_err_rec_ns(n, req, true, &ns);
        if (status) {
            return status;
        }
        for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
            if (n->ns[i] && (!ns || ns == n->ns[i])) {
                n->ns[i]->err_rec = dw11 & (R_NVME_FEAT_ERR_REC_TLER_MASK |
                                            R_NVME_FEAT_ERR_REC_DULBE_MASK);
            }
        }
        break;
    }
    case NVME_FEAT_VOLATILE_WC:
        for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
            if (n->ns[i]) {
                nvme_ns_set_write_cache(n->ns[i],
                                        FIELD_EX32(dw11, NVME_FEAT_VWC, WCE));
            }
        }
        break;
    case NVME_FEAT_NUM_QUEUES:
        return nvme_admin_set_num_queues(n, req, dw11);
    case NVME_FEAT_IRQ_COALESCING:
        n->feat.irq_coalescing = dw11 & (R_NVME_FEAT_IRQC_THR_MASK |
                                         R_NVME_FEAT_IRQC_TIME_MASK);
        break;
    case NVME_FEAT_IRQ_CONFIG:
        n->vec[FIELD_EX32(dw11, NVME_FEAT_IVC, IV)].cd =
            FIELD_EX32(dw11, NVME_FEAT_IVC, CD);
        break;
    case NVME_FEAT_WRITE_ATOMICITY:
        n->feat.atomic_dn = FIELD_EX32(dw11, NVME_FEAT_WAN, DN);
        break;
    case NVME_FEAT_ASYNC_EVENT_CONF:
        n->feat.async_event_conf = dw11;
        nvme_log_check_temperature(n);
        break;
    case NVME_FEAT_KEEP_ALIVE:
        n->feat.kato = dw11;
        nvme_admin_kato_arm(n);
        break;
    case NVME_FEAT_TIMESTAMP: {
        NvmeTimestamp ts;
        uint64_t ms = 0;

        status = nvme_dma_from_guest(req, &ts, sizeof(ts));
        if (status) {
            return status;
        }
        for (unsigned i = 0; i < sizeof(ts.ts); i++) {
            ms |= (uint64_t)ts.ts[i] << (8 * i);
        }
        n->feat.timestamp_base_ms = ms;
        n->feat.timestamp_set_at = qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL);
        n->feat.timestamp_set = true;
        break;
    }
    case NVME_FEAT_HOST_BEHAVIOR:
        return nvme_dma_from_guest(req, &n->feat.host_behavior,
                                   sizeof(n->feat.host_behavior));
    }
    return NVME_SUCCESS;
}

/* ---- Abort, AER, Keep Alive, Format ------------------------------------- */

/* Abort completion DW0 (Base 5.1.1): bit 0 set, command not aborted */
enum {
    NVME_ABORT_DW0_ABORTED      = 0,
    NVME_ABORT_DW0_NOT_ABORTED  = 1 << 0,
};

/* Take the outstanding AER with command id @cid off its list, if any */
static NvmeRequest *nvme_admin_aer_take(NvmeCtrl *n, uint16_t cid)
{
    for (unsigned i = 0; i < n->aer_outstanding; i++) {
        NvmeRequest *r = n->aer_reqs[i];

        if (r->cid == cid) {
            n->aer_reqs[i] = n->aer_reqs[--n->aer_outstanding];
            return r;
        }
    }
    return NULL;
}

/*
 * Abort is best effort (Base 5.1).  Only a command that waits for an
 * event rather than for the block layer is aborted: an outstanding
 * Asynchronous Event Request, which completes with Command Abort
 * Requested.  A command with block I/O in flight is left to finish, as
 * a BlockBackend request cannot be cancelled (QEMU's blk_aio_* requests
 * run to completion whatever cancel is asked) and a write cut short must
 * not be reported as not done.  So the target completes with Command
 * Abort Requested exactly when this command reports it aborted.
 */
static uint16_t nvme_admin_abort(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdAbort c = nvme_cmd_abort(&req->cmd);
    uint16_t sqid = c.sqid, cid = c.cid;
    NvmeRequest *r;

    req->dw0 = NVME_ABORT_DW0_NOT_ABORTED;
    if (sqid >= n->num_queues || n->sq[sqid].state != NVME_QUEUE_ACTIVE) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "abort: SQ %u does not exist", sqid);
    }
    /* only AERs can be aborted: look among them (as stock does) */
    r = sqid == NVME_ADMIN_QID ? nvme_admin_aer_take(n, cid) : NULL;
    if (r) {
        r->status = NVME_ABORT_REQUESTED;
        nvme_engine_complete(r);
        req->dw0 = NVME_ABORT_DW0_ABORTED;
    }
    trace_nvme_dev_abort(sqid, cid, req->dw0 == NVME_ABORT_DW0_ABORTED);
    return NVME_SUCCESS;
}

static uint16_t nvme_admin_keep_alive(NvmeCtrl *n, NvmeRequest *req)
{
    nvme_admin_kato_arm(n);
    return NVME_SUCCESS;
}

/*
 * Format NVM runs in the background when it erases (SES=1): the erase is
 * an asynchronous write of zeroes that may unmap, so a large namespace
 * does not stall the main loop.  Until it ends the namespace answers
 * I/O with Format In Progress; the new LBA format applies at the end.
 */
static void nvme_admin_format_done(NvmeCtrl *n, NvmeRequest *req, int ret)
{
    int saved = 0;

    /*
     * The subsystem's namespaces: one detached meanwhile still ends its
     * format; each controller it is attached to is told of the change
     */
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        NvmeNs *ns = nvme_subsys_ns(n->subsys, i);

        if (!ns || ns->format_req != req) {
            continue;
        }
        ns->format_req = NULL;
        if (!ret && !nvme_ns_format(ns, ns->format_lbaf, ns->format_mset,
                                    ns->format_pi, ns->format_pil)) {
            nvme_subsys_ns_changed(n->subsys, ns);
            /* a created namespace keeps its format (nsmgmt.c) */
            saved = saved ?: nvme_nsmgmt_format_changed(n, ns);
        }
    }
    if (ret) {
        req->status = nvme_err_guest(n, req, NVME_INTERNAL_ERROR,
                                     "format: user data erase failed: "
                                     "%s", strerror(-ret));
    } else if (saved) {
        req->status = nvme_err_guest(n, req, NVME_INTERNAL_ERROR,
                                     "format: cannot record the format in "
                                     "the namespace pool: %s",
                                     strerror(-saved));
    }
}

static void nvme_admin_format_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;

    if (ret && !req->aio_ret) {
        req->aio_ret = ret;
    }
    if (--req->aio_pending) {
        return;
    }
    nvme_admin_format_done(req->sq->ctrl, req, req->aio_ret);
    nvme_engine_complete(req);
}

static void nvme_admin_format_one(NvmeRequest *req, NvmeNs *ns,
                                  const NvmeCmdFormat *c)
{
    uint8_t ses = c->ses;

    nvme_engine_drain(req->sq->ctrl);
    ns->format_req = req;
    ns->format_lbaf = c->lbaf;
    ns->format_mset = c->mset;
    ns->format_pi = c->pi;
    ns->format_pil = c->pil;
    if (ses) {
        req->aio_pending++;
        blk_aio_pwrite_zeroes(ns->blkconf.blk, 0,
                              blk_getlength(ns->blkconf.blk),
                              BDRV_REQ_MAY_UNMAP, nvme_admin_format_cb, req);
    }
    /* the metadata goes with the user data (Base 5.14, SES 1) */
    if (ses && ns->params.meta_blk) {
        req->aio_pending++;
        blk_aio_pwrite_zeroes(ns->params.meta_blk, 0,
                              blk_getlength(ns->params.meta_blk),
                              BDRV_REQ_MAY_UNMAP, nvme_admin_format_cb, req);
    }
}

/* Whether Format NVM for @nsid (or all) applies to namespace @i */
static bool nvme_admin_format_targets(NvmeCtrl *n, uint32_t nsid, uint32_t i)
{
    return n->ns[i] && (nsid == NVME_NSID_BROADCAST || nsid == i);
}

static uint16_t nvme_admin_format(NvmeCtrl *n, NvmeRequest *req)
{
    NvmeCmdFormat c = nvme_cmd_format(&req->cmd);
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    uint8_t lbaf = c.lbaf, ses = c.ses;

    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        uint16_t status;

        if (!nvme_admin_format_targets(n, nsid, i)) {
            continue;
        }
        status = nvme_ns_format_check(n->ns[i], lbaf, c.mset, c.pi, c.pil);
        if (status) {
            return nvme_err_guest(n, req, status,
                                  "format: LBA format %u with pi %u "
                                  "(namespace %u)", lbaf, c.pi, i);
        }
    }
    if (ses > NVME_FORMAT_SES_USER_DATA) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "format: crypto erase requested (ses %u)",
                              ses);
    }
    if (nsid != NVME_NSID_BROADCAST && !nvme_ns_lookup(n, nsid)) {
        return nvme_err_guest(n, req, NVME_INVALID_NSID,
                              "format: namespace 0x%x", nsid);
    }
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        if (n->ns[i] && n->ns[i]->format_req) {
            return nvme_err_guest(n, req, NVME_FORMAT_IN_PROGRESS,
                                  "format: namespace %u is being "
                                  "formatted", i);
        }
    }
    /* a new LBA format changes a read-only namespace too: refused */
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        if (nvme_admin_format_targets(n, nsid, i) &&
            !blk_is_writable(n->ns[i]->blkconf.blk)) {
            return nvme_err_guest(n, req, NVME_NS_WRITE_PROTECTED,
                                  "format: namespace %u is read-only",
                                  i);
        }
    }
    /* one extra count so that no erase completes the command early */
    req->aio_pending = 1;
    for (uint32_t i = 1; i <= NVME_MAX_NAMESPACES; i++) {
        if (nvme_admin_format_targets(n, nsid, i)) {
            nvme_admin_format_one(req, n->ns[i], &c);
        }
    }
    nvme_admin_format_cb(req, 0);
    return NVME_NO_COMPLETE;
}

static uint16_t nvme_admin_get_log(NvmeCtrl *n, NvmeRequest *req)
{
    return nvme_log_get(n, req);
}

static uint16_t nvme_admin_aer(NvmeCtrl *n, NvmeRequest *req)
{
    return nvme_log_aer(n, req);
}

/*
 * Doorbell Buffer Config (Base 5.8): PRP1 is the shadow doorbell buffer,
 * PRP2 the EventIdx buffer, each page aligned in guest RAM.  Offered with
 * dbcs=on (OACS bit 8), as stock does by default.
 */
static uint16_t nvme_admin_dbbuf_config(NvmeCtrl *n, NvmeRequest *req)
{
    uint64_t dbs = le64_to_cpu(req->cmd.dptr[0]);
    uint64_t eis = le64_to_cpu(req->cmd.dptr[1]);
    uint64_t page_mask = (1ull << n->page_bits) - 1;
    bool mapped;

    if (!n->params.dbcs) {
        return nvme_err_guest(n, req, NVME_INVALID_OPCODE,
                              "doorbell buffer config with dbcs=off");
    }
    if (dbs & page_mask || eis & page_mask) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "doorbell buffer config: buffers 0x%" PRIx64
                              " / 0x%" PRIx64 " not page aligned", dbs, eis);
    }
    if (!nvme_dma_is_ram(n, dbs, 1ull << n->page_bits) ||
        !nvme_dma_is_ram(n, eis, 1ull << n->page_bits)) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "doorbell buffer config: buffers 0x%" PRIx64
                              " / 0x%" PRIx64 " not in guest RAM", dbs, eis);
    }
    mapped = nvme_q_dbbuf_setup(n, dbs, eis);
    /*
     * A failed mapping has turned shadow doorbells off: the doorbell
     * eventfds follow either way, or an MMIO tail write would land in an
     * eventfd that carries no value
     */
    nvme_engine_dbbuf_changed(n);
    if (!mapped) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "doorbell buffer config: buffers 0x%" PRIx64
                              " / 0x%" PRIx64 " cannot be mapped", dbs, eis);
    }
    return NVME_SUCCESS;
}

/* ---- dispatch ------------------------------------------------------------ */

static const NvmeAdminCmd nvme_admin_cmds[NVME_ADM_OPCODE_MAX + 1] = {
    [NVME_ADM_DELETE_SQ] = {
        "DELETE_SQ", nvme_admin_delete_sq, NVME_EFF_CSUPP },
    [NVME_ADM_CREATE_SQ] = {
        "CREATE_SQ", nvme_admin_create_sq, NVME_EFF_CSUPP },
    [NVME_ADM_GET_LOG_PAGE] = {
        "GET_LOG_PAGE", nvme_admin_get_log, NVME_EFF_CSUPP },
    [NVME_ADM_DELETE_CQ] = {
        "DELETE_CQ", nvme_admin_delete_cq, NVME_EFF_CSUPP },
    [NVME_ADM_CREATE_CQ] = {
        "CREATE_CQ", nvme_admin_create_cq, NVME_EFF_CSUPP },
    [NVME_ADM_IDENTIFY] = {
        "IDENTIFY", nvme_admin_identify, NVME_EFF_CSUPP },
    [NVME_ADM_ABORT] = {
        "ABORT", nvme_admin_abort, NVME_EFF_CSUPP },
    [NVME_ADM_SET_FEATURES] = {
        "SET_FEATURES", nvme_admin_set_features,
        NVME_EFF_CSUPP | NVME_EFF_CCC },
    [NVME_ADM_GET_FEATURES] = {
        "GET_FEATURES", nvme_admin_get_features, NVME_EFF_CSUPP },
    [NVME_ADM_ASYNC_EVENT] = {
        "ASYNC_EVENT", nvme_admin_aer, NVME_EFF_CSUPP },
    [NVME_ADM_NS_MGMT] = {
        "NS_MGMT", nvme_nsmgmt_cmd,
        NVME_EFF_CSUPP | NVME_EFF_NIC | NVME_EFF_NCC },
    [NVME_ADM_NS_ATTACHMENT] = {
        "NS_ATTACHMENT", nvme_subsys_attach_cmd,
        NVME_EFF_CSUPP | NVME_EFF_NIC },
    [NVME_ADM_KEEP_ALIVE] = {
        "KEEP_ALIVE", nvme_admin_keep_alive, NVME_EFF_CSUPP },
    [NVME_ADM_DBBUF_CONFIG] = {
        "DBBUF_CONFIG", nvme_admin_dbbuf_config, NVME_EFF_CSUPP },
    [NVME_ADM_FORMAT_NVM] = {
        "FORMAT_NVM", nvme_admin_format,
        NVME_EFF_CSUPP | NVME_EFF_LBCC | NVME_EFF_NCC |
        NVME_EFF_CSE_ALL_NS },
};

void nvme_admin_init(NvmeCtrl *n)
{
    n->kato_timer = aio_timer_new(n->ctx, QEMU_CLOCK_VIRTUAL, SCALE_MS,
                                  nvme_admin_kato_expired, n);
    nvme_admin_features_reset(n);
}

void nvme_admin_fini(NvmeCtrl *n)
{
    timer_free(n->kato_timer);
    n->kato_timer = NULL;
}

static uint32_t nvme_admin_effects(NvmeCtrl *n, uint8_t opcode)
{
    if (opcode == NVME_ADM_DBBUF_CONFIG && !n->params.dbcs) {
        return 0;   /* not offered (OACS bit 8 clear) */
    }
    if (opcode == NVME_ADM_NS_MGMT && !nvme_nsmgmt_offered(n)) {
        return 0;   /* no namespace pool (docs/nvme.md) */
    }
    return nvme_admin_cmds[opcode].effects;
}

static const char *nvme_admin_name(uint8_t opcode)
{
    return nvme_admin_cmds[opcode].name ?: "unknown";
}

static uint16_t nvme_admin_exec(NvmeCtrl *n, NvmeRequest *req)
{
    const NvmeAdminCmd *cmd = &nvme_admin_cmds[req->opcode];
    uint32_t cdw0 = le32_to_cpu(req->cmd.cdw0);

    trace_nvme_dev_admin_cmd(req->cid, req->opcode,
                             nvme_admin_name(req->opcode));
    if (!cmd->exec) {
        return nvme_err_guest(n, req, NVME_INVALID_OPCODE,
                              "admin opcode 0x%x", req->opcode);
    }
    if (FIELD_EX32(cdw0, NVME_CDW0, FUSE)) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "fused admin command %s", cmd->name);
    }
    /* admin commands use PRPs on PCIe (PCIe Transport 4.1) */
    if (FIELD_EX32(cdw0, NVME_CDW0, PSDT) != NVME_PSDT_PRP) {
        return nvme_err_guest(n, req, NVME_INVALID_FIELD,
                              "admin command %s with SGL", cmd->name);
    }
    return cmd->exec(n, req);
}

const NvmeCmdSet nvme_admin_cmdset = {
    .exec = nvme_admin_exec,
    .effects = nvme_admin_effects,
};
