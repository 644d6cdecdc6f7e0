#!/usr/bin/env python3
"""Checks mapcrash runs against their cores and writes the corpus manifest.

Used by make-corpus.sh; can also be run by hand:

  corpus.py check RUNDIR SCENARIO LAYOUT [ARCH]
                                            check one run (RUNDIR/core, RUNDIR/stderr); with ARCH
                                            (amd64, arm64) the core must be of that architecture;
                                            RUNDIR/core-name, if present, is the name qemu gave the core
  corpus.py verify CORPUSDIR [BUILD...]     decompress every committed case and check it again
  corpus.py manifest CORPUSDIR SPEC...      write CORPUSDIR/manifest.json; SPEC = build-name:goexperiment
  corpus.py manifest --arch arm64 --core-writer WHAT CORPUSDIR SPEC...
                                            the same for a corpus of another architecture (tests/corpus-arm64)
  corpus.py scenarios LAYOUT                list the scenarios of a layout (classic, swiss)

A check reads the ELF core directly (PT_LOAD segments) and compares every truth record with
the memory it describes: map headers hold the reported count, damaged fields hold the
reported bad value, munmapped regions are absent from the core, and so on. Cores may be
x86-64 (kernel cores) or AArch64 (qemu-aarch64's guest cores, see samples/README.md).
Standard library only.
"""
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

PREFIX = "GOMAPCORE-TRUTH "

COMMON = ["healthy", "concurrent-writes", "concurrent-read-write", "concurrent-iteration-write",
          "nil-map-write", "buckets-unmapped", "count-mismatch", "control-bytes-corrupt",
          "dangling-entry-pointer", "fault-in-map", "hidden-roots"]
LAYOUT_ONLY = {"classic": ["oldbuckets-unmapped", "overflow-cycle"],
               "swiss": ["table-unmapped", "groups-unmapped"]}


def scenarios_for(layout):
    return COMMON + LAYOUT_ONLY[layout]


EXPECTED_MESSAGES = {
    "healthy": ["panic: healthy: done"],
    "hidden-roots": ["panic: hidden-roots: done"],
    "concurrent-writes": ["fatal error: concurrent map writes"],
    "concurrent-read-write": ["fatal error: concurrent map read and map write"],
    "concurrent-iteration-write": ["fatal error: concurrent map iteration and map write"],
    "nil-map-write": ["panic: assignment to entry in nil map"],
    # A SIGSEGV at a non-nil address in map code: the runtime prints "unexpected fault
    # address 0x..." then "fatal error: fault" (sigpanic). "unexpected signal during runtime
    # execution" is what it prints when the fault happens while the M holds runtime locks
    # (canpanic() false), which a map lookup from user code does not.
    "fault-in-map": ["fatal error: fault", "fatal error: unexpected signal during runtime execution"],
}


def expected_messages(scenario):
    """The first 'panic: ' or 'fatal error: ' line of stderr must be one of these."""
    return EXPECTED_MESSAGES.get(scenario, ["panic: damaged: " + scenario])


def crash_message(stderr_text):
    return next((l for l in stderr_text.splitlines() if l.startswith(("panic: ", "fatal error: "))), None)


CRASH_KIND = {"concurrent-writes": "concurrent-map-writes", "concurrent-read-write": "concurrent-map-read-write",
              "concurrent-iteration-write": "concurrent-map-iteration-write", "nil-map-write": "nil-map-write",
              "fault-in-map": "map-memory-fault"}


EM_X86_64, EM_AARCH64 = 62, 183
ARCH_OF_MACHINE = {EM_X86_64: "amd64", EM_AARCH64: "arm64"}


