#!/usr/bin/env python3
"""Turns a TransferBenchmark JMH JSON result (-rf json -rff FILE) into a markdown table:
MB/s and process CPU seconds per GB per (kind, chunk, mode), and ratios against the JDK loop."""
import json
import sys
from collections import defaultdict

rows = defaultdict(dict)
for r in json.load(open(sys.argv[1])):
    p = r["params"]
    key = (p["kind"], int(p["chunk"]))
    chunk = int(p["chunk"])
    ops = r["primaryMetric"]["score"]
    sec = r["secondaryMetrics"]
    b = sec["bytes"]["score"]
    cpu = sec["cpuNanos"]["score"] / b if b else float("nan")
    mover = sec["moverCpuNanos"]["score"] / b if b and "moverCpuNanos" in sec else float("nan")
    rows[key][p["mode"]] = (ops * chunk / 1e6, cpu, mover)

modes = ["splice", "spliceOnly", "fallback", "jdk"]
print("| kind | chunk | " + " | ".join(f"{m} MB/s" for m in modes) + " | "
      + " | ".join(f"{m} mover CPU s/GB" for m in modes)
      + " | splice/jdk mover CPU | splice/fallback mover CPU | splice/jdk MB/s | process CPU s/GB splice, jdk |")
print("|---" * (2 + 2 * len(modes) + 4) + "|")
for (kind, chunk) in sorted(rows):
    d = rows[(kind, chunk)]
    mbs = [f"{d[m][0]:.0f}" if m in d else "-" for m in modes]
    cpus = [f"{d[m][2]:.3f}" if m in d else "-" for m in modes]
    rc = d["splice"][2] / d["jdk"][2] if "splice" in d and "jdk" in d else float("nan")
    rf = d["splice"][2] / d["fallback"][2] if "splice" in d and "fallback" in d else float("nan")
    rt = d["splice"][0] / d["jdk"][0] if "splice" in d and "jdk" in d else float("nan")
    proc = f"{d['splice'][1]:.2f}, {d['jdk'][1]:.2f}" if "splice" in d and "jdk" in d else "-"
    size = f"{chunk // 1024} KiB" if chunk < 1 << 20 else f"{chunk >> 20} MiB"
    print(f"| {kind} | {size} | " + " | ".join(mbs) + " | " + " | ".join(cpus)
          + f" | {rc:.2f} | {rf:.2f} | {rt:.2f} | {proc} |")
