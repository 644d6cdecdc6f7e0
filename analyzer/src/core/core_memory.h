// Memory of a process as an ELF core holds it: the dumped segments, and nothing else. Ranges the
// kernel did not dump are NotCaptured (the engine lets the executable's file stand in for the
// read-only ones, binary/executable_backed_memory.h).
#pragma once

#include "core/core_file.h"
#include "gomapcore/memory.h"

namespace gomapcore {

class CoreMemory : public Memory {
  public:
    explicit CoreMemory(const CoreFile& core) : core_(core) {}

    ReadResult read(std::uint64_t address, std::span<std::byte> out) const override;
    AddressState classify(std::uint64_t address) const override;
    std::optional<MemoryRegion> regionAt(std::uint64_t address) const override;

  private:
    const CoreFile& core_;
};

}  // namespace gomapcore
