/*
 * Unit tests for NVMe end-to-end data protection (hw/block/nvme/pi.c):
 * the guard CRCs against the NVM Command Set's test vectors
 * (NVM 5.2.1.3.4-5, /work/shared/reference nvme-features.md 3.3) and
 * generate/check for every type, format and PI location.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "hw/block/nvme/spec.h"
#include "hw/block/nvme/pi.h"

#define VEC_LEN 4096

typedef enum VecFill {
    FILL_ZERO,
    FILL_ONES,
    FILL_INC,
    FILL_DEC,
} VecFill;

static void vec_fill(uint8_t *buf, VecFill f)
{
    for (unsigned i = 0; i < VEC_LEN; i++) {
        switch (f) {
        case FILL_ZERO:
            buf[i] = 0;
            break;
        case FILL_ONES:
            buf[i] = 0xff;
            break;
        case FILL_INC:
            buf[i] = i & 0xff;
            break;
        case FILL_DEC:
            buf[i] = (VEC_LEN - 1 - i) & 0xff;
            break;
        }
    }
}

static const struct {
    VecFill fill;
    uint16_t crc16;
    uint64_t crc64;
} vectors[] = {
    { FILL_ZERO, 0x0000, 0x6482d367eb22b64eull },
    { FILL_ONES, 0x8b5d, 0xc0ddba7302eca3acull },
    { FILL_INC,  0x8f6d, 0x3e729f5f6750449cull },
    { FILL_DEC,  0x0430, 0x9a2df64b8e9e517eull },
};

static void test_crc_check_values(void)
{
    static const char check[] = "123456789";

    g_assert_cmphex(nvme_pi_crc16(0, check, strlen(check)), ==, 0xd0db);
    g_assert_cmphex(nvme_pi_crc16(0, "abc", 3), ==, 0x443b);
    g_assert_cmphex(nvme_pi_crc64(0, check, strlen(check)), ==,
                    0xae8b14860a799888ull);
}

static void test_crc_vectors(void)
{
    g_autofree uint8_t *buf = g_malloc(VEC_LEN);

    for (unsigned i = 0; i < ARRAY_SIZE(vectors); i++) {
        vec_fill(buf, vectors[i].fill);
        g_assert_cmphex(nvme_pi_crc16(0, buf, VEC_LEN), ==,
                        vectors[i].crc16);
        g_assert_cmphex(nvme_pi_crc64(0, buf, VEC_LEN), ==,
                        vectors[i].crc64);
    }
}

/* Computing in two pieces gives the CRC of the whole */
static void test_crc_continue(void)
{
    g_autofree uint8_t *buf = g_malloc(VEC_LEN);

    vec_fill(buf, FILL_INC);
    g_assert_cmphex(nvme_pi_crc16(nvme_pi_crc16(0, buf, 1000),
                                  buf + 1000, VEC_LEN - 1000), ==, 0x8f6d);
    g_assert_cmphex(nvme_pi_crc64(nvme_pi_crc64(0, buf, 1000),
                                  buf + 1000, VEC_LEN - 1000), ==,
                    0x3e729f5f6750449cull);
}

enum { NLB = 4, LBASIZE = 512 };

typedef struct PiCase {
    uint8_t type;
    uint8_t pif;
    uint16_t ms;
    bool first;
} PiCase;

static const PiCase cases[] = {
    { NVME_PI_TYPE1, NVME_PIF_16B, 8, false },
    { NVME_PI_TYPE1, NVME_PIF_16B, 8, true },
    { NVME_PI_TYPE1, NVME_PIF_16B, 16, false },
    { NVME_PI_TYPE1, NVME_PIF_16B, 64, true },
    { NVME_PI_TYPE2, NVME_PIF_16B, 8, false },
    { NVME_PI_TYPE2, NVME_PIF_16B, 16, true },
    { NVME_PI_TYPE3, NVME_PIF_16B, 8, false },
    { NVME_PI_TYPE3, NVME_PIF_16B, 64, false },
    { NVME_PI_TYPE1, NVME_PIF_64B, 16, false },
    { NVME_PI_TYPE1, NVME_PIF_64B, 64, false },
    { NVME_PI_TYPE1, NVME_PIF_64B, 64, true },
    { NVME_PI_TYPE2, NVME_PIF_64B, 16, false },
    { NVME_PI_TYPE3, NVME_PIF_64B, 16, false },
};

