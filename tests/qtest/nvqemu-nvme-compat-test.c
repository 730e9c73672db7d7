/*
 * qtest: nvqemu's nvme / nvme-ns are a drop-in for stock QEMU's.
 *
 * 1. Identity.  For each command line of a table, the guest-visible
 *    identity (PCI configuration space, BAR sizes, Identify Controller,
 *    the NVM command set's Identify Controller (CNS 06h), the
 *    active namespace list, Identify Namespace and the NS Identification
 *    Descriptor list of each namespace) is compared byte for byte with
 *    data RECORDED from stock QEMU built from the same source, in
 *    tests/qtest/data/nvme/<case>.hex.  Only the fields of the mask table
 *    below differ on purpose; docs/nvme.md ("Differs from stock") lists
 *    the same fields with the reason for each.
 *
 *    Re-record (docs/testing.md): run this binary against stock QEMU with
 *      NVQEMU_RECORD=1 \
 *      QTEST_QEMU_BINARY=build/vanilla/qemu/qemu-system-x86_64 \
 *      build/qemu/nvqemu/tests/qtest/nvqemu-nvme-compat-test
 *
 * 2. Machine types and property values.  Every versioned pc/q35 machine
 *    type starts nvme and nvme-ns; each command line of a second table
 *    starts (or is refused) as it is with stock QEMU; a refusal names the
 *    property.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "hw/pci/pci_regs.h"
#include "hw/block/nvme/spec.h"

#define DEVFN           QPCI_DEVFN(4, 0)
#define PAGE            4096u
#define ADMIN_ENTRIES   8
#define WAIT_STEPS      100000
#define STEP_NS         10000
#define CFG_SIZE        256
#define NUM_BARS        6
#define HEX_PER_LINE    32

/* ---- the command lines -------------------------------------------------- */

typedef struct CompatCase {
    const char *name;           /* tests/qtest/data/nvme/<name>.hex */
    const char *machine;
    const char *devices;
} CompatCase;

#define DRIVES "-drive id=d0,if=none,driver=null-co,size=64M " \
               "-drive id=d1,if=none,driver=null-co,size=32M "

