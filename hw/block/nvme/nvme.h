/*
 * nvqemu NVMe controller: device state shared by the files of this
 * directory.  Spec layouts live in include/hw/block/nvme/spec.h; this
 * header holds host-side state only.
 *
 * Files and prefixes, from the top down; a file calls only files below
 * it (a command set reaches the engine's callers only through the
 * NvmeCmdSet table the controller installs):
 *   ctrl.c   nvme_ctrl_   QOM device, PCI function, properties, reset,
 *                         attaching namespaces (through the nvme-bus)
 *   regs.c   nvme_regs_   BAR0 registers, CC/CSTS handshake, doorbells
 *   admin.c  nvme_admin_  admin command set
 *   subsys.c nvme_subsys_ NVM subsystems: the nvme-subsys device, its
 *                         controllers and allocated namespaces, which
 *                         controller a namespace is attached to,
 *                         Namespace Attachment
 *   nsmgmt.c nvme_nsmgmt_ Namespace Management: namespaces created in
 *                         a subsystem's namespace pool (ns-pool=); it
 *                         calls back into subsys.c's namespace registry
 *   log.c    nvme_log_    log pages, SMART counters, async events
 *   io.c     nvme_io_     NVM I/O command set
 *   copy.c   nvme_copy_   the Copy command (io.c dispatches to it)
 *   atomic.c nvme_atomic_ write atomicity (AWUN/AWUPF, Write Atomicity
 *                         Normal)
 *   engine.c nvme_engine_ the service engine: when SQs are served, command
 *                         dispatch, completion batching, fatal stop
 *   queue.c  nvme_q_      SQ/CQ rings, entries, completion slots
 *   irq.c    nvme_irq_    INTx, MSI-X, interrupt coalescing
 *   ns.c     nvme_ns_     namespaces and the nvme-ns device
 *   nstbl.c  nvme_nstbl_  the pool's namespace table (pure, unit tested)
 *   dma.c    nvme_dma_    guest memory: mapping a command's data
 *   arb.c    nvme_arb_    arbitration (pure, unit tested)
 *   dptr.c   nvme_dptr_   PRP and SGL walkers (pure, unit tested)
 *   pi.c     nvme_pi_     end-to-end protection: guard CRCs, PI tuple
 *                         generate/check (pure, unit tested)
 *   err.c    nvme_err_    guest error reporting
 *   vmstate.c nvme_vmstate_ live migration: the controller's and its
 *                         namespaces' state, pausing the engine while the
 *                         VM is stopped
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_NVME_NVME_H
#define HW_BLOCK_NVME_NVME_H

#include "qemu/queue.h"
#include "qemu/timer.h"
#include "qemu/main-loop.h"
#include "qemu/uuid.h"
#include "qemu-version.h"
#include "hw/pci/pci_device.h"
#include "hw/block/block.h"
#include "system/dma.h"
#include "block/aio.h"
#include "qemu/event_notifier.h"
#include "system/iothread.h"
#include "hw/block/nvme/spec.h"
#include "hw/block/nvme/arb.h"
#include "hw/block/nvme/dptr.h"
#include "hw/block/nvme/pi.h"
#include "hw/block/nvme/cmd.h"

#define TYPE_NVME       "nvme"
#define TYPE_NVME_NS    "nvme-ns"
#define TYPE_NVME_BUS   "nvme-bus"
#define TYPE_NVME_SUBSYS "nvme-subsys"

OBJECT_DECLARE_SIMPLE_TYPE(NvmeCtrl, NVME)
OBJECT_DECLARE_SIMPLE_TYPE(NvmeNsDevice, NVME_NS)
OBJECT_DECLARE_SIMPLE_TYPE(NvmeSubsysDevice, NVME_SUBSYS)

typedef struct NvmeSQueue NvmeSQueue;
typedef struct NvmeCQueue NvmeCQueue;
typedef struct NvmeRequest NvmeRequest;
typedef struct NvmeNs NvmeNs;
typedef struct NvmeSubsys NvmeSubsys;
typedef struct NvmeNsPool NvmeNsPool;

enum {
    NVME_MAX_NAMESPACES = 256,
    NVME_MIN_PAGE_BITS  = 12,       /* CAP.MPSMIN: 4 KiB */
    NVME_ADMIN_QID      = 0,
    NVME_ADMIN_QSIZE_MAX = 4096,
    NVME_ERROR_LOG_ENTRIES = 64,
    NVME_NUM_LBAF       = 16,       /* LBA format slots in Identify NS */
    NVME_TEMPERATURE_K  = 310,      /* composite temperature we report */
    NVME_TEMP_OVER_DEFAULT_K = 343,
    NVME_MAX_TICK_BUDGET = 65536,
    NVME_FETCH_MAX      = 64,       /* SQEs read from guest memory at once */
    NVME_POST_MAX       = 64,       /* CQEs written to guest memory at once */
    NVME_SUBSYS_MAX_CTRLS = 256,    /* controllers in one subsystem */
    NVME_NQN_SIZE       = 256,      /* Identify Controller SUBNQN */
    NVME_ENDGID_NVME_NS = 1,        /* stock: every nvme-ns's endurance group */
    NVME_DIRECT_SEGS    = 2,        /* PRP1 + PRP2 data pages */
};

