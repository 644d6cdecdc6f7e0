// gomapcore: the batch command line. Exit codes (a contract, see README.md, "Command line"):
//   0  no finding at or above --fail-on
//   1  findings at or above --fail-on
//   2  the input could not be analyzed (one-line reason on stderr), or bad usage
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "batch.h"
#include "gomapcore/analysis.h"
#include "gomapcore/error.h"
#include "gomapcore/report.h"

namespace {

constexpr int kExitClean = 0;
constexpr int kExitFindings = 1;
constexpr int kExitUnanalyzable = 2;
// Bounds of --max-memory (MiB; 2^40 MiB is beyond any machine, and bytes still fit 64 bits) and
// --time-limit (seconds; a year, and milliseconds still fit 64 bits).
constexpr std::uint64_t kMaxMemoryMiB = std::uint64_t{1} << 40;
constexpr double kMaxTimeLimitSeconds = 365.0 * 24 * 3600;

struct CommonOptions {
    std::string core;
    std::string exe;
    std::vector<std::string> exeDirs;
    bool noDebuginfod = false;
    std::uint64_t maxDecompressedMiB = gomapcore::kDefaultMaxDecompressedBytes >> 20;
    std::uint64_t maxBuckets = gomapcore::WalkLimits{}.maxBucketsPerMap;
    std::uint32_t maxChain = gomapcore::WalkLimits{}.maxChainLength;
    std::size_t maxObjects = gomapcore::ReachLimits{}.maxObjects;
    std::uint64_t maxMemoryMiB = gomapcore::kDefaultMaxMemoryBytes >> 20;
    double timeLimitSeconds = -1;  // none
    bool redact = false;
    std::string listMaps = "summary";
    std::size_t listDepth = gomapcore::MapListing{}.maxIndexDepth;
    std::size_t listLargest = gomapcore::MapListing{}.largest;
    gomapcore::MemoryRules memoryRules;
    double oversizedMinMiB = static_cast<double>(gomapcore::MemoryRules{}.oversizedMinBytes) / (1 << 20);
    double dominantMinMiB = static_cast<double>(gomapcore::MemoryRules{}.dominantMinBytes) / (1 << 20);
};

void addCommon(CLI::App* command, CommonOptions& options) {
    command->add_option("CORE", options.core, "ELF core dump of the Go process")->required();
    command->add_option("--exe", options.exe,
                        "the Go executable that produced the core (default: the path the core records, "
                        "then --exe-dir, then debuginfod)");
    command->add_option("--exe-dir", options.exeDirs,
                        "where to look for the executable when --exe is not given and the recorded path "
                        "does not hold it: a sysroot (the recorded path under it) or a folder of binaries "
                        "(matched by build ID); repeatable");
    command->add_flag("--no-debuginfod", options.noDebuginfod,
                      "never ask the debuginfod servers of DEBUGINFOD_URLS for the executable");
    command
        ->add_option("--max-decompressed-size", options.maxDecompressedMiB,
                     "MiB a compressed (zstd, lz4, xz) core may decompress to; larger ones are refused")
        ->check(CLI::Range(std::uint64_t{1}, kMaxMemoryMiB));
    command->add_option("--max-buckets", options.maxBuckets, "limit on buckets/groups walked per map");
    command->add_option("--max-chain", options.maxChain, "limit on overflow buckets behind one bucket");
    command->add_option("--max-objects", options.maxObjects,
                        "limit on heap objects followed while searching for maps");
    command
        ->add_option("--max-memory", options.maxMemoryMiB,
                     "MiB the walks' results may hold in all; walks stop there and say so")
        ->check(CLI::Range(std::uint64_t{1}, kMaxMemoryMiB));
    command
        ->add_option("--time-limit", options.timeLimitSeconds,
                     "seconds the analysis may take: walks stop there and the report says what was cut "
                     "short; with no report by the limit plus a grace period, exit 2")
        ->check(CLI::Range(0.0, kMaxTimeLimitSeconds));
    command->add_flag("--redact", options.redact,
                      "show map keys, values and panic values only as their type and length");
    command
        ->add_option("--list-maps", options.listMaps,
                     "summary: list maps with findings, named roots, crash maps and the largest one by one, "
                     "and count the rest in map groups; all: list every map")
        ->check(CLI::IsMember({"summary", "all"}));
    command->add_option("--list-depth", options.listDepth,
                        "with --list-maps summary: also list maps reached through at most N slice, array or "
                        "map indexes");
    command->add_option("--list-largest", options.listLargest,
                        "with --list-maps summary: also list the N largest maps by live entries");
    gomapcore::MemoryRules& rules = options.memoryRules;
    command
        ->add_option("--oversized-ratio", rules.oversizedRatio,
                     "map-oversized: slots at least this many times the live entries")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32));
    command
        ->add_option("--oversized-min-mib", options.oversizedMinMiB,
                     "map-oversized: only maps holding at least this many MiB")
        ->check(CLI::Range(0.0, static_cast<double>(kMaxMemoryMiB)));
    command
        ->add_option("--overflow-heavy-ratio", rules.overflowHeavyRatio,
                     "map-overflow-heavy: overflow buckets at least this many times the main buckets")
        ->check(CLI::Range(0.0, 1e9));
    command->add_option("--overflow-heavy-min", rules.overflowHeavyMinBuckets,
                        "map-overflow-heavy: at least this many overflow buckets");
    command
        ->add_option("--dominant-share", rules.dominantShare,
                     "map-dominant: one map holds at least this share (0-1) of the Go heap in use")
        ->check(CLI::Range(0.0, 1.0));
    command
        ->add_option("--dominant-min-mib", options.dominantMinMiB,
                     "map-dominant: only maps holding at least this many MiB")
        ->check(CLI::Range(0.0, static_cast<double>(kMaxMemoryMiB)));
}

