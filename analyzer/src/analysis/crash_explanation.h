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

// The type of the crash's map, from the map type argument of the runtime map function that
// touched it (t *maptype in runtime/map.go, typ *abi.SwissMapType in internal/runtime/maps),
// a runtime type descriptor resolved to its DWARF type; nullptr when the frame does not say.
// What the crash's map is walked as when no variable found before the search holds it.
const Type* crashMapType(Session& session, const CrashReport& crash);

}  // namespace gomapcore
