// ELF core parsing with libelf. Layouts of the notes follow the Linux kernel's
// include/uapi/linux/elfcore.h (elf_prstatus, elf_prpsinfo) and fs/binfmt_elf.c (NT_FILE).
#include "core/core_file.h"

#include <elf.h>
#include <gelf.h>
#include <libelf.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "gomapcore/error.h"

namespace gomapcore {
namespace {

// Offsets inside struct elf_prstatus on 64-bit Linux (the same on amd64 and arm64; pr_reg, its
// size set by the architecture, starts at Architecture::kPrstatusRegs).
constexpr std::size_t kPrstatusCursig = 12;
constexpr std::size_t kPrstatusPid = 32;
// Offsets inside struct elf_prpsinfo on 64-bit Linux (136 bytes, amd64 and arm64 alike).
constexpr std::size_t kPrpsinfoPid = 24;
constexpr std::size_t kPrpsinfoFname = 40;
constexpr std::size_t kPrpsinfoPsargs = 56;
constexpr std::size_t kPrpsinfoSize = 136;

template <typename T>
T loadAt(const std::byte* base, std::size_t offset) {
    T value;
    std::memcpy(&value, base + offset, sizeof(T));
    return value;
}

std::string boundedString(const std::byte* data, std::size_t maxLength) {
    const char* chars = reinterpret_cast<const char*>(data);
    return std::string(chars, strnlen(chars, maxLength));
}

// Bytes of [offset, offset + size) that the file really holds.
std::uint64_t capturedBytes(std::uint64_t offset, std::uint64_t size, std::uint64_t fileSize) {
    return offset >= fileSize ? 0 : std::min(size, fileSize - offset);
}

// A kernel never writes overlapping PT_LOAD segments, so when a core has them, an address has
// several claims. Claims that map it to the same file bytes (a repeated program header) agree;
// anything else (other file bytes, or dumped versus not dumped) is a contradiction, and the
// contradicted addresses become not captured: reading either claim would be a guess. Returns the
// segments sorted by address and without overlaps; adds one note per overlapping range.
std::vector<CoreSegment> resolveOverlaps(std::vector<CoreSegment> loads, std::uint64_t fileSize,
                                         std::vector<std::string>& problems) {
    std::vector<std::size_t> order(loads.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return loads[a].vaddr < loads[b].vaddr; });
    bool overlapping = false;
    std::uint64_t reach = 0;
    for (std::size_t k = 0; k < order.size(); ++k) {
        if (k > 0 && loads[order[k]].vaddr < reach) overlapping = true;
        reach = std::max(reach, loads[order[k]].end());
    }
    if (!overlapping) {
        std::vector<CoreSegment> sorted;
        sorted.reserve(loads.size());
        for (std::size_t i : order)
            sorted.push_back(loads[i]);
        return sorted;
    }

