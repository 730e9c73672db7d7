/*
 * Unit tests for the NVMe arbiter (hw/block/nvme/arb.c): round robin,
 * weighted round robin weights, burst and the urgent / admin classes.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/block/nvme/arb.h"

#define MAXQ 16

typedef struct Queues {
    bool ready[MAXQ];
    unsigned served[MAXQ];
} Queues;

static bool ready_cb(void *opaque, uint16_t qid)
{
    Queues *q = opaque;

    return q->ready[qid];
}

/* Serve @rounds grants, taking as many commands as each grant allows */
static unsigned run(NvmeArb *arb, Queues *q, unsigned commands)
{
    unsigned done = 0;

    while (done < commands) {
        uint16_t qid;
        unsigned max, take;

        if (!nvme_arb_next(arb, ready_cb, q, &qid, &max)) {
            break;
        }
        g_assert_cmpuint(max, >=, 1);
        take = MIN(max, commands - done);
        q->served[qid] += take;
        nvme_arb_charge(arb, take);
        done += take;
    }
    return done;
}

static void test_rr_order(void)
{
    NvmeArb arb;
    Queues q = { 0 };
    uint16_t qid;
    unsigned max;

    nvme_arb_init(&arb, MAXQ);
    nvme_arb_configure(&arb, 0, 0, 0, 0);       /* burst 1 */
    for (unsigned i = 0; i < 3; i++) {
        nvme_arb_add(&arb, i, i == 0 ? NVME_ARB_ADMIN : NVME_ARB_HIGH);
        q.ready[i] = true;
    }
    for (unsigned round = 0; round < 3; round++) {
        for (unsigned i = 0; i < 3; i++) {
            g_assert_true(nvme_arb_next(&arb, ready_cb, &q, &qid, &max));
            g_assert_cmpuint(qid, ==, i);
            g_assert_cmpuint(max, ==, 1);
            nvme_arb_charge(&arb, 1);
        }
    }
    /* nothing ready: no grant */
    memset(q.ready, 0, sizeof(q.ready));
    g_assert_false(nvme_arb_next(&arb, ready_cb, &q, &qid, &max));
    nvme_arb_fini(&arb);
}

static void test_rr_burst(void)
{
    NvmeArb arb;
    Queues q = { 0 };
    uint16_t qid;
    unsigned max;

    nvme_arb_init(&arb, MAXQ);
    nvme_arb_add(&arb, 1, NVME_ARB_LOW);
    q.ready[1] = true;
    /* default: no limit */
    g_assert_true(nvme_arb_next(&arb, ready_cb, &q, &qid, &max));
    g_assert_cmpuint(max, ==, UINT_MAX);
    nvme_arb_configure(&arb, 3, 0, 0, 0);
    g_assert_true(nvme_arb_next(&arb, ready_cb, &q, &qid, &max));
    g_assert_cmpuint(max, ==, 8);
    nvme_arb_configure(&arb, 7, 0, 0, 0);
    g_assert_true(nvme_arb_next(&arb, ready_cb, &q, &qid, &max));
    g_assert_cmpuint(max, ==, UINT_MAX);
    nvme_arb_fini(&arb);
}

static void test_wrr_weights(void)
{
    NvmeArb arb;
    Queues q = { 0 };

    nvme_arb_init(&arb, MAXQ);
    nvme_arb_set_mode(&arb, NVME_ARB_WRR);
    nvme_arb_configure(&arb, 0, 7, 3, 1);       /* 8 : 4 : 2, burst 1 */
    nvme_arb_add(&arb, 1, NVME_ARB_HIGH);
    nvme_arb_add(&arb, 2, NVME_ARB_MEDIUM);
    nvme_arb_add(&arb, 3, NVME_ARB_LOW);
    q.ready[1] = q.ready[2] = q.ready[3] = true;
    g_assert_cmpuint(run(&arb, &q, 1400), ==, 1400);
    g_assert_cmpuint(q.served[1], ==, 800);
    g_assert_cmpuint(q.served[2], ==, 400);
    g_assert_cmpuint(q.served[3], ==, 200);
    nvme_arb_fini(&arb);
}

static void test_wrr_weights_with_burst(void)
{
    NvmeArb arb;
    Queues q = { 0 };

    nvme_arb_init(&arb, MAXQ);
    nvme_arb_set_mode(&arb, NVME_ARB_WRR);
    nvme_arb_configure(&arb, 2, 15, 3, 0);      /* 16 : 4 : 1, burst 4 */
    nvme_arb_add(&arb, 1, NVME_ARB_HIGH);
    nvme_arb_add(&arb, 4, NVME_ARB_HIGH);
    nvme_arb_add(&arb, 2, NVME_ARB_MEDIUM);
    nvme_arb_add(&arb, 3, NVME_ARB_LOW);
    q.ready[1] = q.ready[2] = q.ready[3] = q.ready[4] = true;
    g_assert_cmpuint(run(&arb, &q, 21 * 100), ==, 2100);
    /* the high class is split between its two SQs */
    g_assert_cmpuint(q.served[1] + q.served[4], ==, 1600);
    g_assert_cmpuint(q.served[1], ==, 800);
    g_assert_cmpuint(q.served[2], ==, 400);
    g_assert_cmpuint(q.served[3], ==, 100);
    nvme_arb_fini(&arb);
}

