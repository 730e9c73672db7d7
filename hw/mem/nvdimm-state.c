/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM-N: the persistent state area of one module.
 *
 * On-media layout (ours, not a standard; docs/nvdimm.md "NVDIMM-N"):
 * NVDIMM_STATE_COPIES copies of NvdimmStateRecord, NVDIMM_STATE_COPY_SIZE
 * bytes each, back to back.  Every update writes a whole record with the
 * next generation number into the copy that does not hold the current
 * one, and makes it durable; loading takes the valid copy (magic, version,
 * size, CRC-32C) with the highest generation.  A torn write therefore
 * damages only the copy being written, and the previous state survives.
 *
 * Pure with respect to the device: it is handed a host pointer and a
 * persist callback (NvdimmStateBacking) and calls nothing above it.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/crc32c.h"
#include "qemu/error-report.h"
#include "hw/acpi/nvdimm-spec.h"
#include "hw/mem/nvdimm-state.h"
#include "trace.h"

/* "NVQSTATE" as a little-endian u64. */
#define NVDIMM_STATE_MAGIC 0x4554415453514e56ULL
#define NVDIMM_STATE_VERSION 1

/* NvdimmStateRecord.run_state */
enum {
    NVDIMM_STATE_RUN_CLEAN = 0,     /* the last run ended orderly */
    NVDIMM_STATE_RUN_RUNNING = 1,   /* a run is (or was, if killed) live */
};

/* One poisoned range, on media. */
typedef struct QEMU_PACKED NvdimmStatePoison {
    uint64_t offset;
    uint64_t length;
} NvdimmStatePoison;
QEMU_BUILD_BUG_ON(sizeof(NvdimmStatePoison) != 16);

/*
 * One copy of the state, little-endian on media.  Byte offsets in the
 * comments; the CRC covers the whole record with the crc field as 0.
 */
typedef struct QEMU_PACKED NvdimmStateRecord {
    uint64_t magic;                     /*   0: NVDIMM_STATE_MAGIC */
    uint32_t version;                   /*   8: NVDIMM_STATE_VERSION */
    uint32_t size;                      /*  12: NVDIMM_STATE_COPY_SIZE */
    uint64_t generation;                /*  16: newest copy wins */
    uint32_t crc;                       /*  24: CRC-32C */
    uint32_t rsvd28;                    /*  28 */
    /* the module's real health */
    uint8_t health_status;              /*  32: NVDIMM_SMART_HEALTH_* */
    uint8_t spares;                     /*  33: percent */
    uint8_t life_used;                  /*  34: percent */
    uint8_t run_state;                  /*  35: NVDIMM_STATE_RUN_* */
    uint16_t media_temp;                /*  36: NVDIMM_SMART_TEMP_* */
    uint16_t ctrl_temp;                 /*  38 */
    /* dirty-shutdown accounting */
    uint32_t shutdown_count;            /*  40 */
    uint8_t last_shutdown_dirty;        /*  44: as of this run's start */
    uint8_t run_latched;                /*  45: this run's end is counted */
    /* injections (Intel DSM function 18) */
    uint8_t inject_flags;               /*  46: NVDIMM_SMART_INJECT_* set */
    uint8_t inject_spares;              /*  47 */
    uint16_t inject_media_temp;         /*  48 */
    /* alarms (Intel DSM functions 2 and 17) */
    uint16_t alarm_control;             /*  50: NVDIMM_SMART_ALARM_* */
    uint16_t thresh_media_temp;         /*  52 */
    uint16_t thresh_ctrl_temp;          /*  54 */
    uint8_t thresh_spares;              /*  56 */
    uint8_t rsvd57[3];                  /*  57 */
    /* poison list, sorted by offset, merged */
    uint32_t poison_count;              /*  60 */
    NvdimmStatePoison poison[NVDIMM_STATE_POISON_MAX]; /* 64 */
    uint8_t rsvd_end[NVDIMM_STATE_COPY_SIZE - 64 -
                     NVDIMM_STATE_POISON_MAX * sizeof(NvdimmStatePoison)];
} NvdimmStateRecord;
QEMU_BUILD_BUG_ON(sizeof(NvdimmStateRecord) != NVDIMM_STATE_COPY_SIZE);
QEMU_BUILD_BUG_ON(offsetof(NvdimmStateRecord, poison) != 64);

