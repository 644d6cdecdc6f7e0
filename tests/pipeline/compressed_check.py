#!/usr/bin/env python3
"""Compressed cores (issue #16), through the CLI.

    compressed_check.py same-report GOMAPCORE CORPUS WORK BUILD/SCENARIO...
        compresses each corpus core with the real zstd, lz4 and xz tools at test time and checks
        that `analyze --format json` of each gives the report of the raw core, apart from
        input.core and one added note, which gives the decompressed size (the raw core's) and the
        time; the exit code is the raw core's too. Nothing may be left in TMPDIR.

    compressed_check.py killed GOMAPCORE WORK
        starts gomapcore on a compressed stream that takes a while to decompress, waits until its
        temporary file is open (seen in /proc/PID/fd), checks that the file has no name in TMPDIR
        while in use, kills the process with SIGTERM and then (another run) SIGKILL, and checks
        that TMPDIR is still empty.

Stdlib only; the compressors are Debian's zstd, lz4 and xz-utils (scripts/setup-debian.sh).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from pipeline_common import verdict

FORMATS = {"zstd": ["zstd", "-q", "-1", "-T2", "-c"], "lz4": ["lz4", "-q", "-1", "-c"],
           "xz": ["xz", "-q", "-0", "-T2", "-c"]}
NOTE = re.compile(r"^the core is (\w+)-compressed \((\d+) bytes\); it was decompressed once, in [0-9.]+ s, to "
                  r"(\d+) bytes")


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def analyze(gomapcore, core, exe, tmpdir):
    env = dict(os.environ, TMPDIR=tmpdir)
    proc = subprocess.run([gomapcore, "analyze", core, "--exe", exe, "--format", "json", "--no-debuginfod"],
                          capture_output=True, text=True, env=env, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def same_report(gomapcore, corpus, work, cases):
    problems = []
    os.makedirs(work, exist_ok=True)
    tmpdir = fresh_dir(os.path.join(work, "tmp"))
    for case in cases:
        build, scenario = case.split("/")
        raw = os.path.join(corpus, build, scenario + ".core")
        exe = os.path.join(corpus, build, "mapcrash")
        code, out, err = analyze(gomapcore, raw, exe, tmpdir)
        if code not in (0, 1):
            problems.append(f"{case}: the raw core exits {code}: {err.strip()}")
            continue
        expected = json.loads(out)
        for fmt, argv in FORMATS.items():
            packed = os.path.join(work, f"{build}-{scenario}.core.{fmt}")
            with open(raw, "rb") as source, open(packed, "wb") as sink:
                subprocess.run(argv, stdin=source, stdout=sink, check=True)
            started = time.monotonic()
            got_code, got_out, got_err = analyze(gomapcore, packed, exe, tmpdir)
            elapsed = time.monotonic() - started
            label = f"{case} ({fmt})"
            if got_code != code:
                problems.append(f"{label}: exit {got_code}, the raw core's is {code}: {got_err.strip()}")
                continue
            report = json.loads(got_out)
            notes = [n for n in report["notes"] if NOTE.match(n)]
            if len(notes) != 1:
                problems.append(f"{label}: {len(notes)} decompression notes in {report['notes']}")
                continue
            kind, compressed, size = NOTE.match(notes[0]).groups()
            if kind != fmt or int(compressed) != os.path.getsize(packed) or int(size) != os.path.getsize(raw):
                problems.append(f"{label}: the note says {notes[0]!r}; expected {fmt}, "
                                f"{os.path.getsize(packed)} compressed and {os.path.getsize(raw)} bytes")
            if report["input"]["core"] != packed:
                problems.append(f"{label}: input.core is {report['input']['core']}, expected {packed}")
            # Everything else is the raw core's report.
            report["notes"] = [n for n in report["notes"] if n is not notes[0]]
            report["input"]["core"] = expected["input"]["core"]
            if report != expected:
                keys = sorted(k for k in set(report) | set(expected) if report.get(k) != expected.get(k))
                problems.append(f"{label}: the report differs from the raw core's in {keys}")
            print(f"{label}: {os.path.getsize(packed)} bytes -> {size}; analyzed in {elapsed:.2f} s; {notes[0]}")
            os.remove(packed)
    left = os.listdir(tmpdir)
    if left:
        problems.append(f"left behind in TMPDIR: {left}")
    return problems


def temporary_fd(pid, tmpdir):
    """The target of a descriptor of pid that lies in tmpdir, or None."""
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith(tmpdir + "/"):
                return target
    except OSError:
        pass
    return None


def killed(gomapcore, work):
    problems = []
    # 768 MiB of non-zero text: kept on disk (no holes), so decompressing takes long enough to
    # catch the process in the middle; zstd packs it into a few hundred kilobytes.
    os.makedirs(work, exist_ok=True)
    stream = os.path.join(work, "text.zst")
    if not os.path.exists(stream):
        with open(stream + ".tmp", "wb") as sink:
            yes = subprocess.Popen(["yes", "gomapcore compressed core test"], stdout=subprocess.PIPE)
            head = subprocess.Popen(["head", "-c", str(768 << 20)], stdin=yes.stdout, stdout=subprocess.PIPE)
            yes.stdout.close()
            subprocess.run(["zstd", "-q", "-1", "-c"], stdin=head.stdout, stdout=sink, check=True)
            head.wait()
            yes.wait()
        os.replace(stream + ".tmp", stream)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        tmpdir = fresh_dir(os.path.join(work, "tmp-" + sig.name))
        proc = subprocess.Popen([gomapcore, "analyze", stream, "--exe", "/bin/true", "--no-debuginfod"],
                                env=dict(os.environ, TMPDIR=tmpdir), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        seen = None
        deadline = time.monotonic() + 30
        while seen is None and proc.poll() is None and time.monotonic() < deadline:
            seen = temporary_fd(proc.pid, tmpdir)
            time.sleep(0.002)
        if seen is None:
            proc.kill()
            proc.wait()
            problems.append(f"{sig.name}: never saw the temporary file open (exit {proc.returncode}); "
                            "cannot check the cleanup")
            continue
        named = os.listdir(tmpdir)
        proc.send_signal(sig)
        proc.wait(timeout=30)
        left = os.listdir(tmpdir)
        print(f"{sig.name}: the temporary file was {seen!r} while in use; names in TMPDIR then {named}, "
              f"after the signal {left}; exit {proc.returncode}")
        if named:
            problems.append(f"{sig.name}: the temporary file has a name while in use: {named}")
        if left:
            problems.append(f"{sig.name}: left behind in TMPDIR: {left}")
        if proc.returncode != -sig:
            problems.append(f"{sig.name}: the process ended with {proc.returncode}, not by the signal")
    return problems


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "same-report":
        problems = same_report(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    elif len(sys.argv) == 4 and sys.argv[1] == "killed":
        problems = killed(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
    return verdict(problems, "compressed cores: OK")


if __name__ == "__main__":
    sys.exit(main())
