// Map headers no typed root reaches: allocated heap objects of the header's size class that
// validate as a map of some program map type (analysis/map_recognition.h), narrowed by the GC's
// pointer bits for their storage. Heuristic by nature: reported with confidence heuristic and no
// roots, and bounded by UnreachedLimits.
#pragma once

#include <vector>

#include "analysis/run_context.h"
#include "analysis/session.h"

namespace gomapcore {

// Appends the unreached maps found to maps (skipping addresses already there).
void addUnreachedMaps(Session& session, RunContext& run, std::vector<MapResult>& maps);

}  // namespace gomapcore
