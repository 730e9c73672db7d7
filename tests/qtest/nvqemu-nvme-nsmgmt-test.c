/*
 * qtest for NVMe Namespace Management (hw/block/nvme/nsmgmt.c): an
 * nvme-subsys with a namespace pool (ns-pool=), namespaces created,
 * attached, used, detached and deleted; every status of the command;
 * TNVMCAP/UNVMCAP/NVMCAP; the namespace table kept across a restart on
 * the same pool image, and recovered from a torn copy.
 *
 * Copyright (c) 2026 nvqemu authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/libqos-pc.h"
#include "hw/block/nvme/spec.h"
#include "hw/block/nvme/nstbl.h"

#include "nvqemu-nvme-host.h"

#define POOL_BYTES      (64 * MiB)
#define POOL_CAP        (POOL_BYTES - NVME_NSTBL_DATA_START)
#define FLBAS_512       0
#define FLBAS_4K        4
#define FLBAS_512_MD8   1       /* 512 B + 8 B of metadata */

/* ---- helpers ------------------------------------------------------------- */

/* A new sparse pool image of @bytes; the caller unlinks and frees it */
static char *pool_new(uint64_t bytes)
{
    char *path;
    int fd = g_file_open_tmp("nvqemu-nsmgmt-XXXXXX.img", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, bytes), ==, 0);
    close(fd);
    return path;
}

/* The subsystem first, then controller nvme0 (and @more) */
#define POOL_DEVICES \
    "-drive id=pool,if=none,format=raw,file=%s " \
    "-device nvme-subsys,id=s0,nqn=nvqtest-pool,ns-pool=pool " \
    "-device nvme,id=nvme0,addr=04.0,serial=nvqtest,subsys=s0 %s"

static Nvme *pool_boot(const char *img, const char *more)
{
    const char *env_args = g_getenv(NVME_ENV_ARGS);
    g_autofree char *args = g_strdup_printf("%s %s", more ? more : "",
                                            env_args ? env_args : "");
    g_autofree char *devices = g_strdup_printf(POOL_DEVICES, img, args);
    Nvme *n = nvme_boot_devices(devices);

    ctrl_enable(n, NVME_CC_AMS_RR);
    return n;
}

/* Start QEMU with @args (a pool command line) and quit; its stderr */
static bool pool_starts(const char *img, const char *more, char **err)
{
    const char *bin = getenv("QTEST_QEMU_BINARY");
    g_autofree char *args = g_strdup_printf("-nodefaults " POOL_DEVICES,
                                            img, more);
    g_autofree char *qemu = g_shell_quote(bin ? bin : "qemu-system-x86_64");
    g_autofree char *cmd = g_strdup_printf(
        "printf '%%s\\n' '{\"execute\":\"qmp_capabilities\"}' "
        "'{\"execute\":\"quit\"}' | %s -machine pc -display none "
        "-S -qmp stdio %s >/dev/null", qemu, args);
    char *argv[] = { (char *)"/bin/sh", (char *)"-c", cmd, NULL };
    int status;

    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               NULL, err, &status, NULL));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Namespace Management create with host data @hd; the NSID in *@nsid */
static uint16_t ns_create_raw(Nvme *n, const NvmeIdNs *hd, uint32_t cdw11,
                              uint32_t *nsid)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_NS_MGMT, 0);

    qtest_memwrite(n->qts, n->buf, hd, sizeof(*hd));
    c.dptr[0] = cpu_to_le64(n->buf);
    c.cdw10 = cpu_to_le32(NVME_NSMGMT_CREATE);
    c.cdw11 = cpu_to_le32(cdw11);
    return admin(n, &c, nsid);
}

static uint16_t ns_create(Nvme *n, uint64_t nsze, uint8_t flbas,
                          uint8_t nmic, uint32_t *nsid)
{
    g_autofree NvmeIdNs *hd = g_new0(NvmeIdNs, 1);

    hd->nsze = cpu_to_le64(nsze);
    hd->ncap = cpu_to_le64(nsze);
    hd->flbas = flbas;
    hd->nmic = nmic;
    return ns_create_raw(n, hd, 0, nsid);
}

static NvmeSqe ns_delete_cmd(Nvme *n, uint32_t nsid)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_NS_MGMT, nsid);

    c.cdw10 = cpu_to_le32(NVME_NSMGMT_DELETE);
    return c;
}

static uint16_t ns_delete(Nvme *n, uint32_t nsid)
{
    NvmeSqe c = ns_delete_cmd(n, nsid);

    return admin(n, &c, NULL);
}

static uint16_t cntlid(Nvme *n)
{
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);

    identify_read(n, NVME_CNS_CTRL, 0, id, sizeof(*id));
    return le16_to_cpu(id->cntlid);
}

