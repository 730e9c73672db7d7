/*
 * Live migration of the nvme controller (and snapshots): what goes in the
 * migration stream, and the engine paused while the VM is stopped.
 *
 * When the VM stops (before the block layer is drained and long before
 * the device state is saved) the engine is paused: nothing more is
 * fetched, the commands in the block layer finish and their completions
 * are posted (nvme_engine_pause).  What is saved is then quiet:
 *   - the registers, the PCI function and its MSI-X table (QEMU's own
 *     sections), the INTx level;
 *   - every queue that exists: ring address, size, head and tail, phase,
 *     vector and IEN, priority, the doorbell values the host wrote and
 *     the engine has not taken yet (an SQ tail rung but not fetched, a CQ
 *     head), and whether a bad shadow value was reported;
 *   - the shadow doorbell and EventIdx buffer addresses (the buffers are
 *     guest RAM and migrate with it; the destination maps them again
 *     without writing them);
 *   - commands fetched and not completed: Asynchronous Event Requests
 *     (they hold no I/O), by command id; commands a werror=/rerror=stop
 *     error action holds (out of the block layer, waiting for `cont`),
 *     by SQ and the SQE as fetched, in a subsection sent only when one is
 *     held; and completions not posted yet (no room in their CQ, or a
 *     fatal controller);
 *   - features (arbitration, power, temperature, number of queues,
 *     interrupt coalescing and per-vector configuration, async event
 *     configuration, keep alive, timestamp, host behavior, write
 *     atomicity), SMART counters, the Error Information log, the Changed
 *     Namespace List, queued async events and the masked event types;
 *   - per namespace of the controller's subsystem: its LBA format (Format
 *     NVM), metadata and PI settings, Error Recovery, volatile write cache
 *     and whether it is attached to this controller.
 * Commands the host wrote to an SQ and rang, but the engine had not
 * fetched, stay in guest RAM with the SQ tail and are fetched by the
 * destination when its VM runs.  Timers are not migrated: keep alive is
 * re-armed with a whole KATO, a vector holding coalesced entries gets a
 * whole aggregation time.
 *
 * The nvme-ns and nvme-subsys devices have no section of their own: a
 * namespace's state travels in the section of each controller of its
 * subsystem (the same values), and a subsystem holds no state but its
 * namespaces and controllers.  Both must be given to the destination with
 * the same properties; a namespace present on only one side, or a queue
 * count, MSI-X size or AERL that differs, makes the load fail with an
 * error naming it.
 *
 * A held command is taken again on the destination as the source held
 * it (its SQ entry consumed, a slot of its CQ promised, no I/O started):
 * when the VM runs there, it is executed again from its SQE like any held
 * command (nvme_engine_retry_bh), so it completes once, on the destination.
 *
 * Stream: section "nvqemu-nvme" version 1, with the subsection
 * "nvqemu-nvme/state/held" when commands are held (a destination that
 * predates it refuses only those streams).  Stock QEMU's nvme refuses to
 * migrate, so there is no stream of its to accept.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "hw/pci/msix.h"
#include "migration/vmstate.h"
#include "system/runstate.h"
#include "nvme.h"
#include "trace.h"

enum {
    NVME_VMSTATE_VERSION = 1,
};

/* What a saved request is waiting for */
typedef enum NvmeVmReqKind {
    NVME_VM_REQ_AER,            /* an outstanding AER (admin SQ) */
    NVME_VM_REQ_DONE,           /* completed, its CQE not posted yet */
} NvmeVmReqKind;

typedef struct NvmeVmCq {
    uint16_t cqid;
    uint16_t vector;
    bool ien;
    uint8_t phase;
    bool shadow_bad;
    uint32_t size;
    uint32_t head;
    uint32_t db_head;
    uint32_t tail;
    uint32_t db_seen;
    uint64_t dma_addr;
} NvmeVmCq;

typedef struct NvmeVmSq {
    uint16_t sqid;
    uint16_t cqid;
    uint8_t prio;
    bool shadow_bad;
    bool paused;
    uint32_t size;
    uint32_t head;
    uint32_t tail;
    uint32_t db_tail;
    uint32_t db_seen;
    uint64_t dma_addr;
} NvmeVmSq;

typedef struct NvmeVmReq {
    uint16_t sqid;
    uint16_t cid;
    uint8_t opcode;
    uint8_t kind;               /* NvmeVmReqKind */
    uint16_t status;
    uint32_t dw0;
    uint32_t dw1;
} NvmeVmReq;

/* A command held for the drive's error action: re-executed from its SQE */
typedef struct NvmeVmHeld {
    uint16_t sqid;
    NvmeSqe sqe;                /* as fetched (wire order) */
} NvmeVmHeld;

typedef struct NvmeVmVec {
    uint16_t index;
    bool cd;
    uint32_t aggregated;
} NvmeVmVec;

typedef struct NvmeVmNs {
    uint32_t nsid;
    uint8_t lbaf;
    bool mset;
    uint8_t pi_type;
    bool pil;
    bool wce;
    bool attached;              /* to the controller of this section */
    uint32_t err_rec;
} NvmeVmNs;

/* The part of the stream built from the controller at save time */
typedef struct NvmeVmCtrl {
    NvmeCtrl *parent;
    /* the configuration both sides must share */
    uint64_t cap;
    uint32_t num_queues;
    uint32_t aer_max_queued;
    uint16_t msix_qsize;
    uint8_t aerl;
    bool msix_exclusive_bar;
    /* state */
    uint32_t state;             /* NvmeCtrlState */
    bool dbbuf_on;
    uint64_t dbbuf_dbs;
    uint64_t dbbuf_eis;
    int32_t ncq, nsq, nreq, nvec, nns, nheld;
    NvmeVmCq *cqs;
    NvmeVmSq *sqs;
    NvmeVmReq *reqs;
    NvmeVmHeld *held;           /* the "held" subsection */
    NvmeVmVec *vecs;
    NvmeVmNs *nss;
    uint32_t aer_len;           /* bytes of aer_buf */
    uint8_t *aer_buf;           /* NvmeAsyncEvent entries */
} NvmeVmCtrl;

