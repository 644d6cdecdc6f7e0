// Checks of maps against the Go heap's own allocation state (HeapModel): structures that lie in
// memory the runtime considers free.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gomapcore/map_model.h"
#include "runtime/heap_model.h"

namespace gomapcore {

// Attaches a pointer-into-free-memory finding to every node of map's tree (header, buckets,
// overflow and old buckets, mapextra; directory, tables, groups) whose address lies in a free
// object slot, in an object the next sweep frees (garbage), or in heap pages no span holds.
// Stacks, non-heap memory and addresses the core cannot classify give no finding. Returns the
// number of findings added.
std::size_t checkFreedStructures(const HeapModel& heap, MapResult& map);

}  // namespace gomapcore
