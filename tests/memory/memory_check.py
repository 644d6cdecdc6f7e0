#!/usr/bin/env python3
"""Where the memory went (issue #17) on real cores: samples/mapcrash's `out-of-memory` scenario
(a map grown to 1,000,000 entries and emptied to 10, three more maps, then the runtime's own
out-of-memory fatal error under an address-space limit) and its plain-panic twin `memory-held`,
for a classic (Go 1.19) and a swiss (Go 1.26) build.

The cores are committed in tests/corpus-memory/<build>/ (zstd, about 4 MB each: the stale keys of
the emptied map are most of it), with the executable and the program's stderr (its ground truth),
and unpacked by CMake into the build tree.

  memory_check.py check GOMAPCORE CORPUS_DIR
      checks every build of the unpacked memory corpus (the CTest case)
  memory_check.py make GOMAPCORE REPO [--builds go1.19,go1.26]
      builds mapcrash with each toolchain (Debian's /usr/lib/go-1.19, or
      ~/.cache/gomapcore/go/go1.N of samples/fetch-go-toolchains.sh), runs both scenarios until
      they dump core, checks them, and writes tests/corpus-memory/<build>/

Checks, per core: the crash message is the runtime's (first `fatal error:` line) and the report's
crash kind is out-of-memory (other for memory-held); the text report's first lines and the first
map of `gomapcore memory` name main.emptied; main.emptied gets map-oversized, main.fresh (the same
10 entries, never grown) and the others do not; and every part of each map's `memory` (header,
buckets or group arrays, directory, overflow, old buckets, indirect keys and elems), its capacity
and its overflow bucket count equal what this script computes on its own from the shape the
program read from the map itself and from Go's size classes (runtime/sizeclasses.go) and
mallocgc's rules (runtime/malloc.go): exactly.
"""
import json
import os
import resource
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from kernel_cores import why_cores_are_not_written_here  # noqa: E402

TRUTH = "GOMAPCORE-TRUTH "
SCENARIOS = ("out-of-memory", "memory-held")
OOM_MESSAGES = ("fatal error: out of memory", "fatal error: runtime: out of memory")
BUILDS = {"go1.19": "1.19", "go1.26": "1.26"}

# Go's size classes (runtime/sizeclasses.go class_to_size; internal/runtime/gc/sizeclasses.go
# SizeClassToSize from Go 1.25), the same table in every release from 1.19 to 1.27; `make`
# checks it against the toolchain's own source.
SIZE_CLASSES = [0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288,
                320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536,
                1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192,
                9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576,
                27264, 28672, 32768]
PAGE = 8192  # _PageShift 13
MAX_SMALL = 32768
MALLOC_HEADER = 8  # Go 1.22+: objects with pointers above 512 bytes carry their type in front
HEADER_MIN = 512

# The runtime structures' sizes on amd64, from the runtime source: hmap (runtime/map.go: count,
# flags, B, noverflow, hash0, buckets, oldbuckets, nevacuate, extra; Go 1.24/1.25 noswiss add
# clearSeq) and mapextra (overflow, oldoverflow, nextOverflow); swiss maps.Map (used, seed,
# dirPtr, dirLen, globalDepth, globalShift, writing, tombstonePossible, clearSeq) and maps.table
# (used, capacity, growthLeft, localDepth, index, groups{data, lengthMask}).
HMAP_SIZE = {"classic": 48, "classic-clearseq": 56}
MAPEXTRA_SIZE = 24
SWISS_MAP_SIZE = 48
SWISS_TABLE_SIZE = 32


def go_minor(version):
    """1.19 -> 19 from runtime.Version() ("go1.19.8", "go1.26.0", "go1.26rc1")."""
    digits = version[len("go1."):]
    return int("".join(c for c in digits.split(".")[0] if c.isdigit()) or 0)