/* Status returned by a handler that completes later (from an AIO cb) */
#define NVME_NO_COMPLETE 0xffff

/*
 * Controller lifecycle (CC.EN / CSTS.RDY / CSTS.SHST / CSTS.CFS).
 *   DISABLED -> ENABLED      CC.EN 0->1 with valid configuration
 *   ENABLED  -> DISABLED     CC.EN 1->0 (in-flight I/O drained first)
 *   ENABLED  -> SHUTDOWN     CC.SHN written (drained and flushed)
 *   any      -> FATAL        the controller cannot go on (CSTS.CFS=1);
 *                            only CC.EN 1->0 or a device reset leave it
 */
typedef enum NvmeCtrlState {
    NVME_CTRL_DISABLED,
    NVME_CTRL_ENABLED,
    NVME_CTRL_SHUTDOWN,
    NVME_CTRL_FATAL,
} NvmeCtrlState;

/* Queue lifecycle: FREE -> ACTIVE (Create) -> FREE (Delete / reset) */
typedef enum NvmeQueueState {
    NVME_QUEUE_FREE,
    NVME_QUEUE_ACTIVE,
} NvmeQueueState;

/* One outstanding command: its SQE, its data mapping, its completion */
struct NvmeRequest {
    NvmeSQueue *sq;
    NvmeNs *ns;
    NvmeSqe cmd;                /* copy of the guest SQE (wire order) */
    uint16_t status;            /* NvmeStatus (+DNR), host order */
    uint32_t dw0;               /* CQE DW0, host order */
    uint32_t dw1;
    uint16_t cid;
    uint8_t opcode;
    BlockAcctCookie acct;
    QEMUSGList sg;
    bool sg_valid;
    uint64_t slba;              /* first LBA, for the error log */
    unsigned aio_pending;       /* multi-request commands (DSM, flush) */
    int aio_ret;
    void *bounce;               /* compare / verify buffers */
    void *bounce2;
    uint64_t verify_pos;        /* Verify: next byte to read */
    uint64_t verify_end;        /* Verify: end of its range (bytes) */
    QEMUIOVector iov;
    uint32_t flags;             /* BDRV_REQ_* for data commands */
    /* data mapped straight into host memory (nvme_dma_map_direct) */
    struct iovec direct[NVME_DIRECT_SEGS];
    unsigned ndirect;
    bool direct_to_guest;
    bool cq_slot;               /* holds a reserved slot of its CQ */
    bool in_flight;             /* counted in NvmeCtrl.inflight */
    bool settled;               /* completed or parked since its exec */
    bool held;                  /* held for werror/rerror=stop */
    QTAILQ_ENTRY(NvmeRequest) entry;
};

/* Submission queue; the engine state (head, tail, pause) is per queue */
struct NvmeSQueue {
    NvmeCtrl *ctrl;
    NvmeQueueState state;
    uint16_t sqid;
    uint16_t cqid;
    uint32_t size;              /* entries (1's based) */
    uint32_t head;
    uint32_t tail;              /* the tail the engine works towards */
    uint32_t db_tail;           /* last MMIO doorbell value (atomic) */
    bool shadow;                /* tail from the shadow doorbell buffer */
    uint32_t db_seen;           /* the doorbell value last looked at */
    bool shadow_bad;            /* a bad shadow value was reported */
    uint64_t dma_addr;
    NvmeQprio prio;
    bool paused;                /* its CQ has no room: wait for the guest */
    NvmeRequest *reqs;          /* one per entry */
    QTAILQ_HEAD(, NvmeRequest) free_list;
    QTAILQ_HEAD(, NvmeRequest) out_list;    /* fetched, not yet completed */
    QTAILQ_ENTRY(NvmeSQueue) cq_entry;
    QTAILQ_ENTRY(NvmeSQueue) active_entry;  /* NvmeCtrl.active_sqs */
};

/* Completion queue */
struct NvmeCQueue {
    NvmeCtrl *ctrl;
    NvmeQueueState state;
    uint16_t cqid;
    uint16_t vector;
    bool ien;
    uint8_t phase;
    uint32_t size;
    uint32_t head;              /* the head the engine has taken */
    uint32_t db_head;           /* last MMIO doorbell value (atomic) */
    uint32_t tail;
    uint32_t tail_next;         /* tail once the posting under way ends */
    uint32_t reserved;          /* slots promised to fetched commands */
    bool shadow;                /* head from the shadow doorbell buffer */
    uint32_t db_seen;           /* the shadow value last looked at */
    bool shadow_bad;            /* a bad shadow value was reported */
    uint64_t dma_addr;
    QTAILQ_HEAD(, NvmeSQueue) sq_list;
    QTAILQ_HEAD(, NvmeRequest) done_list;   /* completed, not yet posted */
    QTAILQ_ENTRY(NvmeCQueue) active_entry;  /* NvmeCtrl.active_cqs */
};

