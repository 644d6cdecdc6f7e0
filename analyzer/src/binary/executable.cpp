#include "binary/executable.h"

#include <elf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "binary/build_id.h"
#include "gomapcore/error.h"

namespace gomapcore {
namespace {

// Reads a uvarint as encoding/binary does; returns false on overrun.
bool readUvarint(std::span<const std::byte> data, std::size_t& position, std::uint64_t& value) {
    value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (position >= data.size()) return false;
        auto byte = std::to_integer<std::uint8_t>(data[position++]);
        value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) return true;
    }
    return false;
}

// Throws when the file ends before the headers, sections or segments its ELF header and tables
// describe: a truncated executable would otherwise look like a stripped or non-Go one.
void checkComplete(std::span<const std::byte> bytes, const std::string& path) {
    const std::uint64_t size = bytes.size();
    const auto* ident = reinterpret_cast<const unsigned char*>(bytes.data());
    if (ident[EI_CLASS] != ELFCLASS64 || ident[EI_DATA] != ELFDATA2LSB) return;  // refused later
    std::uint64_t needed = sizeof(Elf64_Ehdr);
    auto need = [&](std::uint64_t offset, std::uint64_t length) {
        std::uint64_t end = offset + length < offset ? UINT64_MAX : offset + length;
        needed = std::max(needed, end);
    };
    auto truncated = [&]() {
        throw Error(
            Error::Code::Unreadable,
            fmt::format("{} is truncated: it has {} bytes, but its ELF headers describe at least {}", path,
                        size, needed == UINT64_MAX ? std::string("2^64") : std::to_string(needed)));
    };
    if (size < needed) truncated();
    Elf64_Ehdr ehdr;
    std::memcpy(&ehdr, bytes.data(), sizeof ehdr);
    if (ehdr.e_phentsize == sizeof(Elf64_Phdr)) {
        need(ehdr.e_phoff, std::uint64_t{ehdr.e_phnum} * sizeof(Elf64_Phdr));
        if (size < needed) truncated();
        for (std::uint64_t i = 0; i < ehdr.e_phnum; ++i) {
            Elf64_Phdr phdr;
            std::memcpy(&phdr, bytes.data() + ehdr.e_phoff + i * sizeof(Elf64_Phdr), sizeof phdr);
            if (phdr.p_type == PT_LOAD) need(phdr.p_offset, phdr.p_filesz);
        }
    }
    if (ehdr.e_shentsize == sizeof(Elf64_Shdr) && ehdr.e_shoff != 0) {
        need(ehdr.e_shoff, std::uint64_t{ehdr.e_shnum} * sizeof(Elf64_Shdr));
        if (size < needed) truncated();
        for (std::uint64_t i = 0; i < ehdr.e_shnum; ++i) {
            Elf64_Shdr shdr;
            std::memcpy(&shdr, bytes.data() + ehdr.e_shoff + i * sizeof(Elf64_Shdr), sizeof shdr);
            if (shdr.sh_type != SHT_NOBITS && shdr.sh_type != SHT_NULL) need(shdr.sh_offset, shdr.sh_size);
        }
    }
    if (size < needed) truncated();
}

}  // namespace

std::unique_ptr<Executable> Executable::open(const std::string& path) {
    auto file = std::make_unique<MappedFile>(path);
    std::unique_ptr<Executable> exe(new Executable(std::move(file)));
    exe->parse();
    return exe;
}

Executable::~Executable() {
    if (dwarf_ != nullptr) dwarf_end(dwarf_);
    if (elf_ != nullptr) elf_end(elf_);
}

