/*
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * nvqemu qtest: where a hot-plugged NVDIMM lands, and what device_del of
 * an NVDIMM does, on the pc and q35 machines (docs/nvdimm.md, "Hot-plug
 * placement" and "Hot-unplug").
 *
 *   - a hot-plugged NVDIMM placed automatically starts on a 16 MiB
 *     boundary (what ndctl's fsdax/devdax need with the default region
 *     alignment), even after a DIMM whose size is not a multiple of it;
 *   - an address given with "addr" is taken as it is (as stock);
 *   - cold-plugged NVDIMMs are placed as stock QEMU places them (packed
 *     back to back at the backend's alignment);
 *   - device_del of an NVDIMM is refused and the DIMM stays, with its
 *     address: Linux cannot give one up (see the docs).
 *
 * Addresses are read back with query-memory-devices.
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"

#define MiB_BYTES           (1024 * 1024)
#define LABEL_SIZE          (128 * 1024)
/*
 * memfd backends are page aligned (RAM backends are 2 MiB aligned where
 * THP is on); with a label area the pmem is 32 MiB - 128 KiB.
 */
#define COLD_SIZE           (32 * MiB_BYTES)
#define HOT_SIZE            (16 * MiB_BYTES)
/*
 * Linux's default region alignment, which ndctl wants fsdax/devdax
 * namespaces to start on, and what the placement gives a hot-plugged
 * NVDIMM (nvdimm-device.c).
 */
#define HOTPLUG_ALIGN       (16 * MiB_BYTES)

static const char *const machines[] = { "pc", "q35" };

static QTestState *start(const char *machine, const char *extra)
{
    return qtest_initf("-machine %s,nvdimm=on -m 256M,slots=4,maxmem=2G "
                       "-object memory-backend-memfd,id=m0,size=%d "
                       "-device nvdimm,id=nv0,memdev=m0,label-size=%d %s",
                       machine, COLD_SIZE, LABEL_SIZE, extra);
}

/* addr and size of memory device @id from query-memory-devices */
static bool memdev_range(QTestState *qts, const char *id, uint64_t *addr,
                         uint64_t *size)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-memory-devices'}");
    QList *list = qdict_get_qlist(rsp, "return");
    const QListEntry *e;
    bool found = false;

    g_assert(list);
    QLIST_FOREACH_ENTRY(list, e) {
        QDict *data = qdict_get_qdict(qobject_to(QDict, qlist_entry_obj(e)),
                                      "data");

        if (data && qdict_haskey(data, "id") &&
            g_str_equal(qdict_get_str(data, "id"), id)) {
            *addr = qdict_get_int(data, "addr");
            *size = qdict_get_int(data, "size");
            found = true;
        }
    }
    qobject_unref(rsp);
    return found;
}

/* object-add + device_add of nvdimm @id; @addr 0: placed automatically */
static void hotplug(QTestState *qts, const char *id, uint64_t addr)
{
    g_autofree char *memdev = g_strdup_printf("mem-%s", id);
    QDict *props = qdict_new();

    qtest_qmp_assert_success(qts,
        "{'execute': 'object-add', 'arguments': {"
        " 'qom-type': 'memory-backend-memfd', 'id': %s, 'size': %d}}",
        memdev, HOT_SIZE);
    qdict_put_str(props, "id", id);
    qdict_put_str(props, "memdev", memdev);
    if (addr) {
        qdict_put_int(props, "addr", addr);
    }
    qtest_qmp_device_add_qdict(qts, "nvdimm", props);
    qobject_unref(props);
}

/* A hot-plugged NVDIMM after a misaligned one starts aligned. */
static void test_hotplug_aligned(gconstpointer opaque)
{
    QTestState *qts = start(opaque, "");
    uint64_t a0, s0, a1, s1;

    g_assert_true(memdev_range(qts, "nv0", &a0, &s0));
    g_assert_cmpuint(s0, ==, COLD_SIZE - LABEL_SIZE);
    /* the precondition: first fit would give a misaligned address */
    g_assert_cmpuint((a0 + s0) % HOTPLUG_ALIGN, !=, 0);

    hotplug(qts, "nv1", 0);
    g_assert_true(memdev_range(qts, "nv1", &a1, &s1));
    g_assert_cmpuint(s1, ==, HOT_SIZE);
    g_assert_cmpuint(a1 % HOTPLUG_ALIGN, ==, 0);
    g_assert_cmpuint(a1, >=, a0 + s0);
    /* the first aligned address after nv0: nothing wasted beyond that */
    g_assert_cmpuint(a1, ==, ROUND_UP(a0 + s0, HOTPLUG_ALIGN));
    qtest_quit(qts);
}

/* "addr" is honoured even where automatic placement would not put it. */
static void test_hotplug_addr(gconstpointer opaque)
{
    QTestState *qts = start(opaque, "");
    uint64_t a0, s0, a1, s1, want;

    g_assert_true(memdev_range(qts, "nv0", &a0, &s0));
    /* free, page aligned, not 16 MiB aligned */
    want = a0 + COLD_SIZE + 4096;
    g_assert_cmpuint(want % HOTPLUG_ALIGN, !=, 0);
    hotplug(qts, "nv1", want);
    g_assert_true(memdev_range(qts, "nv1", &a1, &s1));
    g_assert_cmpuint(a1, ==, want);
    qtest_quit(qts);
}

/* Cold-plugged DIMMs are packed as stock packs them. */
static void test_coldplug_stock(gconstpointer opaque)
{
    QTestState *qts = start(opaque,
        "-object memory-backend-memfd,id=m1,size=16M "
        "-device nvdimm,id=nv1,memdev=m1");
    uint64_t a0, s0, a1, s1;

    g_assert_true(memdev_range(qts, "nv0", &a0, &s0));
    g_assert_true(memdev_range(qts, "nv1", &a1, &s1));
    g_assert_cmpuint(a1, ==, a0 + s0);
    qtest_quit(qts);
}

/* device_del is refused: the DIMM and its address stay. */
static void test_unplug_refused(gconstpointer opaque)
{
    static const char *const ids[] = { "nv0", "nv1" };
    QTestState *qts = start(opaque, "");
    uint64_t a1, s1, a, s;
    QDict *rsp;

    hotplug(qts, "nv1", 0);
    g_assert_true(memdev_range(qts, "nv1", &a1, &s1));
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
        rsp = qtest_qmp(qts, "{'execute': 'device_del',"
                        " 'arguments': {'id': %s}}", ids[i]);
        g_assert_true(qdict_haskey(rsp, "error"));
        g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(rsp, "error"),
                                              "desc"),
                                "hot unplug is not supported"));
        qobject_unref(rsp);
    }
    g_assert_true(memdev_range(qts, "nv0", &a, &s));
    g_assert_true(memdev_range(qts, "nv1", &a, &s));
    g_assert_cmpuint(a, ==, a1);
    g_assert_cmpuint(s, ==, s1);
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        GTestDataFunc fn;
    } cases[] = {
        { "hotplug-aligned", test_hotplug_aligned },
        { "hotplug-addr", test_hotplug_addr },
        { "coldplug-stock", test_coldplug_stock },
        { "unplug-refused", test_unplug_refused },
    };

    g_test_init(&argc, &argv, NULL);
    for (size_t m = 0; m < G_N_ELEMENTS(machines); m++) {
        for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
            g_autofree char *path = g_strdup_printf("/nvqemu/nvdimm/%s/%s",
                                                    machines[m],
                                                    cases[c].name);

            qtest_add_data_func(path, machines[m], cases[c].fn);
        }
    }
    return g_test_run();
}