/* Per interrupt vector coalescing state (Base 5.27.1.7, 5.27.1.8) */
typedef struct NvmeVector {
    NvmeCtrl *ctrl;
    uint16_t index;
    bool cd;                    /* coalescing disabled for this vector */
    uint32_t aggregated;        /* entries posted since last interrupt */
    QEMUTimer *timer;           /* aggregation time */
    uint64_t fired;             /* interrupts raised, for tracing */
} NvmeVector;

/*
 * Firmware Revision (Identify Controller FR, Firmware Slot log): the QEMU
 * version, as stock QEMU reports it.
 */
#define NVME_FIRMWARE_REV QEMU_VERSION

/*
 * VS and Identify Controller VER: 1.4, what stock QEMU 10.0 reports for
 * the same device (docs/nvme.md, "Identity").
 */
#define NVME_SPEC_VERSION NVME_VS(1, 4, 0)

/* Doorbell stride in bytes for CAP.DSTRD @dstrd (Base 3.1.4.1) */
static inline uint32_t nvme_db_stride(unsigned dstrd)
{
    return 4u << dstrd;
}

/* A Namespace Globally Unique Identifier as the nguid property holds it */
typedef struct NvmeNguid {
    uint8_t data[NVME_NIDL_NGUID];
} NvmeNguid;

/* Namespace: an nvme-ns device, or the controller's drive= shorthand */
typedef struct NvmeNsParams {
    uint32_t nsid;
    QemuUUID uuid;
    NvmeNguid nguid;            /* all zero: none */
    uint64_t eui64;             /* 0: none */
    bool eui64_default;         /* stock: generate an EUI-64 if none given */
    bool shared;                /* stock: NMIC.SHRNS, attach to all */
    bool detached;              /* stock: allocated, attached to none */
    /* Copy limits (NVM 4.1.5.1), stock's nvme-ns properties */
    uint16_t mssrl;             /* blocks in one source range */
    uint32_t mcl;               /* blocks in one Copy */
    uint8_t msrc;               /* source ranges, 0's based */
    /* metadata and protection information (stock's names, docs/nvme.md) */
    uint16_t ms;                /* metadata bytes per block */
    uint8_t mset;               /* 1: extended LBA, 0: separate buffer */
    uint8_t pi;                 /* NvmePiType */
    uint8_t pil;                /* 1: PI in the first metadata bytes */
    uint8_t pif;                /* NvmePiFormat */
    BlockBackend *meta_blk;     /* nvqemu: meta-drive, metadata image */
} NvmeNsParams;

struct NvmeNs {
    BlockConf blkconf;
    NvmeNsParams params;
    NvmeCtrl *ctrl;             /* the controller it was created on */
    NvmeSubsys *subsys;         /* its owner once allocated (subsys.c) */
    uint8_t lbaf;               /* current LBA format index */
    uint8_t lbads;              /* log2 of the LBA size */
    uint8_t nlbaf;              /* LBA format slots in use (1's based) */
    uint16_t endgid;            /* Identify NS ENDGID, see ns.c */
    uint32_t discard_granule;   /* bytes, for NPDG/NPDA */
    uint8_t lbaf_lbads[NVME_NUM_LBAF];  /* per format; 0: not offered */
    uint16_t lbaf_ms[NVME_NUM_LBAF];    /* metadata bytes per format */
    /* the current format's metadata (Format NVM changes them) */
    uint16_t ms;                /* metadata bytes per block, 0: none */
    bool mset;                  /* extended LBA (FLBAS bit 4) */
    uint8_t pi_type;            /* NvmePiType (DPS bits 2:0) */
    uint8_t pif;                /* NvmePiFormat of every format */
    bool pil;                   /* DPS bit 3: PI in the first bytes */
    /*
     * Where block n's metadata is: at md_offset + n * ms of md_blk, the
     * meta-drive or (as stock) the data image after the last block
     */
    BlockBackend *md_blk;
    uint64_t md_offset;
    uint32_t err_rec;           /* Error Recovery feature (TLER, DULBE) */
    uint64_t nsze;              /* in logical blocks */
    uint8_t nguid[16];
    uint8_t eui64[8];
    QemuUUID uuid;
    NvmeRequest *format_req;    /* Format NVM in progress */
    uint8_t format_lbaf;        /* the LBA format it will apply */
    bool format_mset;           /* and its MSET, PI and PIL */
    uint8_t format_pi;
    bool format_pil;
    uint64_t nvmcap;            /* bytes of a created namespace's extent
                                 * (nsmgmt.c); 0: not created */
};

