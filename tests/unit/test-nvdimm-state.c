/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the NVDIMM-N state area (hw/mem/nvdimm-state.c) on a
 * buffer standing in for the backend: fresh defaults, the two-copy
 * generations and recovery from a torn copy, dirty-shutdown accounting and
 * the latch, injection, thresholds and alarms, the poison list (merge,
 * split, capacity, persistence) and the change notifiers.
 *
 * The file is included (white box) with its trace points compiled out, so
 * the test needs none of QEMU's trace machinery.
 */
#include "qemu/osdep.h"

/* no trace points: nvdimm-state.c's "trace.h" then defines nothing */
#define TRACE_HW_MEM_GENERATED_TRACERS_H
#define trace_nvdimm_state_copy_invalid(...) do { } while (0)
#define trace_nvdimm_state_copy_valid(...) do { } while (0)
#define trace_nvdimm_state_fresh(...) do { } while (0)
#define trace_nvdimm_state_open(...) do { } while (0)
#define trace_nvdimm_state_clean(...) do { } while (0)
#define trace_nvdimm_state_write(...) do { } while (0)
#define trace_nvdimm_state_changed(...) do { } while (0)
#define trace_nvdimm_state_latch(...) do { } while (0)
#define trace_nvdimm_state_poison_add(...) do { } while (0)
#define trace_nvdimm_state_poison_clear(...) do { } while (0)
#define trace_nvdimm_state_poison_full(...) do { } while (0)

#include "../../../hw/mem/nvdimm-state.c"

/* The backend stand-in, and what the persist hook saw. */
typedef struct FakeBackend {
    uint8_t area[NVDIMM_STATE_AREA_SIZE];
    unsigned persists;
    int persist_ret;
} FakeBackend;

static int fake_persist(void *opaque, void *ptr, size_t size)
{
    FakeBackend *fb = opaque;

    g_assert(ptr >= (void *)fb->area);
    g_assert((uint8_t *)ptr + size <= fb->area + sizeof(fb->area));
    g_assert_cmpuint(size, ==, NVDIMM_STATE_COPY_SIZE);
    fb->persists++;
    return fb->persist_ret;
}

static NvdimmStateArea *open_on(FakeBackend *fb, bool volatile_only)
{
    NvdimmStateBacking b = {
        .area = fb->area,
        .persist = fake_persist,
        .opaque = fb,
        .volatile_only = volatile_only,
        .name = "test",
    };

    return nvdimm_state_open(&b, fb);
}

static uint64_t gen_of(FakeBackend *fb, unsigned i)
{
    const NvdimmStateRecord *r =
        (const NvdimmStateRecord *)(fb->area + i * NVDIMM_STATE_COPY_SIZE);

    return le64_to_cpu(r->magic) == NVDIMM_STATE_MAGIC ?
           le64_to_cpu(r->generation) : 0;
}

static void test_fresh(void)
{
    g_autofree FakeBackend *fb = g_new0(FakeBackend, 1);
    NvdimmStateArea *st = open_on(fb, false);
    NvdimmHealth h;
    NvdimmThresholds t;

    nvdimm_state_get_health(st, &h);
    g_assert_cmpuint(h.health_status, ==, 0);
    g_assert_cmpuint(h.spares, ==, 100);
    g_assert_cmpuint(h.life_used, ==, 0);
    g_assert_cmpint(nvdimm_state_temp_decode(h.media_temp), ==, 25 * 16);
    g_assert_cmpint(nvdimm_state_temp_decode(h.ctrl_temp), ==, 30 * 16);
    g_assert_false(h.shutdown_dirty);
    g_assert_cmpuint(h.shutdown_count, ==, 0);
    g_assert_true(h.persistent);
    g_assert_cmpuint(h.alarm_flags, ==, 0);
    nvdimm_state_get_thresholds(st, &t);
    g_assert_cmphex(t.alarm_control, ==, NVDIMM_SMART_ALARM_MASK);
    g_assert_cmpuint(t.spares, ==, 10);

    /* the "running" mark went to copy 1 as generation 1 */
    g_assert_cmpuint(fb->persists, ==, 1);
    g_assert_cmpuint(gen_of(fb, 0), ==, 0);
    g_assert_cmpuint(gen_of(fb, 1), ==, 1);
    nvdimm_state_mark_clean(st);
    g_assert_cmpuint(gen_of(fb, 0), ==, 2);
    g_assert_cmpuint(gen_of(fb, 1), ==, 1);
    nvdimm_state_close(st);
}

