/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu structured fuzz target "nvqemu-nvme-cmd": our nvme controller
 * driven as a host drives it (NVMe Base 2.0c, NVM Command Set 1.0c), in
 * process and without a machine reset per input, so that it runs several
 * times as many inputs a second as generic-fuzz and spends them on commands
 * rather than on finding the doorbells.
 *
 * A second target, "nvqemu-nvme-cmd-tick", runs the same on a controller
 * whose engine is timer driven (tick-ns, tick-budget): commands complete
 * as CLOCK and DRAIN records let virtual time pass.
 *
 * Machine: q35, one controller (mdts=3, 32 KiB transfers) with three
 * namespaces of 256 KiB on null-co (read-zeroes): nsid 1 with 512-byte
 * blocks, nsid 2 with 4 KiB blocks and 16 bytes of extended metadata
 * carrying PI type 2, nsid 3 with 512-byte blocks and 8 bytes of separate
 * metadata carrying PI type 1 (MPTR).  Guest RAM has a fixed layout (NVF_* below): the MSI-X
 * message page, the queue arena (every ring the harness creates, each in a
 * 16 KiB slot whose tail is a guard), a pool of data pages and PRP list /
 * SGL segment pages.
 *
 * An input is a header, then records.  The header (4 bytes):
 *   h0  bit 0 MSI-X on (else INTx), bit 1 a second I/O queue pair,
 *       bit 2 weighted round robin, bit 3 I/O CQs without interrupts,
 *       bit 4 CC.CSS admin-only, bit 5 the host polls its CQs (consumes
 *       and rings the head) after every record, else only at NVF_OP_DRAIN
 *   h1  admin SQ size (low nibble) and CQ size (high nibble):
 *       nvf_sq_sizes[], nvf_cq_sizes[]
 *   h2  the same for the I/O queues
 *   h3  I/O SQ priorities (2 bits each), interrupt vector of CQ 2 (bit 7)
 * Per input the harness enables the controller (CC.EN=1 with the admin
 * queues of h1) and creates the I/O queue pairs of h0/h2/h3 with its own
 * admin commands.  Then each record is an op byte (modulo NVF_OP__COUNT):
 *   SQE_ADMIN, SQE_IO  one SQE on the admin SQ or an I/O SQ (nvf_sqe()):
 *       q (I/O: bit 0 picks the pair), opcode (from nvf_admin_ops[] /
 *       nvf_io_ops[], or the next byte raw), flags (FUSE, PSDT, no
 *       doorbell, tame, raw NSID), NSID, PRP1/SGL address, PRP2/SGL
 *       length+type, MPTR, CDW2/3 and CDW10..15 (32 bytes).  Addresses
 *       come from nvf_addr(): a pool page, an unaligned one, a PRP list
 *       page, the end of RAM, beyond RAM, the BAR itself, the MSI window,
 *       0 or raw.  The CID is the harness's, unique within the input.
 *   RING       an SQ tail or CQ head doorbell: as a host would, to a few
 *              slots short, again, or a raw (bogus) value
 *   REG        a raw access to a register of nvf_regs[] (reads too)
 *   CLOCK      advance the virtual clock 2^n ns (timers: coalescing,
 *              keep alive, the CQ retry)
 *   PAYLOAD    bytes into a pool page (DSM ranges, Copy descriptors,
 *              feature data, PI tuples)
 *   PRP_LIST   entries of a PRP list page, each from nvf_addr()
 *   SGL_SEG    SGL descriptors into a segment page
 *   PCI        INTx disable, or MSI-X enable and function mask
 *   DRAIN      run the main loop and 100 us of virtual time, consume every
 *              CQ
 * At the end of the input the harness clears CC.EN (a controller reset,
 * as guests do at shutdown), consumes what the reset posted and zeroes
 * what the input touched.
 *
 * Oracles beyond crashes, hangs and sanitizers (nvf_fail aborts):
 *  - every CQE names a (SQ, CID) the host submitted (rang its doorbell
 *    over) and that has not completed yet: nothing completes twice,
 *    nothing is made up; its SQHD is within the SQ
 *  - nothing is written into a queue slot's guard (beyond a ring's end)
 *  - after CC.EN=0 has returned, no CQ and no MSI-X message changes
 *  - CC.EN=0 clears CSTS.RDY
 * The first two are switched off for the rest of an input when the input
 * makes them undecidable: a raw write to CC/AQA/ASQ/ACQ (the admin queues
 * may move), Doorbell Buffer Config (the device then takes its doorbells
 * from a page the input writes), a data pointer at the BAR (the device's
 * DMA then writes its own registers and doorbells); a Create I/O SQ by
 * the input makes CQEs of that SQ ID unchecked.  After a doorbell that
 * moved an SQ's tail past the host's or back, every later slot of that SQ
 * may complete once more than the host rang it.  Every raw address the
 * harness writes (SQE pointers, PRP/SGL entries, payload words) is kept
 * out of the queue arena and the BAR (nvf_sanitize), so the only writer
 * there is the queue engine.
 *
 * What carries over from one input to the next, as on a real controller
 * that keeps it across CC.EN: the namespaces' formats (restored by the
 * harness with Format NVM before the next input's records when an input
 * sent one), the Error Information and SMART logs (counters).  Queues,
 * features (the Timestamp too), AER state and interrupts are cleared by
 * the controller reset itself (nvme_regs_disable).  The machine is reset
 * (fuzz_reset) only when the controller does not come back: CSTS.CFS, or
 * RDY not following CC.EN; or every N inputs with NVQEMU_FUZZ_RESET_EVERY=N
 * in the environment (slower, for comparing).  NVQEMU_FUZZ_VERBOSE=1
 * prints every CQE the harness reads; NVQEMU_FUZZ_QEMU_ARGS adds QEMU
 * options to the machine's command line ('-trace nvme_dev_*' to see what
 * the controller did with an input).
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "hw/pci/pci_regs.h"
#include "hw/block/nvme/spec.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/pci-pc.h"
#include "tests/qtest/fuzz/fuzz.h"

/* Guest RAM layout of this target's machine */
#define NVF_RAM_SIZE    (128 * MiB)
#define NVF_PAGE        4096u
#define NVF_MSIX_PAGE   (1 * MiB)           /* vector v writes at +4 v */
#define NVF_ARENA       (64 * MiB)          /* the harness's rings */
/*
 * Input addresses this far below the arena are moved too: a ring, a PRP or
 * an SGL data block starting there could reach into it
 */
#define NVF_ARENA_SKIRT (4 * MiB)
/* BAR0 and what follows it, kept from the input's raw addresses alike */
#define NVF_BAR_WINDOW  (1 * MiB)
#define NVF_SLOT        (16 * KiB)          /* one ring and its guard */
#define NVF_POOL        (4 * MiB)           /* data pages */
/*
 * The namespaces' size, as a -blockdev size= string: 256 KiB.  null-co
 * has no write-zeroes, so the block layer zeroes a bounce buffer as large
 * as the range for every Write Zeroes and Format NVM: over 16 MiB
 * namespaces such inputs took 4-9 s each and came to fill the corpus
 * (docs/reliability.md).  256 KiB still holds 63 blocks of 4 KiB + 16,
 * more than any one command moves (MDTS 3: 32 KiB).
 */
#define NVF_NS_BYTES    "262144"
#define NVF_POOL_PAGES  64
#define NVF_LIST        (NVF_POOL + NVF_POOL_PAGES * NVF_PAGE)
#define NVF_LIST_PAGES  4                   /* PRP lists, SGL segments */
#define NVF_PAGES       (NVF_POOL_PAGES + NVF_LIST_PAGES)

