// The fake Go heap both heap unit tests build on: one address plan and one runtime.mspan
// layout (Go 1.23's offsets, a test choice; the model takes whatever layout it is given).
#pragma once

#include <cstdint>

#include "field_slot.h"
#include "runtime/heap_model.h"

namespace gmtest::heap {

constexpr std::uint64_t kMheap = 0x500000;      // captured: runtime.mheap_
constexpr std::uint64_t kRecords = 0x600000;    // captured: mspan records
constexpr std::uint64_t kAllspans = 0x680000;   // captured: the allspans array
constexpr std::uint64_t kArenaList = 0x690000;  // captured: the arena index list
constexpr std::uint64_t kBits = 0x700000;       // captured: alloc and mark bitmaps
constexpr std::uint64_t kBitsNc = 0x710000;     // not captured
constexpr std::uint64_t kArena = 0xc000000000;  // one 64 MiB heap arena (its bytes are not needed)
constexpr std::uint64_t kPage = 8192;
constexpr std::uint64_t kArenaBytes = std::uint64_t{64} << 20;
constexpr std::uint64_t kArenaBaseOffset = 0xffff800000000000;  // amd64, runtime/malloc.go
constexpr std::uint8_t kDead = 0, kInUse = 1, kManual = 2;
constexpr std::uint32_t kHeapGen = 10;

using gmtest::fieldSlot;

inline gomapcore::HeapLayout testLayout() {
    gomapcore::HeapLayout l;
    l.heapSweepgen = 0;
    l.allspansArray = 8;
    l.allspansLen = 16;
    l.allspansCap = 24;
    l.hasArenas = true;
    l.arenasArray = 32;
    l.arenasLen = 40;
    l.arenaIndexSize = 8;
    l.heapArenaBytes = kArenaBytes;
    l.arenaBaseOffset = kArenaBaseOffset;
    l.spanSize = 160;
    l.startAddr = fieldSlot(24, 8);
    l.npages = fieldSlot(32, 8);
    l.freeindex = fieldSlot(48, 2);
    l.nelems = fieldSlot(50, 2);
    l.allocBits = fieldSlot(64, 8);
    l.gcmarkBits = fieldSlot(72, 8);
    l.sweepgen = fieldSlot(88, 4);
    l.allocCount = fieldSlot(96, 2);
    l.spanclass = fieldSlot(98, 1);
    l.state = fieldSlot(99, 1);
    l.elemsize = fieldSlot(104, 8);
    l.pageSize = kPage;
    l.stateDead = kDead;
    l.stateInUse = kInUse;
    l.stateManual = kManual;
    return l;
}

}  // namespace gmtest::heap
