#include "core/core_memory.h"

#include <algorithm>
#include <cstring>

namespace gomapcore {

ReadResult CoreMemory::read(std::uint64_t address, std::span<std::byte> out) const {
    ReadResult result;
    while (result.bytesRead < out.size()) {
        std::uint64_t at = address + result.bytesRead;
        if (at < address) {  // wrapped past the top of the address space
            result.state = AddressState::Unmapped;
            return result;
        }
        const CoreSegment* segment = core_.segmentAt(at);
        if (segment == nullptr) {
            result.state = AddressState::Unmapped;
            return result;
        }
        std::uint64_t within = at - segment->vaddr;
        std::size_t wanted = out.size() - result.bytesRead;
        if (within >= segment->capturedSize) {
            result.state = AddressState::NotCaptured;
            return result;
        }
        std::size_t chunk =
            static_cast<std::size_t>(std::min<std::uint64_t>(segment->capturedSize - within, wanted));
        std::memcpy(out.data() + result.bytesRead, core_.segmentData(*segment) + within, chunk);
        result.bytesRead += chunk;
    }
    return result;
}

AddressState CoreMemory::classify(std::uint64_t address) const {
    std::byte probe[1];
    return read(address, probe).state;
}

std::optional<MemoryRegion> CoreMemory::regionAt(std::uint64_t address) const {
    const CoreSegment* segment = core_.segmentAt(address);
    if (segment == nullptr) return std::nullopt;
    MemoryRegion region;
    region.start = segment->vaddr;
    region.end = segment->end();
    region.readable = segment->readable;
    region.writable = segment->writable;
    region.executable = segment->executable;
    for (const auto& m : core_.fileMappings()) {
        if (address >= m.start && address < m.end) region.name = m.path;
    }
    return region;
}

}  // namespace gomapcore
