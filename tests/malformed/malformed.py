#!/usr/bin/env python3
"""The malformed-input suite: inputs gomapcore must survive, each with its expected outcome.

Every case is one input (or one core/executable pair) that is broken in one way, and what a
serious tool must answer for it: either exit 2 with a one-line reason on stderr, or an analysis
whose report says what it could not capture or trust. Never a crash, a hang, a sanitizer report
or a silent wrong answer.

The inputs are written into the build tree, never committed: synthetic ELF files built here, and
variants of the committed corpus (tests/corpus, unpacked by the `corpus` target) and of a core of
a small C program (abort-c/, see make-core.sh there). Map-structure damage is patched into real
cores at addresses taken from the corpus ground truth (SCENARIO.stderr); the header field offsets
are the runtime's (golang/go src/runtime/map.go @go1.23 hmap and bmap; src/internal/runtime/maps/
map.go @go1.26 Map) and every patch first checks them against the truth, so a wrong offset
stops the generator instead of producing a meaningless input.

    malformed.py list        case names, one per line, "\tDISABLED" after a case that pins an
                             engine bug outside this suite (CMake adds one test per case)
    malformed.py generate --corpus DIR --abort-core CORE --abort-exe EXE --objcopy OBJCOPY --out DIR
                             writes every input and OUT/facts.json (what each case needs to know)
    malformed.py run CASE --gomapcore BIN --inputs DIR
                             runs gomapcore analyze (JSON and text), maps and show on the case's
                             input, each bounded by TIMEOUT_SECONDS, and checks the outcome; set
                             GOMAPCORE_MALFORMED_WRAPPER="valgrind -q --error-exitcode=97" to run
                             them under valgrind

Stdlib only.
"""

import argparse
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import zlib

# --- ELF constants (elf.h) ---------------------------------------------------------------------
ET_CORE = 4
EM_386, EM_S390, EM_X86_64, EM_AARCH64 = 3, 22, 62, 183
EM_RISCV = 243
PT_LOAD, PT_NOTE = 1, 4
PF_W, PF_R = 2, 4
NT_PRSTATUS, NT_PRPSINFO, NT_FILE = 1, 3, 0x46494C45
EHDR64_SIZE, PHDR64_SIZE = 64, 56
# Offsets inside Elf64_Ehdr and Elf64_Phdr.
E_MACHINE, E_PHOFF, E_PHNUM = 18, 32, 56
P_OFFSET, P_FILESZ, P_MEMSZ = 8, 32, 40

TIMEOUT_SECONDS = 40  # per gomapcore run: no answer by then is a hang (ctest bounds the whole case)
SANITIZER_REPORT = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|"
                              r"^==\d+== (Invalid|Conditional|Use of uninitialised|Syscall param)", re.M)


class GeneratorError(Exception):
    pass


def check(condition, message):
    if not condition:
        raise GeneratorError(message)


# --- Reading ELF cores ---------------------------------------------------------------------------
class Segment:
    def __init__(self, index, fields):
        (self.type, self.flags, self.offset, self.vaddr, _paddr, self.filesz, self.memsz, _align) = fields
        self.index = index