static NvmePiLayout layout(const PiCase *c)
{
    return (NvmePiLayout) {
        .lbasize = LBASIZE, .ms = c->ms, .type = c->type, .pif = c->pif,
        .first = c->first,
    };
}

static void fill_blocks(uint8_t *data, uint8_t *meta, uint16_t ms)
{
    for (unsigned i = 0; i < NLB * LBASIZE; i++) {
        data[i] = (i * 7 + 3) & 0xff;
    }
    for (unsigned i = 0; i < NLB * ms; i++) {
        meta[i] = (i * 13 + 1) & 0xff;
    }
}

/* Generated tuples pass every check and hold what the spec says */
static void test_generate_check(void)
{
    for (unsigned k = 0; k < ARRAY_SIZE(cases); k++) {
        NvmePiLayout l = layout(&cases[k]);
        NvmePiTags t = {
            .reftag = 0x1234, .apptag = 0xabcd, .appmask = 0xffff,
            .prinfo = NVME_PRINFO_PRCHK_MASK,
        };
        g_autofree uint8_t *data = g_malloc(NLB * LBASIZE);
        g_autofree uint8_t *meta = g_malloc(NLB * l.ms);
        uint32_t bad = UINT32_MAX;

        fill_blocks(data, meta, l.ms);
        nvme_pi_generate(&l, data, meta, NLB, &t);
        g_assert_cmphex(nvme_pi_check(&l, data, meta, NLB, &t, &bad), ==,
                        NVME_SUCCESS);
        for (uint32_t i = 0; i < NLB; i++) {
            NvmePiTuple v = nvme_pi_tuple_get(&l, meta + i * l.ms);
            unsigned off = l.first ? 0 : l.ms - nvme_pi_tuple_size(l.pif);
            uint64_t guard;

            if (l.pif == NVME_PIF_64B) {
                guard = nvme_pi_crc64(nvme_pi_crc64(0, data + i * LBASIZE,
                                                    LBASIZE),
                                      meta + i * l.ms, off);
            } else {
                guard = nvme_pi_crc16(nvme_pi_crc16(0, data + i * LBASIZE,
                                                    LBASIZE),
                                      meta + i * l.ms, off);
            }
            g_assert_cmphex(v.guard, ==, guard);
            g_assert_cmphex(v.apptag, ==, 0xabcd);
            g_assert_cmphex(v.reftag, ==,
                            l.type == NVME_PI_TYPE3 ? 0x1234 : 0x1234 + i);
        }
        /* the bytes outside the tuple are left alone */
        if (l.ms > nvme_pi_tuple_size(l.pif)) {
            unsigned pos = l.first ? l.ms - 1 : 0;

            g_assert_cmphex(meta[pos], ==, (pos * 13 + 1) & 0xff);
        }
    }
}