class Core:
    def __init__(self, path):
        self.f = open(path, "rb")
        hdr = self.f.read(64)
        if hdr[:4] != b"\x7fELF" or hdr[4] != 2 or struct.unpack_from("<H", hdr, 16)[0] != 4:
            raise ValueError(f"{path}: not an ELF64 core")
        machine, = struct.unpack_from("<H", hdr, 18)
        if machine not in ARCH_OF_MACHINE:
            raise ValueError(f"{path}: e_machine {machine} is neither x86-64 nor AArch64")
        self.arch = ARCH_OF_MACHINE[machine]
        phoff, = struct.unpack_from("<Q", hdr, 32)
        phentsize, phnum = struct.unpack_from("<HH", hdr, 54)
        self.loads, self.pid = [], None
        for i in range(phnum):
            self.f.seek(phoff + i * phentsize)
            p_type, _, off, vaddr, _, filesz, memsz, _ = struct.unpack("<IIQQQQQQ", self.f.read(56))
            if p_type == 1:
                self.loads.append((vaddr, memsz, off, filesz))
            elif p_type == 4 and self.pid is None:
                self.f.seek(off)
                self._notes(self.f.read(filesz))

    def _notes(self, data):
        pos = 0
        while pos + 12 <= len(data):
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            desc = pos + 12 + (namesz + 3) // 4 * 4
            # NT_PRPSINFO: pr_pid at +24 (NT_PRSTATUS has TIDs). The same layout on AArch64
            # (32-bit uid/gid), and qemu-user fills it with its own getpid(), which is the
            # guest's: the pid the program printed.
            if ntype == 3 and self.pid is None:
                self.pid, = struct.unpack_from("<i", data, desc + 24)
            pos = desc + (descsz + 3) // 4 * 4

    def mapped(self, addr, length=1):
        return any(v <= addr and addr + length <= v + m for v, m, _, _ in self.loads)

    def overlaps(self, addr, length):
        return any(addr < v + m and v < addr + length for v, m, _, _ in self.loads)

    def read(self, addr, n):
        for v, m, off, fsz in self.loads:
            if v <= addr and addr + n <= v + m:
                rel = addr - v
                self.f.seek(off + rel)
                data = self.f.read(max(0, min(n, fsz - rel)))
                return data + b"\0" * (n - len(data))
        raise KeyError(f"address {addr:#x}+{n} is not in the core")

    def u64(self, addr):
        return struct.unpack("<Q", self.read(addr, 8))[0]

    def u8(self, addr):
        return self.read(addr, 1)[0]


def parse_truth(stderr_text):
    recs = []
    for line in stderr_text.splitlines():
        if line.startswith(PREFIX):
            recs.append(json.loads(line[len(PREFIX):]))
    return recs


QEMU_CORE_NAME = re.compile(r"qemu_.+_\d{8}-\d{6}_(\d+)\.core")


