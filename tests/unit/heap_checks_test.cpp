// Unit tests of checkFreedStructures (rule pointer-into-free-memory) over a hand-built heap in
// a fake address space: a map whose bucket array lies in a free slot, in garbage, in freed
// pages, or (no finding) in an allocated slot, on a stack, or where the core does not tell.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/heap_checks.h"
#include "fake_memory.h"
#include "heap_layout_fixture.h"

namespace {

using namespace gmtest::heap;

using gmtest::FakeMemory;
using gomapcore::checkFreedStructures;
using gomapcore::FieldSlot;
using gomapcore::Finding;
using gomapcore::HeapLayout;
using gomapcore::HeapModel;
using gomapcore::MapNode;
using gomapcore::MapResult;
using gomapcore::NodeKind;
using gomapcore::Severity;

// Spans: headers (48-byte class) at kArena, bucket arrays (144-byte class) at kArena + kPage,
// a goroutine stack at kArena + 2 pages; pages from kArena + 4 pages on belong to no span.
constexpr std::uint64_t kHeaders = kArena;
constexpr std::uint64_t kBuckets = kArena + kPage;
constexpr std::uint64_t kStack = kArena + 2 * kPage;
constexpr std::uint64_t kFreePages = kArena + 4 * kPage;

class HeapChecksTest : public ::testing::Test {
  protected:
    HeapChecksTest() {
        mem.addCaptured(kMheap, 0x1000);
        mem.addCaptured(kRecords, 0x1000);
        mem.addCaptured(kAllspans, 0x1000);
        mem.addCaptured(kArenaList, 0x1000);
        mem.addCaptured(kBits, 0x1000);
        mem.addNotCaptured(kBitsNc, 0x1000);
        mem.put32(kMheap + L.heapSweepgen, kHeapGen);
        mem.put64(kMheap + L.allspansArray, kAllspans);
        mem.put64(kMheap + L.arenasArray, kArenaList);
        mem.put64(kMheap + L.arenasLen, 1);
        mem.put64(kArenaList, (kArena - kArenaBaseOffset) / kArenaBytes);
        // Header slot 0 is allocated (below freeindex).
        addSpan(kHeaders, 10, 48, 170, 1, kBits, kHeapGen);
    }

    void addSpan(std::uint64_t start, std::uint8_t spanclass, std::uint64_t elemsize, std::uint16_t nelems,
                 std::uint16_t freeindex, std::uint64_t bits, std::uint32_t sweepgen,
                 std::uint8_t state = 1) {
        std::uint64_t record = kRecords + spans * L.spanSize;
        mem.putLittleEndian(record + L.startAddr.offset, start, L.startAddr.size);
        mem.putLittleEndian(record + L.npages.offset, 1, L.npages.size);
        mem.putLittleEndian(record + L.state.offset, state, L.state.size);
        mem.putLittleEndian(record + L.spanclass.offset, spanclass, L.spanclass.size);
        mem.putLittleEndian(record + L.elemsize.offset, elemsize, L.elemsize.size);
        mem.putLittleEndian(record + L.nelems.offset, nelems, L.nelems.size);
        mem.putLittleEndian(record + L.freeindex.offset, freeindex, L.freeindex.size);
        mem.putLittleEndian(record + L.sweepgen.offset, sweepgen, L.sweepgen.size);
        mem.putLittleEndian(record + L.allocBits.offset, bits, L.allocBits.size);
        mem.putLittleEndian(record + L.gcmarkBits.offset, bits + 0x100, L.gcmarkBits.size);
        mem.put64(kAllspans + 8 * spans, record);
        ++spans;
        mem.put64(kMheap + L.allspansLen, spans);
        mem.put64(kMheap + L.allspansCap, spans);
    }
    // A 144-byte bucket-array span (size class 11, spanclass 22) of 56 slots, nothing below
    // freeindex: allocBits (and, unswept, the mark bits) decide.
    void bucketSpan(std::uint64_t bits, std::uint32_t sweepgen = kHeapGen) {
        addSpan(kBuckets, 22, 144, 56, 0, bits, sweepgen);
    }

    // A classic map: header in slot 0 of the header span, one bucket at bucket.
    MapResult map(std::uint64_t bucket) const {
        MapResult result;
        result.address = kHeaders;
        result.headerReadable = true;
        result.complete = true;
        result.root.kind = NodeKind::Header;
        result.root.address = kHeaders;
        result.root.size = 48;
        MapNode node;
        node.kind = NodeKind::Bucket;
        node.address = bucket;
        node.size = 144;
        node.index = 0;
        result.root.children.push_back(node);
        return result;
    }

