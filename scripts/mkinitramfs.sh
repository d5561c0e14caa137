#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Pack the guest's initramfs: busybox-static, Debian's iproute2 (ip, tc, genl, with their
# libraries, in place of busybox's ip), jq (with its libraries, for reading fbctl -j),
# pktgen.ko, every LANA module, the static userspace binaries and the guest test suite.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$(readlink -f "${1:?usage: mkinitramfs.sh KERNEL_BUILD_DIR [normal|debug]}")
variant=${2:-normal}
name=initramfs
[ "$variant" = normal ] || name=initramfs-$variant
root=$LANA_OUT/$name
bins=$LANA_ROOT/target/x86_64-unknown-linux-gnu/release   # static (see the Makefile)
phase "initramfs: packing $LANA_OUT/$name.cpio.gz"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,lib/modules,lib64,lana/tests}
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done

# copy_with_libs BINARY: the binary into /bin (in place of a busybox applet of that name),
# with its loader and shared libraries.
copy_with_libs() {
	rm -f "$root/bin/$(basename "$1")"
	cp "$1" "$root/bin/"
	copy_libs "$root" "$1"
}
# jq for the tests' reading of `fbctl -j`: jaq, a jq clone that starts in 20 ms where jq 1.6
# takes 300 ms under TCG (it compiles its builtins at every start); static, from make setup
cp "$LANA_TOOLS/bin/jaq" "$root/bin/jq"

# The modules this tree builds, found through Kbuild's own list.
while read -r ko; do
	cp "$LANA_ROOT/${ko%.o}.ko" "$root/lib/modules/"
done < <(sed "s/\.ko$/.o/" "$LANA_ROOT/modules.order")
cp "$kdir/net/core/pktgen.ko" "$root/lib/modules/"

for b in fbctl lana-nc lana-pcount lana-nlfuzz; do
	[ -x "$bins/$b" ] || die "$bins/$b missing: run 'make userspace'"
	cp "$bins/$b" "$root/bin/"
done
copy_with_libs "$LANA_ROOT/target/release/lana-bpfc"
# fbctl's shell completions and man page, generated from its CLI definition
mkdir -p "$root/usr/share/bash-completion/completions" "$root/usr/share/man/man1"
"$bins/fbctl" generate bash >"$root/usr/share/bash-completion/completions/fbctl"
"$bins/fbctl" generate man >"$root/usr/share/man/man1/fbctl.1"
# the tools users already have: `genl ctrl get name lana` describes the family
for b in /bin/ip /sbin/tc /sbin/genl; do
	copy_with_libs "$b"
done
mkdir -p "$root/etc/iproute2"
# ... and the kernel's own netlink CLI, which reads the graph by LANA's YNL spec alone
bash "$LANA_ROOT/scripts/pack-ynl.sh" "$root"

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
install -m 755 "$LANA_ROOT/tests/guest/init" "$root/init"
cp -r "$LANA_ROOT/tests/lib.sh" "$LANA_ROOT/tests/guest" "$LANA_ROOT/tests/soak" "$root/lana/tests/"
[ -d "$LANA_ROOT/tests/data" ] && cp -r "$LANA_ROOT/tests/data" "$root/lana/tests/"
cp "$LANA_ROOT/tests/demo.sh" "$root/lana/"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet | gzip -1) \
	>"$LANA_OUT/$name.cpio.gz"
phase "initramfs: $(du -h "$LANA_OUT/$name.cpio.gz" | cut -f1)"
