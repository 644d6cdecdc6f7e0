// The engine's entry point. An Analysis is a target (a core file, a live process, ...) and the Go
// executable that produced it; front ends (CLI, LLDB plugin, GUI) open one and ask it for a
// Report, or for one map in depth. See docs/architecture.md for what lies behind it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gomapcore/budget.h"
#include "gomapcore/limits.h"
#include "gomapcore/map_model.h"
#include "gomapcore/progress.h"
#include "gomapcore/report.h"
#include "gomapcore/target.h"

namespace gomapcore {

inline constexpr std::uint64_t kDefaultMaxMemoryBytes = std::uint64_t{2048} << 20;

// Which maps a report lists one by one. Every map with a finding, every crash participant, every
// map reached through at most maxIndexDepth slice, array or map indexes (globals, stack variables
// and their fields at depth 0), and the largest maps by live entries are listed; the rest are
// counted in map groups. With all, every map is listed.
struct MapListing {
    bool all = false;
    std::size_t largest = 1000;
    std::size_t maxIndexDepth = 0;
};

// Thresholds of the rules on map memory (docs/report-v1.md): they describe waste, never damage.
struct MemoryRules {
    // map-oversized (warning): slots at least oversizedRatio times the live entries, in a map
    // holding at least oversizedMinBytes (a fresh map of a few entries has 8 slots per entry).
    std::uint64_t oversizedRatio = 8;
    std::uint64_t oversizedMinBytes = std::uint64_t{1} << 20;
    // map-overflow-heavy (info, classic): overflow buckets on the chains at least
    // overflowHeavyRatio times the main buckets, and at least overflowHeavyMinBuckets of them.
    double overflowHeavyRatio = 0.5;
    std::uint64_t overflowHeavyMinBuckets = 64;
    // map-dominant (info): one map holds at least dominantShare of the Go heap in use, and at
    // least dominantMinBytes.
    double dominantShare = 0.25;
    std::uint64_t dominantMinBytes = std::uint64_t{16} << 20;
    // How many maps the memory summary names (MemorySummary::largest).
    std::size_t largest = 10;
};

struct AnalysisOptions {
    WalkLimits limits;
    MemoryRules memoryRules;
    ReachLimits reach;
    // Never put key or value contents (or a panic's value) in the output: only their type
    // and length. Cores hold secrets.
    bool redact = false;
    UnreachedLimits unreached;
    // Wall-clock time the walks may take in all (from the start of run()); none if unset.
    // When it runs out, every walk stops where it is and the report says so in limits_hit.
    std::optional<std::chrono::milliseconds> timeLimit;
    // Memory the walks' results and work lists may hold in all (an estimate of the structures
    // kept, not of the process's RSS; see README "Resource bounds").
    std::uint64_t maxMemoryBytes = kDefaultMaxMemoryBytes;

    MapListing listing;
    // Called with every map found, listed or not, in report order once the run is over (none
    // if empty): what streams a report of millions of maps one line a map.
    std::function<void(const MapResult&)> onMap;
    // Progress of run() and inspect() phase by phase (none if empty).
    ProgressCallback progress;
    // Called once, before the search for maps (phase "crash-first"), with the crash explained
    // from the goroutines and the map variables alone (globals, goroutine frames) and the
    // crash's map walked and checked (nullptr when the crash names none, or its type is not
    // known yet): what a front end shows within a second on any core. The report's crash,
    // explained after the search, may name more roots of the map (none if empty).
    std::function<void(const CrashReport&, const MapResult* crashMap)> onCrash;
    // Cancels run() or inspect() from another thread: they throw Error(Cancelled).
    std::shared_ptr<const CancelToken> cancel;

    // A budget of timeLimit (from now), maxMemoryBytes and cancel.
    AnalysisBudget makeBudget() const {
        AnalysisBudget budget;
        budget.cancelWith(cancel);
        if (timeLimit) budget.limitTime(*timeLimit);
        budget.limitMemory(maxMemoryBytes);
        return budget;
    }
};

// How to open a core and where to find its executable (README, "Finding the executable"),
// tried in order: executable; the path the core's NT_FILE note records; each of
// executableDirs; the debuginfod servers of DEBUGINFOD_URLS.
struct OpenOptions {
    // Used as given (a mismatch with the core is an error, never a reason to look elsewhere).
    std::string executable;
    // Sysroots (the recorded path is looked up under each) or flat folders of binaries
    // (matched by the build ID in the core's dumped ELF header page).
    std::vector<std::string> executableDirs;
    // Ask debuginfod by GNU build ID (libdebuginfod: DEBUGINFOD_URLS, its cache and timeout).
    bool debuginfod = true;
    // A compressed core that decompresses to more than this is refused.
    std::uint64_t maxDecompressedBytes = kDefaultMaxDecompressedBytes;
};

// One map found by name or address and walked in depth (every node and slot kept).
struct MapInspection {
    // The map, as run() reports it (roots, confidence, type candidates, heap findings), with
    // its whole structure. Unset for a nil map.
    std::optional<MapResult> map;
    // For a nil map: the root that holds it and its type.
    std::optional<NilMap> nilMap;
    std::vector<std::string> notes;
};

class Session;
class GoroutineTable;

class Analysis {
  public:
    // Opens a core and its executable (found from the core's NT_FILE note when exePath is
    // empty) and checks they belong together. Throws Error.
    static std::unique_ptr<Analysis> open(const std::string& corePath, const std::string& exePath = "");
    // The same with every way of finding the executable (OpenOptions).
    static std::unique_ptr<Analysis> open(const std::string& corePath, const OpenOptions& options);
    // The same over any target; exePath empty: the executable the target records.
    static std::unique_ptr<Analysis> create(std::unique_ptr<Target> target, const std::string& exePath = "");
    static std::unique_ptr<Analysis> create(std::unique_ptr<Target> target, const OpenOptions& options);
    ~Analysis();

    // The whole analysis. Each call is a fresh run: nothing of an earlier one carries over.
    Report run(const AnalysisOptions& options);
    // One map, by a root name (main.users, goroutine 7 main.f m) or a header address, found the
    // way run() finds maps (unreached heap maps included) and walked with its full structure.
    // Throws Error(NotFound) when no map has that name or address.
    MapInspection inspect(const std::string& nameOrAddress, const AnalysisOptions& options);

    const Target& target() const;
    // The process's memory as the analysis reads it.
    const Memory& memory() const;
    // Every live goroutine with its unwound stack; nullptr when the runtime's lists cannot be
    // read (notes() says why).
    const GoroutineTable* goroutines();
    // What loading the program could not do, and why.
    const std::vector<std::string>& notes() const;
    // Where the executable came from.
    const ExecutableOrigin& executableOrigin() const { return origin_; }

    // The program model behind this analysis (engine internals and tests only).
    Session& session() { return *session_; }

  private:
    Analysis(std::unique_ptr<Session> session, ExecutableOrigin origin);
    std::unique_ptr<Session> session_;
    ExecutableOrigin origin_;
};

}  // namespace gomapcore
