// Unreached maps (heap objects that validate as map headers though no typed root reaches them)
// and the pointer-into-free-memory rule, over the corpus of real cores. The samples turn the GC
// off (samples/README.md), so dropped maps stay allocated and nothing a map uses is ever freed.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <set>

#include "analysis/session.h"
#include "corpus.h"
#include "gomapcore/analysis.h"

namespace gomapcore {
namespace {

using testing::CorpusCase;
using testing::parseHex;

class UnreachedTest : public ::testing::TestWithParam<CorpusCase> {
  protected:
    void SetUp() override {
        const testing::AnalyzedCase& analyzed = testing::analyzedCase(GetParam());
        analysis_ = analyzed.analysis.get();
        report_ = analyzed.report;
    }
    std::vector<const MapResult*> unreached() const {
        std::vector<const MapResult*> out;
        for (const MapResult& map : report_.maps)
            if (map.roots.empty()) out.push_back(&map);
        return out;
    }

    Analysis* analysis_ = nullptr;  // shared by the case's tests (testing::analyzedCase)
    Report report_;
};

TEST_P(UnreachedTest, EveryUnreachedMapValidates) {
    const HeapModel* heap = analysis_->session().heap();
    ASSERT_NE(heap, nullptr);
    const Type* header = analysis_->session().types().byName(
        report_.target.mapLayout == gomapcore::MapLayoutKind::Classic ? "runtime.hmap"
                                                                      : "internal/runtime/maps.Map");
    ASSERT_NE(header, nullptr);
    for (const MapResult* map : unreached()) {
        SCOPED_TRACE(::testing::Message() << "unreached map at 0x" << std::hex << map->address);
        EXPECT_EQ(map->confidence, gomapcore::Confidence::Heuristic);
        // What Analysis::validatesAsMap demands: a complete walk, no warning, the header's count
        // equal to the entries found, and storage behind the header.
        EXPECT_EQ(map->status(), gomapcore::MapStatus::Ok);
        EXPECT_TRUE(map->headerReadable);
        EXPECT_TRUE(map->complete);
        EXPECT_TRUE(map->findings().empty());
        EXPECT_GE(map->count, 0);
        EXPECT_EQ(static_cast<std::uint64_t>(map->count), map->liveEntries);
        bool storage = false;
        for (const auto& [name, value] : map->header)
            storage |= (name == "buckets" || name == "dirPtr") && value != 0;
        EXPECT_TRUE(storage);
        // The header is an allocation of its own, in the header type's size class.
        HeapAddress h = heap->classify(map->address);
        EXPECT_EQ(h.kind, HeapAddressKind::InUseObjectAllocated) << toString(h.kind);
        EXPECT_EQ(h.objectStart, map->address);
        EXPECT_GE(h.objectSize, header->byteSize());
        EXPECT_LT(h.objectSize, header->byteSize() + 16);
        // Its type: one that validated, or "unknown" with every candidate.
        if (map->typeCandidates.size() > 1) {
            EXPECT_NE(std::find(map->typeCandidates.begin(), map->typeCandidates.end(), map->typeName()),
                      map->typeCandidates.end());
            for (const std::string& name : map->typeCandidates)
                EXPECT_EQ(name.find("go.shape."), std::string::npos) << name;
        }
    }
    std::cout << "[unreached] " << GetParam().build << "/" << GetParam().scenario << ": "
              << unreached().size() << " unreached maps of " << report_.maps.size() << "\n";
}

TEST_P(UnreachedTest, NoneDuplicatesAMapOrHidesAGroundTruthOne) {
    std::set<std::uint64_t> addresses;
    for (const MapResult& map : report_.maps)
        EXPECT_TRUE(addresses.insert(map.address).second)
            << "map 0x" << std::hex << map.address << " is reported twice";
    // Every map the program knew about is reached from a root.
    for (const auto& truth : GetParam().records("map")) {
        if (truth.value("nil", false)) continue;
        std::uint64_t address = parseHex(truth["addr"]);
        for (const MapResult& map : report_.maps) {
            if (map.address == address) {
                EXPECT_FALSE(map.roots.empty())
                    << truth["root"] << " at " << truth["addr"] << " is reported as unreached";
            }
        }
    }
}

TEST_P(UnreachedTest, NoMapPointsIntoFreeMemory) {
    // The GC is off in every sample: no map structure can have been freed.
    for (const Finding& f : report_.findings())
        EXPECT_NE(f.rule, rules::kPointerIntoFreeMemory) << f.message;
}

INSTANTIATE_TEST_SUITE_P(Corpus, UnreachedTest, ::testing::ValuesIn(testing::corpusCases()),
                         testing::caseTestName);

// An unreached map's candidate types all have the pointer words the heap records for its
// storage (a small map's one group, or the buckets): those that do not were dropped.
TEST_P(UnreachedTest, CandidateTypesShareTheHeapPointerWordsOfTheStorage) {
    const HeapModel* heap = analysis_->session().heap();
    ASSERT_NE(heap, nullptr);
    int compared = 0;
    for (const MapResult* map : unreached()) {
        std::uint64_t storage = 0, dirLen = 0;
        for (const auto& [name, value] : map->header) {
            if (name == "buckets" || name == "dirPtr") storage = value;
            if (name == "dirLen") dirLen = value;
        }
        if (storage == 0 || dirLen != 0) continue;
        auto words = heap->objectPointerWords(storage);
        if (!words) continue;
        std::vector<std::string> types = map->typeCandidates;
        if (types.empty()) types.push_back(map->typeName());
        for (const std::string& name : types) {
            const MapTypeLayout* layout =
                analysis_->session().layouts().layoutFor(analysis_->session().types().byName(name));
            ASSERT_NE(layout, nullptr) << name;
            std::vector<bool> first(
                words->begin(),
                words->begin() + std::min<std::size_t>(words->size(), layout->storageSize() / 8));
            while (!first.empty() && !first.back())
                first.pop_back();
            EXPECT_EQ(layout->storagePointerWords(), first)
                << "unreached map at 0x" << std::hex << map->address << " candidate " << name;
        }
        ++compared;
    }
    std::cout << "[unreached] " << GetParam().build << "/" << GetParam().scenario << ": " << compared
              << " unreached maps' candidates checked against heap pointer words\n";
    if (heap->layout().heapBitsInSpan && GetParam().scenario == "healthy") {
        EXPECT_GT(compared, 0);
    }
}

// The scan's own bounds, on a real core with unreached maps: each stops the scan, is named in
// the report's limits_hit, and leaves a note.
TEST(UnreachedScanBounds, EachBoundStopsTheScanAndIsReported) {
    const std::string dir = testing::corpusDir() + "/go1.23/";
    auto countUnreached = [](const Report& r) {
        return std::count_if(r.maps.begin(), r.maps.end(),
                             [](const MapResult& m) { return m.roots.empty(); });
    };
    auto has = [](const Report& r, const std::string& limit) {
        return std::find(r.limitsHit.begin(), r.limitsHit.end(), limit) != r.limitsHit.end();
    };
    Report unbounded = Analysis::open(dir + "healthy.core", dir + "mapcrash")->run({});
    ASSERT_GE(countUnreached(unbounded), 2);
    EXPECT_FALSE(has(unbounded, "max-unreached-candidates"));
    EXPECT_FALSE(has(unbounded, "max-unreached-validations"));

    AnalysisOptions fewCandidates;
    fewCandidates.unreached.maxCandidates = 1;
    auto analysis = Analysis::open(dir + "healthy.core", dir + "mapcrash");
    Report a = analysis->run(fewCandidates);
    EXPECT_TRUE(has(a, "max-unreached-candidates"));
    EXPECT_LT(countUnreached(a), countUnreached(unbounded));
    ASSERT_FALSE(a.notes.empty());
    // A second run of the same Analysis (the GUI's redacted export) repeats no note or limit.
    Report again = analysis->run(fewCandidates);
    EXPECT_EQ(std::set<std::string>(again.notes.begin(), again.notes.end()).size(), again.notes.size());
    EXPECT_EQ(std::set<std::string>(again.limitsHit.begin(), again.limitsHit.end()).size(),
              again.limitsHit.size());

    AnalysisOptions fewValidations;
    fewValidations.unreached.maxValidations = 1;
    Report b = Analysis::open(dir + "healthy.core", dir + "mapcrash")->run(fewValidations);
    EXPECT_TRUE(has(b, "max-unreached-validations"));
    EXPECT_LE(countUnreached(b), 1);
}

}  // namespace
}  // namespace gomapcore
