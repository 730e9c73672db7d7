/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM-N: media errors -- the root device's Address Range Scrub,
 * Clear Uncorrectable Error and error-injection functions (ACPI 6.5
 * 9.20.7), and the poison they report.
 *
 * Poison: per DIMM, a sorted list of disjoint ranges (DIMM offsets, whole
 * NVDIMM_ARS_CLEAR_UNIT units), kept in the DIMM's state area so that it
 * survives restarts.  QEMU does not make poisoned memory fault (there is no
 * machine check): the guest learns of poison through ARS, as it would from
 * a real platform's scrub, and Linux then refuses to read those sectors.
 *
 * Address translation: each NVDIMM is one SPA Range in the NFIT, not
 * interleaved, so an SPA range of the guest maps to one DIMM and an offset
 * into it.  A range that is not wholly inside one NVDIMM-N's SPA range is
 * invalid input; one on an NVDIMM without nvdimm-n=on is not supported
 * (Linux then marks that range as not scrubbable).
 *
 * Scrub (one for the machine, as on a platform): Start ARS records the
 * range and, unless it asks for previous data only (a "short" scrub, which
 * completes at once), completes NVDIMM_ARS_SCRUB_NS of virtual time later.
 * Query ARS Status reports "in progress" until then, and afterwards the
 * poison inside the scrubbed range as it is at the time of the query.  The
 * scrub state is reset with the machine ("no ARS this boot") and is not
 * migrated: after a migration the guest's next query gets "no ARS" and
 * starts over.  Host poison changes need no VMState either: they live in
 * the backend.
 *
 * Clear Uncorrectable Error removes the poison and zeroes the cleared bytes
 * (the spec leaves their contents undefined; zero is what a later read
 * returns, on every backend).  ARS Error Inject Clear removes injected
 * poison and leaves the data alone.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "system/reset.h"
#include "hw/mem/nvdimm.h"
#include "hw/mem/nvdimm-ars.h"
#include "hw/mem/nvdimm-state.h"
#include "qemu/nvdimm-utils.h"
#include "nvdimm-internal.h"
#include "trace.h"

/* How long a full (not "previous data") scrub runs, in virtual time. */
#define NVDIMM_ARS_SCRUB_NS (100 * SCALE_MS)
/* What Start ARS tells the guest the scrub takes, in seconds (>= 1). */
#define NVDIMM_ARS_SCRUB_ESTIMATE_S 1

QEMU_BUILD_BUG_ON(NVDIMM_ARS_CLEAR_UNIT & (NVDIMM_ARS_CLEAR_UNIT - 1));
/* Linux and ndctl clear and inject whole 512-byte sectors */
#define NVDIMM_ARS_GUEST_SECTOR 512
QEMU_BUILD_BUG_ON(NVDIMM_ARS_GUEST_SECTOR % NVDIMM_ARS_CLEAR_UNIT);

/* Query ARS Status output size we announce: header and a page of records */
#define NVDIMM_ARS_STATUS_OUT_MAX                                           \
    (sizeof(NvdimmArsStatusOut) +                                           \
     NVDIMM_ARS_MAX_RECORDS * sizeof(NvdimmArsRecord))
QEMU_BUILD_BUG_ON(NVDIMM_ARS_STATUS_OUT_MAX > NVDIMM_DSM_OUT_MAX);

/* out_length of Query ARS Status counts from itself (after the status). */
#define NVDIMM_ARS_STATUS_LEN(n)                                            \
    (sizeof(NvdimmArsStatusOut) - sizeof(uint32_t) +                        \
     (n) * sizeof(NvdimmArsRecord))

#define NVDIMM_ARS_TYPE_ALL                                                 \
    (NVDIMM_ARS_TYPE_VOLATILE | NVDIMM_ARS_TYPE_PERSISTENT)
#define NVDIMM_ARS_START_FLAGS_ALL                                          \
    (NVDIMM_ARS_START_FLAG_NO_NOTIFY | NVDIMM_ARS_START_FLAG_PREV_DATA)

