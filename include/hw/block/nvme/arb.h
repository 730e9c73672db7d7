/*
 * NVMe command arbitration (Base 3.4.4): round robin, and weighted round
 * robin with an urgent priority class.  Pure code: it knows queue ids and
 * their priority class, and asks its caller which queues have work.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_NVME_ARB_H
#define HW_BLOCK_NVME_ARB_H

/* Queue priority as given at Create I/O SQ (Base Figure 153 QPRIO) */
typedef enum NvmeQprio {
    NVME_ARB_URGENT = 0,
    NVME_ARB_HIGH   = 1,
    NVME_ARB_MEDIUM = 2,
    NVME_ARB_LOW    = 3,
    NVME_ARB_ADMIN  = 4,        /* admin SQ: strict priority above urgent */
    NVME_ARB_NUM_CLASSES,
} NvmeQprio;

typedef enum NvmeArbMode {
    NVME_ARB_RR,                /* every SQ in one round robin */
    NVME_ARB_WRR,               /* admin > urgent > weighted H/M/L */
} NvmeArbMode;

typedef struct NvmeArbClass {
    uint16_t *qids;             /* members, in round robin order */
    unsigned n;
    unsigned next;              /* round robin position */
} NvmeArbClass;

typedef struct NvmeArb {
    NvmeArbMode mode;
    unsigned max_queues;
    unsigned burst;             /* commands per SQ per turn, 0 = no limit */
    unsigned weight[NVME_ARB_NUM_CLASSES];  /* 1's based, H/M/L only */
    unsigned credit[NVME_ARB_NUM_CLASSES];  /* left in this WRR round */
    NvmeArbClass cls[NVME_ARB_NUM_CLASSES];
    NvmeQprio *prio_of;         /* indexed by qid */
    int last_class;             /* class of the last grant, -1 if none */
} NvmeArb;

/* Tells whether queue @qid has a command the engine may fetch now */
typedef bool NvmeArbReadyFn(void *opaque, uint16_t qid);

void nvme_arb_init(NvmeArb *arb, unsigned max_queues);
void nvme_arb_fini(NvmeArb *arb);
void nvme_arb_set_mode(NvmeArb *arb, NvmeArbMode mode);
/*
 * Arbitration feature (Base 5.27.1.1): @ab is the burst exponent (7 = no
 * limit), weights are 0's based as the guest writes them.
 */
void nvme_arb_configure(NvmeArb *arb, unsigned ab, unsigned hpw,
                        unsigned mpw, unsigned lpw);
void nvme_arb_add(NvmeArb *arb, uint16_t qid, NvmeQprio prio);
void nvme_arb_remove(NvmeArb *arb, uint16_t qid);
/*
 * Pick the next queue to serve.  On success returns true with *qid and
 * the most commands (*max, >= 1) that may be taken from it in this turn;
 * the caller then reports how many it took with nvme_arb_charge().
 */
bool nvme_arb_next(NvmeArb *arb, NvmeArbReadyFn *ready, void *opaque,
                   uint16_t *qid, unsigned *max);
void nvme_arb_charge(NvmeArb *arb, unsigned taken);

#endif /* HW_BLOCK_NVME_ARB_H */