static const CompatCase compat_cases[] = {
    { "pc-drive", "pc",
      "-device nvme,addr=04.0,drive=d0,serial=compat0001" },
    { "q35-drive", "q35",
      "-device nvme,addr=04.0,drive=d0,serial=compat0001" },
    { "pc-ns-ids", "pc",
      "-device nvme,id=c0,addr=04.0,serial=compat0002 "
      "-device nvme-ns,bus=c0,drive=d0,nsid=1,eui64=0x0123456789abcdef,"
      "nguid=e9accd3b-8390-4e13-167c-f0593437f57d,"
      "uuid=6f1c4a0e-2b7d-4c3e-9a5f-1d2e3f4a5b6c "
      "-device nvme-ns,bus=c0,drive=d1,nsid=3,shared=off" },
    /* pc/q35 6.1..7.0 set nvme-ns.eui64-default=on */
    { "q35-7.0-eui64-default", "pc-q35-7.0",
      "-device nvme,id=c0,addr=04.0,drive=d0,serial=compat0003 "
      "-device nvme-ns,bus=c0,drive=d1,nsid=2" },
    { "pc-eui64-default", "pc",
      "-device nvme,id=c0,addr=04.0,serial=compat0004 "
      "-device nvme-ns,bus=c0,drive=d0,eui64-default=on "
      "-device nvme-ns,bus=c0,drive=d1,eui64-default=on" },
    { "pc-intel-id", "pc",
      "-device nvme,addr=04.0,drive=d0,serial=compat0005,use-intel-id=on" },
    { "q35-msix-exclusive-bar", "q35",
      "-device nvme,addr=04.0,drive=d0,serial=compat0006,"
      "msix-exclusive-bar=on" },
    /* pc-i440fx-5.1 and older: use-intel-id=on, msix-exclusive-bar=on */
    { "pc-i440fx-5.1", "pc-i440fx-5.1",
      "-device nvme,addr=04.0,drive=d0,serial=compat0007" },
    { "pc-params", "pc",
      "-device nvme,addr=04.0,drive=d0,serial=compat0008,max_ioqpairs=4,"
      "msix_qsize=5,mdts=5,aerl=10,vsl=9,mqes=255" },
    { "pc-block-sizes", "pc",
      "-device nvme,id=c0,addr=04.0,drive=d0,serial=compat0009,"
      "logical_block_size=4096,physical_block_size=4096 "
      "-device nvme-ns,bus=c0,drive=d1,nsid=2,logical_block_size=1024,"
      "physical_block_size=1024" },
    /* a physical block larger than the logical one: NPWG/NPWA stay 0 */
    { "pc-pbs4k", "pc",
      "-device nvme,addr=04.0,drive=d0,serial=compat0010,"
      "logical_block_size=512,physical_block_size=4096" },
    /* no APIC, so no MSI: the function comes up without MSI-X (INTx) */
    { "pc-no-msi", "pc -cpu qemu64,-apic",
      "-device nvme,addr=04.0,drive=d0,serial=compat0011" },
    { "pc-no-msi-exclusive-bar", "pc -cpu qemu64,-apic",
      "-device nvme,addr=04.0,drive=d0,serial=compat0012,"
      "msix-exclusive-bar=on" },
    /*
     * an nvme-subsys: the first controller (CNTLID 0, CMIC, SUBNQN) with
     * a shared namespace and a detached one; the second's private one
     * is not attached to it
     */
    { "pc-subsys", "pc",
      "-device nvme-subsys,id=ss0,nqn=compat-ss "
      "-device nvme,id=c0,addr=04.0,serial=compat0013,subsys=ss0 "
      "-device nvme,id=c1,addr=05.0,serial=compat0013,subsys=ss0 "
      "-device nvme-ns,bus=c0,drive=d0,nsid=1 "
      "-device nvme-ns,bus=c1,drive=d1,nsid=2,shared=off "
      "-drive id=d2,if=none,driver=null-co,size=16M "
      "-device nvme-ns,bus=c0,drive=d2,nsid=3,detached=on" },
    /* without nqn: named after the nvme-subsys's id */
    { "q35-subsys-no-nqn", "q35",
      "-device nvme-subsys,id=subsys-id "
      "-device nvme,id=c0,addr=04.0,serial=compat0014,subsys=subsys-id "
      "-device nvme-ns,bus=c0,drive=d0" },
};

/*
 * Fields that differ from stock on purpose: the same rows as the table
 * "Differs from stock" in docs/nvme.md.  Offsets are the spec's.
 */
typedef struct CompatMask {
    const char *blob;           /* prefix of a blob name */
    unsigned off, len;
    const char *field;
} CompatMask;

static const CompatMask compat_masks[] = {
    { "idctrl", 256, 2, "OACS (Directives)" },
    { "idctrl", 261, 1, "LPA (per-namespace SMART)" },
    { "idctrl", 262, 1, "ELPE" },
    { "idctrl", 320, 2, "KAS" },
    { "idctrl", 520, 2, "ONCS (Verify)" },
    { "idns", 24, 1, "NSFEAT (DAE, OPTPERF bit 3)" },
};

/* ---- a minimal admin-only host: enable, Identify by polling ------------ */

typedef struct Host {
    QOSState *qs;
    QTestState *qts;
    QPCIDevice *dev;
    QPCIBar bar;
    uint64_t asq, acq, buf;
    unsigned tail, head;
    uint8_t phase;
    uint16_t cid;
} Host;

static uint64_t host_page(Host *h, unsigned pages)
{
    return QEMU_ALIGN_UP(qmalloc(h->qs, (pages + 1) * PAGE), PAGE);
}

