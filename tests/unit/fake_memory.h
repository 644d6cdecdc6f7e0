// A fake target address space for unit tests: a set of non-overlapping regions, each either
// captured (its bytes are held here, zero until written), synthesized (captured, but its bytes
// are computed on demand, for structures too large to store), or mapped-but-not-captured.
// Every other address is unmapped. Reads follow gomapcore::Memory's contract: they fill the
// longest captured prefix of the request, report the state of the first byte they could not
// read, and never write a byte they did not read.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "gomapcore/memory.h"

namespace gmtest {

class FakeMemory : public gomapcore::Memory {
  public:
    // Fills out with the bytes of [address, address + out.size()), which lie in one region.
    using Generator = std::function<void(std::uint64_t address, std::span<std::byte> out)>;

    // A mapped region whose bytes the dump holds; zero until written with put*.
    void addCaptured(std::uint64_t start, std::uint64_t size, std::string name = "") {
        Region& region = insert(start, size, Kind::Captured, std::move(name));
        region.bytes.assign(size, std::byte{0});
    }

    // A mapped region the dump does not hold.
    void addNotCaptured(std::uint64_t start, std::uint64_t size, std::string name = "") {
        insert(start, size, Kind::NotCaptured, std::move(name));
    }

    // A captured region whose bytes generator computes on each read (never stored).
    void addSynthesized(std::uint64_t start, std::uint64_t size, Generator generator, std::string name = "") {
        if (!generator) throw std::invalid_argument("FakeMemory: synthesized region needs a generator");
        insert(start, size, Kind::Synthesized, std::move(name)).generator = std::move(generator);
    }

    void putBytes(std::uint64_t address, std::span<const std::byte> data) {
        if (data.empty()) return;
        Region& region = storedRegion(address, data.size());
        std::memcpy(region.bytes.data() + (address - region.start), data.data(), data.size());
    }
    void putBytes(std::uint64_t address, std::initializer_list<std::uint8_t> data) {
        std::vector<std::byte> bytes;
        for (std::uint8_t b : data)
            bytes.push_back(std::byte{b});
        putBytes(address, bytes);
    }
    void put8(std::uint64_t address, std::uint8_t value) { putLittleEndian(address, value, 1); }
    void put16(std::uint64_t address, std::uint16_t value) { putLittleEndian(address, value, 2); }
    void put32(std::uint64_t address, std::uint32_t value) { putLittleEndian(address, value, 4); }
    void put64(std::uint64_t address, std::uint64_t value) { putLittleEndian(address, value, 8); }
    // Writes the low size bytes of value (size 1..8), little-endian.
    void putLittleEndian(std::uint64_t address, std::uint64_t value, std::size_t size) {
        if (size == 0 || size > 8) throw std::invalid_argument("FakeMemory: integer size must be 1..8");
        std::byte bytes[8];
        for (std::size_t i = 0; i < size; ++i)
            bytes[i] = std::byte{static_cast<std::uint8_t>(value >> (8 * i))};
        putBytes(address, std::span<const std::byte>(bytes, size));
    }

    gomapcore::ReadResult read(std::uint64_t address, std::span<std::byte> out) const override {
        ++readCount_;
        largestRead_ = std::max<std::size_t>(largestRead_, out.size());
        gomapcore::ReadResult result;
        std::uint64_t cursor = address;
        while (result.bytesRead < out.size()) {
            const Region* region = find(cursor);
            if (region == nullptr) {
                result.state = gomapcore::AddressState::Unmapped;
                return result;
            }
            if (region->kind == Kind::NotCaptured) {
                result.state = gomapcore::AddressState::NotCaptured;
                return result;
            }
            // cursor < region->end, so this neither wraps nor leaves the region.
            std::uint64_t chunk =
                std::min<std::uint64_t>(out.size() - result.bytesRead, region->end - cursor);
            std::span<std::byte> destination = out.subspan(result.bytesRead, chunk);
            if (region->kind == Kind::Captured)
                std::memcpy(destination.data(), region->bytes.data() + (cursor - region->start), chunk);
            else
                region->generator(cursor, destination);
            result.bytesRead += chunk;
            cursor += chunk;
        }
        result.state = gomapcore::AddressState::Captured;
        return result;
    }

    gomapcore::AddressState classify(std::uint64_t address) const override {
        const Region* region = find(address);
        if (region == nullptr) return gomapcore::AddressState::Unmapped;
        return region->kind == Kind::NotCaptured ? gomapcore::AddressState::NotCaptured
                                                 : gomapcore::AddressState::Captured;
    }

    std::optional<gomapcore::MemoryRegion> regionAt(std::uint64_t address) const override {
        const Region* region = find(address);
        if (region == nullptr) return std::nullopt;
        gomapcore::MemoryRegion out;
        out.start = region->start;
        out.end = region->end;
        out.readable = true;
        out.writable = true;
        out.executable = false;
        out.name = region->name;
        return out;
    }

    // How many reads were made, and the largest request, since construction or resetStats().
    std::size_t readCount() const { return readCount_; }
    std::size_t largestRead() const { return largestRead_; }
    void resetStats() {
        readCount_ = 0;
        largestRead_ = 0;
    }

  private:
    enum class Kind { Captured, Synthesized, NotCaptured };
    struct Region {
        std::uint64_t start = 0;
        std::uint64_t end = 0;  // exclusive
        Kind kind = Kind::Captured;
        std::string name;
        std::vector<std::byte> bytes;  // Captured only
        Generator generator;           // Synthesized only
    };

    Region& insert(std::uint64_t start, std::uint64_t size, Kind kind, std::string name) {
        if (size == 0 || start + size < start)
            throw std::invalid_argument(
                "FakeMemory: empty region or region past the end of the address space");
        std::uint64_t end = start + size;
        auto next = regions_.lower_bound(start);
        if (next != regions_.end() && next->second.start < end)
            throw std::invalid_argument("FakeMemory: region overlaps the next region");
        if (next != regions_.begin() && std::prev(next)->second.end > start)
            throw std::invalid_argument("FakeMemory: region overlaps the previous region");
        Region region;
        region.start = start;
        region.end = end;
        region.kind = kind;
        region.name = std::move(name);
        return regions_.emplace(start, std::move(region)).first->second;
    }

    const Region* find(std::uint64_t address) const { return findIn(regions_, address); }

    // The region holding address, or nullptr; const or not as regions is.
    template <typename Regions>
    static std::conditional_t<std::is_const_v<Regions>, const Region*, Region*> findIn(
        Regions& regions, std::uint64_t address) {
        auto it = regions.upper_bound(address);
        if (it == regions.begin()) return nullptr;
        --it;
        return address < it->second.end ? &it->second : nullptr;
    }

    // The captured region holding all of [address, address + size); a test bug otherwise.
    Region& storedRegion(std::uint64_t address, std::size_t size) {
        Region* found = findIn(regions_, address);
        if (found == nullptr || found->kind != Kind::Captured || size > found->end - address)
            throw std::logic_error("FakeMemory: write outside a captured (stored) region");
        return *found;
    }

    std::map<std::uint64_t, Region> regions_;
    mutable std::size_t readCount_ = 0;
    mutable std::size_t largestRead_ = 0;
};

}  // namespace gmtest
