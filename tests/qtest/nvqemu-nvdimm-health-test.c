/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM-N qtest: the Intel SMART and health DSM functions (1, 2,
 * 10, 17, 18) with good and malformed input, the state area's persistence
 * across QEMU runs on the same backend file, dirty-shutdown counting
 * (SIGKILL counts, an orderly quit does not), recovery from a torn state
 * copy, and nvdimm-n=off staying as stock.
 *
 * Layouts are written out from the Intel DSM interface as Linux/ndctl use
 * it and from docs/nvdimm.md (state area), not taken from QEMU's headers,
 * so a wrong struct cannot agree with itself.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"

#include "nvqemu-nvdimm-dsm.h"

#define LABEL_SIZE (128 * 1024)
#define BACKEND_SIZE (16 * 1024 * 1024)
#define HANDLE 1                        /* slot 0 */

/* State area (docs/nvdimm.md): two 4 KiB copies below the label area. */
#define STATE_COPY_SIZE 4096
#define STATE_AREA_SIZE (2 * STATE_COPY_SIZE)
#define STATE_OFFSET (BACKEND_SIZE - LABEL_SIZE - STATE_AREA_SIZE)
#define STATE_MAGIC 0x4554415453514e56ULL       /* "NVQSTATE" */
#define REC_MAGIC 0
#define REC_GENERATION 16
#define REC_SPARES 33

/* Function 1 output offsets (status included) and valid bits */
enum {
    SMART_LEN = 132,
    SMART_FLAGS = 4,
    SMART_HEALTH = 12,
    SMART_SPARES = 13,
    SMART_LIFE_USED = 14,
    SMART_ALARM = 15,
    SMART_MEDIA_TEMP = 16,
    SMART_CTRL_TEMP = 18,
    SMART_SHUTDOWN_COUNT = 20,
    SMART_SHUTDOWN_STATE = 35,
};
#define SMART_VALID_ALL 0x63f               /* bits 0-5, 9, 10 */
#define SMART_VALID_NO_SHUTDOWN 0x21f       /* without bits 5 and 10 */

#define HEALTH_FATAL 4
#define ALARM_SPARES 1
#define ALARM_MEDIA_TEMP 2
#define ALARM_ALL 7

/* Inject flags (function 18) */
enum {
    INJ_MTEMP = 1,
    INJ_SPARES = 2,
    INJ_FATAL = 4,
    INJ_UNSAFE = 8,
};

/* Temperatures: |degrees C| * 16, bit 15 sign */
#define TEMP(c) ((c) * 16)

/* Function-0 bitmaps: 1, 2, 4-6, 10, 17, 18 (rev 1); no labels at rev 2 */
#define MASK_NVN_REV1 0x60477
#define MASK_NVN_REV2 0x60407
#define MASK_LABELS 0x71

typedef struct Smart {
    uint32_t status, flags;
    uint8_t health, spares, life_used, alarm, shutdown_state;
    uint16_t media_temp, ctrl_temp;
    uint32_t shutdown_count;
} Smart;

typedef struct Thresh {
    uint16_t alarm_control;
    uint8_t spares;
    uint16_t media_temp, ctrl_temp;
} Thresh;

static QTestState *start_nvn(const char *machine, const char *file,
                             const char *extra)
{
    return qtest_initf("-machine %s,nvdimm=on -m 128M,slots=4,maxmem=1G "
        "-object memory-backend-file,id=m0,share=on,mem-path=%s,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,slot=0,label-size=%d%s",
        machine, file, BACKEND_SIZE, LABEL_SIZE, extra);
}

static QTestState *start_on(const char *file)
{
    return start_nvn("pc", file, ",nvdimm-n=on");
}

static Smart get_smart(QTestState *qts)
{
    DsmReply r;
    Smart s = {};

    s.status = dsm_call(qts, HANDLE, 1, FN_SMART, NULL, 0, &r);
    g_assert_cmphex(s.status, ==, ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, SMART_LEN);
    s.flags = ldl_le_p(r.data + SMART_FLAGS);
    s.health = r.data[SMART_HEALTH];
    s.spares = r.data[SMART_SPARES];
    s.life_used = r.data[SMART_LIFE_USED];
    s.alarm = r.data[SMART_ALARM];
    s.media_temp = lduw_le_p(r.data + SMART_MEDIA_TEMP);
    s.ctrl_temp = lduw_le_p(r.data + SMART_CTRL_TEMP);
    s.shutdown_count = ldl_le_p(r.data + SMART_SHUTDOWN_COUNT);
    s.shutdown_state = r.data[SMART_SHUTDOWN_STATE];
    return s;
}