#define NVF_DEVFN       QPCI_DEVFN(4, 0)
#define NVF_NAMESPACES  3
#define NVF_IO_PAIRS    2
#define NVF_QUEUES      (1 + NVF_IO_PAIRS)  /* admin + I/O, qid = index */
#define NVF_ARENA_SIZE  (2 * NVF_QUEUES * NVF_SLOT)
#define NVF_SQES        6                   /* CC.IOSQES: 64 bytes */
#define NVF_CQES        4                   /* CC.IOCQES: 16 bytes */
#define NVF_MSIX_DATA   0x100
#define NVF_MSI_WINDOW  0xfee00000ull
#define NVF_CIDS        65536
/* a controller that does not settle within this many clock steps is stuck */
#define NVF_SETTLE_STEPS 64
#define NVF_SETTLE_NS   (10 * SCALE_US)
/* a DRAIN record lets this much virtual time pass: ten engine ticks */
#define NVF_DRAIN_NS    (100 * SCALE_US)

/*
 * Queue sizes (entries), small ones more often: the controller allocates
 * a request per SQ slot at creation.  The largest fit a slot with room
 * for a guard.
 */
static const uint16_t nvf_sq_sizes[] = {
    2, 3, 4, 8, 16, 32, 64, 2, 128, 4, 16, 8, 2, 8, 4, 32,
};
static const uint16_t nvf_cq_sizes[] = {
    2, 3, 4, 8, 16, 32, 64, 2, 128, 4, 16, 64, 2, 8, 256, 32,
};
QEMU_BUILD_BUG_ON(256 * (1 << NVF_CQES) >= NVF_SLOT ||
                  128 * (1 << NVF_SQES) >= NVF_SLOT);

enum {
    NVF_OP_SQE_ADMIN,
    NVF_OP_SQE_IO,
    NVF_OP_SQE_IO2,         /* I/O is where most paths are: weighted twice */
    NVF_OP_RING,
    NVF_OP_REG,
    NVF_OP_CLOCK,
    NVF_OP_PAYLOAD,
    NVF_OP_PRP_LIST,
    NVF_OP_SGL_SEG,
    NVF_OP_PCI,
    NVF_OP_DRAIN,
    NVF_OP__COUNT,
};

enum {
    NVF_H0_MSIX         = 1 << 0,
    NVF_H0_TWO_PAIRS    = 1 << 1,
    NVF_H0_WRR          = 1 << 2,
    NVF_H0_NO_IEN       = 1 << 3,
    NVF_H0_ADMIN_ONLY   = 1 << 4,
    NVF_H0_POLL         = 1 << 5,
};

/* SQE record flags */
enum {
    NVF_F_FUSE          = 3 << 0,
    NVF_F_PSDT_SHIFT    = 2,
    NVF_F_PSDT          = 3 << NVF_F_PSDT_SHIFT,
    NVF_F_NO_RING       = 1 << 4,
    NVF_F_TAME          = 1 << 5,       /* small SLBA/NLB/NR: in range */
    NVF_F_RAW_NSID      = 1 << 6,
};
/* a raw opcode follows the opcode byte when it is at least this */
#define NVF_OPC_RAW     0xf0

static const uint8_t nvf_admin_ops[] = {
    NVME_ADM_DELETE_SQ, NVME_ADM_CREATE_SQ, NVME_ADM_GET_LOG_PAGE,
    NVME_ADM_DELETE_CQ, NVME_ADM_CREATE_CQ, NVME_ADM_IDENTIFY,
    NVME_ADM_ABORT, NVME_ADM_SET_FEATURES, NVME_ADM_GET_FEATURES,
    NVME_ADM_ASYNC_EVENT, NVME_ADM_NS_MGMT, NVME_ADM_NS_ATTACHMENT,
    NVME_ADM_KEEP_ALIVE, NVME_ADM_DBBUF_CONFIG, NVME_ADM_FORMAT_NVM,
    NVME_ADM_IDENTIFY, NVME_ADM_GET_LOG_PAGE, NVME_ADM_SET_FEATURES,
};

static const uint8_t nvf_io_ops[] = {
    NVME_IO_FLUSH, NVME_IO_WRITE, NVME_IO_READ, NVME_IO_COMPARE,
    NVME_IO_WRITE_ZEROES, NVME_IO_DSM, NVME_IO_VERIFY, NVME_IO_COPY,
    NVME_IO_WRITE, NVME_IO_READ,
};

static const uint32_t nvf_nsids[] = {
    1, 2, 3, 1, 2, 3, 0, NVME_NSID_BROADCAST, 4, 0xfffffffe,
};

/* Address kinds of nvf_addr() */
enum {
    NVF_A_PAGE,             /* a pool page (next byte) */
    NVF_A_PAGE_OFF,         /* a pool page + a dword offset (next 2) */
    NVF_A_LIST,             /* a PRP list / SGL segment page (next byte) */
    NVF_A_PAGE_ODD,         /* a pool page + a byte offset (next 2) */
    NVF_A_RAM_END,          /* straddles the end of RAM */
    NVF_A_BEYOND,           /* just past RAM */
    NVF_A_BAR,              /* the controller's registers */
    NVF_A_BAR_DB,           /* its doorbells */
    NVF_A_MSI,              /* the MSI window */
    NVF_A_ZERO,
    NVF_A_HIGH,             /* nothing mapped */
    NVF_A_RAW,              /* 8 bytes */
    NVF_A_PAGE2,            /* pool pages again: the common case */
    NVF_A_PAGE3,
    NVF_A__COUNT,
};

/* Registers of the REG op: offset into BAR0, or a special target */
enum {
    NVF_R_MSIX_MASK = -1,   /* vector control of MSI-X entry (value) */
    NVF_R_PBA = -2,         /* the pending bit array (read) */
};
static const int32_t nvf_regs[] = {
    NVME_REG_CAP, NVME_REG_VS, NVME_REG_INTMS, NVME_REG_INTMC, NVME_REG_CC,
    NVME_REG_CSTS, NVME_REG_NSSR, NVME_REG_AQA, NVME_REG_ASQ,
    NVME_REG_ASQ + 4, NVME_REG_ACQ, NVME_REG_ACQ + 4, NVME_REG_END, 0x40,
    0xe00, NVME_REG_DBS + 2, NVME_REG_DBS + 8 * 7, NVME_REG_DBS + 8 * 7 + 4,
    NVME_REG_DBS + 8 * 64, NVME_REG_DBS + 8 * 3, NVME_REG_DBS + 8 * 3 + 4,
    NVF_R_MSIX_MASK, NVF_R_PBA,
};

typedef struct NvfSq {
    bool live;              /* created by the harness, not deleted */
    uint32_t size;
    uint32_t tail;          /* next slot the harness writes */
    uint32_t rung;          /* the last tail the device took */
    uint32_t head;          /* the SQHD last reported */
    /*
     * A doorbell went past the host's tail or back from it (the two are
     * one modulo the size): the device may wrap around the whole ring,
     * to slots the host writes later, so any such slot may complete.  Where its head is
     * the host cannot tell (SQHD comes with completions, and a fetched
     * AER has none): tail 4 rung behind a device head of 5 on an 8-entry
     * SQ is 7 entries to fetch, while the host still has head 4.
     */
    bool wrapped;
    uint16_t slot_cid[256];
    /* admin SQ: each slot's opcode and CDW10, and whether it was rung */
    uint8_t slot_opc[256];
    uint32_t slot_dw10[256];
    bool slot_rung[256];
} NvfSq;

