/*
 * The service engine (NVMe Base 2.0c section 3.4 "Command Processing"):
 * it decides when submission queues are served, in which order, and when
 * completions are posted.  The walk from a doorbell to a completion:
 *
 *   regs.c    doorbell write: records the new SQ tail / CQ head, kicks us
 *   engine.c  a service tick asks the arbiter (arb.c) for the next SQ,
 *             reads its SQEs (queue.c) and runs each through its command
 *             set's dispatch table (admin.c, io.c, set by ctrl.c)
 *   io.c      maps the data (dma.c) and submits it to the block layer
 *   engine.c  the command completes: its completion is queued on its CQ,
 *             and one bottom half posts the batch (queue.c) and raises at
 *             most one interrupt per vector, subject to coalescing (irq.c)
 *
 * At most params.tick_budget commands are fetched per tick; the tick
 * re-arms itself while any SQ still has work.  A command is fetched only
 * when its CQ has a slot for its completion, so a completion is never
 * dropped: when the CQ is full (or every request of the SQ is outstanding)
 * the SQ is paused.  Only two events can end a pause, and both kick the
 * engine: the host moving the CQ head (doorbell) and completions being
 * posted (which frees requests).  No timer polls a paused queue, so an
 * idle or stuck host costs nothing.  An AER waiting for an event gives its
 * CQ slot back (nvme_engine_park), as it may wait forever; when it
 * completes, its completion waits on the CQ's done list until there is
 * room.
 *
 * After a fatal error (CSTS.CFS, nvme_engine_fail) the engine stops:
 * nothing is fetched or posted, no interrupt is sent and no timer of ours
 * stays armed until the host clears CC.EN or the device is reset.
 *
 * Everything here runs in n->ctx (the main loop's AioContext), with the
 * BQL held.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "hw/pci/msix.h"
#include "nvme.h"
#include "trace.h"

void nvme_engine_complete(NvmeRequest *req)
{
    NvmeCtrl *n = req->sq->ctrl;
    NvmeCQueue *cq = nvme_sq_cq(req->sq);

    trace_nvme_dev_complete(req->sq->sqid, req->cid, req->opcode,
                        nvme_sc(req->status), req->dw0);
    if (nvme_sc(req->status) != NVME_SUCCESS) {
        nvme_err_record(n, req);
    }
    /* a parked command takes a slot again; posting waits for room */
    nvme_q_cq_slot_take(cq, req);
    QTAILQ_REMOVE(&req->sq->out_list, req, entry);
    QTAILQ_INSERT_TAIL(&cq->done_list, req, entry);
    qemu_bh_schedule(n->post_bh);
}

/*
 * @req waits for an event rather than for the block layer (an AER): it
 * gives its CQ slot back, so that commands parked this way never keep
 * the queue from fetching.  It takes one again when it completes.
 */
void nvme_engine_park(NvmeRequest *req)
{
    nvme_q_cq_slot_give(nvme_sq_cq(req->sq), req);
}

void nvme_engine_post_all(NvmeCtrl *n)
{
    if (n->state == NVME_CTRL_FATAL) {
        /* nothing more goes to guest memory; CC.EN=0 drops them */
        return;
    }
    for (uint32_t i = 0; i < n->num_queues; i++) {
        NvmeCQueue *cq = &n->cq[i];
        uint32_t posted;
        bool ok;

        if (cq->state != NVME_QUEUE_ACTIVE ||
            QTAILQ_EMPTY(&cq->done_list)) {
            continue;
        }
        ok = nvme_q_cq_post(n, cq, &posted);
        if (posted) {
            trace_nvme_dev_cq_post(cq->cqid, posted, cq->tail);
            nvme_irq_notify(n, cq, posted);
        }
        if (!ok) {
            nvme_engine_fail(n, "completion queue write failed");
            return;
        }
    }
}

static void nvme_engine_post_bh(void *opaque)
{
    NvmeCtrl *n = opaque;

    nvme_engine_post_all(n);
    /* freed slots may let paused SQs go on */
    nvme_engine_kick(n);
}