/* Defaults of a fresh module: healthy, cool, all alarms enabled. */
#define NVDIMM_STATE_DEFAULT_SPARES 100
#define NVDIMM_STATE_DEFAULT_MEDIA_TEMP_C 25
#define NVDIMM_STATE_DEFAULT_CTRL_TEMP_C 30
#define NVDIMM_STATE_DEFAULT_THRESH_SPARES 10
#define NVDIMM_STATE_DEFAULT_THRESH_MEDIA_TEMP_C 85
#define NVDIMM_STATE_DEFAULT_THRESH_CTRL_TEMP_C 95

/* The state in host order; the record is built from it on each update. */
typedef struct NvdimmStateData {
    uint8_t health_status;
    uint8_t spares;
    uint8_t life_used;
    uint8_t run_state;
    uint16_t media_temp;
    uint16_t ctrl_temp;
    uint32_t shutdown_count;
    bool last_shutdown_dirty;
    bool run_latched;
    uint8_t inject_flags;
    uint8_t inject_spares;
    uint16_t inject_media_temp;
    NvdimmThresholds thresh;
    uint32_t poison_count;
    NvdimmStatePoison poison[NVDIMM_STATE_POISON_MAX];   /* host order */
} NvdimmStateData;

struct NvdimmStateArea {
    NvdimmStateBacking backing;
    char *name;
    void *owner;
    uint64_t generation;        /* of the newest copy on media (0: none) */
    NvdimmStateData d;
    NotifierList notifiers;
    bool write_warned;          /* a failed flush was reported */
};

static NotifierList nvdimm_state_global_notifiers =
    NOTIFIER_LIST_INITIALIZER(nvdimm_state_global_notifiers);

/* ------------------------------------------------------------------------ */
/* Temperatures                                                              */

uint16_t nvdimm_state_temp_encode(int32_t sixteenths)
{
    uint32_t mag = sixteenths < 0 ? -(int64_t)sixteenths : sixteenths;

    mag = MIN(mag, NVDIMM_SMART_TEMP_MAGNITUDE);
    return (sixteenths < 0 ? NVDIMM_SMART_TEMP_SIGN : 0) | mag;
}

int32_t nvdimm_state_temp_decode(uint16_t temp)
{
    int32_t mag = temp & NVDIMM_SMART_TEMP_MAGNITUDE;

    return temp & NVDIMM_SMART_TEMP_SIGN ? -mag : mag;
}

static uint16_t nvdimm_state_celsius(int32_t c)
{
    return nvdimm_state_temp_encode(c * NVDIMM_SMART_TEMP_SCALE);
}

/* ------------------------------------------------------------------------ */
/* Records                                                                   */

static void nvdimm_state_defaults(NvdimmStateData *d)
{
    memset(d, 0, sizeof(*d));
    d->spares = NVDIMM_STATE_DEFAULT_SPARES;
    d->media_temp = nvdimm_state_celsius(NVDIMM_STATE_DEFAULT_MEDIA_TEMP_C);
    d->ctrl_temp = nvdimm_state_celsius(NVDIMM_STATE_DEFAULT_CTRL_TEMP_C);
    d->run_state = NVDIMM_STATE_RUN_CLEAN;
    d->run_latched = true;
    d->thresh.alarm_control = NVDIMM_SMART_ALARM_MASK;
    d->thresh.spares = NVDIMM_STATE_DEFAULT_THRESH_SPARES;
    d->thresh.media_temp =
        nvdimm_state_celsius(NVDIMM_STATE_DEFAULT_THRESH_MEDIA_TEMP_C);
    d->thresh.ctrl_temp =
        nvdimm_state_celsius(NVDIMM_STATE_DEFAULT_THRESH_CTRL_TEMP_C);
}

