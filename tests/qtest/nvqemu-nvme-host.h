/*
 * A small polled NVMe host driver for the nvqemu qtests (see
 * nvqemu-nvme-host.c).
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef NVQEMU_NVME_HOST_H
#define NVQEMU_NVME_HOST_H

#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "hw/block/nvme/spec.h"

/*
 * More nvme properties and more command line for every nvme_boot(), to run
 * a test binary's cases on another configuration (an iothread, say).
 */
#define NVME_ENV_CTRL_OPTS  "NVQEMU_NVME_CTRL_OPTS"
#define NVME_ENV_ARGS       "NVQEMU_NVME_ARGS"

#define DEVFN           QPCI_DEVFN(4, 0)
#define PAGE            4096u
#define IMG_SIZE        (16 * 1024 * 1024)
#define MAXQ            8
#define QDEPTH          64
/*
 * Bound on a wait for the device, in wall time: only a guard against a
 * hang (a loaded machine must never trip it), not a speed check
 */
#define WAIT_US         (120 * G_USEC_PER_SEC)
#define UNMAPPED_ADDR   0x40000000ull   /* 1 GiB: above the 128 MiB of RAM */

typedef struct Queue {
    uint64_t addr;
    uint32_t size;
    uint32_t tail;      /* SQ: next slot; CQ: unused */
    uint32_t head;      /* CQ: next entry expected */
    uint8_t phase;
} Queue;

typedef struct Nvme {
    QOSState *qs;
    QTestState *qts;
    QPCIDevice *dev;
    QPCIBar bar;
    char *img;
    uint64_t msix_page;
    uint64_t buf;       /* scratch data, 64 KiB */
    int64_t step_ns;    /* virtual time advanced while waiting */
    unsigned dstrd;
    uint64_t shadow;    /* shadow doorbell page once configured, else 0 */
    Queue sq[MAXQ];
    Queue cq[MAXQ];
    uint16_t cid;
    /* CQEs read while waiting for another command, per queue */
    NvmeCqe stash[MAXQ][16];
    unsigned nstash[MAXQ];
} Nvme;

/* ---- booting and MMIO ---------------------------------------------------- */

/* A page-aligned buffer of @size bytes in guest RAM */
uint64_t nvme_alloc(Nvme *n, uint64_t size);
/* Every MSI-X vector v writes a message to msix_page + 4 v */
void msix_setup(Nvme *n);
/* Whether vector @v fired since the last call (the message lands in RAM) */
bool irq_fired(Nvme *n, unsigned v);
void nvme_msix_enable(Nvme *n);
/*
 * A pc machine with controller nvme0 at DEVFN on a 16 MiB raw image, MSI-X
 * enabled; @ctrl_opts are more nvme properties, @extra more command line.
 */
Nvme *nvme_boot(const char *ctrl_opts, const char *extra);
/*
 * A pc machine with drive d0 on a 16 MiB raw image and the devices of
 * @devices (the first controller nvme0 at DEVFN): several controllers
 */
Nvme *nvme_boot_devices(const char *devices);
/* Take the controller at @devfn of n->qs's machine: MSI-X on, a buffer */
void nvme_attach(Nvme *n, unsigned devfn);
/* Another controller of @n's machine, at @devfn; free it before @n */
Nvme *nvme_peer(Nvme *n, unsigned devfn);
void nvme_peer_free(Nvme *p);
void nvme_free(Nvme *n);
/* SIGKILL @n's QEMU and free @n; its image file stays (the caller's) */
void nvme_kill(Nvme *n);
/* An integer QOM property of nvme0 (qom-get) */
int64_t nvme_qom_get_int(Nvme *n, const char *prop);
uint32_t rd32(Nvme *n, uint64_t off);
void wr32(Nvme *n, uint64_t off, uint32_t val);
/* Doorbell register offsets (CAP.DSTRD in n->dstrd) */
uint64_t sq_db(Nvme *n, unsigned qid);
uint64_t cq_db(Nvme *n, unsigned qid);