def check_run(core_path, stderr_text, scenario, layout, arch=None, core_name=None):
    """Returns a list of problems (empty if the run is good).

    arch: the architecture the core must be (None: either). core_name: the file name qemu-user
    gave the core (qemu_<prog>_<yyyymmdd-hhmmss>_<pid>.core); its pid must be the case's too.
    """
    errs = []
    recs = parse_truth(stderr_text)
    if "GOMAPCORE-ERROR" in stderr_text:
        errs.append("program reported an error: " + re.search(r"GOMAPCORE-ERROR.*", stderr_text).group(0))
    if not recs or recs[0].get("record") != "case":
        return errs + ["first truth record is not a case record"]
    case = recs[0]
    if case["scenario"] != scenario or case["layout"] != layout:
        errs.append(f"case record {case} does not match scenario {scenario}, layout {layout}")
    msg = crash_message(stderr_text)
    if msg not in expected_messages(scenario):
        errs.append(f"crash message {msg!r} is not one of {expected_messages(scenario)}")
    if scenario == "fault-in-map" and "[signal SIGSEGV" not in stderr_text:
        errs.append("no SIGSEGV in the fault-in-map output")
    if not os.path.exists(core_path):
        return errs + ["no core"]
    core = Core(core_path)
    if arch and core.arch != arch:
        errs.append(f"core is {core.arch}, not {arch}")
    if core.pid != case["pid"]:
        errs.append(f"core pid {core.pid} != case pid {case['pid']}")
    if core_name is not None:
        m = QEMU_CORE_NAME.fullmatch(core_name)
        if not m or int(m.group(1)) != case["pid"]:
            errs.append(f"qemu core name {core_name!r} does not end in the case pid {case['pid']}")

    maps = [r for r in recs if r["record"] == "map"]
    damages = [r for r in recs if r["record"] == "damage"]
    crashes = [r for r in recs if r["record"] == "crash"]
    if len(crashes) != 1:
        errs.append(f"{len(crashes)} crash records")
    elif crashes[0]["kind"] != CRASH_KIND.get(scenario, "other"):
        errs.append(f"crash kind {crashes[0]['kind']}")
    if scenario not in ("healthy", "nil-map-write", "hidden-roots") and not scenario.startswith("concurrent") \
            and not damages:
        errs.append("no damage record")
    inflated = {d["map"] for d in damages if d["rule"] == "count-mismatch"}
    for m in maps:
        addr = int(m["addr"], 16)
        if m["nil"] != (addr == 0):
            errs.append(f"{m['root']}: nil={m['nil']} but addr {m['addr']}")
        if addr == 0:
            continue
        try:
            count = core.u64(addr)
            want = m["count"] + (5 if m["addr"] in inflated else 0)
            if count != want:
                errs.append(f"{m['root']}: header at {m['addr']} holds count {count}, truth says {want}")
            if layout == "classic":
                if (core.u64(addr + 24) != 0) != m["growing"]:
                    errs.append(f"{m['root']}: oldbuckets {core.u64(addr + 24):#x} vs growing={m['growing']}")
            elif m["root"] == "main.large" and core.u64(addr + 24) < 2:
                errs.append(f"main.large: dirLen {core.u64(addr + 24)} < 2")
        except KeyError as e:
            errs.append(f"{m['root']}: {e}")
    if scenario == "healthy" and layout == "classic" and not any(m["growing"] for m in maps):
        errs.append("no growing map in a classic healthy case")

    for u in (r for r in recs if r["record"] == "unmapped"):
        if core.overlaps(int(u["address"], 16), u["length"]):
            errs.append(f"unmapped region {u['address']} is in the core")
    for d in damages:
        try:
            errs += check_damage(core, d)
        except KeyError as e:
            errs.append(f"damage {d['rule']}: {e}")

    for c in crashes:
        if "file" in c and f"{c['file']}:{c['line']}" not in stderr_text:
            errs.append(f"crash location {c['file']}:{c['line']} not in the traceback")
    tracebacks = traceback_blocks(stderr_text)
    for g in (r for r in recs if r["record"] == "goroutine"):
        block = tracebacks.get(g["goid"])
        if block is None:
            errs.append(f"goroutine {g['goid']} ({g['role']}) not in the traceback")
        elif g["function"] + "(" not in block and "stack unavailable" not in block:
            # (a goroutine still running on another thread has no traceback in the
            # runtime's output; its registers are in that thread's NT_PRSTATUS)
            errs.append(f"goroutine {g['goid']}: {g['function']} not in its traceback")
        elif g["role"] == "start-closure" and f"goroutine {g['goid']} " in stderr_text and not re.search(
                rf"^goroutine {g['goid']} [^\[]*\[runnable\]:\n{re.escape(g['function'])}\(", stderr_text, re.M):
            # Its map is held only by the closure in g.sched.ctxt while it has never run.
            errs.append(f"goroutine {g['goid']} ran before the crash: not runnable at {g['function']}")
    return errs


def traceback_blocks(text):
    blocks, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"goroutine (\d+) [^\[]*\[", line)
        if m:
            cur = int(m.group(1))
            blocks[cur] = ""
        elif cur is not None:
            blocks[cur] += line + "\n"
    return blocks


