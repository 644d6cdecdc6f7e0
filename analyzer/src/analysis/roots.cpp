#include "analysis/roots.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "analysis/map_recognition.h"
#include "analysis/reachability.h"
#include "analysis/stack_object_maps.h"

namespace gomapcore {
namespace {

// Whether a frame variable at [address, address + size) may hold a value the function wrote.
// DWARF gives a stack variable one location for its whole scope, but until the function
// writes it the slot holds whatever an earlier frame left there: on real programs' cores such
// slots read as slices of millions of elements or maps at ASCII text. The garbage collector
// trusts a slot only where the frame's pointer maps say it is live, and so does this; a slot
// of an address-taken variable (a stack object) is zeroed on entry and always readable.
class FrameSlots {
  public:
    // The frame's stack objects and its pointer maps at its pc, read once for all its variables.
    FrameSlots(const GoSymbols& symbols, const StackFrame& frame, std::uint64_t stackLo,
               std::uint64_t stackHi)
        : frame_(frame),
          stackLo_(stackLo),
          stackHi_(stackHi),
          objects_(symbols.stackObjects(*frame.function)),
          live_(symbols.livePointers(*frame.function, frame.symbolPc)) {}

    // On the goroutine's stack below the frame's SP: the frame is not there, not yet (a
    // prologue) or not any more (an epilogue: seen on a real gofmt core, a runnable goroutine
    // preempted in go/printer.(*Config).fprint after its ADDQ $size, SP, its frame 8 bytes,
    // where DWARF's frame-relative location of the stack object p read another call's words
    // as a map pointer). Nothing there belongs to this frame, stack objects included.
    bool belowStackPointer(std::uint64_t address) const { return address >= stackLo_ && address < frame_.sp; }

    bool written(std::uint64_t address, std::uint64_t size) const {
        if (belowStackPointer(address)) return false;
        // A location off the goroutine's stack (a closure's captures) is no slot of this frame.
        if (address < frame_.sp || address >= stackHi_) return true;
        for (const StackObject& object : objects_) {
            std::uint64_t start = frame_.addressOf(object);
            if (address < start + static_cast<std::uint64_t>(object.size) && start < address + size)
                return true;
        }
        if (!live_) return true;  // no maps to judge by: keep the variable, as before
        std::uint64_t base = 0;
        const std::vector<bool>* bits = nullptr;
        if (address < frame_.varp) {
            bits = &live_->locals;
            base = frame_.varp - 8 * bits->size();
        } else if (address >= frame_.argp) {
            bits = &live_->args;
            base = frame_.argp;
        } else {
            return true;  // the saved frame pointer and return address hold no variable
        }
        for (std::uint64_t word = address & ~std::uint64_t{7};
             word < address + std::max<std::uint64_t>(size, 1); word += 8) {
            if (word < base) continue;
            std::uint64_t index = (word - base) / 8;
            if (index < bits->size() && (*bits)[index]) return true;
        }
        return false;
    }

