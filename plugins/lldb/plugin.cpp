// LLDB command plugin: `plugin load libgomapcore_lldb.so` adds the `gomap` command group.
//
// Every subcommand runs the gomapcore engine on the selected target's process, a live one
// (attached or launched, stopped) or a core, read through the SB API (lldb_target.h), and prints
// what the CLI prints into the command's result. The plugin holds no analysis of its own: it
// parses arguments, builds the Target, calls gomapcore::Analysis and renders with report.h.
//
// One Analysis is kept per stop of a process: commands at the same stop share it (and its read
// cache); once the process has been resumed (its stop ID changed) it is dropped.
#include <lldb/API/SBCommandInterpreter.h>
#include <lldb/API/SBCommandReturnObject.h>
#include <lldb/API/SBDebugger.h>
#include <lldb/API/SBFile.h>
#include <lldb/API/SBFileSpec.h>
#include <lldb/API/SBProcess.h>
#include <lldb/API/SBSymbolContextList.h>
#include <lldb/API/SBTarget.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gomapcore/analysis.h"
#include "gomapcore/error.h"
#include "gomapcore/report.h"
#include "lldb_target.h"

namespace {

using gomapcore::AnalysisOptions;

using gomapcore_lldb::pathOf;

std::string hex(std::uint64_t value) {
    char text[32];
    std::snprintf(text, sizeof text, "%#llx", static_cast<unsigned long long>(value));
    return text;
}

void fail(lldb::SBCommandReturnObject& result, const std::string& message) {
    result.SetError(("gomap: " + message).c_str());
    result.SetStatus(lldb::eReturnStatusFailed);
}

void succeed(lldb::SBCommandReturnObject& result, const std::string& text) {
    result.PutCString(text.c_str(), static_cast<int>(text.size()));
    result.SetStatus(lldb::eReturnStatusSuccessFinishResult);
}

// ---- arguments -------------------------------------------------------------------------------

enum Accepts : unsigned {
    kFormat = 1,      // --json, --format text|json
    kLimits = 2,      // --max-*, --time-limit, --list-maps, --list-depth, --list-largest
    kEntries = 4,     // --max-entries
    kMap = 8,         // one positional ADDRESS|NAME
    kRedact = 16,     // --redact
    kJsonLines = 32,  // the machine format is JSON lines (--format jsonl), as the CLI's maps
};

struct Arguments {
    bool json = false;
    std::string exe;
    std::string map;
    std::size_t maxEntries = 100;
    AnalysisOptions options;
};

struct BadArguments {
    std::string message;
};

std::uint64_t number(const std::string& option, const char* value) {
    if (value == nullptr) throw BadArguments{option + " needs a number"};
    try {
        std::size_t used = 0;
        std::uint64_t n = std::stoull(value, &used, 0);
        if (used == std::strlen(value) && value[0] != '-') return n;
    } catch (const std::exception&) {
    }
    throw BadArguments{option + " takes a non-negative number, not '" + value + "'"};
}

Arguments parse(char** argv, unsigned accepts) {
    Arguments a;
    for (char** arg = argv; arg != nullptr && *arg != nullptr; ++arg) {
        const std::string s = *arg;
        const char* next = arg[1];
        auto value = [&]() -> const char* {
            if (next == nullptr) return nullptr;
            ++arg;
            return next;
        };
        if ((accepts & kFormat) && s == "--json") {
            a.json = true;
        } else if ((accepts & kFormat) && s == "--format") {
            const char* v = value();
            std::string f = v ? v : "";
            const char* machine = (accepts & kJsonLines) ? "jsonl" : "json";
            if (f != machine && f != "text")
                throw BadArguments{std::string("--format takes text or ") + machine + ", not '" + f + "'"};
            a.json = f == machine;
        } else if ((accepts & kRedact) && s == "--redact") {
            a.options.redact = true;
        } else if (s == "--exe") {
            const char* v = value();
            if (v == nullptr) throw BadArguments{"--exe needs a path"};
            a.exe = v;
        } else if ((accepts & kEntries) && s == "--max-entries") {
            a.maxEntries = static_cast<std::size_t>(number(s, value()));
        } else if ((accepts & kLimits) && s == "--max-buckets") {
            a.options.limits.maxBucketsPerMap = number(s, value());
        } else if ((accepts & kLimits) && s == "--max-chain") {
            a.options.limits.maxChainLength = static_cast<std::uint32_t>(number(s, value()));
        } else if ((accepts & kLimits) && s == "--max-objects") {
            a.options.reach.maxObjects = static_cast<std::size_t>(number(s, value()));
        } else if ((accepts & kLimits) && s == "--max-memory") {
            std::uint64_t mib = number(s, value());
            if (mib == 0 || mib > (std::uint64_t{1} << 40))
                throw BadArguments{"--max-memory takes 1 to 2^40 MiB"};
            a.options.maxMemoryBytes = mib << 20;
        } else if ((accepts & kLimits) && s == "--list-maps") {
            const char* v = value();
            std::string how = v ? v : "";
            if (how != "summary" && how != "all")
                throw BadArguments{"--list-maps takes summary or all, not '" + how + "'"};
            a.options.listing.all = how == "all";
        } else if ((accepts & kLimits) && s == "--list-depth") {
            a.options.listing.maxIndexDepth = static_cast<std::size_t>(number(s, value()));
        } else if ((accepts & kLimits) && s == "--list-largest") {
            a.options.listing.largest = static_cast<std::size_t>(number(s, value()));
        } else if ((accepts & kLimits) && s == "--time-limit") {
            a.options.timeLimit = std::chrono::milliseconds(number(s, value()) * 1000);
        } else if ((accepts & kMap) && !s.empty() && s[0] != '-' && a.map.empty()) {
            a.map = s;
        } else {
            throw BadArguments{"unknown argument '" + s + "'"};
        }
    }
    if ((accepts & kMap) && a.map.empty())
        throw BadArguments{"which map? give its header address or root name"};
    return a;
}

// ---- the analysis of the current stop --------------------------------------------------------

struct StopAnalysis {
    lldb::user_id_t debugger = 0;
    std::uint32_t process = 0;  // SBProcess::GetUniqueID
    std::uint32_t stop = 0;     // SBProcess::GetStopID
    std::string core;
    std::string exe;
    std::unique_ptr<gomapcore::Analysis> analysis;
    const gomapcore_lldb::LldbTarget* target = nullptr;  // owned by analysis
};

StopAnalysis& current() {
    static StopAnalysis cached;
    return cached;
}

// The Analysis of the selected target's process at its current stop. Throws BadArguments for
// what the user has to change, gomapcore::Error for what the engine refuses.
StopAnalysis& analysisFor(lldb::SBDebugger& debugger, const std::string& exeOption) {
    lldb::SBTarget target = debugger.GetSelectedTarget();
    if (!target.IsValid())
        throw BadArguments{
            "no target; create one with 'target create --core CORE EXECUTABLE', or attach to or launch a Go "
            "program"};
    lldb::SBProcess process = target.GetProcess();
    if (!process.IsValid())
        throw BadArguments{
            "the target has no process; launch it ('process launch'), attach to it ('process attach --pid "
            "PID') or load a core ('target create --core CORE EXECUTABLE')"};
    const lldb::StateType state = process.GetState();
    if (state == lldb::eStateRunning || state == lldb::eStateStepping || state == lldb::eStateLaunching ||
        state == lldb::eStateAttaching)
        throw BadArguments{"the process is running; stop it first (process interrupt)"};
    if (state == lldb::eStateExited || state == lldb::eStateDetached || state == lldb::eStateInvalid ||
        state == lldb::eStateUnloaded || state == lldb::eStateConnected)
        throw BadArguments{
            "the process is not there any more (it exited or was detached); there is nothing to read"};
    std::string exe = exeOption.empty() ? pathOf(target.GetExecutable()) : exeOption;
    if (exe.empty()) throw BadArguments{"the target names no executable; pass it with --exe"};
    if (exeOption.empty() && target.FindSymbols("runtime.main").GetSize() == 0)
        throw gomapcore::Error(gomapcore::Error::Code::NotGoProgram,
                               exe + " is not a Go program (it has no runtime.main)");

    StopAnalysis& cached = current();
    const std::string core = pathOf(process.GetCoreFile());
    if (cached.analysis && cached.debugger == debugger.GetID() && cached.process == process.GetUniqueID() &&
        cached.stop == process.GetStopID() && cached.exe == exe && cached.core == core)
        return cached;
    cached.analysis.reset();
    cached.target = nullptr;
    auto lldbTarget = std::make_unique<gomapcore_lldb::LldbTarget>(target, process);
    const gomapcore_lldb::LldbTarget* raw = lldbTarget.get();
    cached.analysis = gomapcore::Analysis::create(std::move(lldbTarget), exe);
    cached.target = raw;
    cached.debugger = debugger.GetID();
    cached.process = process.GetUniqueID();
    cached.stop = process.GetStopID();
    cached.exe = exe;
    cached.core = core;
    return cached;
}

// What differs on a live process, for the report's notes.
void addLiveNotes(const gomapcore_lldb::LldbTarget& target, gomapcore::Report& report) {
    if (!target.live()) return;
    const auto& process = target.processInfo();
    report.notes.push_back("live process " + std::to_string(process ? process->pid : 0) + ", stopped (" +
                           (target.stopDescription().empty() ? "no stop reason" : target.stopDescription()) +
                           "), read through LLDB without modifying it");
    if (target.signalInfo())
        report.notes.push_back("live process: there is no NT_SIGINFO; the signal (" +
                               std::to_string(target.signalInfo()->signo) +
                               ") is the one the process stopped with, as LLDB reports it");
    else
        report.notes.push_back(
            "live process: it did not stop on a signal, so there is no crash to explain; the crash fields "
            "say "
            "what was found at this stop");
    report.notes.push_back(
        "live process: goroutines may be running on threads (gomap goroutines shows them [running] with "
        "their "
        "thread); a map such a goroutine was changing can be caught mid-update");
    for (const std::string& source : target.sources())
        report.notes.push_back("live process: " + source);
}

// Progress on lldb's error stream (LLDB 19 has no SBProgress), at most once a second and only
// once a run has taken a second; Ctrl-C (SBDebugger::InterruptRequested) cancels the run.
class ProgressReporter {
  public:
    explicit ProgressReporter(lldb::SBDebugger debugger)
        : debugger_(debugger),
          token_(std::make_shared<gomapcore::CancelToken>()),
          start_(std::chrono::steady_clock::now()),
          last_(start_) {}