def check_damage(core, d):
    h, bad = int(d["map"], 16), int(d["address"], 16)
    rule, field = d["rule"], d["field"]
    errs = []

    def expect(cond, what):
        if not cond:
            errs.append(f"damage {rule} ({field}): {what}")

    pointer_rules = {"buckets-unmapped", "oldbuckets-unmapped", "table-unmapped", "groups-unmapped",
                     "dangling-entry-pointer"}
    if rule in pointer_rules:
        expect(not core.mapped(bad), f"{bad:#x} is mapped in the core")
    if field in ("buckets", "dirPtr"):
        expect(core.u64(h + 16) == bad, "header field does not hold the bad pointer")
    elif field == "oldbuckets":
        expect(core.u64(h + 24) == bad, "oldbuckets does not hold the bad pointer")
    elif field.startswith("directory["):
        p = int(field[len("directory["):-1])
        expect(core.u64(core.u64(h + 16) + 8 * p) == bad, "directory entry does not hold the bad pointer")
    elif field == "groups.data":
        expect(core.u64(core.u64(core.u64(h + 16)) + 16) == bad, "table groups.data does not hold the bad pointer")
    elif field in ("count", "used"):
        expect(bad == h, "address is not the map header")
    elif field.startswith(("tophash[", "ctrl[")):
        i = int(field[field.index("[") + 1:-1])
        want = 2 if field.startswith("tophash") else 0x81
        expect(core.u8(bad + i) == want, f"byte {i} of {bad:#x} is {core.u8(bad + i):#x}, not {want:#x}")
    elif field == "overflow":
        # main.chained is a map[int64]int64: 144-byte buckets, overflow pointer at +136.
        buckets, nb = core.u64(h + 16), 1 << core.u8(h + 9)
        expect((bad - buckets) % 144 == 0 and 0 <= (bad - buckets) // 144 < nb, "target is not a main bucket")
        b, seen = core.u64(bad + 136), 0
        while b not in (0, bad) and seen < 100:
            b, seen = core.u64(b + 136), seen + 1
        expect(b == bad and seen >= 0, "the overflow chain does not lead back to its first bucket")
    elif field == "value":
        pass  # checked above: the value points at unmapped memory
    else:
        errs.append(f"unknown damaged field {field}")
    return errs


def sha256_of(path):
    """sha256 and size of a file, decompressed if it ends in .zst."""
    h, n = hashlib.sha256(), 0
    if path.endswith(".zst"):
        p = subprocess.Popen(["zstd", "-dcq", "--long=31", path], stdout=subprocess.PIPE)
        stream = p.stdout
    else:
        p, stream = None, open(path, "rb")
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    stream.close()
    if p and p.wait() != 0:
        raise RuntimeError(f"zstd failed on {path}")
    return h.hexdigest(), n


def case_files(bdir, scenario):
    stderr = next((f for f in (f"{scenario}.stderr", f"{scenario}.stderr.zst")
                   if os.path.exists(os.path.join(bdir, f))), None)
    core = f"{scenario}.core.zst"
    return (core if os.path.exists(os.path.join(bdir, core)) else None), stderr


def read_text(path):
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dcq", path], check=True, stdout=subprocess.PIPE).stdout.decode()
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def cmd_manifest(cdir, specs, arch=None, core_writer=None):
    builds = []
    for spec in specs:
        name, goexp = spec.split(":")
        bdir = os.path.join(cdir, name)
        if not os.path.isdir(bdir):
            continue
        info = {"name": name}
        cases = []
        for scen in sorted({f.split(".")[0] for f in os.listdir(bdir) if ".stderr" in f}):
            core, stderr = case_files(bdir, scen)
            recs = parse_truth(read_text(os.path.join(bdir, stderr)))
            case = recs[0]
            if "layout" not in info:
                # go_version is runtime.Version(): "go1.24.4 X:noswissmap", "go1.27.3-X:mapsplitgroup"
                info.update({"go_toolchain": re.split(r"[ -]X:", case["go_version"])[0], "goexperiment": goexp,
                             "layout": case["layout"], "group_layout": case["group_layout"],
                             "go_version": case["go_version"]})
            entry = {"scenario": scen, "crash_kind": next(r["kind"] for r in recs if r["record"] == "crash"),
                     "crash_message": crash_message(read_text(os.path.join(bdir, stderr)))}
            for key, fname in (("core", core), ("stderr", stderr)):
                if fname:
                    digest, size = sha256_of(os.path.join(bdir, fname))
                    entry[key] = {"file": fname, "sha256": digest, "size": size,
                                  "stored_size": os.path.getsize(os.path.join(bdir, fname))}
            cases.append(entry)
        exe = os.path.join(bdir, "mapcrash.zst")
        if os.path.exists(exe):
            digest, size = sha256_of(exe)
            info["executable"] = {"file": "mapcrash.zst", "sha256": digest, "size": size,
                                  "stored_size": os.path.getsize(exe)}
        info["cases"] = cases
        builds.append(info)
    manifest = {"format": 1, "generator": "samples/make-corpus.sh",
                "truth_format": "samples/README.md#ground-truth-format", "builds": builds}
    if arch:
        # Only the other-architecture corpora say so; tests/corpus/manifest.json (amd64,
        # kernel cores) stays as it always was.
        manifest = {"format": 1, "generator": f"samples/make-corpus.sh --arch {arch}", "arch": arch,
                    "core_writer": core_writer, "truth_format": manifest["truth_format"], "builds": builds}
    with open(os.path.join(cdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


def cmd_verify(cdir, only):
    with open(os.path.join(cdir, "manifest.json")) as f:
        manifest = json.load(f)
    bad = 0
    for b in manifest["builds"]:
        if only and b["name"] not in only:
            continue
        bdir = os.path.join(cdir, b["name"])
        for c in b["cases"]:
            with tempfile.TemporaryDirectory() as tmp:
                core = os.path.join(tmp, "core")
                subprocess.run(["zstd", "-dqf", "--long=31", os.path.join(bdir, c["core"]["file"]), "-o", core],
                               check=True)
                errs = check_run(core, read_text(os.path.join(bdir, c["stderr"]["file"])), c["scenario"], b["layout"],
                                 manifest.get("arch", "amd64"))
                if sha256_of(core)[0] != c["core"]["sha256"]:
                    errs.append("core sha256 differs from the manifest")
            print(f"{b['name']:18} {c['scenario']:28} {'ok' if not errs else 'FAIL'}")
            for e in errs:
                print("    " + e)
            bad += bool(errs)
    return 1 if bad else 0


def main(argv):
    if len(argv) in (4, 5) and argv[0] == "check":
        rundir, scenario, layout = argv[1:4]
        arch = argv[4] if len(argv) == 5 else None
        core_name = None
        if os.path.exists(os.path.join(rundir, "core-name")):
            with open(os.path.join(rundir, "core-name")) as f:
                core_name = f.read().strip()
        with open(os.path.join(rundir, "stderr"), encoding="utf-8", errors="replace") as f:
            errs = check_run(os.path.join(rundir, "core"), f.read(), scenario, layout, arch, core_name)
        for e in errs:
            print(e)
        return 1 if errs else 0
    if len(argv) >= 2 and argv[0] == "verify":
        return cmd_verify(argv[1], argv[2:])
    if len(argv) >= 2 and argv[0] == "manifest":
        args, opts = argv[1:], {}
        while args and args[0] in ("--arch", "--core-writer") and len(args) >= 2:
            opts[args[0][2:].replace("-", "_")] = args[1]
            args = args[2:]
        if not args or opts.get("arch", "amd64") not in ARCH_OF_MACHINE.values():
            print(__doc__, file=sys.stderr)
            return 64
        cmd_manifest(args[0], args[1:], opts.get("arch"), opts.get("core_writer"))
        return 0
    if len(argv) == 2 and argv[0] == "scenarios":
        print("\n".join(scenarios_for(argv[1])))
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