static Thresh get_thresh(QTestState *qts)
{
    DsmReply r;
    Thresh t;

    g_assert_cmphex(dsm_call(qts, HANDLE, 1, FN_SMART_THRESHOLD, NULL, 0, &r),
                    ==, ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, 12);
    t.alarm_control = lduw_le_p(r.data + 4);
    t.spares = r.data[6];
    t.media_temp = lduw_le_p(r.data + 7);
    t.ctrl_temp = lduw_le_p(r.data + 9);
    return t;
}

static uint32_t set_thresh(QTestState *qts, uint16_t alarm, uint8_t spares,
                           uint16_t mtemp, uint16_t ctemp)
{
    uint8_t in[7];
    DsmReply r;
    uint32_t st;

    stw_le_p(in, alarm);
    in[2] = spares;
    stw_le_p(in + 3, mtemp);
    stw_le_p(in + 5, ctemp);
    st = dsm_call(qts, HANDLE, 2, FN_SET_SMART_THRESHOLD, in, sizeof(in), &r);
    g_assert_cmpuint(r.len, ==, 4);
    return st;
}

typedef struct Inject {
    uint64_t flags;
    uint8_t mtemp_en;
    uint16_t mtemp;
    uint8_t spare_en, spares, fatal_en, unsafe_en;
} Inject;

static uint32_t inject(QTestState *qts, const Inject *i)
{
    uint8_t in[15];
    DsmReply r;
    uint32_t st;

    stq_le_p(in, i->flags);
    in[8] = i->mtemp_en;
    stw_le_p(in + 9, i->mtemp);
    in[11] = i->spare_en;
    in[12] = i->spares;
    in[13] = i->fatal_en;
    in[14] = i->unsafe_en;
    st = dsm_call(qts, HANDLE, 2, FN_INJECT_SMART, in, sizeof(in), &r);
    g_assert_cmpuint(r.len, ==, 4);
    return st;
}

static uint32_t latch(QTestState *qts, uint8_t enable)
{
    DsmReply r;

    return dsm_call(qts, HANDLE, 1, FN_LATCH_SHUTDOWN, &enable, 1, &r);
}

/* SIGKILL QEMU: no exit notifier runs.  @qts is freed (patches/0400). */
static void kill_hard(QTestState *qts)
{
    qtest_quit_with_signal(qts, SIGKILL);
}

static void test_query(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start_on(file);
    DsmReply r;

    g_assert_cmphex(dsm_call(qts, HANDLE, 1, FN_QUERY, NULL, 0, &r), ==,
                    MASK_NVN_REV1);
    g_assert_cmphex(dsm_call(qts, HANDLE, 2, FN_QUERY, NULL, 0, &r), ==,
                    MASK_NVN_REV2);
    g_assert_cmphex(dsm_call(qts, HANDLE, 3, FN_QUERY, NULL, 0, &r), ==, 0);
    /* an unknown revision of an existing function */
    g_assert_cmphex(dsm_call(qts, HANDLE, 3, FN_SMART, NULL, 0, &r), ==,
                    ST_UNSUPPORTED);
    /* labels stay revision 1 only */
    g_assert_cmphex(dsm_call(qts, HANDLE, 2, FN_GET_LABEL_SIZE, NULL, 0, &r),
                    ==, ST_UNSUPPORTED);
    g_assert_cmphex(dsm_call(qts, HANDLE, 1, FN_GET_LABEL_SIZE, NULL, 0, &r),
                    ==, ST_SUCCESS);
    /* functions in between are still not there */
    g_assert_cmphex(dsm_call(qts, HANDLE, 1, 3, NULL, 0, &r), ==,
                    ST_UNSUPPORTED);
    qtest_quit(qts);
    unlink(file);
}

