// What an analysis found, and how it is rendered: the versioned JSON contract
// (docs/report-v1.md) and text for people.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "gomapcore/crash.h"
#include "gomapcore/map_model.h"
#include "gomapcore/memory.h"

namespace gomapcore {

inline constexpr const char* kReportSchema = "gomapcore/report-v1";
inline constexpr const char* kVersion = "0.1.0";

struct NilMap {
    std::string root;
    std::string type;
};

// Maps the report does not list one by one, counted together: those of one type reached
// through one root pattern (the root path with every index or key as [*], e.g. main.many[*];
// "(unreached)" for maps no root reaches).
struct MapGroup {
    std::string type;
    std::string rootPattern;
    std::uint64_t maps = 0;
    std::uint64_t entries = 0;  // live entries, summed
    std::uint64_t ok = 0, suspect = 0, damaged = 0, incomplete = 0;
    std::uint64_t bytes = 0;  // memory held (MapMemory::bytes), summed
};

// Where the memory went: what the maps hold, against the Go heap in use.
struct MemorySummary {
    // One of the maps holding the most memory, as found before the listing groups any.
    struct LargestMap {
        std::uint64_t address = 0;
        std::string type;
        std::vector<std::string> roots;
        std::int64_t count = 0;
        MapMemory memory;
    };
    std::uint64_t mapBytes = 0;  // every map found, listed or grouped
    std::uint64_t maps = 0;
    std::uint64_t incompleteMaps = 0;        // maps whose walk did not reach everything they hold
    std::optional<std::uint64_t> heapInUse;  // bytes; unset when the heap cannot be read
    std::string heapInUseSource;             // "mheap_.pagesInUse" or "spans"
    std::vector<LargestMap> largest;         // by bytes, largest first
};

// One line of a ranking of memory held: a map listed one by one (map set), or the maps of one
// map group counted together (group set) with their summed bytes.
struct MemoryShare {
    const MapResult* map = nullptr;
    const MapGroup* group = nullptr;
    std::uint64_t bytes = 0;
};

// The listed maps and the map groups of a report by bytes held, largest first, the first ones
// line by line and the rest summed (never dropped). Pointers into the report ranked.
struct MemoryRanking {
    std::vector<MemoryShare> top;
    std::uint64_t restLines = 0;  // lines past the limit
    std::uint64_t restMaps = 0;   // maps in them (a group's lines count all its maps)
    std::uint64_t restBytes = 0;
    std::uint64_t totalMaps = 0;  // listed and grouped: Report::mapCount()
    std::uint64_t totalBytes = 0;
};

// Where the analysis got the executable (README, "Finding the executable").
struct ExecutableOrigin {
    std::string path;
    // "argument" (--exe, or the front end's own), "core-file-note" (the path in the core's
    // NT_FILE note), "exe-dir" (found under an --exe-dir), "debuginfod" (fetched by build ID).
    std::string source;
    std::string buildId;    // the executable's GNU build ID (hex), "" if it has none
    std::string goBuildId;  // its Go build ID, "" if none
    // Candidates tried before it and why each was passed over ("PATH: REASON").
    std::vector<std::string> rejected;
};

struct Report {
    struct Input {
        std::string core;
        std::string executable;
        bool coreTruncated = false;
    } input;
    ExecutableOrigin executable;
    struct Target {
        std::string goVersion;
        std::string goExperiment;
        MapLayoutKind mapLayout = MapLayoutKind::Classic;
        std::string arch;
        int pid = 0;
        int signal = 0;
        std::size_t threads = 0;
    } target;
    std::optional<CrashReport> crash;
    // The maps listed one by one (AnalysisOptions::listing says which); the rest are counted
    // in mapGroups.
    std::vector<MapResult> maps;
    std::vector<MapGroup> mapGroups;
    std::vector<NilMap> nilMaps;
    MemorySummary memory;
    std::vector<std::string> notes;  // things the analysis could not do, and why
    // Bounds of the analysis as a whole (not of one map's walk) that stopped it early.
    std::vector<std::string> limitsHit;

    // Every map found: those listed and those in groups.
    std::uint64_t mapCount() const;
    std::vector<Finding> findings() const;
    std::size_t countAtLeast(Severity severity) const;
};

std::string renderJson(const Report& report);
// The same JSON written to out as it is made, never held whole (for large reports).
void writeJson(const Report& report, std::ostream& out);
std::string renderText(const Report& report);
// One map as one line of JSON (the object maps[] holds), for `maps --format jsonl`.
std::string renderMapJsonLine(const MapResult& map);
// One line per map: address, type, count, B or directory, roots, status.
std::string renderMapList(const Report& report);
// Where the memory went: the maps holding the most, with the heap in use and a total.
std::string renderMemoryText(const Report& report);
std::string renderMemoryJson(const Report& report);
// The maps and map groups of report by bytes held, largest first; ties: maps before groups,
// maps by address, groups by root pattern and type. At most limit lines in top.
MemoryRanking rankByBytes(const Report& report, std::size_t limit);
// A byte count for people: "512 B", "1.5 KiB", "12.0 MiB", "3.2 GiB" (one decimal, 1024-based).
std::string bytesText(std::uint64_t bytes);
// One map in depth: header, bucket/table structure with its findings, and its entries.
std::string renderMapDetail(const Memory& memory, const MapResult& map, std::size_t maxEntries,
                            bool redact = false);

class GoroutineTable;
// Every goroutine with its stack, laid out like the runtime's own traceback.
std::string renderGoroutinesText(const GoroutineTable& table);
// The same as JSON (schema gomapcore/goroutines-v1).
std::string renderGoroutinesJson(const GoroutineTable& table);

}  // namespace gomapcore
