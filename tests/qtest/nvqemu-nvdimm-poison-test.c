/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM-N qtest: host control of poison over QMP
 * (nvdimm-query-poison, nvdimm-inject-poison, nvdimm-clear-poison) and the
 * root notification new poison raises.  Good input: ranges recorded,
 * merged and split as the guest's injection functions do, and seen by the
 * guest's ARS and Inject Status; malformed input: clear errors that change
 * nothing (unknown id, a pc-dimm, nvdimm-n=off, empty, unaligned, outside
 * the pmem, a full list); the root event: an injection with notify (QMP,
 * or the guest's ARS Error Inject with its notify option) raises the
 * NVDIMM GPE and sets the root bit of the QEMU root's function 2, without
 * it nothing; QMP-injected poison survives a restart; with
 * -global nvdimm.nvdimm-n=on a machine booted without NVDIMMs has the
 * NVDIMM-N root functions, and poison of a hot-plugged one raises the event.
 *
 * Numbers are written out from docs/specs/nvdimm-acpi.md, not taken from
 * QEMU's headers.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "nvqemu-nvdimm-dsm.h"

#define BACKEND_SIZE (16 * 1024 * 1024)
#define UNIT 256                    /* poison unit, ARS clear unit */
#define POISON_MAX 192              /* ranges a state area holds */

/* root functions (ACPI 6.5 9.20.7) and their status codes */
#define FN_ARS_START 2
#define FN_ARS_STATUS 3
#define FN_INJECT 7
#define FN_INJECT_STATUS 9
#define RST_SUCCESS 0
#define ARS_TYPE_PERSISTENT 2
#define ARS_FLAG_PREV_DATA 2
#define INJECT_OPT_NOTIFY 1

/* QEMU root function 2: status, 32 bytes of slots, root event dword */
#define FN_HEALTH_EVENTS 2
#define HEALTH_EVENTS_LEN 40
#define HEALTH_EVENTS_ROOT 36
#define ROOT_UC_ERROR 1

/* GPE 4, the NVDIMM GPE, in PIIX4's GPE0 status block */
#define PIIX4_GPE0_STS 0xafe0
#define GPE_NVDIMM 0x10

/*
 * pc machine: NVDIMM-N nv0 (slot 0, handle 1) on @file, a stock nvdimm
 * nv1 and a pc-dimm d2.
 */
static QTestState *start(const char *file)
{
    return qtest_initf("-machine pc,nvdimm=on -m 128M,slots=4,maxmem=1G "
        "-object memory-backend-file,id=m0,share=on,mem-path=%s,size=%d "
        "-object memory-backend-ram,id=m1,size=%d "
        "-object memory-backend-ram,id=m2,size=128M "
        "-device nvdimm,id=nv0,memdev=m0,slot=0,nvdimm-n=on "
        "-device nvdimm,id=nv1,memdev=m1,slot=1 "
        "-device pc-dimm,id=d2,memdev=m2,slot=2",
        file, BACKEND_SIZE, BACKEND_SIZE);
}

/* nvdimm-query-poison of @id (the "return" member, a new reference). */
static QDict *query(QTestState *qts, const char *id)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'nvdimm-query-poison',"
                           " 'arguments': {'id': %s}}", id);
    QDict *ret;

    g_assert(qdict_haskey(rsp, "return"));
    ret = qdict_get_qdict(rsp, "return");
    qobject_ref(ret);
    qobject_unref(rsp);
    return ret;
}

/*
 * The poison of nv0 must be exactly the @n ranges of @expect (pairs of
 * offset, length).
 */
static void check_poison(QTestState *qts, const uint64_t *expect, size_t n)
{
    QDict *info = query(qts, "nv0");
    QList *ranges = qdict_get_qlist(info, "ranges");
    QListEntry *e;
    size_t i = 0;

    QLIST_FOREACH_ENTRY(ranges, e) {
        QDict *r = qobject_to(QDict, e->value);

        g_assert_cmpuint(i, <, n);
        g_assert_cmphex(qdict_get_int(r, "offset"), ==, expect[2 * i]);
        g_assert_cmphex(qdict_get_int(r, "length"), ==, expect[2 * i + 1]);
        i++;
    }
    g_assert_cmpuint(i, ==, n);
    qobject_unref(info);
}

static size_t poison_count(QTestState *qts)
{
    QDict *info = query(qts, "nv0");
    size_t n = qlist_size(qdict_get_qlist(info, "ranges"));

    qobject_unref(info);
    return n;
}

