/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM-N qtest: the root device's media-error functions (ACPI 6.5
 * 9.20.7) through the DSM doorbell -- ARS Capabilities, Start ARS, Query ARS
 * Status, Clear Uncorrectable Error, ARS Error Inject / Inject Clear /
 * Inject Status Query -- with good and malformed input, the scrub's
 * lifecycle, record overflow, and poison surviving a restart.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "nvqemu-nvdimm-dsm.h"

/* Root functions and their status codes (docs/specs/nvdimm-acpi.md) */
enum {
    FN_ARS_CAP = 1,
    FN_ARS_START = 2,
    FN_ARS_STATUS = 3,
    FN_CLEAR_ERROR = 4,
    FN_INJECT = 7,
    FN_INJECT_CLEAR = 8,
    FN_INJECT_STATUS = 9,
};
#define ROOT_BITMAP 0x39f

/* root status codes differ from the DIMM ones of nvqemu-nvdimm-dsm.h */
enum {
    RST_SUCCESS = 0,
    RST_UNSUPPORTED = 1,
    RST_INVALID = 2,
    RST_HW_ERROR = 3,
    RST_FUNCTION_SPECIFIC = 6,
};
#define EXT(x) ((uint32_t)(x) << 16)

#define ARS_CAP_PERSISTENT EXT(2)
#define ARS_START_BUSY (RST_FUNCTION_SPECIFIC | EXT(1))
#define ARS_DONE EXT(0)
#define ARS_IN_PROGRESS EXT(1)
#define ARS_NONE EXT(2)

#define ARS_TYPE_VOLATILE 1
#define ARS_TYPE_PERSISTENT 2
#define ARS_FLAG_PREV_DATA 2
#define ARS_OVERFLOW 1

#define CLEAR_UNIT 256
#define MAX_RECORDS 168             /* (4092 - 48) / 24 */
#define MAX_STATUS_OUT (48 + MAX_RECORDS * 24)
#define POISON_MAX 192              /* ranges a state area holds */
#define SCRUB_NS (100 * 1000 * 1000)

#define BACKEND_SIZE (16 * 1024 * 1024)

/* Machine with NVDIMM-N nv0 (slot 0, handle 1) and a stock nv1 (handle 2). */
static QTestState *start(const char *machine, const char *file, bool n)
{
    return qtest_initf("-machine %s,nvdimm=on -m 128M,slots=4,maxmem=1G "
        "-object memory-backend-file,id=m0,share=on,mem-path=%s,size=%d "
        "-object memory-backend-ram,id=m1,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,slot=0,nvdimm-n=%s "
        "-device nvdimm,id=nv1,memdev=m1,slot=1",
        machine, file, BACKEND_SIZE, BACKEND_SIZE, n ? "on" : "off");
}

static uint64_t dimm_spa(QTestState *qts, const char *id)
{
    return dimm_range(qts, id, NULL);
}

static uint32_t root_query(QTestState *qts)
{
    DsmReply r;

    return dsm_call(qts, HANDLE_ROOT, 1, FN_QUERY, NULL, 0, &r);
}

static uint32_t root_range(QTestState *qts, uint32_t fn, uint64_t addr,
                           uint64_t len, DsmReply *r)
{
    uint8_t in[16];

    stq_le_p(in, addr);
    stq_le_p(in + 8, len);
    return dsm_call(qts, HANDLE_ROOT, 1, fn, in, sizeof(in), r);
}

static uint32_t ars_start(QTestState *qts, uint64_t addr, uint64_t len,
                          uint16_t type, uint8_t flags)
{
    uint8_t in[24] = { 0 };
    DsmReply r;
    uint32_t st;

    stq_le_p(in, addr);
    stq_le_p(in + 8, len);
    stw_le_p(in + 16, type);
    in[18] = flags;
    st = dsm_call(qts, HANDLE_ROOT, 1, FN_ARS_START, in, sizeof(in), &r);
    if (st == RST_SUCCESS) {
        g_assert_cmpuint(r.len, ==, 8);
        g_assert_cmpuint(ldl_le_p(r.data + 4), ==,
                         flags & ARS_FLAG_PREV_DATA ? 0 : 1);
    } else {
        g_assert_cmpuint(r.len, ==, 4);
    }
    return st;
}

