#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Write the seed corpus of tests/fuzz/corpus/TARGET/ (committed; re-run after
# changing this file): a few valid inputs per target that the fuzzer mutates
# from, so that even the make check smoke starts past the trivial errors.
#
#   tests/fuzz/make-seeds.py [OUTDIR]     (default: tests/fuzz/corpus)
import os
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus')

# --- nvqemu-nvdimm-dsm (tests/fuzz/nvqemu_nvdimm_dsm_fuzz.c)
OP_DSM, OP_DSM_SPA, OP_CLOCK, OP_BAD_PAGE, OP_PORT = range(5)
H_ROOT, H_QEMU_ROOT, H_NV0, H_NV1, H_EMPTY, H_ALL_ONES, H_ANY = range(7)
# Root (ACPI 6.5 9.20.7) and Intel DIMM (Intel DSM spec 1.8) functions
ARS_CAP, ARS_START, ARS_STATUS, ARS_CLEAR, ARS_TRANSLATE = 1, 2, 3, 4, 5
ARS_INJECT, ARS_INJECT_CLEAR, ARS_INJECT_STATUS = 7, 8, 9
SMART, SMART_THRESH, LABEL_SIZE, LABEL_GET, LABEL_SET = 1, 2, 4, 5, 6
LATCH_SHUTDOWN, SET_THRESH, INJECT_SMART = 10, 17, 18
FIT_READ = 1
SIZE = 8 << 20      # within the pmem of the 16 MiB DIMMs (labels, state area)


def dsm(handle, fn, arg=b'', rev=1, op=OP_DSM, any_handle=None):
    sel = struct.pack('<BB', op, handle)
    if handle == H_ANY:
        sel += struct.pack('<I', any_handle)
    return sel + struct.pack('<BBH', rev, fn, len(arg)) + arg


def spa(handle, fn, arg, rev=1):
    return dsm(handle, fn, arg, rev, OP_DSM_SPA)


def clock(ms):
    return struct.pack('<BB', OP_CLOCK, ms - 1)


def rng(start, length):
    return struct.pack('<QQ', start, length)


dsm_seeds = {
    'query': b''.join(dsm(h, 0) for h in (H_ROOT, H_QEMU_ROOT, H_NV0, H_NV1, H_EMPTY)),
    'fit': dsm(H_QEMU_ROOT, FIT_READ, struct.pack('<I', 0)) +
           dsm(H_QEMU_ROOT, FIT_READ, struct.pack('<I', 0x40)),
    'labels': dsm(H_NV0, LABEL_SIZE) +
              dsm(H_NV0, LABEL_SET, struct.pack('<II', 0, 16) + bytes(range(16))) +
              dsm(H_NV0, LABEL_GET, struct.pack('<II', 0, 256)) +
              dsm(H_NV1, LABEL_GET, struct.pack('<II', 0x1ff00, 0x100)),
    'health': dsm(H_NV0, SMART) + dsm(H_NV0, SMART_THRESH) +
              dsm(H_NV0, SET_THRESH, bytes([0x7, 0, 10, 0x40, 0x01, 0x40, 0x01])) +
              dsm(H_NV0, INJECT_SMART, struct.pack('<QBHBBBB', 0xf, 1, 0x500, 1, 10, 0, 1)) +
              dsm(H_NV0, LATCH_SHUTDOWN, bytes([1])) + dsm(H_NV0, SMART) +
              dsm(H_NV1, SMART),
    'ars': spa(H_ROOT, ARS_CAP, rng(0, SIZE)) +
           spa(H_ROOT, ARS_START, rng(0, SIZE) + struct.pack('<HB5x', 2, 0)) +
           dsm(H_ROOT, ARS_STATUS) + clock(200) + dsm(H_ROOT, ARS_STATUS),
    'poison': spa(H_ROOT, ARS_INJECT, rng(0x1000, 0x200) + bytes([1])) +
              dsm(H_ROOT, ARS_INJECT_STATUS) +
              spa(H_ROOT, ARS_START, rng(0, SIZE) + struct.pack('<HB5x', 2, 0)) +
              clock(200) + dsm(H_ROOT, ARS_STATUS) +
              spa(H_ROOT, ARS_TRANSLATE, struct.pack('<Q', 0x1000)) +
              spa(H_ROOT, ARS_CLEAR, rng(0x1000, 0x100)) +
              spa(H_ROOT, ARS_INJECT_CLEAR, rng(0x1000, 0x200)),
    'transport': b''.join(struct.pack('<BB', OP_BAD_PAGE, i) for i in range(7)) +
                 struct.pack('<BBBI', OP_PORT, 2, 0, 0x100000) +
                 struct.pack('<BBBI', OP_PORT, 0, 1, 0x10) +
                 struct.pack('<BBBI', OP_PORT, 5, 0, 0) +
                 dsm(H_ANY, 0, any_handle=0x12345) +
                 dsm(H_NV0, SMART, rev=2) + dsm(H_ALL_ONES, 0),
}

