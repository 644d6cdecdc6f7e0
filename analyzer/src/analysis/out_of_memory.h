// The runtime's out-of-memory fatal errors (crash kind out-of-memory) and what the report says of
// one: how big the heap was, how much of it the maps hold, and which maps hold the most.
#pragma once

#include <optional>
#include <string_view>

#include "gomapcore/report.h"

namespace gomapcore {

// The runtime's out-of-memory throw message that message begins with, if any. A throw's string
// length is read from a spill slot that may be stale (tracebacks print it with a '?'), so what
// follows the known text is not required to end there.
std::optional<std::string_view> outOfMemoryMessage(std::string_view message);

// For an out-of-memory crash, rewrites report.crash's explanation from report.memory (which
// summarizeMemory filled): the heap in use, the maps' share, the largest maps.
void explainOutOfMemory(Report& report);

}  // namespace gomapcore