static uint32_t ars_status(QTestState *qts, DsmReply *r)
{
    uint32_t st = dsm_call(qts, HANDLE_ROOT, 1, FN_ARS_STATUS, NULL, 0, r);
    uint32_t n = ldl_le_p(r->data + 44);

    /* out_length counts from itself; the reply holds exactly the records */
    g_assert_cmpuint(r->len, ==, 48 + n * 24);
    g_assert_cmpuint(ldl_le_p(r->data + 4), ==, 44 + n * 24);
    return st;
}

static void check_record(const DsmReply *r, uint32_t i, uint32_t handle,
                         uint64_t addr, uint64_t len)
{
    const uint8_t *rec = r->data + 48 + i * 24;

    g_assert_cmpuint(i, <, ldl_le_p(r->data + 44));
    g_assert_cmphex(ldl_le_p(rec), ==, handle);
    g_assert_cmphex(ldq_le_p(rec + 8), ==, addr);
    g_assert_cmphex(ldq_le_p(rec + 16), ==, len);
}

static uint32_t inject(QTestState *qts, uint64_t addr, uint64_t len,
                       uint8_t options)
{
    uint8_t in[17];
    DsmReply r;
    uint32_t st;

    stq_le_p(in, addr);
    stq_le_p(in + 8, len);
    in[16] = options;
    st = dsm_call(qts, HANDLE_ROOT, 1, FN_INJECT, in, sizeof(in), &r);
    g_assert_cmpuint(r.len, ==, 4);
    return st;
}

static uint32_t inject_status(QTestState *qts, DsmReply *r)
{
    uint32_t st = dsm_call(qts, HANDLE_ROOT, 1, FN_INJECT_STATUS, NULL, 0, r);

    g_assert_cmpuint(r->len, ==, 8 + ldl_le_p(r->data + 4) * 16);
    return st;
}

/* Short scrub of @len bytes at @addr: results at once. */
static void scrub_now(QTestState *qts, uint64_t addr, uint64_t len,
                      DsmReply *r)
{
    g_assert_cmphex(ars_start(qts, addr, len, ARS_TYPE_PERSISTENT,
                              ARS_FLAG_PREV_DATA), ==, RST_SUCCESS);
    g_assert_cmphex(ars_status(qts, r), ==, ARS_DONE);
}

typedef struct Fixture {
    char *file;
    QTestState *qts;
    uint64_t spa;                   /* nv0, the NVDIMM-N */
    uint64_t size;                  /* its SPA range (less its state area) */
} Fixture;

static void fixture_start(Fixture *f, const char *machine)
{
    f->file = make_backing_file(BACKEND_SIZE);
    f->qts = start(machine, f->file, true);
    f->spa = dimm_range(f->qts, "nv0", &f->size);
    g_assert_cmpuint(f->size, <, BACKEND_SIZE);
}

static void fixture_stop(Fixture *f)
{
    qtest_quit(f->qts);
    unlink(f->file);
    g_free(f->file);
}

/* nvdimm-n off everywhere: the root offers nothing, as stock. */
static void test_off_is_stock(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start("pc", file, false);
    uint64_t spa = dimm_spa(qts, "nv0");
    DsmReply r;

    g_assert_cmphex(root_query(qts), ==, 0);
    for (uint32_t fn = FN_ARS_CAP; fn <= FN_INJECT_STATUS; fn++) {
        g_assert_cmphex(root_range(qts, fn, spa, CLEAR_UNIT, &r), ==,
                        RST_UNSUPPORTED);
        g_assert_cmpuint(r.len, ==, 4);
    }
    qtest_quit(qts);
    unlink(file);
}

