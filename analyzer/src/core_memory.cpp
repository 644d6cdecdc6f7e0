#include "gomapcore/core_memory.h"

#include <algorithm>
#include <cstring>

namespace gomapcore {

CoreMemory::CoreMemory(const CoreFile& core, const Executable* exe, std::uint64_t loadBias)
    : core_(core), exe_(exe), loadBias_(loadBias) {}

bool CoreMemory::executableBacks(const CoreSegment& segment, std::uint64_t address) const {
    // A writable mapping may have changed since load: the file's bytes would be a lie.
    if (exe_ == nullptr || segment.writable || address < loadBias_) return false;
    std::uint64_t linkAddress = address - loadBias_;
    const ExecutableSegment* owner = nullptr;
    for (const auto& s : exe_->segments()) {
        if (linkAddress >= s.vaddr && linkAddress - s.vaddr < s.fileSize) owner = &s;
    }
    if (owner == nullptr || owner->writable) return false;
    // When the core lists its file mappings, the one covering this address must map the same
    // file offset the executable's segment says.
    const auto& mappings = core_.fileMappings();
    if (mappings.empty()) return true;
    std::uint64_t expectedOffset = owner->fileOffset + (linkAddress - owner->vaddr);
    for (const auto& m : mappings) {
        if (address >= m.start && address < m.end)
            return m.fileOffset + (address - m.start) == expectedOffset;
    }
    return false;
}

ReadResult CoreMemory::readImpl(std::uint64_t address, std::span<std::byte> out, bool allowExecutable) const {
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
        if (within < segment->capturedSize) {
            std::size_t chunk =
                static_cast<std::size_t>(std::min<std::uint64_t>(segment->capturedSize - within, wanted));
            std::memcpy(out.data() + result.bytesRead, core_.segmentData(*segment) + within, chunk);
            result.bytesRead += chunk;
            continue;
        }
        if (allowExecutable && executableBacks(*segment, at)) {
            std::size_t chunk =
                static_cast<std::size_t>(std::min<std::uint64_t>(segment->end() - at, wanted));
            if (exe_->readFileBacked(at - loadBias_, out.subspan(result.bytesRead, chunk))) {
                result.bytesRead += chunk;
                continue;
            }
        }
        result.state = AddressState::NotCaptured;
        return result;
    }
    return result;
}

ReadResult CoreMemory::read(std::uint64_t address, std::span<std::byte> out) const {
    return readImpl(address, out, true);
}

ReadResult CoreMemory::readCoreOnly(std::uint64_t address, std::span<std::byte> out) const {
    return readImpl(address, out, false);
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
