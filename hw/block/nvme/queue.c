/*
 * NVMe queues and the service engine (NVMe Base Specification 2.0c
 * sections 3.3 and 3.4).
 *
 * Doorbell writes only record the new SQ tail or CQ head and arm the
 * service timer.  A service tick asks the arbiter for the next SQ and
 * fetches commands from it, at most params.tick_budget commands per tick,
 * and re-arms itself while any SQ still has work.  A command is fetched
 * only when its CQ has a slot for its completion (cq->reserved counts the
 * promised slots), so a completion is never dropped: when the CQ is full
 * (or every request of the SQ is outstanding) the SQ is paused.  Only two
 * events can end a pause, and both kick the engine: the host moving the CQ
 * head (doorbell) and completions being posted (which frees requests).  No
 * timer polls a paused queue, so an idle or stuck host costs nothing.
 * An AER waiting for an event gives its slot back (nvme_q_park), as it
 * may wait forever; when it completes, its completion waits on the CQ's
 * done list until the CQ has room.
 * Completions are queued on their CQ and posted in batches by one bottom
 * half, followed by at most one interrupt per vector, subject to interrupt
 * coalescing (Set Features 08h/09h).
 *
 * After a fatal error (CSTS.CFS) the engine stops: nothing is fetched or
 * posted, no interrupt is sent and no timer of ours stays armed until the
 * host clears CC.EN or the device is reset.
 *
 * Everything here runs in n->ctx (the main loop's AioContext for now),
 * with the BQL held.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "hw/pci/msix.h"
#include "exec/memory.h"
#include "system/xen.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "trace.h"

/* Base 4.1.3 */
#define NVME_SQE_SIZE sizeof(NvmeSqe)
#define NVME_CQE_SIZE sizeof(NvmeCqe)

static NvmeCQueue *nvme_q_cq_of(NvmeSQueue *sq)
{
    return &sq->ctrl->cq[sq->cqid];
}

static uint32_t nvme_q_cq_used(NvmeCQueue *cq)
{
    return (cq->tail + cq->size - cq->head) % cq->size;
}

/* @req promises itself a slot of @cq for its completion */
static void nvme_q_cq_slot_take(NvmeCQueue *cq, NvmeRequest *req)
{
    if (!req->cq_slot) {
        req->cq_slot = true;
        cq->reserved++;
    }
}

/* @req's completion was posted or dropped, or it was parked */
static void nvme_q_cq_slot_give(NvmeCQueue *cq, NvmeRequest *req)
{
    if (req->cq_slot) {
        req->cq_slot = false;
        cq->reserved--;
    }
}

/* Slots left for completions not yet promised to a fetched command */
static uint32_t nvme_q_cq_room(NvmeCQueue *cq)
{
    uint32_t busy = nvme_q_cq_used(cq) + cq->reserved;

    return busy >= cq->size - 1 ? 0 : cq->size - 1 - busy;
}

/*
 * Guest memory the controller DMAs to must be RAM: a queue or data buffer
 * placed over an MMIO region (our own BAR0 included) is refused, so that
 * no DMA of ours can re-enter the device.
 */
bool nvme_q_is_ram(NvmeCtrl *n, uint64_t addr, uint64_t len)
{
    AddressSpace *as = nvme_as(n);
    MemoryRegion *mr;
    hwaddr xlat, l = len;

    if (!len || addr + len < addr) {
        return false;
    }
    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(as, addr, &xlat, &l, true,
                                 MEMTXATTRS_UNSPECIFIED);
    return l >= len && memory_region_is_ram(mr);
}

/*
 * Timer callbacks are not guarded by the memory core like MMIO handlers
 * and BHs: engage the device's re-entrancy guard ourselves, so that an
 * MSI-X message or DMA aimed at our own BAR is blocked, not dispatched.
 */
static bool nvme_q_guard_enter(NvmeCtrl *n)
{
    MemReentrancyGuard *g = &nvme_dev(n)->mem_reentrancy_guard;
    bool was = g->engaged_in_io;

    g->engaged_in_io = true;
    return was;
}

static void nvme_q_guard_leave(NvmeCtrl *n, bool was)
{
    nvme_dev(n)->mem_reentrancy_guard.engaged_in_io = was;
}

/* ---- guest errors ------------------------------------------------------ */

