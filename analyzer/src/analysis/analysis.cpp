// The engine's entry point (gomapcore/analysis.h): a Session and, per call, a RunContext.
#include "gomapcore/analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "analysis/crash_explanation.h"
#include "analysis/executable_resolver.h"
#include "analysis/heap_checks.h"
#include "analysis/map_listing.h"
#include "analysis/map_memory.h"
#include "analysis/out_of_memory.h"
#include "analysis/roots.h"
#include "analysis/run_context.h"
#include "analysis/session.h"
#include "analysis/unreached_maps.h"
#include "gomapcore/error.h"
#include "maps/walkers.h"

namespace gomapcore {

std::vector<Finding> Report::findings() const {
    std::vector<Finding> out;
    for (const MapResult& map : maps) {
        auto f = map.findings();
        out.insert(out.end(), f.begin(), f.end());
    }
    return out;
}

std::uint64_t Report::mapCount() const {
    std::uint64_t count = maps.size();
    for (const MapGroup& group : mapGroups)
        count += group.maps;
    return count;
}

std::size_t Report::countAtLeast(Severity severity) const {
    std::size_t n = 0;
    for (const Finding& f : findings())
        if (f.severity >= severity) ++n;
    return n;
}

namespace {

// The roots that reach each distinct map header, in address order; nil maps apart.
struct RootGroups {
    std::map<std::uint64_t, std::vector<const MapRoot*>> byAddress;
    std::vector<NilMap> nilMaps;
};

RootGroups groupRoots(const std::vector<MapRoot>& roots) {
    RootGroups groups;
    for (const MapRoot& root : roots) {
        if (root.mapAddress == 0) {
            groups.nilMaps.push_back(NilMap{root.name, root.type ? root.type->name : ""});
            continue;
        }
        groups.byAddress[root.mapAddress].push_back(&root);
    }
    return groups;
}

// One map reached by holders, as the report gives it: walked as type (the first holder's), with
// every holder's name and how it reaches the map; exact when a holder's typed path reaches it
// (or, with no holder, when the crash's runtime frame gave the type), else heap-typed when one
// reaches it through a type the heap records, else heuristic; and checked against the heap.
MapResult walkHeldMap(Session& session, const WalkLimits& limits, std::uint64_t address, const Type* type,
                      const std::vector<const MapRoot*>& holders) {
    MapResult result = session.walk(address, type, limits);
    bool exact = holders.empty(), heapTyped = false, plain = true;
    for (const MapRoot* root : holders) {
        result.roots.push_back(root->name);
        const bool typed = !root->heuristic;
        exact = exact || (typed && (root->through & kThroughUntypedPointer) == 0);
        heapTyped = heapTyped || typed;
        plain = plain && root->through == 0 &&
                (root->origin == RootOrigin::Global || root->origin == RootOrigin::Goroutine);
    }
    if (!plain)
        for (const MapRoot* root : holders)
            result.rootKinds.push_back(RootDescription{toString(root->origin), hopNames(root->through)});
    if (!exact) {
        result.confidence = heapTyped ? Confidence::HeapTyped : Confidence::Heuristic;
        if (!heapTyped) result.typeCandidates = holders.front()->typeCandidates;
    }
    if (const HeapModel* model = session.heap()) checkFreedStructures(*model, result);
    if (!limits.collectSlots) dropStructure(result, limits.budget);
    return result;
}

// The crash, explained before the search for maps from the map variables alone (globals and
// goroutine frames), with the crash's map walked and checked: what a front end shows first.
// The report's crash, explained after the search, may name more roots of the map.
void deliverCrashFirst(Session& session, RunContext& run, const AnalysisOptions& options) {
    const std::vector<MapRoot> direct = findDirectMapRoots(session);
    CrashReport crash = explainCrash(session, run, direct, {});
    std::vector<MapResult> crashMap;
    if (crash.map && *crash.map != 0) {
        std::vector<const MapRoot*> holders;
        for (const MapRoot& root : direct)
            if (root.mapAddress == *crash.map) holders.push_back(&root);
        const Type* type = holders.empty() ? crashMapType(session, crash) : holders.front()->type;
        if (type != nullptr) {
            crashMap.push_back(walkHeldMap(session, run.limits, *crash.map, type, holders));
            checkMapMemory(crashMap.front(), options.memoryRules);
            crash = explainCrash(session, run, direct, crashMap);
        }
    }
    options.onCrash(crash, crashMap.empty() ? nullptr : &crashMap.front());
}

std::optional<std::uint64_t> parseAddress(const std::string& text) {
    try {
        std::size_t used = 0;
        std::uint64_t value = std::stoull(text, &used, 0);
        if (used == text.size()) return value;
    } catch (const std::exception&) {
    }
    return std::nullopt;
}

}  // namespace

Analysis::Analysis(std::unique_ptr<Session> session, ExecutableOrigin origin)
    : session_(std::move(session)), origin_(std::move(origin)) {}
Analysis::~Analysis() = default;

std::unique_ptr<Analysis> Analysis::open(const std::string& corePath, const std::string& exePath) {
    OpenOptions options;
    options.executable = exePath;
    return open(corePath, options);
}

std::unique_ptr<Analysis> Analysis::open(const std::string& corePath, const OpenOptions& options) {
    return create(Target::openCore(corePath, options.maxDecompressedBytes), options);
}

std::unique_ptr<Analysis> Analysis::create(std::unique_ptr<Target> target, const std::string& exePath) {
    OpenOptions options;
    options.executable = exePath;
    return create(std::move(target), options);
}

std::unique_ptr<Analysis> Analysis::create(std::unique_ptr<Target> target, const OpenOptions& options) {
    ResolvedExecutable resolved = resolveExecutable(*target, options);
    ExecutableOrigin origin = std::move(resolved.origin);
    origin.buildId = resolved.executable->gnuBuildId();
    origin.goBuildId = resolved.executable->goBuildId();
    auto session = std::make_unique<Session>(std::move(target), std::move(resolved.executable));
    return std::unique_ptr<Analysis>(new Analysis(std::move(session), std::move(origin)));
}

const Target& Analysis::target() const {
    return session_->target();
}

const Memory& Analysis::memory() const {
    return session_->memory();
}

const GoroutineTable* Analysis::goroutines() {
    return session_->goroutines();
}

const std::vector<std::string>& Analysis::notes() const {
    return session_->notes();
}

Report Analysis::run(const AnalysisOptions& options) {
    Session& session = *session_;
    const Target& target = session.target();
    const TargetDescription description = target.description();
    Report report;
    report.input.core = description.path;
    report.input.executable = session.executable().path();
    report.input.coreTruncated = description.truncated;
    report.executable = origin_;
    report.target.goVersion = session.executable().goVersion();
    report.target.goExperiment = session.executable().goExperiment();
    report.target.mapLayout = session.programLayout();
    report.target.arch = description.architecture;
    report.target.threads = target.threads().size();
    if (auto process = target.processInfo()) report.target.pid = process->pid;
    if (auto signal = target.signalInfo())
        report.target.signal = signal->signo;
    else if (!target.threads().empty())
        report.target.signal = target.threads().front().signal;

    RunContext run(options);
    scaleBucketBound(target, run.limits);
    sizeAllocationsFromHeap(session, run.limits);
    run.progress(phases::kGoroutines, 0, 0);
    session.goroutines();
    run.progress(phases::kGoroutines, 1, 1);
    run.stopIfCancelled();
    if (options.onCrash) {
        run.progress(phases::kCrashFirst, 0, 1);
        deliverCrashFirst(session, run, options);
        run.progress(phases::kCrashFirst, 1, 1);
        run.stopIfCancelled();
    }
    run.progress(phases::kSearch, 0, 0);
    std::vector<MapRoot> roots = findRoots(session, run);
    run.progress(phases::kSearch, roots.size(), roots.size());
    run.stopIfCancelled();
    RootGroups groups = groupRoots(roots);
    report.nilMaps = std::move(groups.nilMaps);
    const std::uint64_t total = groups.byAddress.size();
    // About a thousand progress events per phase at most, whatever the number of maps.
    const std::uint64_t step = std::max<std::uint64_t>(1, total / 1000);
    run.progress(phases::kWalk, 0, total);
    for (const auto& [address, holders] : groups.byAddress) {
        report.maps.push_back(walkHeldMap(session, run.limits, address, holders.front()->type, holders));
        if (report.maps.size() % step == 0) run.progress(phases::kWalk, report.maps.size(), total);
    }
    run.progress(phases::kWalk, total, total);
    run.stopIfCancelled();
    run.progress(phases::kCrash, 0, 1);
    report.crash = explainCrash(session, run, roots, report.maps);
    run.progress(phases::kCrash, 1, 1);
    // After the crash is explained: it names maps from the runtime's own frames, never these.
    run.progress(phases::kUnreached, 0, 0);
    addUnreachedMaps(session, run, report.maps);
    run.progress(phases::kUnreached, 1, 1);
    run.stopIfCancelled();
    if (report.crash->kind == crash_kinds::kNilMapWrite)
        for (const std::string& root : report.crash->mapRoots)
            if (std::none_of(report.nilMaps.begin(), report.nilMaps.end(),
                             [&](const NilMap& nil) { return nil.root == root; }))
                report.nilMaps.push_back(NilMap{root, ""});
    for (const std::string& problem : target.problems())
        report.notes.push_back("core: " + problem);
    report.notes.insert(report.notes.end(), description.notes.begin(), description.notes.end());
    for (const std::string& rejected : origin_.rejected)
        report.notes.push_back("executable: passed over " + rejected);
    if (description.truncated)
        report.notes.push_back("the core file is truncated: memory past its end is reported as not captured");
    for (const std::vector<std::string>* notes :
         std::initializer_list<const std::vector<std::string>*>{&session.notes(), &run.notes})
        for (const std::string& note : *notes)
            if (std::find(report.notes.begin(), report.notes.end(), note) == report.notes.end())
                report.notes.push_back(note);
    if (run.budget.timeExpired()) {
        run.limitsHit.push_back(run.budget.timeLimitName());
        report.notes.push_back(run.budget.timeLimitName() +
                               " ran out: the walks stopped where they were; maps with that limit in their "
                               "limits_hit are incomplete");
    }
    if (run.budget.memoryExhausted()) {
        run.limitsHit.push_back(run.budget.memoryLimitName());
        report.notes.push_back(run.budget.memoryLimitName() +
                               " was reached: the walks stopped where they were; maps with that limit in "
                               "their limits_hit are incomplete");
    }
    for (const std::string& limit : run.limitsHit)
        if (std::find(report.limitsHit.begin(), report.limitsHit.end(), limit) == report.limitsHit.end())
            report.limitsHit.push_back(limit);
    for (MapResult& map : report.maps)
        checkMapMemory(map, options.memoryRules);
    summarizeMemory(report, session.heap(), options.memoryRules);
    explainOutOfMemory(report);
    if (options.onMap)
        for (const MapResult& map : report.maps)
            options.onMap(map);
    applyListing(report, options.listing);
    return report;
}

MapInspection Analysis::inspect(const std::string& nameOrAddress, const AnalysisOptions& options) {
    Session& session = *session_;
    AnalysisOptions detailed = options;
    detailed.limits.collectSlots = true;
    RunContext run(detailed);
    scaleBucketBound(session.target(), run.limits);
    sizeAllocationsFromHeap(session, run.limits);
    MapInspection inspection;
    const std::optional<std::uint64_t> address = parseAddress(nameOrAddress);
    std::vector<MapRoot> roots = findRoots(session, run);
    RootGroups groups = groupRoots(roots);
    auto finish = [&](MapInspection& result) -> MapInspection {
        if (result.map) checkMapMemory(*result.map, options.memoryRules);
        result.notes = run.notes;
        return std::move(result);
    };
    for (const NilMap& nil : groups.nilMaps)
        if (nil.root == nameOrAddress) {
            inspection.nilMap = nil;
            return finish(inspection);
        }
    for (const auto& [mapAddress, holders] : groups.byAddress) {
        bool named = std::any_of(holders.begin(), holders.end(),
                                 [&](const MapRoot* root) { return root->name == nameOrAddress; });
        if (!named && address != mapAddress) continue;
        inspection.map = walkHeldMap(session, run.limits, mapAddress, holders.front()->type, holders);
        return finish(inspection);
    }
    if (address) {
        // Maps no root reaches are found by the heap scan, as run() finds them.
        std::vector<MapResult> maps;
        for (const auto& [mapAddress, holders] : groups.byAddress) {
            maps.emplace_back();
            maps.back().address = mapAddress;
        }
        const std::size_t reached = maps.size();
        addUnreachedMaps(session, run, maps);
        for (std::size_t i = reached; i < maps.size(); ++i)
            if (maps[i].address == *address) {
                inspection.map = std::move(maps[i]);
                return finish(inspection);
            }
    }
    throw Error(Error::Code::NotFound, "no map named or at '" + nameOrAddress + "' was found");
}

}  // namespace gomapcore