static void test_smart_defaults(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start_on(file);
    Smart s = get_smart(qts);
    Thresh t = get_thresh(qts);
    DsmReply r;

    g_assert_cmphex(s.flags, ==, SMART_VALID_ALL);
    g_assert_cmpuint(s.health, ==, 0);
    g_assert_cmpuint(s.spares, ==, 100);
    g_assert_cmpuint(s.life_used, ==, 0);
    g_assert_cmpuint(s.alarm, ==, 0);
    g_assert_cmpuint(s.media_temp, ==, TEMP(25));
    g_assert_cmpuint(s.ctrl_temp, ==, TEMP(30));
    g_assert_cmpuint(s.shutdown_count, ==, 0);
    g_assert_cmpuint(s.shutdown_state, ==, 0);

    g_assert_cmphex(t.alarm_control, ==, ALARM_ALL);
    g_assert_cmpuint(t.spares, ==, 10);
    g_assert_cmpuint(t.media_temp, ==, TEMP(85));
    g_assert_cmpuint(t.ctrl_temp, ==, TEMP(95));

    /* function 1 at revision 2 answers the same */
    g_assert_cmphex(dsm_call(qts, HANDLE, 2, FN_SMART, NULL, 0, &r), ==,
                    ST_SUCCESS);
    g_assert_cmpuint(r.len, ==, SMART_LEN);
    qtest_quit(qts);
    unlink(file);
}

static void test_thresholds(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start_on(file);
    Thresh t;

    g_assert_cmphex(set_thresh(qts, ALARM_SPARES | ALARM_MEDIA_TEMP, 50,
                               TEMP(40), TEMP(60)), ==, ST_SUCCESS);
    t = get_thresh(qts);
    g_assert_cmphex(t.alarm_control, ==, ALARM_SPARES | ALARM_MEDIA_TEMP);
    g_assert_cmpuint(t.spares, ==, 50);
    g_assert_cmpuint(t.media_temp, ==, TEMP(40));
    g_assert_cmpuint(t.ctrl_temp, ==, TEMP(60));

    /* malformed: reserved alarm bit, spares over 100 -> invalid input */
    g_assert_cmphex(set_thresh(qts, 0x8, 5, TEMP(40), TEMP(60)), ==,
                    ST_INVALID);
    g_assert_cmphex(set_thresh(qts, 0xffff, 5, TEMP(40), TEMP(60)), ==,
                    ST_INVALID);
    g_assert_cmphex(set_thresh(qts, ALARM_ALL, 101, TEMP(40), TEMP(60)), ==,
                    ST_INVALID);
    /* ... and nothing changed */
    t = get_thresh(qts);
    g_assert_cmphex(t.alarm_control, ==, ALARM_SPARES | ALARM_MEDIA_TEMP);
    g_assert_cmpuint(t.spares, ==, 50);

    /* spares 100 <= threshold 100 trips the (enabled) spares alarm */
    g_assert_cmphex(set_thresh(qts, ALARM_SPARES, 100, TEMP(40), TEMP(60)),
                    ==, ST_SUCCESS);
    g_assert_cmphex(get_smart(qts).alarm, ==, ALARM_SPARES);
    /* disabled alarms never trip */
    g_assert_cmphex(set_thresh(qts, 0, 100, TEMP(0), TEMP(0)), ==,
                    ST_SUCCESS);
    g_assert_cmphex(get_smart(qts).alarm, ==, 0);
    qtest_quit(qts);
    unlink(file);
}

