#include "binary/executable_backed_memory.h"

#include <algorithm>

namespace gomapcore {

ExecutableBackedMemory::ExecutableBackedMemory(const Memory& process, const Executable& executable,
                                               std::uint64_t loadBias,
                                               const std::vector<FileMapping>& fileMappings)
    : process_(process), executable_(executable), loadBias_(loadBias), fileMappings_(fileMappings) {}

bool ExecutableBackedMemory::executableBacks(const MemoryRegion& region, std::uint64_t address) const {
    if (region.writable || address < loadBias_) return false;
    std::uint64_t linkAddress = address - loadBias_;
    const ExecutableSegment* owner = nullptr;
    for (const auto& s : executable_.segments()) {
        if (linkAddress >= s.vaddr && linkAddress - s.vaddr < s.fileSize) owner = &s;
    }
    if (owner == nullptr || owner->writable) return false;
    // When the target lists its file mappings, the one covering this address must map the same
    // file offset the executable's segment says.
    if (fileMappings_.empty()) return true;
    std::uint64_t expectedOffset = owner->fileOffset + (linkAddress - owner->vaddr);
    for (const auto& m : fileMappings_) {
        if (address >= m.start && address < m.end)
            return m.fileOffset + (address - m.start) == expectedOffset;
    }
    return false;
}

ReadResult ExecutableBackedMemory::read(std::uint64_t address, std::span<std::byte> out) const {
    ReadResult result = process_.read(address, out);
    // Where the process's bytes stop at a read-only file mapping it did not capture, the
    // executable's file goes on, up to the end of that mapping; then the process again.
    while (result.state == AddressState::NotCaptured) {
        const std::uint64_t at = address + result.bytesRead;
        std::optional<MemoryRegion> region = at < address ? std::nullopt : process_.regionAt(at);
        if (!region || at >= region->end || !executableBacks(*region, at)) return result;
        std::span<std::byte> rest = out.subspan(result.bytesRead);
        std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(region->end - at, rest.size()));
        if (!executable_.readFileBacked(at - loadBias_, rest.first(chunk))) return result;
        result.bytesRead += chunk;
        if (chunk == rest.size()) return ReadResult{result.bytesRead, AddressState::Captured};
        ReadResult next = process_.read(at + chunk, rest.subspan(chunk));
        result.bytesRead += next.bytesRead;
        result.state = next.state;
    }
    return result;
}

AddressState ExecutableBackedMemory::classify(std::uint64_t address) const {
    std::byte probe[1];
    return read(address, probe).state;
}

std::optional<MemoryRegion> ExecutableBackedMemory::regionAt(std::uint64_t address) const {
    return process_.regionAt(address);
}

}  // namespace gomapcore