static int nvme_vmstate_refuse(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Why a save or load cannot go on, for the user and the trace */
static int nvme_vmstate_refuse(const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    trace_nvme_dev_vmstate_refused(msg);
    error_report("nvme migration: %s", msg);
    return -EINVAL;
}

/* ---- save ---------------------------------------------------------------- */

static bool nvme_vmstate_is_aer(NvmeCtrl *n, NvmeRequest *req)
{
    for (unsigned i = 0; i < n->aer_outstanding; i++) {
        if (n->aer_reqs[i] == req) {
            return true;
        }
    }
    return false;
}

static int nvme_vmstate_pre_save(void *opaque)
{
    NvmeCtrl *n = opaque;
    NvmeSQueue *sq;

    if (!qatomic_read(&n->vm_stopped)) {
        return nvme_vmstate_refuse("%s: saved while the VM runs",
                                   n->params.serial);
    }
    nvme_irq_flush(n);
    if (n->inflight) {
        return nvme_vmstate_refuse("%s: %u commands still in the block "
                                   "layer", n->params.serial, n->inflight);
    }
    QTAILQ_FOREACH(sq, &n->active_sqs, active_entry) {
        NvmeRequest *req;

        QTAILQ_FOREACH(req, &sq->out_list, entry) {
            /* (a held command is out of the flight count) */
            if (!nvme_vmstate_is_aer(n, req) && !req->held) {
                return nvme_vmstate_refuse("%s: command 0x%x (cid %u) of "
                                           "SQ %u still outstanding",
                                           n->params.serial, req->opcode,
                                           req->cid, sq->sqid);
            }
        }
    }
    return 0;
}

static void nvme_vmstate_save_queues(NvmeVmCtrl *t, NvmeCtrl *n)
{
    NvmeSQueue *sq;
    NvmeCQueue *cq;
    int32_t ndone = 0, nheld = 0;

    t->ncq = t->nsq = 0;
    QTAILQ_FOREACH(cq, &n->active_cqs, active_entry) {
        NvmeRequest *req;

        t->ncq++;
        QTAILQ_FOREACH(req, &cq->done_list, entry) {
            ndone++;
        }
    }
    QTAILQ_FOREACH(sq, &n->active_sqs, active_entry) {
        NvmeRequest *req;

        t->nsq++;
        QTAILQ_FOREACH(req, &sq->out_list, entry) {
            nheld += req->held;
        }
    }
    t->cqs = g_new0(NvmeVmCq, t->ncq);
    t->sqs = g_new0(NvmeVmSq, t->nsq);
    t->nreq = n->aer_outstanding + ndone;
    t->reqs = g_new0(NvmeVmReq, t->nreq);
    t->held = g_new0(NvmeVmHeld, nheld);

    t->ncq = t->nsq = t->nreq = t->nheld = 0;
    QTAILQ_FOREACH(cq, &n->active_cqs, active_entry) {
        t->cqs[t->ncq++] = (NvmeVmCq) {
            .cqid = cq->cqid, .vector = cq->vector, .ien = cq->ien,
            .phase = cq->phase, .shadow_bad = cq->shadow_bad,
            .size = cq->size, .head = cq->head,
            .db_head = qatomic_read(&cq->db_head), .tail = cq->tail,
            .db_seen = cq->db_seen, .dma_addr = cq->dma_addr,
        };
    }
    QTAILQ_FOREACH(sq, &n->active_sqs, active_entry) {
        NvmeRequest *req;

        /* in the order the retry runs them */
        QTAILQ_FOREACH(req, &sq->out_list, entry) {
            if (req->held) {
                t->held[t->nheld++] = (NvmeVmHeld) {
                    .sqid = sq->sqid, .sqe = req->cmd,
                };
            }
        }
        t->sqs[t->nsq++] = (NvmeVmSq) {
            .sqid = sq->sqid, .cqid = sq->cqid, .prio = sq->prio,
            .shadow_bad = sq->shadow_bad, .paused = sq->paused,
            .size = sq->size, .head = sq->head, .tail = sq->tail,
            .db_tail = qatomic_read(&sq->db_tail), .db_seen = sq->db_seen,
            .dma_addr = sq->dma_addr,
        };
    }
    /* in the order the controller completes them */
    for (unsigned i = 0; i < n->aer_outstanding; i++) {
        NvmeRequest *req = n->aer_reqs[i];

        t->reqs[t->nreq++] = (NvmeVmReq) {
            .sqid = req->sq->sqid, .cid = req->cid, .opcode = req->opcode,
            .kind = NVME_VM_REQ_AER,
        };
    }
    QTAILQ_FOREACH(cq, &n->active_cqs, active_entry) {
        NvmeRequest *req;

        QTAILQ_FOREACH(req, &cq->done_list, entry) {
            t->reqs[t->nreq++] = (NvmeVmReq) {
                .sqid = req->sq->sqid, .cid = req->cid,
                .opcode = req->opcode, .kind = NVME_VM_REQ_DONE,
                .status = req->status, .dw0 = req->dw0, .dw1 = req->dw1,
            };
        }
    }
}

static void nvme_vmstate_save_vectors(NvmeVmCtrl *t, NvmeCtrl *n)
{
    t->nvec = 0;
    for (uint32_t i = 0; i < n->params.msix_qsize; i++) {
        t->nvec += n->vec[i].cd || n->vec[i].aggregated;
    }
    t->vecs = g_new0(NvmeVmVec, t->nvec);
    t->nvec = 0;
    for (uint32_t i = 0; i < n->params.msix_qsize; i++) {
        NvmeVector *v = &n->vec[i];

        if (v->cd || v->aggregated) {
            t->vecs[t->nvec++] = (NvmeVmVec) {
                .index = i, .cd = v->cd, .aggregated = v->aggregated,
            };
        }
    }
}

static void nvme_vmstate_save_ns(NvmeVmCtrl *t, NvmeCtrl *n)
{
    t->nns = 0;
    t->nss = g_new0(NvmeVmNs, NVME_MAX_NAMESPACES);
    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNs *ns = nvme_subsys_ns(n->subsys, nsid);

        if (!ns) {
            continue;
        }
        t->nss[t->nns++] = (NvmeVmNs) {
            .nsid = nsid, .lbaf = ns->lbaf, .mset = ns->mset,
            .pi_type = ns->pi_type, .pil = ns->pil,
            .wce = nvme_ns_write_cache(ns),
            .attached = nvme_subsys_ns_attached(ns, n),
            .err_rec = ns->err_rec,
        };
    }
}

