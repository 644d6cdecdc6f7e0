// The one narrow memory-reading interface. The core-file backend, the LLDB plugin's live
// process backend and the unit tests' fake address space all implement it.
//
// Every byte of the target's address space is in exactly one of three states, and a read
// never pretends: bytes that are not captured are not returned as zeroes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gomapcore {

enum class AddressState {
    Captured,     // bytes are available
    NotCaptured,  // the process had this address mapped, but the dump does not hold its bytes
    Unmapped,     // no mapping of the process covers this address
};

const char* toString(AddressState state);

struct ReadResult {
    // How many leading bytes of the request were filled.
    std::size_t bytesRead = 0;
    // Captured when the whole request was filled; otherwise the state of the first byte
    // that could not be read (at address + bytesRead).
    AddressState state = AddressState::Captured;

    bool complete() const { return state == AddressState::Captured; }
};

// A mapping of the target process, as far as the backend knows it.
struct MemoryRegion {
    std::uint64_t start = 0;
    std::uint64_t end = 0;  // exclusive
    bool readable = false;
    bool writable = false;
    bool executable = false;
    std::string name;  // backing file, if known
};

class Memory {
  public:
    virtual ~Memory() = default;

    // Fills out with the bytes at [address, address + out.size()).
    virtual ReadResult read(std::uint64_t address, std::span<std::byte> out) const = 0;

    // The state of one byte.
    virtual AddressState classify(std::uint64_t address) const = 0;

    // The mapping that contains address, if any.
    virtual std::optional<MemoryRegion> regionAt(std::uint64_t address) const = 0;
};

// Typed, little-endian helpers over Memory. All return nullopt (never a made-up value) when
// the bytes are not fully captured; use Memory::read directly when the reason matters.
class Reader {
  public:
    explicit Reader(const Memory& memory) : memory_(memory) {}

    const Memory& memory() const { return memory_; }

    template <typename T>
    std::optional<T> readValue(std::uint64_t address) const {
        std::byte buffer[sizeof(T)];
        if (!memory_.read(address, buffer).complete()) return std::nullopt;
        T value;
        std::memcpy(&value, buffer, sizeof(T));
        return value;
    }
    std::optional<std::uint64_t> u64(std::uint64_t a) const { return readValue<std::uint64_t>(a); }
    std::optional<std::uint32_t> u32(std::uint64_t a) const { return readValue<std::uint32_t>(a); }
    std::optional<std::uint16_t> u16(std::uint64_t a) const { return readValue<std::uint16_t>(a); }
    std::optional<std::uint8_t> u8(std::uint64_t a) const { return readValue<std::uint8_t>(a); }

    // Reads an unsigned integer of 1, 2, 4 or 8 bytes.
    std::optional<std::uint64_t> unsignedOfSize(std::uint64_t address, std::size_t size) const;

    // Reads size bytes into a vector; nullopt if not all are captured.
    std::optional<std::vector<std::byte>> bytes(std::uint64_t address, std::size_t size) const;

  private:
    const Memory& memory_;
};

// Decodes an unsigned little-endian integer of 1, 2, 4 or 8 bytes from a buffer.
std::uint64_t loadUnsigned(const std::byte* data, std::size_t size);

}  // namespace gomapcore
