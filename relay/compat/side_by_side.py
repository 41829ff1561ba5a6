#!/usr/bin/env python3
"""Prints two servers' answers to the same steps side by side (see side-by-side.sh).

Each argument is a directory with one file per step. Before comparing, what differs by nature is
masked: dates and times, durations, byte counts, listener ids, Content-Length (it follows the
masked numbers), the server's name (Server header, server_id), and in JSON bodies the keys only
nocopy has (nocopy_*, and total_bytes_* on the status page; README, compatibility table). A step whose answers are then equal prints one line; otherwise both answers
are printed, the first server's on the left.
"""
import json
import os
import re
import sys

MASKS = [
    (re.compile(r"^Server: .*$", re.M), "Server: <server>"),
    (re.compile(r"<server_id>[^<]*</server_id>"), "<server_id><server></server_id>"),
    (re.compile(r"^(Date|Expires): .*$", re.M), r"\1: <date>"),
    (re.compile(r"^Content-Length: \d+", re.M | re.I), "Content-Length: <n>"),
    (re.compile(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}"), "<date>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:?\d{2}"), "<iso-date>"),
    (re.compile(r"\[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]"), "[<date>]"),
    (re.compile(r"(<(?:total_bytes_read|total_bytes_sent|Connected|ID|listener_peak)>)\d+"), r"\1<n>"),
    (re.compile(r'("(?:total_bytes_read|total_bytes_sent|listener_peak)":)\d+'), r"\1<n>"),
    (re.compile(r"(Client )\d+( )"), r"\1<id>\2"),
    (re.compile(r'(" \d{3} )\d+( ".*" ".*" )\d+$', re.M), r"\1<bytes>\2<seconds>"),
]


def without_own_keys(value):
    """A JSON value without the keys only nocopy's status page has."""
    if isinstance(value, dict):
        return {k: without_own_keys(v) for k, v in value.items()
                if not k.startswith("nocopy_") and not k.startswith("total_bytes_")}
    if isinstance(value, list):
        return [without_own_keys(v) for v in value]
    return value


def normalise(text):
    text = text.replace("\r\n", "\n")
    head, sep, body = text.partition("\n\n")
    if sep and body.startswith("{"):
        try:
            doc = without_own_keys(json.loads(body))
            doc.get("icestats", {})["server_id"] = "<server>"
            text = head + sep + json.dumps(doc, separators=(",", ":"))
        except ValueError:
            pass
    for pattern, repl in MASKS:
        text = pattern.sub(repl, text)
    return text.rstrip("\n")


def main(left_dir, right_dir):
    left_name = os.path.basename(left_dir.rstrip("/"))
    right_name = os.path.basename(right_dir.rstrip("/"))
    steps = sorted(f for f in os.listdir(left_dir) if re.match(r"\d\d-", f))
    same = 0
    for step in steps:
        a = normalise(open(os.path.join(left_dir, step), errors="replace").read())
        path = os.path.join(right_dir, step)
        b = normalise(open(path, errors="replace").read()) if os.path.exists(path) else "<no answer>"
        if a == b:
            same += 1
            first = a.split("\n", 1)[0]
            print(f"== {step}: same ({first[:90]})")
            continue
        print(f"== {step}: differs")
        la, lb = a.split("\n"), b.split("\n")
        width = 60
        print(f"   {left_name:<{width}} | {right_name}")
        for i in range(max(len(la), len(lb))):
            x = la[i] if i < len(la) else ""
            y = lb[i] if i < len(lb) else ""
            mark = " " if x == y else "*"
            # long lines (XML, JSON bodies) are wrapped so both columns stay readable
            xs = [x[j:j + width] for j in range(0, max(len(x), 1), width)]
            ys = [y[j:j + width] for j in range(0, max(len(y), 1), width)]
            for k in range(max(len(xs), len(ys))):
                print(f" {mark} {xs[k] if k < len(xs) else '':<{width}} | {ys[k] if k < len(ys) else ''}")
    print(f"\n{same} of {len(steps)} steps answer the same after masking dates, durations, byte counts and ids")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
