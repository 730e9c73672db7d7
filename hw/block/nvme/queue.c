/*
 * NVMe queues (Base 2.0c sections 3.3 "NVM Queue Models" and 4.1): the
 * submission and completion rings in guest memory, their entries, and
 * the bookkeeping that keeps a completion from ever being dropped.
 *
 * A command is fetched only when its CQ has a slot for its completion
 * (cq->reserved counts the promised slots).  An AER waiting for an event
 * gives its slot back, as it may wait forever (see engine.c).  This file
 * reads SQEs and writes CQEs; it does not decide when: that is engine.c.
 * A failed ring access is returned to the caller, which makes the
 * controller fatal.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/msix.h"
#include "nvme.h"
#include "trace.h"

/* Base 4.1.3 */
#define NVME_SQE_SIZE sizeof(NvmeSqe)
#define NVME_CQE_SIZE sizeof(NvmeCqe)

static uint32_t nvme_q_cq_used(NvmeCQueue *cq)
{
    return (cq->tail + cq->size - cq->head) % cq->size;
}

/* @req promises itself a slot of @cq for its completion */
void nvme_q_cq_slot_take(NvmeCQueue *cq, NvmeRequest *req)
{
    if (!req->cq_slot) {
        req->cq_slot = true;
        cq->reserved++;
    }
}

/* @req's completion was posted or dropped, or it was parked */
void nvme_q_cq_slot_give(NvmeCQueue *cq, NvmeRequest *req)
{
    if (req->cq_slot) {
        req->cq_slot = false;
        cq->reserved--;
    }
}

/* Slots left for completions not yet promised to a fetched command */
uint32_t nvme_q_cq_room(NvmeCQueue *cq)
{
    uint32_t busy = nvme_q_cq_used(cq) + cq->reserved;

    return busy >= cq->size - 1 ? 0 : cq->size - 1 - busy;
}

/* @req lets go of its data mapping and buffers */
void nvme_q_req_unmap(NvmeRequest *req)
{
    if (req->sg_valid) {
        qemu_sglist_destroy(&req->sg);
        req->sg_valid = false;
    }
    nvme_dma_unmap_direct(req);
    if (req->iov.nalloc) {
        qemu_iovec_destroy(&req->iov);
    }
    g_free(req->bounce);
    g_free(req->bounce2);
    req->bounce = req->bounce2 = NULL;
}

/* @req goes back to its SQ's free list, with any CQ slot it held */
void nvme_q_req_release(NvmeRequest *req)
{
    NvmeSQueue *sq = req->sq;

    nvme_q_cq_slot_give(nvme_sq_cq(sq), req);
    nvme_q_req_unmap(req);
    QTAILQ_INSERT_TAIL(&sq->free_list, req, entry);
}

/*
 * Post the completions queued on @cq, as many as it has room for: the
 * entries up to the CQ's wrap point (or its head) go to guest memory with
 * one write.  *@posted counts them.  False when guest memory could not be
 * written (the controller cannot go on).
 */
bool nvme_q_cq_post(NvmeCtrl *n, NvmeCQueue *cq, uint32_t *posted_out)
{
    NvmeCqe cqes[NVME_POST_MAX];
    uint32_t posted = 0;

    while (!QTAILQ_EMPTY(&cq->done_list)) {
        uint32_t room = cq->size - 1 - nvme_q_cq_used(cq);
        uint32_t run = MIN(MIN(room, cq->size - cq->tail),
                           (uint32_t)NVME_POST_MAX);
        NvmeRequest *req = QTAILQ_FIRST(&cq->done_list);
        uint32_t cnt = 0;

        if (!run) {
            /*
             * the CQ is full: a parked AER completed without a slot
             * held for it (nvme_engine_park), or a queue was reset under us;
             * the next CQ head doorbell posts the rest
             */
            break;
        }
        for (; req && cnt < run; req = QTAILQ_NEXT(req, entry), cnt++) {
            cqes[cnt] = (NvmeCqe) {
                .dw0 = cpu_to_le32(req->dw0),
                .dw1 = cpu_to_le32(req->dw1),
                .sqhd = cpu_to_le16(req->sq->head),
                .sqid = cpu_to_le16(req->sq->sqid),
                .cid = cpu_to_le16(req->cid),
                .status = cpu_to_le16((req->status << 1) | cq->phase),
            };
        }
        /* a head the host rings from what it sees is never past this */
        qatomic_store_release(&cq->tail_next, (cq->tail + cnt) % cq->size);
        if (pci_dma_write(nvme_pci(n),
                          cq->dma_addr + (uint64_t)cq->tail * NVME_CQE_SIZE,
                          cqes, cnt * NVME_CQE_SIZE) != MEMTX_OK) {
            *posted_out = posted;
            return false;
        }
        for (uint32_t i = 0; i < cnt; i++) {
            req = QTAILQ_FIRST(&cq->done_list);
            QTAILQ_REMOVE(&cq->done_list, req, entry);
            nvme_q_req_release(req);
        }
        cq->tail += cnt;
        if (cq->tail == cq->size) {
            cq->tail = 0;
            cq->phase ^= 1;
        }
        posted += cnt;
    }
    *posted_out = posted;
    return true;
}

