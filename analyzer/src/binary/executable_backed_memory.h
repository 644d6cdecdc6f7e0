// The process's memory as the engine reads it: what the target holds, and for the read-only
// file-backed ranges it did not capture (a core leaves text, rodata and the pclntab out), the
// bytes of the executable's own file. Writable mappings never fall back: their bytes may have
// changed since load, and the file's would be a lie.
#pragma once

#include <cstdint>
#include <vector>

#include "binary/executable.h"
#include "gomapcore/memory.h"
#include "gomapcore/target.h"

namespace gomapcore {

class ExecutableBackedMemory : public Memory {
  public:
    // process and executable must outlive this. loadBias is added to the executable's link-time
    // addresses; fileMappings (may be empty) must then agree on the file offset of a range.
    ExecutableBackedMemory(const Memory& process, const Executable& executable, std::uint64_t loadBias,
                           const std::vector<FileMapping>& fileMappings);

    ReadResult read(std::uint64_t address, std::span<std::byte> out) const override;
    AddressState classify(std::uint64_t address) const override;
    std::optional<MemoryRegion> regionAt(std::uint64_t address) const override;

  private:
    // Whether the executable's file may stand in for this address, which the process maps but
    // did not capture.
    bool executableBacks(const MemoryRegion& region, std::uint64_t address) const;

    const Memory& process_;
    const Executable& executable_;
    std::uint64_t loadBias_;
    const std::vector<FileMapping>& fileMappings_;
};

}  // namespace gomapcore
