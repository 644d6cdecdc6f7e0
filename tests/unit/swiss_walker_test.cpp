// Unit tests of walkSwissMap over hand-built swiss-table maps in a fake address space: one test
// per rule, one per legitimate runtime state (GO-MAPS.md sections 3, 5 and 6.2), and the
// bounds that keep a walk of garbage finite.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "walker_fixture.h"

namespace {

using namespace gmtest::walker;

// Where the tests put things inside kHeap.
constexpr std::uint64_t kDir = kHeap + 0x40000;
constexpr std::uint64_t kTableA = kHeap + 0x50000;
constexpr std::uint64_t kTableB = kHeap + 0x50100;
constexpr std::uint64_t kTableC = kHeap + 0x50200;
constexpr std::uint64_t kGroupsA = kHeap + 0x60000;
constexpr std::uint64_t kGroupsB = kHeap + 0x70000;
constexpr std::uint64_t kGroupsC = kHeap + 0x80000;
constexpr std::uint64_t kSmallGroup = kHeap + 0x90000;

constexpr std::uint8_t kEmpty = 0x80, kDeleted = 0xfe;

struct Header {
    std::uint64_t used = 0;
    std::uint64_t seed = 0x5eed;
    std::uint64_t dirPtr = 0;
    std::int64_t dirLen = 0;
    std::uint8_t globalDepth = 0;
    std::uint8_t globalShift = 0;
    std::uint8_t writing = 0;
    std::uint8_t tombstonePossible = 0;
    std::uint64_t clearSeq = 0;
};

struct Table {
    std::uint16_t used = 0;
    std::uint16_t capacity = 8;
    std::uint16_t growthLeft = 7;
    std::uint8_t localDepth = 0;
    std::int64_t index = 0;
    std::uint64_t groups = 0;
    std::uint64_t lengthMask = 0;
};

// map[int64]int64 (136-byte groups) unless a test names another layout.
class SwissWalkerTest
    : public gmtest::walker::WalkerFixture<gomapcore::walkSwissMap, &LayoutFactory::swissInt64Int64> {
  protected:
    void writeHeader(const MapTypeLayout& l, std::uint64_t at, const Header& h) {
        const gomapcore::SwissLayout& s = l.swiss;
        mem.putLittleEndian(at + s.used.offset, h.used, s.used.size);
        mem.putLittleEndian(at + s.seed.offset, h.seed, s.seed.size);
        mem.putLittleEndian(at + s.dirPtr.offset, h.dirPtr, s.dirPtr.size);
        mem.putLittleEndian(at + s.dirLen.offset, static_cast<std::uint64_t>(h.dirLen), s.dirLen.size);
        mem.putLittleEndian(at + s.globalDepth.offset, h.globalDepth, s.globalDepth.size);
        mem.putLittleEndian(at + s.globalShift.offset, h.globalShift, s.globalShift.size);
        mem.putLittleEndian(at + s.writing.offset, h.writing, s.writing.size);
        mem.putLittleEndian(at + s.tombstonePossible.offset, h.tombstonePossible, s.tombstonePossible.size);
        mem.putLittleEndian(at + s.clearSeq.offset, h.clearSeq, s.clearSeq.size);
    }
    void writeHeader(const Header& h) { writeHeader(L, kHeader, h); }

    void writeTable(std::uint64_t at, const Table& t) {
        const gomapcore::SwissLayout& s = L.swiss;
        mem.putLittleEndian(at + s.tableUsed.offset, t.used, s.tableUsed.size);
        mem.putLittleEndian(at + s.capacity.offset, t.capacity, s.capacity.size);
        mem.putLittleEndian(at + s.growthLeft.offset, t.growthLeft, s.growthLeft.size);
        mem.putLittleEndian(at + s.localDepth.offset, t.localDepth, s.localDepth.size);
        mem.putLittleEndian(at + s.index.offset, static_cast<std::uint64_t>(t.index), s.index.size);
        mem.putLittleEndian(at + s.groupsData.offset, t.groups, s.groupsData.size);
        mem.putLittleEndian(at + s.lengthMask.offset, t.lengthMask, s.lengthMask.size);
    }

    void writeDirectory(std::uint64_t at, const std::vector<std::uint64_t>& tables) {
        for (std::size_t i = 0; i < tables.size(); ++i)
            mem.put64(at + 8 * i, tables[i]);
    }

    static std::uint64_t group(const MapTypeLayout& l, std::uint64_t groups, std::uint64_t g) {
        return groups + g * l.swiss.groupSize;
    }
    std::uint64_t group(std::uint64_t groups, std::uint64_t g) const { return group(L, groups, g); }

    void ctrl(const MapTypeLayout& l, std::uint64_t g, unsigned i, std::uint8_t value) {
        mem.put8(g + l.swiss.ctrl.offset + i, value);
    }
    void ctrls(std::uint64_t g, const std::array<std::uint8_t, 8>& values) {
        for (unsigned i = 0; i < 8; ++i)
            ctrl(L, g, i, values[i]);
    }
    // n groups whose control bytes are all empty (0x80); fresh memory would read as all full.
    void emptyGroups(const MapTypeLayout& l, std::uint64_t groups, std::uint64_t n) {
        for (std::uint64_t g = 0; g < n; ++g)
            for (unsigned i = 0; i < 8; ++i)
                ctrl(l, group(l, groups, g), i, kEmpty);
    }
    void emptyGroups(std::uint64_t groups, std::uint64_t n) { emptyGroups(L, groups, n); }
    // A full slot: ctrl (H2), key and elem (the slot contents, so a pointer for indirect slots).
    void entry(const MapTypeLayout& l, std::uint64_t g, unsigned i, std::uint8_t h2, std::uint64_t key,
               std::uint64_t elem) {
        ctrl(l, g, i, h2);
        putKeyElem(l, g, i, key, elem);
    }
    // n full slots from slot 0 (the rest of the group untouched).
    void fill(const MapTypeLayout& l, std::uint64_t g, unsigned n, std::uint64_t keyBase = 1) {
        for (unsigned i = 0; i < n; ++i)
            entry(l, g, i, static_cast<std::uint8_t>(0x10 + i), keyBase + i, (keyBase + i) * 10);
    }
    void fill(std::uint64_t g, unsigned n, std::uint64_t keyBase = 1) { fill(L, g, n, keyBase); }

    // A one-group (capacity 8) table at `at` with `entries` full slots and no tombstones.
    void simpleTable(std::uint64_t at, std::uint64_t groups, unsigned entries, std::uint8_t localDepth,
                     std::int64_t index, std::uint64_t keyBase = 1) {
        writeTable(at, {.used = static_cast<std::uint16_t>(entries),
                        .capacity = 8,
                        .growthLeft = static_cast<std::uint16_t>(7 - entries),
                        .localDepth = localDepth,
                        .index = index,
                        .groups = groups,
                        .lengthMask = 0});
        emptyGroups(groups, 1);
        fill(groups, entries, keyBase);
    }

    // A small map (dirLen 0) at kHeader with `entries` full slots in one group.
    void smallMap(unsigned entries, std::uint64_t used) {
        writeHeader({.used = used, .dirPtr = kSmallGroup});
        emptyGroups(kSmallGroup, 1);
        fill(kSmallGroup, entries);
    }

    // A map with a one-entry directory (globalDepth 0) at kDir pointing to table `table`.
    void oneTableMap(std::uint64_t used, std::uint64_t table) {
        writeHeader({.used = used, .dirPtr = kDir, .dirLen = 1, .globalDepth = 0, .globalShift = 64});
        writeDirectory(kDir, {table});
    }
};

// --- Healthy maps ---------------------------------------------------------------------------

TEST_F(SwissWalkerTest, HealthySmallMapHasNoFindings) {
    smallMap(3, 3);
    MapResult r = walk();
    expectHealthy(r, 3u);
    EXPECT_TRUE(r.headerReadable);
    EXPECT_EQ(r.count, 3);
    ASSERT_EQ(r.root.children.size(), 1u);
    const MapNode& g = r.root.children[0];
    EXPECT_EQ(g.kind, NodeKind::Group);
    EXPECT_EQ(g.address, kSmallGroup);
    EXPECT_EQ(g.liveEntries, 3u);
    EXPECT_EQ(g.control,
              (std::vector<std::uint8_t>{0x10, 0x11, 0x12, kEmpty, kEmpty, kEmpty, kEmpty, kEmpty}));
}

TEST_F(SwissWalkerTest, FullSmallMapWithoutEmptySlotIsFine) {
    smallMap(8, 8);  // a small map may fill its only group; growToTable happens on the 9th
    MapResult r = walk();
    expectHealthy(r, 8u);
}

TEST_F(SwissWalkerTest, NeverWrittenMapIsFine) {
    writeHeader({.used = 0, .dirPtr = 0, .dirLen = 0});
    MapResult r = walk();
    expectHealthy(r, 0u);
    EXPECT_TRUE(r.root.children.empty());
}

TEST_F(SwissWalkerTest, HealthySingleTableMapHasNoFindings) {
    oneTableMap(5, kTableA);
    writeTable(kTableA, {.used = 5, .capacity = 16, .growthLeft = 9, .groups = kGroupsA, .lengthMask = 1});
    emptyGroups(kGroupsA, 2);
    fill(group(kGroupsA, 0), 3, 1);
    fill(group(kGroupsA, 1), 2, 10);
    WalkLimits limits;
    limits.collectSlots = true;
    MapResult r = walk(limits);
    expectHealthy(r, 5u);
    EXPECT_EQ(r.tables, 1u);
    ASSERT_EQ(r.root.children.size(), 1u);
    const MapNode& dir = r.root.children[0];
    EXPECT_EQ(dir.kind, NodeKind::Directory);
    EXPECT_EQ(dir.address, kDir);
    ASSERT_EQ(dir.children.size(), 1u);
    const MapNode& table = dir.children[0];
    EXPECT_EQ(table.kind, NodeKind::Table);
    EXPECT_EQ(table.address, kTableA);
    ASSERT_EQ(table.children.size(), 2u);
    EXPECT_EQ(table.children[1].address, group(kGroupsA, 1));
    ASSERT_EQ(table.children[1].slots.size(), 2u);
    EXPECT_EQ(table.children[1].slots[1].keyAddress, group(kGroupsA, 1) + 8 + 16);
    EXPECT_EQ(table.children[1].slots[1].elemAddress, group(kGroupsA, 1) + 8 + 16 + 8);
}

TEST_F(SwissWalkerTest, AliasedDirectoryIsFine) {
    // globalDepth 2: table A (localDepth 1) fills entries 0-1; B and C (localDepth 2) own 2 and 3.
    writeHeader({.used = 3, .dirPtr = kDir, .dirLen = 4, .globalDepth = 2, .globalShift = 62});
    writeDirectory(kDir, {kTableA, kTableA, kTableB, kTableC});
    simpleTable(kTableA, kGroupsA, 2, 1, 0, 1);
    simpleTable(kTableB, kGroupsB, 1, 2, 2, 10);
    simpleTable(kTableC, kGroupsC, 0, 2, 3);
    MapResult r = walk();
    expectHealthy(r, 3u);
    EXPECT_EQ(r.tables, 3u);
    ASSERT_EQ(r.root.children.size(), 1u);
    EXPECT_EQ(r.root.children[0].children.size(), 3u);  // each table once
}

TEST_F(SwissWalkerTest, MemoryBudgetStopsTheDirectoryWalkAndNamesTheLimit) {
    writeHeader({.used = 3, .dirPtr = kDir, .dirLen = 4, .globalDepth = 2, .globalShift = 62});
    writeDirectory(kDir, {kTableA, kTableA, kTableB, kTableC});
    simpleTable(kTableA, kGroupsA, 2, 1, 0, 1);
    simpleTable(kTableB, kGroupsB, 1, 2, 2, 10);
    simpleTable(kTableC, kGroupsC, 0, 2, 3);
    // The directory (32 bytes) and little more: the first table node does not fit.
    gomapcore::AnalysisBudget budget;
    budget.limitMemory(40);
    WalkLimits limits;
    limits.budget = &budget;
    MapResult r = walk(limits);
    expectNoFindings(r);
    EXPECT_EQ(r.limitsHit, (std::vector<std::string>{"max-memory (40 bytes)"}));
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.liveEntries, 0u);
    ASSERT_EQ(r.root.children.size(), 1u);
    EXPECT_TRUE(r.root.children[0].children.empty());  // no table walked
}