/* A poisoned range: non-empty, and its end fits in 64 bits. */
static bool nvdimm_state_range_ok(uint64_t offset, uint64_t length)
{
    return length && offset <= UINT64_MAX - length;
}

static uint32_t nvdimm_state_record_crc(const NvdimmStateRecord *rec)
{
    NvdimmStateRecord tmp = *rec;

    tmp.crc = 0;
    return crc32c(0xffffffff, (const uint8_t *)&tmp, sizeof(tmp));
}

/* Whether @rec is a whole, intact copy; decode it into @d if so. */
static bool nvdimm_state_record_decode(const NvdimmStateRecord *rec,
                                       NvdimmStateData *d, uint64_t *gen,
                                       const char **why)
{
    uint32_t count;

    if (le64_to_cpu(rec->magic) != NVDIMM_STATE_MAGIC) {
        *why = "no state";
        return false;
    }
    if (le32_to_cpu(rec->version) != NVDIMM_STATE_VERSION ||
        le32_to_cpu(rec->size) != NVDIMM_STATE_COPY_SIZE) {
        *why = "unknown version";
        return false;
    }
    if (le32_to_cpu(rec->crc) != nvdimm_state_record_crc(rec)) {
        *why = "checksum mismatch (torn write)";
        return false;
    }
    count = le32_to_cpu(rec->poison_count);
    if (count > NVDIMM_STATE_POISON_MAX) {
        *why = "poison count out of range";
        return false;
    }

    for (uint32_t i = 0; i < count; i++) {
        uint64_t off = le64_to_cpu(rec->poison[i].offset);
        uint64_t len = le64_to_cpu(rec->poison[i].length);

        /* sorted, merged, non-empty, no overflow: what the code keeps */
        if (!nvdimm_state_range_ok(off, len) ||
            (i && off <= le64_to_cpu(rec->poison[i - 1].offset) +
                         le64_to_cpu(rec->poison[i - 1].length))) {
            *why = "poison list malformed";
            return false;
        }
    }

    memset(d, 0, sizeof(*d));
    d->health_status = rec->health_status & NVDIMM_SMART_HEALTH_MASK;
    d->spares = MIN(rec->spares, NVDIMM_SMART_PERCENT_MAX);
    d->life_used = MIN(rec->life_used, NVDIMM_SMART_PERCENT_MAX);
    d->run_state = rec->run_state;
    d->media_temp = le16_to_cpu(rec->media_temp);
    d->ctrl_temp = le16_to_cpu(rec->ctrl_temp);
    d->shutdown_count = le32_to_cpu(rec->shutdown_count);
    d->last_shutdown_dirty = rec->last_shutdown_dirty;
    d->run_latched = rec->run_latched;
    d->inject_flags = rec->inject_flags & NVDIMM_SMART_INJECT_MASK;
    d->inject_spares = MIN(rec->inject_spares, NVDIMM_SMART_PERCENT_MAX);
    d->inject_media_temp = le16_to_cpu(rec->inject_media_temp);
    d->thresh.alarm_control = le16_to_cpu(rec->alarm_control) &
                              NVDIMM_SMART_ALARM_MASK;
    d->thresh.media_temp = le16_to_cpu(rec->thresh_media_temp);
    d->thresh.ctrl_temp = le16_to_cpu(rec->thresh_ctrl_temp);
    d->thresh.spares = MIN(rec->thresh_spares, NVDIMM_SMART_PERCENT_MAX);
    d->poison_count = count;
    for (uint32_t i = 0; i < count; i++) {
        d->poison[i].offset = le64_to_cpu(rec->poison[i].offset);
        d->poison[i].length = le64_to_cpu(rec->poison[i].length);
    }
    *gen = le64_to_cpu(rec->generation);
    return true;
}

