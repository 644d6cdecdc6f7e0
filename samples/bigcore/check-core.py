#!/usr/bin/env python3
"""Checks a bigcore core against the truth its run printed (stdlib only, amd64 ELF cores).

usage: check-core.py CORE STDERR

Requires: the case record first and the core's NT_PRPSINFO pid equal to its pid; for every
non-nil map record, the header in the core holds its count (hmap.count / Map.used) and its
shape (classic: B, buckets != nil, oldbuckets != nil exactly when growing; swiss: dirLen,
globalDepth); every sampled element of main.many / main.records in the core is the sampled
map's header; exactly one crash record, the last truth line. Prints one line per problem and
exits 1 if there are any.
"""
import json
import struct
import sys

PREFIX = "GOMAPCORE-TRUTH "
RECORD_SIZE, ATTRS_OFF = 32, 24  # main.Record{ID int64; Name string; Attrs map[string]string}


class Core:
    def __init__(self, path):
        self.f = open(path, "rb")
        ident = self.f.read(64)
        if ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:
            raise SystemExit(f"{path}: not a 64-bit little-endian ELF file")
        (e_type,) = struct.unpack_from("<H", ident, 16)
        if e_type != 4:
            raise SystemExit(f"{path}: not a core (e_type {e_type})")
        phoff, = struct.unpack_from("<Q", ident, 32)
        phentsize, phnum = struct.unpack_from("<HH", ident, 54)
        self.loads, self.notes = [], []
        for i in range(phnum):
            self.f.seek(phoff + i * phentsize)
            p_type, _, off, vaddr, _, filesz, memsz, _ = struct.unpack("<IIQQQQQQ", self.f.read(56))
            if p_type == 1:
                self.loads.append((vaddr, memsz, off, filesz))
            elif p_type == 4:
                self.notes.append((off, filesz))

    def read(self, addr, n):
        for vaddr, memsz, off, filesz in self.loads:
            if vaddr <= addr and addr + n <= vaddr + memsz:
                rel = addr - vaddr
                if rel + n > filesz:
                    return None  # not dumped
                self.f.seek(off + rel)
                return self.f.read(n)
        return None

    def u64(self, addr):
        b = self.read(addr, 8)
        return None if b is None else struct.unpack("<Q", b)[0]

    def u8(self, addr):
        b = self.read(addr, 1)
        return None if b is None else b[0]

    def pid(self):
        for off, size in self.notes:
            self.f.seek(off)
            data, pos = self.f.read(size), 0
            while pos + 12 <= len(data):
                namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
                desc = pos + 12 + (namesz + 3) // 4 * 4
                if ntype == 3:  # NT_PRPSINFO: pr_pid at 24 on amd64
                    return struct.unpack_from("<i", data, desc + 24)[0]
                pos = desc + (descsz + 3) // 4 * 4
        return None


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    core = Core(sys.argv[1])
    truth = [json.loads(l[len(PREFIX):]) for l in open(sys.argv[2], errors="replace") if l.startswith(PREFIX)]
    problems = []
    if not truth or truth[0].get("record") != "case":
        raise SystemExit("check-core: the first truth line is not a case record")
    case = truth[0]
    if core.pid() != case["pid"]:
        problems.append(f"core pid {core.pid()} != case pid {case['pid']}")
    classic = case["layout"] == "classic"
    maps = {}
    for r in truth:
        if r["record"] == "map":
            if r["root"] in maps:
                problems.append(f"{r['root']}: two map records")
            maps[r["root"]] = r
    checked = 0
    for r in maps.values():
        if r["nil"]:
            if r["addr"] != "0x0":
                problems.append(f"{r['root']}: nil map with addr {r['addr']}")
            continue
        h, s, root = int(r["addr"], 16), r["shape"], r["root"]
        want = {0: r["count"]}
        if classic:
            want.update({24: "nonzero" if r["growing"] else 0, 16: "nonzero" if s["buckets"] else 0})
            if core.u8(h + 9) != s["B"]:
                problems.append(f"{root}: B {core.u8(h + 9)} != {s['B']}")
        else:
            want.update({24: s["dir_len"]})
            if core.u8(h + 32) != s["global_depth"]:
                problems.append(f"{root}: globalDepth {core.u8(h + 32)} != {s['global_depth']}")
        for off, v in want.items():
            got = core.u64(h + off)
            if got is None or (v == "nonzero" and got == 0) or (v != "nonzero" and got != v):
                problems.append(f"{root}: word at {r['addr']}+{off} is {got}, want {v}")
        checked += 1
    for r in truth:
        if r["record"] != "slice":
            continue
        base, elem, off = int(r["addr"], 16), 8, 0
        if r["root"] == "main.records":
            elem, off = RECORD_SIZE, ATTRS_OFF
        for root, m in maps.items():
            if not root.startswith(r["root"] + "["):
                continue
            i = int(root[len(r["root"]) + 1:].split("]")[0])
            got = core.u64(base + i * elem + off)
            if got != int(m["addr"], 16):
                problems.append(f"{root}: slot holds {got if got is None else hex(got)}, want {m['addr']}")
    crashes = [i for i, r in enumerate(truth) if r["record"] == "crash"]
    if crashes != [len(truth) - 1]:
        problems.append(f"crash records at truth lines {crashes}, want exactly one, the last")
    for p in problems:
        print("check-core:", p)
    if problems:
        sys.exit(1)
    print(f"check-core: ok ({checked} map headers, pid {case['pid']}, {case['layout']})")


if __name__ == "__main__":
    main()
