/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM-N: health events (ACPI 6.5 section 5.6.6, NVDIMM device
 * notification 0x81 "NVDIMM Health Event").
 *
 * When a module's state changes (guest DSM 17/18, QMP, start-up
 * accounting) and it then has something to report (an enabled alarm
 * tripped, health not ok, last shutdown dirty: nvdimm_state_smart_event()),
 * the module is marked pending and the machine's NVDIMM GPE is raised --
 * the same GPE (ACPI_NVDIMM_HOTPLUG_STATUS) hot-plug uses.  The DSDT's
 * handler for it does Notify (\_SB.NVDR, 0x80) as it always did, and then,
 * when the tables were built with an NVDIMM-N module present, calls the
 * SSDT's NEVT, which asks QEMU root function 2 for the pending slots
 * (reading clears them) and sends Notify (NVxx, 0x81) to each.  Linux's
 * nfit driver turns that into a sysfs notification on nmemX/nfit/flags,
 * which wakes `ndctl monitor`.
 *
 * New poison (ARS Error Inject with the notify option, QMP
 * nvdimm-inject-poison) takes the same path for the root device: a root
 * event is marked pending, the GPE raised, and NEVT, seeing the root bit in
 * function 2's answer, sends Notify (\_SB.NVDR, 0x81) ("Unconsumed
 * Uncorrectable Memory Error Detected"), on which Linux's nfit driver
 * starts an ARS of its own (short: previous data) and adds what it reports
 * to the badblocks lists.
 *
 * The rule (a notification after every change that leaves an event to
 * report) is the one Linux's nfit_test mock follows, and what ndctl's
 * monitor test expects: monitor re-reads function 1 and filters itself.
 */
#include "qemu/osdep.h"
#include "hw/acpi/acpi_dev_interface.h"
#include "hw/boards.h"
#include "hw/qdev-properties.h"
#include "qapi/util.h"
#include "hw/mem/nvdimm.h"
#include "qemu/bitops.h"
#include "qemu/bswap.h"
#include "system/reset.h"
#include "nvdimm-internal.h"
#include "trace.h"

/* Changes that can start or renew a health event. */
#define NVDIMM_EVENTS_WHAT (NVDIMM_STATE_CHANGED_HEALTH |     \
                            NVDIMM_STATE_CHANGED_THRESHOLDS | \
                            NVDIMM_STATE_CHANGED_SHUTDOWN)

QEMU_BUILD_BUG_ON(ACPI_MAX_RAM_SLOTS > NVDIMM_EVENT_SLOTS);

static void nvdimm_events_changed(Notifier *n, void *data)
{
    NVDIMMState *s = container_of(n, NVDIMMState, health_notifier);
    const NvdimmStateChange *change = data;
    NVDIMMDevice *nvdimm = change->owner;

    if (!change->smart_event || !(change->what & NVDIMM_EVENTS_WHAT) ||
        !nvdimm || PC_DIMM(nvdimm)->slot < 0) {
        return;
    }
    nvdimm->health_event_pending = true;
    /* before the first plug (start-up accounting) there is no guest yet */
    trace_nvdimm_health_event(nvdimm_handle(nvdimm), change->what,
                              s->acpi_dev != NULL);
    if (s->acpi_dev) {
        acpi_send_event(s->acpi_dev, ACPI_NVDIMM_HOTPLUG_STATUS);
    }
}

/*
 * A reset forgets the root's pending event, as the GPE it rode on: the
 * guest that boots scrubs anyway.  It also makes a snapshot's load
 * (a reset, then the state) end with the snapshot's mark, which the
 * "nvqemu-nvdimm-n/root" subsection ORs in.  A module's pending health
 * event stays: its own section carries it.
 */
static void nvdimm_events_reset(void *opaque)
{
    NVDIMMState *s = opaque;

    s->uc_error_pending = false;
}

void nvdimm_events_init(NVDIMMState *s)
{
    s->health_notifier.notify = nvdimm_events_changed;
    nvdimm_state_add_global_notifier(&s->health_notifier);
    qemu_register_reset(nvdimm_events_reset, s);
}

void nvdimm_events_set_acpi_dev(NVDIMMState *s, DeviceState *acpi_dev)
{
    s->acpi_dev = acpi_dev;
}

void nvdimm_events_uc_error(NVDIMMState *s)
{
    if (!s) {
        s = MACHINE(qdev_get_machine())->nvdimms_state;
    }
    if (!s) {
        return;
    }
    s->uc_error_pending = true;
    trace_nvdimm_uc_error_event(s->acpi_dev != NULL);
    if (s->acpi_dev) {
        acpi_send_event(s->acpi_dev, ACPI_NVDIMM_HOTPLUG_STATUS);
    }
}

void nvdimm_dsm_health_events(NVDIMMState *s, const NvdimmDsmCall *call,
                              NvdimmDsmReply *reply)
{
    NvdimmDsmHealthEventsOut out = {
        .status = cpu_to_le32(NVDIMM_DSM_STATUS_SUCCESS),
        .root = cpu_to_le32(s->uc_error_pending ?
                            NVDIMM_EVENT_ROOT_UC_ERROR : 0),
    };
    unsigned count = 0;

    for (const GSList *l = nvdimm_realized_list(); l; l = l->next) {
        NVDIMMDevice *nvdimm = l->data;
        int slot = PC_DIMM(nvdimm)->slot;

        if (!nvdimm->health_event_pending || slot < 0 ||
            slot >= NVDIMM_EVENT_SLOTS) {
            continue;
        }
        nvdimm->health_event_pending = false;
        out.slots[slot / BITS_PER_BYTE] |= 1u << (slot % BITS_PER_BYTE);
        count++;
    }
    trace_nvdimm_dsm_health_events(count, s->uc_error_pending);
    s->uc_error_pending = false;
    nvdimm_dsm_reply_data(reply, &out, sizeof(out));
}

bool nvdimm_events_nvdimm_n_default(void)
{
    /*
     * qdev_find_global_prop() matches a global by its driver's class only:
     * an object that is nothing but its class is enough to ask.
     */
    Object probe = { .class = object_class_by_name(TYPE_NVDIMM) };
    const GlobalProperty *p = qdev_find_global_prop(&probe,
                                                    NVDIMM_NVDIMM_N_PROP);
    bool on = false;

    return p && qapi_bool_parse(p->property, p->value, &on, NULL) && on;
}

bool nvdimm_acpi_health_events(void)
{
    if (nvdimm_events_nvdimm_n_default()) {
        return true;
    }

    for (const GSList *l = nvdimm_realized_list(); l; l = l->next) {
        if (NVDIMM(l->data)->nvdimm_n) {
            return true;
        }
    }
    return false;
}
