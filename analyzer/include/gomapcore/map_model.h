// What a walk of one map produces: a tree of nodes (header, buckets and their overflow
// chains, old buckets; or directory, tables, groups), each carrying the findings that concern
// it, plus header fields and counts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gomapcore/limits.h"
#include "gomapcore/memory.h"

namespace gomapcore {

// Which map implementation a program was built with: classic hmap buckets (Go up to 1.23, and
// 1.24/1.25 with GOEXPERIMENT=noswissmap) or swiss tables (Go 1.24 on).
enum class MapLayoutKind { Classic, Swiss };
const char* toString(MapLayoutKind kind);

// A map's overall state, worst first: error findings, an incomplete walk, warnings, nothing.
enum class MapStatus { Damaged, Incomplete, Suspect, Ok };
const char* toString(MapStatus status);

// How a map was found: a typed root reaches it, or memory validated as a map header (a stack
// object no variable describes, an unreached heap object).
// Exact: a typed root reaches the map. Heuristic: memory validated as a map header (an unnamed
// stack object, an unreached heap object, ...). HeapTyped (added in 0.4): reached only through
// an untyped pointer (unsafe.Pointer, uintptr) whose target's type the heap records, a Go 1.22+
// malloc header or a large object's span.
enum class Confidence { Exact, Heuristic, HeapTyped };
const char* toString(Confidence confidence);

struct MapTypeLayout;  // the map type's decoded runtime layout (internal)

enum class Severity { Info = 0, Warning = 1, Error = 2 };
const char* toString(Severity severity);

// Rule ids are a public contract (docs/report-v1.md); never rename one.
namespace rules {
inline constexpr const char* kHeaderImplausible = "header-implausible";
inline constexpr const char* kHeaderUnmapped = "header-unmapped";
inline constexpr const char* kBucketsUnmapped = "buckets-unmapped";
inline constexpr const char* kOldbucketsUnmapped = "oldbuckets-unmapped";
inline constexpr const char* kPointerNotCaptured = "pointer-not-captured";
inline constexpr const char* kOverflowChainCorrupt = "overflow-chain-corrupt";
inline constexpr const char* kCountMismatch = "count-mismatch";
inline constexpr const char* kControlBytesCorrupt = "control-bytes-corrupt";
inline constexpr const char* kWriteInProgress = "write-in-progress";
inline constexpr const char* kDanglingEntryPointer = "dangling-entry-pointer";
inline constexpr const char* kTableUnmapped = "table-unmapped";
inline constexpr const char* kGroupsUnmapped = "groups-unmapped";
inline constexpr const char* kDirectoryCorrupt = "directory-corrupt";
inline constexpr const char* kPointerIntoFreeMemory = "pointer-into-free-memory";
// Waste, not damage (severity info or warning, never error; thresholds in MemoryRules).
inline constexpr const char* kMapOversized = "map-oversized";
inline constexpr const char* kMapOverflowHeavy = "map-overflow-heavy";
inline constexpr const char* kMapDominant = "map-dominant";
}  // namespace rules

struct Finding {
    std::string rule;
    Severity severity = Severity::Error;
    std::uint64_t map = 0;      // header address of the map concerned
    std::uint64_t address = 0;  // the offending address (a bad pointer's value, or the node)
    std::string message;
};

enum class NodeKind {
    Header,
    Bucket,
    OverflowBucket,
    OldBucket,
    OldOverflowBucket,
    Extra,
    Directory,
    Table,
    Group,
    // What a classic map's extra (runtime.mapextra) holds, listed by Analysis::inspect only:
    // the []*bmap slices extra.overflow and extra.oldoverflow point to (node address: the slice
    // header; children: the buckets they list), and extra.nextOverflow (node address: the next
    // free preallocated overflow bucket).
    OverflowList,
    OldOverflowList,
    ListedOverflowBucket,  // one element of an overflow list (index: its position in the slice)
    NextOverflow
};
const char* toString(NodeKind kind);

// One occupied slot of a bucket or group, with the addresses its key and elem really live at
// (after following indirect storage).
struct Slot {
    std::uint8_t index = 0;
    std::uint8_t control = 0;  // tophash (classic) or ctrl byte (swiss)
    std::uint64_t keyAddress = 0;
    std::uint64_t elemAddress = 0;
    bool keyReadable = true;
    bool elemReadable = true;
};

struct MapNode {
    NodeKind kind = NodeKind::Header;
    std::uint64_t address = 0;
    std::uint64_t size = 0;
    std::int64_t index = -1;  // bucket / directory / group index
    AddressState state = AddressState::Captured;
    std::uint32_t liveEntries = 0;
    std::vector<std::uint8_t> control;  // the 8 tophash / ctrl bytes, when read
    std::vector<Slot> slots;            // occupied slots (only when entries are collected)
    std::vector<Finding> findings;
    std::vector<MapNode> children;
};

// The memory one map holds (docs/report-v1.md, "memory"): the allocations the runtime made for
// it, each counted once. An allocation the heap's spans record is counted as allocated (its
// span's object size: the size class, or the pages of a large object); any other (a header or
// first bucket on a goroutine stack, a heap the core does not describe) as the layout read
// from the DWARF implies. What the walk did not reach is not counted (see complete).
struct MapMemory {
    std::uint64_t header = 0;           // hmap and its mapextra (classic), or maps.Map (swiss)
    std::uint64_t buckets = 0;          // classic: the bucket array with its preallocated overflow
                                        // buckets; swiss: the group arrays (a small map's one group)
    std::uint64_t directory = 0;        // swiss: the directory and the table structs
    std::uint64_t overflow = 0;         // classic: overflow buckets allocated apart from the array
    std::uint64_t oldBuckets = 0;       // classic, growing: the old array and its own overflow buckets
    std::uint64_t indirect = 0;         // keys and elems stored apart (larger than 128 bytes)
    std::uint64_t capacity = 0;         // slots: 8 per main and overflow bucket (classic, old array
                                        // not included), the tables' capacities (swiss), 8 (small)
    std::uint64_t overflowBuckets = 0;  // classic: buckets on the main array's overflow chains
    std::uint64_t allocations = 0;      // allocations counted (indirect keys and elems included)
    std::uint64_t heapSized = 0;        // of those, sized from their span
    bool complete = false;              // the walk reached every structure of the map

