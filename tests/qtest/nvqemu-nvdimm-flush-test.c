/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM-N durability qtest (nvdimm-n=on): the NFIT Flush Hint
 * Address and Platform Capabilities structures, the energy-backed interface
 * code, the hint page's placement, a guest write to the hint being served
 * (QOM "flush-count"), and nvdimm-n=off leaving all of it out.
 *
 * The NFIT is read through _FIT's transport (QEMU root function 1, Read
 * FIT, over the DSM helpers of nvqemu-nvdimm-dsm.h): the same bytes as the
 * NFIT table body.  With nvdimm-n=on the pmem is the backend less the
 * state area (nvdimm-state.h), so sizes are taken from the SPA Range.
 * Byte offsets are written out from ACPI 6.5 section 5.2.26, not taken
 * from QEMU's structs, so a wrong struct cannot agree with itself.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "nvqemu-nvdimm-dsm.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"

#define MiB (1024 * 1024)
#define BACKEND_SIZE (16 * MiB)

/* NFIT structure types and lengths (ACPI 6.5 section 5.2.26) */
enum {
    NFIT_SPA = 0,
    NFIT_MEMDEV = 1,
    NFIT_DCR = 4,
    NFIT_FLUSH = 6,
    NFIT_CAPS = 7,
};
#define FLUSH_LEN_ONE_HINT (16 + 8)
#define CAPS_LEN 16
#define DCR_FIC_OFFSET 28
#define DCR_FIC_NOT_ENERGY_BACKED 0x0301
#define DCR_FIC_ENERGY_BACKED 0x0101
#define CAP_CPU_CACHE 0x1
#define CAP_MEM_CTRL 0x2

/* The guest ABI of the hint page (docs/specs/nvdimm-acpi.md) */
#define HINT_PAGE 4096
#define N_STRIDE (16 * MiB)

static uint32_t fit_read(QTestState *qts, uint32_t off, DsmReply *r)
{
    uint8_t in[4];

    stl_le_p(in, off);
    return dsm_call(qts, HANDLE_QEMU_ROOT, 1, FN_READ_FIT, in, sizeof(in), r);
}

static void fit_get(QTestState *qts, Fit *fit)
{
    DsmReply r;

    /* the FITs here are small: one chunk */
    g_assert_cmphex(fit_read(qts, 0, &r), ==, ST_SUCCESS);
    fit->len = r.len - 4;
    memcpy(fit->data, r.data + 4, fit->len);
    g_assert_cmphex(fit_read(qts, fit->len, &r), ==, ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, 4);
}

/*
 * The structure of @type (SPA Range or Control Region) that the Memory
 * Device structure of @handle names at @index_off.
 */
static const uint8_t *fit_of_dimm(const Fit *fit, uint32_t handle,
                                  uint16_t type, unsigned index_off)
{
    const uint8_t *memdev = fit_find(fit, NFIT_MEMDEV, 4, handle);
    const uint8_t *p;
    uint32_t off = 0;

    g_assert_nonnull(memdev);
    while ((p = fit_next(fit, &off))) {
        if (lduw_le_p(p) == type &&
            lduw_le_p(p + 4) == lduw_le_p(memdev + index_off)) {
            return p;
        }
    }
    g_assert_not_reached();
}

static const uint8_t *fit_dcr(const Fit *fit, uint32_t handle)
{
    return fit_of_dimm(fit, handle, NFIT_DCR, 14);
}

