/*
 * Unit tests for the NVMe PRP and SGL walkers (hw/block/nvme/dptr.c),
 * against a small fake guest memory.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "hw/block/nvme/spec.h"
#include "hw/block/nvme/dptr.h"

#define MEM_SIZE (1024 * 1024)
#define PAGE_BITS 12
#define PAGE (1u << PAGE_BITS)
#define MAX_SEGS 64

typedef struct Fake {
    uint8_t *mem;
    unsigned nsegs;
    uint64_t addr[MAX_SEGS];
    uint64_t len[MAX_SEGS];
    unsigned reads;
} Fake;

static bool fake_read(void *opaque, uint64_t addr, void *buf, uint64_t len)
{
    Fake *f = opaque;

    f->reads++;
    if (addr >= MEM_SIZE || len > MEM_SIZE - addr) {
        return false;
    }
    memcpy(buf, f->mem + addr, len);
    return true;
}

static void fake_add(void *opaque, uint64_t addr, uint64_t len)
{
    Fake *f = opaque;

    g_assert_cmpuint(f->nsegs, <, MAX_SEGS);
    f->addr[f->nsegs] = addr;
    f->len[f->nsegs] = len;
    f->nsegs++;
}

static Fake *fake_new(NvmeDptrOps *ops)
{
    Fake *f = g_new0(Fake, 1);

    f->mem = g_malloc0(MEM_SIZE);
    *ops = (NvmeDptrOps) { .read = fake_read, .add = fake_add, .opaque = f };
    return f;
}

static void fake_free(Fake *f)
{
    g_free(f->mem);
    g_free(f);
}

static void put_prp(Fake *f, uint64_t at, unsigned idx, uint64_t val)
{
    stq_le_p(f->mem + at + 8 * idx, val);
}

static uint64_t total(Fake *f)
{
    uint64_t t = 0;

    for (unsigned i = 0; i < f->nsegs; i++) {
        t += f->len[i];
    }
    return t;
}

static void test_prp_one_page(void)
{
    NvmeDptrOps ops;
    Fake *f = fake_new(&ops);

    g_assert_cmpuint(nvme_dptr_prp(0x2100, 0, 0x100, PAGE_BITS, &ops), ==,
                     NVME_SUCCESS);
    g_assert_cmpuint(f->nsegs, ==, 1);
    g_assert_cmpuint(f->addr[0], ==, 0x2100);
    g_assert_cmpuint(f->len[0], ==, 0x100);
    g_assert_cmpuint(f->reads, ==, 0);
    fake_free(f);
}

static void test_prp_two_pages(void)
{
    NvmeDptrOps ops;
    Fake *f = fake_new(&ops);

    /* 4 KiB starting mid-page: PRP1 covers 2 KiB, PRP2 the rest */
    g_assert_cmpuint(nvme_dptr_prp(0x3800, 0x9000, PAGE, PAGE_BITS, &ops), ==,
                     NVME_SUCCESS);
    g_assert_cmpuint(f->nsegs, ==, 2);
    g_assert_cmpuint(f->addr[1], ==, 0x9000);
    g_assert_cmpuint(f->len[0], ==, 0x800);
    g_assert_cmpuint(f->len[1], ==, 0x800);
    g_assert_cmpuint(f->reads, ==, 0);
    fake_free(f);
}

static void test_prp_list(void)
{
    NvmeDptrOps ops;
    Fake *f = fake_new(&ops);

    for (unsigned i = 0; i < 4; i++) {
        put_prp(f, 0x10000, i, 0x20000 + i * 2 * PAGE);
    }
    g_assert_cmpuint(nvme_dptr_prp(0x1000, 0x10000, 5 * PAGE, PAGE_BITS, &ops),
                     ==, NVME_SUCCESS);
    g_assert_cmpuint(f->nsegs, ==, 5);
    g_assert_cmpuint(f->addr[4], ==, 0x20000 + 3 * 2 * PAGE);
    g_assert_cmpuint(total(f), ==, 5 * PAGE);
    fake_free(f);
}

static void test_prp_list_partial_last(void)
{
    NvmeDptrOps ops;
    Fake *f = fake_new(&ops);

    put_prp(f, 0x10000, 0, 0x20000);
    put_prp(f, 0x10000, 1, 0x30000);
    g_assert_cmpuint(nvme_dptr_prp(0x1000, 0x10000, 2 * PAGE + 512,
                                  PAGE_BITS, &ops), ==, NVME_SUCCESS);
    g_assert_cmpuint(f->nsegs, ==, 3);
    g_assert_cmpuint(f->len[2], ==, 512);
    fake_free(f);
}