/* Namespace Attachment of @nsid to / from controller @id (list in n->buf) */
static NvmeSqe ns_attach_cmd(Nvme *n, uint32_t nsid, bool attach, uint16_t id)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_NS_ATTACHMENT, nsid);
    uint16_t list[2] = { cpu_to_le16(1), cpu_to_le16(id) };

    qtest_memset(n->qts, n->buf, 0, PAGE);
    qtest_memwrite(n->qts, n->buf, list, sizeof(list));
    c.dptr[0] = cpu_to_le64(n->buf);
    c.cdw10 = cpu_to_le32(attach ? NVME_NS_ATTACH_SEL_ATTACH
                                 : NVME_NS_ATTACH_SEL_DETACH);
    return c;
}

static uint16_t ns_attach(Nvme *n, uint32_t nsid, bool attach, uint16_t id)
{
    NvmeSqe c = ns_attach_cmd(n, nsid, attach, id);

    return admin(n, &c, NULL);
}

/* The controllers @nsid is attached to (Identify CNS 12h), as a mask */
static uint32_t attached_to(Nvme *n, uint32_t nsid)
{
    uint16_t list[NVME_CTRL_LIST_MAX + 1];
    uint32_t mask = 0;

    identify_read(n, NVME_CNS_NS_CTRL_LIST, nsid, list, sizeof(list));
    for (unsigned i = 0; i < le16_to_cpu(list[0]); i++) {
        g_assert_cmpuint(le16_to_cpu(list[i + 1]), <, 32);
        mask |= 1u << le16_to_cpu(list[i + 1]);
    }
    return mask;
}

/* TNVMCAP and UNVMCAP (low 64 bits; the high ones must be 0), OACS */
static void capacity(Nvme *n, uint64_t *total, uint64_t *unalloc,
                     uint16_t *oacs)
{
    g_autofree NvmeIdCtrl *id = g_new0(NvmeIdCtrl, 1);

    identify_read(n, NVME_CNS_CTRL, 0, id, sizeof(*id));
    g_assert_cmpuint(ldq_le_p(id->tnvmcap + 8), ==, 0);
    g_assert_cmpuint(ldq_le_p(id->unvmcap + 8), ==, 0);
    *total = ldq_le_p(id->tnvmcap);
    *unalloc = ldq_le_p(id->unvmcap);
    if (oacs) {
        *oacs = le16_to_cpu(id->oacs);
    }
}

static uint64_t unallocated(Nvme *n)
{
    uint64_t t, u;

    capacity(n, &t, &u, NULL);
    return u;
}

static void id_ns(Nvme *n, uint32_t nsid, NvmeIdNs *id)
{
    identify_read(n, NVME_CNS_NS, nsid, id, sizeof(*id));
}

/* Read or write @nlb blocks at @slba of @nsid through I/O queue 1 */
static uint16_t rw(Nvme *n, uint8_t opc, uint32_t nsid, uint64_t slba,
                   uint32_t nlb, uint64_t buf, uint32_t len)
{
    NvmeSqe c = rw_cmd(n, opc, slba, nlb);

    c.nsid = cpu_to_le32(nsid);
    set_prps(n, &c, buf, len, buf + 60 * 1024);
    return io(n, 1, &c);
}

/* Format NVM of @nsid to LBA format @lbaf, no erase */
static uint16_t format(Nvme *n, uint32_t nsid, uint8_t lbaf)
{
    NvmeSqe c = sqe_new(n, NVME_ADM_FORMAT_NVM, nsid);

    c.cdw10 = cpu_to_le32(lbaf);
    return admin(n, &c, NULL);
}

/* Whether the Changed Namespace List log names @nsid */
static bool ns_changed(Nvme *n, uint32_t nsid)
{
    uint32_t list[NVME_NS_LIST_MAX];

    g_assert_cmphex(get_log(n, NVME_LOG_CHANGED_NS, sizeof(list), n->buf),
                    ==, NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, list, sizeof(list));
    for (unsigned i = 0; i < NVME_NS_LIST_MAX && list[i]; i++) {
        if (le32_to_cpu(list[i]) == nsid) {
            return true;
        }
    }
    return false;
}

/* ---- tests --------------------------------------------------------------- */

