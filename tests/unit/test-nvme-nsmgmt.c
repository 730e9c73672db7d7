/*
 * Unit tests for the namespace table of an NVMe namespace pool
 * (hw/block/nvme/nstbl.c): encode/decode round trip, corruption and torn
 * writes, generations, first-fit allocation and fragmentation.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/block/nvme/nstbl.h"

#define POOL_BYTES (64 * MiB)

static NvmeNstblEntry entry(uint32_t nsid, uint64_t start, uint64_t nsze,
                            uint8_t lbads)
{
    NvmeNstblEntry e = {
        .nsid = nsid, .start = start, .nsze = nsze, .lbads = lbads,
        .bytes = nsze << lbads,
        .lbaf = lbads == 12 ? 4 : 0, .nmic = 1,
    };

    memset(e.nguid, nsid, sizeof(e.nguid));
    memset(e.uuid, 0xa0 + nsid, sizeof(e.uuid));
    e.eui64[7] = nsid;
    return e;
}

static NvmeNstbl *new_table(void)
{
    NvmeNstbl *t = g_new0(NvmeNstbl, 1);

    g_assert_true(nvme_nstbl_init(t, POOL_BYTES));
    return t;
}

/* Allocate and add a namespace of @bytes; returns its start */
static uint64_t create(NvmeNstbl *t, uint32_t nsid, uint64_t bytes)
{
    uint64_t start;
    NvmeNstblEntry e;

    g_assert_true(nvme_nstbl_alloc(t, bytes, &start));
    e = entry(nsid, start, bytes >> 9, 9);
    g_assert_true(nvme_nstbl_add(t, &e));
    return start;
}

static void test_capacity(void)
{
    g_autofree NvmeNstbl *t = new_table();
    NvmeNstbl small;

    g_assert_cmpuint(nvme_nstbl_total(t), ==, POOL_BYTES - 1 * MiB);
    g_assert_cmpuint(nvme_nstbl_unallocated(t), ==, POOL_BYTES - 1 * MiB);
    create(t, 1, 3 * MiB + 512);     /* rounded up to 4 MiB */
    g_assert_cmpuint(nvme_nstbl_unallocated(t), ==, POOL_BYTES - 5 * MiB);
    /* a pool with no room for data after the table */
    g_assert_false(nvme_nstbl_init(&small, 1 * MiB));
    /* a partial last MiB is not usable */
    g_assert_true(nvme_nstbl_init(&small, 2 * MiB + 4096));
    g_assert_cmpuint(nvme_nstbl_total(&small), ==, 1 * MiB);
}

static void test_roundtrip(void)
{
    g_autofree NvmeNstbl *t = new_table();
    g_autofree NvmeNstbl *u = new_table();
    g_autofree uint8_t *buf = g_malloc(NVME_NSTBL_SLOT_BYTES);
    const char *why = NULL;
    size_t len;

    create(t, 3, 2 * MiB);
    create(t, 1, 1 * MiB);
    g_assert_true(nvme_nstbl_attach(nvme_nstbl_find(t, 3), 7));
    g_assert_true(nvme_nstbl_attach(nvme_nstbl_find(t, 3), 2));
    g_assert_false(nvme_nstbl_attach(nvme_nstbl_find(t, 3), 2));
    t->generation = 5;
    len = nvme_nstbl_encode(t, buf);
    g_assert_cmpuint(len % NVME_NSTBL_IO_ALIGN, ==, 0);
    g_assert_cmpuint(len, >=, NVME_NSTBL_HDR_BYTES +
                     2 * NVME_NSTBL_ENTRY_BYTES);
    g_assert_true(nvme_nstbl_decode(buf, NVME_NSTBL_SLOT_BYTES, u, &why));
    g_assert_cmpuint(u->generation, ==, 5);
    g_assert_cmpuint(u->count, ==, 2);
    g_assert_cmpmem(u->e, sizeof(u->e[0]) * 2, t->e, sizeof(t->e[0]) * 2);
    g_assert_true(nvme_nstbl_attached(nvme_nstbl_find(u, 3), 7));
    g_assert_true(nvme_nstbl_detach(nvme_nstbl_find(u, 3), 7));
    g_assert_false(nvme_nstbl_attached(nvme_nstbl_find(u, 3), 7));
    g_assert_true(nvme_nstbl_attached(nvme_nstbl_find(u, 3), 2));
    g_assert_false(nvme_nstbl_detach(nvme_nstbl_find(u, 3), 7));
}

static void test_corrupt(void)
{
    g_autofree NvmeNstbl *t = new_table();
    g_autofree NvmeNstbl *u = new_table();
    g_autofree uint8_t *buf = g_malloc(NVME_NSTBL_SLOT_BYTES);
    const char *why = NULL;

    create(t, 1, 1 * MiB);
    nvme_nstbl_encode(t, buf);
    /* one flipped bit in an entry */
    buf[NVME_NSTBL_HDR_BYTES + 9] ^= 1;
    g_assert_false(nvme_nstbl_decode(buf, NVME_NSTBL_SLOT_BYTES, u, &why));
    g_assert_cmpstr(why, ==, "checksum mismatch");
    nvme_nstbl_encode(t, buf);
    buf[0] = 'X';
    g_assert_false(nvme_nstbl_decode(buf, NVME_NSTBL_SLOT_BYTES, u, &why));
    g_assert_cmpstr(why, ==, "no table magic");
    /* an entry that no longer fits a smaller pool */
    nvme_nstbl_encode(t, buf);
    u->data_end = 1 * MiB;
    g_assert_false(nvme_nstbl_decode(buf, NVME_NSTBL_SLOT_BYTES, u, &why));
    /* a count beyond what the buffer holds */
    g_assert_false(nvme_nstbl_decode(buf, NVME_NSTBL_HDR_BYTES, u, &why));
}

