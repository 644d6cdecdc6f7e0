// Go's own metadata decoders on hand-built inputs: pc-value tables (runtime.pcvalue, the
// encoding every pclntab format since Go 1.2 shares) and DWARF location expressions as Go's
// compiler writes them.
#include <dwarf.h>
#include <gtest/gtest.h>

#include "binary/go_symbols.h"
#include "runtime/frame_variables.h"

namespace gomapcore {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values) {
    std::vector<std::byte> out;
    for (int v : values)
        out.push_back(static_cast<std::byte>(v));
    return out;
}

// A table at offset 1 (offset 0 means "no table"): value -1+delta per step.
// Pairs: (zig-zag value delta, pc delta). zig-zag(+8) = 16, zig-zag(+16) = 32, zig-zag(-24) = 47.
const std::vector<std::byte> kTable = bytes({0xff, 16, 4, 32, 6, 47, 2, 0});

TEST(PcValue, StepsThroughTheTable) {
    // The value starts at -1; each pair holds for the pcs below the running pc.
    EXPECT_EQ(GoSymbols::pcValue(kTable, 1, 0x1000, 0x1000, 1), 7);  // -1 + 8
    EXPECT_EQ(GoSymbols::pcValue(kTable, 1, 0x1000, 0x1003, 1), 7);
    EXPECT_EQ(GoSymbols::pcValue(kTable, 1, 0x1000, 0x1004, 1), 23);  // + 16
    EXPECT_EQ(GoSymbols::pcValue(kTable, 1, 0x1000, 0x1009, 1), 23);
    EXPECT_EQ(GoSymbols::pcValue(kTable, 1, 0x1000, 0x100a, 1), -1);  // - 24
    EXPECT_EQ(GoSymbols::pcValue(kTable, 1, 0x1000, 0x100b, 1), -1);
}

TEST(PcValue, PastTheEndOrNoTableIsUnknown) {
    EXPECT_FALSE(GoSymbols::pcValue(kTable, 1, 0x1000, 0x100c, 1).has_value());
    EXPECT_FALSE(GoSymbols::pcValue(kTable, 0, 0x1000, 0x1000, 1).has_value());
    EXPECT_FALSE(GoSymbols::pcValue(kTable, 99, 0x1000, 0x1000, 1).has_value());
    // Below the function's entry nothing applies either; a truncated varint is not read.
    EXPECT_FALSE(GoSymbols::pcValue(bytes({0xff, 0x80}), 1, 0x1000, 0x1000, 1).has_value());
}

TEST(PcValue, PcQuantumScalesPcDeltas) {
    // On architectures with fixed-size instructions the pc delta counts instructions.
    EXPECT_EQ(GoSymbols::pcValue(kTable, 1, 0x1000, 0x100f, 4), 7);
    EXPECT_EQ(GoSymbols::pcValue(kTable, 1, 0x1000, 0x1010, 4), 23);
}

TEST(PcValue, MultiByteVarints) {
    // zig-zag(+1000) = 2000 = 0xd0 0x0f; pc delta 300 = 0xac 0x02.
    auto table = bytes({0xff, 0xd0, 0x0f, 0xac, 0x02, 0});
    EXPECT_EQ(GoSymbols::pcValue(table, 1, 0, 299, 1), 999);
    EXPECT_FALSE(GoSymbols::pcValue(table, 1, 0, 300, 1).has_value());
}

Dwarf_Op op(std::uint8_t atom, Dwarf_Word number = 0) {
    return Dwarf_Op{atom, number, 0, 0};
}

constexpr std::uint64_t kCfa = 0xc000100000;

TEST(Location, FrameBaseRelativeSlots) {
    Dwarf_Op fbreg[] = {op(DW_OP_fbreg, static_cast<Dwarf_Word>(-24))};
    EXPECT_EQ(evaluateLocation(fbreg, 1, kCfa, 8, {}).address, kCfa - 24);
    Dwarf_Op cfa[] = {op(DW_OP_call_frame_cfa)};
    EXPECT_EQ(evaluateLocation(cfa, 1, kCfa, 8, {}).address, kCfa);
    Dwarf_Op cfaPlus[] = {op(DW_OP_call_frame_cfa), op(DW_OP_consts, 16), op(DW_OP_plus)};
    EXPECT_EQ(evaluateLocation(cfaPlus, 3, kCfa, 8, {}).address, kCfa + 16);
}

TEST(Location, RegistersAreUnknownUnlessSpilledByTheCallee) {
    Dwarf_Op rbx[] = {op(DW_OP_reg3)};
    auto result = evaluateLocation(rbx, 1, kCfa, 8, {});
    EXPECT_FALSE(result.address.has_value());
    EXPECT_NE(result.unavailable.find("register"), std::string::npos);
    RegisterSpills spills{{3, 0xc0000ffff8}};
    EXPECT_EQ(evaluateLocation(rbx, 1, kCfa, 8, spills).address, 0xc0000ffff8u);
    Dwarf_Op regx[] = {op(DW_OP_regx, 3)};
    EXPECT_EQ(evaluateLocation(regx, 1, kCfa, 8, spills).address, 0xc0000ffff8u);
}

TEST(Location, ContiguousPiecesAreOneValue) {
    // A string {ptr, len} in two adjacent stack slots.
    Dwarf_Op pieces[] = {op(DW_OP_fbreg, 0), op(DW_OP_piece, 8), op(DW_OP_fbreg, 8), op(DW_OP_piece, 8)};
    EXPECT_EQ(evaluateLocation(pieces, 4, kCfa, 16, {}).address, kCfa);
}

TEST(Location, ScatteredOrPartialPiecesAreNotOneAddress) {
    Dwarf_Op apart[] = {op(DW_OP_fbreg, 0), op(DW_OP_piece, 8), op(DW_OP_fbreg, 32), op(DW_OP_piece, 8)};
    EXPECT_FALSE(evaluateLocation(apart, 4, kCfa, 16, {}).address.has_value());
    Dwarf_Op mixed[] = {op(DW_OP_fbreg, 0), op(DW_OP_piece, 8), op(DW_OP_reg0), op(DW_OP_piece, 8)};
    EXPECT_FALSE(evaluateLocation(mixed, 4, kCfa, 16, {}).address.has_value());
    Dwarf_Op half[] = {op(DW_OP_fbreg, 0), op(DW_OP_piece, 8)};
    EXPECT_FALSE(evaluateLocation(half, 2, kCfa, 16, {}).address.has_value());
}

TEST(Location, EmptyOrMalformedExpressionsSayWhy) {
    EXPECT_EQ(evaluateLocation(nullptr, 0, kCfa, 8, {}).unavailable, "optimized away here");
    Dwarf_Op plus[] = {op(DW_OP_plus)};
    EXPECT_FALSE(evaluateLocation(plus, 1, kCfa, 8, {}).address.has_value());
    Dwarf_Op breg[] = {op(DW_OP_breg7, 8)};
    EXPECT_FALSE(evaluateLocation(breg, 1, kCfa, 8, {}).address.has_value());
}

}  // namespace
}  // namespace gomapcore