/* Without ns-pool: as stock, no Namespace Management, no NVM capacity */
static void test_no_pool(void)
{
    Nvme *n = nvme_boot("", NULL);
    g_autofree uint8_t *effects = g_malloc(PAGE);
    uint64_t t, u;
    uint32_t nsid;

    ctrl_enable(n, NVME_CC_AMS_RR);
    capacity(n, &t, &u, NULL);
    g_assert_cmpuint(t, ==, 0);
    g_assert_cmpuint(u, ==, 0);
    g_assert_cmphex(get_log(n, NVME_LOG_CMD_EFFECTS, PAGE, n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, effects, PAGE);
    g_assert_cmphex(ldl_le_p(effects + 4 * NVME_ADM_NS_MGMT), ==, 0);
    g_assert_cmphex(ns_create(n, 8, FLBAS_512, 0, &nsid), ==,
                    NVME_INVALID_OPCODE);
    g_assert_cmphex(ns_delete(n, 1), ==, NVME_INVALID_OPCODE);
    nvme_free(n);
}

static void test_capacity_fields(void)
{
    g_autofree char *img = pool_new(POOL_BYTES + 4096);
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    g_autofree uint8_t *effects = g_malloc(PAGE);
    Nvme *n = pool_boot(img, NULL);
    uint64_t t, u;
    uint16_t oacs;
    uint32_t nsid;
    char magic[8];
    FILE *f;

    /* a partial last MiB does not count */
    capacity(n, &t, &u, &oacs);
    g_assert_cmphex(oacs & NVME_OACS_NMS, ==, NVME_OACS_NMS);
    g_assert_cmpuint(t, ==, POOL_CAP);
    g_assert_cmpuint(u, ==, POOL_CAP);
    g_assert_cmphex(get_log(n, NVME_LOG_CMD_EFFECTS, PAGE, n->buf), ==,
                    NVME_SUCCESS);
    qtest_memread(n->qts, n->buf, effects, PAGE);
    g_assert_cmphex(ldl_le_p(effects + 4 * NVME_ADM_NS_MGMT) & NVME_EFF_CSUPP,
                    ==, NVME_EFF_CSUPP);

    /* the common capabilities: 512 B (0) and 4 KiB (4) */
    id_ns(n, NVME_NSID_BROADCAST, id);
    g_assert_cmpuint(id->lbaf[FLBAS_512].lbads, ==, 9);
    g_assert_cmpuint(id->lbaf[FLBAS_4K].lbads, ==, 12);
    g_assert_cmpuint(id->nlbaf, >=, FLBAS_4K);

    /* 3 MiB + 512 B takes a 4 MiB extent */
    g_assert_cmphex(ns_create(n, 6 * 1024 + 1, FLBAS_512, 0, &nsid), ==,
                    NVME_SUCCESS);
    g_assert_cmpuint(nsid, ==, 1);
    capacity(n, &t, &u, NULL);
    g_assert_cmpuint(t, ==, POOL_CAP);
    g_assert_cmpuint(u, ==, POOL_CAP - 4 * MiB);
    g_assert_cmphex(ns_attach(n, nsid, true, cntlid(n)), ==, NVME_SUCCESS);
    id_ns(n, nsid, id);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, 6 * 1024 + 1);
    g_assert_cmpuint(le64_to_cpu(id->ncap), ==, 6 * 1024 + 1);
    g_assert_cmpuint(ldq_le_p(id->nvmcap), ==, 4 * MiB);
    g_assert_cmpuint(ldq_le_p(id->nvmcap + 8), ==, 0);
    g_assert_cmpuint(id->nmic, ==, 0);
    g_assert_cmpuint(id->flbas, ==, FLBAS_512);
    nvme_free(n);

    /* the table is on the image, at its start */
    f = fopen(img, "rb");
    g_assert_nonnull(f);
    g_assert_cmpuint(fread(magic, 1, sizeof(magic), f), ==, sizeof(magic));
    fclose(f);
    g_assert_cmpmem(magic, sizeof(magic), NVME_NSTBL_MAGIC, 8);
    unlink(img);
}

