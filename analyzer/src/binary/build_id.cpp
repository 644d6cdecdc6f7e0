// Note layout: the ELF gABI (Elf64_Nhdr: namesz, descsz, type, then name and descriptor each
// padded to 4 bytes). The Go note: golang/go src/cmd/link/internal/ld/elf.go (ELF_NOTE_GO_NAME
// "Go\x00\x00", ELF_NOTE_GOBUILDID_TAG 4).
#include "binary/build_id.h"

#include <elf.h>

#include <fmt/format.h>

#include <cstring>

namespace gomapcore {
namespace {

constexpr std::uint32_t kGoBuildIdTag = 4;
constexpr std::size_t kMaxDescriptor = 1024;  // build IDs are 20 to ~90 bytes

std::uint64_t align4(std::uint64_t value) {
    return (value + 3) & ~std::uint64_t{3};
}

enum class NoteKind { Other, Gnu, Go, Malformed };

struct Note {
    NoteKind kind = NoteKind::Malformed;
    std::size_t size = 0;  // header, name and descriptor with their padding
    std::span<const std::byte> descriptor;
};

Note noteAt(std::span<const std::byte> notes, std::size_t position) {
    Note note;
    if (position > notes.size() || notes.size() - position < sizeof(Elf64_Nhdr)) return note;
    Elf64_Nhdr header;
    std::memcpy(&header, notes.data() + position, sizeof header);
    std::uint64_t nameOffset = position + sizeof header;
    std::uint64_t descOffset = nameOffset + align4(header.n_namesz);
    std::uint64_t end = descOffset + align4(header.n_descsz);
    if (header.n_namesz > 256 || header.n_descsz > (std::uint64_t{1} << 24) || end > notes.size())
        return note;
    note.size = end - position;
    note.descriptor = notes.subspan(descOffset, header.n_descsz);
    auto nameIs = [&](const char* name, std::size_t size) {
        return header.n_namesz == size && std::memcmp(notes.data() + nameOffset, name, size) == 0;
    };
    note.kind = NoteKind::Other;
    if (header.n_type == NT_GNU_BUILD_ID && nameIs("GNU", 4) && header.n_descsz <= kMaxDescriptor)
        note.kind = NoteKind::Gnu;
    else if (header.n_type == kGoBuildIdTag && nameIs("Go\0", 4) && header.n_descsz <= kMaxDescriptor)
        note.kind = NoteKind::Go;
    return note;
}

void take(const Note& note, BuildIds& ids) {
    if (note.kind == NoteKind::Gnu)
        ids.gnu = hexString(note.descriptor.data(), note.descriptor.size());
    else if (note.kind == NoteKind::Go)
        ids.go.assign(reinterpret_cast<const char*>(note.descriptor.data()), note.descriptor.size());
}

}  // namespace

std::string hexString(const std::byte* data, std::size_t size) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        auto b = std::to_integer<unsigned>(data[i]);
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

std::size_t readBuildIdNotes(std::span<const std::byte> notes, BuildIds& ids) {
    std::size_t position = 0;
    while (position < notes.size()) {
        Note note = noteAt(notes, position);
        if (note.kind == NoteKind::Malformed) break;
        take(note, ids);
        position += note.size;
    }
    return position;
}

BuildIds buildIdsOfElfImage(std::span<const std::byte> image) {
    BuildIds ids;
    Elf64_Ehdr ehdr;
    if (image.size() < sizeof ehdr || std::memcmp(image.data(), ELFMAG, SELFMAG) != 0) return ids;
    std::memcpy(&ehdr, image.data(), sizeof ehdr);
    if (ehdr.e_ident[EI_CLASS] != ELFCLASS64 || ehdr.e_ident[EI_DATA] != ELFDATA2LSB ||
        ehdr.e_phentsize != sizeof(Elf64_Phdr))
        return ids;
    for (std::uint64_t i = 0; i < ehdr.e_phnum; ++i) {
        std::uint64_t at = ehdr.e_phoff + i * sizeof(Elf64_Phdr);
        if (ehdr.e_phoff > image.size() || at > image.size() || image.size() - at < sizeof(Elf64_Phdr)) break;
        Elf64_Phdr phdr;
        std::memcpy(&phdr, image.data() + at, sizeof phdr);
        if (phdr.p_type != PT_NOTE || phdr.p_offset >= image.size()) continue;
        std::uint64_t size = std::min<std::uint64_t>(phdr.p_filesz, image.size() - phdr.p_offset);
        std::size_t parsed = readBuildIdNotes(image.subspan(phdr.p_offset, size), ids);
        if (parsed != size) continue;
        // Build ID notes directly after the segment (Go's .note.gnu.build-id): only the two
        // kinds that are recognised by owner and type, so other bytes are never taken for one.
        for (std::uint64_t position = phdr.p_offset + size; position < image.size();) {
            Note note = noteAt(image, position);
            if (note.kind != NoteKind::Gnu && note.kind != NoteKind::Go) break;
            take(note, ids);
            position += note.size;
        }
    }
    return ids;
}

std::string buildIdMismatch(const BuildIds& core, const BuildIds& candidate) {
    if (!core.gnu.empty() && !candidate.gnu.empty() && core.gnu != candidate.gnu)
        return fmt::format("its GNU build ID {} differs from the core's {}", candidate.gnu, core.gnu);
    if (!core.go.empty() && !candidate.go.empty() && core.go != candidate.go)
        return fmt::format("its Go build ID {} differs from the core's {}", candidate.go, core.go);
    bool shared =
        (!core.gnu.empty() && !candidate.gnu.empty()) || (!core.go.empty() && !candidate.go.empty());
    if (!core.empty() && !shared)
        return fmt::format("it carries none of the core's build IDs (GNU {}, Go {})",
                           core.gnu.empty() ? "none" : core.gnu, core.go.empty() ? "none" : core.go);
    return "";
}

}  // namespace gomapcore