static void test_dirty_shutdown(void)
{
    g_autofree FakeBackend *fb = g_new0(FakeBackend, 1);
    NvdimmStateArea *st;
    NvdimmHealth h;

    /* killed (no mark_clean): counted at the next open */
    nvdimm_state_close(open_on(fb, false));
    st = open_on(fb, false);
    nvdimm_state_get_health(st, &h);
    g_assert_true(h.shutdown_dirty);
    g_assert_cmpuint(h.shutdown_count, ==, 1);
    g_assert_true(nvdimm_state_smart_event(st));
    nvdimm_state_mark_clean(st);
    nvdimm_state_close(st);

    /* orderly: clean, the count kept */
    st = open_on(fb, false);
    nvdimm_state_get_health(st, &h);
    g_assert_false(h.shutdown_dirty);
    g_assert_cmpuint(h.shutdown_count, ==, 1);
    g_assert_true(nvdimm_state_get_shutdown_latch(st));

    /* unlatched and killed: not counted, the last state kept */
    nvdimm_state_set_shutdown_latch(st, false);
    g_assert_false(nvdimm_state_get_shutdown_latch(st));
    nvdimm_state_close(st);
    st = open_on(fb, false);
    nvdimm_state_get_health(st, &h);
    g_assert_false(h.shutdown_dirty);
    g_assert_cmpuint(h.shutdown_count, ==, 1);
    g_assert_true(nvdimm_state_get_shutdown_latch(st));
    nvdimm_state_close(st);
}

static void test_torn_copy(void)
{
    g_autofree FakeBackend *fb = g_new0(FakeBackend, 1);
    NvdimmStateArea *st = open_on(fb, false);     /* gen 1, copy 1 */
    NvdimmHealth h;

    g_assert_cmpint(nvdimm_state_set_life_used(st, 17), ==, 0);  /* gen 2 */
    g_assert_cmpint(nvdimm_state_set_life_used(st, 18), ==, 0);  /* gen 3 */
    nvdimm_state_close(st);
    g_assert_cmpuint(gen_of(fb, 1), ==, 3);

    /* tear generation 3 (copy 1): generation 2 is used */
    fb->area[NVDIMM_STATE_COPY_SIZE + 100] ^= 1;
    st = open_on(fb, false);
    nvdimm_state_get_health(st, &h);
    g_assert_cmpuint(h.life_used, ==, 17);
    /* and the next write goes over the torn copy, not the good one */
    g_assert_cmpuint(gen_of(fb, 1), ==, 3);
    g_assert_cmpuint(st->generation, ==, 3);
    nvdimm_state_close(st);

    /* both torn: defaults */
    fb->area[100] ^= 1;
    fb->area[NVDIMM_STATE_COPY_SIZE + 100] ^= 1;
    st = open_on(fb, false);
    nvdimm_state_get_health(st, &h);
    g_assert_cmpuint(h.life_used, ==, 0);
    g_assert_cmpuint(h.shutdown_count, ==, 0);
    nvdimm_state_close(st);
}

static void test_volatile(void)
{
    g_autofree FakeBackend *fb = g_new0(FakeBackend, 1);
    NvdimmStateArea *st = open_on(fb, true);
    NvdimmHealth h;

    g_assert_cmpint(nvdimm_state_set_spares(st, 50), ==, 0);
    g_assert_cmpint(nvdimm_state_poison_add(st, 0, 512), ==, 0);
    nvdimm_state_get_health(st, &h);
    g_assert_false(h.persistent);
    g_assert_cmpuint(h.spares, ==, 50);
    g_assert_false(nvdimm_state_is_persistent(st));
    g_assert_cmpuint(fb->persists, ==, 0);
    for (size_t i = 0; i < sizeof(fb->area); i++) {
        g_assert_cmpuint(fb->area[i], ==, 0);
    }
    nvdimm_state_mark_clean(st);
    nvdimm_state_close(st);
}