/* BAR sizes by the all-ones probe, restoring each BAR after */
static void host_bar_sizes(QPCIDevice *dev, uint64_t sizes[NUM_BARS])
{
    for (unsigned i = 0; i < NUM_BARS; i++) {
        uint8_t reg = PCI_BASE_ADDRESS_0 + 4 * i;
        uint32_t old = qpci_config_readl(dev, reg), lo;
        uint64_t mask;
        bool is64 = !(old & PCI_BASE_ADDRESS_SPACE_IO) &&
                    (old & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
                    PCI_BASE_ADDRESS_MEM_TYPE_64;

        qpci_config_writel(dev, reg, UINT32_MAX);
        lo = qpci_config_readl(dev, reg);
        qpci_config_writel(dev, reg, old);
        mask = lo & (old & PCI_BASE_ADDRESS_SPACE_IO ?
                     PCI_BASE_ADDRESS_IO_MASK : PCI_BASE_ADDRESS_MEM_MASK);
        if (is64) {
            uint8_t hreg = reg + 4;
            uint32_t hold = qpci_config_readl(dev, hreg);

            qpci_config_writel(dev, hreg, UINT32_MAX);
            mask |= (uint64_t)qpci_config_readl(dev, hreg) << 32;
            qpci_config_writel(dev, hreg, hold);
        } else if (mask) {
            mask |= ~(uint64_t)UINT32_MAX;
        }
        sizes[i] = mask ? ~mask + 1 : 0;
        if (is64) {
            sizes[++i] = 0;
        }
    }
}

static void host_enable(Host *h)
{
    uint32_t cc = 0;
    unsigned steps = 0;

    h->asq = host_page(h, 1);
    h->acq = host_page(h, 1);
    h->buf = host_page(h, 1);
    qtest_memset(h->qts, h->acq, 0, PAGE);
    h->phase = 1;
    qpci_device_enable(h->dev);
    h->bar = qpci_iomap(h->dev, 0, NULL);
    qpci_io_writel(h->dev, h->bar, NVME_REG_AQA,
                   (ADMIN_ENTRIES - 1) << 16 | (ADMIN_ENTRIES - 1));
    qpci_io_writeq(h->dev, h->bar, NVME_REG_ASQ, h->asq);
    qpci_io_writeq(h->dev, h->bar, NVME_REG_ACQ, h->acq);
    cc = FIELD_DP32(cc, NVME_CC, IOSQES, 6);
    cc = FIELD_DP32(cc, NVME_CC, IOCQES, 4);
    cc = FIELD_DP32(cc, NVME_CC, EN, 1);
    qpci_io_writel(h->dev, h->bar, NVME_REG_CC, cc);
    while (!FIELD_EX32(qpci_io_readl(h->dev, h->bar, NVME_REG_CSTS),
                       NVME_CSTS, RDY)) {
        g_assert_cmpuint(++steps, <, WAIT_STEPS);
        qtest_clock_step(h->qts, STEP_NS);
    }
}

/* Identify @cns for @nsid into h->buf; returns the status code field */
static uint16_t host_identify(Host *h, uint8_t cns, uint32_t nsid)
{
    NvmeSqe c = { 0 };
    NvmeCqe e;
    unsigned steps = 0;

    qtest_memset(h->qts, h->buf, 0, PAGE);
    c.cdw0 = cpu_to_le32(NVME_ADM_IDENTIFY | (uint32_t)++h->cid << 16);
    c.nsid = cpu_to_le32(nsid);
    c.dptr[0] = cpu_to_le64(h->buf);
    c.cdw10 = cpu_to_le32(cns);
    qtest_memwrite(h->qts, h->asq + h->tail * sizeof(c), &c, sizeof(c));
    h->tail = (h->tail + 1) % ADMIN_ENTRIES;
    qpci_io_writel(h->dev, h->bar, NVME_REG_DBS, h->tail);
    for (;;) {
        qtest_memread(h->qts, h->acq + h->head * sizeof(e), &e, sizeof(e));
        if ((le16_to_cpu(e.status) & 1) == h->phase) {
            break;
        }
        g_assert_cmpuint(++steps, <, WAIT_STEPS);
        qtest_clock_step(h->qts, STEP_NS);
    }
    g_assert_cmpuint(le16_to_cpu(e.cid), ==, h->cid);
    h->head = (h->head + 1) % ADMIN_ENTRIES;
    h->phase ^= !h->head;
    qpci_io_writel(h->dev, h->bar, NVME_REG_DBS + sizeof(uint32_t),
                   h->head);
    return le16_to_cpu(e.status) >> 1;
}

/* NVQEMU_RECORD=1: running against stock QEMU to record its identity */
static bool recording(void)
{
    const char *rec = getenv("NVQEMU_RECORD");

    return rec && *rec && strcmp(rec, "0");
}

/* ---- blobs: named byte strings, written and read as hex lines ---------- */

static void blob_add(GHashTable *blobs, const char *name, const void *data,
                     size_t len)
{
    GByteArray *b = g_byte_array_sized_new(len);

    g_byte_array_append(b, data, len);
    g_hash_table_insert(blobs, g_strdup(name), b);
}

static void blob_add_identify(Host *h, GHashTable *blobs, const char *name,
                              uint8_t cns, uint32_t nsid)
{
    uint8_t data[PAGE];

    g_assert_cmphex(host_identify(h, cns, nsid), ==, NVME_SUCCESS);
    qtest_memread(h->qts, h->buf, data, sizeof(data));
    blob_add(blobs, name, data, sizeof(data));
}

/* What the guest sees of the controller, as named blobs */
static GHashTable *compat_observe(const CompatCase *cc)
{
    GHashTable *blobs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify)
                                              g_byte_array_unref);
    Host h = { 0 };
    uint8_t cfg[CFG_SIZE];
    uint64_t sizes[NUM_BARS];
    uint8_t le_sizes[NUM_BARS * sizeof(uint64_t)];
    uint32_t list[PAGE / sizeof(uint32_t)];

    h.qs = qtest_pc_boot("-machine %s -nodefaults " DRIVES "%s",
                         cc->machine, cc->devices);
    h.qts = h.qs->qts;
    h.dev = qpci_device_find(h.qs->pcibus, DEVFN);
    g_assert(h.dev);

    for (unsigned i = 0; i < CFG_SIZE; i++) {
        cfg[i] = qpci_config_readb(h.dev, i);
    }
    blob_add(blobs, "pci", cfg, sizeof(cfg));
    host_bar_sizes(h.dev, sizes);
    for (unsigned i = 0; i < NUM_BARS; i++) {
        stq_le_p(le_sizes + i * sizeof(uint64_t), sizes[i]);
    }
    blob_add(blobs, "bars", le_sizes, sizeof(le_sizes));

    host_enable(&h);
    blob_add_identify(&h, blobs, "idctrl", NVME_CNS_CTRL, 0);
    /* CNS 06h, CSI 0 (NVM): holds VSL, WZSL, DMRL... */
    blob_add_identify(&h, blobs, "nvmctrl", NVME_CNS_CSI_CTRL, 0);
    blob_add_identify(&h, blobs, "nslist", NVME_CNS_ACTIVE_NS_LIST, 0);
    qtest_memread(h.qts, h.buf, list, sizeof(list));
    for (unsigned i = 0; i < ARRAY_SIZE(list) && list[i]; i++) {
        uint32_t nsid = le32_to_cpu(list[i]);
        g_autofree char *idns = g_strdup_printf("idns.%u", nsid);
        g_autofree char *desc = g_strdup_printf("nsdesc.%u", nsid);

        blob_add_identify(&h, blobs, idns, NVME_CNS_NS, nsid);
        blob_add_identify(&h, blobs, desc, NVME_CNS_NS_DESC_LIST, nsid);
    }

    g_free(h.dev);
    qtest_pc_shutdown(h.qs);
    return blobs;
}