static void test_lifecycle(void)
{
    g_autofree char *img = pool_new(POOL_BYTES);
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    Nvme *n = pool_boot(img, NULL);
    uint64_t data = n->buf + 16 * 1024, back = n->buf + 32 * 1024;
    uint32_t a, b, c;
    uint16_t me = cntlid(n);

    io_queues(n, 1);
    /* two namespaces: 8 MiB of 512 B blocks, 4 MiB of 4 KiB blocks */
    g_assert_cmphex(ns_create(n, 16 * 1024, FLBAS_512, NVME_NMIC_SHRNS, &a),
                    ==, NVME_SUCCESS);
    g_assert_cmphex(ns_create(n, 1024, FLBAS_4K, 0, &b), ==, NVME_SUCCESS);
    g_assert_cmpuint(a, ==, 1);
    g_assert_cmpuint(b, ==, 2);
    g_assert_cmpuint(unallocated(n), ==, POOL_CAP - 12 * MiB);

    /* allocated, not attached: inactive on the controller */
    id_ns(n, a, id);
    g_assert_cmpuint(id->nsze, ==, 0);
    g_assert_cmphex(rw(n, NVME_IO_READ, a, 0, 1, back, 512), ==,
                    NVME_INVALID_NSID);

    g_assert_cmphex(ns_attach(n, a, true, me), ==, NVME_SUCCESS);
    g_assert_cmphex(ns_attach(n, b, true, me), ==, NVME_SUCCESS);
    id_ns(n, a, id);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, 16 * 1024);
    g_assert_cmpuint(id->nmic, ==, NVME_NMIC_SHRNS);
    id_ns(n, b, id);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, 1024);
    g_assert_cmpuint(id->flbas, ==, FLBAS_4K);
    g_assert_cmpuint(id->lbaf[FLBAS_4K].lbads, ==, 12);

    /* a new namespace reads zeroes; I/O at both ends; no more */
    qtest_memset(n->qts, back, 0xaa, 4096);
    g_assert_cmphex(rw(n, NVME_IO_READ, b, 1023, 1, back, 4096), ==,
                    NVME_SUCCESS);
    qtest_memset(n->qts, data, 0, 4096);
    g_assert_true(same(n, data, back, 4096));
    fill(n, data, 4096, 1);
    g_assert_cmphex(rw(n, NVME_IO_WRITE, a, 0, 8, data, 4096), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(rw(n, NVME_IO_WRITE, a, 16 * 1024 - 8, 8, data, 4096),
                    ==, NVME_SUCCESS);
    g_assert_cmphex(rw(n, NVME_IO_WRITE, a, 16 * 1024 - 7, 8, data, 4096),
                    ==, NVME_LBA_OUT_OF_RANGE);
    fill(n, data, 4096, 2);
    g_assert_cmphex(rw(n, NVME_IO_WRITE, b, 0, 1, data, 4096), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(rw(n, NVME_IO_READ, b, 0, 1, back, 4096), ==,
                    NVME_SUCCESS);
    g_assert_true(same(n, data, back, 4096));
    fill(n, data, 4096, 1);
    g_assert_cmphex(rw(n, NVME_IO_READ, a, 16 * 1024 - 8, 8, back, 4096),
                    ==, NVME_SUCCESS);
    g_assert_true(same(n, data, back, 4096));

    /* detach: inactive again, still allocated */
    g_assert_cmphex(ns_attach(n, a, false, me), ==, NVME_SUCCESS);
    g_assert_cmphex(rw(n, NVME_IO_READ, a, 0, 1, back, 512), ==,
                    NVME_INVALID_NSID);
    g_assert_cmphex(ns_delete(n, a), ==, NVME_SUCCESS);
    g_assert_cmpuint(unallocated(n), ==, POOL_CAP - 4 * MiB);

    /* delete of an attached namespace detaches it first, with notice */
    get_log(n, NVME_LOG_CHANGED_NS, PAGE, n->buf);      /* clear it */
    g_assert_cmphex(ns_delete(n, b), ==, NVME_SUCCESS);
    g_assert_true(ns_changed(n, b));
    g_assert_cmphex(rw(n, NVME_IO_READ, b, 0, 1, back, 4096), ==,
                    NVME_INVALID_NSID);
    g_assert_cmpuint(unallocated(n), ==, POOL_CAP);

    /* the NSID and extent are reused, and read zeroes (no stale data) */
    g_assert_cmphex(ns_create(n, 16 * 1024, FLBAS_512, 0, &c), ==,
                    NVME_SUCCESS);
    g_assert_cmpuint(c, ==, 1);
    g_assert_cmphex(ns_attach(n, c, true, me), ==, NVME_SUCCESS);
    g_assert_cmphex(rw(n, NVME_IO_READ, c, 0, 8, back, 4096), ==,
                    NVME_SUCCESS);
    qtest_memset(n->qts, data, 0, 4096);
    g_assert_true(same(n, data, back, 4096));

    /* FFFFFFFFh deletes every created namespace */
    g_assert_cmphex(ns_create(n, 2048, FLBAS_512, 0, &b), ==, NVME_SUCCESS);
    g_assert_cmphex(ns_delete(n, NVME_NSID_BROADCAST), ==, NVME_SUCCESS);
    g_assert_cmpuint(unallocated(n), ==, POOL_CAP);
    g_assert_cmphex(ns_delete(n, c), ==, NVME_INVALID_NSID);
    nvme_free(n);
    unlink(img);
}

static void test_errors(void)
{
    g_autofree char *img = pool_new(POOL_BYTES);
    g_autofree char *d1 = pool_new(MiB);
    g_autofree char *more = g_strdup_printf(
        "-drive id=d1,if=none,format=raw,file=%s "
        "-device nvme-ns,bus=nvme0,drive=d1,nsid=7", d1);
    g_autofree NvmeIdNs *hd = g_new0(NvmeIdNs, 1);
    Nvme *n = pool_boot(img, more);
    NvmeSqe c;
    uint32_t nsid = 0;

    /* SEL, CSI */
    c = sqe_new(n, NVME_ADM_NS_MGMT, 0);
    c.cdw10 = cpu_to_le32(2);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_INVALID_FIELD);
    hd->nsze = hd->ncap = cpu_to_le64(8);
    g_assert_cmphex(ns_create_raw(n, hd, 2u << 24, &nsid), ==,
                    NVME_INVALID_FIELD);

    /* host data outside guest RAM */
    c = sqe_new(n, NVME_ADM_NS_MGMT, 0);
    c.dptr[0] = cpu_to_le64(UNMAPPED_ADDR);
    g_assert_cmphex(admin(n, &c, NULL), ==, NVME_DATA_TRANSFER_ERROR);

    /* the host data field by field */
    g_assert_cmphex(ns_create(n, 0, FLBAS_512, 0, &nsid), ==,
                    NVME_INVALID_FIELD);
    hd->ncap = cpu_to_le64(4);
    g_assert_cmphex(ns_create_raw(n, hd, 0, &nsid), ==,
                    NVME_THIN_PROV_NOT_SUPPORTED);
    hd->ncap = hd->nsze;
    g_assert_cmphex(ns_create(n, 8, 1, 0, &nsid), ==, NVME_INVALID_FORMAT);
    g_assert_cmphex(ns_create(n, 8, 15, 0, &nsid), ==, NVME_INVALID_FORMAT);
    g_assert_cmphex(ns_create(n, 8, FLBAS_512 | 0x10, 0, &nsid), ==,
                    NVME_INVALID_FORMAT);
    g_assert_cmphex(ns_create(n, 8, FLBAS_512 | 0x20, 0, &nsid), ==,
                    NVME_INVALID_FORMAT);
    g_assert_cmphex(ns_create(n, 8, FLBAS_512, 2, &nsid), ==,
                    NVME_INVALID_FIELD);
    hd->dps = 1;
    g_assert_cmphex(ns_create_raw(n, hd, 0, &nsid), ==, NVME_INVALID_FIELD);
    hd->dps = 0;
    hd->anagrpid = cpu_to_le32(1);
    g_assert_cmphex(ns_create_raw(n, hd, 0, &nsid), ==, NVME_INVALID_FIELD);
    hd->anagrpid = 0;
    hd->endgid = cpu_to_le16(2);
    g_assert_cmphex(ns_create_raw(n, hd, 0, &nsid), ==, NVME_INVALID_FIELD);
    hd->endgid = cpu_to_le16(1);
    g_assert_cmphex(ns_create_raw(n, hd, 0, &nsid), ==, NVME_SUCCESS);
    g_assert_cmpuint(nsid, ==, 1);
    g_assert_cmpuint(unallocated(n), ==, POOL_CAP - MiB);

    /* beyond capacity: Insufficient Capacity, nothing changed */
    g_assert_cmphex(ns_create(n, (POOL_CAP - MiB) / 512 + 1, FLBAS_512, 0,
                              &nsid), ==, NVME_NS_INSUFFICIENT_CAPACITY);
    g_assert_cmphex(ns_create(n, UINT64_MAX, FLBAS_4K, 0, &nsid), ==,
                    NVME_NS_INSUFFICIENT_CAPACITY);
    g_assert_cmpuint(unallocated(n), ==, POOL_CAP - MiB);
    /* exactly what is left fits */
    g_assert_cmphex(ns_create(n, (POOL_CAP - MiB) / 4096, FLBAS_4K, 0,
                              &nsid), ==, NVME_SUCCESS);
    g_assert_cmpuint(nsid, ==, 2);
    g_assert_cmpuint(unallocated(n), ==, 0);
    g_assert_cmphex(ns_create(n, 1, FLBAS_512, 0, &nsid), ==,
                    NVME_NS_INSUFFICIENT_CAPACITY);

    /* delete: not allocated, given on the command line, nsid 0 */
    g_assert_cmphex(ns_delete(n, 3), ==, NVME_INVALID_NSID);
    g_assert_cmphex(ns_delete(n, 0), ==, NVME_INVALID_NSID);
    g_assert_cmphex(ns_delete(n, 7), ==, NVME_INVALID_FIELD);
    g_assert_cmphex(ns_delete(n, NVME_NSID_BROADCAST), ==, NVME_SUCCESS);
    g_assert_cmpuint(unallocated(n), ==, POOL_CAP);
    /* the command-line namespace is still there */
    g_assert_cmphex(ns_delete(n, 7), ==, NVME_INVALID_FIELD);
    nvme_free(n);
    unlink(img);
    unlink(d1);
}

