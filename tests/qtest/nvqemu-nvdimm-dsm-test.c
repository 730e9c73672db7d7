/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM qtest: every DSM function through the doorbell, the FIT and
 * its changed-during-read restart, hot-plug GPE bits, label persistence,
 * the tables through iasl, and command-line errors.
 *
 * There is no firmware under qtest, so the test plays the AML's part: it
 * writes the DSM input page (docs/specs/nvdimm-acpi.md) into guest RAM,
 * writes the page address to I/O port 0x0a18 and reads the reply back.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "libqos/fw_cfg.h"
#include "standard-headers/linux/qemu_fw_cfg.h"
#include "qapi/error.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"

#include "nvqemu-nvdimm-dsm.h"

#define LABEL_SIZE (128 * 1024)
#define BACKEND_SIZE (16 * 1024 * 1024)
#define NFIT_PER_DIMM (56 + 48 + 80)

/* PIIX4 PM GPE0 status (pc) and ICH9 LPC (q35) */
#define PIIX4_GPE0_STS 0xafe0
#define ICH9_LPC_BDF_CFG(reg) (0x80000000u | (0x1f << 11) | (reg))
#define ICH9_LPC_PMBASE 0x40
#define ICH9_LPC_ACPI_CTRL 0x44
#define ICH9_LPC_ACPI_EN 0x80
#define ICH9_TEST_PMBASE 0x600
#define ICH9_GPE0_STS_OFFSET 0x20
#define GPE_NVDIMM_HOTPLUG 0x10

static uint32_t dsm_simple(QTestState *qts, uint32_t handle, uint32_t fn)
{
    DsmReply r;

    return dsm_call(qts, handle, 1, fn, NULL, 0, &r);
}

static uint32_t label_read(QTestState *qts, uint32_t handle, uint32_t off,
                           uint32_t len, DsmReply *r)
{
    uint8_t in[8];

    stl_le_p(in, off);
    stl_le_p(in + 4, len);
    return dsm_call(qts, handle, 1, FN_GET_LABEL_DATA, in, sizeof(in), r);
}

/*
 * Set Label Data announcing @len bytes at @off, with the @data_len bytes of
 * @data as payload (the rest of the page zero): @len may exceed what the
 * caller has, to test lengths QEMU must refuse.
 */
static uint32_t label_write_raw(QTestState *qts, uint32_t handle,
                                uint32_t off, uint32_t len,
                                const uint8_t *data, size_t data_len)
{
    uint8_t in[DSM_ARG_MAX] = { 0 };
    DsmReply r;
    uint32_t st;

    g_assert_cmpuint(data_len, <=, sizeof(in) - 8);
    stl_le_p(in, off);
    stl_le_p(in + 4, len);
    if (data_len) {
        memcpy(in + 8, data, data_len);
    }
    st = dsm_call(qts, handle, 1, FN_SET_LABEL_DATA, in, sizeof(in), &r);
    g_assert_cmpuint(r.len, ==, 4);
    return st;
}

/* Set Label Data of the @len bytes at @data (which holds @len bytes). */
static uint32_t label_write(QTestState *qts, uint32_t handle, uint32_t off,
                            uint32_t len, const uint8_t *data)
{
    return label_write_raw(qts, handle, off, len, data, len);
}

static uint32_t fit_read(QTestState *qts, uint32_t off, DsmReply *r)
{
    uint8_t in[4];

    stl_le_p(in, off);
    return dsm_call(qts, HANDLE_QEMU_ROOT, 1, FN_READ_FIT, in, sizeof(in), r);
}

/*
 * Two NVDIMMs: handle 1 (slot 0) with a label area in a shared file,
 * handle 2 (slot 1) without labels on RAM.
 */
static QTestState *start_two(const char *machine, const char *file)
{
    return qtest_initf("-machine %s,nvdimm=on -m 128M,slots=4,maxmem=1G "
        "-object memory-backend-file,id=m0,share=on,mem-path=%s,size=%d "
        "-object memory-backend-ram,id=m1,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,slot=0,label-size=%d "
        "-device nvdimm,id=nv1,memdev=m1,slot=1",
        machine, file, BACKEND_SIZE, BACKEND_SIZE, LABEL_SIZE);
}

static void test_query(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start_two("pc", file);
    DsmReply r;

    g_assert_cmphex(dsm_simple(qts, 1, FN_QUERY), ==, 0x71);
    g_assert_cmphex(dsm_simple(qts, 2, FN_QUERY), ==, 0);
    g_assert_cmphex(dsm_simple(qts, HANDLE_ROOT, FN_QUERY), ==, 0);
    g_assert_cmphex(dsm_simple(qts, HANDLE_QEMU_ROOT, FN_QUERY), ==, 0x3);
    /* unknown revision: nothing supported */
    g_assert_cmphex(dsm_call(qts, 1, 2, FN_QUERY, NULL, 0, &r), ==, 0);
    g_assert_cmphex(dsm_call(qts, 1, 0, FN_QUERY, NULL, 0, &r), ==, 0);
    /*
     * unknown handle (an empty slot's NVxx device): function 0 is still a
     * bitmap, an empty one (status 2 would read as "function 1"); other
     * functions answer "no device", after the revision check
     */
    g_assert_cmphex(dsm_simple(qts, 0x77, FN_QUERY), ==, 0);
    g_assert_cmphex(dsm_simple(qts, 3, FN_QUERY), ==, 0);
    g_assert_cmphex(dsm_simple(qts, 3, FN_GET_LABEL_SIZE), ==, ST_NO_DEVICE);
    g_assert_cmphex(dsm_call(qts, 3, 2, FN_GET_LABEL_SIZE, NULL, 0, &r), ==,
                    ST_UNSUPPORTED);
    qtest_quit(qts);
    unlink(file);
}

static void test_label_size(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start_two("pc", file);
    DsmReply r;

    g_assert_cmpuint(dsm_call(qts, 1, 1, FN_GET_LABEL_SIZE, NULL, 0, &r), ==,
                     ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, 12);
    g_assert_cmpuint(ldl_le_p(r.data + 4), ==, LABEL_SIZE);
    g_assert_cmpuint(ldl_le_p(r.data + 8), ==, LABEL_MAX_XFER);
    /* label-size 0: no label functions */
    g_assert_cmpuint(dsm_simple(qts, 2, FN_GET_LABEL_SIZE), ==,
                     ST_UNSUPPORTED);
    g_assert_cmpuint(label_read(qts, 2, 0, 16, &r), ==, ST_UNSUPPORTED);
    g_assert_cmpuint(label_write(qts, 2, 0, 2, (uint8_t *)"x"), ==,
                     ST_UNSUPPORTED);
    qtest_quit(qts);
    unlink(file);
}

static void fill_pattern(uint8_t *buf, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = seed + i * 7;
    }
}

