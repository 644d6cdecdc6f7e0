// Tests of the unit-test doubles themselves: FakeMemory must honour gomapcore::Memory's
// contract, and the hand-filled layouts of LayoutFactory must agree with what the engine's
// LayoutCatalog derives from the same hand-built Type graph.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "binary/types.h"
#include "fake_memory.h"
#include "layout_builders.h"
#include "maps/map_layout.h"

namespace {

using gmtest::FakeMemory;
using gmtest::LayoutFactory;
using gomapcore::AddressState;
using gomapcore::FieldSlot;
using gomapcore::MapTypeLayout;

constexpr std::uint64_t kA = 0x10000;     // captured [kA, kA + 0x100)
constexpr std::uint64_t kB = kA + 0x100;  // not captured [kB, kB + 0x100), adjacent to A
constexpr std::uint64_t kC = 0x20000;     // captured [kC, kC + 0x10)
constexpr std::uint64_t kD = kC + 0x10;   // captured [kD, kD + 0x10), adjacent to C
constexpr std::uint64_t kS = 0x30000;     // synthesized [kS, kS + 0x1000): byte = low 8 bits of address

class FakeMemoryTest : public ::testing::Test {
  protected:
    void SetUp() override {
        mem.addCaptured(kA, 0x100, "a");
        mem.addNotCaptured(kB, 0x100, "b");
        mem.addCaptured(kC, 0x10, "c");
        mem.addCaptured(kD, 0x10, "d");
        mem.addSynthesized(
            kS, 0x1000,
            [](std::uint64_t address, std::span<std::byte> out) {
                for (std::size_t i = 0; i < out.size(); ++i)
                    out[i] = std::byte{static_cast<std::uint8_t>(address + i)};
            },
            "s");
    }
    FakeMemory mem;
};

TEST_F(FakeMemoryTest, ClassifiesEachState) {
    EXPECT_EQ(mem.classify(kA), AddressState::Captured);
    EXPECT_EQ(mem.classify(kA + 0xff), AddressState::Captured);
    EXPECT_EQ(mem.classify(kB), AddressState::NotCaptured);
    EXPECT_EQ(mem.classify(kB + 0xff), AddressState::NotCaptured);
    EXPECT_EQ(mem.classify(kB + 0x100), AddressState::Unmapped);
    EXPECT_EQ(mem.classify(kA - 1), AddressState::Unmapped);
    EXPECT_EQ(mem.classify(kS + 0xfff), AddressState::Captured);
    EXPECT_EQ(mem.classify(0), AddressState::Unmapped);
    EXPECT_EQ(mem.classify(~std::uint64_t{0}), AddressState::Unmapped);
}

TEST_F(FakeMemoryTest, ReadsWhatWasWrittenLittleEndian) {
    mem.put64(kA, 0x1122334455667788);
    mem.put16(kA + 8, 0xaabb);
    mem.put8(kA + 10, 0xcc);
    mem.putBytes(kA + 11, {0x01, 0x02});
    std::array<std::byte, 13> out{};
    gomapcore::ReadResult r = mem.read(kA, out);
    EXPECT_EQ(r.bytesRead, 13u);
    EXPECT_EQ(r.state, AddressState::Captured);
    EXPECT_TRUE(r.complete());
    EXPECT_EQ(out[0], std::byte{0x88});
    EXPECT_EQ(out[7], std::byte{0x11});
    EXPECT_EQ(out[8], std::byte{0xbb});
    EXPECT_EQ(out[9], std::byte{0xaa});
    EXPECT_EQ(out[10], std::byte{0xcc});
    EXPECT_EQ(out[12], std::byte{0x02});
    gomapcore::Reader reader(mem);
    EXPECT_EQ(reader.u64(kA), 0x1122334455667788u);
    EXPECT_EQ(reader.u64(kA + 0x200), std::nullopt);
}

TEST_F(FakeMemoryTest, ReadIntoNotCapturedFillsPrefixAndReportsNotCaptured) {
    std::array<std::byte, 16> out;
    out.fill(std::byte{0xee});
    mem.put32(kA + 0xf8, 0x04030201);
    gomapcore::ReadResult r = mem.read(kA + 0xf8, out);
    EXPECT_EQ(r.bytesRead, 8u);
    EXPECT_EQ(r.state, AddressState::NotCaptured);
    EXPECT_FALSE(r.complete());
    EXPECT_EQ(out[0], std::byte{0x01});
    // Bytes past the prefix are never fabricated.
    for (std::size_t i = 8; i < out.size(); ++i)
        EXPECT_EQ(out[i], std::byte{0xee}) << i;
}

TEST_F(FakeMemoryTest, ReadIntoUnmappedFillsPrefixAndReportsUnmapped) {
    std::array<std::byte, 8> out{};
    gomapcore::ReadResult r = mem.read(kD + 0xc, out);
    EXPECT_EQ(r.bytesRead, 4u);
    EXPECT_EQ(r.state, AddressState::Unmapped);
    r = mem.read(kA - 4, out);
    EXPECT_EQ(r.bytesRead, 0u);
    EXPECT_EQ(r.state, AddressState::Unmapped);
    r = mem.read(~std::uint64_t{0} - 3, out);
    EXPECT_EQ(r.bytesRead, 0u);
    EXPECT_EQ(r.state, AddressState::Unmapped);
}

TEST_F(FakeMemoryTest, ReadSpansAdjacentCapturedRegions) {
    mem.put64(kC + 8, 0x0807060504030201);
    mem.put64(kD, 0x100f0e0d0c0b0a09);
    std::array<std::byte, 16> out{};
    gomapcore::ReadResult r = mem.read(kC + 8, out);
    EXPECT_EQ(r.bytesRead, 16u);
    EXPECT_TRUE(r.complete());
    for (std::size_t i = 0; i < out.size(); ++i)
        EXPECT_EQ(out[i], std::byte{static_cast<std::uint8_t>(i + 1)});
}

TEST_F(FakeMemoryTest, SynthesizedRegionsComputeBytesOnRead) {
    std::array<std::byte, 4> out{};
    gomapcore::ReadResult r = mem.read(kS + 0x42, out);
    EXPECT_TRUE(r.complete());
    EXPECT_EQ(out[0], std::byte{0x42});
    EXPECT_EQ(out[3], std::byte{0x45});
    EXPECT_THROW(mem.put8(kS, 1), std::logic_error);
}

TEST_F(FakeMemoryTest, EmptyReadIsComplete) {
    gomapcore::ReadResult r = mem.read(0xdead, std::span<std::byte>());
    EXPECT_EQ(r.bytesRead, 0u);
    EXPECT_TRUE(r.complete());
}

TEST_F(FakeMemoryTest, RegionAtDescribesTheMapping) {
    auto region = mem.regionAt(kB + 5);
    ASSERT_TRUE(region.has_value());
    EXPECT_EQ(region->start, kB);
    EXPECT_EQ(region->end, kB + 0x100);
    EXPECT_EQ(region->name, "b");
    EXPECT_TRUE(region->readable);
    EXPECT_FALSE(mem.regionAt(kB + 0x100).has_value());
}

TEST_F(FakeMemoryTest, RejectsOverlapsAndWritesOutsideStoredRegions) {
    EXPECT_THROW(mem.addCaptured(kA + 0x80, 0x10), std::invalid_argument);
    EXPECT_THROW(mem.addCaptured(kA - 8, 0x10), std::invalid_argument);
    EXPECT_THROW(mem.addCaptured(0x50000, 0), std::invalid_argument);
    EXPECT_THROW(mem.put8(kB, 1), std::logic_error);
    EXPECT_THROW(mem.put64(kA + 0xfc, 1), std::logic_error);
    EXPECT_THROW(mem.put8(0x90000, 1), std::logic_error);
}

TEST_F(FakeMemoryTest, CountsReads) {
    mem.resetStats();
    std::array<std::byte, 24> out{};
    (void)mem.read(kA, out);
    (void)mem.read(kA, std::span<std::byte>(out.data(), 8));
    EXPECT_EQ(mem.readCount(), 2u);
    EXPECT_EQ(mem.largestRead(), 24u);
}

// --- Layout builders vs. LayoutCatalog ------------------------------------------------------

void expectSlot(const FieldSlot& hand, const FieldSlot& derived, const char* name) {
    EXPECT_EQ(hand.present, derived.present) << name;
    EXPECT_EQ(hand.offset, derived.offset) << name;
    EXPECT_EQ(hand.size, derived.size) << name;
}

void expectSameLayout(const MapTypeLayout& hand) {
    gomapcore::TypeTable noDwarf(nullptr);
    gomapcore::LayoutCatalog catalog(noDwarf);
    std::string whyNot;
    const MapTypeLayout* derived = catalog.layoutFor(hand.mapType, &whyNot);
    ASSERT_NE(derived, nullptr) << whyNot;
    EXPECT_EQ(hand.kind, derived->kind);
    EXPECT_EQ(hand.headerType, derived->headerType);
    EXPECT_EQ(hand.keyType, derived->keyType);
    EXPECT_EQ(hand.elemType, derived->elemType);
    EXPECT_EQ(hand.indirectKey, derived->indirectKey);
    EXPECT_EQ(hand.indirectElem, derived->indirectElem);
    EXPECT_EQ(hand.keySize, derived->keySize);
    EXPECT_EQ(hand.elemSize, derived->elemSize);
    if (hand.kind == gomapcore::MapLayoutKind::Classic) {
        const gomapcore::ClassicLayout& h = hand.classic;
        const gomapcore::ClassicLayout& d = derived->classic;
        EXPECT_EQ(h.headerSize, d.headerSize);
        expectSlot(h.count, d.count, "count");
        expectSlot(h.flags, d.flags, "flags");
        expectSlot(h.B, d.B, "B");
        expectSlot(h.noverflow, d.noverflow, "noverflow");
        expectSlot(h.hash0, d.hash0, "hash0");
        expectSlot(h.buckets, d.buckets, "buckets");
        expectSlot(h.oldbuckets, d.oldbuckets, "oldbuckets");
        expectSlot(h.nevacuate, d.nevacuate, "nevacuate");
        expectSlot(h.clearSeq, d.clearSeq, "clearSeq");
        expectSlot(h.extra, d.extra, "extra");
        EXPECT_EQ(h.bucketSize, d.bucketSize);
        expectSlot(h.tophash, d.tophash, "tophash");
        expectSlot(h.keys, d.keys, "keys");
        expectSlot(h.values, d.values, "values");
        expectSlot(h.overflow, d.overflow, "overflow");
        EXPECT_EQ(h.keySlotSize, d.keySlotSize);
        EXPECT_EQ(h.elemSlotSize, d.elemSlotSize);
        expectSlot(h.extraOverflow, d.extraOverflow, "extra.overflow");
        expectSlot(h.extraOldOverflow, d.extraOldOverflow, "extra.oldoverflow");
        expectSlot(h.extraNextOverflow, d.extraNextOverflow, "extra.nextOverflow");
    } else {
        const gomapcore::SwissLayout& h = hand.swiss;
        const gomapcore::SwissLayout& d = derived->swiss;
        EXPECT_EQ(h.headerSize, d.headerSize);
        expectSlot(h.used, d.used, "used");
        expectSlot(h.seed, d.seed, "seed");
        expectSlot(h.dirPtr, d.dirPtr, "dirPtr");
        expectSlot(h.dirLen, d.dirLen, "dirLen");
        expectSlot(h.globalDepth, d.globalDepth, "globalDepth");
        expectSlot(h.globalShift, d.globalShift, "globalShift");
        expectSlot(h.writing, d.writing, "writing");
        expectSlot(h.tombstonePossible, d.tombstonePossible, "tombstonePossible");
        expectSlot(h.clearSeq, d.clearSeq, "clearSeq");
        EXPECT_EQ(h.tableSize, d.tableSize);
        expectSlot(h.tableUsed, d.tableUsed, "table.used");
        expectSlot(h.capacity, d.capacity, "capacity");
        expectSlot(h.growthLeft, d.growthLeft, "growthLeft");
        expectSlot(h.localDepth, d.localDepth, "localDepth");
        expectSlot(h.index, d.index, "index");
        expectSlot(h.groupsData, d.groupsData, "groups.data");
        expectSlot(h.lengthMask, d.lengthMask, "groups.lengthMask");
        EXPECT_EQ(h.groupSize, d.groupSize);
        expectSlot(h.ctrl, d.ctrl, "ctrl");
        EXPECT_EQ(h.splitGroup, d.splitGroup);
        EXPECT_EQ(h.slotsOffset, d.slotsOffset);
        EXPECT_EQ(h.slotStride, d.slotStride);
        EXPECT_EQ(h.keyInSlot, d.keyInSlot);
        EXPECT_EQ(h.elemInSlot, d.elemInSlot);
    }
}

TEST(LayoutBuilders, ClassicLayoutsMatchTheDocumentedAmd64Sizes) {
    LayoutFactory f;
    EXPECT_EQ(f.classicInt64Int64().classic.bucketSize, 144u);
    EXPECT_EQ(f.classicInt64Int64().classic.overflow.offset, 136u);
    // bucket<int64,main.Big>: values [8]*main.Big @72, overflow @136, 144 bytes.
    const MapTypeLayout& big = f.classicInt64Big();
    EXPECT_TRUE(big.indirectElem);
    EXPECT_FALSE(big.indirectKey);
    EXPECT_EQ(big.elemSize, 200u);
    EXPECT_EQ(big.classic.values.offset, 72u);
    EXPECT_EQ(big.classic.bucketSize, 144u);
    // bucket<uint32,struct {}>: 48 bytes, values (size 0) and overflow both @40.
    const MapTypeLayout& set = f.classicUint32Empty();
    EXPECT_EQ(set.classic.bucketSize, 48u);
    EXPECT_EQ(set.classic.values.offset, 40u);
    EXPECT_EQ(set.classic.values.size, 0u);
    EXPECT_EQ(set.classic.overflow.offset, 40u);
}

TEST(LayoutBuilders, SwissLayoutsMatchTheDocumentedAmd64Sizes) {
    LayoutFactory f;
    EXPECT_EQ(f.swissInt64Int64().swiss.groupSize, 136u);
    EXPECT_EQ(f.swissInt64Big().swiss.groupSize, 136u);  // slots of {int64; *main.Big}
    EXPECT_TRUE(f.swissInt64Big().indirectElem);
    EXPECT_EQ(f.swissUint32Empty().swiss.groupSize, 72u);  // slots padded to 8 bytes
    EXPECT_EQ(f.swissUint32Empty().swiss.slotStride, 8u);
}

TEST(LayoutBuilders, HandLayoutsAgreeWithLayoutCatalog) {
    LayoutFactory f;
    for (const MapTypeLayout* layout :
         {&f.classicInt64Int64(), &f.classicInt64PtrT(), &f.classicInt64Big(), &f.classicUint32Empty(),
          &f.swissInt64Int64(), &f.swissInt64PtrT(), &f.swissInt64Big(), &f.swissUint32Empty()}) {
        SCOPED_TRACE(layout->mapType->name + " " + gomapcore::toString(layout->kind));
        expectSameLayout(*layout);
    }
}

}  // namespace