static void test_prp_list_chained(void)
{
    NvmeDptrOps ops;
    Fake *f = fake_new(&ops);
    uint64_t list = 0x10000 + PAGE - 16;    /* two slots left in the page */

    put_prp(f, list, 0, 0x40000);
    put_prp(f, list, 1, 0x50000);           /* next list */
    put_prp(f, 0x50000, 0, 0x41000);
    put_prp(f, 0x50000, 1, 0x42000);
    g_assert_cmpuint(nvme_dptr_prp(0x1000, list, 4 * PAGE, PAGE_BITS, &ops),
                     ==, NVME_SUCCESS);
    g_assert_cmpuint(f->nsegs, ==, 4);
    g_assert_cmpuint(f->addr[1], ==, 0x40000);
    g_assert_cmpuint(f->addr[2], ==, 0x41000);
    g_assert_cmpuint(f->addr[3], ==, 0x42000);
    fake_free(f);
}

static void test_prp_errors(void)
{
    NvmeDptrOps ops;
    Fake *f = fake_new(&ops);

    /* PRP1 not dword aligned */
    g_assert_cmpuint(nvme_dptr_prp(0x1002, 0, 16, PAGE_BITS, &ops), ==,
                     NVME_PRP_OFFSET_INVALID);
    /* PRP2 as a data page with an offset */
    g_assert_cmpuint(nvme_dptr_prp(0x1000, 0x2004, 2 * PAGE, PAGE_BITS, &ops),
                     ==, NVME_PRP_OFFSET_INVALID);
    /* list entry with an offset */
    put_prp(f, 0x10000, 0, 0x20000);
    put_prp(f, 0x10000, 1, 0x30010);
    g_assert_cmpuint(nvme_dptr_prp(0x1000, 0x10000, 3 * PAGE, PAGE_BITS, &ops),
                     ==, NVME_PRP_OFFSET_INVALID);
    /* list outside guest memory */
    g_assert_cmpuint(nvme_dptr_prp(0x1000, 0x7ffff000ull, 3 * PAGE, PAGE_BITS,
                                  &ops), ==, NVME_DATA_TRANSFER_ERROR);
    /* a list pointer with bits 2:0 set */
    g_assert_cmpuint(nvme_dptr_prp(0x1000, 0x10004, 3 * PAGE, PAGE_BITS, &ops),
                     ==, NVME_PRP_OFFSET_INVALID);
    fake_free(f);
}

static void test_prp_zero_len(void)
{
    NvmeDptrOps ops;
    Fake *f = fake_new(&ops);

    g_assert_cmpuint(nvme_dptr_prp(0x1003, 0x5, 0, PAGE_BITS, &ops), ==,
                     NVME_SUCCESS);
    g_assert_cmpuint(f->nsegs, ==, 0);
    fake_free(f);
}

static void put_sgl(void *at, uint64_t addr, uint32_t len, uint8_t type,
                    uint8_t subtype)
{
    NvmeSglDesc d = {
        .addr = cpu_to_le64(addr),
        .len = cpu_to_le32(len),
        .id = (type << R_NVME_SGL_ID_TYPE_SHIFT) | subtype,
    };

    memcpy(at, &d, sizeof(d));
}

static void test_sgl_data_block(void)
{
    NvmeDptrOps ops;
    Fake *f = fake_new(&ops);
    uint8_t sgl1[16];

    put_sgl(sgl1, 0x8000, 0x3000, NVME_SGL_TYPE_DATA_BLOCK, 0);
    g_assert_cmpuint(nvme_dptr_sgl(sgl1, 0x3000, &ops), ==, NVME_SUCCESS);
    g_assert_cmpuint(f->nsegs, ==, 1);
    g_assert_cmpuint(f->len[0], ==, 0x3000);
    /* too short for the transfer */
    g_assert_cmpuint(nvme_dptr_sgl(sgl1, 0x4000, &ops), ==,
                     NVME_DATA_SGL_LEN_INVALID);
    fake_free(f);
}

static void test_sgl_segments(void)
{
    NvmeDptrOps ops;
    Fake *f = fake_new(&ops);
    uint8_t sgl1[16];

    /* segment A: 2 data blocks + pointer to last segment B */
    put_sgl(f->mem + 0x10000, 0x20000, 0x200, NVME_SGL_TYPE_DATA_BLOCK, 0);
    put_sgl(f->mem + 0x10010, 0x30000, 0x600, NVME_SGL_TYPE_DATA_BLOCK, 0);
    put_sgl(f->mem + 0x10020, 0x11000, 32, NVME_SGL_TYPE_LAST_SEGMENT, 0);
    /* segment B: 2 data blocks */
    put_sgl(f->mem + 0x11000, 0x40000, 0x400, NVME_SGL_TYPE_DATA_BLOCK, 0);
    put_sgl(f->mem + 0x11010, 0x50000, 0x400, NVME_SGL_TYPE_DATA_BLOCK, 0);
    put_sgl(sgl1, 0x10000, 48, NVME_SGL_TYPE_SEGMENT, 0);

    g_assert_cmpuint(nvme_dptr_sgl(sgl1, 0x1000, &ops), ==, NVME_SUCCESS);
    g_assert_cmpuint(f->nsegs, ==, 4);
    g_assert_cmpuint(f->addr[3], ==, 0x50000);
    g_assert_cmpuint(total(f), ==, 0x1000);

    /* a shorter transfer stops early */
    f->nsegs = 0;
    g_assert_cmpuint(nvme_dptr_sgl(sgl1, 0x300, &ops), ==, NVME_SUCCESS);
    g_assert_cmpuint(f->nsegs, ==, 2);
    g_assert_cmpuint(f->len[1], ==, 0x100);

    /* longer than the whole list */
    f->nsegs = 0;
    g_assert_cmpuint(nvme_dptr_sgl(sgl1, 0x2000, &ops), ==,
                     NVME_DATA_SGL_LEN_INVALID);
    fake_free(f);
}

