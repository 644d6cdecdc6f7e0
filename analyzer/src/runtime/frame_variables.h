// The parameters and locals of a stack frame, from the executable's DWARF: each function's
// DW_TAG_subprogram (and the DW_TAG_inlined_subroutine scopes inside it), with location
// expressions and location lists evaluated for the frame's pc. Go's compiler describes
// variables relative to DW_OP_call_frame_cfa (its DW_AT_frame_base), which is the frame's fp.
#pragma once

#include <elfutils/libdw.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "binary/types.h"
#include "runtime/goroutines.h"

namespace gomapcore {

struct FrameVariable {
    std::string name;      // as declared; a closure's by-reference capture "&m" is named "m"
    std::string function;  // the function declaring it (an inlined callee's name for its own)
    const Type* type = nullptr;
    bool parameter = false;
    // Where the variable's value lives in memory at this pc, when it lives in memory in one
    // piece. Register-only values of frames other than the innermost are unknowable.
    std::optional<std::uint64_t> address;
    // The variable holds a pointer to the value (closure by-reference capture "&m").
    bool byReference = false;
    std::string unavailable;  // why address is empty
};

// One variable a closure captured, where it lies in the closure object (the funcval).
struct ClosureCapture {
    std::string name;  // as declared ("&m" of a by-reference capture named "m")
    // Its type in the closure object: T captured by value, *T by reference.
    const Type* type = nullptr;
    std::uint64_t offset = 0;  // from the funcval's start; its first word is the code pointer
    bool byReference = false;
};

// What a closure object of one function holds after the code pointer. The compiler lays it
// out as struct { F uintptr; X0 T0; X1 T1; ... } in the order of the function's captured
// variables, each by value or as a pointer (src/cmd/compile/internal/typecheck/func.go
// ClosureType), and a method value as struct { F uintptr; R T } with the receiver R
// (MethodValueType there; the function is the compiler's "T.M-fm" wrapper).
struct ClosureLayout {
    std::string function;
    bool methodValue = false;
    std::vector<ClosureCapture> captures;
};

// DWARF register number -> the stack address holding that register's value at a call.
using RegisterSpills = std::unordered_map<int, std::uint64_t>;

struct LocationResult {
    std::optional<std::uint64_t> address;  // where the whole value is in memory
    std::string unavailable;               // else why not
};

// Evaluates one DWARF location expression as Go's compiler writes them, for a frame whose CFA
// is cfa (Go's DW_AT_frame_base is DW_OP_call_frame_cfa). Exposed for unit tests.
LocationResult evaluateLocation(const Dwarf_Op* ops, std::size_t count, std::uint64_t cfa,
                                std::uint64_t variableSize, const RegisterSpills& spills);

class FrameVariables {
  public:
    FrameVariables(Dwarf* dwarf, TypeTable& types);

    // Variables in scope at frame.pc. callee: the frame it called (the next inner one), whose
    // spilled register arguments make the caller's register-resident variables readable.
    std::vector<FrameVariable> variables(const StackFrame& frame, const StackFrame* callee = nullptr) const;
    // What each argument register held when callee was called, where callee spilled it.
    RegisterSpills spillsOfCallee(const StackFrame& callee) const;

    // The closure object layout of function, from its DWARF. A closure's captured variables are
    // the variables with DW_AT_go_closure_offset, which the compiler writes from Go 1.23 on
    // (src/cmd/compile/internal/dwarfgen/dwarf.go closureOffset; absent in Go 1.19 builds). A
    // method value's receiver is the method's first parameter. nullopt when the DWARF describes
    // no captured data: a function that captures nothing, an older Go, or a wrapper whose method
    // it does not describe.
    std::optional<ClosureLayout> closureLayout(const GoFunction& function) const;
    // Whether any variable of the executable's DWARF carries DW_AT_go_closure_offset (Go 1.23+):
    // without it, closures' captured variables cannot be placed.
    bool hasClosureOffsets() const;

  private:
    void buildIndex();
    bool subprogram(const StackFrame& frame, void* die) const;
    std::optional<ClosureLayout> methodValueLayout(const GoFunction& function) const;

    Dwarf* dwarf_;
    TypeTable& types_;
    std::unordered_map<std::uint64_t, std::uint64_t> subprogramByEntry_;  // low_pc -> DIE offset
    // Subprograms by name, the abstract ones of inlined functions included: DIE offset.
    std::unordered_map<std::string, std::uint64_t> subprogramByName_;
    mutable std::optional<bool> hasClosureOffsets_;
};

}  // namespace gomapcore
