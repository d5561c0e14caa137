#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the guest's BENCH lines into bench.md, bench.json and bench.png (median, min, max
of the repetitions; ratios to the Linux stack measured in the same boot)."""
import json
import re
import statistics
import sys

out, mode = sys.argv[1], sys.argv[2]
runs = {}
order = []
cp = {}
switches = {}
idle = {}
raw_nic = {}
for line in open(f"{out}/raw.txt"):
    m = re.match(r"BENCH-SWITCHES name=(\S+) rep=(\d+) switches=(\d+) packets=(\d+)", line)
    if m:
        switches.setdefault(m.group(1), []).append(int(m.group(3)) / int(m.group(4)))
        continue
    m = re.match(r"BENCH-CP name=(\S+) rep=(\d+) seconds=([0-9.]+)", line)
    if m:
        cp.setdefault(m.group(1), []).append(float(m.group(3)))
        continue
    m = re.match(r"BENCH name=(\S+) rep=(\d+) pps=(\d+) processed=(\d+)(?: idle=([0-9.]+))?", line)
    if m:
        name = m.group(1)
        if m.group(5) is not None:
            # NIC-fed: rate per busy instruction (the host feed may leave the queue dry for
            # moments; idle time is not the engine's)
            i = float(m.group(5))
            idle.setdefault(name, []).append(i)
            raw_nic.setdefault(name, []).append(int(m.group(3)))
            if name not in runs:
                order.append(name)
            runs.setdefault(name, []).append(int(int(m.group(3)) / max(1e-3, 1 - i)))
            continue
        if name not in runs:
            order.append(name)
        runs.setdefault(name, []).append(int(m.group(3)))

PAPER = {  # Table 1 of the paper (pps, ratio to the Linux stack)
    "lana-thread-rt": ("kernel thread, high priority", 700000),
    "lana-thread": ("kernel thread, normal priority", 750000),
    "lana-thread-batch": ("kernel thread, controlled scheduling", 900000),
    "lana-softirq": ("PPE in ksoftirqd", 1300000),
    "stack": ("Linux stack", 1380000),
}
DESC = {
    "stack": "Linux stack alone (receives and drops)",
    "rxdrop": "drop-only rx_handler (ceiling)",
    "rxdrop-unshare": "rx_handler: skb_share_check + drop",
    "lana-softirq": "LANA eth+fwd+fwd, softirq (default)",
    "lana-thread": "LANA eth+fwd+fwd, per-CPU thread, normal priority",
    "lana-thread-rt": "LANA eth+fwd+fwd, per-CPU thread, SCHED_FIFO",
    "lana-thread-batch": "LANA eth+fwd+fwd, per-CPU thread, batches + yields",
    "stack-2cpu": "Linux stack, 2 vCPUs receiving (icount: one host thread, not scaling)",
    "lana-softirq-2cpu": "LANA eth+fwd+fwd, softirq, 2 vCPUs (icount: one host thread, not scaling)",
}
stack = statistics.median(runs["stack"])
ceiling = statistics.median(runs["rxdrop"])
# the fair ceiling: a handler that keeps the packet must own it (pktgen's skb is shared)
fair = statistics.median(runs["rxdrop-unshare"])
rows = []
for name in order:
    v = runs[name]
    med = statistics.median(v)
    base = statistics.median(runs["stack-2cpu"]) if name.endswith("2cpu") else stack
    drop_only, share_check = ceiling, fair
    nic = name.startswith("nic-")
    if nic:
        # NIC-fed rows compare with the NIC-fed baselines of the same run
        base = statistics.median(runs["nic-stack"])
        drop_only = statistics.median(runs["nic-rxdrop"])
        share_check = statistics.median(runs["nic-rxdrop-unshare"])
        name = name[len("nic-"):]
    desc = DESC.get(name) or name
    if name.startswith("chain-"):
        desc = f"LANA eth + {name.split('-')[1]} fwd, softirq"
    elif name.startswith("counters-"):
        desc = f"LANA eth + {name.split('-')[1]} counter, softirq"
    if nic:
        desc = "NIC-fed (virtio-net, NAPI, GRO): " + desc
        name = "nic-" + name
    paper = PAPER.get(name)
    rows.append({
        "config": name, "description": desc, "runs": len(v), "median_pps": med, "min_pps": min(v),
        "max_pps": max(v), "ratio_to_stack": med / base, "ratio_to_ceiling": med / drop_only,
        "ratio_to_share_check_ceiling": med / share_check,
        "busiest_vcpu_idle": statistics.median(idle[name]) if name in idle else None,
        "raw_median_pps": statistics.median(raw_nic[name]) if name in raw_nic else None,
        "thread_switches_per_packet": statistics.median(switches[name]) if name in switches else None,
        "paper_pps": paper[1] if paper and not nic else None,
        "paper_ratio": paper[1] / 1380000 if paper and not nic else None,
    })


def per_block(prefix):
    """Cost of one more block: least-squares slope of time per packet (1/pps) over the
    chain length. Under -icount shift=0 one ns of guest time is one instruction."""
    chains = [(int(r["config"].split("-")[1]), r["median_pps"]) for r in rows if r["config"].startswith(prefix)]
    if len(chains) < 2:
        return None
    xs = [c for c, _ in chains]
    ys = [1e9 / p for _, p in chains]  # ns of guest time per packet
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return {"ns_per_hop": slope, "percent_of_ceiling_time_per_hop": 100 * slope / (1e9 / fair)}


per_hop = per_block("chain-")
per_counter = per_block("counters-")
control = [{"what": k, "runs": len(v), "median_seconds": statistics.median(v)} for k, v in cp.items()]
result = {"mode": mode, "rows": rows, "per_hop": per_hop, "per_counter": per_counter, "control_plane": control}
json.dump(result, open(f"{out}/bench.json", "w"), indent=2)

with open(f"{out}/bench.md", "w") as f:
    f.write(f"Receive rate, 64-byte frames, QEMU TCG ({mode}); median of {rows[0]['runs']} runs, "
            "interleaved in one boot.\n\n")
    f.write("\"/ share-check ceiling\" is the fair ceiling: an rx_handler that must own the packet "
            "(`skb_share_check`, which clones pktgen's shared skb) and drops it. \"eth+fwd+fwd\": an "
            "eth block claiming every frame of the device, two fwd blocks after it; the last fwd has "
            "nothing bound after it, so every packet ends there, dropped and counted (no_next).\n\n")
    f.write("| configuration | median pps | min | max | / Linux stack | / drop-only ceiling | "
            "/ share-check ceiling | paper pps | paper / stack |\n")
    f.write("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    for r in rows:
        pp = f"{r['paper_pps']:,}" if r["paper_pps"] else ""
        pr = f"{r['paper_ratio']:.2f}" if r["paper_ratio"] else ""
        f.write(f"| {r['description']} | {r['median_pps']:,.0f} | {r['min_pps']:,} | {r['max_pps']:,} | "
                f"{r['ratio_to_stack']:.3f} | {r['ratio_to_ceiling']:.3f} | "
                f"{r['ratio_to_share_check_ceiling']:.3f} | {pp} | {pr} |\n")
    f.write("\nUnder -icount shift=0 one ns of guest time is one instruction. The 2-vCPU rows run both "
            "vCPUs round-robin in one host thread: they measure neither scaling nor contention.\n")
    for what, ph in (("forwarder (pass-through)", per_hop), ("counter (called)", per_counter)):
        if ph:
            # (+ 0.0: a fit of -0.0 prints as 0.0)
            f.write(f"\nCost of one more {what} (least squares over chain lengths): "
                    f"{round(ph['ns_per_hop'], 1) + 0.0:.1f} instructions per packet per block, "
                    f"{round(ph['percent_of_ceiling_time_per_hop'], 2) + 0.0:.2f}% of the share-check "
                    "ceiling's time per packet.\n")
    nics = [r for r in rows if r["busiest_vcpu_idle"] is not None]
    if nics:
        f.write("\nNIC-fed rows: frames arrive unshared through virtio-net, NAPI and GRO. The host "
                "(QEMU's UDP socket netdev) cannot keep the queue full on this machine, so the rate "
                "shown is per busy instruction: packets / (guest time x (1 - idle of the busiest "
                "vCPU)); the ratios are to the NIC-fed rows of the same run. Idle while measuring, "
                "and the raw rate: " +
                ", ".join(f"{r['config']} {r['busiest_vcpu_idle']:.3f} ({r['raw_median_pps']:,.0f} pps)"
                          for r in nics) + ".\n")
    sw = [r for r in rows if r["thread_switches_per_packet"] is not None]
    if sw:
        f.write("\nEngine-thread context switches per packet (why the thread rows are slower): " +
                ", ".join(f"{r['config']} {r['thread_switches_per_packet']:.3f}" for r in sw) + ".\n")
    if control:
        f.write("\nControl plane (guest seconds; `fbctl -b` applies the file as one transaction):\n\n")
        f.write("| operation | median seconds | runs |\n|---|---:|---:|\n")
        for c in control:
            kind, n = c["what"].split("-")
            what = f"{int(n):,} adds in one batch file" if kind == "adds" else f"flush of {int(n):,} blocks"
            f.write(f"| {what} | {c['median_seconds']:.2f} | {c['runs']} |\n")

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(11, 5))
names = [r["config"] for r in rows]
ours = [r["ratio_to_stack"] for r in rows]
ax.bar([i - 0.2 for i in range(len(rows))], ours, 0.4, label="LANA (Rust, 7.3), this run")
paper = [r["paper_ratio"] or 0 for r in rows]
ax.bar([i + 0.2 for i in range(len(rows))], paper, 0.4, label="paper (2011), Table 1")
ax.axhline(1.0, color="grey", lw=0.8)
ax.set_xticks(range(len(rows)))
ax.set_xticklabels(names, rotation=45, ha="right")
ax.set_ylabel("receive rate / Linux stack")
ax.set_title(f"LANA receive rate, 64-byte frames ({mode})")
ax.legend()
fig.tight_layout()
fig.savefig(f"{out}/bench.png", dpi=110)