# --- generic-fuzz (upstream tests/qtest/fuzz/generic_fuzz.c input format)
SEP = b'FUZZ'
G_IN, G_OUT, G_READ, G_WRITE, G_PCI_READ, G_PCI_WRITE, G_DISABLE_PCI, \
    G_ADD_DMA_PATTERN, G_CLEAR_DMA_PATTERNS, G_CLOCK_STEP = range(10)
BYTE, WORD, LONG, QUAD = range(4)


def gwrite(size, region, offset, value):
    return struct.pack('<BBB2xIQ', G_WRITE, size, region, offset, value)


def gout(size, region, offset, value):
    return struct.pack('<BBBHI', G_OUT, size, region, offset, value)


def gpattern(data, index=0, stride=0):
    return struct.pack('<BBB', G_ADD_DMA_PATTERN, index, stride) + data


def generic(*cmds):
    return SEP.join(cmds)


# NVMe (NVMe Base 2.0 3.1.4): AQA, ASQ, ACQ, CC, then the admin SQ doorbell.
# The SQ entries come from the DMA pattern: an Identify Controller.
NVME_BAR0 = 0   # the first fuzzable region generic-fuzz finds: BAR0
ident = struct.pack('<BBHI', 0x06, 0, 1, 0) + bytes(16) + \
        struct.pack('<QQ', 0x30000, 0) + struct.pack('<I', 1) + bytes(20)
assert len(ident) == 64
create_cq = struct.pack('<BBHI', 0x05, 0, 2, 0) + bytes(16) + \
            struct.pack('<QQ', 0x40000, 0) + struct.pack('<II', (15 << 16) | 1, 1) + bytes(16)
dbbuf = struct.pack('<BBHI', 0x7c, 0, 3, 0) + bytes(16) + \
        struct.pack('<QQ', 0x50000, 0x51000) + bytes(24)
nvme_enable = [
    gwrite(LONG, NVME_BAR0, 0x24, 0x000f000f),
    gwrite(QUAD, NVME_BAR0, 0x28, 0x10000),
    gwrite(QUAD, NVME_BAR0, 0x30, 0x20000),
    gwrite(LONG, NVME_BAR0, 0x14, 0x00460001),
]
nvme_seeds = {
    'identify': generic(*nvme_enable, gpattern(ident),
                        gwrite(LONG, NVME_BAR0, 0x1000, 1), bytes([G_CLOCK_STEP])),
    'create-cq': generic(*nvme_enable, gpattern(create_cq),
                         gwrite(LONG, NVME_BAR0, 0x1000, 1), bytes([G_CLOCK_STEP])),
    'dbbuf': generic(*nvme_enable, gpattern(dbbuf),
                     gwrite(LONG, NVME_BAR0, 0x1000, 1), bytes([G_CLOCK_STEP])),
    'regs': generic(*(gwrite(LONG, NVME_BAR0, off, 0xffffffff)
                      for off in (0x0c, 0x10, 0x14, 0x1c, 0x20, 0x24, 0x38, 0x3c,
                                  0x50, 0xe00, 0xe04, 0xe08, 0xe14))),
}

