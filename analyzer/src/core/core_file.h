// An ELF core dump of a Linux process: its memory segments and the notes the kernel wrote
// (threads and registers, process info, signal info, auxiliary vector, file mappings).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/architecture.h"
#include "gomapcore/target.h"
#include "support/compressed_file.h"
#include "support/mapped_file.h"

namespace gomapcore {

struct CoreSegment {
    std::uint64_t vaddr = 0;
    std::uint64_t memSize = 0;       // p_memsz: size of the mapping
    std::uint64_t fileOffset = 0;    // p_offset
    std::uint64_t fileSize = 0;      // p_filesz: bytes the kernel meant to write
    std::uint64_t capturedSize = 0;  // bytes actually present in the file (less when truncated)
    bool readable = false;
    bool writable = false;
    bool executable = false;

    std::uint64_t end() const { return vaddr + memSize; }
};

struct CoreThread {
    int tid = 0;
    int signal = 0;  // pr_cursig
    // pr_reg: the general registers in the kernel's order (Architecture::registerNames).
    std::vector<std::uint64_t> registers;
};

class CoreFile {
  public:
    // Parses the core, decompressing it first when it is compressed (support/compressed_file.h).
    // Throws Error(Unreadable, NotElfCore, UnsupportedTarget).
    static std::unique_ptr<CoreFile> open(const std::string& path,
                                          std::uint64_t maxDecompressedBytes = kDefaultMaxDecompressedBytes);

    const std::string& path() const { return file_->path(); }
    std::uint64_t fileSize() const { return file_->size(); }
    const Architecture& architecture() const { return *architecture_; }

    // How the core was decompressed; unset for a core that was not compressed.
    const std::optional<Decompression>& decompression() const { return decompression_; }
    // True when the file ends before some segment or note the headers describe.
    bool truncated() const { return truncated_; }

    const std::vector<CoreSegment>& segments() const { return segments_; }  // sorted by vaddr
    const std::vector<CoreThread>& threads() const { return threads_; }
    const std::optional<SignalInfo>& signalInfo() const { return signalInfo_; }
    const std::optional<ProcessInfo>& processInfo() const { return processInfo_; }
    const std::map<std::uint64_t, std::uint64_t>& auxv() const { return auxv_; }
    const std::vector<FileMapping>& fileMappings() const { return fileMappings_; }
    // Messages about notes that were malformed or cut off and therefore ignored.
    const std::vector<std::string>& noteProblems() const { return noteProblems_; }

    // The segment containing address, or nullptr.
    const CoreSegment* segmentAt(std::uint64_t address) const;
    // Captured bytes of a segment (may be shorter than fileSize when truncated).
    const std::byte* segmentData(const CoreSegment& segment) const {
        return file_->bytes().data() + segment.fileOffset;
    }

  private:
    explicit CoreFile(std::unique_ptr<MappedFile> file) : file_(std::move(file)) {}
    void parse();
    void parseNote(std::uint32_t type, const std::byte* desc, std::size_t size);

    std::unique_ptr<MappedFile> file_;
    std::optional<Decompression> decompression_;
    bool truncated_ = false;
    const Architecture* architecture_ = &amd64Architecture();  // from e_machine
    std::vector<CoreSegment> segments_;
    std::vector<CoreThread> threads_;
    std::optional<SignalInfo> signalInfo_;
    std::optional<ProcessInfo> processInfo_;
    std::map<std::uint64_t, std::uint64_t> auxv_;
    std::vector<FileMapping> fileMappings_;
    std::vector<std::string> noteProblems_;
};

}  // namespace gomapcore
