#!/usr/bin/env python3
"""A small large-core case (issue #13): samples/bigcore at a few MB with a slice of 200,000 small
maps, built with Debian's Go 1.19 (golang-1.19-go), analyzed with default settings.

Checks that every map of the slice (and of the slice of structs) is found, that nothing cut the
search, that map_groups and maps[] add up to summary.maps, that every global map of the truth is
listed at its address with its count, and that `maps --format jsonl` writes one valid line per map.

usage: bigcore_check.py GOMAPCORE REPO WORKDIR
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from kernel_cores import SKIP, why_cores_are_not_written_here  # noqa: E402


def truth_records(stderr_path):
    records = []
    with open(stderr_path, errors="replace") as f:
        for line in f:
            if line.startswith("GOMAPCORE-TRUTH "):
                records.append(json.loads(line[len("GOMAPCORE-TRUTH "):]))
    return records


def main(gomapcore, repo, work):
    goroot = "/usr/lib/go-1.19"
    if not os.path.exists(os.path.join(goroot, "bin", "go")):
        print(f"bigcore: {goroot}/bin/go is missing (scripts/setup-debian.sh installs golang-1.19-go)")
        return 1
    # The core is dumped by the kernel into the working directory: a machine whose core_pattern
    # pipes cores elsewhere (systemd-coredump, apport) cannot run this case. Say so and skip.
    why_not = why_cores_are_not_written_here()
    if why_not:
        print(f"bigcore: SKIPPED: {why_not}")
        return SKIP
    godir = os.path.join(work, "go")
    os.makedirs(godir, exist_ok=True)
    link = os.path.join(godir, "go1.19")
    if not os.path.islink(link):
        os.symlink(goroot, link)
    out = os.path.join(work, "small")
    env = dict(os.environ, GOMAPCORE_GO_DIR=godir)
    subprocess.run([os.path.join(repo, "samples", "bigcore", "make-bigcore.sh"), "--go", "1.19", "--size", "4M",
                    "--many", "200000", "--out", out, "--force"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    core, exe = os.path.join(out, "core"), os.path.join(out, "bigcore")
    truth = truth_records(os.path.join(out, "stderr"))
    problems = []

    report = json.loads(subprocess.run([gomapcore, "analyze", core, "--exe", exe, "--format", "json"],
                                       check=True, capture_output=True, text=True).stdout)
    total = report["summary"]["maps"]
    listed = len(report["maps"])
    grouped = sum(g["maps"] for g in report["map_groups"])
    if report["limits_hit"]:
        problems.append(f"limits cut the search: {report['limits_hit']}")
    if listed + grouped != total:
        problems.append(f"maps[] ({listed}) + map_groups ({grouped}) != summary.maps ({total})")
    if report["summary"]["findings"]["error"] != 0:
        problems.append(f"error findings on a healthy core: {report['summary']['findings']}")

    def found_under(prefix, pattern):
        n = sum(1 for m in report["maps"] if any(r.startswith(prefix) for r in m["roots"]))
        return n + sum(g["maps"] for g in report["map_groups"] if g["root_pattern"] == pattern)

    for record in truth:
        if record.get("record") == "slice":
            field = record.get("map_field")
            prefix = record["root"] + "["
            pattern = record["root"] + "[*]" + (f".{field}" if field else "")
            found = found_under(prefix, pattern)
            if found != record["maps"]:
                problems.append(f"{pattern}: {found} maps found, the program made {record['maps']}")
        elif record.get("record") == "map" and not record.get("nil") and record.get("where") == "global":
            # Globals are named roots: listed one by one.
            hits = [m for m in report["maps"] if m["address"] == record["addr"]]
            if not hits:
                problems.append(f"{record['root']} at {record['addr']} is not listed")
            elif hits[0]["count"] != record["count"]:
                problems.append(f"{record['root']}: count {hits[0]['count']}, the program had {record['count']}")

    lines = subprocess.run([gomapcore, "maps", core, "--exe", exe, "--format", "jsonl"], check=True,
                           capture_output=True, text=True).stdout.splitlines()
    if len(lines) != total:
        problems.append(f"maps --format jsonl wrote {len(lines)} lines for {total} maps")
    counts = {}
    for i, line in enumerate(lines):
        try:
            m = json.loads(line)
            counts[m["address"]] = m["count"]
        except (ValueError, KeyError) as e:
            problems.append(f"jsonl line {i + 1} is not a map object: {e}")
            break
    if len(counts) != len(lines):
        problems.append(f"jsonl repeats maps: {len(lines)} lines, {len(counts)} addresses")
    # The sampled elements (main.many[100000], main.records[7].Attrs, ...) are grouped in the
    # report: every one is in the jsonl stream, at its address with its count.
    for record in truth:
        if record.get("record") == "map" and not record.get("nil") and record.get("where") != "global":
            if counts.get(record["addr"]) != record["count"]:
                problems.append(f"{record['root']} at {record['addr']}: jsonl count {counts.get(record['addr'])}, "
                                f"the program had {record['count']}")

    for p in problems:
        print("bigcore:", p)
    print(f"bigcore: {total} maps ({listed} listed, {grouped} in {len(report['map_groups'])} groups), "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
