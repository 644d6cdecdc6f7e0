#!/usr/bin/env python3
"""Real-program cores killed from outside (issue #18): gofmt built with DWARF from the Go
toolchain's own source (samples/real), formatting the Go tree, killed with SIGABRT and with
SIGQUIT under GOTRACEBACK=crash, for a classic-map (1.23) and a swiss-map (1.26) toolchain.

For each core it checks, against the runtime's own stderr traceback and the case's record:
- no error findings;
- the crash kind is killed-by-signal, the message is the runtime's first line ("SIGQUIT: quit"),
  the thread's m is the traceback's "m=N", the goroutine is the one the runtime listed first,
  the sender is the process that sent the signal, and the runtime's own re-raise is reported;
- every goroutine the runtime printed is listed, with the same frames (function, file, line);
- every exact map's count equals its live entries, unless a goroutine was writing it then (it
  then carries write-in-progress or is among the crash's maps in use).
Timing and peak RSS of each analysis are printed, not asserted.

usage: real_check.py GOMAPCORE REPO WORKDIR
Exit 77 (skipped) when the kernel cannot write cores here or the Go toolchains cannot be had.
"""
import json
import os
import re
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from kernel_cores import SKIP, why_cores_are_not_written_here  # noqa: E402

VERSIONS = ["1.23", "1.26"]
CASES = ["gofmt-abrt-1s", "gofmt-quit-gc"]

HEADER = re.compile(r"^goroutine (\d+)(?: gp=\S+)?(?: m=\S+)?(?: mp=\S+)? \[([^\]]*)\]:$")
CALL = re.compile(r"^(\S.*)\((.*)\)$")
POSITION = re.compile(r"^\t(.*):(\d+)(?: \+0x[0-9a-f]+)?(?: fp=0x[0-9a-f]+ sp=0x[0-9a-f]+ pc=0x[0-9a-f]+)?$")