static const uint8_t *fit_spa(const Fit *fit, uint32_t handle)
{
    return fit_of_dimm(fit, handle, NFIT_SPA, 12);
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

/* The size query-memory-devices reports for the NVDIMM @id. */
static uint64_t md_size(QTestState *qts, const char *id)
{
    g_autoptr(QDict) resp = qtest_qmp(qts, "{ 'execute': "
                                      "'query-memory-devices' }");
    QList *list = qdict_get_qlist(resp, "return");
    QListEntry *e;

    QLIST_FOREACH_ENTRY(list, e) {
        QDict *dev = qobject_to(QDict, qlist_entry_obj(e));
        QDict *data = qdict_get_qdict(dev, "data");

        if (!g_strcmp0(qdict_get_try_str(data, "id"), id)) {
            g_assert_cmpstr(qdict_get_str(dev, "type"), ==, "nvdimm");
            return qdict_get_int(data, "size");
        }
    }
    g_assert_not_reached();
}

/*
 * nv0 (handle 1, slot 0): nvdimm-n=on on a shared file; nv1 (handle 2,
 * slot 1): nvdimm-n=off on RAM.
 */
static QTestState *start_mixed(const char *machine, const char *file)
{
    return qtest_initf("-machine %s,nvdimm=on -m 128M,slots=4,maxmem=2G "
        "-object memory-backend-file,id=m0,share=on,mem-path=%s,size=%d "
        "-object memory-backend-ram,id=m1,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,slot=0,nvdimm-n=on "
        "-device nvdimm,id=nv1,memdev=m1,slot=1",
        machine, file, BACKEND_SIZE, BACKEND_SIZE);
}

static uint64_t spa_len(const Fit *fit, uint32_t handle)
{
    return ldq_le_p(fit_spa(fit, handle) + 40);
}

static uint64_t hint_of(const Fit *fit, uint32_t handle)
{
    const uint8_t *fh = fit_find(fit, NFIT_FLUSH, 4, handle);

    g_assert_nonnull(fh);
    g_assert_cmpuint(lduw_le_p(fh + 2), ==, FLUSH_LEN_ONE_HINT);
    g_assert_cmpuint(lduw_le_p(fh + 8), ==, 1);          /* hint count */
    for (int i = 10; i < 16; i++) {
        g_assert_cmpuint(fh[i], ==, 0);                  /* reserved */
    }
    return ldq_le_p(fh + 16);
}

static void check_nfit_mixed(const char *machine)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start_mixed(machine, file);
    const uint8_t *caps;
    uint64_t addr0, hint;
    Fit fit;

    fit_get(qts, &fit);
    addr0 = qom_get_uint(qts, "nv0", "addr");

    /* the NVDIMM-N DIMM: one hint, in the page right after its pmem */
    hint = hint_of(&fit, 1);
    g_assert_cmphex(ldq_le_p(fit_spa(&fit, 1) + 32), ==, addr0);
    g_assert_cmphex(hint, ==, addr0 + spa_len(&fit, 1));
    g_assert_cmpuint(hint % HINT_PAGE, ==, 0);
    /* the pmem: the backend less the state area, aligned down */
    g_assert_cmpuint(spa_len(&fit, 1), <, BACKEND_SIZE);
    g_assert_cmpuint(spa_len(&fit, 1), >=, BACKEND_SIZE - MiB);
    g_assert_cmphex(lduw_le_p(fit_dcr(&fit, 1) + DCR_FIC_OFFSET), ==,
                    DCR_FIC_ENERGY_BACKED);

    /* the other DIMM: none of it */
    g_assert_null(fit_find(&fit, NFIT_FLUSH, 4, 2));
    g_assert_cmphex(lduw_le_p(fit_dcr(&fit, 2) + DCR_FIC_OFFSET), ==,
                    DCR_FIC_NOT_ENERGY_BACKED);
    g_assert_cmpuint(fit_count(&fit, NFIT_FLUSH), ==, 1);

    /* one Platform Capabilities structure: memory controller flush */
    g_assert_cmpuint(fit_count(&fit, NFIT_CAPS), ==, 1);
    caps = fit_find(&fit, NFIT_CAPS, 0, 0);
    g_assert_cmpuint(lduw_le_p(caps + 2), ==, CAPS_LEN);
    g_assert_cmpuint(caps[4], ==, 1);                    /* highest bit */
    g_assert_cmphex(ldl_le_p(caps + 8), ==, CAP_MEM_CTRL);

    g_assert_cmpuint(qom_get_uint(qts, "nv0", "flush-count"), ==, 0);
    g_assert_cmpuint(qom_get_uint(qts, "nv1", "flush-count"), ==, 0);
    /* query-memory-devices: the pmem, not the range reserved with the hint */
    g_assert_cmphex(md_size(qts, "nv0"), ==, spa_len(&fit, 1));
    g_assert_cmphex(md_size(qts, "nv1"), ==, BACKEND_SIZE);
    qtest_quit(qts);
    unlink(file);
}

static void test_nfit_pc(void)
{
    check_nfit_mixed("pc");
}

static void test_nfit_q35(void)
{
    check_nfit_mixed("q35");
}

/* -machine nvdimm-persistence wins over the NVDIMM-N default. */
static void test_persistence_option(void)
{
    QTestState *qts;
    const uint8_t *caps;
    Fit fit;

    qts = qtest_initf("-machine pc,nvdimm=on,nvdimm-persistence=cpu "
        "-m 128M,slots=2,maxmem=1G "
        "-object memory-backend-ram,id=m0,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,nvdimm-n=on", BACKEND_SIZE);
    fit_get(qts, &fit);
    g_assert_cmpuint(fit_count(&fit, NFIT_CAPS), ==, 1);
    caps = fit_find(&fit, NFIT_CAPS, 0, 0);
    g_assert_cmphex(ldl_le_p(caps + 8), ==, CAP_CPU_CACHE | CAP_MEM_CTRL);
    qtest_quit(qts);
}

