/*
 * The service engine (NVMe Base 2.0c section 3.4 "Command Processing"):
 * it decides when submission queues are served, in which order, and when
 * completions are posted.  The walk from a doorbell to a completion:
 *
 *   regs.c    doorbell write: validated, handed to nvme_engine_*_doorbell
 *   engine.c  an engine run takes the doorbell values (MMIO or shadow),
 *             asks the arbiter (arb.c) for the next SQ, reads its SQEs
 *             (queue.c) and runs each through its command set's dispatch
 *             table (admin.c, io.c, installed by ctrl.c)
 *   io.c      maps the data (dma.c) and submits it to the block layer
 *   engine.c  the command completes: its completion is queued on its CQ;
 *             the batch is posted (queue.c) at the end of the run, or by
 *             one bottom half, with at most one interrupt per vector,
 *             subject to coalescing (irq.c)
 *
 * Where a run happens: in the main loop with tick-ns=0, in the thread that
 * wrote the doorbell (a vCPU, with the BQL), so a backend that finishes at
 * once has its completion posted and its interrupt raised before the
 * write returns; otherwise in n->ctx, from the tick timer (tick-ns > 0),
 * the kick bottom half, the notifier that doorbell eventfds signal, or
 * the AioContext's polling of the shadow doorbells (iothread=).  With an
 * iothread, n->ctx is the IOThread's and all engine state belongs to that
 * thread: the register file runs its writes there (nvme_engine_run), and
 * doorbell values cross with atomics.
 *
 * At most params.tick_budget commands are fetched per run; the engine runs
 * again while any SQ still has work.  A command is fetched only when its
 * CQ has a slot for its completion, so a completion is never dropped: when
 * the CQ is full (or every request of the SQ is outstanding) the SQ is
 * paused.  Only two events can end a pause, and both run the engine: the
 * host moving the CQ head and completions being posted (which frees
 * requests).  No timer polls a paused queue, so an idle or stuck host
 * costs nothing.  An AER waiting for an event gives its CQ slot back
 * (nvme_engine_park), as it may wait forever; when it completes, its
 * completion waits on the CQ's done list until there is room.
 *
 * While the VM is stopped (nvme_engine_pause, from vmstate.c) the engine
 * does nothing: no fetch, no posting, no interrupt, no timer; commands
 * the host has rung wait in guest memory and are fetched when the VM runs
 * again, on this host or on a migration's destination.
 *
 * After a fatal error (CSTS.CFS, nvme_engine_fail) the engine stops:
 * nothing is fetched or posted, no interrupt is sent and no engine timer
 * stays armed until the host clears CC.EN or the device is reset.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "hw/pci/msix.h"
#include "block/aio-wait.h"
#include "nvme.h"
#include "trace.h"

__thread bool nvme_engine_thread_busy;

/* @req no longer holds anything in the block layer */
static void nvme_engine_leave_flight(NvmeCtrl *n, NvmeRequest *req)
{
    req->settled = true;
    if (req->in_flight) {
        req->in_flight = false;
        n->inflight--;
    }
}

void nvme_engine_complete(NvmeRequest *req)
{
    NvmeCtrl *n = req->sq->ctrl;
    NvmeCQueue *cq = nvme_sq_cq(req->sq);

    trace_nvme_dev_complete(req->sq->sqid, req->cid, req->opcode,
                        nvme_sc(req->status), req->dw0);
    /* a held command completes here when its queue goes away */
    req->held = false;
    if (nvme_sc(req->status) != NVME_SUCCESS) {
        nvme_err_record(n, req);
    }
    nvme_engine_leave_flight(n, req);
    /* a parked command takes a slot again; posting waits for room */
    nvme_q_cq_slot_take(cq, req);
    QTAILQ_REMOVE(&req->sq->out_list, req, entry);
    QTAILQ_INSERT_TAIL(&cq->done_list, req, entry);
    if (!n->in_tick) {
        /* an engine run in progress posts it when it ends */
        qemu_bh_schedule(n->post_bh);
    }
}

