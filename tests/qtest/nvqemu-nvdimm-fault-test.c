/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM reliability qtest:
 *
 *  - durability of an NVDIMM-N (nvdimm-n=on) on a shared file: data
 *    written into the pmem, the flush hint written (the write returns
 *    once the host flushed), then SIGKILL: the backing file holds the
 *    data, and a new QEMU on the same file reads it back through the pmem;
 *    several trials, 0 bytes lost;
 *  - hot-plug during DSM traffic: a loop of DSM calls (Query, Get Namespace
 *    Label Size, Get Namespace Label Data) on one DIMM while other NVDIMMs
 *    are device_add'ed (the QMP command sent without waiting, so that it
 *    runs between the DSM calls): no crash, every DSM answer valid, and
 *    _FIT grows by one Memory Device structure per DIMM.
 *
 * The NFIT is read through _FIT's transport (QEMU root function 1, Read
 * FIT), byte offsets written out from ACPI 6.5 section 5.2.26.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "nvqemu-nvdimm-dsm.h"
#include "qobject/qdict.h"

#define MiB (1024 * 1024)
#define BACKEND_SIZE (16 * MiB)
#define LABEL_SIZE (128 * 1024)
#define DURABLE_TRIALS 5
#define DURABLE_CHUNK 4096      /* bytes written per trial */
#define DURABLE_STRIDE (64 * 1024)
#define HOTPLUG_DIMMS 3
#define DSM_PER_PLUG 32         /* DSM calls while each device_add runs */
#define LABEL_READ_LEN 256

/* NFIT structure types (ACPI 6.5 section 5.2.26) */
enum {
    NFIT_MEMDEV = 1,
    NFIT_FLUSH = 6,
};
#define NFIT_FLUSH_HANDLE 4     /* Flush Hint Address: NFIT device handle */
#define NFIT_FLUSH_ADDR0 16     /* its first hint address */

/*
 * The whole FIT, chunk by chunk; a FIT that changes while it is read
 * (ST_FIT_CHANGED, a hot-plug in between) is read again from the start.
 */
static void fit_get(QTestState *qts, Fit *fit)
{
    DsmReply r;
    uint8_t in[4];
    uint32_t st;

    fit->len = 0;
    for (;;) {
        stl_le_p(in, fit->len);
        st = dsm_call(qts, HANDLE_QEMU_ROOT, 1, FN_READ_FIT, in, sizeof(in),
                      &r);
        if (st == ST_FIT_CHANGED) {
            fit->len = 0;
            continue;
        }
        g_assert_cmphex(st, ==, ST_SUCCESS);
        g_assert_cmpuint(r.len, >=, 4);
        if (r.len == 4) {
            return;
        }
        g_assert_cmpuint(fit->len + r.len - 4, <=, sizeof(fit->data));
        memcpy(fit->data + fit->len, r.data + 4, r.len - 4);
        fit->len += r.len - 4;
    }
}

static uint64_t qom_get_uint(QTestState *qts, const char *id,
                             const char *prop)
{
    g_autofree char *path = g_strdup_printf("/machine/peripheral/%s", id);
    g_autoptr(QDict) resp = qtest_qmp(qts, "{ 'execute': 'qom-get', "
                                      "'arguments': { 'path': %s, "
                                      "'property': %s } }", path, prop);

    g_assert_true(qdict_haskey(resp, "return"));
    return qdict_get_int(resp, "return");
}

/* ---- durability: flush hint, SIGKILL ------------------------------------- */

static QTestState *start_n(const char *file)
{
    return qtest_initf("-machine pc,nvdimm=on -m 128M,slots=2,maxmem=1G "
        "-object memory-backend-file,id=m0,share=on,mem-path=%s,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,slot=0,nvdimm-n=on", file,
        BACKEND_SIZE);
}

static void pattern(uint8_t *buf, int trial)
{
    for (int i = 0; i < DURABLE_CHUNK; i++) {
        buf[i] = (uint8_t)(trial * 31 + i * 7 + 1);
    }
}

static int durable_trials(void)
{
    const char *env = g_getenv("NVQEMU_DURABLE_TRIALS");

    return env ? atoi(env) : DURABLE_TRIALS;
}