static int nvme_vmstate_tmp_pre_save(void *opaque)
{
    NvmeVmCtrl *t = opaque;
    NvmeCtrl *n = t->parent;

    t->cap = n->cap;
    t->num_queues = n->num_queues;
    t->aer_max_queued = n->params.aer_max_queued;
    t->msix_qsize = n->params.msix_qsize;
    t->aerl = n->params.aerl;
    t->msix_exclusive_bar = n->params.msix_exclusive_bar;
    t->state = n->state;
    t->dbbuf_on = n->dbbuf_on;
    t->dbbuf_dbs = n->dbbuf_dbs;
    t->dbbuf_eis = n->dbbuf_eis;
    nvme_vmstate_save_queues(t, n);
    nvme_vmstate_save_vectors(t, n);
    nvme_vmstate_save_ns(t, n);
    t->aer_len = n->aer_queue->len * sizeof(NvmeAsyncEvent);
    t->aer_buf = g_memdup2(n->aer_queue->data, t->aer_len);
    trace_nvme_dev_vmstate_save(t->nsq, t->ncq, t->nreq, t->nheld, t->nns);
    return 0;
}

static void nvme_vmstate_tmp_free(NvmeVmCtrl *t)
{
    g_free(t->cqs);
    g_free(t->sqs);
    g_free(t->reqs);
    g_free(t->held);
    g_free(t->vecs);
    g_free(t->nss);
    g_free(t->aer_buf);
}

static int nvme_vmstate_tmp_post_save(void *opaque)
{
    nvme_vmstate_tmp_free(opaque);
    return 0;
}

/* ---- load ---------------------------------------------------------------- */

static int nvme_vmstate_tmp_pre_load(void *opaque)
{
    NvmeVmCtrl *t = opaque;
    NvmeCtrl *parent = t->parent;

    /* arrays of no element are not allocated by the loader */
    memset(t, 0, sizeof(*t));
    t->parent = parent;
    return 0;
}

/*
 * The counts of the arrays that follow them in the stream, checked before
 * the loader allocates the arrays (VMSTATE_VALIDATE): a stream is input
 * too, and a count of -1 or of 2^31 bytes would have g_malloc() abort.
 * What the source can have sent: at most one CQ and SQ per queue, one
 * record per vector and namespace, one request (done, AER or held) per SQ
 * entry, the queued events aer_max_queued allows.  On the save side the
 * same checks hold by construction.
 */
static bool nvme_vmstate_count_ok(NvmeCtrl *n, const char *what,
                                  int64_t count, uint64_t max)
{
    if (count >= 0 && count <= max) {
        return true;
    }
    nvme_vmstate_refuse("%s: %" PRId64 " %s in the stream, at most %" PRIu64
                        " possible", n->params.serial, count, what, max);
    return false;
}

static bool nvme_vmstate_valid_counts(void *opaque, int version_id)
{
    NvmeVmCtrl *t = opaque;
    NvmeCtrl *n = t->parent;

    return nvme_vmstate_count_ok(n, "CQs", t->ncq, n->num_queues) &&
           nvme_vmstate_count_ok(n, "SQs", t->nsq, n->num_queues) &&
           nvme_vmstate_count_ok(n, "vectors", t->nvec,
                                 n->params.msix_qsize) &&
           nvme_vmstate_count_ok(n, "namespaces", t->nns,
                                 NVME_MAX_NAMESPACES);
}

/* The entries of the stream's SQs (loaded), each at most CAP.MQES + 1 */
static uint64_t nvme_vmstate_sq_entries(const NvmeVmCtrl *t)
{
    uint64_t max = FIELD_EX64(t->parent->cap, NVME_CAP, MQES) + 1;
    uint64_t sum = 0;

    for (int32_t i = 0; i < t->nsq; i++) {
        sum += MIN(t->sqs[i].size, max);
    }
    return sum;
}

static bool nvme_vmstate_valid_nreq(void *opaque, int version_id)
{
    NvmeVmCtrl *t = opaque;

    return nvme_vmstate_count_ok(t->parent, "requests", t->nreq,
                                 nvme_vmstate_sq_entries(t));
}