static void test_label_roundtrip_and_persist(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    g_autofree uint8_t *pat = g_malloc(LABEL_MAX_XFER);
    g_autofree gchar *contents = NULL;
    QTestState *qts = start_two("pc", file);
    const uint32_t off = 1000, tail_off = LABEL_SIZE - 16;
    gsize flen;
    DsmReply r;

    fill_pattern(pat, LABEL_MAX_XFER, 0x5a);
    g_assert_cmpuint(label_write(qts, 1, off, LABEL_MAX_XFER, pat), ==,
                     ST_SUCCESS);
    g_assert_cmpuint(label_read(qts, 1, off, LABEL_MAX_XFER, &r), ==,
                     ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, 4 + LABEL_MAX_XFER);
    g_assert_cmpmem(r.data + 4, LABEL_MAX_XFER, pat, LABEL_MAX_XFER);

    /* the last bytes of the label area */
    g_assert_cmpuint(label_write(qts, 1, tail_off, 16, pat + 100), ==,
                     ST_SUCCESS);
    g_assert_cmpuint(label_read(qts, 1, tail_off, 16, &r), ==, ST_SUCCESS);
    g_assert_cmpmem(r.data + 4, 16, pat + 100, 16);
    /* zero-length read */
    g_assert_cmpuint(label_read(qts, 1, 0, 0, &r), ==, ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, 4);
    qtest_quit(qts);

    /* the label area is the end of the backing file */
    g_assert_true(g_file_get_contents(file, &contents, &flen, NULL));
    g_assert_cmpuint(flen, ==, BACKEND_SIZE);
    g_assert_cmpmem(contents + BACKEND_SIZE - LABEL_SIZE + off,
                    LABEL_MAX_XFER, pat, LABEL_MAX_XFER);

    /* a new QEMU on the same file reads the same labels */
    qts = start_two("pc", file);
    g_assert_cmpuint(label_read(qts, 1, off, LABEL_MAX_XFER, &r), ==,
                     ST_SUCCESS);
    g_assert_cmpmem(r.data + 4, LABEL_MAX_XFER, pat, LABEL_MAX_XFER);
    g_assert_cmpuint(label_read(qts, 1, tail_off, 16, &r), ==, ST_SUCCESS);
    g_assert_cmpmem(r.data + 4, 16, pat + 100, 16);
    qtest_quit(qts);
    unlink(file);
}

static void test_label_malformed(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start_two("pc", file);
    uint8_t data[16] = { 1, 2, 3 };
    DsmReply r;

    /* offset + length wraps around 32 bits */
    g_assert_cmpuint(label_read(qts, 1, 0xfffffff0, 0x20, &r), ==,
                     ST_INVALID);
    g_assert_cmpuint(label_write_raw(qts, 1, 0xfffffff0, 0x20, data,
                                     sizeof(data)), ==, ST_INVALID);
    /* longer than the max transfer */
    g_assert_cmpuint(label_read(qts, 1, 0, LABEL_MAX_XFER + 1, &r), ==,
                     ST_INVALID);
    g_assert_cmpuint(label_write_raw(qts, 1, 0, LABEL_MAX_XFER + 1, data,
                                     sizeof(data)), ==, ST_INVALID);
    g_assert_cmpuint(label_read(qts, 1, 0, UINT32_MAX, &r), ==, ST_INVALID);
    /* past the end of the label area, and exactly at it */
    g_assert_cmpuint(label_read(qts, 1, LABEL_SIZE, 1, &r), ==, ST_INVALID);
    g_assert_cmpuint(label_read(qts, 1, LABEL_SIZE - 1, 2, &r), ==,
                     ST_INVALID);
    g_assert_cmpuint(label_write(qts, 1, LABEL_SIZE - 8, 16, data), ==,
                     ST_INVALID);
    g_assert_cmpuint(label_read(qts, 1, LABEL_SIZE - 1, 1, &r), ==,
                     ST_SUCCESS);
    g_assert_cmpuint(label_read(qts, 1, LABEL_SIZE, 0, &r), ==, ST_SUCCESS);
    /* unknown handle, function, revision */
    g_assert_cmpuint(label_read(qts, 0x1234, 0, 16, &r), ==, ST_NO_DEVICE);
    g_assert_cmpuint(dsm_simple(qts, 3, FN_GET_LABEL_SIZE), ==, ST_NO_DEVICE);
    g_assert_cmpuint(dsm_simple(qts, 1, 7), ==, ST_UNSUPPORTED);
    g_assert_cmpuint(dsm_simple(qts, 1, 3), ==, ST_UNSUPPORTED);
    g_assert_cmpuint(dsm_simple(qts, 1, 0xffffffff), ==, ST_UNSUPPORTED);
    g_assert_cmpuint(dsm_call(qts, 1, 2, FN_GET_LABEL_SIZE, NULL, 0, &r), ==,
                     ST_UNSUPPORTED);
    g_assert_cmpuint(dsm_simple(qts, HANDLE_ROOT, 1), ==, ST_UNSUPPORTED);
    g_assert_cmpuint(dsm_simple(qts, HANDLE_QEMU_ROOT, 2), ==,
                     ST_UNSUPPORTED);
    /* Read FIT is not a DIMM function */
    g_assert_cmpuint(dsm_simple(qts, 1, FN_READ_FIT), ==, ST_UNSUPPORTED);
    /* reads of the doorbell and odd-sized writes are ignored */
    g_assert_cmpuint(qtest_inl(qts, DSM_DOORBELL), ==, 0);
    qtest_outb(qts, DSM_DOORBELL, 0x12);
    qtest_outw(qts, DSM_DOORBELL, 0x1234);
    /* a page address outside RAM: nothing to read, QEMU carries on */
    qtest_outl(qts, DSM_DOORBELL, 0xfffff000);
    /* and the device still works */
    g_assert_cmphex(dsm_simple(qts, 1, FN_QUERY), ==, 0x71);
    qtest_quit(qts);
    unlink(file);
}

static void test_readonly_unarmed(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    uint8_t data[16] = { 9, 8, 7 };
    QTestState *qts;
    DsmReply r;

    qts = qtest_initf("-machine pc,nvdimm=on -m 128M,slots=2,maxmem=1G "
        "-object memory-backend-file,id=m0,mem-path=%s,size=%d,readonly=on "
        "-device nvdimm,memdev=m0,label-size=%d,unarmed=on",
        file, BACKEND_SIZE, LABEL_SIZE);
    /* labels readable, not writable: no Set Label Data */
    g_assert_cmphex(dsm_simple(qts, 1, FN_QUERY), ==, 0x31);
    g_assert_cmpuint(label_read(qts, 1, 0, 16, &r), ==, ST_SUCCESS);
    g_assert_cmpuint(label_write(qts, 1, 0, 16, data), ==, ST_UNSUPPORTED);
    /* the memdev structure says "not armed" */
    g_assert_cmpuint(fit_read(qts, 0, &r), ==, ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, 4 + NFIT_PER_DIMM);
    g_assert_cmpuint(lduw_le_p(r.data + 4 + 56 + 44), ==, 1 << 3);
    qtest_quit(qts);
    unlink(file);
}

static void check_fit(const DsmReply *r, unsigned dimms)
{
    const uint8_t *p = r->data + 4;

    g_assert_cmpuint(r->len, ==, 4 + dimms * NFIT_PER_DIMM);
    for (unsigned i = 0; i < dimms; i++, p += NFIT_PER_DIMM) {
        g_assert_cmpuint(lduw_le_p(p), ==, 0);
        g_assert_cmpuint(lduw_le_p(p + 56), ==, 1);
        g_assert_cmpuint(ldl_le_p(p + 56 + 4), ==, i + 1);   /* handle */
        g_assert_cmpuint(lduw_le_p(p + 56 + 48), ==, 4);
    }
}

/*
 * A label area larger than Get Label Size can express (5 GiB) starts, as
 * with stock QEMU, and the guest is told the low 32 bits (1 GiB); offsets
 * (32-bit) still reach beyond that.  Only 16 bytes are read: the 6 GiB
 * backend stays sparse, and reserve=off keeps a host with little RAM and
 * strict overcommit from refusing the mapping.
 */
