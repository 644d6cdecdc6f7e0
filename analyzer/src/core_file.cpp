// ELF core parsing with libelf. Layouts of the notes follow the Linux kernel's
// include/uapi/linux/elfcore.h (elf_prstatus, elf_prpsinfo) and fs/binfmt_elf.c (NT_FILE).
#include "gomapcore/core_file.h"

#include <elf.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cstring>

#include "gomapcore/error.h"

namespace gomapcore {
namespace {

// Offsets inside x86_64 struct elf_prstatus (336 bytes).
constexpr std::size_t kPrstatusCursig = 12;
constexpr std::size_t kPrstatusPid = 32;
constexpr std::size_t kPrstatusRegs = 112;
constexpr std::size_t kPrstatusMinSize = kPrstatusRegs + sizeof(Amd64Registers);
// Offsets inside x86_64 struct elf_prpsinfo (136 bytes).
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

struct ElfHandle {
    Elf* elf = nullptr;
    ~ElfHandle() {
        if (elf != nullptr) elf_end(elf);
    }
};

}  // namespace

std::unique_ptr<CoreFile> CoreFile::open(const std::string& path) {
    auto file = std::make_unique<MappedFile>(path);
    std::unique_ptr<CoreFile> core(new CoreFile(std::move(file)));
    core->parse();
    return core;
}

void CoreFile::parse() {
    const auto bytes = file_->bytes();
    const std::string& path = file_->path();
    if (bytes.size() < EI_NIDENT || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0)
        throw Error(Error::Code::NotElfCore, path + " is not an ELF file");
    const auto* ident = reinterpret_cast<const unsigned char*>(bytes.data());
    if (ident[EI_CLASS] != ELFCLASS64)
        throw Error(Error::Code::UnsupportedTarget,
                    path + " is a 32-bit ELF file; only 64-bit amd64 cores are supported");
    if (ident[EI_DATA] != ELFDATA2LSB)
        throw Error(Error::Code::UnsupportedTarget,
                    path + " is a big-endian ELF file; only little-endian amd64 cores are supported");

    elf_version(EV_CURRENT);
    ElfHandle handle;
    handle.elf = elf_begin(file_->fd(), ELF_C_READ_MMAP, nullptr);
    if (handle.elf == nullptr)
        throw Error(Error::Code::NotElfCore, path + ": libelf cannot read it: " + elf_errmsg(-1));
    GElf_Ehdr ehdr;
    if (gelf_getehdr(handle.elf, &ehdr) == nullptr)
        throw Error(Error::Code::NotElfCore, path + ": truncated or invalid ELF header");
    if (ehdr.e_type != ET_CORE)
        throw Error(Error::Code::NotElfCore, path + " is an ELF file but not a core dump (e_type " +
                                                 std::to_string(ehdr.e_type) + ")");
    if (ehdr.e_machine != EM_X86_64)
        throw Error(Error::Code::UnsupportedTarget, path + ": unsupported architecture (e_machine " +
                                                        std::to_string(ehdr.e_machine) +
                                                        "); only amd64 cores are supported");

    std::size_t phnum = 0;
    if (elf_getphdrnum(handle.elf, &phnum) != 0)
        throw Error(Error::Code::NotElfCore, path + ": cannot read the program header count");
    // Program headers must lie inside the file; libelf checks this when it returns them.
    if (ehdr.e_phoff > bytes.size() || phnum * sizeof(Elf64_Phdr) > bytes.size() - ehdr.e_phoff)
        throw Error(Error::Code::NotElfCore,
                    path + ": program headers extend past the end of the file (truncated core)");

    const std::uint64_t fileSize = bytes.size();
    std::vector<std::pair<std::uint64_t, std::uint64_t>> noteRanges;
    for (std::size_t i = 0; i < phnum; ++i) {
        GElf_Phdr phdr;
        if (gelf_getphdr(handle.elf, static_cast<int>(i), &phdr) == nullptr)
            throw Error(Error::Code::NotElfCore, path + ": unreadable program header " + std::to_string(i));
        if (phdr.p_type == PT_NOTE) {
            noteRanges.emplace_back(phdr.p_offset, phdr.p_filesz);
            continue;
        }
        if (phdr.p_type != PT_LOAD || phdr.p_memsz == 0) continue;
        if (phdr.p_vaddr + phdr.p_memsz < phdr.p_vaddr) continue;  // wraps around: ignore
        CoreSegment segment;
        segment.vaddr = phdr.p_vaddr;
        segment.memSize = phdr.p_memsz;
        segment.fileOffset = phdr.p_offset;
        segment.fileSize = std::min(phdr.p_filesz, phdr.p_memsz);
        if (phdr.p_offset >= fileSize) {
            segment.capturedSize = 0;
        } else {
            segment.capturedSize = std::min<std::uint64_t>(segment.fileSize, fileSize - phdr.p_offset);
        }
        if (segment.capturedSize < segment.fileSize) truncated_ = true;
        segment.readable = (phdr.p_flags & PF_R) != 0;
        segment.writable = (phdr.p_flags & PF_W) != 0;
        segment.executable = (phdr.p_flags & PF_X) != 0;
        segments_.push_back(segment);
    }
    std::sort(segments_.begin(), segments_.end(),
              [](const CoreSegment& a, const CoreSegment& b) { return a.vaddr < b.vaddr; });
    // Overlapping segments cannot come from the kernel; keep the first and clip the rest so
    // that an address has exactly one owner.
    std::vector<CoreSegment> clipped;
    for (const CoreSegment& segment : segments_) {
        if (!clipped.empty() && segment.vaddr < clipped.back().end()) {
            noteProblems_.push_back("overlapping PT_LOAD segments at 0x" + std::to_string(segment.vaddr) +
                                    "; the later one is clipped");
            std::uint64_t overlap = clipped.back().end() - segment.vaddr;
            if (overlap >= segment.memSize) continue;
            CoreSegment rest = segment;
            rest.vaddr += overlap;
            rest.memSize -= overlap;
            rest.fileOffset += overlap;
            rest.fileSize = rest.fileSize > overlap ? rest.fileSize - overlap : 0;
            rest.capturedSize = rest.capturedSize > overlap ? rest.capturedSize - overlap : 0;
            clipped.push_back(rest);
        } else {
            clipped.push_back(segment);
        }
    }
    segments_ = std::move(clipped);

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
                noteProblems_.push_back("malformed note at offset " + std::to_string(offset + position) +
                                        "; the rest of the note segment is ignored");
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
            if (size < kPrstatusMinSize) {
                noteProblems_.push_back("NT_PRSTATUS note too short (" + std::to_string(size) + " bytes)");
                return;
            }
            CoreThread thread;
            thread.signal = loadAt<std::int16_t>(desc, kPrstatusCursig);
            thread.tid = loadAt<std::int32_t>(desc, kPrstatusPid);
            std::memcpy(&thread.registers, desc + kPrstatusRegs, sizeof(Amd64Registers));
            threads_.push_back(thread);
            return;
        }
        case NT_PRPSINFO: {
            if (size < kPrpsinfoSize) {
                noteProblems_.push_back("NT_PRPSINFO note too short");
                return;
            }
            CoreProcessInfo info;
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
            CoreSignalInfo info;
            info.signo = loadAt<std::int32_t>(desc, 0);
            info.errnoValue = loadAt<std::int32_t>(desc, 4);
            info.code = loadAt<std::int32_t>(desc, 8);
            info.faultAddress = loadAt<std::uint64_t>(desc, 16);
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
            std::vector<CoreFileMapping> mappings;
            for (std::uint64_t i = 0; i < count; ++i) {
                CoreFileMapping mapping;
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