class Core:
    """A little-endian ELF64 core read whole (the corpus cores are ~45 MB, mostly sparse)."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        check(self.data[:4] == b"\x7fELF" and self.data[4] == 2 and self.data[5] == 1,
              f"{path}: not a little-endian ELF64 file")
        self.phoff = struct.unpack_from("<Q", self.data, E_PHOFF)[0]
        self.phnum = struct.unpack_from("<H", self.data, E_PHNUM)[0]
        self.segments = [
            Segment(i, struct.unpack_from("<IIQQQQQQ", self.data, self.phoff + PHDR64_SIZE * i))
            for i in range(self.phnum)
        ]

    def loads(self):
        return [s for s in self.segments if s.type == PT_LOAD]

    def note_segment(self):
        notes = [s for s in self.segments if s.type == PT_NOTE]
        check(len(notes) == 1, f"{self.path}: expected one PT_NOTE segment")
        return notes[0]

    def notes(self):
        """(header file offset, namesz, descsz, type, desc file offset) of every note."""
        seg = self.note_segment()
        out, pos, end = [], seg.offset, seg.offset + seg.filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", self.data, pos)
            desc = pos + 12 + ((namesz + 3) & ~3)
            out.append((pos, namesz, descsz, ntype, desc))
            pos = desc + ((descsz + 3) & ~3)
        return out

    def note(self, ntype):
        for n in self.notes():
            if n[3] == ntype:
                return n
        raise GeneratorError(f"{self.path}: no note of type {ntype:#x}")

    def segment_of(self, address):
        for s in self.loads():
            if s.vaddr <= address < s.vaddr + s.memsz:
                return s
        return None

    def offset_of(self, address, size=1):
        """File offset of captured bytes [address, address + size); fails unless captured."""
        s = self.segment_of(address)
        check(s is not None and address + size <= s.vaddr + s.filesz,
              f"{self.path}: {address:#x} (+{size}) is not captured in the core")
        return s.offset + (address - s.vaddr)

    def captured(self, address, size=1):
        s = self.segment_of(address)
        return s is not None and address + size <= s.vaddr + s.filesz

    def read(self, address, size):
        off = self.offset_of(address, size)
        return self.data[off:off + size]

    def u64(self, address):
        return struct.unpack("<Q", self.read(address, 8))[0]

    def u16(self, address):
        return struct.unpack("<H", self.read(address, 2))[0]

    def u8(self, address):
        return self.read(address, 1)[0]


def truth(stderr_path):
    """The GOMAPCORE-TRUTH records of a corpus case, maps by root."""
    maps, case = {}, None
    with open(stderr_path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("GOMAPCORE-TRUTH "):
                continue
            record = json.loads(line[len("GOMAPCORE-TRUTH "):])
            if record["record"] == "map":
                maps[record["root"]] = record
            elif record["record"] == "case":
                case = record
    check(case is not None and maps, f"{stderr_path}: no ground truth")
    return case, maps


# --- Writing variants ----------------------------------------------------------------------------
def write_variant(source, destination, patches=(), truncate=None, append=b""):
    """Copies source to destination (sparse: all-zero blocks become holes), applies patches
    [(offset, bytes)], cuts the file at truncate, then appends bytes."""
    size = os.path.getsize(source)
    if truncate is not None:
        size = min(size, truncate)
    block = 1 << 20
    zero = bytes(block)
    with open(source, "rb") as src, open(destination + ".tmp", "wb") as dst:
        done = 0
        while done < size:
            chunk = src.read(min(block, size - done))
            if chunk == zero[:len(chunk)]:
                dst.seek(len(chunk), os.SEEK_CUR)
            else:
                dst.write(chunk)
            done += len(chunk)
        dst.truncate(size)
        for offset, data in patches:
            check(offset + len(data) <= size, f"patch at {offset:#x} lies past the end of {destination}")
            dst.seek(offset)
            dst.write(data)
        if append:
            dst.seek(size)
            dst.write(append)
    os.replace(destination + ".tmp", destination)


def write_bytes(destination, data):
    with open(destination, "wb") as f:
        f.write(data)


def phdr64(ptype, flags, offset, vaddr, filesz, memsz, align=0x1000):
    return struct.pack("<IIQQQQQQ", ptype, flags, offset, vaddr, 0, filesz, memsz, align)


def raw_phdrs(core):
    return [core.data[core.phoff + PHDR64_SIZE * i: core.phoff + PHDR64_SIZE * (i + 1)] for i in range(core.phnum)]


def with_program_headers(core, destination, phdrs):
    """Writes core with its program header table replaced by phdrs, appended at the end of the
    file (the original table stays where it was, unreferenced)."""
    size = os.path.getsize(core.path)
    table = (size + 7) & ~7
    patches = [(E_PHOFF, struct.pack("<Q", table)), (E_PHNUM, struct.pack("<H", len(phdrs)))]
    write_variant(core.path, destination, patches, append=bytes(table - size) + b"".join(phdrs))


def note_bytes(name, ntype, desc, big_endian=False):
    order = ">" if big_endian else "<"
    name = name.encode() + b"\0"
    pad = lambda b: b + bytes(-len(b) % 4)  # noqa: E731
    return struct.pack(order + "III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def synthetic_core(elf_class, big_endian, machine, notes, loads=()):
    """A minimal ELF core: header, program headers (one PT_NOTE, then PT_LOADs), notes, data."""
    order = ">" if big_endian else "<"
    ident = b"\x7fELF" + bytes([elf_class, 2 if big_endian else 1, 1, 0]) + bytes(8)
    if elf_class == 2:
        ehsize, phentsize = EHDR64_SIZE, PHDR64_SIZE
    else:
        ehsize, phentsize = 52, 32
    phnum = 1 + len(loads)
    note_offset = ehsize + phentsize * phnum
    data_offset = (note_offset + len(notes) + 0xfff) & ~0xfff
    if elf_class == 2:
        header = ident + struct.pack(order + "HHIQQQIHHHHHH", ET_CORE, machine, 1, 0, ehsize, 0, 0, ehsize,
                                     phentsize, phnum, 0, 0, 0)
        phdrs = struct.pack(order + "IIQQQQQQ", PT_NOTE, 0, note_offset, 0, 0, len(notes), 0, 4)
    else:
        header = ident + struct.pack(order + "HHIIIIIHHHHHH", ET_CORE, machine, 1, 0, ehsize, 0, 0, ehsize,
                                     phentsize, phnum, 0, 0, 0)
        phdrs = struct.pack(order + "IIIIIIII", PT_NOTE, note_offset, 0, 0, len(notes), 0, 0, 4)
    body = b""
    for vaddr, flags, contents in loads:
        offset = data_offset + len(body)
        phdrs += struct.pack(order + "IIQQQQQQ", PT_LOAD, flags, offset, vaddr, 0, len(contents), len(contents),
                             0x1000)
        body += contents
    image = header + phdrs + notes
    return image + bytes(data_offset - len(image)) + body if loads else image


def prpsinfo(pid, command):
    """x86_64 struct elf_prpsinfo (136 bytes)."""
    desc = bytearray(136)
    struct.pack_into("<i", desc, 24, pid)
    desc[40:40 + len(command)] = command.encode()
    return bytes(desc)


# --- Map structures in real cores ----------------------------------------------------------------
# Classic hmap (golang/go src/runtime/map.go @go1.23, type hmap): count int @0, flags uint8 @8,
# B uint8 @9, noverflow uint16 @10, hash0 uint32 @12, buckets @16, oldbuckets @24, nevacuate @32,
# extra @40. Bucket of map[string]int (bmap + the compiler's keys/elems/overflow): tophash [8]uint8
# @0, keys [8]string @8, elems [8]int @136, overflow @200; 208 bytes.
HMAP_COUNT, HMAP_FLAGS, HMAP_B, HMAP_BUCKETS, HMAP_OLDBUCKETS = 0, 8, 9, 16, 24
STRING_INT_BUCKET_SIZE, STRING_INT_OVERFLOW = 208, 200
MIN_TOPHASH = 5
# Swiss Map (golang/go src/internal/runtime/maps/map.go @go1.26, type Map): used uint64 @0,
# seed @8, dirPtr @16, dirLen int @24, globalDepth uint8 @32, globalShift uint8 @33, writing @34.
SWISS_USED, SWISS_DIRPTR, SWISS_DIRLEN, SWISS_GLOBALDEPTH, SWISS_GLOBALSHIFT = 0, 16, 24, 32, 33


class ClassicStringIntMap:
    """A map[string]int of a classic build, checked against its truth record."""

    def __init__(self, core, record):
        check(record["type"] == "map[string]int", f"{record['root']} is {record['type']}, not map[string]int")
        self.core, self.address = core, int(record["addr"], 16)
        self.count = core.u64(self.address + HMAP_COUNT)
        self.B = core.u8(self.address + HMAP_B)
        self.flags = core.u8(self.address + HMAP_FLAGS)
        self.buckets = core.u64(self.address + HMAP_BUCKETS)
        oldbuckets = core.u64(self.address + HMAP_OLDBUCKETS)
        where = f"{core.path}: {record['root']} at {self.address:#x}"
        check(self.count == record["count"], f"{where}: hmap.count = {self.count}, truth {record['count']}")
        check(self.B <= 16 and oldbuckets == 0 and self.flags & 4 == 0,
              f"{where}: B = {self.B}, oldbuckets = {oldbuckets:#x}, flags = {self.flags:#x}")
        # Walk every chain: the live tophash cells must add up to the truth's count, and every
        # live key must be a readable string; otherwise the offsets above are wrong.
        live, self.chains = 0, []
        for i in range(1 << self.B):
            chain, bucket = [], self.buckets + i * STRING_INT_BUCKET_SIZE
            while bucket != 0:
                check(len(chain) < 64 and core.captured(bucket, STRING_INT_BUCKET_SIZE),
                      f"{where}: bucket chain through {bucket:#x} is not a plausible chain")
                chain.append(bucket)
                for cell in range(8):
                    if core.u8(bucket + cell) >= MIN_TOPHASH:
                        live += 1
                        data = core.u64(bucket + 8 + 16 * cell)
                        length = core.u64(bucket + 16 + 16 * cell)
                        # Key strings may live in .rodata, which the core maps but does not dump.
                        check(0 < length < 256 and core.segment_of(data) is not None,
                              f"{where}: key {cell} of bucket {bucket:#x} is not a string")
                bucket = core.u64(bucket + STRING_INT_OVERFLOW)
            self.chains.append(chain)
        check(live == self.count, f"{where}: the buckets hold {live} entries, count is {self.count}")

    def field(self, offset):
        return self.core.offset_of(self.address + offset)


class SwissMap:
    """A swiss map with a directory (dirLen > 0) of a swiss build, checked against its truth."""

    def __init__(self, core, record):
        self.core, self.address = core, int(record["addr"], 16)
        self.used = core.u64(self.address + SWISS_USED)
        self.dirPtr = core.u64(self.address + SWISS_DIRPTR)
        self.dirLen = core.u64(self.address + SWISS_DIRLEN)
        depth = core.u8(self.address + SWISS_GLOBALDEPTH)
        shift = core.u8(self.address + SWISS_GLOBALSHIFT)
        where = f"{core.path}: {record['root']} at {self.address:#x}"
        check(self.used == record["count"], f"{where}: Map.used = {self.used}, truth {record['count']}")
        check(self.dirLen >= 2 and self.dirLen == 1 << depth and shift == 64 - depth,
              f"{where}: dirLen = {self.dirLen}, globalDepth = {depth}, globalShift = {shift}")
        self.directory = [core.u64(self.dirPtr + 8 * i) for i in range(self.dirLen)]
        check(all(t % 8 == 0 and core.captured(t, 32) for t in self.directory),
              f"{where}: directory entries {[hex(t) for t in self.directory]} are not table pointers")

    def field(self, offset):
        return self.core.offset_of(self.address + offset)


def zero_run(core, size, exclude=()):
    """A page-aligned run of at least size captured, writable, all-zero bytes, or an error."""
    zero_page = bytes(4096)
    for s in core.loads():
        if not s.flags & PF_W or s.filesz < size:
            continue
        start = None
        for page in range(0, s.filesz, 4096):
            zero = core.data[s.offset + page:s.offset + page + 4096] == zero_page
            if zero and start is None:
                start = page
            if not zero:
                start = None
            elif page + 4096 - start >= size:
                address = s.vaddr + start
                if not any(address <= e < address + size for e in exclude):
                    return address
    raise GeneratorError(f"{core.path}: no {size} bytes of zeros in a captured writable segment")


# --- Expectations ----------------------------------------------------------------------------------
# Each check takes the JSON report and the facts the generator recorded, and returns a problem
# (a string) or None.
def _map_of(report, root):
    for m in report["maps"]:
        if root in m["roots"]:
            return m
    return None


def finding(rule, message=None, root=None, severity=None):
    def run(report, facts):
        address = None
        if root is not None:
            m = _map_of(report, root)
            if m is None:
                return f"no map reached from {root}"
            address = m["address"]
        for f in report["findings"]:
            if f["rule"] != rule or (severity and f["severity"] != severity):
                continue
            if address is not None and f["map"] != address:
                continue
            if message is not None and not re.search(message.format(**facts), f["message"]):
                continue
            return None
        return (f"no {rule} finding" + (f" on {root}" if root else "") +
                (f" matching /{message.format(**facts)}/" if message else ""))
    return run


def no_finding(severity=None, rule=None):
    def run(report, facts):
        bad = [f for f in report["findings"]
               if (severity is None or f["severity"] == severity) and (rule is None or f["rule"] == rule)]
        if bad:
            return f"unexpected findings: {json.dumps(bad[:5])}"
        return None
    return run


def note(pattern):
    def run(report, facts):
        regex = pattern.format(**facts)
        if any(re.search(regex, n) for n in report["notes"]):
            return None
        return f"no note matches /{regex}/ (notes: {report['notes'][:8]})"
    return run


def field(path, expected):
    def run(report, facts):
        value = report
        for key in path.split("."):
            value = value[key]
        want = expected.format(**facts) if isinstance(expected, str) else expected
        return None if value == want else f"{path} is {value!r}, expected {want!r}"
    return run


def map_field(root, key, expected):
    def run(report, facts):
        m = _map_of(report, root)
        if m is None:
            return f"no map reached from {root}"
        return None if m.get(key) == expected else f"{root}: {key} is {m.get(key)!r}, expected {expected!r}"
    return run


def limit(pattern, root):
    def run(report, facts):
        m = _map_of(report, root)
        if m is None:
            return f"no map reached from {root}"
        if any(re.search(pattern, entry) for entry in m["limits_hit"]) and any(
                e["map"] == m["address"] and re.search(pattern, e["limit"]) for e in report["limits_hit"]):
            return None
        return f"{root}: no limit matching /{pattern}/ in {m['limits_hit']}"
    return run


def maps_found(count_key):
    """As many maps as the unmodified core has (recorded by the generator)."""
    def run(report, facts):
        want = facts[count_key]
        got = len(report["maps"])
        return None if got == want else f"{got} maps found, the intact core has {want}"
    return run


def statuses_not_damaged():
    """Nothing in the input damaged a map, so no map may be reported damaged."""
    def run(report, facts):
        bad = [m["roots"] for m in report["maps"] if m["status"] == "damaged"]
        return f"maps reported damaged: {bad}" if bad else None
    return run


def every_global_map_not_captured(facts_key):
    """Each global map of the truth list is reported, and as not captured."""
    def run(report, facts):
        problems = []
        for root in facts[facts_key]:
            m = _map_of(report, root)
            if m is None:
                if not any(root in n for n in report["notes"]):
                    problems.append(f"{root}: neither a map nor a note")
                continue
            says = [f for f in report["findings"] if f["map"] == m["address"] and f["rule"] == "pointer-not-captured"]
            if not says or m["complete"] or m["status"] == "ok":
                problems.append(f"{root}: status {m['status']}, complete {m['complete']}, "
                                f"{len(says)} pointer-not-captured findings")
        return "; ".join(problems) if problems else None
    return run


# --- Cases -------------------------------------------------------------------------------------------
class Case:
    """name; make(ctx) writes the inputs and returns the facts; spec says what gomapcore is given;
    exit_code; for exit 2, a regex the one-line reason must match; otherwise checks on the JSON
    report, regexes the text report must match, and a map root `show` must be able to print."""

    def __init__(self, name, make, spec, exit_code, stderr=None, checks=(), text=(), show=None, disabled=None):
        self.name, self.make, self.spec, self.exit_code = name, make, spec, exit_code
        self.stderr, self.checks, self.text, self.show = stderr, list(checks), list(text), show
        self.disabled = disabled


CASES = []


def case(*args, **kwargs):
    CASES.append(Case(*args, **kwargs))


class Context:
    def __init__(self, args):
        self.corpus, self.out = args.corpus, args.out
        self.abort_core, self.abort_exe, self.objcopy = args.abort_core, args.abort_exe, args.objcopy
        self._cores = {}

    def core(self, build, scenario="healthy"):
        key = (build, scenario)
        if key not in self._cores:
            self._cores[key] = Core(self.core_path(build, scenario))
        return self._cores[key]

    def core_path(self, build, scenario="healthy"):
        return os.path.join(self.corpus, build, scenario + ".core")

    def exe(self, build):
        return os.path.join(self.corpus, build, "mapcrash")

    def truth(self, build, scenario="healthy"):
        return truth(os.path.join(self.corpus, build, scenario + ".stderr"))

    def path(self, name):
        return os.path.join(self.out, name)


def analyze(core_key="core", exe_key="exe", extra=()):
    """Which core and executable (keys into the case's facts) gomapcore is given, and extra options."""
    return {"core": core_key, "exe": exe_key, "extra": list(extra)}


def command(subcommand, spec, facts, *more):
    argv = [subcommand, facts[spec["core"]], *more]
    if spec["exe"] is not None:
        argv += ["--exe", facts[spec["exe"]]]
    return argv + spec["extra"]


def facts_for(ctx, build, core_path, scenario="healthy", **more):
    """The facts every analysis case of a corpus variant needs."""
    _, maps = ctx.truth(build, scenario)
    facts = {"core": core_path, "exe": ctx.exe(build), "intact_core": ctx.core_path(build, scenario)}
    facts["global_maps"] = sorted(r for r, m in maps.items() if m["where"] == "global" and not m["nil"])
    facts.update(more)
    return facts


# Plain garbage.
def make_empty(ctx):
    write_bytes(ctx.path("empty.core"), b"")
    return {"core": ctx.path("empty.core"), "exe": ctx.exe("go1.26")}


case("empty-file", make_empty, analyze(), 2, r"is empty")


def make_random(ctx):
    data = random.Random(20240611).randbytes(1 << 16)
    check(data[:4] != b"\x7fELF", "the random bytes happen to start like an ELF file")
    write_bytes(ctx.path("random.core"), data)
    return {"core": ctx.path("random.core"), "exe": ctx.exe("go1.26")}


case("random-bytes", make_random, analyze(), 2, r"is not an ELF file")


def make_truncated_ehdr(ctx):
    # A real core's first 40 bytes: the ELF identification promises a 64-bit header, which ends
    # at byte 64.
    write_variant(ctx.core("go1.26").path, ctx.path("ehdr-truncated.core"), truncate=40)
    return {"core": ctx.path("ehdr-truncated.core"), "exe": ctx.exe("go1.26")}


case("elf-header-truncated", make_truncated_ehdr, analyze(), 2, r"is truncated: its ELF header needs 64 bytes")


def make_not_core(ctx):
    return {"core": ctx.exe("go1.26"), "exe": ctx.exe("go1.26")}


case("elf-not-a-core", make_not_core, analyze(), 2, r"is an ELF file but not a core dump")


def make_elf32(ctx):
    notes = note_bytes("CORE", NT_PRPSINFO, bytes(124))
    write_bytes(ctx.path("elf32.core"), synthetic_core(1, False, EM_386, notes))
    return {"core": ctx.path("elf32.core"), "exe": ctx.exe("go1.26")}


case("core-32-bit", make_elf32, analyze(), 2, r"32-bit ELF file; only 64-bit amd64 and arm64 cores")


def make_big_endian(ctx):
    notes = note_bytes("CORE", NT_PRPSINFO, bytes(136), big_endian=True)
    write_bytes(ctx.path("big-endian.core"), synthetic_core(2, True, EM_S390, notes))
    return {"core": ctx.path("big-endian.core"), "exe": ctx.exe("go1.26")}


case("core-big-endian", make_big_endian, analyze(), 2, r"big-endian ELF file")


def relabelled_machine(machine, name):
    """The go1.26 healthy core with e_machine set to machine."""
    def make(ctx):
        core = ctx.core("go1.26")
        write_variant(core.path, ctx.path(name), [(E_MACHINE, struct.pack("<H", machine))])
        return {"core": ctx.path(name), "exe": ctx.exe("go1.26")}
    return make


# An amd64 core relabelled arm64: both are read, so it is the executable that does not match.
case("core-other-architecture", relabelled_machine(EM_AARCH64, "aarch64.core"), analyze(), 2,
     r"is an amd64 program and the core is of an arm64 process")
case("core-unsupported-architecture", relabelled_machine(EM_RISCV, "riscv.core"), analyze(), 2,
     r"unsupported architecture \(e_machine 243\); only amd64 and arm64 cores are supported")


def make_no_segments(ctx):
    notes = note_bytes("CORE", NT_PRPSINFO, prpsinfo(4242, "mapcrash"))
    write_bytes(ctx.path("no-segments.core"), synthetic_core(2, False, EM_X86_64, notes))
    return {"core": ctx.path("no-segments.core"), "exe": ctx.exe("go1.26")}


case("core-without-memory", make_no_segments, analyze(), 2, r"no memory segments")


# Program headers.
def make_phdrs_past_eof(ctx):
    core = ctx.core("go1.26")
    size = os.path.getsize(core.path)
    write_variant(core.path, ctx.path("phdrs-past-eof.core"), [(E_PHOFF, struct.pack("<Q", size - 3 * PHDR64_SIZE))])
    return {"core": ctx.path("phdrs-past-eof.core"), "exe": ctx.exe("go1.26")}


case("program-headers-past-eof", make_phdrs_past_eof, analyze(), 2,
     r"program headers extend past the end of the file")


def make_phnum_huge(ctx):
    core = ctx.core("go1.26")
    write_variant(core.path, ctx.path("phnum-huge.core"), [(E_PHNUM, struct.pack("<H", 0xfffe))])
    return {"core": ctx.path("phnum-huge.core"), "exe": ctx.exe("go1.26")}


case("program-header-count-huge", make_phnum_huge, analyze(), 2,
     r"the program header table \(65534 entries at offset 0x40\) overlaps the data of its own entry 0")


def make_phoff_overflow(ctx):
    core = ctx.core("go1.26")
    write_variant(core.path, ctx.path("phoff-overflow.core"), [(E_PHOFF, struct.pack("<Q", (1 << 64) - 16))])
    return {"core": ctx.path("phoff-overflow.core"), "exe": ctx.exe("go1.26")}


case("program-header-offset-wraps", make_phoff_overflow, analyze(), 2,
     r"program headers extend past the end of the file")


def make_truncated_in_phdrs(ctx):
    core = ctx.core("go1.26")
    write_variant(core.path, ctx.path("cut-in-phdrs.core"), truncate=EHDR64_SIZE + 5 * PHDR64_SIZE + 20)
    return {"core": ctx.path("cut-in-phdrs.core"), "exe": ctx.exe("go1.26")}


case("truncated-in-program-headers", make_truncated_in_phdrs, analyze(), 2,
     r"program headers extend past the end of the file \(truncated core\?\): 29 entries at offset 0x40, "
     r"but the file has 364 bytes")


def heap_segment(core, address):
    s = core.segment_of(address)
    check(s is not None and s.filesz == s.memsz and s.flags & PF_W, f"{address:#x} is not in a dumped heap segment")
    return s


def make_overlap_duplicate(ctx):
    # The heap segment listed twice (same addresses, same file bytes): harmless, but worth a note.
    core = ctx.core("go1.26")
    _, maps = ctx.truth("go1.26")
    heap = heap_segment(core, int(maps["main.users"]["addr"], 16))
    phdrs = raw_phdrs(core) + [raw_phdrs(core)[heap.index]]
    with_program_headers(core, ctx.path("overlap-duplicate.core"), phdrs)
    return facts_for(ctx, "go1.26", ctx.path("overlap-duplicate.core"), heap=f"{heap.vaddr:#x}")


case("segments-overlap-same-bytes", make_overlap_duplicate, analyze(), 0, checks=[
    note(r"PT_LOAD segments overlap at {heap}"), maps_found("maps_intact"), no_finding(),
    field("input.core_truncated", False)], show="main.large")


def make_overlap_conflict(ctx):
    # A second segment claims the heap's addresses with other bytes (zeros from elsewhere in the
    # file), listed first so that "first one wins" would silently read zeros for every map.
    core = ctx.core("go1.26")
    _, maps = ctx.truth("go1.26")
    heap = heap_segment(core, int(maps["main.users"]["addr"], 16))
    zeros = zero_run(core, heap.memsz)
    bogus = phdr64(PT_LOAD, PF_R | PF_W, core.offset_of(zeros, heap.memsz), heap.vaddr, heap.memsz, heap.memsz)
    with_program_headers(core, ctx.path("overlap-conflict.core"), [bogus] + raw_phdrs(core))
    return facts_for(ctx, "go1.26", ctx.path("overlap-conflict.core"), heap=f"{heap.vaddr:#x}")


case("segments-overlap-different-bytes", make_overlap_conflict, analyze(), 0, checks=[
    note(r"PT_LOAD segments overlap at {heap}.*different"), every_global_map_not_captured("global_maps"),
    no_finding(severity="error")], text=[r"pointer-not-captured"], show="main.users")


def make_overlap_nested(ctx):
    # A small segment inside the heap segment, over main.large's header only, with other bytes
    # (zeros): those 48 bytes are contradicted, the rest of the heap segment is not.
    core = ctx.core("go1.26")
    _, maps = ctx.truth("go1.26")
    large = int(maps["main.large"]["addr"], 16)
    heap = heap_segment(core, large)
    bogus = phdr64(PT_LOAD, PF_R | PF_W, core.offset_of(zero_run(core, 4096), 48), large, 48, 48)
    phdrs = raw_phdrs(core)
    with_program_headers(core, ctx.path("overlap-nested.core"), phdrs[:heap.index] + [bogus] + phdrs[heap.index:])
    return facts_for(ctx, "go1.26", ctx.path("overlap-nested.core"), start=f"{large:#x}", end=f"{large + 48:#x}")


case("segments-overlap-nested", make_overlap_nested, analyze(), 0, checks=[
    note(r"PT_LOAD segments overlap at {start}-{end} with different contents"),
    finding("pointer-not-captured", r"map header .* not capture", root="main.large"),
    map_field("main.large", "status", "incomplete"), map_field("main.users", "status", "ok"),
    map_field("main.users", "complete", True), no_finding(severity="error"), maps_found("maps_intact")],
     show="main.users")


def make_zero_size(ctx):
    core = ctx.core("go1.26")
    phdrs = raw_phdrs(core)
    extra = [phdr64(PT_LOAD, PF_R, 0, 0x10000, 0, 0), phdr64(PT_LOAD, PF_R | PF_W, 0x1000, 0x20000, 0x1000, 0),
             phdr64(PT_LOAD, PF_R, os.path.getsize(core.path), 0x30000, 0, 0)]
    with_program_headers(core, ctx.path("zero-size-segments.core"), extra[:2] + phdrs + extra[2:])
    return facts_for(ctx, "go1.26", ctx.path("zero-size-segments.core"))


case("segments-zero-size", make_zero_size, analyze(), 0, checks=[
    maps_found("maps_intact"), no_finding(), field("input.core_truncated", False)])


def make_segment_offset_huge(ctx):
    # The heap segment's p_offset points far past the end of the file.
    core = ctx.core("go1.26")
    _, maps = ctx.truth("go1.26")
    heap = heap_segment(core, int(maps["main.users"]["addr"], 16))
    patch = (core.phoff + PHDR64_SIZE * heap.index + P_OFFSET, struct.pack("<Q", 1 << 62))
    write_variant(core.path, ctx.path("segment-offset-huge.core"), [patch])
    return facts_for(ctx, "go1.26", ctx.path("segment-offset-huge.core"))


case("segment-data-past-eof", make_segment_offset_huge, analyze(), 0, checks=[
    field("input.core_truncated", True), note(r"truncated"), every_global_map_not_captured("global_maps"),
    no_finding(severity="error")], text=[r"core TRUNCATED"], show="main.users")


def make_segment_wraps(ctx):
    # A segment whose end wraps past 2^64.
    core = ctx.core("go1.26")
    last = max(core.loads(), key=lambda s: s.vaddr)
    patch = (core.phoff + PHDR64_SIZE * last.index + P_MEMSZ, struct.pack("<Q", (1 << 64) - 0x1000))
    write_variant(core.path, ctx.path("segment-wraps.core"), [patch])
    return facts_for(ctx, "go1.26", ctx.path("segment-wraps.core"), wrapped=f"{last.vaddr:#x}")


case("segment-wraps-address-space", make_segment_wraps, analyze(), 0, checks=[
    note(r"PT_LOAD segment at {wrapped}.*wraps"), maps_found("maps_intact"), no_finding()])


# Notes.
def prstatus_descsz(build, descsz, name):
    """A variant of build's healthy core whose first note, NT_PRSTATUS, claims descsz bytes."""
    def make(ctx):
        core = ctx.core(build)
        first = core.notes()[0]
        check(first[3] == NT_PRSTATUS, "the first note is not NT_PRSTATUS")
        write_variant(core.path, ctx.path(name), [(first[0] + 4, struct.pack("<I", descsz))])
        return facts_for(ctx, build, ctx.path(name))
    return make


case("note-size-past-segment", prstatus_descsz("go1.26", 0xfffffff0, "note-descsz-huge.core"), analyze(), 0, checks=[
    note(r"malformed note"), field("target.threads", 0), field("target.pid", 0), maps_found("maps_intact"),
    no_finding()])


# NT_PRSTATUS claims 16 bytes: the rest of its descriptor is then read as further notes.
case("note-size-too-small", prstatus_descsz("go1.26", 16, "note-descsz-short.core"), analyze(), 0, checks=[
    note(r"NT_PRSTATUS note too short \(16 bytes; an amd64 one is 336\)"), maps_found("maps_intact"), no_finding()],
    show="main.users")


# aarch64 notes with lying sizes (an arm64 core made under qemu-aarch64, tests/corpus-arm64).
# NT_PRSTATUS claims amd64's 336 bytes: too short for arm64's 34 registers.
case("arm64-note-prstatus-too-short", prstatus_descsz("arm64-go1.26", 336, "arm64-prstatus-short.core"), analyze(), 0,
     checks=[
    note(r"NT_PRSTATUS note too short \(336 bytes; an arm64 one is 392\)"), maps_found("maps_intact"),
    no_finding()], show="main.users")


# Without NT_FILE (qemu's arm64 cores) the executable is matched against the core's mappings.
def make_arm64_exe_of_another_build(ctx):
    return {"core": ctx.core_path("arm64-go1.26"), "exe": ctx.exe("arm64-go1.23")}


case("arm64-no-file-note-other-executable", make_arm64_exe_of_another_build, analyze(), 2,
     r"does not match the core, which has no file mappings \(no NT_FILE note\): its segment at 0x10000 does not fit")


def make_arm64_rodata_differs(ctx):
    # One byte of the read-only data qemu dumped differs from the executable's file.
    core = ctx.core("arm64-go1.26")
    rodata = [s for s in core.loads() if s.flags == 4 and s.filesz > 0]  # PF_R only, dumped
    check(rodata, "no dumped read-only segment")
    at = rodata[0].offset + 100
    write_variant(core.path, ctx.path("arm64-rodata-differs.core"), [(at, bytes([core.data[at] ^ 0xff]))])
    return {"core": ctx.path("arm64-rodata-differs.core"), "exe": ctx.exe("arm64-go1.26")}


case("arm64-no-file-note-rodata-differs", make_arm64_rodata_differs, analyze(), 2,
     r"bytes the core dumped at 0x[0-9a-f]+ are not the executable's")


case("arm64-note-size-past-segment", prstatus_descsz("arm64-go1.23", 0xfffffff0, "arm64-note-descsz-huge.core"),
     analyze(), 0, checks=[
    note(r"malformed note"), field("target.threads", 0), field("target.pid", 0), maps_found("maps_intact"),
    no_finding()])


def make_note_namesz_huge(ctx):
    core = ctx.core("go1.26")
    prpsinfo_note = core.note(NT_PRPSINFO)
    write_variant(core.path, ctx.path("note-namesz-huge.core"), [(prpsinfo_note[0], struct.pack("<I", 0x7ffffff0))])
    return facts_for(ctx, "go1.26", ctx.path("note-namesz-huge.core"))


case("note-name-size-huge", make_note_namesz_huge, analyze(), 0, checks=[
    note(r"malformed note"), field("target.pid", 0), maps_found("maps_intact"), no_finding()])


def make_nt_file_count(ctx):
    core = ctx.core("go1.26")
    nt_file = core.note(NT_FILE)
    write_variant(core.path, ctx.path("nt-file-count.core"), [(nt_file[4], struct.pack("<Q", 1 << 40))])
    return facts_for(ctx, "go1.26", ctx.path("nt-file-count.core"))


case("nt-file-count-lies", make_nt_file_count, analyze(), 0, checks=[
    note(r"NT_FILE note claims more entries than it holds"), maps_found("maps_intact"), no_finding()])
case("nt-file-count-lies-no-exe", make_nt_file_count, analyze(exe_key=None), 2,
     r"does not name its executable")


def make_pt_note_past_eof(ctx):
    core = ctx.core("go1.26")
    seg = core.note_segment()
    patch = (core.phoff + PHDR64_SIZE * seg.index + P_OFFSET, struct.pack("<Q", os.path.getsize(core.path) + 4096))
    write_variant(core.path, ctx.path("pt-note-past-eof.core"), [patch])
    return facts_for(ctx, "go1.26", ctx.path("pt-note-past-eof.core"))


case("note-segment-past-eof", make_pt_note_past_eof, analyze(), 0, checks=[
    note(r"PT_NOTE segment lies past the end of the file"), field("input.core_truncated", True),
    field("target.threads", 0), maps_found("maps_intact"), no_finding()])


def make_pt_note_huge(ctx):
    # PT_NOTE claims to run to the end of the file: the notes are followed by page padding and
    # memory, which must be read as (empty or malformed) notes without harm.
    core = ctx.core("go1.26")
    seg = core.note_segment()
    patch = (core.phoff + PHDR64_SIZE * seg.index + P_FILESZ, struct.pack("<Q", 1 << 40))
    write_variant(core.path, ctx.path("pt-note-huge.core"), [patch])
    return facts_for(ctx, "go1.26", ctx.path("pt-note-huge.core"))


case("note-segment-size-huge", make_pt_note_huge, analyze(), 0, checks=[
    note(r"PT_NOTE segment is cut off by the end of the file"), field("input.core_truncated", True),
    maps_found("maps_intact"), no_finding(severity="error")])


# Truncation.
def make_truncated(fraction):
    def make(ctx):
        core = ctx.core("go1.23")
        name = f"truncated-{fraction}.core"
        write_variant(core.path, ctx.path(name), truncate=os.path.getsize(core.path) * fraction // 100)
        return facts_for(ctx, "go1.23", ctx.path(name))
    return make


for _fraction in (10, 50, 90):
    case(f"truncated-at-{_fraction}-percent", make_truncated(_fraction), analyze(), 0, checks=[
        field("input.core_truncated", True), note(r"the core file is truncated"), statuses_not_damaged(),
        no_finding(severity="error")], text=[r"core TRUNCATED"])


def make_truncated_in_heap(build):
    def make(ctx):
        # Cut inside the heap segment, just past the map headers: the headers are captured, most
        # of what they point to is not.
        core = ctx.core(build)
        _, maps = ctx.truth(build)
        globals_ = [int(m["addr"], 16) for m in maps.values() if m["where"] == "global" and not m["nil"]]
        heap = heap_segment(core, globals_[0])
        cut_address = (max(globals_) + 0x1000) & ~0xfff
        check(cut_address < heap.vaddr + heap.filesz, "the map headers are at the end of the heap segment")
        name = f"truncated-in-heap-{build}.core"
        write_variant(core.path, ctx.path(name), truncate=core.offset_of(cut_address))
        return facts_for(ctx, build, ctx.path(name), cut=f"{cut_address:#x}")
    return make


for _build in ("go1.23", "go1.26"):
    case(f"truncated-in-heap-{_build}", make_truncated_in_heap(_build), analyze(), 0, checks=[
        field("input.core_truncated", True), finding("pointer-not-captured", root="main.large"),
        map_field("main.large", "complete", False), map_field("main.large", "status", "incomplete"),
        statuses_not_damaged(), no_finding(severity="error"), no_finding(rule="count-mismatch")],
        text=[r"core TRUNCATED", r"pointer-not-captured"], show="main.large")


def make_truncated_in_notes(ctx):
    core = ctx.core("go1.26")
    seg = core.note_segment()
    write_variant(core.path, ctx.path("truncated-in-notes.core"), truncate=seg.offset + seg.filesz // 3)
    return facts_for(ctx, "go1.26", ctx.path("truncated-in-notes.core"))


case("truncated-in-notes", make_truncated_in_notes, analyze(), 0, checks=[
    field("input.core_truncated", True), note(r"PT_NOTE segment is cut off"),
    note(r"could not verify that the executable matches the core"),
    note(r"global main\.users .*not captured"), field("summary.maps", 0)], text=[r"core TRUNCATED"])


# Executables.
def make_other_build(core_build, exe_build):
    def make(ctx):
        return {"core": ctx.core_path(core_build), "exe": ctx.exe(exe_build)}
    return make


case("executable-of-another-classic-build", make_other_build("go1.23", "go1.19"), analyze(), 2,
     r"does not match the core")
case("executable-of-another-swiss-build", make_other_build("go1.26", "go1.27"), analyze(), 2,
     r"does not match the core")
case("executable-other-experiment", make_other_build("go1.27", "go1.27-splitgroup"), analyze(), 2,
     r"does not match the core")
case("executable-swiss-for-classic-core", make_other_build("go1.24-noswiss", "go1.24"), analyze(), 2,
     r"does not match the core")


def make_dwarf_renamed(ctx):
    # The DWARF sections renamed in place (.debug_* -> .nodbg_*): the same bytes everywhere the
    # process image comes from, so the executable still matches the core, but it has no DWARF.
    exe = ctx.exe("go1.26")
    with open(exe, "rb") as f:
        data = f.read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    strtab_offset, = struct.unpack_from("<Q", data, shoff + shentsize * shstrndx + 0x18)
    patches = []
    for i in range(shnum):
        name_index, = struct.unpack_from("<I", data, shoff + shentsize * i)
        at = strtab_offset + name_index
        if data[at:at + 7] in (b".debug_", b".zdebug"):
            patches.append((at, b".nodbg_" if data[at + 1] == ord("d") else b".znodbg"))
    check(len(patches) >= 4, f"{exe}: found only {len(patches)} DWARF sections")
    check(strtab_offset >= 4096, "the section names lie in the ELF header page")
    write_variant(exe, ctx.path("mapcrash-nodwarf"), patches)
    return {"core": ctx.core_path("go1.26"), "exe": ctx.path("mapcrash-nodwarf")}


case("executable-without-dwarf", make_dwarf_renamed, analyze(), 2, r"no DWARF debug information")


def sections(data):
    """{name: (header offset, file offset, size, flags)} of an ELF64 file's sections."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    strtab_offset, = struct.unpack_from("<Q", data, shoff + shentsize * shstrndx + 0x18)
    out = {}
    for i in range(shnum):
        header = shoff + shentsize * i
        name_index, _type, flags, _addr, offset, size = struct.unpack_from("<IIQQQQ", data, header)
        name = data[strtab_offset + name_index:data.index(b"\0", strtab_offset + name_index)].decode()
        out[name] = (header, offset, size, flags)
    return out


SHF_COMPRESSED = 0x800
ELF64_CHDR_SIZE = 24


def deflate_exact(data, size):
    """A zlib stream of exactly size bytes that inflates to data: the tail of data is stored in
    one final stored (uncompressed) block whose length makes the stream fit. Lets a recompressed
    section keep its size and offset, so the section headers (in the ELF header page of a Go
    binary) stay byte for byte the same."""
    stored = 0
    for _ in range(64):
        c = zlib.compressobj(9, zlib.DEFLATED, 15)
        head = c.compress(data[:len(data) - stored]) + c.flush(zlib.Z_FULL_FLUSH)
        total = len(head) + 5 + stored + 4
        if total == size:
            block = bytes([1]) + struct.pack("<HH", stored, stored ^ 0xffff) + data[len(data) - stored:]
            stream = head + block + struct.pack(">I", zlib.adler32(data))
            check(zlib.decompress(stream) == data and len(stream) == size, "deflate_exact produced a bad stream")
            return stream
        stored += size - total
        check(0 <= stored <= 0xffff, "the data cannot be recompressed into the section's size")
    raise GeneratorError("deflate_exact did not converge")


def debug_info(exe):
    with open(exe, "rb") as f:
        data = f.read()
    _, offset, size, flags = sections(data)[".debug_info"]
    check(flags & SHF_COMPRESSED, f"{exe}: .debug_info is not compressed")
    return data, offset, size


def make_dwarf_corrupt(ctx):
    # Valid compression, broken DWARF: 64 bytes of 0xff in the compilation unit of package main
    # (the one holding main.users). libdw cannot walk past them; an analysis that carried on
    # would silently lose every map of package main.
    exe = ctx.exe("go1.26")
    data, offset, size = debug_info(exe)
    raw = bytearray(zlib.decompress(data[offset + ELF64_CHDR_SIZE:offset + size]))
    users = raw.find(b"main.users\0")
    check(users > 0, f"{exe}: no main.users in .debug_info")
    raw[users - 64:users] = b"\xff" * 64
    stream = deflate_exact(bytes(raw), size - ELF64_CHDR_SIZE)
    write_variant(exe, ctx.path("mapcrash-dwarf-corrupt"), [(offset + ELF64_CHDR_SIZE, stream)])
    return {"core": ctx.core_path("go1.26"), "exe": ctx.path("mapcrash-dwarf-corrupt")}


case("executable-dwarf-corrupt", make_dwarf_corrupt, analyze(), 2,
     r"the executable's DWARF debug information is corrupt: the compilation unit at \.debug_info offset 0x")


def make_dwarf_undecompressable(ctx):
    # The compressed .debug_info stream damaged: libelf cannot inflate it.
    exe = ctx.exe("go1.26")
    _, offset, size = debug_info(exe)
    garbage = random.Random(7).randbytes(size // 2)
    write_variant(exe, ctx.path("mapcrash-dwarf-garbage"), [(offset + ELF64_CHDR_SIZE + 64, garbage)])
    return {"core": ctx.core_path("go1.26"), "exe": ctx.path("mapcrash-dwarf-garbage")}


case("executable-dwarf-not-decompressable", make_dwarf_undecompressable, analyze(), 2,
     r"its DWARF section \.debug_info cannot be decompressed")


def make_objcopy_stripped(ctx):
    out = ctx.path("mapcrash-stripped")
    subprocess.run([ctx.objcopy, "--strip-debug", ctx.exe("go1.26"), out], check=True)
    return {"core": ctx.core_path("go1.26"), "exe": out}


case("executable-stripped", make_objcopy_stripped, analyze(), 2, r"no DWARF debug information")


def make_core_of_stripped(ctx):
    # The usual production set-up: the process ran a stripped copy of the executable, and the
    # analysis uses the unstripped one. The core then holds the stripped file's first page.
    stripped = ctx.path("mapcrash-stripped-for-core")
    subprocess.run([ctx.objcopy, "--strip-debug", ctx.exe("go1.26"), stripped], check=True)
    with open(stripped, "rb") as f:
        first_page = f.read(4096)
    core = ctx.core("go1.26")
    text = min(core.loads(), key=lambda s: s.vaddr)
    check(text.vaddr == 0x400000 and text.filesz >= 4096, "unexpected first segment")
    write_variant(core.path, ctx.path("core-of-stripped.core"), [(text.offset, first_page)])
    return facts_for(ctx, "go1.26", ctx.path("core-of-stripped.core"))


case("core-of-stripped-executable", make_core_of_stripped, analyze(), 0, checks=[
    maps_found("maps_intact"), no_finding()])


def make_exe_truncated(ctx):
    exe = ctx.exe("go1.26")
    write_variant(exe, ctx.path("mapcrash-truncated"), truncate=os.path.getsize(exe) // 2)
    return {"core": ctx.core_path("go1.26"), "exe": ctx.path("mapcrash-truncated")}


case("executable-truncated", make_exe_truncated, analyze(), 2, r"mapcrash-truncated is truncated")


def make_abort_c(ctx):
    return {"core": ctx.abort_core, "exe": ctx.abort_exe, "go_exe": ctx.exe("go1.26")}


case("core-of-c-program", make_abort_c, analyze(), 2, r"abort is not a Go program")
case("core-of-c-program-with-go-executable", make_abort_c, analyze(exe_key="go_exe"), 2,
     r"does not match the core")


# Map structures.
def make_classic_B63(ctx):
    core = ctx.core("go1.23")
    _, maps = ctx.truth("go1.23")
    users = ClassicStringIntMap(core, maps["main.users"])
    write_variant(core.path, ctx.path("classic-B63.core"), [(users.field(HMAP_B), bytes([63]))])
    return facts_for(ctx, "go1.23", ctx.path("classic-B63.core"))


case("map-header-B-63", make_classic_B63, analyze(), 1, checks=[
    finding("header-implausible", r"B = 63", root="main.users", severity="error"),
    map_field("main.users", "status", "damaged"), map_field("main.users", "complete", False),
    maps_found("maps_intact")], show="main.users")


def make_classic_count_negative(ctx):
    core = ctx.core("go1.23")
    _, maps = ctx.truth("go1.23")
    users = ClassicStringIntMap(core, maps["main.users"])
    write_variant(core.path, ctx.path("classic-count-negative.core"),
                  [(users.field(HMAP_COUNT), struct.pack("<q", -1))])
    return facts_for(ctx, "go1.23", ctx.path("classic-count-negative.core"))


case("map-header-count-negative", make_classic_count_negative, analyze(), 1, checks=[
    finding("header-implausible", r"count is negative", root="main.users"), maps_found("maps_intact")],
     show="main.users")


MILLION = 1_000_000
CHAIN_STRIDE = 16  # overlapping buckets, 16 bytes apart; see make_million_chain


def make_million_chain(ctx):
    """main.users (go1.23) with an overflow chain of a million distinct buckets behind bucket 0.

    A million 208-byte buckets would need 208 MB; the core has 16 MB of zeros. So the buckets
    overlap, 16 bytes apart: bucket k starts at base + 16k, and its overflow word (at +200, which
    is 8 mod 16) holds base + 16(k+1). Every tophash word (at +0, 0 mod 16) stays zero, so each
    bucket is a valid, empty overflow bucket and the chain is a million links without a cycle.
    """
    core = ctx.core("go1.23")
    _, maps = ctx.truth("go1.23")
    users = ClassicStringIntMap(core, maps["main.users"])
    check(STRING_INT_OVERFLOW % CHAIN_STRIDE != 0, "the overflow word would overlap tophash words")
    span = CHAIN_STRIDE * (MILLION - 1) + STRING_INT_BUCKET_SIZE
    base = zero_run(core, span)
    region = bytearray(span)
    for k in range(MILLION - 1):
        struct.pack_into("<Q", region, CHAIN_STRIDE * k + STRING_INT_OVERFLOW, base + CHAIN_STRIDE * (k + 1))
    last = users.chains[0][-1]
    patches = [(core.offset_of(base, span), bytes(region)),
               (core.offset_of(last + STRING_INT_OVERFLOW, 8), struct.pack("<Q", base))]
    write_variant(core.path, ctx.path("million-chain.core"), patches)
    return facts_for(ctx, "go1.23", ctx.path("million-chain.core"), chain=f"{base:#x}")


case("overflow-chain-million-links", make_million_chain, analyze(), 1, checks=[
    finding("overflow-chain-corrupt", r"beyond the chain-length limit", root="main.users"),
    limit(r"max-chain-length \(4096\)", "main.users"), map_field("main.users", "status", "damaged"),
    map_field("main.users", "complete", False),
    no_finding(rule="count-mismatch"), maps_found("maps_intact")], show="main.users")
case("overflow-chain-million-links-unbounded", make_million_chain,
     analyze(extra=["--max-chain", str(MILLION + 1)]), 0,
     checks=[map_field("main.users", "complete", True), map_field("main.users", "live_entries", 12),
             map_field("main.users", "limits_hit", []), no_finding(severity="error")])


def make_overflow_self(ctx):
    core = ctx.core("go1.23")
    _, maps = ctx.truth("go1.23")
    users = ClassicStringIntMap(core, maps["main.users"])
    last = users.chains[0][-1]
    write_variant(core.path, ctx.path("overflow-self.core"),
                  [(core.offset_of(last + STRING_INT_OVERFLOW, 8), struct.pack("<Q", last))])
    return facts_for(ctx, "go1.23", ctx.path("overflow-self.core"))


case("overflow-pointing-at-itself", make_overflow_self, analyze(), 1, checks=[
    finding("overflow-chain-corrupt", r"cycle", root="main.users"), maps_found("maps_intact")], show="main.users")


def make_dirlen(consistent):
    def make(ctx):
        core = ctx.core("go1.26")
        _, maps = ctx.truth("go1.26")
        large = SwissMap(core, maps["main.large"])
        patches = [(large.field(SWISS_DIRLEN), struct.pack("<Q", 1 << 40))]
        if consistent:
            patches.append((large.field(SWISS_GLOBALDEPTH), bytes([40, 64 - 40])))
        name = f"dirlen-2-40-{'consistent' if consistent else 'alone'}.core"
        write_variant(core.path, ctx.path(name), patches)
        return facts_for(ctx, "go1.26", ctx.path(name))
    return make


case("map-dirlen-2-40", make_dirlen(True), analyze(), 1, checks=[
    finding("header-implausible", r"dirLen = 1099511627776 exceeds the directory limit", root="main.large"),
    limit(r"max-directory-entries", "main.large"), map_field("main.large", "complete", False),
    map_field("main.large", "status", "damaged"), maps_found("maps_intact")], show="main.large")
case("map-dirlen-2-40-inconsistent-depth", make_dirlen(False), analyze(), 1, checks=[
    finding("directory-corrupt", r"dirLen = 1099511627776 is not 1 << globalDepth", root="main.large"),
    map_field("main.large", "complete", False), map_field("main.large", "status", "damaged")], show="main.large")


def make_directory_self(ctx):
    # Every directory entry points at the directory itself.
    core = ctx.core("go1.26")
    _, maps = ctx.truth("go1.26")
    large = SwissMap(core, maps["main.large"])
    entries = struct.pack("<%dQ" % large.dirLen, *([large.dirPtr] * large.dirLen))
    write_variant(core.path, ctx.path("directory-self.core"), [(core.offset_of(large.dirPtr, len(entries)), entries)])
    return facts_for(ctx, "go1.26", ctx.path("directory-self.core"))


case("map-directory-pointing-at-itself", make_directory_self, analyze(), 1, checks=[
    finding("directory-corrupt", root="main.large"), map_field("main.large", "status", "damaged"),
    no_finding(rule="count-mismatch"), maps_found("maps_intact")], show="main.large")


def make_dirptr_header(ctx):
    # dirPtr points at the map header itself: the header's words are read as table pointers.
    core = ctx.core("go1.26")
    _, maps = ctx.truth("go1.26")
    large = SwissMap(core, maps["main.large"])
    write_variant(core.path, ctx.path("dirptr-header.core"),
                  [(large.field(SWISS_DIRPTR), struct.pack("<Q", large.address))])
    return facts_for(ctx, "go1.26", ctx.path("dirptr-header.core"))


case("map-directory-is-the-header", make_dirptr_header, analyze(), 1, checks=[
    finding("table-unmapped", root="main.large"), map_field("main.large", "status", "damaged"),
    no_finding(rule="count-mismatch"), maps_found("maps_intact")], show="main.large")


# Compressed cores (issue #16): a stream cut short or damaged, one that decompresses past the
# limit, and a format gomapcore does not read are each refused in one line, never analyzed as
# whatever part came out. The streams are made by the real tools (zstd, lz4; xz through Python's
# lzma, the same liblzma) from a corpus core.
def compressed_core(ctx, fmt):
    source = ctx.core_path("go1.26")
    target = ctx.path(f"healthy.core.{fmt}")
    if os.path.exists(target) and os.path.getmtime(target) >= os.path.getmtime(source):
        return target
    if fmt == "xz":
        import lzma
        with open(source, "rb") as f, lzma.open(target + ".tmp", "wb", preset=0) as out:
            out.write(f.read())
    elif fmt == "gz":
        import gzip
        with open(source, "rb") as f, gzip.open(target + ".tmp", "wb", compresslevel=1) as out:
            out.write(f.read())
    else:
        tool = {"zst": "zstd", "lz4": "lz4"}[fmt]
        check(shutil.which(tool), f"{tool} is not installed (scripts/setup-debian.sh installs it)")
        with open(target + ".tmp", "wb") as out:
            subprocess.run([tool, "-q", "-1", "-c", source], stdout=out, check=True)
    os.replace(target + ".tmp", target)
    return target


def make_compressed_variant(fmt, damage):
    def make(ctx):
        with open(compressed_core(ctx, fmt), "rb") as f:
            data = bytearray(f.read())
        if damage == "truncated":
            data = data[:len(data) // 2]
        elif damage == "corrupt":
            # Past the frame header, inside the compressed blocks: the decoder or the stream's
            # checksum must notice.
            for i in range(len(data) // 2, len(data) // 2 + 64):
                data[i] ^= 0xA5
        name = f"healthy-{damage}.core.{fmt}"
        write_bytes(ctx.path(name), bytes(data))
        return {"core": ctx.path(name), "exe": ctx.exe("go1.26")}
    return make


for _fmt, _name in (("zst", "zstd"), ("lz4", "lz4"), ("xz", "xz")):
    case(f"compressed-{_name}-truncated", make_compressed_variant(_fmt, "truncated"), analyze(), 2,
         rf"is a truncated {_name} stream: it ends after \d+ compressed bytes")
    case(f"compressed-{_name}-corrupt", make_compressed_variant(_fmt, "corrupt"), analyze(), 2,
         rf"is a corrupt {_name} stream")
case("compressed-beyond-the-size-limit", make_compressed_variant("zst", "intact"),
     analyze(extra=["--max-decompressed-size", "16"]), 2, r"decompresses to more than 16\.0 MiB \(the limit")
case("compressed-gzip-not-read", make_compressed_variant("gz", "intact"), analyze(), 2,
     r"is gzip-compressed; gomapcore reads cores compressed with zstd, lz4 \(frame format\) or xz")


# --- Commands --------------------------------------------------------------------------------------
def by_name(name):
    for c in CASES:
        if c.name == name:
            return c
    raise SystemExit(f"malformed.py: no case named {name}")


def command_list(_args):
    for c in CASES:
        print(c.name + ("\tDISABLED" if c.disabled else ""))


def command_generate(args):
    os.makedirs(args.out, exist_ok=True)
    ctx = Context(args)
    facts, made = {}, {}
    for c in CASES:
        try:
            if c.make not in made:
                made[c.make] = c.make(ctx)
            facts[c.name] = made[c.make]
        except (GeneratorError, OSError, subprocess.CalledProcessError) as e:
            sys.exit(f"malformed.py: cannot generate case {c.name}: {e}")
    with open(os.path.join(args.out, "facts.json.tmp"), "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
    os.replace(os.path.join(args.out, "facts.json.tmp"), os.path.join(args.out, "facts.json"))
    if args.stamp:
        write_bytes(args.stamp, b"")


def execute(argv):
    """Runs gomapcore; returns (exit code, stdout, stderr, problems)."""
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return None, "", "", [f"hang: no answer within {TIMEOUT_SECONDS} s"]
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    problems = []
    if proc.returncode < 0:
        problems.append(f"crashed: killed by signal {-proc.returncode}")
    if SANITIZER_REPORT.search(err):
        problems.append("sanitizer report on stderr")
    if "internal error" in err:
        problems.append("an internal error instead of a reason")
    return proc.returncode, out, err, problems


def report_consistency(report):
    """Invariants every report-v1 holds, whatever the input."""
    problems = []
    if report.get("schema") != "gomapcore/report-v1":
        problems.append("not a report-v1")
        return problems
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in report["findings"]:
        counts[f["severity"]] += 1
    if counts != report["summary"]["findings"] or report["summary"]["maps"] != len(report["maps"]):
        problems.append(f"summary {report['summary']} disagrees with the findings {counts}")
    for m in report["maps"]:
        if m["status"] not in ("ok", "suspect", "damaged", "incomplete"):
            problems.append(f"map {m['address']} has status {m['status']}")
        if m["status"] == "ok" and not m["complete"]:
            problems.append(f"map {m['address']} is ok but not completely walked")
    return problems


def baseline_maps(gomapcore, corpus_core, exe):
    code, out, _, problems = execute([gomapcore, "analyze", corpus_core, "--exe", exe, "--format", "json"])
    if problems or code not in (0, 1):
        return None
    return len(json.loads(out)["maps"])


def command_run(args):
    c = by_name(args.case)
    with open(os.path.join(args.inputs, "facts.json"), encoding="utf-8") as f:
        facts = json.load(f)[c.name]
    if "intact_core" in facts:
        # What gomapcore finds in the unmodified core, for checks that nothing was lost.
        facts["maps_intact"] = baseline_maps(args.gomapcore, facts["intact_core"], facts["exe"])
        if facts["maps_intact"] is None:
            sys.exit(f"FAIL {c.name}: the unmodified core {facts['intact_core']} does not analyze")
    problems = []
    log = []
    # e.g. GOMAPCORE_MALFORMED_WRAPPER="valgrind -q --error-exitcode=97" to run every analysis
    # of the case under valgrind (97 then reads as a wrong exit code).
    wrapper = os.environ.get("GOMAPCORE_MALFORMED_WRAPPER", "").split()

    def invoke(label, argv):
        argv = wrapper + [args.gomapcore] + argv
        log.append("$ " + " ".join(argv))
        code, out, err, trouble = execute(argv)
        log.append(f"  exit {code}; stderr: {err.strip()[:2000]}")
        problems.extend(f"{label}: {t}" for t in trouble)
        return code, out, err

    code, out, err = invoke("analyze --format json", command("analyze", c.spec, facts, "--format", "json"))
    if code is not None and code != c.exit_code:
        problems.append(f"exit code {code}, expected {c.exit_code}")
    if c.exit_code == 2:
        # Every subcommand opens the input the same way and must refuse it the same way.
        refusals = [("analyze", out, err)]
        for label, argv in (("maps", command("maps", c.spec, facts)),
                            ("show", command("show", c.spec, facts, "main.users"))):
            other_code, other_out, other_err = invoke(label, argv)
            if other_code != 2:
                problems.append(f"{label}: exit code {other_code}, expected 2")
            refusals.append((label, other_out, other_err))
        for label, o, e in refusals:
            lines = e.splitlines()
            if o:
                problems.append(f"{label}: wrote output although the input cannot be analyzed")
            if len(lines) != 1 or not lines[0].startswith("gomapcore: "):
                problems.append(f"{label}: stderr is not one line 'gomapcore: REASON'")
            if c.stderr and not re.search(c.stderr, e):
                problems.append(f"{label}: stderr does not match /{c.stderr}/")
    elif code is not None:
        if err:
            problems.append("analyze: stderr is not empty")
        try:
            report = json.loads(out)
        except ValueError as e:
            report = None
            problems.append(f"stdout is not a JSON report: {e}")
        if report is not None:
            problems += report_consistency(report)
            for check_ in c.checks:
                problem = check_(report, facts)
                if problem:
                    problems.append(problem)
        text_code, text_out, _ = invoke("analyze (text)", command("analyze", c.spec, facts))
        if text_code != code:
            problems.append(f"the text report exits {text_code}, the JSON one {code}")
        for pattern in c.text:
            if not re.search(pattern, text_out):
                problems.append(f"the text report does not match /{pattern}/")
        maps_code, maps_out, maps_err = invoke("maps", command("maps", c.spec, facts))
        if maps_code != 0 or maps_err or not maps_out.startswith("ADDRESS"):
            problems.append(f"maps: exit {maps_code}, expected 0 and a table on stdout, nothing on stderr")
        if c.show:
            show_code, show_out, show_err = invoke("show", command("show", c.spec, facts, c.show))
            if show_code != 0 or show_err or not show_out.startswith("map 0x"):
                problems.append(f"show {c.show}: exit {show_code}, expected 0 and the map on stdout")
    print("\n".join(log))
    if problems:
        print(f"FAIL {c.name}:\n  " + "\n  ".join(problems))
        print(f"--- analyze stdout:\n{out[:4000]}")
        sys.exit(1)
    print(f"ok {c.name}: exit {code}" + (f", {err.strip()}" if c.exit_code == 2 else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list")
    gen = sub.add_parser("generate")
    gen.add_argument("--corpus", required=True)
    gen.add_argument("--abort-core", required=True)
    gen.add_argument("--abort-exe", required=True)
    gen.add_argument("--objcopy", required=True)
    gen.add_argument("--out", required=True)
    gen.add_argument("--stamp")
    run = sub.add_parser("run")
    run.add_argument("case")
    run.add_argument("--gomapcore", required=True)
    run.add_argument("--inputs", required=True)
    args = parser.parse_args()
    {"list": command_list, "generate": command_generate, "run": command_run}[args.command](args)


if __name__ == "__main__":
    main()