static void test_label_size_above_4g(void)
{
    QTestState *qts;
    DsmReply r;

    qts = qtest_init("-machine pc,nvdimm=on -m 128M,slots=2,maxmem=8G "
        "-object memory-backend-ram,id=m0,size=6G,reserve=off "
        "-device nvdimm,memdev=m0,label-size=5G");
    g_assert_cmpuint(dsm_call(qts, 1, 1, FN_GET_LABEL_SIZE, NULL, 0, &r), ==,
                     ST_SUCCESS);
    g_assert_cmphex(ldl_le_p(r.data + 4), ==, 1024 * 1024 * 1024);
    g_assert_cmpuint(label_read(qts, 1, 0xffff0000, 16, &r), ==, ST_SUCCESS);
    qtest_quit(qts);
}

static void test_fit_read(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start_two("pc", file);
    DsmReply r;

    g_assert_cmpuint(fit_read(qts, 0, &r), ==, ST_SUCCESS);
    check_fit(&r, 2);
    /* the end: success, no data */
    g_assert_cmpuint(fit_read(qts, 2 * NFIT_PER_DIMM, &r), ==, ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, 4);
    /* a chunk from the middle */
    g_assert_cmpuint(fit_read(qts, NFIT_PER_DIMM, &r), ==, ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, 4 + NFIT_PER_DIMM);
    /* beyond the end */
    g_assert_cmpuint(fit_read(qts, 2 * NFIT_PER_DIMM + 1, &r), ==,
                     ST_INVALID);
    g_assert_cmpuint(fit_read(qts, UINT32_MAX, &r), ==, ST_INVALID);
    g_assert_cmpuint(dsm_call(qts, HANDLE_QEMU_ROOT, 2, FN_READ_FIT, NULL, 0,
                              &r), ==, ST_UNSUPPORTED);
    qtest_quit(qts);
    unlink(file);
}

static void hotplug_nvdimm(QTestState *qts, const char *id, int size)
{
    g_autofree char *memdev = g_strdup_printf("hp-%s", id);

    qtest_qmp_assert_success(qts, "{ 'execute': 'object-add', 'arguments': {"
                             " 'qom-type': 'memory-backend-ram',"
                             " 'id': %s, 'size': %d } }", memdev, size);
    qtest_qmp_assert_success(qts, "{ 'execute': 'device_add', 'arguments': {"
                             " 'driver': 'nvdimm', 'id': %s,"
                             " 'memdev': %s } }", id, memdev);
}

static void test_fit_changed_during_read(void)
{
    QTestState *qts;
    g_autoptr(QDict) resp = NULL;
    DsmReply r;

    qts = qtest_initf("-machine pc,nvdimm=on -m 128M,slots=4,maxmem=1G "
        "-object memory-backend-ram,id=m0,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,label-size=%d",
        BACKEND_SIZE, LABEL_SIZE);

    g_assert_cmpuint(qtest_inb(qts, PIIX4_GPE0_STS) & GPE_NVDIMM_HOTPLUG, ==,
                     0);
    /* start reading: the first chunk clears the changed state */
    g_assert_cmpuint(fit_read(qts, 0, &r), ==, ST_SUCCESS);
    check_fit(&r, 1);
    g_assert_cmpuint(fit_read(qts, 56, &r), ==, ST_SUCCESS);

    hotplug_nvdimm(qts, "nv1", BACKEND_SIZE);
    g_assert_cmpuint(qtest_inb(qts, PIIX4_GPE0_STS) & GPE_NVDIMM_HOTPLUG, ==,
                     GPE_NVDIMM_HOTPLUG);

    /* the next chunk of the old read: changed, start over */
    g_assert_cmpuint(fit_read(qts, 56, &r), ==, ST_FIT_CHANGED);
    g_assert_cmpuint(r.len, ==, 4);
    g_assert_cmpuint(fit_read(qts, 56, &r), ==, ST_FIT_CHANGED);
    /* even where the new FIT has no such offset */
    g_assert_cmpuint(fit_read(qts, 10000, &r), ==, ST_FIT_CHANGED);
    g_assert_cmpuint(fit_read(qts, 0, &r), ==, ST_SUCCESS);
    check_fit(&r, 2);
    g_assert_cmpuint(fit_read(qts, 56, &r), ==, ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, 4 + 2 * NFIT_PER_DIMM - 56);
    /* the hot-plugged DIMM answers: no labels */
    g_assert_cmphex(dsm_simple(qts, 2, FN_QUERY), ==, 0);

    /* unplug is refused with a clear error */
    resp = qtest_qmp(qts, "{ 'execute': 'device_del', 'arguments': {"
                     " 'id': 'nv1' } }");
    g_assert_true(qdict_haskey(resp, "error"));
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(resp, "error"),
                                          "desc"), "nvdimm"));
    g_assert_cmphex(dsm_simple(qts, 2, FN_QUERY), ==, 0);
    qtest_quit(qts);
}

static void test_hotplug_gpe_q35(void)
{
    QTestState *qts;
    uint16_t gpe0_sts = ICH9_TEST_PMBASE + ICH9_GPE0_STS_OFFSET;
    DsmReply r;

    qts = qtest_initf("-machine q35,nvdimm=on -m 128M,slots=4,maxmem=1G");
    /* firmware's job: place the PM I/O block and enable ACPI */
    qtest_outl(qts, 0xcf8, ICH9_LPC_BDF_CFG(ICH9_LPC_PMBASE));
    qtest_outl(qts, 0xcfc, ICH9_TEST_PMBASE);
    qtest_outl(qts, 0xcf8, ICH9_LPC_BDF_CFG(ICH9_LPC_ACPI_CTRL));
    qtest_outb(qts, 0xcfc, ICH9_LPC_ACPI_EN);

    g_assert_cmpuint(qtest_inb(qts, gpe0_sts) & GPE_NVDIMM_HOTPLUG, ==, 0);
    g_assert_cmpuint(fit_read(qts, 0, &r), ==, ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, 4);             /* no NVDIMM yet */
    hotplug_nvdimm(qts, "nv0", BACKEND_SIZE);
    g_assert_cmpuint(qtest_inb(qts, gpe0_sts) & GPE_NVDIMM_HOTPLUG, ==,
                     GPE_NVDIMM_HOTPLUG);
    g_assert_cmpuint(fit_read(qts, 0, &r), ==, ST_SUCCESS);
    check_fit(&r, 1);
    qtest_quit(qts);
}

/* ------------------------------------------------------------------------ */
/* Tables through iasl                                                      */

static const uint8_t *find_table(const uint8_t *blob, size_t len,
                                 const char *sig, const char *oem_table_id)
{
    size_t off = 0;

    /* the tables blob is the tables back to back, then zero padding */
    while (off + 36 <= len) {
        uint32_t tlen = ldl_le_p(blob + off + 4);

        if (tlen < 36 || off + tlen > len) {
            break;
        }
        if (!memcmp(blob + off, sig, 4) &&
            (!oem_table_id || !memcmp(blob + off + 16, oem_table_id,
                                      strlen(oem_table_id)))) {
            return blob + off;
        }
        off += tlen;
    }
    return NULL;
}

/*
 * fw_cfg's DMA interface (docs/specs/fw_cfg.rst): the I/O port of its
 * 64-bit big-endian address register, and where in guest RAM (every case
 * has at least 128 MiB, the firmware never runs) the descriptor and the
 * data go.  One DMA instead of one qtest command per byte makes reading
 * the tables take milliseconds instead of seconds.
 */
enum {
    FW_CFG_DMA_PORT_HIGH    = 0x514,
    FW_CFG_DMA_PORT_LOW     = 0x518,
    FW_CFG_DMA_DESC_ADDR    = 0x3fff000,
    FW_CFG_DMA_DATA_ADDR    = 0x4000000,
    FW_CFG_DMA_DATA_MAX     = 0x2000000,
};