static bool nvme_engine_sq_ready(void *opaque, uint16_t qid)
{
    NvmeCtrl *n = opaque;
    NvmeSQueue *sq = &n->sq[qid];

    if (sq->state != NVME_QUEUE_ACTIVE || sq->head == sq->tail) {
        return false;
    }
    if (!nvme_q_cq_room(nvme_sq_cq(sq)) || QTAILQ_EMPTY(&sq->free_list)) {
        if (!sq->paused) {
            sq->paused = true;
            trace_nvme_dev_sq_paused(sq->sqid, sq->cqid);
        }
        return false;
    }
    if (sq->paused) {
        sq->paused = false;
        trace_nvme_dev_sq_resumed(sq->sqid);
    }
    return true;
}

/* Execute one fetched SQE through its command set */
static void nvme_engine_exec(NvmeCtrl *n, NvmeSQueue *sq, const NvmeSqe *sqe)
{
    NvmeRequest *req = nvme_q_sq_consume(sq, sqe);
    uint32_t cdw0 = le32_to_cpu(sqe->cdw0);
    const NvmeCmdSet *set = n->cmdset[sq->sqid == NVME_ADMIN_QID ?
                                      NVME_CMDSET_ADMIN : NVME_CMDSET_IO];
    uint16_t status;

    req->ns = NULL;
    req->status = NVME_SUCCESS;
    req->dw0 = req->dw1 = 0;
    req->cid = FIELD_EX32(cdw0, NVME_CDW0, CID);
    req->opcode = FIELD_EX32(cdw0, NVME_CDW0, OPC);
    req->slba = 0;
    req->aio_pending = 0;
    req->aio_ret = 0;
    req->flags = 0;

    status = set->exec(n, req);
    if (status != NVME_NO_COMPLETE) {
        req->status = status;
        nvme_engine_complete(req);
    }
}

/*
 * Fetch and execute up to @want commands from a ready SQ.  The entries
 * between head and the tail (or the ring's end) are read with one DMA;
 * each is executed only while the SQ stays ready (CQ slot and request
 * free), and head moves one entry per executed command, so entries read
 * but not executed are read again on the next turn.  Returns the number
 * of commands executed.
 */
static unsigned nvme_engine_fetch_run(NvmeCtrl *n, NvmeSQueue *sq,
                                      unsigned want)
{
    int run = nvme_q_sq_read(n, sq, n->fetch_buf,
                             MIN(want, (unsigned)NVME_FETCH_MAX));
    int i;

    if (run < 0) {
        nvme_engine_fail(n, "submission queue read failed");
        return 0;
    }
    for (i = 0; i < run; i++) {
        /* the first entry was checked by the caller */
        if (i && (n->state != NVME_CTRL_ENABLED ||
                  !nvme_engine_sq_ready(n, sq->sqid))) {
            break;
        }
        nvme_engine_exec(n, sq, &n->fetch_buf[i]);
    }
    return i;
}

/*
 * Whether any SQ can be served now.  Every SQ is looked at, so that each
 * one that cannot go on is marked paused, to be kicked by its CQ head
 * doorbell or by the posting of completions.
 */
static bool nvme_engine_any_ready(NvmeCtrl *n)
{
    bool ready = false;

    for (uint32_t i = 0; i < n->num_queues; i++) {
        ready |= nvme_engine_sq_ready(n, i);
    }
    return ready;
}

static void nvme_engine_serve(NvmeCtrl *n)
{
    uint32_t budget = n->params.tick_budget;
    uint32_t served = 0;

    if (n->state != NVME_CTRL_ENABLED) {
        return;
    }
    if (n->in_tick) {
        /*
         * A command drained the block layer from inside a tick; the outer
         * tick re-arms the timer when it ends if work remains.
         */
        return;
    }
    n->in_tick = true;
    while (served < budget && n->state == NVME_CTRL_ENABLED) {
        uint16_t qid;
        unsigned max, taken = 0;

        if (!nvme_arb_next(&n->arb, nvme_engine_sq_ready, n, &qid, &max)) {
            break;
        }
        max = MIN(max, budget - served);
        while (taken < max && n->state == NVME_CTRL_ENABLED &&
               nvme_engine_sq_ready(n, qid)) {
            taken += nvme_engine_fetch_run(n, &n->sq[qid], max - taken);
        }
        nvme_arb_charge(&n->arb, taken);
        served += taken;
    }
    n->in_tick = false;
    trace_nvme_dev_tick(served);
    nvme_engine_post_all(n);
    if (n->state != NVME_CTRL_ENABLED) {
        return;
    }
    if (nvme_engine_any_ready(n)) {
        timer_mod(n->tick_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                  n->params.tick_ns);
    }
}