    void attach(AnalysisOptions& options) {
        options.cancel = token_;
        options.progress = [this](const gomapcore::ProgressEvent& event) { onEvent(event); };
    }
    void checkInterrupt() {
        if (debugger_.InterruptRequested()) token_->cancel();
        if (token_->cancelled()) throw gomapcore::Error(gomapcore::Error::Code::Cancelled, "interrupted");
    }

  private:
    void onEvent(const gomapcore::ProgressEvent& event) {
        if (debugger_.InterruptRequested()) token_->cancel();
        auto now = std::chrono::steady_clock::now();
        if (now - start_ < std::chrono::seconds(1) || now - last_ < std::chrono::seconds(1)) return;
        last_ = now;
        std::string line = "gomap: " + event.phase;
        if (event.total != 0) line += " " + std::to_string(event.done) + "/" + std::to_string(event.total);
        line += " (Ctrl-C interrupts)\n";
        lldb::SBFile err = debugger_.GetErrorFile();
        std::size_t written = 0;
        if (err.IsValid())
            err.Write(reinterpret_cast<const std::uint8_t*>(line.data()), line.size(), &written);
    }

    lldb::SBDebugger debugger_;
    std::shared_ptr<gomapcore::CancelToken> token_;
    std::chrono::steady_clock::time_point start_, last_;
};

// ---- commands --------------------------------------------------------------------------------

class GomapCommand : public lldb::SBCommandPluginInterface {
  public:
    GomapCommand(const char* usage, unsigned accepts) : usage_(usage), accepts_(accepts) {}

