// Checks every layout assumption the walkers make against the DWARF of each Go build in the
// corpus: the synthesized per-map types must agree with the runtime's own struct
// declarations, and buckets/groups must have the shape the walkers index into.
#include <gtest/gtest.h>

#include "binary/executable.h"
#include "binary/types.h"
#include "corpus.h"
#include "maps/map_layout.h"

namespace gomapcore {
namespace {

class LayoutTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        exe_ = Executable::open(testing::corpusDir() + "/" + GetParam() + "/mapcrash");
        types_ = std::make_unique<TypeTable>(exe_->dwarf());
        catalog_ = std::make_unique<LayoutCatalog>(*types_);
    }
    // Every field of the runtime's struct must sit at the same offset with the same size in
    // the synthesized copy.
    void expectSameFields(const Type* runtimeType, const Type* synthesized) {
        ASSERT_NE(runtimeType, nullptr);
        ASSERT_NE(synthesized, nullptr);
        EXPECT_EQ(runtimeType->byteSize(), synthesized->byteSize()) << synthesized->name;
        for (const Field& f : runtimeType->underlying()->fields) {
            const Field* copy = synthesized->field(f.name);
            ASSERT_NE(copy, nullptr) << synthesized->name << " lacks " << f.name;
            EXPECT_EQ(copy->offset, f.offset) << synthesized->name << "." << f.name;
            EXPECT_EQ(copy->type->byteSize(), f.type->byteSize()) << synthesized->name << "." << f.name;
        }
    }

    std::unique_ptr<Executable> exe_;
    std::unique_ptr<TypeTable> types_;
    std::unique_ptr<LayoutCatalog> catalog_;
};

TEST_P(LayoutTest, EveryMapTypeMatchesTheRuntime) {
    const Type* hmap = types_->byName("runtime.hmap");
    const Type* swissMap = types_->byName("internal/runtime/maps.Map");
    const Type* swissTable = types_->byName("internal/runtime/maps.table");
    ASSERT_TRUE((hmap != nullptr) != (swissMap != nullptr)) << "exactly one map implementation per binary";
    bool classic = hmap != nullptr;
    const std::string go = testing::goBuild(GetParam());
    bool noswiss = go.find("noswiss") != std::string::npos;
    bool pre124 = go == "go1.19" || go == "go1.21" || go == "go1.22" || go == "go1.23";
    EXPECT_EQ(classic, noswiss || pre124);
    if (classic) {
        // 48 bytes through 1.23; 56 with clearSeq for 1.24/1.25 noswissmap (GO-MAPS.md §2.1).
        EXPECT_EQ(hmap->byteSize(), noswiss ? 56u : 48u);
        EXPECT_EQ(hmap->field("clearSeq") != nullptr, noswiss);
    } else {
        EXPECT_EQ(swissMap->byteSize(), 48u);
        ASSERT_NE(swissTable, nullptr);
        EXPECT_EQ(swissTable->byteSize(), 32u);
        bool has125Field = swissMap->field("tombstonePossible") != nullptr;
        EXPECT_EQ(has125Field, go != "go1.24") << "tombstonePossible exists from Go 1.25 on";
    }

    auto names = types_->mapTypeNames();
    ASSERT_GT(names.size(), 10u);
    int checked = 0;
    for (const std::string& name : names) {
        const Type* mapType = types_->byName(name);
        ASSERT_NE(mapType, nullptr) << name;
        std::string why;
        const MapTypeLayout* layout = catalog_->layoutFor(mapType, &why);
        ASSERT_NE(layout, nullptr) << name << ": " << why;
        EXPECT_EQ(layout->kind, classic ? MapLayoutKind::Classic : MapLayoutKind::Swiss) << name;
        EXPECT_EQ(layout->indirectKey, layout->keySize > 128) << name;
        EXPECT_EQ(layout->indirectElem, layout->elemSize > 128) << name;
        if (classic) {
            const ClassicLayout& c = layout->classic;
            expectSameFields(hmap, layout->headerType);
            EXPECT_EQ(c.tophash.offset, 0u) << name;
            EXPECT_EQ(c.tophash.size, 8u) << name;
            EXPECT_EQ(c.keys.offset, 8u) << name;
            EXPECT_EQ(c.values.offset, 8 + 8 * c.keySlotSize) << name;
            // overflow is the final word with no trailing padding (reflectdata MapBucketType).
            EXPECT_EQ(c.overflow.offset, c.bucketSize - 8) << name;
            EXPECT_EQ(c.bucketSize, 8 + 8 * c.keySlotSize + 8 * c.elemSlotSize + 8 +
                                        (c.overflow.offset - (8 + 8 * c.keySlotSize + 8 * c.elemSlotSize)))
                << name;
            EXPECT_EQ(c.keySlotSize, layout->indirectKey ? 8 : layout->keySize) << name;
            EXPECT_EQ(c.elemSlotSize, layout->indirectElem ? 8 : layout->elemSize) << name;
        } else {
            const SwissLayout& s = layout->swiss;
            expectSameFields(swissMap, layout->headerType);
            EXPECT_EQ(s.tableSize, 32u) << name;
            EXPECT_EQ(s.ctrl.offset, 0u) << name;
            EXPECT_EQ(s.ctrl.size, 8u) << name;
            EXPECT_EQ(s.groupsData.offset, 16u) << name;
            EXPECT_EQ(s.lengthMask.offset, 24u) << name;
            EXPECT_EQ(s.splitGroup, GetParam().find("splitgroup") != std::string::npos) << name;
            if (s.splitGroup) {
                EXPECT_EQ(s.keysOffset, 8u) << name;
                EXPECT_GE(s.elemsOffset, s.keysOffset + 8 * s.keyStride) << name;
                EXPECT_LE(s.elemsOffset + 8 * s.elemStride, s.groupSize) << name;
            } else {
                EXPECT_EQ(s.slotsOffset, 8u) << name;
                EXPECT_EQ(s.groupSize, 8 + 8 * s.slotStride) << name;
                EXPECT_LE(s.elemInSlot + (layout->indirectElem ? 8 : layout->elemSize), s.slotStride) << name;
            }
        }
        ++checked;
    }
    EXPECT_EQ(checked, static_cast<int>(names.size()));
}