static bool nvme_vmstate_valid_aer_len(void *opaque, int version_id)
{
    NvmeVmCtrl *t = opaque;
    NvmeCtrl *n = t->parent;

    return nvme_vmstate_count_ok(n, "bytes of queued async events",
                                 t->aer_len, (uint64_t)sizeof(NvmeAsyncEvent) *
                                 n->params.aer_max_queued);
}

static bool nvme_vmstate_valid_nheld(void *opaque, int version_id)
{
    NvmeVmCtrl *t = opaque;

    return nvme_vmstate_count_ok(t->parent, "held commands", t->nheld,
                                 nvme_vmstate_sq_entries(t));
}

static int nvme_vmstate_check_config(NvmeVmCtrl *t, NvmeCtrl *n)
{
    const char *s = n->params.serial;

    if (t->cap != n->cap) {
        return nvme_vmstate_refuse("%s: CAP 0x%" PRIx64 " on the source, "
                                   "0x%" PRIx64 " here (mqes, dstrd)", s,
                                   t->cap, n->cap);
    }
    if (t->num_queues != n->num_queues) {
        return nvme_vmstate_refuse("%s: max_ioqpairs %u on the source, %u "
                                   "here", s, t->num_queues - 1,
                                   n->num_queues - 1);
    }
    if (t->msix_qsize != n->params.msix_qsize ||
        t->msix_exclusive_bar != n->params.msix_exclusive_bar) {
        return nvme_vmstate_refuse("%s: msix_qsize/msix-exclusive-bar "
                                   "%u/%d on the source, %u/%d here", s,
                                   t->msix_qsize, t->msix_exclusive_bar,
                                   n->params.msix_qsize,
                                   n->params.msix_exclusive_bar);
    }
    if (t->aerl != n->params.aerl ||
        t->aer_max_queued != n->params.aer_max_queued) {
        return nvme_vmstate_refuse("%s: aerl/aer_max_queued %u/%u on the "
                                   "source, %u/%u here", s, t->aerl,
                                   t->aer_max_queued, n->params.aerl,
                                   n->params.aer_max_queued);
    }
    if (t->state > NVME_CTRL_FATAL) {
        return nvme_vmstate_refuse("%s: controller state %u", s, t->state);
    }
    if ((t->state != NVME_CTRL_DISABLED &&
         (n->page_bits < NVME_MIN_PAGE_BITS ||
          n->page_bits > NVME_MIN_PAGE_BITS +
                         FIELD_EX64(n->cap, NVME_CAP, MPSMAX))) ||
        n->changed_ns_count > NVME_CHANGED_NS_MAX) {
        return nvme_vmstate_refuse("%s: bad page size or changed namespace "
                                   "count", s);
    }
    return 0;
}

/* A ring of @size entries of @esize bytes at @addr in guest RAM */
static bool nvme_vmstate_ring_ok(NvmeCtrl *n, uint16_t qid, uint32_t size,
                                 uint64_t addr, size_t esize)
{
    uint32_t max = qid == NVME_ADMIN_QID ? NVME_ADMIN_QSIZE_MAX
                                         : FIELD_EX64(n->cap, NVME_CAP,
                                                      MQES) + 1;

    return qid < n->num_queues && size >= 2 && size <= max &&
           nvme_dma_is_ram(n, addr, (uint64_t)size * esize);
}

static int nvme_vmstate_load_cqs(NvmeVmCtrl *t, NvmeCtrl *n)
{
    for (int32_t i = 0; i < t->ncq; i++) {
        NvmeVmCq *c = &t->cqs[i];
        NvmeCQueue *cq;

        if (!nvme_vmstate_ring_ok(n, c->cqid, c->size, c->dma_addr,
                                  sizeof(NvmeCqe)) ||
            n->cq[c->cqid].state != NVME_QUEUE_FREE ||
            c->vector >= n->params.msix_qsize || c->phase > 1 ||
            c->head >= c->size || c->tail >= c->size ||
            c->db_head >= c->size) {
            return nvme_vmstate_refuse("%s: bad CQ %u", n->params.serial,
                                       c->cqid);
        }
        nvme_q_cq_create(n, c->cqid, c->dma_addr, c->size, c->vector,
                         c->ien);
        cq = &n->cq[c->cqid];
        cq->phase = c->phase;
        cq->head = c->head;
        cq->db_head = c->db_head;
        cq->tail = cq->tail_next = c->tail;
        cq->db_seen = c->db_seen;
        cq->shadow_bad = c->shadow_bad;
    }
    return 0;
}

static int nvme_vmstate_load_sqs(NvmeVmCtrl *t, NvmeCtrl *n)
{
    for (int32_t i = 0; i < t->nsq; i++) {
        NvmeVmSq *s = &t->sqs[i];
        NvmeSQueue *sq;

        if (!nvme_vmstate_ring_ok(n, s->sqid, s->size, s->dma_addr,
                                  sizeof(NvmeSqe)) ||
            n->sq[s->sqid].state != NVME_QUEUE_FREE ||
            s->cqid >= n->num_queues ||
            n->cq[s->cqid].state != NVME_QUEUE_ACTIVE ||
            (s->sqid == NVME_ADMIN_QID) != (s->cqid == NVME_ADMIN_QID) ||
            s->prio >= NVME_ARB_NUM_CLASSES || s->head >= s->size ||
            s->tail >= s->size || s->db_tail >= s->size) {
            return nvme_vmstate_refuse("%s: bad SQ %u", n->params.serial,
                                       s->sqid);
        }
        nvme_q_sq_create(n, s->sqid, s->cqid, s->dma_addr, s->size,
                         s->prio);
        sq = &n->sq[s->sqid];
        sq->head = s->head;
        sq->tail = s->tail;
        sq->db_tail = s->db_tail;
        sq->db_seen = s->db_seen;
        sq->shadow_bad = s->shadow_bad;
        sq->paused = s->paused;
    }
    return 0;
}

