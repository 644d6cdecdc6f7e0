// The fixture both walker suites share: one fake address space, the layout factory, and the
// helpers whose shape does not depend on the map layout (slot contents, walks, arrays with holes).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "fake_memory.h"
#include "gomapcore/map_model.h"
#include "layout_builders.h"
#include "maps/walkers.h"
#include "walk_assertions.h"

namespace gmtest::walker {

using gmtest::expectFindings;
using gmtest::expectHealthy;
using gmtest::expectNoFindings;
using gmtest::FakeMemory;
using gmtest::findNode;
using gmtest::LayoutFactory;
using gomapcore::AddressState;
using gomapcore::MapNode;
using gomapcore::MapResult;
using gomapcore::MapTypeLayout;
using gomapcore::NodeKind;
using gomapcore::Severity;
using gomapcore::WalkLimits;
namespace rules = gomapcore::rules;

// The fake address space.
inline constexpr std::uint64_t kHeader = 0xc000010000;  // captured, 0x1000: map headers
inline constexpr std::uint64_t kHeap = 0xc000100000;    // captured, 1 MiB: buckets and everything else
inline constexpr std::uint64_t kHeapSize = 0x100000;
inline constexpr std::uint64_t kSplit = 0xc000300000;          // captured, 0x1000, followed by ...
inline constexpr std::uint64_t kSplitNc = kSplit + 0x1000;     // ... a not-captured 0x1000
inline constexpr std::uint64_t kHoles = 0xc000500000;          // free, for arrays with holes
inline constexpr std::uint64_t kNotCaptured = 0x7f0000000000;  // mapped, not captured, 64 KiB
inline constexpr std::uint64_t kStack = 0x7ffc00000000;        // captured "[stack]", 64 KiB
inline constexpr std::uint64_t kUnmapped = 0xdead0000;         // in no region

using WalkFunction = MapResult (*)(const gomapcore::Memory&, const MapTypeLayout&, std::uint64_t,
                                   const WalkLimits&);

// Walk is the walker under test; DefaultLayout the layout of L, the suite's usual map type.
template <WalkFunction Walk, const MapTypeLayout& (LayoutFactory::*DefaultLayout)()>
class WalkerFixture : public ::testing::Test {
  protected:
    WalkerFixture() {
        mem.addCaptured(kHeader, 0x1000, "heap (headers)");
        mem.addCaptured(kHeap, kHeapSize, "heap");
        mem.addCaptured(kSplit, 0x1000, "heap, captured part");
        mem.addNotCaptured(kSplitNc, 0x1000, "heap, not captured part");
        mem.addNotCaptured(kNotCaptured, 0x10000, "not captured");
        mem.addCaptured(kStack, 0x10000, "[stack]");
    }

    // An array of `before + 1 + after` elements of elementSize bytes at kHoles whose element
    // number `before` lies in no mapping; the others are captured (and zero).
    std::uint64_t arrayWithHole(std::uint64_t elementSize, unsigned before, unsigned after) {
        if (before > 0) mem.addCaptured(kHoles, before * elementSize, "array, before the hole");
        if (after > 0)
            mem.addCaptured(kHoles + (before + 1) * elementSize, after * elementSize,
                            "array, after the hole");
        return kHoles;
    }

    // The key and elem of slot i of a bucket or group (the slot contents: a pointer for indirect
    // storage); a zero-size elem writes nothing.
    void putKeyElem(const MapTypeLayout& l, std::uint64_t container, unsigned i, std::uint64_t key,
                    std::uint64_t elem) {
        mem.putLittleEndian(l.keySlot(container, i), key, l.indirectKey ? 8 : l.keySize);
        const std::uint64_t elemSize = l.indirectElem ? 8 : l.elemSize;
        if (elemSize > 0) mem.putLittleEndian(l.elemSlot(container, i), elem, elemSize);
    }

    MapResult walk(const MapTypeLayout& l, std::uint64_t at = kHeader,
                   const WalkLimits& limits = WalkLimits{}) {
        return Walk(mem, l, at, limits);
    }
    MapResult walk(const WalkLimits& limits = WalkLimits{}) { return walk(L, kHeader, limits); }

    LayoutFactory types;
    FakeMemory mem;
    const MapTypeLayout& L = (types.*DefaultLayout)();
};

}  // namespace gmtest::walker