/* NVQEMU_TOP (tests/qtest/run.sh sets it) or the tree this was built from */
static char *compat_path(const CompatCase *cc)
{
    const char *top = getenv("NVQEMU_TOP");

    if (top) {
        return g_strdup_printf("%s/tests/qtest/data/nvme/%s.hex", top,
                               cc->name);
    }
    return g_strdup_printf("%s/nvme/%s.hex", NVQEMU_QTEST_DATA, cc->name);
}

static int blob_name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "<blob> <offset> <hex bytes>" lines, blobs sorted by name */
static void compat_record(const CompatCase *cc, GHashTable *blobs)
{
    g_autofree char *path = compat_path(cc);
    g_autoptr(GString) out = g_string_new(NULL);
    guint count;
    g_autofree gpointer *names = g_hash_table_get_keys_as_array(blobs,
                                                                &count);
    g_autoptr(GError) err = NULL;

    g_string_append_printf(out, "# recorded from stock QEMU: -machine %s %s\n",
                           cc->machine, cc->devices);
    qsort(names, count, sizeof(names[0]), blob_name_cmp);
    for (unsigned i = 0; i < count; i++) {
        GByteArray *b = g_hash_table_lookup(blobs, names[i]);

        for (unsigned off = 0; off < b->len; off += HEX_PER_LINE) {
            g_string_append_printf(out, "%s %04x ",
                                   (char *)names[i], off);
            for (unsigned j = off; j < MIN(b->len, off + HEX_PER_LINE); j++) {
                g_string_append_printf(out, "%02x", b->data[j]);
            }
            g_string_append_c(out, '\n');
        }
    }
    g_assert_true(g_file_set_contents(path, out->str, out->len, &err));
}

