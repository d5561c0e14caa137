#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install what LANA's build needs, from nothing. Idempotent: a second run only checks.
#   - bookworm packages, only those missing (naming an installed package would upgrade it)
#   - QEMU 7.2 unpacked into the tool cache (installing qemu-system-x86 conflicts with the
#     backports qemu-utils these machines carry)
#   - libclang >= 17 (PyPI wheel), bindgen-cli, the rust-src component
#   - the Linux 7.3 source from Debian's trixie-backports, fetched with a private apt state so
#     the machine's apt configuration is never changed (skipped when KSRC is set)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

APT_PKGS="bc bison flex libelf-dev libssl-dev cpio kmod busybox-static iproute2 python3-yaml python3-jsonschema xz-utils
	libpcap-dev libcapstone4 libfdt1 libibverbs1 libpmem1 librdmacm1 libslirp0 libvdeplug2
	seabios ipxe-qemu libaio1 libfuse3-3 libglib2.0-0 libgmp10 libgnutls30 libjpeg62-turbo
	libnuma1 libpixman-1-0 libpng16-16 libsasl2-2 libseccomp2 liburing2 libzstd1 libbpf1"

apt_updated=0
apt_update_once() {
	[ $apt_updated = 1 ] || { apt-get update -qq; apt_updated=1; }
}

install_packages() {
	local missing="" p
	for p in $APT_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	phase "apt: installing$missing"
	apt_update_once
	# shellcheck disable=SC2086
	run_logged "$LANA_CACHE/logs/apt.log" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends $missing
}

install_qemu() {
	[ -x "$QEMU" ] && return 0
	phase "qemu: unpacking bookworm's qemu-system-x86 into $LANA_TOOLS/qemu"
	apt_update_once
	local d
	d=$(mktemp -d)
	(cd "$d" && apt-get -o APT::Sandbox::User=root download -qq qemu-system-x86 qemu-system-common qemu-system-data) ||
		die "could not download the qemu-system packages"
	mkdir -p "$LANA_TOOLS/qemu"
	for p in "$d"/*.deb; do dpkg-deb -x "$p" "$LANA_TOOLS/qemu"; done
	rm -rf "$d"
	# QEMU looks for firmware in ../share and ../lib relative to its binary.
	mkdir -p "$LANA_TOOLS/qemu/usr/lib"
	ln -sfn /usr/share/seabios "$LANA_TOOLS/qemu/usr/share/seabios"
	ln -sfn /usr/lib/ipxe "$LANA_TOOLS/qemu/usr/lib/ipxe"
	"$QEMU" --version | head -n 1
}

install_libclang() {
	[ -e "$LIBCLANG_PATH/libclang.so" ] && return 0
	phase "libclang $LIBCLANG_WHEEL_VERSION: unpacking the PyPI wheel"
	local w
	w=$(mktemp -d)
	python3 -m pip download -q --no-deps --only-binary :all: -d "$w" \
		"libclang==$LIBCLANG_WHEEL_VERSION" || die "could not download the libclang wheel"
	python3 -m zipfile -e "$w"/libclang-*.whl "$w/x"
	mkdir -p "$LIBCLANG_PATH"
	cp "$(find "$w/x" -name libclang.so)" "$LIBCLANG_PATH/"
	rm -rf "$w"
}

install_bindgen() {
	bindgen --version 2>/dev/null | grep -q "$BINDGEN_VERSION" && return 0
	phase "bindgen-cli $BINDGEN_VERSION: cargo install (about 80 s)"
	run_logged "$LANA_CACHE/logs/bindgen.log" \
		cargo install --locked bindgen-cli --version "$BINDGEN_VERSION" --root "$LANA_TOOLS"
}

# The guest's jq: jaq, built static (see mkinitramfs.sh).
install_jaq() {
	"$LANA_TOOLS/bin/jaq" --version 2>/dev/null | grep -q "$JAQ_VERSION" && return 0
	phase "jaq $JAQ_VERSION: cargo install, static (about 70 s)"
	RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static" run_logged "$LANA_CACHE/logs/jaq.log" \
		cargo install --locked jaq --version "$JAQ_VERSION" --root "$LANA_TOOLS" --target x86_64-unknown-linux-gnu
}

install_rust_src() {
	[ -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library" ] ||
		{ phase "rustup: adding rust-src"; rustup component add rust-src; }
	# make lint: the kernel's clippy and rustfmt come from the same toolchain
	command -v clippy-driver >/dev/null || { phase "rustup: adding clippy"; rustup component add clippy; }
	command -v rustfmt >/dev/null || { phase "rustup: adding rustfmt"; rustup component add rustfmt; }
}

# Fetch linux-source-7.3 from trixie-backports with a private apt state.
fetch_kernel_source() {
	if [ -n "${KSRC:-}" ]; then
		[ -f "$KSRC/Makefile" ] || die "KSRC=$KSRC is not a kernel tree"
		return 0
	fi
	local cur
	cur=$(cat "$LANA_CACHE/src/current" 2>/dev/null || true)
	[ -n "$cur" ] && [ -f "$cur/.lana-source-id" ] && return 0

	phase "kernel source: fetching $KVER_PKG from trixie-backports (private apt state)"
	local st=$LANA_CACHE/apt-state mirror
	mirror=$(sed -n 's/^URIs: *\(.*\/debian\)\/\?$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
	[ -n "$mirror" ] || mirror=$(awk '$1=="deb" && $0 ~ /debian/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
	[ -n "$mirror" ] || die "cannot find a Debian mirror in the apt configuration"
	rm -rf "$st"
	mkdir -p "$st/lists/partial" "$st/cache/archives/partial" "$st/parts" "$st/dl"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie-backports main" \
		>"$st/sources.list"
	local opts=(-o "Dir::Etc::SourceList=$st/sources.list" -o "Dir::Etc::SourceParts=$st/parts"
		-o "Dir::State::Lists=$st/lists" -o "Dir::Cache=$st/cache")
	run_logged "$LANA_CACHE/logs/apt-backports.log" apt-get "${opts[@]}" update
	local ver
	ver=$(apt-cache "${opts[@]}" show "$KVER_PKG" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
	[ -n "$ver" ] || die "$KVER_PKG is no longer in trixie-backports; set KSRC=<path to a 7.3 tree>"
	phase "kernel source: $KVER_PKG $ver (167 MB download)"
	(cd "$st/dl" && run_logged "$LANA_CACHE/logs/apt-download.log" \
		apt-get "${opts[@]}" -o APT::Sandbox::User=root download "$KVER_PKG")
	local dest=$LANA_CACHE/src/$KVER_PKG-$ver
	rm -rf "$dest" "$st/x"
	mkdir -p "$st/x" "$LANA_CACHE/src"
	dpkg-deb -x "$st/dl"/"$KVER_PKG"_*.deb "$st/x"
	phase "kernel source: unpacking"
	tar -C "$LANA_CACHE/src" -xf "$st/x"/usr/src/"$KVER_PKG".tar.xz
	mv "$LANA_CACHE/src/$KVER_PKG" "$dest"
	echo "$KVER_PKG $ver" >"$dest/.lana-source-id"
	echo "$dest" >"$LANA_CACHE/src/current"
	rm -rf "$st"
}

mkdir -p "$LANA_CACHE/logs" "$LANA_TOOLS/bin"
phase "setup: tools in $LANA_TOOLS"
install_packages
install_qemu
install_libclang
install_bindgen
install_jaq
install_rust_src
fetch_kernel_source
phase "setup: done (kernel source $(kernel_src))"