/* The directory entry of fw_cfg file @name: its selector and size. */
static bool fw_cfg_find(QFWCFG *fw_cfg, const char *name, uint16_t *select,
                        uint32_t *size)
{
    g_autofree uint8_t *dir = NULL;
    const struct fw_cfg_file *files;
    size_t dir_len;
    uint32_t count;

    /* the directory: a big-endian count, then the entries */
    qfw_cfg_get(fw_cfg, FW_CFG_FILE_DIR, &count, sizeof(count));
    count = be32_to_cpu(count);
    dir_len = sizeof(count) + (size_t)count * sizeof(*files);
    dir = g_malloc(dir_len);
    qfw_cfg_get(fw_cfg, FW_CFG_FILE_DIR, dir, dir_len);
    files = (const struct fw_cfg_file *)(dir + sizeof(count));
    for (uint32_t i = 0; i < count; i++) {
        if (!strncmp(files[i].name, name, sizeof(files[i].name))) {
            *select = be16_to_cpu(files[i].select);
            *size = be32_to_cpu(files[i].size);
            return true;
        }
    }
    return false;
}

/* fw_cfg file @name, read with one fw_cfg DMA; its length in *@len. */
static uint8_t *fw_cfg_file_read(QTestState *qts, const char *name,
                                 size_t *len)
{
    QFWCFG *fw_cfg = pc_fw_cfg_init(qts);
    struct fw_cfg_dma_access desc;
    uint16_t select;
    uint32_t size;
    uint8_t *blob;

    g_assert_true(fw_cfg_find(fw_cfg, name, &select, &size));
    g_assert_cmpuint(size, >, 0);
    g_assert_cmpuint(size, <=, FW_CFG_DMA_DATA_MAX);
    pc_fw_cfg_uninit(fw_cfg);

    desc.control = cpu_to_be32((uint32_t)select << 16 |
                               FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ);
    desc.length = cpu_to_be32(size);
    desc.address = cpu_to_be64(FW_CFG_DMA_DATA_ADDR);
    qtest_memwrite(qts, FW_CFG_DMA_DESC_ADDR, &desc, sizeof(desc));
    /* the register is big-endian: the firmware swaps what it writes */
    qtest_outl(qts, FW_CFG_DMA_PORT_HIGH, 0);
    qtest_outl(qts, FW_CFG_DMA_PORT_LOW, bswap32(FW_CFG_DMA_DESC_ADDR));
    qtest_memread(qts, FW_CFG_DMA_DESC_ADDR, &desc, sizeof(desc));
    g_assert_cmphex(be32_to_cpu(desc.control), ==, 0);

    blob = g_malloc(size);
    qtest_memread(qts, FW_CFG_DMA_DATA_ADDR, blob, size);
    *len = size;
    return blob;
}

/*
 * The ACPI tables blob as the firmware gets it (fw_cfg etc/acpi/tables,
 * checksums not yet filled in); its length in *@len.
 */
static uint8_t *acpi_tables_read(QTestState *qts, size_t *len)
{
    return fw_cfg_file_read(qts, "etc/acpi/tables", len);
}

static void iasl_check(const char *dir, const char *name, const uint8_t *tbl)
{
    uint32_t len = ldl_le_p(tbl + 4);
    g_autofree uint8_t *copy = g_memdup2(tbl, len);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *out = NULL, *err = NULL;
    g_autofree char *dsl_path = NULL, *dsl = NULL;
    const char *argv[] = { "iasl", "-d", name, NULL };
    uint8_t sum = 0;
    int status;

    /* the firmware computes checksums; do it here so iasl has no reason */
    copy[9] = 0;
    for (uint32_t i = 0; i < len; i++) {
        sum += copy[i];
    }
    copy[9] = -sum;
    g_assert_true(g_file_set_contents(path, (char *)copy, len, NULL));

    g_assert_true(g_spawn_sync(dir, (char **)argv, NULL, G_SPAWN_SEARCH_PATH,
                               NULL, NULL, &out, &err, &status, NULL));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        strcasestr(out, "warning") || strcasestr(err, "warning") ||
        strcasestr(out, "error") || strcasestr(err, "error")) {
        g_test_message("iasl -d %s: stdout: %s", name, out);
        g_test_message("iasl -d %s: stderr: %s", name, err);
        g_assert_not_reached();
    }
    dsl_path = g_strdup_printf("%.*s.dsl", (int)(strlen(path) - 4), path);
    g_assert_true(g_file_get_contents(dsl_path, &dsl, NULL, NULL));
    g_assert_null(strcasestr(dsl, "warning"));
    g_assert_null(strcasestr(dsl, "error"));
    g_assert_null(strstr(dsl, "**** Unknown"));
    g_test_message("%s: %u bytes, %zu bytes of ASL", name, len, strlen(dsl));
}