def allocation(size, pointers, minor):
    """The bytes mallocgc gives a request of size bytes: the size class, with the malloc header
    of Go 1.22+ for objects with pointers above 512 bytes; whole pages for a large object."""
    small = MAX_SMALL - MALLOC_HEADER if minor >= 22 else MAX_SMALL
    if size <= small:
        if minor >= 22 and pointers and size > HEADER_MIN:
            size += MALLOC_HEADER
        return next(c for c in SIZE_CLASSES if c >= size)
    return (size + PAGE - 1) // PAGE * PAGE


def expected_memory(shape):
    """Every part of maps[].memory, computed from the shape the program recorded."""
    minor, ptrs = go_minor(shape["go_version"]), shape["pointers"]
    want = {"header": 0, "buckets": 0, "directory": 0, "overflow": 0, "old_buckets": 0, "indirect": 0}
    indirect = 0
    if shape["indirect_key_size"]:
        indirect += allocation(shape["indirect_key_size"], shape["indirect_key_pointers"], minor)
    if shape["indirect_elem_size"]:
        indirect += allocation(shape["indirect_elem_size"], shape["indirect_elem_pointers"], minor)
    want["indirect"] = indirect * shape["entries"]
    if shape["layout"] == "classic":
        hmap = HMAP_SIZE["classic-clearseq" if minor in (24, 25) else "classic"]
        want["header"] = allocation(hmap, True, minor) + (allocation(MAPEXTRA_SIZE, True, minor) if shape["extra"] else 0)
        main = 1 << shape["B"]
        # makeBucketArray: 2^B buckets, from B = 4 on 2^(B-4) more for overflow, rounded up to
        # the allocation's size (the extra room becomes overflow buckets too).
        array = main + (main >> 4 if shape["B"] >= 4 else 0)
        want["buckets"] = allocation(array * shape["bucket_size"], ptrs, minor)
        want["overflow"] = shape["overflow_apart"] * allocation(shape["bucket_size"], ptrs, minor)
        want["capacity"] = 8 * (main + shape["overflow"])
        want["overflow_buckets"] = shape["overflow"]
    else:
        want["header"] = allocation(SWISS_MAP_SIZE, True, minor)
        if shape["small"]:
            want["buckets"] = allocation(shape["group_size"], ptrs, minor)
            want["capacity"] = 8
        else:
            caps = shape["table_capacities"]
            want["buckets"] = sum(allocation(c // 8 * shape["group_size"], ptrs, minor) for c in caps)
            want["directory"] = (allocation(8 * shape["dir_len"], True, minor)
                                 + len(caps) * allocation(SWISS_TABLE_SIZE, True, minor))
            want["capacity"] = sum(caps)
        want["overflow_buckets"] = 0
    want["bytes"] = sum(want[k] for k in ("header", "buckets", "directory", "overflow", "old_buckets", "indirect"))
    return want


def truth(stderr):
    return [json.loads(l[len(TRUTH):]) for l in stderr.splitlines() if l.startswith(TRUTH)]


def gomapcore(binary, *args):
    out = subprocess.run([binary, *args], capture_output=True, text=True, timeout=600)
    if out.returncode not in (0, 1):
        raise RuntimeError(f"gomapcore {' '.join(args)} exited {out.returncode}: {out.stderr}")
    return out.stdout


def check_core(binary, label, scenario, core, exe, stderr, problems):
    def expect(ok, what):
        if not ok:
            problems.append(f"{label}/{scenario}: {what}")
        return ok

    records = truth(stderr)
    first = next((l for l in stderr.splitlines() if l.startswith(("panic: ", "fatal error: "))), "")
    if scenario == "out-of-memory":
        expect(first in OOM_MESSAGES or first.startswith("fatal error: out of memory "),
               f"the runtime did not die of out-of-memory: {first!r}")
    else:
        expect(first == "panic: memory-held: done", f"unexpected crash line {first!r}")
    report = json.loads(gomapcore(binary, "analyze", core, "--exe", exe, "--format", "json", "--fail-on", "never"))
    crash = report["crash"] or {}
    expect(crash.get("kind") == ("out-of-memory" if scenario == "out-of-memory" else "other"),
           f"crash kind {crash.get('kind')!r} (message {crash.get('message')!r})")
    memory = report["memory"]
    expect(memory["heap_in_use"] is not None and memory["heap_in_use"] >= memory["maps_bytes"],
           f"heap in use {memory['heap_in_use']} against maps {memory['maps_bytes']}")
    expect(memory["largest"] and "main.emptied" in memory["largest"][0]["roots"],
           f"largest map is not main.emptied: {memory['largest'][:1]}")
    by_address = {m["address"]: m for m in report["maps"]}
    oversized = {f["map"] for f in report["findings"] if f["rule"] == "map-oversized"}
    dominant = {f["map"] for f in report["findings"] if f["rule"] == "map-dominant"}
    shapes = [r for r in records if r["record"] == "shape"]
    expect(len(shapes) == 4, f"{len(shapes)} shape records, not 4")
    for shape in shapes:
        root, m = shape["root"], by_address.get(shape["addr"])
        if not expect(m is not None, f"{root} at {shape['addr']} is not listed"):
            continue
        mem = m["memory"]
        expect(mem["complete"], f"{root}: memory walk incomplete")
        for field, want in expected_memory(shape).items():
            expect(mem[field] == want, f"{root}: memory.{field} is {mem[field]}, computed {want} from {shape}")
        if root == "main.emptied":
            expect(m["address"] in oversized, f"{root}: no map-oversized ({mem})")
            if scenario == "memory-held":
                expect(m["address"] in dominant, f"{root}: no map-dominant (heap {memory['heap_in_use']})")
        else:
            expect(m["address"] not in oversized, f"{root}: map-oversized on a map that was never emptied")
    emptied = next((r for r in records if r["record"] == "map" and r["root"] == "main.emptied"), None)
    fresh = next((r for r in records if r["record"] == "map" and r["root"] == "main.fresh"), None)
    expect(emptied and fresh and emptied["count"] == fresh["count"] == 10, "truth lacks main.emptied / main.fresh")

    text = gomapcore(binary, "analyze", core, "--exe", exe, "--fail-on", "never").splitlines()
    head = "\n".join(text[:3])
    if scenario == "out-of-memory":
        expect("main.emptied" in head and "out of memory" in head, f"first lines do not name main.emptied:\n{head}")
    expect(any("Where the memory went" in l for l in text), "no 'Where the memory went' table")
    listing = json.loads(gomapcore(binary, "memory", core, "--exe", exe, "--format", "json"))
    expect(listing["maps"] and "main.emptied" in listing["maps"][0]["roots"],
           f"gomapcore memory does not put main.emptied first: {listing['maps'][:1]}")
    lines = gomapcore(binary, "memory", core, "--exe", exe).splitlines()
    expect(len(lines) > 1 and "main.emptied" in lines[1], f"memory text: {lines[:2]}")
    print(f"{label}/{scenario}: {first}; kind {crash.get('kind')}; heap in use {memory['heap_in_use']}, "
          f"maps {memory['maps_bytes']}; main.emptied {memory['largest'][0]['bytes'] if memory['largest'] else '?'} bytes")


def check(binary, corpus):
    builds = sorted(d for d in os.listdir(corpus) if os.path.isdir(os.path.join(corpus, d)))
    problems = []
    if not builds:
        problems.append(f"no build in {corpus}")
    for label in builds:
        folder = os.path.join(corpus, label)
        for scenario in SCENARIOS:
            with open(os.path.join(folder, scenario + ".stderr")) as f:
                stderr = f.read()
            check_core(binary, label, scenario, os.path.join(folder, scenario + ".core"),
                       os.path.join(folder, "mapcrash"), stderr, problems)
    for p in problems:
        print("FAIL " + p)
    return 1 if problems else 0


def toolchain_root(release):
    if release == "1.19" and os.path.exists("/usr/lib/go-1.19/bin/go"):
        return "/usr/lib/go-1.19"
    root = os.path.join(os.environ.get("GOMAPCORE_GO_DIR", os.path.expanduser("~/.cache/gomapcore/go")), "go" + release)
    return root if os.path.exists(os.path.join(root, "bin", "go")) else None


def toolchain_size_classes(goroot):
    import re
    for relative, name in (("src/runtime/sizeclasses.go", "class_to_size"),
                           ("src/internal/runtime/gc/sizeclasses.go", "SizeClassToSize")):
        path = os.path.join(goroot, relative)
        if os.path.exists(path):
            with open(path) as f:
                found = re.search(name + r"\s*=\s*\[[^\]]*\]uint16\{([^}]*)\}", f.read())
            if found:
                return [int(x) for x in found.group(1).split(",") if x.strip()]
    return None


def unlimited_core():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def run_scenario(exe, scenario, rundir):
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    env = {k: v for k, v in os.environ.items() if k not in ("GOTRACEBACK", "GODEBUG", "GOGC", "GOMEMLIMIT")}
    env["GOMAXPROCS"] = "2"
    with open(os.path.join(rundir, "stderr"), "w") as err:
        subprocess.run([exe, scenario], cwd=rundir, env=env, stdout=subprocess.DEVNULL, stderr=err,
                       preexec_fn=unlimited_core, timeout=180)
    cores = [f for f in os.listdir(rundir) if f == "core" or f.startswith("core.")]
    if len(cores) != 1:
        raise RuntimeError(f"{scenario}: expected one core in {rundir}, found {cores}")
    with open(os.path.join(rundir, "stderr")) as f:
        return os.path.join(rundir, cores[0]), f.read()


def make(binary, repo, builds):
    why_not = why_cores_are_not_written_here()
    if why_not:
        print(f"memory_check make: {why_not}")
        return 1
    work = os.path.join(os.environ.get("TMPDIR", "/tmp"), "gomapcore-memory-corpus")
    for label in builds:
        goroot = toolchain_root(BUILDS[label])
        if goroot is None:
            print(f"memory_check make: no Go {BUILDS[label]} toolchain (samples/fetch-go-toolchains.sh)")
            return 1
        if toolchain_size_classes(goroot) != SIZE_CLASSES:
            print(f"memory_check make: {goroot}'s size classes differ from SIZE_CLASSES; update the table")
            return 1
        out = os.path.join(work, label)
        os.makedirs(out, exist_ok=True)
        exe = os.path.join(out, "mapcrash")
        env = dict(os.environ, GOROOT=goroot, PATH=f"{goroot}/bin:{os.environ['PATH']}", GOTOOLCHAIN="local",
                   GOENV="off", GOFLAGS="", CGO_ENABLED="0", GOCACHE=os.path.join(work, "gocache"),
                   GOPATH=os.path.join(work, "gopath"))
        subprocess.run([os.path.join(goroot, "bin", "go"), "build", "-buildvcs=false", "-trimpath", "-o", exe, "."],
                       cwd=os.path.join(repo, "samples", "mapcrash"), env=env, check=True)
        target = os.path.join(repo, "tests", "corpus-memory", label)
        os.makedirs(target, exist_ok=True)
        for scenario in SCENARIOS:
            core, stderr = run_scenario(exe, scenario, os.path.join(out, scenario))
            problems = []
            check_core(binary, label, scenario, core, exe, stderr, problems)
            if problems:
                print("\n".join("FAIL " + p for p in problems))
                return 1
            subprocess.run(["zstd", "-q", "-f", "-19", "--long=27", "-T0", core, "-o",
                            os.path.join(target, scenario + ".core.zst")], check=True)
            shutil.copy(os.path.join(out, scenario, "stderr"), os.path.join(target, scenario + ".stderr"))
            os.remove(core)
        subprocess.run(["zstd", "-q", "-f", "-19", exe, "-o", os.path.join(target, "mapcrash.zst")], check=True)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    if len(sys.argv) >= 4 and sys.argv[1] == "make":
        chosen = list(BUILDS)
        if len(sys.argv) == 6 and sys.argv[4] == "--builds":
            chosen = sys.argv[5].split(",")
        sys.exit(make(sys.argv[2], sys.argv[3], chosen))
    print(__doc__)
    sys.exit(2)
