// The roots that hold maps: every global (outside the runtime), every goroutine frame's DWARF
// variables, everything those reach through typed pointers (analysis/reachability.h), and map
// headers in frames that no variable describes (analysis/stack_object_maps.h).
#pragma once

#include <vector>

#include "analysis/reachability.h"
#include "analysis/run_context.h"
#include "analysis/session.h"

namespace gomapcore {

std::vector<MapRoot> findRoots(Session& session, RunContext& run);

// Only the map variables themselves: globals and goroutine frame variables of a map type, no
// pointer followed. What the crash is explained from before the search (Analysis::run's
// onCrash): cheap on any core.
std::vector<MapRoot> findDirectMapRoots(Session& session);

}  // namespace gomapcore