static void test_persist_failure(void)
{
    g_autofree FakeBackend *fb = g_new0(FakeBackend, 1);
    NvdimmStateArea *st = open_on(fb, false);
    NvdimmHealth h;

    fb->persist_ret = -EIO;
    g_assert_cmpint(nvdimm_state_set_spares(st, 60), ==, -EIO);
    nvdimm_state_get_health(st, &h);
    g_assert_cmpuint(h.spares, ==, 60);
    fb->persist_ret = 0;
    nvdimm_state_close(st);
}

static void test_inject_and_alarms(void)
{
    g_autofree FakeBackend *fb = g_new0(FakeBackend, 1);
    NvdimmStateArea *st = open_on(fb, false);
    NvdimmThresholds t = {
        .alarm_control = NVDIMM_SMART_ALARM_MASK,
        .spares = 20,
        .media_temp = nvdimm_state_temp_encode(40 * 16),
        .ctrl_temp = nvdimm_state_temp_encode(50 * 16),
    };
    NvdimmHealth h;

    g_assert_cmpint(nvdimm_state_set_thresholds(st, &t), ==, 0);
    t.alarm_control = 8;
    g_assert_cmpint(nvdimm_state_set_thresholds(st, &t), ==, -EINVAL);
    t.alarm_control = 0;
    t.spares = 101;
    g_assert_cmpint(nvdimm_state_set_thresholds(st, &t), ==, -EINVAL);

    g_assert_cmpint(nvdimm_state_inject_spares(st, true, 20), ==, 0);
    g_assert_cmpint(nvdimm_state_inject_spares(st, true, 101), ==, -EINVAL);
    g_assert_cmpint(nvdimm_state_inject_media_temp(st, true,
                        nvdimm_state_temp_encode(40 * 16)), ==, 0);
    g_assert_cmpint(nvdimm_state_set_ctrl_temp(st,
                        nvdimm_state_temp_encode(-10 * 16)), ==, 0);
    nvdimm_state_get_health(st, &h);
    g_assert_cmphex(h.alarm_flags, ==, NVDIMM_SMART_ALARM_SPARES |
                                       NVDIMM_SMART_ALARM_MEDIA_TEMP);
    g_assert_cmpint(nvdimm_state_temp_decode(h.ctrl_temp), ==, -160);

    g_assert_cmpint(nvdimm_state_inject_fatal(st, true), ==, 0);
    g_assert_cmpint(nvdimm_state_set_health_status(st, 1), ==, 0);
    g_assert_cmpint(nvdimm_state_set_health_status(st, 8), ==, -EINVAL);
    nvdimm_state_get_health(st, &h);
    g_assert_cmphex(h.health_status, ==, 5);

    g_assert_cmpint(nvdimm_state_inject_unsafe_shutdown(st, true), ==, 0);
    nvdimm_state_get_health(st, &h);
    g_assert_true(h.shutdown_dirty);
    g_assert_cmpuint(h.shutdown_count, ==, 1);

    /* injections persist */
    nvdimm_state_mark_clean(st);
    nvdimm_state_close(st);
    st = open_on(fb, false);
    nvdimm_state_get_health(st, &h);
    g_assert_cmpuint(h.spares, ==, 20);
    g_assert_true(h.shutdown_dirty);

    g_assert_cmpint(nvdimm_state_uninject_all(st), ==, 0);
    nvdimm_state_get_health(st, &h);
    g_assert_cmpuint(h.spares, ==, 100);
    g_assert_cmpint(nvdimm_state_temp_decode(h.media_temp), ==, 25 * 16);
    g_assert_cmphex(h.health_status, ==, 1);
    g_assert_false(h.shutdown_dirty);
    g_assert_cmpuint(h.shutdown_count, ==, 1);
    g_assert_cmphex(h.alarm_flags, ==, 0);
    nvdimm_state_close(st);
}