/* The nvme-ns device: one namespace on an nvme controller's bus */
struct NvmeNsDevice {
    DeviceState parent_obj;
    NvmeNs ns;
    /* its boot order entry's suffix; the bootindex property points here */
    char boot_suffix[sizeof("/namespace@4294967295,0")];
};

/* Controller properties (user visible, see docs/nvme.md) */
typedef struct NvmeParams {
    char *serial;
    uint32_t num_queues;        /* deprecated: max_ioqpairs + 1 */
    uint32_t max_ioqpairs;
    uint16_t msix_qsize;
    uint16_t mqes;
    uint8_t mdts;
    uint8_t vsl;
    uint8_t aerl;
    uint32_t aer_max_queued;
    bool use_intel_id;
    bool msix_exclusive_bar;
    bool derive_ns_ids;         /* nvqemu: ids from (serial, nsid) */
    uint8_t dstrd;
    uint32_t tick_ns;           /* service timer period */
    uint32_t tick_budget;       /* commands per service tick */
    uint32_t cq_retry_ns;       /* accepted, unused (no retry timer) */
    bool dbcs;                  /* Doorbell Buffer Config (OACS bit 8) */
    bool ioeventfd;             /* shadowed doorbells through an eventfd */
    IOThread *iothread;         /* the engine's AioContext (nvqemu) */
    /* write atomicity (stock's atomic.*), in logical blocks, 0's based */
    bool atomic_dn;             /* Write Atomicity Normal DN at reset */
    uint16_t atomic_awun;
    uint16_t atomic_awupf;
    bool ctratt_mem;            /* CTRATT.MEM (stock's ctratt.mem) */
    bool ocp;                   /* OCP datacenter log C0h (stock's ocp) */
} NvmeParams;

/* Current feature values (host order) */
typedef struct NvmeFeatures {
    uint32_t arbitration;
    uint32_t power_mgmt;
    uint16_t temp_over;
    uint16_t temp_under;
    uint32_t num_queues;        /* granted NSQA/NCQA, 0's based */
    uint32_t irq_coalescing;
    uint32_t async_event_conf;
    uint32_t kato;
    int64_t timestamp_base_ms;  /* host ms at the time of Set */
    int64_t timestamp_set_at;   /* QEMU_CLOCK_VIRTUAL ms when set */
    bool timestamp_set;
    NvmeHostBehavior host_behavior;
    bool atomic_dn;             /* Write Atomicity Normal (FID 0Ah) DN */
} NvmeFeatures;

/* SMART/health counters (Base Figure 207), host order */
typedef struct NvmeSmartCounters {
    uint64_t units_read;        /* 512-byte units */
    uint64_t units_written;
    uint64_t host_reads;
    uint64_t host_writes;
    uint64_t power_cycles;
    uint64_t unsafe_shutdowns;
    uint64_t media_errors;
    int64_t power_on_start;     /* QEMU_CLOCK_HOST ns */
} NvmeSmartCounters;

/* An async event waiting for an outstanding AER command */
typedef struct NvmeAsyncEvent {
    uint8_t type;
    uint8_t info;
    uint8_t lid;
} NvmeAsyncEvent;

/*
 * A command set above the engine (admin.c, io.c): the engine dispatches a
 * fetched command through it, log.c reads its effects from it.
 */
typedef enum NvmeCmdSetId {
    NVME_CMDSET_ADMIN,
    NVME_CMDSET_IO,
    NVME_CMDSET_COUNT,
} NvmeCmdSetId;

typedef struct NvmeCmdSet {
    /* NVME_NO_COMPLETE when the command completes later */
    uint16_t (*exec)(NvmeCtrl *n, NvmeRequest *req);
    /* Commands Supported and Effects entry of @opcode (Base 5.16.1.6) */
    uint32_t (*effects)(NvmeCtrl *n, uint8_t opcode);
} NvmeCmdSet;

/*
 * The bus for nvme-ns devices of a controller or of an nvme-subsys: a
 * namespace device hands itself to its bus's owner through @attach when
 * realized and @detach when unrealized, so that ns.c needs nothing of
 * ctrl.c or subsys.c.  @attach may move @dev to another bus (a namespace
 * of an nvme-subsys lives on the subsystem's bus, so that it outlives the
 * controller it was given on).
 */
typedef struct NvmeBus NvmeBus;
struct NvmeBus {
    BusState parent_obj;
    bool (*attach)(NvmeBus *bus, DeviceState *dev, NvmeNs *ns,
                   Error **errp);
    void (*detach)(NvmeBus *bus, NvmeNs *ns);
};

/*
 * An NVM subsystem (Base 1.5.50, 2.4): its controllers, by controller id,
 * and the namespaces allocated in it, by NSID.  A namespace is owned by
 * the subsystem; a controller's NvmeCtrl.ns[] holds those attached to it.
 * Every controller has one: the nvme-subsys device it is linked to
 * (subsys=), or else an implicit one of its own, as stock has.
 */