    // A claim: part of one segment that is either dumped (with the file offset of its first
    // byte given by vaddr + delta) or not dumped.
    struct Claim {
        std::uint64_t start, end;
        std::size_t source;  // index into loads, i.e. program header order
        bool dumped;
        std::uint64_t delta;  // fileOffset - vaddr, modulo 2^64
    };
    std::vector<Claim> claims;
    for (std::size_t i = 0; i < loads.size(); ++i) {
        const CoreSegment& s = loads[i];
        if (s.fileSize > 0)
            claims.push_back({s.vaddr, s.vaddr + s.fileSize, i, true, s.fileOffset - s.vaddr});
        if (s.memSize > s.fileSize) claims.push_back({s.vaddr + s.fileSize, s.end(), i, false, 0});
    }
    struct Event {
        std::uint64_t at;
        bool opens;
        std::size_t claim;
    };
    std::vector<Event> events;
    for (std::size_t c = 0; c < claims.size(); ++c) {
        events.push_back({claims[c].start, true, c});
        events.push_back({claims[c].end, false, c});
    }
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
        return a.at != b.at ? a.at < b.at : (!a.opens && b.opens);
    });

    std::vector<CoreSegment> out;
    std::vector<std::size_t> outSource;
    std::vector<bool> outConflict;
    struct Overlap {
        std::uint64_t start, end;
        bool conflict;
    };
    std::vector<Overlap> overlaps;
    // Active claims by what they say (dumped, delta), each with the sources that say it.
    std::map<std::pair<bool, std::uint64_t>, std::map<std::size_t, std::size_t>> active;
    std::size_t activeCount = 0;
    auto emit = [&](std::uint64_t start, std::uint64_t end) {
        bool conflict = active.size() > 1;
        std::size_t source = loads.size();
        bool dumped = false;
        for (const auto& [key, sources] : active)
            if (sources.begin()->first < source) {
                source = sources.begin()->first;
                dumped = key.first && !conflict;
            }
        const CoreSegment& from = loads[source];
        if (activeCount > 1) {
            if (!overlaps.empty() && overlaps.back().end == start && overlaps.back().conflict == conflict)
                overlaps.back().end = end;
            else
                overlaps.push_back({start, end, conflict});
        }
        CoreSegment piece = from;
        piece.vaddr = start;
        piece.memSize = end - start;
        piece.fileOffset = dumped ? from.fileOffset + (start - from.vaddr) : 0;
        piece.fileSize = dumped ? piece.memSize : 0;
        piece.capturedSize = capturedBytes(piece.fileOffset, piece.fileSize, fileSize);
        // Continue the previous piece when it is the same segment (or the same contradiction)
        // and the result is still a dumped prefix followed by a not-dumped rest.
        if (!out.empty() && out.back().end() == start && outSource.back() == source &&
            outConflict.back() == conflict) {
            CoreSegment& last = out.back();
            if (!dumped) {
                last.memSize += piece.memSize;
                return;
            }
            if (last.fileSize == last.memSize && last.fileOffset + last.fileSize == piece.fileOffset) {
                last.memSize += piece.memSize;
                last.fileSize += piece.fileSize;
                last.capturedSize = capturedBytes(last.fileOffset, last.fileSize, fileSize);
                return;
            }
        }
        out.push_back(piece);
        outSource.push_back(source);
        outConflict.push_back(conflict);
    };
    std::uint64_t previous = 0;
    for (std::size_t e = 0; e < events.size();) {
        std::uint64_t at = events[e].at;
        if (activeCount > 0 && at > previous) emit(previous, at);
        for (; e < events.size() && events[e].at == at; ++e) {
            const Claim& claim = claims[events[e].claim];
            auto key = std::make_pair(claim.dumped, claim.dumped ? claim.delta : 0);
            auto& sources = active[key];
            if (events[e].opens) {
                ++sources[claim.source];
                ++activeCount;
            } else {
                if (--sources[claim.source] == 0) sources.erase(claim.source);
                if (sources.empty()) active.erase(key);
                --activeCount;
            }
        }
        previous = at;
    }

    constexpr std::size_t kMaxOverlapNotes = 8;
    for (std::size_t i = 0; i < overlaps.size() && i < kMaxOverlapNotes; ++i) {
        const Overlap& o = overlaps[i];
        problems.push_back(
            o.conflict
                ? fmt::format("PT_LOAD segments overlap at {:#x}-{:#x} with different contents; those "
                              "addresses are treated as not captured",
                              o.start, o.end)
                : fmt::format("PT_LOAD segments overlap at {:#x}-{:#x}; they describe the same file bytes",
                              o.start, o.end));
    }
    if (overlaps.size() > kMaxOverlapNotes)
        problems.push_back(fmt::format("{} more overlapping PT_LOAD ranges are not listed",
                                       overlaps.size() - kMaxOverlapNotes));
    return out;
}

struct ElfHandle {
    Elf* elf = nullptr;
    ~ElfHandle() {
        if (elf != nullptr) elf_end(elf);
    }
};

}  // namespace

std::unique_ptr<CoreFile> CoreFile::open(const std::string& path, std::uint64_t maxDecompressedBytes) {
    OpenedInput input = openPossiblyCompressed(path, DecompressOptions{maxDecompressedBytes, ""});
    std::unique_ptr<CoreFile> core(new CoreFile(std::move(input.file)));
    core->decompression_ = input.decompression;
    try {
        core->parse();
    } catch (const Error& e) {
        if (!core->decompression_) throw;
        // The messages name the compressed file; say that they are about what it holds.
        throw Error(e.code(), fmt::format("{} (after {} decompression)", e.what(),
                                          compressionName(core->decompression_->kind)));
    }
    return core;
}

