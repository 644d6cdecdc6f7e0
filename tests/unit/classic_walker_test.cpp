// Unit tests of walkClassicMap over hand-built hmaps and buckets in a fake address space:
// one test per rule, one per legitimate runtime oddity (GO-MAPS.md sections 2 and 6.1), and
// the bounds that keep a walk of garbage finite.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "walker_fixture.h"

namespace {

using namespace gmtest::walker;

struct Header {
    std::int64_t count = 0;
    std::uint8_t flags = 0;
    std::uint8_t B = 0;
    std::uint16_t noverflow = 0;
    std::uint32_t hash0 = 0x5eed;
    std::uint64_t buckets = 0;
    std::uint64_t oldbuckets = 0;
    std::uint64_t nevacuate = 0;
    std::uint64_t extra = 0;
};

// hmap.flags bits and tophash values (runtime/map.go).
constexpr std::uint8_t kIterator = 1, kOldIterator = 2, kHashWriting = 4, kSameSizeGrow = 8;
constexpr std::uint8_t kEvacuatedX = 2, kEvacuatedY = 3, kEvacuatedEmpty = 4;

// A bucket evacuate() has finished with, all of whose cells were empty.
constexpr std::array<std::uint8_t, 8> kAllEvacuatedEmpty = {kEvacuatedEmpty, kEvacuatedEmpty, kEvacuatedEmpty,
                                                            kEvacuatedEmpty, kEvacuatedEmpty, kEvacuatedEmpty,
                                                            kEvacuatedEmpty, kEvacuatedEmpty};

// map[int64]int64 (144-byte buckets) unless a test names another layout.
class ClassicWalkerTest
    : public gmtest::walker::WalkerFixture<gomapcore::walkClassicMap, &LayoutFactory::classicInt64Int64> {
  protected:
    void writeHeader(const MapTypeLayout& l, std::uint64_t at, const Header& h) {
        const gomapcore::ClassicLayout& c = l.classic;
        mem.putLittleEndian(at + c.count.offset, static_cast<std::uint64_t>(h.count), c.count.size);
        mem.putLittleEndian(at + c.flags.offset, h.flags, c.flags.size);
        mem.putLittleEndian(at + c.B.offset, h.B, c.B.size);
        mem.putLittleEndian(at + c.noverflow.offset, h.noverflow, c.noverflow.size);
        mem.putLittleEndian(at + c.hash0.offset, h.hash0, c.hash0.size);
        mem.putLittleEndian(at + c.buckets.offset, h.buckets, c.buckets.size);
        mem.putLittleEndian(at + c.oldbuckets.offset, h.oldbuckets, c.oldbuckets.size);
        mem.putLittleEndian(at + c.nevacuate.offset, h.nevacuate, c.nevacuate.size);
        mem.putLittleEndian(at + c.extra.offset, h.extra, c.extra.size);
    }
    void writeHeader(const Header& h) { writeHeader(L, kHeader, h); }

    static std::uint64_t bucket(const MapTypeLayout& l, std::uint64_t array, std::uint64_t i) {
        return array + i * l.classic.bucketSize;
    }
    std::uint64_t bucket(std::uint64_t array, std::uint64_t i) const { return bucket(L, array, i); }

    void top(const MapTypeLayout& l, std::uint64_t b, unsigned i, std::uint8_t value) {
        mem.put8(b + l.classic.tophash.offset + i, value);
    }
    void tops(const MapTypeLayout& l, std::uint64_t b, const std::array<std::uint8_t, 8>& values) {
        for (unsigned i = 0; i < 8; ++i)
            top(l, b, i, values[i]);
    }
    void tops(std::uint64_t b, const std::array<std::uint8_t, 8>& values) { tops(L, b, values); }
    // A full cell: tophash, key and elem (the slot contents, so a pointer for indirect slots).
    void entry(const MapTypeLayout& l, std::uint64_t b, unsigned i, std::uint8_t tophash, std::uint64_t key,
               std::uint64_t elem) {
        top(l, b, i, tophash);
        putKeyElem(l, b, i, key, elem);
    }
    void entry(std::uint64_t b, unsigned i, std::uint8_t tophash, std::uint64_t key, std::uint64_t elem) {
        entry(L, b, i, tophash, key, elem);
    }
    // n full cells from slot 0, keys keyBase.., elems keyBase*10.., tophash 0x80 + i.
    void fill(const MapTypeLayout& l, std::uint64_t b, unsigned n, std::uint64_t keyBase = 1) {
        for (unsigned i = 0; i < n; ++i)
            entry(l, b, i, static_cast<std::uint8_t>(0x80 + i), keyBase + i, (keyBase + i) * 10);
    }
    void fill(std::uint64_t b, unsigned n, std::uint64_t keyBase = 1) { fill(L, b, n, keyBase); }
    void overflow(const MapTypeLayout& l, std::uint64_t b, std::uint64_t next) {
        mem.put64(b + l.classic.overflow.offset, next);
    }
    void overflow(std::uint64_t b, std::uint64_t next) { overflow(L, b, next); }
};

// --- Healthy maps ---------------------------------------------------------------------------

TEST_F(ClassicWalkerTest, HealthySingleBucketMapHasNoFindings) {
    writeHeader({.count = 3, .B = 0, .buckets = kHeap});
    entry(kHeap, 0, 0x9a, 1, 10);
    entry(kHeap, 1, 0x10, 2, 20);
    entry(kHeap, 2, 0xff, 3, 30);
    MapResult r = walk();
    expectHealthy(r, 3u);
    EXPECT_TRUE(r.headerReadable);
    EXPECT_EQ(r.count, 3);
    EXPECT_TRUE(r.limitsHit.empty());
    ASSERT_EQ(r.root.children.size(), 1u);
    const MapNode& b0 = r.root.children[0];
    EXPECT_EQ(b0.kind, NodeKind::Bucket);
    EXPECT_EQ(b0.address, kHeap);
    EXPECT_EQ(b0.index, 0);
    EXPECT_EQ(b0.liveEntries, 3u);
    EXPECT_EQ(b0.control, (std::vector<std::uint8_t>{0x9a, 0x10, 0xff, 0, 0, 0, 0, 0}));
}

TEST_F(ClassicWalkerTest, HealthyMapWithOverflowChainHasNoFindings) {
    const std::uint64_t ov = kHeap + 0x8000;
    writeHeader({.count = 11, .B = 1, .noverflow = 1, .buckets = kHeap});
    fill(bucket(kHeap, 0), 8, 100);
    overflow(bucket(kHeap, 0), ov);
    fill(ov, 2, 200);
    fill(bucket(kHeap, 1), 1, 300);
    WalkLimits limits;
    limits.collectSlots = true;
    MapResult r = walk(limits);
    expectHealthy(r, 11u);
    ASSERT_EQ(r.root.children.size(), 3u);
    EXPECT_EQ(r.root.children[0].kind, NodeKind::Bucket);
    EXPECT_EQ(r.root.children[1].kind, NodeKind::OverflowBucket);
    EXPECT_EQ(r.root.children[1].address, ov);
    EXPECT_EQ(r.root.children[1].index, 1);  // first link of the chain
    EXPECT_EQ(r.root.children[2].kind, NodeKind::Bucket);
    EXPECT_EQ(r.root.children[2].address, bucket(kHeap, 1));
    // Slots are collected with the addresses of their key and elem.
    ASSERT_EQ(r.root.children[1].slots.size(), 2u);
    EXPECT_EQ(r.root.children[1].slots[1].keyAddress, ov + 8 + 8);
    EXPECT_EQ(r.root.children[1].slots[1].elemAddress, ov + 72 + 8);
}

// --- header-implausible ---------------------------------------------------------------------

TEST_F(ClassicWalkerTest, NegativeCountIsHeaderImplausible) {
    writeHeader({.count = -1, .B = 0, .buckets = kHeap});
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_TRUE(r.headerReadable);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.liveEntries, 0u);
    EXPECT_TRUE(r.root.children.empty());
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, UnknownFlagBitsAreHeaderImplausible) {
    writeHeader({.count = 0, .flags = 0x10});
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_EQ(r.liveEntries, 0u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, SameSizeGrowWithoutOldbucketsIsHeaderImplausible) {
    writeHeader({.count = 1, .flags = kSameSizeGrow, .B = 0, .buckets = kHeap});
    fill(kHeap, 1);
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_EQ(r.liveEntries, 1u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, NilBucketsWithPositiveCountIsHeaderImplausible) {
    writeHeader({.count = 2, .B = 0, .buckets = 0});
    MapResult r = walk();
    // The structural finding suppresses a count comparison against the (absent) buckets.
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_EQ(r.liveEntries, 0u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, MisalignedBucketsPointerIsHeaderImplausible) {
    writeHeader({.count = 1, .B = 0, .buckets = kHeap + 4});
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeap + 4}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.liveEntries, 0u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, NevacuateBeyondTheOldBucketsIsHeaderImplausible) {
    const std::uint64_t old = kHeap + 0x10000;
    writeHeader({.count = 0, .B = 1, .buckets = kHeap, .oldbuckets = old, .nevacuate = 2});
    tops(old, kAllEvacuatedEmpty);
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_EQ(r.liveEntries, 0u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, NoverflowFarBeyondTheBucketsIsHeaderImplausible) {
    writeHeader({.count = 1, .B = 0, .noverflow = 5000, .buckets = kHeap});  // > 2^0 * maxChainLength
    fill(kHeap, 1);
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_EQ(r.liveEntries, 1u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, BucketShift63ReturnsAtOnceWithoutTouchingBuckets) {
    writeHeader({.count = 1, .B = 63, .buckets = kHeap});
    mem.resetStats();
    auto start = std::chrono::steady_clock::now();
    MapResult r = walk();
    auto elapsed = std::chrono::steady_clock::now() - start;
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.liveEntries, 0u);
    EXPECT_TRUE(r.root.children.empty());
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
    EXPECT_EQ(mem.readCount(), 1u);     // the header only
    EXPECT_EQ(mem.largestRead(), 48u);  // nothing sized by 2^B
    EXPECT_LT(elapsed, std::chrono::seconds(1));
}

TEST_F(ClassicWalkerTest, LargestPlausibleBucketShiftIsCheckedWithoutWalking) {
    // 2^39 buckets of 144 bytes still fit a 47-bit address space, but not this mapping.
    writeHeader({.count = 1, .B = 39, .buckets = kHeap});
    mem.resetStats();
    MapResult r = walk();
    expectFindings(r, {{rules::kBucketsUnmapped, Severity::Error, kHeap}});
    EXPECT_EQ(mem.largestRead(), 48u);
    EXPECT_LE(mem.readCount(), 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// Regression: with B = 0 (and no sameSizeGrow) there are 0 old buckets; the 0-byte array check
// used to wrap (last = pointer - 1) and call a mapped oldbuckets oldbuckets-unmapped too.
TEST_F(ClassicWalkerTest, OldbucketsWithBZeroIsOnlyHeaderImplausible) {
    const std::uint64_t old = kHeap + 0x10000;  // mapped and captured
    writeHeader({.count = 0, .B = 0, .buckets = kHeap, .oldbuckets = old});
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// --- header-unmapped --------------------------------------------------------------------------

TEST_F(ClassicWalkerTest, HeaderInNoMappingIsHeaderUnmapped) {
    MapResult r = walk(L, kUnmapped);
    expectFindings(r, {{rules::kHeaderUnmapped, Severity::Error, kUnmapped}});
    EXPECT_FALSE(r.headerReadable);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.root.state, AddressState::Unmapped);
    EXPECT_EQ(r.liveEntries, 0u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, HeaderRunningOffItsMappingIsHeaderUnmapped) {
    const std::uint64_t at = kHeader + 0x1000 - 16;  // 16 bytes captured, then nothing
    MapResult r = walk(L, at);
    expectFindings(r, {{rules::kHeaderUnmapped, Severity::Error, at}});
    EXPECT_FALSE(r.headerReadable);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, HeaderNotCapturedIsAWarningAndIncomplete) {
    MapResult r = walk(L, kNotCaptured + 0x40);
    expectFindings(r, {{rules::kPointerNotCaptured, Severity::Warning, kNotCaptured + 0x40}});
    EXPECT_FALSE(r.headerReadable);
    EXPECT_EQ(r.root.state, AddressState::NotCaptured);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
}

// --- buckets-unmapped / oldbuckets-unmapped ---------------------------------------------------

TEST_F(ClassicWalkerTest, BucketsInNoMappingAreBucketsUnmapped) {
    writeHeader({.count = 1, .B = 0, .buckets = kUnmapped});
    MapResult r = walk();
    expectFindings(r, {{rules::kBucketsUnmapped, Severity::Error, kUnmapped}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.liveEntries, 0u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, BucketArrayRunningIntoUnmappedMemoryIsBucketsUnmapped) {
    const std::uint64_t buckets = kHeap + kHeapSize - 2 * 144;  // 2 of the 4 buckets mapped
    writeHeader({.count = 0, .B = 2, .buckets = buckets});
    MapResult r = walk();
    expectFindings(r, {{rules::kBucketsUnmapped, Severity::Error, buckets}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, OldbucketsInNoMappingAreOldbucketsUnmapped) {
    writeHeader({.count = 0, .B = 1, .buckets = kHeap, .oldbuckets = kUnmapped});
    MapResult r = walk();
    expectFindings(r, {{rules::kOldbucketsUnmapped, Severity::Error, kUnmapped}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.liveEntries, 0u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// Regression: the array check sees only the array's first and last byte; a main bucket in an
// unmapped hole between them used to be called pointer-not-captured instead of buckets-unmapped.
TEST_F(ClassicWalkerTest, BucketInAnUnmappedHoleOfTheArrayIsBucketsUnmapped) {
    const std::uint64_t array = arrayWithHole(144, 1, 2);  // bucket 1 of 4 in no mapping
    writeHeader({.count = 0, .B = 2, .buckets = array});
    MapResult r = walk();
    expectFindings(r, {{rules::kBucketsUnmapped, Severity::Error, array + 144}});
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, OldBucketInAnUnmappedHoleOfTheArrayIsOldbucketsUnmapped) {
    const std::uint64_t old = arrayWithHole(144, 1, 2);  // old bucket 1 of 4 in no mapping
    writeHeader({.count = 0, .B = 3, .buckets = kHeap, .oldbuckets = old, .nevacuate = 0});
    for (unsigned j : {0u, 2u, 3u})
        tops(bucket(old, j), kAllEvacuatedEmpty);
    MapResult r = walk();
    expectFindings(r, {{rules::kOldbucketsUnmapped, Severity::Error, old + 144}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// --- pointer-not-captured ---------------------------------------------------------------------

TEST_F(ClassicWalkerTest, BucketsNotCapturedAreAWarningAndIncomplete) {
    writeHeader({.count = 2, .B = 0, .buckets = kNotCaptured});
    MapResult r = walk();
    expectFindings(r, {{rules::kPointerNotCaptured, Severity::Warning, kNotCaptured}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.liveEntries, 0u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
}

TEST_F(ClassicWalkerTest, OverflowBucketNotCapturedIsAWarningAndIncomplete) {
    const std::uint64_t ov = kNotCaptured + 0x100;
    writeHeader({.count = 10, .B = 0, .noverflow = 1, .buckets = kHeap});
    fill(kHeap, 8);
    overflow(kHeap, ov);
    MapResult r = walk();
    expectFindings(r, {{rules::kPointerNotCaptured, Severity::Warning, ov}});
    const MapNode* node = findNode(r.root, NodeKind::OverflowBucket, ov);
    ASSERT_NE(node, nullptr);
    EXPECT_EQ(node->state, AddressState::NotCaptured);
    EXPECT_EQ(node->findings.size(), 1u);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.liveEntries, 8u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);  // no count-mismatch on an incomplete walk
}

// --- overflow-chain-corrupt -------------------------------------------------------------------

TEST_F(ClassicWalkerTest, OverflowPointerIntoNoMappingIsOverflowChainCorrupt) {
    writeHeader({.count = 9, .B = 0, .noverflow = 1, .buckets = kHeap});
    fill(kHeap, 8);
    overflow(kHeap, kUnmapped);
    MapResult r = walk();
    expectFindings(r, {{rules::kOverflowChainCorrupt, Severity::Error, kUnmapped}});
    EXPECT_EQ(r.root.children.at(0).findings.size(), 1u);  // on the bucket holding the pointer
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.liveEntries, 8u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, MisalignedOverflowPointerIsOverflowChainCorrupt) {
    const std::uint64_t bad = kHeap + 0x8003;
    writeHeader({.count = 8, .B = 0, .noverflow = 1, .buckets = kHeap});
    fill(kHeap, 8);
    overflow(kHeap, bad);
    MapResult r = walk();
    expectFindings(r, {{rules::kOverflowChainCorrupt, Severity::Error, bad}});
    EXPECT_EQ(r.root.children.size(), 1u);  // not followed
    EXPECT_FALSE(r.complete);               // so whatever the chain held beyond it was not seen
    EXPECT_EQ(r.liveEntries, 8u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, OverflowCycleIsOverflowChainCorrupt) {
    const std::uint64_t o1 = kHeap + 0x8000, o2 = kHeap + 0x9000;
    writeHeader({.count = 24, .B = 0, .noverflow = 2, .buckets = kHeap});
    fill(kHeap, 8, 1);  // a chain only grows behind full buckets
    overflow(kHeap, o1);
    fill(o1, 8, 100);
    overflow(o1, o2);
    fill(o2, 8, 200);
    overflow(o2, o1);  // back to o1
    MapResult r = walk();
    expectFindings(r, {{rules::kOverflowChainCorrupt, Severity::Error, o1}});
    const MapNode* last = findNode(r.root, NodeKind::OverflowBucket, o2);
    ASSERT_NE(last, nullptr);
    EXPECT_EQ(last->findings.size(), 1u);
    EXPECT_EQ(r.root.children.size(), 3u);
    EXPECT_FALSE(r.complete);  // where the chain really went after o2 is unknown
    EXPECT_EQ(r.liveEntries, 24u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, OverflowPointerIntoTheMainBucketArrayIsOverflowChainCorrupt) {
    writeHeader({.count = 9, .B = 1, .noverflow = 1, .buckets = kHeap});
    fill(bucket(kHeap, 0), 8, 1);
    overflow(bucket(kHeap, 0), bucket(kHeap, 1));
    fill(bucket(kHeap, 1), 1, 100);
    MapResult r = walk();
    expectFindings(r, {{rules::kOverflowChainCorrupt, Severity::Error, bucket(kHeap, 1)}});
    // Bucket 1 is still walked once, as a main bucket.
    ASSERT_EQ(r.root.children.size(), 2u);
    EXPECT_EQ(r.root.children[1].kind, NodeKind::Bucket);
    EXPECT_EQ(r.liveEntries, 9u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// Regression: an overflow bucket that starts in a mapping but runs past its end used to fail its
// read with no finding at all (the corrupt pointer unreported, the map merely "incomplete").
TEST_F(ClassicWalkerTest, OverflowBucketRunningOffItsMappingIsOverflowChainCorrupt) {
    const std::uint64_t ov = kHeap + kHeapSize - 64;  // 64 of its 144 bytes mapped
    writeHeader({.count = 8, .B = 0, .noverflow = 1, .buckets = kHeap});
    fill(kHeap, 8);
    overflow(kHeap, ov);
    MapResult r = walk();
    expectFindings(r, {{rules::kOverflowChainCorrupt, Severity::Error, ov}});
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, ExtraInNoMappingIsOverflowChainCorrupt) {
    writeHeader({.count = 1, .B = 0, .buckets = kHeap, .extra = kUnmapped});
    fill(kHeap, 1);
    MapResult r = walk();
    expectFindings(r, {{rules::kOverflowChainCorrupt, Severity::Error, kUnmapped}});
    const MapNode* extra = findNode(r.root, NodeKind::Extra, kUnmapped);
    ASSERT_NE(extra, nullptr);
    EXPECT_EQ(extra->state, AddressState::Unmapped);
    EXPECT_EQ(r.liveEntries, 1u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, ExtraNextOverflowInNoMappingIsOverflowChainCorrupt) {
    const std::uint64_t extra = kHeap + 0x30000;
    writeHeader({.count = 1, .B = 0, .buckets = kHeap, .extra = extra});
    fill(kHeap, 1);
    mem.put64(extra + L.classic.extraNextOverflow.offset, kUnmapped + 0x90);
    MapResult r = walk();
    expectFindings(r, {{rules::kOverflowChainCorrupt, Severity::Error, kUnmapped + 0x90}});
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// extra.overflow and extra.oldoverflow point to []*bmap slice headers (runtime/map.go mapextra):
// data, len, cap.
void putSlice(FakeMemory& mem, std::uint64_t at, std::uint64_t data, std::uint64_t length,
              std::uint64_t capacity) {
    mem.put64(at, data);
    mem.put64(at + 8, length);
    mem.put64(at + 16, capacity);
}

// Analysis::inspect's walk (it keeps slots, and lists what extra holds), of a healthy map with
// entries live entries; the overflow list at slice, which must be there.
const MapNode* inspectedOverflowList(const MapResult& r, std::uint64_t entries, std::uint64_t slice) {
    expectHealthy(r, entries);
    const MapNode* list = findNode(r.root, NodeKind::OverflowList, slice);
    EXPECT_NE(list, nullptr);
    return list;
}

WalkLimits inspecting() {
    WalkLimits limits;
    limits.collectSlots = true;
    return limits;
}

TEST_F(ClassicWalkerTest, InspectingListsWhatExtraHolds) {
    const std::uint64_t extra = kHeap + 0x30000, slice = kHeap + 0x31000, array = kHeap + 0x32000;
    const std::uint64_t ov = kHeap + 0x8000;
    writeHeader({.count = 9, .B = 0, .noverflow = 1, .buckets = kHeap, .extra = extra});
    fill(kHeap, 8);
    overflow(kHeap, ov);
    fill(ov, 1, 100);
    mem.put64(extra + L.classic.extraOverflow.offset, slice);
    putSlice(mem, slice, array, 1, 4);
    mem.put64(array, ov);
    // A report's walk does not read the lists.
    MapResult report = walk();
    const MapNode* plainExtra = findNode(report.root, NodeKind::Extra, extra);
    ASSERT_NE(plainExtra, nullptr);
    EXPECT_TRUE(plainExtra->children.empty());

    MapResult r = walk(inspecting());
    const MapNode* list = inspectedOverflowList(r, 9u, slice);
    ASSERT_NE(list, nullptr);
    EXPECT_EQ(list->state, AddressState::Captured);
    ASSERT_EQ(list->children.size(), 1u);
    EXPECT_EQ(list->children[0].kind, NodeKind::ListedOverflowBucket);
    EXPECT_EQ(list->children[0].address, ov);
    EXPECT_EQ(list->children[0].index, 0);
    EXPECT_EQ(list->children[0].state, AddressState::Captured);
    EXPECT_EQ(findNode(r.root, NodeKind::OldOverflowList, 0), nullptr);
}

TEST_F(ClassicWalkerTest, ExtraListsStopWhereTheirMemoryIsMissing) {
    const std::uint64_t extra = kHeap + 0x30000, slice = kHeap + 0x31000, implausible = kHeap + 0x31100;
    writeHeader({.count = 1, .B = 0, .buckets = kHeap, .extra = extra});
    fill(kHeap, 1);
    // extra.overflow: 4 pointers of which the last two lie in memory the core did not capture
    // (the second one read points nowhere); extra.oldoverflow: a slice header not captured.
    mem.put64(extra + L.classic.extraOverflow.offset, slice);
    putSlice(mem, slice, kSplitNc - 16, 4, 4);
    mem.put64(kSplitNc - 16, kHeap + 0x8000);
    mem.put64(kSplitNc - 8, kUnmapped);
    mem.put64(extra + L.classic.extraOldOverflow.offset, kNotCaptured + 0x100);
    MapResult r = walk(inspecting());
    const MapNode* list = inspectedOverflowList(r, 1u, slice);
    ASSERT_NE(list, nullptr);
    EXPECT_EQ(list->state, AddressState::NotCaptured);
    ASSERT_EQ(list->children.size(), 2u);  // never zeroes for the pointers not captured
    EXPECT_EQ(list->children[0].address, kHeap + 0x8000);
    EXPECT_EQ(list->children[1].address, kUnmapped);
    EXPECT_EQ(list->children[1].state, AddressState::Unmapped);
    const MapNode* old = findNode(r.root, NodeKind::OldOverflowList, kNotCaptured + 0x100);
    ASSERT_NE(old, nullptr);
    EXPECT_EQ(old->state, AddressState::NotCaptured);
    EXPECT_TRUE(old->children.empty());

    // len beyond cap is no slice the runtime made: nothing of it is listed.
    putSlice(mem, implausible, kHeap + 0x32000, 5, 4);
    mem.put64(extra + L.classic.extraOverflow.offset, implausible);
    r = walk(inspecting());
    list = inspectedOverflowList(r, 1u, implausible);
    ASSERT_NE(list, nullptr);
    EXPECT_TRUE(list->children.empty());
}

// A chain of main + n full overflow buckets at kHeap + 0x8000 + k * 0x200. noverflow is kept
// at most 3 so that it stays below 2^B * maxChainLength with the limit of 3 these tests use.
class ClassicChainTest : public ClassicWalkerTest {
  protected:
    static std::uint64_t link(unsigned k) { return kHeap + 0x8000 + k * 0x200; }  // k >= 1
    void buildChain(unsigned overflowBuckets) {
        writeHeader({.count = static_cast<std::int64_t>(8 * (overflowBuckets + 1)),
                     .B = 0,
                     .noverflow = static_cast<std::uint16_t>(std::min(overflowBuckets, 3u)),
                     .buckets = kHeap});
        fill(kHeap, 8, 1000);
        std::uint64_t previous = kHeap;
        for (unsigned k = 1; k <= overflowBuckets; ++k) {
            overflow(previous, link(k));
            fill(link(k), 8, 1000 + 8 * k);
            previous = link(k);
        }
    }
    static WalkLimits chainLimit(std::uint32_t n) {
        WalkLimits limits;
        limits.maxChainLength = n;
        return limits;
    }
};

TEST_F(ClassicChainTest, ChainBeyondMaxChainLengthIsCutAndReported) {
    buildChain(6);
    MapResult r = walk(chainLimit(3));
    std::vector<gomapcore::Finding> findings = r.findings();
    ASSERT_EQ(findings.size(), 1u) << gmtest::describe(findings);
    EXPECT_EQ(findings[0].rule, rules::kOverflowChainCorrupt);
    EXPECT_EQ(findings[0].severity, Severity::Error);
    EXPECT_EQ(r.limitsHit, (std::vector<std::string>{"max-chain-length (3)"}));
    // Reported on the last node walked, naming the pointer that was not followed.
    const MapNode& last = r.root.children.back();
    EXPECT_EQ(last.kind, NodeKind::OverflowBucket);
    ASSERT_EQ(last.findings.size(), 1u);
    EXPECT_EQ(findings[0].address, gomapcore::Reader(mem).u64(last.address + L.classic.overflow.offset));
    EXPECT_LT(r.root.children.size(), 7u);
    EXPECT_EQ(r.liveEntries, 8 * r.root.children.size());
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// Regression: WalkLimits::maxChainLength is the number of overflow buckets allowed behind one
// bucket (map_model.h, the CLI's --max-chain); the pointer to overflow bucket number
// maxChainLength used to be rejected (an off-by-one).
TEST_F(ClassicChainTest, ChainOfExactlyMaxChainLengthOverflowBucketsIsAccepted) {
    buildChain(3);
    MapResult r = walk(chainLimit(3));
    expectHealthy(r, 32u);
    EXPECT_TRUE(r.limitsHit.empty());
    EXPECT_EQ(r.root.children.size(), 4u);
}

// The same limit seen from a longer chain: the cut falls after maxChainLength overflow buckets,
// i.e. at the pointer to overflow bucket maxChainLength + 1.
TEST_F(ClassicChainTest, ChainLimitCutsAfterMaxChainLengthOverflowBuckets) {
    buildChain(6);
    MapResult r = walk(chainLimit(3));
    expectFindings(r, {{rules::kOverflowChainCorrupt, Severity::Error, link(4)}});
    ASSERT_EQ(r.root.children.size(), 4u);  // main + 3 overflow buckets
    EXPECT_EQ(r.root.children[3].address, link(3));
    EXPECT_EQ(r.liveEntries, 32u);
}

// Regression: cutting a chain at the chain limit leaves buckets unwalked, so the walk is not
// complete (it used to claim complete = true).
TEST_F(ClassicChainTest, ChainLimitCutLeavesTheWalkIncomplete) {
    buildChain(6);
    MapResult r = walk(chainLimit(3));
    EXPECT_FALSE(r.complete);
}

// The limit is a property of the walk: two chains cut at it record it once.
TEST_F(ClassicChainTest, ChainLimitHitByTwoChainsIsRecordedOnce) {
    writeHeader({.count = 32, .B = 1, .noverflow = 2, .buckets = kHeap});
    for (unsigned b = 0; b < 2; ++b) {
        const std::uint64_t main = bucket(kHeap, b), first = link(1 + 2 * b), second = link(2 + 2 * b);
        fill(main, 8, 100 * b);
        overflow(main, first);
        fill(first, 8, 100 * b + 10);
        overflow(first, second);
        fill(second, 8, 100 * b + 20);
    }
    MapResult r = walk(chainLimit(1));
    expectFindings(r, {{rules::kOverflowChainCorrupt, Severity::Error, link(2)},
                       {rules::kOverflowChainCorrupt, Severity::Error, link(4)}});
    EXPECT_EQ(r.limitsHit, (std::vector<std::string>{"max-chain-length (1)"}));
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.liveEntries, 32u);
}

// A million-link overflow chain, synthesized on demand rather than stored.
TEST_F(ClassicWalkerTest, MillionLinkOverflowChainStopsAtTheChainLimit) {
    constexpr std::uint64_t kChain = 0xc200000000;
    constexpr std::uint64_t kLinks = 1'000'000;
    const std::uint64_t size = L.classic.bucketSize;
    const std::uint64_t overflowOffset = L.classic.overflow.offset;
    mem.addSynthesized(kChain, kLinks * size, [=](std::uint64_t address, std::span<std::byte> out) {
        for (std::size_t i = 0; i < out.size(); ++i) {
            std::uint64_t offset = address + i - kChain;
            std::uint64_t k = offset / size, within = offset % size;
            std::uint8_t value = 0;
            if (within < 8) {
                value = 0x42;  // every cell full
            } else if (within >= overflowOffset) {
                std::uint64_t next = k + 1 < kLinks ? kChain + (k + 1) * size : 0;
                value = static_cast<std::uint8_t>(next >> (8 * (within - overflowOffset)));
            }
            out[i] = std::byte{value};
        }
    });
    // noverflow at the heuristic's bound (2^B * maxChainLength), so the header stays plausible.
    writeHeader(
        {.count = static_cast<std::int64_t>(8 * (kLinks + 1)), .B = 0, .noverflow = 4096, .buckets = kHeap});
    fill(kHeap, 8);
    overflow(kHeap, kChain);
    auto start = std::chrono::steady_clock::now();
    MapResult r = walk();
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(5));
    EXPECT_EQ(r.limitsHit, (std::vector<std::string>{"max-chain-length (4096)"}));
    std::vector<gomapcore::Finding> findings = r.findings();
    ASSERT_EQ(findings.size(), 1u) << gmtest::describe(findings);
    EXPECT_EQ(findings[0].rule, rules::kOverflowChainCorrupt);
    EXPECT_EQ(findings[0].severity, Severity::Error);
    const MapNode& last = r.root.children.back();
    ASSERT_EQ(last.findings.size(), 1u);
    EXPECT_EQ(last.kind, NodeKind::OverflowBucket);
    EXPECT_EQ(findings[0].address, last.address + size);  // the next synthesized link
    EXPECT_LE(r.root.children.size(), 4097u);
    EXPECT_GE(r.root.children.size(), 4096u);
    EXPECT_EQ(r.liveEntries, 8 * r.root.children.size());
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// --- max-buckets-per-map ----------------------------------------------------------------------

TEST_F(ClassicWalkerTest, BucketBudgetStopsTheWalkAndMarksItIncomplete) {
    writeHeader({.count = 8, .B = 3, .buckets = kHeap});
    for (unsigned i = 0; i < 8; ++i)
        fill(bucket(kHeap, i), 1, 10 * i);
    WalkLimits limits;
    limits.maxBucketsPerMap = 4;
    MapResult r = walk(limits);
    expectNoFindings(r);
    EXPECT_EQ(r.limitsHit, (std::vector<std::string>{"max-buckets-per-map (4)"}));
    EXPECT_EQ(r.root.children.size(), 4u);
    EXPECT_EQ(r.liveEntries, 4u);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
}

// Regression: with maxBucketsPerMap = 0 (reachable with --max-buckets 0) during a growth with
// nevacuate > 0, walkChain adds no node, and walkOldBuckets used to take the last node of an
// empty vector (undefined behaviour; a crash).
TEST_F(ClassicWalkerTest, ZeroBucketBudgetDuringGrowthStopsCleanly) {
    const std::uint64_t old = kHeap + 0x10000;
    writeHeader({.count = 0, .B = 1, .buckets = kHeap, .oldbuckets = old, .nevacuate = 1});
    tops(old, kAllEvacuatedEmpty);
    WalkLimits limits;
    limits.maxBucketsPerMap = 0;
    MapResult r = walk(limits);
    expectNoFindings(r);
    EXPECT_EQ(r.limitsHit, (std::vector<std::string>{"max-buckets-per-map (0)"}));
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
}

// --- the analysis-wide budget (--max-memory, --time-limit) ------------------------------------

TEST_F(ClassicWalkerTest, MemoryBudgetStopsTheWalkAndNamesTheLimit) {
    writeHeader({.count = 8, .B = 3, .buckets = kHeap});
    for (unsigned i = 0; i < 8; ++i)
        fill(bucket(kHeap, i), 1, 10 * i);
    // Room for a little more than two bucket nodes: the third cannot be charged.
    gomapcore::AnalysisBudget budget;
    const std::uint64_t room = 2 * sizeof(gomapcore::MapNode) + 2 * sizeof(gomapcore::MapNode) / 2;
    budget.limitMemory(room);
    WalkLimits limits;
    limits.budget = &budget;
    MapResult r = walk(limits);
    expectNoFindings(r);
    EXPECT_EQ(r.limitsHit, (std::vector<std::string>{"max-memory (" + std::to_string(room) + " bytes)"}));
    EXPECT_EQ(r.root.children.size(), 2u);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
    EXPECT_TRUE(budget.memoryExhausted());
    EXPECT_LE(budget.charged(), 3 * sizeof(gomapcore::MapNode));
}

TEST_F(ClassicWalkerTest, AnExhaustedMemoryBudgetStopsTheNextWalkAtOnce) {
    writeHeader({.count = 8, .B = 3, .buckets = kHeap});
    for (unsigned i = 0; i < 8; ++i)
        fill(bucket(kHeap, i), 1, 10 * i);
    gomapcore::AnalysisBudget budget;
    budget.limitMemory(std::uint64_t{64} << 20);
    WalkLimits limits;
    limits.budget = &budget;
    MapResult first = walk(limits);
    expectHealthy(first, 8);
    EXPECT_GT(budget.charged(), 8 * sizeof(gomapcore::MapNode));
    budget.limitMemory(budget.charged());  // nothing left
    MapResult second = walk(limits);
    EXPECT_EQ(second.limitsHit,
              (std::vector<std::string>{"max-memory (" + std::to_string(budget.charged()) + " bytes)"}));
    EXPECT_TRUE(second.root.children.empty());
    EXPECT_FALSE(second.complete);
}

TEST_F(ClassicWalkerTest, ExpiredTimeLimitStopsTheWalkAndNamesTheLimit) {
    writeHeader({.count = 0, .B = 10, .buckets = kHeap});  // 1024 empty buckets
    gomapcore::AnalysisBudget budget;
    budget.limitTime(std::chrono::milliseconds(0));
    WalkLimits limits;
    limits.budget = &budget;
    MapResult r = walk(limits);
    expectNoFindings(r);
    EXPECT_EQ(r.limitsHit, (std::vector<std::string>{"time-limit (0 s)"}));
    // The clock is read once every few steps: the walk stops within the first hundred buckets.
    EXPECT_LT(r.root.children.size(), 100u);
    EXPECT_FALSE(r.complete);
    EXPECT_TRUE(budget.timeExpired());
}

TEST_F(ClassicWalkerTest, UnexpiredTimeLimitLetsTheWalkFinish) {
    writeHeader({.count = 0, .B = 10, .buckets = kHeap});
    gomapcore::AnalysisBudget budget;
    budget.limitTime(std::chrono::hours(1));
    WalkLimits limits;
    limits.budget = &budget;
    MapResult r = walk(limits);
    expectHealthy(r, 0);
    EXPECT_EQ(r.root.children.size(), 1024u);
    EXPECT_FALSE(budget.timeExpired());
}

// --- count-mismatch ---------------------------------------------------------------------------

TEST_F(ClassicWalkerTest, CountDifferentFromLiveCellsIsCountMismatch) {
    writeHeader({.count = 5, .B = 0, .buckets = kHeap});
    fill(kHeap, 3);
    MapResult r = walk();
    expectFindings(r, {{rules::kCountMismatch, Severity::Error, kHeader}});
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.count, 5);
    EXPECT_EQ(r.liveEntries, 3u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// --- control-bytes-corrupt --------------------------------------------------------------------

TEST_F(ClassicWalkerTest, EvacuationMarkOutsideGrowthIsControlBytesCorrupt) {
    writeHeader({.count = 2, .B = 0, .buckets = kHeap});
    tops(kHeap, {0x20, kEvacuatedX, 0x30, 0, 0, 0, 0, 0});
    MapResult r = walk();
    expectFindings(r, {{rules::kControlBytesCorrupt, Severity::Error, kHeap}});
    EXPECT_EQ(r.root.children.at(0).findings.size(), 1u);
    EXPECT_EQ(r.liveEntries, 2u);  // the marked cell is not counted
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, FullCellAfterEmptyRestIsControlBytesCorrupt) {
    writeHeader({.count = 2, .B = 0, .buckets = kHeap});
    tops(kHeap, {0x20, 0 /* emptyRest */, 0x30, 0, 0, 0, 0, 0});
    MapResult r = walk();
    expectFindings(r, {{rules::kControlBytesCorrupt, Severity::Error, kHeap}});
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, FullCellInOverflowBucketAfterEmptyRestIsControlBytesCorrupt) {
    const std::uint64_t ov = kHeap + 0x8000;
    writeHeader({.count = 2, .B = 0, .noverflow = 1, .buckets = kHeap});
    tops(kHeap, {0x20, 0, 0, 0, 0, 0, 0, 0});  // emptyRest promises the chain is empty after
    overflow(kHeap, ov);
    tops(ov, {0x40, 0, 0, 0, 0, 0, 0, 0});
    MapResult r = walk();
    expectFindings(r, {{rules::kControlBytesCorrupt, Severity::Error, ov}});
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, EmptyOneBeforeFullCellsIsFine) {
    writeHeader({.count = 2, .B = 0, .buckets = kHeap});
    tops(kHeap, {0x20, 1 /* emptyOne */, 0x30, 0, 0, 0, 0, 0});
    MapResult r = walk();
    expectHealthy(r, 2u);
}

TEST_F(ClassicWalkerTest, OldBucketMixingMarksAndLiveCellsIsControlBytesCorrupt) {
    const std::uint64_t old = kHeap + 0x10000;
    writeHeader({.count = 1, .B = 1, .buckets = kHeap, .oldbuckets = old, .nevacuate = 0});
    tops(old, {kEvacuatedX, 0x50, 0, 0, 0, 0, 0, 0});
    MapResult r = walk();
    expectFindings(r, {{rules::kControlBytesCorrupt, Severity::Error, old}});
    EXPECT_EQ(r.liveEntries, 1u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// --- a process killed inside evacuate() ---------------------------------------------------------
// evacuate() (runtime/map.go) runs under hashWriting and marks an old chain's cells in order as it
// moves them; a core taken there holds one old bucket with marks on a leading part of its cells.
// Seen on a real gofmt killed by SIGABRT mid-growth: old bucket 58 held {X, 47, 7e, c5, e8, 0, 0, 0}
// and new bucket 58 the one moved entry.

TEST_F(ClassicWalkerTest, OldBucketPartEvacuatedDuringAWriteIsWriteInProgress) {
    const std::uint64_t old = kHeap + 0x10000;
    writeHeader(
        {.count = 4, .flags = kHashWriting, .B = 2, .buckets = kHeap, .oldbuckets = old, .nevacuate = 0});
    fill(bucket(old, 0), 3, 1);
    top(L, bucket(old, 0), 0, kEvacuatedX);  // moved to new bucket 0
    fill(bucket(kHeap, 0), 1, 1);
    fill(bucket(old, 1), 1, 4);  // not reached yet
    MapResult r = walk();
    expectFindings(r, {{rules::kWriteInProgress, Severity::Warning, kHeader},
                       {rules::kWriteInProgress, Severity::Warning, bucket(old, 0)}});
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.liveEntries, 4u);  // 1 moved + 2 left in old bucket 0 + 1 in old bucket 1
}

TEST_F(ClassicWalkerTest, EvacuationCutShortInAnOverflowBucketIsWalkedToTheEnd) {
    const std::uint64_t old = kHeap + 0x10000, oldOverflow = kHeap + 0x11000;
    writeHeader(
        {.count = 10, .flags = kHashWriting, .B = 1, .buckets = kHeap, .oldbuckets = old, .nevacuate = 0});
    fill(old, 8, 1);
    tops(old, {kEvacuatedX, kEvacuatedY, kEvacuatedX, kEvacuatedY, kEvacuatedX, kEvacuatedY, kEvacuatedX,
               kEvacuatedY});
    overflow(old, oldOverflow);
    fill(oldOverflow, 3, 9);
    top(L, oldOverflow, 0, kEvacuatedEmpty);  // evacuate() had reached cell 1 of the overflow bucket
    fill(bucket(kHeap, 0), 4, 1);
    fill(bucket(kHeap, 1), 4, 5);
    MapResult r = walk();
    expectFindings(r, {{rules::kWriteInProgress, Severity::Warning, kHeader},
                       {rules::kWriteInProgress, Severity::Warning, old}});
    EXPECT_NE(findNode(r.root, NodeKind::OldOverflowBucket, oldOverflow), nullptr);
    EXPECT_EQ(r.liveEntries, 10u);  // 8 moved + 2 left in the overflow bucket
}

TEST_F(ClassicWalkerTest, EntryBetweenItsOldAndNewCellIsWriteInProgressNotCountMismatch) {
    const std::uint64_t old = kHeap + 0x10000;
    writeHeader(
        {.count = 3, .flags = kHashWriting, .B = 1, .buckets = kHeap, .oldbuckets = old, .nevacuate = 0});
    fill(old, 3, 1);
    top(L, old, 0, kEvacuatedY);  // marked, but new bucket 1 was not written yet
    MapResult r = walk();
    // Header findings come first (walk order), then the old bucket's.
    expectFindings(r, {{rules::kWriteInProgress, Severity::Warning, kHeader},
                       {rules::kWriteInProgress, Severity::Warning, kHeader},
                       {rules::kWriteInProgress, Severity::Warning, old}});
    EXPECT_EQ(r.liveEntries, 2u);
}

TEST_F(ClassicWalkerTest, CountTwoAboveAPartEvacuationIsStillCountMismatch) {
    const std::uint64_t old = kHeap + 0x10000;
    writeHeader(
        {.count = 4, .flags = kHashWriting, .B = 1, .buckets = kHeap, .oldbuckets = old, .nevacuate = 0});
    fill(old, 3, 1);
    top(L, old, 0, kEvacuatedY);
    MapResult r = walk();
    expectFindings(r, {{rules::kWriteInProgress, Severity::Warning, kHeader},
                       {rules::kCountMismatch, Severity::Error, kHeader},
                       {rules::kWriteInProgress, Severity::Warning, old}});
}

TEST_F(ClassicWalkerTest, EmptyCellMarkedLastLeavesNoEntryInFlight) {
    const std::uint64_t old = kHeap + 0x10000;
    writeHeader(
        {.count = 3, .flags = kHashWriting, .B = 1, .buckets = kHeap, .oldbuckets = old, .nevacuate = 0});
    tops(old, {kEvacuatedEmpty, 0x50, 0x51, 0, 0, 0, 0, 0});
    MapResult r = walk();
    expectFindings(r, {{rules::kWriteInProgress, Severity::Warning, kHeader},
                       {rules::kCountMismatch, Severity::Error, kHeader},
                       {rules::kWriteInProgress, Severity::Warning, old}});
}

TEST_F(ClassicWalkerTest, TwoPartEvacuatedOldBucketsAreControlBytesCorrupt) {
    const std::uint64_t old = kHeap + 0x10000;
    writeHeader(
        {.count = 4, .flags = kHashWriting, .B = 2, .buckets = kHeap, .oldbuckets = old, .nevacuate = 0});
    tops(bucket(old, 0), {kEvacuatedEmpty, 0x50, 0x51, 0, 0, 0, 0, 0});
    tops(bucket(old, 1), {kEvacuatedEmpty, 0x52, 0x53, 0, 0, 0, 0, 0});
    MapResult r = walk();
    expectFindings(r, {{rules::kWriteInProgress, Severity::Warning, kHeader},
                       {rules::kWriteInProgress, Severity::Warning, bucket(old, 0)},
                       {rules::kControlBytesCorrupt, Severity::Error, bucket(old, 1)}});
    EXPECT_EQ(r.liveEntries, 4u);
}

TEST_F(ClassicWalkerTest, EvacuationMarkAfterAnUnmarkedCellIsControlBytesCorruptEvenDuringAWrite) {
    const std::uint64_t old = kHeap + 0x10000;
    writeHeader(
        {.count = 2, .flags = kHashWriting, .B = 1, .buckets = kHeap, .oldbuckets = old, .nevacuate = 0});
    tops(old, {0x50, kEvacuatedX, 0x51, 0, 0, 0, 0, 0});
    MapResult r = walk();
    expectFindings(r, {{rules::kWriteInProgress, Severity::Warning, kHeader},
                       {rules::kControlBytesCorrupt, Severity::Error, old}});
}

TEST_F(ClassicWalkerTest, PartEvacuatedBucketBelowNevacuateIsControlBytesCorrupt) {
    const std::uint64_t old = kHeap + 0x10000;
    writeHeader(
        {.count = 2, .flags = kHashWriting, .B = 2, .buckets = kHeap, .oldbuckets = old, .nevacuate = 1});
    tops(bucket(old, 0), {kEvacuatedEmpty, 0x50, 0x51, 0, 0, 0, 0, 0});
    MapResult r = walk();
    expectFindings(r, {{rules::kWriteInProgress, Severity::Warning, kHeader},
                       {rules::kWriteInProgress, Severity::Warning, bucket(old, 0)},
                       {rules::kControlBytesCorrupt, Severity::Error, bucket(old, 0)}});
}

TEST_F(ClassicWalkerTest, OldBucketBelowNevacuateNotEvacuatedIsControlBytesCorrupt) {
    const std::uint64_t old = kHeap + 0x10000;
    writeHeader({.count = 2, .B = 2, .buckets = kHeap, .oldbuckets = old, .nevacuate = 1});
    fill(bucket(old, 0), 1, 1);  // below nevacuate, still live
    fill(bucket(old, 1), 1, 2);
    MapResult r = walk();
    expectFindings(r, {{rules::kControlBytesCorrupt, Severity::Error, bucket(old, 0)}});
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, NewBucketFilledBeforeItsSourceIsEvacuatedIsControlBytesCorrupt) {
    const std::uint64_t old = kHeap + 0x10000;
    writeHeader({.count = 2, .B = 2, .buckets = kHeap, .oldbuckets = old, .nevacuate = 0});
    fill(bucket(old, 0), 1, 1);  // not evacuated
    tops(bucket(old, 1), kAllEvacuatedEmpty);
    fill(bucket(kHeap, 2), 1, 2);  // 2 & 1 = old bucket 0
    MapResult r = walk();
    expectFindings(r, {{rules::kControlBytesCorrupt, Severity::Error, bucket(kHeap, 2)}});
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// Regression: an old bucket that is not captured used to count as "not evacuated", and was then
// reported below nevacuate as control-bytes-corrupt: an error drawn from bytes the core does not
// hold. Not captured gives only pointer-not-captured.
TEST_F(ClassicWalkerTest, UncapturedOldBucketBelowNevacuateIsOnlyNotCaptured) {
    const std::uint64_t old = kSplitNc - 2 * 144;  // old buckets 0-1 captured, 2-3 not
    writeHeader({.count = 0, .B = 3, .buckets = kHeap, .oldbuckets = old, .nevacuate = 3});
    for (unsigned j = 0; j < 2; ++j)
        tops(bucket(old, j), kAllEvacuatedEmpty);
    MapResult r = walk();
    expectFindings(r, {{rules::kPointerNotCaptured, Severity::Warning, bucket(old, 2)},
                       {rules::kPointerNotCaptured, Severity::Warning, bucket(old, 3)}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
}

// Regression, same cause: a new bucket whose source old bucket is not captured used to be
// reported as "holds entries although its source old bucket is not evacuated yet".
TEST_F(ClassicWalkerTest, NewBucketWithUncapturedSourceIsOnlyNotCaptured) {
    const std::uint64_t old = kSplitNc - 144;  // old bucket 0 captured, 1 not
    writeHeader({.count = 1, .B = 2, .buckets = kHeap, .oldbuckets = old, .nevacuate = 1});
    tops(bucket(old, 0), kAllEvacuatedEmpty);
    fill(bucket(kHeap, 1), 1);  // source: old bucket 1
    MapResult r = walk();
    expectFindings(r, {{rules::kPointerNotCaptured, Severity::Warning, bucket(old, 1)}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
}

// --- write-in-progress ------------------------------------------------------------------------

TEST_F(ClassicWalkerTest, HashWritingFlagIsWriteInProgressWarning) {
    writeHeader({.count = 2, .flags = kHashWriting, .B = 0, .buckets = kHeap});
    fill(kHeap, 2);
    MapResult r = walk();
    expectFindings(r, {{rules::kWriteInProgress, Severity::Warning, kHeader}});
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Suspect);
}

// --- dangling-entry-pointer -------------------------------------------------------------------

TEST_F(ClassicWalkerTest, PointerElemIntoNoMappingIsDanglingEntryPointer) {
    const MapTypeLayout& l = types.classicInt64PtrT();
    writeHeader(l, kHeader, {.count = 4, .B = 0, .buckets = kHeap});
    entry(l, kHeap, 0, 0x50, 1, kHeap + 0x9000);       // fine
    entry(l, kHeap, 1, 0x51, 2, kUnmapped + 0x40);     // dangling
    entry(l, kHeap, 2, 0x52, 3, 0);                    // nil is a valid *T
    entry(l, kHeap, 3, 0x53, 4, kNotCaptured + 0x10);  // mapped, just not in the core
    MapResult r = walk(l);
    expectFindings(r, {{rules::kDanglingEntryPointer, Severity::Error, kUnmapped + 0x40}});
    EXPECT_EQ(r.root.children.at(0).findings.size(), 1u);
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.liveEntries, 4u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, IndirectElemPointerIntoNoMappingIsDanglingEntryPointer) {
    const MapTypeLayout& l = types.classicInt64Big();
    ASSERT_TRUE(l.indirectElem);
    writeHeader(l, kHeader, {.count = 2, .B = 0, .buckets = kHeap});
    entry(l, kHeap, 0, 0x50, 1, kHeap + 0xa000);  // *Big, mapped
    entry(l, kHeap, 1, 0x51, 2, kUnmapped);
    WalkLimits limits;
    limits.collectSlots = true;
    MapResult r = walk(l, kHeader, limits);
    expectFindings(r, {{rules::kDanglingEntryPointer, Severity::Error, kUnmapped}});
    ASSERT_EQ(r.root.children.at(0).slots.size(), 2u);
    EXPECT_EQ(r.root.children[0].slots[0].elemAddress, kHeap + 0xa000);
    EXPECT_TRUE(r.root.children[0].slots[0].elemReadable);
    EXPECT_FALSE(r.root.children[0].slots[1].elemReadable);
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(ClassicWalkerTest, NilIndirectElemPointerOfAFullCellIsDanglingEntryPointer) {
    const MapTypeLayout& l = types.classicInt64Big();
    writeHeader(l, kHeader, {.count = 1, .B = 0, .buckets = kHeap});
    entry(l, kHeap, 0, 0x50, 1, 0);
    MapResult r = walk(l);
    expectFindings(r, {{rules::kDanglingEntryPointer, Severity::Error, 0}});
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// --- Legitimate runtime states (GO-MAPS.md 2.7) -----------------------------------------------

TEST_F(ClassicWalkerTest, NevacuateLeftOverAfterGrowthIsFine) {
    writeHeader({.count = 2, .B = 1, .buckets = kHeap, .oldbuckets = 0, .nevacuate = 0x20});
    fill(bucket(kHeap, 0), 1, 1);
    fill(bucket(kHeap, 1), 1, 2);
    MapResult r = walk();
    expectHealthy(r, 2u);
}

TEST_F(ClassicWalkerTest, SentinelOverflowPointerOfLastPreallocatedBucketIsFine) {
    // B = 4: 16 main buckets followed by 3 preallocated overflow buckets (makeBucketArray).
    // #16 has been consumed by bucket 5's chain; #17 is next; #18, the last, carries the
    // sentinel overflow pointer back to buckets and is on no chain.
    const std::uint64_t extra = kHeap + 0x30000;
    writeHeader({.count = 11, .B = 4, .noverflow = 1, .buckets = kHeap, .extra = extra});
    fill(bucket(kHeap, 0), 2, 1);
    fill(bucket(kHeap, 5), 8, 100);
    overflow(bucket(kHeap, 5), bucket(kHeap, 16));
    fill(bucket(kHeap, 16), 1, 200);
    overflow(bucket(kHeap, 18), kHeap);  // the sentinel
    mem.put64(extra + L.classic.extraNextOverflow.offset, bucket(kHeap, 17));
    MapResult r = walk();
    expectHealthy(r, 11u);
    EXPECT_EQ(r.root.children.size(), 16u + 1u + 1u);  // main buckets, #16, extra
    EXPECT_NE(findNode(r.root, NodeKind::OverflowBucket, bucket(kHeap, 16)), nullptr);
}

TEST_F(ClassicWalkerTest, EvacuatedOldBucketsWithClearedSlotsDuringGrowthAreFine) {
    // map[int64]*T (pointerful): evacuate() cleared old bucket 0's keys, elems and overflow
    // pointer and kept its tophash; its entries now live in new buckets 0 (X) and 2 (Y).
    const MapTypeLayout& l = types.classicInt64PtrT();
    const std::uint64_t old = kHeap + 0x10000;
    writeHeader(l, kHeader, {.count = 4, .B = 2, .buckets = kHeap, .oldbuckets = old, .nevacuate = 1});
    tops(l, bucket(l, old, 0),
         {kEvacuatedX, kEvacuatedY, kEvacuatedEmpty, kEvacuatedEmpty, kEvacuatedEmpty, kEvacuatedEmpty,
          kEvacuatedEmpty, kEvacuatedEmpty});
    entry(l, bucket(l, old, 1), 0, 0x50, 7, kHeap + 0x20000);
    entry(l, bucket(l, old, 1), 1, 0x60, 9, 0);
    entry(l, bucket(l, kHeap, 0), 0, 0x70, 4, kHeap + 0x20010);
    entry(l, bucket(l, kHeap, 2), 0, 0x71, 6, kHeap + 0x20020);
    MapResult r = walk(l);
    expectNoFindings(r);
    ASSERT_EQ(r.root.children.size(), 6u);
    EXPECT_EQ(r.root.children[0].kind, NodeKind::OldBucket);
    EXPECT_EQ(r.root.children[0].liveEntries, 0u);
    EXPECT_EQ(r.root.children[1].kind, NodeKind::OldBucket);
    EXPECT_EQ(r.root.children[1].liveEntries, 2u);
    EXPECT_EQ(r.liveEntries, 4u);  // 2 in new buckets + 2 in the unevacuated old bucket
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Ok);
}

TEST_F(ClassicWalkerTest, EvacuatedOldBucketKeepingItsOverflowPointerIsNotFollowed) {
    // map[int64]int64 has no pointers (and an old iterator exists), so evacuate() cleared
    // nothing: old bucket 0 keeps its keys and its overflow pointer to an evacuated overflow.
    const std::uint64_t old = kHeap + 0x10000;
    const std::uint64_t oldOverflow = kHeap + 0x11000;
    writeHeader({.count = 3,
                 .flags = kIterator | kOldIterator,
                 .B = 1,
                 .buckets = kHeap,
                 .oldbuckets = old,
                 .nevacuate = 1});
    fill(old, 8, 1);
    tops(old, {kEvacuatedX, kEvacuatedX, kEvacuatedY, kEvacuatedY, kEvacuatedX, kEvacuatedY, kEvacuatedX,
               kEvacuatedX});
    overflow(old, oldOverflow);
    fill(oldOverflow, 1, 9);
    tops(oldOverflow, {kEvacuatedY, kEvacuatedEmpty, kEvacuatedEmpty, kEvacuatedEmpty, kEvacuatedEmpty,
                       kEvacuatedEmpty, kEvacuatedEmpty, kEvacuatedEmpty});
    fill(bucket(kHeap, 0), 2, 1);
    fill(bucket(kHeap, 1), 1, 3);
    MapResult r = walk();
    expectHealthy(r, 3u);
    EXPECT_EQ(findNode(r.root, NodeKind::OldOverflowBucket, oldOverflow), nullptr);
    EXPECT_EQ(r.root.children.size(), 3u);
}

TEST_F(ClassicWalkerTest, SameSizeGrowInProgressIsFine) {
    const std::uint64_t old = kHeap + 0x10000;
    writeHeader(
        {.count = 2, .flags = kSameSizeGrow, .B = 1, .buckets = kHeap, .oldbuckets = old, .nevacuate = 1});
    tops(bucket(old, 0), {kEvacuatedX, kEvacuatedEmpty, kEvacuatedEmpty, kEvacuatedEmpty, kEvacuatedEmpty,
                          kEvacuatedEmpty, kEvacuatedEmpty, kEvacuatedEmpty});
    fill(bucket(old, 1), 1, 2);
    fill(bucket(kHeap, 0), 1, 1);
    MapResult r = walk();
    expectHealthy(r, 2u);
    EXPECT_EQ(r.root.children.size(), 4u);  // 2 old + 2 new
}

TEST_F(ClassicWalkerTest, NilBucketsWithZeroCountIsFine) {
    writeHeader({.count = 0, .B = 0, .buckets = 0});
    MapResult r = walk();
    expectHealthy(r, 0u);
    EXPECT_TRUE(r.root.children.empty());
}

TEST_F(ClassicWalkerTest, HeaderAndFirstBucketOnAStackAreFine) {
    const std::uint64_t header = kStack + 0x100, firstBucket = kStack + 0x200;
    writeHeader(L, header, {.count = 2, .B = 0, .buckets = firstBucket});
    fill(firstBucket, 2);
    MapResult r = walk(L, header);
    expectHealthy(r, 2u);
    EXPECT_EQ(r.address, header);
}

TEST_F(ClassicWalkerTest, ZeroSizeValuesShareTheOverflowOffsetAndAreFine) {
    const MapTypeLayout& l = types.classicUint32Empty();  // map[uint32]struct{}
    const std::uint64_t ov = kHeap + 0x100;
    ASSERT_EQ(l.classic.values.offset, l.classic.overflow.offset);
    writeHeader(l, kHeader, {.count = 9, .B = 0, .noverflow = 1, .buckets = kHeap});
    fill(l, kHeap, 8, 1);
    overflow(l, kHeap, ov);
    fill(l, ov, 1, 100);
    MapResult r = walk(l);
    expectHealthy(r, 9u);
    ASSERT_EQ(r.root.children.size(), 2u);
    EXPECT_EQ(r.root.children[1].address, ov);
}

}  // namespace