/*
 * A request of the stream takes a free request of its SQ again: an AER
 * goes back to waiting (holding no CQ slot, as nvme_engine_park leaves
 * it), a completion to its CQ's done list (holding its slot).
 */
static int nvme_vmstate_load_reqs(NvmeVmCtrl *t, NvmeCtrl *n)
{
    for (int32_t i = 0; i < t->nreq; i++) {
        NvmeVmReq *r = &t->reqs[i];
        NvmeSQueue *sq = r->sqid < n->num_queues ? &n->sq[r->sqid] : NULL;
        NvmeRequest *req;
        uint32_t cdw0;

        if (!sq || sq->state != NVME_QUEUE_ACTIVE ||
            QTAILQ_EMPTY(&sq->free_list) || r->kind > NVME_VM_REQ_DONE ||
            (r->kind == NVME_VM_REQ_AER &&
             (r->sqid != NVME_ADMIN_QID ||
              n->aer_outstanding > n->params.aerl))) {
            return nvme_vmstate_refuse("%s: bad request (SQ %u cid %u)",
                                       n->params.serial, r->sqid, r->cid);
        }
        req = QTAILQ_FIRST(&sq->free_list);
        QTAILQ_REMOVE(&sq->free_list, req, entry);
        memset(&req->cmd, 0, sizeof(req->cmd));
        cdw0 = FIELD_DP32(0, NVME_CDW0, OPC, r->opcode);
        cdw0 = FIELD_DP32(cdw0, NVME_CDW0, CID, r->cid);
        req->cmd.cdw0 = cpu_to_le32(cdw0);
        req->ns = NULL;
        req->cid = r->cid;
        req->opcode = r->opcode;
        req->status = r->status;
        req->dw0 = r->dw0;
        req->dw1 = r->dw1;
        req->in_flight = false;
        req->settled = true;
        if (r->kind == NVME_VM_REQ_AER) {
            QTAILQ_INSERT_TAIL(&sq->out_list, req, entry);
            n->aer_reqs[n->aer_outstanding++] = req;
        } else {
            nvme_q_cq_slot_take(nvme_sq_cq(sq), req);
            QTAILQ_INSERT_TAIL(&nvme_sq_cq(sq)->done_list, req, entry);
        }
    }
    return 0;
}

/*
 * A command the source held (werror=/rerror=stop) is held here too, on
 * its SQ, with a free request and a slot of its CQ as on the source; the
 * VM running executes it again from its SQE.
 */
static int nvme_vmstate_load_held(NvmeVmCtrl *t, NvmeCtrl *n)
{
    for (int32_t i = 0; i < t->nheld; i++) {
        NvmeVmHeld *h = &t->held[i];
        NvmeSQueue *sq = h->sqid < n->num_queues ? &n->sq[h->sqid] : NULL;
        uint16_t cid = FIELD_EX32(le32_to_cpu(h->sqe.cdw0), NVME_CDW0, CID);

        if (!sq || sq->state != NVME_QUEUE_ACTIVE) {
            return nvme_vmstate_refuse("%s: command held for the error "
                                       "action (cid %u) on SQ %u, which "
                                       "does not exist", n->params.serial,
                                       cid, h->sqid);
        }
        if (!h->sqid) {
            /* only I/O commands take the drive's error action */
            return nvme_vmstate_refuse("%s: admin command (cid %u) held "
                                       "for the error action",
                                       n->params.serial, cid);
        }
        if (QTAILQ_EMPTY(&sq->free_list) ||
            !nvme_q_cq_room(nvme_sq_cq(sq))) {
            return nvme_vmstate_refuse("%s: command held for the error "
                                       "action (cid %u) on SQ %u: no free "
                                       "entry or CQ slot left for it",
                                       n->params.serial, cid, h->sqid);
        }
        nvme_engine_hold_sqe(sq, &h->sqe);
    }
    return 0;
}

static int nvme_vmstate_load_vectors(NvmeVmCtrl *t, NvmeCtrl *n)
{
    for (int32_t i = 0; i < t->nvec; i++) {
        NvmeVmVec *v = &t->vecs[i];

        if (v->index >= n->params.msix_qsize) {
            return nvme_vmstate_refuse("%s: bad vector %u", n->params.serial,
                                       v->index);
        }
        n->vec[v->index].cd = v->cd;
        n->vec[v->index].aggregated = v->aggregated;
    }
    return 0;
}

static NvmeVmNs *nvme_vmstate_find_ns(NvmeVmCtrl *t, uint32_t nsid)
{
    for (int32_t i = 0; i < t->nns; i++) {
        if (t->nss[i].nsid == nsid) {
            return &t->nss[i];
        }
    }
    return NULL;
}

/* The namespaces of both sides must be the same ones */
static int nvme_vmstate_load_ns(NvmeVmCtrl *t, NvmeCtrl *n)
{
    const char *s = n->params.serial;

    for (uint32_t nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNs *ns = nvme_subsys_ns(n->subsys, nsid);
        NvmeVmNs *v = nvme_vmstate_find_ns(t, nsid);

        if (!ns && !v) {
            continue;
        }
        if (!ns || !v) {
            return nvme_vmstate_refuse("%s: namespace %u exists %s only", s,
                                       nsid, ns ? "here" : "on the source");
        }
        if (v->lbaf != ns->lbaf || v->mset != ns->mset ||
            v->pi_type != ns->pi_type || v->pil != ns->pil) {
            if (nvme_ns_format(ns, v->lbaf, v->mset, v->pi_type, v->pil)) {
                return nvme_vmstate_refuse("%s: namespace %u: LBA format %u "
                                           "(pi %u) of the source is not "
                                           "possible here", s, nsid, v->lbaf,
                                           v->pi_type);
            }
        }
        ns->err_rec = v->err_rec;
        nvme_ns_set_write_cache(ns, v->wce);
        n->ns[nsid] = v->attached ? ns : NULL;
    }
    return 0;
}