void Executable::parse() {
    const auto bytes = file_->bytes();
    const std::string& path = file_->path();
    if (bytes.empty())
        throw Error(Error::Code::Unreadable, path + " is empty (0 bytes); it is not an executable");
    if (bytes.size() < EI_NIDENT || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0)
        throw Error(Error::Code::NotGoProgram, path + " is not an ELF executable");
    checkComplete(bytes, path);
    elf_version(EV_CURRENT);
    elf_ = elf_begin(file_->fd(), ELF_C_READ_MMAP, nullptr);
    GElf_Ehdr ehdr;
    if (elf_ == nullptr || gelf_getehdr(elf_, &ehdr) == nullptr)
        throw Error(Error::Code::NotGoProgram, path + ": invalid ELF header");
    architecture_ = architectureForElfMachine(ehdr.e_machine);
    if (ehdr.e_ident[EI_CLASS] != ELFCLASS64 || ehdr.e_ident[EI_DATA] != ELFDATA2LSB ||
        architecture_ == nullptr)
        throw Error(Error::Code::UnsupportedTarget,
                    path + ": only 64-bit little-endian amd64 and arm64 executables are supported");
    if (ehdr.e_type != ET_EXEC && ehdr.e_type != ET_DYN)
        throw Error(Error::Code::NotGoProgram, path + " is an ELF file but not an executable");
    positionIndependent_ = ehdr.e_type == ET_DYN;
    entry_ = ehdr.e_entry;

    std::size_t phnum = 0;
    if (elf_getphdrnum(elf_, &phnum) != 0)
        throw Error(Error::Code::NotGoProgram, path + ": bad program headers");
    for (std::size_t i = 0; i < phnum; ++i) {
        GElf_Phdr phdr;
        if (gelf_getphdr(elf_, static_cast<int>(i), &phdr) == nullptr || phdr.p_type != PT_LOAD) continue;
        ExecutableSegment segment;
        segment.vaddr = phdr.p_vaddr;
        segment.memSize = phdr.p_memsz;
        segment.fileOffset = phdr.p_offset;
        segment.fileSize = phdr.p_filesz;
        if (segment.fileOffset > bytes.size())
            segment.fileSize = 0;
        else if (segment.fileSize > bytes.size() - segment.fileOffset)
            segment.fileSize = bytes.size() - segment.fileOffset;
        segment.writable = (phdr.p_flags & PF_W) != 0;
        segment.executable = (phdr.p_flags & PF_X) != 0;
        segments_.push_back(segment);
    }

    std::size_t shstrndx = 0;
    if (elf_getshdrstrndx(elf_, &shstrndx) != 0) shstrndx = 0;
    for (Elf_Scn* scn = elf_nextscn(elf_, nullptr); scn != nullptr; scn = elf_nextscn(elf_, scn)) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == nullptr) continue;
        const char* name = elf_strptr(elf_, shstrndx, shdr.sh_name);
        if (name == nullptr) continue;
        std::string sectionName(name);
        if (shdr.sh_type == SHT_NOBITS) continue;
        // libdw decompresses DWARF sections itself but skips one it cannot decompress without a
        // word, and the analysis would then quietly lack its types and variables.
        bool gnuCompressed = sectionName.rfind(".zdebug_", 0) == 0;
        if ((sectionName.rfind(".debug_", 0) == 0 && (shdr.sh_flags & SHF_COMPRESSED) != 0 &&
             elf_compress(scn, 0, 0) < 0) ||
            (gnuCompressed && elf_compress_gnu(scn, 0, 0) < 0))
            throw Error(
                Error::Code::Unreadable,
                fmt::format("{}: its DWARF section {} cannot be decompressed (libelf: {}); the executable "
                            "is corrupt",
                            path, sectionName, elf_errmsg(-1)));
        if (shdr.sh_offset > bytes.size() || shdr.sh_size > bytes.size() - shdr.sh_offset) continue;
        std::span<const std::byte> contents(bytes.data() + shdr.sh_offset, shdr.sh_size);
        if (sectionName == ".go.buildinfo") {
            readBuildInfo(contents);
        } else if (shdr.sh_type == SHT_NOTE) {
            readBuildIdNotes(contents, buildIds_);
        } else if (shdr.sh_type == SHT_SYMTAB) {
            Elf_Data* data = elf_getdata(scn, nullptr);
            if (data == nullptr || shdr.sh_entsize == 0) continue;
            std::size_t count = shdr.sh_size / shdr.sh_entsize;
            symbols_.reserve(count);
            for (std::size_t i = 0; i < count; ++i) {
                GElf_Sym sym;
                if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) break;
                const char* symName = elf_strptr(elf_, shdr.sh_link, sym.st_name);
                if (symName == nullptr || *symName == '\0') continue;
                symbols_.emplace(symName, Symbol{sym.st_value, sym.st_size});
            }
        }
    }

    dwarf_ = dwarf_begin_elf(elf_, DWARF_C_READ, nullptr);  // null when stripped
    if (goVersion_.empty() && symbols_.find("runtime.buildVersion") == symbols_.end() &&
        symbols_.find("runtime.main") == symbols_.end())
        throw Error(Error::Code::NotGoProgram,
                    path + " is not a Go program (no Go build info and no Go runtime symbols)");
}

// Layout of .go.buildinfo: see golang/go src/debug/buildinfo/buildinfo.go @go1.23: a 16-byte
// header "\xff Go buildinf:" + pointer size + flags; with flags & 2 the version and module
// info follow at offset 32 as uvarint-length-prefixed strings.
void Executable::readBuildInfo(std::span<const std::byte> section) {
    static const char kMagic[] = "\xff Go buildinf:";
    if (section.size() < 32 || std::memcmp(section.data(), kMagic, 14) != 0) return;
    auto flags = std::to_integer<std::uint8_t>(section[15]);
    if ((flags & 2) == 0) return;  // pre-1.18 pointer format: not produced by supported Go releases
    std::size_t position = 32;
    std::uint64_t length = 0;
    if (!readUvarint(section, position, length) || length > section.size() - position) return;
    goVersion_.assign(reinterpret_cast<const char*>(section.data() + position), length);
    position += length;
    if (!readUvarint(section, position, length) || length > section.size() - position) return;
    std::string modinfo(reinterpret_cast<const char*>(section.data() + position), length);
    const std::string key = "build\tGOEXPERIMENT=";
    auto at = modinfo.find(key);
    if (at != std::string::npos) {
        auto end = modinfo.find('\n', at);
        goExperiment_ = modinfo.substr(at + key.size(),
                                       end == std::string::npos ? std::string::npos : end - at - key.size());
    }
}

std::optional<Symbol> Executable::symbol(const std::string& name) const {
    auto it = symbols_.find(name);
    if (it == symbols_.end()) return std::nullopt;
    return it->second;
}

bool Executable::readFileBacked(std::uint64_t vaddr, std::span<std::byte> out) const {
    std::size_t done = 0;
    while (done < out.size()) {
        std::uint64_t address = vaddr + done;
        const ExecutableSegment* owner = nullptr;
        for (const auto& segment : segments_) {
            if (address >= segment.vaddr && address - segment.vaddr < segment.fileSize) {
                owner = &segment;
                break;
            }
        }
        if (owner == nullptr) return false;
        std::uint64_t within = address - owner->vaddr;
        std::size_t chunk =
            static_cast<std::size_t>(std::min<std::uint64_t>(owner->fileSize - within, out.size() - done));
        std::memcpy(out.data() + done, file_->bytes().data() + owner->fileOffset + within, chunk);
        done += chunk;
    }
    return true;
}

std::span<const std::byte> Executable::fileBytes(std::uint64_t offset, std::uint64_t size) const {
    auto bytes = file_->bytes();
    if (offset >= bytes.size()) return {};
    return bytes.subspan(offset, std::min<std::uint64_t>(size, bytes.size() - offset));
}

}  // namespace gomapcore
