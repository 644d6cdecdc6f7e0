// Crash attribution (see crash.h). Messages and raising functions follow
// ../shared/reference/GO-MAPS.md §7.1: classic maps raise from runtime/map*.go, swiss maps from
// internal/runtime/maps via runtime.maps_fatal; both end in runtime.fatal (or runtime.throw
// for faults), and plain panics carry their value in the goroutine's _panic record.
#include <fmt/format.h>

#include <algorithm>
#include <csignal>

#include "analysis/crash_explanation.h"
#include "analysis/out_of_memory.h"
#include "analysis/signal_origin.h"

namespace gomapcore {

namespace {

bool isRuntime(std::string_view name) {
    return name.rfind("runtime.", 0) == 0 || name.rfind("internal/runtime/", 0) == 0;
}

// The runtime functions that operate on one map and take it as a parameter named h (classic
// runtime/map*.go), m (swiss internal/runtime/maps) or an iterator it.
bool isMapFunction(std::string_view name) {
    if (name.rfind("internal/runtime/maps.", 0) == 0) return true;
    if (name.rfind("runtime.map", 0) == 0) return true;
    for (std::string_view prefix : {"runtime.growWork", "runtime.evacuate", "runtime.hashGrow",
                                    "runtime.(*hmap).", "runtime.(*bmap).", "runtime.advanceEvacuationMark"})
        if (name.rfind(prefix, 0) == 0) return true;
    return false;
}

struct KnownMessage {
    const char* text;
    const char* kind;
};
// src/runtime/map*.go and src/internal/runtime/maps/*.go fatal messages.
constexpr KnownMessage kMapMessages[] = {
    {"concurrent map writes", crash_kinds::kConcurrentWrites},
    {"small map with no empty slot (concurrent map writes?)", crash_kinds::kConcurrentWrites},
    {"concurrent map read and map write", crash_kinds::kConcurrentReadWrite},
    {"concurrent map clone and map write", crash_kinds::kConcurrentReadWrite},
    {"concurrent map iteration and map write", crash_kinds::kConcurrentIterationWrite},
    {"assignment to entry in nil map", crash_kinds::kNilMapWrite},
};

// A DWARF-located argument is taken as it is; spill-slot guesses only when they name a map
// found elsewhere, else the first of them.
std::optional<MapCandidate> chooseMap(const std::vector<MapCandidate>& candidates,
                                      const std::vector<MapRoot>& roots) {
    for (const MapCandidate& c : candidates)
        if (!c.fromFallback) return c;
    for (const MapCandidate& c : candidates)
        for (const MapRoot& root : roots)
            if (root.mapAddress == c.address && c.address != 0) return c;
    if (!candidates.empty()) return candidates.front();
    return std::nullopt;
}

std::optional<CodeLocation> locationOf(const StackFrame& frame) {
    if (frame.function == nullptr) return std::nullopt;
    if (frame.source.empty()) return CodeLocation{std::string(frame.function->name), "", 0};
    const SourceFrame& innermost = frame.source.front();
    return CodeLocation{std::string(innermost.function), std::string(innermost.file), innermost.line};
}

std::optional<CodeLocation> firstUserFrame(const std::vector<StackFrame>& frames, std::size_t from = 0) {
    for (std::size_t i = from; i < frames.size(); ++i)
        if (frames[i].function != nullptr && !isRuntime(frames[i].function->name))
            return locationOf(frames[i]);
    return std::nullopt;
}

std::string where(const std::optional<CodeLocation>& location) {
    if (!location) return "unknown code";
    std::string file = location->file;
    auto slash = file.rfind('/');
    if (slash != std::string::npos) file = file.substr(slash + 1);
    return fmt::format("{} at {}:{}", location->function, file, location->line);
}

// A word of the map iterator at it, typed iterType: its map (hiter.h in classic runtime/map.go,
// Iter.m in swiss internal/runtime/maps/table.go) or its map type (hiter.t, Iter.typ), by the
// first of names the iterator has. Go 1.26's runtime.mapiternext takes a linknameIter holding
// the *Iter in field it, followed once.
std::optional<std::uint64_t> iteratorWord(const Reader& reader, std::uint64_t it, const Type* iterType,
                                          std::initializer_list<const char*> names) {
    for (int depth = 0; depth < 2 && iterType != nullptr; ++depth) {
        const Type* s = iterType->underlying();
        if (s->tag == TypeTag::Pointer && s->target != nullptr) s = s->target->underlying();
        for (const char* name : names)
            if (const Field* field = s->field(name)) return reader.u64(it + field->offset);
        const Field* inner = s->field("it");
        if (inner == nullptr) return std::nullopt;
        auto next = reader.u64(it + inner->offset);
        if (!next) return std::nullopt;
        it = *next;
        iterType = inner->type;
    }
    return std::nullopt;
}

// Candidates for the map a runtime map function frame operates on.
std::vector<MapCandidate> mapArgument(Session& session, const Goroutine& goroutine, std::size_t index) {
    std::vector<MapCandidate> candidates;
    const StackFrame& frame = goroutine.frames[index];
    const StackFrame* callee = index > 0 ? &goroutine.frames[index - 1] : nullptr;
    Reader reader(session.memory());
    std::string_view function = frame.function->name;
    for (const FrameVariable& v : session.frameVariables().variables(frame, callee)) {
        if (!v.parameter || v.function != function || !v.address) continue;
        std::optional<std::uint64_t> pointer;
        if (v.name == "h" || v.name == "m") pointer = reader.u64(*v.address);
        if (v.name == "it")
            if (auto it = reader.u64(*v.address); it && *it != 0)
                pointer = iteratorWord(reader, *it, v.type, {"h", "m"});
        if (pointer) candidates.push_back({*pointer, false});
    }
    if (!candidates.empty()) return candidates;
    // Fallback measured on amd64 cores (GO-MAPS.md §7.4): after the prologue the map argument
    // of mapassign/mapaccess is in the second argument spill slot (argp+8), and an iterator is
    // in the first (argp) with its map at +24. The spill slots are the caller's outgoing
    // argument area in ABIInternal on every architecture (src/cmd/compile/abi-internal.md), at
    // argp: the CFA on amd64, past the saved link register on arm64.
    // Spill slots can be stale or reused (Go 1.26 was seen holding the map itself where the
    // iterator was expected), so these are candidates for the caller to check against the
    // maps it knows.
    bool iterator = function.rfind("runtime.mapiter", 0) == 0 || function.rfind("runtime.mapIter", 0) == 0 ||
                    function.find("Iter).") != std::string_view::npos;
    if (iterator) {
        if (auto word = reader.u64(frame.argp); word && *word != 0) {
            if (auto m = reader.u64(*word + 24)) candidates.push_back({*m, true});
            candidates.push_back({*word, true});
        }
        return candidates;
    }
    if (function.rfind("runtime.map", 0) != 0) return candidates;
    if (auto m = reader.u64(frame.argp + 8)) candidates.push_back({*m, true});
    return candidates;
}

// The runtime's message: the fatal/throw argument (fromThrow), or the panic value (isPanic).
// frames: the goroutine's (or a thread's system-stack frames); gAddress: the goroutine whose
// _panic record to read, 0 for none.
constexpr std::uint64_t kMaxMessage = 4096;  // longer than any runtime throw message

std::string crashMessage(Session& session, const std::vector<StackFrame>& frames, std::uint64_t gAddress,
                         bool& isPanic, bool& fromThrow) {
    Reader reader(session.memory());
    isPanic = false;
    fromThrow = false;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const StackFrame& frame = frames[i];
        if (frame.function == nullptr) continue;
        std::string_view name = frame.function->name;
        if (name == "runtime.fatal" || name == "runtime.throw") {
            fromThrow = true;
            // The string argument s: its DWARF location, else the argument spill slots at
            // argp. The length there may be stale (tracebacks print it with a '?'), so known
            // messages are matched by their bytes.
            std::optional<std::uint64_t> data, length;
            for (const FrameVariable& v :
                 session.frameVariables().variables(frame, i > 0 ? &frames[i - 1] : nullptr))
                if (v.parameter && v.name == "s" && v.address) {
                    data = reader.u64(*v.address);
                    length = reader.u64(*v.address + 8);
                }
            if (!data) data = reader.u64(frame.argp);
            if (!length) length = reader.u64(frame.argp + 8);
            if (!data) return "";
            // A stale spill slot leaves the length wrong while the data pointer is right (the
            // caller loads both into registers; the callee spills only what it must). fatal and
            // throw hand s to a closure they run on the system stack (systemstack(func() {
            // print(..., s) })), and that closure's captured copy of s lies in their own frame:
            // the word after the data pointer there is the length.
            if (!length || *length == 0 || *length >= kMaxMessage)
                for (std::uint64_t word = frame.sp; word + 16 <= frame.fp; word += 8)
                    if (reader.u64(word) == data)
                        if (auto captured = reader.u64(word + 8);
                            captured && *captured > 0 && *captured < kMaxMessage) {
                            length = captured;
                            break;
                        }
            for (const KnownMessage& known : kMapMessages) {
                std::string_view text = known.text;
                auto bytes = reader.bytes(*data, text.size());
                if (bytes &&
                    std::equal(text.begin(), text.end(), reinterpret_cast<const char*>(bytes->data())))
                    return std::string(text);
            }
            if (length && *length > 0 && *length < kMaxMessage)
                if (auto bytes = reader.bytes(*data, *length))
                    return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
            return "";
        }
    }
    if (gAddress == 0) return "";
    // A panic: g._panic.arg is an interface holding the value (src/runtime/runtime2.go _panic).
    const Type* gType = session.types().byName("runtime.g");
    const Type* panicType = session.types().byName("runtime._panic");
    if (gType == nullptr || panicType == nullptr) return "";
    const Field* panicField = gType->underlying()->field("_panic");
    const Field* argField = panicType->underlying()->field("arg");
    if (panicField == nullptr || argField == nullptr) return "";
    auto record = reader.u64(gAddress + panicField->offset);
    if (!record || *record == 0) return "";
    isPanic = true;
    auto typeWord = reader.u64(*record + argField->offset);
    auto dataWord = reader.u64(*record + argField->offset + 8);
    if (!typeWord || !dataWord || *typeWord == 0) return "";
    RuntimeTypeInfo info = session.runtimeType(*typeWord);
    // A string-kinded value (string, runtime.plainError, runtime.errorString) is boxed: the
    // data word points at its string header.
    if (info.kind == GoKind::String) {
        auto data = reader.u64(*dataWord);
        auto length = reader.u64(*dataWord + 8);
        if (data && length && *length < 4096)
            if (auto bytes = reader.bytes(*data, *length))
                return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    }
    return info.name.empty() ? "" : "(a value of type " + info.name + ")";
}

// Every goroutine inside a runtime map function (among its innermost runtime frames), with the
// map argument that function holds.
std::vector<MapInUse> mapsInUse(Session& session, const GoroutineTable& table,
                                const std::vector<MapRoot>& roots) {
    std::vector<MapInUse> inUse;
    for (const Goroutine& goroutine : table.goroutines()) {
        for (std::size_t i = 0; i < goroutine.frames.size(); ++i) {
            const StackFrame& frame = goroutine.frames[i];
            if (frame.function == nullptr || !isRuntime(frame.function->name)) break;
            if (!isMapFunction(frame.function->name)) continue;
            MapInUse use;
            use.goroutine = goroutine.id;
            use.function = std::string(frame.function->name);
            if (auto chosen = chooseMap(mapArgument(session, goroutine, i), roots)) {
                use.map = chosen->address;
                for (const MapRoot& root : roots)
                    if (root.mapAddress == chosen->address && chosen->address != 0 &&
                        std::find(use.mapRoots.begin(), use.mapRoots.end(), root.name) == use.mapRoots.end())
                        use.mapRoots.push_back(root.name);
            }
            use.userFrame = firstUserFrame(goroutine.frames, i + 1);
            inUse.push_back(std::move(use));
            break;
        }
    }
    return inUse;
}

std::string describeMapsInUse(const std::vector<MapInUse>& inUse) {
    if (inUse.empty()) return "no goroutine was inside a runtime map function: no map was involved";
    std::string text;
    for (const MapInUse& use : inUse) {
        std::string map = use.map ? fmt::format("map {:#x}", *use.map) : "a map";
        if (!use.mapRoots.empty()) map += " (" + use.mapRoots.front() + ")";
        text += fmt::format("{}goroutine {} was in {} on {}, called from {}", text.empty() ? "" : "; ",
                            use.goroutine, use.function, map, where(use.userFrame));
    }
    return text;
}

// A process killed from outside: the signal, the thread whose handler took it and what that
// thread was running (m.caughtsig, src/runtime/signal_unix.go sighandler), and which maps were
// in use at that moment.
void explainSignalFromOutside(Session& session, const std::vector<MapRoot>& roots, const SignalOrigin& origin,
                              CrashReport& crash) {
    const GoroutineTable* table = session.goroutines();
    crash.kind = crash_kinds::kKilledBySignal;
    crash.message = runtimeSignalName(origin.signal.signo);
    crash.thread = origin.tid;
    crash.reraisedByRuntime = origin.reraisedByRuntime;
    SentSignal sent;
    sent.signal = origin.signal.signo;
    sent.code = origin.signal.code;
    sent.senderPid = origin.signal.senderPid;
    sent.senderUid = origin.signal.senderUid;
    sent.thread = origin.tid;
    sent.fromCoreNote = origin.thread == nullptr || origin.thread->signals.empty();
    sent.interruptedFunction = origin.signal.interruptedFunction;
    if (origin.thread != nullptr) sent.m = origin.thread->mId;
    crash.sentSignal = sent;

    const Goroutine* g = nullptr;
    std::string running;
    if (origin.thread != nullptr && table != nullptr) {
        ThreadActivity activity = activityOf(*origin.thread);
        crash.goroutine = activity.goroutine;
        crash.onSystemStack = activity.onSystemStack;
        if (activity.g != 0) {
            g = table->byAddress(activity.g);
            if (g != nullptr) crash.goroutine = g->id;
        }
        if (activity.onSystemStack) {
            running = fmt::format("was on its system stack (goroutine {}){}", crash.goroutine.value_or(0),
                                  sent.interruptedFunction.empty() ? "" : " in " + sent.interruptedFunction);
            if (const Goroutine* user =
                    activity.onBehalfOf != 0 ? table->byAddress(activity.onBehalfOf) : nullptr)
                running += fmt::format(" on behalf of goroutine {} [{}]", user->id, user->state);
            else
                running += ", running the scheduler with no goroutine";
        }
    }
    if (g != nullptr) {
        crash.goroutineState = g->state;
        crash.crashFrame = firstUserFrame(g->frames);
        std::string innermost = !g->frames.empty() && g->frames.front().function != nullptr
                                    ? std::string(g->frames.front().function->name)
                                    : "unknown code";
        running = fmt::format("was running goroutine {} [{}] in {}", g->id, g->state, innermost);
        if (crash.crashFrame && crash.crashFrame->function != innermost)
            running += ", called from " + where(crash.crashFrame);
    } else if (running.empty()) {
        running = "was running no goroutine the runtime lists";
    }
    if (table != nullptr) crash.mapsInUse = mapsInUse(session, *table, roots);

    std::string sender =
        sent.senderPid ? fmt::format("sent by process {}", *sent.senderPid) : "sent by a process";
    if (sent.senderUid) sender += fmt::format(" (uid {}, {})", *sent.senderUid, senderCodeName(sent.code));
    std::string thread = fmt::format("thread {}", origin.tid);
    if (sent.m) thread += fmt::format(" (m={})", *sent.m);
    crash.explanation = fmt::format("killed by {} {}: {} {}; {}", crash.message, sender, thread, running,
                                    describeMapsInUse(crash.mapsInUse));
    if (crash.reraisedByRuntime)
        crash.explanation +=
            "; the runtime printed its traceback and then raised SIGABRT itself (GOTRACEBACK=crash)";
    if (sent.fromCoreNote)
        crash.notes.push_back(
            "no signal frame of the runtime's handler survives: the signal and its sender are the core's "
            "NT_SIGINFO");
}

// The fatal signal came on a thread running no goroutine: the runtime threw on its system stack
// (src/runtime/proc.go checkdead's "all goroutines are asleep - deadlock!", the scheduler's and
// the GC's own throws). The message is read from that thread's runtime.fatal/throw frame.
void explainThreadWithoutGoroutine(Session& session, const std::vector<MapRoot>& roots, CrashReport& crash) {
    const GoroutineTable* table = session.goroutines();
    const RuntimeThread* thread = nullptr;
    for (const ThreadState& state : session.target().threads())
        if (state.signal != 0 && table != nullptr) {
            for (const RuntimeThread& candidate : table->threads())
                if (candidate.tid == state.tid) thread = &candidate;
            break;
        }
    if (thread == nullptr) {
        crash.notes.push_back("no goroutine was running on the thread that took the fatal signal");
        crash.explanation = "the crashing goroutine could not be identified";
        return;
    }
    crash.thread = thread->tid;
    bool isPanic = false, fromThrow = false;
    crash.message = crashMessage(session, thread->systemFrames, 0, isPanic, fromThrow);
    if (!fromThrow || crash.message.empty()) {
        crash.notes.push_back("no goroutine was running on the thread that took the fatal signal");
        crash.explanation =
            fmt::format("the crashing goroutine could not be identified (thread {})", thread->tid);
        return;
    }
    crash.kind = crash_kinds::kRuntimeFatal;
    for (const KnownMessage& known : kMapMessages)
        if (crash.message == known.text) crash.kind = known.kind;
    crash.goroutine = 0;  // the M's g0, as the runtime's traceback names it
    crash.onSystemStack = true;
    // Where the runtime decided to die: the caller of its fatal/throw frame.
    std::string where = "the runtime";
    const std::vector<StackFrame>& frames = thread->systemFrames;
    for (std::size_t k = 0; k + 1 < frames.size(); ++k)
        if (frames[k].function != nullptr &&
            (frames[k].function->name == "runtime.fatal" || frames[k].function->name == "runtime.throw")) {
            if (frames[k + 1].function != nullptr) where = std::string(frames[k + 1].function->name);
            break;
        }
    if (table != nullptr) crash.mapsInUse = mapsInUse(session, *table, roots);
    std::string threadText = fmt::format("thread {}", thread->tid);
    if (thread->mId) threadText += fmt::format(" (m={})", *thread->mId);
    crash.explanation = fmt::format("fatal error: {} on {}, on its system stack in {} with no goroutine; {}",
                                    crash.message, threadText, where, describeMapsInUse(crash.mapsInUse));
}

}  // namespace