uint16_t nvme_q_cq_create(NvmeCtrl *n, uint16_t cqid, uint64_t addr,
                          uint32_t size, uint16_t vector, bool ien)
{
    NvmeCQueue *cq = &n->cq[cqid];

    g_assert(cq->state == NVME_QUEUE_FREE);
    *cq = (NvmeCQueue) {
        .ctrl = n, .state = NVME_QUEUE_ACTIVE, .cqid = cqid,
        .vector = vector, .ien = ien, .phase = 1, .size = size,
        .dma_addr = addr,
    };
    QTAILQ_INIT(&cq->sq_list);
    QTAILQ_INIT(&cq->done_list);
    cq->shadow = n->dbbuf_on && cqid != NVME_ADMIN_QID;
    QTAILQ_INSERT_TAIL(&n->active_cqs, cq, active_entry);
    if (msix_present(nvme_pci(n))) {
        msix_vector_use(nvme_pci(n), vector);
    }
    trace_nvme_dev_cq_create(cqid, size, vector, ien);
    return NVME_SUCCESS;
}

void nvme_q_cq_delete(NvmeCtrl *n, uint16_t cqid)
{
    NvmeCQueue *cq = &n->cq[cqid];
    NvmeRequest *req, *next;

    if (cq->state != NVME_QUEUE_ACTIVE) {
        return;
    }
    /* completions nobody can receive any more */
    QTAILQ_FOREACH_SAFE(req, &cq->done_list, entry, next) {
        QTAILQ_REMOVE(&cq->done_list, req, entry);
        nvme_q_req_release(req);
    }
    if (msix_present(nvme_pci(n))) {
        msix_vector_unuse(nvme_pci(n), cq->vector);
    }
    QTAILQ_REMOVE(&n->active_cqs, cq, active_entry);
    cq->state = NVME_QUEUE_FREE;
    trace_nvme_dev_cq_delete(cqid);
}

uint16_t nvme_q_sq_create(NvmeCtrl *n, uint16_t sqid, uint16_t cqid,
                          uint64_t addr, uint32_t size, NvmeQprio prio)
{
    NvmeSQueue *sq = &n->sq[sqid];

    g_assert(sq->state == NVME_QUEUE_FREE);
    *sq = (NvmeSQueue) {
        .ctrl = n, .state = NVME_QUEUE_ACTIVE, .sqid = sqid, .cqid = cqid,
        .size = size, .dma_addr = addr, .prio = prio,
    };
    QTAILQ_INIT(&sq->free_list);
    QTAILQ_INIT(&sq->out_list);
    sq->shadow = n->dbbuf_on && sqid != NVME_ADMIN_QID;
    QTAILQ_INSERT_TAIL(&n->active_sqs, sq, active_entry);
    sq->reqs = g_new0(NvmeRequest, size);
    for (uint32_t i = 0; i < size; i++) {
        sq->reqs[i].sq = sq;
        QTAILQ_INSERT_TAIL(&sq->free_list, &sq->reqs[i], entry);
    }
    QTAILQ_INSERT_TAIL(&n->cq[cqid].sq_list, sq, cq_entry);
    nvme_arb_add(&n->arb, sqid, sqid == NVME_ADMIN_QID ? NVME_ARB_ADMIN
                                                       : prio);
    trace_nvme_dev_sq_create(sqid, cqid, size, prio);
    return NVME_SUCCESS;
}

/*
 * Read the SQEs of @sq from its head towards its tail, up to the ring's
 * end and at most @max of them, into @buf with one DMA.  Returns how many
 * were read, or -1 when guest memory could not be read.  The head does
 * not move: nvme_q_sq_consume() moves it per command executed.
 */