static void test_flush_hint_sigkill(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    int trials = durable_trials();
    uint8_t want[DURABLE_CHUNK], got[DURABLE_CHUNK];
    uint64_t lost = 0;
    QTestState *qts;
    uint64_t addr;
    Fit fit;

    g_assert_cmpuint((uint64_t)trials * DURABLE_STRIDE, <=, BACKEND_SIZE / 2);
    for (int t = 0; t < trials; t++) {
        g_autofree gchar *contents = NULL;
        uint64_t hint;
        gsize flen;

        qts = start_n(file);
        fit_get(qts, &fit);
        hint = ldq_le_p(fit_find(&fit, NFIT_FLUSH, NFIT_FLUSH_HANDLE, 1) +
                        NFIT_FLUSH_ADDR0);
        addr = qom_get_uint(qts, "nv0", "addr");
        /* what the trials before wrote, through the pmem */
        for (int p = 0; p < t; p++) {
            pattern(want, p);
            qtest_memread(qts, addr + (uint64_t)p * DURABLE_STRIDE, got,
                          sizeof(got));
            lost += memcmp(want, got, sizeof(got)) ? sizeof(got) : 0;
        }
        pattern(want, t);
        qtest_memwrite(qts, addr + (uint64_t)t * DURABLE_STRIDE, want,
                       sizeof(want));
        qtest_writeq(qts, hint, 1);
        g_assert_cmpuint(qom_get_uint(qts, "nv0", "flush-count"), ==, 1);
        qtest_quit_with_signal(qts, SIGKILL);

        /* the pmem starts at the file's start (the state area is after) */
        g_assert_true(g_file_get_contents(file, &contents, &flen, NULL));
        g_assert_cmpuint(flen, ==, BACKEND_SIZE);
        lost += memcmp(contents + (uint64_t)t * DURABLE_STRIDE, want,
                       sizeof(want)) ? sizeof(want) : 0;
    }
    g_test_message("flush hint + SIGKILL: %d trials, %" PRIu64 " of %d "
                   "bytes lost", trials, lost, trials * DURABLE_CHUNK);
    g_assert_cmpuint(lost, ==, 0);
    unlink(file);
}

/* ---- hot-plug during DSM traffic ----------------------------------------- */

/* One DSM call on @handle, its answer checked; returns the function used */
static void dsm_check(QTestState *qts, uint32_t handle, unsigned i)
{
    uint8_t in[8];
    DsmReply r;

    switch (i % 3) {
    case 0:
        /* Query: the functions supported, bit 0 set */
        g_assert_cmphex(dsm_call(qts, handle, 1, FN_QUERY, NULL, 0, &r) &
                        1, ==, 1);
        break;
    case 1:
        g_assert_cmphex(dsm_call(qts, handle, 1, FN_GET_LABEL_SIZE, NULL, 0,
                                 &r), ==, ST_SUCCESS);
        g_assert_cmpuint(r.len, ==, 12);
        g_assert_cmpuint(ldl_le_p(r.data + 4), ==, LABEL_SIZE);
        g_assert_cmpuint(ldl_le_p(r.data + 8), ==, LABEL_MAX_XFER);
        break;
    default:
        stl_le_p(in, (i * LABEL_READ_LEN) % (LABEL_SIZE - LABEL_READ_LEN));
        stl_le_p(in + 4, LABEL_READ_LEN);
        g_assert_cmphex(dsm_call(qts, handle, 1, FN_GET_LABEL_DATA, in,
                                 sizeof(in), &r), ==, ST_SUCCESS);
        g_assert_cmpuint(r.len, ==, 4 + LABEL_READ_LEN);
        break;
    }
}

static void hotplug_during_dsm(const char *machine)
{
    QTestState *qts;
    unsigned calls = 0;
    Fit fit;

    qts = qtest_initf("-machine %s,nvdimm=on -m 128M,slots=%d,maxmem=2G "
        "-object memory-backend-ram,id=m0,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,label-size=%d",
        machine, HOTPLUG_DIMMS + 1, BACKEND_SIZE, LABEL_SIZE);
    fit_get(qts, &fit);
    g_assert_cmpuint(fit_count(&fit, NFIT_MEMDEV), ==, 1);

    for (int d = 1; d <= HOTPLUG_DIMMS; d++) {
        g_autoptr(QDict) resp = NULL;
        g_autofree char *mem = g_strdup_printf("hm%d", d);
        g_autofree char *dev = g_strdup_printf("hnv%d", d);

        qtest_qmp_assert_success(qts, "{ 'execute': 'object-add', "
            "'arguments': { 'qom-type': 'memory-backend-ram', "
            "'id': %s, 'size': %d } }", mem, BACKEND_SIZE);
        /* sent, not waited for: it runs between the DSM calls below */
        qtest_qmp_send(qts, "{ 'execute': 'device_add', 'arguments': {"
                       " 'driver': 'nvdimm', 'id': %s, "
                       " 'memdev': %s, 'label-size': %d } }",
                       dev, mem, LABEL_SIZE);
        for (int i = 0; i < DSM_PER_PLUG; i++, calls++) {
            dsm_check(qts, 1, calls);
        }
        resp = qtest_qmp_receive(qts);
        g_assert_true(qdict_haskey(resp, "return"));
        /* the new DIMM answers too */
        dsm_check(qts, d + 1, 1);
        fit_get(qts, &fit);
        g_assert_cmpuint(fit_count(&fit, NFIT_MEMDEV), ==, d + 1);
        g_assert_nonnull(fit_find(&fit, NFIT_MEMDEV, 4, d + 1));
    }
    g_test_message("%s: %u DSM calls around %d hot-plugs", machine, calls,
                   HOTPLUG_DIMMS);
    qtest_quit(qts);
}

static void test_hotplug_dsm_pc(void)
{
    hotplug_during_dsm("pc");
}

static void test_hotplug_dsm_q35(void)
{
    hotplug_during_dsm("q35");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/nvdimm/durable/flush-hint-sigkill",
                   test_flush_hint_sigkill);
    qtest_add_func("/nvdimm/hotplug/during-dsm/pc", test_hotplug_dsm_pc);
    qtest_add_func("/nvdimm/hotplug/during-dsm/q35", test_hotplug_dsm_q35);
    return g_test_run();
}
