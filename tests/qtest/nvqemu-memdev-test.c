/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * nvqemu qtest: memory devices (nvdimm, pc-dimm) on the pc and q35 machines,
 * through the interfaces users and guests see:
 *   - cold-plugged devices in QMP query-memory-devices (size, slot, node);
 *   - QMP hot-plug raising the ACPI GPE status bit (piix4 and ich9);
 *   - bad command lines failing with a clear message and a clean exit.
 *
 * These are the regression tests nvqemu's own NVDIMM model must keep green.
 */

#include "qemu/osdep.h"
#include "qemu/bitops.h"
#include <glib/gstdio.h>
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"

#define MiB_BYTES           (1024 * 1024)
#define NV_BACKEND_SIZE     (256 * MiB_BYTES)
#define NV_LABEL_SIZE       (128 * 1024)
#define DIMM_SIZE           (128 * MiB_BYTES)

/*
 * ACPI GPE0 status bits QEMU's machines use for hot-plug events
 * (the guest ABI in docs/specs/acpi_mem_hotplug.rst, acpi_nvdimm.rst).
 */
enum {
    GPE_BIT_MEMORY_HOTPLUG = 3,
    GPE_BIT_NVDIMM_HOTPLUG = 4,
};

/* PIIX4 PM: QEMU maps the GPE0 block at a fixed IO address. */
#define PIIX4_GPE0_STS      0xafe0

/*
 * ICH9 LPC (bus 0, device 31, function 0): the ACPI PM IO block sits where
 * PMBASE points once ACPI_CNTL.ACPI_EN is set (Intel ICH9 datasheet, LPC
 * configuration registers 40h/44h, PM IO GPE0_STS at PMBASE + 20h).  There
 * is no firmware in a qtest, so the test programs them itself.
 */
#define PCI_CONF_ADDR       0xcf8
#define PCI_CONF_DATA       0xcfc
#define ICH9_LPC_CONF(reg)  (0x80000000u | (31u << 11) | (reg))
#define ICH9_LPC_PMBASE     0x40
#define ICH9_LPC_ACPI_CNTL  0x44
#define ICH9_ACPI_EN        0x80
#define ICH9_PMBASE_IO      0x600
#define ICH9_GPE0_STS       (ICH9_PMBASE_IO + 0x20)

typedef struct Machine {
    const char *name;       /* -machine type */
    uint16_t gpe0_sts;      /* IO address of GPE0 status byte 0 */
    bool ich9;              /* needs the PM IO block enabled first */
} Machine;

static const Machine machines[] = {
    { .name = "pc", .gpe0_sts = PIIX4_GPE0_STS },
    { .name = "q35", .gpe0_sts = ICH9_GPE0_STS, .ich9 = true },
};

static char *tmpdir;

static char *tmp_path(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

static void enable_pm_io(QTestState *qts, const Machine *m)
{
    if (!m->ich9) {
        return;
    }
    qtest_outl(qts, PCI_CONF_ADDR, ICH9_LPC_CONF(ICH9_LPC_PMBASE));
    qtest_outl(qts, PCI_CONF_DATA, ICH9_PMBASE_IO | 1);
    qtest_outl(qts, PCI_CONF_ADDR, ICH9_LPC_CONF(ICH9_LPC_ACPI_CNTL));
    qtest_outl(qts, PCI_CONF_DATA, ICH9_ACPI_EN);
}

static QDict *find_memdev(QList *list, const char *id, const char **type)
{
    const QListEntry *e;

    QLIST_FOREACH_ENTRY(list, e) {
        QDict *dev = qobject_to(QDict, qlist_entry_obj(e));
        QDict *data = qdict_get_qdict(dev, "data");

        if (data && qdict_haskey(data, "id") &&
            g_str_equal(qdict_get_str(data, "id"), id)) {
            *type = qdict_get_str(dev, "type");
            return data;
        }
    }
    return NULL;
}

/* query-memory-devices; the reply is owned by the caller. */
static QDict *query_memdevs(QTestState *qts, QList **list)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-memory-devices'}");

    g_assert(rsp);
    g_assert(qdict_haskey(rsp, "return"));
    *list = qdict_get_qlist(rsp, "return");
    return rsp;
}

static void check_memdev(QList *list, const char *id, const char *type,
                         uint64_t size, int64_t slot, int64_t node,
                         bool hotplugged)
{
    const char *got_type = NULL;
    QDict *data = find_memdev(list, id, &got_type);

    g_assert_nonnull(data);
    g_assert_cmpstr(got_type, ==, type);
    g_assert_cmpuint(qdict_get_int(data, "size"), ==, size);
    g_assert_cmpint(qdict_get_int(data, "slot"), ==, slot);
    g_assert_cmpint(qdict_get_int(data, "node"), ==, node);
    g_assert_cmpint(qdict_get_bool(data, "hotplugged"), ==, hotplugged);
    g_assert_cmpint(qdict_get_bool(data, "hotpluggable"), ==, true);
    /* Placed in the device memory region: above 4 GiB, size-aligned page. */
    g_assert_cmpuint(qdict_get_int(data, "addr"), >=, 4ull << 30);
    g_assert_cmpuint(qdict_get_int(data, "addr") % 4096, ==, 0);
}

