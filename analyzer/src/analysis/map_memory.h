// Where the memory went: map memory counted as allocated, the rules on wasted map memory
// (map-oversized, map-overflow-heavy, map-dominant; docs/report-v1.md), and the report's memory
// summary.
#pragma once

#include "analysis/session.h"
#include "gomapcore/analysis.h"
#include "gomapcore/report.h"

namespace gomapcore {

// Makes the walks count each map allocation with its span's object size (limits.allocationSize)
// when the session's heap can be read; otherwise they count the sizes the layout implies.
void sizeAllocationsFromHeap(Session& session, WalkLimits& limits);

// map-oversized and map-overflow-heavy on one walked map (findings on its header).
void checkMapMemory(MapResult& map, const MemoryRules& rules);

// Fills report.memory from report.maps (before the listing groups any) and the heap in use,
// and raises map-dominant.
void summarizeMemory(Report& report, const HeapModel* heap, const MemoryRules& rules);

}  // namespace gomapcore
