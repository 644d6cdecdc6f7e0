// An analysis session: a core, its executable, and everything derived from them. Front ends
// (CLI, LLDB plugin, GUI) open one and ask it for a Report.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gomapcore/core_file.h"
#include "gomapcore/core_memory.h"
#include "gomapcore/crash.h"
#include "gomapcore/executable.h"
#include "gomapcore/frame_variables.h"
#include "gomapcore/go_symbols.h"
#include "gomapcore/goroutines.h"
#include "gomapcore/heap_checks.h"
#include "gomapcore/heap_model.h"
#include "gomapcore/map_layout.h"
#include "gomapcore/map_model.h"
#include "gomapcore/reachability.h"
#include "gomapcore/types.h"

namespace gomapcore {

inline constexpr const char* kReportSchema = "gomapcore/report-v1";
inline constexpr const char* kVersion = "0.1.0";
inline constexpr std::uint64_t kDefaultMaxMemoryBytes = std::uint64_t{2048} << 20;

struct AnalysisOptions {
    WalkLimits limits;
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

    // A budget of timeLimit (from now) and maxMemoryBytes, for walks done outside run().
    AnalysisBudget makeBudget() const {
        AnalysisBudget budget;
        if (timeLimit) budget.limitTime(*timeLimit);
        budget.limitMemory(maxMemoryBytes);
        return budget;
    }
};

struct NilMap {
    std::string root;
    std::string type;
};

struct Report {
    struct Input {
        std::string core;
        std::string executable;
        bool coreTruncated = false;
    } input;
    struct Target {
        std::string goVersion;
        std::string goExperiment;
        std::string mapLayout;  // "classic" or "swiss"
        std::string arch;
        int pid = 0;
        int signal = 0;
        std::size_t threads = 0;
    } target;
    std::optional<CrashReport> crash;
    std::vector<MapResult> maps;
    std::vector<NilMap> nilMaps;
    std::vector<std::string> notes;  // things the analysis could not do, and why
    // Bounds of the analysis as a whole (not of one map's walk) that stopped it early.
    std::vector<std::string> limitsHit;

    std::vector<Finding> findings() const;
    std::size_t countAtLeast(Severity severity) const;
};

class Analysis {
  public:
    // Opens a core and its executable (found from the core's NT_FILE note when exePath is
    // empty) and checks they belong together. Throws Error.
    static std::unique_ptr<Analysis> open(const std::string& corePath, const std::string& exePath = "");

    const CoreFile& core() const { return *core_; }
    const Executable& executable() const { return *exe_; }
    const Memory& memory() const { return *memory_; }
    TypeTable& types() { return *types_; }
    LayoutCatalog& layouts() { return *layouts_; }
    MapLayoutKind programLayout() const { return programLayout_; }
    // Go's function table; nullptr (with a note) when it cannot be read. Loaded once.
    const GoSymbols* symbols();
    // Every live goroutine with its unwound stack; nullptr (with a note) when the runtime's
    // lists cannot be read. Loaded once.
    const GoroutineTable* goroutines();
    // The heap's span model (runtime.mheap_); nullptr (with a note) when it cannot be read.
    // Loaded once.
    const HeapModel* heap();
    // What PIE loading added to the executable's addresses (0 for a non-PIE Go binary).
    std::uint64_t loadBias() const { return loadBias_; }
    // Things the analysis could not do so far, and why.
    const std::vector<std::string>& notes() const { return notes_; }

    // Every root that holds a map: globals, then goroutine stack variables (heap objects
    // slot in here).
    std::vector<MapRoot> findRoots(const ReachLimits& reach = {}, const WalkLimits& limits = {},
                                   bool redact = false);
    // The DWARF variables of stack frames; loaded once.
    const FrameVariables& frameVariables();
    // What happened, given the maps found.
    CrashReport explainCrash(const std::vector<MapRoot>& roots, const std::vector<MapResult>& maps);
    // Walks one map (header address) with a given map type.
    MapResult walk(std::uint64_t address, const Type* mapType, const WalkLimits& limits);
    // The whole analysis.
    Report run(const AnalysisOptions& options);

  private:
    Analysis() = default;
    void verifyExecutableMatchesCore();
    void detectProgramLayout();
    void addStackRoots(Reachability& reach);
    void addStackObjectMaps(std::vector<MapRoot>& roots, const WalkLimits& limits);
    bool validatesAsMap(std::uint64_t address, const Type* mapType, const WalkLimits& limits);
    // Of the map types a header validates as, those whose bucket or group matches what the GC
    // records of the allocation holding its storage: one of frameObjects, the stack objects of
    // frame, or a heap object. All of them when it cannot tell; none when the record fits none
    // (then the header is not reported as a map).
    std::vector<const Type*> narrowByStorage(std::uint64_t header, const std::vector<const Type*>& types,
                                             const StackFrame* frame = nullptr,
                                             const std::vector<StackObject>* frameObjects = nullptr);
    // Heap objects of the map header's size class that no root reached and that validate as
    // maps: appended to maps with no roots, confidence "heuristic" (heap_checks.cpp).
    void addUnreachedMaps(std::vector<MapResult>& maps, const WalkLimits& limits,
                          const UnreachedLimits& bounds);
    // Candidates for the map a runtime map function frame operates on.
    std::vector<MapCandidate> mapArgument(const Goroutine& goroutine, std::size_t frameIndex);
    std::string crashMessage(const Goroutine& goroutine, bool& isPanic);
    struct RuntimeTypeInfo {
        std::string name;
        GoKind kind = GoKind::Invalid;
    };
    // A runtime type descriptor (abi.Type, runtime._type before Go 1.21): its name and kind.
    RuntimeTypeInfo runtimeType(std::uint64_t descriptor);

    std::unique_ptr<CoreFile> core_;
    std::unique_ptr<Executable> exe_;
    std::unique_ptr<CoreMemory> memory_;
    std::unique_ptr<TypeTable> types_;
    std::unique_ptr<LayoutCatalog> layouts_;
    std::optional<std::unique_ptr<GoSymbols>> symbols_;
    std::optional<std::unique_ptr<GoroutineTable>> goroutines_;
    std::optional<std::unique_ptr<HeapModel>> heap_;
    std::unique_ptr<FrameVariables> frameVariables_;
    MapLayoutKind programLayout_ = MapLayoutKind::Classic;
    std::uint64_t loadBias_ = 0;
    std::vector<std::string> notes_;
    std::vector<std::string> limitsHit_;
    bool redact_ = false;
};

}  // namespace gomapcore
