/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the NFIT builder (hw/acpi/nvdimm-nfit.c) and the DSM
 * function table (hw/acpi/nvdimm-dsm-table.c).
 *
 * The NFIT checks use byte offsets written out from the ACPI 6.5 tables
 * (5.149 SPA Range, 5.150 NVDIMM Region Mapping, 5.155 Control Region,
 * 5.159 Platform Capabilities; section 5.2.26.8 Flush Hint Address), not
 * the structs of nvdimm-spec.h, so a wrong struct cannot agree with itself.
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "hw/acpi/nvdimm-internal.h"

/* Structure lengths (ACPI 6.5 Tables 5.149, 5.150, 5.155, 5.159). */
enum {
    SPA_LEN = 56,
    MEMDEV_LEN = 48,
    DCR_LEN = 80,
    CAPS_LEN = 16,
    FLUSH1_LEN = 16 + 8,        /* Flush Hint Address, one hint */
    PER_DIMM_LEN = SPA_LEN + MEMDEV_LEN + DCR_LEN,
};

/* The Persistent Memory Region GUID in its NFIT (mixed-endian) encoding. */
static const uint8_t pm_guid_bytes[16] = {
    0x79, 0xd3, 0xf0, 0x66, 0xf3, 0xb4, 0x74, 0x40,
    0xac, 0x43, 0x0d, 0x33, 0x18, 0xb7, 0x8c, 0xdb,
};

static GArray *make_dimms(unsigned n)
{
    GArray *dimms = g_array_new(false, true, sizeof(NvdimmNfitDimm));

    for (unsigned i = 0; i < n; i++) {
        NvdimmNfitDimm d = {
            .slot = i * 3,                       /* sparse slots */
            .node = i % 2,
            .addr = 0x100000000ULL + i * 0x10000000ULL,
            .size = 0x8000000ULL - i * 0x200000ULL,
            .unarmed = i % 3 == 2,
        };
        g_array_append_val(dimms, d);
    }
    return dimms;
}

/*
 * Indexes as QEMU has always numbered them (guests compare _FIT with what
 * they saw at boot): SPA Range 2 * (slot + 1), Control Region the next.
 */
static uint16_t spa_index(const NvdimmNfitDimm *d)
{
    return (d->slot + 1) * 2;
}

static uint16_t dcr_index(const NvdimmNfitDimm *d)
{
    return spa_index(d) + 1;
}

static void check_spa(const uint8_t *p, const NvdimmNfitDimm *d)
{
    g_assert_cmpuint(lduw_le_p(p + 0), ==, 0);             /* type */
    g_assert_cmpuint(lduw_le_p(p + 2), ==, SPA_LEN);       /* length */
    g_assert_cmpuint(lduw_le_p(p + 4), ==, spa_index(d));  /* SPA index */
    g_assert_cmpuint(lduw_le_p(p + 4), !=, 0);             /* 0 reserved */
    /* control region for hot-add only | proximity domain valid */
    g_assert_cmpuint(lduw_le_p(p + 6), ==, 1 << 0 | 1 << 1);
    g_assert_cmpuint(ldl_le_p(p + 8), ==, 0);              /* reserved */
    g_assert_cmpuint(ldl_le_p(p + 12), ==, d->node);       /* proximity */
    g_assert_cmpmem(p + 16, 16, pm_guid_bytes, 16);        /* type GUID */
    g_assert_cmpuint(ldq_le_p(p + 32), ==, d->addr);       /* base */
    g_assert_cmpuint(ldq_le_p(p + 40), ==, d->size);       /* length */
    /* EFI_MEMORY_WB | EFI_MEMORY_NV */
    g_assert_cmpuint(ldq_le_p(p + 48), ==, 0x8 | 0x8000);
}