static void test_cap(const void *opaque)
{
    Fixture f;
    DsmReply r;
    uint8_t in[16];

    fixture_start(&f, opaque);
    g_assert_cmphex(root_query(f.qts), ==,
                    ROOT_BITMAP);

    /* the whole range and a part of it */
    g_assert_cmphex(root_range(f.qts, FN_ARS_CAP, f.spa, f.size, &r), ==,
                    RST_SUCCESS | ARS_CAP_PERSISTENT);
    g_assert_cmpuint(r.len, ==, 16);
    g_assert_cmpuint(ldl_le_p(r.data + 4), ==, MAX_STATUS_OUT);
    g_assert_cmpuint(ldl_le_p(r.data + 8), ==, CLEAR_UNIT);
    g_assert_cmphex(root_range(f.qts, FN_ARS_CAP, f.spa + 4096, 512, &r),
                    ==, ARS_CAP_PERSISTENT);

    /* malformed: empty, past the end, wrapping, before, other DIMM */
    g_assert_cmphex(root_range(f.qts, FN_ARS_CAP, f.spa, 0, &r), ==,
                    RST_INVALID);
    g_assert_cmpuint(r.len, ==, 4);
    g_assert_cmphex(root_range(f.qts, FN_ARS_CAP, f.spa, f.size + 1, &r),
                    ==, RST_INVALID);
    g_assert_cmphex(root_range(f.qts, FN_ARS_CAP, f.spa + f.size - 256, 512,
                               &r), ==, RST_INVALID);
    g_assert_cmphex(root_range(f.qts, FN_ARS_CAP, f.spa + 512, UINT64_MAX,
                               &r), ==, RST_INVALID);
    g_assert_cmphex(root_range(f.qts, FN_ARS_CAP, 0, 4096, &r), ==,
                    RST_INVALID);
    g_assert_cmphex(root_range(f.qts, FN_ARS_CAP, dimm_spa(f.qts, "nv1"),
                               4096, &r), ==, RST_UNSUPPORTED);
    /* revision 2: not supported, function 0 empty */
    stq_le_p(in, f.spa);
    stq_le_p(in + 8, f.size);
    g_assert_cmphex(dsm_call(f.qts, HANDLE_ROOT, 2, FN_ARS_CAP, in,
                             sizeof(in), &r), ==, RST_UNSUPPORTED);
    g_assert_cmphex(dsm_call(f.qts, HANDLE_ROOT, 2, FN_QUERY, NULL, 0, &r),
                    ==, 0);
    fixture_stop(&f);
}

static void test_scrub_lifecycle(const void *opaque)
{
    Fixture f;
    DsmReply r;

    fixture_start(&f, opaque);
    /* nothing yet this boot */
    g_assert_cmphex(ars_status(f.qts, &r), ==, ARS_NONE);
    g_assert_cmpuint(ldl_le_p(r.data + 44), ==, 0);

    /* a full scrub runs for a while (virtual time) */
    g_assert_cmphex(ars_start(f.qts, f.spa, f.size, ARS_TYPE_PERSISTENT, 0),
                    ==, RST_SUCCESS);
    g_assert_cmphex(ars_status(f.qts, &r), ==, ARS_IN_PROGRESS);
    g_assert_cmphex(ldq_le_p(r.data + 8), ==, f.spa);
    g_assert_cmphex(ldq_le_p(r.data + 16), ==, f.size);
    g_assert_cmphex(ars_start(f.qts, f.spa, f.size, ARS_TYPE_PERSISTENT, 0),
                    ==, ARS_START_BUSY);
    qtest_clock_step(f.qts, SCRUB_NS / 2);
    g_assert_cmphex(ars_status(f.qts, &r), ==, ARS_IN_PROGRESS);
    qtest_clock_step(f.qts, SCRUB_NS / 2);
    g_assert_cmphex(ars_status(f.qts, &r), ==, ARS_DONE);
    g_assert_cmpuint(ldl_le_p(r.data + 44), ==, 0);
    g_assert_cmpuint(lduw_le_p(r.data + 40), ==, ARS_TYPE_PERSISTENT);

    /* poison shows in the next scrub, clipped to its range */
    g_assert_cmphex(inject(f.qts, f.spa + 8192, 512, 1), ==, RST_SUCCESS);
    g_assert_cmphex(inject(f.qts, f.spa + f.size - 256, 256, 0), ==,
                    RST_SUCCESS);
    g_assert_cmphex(ars_start(f.qts, f.spa, f.size, ARS_TYPE_PERSISTENT, 0),
                    ==, RST_SUCCESS);
    g_assert_cmphex(ars_status(f.qts, &r), ==, ARS_IN_PROGRESS);
    qtest_clock_step(f.qts, SCRUB_NS);
    g_assert_cmphex(ars_status(f.qts, &r), ==, ARS_DONE);
    g_assert_cmpuint(ldl_le_p(r.data + 44), ==, 2);
    check_record(&r, 0, 1, f.spa + 8192, 512);
    check_record(&r, 1, 1, f.spa + f.size - 256, 256);
    /* status can be read again; volatile|persistent is accepted */
    g_assert_cmphex(ars_status(f.qts, &r), ==, ARS_DONE);
    scrub_now(f.qts, f.spa + 8192 + 256, 4096, &r);
    g_assert_cmpuint(ldl_le_p(r.data + 44), ==, 1);
    check_record(&r, 0, 1, f.spa + 8192 + 256, 256);
    g_assert_cmphex(ars_start(f.qts, f.spa, f.size,
                              ARS_TYPE_PERSISTENT | ARS_TYPE_VOLATILE,
                              ARS_FLAG_PREV_DATA), ==, RST_SUCCESS);

    /* malformed starts change nothing */
    g_assert_cmphex(ars_start(f.qts, f.spa, f.size, ARS_TYPE_VOLATILE, 0),
                    ==, RST_INVALID);
    g_assert_cmphex(ars_start(f.qts, f.spa, f.size, 0, 0), ==, RST_INVALID);
    g_assert_cmphex(ars_start(f.qts, f.spa, f.size, 0x6, 0), ==, RST_INVALID);
    g_assert_cmphex(ars_start(f.qts, f.spa, f.size, ARS_TYPE_PERSISTENT,
                              0x80), ==, RST_INVALID);
    g_assert_cmphex(ars_start(f.qts, f.spa, 0, ARS_TYPE_PERSISTENT, 0), ==,
                    RST_INVALID);
    g_assert_cmphex(ars_start(f.qts, f.spa, f.size + 4096,
                              ARS_TYPE_PERSISTENT, 0), ==, RST_INVALID);
    g_assert_cmphex(ars_start(f.qts, dimm_spa(f.qts, "nv1"), 4096,
                              ARS_TYPE_PERSISTENT, 0), ==, RST_UNSUPPORTED);
    g_assert_cmphex(ars_status(f.qts, &r), ==, ARS_DONE);
    g_assert_cmpuint(ldl_le_p(r.data + 44), ==, 2);
    fixture_stop(&f);
}

