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

sets = {
    'nvqemu-nvdimm-dsm': dsm_seeds,
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