/* Every NSID in use: Namespace Identifier Unavailable */
static void test_nsid_unavailable(void)
{
    g_autofree char *img = pool_new(NVME_NSTBL_DATA_START + 260 * MiB);
    Nvme *n = pool_boot(img, NULL);
    uint32_t nsid;

    for (uint32_t i = 1; i <= 256; i++) {
        g_assert_cmphex(ns_create(n, 1, FLBAS_512, 0, &nsid), ==,
                        NVME_SUCCESS);
        g_assert_cmpuint(nsid, ==, i);
    }
    g_assert_cmpuint(unallocated(n), ==, 4 * MiB);
    g_assert_cmphex(ns_create(n, 1, FLBAS_512, 0, &nsid), ==,
                    NVME_NS_ID_UNAVAILABLE);
    g_assert_cmpuint(unallocated(n), ==, 4 * MiB);
    g_assert_cmphex(ns_delete(n, 100), ==, NVME_SUCCESS);
    g_assert_cmphex(ns_create(n, 1, FLBAS_512, 0, &nsid), ==, NVME_SUCCESS);
    g_assert_cmpuint(nsid, ==, 100);
    nvme_free(n);
    unlink(img);
}

/* Created namespaces, their attachments and data survive a restart */
static void test_persistence(void)
{
    g_autofree char *img = pool_new(POOL_BYTES);
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    Nvme *n = pool_boot(img, NULL);
    uint64_t data = n->buf + 16 * 1024, back = n->buf + 32 * 1024;
    uint16_t me = cntlid(n);
    uint32_t a, b;

    io_queues(n, 1);
    g_assert_cmphex(ns_create(n, 4096, FLBAS_512, NVME_NMIC_SHRNS, &a), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(ns_create(n, 512, FLBAS_4K, 0, &b), ==, NVME_SUCCESS);
    g_assert_cmphex(ns_attach(n, a, true, me), ==, NVME_SUCCESS);
    fill(n, data, 4096, 9);
    g_assert_cmphex(rw(n, NVME_IO_WRITE, a, 100, 8, data, 4096), ==,
                    NVME_SUCCESS);
    nvme_free(n);

    n = pool_boot(img, NULL);
    io_queues(n, 1);
    g_assert_cmpuint(unallocated(n), ==, POOL_CAP - 4 * MiB);
    /* a: attached again, same size and data */
    id_ns(n, a, id);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, 4096);
    g_assert_cmpuint(id->nmic, ==, NVME_NMIC_SHRNS);
    g_assert_cmphex(rw(n, NVME_IO_READ, a, 100, 8, back, 4096), ==,
                    NVME_SUCCESS);
    fill(n, data, 4096, 9);         /* what the first QEMU wrote */
    g_assert_true(same(n, data, back, 4096));
    g_assert_cmphex(ns_attach(n, a, true, me), ==, NVME_NS_ALREADY_ATTACHED);
    /* b: allocated, still detached, still 4 KiB blocks */
    id_ns(n, b, id);
    g_assert_cmpuint(id->nsze, ==, 0);
    g_assert_cmphex(ns_attach(n, b, true, me), ==, NVME_SUCCESS);
    id_ns(n, b, id);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, 512);
    g_assert_cmpuint(id->flbas, ==, FLBAS_4K);
    /* detach a: that too is kept; so is a Format NVM of b to 512 B */
    g_assert_cmphex(ns_attach(n, a, false, me), ==, NVME_SUCCESS);
    g_assert_cmphex(format(n, b, FLBAS_512), ==, NVME_SUCCESS);
    /* a format with metadata is one the table cannot bring back */
    g_assert_cmphex(format(n, b, FLBAS_512_MD8), ==, NVME_INVALID_FORMAT);
    id_ns(n, b, id);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, 4096);
    nvme_free(n);

    n = pool_boot(img, NULL);
    id_ns(n, a, id);
    g_assert_cmpuint(id->nsze, ==, 0);
    id_ns(n, b, id);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, 4096);
    g_assert_cmpuint(id->flbas, ==, FLBAS_512);
    g_assert_cmpuint(ldq_le_p(id->nvmcap), ==, 2 * MiB);
    g_assert_cmphex(ns_delete(n, a), ==, NVME_SUCCESS);
    nvme_free(n);

    n = pool_boot(img, NULL);
    g_assert_cmpuint(unallocated(n), ==, POOL_CAP - 2 * MiB);
    g_assert_cmphex(ns_delete(n, a), ==, NVME_INVALID_NSID);
    nvme_free(n);
    unlink(img);
}