# NVDIMM generic: the DSM port takes the page address; the page is a pattern.
nvdimm_seeds = {
    'dsm-query': generic(gpattern(struct.pack('<III', 0x10000, 1, 0)),
                         gout(LONG, 0, 0, 0x100000)),
    'dsm-smart': generic(gpattern(struct.pack('<III', 1, 1, 1)),
                         gout(LONG, 0, 0, 0x100000)),
}

# --- nvqemu-nvme-cmd (tests/fuzz/nvqemu_nvme_cmd_fuzz.c)
C_ADMIN, C_IO, C_IO2, C_RING, C_REG, C_CLOCK, C_PAYLOAD, C_PRP_LIST, \
    C_SGL_SEG, C_PCI, C_DRAIN = range(11)
H0_MSIX, H0_TWO_PAIRS, H0_WRR, H0_NO_IEN, H0_ADMIN_ONLY, H0_POLL = \
    (1 << i for i in range(6))
# indexes into nvf_admin_ops[] / nvf_io_ops[] / nvf_nsids[]
A_DELETE_SQ, A_CREATE_SQ, A_GET_LOG, A_DELETE_CQ, A_CREATE_CQ, A_IDENTIFY, \
    A_ABORT, A_SET_FEAT, A_GET_FEAT, A_AER, A_NS_MGMT, A_NS_ATTACH, \
    A_KEEP_ALIVE, A_DBBUF, A_FORMAT = range(15)
I_FLUSH, I_WRITE, I_READ, I_COMPARE, I_WZ, I_DSM, I_VERIFY, I_COPY = range(8)
NS1, NS2, NS3 = 0, 1, 2
NS_NONE, NS_ALL = 6, 7
F_NO_RING, F_TAME = 1 << 4, 1 << 5
PSDT_SGL = 1 << 2
# nvf_addr() kinds
AD_PAGE, AD_PAGE_OFF, AD_LIST, AD_PAGE_ODD, AD_RAM_END, AD_BEYOND, AD_BAR, \
    AD_BAR_DB, AD_MSI, AD_ZERO, AD_HIGH, AD_RAW = range(12)


def a_page(n):
    return struct.pack('<BB', AD_PAGE, n)


def a_list(n):
    return struct.pack('<BB', AD_LIST, n)


def a_off(n, off):
    return struct.pack('<BHB', AD_PAGE_OFF, off, n)


A_ZERO = bytes([AD_ZERO])


def header(h0=H0_MSIX | H0_POLL, h1=0x66, h2=0x66, h3=0):
    return bytes([h0, h1, h2, h3])


def sqe(admin, sel, nsid=NS1, prp1=A_ZERO, prp2=A_ZERO, mptr=A_ZERO,
        cdw=(), flags=0, q=0, sgl=None):
    r = struct.pack('<BBBBB', C_ADMIN if admin else C_IO, q, sel, flags,
                    nsid)
    if sgl is not None:
        addr, length, shift, ident = sgl
        r = struct.pack('<BBBBB', C_ADMIN if admin else C_IO, q, sel,
                        flags | PSDT_SGL, nsid)
        r += addr + struct.pack('<HBB', length, shift, ident)
    else:
        r += prp1 + prp2
    dw = list(cdw) + [0] * (8 - len(cdw))      # cdw2, cdw3, cdw10..15
    return r + mptr + struct.pack('<8I', *dw)


def adm(sel, nsid=NS_NONE, cdw10=0, cdw11=0, cdw12=0, **kw):
    return sqe(True, sel, nsid, cdw=(0, 0, cdw10, cdw11, cdw12), **kw)


def io(sel, nsid, slba=0, nlb=1, prp1=A_ZERO, prp2=A_ZERO, cdw12=0,
       cdw13=0, cdw14=0, cdw15=0, **kw):
    return sqe(False, sel, nsid, prp1=prp1, prp2=prp2,
               cdw=(0, 0, slba, 0, (nlb - 1) | cdw12, cdw13, cdw14, cdw15),
               **kw)


def payload(page, data, off=0):
    return struct.pack('<BBHH', C_PAYLOAD, page, off, len(data)) + data


