# SPDX-License-Identifier: GPL-2.0
# Common settings for LANA's build and VM scripts. Sourced, never run.
#
# Everything that is expensive to make (tools, kernel source, built kernels) lives in a cache
# outside the repository, so a fresh clone reuses it and a fresh machine rebuilds it.

LANA_ROOT=${LANA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
LANA_CACHE=${LANA_CACHE:-$HOME/.cache/lana}
LANA_TOOLS=$LANA_CACHE/tools
LANA_OUT=${LANA_OUT:-$LANA_ROOT/build}        # per-clone outputs (initramfs, logs, results)
mkdir -p "$LANA_OUT/logs"                     # every step logs here, even in a fresh clone
KVER_PKG=linux-source-7.3                     # Debian package holding the kernel source
BINDGEN_VERSION=0.73.2                        # kernel 7.3 needs >= 0.71.1
LIBCLANG_WHEEL_VERSION=18.1.1                 # kernel 7.3 needs libclang >= 17.0.1; bookworm has 16
JAQ_VERSION=3.1.2                             # the guest's jq (fast start-up; see mkinitramfs.sh)
JOBS=${JOBS:-$(nproc)}

export PATH=$LANA_TOOLS/bin:$HOME/.cargo/bin:$PATH
export LIBCLANG_PATH=$LANA_TOOLS/libclang
QEMU=$LANA_TOOLS/qemu/usr/bin/qemu-system-x86_64

LANA_T0=${LANA_T0:-$(date +%s)}
export LANA_T0

# phase MESSAGE: one progress line with the elapsed time since the top-level command started.
phase() {
	printf '[%4ds] %s\n' $(( $(date +%s) - LANA_T0 )) "$*"
}

die() {
	echo "error: $*" >&2
	exit 1
}

# run_logged LOG CMD...: run a long step with its output in LOG; on failure print the tail.
run_logged() {
	local log=$1
	shift
	mkdir -p "$(dirname "$log")"
	if ! "$@" >"$log" 2>&1; then
		echo "---- last 40 lines of $log ----" >&2
		tail -n 40 "$log" >&2
		die "step failed: $* (full log: $log)"
	fi
}

# The kernel source tree: $KSRC if the user has one, else the unpacked Debian package.
kernel_src() {
	if [ -n "${KSRC:-}" ]; then
		echo "$KSRC"
	else
		cat "$LANA_CACHE/src/current" 2>/dev/null || true
	fi
}

# The toolchain a kernel variant is built with: gcc (the host's gcc, rustc, bindgen) or llvm
# (clang and rustc in the LLVM build root, scripts/llvm-root.sh). KASAN and KCSAN with Rust
# need clang.
kernel_toolchain() {
	case "${1:-normal}" in
	debug | kcsan) echo llvm ;;
	*) echo gcc ;;
	esac
}

# kmake gcc|llvm ARGS...: make with that toolchain (a kernel and its modules use the same).
kmake() {
	local toolchain=$1
	shift
	if [ "$toolchain" = llvm ]; then
		bash "$LANA_ROOT/scripts/llvm-root.sh" run make LLVM=-19 "$@"
	else
		make "$@"
	fi
}

# The build directory of the guest kernel for a config variant (normal, debug, kcsan): keyed
# by the kernel version and a hash of everything that changes the result.
kernel_build_dir() {
	local variant=${1:-normal} src ver hash
	src=$(kernel_src)
	[ -n "$src" ] && [ -f "$src/Makefile" ] || die "no kernel source: run 'make setup' or set KSRC"
	ver=$(make -s -C "$src" kernelversion 2>/dev/null)
	hash=$( {
		cat "$LANA_ROOT/config/lana.config"
		[ "$variant" = normal ] || cat "$LANA_ROOT/config/lana-$variant.config"
		cat "$src/.lana-source-id" 2>/dev/null || echo "$src"
		if [ "$(kernel_toolchain "$variant")" = llvm ]; then
			bash "$LANA_ROOT/scripts/llvm-root.sh" path
			cat "$(bash "$LANA_ROOT/scripts/llvm-root.sh" path)/.lana-versions" 2>/dev/null
		else
			rustc --version
			bindgen --version 2>/dev/null
			gcc --version | head -n 1
		fi
	} | sha256sum | cut -c1-12)
	echo "$LANA_CACHE/kernel/$ver-$variant-$hash"
}

# copy_libs ROOT FILE: FILE's loader and shared libraries (ldd) into the same paths under
# ROOT, those not there yet.
copy_libs() {
	local lib
	for lib in $(ldd "$2" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$1$lib" ] && continue
		mkdir -p "$1$(dirname "$lib")"
		cp -L "$lib" "$1$lib"
	done
}
