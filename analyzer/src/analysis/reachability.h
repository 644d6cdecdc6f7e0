// Finds the maps a program can reach: from its roots (globals, stack variables) it follows
// typed pointers through structs, arrays, slices, pointers and map entries, the way the
// garbage collector would, and names the path it took ("main.srv.sessions[\"eu\"].byID").
// Each object is visited once per type; the walk is breadth-first (shortest names) and
// bounded in objects visited.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "binary/types.h"
#include "gomapcore/limits.h"
#include "gomapcore/map_model.h"
#include "gomapcore/memory.h"
#include "maps/map_layout.h"
#include "runtime/frame_variables.h"

namespace gomapcore {

enum class RootKind : std::uint8_t { Global, Stack, Heap };

// Where a root's path starts (report-v1 maps[].root_kinds[].origin).
enum class RootOrigin : std::uint8_t {
    Global,          // a package-level variable
    Goroutine,       // a goroutine frame's variable, or a stack object of its frame
    GoroutineStart,  // the closure a goroutine was started with (g.sched.ctxt)
    Timer,           // the callback of a runtime timer (time.AfterFunc)
};
const char* toString(RootOrigin origin);

// What a path passes through that typed pointers alone do not lead to (root_kinds[].through),
// as bits.
enum RootHop : std::uint8_t {
    kThroughClosure = 1,         // a func value's closure object, typed by its function's DWARF
    kThroughMethodValue = 2,     // a method value's receiver
    kThroughUntypedPointer = 4,  // an unsafe.Pointer or uintptr typed by what the heap records
    kThroughRecognisedMap = 8,   // ... or a map recognised behind one: heuristic
};
// The names of the hops in hops, in the order of the bits.
std::vector<std::string> hopNames(std::uint8_t hops);

// A place the program holds a map header pointer.
struct MapRoot {
    std::string name;  // "main.users", "goroutine 7 main.main.func1 m", "main.srv.sessions[\"eu\"].byID"
    RootKind kind = RootKind::Global;
    std::uint64_t mapAddress = 0;             // 0 for a nil map
    const Type* type = nullptr;               // the map type
    bool heuristic = false;                   // found by validating memory, not through a typed root
    std::vector<std::string> typeCandidates;  // heuristic: the types it validates as
    RootOrigin origin = RootOrigin::Global;
    std::uint8_t through = 0;  // RootHop bits
};

// Maps a runtime type descriptor (the first word of an interface value, or its itab's type)
// to the DWARF type of that name; nullptr when it cannot.
using DynamicTypeResolver = std::function<const Type*(std::uint64_t descriptor)>;
// The closure a func value runs, from its closure object (funcval) and the code pointer that
// object starts with; nullptr when nothing is known of its captures.
using ClosureResolver = std::function<const ClosureLayout*(std::uint64_t funcval, std::uint64_t codePointer)>;

// What the heap records of the object an untyped pointer (unsafe.Pointer, uintptr) points at:
// the type mallocgc was asked for, when a malloc header or a large object's span names it; or,
// where only the span's heap bits describe the object, a map they and a validation walk
// recognise: the object is a map header, or one word holding a pointer to one (a map variable
// whose address was taken).
struct UntypedTarget {
    const Type* type = nullptr;  // the DWARF type of that name; a map type when recognised
    std::uint64_t count = 1;     // how many of them the object holds (newarray)
    enum class Recognised : std::uint8_t { No, MapHeader, MapVariable } recognised = Recognised::No;
    std::vector<std::string> typeCandidates;  // recognised: every map type it validates as, when several
};
using UntypedPointerResolver = std::function<std::optional<UntypedTarget>(std::uint64_t pointer)>;

// What the heap says of the memory a slice's data pointer points into: the heap slot holding it
// (a slice's backing array is one allocation, so no slice runs past its slot's end), an
// in-use span's tail past its last slot (no object lies there), or nothing (a stack, a global,
// memory the heap model does not describe).
struct SliceBacking {
    enum class Kind : std::uint8_t { Unknown, HeapSlot, NoObject } kind = Kind::Unknown;
    std::uint64_t slotEnd = 0;  // HeapSlot: the first byte past the slot
};
using SliceBackingResolver = std::function<SliceBacking(std::uint64_t data)>;

class Reachability {
  public:
    Reachability(const Memory& memory, LayoutCatalog& layouts, const ReachLimits& limits,
                 const WalkLimits& walkLimits, DynamicTypeResolver resolver = {});