  private:
    const StackFrame& frame_;
    std::uint64_t stackLo_, stackHi_;
    std::vector<StackObject> objects_;
    std::optional<GoSymbols::LivePointers> live_;
};

// A slot the pointer maps call dead was usually written and then last used (a map handed to
// closures stays in its maker's frame, dead), but may never have been written, or point at an
// object freed and reused since: followed as its type says, such a pointer reads another
// object's words as slices of billions of elements (seen on real programs' cores). The
// garbage collector does not follow dead slots, and neither does the search, except for a
// map variable whose value is the start of an allocated heap object of a map header's size:
// the header is then validated like any map. Maps only dead slots lead to are still found by
// the unreached-map scan.
bool deadSlotHoldsMapHeader(const HeapModel& heap, const Reader& reader, const Type* type,
                            std::uint64_t address) {
    if (type->kind != GoKind::Map) return false;
    const Type* pointer = type->underlying();
    const Type* header = pointer != nullptr && pointer->target != nullptr ? pointer->target : nullptr;
    auto value = reader.u64(address);
    if (header == nullptr || !value) return false;
    if (*value == 0) return true;                    // a nil map: nothing to follow
    constexpr std::uint64_t kSizeClassSpacing = 32;  // size classes near a map header's are 16 apart
    HeapAddress where = heap.classify(*value);
    return where.kind == HeapAddressKind::InUseObjectAllocated && !where.garbage &&
           where.objectStart == *value && where.objectSize >= header->byteSize() &&
           where.objectSize < header->byteSize() + kSizeClassSpacing;
}

// The closure pointer a goroutine resumes with, g.sched.ctxt, which the GC scans as a root
// (src/runtime/mgcmark.go scanstack): for a goroutine that never ran, the func value of its go
// statement (src/runtime/proc.go newproc1, gostartcallfn), named "goroutine N start".
void addContextRoot(const Goroutine& goroutine, const Reader& reader, Reachability& reach) {
    if (goroutine.contextSlot == 0 || goroutine.system) return;
    auto context = reader.u64(goroutine.contextSlot);
    if (!context || *context == 0) return;
    const bool neverRan = goroutine.schedPc != 0 && goroutine.schedPc == goroutine.startPc;
    reach.addFuncValueRoot(fmt::format("goroutine {} {}", goroutine.id, neverRan ? "start" : "sched.ctxt"),
                           RootKind::Stack, goroutine.contextSlot,
                           neverRan ? RootOrigin::GoroutineStart : RootOrigin::Goroutine);
}

// How many closures a note names at most.
constexpr std::size_t kNamedUnplacedClosures = 5;

// Whether a closure object holds more than its code pointer: a heap object of more than one
// word. A function literal that captures nothing has a static funcval in read-only data.
bool capturesSomething(Session& session, std::uint64_t funcval) {
    const HeapModel* heap = session.heap();
    auto object = heap != nullptr ? heap->objectWithDataAt(funcval) : std::nullopt;
    return object && object->dataSize() > 8;
}

// What an untyped pointer leads to, as far as the heap says (UntypedTarget): the type a malloc
// header or a large span records (Go 1.22+), when that type's size is the DWARF type's; else,
// from the span's heap bits (Go 1.22+), a map header, or a one-word object holding a pointer to
// one, that validates as a map. Recognitions are memoized and bounded.
// A slice's backing array is one allocation: the heap slot its data lies in bounds it. An
// in-use span's slot is known whether or not the core says it is allocated.
SliceBacking sliceBacking(const HeapModel& heap, std::uint64_t data) {
    HeapAddress where = heap.classify(data);
    if (where.objectSize != 0)
        return SliceBacking{SliceBacking::Kind::HeapSlot, where.objectStart + where.objectSize};
    if (where.kind == HeapAddressKind::SpanTail) return SliceBacking{SliceBacking::Kind::NoObject, 0};
    return SliceBacking{};
}

class UntypedPointers {
  public:
    UntypedPointers(Session& session, RunContext& run) : session_(session), run_(run) {}

    std::optional<UntypedTarget> operator()(std::uint64_t pointer) {
        const HeapModel* heap = session_.heap();
        auto object = heap != nullptr ? heap->objectWithDataAt(pointer) : std::nullopt;
        if (!object) return std::nullopt;
        if (auto descriptor = heap->recordedType(*object)) {
            const Type* type = session_.dynamicType(*descriptor);
            auto shape = session_.runtimeTypeShape(*descriptor);
            if (type == nullptr || !shape || shape->size == 0 || type->byteSize() != shape->size)
                return std::nullopt;
            // newarray records the element type: the object holds as many as fit.
            return UntypedTarget{type, object->dataSize() / shape->size, UntypedTarget::Recognised::No, {}};
        }
        auto words = heap->objectPointerWords(object->start);
        if (!words) return std::nullopt;
        if (auto target = recognise(*heap, *object, *words)) {
            target->recognised = UntypedTarget::Recognised::MapHeader;
            return target;
        }
        // A map variable whose address was taken: one word, a pointer (the heap bits say so).
        auto inner = object->size == 8 && *words == std::vector<bool>{true}
                         ? Reader(session_.memory()).u64(object->start)
                         : std::nullopt;
        auto header = inner ? heap->objectWithDataAt(*inner) : std::nullopt;
        auto headerWords = header ? heap->objectPointerWords(header->start) : std::nullopt;
        if (!headerWords) return std::nullopt;
        auto target = recognise(*heap, *header, *headerWords);
        if (target) target->recognised = UntypedTarget::Recognised::MapVariable;
        return target;
    }
    // Says in a note when the bound cut recognitions.
    void report() {
        if (!bounded_) return;
        run_.notes.push_back(
            fmt::format("untyped pointers: only the first {} objects behind them were tried as map headers",
                        kMaxRecognitions));
    }

