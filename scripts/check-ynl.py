#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check uapi/lana.yaml, the family's YNL spec: valid against the kernel's genetlink-legacy
schema, accepted by the kernel's generator (tools/net/ynl/pyynl/ynl_gen_c.py), and in
agreement, number for number, with uapi/lana_uapi.rs (which the kernel and fbctl use).
Usage: check-ynl.py KERNEL_SOURCE"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ksrc = sys.argv[1]
spec_path = os.path.join(root, "uapi", "lana.yaml")
pyynl = os.path.join(ksrc, "tools", "net", "ynl", "pyynl")
schema = os.path.join(ksrc, "Documentation", "netlink", "genetlink-legacy.yaml")
errors = []

# 1. the schema
r = subprocess.run([sys.executable, os.path.join(pyynl, "cli.py"), "--spec", spec_path,
                    "--schema", schema, "--validate"], capture_output=True, text=True, timeout=120)
if r.returncode != 0:
    errors.append("schema: " + (r.stderr.strip().splitlines() or ["?"])[-1])

# 2. the generator, in a scratch tree shaped like the kernel's (it looks for MAINTAINERS
#    above the spec, and loops forever without one)
with tempfile.TemporaryDirectory() as d:
    os.makedirs(os.path.join(d, "specs"))
    open(os.path.join(d, "MAINTAINERS"), "w").close()
    for f in os.listdir(os.path.dirname(schema)):
        if f.endswith(".yaml"):
            shutil.copy(os.path.join(os.path.dirname(schema), f), d)
    shutil.copy(spec_path, os.path.join(d, "specs"))
    for mode in ("uapi", "user"):
        r = subprocess.run([sys.executable, os.path.join(pyynl, "ynl_gen_c.py"), "--spec",
                            os.path.join(d, "specs", "lana.yaml"), "--mode", mode, "--header",
                            "-o", os.path.join(d, f"lana-{mode}.h")],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            errors.append(f"ynl_gen_c --mode {mode}: {r.stdout.strip()} {r.stderr.strip()}"[:300])

# 3. the numbers
uapi = {}
for line in open(os.path.join(root, "uapi", "lana_uapi.rs")):
    m = re.match(r"pub const (\w+): [^=]+ = (.*);$", line)
    if m:
        v = m.group(2).strip('"')
        uapi[m.group(1)] = int(v, 0) if re.match(r"^(0x[0-9a-fA-F]+|\d+)$", v) else v
spec = yaml.safe_load(open(spec_path))


def want(name, value, what):
    if uapi.get(name) != value:
        errors.append(f"{what}: spec says {value!r}, lana_uapi.rs {name} = {uapi.get(name)!r}")


want("LANA_GENL_NAME", spec["name"], "family name")
want("LANA_GENL_VERSION", spec["version"], "family version")
consts = {d["name"]: d for d in spec["definitions"]}
want("LANA_NAME_MAX", consts["name-max"]["value"], "name-max")
want("LANA_PROP_MAX", consts["prop-max"]["value"], "prop-max")
want("LANA_F_DROP_STATE", 1 << consts["replace-flags"]["entries"].index("drop-state"), "drop-state")
sets = {s["name"]: s for s in spec["attribute-sets"]}
seen = set()
# Every attribute set but drop-counts (numbered by reason) shares the LANA_A_ numbers: a name
# means the same number in every set it appears in.
for st in spec["attribute-sets"]:
    if st["name"] == "drop-counts":
        continue
    for a in st["attributes"]:
        if a["type"] == "unused":
            continue
        n = "LANA_A_" + a["name"].upper().replace("-", "_")
        want(n, a["value"], f"attribute {a['name']} of set {st['name']}")
        seen.add(n)
missing = [k for k in uapi if k.startswith("LANA_A_") and k != "LANA_A_MAX" and k not in seen]
if missing:
    errors.append("attributes missing from the spec: " + ", ".join(missing))
want("LANA_A_MAX", max(a["value"] for st in spec["attribute-sets"] if st["name"] != "drop-counts"
                        for a in st["attributes"]), "highest attribute")
want("LANA_A_NAME", sets["names"]["attributes"][0]["value"], "names nest")
want("LANA_A_PROP", sets["props"]["attributes"][0]["value"], "props nest")
reasons = [a["name"].replace("-", "_") for a in sets["drop-counts"]["attributes"]]
want("LANA_DROP_REASON_NAMES", ",".join(reasons), "drop reasons")
if [a["value"] for a in sets["drop-counts"]["attributes"]] != list(range(1, len(reasons) + 1)):
    errors.append("drop-counts: attribute types must be reason + 1")
cmds = set()
for op in spec["operations"]["list"]:
    n = "LANA_CMD_" + op["name"].upper().replace("-", "_")
    v = op.get("value") or (op.get("do") or op.get("dump"))["request"]["value"]
    want(n, v, f"operation {op['name']}")
    cmds.add(n)
missing = [k for k in uapi if k.startswith("LANA_CMD_") and k not in cmds]
if missing:
    errors.append("commands missing from the spec: " + ", ".join(missing))
want("LANA_MCGRP_CONFIG", spec["mcast-groups"]["list"][0]["name"], "multicast group")

for e in errors:
    print("check-ynl: " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
