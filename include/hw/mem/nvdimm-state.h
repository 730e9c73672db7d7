/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM-N: the persistent state of one module (nvdimm-n=on).
 *
 * What a real energy-backed NVDIMM keeps in its controller across power
 * cycles -- SMART health, alarm thresholds, injected faults, the last
 * shutdown state and the unsafe-shutdown count, the poisoned ranges --
 * lives in a reserved "state area" of the NVDIMM's own backend, just below
 * the label area (layout: docs/nvdimm.md, "NVDIMM-N", and
 * hw/mem/nvdimm-state.c).  Two copies with a generation number and a CRC
 * make every update atomic: a torn write or a kill in the middle of one
 * leaves the previous copy, which is then used.
 *
 * This header is the only interface other files use.  All functions run
 * under the BQL (DSM calls, QMP, exit notifiers).  Values are in host
 * order; temperatures use the Intel SMART encoding (nvdimm-spec.h,
 * NVDIMM_SMART_TEMP_*), so they pass to and from the DSM payloads as is;
 * nvdimm_state_temp_encode()/_decode() convert from/to 1/16 degrees C.
 *
 * Setters validate (-EINVAL for a value outside its field), apply, write
 * the new copy (a failed host flush is reported once and returned as -EIO,
 * the new values stay in effect in memory) and then run the change
 * notifiers with an NvdimmStateChange.
 */
#ifndef HW_MEM_NVDIMM_STATE_H
#define HW_MEM_NVDIMM_STATE_H

#include "qemu/notify.h"

typedef struct NvdimmStateArea NvdimmStateArea;

/* Bytes of one copy and of the whole area (two copies). */
#define NVDIMM_STATE_COPY_SIZE 4096
#define NVDIMM_STATE_COPIES 2
#define NVDIMM_STATE_AREA_SIZE (NVDIMM_STATE_COPY_SIZE * NVDIMM_STATE_COPIES)

/* Poisoned ranges one module remembers (fixed by the on-media layout). */
#define NVDIMM_STATE_POISON_MAX 192

/*
 * How a device hands its backend to the state: @persist makes
 * [@ptr, @ptr + @size) of the area durable on the medium and marks it dirty
 * for migration; it returns 0 or a negative errno.  NULL @persist (or
 * @volatile_only) means the state is kept in memory only: read-only or
 * private backends, anonymous RAM.
 */
typedef int (*NvdimmStatePersistFn)(void *opaque, void *ptr, size_t size);

typedef struct NvdimmStateBacking {
    void *area;                     /* host address of the state area */
    NvdimmStatePersistFn persist;
    void *opaque;                   /* for @persist */
    bool volatile_only;             /* never write @area */
    const char *name;               /* memdev id, for messages and traces */
    bool incoming;                  /* migration target: the source's run
                                     * goes on here, nothing is counted */
} NvdimmStateBacking;

/* Health as the guest sees it (injected values applied), host order. */
typedef struct NvdimmHealth {
    uint8_t health_status;          /* NVDIMM_SMART_HEALTH_* bits, 0 = ok */
    uint8_t spares;                 /* percent remaining, 0..100 */
    uint8_t life_used;              /* percent, 0..100 */
    uint8_t alarm_flags;            /* NVDIMM_SMART_ALARM_* tripped now */
    uint16_t media_temp;            /* NVDIMM_SMART_TEMP encoding */
    uint16_t ctrl_temp;             /* NVDIMM_SMART_TEMP encoding */
    bool shutdown_dirty;            /* last shutdown state (or injected) */
    uint32_t shutdown_count;        /* unsafe shutdowns so far */
    bool persistent;                /* false: kept in memory only */
} NvdimmHealth;

/* Alarm enables and thresholds (Intel DSM functions 2 and 17). */
typedef struct NvdimmThresholds {
    uint16_t alarm_control;         /* NVDIMM_SMART_ALARM_* enabled */
    uint8_t spares;                 /* trips at or below, percent */
    uint16_t media_temp;            /* trips at or above, TEMP encoding */
    uint16_t ctrl_temp;             /* trips at or above, TEMP encoding */
} NvdimmThresholds;

/* What changed, for the change notifiers (bits). */
typedef enum NvdimmStateWhat {
    NVDIMM_STATE_CHANGED_HEALTH = 1 << 0,      /* health values/injection */
    NVDIMM_STATE_CHANGED_THRESHOLDS = 1 << 1,  /* alarm enables/thresholds */
    NVDIMM_STATE_CHANGED_SHUTDOWN = 1 << 2,    /* shutdown state/count */
    NVDIMM_STATE_CHANGED_POISON = 1 << 3,      /* poison list */
} NvdimmStateWhat;

/* The data argument of a change notifier. */
typedef struct NvdimmStateChange {
    NvdimmStateArea *state;
    void *owner;                    /* the NVDIMMDevice */
    unsigned what;                  /* NvdimmStateWhat bits */
    bool smart_event;               /* nvdimm_state_smart_event() after it */
} NvdimmStateChange;

/* ------------------------------------------------------------------------ */
/* Life cycle (hw/mem/nvdimm-device.c)                                       */

/*
 * Load the state of @backing (the newest valid copy; defaults when there
 * is none, e.g. a fresh backend), do the dirty-shutdown accounting (a
 * previous run that did not end orderly counts as an unsafe shutdown;
 * not for an incoming migration) and mark this run "running".  @owner is
 * passed to notifiers.
 */