static void test_tables_iasl(void)
{
    g_autofree char *iasl = g_find_program_in_path("iasl");
    g_autofree char *dir = NULL;
    g_autofree uint8_t *blob = NULL;
    const uint8_t *nfit, *ssdt;
    QTestState *qts;
    size_t len;

    if (!iasl) {
        g_test_skip("iasl not installed");
        return;
    }
    qts = qtest_initf("-machine pc,nvdimm=on,nvdimm-persistence=cpu "
        "-m 128M,slots=4,maxmem=1G "
        "-object memory-backend-ram,id=m0,size=%d "
        "-object memory-backend-ram,id=m1,size=%d "
        "-device nvdimm,memdev=m0,label-size=%d "
        "-device nvdimm,memdev=m1,unarmed=on",
        BACKEND_SIZE, BACKEND_SIZE, LABEL_SIZE);
    blob = acpi_tables_read(qts, &len);

    nfit = find_table(blob, len, "NFIT", NULL);
    ssdt = find_table(blob, len, "SSDT", "NVDIMM");
    g_assert_nonnull(nfit);
    g_assert_nonnull(ssdt);
    /* header, 4 reserved bytes, two DIMMs, platform capabilities */
    g_assert_cmpuint(ldl_le_p(nfit + 4), ==, 40 + 2 * NFIT_PER_DIMM + 16);

    dir = g_dir_make_tmp("nvqemu-iasl-XXXXXX", NULL);
    g_assert_nonnull(dir);
    iasl_check(dir, "nfit.dat", nfit);
    iasl_check(dir, "ssdt.dat", ssdt);

    qtest_quit(qts);
    /* leave nothing behind */
    {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *n;

        while (d && (n = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(dir, n, NULL);
            unlink(p);
        }
        rmdir(dir);
    }
}

/*
 * NUMA: two NVDIMMs on node 1 and one on node 0.  Each gets an SRAT memory
 * affinity entry (enabled, non-volatile) for exactly its range, and its NFIT
 * SPA range carries the same proximity domain.
 */
static void test_srat_numa(void)
{
    g_autofree uint8_t *blob = NULL;
    const uint8_t *srat, *nfit, *p, *end;
    unsigned found = 0;
    QTestState *qts;
    size_t len;

    qts = qtest_initf("-machine pc,nvdimm=on -m 128M,slots=4,maxmem=1G "
        "-object memory-backend-ram,id=ram0,size=128M "
        "-numa node,nodeid=0,memdev=ram0 -numa node,nodeid=1 "
        "-object memory-backend-ram,id=m0,size=%d "
        "-object memory-backend-ram,id=m1,size=%d "
        "-object memory-backend-ram,id=m2,size=%d "
        "-device nvdimm,memdev=m0,node=1,slot=0 "
        "-device nvdimm,memdev=m1,node=0,slot=1 "
        "-device nvdimm,memdev=m2,node=1,slot=2,label-size=%d",
        BACKEND_SIZE, BACKEND_SIZE, BACKEND_SIZE, LABEL_SIZE);
    blob = acpi_tables_read(qts, &len);
    srat = find_table(blob, len, "SRAT", NULL);
    nfit = find_table(blob, len, "NFIT", NULL);
    g_assert_nonnull(srat);
    g_assert_nonnull(nfit);

    for (unsigned i = 0; i < 3; i++) {
        /*
         * SPA range i: proximity at 12, base at 32, length at 40; the
         * DIMMs come in QOM tree order, so find the slot from the handle
         * of the memdev structure that follows.
         */
        const uint8_t *spa = nfit + 40 + i * NFIT_PER_DIMM;
        uint32_t slot = ldl_le_p(spa + 56 + 4) - 1;
        uint32_t node = ldl_le_p(spa + 12);
        uint64_t base = ldq_le_p(spa + 32), size = ldq_le_p(spa + 40);

        g_assert_cmpuint(slot, <, 3);
        g_assert_cmpuint(node, ==, slot == 1 ? 0 : 1);
        g_assert_cmpuint(size, ==, slot == 2 ? BACKEND_SIZE - 2 * 1024 * 1024
                                             : BACKEND_SIZE);
        /* SRAT memory affinity (type 1, 40 bytes) from offset 48 */
        p = srat + 48;
        end = srat + ldl_le_p(srat + 4);
        for (; p + 2 <= end && p[1] && p + p[1] <= end; p += p[1]) {
            /* (the hot-pluggable device-memory entry may share the base) */
            if (p[0] == 1 && ldq_le_p(p + 8) == base &&
                (ldl_le_p(p + 28) & 0x4)) {
                g_assert_cmpuint(p[1], ==, 40);
                g_assert_cmpuint(ldl_le_p(p + 2), ==, node);
                g_assert_cmpuint(ldq_le_p(p + 16), ==, size);
                g_assert_cmphex(ldl_le_p(p + 28), ==, 0x1 | 0x4);
                found++;
            }
        }
    }
    g_assert_cmpuint(found, ==, 3);
    qtest_quit(qts);
}

/* ------------------------------------------------------------------------ */
/* Label writes on fd-backed backends                                       */

/*
 * Set Label Data on memory-backend-memfd and -file: the write is flushed
 * with msync(), or with pmem_persist() for pmem=on (libpmem flushes the CPU
 * cache of a normal file too; QEMU warns that it is not DAX).  A
 * zero-length write at offset == label-size used to reach
 * qemu_ram_msync() with a range starting at the end of the RAM block and
 * abort QEMU.  A file backend must hold the bytes once QEMU has quit.
 *
 * A failing flush (status 4) is not tested: no file system at hand makes
 * msync() of a shared file mapping fail.
 */
static void test_label_write_fd_backed(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    static const struct {
        const char *object;
        bool file;                  /* append mem-path=FILE */
    } backends[] = {
        { "memory-backend-memfd,id=m0,share=on", false },
        { "memory-backend-file,id=m0,share=on", true },
        { "memory-backend-file,id=m0,share=on,pmem=on", true },
    };
    uint8_t data[64];

    for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
        g_autofree char *path = backends[i].file ?
            g_strdup_printf(",mem-path=%s", file) : g_strdup("");
        g_autofree char *contents = NULL;
        QTestState *qts;
        DsmReply r;
        gsize len;

        fill_pattern(data, sizeof(data), 0x33 + i);
        qts = qtest_initf("-machine pc,nvdimm=on -m 128M,slots=2,maxmem=1G "
            "-object %s%s,size=%d "
            "-device nvdimm,memdev=m0,label-size=%d",
            backends[i].object, path, BACKEND_SIZE, LABEL_SIZE);
        g_assert_cmpuint(label_write(qts, 1, LABEL_SIZE, 0, data), ==,
                         ST_SUCCESS);
        g_assert_cmpuint(label_write(qts, 1, 0, 0, data), ==, ST_SUCCESS);
        g_assert_cmpuint(label_write(qts, 1, LABEL_SIZE - sizeof(data),
                                     sizeof(data), data), ==, ST_SUCCESS);
        g_assert_cmpuint(label_read(qts, 1, LABEL_SIZE - sizeof(data),
                                    sizeof(data), &r), ==, ST_SUCCESS);
        g_assert_cmpmem(r.data + 4, sizeof(data), data, sizeof(data));
        /* one byte past the end is still refused */
        g_assert_cmpuint(label_write_raw(qts, 1, LABEL_SIZE + 1, 0, NULL, 0),
                         ==, ST_INVALID);
        g_assert_cmphex(dsm_simple(qts, 1, FN_QUERY), ==, 0x71);
        qtest_quit(qts);

        if (backends[i].file) {
            /* the label area is the end of the backend */
            g_assert_true(g_file_get_contents(file, &contents, &len, NULL));
            g_assert_cmpuint(len, ==, BACKEND_SIZE);
            g_assert_cmpmem(contents + len - sizeof(data), sizeof(data),
                            data, sizeof(data));
        }
    }
    unlink(file);
}

/* ------------------------------------------------------------------------ */
/* Backend sizes                                                            */

/*
 * A label-less backend whose size is not a multiple of its alignment is
 * accepted with a warning; the guest sees the size aligned down (3 MiB with
 * align=2M: 2 MiB), in the NFIT and in the memory device.
 */
static void test_unaligned_backend(void)
{
    g_autofree char *file = make_backing_file(3 * 1024 * 1024);
    g_autofree char *log = NULL, *err = NULL;
    g_autofree uint8_t *blob = NULL;
    const uint8_t *nfit;
    QTestState *qts;
    int fd;
    size_t len;

    /*
     * Catch QEMU's warning in a file.  libqtest starts QEMU through
     * "/bin/sh -c", so a redirection among the arguments applies to QEMU's
     * stderr only: the test's own stderr stays as it is, and a failing
     * assertion in qtest_initf() is still reported.
     */
    fd = g_file_open_tmp("nvqemu-stderr-XXXXXX", &log, NULL);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    qts = qtest_initf("-machine pc,nvdimm=on -m 128M,slots=2,maxmem=1G "
        "-object memory-backend-file,id=m0,mem-path=%s,size=3M,align=2M "
        "-device nvdimm,memdev=m0 2>%s", file, log);

    blob = acpi_tables_read(qts, &len);
    nfit = find_table(blob, len, "NFIT", NULL);
    g_assert_nonnull(nfit);
    /* SPA range length, memdev region size */
    g_assert_cmphex(ldq_le_p(nfit + 40 + 40), ==, 2 * 1024 * 1024);
    g_assert_cmphex(ldq_le_p(nfit + 40 + 56 + 16), ==, 2 * 1024 * 1024);
    qtest_quit(qts);

    g_assert_true(g_file_get_contents(log, &err, NULL, NULL));
    g_test_message("QEMU stderr: %s", err);
    g_assert_nonnull(strstr(err, "warning: "));
    g_assert_nonnull(strstr(err, "not a multiple of its alignment"));
    unlink(log);
    unlink(file);
}

/* ------------------------------------------------------------------------ */
/* NFIT, _FIT and table list compared with stock QEMU                       */