int nvme_q_sq_read(NvmeCtrl *n, NvmeSQueue *sq, NvmeSqe *buf, unsigned max)
{
    uint32_t head = sq->head;
    uint32_t avail = (sq->tail > head ? sq->tail : sq->size) - head;
    unsigned run = MIN(max, avail);

    if (pci_dma_read(nvme_pci(n),
                     sq->dma_addr + (uint64_t)head * NVME_SQE_SIZE,
                     buf, run * NVME_SQE_SIZE) != MEMTX_OK) {
        return -1;
    }
    return run;
}

/*
 * Take a free request of @sq for @sqe, outstanding with a slot of its CQ;
 * the head does not move (a migration's destination takes the commands
 * the source held this way, their entries consumed there already)
 */
NvmeRequest *nvme_q_sq_take(NvmeSQueue *sq, const NvmeSqe *sqe)
{
    NvmeRequest *req = QTAILQ_FIRST(&sq->free_list);

    req->cmd = *sqe;
    QTAILQ_REMOVE(&sq->free_list, req, entry);
    QTAILQ_INSERT_TAIL(&sq->out_list, req, entry);
    nvme_q_cq_slot_take(nvme_sq_cq(sq), req);
    return req;
}

/* Take a free request of @sq for the SQE at its head, and move the head */
NvmeRequest *nvme_q_sq_consume(NvmeSQueue *sq, const NvmeSqe *sqe)
{
    sq->head = sq->head + 1 == sq->size ? 0 : sq->head + 1;
    return nvme_q_sq_take(sq, sqe);
}

/*
 * Free @sq once nothing of it is outstanding: completions it still has
 * queued on its CQ are dropped with it.
 */
void nvme_q_sq_free(NvmeCtrl *n, NvmeSQueue *sq)
{
    NvmeCQueue *cq = nvme_sq_cq(sq);
    NvmeRequest *req, *next;

    g_assert(QTAILQ_EMPTY(&sq->out_list));
    QTAILQ_FOREACH_SAFE(req, &cq->done_list, entry, next) {
        if (req->sq == sq) {
            QTAILQ_REMOVE(&cq->done_list, req, entry);
            nvme_q_req_release(req);
        }
    }
    nvme_arb_remove(&n->arb, sq->sqid);
    QTAILQ_REMOVE(&cq->sq_list, sq, cq_entry);
    QTAILQ_REMOVE(&n->active_sqs, sq, active_entry);
    g_free(sq->reqs);
    sq->reqs = NULL;
    sq->state = NVME_QUEUE_FREE;
    trace_nvme_dev_sq_delete(sq->sqid);
}

/* ---- shadow doorbells (Doorbell Buffer Config, Base 5.8) ---------------- */

/*
 * The shadow doorbell and EventIdx buffers mirror the doorbell registers:
 * the SQ y tail at dword 2y, the CQ y head at dword 2y + 1, each
 * (4 << CAP.DSTRD) bytes apart; a value is the low 16 bits of its
 * little-endian dword.
 */
static hwaddr nvme_q_dbbuf_off(NvmeCtrl *n, uint16_t qid, bool cq)
{
    return (2ull * qid + cq) * nvme_db_stride(n->params.dstrd);
}

static uint64_t nvme_q_dbbuf_len(NvmeCtrl *n)
{
    return nvme_q_dbbuf_off(n, n->num_queues, false);
}

/* The host's value in the shadow doorbell of queue @qid */
uint32_t nvme_q_shadow_read(NvmeCtrl *n, uint16_t qid, bool cq)
{
    return address_space_lduw_le_cached(&n->dbbuf_dbs_cache,
                                        nvme_q_dbbuf_off(n, qid, cq),
                                        MEMTXATTRS_UNSPECIFIED, NULL);
}

/*
 * Tell the host, through the EventIdx of queue @qid, from which value on
 * its next doorbell update must also be written to the MMIO doorbell
 * (the host rings when its update moves past @val).  A full barrier
 * follows, so that a shadow read after it sees any update the host made
 * before it read this EventIdx.
 */
void nvme_q_eventidx_write(NvmeCtrl *n, uint16_t qid, bool cq, uint32_t val)
{
    address_space_stl_le_cached(&n->dbbuf_eis_cache,
                                nvme_q_dbbuf_off(n, qid, cq), val,
                                MEMTXATTRS_UNSPECIFIED, NULL);
    smp_mb();
}