/*
 * Delete a namespace while a Copy on it is under way: 32 of copy.c's 8 MiB
 * steps, its first read issued in the doorbell write.  The delete must
 * wait for the Copy, which then completes.  Before, blk_drain() returned
 * with the Copy's next request queued, the namespace was freed under it
 * and the Copy ended in Write Fault (a use after free).
 */
#define COPY_BLOCKS     65536                   /* of 4 KiB: 256 MiB */
#define COPY_POOL_BYTES (POOL_BYTES + 2 * COPY_BLOCKS * 4096ull)
#define ADMIN_QID       0

static void test_delete_copy(void)
{
    g_autofree char *img = pool_new(COPY_POOL_BYTES);
    Nvme *n = pool_boot(img, NULL);
    uint64_t list = n->buf + 16 * 1024;
    uint8_t range[sizeof(NvmeCopySrc32)] = { 0 };
    NvmeSqe copy, del;
    NvmeCqe cqe;
    uint32_t a;

    io_queues(n, 1);
    g_assert_cmphex(ns_create(n, 2 * COPY_BLOCKS, FLBAS_4K, 0, &a), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(ns_attach(n, a, true, cntlid(n)), ==, NVME_SUCCESS);

    /* one range, the first half to the second (format 0h) */
    stq_le_p(range + offsetof(NvmeCopySrc32, slba), 0);
    stw_le_p(range + offsetof(NvmeCopySrc32, nlb), COPY_BLOCKS - 1);
    qtest_memwrite(n->qts, list, range, sizeof(range));
    copy = sqe_new(n, NVME_IO_COPY, a);
    copy.dptr[0] = cpu_to_le64(list);
    copy.cdw10 = cpu_to_le32(COPY_BLOCKS);
    del = ns_delete_cmd(n, a);

    sq_put(n, 1, &copy);
    sq_ring(n, 1);
    sq_put(n, ADMIN_QID, &del);
    sq_ring(n, ADMIN_QID);
    cq_wait_cid(n, ADMIN_QID, sqe_cid(&del), &cqe);
    g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
    cq_wait_cid(n, 1, sqe_cid(&copy), &cqe);
    g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
    nvme_free(n);
    unlink(img);
}

/*
 * A Format NVM with user data erase (it ends asynchronously) and a
 * Namespace Attachment, fetched at once: the Format ends while the
 * attachment writes the namespace table (in blk_pwrite()'s nested poll).
 * Its record now waits for the attachment's write to end.  Before, it
 * built and wrote a table of its own under the attachment's, and the next
 * start lost one of the two changes.
 */
static void test_format_during_attach(void)
{
    g_autofree char *img = pool_new(POOL_BYTES);
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    Nvme *n = pool_boot(img, NULL);
    uint16_t me = cntlid(n);
    NvmeSqe fmt, att;
    NvmeCqe cqe;
    uint32_t a, b;

    /* a: 8 MiB of 512 B blocks, attached; b: detached */
    g_assert_cmphex(ns_create(n, 16 * 1024, FLBAS_512, 0, &a), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(ns_create(n, 1024, FLBAS_512, 0, &b), ==, NVME_SUCCESS);
    g_assert_cmphex(ns_attach(n, a, true, me), ==, NVME_SUCCESS);

    fmt = sqe_new(n, NVME_ADM_FORMAT_NVM, a);
    fmt.cdw10 = cpu_to_le32(FIELD_DP32(FLBAS_4K, NVME_FORMAT_DW10, SES, 1));
    att = ns_attach_cmd(n, b, true, me);
    sq_put(n, ADMIN_QID, &fmt);
    sq_put(n, ADMIN_QID, &att);
    sq_ring(n, ADMIN_QID);
    cq_wait_cid(n, ADMIN_QID, sqe_cid(&fmt), &cqe);
    g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
    cq_wait_cid(n, ADMIN_QID, sqe_cid(&att), &cqe);
    g_assert_cmphex(cqe_sc(&cqe), ==, NVME_SUCCESS);
    nvme_free(n);

    /* both changes are in the table */
    n = pool_boot(img, NULL);
    id_ns(n, a, id);
    g_assert_cmpuint(id->flbas, ==, FLBAS_4K);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, 16 * 1024 * 512 / 4096);
    id_ns(n, b, id);
    g_assert_cmpuint(le64_to_cpu(id->nsze), ==, 1024);
    nvme_free(n);
    unlink(img);
}

/*
 * Two controllers: a shared namespace attached to both, a private one to
 * the second only; both kept across a restart; delete detaches from all
 */
static void test_two_controllers(void)
{
    g_autofree char *img = pool_new(POOL_BYTES);
    const char *ctrl1 = "-device nvme,id=nvme1,addr=05.0,serial=nvqtest,"
                        "subsys=s0";
    Nvme *n = pool_boot(img, ctrl1);
    uint32_t a, b;

    g_assert_cmpuint(cntlid(n), ==, 0);
    g_assert_cmphex(ns_create(n, 2048, FLBAS_512, NVME_NMIC_SHRNS, &a), ==,
                    NVME_SUCCESS);
    g_assert_cmphex(ns_create(n, 2048, FLBAS_512, 0, &b), ==, NVME_SUCCESS);
    g_assert_cmphex(ns_attach(n, a, true, 0), ==, NVME_SUCCESS);
    g_assert_cmphex(ns_attach(n, a, true, 1), ==, NVME_SUCCESS);
    g_assert_cmphex(ns_attach(n, b, true, 1), ==, NVME_SUCCESS);
    g_assert_cmphex(ns_attach(n, b, true, 0), ==, NVME_NS_IS_PRIVATE);
    g_assert_cmphex(attached_to(n, a), ==, 3);
    g_assert_cmphex(attached_to(n, b), ==, 2);
    nvme_free(n);

    n = pool_boot(img, ctrl1);
    g_assert_cmphex(attached_to(n, a), ==, 3);
    g_assert_cmphex(attached_to(n, b), ==, 2);
    /* without the second controller, its attachments wait for it */
    nvme_free(n);
    n = pool_boot(img, NULL);
    g_assert_cmphex(attached_to(n, a), ==, 1);
    g_assert_cmphex(attached_to(n, b), ==, 0);
    /* private: still attached to the absent controller 1 */
    g_assert_cmphex(ns_attach(n, b, true, 0), ==, NVME_NS_IS_PRIVATE);
    g_assert_cmphex(ns_delete(n, b), ==, NVME_SUCCESS);
    nvme_free(n);
    n = pool_boot(img, ctrl1);
    g_assert_cmphex(attached_to(n, a), ==, 3);
    g_assert_cmphex(ns_delete(n, a), ==, NVME_SUCCESS);
    g_assert_cmpuint(unallocated(n), ==, POOL_CAP);
    nvme_free(n);
    unlink(img);
}

/* Overwrite @len bytes at @off of @img with garbage */
static void corrupt(const char *img, uint64_t off, size_t len)
{
    g_autofree uint8_t *junk = g_malloc(len);
    int fd = open(img, O_WRONLY);

    memset(junk, 0x5a, len);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, junk, len, off), ==, len);
    close(fd);
}

