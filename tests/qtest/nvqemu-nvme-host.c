/*
 * A small polled NVMe host driver for the nvqemu qtests, written from the
 * NVMe Base specification 1.4 over libqos PCI: MSI-X into guest RAM,
 * controller enable, admin and I/O queues, PRPs and SGLs.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "hw/pci/pci_regs.h"
#include "qobject/qdict.h"
#include "nvqemu-nvme-host.h"

uint64_t nvme_alloc(Nvme *n, uint64_t size)
{
    uint64_t a = qmalloc(n->qs, size + PAGE);

    return QEMU_ALIGN_UP(a, PAGE);
}

void msix_setup(Nvme *n)
{
    uint16_t entries = qpci_msix_table_size(n->dev);

    n->msix_page = nvme_alloc(n, PAGE);
    qtest_memset(n->qts, n->msix_page, 0, PAGE);
    for (uint16_t v = 0; v < entries; v++) {
        uint64_t e = n->dev->msix_table_off + v * PCI_MSIX_ENTRY_SIZE;

        qpci_io_writel(n->dev, n->dev->msix_table_bar,
                       e + PCI_MSIX_ENTRY_LOWER_ADDR, n->msix_page + 4 * v);
        qpci_io_writel(n->dev, n->dev->msix_table_bar,
                       e + PCI_MSIX_ENTRY_UPPER_ADDR, 0);
        qpci_io_writel(n->dev, n->dev->msix_table_bar,
                       e + PCI_MSIX_ENTRY_DATA, 0x100 + v);
        qpci_io_writel(n->dev, n->dev->msix_table_bar,
                       e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    }
}

/* Whether vector @v fired since the last call (the message lands in RAM) */
bool irq_fired(Nvme *n, unsigned v)
{
    uint32_t val = qtest_readl(n->qts, n->msix_page + 4 * v);

    qtest_writel(n->qts, n->msix_page + 4 * v, 0);
    return val != 0;
}

/* The BAR that holds the MSI-X table */
static unsigned msix_bir(QPCIDevice *dev)
{
    uint8_t cap = qpci_find_capability(dev, PCI_CAP_ID_MSIX, 0);

    g_assert(cap);
    return qpci_config_readl(dev, cap + PCI_MSIX_TABLE) &
           PCI_MSIX_FLAGS_BIRMASK;
}

/*
 * libqos (re)maps the MSI-X BAR itself on every enable; when that is BAR0
 * (stock's layout, ours by default) the registers moved with it.
 */
void nvme_msix_enable(Nvme *n)
{
    qpci_msix_enable(n->dev);
    if (msix_bir(n->dev) == 0) {
        n->bar = n->dev->msix_table_bar;
    } else if (!n->bar.addr) {
        n->bar = qpci_iomap(n->dev, 0, NULL);
    }
}

/* Take the controller at @devfn of n->qs's machine: MSI-X on, a buffer */
void nvme_attach(Nvme *n, unsigned devfn)
{
    n->qts = n->qs->qts;
    n->dev = qpci_device_find(n->qs->pcibus, devfn);
    g_assert(n->dev);
    qpci_device_enable(n->dev);
    nvme_msix_enable(n);
    msix_setup(n);
    n->buf = nvme_alloc(n, 64 * 1024);
    n->step_ns = 10000;
}

Nvme *nvme_boot(const char *ctrl_opts, const char *extra)
{
    Nvme *n = g_new0(Nvme, 1);
    int fd = g_file_open_tmp("nvqemu-nvme-XXXXXX.img", &n->img, NULL);
    const char *env_opts = g_getenv(NVME_ENV_CTRL_OPTS);
    const char *env_args = g_getenv(NVME_ENV_ARGS);
    g_autoptr(GString) opts = g_string_new("serial=nvqtest");

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, IMG_SIZE), ==, 0);
    close(fd);
    /* not ",," for an empty list: QemuOpts reads that as a comma */
    if (*ctrl_opts) {
        g_string_append_printf(opts, ",%s", ctrl_opts);
    }
    if (env_opts && *env_opts) {
        g_string_append_printf(opts, ",%s", env_opts);
    }
    n->qs = qtest_pc_boot("-nodefaults "
                          "-drive id=d0,if=none,format=raw,file=%s "
                          "-device nvme,id=nvme0,addr=04.0,drive=d0,%s %s %s",
                          n->img, opts->str, extra ? extra : "",
                          env_args ? env_args : "");
    nvme_attach(n, DEVFN);
    return n;
}

