#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot the LANA guest.
#   vm.sh test [ARGS]     run the guest test suite; results in $LANA_OUT/results/
#   vm.sh run SCRIPT [ARGS]  run SCRIPT in the guest (modules loaded on demand, fbctl on PATH);
#                         print its output and exit with its exit code
#   vm.sh shell           interactive shell on the serial console (Ctrl-A X quits)
# The guest's kernel log goes to $LANA_OUT/logs/guest-<mode>.log; the run fails on a kernel
# warning, oops, KASAN/lockdep report or RCU stall found there.
# Env: ACCEL=kvm|tcg (default: probe KVM once per kernel, fall back to TCG), ICOUNT=1 for
# deterministic instruction-counted time (benchmarks), VM_TIMEOUT seconds, VM_MEM, VM_CPUS,
# KVARIANT=normal|debug, LANA_GUEST_ENV="K=V ..." for the guest test runner (e.g. LANA_SUITE=soak).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=${1:?usage: vm.sh test|run SCRIPT|shell}
shift
variant=${KVARIANT:-normal}
kernel=$LANA_OUT/kernel-$variant/arch/x86/boot/bzImage
initrd=$LANA_OUT/initramfs.cpio.gz
[ "$variant" = normal ] || initrd=$LANA_OUT/initramfs-$variant.cpio.gz
[ -f "$kernel" ] && [ -f "$initrd" ] || die "guest not built: run 'make initramfs'"
[ -x "$QEMU" ] || die "QEMU missing: run 'make setup'"
mkdir -p "$LANA_OUT/logs" "$LANA_OUT/results"

# A KVM that only exists on paper (nested software virtualisation) aborts or hangs on a
# stock kernel: trust it only after a short test boot worked. The answer is cached per kernel.
pick_accel() {
	if [ -n "${ACCEL:-}" ]; then echo "$ACCEL"; return; fi
	local cache=$LANA_OUT/kernel-$variant/.lana-kvm-probe
	if [ ! -f "$cache" ]; then
		local ans=tcg
		if [ -w /dev/kvm ] && timeout 30 "$QEMU" -accel kvm -cpu host -smp 1 -m 256 -nographic \
			-no-reboot -kernel "$kernel" -initrd "$initrd" \
			-append "console=ttyS0 panic=-1 lana.mode=probe" </dev/null 2>&1 |
			grep -q 'LANA-PROBE-OK'; then
			ans=kvm
		fi
		echo "$ans" >"$cache"
	fi
	cat "$cache"
}

accel=$(pick_accel)
qemu_args=(-smp "${VM_CPUS:-2}" -m "${VM_MEM:-1024}" -nographic -no-reboot -kernel "$kernel")
if [ "$accel" = kvm ]; then
	qemu_args+=(-accel kvm -cpu host)
elif [ "${ICOUNT:-0}" = 1 ]; then
	qemu_args+=(-accel tcg -icount shift=0,sleep=off)
else
	qemu_args+=(-accel tcg)
fi
# VM_NIC_PORT=P: a virtio-net NIC whose wire is UDP on the host (QEMU's socket netdev): it
# receives the frames sent to 127.0.0.1:P, one per datagram (make bench's NIC-fed rows).
if [ -n "${VM_NIC_PORT:-}" ]; then
	qemu_args+=(-netdev "socket,id=nic0,udp=127.0.0.1:$((VM_NIC_PORT + 1)),localaddr=127.0.0.1:$VM_NIC_PORT"
		-device "virtio-net-pci,netdev=nic0,mac=${VM_NIC_MAC:-52:54:00:4c:41:4e}")
fi
cmdline="console=ttyS0 panic=-1 oops=panic softlockup_panic=0 lana.mode=$mode"

# Scan a guest log for kernel reports; print them and return 1 if any. pktgen's notice when
# the device it sends on goes away says "WARNING:" but is none (tests delete a namespace under
# traffic on purpose; tests/guest/run.sh allows the same line).
kernel_reports() {
	grep -aE 'WARNING:|BUG:|Oops|KASAN|RCU stall|rcu_.*detected stall|possible circular locking|suspicious RCU usage|inconsistent lock state|INFO: task .* blocked|Kernel panic|kmemleak: [1-9][0-9]* new suspected|general protection fault|UBSAN' "$1" |
		grep -avE 'pktgen: WARNING: trying to remove a running interface, stopping it now' &&
		return 1
	return 0
}