static GHashTable *compat_load(const CompatCase *cc)
{
    g_autofree char *path = compat_path(cc);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GError) err = NULL;
    GHashTable *blobs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify)
                                              g_byte_array_unref);

    if (!g_file_get_contents(path, &text, NULL, &err)) {
        g_error("%s: %s (record it: see docs/testing.md)", path,
                err->message);
    }
    lines = g_strsplit(text, "\n", -1);
    for (unsigned i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], " ", 3);
        GByteArray *b;
        size_t n;

        if (!f[0] || !*f[0] || *f[0] == '#') {
            continue;
        }
        g_assert_nonnull(f[1]);
        g_assert_nonnull(f[2]);
        b = g_hash_table_lookup(blobs, f[0]);
        if (!b) {
            b = g_byte_array_new();
            g_hash_table_insert(blobs, g_strdup(f[0]), b);
        }
        g_assert_cmpuint(strtoul(f[1], NULL, 16), ==, b->len);
        n = strlen(f[2]) / 2;
        for (size_t j = 0; j < n; j++) {
            uint8_t byte = g_ascii_xdigit_value(f[2][2 * j]) << 4 |
                           g_ascii_xdigit_value(f[2][2 * j + 1]);

            g_byte_array_append(b, &byte, 1);
        }
    }
    return blobs;
}

static const CompatMask *compat_masked(const char *blob, unsigned off)
{
    for (unsigned i = 0; i < ARRAY_SIZE(compat_masks); i++) {
        const CompatMask *m = &compat_masks[i];

        if (g_str_has_prefix(blob, m->blob) &&
            off >= m->off && off < m->off + m->len) {
            return m;
        }
    }
    return NULL;
}

/* Every byte equal, outside the masked fields; report all that differ */
static void compat_compare(const CompatCase *cc, GHashTable *want,
                           GHashTable *got)
{
    GHashTableIter it;
    gpointer name, value;
    unsigned bad = 0;

    g_assert_cmpuint(g_hash_table_size(got), ==, g_hash_table_size(want));
    g_hash_table_iter_init(&it, want);
    while (g_hash_table_iter_next(&it, &name, &value)) {
        GByteArray *w = value, *g = g_hash_table_lookup(got, name);

        g_assert_nonnull(g);
        g_assert_cmpuint(g->len, ==, w->len);
        for (unsigned off = 0; off < w->len; off++) {
            if (w->data[off] != g->data[off] &&
                !compat_masked(name, off)) {
                g_test_message("%s: %s byte %u (0x%x): stock 0x%02x, "
                               "ours 0x%02x", cc->name, (char *)name, off,
                               off, w->data[off], g->data[off]);
                bad++;
            }
        }
    }
    g_assert_cmpuint(bad, ==, 0);
}

static void test_identity(const void *opaque)
{
    const CompatCase *cc = opaque;
    g_autoptr(GHashTable) got = compat_observe(cc);

    if (recording()) {
        compat_record(cc, got);
    } else {
        g_autoptr(GHashTable) want = compat_load(cc);

        compat_compare(cc, want, got);
    }
}

