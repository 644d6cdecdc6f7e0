// Per-walk and per-search bounds. Each guards against lying data in the core; none is a sampling
// policy. The analysis-wide time and memory budget (budget.h) bounds their sum.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gomapcore/budget.h"

namespace gomapcore {

struct WalkLimits {
    std::uint64_t maxBucketsPerMap = 1u << 22;     // main + overflow + old buckets, or groups
    std::uint32_t maxChainLength = 4096;           // overflow buckets behind one bucket
    std::uint64_t maxDirectoryEntries = 1u << 20;  // swiss directory length
    bool collectSlots = false;                     // keep per-slot addresses (show, GUI)
    // The analysis-wide time and memory budget this walk draws on (not owned; none if null).
    AnalysisBudget* budget = nullptr;
};

// Bounds of the search for maps through typed pointers.
struct ReachLimits {
    std::size_t maxObjects = 1u << 21;           // distinct (address, type) values expanded
    std::size_t maxElementsPerArray = 1u << 16;  // slice/array elements followed per value
    std::size_t maxMapEntries = 1u << 20;        // map entries followed per map
    AnalysisBudget* budget = nullptr;            // analysis-wide time and memory (not owned)
};

// Bounds of the scan for unreached map headers.
struct UnreachedLimits {
    std::size_t maxCandidates = 100'000;     // allocated objects of the header's size class looked at
    std::size_t maxValidations = 1'000'000;  // full validation walks, over all candidates and types
};

}  // namespace gomapcore