/*
 * Two NUMA nodes, an nvdimm on node 1 (slot 2, 128 KiB label) and a pc-dimm
 * on node 0 (slot 0).  The nvdimm's plugged size is the backend minus its
 * label area, aligned down to the backend's alignment (4 KiB here).
 */
static void test_cold_plug(gconstpointer opaque)
{
    const Machine *m = opaque;
    g_autofree char *nvfile = tmp_path("cold-nv.img");
    QTestState *qts;
    QList *list;
    QDict *rsp;

    qts = qtest_initf(
        "-machine %s,nvdimm=on -m 512M,slots=4,maxmem=4G "
        "-object memory-backend-ram,id=ram0,size=256M "
        "-object memory-backend-ram,id=ram1,size=256M "
        "-numa node,nodeid=0,memdev=ram0 -numa node,nodeid=1,memdev=ram1 "
        "-object memory-backend-file,id=nvmem,share=on,mem-path=%s,size=%d "
        "-device nvdimm,id=nv0,memdev=nvmem,slot=2,node=1,label-size=%d "
        "-object memory-backend-ram,id=dmem,size=%d "
        "-device pc-dimm,id=dimm0,memdev=dmem,slot=0,node=0",
        m->name, nvfile, NV_BACKEND_SIZE, NV_LABEL_SIZE, DIMM_SIZE);

    rsp = query_memdevs(qts, &list);
    g_assert_cmpint(qlist_size(list), ==, 2);
    check_memdev(list, "nv0", "nvdimm", NV_BACKEND_SIZE - NV_LABEL_SIZE,
                 2, 1, false);
    check_memdev(list, "dimm0", "dimm", DIMM_SIZE, 0, 0, false);
    qobject_unref(rsp);

    qtest_quit(qts);
    unlink(nvfile);
}

static uint8_t gpe0_sts(QTestState *qts, const Machine *m)
{
    return qtest_inb(qts, m->gpe0_sts);
}

/* QMP object-add + device_add of a pc-dimm sets the memory hot-plug bit. */
static void test_hotplug_dimm(gconstpointer opaque)
{
    const Machine *m = opaque;
    QTestState *qts;
    QList *list;
    QDict *rsp;

    qts = qtest_initf("-machine %s -m 512M,slots=4,maxmem=4G", m->name);
    enable_pm_io(qts, m);
    g_assert_false(gpe0_sts(qts, m) & BIT(GPE_BIT_MEMORY_HOTPLUG));

    qtest_qmp_assert_success(qts,
        "{'execute': 'object-add', 'arguments': {"
        " 'qom-type': 'memory-backend-ram', 'id': 'hpmem', 'size': %d}}",
        DIMM_SIZE);
    qtest_qmp_assert_success(qts,
        "{'execute': 'device_add', 'arguments': {"
        " 'driver': 'pc-dimm', 'id': 'hp0', 'memdev': 'hpmem'}}");

    g_assert_true(gpe0_sts(qts, m) & BIT(GPE_BIT_MEMORY_HOTPLUG));
    g_assert_false(gpe0_sts(qts, m) & BIT(GPE_BIT_NVDIMM_HOTPLUG));

    rsp = query_memdevs(qts, &list);
    check_memdev(list, "hp0", "dimm", DIMM_SIZE, 0, 0, true);
    qobject_unref(rsp);
    qtest_quit(qts);
}

