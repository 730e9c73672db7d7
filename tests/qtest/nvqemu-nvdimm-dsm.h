/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nvqemu NVDIMM qtests: the DSM transport as the AML drives it, shared by
 * the tests of tests/qtest/nvqemu-nvdimm-*-test.c.
 *
 * There is no firmware under qtest, so a test plays the AML's part: it
 * writes the DSM input page (docs/specs/nvdimm-acpi.md) into guest RAM,
 * writes the page address to I/O port 0x0a18 and reads the reply back.
 */
#ifndef NVQEMU_NVDIMM_DSM_H
#define NVQEMU_NVDIMM_DSM_H

#include "qemu/bswap.h"
#include "libqtest.h"

/* Guest ABI numbers, written out here on purpose (docs/specs/nvdimm-acpi.md) */
#define DSM_DOORBELL 0x0a18
#define DSM_PAGE_SIZE 4096
#define DSM_ARG_OFFSET 12
#define DSM_ARG_MAX 4084
#define DSM_OUT_MAX 4092
#define LABEL_MAX_XFER 4076
#define FIT_CHUNK_MAX 4088

#define HANDLE_ROOT 0
#define HANDLE_QEMU_ROOT 0x10000

/* Intel DIMM functions; FN_READ_FIT is the QEMU root's function 1 */
enum {
    FN_QUERY = 0,
    FN_READ_FIT = 1,
    FN_SMART = 1,
    FN_SMART_THRESHOLD = 2,
    FN_GET_LABEL_SIZE = 4,
    FN_GET_LABEL_DATA = 5,
    FN_SET_LABEL_DATA = 6,
    FN_LATCH_SHUTDOWN = 10,
    FN_SET_SMART_THRESHOLD = 17,
    FN_INJECT_SMART = 18,
};

enum {
    ST_SUCCESS = 0,
    ST_UNSUPPORTED = 1,
    ST_NO_DEVICE = 2,
    ST_INVALID = 3,
    ST_HW_ERROR = 4,
    ST_FIT_CHANGED = 0x100,
};

/* Where the test puts the DSM page in guest RAM (below 4 GiB). */
#define PAGE_GPA 0x200000

typedef struct DsmReply {
    uint32_t len;                   /* data bytes (RLEN - 4) */
    uint8_t data[DSM_OUT_MAX];
} DsmReply;

static inline uint32_t dsm_call(QTestState *qts, uint32_t handle,
                                uint32_t rev, uint32_t fn, const void *arg,
                                size_t arg_len, DsmReply *reply)
{
    uint8_t page[DSM_PAGE_SIZE] = { 0 };
    uint32_t rlen;

    g_assert_cmpuint(arg_len, <=, DSM_ARG_MAX);
    stl_le_p(page, handle);
    stl_le_p(page + 4, rev);
    stl_le_p(page + 8, fn);
    if (arg_len) {
        memcpy(page + DSM_ARG_OFFSET, arg, arg_len);
    }
    qtest_memwrite(qts, PAGE_GPA, page, sizeof(page));
    qtest_outl(qts, DSM_DOORBELL, PAGE_GPA);
    qtest_memread(qts, PAGE_GPA, page, sizeof(page));

    rlen = ldl_le_p(page);
    g_assert_cmpuint(rlen, >=, 8);
    g_assert_cmpuint(rlen, <=, DSM_PAGE_SIZE);
    reply->len = rlen - 4;
    memcpy(reply->data, page + 4, reply->len);
    return ldl_le_p(reply->data);
}

static inline char *make_backing_file(size_t size)
{
    char *path = NULL;
    int fd = g_file_open_tmp("nvqemu-nvdimm-XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

#endif /* NVQEMU_NVDIMM_DSM_H */