static void test_temp_encoding(void)
{
    g_assert_cmphex(nvdimm_state_temp_encode(25 * 16), ==, 0x190);
    g_assert_cmphex(nvdimm_state_temp_encode(-5 * 16), ==, 0x8050);
    g_assert_cmpint(nvdimm_state_temp_decode(0x8050), ==, -80);
    g_assert_cmphex(nvdimm_state_temp_encode(INT32_MAX), ==, 0x7fff);
    g_assert_cmphex(nvdimm_state_temp_encode(INT32_MIN), ==, 0xffff);
}

static void expect_poison(NvdimmStateArea *st, const uint64_t (*want)[2],
                          unsigned n)
{
    uint64_t off = 0, len = 0;

    g_assert_cmpuint(nvdimm_state_poison_count(st), ==, n);
    for (unsigned i = 0; i < n; i++) {
        g_assert_true(nvdimm_state_poison_get(st, i, &off, &len));
        g_assert_cmphex(off, ==, want[i][0]);
        g_assert_cmphex(len, ==, want[i][1]);
    }
    g_assert_false(nvdimm_state_poison_get(st, n, &off, &len));
}

static void test_poison(void)
{
    g_autofree FakeBackend *fb = g_new0(FakeBackend, 1);
    NvdimmStateArea *st = open_on(fb, false);

    g_assert_cmpint(nvdimm_state_poison_add(st, 0, 0), ==, -EINVAL);
    g_assert_cmpint(nvdimm_state_poison_add(st, UINT64_MAX, 2), ==, -EINVAL);
    g_assert_cmpint(nvdimm_state_poison_add(st, 0x1000, 0x200), ==, 0);
    g_assert_cmpint(nvdimm_state_poison_add(st, 0x3000, 0x200), ==, 0);
    g_assert_cmpint(nvdimm_state_poison_add(st, 0x100, 0x100), ==, 0);
    expect_poison(st, (const uint64_t[][2]) {
        { 0x100, 0x100 }, { 0x1000, 0x200 }, { 0x3000, 0x200 } }, 3);
    /* touching and overlapping ranges merge */
    g_assert_cmpint(nvdimm_state_poison_add(st, 0x1200, 0x1e00), ==, 0);
    expect_poison(st, (const uint64_t[][2]) {
        { 0x100, 0x100 }, { 0x1000, 0x2200 } }, 2);
    g_assert_true(nvdimm_state_poison_overlaps(st, 0x31ff, 1));
    g_assert_false(nvdimm_state_poison_overlaps(st, 0x3200, 0x100));
    g_assert_false(nvdimm_state_poison_overlaps(st, 0, 0x100));
    g_assert_true(nvdimm_state_poison_overlaps(st, 0, UINT64_MAX));

    /* a clear in the middle splits */
    g_assert_cmpint(nvdimm_state_poison_clear(st, 0x2000, 0x200), ==, 0x200);
    expect_poison(st, (const uint64_t[][2]) {
        { 0x100, 0x100 }, { 0x1000, 0x1000 }, { 0x2200, 0x1000 } }, 3);
    /* a clear over nothing clears nothing */
    g_assert_cmpint(nvdimm_state_poison_clear(st, 0x8000, 0x200), ==, 0);
    /* partial overlaps count only the poisoned bytes */
    g_assert_cmpint(nvdimm_state_poison_clear(st, 0, 0x1100), ==, 0x200);
    expect_poison(st, (const uint64_t[][2]) {
        { 0x1100, 0xf00 }, { 0x2200, 0x1000 } }, 2);

    /* persistent */
    nvdimm_state_mark_clean(st);
    nvdimm_state_close(st);
    st = open_on(fb, false);
    expect_poison(st, (const uint64_t[][2]) {
        { 0x1100, 0xf00 }, { 0x2200, 0x1000 } }, 2);

    g_assert_cmpint(nvdimm_state_poison_clear_all(st), ==, 0);
    g_assert_cmpuint(nvdimm_state_poison_count(st), ==, 0);

    /* capacity: then a new range or a split is refused, nothing changed */
    for (unsigned i = 0; i < NVDIMM_STATE_POISON_MAX; i++) {
        g_assert_cmpint(nvdimm_state_poison_add(st, i * 0x1000, 0x200), ==,
                        0);
    }
    g_assert_cmpint(nvdimm_state_poison_add(st, 0x10000000, 0x200), ==,
                    -ENOSPC);
    g_assert_cmpint(nvdimm_state_poison_clear(st, 0x100, 0x10), ==, -ENOSPC);
    g_assert_cmpuint(nvdimm_state_poison_count(st), ==,
                     NVDIMM_STATE_POISON_MAX);
    /* merging into an existing range still works when full */
    g_assert_cmpint(nvdimm_state_poison_add(st, 0x200, 0x100), ==, 0);
    g_assert_cmpuint(nvdimm_state_poison_count(st), ==,
                     NVDIMM_STATE_POISON_MAX);
    /* and a full list survives a reopen */
    nvdimm_state_close(st);
    st = open_on(fb, false);
    g_assert_cmpuint(nvdimm_state_poison_count(st), ==,
                     NVDIMM_STATE_POISON_MAX);
    nvdimm_state_close(st);
}