    bool DoExecute(lldb::SBDebugger debugger, char** argv, lldb::SBCommandReturnObject& result) override {
        try {
            Arguments arguments = parse(argv, accepts_);
            ProgressReporter progress(debugger);
            progress.attach(arguments.options);
            StopAnalysis& stop = analysisFor(debugger, arguments.exe);
            progress.checkInterrupt();
            succeed(result, run(stop, arguments));
        } catch (const BadArguments& e) {
            fail(result, e.message + "; usage: " + usage_);
        } catch (const gomapcore::Error& e) {
            if (e.code() == gomapcore::Error::Code::Cancelled) {
                current().analysis.reset();  // a run cut short may leave half-built state behind
                fail(result, "interrupted; nothing was changed in the process");
            } else {
                fail(result, e.what());
            }
        } catch (const std::exception& e) {
            current().analysis.reset();
            fail(result, std::string("internal error: ") + e.what());
        }
        return true;
    }

  protected:
    virtual std::string run(StopAnalysis& stop, Arguments& arguments) = 0;

    gomapcore::Report report(StopAnalysis& stop, const Arguments& arguments) {
        gomapcore::Report report = stop.analysis->run(arguments.options);
        addLiveNotes(*stop.target, report);
        return report;
    }

    // The report restricted to one map: that map and its findings, the rest as run() gives it.
    gomapcore::Report reportOfOneMap(StopAnalysis& stop, const Arguments& arguments,
                                     const gomapcore::MapInspection& inspection) {
        gomapcore::Report full = report(stop, arguments);
        full.maps.clear();
        std::vector<gomapcore::NilMap> nils;
        if (inspection.map) {
            full.maps.push_back(*inspection.map);
        } else if (inspection.nilMap) {
            nils.push_back(*inspection.nilMap);
        }
        full.nilMaps = std::move(nils);
        for (const std::string& note : inspection.notes)
            full.notes.push_back(note);
        return full;
    }

