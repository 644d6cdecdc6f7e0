// Unit tests of HeapModel over a hand-built runtime.mheap_, allspans and mspan records in a
// fake address space: span decoding, address classification by the runtime's rules
// (runtime/mbitmap.go mspan.isFree, runtime/mgcsweep.go for unswept spans, Green Tea inline
// marks), and bounded behaviour on damaged heap metadata.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "fake_memory.h"
#include "heap_layout_fixture.h"
#include "runtime/heap_model.h"

namespace {

using namespace gmtest::heap;

using gmtest::FakeMemory;
using gomapcore::FieldSlot;
using gomapcore::HeapAddress;
using gomapcore::HeapAddressKind;
using gomapcore::HeapLayout;
using gomapcore::HeapLimits;
using gomapcore::HeapModel;
using gomapcore::SpanInfo;
using gomapcore::SpanState;
using gomapcore::SweepState;

// The fake address space.

struct Span {
    std::uint64_t start = 0;
    std::uint64_t npages = 1;
    std::uint8_t state = kInUse;
    std::uint8_t spanclass = 0;
    std::uint64_t elemsize = 0;
    std::uint16_t nelems = 0;
    std::uint16_t freeindex = 0;
    std::uint16_t allocCount = 0;
    std::uint32_t sweepgen = kHeapGen;
    std::uint64_t allocBits = 0;
    std::uint64_t gcmarkBits = 0;
    std::uint64_t largeType = 0;  // written when the layout has mspan.largeType
};

class HeapModelTest : public ::testing::Test {
  protected:
    HeapModelTest() {
        mem.addCaptured(kMheap, 0x1000, "runtime.mheap_");
        mem.addCaptured(kRecords, 0x10000, "mspans");
        mem.addCaptured(kAllspans, 0x1000, "allspans");
        mem.addCaptured(kArenaList, 0x1000, "allArenas");
        mem.addCaptured(kBits, 0x1000, "gcBits");
        mem.addNotCaptured(kBitsNc, 0x1000, "gcBits, not captured");
        mem.put32(kMheap + L.heapSweepgen, kHeapGen);
        mem.put64(kMheap + L.allspansArray, kAllspans);
        mem.put64(kMheap + L.arenasArray, kArenaList);
        mem.put64(kMheap + L.arenasLen, 1);
        mem.put64(kArenaList, (kArena - kArenaBaseOffset) / kArenaBytes);  // runtime arenaIndex
    }

    // Appends an mspan record to allspans; returns the record's address.
    std::uint64_t add(const Span& s) {
        std::uint64_t record = kRecords + count * L.spanSize;
        mem.putLittleEndian(record + L.startAddr.offset, s.start, L.startAddr.size);
        mem.putLittleEndian(record + L.npages.offset, s.npages, L.npages.size);
        mem.putLittleEndian(record + L.state.offset, s.state, L.state.size);
        mem.putLittleEndian(record + L.spanclass.offset, s.spanclass, L.spanclass.size);
        mem.putLittleEndian(record + L.elemsize.offset, s.elemsize, L.elemsize.size);
        mem.putLittleEndian(record + L.nelems.offset, s.nelems, L.nelems.size);
        mem.putLittleEndian(record + L.freeindex.offset, s.freeindex, L.freeindex.size);
        mem.putLittleEndian(record + L.allocCount.offset, s.allocCount, L.allocCount.size);
        mem.putLittleEndian(record + L.sweepgen.offset, s.sweepgen, L.sweepgen.size);
        mem.putLittleEndian(record + L.allocBits.offset, s.allocBits, L.allocBits.size);
        mem.putLittleEndian(record + L.gcmarkBits.offset, s.gcmarkBits, L.gcmarkBits.size);
        if (L.largeType.present)
            mem.putLittleEndian(record + L.largeType.offset, s.largeType, L.largeType.size);
        mem.put64(kAllspans + 8 * count, record);
        ++count;
        mem.put64(kMheap + L.allspansLen, count);
        mem.put64(kMheap + L.allspansCap, count);
        return record;
    }
    // A one-page span of 48-byte objects (size class 5 with pointers: spanclass 10): 170 slots.
    Span small48(std::uint64_t start, std::uint64_t allocBits) const {
        return {.start = start,
                .spanclass = 10,
                .elemsize = 48,
                .nelems = 170,
                .allocBits = allocBits,
                .gcmarkBits = allocBits + 0x100};
    }
    void setBit(std::uint64_t bitmap, std::uint64_t i) {
        std::byte b[1]{};
        EXPECT_TRUE(mem.read(bitmap + i / 8, b).complete()) << "bitmap byte not in the fake memory";
        mem.put8(bitmap + i / 8,
                 static_cast<std::uint8_t>(std::to_integer<unsigned>(b[0]) | (1u << (i % 8))));
    }