typedef struct Seen {
    Notifier n;
    unsigned calls;
    unsigned what;
    bool smart_event;
    void *owner;
} Seen;

static void seen_notify(Notifier *n, void *data)
{
    Seen *s = container_of(n, Seen, n);
    NvdimmStateChange *c = data;

    s->calls++;
    s->what = c->what;
    s->smart_event = c->smart_event;
    s->owner = c->owner;
}

static void test_notifiers(void)
{
    g_autofree FakeBackend *fb = g_new0(FakeBackend, 1);
    NvdimmStateArea *st = open_on(fb, false);
    Seen local = { .n.notify = seen_notify };
    Seen global = { .n.notify = seen_notify };

    nvdimm_state_add_notifier(st, &local.n);
    nvdimm_state_add_global_notifier(&global.n);

    g_assert_cmpint(nvdimm_state_inject_spares(st, true, 1), ==, 0);
    g_assert_cmpuint(local.calls, ==, 1);
    g_assert_cmpuint(global.calls, ==, 1);
    g_assert_cmphex(local.what, ==, NVDIMM_STATE_CHANGED_HEALTH);
    g_assert_true(local.smart_event);
    g_assert_true(local.owner == fb);

    g_assert_cmpint(nvdimm_state_poison_add(st, 0, 0x200), ==, 0);
    g_assert_cmphex(global.what, ==, NVDIMM_STATE_CHANGED_POISON);
    /* a refused change notifies nobody */
    g_assert_cmpint(nvdimm_state_set_spares(st, 200), ==, -EINVAL);
    g_assert_cmpuint(local.calls, ==, 2);

    nvdimm_state_remove_notifier(&local.n);
    nvdimm_state_remove_notifier(&global.n);
    g_assert_cmpint(nvdimm_state_inject_spares(st, false, 0), ==, 0);
    g_assert_cmpuint(local.calls, ==, 2);
    g_assert_cmpuint(global.calls, ==, 2);
    g_assert_false(nvdimm_state_smart_event(st));
    nvdimm_state_close(st);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nvdimm-state/fresh", test_fresh);
    g_test_add_func("/nvdimm-state/dirty-shutdown", test_dirty_shutdown);
    g_test_add_func("/nvdimm-state/torn-copy", test_torn_copy);
    g_test_add_func("/nvdimm-state/volatile", test_volatile);
    g_test_add_func("/nvdimm-state/persist-failure", test_persist_failure);
    g_test_add_func("/nvdimm-state/inject-alarms", test_inject_and_alarms);
    g_test_add_func("/nvdimm-state/temperature", test_temp_encoding);
    g_test_add_func("/nvdimm-state/poison", test_poison);
    g_test_add_func("/nvdimm-state/notifiers", test_notifiers);
    return g_test_run();
}
