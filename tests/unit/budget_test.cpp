// The analysis-wide budget, and the guard that keeps a length read from a core from deciding
// how much memory gomapcore allocates.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>

#include "fake_memory.h"
#include "gomapcore/budget.h"
#include "gomapcore/memory.h"

namespace {

using gomapcore::AnalysisBudget;

TEST(AnalysisBudgetTest, UnlimitedByDefault) {
    AnalysisBudget budget;
    for (int i = 0; i < 1000; ++i)
        EXPECT_FALSE(budget.timeUp());
    EXPECT_TRUE(budget.charge(std::uint64_t{1} << 40));
    EXPECT_FALSE(budget.memoryExhausted());
    EXPECT_FALSE(budget.timeExpired());
}

TEST(AnalysisBudgetTest, ChargesUntilTheLimitAndThenRefusesForGood) {
    AnalysisBudget budget;
    budget.limitMemory(100);
    EXPECT_TRUE(budget.charge(60));
    EXPECT_TRUE(budget.charge(40));  // exactly full
    EXPECT_EQ(budget.charged(), 100u);
    EXPECT_FALSE(budget.charge(1));
    EXPECT_TRUE(budget.memoryExhausted());
    EXPECT_FALSE(budget.charge(0));  // stays exhausted: later walks stop too
    EXPECT_EQ(budget.charged(), 100u);
}

TEST(AnalysisBudgetTest, AHugeChargeDoesNotWrapAround) {
    AnalysisBudget budget;
    budget.limitMemory(100);
    EXPECT_TRUE(budget.charge(50));
    EXPECT_FALSE(budget.charge(UINT64_MAX - 10));
    EXPECT_EQ(budget.charged(), 50u);
}

TEST(AnalysisBudgetTest, TimeRunsOutWithinAFewChecksOfTheDeadline) {
    AnalysisBudget budget;
    budget.limitTime(std::chrono::milliseconds(20));
    EXPECT_FALSE(budget.timeUp());
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    int checks = 0;
    while (!budget.timeUp() && checks < 1000)
        ++checks;
    EXPECT_TRUE(budget.timeExpired());
    EXPECT_LE(checks, 64);
    EXPECT_TRUE(budget.timeUp());  // and stays up
}

TEST(AnalysisBudgetTest, TimeOnlyKeepsTheDeadlineButNotTheMemoryBound) {
    AnalysisBudget budget;
    budget.limitTime(std::chrono::milliseconds(0));
    budget.limitMemory(10);
    AnalysisBudget copy = budget.timeOnly();
    EXPECT_TRUE(copy.charge(std::uint64_t{1} << 40));  // throwaway walks are not charged
    int checks = 0;
    while (!copy.timeUp() && checks < 1000)
        ++checks;
    EXPECT_TRUE(copy.timeExpired());  // but they stop in time
    EXPECT_EQ(copy.timeLimitName(), budget.timeLimitName());
    EXPECT_EQ(budget.charged(), 0u);  // and the original is untouched
}

TEST(AnalysisBudgetTest, NamesItsLimitsAsLimitsHitReportsThem) {
    AnalysisBudget budget;
    budget.limitTime(std::chrono::milliseconds(1500));
    budget.limitMemory(std::uint64_t{2048} << 20);
    EXPECT_EQ(budget.timeLimitName(), "time-limit (1.5 s)");
    EXPECT_EQ(budget.memoryLimitName(), "max-memory (2048 MiB)");
    budget.limitMemory(1000);
    EXPECT_EQ(budget.memoryLimitName(), "max-memory (1000 bytes)");
}

class ReaderBytesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        mem.addCaptured(kA, 0x20000, "a");
        mem.addCaptured(kA + 0x20000, 0x20000, "b (adjacent to a)");
        mem.addNotCaptured(kA + 0x40000, 0x20000, "c (not captured)");
    }
    static constexpr std::uint64_t kA = 0xc000000000;
    gmtest::FakeMemory mem;
    gomapcore::Reader reader{mem};
};

TEST_F(ReaderBytesTest, ReadsALargeRangeAcrossAdjacentCapturedMappings) {
    mem.put8(kA + 0x3ffff, 0x5a);
    auto bytes = reader.bytes(kA + 0x10000, 0x30000);
    ASSERT_TRUE(bytes.has_value());
    EXPECT_EQ(bytes->size(), 0x30000u);
    EXPECT_EQ(std::to_integer<int>((*bytes)[0x2ffff]), 0x5a);
}

TEST_F(ReaderBytesTest, RefusesAHugeLengthWithoutAllocatingIt) {
    // A corrupt slice or string header can claim 2^40 bytes; allocating first would throw
    // std::bad_alloc or take the machine's memory.
    EXPECT_FALSE(reader.bytes(kA, std::size_t{1} << 40).has_value());
    EXPECT_FALSE(reader.bytes(kA, SIZE_MAX).has_value());  // wraps the address space
}

TEST_F(ReaderBytesTest, RefusesALargeRangeRunningIntoMemoryNotCaptured) {
    EXPECT_FALSE(reader.bytes(kA + 0x30000, 0x20000).has_value());
}

}  // namespace