/*
 * For each configuration the test records what the guest can see of the
 * NVDIMM tables and compares it with files recorded from stock QEMU 10.0
 * built from the same source (tests/qtest/data/nfit/):
 *
 *   NAME.nfit.hex   the NFIT table, checksum filled in (absent: no NFIT)
 *   NAME.srat.hex   the SRAT likewise (absent: no SRAT)
 *   NAME.fit.hex    what _FIT returns (Read FIT), after the hot-plug if any
 *   NAME.tables     signature and OEM table id of every table, in order
 *   NAME.loader     the bios-linker script (etc/table-loader), as text
 *
 * Re-record against the stock binary (tests/qtest/data/nfit/README.md):
 *
 *   NVQEMU_RECORD=1 QTEST_QEMU_BINARY=build/vanilla/qemu/qemu-system-x86_64 \
 *     build/qemu/nvqemu/tests/qtest/nvqemu-nvdimm-dsm-test \
 *     -p /x86_64/nvqemu/nvdimm/stock
 *
 * Where upstream's bios-tables-test has an NFIT blob for the same command
 * line (tests/data/acpi/x86/{pc,q35}/NFIT.dimmpxm), the NFIT is compared
 * with that too, read from the prepared QEMU tree at test time.
 */
typedef struct NfitCase {
    const char *name;
    const char *machine;
    const char *args;           /* "%s" is replaced by a scratch file */
    const char *hotplug;        /* device_add properties (JSON) or NULL */
    const char *upstream;       /* tests/data/acpi/x86/... or NULL */
} NfitCase;

#define NFIT_MEM "-m 128M,slots=4,maxmem=1G "
#define NFIT_RAM(id) "-object memory-backend-ram,id=" id ",size=16M "

/* upstream bios-tables-test test_acpi_tcg_dimm_pxm() */
#define NFIT_DIMMPXM_ARGS \
    "-machine nvdimm=on,nvdimm-persistence=cpu -smp 4,sockets=4 " \
    "-m 128M,slots=3,maxmem=1G " \
    "-object memory-backend-ram,id=ram0,size=32M " \
    "-object memory-backend-ram,id=ram1,size=32M " \
    "-object memory-backend-ram,id=ram2,size=32M " \
    "-object memory-backend-ram,id=ram3,size=32M " \
    "-numa node,memdev=ram0,nodeid=0 -numa node,memdev=ram1,nodeid=1 " \
    "-numa node,memdev=ram2,nodeid=2 -numa node,memdev=ram3,nodeid=3 " \
    "-numa cpu,node-id=0,socket-id=0 -numa cpu,node-id=1,socket-id=1 " \
    "-numa cpu,node-id=2,socket-id=2 -numa cpu,node-id=3,socket-id=3 " \
    "-object memory-backend-ram,id=ram4,size=128M " \
    "-object memory-backend-ram,id=nvm0,size=128M " \
    "-device pc-dimm,id=dimm0,memdev=ram4,node=1 " \
    "-device nvdimm,id=dimm1,memdev=nvm0,node=2"

static const NfitCase nfit_cases[] = {
    { "pc-1dimm", "pc", NFIT_MEM NFIT_RAM("m0") "-device nvdimm,memdev=m0" },
    { "q35-1dimm", "q35", NFIT_MEM NFIT_RAM("m0")
      "-device nvdimm,memdev=m0" },
    { "pc-2dimms", "pc", NFIT_MEM NFIT_RAM("m0") NFIT_RAM("m1")
      "-device nvdimm,id=nv0,memdev=m0 -device nvdimm,id=nv1,memdev=m1" },
    { "q35-2dimms-slots", "q35", NFIT_MEM NFIT_RAM("m0") NFIT_RAM("m1")
      NFIT_RAM("m2") "-device nvdimm,id=a,memdev=m0,slot=3 "
      "-device nvdimm,id=b,memdev=m1,slot=1 -device nvdimm,memdev=m2" },
    { "pc-label", "pc", NFIT_MEM NFIT_RAM("m0")
      "-device nvdimm,memdev=m0,label-size=128K" },
    { "q35-unarmed", "q35", NFIT_MEM NFIT_RAM("m0") NFIT_RAM("m1")
      "-device nvdimm,memdev=m0,unarmed=on -device nvdimm,memdev=m1" },
    { "pc-node1", "pc", NFIT_MEM "-object memory-backend-ram,id=r0,size=128M "
      "-numa node,nodeid=0,memdev=r0 -numa node,nodeid=1 "
      NFIT_RAM("m0") "-device nvdimm,memdev=m0,node=1,label-size=256K" },
    { "pc-persist-cpu", "pc,nvdimm-persistence=cpu", NFIT_MEM NFIT_RAM("m0")
      "-device nvdimm,memdev=m0" },
    { "q35-persist-mem-ctrl", "q35,nvdimm-persistence=mem-ctrl",
      NFIT_MEM NFIT_RAM("m0") "-device nvdimm,memdev=m0" },
    { "pc-unaligned", "pc", NFIT_MEM "-object memory-backend-file,id=m0,"
      "mem-path=%s,size=3M,align=2M -device nvdimm,memdev=m0" },
    /*
     * At stock's address (right after m0's 14 MiB): without "addr" nvqemu
     * places a hot-plugged NVDIMM on 16 MiB (docs/nvdimm.md, "Hot-plug
     * placement"; nvqemu-nvdimm-unplug-test.c).
     */
    { "pc-hotplug", "pc", NFIT_MEM NFIT_RAM("m0") NFIT_RAM("hp")
      "-device nvdimm,memdev=m0,label-size=128K",
      "{ 'id': 'nvhp', 'memdev': 'hp', 'addr': 4309647360 }" },
    { "q35-hotplug-empty", "q35", NFIT_MEM NFIT_RAM("hp"),
      "{ 'id': 'nvhp', 'memdev': 'hp', 'label-size': 131072, 'node': 0 }" },
    { "pc-empty", "pc", NFIT_MEM },
    { "pc-noslots", "pc", "-m 128M" },
    { "q35-noslots", "q35", "-m 128M " NFIT_RAM("m0") },
    { "pc-dimmpxm", "pc", NFIT_DIMMPXM_ARGS, NULL, "pc/NFIT.dimmpxm" },
    { "q35-dimmpxm", "q35", NFIT_DIMMPXM_ARGS, NULL, "q35/NFIT.dimmpxm" },
};

/* Where the recorded files live: tests/qtest/data/ of the repository. */
static char *nfit_data_path(const char *name, const char *suffix)
{
    return g_strdup_printf("%s/nfit/%s%s", NVQEMU_QTEST_DATA, name, suffix);
}

static bool nfit_recording(void)
{
    return g_strcmp0(g_getenv("NVQEMU_RECORD"), "1") == 0;
}

static char *hex_encode(const uint8_t *buf, size_t len)
{
    GString *out = g_string_new(NULL);

    for (size_t i = 0; i < len; i++) {
        g_string_append_printf(out, "%02x%s", buf[i],
                               (i % 16 == 15 || i + 1 == len) ? "\n" : "");
    }
    return g_string_free(out, false);
}

/* Record @text as @name@suffix, or compare it with the recording. */
static void nfit_expect(const char *name, const char *suffix,
                        const char *text)
{
    g_autofree char *path = nfit_data_path(name, suffix);
    g_autofree char *want = NULL;

    if (nfit_recording()) {
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
        g_test_message("recorded %s", path);
        return;
    }
    if (!g_file_get_contents(path, &want, NULL, NULL)) {
        g_test_message("%s: not recorded", path);
        g_assert_not_reached();
    }
    if (strcmp(want, text)) {
        g_test_message("%s differs from stock", path);
        g_test_message("stock: %s", want);
        g_test_message("ours: %s", text);
        g_assert_not_reached();
    }
}

/* The table at @tbl with its checksum filled in, as the firmware does. */
static GByteArray *table_with_checksum(const uint8_t *tbl)
{
    uint32_t len = ldl_le_p(tbl + 4);
    GByteArray *t = g_byte_array_new();
    uint8_t sum = 0;

    g_byte_array_append(t, tbl, len);
    t->data[9] = 0;
    for (uint32_t i = 0; i < len; i++) {
        sum += t->data[i];
    }
    t->data[9] = -sum;
    return t;
}

