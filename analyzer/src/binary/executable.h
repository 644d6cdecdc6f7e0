// The Go executable that produced a core: its loadable segments (whose file bytes stand in for
// text and read-only data the kernel did not dump), its symbols, its Go version and its DWARF.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "arch/architecture.h"
#include "binary/build_id.h"
#include "support/mapped_file.h"

typedef struct Elf Elf;
typedef struct Dwarf Dwarf;

namespace gomapcore {

struct ExecutableSegment {
    std::uint64_t vaddr = 0;
    std::uint64_t memSize = 0;
    std::uint64_t fileOffset = 0;
    std::uint64_t fileSize = 0;
    bool writable = false;
    bool executable = false;
};

struct Symbol {
    std::uint64_t address = 0;
    std::uint64_t size = 0;
};

class Executable {
  public:
    // Throws Error(Unreadable, NotGoProgram, UnsupportedTarget).
    static std::unique_ptr<Executable> open(const std::string& path);
    ~Executable();

    const std::string& path() const { return file_->path(); }
    const std::vector<ExecutableSegment>& segments() const { return segments_; }
    bool positionIndependent() const { return positionIndependent_; }
    // The CPU the executable was built for (from e_machine).
    const Architecture& architecture() const { return *architecture_; }
    std::uint64_t entry() const { return entry_; }

    // "go1.23.5" from the build info, or "" when the binary does not say.
    const std::string& goVersion() const { return goVersion_; }
    // The GOEXPERIMENT settings recorded in the build info ("" when none).
    const std::string& goExperiment() const { return goExperiment_; }
    // Go build ID (.note.go.buildid) and GNU build ID (hex), if present.
    const std::string& goBuildId() const { return buildIds_.go; }
    const std::string& gnuBuildId() const { return buildIds_.gnu; }
    const BuildIds& buildIds() const { return buildIds_; }

    std::optional<Symbol> symbol(const std::string& name) const;

    // Copies the file bytes that back [vaddr, vaddr + out.size()) (link-time addresses).
    // Returns false unless every byte is backed by file contents.
    bool readFileBacked(std::uint64_t vaddr, std::span<std::byte> out) const;

    // The first bytes of the file (the ELF header page), as the kernel dumps them for the
    // first mapping of the executable.
    std::span<const std::byte> fileBytes(std::uint64_t offset, std::uint64_t size) const;

    // libdw handle; null when the executable has no DWARF (stripped).
    Dwarf* dwarf() const { return dwarf_; }

  private:
    explicit Executable(std::unique_ptr<MappedFile> file) : file_(std::move(file)) {}
    void parse();
    void readBuildInfo(std::span<const std::byte> section);

    std::unique_ptr<MappedFile> file_;
    Elf* elf_ = nullptr;
    Dwarf* dwarf_ = nullptr;
    bool positionIndependent_ = false;
    const Architecture* architecture_ = nullptr;
    std::uint64_t entry_ = 0;
    std::vector<ExecutableSegment> segments_;
    std::unordered_map<std::string, Symbol> symbols_;
    std::string goVersion_;
    std::string goExperiment_;
    BuildIds buildIds_;
};

}  // namespace gomapcore
