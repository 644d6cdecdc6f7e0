// What happened: the crash explained from the target alone. The fatal signal and the crashing
// goroutine come from the target's signal information and the goroutine table; the message from
// the runtime's throw/fatal frame or the goroutine's _panic record; the map from the runtime map
// function's own map argument (its DWARF location, with the measured amd64 spill slot as a
// labelled fallback), never from the write flag, which a core does not reliably preserve.
#pragma once

#include <vector>

#include "analysis/reachability.h"
#include "analysis/run_context.h"
#include "analysis/session.h"
#include "gomapcore/crash.h"

namespace gomapcore {

// roots and maps: what the search found, to name the crash's map and its other holders.
CrashReport explainCrash(Session& session, RunContext& run, const std::vector<MapRoot>& roots,
                         const std::vector<MapResult>& maps);

}  // namespace gomapcore
