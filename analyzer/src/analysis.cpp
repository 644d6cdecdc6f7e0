#include "gomapcore/analysis.h"

#include <elf.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <span>

#include "gomapcore/error.h"

namespace gomapcore {

std::vector<Finding> Report::findings() const {
    std::vector<Finding> out;
    for (const MapResult& map : maps) {
        auto f = map.findings();
        out.insert(out.end(), f.begin(), f.end());
    }
    return out;
}

std::size_t Report::countAtLeast(Severity severity) const {
    std::size_t n = 0;
    for (const Finding& f : findings())
        if (f.severity >= severity) ++n;
    return n;
}

namespace {

bool fileExists(const std::string& path) {
    struct stat st {};
    return !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The executable's path as the core records it: the NT_FILE mapping that contains the entry
// point (AT_ENTRY), else the mapping of file offset 0 named like pr_fname.
std::string executablePathFromCore(const CoreFile& core) {
    auto entry = core.auxv().find(AT_ENTRY);
    if (entry != core.auxv().end()) {
        for (const auto& m : core.fileMappings())
            if (entry->second >= m.start && entry->second < m.end) return m.path;
    }
    if (core.processInfo()) {
        for (const auto& m : core.fileMappings()) {
            auto slash = m.path.rfind('/');
            std::string base = slash == std::string::npos ? m.path : m.path.substr(slash + 1);
            if (m.fileOffset == 0 && base.rfind(core.processInfo()->command, 0) == 0) return m.path;
        }
    }
    return {};
}

// Compares the parts of the ELF header page that identify a build: the ELF header's identity
// and entry, every program header's placement, and any note (Go and GNU build IDs) the page
// holds. Section headers are left out on purpose: strip and objcopy rewrite them (and a
// writable segment's file size), so a core of a stripped binary must still match the
// unstripped executable. Returns "" when they agree, else what differs.
std::string headerPageDifference(std::span<const std::byte> dumped, std::span<const std::byte> file) {
    Elf64_Ehdr a{}, b{};
    if (dumped.size() < sizeof a) return "the dumped page is too short for an ELF header";
    std::memcpy(&a, dumped.data(), sizeof a);
    std::memcpy(&b, file.data(), sizeof b);
    if (std::memcmp(a.e_ident, b.e_ident, EI_NIDENT) != 0 || a.e_type != b.e_type ||
        a.e_machine != b.e_machine || a.e_version != b.e_version || a.e_flags != b.e_flags)
        return "the ELF identity differs";
    if (a.e_entry != b.e_entry)
        return fmt::format("the entry point differs ({:#x} vs {:#x})", a.e_entry, b.e_entry);
    if (a.e_phoff != b.e_phoff || a.e_phnum != b.e_phnum || a.e_phentsize != b.e_phentsize)
        return "the program header table differs";
    if (a.e_phentsize != sizeof(Elf64_Phdr) ||
        a.e_phoff + std::uint64_t{a.e_phnum} * sizeof(Elf64_Phdr) > dumped.size())
        return "";  // the table is not in the page: nothing more to compare here
    for (std::uint16_t i = 0; i < a.e_phnum; ++i) {
        Elf64_Phdr p{}, q{};
        std::memcpy(&p, dumped.data() + a.e_phoff + i * sizeof p, sizeof p);
        std::memcpy(&q, file.data() + a.e_phoff + i * sizeof q, sizeof q);
        bool writable = (p.p_flags & PF_W) != 0;
        if (p.p_type != q.p_type || p.p_offset != q.p_offset || p.p_vaddr != q.p_vaddr ||
            p.p_memsz != q.p_memsz || p.p_flags != q.p_flags || (!writable && p.p_filesz != q.p_filesz))
            return fmt::format("program header {} differs", i);
        if (p.p_type == PT_NOTE && p.p_offset + p.p_filesz <= dumped.size() &&
            std::memcmp(dumped.data() + p.p_offset, file.data() + p.p_offset, p.p_filesz) != 0)
            return fmt::format("the build ID note at file offset {:#x} differs", p.p_offset);
    }
    return "";
}

}  // namespace

std::unique_ptr<Analysis> Analysis::open(const std::string& corePath, const std::string& exePath) {
    std::unique_ptr<Analysis> analysis(new Analysis());
    analysis->core_ = CoreFile::open(corePath);
    std::string exe = exePath;
    if (exe.empty()) {
        exe = executablePathFromCore(*analysis->core_);
        if (exe.empty())
            throw Error(Error::Code::MissingExecutable,
                        "the core does not name its executable (no NT_FILE note); pass it with --exe");
        if (!fileExists(exe))
            throw Error(Error::Code::MissingExecutable,
                        "the core's executable " + exe + " does not exist here; pass it with --exe");
    }
    analysis->exe_ = Executable::open(exe);
    if (analysis->exe_->positionIndependent()) {
        auto entry = analysis->core_->auxv().find(AT_ENTRY);
        if (entry == analysis->core_->auxv().end())
            throw Error(
                Error::Code::ExecutableMismatch,
                "the executable is position-independent and the core has no AT_ENTRY to find where it was "
                "loaded");
        analysis->loadBias_ = entry->second - analysis->exe_->entry();
    }
    analysis->memory_ =
        std::make_unique<CoreMemory>(*analysis->core_, analysis->exe_.get(), analysis->loadBias_);
    analysis->verifyExecutableMatchesCore();
    analysis->types_ = std::make_unique<TypeTable>(analysis->exe_->dwarf());
    analysis->layouts_ = std::make_unique<LayoutCatalog>(*analysis->types_);
    analysis->detectProgramLayout();
    return analysis;
}

void Analysis::verifyExecutableMatchesCore() {
    // The kernel dumps the first page of an ELF mapping (coredump_filter bit 4, "ELF headers"),
    // which holds the ELF header, program headers and Go build ID note. Compare it byte for
    // byte with the executable's file.
    const ExecutableSegment* first = nullptr;
    for (const auto& s : exe_->segments())
        if (s.fileOffset == 0 && s.fileSize > 0) first = &s;
    if (first == nullptr) {
        notes_.push_back(
            "could not verify that the executable matches the core: no segment maps file offset 0");
        return;
    }
    std::uint64_t address = first->vaddr + loadBias_;
    std::uint64_t length = std::min<std::uint64_t>(first->fileSize, 4096);
    std::vector<std::byte> dumped(length);
    ReadResult read = memory_->readCoreOnly(address, dumped);
    if (read.bytesRead == 0) {
        if (core_->segmentAt(address) == nullptr)
            throw Error(
                Error::Code::ExecutableMismatch,
                fmt::format("executable {} does not match the core: the core has no mapping at {:#x}, where "
                            "the executable's first segment is loaded",
                            exe_->path(), address));
        notes_.push_back(
            fmt::format("could not verify that the executable matches the core: the core did not "
                        "capture the ELF header page at {:#x}",
                        address));
        return;
    }
    auto fileBytes = exe_->fileBytes(0, read.bytesRead);
    std::string difference =
        fileBytes.size() == read.bytesRead
            ? headerPageDifference(std::span<const std::byte>(dumped.data(), read.bytesRead), fileBytes)
            : "the executable file is shorter than its first segment";
    if (!difference.empty())
        throw Error(
            Error::Code::ExecutableMismatch,
            fmt::format("executable {} does not match the core: in the ELF header page the kernel dumped "
                        "at {:#x}, {} (another build?)",
                        exe_->path(), address, difference));
}

void Analysis::detectProgramLayout() {
    if (!types_->hasDwarf())
        throw Error(
            Error::Code::NotGoProgram,
            exe_->path() + " has no DWARF debug information (stripped); gomapcore needs it to decode maps");
    // Layout selection from DWARF shape, not the version string: the runtime's own map header
    // type exists only for the implementation the binary was built with.
    if (types_->byName("runtime.hmap") != nullptr) {
        programLayout_ = MapLayoutKind::Classic;
    } else if (types_->byName("internal/runtime/maps.Map") != nullptr) {
        programLayout_ = MapLayoutKind::Swiss;
    } else {
        throw Error(Error::Code::NotGoProgram,
                    exe_->path() +
                        ": its DWARF has neither runtime.hmap nor internal/runtime/maps.Map; is it a Go "
                        "program?");
    }
}

const GoSymbols* Analysis::symbols() {
    if (!symbols_) symbols_ = GoSymbols::load(*memory_, *types_, loadBias_, notes_);
    return symbols_->get();
}

const GoroutineTable* Analysis::goroutines() {
    if (!goroutines_) {
        const GoSymbols* table = symbols();
        goroutines_ = table == nullptr ? nullptr
                                       : GoroutineTable::load(*memory_, *types_, loadBias_, *table,
                                                              core_->threads(), notes_);
    }
    return goroutines_->get();
}

namespace {

// The runtime's own globals and frames hold its machinery (heap arenas, schedulers, the
// goroutines themselves), not program maps; following them would walk the whole heap twice.
bool runtimeInternal(std::string_view name) {
    return name.rfind("runtime.", 0) == 0 || name.rfind("internal/runtime/", 0) == 0;
}

}  // namespace

std::vector<MapRoot> Analysis::findRoots(const ReachLimits& reachLimits, const WalkLimits& limits,
                                         bool redact) {
    Reachability reach(*memory_, *layouts_, reachLimits, limits,
                       [this](std::uint64_t descriptor) -> const Type* {
                           RuntimeTypeInfo info = runtimeType(descriptor);
                           return info.name.empty() ? nullptr : types_->byName(info.name);
                       });
    reach.setRedactKeys(redact);
    Reader reader(*memory_);
    for (const GlobalVariable& global : types_->globals()) {
        if (global.type == nullptr || runtimeInternal(global.name)) continue;
        if (global.type->kind == GoKind::Map && !reader.u64(global.address + loadBias_)) {
            notes_.push_back(fmt::format("global {} at {:#x} is not captured; its map cannot be read",
                                         global.name, global.address));
            continue;
        }
        reach.addRoot(global.name, RootKind::Global, global.address + loadBias_, global.type);
    }
    addStackRoots(reach);
    reach.run();
    for (const std::string& limit : reach.limitsHit()) {
        notes_.push_back(fmt::format("the search for maps stopped early: limit {} reached", limit));
        limitsHit_.push_back(limit);
    }
    std::vector<MapRoot> roots = reach.maps();
    addStackObjectMaps(roots, limits);
    return roots;
}

bool Analysis::validatesAsMap(std::uint64_t address, const Type* mapType, const WalkLimits& limits) {
    const MapTypeLayout* layout = layouts_->layoutFor(mapType, nullptr);
    if (layout == nullptr) return false;
    // A validation walk is thrown away: bounded in time, not charged to the memory budget.
    WalkLimits unbudgeted = limits;
    AnalysisBudget timeOnly;
    if (limits.budget != nullptr) {
        timeOnly = limits.budget->timeOnly();
        unbudgeted.budget = &timeOnly;
    }
    MapResult result = walkMap(*memory_, *layout, address, unbudgeted);
    if (!result.headerReadable || !result.complete) return false;
    for (const Finding& finding : result.findings())
        if (finding.severity >= Severity::Warning) return false;
    if (result.count < 0 || static_cast<std::uint64_t>(result.count) != result.liveEntries) return false;
    // An all-zero header validates as an empty map of any type; demand evidence of a map.
    bool hasStorage = false;
    for (const auto& [name, value] : result.header)
        if ((name == "buckets" || name == "dirPtr") && value != 0) hasStorage = true;
    return hasStorage || result.liveEntries > 0;
}

void Analysis::addStackObjectMaps(std::vector<MapRoot>& roots, const WalkLimits& limits) {
    // A map that does not escape has its header (and first bucket or group) in its function's
    // frame, and since Go 1.24 the compiler often writes no DWARF variable for it at all. The
    // runtime still lists such headers as stack objects (FUNCDATA_StackObjects) for the GC;
    // a stack object of the header's size that validates as a map of a candidate type is one.
    const GoroutineTable* table = goroutines();
    const GoSymbols* functions = symbols();
    if (table == nullptr || functions == nullptr) return;
    const Type* header = types_->byName(
        programLayout_ == MapLayoutKind::Classic ? "runtime.hmap" : "internal/runtime/maps.Map");
    if (header == nullptr) return;
    const std::uint64_t headerSize = header->underlying()->byteSize();
    std::set<std::uint64_t> known;
    for (const MapRoot& root : roots)
        known.insert(root.mapAddress);
    WalkLimits probe = limits;
    probe.maxBucketsPerMap = std::min<std::uint64_t>(probe.maxBucketsPerMap, 1u << 16);
    probe.collectSlots = false;
    std::vector<const Type*> allMapTypes;
    constexpr std::size_t kMaxTypesTried = 512;
    for (const Goroutine& goroutine : table->goroutines()) {
        for (std::size_t i = 0; i < goroutine.frames.size(); ++i) {
            const StackFrame& frame = goroutine.frames[i];
            if (frame.function == nullptr || runtimeInternal(frame.function->name) || frame.fp == 0) continue;
            std::vector<StackObject> objects = functions->stackObjects(*frame.function);
            if (objects.empty()) continue;
            std::vector<std::pair<std::string, const Type*>> named;
            for (const FrameVariable& v :
                 frameVariables().variables(frame, i > 0 ? &goroutine.frames[i - 1] : nullptr))
                if (v.type != nullptr && v.type->kind == GoKind::Map && !v.address)
                    named.emplace_back(v.name, v.type);
            std::string where = fmt::format("goroutine {} {}", goroutine.id, frame.function->name);
            // Each header-sized stack object with the frame's map variables it validates as.
            struct Candidate {
                std::uint64_t address;
                std::vector<std::pair<std::string, const Type*>> variables;
            };
            std::vector<Candidate> candidates;
            for (const StackObject& object : objects) {
                if (static_cast<std::uint64_t>(object.size) != headerSize) continue;
                std::uint64_t address = frame.addressOf(object);
                if (known.count(address)) continue;
                Candidate candidate{address, {}};
                for (const auto& variable : named)
                    if (validatesAsMap(address, variable.second, probe))
                        candidate.variables.push_back(variable);
                candidates.push_back(std::move(candidate));
            }
            // Same-shaped types (map[string]int and map[int]string have the same bucket size)
            // can both validate: pair objects with variables by elimination, an object that
            // fits one remaining variable taking it. What stays ambiguous is named as such.
            for (bool progress = true; progress;) {
                progress = false;
                for (Candidate& c : candidates) {
                    if (c.variables.size() != 1) continue;
                    std::string taken = c.variables.front().first;
                    for (Candidate& other : candidates) {
                        if (&other == &c) continue;
                        auto before = other.variables.size();
                        std::erase_if(other.variables, [&](const auto& v) { return v.first == taken; });
                        progress = progress || other.variables.size() != before;
                    }
                }
            }
            for (const Candidate& c : candidates) {
                const std::uint64_t address = c.address;
                const auto& valid = c.variables;
                if (!valid.empty()) {
                    std::string name = valid.front().first;
                    if (valid.size() > 1) {
                        name = "(";
                        for (std::size_t v = 0; v < valid.size(); ++v)
                            name += (v == 0 ? "" : v + 1 == valid.size() ? " or " : ", ") + valid[v].first;
                        name += ")";
                        notes_.push_back(
                            fmt::format("stack map at {:#x} in {} validates as each of {}; it is "
                                        "walked as {}",
                                        address, where, name, valid.front().second->name));
                    }
                    MapRoot root{
                        where + " " + name, RootKind::Stack, address, valid.front().second, true, {}};
                    for (const auto& variable : valid)
                        if (std::find(root.typeCandidates.begin(), root.typeCandidates.end(),
                                      variable.second->name) == root.typeCandidates.end())
                            root.typeCandidates.push_back(variable.second->name);
                    if (root.typeCandidates.size() < 2) root.typeCandidates.clear();  // one type: known
                    roots.push_back(std::move(root));
                    known.insert(address);
                    continue;
                }
                if (!named.empty()) continue;
                // No DWARF variable to name it: try the program's map types.
                if (allMapTypes.empty())
                    for (const std::string& name : types_->mapTypeNames())
                        // go.shape.* are the compiler's generic shapes, duplicates of real types.
                        if (name.find("go.shape.") == std::string::npos)
                            if (const Type* type = types_->byName(name)) allMapTypes.push_back(type);
                std::vector<const Type*> types;
                for (std::size_t t = 0; t < allMapTypes.size() && t < kMaxTypesTried; ++t)
                    if (validatesAsMap(address, allMapTypes[t], probe)) types.push_back(allMapTypes[t]);
                if (types.empty()) continue;
                types = narrowByStorage(address, types, &frame, &objects);
                if (types.empty()) {
                    notes_.push_back(
                        fmt::format("{}: the stack object at {:#x} validates as a map header, but "
                                    "the GC's pointer bits for its storage fit none of those map "
                                    "types; not reported",
                                    where, address));
                    continue;
                }
                std::string name = fmt::format("{} stack object at fp-{:#x}", where, frame.fp - address);
                MapRoot root{name, RootKind::Stack, address, types.front(), true, {}};
                // Walked as the first type that fits; with several, the type is reported as
                // unknown with the candidates, never as one of them.
                if (types.size() > 1)
                    for (const Type* type : types)
                        root.typeCandidates.push_back(type->name);
                roots.push_back(std::move(root));
                known.insert(address);
            }
        }
    }
}

std::vector<const Type*> Analysis::narrowByStorage(std::uint64_t header,
                                                   const std::vector<const Type*>& types,
                                                   const StackFrame* frame,
                                                   const std::vector<StackObject>* frameObjects) {
    // The one group of a small swiss map (dirLen 0, dirPtr the group) or the buckets of a
    // classic map are an allocation the GC scans, and it records which of their words hold
    // pointers: in the frame, the bitmap the compiler wrote for the stack object
    // (src/cmd/compile/internal/walk/builtin.go walkMakeMap puts a non-escaping map's storage
    // there); on the heap, the span's heap bits, or the noscan span class (Go 1.22+,
    // src/runtime/mbitmap.go). Only the map types whose bucket or group has those pointer words
    // can have made it. Types that differ only in non-pointer words (map[string]int,
    // map[string]bool) stay candidates; when nothing can be told, all do.
    const MapTypeLayout* first = layouts_->layoutFor(types.front(), nullptr);
    if (first == nullptr) return types;
    Reader reader(*memory_);
    std::optional<std::uint64_t> storage;
    if (first->kind == MapLayoutKind::Swiss) {
        const SwissLayout& s = first->swiss;
        auto dirLen = reader.unsignedOfSize(header + s.dirLen.offset, s.dirLen.size);
        if (dirLen && *dirLen == 0) storage = reader.u64(header + s.dirPtr.offset);
    } else {
        storage = reader.u64(header + first->classic.buckets.offset);
    }
    if (!storage || *storage == 0) return types;
    std::optional<std::vector<bool>> mask;
    std::optional<std::uint64_t> exactSize, maxSize;
    const GoSymbols* functions = symbols();
    if (frame != nullptr && frameObjects != nullptr && functions != nullptr) {
        for (const StackObject& object : *frameObjects) {
            if (frame->addressOf(object) != *storage) continue;
            mask = functions->pointerWords(object);
            exactSize = static_cast<std::uint64_t>(object.size);
            break;
        }
    }
    if (!exactSize) {
        const HeapModel* model = heap();
        if (model == nullptr) return types;
        mask = model->objectPointerWords(*storage);
        if (mask) maxSize = model->classify(*storage).objectSize;
    }
    if (!mask) return types;
    while (!mask->empty() && !mask->back())
        mask->pop_back();
    std::vector<const Type*> fitting;
    for (const Type* type : types) {
        const MapTypeLayout* layout = layouts_->layoutFor(type, nullptr);
        if (layout == nullptr) continue;
        const std::uint64_t size = layout->storageSize();
        if ((exactSize && size != *exactSize) || (maxSize && size > *maxSize)) continue;
        auto words = layout->storagePointerWords();
        if (!words) continue;
        // A heap object may hold several buckets or groups (an array, bits repeating) and be
        // rounded up to its size class: compare the words of the first one.
        std::vector<bool> firstWords(mask->begin(),
                                     mask->begin() + std::min<std::size_t>(mask->size(), size / 8));
        while (!firstWords.empty() && !firstWords.back())
            firstWords.pop_back();
        if (*words == firstWords) fitting.push_back(type);
    }
    // Empty when the GC's record fits none of them: the header only looks like a map of those
    // types (seen on go1.23 for objects whose buckets hold (word, pointer) keys).
    return fitting;
}

const FrameVariables& Analysis::frameVariables() {
    if (!frameVariables_) frameVariables_ = std::make_unique<FrameVariables>(exe_->dwarf(), *types_);
    return *frameVariables_;
}

void Analysis::addStackRoots(Reachability& reach) {
    const GoroutineTable* table = goroutines();
    if (table == nullptr) return;
    Reader reader(*memory_);
    for (const Goroutine& goroutine : table->goroutines()) {
        for (std::size_t i = 0; i < goroutine.frames.size(); ++i) {
            const StackFrame& frame = goroutine.frames[i];
            if (frame.function == nullptr || runtimeInternal(frame.function->name)) continue;
            const StackFrame* callee = i > 0 ? &goroutine.frames[i - 1] : nullptr;
            for (const FrameVariable& variable : frameVariables().variables(frame, callee)) {
                if (variable.type == nullptr || !variable.address) continue;
                std::string name =
                    fmt::format("goroutine {} {} {}", goroutine.id, variable.function, variable.name);
                std::optional<std::uint64_t> address = *variable.address;
                if (variable.byReference) address = reader.u64(*address);
                if (!address) {
                    if (variable.type->kind == GoKind::Map)
                        notes_.push_back(fmt::format("{} is not captured; its map cannot be read", name));
                    continue;
                }
                reach.addRoot(name, RootKind::Stack, *address, variable.type);
            }
        }
    }
}

MapResult Analysis::walk(std::uint64_t address, const Type* mapType, const WalkLimits& limits) {
    std::string why;
    const MapTypeLayout* layout = layouts_->layoutFor(mapType, &why);
    if (layout == nullptr) {
        MapResult result;
        result.address = address;
        result.root.address = address;
        result.root.findings.push_back(Finding{rules::kHeaderImplausible, Severity::Warning, address, address,
                                               "cannot decode this map type: " + why});
        return result;
    }
    return walkMap(*memory_, *layout, address, limits);
}

Report Analysis::run(const AnalysisOptions& options) {
    Report report;
    report.input.core = core_->path();
    report.input.executable = exe_->path();
    report.input.coreTruncated = core_->truncated();
    report.target.goVersion = exe_->goVersion();
    report.target.goExperiment = exe_->goExperiment();
    report.target.mapLayout = toString(programLayout_);
    report.target.arch = core_->architecture();
    report.target.threads = core_->threads().size();
    if (core_->processInfo()) report.target.pid = core_->processInfo()->pid;
    if (core_->signalInfo())
        report.target.signal = core_->signalInfo()->signo;
    else if (!core_->threads().empty())
        report.target.signal = core_->threads().front().signal;

    AnalysisBudget budget = options.makeBudget();
    WalkLimits limits = options.limits;
    limits.budget = &budget;
    ReachLimits reach = options.reach;
    reach.budget = &budget;

    // One entry per distinct map header, with every root that reaches it.
    std::map<std::uint64_t, std::vector<const MapRoot*>> byAddress;
    redact_ = options.redact;
    std::vector<MapRoot> roots = findRoots(reach, limits, options.redact);
    for (const MapRoot& root : roots) {
        if (root.mapAddress == 0) {
            report.nilMaps.push_back(NilMap{root.name, root.type ? root.type->name : ""});
            continue;
        }
        byAddress[root.mapAddress].push_back(&root);
    }
    for (const auto& [address, holders] : byAddress) {
        MapResult result = walk(address, holders.front()->type, limits);
        bool heuristic = true;
        for (const MapRoot* root : holders) {
            result.roots.push_back(root->name);
            heuristic = heuristic && root->heuristic;
        }
        if (heuristic) {
            result.confidence = "heuristic";
            result.typeCandidates = holders.front()->typeCandidates;
        }
        if (const HeapModel* model = heap()) checkFreedStructures(*model, result);
        report.maps.push_back(std::move(result));
    }
    report.crash = explainCrash(roots, report.maps);
    // After the crash is explained: it names maps from the runtime's own frames, never these.
    addUnreachedMaps(report.maps, limits, options.unreached);
    if (report.crash->kind == crash_kinds::kNilMapWrite)
        for (const std::string& root : report.crash->mapRoots)
            if (std::none_of(report.nilMaps.begin(), report.nilMaps.end(),
                             [&](const NilMap& nil) { return nil.root == root; }))
                report.nilMaps.push_back(NilMap{root, ""});
    for (const std::string& problem : core_->noteProblems())
        report.notes.push_back("core: " + problem);
    if (core_->truncated())
        report.notes.push_back("the core file is truncated: memory past its end is reported as not captured");
    // notes_ lives as long as the Analysis: a second run (the GUI's redacted export) must not
    // repeat what the first one noted.
    for (const std::string& note : notes_)
        if (std::find(report.notes.begin(), report.notes.end(), note) == report.notes.end())
            report.notes.push_back(note);
    if (budget.timeExpired()) {
        limitsHit_.push_back(budget.timeLimitName());
        report.notes.push_back(budget.timeLimitName() +
                               " ran out: the walks stopped where they were; maps with that limit in their "
                               "limits_hit are incomplete");
    }
    if (budget.memoryExhausted()) {
        limitsHit_.push_back(budget.memoryLimitName());
        report.notes.push_back(budget.memoryLimitName() +
                               " was reached: the walks stopped where they were; maps with that limit in "
                               "their limits_hit are incomplete");
    }
    for (const std::string& limit : limitsHit_)
        if (std::find(report.limitsHit.begin(), report.limitsHit.end(), limit) == report.limitsHit.end())
            report.limitsHit.push_back(limit);
    return report;
}

}  // namespace gomapcore