struct NvmeSubsys {
    char subnqn[NVME_NQN_SIZE];
    char *serial;               /* its controllers' (stock: all the same) */
    bool multi_ctrl;            /* an nvme-subsys device: CMIC bit 1 */
    NvmeBus *bus;               /* its namespaces' bus; implicit: NULL */
    NvmeCtrl *ctrls[NVME_SUBSYS_MAX_CTRLS];
    NvmeNs *ns[NVME_MAX_NAMESPACES + 1];
    NvmeNsPool *pool;           /* ns-pool= (nsmgmt.c), or NULL */
};

/* The nvme-subsys device */
struct NvmeSubsysDevice {
    DeviceState parent_obj;
    NvmeBus bus;
    char *nqn;
    BlockBackend *ns_pool;      /* ns-pool= (nsmgmt.c) */
    NvmeSubsys subsys;
};

struct NvmeCtrl {
    PCIDevice parent_obj;
    MemoryRegion bar0;          /* registers, MSI-X table and PBA */
    MemoryRegion regs;          /* registers and doorbells */
    NvmeBus bus;
    NvmeParams params;
    NvmeSubsysDevice *subsys_dev;       /* subsys= link, or NULL */
    NvmeSubsys *subsys;         /* that one's, or the implicit one */
    uint16_t cntlid;            /* its index in subsys->ctrls[] */
    NvmeNs ns0;          /* drive= shorthand, nsid 1 */
    NvmeNs *ns[NVME_MAX_NAMESPACES + 1];

    /* registers (host order) */
    uint64_t cap;
    uint32_t vs;
    uint32_t intms;
    uint32_t cc;
    uint32_t csts;
    uint32_t aqa;
    uint64_t asq;
    uint64_t acq;
    NvmeCtrlState state;
    unsigned page_bits;

    /* queues, indexed by queue id; [0] is the admin queue pair */
    uint32_t num_queues;        /* max_ioqpairs + 1 */
    NvmeSQueue *sq;
    NvmeCQueue *cq;
    NvmeVector *vec;
    /*
     * The queues that exist, so that an engine run costs the same with
     * max_ioqpairs=65535 as with 64
     */
    QTAILQ_HEAD(, NvmeSQueue) active_sqs;
    QTAILQ_HEAD(, NvmeCQueue) active_cqs;

    /* the engine: the AioContext its timers, BHs and notifiers run in */
    AioContext *ctx;
    QEMUTimer *tick_timer;      /* tick-ns > 0: the service tick */
    QEMUBH *kick_bh;            /* tick-ns = 0: the service tick */
    QEMUBH *post_bh;
    QEMUBH *retry_bh;           /* runs held commands again (VM resumed) */
    EventNotifier kick;         /* doorbells from another thread, eventfds */
    uint32_t inflight;          /* commands in the block layer */
    uint64_t wakeups;           /* engine runs (engine-wakeups property) */
    uint32_t cq_db_pending;     /* an MMIO CQ head is to be taken (atomic) */
    bool polling;               /* the AioContext is polling us */
    /*
     * The VM is stopped (vmstate.c): the engine fetches, posts and
     * interrupts nothing until it runs again (atomic)
     */
    bool vm_stopped;
    VMChangeStateEntry *vm_change;

    /* shadow doorbells (Doorbell Buffer Config, Base 5.8) */
    bool dbbuf_on;
    uint64_t dbbuf_dbs;         /* the buffers' guest addresses */
    uint64_t dbbuf_eis;
    MemoryRegionCache dbbuf_dbs_cache;
    MemoryRegionCache dbbuf_eis_cache;
    uint32_t ioeventfd_sqs;     /* SQ doorbells with an eventfd (BQL) */

    /* interrupts raised from an iothread go through the main loop */
    QEMUBH *irq_bh;
    unsigned long *irq_pending; /* vectors to notify (atomic bits) */
    int irq_level;              /* INTx level the main loop applies */
    NvmeArb arb;
    const NvmeCmdSet *cmdset[NVME_CMDSET_COUNT];
    bool intx_level;
    bool in_tick;               /* guards against nested ticks (drains) */
    NvmeSqe fetch_buf[NVME_FETCH_MAX];  /* SQEs of the run being served */

    NvmeFeatures feat;
    NvmeSmartCounters smart;
    QEMUTimer *kato_timer;      /* keep alive timeout */
    bool temp_warned;           /* temperature event already sent */

    /* asynchronous events */
    NvmeRequest **aer_reqs;     /* AERL + 1 slots */
    unsigned aer_outstanding;
    GArray *aer_queue;          /* NvmeAsyncEvent, at most aer_max_queued */
    uint8_t smart_critical_warning;     /* set with qom-set (test hook) */
    uint8_t aer_masked;         /* event types awaiting a log read */

