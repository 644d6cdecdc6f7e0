// Map headers in goroutine frames that no DWARF variable describes: since Go 1.24 the compiler
// often writes none for a map that does not escape, but the runtime still lists its header as a
// stack object (FUNCDATA_StackObjects) for the GC. Such a stack object of the header's size that
// validates as a map is reported with confidence heuristic.
#pragma once

#include <vector>

#include "analysis/reachability.h"
#include "analysis/run_context.h"
#include "analysis/session.h"

namespace gomapcore {

// Appends the stack maps found to roots (skipping headers already there).
void addStackObjectMaps(Session& session, RunContext& run, std::vector<MapRoot>& roots);

}  // namespace gomapcore