void CoreFile::parse() {
    const auto bytes = file_->bytes();
    const std::string& path = file_->path();
    const std::uint64_t fileSize = bytes.size();
    if (fileSize == 0)
        throw Error(Error::Code::NotElfCore, path + " is empty (0 bytes); it is not a core dump");
    if (fileSize < SELFMAG || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0)
        throw Error(Error::Code::NotElfCore, path + " is not an ELF file");
    if (fileSize < EI_NIDENT)
        throw Error(Error::Code::NotElfCore,
                    fmt::format("{} is truncated: it ends after {} bytes, inside the ELF identification",
                                path, fileSize));
    const auto* ident = reinterpret_cast<const unsigned char*>(bytes.data());
    if (ident[EI_CLASS] != ELFCLASS64)
        throw Error(Error::Code::UnsupportedTarget,
                    path + " is a 32-bit ELF file; only 64-bit amd64 and arm64 cores are supported");
    if (ident[EI_DATA] != ELFDATA2LSB)
        throw Error(
            Error::Code::UnsupportedTarget,
            path + " is a big-endian ELF file; only little-endian amd64 and arm64 cores are supported");
    if (fileSize < sizeof(Elf64_Ehdr))
        throw Error(Error::Code::NotElfCore,
                    fmt::format("{} is truncated: its ELF header needs {} bytes, the file has {}", path,
                                sizeof(Elf64_Ehdr), fileSize));
    const auto ehdr = loadAt<Elf64_Ehdr>(bytes.data(), 0);
    if (ehdr.e_type != ET_CORE)
        throw Error(Error::Code::NotElfCore, path + " is an ELF file but not a core dump (e_type " +
                                                 std::to_string(ehdr.e_type) + ")");
    architecture_ = architectureForElfMachine(ehdr.e_machine);
    if (architecture_ == nullptr)
        throw Error(Error::Code::UnsupportedTarget, path + ": unsupported architecture (e_machine " +
                                                        std::to_string(ehdr.e_machine) +
                                                        "); only amd64 and arm64 cores are supported");

    // The program header table, read directly: libelf silently shortens a table that runs past
    // the end of the file, which would hide a truncated core.
    std::uint64_t phnum = ehdr.e_phnum;
    if (phnum == PN_XNUM) {
        // Extended numbering (ELF gABI): the real count is section header 0's sh_info.
        if (ehdr.e_shoff == 0 || ehdr.e_shoff > fileSize || fileSize - ehdr.e_shoff < sizeof(Elf64_Shdr))
            throw Error(Error::Code::NotElfCore,
                        path +
                            ": e_phnum says the program header count is in section header 0, which the "
                            "file does not hold");
        phnum = loadAt<Elf64_Shdr>(bytes.data(), ehdr.e_shoff).sh_info;
    }
    if (phnum > 0 && ehdr.e_phentsize != sizeof(Elf64_Phdr))
        throw Error(Error::Code::NotElfCore, fmt::format("{}: program header entries are {} bytes, not {}",
                                                         path, ehdr.e_phentsize, sizeof(Elf64_Phdr)));
    if (ehdr.e_phoff > fileSize || phnum > (fileSize - ehdr.e_phoff) / sizeof(Elf64_Phdr))
        throw Error(Error::Code::NotElfCore,
                    fmt::format("{}: program headers extend past the end of the file (truncated core?): {} "
                                "entries at offset {:#x}, but the file has {} bytes",
                                path, phnum, ehdr.e_phoff, fileSize));
    std::vector<Elf64_Phdr> phdrs(phnum);
    for (std::uint64_t i = 0; i < phnum; ++i)
        phdrs[i] = loadAt<Elf64_Phdr>(bytes.data(), ehdr.e_phoff + i * sizeof(Elf64_Phdr));
    // The kernel writes the table first and the data it describes after it. A table that runs
    // into that data has a wrong entry count, and none of its entries past the real ones mean
    // anything.
    const std::uint64_t tableEnd = ehdr.e_phoff + phnum * sizeof(Elf64_Phdr);
    for (std::uint64_t i = 0; i < phnum; ++i) {
        const Elf64_Phdr& phdr = phdrs[i];
        if ((phdr.p_type != PT_LOAD && phdr.p_type != PT_NOTE) || phdr.p_filesz == 0) continue;
        bool overlaps = phdr.p_offset < tableEnd &&
                        (phdr.p_offset >= ehdr.e_phoff || phdr.p_filesz > ehdr.e_phoff - phdr.p_offset);
        if (overlaps)
            throw Error(
                Error::Code::NotElfCore,
                fmt::format("{}: the program header table ({} entries at offset {:#x}) overlaps the data "
                            "of its own entry {} at offset {:#x}; the header count is wrong or the file "
                            "is corrupt",
                            path, phnum, ehdr.e_phoff, i, phdr.p_offset));
    }

    elf_version(EV_CURRENT);
    ElfHandle handle;
    handle.elf = elf_begin(file_->fd(), ELF_C_READ_MMAP, nullptr);
    if (handle.elf == nullptr)
        throw Error(Error::Code::NotElfCore, path + ": libelf cannot read it: " + elf_errmsg(-1));

    std::vector<std::pair<std::uint64_t, std::uint64_t>> noteRanges;
    std::vector<CoreSegment> loads;
    for (const Elf64_Phdr& phdr : phdrs) {
        if (phdr.p_type == PT_NOTE) {
            noteRanges.emplace_back(phdr.p_offset, phdr.p_filesz);
            continue;
        }
        if (phdr.p_type != PT_LOAD || phdr.p_memsz == 0) continue;
        if (phdr.p_vaddr + phdr.p_memsz < phdr.p_vaddr) {
            noteProblems_.push_back(
                fmt::format("PT_LOAD segment at {:#x} of {:#x} bytes wraps around the end of the address "
                            "space; it is ignored",
                            phdr.p_vaddr, phdr.p_memsz));
            continue;
        }
        CoreSegment segment;
        segment.vaddr = phdr.p_vaddr;
        segment.memSize = phdr.p_memsz;
        segment.fileOffset = phdr.p_offset;
        segment.fileSize = std::min(phdr.p_filesz, phdr.p_memsz);
        segment.capturedSize = capturedBytes(segment.fileOffset, segment.fileSize, fileSize);
        if (segment.capturedSize < segment.fileSize) truncated_ = true;
        segment.readable = (phdr.p_flags & PF_R) != 0;
        segment.writable = (phdr.p_flags & PF_W) != 0;
        segment.executable = (phdr.p_flags & PF_X) != 0;
        loads.push_back(segment);
    }
    if (loads.empty())
        throw Error(
            Error::Code::NotElfCore,
            path + " has no memory segments (no PT_LOAD program header): there is nothing to analyze");
    segments_ = resolveOverlaps(std::move(loads), fileSize, noteProblems_);

    for (auto [offset, size] : noteRanges) {
        if (offset >= fileSize) {
            truncated_ = true;
            noteProblems_.push_back("PT_NOTE segment lies past the end of the file");
            continue;
        }
        if (size > fileSize - offset) {
            truncated_ = true;
            noteProblems_.push_back("PT_NOTE segment is cut off by the end of the file");
            size = fileSize - offset;
        }
        Elf_Data* data = elf_getdata_rawchunk(handle.elf, static_cast<int64_t>(offset), size, ELF_T_NHDR);
        if (data == nullptr || data->d_buf == nullptr) {
            noteProblems_.push_back("PT_NOTE segment is unreadable");
            continue;
        }
        std::size_t position = 0;
        GElf_Nhdr nhdr;
        std::size_t nameOffset = 0;
        std::size_t descOffset = 0;
        while (position < data->d_size) {
            std::size_t next = gelf_getnote(data, position, &nhdr, &nameOffset, &descOffset);
            if (next == 0) {
                noteProblems_.push_back(
                    fmt::format("malformed note at file offset {:#x} (its sizes run past the note "
                                "segment); the rest of the note segment is ignored",
                                offset + position));
                break;
            }
            if (descOffset + nhdr.n_descsz <= data->d_size) {
                parseNote(nhdr.n_type, static_cast<const std::byte*>(data->d_buf) + descOffset,
                          nhdr.n_descsz);
            }
            position = next;
        }
    }
}

