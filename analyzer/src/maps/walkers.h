// One walker per layout: classic hmap buckets (classic_walker.cpp) and swiss tables
// (swiss_walker.cpp). Both are bounded by limits, cycle-safe, and read only through memory.
#pragma once

#include <cstdint>

#include "gomapcore/map_model.h"
#include "gomapcore/memory.h"
#include "maps/map_layout.h"

namespace gomapcore {

MapResult walkClassicMap(const Memory& memory, const MapTypeLayout& layout, std::uint64_t address,
                         const WalkLimits& limits);
MapResult walkSwissMap(const Memory& memory, const MapTypeLayout& layout, std::uint64_t address,
                       const WalkLimits& limits);
// The walker of layout's kind.
MapResult walkMap(const Memory& memory, const MapTypeLayout& layout, std::uint64_t address,
                  const WalkLimits& limits);

// Keeps only map's summary: every finding moves to the header node, in walk order (the order
// findings() gives), and the bucket, table and group nodes are dropped; budget (if any) gets
// back what they were charged. What a report keeps of a map nobody asked to see in depth.
void dropStructure(MapResult& map, AnalysisBudget* budget);

}  // namespace gomapcore