TEST_F(SwissWalkerTest, TombstonesWithMatchingGrowthLeftAreFine) {
    // capacity 16: 14 insertions allowed; 5 used + 2 tombstones leave growthLeft 7.
    oneTableMap(5, kTableA);
    writeHeader({.used = 5,
                 .dirPtr = kDir,
                 .dirLen = 1,
                 .globalDepth = 0,
                 .globalShift = 64,
                 .tombstonePossible = 1});
    writeTable(kTableA, {.used = 5, .capacity = 16, .growthLeft = 7, .groups = kGroupsA, .lengthMask = 1});
    emptyGroups(kGroupsA, 2);
    ctrls(group(kGroupsA, 0), {0x10, kDeleted, 0x11, 0x12, kEmpty, kEmpty, kEmpty, kEmpty});
    ctrls(group(kGroupsA, 1), {kDeleted, 0x13, 0x14, kEmpty, kEmpty, kEmpty, kEmpty, kEmpty});
    MapResult r = walk();
    expectHealthy(r, 5u);
}

// --- header-implausible ---------------------------------------------------------------------

TEST_F(SwissWalkerTest, NegativeUsedIsHeaderImplausible) {
    oneTableMap(0x8000000000000000, kTableA);
    simpleTable(kTableA, kGroupsA, 1, 0, 0);
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_FALSE(r.complete);
    EXPECT_TRUE(r.root.children.empty());
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, NegativeDirLenIsHeaderImplausible) {
    writeHeader({.used = 0, .dirPtr = kDir, .dirLen = -1});
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// As in the classic walker, a structural finding suppresses the count comparison: the header that
// holds the count is itself wrong, and the header-implausible finding already names the count.
TEST_F(SwissWalkerTest, SmallMapClaimingMoreThanEightIsHeaderImplausible) {
    smallMap(8, 9);
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_EQ(r.liveEntries, 8u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, NilDirPtrWithPositiveUsedIsHeaderImplausible) {
    writeHeader({.used = 2, .dirPtr = 0});
    MapResult r = walk();
    // The entries used counts are wherever the lost dirPtr pointed: no count verdict (as classic).
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_EQ(r.liveEntries, 0u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, WritingAboveOneIsHeaderImplausible) {
    smallMap(2, 2);
    writeHeader({.used = 2, .dirPtr = kSmallGroup, .writing = 2});
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, DirLenOf2To40ReturnsAtOnceWithoutReadingTheDirectory) {
    writeHeader(
        {.used = 5, .dirPtr = kDir, .dirLen = std::int64_t{1} << 40, .globalDepth = 40, .globalShift = 24});
    mem.resetStats();
    auto start = std::chrono::steady_clock::now();
    MapResult r = walk();
    auto elapsed = std::chrono::steady_clock::now() - start;
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_EQ(r.limitsHit, (std::vector<std::string>{"max-directory-entries (1048576)"}));
    EXPECT_FALSE(r.complete);
    EXPECT_TRUE(r.root.children.empty());
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
    EXPECT_EQ(mem.readCount(), 1u);     // the header only
    EXPECT_EQ(mem.largestRead(), 48u);  // nothing sized by dirLen
    EXPECT_LT(elapsed, std::chrono::seconds(1));
}

// Regression: dirLen > 0 with dirPtr == nil is never produced by the runtime (only a
// never-written map has a nil dirPtr, and it has dirLen 0); with used == 0 it used to be "ok".
TEST_F(SwissWalkerTest, DirectoryLengthWithNilDirPtrIsHeaderImplausible) {
    writeHeader({.used = 0, .dirPtr = 0, .dirLen = 4, .globalDepth = 2, .globalShift = 62});
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// map.go: only NewMap (when it makes a directory) and growToTable (after setting dirLen = 1) set
// globalDepth and globalShift, so a small map has both 0 (checked on every small map of the
// corpus), not globalShift = 64 as one-table maps have.
TEST_F(SwissWalkerTest, SmallMapWithGlobalShiftIsHeaderImplausible) {
    smallMap(2, 2);
    writeHeader({.used = 2, .dirPtr = kSmallGroup, .globalShift = 64});
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_TRUE(r.complete);  // the group is still walked
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, SmallMapWithGlobalDepthIsHeaderImplausible) {
    smallMap(1, 1);
    writeHeader({.used = 1, .dirPtr = kSmallGroup, .globalDepth = 1, .globalShift = 63});
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kHeader}});
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// dirPtr is a header field: misaligned, it is a header fault, as classic buckets is.
TEST_F(SwissWalkerTest, MisalignedDirPtrIsHeaderImplausible) {
    writeHeader({.used = 1, .dirPtr = kSmallGroup + 4});
    MapResult r = walk();
    expectFindings(r, {{rules::kHeaderImplausible, Severity::Error, kSmallGroup + 4}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// --- header-unmapped --------------------------------------------------------------------------

TEST_F(SwissWalkerTest, HeaderInNoMappingIsHeaderUnmapped) {
    MapResult r = walk(L, kUnmapped);
    expectFindings(r, {{rules::kHeaderUnmapped, Severity::Error, kUnmapped}});
    EXPECT_FALSE(r.headerReadable);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.root.state, AddressState::Unmapped);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, HeaderNotCapturedIsAWarningAndIncomplete) {
    MapResult r = walk(L, kNotCaptured + 0x30);
    expectFindings(r, {{rules::kPointerNotCaptured, Severity::Warning, kNotCaptured + 0x30}});
    EXPECT_FALSE(r.headerReadable);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
}

// --- buckets-unmapped (dirPtr) ----------------------------------------------------------------

TEST_F(SwissWalkerTest, SmallMapGroupInNoMappingIsBucketsUnmapped) {
    writeHeader({.used = 1, .dirPtr = kUnmapped});
    MapResult r = walk();
    expectFindings(r, {{rules::kBucketsUnmapped, Severity::Error, kUnmapped}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.liveEntries, 0u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, DirectoryInNoMappingIsBucketsUnmapped) {
    writeHeader({.used = 1, .dirPtr = kUnmapped, .dirLen = 2, .globalDepth = 1, .globalShift = 63});
    MapResult r = walk();
    expectFindings(r, {{rules::kBucketsUnmapped, Severity::Error, kUnmapped}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, DirectoryRunningOffItsMappingIsBucketsUnmapped) {
    const std::uint64_t dir = kHeap + kHeapSize - 16;  // 2 of 4 entries mapped
    writeHeader({.used = 0, .dirPtr = dir, .dirLen = 4, .globalDepth = 2, .globalShift = 62});
    MapResult r = walk();
    expectFindings(r, {{rules::kBucketsUnmapped, Severity::Error, dir}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// --- table-unmapped / groups-unmapped ---------------------------------------------------------

TEST_F(SwissWalkerTest, DirectoryEntryInNoMappingIsTableUnmapped) {
    oneTableMap(1, kUnmapped);
    MapResult r = walk();
    expectFindings(r, {{rules::kTableUnmapped, Severity::Error, kUnmapped}});
    ASSERT_EQ(r.root.children.size(), 1u);
    EXPECT_EQ(r.root.children[0].findings.size(), 1u);  // on the directory
    EXPECT_EQ(r.tables, 0u);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, MisalignedDirectoryEntryIsTableUnmapped) {
    oneTableMap(1, kTableA + 4);
    MapResult r = walk();
    expectFindings(r, {{rules::kTableUnmapped, Severity::Error, kTableA + 4}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, GroupsInNoMappingAreGroupsUnmapped) {
    oneTableMap(1, kTableA);
    writeTable(kTableA, {.used = 1, .capacity = 8, .growthLeft = 6, .groups = kUnmapped, .lengthMask = 0});
    MapResult r = walk();
    expectFindings(r, {{rules::kGroupsUnmapped, Severity::Error, kUnmapped}});
    const MapNode* table = findNode(r.root, NodeKind::Table, kTableA);
    ASSERT_NE(table, nullptr);
    EXPECT_EQ(table->findings.size(), 1u);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.liveEntries, 0u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, GroupArrayRunningOffItsMappingIsGroupsUnmapped) {
    const std::uint64_t groups = kHeap + kHeapSize - 136;  // group 0 of 2 mapped
    oneTableMap(1, kTableA);
    writeTable(kTableA, {.used = 1, .capacity = 16, .growthLeft = 13, .groups = groups, .lengthMask = 1});
    MapResult r = walk();
    expectFindings(r, {{rules::kGroupsUnmapped, Severity::Error, groups}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, GroupInAnUnmappedHoleOfTheArrayIsGroupsUnmapped) {
    const std::uint64_t groups = arrayWithHole(136, 1, 2);  // group 1 of 4 in no mapping
    oneTableMap(1, kTableA);
    writeTable(kTableA, {.used = 1, .capacity = 32, .growthLeft = 27, .groups = groups, .lengthMask = 3});
    emptyGroups(groups, 1);
    emptyGroups(group(groups, 2), 2);
    fill(groups, 1);
    MapResult r = walk();
    expectFindings(r, {{rules::kGroupsUnmapped, Severity::Error, groups + 136}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.liveEntries, 1u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, DirectoryWithAnUnmappedHoleIsBucketsUnmapped) {
    const std::uint64_t dir = arrayWithHole(8, 1, 2);  // entry 1 of 4 in no mapping
    writeHeader({.used = 0, .dirPtr = dir, .dirLen = 4, .globalDepth = 2, .globalShift = 62});
    MapResult r = walk();
    expectFindings(r, {{rules::kBucketsUnmapped, Severity::Error, dir + 8}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// --- pointer-not-captured ---------------------------------------------------------------------

TEST_F(SwissWalkerTest, TableNotCapturedIsAWarningAndIncomplete) {
    oneTableMap(1, kNotCaptured);
    MapResult r = walk();
    expectFindings(r, {{rules::kPointerNotCaptured, Severity::Warning, kNotCaptured}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
}

TEST_F(SwissWalkerTest, AliasedTableNotCapturedIsReportedOnce) {
    writeHeader({.used = 1, .dirPtr = kDir, .dirLen = 2, .globalDepth = 1, .globalShift = 63});
    writeDirectory(kDir, {kNotCaptured, kNotCaptured});
    MapResult r = walk();
    expectFindings(r, {{rules::kPointerNotCaptured, Severity::Warning, kNotCaptured}});
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
}

TEST_F(SwissWalkerTest, GroupsNotCapturedAreAWarningAndIncomplete) {
    oneTableMap(1, kTableA);
    writeTable(kTableA, {.used = 1, .capacity = 8, .growthLeft = 6, .groups = kNotCaptured, .lengthMask = 0});
    MapResult r = walk();
    expectFindings(r, {{rules::kPointerNotCaptured, Severity::Warning, kNotCaptured}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
}

TEST_F(SwissWalkerTest, SmallMapGroupNotCapturedIsAWarningAndIncomplete) {
    writeHeader({.used = 1, .dirPtr = kNotCaptured});
    MapResult r = walk();
    expectFindings(r, {{rules::kPointerNotCaptured, Severity::Warning, kNotCaptured}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
}

TEST_F(SwissWalkerTest, DirectoryPartlyCapturedIsAWarningAtTheFirstMissingEntry) {
    const std::uint64_t dir = kSplitNc - 16;  // entries 0-1 captured, 2-3 not
    writeHeader({.used = 0, .dirPtr = dir, .dirLen = 4, .globalDepth = 2, .globalShift = 62});
    MapResult r = walk();
    expectFindings(r, {{rules::kPointerNotCaptured, Severity::Warning, kSplitNc}});
    ASSERT_EQ(r.root.children.size(), 1u);
    EXPECT_EQ(r.root.children[0].state, AddressState::NotCaptured);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
}

TEST_F(SwissWalkerTest, GroupNotCapturedIsAWarningAndSkipsTheTableChecks) {
    const std::uint64_t groups = kSplitNc - 136;  // group 0 captured, group 1 not
    oneTableMap(1, kTableA);
    // used and growthLeft are deliberately inconsistent: nothing may be concluded without group 1.
    writeTable(kTableA, {.used = 3, .capacity = 16, .growthLeft = 13, .groups = groups, .lengthMask = 1});
    mem.putBytes(groups, {0x10, kEmpty, kEmpty, kEmpty, kEmpty, kEmpty, kEmpty, kEmpty});
    MapResult r = walk();
    expectFindings(r, {{rules::kPointerNotCaptured, Severity::Warning, kSplitNc}});
    const MapNode* g1 = findNode(r.root, NodeKind::Group, kSplitNc);
    ASSERT_NE(g1, nullptr);
    EXPECT_EQ(g1->state, AddressState::NotCaptured);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.liveEntries, 1u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
}

// --- count-mismatch ---------------------------------------------------------------------------

TEST_F(SwissWalkerTest, SmallMapUsedDifferentFromFullSlotsIsCountMismatch) {
    smallMap(3, 4);
    MapResult r = walk();
    expectFindings(r, {{rules::kCountMismatch, Severity::Error, kHeader}});
    EXPECT_EQ(r.count, 4);
    EXPECT_EQ(r.liveEntries, 3u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, TableUsedDifferentFromItsFullSlotsIsCountMismatch) {
    oneTableMap(3, kTableA);
    // used 4 with growthLeft 3 is consistent on its own (7 - 4 - 3 = 0 tombstones).
    writeTable(kTableA, {.used = 4, .capacity = 8, .growthLeft = 3, .groups = kGroupsA, .lengthMask = 0});
    emptyGroups(kGroupsA, 1);
    fill(kGroupsA, 3);
    MapResult r = walk();
    expectFindings(r, {{rules::kCountMismatch, Severity::Error, kTableA}});
    EXPECT_EQ(r.liveEntries, 3u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, MapUsedDifferentFromTablesIsCountMismatch) {
    oneTableMap(6, kTableA);
    simpleTable(kTableA, kGroupsA, 5, 0, 0);
    MapResult r = walk();
    expectFindings(r, {{rules::kCountMismatch, Severity::Error, kHeader}});
    EXPECT_EQ(r.liveEntries, 5u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// --- control-bytes-corrupt --------------------------------------------------------------------

TEST_F(SwissWalkerTest, InvalidCtrlByteIsControlBytesCorrupt) {
    smallMap(0, 2);
    ctrls(kSmallGroup, {0x11, 0x81, 0x12, kEmpty, kEmpty, kEmpty, kEmpty, kEmpty});
    MapResult r = walk();
    expectFindings(r, {{rules::kControlBytesCorrupt, Severity::Error, kSmallGroup}});
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, DeletedCtrlInSmallMapIsControlBytesCorrupt) {
    smallMap(0, 2);
    ctrls(kSmallGroup, {0x11, kDeleted, 0x12, kEmpty, kEmpty, kEmpty, kEmpty, kEmpty});
    MapResult r = walk();
    expectFindings(r, {{rules::kControlBytesCorrupt, Severity::Error, kSmallGroup}});
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, InvalidCtrlByteInTableGroupIsControlBytesCorrupt) {
    oneTableMap(2, kTableA);
    writeTable(kTableA, {.used = 2, .capacity = 8, .growthLeft = 5, .groups = kGroupsA, .lengthMask = 0});
    ctrls(kGroupsA, {0x11, 0x12, 0xff, kEmpty, kEmpty, kEmpty, kEmpty, kEmpty});
    MapResult r = walk();
    expectFindings(r, {{rules::kControlBytesCorrupt, Severity::Error, kGroupsA}});
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, TableWithoutEmptySlotIsControlBytesCorrupt) {
    // Eight full slots in a capacity-8 table: more than the 7 it may hold, growthLeft cannot
    // balance, and probing would never end.
    oneTableMap(8, kTableA);
    writeTable(kTableA, {.used = 8, .capacity = 8, .growthLeft = 0, .groups = kGroupsA, .lengthMask = 0});
    emptyGroups(kGroupsA, 1);
    fill(kGroupsA, 8);
    MapResult r = walk();
    expectFindings(r, {{rules::kDirectoryCorrupt, Severity::Error, kTableA},
                       {rules::kDirectoryCorrupt, Severity::Error, kTableA},
                       {rules::kControlBytesCorrupt, Severity::Error, kTableA}});
    EXPECT_EQ(r.liveEntries, 8u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// --- write-in-progress ------------------------------------------------------------------------

TEST_F(SwissWalkerTest, WritingFlagIsWriteInProgressWarning) {
    smallMap(2, 2);
    writeHeader({.used = 2, .dirPtr = kSmallGroup, .writing = 1});
    MapResult r = walk();
    expectFindings(r, {{rules::kWriteInProgress, Severity::Warning, kHeader}});
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Suspect);
}

// --- dangling-entry-pointer -------------------------------------------------------------------

TEST_F(SwissWalkerTest, PointerElemIntoNoMappingIsDanglingEntryPointer) {
    const MapTypeLayout& l = types.swissInt64PtrT();
    writeHeader(l, kHeader, {.used = 4, .dirPtr = kSmallGroup});
    emptyGroups(l, kSmallGroup, 1);
    entry(l, kSmallGroup, 0, 0x10, 1, kHeap + 0x9000);       // fine
    entry(l, kSmallGroup, 1, 0x11, 2, kUnmapped + 0x40);     // dangling
    entry(l, kSmallGroup, 2, 0x12, 3, 0);                    // nil is a valid *T
    entry(l, kSmallGroup, 3, 0x13, 4, kNotCaptured + 0x10);  // mapped, not in the core
    MapResult r = walk(l);
    expectFindings(r, {{rules::kDanglingEntryPointer, Severity::Error, kUnmapped + 0x40}});
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.liveEntries, 4u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, IndirectElemPointerIntoNoMappingIsDanglingEntryPointer) {
    const MapTypeLayout& l = types.swissInt64Big();
    ASSERT_TRUE(l.indirectElem);
    writeHeader(l, kHeader, {.used = 2, .dirPtr = kSmallGroup});
    emptyGroups(l, kSmallGroup, 1);
    entry(l, kSmallGroup, 0, 0x10, 1, kHeap + 0xa000);
    entry(l, kSmallGroup, 1, 0x11, 2, kUnmapped);
    MapResult r = walk(l);
    expectFindings(r, {{rules::kDanglingEntryPointer, Severity::Error, kUnmapped}});
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// --- directory-corrupt ------------------------------------------------------------------------

TEST_F(SwissWalkerTest, DirLenNotOneShiftedByGlobalDepthIsDirectoryCorrupt) {
    writeHeader({.used = 0, .dirPtr = kDir, .dirLen = 3, .globalDepth = 1, .globalShift = 63});
    MapResult r = walk();
    expectFindings(r, {{rules::kDirectoryCorrupt, Severity::Error, kHeader}});
    EXPECT_FALSE(r.complete);
    EXPECT_TRUE(r.root.children.empty());
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, GlobalShiftNotSixtyFourMinusGlobalDepthIsDirectoryCorrupt) {
    writeHeader({.used = 2, .dirPtr = kDir, .dirLen = 2, .globalDepth = 1, .globalShift = 0});
    writeDirectory(kDir, {kTableA, kTableB});
    simpleTable(kTableA, kGroupsA, 1, 1, 0, 1);
    simpleTable(kTableB, kGroupsB, 1, 1, 1, 2);
    MapResult r = walk();
    expectFindings(r, {{rules::kDirectoryCorrupt, Severity::Error, kHeader}});
    EXPECT_EQ(r.tables, 2u);
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, LocalDepthAboveGlobalDepthIsDirectoryCorrupt) {
    oneTableMap(1, kTableA);
    simpleTable(kTableA, kGroupsA, 1, 1, 0);
    MapResult r = walk();
    expectFindings(r, {{rules::kDirectoryCorrupt, Severity::Error, kTableA}});
    EXPECT_EQ(r.liveEntries, 1u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// Regression: the localDepth > globalDepth branch of walkDirectory walked the table but did not
// count it in MapResult::tables ("number of distinct tables").
TEST_F(SwissWalkerTest, TableWithLocalDepthAboveGlobalDepthIsStillCountedAsATable) {
    oneTableMap(1, kTableA);
    simpleTable(kTableA, kGroupsA, 1, 1, 0);
    MapResult r = walk();
    EXPECT_EQ(r.tables, 1u);
}

TEST_F(SwissWalkerTest, TableIndexNotItsFirstDirectoryEntryIsDirectoryCorrupt) {
    writeHeader({.used = 2, .dirPtr = kDir, .dirLen = 2, .globalDepth = 1, .globalShift = 63});
    writeDirectory(kDir, {kTableA, kTableB});
    simpleTable(kTableA, kGroupsA, 1, 1, 0, 1);
    simpleTable(kTableB, kGroupsB, 1, 1, 0 /* should be 1 */, 2);
    MapResult r = walk();
    expectFindings(r, {{rules::kDirectoryCorrupt, Severity::Error, kTableB}});
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, BrokenAliasRunIsDirectoryCorrupt) {
    // Table A has localDepth 0, so it should fill both entries; entry 1 points elsewhere.
    writeHeader({.used = 2, .dirPtr = kDir, .dirLen = 2, .globalDepth = 1, .globalShift = 63});
    writeDirectory(kDir, {kTableA, kTableB});
    simpleTable(kTableA, kGroupsA, 1, 0, 0, 1);
    simpleTable(kTableB, kGroupsB, 1, 1, 1, 2);
    MapResult r = walk();
    expectFindings(r, {{rules::kDirectoryCorrupt, Severity::Error, kDir + 8}});
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// Regression: walkDirectory used to skip every entry whose table it had already walked before
// any check, so a table in more entries than its localDepth allows (here localDepth 1 = 2
// entries, but all 4 of a globalDepth-2 directory) was never reported. One finding per table.
TEST_F(SwissWalkerTest, AliasBeyondTheLocalDepthSpanIsDirectoryCorrupt) {
    writeHeader({.used = 1, .dirPtr = kDir, .dirLen = 4, .globalDepth = 2, .globalShift = 62});
    writeDirectory(kDir, {kTableA, kTableA, kTableA, kTableA});
    simpleTable(kTableA, kGroupsA, 1, 1, 0);
    MapResult r = walk();
    expectFindings(r, {{rules::kDirectoryCorrupt, Severity::Error, kDir + 16}});
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, AliasSeparatedFromItsRunIsDirectoryCorrupt) {
    // A (localDepth 1) owns entries 0-1; entry 1 is B instead (the run is broken), and A turns up
    // again at entry 2, outside its span.
    writeHeader({.used = 2, .dirPtr = kDir, .dirLen = 4, .globalDepth = 2, .globalShift = 62});
    writeDirectory(kDir, {kTableA, kTableB, kTableA, kTableC});
    simpleTable(kTableA, kGroupsA, 1, 1, 0, 1);
    simpleTable(kTableB, kGroupsB, 1, 2, 1, 2);
    simpleTable(kTableC, kGroupsC, 0, 2, 3);
    MapResult r = walk();
    expectFindings(r, {{rules::kDirectoryCorrupt, Severity::Error, kDir + 8},
                       {rules::kDirectoryCorrupt, Severity::Error, kDir + 16}});
    EXPECT_EQ(r.tables, 3u);
    EXPECT_EQ(r.liveEntries, 2u);
}

TEST_F(SwissWalkerTest, NilDirectoryEntryIsDirectoryCorrupt) {
    writeHeader({.used = 1, .dirPtr = kDir, .dirLen = 2, .globalDepth = 1, .globalShift = 63});
    writeDirectory(kDir, {kTableA, 0});
    simpleTable(kTableA, kGroupsA, 1, 1, 0);
    MapResult r = walk();
    expectFindings(r, {{rules::kDirectoryCorrupt, Severity::Error, kDir + 8}});
    EXPECT_EQ(r.liveEntries, 1u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, CapacityNotAPowerOfTwoIsDirectoryCorrupt) {
    oneTableMap(1, kTableA);
    writeTable(kTableA, {.used = 1, .capacity = 24, .growthLeft = 20, .groups = kGroupsA, .lengthMask = 2});
    emptyGroups(kGroupsA, 3);
    fill(kGroupsA, 1);
    MapResult r = walk();
    expectFindings(r, {{rules::kDirectoryCorrupt, Severity::Error, kTableA}});
    EXPECT_FALSE(r.complete);  // the groups are not walked
    EXPECT_EQ(r.liveEntries, 0u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, LengthMaskDisagreeingWithCapacityIsDirectoryCorrupt) {
    oneTableMap(1, kTableA);
    writeTable(kTableA, {.used = 1, .capacity = 16, .growthLeft = 13, .groups = kGroupsA, .lengthMask = 0});
    emptyGroups(kGroupsA, 2);
    fill(kGroupsA, 1);
    MapResult r = walk();
    expectFindings(r, {{rules::kDirectoryCorrupt, Severity::Error, kTableA}});
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, InconsistentGrowthLeftIsDirectoryCorrupt) {
    oneTableMap(3, kTableA);
    writeTable(kTableA, {.used = 3, .capacity = 8, .growthLeft = 2 /* should be 4 */, .groups = kGroupsA});
    emptyGroups(kGroupsA, 1);
    fill(kGroupsA, 3);
    MapResult r = walk();
    expectFindings(r, {{rules::kDirectoryCorrupt, Severity::Error, kTableA}});
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.liveEntries, 3u);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

TEST_F(SwissWalkerTest, OneEntryDirectoryPointingAtItselfDoesNotLoop) {
    // The directory's only entry is the directory's own address, so the "table" read there is
    // the directory itself: 00 00 12 00 c0 00 00 00 -> used 0, capacity 0x12 = 18.
    const std::uint64_t dir = kHeap + 0x20000;
    writeHeader({.used = 0, .dirPtr = dir, .dirLen = 1, .globalDepth = 0, .globalShift = 64});
    writeDirectory(dir, {dir});
    auto start = std::chrono::steady_clock::now();
    MapResult r = walk();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
    expectFindings(r, {{rules::kDirectoryCorrupt, Severity::Error, dir}});
    EXPECT_EQ(r.tables, 1u);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Damaged);
}

// --- max-buckets-per-map ----------------------------------------------------------------------

TEST_F(SwissWalkerTest, GroupBudgetStopsTheWalkAndMarksItIncomplete) {
    oneTableMap(4, kTableA);
    writeTable(kTableA, {.used = 4, .capacity = 32, .growthLeft = 24, .groups = kGroupsA, .lengthMask = 3});
    emptyGroups(kGroupsA, 4);
    for (unsigned g = 0; g < 4; ++g)
        fill(group(kGroupsA, g), 1, 10 * g);
    WalkLimits limits;
    limits.maxBucketsPerMap = 2;
    MapResult r = walk(limits);
    expectNoFindings(r);
    EXPECT_EQ(r.limitsHit, (std::vector<std::string>{"max-buckets-per-map (2)"}));
    EXPECT_EQ(r.liveEntries, 2u);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.status(), gomapcore::MapStatus::Incomplete);
}

}  // namespace
