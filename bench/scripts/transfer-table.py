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
    cpu = sec["cpuNanos"]["score"] / sec["bytes"]["score"] if sec["bytes"]["score"] else float("nan")
    rows[key][p["mode"]] = (ops * chunk / 1e6, cpu)

modes = ["splice", "spliceOnly", "fallback", "jdk"]
print("| kind | chunk | " + " | ".join(f"{m} MB/s" for m in modes) + " | "
      + " | ".join(f"{m} CPU s/GB" for m in modes) + " | splice/jdk CPU | splice/jdk MB/s |")
print("|---" * (2 + 2 * len(modes) + 2) + "|")
for (kind, chunk) in sorted(rows):
    d = rows[(kind, chunk)]
    mbs = [f"{d[m][0]:.0f}" if m in d else "-" for m in modes]
    cpus = [f"{d[m][1]:.3f}" if m in d else "-" for m in modes]
    rc = d["splice"][1] / d["jdk"][1] if "splice" in d and "jdk" in d else float("nan")
    rt = d["splice"][0] / d["jdk"][0] if "splice" in d and "jdk" in d else float("nan")
    size = f"{chunk // 1024} KiB" if chunk < 1 << 20 else f"{chunk >> 20} MiB"
    print(f"| {kind} | {size} | " + " | ".join(mbs) + " | " + " | ".join(cpus)
          + f" | {rc:.2f} | {rt:.2f} |")
