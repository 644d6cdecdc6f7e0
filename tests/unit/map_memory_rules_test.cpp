// The memory rules (map-oversized, map-overflow-heavy) on hand-made walk results, at and around
// their thresholds, and the out-of-memory throw messages.
#include <gtest/gtest.h>

#include "analysis/map_memory.h"
#include "analysis/out_of_memory.h"
#include "maps/map_layout.h"

namespace gomapcore {
namespace {

class MemoryRulesTest : public ::testing::Test {
  protected:
    // A readable classic map with B, count live entries and the given slots and bytes.
    MapResult classic(std::uint64_t B, std::int64_t count, std::uint64_t capacity, std::uint64_t bytes) {
        layout_.kind = MapLayoutKind::Classic;
        MapResult map;
        map.address = 0x1000;
        map.layout = &layout_;
        map.headerReadable = true;
        map.count = count;
        map.header.emplace_back("B", B);
        map.memory.capacity = capacity;
        map.memory.buckets = bytes;
        return map;
    }
    static std::vector<std::string> rulesOf(const MapResult& map) {
        std::vector<std::string> out;
        for (const Finding& f : map.findings())
            out.push_back(f.rule);
        return out;
    }
    MapTypeLayout layout_;
    MemoryRules rules_;
};

TEST_F(MemoryRulesTest, FreshSmallMapsAreNotOversized) {
    // B = 0 with one entry: 8 slots per entry, the ratio itself, but far below the size floor.
    MapResult b0 = classic(0, 1, 8, 144);
    checkMapMemory(b0, rules_);
    EXPECT_TRUE(rulesOf(b0).empty());
    // B = 1 presized, one entry: 16 slots.
    MapResult b1 = classic(1, 1, 16, 288);
    checkMapMemory(b1, rules_);
    EXPECT_TRUE(rulesOf(b1).empty());
    // A never-written map has no slots at all.
    MapResult none = classic(0, 0, 0, 48);
    checkMapMemory(none, rules_);
    EXPECT_TRUE(rulesOf(none).empty());
}

TEST_F(MemoryRulesTest, GrownThenEmptiedMapIsOversized) {
    // 2^18 buckets (the sample's map of a million entries) holding 10.
    MapResult map = classic(18, 10, (std::uint64_t{1} << 18) * 8, 40u << 20);
    checkMapMemory(map, rules_);
    ASSERT_EQ(rulesOf(map), std::vector<std::string>{rules::kMapOversized});
    EXPECT_EQ(map.findings().front().severity, Severity::Warning);
    EXPECT_EQ(map.findings().front().address, map.address);
}

TEST_F(MemoryRulesTest, OversizedThresholdsAreExactAndAdjustable) {
    // Exactly 8 slots per entry at exactly the floor: raised; one entry more, or a byte less: not.
    const std::uint64_t floor = rules_.oversizedMinBytes;
    MapResult at = classic(10, 1024, 8192, floor);
    checkMapMemory(at, rules_);
    EXPECT_EQ(rulesOf(at), std::vector<std::string>{rules::kMapOversized});
    MapResult moreLive = classic(10, 1025, 8192, floor);
    checkMapMemory(moreLive, rules_);
    EXPECT_TRUE(rulesOf(moreLive).empty());
    MapResult smaller = classic(10, 1024, 8192, floor - 1);
    checkMapMemory(smaller, rules_);
    EXPECT_TRUE(rulesOf(smaller).empty());
    MemoryRules strict = rules_;
    strict.oversizedRatio = 4;
    strict.oversizedMinBytes = 0;
    MapResult half = classic(10, 2048, 8192, 100);
    checkMapMemory(half, strict);
    EXPECT_EQ(rulesOf(half), std::vector<std::string>{rules::kMapOversized});
}

TEST_F(MemoryRulesTest, OverflowHeavyNeedsRatioAndCount) {
    // 2^7 = 128 main buckets: 64 overflow buckets is the ratio 0.5 and the minimum count.
    MapResult heavy = classic(7, 1000, (128 + 64) * 8, 50000);
    heavy.memory.overflowBuckets = 64;
    checkMapMemory(heavy, rules_);
    ASSERT_EQ(rulesOf(heavy), std::vector<std::string>{rules::kMapOverflowHeavy});
    EXPECT_EQ(heavy.findings().front().severity, Severity::Info);
    MapResult light = classic(7, 1000, (128 + 63) * 8, 50000);
    light.memory.overflowBuckets = 63;
    checkMapMemory(light, rules_);
    EXPECT_TRUE(rulesOf(light).empty());
    // Many overflow buckets behind many more main buckets: not heavy.
    MapResult spread = classic(12, 20000, (4096 + 1000) * 8, 1 << 20);
    spread.memory.overflowBuckets = 1000;
    checkMapMemory(spread, rules_);
    EXPECT_TRUE(rulesOf(spread).empty());
    // Swiss maps have no overflow buckets; the rule is classic only.
    MapResult swiss = classic(7, 1000, 1024, 50000);
    layout_.kind = MapLayoutKind::Swiss;
    swiss.memory.overflowBuckets = 500;
    checkMapMemory(swiss, rules_);
    EXPECT_TRUE(rulesOf(swiss).empty());
}

TEST_F(MemoryRulesTest, UnreadableHeaderGivesNoMemoryFinding) {
    MapResult map = classic(18, 10, (std::uint64_t{1} << 18) * 8, 40u << 20);
    map.headerReadable = false;
    checkMapMemory(map, rules_);
    EXPECT_TRUE(rulesOf(map).empty());
}

TEST(OutOfMemoryMessage, TheRuntimesThrows) {
    for (const char* message :
         {"out of memory", "runtime: out of memory", "out of memory allocating heap arena map",
          "out of memory allocating heap arena metadata", "out of memory (stackalloc)"})
        EXPECT_EQ(outOfMemoryMessage(message), std::string_view(message));
    // A stale length reads past the message into whatever the linker put after it.
    EXPECT_EQ(outOfMemoryMessage("out of memoryout-of-memoryparsing time"),
              std::string_view("out of memory"));
    EXPECT_EQ(outOfMemoryMessage("runtime: out of memoryX"), std::string_view("runtime: out of memory"));
    for (const char* message :
         {"", "concurrent map writes", "fatal: out of memory", "out of", "Out of memory"})
        EXPECT_FALSE(outOfMemoryMessage(message).has_value()) << message;
}

}  // namespace
}  // namespace gomapcore