static void check_memdev(const uint8_t *p, const NvdimmNfitDimm *d)
{
    uint32_t handle = d->slot + 1;

    g_assert_cmpuint(lduw_le_p(p + 0), ==, 1);
    g_assert_cmpuint(lduw_le_p(p + 2), ==, MEMDEV_LEN);
    g_assert_cmpuint(ldl_le_p(p + 4), ==, handle);         /* NFIT handle */
    g_assert_cmpuint(lduw_le_p(p + 8), ==, 0);             /* physical id */
    g_assert_cmpuint(lduw_le_p(p + 10), ==, 0);            /* region id */
    g_assert_cmpuint(lduw_le_p(p + 12), ==, spa_index(d));
    g_assert_cmpuint(lduw_le_p(p + 14), ==, dcr_index(d));
    g_assert_cmpuint(ldq_le_p(p + 16), ==, d->size);       /* region size */
    g_assert_cmpuint(ldq_le_p(p + 24), ==, 0);             /* region offset */
    g_assert_cmpuint(ldq_le_p(p + 32), ==, 0);             /* DPA base */
    g_assert_cmpuint(lduw_le_p(p + 40), ==, 0);            /* interleave idx */
    g_assert_cmpuint(lduw_le_p(p + 42), ==, 1);            /* ways */
    g_assert_cmpuint(lduw_le_p(p + 44), ==, d->unarmed ? 1 << 3 : 0);
    g_assert_cmpuint(lduw_le_p(p + 46), ==, 0);            /* reserved */
}

static void check_dcr(const uint8_t *p, const NvdimmNfitDimm *d)
{
    static const uint8_t zero[8];

    g_assert_cmpuint(lduw_le_p(p + 0), ==, 4);
    g_assert_cmpuint(lduw_le_p(p + 2), ==, DCR_LEN);
    g_assert_cmpuint(lduw_le_p(p + 4), ==, dcr_index(d));
    g_assert_cmpuint(lduw_le_p(p + 6), ==, 0x8086);        /* vendor */
    g_assert_cmpuint(lduw_le_p(p + 8), ==, 0x0001);        /* device */
    g_assert_cmpuint(lduw_le_p(p + 10), ==, 0x0001);       /* revision */
    g_assert_cmpuint(lduw_le_p(p + 12), ==, 0);            /* subsys vendor */
    g_assert_cmpuint(lduw_le_p(p + 14), ==, 0);
    g_assert_cmpuint(lduw_le_p(p + 16), ==, 0);
    g_assert_cmpuint(p[18], ==, 0);                        /* valid fields */
    g_assert_cmpuint(p[19], ==, 0);                        /* mfg location */
    g_assert_cmpuint(lduw_le_p(p + 20), ==, 0);            /* mfg date */
    g_assert_cmpuint(ldl_le_p(p + 24), ==, 0x123456 + d->slot); /* serial */
    g_assert_cmpuint(lduw_le_p(p + 28), ==, 0x0301);       /* FIC */
    g_assert_cmpuint(lduw_le_p(p + 30), ==, 0);            /* no BCW */
    for (unsigned off = 32; off < 72; off += 8) {
        g_assert_cmpmem(p + off, 8, zero, 8);              /* BCW fields */
    }
    g_assert_cmpuint(lduw_le_p(p + 72), ==, 0);            /* DCR flags */
    g_assert_cmpmem(p + 74, 6, zero, 6);                   /* reserved */
}

static void check_caps(const uint8_t *p, uint32_t caps)
{
    g_assert_cmpuint(lduw_le_p(p + 0), ==, 7);
    g_assert_cmpuint(lduw_le_p(p + 2), ==, CAPS_LEN);
    g_assert_cmpuint(p[4], ==, 1);      /* highest valid: mem-ctrl flush */
    g_assert_cmpuint(p[5] | p[6] | p[7], ==, 0);
    g_assert_cmpuint(ldl_le_p(p + 8), ==, caps);
    g_assert_cmpuint(ldl_le_p(p + 12), ==, 0);
}

static void check_nfit(unsigned n, uint32_t persistence)
{
    g_autoptr(GArray) dimms = make_dimms(n);
    g_autoptr(GArray) out = g_array_new(false, true, 1);
    const uint8_t *p;

    /* the builder appends: keep a prefix to see that it is untouched */
    g_array_append_vals(out, "PFX!", 4);
    nvdimm_nfit_build(out, dimms, persistence);
    g_assert_cmpmem(out->data, 4, "PFX!", 4);
    g_assert_cmpuint(out->len, ==,
                     4 + n * PER_DIMM_LEN + (persistence ? CAPS_LEN : 0));

    p = (const uint8_t *)out->data + 4;
    for (unsigned i = 0; i < n; i++) {
        const NvdimmNfitDimm *d = &g_array_index(dimms, NvdimmNfitDimm, i);

        check_spa(p, d);
        check_memdev(p + SPA_LEN, d);
        check_dcr(p + SPA_LEN + MEMDEV_LEN, d);
        p += PER_DIMM_LEN;
    }
    if (persistence) {
        check_caps(p, persistence);
    }
}

