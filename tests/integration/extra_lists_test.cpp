// What a classic map's extra holds (runtime/map.go mapextra), as Analysis::inspect lists it, over
// the healthy cores of the classic builds. For maps whose buckets hold no pointers, newoverflow
// appends every overflow bucket it links to extra.overflow (so that the GC keeps them alive), and
// hashGrow moves that list to extra.oldoverflow and starts a new one. So extra.overflow lists
// exactly the overflow buckets on the chains of the bucket array, extra.oldoverflow holds every
// overflow bucket walked on the old chains, and extra.nextOverflow lies among the array's
// preallocated overflow buckets (makeBucketArray).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "corpus.h"
#include "gomapcore/analysis.h"
#include "gomapcore/report.h"

namespace gomapcore {
namespace {

const MapNode* childOf(const MapNode& parent, NodeKind kind) {
    for (const MapNode& child : parent.children)
        if (child.kind == kind) return &child;
    return nullptr;
}

std::multiset<std::uint64_t> addressesOf(const MapNode& parent, NodeKind kind) {
    std::multiset<std::uint64_t> out;
    for (const MapNode& child : parent.children)
        if (child.kind == kind) out.insert(child.address);
    return out;
}

std::vector<testing::CorpusCase> healthyCases() {
    std::vector<testing::CorpusCase> out;
    for (const testing::CorpusCase& c : testing::corpusCases())
        if (c.scenario == "healthy") out.push_back(c);
    return out;
}

class ExtraListsTest : public ::testing::TestWithParam<testing::CorpusCase> {};

TEST_P(ExtraListsTest, InspectListsTheOverflowBucketsOnTheChains) {
    const testing::AnalyzedCase& analyzed = testing::analyzedCase(GetParam());
    if (analyzed.report.target.mapLayout != MapLayoutKind::Classic)
        GTEST_SKIP() << "swiss maps have no extra";
    std::size_t listed = 0, oldListed = 0, nextOverflows = 0;
    for (const MapResult& reported : analyzed.report.maps) {
        if (reported.status() != MapStatus::Ok) continue;
        const std::string name = fmt::format("{:#x}", reported.address);
        MapInspection inspection = analyzed.analysis->inspect(name, {});
        ASSERT_TRUE(inspection.map) << name;
        const MapResult& map = *inspection.map;
        const MapNode* extra = childOf(map.root, NodeKind::Extra);
        if (extra == nullptr) continue;
        const std::string root = map.roots.empty() ? name : map.roots.front();
        if (const MapNode* list = childOf(*extra, NodeKind::OverflowList)) {
            EXPECT_EQ(list->state, AddressState::Captured) << root;
            EXPECT_EQ(addressesOf(*list, NodeKind::ListedOverflowBucket),
                      addressesOf(map.root, NodeKind::OverflowBucket))
                << root;
            listed += list->children.size();
            // show prints them under extra, with no entry count of their own.
            if (!list->children.empty()) {
                const std::string detail = renderMapDetail(analyzed.analysis->memory(), map, 0, false);
                EXPECT_NE(detail.find(fmt::format("overflow-list {:#x}\n", list->address)), std::string::npos)
                    << root;
                EXPECT_NE(
                    detail.find(fmt::format("listed-overflow-bucket #0 {:#x}\n", list->children[0].address)),
                    std::string::npos)
                    << root;
            }
        }
        if (const MapNode* old = childOf(*extra, NodeKind::OldOverflowList)) {
            const std::multiset<std::uint64_t> held = addressesOf(*old, NodeKind::ListedOverflowBucket);
            for (std::uint64_t bucket : addressesOf(map.root, NodeKind::OldOverflowBucket))
                EXPECT_EQ(held.count(bucket), 1u)
                    << root << fmt::format(" old overflow bucket {:#x}", bucket);
            oldListed += held.size();
        }
        if (const MapNode* next = childOf(*extra, NodeKind::NextOverflow)) {
            // The walk reads every main bucket of a healthy map, the first at the array's start.
            const MapNode* first = childOf(map.root, NodeKind::Bucket);
            ASSERT_NE(first, nullptr) << root;
            const std::uint64_t length = addressesOf(map.root, NodeKind::Bucket).size();
            const std::uint64_t array = first->address;
            // Past the main buckets, within the array's allocation: makeBucketArray rounds it up to
            // its size class, so the heap's span (which inspect sizes memory.buckets from) says
            // where the preallocated buckets end.
            EXPECT_GE(next->address, array + length * first->size) << root;
            EXPECT_GE(map.memory.buckets, (length + length / 16) * first->size) << root;
            EXPECT_LT(next->address, array + map.memory.buckets) << root;
            ++nextOverflows;
        }
    }
    // main.large (map[int]int, 3000 entries) has overflow chains on every classic build.
    EXPECT_GT(listed, 0u);
    std::printf("%zu overflow buckets listed, %zu old ones, %zu nextOverflow pointers\n", listed, oldListed,
                nextOverflows);
}

INSTANTIATE_TEST_SUITE_P(Corpus, ExtraListsTest, ::testing::ValuesIn(healthyCases()), testing::caseTestName);

}  // namespace
}  // namespace gomapcore