/*
 * @req waits for an event rather than for the block layer (an AER): it
 * gives its CQ slot back, so that commands parked this way never keep
 * the queue from fetching.  It takes one again when it completes.
 */
void nvme_engine_park(NvmeRequest *req)
{
    nvme_engine_leave_flight(req->sq->ctrl, req);
    nvme_q_cq_slot_give(nvme_sq_cq(req->sq), req);
}

/*
 * @req failed and the drive's error action is stop (werror=/rerror=, the
 * caller raised it with blk_error_action()): it is held, with its CQ
 * slot, out of the flight count, so that the drains of vm_stop, resets
 * and queue deletions do not wait for it.  When the VM runs again it is
 * executed again from its SQE (nvme_engine_retry_bh); a queue deletion
 * or controller reset before that completes it as Aborted due to SQ
 * Deletion (nvme_engine_sq_delete).
 */
void nvme_engine_hold(NvmeRequest *req)
{
    trace_nvme_dev_held(req->sq->sqid, req->cid, req->opcode);
    req->held = true;
    nvme_engine_leave_flight(req->sq->ctrl, req);
}

/* A request's state before its SQE (req->cmd) is executed */
static void nvme_engine_req_init(NvmeRequest *req)
{
    uint32_t cdw0 = le32_to_cpu(req->cmd.cdw0);

    req->ns = NULL;
    req->status = NVME_SUCCESS;
    req->dw0 = req->dw1 = 0;
    req->cid = FIELD_EX32(cdw0, NVME_CDW0, CID);
    req->opcode = FIELD_EX32(cdw0, NVME_CDW0, OPC);
    req->slba = 0;
    req->aio_pending = 0;
    req->aio_ret = 0;
    req->flags = 0;
    req->in_flight = false;
    req->settled = false;
}

/*
 * A command a migration's source held, taken again by the destination
 * from its SQE (vmstate.c checked that @sq has a free request and its CQ
 * a slot): held here the same way, its SQ entry consumed on the source
 * already, so that the VM running again executes it once more
 * (nvme_engine_retry_bh).
 */
void nvme_engine_hold_sqe(NvmeSQueue *sq, const NvmeSqe *sqe)
{
    NvmeRequest *req = nvme_q_sq_take(sq, sqe);

    nvme_engine_req_init(req);
    nvme_engine_hold(req);
}

