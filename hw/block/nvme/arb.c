/*
 * NVMe command arbitration, NVMe Base Specification 2.0c section 3.4.4.
 *
 * Round robin: every SQ (admin included) is served in turn, at most
 * "burst" commands per turn.  Weighted round robin with urgent priority
 * class: the admin SQ, then urgent SQs, have strict priority; the high,
 * medium and low classes share what is left in proportion to their
 * weights.  A WRR round gives each class "weight" commands; a class whose
 * credit is spent waits until every class with work has spent its credit
 * (or has no work), then all credits are refilled.  Inside a class the
 * SQs are served round robin, "burst" commands at most per turn.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/block/nvme/arb.h"

/* WRR classes in service order after the strict priority ones */
static const NvmeQprio nvme_arb_weighted[] = {
    NVME_ARB_HIGH, NVME_ARB_MEDIUM, NVME_ARB_LOW,
};

void nvme_arb_init(NvmeArb *arb, unsigned max_queues)
{
    memset(arb, 0, sizeof(*arb));
    arb->max_queues = max_queues;
    for (unsigned c = 0; c < NVME_ARB_NUM_CLASSES; c++) {
        arb->cls[c].qids = g_new0(uint16_t, max_queues);
        arb->weight[c] = 1;
        arb->credit[c] = 1;
    }
    arb->prio_of = g_new0(NvmeQprio, max_queues);
    arb->last_class = -1;
}

void nvme_arb_fini(NvmeArb *arb)
{
    for (unsigned c = 0; c < NVME_ARB_NUM_CLASSES; c++) {
        g_free(arb->cls[c].qids);
    }
    g_free(arb->prio_of);
    memset(arb, 0, sizeof(*arb));
}

/* The class a queue lives in under the current mode */
static NvmeQprio nvme_arb_class_of(NvmeArb *arb, NvmeQprio prio)
{
    return arb->mode == NVME_ARB_RR ? NVME_ARB_MEDIUM : prio;
}

static void nvme_arb_class_add(NvmeArbClass *c, uint16_t qid)
{
    c->qids[c->n++] = qid;
}

static void nvme_arb_class_remove(NvmeArbClass *c, uint16_t qid)
{
    for (unsigned i = 0; i < c->n; i++) {
        if (c->qids[i] == qid) {
            memmove(&c->qids[i], &c->qids[i + 1],
                    (c->n - i - 1) * sizeof(c->qids[0]));
            c->n--;
            if (c->next > i) {
                c->next--;
            }
            if (c->next >= c->n) {
                c->next = 0;
            }
            return;
        }
    }
}

static bool nvme_arb_member(NvmeArb *arb, uint16_t qid)
{
    NvmeArbClass *c = &arb->cls[nvme_arb_class_of(arb, arb->prio_of[qid])];

    for (unsigned i = 0; i < c->n; i++) {
        if (c->qids[i] == qid) {
            return true;
        }
    }
    return false;
}

void nvme_arb_set_mode(NvmeArb *arb, NvmeArbMode mode)
{
    g_autofree uint16_t *members = g_new(uint16_t, arb->max_queues);
    unsigned n = 0;

    for (unsigned c = 0; c < NVME_ARB_NUM_CLASSES; c++) {
        for (unsigned i = 0; i < arb->cls[c].n; i++) {
            members[n++] = arb->cls[c].qids[i];
        }
        arb->cls[c].n = 0;
        arb->cls[c].next = 0;
    }
    arb->mode = mode;
    for (unsigned i = 0; i < n; i++) {
        nvme_arb_class_add(&arb->cls[nvme_arb_class_of(arb,
                                     arb->prio_of[members[i]])], members[i]);
    }
    arb->last_class = -1;
}

