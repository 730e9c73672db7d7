/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * nvqemu-nvme-cmdbench: push a fixed number of NVMe Read commands through an
 * `nvme` controller from a qtest (no guest, no TCG), for a deterministic
 * cost figure: bench/nvme runs it under callgrind twice with different
 * command counts, so (Ir(n2) - Ir(n1)) / (n2 - n1) is the cost of one
 * command in QEMU, start-up excluded.  It works with any spec-conforming
 * controller, ours or stock QEMU's.
 *
 * A minimal polled NVMe host written from NVMe Base Specification 2.0:
 * registers (§3.1), admin Create I/O CQ/SQ (§5.4, §5.5), NVM Read (NVM
 * Command Set 1.0 §3.2.4).  Completions are polled (IEN=0).
 *
 *   usage: nvqemu-nvme-cmdbench COUNT [BATCH]
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/bitops.h"
#include "libqtest.h"
#include "libqos/libqos-pc.h"
#include "libqos/pci-pc.h"

/* Controller registers (NVMe Base 2.0, §3.1.3) */
enum {
    REG_CAP = 0x00,
    REG_CC = 0x14,
    REG_CSTS = 0x1c,
    REG_AQA = 0x24,
    REG_ASQ = 0x28,
    REG_ACQ = 0x30,
    REG_DBS = 0x1000,
};

enum {
    CC_EN = 1u << 0,
    CC_IOSQES_64 = 6u << 16,
    CC_IOCQES_16 = 4u << 20,
    CSTS_RDY = 1u << 0,
    CSTS_CFS = 1u << 1,
};

enum {
    ADMIN_CREATE_SQ = 0x01,
    ADMIN_CREATE_CQ = 0x05,
    NVM_READ = 0x02,
    QUEUE_PC = 1u << 0,
};

#define SQE_SIZE        64
#define CQE_SIZE        16
#define PAGE            4096
#define QDEPTH          64
#define ADMIN_QDEPTH    8
#define BENCH_DEVFN     QPCI_DEVFN(4, 0)
#define POLL_LIMIT      1000000

typedef struct QEMU_PACKED Sqe {
    uint8_t opc;
    uint8_t flags;
    uint16_t cid;
    uint32_t nsid;
    uint64_t rsvd8;
    uint64_t mptr;
    uint64_t prp1;
    uint64_t prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
} Sqe;
QEMU_BUILD_BUG_ON(sizeof(Sqe) != SQE_SIZE);

typedef struct QEMU_PACKED Cqe {
    uint32_t dw0;
    uint32_t dw1;
    uint16_t sqhd;
    uint16_t sqid;
    uint16_t cid;
    uint16_t status;    /* bit 0: phase tag */
} Cqe;
QEMU_BUILD_BUG_ON(sizeof(Cqe) != CQE_SIZE);

typedef struct Queue {
    uint16_t qid;
    uint16_t depth;
    uint64_t sq, cq;        /* guest addresses */
    uint16_t sq_tail, cq_head;
    bool phase;
} Queue;

typedef struct Host {
    QOSState *qs;
    QTestState *qts;
    QPCIDevice *dev;
    QPCIBar bar;
    uint32_t dstrd;
    Queue admin, io;
    uint16_t next_cid;
} Host;

static void doorbell(Host *h, uint16_t qid, bool cq, uint16_t val)
{
    uint64_t off = REG_DBS + (2 * qid + cq) * (4u << h->dstrd);

    qpci_io_writel(h->dev, h->bar, off, val);
}

static void submit(Host *h, Queue *q, Sqe *sqe, bool ring)
{
    sqe->cid = cpu_to_le16(h->next_cid++);
    qtest_memwrite(h->qts, q->sq + (uint64_t)q->sq_tail * SQE_SIZE, sqe,
                   sizeof(*sqe));
    q->sq_tail = (q->sq_tail + 1) % q->depth;
    if (ring) {
        doorbell(h, q->qid, false, q->sq_tail);
    }
}

/* Wait for n completions on q; abort the bench on an error status. */
static void reap(Host *h, Queue *q, unsigned n)
{
    unsigned polls = 0;

    while (n) {
        Cqe cqe;

        qtest_memread(h->qts, q->cq + (uint64_t)q->cq_head * CQE_SIZE, &cqe,
                      sizeof(cqe));
        if ((le16_to_cpu(cqe.status) & 1) != q->phase) {
            /* let timers (virtual clock) and bottom halves run */
            qtest_clock_step_next(h->qts);
            g_assert_cmpuint(++polls, <, POLL_LIMIT);
            continue;
        }
        g_assert_cmphex(le16_to_cpu(cqe.status) >> 1, ==, 0);
        q->cq_head = (q->cq_head + 1) % q->depth;
        if (!q->cq_head) {
            q->phase = !q->phase;
        }
        n--;
        if (!n) {
            doorbell(h, q->qid, true, q->cq_head);
        }
    }
}