/* The scrub's lifecycle. */
typedef enum NvdimmArsState {
    NVDIMM_ARS_IDLE,            /* none since the machine started or reset */
    NVDIMM_ARS_RUNNING,         /* until done_at */
    NVDIMM_ARS_DONE,            /* results: the poison in the range */
} NvdimmArsState;

typedef struct NvdimmArs {
    NvdimmArsState state;
    uint64_t address;           /* scrubbed SPA range */
    uint64_t length;
    uint16_t type;              /* as the guest asked */
    int64_t done_at;            /* QEMU_CLOCK_VIRTUAL, ns */
} NvdimmArs;

/* ------------------------------------------------------------------------ */
/* Host API (include/hw/mem/nvdimm-ars.h)                                   */

/* An NVDIMM-N (nvdimm-n=on) has a state area, and so a poison list. */
static bool nvdimm_ars_has_state(const NVDIMMDevice *nvdimm)
{
    return nvdimm->nvdimm_n && nvdimm->state;
}

/*
 * The pmem the SPA range describes: with nvdimm-n=on nvdimm_mr is a
 * container that also holds the flush hint page (nvdimm-flush-hint.c)
 */
uint64_t nvdimm_ars_pmem_size(NVDIMMDevice *nvdimm)
{
    return nvdimm->nvdimm_mr ? memory_region_size(&nvdimm->pmem_mr) : 0;
}

static bool nvdimm_ars_plugged(const NVDIMMDevice *nvdimm)
{
    return DEVICE(nvdimm)->realized && nvdimm->nvdimm_mr &&
           PC_DIMM(nvdimm)->slot >= 0;
}

/*
 * Check that [@offset, @offset + @length) is a non-empty range of @nvdimm's
 * persistent memory, and widen it to whole units.
 */
static bool nvdimm_ars_host_range(NVDIMMDevice *nvdimm, uint64_t *offset,
                                  uint64_t *length, Error **errp)
{
    uint64_t size = nvdimm_ars_pmem_size(nvdimm);
    const char *id = DEVICE(nvdimm)->id ?: "(no id)";

    if (!nvdimm_ars_has_state(nvdimm)) {
        error_setg(errp, "nvdimm '%s' has no media error model: set '"
                   NVDIMM_NVDIMM_N_PROP "=on'", id);
        return false;
    }
    if (!nvdimm_ars_plugged(nvdimm)) {
        error_setg(errp, "nvdimm '%s' is not plugged", id);
        return false;
    }
    if (!*length || *length > size || *offset > size - *length) {
        error_setg(errp, "range offset 0x%" PRIx64 " length 0x%" PRIx64
                   " is empty or not within nvdimm '%s' (0x%" PRIx64
                   " bytes)", *offset, *length, id, size);
        return false;
    }
    /* the pmem size is a multiple of the backend alignment, so of the unit */
    *length = ROUND_UP(*offset + *length, NVDIMM_ARS_CLEAR_UNIT);
    *offset = ROUND_DOWN(*offset, NVDIMM_ARS_CLEAR_UNIT);
    *length = MIN(*length, size) - *offset;
    return true;
}

/*
 * Add (@poison) or remove the unit-aligned range [@offset, @offset +
 * @length) of @nvdimm to or from its poison list in the state area, named
 * @op in traces.  Fails with -ENOSPC when the list is full (nothing
 * changed), another negative errno when the state area could not be made
 * durable (the change is in effect).
 */
static int64_t nvdimm_ars_poison_change(NVDIMMDevice *nvdimm, bool poison,
                                     uint64_t offset, uint64_t length,
                                     const char *op, Error **errp)
{
    int64_t ret = poison
        ? nvdimm_state_poison_add(nvdimm->state, offset, length)
        : nvdimm_state_poison_clear(nvdimm->state, offset, length);

    trace_nvdimm_ars_poison(nvdimm_handle(nvdimm), op, offset, length,
                            nvdimm_state_poison_count(nvdimm->state));
    if (ret == -ENOSPC) {
        error_setg(errp, "nvdimm '%s': the poison list is full (%d ranges)",
                   DEVICE(nvdimm)->id ?: "(no id)", NVDIMM_STATE_POISON_MAX);
    } else if (ret < 0) {
        error_setg_errno(errp, -ret, "nvdimm '%s': poison list not stored",
                         DEVICE(nvdimm)->id ?: "(no id)");
    }
    return ret;
}

