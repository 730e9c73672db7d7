/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM-N qtest: health events.  A state change that leaves a
 * health event to report (an enabled alarm tripped, fatal health, dirty
 * shutdown) raises the NVDIMM GPE (GPE0 status bit 4) and the QEMU root's
 * Health Events function (2) lists the DIMM once; a change without
 * anything to report raises nothing; nvdimm-n=off keeps the QEMU root as
 * stock's.  On pc (PIIX4) and q35 (ICH9).  The QMP commands
 * nvdimm-query-health and nvdimm-inject-health: values, the same event as a
 * guest injection, range checks that change nothing, clear errors for a
 * missing device, a pc-dimm and an nvdimm without nvdimm-n=on.
 *
 * Numbers are written out from docs/specs/nvdimm-acpi.md and the Intel DSM
 * interface, not taken from QEMU's headers.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "qobject/qdict.h"

#include "nvqemu-nvdimm-dsm.h"

#define LABEL_SIZE (128 * 1024)
#define BACKEND_SIZE (16 * 1024 * 1024)

/* QEMU root function 2: status, a 256-bit slot bitmap, root event bits */
#define FN_HEALTH_EVENTS 2
#define HEALTH_EVENTS_LEN 40
#define MASK_QEMU_ROOT_STOCK 0x3        /* query, Read FIT */
#define MASK_QEMU_ROOT_NVN 0x7          /* and Health Events */

/* GPE 4 is the NVDIMM GPE (ACPI_NVDIMM_HOTPLUG_STATUS) */
#define GPE_NVDIMM 0x10
#define PIIX4_GPE0_STS 0xafe0
/* ICH9 LPC (00:1f.0): PMBASE register, ACPI enable; GPE0_STS at +0x20 */
#define ICH9_LPC_DEVFN ((0x1f << 3) | 0)
#define ICH9_PMBASE_REG 0x40
#define ICH9_ACPI_CTRL_REG 0x44
#define ICH9_ACPI_EN 0x80
#define ICH9_PMBASE 0x600
#define ICH9_GPE0_STS (ICH9_PMBASE + 0x20)

/* Intel functions 1, 17 and 18 */
#define ALARM_MEDIA_TEMP 2
#define INJ_MTEMP 1
#define INJ_SPARES 2
#define INJ_FATAL 4
#define TEMP(c) ((c) * 16)

typedef struct Machine {
    const char *name;
    uint16_t gpe0_sts;
} Machine;

static const Machine machines[] = {
    { "pc", PIIX4_GPE0_STS },
    { "q35", ICH9_GPE0_STS },
};

static void pci_cfg_writel(QTestState *qts, uint8_t devfn, uint8_t reg,
                           uint32_t val)
{
    qtest_outl(qts, 0xcf8, 0x80000000u | (devfn << 8) | reg);
    qtest_outl(qts, 0xcfc, val);
}

/* Two NVDIMM-N modules, in slots 0 and 2 (handles 1 and 3). */
static QTestState *start(const Machine *m, const char *f0, const char *f2,
                         const char *nvn)
{
    QTestState *qts = qtest_initf(
        "-machine %s,nvdimm=on -m 128M,slots=4,maxmem=1G "
        "-object memory-backend-file,id=m0,share=on,mem-path=%s,size=%d "
        "-object memory-backend-file,id=m2,share=on,mem-path=%s,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,slot=0,label-size=%d%s "
        "-device nvdimm,id=nv2,memdev=m2,slot=2,label-size=%d%s",
        m->name, f0, BACKEND_SIZE, f2, BACKEND_SIZE, LABEL_SIZE, nvn,
        LABEL_SIZE, nvn);

    if (m->gpe0_sts == ICH9_GPE0_STS) {
        /* what firmware does: map the PM I/O block */
        pci_cfg_writel(qts, ICH9_LPC_DEVFN, ICH9_PMBASE_REG, ICH9_PMBASE | 1);
        pci_cfg_writel(qts, ICH9_LPC_DEVFN, ICH9_ACPI_CTRL_REG, ICH9_ACPI_EN);
    }
    return qts;
}

/* Whether GPE 4 is pending; clears it (write 1 to clear). */
static bool gpe_take(QTestState *qts, const Machine *m)
{
    bool set = qtest_inb(qts, m->gpe0_sts) & GPE_NVDIMM;

    qtest_outb(qts, m->gpe0_sts, GPE_NVDIMM);
    g_assert_false(qtest_inb(qts, m->gpe0_sts) & GPE_NVDIMM);
    return set;
}