typedef struct NvfCq {
    bool live;
    uint32_t size;
    uint32_t head;
    uint8_t phase;
} NvfCq;

typedef struct NvfInput {
    const uint8_t *p;
    size_t left;
} NvfInput;

typedef struct Nvf {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    uint64_t bar;           /* BAR0's guest physical address */
    uint8_t msix_cap;
    uint16_t pci_cmd;       /* as pre_fuzz left them */
    uint16_t msix_flags;
    bool vectors_masked;    /* the input wrote an MSI-X vector control */
    uint32_t bar_cfg[6];
    unsigned vectors;

    NvfSq sq[NVF_QUEUES];
    NvfCq cq[NVF_QUEUES];
    uint16_t next_cid;
    bool cid_wrapped;
    /* submissions per (SQ, CID) not yet completed */
    uint8_t pending[NVF_QUEUES][NVF_CIDS];
    bool check_cid;
    bool check_arena;
    /*
     * The last input ran unchecked or failed: the device may have written
     * anywhere in the arena (a raw AQA write moves the admin rings' ends,
     * DMA at the BAR rings doorbells), so the next input zeroes all of it
     */
    bool arena_dirty;
    bool poll;
    bool formats_dirty;
    bool msix;
    /* SQ IDs the input created itself: their CQEs are not checked */
    uint8_t foreign_sq[NVF_CIDS / 8];
    bool any_foreign;
    uint8_t touched[NVF_PAGES];     /* pages to zero at the end */
    /* Identify Namespace FLBAS and DPS, as configured */
    uint8_t flbas[NVF_NAMESPACES];
    uint8_t dps[NVF_NAMESPACES];
    uint64_t inputs;
    bool verbose;           /* NVQEMU_FUZZ_VERBOSE: every CQE on stderr */
    uint64_t reset_every;   /* NVQEMU_FUZZ_RESET_EVERY: machine resets */
} Nvf;

static Nvf nvf;

static void G_NORETURN nvf_fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static void nvf_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "nvqemu-nvme-cmd: oracle: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

/* ---- input decoding ------------------------------------------------------ */

static uint8_t nvf_u8(NvfInput *in)
{
    uint8_t v = 0;

    if (in->left) {
        v = *in->p++;
        in->left--;
    }
    return v;
}

static uint16_t nvf_u16(NvfInput *in)
{
    return nvf_u8(in) | (uint16_t)nvf_u8(in) << 8;
}

static uint32_t nvf_u32(NvfInput *in)
{
    return nvf_u16(in) | (uint32_t)nvf_u16(in) << 16;
}

static uint64_t nvf_u64(NvfInput *in)
{
    return nvf_u32(in) | (uint64_t)nvf_u32(in) << 32;
}

/* ---- guest memory -------------------------------------------------------- */

/*
 * Where an input's raw address may not point: the queue arena (the
 * oracles read it) and the controller's BAR (a DMA there rings the
 * harness's doorbells behind its back), with the room below them that a
 * long SGL data block starting there would cross
 */
static bool nvf_protected(uint64_t a)
{
    return (a >= NVF_ARENA - NVF_ARENA_SKIRT &&
            a < NVF_ARENA + NVF_ARENA_SIZE) ||
           (a >= nvf.bar - NVF_ARENA_SKIRT && a < nvf.bar + NVF_BAR_WINDOW);
}

/* An address the input chose, moved out of the protected ranges */
static uint64_t nvf_sanitize(uint64_t a)
{
    return nvf_protected(a) ? a | (1ull << 63) : a;
}

/*
 * Input bytes the device may read as addresses (a PRP list or an SGL
 * segment the input points into a payload): no 8-byte window, at any
 * offset, may point into a protected range.  Setting the top byte of a window
 * leaves the windows before it as they were.
 */
static void nvf_sanitize_bytes(uint8_t *b, size_t len)
{
    for (size_t i = 0; i + 8 <= len; i++) {
        if (nvf_protected(ldq_le_p(b + i))) {
            b[i + 7] |= 0x80;
        }
    }
}

/* Zero guest memory (not qtest_memset: its in-process wrapper leaks) */
static void nvf_zero(uint64_t addr, size_t len)
{
    static const uint8_t zero[NVF_SLOT];

    while (len) {
        size_t n = MIN(len, sizeof(zero));

        qtest_memwrite(nvf.qts, addr, zero, n);
        addr += n;
        len -= n;
    }
}

static uint64_t nvf_page_addr(unsigned page)
{
    nvf.touched[page] = 1;
    return NVF_POOL + (uint64_t)page * NVF_PAGE;
}

static uint64_t nvf_addr(NvfInput *in)
{
    uint8_t kind = nvf_u8(in) % NVF_A__COUNT;
    uint16_t off;

    switch (kind) {
    case NVF_A_PAGE:
    case NVF_A_PAGE2:
    case NVF_A_PAGE3:
        return nvf_page_addr(nvf_u8(in) % NVF_POOL_PAGES);
    case NVF_A_PAGE_OFF:
        off = nvf_u16(in);
        return nvf_page_addr(nvf_u8(in) % NVF_POOL_PAGES) +
               (off & (NVF_PAGE - 4));
    case NVF_A_PAGE_ODD:
        off = nvf_u16(in);
        return nvf_page_addr(nvf_u8(in) % NVF_POOL_PAGES) +
               (off & (NVF_PAGE - 1));
    case NVF_A_LIST:
        return nvf_page_addr(NVF_POOL_PAGES + nvf_u8(in) % NVF_LIST_PAGES);
    case NVF_A_RAM_END:
        return NVF_RAM_SIZE - NVF_PAGE / 2;
    case NVF_A_BEYOND:
        return NVF_RAM_SIZE;
    case NVF_A_BAR:
    case NVF_A_BAR_DB:
        /* the device's DMA may now move queues and ring doorbells */
        nvf.check_cid = false;
        nvf.check_arena = false;
        return nvf.bar + (kind == NVF_A_BAR_DB ? NVME_REG_DBS : 0);
    case NVF_A_MSI:
        return NVF_MSI_WINDOW;
    case NVF_A_ZERO:
        return 0;
    case NVF_A_HIGH:
        return 1ull << 40;
    default: {
        uint64_t a = nvf_sanitize(nvf_u64(in));

        if (a >= NVF_POOL && a < NVF_POOL + NVF_PAGES * NVF_PAGE) {
            nvf.touched[(a - NVF_POOL) / NVF_PAGE] = 1;
        }
        return a;
    }
    }
}

/* ---- registers ----------------------------------------------------------- */

static uint32_t nvf_rd(uint64_t off)
{
    return qtest_readl(nvf.qts, nvf.bar + off);
}

static void nvf_wr(uint64_t off, uint32_t val)
{
    qtest_writel(nvf.qts, nvf.bar + off, val);
}

static uint64_t nvf_sq_db(unsigned qid)
{
    return NVME_REG_DBS + 8 * qid;      /* CAP.DSTRD is 0 */
}

static uint64_t nvf_cq_db(unsigned qid)
{
    return NVME_REG_DBS + 8 * qid + 4;
}

static uint64_t nvf_sq_addr(unsigned qid)
{
    return NVF_ARENA + 2 * qid * NVF_SLOT;
}

static uint64_t nvf_cq_addr(unsigned qid)
{
    return NVF_ARENA + (2 * qid + 1) * NVF_SLOT;
}