static void test_inject(const void *opaque)
{
    Fixture f;
    DsmReply r;
    uint8_t in[16];

    fixture_start(&f, opaque);
    g_assert_cmphex(inject_status(f.qts, &r), ==, RST_SUCCESS);
    g_assert_cmpuint(ldl_le_p(r.data + 4), ==, 0);

    /* widened to whole units; adjacent ranges merge */
    g_assert_cmphex(inject(f.qts, f.spa + 1000, 10, 0), ==, RST_SUCCESS);
    g_assert_cmphex(inject(f.qts, f.spa + 1024, 512, 1), ==, RST_SUCCESS);
    g_assert_cmphex(inject(f.qts, f.spa + 65536, 256, 0), ==, RST_SUCCESS);
    g_assert_cmphex(inject_status(f.qts, &r), ==, RST_SUCCESS);
    g_assert_cmpuint(ldl_le_p(r.data + 4), ==, 2);
    g_assert_cmphex(ldq_le_p(r.data + 8), ==, f.spa + 768);
    g_assert_cmphex(ldq_le_p(r.data + 16), ==, 768);
    g_assert_cmphex(ldq_le_p(r.data + 24), ==, f.spa + 65536);
    g_assert_cmphex(ldq_le_p(r.data + 32), ==, 256);

    /* inject clear splits a range */
    g_assert_cmphex(root_range(f.qts, FN_INJECT_CLEAR, f.spa + 1024, 256,
                               &r), ==, RST_SUCCESS);
    g_assert_cmpuint(r.len, ==, 4);
    g_assert_cmphex(inject_status(f.qts, &r), ==, RST_SUCCESS);
    g_assert_cmpuint(ldl_le_p(r.data + 4), ==, 3);
    g_assert_cmphex(ldq_le_p(r.data + 8), ==, f.spa + 768);
    g_assert_cmphex(ldq_le_p(r.data + 16), ==, 256);
    g_assert_cmphex(ldq_le_p(r.data + 24), ==, f.spa + 1280);
    g_assert_cmphex(ldq_le_p(r.data + 32), ==, 256);

    /* malformed: unknown option, empty, outside, other DIMM */
    g_assert_cmphex(inject(f.qts, f.spa, 256, 0x2), ==, RST_INVALID);
    g_assert_cmphex(inject(f.qts, f.spa, 0, 0), ==, RST_INVALID);
    g_assert_cmphex(inject(f.qts, f.spa + f.size - 256, 512, 0), ==,
                    RST_INVALID);
    g_assert_cmphex(inject(f.qts, f.spa - 256, 512, 0), ==, RST_INVALID);
    g_assert_cmphex(inject(f.qts, f.spa + 256, UINT64_MAX, 0), ==,
                    RST_INVALID);
    g_assert_cmphex(inject(f.qts, dimm_spa(f.qts, "nv1"), 256, 0), ==,
                    RST_UNSUPPORTED);
    g_assert_cmphex(root_range(f.qts, FN_INJECT_CLEAR, f.spa, 0, &r), ==,
                    RST_INVALID);
    stq_le_p(in, f.spa);
    stq_le_p(in + 8, 256);
    g_assert_cmphex(dsm_call(f.qts, HANDLE_ROOT, 0, FN_INJECT, in,
                             sizeof(in), &r), ==, RST_UNSUPPORTED);
    g_assert_cmphex(inject_status(f.qts, &r), ==, RST_SUCCESS);
    g_assert_cmpuint(ldl_le_p(r.data + 4), ==, 3);
    fixture_stop(&f);
}

