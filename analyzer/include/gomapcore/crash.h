// What happened: the crash explained from the core alone. The fatal signal and the crashing
// goroutine come from the core's notes and the goroutine table; the message from the
// runtime's throw/fatal frame or the goroutine's _panic record; the map from the runtime map
// function's own map argument (its DWARF location, with the measured amd64 spill slot as a
// labelled fallback), never from the write flag, which a core does not reliably preserve
// (see ../shared/reference/GO-MAPS.md §7.3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gomapcore {

// The contract's crash kinds (docs/report-v1.md).
namespace crash_kinds {
inline constexpr const char* kConcurrentWrites = "concurrent-map-writes";
inline constexpr const char* kConcurrentReadWrite = "concurrent-map-read-write";
inline constexpr const char* kConcurrentIterationWrite = "concurrent-map-iteration-write";
inline constexpr const char* kNilMapWrite = "nil-map-write";
inline constexpr const char* kMapMemoryFault = "map-memory-fault";
inline constexpr const char* kOutOfMemory = "out-of-memory";
// A signal another process sent (kill, timeout -s ABRT, a supervisor asking for a core).
inline constexpr const char* kKilledBySignal = "killed-by-signal";
// A runtime throw (runtime.throw/fatal) that is none of the map kinds.
inline constexpr const char* kRuntimeFatal = "runtime-fatal";
inline constexpr const char* kOther = "other";

// True for the kinds a map caused; the others (killed-by-signal, runtime-fatal, other) may
// still name maps in use, but no map is at fault.
inline bool isMapKind(std::string_view kind) {
    return kind == kConcurrentWrites || kind == kConcurrentReadWrite || kind == kConcurrentIterationWrite ||
           kind == kNilMapWrite || kind == kMapMemoryFault;
}
}  // namespace crash_kinds

struct CodeLocation {
    std::string function;
    std::string file;
    std::int64_t line = 0;
};

// Another goroutine whose frames hold the crash's map.
struct MapHolder {
    std::int64_t goroutine = 0;
    std::string how;  // "in runtime.mapassign_fast64" or "variable m"
    std::optional<CodeLocation> userFrame;
};

// A map pointer read from a runtime map function's frame.
struct MapCandidate {
    std::uint64_t address = 0;
    bool fromFallback = false;  // from an argument spill slot, not a DWARF location
};

// The signal another process sent, as the runtime's handler received it.
struct SentSignal {
    int signal = 0;
    int code = 0;  // si_code: SI_USER (kill), SI_TKILL (tgkill), ...
    std::optional<int> senderPid, senderUid;
    int thread = 0;                   // the thread whose handler took it
    std::optional<std::int64_t> m;    // that thread's runtime m.id
    bool fromCoreNote = false;        // only NT_SIGINFO told (no handler frame survived)
    std::string interruptedFunction;  // where it found the thread
};

// A goroutine inside a runtime map function at the moment of the crash: a map being written
// (or read) then, worth naming even when no map is at fault.
struct MapInUse {
    std::int64_t goroutine = 0;
    std::string function;              // the runtime map function
    std::optional<std::uint64_t> map;  // its map argument, when readable
    std::vector<std::string> mapRoots;
    std::optional<CodeLocation> userFrame;
};

struct CrashReport {
    int signal = 0;
    int signalCode = 0;
    std::optional<std::uint64_t> faultAddress;
    std::optional<int> thread;
    std::optional<std::int64_t> goroutine;
    std::string message;  // as the runtime had it, e.g. "concurrent map writes"
    std::string kind = crash_kinds::kOther;
    std::optional<std::uint64_t> map;  // 0 for a nil map
    std::vector<std::string> mapRoots;
    std::string mapFunction;                 // the runtime map function that found the problem
    bool mapFromFallback = false;            // the map pointer came from the spill-slot fallback
    std::string variable;                    // nil-map-write: the variable assigned into, when known
    std::string field;                       // map-memory-fault: which pointer of the map faulted
    std::optional<CodeLocation> userFrame;   // the user code that touched the map
    std::optional<CodeLocation> crashFrame;  // the innermost user frame, for other crashes
    std::vector<MapHolder> others;
    // The findings on the crash's map ("rule at address"), so a reader can go from the crash
    // to what is wrong with the map.
    std::vector<std::pair<std::string, std::uint64_t>> mapFindings;
    std::optional<SentSignal> sentSignal;  // killed-by-signal: who sent what

    // The goroutines the crash involves: its own goroutine and the others holding its map,
    // ascending, each once.
    std::vector<std::int64_t> goroutinesInvolved() const;
    bool reraisedByRuntime = false;   // NT_SIGINFO is the runtime's own final SIGABRT
    std::string goroutineState;       // the crash goroutine's state ("syscall", "running")
    bool onSystemStack = false;       // the thread was on its g0/signal stack (scheduler, GC)
    std::vector<MapInUse> mapsInUse;  // goroutines inside runtime map functions
    std::string explanation;          // one plain-language sentence
    std::vector<std::string> notes;
};

}  // namespace gomapcore