/* ---- the oracle ---------------------------------------------------------- */

static bool nvf_is_foreign(uint16_t sqid)
{
    return nvf.foreign_sq[sqid / 8] & (1 << (sqid % 8));
}

/*
 * What an admin command of the input changes for the harness's model:
 * queues it creates are the input's own, shadow doorbells take the
 * doorbells away from the harness, a format must be undone.  Also for the
 * harness's own commands when the device runs them again (a doorbell past
 * the host's tail makes it fetch old slots): a Create I/O SQ run again
 * recreates the queue, empty, over the old ring.
 */
static void nvf_note_admin(uint8_t opc, uint32_t cdw10)
{
    uint16_t qid = FIELD_EX32(cdw10, NVME_CREATEQ_DW10, QID);

    switch (opc) {
    case NVME_ADM_CREATE_SQ:
        nvf.foreign_sq[qid / 8] |= 1 << (qid % 8);
        nvf.any_foreign = true;
        break;
    case NVME_ADM_DELETE_SQ:
        if (qid && qid < NVF_QUEUES) {
            nvf.sq[qid].live = false;
        }
        break;
    case NVME_ADM_DBBUF_CONFIG:
        nvf.check_cid = false;
        break;
    case NVME_ADM_FORMAT_NVM:
        nvf.formats_dirty = true;
        break;
    }
}

/* A doorbell write of @val for SQ @qid that the device takes */
static void nvf_sq_rung(unsigned qid, uint32_t val)
{
    NvfSq *sq = &nvf.sq[qid];

    if (!sq->size || val >= sq->size) {
        return;             /* refused: nothing is fetched */
    }
    if ((val + sq->size - sq->rung) % sq->size >
        (sq->tail + sq->size - sq->rung) % sq->size) {
        sq->wrapped = true;
    }
    for (uint32_t s = sq->rung; s != val; s = (s + 1) % sq->size) {
        uint8_t *p = &nvf.pending[qid][sq->slot_cid[s]];

        *p = MIN(*p + 1, UINT8_MAX);
        if (qid == 0 && sq->slot_rung[s]) {
            nvf_note_admin(sq->slot_opc[s], sq->slot_dw10[s]);
        }
        sq->slot_rung[s] = true;
    }
    sq->rung = val;
}

static void nvf_cqe_check(unsigned cqid, const NvmeCqe *cqe)
{
    uint16_t sqid = le16_to_cpu(cqe->sqid);
    uint16_t cid = le16_to_cpu(cqe->cid);
    uint16_t sqhd = le16_to_cpu(cqe->sqhd);

    if (nvf.verbose) {
        fprintf(stderr, "nvqemu-nvme-cmd: CQ %u: SQ %u CID %u status 0x%x "
                "SQHD %u DW0 0x%x\n", cqid, sqid, cid,
                le16_to_cpu(cqe->status) >> 1, sqhd, le32_to_cpu(cqe->dw0));
    }
    if (sqid < NVF_QUEUES && nvf.sq[sqid].size && !nvf_is_foreign(sqid)) {
        NvfSq *sq = &nvf.sq[sqid];

        if (sqhd < sq->size) {
            sq->head = sqhd;
        }
        if (!nvf.check_cid) {
            return;
        }
        if (sqid != cqid) {
            nvf_fail("CQ %u: CQE of SQ %u (bound to CQ %u), CID %u",
                     cqid, sqid, sqid, cid);
        }
        if (sqhd >= sq->size) {
            nvf_fail("CQ %u: SQHD %u outside SQ %u of %u entries",
                     cqid, sqhd, sqid, sq->size);
        }
        if (!nvf.pending[sqid][cid]) {
            nvf_fail("CQ %u: SQ %u CID %u completes but is not outstanding "
                     "(status 0x%x)", cqid, sqid, cid,
                     le16_to_cpu(cqe->status));
        }
        nvf.pending[sqid][cid]--;
        return;
    }
    if (nvf.check_cid && !nvf_is_foreign(sqid)) {
        nvf_fail("CQ %u: CQE of SQ %u, which the host never created",
                 cqid, sqid);
    }
}

/* Consume the new CQEs of CQ @qid; ring its head doorbell when @ring */
static unsigned nvf_cq_drain(unsigned qid, bool ring)
{
    NvfCq *cq = &nvf.cq[qid];
    unsigned n = 0;

    if (!cq->live) {
        return 0;
    }
    for (;;) {
        NvmeCqe cqe;

        qtest_memread(nvf.qts, nvf_cq_addr(qid) + cq->head * sizeof(cqe),
                      &cqe, sizeof(cqe));
        if ((le16_to_cpu(cqe.status) & 1) != cq->phase) {
            break;
        }
        nvf_cqe_check(qid, &cqe);
        n++;
        if (++cq->head == cq->size) {
            cq->head = 0;
            cq->phase ^= 1;
        }
    }
    if (n && ring) {
        nvf_wr(nvf_cq_db(qid), cq->head);
    }
    return n;
}

static void nvf_drain_all(bool ring)
{
    for (unsigned q = 0; q < NVF_QUEUES; q++) {
        nvf_cq_drain(q, ring);
    }
}

/* ---- submission ---------------------------------------------------------- */

/* Put @c on SQ @qid with a fresh CID (returned), ringing when @ring */
static int nvf_submit(unsigned qid, NvmeSqe *c, bool ring)
{
    NvfSq *sq = &nvf.sq[qid];
    uint16_t cid;

    if (!sq->live || (sq->tail + 1) % sq->size == sq->head) {
        return -1;          /* gone, or full as far as the host knows */
    }
    cid = nvf.next_cid++;
    if (!nvf.next_cid) {
        nvf.next_cid = 1;   /* 0 is the CID of a slot never written */
        nvf.cid_wrapped = true;
    }
    c->cdw0 = cpu_to_le32(FIELD_DP32(le32_to_cpu(c->cdw0), NVME_CDW0, CID,
                                     cid));
    qtest_memwrite(nvf.qts, nvf_sq_addr(qid) + sq->tail * sizeof(*c), c,
                   sizeof(*c));
    sq->slot_cid[sq->tail] = cid;
    sq->slot_opc[sq->tail] = FIELD_EX32(le32_to_cpu(c->cdw0), NVME_CDW0, OPC);
    sq->slot_dw10[sq->tail] = le32_to_cpu(c->cdw10);
    sq->slot_rung[sq->tail] = false;
    /*
     * A slot the device was told about (a raw tail past the host's) but
     * may not have fetched yet, or any slot once a doorbell went back
     * (sq->wrapped): either content may complete now
     */
    if (sq->wrapped ||
        (sq->tail + sq->size - sq->head) % sq->size <
        (sq->rung + sq->size - sq->head) % sq->size) {
        uint8_t *p = &nvf.pending[qid][cid];

        *p = MIN(*p + 1, UINT8_MAX);
    }
    sq->tail = (sq->tail + 1) % sq->size;
    if (ring) {
        nvf_sq_rung(qid, sq->tail);
        nvf_wr(nvf_sq_db(qid), sq->tail);
    }
    return cid;
}

/* Run the main loop and the clock until the admin CQ has a new entry */
static bool nvf_admin_wait(NvmeCqe *out)
{
    NvfCq *cq = &nvf.cq[0];

    for (int i = 0; i < NVF_SETTLE_STEPS; i++) {
        qtest_memread(nvf.qts, nvf_cq_addr(0) + cq->head * sizeof(*out),
                      out, sizeof(*out));
        if ((le16_to_cpu(out->status) & 1) == cq->phase) {
            nvf_cq_drain(0, true);
            return true;
        }
        flush_events(nvf.qts);
        qtest_clock_step(nvf.qts, NVF_SETTLE_NS);
    }
    return false;
}

