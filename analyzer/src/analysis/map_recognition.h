// Recognising a map header in memory when nothing typed says it is one: a trial walk that must
// validate cleanly, and the GC's own record of the allocation holding the map's storage to narrow
// the map types it could be. Used for stack objects and unreached heap objects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/session.h"

namespace gomapcore {

// Whether address holds a healthy map header of mapType, with storage or entries to show for
// it (an all-zero header validates as an empty map of any type). The walk is thrown away:
// bounded in time by limits' budget, not charged to its memory.
bool validatesAsMap(Session& session, std::uint64_t address, const Type* mapType, const WalkLimits& limits);

// Of the map types a header validates as, those whose bucket or group matches what the GC
// records of the allocation holding its storage: one of frameObjects, the stack objects of
// frame, or a heap object (its heap bits, noscan class, or the type its malloc header or span
// names). All of them when it cannot tell; none when the record fits none (then the header is
// not reported as a map, and why, when given, says which record that was).
std::vector<const Type*> narrowByStorage(Session& session, std::uint64_t header,
                                         const std::vector<const Type*>& types,
                                         const StackFrame* frame = nullptr,
                                         const std::vector<StackObject>* frameObjects = nullptr,
                                         std::string* why = nullptr);

}  // namespace gomapcore
