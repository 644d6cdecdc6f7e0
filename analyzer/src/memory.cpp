#include "gomapcore/memory.h"

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
    std::vector<std::byte> out(size);
    if (!memory_.read(address, out).complete()) return std::nullopt;
    return out;
}

}  // namespace gomapcore