/* A command of the harness's own on the admin queue: its status */
static int nvf_admin(NvmeSqe *c)
{
    NvmeCqe cqe;

    if (nvf_submit(0, c, true) < 0 || !nvf_admin_wait(&cqe)) {
        return -1;
    }
    return (le16_to_cpu(cqe.status) >> 1) & ~NVME_STATUS_DNR;
}

static NvmeSqe nvf_cmd(uint8_t opc, uint32_t nsid)
{
    NvmeSqe c = { .cdw0 = cpu_to_le32(opc), .nsid = cpu_to_le32(nsid) };

    return c;
}

static void nvf_sqe(NvfInput *in, bool is_admin)
{
    uint8_t q = nvf_u8(in);
    uint8_t sel = nvf_u8(in);
    uint8_t flags = nvf_u8(in);
    unsigned qid = is_admin ? 0 : 1 + (q & 1);
    unsigned psdt = (flags & NVF_F_PSDT) >> NVF_F_PSDT_SHIFT;
    uint8_t opc;
    uint32_t nsid;
    NvmeSqe c;

    if (sel >= NVF_OPC_RAW) {
        opc = nvf_u8(in);
    } else if (is_admin) {
        opc = nvf_admin_ops[sel % ARRAY_SIZE(nvf_admin_ops)];
    } else {
        opc = nvf_io_ops[sel % ARRAY_SIZE(nvf_io_ops)];
    }
    if (flags & NVF_F_RAW_NSID) {
        nsid = nvf_u32(in);
    } else {
        nsid = nvf_nsids[nvf_u8(in) % ARRAY_SIZE(nvf_nsids)];
    }
    c = nvf_cmd(opc, nsid);
    c.cdw0 = cpu_to_le32(FIELD_DP32(FIELD_DP32(le32_to_cpu(c.cdw0), NVME_CDW0,
                                               FUSE, flags & NVF_F_FUSE),
                                    NVME_CDW0, PSDT, psdt));
    if (psdt == NVME_PSDT_PRP) {
        c.dptr[0] = cpu_to_le64(nvf_addr(in));
        c.dptr[1] = cpu_to_le64(nvf_addr(in));
    } else {
        NvmeSglDesc d = { .addr = cpu_to_le64(nvf_addr(in)) };

        d.len = cpu_to_le32(nvf_u16(in) << (nvf_u8(in) % 8));
        d.id = nvf_u8(in);
        memcpy(c.dptr, &d, sizeof(d));
    }
    c.mptr = cpu_to_le64(nvf_addr(in));
    c.cdw2 = cpu_to_le32(nvf_u32(in));
    c.cdw3 = cpu_to_le32(nvf_u32(in));
    c.cdw10 = cpu_to_le32(nvf_u32(in));
    c.cdw11 = cpu_to_le32(nvf_u32(in));
    c.cdw12 = cpu_to_le32(nvf_u32(in));
    c.cdw13 = cpu_to_le32(nvf_u32(in));
    c.cdw14 = cpu_to_le32(nvf_u32(in));
    c.cdw15 = cpu_to_le32(nvf_u32(in));
    if (flags & NVF_F_TAME) {
        /* SLBA small, NLB (and DSM/Copy ranges) within a transfer */
        c.cdw10 = cpu_to_le32(le32_to_cpu(c.cdw10) & 0xfff);
        c.cdw11 = 0;
        c.cdw12 = cpu_to_le32(le32_to_cpu(c.cdw12) & 0xffff003f);
    }
    if (is_admin) {
        nvf_note_admin(opc, le32_to_cpu(c.cdw10));
    }
    nvf_submit(qid, &c, !(flags & NVF_F_NO_RING));
}

/* ---- the other records --------------------------------------------------- */

static void nvf_ring(NvfInput *in)
{
    uint8_t q = nvf_u8(in);
    uint8_t mode = nvf_u8(in);
    unsigned qid = q % NVF_QUEUES;
    bool is_cq = q & 0x80;
    uint32_t val;

    if (is_cq) {
        NvfCq *cq = &nvf.cq[qid];

        switch (mode % 4) {
        case 0:             /* consume, and ring as a host does */
            nvf_cq_drain(qid, true);
            return;
        case 1:             /* consume without telling the device */
            nvf_cq_drain(qid, false);
            return;
        case 2:             /* ring the head again */
            val = cq->head;
            break;
        default:
            val = nvf_u16(in);
            break;
        }
        nvf_wr(nvf_cq_db(qid), val);
        return;
    }

    switch (mode % 4) {
    case 0:                 /* all written so far */
        val = nvf.sq[qid].tail;
        break;
    case 1:                 /* a few slots short of it */
        val = nvf.sq[qid].size ?
              (nvf.sq[qid].tail + nvf.sq[qid].size - nvf_u8(in) %
               nvf.sq[qid].size) % nvf.sq[qid].size : 0;
        break;
    case 2:                 /* again */
        val = nvf.sq[qid].rung;
        break;
    default:
        val = nvf_u16(in);
        break;
    }
    nvf_sq_rung(qid, val);
    nvf_wr(nvf_sq_db(qid), val);
}

static void nvf_reg(NvfInput *in)
{
    uint8_t sel = nvf_u8(in);
    int32_t reg = nvf_regs[(sel & 0x7f) % ARRAY_SIZE(nvf_regs)];
    bool read = sel & 0x80;
    uint32_t val = nvf_u32(in);

    if (reg == NVF_R_MSIX_MASK || reg == NVF_R_PBA) {
        QPCIDevice *d = nvf.dev;

        if (reg == NVF_R_PBA) {
            qpci_io_readl(d, d->msix_pba_bar, d->msix_pba_off);
            return;
        }
        qpci_io_writel(d, d->msix_table_bar, d->msix_table_off +
                       (val >> 16) % nvf.vectors * PCI_MSIX_ENTRY_SIZE +
                       PCI_MSIX_ENTRY_VECTOR_CTRL, val & 1);
        nvf.vectors_masked = true;
        return;
    }
    if (read) {
        nvf_rd(reg);
        return;
    }
    if (reg >= NVME_REG_CC && reg < NVME_REG_END && reg != NVME_REG_CSTS) {
        /* the admin queues may move or the controller reset under us */
        nvf.check_cid = false;
        nvf.check_arena = false;
    }
    nvf_wr(reg, val);
}

static void nvf_payload(NvfInput *in)
{
    uint8_t buf[NVF_PAGE];
    unsigned page = nvf_u8(in) % NVF_PAGES;
    uint16_t off = nvf_u16(in) % NVF_PAGE;
    size_t len = MIN(MIN(nvf_u16(in), in->left), NVF_PAGE - off);

    memcpy(buf, in->p, len);
    in->p += len;
    in->left -= len;
    nvf_sanitize_bytes(buf, len);
    nvf.touched[page] = 1;
    qtest_memwrite(nvf.qts, NVF_POOL + (uint64_t)page * NVF_PAGE + off, buf,
                   len);
}

static void nvf_prp_list(NvfInput *in)
{
    uint64_t page = NVF_LIST_PAGES ? nvf_u8(in) % NVF_LIST_PAGES : 0;
    unsigned first = nvf_u16(in) % (NVF_PAGE / 8);
    unsigned count = nvf_u8(in) % 32 + 1;
    uint64_t base = nvf_page_addr(NVF_POOL_PAGES + page);

    for (unsigned i = 0; i < count && first + i < NVF_PAGE / 8; i++) {
        qtest_writeq(nvf.qts, base + 8 * (first + i), nvf_addr(in));
    }
}

