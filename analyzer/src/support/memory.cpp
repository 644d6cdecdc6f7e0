#include "gomapcore/memory.h"

#include <algorithm>

namespace gomapcore {

const char* toString(AddressState state) {
    switch (state) {
        case AddressState::Captured:
            return "captured";
        case AddressState::NotCaptured:
            return "not-captured";
        case AddressState::Unmapped:
            return "unmapped";
    }
    return "unknown";
}

std::uint64_t loadUnsigned(const std::byte* data, std::size_t size) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < size && i < 8; ++i)
        value |= std::to_integer<std::uint64_t>(data[i]) << (8 * i);
    return value;
}

std::optional<std::uint64_t> Reader::unsignedOfSize(std::uint64_t address, std::size_t size) const {
    if (size == 0 || size > 8) return std::nullopt;
    std::byte buffer[8];
    if (!memory_.read(address, std::span<std::byte>(buffer, size)).complete()) return std::nullopt;
    return loadUnsigned(buffer, size);
}

std::optional<std::vector<std::byte>> Reader::bytes(std::uint64_t address, std::size_t size) const {
    // A length read from the core can be anything. Before a large buffer is allocated, the whole
    // range must lie in mappings whose bytes the core holds (checked at each mapping's first and
    // last byte in range), so the allocation is bounded by what was captured, never by what a
    // corrupt length claims.
    constexpr std::size_t kUncheckedSize = std::size_t{1} << 16;
    if (size > kUncheckedSize) {
        if (address + size < address) return std::nullopt;
        const std::uint64_t end = address + size;
        for (std::uint64_t at = address; at < end;) {
            std::optional<MemoryRegion> region = memory_.regionAt(at);
            if (!region || region->end <= at || memory_.classify(at) != AddressState::Captured)
                return std::nullopt;
            const std::uint64_t last = std::min(end, region->end) - 1;
            if (memory_.classify(last) != AddressState::Captured) return std::nullopt;
            at = region->end;
        }
    }
    std::vector<std::byte> out(size);
    if (!memory_.read(address, out).complete()) return std::nullopt;
    return out;
}

}  // namespace gomapcore