/*
 * nvdimm-n=off (the default): no hint, no capabilities structure, the
 * stock interface code and layout; the next DIMM directly after the first
 * (byte-for-byte comparison with stock: nvqemu-nvdimm-dsm-test).
 */
static void test_off_unchanged(void)
{
    QTestState *qts;
    Fit fit;

    qts = qtest_initf("-machine pc,nvdimm=on -m 128M,slots=2,maxmem=1G "
        "-object memory-backend-ram,id=m0,size=%d "
        "-object memory-backend-ram,id=m1,size=%d "
        "-device nvdimm,id=nv0,memdev=m0 "
        "-device nvdimm,id=nv1,memdev=m1,nvdimm-n=off",
        BACKEND_SIZE, BACKEND_SIZE);
    fit_get(qts, &fit);
    g_assert_cmpuint(fit.len, ==, 2 * (56 + 48 + 80));
    g_assert_cmpuint(fit_count(&fit, NFIT_FLUSH), ==, 0);
    g_assert_cmpuint(fit_count(&fit, NFIT_CAPS), ==, 0);
    g_assert_cmphex(lduw_le_p(fit_dcr(&fit, 1) + DCR_FIC_OFFSET), ==,
                    DCR_FIC_NOT_ENERGY_BACKED);
    g_assert_cmphex(qom_get_uint(qts, "nv1", "addr"), ==,
                    qom_get_uint(qts, "nv0", "addr") + BACKEND_SIZE);
    g_assert_cmpuint(qom_get_uint(qts, "nv0", "flush-count"), ==, 0);
    qtest_quit(qts);
}

/*
 * A guest write of any value and size to the hint is one flush, served
 * before the write returns (the count is already up when qtest's write
 * completes: no waiting); the data written before it is in the backend
 * file.  Other offsets of the page and reads are ignored.
 */
static void test_hint_write_flushes(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    g_autofree gchar *contents = NULL;
    static const char pattern[] = "nvdimm-n flush hint";
    QTestState *qts = start_mixed("pc", file);
    uint64_t addr0, hint;
    gsize flen;
    Fit fit;

    fit_get(qts, &fit);
    hint = hint_of(&fit, 1);
    addr0 = qom_get_uint(qts, "nv0", "addr");

    qtest_memwrite(qts, addr0 + 4096, pattern, sizeof(pattern));
    qtest_writeq(qts, hint, 1);
    g_assert_cmpuint(qom_get_uint(qts, "nv0", "flush-count"), ==, 1);
    g_assert_true(g_file_get_contents(file, &contents, &flen, NULL));
    g_assert_cmpuint(flen, ==, BACKEND_SIZE);
    g_assert_cmpmem(contents + 4096, sizeof(pattern), pattern,
                    sizeof(pattern));

    /* any value, any size inside the hint */
    qtest_writel(qts, hint, 0);
    qtest_writeb(qts, hint + 7, 0xff);
    g_assert_cmpuint(qom_get_uint(qts, "nv0", "flush-count"), ==, 3);

    /* elsewhere in the page, and reads: no flush, reads as 0 */
    qtest_writeq(qts, hint + 8, 1);
    qtest_writel(qts, hint + HINT_PAGE - 4, 1);
    g_assert_cmphex(qtest_readq(qts, hint), ==, 0);
    g_assert_cmpuint(qom_get_uint(qts, "nv0", "flush-count"), ==, 3);
    /* the other DIMM counts nothing */
    g_assert_cmpuint(qom_get_uint(qts, "nv1", "flush-count"), ==, 0);
    qtest_quit(qts);
    unlink(file);
}

/* RAM backend: nothing to flush to, the hint still answers and counts. */
static void test_hint_ram_backend(void)
{
    QTestState *qts;
    Fit fit;

    qts = qtest_initf("-machine q35,nvdimm=on -m 128M,slots=2,maxmem=1G "
        "-object memory-backend-ram,id=m0,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,nvdimm-n=on,label-size=128K",
        BACKEND_SIZE);
    fit_get(qts, &fit);
    /* the pmem ends before the state and label areas, the hint after it */
    g_assert_cmphex(ldq_le_p(fit_spa(&fit, 1) + 32), ==,
                    qom_get_uint(qts, "nv0", "addr"));
    g_assert_cmpuint(spa_len(&fit, 1), <, BACKEND_SIZE - 128 * 1024);
    g_assert_cmphex(hint_of(&fit, 1), ==,
                    ldq_le_p(fit_spa(&fit, 1) + 32) + spa_len(&fit, 1));
    qtest_writeq(qts, hint_of(&fit, 1), 1);
    g_assert_cmpuint(qom_get_uint(qts, "nv0", "flush-count"), ==, 1);
    qtest_quit(qts);
}