static int nvme_vmstate_load_aer_queue(NvmeVmCtrl *t, NvmeCtrl *n)
{
    uint32_t count = t->aer_len / sizeof(NvmeAsyncEvent);

    if (t->aer_len % sizeof(NvmeAsyncEvent) ||
        count > n->params.aer_max_queued) {
        return nvme_vmstate_refuse("%s: %u bytes of queued async events",
                                   n->params.serial, t->aer_len);
    }
    g_array_set_size(n->aer_queue, 0);
    g_array_append_vals(n->aer_queue, t->aer_buf, count);
    return 0;
}

/* The load, in order: CQs before the SQs and requests that use them */
static int (*const nvme_vmstate_load_steps[])(NvmeVmCtrl *t, NvmeCtrl *n) = {
    nvme_vmstate_check_config,
    nvme_vmstate_load_cqs,
    nvme_vmstate_load_sqs,
    nvme_vmstate_load_reqs,
    nvme_vmstate_load_held,
    nvme_vmstate_load_vectors,
    nvme_vmstate_load_ns,
    nvme_vmstate_load_aer_queue,
};

static int nvme_vmstate_apply(NvmeVmCtrl *t, NvmeCtrl *n)
{
    NvmeCmdArbitration a = nvme_cmd_arbitration(n->feat.arbitration);

    for (size_t i = 0; i < ARRAY_SIZE(nvme_vmstate_load_steps); i++) {
        int ret = nvme_vmstate_load_steps[i](t, n);

        if (ret) {
            return ret;
        }
    }
    if (t->dbbuf_on && !nvme_q_dbbuf_map(n, t->dbbuf_dbs, t->dbbuf_eis)) {
        return nvme_vmstate_refuse("%s: shadow doorbell buffers 0x%" PRIx64
                                   "/0x%" PRIx64 " not in guest RAM",
                                   n->params.serial, t->dbbuf_dbs,
                                   t->dbbuf_eis);
    }
    nvme_arb_set_mode(&n->arb, FIELD_EX32(n->cc, NVME_CC, AMS) ==
                      NVME_CC_AMS_WRRU ? NVME_ARB_WRR : NVME_ARB_RR);
    nvme_arb_configure(&n->arb, a.ab, a.hpw, a.mpw, a.lpw);
    n->state = t->state;
    /* the pin level an iothread engine hands to the main loop */
    n->irq_level = n->intx_level;
    if (n->state == NVME_CTRL_ENABLED && n->feat.kato) {
        timer_mod(n->kato_timer, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) +
                  n->feat.kato);
    }
    return 0;
}

static int nvme_vmstate_tmp_post_load(void *opaque, int version_id)
{
    NvmeVmCtrl *t = opaque;
    NvmeCtrl *n = t->parent;
    int ret = nvme_vmstate_apply(t, n);

    if (ret) {
        /* back to a reset controller rather than half a state */
        nvme_regs_reset(n);
    } else {
        nvme_engine_ioeventfd_update(n);
        trace_nvme_dev_vmstate_load(t->nsq, t->ncq, t->nreq, t->nheld,
                                    t->nns);
    }
    nvme_vmstate_tmp_free(t);
    return ret;
}

/* Loaded over a reset controller: no queue, no shadow doorbells */
static int nvme_vmstate_pre_load(void *opaque)
{
    NvmeCtrl *n = opaque;

    if (!qatomic_read(&n->vm_stopped)) {
        return nvme_vmstate_refuse("%s: loaded while the VM runs",
                                   n->params.serial);
    }
    nvme_regs_reset(n);
    return 0;
}

/* ---- the stream ---------------------------------------------------------- */