    std::uint64_t bytes() const { return header + buckets + directory + overflow + oldBuckets + indirect; }
    // Live entries over slots; 0 without slots.
    double loadFactor(std::int64_t live) const {
        return capacity == 0 || live <= 0 ? 0.0 : static_cast<double>(live) / static_cast<double>(capacity);
    }
};

// How one root reaches its map (report-v1 maps[].root_kinds[], added in 0.4).
struct RootDescription {
    // Where the path starts: "global", "goroutine" (a frame's variable or stack object),
    // "goroutine-start" (the closure a goroutine that never ran was started with), "timer"
    // (a time.AfterFunc callback in the runtime's timer heap).
    std::string origin;
    // What it passes through that typed pointers alone do not lead to, each once:
    // "closure", "method-value", "untyped-pointer".
    std::vector<std::string> through;
};

struct MapResult {
    std::uint64_t address = 0;
    const MapTypeLayout* layout = nullptr;
    std::vector<std::string> roots;
    // One per root, in the same order; empty (no allocation in a report of millions of maps)
    // when every root is a plain typed path. Read them with rootKind().
    std::vector<RootDescription> rootKinds;
    // Header fields in declaration order, as read (name, value). Names are the runtime's field
    // names, static strings: a map costs no allocation per field.
    std::vector<std::pair<std::string_view, std::uint64_t>> header;
    bool headerReadable = false;
    std::int64_t count = 0;         // count (classic) / used (swiss) from the header
    std::uint64_t liveEntries = 0;  // occupied slots found
    bool complete = false;          // every bucket/table/group was read and walked
    std::vector<std::string> limitsHit;
    // Swiss: directory length, global depth and number of distinct tables.
    std::uint64_t tables = 0;
    MapNode root;
    Confidence confidence = Confidence::Exact;
    // For a heuristic map whose type nothing records: every map type it validates as. With
    // more than one, the report says the type is unknown and lists them.
    std::vector<std::string> typeCandidates;
    // What the map holds in memory, as far as the walk reached.
    MapMemory memory;

    // Every finding in the tree, in walk order.
    std::vector<Finding> findings() const;
    MapStatus status() const;
    std::string typeName() const;
    // How roots[i] reaches the map: rootKinds[i], or for a plain typed path its origin by its
    // name ("goroutine N …" is a goroutine's, any other a global's) and nothing passed through.
    RootDescription rootKind(std::size_t i) const;
    // The goroutines whose frames hold the map (its roots "goroutine N ..."), ascending, each once.
    std::vector<std::int64_t> holdingGoroutines() const;
    // Where the map's structure lies: every node of the walk (header, buckets, directory, tables,
    // groups...) with what memory holds there, ascending by address, each address once, at most
    // max of them, the suspect ones kept first (a front end marks them on the process's
    // mappings).
    // The addresses of findings of warning or error severity are places too (an unmapped bucket
    // array has no node): those carry the finding's rule.
    struct Place {
        std::uint64_t address = 0;
        NodeKind kind = NodeKind::Header;
        AddressState state = AddressState::Captured;
        std::string rule;  // a finding's address: its rule

        bool suspect() const { return state != AddressState::Captured || !rule.empty(); }
    };
    std::vector<Place> places(std::size_t max) const;
};

}  // namespace gomapcore