NvdimmStateArea *nvdimm_state_open(const NvdimmStateBacking *backing,
                                   void *owner);
/* Mark the run ended orderly (QEMU exit, device unplug) and persist. */
void nvdimm_state_mark_clean(NvdimmStateArea *st);
/* Release @st (after nvdimm_state_mark_clean() for an orderly end). */
void nvdimm_state_close(NvdimmStateArea *st);

/* Whether updates reach the medium (false: in memory only). */
bool nvdimm_state_is_persistent(const NvdimmStateArea *st);

/* ------------------------------------------------------------------------ */
/* Health (Intel DSM functions 1, 2, 17, 18; QMP)                            */

void nvdimm_state_get_health(const NvdimmStateArea *st, NvdimmHealth *out);
void nvdimm_state_get_thresholds(const NvdimmStateArea *st,
                                 NvdimmThresholds *out);
int nvdimm_state_set_thresholds(NvdimmStateArea *st,
                                const NvdimmThresholds *thr);

/* The module's own ("real") values, which an uninject returns to. */
int nvdimm_state_set_health_status(NvdimmStateArea *st, uint8_t status);
int nvdimm_state_set_spares(NvdimmStateArea *st, uint8_t spares);
int nvdimm_state_set_life_used(NvdimmStateArea *st, uint8_t life_used);
int nvdimm_state_set_media_temp(NvdimmStateArea *st, uint16_t temp);
int nvdimm_state_set_ctrl_temp(NvdimmStateArea *st, uint16_t temp);

/*
 * Injection (Intel DSM function 18): @enable overrides the real value with
 * the one given, !@enable restores the real value (the value is ignored).
 * Injecting an unsafe shutdown reports the last shutdown dirty and counts
 * one more unsafe shutdown; uninjecting it restores the real shutdown
 * state and keeps the count.  Injecting fatal sets the fatal health bit.
 */
int nvdimm_state_inject_media_temp(NvdimmStateArea *st, bool enable,
                                   uint16_t temp);
int nvdimm_state_inject_spares(NvdimmStateArea *st, bool enable,
                               uint8_t spares);
int nvdimm_state_inject_fatal(NvdimmStateArea *st, bool enable);
int nvdimm_state_inject_unsafe_shutdown(NvdimmStateArea *st, bool enable);
/* Undo every injection at once. */
int nvdimm_state_uninject_all(NvdimmStateArea *st);

/*
 * Whether the module should tell the guest about its health (Notify 0x81):
 * an enabled alarm is tripped, health is not ok, or the shutdown is dirty.
 */
bool nvdimm_state_smart_event(const NvdimmStateArea *st);

/*
 * Latch System Shutdown status (Intel DSM function 10): while latched
 * (the default at every start), an end of this run without an orderly exit
 * is counted at the next start; unlatched, it is not.
 */
void nvdimm_state_set_shutdown_latch(NvdimmStateArea *st, bool latch);
bool nvdimm_state_get_shutdown_latch(const NvdimmStateArea *st);

/* Conversions for the temperature encoding (1/16 degree C units). */
uint16_t nvdimm_state_temp_encode(int32_t sixteenths);
int32_t nvdimm_state_temp_decode(uint16_t temp);

/* ------------------------------------------------------------------------ */
/* Poison list (ARS, clear error, error injection; QMP)                      */

/*
 * Ranges are byte offsets in the module's guest-visible pmem
 * (device physical addresses), kept sorted and merged.
 *
 * add: mark [@offset, @offset + @length) poisoned; -EINVAL for an empty or
 * overflowing range, -ENOSPC when the list is full (nothing changed).
 * clear: forget every poisoned byte in the range; returns the number of
 * poisoned bytes forgotten (>= 0) or -ENOSPC when splitting a range would
 * overflow the list (nothing changed).
 */
int nvdimm_state_poison_add(NvdimmStateArea *st, uint64_t offset,
                            uint64_t length);
int64_t nvdimm_state_poison_clear(NvdimmStateArea *st, uint64_t offset,
                                  uint64_t length);
/* Forget all poison. */
int nvdimm_state_poison_clear_all(NvdimmStateArea *st);
unsigned nvdimm_state_poison_count(const NvdimmStateArea *st);
/* Range @i (0 <= @i < count); false when @i is out of range. */
bool nvdimm_state_poison_get(const NvdimmStateArea *st, unsigned i,
                             uint64_t *offset, uint64_t *length);
/* Whether any byte of [@offset, @offset + @length) is poisoned. */
bool nvdimm_state_poison_overlaps(const NvdimmStateArea *st, uint64_t offset,
                                  uint64_t length);

/* ------------------------------------------------------------------------ */
/* Change notification                                                        */

/*
 * @n->notify(n, NvdimmStateChange *) runs after every successful change,
 * whoever made it (guest DSM, QMP, start-up accounting).
 */
void nvdimm_state_add_notifier(NvdimmStateArea *st, Notifier *n);
/* The same for every module, present and hot-plugged later. */
void nvdimm_state_add_global_notifier(Notifier *n);
/* Either kind. */
void nvdimm_state_remove_notifier(Notifier *n);

#endif /* HW_MEM_NVDIMM_STATE_H */