static void inject_ok(QTestState *qts, uint64_t offset, uint64_t length,
                      bool notify)
{
    assert_qmp_ok(qts, "{'execute': 'nvdimm-inject-poison', 'arguments':"
                  " {'id': 'nv0', 'offset': %" PRIu64 ", 'length': %" PRIu64
                  ", 'notify': %i}}", offset, length, notify);
}

static void clear_ok(QTestState *qts, uint64_t offset, uint64_t length)
{
    assert_qmp_ok(qts, "{'execute': 'nvdimm-clear-poison', 'arguments':"
                  " {'id': 'nv0', 'offset': %" PRIu64 ", 'length': %" PRIu64
                  "}}", offset, length);
}

/* Whether GPE 4 is pending; clears it (write 1 to clear). */
static bool gpe_take(QTestState *qts)
{
    bool set = qtest_inb(qts, PIIX4_GPE0_STS) & GPE_NVDIMM;

    qtest_outb(qts, PIIX4_GPE0_STS, GPE_NVDIMM);
    return set;
}

/* The root event bits of QEMU root function 2 (reading clears them). */
static uint32_t root_events_take(QTestState *qts)
{
    DsmReply r;

    g_assert_cmphex(dsm_call(qts, HANDLE_QEMU_ROOT, 1, FN_HEALTH_EVENTS,
                             NULL, 0, &r), ==, ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, HEALTH_EVENTS_LEN);
    /* poison is no DIMM health event */
    for (unsigned i = 4; i < HEALTH_EVENTS_ROOT; i++) {
        g_assert_cmphex(r.data[i], ==, 0);
    }
    return ldl_le_p(r.data + HEALTH_EVENTS_ROOT);
}

static uint32_t guest_inject(QTestState *qts, uint64_t spa, uint64_t len,
                             uint8_t options)
{
    uint8_t in[17];
    DsmReply r;

    stq_le_p(in, spa);
    stq_le_p(in + 8, len);
    in[16] = options;
    return dsm_call(qts, HANDLE_ROOT, 1, FN_INJECT, in, sizeof(in), &r);
}

/* Ranges recorded, merged and split; what the guest's ARS reports. */
static void test_good(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start(file);
    uint64_t size = 0, spa = dimm_range(qts, "nv0", &size);
    QDict *info = query(qts, "nv0");
    uint8_t in[24] = { 0 };
    DsmReply r;

    g_assert_cmpuint(qdict_get_int(info, "unit"), ==, UNIT);
    g_assert_cmpuint(qdict_get_int(info, "size"), ==, size);
    g_assert_cmpuint(qdict_get_int(info, "max-ranges"), ==, POISON_MAX);
    g_assert_cmpuint(qlist_size(qdict_get_qlist(info, "ranges")), ==, 0);
    qobject_unref(info);

    inject_ok(qts, 4096, 512, true);
    check_poison(qts, (uint64_t[]){ 4096, 512 }, 1);
    /* adjacent: merged; the last unit of the pmem */
    inject_ok(qts, 4608, UNIT, true);
    inject_ok(qts, size - UNIT, UNIT, true);
    check_poison(qts, (uint64_t[]){ 4096, 768, size - UNIT, UNIT }, 2);
    /* clearing the middle splits */
    clear_ok(qts, 4352, UNIT);
    check_poison(qts, (uint64_t[]){ 4096, UNIT, 4608, UNIT,
                                    size - UNIT, UNIT }, 3);
    /* clearing what is not poisoned is no error */
    clear_ok(qts, 0, UNIT);
    check_poison(qts, (uint64_t[]){ 4096, UNIT, 4608, UNIT,
                                    size - UNIT, UNIT }, 3);

    /* the guest's Inject Status and a short scrub see the same */
    g_assert_cmphex(dsm_call(qts, HANDLE_ROOT, 1, FN_INJECT_STATUS, NULL, 0,
                             &r), ==, RST_SUCCESS);
    g_assert_cmpuint(ldl_le_p(r.data + 4), ==, 3);
    g_assert_cmphex(ldq_le_p(r.data + 8), ==, spa + 4096);
    g_assert_cmphex(ldq_le_p(r.data + 16), ==, UNIT);
    g_assert_cmphex(ldq_le_p(r.data + 8 + 2 * 16), ==, spa + size - UNIT);
    stq_le_p(in, spa);
    stq_le_p(in + 8, size);
    stw_le_p(in + 16, ARS_TYPE_PERSISTENT);
    in[18] = ARS_FLAG_PREV_DATA;
    g_assert_cmphex(dsm_call(qts, HANDLE_ROOT, 1, FN_ARS_START, in,
                             sizeof(in), &r), ==, RST_SUCCESS);
    g_assert_cmphex(dsm_call(qts, HANDLE_ROOT, 1, FN_ARS_STATUS, NULL, 0,
                             &r), ==, RST_SUCCESS);
    g_assert_cmpuint(ldl_le_p(r.data + 44), ==, 3);
    g_assert_cmphex(ldl_le_p(r.data + 48), ==, 1);          /* handle */
    g_assert_cmphex(ldq_le_p(r.data + 48 + 8), ==, spa + 4096);
    g_assert_cmphex(ldq_le_p(r.data + 48 + 16), ==, UNIT);

    /* the guest's Inject Clear of QMP poison: gone for QMP too */
    clear_ok(qts, 4096, UNIT);
    clear_ok(qts, 4608, UNIT);
    clear_ok(qts, size - UNIT, UNIT);
    check_poison(qts, NULL, 0);
    qtest_quit(qts);
    unlink(file);
}

