#!/usr/bin/env python3
"""A runtime throw that is none of the map kinds (issue #18's runtime-fatal kind): the deadlock
program of tests/real/deadlock, built with Debian's Go 1.19 and dumped by the kernel under
GOTRACEBACK=crash, must be reported as kind runtime-fatal with the runtime's own message, a first
line that says fatal error and that no map was involved, and no signal from outside.

usage: runtime_fatal_check.py GOMAPCORE REPO WORKDIR
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from kernel_cores import SKIP, why_cores_are_not_written_here  # noqa: E402

GOROOT = "/usr/lib/go-1.19"
MESSAGE = "all goroutines are asleep - deadlock!"


def main(gomapcore, repo, work):
    why_not = why_cores_are_not_written_here()
    if why_not:
        print(f"runtime-fatal: SKIPPED: {why_not}")
        return SKIP
    go = os.path.join(GOROOT, "bin", "go")
    if not os.path.exists(go):
        print(f"FAIL: {go} is missing (scripts/setup-debian.sh installs golang-1.19-go)")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    env = dict(os.environ, GOROOT=GOROOT, GOTOOLCHAIN="local", GOFLAGS="", GOENV="off",
               GOCACHE=os.path.join(work, "gocache"), CGO_ENABLED="0")
    exe = os.path.join(work, "deadlock")
    subprocess.run([go, "build", "-o", exe, "."], cwd=os.path.join(repo, "tests", "real", "deadlock"),
                   env=env, check=True)
    run = subprocess.run(f"ulimit -c unlimited; exec {exe}", shell=True, cwd=work,
                         env=dict(os.environ, GOTRACEBACK="crash"), capture_output=True, text=True)
    cores = [f for f in os.listdir(work) if f == "core" or f.startswith("core.")]
    if MESSAGE not in run.stderr or not cores:
        print(f"FAIL: the program did not die of the deadlock with a core (exit {run.returncode}):\n"
              + run.stderr[-1500:])
        return 1
    core = os.path.join(work, cores[0])
    result = subprocess.run([gomapcore, "analyze", core, "--exe", exe, "--format", "json"],
                            capture_output=True, text=True)
    report = json.loads(result.stdout)
    crash = report["crash"]
    print(crash["explanation"])
    problems = []
    if crash["kind"] != "runtime-fatal":
        problems.append(f"kind {crash['kind']!r}, want runtime-fatal")
    if crash["message"] != MESSAGE:
        problems.append(f"message {crash['message']!r}, want {MESSAGE!r}")
    if not crash["explanation"].startswith("fatal error: " + MESSAGE):
        problems.append("the first line does not give the runtime's fatal error")
    if "no map was involved" not in crash["explanation"]:
        problems.append("the first line does not say that no map was involved")
    if crash["signal_sent"] is not None:
        problems.append(f"a signal from outside was reported: {crash['signal_sent']}")
    if crash["map"] is not None:
        problems.append(f"a map was blamed: {crash['map']}")
    if not any("main.registry" in m["roots"] for m in report["maps"]):
        problems.append("main.registry is not listed")
    if report["summary"]["findings"]["error"]:
        problems.append(f"{report['summary']['findings']['error']} error findings on a healthy program")
    for problem in problems:
        print("PROBLEM: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