static void nvme_engine_tick(void *opaque)
{
    NvmeCtrl *n = opaque;
    bool guard = nvme_guard_enter(n);

    nvme_engine_serve(n);
    nvme_guard_leave(n, guard);
}

void nvme_engine_kick(NvmeCtrl *n)
{
    if (n->state != NVME_CTRL_ENABLED || timer_pending(n->tick_timer)) {
        return;
    }
    timer_mod(n->tick_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
              n->params.tick_ns);
}

void nvme_engine_cq_head_moved(NvmeCtrl *n, NvmeCQueue *cq)
{
    NvmeSQueue *sq;

    if (!msix_enabled(nvme_pci(n))) {
        nvme_irq_update_pin(n);
    }
    if (!QTAILQ_EMPTY(&cq->done_list)) {
        qemu_bh_schedule(n->post_bh);
    }
    QTAILQ_FOREACH(sq, &cq->sq_list, cq_entry) {
        if (sq->paused) {
            nvme_engine_kick(n);
            break;
        }
    }
}

/*
 * Delete an SQ: its in-flight commands finish first (we wait for the
 * block layer rather than cancel, so no write is left half done) and, when
 * @post, their completions are posted before the queue goes away
 * (Base 5.6).
 */
void nvme_engine_sq_delete(NvmeCtrl *n, uint16_t sqid, bool post)
{
    NvmeSQueue *sq = &n->sq[sqid];
    NvmeRequest *req;

    if (sq->state != NVME_QUEUE_ACTIVE) {
        return;
    }
    if (!QTAILQ_EMPTY(&sq->out_list)) {
        nvme_ns_drain_all(n);
    }
    /* what is left holds no I/O (an AER): it ends as aborted */
    while ((req = QTAILQ_FIRST(&sq->out_list))) {
        req->status = NVME_ABORTED_SQ_DELETION;
        nvme_engine_complete(req);
    }
    if (post) {
        nvme_engine_post_all(n);
    }
    /* whatever could not be posted is dropped with the queue */
    nvme_q_sq_free(n, sq);
}

void nvme_engine_delete_all(NvmeCtrl *n, bool post)
{
    for (uint32_t i = n->num_queues; i-- > 0;) {
        nvme_engine_sq_delete(n, i, post);
    }
    for (uint32_t i = n->num_queues; i-- > 0;) {
        nvme_q_cq_delete(n, i);
    }
    timer_del(n->tick_timer);
}

/*
 * Stop fetching and wait for the block requests in flight, so that none
 * of them touches guest memory later (controller reset, shutdown, fatal).
 */
void nvme_engine_quiesce(NvmeCtrl *n)
{
    timer_del(n->tick_timer);
    nvme_ns_drain_all(n);
}

/*
 * The controller cannot go on (CSTS.CFS, Base 3.1.4.6 / 9.5): stop
 * fetching, wait for the block requests in flight, keep their completions
 * unposted and drop pending coalesced interrupts.  The queues stay until
 * CC.EN=0 or a reset deletes them.  regs.c reports CFS from n->state.
 */
void nvme_engine_fail(NvmeCtrl *n, const char *why)
{
    if (n->state == NVME_CTRL_FATAL) {
        return;
    }
    nvme_err_guest(n, NULL, NVME_INTERNAL_ERROR,
                   "controller fatal status: %s", why);
    n->state = NVME_CTRL_FATAL;
    nvme_engine_quiesce(n);
    nvme_irq_quiesce(n);
}

void nvme_engine_init(NvmeCtrl *n)
{
    n->ctx = qemu_get_aio_context();
    n->tick_timer = aio_timer_new(n->ctx, QEMU_CLOCK_VIRTUAL, SCALE_NS,
                                  nvme_engine_tick, n);
    n->post_bh = aio_bh_new_guarded(n->ctx, nvme_engine_post_bh, n,
                                    &nvme_dev(n)->mem_reentrancy_guard);
}

void nvme_engine_fini(NvmeCtrl *n)
{
    nvme_engine_delete_all(n, false);
    timer_free(n->tick_timer);
    qemu_bh_delete(n->post_bh);
}
