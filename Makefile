# SPDX-License-Identifier: GPL-2.0-or-later
#
# nvqemu: NVDIMM and NVMe device models as an overlay on upstream QEMU.
#
#   make deps       install the build and test dependencies (as root)
#   make            build qemu-system-x86_64, qemu-img, qemu-storage-daemon, our
#                   unit tests and qtests, upstream's qos-test; make build
#                   JOBS=N for N parallel jobs
#   make demo       boot a demo guest with an NVDIMM and an NVMe controller
#   make check      run every test suite; ends with "N passed, M failed"
#   make check-scripts | check-unit | check-qtest | check-compat | check-guest
#   make check-libvirt
#   make check-asan ASan + UBSan build in build/qemu-asan, then the unit, qtest,
#                   compat and guest suites against it (not part of make check);
#                   ASAN=full instruments all of QEMU, not only our sources
#   make check-valgrind  a few qtest cases with QEMU under valgrind memcheck
#   make check-fuzz the fuzz smoke alone (builds build/fuzz when needed)
#   make vanilla    build stock upstream QEMU (same source) in build/vanilla
#   make compat-record  re-record tests/compat/expected/ from the vanilla build
#   make bench      both builds, then bench/nvme (ratios vs stock and virtio-blk)
#   make bench-nvdimm  our build, then bench/nvdimm-fsync (NVDIMM-N vs virtio-pmem)
#   make fuzz       libFuzzer + ASan + UBSan build in build/fuzz, then fuzz each
#                   target of tests/fuzz/targets FUZZ_TIME seconds (default 600)
#   make fuzz-build | fuzz-report   only build, or sum up build/fuzz/campaign.tsv
#   make clean      remove build/ (the source and ccache caches stay)

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD := $(TOP)/build
QEMU_BUILD := $(BUILD)/qemu
NVQEMU_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/nvqemu
export CCACHE_DIR ?= $(NVQEMU_CACHE)/ccache
export CCACHE_BASEDIR := $(BUILD)
# Builds in other directories (a CI clone, build/vanilla) share the cache:
# paths are made relative to $(BUILD), and the working directory is left out
# of the hash even though we compile with -g.
export CCACHE_NOHASHDIR := 1
NINJA := ninja
JOBS ?= $(shell nproc)

# tests/qtest/qos-test: upstream's qos tests, run on the nvme node by
# tests/qtest/run.sh.
QEMU_TARGETS := qemu-system-x86_64 qemu-img nvqemu-unit nvqemu-qtests nvqemu-bench \
                tests/qtest/qos-test
# qemu-storage-daemon: the NBD server of the shared-storage migration test
# (tests/guest/run.sh migrate-nbd), as a separate host would run it.
QEMU_TARGETS += storage-daemon/qemu-storage-daemon

.PHONY: all build demo check check-unit check-qtest check-guest check-libvirt \
        check-compat check-scripts compat-record vanilla bench bench-nvdimm clean distclean \
        deps build-asan check-asan check-valgrind fuzz fuzz-build fuzz-report check-fuzz FORCE

all: build

deps:
	$(TOP)/scripts/install-deps.sh

# configure is re-run when what it prepares from changes.  A deleted patch
# leaves no file whose time could be newer than config.mk, so the list of
# patch names is kept in a stamp that is rewritten only when the list changes.
PATCHES := $(sort $(wildcard patches/*.patch))
$(BUILD)/patches.list: FORCE
	@mkdir -p $(BUILD)
	@echo '$(PATCHES)' | cmp -s - $@ || echo '$(PATCHES)' > $@

$(BUILD)/config.mk: configure scripts/overlay.sh scripts/prepare-tree.sh \
                    scripts/fetch-qemu.sh $(PATCHES) $(BUILD)/patches.list
	$(TOP)/configure

FORCE:

build: $(BUILD)/config.mk
	@$(TOP)/scripts/link-overlay.sh $(TOP) $(BUILD)/src >/dev/null
	$(NINJA) -C $(QEMU_BUILD) -j$(JOBS) $(QEMU_TARGETS)
	@$(TOP)/scripts/link-firmware.sh $(QEMU_BUILD)

vanilla:
	$(TOP)/configure --vanilla
	$(NINJA) -C $(BUILD)/vanilla/qemu -j$(JOBS) qemu-system-x86_64 qemu-img
	@$(TOP)/scripts/link-firmware.sh $(BUILD)/vanilla/qemu

compat-record: vanilla
	$(TOP)/tests/compat/record.sh $(BUILD)/vanilla/qemu/qemu-system-x86_64

bench: build vanilla
	$(TOP)/bench/nvme

bench-nvdimm: build
	$(TOP)/bench/nvdimm-fsync

demo: build
	$(TOP)/scripts/demo.sh

# Fuzzing (scripts/fuzz.sh): a separate clang build sharing build/src and
# ccache; FUZZ_TARGETS picks targets of tests/fuzz/targets (default all).
FUZZ_TIME ?= 600
FUZZ_TARGETS ?=
# FUZZ_JOBS: targets fuzzed at once, one core each (default 1)
FUZZ_JOBS ?= 1
# FUZZ_HANG: seconds an input may run before it counts as a hang (default 10)
FUZZ_HANG ?= 10
# FUZZ_MAX_LEN: the longest input in bytes (default: libFuzzer's choice)
FUZZ_MAX_LEN ?=
fuzz-build:
	JOBS=$(JOBS) $(TOP)/scripts/fuzz.sh build
fuzz: fuzz-build
	NVQEMU_FUZZ_HANG=$(FUZZ_HANG) NVQEMU_FUZZ_MAX_LEN=$(FUZZ_MAX_LEN) $(TOP)/scripts/fuzz.sh run --time=$(FUZZ_TIME) --jobs=$(FUZZ_JOBS) $(FUZZ_TARGETS)
	$(TOP)/scripts/fuzz.sh report
fuzz-report:
	$(TOP)/scripts/fuzz.sh report

check: build
	$(TOP)/tests/run.sh all

check-scripts:
	$(TOP)/tests/run.sh scripts
check-unit: build
	$(TOP)/tests/run.sh unit
check-qtest: build
	$(TOP)/tests/run.sh qtest
check-compat: build
	$(TOP)/tests/run.sh compat
check-guest: build
	$(TOP)/tests/run.sh guest
check-libvirt: build
	$(TOP)/tests/run.sh libvirt
check-fuzz:
	$(TOP)/tests/run.sh fuzz

# Sanitizer build and run (docs/reliability.md "Sanitizers").  configure
# --asan is cheap when nothing changed, so it runs every time.  ASAN=full:
# all of QEMU instrumented (a full compile) instead of our sources only.
ASAN ?= overlay
ASAN_BUILD := $(BUILD)/qemu-asan
build-asan:
	$(TOP)/configure --asan=$(ASAN)
	@$(TOP)/scripts/link-overlay.sh $(TOP) $(BUILD)/src >/dev/null
	$(NINJA) -C $(ASAN_BUILD) -j$(JOBS) $(QEMU_TARGETS)
	@$(TOP)/scripts/link-firmware.sh $(ASAN_BUILD)
check-asan: build-asan
	$(TOP)/tests/asan/run.sh
check-valgrind: build
	$(TOP)/tests/asan/valgrind.sh

clean:
	rm -rf $(BUILD)
distclean: clean