static void test_load_generations(void)
{
    g_autofree NvmeNstbl *t = new_table();
    g_autofree NvmeNstbl *u = new_table();
    g_autofree uint8_t *slot0 = g_malloc0(NVME_NSTBL_SLOT_BYTES);
    g_autofree uint8_t *slot1 = g_malloc0(NVME_NSTBL_SLOT_BYTES);
    const char *why = NULL;

    /* a blank pool */
    g_assert_cmpint(nvme_nstbl_load(slot0, slot1, u, &why), ==, 1);
    g_assert_cmpuint(u->count, ==, 0);

    /* generation 0 (empty) in slot 0, generation 1 (one ns) in slot 1 */
    nvme_nstbl_encode(t, slot0);
    t->generation = 1;
    create(t, 1, 1 * MiB);
    nvme_nstbl_encode(t, slot1);
    g_assert_cmpint(nvme_nstbl_load(slot0, slot1, u, &why), ==, 0);
    g_assert_cmpuint(u->generation, ==, 1);
    g_assert_cmpuint(u->count, ==, 1);

    /* generation 1's write was torn: generation 0 is what remains */
    memset(slot1 + NVME_NSTBL_HDR_BYTES, 0xee, 100);
    g_assert_cmpint(nvme_nstbl_load(slot0, slot1, u, &why), ==, 0);
    g_assert_cmpuint(u->generation, ==, 0);
    g_assert_cmpuint(u->count, ==, 0);

    /* generation 2 into slot 0, slot 1 still torn */
    t->generation = 2;
    nvme_nstbl_encode(t, slot0);
    g_assert_cmpint(nvme_nstbl_load(slot0, slot1, u, &why), ==, 0);
    g_assert_cmpuint(u->generation, ==, 2);
    g_assert_cmpuint(u->count, ==, 1);

    /* a copy in the slot of another generation is not trusted */
    memcpy(slot1, slot0, NVME_NSTBL_SLOT_BYTES);
    memset(slot0, 0xff, NVME_NSTBL_HDR_BYTES);
    g_assert_cmpint(nvme_nstbl_load(slot0, slot1, u, &why), ==, -1);

    /* neither valid nor blank: not a pool */
    memset(slot1, 0, NVME_NSTBL_SLOT_BYTES);
    g_assert_cmpint(nvme_nstbl_load(slot0, slot1, u, &why), ==, -1);
}

static void test_first_fit(void)
{
    g_autofree NvmeNstbl *t = new_table();
    uint64_t start;

    g_assert_cmpuint(create(t, 1, 10 * MiB), ==, 1 * MiB);
    g_assert_cmpuint(create(t, 2, 20 * MiB), ==, 11 * MiB);
    g_assert_cmpuint(create(t, 3, 10 * MiB), ==, 31 * MiB);
    /* 23 MiB left at the end: 30 MiB does not fit */
    g_assert_false(nvme_nstbl_alloc(t, 30 * MiB, &start));
    /* free the middle: 20 + 23 MiB free, but no hole of 30 MiB */
    g_assert_true(nvme_nstbl_remove(t, 2));
    g_assert_false(nvme_nstbl_remove(t, 2));
    g_assert_cmpuint(nvme_nstbl_unallocated(t), ==, 43 * MiB);
    g_assert_false(nvme_nstbl_alloc(t, 30 * MiB, &start));
    /* first fit takes the first hole that is large enough */
    g_assert_cmpuint(create(t, 4, 5 * MiB), ==, 11 * MiB);
    g_assert_cmpuint(create(t, 5, 16 * MiB), ==, 41 * MiB);
    g_assert_cmpuint(create(t, 6, 15 * MiB), ==, 16 * MiB);
    g_assert_cmpuint(t->e[1].nsid, ==, 4);
    g_assert_cmpuint(t->e[2].nsid, ==, 6);
    /* the whole pool, then nothing */
    g_assert_false(nvme_nstbl_alloc(t, 0, &start));
    g_assert_false(nvme_nstbl_alloc(t, 64 * MiB, &start));
}

static void test_add_checks(void)
{
    g_autofree NvmeNstbl *t = new_table();
    NvmeNstblEntry e;

    create(t, 1, 4 * MiB);
    /* overlapping, duplicate nsid, before the data area, past the end */
    e = entry(2, 2 * MiB, 2048, 9);
    g_assert_false(nvme_nstbl_add(t, &e));
    e = entry(1, 8 * MiB, 2048, 9);
    g_assert_false(nvme_nstbl_add(t, &e));
    e = entry(2, 0, 2048, 9);
    g_assert_false(nvme_nstbl_add(t, &e));
    e = entry(2, 63 * MiB, 4096, 9);
    g_assert_false(nvme_nstbl_add(t, &e));
    e = entry(2, 63 * MiB, 256, 12);
    g_assert_true(nvme_nstbl_add(t, &e));
    g_assert_cmpuint(nvme_nstbl_unallocated(t), ==, 58 * MiB);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nvme/nsmgmt/capacity", test_capacity);
    g_test_add_func("/nvme/nsmgmt/roundtrip", test_roundtrip);
    g_test_add_func("/nvme/nsmgmt/corrupt", test_corrupt);
    g_test_add_func("/nvme/nsmgmt/load-generations", test_load_generations);
    g_test_add_func("/nvme/nsmgmt/first-fit", test_first_fit);
    g_test_add_func("/nvme/nsmgmt/add-checks", test_add_checks);
    return g_test_run();
}