static void test_nfit_1(void)
{
    check_nfit(1, 0);
}

static void test_nfit_2(void)
{
    check_nfit(2, 0);
}

static void test_nfit_8(void)
{
    check_nfit(8, 0);
}

static void test_nfit_empty(void)
{
    check_nfit(0, 0);
}

static void test_nfit_caps_cpu(void)
{
    /* -machine nvdimm-persistence=cpu: CPU cache and memory controller */
    check_nfit(2, 0x3);
}

static void test_nfit_caps_mem_ctrl(void)
{
    check_nfit(1, 0x2);
}

/*
 * nvdimm-n=on on the second of three DIMMs: it alone gets the energy-backed
 * interface code (0x0101) and a Flush Hint Address structure (ACPI 6.5
 * section 5.2.26.8) after its Control Region; a Platform Capabilities
 * structure with memory-controller flush ends the table unless a
 * persistence was given.
 */
static void check_nfit_nvdimm_n(uint32_t persistence, uint32_t want_caps)
{
    g_autoptr(GArray) dimms = make_dimms(3);
    g_autoptr(GArray) out = g_array_new(false, true, 1);
    NvdimmNfitDimm *n = &g_array_index(dimms, NvdimmNfitDimm, 1);
    const uint8_t *p;

    n->nvdimm_n = true;
    n->flush_hint_addr = n->addr + n->size;
    nvdimm_nfit_build(out, dimms, persistence);
    g_assert_cmpuint(out->len, ==, 3 * PER_DIMM_LEN + FLUSH1_LEN + CAPS_LEN);

    p = (const uint8_t *)out->data;
    check_dcr(p + SPA_LEN + MEMDEV_LEN, &g_array_index(dimms,
                                                       NvdimmNfitDimm, 0));
    p += PER_DIMM_LEN;
    check_spa(p, n);
    check_memdev(p + SPA_LEN, n);
    g_assert_cmphex(lduw_le_p(p + SPA_LEN + MEMDEV_LEN + 28), ==, 0x0101);
    p += PER_DIMM_LEN;
    g_assert_cmpuint(lduw_le_p(p + 0), ==, 6);             /* type */
    g_assert_cmpuint(lduw_le_p(p + 2), ==, FLUSH1_LEN);
    g_assert_cmpuint(ldl_le_p(p + 4), ==, n->slot + 1);    /* handle */
    g_assert_cmpuint(lduw_le_p(p + 8), ==, 1);             /* hint count */
    for (unsigned off = 10; off < 16; off++) {
        g_assert_cmpuint(p[off], ==, 0);                   /* reserved */
    }
    g_assert_cmphex(ldq_le_p(p + 16), ==, n->addr + n->size);
    p += FLUSH1_LEN;
    check_spa(p, &g_array_index(dimms, NvdimmNfitDimm, 2));
    check_dcr(p + SPA_LEN + MEMDEV_LEN,
              &g_array_index(dimms, NvdimmNfitDimm, 2));
    p += PER_DIMM_LEN;
    check_caps(p, want_caps);
}

static void test_nfit_nvdimm_n(void)
{
    check_nfit_nvdimm_n(0, 0x2);
}

static void test_nfit_nvdimm_n_persistence(void)
{
    check_nfit_nvdimm_n(0x3, 0x3);
}

