// Per-walk and per-search bounds. Each guards against lying data in the core; none is a sampling
// policy. The analysis-wide time and memory budget (budget.h) bounds their sum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "gomapcore/budget.h"

namespace gomapcore {

// The default of WalkLimits::maxBucketsPerMap. Analysis::run and inspect raise it, when left at
// this value, to the target's mapped bytes / kSmallestBucketBytes: no map holds more distinct
// buckets or groups than its memory can, so the bound scales with what the core really holds.
inline constexpr std::uint64_t kDefaultMaxBucketsPerMap = std::uint64_t{1} << 22;
// The smallest classic bucket (tophash [8]uint8 and the overflow pointer, keys and elems of size
// 0) or swiss group (the control word and 8 empty slots) a map can have.
inline constexpr std::uint64_t kSmallestBucketBytes = 16;

struct WalkLimits {
    std::uint64_t maxBucketsPerMap = kDefaultMaxBucketsPerMap;  // main + overflow + old buckets, or groups
    std::uint32_t maxChainLength = 4096;                        // overflow buckets behind one bucket
    std::uint64_t maxDirectoryEntries = 1u << 20;               // swiss directory length
    bool collectSlots = false;                                  // keep per-slot addresses (show, GUI)
    // The analysis-wide time and memory budget this walk draws on (not owned; none if null).
    AnalysisBudget* budget = nullptr;
    // The bytes really allocated for the heap object a map structure starting at an address
    // lives in (its span's object size), when the heap records one; none if empty. The walks
    // count map memory with it (MapMemory), else with the sizes the layout implies.
    std::function<std::optional<std::uint64_t>(std::uint64_t)> allocationSize;
};

// Bounds of the search for maps through typed pointers. The defaults follow everything a real
// core holds (a slice of a million maps, a map of ten million entries): a slice is also never
// followed past the end of the mapping its data lies in, and the memory budget is the backstop.
struct ReachLimits {
    std::size_t maxObjects = std::size_t{1} << 32;           // distinct (address, type) values expanded
    std::size_t maxElementsPerArray = std::size_t{1} << 32;  // slice/array elements followed per value
    std::size_t maxMapEntries = std::size_t{1} << 32;        // map entries followed per map
    AnalysisBudget* budget = nullptr;                        // analysis-wide time and memory (not owned)
    // Follow func values into the closures they point at (captured variables typed by the
    // closure function's DWARF, a method value's receiver), goroutines' start closures and
    // time.AfterFunc callbacks. Off: such maps are left to the unreached-map scan.
    bool followClosures = true;
    // Follow unsafe.Pointer words and uintptr fields into heap objects whose type the heap
    // records (a Go 1.22+ malloc header, a large object's span; maps reached so are heap-typed),
    // or that its heap bits and a validation walk show to be a map header or a map variable
    // (heuristic).
    bool followUntypedPointers = true;
};

// Bounds of the scan for unreached map headers. The candidates are the heap's own allocated
// objects of the header's size class, which the span model bounds; by default all are looked at.
struct UnreachedLimits {
    std::size_t maxCandidates = std::size_t{1}
                                << 32;  // allocated objects of the header's size class looked at
    std::size_t maxValidations = std::size_t{1}
                                 << 32;  // full validation walks, over all candidates and types
};

}  // namespace gomapcore