  private:
    const char* usage_;
    unsigned accepts_;
};

constexpr const char* kScanUsage =
    "gomap scan [--json | --format text|json] [--redact] [--exe EXECUTABLE] [--max-buckets N] [--max-chain "
    "N] "
    "[--max-objects N] [--max-memory MiB] [--time-limit SECONDS] [--list-maps summary|all] [--list-depth N] "
    "[--list-largest N]";
constexpr const char* kAnalyzeUsage =
    "gomap analyze [--json | --format text|json] [--redact] [--exe EXECUTABLE] [--max-buckets N] "
    "[--max-chain N] "
    "[--max-objects N] [--max-memory MiB] [--time-limit SECONDS] [--list-maps summary|all] [--list-depth N] "
    "[--list-largest N]";
constexpr const char* kMapsUsage =
    "gomap maps [--json | --format text|jsonl] [--redact] [--exe EXECUTABLE] [--max-buckets N] [--max-chain "
    "N] "
    "[--max-objects N] [--max-memory MiB] [--time-limit SECONDS] [--list-maps summary|all] [--list-depth N] "
    "[--list-largest N]";
constexpr const char* kShowUsage =
    "gomap show ADDRESS|NAME [--json] [--redact] [--max-entries N] [--exe EXECUTABLE] [--max-buckets N] "
    "[--max-chain N] [--max-objects N] [--max-memory MiB] [--time-limit SECONDS]";
constexpr const char* kCheckUsage =
    "gomap check ADDRESS|NAME [--json] [--redact] [--exe EXECUTABLE] [--max-buckets N] [--max-chain N] "
    "[--max-objects N] [--max-memory MiB] [--time-limit SECONDS]";
constexpr const char* kGoroutinesUsage = "gomap goroutines [--json | --format text|json] [--exe EXECUTABLE]";

class ScanCommand : public GomapCommand {
  public:
    explicit ScanCommand(const char* usage) : GomapCommand(usage, kFormat | kLimits | kRedact) {}
    std::string run(StopAnalysis& stop, Arguments& arguments) override {
        gomapcore::Report r = report(stop, arguments);
        return arguments.json ? gomapcore::renderJson(r) : gomapcore::renderText(r);
    }
};

class MapsCommand : public GomapCommand {
  public:
    MapsCommand() : GomapCommand(kMapsUsage, kFormat | kJsonLines | kLimits | kRedact) {}
    std::string run(StopAnalysis& stop, Arguments& arguments) override {
        if (!arguments.json) return gomapcore::renderMapList(report(stop, arguments));
        // As `gomapcore maps --format jsonl`: every map found, listed or grouped, one line each.
        std::string lines;
        arguments.options.onMap = [&lines](const gomapcore::MapResult& map) {
            lines += gomapcore::renderMapJsonLine(map);
        };
        stop.analysis->run(arguments.options);
        return lines;
    }
};

class ShowCommand : public GomapCommand {
  public:
    ShowCommand() : GomapCommand(kShowUsage, kFormat | kLimits | kRedact | kEntries | kMap) {}
    std::string run(StopAnalysis& stop, Arguments& arguments) override {
        gomapcore::MapInspection inspection = stop.analysis->inspect(arguments.map, arguments.options);
        if (arguments.json) return gomapcore::renderJson(reportOfOneMap(stop, arguments, inspection));
        if (inspection.nilMap)
            return inspection.nilMap->root + " is a nil map (" + inspection.nilMap->type + ")\n";
        return gomapcore::renderMapDetail(stop.analysis->memory(), *inspection.map, arguments.maxEntries,
                                          arguments.options.redact);
    }
};

class CheckCommand : public GomapCommand {
  public:
    CheckCommand() : GomapCommand(kCheckUsage, kFormat | kLimits | kRedact | kMap) {}
    std::string run(StopAnalysis& stop, Arguments& arguments) override {
        gomapcore::MapInspection inspection = stop.analysis->inspect(arguments.map, arguments.options);
        if (arguments.json) return gomapcore::renderJson(reportOfOneMap(stop, arguments, inspection));
        if (inspection.nilMap)
            return inspection.nilMap->root + " is a nil map (" + inspection.nilMap->type +
                   "): nothing to check\n";
        const gomapcore::MapResult& map = *inspection.map;
        std::vector<gomapcore::Finding> findings = map.findings();
        std::string roots;
        for (const std::string& root : map.roots)
            roots += (roots.empty() ? "" : ", ") + root;
        std::string out =
            "map " + hex(map.address) + " " + map.typeName() + " — " + gomapcore::toString(map.status()) +
            "\n  roots: " + (roots.empty() ? "(unreached)" : roots) + "\n  count " +
            (map.headerReadable ? std::to_string(map.count) : "unreadable") + ", live entries found " +
            std::to_string(map.liveEntries) + (map.complete ? "" : " (walk incomplete)") + "\n";
        if (findings.empty()) out += "  findings: none\n";
        for (const gomapcore::Finding& f : findings)
            out += std::string("  ") + gomapcore::toString(f.severity) + " " + f.rule + " at " +
                   hex(f.address) + ": " + f.message + "\n";
        for (const std::string& limit : map.limitsHit)
            out += "  limit reached: " + limit + "\n";
        for (const std::string& note : inspection.notes)
            out += "  note: " + note + "\n";
        return out;
    }
};

class GoroutinesCommand : public GomapCommand {
  public:
    GoroutinesCommand() : GomapCommand(kGoroutinesUsage, kFormat) {}
    std::string run(StopAnalysis& stop, Arguments& arguments) override {
        const gomapcore::GoroutineTable* table = stop.analysis->goroutines();
        if (table == nullptr) {
            const auto& notes = stop.analysis->notes();
            throw gomapcore::Error(
                gomapcore::Error::Code::NotGoProgram,
                "cannot list goroutines: " + (notes.empty() ? std::string("unknown reason") : notes.back()));
        }
        return arguments.json ? gomapcore::renderGoroutinesJson(*table)
                              : gomapcore::renderGoroutinesText(*table);
    }
};

}  // namespace