static void test_clear_error(const void *opaque)
{
    Fixture f;
    DsmReply r;
    uint8_t data[1024], zero[512] = { 0 }, back[1024];

    fixture_start(&f, opaque);
    memset(data, 0xa5, sizeof(data));
    qtest_memwrite(f.qts, f.spa + 4096, data, sizeof(data));
    g_assert_cmphex(inject(f.qts, f.spa + 4096, 1024, 0), ==, RST_SUCCESS);

    /* clear the second half: cleared = length, data zeroed there only */
    g_assert_cmphex(root_range(f.qts, FN_CLEAR_ERROR, f.spa + 4096 + 512,
                               512, &r), ==, RST_SUCCESS);
    g_assert_cmpuint(r.len, ==, 16);
    g_assert_cmphex(ldq_le_p(r.data + 8), ==, 512);
    qtest_memread(f.qts, f.spa + 4096, back, sizeof(back));
    g_assert(!memcmp(back, data, 512));
    g_assert(!memcmp(back + 512, zero, 512));
    scrub_now(f.qts, f.spa, f.size, &r);
    g_assert_cmpuint(ldl_le_p(r.data + 44), ==, 1);
    check_record(&r, 0, 1, f.spa + 4096, 512);

    /* clearing where there is no poison is fine */
    g_assert_cmphex(root_range(f.qts, FN_CLEAR_ERROR, f.spa, 256, &r), ==,
                    RST_SUCCESS);
    g_assert_cmphex(ldq_le_p(r.data + 8), ==, 256);

    /* malformed: misaligned address or length, empty, outside */
    g_assert_cmphex(root_range(f.qts, FN_CLEAR_ERROR, f.spa + 4096 + 8,
                               256, &r), ==, RST_INVALID);
    g_assert_cmpuint(r.len, ==, 4);
    g_assert_cmphex(root_range(f.qts, FN_CLEAR_ERROR, f.spa + 4096, 100,
                               &r), ==, RST_INVALID);
    g_assert_cmphex(root_range(f.qts, FN_CLEAR_ERROR, f.spa + 4096, 0, &r),
                    ==, RST_INVALID);
    g_assert_cmphex(root_range(f.qts, FN_CLEAR_ERROR, f.spa + f.size - 256,
                               512, &r), ==, RST_INVALID);
    g_assert_cmphex(root_range(f.qts, FN_CLEAR_ERROR, dimm_spa(f.qts, "nv1"),
                               256, &r), ==, RST_UNSUPPORTED);
    scrub_now(f.qts, f.spa, f.size, &r);
    g_assert_cmpuint(ldl_le_p(r.data + 44), ==, 1);
    fixture_stop(&f);
}

/*
 * More records than a reply holds: overflow and a restart range; and a
 * full poison list refusing one more range.
 */
static void test_overflow(const void *opaque)
{
    const uint32_t n = POISON_MAX;
    Fixture f;
    DsmReply r;
    uint64_t restart;

    fixture_start(&f, opaque);
    for (uint32_t i = 0; i < n; i++) {
        g_assert_cmphex(inject(f.qts, f.spa + i * 1024, 256, 0), ==,
                        RST_SUCCESS);
    }
    /* full: a new range is refused, growing one or clearing one is not */
    g_assert_cmphex(inject(f.qts, f.spa + n * 1024, 256, 0), ==,
                    RST_HW_ERROR);
    g_assert_cmphex(inject(f.qts, f.spa + 256, 512, 0), ==, RST_SUCCESS);
    /* splitting [0, 768) of a full list needs one more range: refused */
    g_assert_cmphex(root_range(f.qts, FN_CLEAR_ERROR, f.spa + 256, 256, &r),
                    ==, RST_HW_ERROR);
    g_assert_cmphex(root_range(f.qts, FN_CLEAR_ERROR, f.spa + 256, 512, &r),
                    ==, RST_SUCCESS);

    scrub_now(f.qts, f.spa, f.size, &r);
    g_assert_cmpuint(ldl_le_p(r.data + 44), ==, MAX_RECORDS);
    g_assert_cmpuint(lduw_le_p(r.data + 42), ==, ARS_OVERFLOW);
    check_record(&r, MAX_RECORDS - 1, 1, f.spa + (MAX_RECORDS - 1) * 1024,
                 256);
    restart = ldq_le_p(r.data + 24);
    g_assert_cmphex(restart, ==, f.spa + MAX_RECORDS * 1024);
    g_assert_cmphex(ldq_le_p(r.data + 32), ==, f.spa + f.size - restart);

    /* the guest continues from there */
    scrub_now(f.qts, restart, ldq_le_p(r.data + 32), &r);
    g_assert_cmpuint(ldl_le_p(r.data + 44), ==, n - MAX_RECORDS);
    g_assert_cmpuint(lduw_le_p(r.data + 42), ==, 0);
    check_record(&r, 0, 1, restart, 256);

    g_assert_cmphex(inject_status(f.qts, &r), ==, RST_SUCCESS);
    g_assert_cmpuint(ldl_le_p(r.data + 4), ==, n);
    fixture_stop(&f);
}