/* Hot-plugging an nvdimm raises the NVDIMM bit (the guest re-reads _FIT). */
static void test_hotplug_nvdimm(gconstpointer opaque)
{
    const Machine *m = opaque;
    g_autofree char *nvfile = tmp_path("hp-nv.img");
    QTestState *qts;
    QList *list;
    QDict *rsp;

    qts = qtest_initf("-machine %s,nvdimm=on -m 512M,slots=4,maxmem=4G",
                      m->name);
    enable_pm_io(qts, m);
    g_assert_false(gpe0_sts(qts, m) & BIT(GPE_BIT_NVDIMM_HOTPLUG));

    qtest_qmp_assert_success(qts,
        "{'execute': 'object-add', 'arguments': {"
        " 'qom-type': 'memory-backend-file', 'id': 'hpnv', 'share': true,"
        " 'mem-path': %s, 'size': %d}}", nvfile, NV_BACKEND_SIZE);
    qtest_qmp_assert_success(qts,
        "{'execute': 'device_add', 'arguments': {"
        " 'driver': 'nvdimm', 'id': 'hpnv0', 'memdev': 'hpnv',"
        " 'label-size': %d}}", NV_LABEL_SIZE);

    g_assert_true(gpe0_sts(qts, m) & BIT(GPE_BIT_NVDIMM_HOTPLUG));

    rsp = query_memdevs(qts, &list);
    check_memdev(list, "hpnv0", "nvdimm", NV_BACKEND_SIZE - NV_LABEL_SIZE,
                 0, 0, true);
    qobject_unref(rsp);

    /* Unplug is refused with an error, and the device stays. */
    rsp = qtest_qmp(qts, "{'execute': 'device_del',"
                    " 'arguments': {'id': 'hpnv0'}}");
    g_assert_true(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    rsp = query_memdevs(qts, &list);
    g_assert_cmpint(qlist_size(list), ==, 1);
    qobject_unref(rsp);

    qtest_quit(qts);
    unlink(nvfile);
}

/*
 * A bad command line must make QEMU exit with status 1 and a message on
 * stderr naming the problem: no signal, no core dump, no assertion.
 */
typedef struct BadCmdline {
    const char *name;
    const char *args;       /* %s: machine type, %s: backing file */
    const char *expect[3];  /* substrings of the error message */
} BadCmdline;

static const BadCmdline bad_cmdlines[] = {
    {
        .name = "label-too-small",
        .args = "-machine %s,nvdimm=on -m 512M,slots=2,maxmem=2G "
                "-object memory-backend-file,id=m,share=on,mem-path=%s,"
                "size=64M -device nvdimm,memdev=m,label-size=64K",
        .expect = { "label-size" },
    },
    {
        .name = "nvdimm-not-enabled",
        .args = "-machine %s -m 512M,slots=2,maxmem=2G "
                "-object memory-backend-file,id=m,share=on,mem-path=%s,"
                "size=64M -device nvdimm,memdev=m",
        .expect = { "nvdimm", "not enabled" },
    },
    {
        .name = "backend-smaller-than-label",
        .args = "-machine %s,nvdimm=on -m 512M,slots=2,maxmem=2G "
                "-object memory-backend-file,id=m,share=on,mem-path=%s,"
                "size=128K -device nvdimm,memdev=m,label-size=128K",
        .expect = { "too small" },
    },
    {
        .name = "nvdimm-without-memdev",
        .args = "-machine %s,nvdimm=on -m 512M,slots=2,maxmem=2G "
                "-object memory-backend-file,id=m,share=on,mem-path=%s,"
                "size=64M -device nvdimm",
        .expect = { "memdev" },
    },
};

typedef struct BadCase {
    const Machine *m;
    const BadCmdline *bad;
} BadCase;

static void test_bad_cmdline(gconstpointer opaque)
{
    const BadCase *c = opaque;
    g_autofree char *file = tmp_path("bad.img");
    g_autofree char *args = g_strdup_printf(c->bad->args, c->m->name, file);
    g_autofree char *cmd = NULL;
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) gerr = NULL;
    g_auto(GStrv) argv = NULL;
    int status;

    /*
     * An outer timeout turns "QEMU accepted the bad option and kept running"
     * into a failure (exit 124) instead of a hang.
     */
    cmd = g_strdup_printf("timeout 30 %s -nodefaults -display none "
                          "-monitor none -serial none -S %s",
                          g_getenv("QTEST_QEMU_BINARY"), args);
    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, &gerr));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
                               NULL, &out, &err, &status, &gerr));
    g_test_message("%s: %s", c->bad->name, err);

    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    g_assert_null(strstr(err, "ssertion"));
    g_assert_null(strstr(err, "core dumped"));
    for (size_t i = 0; i < ARRAY_SIZE(c->bad->expect) && c->bad->expect[i];
         i++) {
        g_assert_nonnull(strstr(err, c->bad->expect[i]));
    }
    unlink(file);
}

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    int ret;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("nvqemu-memdev-XXXXXX", &err);
    g_assert_no_error(err);

    for (size_t i = 0; i < ARRAY_SIZE(machines); i++) {
        const Machine *m = &machines[i];
        g_autofree char *p1 = g_strdup_printf("/nvqemu/memdev/%s/cold-plug",
                                              m->name);
        g_autofree char *p2 = g_strdup_printf("/nvqemu/memdev/%s/hotplug-dimm",
                                              m->name);
        g_autofree char *p3 = g_strdup_printf(
            "/nvqemu/memdev/%s/hotplug-nvdimm", m->name);

        qtest_add_data_func(p1, m, test_cold_plug);
        qtest_add_data_func(p2, m, test_hotplug_dimm);
        qtest_add_data_func(p3, m, test_hotplug_nvdimm);

        for (size_t j = 0; j < ARRAY_SIZE(bad_cmdlines); j++) {
            BadCase *c = g_new(BadCase, 1);   /* lives until exit */
            g_autofree char *p = g_strdup_printf(
                "/nvqemu/memdev/%s/bad-cmdline/%s", m->name,
                bad_cmdlines[j].name);

            c->m = m;
            c->bad = &bad_cmdlines[j];
            qtest_add_data_func(p, c, test_bad_cmdline);
        }
    }

    ret = g_test_run();
    g_rmdir(tmpdir);
    return ret;
}