def parse_traceback(path):
    """The runtime's traceback (src/runtime/traceback.go): its first signal line, the m of the
    PC line, and every goroutine block in order, keeping a goroutine's first listing."""
    signal_line, m_id, order, goroutines = None, None, [], {}
    current, created_by = None, False
    with open(path, errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if signal_line is None and re.match(r"^SIG[A-Z0-9]+: ", line):
                signal_line = line
                continue
            if m_id is None and line.startswith("PC="):
                found = re.search(r" m=(\d+)", line)
                m_id = int(found.group(1)) if found else None
                continue
            head = HEADER.match(line)
            if head:
                gid = int(head.group(1))
                order.append(gid)
                current = None if gid in goroutines else {"state": head.group(2), "frames": []}
                if current is not None:
                    goroutines[gid] = current
                created_by = False
                continue
            if current is None:
                continue
            if not line:
                current = None
                continue
            if line.startswith("created by "):
                created_by = True
                continue
            if created_by:
                continue
            call = CALL.match(line)
            if call:
                current["frames"].append([call.group(1), "", 0])
                continue
            position = POSITION.match(line)
            if position and current["frames"]:
                current["frames"][-1][1] = position.group(1)
                current["frames"][-1][2] = int(position.group(2))
    return signal_line, m_id, order, goroutines


def our_frames(goroutine):
    out = []
    for frame in goroutine["frames"]:
        name = frame["function"]
        out.append(["panic" if name == "runtime.gopanic" else name, frame.get("file", ""), frame.get("line", 0)])
    return out


def run_measured(command):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result, wall, cpu, after.ru_maxrss


def check_core(gomapcore, core, exe, stderr_path, record, problems):
    name = os.path.basename(core)
    signal_line, m_id, order, printed = parse_traceback(stderr_path)
    if signal_line is None or not order:
        problems.append(f"{name}: no traceback in {stderr_path}")
        return
    result, wall, cpu, rss = run_measured([gomapcore, "analyze", core, "--exe", exe, "--format", "json"])
    if result.returncode not in (0, 1):
        problems.append(f"{name}: analyze exited {result.returncode}: {result.stderr.strip()[:400]}")
        return
    report = json.loads(result.stdout)
    print(f"{name}: analyze {wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS of children so far {rss / 1024:.0f} MiB, "
          f"{report['summary']['maps']} maps, core {os.path.getsize(core) / 2**20:.0f} MiB")
    crash = report["crash"] or {}
    print(f"  {crash.get('explanation', '')}")

    errors = report["summary"]["findings"]["error"]
    if errors:
        problems.append(f"{name}: {errors} error findings on a healthy program: "
                        + "; ".join(f"{f['rule']} at {f['address']}" for f in report["findings"]
                                    if f["severity"] == "error")[:600])
    if report["limits_hit"]:
        problems.append(f"{name}: limits cut the analysis: {report['limits_hit']}")
    if crash.get("kind") != "killed-by-signal":
        problems.append(f"{name}: crash kind {crash.get('kind')!r}, want killed-by-signal")
    if crash.get("message") != signal_line:
        problems.append(f"{name}: crash message {crash.get('message')!r}, the runtime printed {signal_line!r}")
    if not crash.get("explanation", "").startswith("killed by " + signal_line):
        problems.append(f"{name}: the first line does not name the signal: {crash.get('explanation')!r}")
    sent = crash.get("signal_sent") or {}
    if sent.get("m") != m_id:
        problems.append(f"{name}: the signal's thread is m={sent.get('m')}, the runtime printed m={m_id}")
    if crash.get("goroutine") != order[0]:
        problems.append(f"{name}: crash goroutine {crash.get('goroutine')}, the runtime listed {order[0]} first")
    if sent.get("sender_pid") != record["sender_pid"]:
        problems.append(f"{name}: sender pid {sent.get('sender_pid')}, the signal came from {record['sender_pid']}")
    if crash.get("reraised_by_runtime") != record["died_of_own_sigabrt"]:
        problems.append(f"{name}: reraised_by_runtime {crash.get('reraised_by_runtime')}, "
                        f"the core's NT_SIGINFO says {record['died_of_own_sigabrt']}")

    listing = subprocess.run([gomapcore, "goroutines", core, "--exe", exe, "--format", "json"],
                             capture_output=True, text=True)
    if listing.returncode != 0:
        problems.append(f"{name}: goroutines exited {listing.returncode}: {listing.stderr.strip()[:300]}")
        return
    ours = {g["id"]: g for g in json.loads(listing.stdout)["goroutines"]}
    # goroutine 0 is a thread's own system goroutine (g0), which runtime.allgs does not hold.
    theirs = {gid: g for gid, g in printed.items() if gid != 0}
    missing = sorted(set(theirs) - set(ours))
    extra = sorted(set(ours) - set(theirs))
    if missing:
        problems.append(f"{name}: goroutines the runtime printed but not listed: {missing[:20]}")
    if extra:
        problems.append(f"{name}: goroutines listed that the runtime did not print: {extra[:20]}")
    # The runtime prints its listing and only then relays SIGQUIT to its other threads and waits
    # for them (up to seconds) before it aborts: goroutines that could run kept running in
    # between, so the core shows them further on. Only a goroutine the core still shows in the
    # waiting state the runtime printed must match frame for frame; the others must keep the
    # base of their stack (the function the goroutine started in).
    compared, moved = 0, 0
    for gid, want in theirs.items():
        if gid not in ours or not want["frames"]:
            continue  # "goroutine running on other thread; stack unavailable"
        have = our_frames(ours[gid])
        if want["state"].split(",")[0] in ("running", "runnable") or ours[gid]["state"] != want["state"]:
            moved += 1
            if not have or have[-1] != want["frames"][-1]:
                problems.append(f"{name}: goroutine {gid} ({want['state']} when printed, {ours[gid]['state']} "
                                f"in the core) starts elsewhere: ours {have[-1:]} vs the runtime's "
                                f"{want['frames'][-1:]}")
            continue
        compared += 1
        if have != want["frames"]:
            diverge = next((i for i, (a, b) in enumerate(zip(have, want["frames"])) if a != b),
                           min(len(have), len(want["frames"])))
            problems.append(f"{name}: goroutine {gid} frames differ at {diverge}: ours "
                            f"{have[diverge:diverge + 2]} vs the runtime's {want['frames'][diverge:diverge + 2]} "
                            f"({len(have)} vs {len(want['frames'])} frames)")
    print(f"  {len(theirs)} goroutines printed by the runtime, {len(ours)} listed, {compared} compared frame by "
          f"frame, {moved} that could run compared by the base of their stack")

    in_use = {u["map"] for u in crash.get("maps_in_use", []) if u.get("map")}
    for m in report["maps"]:
        if m["confidence"] != "exact" or m["count"] is None or m["count"] == m["live_entries"]:
            continue
        writing = any(f["rule"] == "write-in-progress" for f in m.get("findings", []))
        if not writing and m["address"] not in in_use:
            problems.append(f"{name}: exact map {m['address']} ({m['roots'][:1]}) counts {m['count']} "
                            f"but holds {m['live_entries']} live entries, and nobody was writing it")


def main(gomapcore, repo, work):
    why_not = why_cores_are_not_written_here()
    if why_not:
        print(f"real programs: SKIPPED: {why_not}")
        return SKIP
    godir = os.environ.get("GOMAPCORE_GO_DIR", os.path.expanduser("~/.cache/gomapcore/go"))
    missing = [v for v in VERSIONS if not os.path.exists(os.path.join(godir, f"go{v}", "bin", "go"))]
    if missing:
        fetch = subprocess.run([os.path.join(repo, "samples", "fetch-go-toolchains.sh"), godir] + missing,
                               capture_output=True, text=True)
        if fetch.returncode != 0:
            print(f"real programs: SKIPPED: Go {', '.join(missing)} could not be fetched from Debian's archive:\n"
                  + fetch.stderr[-800:])
            return SKIP
    start = time.monotonic()
    make = subprocess.run([os.path.join(repo, "samples", "real", "make-real-cores.sh"), "--out", work,
                           "--go", ",".join(VERSIONS), "--cases", ",".join(CASES)],
                          capture_output=True, text=True)
    print(make.stdout[-3000:])
    if make.returncode != 0:
        print(make.stderr[-2000:])
        print("real programs: the cores could not be made")
        return 1
    print(f"cores ready in {time.monotonic() - start:.1f} s")
    problems = []
    for version in VERSIONS:
        out = os.path.join(work, f"go{version}")
        for case in CASES:
            core = os.path.join(out, case + ".core")
            with open(os.path.join(out, case + ".json")) as f:
                record = json.load(f)
            check_core(gomapcore, core, record["executable"], os.path.join(out, case + ".stderr"), record,
                       problems)
    for problem in problems:
        print("PROBLEM: " + problem)
    print(f"real programs: {len(VERSIONS) * len(CASES)} cores, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