std::vector<std::int64_t> CrashReport::goroutinesInvolved() const {
    std::vector<std::int64_t> ids;
    if (goroutine) ids.push_back(*goroutine);
    for (const MapHolder& holder : others)
        ids.push_back(holder.goroutine);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

CrashReport explainCrash(Session& session, RunContext& run, const std::vector<MapRoot>& roots,
                         const std::vector<MapResult>& maps) {
    CrashReport crash;
    if (auto signal = session.target().signalInfo()) {
        crash.signal = signal->signo;
        crash.signalCode = signal->code;
        if (crash.signal == SIGSEGV || crash.signal == SIGBUS) crash.faultAddress = signal->faultAddress;
    } else {
        // A core without NT_SIGINFO (qemu-user's, some minimal dumpers'): the signal is the
        // pr_cursig of the thread that took it; its code and address are not recorded.
        for (const ThreadState& thread : session.target().threads())
            if (thread.signal != 0) {
                crash.signal = thread.signal;
                break;
            }
    }
    const GoroutineTable* table = session.goroutines();
    std::optional<int> ownPid;
    if (auto process = session.target().processInfo(); process && process->pid > 0) ownPid = process->pid;
    static const std::vector<RuntimeThread> kNoThreads;
    if (auto origin = signalFromOutside(session.target().threads(), session.target().signalInfo(), ownPid,
                                        table != nullptr ? table->threads() : kNoThreads)) {
        explainSignalFromOutside(session, roots, *origin, crash);
        return crash;
    }
    const Goroutine* g = table != nullptr ? table->crashing() : nullptr;
    if (g == nullptr) {
        explainThreadWithoutGoroutine(session, roots, crash);
        return crash;
    }
    crash.thread = g->thread;
    crash.goroutine = g->id;
    bool isPanic = false, fromThrow = false;
    crash.message = crashMessage(session, g->frames, g->address, isPanic, fromThrow);
    for (const KnownMessage& known : kMapMessages)
        if (crash.message == known.text) crash.kind = known.kind;
    if (auto oom = outOfMemoryMessage(crash.message); oom && !isPanic && crash.kind == crash_kinds::kOther) {
        crash.message = std::string(*oom);
        crash.kind = crash_kinds::kOutOfMemory;  // explained from the heap later (explainOutOfMemory)
    }
    // A panic's value is the program's own data (the runtime's map messages are constants).
    if (run.redact && isPanic && !crash.message.empty() && crash.kind == crash_kinds::kOther)
        crash.message = fmt::format("<panic value, {} bytes>", crash.message.size());

    // The Go-level fault: the first frame after runtime.sigpanic faulted, and the signal
    // the runtime turned into it is recorded in g.sig/sigcode0/sigcode1 (runtime2.go).
    std::optional<std::size_t> faultingFrame;
    for (std::size_t i = 0; i + 1 < g->frames.size(); ++i)
        if (g->frames[i].function != nullptr && g->frames[i].function->name == "runtime.sigpanic")
            faultingFrame = i + 1;
    if (faultingFrame) {
        const Type* gType = session.types().byName("runtime.g");
        Reader reader(session.memory());
        if (const Field* addr = gType != nullptr ? gType->underlying()->field("sigcode1") : nullptr)
            if (auto value = reader.u64(g->address + addr->offset)) crash.faultAddress = *value;
        if (const Field* sig = gType != nullptr ? gType->underlying()->field("sig") : nullptr)
            if (auto value = reader.u32(g->address + sig->offset); value && *value != 0)
                crash.signal = static_cast<int>(*value);
        // si_code too, where the target did not give it (a core without NT_SIGINFO, as
        // qemu-user's; LLDB's stop reason without a siginfo): the runtime copied it there.
        if (crash.signalCode == 0)
            if (const Field* code = gType != nullptr ? gType->underlying()->field("sigcode0") : nullptr)
                if (auto value = reader.u64(g->address + code->offset))
                    crash.signalCode = static_cast<int>(static_cast<std::int64_t>(*value));
    }

    // The map: from the innermost runtime map function frame whose map argument resolves.
    std::optional<std::size_t> mapFrame;
    for (std::size_t i = 0; i < g->frames.size(); ++i) {
        const StackFrame& frame = g->frames[i];
        if (frame.function == nullptr) continue;
        if (!isRuntime(frame.function->name)) break;  // past the runtime: user code
        if (!isMapFunction(frame.function->name)) continue;
        if (!mapFrame) mapFrame = i;  // the frame that touched the map, even if unreadable
        if (auto chosen = chooseMap(mapArgument(session, *g, i), roots)) {
            mapFrame = i;
            crash.map = chosen->address;
            crash.mapFromFallback = chosen->fromFallback;
            break;
        }
    }
    if (mapFrame) {
        crash.mapFunction = std::string(g->frames[*mapFrame].function->name);
        crash.userFrame = firstUserFrame(g->frames, *mapFrame + 1);
    }
    crash.crashFrame = firstUserFrame(g->frames);
    if (faultingFrame && mapFrame && *faultingFrame <= *mapFrame && crash.kind == crash_kinds::kOther)
        crash.kind = crash_kinds::kMapMemoryFault;
    if (crash.kind == crash_kinds::kOther && fromThrow) crash.kind = crash_kinds::kRuntimeFatal;
    crash.mapsInUse = mapsInUse(session, *table, roots);

    if (crash.kind == crash_kinds::kNilMapWrite) {
        crash.map = 0;
        // The variable: the map-typed variables in scope in the assigning frame.
        for (std::size_t i = mapFrame.value_or(0); i < g->frames.size(); ++i) {
            const StackFrame& frame = g->frames[i];
            if (frame.function == nullptr || isRuntime(frame.function->name)) continue;
            std::vector<std::string> candidates;
            for (const FrameVariable& v :
                 session.frameVariables().variables(frame, i > 0 ? &g->frames[i - 1] : nullptr))
                if (v.type != nullptr && v.type->kind == GoKind::Map) candidates.push_back(v.name);
            if (candidates.size() == 1) {
                crash.variable = candidates.front();
                crash.mapRoots.push_back(
                    fmt::format("goroutine {} {} {}", g->id, frame.function->name, crash.variable));
            } else if (candidates.size() > 1) {
                crash.notes.push_back(
                    "several map variables are in scope at the assignment; DWARF does not say which");
            }
            break;
        }
    } else if (crash.map && crash.kind != crash_kinds::kOther) {
        for (const MapRoot& root : roots)
            if (root.mapAddress == *crash.map &&
                std::find(crash.mapRoots.begin(), crash.mapRoots.end(), root.name) == crash.mapRoots.end())
                crash.mapRoots.push_back(root.name);
    }
    if (crash.kind != crash_kinds::kNilMapWrite && crash.kind != crash_kinds::kMapMemoryFault &&
        crash.kind != crash_kinds::kOther && crash.kind != crash_kinds::kRuntimeFatal) {
        // Other goroutines holding the same map: in a runtime map function on it, or in a
        // stack variable (roots named "goroutine N ...").
        for (const Goroutine& other : table->goroutines()) {
            if (&other == g || !crash.map) continue;
            MapHolder holder;
            holder.goroutine = other.id;
            for (std::size_t i = 0; i < other.frames.size() && holder.how.empty(); ++i) {
                const StackFrame& frame = other.frames[i];
                if (frame.function == nullptr || !isMapFunction(frame.function->name)) continue;
                for (const MapCandidate& candidate : mapArgument(session, other, i))
                    if (candidate.address == *crash.map)
                        holder.how = fmt::format("in {}", frame.function->name);
            }
            std::string prefix = fmt::format("goroutine {} ", other.id);
            for (const MapRoot& root : roots)
                if (holder.how.empty() && root.mapAddress == *crash.map && root.name.rfind(prefix, 0) == 0)
                    holder.how = "variable " + root.name.substr(prefix.size());
            if (holder.how.empty()) continue;
            holder.userFrame = firstUserFrame(other.frames);
            crash.others.push_back(std::move(holder));
        }
    }
    if (crash.kind == crash_kinds::kMapMemoryFault && crash.map && crash.faultAddress) {
        // Which of the map's pointers led to the fault: the structure node containing the
        // fault address, else the header field pointing closest below it.
        for (const MapResult& result : maps) {
            if (result.address != *crash.map) continue;
            std::uint64_t best = 0;
            for (const auto& [name, value] : result.header)
                if (value != 0 && value <= *crash.faultAddress && *crash.faultAddress - value < (1u << 20) &&
                    value >= best) {
                    best = value;
                    crash.field = name;
                }
        }
    }

    if (crash.map && *crash.map != 0)
        for (const MapResult& result : maps)
            if (result.address == *crash.map)
                for (const Finding& finding : result.findings())
                    crash.mapFindings.emplace_back(finding.rule, finding.address);

    // One sentence for people.
    std::string mapText;
    if (crash.map) {
        mapText = *crash.map == 0 ? "a nil map" : fmt::format("map {:#x}", *crash.map);
        if (!crash.mapRoots.empty()) mapText += " (" + crash.mapRoots.front() + ")";
    }
    if (crash.kind == crash_kinds::kOther || crash.kind == crash_kinds::kOutOfMemory) {
        crash.explanation = fmt::format(
            "{}{} in goroutine {} at {}; the crash itself involves no map", isPanic ? "panic: " : "",
            crash.message.empty() ? "crash" : crash.message, g->id, where(crash.crashFrame));
    } else if (crash.kind == crash_kinds::kRuntimeFatal) {
        crash.explanation = fmt::format("fatal error: {} in goroutine {} at {}; {}", crash.message, g->id,
                                        where(crash.crashFrame), describeMapsInUse(crash.mapsInUse));
    } else if (crash.kind == crash_kinds::kNilMapWrite) {
        crash.explanation =
            fmt::format("assignment to entry in nil map{} in goroutine {} at {}",
                        crash.variable.empty() ? "" : " " + crash.variable, g->id, where(crash.userFrame));
    } else if (crash.kind == crash_kinds::kMapMemoryFault) {
        crash.explanation = fmt::format("memory fault at {:#x} in {} on {}{}, called from {}",
                                        crash.faultAddress.value_or(0), crash.mapFunction, mapText,
                                        crash.field.empty() ? "" : " through its " + crash.field + " pointer",
                                        where(crash.userFrame));
        if (!crash.mapFindings.empty())
            crash.explanation +=
                fmt::format("; the map has {} finding{} (first: {})", crash.mapFindings.size(),
                            crash.mapFindings.size() > 1 ? "s" : "", crash.mapFindings.front().first);
    } else {
        crash.explanation = fmt::format("fatal error: {} on {} in goroutine {} at {}", crash.message, mapText,
                                        g->id, where(crash.userFrame));
        if (!crash.others.empty()) {
            std::string ids;
            for (const MapHolder& other : crash.others)
                ids += (ids.empty() ? "" : ", ") + std::to_string(other.goroutine);
            crash.explanation +=
                fmt::format("; goroutine{} {} hold{} the same map", crash.others.size() > 1 ? "s" : "", ids,
                            crash.others.size() > 1 ? "" : "s");
        }
    }
    if (crash.mapFromFallback)
        crash.notes.push_back(fmt::format(
            "the map pointer was read from {}'s argument spill slot (no DWARF location)", crash.mapFunction));
    return crash;
}

const Type* crashMapType(Session& session, const CrashReport& crash) {
    const GoroutineTable* table = session.goroutines();
    const Goroutine* g = table != nullptr ? table->crashing() : nullptr;
    if (g == nullptr || crash.mapFunction.empty() || !crash.map || *crash.map == 0) return nullptr;
    Reader reader(session.memory());
    auto mapType = [&](std::optional<std::uint64_t> descriptor) -> const Type* {
        if (!descriptor || *descriptor == 0) return nullptr;
        const Type* type = session.dynamicType(*descriptor);
        return type != nullptr && type->kind == GoKind::Map ? type : nullptr;
    };
    for (std::size_t i = 0; i < g->frames.size(); ++i) {
        const StackFrame& frame = g->frames[i];
        if (frame.function == nullptr || frame.function->name != crash.mapFunction) continue;
        // The map function's own parameters, then its runtime callers' (Go 1.24's (*Iter).Next
        // keeps no location for its receiver; runtime.mapIterNext's it may have one).
        for (std::size_t j = i; j < g->frames.size(); ++j) {
            const StackFrame& caller = g->frames[j];
            if (caller.function == nullptr || !isRuntime(caller.function->name)) break;
            for (const FrameVariable& v :
                 session.frameVariables().variables(caller, j > 0 ? &g->frames[j - 1] : nullptr)) {
                if (!v.parameter || v.function != caller.function->name || !v.address) continue;
                if (v.name == "t" || v.name == "typ")
                    if (const Type* type = mapType(reader.u64(*v.address))) return type;
                if (v.name == "it")
                    if (auto it = reader.u64(*v.address); it && *it != 0)
                        if (const Type* type = mapType(iteratorWord(reader, *it, v.type, {"t", "typ"})))
                            return type;
            }
        }
        // No DWARF location at the call that threw: the first argument's spill slot at argp (the
        // caller's outgoing argument area, src/cmd/compile/abi-internal.md) of the map function
        // and its runtime callers, which holds the map type of mapaccess*/mapassign*/mapdelete*
        // (t, typ first) and the iterator of mapiternext / mapIterNext / (*Iter).Next. Slots can
        // be stale, so only a descriptor of a map type counts, and an iterator only through the
        // runtime's iterator types.
        for (std::size_t j = i; j < g->frames.size(); ++j) {
            const StackFrame& caller = g->frames[j];
            if (caller.function == nullptr || !isRuntime(caller.function->name)) break;
            const std::optional<std::uint64_t> first = reader.u64(caller.argp);
            if (const Type* type = mapType(first)) return type;
            if (!first || *first == 0) continue;
            for (const char* iterator :
                 {"runtime.hiter", "internal/runtime/maps.Iter", "runtime.linknameIter"})
                if (const Type* iterType = session.types().byName(iterator))
                    if (const Type* type = mapType(iteratorWord(reader, *first, iterType, {"t", "typ"})))
                        return type;
        }
        return nullptr;
    }
    return nullptr;
}

}  // namespace gomapcore
