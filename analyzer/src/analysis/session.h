// A target and its executable, and the program model derived from them: DWARF types and map
// layouts, Go's function table, the goroutines, the heap's spans and the frames' variables.
// Loaded once (the expensive parts lazily) and shared by every run; a run's own state is in
// RunContext.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "binary/executable.h"
#include "binary/executable_backed_memory.h"
#include "binary/go_symbols.h"
#include "binary/types.h"
#include "gomapcore/map_model.h"
#include "gomapcore/target.h"
#include "maps/map_layout.h"
#include "runtime/frame_variables.h"
#include "runtime/goroutines.h"
#include "runtime/heap_model.h"

namespace gomapcore {

// A runtime type descriptor (abi.Type, runtime._type before Go 1.21): its name and kind.
struct RuntimeTypeInfo {
    std::string name;
    GoKind kind = GoKind::Invalid;
};

// What a runtime type descriptor says of the memory of its values: abi.Type's Size_ and the
// words its GCData mask marks as pointers (the GC's view, src/internal/abi/type.go).
struct RuntimeTypeShape {
    std::uint64_t size = 0;
    // One flag per word up to PtrBytes, trailing non-pointer words dropped; nullopt when the
    // descriptor keeps no plain mask (a GC program before Go 1.24, a mask built on demand and
    // not built yet from Go 1.24) or it is not captured.
    std::optional<std::vector<bool>> pointerWords;
};

class Session {
  public:
    // Checks that the executable produced the target (throws Error(ExecutableMismatch)) and that
    // it is a Go program gomapcore can decode (Error(NotGoProgram)).
    Session(std::unique_ptr<Target> target, std::unique_ptr<Executable> executable);

    const Target& target() const { return *target_; }
    const Executable& executable() const { return *executable_; }
    // The CPU the program ran on: the executable's, which the target's must equal.
    const Architecture& architecture() const { return executable_->architecture(); }
    // The target's memory, with the executable's file bytes for read-only file mappings the
    // target did not capture.
    const Memory& memory() const { return *memory_; }
    TypeTable& types() { return *types_; }
    LayoutCatalog& layouts() { return *layouts_; }
    MapLayoutKind programLayout() const { return programLayout_; }
    // What PIE loading added to the executable's addresses (0 for a non-PIE Go binary).
    std::uint64_t loadBias() const { return loadBias_; }

    // Go's function table; nullptr (with a note) when it cannot be read. Loaded once.
    const GoSymbols* symbols();
    // Every live goroutine with its unwound stack; nullptr (with a note) when the runtime's
    // lists cannot be read. Loaded once.
    const GoroutineTable* goroutines();
    // The heap's span model (runtime.mheap_); nullptr (with a note) when it cannot be read.
    const HeapModel* heap();
    // The DWARF variables of stack frames; loaded once.
    const FrameVariables& frameVariables();
    // The closure a func value's code pointer (a funcval's first word) runs: the function that
    // starts exactly there and what its closure object holds after that word; nullptr when no
    // function starts there or its DWARF describes no captured data. Memoized per pointer.
    const ClosureLayout* closureAt(std::uint64_t codePointer);
    // What loading the program model could not do, and why.
    const std::vector<std::string>& notes() const { return notes_; }

    // Walks one map (header address) as mapType.
    MapResult walk(std::uint64_t address, const Type* mapType, const WalkLimits& limits);
    // The name and kind a runtime type descriptor gives.
    RuntimeTypeInfo runtimeType(std::uint64_t descriptor);
    // The size and pointer words a runtime type descriptor records; nullopt when it is not
    // readable. Memoized per descriptor.
    std::optional<RuntimeTypeShape> runtimeTypeShape(std::uint64_t descriptor);
    // The DWARF type a runtime type descriptor names; nullptr when none.
    const Type* dynamicType(std::uint64_t descriptor);
    // The header type of the program's map implementation (runtime.hmap or maps.Map).
    const Type* mapHeaderType();

  private:
    void verifyExecutableMatchesTarget();
    void matchSegmentsWithoutFileMappings();
    void detectProgramLayout();

    std::unique_ptr<Target> target_;
    std::unique_ptr<Executable> executable_;
    std::uint64_t loadBias_ = 0;
    std::unique_ptr<ExecutableBackedMemory> memory_;
    std::unique_ptr<TypeTable> types_;
    std::unique_ptr<LayoutCatalog> layouts_;
    MapLayoutKind programLayout_ = MapLayoutKind::Classic;
    std::optional<std::unique_ptr<GoSymbols>> symbols_;
    std::optional<std::unique_ptr<GoroutineTable>> goroutines_;
    std::optional<std::unique_ptr<HeapModel>> heap_;
    std::unique_ptr<FrameVariables> frameVariables_;
    std::unordered_map<std::uint64_t, std::optional<RuntimeTypeShape>> typeShapes_;
    std::unordered_map<std::uint64_t, std::optional<ClosureLayout>> closures_;
    std::vector<std::string> notes_;
};

// The runtime's own globals and frames hold its machinery (heap arenas, schedulers, the
// goroutines themselves), not program maps; following them would walk the whole heap twice.
bool runtimeInternal(std::string_view name);

}  // namespace gomapcore