/*
 * A pc machine with drive d0 on a 16 MiB raw image and the devices of
 * @devices, which put a controller (nvme0) at DEVFN
 */
Nvme *nvme_boot_devices(const char *devices)
{
    Nvme *n = g_new0(Nvme, 1);
    int fd = g_file_open_tmp("nvqemu-nvme-XXXXXX.img", &n->img, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, IMG_SIZE), ==, 0);
    close(fd);
    n->qs = qtest_pc_boot("-nodefaults "
                          "-drive id=d0,if=none,format=raw,file=%s %s",
                          n->img, devices);
    nvme_attach(n, DEVFN);
    return n;
}

/* Another controller of @n's machine, at @devfn; nvme_peer_free() it */
Nvme *nvme_peer(Nvme *n, unsigned devfn)
{
    Nvme *p = g_new0(Nvme, 1);

    p->qs = n->qs;
    nvme_attach(p, devfn);
    return p;
}

void nvme_peer_free(Nvme *p)
{
    g_free(p->dev);
    g_free(p);
}

void nvme_free(Nvme *n)
{
    qpci_msix_disable(n->dev);
    g_free(n->dev);
    qtest_pc_shutdown(n->qs);
    unlink(n->img);
    g_free(n->img);
    g_free(n);
}

/*
 * SIGKILL @n's QEMU, as a host crash of the QEMU process would (no orderly
 * shutdown), and free @n like nvme_free() (patches/0400: death by that
 * signal is expected).  The image is not unlinked: the caller reads it.
 */
void nvme_kill(Nvme *n)
{
    g_assert_cmpint(kill(qtest_pid(n->qts), SIGKILL), ==, 0);
    qtest_set_expected_signal(n->qts, SIGKILL);
    g_free(n->dev);
    qtest_pc_shutdown(n->qs);
    g_free(n->img);
    g_free(n);
}

int64_t nvme_qom_get_int(Nvme *n, const char *prop)
{
    QDict *r = qtest_qmp(n->qts, "{'execute': 'qom-get', 'arguments': {"
                         "'path': '/machine/peripheral/nvme0',"
                         "'property': %s}}", prop);
    int64_t value;

    g_assert_true(qdict_haskey(r, "return"));
    value = qdict_get_int(r, "return");
    qobject_unref(r);
    return value;
}

uint32_t rd32(Nvme *n, uint64_t off)
{
    return qpci_io_readl(n->dev, n->bar, off);
}

void wr32(Nvme *n, uint64_t off, uint32_t val)
{
    qpci_io_writel(n->dev, n->bar, off, val);
}

uint64_t sq_db(Nvme *n, unsigned qid)
{
    return NVME_REG_DBS + (2 * qid) * (4u << n->dstrd);
}

uint64_t cq_db(Nvme *n, unsigned qid)
{
    return NVME_REG_DBS + (2 * qid + 1) * (4u << n->dstrd);
}

void queue_init(Nvme *n, Queue *q, uint32_t size, size_t esize)
{
    q->addr = nvme_alloc(n, size * esize);
    q->size = size;
    q->tail = q->head = 0;
    q->phase = 1;
    qtest_memset(n->qts, q->addr, 0, size * esize);
}

/* Enable with an admin SQ of @asq_size and a CQ of @acq_size entries */
void ctrl_enable_aq(Nvme *n, unsigned ams, uint32_t asq_size,
                    uint32_t acq_size)
{
    uint32_t cc = 0;

    queue_init(n, &n->sq[0], asq_size, sizeof(NvmeSqe));
    queue_init(n, &n->cq[0], acq_size, sizeof(NvmeCqe));
    wr32(n, NVME_REG_AQA, (acq_size - 1) << 16 | (asq_size - 1));
    wr32(n, NVME_REG_ASQ, n->sq[0].addr);
    wr32(n, NVME_REG_ASQ + 4, 0);
    wr32(n, NVME_REG_ACQ, n->cq[0].addr);
    wr32(n, NVME_REG_ACQ + 4, 0);
    cc = FIELD_DP32(cc, NVME_CC, IOSQES, 6);
    cc = FIELD_DP32(cc, NVME_CC, IOCQES, 4);
    cc = FIELD_DP32(cc, NVME_CC, AMS, ams);
    cc = FIELD_DP32(cc, NVME_CC, EN, 1);
    wr32(n, NVME_REG_CC, cc);
    g_assert_cmpuint(FIELD_EX32(rd32(n, NVME_REG_CSTS), NVME_CSTS, RDY), ==,
                     1);
}