    std::optional<HeapModel> load(const HeapLimits& limits = {}) {
        return HeapModel::build(mem, L, kMheap, notes, limits);
    }
    HeapModel mustLoad() {
        auto model = load();
        if (!model) throw std::runtime_error("the heap did not load");
        return std::move(*model);
    }
    bool noted(const std::string& fragment) const {
        for (const std::string& n : notes)
            if (n.find(fragment) != std::string::npos) return true;
        return false;
    }

    FakeMemory mem;
    HeapLayout L = testLayout();
    std::uint64_t count = 0;
    std::vector<std::string> notes;
};

// --- Loading --------------------------------------------------------------------------------

TEST_F(HeapModelTest, LoadsLiveSpansSortedAndLeavesDeadOnesOut) {
    add(small48(kArena + 4 * kPage, kBits));
    add({.start = kArena + 8 * kPage, .npages = 4, .state = kManual});
    // A freed mspan keeps its stale range, overlapping the live span above.
    add({.start = kArena + 4 * kPage, .npages = 2, .state = kDead});
    add(small48(kArena, kBits + 0x200));
    HeapModel model = mustLoad();
    ASSERT_EQ(model.spans().size(), 3u);
    EXPECT_EQ(model.spans()[0].start, kArena);
    EXPECT_EQ(model.spans()[1].start, kArena + 4 * kPage);
    EXPECT_EQ(model.spans()[2].start, kArena + 8 * kPage);
    EXPECT_EQ(model.spans()[2].end, kArena + 12 * kPage);
    EXPECT_EQ(model.spans()[2].state, SpanState::Manual);
    const SpanInfo& s = model.spans()[1];
    EXPECT_EQ(s.state, SpanState::InUse);
    EXPECT_EQ(s.sizeClass, 5);
    EXPECT_FALSE(s.noscan);
    EXPECT_EQ(s.elemSize, 48u);
    EXPECT_EQ(s.nelems, 170u);
    EXPECT_EQ(s.allocBits, kBits);
    EXPECT_EQ(s.gcmarkBits, kBits + 0x100);
    EXPECT_EQ(s.sweep, SweepState::Swept);
    EXPECT_EQ(s.mspan, kRecords);
    const auto& st = model.stats();
    EXPECT_EQ(st.allspansLen, 4u);
    EXPECT_EQ(st.recordsRead, 4u);
    EXPECT_EQ(st.inUse, 2u);
    EXPECT_EQ(st.manual, 1u);
    EXPECT_EQ(st.dead, 1u);
    EXPECT_EQ(st.overlapping, 0u);
    EXPECT_EQ(st.arenas, 1u);
    EXPECT_EQ(st.sweepgen, kHeapGen);
    EXPECT_TRUE(notes.empty()) << notes.front();
}

TEST_F(HeapModelTest, SpanForFindsTheSpanByBinarySearch) {
    add(small48(kArena + 4 * kPage, kBits));
    add(small48(kArena, kBits + 0x200));
    HeapModel model = mustLoad();
    EXPECT_EQ(model.spanFor(kArena - 1), nullptr);
    ASSERT_NE(model.spanFor(kArena), nullptr);
    EXPECT_EQ(model.spanFor(kArena)->start, kArena);
    EXPECT_EQ(model.spanFor(kArena + kPage - 1)->start, kArena);
    EXPECT_EQ(model.spanFor(kArena + kPage), nullptr);  // a gap between spans
    EXPECT_EQ(model.spanFor(kArena + 4 * kPage + 100)->start, kArena + 4 * kPage);
    EXPECT_EQ(model.spanFor(kArena + 5 * kPage), nullptr);
}

TEST_F(HeapModelTest, MheapNotCapturedGivesNoModelAndANote) {
    FakeMemory empty;
    auto model = HeapModel::build(empty, L, kMheap, notes);
    EXPECT_FALSE(model.has_value());
    EXPECT_TRUE(noted("runtime.mheap_ at 0x500000 is not captured"));
}

TEST_F(HeapModelTest, HugeAllspansLenIsCutAtTheLimitWithoutAHugeRead) {
    add(small48(kArena, kBits));
    mem.put64(kMheap + L.allspansLen, std::uint64_t{1} << 40);
    mem.put64(kMheap + L.allspansCap, std::uint64_t{1} << 40);
    mem.resetStats();
    auto model = load({.maxSpans = 100000});
    ASSERT_TRUE(model.has_value());
    EXPECT_TRUE(model->stats().truncated);
    EXPECT_TRUE(noted("only the first 100000 are read"));
    // The one real span is found; the rest of the array (past the captured page, or zero) is
    // reported, not trusted.
    EXPECT_EQ(model->stats().inUse, 1u);
    EXPECT_GT(model->stats().unreadable + model->stats().corrupt, 0u);
    EXPECT_LE(mem.largestRead(), 4096u * 8u);
}

TEST_F(HeapModelTest, LenAboveCapIsNoted) {
    add(small48(kArena, kBits));
    mem.put64(kMheap + L.allspansCap, 0);
    auto model = load();
    ASSERT_TRUE(model.has_value());
    EXPECT_TRUE(noted("len 1 > cap 0"));
    EXPECT_EQ(model->spans().size(), 1u);
}

TEST_F(HeapModelTest, UnreadableAndCorruptEntriesGiveAPartialModel) {
    add(small48(kArena, kBits));
    add(small48(kArena + kPage, kBits));
    add(small48(kArena + 2 * kPage, kBits));
    mem.put64(kAllspans + 8, kBitsNc);  // entry 1 points at memory the core does not hold
    add(small48(kArena + 3 * kPage, kBits));
    mem.put64(kAllspans + 24, 0);  // entry 3 is nil
    std::uint64_t zeroPages = add({.start = kArena + 5 * kPage, .npages = 0});
    (void)zeroPages;
    auto model = load();
    ASSERT_TRUE(model.has_value());
    EXPECT_EQ(model->spans().size(), 2u);
    EXPECT_EQ(model->stats().unreadable, 1u);
    EXPECT_EQ(model->stats().corrupt, 2u);
    EXPECT_TRUE(noted("1 of 5 allspans entries or their mspan records are not captured"));
    EXPECT_TRUE(noted("2 allspans entries do not describe a span"));
}

TEST_F(HeapModelTest, AllspansArrayPartlyCapturedLosesOnlyTheMissingEntries) {
    // The array's second half lies in a page the core did not capture.
    constexpr std::uint64_t kSplitArray = 0x800000;
    mem.addCaptured(kSplitArray, 0x1000, "allspans, captured");
    mem.addNotCaptured(kSplitArray + 0x1000, 0x1000, "allspans, not captured");
    for (int i = 0; i < 3; ++i)
        add(small48(kArena + i * kPage, kBits));
    mem.put64(kMheap + L.allspansArray, kSplitArray + 0x1000 - 16);
    mem.put64(kSplitArray + 0x1000 - 16, kRecords);
    mem.put64(kSplitArray + 0x1000 - 8, kRecords + L.spanSize);
    auto model = load();
    ASSERT_TRUE(model.has_value());
    EXPECT_EQ(model->spans().size(), 2u);
    EXPECT_EQ(model->stats().unreadable, 1u);
}

TEST_F(HeapModelTest, OverlappingLiveSpansAreNoted) {
    add(small48(kArena, kBits));
    add({.start = kArena + 4096, .npages = 1, .state = kManual});
    auto model = load();
    ASSERT_TRUE(model.has_value());
    EXPECT_EQ(model->stats().overlapping, 1u);
    EXPECT_TRUE(noted("overlap"));
}

TEST_F(HeapModelTest, UnknownStateByteIsKeptAndClassifiesUnknown) {
    add({.start = kArena, .state = 7, .elemsize = 48, .nelems = 170});
    HeapModel model = mustLoad();
    ASSERT_EQ(model.spans().size(), 1u);
    EXPECT_EQ(model.spans()[0].state, SpanState::Unknown);
    EXPECT_EQ(model.spans()[0].rawState, 7);
    EXPECT_EQ(model.classify(kArena + 10).kind, HeapAddressKind::Unknown);
    EXPECT_TRUE(noted("state byte"));
}

// --- Classification ------------------------------------------------------------------------

TEST_F(HeapModelTest, ObjectsBelowFreeindexAreAllocatedWithoutLookingAtAllocBits) {
    Span s = small48(kArena, kBitsNc);  // allocBits not captured
    s.freeindex = 3;
    add(s);
    HeapModel model = mustLoad();
    HeapAddress a = model.classify(kArena + 2 * 48 + 17);  // interior pointer into slot 2
    EXPECT_EQ(a.kind, HeapAddressKind::InUseObjectAllocated);
    EXPECT_EQ(a.objectStart, kArena + 96);
    EXPECT_EQ(a.objectSize, 48u);
    ASSERT_NE(a.span, nullptr);
    EXPECT_EQ(a.span->start, kArena);
    // Slot 3 depends on allocBits, which the core lacks.
    HeapAddress b = model.classify(kArena + 3 * 48);
    EXPECT_EQ(b.kind, HeapAddressKind::Unknown);
    EXPECT_STREQ(b.why, "the span's allocBits are not captured");
    EXPECT_EQ(b.objectStart, kArena + 3 * 48);
}

TEST_F(HeapModelTest, AboveFreeindexAllocBitsDecide) {
    Span s = small48(kArena, kBits);
    s.freeindex = 2;
    add(s);
    setBit(kBits, 9);
    setBit(kBits, 169);
    HeapModel model = mustLoad();
    EXPECT_EQ(model.classify(kArena + 9 * 48).kind, HeapAddressKind::InUseObjectAllocated);
    EXPECT_EQ(model.classify(kArena + 9 * 48 + 47).objectStart, kArena + 9 * 48);
    EXPECT_EQ(model.classify(kArena + 10 * 48).kind, HeapAddressKind::InUseObjectFree);
    EXPECT_EQ(model.classify(kArena + 8 * 48).kind, HeapAddressKind::InUseObjectFree);
    EXPECT_FALSE(model.classify(kArena + 8 * 48).garbage);
    EXPECT_EQ(model.classify(kArena + 169 * 48).kind, HeapAddressKind::InUseObjectAllocated);
    // 170 * 48 = 8160: the last 32 bytes of the page hold no object.
    EXPECT_EQ(model.classify(kArena + 170 * 48).kind, HeapAddressKind::SpanTail);
    EXPECT_EQ(model.classify(kArena + kPage - 1).kind, HeapAddressKind::SpanTail);
}

TEST_F(HeapModelTest, UnsweptSpanFreesUnmarkedObjects) {
    // mspan.sweepgen == mheap_.sweepgen - 2: the span still needs sweeping this cycle.
    Span s = small48(kArena, kBits);
    s.freeindex = 4;
    s.sweepgen = kHeapGen - 2;
    add(s);
    setBit(kBits + 0x100, 1);  // marked
    setBit(kBits, 6);          // allocated above freeindex, not marked
    setBit(kBits, 7);          // allocated above freeindex and marked
    setBit(kBits + 0x100, 7);
    HeapModel model = mustLoad();
    EXPECT_EQ(model.spans()[0].sweep, SweepState::Unswept);
    EXPECT_EQ(model.stats().unswept, 1u);
    EXPECT_EQ(model.classify(kArena + 48).kind, HeapAddressKind::InUseObjectAllocated);
    HeapAddress garbage = model.classify(kArena);  // below freeindex, unmarked
    EXPECT_EQ(garbage.kind, HeapAddressKind::InUseObjectFree);
    EXPECT_TRUE(garbage.garbage);
    EXPECT_EQ(model.classify(kArena + 6 * 48).kind, HeapAddressKind::InUseObjectFree);
    EXPECT_TRUE(model.classify(kArena + 6 * 48).garbage);
    EXPECT_EQ(model.classify(kArena + 7 * 48).kind, HeapAddressKind::InUseObjectAllocated);
    EXPECT_EQ(model.classify(kArena + 8 * 48).kind, HeapAddressKind::InUseObjectFree);
    EXPECT_FALSE(model.classify(kArena + 8 * 48).garbage);
}

TEST_F(HeapModelTest, CachedUnsweptSpanAlsoUsesMarks) {
    // sweepgen == h.sweepgen + 1: cached before the sweep began, still needs sweeping.
    Span s = small48(kArena, kBits);
    s.freeindex = 1;
    s.sweepgen = kHeapGen + 1;
    add(s);
    HeapModel model = mustLoad();
    EXPECT_EQ(model.spans()[0].sweep, SweepState::Unswept);
    EXPECT_TRUE(model.classify(kArena).garbage);
}

TEST_F(HeapModelTest, SweptAndCachedSpanIgnoresMarks) {
    Span s = small48(kArena, kBits);
    s.freeindex = 1;
    s.sweepgen = kHeapGen + 3;
    add(s);
    HeapModel model = mustLoad();
    EXPECT_EQ(model.spans()[0].sweep, SweepState::Swept);
    EXPECT_EQ(model.classify(kArena).kind, HeapAddressKind::InUseObjectAllocated);
}

TEST_F(HeapModelTest, SweepgenComparisonWraps) {
    mem.put32(kMheap + L.heapSweepgen, 1);
    Span s = small48(kArena, kBits);
    s.freeindex = 1;
    s.sweepgen = 0xffffffff;  // 1 - 2
    add(s);
    HeapModel model = mustLoad();
    EXPECT_EQ(model.spans()[0].sweep, SweepState::Unswept);
}

TEST_F(HeapModelTest, UnsweptSpanWithMarksNotCapturedIsUnknown) {
    Span s = small48(kArena, kBits);
    s.freeindex = 1;
    s.sweepgen = kHeapGen - 2;
    s.gcmarkBits = kBitsNc;
    add(s);
    HeapModel model = mustLoad();
    HeapAddress a = model.classify(kArena);
    EXPECT_EQ(a.kind, HeapAddressKind::Unknown);
    EXPECT_STREQ(a.why, "the span's mark bits are not captured");
    // A free slot stays free whatever the marks say.
    EXPECT_EQ(model.classify(kArena + 48).kind, HeapAddressKind::InUseObjectFree);
}

TEST_F(HeapModelTest, SpanBeingSweptIsUnknown) {
    Span s = small48(kArena, kBits);
    s.freeindex = 5;
    s.sweepgen = kHeapGen - 1;
    add(s);
    HeapModel model = mustLoad();
    EXPECT_EQ(model.classify(kArena).kind, HeapAddressKind::Unknown);
    EXPECT_EQ(model.stats().beingSwept, 1u);
    EXPECT_TRUE(noted("being swept"));
}

TEST_F(HeapModelTest, GreenTeaInlineMarksCountForUnsweptSmallSpans) {
    // Go 1.26: marks of a 16..512-byte span live in spanInlineMarkBits at the end of its page
    // until the sweeper merges them (runtime/mgcmark_greenteagc.go).
    L.inlineMarkBits = true;
    L.inlineMarkBitsSize = 128;
    L.inlineMarksOffset = 64;
    L.minSizeForMallocHeader = 512;
    constexpr std::uint64_t kInlineSpan = 0xc000100000;  // inside the arena
    mem.addCaptured(kInlineSpan + kPage - 128, 128, "span inline mark bits");
    Span s = small48(kInlineSpan, kBits);
    s.nelems = 167;
    s.freeindex = 3;
    s.sweepgen = kHeapGen - 2;
    add(s);
    setBit(kInlineSpan + kPage - 128 + 64, 1);  // slot 1 marked inline only
    setBit(kBits + 0x100, 2);                   // slot 2 marked out of line only
    HeapModel model = mustLoad();
    EXPECT_TRUE(model.classify(kInlineSpan).garbage);
    EXPECT_EQ(model.classify(kInlineSpan + 48).kind, HeapAddressKind::InUseObjectAllocated);
    EXPECT_EQ(model.classify(kInlineSpan + 96).kind, HeapAddressKind::InUseObjectAllocated);
    int objects = 0;
    model.forEachAllocatedObject(nullptr, [&](std::uint64_t, std::uint64_t) { return ++objects, true; });
    EXPECT_EQ(objects, 2);
}

// --- Pointer words of an object (Go 1.22+ heap bits) -------------------------------------------

class HeapBitsTest : public HeapModelTest {
  protected:
    static constexpr std::uint64_t kSpan = 0xc000200000;  // one page of 48-byte objects
    // runtime/mbitmap.go spanHeapBitsRange: one bit per word in the last 8192/64 = 128 bytes.
    static constexpr std::uint64_t kHeapBits = kSpan + kPage - kPage / 64;

