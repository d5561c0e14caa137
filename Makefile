# SPDX-License-Identifier: GPL-2.0
# LANA: the two commands a newcomer needs are `make demo` and `make test` (see README.md).
# Everything they need is set up by the targets below; nothing has to be installed by hand.
#
# The kernel modules themselves are described in ./Kbuild and built in one Kbuild run
# against the cached guest kernel tree (`make modules`).

SHELL := /bin/bash
ROOT := $(CURDIR)
export LANA_CACHE ?= $(HOME)/.cache/lana
export LANA_OUT ?= $(ROOT)/build
LIB = . $(ROOT)/scripts/lib.sh
KDIR = $(LANA_OUT)/kernel-normal
HOST_TARGET := x86_64-unknown-linux-gnu
STATIC_BINS := fbctl lana-nc lana-pcount lana-nlfuzz

.PHONY: all setup kernel modules userspace initramfs lint test soak test-debug test-kcsan demo bench vm-shell vm-run \
	clean distclean

all: initramfs

setup:
	@bash scripts/setup.sh

kernel: setup
	@bash scripts/build-kernel.sh normal

# All modules in one Kbuild run. A module tree built against another kernel is cleaned first
# (any change of rust/ in the kernel invalidates every out-of-tree Rust object).
# `make modules KDIR=/path/to/kernel/build` builds them against a kernel tree of your own
# instead (the out-of-tree module convention): a built Linux 7.3 tree with CONFIG_RUST=y,
# made with the rustc on your PATH; the script checks both before it starts.
ifeq ($(origin KDIR),command line)
modules:
	@$(LIB); LANA_KDIR_EXTERNAL=1 bash scripts/build-modules.sh "$(KDIR)"
else
modules: kernel
	@$(LIB); bash scripts/build-modules.sh "$(KDIR)"
endif

# Userspace binaries run on the host and in the guest. They are static, non-PIE programs:
# under QEMU's TCG a dynamically linked Rust program needs ~50 ms just to start, a static one
# ~5 ms, and the tests run thousands. lana-bpfc, fbctl's filter compiler, links libpcap
# (Debian ships no static libpcap without libdbus/libsystemd) and stays dynamic; the
# initramfs carries its shared libraries.
STATIC_RUSTFLAGS := -C target-feature=+crt-static -C relocation-model=static
userspace: setup
	@$(LIB); phase "userspace: cargo build --release (static: $(STATIC_BINS))"; \
	RUSTFLAGS="$(STATIC_RUSTFLAGS)" cargo build -q --release --locked --target $(HOST_TARGET) \
		$(addprefix -p ,$(STATIC_BINS)) --bins && \
	cargo build -q --release --locked -p lana-bpfc

initramfs: modules userspace
	@bash scripts/mkinitramfs.sh "$(KDIR)"

# The build's habits (kernel clippy, rustfmt, cargo clippy, cargo fmt); make test runs it.
lint: modules
	@bash scripts/lint.sh

test: initramfs
	@bash scripts/lint.sh
	@# the out-of-tree convention, against the cached tree as a user's own (nothing to rebuild)
	@$(MAKE) -s modules KDIR="$$(readlink -f $(KDIR))"
	@bash scripts/run-tests.sh

# The long runs (tests/soak): 1,000+ replaces under load, fuzzing with fresh seeds, long
# concurrent reconfiguration, CPU hotplug cycles; the same checks as make test, bigger numbers.
soak: initramfs
	@SUITE=soak VM_TIMEOUT=$${VM_TIMEOUT:-5400} bash scripts/run-tests.sh

# The whole suite on the debug kernel, built with clang in the LLVM build root: KASAN
# (generic, inline), lockdep, KFENCE + SLUB debugging, kmemleak, debug objects, atomic-sleep
# checks, KUnit; any report fails it. The modules are built for it with the same toolchain.
test-debug: userspace
	@bash scripts/build-kernel.sh debug
	@bash scripts/build-modules.sh "$(LANA_OUT)/kernel-debug"
	@bash scripts/mkinitramfs.sh "$(LANA_OUT)/kernel-debug" debug
	@KVARIANT=debug VM_MEM=2048 VM_TIMEOUT=5400 bash scripts/run-tests.sh

# The suite on a KCSAN kernel (data races; KCSAN excludes KASAN): on demand.
test-kcsan: userspace
	@bash scripts/build-kernel.sh kcsan
	@bash scripts/build-modules.sh "$(LANA_OUT)/kernel-kcsan"
	@bash scripts/mkinitramfs.sh "$(LANA_OUT)/kernel-kcsan" kcsan
	@KVARIANT=kcsan VM_MEM=2048 VM_TIMEOUT=5400 bash scripts/run-tests.sh

demo: initramfs
	@bash scripts/vm.sh run tests/demo.sh

# Receive-rate benchmark (the paper's Table 1); results in build/results/bench/.
bench: initramfs
	@bash scripts/bench.sh

vm-shell: initramfs
	@bash scripts/vm.sh shell

vm-run: initramfs
	@test -n "$(SCRIPT)" || { echo "usage: make vm-run SCRIPT=path/to/script.sh"; exit 2; }
	@bash scripts/vm.sh run "$(SCRIPT)"

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -s -C "$(KDIR)" M="$(ROOT)" clean; fi
	rm -rf "$(LANA_OUT)"
	cargo clean -q

# Also forget the cached kernels and tools (the next build starts from nothing).
distclean: clean
	rm -rf "$(LANA_CACHE)"
