// rankByBytes (the maps and map groups of a report by bytes held, as the GUI's memory view
// draws them) and bytesText on hand-made reports.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>

#include "gomapcore/report.h"

namespace gomapcore {
namespace {

MapResult mapHolding(std::uint64_t address, std::uint64_t bytes) {
    MapResult map;
    map.address = address;
    map.memory.header = 48;
    map.memory.buckets = bytes - 48;
    return map;
}

MapGroup groupHolding(std::string pattern, std::uint64_t maps, std::uint64_t bytes) {
    MapGroup group;
    group.type = "map[int]int";
    group.rootPattern = std::move(pattern);
    group.maps = maps;
    group.bytes = bytes;
    return group;
}

// Five maps (two of the same size) and two groups, one of them the largest line of all.
Report sampleReport() {
    Report report;
    report.maps = {mapHolding(0x5000, 4096), mapHolding(0x1000, 1 << 20), mapHolding(0x3000, 4096),
                   mapHolding(0x2000, 144), mapHolding(0x4000, 100'000)};
    report.mapGroups = {groupHolding("main.many[*]", 1000, 10 << 20), groupHolding("main.few[*]", 3, 4096)};
    return report;
}

std::vector<std::string> order(const MemoryRanking& ranking) {
    std::vector<std::string> out;
    for (const MemoryShare& line : ranking.top)
        out.push_back(line.map != nullptr ? fmt::format("{:#x}", line.map->address)
                                          : line.group->rootPattern);
    return out;
}

TEST(MemoryRanking, LargestFirstMapsAndGroupsTogether) {
    const Report report = sampleReport();
    const MemoryRanking ranking = rankByBytes(report, 100);
    // Ties of 4096 bytes: the maps by address, then the group.
    EXPECT_EQ(order(ranking), (std::vector<std::string>{"main.many[*]", "0x1000", "0x4000", "0x3000",
                                                        "0x5000", "main.few[*]", "0x2000"}));
    for (const MemoryShare& line : ranking.top) {
        EXPECT_NE(line.map == nullptr, line.group == nullptr);
        EXPECT_EQ(line.bytes, line.map != nullptr ? line.map->memory.bytes() : line.group->bytes);
    }
    EXPECT_EQ(ranking.restLines, 0u);
    EXPECT_EQ(ranking.restMaps, 0u);
    EXPECT_EQ(ranking.restBytes, 0u);
    EXPECT_EQ(ranking.totalMaps, report.mapCount());
    EXPECT_EQ(ranking.totalMaps, 1008u);
    EXPECT_EQ(ranking.totalBytes, (10u << 20) + (1u << 20) + 100'000u + 3 * 4096u + 144u);
}

TEST(MemoryRanking, TheLinesPastTheLimitAreSummedNotDropped) {
    const Report report = sampleReport();
    const MemoryRanking full = rankByBytes(report, 100);
    for (std::size_t limit = 0; limit <= 8; ++limit) {
        const MemoryRanking ranking = rankByBytes(report, limit);
        const std::size_t shown = std::min<std::size_t>(limit, 7);
        ASSERT_EQ(ranking.top.size(), shown) << limit;
        // The same lines as the whole ranking's first ones.
        for (std::size_t i = 0; i < shown; ++i) {
            EXPECT_EQ(ranking.top[i].map, full.top[i].map) << limit << " " << i;
            EXPECT_EQ(ranking.top[i].group, full.top[i].group) << limit << " " << i;
        }
        std::uint64_t maps = 0, bytes = 0;
        for (std::size_t i = shown; i < full.top.size(); ++i) {
            maps += full.top[i].map != nullptr ? 1 : full.top[i].group->maps;
            bytes += full.top[i].bytes;
        }
        EXPECT_EQ(ranking.restLines, 7 - shown) << limit;
        EXPECT_EQ(ranking.restMaps, maps) << limit;
        EXPECT_EQ(ranking.restBytes, bytes) << limit;
        EXPECT_EQ(ranking.totalMaps, full.totalMaps);
        EXPECT_EQ(ranking.totalBytes, full.totalBytes);
    }
    // Limit 1: the group of 1000 maps alone; the rest is 6 lines, the 5 maps and the group of 3.
    const MemoryRanking one = rankByBytes(report, 1);
    EXPECT_EQ(one.restLines, 6u);
    EXPECT_EQ(one.restMaps, 8u);
}

TEST(MemoryRanking, AnEmptyReportHasNoLines) {
    const MemoryRanking ranking = rankByBytes(Report{}, 200);
    EXPECT_TRUE(ranking.top.empty());
    EXPECT_EQ(
        ranking.restLines + ranking.restMaps + ranking.restBytes + ranking.totalMaps + ranking.totalBytes,
        0u);
}

// Thousands of maps of random sizes: sorted, and what is shown plus the rest is everything.
TEST(MemoryRanking, ThousandsOfMapsStaySortedAndAddUp) {
    Report report;
    std::uint64_t seed = 42, sum = 0;
    for (std::uint64_t i = 0; i < 5000; ++i) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        const std::uint64_t bytes = 48 + (seed >> 40) % 5'000'000;
        report.maps.push_back(mapHolding(0xc000000000 + i * 48, bytes));
        sum += bytes;
    }
    const MemoryRanking ranking = rankByBytes(report, 200);
    ASSERT_EQ(ranking.top.size(), 200u);
    for (std::size_t i = 1; i < ranking.top.size(); ++i)
        EXPECT_GE(ranking.top[i - 1].bytes, ranking.top[i].bytes);
    std::uint64_t shown = 0;
    for (const MemoryShare& line : ranking.top)
        shown += line.bytes;
    EXPECT_EQ(shown + ranking.restBytes, sum);
    EXPECT_EQ(ranking.totalBytes, sum);
    EXPECT_EQ(ranking.restLines, 4800u);
    EXPECT_EQ(ranking.restMaps, 4800u);
    // No line past the limit holds more than the last one shown.
    std::vector<std::uint64_t> all;
    for (const MapResult& map : report.maps)
        all.push_back(map.memory.bytes());
    std::sort(all.rbegin(), all.rend());
    EXPECT_EQ(ranking.top.back().bytes, all[199]);
}

TEST(BytesText, UnitsForPeople) {
    EXPECT_EQ(bytesText(0), "0 B");
    EXPECT_EQ(bytesText(1023), "1023 B");
    EXPECT_EQ(bytesText(1024), "1.0 KiB");
    EXPECT_EQ(bytesText(1536), "1.5 KiB");
    EXPECT_EQ(bytesText(std::uint64_t{12} << 20), "12.0 MiB");
    EXPECT_EQ(bytesText(std::uint64_t{3} << 30), "3.0 GiB");
}

}  // namespace
}  // namespace gomapcore