case "$mode" in
shell)
	phase "vm: interactive shell ($accel); quit with Ctrl-A X"
	exec "$QEMU" "${qemu_args[@]}" -initrd "$initrd" -serial mon:stdio -append "$cmdline quiet"
	;;
test | run)
	log=$LANA_OUT/logs/guest-$mode.log
	out=$LANA_OUT/results/guest-$mode.out
	: >"$out"
	if [ "$mode" = run ]; then
		script=${1:?usage: vm.sh run SCRIPT [ARGS]}
		shift
		[ -f "$script" ] || die "no such script: $script"
		# Append a second cpio with the user's script: the kernel unpacks both archives.
		d=$(mktemp -d)
		chmod 755 "$d"
		mkdir -p "$d/lana"
		cp "$script" "$d/lana/user-script"
		printf '%s\n' "$@" >"$d/lana/user-args"
		extra_initrd=$LANA_OUT/initramfs-$variant-run.cpio.gz
		{ cat "$initrd"; (cd "$d" && find . | cpio -o -H newc --owner=0:0 --quiet | gzip -1); } >"$extra_initrd"
		rm -rf "$d"
	else
		printf '%s\n' "$@" >"$LANA_OUT/results/test-args"
		d=$(mktemp -d)
		chmod 755 "$d"
		mkdir -p "$d/lana"
		printf '%s\n' "$@" >"$d/lana/user-args"
		# shell assignments for the guest runner (the suite, tests' knobs)
		for kv in ${LANA_GUEST_ENV:-}; do echo "export $kv"; done >"$d/lana/profile"
		extra_initrd=$LANA_OUT/initramfs-$variant-test.cpio.gz
		{ cat "$initrd"; (cd "$d" && find . | cpio -o -H newc --owner=0:0 --quiet | gzip -1); } >"$extra_initrd"
		rm -rf "$d"
	fi
	qemu_args+=(-initrd "$extra_initrd")
	phase "vm: booting ($accel, ${VM_CPUS:-2} vCPUs, mode $mode); kernel log $log"
	# ttyS0: kernel console (log); ttyS1: the guest's results channel (out).
	for attempt in 1 2; do
		rc=0
		timeout "${VM_TIMEOUT:-3600}" "$QEMU" "${qemu_args[@]}" -serial "file:$log" -serial "file:$out" \
			-append "$cmdline" </dev/null >"$LANA_OUT/logs/qemu-$mode.log" 2>&1 || rc=$?
		# A kernel that dies while booting, before it starts /init, ran no LANA code (the
		# modules load later, from the guest's scripts): a rare TCG fault (an int3 while the
		# kernel patches its own text) was seen once in many boots. Boot once more, keeping
		# the log; a second crash fails as any other.
		if [ "$attempt" = 1 ] && ! grep -aq 'Run /init as init process' "$log" &&
			grep -aq 'Kernel panic' "$log"; then
			cp "$log" "$log.boot-crash"
			echo "vm: the guest kernel crashed while booting, before /init (no LANA code had run);" \
				"booting once more (the crash's log: $log.boot-crash)" >&2
			: >"$out"
			continue
		fi
		break
	done
	tr -d '\r' <"$out" >"$out.tmp" && mv "$out.tmp" "$out"
	if [ "$mode" = run ]; then
		sed '/^LANA-EXIT: /d' "$out"
	fi
	if [ $rc = 124 ]; then
		echo "---- guest timed out after ${VM_TIMEOUT:-3600}s; last 40 lines of $log ----" >&2
		tail -n 40 "$log" >&2
		exit 124
	fi
	[ $rc = 0 ] || { cat "$LANA_OUT/logs/qemu-$mode.log" >&2; die "qemu exited with $rc"; }
	if ! kernel_reports "$log" >"$LANA_OUT/results/kernel-reports.txt"; then
		echo "---- kernel reports in the guest log ($log) ----" >&2
		cat "$LANA_OUT/results/kernel-reports.txt" >&2
		echo "FAIL: the guest kernel reported problems" >&2
		exit 3
	fi
	status=$(sed -n 's/^LANA-EXIT: //p' "$out" | tail -n 1)
	if [ -z "$status" ]; then
		echo "---- the guest ended without reporting an exit status; last 40 lines of $log ----" >&2
		tail -n 40 "$log" >&2
		exit 125
	fi
	if [ "$mode" = run ] && [ "$status" != 0 ]; then
		echo "vm: the guest script exited with $status" >&2
	fi
	exit "$status"
	;;
*) die "unknown mode $mode" ;;
esac