    /* logs */
    NvmeErrorLogEntry errlog[NVME_ERROR_LOG_ENTRIES];
    uint64_t error_count;
    uint32_t changed_ns[NVME_CHANGED_NS_MAX];
    unsigned changed_ns_count;
};

/* regs.c */
extern const MemoryRegionOps nvme_regs_ops;
void nvme_regs_reset(NvmeCtrl *n);
void nvme_regs_disable(NvmeCtrl *n, bool post_completions);

/* admin.c */
extern const NvmeCmdSet nvme_admin_cmdset;
void nvme_admin_features_reset(NvmeCtrl *n);
void nvme_admin_init(NvmeCtrl *n);
void nvme_admin_fini(NvmeCtrl *n);

/* subsys.c */
NvmeSubsys *nvme_subsys_new_implicit(const char *serial);
bool nvme_subsys_ctrl_register(NvmeSubsys *s, NvmeCtrl *n, Error **errp);
void nvme_subsys_ctrl_unregister(NvmeSubsys *s, NvmeCtrl *n);
void nvme_subsys_free_implicit(NvmeSubsys *s);
NvmeCtrl *nvme_subsys_ctrl(NvmeSubsys *s, uint32_t cntlid);
NvmeNs *nvme_subsys_ns(NvmeSubsys *s, uint32_t nsid);
uint32_t nvme_subsys_free_nsid(NvmeSubsys *s);
bool nvme_subsys_ns_add(NvmeSubsys *s, NvmeNs *ns, Error **errp);
void nvme_subsys_ns_remove(NvmeSubsys *s, NvmeNs *ns);
void nvme_subsys_ns_unplug(NvmeSubsys *s, NvmeNs *ns);
bool nvme_subsys_ns_attached(NvmeNs *ns, NvmeCtrl *n);
void nvme_subsys_ns_changed(NvmeSubsys *s, NvmeNs *ns);
uint16_t nvme_subsys_ns_attach(NvmeSubsys *s, NvmeNs *ns, NvmeCtrl *n);
uint16_t nvme_subsys_ns_detach(NvmeSubsys *s, NvmeNs *ns, NvmeCtrl *n);
uint16_t nvme_subsys_attach_cmd(NvmeCtrl *n, NvmeRequest *req);

/* log.c */
uint16_t nvme_log_get(NvmeCtrl *n, NvmeRequest *req);
void nvme_log_event(NvmeCtrl *n, uint8_t type, uint8_t info, uint8_t lid);
uint16_t nvme_log_aer(NvmeCtrl *n, NvmeRequest *req);
void nvme_log_aer_reset(NvmeCtrl *n);
void nvme_log_check_temperature(NvmeCtrl *n);
void nvme_log_smart_warning_raised(NvmeCtrl *n, uint8_t bits);
void nvme_log_init(NvmeCtrl *n);
void nvme_log_fini(NvmeCtrl *n);
void nvme_log_ns_changed(NvmeCtrl *n, uint32_t nsid);

/* nsmgmt.c */
bool nvme_nsmgmt_realize(NvmeSubsys *s, BlockBackend *blk, Error **errp);
bool nvme_nsmgmt_attached_at_start(NvmeSubsys *s, NvmeNs *ns, NvmeCtrl *n);
uint16_t nvme_nsmgmt_attach_changed(NvmeSubsys *s, NvmeNs *ns,
                                    NvmeCtrl **ctrls, unsigned count,
                                    bool attach);
bool nvme_nsmgmt_offered(NvmeCtrl *n);
int nvme_nsmgmt_format_changed(NvmeCtrl *n, NvmeNs *ns);
void nvme_nsmgmt_id_ctrl(NvmeCtrl *n, NvmeIdCtrl *id);
bool nvme_nsmgmt_id_ns_common(NvmeCtrl *n, NvmeIdNs *id);
uint16_t nvme_nsmgmt_cmd(NvmeCtrl *n, NvmeRequest *req);

/* io.c */
extern const NvmeCmdSet nvme_io_cmdset;
uint64_t nvme_io_verify_limit(NvmeCtrl *n);

/* copy.c */
uint16_t nvme_copy_exec(NvmeCtrl *n, NvmeRequest *req);
uint16_t nvme_copy_ocfs(NvmeCtrl *n);

/* atomic.c */
uint16_t nvme_atomic_awupf(NvmeCtrl *n);
uint32_t nvme_atomic_unit(NvmeCtrl *n);
BdrvRequestFlags nvme_atomic_write_flags(NvmeCtrl *n, uint64_t nlb);