static void test_nfit_unique_indexes(void)
{
    g_autoptr(GArray) dimms = make_dimms(8);
    g_autoptr(GArray) out = g_array_new(false, true, 1);
    g_autoptr(GHashTable) handles = g_hash_table_new(NULL, NULL);
    g_autoptr(GHashTable) indexes = g_hash_table_new(NULL, NULL);
    const uint8_t *p;

    nvdimm_nfit_build(out, dimms, 0);
    p = (const uint8_t *)out->data;
    for (unsigned i = 0; i < 8; i++, p += PER_DIMM_LEN) {
        uintptr_t handle = ldl_le_p(p + SPA_LEN + 4);
        /* SPA and Control Region indexes share one number space */
        uintptr_t spa = lduw_le_p(p + 4);
        uintptr_t dcr = lduw_le_p(p + SPA_LEN + MEMDEV_LEN + 4);

        g_assert_false(g_hash_table_contains(handles, (gpointer)handle));
        g_hash_table_add(handles, (gpointer)handle);
        g_assert_false(g_hash_table_contains(indexes, (gpointer)spa));
        g_hash_table_add(indexes, (gpointer)spa);
        g_assert_false(g_hash_table_contains(indexes, (gpointer)dcr));
        g_hash_table_add(indexes, (gpointer)dcr);
    }
}

enum {
    LABEL = NVDIMM_DSM_CAP_LABEL,
    WRITABLE = NVDIMM_DSM_CAP_WRITABLE,
    NVN = NVDIMM_DSM_CAP_NVDIMM_N,
    ARS = NVDIMM_DSM_CAP_ARS,
};

/* _DSM revisions (Intel DSM interface) */
enum {
    REV1 = 1,
    REV2 = 2,
};

static void test_dsm_bitmaps(void)
{
    /* Intel functions 4, 5, 6 plus bit 0 */
    g_assert_cmphex(nvdimm_dsm_supported_mask(NVDIMM_DSM_TARGET_DIMM,
                                              LABEL | WRITABLE, 1), ==, 0x71);
    /* read-only DIMM: no Set Label Data, so its labels are read-only */
    g_assert_cmphex(nvdimm_dsm_supported_mask(NVDIMM_DSM_TARGET_DIMM, LABEL,
                                              1), ==, 0x31);
    /* no label area: no function at all */
    g_assert_cmphex(nvdimm_dsm_supported_mask(NVDIMM_DSM_TARGET_DIMM,
                                              WRITABLE, 1), ==, 0);
    g_assert_cmphex(nvdimm_dsm_supported_mask(NVDIMM_DSM_TARGET_DIMM, 0, 1),
                    ==, 0);
    /* QEMU root: Read FIT */
    g_assert_cmphex(nvdimm_dsm_supported_mask(NVDIMM_DSM_TARGET_QEMU_ROOT, 0,
                                              1), ==, 0x3);
    g_assert_cmphex(nvdimm_dsm_supported_mask(NVDIMM_DSM_TARGET_ROOT, 0, 1),
                    ==, 0);
    /* root with an NVDIMM-N plugged: ARS 1-4, error injection 7-9 */
    g_assert_cmphex(nvdimm_dsm_supported_mask(NVDIMM_DSM_TARGET_ROOT, ARS, 1),
                    ==, 0x39f);
    g_assert_cmphex(nvdimm_dsm_supported_mask(NVDIMM_DSM_TARGET_ROOT, ARS,
                                              REV2), ==, 0);
    /* any other revision: nothing, as stock (without nvdimm-n) */
    g_assert_cmphex(nvdimm_dsm_supported_mask(NVDIMM_DSM_TARGET_DIMM,
                                              LABEL | WRITABLE, REV2), ==, 0);
    g_assert_cmphex(nvdimm_dsm_supported_mask(NVDIMM_DSM_TARGET_DIMM,
                                              LABEL | WRITABLE, 0), ==, 0);
    g_assert_false(nvdimm_dsm_revision_known(NVDIMM_DSM_TARGET_DIMM,
                                             LABEL | WRITABLE, REV2));
    g_assert_true(nvdimm_dsm_revision_known(NVDIMM_DSM_TARGET_DIMM, 0, REV1));
    /* NVDIMM-N: functions 1, 2, 10, 17, 18 at revisions 1 and 2 */
    g_assert_cmphex(nvdimm_dsm_supported_mask(NVDIMM_DSM_TARGET_DIMM,
                                              LABEL | WRITABLE | NVN, REV1),
                    ==, 0x60477);
    g_assert_cmphex(nvdimm_dsm_supported_mask(NVDIMM_DSM_TARGET_DIMM,
                                              LABEL | WRITABLE | NVN, REV2),
                    ==, 0x60407);
    g_assert_cmphex(nvdimm_dsm_supported_mask(NVDIMM_DSM_TARGET_DIMM, NVN,
                                              REV2), ==, 0x60407);
    g_assert_true(nvdimm_dsm_revision_known(NVDIMM_DSM_TARGET_DIMM, NVN,
                                            REV2));
    g_assert_false(nvdimm_dsm_revision_known(NVDIMM_DSM_TARGET_DIMM, NVN, 3));
    g_assert_false(nvdimm_dsm_revision_known(NVDIMM_DSM_TARGET_DIMM, NVN,
                                             UINT32_MAX));
}