static void test_inject(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start_on(file);
    Smart s;

    /* media temperature over its threshold: alarm */
    g_assert_cmphex(inject(qts, &(Inject) {
        .flags = INJ_MTEMP, .mtemp_en = 1, .mtemp = TEMP(90) }), ==, 0);
    s = get_smart(qts);
    g_assert_cmpuint(s.media_temp, ==, TEMP(90));
    g_assert_cmphex(s.alarm, ==, ALARM_MEDIA_TEMP);
    /* negative temperatures keep their encoding */
    g_assert_cmphex(inject(qts, &(Inject) {
        .flags = INJ_MTEMP, .mtemp_en = 1, .mtemp = 0x8000 | TEMP(5) }),
        ==, 0);
    s = get_smart(qts);
    g_assert_cmphex(s.media_temp, ==, 0x8000 | TEMP(5));
    g_assert_cmphex(s.alarm, ==, 0);

    /* spares under the threshold: alarm */
    g_assert_cmphex(inject(qts, &(Inject) {
        .flags = INJ_SPARES, .spare_en = 1, .spares = 5 }), ==, 0);
    s = get_smart(qts);
    g_assert_cmpuint(s.spares, ==, 5);
    g_assert_cmphex(s.alarm, ==, ALARM_SPARES);

    g_assert_cmphex(inject(qts, &(Inject) {
        .flags = INJ_FATAL, .fatal_en = 1 }), ==, 0);
    g_assert_cmphex(get_smart(qts).health, ==, HEALTH_FATAL);

    g_assert_cmphex(inject(qts, &(Inject) {
        .flags = INJ_UNSAFE, .unsafe_en = 1 }), ==, 0);
    s = get_smart(qts);
    g_assert_cmpuint(s.shutdown_state, ==, 1);
    g_assert_cmpuint(s.shutdown_count, ==, 1);

    /* flags 0: a no-op that succeeds (ndctl --uninject-all sends it) */
    g_assert_cmphex(inject(qts, &(Inject) { .flags = 0 }), ==, 0);

    /* malformed: unknown flag, enable not 0/1, spares over 100 */
    g_assert_cmphex(inject(qts, &(Inject) { .flags = 0x10 }), ==, ST_INVALID);
    g_assert_cmphex(inject(qts, &(Inject) { .flags = 1ULL << 63 }), ==,
                    ST_INVALID);
    g_assert_cmphex(inject(qts, &(Inject) {
        .flags = INJ_FATAL, .fatal_en = 2 }), ==, ST_INVALID);
    g_assert_cmphex(inject(qts, &(Inject) {
        .flags = INJ_SPARES, .spare_en = 1, .spares = 101 }), ==, ST_INVALID);
    /* a bad call changes nothing, not even the valid parts */
    g_assert_cmphex(inject(qts, &(Inject) {
        .flags = INJ_SPARES | INJ_FATAL, .spare_en = 1, .spares = 50,
        .fatal_en = 7 }), ==, ST_INVALID);
    s = get_smart(qts);
    g_assert_cmpuint(s.spares, ==, 5);
    g_assert_cmphex(s.health, ==, HEALTH_FATAL);

    /* uninject each: real values come back, the count stays */
    g_assert_cmphex(inject(qts, &(Inject) {
        .flags = INJ_MTEMP | INJ_SPARES | INJ_FATAL | INJ_UNSAFE }), ==, 0);
    s = get_smart(qts);
    g_assert_cmpuint(s.media_temp, ==, TEMP(25));
    g_assert_cmpuint(s.spares, ==, 100);
    g_assert_cmpuint(s.health, ==, 0);
    g_assert_cmpuint(s.alarm, ==, 0);
    g_assert_cmpuint(s.shutdown_state, ==, 0);
    g_assert_cmpuint(s.shutdown_count, ==, 1);
    qtest_quit(qts);
    unlink(file);
}

static void test_nvdimm_n_kill_latch(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start_on(file);

    g_assert_cmphex(latch(qts, 1), ==, ST_SUCCESS);
    g_assert_cmphex(latch(qts, 2), ==, ST_INVALID);
    g_assert_cmphex(latch(qts, 0xff), ==, ST_INVALID);
    /* unlatched: this run's unsafe end is not counted */
    g_assert_cmphex(latch(qts, 0), ==, ST_SUCCESS);
    kill_hard(qts);

    qts = start_on(file);
    g_assert_cmpuint(get_smart(qts).shutdown_count, ==, 0);
    /* every start latches again */
    kill_hard(qts);
    qts = start_on(file);
    g_assert_cmpuint(get_smart(qts).shutdown_count, ==, 1);
    qtest_quit(qts);
    unlink(file);
}

/* Everything set through the DSMs survives a restart on the same file. */
static void test_persistence(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts = start_on(file);
    Smart s;
    Thresh t;

    g_assert_cmphex(set_thresh(qts, ALARM_SPARES, 40, TEMP(70), TEMP(75)),
                    ==, 0);
    g_assert_cmphex(inject(qts, &(Inject) {
        .flags = INJ_SPARES | INJ_MTEMP, .spare_en = 1, .spares = 33,
        .mtemp_en = 1, .mtemp = TEMP(44) }), ==, 0);
    qtest_quit(qts);

    qts = start_on(file);
    s = get_smart(qts);
    t = get_thresh(qts);
    g_assert_cmpuint(s.spares, ==, 33);
    g_assert_cmpuint(s.media_temp, ==, TEMP(44));
    g_assert_cmphex(s.alarm, ==, ALARM_SPARES);
    g_assert_cmpuint(s.shutdown_state, ==, 0);
    g_assert_cmpuint(s.shutdown_count, ==, 0);
    g_assert_cmphex(t.alarm_control, ==, ALARM_SPARES);
    g_assert_cmpuint(t.spares, ==, 40);
    g_assert_cmpuint(t.media_temp, ==, TEMP(70));
    g_assert_cmpuint(t.ctrl_temp, ==, TEMP(75));
    /* and the uninject then returns to the real value */
    g_assert_cmphex(inject(qts, &(Inject) { .flags = INJ_SPARES }), ==, 0);
    g_assert_cmpuint(get_smart(qts).spares, ==, 100);
    qtest_quit(qts);
    unlink(file);
}

