/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu structured fuzz target "nvqemu-nvdimm-dsm": the NVDIMM _DSM
 * transport as the AML drives it (docs/specs/nvdimm-acpi.md), reaching the
 * DSM dispatcher, label, health (NVDIMM-N), ARS, poison and _FIT paths far
 * more directly than generic-fuzz, whose DMA patterns rarely form a valid
 * handle and function.
 *
 * The guest writes a DSM input page (handle, revision, function, arguments)
 * to its RAM and the page's address to I/O port 0x0a18; QEMU answers in the
 * same page within that write.  Each fuzz input is a sequence of records:
 *
 *   op  (1 byte, taken modulo NVQ_OP__COUNT)
 *   NVQ_OP_DSM, NVQ_OP_DSM_SPA:
 *       handle selector (1): see nvq_handles[]; the last one reads the
 *                            handle from the next 4 bytes (any value)
 *       revision (1), function (1), argument length (2, LE, clamped)
 *       argument bytes
 *       NVQ_OP_DSM_SPA adds the SPA base of the selected DIMM (nv0 for the
 *       root) to the first 8 argument bytes: ARS, Clear Uncorrectable Error
 *       and error injection all start with an address range.
 *   NVQ_OP_CLOCK:     ms (1): advance the virtual clock ms + 1 milliseconds
 *                     (a scrub completes after 100 ms)
 *   NVQ_OP_BAD_PAGE:  selector (1): a doorbell write of a page address that
 *                     is not a whole page of RAM (see nvq_bad_pages[])
 *   NVQ_OP_PORT:      width (1), port offset (1), value (4): raw access to
 *                     the doorbell's I/O range, reads or writes
 *
 * An oracle beyond crashes and sanitizers: after a normal call, the reply's
 * length (RLEN) must be within the page.
 *
 * The machine is reset after each input (fuzz_reset); the NVDIMM-N state
 * area and the labels live in the backends and survive it, as on hardware.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "qom/object.h"
#include "hw/mem/pc-dimm.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/fuzz/fuzz.h"

/* Guest ABI (docs/specs/nvdimm-acpi.md), written out as a guest sees it */
#define NVQ_DSM_PORT 0x0a18
#define NVQ_DSM_PORT_LEN 4
#define NVQ_DSM_PAGE_SIZE 4096
#define NVQ_DSM_ARG_OFFSET 12
#define NVQ_DSM_ARG_MAX (NVQ_DSM_PAGE_SIZE - NVQ_DSM_ARG_OFFSET)
#define NVQ_DSM_RLEN_MIN 4

#define NVQ_HANDLE_ROOT 0
#define NVQ_HANDLE_QEMU_ROOT 0x10000

/* Guest RAM layout of this target's machine */
#define NVQ_RAM_SIZE (128 * MiB)
#define NVQ_PAGE_GPA (1 * MiB)

enum {
    NVQ_OP_DSM,
    NVQ_OP_DSM_SPA,
    NVQ_OP_CLOCK,
    NVQ_OP_BAD_PAGE,
    NVQ_OP_PORT,
    NVQ_OP__COUNT,
};

/* The DIMMs of the command line, slot order: NFIT handle = slot + 1 */
static const char *const nvq_dimm_paths[] = {
    "/machine/peripheral/nv0",
    "/machine/peripheral/nv1",
};
#define NVQ_DIMMS ARRAY_SIZE(nvq_dimm_paths)

typedef struct NvqHandle {
    uint32_t handle;
    int dimm;               /* index in nvq_dimm_paths, -1: none */
} NvqHandle;

static const NvqHandle nvq_handles[] = {
    { NVQ_HANDLE_ROOT, 0 },
    { NVQ_HANDLE_QEMU_ROOT, 0 },
    { 1, 0 },               /* nv0, NVDIMM-N, labels */
    { 2, 1 },               /* nv1, labels */
    { 3, -1 },              /* an empty slot */
    { UINT32_MAX, -1 },
    { 0, -1 },              /* any: the handle follows in the input */
};
#define NVQ_HANDLE_ANY (ARRAY_SIZE(nvq_handles) - 1)

/* Page addresses that are not one whole page of RAM */
static const uint64_t nvq_bad_pages[] = {
    NVQ_RAM_SIZE - NVQ_DSM_PAGE_SIZE / 2,   /* straddles the end of RAM */
    NVQ_RAM_SIZE,                           /* just past it */
    NVQ_PAGE_GPA + 1,                       /* unaligned */
    0xfec00000,                             /* the IOAPIC */
    0xfffff000,                             /* the BIOS ROM's last page */
    0xffffffff,
    0,
};

static uint64_t nvq_spa[NVQ_DIMMS];

typedef struct NvqInput {
    const uint8_t *p;
    size_t left;
} NvqInput;

static uint8_t nvq_u8(NvqInput *in)
{
    uint8_t v = 0;

    if (in->left) {
        v = *in->p++;
        in->left--;
    }
    return v;
}

static uint32_t nvq_u32(NvqInput *in)
{
    uint32_t v = 0;

    for (int i = 0; i < 4; i++) {
        v |= (uint32_t)nvq_u8(in) << (8 * i);
    }
    return v;
}

