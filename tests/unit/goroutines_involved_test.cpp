// Which goroutines a map or a crash involves, as the GUI's goroutines view marks them.
#include <gtest/gtest.h>

#include "gomapcore/crash.h"
#include "gomapcore/map_model.h"

namespace gomapcore {
namespace {

TEST(HoldingGoroutines, StackRootsNameTheirGoroutineOnce) {
    MapResult map;
    map.roots = {"main.users", "goroutine 7 main.handler m",
                 "goroutine 12 main.worker.func1 (closure main.worker.func1).cache",
                 "goroutine 7 main.handler byID", "goroutine 3 main.localHolder stack object at fp-0x40"};
    EXPECT_EQ(map.holdingGoroutines(), (std::vector<std::int64_t>{3, 7, 12}));
}

TEST(HoldingGoroutines, OnlyWellFormedGoroutineRootsCount) {
    MapResult map;
    map.roots = {"goroutine", "goroutine x main.f m", "goroutine 9x main.f m", "main.goroutine 4 m",
                 "goroutine 5"};
    EXPECT_EQ(map.holdingGoroutines(), (std::vector<std::int64_t>{5}));
}

TEST(GoroutinesInvolved, TheCrashingGoroutineAndTheOthersHoldingItsMap) {
    CrashReport crash;
    EXPECT_TRUE(crash.goroutinesInvolved().empty());
    crash.goroutine = 8;
    crash.others = {MapHolder{6, "variable m", {}}, MapHolder{1, "in runtime.mapassign_fast64", {}},
                    MapHolder{6, "variable n", {}}};
    EXPECT_EQ(crash.goroutinesInvolved(), (std::vector<std::int64_t>{1, 6, 8}));
}

TEST(MapPlaces, EveryNodeOnceByAddressAndAtMostMax) {
    MapResult map;
    map.root.address = 0x5000;
    MapNode bucket{NodeKind::Bucket, 0x7000, 144, 0, AddressState::Captured, 0, {}, {}, {}, {}};
    MapNode overflow{NodeKind::OverflowBucket, 0x6000, 144, -1, AddressState::Unmapped, 0, {}, {}, {}, {}};
    bucket.children.push_back(overflow);
    map.root.children = {bucket, overflow};  // the same overflow bucket reached twice
    auto places = map.places(10);
    ASSERT_EQ(places.size(), 3u);
    EXPECT_EQ(places[0].address, 0x5000u);
    EXPECT_EQ(places[1].address, 0x6000u);
    EXPECT_EQ(places[1].state, AddressState::Unmapped);
    EXPECT_EQ(places[1].kind, NodeKind::OverflowBucket);
    EXPECT_EQ(places[2].address, 0x7000u);
    // A finding's address is a place, with its rule, though no node lies there.
    map.root.findings.push_back(
        Finding{"buckets-unmapped", Severity::Error, 0x5000, 0x9000, "buckets lie in no mapping"});
    places = map.places(10);
    ASSERT_EQ(places.size(), 4u);
    EXPECT_EQ(places[3].address, 0x9000u);
    EXPECT_EQ(places[3].rule, "buckets-unmapped");
    EXPECT_TRUE(places[3].suspect());
    EXPECT_FALSE(places[0].suspect());
    // An info finding (waste, not damage) marks nothing.
    map.root.findings.push_back(
        Finding{"map-oversized", Severity::Info, 0x5000, 0x5000, "grown, then emptied"});
    EXPECT_FALSE(map.places(10)[0].suspect());
    // Cut to one, the unmapped overflow bucket (the lowest suspect place) is what stays.
    auto cut = map.places(1);
    ASSERT_EQ(cut.size(), 1u);
    EXPECT_EQ(cut[0].address, 0x6000u);
}

}  // namespace
}  // namespace gomapcore