static void test_nvdimm_n_kill_dirty(gconstpointer data)
{
    const char *machine = data;
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    QTestState *qts;
    Smart s;

    /* a fresh module, then an orderly quit: nothing counted */
    qts = start_nvn(machine, file, ",nvdimm-n=on");
    g_assert_cmpuint(get_smart(qts).shutdown_count, ==, 0);
    qtest_quit(qts);
    qts = start_nvn(machine, file, ",nvdimm-n=on");
    s = get_smart(qts);
    g_assert_cmpuint(s.shutdown_count, ==, 0);
    g_assert_cmpuint(s.shutdown_state, ==, 0);

    /* killed: the next start reports dirty, count + 1 */
    kill_hard(qts);
    qts = start_nvn(machine, file, ",nvdimm-n=on");
    s = get_smart(qts);
    g_assert_cmpuint(s.shutdown_count, ==, 1);
    g_assert_cmpuint(s.shutdown_state, ==, 1);
    qtest_quit(qts);

    /* an orderly quit after it: clean again, the count stays */
    qts = start_nvn(machine, file, ",nvdimm-n=on");
    s = get_smart(qts);
    g_assert_cmpuint(s.shutdown_count, ==, 1);
    g_assert_cmpuint(s.shutdown_state, ==, 0);
    kill_hard(qts);
    qts = start_nvn(machine, file, ",nvdimm-n=on");
    g_assert_cmpuint(get_smart(qts).shutdown_count, ==, 2);
    qtest_quit(qts);
    unlink(file);
}

/* Read the generation of both copies; -1 for an invalid one. */
static int64_t copy_generation(const uint8_t *area, unsigned i)
{
    const uint8_t *rec = area + i * STATE_COPY_SIZE;

    if (ldq_le_p(rec + REC_MAGIC) != STATE_MAGIC) {
        return -1;
    }
    return ldq_le_p(rec + REC_GENERATION);
}

static void read_area(const char *file, uint8_t *area)
{
    int fd = open(file, O_RDONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, area, STATE_AREA_SIZE, STATE_OFFSET), ==,
                    STATE_AREA_SIZE);
    close(fd);
}

static void write_byte(const char *file, off_t off, uint8_t val)
{
    int fd = open(file, O_WRONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, &val, 1, off), ==, 1);
    close(fd);
}

/*
 * Tear the newest copy (as a kill in the middle of writing it would): the
 * previous copy is used, so what was set before that write survives.
 */
static void test_torn_copy(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    g_autofree uint8_t *area = g_malloc(STATE_AREA_SIZE);
    QTestState *qts = start_on(file);
    int64_t g0, g1;
    unsigned newest;
    Smart s;

    g_assert_cmphex(inject(qts, &(Inject) {
        .flags = INJ_SPARES, .spare_en = 1, .spares = 42 }), ==, 0);
    qtest_quit(qts);

    /* both copies are valid, generations one apart */
    read_area(file, area);
    g0 = copy_generation(area, 0);
    g1 = copy_generation(area, 1);
    g_assert_cmpint(g0, >, 0);
    g_assert_cmpint(g1, >, 0);
    g_assert_cmpint(ABS(g0 - g1), ==, 1);
    newest = g1 > g0;
    g_assert_cmpuint(area[newest * STATE_COPY_SIZE + REC_SPARES], ==, 100);

    /* flip a byte of the newest (the clean mark written at quit) */
    write_byte(file, STATE_OFFSET + newest * STATE_COPY_SIZE + REC_SPARES,
               area[newest * STATE_COPY_SIZE + REC_SPARES] ^ 0xff);
    qts = start_on(file);
    s = get_smart(qts);
    /* the injection (older copy) is there; its run never ended cleanly */
    g_assert_cmpuint(s.spares, ==, 42);
    g_assert_cmpuint(s.shutdown_count, ==, 1);
    qtest_quit(qts);

    /* both copies destroyed: a fresh module, not a crash */
    write_byte(file, STATE_OFFSET, 0);
    write_byte(file, STATE_OFFSET + STATE_COPY_SIZE, 0);
    qts = start_on(file);
    s = get_smart(qts);
    g_assert_cmpuint(s.spares, ==, 100);
    g_assert_cmpuint(s.shutdown_count, ==, 0);
    qtest_quit(qts);
    unlink(file);
}