/* engine.c */
void nvme_engine_init(NvmeCtrl *n);
void nvme_engine_fini(NvmeCtrl *n);
void nvme_engine_kick(NvmeCtrl *n);
void nvme_engine_sq_doorbell(NvmeCtrl *n, NvmeSQueue *sq, uint32_t val);
void nvme_engine_cq_doorbell(NvmeCtrl *n, NvmeCQueue *cq, uint32_t val);
void nvme_engine_run(NvmeCtrl *n, void (*fn)(void *), void *opaque);
void nvme_engine_drain(NvmeCtrl *n);
void nvme_engine_ioeventfd_update(NvmeCtrl *n);
void nvme_engine_dbbuf_changed(NvmeCtrl *n);
void nvme_engine_complete(NvmeRequest *req);
void nvme_engine_park(NvmeRequest *req);
void nvme_engine_hold(NvmeRequest *req);
void nvme_engine_hold_sqe(NvmeSQueue *sq, const NvmeSqe *sqe);
void nvme_engine_post_all(NvmeCtrl *n);
void nvme_engine_sq_delete(NvmeCtrl *n, uint16_t sqid, bool post);
void nvme_engine_delete_all(NvmeCtrl *n, bool post);
void nvme_engine_quiesce(NvmeCtrl *n);
void nvme_engine_fail(NvmeCtrl *n, const char *why);
void nvme_engine_pause(NvmeCtrl *n);
void nvme_engine_resume(NvmeCtrl *n);

/* queue.c */
void nvme_q_init(NvmeCtrl *n);
void nvme_q_fini(NvmeCtrl *n);
uint16_t nvme_q_sq_create(NvmeCtrl *n, uint16_t sqid, uint16_t cqid,
                          uint64_t addr, uint32_t size, NvmeQprio prio);
void nvme_q_sq_free(NvmeCtrl *n, NvmeSQueue *sq);
uint16_t nvme_q_cq_create(NvmeCtrl *n, uint16_t cqid, uint64_t addr,
                          uint32_t size, uint16_t vector, bool ien);
void nvme_q_cq_delete(NvmeCtrl *n, uint16_t cqid);
int nvme_q_sq_read(NvmeCtrl *n, NvmeSQueue *sq, NvmeSqe *buf, unsigned max);
NvmeRequest *nvme_q_sq_take(NvmeSQueue *sq, const NvmeSqe *sqe);
NvmeRequest *nvme_q_sq_consume(NvmeSQueue *sq, const NvmeSqe *sqe);
bool nvme_q_cq_post(NvmeCtrl *n, NvmeCQueue *cq, uint32_t *posted);
uint32_t nvme_q_cq_room(NvmeCQueue *cq);
void nvme_q_cq_slot_take(NvmeCQueue *cq, NvmeRequest *req);
void nvme_q_cq_slot_give(NvmeCQueue *cq, NvmeRequest *req);
void nvme_q_req_release(NvmeRequest *req);
void nvme_q_req_unmap(NvmeRequest *req);
bool nvme_q_dbbuf_setup(NvmeCtrl *n, uint64_t dbs, uint64_t eis);
bool nvme_q_dbbuf_map(NvmeCtrl *n, uint64_t dbs, uint64_t eis);
void nvme_q_dbbuf_reset(NvmeCtrl *n);
uint32_t nvme_q_shadow_read(NvmeCtrl *n, uint16_t qid, bool cq);
void nvme_q_eventidx_write(NvmeCtrl *n, uint16_t qid, bool cq, uint32_t val);

/* irq.c */
void nvme_irq_init(NvmeCtrl *n);
void nvme_irq_fini(NvmeCtrl *n);
void nvme_irq_notify(NvmeCtrl *n, NvmeCQueue *cq, uint32_t posted);
void nvme_irq_update_pin(NvmeCtrl *n);
void nvme_irq_quiesce(NvmeCtrl *n);
void nvme_irq_reset(NvmeCtrl *n);
void nvme_irq_flush(NvmeCtrl *n);
void nvme_irq_rearm(NvmeCtrl *n);

/* ns.c */
NvmeNs *nvme_ns_lookup(NvmeCtrl *n, uint32_t nsid);
uint16_t nvme_ns_format_check(NvmeNs *ns, uint8_t lbaf, bool mset,
                              uint8_t pi, bool pil);
bool nvme_ns_setup(NvmeNs *ns, NvmeCtrl *n, Error **errp);
void nvme_ns_derive_ids(NvmeNs *ns, const char *serial);
bool nvme_ns_lbaf_valid(NvmeNs *ns, uint8_t lbaf);
uint8_t nvme_ns_new_lbads(uint8_t lbaf);
void nvme_ns_set_write_cache(NvmeNs *ns, bool enable);
bool nvme_ns_write_cache(NvmeNs *ns);
void nvme_ns_identify(NvmeNs *ns, NvmeIdNs *id);
uint16_t nvme_ns_format(NvmeNs *ns, uint8_t lbaf, bool mset, uint8_t pi,
                       bool pil);
void nvme_ns_identify_nvm(NvmeNs *ns, NvmeIdNsNvm *id);
/* Blocks [slba, slba + nlb): data, then metadata (nlb * ms bytes) */
int64_t nvme_ns_md_offset(NvmeNs *ns, uint64_t lba);
int coroutine_fn nvme_ns_co_read(NvmeNs *ns, uint64_t slba, uint32_t nlb,
                                uint8_t *data, uint8_t *meta);