/* Poison lives in the backend: a new QEMU on the same file reports it. */
static void test_persist(const void *opaque)
{
    Fixture f;
    DsmReply r;

    fixture_start(&f, opaque);
    g_assert_cmphex(inject(f.qts, f.spa + 8192, 512, 0), ==, RST_SUCCESS);
    g_assert_cmphex(inject(f.qts, f.spa + 65536, 256, 0), ==, RST_SUCCESS);
    g_assert_cmphex(root_range(f.qts, FN_CLEAR_ERROR, f.spa + 8192 + 256,
                               256, &r), ==, RST_SUCCESS);
    qtest_quit(f.qts);

    f.qts = start(opaque, f.file, true);
    g_assert_cmpuint(dimm_spa(f.qts, "nv0"), ==, f.spa);
    /* a new machine has not scrubbed yet */
    g_assert_cmphex(ars_status(f.qts, &r), ==, ARS_NONE);
    scrub_now(f.qts, f.spa, f.size, &r);
    g_assert_cmpuint(ldl_le_p(r.data + 44), ==, 2);
    check_record(&r, 0, 1, f.spa + 8192, 256);
    check_record(&r, 1, 1, f.spa + 65536, 256);
    g_assert_cmphex(inject_status(f.qts, &r), ==, RST_SUCCESS);
    g_assert_cmpuint(ldl_le_p(r.data + 4), ==, 2);

    /* and a clear is as persistent */
    g_assert_cmphex(root_range(f.qts, FN_CLEAR_ERROR, f.spa + 65536, 256,
                               &r), ==, RST_SUCCESS);
    qtest_quit(f.qts);
    f.qts = start(opaque, f.file, true);
    scrub_now(f.qts, f.spa, f.size, &r);
    g_assert_cmpuint(ldl_le_p(r.data + 44), ==, 1);
    check_record(&r, 0, 1, f.spa + 8192, 256);
    fixture_stop(&f);
}

int main(int argc, char **argv)
{
    static const char *const machines[] = { "pc", "q35" };

    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/nvqemu/nvdimm/ars/off-is-stock", test_off_is_stock);
    for (size_t i = 0; i < ARRAY_SIZE(machines); i++) {
        const char *m = machines[i];
        g_autofree char *cap = g_strdup_printf("/nvqemu/nvdimm/ars/%s/cap", m);
        g_autofree char *life =
            g_strdup_printf("/nvqemu/nvdimm/ars/%s/scrub-lifecycle", m);
        g_autofree char *inj =
            g_strdup_printf("/nvqemu/nvdimm/ars/%s/inject", m);
        g_autofree char *clr =
            g_strdup_printf("/nvqemu/nvdimm/ars/%s/clear-error", m);
        g_autofree char *ovf =
            g_strdup_printf("/nvqemu/nvdimm/ars/%s/overflow", m);

        qtest_add_data_func(cap, m, test_cap);
        qtest_add_data_func(life, m, test_scrub_lifecycle);
        qtest_add_data_func(inj, m, test_inject);
        qtest_add_data_func(clr, m, test_clear_error);
        g_autofree char *per =
            g_strdup_printf("/nvqemu/nvdimm/ars/%s/persist", m);

        qtest_add_data_func(ovf, m, test_overflow);
        qtest_add_data_func(per, m, test_persist);
    }
    return g_test_run();
}
