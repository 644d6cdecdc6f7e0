// Memory of a process as an ELF core holds it: dumped segments from the core, and for
// read-only file-backed ranges the kernel did not dump (text, rodata, pclntab), the bytes of the
// executable's own file.
#pragma once

#include "gomapcore/core_file.h"
#include "gomapcore/executable.h"
#include "gomapcore/memory.h"

namespace gomapcore {

class CoreMemory : public Memory {
  public:
    // exe may be null. loadBias is added to the executable's link-time addresses.
    CoreMemory(const CoreFile& core, const Executable* exe, std::uint64_t loadBias);

    ReadResult read(std::uint64_t address, std::span<std::byte> out) const override;
    AddressState classify(std::uint64_t address) const override;
    std::optional<MemoryRegion> regionAt(std::uint64_t address) const override;

    // Reads only what the core itself captured, never the executable's file bytes.
    ReadResult readCoreOnly(std::uint64_t address, std::span<std::byte> out) const;

  private:
    // Whether the executable's file may stand in for this (read-only, file-backed) address.
    bool executableBacks(const CoreSegment& segment, std::uint64_t address) const;
    ReadResult readImpl(std::uint64_t address, std::span<std::byte> out, bool allowExecutable) const;

    const CoreFile& core_;
    const Executable* exe_;
    std::uint64_t loadBias_;
};

}  // namespace gomapcore