static void nvdimm_state_record_encode(const NvdimmStateData *d, uint64_t gen,
                                       NvdimmStateRecord *rec)
{
    memset(rec, 0, sizeof(*rec));
    rec->magic = cpu_to_le64(NVDIMM_STATE_MAGIC);
    rec->version = cpu_to_le32(NVDIMM_STATE_VERSION);
    rec->size = cpu_to_le32(NVDIMM_STATE_COPY_SIZE);
    rec->generation = cpu_to_le64(gen);
    rec->health_status = d->health_status;
    rec->spares = d->spares;
    rec->life_used = d->life_used;
    rec->run_state = d->run_state;
    rec->media_temp = cpu_to_le16(d->media_temp);
    rec->ctrl_temp = cpu_to_le16(d->ctrl_temp);
    rec->shutdown_count = cpu_to_le32(d->shutdown_count);
    rec->last_shutdown_dirty = d->last_shutdown_dirty;
    rec->run_latched = d->run_latched;
    rec->inject_flags = d->inject_flags;
    rec->inject_spares = d->inject_spares;
    rec->inject_media_temp = cpu_to_le16(d->inject_media_temp);
    rec->alarm_control = cpu_to_le16(d->thresh.alarm_control);
    rec->thresh_media_temp = cpu_to_le16(d->thresh.media_temp);
    rec->thresh_ctrl_temp = cpu_to_le16(d->thresh.ctrl_temp);
    rec->thresh_spares = d->thresh.spares;
    rec->poison_count = cpu_to_le32(d->poison_count);
    for (uint32_t i = 0; i < d->poison_count; i++) {
        rec->poison[i].offset = cpu_to_le64(d->poison[i].offset);
        rec->poison[i].length = cpu_to_le64(d->poison[i].length);
    }
    rec->crc = cpu_to_le32(nvdimm_state_record_crc(rec));
}

static NvdimmStateRecord *nvdimm_state_copy(NvdimmStateArea *st, unsigned i)
{
    return (NvdimmStateRecord *)((uint8_t *)st->backing.area +
                                 i * NVDIMM_STATE_COPY_SIZE);
}

/* The copy that generation @gen goes to. */
static unsigned nvdimm_state_slot(uint64_t gen)
{
    return gen % NVDIMM_STATE_COPIES;
}

/* Load the newest intact copy into st->d; false if there is none. */
static bool nvdimm_state_load(NvdimmStateArea *st)
{
    bool found = false;

    for (unsigned i = 0; i < NVDIMM_STATE_COPIES; i++) {
        g_autofree NvdimmStateRecord *rec = g_new(NvdimmStateRecord, 1);
        g_autofree NvdimmStateData *d = g_new(NvdimmStateData, 1);
        const char *why = NULL;
        uint64_t gen;

        memcpy(rec, nvdimm_state_copy(st, i), sizeof(*rec));
        if (!nvdimm_state_record_decode(rec, d, &gen, &why)) {
            trace_nvdimm_state_copy_invalid(st->name, i, why);
            continue;
        }
        trace_nvdimm_state_copy_valid(st->name, i, gen);
        if (!found || gen > st->generation) {
            st->d = *d;
            st->generation = gen;
            found = true;
        }
    }
    return found;
}

/*
 * Write st->d as the next generation and make it durable: 0, or -EIO if
 * the host could not flush it (reported once; the state stays in memory).
 */
static int nvdimm_state_write(NvdimmStateArea *st)
{
    g_autofree NvdimmStateRecord *rec = NULL;
    uint64_t gen = st->generation + 1;
    NvdimmStateRecord *dst;
    int ret = 0;

    if (st->backing.volatile_only) {
        return 0;
    }
    rec = g_new(NvdimmStateRecord, 1);
    nvdimm_state_record_encode(&st->d, gen, rec);
    dst = nvdimm_state_copy(st, nvdimm_state_slot(gen));
    memcpy(dst, rec, sizeof(*rec));
    if (st->backing.persist) {
        ret = st->backing.persist(st->backing.opaque, dst, sizeof(*dst));
    }
    /* the copy is in the area either way: later updates build on it */
    st->generation = gen;
    trace_nvdimm_state_write(st->name, gen, nvdimm_state_slot(gen), ret);
    if (ret < 0) {
        warn_report_once_cond(&st->write_warned, "nvdimm: memdev '%s': the "
                              "NVDIMM-N state could not be flushed to the "
                              "backend: %s (reported once)", st->name,
                              strerror(-ret));
        return -EIO;
    }
    return 0;
}