void ctrl_enable(Nvme *n, unsigned ams)
{
    ctrl_enable_aq(n, ams, 32, 32);
}

void ctrl_disable(Nvme *n)
{
    wr32(n, NVME_REG_CC, 0);
    g_assert_cmpuint(FIELD_EX32(rd32(n, NVME_REG_CSTS), NVME_CSTS, RDY), ==,
                     0);
}

NvmeSqe sqe_new(Nvme *n, uint8_t opc, uint32_t nsid)
{
    NvmeSqe c = { 0 };

    c.cdw0 = cpu_to_le32(opc | (uint32_t)(++n->cid) << 16);
    c.nsid = cpu_to_le32(nsid);
    return c;
}

uint16_t sqe_cid(const NvmeSqe *c)
{
    return le32_to_cpu(c->cdw0) >> 16;
}

/* Write an SQE into the queue without ringing the doorbell */
void sq_put(Nvme *n, unsigned qid, const NvmeSqe *c)
{
    Queue *q = &n->sq[qid];

    qtest_memwrite(n->qts, q->addr + q->tail * sizeof(*c), c, sizeof(*c));
    q->tail = (q->tail + 1) % q->size;
}

/*
 * A doorbell's slot in the shadow doorbell and EventIdx pages: laid out as
 * the doorbell registers (NVMe Base 2.0b 5.8)
 */
uint64_t shadow_slot(Nvme *n, uint64_t page, unsigned qid, bool cq)
{
    return page + (2 * qid + cq) * (4u << n->dstrd);
}

/*
 * With shadow doorbells configured an I/O queue's new value goes to the
 * shadow page first, as Linux does; the MMIO doorbell is rung every time.
 */
static void ring(Nvme *n, unsigned qid, bool cq, uint32_t val)
{
    if (n->shadow && qid) {
        qtest_writel(n->qts, shadow_slot(n, n->shadow, qid, cq), val);
    }
    wr32(n, cq ? cq_db(n, qid) : sq_db(n, qid), val);
}

/* A new queue starts at 0: its shadow slot must say so (the host's job) */
static void shadow_clear(Nvme *n, unsigned qid, bool cq)
{
    if (n->shadow && qid) {
        qtest_writel(n->qts, shadow_slot(n, n->shadow, qid, cq), 0);
    }
}

void sq_ring(Nvme *n, unsigned qid)
{
    ring(n, qid, false, n->sq[qid].tail);
}

/* Peek at the next CQE; true when one is there */
bool cq_peek(Nvme *n, unsigned qid, NvmeCqe *cqe)
{
    Queue *q = &n->cq[qid];

    qtest_memread(n->qts, q->addr + q->head * sizeof(*cqe), cqe,
                  sizeof(*cqe));
    return (le16_to_cpu(cqe->status) & 1) == q->phase;
}

void cq_pop(Nvme *n, unsigned qid, bool ring_db)
{
    Queue *q = &n->cq[qid];

    q->head = (q->head + 1) % q->size;
    if (!q->head) {
        q->phase ^= 1;
    }
    if (ring_db) {
        ring(n, qid, true, q->head);
    }
}

void cq_wait(Nvme *n, unsigned qid, NvmeCqe *cqe)
{
    int64_t deadline = g_get_monotonic_time() + WAIT_US;

    while (!cq_peek(n, qid, cqe)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        qtest_clock_step(n->qts, n->step_ns);
    }
    cq_pop(n, qid, true);
}

