#!/usr/bin/env python3
"""Finding the executable (issue #16), with a real debuginfod server.

usage: debuginfod_check.py GOMAPCORE CORPUS SOURCE WORK

SOURCE is tests/pipeline/crasher (a tiny Go program). The test builds it with a GNU build ID
(-ldflags=-B=gobuildid where the Go toolchain has it, Go 1.22+; Debian's Go 1.19 gets an explicit
-B=0x... instead), runs it until it crashes and the kernel dumps a core, then moves the
executable away, so the path the core's NT_FILE note records no longer exists. It starts Debian's
debuginfod on a free loopback port over a folder holding that executable and the corpus ones,
and checks, with DEBUGINFOD_URLS pointing at it and a fresh DEBUGINFOD_CACHE_PATH:

- `gomapcore analyze CORE` without --exe gets the executable from debuginfod: the report says
  so (executable.source "debuginfod", its build ID), and finds the program's map;
- another build of the same program put back at the recorded path is passed over with the
  reason (its build ID differs) and debuginfod still supplies the right one;
- --exe-dir as a sysroot and as a flat folder find the executable without debuginfod;
- a corpus core whose recorded executable is not on this machine gets its executable from
  debuginfod and the same report as with --exe (apart from where the executable came from);
- a core whose build ID the server does not have is refused with exit 2, naming the build ID.

Exits 77 (skipped) when the kernel does not write cores into the working directory.
"""
import glob
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from pipeline_common import verdict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from kernel_cores import SKIP, why_cores_are_not_written_here  # noqa: E402

GO_DIRS = [os.path.expanduser("~/.cache/gomapcore/go"), "/usr/lib"]


def go_toolchain():
    """The newest Go found: (go binary, version tuple)."""
    found = []
    for root in GO_DIRS:
        for go in glob.glob(os.path.join(root, "go*", "bin", "go")):
            m = re.search(r"go-?1\.(\d+)", go)
            if m:
                found.append(((1, int(m.group(1))), go))
    if not found:
        return None, None
    version, go = max(found)
    return go, version


def build(go, version, source, output, variant):
    # The user's Go build cache: a warm one makes this build take a second.
    env = dict(os.environ, GO111MODULE="on", GOFLAGS="-mod=mod", GOTOOLCHAIN="local", CGO_ENABLED="0")
    if version >= (1, 22):
        build_id = "-B=gobuildid"
    else:
        # No gobuildid before Go 1.22: a GNU build ID of our own, different per variant.
        build_id = "-B=0x" + (variant.encode().hex() + "00" * 20)[:40]
    subprocess.run([go, "build", "-buildvcs=false", "-ldflags", f"{build_id} -X=main.variant={variant}",
                    "-o", output, "."], cwd=source, env=env, check=True)


def gnu_build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True, check=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return m.group(1) if m else None