static const VMStateDescription nvme_vmstate_cq = {
    .name = "nvqemu-nvme/cq",
    .version_id = NVME_VMSTATE_VERSION,
    .minimum_version_id = NVME_VMSTATE_VERSION,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(cqid, NvmeVmCq),
        VMSTATE_UINT16(vector, NvmeVmCq),
        VMSTATE_BOOL(ien, NvmeVmCq),
        VMSTATE_UINT8(phase, NvmeVmCq),
        VMSTATE_BOOL(shadow_bad, NvmeVmCq),
        VMSTATE_UINT32(size, NvmeVmCq),
        VMSTATE_UINT32(head, NvmeVmCq),
        VMSTATE_UINT32(db_head, NvmeVmCq),
        VMSTATE_UINT32(tail, NvmeVmCq),
        VMSTATE_UINT32(db_seen, NvmeVmCq),
        VMSTATE_UINT64(dma_addr, NvmeVmCq),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription nvme_vmstate_sq = {
    .name = "nvqemu-nvme/sq",
    .version_id = NVME_VMSTATE_VERSION,
    .minimum_version_id = NVME_VMSTATE_VERSION,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(sqid, NvmeVmSq),
        VMSTATE_UINT16(cqid, NvmeVmSq),
        VMSTATE_UINT8(prio, NvmeVmSq),
        VMSTATE_BOOL(shadow_bad, NvmeVmSq),
        VMSTATE_BOOL(paused, NvmeVmSq),
        VMSTATE_UINT32(size, NvmeVmSq),
        VMSTATE_UINT32(head, NvmeVmSq),
        VMSTATE_UINT32(tail, NvmeVmSq),
        VMSTATE_UINT32(db_tail, NvmeVmSq),
        VMSTATE_UINT32(db_seen, NvmeVmSq),
        VMSTATE_UINT64(dma_addr, NvmeVmSq),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription nvme_vmstate_req = {
    .name = "nvqemu-nvme/request",
    .version_id = NVME_VMSTATE_VERSION,
    .minimum_version_id = NVME_VMSTATE_VERSION,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(sqid, NvmeVmReq),
        VMSTATE_UINT16(cid, NvmeVmReq),
        VMSTATE_UINT8(opcode, NvmeVmReq),
        VMSTATE_UINT8(kind, NvmeVmReq),
        VMSTATE_UINT16(status, NvmeVmReq),
        VMSTATE_UINT32(dw0, NvmeVmReq),
        VMSTATE_UINT32(dw1, NvmeVmReq),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription nvme_vmstate_held = {
    .name = "nvqemu-nvme/held",
    .version_id = NVME_VMSTATE_VERSION,
    .minimum_version_id = NVME_VMSTATE_VERSION,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(sqid, NvmeVmHeld),
        VMSTATE_BUFFER_UNSAFE(sqe, NvmeVmHeld, 0, sizeof(NvmeSqe)),
        VMSTATE_END_OF_LIST()
    },
};

static bool nvme_vmstate_held_needed(void *opaque)
{
    NvmeVmCtrl *t = opaque;

    return t->nheld > 0;
}

/* Only with commands held, so that every other stream stays the same */
static const VMStateDescription nvme_vmstate_held_sub = {
    .name = "nvqemu-nvme/state/held",
    .version_id = NVME_VMSTATE_VERSION,
    .minimum_version_id = NVME_VMSTATE_VERSION,
    .needed = nvme_vmstate_held_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_INT32(nheld, NvmeVmCtrl),
        VMSTATE_VALIDATE("nheld", nvme_vmstate_valid_nheld),
        VMSTATE_STRUCT_VARRAY_ALLOC(held, NvmeVmCtrl, nheld, 0,
                                    nvme_vmstate_held, NvmeVmHeld),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription nvme_vmstate_vec = {
    .name = "nvqemu-nvme/vector",
    .version_id = NVME_VMSTATE_VERSION,
    .minimum_version_id = NVME_VMSTATE_VERSION,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT16(index, NvmeVmVec),
        VMSTATE_BOOL(cd, NvmeVmVec),
        VMSTATE_UINT32(aggregated, NvmeVmVec),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription nvme_vmstate_ns = {
    .name = "nvqemu-nvme/namespace",
    .version_id = NVME_VMSTATE_VERSION,
    .minimum_version_id = NVME_VMSTATE_VERSION,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(nsid, NvmeVmNs),
        VMSTATE_UINT8(lbaf, NvmeVmNs),
        VMSTATE_BOOL(mset, NvmeVmNs),
        VMSTATE_UINT8(pi_type, NvmeVmNs),
        VMSTATE_BOOL(pil, NvmeVmNs),
        VMSTATE_BOOL(wce, NvmeVmNs),
        VMSTATE_BOOL(attached, NvmeVmNs),
        VMSTATE_UINT32(err_rec, NvmeVmNs),
        VMSTATE_END_OF_LIST()
    },
};

/* VMSTATE_WITH_TMP loads it as version 0: "nvqemu-nvme" carries ours */
static const VMStateDescription nvme_vmstate_tmp = {
    .name = "nvqemu-nvme/state",
    .pre_save = nvme_vmstate_tmp_pre_save,
    .post_save = nvme_vmstate_tmp_post_save,
    .pre_load = nvme_vmstate_tmp_pre_load,
    .post_load = nvme_vmstate_tmp_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(cap, NvmeVmCtrl),
        VMSTATE_UINT32(num_queues, NvmeVmCtrl),
        VMSTATE_UINT32(aer_max_queued, NvmeVmCtrl),
        VMSTATE_UINT16(msix_qsize, NvmeVmCtrl),
        VMSTATE_UINT8(aerl, NvmeVmCtrl),
        VMSTATE_BOOL(msix_exclusive_bar, NvmeVmCtrl),
        VMSTATE_UINT32(state, NvmeVmCtrl),
        VMSTATE_BOOL(dbbuf_on, NvmeVmCtrl),
        VMSTATE_UINT64(dbbuf_dbs, NvmeVmCtrl),
        VMSTATE_UINT64(dbbuf_eis, NvmeVmCtrl),
        VMSTATE_INT32(ncq, NvmeVmCtrl),
        VMSTATE_INT32(nsq, NvmeVmCtrl),
        VMSTATE_INT32(nreq, NvmeVmCtrl),
        VMSTATE_INT32(nvec, NvmeVmCtrl),
        VMSTATE_INT32(nns, NvmeVmCtrl),
        VMSTATE_VALIDATE("counts", nvme_vmstate_valid_counts),
        VMSTATE_STRUCT_VARRAY_ALLOC(cqs, NvmeVmCtrl, ncq, 0,
                                    nvme_vmstate_cq, NvmeVmCq),
        VMSTATE_STRUCT_VARRAY_ALLOC(sqs, NvmeVmCtrl, nsq, 0,
                                    nvme_vmstate_sq, NvmeVmSq),
        VMSTATE_VALIDATE("nreq", nvme_vmstate_valid_nreq),
        VMSTATE_STRUCT_VARRAY_ALLOC(reqs, NvmeVmCtrl, nreq, 0,
                                    nvme_vmstate_req, NvmeVmReq),
        VMSTATE_STRUCT_VARRAY_ALLOC(vecs, NvmeVmCtrl, nvec, 0,
                                    nvme_vmstate_vec, NvmeVmVec),
        VMSTATE_STRUCT_VARRAY_ALLOC(nss, NvmeVmCtrl, nns, 0,
                                    nvme_vmstate_ns, NvmeVmNs),
        VMSTATE_UINT32(aer_len, NvmeVmCtrl),
        VMSTATE_VALIDATE("aer_len", nvme_vmstate_valid_aer_len),
        VMSTATE_VBUFFER_ALLOC_UINT32(aer_buf, NvmeVmCtrl, 0, NULL, aer_len),
        VMSTATE_END_OF_LIST()
    },
    /* loaded before post_load, which takes the held commands */
    .subsections = (const VMStateDescription * const []) {
        &nvme_vmstate_held_sub,
        NULL
    },
};

const VMStateDescription nvme_vmstate_ctrl = {
    .name = "nvqemu-nvme",
    .version_id = NVME_VMSTATE_VERSION,
    .minimum_version_id = NVME_VMSTATE_VERSION,
    .pre_save = nvme_vmstate_pre_save,
    .pre_load = nvme_vmstate_pre_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, NvmeCtrl),
        VMSTATE_MSIX(parent_obj, NvmeCtrl),
        /* registers */
        VMSTATE_UINT32(intms, NvmeCtrl),
        VMSTATE_UINT32(cc, NvmeCtrl),
        VMSTATE_UINT32(csts, NvmeCtrl),
        VMSTATE_UINT32(aqa, NvmeCtrl),
        VMSTATE_UINT64(asq, NvmeCtrl),
        VMSTATE_UINT64(acq, NvmeCtrl),
        VMSTATE_UINT32(page_bits, NvmeCtrl),
        VMSTATE_BOOL(intx_level, NvmeCtrl),
        VMSTATE_UINT32(cq_db_pending, NvmeCtrl),
        /* features */
        VMSTATE_UINT32(feat.arbitration, NvmeCtrl),
        VMSTATE_UINT32(feat.power_mgmt, NvmeCtrl),
        VMSTATE_UINT16(feat.temp_over, NvmeCtrl),
        VMSTATE_UINT16(feat.temp_under, NvmeCtrl),
        VMSTATE_UINT32(feat.num_queues, NvmeCtrl),
        VMSTATE_UINT32(feat.irq_coalescing, NvmeCtrl),
        VMSTATE_UINT32(feat.async_event_conf, NvmeCtrl),
        VMSTATE_UINT32(feat.kato, NvmeCtrl),
        VMSTATE_INT64(feat.timestamp_base_ms, NvmeCtrl),
        VMSTATE_INT64(feat.timestamp_set_at, NvmeCtrl),
        VMSTATE_BOOL(feat.timestamp_set, NvmeCtrl),
        VMSTATE_BUFFER_UNSAFE(feat.host_behavior, NvmeCtrl, 0,
                              sizeof(NvmeHostBehavior)),
        VMSTATE_BOOL(feat.atomic_dn, NvmeCtrl),
        /* SMART / health */
        VMSTATE_UINT64(smart.units_read, NvmeCtrl),
        VMSTATE_UINT64(smart.units_written, NvmeCtrl),
        VMSTATE_UINT64(smart.host_reads, NvmeCtrl),
        VMSTATE_UINT64(smart.host_writes, NvmeCtrl),
        VMSTATE_UINT64(smart.power_cycles, NvmeCtrl),
        VMSTATE_UINT64(smart.unsafe_shutdowns, NvmeCtrl),
        VMSTATE_UINT64(smart.media_errors, NvmeCtrl),
        VMSTATE_INT64(smart.power_on_start, NvmeCtrl),
        VMSTATE_BOOL(temp_warned, NvmeCtrl),
        VMSTATE_UINT8(smart_critical_warning, NvmeCtrl),
        /* async events and logs (the error log is in wire order) */
        VMSTATE_UINT8(aer_masked, NvmeCtrl),
        VMSTATE_BUFFER_UNSAFE(errlog, NvmeCtrl, 0,
                              sizeof_field(NvmeCtrl, errlog)),
        VMSTATE_UINT64(error_count, NvmeCtrl),
        VMSTATE_UINT32_ARRAY(changed_ns, NvmeCtrl, NVME_CHANGED_NS_MAX),
        VMSTATE_UINT32(changed_ns_count, NvmeCtrl),
        /* queues, requests, vectors, namespaces: rebuilt on load */
        VMSTATE_WITH_TMP(NvmeCtrl, NvmeVmCtrl, nvme_vmstate_tmp),
        VMSTATE_END_OF_LIST()
    },
};

/* ---- the VM running or not ---------------------------------------------- */

static void nvme_vmstate_change(void *opaque, bool running, RunState state)
{
    NvmeCtrl *n = opaque;

    if (running) {
        nvme_engine_resume(n);
    } else {
        nvme_engine_pause(n);
        nvme_irq_flush(n);
    }
}

void nvme_vmstate_init(NvmeCtrl *n)
{
    /* a VM not started yet, or an incoming migration's: paused */
    qatomic_set(&n->vm_stopped, !runstate_is_running());
    n->vm_change = qdev_add_vm_change_state_handler(nvme_dev(n),
                                                    nvme_vmstate_change, n);
}

void nvme_vmstate_fini(NvmeCtrl *n)
{
    if (n->vm_change) {
        qemu_del_vm_change_state_handler(n->vm_change);
        n->vm_change = NULL;
    }
}
