#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Put the kernel's generic netlink CLI, `ynl` (tools/net/ynl of the kernel source), into the
# guest root ROOT with LANA's spec installed where it looks for specs, so that
# `ynl --family lana --dump get` reads the graph and `--subscribe config` streams the changes
# without fbctl. It runs on Debian's python3.11 with only the modules ynl imports (found by
# running it here; the guest has no room for the whole standard library) and PyYAML.
# Usage: pack-ynl.sh ROOT
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=${1:?usage: pack-ynl.sh ROOT}
py=/usr/bin/python3.11
[ -x "$py" ] || die "$py missing: run scripts/setup.sh (Debian's python3)"
src=$(kernel_src)
[ -n "$src" ] || die "no kernel source: run scripts/setup.sh or set KSRC"
pyynl=$src/tools/net/ynl/pyynl
[ -f "$pyynl/cli.py" ] || die "$pyynl/cli.py missing"

# The modules ynl imports: run it on LANA's spec here, where the family does not exist; it
# stops at resolving the family, after its imports (all at the top of its files).
mods=$(mktemp)
trap 'rm -f "$mods"' EXIT
"$py" -I - "$mods" "$pyynl" "$LANA_ROOT/uapi/lana.yaml" <<-'PY' >/dev/null 2>&1 || true
	import atexit, runpy, sys
	out, pyynl, spec = sys.argv[1:4]
	def dump():
	    with open(out, "w") as f:
	        for m in list(sys.modules.values()):
	            p = getattr(m, "__file__", None)
	            if p:
	                print(p, file=f)
	atexit.register(dump)
	sys.path.insert(0, pyynl)
	sys.argv = ["cli.py", "--spec", spec, "--no-schema", "--output-json", "--dump", "get"]
	runpy.run_path(pyynl + "/cli.py", run_name="__main__")
PY
grep -q '/yaml/__init__.py$' "$mods" || die "ynl's imports not found (is python3-yaml installed?)"

mkdir -p "$root/bin" "$root/usr/bin" "$root/usr/share/ynl/pyynl/lib" "$root/usr/share/ynl/specs" \
	"$root/usr/lib/python3.11/lib-dynload"
cp "$py" "$root/usr/bin/python3.11"
copy_libs "$root" "$py"
# the standard library's and PyYAML's modules in place; ynl's own under /usr/share/ynl
while read -r f; do
	case "$f" in
	"$pyynl"/*) continue ;;
	/usr/lib/python3*) ;;
	*) continue ;;
	esac
	mkdir -p "$root$(dirname "$f")"
	cp "$f" "$root$f"
	case "$f" in *.so) copy_libs "$root" "$f" ;; esac
done <"$mods"
cp "$pyynl"/cli.py "$root/usr/share/ynl/pyynl/"
cp "$pyynl"/lib/*.py "$root/usr/share/ynl/pyynl/lib/"
cp "$LANA_ROOT/uapi/lana.yaml" "$root/usr/share/ynl/specs/lana.yaml"
# bytecode ahead (under TCG compiling the modules at every start costs seconds)
"$py" -I -m compileall -q -s "$root" -p / "$root/usr/lib/python3.11" "$root/usr/lib/python3" \
	"$root/usr/share/ynl" >/dev/null
cat >"$root/bin/ynl" <<-'SH'
	#!/bin/sh
	# The kernel's generic netlink CLI (tools/net/ynl); specs in /usr/share/ynl/specs.
	exec /usr/bin/python3.11 -I /usr/share/ynl/pyynl/cli.py --no-schema "$@"
SH
chmod 755 "$root/bin/ynl"