/* The pending slots as a bitmap of slots 0-7 (asserts none above). */
static uint8_t events_take(QTestState *qts)
{
    DsmReply r;

    g_assert_cmphex(dsm_call(qts, HANDLE_QEMU_ROOT, 1, FN_HEALTH_EVENTS,
                             NULL, 0, &r), ==, ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, HEALTH_EVENTS_LEN);
    for (unsigned i = 5; i < HEALTH_EVENTS_LEN; i++) {
        g_assert_cmphex(r.data[i], ==, 0);
    }
    return r.data[4];
}

static uint32_t set_thresh(QTestState *qts, uint32_t handle, uint16_t alarm,
                           uint16_t mtemp)
{
    uint8_t in[7] = { 0 };
    DsmReply r;

    stw_le_p(in, alarm);
    in[2] = 0;                          /* spares threshold */
    stw_le_p(in + 3, mtemp);
    stw_le_p(in + 5, TEMP(90));         /* controller temperature */
    return dsm_call(qts, handle, 2, FN_SET_SMART_THRESHOLD, in, sizeof(in),
                    &r);
}

static uint32_t inject(QTestState *qts, uint32_t handle, uint64_t flags,
                       uint16_t mtemp, uint8_t spares, bool fatal)
{
    uint8_t in[15] = { 0 };
    DsmReply r;

    stq_le_p(in, flags);
    in[8] = !!(flags & INJ_MTEMP);
    stw_le_p(in + 9, mtemp);
    in[11] = !!(flags & INJ_SPARES);
    in[12] = spares;
    in[13] = fatal;
    return dsm_call(qts, handle, 2, FN_INJECT_SMART, in, sizeof(in), &r);
}

static void test_events(gconstpointer data)
{
    const Machine *m = data;
    g_autofree char *f0 = make_backing_file(BACKEND_SIZE);
    g_autofree char *f2 = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start(m, f0, f2, ",nvdimm-n=on");
    DsmReply r;

    g_assert_cmphex(dsm_call(qts, HANDLE_QEMU_ROOT, 1, FN_QUERY, NULL, 0,
                             &r), ==, MASK_QEMU_ROOT_NVN);
    /* a fresh start has nothing to report */
    g_assert_false(gpe_take(qts, m));
    g_assert_cmphex(events_take(qts), ==, 0);

    /* nothing to report: an alarm enabled but not tripped, spares low */
    g_assert_cmphex(set_thresh(qts, 1, ALARM_MEDIA_TEMP, TEMP(60)), ==,
                    ST_SUCCESS);
    g_assert_cmphex(inject(qts, 1, INJ_SPARES, 0, 10, false), ==,
                    ST_SUCCESS);
    g_assert_false(gpe_take(qts, m));
    g_assert_cmphex(events_take(qts), ==, 0);

    /* the media temperature crosses the enabled alarm: slot 0 */
    g_assert_cmphex(inject(qts, 1, INJ_MTEMP, TEMP(70), 0, false), ==,
                    ST_SUCCESS);
    g_assert_true(gpe_take(qts, m));
    g_assert_cmphex(events_take(qts), ==, 1u << 0);
    /* fetched once */
    g_assert_cmphex(events_take(qts), ==, 0);

    /* fatal on the other module: slot 2 only */
    g_assert_cmphex(inject(qts, 3, 0, 0, 0, false), ==, ST_SUCCESS);
    g_assert_false(gpe_take(qts, m));
    g_assert_cmphex(inject(qts, 3, INJ_FATAL, 0, 0, true), ==, ST_SUCCESS);
    g_assert_true(gpe_take(qts, m));
    g_assert_cmphex(events_take(qts), ==, 1u << 2);

    /* uninjecting while still fatal elsewhere: each change renews it */
    g_assert_cmphex(inject(qts, 1, INJ_MTEMP, 0, 0, false), ==, ST_SUCCESS);
    g_assert_false(gpe_take(qts, m));
    g_assert_cmphex(events_take(qts), ==, 0);

    /* malformed: Health Events takes no revision but 1 */
    g_assert_cmphex(dsm_call(qts, HANDLE_QEMU_ROOT, 2, FN_HEALTH_EVENTS,
                             NULL, 0, &r), ==, ST_UNSUPPORTED);
    qtest_quit(qts);
    unlink(f0);
    unlink(f2);
}