/* A queue that exists goes on from @val: its shadow and EventIdx say so */
static void nvme_q_dbbuf_start(NvmeCtrl *n, uint16_t qid, bool cq,
                               uint32_t val)
{
    address_space_stl_le_cached(&n->dbbuf_dbs_cache,
                                nvme_q_dbbuf_off(n, qid, cq), val,
                                MEMTXATTRS_UNSPECIFIED, NULL);
    nvme_q_eventidx_write(n, qid, cq, val);
}

/*
 * Doorbell Buffer Config: from now on the I/O queues take their SQ tails
 * and CQ heads from the shadow buffer at @dbs and report EventIdx values
 * at @eis.  Queues that exist already start from where they are: their
 * shadow and EventIdx entries are set to their current values.  False
 * when a buffer is not in guest RAM.
 */
/*
 * Map the shadow doorbell buffer at @dbs and the EventIdx buffer at @eis
 * and switch the I/O queues that exist to them, without writing either:
 * what a migration's destination does, where the buffers hold the host's
 * values already.  False when a buffer is not in guest RAM.
 */
bool nvme_q_dbbuf_map(NvmeCtrl *n, uint64_t dbs, uint64_t eis)
{
    AddressSpace *as = nvme_as(n);
    uint64_t len = nvme_q_dbbuf_len(n);
    NvmeSQueue *sq;
    NvmeCQueue *cq;

    nvme_q_dbbuf_reset(n);
    if (address_space_cache_init(&n->dbbuf_dbs_cache, as, dbs, len,
                                 true) < len) {
        address_space_cache_destroy(&n->dbbuf_dbs_cache);
        return false;
    }
    if (address_space_cache_init(&n->dbbuf_eis_cache, as, eis, len,
                                 true) < len) {
        address_space_cache_destroy(&n->dbbuf_dbs_cache);
        address_space_cache_destroy(&n->dbbuf_eis_cache);
        return false;
    }
    n->dbbuf_dbs = dbs;
    n->dbbuf_eis = eis;
    n->dbbuf_on = true;
    QTAILQ_FOREACH(sq, &n->active_sqs, active_entry) {
        sq->shadow = sq->sqid != NVME_ADMIN_QID;
    }
    QTAILQ_FOREACH(cq, &n->active_cqs, active_entry) {
        cq->shadow = cq->cqid != NVME_ADMIN_QID;
    }
    return true;
}

bool nvme_q_dbbuf_setup(NvmeCtrl *n, uint64_t dbs, uint64_t eis)
{
    NvmeSQueue *sq;
    NvmeCQueue *cq;

    if (!nvme_q_dbbuf_map(n, dbs, eis)) {
        return false;
    }
    QTAILQ_FOREACH(sq, &n->active_sqs, active_entry) {
        if (sq->shadow) {
            nvme_q_dbbuf_start(n, sq->sqid, false, sq->tail);
        }
    }
    QTAILQ_FOREACH(cq, &n->active_cqs, active_entry) {
        if (cq->shadow) {
            nvme_q_dbbuf_start(n, cq->cqid, true, cq->head);
        }
    }
    trace_nvme_dev_dbbuf_config(dbs, eis);
    return true;
}

/* Back to MMIO doorbells (controller reset: Base 5.8 says not retained) */
void nvme_q_dbbuf_reset(NvmeCtrl *n)
{
    NvmeSQueue *sq;
    NvmeCQueue *cq;

    if (!n->dbbuf_on) {
        return;
    }
    n->dbbuf_on = false;
    n->dbbuf_dbs = n->dbbuf_eis = 0;
    QTAILQ_FOREACH(sq, &n->active_sqs, active_entry) {
        sq->shadow = false;
    }
    QTAILQ_FOREACH(cq, &n->active_cqs, active_entry) {
        cq->shadow = false;
    }
    address_space_cache_destroy(&n->dbbuf_dbs_cache);
    address_space_cache_destroy(&n->dbbuf_eis_cache);
}

void nvme_q_init(NvmeCtrl *n)
{
    n->sq = g_new0(NvmeSQueue, n->num_queues);
    n->cq = g_new0(NvmeCQueue, n->num_queues);
    QTAILQ_INIT(&n->active_sqs);
    QTAILQ_INIT(&n->active_cqs);
    nvme_arb_init(&n->arb, n->num_queues);
}

void nvme_q_fini(NvmeCtrl *n)
{
    nvme_q_dbbuf_reset(n);
    nvme_arb_fini(&n->arb);
    g_free(n->sq);
    g_free(n->cq);
    n->sq = NULL;
    n->cq = NULL;
}
