// Pieces both map walkers share: formatting, the header read, pointer classification, limits,
// the count comparison, and the per-slot checks on keys and elems.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gomapcore/map_model.h"
#include "maps/map_layout.h"
#include "maps/walkers.h"

namespace gomapcore::detail {

std::string hex(std::uint64_t value);

// Creates a finding for map at address with the given rule and message.
Finding makeFinding(const char* rule, Severity severity, std::uint64_t map, std::uint64_t address,
                    std::string message);

// Resolves slot i of a bucket or group: follows indirect key/elem storage and reports
// dangling pointers held by the key or the elem (pointers, maps, chans, strings, interface
// data words, and those fields of structs and arrays, a few levels deep).
Slot inspectSlot(const Memory& memory, const MapTypeLayout& layout, std::uint64_t container, unsigned index,
                 std::uint8_t control, std::uint64_t map, MapNode& node);

// Reads one field of a struct whose bytes are in buffer.
std::uint64_t fieldValue(const std::vector<std::byte>& buffer, const FieldSlot& slot);

// What a walk can expect behind a pointer to a structure of bytes bytes (bucket array, overflow
// bucket, directory, table, group array), judged from its first and last byte. Holes in between
// surface when the structure's pieces are read.
enum class RangeState {
    Followable,   // aligned, and starts in captured memory without running into unmapped memory
    Misaligned,   // every structure the runtime allocates for a map is pointer-aligned
    Unmapped,     // the first byte lies in no mapping
    RunsOff,      // starts in a mapping but its last byte lies in no mapping (or the range wraps)
    NotCaptured,  // starts in a mapping the core did not capture
};
RangeState classifyRange(const Memory& memory, std::uint64_t pointer, std::uint64_t bytes);

// The state and findings both walkers keep, and the steps they share. A walker derives from it,
// reads its header with readHeader/headerField, follows pointers with followable, and ends with
// finish().
class MapWalker {
  protected:
    MapWalker(const Memory& memory, const MapTypeLayout& layout, std::uint64_t address,
              std::uint64_t headerSize, const WalkLimits& limits);

    MapNode& header() { return result_.root; }
    void add(MapNode& node, const char* rule, Severity severity, std::uint64_t address, std::string message);

    // Reads the whole header into buffer. When it cannot, records why on the root (header-unmapped,
    // or pointer-not-captured) and returns false.
    bool readHeader(std::vector<std::byte>& buffer);
    // Records a header field (when the layout has it) in the result and returns its value.
    std::uint64_t headerField(const std::vector<std::byte>& buffer, const char* name, const FieldSlot& slot);

    // Checks a pointer to a structure of bytes bytes before the walk follows it. When it cannot be
    // followed, adds to node the finding that says why (unmappedRule when it lies in no mapping or
    // runs off one, misalignedRule when misaligned, pointer-not-captured when not captured), marks
    // the walk incomplete, and returns false.
    bool followable(MapNode& node, std::uint64_t pointer, std::uint64_t bytes, const char* field,
                    const char* unmappedRule, const char* misalignedRule);
    // Records on node why a read of what (at node.address) failed: a hole in no mapping is an
    // unmappedRule error, bytes the core did not capture only a pointer-not-captured warning. The
    // finding names at. Marks the walk incomplete.
    void unreadable(MapNode& node, const ReadResult& read, const std::string& what, const char* unmappedRule,
                    std::uint64_t at);

    // The walk stopped at a limit: records it once per walk and marks the walk incomplete.
    void hitLimit(const std::string& limit);
    // False (and the limit recorded) once spent buckets or groups reach maxBucketsPerMap, or the
    // analysis-wide budget has run out of time or memory.
    bool budgetLeft(std::uint64_t spent);
    // Charges a node about to be kept to the analysis-wide budget: false (and the limit
    // recorded) once the budget has run out of time or cannot hold nodeBytes more.
    bool analysisBudgetLeft(std::uint64_t nodeBytes);
    // What a bucket, group or table node of this walk holds, as charged to the analysis budget.
    std::uint64_t nodeBytes() const;

  public:
    // What one node is charged to the budget, with or without its slots.
    static std::uint64_t nodeCharge(bool withSlots);

  protected:
    // Counts one allocation the runtime made for the map, of nominal bytes as the layout implies,
    // and returns what it holds: its span's object size when the heap records an allocated
    // object there (limits_.allocationSize), else nominal.
    std::uint64_t allocation(std::uint64_t address, std::uint64_t nominal);
    // Counts the key and elem objects an occupied slot stores apart (indirect storage: mapassign
    // allocates one with newobject per inserted key or elem, runtime/map.go and
    // internal/runtime/maps/table.go). Every object of a map's key (elem) type has one size
    // class, so the first readable one is sized from the heap and the rest are counted alike.
    void countIndirect(const Slot& slot);

    // A count-mismatch verdict needs a walk that saw every entry: a complete walk, and no
    // structural error (a header, pointer, chain or directory that is itself wrong) that could hide
    // entries where the walk did not look. Control bytes and dangling entry pointers concern
    // entries that were found and do not stop the comparison.
    bool countComparable() const;
    // Fills in the walk's totals.
    void finish(std::uint64_t liveEntries);

    const Memory& memory_;
    Reader reader_;
    const MapTypeLayout& layout_;
    const WalkLimits& limits_;
    MapResult result_;
    bool incomplete_ = false;

  private:
    struct IndirectSize {
        std::uint64_t bytes = 0;
        bool known = false, fromHeap = false;
    };
    void countIndirectObject(std::uint64_t address, std::uint64_t size, IndirectSize& cached);
    IndirectSize keyObject_, elemObject_;
};

}  // namespace gomapcore::detail