static void test_wrr_idle_class(void)
{
    NvmeArb arb;
    Queues q = { 0 };

    nvme_arb_init(&arb, MAXQ);
    nvme_arb_set_mode(&arb, NVME_ARB_WRR);
    nvme_arb_configure(&arb, 0, 7, 3, 1);
    nvme_arb_add(&arb, 1, NVME_ARB_HIGH);
    nvme_arb_add(&arb, 2, NVME_ARB_MEDIUM);
    nvme_arb_add(&arb, 3, NVME_ARB_LOW);
    /* an idle high class does not hold the others back */
    q.ready[2] = q.ready[3] = true;
    g_assert_cmpuint(run(&arb, &q, 600), ==, 600);
    g_assert_cmpuint(q.served[2], ==, 400);
    g_assert_cmpuint(q.served[3], ==, 200);
    nvme_arb_fini(&arb);
}

static void test_wrr_urgent_and_admin(void)
{
    NvmeArb arb;
    Queues q = { 0 };
    uint16_t qid;
    unsigned max;

    nvme_arb_init(&arb, MAXQ);
    nvme_arb_set_mode(&arb, NVME_ARB_WRR);
    nvme_arb_configure(&arb, 0, 7, 3, 1);
    nvme_arb_add(&arb, 0, NVME_ARB_ADMIN);
    nvme_arb_add(&arb, 1, NVME_ARB_HIGH);
    nvme_arb_add(&arb, 5, NVME_ARB_URGENT);
    q.ready[1] = q.ready[5] = true;
    /* urgent has strict priority over the weighted classes */
    g_assert_cmpuint(run(&arb, &q, 100), ==, 100);
    g_assert_cmpuint(q.served[5], ==, 100);
    g_assert_cmpuint(q.served[1], ==, 0);
    /* admin goes before urgent */
    q.ready[0] = true;
    g_assert_true(nvme_arb_next(&arb, ready_cb, &q, &qid, &max));
    g_assert_cmpuint(qid, ==, 0);
    q.ready[0] = false;
    /* once urgent drains, high is served */
    q.ready[5] = false;
    g_assert_true(nvme_arb_next(&arb, ready_cb, &q, &qid, &max));
    g_assert_cmpuint(qid, ==, 1);
    nvme_arb_fini(&arb);
}

static void test_add_remove_mode(void)
{
    NvmeArb arb;
    Queues q = { 0 };

    nvme_arb_init(&arb, MAXQ);
    nvme_arb_set_mode(&arb, NVME_ARB_WRR);
    nvme_arb_configure(&arb, 0, 3, 0, 0);       /* 4 : 1 : 1 */
    nvme_arb_add(&arb, 1, NVME_ARB_HIGH);
    nvme_arb_add(&arb, 2, NVME_ARB_LOW);
    nvme_arb_add(&arb, 3, NVME_ARB_LOW);
    nvme_arb_remove(&arb, 3);
    q.ready[1] = q.ready[2] = q.ready[3] = true;
    g_assert_cmpuint(run(&arb, &q, 500), ==, 500);
    g_assert_cmpuint(q.served[3], ==, 0);
    g_assert_cmpuint(q.served[1], ==, 400);
    /* round robin: priorities no longer matter */
    memset(q.served, 0, sizeof(q.served));
    nvme_arb_set_mode(&arb, NVME_ARB_RR);
    nvme_arb_configure(&arb, 0, 3, 0, 0);
    g_assert_cmpuint(run(&arb, &q, 500), ==, 500);
    g_assert_cmpuint(q.served[1], ==, 250);
    g_assert_cmpuint(q.served[2], ==, 250);
    nvme_arb_fini(&arb);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nvme/arb/rr-order", test_rr_order);
    g_test_add_func("/nvme/arb/rr-burst", test_rr_burst);
    g_test_add_func("/nvme/arb/wrr-weights", test_wrr_weights);
    g_test_add_func("/nvme/arb/wrr-weights-burst", test_wrr_weights_with_burst);
    g_test_add_func("/nvme/arb/wrr-idle-class", test_wrr_idle_class);
    g_test_add_func("/nvme/arb/wrr-urgent-admin", test_wrr_urgent_and_admin);
    g_test_add_func("/nvme/arb/add-remove-mode", test_add_remove_mode);
    return g_test_run();
}
