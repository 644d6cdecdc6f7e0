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

namespace gomapcore {

enum class RootKind { Global, Stack, Heap };

// A place the program holds a map header pointer.
struct MapRoot {
    std::string name;  // "main.users", "goroutine 7 main.main.func1 m", "main.srv.sessions[\"eu\"].byID"
    RootKind kind = RootKind::Global;
    std::uint64_t mapAddress = 0;             // 0 for a nil map
    const Type* type = nullptr;               // the map type
    bool heuristic = false;                   // found by validating memory, not through a typed root
    std::vector<std::string> typeCandidates;  // heuristic: the types it validates as
};

// Maps a runtime type descriptor (the first word of an interface value, or its itab's type)
// to the DWARF type of that name; nullptr when it cannot.
using DynamicTypeResolver = std::function<const Type*(std::uint64_t descriptor)>;

class Reachability {
  public:
    Reachability(const Memory& memory, LayoutCatalog& layouts, const ReachLimits& limits,
                 const WalkLimits& walkLimits, DynamicTypeResolver resolver = {});

    // A value of type at address, named name (kind Global or Stack).
    void addRoot(const std::string& name, RootKind kind, std::uint64_t address, const Type* type);
    // Follows everything reachable from the roots added so far.
    void run();
    // Name map entries in paths by their key's type and length, not its contents (--redact).
    void setRedactKeys(bool redact) { redactKeys_ = redact; }

    const std::vector<MapRoot>& maps() const { return maps_; }
    std::size_t objectsVisited() const { return objectsVisited_; }
    const std::vector<std::string>& limitsHit() const { return limitsHit_; }
    // The most values that waited in the work list at once: what the search held at its peak.
    std::size_t peakQueued() const { return peakQueued_; }

  private:
    struct Pending {
        std::string path;
        RootKind kind;
        std::uint64_t address;
        const Type* type;
    };
    // Queues item (at the back, or at the front for a struct's fields, which keeps a value's
    // parts next to it in the order paths are reported) and charges what it holds while it
    // waits to the analysis budget. False once the budget is spent: the caller stops queueing.
    bool enqueue(Pending item, bool front = false);
    void expand(const Pending& item);
    void expandMapEntries(const Pending& item, std::uint64_t header, const Type* mapType);
    bool mayHoldPointers(const Type* type);
    void expandInterface(const Pending& item, const Type* interfaceType);
    void expandChannel(const Pending& item, const Type* chanType);
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
    bool redactKeys_ = false;
    std::deque<Pending> queue_;
    bool budgetSpent_ = false;
    std::size_t peakQueued_ = 0;
    std::unordered_map<std::uint64_t, std::vector<const Type*>> visited_;
    std::unordered_map<const Type*, bool> pointerMemo_;
    std::size_t objectsVisited_ = 0;
    std::vector<MapRoot> maps_;
    std::vector<std::string> limitsHit_;
};

}  // namespace gomapcore