  private:
    // At most this many objects are validated as map headers (each against every map type).
    static constexpr std::size_t kMaxRecognitions = 1024;

    // The map types the object at header validates as, narrowed by its storage, when the
    // object has a map header's size class and pointer words.
    std::optional<UntypedTarget> recognise(const HeapModel& heap, const HeapObject& header,
                                           const std::vector<bool>& words) {
        const Type* headerType = session_.mapHeaderType();
        if (headerType == nullptr || header.mallocHeader()) return std::nullopt;
        const std::uint64_t size = headerType->byteSize();
        std::vector<bool> expected;
        if (!markPointerWords(headerType, 0, expected)) return std::nullopt;
        while (!expected.empty() && !expected.back())
            expected.pop_back();
        // The header's own size class (runtime/map.go makemap: new(hmap); maps.NewMap: new(Map)).
        constexpr std::uint64_t kSizeClassSpacing = 16;
        if (header.size < size || header.size >= size + kSizeClassSpacing || words != expected)
            return std::nullopt;
        auto memo = recognised_.find(header.start);
        if (memo != recognised_.end()) return memo->second;
        std::optional<UntypedTarget>& result = recognised_[header.start];
        if (recognised_.size() > kMaxRecognitions) {
            bounded_ = true;
            return result;
        }
        std::vector<const Type*> types;
        for (const Type* type : programMapTypes(heap))
            if (validatesAsMap(session_, header.start, type, run_.limits)) types.push_back(type);
        if (!types.empty()) types = narrowByStorage(session_, header.start, types);
        if (types.empty()) return result;
        result = UntypedTarget{types.front(), 1, UntypedTarget::Recognised::No, {}};
        if (types.size() > 1)
            for (const Type* type : types)
                result->typeCandidates.push_back(type->name);
        return result;
    }
    // Every map type of the program's layout; go.shape.* are the compiler's generic shapes.
    const std::vector<const Type*>& programMapTypes(const HeapModel&) {
        if (mapTypes_) return *mapTypes_;
        mapTypes_.emplace();
        for (const std::string& name : session_.types().mapTypeNames()) {
            if (name.find("go.shape.") != std::string::npos) continue;
            const Type* type = session_.types().byName(name);
            const MapTypeLayout* layout = type ? session_.layouts().layoutFor(type, nullptr) : nullptr;
            if (layout != nullptr && layout->kind == session_.programLayout()) mapTypes_->push_back(type);
        }
        return *mapTypes_;
    }