/* A torn table write: the other copy (one generation older) is used */
static void test_torn_table(void)
{
    g_autofree char *img = pool_new(POOL_BYTES);
    g_autofree char *err = NULL;
    Nvme *n = pool_boot(img, NULL);           /* generation 0: slot 0 */
    uint32_t a, b;

    g_assert_cmphex(ns_create(n, 2048, FLBAS_512, 0, &a), ==,
                    NVME_SUCCESS);          /* generation 1: slot 1 */
    g_assert_cmphex(ns_create(n, 4096, FLBAS_512, 0, &b), ==,
                    NVME_SUCCESS);          /* generation 2: slot 0 */
    nvme_free(n);

    /* generation 2's entries torn: generation 1 (a only) remains */
    corrupt(img, nvme_nstbl_slot_offset(2) + NVME_NSTBL_HDR_BYTES + 16, 64);
    n = pool_boot(img, NULL);
    g_assert_cmpuint(unallocated(n), ==, POOL_CAP - MiB);
    g_assert_cmphex(ns_delete(n, b), ==, NVME_INVALID_NSID);
    /* the next generation (2) overwrites the torn copy */
    g_assert_cmphex(ns_create(n, 8192, FLBAS_512, 0, &b), ==, NVME_SUCCESS);
    g_assert_cmpuint(b, ==, 2);
    nvme_free(n);

    /* generation 1 torn now: generation 2 is the newer, valid one */
    corrupt(img, nvme_nstbl_slot_offset(1), 8);
    n = pool_boot(img, NULL);
    g_assert_cmpuint(unallocated(n), ==, POOL_CAP - 5 * MiB);
    nvme_free(n);

    /* both torn: refused, never overwritten */
    corrupt(img, nvme_nstbl_slot_offset(2) + 40, 8);
    g_assert_false(pool_starts(img, "", &err));
    g_assert_nonnull(strstr(err, "not a namespace pool"));
    unlink(img);
}

