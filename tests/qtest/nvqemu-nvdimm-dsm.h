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
#include "qobject/qdict.h"
#include "qobject/qlist.h"

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

/* Run a QMP command; return its error description or NULL. */
static inline char * G_GNUC_PRINTF(2, 0)
qmp_verror(QTestState *qts, const char *fmt, va_list ap)
{
    QDict *resp = qtest_vqmp(qts, fmt, ap);
    char *desc = NULL;

    if (qdict_haskey(resp, "error")) {
        desc = g_strdup(qdict_get_str(qdict_get_qdict(resp, "error"),
                                      "desc"));
    } else {
        g_assert(qdict_haskey(resp, "return"));
    }
    qobject_unref(resp);
    return desc;
}

static inline void G_GNUC_PRINTF(2, 3)
assert_qmp_ok(QTestState *qts, const char *fmt, ...)
{
    g_autofree char *err = NULL;
    va_list ap;

    va_start(ap, fmt);
    err = qmp_verror(qts, fmt, ap);
    va_end(ap);
    g_assert_cmpstr(err, ==, NULL);
}

/* The command fails with an error description containing @substr. */
static inline void G_GNUC_PRINTF(3, 4)
assert_qmp_error(QTestState *qts, const char *substr, const char *fmt, ...)
{
    g_autofree char *err = NULL;
    va_list ap;

    va_start(ap, fmt);
    err = qmp_verror(qts, fmt, ap);
    va_end(ap);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err, substr));
}

/*
 * Guest-physical base (SPA) of the memory device @id, and in @size (if
 * not NULL) its size: the SPA range's (an NVDIMM-N's state area is not in
 * it).
 */
static inline uint64_t dimm_range(QTestState *qts, const char *id,
                                  uint64_t *size)
{
    QDict *rsp = qtest_qmp(qts, "{'execute': 'query-memory-devices'}");
    QList *list = qdict_get_qlist(rsp, "return");
    uint64_t addr = 0;
    QListEntry *e;

    QLIST_FOREACH_ENTRY(list, e) {
        QDict *data = qdict_get_qdict(qobject_to(QDict, e->value), "data");

        if (!g_strcmp0(qdict_get_try_str(data, "id"), id)) {
            addr = qdict_get_int(data, "addr");
            if (size) {
                *size = qdict_get_int(data, "size");
            }
        }
    }
    qobject_unref(rsp);
    g_assert_cmpuint(addr, !=, 0);
    return addr;
}

/* ---- the FIT as read through QEMU root function 1 (Read FIT) ---- */

typedef struct Fit {
    uint8_t data[4 * DSM_OUT_MAX];
    uint32_t len;
} Fit;

/*
 * The first structure of @type whose 32-bit field at @handle_off is
 * @handle (@handle_off 0: any), or NULL; every length checked on the way.
 */
static inline const uint8_t *fit_find(const Fit *fit, uint16_t type,
                                      unsigned handle_off, uint32_t handle)
{
    for (uint32_t off = 0; off < fit->len;) {
        const uint8_t *p = fit->data + off;
        uint16_t len;

        g_assert_cmpuint(off + 4, <=, fit->len);
        len = lduw_le_p(p + 2);
        g_assert_cmpuint(len, >=, 4);
        g_assert_cmpuint(off + len, <=, fit->len);
        if (lduw_le_p(p) == type &&
            (!handle_off || ldl_le_p(p + handle_off) == handle)) {
            return p;
        }
        off += len;
    }
    return NULL;
}

/* Each structure of @fit in turn, from @off (0 to start): NULL at the end. */
static inline const uint8_t *fit_next(const Fit *fit, uint32_t *off)
{
    const uint8_t *p;

    if (*off >= fit->len) {
        return NULL;
    }
    p = fit->data + *off;
    *off += lduw_le_p(p + 2);
    return p;
}

static inline unsigned fit_count(const Fit *fit, uint16_t type)
{
    const uint8_t *p;
    uint32_t off = 0;
    unsigned n = 0;

    fit_find(fit, UINT16_MAX, 0, 0);        /* checks every length */
    while ((p = fit_next(fit, &off))) {
        n += lduw_le_p(p) == type;
    }
    return n;
}

#endif /* NVQEMU_NVDIMM_DSM_H */