/* "SIG OEMTABLEID" per table, in blob order. */
static char *table_list(const uint8_t *blob, size_t len)
{
    GString *out = g_string_new(NULL);
    size_t off = 0;

    while (off + 36 <= len) {
        uint32_t tlen = ldl_le_p(blob + off + 4);

        if (tlen < 36 || off + tlen > len) {
            break;
        }
        g_string_append_printf(out, "%.4s %.8s\n", blob + off,
                               blob + off + 16);
        off += tlen;
    }
    return g_string_free(out, false);
}

/*
 * Far more than any test's FIT (NFIT_PER_DIMM bytes a DIMM): a Read FIT
 * that never reports the end fails here instead of hanging the test.
 */
#define FIT_LEN_MAX (64 * 1024)

/* The whole FIT through Read FIT, as _FIT assembles it. */
static GByteArray *fit_read_all(QTestState *qts)
{
    GByteArray *fit = g_byte_array_new();
    DsmReply r;

    for (;;) {
        g_assert_cmpuint(fit_read(qts, fit->len, &r), ==, ST_SUCCESS);
        if (r.len == 4) {
            return fit;
        }
        g_byte_array_append(fit, r.data + 4, r.len - 4);
        g_assert_cmpuint(fit->len, <=, FIT_LEN_MAX);
    }
}

static void compare_upstream_nfit(const char *rel, const GByteArray *nfit)
{
    g_autofree char *path = g_build_filename(NVQEMU_UPSTREAM_ACPI_DATA, rel,
                                             NULL);
    g_autofree gchar *want = NULL;
    gsize len;

    if (!g_file_get_contents(path, &want, &len, NULL)) {
        g_test_message("upstream blob %s missing", path);
        g_assert_not_reached();
    }
    g_assert_nonnull(nfit);
    g_assert_cmpmem(nfit->data, nfit->len, want, len);
}

/*
 * The bios-linker-loader script (fw_cfg etc/table-loader), as text.  Each
 * command is 128 bytes (hw/acpi/bios-linker-loader.c): a 32-bit command,
 * then its fields, file names in 56-byte fields.  Places in etc/acpi/tables
 * are named by the table they fall in (signature, OEM table id), not by
 * offset: the SSDT AML is ours, not stock's, so every table after it sits
 * elsewhere and the pointer to the DSM page is elsewhere inside it.
 */
enum {
    LOADER_CMD_LEN = 128,
    LOADER_FILE_LEN = 56,
    LOADER_NONE = 0,
    LOADER_ALLOCATE = 1,
    LOADER_ADD_POINTER = 2,
    LOADER_ADD_CHECKSUM = 3,
    /* field offsets */
    LOADER_FILE = 4,                /* all: (destination) file */
    LOADER_ALLOC_ALIGN = 60,
    LOADER_ALLOC_ZONE = 64,
    LOADER_PTR_SRC = 60,
    LOADER_PTR_OFFSET = 116,
    LOADER_PTR_SIZE = 120,
    LOADER_CSUM_OFFSET = 60,
    LOADER_CSUM_START = 64,
    LOADER_CSUM_LENGTH = 68,
    ACPI_HDR_CHECKSUM = 9,
};

#define LOADER_TABLES_FILE "etc/acpi/tables"

/* The table of @blob that holds byte @off: its start in *@start, or NULL. */
static const uint8_t *table_holding(const uint8_t *blob, size_t len,
                                    uint64_t off, size_t *start)
{
    size_t t = 0;

    while (t + 36 <= len) {
        uint32_t tlen = ldl_le_p(blob + t + 4);

        if (tlen < 36 || t + tlen > len) {
            break;
        }
        if (off >= t && off < t + tlen) {
            *start = t;
            return blob + t;
        }
        t += tlen;
    }
    return NULL;
}

static void loader_place(GString *out, const char *file, uint64_t off,
                         const uint8_t *blob, size_t len)
{
    const uint8_t *t;
    size_t start;
    int id_len;

    if (strcmp(file, LOADER_TABLES_FILE)) {
        g_string_append_printf(out, "%s+%" PRIu64, file, off);
        return;
    }
    t = table_holding(blob, len, off, &start);
    if (!t) {
        g_string_append_printf(out, "%s+%" PRIu64 " (no table)", file, off);
        return;
    }
    /* the OEM table id without its padding (FACS has none) */
    id_len = strnlen((const char *)t + 16, 8);
    while (id_len && t[16 + id_len - 1] == ' ') {
        id_len--;
    }
    g_string_append_printf(out, "%.4s%s%.*s", t, id_len ? " " : "",
                           id_len, t + 16);
}

static char *loader_describe(const uint8_t *loader, size_t loader_len,
                             const uint8_t *blob, size_t len)
{
    GString *out = g_string_new(NULL);

    g_assert_cmpuint(loader_len % LOADER_CMD_LEN, ==, 0);
    for (size_t i = 0; i < loader_len; i += LOADER_CMD_LEN) {
        const uint8_t *c = loader + i;
        g_autofree char *file = g_strndup((const char *)c + LOADER_FILE,
                                          LOADER_FILE_LEN);

        switch (ldl_le_p(c)) {
        case LOADER_NONE:
            break;              /* the unused rest of the file */
        case LOADER_ALLOCATE:
            g_string_append_printf(out, "allocate %s align %u zone %u\n",
                                   file, ldl_le_p(c + LOADER_ALLOC_ALIGN),
                                   c[LOADER_ALLOC_ZONE]);
            break;
        case LOADER_ADD_POINTER: {
            g_autofree char *src = g_strndup((const char *)c + LOADER_PTR_SRC,
                                             LOADER_FILE_LEN);
            uint32_t off = ldl_le_p(c + LOADER_PTR_OFFSET);
            uint8_t size = c[LOADER_PTR_SIZE];

            g_string_append(out, "pointer in ");
            loader_place(out, file, off, blob, len);
            g_string_append_printf(out, " (%u bytes) to ", size);
            if (!strcmp(file, LOADER_TABLES_FILE) &&
                !strcmp(src, LOADER_TABLES_FILE) && size == 4 &&
                off + size <= len) {
                /* the pointer's value is an offset in the tables blob */
                loader_place(out, src, ldl_le_p(blob + off), blob, len);
            } else {
                g_string_append(out, src);
            }
            g_string_append_c(out, '\n');
            break;
        }
        case LOADER_ADD_CHECKSUM: {
            uint32_t off = ldl_le_p(c + LOADER_CSUM_OFFSET);
            uint32_t start = ldl_le_p(c + LOADER_CSUM_START);
            uint32_t length = ldl_le_p(c + LOADER_CSUM_LENGTH);
            const uint8_t *t;
            size_t tstart;

            g_string_append(out, "checksum of ");
            loader_place(out, file, start, blob, len);
            t = strcmp(file, LOADER_TABLES_FILE) ? NULL :
                table_holding(blob, len, start, &tstart);
            if (t && tstart == start && length == ldl_le_p(t + 4) &&
                off == start + ACPI_HDR_CHECKSUM) {
                g_string_append(out, " (whole table)\n");
            } else {
                g_string_append_printf(out, " start %u length %u at %u\n",
                                       start, length, off);
            }
            break;
        }
        default:
            g_string_append_printf(out, "command %u\n", ldl_le_p(c));
            break;
        }
    }
    return g_string_free(out, false);
}