/* nvdimm-n=off: the QEMU root is stock's (no function 2). */
static void test_off(void)
{
    g_autofree char *f0 = make_backing_file(BACKEND_SIZE);
    g_autofree char *f2 = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start(&machines[0], f0, f2, "");
    DsmReply r;

    g_assert_cmphex(dsm_call(qts, HANDLE_QEMU_ROOT, 1, FN_QUERY, NULL, 0,
                             &r), ==, MASK_QEMU_ROOT_STOCK);
    g_assert_cmphex(dsm_call(qts, HANDLE_QEMU_ROOT, 1, FN_HEALTH_EVENTS,
                             NULL, 0, &r), ==, ST_UNSUPPORTED);
    qtest_quit(qts);
    unlink(f0);
    unlink(f2);
}

static QDict *qmp_health(QTestState *qts, const char *id)
{
    QDict *resp = qtest_qmp(qts, "{'execute': 'nvdimm-query-health',"
                            " 'arguments': {'id': %s}}", id);
    QDict *ret;

    g_assert(qdict_haskey(resp, "return"));
    ret = qdict_get_qdict(resp, "return");
    qobject_ref(ret);
    qobject_unref(resp);
    return ret;
}

static void test_qmp(void)
{
    const Machine *m = &machines[0];
    g_autofree char *f0 = make_backing_file(BACKEND_SIZE);
    g_autofree char *f2 = make_backing_file(BACKEND_SIZE);
    QTestState *qts = qtest_initf(
        "-machine pc,nvdimm=on -m 128M,slots=4,maxmem=1G "
        "-object memory-backend-file,id=m0,share=on,mem-path=%s,size=%d "
        "-object memory-backend-file,id=m2,share=on,mem-path=%s,size=%d "
        "-object memory-backend-ram,id=m3,size=128M "
        "-device nvdimm,id=nv0,memdev=m0,slot=0,label-size=%d,nvdimm-n=on "
        "-device nvdimm,id=nv2,memdev=m2,slot=2,label-size=%d "
        "-device pc-dimm,id=d3,memdev=m3,slot=3",
        f0, BACKEND_SIZE, f2, BACKEND_SIZE, LABEL_SIZE, LABEL_SIZE);
    QDict *h;
    DsmReply r;

    h = qmp_health(qts, "nv0");
    g_assert_cmpstr(qdict_get_str(h, "health-state"), ==, "ok");
    g_assert_cmpint(qdict_get_int(h, "spares"), ==, 100);
    g_assert_cmpint(qdict_get_int(h, "life-used"), ==, 0);
    g_assert_cmpfloat(qdict_get_double(h, "media-temperature"), ==, 25);
    g_assert_cmpfloat(qdict_get_double(h, "controller-temperature"), ==, 30);
    g_assert_cmpint(qdict_get_int(h, "spares-threshold"), ==, 10);
    g_assert_cmpfloat(qdict_get_double(h, "media-temperature-threshold"),
                      ==, 85);
    g_assert_cmpfloat(
        qdict_get_double(h, "controller-temperature-threshold"), ==, 95);
    g_assert_false(qdict_get_bool(h, "alarm-media-temperature"));
    g_assert_false(qdict_get_bool(h, "shutdown-dirty"));
    g_assert_cmpint(qdict_get_int(h, "shutdown-count"), ==, 0);
    g_assert_true(qdict_get_bool(h, "persistent"));
    qobject_unref(h);
    g_assert_false(gpe_take(qts, m));

    /* over the media temperature threshold: the guest gets the event */
    assert_qmp_ok(qts, "{'execute': 'nvdimm-inject-health', 'arguments':"
                  " {'id': 'nv0', 'media-temperature': 90.5}}");
    h = qmp_health(qts, "nv0");
    g_assert_cmpfloat(qdict_get_double(h, "media-temperature"), ==, 90.5);
    g_assert_true(qdict_get_bool(h, "alarm-media-temperature"));
    qobject_unref(h);
    g_assert_true(gpe_take(qts, m));
    g_assert_cmphex(events_take(qts), ==, 1u << 0);
    /* the guest's function 1 shows it (media temperature at 16) */
    g_assert_cmphex(dsm_call(qts, 1, 1, FN_SMART, NULL, 0, &r), ==,
                    ST_SUCCESS);
    g_assert_cmphex(lduw_le_p(r.data + 16), ==, TEMP(90) + 8);

    /* fatal, spares, an unsafe shutdown */
    assert_qmp_ok(qts, "{'execute': 'nvdimm-inject-health', 'arguments':"
                  " {'id': 'nv0', 'fatal': true, 'spares': 5,"
                  "  'unsafe-shutdown': true}}");
    h = qmp_health(qts, "nv0");
    g_assert_cmpstr(qdict_get_str(h, "health-state"), ==, "fatal");
    g_assert_cmpint(qdict_get_int(h, "spares"), ==, 5);
    g_assert_true(qdict_get_bool(h, "alarm-spares"));
    g_assert_true(qdict_get_bool(h, "shutdown-dirty"));
    g_assert_cmpint(qdict_get_int(h, "shutdown-count"), ==, 1);
    qobject_unref(h);
    g_assert_true(gpe_take(qts, m));
    g_assert_cmphex(events_take(qts), ==, 1u << 0);

    /* uninject some, then all */
    assert_qmp_ok(qts, "{'execute': 'nvdimm-inject-health', 'arguments':"
                  " {'id': 'nv0', 'fatal': false}}");
    assert_qmp_ok(qts, "{'execute': 'nvdimm-inject-health', 'arguments':"
                  " {'id': 'nv0', 'uninject': true, 'spares': 0}}");
    h = qmp_health(qts, "nv0");
    g_assert_cmpstr(qdict_get_str(h, "health-state"), ==, "ok");
    g_assert_cmpint(qdict_get_int(h, "spares"), ==, 100);
    g_assert_cmpfloat(qdict_get_double(h, "media-temperature"), ==, 90.5);
    qobject_unref(h);
    assert_qmp_ok(qts, "{'execute': 'nvdimm-inject-health', 'arguments':"
                  " {'id': 'nv0', 'uninject': true}}");
    h = qmp_health(qts, "nv0");
    g_assert_cmpfloat(qdict_get_double(h, "media-temperature"), ==, 25);
    g_assert_false(qdict_get_bool(h, "shutdown-dirty"));
    g_assert_cmpint(qdict_get_int(h, "shutdown-count"), ==, 1);
    qobject_unref(h);
    gpe_take(qts, m);
    events_take(qts);

    /* out of range: an error, nothing changed, no event */
    assert_qmp_error(qts, "spares 101",
                     "{'execute': 'nvdimm-inject-health', 'arguments':"
                     " {'id': 'nv0', 'spares': 101, 'fatal': true}}");
    assert_qmp_error(qts, "media-temperature",
                     "{'execute': 'nvdimm-inject-health', 'arguments':"
                     " {'id': 'nv0', 'media-temperature': 5000}}");
    h = qmp_health(qts, "nv0");
    g_assert_cmpstr(qdict_get_str(h, "health-state"), ==, "ok");
    g_assert_cmpint(qdict_get_int(h, "spares"), ==, 100);
    qobject_unref(h);
    g_assert_false(gpe_take(qts, m));

    /* not an NVDIMM-N, not an nvdimm, no such device */
    assert_qmp_error(qts, "is not an NVDIMM-N",
                     "{'execute': 'nvdimm-query-health', 'arguments':"
                     " {'id': 'nv2'}}");
    assert_qmp_error(qts, "is not an NVDIMM-N",
                     "{'execute': 'nvdimm-inject-health', 'arguments':"
                     " {'id': 'nv2', 'fatal': true}}");
    assert_qmp_error(qts, "is not an nvdimm",
                     "{'execute': 'nvdimm-query-health', 'arguments':"
                     " {'id': 'd3'}}");
    assert_qmp_error(qts, "not found",
                     "{'execute': 'nvdimm-query-health', 'arguments':"
                     " {'id': 'nope'}}");
    qtest_quit(qts);
    unlink(f0);
    unlink(f2);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < ARRAY_SIZE(machines); i++) {
        g_autofree char *path = g_strdup_printf("/nvqemu/nvdimm-n/events/%s",
                                                machines[i].name);

        qtest_add_data_func(path, &machines[i], test_events);
    }
    qtest_add_func("/nvqemu/nvdimm-n/events/off", test_off);
    qtest_add_func("/nvqemu/nvdimm-n/qmp", test_qmp);
    return g_test_run();
}
