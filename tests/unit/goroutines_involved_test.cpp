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

}  // namespace
}  // namespace gomapcore