static void queue_alloc(Host *h, Queue *q, uint16_t qid, uint16_t depth)
{
    q->qid = qid;
    q->depth = depth;
    q->sq = guest_alloc(&h->qs->alloc, PAGE);
    q->cq = guest_alloc(&h->qs->alloc, PAGE);
    q->phase = true;
    qtest_memset(h->qts, q->cq, 0, PAGE);
}

static void wait_csts(Host *h, uint32_t want)
{
    for (unsigned i = 0; i < POLL_LIMIT; i++) {
        uint32_t csts = qpci_io_readl(h->dev, h->bar, REG_CSTS);

        g_assert_false(csts & CSTS_CFS);
        if ((csts & CSTS_RDY) == want) {
            return;
        }
        qtest_clock_step_next(h->qts);
    }
    g_assert_not_reached();
}

static void host_init(Host *h, const char *extra)
{
    uint64_t cap;
    Sqe sqe = { 0 };

    h->qs = qtest_pc_boot("-machine q35 -nodefaults -display none "
                          "-blockdev driver=null-co,node-name=null0,"
                          "size=1073741824,read-zeroes=off "
                          "-device nvme,drive=null0,serial=bench,addr=04.0%s",
                          extra);
    h->qts = h->qs->qts;
    h->dev = qpci_device_find(h->qs->pcibus, BENCH_DEVFN);
    g_assert_nonnull(h->dev);
    qpci_device_enable(h->dev);
    h->bar = qpci_iomap(h->dev, 0, NULL);

    cap = qpci_io_readq(h->dev, h->bar, REG_CAP);
    h->dstrd = extract64(cap, 32, 4);
    g_assert_cmpuint(extract64(cap, 0, 16) + 1, >=, QDEPTH);

    qpci_io_writel(h->dev, h->bar, REG_CC, 0);
    wait_csts(h, 0);
    queue_alloc(h, &h->admin, 0, ADMIN_QDEPTH);
    qpci_io_writel(h->dev, h->bar, REG_AQA,
                   (ADMIN_QDEPTH - 1) << 16 | (ADMIN_QDEPTH - 1));
    qpci_io_writeq(h->dev, h->bar, REG_ASQ, h->admin.sq);
    qpci_io_writeq(h->dev, h->bar, REG_ACQ, h->admin.cq);
    qpci_io_writel(h->dev, h->bar, REG_CC,
                   CC_EN | CC_IOSQES_64 | CC_IOCQES_16);
    wait_csts(h, CSTS_RDY);

    queue_alloc(h, &h->io, 1, QDEPTH);
    sqe.opc = ADMIN_CREATE_CQ;
    sqe.prp1 = cpu_to_le64(h->io.cq);
    sqe.cdw10 = cpu_to_le32((QDEPTH - 1) << 16 | h->io.qid);
    sqe.cdw11 = cpu_to_le32(QUEUE_PC);          /* polled: IEN = 0 */
    submit(h, &h->admin, &sqe, true);
    reap(h, &h->admin, 1);

    memset(&sqe, 0, sizeof(sqe));
    sqe.opc = ADMIN_CREATE_SQ;
    sqe.prp1 = cpu_to_le64(h->io.sq);
    sqe.cdw10 = cpu_to_le32((QDEPTH - 1) << 16 | h->io.qid);
    sqe.cdw11 = cpu_to_le32((uint32_t)h->io.qid << 16 | QUEUE_PC);
    submit(h, &h->admin, &sqe, true);
    reap(h, &h->admin, 1);
}

int main(int argc, char **argv)
{
    unsigned count, batch, done = 0;
    uint64_t buf;
    Host h = { 0 };
    Sqe sqe = { 0 };

    if (argc < 2) {
        fprintf(stderr, "usage: %s COUNT [BATCH] [EXTRA-DEVICE-OPTIONS]\n",
                argv[0]);
        return 2;
    }
    count = strtoul(argv[1], NULL, 0);
    batch = argc > 2 ? strtoul(argv[2], NULL, 0) : 32;
    g_assert_cmpuint(batch, >=, 1);
    g_assert_cmpuint(batch, <, QDEPTH);

    host_init(&h, argc > 3 ? argv[3] : "");
    buf = guest_alloc(&h.qs->alloc, PAGE * batch);

    /* 4 KiB reads (8 x 512 B blocks), one page each, batch per doorbell */
    sqe.opc = NVM_READ;
    sqe.nsid = cpu_to_le32(1);
    sqe.cdw12 = cpu_to_le32(PAGE / 512 - 1);
    while (done < count) {
        unsigned n = MIN(batch, count - done);

        for (unsigned i = 0; i < n; i++) {
            sqe.prp1 = cpu_to_le64(buf + (uint64_t)i * PAGE);
            sqe.cdw10 = cpu_to_le32((done + i) * 8 % (1u << 20));
            submit(&h, &h.io, &sqe, i == n - 1);
        }
        reap(&h, &h.io, n);
        done += n;
    }
    printf("commands=%u batch=%u\n", done, batch);
    qtest_pc_shutdown(h.qs);
    return 0;
}