gomapcore::AnalysisOptions analysisOptions(const CommonOptions& common) {
    gomapcore::AnalysisOptions options;
    options.limits.maxBucketsPerMap = common.maxBuckets;
    options.limits.maxChainLength = common.maxChain;
    options.reach.maxObjects = common.maxObjects;
    options.maxMemoryBytes = common.maxMemoryMiB << 20;
    if (common.timeLimitSeconds >= 0)
        options.timeLimit =
            std::chrono::milliseconds(static_cast<std::int64_t>(common.timeLimitSeconds * 1000));
    options.redact = common.redact;
    options.listing.all = common.listMaps == "all";
    options.listing.maxIndexDepth = common.listDepth;
    options.listing.largest = common.listLargest;
    options.memoryRules = common.memoryRules;
    options.memoryRules.oversizedMinBytes = static_cast<std::uint64_t>(common.oversizedMinMiB * (1 << 20));
    options.memoryRules.dominantMinBytes = static_cast<std::uint64_t>(common.dominantMinMiB * (1 << 20));
    return options;
}

std::unique_ptr<gomapcore::Analysis> openAnalysis(const CommonOptions& common) {
    gomapcore::OpenOptions options;
    options.executable = common.exe;
    options.executableDirs = common.exeDirs;
    options.debuginfod = !common.noDebuginfod;
    options.maxDecompressedBytes = common.maxDecompressedMiB << 20;
    return gomapcore::Analysis::open(common.core, options);
}

// The hard bound behind --time-limit: the walks stop themselves at the limit, but some steps
// cannot be cut short (opening the files, indexing DWARF, unwinding goroutines). If no report is
// out by the limit plus a grace period, give up with exit 2 so a pipeline is never stuck.
void startWatchdog(const CommonOptions& common) {
    if (common.timeLimitSeconds < 0) return;
    double grace = std::max(5.0, common.timeLimitSeconds / 10);
    auto deadline =
        std::chrono::steady_clock::now() +
        std::chrono::milliseconds(static_cast<std::int64_t>((common.timeLimitSeconds + grace) * 1000));
    double limit = common.timeLimitSeconds;
    std::thread([deadline, limit, grace] {
        std::this_thread::sleep_until(deadline);
        std::fprintf(stderr,
                     "gomapcore: no report within the time limit of %g s (plus %g s grace); giving up\n",
                     limit, grace);
        std::fflush(stderr);
        std::_Exit(kExitUnanalyzable);
    }).detach();
}

// The JSON report streamed to path (or stdout), never held whole.
void writeJsonOutput(const gomapcore::Report& report, const std::string& path) {
    if (path.empty() || path == "-") {
        gomapcore::writeJson(report, std::cout);
        std::cout.flush();
        return;
    }
    std::ofstream out(path, std::ios::binary);
    if (!out) throw gomapcore::Error(gomapcore::Error::Code::BadArgument, "cannot write " + path);
    gomapcore::writeJson(report, out);
    if (!out.flush()) throw gomapcore::Error(gomapcore::Error::Code::BadArgument, "failed writing " + path);
}

