#!/usr/bin/env python3
"""The analysis-wide bounds of the CLI: --max-memory, --time-limit and its watchdog.

    resource_bounds.py CHECK --gomapcore BIN --corpus DIR --malformed DIR [--no-rss]

CHECK is one of:
  memory     a million-link overflow chain walked with --max-memory 16: the walk stops, the report
             says so (limits_hit, the map's status), and the process's peak RSS stays within the
             documented budget (README "Resource bounds"); --no-rss skips the RSS bound (sanitizer
             builds, whose shadow memory and quarantine are not gomapcore's)
  time       --time-limit 0 on a healthy core: every walk stops at once, the report still comes out
             with exit 0, names the limit and raises no error finding
  watchdog   --time-limit 0.2 on a core that never finishes opening (a FIFO nobody writes):
             exit 2 with a one-line reason once the limit and its grace period have passed
Stdlib only.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

MIB = 1 << 20
# What gomapcore holds besides the walks' results, measured on the corpus (14-20 MiB for a healthy
# core: libdw's DWARF index, the type table, pclntab, goroutines), with room to spare.
BASELINE_BYTES = 96 * MIB


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run(argv, timeout=120):
    """Runs argv; returns (exit code, stdout, stderr, seconds)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out.decode(), err.decode(), time.monotonic() - start


def rss_of(argv, timeout=300):
    """Runs argv and returns (exit code, stdout, stderr, peak RSS in bytes) of that process alone."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            try:
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        deadline = time.monotonic() + timeout
        while True:
            waited, status, usage = os.wait4(pid, os.WNOHANG)
            if waited == pid:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                fail(f"{argv} did not finish in {timeout} s")
            time.sleep(0.01)
        out.seek(0)
        err.seek(0)
        return os.waitstatus_to_exitcode(status), out.read().decode(), err.read().decode(), usage.ru_maxrss * 1024


def error_findings(report):
    return [f for m in report["maps"] for f in m.get("findings", []) if f["severity"] == "error"]


def check_memory(args):
    core = os.path.join(args.malformed, "million-chain.core")
    exe = os.path.join(args.corpus, "go1.23", "mapcrash")
    argv = [args.gomapcore, "analyze", core, "--exe", exe, "--max-chain", "1000001", "--max-memory", "16",
            "--format", "json"]
    code, out, err, rss = rss_of(argv)
    if code != 0:
        fail(f"exit {code}, expected 0: {err}")
    report = json.loads(out)
    if {"limit": "max-memory (16 MiB)", "map": None} not in report["limits_hit"]:
        fail(f"limits_hit does not name max-memory (16 MiB): {report['limits_hit'][:3]}")
    users = [m for m in report["maps"] if "main.users" in m["roots"]]
    if len(users) != 1:
        fail("main.users not in the report")
    users = users[0]
    if "max-memory (16 MiB)" not in users["limits_hit"] or users["status"] != "incomplete" or users["complete"]:
        fail(f"main.users: limits_hit {users['limits_hit']}, status {users['status']}")
    if error_findings(report):
        fail(f"a walk cut short by the budget raised error findings: {error_findings(report)[:3]}")
    budget = 16 * MIB + BASELINE_BYTES + os.path.getsize(core) + os.path.getsize(exe)
    print(f"peak RSS {rss / MIB:.1f} MiB with --max-memory 16; documented bound {budget / MIB:.1f} MiB")
    if not args.no_rss and rss > budget:
        fail(f"peak RSS {rss / MIB:.1f} MiB exceeds the documented bound {budget / MIB:.1f} MiB")


def check_time(args):
    core = os.path.join(args.corpus, "go1.23", "healthy.core")
    exe = os.path.join(args.corpus, "go1.23", "mapcrash")
    code, out, err, _ = run([args.gomapcore, "analyze", core, "--exe", exe, "--time-limit", "0", "--format", "json"])
    if code != 0:
        fail(f"exit {code}, expected 0: {err}")
    report = json.loads(out)
    if {"limit": "time-limit (0 s)", "map": None} not in report["limits_hit"]:
        fail(f"limits_hit does not name time-limit (0 s): {report['limits_hit'][:3]}")
    cut = [m for m in report["maps"] if "time-limit (0 s)" in m["limits_hit"]]
    if not cut or any(m["status"] != "incomplete" for m in cut):
        fail(f"{len(cut)} maps name the time limit; all must be incomplete")
    if error_findings(report):
        fail(f"walks cut short by the time limit raised error findings: {error_findings(report)[:3]}")
    code, text, err, _ = run([args.gomapcore, "analyze", core, "--exe", exe, "--time-limit", "0"])
    if code != 0 or "time-limit (0 s) ran out" not in text:
        fail(f"the text report does not say the time limit ran out (exit {code})")
    print(f"{len(cut)} of {len(report['maps'])} maps stopped at the time limit")


def check_watchdog(args):
    exe = os.path.join(args.corpus, "go1.23", "mapcrash")
    with tempfile.TemporaryDirectory() as tmp:
        fifo = os.path.join(tmp, "never-written.core")
        os.mkfifo(fifo)
        code, out, err, seconds = run([args.gomapcore, "analyze", fifo, "--exe", exe, "--time-limit", "0.2"],
                                      timeout=60)
    lines = err.strip().splitlines()
    if code != 2 or len(lines) != 1 or "no report within the time limit of 0.2 s" not in lines[0]:
        fail(f"exit {code}, stderr {err!r}; expected exit 2 and one line naming the time limit")
    if out:
        fail(f"a report was written although none was finished: {out[:200]!r}")
    # 0.2 s plus the 5 s grace, and scheduling slack.
    if not 5.0 <= seconds < 15.0:
        fail(f"gave up after {seconds:.1f} s, expected 5.2 s")
    print(f"gave up after {seconds:.1f} s: {lines[0]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("check", choices=["memory", "time", "watchdog"])
    parser.add_argument("--gomapcore", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--malformed", required=True)
    parser.add_argument("--no-rss", action="store_true")
    args = parser.parse_args()
    {"memory": check_memory, "time": check_time, "watchdog": check_watchdog}[args.check](args)
    print("PASS")


if __name__ == "__main__":
    main()