static void test_dsm_table_lookup(void)
{
    const NvdimmDsmFunc *f;

    /* every function the bitmap advertises is found, and only those */
    for (int t = 0; t < NVDIMM_DSM_TARGET__MAX; t++) {
        for (unsigned caps = 0; caps <= (LABEL | WRITABLE | NVN | ARS);
             caps++) {
            uint32_t mask = nvdimm_dsm_supported_mask(t, caps, 1);

            for (uint32_t fn = 1; fn < 32; fn++) {
                f = nvdimm_dsm_func_find(t, fn, caps);
                g_assert_cmpint(!!f, ==, !!(mask & (1u << fn)));
                if (f) {
                    g_assert_cmpuint(f->function, ==, fn);
                    g_assert_cmpint(f->target, ==, t);
                    g_assert_cmpint(f->op, <, NVDIMM_DSM_OP__MAX);
                    g_assert_cmpuint(f->in_len, <=, NVDIMM_DSM_ARG_MAX);
                    g_assert_cmphex(caps & f->requires, ==, f->requires);
                }
            }
        }
    }
    f = nvdimm_dsm_func_find(NVDIMM_DSM_TARGET_DIMM, 5, LABEL);
    g_assert_nonnull(f);
    g_assert_cmpstr(f->name, ==, "get-label-data");
    g_assert_null(nvdimm_dsm_func_find(NVDIMM_DSM_TARGET_DIMM, 6, LABEL));
    g_assert_cmpstr(nvdimm_dsm_func_name(NVDIMM_DSM_TARGET_DIMM, 0), ==,
                    "query");
    g_assert_cmpstr(nvdimm_dsm_func_name(NVDIMM_DSM_TARGET_ROOT, 1), ==,
                    "ars-cap");
    g_assert_cmpstr(nvdimm_dsm_func_name(NVDIMM_DSM_TARGET_ROOT, 5), ==,
                    "unknown");
    g_assert_null(nvdimm_dsm_func_find(NVDIMM_DSM_TARGET_ROOT, 1, 0));
}

static void test_dsm_limits(void)
{
    /* the ABI numbers of docs/specs/nvdimm-acpi.md */
    g_assert_cmpuint(NVDIMM_DSM_ARG_MAX, ==, 4084);
    g_assert_cmpuint(NVDIMM_DSM_OUT_MAX, ==, 4092);
    g_assert_cmpuint(NVDIMM_DSM_LABEL_MAX_XFER, ==, 4076);
    g_assert_cmpuint(NVDIMM_DSM_FIT_CHUNK_MAX, ==, 4088);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nvdimm/nfit/empty", test_nfit_empty);
    g_test_add_func("/nvdimm/nfit/1-dimm", test_nfit_1);
    g_test_add_func("/nvdimm/nfit/2-dimms", test_nfit_2);
    g_test_add_func("/nvdimm/nfit/8-dimms", test_nfit_8);
    g_test_add_func("/nvdimm/nfit/caps-cpu", test_nfit_caps_cpu);
    g_test_add_func("/nvdimm/nfit/caps-mem-ctrl", test_nfit_caps_mem_ctrl);
    g_test_add_func("/nvdimm/nfit/nvdimm-n", test_nfit_nvdimm_n);
    g_test_add_func("/nvdimm/nfit/nvdimm-n-persistence",
                    test_nfit_nvdimm_n_persistence);
    g_test_add_func("/nvdimm/nfit/unique-handles", test_nfit_unique_indexes);
    g_test_add_func("/nvdimm/dsm/bitmaps", test_dsm_bitmaps);
    g_test_add_func("/nvdimm/dsm/table-lookup", test_dsm_table_lookup);
    g_test_add_func("/nvdimm/dsm/limits", test_dsm_limits);
    return g_test_run();
}
