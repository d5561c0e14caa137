#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The LLVM build root: a Debian trixie tree (debootstrap, minbase) with clang/lld/llvm 19,
# rustc 1.85, bindgen 0.71 and rust-src, the kernel's minimum versions for x86. Kernels that
# need clang (KASAN or KCSAN with Rust: `RUST depends on !KASAN || CC_IS_CLANG`) and their
# modules are built in it; bookworm has no clang >= 17.
#
#   llvm-root.sh ensure      create it once under $LANA_CACHE/llvm-root/<key> (Debian packages
#                            only; the host's apt configuration is not touched)
#   llvm-root.sh path        print its directory
#   llvm-root.sh run CMD...  run CMD inside it, with /proc and the project's directories bind-
#                            mounted at the same paths, in a private mount namespace (nothing
#                            stays mounted when CMD ends, whatever happens)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SUITE=trixie
PKGS="clang-19,lld-19,llvm-19,libclang-19-dev,rustc,bindgen,rust-src,libelf-dev,libssl-dev,bc,flex,bison,make,python3,cpio,kmod"
key=$(printf '%s %s\n' "$SUITE" "$PKGS" | sha256sum | cut -c1-12)
root=$LANA_CACHE/llvm-root/$SUITE-$key

mirror() {
	local m
	m=$(sed -n 's/^URIs: *\(.*\/debian\)\/\?$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
	[ -n "$m" ] || m=$(awk '$1=="deb" && $0 ~ /debian/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
	[ -n "$m" ] || die "cannot find a Debian mirror in the apt configuration"
	echo "$m"
}

ensure() {
	[ -f "$root/.lana-ready" ] && return 0
	command -v debootstrap >/dev/null || {
		phase "llvm root: installing bookworm's debootstrap"
		run_logged "$LANA_CACHE/logs/apt.log" env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-install-recommends debootstrap
	}
	phase "llvm root: debootstrap $SUITE with clang-19, rustc, bindgen into $root (about 90 s, 2.2 GB)"
	rm -rf "$root"
	mkdir -p "$(dirname "$root")"
	run_logged "$LANA_CACHE/logs/debootstrap.log" \
		debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$root" "$(mirror)"
	# the kernel's Rust build looks for the standard library's source here
	in_root sh -c 'test -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library"' ||
		die "llvm root: rust-src is missing"
	in_root sh -c 'clang-19 --version | head -n 1; rustc --version; bindgen --version' |
		tee "$root/.lana-versions"
	touch "$root/.lana-ready"
}

# in_root CMD...: CMD inside the root, private mounts, the same paths as outside
in_root() {
	local binds=("$LANA_ROOT" "$LANA_CACHE/src" "$LANA_CACHE/kernel")
	[ -n "${KSRC:-}" ] && binds+=("$KSRC")
	[ -n "${LANA_OUT:-}" ] && binds+=("$LANA_OUT")
	# shellcheck disable=SC2016
	unshare --mount --propagation private -- sh -ec '
		root=$1; shift
		mount -t proc proc "$root/proc"
		while [ "$1" != -- ]; do
			mkdir -p "$1" "$root$1"
			mount --bind "$1" "$root$1"
			shift
		done
		shift
		exec chroot "$root" env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"
	' sh "$root" "${binds[@]}" -- "$@"
}

case "${1:-}" in
ensure) ensure ;;
path) echo "$root" ;;
run)
	shift
	[ -f "$root/.lana-ready" ] || die "the LLVM build root is not set up: run 'make setup'"
	in_root "$@"
	;;
*) die "usage: llvm-root.sh ensure|path|run CMD..." ;;
esac