def prp_list(lpage, pages):
    return struct.pack('<BBHB', C_PRP_LIST, lpage, 0, len(pages) - 1) + \
        b''.join(a_page(p) for p in pages)


def ring(q, mode, cq=False, val=None):
    r = struct.pack('<BBB', C_RING, q | (0x80 if cq else 0), mode)
    return r + (struct.pack('<H', val) if val is not None else b'')


def reg(sel, val, read=False):
    return struct.pack('<BBI', C_REG, sel | (0x80 if read else 0), val)


def clock(n):
    return struct.pack('<BB', C_CLOCK, n)


DRAIN = bytes([C_DRAIN])
R_INTMS, R_INTMC, R_CC, R_NSSR, R_END, R_DB_ODD, R_DB_Q7 = 2, 3, 4, 6, 12, 15, 16

cmd_seeds = {
    'identify': header() +
                adm(A_IDENTIFY, cdw10=1, prp1=a_page(0)) +
                b''.join(adm(A_IDENTIFY, nsid=n, cdw10=0, prp1=a_page(1 + n))
                         for n in (NS1, NS2, NS3)) +
                adm(A_IDENTIFY, cdw10=2, prp1=a_page(5)) +
                adm(A_IDENTIFY, nsid=NS2, cdw10=3, prp1=a_page(6)) +
                adm(A_IDENTIFY, cdw10=0x1c, prp1=a_page(7)),
    'logs-features': header() +
                     adm(A_GET_LOG, nsid=NS_ALL, cdw10=0x02 | (127 << 16),
                         prp1=a_page(0)) +
                     adm(A_GET_LOG, nsid=NS_ALL, cdw10=0x01 | (15 << 16),
                         prp1=a_page(1)) +
                     adm(A_GET_LOG, nsid=NS_ALL, cdw10=0x05 | (1023 << 16),
                         prp1=a_page(2)) +
                     b''.join(adm(A_GET_FEAT, cdw10=f, prp1=a_page(3))
                              for f in (1, 2, 4, 5, 6, 7, 8, 9, 0xa, 0xb, 0xe,
                                        0xf, 0x16)) +
                     adm(A_SET_FEAT, cdw10=7, cdw11=0x00030003) +
                     adm(A_SET_FEAT, cdw10=8, cdw11=0x0104) +
                     adm(A_SET_FEAT, cdw10=0xe, prp1=a_page(4)),
    'rw': header() +
          payload(0, bytes(range(256)) * 2) +
          io(I_WRITE, NS1, 0, 1, a_page(0)) +
          io(I_READ, NS1, 0, 1, a_page(1)) +
          io(I_WRITE, NS1, 8, 16, a_page(2), a_page(3)) +
          prp_list(0, [4, 5, 6, 7, 8, 9, 10]) +
          io(I_READ, NS1, 0, 64, a_page(11), a_list(0)) +
          io(I_READ, NS2, 0, 8, a_page(12), a_list(0)) +
          io(I_COMPARE, NS1, 0, 1, a_page(0)) +
          io(I_VERIFY, NS1, 0, 16) +
          io(I_WZ, NS2, 1, 2) +
          io(I_FLUSH, NS_ALL) +
          io(I_READ, NS1, 0, 2, a_off(13, 0x200)) +
          io(I_READ, NS1, 1 << 20, 1, a_page(14)),
    'pi': header() +
          io(I_WRITE, NS3, 0, 1, a_page(0), mptr=a_page(1),
             cdw12=(1 << 26), cdw14=0) +
          io(I_READ, NS3, 0, 1, a_page(2), mptr=a_page(3),
             cdw12=(7 << 26)) +
          io(I_WRITE, NS2, 0, 1, a_page(4), a_page(5),
             cdw12=(1 << 29) | (1 << 28)) +
          io(I_READ, NS2, 0, 2, a_page(6), a_page(7), cdw12=(7 << 26)) +
          io(I_VERIFY, NS3, 0, 4, cdw12=(7 << 26)),
    'dsm-copy': header() +
                payload(0, struct.pack('<IIQ', 0, 8, 0) +
                        struct.pack('<IIQ', 0, 16, 64)) +
                sqe(False, I_DSM, NS1, prp1=a_page(0),
                    cdw=(0, 0, 1, 4)) +
                payload(1, bytes(8) + struct.pack('<QHHI', 0, 3, 0, 0) +
                        bytes(12)) +
                sqe(False, I_COPY, NS1, prp1=a_page(1),
                    cdw=(0, 0, 100, 0, 0)) +
                sqe(False, I_COPY, NS2, prp1=a_page(1),
                    cdw=(0, 0, 100, 0, 0)),
    'sgl': header() +
           io(I_READ, NS1, 0, 1, sgl=(a_page(0), 512, 0, 0x00)) +
           struct.pack('<BBBB', C_SGL_SEG, 0, 0, 1) +
           a_page(1) + struct.pack('<HBB', 512, 0, 0x00) +
           a_page(2) + struct.pack('<HBB', 512, 0, 0x00) +
           io(I_READ, NS1, 0, 2, sgl=(a_list(0), 32, 0, 0x30)) +
           io(I_WRITE, NS1, 0, 2, sgl=(a_list(0), 32, 0, 0x20)) +
           io(I_READ, NS1, 0, 1, sgl=(a_page(3), 4096, 0, 0x10)),
    'queues': header(H0_MSIX | H0_TWO_PAIRS | H0_WRR, 0x33, 0x44, 0x1b) +
              adm(A_AER) + adm(A_AER) +
              b''.join(io(I_READ, NS1, 0, 1, a_page(i), q=i & 1)
                       for i in range(6)) +
              ring(1, 0, cq=True) + ring(2, 3, val=1000) +
              ring(1, 3, val=1) + DRAIN +
              adm(A_ABORT, cdw10=(1 | (9 << 16))) +
              io(I_READ, NS1, 0, 1, a_page(8), flags=F_NO_RING) +
              adm(A_DELETE_SQ, cdw10=1) + ring(1, 0) +
              adm(A_CREATE_SQ, cdw10=1 | (15 << 16), cdw11=1 | (1 << 16),
                  prp1=a_page(9)) +
              adm(A_DELETE_CQ, cdw10=2) + adm(A_CREATE_CQ,
                                              cdw10=5 | (7 << 16),
                                              cdw11=3, prp1=a_page(10)) +
              DRAIN,
    'regs': header(H0_POLL) +
            reg(R_INTMS, 1) + reg(R_INTMC, 1) + reg(R_END, 0) +
            reg(R_DB_ODD, 1) + reg(R_DB_Q7, 1) + adm(A_AER) + DRAIN +
            adm(A_SET_FEAT, cdw10=0xf, cdw11=1000) + clock(31) + DRAIN +
            reg(R_CC, 0x00464001) + reg(R_NSSR, 0x4e564d65) +
            struct.pack('<BBH', C_PCI, 0, 0x2) + DRAIN,
    'dbbuf': header() +
             adm(A_DBBUF, prp1=a_page(20), prp2=a_page(21)) +
             io(I_READ, NS1, 0, 1, a_page(0)) +
             payload(20, struct.pack('<IIII', 0, 0, 3, 0)) +
             ring(1, 0),
    'format': header() +
              adm(A_FORMAT, nsid=NS1, cdw10=0) +
              adm(A_FORMAT, nsid=NS2, cdw10=0) + clock(20) + DRAIN +
              io(I_WRITE, NS2, 0, 1, a_page(0)),
}

# the tick target's engine only runs as time passes: every seed ends so
for _name in cmd_seeds:
    if not cmd_seeds[_name].endswith(DRAIN):
        cmd_seeds[_name] += DRAIN

sets = {
    'nvqemu-nvdimm-dsm': dsm_seeds,
    'nvqemu-nvme-cmd': cmd_seeds,
    'nvqemu-nvme-cmd-tick': cmd_seeds,
    'generic-fuzz-nvqemu-nvme': nvme_seeds,
    'generic-fuzz-nvqemu-nvme-subsys': nvme_seeds,
    'generic-fuzz-nvqemu-nvdimm': nvdimm_seeds,
}
for target, seeds in sets.items():
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)