static void test_sgl_errors(void)
{
    NvmeDptrOps ops;
    Fake *f = fake_new(&ops);
    uint8_t sgl1[16];

    /* bit bucket and keyed descriptors are not supported */
    put_sgl(sgl1, 0x8000, 0x200, NVME_SGL_TYPE_BIT_BUCKET, 0);
    g_assert_cmpuint(nvme_dptr_sgl(sgl1, 0x200, &ops), ==,
                     NVME_SGL_DESC_TYPE_INVALID);
    put_sgl(sgl1, 0x8000, 0x200, NVME_SGL_TYPE_KEYED, 0);
    g_assert_cmpuint(nvme_dptr_sgl(sgl1, 0x200, &ops), ==,
                     NVME_SGL_DESC_TYPE_INVALID);
    /* offset sub type */
    put_sgl(sgl1, 0x8000, 0x200, NVME_SGL_TYPE_DATA_BLOCK,
            NVME_SGL_SUBTYPE_OFFSET);
    g_assert_cmpuint(nvme_dptr_sgl(sgl1, 0x200, &ops), ==,
                     NVME_SGL_DESC_TYPE_INVALID);
    /* segment length not a multiple of a descriptor */
    put_sgl(sgl1, 0x10000, 20, NVME_SGL_TYPE_LAST_SEGMENT, 0);
    g_assert_cmpuint(nvme_dptr_sgl(sgl1, 0x200, &ops), ==,
                     NVME_INVALID_SGL_SEG_DESC);
    /* a segment pointer inside a last segment */
    put_sgl(f->mem + 0x10000, 0x11000, 16, NVME_SGL_TYPE_SEGMENT, 0);
    put_sgl(sgl1, 0x10000, 16, NVME_SGL_TYPE_LAST_SEGMENT, 0);
    g_assert_cmpuint(nvme_dptr_sgl(sgl1, 0x200, &ops), ==,
                     NVME_INVALID_SGL_SEG_DESC);
    /* a segment pointer that is not the last descriptor */
    put_sgl(f->mem + 0x12000, 0x11000, 16, NVME_SGL_TYPE_LAST_SEGMENT, 0);
    put_sgl(f->mem + 0x12010, 0x20000, 0x200, NVME_SGL_TYPE_DATA_BLOCK, 0);
    put_sgl(sgl1, 0x12000, 32, NVME_SGL_TYPE_SEGMENT, 0);
    g_assert_cmpuint(nvme_dptr_sgl(sgl1, 0x200, &ops), ==,
                     NVME_INVALID_SGL_SEG_DESC);
    /* segment outside guest memory */
    put_sgl(sgl1, 0x7fff0000ull, 16, NVME_SGL_TYPE_SEGMENT, 0);
    g_assert_cmpuint(nvme_dptr_sgl(sgl1, 0x200, &ops), ==,
                     NVME_DATA_TRANSFER_ERROR);
    fake_free(f);
}

static void test_sgl_loop(void)
{
    NvmeDptrOps ops;
    Fake *f = fake_new(&ops);
    uint8_t sgl1[16];

    /* a segment whose only descriptor points back at itself */
    put_sgl(f->mem + 0x10000, 0x10000, 16, NVME_SGL_TYPE_SEGMENT, 0);
    put_sgl(sgl1, 0x10000, 16, NVME_SGL_TYPE_SEGMENT, 0);
    g_assert_cmpuint(nvme_dptr_sgl(sgl1, 0x200, &ops), ==,
                     NVME_INVALID_NUM_SGL_DESC);
    g_assert_cmpuint(f->reads, ==, NVME_DPTR_MAX_SGL_SEGMENTS);
    fake_free(f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nvme/dma/prp-one-page", test_prp_one_page);
    g_test_add_func("/nvme/dma/prp-two-pages", test_prp_two_pages);
    g_test_add_func("/nvme/dma/prp-list", test_prp_list);
    g_test_add_func("/nvme/dma/prp-list-partial", test_prp_list_partial_last);
    g_test_add_func("/nvme/dma/prp-list-chained", test_prp_list_chained);
    g_test_add_func("/nvme/dma/prp-errors", test_prp_errors);
    g_test_add_func("/nvme/dma/prp-zero-len", test_prp_zero_len);
    g_test_add_func("/nvme/dma/sgl-data-block", test_sgl_data_block);
    g_test_add_func("/nvme/dma/sgl-segments", test_sgl_segments);
    g_test_add_func("/nvme/dma/sgl-errors", test_sgl_errors);
    g_test_add_func("/nvme/dma/sgl-loop", test_sgl_loop);
    return g_test_run();
}