static void nvf_sgl_seg(NvfInput *in)
{
    uint64_t page = nvf_u8(in) % NVF_LIST_PAGES;
    unsigned first = nvf_u8(in) % (NVF_PAGE / sizeof(NvmeSglDesc));
    unsigned count = nvf_u8(in) % 8 + 1;
    uint64_t base = nvf_page_addr(NVF_POOL_PAGES + page);

    for (unsigned i = 0; i < count &&
         first + i < NVF_PAGE / sizeof(NvmeSglDesc); i++) {
        NvmeSglDesc d = { .addr = cpu_to_le64(nvf_addr(in)) };

        d.len = cpu_to_le32(nvf_u16(in) << (nvf_u8(in) % 8));
        d.id = nvf_u8(in);
        qtest_memwrite(nvf.qts, base + (first + i) * sizeof(d), &d,
                       sizeof(d));
    }
}

static void nvf_pci(NvfInput *in)
{
    uint8_t what = nvf_u8(in);
    uint16_t val = nvf_u16(in);

    if (what & 1) {
        /* MSI-X enable and function mask */
        qpci_config_writew(nvf.dev, nvf.msix_cap + PCI_MSIX_FLAGS,
                           val & (PCI_MSIX_FLAGS_ENABLE |
                                  PCI_MSIX_FLAGS_MASKALL));
    } else {
        /*
         * INTx disable.  Not bus master or memory space: turning them off
         * changes the memory topology, whose old views are freed by the
         * RCU thread after the input; libFuzzer then sees more mallocs
         * than frees and runs a full LeakSanitizer scan, at a tenth of
         * the speed.  generic-fuzz-nvqemu-nvme writes the whole config
         * space.
         */
        qpci_config_writew(nvf.dev, PCI_COMMAND,
                           (nvf.pci_cmd & ~PCI_COMMAND_INTX_DISABLE) |
                           (val & PCI_COMMAND_INTX_DISABLE));
    }
}

/* ---- controller bring-up and reset -------------------------------------- */