void CoreFile::parseNote(std::uint32_t type, const std::byte* desc, std::size_t size) {
    switch (type) {
        case NT_PRSTATUS: {
            const std::size_t registers = architecture_->registerNames.size();
            if (size < Architecture::kPrstatusRegs + 8 * registers) {
                noteProblems_.push_back(fmt::format("NT_PRSTATUS note too short ({} bytes; an {} one is {})",
                                                    size, architecture_->name,
                                                    architecture_->prstatusSize()));
                return;
            }
            CoreThread thread;
            thread.signal = loadAt<std::int16_t>(desc, kPrstatusCursig);
            thread.tid = loadAt<std::int32_t>(desc, kPrstatusPid);
            thread.registers.resize(registers);
            for (std::size_t i = 0; i < registers; ++i)
                thread.registers[i] = loadAt<std::uint64_t>(desc, Architecture::kPrstatusRegs + 8 * i);
            threads_.push_back(thread);
            return;
        }
        case NT_PRPSINFO: {
            if (size < kPrpsinfoSize) {
                noteProblems_.push_back("NT_PRPSINFO note too short");
                return;
            }
            ProcessInfo info;
            info.pid = loadAt<std::int32_t>(desc, kPrpsinfoPid);
            info.command = boundedString(desc + kPrpsinfoFname, 16);
            info.arguments = boundedString(desc + kPrpsinfoPsargs, 80);
            processInfo_ = info;
            return;
        }
        case NT_SIGINFO: {
            if (size < 24) {
                noteProblems_.push_back("NT_SIGINFO note too short");
                return;
            }
            SignalInfo info;
            info.signo = loadAt<std::int32_t>(desc, 0);
            info.errnoValue = loadAt<std::int32_t>(desc, 4);
            info.code = loadAt<std::int32_t>(desc, 8);
            info.faultAddress = loadAt<std::uint64_t>(desc, 16);
            if (info.code <= 0) {  // include/uapi/asm-generic/siginfo.h: _kill {si_pid, si_uid}
                info.senderPid = loadAt<std::int32_t>(desc, 16);
                info.senderUid = loadAt<std::int32_t>(desc, 20);
            }
            signalInfo_ = info;
            return;
        }
        case NT_AUXV: {
            for (std::size_t i = 0; i + 16 <= size; i += 16) {
                auto key = loadAt<std::uint64_t>(desc, i);
                if (key == AT_NULL) break;
                auxv_[key] = loadAt<std::uint64_t>(desc, i + 8);
            }
            return;
        }
        case NT_FILE: {
            if (size < 16) return;
            auto count = loadAt<std::uint64_t>(desc, 0);
            auto pageSize = loadAt<std::uint64_t>(desc, 8);
            if (count > (size - 16) / 24) {
                noteProblems_.push_back("NT_FILE note claims more entries than it holds");
                return;
            }
            std::size_t names = 16 + count * 24;
            std::vector<FileMapping> mappings;
            for (std::uint64_t i = 0; i < count; ++i) {
                FileMapping mapping;
                mapping.start = loadAt<std::uint64_t>(desc, 16 + i * 24);
                mapping.end = loadAt<std::uint64_t>(desc, 16 + i * 24 + 8);
                mapping.fileOffset = loadAt<std::uint64_t>(desc, 16 + i * 24 + 16) * pageSize;
                if (names >= size) break;
                mapping.path = boundedString(desc + names, size - names);
                names += mapping.path.size() + 1;
                mappings.push_back(std::move(mapping));
            }
            fileMappings_ = std::move(mappings);
            return;
        }
        default:
            return;
    }
}

const CoreSegment* CoreFile::segmentAt(std::uint64_t address) const {
    auto it = std::upper_bound(segments_.begin(), segments_.end(), address,
                               [](std::uint64_t a, const CoreSegment& s) { return a < s.vaddr; });
    if (it == segments_.begin()) return nullptr;
    --it;
    return address < it->end() ? &*it : nullptr;
}

}  // namespace gomapcore
