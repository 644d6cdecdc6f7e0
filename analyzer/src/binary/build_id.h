// Build IDs: the Go build ID note (.note.go.buildid, owner "Go", type 4) every Go executable
// carries, and the GNU build ID note (NT_GNU_BUILD_ID) Go 1.24+ writes by default and older
// linkers with -ldflags=-B=gobuildid (or -B=0x...). They identify an executable in a core's
// dumped ELF header page, in an --exe-dir folder and at a debuginfod server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace gomapcore {

struct BuildIds {
    std::string gnu;  // lowercase hex, "" if none
    std::string go;   // as the Go toolchain prints it, "" if none
    bool empty() const { return gnu.empty() && go.empty(); }
};

// Reads the Go and GNU build ID notes in a run of ELF notes (a note section or segment);
// other notes are skipped. Returns how many bytes of notes were well-formed.
std::size_t readBuildIdNotes(std::span<const std::byte> notes, BuildIds& ids);

// The build IDs of an ELF image: a whole executable file, or only its first page as a core
// holds it. Notes are found through the PT_NOTE program headers; Go's linker covers only
// .note.go.buildid with one and places .note.gnu.build-id right after it, so build ID notes
// that follow a PT_NOTE segment directly are read as well. Every read is bounded by image.
BuildIds buildIdsOfElfImage(std::span<const std::byte> image);

// "" when nothing contradicts: the IDs both sides carry are equal, or the core carries none.
// Otherwise why candidate is not the core's executable.
std::string buildIdMismatch(const BuildIds& core, const BuildIds& candidate);

std::string hexString(const std::byte* data, std::size_t size);

}  // namespace gomapcore