    HeapModel model() {
        auto m = HeapModel::build(mem, L, kMheap, notes);
        if (!m) throw std::runtime_error("the heap did not load");
        return std::move(*m);
    }

    FakeMemory mem;
    HeapLayout L = testLayout();
    std::uint64_t spans = 0;
    std::vector<std::string> notes;
};

TEST_F(HeapChecksTest, BucketArrayInAFreeSlotIsAnError) {
    bucketSpan(kBits + 0x200);  // allocBits all zero: slot 2 is free
    HeapModel heap = model();
    MapResult m = map(kBuckets + 2 * 144);
    EXPECT_EQ(checkFreedStructures(heap, m), 1u);
    EXPECT_TRUE(m.root.findings.empty()) << "the header itself is allocated";
    ASSERT_EQ(m.root.children[0].findings.size(), 1u);
    const Finding& f = m.root.children[0].findings[0];
    EXPECT_EQ(f.rule, "pointer-into-free-memory");
    EXPECT_EQ(f.severity, Severity::Error);
    EXPECT_EQ(f.map, kHeaders);
    EXPECT_EQ(f.address, kBuckets + 2 * 144);
    EXPECT_NE(f.message.find("buckets"), std::string::npos) << f.message;
    EXPECT_NE(f.message.find("free 144-byte slot"), std::string::npos) << f.message;
    EXPECT_NE(f.message.find("size class 11"), std::string::npos) << f.message;
    EXPECT_EQ(m.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(HeapChecksTest, BucketArrayInAnAllocatedSlotIsFine) {
    bucketSpan(kBits + 0x200);
    mem.put8(kBits + 0x200, 0x04);  // allocBits: slot 2 allocated
    HeapModel heap = model();
    MapResult m = map(kBuckets + 2 * 144);
    EXPECT_EQ(checkFreedStructures(heap, m), 0u);
    EXPECT_TRUE(m.findings().empty());
    EXPECT_EQ(m.status(), gomapcore::MapStatus::Ok);
}

TEST_F(HeapChecksTest, GarbageInAnUnsweptSpanIsFreeMemory) {
    // runtime/mgcsweep.go: an allocated object the last mark did not reach is freed by the
    // sweep still to come.
    bucketSpan(kBits + 0x200, kHeapGen - 2);
    mem.put8(kBits + 0x200, 0x04);  // allocated, and gcmarkBits (kBits + 0x300) unmarked
    HeapModel heap = model();
    MapResult m = map(kBuckets + 2 * 144);
    EXPECT_EQ(checkFreedStructures(heap, m), 1u);
    ASSERT_EQ(m.root.children[0].findings.size(), 1u);
    EXPECT_NE(m.root.children[0].findings[0].message.find("garbage"), std::string::npos);
    // Marked: reachable at the last GC, so no finding.
    mem.put8(kBits + 0x300, 0x04);
    MapResult marked = map(kBuckets + 2 * 144);
    EXPECT_EQ(checkFreedStructures(heap, marked), 0u);
}

TEST_F(HeapChecksTest, FreedPagesAreFreeMemory) {
    bucketSpan(kBits + 0x200);
    HeapModel heap = model();
    MapResult m = map(kFreePages + 0x40);
    EXPECT_EQ(checkFreedStructures(heap, m), 1u);
    ASSERT_EQ(m.root.children[0].findings.size(), 1u);
    EXPECT_NE(m.root.children[0].findings[0].message.find("no live span"), std::string::npos);
}

TEST_F(HeapChecksTest, StacksNonHeapAndUnknownGiveNoFinding) {
    addSpan(kStack, 0, 0, 0, 0, 0, kHeapGen, 2);  // mSpanManual: a goroutine stack
    bucketSpan(kBitsNc);                          // allocBits not captured: unknown
    HeapModel heap = model();
    for (std::uint64_t bucket : {kStack + 0x100, kBuckets + 3 * 144, std::uint64_t{0x401000}}) {
        MapResult m = map(bucket);
        EXPECT_EQ(checkFreedStructures(heap, m), 0u) << std::hex << bucket;
    }
}

TEST_F(HeapChecksTest, HeaderInAFreeSlotIsReportedOnTheHeader) {
    bucketSpan(kBits + 0x200);
    mem.put8(kBits + 0x200, 0x04);
    HeapModel heap = model();
    MapResult m = map(kBuckets + 2 * 144);
    m.address = m.root.address = kHeaders + 48;  // slot 1: past freeindex, allocBit clear
    EXPECT_EQ(checkFreedStructures(heap, m), 1u);
    ASSERT_EQ(m.root.findings.size(), 1u);
    EXPECT_NE(m.root.findings[0].message.find("map header"), std::string::npos);
    EXPECT_TRUE(m.root.children[0].findings.empty());
}

}  // namespace