/* Malformed input: a clear error, and the poison list as it was. */
static void test_malformed(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start(file);
    uint64_t size = 0;
    const uint64_t before[] = { 8192, UNIT };

    dimm_range(qts, "nv0", &size);
    inject_ok(qts, 8192, UNIT, false);

    assert_qmp_error(qts, "not found",
        "{'execute': 'nvdimm-inject-poison', 'arguments':"
        " {'id': 'nope', 'offset': 0, 'length': 256}}");
    assert_qmp_error(qts, "is not an nvdimm",
        "{'execute': 'nvdimm-inject-poison', 'arguments':"
        " {'id': 'd2', 'offset': 0, 'length': 256}}");
    assert_qmp_error(qts, "is not an NVDIMM-N",
        "{'execute': 'nvdimm-inject-poison', 'arguments':"
        " {'id': 'nv1', 'offset': 0, 'length': 256}}");
    assert_qmp_error(qts, "is not an NVDIMM-N",
        "{'execute': 'nvdimm-query-poison', 'arguments': {'id': 'nv1'}}");
    assert_qmp_error(qts, "is not an nvdimm",
        "{'execute': 'nvdimm-clear-poison', 'arguments':"
        " {'id': 'd2', 'offset': 0, 'length': 256}}");
    assert_qmp_error(qts, "not found",
        "{'execute': 'nvdimm-query-poison', 'arguments': {'id': 'nope'}}");
    /* empty, unaligned offset, unaligned length */
    assert_qmp_error(qts, "not in units of 256",
        "{'execute': 'nvdimm-inject-poison', 'arguments':"
        " {'id': 'nv0', 'offset': 0, 'length': 0}}");
    assert_qmp_error(qts, "not in units of 256",
        "{'execute': 'nvdimm-inject-poison', 'arguments':"
        " {'id': 'nv0', 'offset': 100, 'length': 256}}");
    assert_qmp_error(qts, "not in units of 256",
        "{'execute': 'nvdimm-inject-poison', 'arguments':"
        " {'id': 'nv0', 'offset': 0, 'length': 300, 'notify': false}}");
    assert_qmp_error(qts, "not in units of 256",
        "{'execute': 'nvdimm-clear-poison', 'arguments':"
        " {'id': 'nv0', 'offset': 8192, 'length': 100}}");
    /* outside the pmem: past the end, straddling it, wrapping */
    assert_qmp_error(qts, "not within",
        "{'execute': 'nvdimm-inject-poison', 'arguments':"
        " {'id': 'nv0', 'offset': %" PRIu64 ", 'length': 256}}", size);
    assert_qmp_error(qts, "not within",
        "{'execute': 'nvdimm-inject-poison', 'arguments':"
        " {'id': 'nv0', 'offset': %" PRIu64 ", 'length': 512}}",
        size - UNIT);
    assert_qmp_error(qts, "not within",
        "{'execute': 'nvdimm-clear-poison', 'arguments':"
        " {'id': 'nv0', 'offset': 256, 'length': %" PRIu64 "}}",
        (uint64_t)-UNIT);
    /* missing and mistyped members: QAPI's own errors */
    assert_qmp_error(qts, "length",
        "{'execute': 'nvdimm-inject-poison', 'arguments':"
        " {'id': 'nv0', 'offset': 0}}");
    assert_qmp_error(qts, "offset",
        "{'execute': 'nvdimm-inject-poison', 'arguments':"
        " {'id': 'nv0', 'offset': 'x', 'length': 256}}");
    assert_qmp_error(qts, "notify",
        "{'execute': 'nvdimm-inject-poison', 'arguments':"
        " {'id': 'nv0', 'offset': 0, 'length': 256, 'notify': 1}}");
    check_poison(qts, before, 1);
    g_assert_false(gpe_take(qts));
    g_assert_cmphex(root_events_take(qts), ==, 0);
    qtest_quit(qts);
    unlink(file);
}