/* Pools QEMU refuses: data that is not a table, too small */
static void test_refused(void)
{
    g_autofree char *img = pool_new(POOL_BYTES);
    g_autofree char *small = pool_new(MiB);
    g_autofree char *err = NULL, *err2 = NULL;

    corrupt(img, 512, 16);
    g_assert_false(pool_starts(img, "", &err));
    g_assert_nonnull(strstr(err, "not a namespace pool"));
    g_assert_false(pool_starts(small, "", &err2));
    g_assert_nonnull(strstr(err2, "ns-pool"));
    unlink(img);
    unlink(small);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/nvqemu/nvme/nsmgmt/no-pool", test_no_pool);
    qtest_add_func("/nvqemu/nvme/nsmgmt/capacity", test_capacity_fields);
    qtest_add_func("/nvqemu/nvme/nsmgmt/lifecycle", test_lifecycle);
    qtest_add_func("/nvqemu/nvme/nsmgmt/errors", test_errors);
    qtest_add_func("/nvqemu/nvme/nsmgmt/nsid-unavailable",
                   test_nsid_unavailable);
    qtest_add_func("/nvqemu/nvme/nsmgmt/persistence", test_persistence);
    qtest_add_func("/nvqemu/nvme/nsmgmt/delete-during-copy",
                   test_delete_copy);
    qtest_add_func("/nvqemu/nvme/nsmgmt/format-during-attach",
                   test_format_during_attach);
    qtest_add_func("/nvqemu/nvme/nsmgmt/two-controllers",
                   test_two_controllers);
    qtest_add_func("/nvqemu/nvme/nsmgmt/torn-table", test_torn_table);
    qtest_add_func("/nvqemu/nvme/nsmgmt/refused", test_refused);
    return g_test_run();
}