namespace lldb {
__attribute__((visibility("default"))) bool PluginInitialize(SBDebugger debugger) {
    const char* version = SBDebugger::GetVersionString();
    if (version == nullptr || std::strstr(version, "lldb version 19.") == nullptr) {
        std::fprintf(stderr, "gomapcore: plugin built for LLDB 19, refusing to load into '%s'\n",
                     version ? version : "unknown");
        return false;
    }
    SBCommandInterpreter interpreter = debugger.GetCommandInterpreter();
    SBCommand gomap = interpreter.AddMultiwordCommand(
        "gomap",
        "Go map analysis (gomapcore): find, decode and validate the maps of a Go process, live or from a "
        "core");
    gomap.SetHelpLong(
        "Runs the gomapcore engine on the selected target's process: a live one (launched or attached, and "
        "stopped: at a breakpoint, at a signal, or by 'process interrupt') or a core file ('target create "
        "--core "
        "CORE EXECUTABLE'). Memory is read through LLDB; nothing in the process is changed. Results are kept "
        "for the current stop and recomputed once the process has run.\n"
        "--json prints what the gomapcore CLI prints in JSON (the report-v1 schema, docs/report-v1.md); "
        "--exe "
        "names the Go executable when the target's is not the one to read DWARF from; --redact shows map "
        "keys, "
        "values and panic values only as their type and length. Ctrl-C interrupts a long scan.\n");
    struct Sub {
        const char* name;
        SBCommandPluginInterface* impl;
        const char* help;
        const char* usage;
        const char* longHelp;
    };
    const Sub subs[] = {
        {"scan", new ScanCommand(kScanUsage),
         "Find, decode and validate every Go map and explain the crash (the CLI's 'analyze').", kScanUsage,
         "Prints the crash explanation, a summary (executable, Go version and map layout, process, maps "
         "found, "
         "findings) and every finding, as 'gomapcore analyze' does. --json (or --format json) prints the "
         "report-v1 JSON document. On a live process the notes say what differs from a core: there is no "
         "NT_SIGINFO (the signal is the stop reason's) and goroutines may be running. The --max-* and "
         "--time-limit bounds and the --list-* choices of which maps the report lists one by one are those "
         "of the "
         "CLI (README).\n"},
        {"analyze", new ScanCommand(kAnalyzeUsage), "The same as 'gomap scan' (its first name).",
         kAnalyzeUsage, "An alias of 'gomap scan', kept because it is documented.\n"},
        {"maps", new MapsCommand(),
         "List every Go map, one line each: address, type, count, shape, status, roots.", kMapsUsage,
         "Prints what 'gomapcore maps' prints. --json (or --format jsonl) prints what 'gomapcore maps "
         "--format "
         "jsonl' prints: every map found, listed or grouped, one JSON object a line (the objects of "
         "report-v1's "
         "maps array: address, type, count, live entries, status, roots, header).\n"},
        {"show", new ShowCommand(), "Print one map's header, buckets or tables and groups, and its entries.",
         kShowUsage,
         "ADDRESS is the map header's address (0x...); NAME a root name as 'gomap maps' shows it "
         "(main.users, "
         "'goroutine 7 main.localHolder small'). Prints what 'gomapcore show' prints; --max-entries N "
         "(default "
         "100) bounds the entries shown. --json prints the report-v1 JSON document restricted to this "
         "map.\n"},
        {"check", new CheckCommand(), "Validate one map and print its findings.", kCheckUsage,
         "Walks one map (by header address or root name) and checks it against the runtime's invariants: "
         "prints "
         "its status, count, live entries and every finding with its rule id. --json prints the report-v1 "
         "JSON "
         "document restricted to this map (its 'findings' are this map's).\n"},
        {"goroutines", new GoroutinesCommand(), "List every goroutine with its stack, like Go's traceback.",
         kGoroutinesUsage,
         "Goroutines are read from the runtime's own lists and unwound by gomapcore (LLDB shows only OS "
         "threads). Prints what 'gomapcore goroutines' prints; --json its goroutines-v1 JSON.\n"},
    };
    for (const Sub& sub : subs) {
        SBCommand command = gomap.AddCommand(sub.name, sub.impl, sub.help, sub.usage);
        if (command.IsValid()) command.SetHelpLong(sub.longHelp);
    }
    return true;
}
}  // namespace lldb