/* A read-only backend: state in memory only, no shutdown tracking. */
static void test_readonly(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    g_autofree uint8_t *area = g_malloc(STATE_AREA_SIZE);
    QTestState *qts;
    Smart s;

    qts = qtest_initf("-machine pc,nvdimm=on -m 128M,slots=4,maxmem=1G "
        "-object memory-backend-file,id=m0,share=on,readonly=on,"
        "mem-path=%s,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,slot=0,label-size=%d,unarmed=on,"
        "nvdimm-n=on", file, BACKEND_SIZE, LABEL_SIZE);
    s = get_smart(qts);
    g_assert_cmphex(s.flags, ==, SMART_VALID_NO_SHUTDOWN);
    g_assert_cmpuint(s.shutdown_count, ==, 0);
    /* injection works, in memory */
    g_assert_cmphex(inject(qts, &(Inject) {
        .flags = INJ_SPARES, .spare_en = 1, .spares = 7 }), ==, 0);
    g_assert_cmpuint(get_smart(qts).spares, ==, 7);
    qtest_quit(qts);

    /* and nothing was written */
    read_area(file, area);
    g_assert_cmpint(copy_generation(area, 0), ==, -1);
    g_assert_cmpint(copy_generation(area, 1), ==, -1);
    unlink(file);
}

static uint64_t nvdimm_size(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-memory-devices'}");
    QList *list = qdict_get_qlist(rsp, "return");
    QDict *dev = qobject_to(QDict, qlist_peek(list));
    QDict *info = qdict_get_qdict(dev, "data");
    uint64_t size;

    g_assert_cmpstr(qdict_get_str(dev, "type"), ==, "nvdimm");
    size = qdict_get_int(info, "size");
    qobject_unref(rsp);
    return size;
}

/*
 * nvdimm-n=off is stock: no health functions, the whole backend minus
 * the label area visible; on: the state area is taken from the pmem.
 */
static void test_off_unchanged(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    g_autofree uint8_t *area = g_malloc(STATE_AREA_SIZE);
    QTestState *qts = start_nvn("pc", file, "");
    DsmReply r;

    g_assert_cmphex(dsm_call(qts, HANDLE, 1, FN_QUERY, NULL, 0, &r), ==,
                    MASK_LABELS);
    g_assert_cmphex(dsm_call(qts, HANDLE, 2, FN_QUERY, NULL, 0, &r), ==, 0);
    g_assert_cmphex(dsm_call(qts, HANDLE, 1, FN_SMART, NULL, 0, &r), ==,
                    ST_UNSUPPORTED);
    g_assert_cmphex(dsm_call(qts, HANDLE, 2, FN_INJECT_SMART, NULL, 0, &r),
                    ==, ST_UNSUPPORTED);
    g_assert_cmphex(dsm_call(qts, HANDLE, 1, FN_LATCH_SHUTDOWN, NULL, 0, &r),
                    ==, ST_UNSUPPORTED);
    g_assert_cmpuint(nvdimm_size(qts), ==, BACKEND_SIZE - LABEL_SIZE);
    qtest_quit(qts);
    /* no state written */
    read_area(file, area);
    g_assert_cmpint(copy_generation(area, 0), ==, -1);
    g_assert_cmpint(copy_generation(area, 1), ==, -1);

    qts = start_on(file);
    g_assert_cmpuint(nvdimm_size(qts), ==,
                     BACKEND_SIZE - LABEL_SIZE - STATE_AREA_SIZE);
    qtest_quit(qts);
    unlink(file);
}