/* ---- controller and queues ---------------------------------------------- */

void queue_init(Nvme *n, Queue *q, uint32_t size, size_t esize);
/* Enable with an admin SQ of @asq_size and a CQ of @acq_size entries */
void ctrl_enable_aq(Nvme *n, unsigned ams, uint32_t asq_size,
                    uint32_t acq_size);
void ctrl_enable(Nvme *n, unsigned ams);
void ctrl_disable(Nvme *n);
NvmeSqe sqe_new(Nvme *n, uint8_t opc, uint32_t nsid);
uint16_t sqe_cid(const NvmeSqe *c);
/* Slot of SQ or CQ @qid's doorbell in a shadow doorbell or EventIdx @page */
uint64_t shadow_slot(Nvme *n, uint64_t page, unsigned qid, bool cq);
/* Write an SQE into the queue without ringing the doorbell */
void sq_put(Nvme *n, unsigned qid, const NvmeSqe *c);
void sq_ring(Nvme *n, unsigned qid);
/* Peek at the next CQE; true when one is there */
bool cq_peek(Nvme *n, unsigned qid, NvmeCqe *cqe);
void cq_pop(Nvme *n, unsigned qid, bool ring_db);
void cq_wait(Nvme *n, unsigned qid, NvmeCqe *cqe);
/* Wait for the completion of command @cid, keeping others for later */
void cq_wait_cid(Nvme *n, unsigned qid, uint16_t cid, NvmeCqe *out);
/* Status without the phase tag and DNR (NvmeStatus layout) */
uint16_t cqe_sc(const NvmeCqe *cqe);
NvmeCqe submit_wait(Nvme *n, unsigned qid, NvmeSqe *c);

/* ---- admin commands ------------------------------------------------------ */

uint16_t admin(Nvme *n, NvmeSqe *c, uint32_t *dw0);
uint16_t identify(Nvme *n, uint8_t cns, uint32_t nsid, uint64_t buf);
/* Identify that must succeed, its data copied to @out */
void identify_read(Nvme *n, uint8_t cns, uint32_t nsid, void *out,
                   size_t len);
uint16_t set_feature(Nvme *n, uint8_t fid, uint32_t dw11, uint32_t *dw0);
uint16_t get_feature(Nvme *n, uint8_t fid, uint32_t dw11, uint32_t *dw0);
uint16_t get_log(Nvme *n, uint8_t lid, uint32_t len, uint64_t buf);
uint16_t create_cq(Nvme *n, unsigned qid, uint32_t size, uint16_t iv);
uint16_t create_sq(Nvme *n, unsigned qid, unsigned cqid,
                   uint32_t size, unsigned qprio);
/* I/O queue pairs 1..@count of QDEPTH entries, CQ y on vector y */
void io_queues(Nvme *n, unsigned count);

/* ---- I/O ----------------------------------------------------------------- */

NvmeSqe rw_cmd(Nvme *n, uint8_t opc, uint64_t slba, uint32_t nlb);
/* PRPs for @len bytes at @buf (page aligned), list at @list if needed */
void set_prps(Nvme *n, NvmeSqe *c, uint64_t buf, uint32_t len,
              uint64_t list);
void set_sgl(NvmeSqe *c, uint64_t addr, uint32_t len, uint8_t type);
uint16_t io(Nvme *n, unsigned qid, NvmeSqe *c);
/*
 * Checks that, with NVQEMU_PROBE=1 in the environment, print what they see
 * instead of asserting: the same test then probes another binary (stock's)
 * as a black box.
 */
bool probing(void);
void check_sc(uint16_t got, uint16_t want, const char *what);
void check_val(uint64_t got, uint64_t want, const char *what);

/* A pattern from @seed, and whether two buffers hold the same bytes */
void fill(Nvme *n, uint64_t addr, uint32_t len, uint8_t seed);
bool same(Nvme *n, uint64_t a, uint64_t b, uint32_t len);

#endif