static void test_stock_nfit(gconstpointer opaque)
{
    const NfitCase *c = opaque;
    g_autofree char *file = make_backing_file(3 * 1024 * 1024);
    g_autofree char *args = g_strdup_printf(c->args, file);
    g_autofree uint8_t *blob = NULL;
    g_autofree char *tables = NULL, *fit_hex = NULL, *nfit_hex = NULL;
    g_autofree char *srat_hex = NULL, *loader_text = NULL;
    g_autofree uint8_t *loader = NULL;
    size_t loader_len;
    g_autoptr(GByteArray) nfit = NULL;
    g_autoptr(GByteArray) srat = NULL;
    g_autoptr(GByteArray) fit = NULL;
    const uint8_t *t;
    QTestState *qts;
    size_t len;

    qts = qtest_initf("-machine %s,nvdimm=on %s", c->machine, args);
    blob = acpi_tables_read(qts, &len);
    tables = table_list(blob, len);
    t = find_table(blob, len, "NFIT", NULL);
    nfit = t ? table_with_checksum(t) : NULL;
    nfit_hex = nfit ? hex_encode(nfit->data, nfit->len) : g_strdup("");
    t = find_table(blob, len, "SRAT", NULL);
    srat = t ? table_with_checksum(t) : NULL;
    srat_hex = srat ? hex_encode(srat->data, srat->len) : g_strdup("");
    loader = fw_cfg_file_read(qts, "etc/table-loader", &loader_len);
    loader_text = loader_describe(loader, loader_len, blob, len);

    if (c->hotplug) {
        QDict *props = qobject_to(QDict, qobject_from_json(c->hotplug,
                                                           &error_abort));

        qtest_qmp_device_add_qdict(qts, "nvdimm", props);
        qobject_unref(props);
    }
    /* without slots there is no _FIT to call: only the tables matter */
    if (strstr(tables, "NVDIMM")) {
        fit = fit_read_all(qts);
        fit_hex = hex_encode(fit->data, fit->len);
    }
    qtest_quit(qts);
    unlink(file);

    nfit_expect(c->name, ".tables", tables);
    nfit_expect(c->name, ".nfit.hex", nfit_hex);
    nfit_expect(c->name, ".srat.hex", srat_hex);
    nfit_expect(c->name, ".fit.hex", fit_hex ? fit_hex : "");
    nfit_expect(c->name, ".loader", loader_text);
    if (c->upstream) {
        compare_upstream_nfit(c->upstream, nfit);
    }
}

/* No memory slots: no NVDIMM root device, no NFIT, whatever is plugged. */
static void test_no_slots(void)
{
    QTestState *qts = qtest_init("-machine pc,nvdimm=on -m 128M");
    g_autofree uint8_t *blob = NULL;
    size_t len;

    blob = acpi_tables_read(qts, &len);
    g_assert_null(find_table(blob, len, "SSDT", "NVDIMM"));
    g_assert_null(find_table(blob, len, "NFIT", NULL));
    qtest_quit(qts);
}

/* ------------------------------------------------------------------------ */
/* Command-line errors: a clean exit with a message, never an abort          */

static void expect_startup_error(const char *args, const char *needle)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *cmd = g_strdup_printf("timeout 30 %s -accel qtest "
                                           "-display none -nodefaults "
                                           "-monitor none -serial none -S %s",
                                           qemu, args);
    g_autofree char *out = NULL, *err = NULL;
    g_auto(GStrv) argv = NULL;
    int status;

    g_assert_nonnull(qemu);
    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH,
                               NULL, NULL, &out, &err, &status, NULL));
    g_test_message("%s -> %s", args, err);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    g_assert_nonnull(strstr(err, needle));
}

static void test_bad_command_lines(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    g_autofree char *args = NULL;

    expect_startup_error("-M pc,nvdimm=on -m 128M,slots=2,maxmem=1G "
        "-object memory-backend-ram,id=m0,size=16M "
        "-device nvdimm,memdev=m0,label-size=1000",
        "'label-size' is 1000 bytes");
    /* as stock QEMU: no label area means leaving the property out */
    expect_startup_error("-M pc,nvdimm=on -m 128M,slots=2,maxmem=1G "
        "-object memory-backend-ram,id=m0,size=16M "
        "-device nvdimm,memdev=m0,label-size=0",
        "'label-size' is 0 bytes; when given it must be at least");
    expect_startup_error("-M pc,nvdimm=on -m 128M,slots=2,maxmem=1G "
        "-object memory-backend-ram,id=m0,size=128K "
        "-device nvdimm,memdev=m0,label-size=128K",
        "too small for property 'label-size'");
    expect_startup_error("-M pc -m 128M,slots=2,maxmem=1G "
        "-object memory-backend-ram,id=m0,size=16M "
        "-device nvdimm,memdev=m0", "nvdimm is not enabled");
    expect_startup_error("-M pc,nvdimm=on -m 128M,slots=2,maxmem=1G "
        "-device nvdimm", "property 'memdev' must be set");
    args = g_strdup_printf("-M pc,nvdimm=on -m 128M,slots=2,maxmem=1G "
        "-object memory-backend-file,id=m0,mem-path=%s,size=16M,readonly=on "
        "-device nvdimm,memdev=m0", file);
    expect_startup_error(args, "needs property 'unarmed=on'");
    g_free(args);
    /* 3 MiB - 1.5 MiB label leaves less than one 2 MiB alignment unit */
    args = g_strdup_printf("-M pc,nvdimm=on -m 128M,slots=2,maxmem=1G "
        "-object memory-backend-file,id=m0,mem-path=%s,size=3M,align=2M "
        "-device nvdimm,memdev=m0,label-size=1536K", file);
    expect_startup_error(args, "less than its alignment 0x200000");
    unlink(file);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/nvqemu/nvdimm/dsm/query", test_query);
    qtest_add_func("/nvqemu/nvdimm/dsm/label-size", test_label_size);
    qtest_add_func("/nvqemu/nvdimm/dsm/label-roundtrip-persist",
                   test_label_roundtrip_and_persist);
    qtest_add_func("/nvqemu/nvdimm/dsm/malformed", test_label_malformed);
    qtest_add_func("/nvqemu/nvdimm/dsm/readonly-unarmed",
                   test_readonly_unarmed);
    qtest_add_func("/nvqemu/nvdimm/dsm/label-size-above-4g",
                   test_label_size_above_4g);
    qtest_add_func("/nvqemu/nvdimm/fit/read", test_fit_read);
    qtest_add_func("/nvqemu/nvdimm/fit/changed-during-read",
                   test_fit_changed_during_read);
    qtest_add_func("/nvqemu/nvdimm/hotplug/gpe-q35", test_hotplug_gpe_q35);
    qtest_add_func("/nvqemu/nvdimm/acpi/iasl", test_tables_iasl);
    qtest_add_func("/nvqemu/nvdimm/acpi/srat-numa", test_srat_numa);
    qtest_add_func("/nvqemu/nvdimm/cmdline/errors", test_bad_command_lines);
    qtest_add_func("/nvqemu/nvdimm/dsm/label-write-fd-backed",
                   test_label_write_fd_backed);
    qtest_add_func("/nvqemu/nvdimm/cmdline/unaligned-backend",
                   test_unaligned_backend);
    qtest_add_func("/nvqemu/nvdimm/acpi/no-slots", test_no_slots);
    for (size_t i = 0; i < ARRAY_SIZE(nfit_cases); i++) {
        g_autofree char *path = g_strdup_printf("/nvqemu/nvdimm/stock/%s",
                                                nfit_cases[i].name);

        qtest_add_data_func(path, &nfit_cases[i], test_stock_nfit);
    }
    return g_test_run();
}