static void nvdimm_state_notify(NvdimmStateArea *st, unsigned what)
{
    NvdimmStateChange change = {
        .state = st,
        .owner = st->owner,
        .what = what,
        .smart_event = nvdimm_state_smart_event(st),
    };

    trace_nvdimm_state_changed(st->name, what, change.smart_event);
    notifier_list_notify(&st->notifiers, &change);
    notifier_list_notify(&nvdimm_state_global_notifiers, &change);
}

/* Persist the new st->d and tell the notifiers. */
static int nvdimm_state_commit(NvdimmStateArea *st, unsigned what)
{
    int ret = nvdimm_state_write(st);

    nvdimm_state_notify(st, what);
    return ret;
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                                */

NvdimmStateArea *nvdimm_state_open(const NvdimmStateBacking *backing,
                                   void *owner)
{
    NvdimmStateArea *st = g_new0(NvdimmStateArea, 1);
    NvdimmStateData *d = &st->d;

    st->backing = *backing;
    st->name = g_strdup(backing->name ? backing->name : "?");
    st->backing.name = st->name;
    st->owner = owner;
    notifier_list_init(&st->notifiers);

    if (!nvdimm_state_load(st)) {
        /* a fresh module (or one whose state cannot be read) */
        nvdimm_state_defaults(d);
        st->generation = 0;
        trace_nvdimm_state_fresh(st->name);
    } else if (backing->incoming) {
        /* the source's run continues: its accounting stands */
    } else if (d->run_state == NVDIMM_STATE_RUN_RUNNING) {
        /* the last run did not reach an orderly exit */
        if (d->run_latched) {
            d->last_shutdown_dirty = true;
            d->shutdown_count++;
        }
    } else {
        d->last_shutdown_dirty = false;
    }
    trace_nvdimm_state_open(st->name, st->generation, d->last_shutdown_dirty,
                            d->shutdown_count, !backing->volatile_only);

    d->run_state = NVDIMM_STATE_RUN_RUNNING;
    d->run_latched = true;
    nvdimm_state_write(st);
    return st;
}

void nvdimm_state_mark_clean(NvdimmStateArea *st)
{
    st->d.run_state = NVDIMM_STATE_RUN_CLEAN;
    nvdimm_state_write(st);
    trace_nvdimm_state_clean(st->name, st->generation);
}

void nvdimm_state_close(NvdimmStateArea *st)
{
    if (!st) {
        return;
    }
    g_free(st->name);
    g_free(st);
}

bool nvdimm_state_is_persistent(const NvdimmStateArea *st)
{
    return !st->backing.volatile_only;
}

/* ------------------------------------------------------------------------ */
/* Health                                                                    */

/* Which enabled alarms are tripped by @h against @t (nfit_test's rule). */
static uint8_t nvdimm_state_alarms(const NvdimmHealth *h,
                                   const NvdimmThresholds *t)
{
    uint8_t alarms = 0;

    if ((t->alarm_control & NVDIMM_SMART_ALARM_SPARES) &&
        h->spares <= t->spares) {
        alarms |= NVDIMM_SMART_ALARM_SPARES;
    }
    if ((t->alarm_control & NVDIMM_SMART_ALARM_MEDIA_TEMP) &&
        nvdimm_state_temp_decode(h->media_temp) >=
        nvdimm_state_temp_decode(t->media_temp)) {
        alarms |= NVDIMM_SMART_ALARM_MEDIA_TEMP;
    }
    if ((t->alarm_control & NVDIMM_SMART_ALARM_CTRL_TEMP) &&
        nvdimm_state_temp_decode(h->ctrl_temp) >=
        nvdimm_state_temp_decode(t->ctrl_temp)) {
        alarms |= NVDIMM_SMART_ALARM_CTRL_TEMP;
    }
    return alarms;
}

void nvdimm_state_get_health(const NvdimmStateArea *st, NvdimmHealth *out)
{
    const NvdimmStateData *d = &st->d;

    memset(out, 0, sizeof(*out));
    out->health_status = d->health_status;
    if (d->inject_flags & NVDIMM_SMART_INJECT_FATAL) {
        out->health_status |= NVDIMM_SMART_HEALTH_FATAL;
    }
    out->spares = d->inject_flags & NVDIMM_SMART_INJECT_SPARES ?
                  d->inject_spares : d->spares;
    out->life_used = d->life_used;
    out->media_temp = d->inject_flags & NVDIMM_SMART_INJECT_MEDIA_TEMP ?
                      d->inject_media_temp : d->media_temp;
    out->ctrl_temp = d->ctrl_temp;
    out->shutdown_dirty = d->last_shutdown_dirty ||
        (d->inject_flags & NVDIMM_SMART_INJECT_UNSAFE_SHUTDOWN);
    out->shutdown_count = d->shutdown_count;
    out->persistent = nvdimm_state_is_persistent(st);
    out->alarm_flags = nvdimm_state_alarms(out, &d->thresh);
}

void nvdimm_state_get_thresholds(const NvdimmStateArea *st,
                                 NvdimmThresholds *out)
{
    *out = st->d.thresh;
}

static bool nvdimm_state_percent_ok(uint8_t v)
{
    return v <= NVDIMM_SMART_PERCENT_MAX;
}

int nvdimm_state_set_thresholds(NvdimmStateArea *st,
                                const NvdimmThresholds *thr)
{
    if (thr->alarm_control & ~NVDIMM_SMART_ALARM_MASK ||
        !nvdimm_state_percent_ok(thr->spares)) {
        return -EINVAL;
    }
    st->d.thresh = *thr;
    return nvdimm_state_commit(st, NVDIMM_STATE_CHANGED_THRESHOLDS);
}

int nvdimm_state_set_health_status(NvdimmStateArea *st, uint8_t status)
{
    if (status & ~NVDIMM_SMART_HEALTH_MASK) {
        return -EINVAL;
    }
    st->d.health_status = status;
    return nvdimm_state_commit(st, NVDIMM_STATE_CHANGED_HEALTH);
}

int nvdimm_state_set_spares(NvdimmStateArea *st, uint8_t spares)
{
    if (!nvdimm_state_percent_ok(spares)) {
        return -EINVAL;
    }
    st->d.spares = spares;
    return nvdimm_state_commit(st, NVDIMM_STATE_CHANGED_HEALTH);
}

int nvdimm_state_set_life_used(NvdimmStateArea *st, uint8_t life_used)
{
    if (!nvdimm_state_percent_ok(life_used)) {
        return -EINVAL;
    }
    st->d.life_used = life_used;
    return nvdimm_state_commit(st, NVDIMM_STATE_CHANGED_HEALTH);
}

int nvdimm_state_set_media_temp(NvdimmStateArea *st, uint16_t temp)
{
    st->d.media_temp = temp;
    return nvdimm_state_commit(st, NVDIMM_STATE_CHANGED_HEALTH);
}

int nvdimm_state_set_ctrl_temp(NvdimmStateArea *st, uint16_t temp)
{
    st->d.ctrl_temp = temp;
    return nvdimm_state_commit(st, NVDIMM_STATE_CHANGED_HEALTH);
}

static void nvdimm_state_set_inject(NvdimmStateArea *st, uint8_t flag,
                                    bool enable)
{
    if (enable) {
        st->d.inject_flags |= flag;
    } else {
        st->d.inject_flags &= ~flag;
    }
}

int nvdimm_state_inject_media_temp(NvdimmStateArea *st, bool enable,
                                   uint16_t temp)
{
    nvdimm_state_set_inject(st, NVDIMM_SMART_INJECT_MEDIA_TEMP, enable);
    st->d.inject_media_temp = enable ? temp : 0;
    return nvdimm_state_commit(st, NVDIMM_STATE_CHANGED_HEALTH);
}

int nvdimm_state_inject_spares(NvdimmStateArea *st, bool enable,
                               uint8_t spares)
{
    if (enable && !nvdimm_state_percent_ok(spares)) {
        return -EINVAL;
    }
    nvdimm_state_set_inject(st, NVDIMM_SMART_INJECT_SPARES, enable);
    st->d.inject_spares = enable ? spares : 0;
    return nvdimm_state_commit(st, NVDIMM_STATE_CHANGED_HEALTH);
}

int nvdimm_state_inject_fatal(NvdimmStateArea *st, bool enable)
{
    nvdimm_state_set_inject(st, NVDIMM_SMART_INJECT_FATAL, enable);
    return nvdimm_state_commit(st, NVDIMM_STATE_CHANGED_HEALTH);
}

int nvdimm_state_inject_unsafe_shutdown(NvdimmStateArea *st, bool enable)
{
    unsigned what = NVDIMM_STATE_CHANGED_SHUTDOWN;

    if (enable) {
        /* as if the module had just seen one: it counts */
        st->d.shutdown_count++;
    }
    nvdimm_state_set_inject(st, NVDIMM_SMART_INJECT_UNSAFE_SHUTDOWN, enable);
    return nvdimm_state_commit(st, what);
}

int nvdimm_state_uninject_all(NvdimmStateArea *st)
{
    st->d.inject_flags = 0;
    st->d.inject_spares = 0;
    st->d.inject_media_temp = 0;
    return nvdimm_state_commit(st, NVDIMM_STATE_CHANGED_HEALTH |
                                   NVDIMM_STATE_CHANGED_SHUTDOWN);
}

bool nvdimm_state_smart_event(const NvdimmStateArea *st)
{
    NvdimmHealth h;

    nvdimm_state_get_health(st, &h);
    return h.alarm_flags || h.health_status || h.shutdown_dirty;
}

void nvdimm_state_set_shutdown_latch(NvdimmStateArea *st, bool latch)
{
    st->d.run_latched = latch;
    nvdimm_state_write(st);
    trace_nvdimm_state_latch(st->name, latch);
}

bool nvdimm_state_get_shutdown_latch(const NvdimmStateArea *st)
{
    return st->d.run_latched;
}

/* ------------------------------------------------------------------------ */
/* Poison list                                                               */

/* End of a range; callers checked that it does not overflow. */
static uint64_t nvdimm_state_poison_end(const NvdimmStatePoison *p)
{
    return p->offset + p->length;
}

int nvdimm_state_poison_add(NvdimmStateArea *st, uint64_t offset,
                            uint64_t length)
{
    NvdimmStateData *d = &st->d;
    g_autofree NvdimmStatePoison *out = NULL;
    NvdimmStatePoison add = { .offset = offset, .length = length };
    uint32_t n = 0, i = 0;

    if (!nvdimm_state_range_ok(offset, length)) {
        return -EINVAL;
    }
    out = g_new(NvdimmStatePoison, NVDIMM_STATE_POISON_MAX + 1);
    /* ranges wholly before the new one */
    for (; i < d->poison_count &&
           nvdimm_state_poison_end(&d->poison[i]) < add.offset; i++) {
        out[n++] = d->poison[i];
    }
    /* ranges that overlap or touch it merge into it */
    for (; i < d->poison_count &&
           d->poison[i].offset <= nvdimm_state_poison_end(&add); i++) {
        uint64_t start = MIN(add.offset, d->poison[i].offset);
        uint64_t end = MAX(nvdimm_state_poison_end(&add),
                           nvdimm_state_poison_end(&d->poison[i]));

        add.offset = start;
        add.length = end - start;
    }
    out[n++] = add;
    for (; i < d->poison_count; i++) {
        out[n++] = d->poison[i];
    }
    if (n > NVDIMM_STATE_POISON_MAX) {
        trace_nvdimm_state_poison_full(st->name, offset, length);
        return -ENOSPC;
    }
    memcpy(d->poison, out, n * sizeof(*out));
    d->poison_count = n;
    trace_nvdimm_state_poison_add(st->name, offset, length, n);
    return nvdimm_state_commit(st, NVDIMM_STATE_CHANGED_POISON);
}

int64_t nvdimm_state_poison_clear(NvdimmStateArea *st, uint64_t offset,
                                  uint64_t length)
{
    NvdimmStateData *d = &st->d;
    g_autofree NvdimmStatePoison *out = NULL;
    uint64_t end, cleared = 0;
    uint32_t n = 0;
    int ret;

    if (!nvdimm_state_range_ok(offset, length)) {
        return -EINVAL;
    }
    end = offset + length;
    /* each range can split in two: room for one more than the maximum */
    out = g_new(NvdimmStatePoison, NVDIMM_STATE_POISON_MAX + 1);
    for (uint32_t i = 0; i < d->poison_count; i++) {
        const NvdimmStatePoison *p = &d->poison[i];
        uint64_t p_end = nvdimm_state_poison_end(p);

        if (p_end <= offset || p->offset >= end) {
            out[n++] = *p;
            continue;
        }
        cleared += MIN(p_end, end) - MAX(p->offset, offset);
        if (p->offset < offset) {
            out[n++] = (NvdimmStatePoison) {
                .offset = p->offset, .length = offset - p->offset,
            };
        }
        if (p_end > end) {
            out[n++] = (NvdimmStatePoison) {
                .offset = end, .length = p_end - end,
            };
        }
    }
    if (n > NVDIMM_STATE_POISON_MAX) {
        trace_nvdimm_state_poison_full(st->name, offset, length);
        return -ENOSPC;
    }
    trace_nvdimm_state_poison_clear(st->name, offset, length, cleared, n);
    if (!cleared) {
        return 0;
    }
    memcpy(d->poison, out, n * sizeof(*out));
    d->poison_count = n;
    ret = nvdimm_state_commit(st, NVDIMM_STATE_CHANGED_POISON);
    return ret < 0 ? ret : (int64_t)cleared;
}

int nvdimm_state_poison_clear_all(NvdimmStateArea *st)
{
    trace_nvdimm_state_poison_clear(st->name, 0, UINT64_MAX, 0, 0);
    if (!st->d.poison_count) {
        return 0;
    }
    st->d.poison_count = 0;
    return nvdimm_state_commit(st, NVDIMM_STATE_CHANGED_POISON);
}

unsigned nvdimm_state_poison_count(const NvdimmStateArea *st)
{
    return st->d.poison_count;
}

bool nvdimm_state_poison_get(const NvdimmStateArea *st, unsigned i,
                             uint64_t *offset, uint64_t *length)
{
    if (i >= st->d.poison_count) {
        return false;
    }
    *offset = st->d.poison[i].offset;
    *length = st->d.poison[i].length;
    return true;
}

bool nvdimm_state_poison_overlaps(const NvdimmStateArea *st, uint64_t offset,
                                  uint64_t length)
{
    uint64_t end;

    if (!length) {
        return false;
    }
    end = offset > UINT64_MAX - length ? UINT64_MAX : offset + length;
    for (uint32_t i = 0; i < st->d.poison_count; i++) {
        const NvdimmStatePoison *p = &st->d.poison[i];

        if (p->offset < end && nvdimm_state_poison_end(p) > offset) {
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Notifiers                                                                 */

void nvdimm_state_add_notifier(NvdimmStateArea *st, Notifier *n)
{
    notifier_list_add(&st->notifiers, n);
}

void nvdimm_state_add_global_notifier(Notifier *n)
{
    notifier_list_add(&nvdimm_state_global_notifiers, n);
}

void nvdimm_state_remove_notifier(Notifier *n)
{
    notifier_remove(n);
}