bool nvdimm_ars_inject(NVDIMMDevice *nvdimm, uint64_t offset,
                       uint64_t length, bool notify, Error **errp)
{
    int64_t ret;

    if (!nvdimm_ars_host_range(nvdimm, &offset, &length, errp)) {
        return false;
    }
    ret = nvdimm_ars_poison_change(nvdimm, true, offset, length, "inject",
                                   errp);
    /* in effect unless the list was full, even when not durable */
    if (notify && ret != -ENOSPC) {
        nvdimm_events_uc_error(NULL);
    }
    return ret >= 0;
}

bool nvdimm_ars_uninject(NVDIMMDevice *nvdimm, uint64_t offset,
                         uint64_t length, Error **errp)
{
    return nvdimm_ars_host_range(nvdimm, &offset, &length, errp) &&
           nvdimm_ars_poison_change(nvdimm, false, offset, length,
                                    "uninject", errp) >= 0;
}

void nvdimm_ars_poison_foreach(NVDIMMDevice *nvdimm, NvdimmArsPoisonFn *fn,
                               void *opaque)
{
    unsigned n = nvdimm->state ? nvdimm_state_poison_count(nvdimm->state) : 0;
    uint64_t offset, length;

    for (unsigned i = 0; i < n; i++) {
        if (nvdimm_state_poison_get(nvdimm->state, i, &offset, &length)) {
            fn(offset, length, opaque);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* SPA ranges -> DIMMs                                                      */

bool nvdimm_ars_available(void)
{
    /* Linux reads the root's functions once, when its NVDIMM bus appears */
    if (nvdimm_events_nvdimm_n_default()) {
        return true;
    }

    for (const GSList *l = nvdimm_realized_list(); l; l = l->next) {
        NVDIMMDevice *nvdimm = l->data;

        if (nvdimm_ars_has_state(nvdimm) && nvdimm_ars_plugged(nvdimm)) {
            return true;
        }
    }
    return false;
}

/*
 * The plugged NVDIMM whose SPA range holds all of [@spa, @spa + @length),
 * with @offset set to where it starts in it; NULL if there is none or the
 * range is empty.
 */
static NVDIMMDevice *nvdimm_ars_spa_to_dimm(uint64_t spa, uint64_t length,
                                            uint64_t *offset)
{
    if (!length) {
        return NULL;
    }
    for (const GSList *l = nvdimm_realized_list(); l; l = l->next) {
        NVDIMMDevice *nvdimm = l->data;
        uint64_t base = PC_DIMM(nvdimm)->addr;
        uint64_t size = nvdimm_ars_pmem_size(nvdimm);

        if (!nvdimm_ars_plugged(nvdimm) || spa < base) {
            continue;
        }
        if (length <= size && spa - base <= size - length) {
            *offset = spa - base;
            return nvdimm;
        }
    }
    return NULL;
}

/* Every ranged input starts with the same {address, length}. */
QEMU_BUILD_BUG_ON(offsetof(NvdimmArsStartIn, address) !=
                  offsetof(NvdimmArsRangeIn, address) ||
                  offsetof(NvdimmArsStartIn, length) !=
                  offsetof(NvdimmArsRangeIn, length));
QEMU_BUILD_BUG_ON(offsetof(NvdimmArsInjectIn, address) !=
                  offsetof(NvdimmArsRangeIn, address) ||
                  offsetof(NvdimmArsInjectIn, length) !=
                  offsetof(NvdimmArsRangeIn, length));

/*
 * Decode the SPA range the input starts with into @spa and @length and
 * find its NVDIMM-N and the @offset there; on failure answer with the
 * status and return NULL.
 */
static NVDIMMDevice *nvdimm_ars_dsm_range(const NvdimmDsmCall *call,
                                          NvdimmDsmReply *reply,
                                          uint64_t *spa_out,
                                          uint64_t *length_out,
                                          uint64_t *offset)
{
    uint64_t spa = ldq_le_p(call->arg + offsetof(NvdimmArsRangeIn, address));
    uint64_t length = ldq_le_p(call->arg +
                               offsetof(NvdimmArsRangeIn, length));
    NVDIMMDevice *nvdimm = nvdimm_ars_spa_to_dimm(spa, length, offset);

    if (!nvdimm) {
        nvdimm_dsm_fail(call, reply, NVDIMM_ARS_STATUS_INVALID_INPUT,
                        "SPA range 0x%" PRIx64 " length 0x%" PRIx64
                        " is empty or not within one NVDIMM", spa, length);
        return NULL;
    }
    if (!nvdimm_ars_has_state(nvdimm)) {
        nvdimm_dsm_fail(call, reply, NVDIMM_ARS_STATUS_UNSUPPORTED,
                        "SPA range 0x%" PRIx64 " is on NVDIMM handle 0x%"
                        PRIx32 ", which has nvdimm-n=off", spa,
                        nvdimm_handle(nvdimm));
        return NULL;
    }
    *spa_out = spa;
    *length_out = length;
    return nvdimm;
}

/* ------------------------------------------------------------------------ */
/* The scrub                                                                */

static void nvdimm_ars_reset(void *opaque)
{
    NvdimmArs *ars = opaque;

    *ars = (NvdimmArs) { .state = NVDIMM_ARS_IDLE };
}

static NvdimmArs *nvdimm_ars_get(NVDIMMState *s)
{
    if (!s->ars) {
        s->ars = g_new0(NvdimmArs, 1);
        nvdimm_ars_reset(s->ars);
        qemu_register_reset(nvdimm_ars_reset, s->ars);
    }
    return s->ars;
}

/* Move a running scrub to done when its time has come. */
static void nvdimm_ars_update(NvdimmArs *ars)
{
    if (ars->state == NVDIMM_ARS_RUNNING &&
        qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) >= ars->done_at) {
        ars->state = NVDIMM_ARS_DONE;
        trace_nvdimm_ars_scrub_done(ars->address, ars->length);
    }
}

static uint32_t nvdimm_ars_status_word(NvdimmArsStatus status, uint16_t ext)
{
    return status | (uint32_t)ext << NVDIMM_ARS_EXT_SHIFT;
}

void nvdimm_ars_dsm_cap(NVDIMMState *s, const NvdimmDsmCall *call,
                        NvdimmDsmReply *reply)
{
    uint64_t spa, len;
    uint64_t offset;
    NvdimmArsCapOut out = {
        /* our SPA ranges are all persistent memory */
        .status = cpu_to_le32(nvdimm_ars_status_word(
            NVDIMM_ARS_STATUS_SUCCESS, NVDIMM_ARS_CAP_EXT_PERSISTENT)),
        .max_status_out = cpu_to_le32(NVDIMM_ARS_STATUS_OUT_MAX),
        .clear_unit = cpu_to_le32(NVDIMM_ARS_CLEAR_UNIT),
    };

    if (!nvdimm_ars_dsm_range(call, reply, &spa, &len, &offset)) {
        return;
    }
    trace_nvdimm_ars_cap(spa, len, NVDIMM_ARS_STATUS_OUT_MAX,
                         NVDIMM_ARS_CLEAR_UNIT);
    nvdimm_dsm_reply_data(reply, &out, sizeof(out));
}

void nvdimm_ars_dsm_start(NVDIMMState *s, const NvdimmDsmCall *call,
                          NvdimmDsmReply *reply)
{
    NvdimmArs *ars = nvdimm_ars_get(s);
    uint64_t spa, len;
    uint16_t type = lduw_le_p(call->arg + offsetof(NvdimmArsStartIn, type));
    uint8_t flags = call->arg[offsetof(NvdimmArsStartIn, flags)];
    bool prev_data = flags & NVDIMM_ARS_START_FLAG_PREV_DATA;
    NvdimmArsStartOut out = {
        .status = cpu_to_le32(NVDIMM_ARS_STATUS_SUCCESS),
        .scrub_time = cpu_to_le32(prev_data ? 0 : NVDIMM_ARS_SCRUB_ESTIMATE_S),
    };
    uint64_t offset;

    if (!(type & NVDIMM_ARS_TYPE_PERSISTENT) || (type & ~NVDIMM_ARS_TYPE_ALL)) {
        nvdimm_dsm_fail(call, reply, NVDIMM_ARS_STATUS_INVALID_INPUT,
                        "ARS type 0x%x: persistent memory (0x%x) is the only"
                        " type there is", type, NVDIMM_ARS_TYPE_PERSISTENT);
        return;
    }
    if (flags & ~NVDIMM_ARS_START_FLAGS_ALL) {
        nvdimm_dsm_fail(call, reply, NVDIMM_ARS_STATUS_INVALID_INPUT,
                        "Start ARS flags 0x%x: unknown bits", flags);
        return;
    }
    if (!nvdimm_ars_dsm_range(call, reply, &spa, &len, &offset)) {
        return;
    }
    nvdimm_ars_update(ars);
    if (ars->state == NVDIMM_ARS_RUNNING) {
        nvdimm_dsm_fail(call, reply,
                        nvdimm_ars_status_word(
                            NVDIMM_ARS_STATUS_FUNCTION_SPECIFIC,
                            NVDIMM_ARS_START_EXT_IN_PROGRESS),
                        "a scrub of 0x%" PRIx64 " length 0x%" PRIx64
                        " is in progress", ars->address, ars->length);
        return;
    }
    *ars = (NvdimmArs) {
        .state = prev_data ? NVDIMM_ARS_DONE : NVDIMM_ARS_RUNNING,
        .address = spa,
        .length = len,
        .type = type,
        .done_at = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                   (prev_data ? 0 : NVDIMM_ARS_SCRUB_NS),
    };
    trace_nvdimm_ars_start(spa, len, type, flags);
    nvdimm_dsm_reply_data(reply, &out, sizeof(out));
}

/*
 * The records of a finished scrub: the poison of its DIMM inside its range,
 * at most a page of them, and where to restart when there are more.
 * Returns how many were written to @records.
 */
static uint32_t nvdimm_ars_records(const NvdimmArs *ars,
                                   NvdimmArsStatusOut *out,
                                   NvdimmArsRecord *records)
{
    uint64_t end = ars->address + ars->length;
    uint64_t offset, length, base;
    NVDIMMDevice *nvdimm;
    uint32_t n = 0;

    /* the DIMM may have gone since the start: then nothing to report */
    nvdimm = nvdimm_ars_spa_to_dimm(ars->address, ars->length, &offset);
    if (!nvdimm || !nvdimm_ars_has_state(nvdimm)) {
        return 0;
    }
    base = PC_DIMM(nvdimm)->addr;
    for (unsigned i = 0; i < nvdimm_state_poison_count(nvdimm->state); i++) {
        uint64_t lo, hi;

        if (!nvdimm_state_poison_get(nvdimm->state, i, &offset, &length)) {
            break;
        }
        lo = MAX(base + offset, ars->address);
        hi = MIN(base + offset + length, end);
        if (lo >= hi) {
            continue;
        }
        if (n == NVDIMM_ARS_MAX_RECORDS) {
            /* the guest continues with a scrub of the rest */
            out->flags = cpu_to_le16(NVDIMM_ARS_STATUS_FLAG_OVERFLOW);
            out->restart_address = cpu_to_le64(lo);
            out->restart_length = cpu_to_le64(end - lo);
            break;
        }
        records[n++] = (NvdimmArsRecord) {
            .handle = cpu_to_le32(nvdimm_handle(nvdimm)),
            .address = cpu_to_le64(lo),
            .length = cpu_to_le64(hi - lo),
        };
    }
    return n;
}

void nvdimm_ars_dsm_status(NVDIMMState *s, const NvdimmDsmCall *call,
                           NvdimmDsmReply *reply)
{
    NvdimmArs *ars = nvdimm_ars_get(s);
    NvdimmArsRecord *records =
        (NvdimmArsRecord *)(reply->page.data + sizeof(NvdimmArsStatusOut));
    NvdimmArsStatusOut out = {
        .address = cpu_to_le64(ars->address),
        .length = cpu_to_le64(ars->length),
        .type = cpu_to_le16(ars->type),
    };
    uint32_t n = 0;

    nvdimm_ars_update(ars);
    switch (ars->state) {
    case NVDIMM_ARS_IDLE:
        out.status = cpu_to_le32(nvdimm_ars_status_word(
            NVDIMM_ARS_STATUS_SUCCESS, NVDIMM_ARS_STATUS_EXT_NONE));
        break;
    case NVDIMM_ARS_RUNNING:
        out.status = cpu_to_le32(nvdimm_ars_status_word(
            NVDIMM_ARS_STATUS_SUCCESS, NVDIMM_ARS_STATUS_EXT_IN_PROGRESS));
        break;
    case NVDIMM_ARS_DONE:
        out.status = cpu_to_le32(nvdimm_ars_status_word(
            NVDIMM_ARS_STATUS_SUCCESS, NVDIMM_ARS_STATUS_EXT_DONE));
        n = nvdimm_ars_records(ars, &out, records);
        break;
    }
    out.out_length = cpu_to_le32(NVDIMM_ARS_STATUS_LEN(n));
    out.num_records = cpu_to_le32(n);
    trace_nvdimm_ars_status(ars->state, ars->address, ars->length, n,
                            le16_to_cpu(out.flags));
    memcpy(reply->page.data, &out, sizeof(out));
    reply->used = sizeof(out) + n * sizeof(NvdimmArsRecord);
}

/* The host could not record a poison change: not the guest's fault. */
static void nvdimm_ars_dsm_store_failed(NVDIMMDevice *nvdimm,
                                        NvdimmDsmReply *reply, Error *err)
{
    trace_nvdimm_ars_store_failed(nvdimm_handle(nvdimm),
                                  error_get_pretty(err));
    error_free(err);
    nvdimm_dsm_reply_status(reply, NVDIMM_ARS_STATUS_HW_ERROR);
}

void nvdimm_ars_dsm_clear_error(NVDIMMState *s, const NvdimmDsmCall *call,
                                NvdimmDsmReply *reply)
{
    uint64_t spa, len;
    Error *err = NULL;
    NVDIMMDevice *nvdimm;
    uint64_t offset;
    MemTxResult res;
    NvdimmArsClearOut out = {
        .status = cpu_to_le32(NVDIMM_ARS_STATUS_SUCCESS),
    };

    nvdimm = nvdimm_ars_dsm_range(call, reply, &spa, &len, &offset);
    if (!nvdimm) {
        return;
    }
    /* SPA ranges start on a unit boundary, so the offset is as aligned */
    if (!QEMU_IS_ALIGNED(spa | len, NVDIMM_ARS_CLEAR_UNIT)) {
        nvdimm_dsm_fail(call, reply, NVDIMM_ARS_STATUS_INVALID_INPUT,
                        "clear range 0x%" PRIx64 " length 0x%" PRIx64
                        " is not in units of %d bytes", spa, len,
                        NVDIMM_ARS_CLEAR_UNIT);
        return;
    }
    if (nvdimm_ars_poison_change(nvdimm, false, offset, len, "clear",
                                 &err) < 0) {
        nvdimm_ars_dsm_store_failed(nvdimm, reply, err);
        return;
    }
    /* the cleared data is undefined: make it zero (ROM stays as it is) */
    if (!nvdimm->readonly) {
        res = address_space_set(&address_space_memory, spa, 0, len,
                                MEMTXATTRS_UNSPECIFIED);
        if (res != MEMTX_OK) {
            trace_nvdimm_ars_store_failed(nvdimm_handle(nvdimm),
                                          "zeroing the cleared range failed");
        }
    }
    out.cleared = cpu_to_le64(len);
    nvdimm_dsm_reply_data(reply, &out, sizeof(out));
}

void nvdimm_ars_dsm_inject(NVDIMMState *s, const NvdimmDsmCall *call,
                           NvdimmDsmReply *reply)
{
    uint64_t spa, len;
    uint8_t options = call->arg[offsetof(NvdimmArsInjectIn, options)];
    Error *err = NULL;
    NVDIMMDevice *nvdimm;
    uint64_t offset;

    if (options & ~NVDIMM_ARS_INJECT_OPT_NOTIFY) {
        nvdimm_dsm_fail(call, reply, NVDIMM_ARS_STATUS_INVALID_INPUT,
                        "inject options 0x%x: unknown bits", options);
        return;
    }
    nvdimm = nvdimm_ars_dsm_range(call, reply, &spa, &len, &offset);
    if (!nvdimm) {
        return;
    }
    /*
     * With the notify option a platform raises Notify (NVDR, 0x81), and
     * Linux scrubs at once; without it the guest finds the poison at its
     * next scrub.
     */
    trace_nvdimm_ars_inject(spa, len, options);
    if (!nvdimm_ars_inject(nvdimm, offset, len,
                           options & NVDIMM_ARS_INJECT_OPT_NOTIFY, &err)) {
        nvdimm_ars_dsm_store_failed(nvdimm, reply, err);
        return;
    }
    nvdimm_dsm_reply_status(reply, NVDIMM_ARS_STATUS_SUCCESS);
}

void nvdimm_ars_dsm_inject_clear(NVDIMMState *s, const NvdimmDsmCall *call,
                                 NvdimmDsmReply *reply)
{
    uint64_t spa, len;
    Error *err = NULL;
    NVDIMMDevice *nvdimm;
    uint64_t offset;

    nvdimm = nvdimm_ars_dsm_range(call, reply, &spa, &len, &offset);
    if (!nvdimm) {
        return;
    }
    if (!nvdimm_ars_uninject(nvdimm, offset, len, &err)) {
        nvdimm_ars_dsm_store_failed(nvdimm, reply, err);
        return;
    }
    nvdimm_dsm_reply_status(reply, NVDIMM_ARS_STATUS_SUCCESS);
}

/* Appends each poisoned range of one DIMM as an SPA range. */
typedef struct NvdimmArsInjectList {
    uint64_t base;                  /* the DIMM's SPA */
    NvdimmArsInjectRecord *records;
    uint32_t count;
    bool truncated;
} NvdimmArsInjectList;

static void nvdimm_ars_inject_list_add(uint64_t offset, uint64_t length,
                                       void *opaque)
{
    NvdimmArsInjectList *list = opaque;

    if (list->count == NVDIMM_ARS_MAX_INJECT_RECORDS) {
        list->truncated = true;
        return;
    }
    list->records[list->count++] = (NvdimmArsInjectRecord) {
        .address = cpu_to_le64(list->base + offset),
        .length = cpu_to_le64(length),
    };
}

void nvdimm_ars_dsm_inject_status(NVDIMMState *s, const NvdimmDsmCall *call,
                                  NvdimmDsmReply *reply)
{
    g_autoptr(GSList) dimms = nvdimm_get_device_list();
    NvdimmArsInjectList list = {
        .records = (NvdimmArsInjectRecord *)
            (reply->page.data + sizeof(NvdimmArsInjectStatusOut)),
    };
    NvdimmArsInjectStatusOut out = {
        .status = cpu_to_le32(NVDIMM_ARS_STATUS_SUCCESS),
    };

    for (GSList *l = dimms; l; l = l->next) {
        NVDIMMDevice *nvdimm = l->data;

        if (nvdimm_ars_plugged(nvdimm)) {
            list.base = PC_DIMM(nvdimm)->addr;
            nvdimm_ars_poison_foreach(nvdimm, nvdimm_ars_inject_list_add,
                                      &list);
        }
    }
    out.count = cpu_to_le32(list.count);
    trace_nvdimm_ars_inject_status(list.count, list.truncated);
    memcpy(reply->page.data, &out, sizeof(out));
    reply->used = sizeof(out) + list.count * sizeof(NvdimmArsInjectRecord);
}