    void SetUp() override {
        L.heapBitsInSpan = true;
        L.minSizeForMallocHeader = 512;
        mem.addCaptured(kSpan, kPage, "span");
    }
    void addSpan(std::uint8_t spanclass, std::uint64_t elemsize, std::uint16_t nelems) {
        Span s = small48(kSpan, kBits);
        s.spanclass = spanclass;
        s.elemsize = elemsize;
        s.nelems = nelems;
        s.freeindex = nelems;  // every slot allocated
        s.allocCount = nelems;
        add(s);
    }
};

TEST_F(HeapBitsTest, SmallObjectWordsComeFromTheSpanHeapBits) {
    addSpan(10, 48, 167);
    // Object 1 (words 6..11 of the span): pointers in its words 0 and 3.
    setBit(kHeapBits, 6 + 0);
    setBit(kHeapBits, 6 + 3);
    setBit(kHeapBits, 12);  // object 2's first word: not object 1's
    HeapModel model = mustLoad();
    auto words = model.objectPointerWords(kSpan + 48);
    ASSERT_TRUE(words.has_value());
    EXPECT_EQ(*words, (std::vector<bool>{true, false, false, true}));  // trailing words dropped
    EXPECT_FALSE(model.objectPointerWords(kSpan + 50).has_value()) << "not an object start";
}

TEST_F(HeapBitsTest, NoscanObjectsHoldNoPointers) {
    addSpan(11, 48, 167);  // spanclass 5<<1 | noscan
    setBit(kHeapBits, 6);  // stale bits are not read for a noscan span
    HeapModel model = mustLoad();
    auto words = model.objectPointerWords(kSpan + 48);
    ASSERT_TRUE(words.has_value());
    EXPECT_TRUE(words->empty());
}

TEST_F(HeapBitsTest, GreenTeaInlineMarksSitAboveTheHeapBits) {
    L.inlineMarkBits = true;
    L.inlineMarkBitsSize = 128;
    L.inlineMarksOffset = 64;
    addSpan(10, 48, 164);
    const std::uint64_t bits = kHeapBits - 128;  // below spanInlineMarkBits
    setBit(bits, 6 + 1);
    HeapModel model = mustLoad();
    EXPECT_EQ(model.objectPointerWords(kSpan + 48), (std::optional<std::vector<bool>>{{false, true}}));
}

TEST_F(HeapBitsTest, LargerObjectsHaveAMallocHeaderInstead) {
    addSpan(40, 576, 14);  // above minSizeForMallocHeader
    HeapModel model = mustLoad();
    EXPECT_FALSE(model.objectPointerWords(kSpan).has_value());
}

// runtime/malloc.go (Go 1.22+): mallocgc hands out a larger scannable small object 8 bytes
// into its slot, behind the *_type it was asked for; a large object's type is mspan.largeType.
TEST_F(HeapBitsTest, AMallocHeaderPrecedesTheDataAndNamesTheType) {
    L.mallocHeaderSize = 8;
    L.largeType = gmtest::fieldSlot(112, 8);
    addSpan(40, 576, 14);
    mem.put64(kSpan + 576, 0x4a6d60);  // object 1's header
    HeapModel model = mustLoad();
    auto object = model.objectWithDataAt(kSpan + 576 + 8);
    ASSERT_TRUE(object.has_value());
    EXPECT_EQ(object->start, kSpan + 576);
    EXPECT_EQ(object->size, 576u);
    EXPECT_TRUE(object->mallocHeader());
    EXPECT_EQ(object->dataSize(), 568u);
    EXPECT_EQ(model.recordedType(*object), std::optional<std::uint64_t>(0x4a6d60));
    EXPECT_EQ(model.allocationSize(kSpan + 576 + 8), std::optional<std::uint64_t>(576));
    // The slot's start is the header: mallocgc never returns it.
    EXPECT_FALSE(model.objectWithDataAt(kSpan + 576).has_value());
    EXPECT_FALSE(model.allocationSize(kSpan + 576).has_value());
    auto containing = model.objectContaining(kSpan + 576 + 100);
    ASSERT_TRUE(containing.has_value());
    EXPECT_EQ(containing->data, kSpan + 576 + 8);
}

TEST_F(HeapBitsTest, NoscanAndHeapBitObjectsHaveNoHeaderAndRecordNoType) {
    L.mallocHeaderSize = 8;
    addSpan(41, 576, 14);  // noscan: no header whatever the size
    HeapModel model = mustLoad();
    auto object = model.objectWithDataAt(kSpan + 576);
    ASSERT_TRUE(object.has_value());
    EXPECT_FALSE(object->mallocHeader());
    EXPECT_FALSE(model.recordedType(*object).has_value());
}

TEST_F(HeapBitsTest, ALargeObjectsTypeIsItsSpansLargeType) {
    L.mallocHeaderSize = 8;
    L.largeType = gmtest::fieldSlot(112, 8);
    Span large{.start = kSpan,
               .npages = 1,
               .spanclass = 0,
               .elemsize = kPage,
               .nelems = 1,
               .freeindex = 1,
               .allocCount = 1,
               .allocBits = kBits,
               .gcmarkBits = kBits + 0x100,
               .largeType = 0x4b2c40};
    add(large);
    HeapModel model = mustLoad();
    auto object = model.objectWithDataAt(kSpan);
    ASSERT_TRUE(object.has_value());
    EXPECT_FALSE(object->mallocHeader());
    EXPECT_EQ(model.recordedType(*object), std::optional<std::uint64_t>(0x4b2c40));
}

TEST_F(HeapBitsTest, BeforeGo122NothingIsRead) {
    L.heapBitsInSpan = false;
    addSpan(10, 48, 167);
    HeapModel model = mustLoad();
    EXPECT_FALSE(model.objectPointerWords(kSpan + 48).has_value());
}

TEST_F(HeapBitsTest, HeapBitsNotCapturedSayNothing) {
    Span s = small48(0xc000300000, kBits);  // a span whose page the core does not hold
    s.freeindex = s.nelems;
    s.allocCount = s.nelems;
    add(s);
    HeapModel model = mustLoad();
    EXPECT_EQ(model.classify(0xc000300000 + 48).kind, HeapAddressKind::InUseObjectAllocated);
    EXPECT_FALSE(model.objectPointerWords(0xc000300000 + 48).has_value());
}

TEST_F(HeapModelTest, GreenTeaInlineMarksNotCapturedIsUnknown) {
    L.inlineMarkBits = true;
    L.inlineMarkBitsSize = 128;
    L.inlineMarksOffset = 64;
    L.minSizeForMallocHeader = 512;
    Span s = small48(kArena, kBits);  // its page is not in the fake memory
    s.freeindex = 1;
    s.sweepgen = kHeapGen - 2;
    add(s);
    HeapModel model = mustLoad();
    EXPECT_EQ(model.classify(kArena).kind, HeapAddressKind::Unknown);
    setBit(kBits + 0x100, 0);  // marked out of line: marked, whatever the inline bits say
    EXPECT_EQ(model.classify(kArena).kind, HeapAddressKind::InUseObjectAllocated);
}

TEST_F(HeapModelTest, LargeObjectSpanIsOneObject) {
    // runtime/malloc.go large allocations: spanclass 0, nelems 1, freeindex 1, allocCount 1.
    add({.start = kArena + 16 * kPage,
         .npages = 5,
         .elemsize = 5 * kPage,
         .nelems = 1,
         .freeindex = 1,
         .allocCount = 1,
         .allocBits = kBitsNc});
    HeapModel model = mustLoad();
    HeapAddress a = model.classify(kArena + 20 * kPage + 5);
    EXPECT_EQ(a.kind, HeapAddressKind::InUseObjectAllocated);
    EXPECT_EQ(a.objectStart, kArena + 16 * kPage);
    EXPECT_EQ(a.objectSize, 5 * kPage);
    EXPECT_EQ(a.span->sizeClass, 0);
}

TEST_F(HeapModelTest, StacksFreePagesAndOtherMemory) {
    add({.start = kArena + 8 * kPage, .npages = 4, .state = kManual});
    add({.start = kArena + 2 * kPage, .npages = 2, .state = kDead});
    HeapModel model = mustLoad();
    EXPECT_EQ(model.classify(kArena + 9 * kPage).kind, HeapAddressKind::StackSpan);
    EXPECT_EQ(model.classify(kArena + 2 * kPage).kind, HeapAddressKind::FreeSpan);  // dead span
    EXPECT_EQ(model.classify(kArena + kArenaBytes - 1).kind, HeapAddressKind::FreeSpan);
    EXPECT_EQ(model.classify(kArena + kArenaBytes).kind, HeapAddressKind::NotHeap);
    EXPECT_EQ(model.classify(kMheap).kind, HeapAddressKind::NotHeap);
    EXPECT_EQ(model.classify(0).kind, HeapAddressKind::NotHeap);
    EXPECT_TRUE(model.inArena(kArena));
}

TEST_F(HeapModelTest, WithoutArenasFreePagesAreNotHeap) {
    L.hasArenas = false;
    add(small48(kArena, kBits));
    HeapModel model = mustLoad();
    EXPECT_EQ(model.classify(kArena + 4 * kPage).kind, HeapAddressKind::NotHeap);
}

TEST_F(HeapModelTest, ImplausibleObjectGeometryIsUnknown) {
    add({.start = kArena, .elemsize = 48, .nelems = 1000});  // 48000 bytes in an 8 KiB span
    add({.start = kArena + kPage, .elemsize = 0, .nelems = 10});
    HeapModel model = mustLoad();
    EXPECT_EQ(model.classify(kArena).kind, HeapAddressKind::Unknown);
    EXPECT_EQ(model.classify(kArena + kPage).kind, HeapAddressKind::Unknown);
    int objects = 0;
    model.forEachAllocatedObject(nullptr, [&](std::uint64_t, std::uint64_t) { return ++objects, true; });
    EXPECT_EQ(objects, 0);
}

// --- Iteration -------------------------------------------------------------------------------

TEST_F(HeapModelTest, ForEachAllocatedObjectVisitsExactlyTheAllocatedSlots) {
    Span a = small48(kArena, kBits);
    a.freeindex = 2;
    add(a);
    setBit(kBits, 5);
    setBit(kBits, 169);
    add({.start = kArena + kPage,
         .spanclass = 2 * 2 + 1,  // size class 2, noscan
         .elemsize = 16,
         .nelems = 512,
         .freeindex = 1,
         .allocBits = kBits + 0x400});
    setBit(kBits + 0x400, 511);
    add({.start = kArena + 2 * kPage, .npages = 1, .state = kManual});
    HeapModel model = mustLoad();
    std::vector<std::pair<std::uint64_t, std::uint64_t>> seen;
    auto walk = model.forEachAllocatedObject(nullptr, [&](std::uint64_t start, std::uint64_t size) {
        seen.emplace_back(start, size);
        return true;
    });
    std::vector<std::pair<std::uint64_t, std::uint64_t>> want = {
        {kArena, 48},          {kArena + 48, 48},
        {kArena + 5 * 48, 48}, {kArena + 169 * 48, 48},
        {kArena + kPage, 16},  {kArena + kPage + 511 * 16, 16},
    };
    EXPECT_EQ(seen, want);
    EXPECT_EQ(walk.objects, 6u);
    EXPECT_EQ(walk.spans, 2u);
    EXPECT_EQ(walk.unknownSlots, 0u);
    EXPECT_FALSE(walk.stopped);

    seen.clear();
    model.forEachAllocatedObject(16, [&](std::uint64_t start, std::uint64_t size) {
        seen.emplace_back(start, size);
        return true;
    });
    EXPECT_EQ(seen.size(), 2u);
    // Every object it reports classifies as allocated, at its own start.
    for (const auto& [start, size] : seen) {
        HeapAddress h = model.classify(start + size - 1);
        EXPECT_EQ(h.kind, HeapAddressKind::InUseObjectAllocated);
        EXPECT_EQ(h.objectStart, start);
    }
}

TEST_F(HeapModelTest, ForEachAllocatedObjectStopsWhenAskedAndAtTheBound) {
    Span s = small48(kArena, kBits);
    s.freeindex = 100;
    add(s);
    HeapModel model = mustLoad();
    int calls = 0;
    auto walk =
        model.forEachAllocatedObject(nullptr, [&](std::uint64_t, std::uint64_t) { return ++calls < 3; });
    EXPECT_EQ(calls, 3);
    EXPECT_TRUE(walk.stopped);
    calls = 0;
    walk = model.forEachAllocatedObject(
        nullptr, [&](std::uint64_t, std::uint64_t) { return ++calls, true; }, 10);
    EXPECT_EQ(calls, 10);
    EXPECT_EQ(walk.objects, 10u);
    EXPECT_TRUE(walk.stopped);
}

TEST_F(HeapModelTest, ForEachAllocatedObjectCountsSlotsItCannotDecide) {
    Span s = small48(kArena, kBitsNc);
    s.freeindex = 10;
    add(s);
    HeapModel model = mustLoad();
    int calls = 0;
    auto walk =
        model.forEachAllocatedObject(nullptr, [&](std::uint64_t, std::uint64_t) { return ++calls, true; });
    EXPECT_EQ(calls, 10);                // below freeindex: known without the bits
    EXPECT_EQ(walk.unknownSlots, 160u);  // the rest need allocBits
}

// --- Scale -----------------------------------------------------------------------------------

TEST_F(HeapModelTest, TwoHundredThousandSpansLoadAndLookUpQuickly) {
    // Synthesized mspan records and allspans: span i starts at kBig + i pages, one 48-byte object
    // allocated (freeindex 1); allspans lists them in reverse order to make the sort work.
    constexpr std::uint64_t kN = 200000;
    constexpr std::uint64_t kBigRecords = 0x10000000;
    constexpr std::uint64_t kBigArray = 0x20000000;
    constexpr std::uint64_t kBig = 0xc100000000;
    // One record image; only startAddr differs between spans.
    std::vector<std::uint8_t> image(L.spanSize);
    auto put = [&](const FieldSlot& f, std::uint64_t v) {
        for (std::uint64_t k = 0; k < f.size; ++k)
            image[f.offset + k] = static_cast<std::uint8_t>(v >> (8 * k));
    };
    put(L.npages, 1);
    put(L.state, kInUse);
    put(L.spanclass, 10);
    put(L.elemsize, 48);
    put(L.nelems, 170);
    put(L.freeindex, 1);
    put(L.sweepgen, kHeapGen);
    put(L.allocBits, kBits);
    const FieldSlot startAddr = L.startAddr;
    const std::uint64_t spanSize = L.spanSize;
    mem.addSynthesized(kBigRecords, kN * spanSize, [=](std::uint64_t at, std::span<std::byte> out) {
        for (std::size_t k = 0; k < out.size(); ++k) {
            std::uint64_t i = (at + k - kBigRecords) / spanSize, off = (at + k - kBigRecords) % spanSize;
            std::uint8_t b = image[off];
            if (off >= startAddr.offset && off < startAddr.offset + 8)
                b = static_cast<std::uint8_t>((kBig + i * kPage) >> (8 * (off - startAddr.offset)));
            out[k] = std::byte{b};
        }
    });
    mem.addSynthesized(kBigArray, kN * 8, [=](std::uint64_t at, std::span<std::byte> out) {
        for (std::size_t k = 0; k < out.size(); ++k) {
            std::uint64_t a = at + k;
            std::uint64_t record = kBigRecords + (kN - 1 - (a - kBigArray) / 8) * spanSize;
            out[k] = std::byte{static_cast<std::uint8_t>(record >> (8 * ((a - kBigArray) % 8)))};
        }
    });
    mem.put64(kMheap + L.allspansArray, kBigArray);
    mem.put64(kMheap + L.allspansLen, kN);
    mem.put64(kMheap + L.allspansCap, kN);
    auto started = std::chrono::steady_clock::now();
    HeapModel model = mustLoad();
    ASSERT_EQ(model.spans().size(), kN);
    for (std::uint64_t i = 0; i < kN; i += 7) {
        HeapAddress a = model.classify(kBig + i * kPage + 20);
        ASSERT_EQ(a.kind, HeapAddressKind::InUseObjectAllocated) << i;
        ASSERT_EQ(a.objectStart, kBig + i * kPage);
    }
    auto elapsed = std::chrono::steady_clock::now() - started;
    EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count(), 20);
}

}  // namespace