uint16_t nvme_q_guest_error(NvmeCtrl *n, NvmeRequest *req, uint16_t status,
                            const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    trace_nvme_dev_guest_error(req ? req->sq->sqid : 0, req ? req->cid : 0,
                           nvme_sc(status), msg);
    qemu_log_mask(LOG_GUEST_ERROR, "nvme %s: %s (status 0x%x)\n",
                  n->params.serial, msg, nvme_sc(status));
    return status | NVME_STATUS_DNR;
}

/* ---- data pointers ------------------------------------------------------ */

typedef struct NvmeQDma {
    NvmeRequest *req;
    AddressSpace *as;
    bool bad;
} NvmeQDma;

static bool nvme_q_dma_read(void *opaque, uint64_t addr, void *buf,
                            uint64_t len)
{
    NvmeQDma *d = opaque;

    return dma_memory_read(d->as, addr, buf, len,
                           MEMTXATTRS_UNSPECIFIED) == MEMTX_OK;
}

static void nvme_q_dma_add(void *opaque, uint64_t addr, uint64_t len)
{
    NvmeQDma *d = opaque;

    if (!nvme_q_is_ram(d->req->sq->ctrl, addr, len)) {
        d->bad = true;
        return;
    }
    qemu_sglist_add(&d->req->sg, addr, len);
}

uint16_t nvme_q_map_data(NvmeRequest *req, uint64_t len)
{
    NvmeCtrl *n = req->sq->ctrl;
    uint32_t cdw0 = le32_to_cpu(req->cmd.cdw0);
    NvmeQDma d = { .req = req, .as = nvme_as(n) };
    NvmeDmaOps ops = {
        .read = nvme_q_dma_read, .add = nvme_q_dma_add, .opaque = &d,
    };
    uint16_t status;

    g_assert(!req->sg_valid);
    qemu_sglist_init(&req->sg, nvme_dev(n), 4, d.as);
    req->sg_valid = true;
    if (FIELD_EX32(cdw0, NVME_CDW0, PSDT) == NVME_PSDT_PRP) {
        status = nvme_dma_prp(le64_to_cpu(req->cmd.dptr[0]),
                              le64_to_cpu(req->cmd.dptr[1]), len,
                              n->page_bits, &ops);
    } else {
        status = nvme_dma_sgl(req->cmd.dptr, len, &ops);
    }
    if (!status && d.bad) {
        status = NVME_DATA_TRANSFER_ERROR;
    }
    if (status) {
        return nvme_q_guest_error(n, req, status,
                                  "data pointer for %" PRIu64 " bytes "
                                  "rejected", len);
    }
    return NVME_SUCCESS;
}