/* ---- start or refuse ---------------------------------------------------- */

typedef struct StartCase {
    const char *machine;
    const char *devices;
    const char *refusal;        /* NULL: starts; else in our message */
} StartCase;

/* a controller with the drive= namespace, and one with an nvme-ns */
#define CTRL "-device nvme,drive=d0,serial=s,"
#define NS "-device nvme,id=c0,serial=s -device nvme-ns,bus=c0,drive=d0,"

/* Outcomes as stock QEMU 10.0 has them (docs/nvme.md lists ranges) */
static const StartCase start_cases[] = {
    /* the machine types whose compat globals name our properties */
    { "pc-q35-7.0", NS "nsid=1", NULL },
    { "pc-i440fx-6.0", NS "nsid=1", NULL },
    { "pc-i440fx-5.2", CTRL "mdts=7", NULL },
    { "pc-i440fx-5.1", CTRL "mdts=7", NULL },
    { "pc-q35-4.2", NS "nsid=1", NULL },
    /* controller properties: the limits of each range */
    { "pc", CTRL "mqes=1", NULL },
    { "pc", CTRL "mqes=65535", NULL },
    { "pc", CTRL "mqes=0", "mqes" },
    { "pc", CTRL "mqes=65536", "mqes" },
    { "pc", CTRL "mdts=1", NULL },
    { "pc", CTRL "mdts=9", NULL },
    { "pc", CTRL "mdts=0", "mdts" },
    { "pc", CTRL "mdts=10", "mdts" },
    { "pc", CTRL "max_ioqpairs=65535", NULL },
    { "pc", CTRL "max_ioqpairs=0", "max_ioqpairs" },
    { "pc", CTRL "max_ioqpairs=65536",
      "max_ioqpairs" },
    { "pc", CTRL "num_queues=2", NULL },
    { "pc", CTRL "num_queues=65536", NULL },
    { "pc", CTRL "num_queues=1", "num_queues" },
    { "pc", CTRL "num_queues=65537",
      "num_queues" },
    { "pc", CTRL "msix_qsize=2048", NULL },
    { "pc", CTRL "msix_qsize=0", "msix_qsize" },
    { "pc", CTRL "msix_qsize=2049", "msix_qsize" },
    { "pc", CTRL "aerl=0", NULL },
    { "pc", CTRL "aerl=255", NULL },
    { "pc", CTRL "aerl=256", "aerl" },
    { "pc", CTRL "aer_max_queued=0", NULL },
    { "pc", CTRL "aer_max_queued=4294967295",
      NULL },
    { "pc", CTRL "vsl=1", NULL },
    { "pc", CTRL "vsl=255", NULL },
    { "pc", CTRL "vsl=0", "vsl" },
    { "pc", CTRL "vsl=256", "vsl" },
    { "pc", CTRL "use-intel-id=on", NULL },
    { "pc", CTRL "use-intel-id=2", "use-intel-id" },
    { "pc", CTRL "msix-exclusive-bar=on", NULL },
    { "pc", CTRL "msix-exclusive-bar=x",
      "msix-exclusive-bar" },
    { "pc", CTRL "smart_critical_warning=31",
      NULL },
    { "pc", CTRL "smart_critical_warning=32",
      "smart_critical_warning" },
    { "pc", "-device nvme,drive=d0", "serial" },
    /* namespace properties */
    { "pc", NS "nguid=e9accd3b-8390-4e13-167c-f0593437f57d", NULL },
    { "pc", NS "nguid=FEDCBA9876543210-ABCDEF-0123456789", NULL },
    { "pc", NS "nguid=auto", NULL },
    { "pc", NS "nguid=e9a-ccd3b83904e13167cf0593437f57d", "nguid" },
    { "pc", NS "nguid=e9accd3b83904e13167cf0593437f57d00", "nguid" },
    { "pc", NS "eui64-default=on,shared=off", NULL },
    { "pc", NS "eui64-default=yes-please", "eui64-default" },
    { "pc", NS "shared=2", "shared" },
    { "pc", CTRL "logical_block_size=1024,"
      "physical_block_size=1024", NULL },
    { "pc", CTRL "logical_block_size=65536,"
      "physical_block_size=65536", NULL },
    { "pc", CTRL "logical_block_size=2097152,"
      "physical_block_size=2097152", NULL },
    { "pc", CTRL "logical_block_size=768",
      "logical_block_size" },
    /* an empty drive (no medium): refused, never a crash */
    { "pc", "-drive if=none,id=e0 -device nvme,drive=e0,serial=s",
      "could not get blockdev size: No medium found" },
    { "pc", "-drive if=none,id=e0 -device nvme,id=c0,serial=s "
      "-device nvme-ns,bus=c0,drive=e0", "could not get blockdev size" },
};