/* One wrong guard, application tag or reference tag is found */
static void test_check_errors(void)
{
    for (unsigned k = 0; k < ARRAY_SIZE(cases); k++) {
        NvmePiLayout l = layout(&cases[k]);
        unsigned off = l.first ? 0 : l.ms - nvme_pi_tuple_size(l.pif);
        unsigned app = off + (l.pif == NVME_PIF_64B ? 8 : 2);
        unsigned ref = app + 2;
        NvmePiTags t = {
            .reftag = 0x10, .apptag = 0x0102, .appmask = 0xffff,
            .prinfo = NVME_PRINFO_PRCHK_MASK,
        };
        g_autofree uint8_t *data = g_malloc(NLB * LBASIZE);
        g_autofree uint8_t *meta = g_malloc(NLB * l.ms);
        uint32_t bad = UINT32_MAX;
        NvmePiTags only;

        fill_blocks(data, meta, l.ms);
        nvme_pi_generate(&l, data, meta, NLB, &t);

        /* data altered in block 2: guard error there, unless unchecked */
        data[2 * LBASIZE + 17] ^= 0x40;
        g_assert_cmphex(nvme_pi_check(&l, data, meta, NLB, &t, &bad), ==,
                        NVME_E2E_GUARD_ERROR);
        g_assert_cmpuint(bad, ==, 2);
        only = t;
        only.prinfo &= ~NVME_PRINFO_PRCHK_GUARD;
        g_assert_cmphex(nvme_pi_check(&l, data, meta, NLB, &only, &bad), ==,
                        NVME_SUCCESS);
        data[2 * LBASIZE + 17] ^= 0x40;

        /* application tag of block 1, compared only where LBATM is set */
        meta[1 * l.ms + app + 1] ^= 0x01;
        g_assert_cmphex(nvme_pi_check(&l, data, meta, NLB, &t, &bad), ==,
                        NVME_E2E_APP_ERROR);
        g_assert_cmpuint(bad, ==, 1);
        only = t;
        only.appmask = 0xff00;
        g_assert_cmphex(nvme_pi_check(&l, data, meta, NLB, &only, &bad), ==,
                        NVME_SUCCESS);
        meta[1 * l.ms + app + 1] ^= 0x01;

        /* reference tag of block 3 */
        meta[3 * l.ms + ref + 1] ^= 0x80;
        g_assert_cmphex(nvme_pi_check(&l, data, meta, NLB, &t, &bad), ==,
                        NVME_E2E_REF_ERROR);
        g_assert_cmpuint(bad, ==, 3);
        only = t;
        only.prinfo &= ~NVME_PRINFO_PRCHK_REF;
        g_assert_cmphex(nvme_pi_check(&l, data, meta, NLB, &only, &bad), ==,
                        NVME_SUCCESS);
        meta[3 * l.ms + ref + 1] ^= 0x80;

        /* a wrong initial reference tag: every type 1/2 block mismatches */
        only = t;
        only.reftag = 0x11;
        g_assert_cmphex(nvme_pi_check(&l, data, meta, NLB, &only, &bad), ==,
                        NVME_E2E_REF_ERROR);
        g_assert_cmpuint(bad, ==, 0);
    }
}

/* Application tag FFFFh (and for Type 3 an all-ones ref tag) escapes */
static void test_escape(void)
{
    for (unsigned k = 0; k < ARRAY_SIZE(cases); k++) {
        NvmePiLayout l = layout(&cases[k]);
        unsigned off = l.first ? 0 : l.ms - nvme_pi_tuple_size(l.pif);
        unsigned app = off + (l.pif == NVME_PIF_64B ? 8 : 2);
        unsigned tsize = nvme_pi_tuple_size(l.pif);
        NvmePiTags t = {
            .reftag = 0, .apptag = 0, .appmask = 0xffff,
            .prinfo = NVME_PRINFO_PRCHK_MASK,
        };
        g_autofree uint8_t *data = g_malloc0(NLB * LBASIZE);
        g_autofree uint8_t *meta = g_malloc0(NLB * l.ms);
        uint32_t bad;

        /* application tag escape only: Type 3 still checks */
        for (uint32_t i = 0; i < NLB; i++) {
            meta[i * l.ms + app] = 0xff;
            meta[i * l.ms + app + 1] = 0xff;
            data[i * LBASIZE] = 0x5a;   /* guard now wrong */
        }
        g_assert_cmphex(nvme_pi_check(&l, data, meta, NLB, &t, &bad), ==,
                        l.type == NVME_PI_TYPE3 ? NVME_E2E_GUARD_ERROR
                                                : NVME_SUCCESS);
        /* all-ones tuple: escaped for every type */
        for (uint32_t i = 0; i < NLB; i++) {
            memset(meta + i * l.ms + off, 0xff, tsize);
        }
        g_assert_cmphex(nvme_pi_check(&l, data, meta, NLB, &t, &bad), ==,
                        NVME_SUCCESS);
    }
}