void writeOutput(const std::string& text, const std::string& path) {
    if (path.empty() || path == "-") {
        std::fwrite(text.data(), 1, text.size(), stdout);
        return;
    }
    std::ofstream out(path, std::ios::binary);
    if (!out) throw gomapcore::Error(gomapcore::Error::Code::BadArgument, "cannot write " + path);
    out << text;
    if (!out) throw gomapcore::Error(gomapcore::Error::Code::BadArgument, "failed writing " + path);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"gomapcore: find, decode and validate the maps of a crashed Go program from its core dump"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("gomapcore ") + gomapcore::kVersion);

    CommonOptions analyzeCommon;
    std::string format = "text", output, failOn = "error";
    auto* analyze = app.add_subcommand("analyze", "analyze every map and report findings");
    addCommon(analyze, analyzeCommon);
    analyze->add_option("--format", format, "text or json")->check(CLI::IsMember({"text", "json"}));
    analyze->add_option("--output", output, "write the report to this file instead of stdout");
    analyze->add_option("--fail-on", failOn, "exit 1 when a finding of at least this severity exists")
        ->check(CLI::IsMember({"error", "warning", "info", "never"}));

    CommonOptions mapsCommon;
    std::string mapsFormat = "text";
    auto* maps = app.add_subcommand("maps", "list every map found");
    addCommon(maps, mapsCommon);
    maps->add_option("--format", mapsFormat,
                     "text (a table; see --list-maps) or jsonl (every map found, one JSON object a line, "
                     "written as the run ends)")
        ->check(CLI::IsMember({"text", "jsonl"}));

    CommonOptions showCommon;
    std::string which;
    std::size_t maxEntries = 100;
    auto* show = app.add_subcommand("show", "print one map's header, bucket chains and entries");
    addCommon(show, showCommon);
    show->add_option("MAP", which, "the map's header address (0x…) or a root name (e.g. main.users)")
        ->required();
    show->add_option("--max-entries", maxEntries, "entries to print at most");

    CommonOptions memoryCommon;
    std::string memoryFormat = "text";
    auto* memory =
        app.add_subcommand("memory", "where the memory went: the maps by bytes held, largest first");
    addCommon(memory, memoryCommon);
    memory->add_option("--format", memoryFormat, "text or json")->check(CLI::IsMember({"text", "json"}));

    CommonOptions goroutinesCommon;
    std::string goroutinesFormat = "text";
    auto* goroutines =
        app.add_subcommand("goroutines", "list every goroutine with its stack, like Go's traceback");
    addCommon(goroutines, goroutinesCommon);
    goroutines->add_option("--format", goroutinesFormat, "text or json")
        ->check(CLI::IsMember({"text", "json"}));

    gomapcore::cli::BatchOptions batchOptions;
    std::vector<std::string> batchExeDirs;
    bool batchNoDebuginfod = false, batchRedact = false;
    std::uint64_t batchMaxDecompressedMiB = 0, batchMaxMemoryMiB = 0;
    auto* batch = app.add_subcommand(
        "batch", "analyze many cores, one JSON report a line (JSON Lines), going on past a bad one");
    batch
        ->add_option("PATH", batchOptions.inputs,
                     "core files, folders (searched for cores) and glob patterns")
        ->required();
    batch->add_option("--jobs", batchOptions.jobs, "analyses run at the same time (each in its own process)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
    batch->add_option("--output", batchOptions.output, "write the lines to this file instead of stdout");
    batch
        ->add_option("--fail-on", batchOptions.failOn,
                     "exit 1 when a core has a finding of at least this severity")
        ->check(CLI::IsMember({"error", "warning", "info", "never"}));
    batch
        ->add_option("--timeout", batchOptions.timeoutSeconds,
                     "seconds per core (its --time-limit; a core with no report by then plus the grace "
                     "period gets an error line)")
        ->check(CLI::Range(0.0, kMaxTimeLimitSeconds));
    batch->add_option("--exe-dir", batchExeDirs,
                      "as for analyze: sysroots or folders of executables; repeatable");
    batch->add_flag("--no-debuginfod", batchNoDebuginfod, "as for analyze");
    batch->add_option("--max-decompressed-size", batchMaxDecompressedMiB, "as for analyze")
        ->check(CLI::Range(std::uint64_t{1}, kMaxMemoryMiB));
    batch->add_option("--max-memory", batchMaxMemoryMiB, "as for analyze, per core")
        ->check(CLI::Range(std::uint64_t{1}, kMaxMemoryMiB));
    batch->add_flag("--redact", batchRedact, "as for analyze");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return kExitUnanalyzable;
    }

    try {
        if (batch->parsed()) {
            // Each core is analyzed by `gomapcore analyze` with these options (batch.h).
            for (const std::string& dir : batchExeDirs)
                batchOptions.childArguments.insert(batchOptions.childArguments.end(), {"--exe-dir", dir});
            if (batchNoDebuginfod) batchOptions.childArguments.push_back("--no-debuginfod");
            if (batchRedact) batchOptions.childArguments.push_back("--redact");
            if (batchMaxDecompressedMiB > 0)
                batchOptions.childArguments.insert(
                    batchOptions.childArguments.end(),
                    {"--max-decompressed-size", std::to_string(batchMaxDecompressedMiB)});
            if (batchMaxMemoryMiB > 0)
                batchOptions.childArguments.insert(batchOptions.childArguments.end(),
                                                   {"--max-memory", std::to_string(batchMaxMemoryMiB)});
            return gomapcore::cli::runBatch(batchOptions);
        }
        if (analyze->parsed()) {
            startWatchdog(analyzeCommon);
            auto analysis = openAnalysis(analyzeCommon);
            gomapcore::Report report = analysis->run(analysisOptions(analyzeCommon));
            if (format == "json")
                writeJsonOutput(report, output);
            else
                writeOutput(gomapcore::renderText(report), output);
            if (failOn == "never") return kExitClean;
            gomapcore::Severity threshold = failOn == "error"     ? gomapcore::Severity::Error
                                            : failOn == "warning" ? gomapcore::Severity::Warning
                                                                  : gomapcore::Severity::Info;
            return report.countAtLeast(threshold) > 0 ? kExitFindings : kExitClean;
        }
        if (maps->parsed()) {
            startWatchdog(mapsCommon);
            auto analysis = openAnalysis(mapsCommon);
            gomapcore::AnalysisOptions options = analysisOptions(mapsCommon);
            if (mapsFormat == "jsonl") {
                // Every map, listed or grouped, as it is handed over; the report itself keeps only
                // the groups.
                options.onMap = [](const gomapcore::MapResult& map) {
                    std::string line = gomapcore::renderMapJsonLine(map);
                    std::fwrite(line.data(), 1, line.size(), stdout);
                };
                analysis->run(options);
                std::fflush(stdout);
                return kExitClean;
            }
            gomapcore::Report report = analysis->run(options);
            writeOutput(gomapcore::renderMapList(report), "");
            return kExitClean;
        }
        if (memory->parsed()) {
            startWatchdog(memoryCommon);
            auto analysis = openAnalysis(memoryCommon);
            gomapcore::Report report = analysis->run(analysisOptions(memoryCommon));
            writeOutput(memoryFormat == "json" ? gomapcore::renderMemoryJson(report)
                                               : gomapcore::renderMemoryText(report),
                        "");
            return kExitClean;
        }
        if (goroutines->parsed()) {
            startWatchdog(goroutinesCommon);
            auto analysis = openAnalysis(goroutinesCommon);
            const gomapcore::GoroutineTable* table = analysis->goroutines();
            if (table == nullptr) {
                std::string why = analysis->notes().empty() ? "unknown reason" : analysis->notes().back();
                throw gomapcore::Error(gomapcore::Error::Code::NotGoProgram,
                                       "cannot list goroutines: " + why);
            }
            writeOutput(goroutinesFormat == "json" ? gomapcore::renderGoroutinesJson(*table)
                                                   : gomapcore::renderGoroutinesText(*table),
                        "");
            return kExitClean;
        }
        if (show->parsed()) {
            startWatchdog(showCommon);
            auto analysis = openAnalysis(showCommon);
            auto options = analysisOptions(showCommon);
            gomapcore::MapInspection inspection = analysis->inspect(which, options);
            if (inspection.nilMap) {
                writeOutput(
                    fmt::format("{} is a nil map ({})\n", inspection.nilMap->root, inspection.nilMap->type),
                    "");
                return kExitClean;
            }
            writeOutput(
                gomapcore::renderMapDetail(analysis->memory(), *inspection.map, maxEntries, options.redact),
                "");
            return kExitClean;
        }
    } catch (const gomapcore::Error& e) {
        std::fprintf(stderr, "gomapcore: %s\n", e.what());
        return kExitUnanalyzable;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gomapcore: internal error: %s\n", e.what());
        return kExitUnanalyzable;
    }
    return kExitUnanalyzable;
}
