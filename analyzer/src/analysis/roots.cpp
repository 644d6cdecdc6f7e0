#include "analysis/roots.h"

#include <fmt/format.h>

#include "analysis/reachability.h"
#include "analysis/stack_object_maps.h"

namespace gomapcore {
namespace {

// Every goroutine frame's DWARF variables (outside the runtime) as roots of the search.
void addStackRoots(Session& session, RunContext& run, Reachability& reach) {
    const GoroutineTable* table = session.goroutines();
    if (table == nullptr) return;
    Reader reader(session.memory());
    for (const Goroutine& goroutine : table->goroutines()) {
        for (std::size_t i = 0; i < goroutine.frames.size(); ++i) {
            const StackFrame& frame = goroutine.frames[i];
            if (frame.function == nullptr || runtimeInternal(frame.function->name)) continue;
            const StackFrame* callee = i > 0 ? &goroutine.frames[i - 1] : nullptr;
            for (const FrameVariable& variable : session.frameVariables().variables(frame, callee)) {
                if (variable.type == nullptr || !variable.address) continue;
                std::string name =
                    fmt::format("goroutine {} {} {}", goroutine.id, variable.function, variable.name);
                std::optional<std::uint64_t> address = *variable.address;
                if (variable.byReference) address = reader.u64(*address);
                if (!address) {
                    if (variable.type->kind == GoKind::Map)
                        run.notes.push_back(fmt::format("{} is not captured; its map cannot be read", name));
                    continue;
                }
                reach.addRoot(name, RootKind::Stack, *address, variable.type);
            }
        }
    }
}

}  // namespace

std::vector<MapRoot> findRoots(Session& session, RunContext& run) {
    Reachability reach(session.memory(), session.layouts(), run.reach, run.limits,
                       [&session](std::uint64_t descriptor) { return session.dynamicType(descriptor); });
    reach.setRedactKeys(run.redact);
    Reader reader(session.memory());
    for (const GlobalVariable& global : session.types().globals()) {
        if (global.type == nullptr || runtimeInternal(global.name)) continue;
        if (global.type->kind == GoKind::Map && !reader.u64(global.address + session.loadBias())) {
            run.notes.push_back(fmt::format("global {} at {:#x} is not captured; its map cannot be read",
                                            global.name, global.address));
            continue;
        }
        reach.addRoot(global.name, RootKind::Global, global.address + session.loadBias(), global.type);
    }
    addStackRoots(session, run, reach);
    reach.run();
    for (const std::string& limit : reach.limitsHit()) {
        run.notes.push_back(fmt::format("the search for maps stopped early: limit {} reached", limit));
        run.limitsHit.push_back(limit);
    }
    std::vector<MapRoot> roots = reach.maps();
    addStackObjectMaps(session, run, roots);
    return roots;
}

}  // namespace gomapcore