/* Type 1 with reference tag checking: ILBRT must be the SLBA's low bits */
static void test_ilbrt(void)
{
    NvmePiLayout l16 = { .lbasize = 512, .ms = 8, .type = NVME_PI_TYPE1,
                         .pif = NVME_PIF_16B };
    NvmePiLayout l64 = { .lbasize = 512, .ms = 16, .type = NVME_PI_TYPE1,
                         .pif = NVME_PIF_64B };
    NvmePiLayout l2 = { .lbasize = 512, .ms = 8, .type = NVME_PI_TYPE2,
                        .pif = NVME_PIF_16B };
    NvmePiTags t = { .reftag = 0x00000005, .prinfo = NVME_PRINFO_PRCHK_REF };

    g_assert_cmphex(nvme_pi_check_ilbrt(&l16, 0x100000005ull, &t), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(nvme_pi_check_ilbrt(&l64, 0x100000005ull, &t), ==,
                    NVME_INVALID_PROT_INFO);
    g_assert_cmphex(nvme_pi_check_ilbrt(&l16, 6, &t), ==,
                    NVME_INVALID_PROT_INFO);
    g_assert_cmphex(nvme_pi_check_ilbrt(&l2, 6, &t), ==, NVME_SUCCESS);
    t.prinfo = NVME_PRINFO_PRCHK_GUARD;
    g_assert_cmphex(nvme_pi_check_ilbrt(&l16, 6, &t), ==, NVME_SUCCESS);
}

/* Big-endian tuple layout: 16b guard at 0, app tag at 2, ref tag at 4 */
static void test_tuple_layout(void)
{
    NvmePiLayout l16 = { .lbasize = 512, .ms = 8, .type = NVME_PI_TYPE1,
                         .pif = NVME_PIF_16B };
    NvmePiLayout l64 = { .lbasize = 512, .ms = 16, .type = NVME_PI_TYPE1,
                         .pif = NVME_PIF_64B };
    NvmePiTags t = { .reftag = 0x0000a1b2c3d4e5f6ull, .apptag = 0x789a };
    uint8_t data[512] = { 0 };
    uint8_t md16[8], md64[16];
    static const uint8_t want16[8] = {
        0x00, 0x00, 0x78, 0x9a, 0xc3, 0xd4, 0xe5, 0xf6 };
    static const uint8_t want64[16] = {
        0x1d, 0xe6, 0x0e, 0x28, 0x68, 0xa7, 0x82, 0xe9,
        0x78, 0x9a, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6 };

    nvme_pi_generate(&l16, data, md16, 1, &t);
    g_assert_cmpmem(md16, sizeof(md16), want16, sizeof(want16));
    nvme_pi_generate(&l64, data, md64, 1, &t);
    g_assert_cmpmem(md64, sizeof(md64), want64, sizeof(want64));
    g_assert_cmpuint(nvme_pi_tuple_size(NVME_PIF_32B), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nvme/pi/crc/check-values", test_crc_check_values);
    g_test_add_func("/nvme/pi/crc/vectors", test_crc_vectors);
    g_test_add_func("/nvme/pi/crc/continue", test_crc_continue);
    g_test_add_func("/nvme/pi/generate-check", test_generate_check);
    g_test_add_func("/nvme/pi/check-errors", test_check_errors);
    g_test_add_func("/nvme/pi/escape", test_escape);
    g_test_add_func("/nvme/pi/ilbrt", test_ilbrt);
    g_test_add_func("/nvme/pi/tuple-layout", test_tuple_layout);
    return g_test_run();
}