/* Without a label area the state area sits at the end of the backend. */
static void test_no_labels(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    g_autofree uint8_t *area = g_malloc(STATE_AREA_SIZE);
    QTestState *qts;
    int fd;

    qts = qtest_initf("-machine q35,nvdimm=on -m 128M,slots=4,maxmem=1G "
        "-object memory-backend-file,id=m0,share=on,mem-path=%s,size=%d "
        "-device nvdimm,id=nv0,memdev=m0,slot=0,nvdimm-n=on",
        file, BACKEND_SIZE);
    g_assert_cmphex(dsm_call(qts, HANDLE, 1, FN_QUERY, NULL, 0,
                             &(DsmReply) {}), ==, MASK_NVN_REV1 & ~0x70);
    g_assert_cmpuint(nvdimm_size(qts), ==, BACKEND_SIZE - STATE_AREA_SIZE);
    qtest_quit(qts);

    fd = open(file, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, area, STATE_AREA_SIZE,
                          BACKEND_SIZE - STATE_AREA_SIZE), ==,
                    STATE_AREA_SIZE);
    close(fd);
    g_assert_cmpint(copy_generation(area, 0), >, 0);
    unlink(file);
}

/*
 * Migration with a shared backend file: the destination reads the state
 * the source left when it starts running, and counts no unsafe shutdown
 * (the run goes on); the source's quit after it does not overwrite it.
 */
static void test_nvdimm_n_kill_migration(void)
{
    g_autofree char *file = make_backing_file(BACKEND_SIZE);
    g_autofree char *tmp = g_dir_make_tmp("nvqemu-nvn-mig-XXXXXX", NULL);
    g_autofree char *sock = g_strdup_printf("%s/mig.sock", tmp);
    g_autofree char *uri = g_strdup_printf("unix:%s", sock);
    g_autofree char *incoming = g_strdup_printf(",nvdimm-n=on -incoming %s",
                                                uri);
    QTestState *src = start_on(file), *dst;
    Smart s;

    g_assert_cmphex(inject(src, &(Inject) {
        .flags = INJ_SPARES, .spare_en = 1, .spares = 33 }), ==, 0);
    dst = start_nvn("pc", file, incoming);
    qtest_qmp_assert_success(src, "{'execute': 'migrate', 'arguments': "
                             "{'uri': %s}}", uri);
    qtest_qmp_eventwait(dst, "RESUME");
    s = get_smart(dst);
    g_assert_cmpuint(s.spares, ==, 33);
    g_assert_cmpuint(s.shutdown_count, ==, 0);
    g_assert_cmpuint(s.shutdown_state, ==, 0);
    qtest_quit(src);
    /* the destination is the live run: killing it counts */
    kill_hard(dst);
    dst = start_on(file);
    s = get_smart(dst);
    g_assert_cmpuint(s.spares, ==, 33);
    g_assert_cmpuint(s.shutdown_count, ==, 1);
    qtest_quit(dst);
    unlink(file);
    unlink(sock);
    rmdir(tmp);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/nvqemu/nvdimm-n/query", test_query);
    qtest_add_func("/nvqemu/nvdimm-n/smart-defaults", test_smart_defaults);
    qtest_add_func("/nvqemu/nvdimm-n/thresholds", test_thresholds);
    qtest_add_func("/nvqemu/nvdimm-n/inject", test_inject);
    qtest_add_func("/nvqemu/nvdimm-n/latch", test_nvdimm_n_kill_latch);
    qtest_add_func("/nvqemu/nvdimm-n/persistence", test_persistence);
    qtest_add_data_func("/nvqemu/nvdimm-n/dirty-shutdown/pc", "pc",
                        test_nvdimm_n_kill_dirty);
    qtest_add_data_func("/nvqemu/nvdimm-n/dirty-shutdown/q35", "q35",
                        test_nvdimm_n_kill_dirty);
    qtest_add_func("/nvqemu/nvdimm-n/torn-copy", test_torn_copy);
    qtest_add_func("/nvqemu/nvdimm-n/readonly", test_readonly);
    qtest_add_func("/nvqemu/nvdimm-n/off-unchanged", test_off_unchanged);
    qtest_add_func("/nvqemu/nvdimm-n/no-labels", test_no_labels);
    qtest_add_func("/nvqemu/nvdimm-n/migration", test_nvdimm_n_kill_migration);
    return g_test_run();
}