/*
 * Placement: each NVDIMM-N DIMM takes its pmem plus the hint page, rounded
 * up to 16 MiB, so the next DIMM stays 16 MiB aligned; each has its own
 * hint, outside every SPA range.  A hot-plugged one gets its hint in _FIT.
 */
static void test_placement_and_hotplug(void)
{
    QTestState *qts;
    uint64_t a0, a1, a2, h1, h2, h3;
    Fit fit;

    qts = qtest_initf("-machine pc,nvdimm=on -m 128M,slots=4,maxmem=2G "
        "-object memory-backend-ram,id=m0,size=%d "
        "-object memory-backend-ram,id=m1,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,nvdimm-n=on "
        "-device nvdimm,id=nv1,memdev=m1,nvdimm-n=on",
        BACKEND_SIZE, 2 * BACKEND_SIZE);
    qtest_qmp_assert_success(qts, "{ 'execute': 'object-add', 'arguments': {"
                             " 'qom-type': 'memory-backend-ram',"
                             " 'id': 'm2', 'size': %d } }", BACKEND_SIZE);
    qtest_qmp_assert_success(qts, "{ 'execute': 'device_add', 'arguments': {"
                             " 'driver': 'nvdimm', 'id': 'nv2',"
                             " 'memdev': 'm2', 'nvdimm-n': true } }");
    a0 = qom_get_uint(qts, "nv0", "addr");
    a1 = qom_get_uint(qts, "nv1", "addr");
    a2 = qom_get_uint(qts, "nv2", "addr");
    fit_get(qts, &fit);
    g_assert_cmpuint(fit_count(&fit, NFIT_FLUSH), ==, 3);

    /* each range: pmem + hint page, rounded up to 16 MiB */
    g_assert_cmpuint(a0 % N_STRIDE, ==, 0);
    g_assert_cmphex(a1, ==,
                    a0 + ROUND_UP(spa_len(&fit, 1) + HINT_PAGE, N_STRIDE));
    g_assert_cmphex(a2, ==,
                    a1 + ROUND_UP(spa_len(&fit, 2) + HINT_PAGE, N_STRIDE));
    h1 = hint_of(&fit, 1);
    h2 = hint_of(&fit, 2);
    h3 = hint_of(&fit, 3);
    g_assert_cmphex(h1, ==, a0 + spa_len(&fit, 1));
    g_assert_cmphex(h2, ==, a1 + spa_len(&fit, 2));
    g_assert_cmphex(h3, ==, a2 + spa_len(&fit, 3));

    qtest_writeq(qts, h3, 1);
    qtest_writeq(qts, h2, 1);
    qtest_writeq(qts, h2, 1);
    g_assert_cmpuint(qom_get_uint(qts, "nv0", "flush-count"), ==, 0);
    g_assert_cmpuint(qom_get_uint(qts, "nv1", "flush-count"), ==, 2);
    g_assert_cmpuint(qom_get_uint(qts, "nv2", "flush-count"), ==, 1);
    qtest_quit(qts);
}

/* flush-count is read-only. */
static void test_count_read_only(void)
{
    QTestState *qts;
    g_autoptr(QDict) resp = NULL;

    qts = qtest_initf("-machine pc,nvdimm=on -m 128M,slots=2,maxmem=1G "
        "-object memory-backend-ram,id=m0,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,nvdimm-n=on", BACKEND_SIZE);
    resp = qtest_qmp(qts, "{ 'execute': 'qom-set', 'arguments': {"
                     " 'path': '/machine/peripheral/nv0',"
                     " 'property': 'flush-count', 'value': 5 } }");
    g_assert_true(qdict_haskey(resp, "error"));
    g_assert_cmpuint(qom_get_uint(qts, "nv0", "flush-count"), ==, 0);
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/nvqemu/nvdimm-n/flush/nfit-pc", test_nfit_pc);
    qtest_add_func("/nvqemu/nvdimm-n/flush/nfit-q35", test_nfit_q35);
    qtest_add_func("/nvqemu/nvdimm-n/flush/persistence-option",
                   test_persistence_option);
    qtest_add_func("/nvqemu/nvdimm-n/flush/off-unchanged", test_off_unchanged);
    qtest_add_func("/nvqemu/nvdimm-n/flush/hint-write",
                   test_hint_write_flushes);
    qtest_add_func("/nvqemu/nvdimm-n/flush/hint-ram-backend",
                   test_hint_ram_backend);
    qtest_add_func("/nvqemu/nvdimm-n/flush/placement-hotplug",
                   test_placement_and_hotplug);
    qtest_add_func("/nvqemu/nvdimm-n/flush/count-read-only",
                   test_count_read_only);
    return g_test_run();
}