/* Wait for the completion of command @cid, keeping others for later */
void cq_wait_cid(Nvme *n, unsigned qid, uint16_t cid, NvmeCqe *out)
{
    for (unsigned i = 0; i < n->nstash[qid]; i++) {
        if (le16_to_cpu(n->stash[qid][i].cid) == cid) {
            *out = n->stash[qid][i];
            n->stash[qid][i] = n->stash[qid][--n->nstash[qid]];
            return;
        }
    }
    for (;;) {
        cq_wait(n, qid, out);
        if (le16_to_cpu(out->cid) == cid) {
            return;
        }
        g_assert_cmpuint(n->nstash[qid], <, ARRAY_SIZE(n->stash[qid]));
        n->stash[qid][n->nstash[qid]++] = *out;
    }
}

/* Status without the phase tag and DNR (NvmeStatus layout) */
uint16_t cqe_sc(const NvmeCqe *cqe)
{
    return (le16_to_cpu(cqe->status) >> 1) & ~NVME_STATUS_DNR;
}

NvmeCqe submit_wait(Nvme *n, unsigned qid, NvmeSqe *c)
{
    NvmeCqe cqe;

    sq_put(n, qid, c);
    sq_ring(n, qid);
    cq_wait_cid(n, qid, sqe_cid(c), &cqe);
    g_assert_cmpuint(le16_to_cpu(cqe.sqid), ==, qid);
    return cqe;
}

uint16_t admin(Nvme *n, NvmeSqe *c, uint32_t *dw0)
{
    NvmeCqe cqe = submit_wait(n, 0, c);

    if (dw0) {
        *dw0 = le32_to_cpu(cqe.dw0);
    }
    return cqe_sc(&cqe);
}

uint16_t identify(Nvme *n, uint8_t cns, uint32_t nsid, uint64_t buf)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_IDENTIFY, nsid);

    c.dptr[0] = cpu_to_le64(buf);
    c.cdw10 = cpu_to_le32(cns);
    return admin(n, &c, NULL);
}

/* Identify that must succeed, its data copied to @out */
void identify_read(Nvme *n, uint8_t cns, uint32_t nsid, void *out,
                   size_t len)
{
    g_assert_cmphex(identify(n, cns, nsid, n->buf), ==, NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, out, len);
}

uint16_t set_feature(Nvme *n, uint8_t fid, uint32_t dw11,
                     uint32_t *dw0)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_SET_FEATURES, 0);

    c.cdw10 = cpu_to_le32(fid);
    c.cdw11 = cpu_to_le32(dw11);
    return admin(n, &c, dw0);
}

uint16_t get_feature(Nvme *n, uint8_t fid, uint32_t dw11,
                     uint32_t *dw0)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_GET_FEATURES, 0);

    c.cdw10 = cpu_to_le32(fid);
    c.cdw11 = cpu_to_le32(dw11);
    c.dptr[0] = cpu_to_le64(n->buf);
    return admin(n, &c, dw0);
}

uint16_t get_log(Nvme *n, uint8_t lid, uint32_t len, uint64_t buf)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_GET_LOG_PAGE, NVME_NSID_BROADCAST);

    c.dptr[0] = cpu_to_le64(buf);
    c.cdw10 = cpu_to_le32(lid | ((len / 4 - 1) << 16));
    return admin(n, &c, NULL);
}

uint16_t create_cq(Nvme *n, unsigned qid, uint32_t size, uint16_t iv)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_CREATE_CQ, 0);
    Queue q;
    uint16_t status;

    queue_init(n, &q, size, sizeof(NvmeCqe));
    shadow_clear(n, qid, true);
    c.dptr[0] = cpu_to_le64(q.addr);
    c.cdw10 = cpu_to_le32(((size - 1) << 16) | qid);
    c.cdw11 = cpu_to_le32(((uint32_t)iv << 16) | 0x3);    /* IEN, PC */
    status = admin(n, &c, NULL);
    if (status == NVME_SUCCESS) {
        n->cq[qid] = q;
    }
    return status;
}