static const char *qemu_binary(void)
{
    const char *bin = getenv("QTEST_QEMU_BINARY");

    return bin ? bin : "qemu-system-x86_64";
}

/* Start QEMU with @sc's command line and quit over QMP; returns stderr */
static bool start_qemu(const StartCase *sc, char **err)
{
    g_autofree char *qemu = g_shell_quote(qemu_binary());
    g_autofree char *cmd = g_strdup_printf(
        "printf '%%s\\n' '{\"execute\":\"qmp_capabilities\"}' "
        "'{\"execute\":\"quit\"}' | %s -machine %s -display none "
        "-nodefaults -S -qmp stdio " DRIVES "%s >/dev/null",
        qemu, sc->machine, sc->devices);
    char *argv[] = { (char *)"/bin/sh", (char *)"-c", cmd, NULL };
    g_autoptr(GError) gerr = NULL;
    int status;

    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               NULL, err, &status, &gerr));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_start(const void *opaque)
{
    const StartCase *sc = opaque;
    g_autofree char *err = NULL;
    bool started = start_qemu(sc, &err);

    g_test_message("-machine %s %s: %s", sc->machine, sc->devices, err);
    if (!sc->refusal) {
        g_assert_true(started);
        return;
    }
    g_assert_false(started);
    /* one clear message that names the property (ours; stock's vary) */
    if (!recording()) {
        g_assert_nonnull(strstr(err, sc->refusal));
    }
}

/*
 * Every versioned pc and q35 machine type starts nvme with the drive=
 * namespace and an nvme-ns: their compat globals name our properties.
 */
static void test_machines(void)
{
    const char *argv[] = { qemu_binary(), "-machine", "help", NULL };
    g_autofree char *out = NULL;
    g_auto(GStrv) lines = NULL;
    unsigned tried = 0, failed = 0;
    int status;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                               G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                               NULL, &status, NULL));
    lines = g_strsplit(out, "\n", -1);
    for (unsigned i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], " ", 2);
        StartCase sc = {
            .devices = "-device nvme,id=c0,serial=s,drive=d0 "
                       "-device nvme-ns,bus=c0,drive=d1",
        };
        g_autofree char *err = NULL;

        if (!f[0] || (!g_str_has_prefix(f[0], "pc-i440fx-") &&
                      !g_str_has_prefix(f[0], "pc-q35-"))) {
            continue;
        }
        sc.machine = f[0];
        tried++;
        if (!start_qemu(&sc, &err)) {
            g_test_message("-machine %s: %s", sc.machine, err);
            failed++;
        }
    }
    g_test_message("%u versioned machine types", tried);
    g_assert_cmpuint(tried, >, 0);
    g_assert_cmpuint(failed, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (unsigned i = 0; i < ARRAY_SIZE(compat_cases); i++) {
        g_autofree char *path = g_strdup_printf("/nvqemu/nvme-compat/"
                                                "identity/%s",
                                                compat_cases[i].name);

        qtest_add_data_func(path, &compat_cases[i], test_identity);
    }
    qtest_add_func("/nvqemu/nvme-compat/machines", test_machines);
    for (unsigned i = 0; i < ARRAY_SIZE(start_cases); i++) {
        g_autofree char *path = g_strdup_printf("/nvqemu/nvme-compat/"
                                                "start/%u", i);

        qtest_add_data_func(path, &start_cases[i], test_start);
    }
    return g_test_run();
}
