#include "analysis/stack_object_maps.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "analysis/map_recognition.h"

namespace gomapcore {

void addStackObjectMaps(Session& session, RunContext& run, std::vector<MapRoot>& roots) {
    const WalkLimits& limits = run.limits;
    // A map that does not escape has its header (and first bucket or group) in its function's
    // frame, and since Go 1.24 the compiler often writes no DWARF variable for it at all. The
    // runtime still lists such headers as stack objects (FUNCDATA_StackObjects) for the GC;
    // a stack object of the header's size that validates as a map of a candidate type is one.
    const GoroutineTable* table = session.goroutines();
    const GoSymbols* functions = session.symbols();
    if (table == nullptr || functions == nullptr) return;
    const Type* header = session.mapHeaderType();
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
                 session.frameVariables().variables(frame, i > 0 ? &goroutine.frames[i - 1] : nullptr))
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
                    if (validatesAsMap(session, address, variable.second, probe))
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
                        std::string alternatives;
                        for (std::size_t v = 0; v < valid.size(); ++v) {
                            if (v > 0) alternatives.append(v + 1 == valid.size() ? " or " : ", ");
                            alternatives.append(valid[v].first);
                        }
                        name = fmt::format("({})", alternatives);
                        run.notes.push_back(
                            fmt::format("stack map at {:#x} in {} validates as each of {}; it is "
                                        "walked as {}",
                                        address, where, name, valid.front().second->name));
                    }
                    MapRoot root{fmt::format("{} {}", where, name),
                                 RootKind::Stack,
                                 address,
                                 valid.front().second,
                                 true,
                                 {},
                                 RootOrigin::Goroutine};
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
                    for (const std::string& name : session.types().mapTypeNames())
                        // go.shape.* are the compiler's generic shapes, duplicates of real types.
                        if (name.find("go.shape.") == std::string::npos)
                            if (const Type* type = session.types().byName(name)) allMapTypes.push_back(type);
                std::vector<const Type*> types;
                for (std::size_t t = 0; t < allMapTypes.size() && t < kMaxTypesTried; ++t)
                    if (validatesAsMap(session, address, allMapTypes[t], probe))
                        types.push_back(allMapTypes[t]);
                if (types.empty()) continue;
                types = narrowByStorage(session, address, types, &frame, &objects);
                if (types.empty()) {
                    run.notes.push_back(
                        fmt::format("{}: the stack object at {:#x} validates as a map header, but "
                                    "the GC's pointer bits for its storage fit none of those map "
                                    "types; not reported",
                                    where, address));
                    continue;
                }
                std::string name = fmt::format("{} stack object at fp-{:#x}", where, frame.fp - address);
                MapRoot root{name, RootKind::Stack, address, types.front(), true, {}, RootOrigin::Goroutine};
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

}  // namespace gomapcore