void nvme_arb_configure(NvmeArb *arb, unsigned ab, unsigned hpw,
                        unsigned mpw, unsigned lpw)
{
    arb->burst = ab >= 7 ? 0 : 1u << ab;
    arb->weight[NVME_ARB_HIGH] = hpw + 1;
    arb->weight[NVME_ARB_MEDIUM] = mpw + 1;
    arb->weight[NVME_ARB_LOW] = lpw + 1;
    for (unsigned i = 0; i < ARRAY_SIZE(nvme_arb_weighted); i++) {
        NvmeQprio c = nvme_arb_weighted[i];
        arb->credit[c] = arb->weight[c];
    }
}

void nvme_arb_add(NvmeArb *arb, uint16_t qid, NvmeQprio prio)
{
    g_assert(qid < arb->max_queues && prio < NVME_ARB_NUM_CLASSES);
    if (nvme_arb_member(arb, qid)) {
        nvme_arb_remove(arb, qid);
    }
    arb->prio_of[qid] = prio;
    nvme_arb_class_add(&arb->cls[nvme_arb_class_of(arb, prio)], qid);
}

void nvme_arb_remove(NvmeArb *arb, uint16_t qid)
{
    g_assert(qid < arb->max_queues);
    nvme_arb_class_remove(&arb->cls[nvme_arb_class_of(arb,
                                    arb->prio_of[qid])], qid);
}

/* Next ready queue of a class in round robin order, or false */
static bool nvme_arb_pick(NvmeArbClass *c, NvmeArbReadyFn *ready,
                          void *opaque, uint16_t *qid)
{
    for (unsigned i = 0; i < c->n; i++) {
        unsigned pos = (c->next + i) % c->n;

        if (ready(opaque, c->qids[pos])) {
            *qid = c->qids[pos];
            c->next = (pos + 1) % c->n;
            return true;
        }
    }
    return false;
}

static unsigned nvme_arb_limit(NvmeArb *arb, unsigned credit)
{
    unsigned max = arb->burst ? arb->burst : UINT_MAX;

    return MIN(max, credit);
}

bool nvme_arb_next(NvmeArb *arb, NvmeArbReadyFn *ready, void *opaque,
                   uint16_t *qid, unsigned *max)
{
    static const NvmeQprio strict[] = { NVME_ARB_ADMIN, NVME_ARB_URGENT };

    if (arb->mode == NVME_ARB_RR) {
        arb->last_class = NVME_ARB_MEDIUM;
        if (!nvme_arb_pick(&arb->cls[NVME_ARB_MEDIUM], ready, opaque, qid)) {
            return false;
        }
        *max = nvme_arb_limit(arb, UINT_MAX);
        return true;
    }

    for (unsigned i = 0; i < ARRAY_SIZE(strict); i++) {
        if (nvme_arb_pick(&arb->cls[strict[i]], ready, opaque, qid)) {
            arb->last_class = strict[i];
            *max = nvme_arb_limit(arb, UINT_MAX);
            return true;
        }
    }

    /* two passes: with the credit left, then after a refill */
    for (unsigned pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < ARRAY_SIZE(nvme_arb_weighted); i++) {
            NvmeQprio c = nvme_arb_weighted[i];

            if (arb->credit[c] &&
                nvme_arb_pick(&arb->cls[c], ready, opaque, qid)) {
                arb->last_class = c;
                *max = nvme_arb_limit(arb, arb->credit[c]);
                return true;
            }
        }
        for (unsigned i = 0; i < ARRAY_SIZE(nvme_arb_weighted); i++) {
            NvmeQprio c = nvme_arb_weighted[i];
            arb->credit[c] = arb->weight[c];
        }
    }
    arb->last_class = -1;
    return false;
}

void nvme_arb_charge(NvmeArb *arb, unsigned taken)
{
    int c = arb->last_class;

    if (arb->mode != NVME_ARB_WRR || c < 0 ||
        c == NVME_ARB_ADMIN || c == NVME_ARB_URGENT) {
        return;
    }
    arb->credit[c] -= MIN(taken, arb->credit[c]);
}
