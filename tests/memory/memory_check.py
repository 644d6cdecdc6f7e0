#!/usr/bin/env python3
"""Where the memory went (issue #17) on real cores made at test time: samples/mapcrash's
`out-of-memory` scenario (a map grown to 1,000,000 entries and emptied to 10, three more maps,
then the runtime's own out-of-memory fatal error under an address-space limit) and its plain-panic
twin `memory-held`. Their cores are tens of MB, too big for the committed corpus.

Built with every toolchain found: Debian's Go 1.19 (/usr/lib/go-1.19, classic maps) and any
~/.cache/gomapcore/go/go1.N of samples/fetch-go-toolchains.sh (1.24+: swiss maps). Exits 77
(skipped) when there is none, or when kernel.core_pattern does not write cores to the working
directory.

Checks, per core: the crash message is the runtime's (first `fatal error:` line) and the report's
crash kind is out-of-memory (other for memory-held); the text report's first lines and the first
map of `gomapcore memory` name main.emptied; main.emptied gets map-oversized, main.fresh (the same
10 entries, never grown) and the others do not; each map's capacity and overflow bucket count equal
the shape the program read from the map itself, and large bucket arrays are counted with the page
rounding of a large allocation.

usage: memory_check.py GOMAPCORE REPO WORKDIR
"""
import json
import os
import resource
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from kernel_cores import SKIP, why_cores_are_not_written_here  # noqa: E402

TRUTH = "GOMAPCORE-TRUTH "
PAGE = 8192  # runtime pageSize (_PageShift 13) on every Go version here
OOM_MESSAGES = ("fatal error: out of memory", "fatal error: runtime: out of memory")


def toolchains():
    found = []
    if os.path.exists("/usr/lib/go-1.19/bin/go"):
        found.append(("go1.19", "/usr/lib/go-1.19"))
    cache = os.environ.get("GOMAPCORE_GO_DIR", os.path.expanduser("~/.cache/gomapcore/go"))
    for name in ("go1.24", "go1.26", "go1.27"):
        root = os.path.join(cache, name)
        if os.path.exists(os.path.join(root, "bin", "go")):
            found.append((name, root))
    return found


def truth(stderr):
    return [json.loads(l[len(TRUTH):]) for l in stderr.splitlines() if l.startswith(TRUTH)]


def unlimited_core():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def run_scenario(exe, scenario, rundir):
    os.makedirs(rundir, exist_ok=True)
    for f in os.listdir(rundir):
        os.remove(os.path.join(rundir, f))
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


def gomapcore(binary, *args):
    out = subprocess.run([binary, *args], capture_output=True, text=True, timeout=600)
    if out.returncode not in (0, 1):
        raise RuntimeError(f"gomapcore {' '.join(args)} exited {out.returncode}: {out.stderr}")
    return out.stdout


def array_buckets(length):
    return length + length // 16 if length >= 16 else length


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
    for shape in (r for r in records if r["record"] == "shape"):
        root, m = shape["root"], by_address.get(shape["addr"])
        if not expect(m is not None, f"{root} at {shape['addr']} is not listed"):
            continue
        mem = m["memory"]
        expect(mem["complete"], f"{root}: memory walk incomplete")
        if shape["layout"] == "classic":
            main_buckets = 1 << shape["B"]
            expect(mem["capacity"] == 8 * (main_buckets + shape["overflow"]),
                   f"{root}: capacity {mem['capacity']} != 8 * (2^{shape['B']} + {shape['overflow']})")
            expect(mem["overflow_buckets"] == shape["overflow"],
                   f"{root}: {mem['overflow_buckets']} overflow buckets, the program counted {shape['overflow']}")
            nominal = array_buckets(main_buckets) * shape["bucket_size"]
            if nominal > 64 << 10:  # a large object: whole pages, as makeBucketArray's roundupsize
                want = (nominal + PAGE - 1) // PAGE * PAGE
                expect(mem["buckets"] == want, f"{root}: bucket array {mem['buckets']} != {want} (B={shape['B']})")
            else:
                expect(mem["buckets"] >= nominal, f"{root}: bucket array {mem['buckets']} < {nominal}")
            expect(mem["overflow"] >= shape["overflow_apart"] * shape["bucket_size"],
                   f"{root}: overflow {mem['overflow']} < {shape['overflow_apart']} buckets apart")
        else:
            want = 8 if shape["small"] else sum(shape["table_capacities"])
            expect(mem["capacity"] == want, f"{root}: capacity {mem['capacity']} != {want}")
            groups = (1 if shape["small"] else sum(c // 8 for c in shape["table_capacities"])) * shape["group_size"]
            expect(mem["buckets"] >= groups, f"{root}: group arrays {mem['buckets']} < {groups}")
            expect(mem["directory"] >= shape["dir_len"] * 8, f"{root}: directory {mem['directory']}")
        if root == "main.bigElems":
            expect(mem["indirect"] >= 2000 * 160, f"{root}: indirect {mem['indirect']} < 2000 elems of 160 bytes")
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


def main(binary, repo, work):
    why_not = why_cores_are_not_written_here()
    if why_not:
        print(f"memory: SKIPPED: {why_not}")
        return SKIP
    chains = toolchains()
    if not chains:
        print("memory: SKIPPED: no Go toolchain (golang-1.19-go, or samples/fetch-go-toolchains.sh)")
        return SKIP
    problems = []
    for label, goroot in chains:
        out = os.path.join(work, label)
        os.makedirs(out, exist_ok=True)
        exe = os.path.join(out, "mapcrash")
        env = dict(os.environ, GOROOT=goroot, PATH=f"{goroot}/bin:{os.environ['PATH']}", GOTOOLCHAIN="local",
                   GOENV="off", GOFLAGS="", CGO_ENABLED="0", GOCACHE=os.path.join(work, "gocache"),
                   GOPATH=os.path.join(work, "gopath"))
        subprocess.run([os.path.join(goroot, "bin", "go"), "build", "-buildvcs=false", "-o", exe, "."],
                       cwd=os.path.join(repo, "samples", "mapcrash"), env=env, check=True)
        for scenario in ("out-of-memory", "memory-held"):
            core, stderr = run_scenario(exe, scenario, os.path.join(out, scenario))
            check_core(binary, label, scenario, core, exe, stderr, problems)
            os.remove(core)
    for p in problems:
        print("FAIL " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