int coroutine_fn nvme_ns_co_write(NvmeNs *ns, uint64_t slba, uint32_t nlb,
                                 const uint8_t *data, const uint8_t *meta,
                                 BdrvRequestFlags flags);
int64_t coroutine_fn nvme_ns_co_dealloc(NvmeNs *ns, uint64_t slba,
                                        uint32_t nlb, bool *dealloc);
void nvme_ns_drain(NvmeNs *ns);
void nvme_ns_drain_all(NvmeCtrl *n);
void nvme_ns_flush_sync(NvmeNs *ns);
uint32_t nvme_ns_dsm_range_limit(NvmeCtrl *n);

/* dma.c */
bool nvme_dma_is_ram(NvmeCtrl *n, uint64_t addr, uint64_t len);
uint16_t nvme_dma_map(NvmeRequest *req, uint64_t len);
bool nvme_dma_map_direct(NvmeRequest *req, uint64_t len, bool to_guest);
void nvme_dma_unmap_direct(NvmeRequest *req);
uint16_t nvme_dma_to_guest(NvmeRequest *req, const void *buf, uint64_t len);
uint16_t nvme_dma_from_guest(NvmeRequest *req, void *buf, uint64_t len);
uint16_t nvme_dma_md_to_guest(NvmeRequest *req, const void *buf,
                              uint64_t len);
uint16_t nvme_dma_md_from_guest(NvmeRequest *req, void *buf, uint64_t len);

/* vmstate.c */
extern const VMStateDescription nvme_vmstate_ctrl;
void nvme_vmstate_init(NvmeCtrl *n);
void nvme_vmstate_fini(NvmeCtrl *n);

/* err.c */
void nvme_err_record(NvmeCtrl *n, NvmeRequest *req);
void nvme_err_record_event(NvmeCtrl *n, uint16_t status);
uint16_t nvme_err_guest(NvmeCtrl *n, NvmeRequest *req, uint16_t status,
                        const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/*
 * Typed views of the controller for the hot path: the QOM cast macros
 * check the type at run time on every call.
 */
static inline PCIDevice *nvme_pci(NvmeCtrl *n)
{
    return &n->parent_obj;
}

static inline DeviceState *nvme_dev(NvmeCtrl *n)
{
    return &n->parent_obj.qdev;
}

static inline AddressSpace *nvme_as(NvmeCtrl *n)
{
    return pci_get_address_space(&n->parent_obj);
}

/* Whether ring index @val lies from @from to @to, going round a ring */
static inline bool nvme_ring_within(uint32_t size, uint32_t from, uint32_t to,
                                    uint32_t val)
{
    return (val + size - from) % size <= (to + size - from) % size;
}

/* How @ns's blocks carry protection information (for pi.c) */
static inline NvmePiLayout nvme_ns_pi_layout(const NvmeNs *ns)
{
    return (NvmePiLayout) {
        .lbasize = 1u << ns->lbads, .ms = ns->ms, .type = ns->pi_type,
        .pif = ns->pif, .first = ns->pil,
    };
}

static inline NvmeCQueue *nvme_sq_cq(NvmeSQueue *sq)
{
    return &sq->ctrl->cq[sq->cqid];
}

/*
 * Timer and event-notifier callbacks are not guarded by the memory core
 * like MMIO handlers and BHs: the engine engages a re-entrancy guard
 * itself, so that an MSI-X message or DMA aimed at our own BAR is blocked,
 * not dispatched.  In the main loop that is the device's guard, which the
 * memory core checks.  In an iothread the device's guard would also block
 * vCPUs writing doorbells at the same time, so the guard is the thread's
 * own (nvme_engine_thread_busy), which regs.c checks.
 */
extern __thread bool nvme_engine_thread_busy;

/* Whether the engine lives in an iothread (iothread=) */
static inline bool nvme_in_iothread(NvmeCtrl *n)
{
    return n->ctx != qemu_get_aio_context();
}

static inline bool nvme_guard_enter(NvmeCtrl *n)
{
    MemReentrancyGuard *g = &nvme_dev(n)->mem_reentrancy_guard;
    bool was;

    if (nvme_in_iothread(n)) {
        was = nvme_engine_thread_busy;
        nvme_engine_thread_busy = true;
        return was;
    }
    was = g->engaged_in_io;
    g->engaged_in_io = true;
    return was;
}

static inline void nvme_guard_leave(NvmeCtrl *n, bool was)
{
    if (nvme_in_iothread(n)) {
        nvme_engine_thread_busy = was;
        return;
    }
    nvme_dev(n)->mem_reentrancy_guard.engaged_in_io = was;
}

static inline uint16_t nvme_sc(uint16_t status)
{
    return status & ~NVME_STATUS_DNR;
}

#endif /* HW_BLOCK_NVME_NVME_H */