static void nvq_dsm(QTestState *s, NvqInput *in, bool spa_relative)
{
    uint8_t page[NVQ_DSM_PAGE_SIZE] = { 0 };
    const NvqHandle *h = &nvq_handles[nvq_u8(in) % ARRAY_SIZE(nvq_handles)];
    uint32_t handle = h == &nvq_handles[NVQ_HANDLE_ANY] ? nvq_u32(in)
                                                        : h->handle;
    uint8_t rev = nvq_u8(in);
    uint8_t fn = nvq_u8(in);
    size_t len = nvq_u8(in);
    uint32_t rlen;

    len |= (size_t)nvq_u8(in) << 8;
    len = MIN(MIN(len, in->left), NVQ_DSM_ARG_MAX);

    stl_le_p(page, handle);
    stl_le_p(page + 4, rev);
    stl_le_p(page + 8, fn);
    memcpy(page + NVQ_DSM_ARG_OFFSET, in->p, len);
    in->p += len;
    in->left -= len;
    if (spa_relative && h->dimm >= 0 && len >= sizeof(uint64_t)) {
        uint8_t *addr = page + NVQ_DSM_ARG_OFFSET;

        stq_le_p(addr, ldq_le_p(addr) + nvq_spa[h->dimm]);
    }

    qtest_memwrite(s, NVQ_PAGE_GPA, page, sizeof(page));
    qtest_outl(s, NVQ_DSM_PORT, NVQ_PAGE_GPA);
    rlen = qtest_readl(s, NVQ_PAGE_GPA);
    if (rlen < NVQ_DSM_RLEN_MIN || rlen > NVQ_DSM_PAGE_SIZE) {
        fprintf(stderr, "nvqemu-nvdimm-dsm: handle 0x%x rev %u fn %u: "
                "RLEN %u outside the page\n", handle, rev, fn, rlen);
        abort();
    }
}

static void nvq_port(QTestState *s, NvqInput *in)
{
    uint8_t width = nvq_u8(in);
    uint16_t port = NVQ_DSM_PORT + nvq_u8(in) % NVQ_DSM_PORT_LEN;
    uint32_t value = nvq_u32(in);

    switch (width % 6) {
    case 0:
        qtest_outb(s, port, value);
        break;
    case 1:
        qtest_outw(s, port, value);
        break;
    case 2:
        qtest_outl(s, port, value);
        break;
    case 3:
        qtest_inb(s, port);
        break;
    case 4:
        qtest_inw(s, port);
        break;
    default:
        qtest_inl(s, port);
        break;
    }
}

static void nvq_fuzz(QTestState *s, const unsigned char *data, size_t size)
{
    NvqInput in = { .p = data, .left = size };

    while (in.left) {
        switch (nvq_u8(&in) % NVQ_OP__COUNT) {
        case NVQ_OP_DSM:
            nvq_dsm(s, &in, false);
            break;
        case NVQ_OP_DSM_SPA:
            nvq_dsm(s, &in, true);
            break;
        case NVQ_OP_CLOCK:
            qtest_clock_step(s, (nvq_u8(&in) + 1) * SCALE_MS);
            break;
        case NVQ_OP_BAD_PAGE:
            qtest_outl(s, NVQ_DSM_PORT,
                       nvq_bad_pages[nvq_u8(&in) % ARRAY_SIZE(nvq_bad_pages)]);
            break;
        default:
            nvq_port(s, &in);
            break;
        }
        flush_events(s);
    }
    fuzz_reset(s);
}

static GString *nvq_cmdline(FuzzTarget *t)
{
    return g_string_new(TARGET_NAME " -display none -machine accel=qtest "
        "-machine pc,nvdimm=on -nodefaults "
        "-m 128M,slots=4,maxmem=1G "
        "-object memory-backend-ram,id=m0,size=16M "
        "-object memory-backend-ram,id=m1,size=16M "
        "-device nvdimm,id=nv0,memdev=m0,slot=0,label-size=128K,nvdimm-n=on "
        "-device nvdimm,id=nv1,memdev=m1,slot=1,label-size=128K ");
}

static void nvq_pre_fuzz(QTestState *s)
{
    for (size_t i = 0; i < NVQ_DIMMS; i++) {
        Object *dimm = object_resolve_path(nvq_dimm_paths[i], NULL);

        g_assert(dimm);
        nvq_spa[i] = object_property_get_uint(dimm, PC_DIMM_ADDR_PROP,
                                              &error_abort);
    }
}

static void nvq_register(void)
{
    fuzz_add_target(&(FuzzTarget){
        .name = "nvqemu-nvdimm-dsm",
        .description = "nvqemu: structured NVDIMM _DSM calls (label, "
                       "health, ARS, poison, _FIT) through port 0x0a18",
        .get_init_cmdline = nvq_cmdline,
        .pre_fuzz = nvq_pre_fuzz,
        .fuzz = nvq_fuzz,
    });
}

fuzz_target_init(nvq_register);