uint16_t create_sq(Nvme *n, unsigned qid, unsigned cqid,
                   uint32_t size, unsigned qprio)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_CREATE_SQ, 0);
    Queue q;
    uint16_t status;

    queue_init(n, &q, size, sizeof(NvmeSqe));
    shadow_clear(n, qid, false);
    c.dptr[0] = cpu_to_le64(q.addr);
    c.cdw10 = cpu_to_le32(((size - 1) << 16) | qid);
    c.cdw11 = cpu_to_le32((cqid << 16) | (qprio << 1) | 1);
    status = admin(n, &c, NULL);
    if (status == NVME_SUCCESS) {
        n->sq[qid] = q;
    }
    return status;
}

void io_queues(Nvme *n, unsigned count)
{
    for (unsigned q = 1; q <= count; q++) {
        g_assert_cmphex(create_cq(n, q, QDEPTH, q), ==, NVME_SUCCESS);
        g_assert_cmphex(create_sq(n, q, q, QDEPTH, NVME_QPRIO_MEDIUM), ==,
                        NVME_SUCCESS);
    }
}

NvmeSqe rw_cmd(Nvme *n, uint8_t opc, uint64_t slba, uint32_t nlb)
{
    NvmeSqe c = sqe_new(n, opc, 1);

    c.cdw10 = cpu_to_le32(slba);
    c.cdw11 = cpu_to_le32(slba >> 32);
    c.cdw12 = cpu_to_le32(nlb - 1);
    return c;
}

/* PRPs for @len bytes at @buf (page aligned), list at @list if needed */
void set_prps(Nvme *n, NvmeSqe *c, uint64_t buf, uint32_t len,
              uint64_t list)
{
    uint32_t pages = DIV_ROUND_UP(len, PAGE);

    c->dptr[0] = cpu_to_le64(buf);
    if (pages == 2) {
        c->dptr[1] = cpu_to_le64(buf + PAGE);
    } else if (pages > 2) {
        for (uint32_t i = 1; i < pages; i++) {
            qtest_writeq(n->qts, list + 8 * (i - 1), buf + i * PAGE);
        }
        c->dptr[1] = cpu_to_le64(list);
    }
}

void set_sgl(NvmeSqe *c, uint64_t addr, uint32_t len, uint8_t type)
{
    NvmeSglDesc d = {
        .addr = cpu_to_le64(addr),
        .len = cpu_to_le32(len),
        .id = type << R_NVME_SGL_ID_TYPE_SHIFT,
    };

    c->cdw0 = cpu_to_le32(FIELD_DP32(le32_to_cpu(c->cdw0), NVME_CDW0, PSDT,
                                     NVME_PSDT_SGL_MPTR_CONTIG));
    memcpy(c->dptr, &d, sizeof(d));
}

uint16_t io(Nvme *n, unsigned qid, NvmeSqe *c)
{
    NvmeCqe cqe = submit_wait(n, qid, c);

    return cqe_sc(&cqe);
}

void fill(Nvme *n, uint64_t addr, uint32_t len, uint8_t seed)
{
    g_autofree uint8_t *p = g_malloc(len);

    for (uint32_t i = 0; i < len; i++) {
        p[i] = seed + i * 7 + (i >> 9);
    }
    qtest_memwrite(n->qts, addr, p, len);
}

bool same(Nvme *n, uint64_t a, uint64_t b, uint32_t len)
{
    g_autofree uint8_t *pa = g_malloc(len);
    g_autofree uint8_t *pb = g_malloc(len);

    qtest_memread(n->qts, a, pa, len);
    qtest_memread(n->qts, b, pb, len);
    return !memcmp(pa, pb, len);
}

/* ---- checks (see the header) --------------------------------------------- */

bool probing(void)
{
    return g_getenv("NVQEMU_PROBE") != NULL;
}

void check_sc(uint16_t got, uint16_t want, const char *what)
{
    if (probing()) {
        g_test_message("%s: status 0x%x (expected 0x%x)", what, got, want);
        return;
    }
    g_assert_cmphex(got, ==, want);
}

void check_val(uint64_t got, uint64_t want, const char *what)
{
    if (probing()) {
        g_test_message("%s: %" PRIu64 " = 0x%" PRIx64 " (expected %" PRIu64
                       " = 0x%" PRIx64 ")", what, got, got, want, want);
        return;
    }
    g_assert_cmphex(got, ==, want);
}