    // A value of type at address, named name (kind Global or Stack), starting a path of origin
    // (by default: Global for kind Global, Goroutine for kind Stack).
    void addRoot(const std::string& name, RootKind kind, std::uint64_t address, const Type* type,
                 std::optional<RootOrigin> origin = std::nullopt);
    // A func value's word at address (a *funcval), named name: the closure it points at.
    void addFuncValueRoot(const std::string& name, RootKind kind, std::uint64_t address, RootOrigin origin);
    // Follow func values into their closures (ReachLimits::followClosures).
    void setClosureResolver(ClosureResolver resolver) { closures_ = std::move(resolver); }
    // Follow unsafe.Pointer and uintptr words into heap objects whose type the heap records
    // (ReachLimits::followUntypedPointers).
    void setUntypedPointerResolver(UntypedPointerResolver resolver) { untyped_ = std::move(resolver); }
    // Bound slices by the heap slot their data lies in (without one, by its mapping only).
    void setSliceBackingResolver(SliceBackingResolver resolver) { backing_ = std::move(resolver); }
    // Follows everything reachable from the roots added so far.
    void run();
    // Name map entries in paths by their key's type and length, not its contents (--redact).
    void setRedactKeys(bool redact) { redactKeys_ = redact; }

    const std::vector<MapRoot>& maps() const { return maps_; }
    std::size_t objectsVisited() const { return objectsVisited_; }
    const std::vector<std::string>& limitsHit() const { return limitsHit_; }
    // The most values that waited in the work list at once: what the search held at its peak.
    std::size_t peakQueued() const { return peakQueued_; }
    // Values typed as slices that no running program could hold (len above cap, or a cap that
    // runs past the heap slot or mapping of their data) and were therefore not followed: stack
    // slots DWARF describes before the function wrote them, mostly.
    std::size_t impossibleSlices() const { return impossibleSlices_; }

  private:
    // Millions wait in the work list at once: the one-byte members share one word.
    struct Pending {
        Pending(std::string path_, RootKind kind_, std::uint64_t address_, const Type* type_,
                RootOrigin origin_ = RootOrigin::Global, std::uint8_t through_ = 0)
            : path(std::move(path_)),
              address(address_),
              type(type_),
              kind(kind_),
              origin(origin_),
              through(through_) {}
        std::string path;
        std::uint64_t address;
        const Type* type;
        RootKind kind;
        RootOrigin origin;
        std::uint8_t through;  // RootHop bits
    };
    // Queues item (at the back, or at the front for a struct's fields, which keeps a value's
    // parts next to it in the order paths are reported) and charges what it holds while it
    // waits to the analysis budget. False once the budget is spent: the caller stops queueing.
    bool enqueue(Pending item, bool front = false);
    void expand(const Pending& item);
    void expandMapEntries(const Pending& item, std::uint64_t header, const Type* mapType);
    bool mayHoldPointers(const Type* type);
    // How many of an array's, slice's or channel's count elements are followed: all, or
    // maxElementsPerArray, which is then recorded as a limit hit.
    std::uint64_t elementsToFollow(std::uint64_t count);
    // A uintptr struct field, followed as an untyped pointer when untyped_ is set.
    bool untypedField(const Field& field) const;
    void expandInterface(const Pending& item, const Type* interfaceType);
    void expandChannel(const Pending& item, const Type* chanType);
    void expandFuncValue(const Pending& item);
    void expandUntypedPointer(const Pending& item);
    void expandSlice(const Pending& item, const Type* sliceType);
    // How many of a slice's len elements to follow: len, or fewer where a backing array
    // outside the heap runs past its mapping (a limit hit); nullopt when the value is no slice.
    std::optional<std::uint64_t> sliceElements(std::uint64_t data, std::uint64_t len, std::uint64_t cap,
                                               std::uint64_t elementSize);
    // The type of v in sync/atomic.Pointer[T] (its `_ [0]*T` field says T), or nullptr.
    static const Type* atomicPointerTarget(const Type* structType);
    // True the first time the object (address, type) is met, which it records; false when it
    // was met before or maxObjects objects were (then the limit is recorded).
    bool firstVisit(std::uint64_t address, const Type* type);
    void hitLimit(const std::string& what);
    // The end of the run of adjacent mappings address lies in; nullopt when it lies in none.
    std::optional<std::uint64_t> mappedExtentEnd(std::uint64_t address) const;

    const Memory& memory_;
    LayoutCatalog& layouts_;
    ReachLimits limits_;
    WalkLimits walkLimits_;
    DynamicTypeResolver resolver_;
    ClosureResolver closures_;
    UntypedPointerResolver untyped_;
    SliceBackingResolver backing_;
    std::size_t impossibleSlices_ = 0;
    bool redactKeys_ = false;
    std::deque<Pending> queue_;
    bool budgetSpent_ = false;
    std::size_t peakQueued_ = 0;
    std::unordered_map<std::uint64_t, std::vector<const Type*>> visited_;
    std::unordered_map<const Type*, bool> pointerMemo_;
    std::size_t objectsVisited_ = 0;
    std::vector<MapRoot> maps_;
    // The candidate types of maps recognised behind untyped pointers, by header address.
    std::unordered_map<std::uint64_t, std::vector<std::string>> recognisedCandidates_;
    std::vector<std::string> limitsHit_;
};

}  // namespace gomapcore
