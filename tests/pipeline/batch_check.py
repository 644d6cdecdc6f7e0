#!/usr/bin/env python3
"""gomapcore batch (issue #16): many cores in one run, one JSON report a line.

usage: batch_check.py GOMAPCORE CORPUS MALFORMED_DIR

Runs `gomapcore batch` over two corpus folders (every core in them, the executables beside them
passed over), a truncated zstd core, a core of a C program and a random file, with the corpus
executables found through --exe-dir, and checks: one valid JSON line per core in input order
(folders in name order); the broken inputs get {"input", "error"} lines and the rest full reports,
each the report `gomapcore analyze` writes for that core; --jobs 2 writes exactly what --jobs 1
writes; the exit codes (2 when a core could not be analyzed, 1 when only findings, 0 with
--fail-on never); the summary line on stderr counts what the lines say.
"""
import glob
import json
import os
import re
import subprocess
import sys

from pipeline_common import verdict

SUMMARY = re.compile(r"^gomapcore batch: (\d+) cores in [0-9.]+ s: (\d+) clean, (\d+) with findings at or above "
                     r"(\w+), (\d+) not analyzed$")


def run(gomapcore, *args):
    proc = subprocess.run([gomapcore, "batch", *args], capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout, proc.stderr


def main(gomapcore, corpus, malformed):
    problems = []
    builds = ["go1.23", "go1.26"]
    broken = [os.path.join(malformed, "inputs", "healthy-truncated.core.zst"),
              os.path.join(malformed, "abort-c", "abort.core"),
              os.path.join(malformed, "inputs", "random.core")]
    inputs = [os.path.join(corpus, b) for b in builds] + broken
    options = ["--no-debuginfod", "--exe-dir", os.path.join(malformed, "abort-c")]
    for b in builds:
        options += ["--exe-dir", os.path.join(corpus, b)]
    expected_cores = []
    for b in builds:
        expected_cores += sorted(glob.glob(os.path.join(corpus, b, "*.core")))
    expected_cores += broken

    outputs = {}
    for jobs in ("1", "2"):
        code, out, err = run(gomapcore, *inputs, *options, "--jobs", jobs)
        outputs[jobs] = out
        if code != 2:
            problems.append(f"--jobs {jobs}: exit {code}, expected 2 (some inputs cannot be analyzed)")
        lines = out.splitlines()
        if len(lines) != len(expected_cores):
            problems.append(f"--jobs {jobs}: {len(lines)} lines for {len(expected_cores)} cores")
        counts = {"clean": 0, "findings": 0, "failed": 0}
        for core, line in zip(expected_cores, lines):
            try:
                record = json.loads(line)
            except ValueError as e:
                problems.append(f"--jobs {jobs}: {core}: not a JSON line: {e}")
                continue
            if "error" in record:
                counts["failed"] += 1
                if record.get("input") != core or not record["error"]:
                    problems.append(f"--jobs {jobs}: error line {record} for {core}")
                if core not in broken:
                    problems.append(f"--jobs {jobs}: {core} could not be analyzed: {record['error']}")
                continue
            if record.get("input", {}).get("core") != core:
                problems.append(f"--jobs {jobs}: line for {record.get('input')}, expected {core}")
            if core in broken:
                problems.append(f"--jobs {jobs}: {core} is broken but got a report")
            counts["findings" if record["summary"]["findings"]["error"] else "clean"] += 1
        m = SUMMARY.match(err.strip())
        if not m or [int(m.group(i)) for i in (1, 2, 3, 5)] != [len(expected_cores), counts["clean"],
                                                                 counts["findings"], counts["failed"]]:
            problems.append(f"--jobs {jobs}: the summary {err.strip()!r} does not count {counts}")
        print(f"--jobs {jobs}: {len(lines)} lines, {counts}; {err.strip()}")
    if outputs["1"] != outputs["2"]:
        problems.append("--jobs 2 wrote other lines than --jobs 1")

    # Each report line is analyze's report of that core.
    lines = outputs["1"].splitlines()
    for core in (expected_cores[0], expected_cores[len(expected_cores) // 2]):
        proc = subprocess.run([gomapcore, "analyze", core, "--format", "json", *options], capture_output=True,
                              text=True)
        if json.loads(proc.stdout) != json.loads(lines[expected_cores.index(core)]):
            problems.append(f"{core}: the batch line is not analyze's report")

    # Exit codes without broken inputs: 1 for findings, 0 with --fail-on never.
    only = [os.path.join(corpus, "go1.26", "healthy.core"), os.path.join(corpus, "go1.26", "count-mismatch.core")]
    code, _, _ = run(gomapcore, *only, "--no-debuginfod", "--exe-dir", os.path.join(corpus, "go1.26"))
    if code != 1:
        problems.append(f"a damaged core among good ones: exit {code}, expected 1")
    code, _, _ = run(gomapcore, *only, "--no-debuginfod", "--exe-dir", os.path.join(corpus, "go1.26"),
                     "--fail-on", "never")
    if code != 0:
        problems.append(f"--fail-on never: exit {code}, expected 0")

    return verdict(problems, "batch: OK")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
