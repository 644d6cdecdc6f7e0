#include "runtime/frame_variables.h"

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <algorithm>

namespace gomapcore {

namespace {

constexpr int kMaxScopeDepth = 32;
constexpr std::size_t kMaxOps = 64;
// src/cmd/internal/dwarf/dwarf.go: DW_AT_go_closure_offset, the offset of a captured variable
// in its closure object (Go 1.23+).
constexpr unsigned kAttrGoClosureOffset = 0x2907;
// A closure object holds at most this many captures here; more is not a compiler's layout.
constexpr std::size_t kMaxCaptures = 4096;

int op0Register(const Dwarf_Op& op);

struct Location {
    std::optional<std::uint64_t> address;
    std::string unavailable;
};

// Evaluates a location expression the way Go's compiler writes them
// (src/cmd/compile/internal/ssagen/ssa.go and cmd/internal/dwarf: DW_OP_call_frame_cfa or
// DW_OP_fbreg for stack slots, DW_OP_reg*/DW_OP_regx for registers, DW_OP_piece for values
// split into parts). The frame base of every Go function is DW_OP_call_frame_cfa.
Location evaluate(const Dwarf_Op* ops, std::size_t count, std::uint64_t cfa, std::uint64_t variableSize,
                  const RegisterSpills& spills) {
    if (count == 0) return {std::nullopt, "optimized away here"};
    if (count == 1) {
        // A whole value in one register: readable when the callee received that register as
        // an argument and has spilled it (see FrameVariables::spillsOfCallee).
        int reg = op0Register(ops[0]);
        if (reg >= 0) {
            auto spilled = spills.find(reg);
            if (spilled != spills.end()) return {spilled->second, ""};
        }
    }
    if (count > kMaxOps) return {std::nullopt, "location expression too long"};
    std::vector<std::uint64_t> stack;
    std::optional<std::uint64_t> firstPieceAddress;
    std::uint64_t expectedNext = 0, covered = 0;
    bool inRegister = false;
    for (std::size_t i = 0; i < count; ++i) {
        const Dwarf_Op& op = ops[i];
        switch (op.atom) {
            case DW_OP_call_frame_cfa:
                stack.push_back(cfa);
                break;
            case DW_OP_fbreg:
                stack.push_back(cfa + static_cast<std::uint64_t>(static_cast<std::int64_t>(op.number)));
                break;
            case DW_OP_addr:
            case DW_OP_constu:
                stack.push_back(op.number);
                break;
            case DW_OP_consts:
                stack.push_back(static_cast<std::uint64_t>(static_cast<std::int64_t>(op.number)));
                break;
            case DW_OP_plus_uconst:
                if (stack.empty()) return {std::nullopt, "malformed location"};
                stack.back() += op.number;
                break;
            case DW_OP_plus:
            case DW_OP_minus: {
                if (stack.size() < 2) return {std::nullopt, "malformed location"};
                std::uint64_t b = stack.back();
                stack.pop_back();
                stack.back() = op.atom == DW_OP_plus ? stack.back() + b : stack.back() - b;
                break;
            }
            case DW_OP_piece: {
                if (inRegister || stack.empty()) {
                    // Part of the value is in a register (or nowhere): not one piece of memory.
                    if (firstPieceAddress || covered > 0)
                        return {std::nullopt, "split between registers and memory"};
                    return {std::nullopt, "in a register at this pc"};
                }
                std::uint64_t at = stack.back();
                stack.clear();
                if (!firstPieceAddress) {
                    firstPieceAddress = at;
                    expectedNext = at;
                }
                if (at != expectedNext) return {std::nullopt, "split into pieces at different places"};
                expectedNext += op.number;
                covered += op.number;
                break;
            }
            default:
                if ((op.atom >= DW_OP_reg0 && op.atom <= DW_OP_reg31) || op.atom == DW_OP_regx) {
                    inRegister = true;
                    break;
                }
                if ((op.atom >= DW_OP_breg0 && op.atom <= DW_OP_breg31) || op.atom == DW_OP_bregx)
                    return {std::nullopt, "relative to a register"};
                if (op.atom >= DW_OP_lit0 && op.atom <= DW_OP_lit31) {
                    stack.push_back(op.atom - DW_OP_lit0);
                    break;
                }
                return {std::nullopt, "unsupported location operation"};
        }
    }
    if (firstPieceAddress) {
        if (covered < variableSize) return {std::nullopt, "only part of it is in memory"};
        return {firstPieceAddress, ""};
    }
    if (inRegister) return {std::nullopt, "in a register at this pc"};
    if (stack.size() != 1) return {std::nullopt, "malformed location"};
    return {stack.back(), ""};
}

int op0Register(const Dwarf_Op& op) {
    if (op.atom >= DW_OP_reg0 && op.atom <= DW_OP_reg31) return op.atom - DW_OP_reg0;
    if (op.atom == DW_OP_regx) return static_cast<int>(op.number);
    return -1;
}

std::string nameOf(Dwarf_Die* die) {
    const char* name = dwarf_diename(die);
    return name != nullptr ? name : "";
}

}  // namespace

LocationResult evaluateLocation(const Dwarf_Op* ops, std::size_t count, std::uint64_t cfa,
                                std::uint64_t variableSize, const RegisterSpills& spills) {
    Location location = evaluate(ops, count, cfa, variableSize, spills);
    return LocationResult{location.address, location.unavailable};
}

FrameVariables::FrameVariables(Dwarf* dwarf, TypeTable& types) : dwarf_(dwarf), types_(types) {
    buildIndex();
}

void FrameVariables::buildIndex() {
    if (dwarf_ == nullptr) return;
    Dwarf_Off offset = 0, next = 0;
    std::size_t headerSize = 0;
    while (dwarf_nextcu(dwarf_, offset, &next, &headerSize, nullptr, nullptr, nullptr) == 0) {
        Dwarf_Die cu, child;
        if (dwarf_offdie(dwarf_, offset + headerSize, &cu) != nullptr && dwarf_child(&cu, &child) == 0) {
            do {
                if (dwarf_tag(&child) != DW_TAG_subprogram) continue;
                Dwarf_Addr low = 0;
                if (dwarf_lowpc(&child, &low) == 0) subprogramByEntry_.emplace(low, dwarf_dieoffset(&child));
                // The concrete copy (with low_pc) is preferred; an abstract one names the
                // parameters of a function inlined everywhere.
                if (const char* name = dwarf_diename(&child)) {
                    auto [at, inserted] = subprogramByName_.emplace(name, dwarf_dieoffset(&child));
                    if (!inserted && low != 0) at->second = dwarf_dieoffset(&child);
                }
            } while (dwarf_siblingof(&child, &child) == 0);
        }
        offset = next;
    }
}

bool FrameVariables::subprogram(const StackFrame& frame, void* die) const {
    if (frame.function == nullptr || frame.fp == 0 || dwarf_ == nullptr) return false;
    auto found = subprogramByEntry_.find(frame.function->entry);
    return found != subprogramByEntry_.end() &&
           dwarf_offdie(dwarf_, found->second, static_cast<Dwarf_Die*>(die)) != nullptr;
}

RegisterSpills FrameVariables::spillsOfCallee(const StackFrame& callee) const {
    // Go passes arguments in registers (ABIInternal, src/cmd/compile/abi-internal.md) and a
    // callee that needs them after a call spills them to its argument spill slots. A
    // parameter whose location is one register at the callee's entry and a stack slot at
    // its current pc therefore tells what that register held at the call: the caller's
    // register-resident variables can be read back from there.
    RegisterSpills spills;
    Dwarf_Die die;
    if (!subprogram(callee, &die)) return spills;
    Dwarf_Die child;
    if (dwarf_child(&die, &child) != 0) return spills;
    const Dwarf_Addr pc = callee.symbolPc != 0 ? callee.symbolPc : callee.pc;
    do {
        if (dwarf_tag(&child) != DW_TAG_formal_parameter) continue;
        Dwarf_Attribute attr;
        if (dwarf_attr(&child, DW_AT_location, &attr) == nullptr) continue;
        Dwarf_Op* ops = nullptr;
        std::size_t count = 0;
        if (dwarf_getlocation_addr(&attr, callee.function->entry, &ops, &count, 1) <= 0 || count != 1)
            continue;
        int reg = op0Register(ops[0]);
        if (reg < 0) continue;
        if (dwarf_getlocation_addr(&attr, pc, &ops, &count, 1) <= 0) continue;
        Location here = evaluate(ops, count, callee.fp, 8, {});
        if (here.address) spills.emplace(reg, *here.address);
    } while (dwarf_siblingof(&child, &child) == 0);
    return spills;
}

std::vector<FrameVariable> FrameVariables::variables(const StackFrame& frame,
                                                     const StackFrame* callee) const {
    std::vector<FrameVariable> out;
    Dwarf_Die subprogram;
    if (!this->subprogram(frame, &subprogram)) return out;
    const RegisterSpills spills = callee != nullptr ? spillsOfCallee(*callee) : RegisterSpills{};

    // Scope membership and location lists are looked up at the call instruction for caller
    // frames (symbolPc), where variables live across the call are in their stack slots.
    const Dwarf_Addr pc = frame.symbolPc != 0 ? frame.symbolPc : frame.pc;
    struct Pending {
        Dwarf_Die die;
        std::string function;
        int depth;
    };
    std::vector<Pending> scopes{{subprogram, std::string(frame.function->name), 0}};
    while (!scopes.empty()) {
        Pending scope = scopes.back();
        scopes.pop_back();
        Dwarf_Die child;
        if (dwarf_child(&scope.die, &child) != 0) continue;
        do {
            int tag = dwarf_tag(&child);
            if ((tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) &&
                scope.depth < kMaxScopeDepth) {
                if (dwarf_haspc(&child, pc) != 1) continue;
                std::string function = scope.function;
                if (tag == DW_TAG_inlined_subroutine) function = nameOf(&child);
                scopes.push_back({child, function, scope.depth + 1});
                continue;
            }
            if (tag != DW_TAG_formal_parameter && tag != DW_TAG_variable) continue;
            FrameVariable variable;
            variable.name = nameOf(&child);
            variable.function = scope.function;
            variable.parameter = tag == DW_TAG_formal_parameter;
            Dwarf_Attribute attr;
            Dwarf_Die typeDie;
            if (dwarf_attr_integrate(&child, DW_AT_type, &attr) == nullptr ||
                dwarf_formref_die(&attr, &typeDie) == nullptr)
                continue;
            variable.type = types_.byOffset(dwarf_dieoffset(&typeDie));
            if (variable.type == nullptr || variable.name.empty()) continue;
            if (variable.name[0] == '&') {
                // A closure's by-reference capture: the slot holds a pointer to the variable
                // (src/cmd/compile/internal/dwarfgen/dwarf.go names them "&name").
                variable.name.erase(0, 1);
                variable.byReference = true;
                const Type* pointer = variable.type->underlying();
                if (pointer->tag == TypeTag::Pointer && pointer->target != nullptr)
                    variable.type = pointer->target;
            }
            if (dwarf_attr(&child, DW_AT_location, &attr) == nullptr) {
                variable.unavailable = "no location";
                out.push_back(std::move(variable));
                continue;
            }
            Dwarf_Op* ops = nullptr;
            std::size_t count = 0;
            int n = dwarf_getlocation_addr(&attr, pc, &ops, &count, 1);
            if (n <= 0) {
                variable.unavailable = "not live at this pc";
            } else {
                std::uint64_t size = variable.byReference ? 8 : variable.type->byteSize();
                Location location = evaluate(ops, count, frame.fp, size, spills);
                variable.address = location.address;
                variable.unavailable = location.unavailable;
            }
            out.push_back(std::move(variable));
        } while (dwarf_siblingof(&child, &child) == 0);
    }
    return out;
}

namespace {

const Type* typeOf(Dwarf_Die* die, TypeTable& types) {
    Dwarf_Attribute attr;
    Dwarf_Die typeDie;
    if (dwarf_attr_integrate(die, DW_AT_type, &attr) == nullptr ||
        dwarf_formref_die(&attr, &typeDie) == nullptr)
        return nullptr;
    return types.byOffset(dwarf_dieoffset(&typeDie));
}

}  // namespace

std::optional<ClosureLayout> FrameVariables::closureLayout(const GoFunction& function) const {
    std::string_view name = function.name;
    if (name.size() > 3 && name.substr(name.size() - 3) == "-fm") return methodValueLayout(function);
    auto found = subprogramByEntry_.find(function.entry);
    Dwarf_Die die;
    if (dwarf_ == nullptr || found == subprogramByEntry_.end() ||
        dwarf_offdie(dwarf_, found->second, &die) == nullptr)
        return std::nullopt;
    // Captured variables are variables of the function's own scopes (Delve reads them the same
    // way: pkg/proc closure struct types); inlined callees have their own.
    ClosureLayout layout;
    layout.function = std::string(name);
    std::vector<std::pair<Dwarf_Die, int>> scopes{{die, 0}};
    while (!scopes.empty() && layout.captures.size() < kMaxCaptures) {
        auto [scope, depth] = scopes.back();
        scopes.pop_back();
        Dwarf_Die child;
        if (dwarf_child(&scope, &child) != 0) continue;
        do {
            int tag = dwarf_tag(&child);
            if (tag == DW_TAG_lexical_block && depth < kMaxScopeDepth) scopes.push_back({child, depth + 1});
            if (tag != DW_TAG_variable) continue;
            Dwarf_Attribute attr;
            Dwarf_Word offset = 0;
            if (dwarf_attr(&child, kAttrGoClosureOffset, &attr) == nullptr ||
                dwarf_formudata(&attr, &offset) != 0)
                continue;
            ClosureCapture capture;
            capture.name = nameOf(&child);
            capture.type = typeOf(&child, types_);
            capture.offset = offset;
            // Behind the code pointer, inside what a closure object can be.
            if (capture.type == nullptr || capture.name.empty() || offset < 8 ||
                offset > (std::uint64_t{1} << 30))
                continue;
            if (capture.name[0] == '&') {
                // Captured by reference: the object holds a pointer to the variable
                // (dwarfgen names such variables "&name").
                capture.name.erase(0, 1);
                capture.byReference = true;
            }
            layout.captures.push_back(std::move(capture));
        } while (dwarf_siblingof(&child, &child) == 0 && layout.captures.size() < kMaxCaptures);
    }
    if (layout.captures.empty()) return std::nullopt;
    std::sort(layout.captures.begin(), layout.captures.end(),
              [](const ClosureCapture& a, const ClosureCapture& b) { return a.offset < b.offset; });
    return layout;
}

std::optional<ClosureLayout> FrameVariables::methodValueLayout(const GoFunction& function) const {
    // "pkg.(*T).M-fm" wraps method "pkg.(*T).M"; the closure is struct { F uintptr; R *T }
    // (src/cmd/compile/internal/typecheck/func.go MethodValueType): R at offset 8 whatever its
    // type, as F is one word and no Go type is aligned to more. The receiver's name and type
    // are the method's first parameter.
    std::string method(function.name.substr(0, function.name.size() - 3));
    auto found = subprogramByName_.find(method);
    Dwarf_Die die, child;
    if (dwarf_ == nullptr || found == subprogramByName_.end() ||
        dwarf_offdie(dwarf_, found->second, &die) == nullptr || dwarf_child(&die, &child) != 0)
        return std::nullopt;
    do {
        if (dwarf_tag(&child) != DW_TAG_formal_parameter) continue;
        ClosureCapture receiver;
        receiver.name = nameOf(&child);
        receiver.type = typeOf(&child, types_);
        receiver.offset = 8;
        if (receiver.type == nullptr) return std::nullopt;
        if (receiver.name.empty()) receiver.name = "R";
        return ClosureLayout{std::string(function.name), true, {std::move(receiver)}};
    } while (dwarf_siblingof(&child, &child) == 0);
    return std::nullopt;
}

bool FrameVariables::hasClosureOffsets() const {
    if (hasClosureOffsets_) return *hasClosureOffsets_;
    hasClosureOffsets_ = false;
    // The runtime's own closures (its systemstack bodies) are in every build: look for one
    // attribute among the functions' top-level variables.
    for (const auto& [entry, offset] : subprogramByEntry_) {
        Dwarf_Die die, child;
        if (dwarf_offdie(dwarf_, offset, &die) == nullptr || dwarf_child(&die, &child) != 0) continue;
        do {
            Dwarf_Attribute attr;
            if (dwarf_tag(&child) == DW_TAG_variable &&
                dwarf_attr(&child, kAttrGoClosureOffset, &attr) != nullptr) {
                hasClosureOffsets_ = true;
                return true;
            }
        } while (dwarf_siblingof(&child, &child) == 0);
    }
    return false;
}

}  // namespace gomapcore