void nvme_engine_post_all(NvmeCtrl *n)
{
    NvmeCQueue *cq;

    if (n->state == NVME_CTRL_FATAL) {
        /* nothing more goes to guest memory; CC.EN=0 drops them */
        return;
    }
    QTAILQ_FOREACH(cq, &n->active_cqs, active_entry) {
        uint32_t posted;
        bool ok;

        if (QTAILQ_EMPTY(&cq->done_list)) {
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

static void nvme_engine_serve(NvmeCtrl *n);

static void nvme_engine_post_bh(void *opaque)
{
    NvmeCtrl *n = opaque;
    bool guard;

    if (qatomic_read(&n->vm_stopped)) {
        /* posted when the VM runs again (nvme_engine_resume) */
        return;
    }
    guard = nvme_guard_enter(n);
    n->wakeups++;
    nvme_engine_post_all(n);
    /* freed slots may let paused SQs go on, now or at the next tick */
    if (n->params.tick_ns) {
        nvme_engine_kick(n);
    } else {
        nvme_engine_serve(n);
    }
    nvme_guard_leave(n, guard);
}

/* ---- taking the host's doorbell values ----------------------------------- */

/* The SQ tail the host gives now: its shadow doorbell, or the MMIO one */
static uint32_t nvme_engine_sq_doorbell_value(NvmeCtrl *n, NvmeSQueue *sq)
{
    return sq->shadow ? nvme_q_shadow_read(n, sq->sqid, false)
                      : qatomic_read(&sq->db_tail);
}

/*
 * A shadow doorbell value the MMIO path would refuse (Base 3.1.4.24/25):
 * ignored, and reported once until the host writes a good one.  It raises
 * no async event, as the host never rang for it.
 */
static void nvme_engine_bad_shadow(NvmeCtrl *n, bool *reported, bool cq,
                                   uint16_t qid, uint32_t val)
{
    if (!*reported) {
        *reported = true;
        nvme_err_guest(n, NULL, NVME_INVALID_FIELD,
                       "shadow %s doorbell of queue %u holds %u, ignored",
                       cq ? "CQ head" : "SQ tail", qid, val);
    }
}

static void nvme_engine_take_sq(NvmeCtrl *n, NvmeSQueue *sq)
{
    uint32_t val = nvme_engine_sq_doorbell_value(n, sq);

    sq->db_seen = val;
    if (val >= sq->size) {
        nvme_engine_bad_shadow(n, &sq->shadow_bad, false, sq->sqid, val);
        return;
    }
    sq->shadow_bad = false;
    sq->tail = val;
}

/* True when the head moved */
static bool nvme_engine_take_cq(NvmeCtrl *n, NvmeCQueue *cq, bool mmio)
{
    uint32_t val;

    if (!cq->shadow) {
        val = qatomic_read(&cq->db_head);   /* validated by regs.c */
        if (!mmio || val == cq->head) {
            return false;
        }
        cq->head = val;
        return true;
    }
    val = nvme_q_shadow_read(n, cq->cqid, true);
    cq->db_seen = val;
    if (val >= cq->size || !nvme_ring_within(cq->size, cq->head, cq->tail,
                                             val)) {
        nvme_engine_bad_shadow(n, &cq->shadow_bad, true, cq->cqid, val);
        return false;
    }
    cq->shadow_bad = false;
    if (val == cq->head) {
        return false;
    }
    cq->head = val;
    return true;
}

/*
 * Take the SQ tails and CQ heads the host has given since the last look.
 * A CQ head that moved deasserts INTx if it was the last unconsumed entry,
 * and makes room for completions waiting to be posted.
 */
static void nvme_engine_take_doorbells(NvmeCtrl *n)
{
    bool mmio_cq = qatomic_xchg(&n->cq_db_pending, 0);
    bool moved = false;
    NvmeSQueue *sq;
    NvmeCQueue *cq;

    QTAILQ_FOREACH(sq, &n->active_sqs, active_entry) {
        nvme_engine_take_sq(n, sq);
    }
    QTAILQ_FOREACH(cq, &n->active_cqs, active_entry) {
        if (nvme_engine_take_cq(n, cq, mmio_cq)) {
            moved = true;
            if (!QTAILQ_EMPTY(&cq->done_list) && !n->in_tick) {
                /* (a run in progress posts them when it ends) */
                qemu_bh_schedule(n->post_bh);
            }
        }
    }
    if (moved && !msix_enabled(nvme_pci(n))) {
        nvme_irq_update_pin(n);
    }
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

/* Execute @req's SQE through its command set */
static void nvme_engine_dispatch(NvmeCtrl *n, NvmeRequest *req)
{
    const NvmeCmdSet *set = n->cmdset[req->sq->sqid == NVME_ADMIN_QID ?
                                      NVME_CMDSET_ADMIN : NVME_CMDSET_IO];
    uint16_t status;

    nvme_engine_req_init(req);
    status = set->exec(n, req);
    if (status == NVME_NO_COMPLETE && !req->settled) {
        /* it went to the block layer (a parked AER has settled) */
        req->in_flight = true;
        n->inflight++;
    }
    if (status != NVME_NO_COMPLETE) {
        req->status = status;
        nvme_engine_complete(req);
    }
}

/* Execute one fetched SQE */
static void nvme_engine_exec(NvmeCtrl *n, NvmeSQueue *sq, const NvmeSqe *sqe)
{
    nvme_engine_dispatch(n, nvme_q_sq_consume(sq, sqe));
}

/*
 * The VM runs again after an error action stopped it (scheduled by
 * nvme_engine_resume_fn, from the controller's one VM state handler in
 * vmstate.c): every held command
 * is executed again, from the start, as if just fetched (its data is
 * mapped again; a Write rewrites all its blocks, which is idempotent).
 * It may fail and be held again.  Not while the VM is stopped again (a
 * `stop` after `cont` but before this ran: the next resume schedules it)
 * nor once the controller is fatal or reset (they stay held, or were
 * completed as aborted).
 */
/* The controller serves commands: enabled, or shutting down (CC.SHN) */
static bool nvme_engine_serving(NvmeCtrl *n)
{
    return n->state == NVME_CTRL_ENABLED || n->state == NVME_CTRL_SHUTDOWN;
}

static void nvme_engine_retry_bh(void *opaque)
{
    NvmeCtrl *n = opaque;
    bool guard;
    NvmeSQueue *sq;
    NvmeRequest *req, *next;

    if (qatomic_read(&n->vm_stopped) || !nvme_engine_serving(n)) {
        return;
    }
    guard = nvme_guard_enter(n);
    QTAILQ_FOREACH(sq, &n->active_sqs, active_entry) {
        QTAILQ_FOREACH_SAFE(req, &sq->out_list, entry, next) {
            if (!req->held) {
                continue;
            }
            req->held = false;
            trace_nvme_dev_retry(sq->sqid, req->cid, req->opcode);
            nvme_q_req_unmap(req);
            nvme_engine_dispatch(n, req);
        }
    }
    nvme_guard_leave(n, guard);
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
    NvmeSQueue *sq;

    QTAILQ_FOREACH(sq, &n->active_sqs, active_entry) {
        ready |= nvme_engine_sq_ready(n, sq->sqid);
    }
    return ready;
}

/* Run the engine again soon (from any thread) */
void nvme_engine_kick(NvmeCtrl *n)
{
    if (qatomic_read(&n->state) != NVME_CTRL_ENABLED ||
        qatomic_read(&n->vm_stopped)) {
        return;
    }
    if (!n->params.tick_ns) {
        qemu_bh_schedule(n->kick_bh);
    } else if (!timer_pending(n->tick_timer)) {
        timer_mod(n->tick_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                  n->params.tick_ns);
    }
}

/*
 * Nothing can go on.  With shadow doorbells, tell the host through the
 * EventIdx entries from where on it must ring the MMIO doorbell again:
 * each SQ's at the tail we have taken, and the CQ head of an SQ paused for
 * CQ room; then take the doorbells once more, as the host may have moved
 * one before it read the EventIdx.  True if that gave work.  While the
 * AioContext polls us, the EventIdx entries stay where they are, so that
 * a busy host rings no doorbell.
 */
static bool nvme_engine_idle(NvmeCtrl *n)
{
    NvmeSQueue *sq;

    QTAILQ_FOREACH(sq, &n->active_sqs, active_entry) {
        if (n->polling) {
            break;
        }
        if (!sq->shadow) {
            continue;
        }
        if (sq->paused && nvme_sq_cq(sq)->shadow) {
            nvme_q_eventidx_write(n, sq->cqid, true, nvme_sq_cq(sq)->head);
        }
        nvme_q_eventidx_write(n, sq->sqid, false, sq->tail);
    }
    /* (also what a nested run that returned early left rung) */
    nvme_engine_take_doorbells(n);
    return nvme_engine_any_ready(n);
}

static void nvme_engine_serve(NvmeCtrl *n)
{
    uint32_t budget = n->params.tick_budget;
    uint32_t served = 0;

    if (n->state != NVME_CTRL_ENABLED || qatomic_read(&n->vm_stopped)) {
        return;
    }
    if (n->in_tick) {
        /*
         * A command waited for the block layer from inside a tick; the
         * outer tick runs again when it ends if work remains.
         */
        return;
    }
    n->in_tick = true;
    nvme_engine_take_doorbells(n);
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
    if (nvme_engine_any_ready(n) || nvme_engine_idle(n)) {
        nvme_engine_kick(n);
    }
}

/* An engine run from the event loop (timer, BH, notifier, poll) */
static void nvme_engine_wake(NvmeCtrl *n)
{
    bool guard = nvme_guard_enter(n);

    n->wakeups++;
    nvme_engine_serve(n);
    nvme_guard_leave(n, guard);
}

static void nvme_engine_tick(void *opaque)
{
    nvme_engine_wake(opaque);
}

/*
 * Whether a doorbell holds something the engine has not taken: what the
 * AioContext polls for (in the engine's thread, with no side effect).
 */
static bool nvme_engine_poll(void *opaque)
{
    NvmeCtrl *n = container_of(opaque, NvmeCtrl, kick);
    NvmeSQueue *sq;

    if (qatomic_read(&n->state) != NVME_CTRL_ENABLED ||
        qatomic_read(&n->vm_stopped)) {
        return false;
    }
    if (qatomic_read(&n->cq_db_pending)) {
        return true;
    }
    QTAILQ_FOREACH(sq, &n->active_sqs, active_entry) {
        NvmeCQueue *cq;

        /* a value not looked at yet (a bad one is looked at once) */
        if (nvme_engine_sq_doorbell_value(n, sq) != sq->db_seen) {
            return true;
        }
        cq = nvme_sq_cq(sq);
        if (sq->paused ? cq->shadow && nvme_q_shadow_read(n, cq->cqid, true)
                                       != cq->db_seen
                       : sq->head != sq->tail) {
            return true;
        }
    }
    return false;
}

static void nvme_engine_poll_ready(EventNotifier *e)
{
    nvme_engine_wake(container_of(e, NvmeCtrl, kick));
}

static void nvme_engine_notified(EventNotifier *e)
{
    event_notifier_test_and_clear(e);
    nvme_engine_wake(container_of(e, NvmeCtrl, kick));
}

static void nvme_engine_poll_begin(EventNotifier *e)
{
    NvmeCtrl *n = container_of(e, NvmeCtrl, kick);

    n->polling = true;
    trace_nvme_dev_poll(true);
}

/* The AioContext polls once more after this, so no update is missed */
static void nvme_engine_poll_end(EventNotifier *e)
{
    NvmeCtrl *n = container_of(e, NvmeCtrl, kick);

    n->polling = false;
    trace_nvme_dev_poll(false);
    if (n->state == NVME_CTRL_ENABLED && !n->in_tick &&
        !qatomic_read(&n->vm_stopped) &&
        nvme_engine_idle(n)) {
        nvme_engine_kick(n);
    }
}

/*
 * An SQ tail doorbell was written (regs.c, with the BQL).  The engine runs
 * at once in the writer's thread when that is its own and no tick delay
 * is asked for; otherwise it is kicked.
 */
void nvme_engine_sq_doorbell(NvmeCtrl *n, NvmeSQueue *sq, uint32_t val)
{
    if (!sq->shadow) {
        qatomic_set(&sq->db_tail, val);
    }   /* else the shadow buffer holds the tail (Base 5.8) */
    if (!n->params.tick_ns && !nvme_in_iothread(n) && !n->in_tick) {
        n->wakeups++;
        nvme_engine_serve(n);
    } else {
        nvme_engine_kick(n);
    }
}

/* A CQ head doorbell was written (regs.c validated @val, if it counts) */
void nvme_engine_cq_doorbell(NvmeCtrl *n, NvmeCQueue *cq, uint32_t val)
{
    if (!cq->shadow) {
        qatomic_set(&cq->db_head, val);
        qatomic_store_release(&n->cq_db_pending, 1);
    }   /* else the shadow buffer holds the head */
    if (!nvme_in_iothread(n) && !n->in_tick) {
        nvme_engine_take_doorbells(n);
        if (nvme_engine_any_ready(n)) {
            nvme_engine_kick(n);
        }
    } else {
        nvme_engine_kick(n);
    }
}

/*
 * Run @fn(@opaque) in the engine's thread and wait for it: what the
 * register file does to the engine from a vCPU or the main loop (with the
 * BQL) when the engine lives in an iothread.
 */
void nvme_engine_run(NvmeCtrl *n, void (*fn)(void *), void *opaque)
{
    if (!nvme_in_iothread(n)) {
        fn(opaque);
    } else {
        aio_wait_bh_oneshot(n->ctx, fn, opaque);
    }
}

/*
 * Wait, in the engine's thread, until no command of ours is in the block
 * layer: completions run meanwhile (queued, posted when the caller says).
 */
void nvme_engine_drain(NvmeCtrl *n)
{
    while (n->inflight) {
        aio_poll(n->ctx, true);
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
        nvme_engine_drain(n);
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
    NvmeSQueue *sq;
    NvmeCQueue *cq;

    /* the newest first: I/O queues before the admin queue */
    while ((sq = QTAILQ_LAST(&n->active_sqs))) {
        nvme_engine_sq_delete(n, sq->sqid, post);
    }
    while ((cq = QTAILQ_LAST(&n->active_cqs))) {
        nvme_q_cq_delete(n, cq->cqid);
    }
    timer_del(n->tick_timer);
    qemu_bh_cancel(n->kick_bh);
}

/*
 * Doorbell eventfds (ioeventfd=on, with the BQL): while shadow doorbells
 * are on, a write to an I/O SQ tail doorbell only signals the engine's
 * notifier, without running device code in the writer's thread; its value
 * is not needed, the shadow holds it.  Without shadow doorbells the value
 * is needed, so the doorbells stay plain MMIO.
 */
void nvme_engine_ioeventfd_update(NvmeCtrl *n)
{
    bool want = n->params.ioeventfd && qatomic_read(&n->dbbuf_on) &&
                n->state == NVME_CTRL_ENABLED;
    uint32_t stride = nvme_db_stride(n->params.dstrd);

    if (want == !!n->ioeventfd_sqs) {
        return;
    }
    if (want) {
        /*
         * The SQs the host may create: those granted by Number of Queues,
         * which cannot change once I/O queues exist (Base 5.27.1.11)
         */
        n->ioeventfd_sqs = MIN(n->num_queues - 1,
                               FIELD_EX32(n->feat.num_queues, NVME_FEAT_NQ,
                                          NSQ) + 1);
    }
    trace_nvme_dev_ioeventfd(want);
    memory_region_transaction_begin();
    for (uint32_t qid = 1; qid <= n->ioeventfd_sqs; qid++) {
        hwaddr off = NVME_REG_DBS + 2ull * qid * stride;

        if (want) {
            memory_region_add_eventfd(&n->regs, off, sizeof(uint32_t),
                                      false, 0, &n->kick);
        } else {
            memory_region_del_eventfd(&n->regs, off, sizeof(uint32_t),
                                      false, 0, &n->kick);
        }
    }
    memory_region_transaction_commit();
    if (!want) {
        n->ioeventfd_sqs = 0;
    }
}

static void nvme_engine_ioeventfd_bh(void *opaque)
{
    nvme_engine_ioeventfd_update(opaque);
}

/* Shadow doorbells went on or off in the engine's thread */
void nvme_engine_dbbuf_changed(NvmeCtrl *n)
{
    if (!n->params.ioeventfd) {
        return;
    }
    if (!nvme_in_iothread(n)) {
        nvme_engine_ioeventfd_update(n);
    } else {
        /* it needs the BQL: the main loop applies it (idempotent) */
        aio_bh_schedule_oneshot(qemu_get_aio_context(),
                                nvme_engine_ioeventfd_bh, n);
    }
}

/*
 * Stop fetching and wait for the block requests in flight, so that none
 * of them touches guest memory later (controller reset, shutdown, fatal).
 */
void nvme_engine_quiesce(NvmeCtrl *n)
{
    timer_del(n->tick_timer);
    qemu_bh_cancel(n->kick_bh);
    nvme_engine_drain(n);
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

static void nvme_engine_pause_fn(void *opaque)
{
    NvmeCtrl *n = opaque;

    trace_nvme_dev_vm_pause(n->inflight);
    timer_del(n->tick_timer);
    qemu_bh_cancel(n->kick_bh);
    qemu_bh_cancel(n->retry_bh);
    nvme_engine_drain(n);
    /* what fits goes to guest memory now; the rest migrates as state */
    if (nvme_engine_serving(n)) {
        nvme_engine_post_all(n);
    }
    qemu_bh_cancel(n->post_bh);
}

/*
 * The VM stops (with the BQL, before the block layer is drained): fetch
 * nothing more, wait for the commands in the block layer and post their
 * completions, so that nothing is in flight or half fetched when the
 * device state is saved, and nothing changes after.
 */
void nvme_engine_pause(NvmeCtrl *n)
{
    qatomic_set(&n->vm_stopped, true);
    nvme_engine_run(n, nvme_engine_pause_fn, n);
}

static void nvme_engine_resume_fn(void *opaque)
{
    NvmeCtrl *n = opaque;

    trace_nvme_dev_vm_resume(n->state);
    nvme_irq_rearm(n);
    if (nvme_engine_serving(n)) {
        /* completions that waited, then what the host rang meanwhile */
        qemu_bh_schedule(n->post_bh);
    }
    /* commands an error action held (werror=/rerror=stop) run again */
    qemu_bh_schedule(n->retry_bh);
    nvme_engine_kick(n);
}

/* The VM runs (again, or for the first time on a destination) */
void nvme_engine_resume(NvmeCtrl *n)
{
    qatomic_set(&n->vm_stopped, false);
    nvme_engine_run(n, nvme_engine_resume_fn, n);
}

void nvme_engine_init(NvmeCtrl *n)
{
    n->ctx = n->params.iothread ? iothread_get_aio_context(n->params.iothread)
                                : qemu_get_aio_context();
    n->tick_timer = aio_timer_new(n->ctx, QEMU_CLOCK_VIRTUAL, SCALE_NS,
                                  nvme_engine_tick, n);
    /* guarded by nvme_guard_enter(), see nvme.h */
    n->kick_bh = aio_bh_new(n->ctx, nvme_engine_tick, n);
    n->post_bh = aio_bh_new(n->ctx, nvme_engine_post_bh, n);
    n->retry_bh = aio_bh_new(n->ctx, nvme_engine_retry_bh, n);
    event_notifier_init(&n->kick, 0);
    aio_set_event_notifier(n->ctx, &n->kick, nvme_engine_notified,
                           nvme_engine_poll, nvme_engine_poll_ready);
    aio_set_event_notifier_poll(n->ctx, &n->kick, nvme_engine_poll_begin,
                                nvme_engine_poll_end);
}

static void nvme_engine_detach(void *opaque)
{
    NvmeCtrl *n = opaque;

    aio_set_event_notifier(n->ctx, &n->kick, NULL, NULL, NULL);
}

void nvme_engine_fini(NvmeCtrl *n)
{
    nvme_engine_run(n, nvme_engine_detach, n);
    event_notifier_cleanup(&n->kick);
    timer_free(n->tick_timer);
    qemu_bh_delete(n->kick_bh);
    qemu_bh_delete(n->post_bh);
    qemu_bh_delete(n->retry_bh);
}