static void nvf_pci_setup(QTestState *s)
{
    for (unsigned i = 0; i < ARRAY_SIZE(nvf.bar_cfg); i++) {
        qpci_config_writel(nvf.dev, PCI_BASE_ADDRESS_0 + 4 * i,
                           nvf.bar_cfg[i]);
    }
    qpci_config_writew(nvf.dev, PCI_COMMAND, nvf.pci_cmd);
    for (unsigned v = 0; v < nvf.vectors; v++) {
        uint64_t e = nvf.dev->msix_table_off + v * PCI_MSIX_ENTRY_SIZE;
        QPCIBar tb = nvf.dev->msix_table_bar;

        qpci_io_writel(nvf.dev, tb, e + PCI_MSIX_ENTRY_LOWER_ADDR,
                       NVF_MSIX_PAGE + 4 * v);
        qpci_io_writel(nvf.dev, tb, e + PCI_MSIX_ENTRY_UPPER_ADDR, 0);
        qpci_io_writel(nvf.dev, tb, e + PCI_MSIX_ENTRY_DATA,
                       NVF_MSIX_DATA + v);
        qpci_io_writel(nvf.dev, tb, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    }
}

/* The machine reset: the last resort when the controller is stuck */
static void nvf_machine_reset(QTestState *s)
{
    fuzz_reset(s);
    nvf_pci_setup(s);
}

static uint32_t nvf_cc(bool admin_only, bool wrr)
{
    uint32_t cc = FIELD_DP32(0, NVME_CC, EN, 1);

    cc = FIELD_DP32(cc, NVME_CC, IOSQES, NVF_SQES);
    cc = FIELD_DP32(cc, NVME_CC, IOCQES, NVF_CQES);
    cc = FIELD_DP32(cc, NVME_CC, CSS, admin_only ? NVME_CC_CSS_ADMIN_ONLY
                                                 : NVME_CC_CSS_NVM);
    return FIELD_DP32(cc, NVME_CC, AMS, wrr ? NVME_CC_AMS_WRRU
                                            : NVME_CC_AMS_RR);
}

static void nvf_queue_init(unsigned qid, uint32_t sqs, uint32_t cqs)
{
    NvfSq *sq = &nvf.sq[qid];
    NvfCq *cq = &nvf.cq[qid];

    sq->size = sqs;
    cq->size = cqs;
    cq->phase = 1;
}

/* Enable with the admin queues of @h1; false when the controller is stuck */
static bool nvf_enable(uint8_t h0, uint8_t h1)
{
    uint32_t sqs = nvf_sq_sizes[h1 & 0xf], cqs = nvf_cq_sizes[h1 >> 4];

    /*
     * Every ring starts zeroed (its guard is, unless nvf.arena_dirty), every
     * queue absent
     */
    if (nvf.arena_dirty) {
        nvf_zero(NVF_ARENA, NVF_ARENA_SIZE);
        nvf.arena_dirty = false;
    }
    for (unsigned q = 0; q < NVF_QUEUES; q++) {
        nvf_zero(nvf_sq_addr(q), nvf.sq[q].size << NVF_SQES);
        nvf_zero(nvf_cq_addr(q), nvf.cq[q].size << NVF_CQES);
    }
    memset(nvf.sq, 0, sizeof(nvf.sq));
    memset(nvf.cq, 0, sizeof(nvf.cq));
    nvf_queue_init(0, sqs, cqs);
    nvf_wr(NVME_REG_AQA, (cqs - 1) << 16 | (sqs - 1));
    nvf_wr(NVME_REG_ASQ, nvf_sq_addr(0));
    nvf_wr(NVME_REG_ASQ + 4, 0);
    nvf_wr(NVME_REG_ACQ, nvf_cq_addr(0));
    nvf_wr(NVME_REG_ACQ + 4, 0);
    nvf_wr(NVME_REG_CC, nvf_cc(h0 & NVF_H0_ADMIN_ONLY, h0 & NVF_H0_WRR));
    if (nvf_rd(NVME_REG_CSTS) != FIELD_DP32(0, NVME_CSTS, RDY, 1)) {
        return false;
    }
    nvf.sq[0].live = nvf.cq[0].live = true;
    return true;
}

/* Put the namespace formats of the command line back (Format NVM) */
static void nvf_restore_formats(void)
{
    for (unsigned i = 0; i < NVF_NAMESPACES; i++) {
        NvmeSqe c = nvf_cmd(NVME_ADM_FORMAT_NVM, i + 1);
        uint8_t f = nvf.flbas[i];

        /* Base Figure 341: LBAF, MSET, PI, PIL; FLBAS bits 3:0, 4, 6:5 */
        c.cdw10 = cpu_to_le32((f & 0xf) | (f & 0x10) |
                              (uint32_t)(nvf.dps[i] & 7) << 5 |
                              (uint32_t)((nvf.dps[i] >> 3) & 1) << 8 |
                              (uint32_t)((f >> 5) & 3) << 12);
        nvf_admin(&c);
    }
    nvf.formats_dirty = false;
}

/* The I/O queue pairs of the header, by the harness's admin commands */
static void nvf_io_queues(uint8_t h0, uint8_t h2, uint8_t h3)
{
    unsigned pairs = h0 & NVF_H0_TWO_PAIRS ? 2 : 1;

    for (unsigned qid = 1; qid <= pairs; qid++) {
        uint32_t sqs = nvf_sq_sizes[h2 & 0xf], cqs = nvf_cq_sizes[h2 >> 4];
        unsigned iv = qid == 2 && (h3 & 0x80) ? 1 : qid;
        NvmeSqe c = nvf_cmd(NVME_ADM_CREATE_CQ, 0);
        uint32_t dw11 = FIELD_DP32(0, NVME_CREATECQ_DW11, PC, 1);

        nvf_queue_init(qid, sqs, cqs);
        c.dptr[0] = cpu_to_le64(nvf_cq_addr(qid));
        c.cdw10 = cpu_to_le32(FIELD_DP32(FIELD_DP32(0, NVME_CREATEQ_DW10, QID,
                                                    qid),
                                         NVME_CREATEQ_DW10, QSIZE, cqs - 1));
        dw11 = FIELD_DP32(dw11, NVME_CREATECQ_DW11, IEN,
                          !(h0 & NVF_H0_NO_IEN));
        dw11 = FIELD_DP32(dw11, NVME_CREATECQ_DW11, IV, iv % nvf.vectors);
        c.cdw11 = cpu_to_le32(dw11);
        if (nvf_admin(&c) != NVME_SUCCESS) {
            nvf.sq[qid].size = 0;
            return;
        }
        nvf.cq[qid].live = true;

        c = nvf_cmd(NVME_ADM_CREATE_SQ, 0);
        c.dptr[0] = cpu_to_le64(nvf_sq_addr(qid));
        c.cdw10 = cpu_to_le32(FIELD_DP32(FIELD_DP32(0, NVME_CREATEQ_DW10, QID,
                                                    qid),
                                         NVME_CREATEQ_DW10, QSIZE, sqs - 1));
        dw11 = FIELD_DP32(0, NVME_CREATESQ_DW11, PC, 1);
        dw11 = FIELD_DP32(dw11, NVME_CREATESQ_DW11, QPRIO,
                          (h3 >> (2 * qid)) & 3);
        dw11 = FIELD_DP32(dw11, NVME_CREATESQ_DW11, CQID, qid);
        c.cdw11 = cpu_to_le32(dw11);
        if (nvf_admin(&c) != NVME_SUCCESS) {
            nvf.sq[qid].size = 0;
            return;
        }
        nvf.sq[qid].live = true;
    }
}

/* Copy every CQ ring and the MSI-X message page into @buf; returns bytes */
static size_t nvf_snapshot_posted(uint8_t *buf)
{
    size_t len = 0;

    for (unsigned q = 0; q < NVF_QUEUES; q++) {
        qtest_memread(nvf.qts, nvf_cq_addr(q), buf + len,
                      nvf.cq[q].size << NVF_CQES);
        len += nvf.cq[q].size << NVF_CQES;
    }
    qtest_memread(nvf.qts, NVF_MSIX_PAGE, buf + len, 4 * nvf.vectors);
    return len + 4 * nvf.vectors;
}

/*
 * The end of an input: CC.EN=0 as a guest resets its controller.  What the
 * reset posts is checked like any completion; after the write returns
 * nothing may land in the CQs or the MSI-X page any more.
 */
static bool nvf_disable(void)
{
    static uint8_t before[NVF_QUEUES * NVF_SLOT + NVF_PAGE];
    static uint8_t after[sizeof(before)];
    size_t len;
    uint32_t csts;

    nvf_wr(NVME_REG_CC, 0);
    csts = nvf_rd(NVME_REG_CSTS);
    if (csts == UINT32_MAX) {
        return false;       /* the BAR is off (memory space disabled) */
    }
    if (FIELD_EX32(csts, NVME_CSTS, RDY)) {
        nvf_fail("CSTS 0x%x: RDY still set after CC.EN=0", csts);
    }
    nvf_drain_all(false);
    len = nvf_snapshot_posted(before);
    flush_events(nvf.qts);
    qtest_clock_step(nvf.qts, SCALE_MS);
    flush_events(nvf.qts);
    nvf_snapshot_posted(after);
    if (memcmp(before, after, len)) {
        nvf_fail("a CQ or MSI-X message was written after CC.EN=0");
    }
    return true;
}

/* Nothing but the queue engine writes the arena, and only into its rings */
static void nvf_check_arena(void)
{
    static uint8_t buf[NVF_SLOT];

    for (unsigned q = 0; q < NVF_QUEUES; q++) {
        uint64_t addrs[2] = { nvf_sq_addr(q), nvf_cq_addr(q) };
        size_t used[2] = { nvf.sq[q].size * (1u << NVF_SQES),
                           nvf.cq[q].size * (1u << NVF_CQES) };

        for (unsigned k = 0; k < 2; k++) {
            size_t i;

            qtest_memread(nvf.qts, addrs[k] + used[k], buf,
                          NVF_SLOT - used[k]);
            if (buffer_is_zero(buf, NVF_SLOT - used[k])) {
                continue;
            }
            for (i = 0; !buf[i]; i++) {
                continue;
            }
            nvf_fail("queue %u %s: byte 0x%zx past the ring's end written "
                     "(0x%02x)", q, k ? "CQ" : "SQ", used[k] + i, buf[i]);
        }
    }
}

static void nvf_cleanup(void)
{
    /* PCI state as pre_fuzz left it; what it lets through lands below */
    qpci_config_writew(nvf.dev, PCI_COMMAND, nvf.pci_cmd);
    qpci_config_writew(nvf.dev, nvf.msix_cap + PCI_MSIX_FLAGS,
                       nvf.msix_flags);
    if (nvf.vectors_masked) {
        for (unsigned v = 0; v < nvf.vectors; v++) {
            qpci_io_writel(nvf.dev, nvf.dev->msix_table_bar,
                           nvf.dev->msix_table_off + v * PCI_MSIX_ENTRY_SIZE +
                           PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
        }
        nvf.vectors_masked = false;
    }
    flush_events(nvf.qts);
    for (unsigned p = 0; p < NVF_PAGES; p++) {
        if (nvf.touched[p]) {
            nvf_zero(NVF_POOL + (uint64_t)p * NVF_PAGE, NVF_PAGE);
        }
    }
    memset(nvf.touched, 0, sizeof(nvf.touched));
    nvf_zero(NVF_MSIX_PAGE, NVF_PAGE);
    for (unsigned q = 0; q < NVF_QUEUES; q++) {
        /* only CIDs below next_cid were handed out, and CID 0 */
        memset(nvf.pending[q], 0, nvf.cid_wrapped ? NVF_CIDS : nvf.next_cid);
    }
    nvf.cid_wrapped = false;
    if (nvf.any_foreign) {
        memset(nvf.foreign_sq, 0, sizeof(nvf.foreign_sq));
        nvf.any_foreign = false;
    }
}

static void nvf_fuzz(QTestState *s, const unsigned char *data, size_t size)
{
    NvfInput in = { .p = data, .left = size };
    uint8_t h0 = nvf_u8(&in), h1 = nvf_u8(&in);
    uint8_t h2 = nvf_u8(&in), h3 = nvf_u8(&in);
    bool ok;

    nvf.inputs++;
    nvf.next_cid = 1;
    nvf.check_cid = true;
    nvf.check_arena = true;
    nvf.poll = h0 & NVF_H0_POLL;
    nvf.msix = h0 & NVF_H0_MSIX;
    qpci_config_writew(nvf.dev, nvf.msix_cap + PCI_MSIX_FLAGS,
                       nvf.msix ? nvf.msix_flags
                                : nvf.msix_flags & ~PCI_MSIX_FLAGS_ENABLE);

    ok = nvf_enable(h0, h1);
    if (ok) {
        if (nvf.formats_dirty) {
            nvf_restore_formats();
        }
        nvf_io_queues(h0, h2, h3);
        while (in.left) {
            switch (nvf_u8(&in) % NVF_OP__COUNT) {
            case NVF_OP_SQE_ADMIN:
                nvf_sqe(&in, true);
                break;
            case NVF_OP_SQE_IO:
            case NVF_OP_SQE_IO2:
                nvf_sqe(&in, false);
                break;
            case NVF_OP_RING:
                nvf_ring(&in);
                break;
            case NVF_OP_REG:
                nvf_reg(&in);
                break;
            case NVF_OP_CLOCK:
                qtest_clock_step(s, 1ll << (nvf_u8(&in) % 32));
                break;
            case NVF_OP_PAYLOAD:
                nvf_payload(&in);
                break;
            case NVF_OP_PRP_LIST:
                nvf_prp_list(&in);
                break;
            case NVF_OP_SGL_SEG:
                nvf_sgl_seg(&in);
                break;
            case NVF_OP_PCI:
                nvf_pci(&in);
                break;
            default:
                flush_events(s);
                qtest_clock_step(s, NVF_DRAIN_NS);
                flush_events(s);
                nvf_drain_all(true);
                break;
            }
            flush_events(s);
            if (nvf.poll) {
                nvf_drain_all(true);
            }
        }
        flush_events(s);
        nvf_drain_all(true);
        /* the BAR must be there for the reset */
        qpci_config_writew(nvf.dev, PCI_COMMAND, nvf.pci_cmd);
        ok = nvf_disable();
        if (ok && nvf.check_arena) {
            nvf_check_arena();
        }
    }
    nvf.arena_dirty = !ok || !nvf.check_arena;
    nvf_cleanup();
    if (!ok || nvf_rd(NVME_REG_CSTS) != 0 ||
        (nvf.reset_every && nvf.inputs % nvf.reset_every == 0)) {
        nvf_machine_reset(s);
    }
}

/* ---- set-up -------------------------------------------------------------- */

/* The machine; @t->opaque: more nvme properties (the engine's mode) */
static GString *nvf_cmdline(FuzzTarget *t)
{
    GString *cmd = g_string_new(TARGET_NAME " -display none "
        "-machine accel=qtest -machine q35 -nodefaults -m 128M "
        "-blockdev driver=null-co,read-zeroes=on,size=" NVF_NS_BYTES
        ",node-name=d1 "
        "-blockdev driver=null-co,read-zeroes=on,size=" NVF_NS_BYTES
        ",node-name=d2 "
        "-blockdev driver=null-co,read-zeroes=on,size=" NVF_NS_BYTES
        ",node-name=d3 "
        "-device nvme,id=c0,serial=fz0,mdts=3,max_ioqpairs=8,msix_qsize=9,"
        "addr=04.0");

    g_string_append_printf(cmd, "%s "
        "-device nvme-ns,bus=c0,drive=d1,nsid=1 "
        "-device nvme-ns,bus=c0,drive=d2,nsid=2,logical_block_size=4096,"
        "physical_block_size=4096,ms=16,mset=1,pi=2,pil=1 "
        "-device nvme-ns,bus=c0,drive=d3,nsid=3,ms=8,pi=1 "
        /* fuzz.c wordexp()s the line: more options, e.g. -trace */
        "${NVQEMU_FUZZ_QEMU_ARGS} ",
        (const char *)t->opaque);
    return cmd;
}

static void nvf_pre_fuzz(QTestState *s)
{
    const char *every = getenv("NVQEMU_FUZZ_RESET_EVERY");
    uint8_t id[NVF_PAGE];
    unsigned bir;

    nvf.qts = s;
    nvf.verbose = getenv("NVQEMU_FUZZ_VERBOSE");
    nvf.reset_every = every ? g_ascii_strtoull(every, NULL, 10) : 0;
    nvf.bus = qpci_new_pc(s, NULL);
    nvf.dev = qpci_device_find(nvf.bus, NVF_DEVFN);
    g_assert(nvf.dev);
    qpci_device_enable(nvf.dev);
    nvf.msix_cap = qpci_find_capability(nvf.dev, PCI_CAP_ID_MSIX, 0);
    g_assert(nvf.msix_cap);
    nvf.vectors = qpci_msix_table_size(nvf.dev);
    qpci_msix_enable(nvf.dev);
    bir = qpci_config_readl(nvf.dev, nvf.msix_cap + PCI_MSIX_TABLE) &
          PCI_MSIX_FLAGS_BIRMASK;
    nvf.bar = bir == 0 ? nvf.dev->msix_table_bar.addr
                       : qpci_iomap(nvf.dev, 0, NULL).addr;
    for (unsigned i = 0; i < ARRAY_SIZE(nvf.bar_cfg); i++) {
        nvf.bar_cfg[i] = qpci_config_readl(nvf.dev,
                                           PCI_BASE_ADDRESS_0 + 4 * i);
    }
    nvf.pci_cmd = qpci_config_readw(nvf.dev, PCI_COMMAND);
    nvf.msix_flags = qpci_config_readw(nvf.dev, nvf.msix_cap + PCI_MSIX_FLAGS);
    nvf_pci_setup(s);

    /* the formats of the command line, for nvf_restore_formats() */
    nvf.next_cid = 1;
    g_assert(nvf_enable(0, 0x33));
    for (unsigned i = 0; i < NVF_NAMESPACES; i++) {
        NvmeSqe c = nvf_cmd(NVME_ADM_IDENTIFY, i + 1);

        c.dptr[0] = cpu_to_le64(NVF_POOL);
        c.cdw10 = cpu_to_le32(NVME_CNS_NS);
        g_assert_cmpint(nvf_admin(&c), ==, NVME_SUCCESS);
        qtest_memread(s, NVF_POOL, id, sizeof(id));
        nvf.flbas[i] = id[offsetof(NvmeIdNs, flbas)];
        nvf.dps[i] = id[offsetof(NvmeIdNs, dps)];
    }
    g_assert(nvf_disable());
    nvf_cleanup();
}

static void nvf_register(void)
{
    fuzz_add_target(&(FuzzTarget){
        .name = "nvqemu-nvme-cmd",
        .description = "nvqemu: structured NVMe commands, doorbells and "
                       "registers on our nvme, in process, a controller "
                       "reset (not a machine reset) between inputs",
        .get_init_cmdline = nvf_cmdline,
        .pre_fuzz = nvf_pre_fuzz,
        .fuzz = nvf_fuzz,
        .opaque = (void *)"",
    });
    /*
     * The same with the timer-driven engine: SQs are served from the tick
     * timer (10 us, 4 commands a tick), so commands complete as the clock
     * steps, and the budget and re-arm paths run
     */
    fuzz_add_target(&(FuzzTarget){
        .name = "nvqemu-nvme-cmd-tick",
        .description = "nvqemu: nvqemu-nvme-cmd with tick-ns=10000, "
                       "tick-budget=4 (the engine on a timer)",
        .get_init_cmdline = nvf_cmdline,
        .pre_fuzz = nvf_pre_fuzz,
        .fuzz = nvf_fuzz,
        .opaque = (void *)",tick-ns=10000,tick-budget=4",
    });
}

fuzz_target_init(nvf_register);
