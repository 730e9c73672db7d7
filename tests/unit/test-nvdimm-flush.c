/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the choice of how an NVDIMM label write is made durable
 * (include/hw/mem/nvdimm-flush.h).  Device-DAX cannot be created in a
 * qtest, so this is where its case is checked.
 */
#include "qemu/osdep.h"
#include "hw/mem/nvdimm-flush.h"

typedef struct FlushCase {
    const char *what;
    bool has_fd;
    bool is_pmem;
    mode_t mode;
    bool have_libpmem;
    NvdimmFlush want;
} FlushCase;

static const FlushCase flush_cases[] = {
    { "memory-backend-ram", false, false, 0, true, NVDIMM_FLUSH_NONE },
    { "memory-backend-ram, no libpmem", false, false, 0, false,
      NVDIMM_FLUSH_NONE },
    { "file", true, false, S_IFREG | 0600, true, NVDIMM_FLUSH_MSYNC },
    { "file, no libpmem", true, false, S_IFREG | 0600, false,
      NVDIMM_FLUSH_MSYNC },
    { "memfd", true, false, S_IFREG | 0777, true, NVDIMM_FLUSH_MSYNC },
    { "fstat failed", true, false, 0, true, NVDIMM_FLUSH_MSYNC },
    { "file pmem=on", true, true, S_IFREG | 0600, true, NVDIMM_FLUSH_PMEM },
    /* msync() on device-DAX fails with EINVAL: never msync there */
    { "devdax", true, false, S_IFCHR | 0600, true, NVDIMM_FLUSH_PMEM },
    { "devdax, no libpmem", true, false, S_IFCHR | 0600, false,
      NVDIMM_FLUSH_NONE },
    { "devdax pmem=on", true, true, S_IFCHR | 0600, true, NVDIMM_FLUSH_PMEM },
};

static void test_flush_method(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(flush_cases); i++) {
        const FlushCase *c = &flush_cases[i];
        NvdimmFlush got = nvdimm_flush_method(c->has_fd, c->is_pmem, c->mode,
                                              c->have_libpmem);

        if (got != c->want) {
            g_test_message("%s: flush method %d, want %d", c->what, got,
                           c->want);
        }
        g_assert_cmpint(got, ==, c->want);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nvdimm/flush/method", test_flush_method);
    return g_test_run();
}