uint16_t nvme_q_to_guest(NvmeRequest *req, const void *buf, uint64_t len)
{
    uint16_t status = nvme_q_map_data(req, len);

    if (status) {
        return status;
    }
    if (dma_buf_read((void *)buf, len, NULL, &req->sg,
                     MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
        return nvme_q_guest_error(req->sq->ctrl, req,
                                  NVME_DATA_TRANSFER_ERROR,
                                  "write to guest memory failed");
    }
    return NVME_SUCCESS;
}

uint16_t nvme_q_from_guest(NvmeRequest *req, void *buf, uint64_t len)
{
    uint16_t status = nvme_q_map_data(req, len);

    if (status) {
        return status;
    }
    if (dma_buf_write(buf, len, NULL, &req->sg,
                      MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
        return nvme_q_guest_error(req->sq->ctrl, req,
                                  NVME_DATA_TRANSFER_ERROR,
                                  "read from guest memory failed");
    }
    return NVME_SUCCESS;
}

/*
 * Host pointer to @len bytes of guest RAM at @addr that the device may
 * access directly (for writing when @to_guest), with a reference on the
 * memory region that nvme_q_unmap_direct() drops.  NULL when the range is
 * not one piece of such RAM: the caller then takes the checked path.
 */
static void *nvme_q_ram_ptr(NvmeCtrl *n, uint64_t addr, uint64_t len,
                            bool to_guest)
{
    MemoryRegion *mr;
    hwaddr xlat, l = len;

    if (xen_enabled() || addr + len < addr) {
        return NULL;
    }
    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(nvme_as(n), addr, &xlat, &l, to_guest,
                                 MEMTXATTRS_UNSPECIFIED);
    if (l < len || !memory_region_is_ram(mr) ||
        !memory_access_is_direct(mr, to_guest, MEMTXATTRS_UNSPECIFIED)) {
        return NULL;
    }
    memory_region_ref(mr);
    return (uint8_t *)memory_region_get_ram_ptr(mr) + xlat;
}

void nvme_q_unmap_direct(NvmeRequest *req)
{
    AddressSpace *as = nvme_as(req->sq->ctrl);

    for (unsigned i = 0; i < req->ndirect; i++) {
        address_space_unmap(as, req->direct[i].iov_base,
                            req->direct[i].iov_len, req->direct_to_guest,
                            req->direct[i].iov_len);
    }
    req->ndirect = 0;
}

/*
 * The fast path of Read and Write: a PRP data pointer naming at most two
 * data pages (PRP1, and PRP2 as a page, not a list), each in RAM the
 * device can access directly, becomes req->iov pointing straight at guest
 * memory.  Returns false, with nothing mapped, for anything else (SGLs,
 * PRP lists, offsets, MMIO, ROM, bad addresses); the caller then uses
 * nvme_q_map_data(), which validates and reports errors.
 */
bool nvme_q_map_direct(NvmeRequest *req, uint64_t len, bool to_guest)
{
    NvmeCtrl *n = req->sq->ctrl;
    uint32_t cdw0 = le32_to_cpu(req->cmd.cdw0);
    uint64_t page = 1ull << n->page_bits;
    uint64_t prp1 = le64_to_cpu(req->cmd.dptr[0]);
    uint64_t prp2 = le64_to_cpu(req->cmd.dptr[1]);
    uint64_t seg[NVME_DIRECT_SEGS][2];
    unsigned nseg = 1;

    if (FIELD_EX32(cdw0, NVME_CDW0, PSDT) != NVME_PSDT_PRP || !len ||
        prp1 & NVME_PRP_ALIGN_MASK) {
        return false;
    }
    seg[0][0] = prp1;
    seg[0][1] = MIN(len, page - (prp1 & (page - 1)));
    if (seg[0][1] < len) {
        if (len - seg[0][1] > page || prp2 & (page - 1)) {
            return false;
        }
        seg[1][0] = prp2;
        seg[1][1] = len - seg[0][1];
        nseg = 2;
    }
    g_assert(!req->ndirect);
    req->direct_to_guest = to_guest;
    for (unsigned i = 0; i < nseg; i++) {
        void *p = nvme_q_ram_ptr(n, seg[i][0], seg[i][1], to_guest);

        if (!p) {
            nvme_q_unmap_direct(req);
            return false;
        }
        req->direct[i] = (struct iovec) { .iov_base = p,
                                          .iov_len = seg[i][1] };
        req->ndirect++;
    }
    qemu_iovec_init_external(&req->iov, req->direct, nseg);
    return true;
}

/* @req goes back to its SQ's free list, with any CQ slot it held */
void nvme_q_req_release(NvmeRequest *req)
{
    NvmeSQueue *sq = req->sq;

    nvme_q_cq_slot_give(nvme_q_cq_of(sq), req);

    if (req->sg_valid) {
        qemu_sglist_destroy(&req->sg);
        req->sg_valid = false;
    }
    nvme_q_unmap_direct(req);
    if (req->iov.nalloc) {
        qemu_iovec_destroy(&req->iov);
    }
    g_free(req->bounce);
    g_free(req->bounce2);
    req->bounce = req->bounce2 = NULL;
    QTAILQ_INSERT_TAIL(&sq->free_list, req, entry);
}

/* ---- interrupts --------------------------------------------------------- */

static void nvme_q_fire(NvmeCtrl *n, uint16_t vector)
{
    NvmeVector *v = &n->vec[vector];

    v->aggregated = 0;
    timer_del(v->timer);
    v->fired++;
    trace_nvme_dev_irq_msix(vector, v->fired);
    msix_notify(nvme_pci(n), vector);
}

static void nvme_q_notify(NvmeCtrl *n, NvmeCQueue *cq, uint32_t posted)
{
    NvmeVector *v;
    uint32_t thr, time;

    if (!cq->ien) {
        return;
    }
    if (!msix_enabled(nvme_pci(n))) {
        nvme_ctrl_update_irq(n);
        return;
    }
    v = &n->vec[cq->vector];
    thr = FIELD_EX32(n->feat.irq_coalescing, NVME_FEAT_IRQC, THR) + 1;
    time = FIELD_EX32(n->feat.irq_coalescing, NVME_FEAT_IRQC, TIME);
    /* coalescing never applies to the admin CQ (Base 5.27.1.7) */
    if (cq->cqid == NVME_ADMIN_QID || v->cd || time == 0) {
        nvme_q_fire(n, cq->vector);
        return;
    }
    v->aggregated += posted;
    if (v->aggregated >= thr) {
        nvme_q_fire(n, cq->vector);
    } else if (!timer_pending(v->timer)) {
        timer_mod(v->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                  (int64_t)time * NVME_IRQC_TIME_UNIT_NS);
    }
}

/* ---- completion posting ------------------------------------------------- */

void nvme_q_complete(NvmeRequest *req)
{
    NvmeCtrl *n = req->sq->ctrl;
    NvmeCQueue *cq = nvme_q_cq_of(req->sq);

    trace_nvme_dev_complete(req->sq->sqid, req->cid, req->opcode,
                        nvme_sc(req->status), req->dw0);
    if (nvme_sc(req->status) != NVME_SUCCESS) {
        nvme_log_error(n, req);
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
void nvme_q_park(NvmeRequest *req)
{
    nvme_q_cq_slot_give(nvme_q_cq_of(req->sq), req);
}

/*
 * Post the completions queued on @cq: the entries up to the CQ's wrap
 * point (or its head) go to guest memory with one write.
 */
static uint32_t nvme_q_cq_post(NvmeCtrl *n, NvmeCQueue *cq)
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
             * held for it (nvme_q_park), or a queue was reset under us;
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
        if (pci_dma_write(nvme_pci(n),
                          cq->dma_addr + (uint64_t)cq->tail * NVME_CQE_SIZE,
                          cqes, cnt * NVME_CQE_SIZE) != MEMTX_OK) {
            nvme_regs_fatal(n, "completion queue write failed");
            return posted;
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
    return posted;
}

void nvme_q_post_all(NvmeCtrl *n)
{
    if (n->state == NVME_CTRL_FATAL) {
        /* nothing more goes to guest memory; CC.EN=0 drops them */
        return;
    }
    for (uint32_t i = 0; i < n->num_queues; i++) {
        NvmeCQueue *cq = &n->cq[i];
        uint32_t posted;

        if (cq->state != NVME_QUEUE_ACTIVE ||
            QTAILQ_EMPTY(&cq->done_list)) {
            continue;
        }
        posted = nvme_q_cq_post(n, cq);
        if (posted) {
            trace_nvme_dev_cq_post(cq->cqid, posted, cq->tail);
            nvme_q_notify(n, cq, posted);
        }
        if (n->state == NVME_CTRL_FATAL) {
            return;
        }
    }
}

static void nvme_q_post_bh(void *opaque)
{
    NvmeCtrl *n = opaque;

    nvme_q_post_all(n);
    /* freed slots may let paused SQs go on */
    nvme_q_kick(n);
}

/* ---- the service engine -------------------------------------------------- */

static bool nvme_q_sq_ready(void *opaque, uint16_t qid)
{
    NvmeCtrl *n = opaque;
    NvmeSQueue *sq = &n->sq[qid];

    if (sq->state != NVME_QUEUE_ACTIVE || sq->head == sq->tail) {
        return false;
    }
    if (!nvme_q_cq_room(nvme_q_cq_of(sq)) || QTAILQ_EMPTY(&sq->free_list)) {
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

/* Execute one fetched SQE; sq->head is past it */
static void nvme_q_exec(NvmeCtrl *n, NvmeSQueue *sq, const NvmeSqe *sqe)
{
    NvmeRequest *req = QTAILQ_FIRST(&sq->free_list);
    uint32_t cdw0 = le32_to_cpu(sqe->cdw0);
    uint16_t status;

    req->cmd = *sqe;
    QTAILQ_REMOVE(&sq->free_list, req, entry);
    QTAILQ_INSERT_TAIL(&sq->out_list, req, entry);
    sq->head = sq->head + 1 == sq->size ? 0 : sq->head + 1;
    nvme_q_cq_slot_take(nvme_q_cq_of(sq), req);

    req->ns = NULL;
    req->status = NVME_SUCCESS;
    req->dw0 = req->dw1 = 0;
    req->cid = FIELD_EX32(cdw0, NVME_CDW0, CID);
    req->opcode = FIELD_EX32(cdw0, NVME_CDW0, OPC);
    req->slba = 0;
    req->aio_pending = 0;
    req->aio_ret = 0;
    req->flags = 0;

    status = sq->sqid == NVME_ADMIN_QID ? nvme_admin_exec(n, req)
                                        : nvme_io_exec(n, req);
    if (status != NVME_NO_COMPLETE) {
        req->status = status;
        nvme_q_complete(req);
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
static unsigned nvme_q_fetch_run(NvmeCtrl *n, NvmeSQueue *sq, unsigned want)
{
    uint32_t head = sq->head;
    uint32_t avail = (sq->tail > head ? sq->tail : sq->size) - head;
    unsigned run = MIN(MIN(want, avail), (unsigned)NVME_FETCH_MAX);
    unsigned i;

    if (pci_dma_read(nvme_pci(n), sq->dma_addr + (uint64_t)head * NVME_SQE_SIZE,
                     n->fetch_buf, run * NVME_SQE_SIZE) != MEMTX_OK) {
        nvme_regs_fatal(n, "submission queue read failed");
        return 0;
    }
    for (i = 0; i < run; i++) {
        /* the first entry was checked by the caller */
        if (i && (n->state != NVME_CTRL_ENABLED ||
                  !nvme_q_sq_ready(n, sq->sqid))) {
            break;
        }
        nvme_q_exec(n, sq, &n->fetch_buf[i]);
    }
    return i;
}

/*
 * Whether any SQ can be served now.  Every SQ is looked at, so that each
 * one that cannot go on is marked paused, to be kicked by its CQ head
 * doorbell or by the posting of completions.
 */
static bool nvme_q_any_ready(NvmeCtrl *n)
{
    bool ready = false;

    for (uint32_t i = 0; i < n->num_queues; i++) {
        ready |= nvme_q_sq_ready(n, i);
    }
    return ready;
}

static void nvme_q_serve(NvmeCtrl *n)
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

        if (!nvme_arb_next(&n->arb, nvme_q_sq_ready, n, &qid, &max)) {
            break;
        }
        max = MIN(max, budget - served);
        while (taken < max && n->state == NVME_CTRL_ENABLED &&
               nvme_q_sq_ready(n, qid)) {
            taken += nvme_q_fetch_run(n, &n->sq[qid], max - taken);
        }
        nvme_arb_charge(&n->arb, taken);
        served += taken;
    }
    n->in_tick = false;
    trace_nvme_dev_tick(served);
    nvme_q_post_all(n);
    if (n->state != NVME_CTRL_ENABLED) {
        return;
    }
    if (nvme_q_any_ready(n)) {
        timer_mod(n->tick_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                  n->params.tick_ns);
    }
}

static void nvme_q_tick(void *opaque)
{
    NvmeCtrl *n = opaque;
    bool guard = nvme_q_guard_enter(n);

    nvme_q_serve(n);
    nvme_q_guard_leave(n, guard);
}

void nvme_q_kick(NvmeCtrl *n)
{
    if (n->state != NVME_CTRL_ENABLED || timer_pending(n->tick_timer)) {
        return;
    }
    timer_mod(n->tick_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
              n->params.tick_ns);
}

void nvme_q_cq_head_moved(NvmeCtrl *n, NvmeCQueue *cq)
{
    NvmeSQueue *sq;

    if (!msix_enabled(nvme_pci(n))) {
        nvme_ctrl_update_irq(n);
    }
    if (!QTAILQ_EMPTY(&cq->done_list)) {
        qemu_bh_schedule(n->post_bh);
    }
    QTAILQ_FOREACH(sq, &cq->sq_list, cq_entry) {
        if (sq->paused) {
            nvme_q_kick(n);
            break;
        }
    }
}

/* ---- queue objects ------------------------------------------------------ */

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
    if (msix_present(PCI_DEVICE(n))) {
        msix_vector_use(PCI_DEVICE(n), vector);
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
    if (msix_present(PCI_DEVICE(n))) {
        msix_vector_unuse(PCI_DEVICE(n), cq->vector);
    }
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
 * Delete an SQ: its in-flight commands finish first (we wait for the
 * block layer rather than cancel, so no write is left half done) and, when
 * @post, their completions are posted before the queue goes away
 * (Base 5.6).
 */
void nvme_q_sq_delete(NvmeCtrl *n, uint16_t sqid, bool post)
{
    NvmeSQueue *sq = &n->sq[sqid];
    NvmeCQueue *cq;
    NvmeRequest *req, *next;

    if (sq->state != NVME_QUEUE_ACTIVE) {
        return;
    }
    cq = nvme_q_cq_of(sq);
    if (!QTAILQ_EMPTY(&sq->out_list)) {
        nvme_ctrl_drain(n);
    }
    /* what is left holds no I/O (an AER): it ends as aborted */
    while ((req = QTAILQ_FIRST(&sq->out_list))) {
        req->status = NVME_ABORTED_SQ_DELETION;
        nvme_q_complete(req);
    }
    if (post) {
        nvme_q_post_all(n);
    }
    /* whatever could not be posted is dropped with the queue */
    QTAILQ_FOREACH_SAFE(req, &cq->done_list, entry, next) {
        if (req->sq == sq) {
            QTAILQ_REMOVE(&cq->done_list, req, entry);
            nvme_q_req_release(req);
        }
    }
    nvme_arb_remove(&n->arb, sqid);
    QTAILQ_REMOVE(&cq->sq_list, sq, cq_entry);
    g_free(sq->reqs);
    sq->reqs = NULL;
    sq->state = NVME_QUEUE_FREE;
    trace_nvme_dev_sq_delete(sqid);
}

void nvme_q_delete_all(NvmeCtrl *n, bool post)
{
    for (uint32_t i = n->num_queues; i-- > 0;) {
        nvme_q_sq_delete(n, i, post);
    }
    for (uint32_t i = n->num_queues; i-- > 0;) {
        nvme_q_cq_delete(n, i);
    }
    timer_del(n->tick_timer);
}

/* ---- setup -------------------------------------------------------------- */

static void nvme_q_vector_timer(void *opaque)
{
    NvmeVector *v = opaque;
    bool guard = nvme_q_guard_enter(v->ctrl);

    if (v->aggregated && v->ctrl->state != NVME_CTRL_FATAL) {
        nvme_q_fire(v->ctrl, v->index);
    }
    nvme_q_guard_leave(v->ctrl, guard);
}

/* Drop pending coalesced interrupts */
static void nvme_q_vector_quiesce(NvmeCtrl *n)
{
    for (uint32_t i = 0; i < n->params.msix_qsize; i++) {
        n->vec[i].aggregated = 0;
        timer_del(n->vec[i].timer);
    }
}

void nvme_q_vector_reset(NvmeCtrl *n)
{
    nvme_q_vector_quiesce(n);
    for (uint32_t i = 0; i < n->params.msix_qsize; i++) {
        n->vec[i].cd = false;
    }
}

/*
 * The controller went fatal (n->state is already NVME_CTRL_FATAL): stop
 * fetching, wait for the block requests in flight so that none of them
 * writes guest memory later, and keep their completions unposted; drop
 * pending coalesced interrupts.  The queues stay until CC.EN=0 or a reset
 * deletes them.
 */
void nvme_q_stop(NvmeCtrl *n)
{
    g_assert(n->state == NVME_CTRL_FATAL);
    timer_del(n->tick_timer);
    nvme_ctrl_drain(n);
    nvme_q_vector_quiesce(n);
}

void nvme_q_init(NvmeCtrl *n)
{
    n->ctx = qemu_get_aio_context();
    n->num_queues = n->params.max_ioqpairs + 1;
    n->sq = g_new0(NvmeSQueue, n->num_queues);
    n->cq = g_new0(NvmeCQueue, n->num_queues);
    n->vec = g_new0(NvmeVector, n->params.msix_qsize);
    for (uint32_t i = 0; i < n->params.msix_qsize; i++) {
        n->vec[i].ctrl = n;
        n->vec[i].index = i;
        n->vec[i].timer = aio_timer_new(n->ctx, QEMU_CLOCK_VIRTUAL, SCALE_NS,
                                        nvme_q_vector_timer, &n->vec[i]);
    }
    nvme_arb_init(&n->arb, n->num_queues);
    n->tick_timer = aio_timer_new(n->ctx, QEMU_CLOCK_VIRTUAL, SCALE_NS,
                                  nvme_q_tick, n);
    n->post_bh = aio_bh_new_guarded(n->ctx, nvme_q_post_bh, n,
                                    &DEVICE(n)->mem_reentrancy_guard);
}

void nvme_q_fini(NvmeCtrl *n)
{
    nvme_q_delete_all(n, false);
    for (uint32_t i = 0; i < n->params.msix_qsize; i++) {
        timer_free(n->vec[i].timer);
    }
    timer_free(n->tick_timer);
    qemu_bh_delete(n->post_bh);
    nvme_arb_fini(&n->arb);
    g_free(n->vec);
    g_free(n->sq);
    g_free(n->cq);
}