/* A full list refuses one more range and loses nothing. */
static void test_full(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start(file);
    uint64_t size;

    dimm_range(qts, "nv0", &size);
    /* disjoint ranges two units apart */
    for (unsigned i = 0; i < POISON_MAX; i++) {
        inject_ok(qts, (uint64_t)i * 2 * UNIT, UNIT, false);
    }
    g_assert_cmpuint(poison_count(qts), ==, POISON_MAX);
    assert_qmp_error(qts, "full",
        "{'execute': 'nvdimm-inject-poison', 'arguments':"
        " {'id': 'nv0', 'offset': %d, 'length': 256}}",
        POISON_MAX * 2 * UNIT);
    /* splitting a range of a full list needs one more */
    inject_ok(qts, 2 * UNIT, 3 * UNIT, false);     /* merges two into one */
    g_assert_cmpuint(poison_count(qts), ==, POISON_MAX - 1);
    inject_ok(qts, POISON_MAX * 2 * UNIT, UNIT, false);
    g_assert_cmpuint(poison_count(qts), ==, POISON_MAX);
    assert_qmp_error(qts, "full",
        "{'execute': 'nvdimm-clear-poison', 'arguments':"
        " {'id': 'nv0', 'offset': %d, 'length': 256}}", 3 * UNIT);
    g_assert_cmpuint(poison_count(qts), ==, POISON_MAX);
    /* a refused injection raised nothing */
    g_assert_false(gpe_take(qts));
    assert_qmp_error(qts, "full",
        "{'execute': 'nvdimm-inject-poison', 'arguments':"
        " {'id': 'nv0', 'offset': %d, 'length': 256}}",
        (POISON_MAX + 2) * 2 * UNIT);
    g_assert_false(gpe_take(qts));
    g_assert_cmphex(root_events_take(qts), ==, 0);
    qtest_quit(qts);
    unlink(file);
}

/* New poison with notify raises the root event, without it nothing. */
static void test_notify(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start(file);
    uint64_t size, spa = dimm_range(qts, "nv0", &size);

    g_assert_false(gpe_take(qts));
    g_assert_cmphex(root_events_take(qts), ==, 0);

    /* QMP, notify defaulting to true */
    assert_qmp_ok(qts, "{'execute': 'nvdimm-inject-poison', 'arguments':"
                  " {'id': 'nv0', 'offset': 0, 'length': 512}}");
    g_assert_true(gpe_take(qts));
    g_assert_cmphex(root_events_take(qts), ==, ROOT_UC_ERROR);
    /* fetched once */
    g_assert_cmphex(root_events_take(qts), ==, 0);

    inject_ok(qts, 4096, UNIT, false);
    g_assert_false(gpe_take(qts));
    g_assert_cmphex(root_events_take(qts), ==, 0);
    /* a clear tells the guest nothing */
    clear_ok(qts, 0, 512);
    g_assert_false(gpe_take(qts));
    g_assert_cmphex(root_events_take(qts), ==, 0);

    /* the guest's ARS Error Inject, with and without the notify option */
    g_assert_cmphex(guest_inject(qts, spa + 8192, 512, INJECT_OPT_NOTIFY),
                    ==, RST_SUCCESS);
    g_assert_true(gpe_take(qts));
    g_assert_cmphex(root_events_take(qts), ==, ROOT_UC_ERROR);
    g_assert_cmphex(guest_inject(qts, spa + 16384, 512, 0), ==, RST_SUCCESS);
    g_assert_false(gpe_take(qts));
    g_assert_cmphex(root_events_take(qts), ==, 0);
    check_poison(qts, (uint64_t[]){ 4096, UNIT, 8192, 512, 16384, 512 }, 3);
    qtest_quit(qts);
    unlink(file);
}

/*
 * A reset forgets a root event the guest has not fetched (the guest that
 * boots scrubs anyway); the poison itself stays.
 */
static void test_reset(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start(file);

    inject_ok(qts, 0, UNIT, true);
    g_assert_true(gpe_take(qts));
    qtest_system_reset(qts);
    g_assert_cmphex(root_events_take(qts), ==, 0);
    check_poison(qts, (uint64_t[]){ 0, UNIT }, 1);
    qtest_quit(qts);
    unlink(file);
}