def dump_core(exe, directory):
    os.makedirs(directory, exist_ok=True)
    for old in glob.glob(os.path.join(directory, "core*")):
        os.remove(old)

    def unlimited():
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    subprocess.run([exe], cwd=directory, env=dict(os.environ, GOTRACEBACK="crash"), preexec_fn=unlimited,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cores = glob.glob(os.path.join(directory, "core*"))
    return cores[0] if len(cores) == 1 else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_debuginfod(served, work, wanted_ids):
    """debuginfod over served on a free port, once it serves every wanted build ID."""
    for attempt in range(5):
        port = free_port()
        database = os.path.join(work, f"debuginfod-{attempt}.sqlite")
        log = open(os.path.join(work, "debuginfod.log"), "w")
        # -F: scan ELF files; -t0/-g0: no rescans or grooming; -c1: one scanning thread.
        proc = subprocess.Popen(["debuginfod", "-F", "-p", str(port), "-d", database, "-t0", "-g0", "-c1",
                                 served], stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        pending = set(wanted_ids)
        while pending and proc.poll() is None and time.monotonic() < deadline:
            for build_id in list(pending):
                try:
                    with urllib.request.urlopen(f"{url}/buildid/{build_id}/executable", timeout=5) as r:
                        if r.status == 200:
                            pending.discard(build_id)
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.2)
        if not pending:
            return proc, url
        proc.terminate()
        proc.wait()
    raise SystemExit("FAIL: debuginfod did not come up serving the executables (see debuginfod.log)")


def analyze(gomapcore, core, env, *extra):
    proc = subprocess.run([gomapcore, "analyze", core, "--format", "json", *extra], capture_output=True,
                          text=True, env=env, timeout=120)
    report = json.loads(proc.stdout) if proc.returncode in (0, 1) and proc.stdout else None
    return proc.returncode, report, proc.stderr.strip()


def main(gomapcore, corpus, source, work):
    if not shutil.which("debuginfod"):
        print("FAIL: debuginfod is not installed (scripts/setup-debian.sh installs the debuginfod package)")
        return 1
    why_not = why_cores_are_not_written_here()
    if why_not:
        print(f"debuginfod: SKIPPED: {why_not}")
        return SKIP
    go, version = go_toolchain()
    if go is None:
        print("FAIL: no Go toolchain (scripts/setup-debian.sh installs golang-1.19-go)")
        return 1
    work = os.path.abspath(work)
    shutil.rmtree(os.path.join(work, "served"), ignore_errors=True)
    shutil.rmtree(os.path.join(work, "cache"), ignore_errors=True)
    built = os.path.join(work, "bin", "crasher")
    build(go, version, source, built, "first")
    probe_id = gnu_build_id(built)
    core = dump_core(built, os.path.join(work, "run"))
    if core is None:
        print(f"debuginfod: SKIPPED: the crasher left no core in {work}/run (ulimit or core_pattern)")
        return SKIP
    served = os.path.join(work, "served")
    os.makedirs(served)
    # The recorded path no longer holds the executable: it lives only at the server (and in the
    # folders of the --exe-dir checks).
    shutil.move(built, os.path.join(served, "crasher"))
    corpus_builds = {}
    for build_dir in sorted(glob.glob(os.path.join(corpus, "go1.*"))):
        exe = os.path.join(build_dir, "mapcrash")
        build_id = gnu_build_id(exe) if os.path.exists(exe) else None
        if build_id and os.path.basename(build_dir) != "go1.25":  # go1.25 stays unserved
            shutil.copy(exe, os.path.join(served, "mapcrash-" + os.path.basename(build_dir)))
            corpus_builds[os.path.basename(build_dir)] = build_id
    print(f"built the crasher with {go} (GNU build ID {probe_id}); core {core}; "
          f"serving it and the corpus executables of {sorted(corpus_builds)}")

    problems = []
    server, url = start_debuginfod(served, work, [probe_id] + list(corpus_builds.values()))
    try:
        env = dict(os.environ, DEBUGINFOD_URLS=url, DEBUGINFOD_CACHE_PATH=os.path.join(work, "cache"),
                   DEBUGINFOD_TIMEOUT="30")

        def expect_source(label, code, report, err, source_, path_part=None):
            if report is None:
                problems.append(f"{label}: exit {code}, no report: {err}")
                return None
            origin = report.get("executable", {})
            if origin.get("source") != source_:
                problems.append(f"{label}: executable {origin}, expected source {source_}")
            if path_part and path_part not in origin.get("path", ""):
                problems.append(f"{label}: the executable {origin.get('path')} is not under {path_part}")
            return origin

        # 1. From debuginfod, by the GNU build ID in the core's dumped ELF header page.
        code, report, err = analyze(gomapcore, core, env)
        origin = expect_source("debuginfod", code, report, err, "debuginfod", os.path.join(work, "cache"))
        if origin:
            if origin.get("build_id") != probe_id:
                problems.append(f"debuginfod: build_id {origin.get('build_id')}, the executable's is {probe_id}")
            if not any("does not exist here" in r for r in origin.get("rejected", [])):
                problems.append(f"debuginfod: the missing recorded path is not among {origin.get('rejected')}")
            counts = [m["count"] for m in report["maps"] if "main.inventory" in m["roots"]]
            if counts != [100]:
                problems.append(f"debuginfod: main.inventory counts {counts}, the program made 100 entries")
            print(f"debuginfod: {origin}")

        # 2. Another build at the recorded path: passed over with the reason, debuginfod next.
        build(go, version, source, built, "second")
        other_id = gnu_build_id(built)
        code, report, err = analyze(gomapcore, core, env)
        origin = expect_source("another build at the recorded path", code, report, err, "debuginfod")
        if origin and not any(built in r and "differs from the core's" in r for r in origin.get("rejected", [])):
            problems.append(f"another build at the recorded path: not rejected with the reason: {origin}")
        # ... and refused outright without debuginfod.
        code, _, err = analyze(gomapcore, core, env, "--no-debuginfod")
        if code != 2 or other_id not in err or "differs from the core's" not in err:
            problems.append(f"another build, no debuginfod: exit {code}, {err!r}")
        else:
            print(f"another build: refused: {err}")
        os.remove(built)

        # 3. --exe-dir, a sysroot and a flat folder, before debuginfod.
        sysroot = os.path.join(work, "sysroot")
        shutil.rmtree(sysroot, ignore_errors=True)
        os.makedirs(os.path.dirname(sysroot + built))
        shutil.copy(os.path.join(served, "crasher"), sysroot + built)
        code, report, err = analyze(gomapcore, core, env, "--exe-dir", sysroot)
        expect_source("--exe-dir sysroot", code, report, err, "exe-dir", sysroot)
        code, report, err = analyze(gomapcore, core, env, "--exe-dir", served, "--no-debuginfod")
        expect_source("--exe-dir flat", code, report, err, "exe-dir", served)

        # 4. A corpus core whose recorded executable is not here: the same report as with --exe.
        corpus_build = "go1.26"
        if corpus_build in corpus_builds:
            bcore = os.path.join(corpus, corpus_build, "healthy.core")
            code, report, err = analyze(gomapcore, bcore, env)
            origin = expect_source(f"{corpus_build} corpus core", code, report, err, "debuginfod")
            _, given, _ = analyze(gomapcore, bcore, env, "--exe", os.path.join(corpus, corpus_build, "mapcrash"))
            if origin and given:
                for r in (report, given):
                    r.pop("executable")
                    r["input"].pop("executable")
                    r["notes"] = [n for n in r["notes"] if not n.startswith("executable: passed over")]
                if report != given:
                    problems.append(f"{corpus_build}: the report differs from the one with --exe")

        # 5. A build ID the server does not have.
        code, _, err = analyze(gomapcore, os.path.join(corpus, "go1.25", "healthy.core"), env)
        if code != 2 or "no executable with build ID" not in err or len(err.splitlines()) != 1:
            problems.append(f"an unserved build ID: exit {code}, {err!r}")
        else:
            print(f"unserved build ID: {err}")
    finally:
        server.terminate()
        server.wait()
    return verdict(problems, "debuginfod: OK")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