    Session& session_;
    RunContext& run_;
    std::unordered_map<std::uint64_t, std::optional<UntypedTarget>> recognised_;
    std::optional<std::vector<const Type*>> mapTypes_;
    bool bounded_ = false;
};

// Every goroutine frame's DWARF variables (outside the runtime) as roots of the search.
// Every goroutine frame's DWARF variable that may hold a value (see FrameSlots), with its
// name ("goroutine 7 main.main.func1 m") and where its value lies. Map variables that are not
// captured are said in notes, when given.
template <typename Visit>
void forEachStackVariable(Session& session, std::vector<std::string>* notes, Visit&& visit) {
    const GoroutineTable* table = session.goroutines();
    if (table == nullptr) return;
    const GoSymbols* symbols = session.symbols();
    const HeapModel* heap = session.heap();
    Reader reader(session.memory());
    for (const Goroutine& goroutine : table->goroutines()) {
        for (std::size_t i = 0; i < goroutine.frames.size(); ++i) {
            const StackFrame& frame = goroutine.frames[i];
            if (frame.function == nullptr || runtimeInternal(frame.function->name)) continue;
            const StackFrame* callee = i > 0 ? &goroutine.frames[i - 1] : nullptr;
            std::optional<FrameSlots> slots;
            if (symbols != nullptr && heap != nullptr)
                slots.emplace(*symbols, frame, goroutine.stackLo, goroutine.stackHi);
            for (const FrameVariable& variable : session.frameVariables().variables(frame, callee)) {
                if (variable.type == nullptr || !variable.address) continue;
                if (slots && slots->belowStackPointer(*variable.address)) continue;
                if (slots && !variable.byReference &&
                    !slots->written(*variable.address, variable.type->byteSize()) &&
                    !deadSlotHoldsMapHeader(*heap, reader, variable.type, *variable.address))
                    continue;
                std::string name =
                    fmt::format("goroutine {} {} {}", goroutine.id, variable.function, variable.name);
                std::optional<std::uint64_t> address = *variable.address;
                if (variable.byReference) address = reader.u64(*address);
                if (!address) {
                    if (variable.type->kind == GoKind::Map && notes != nullptr)
                        notes->push_back(fmt::format("{} is not captured; its map cannot be read", name));
                    continue;
                }
                visit(std::move(name), *address, variable.type);
            }
        }
    }
}

void addStackRoots(Session& session, RunContext& run, Reachability& reach) {
    if (const GoroutineTable* table = session.goroutines(); table != nullptr && run.reach.followClosures) {
        Reader reader(session.memory());
        for (const Goroutine& goroutine : table->goroutines())
            addContextRoot(goroutine, reader, reach);
    }
    forEachStackVariable(session, &run.notes,
                         [&reach](std::string name, std::uint64_t address, const Type* type) {
                             reach.addRoot(name, RootKind::Stack, address, type);
                         });
}

// The slice {data, len} of field name of the struct at address, typed by DWARF; nullopt when
// the DWARF has no such slice or it is not captured.
struct SliceValue {
    std::uint64_t data = 0, length = 0;
    const Type* element = nullptr;
};
std::optional<SliceValue> sliceField(const Reader& reader, std::uint64_t address, const Field* field) {
    if (field == nullptr || field->type == nullptr) return std::nullopt;
    const Type* slice = field->type->underlying();
    const Field* array = slice->field("array");
    const Field* length = slice->field("len");
    if (slice->kind != GoKind::Slice || array == nullptr || length == nullptr || array->type == nullptr)
        return std::nullopt;
    auto data = reader.u64(address + field->offset + array->offset);
    auto len = reader.u64(address + field->offset + length->offset);
    const Type* element = array->type->underlying()->target;
    if (!data || !len || element == nullptr || element->byteSize() == 0) return std::nullopt;
    return SliceValue{*data, *len, element};
}

// The callbacks of time.AfterFunc timers, which only the runtime's timer heaps may reach:
// every P's timers (src/runtime/time.go: p.timers.heap []timerWhen from Go 1.23, p.timers
// []*timer before), a timer whose f is time.goFunc having the user's func as its arg
// (src/time/sleep.go AfterFunc). Named "timer (time.AfterFunc).arg".
void addTimerRoots(Session& session, RunContext& run, Reachability& reach) {
    constexpr std::uint64_t kMaxPs = 1 << 16, kMaxTimers = 1 << 20;
    TypeTable& types = session.types();
    const GlobalVariable* allp = types.global("runtime.allp");
    const Type* p = types.byName("runtime.p");
    const Type* timer = types.byName("runtime.timer");
    const GoSymbols* functions = session.symbols();
    if (allp == nullptr || p == nullptr || timer == nullptr || functions == nullptr) return;
    const Field* timers = p->field("timers");
    const Field* f = timer->field("f");
    const Field* arg = timer->field("arg");
    if (timers == nullptr || f == nullptr || arg == nullptr || timers->type == nullptr) return;
    Reader reader(session.memory());
    const Field whole{"allp", 0, allp->type};
    auto ps = sliceField(reader, allp->address + session.loadBias(), &whole);
    if (!ps) return;
    // Go 1.23+: a struct whose heap holds timerWhen {timer *timer; when int64}.
    const Field* heap = timers->type->underlying()->field("heap");
    std::uint64_t seen = 0;
    for (std::uint64_t i = 0; i < std::min(ps->length, kMaxPs); ++i) {
        auto pp = reader.u64(ps->data + 8 * i);
        if (!pp || *pp == 0) continue;
        std::optional<SliceValue> list = heap != nullptr ? sliceField(reader, *pp + timers->offset, heap)
                                                         : sliceField(reader, *pp, timers);
        if (!list) continue;
        const Field* inWhen = heap != nullptr ? list->element->field("timer") : nullptr;
        for (std::uint64_t j = 0; j < list->length; ++j) {
            if (++seen > kMaxTimers) {
                run.notes.push_back(
                    fmt::format("timers: only the first {} timers were looked at", kMaxTimers));
                return;
            }
            auto t = reader.u64(list->data + j * list->element->byteSize() + (inWhen ? inWhen->offset : 0));
            auto funcval = t && *t != 0 ? reader.u64(*t + f->offset) : std::nullopt;
            auto code = funcval && *funcval != 0 ? reader.u64(*funcval) : std::nullopt;
            const GoFunction* callback = code ? functions->functionAt(*code) : nullptr;
            if (callback == nullptr || callback->name != "time.goFunc") continue;
            reach.addRoot("timer (time.AfterFunc).arg", RootKind::Heap, *t + arg->offset, arg->type,
                          RootOrigin::Timer);
        }
    }
}

}  // namespace

std::vector<MapRoot> findRoots(Session& session, RunContext& run) {
    Reachability reach(session.memory(), session.layouts(), run.reach, run.limits,
                       [&session](std::uint64_t descriptor) { return session.dynamicType(descriptor); });
    reach.setRedactKeys(run.redact);
    // Closures met whose captured variables the DWARF does not place (an executable older than
    // Go 1.23): said in a note, their maps being left to the unreached-map scan.
    std::set<std::string> unplaced;
    if (run.reach.followClosures)
        reach.setClosureResolver([&session, &unplaced](std::uint64_t funcval, std::uint64_t code) {
            const ClosureLayout* closure = session.closureAt(code);
            if (closure == nullptr && unplaced.size() < kNamedUnplacedClosures &&
                capturesSomething(session, funcval)) {
                const GoFunction* function =
                    session.symbols() ? session.symbols()->functionAt(code) : nullptr;
                if (function != nullptr && !session.frameVariables().hasClosureOffsets())
                    unplaced.emplace(function->name);
            }
            return closure;
        });
    UntypedPointers untyped(session, run);
    if (run.reach.followUntypedPointers)
        reach.setUntypedPointerResolver([&untyped](std::uint64_t pointer) { return untyped(pointer); });
    if (const HeapModel* heap = session.heap())
        reach.setSliceBackingResolver([heap](std::uint64_t data) { return sliceBacking(*heap, data); });
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
    if (run.reach.followClosures) addTimerRoots(session, run, reach);
    reach.run();
    untyped.report();
    if (!unplaced.empty()) {
        std::string names;
        for (const std::string& name : unplaced)
            names += (names.empty() ? "" : ", ") + name;
        run.notes.push_back(fmt::format(
            "closures: the executable's DWARF does not place captured variables (DW_AT_go_closure_offset "
            "comes with Go 1.23), so func values pointing at closures ({}) are not followed; maps only they "
            "hold are left to the unreached-map scan",
            names));
    }
    if (reach.impossibleSlices() > 0)
        run.notes.push_back(fmt::format(
            "{} value(s) typed as slices were not followed: their len exceeds their cap, or their cap runs "
            "past the heap slot or mapping their data lies in (mostly stack slots their function has not "
            "written yet)",
            reach.impossibleSlices()));
    for (const std::string& limit : reach.limitsHit()) {
        run.notes.push_back(fmt::format("the search for maps stopped early: limit {} reached", limit));
        run.limitsHit.push_back(limit);
    }
    std::vector<MapRoot> roots = reach.maps();
    addStackObjectMaps(session, run, roots);
    return roots;
}

std::vector<MapRoot> findDirectMapRoots(Session& session) {
    std::vector<MapRoot> roots;
    Reader reader(session.memory());
    auto add = [&](std::string name, RootKind kind, std::uint64_t variable, const Type* type) {
        if (type->kind != GoKind::Map) return;
        // A map variable holds the header pointer (nil for a nil map); one not captured is
        // left to findRoots, which says so.
        if (auto header = reader.u64(variable))
            roots.push_back(MapRoot{std::move(name),
                                    kind,
                                    *header,
                                    type,
                                    false,
                                    {},
                                    kind == RootKind::Stack ? RootOrigin::Goroutine : RootOrigin::Global,
                                    0});
    };
    for (const GlobalVariable& global : session.types().globals())
        if (global.type != nullptr && !runtimeInternal(global.name))
            add(global.name, RootKind::Global, global.address + session.loadBias(), global.type);
    // findRoots notes what is not captured, once.
    forEachStackVariable(session, nullptr, [&](std::string name, std::uint64_t address, const Type* type) {
        add(std::move(name), RootKind::Stack, address, type);
    });
    return roots;
}

}  // namespace gomapcore