/* QMP poison is in the backend: a new QEMU on the file has it. */
static void test_restart(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start(file);
    uint64_t size, spa;
    DsmReply r;

    inject_ok(qts, 65536, 1024, true);
    clear_ok(qts, 65536 + UNIT, UNIT);
    qtest_quit(qts);

    qts = start(file);
    spa = dimm_range(qts, "nv0", &size);
    check_poison(qts, (uint64_t[]){ 65536, UNIT, 65536 + 2 * UNIT, 512 }, 2);
    g_assert_cmphex(dsm_call(qts, HANDLE_ROOT, 1, FN_INJECT_STATUS, NULL, 0,
                             &r), ==, RST_SUCCESS);
    g_assert_cmpuint(ldl_le_p(r.data + 4), ==, 2);
    g_assert_cmphex(ldq_le_p(r.data + 8 + 16), ==, spa + 65536 + 2 * UNIT);
    g_assert_cmphex(ldq_le_p(r.data + 8 + 16 + 8), ==, 512);
    qtest_quit(qts);

    /* and after a kill too (the state is written at once) */
    qts = start(file);
    inject_ok(qts, 0, UNIT, false);
    qtest_quit_with_signal(qts, SIGKILL);
    qts = start(file);
    check_poison(qts, (uint64_t[]){ 0, UNIT, 65536, UNIT,
                                    65536 + 2 * UNIT, 512 }, 3);
    qtest_quit(qts);
    unlink(file);
}

/*
 * -global nvdimm.nvdimm-n=on on a machine without NVDIMMs: the root offers
 * ARS and the QEMU root Health Events from boot (so the tables and Linux's
 * view of the bus have them), and a hot-plugged NVDIMM is an NVDIMM-N
 * whose poison raises the root event.  Without the global: stock.
 */
static void test_hotplug_default(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    const char *mem = "-machine pc,nvdimm=on -m 128M,slots=4,maxmem=1G";
    QTestState *qts = qtest_initf("%s", mem);
    DsmReply r;

    g_assert_cmphex(dsm_call(qts, HANDLE_ROOT, 1, FN_QUERY, NULL, 0, &r), ==,
                    0);
    g_assert_cmphex(dsm_call(qts, HANDLE_QEMU_ROOT, 1, FN_QUERY, NULL, 0, &r),
                    ==, 0x3);
    qtest_quit(qts);

    qts = qtest_initf("%s -global nvdimm.nvdimm-n=on", mem);
    g_assert_cmphex(dsm_call(qts, HANDLE_ROOT, 1, FN_QUERY, NULL, 0, &r), ==,
                    0x39f);
    g_assert_cmphex(dsm_call(qts, HANDLE_QEMU_ROOT, 1, FN_QUERY, NULL, 0, &r),
                    ==, 0x7);
    g_assert_cmphex(root_events_take(qts), ==, 0);
    assert_qmp_ok(qts, "{'execute': 'object-add', 'arguments':"
                  " {'qom-type': 'memory-backend-file', 'id': 'm0',"
                  " 'mem-path': %s, 'size': %d, 'share': true}}",
                  file, BACKEND_SIZE);
    assert_qmp_ok(qts, "{'execute': 'device_add', 'arguments':"
                  " {'driver': 'nvdimm', 'id': 'nv0', 'memdev': 'm0'}}");
    gpe_take(qts);                          /* the hot-plug's */
    check_poison(qts, NULL, 0);
    inject_ok(qts, 4096, UNIT, true);
    g_assert_true(gpe_take(qts));
    g_assert_cmphex(root_events_take(qts), ==, ROOT_UC_ERROR);
    check_poison(qts, (uint64_t[]){ 4096, UNIT }, 1);
    qtest_quit(qts);
    unlink(file);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/nvqemu/nvdimm-poison/good", test_good);
    qtest_add_func("/nvqemu/nvdimm-poison/malformed", test_malformed);
    qtest_add_func("/nvqemu/nvdimm-poison/full", test_full);
    qtest_add_func("/nvqemu/nvdimm-poison/notify", test_notify);
    qtest_add_func("/nvqemu/nvdimm-poison/reset", test_reset);
    qtest_add_func("/nvqemu/nvdimm-poison/restart", test_restart);
    qtest_add_func("/nvqemu/nvdimm-poison/hotplug-default",
                   test_hotplug_default);
    return g_test_run();
}