// The pointer words of a bucket or group, as gomapcore derives them from DWARF to compare with
// the bitmaps the compiler writes for stack objects: a string key's data word in each slot, a
// string elem's likewise, and (classic) the overflow pointer when anything else is a pointer.
TEST_P(LayoutTest, StoragePointerWordsFollowTheSlots) {
    auto wordsOf = [&](const char* name) -> std::vector<bool> {
        const Type* type = types_->byName(name);
        EXPECT_NE(type, nullptr) << name;
        const MapTypeLayout* layout = type != nullptr ? catalog_->layoutFor(type) : nullptr;
        EXPECT_NE(layout, nullptr) << name;
        if (layout == nullptr) return {};
        auto words = layout->storagePointerWords();
        EXPECT_TRUE(words.has_value()) << name;
        return words.value_or(std::vector<bool>{});
    };
    auto expected = [&](const char* name, bool keyPointer, bool elemPointer) {
        const MapTypeLayout* layout = catalog_->layoutFor(types_->byName(name));
        std::vector<bool> words(layout->storageSize() / 8);
        for (unsigned i = 0; i < 8; ++i) {
            if (keyPointer) words.at(layout->keySlot(0, i) / 8) = true;
            if (elemPointer) words.at(layout->elemSlot(0, i) / 8) = true;
        }
        if (layout->kind == MapLayoutKind::Classic && (keyPointer || elemPointer))
            words.at(layout->classic.overflow.offset / 8) = true;
        while (!words.empty() && !words.back())
            words.pop_back();
        return words;
    };
    EXPECT_EQ(wordsOf("map[string]int"), expected("map[string]int", true, false));
    EXPECT_EQ(wordsOf("map[int]string"), expected("map[int]string", false, true));
    // No pointer at all: the classic bucket's overflow is a uintptr then (runtime/map.go bmap).
    EXPECT_EQ(wordsOf("map[int]int"), std::vector<bool>{});
}

std::string buildName(const ::testing::TestParamInfo<std::string>& param) {
    return testing::testName(param.param);
}

INSTANTIATE_TEST_SUITE_P(Corpus, LayoutTest, ::testing::ValuesIn(testing::corpusBuilds()), buildName);

}  // namespace
}  // namespace gomapcore
