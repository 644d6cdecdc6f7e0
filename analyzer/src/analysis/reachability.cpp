#include "analysis/reachability.h"

#include <fmt/format.h>

#include <algorithm>

#include "binary/value_text.h"
#include "maps/walkers.h"

namespace gomapcore {

namespace {

// The compiler stores a value directly in an interface's data word when its type is
// pointer-shaped: a pointer, map, chan, func or unsafe.Pointer, or a struct or array holding
// exactly one such thing (src/cmd/compile/internal/types/type.go IsDirectIface). Decided from
// the DWARF shape because the flag recording it moved between Go versions.
bool pointerShaped(const Type* type, int depth = 0) {
    if (type == nullptr || depth > 16) return false;
    if (type->kind == GoKind::Map) return true;
    const Type* u = type->underlying();
    switch (u->kind) {
        case GoKind::Pointer:
        case GoKind::Chan:
        case GoKind::Func:
        case GoKind::UnsafePointer:
        case GoKind::Map:
            return true;
        case GoKind::Struct:
            return u->fields.size() == 1 && pointerShaped(u->fields.front().type, depth + 1);
        case GoKind::Array:
            return u->count == 1 && pointerShaped(u->target != nullptr ? u->target : u->elem, depth + 1);
        default:
            return false;
    }
}

// A func value as roots outside DWARF hold it (g.sched.ctxt): one word, a *funcval.
const Type* funcValueType() {
    static const Type type = [] {
        Type t;
        t.tag = TypeTag::Base;
        t.kind = GoKind::Func;
        t.name = "func()";
        t.size = 8;
        t.hasSize = true;
        return t;
    }();
    return &type;
}

}  // namespace

const char* toString(RootOrigin origin) {
    switch (origin) {
        case RootOrigin::Global:
            return "global";
        case RootOrigin::Goroutine:
            return "goroutine";
        case RootOrigin::GoroutineStart:
            return "goroutine-start";
        case RootOrigin::Timer:
            return "timer";
    }
    return "global";
}

std::vector<std::string> hopNames(std::uint8_t hops) {
    std::vector<std::string> names;
    if (hops & kThroughClosure) names.emplace_back("closure");
    if (hops & kThroughMethodValue) names.emplace_back("method-value");
    if (hops & (kThroughUntypedPointer | kThroughRecognisedMap)) names.emplace_back("untyped-pointer");
    return names;
}

Reachability::Reachability(const Memory& memory, LayoutCatalog& layouts, const ReachLimits& limits,
                           const WalkLimits& walkLimits, DynamicTypeResolver resolver)
    : memory_(memory),
      layouts_(layouts),
      limits_(limits),
      walkLimits_(walkLimits),
      resolver_(std::move(resolver)) {}

void Reachability::addRoot(const std::string& name, RootKind kind, std::uint64_t address, const Type* type,
                           std::optional<RootOrigin> origin) {
    if (type == nullptr) return;
    RootOrigin from = origin.value_or(kind == RootKind::Stack ? RootOrigin::Goroutine : RootOrigin::Global);
    enqueue(Pending{name, kind, address, type, from, 0});
}

void Reachability::addFuncValueRoot(const std::string& name, RootKind kind, std::uint64_t address,
                                    RootOrigin origin) {
    enqueue(Pending{name, kind, address, funcValueType(), origin, 0});
}

bool Reachability::enqueue(Pending item, bool front) {
    // What one queued value keeps alive: its queue entry and path while it waits, and its
    // entry in visited_ afterwards (an estimate). Charged when it is queued, not when it is
    // expanded: one slice or map can queue millions of elements before the first is expanded,
    // and that queue is what exhausts memory on a real program's core.
    constexpr std::size_t kVisitedEntryBytes = 64;
    if (budgetSpent_) return false;
    if (AnalysisBudget* budget = limits_.budget) {
        if (!budget->charge(sizeof(Pending) + item.path.size() + kVisitedEntryBytes)) {
            hitLimit(budget->memoryLimitName());
            budgetSpent_ = true;
            return false;
        }
    }
    if (front)
        queue_.push_front(std::move(item));
    else
        queue_.push_back(std::move(item));
    peakQueued_ = std::max(peakQueued_, queue_.size());
    return true;
}

bool Reachability::firstVisit(std::uint64_t address, const Type* type) {
    auto& seen = visited_[address];
    if (std::find(seen.begin(), seen.end(), type) != seen.end()) return false;
    if (objectsVisited_ >= limits_.maxObjects) {
        hitLimit("max-objects");
        return false;
    }
    seen.push_back(type);
    ++objectsVisited_;
    return true;
}

void Reachability::hitLimit(const std::string& what) {
    if (std::find(limitsHit_.begin(), limitsHit_.end(), what) == limitsHit_.end()) limitsHit_.push_back(what);
}

std::uint64_t Reachability::elementsToFollow(std::uint64_t count) {
    if (count <= limits_.maxElementsPerArray) return count;
    hitLimit("max-elements-per-array");
    return limits_.maxElementsPerArray;
}

bool Reachability::untypedField(const Field& field) const {
    // A uintptr is followed as a struct field (or a root) only: arrays and slices of them (pcs,
    // hashes, bitmaps) are numbers far more often than pointers, and large.
    return untyped_ && field.type != nullptr && field.type->underlying()->kind == GoKind::Uintptr;
}

bool Reachability::mayHoldPointers(const Type* type) {
    if (type == nullptr) return false;
    auto memo = pointerMemo_.find(type);
    if (memo != pointerMemo_.end()) return memo->second;
    pointerMemo_[type] = false;  // breaks recursion through named types
    bool result = false;
    const Type* u = type->kind == GoKind::Map || type->kind == GoKind::Interface || type->kind == GoKind::Chan
                        ? type
                        : type->underlying();
    switch (u->kind) {
        case GoKind::Pointer:
        case GoKind::Map:
        case GoKind::Slice:
        case GoKind::Interface:
            result = true;
            break;
        case GoKind::Struct:
            if (const Type* target = atomicPointerTarget(u)) {
                result = mayHoldPointers(target);
                break;
            }
            for (const Field& field : u->fields)
                if (mayHoldPointers(field.type) || untypedField(field)) result = true;
            break;
        case GoKind::Func:
            result = static_cast<bool>(closures_);
            break;
        case GoKind::UnsafePointer:
            result = static_cast<bool>(untyped_);
            break;
        case GoKind::Chan:
            // Only the buffered elements are followed.
            result = mayHoldPointers(type->elem);
            break;
        case GoKind::Array:
            result = u->count > 0 && mayHoldPointers(u->target != nullptr ? u->target : u->elem);
            break;
        default:
            // Strings are pointers too, but nothing typed lies behind them.
            result = false;
    }
    pointerMemo_[type] = result;
    return result;
}

void Reachability::run() {
    while (!queue_.empty() && !budgetSpent_) {
        Pending item = std::move(queue_.front());
        queue_.pop_front();
        if (AnalysisBudget* budget = limits_.budget; budget != nullptr && budget->timeUp()) {
            hitLimit(budget->timeLimitName());
            break;
        }
        expand(item);
    }
    queue_.clear();
}

void Reachability::expand(const Pending& item) {
    Reader reader(memory_);
    // A map type is a typedef of its header pointer; its kind says Map before typedefs are
    // followed (src/cmd/link/internal/ld/dwarf.go synthesizes them that way).
    // Likewise an interface type is a typedef of runtime.eface/iface, a plain struct.
    if (item.type->kind == GoKind::Interface) {
        expandInterface(item, item.type);
        return;
    }
    // And a channel type is a typedef of *hchan<T>, whose buffer DWARF leaves untyped.
    if (item.type->kind == GoKind::Chan) {
        expandChannel(item, item.type);
        return;
    }
    const Type* type = item.type->kind == GoKind::Map ? item.type : item.type->underlying();
    RootKind childKind = RootKind::Heap;
    switch (type->kind) {
        case GoKind::Map: {
            auto header = reader.u64(item.address);
            if (!header) return;
            MapRoot root{item.path, item.kind, *header, item.type, false, {}, item.origin, item.through};
            if (item.through & kThroughRecognisedMap) {
                root.heuristic = true;
                auto candidates = recognisedCandidates_.find(*header);
                if (candidates != recognisedCandidates_.end()) root.typeCandidates = candidates->second;
            }
            // A map of unknown type among several is not followed into its entries.
            const bool typeKnown = root.typeCandidates.empty();
            maps_.push_back(std::move(root));
            if (*header != 0 && typeKnown) expandMapEntries(item, *header, item.type);
            return;
        }
        case GoKind::Pointer: {
            const Type* target = type->target;
            if (target == nullptr || !mayHoldPointers(target)) return;
            auto pointer = reader.u64(item.address);
            if (!pointer || *pointer == 0) return;
            // A new object: visit each (address, type) once.
            if (!firstVisit(*pointer, target)) return;
            // Go dereferences pointers to structs implicitly, and names read the same way.
            enqueue(Pending{item.path, childKind, *pointer, target, item.origin, item.through});
            return;
        }
        case GoKind::Struct:
            if (const Type* target = atomicPointerTarget(type)) {
                // sync/atomic.Pointer[T] keeps its *T in an unsafe.Pointer v; T is declared.
                const Field* v = type->field("v");
                enqueue(Pending{item.path + ".v", item.kind, item.address + v->offset, target, item.origin,
                                item.through},
                        true);
                return;
            }
            for (const Field& field : type->fields) {
                if (!mayHoldPointers(field.type) && !untypedField(field)) continue;
                // Embedded fields read as the outer name in Go source only when promoted;
                // naming the field keeps the path unambiguous.
                if (!enqueue(Pending{item.path + "." + field.name, item.kind, item.address + field.offset,
                                     field.type, item.origin, item.through},
                             true))
                    return;
            }
            return;
        case GoKind::Array: {
            const Type* element = type->target != nullptr ? type->target : type->elem;
            if (element == nullptr || !mayHoldPointers(element)) return;
            std::uint64_t size = element->byteSize();
            std::uint64_t count = elementsToFollow(type->count);
            for (std::uint64_t i = 0; i < count; ++i)
                if (!enqueue(Pending{fmt::format("{}[{}]", item.path, i), item.kind, item.address + i * size,
                                     element, item.origin, item.through}))
                    return;
            return;
        }
        case GoKind::Slice:
            expandSlice(item, type);
            return;
        case GoKind::Func:
            expandFuncValue(item);
            return;
        case GoKind::UnsafePointer:
        case GoKind::Uintptr:
            expandUntypedPointer(item);
            return;
        default:
            return;
    }
}

void Reachability::expandSlice(const Pending& item, const Type* sliceType) {
    // A slice is {array *T, len, cap} (src/runtime/slice.go); DWARF names the first field
    // "array" and types it *T.
    const Field* array = sliceType->field("array");
    const Field* length = sliceType->field("len");
    const Field* capacity = sliceType->field("cap");
    if (array == nullptr || length == nullptr || array->type == nullptr) return;
    const Type* element = array->type->underlying()->target;
    if (element == nullptr || !mayHoldPointers(element)) return;
    Reader reader(memory_);
    auto data = reader.u64(item.address + array->offset);
    auto len = reader.u64(item.address + length->offset);
    if (!data || !len || *data == 0 || *len == 0) return;
    // Every slice the runtime makes or reslices keeps len <= cap (makeslice, growslice and the
    // compiler's bounds checks, src/runtime/slice.go); the elements up to cap lie in one
    // allocation. A value breaking either is no slice the program holds: a stack slot DWARF
    // describes for the whole function but the function has not written yet keeps whatever
    // was there before (seen on a real gofmt core: len 824,639,952,736 over data in the heap;
    // cut only to its mapping, its elements queued millions of garbage slices more and spent
    // the memory budget before the search reached the program's maps).
    std::uint64_t cap = *len;
    if (capacity != nullptr) {
        auto read = reader.u64(item.address + capacity->offset);
        if (!read) return;
        cap = *read;
    }
    std::optional<std::uint64_t> count = sliceElements(*data, *len, cap, element->byteSize());
    if (!count) {
        ++impossibleSlices_;
        return;
    }
    if (!firstVisit(*data, sliceType)) return;
    // Only now, on a slice that stands, may the element limit cut it.
    const std::uint64_t size = element->byteSize();
    const std::uint64_t followed = elementsToFollow(*count);
    for (std::uint64_t i = 0; i < followed; ++i)
        if (!enqueue(Pending{fmt::format("{}[{}]", item.path, i), RootKind::Heap, *data + i * size, element,
                             item.origin, item.through}))
            return;
}

std::optional<std::uint64_t> Reachability::sliceElements(std::uint64_t data, std::uint64_t len,
                                                         std::uint64_t cap, std::uint64_t elementSize) {
    if (len > cap) return std::nullopt;
    // One whose data lies in no mapping at all is no slice either (a len of 6.8 million over
    // data at 0x1d7a, or ASCII text as both).
    std::optional<std::uint64_t> end = mappedExtentEnd(data);
    if (!end) return std::nullopt;
    if (elementSize == 0) return len;
    SliceBacking backing = backing_ ? backing_(data) : SliceBacking{};
    switch (backing.kind) {
        case SliceBacking::Kind::NoObject:
            return std::nullopt;
        case SliceBacking::Kind::HeapSlot:
            if (backing.slotEnd <= data || cap > (backing.slotEnd - data) / elementSize) return std::nullopt;
            return len;
        case SliceBacking::Kind::Unknown:
            break;
    }
    // Outside the heap (a backing array on a stack or in globals) only the mapping bounds it:
    // a length that runs past it is damage, cut and said.
    const std::uint64_t fits = (*end - data) / elementSize;
    if (len <= fits) return len;
    hitLimit("slice-past-its-mapping");
    return fits;
}

const Type* Reachability::atomicPointerTarget(const Type* structType) {
    // src/sync/atomic/type.go: type Pointer[T any] struct { _ [0]*T; _ noCopy; v unsafe.Pointer }.
    if (structType == nullptr || structType->name.rfind("sync/atomic.Pointer[", 0) != 0) return nullptr;
    const Field* v = structType->field("v");
    if (v == nullptr || v->type == nullptr || v->type->underlying()->kind != GoKind::UnsafePointer)
        return nullptr;
    for (const Field& field : structType->fields) {
        const Type* array = field.type != nullptr ? field.type->underlying() : nullptr;
        if (field.name == "_" && array != nullptr && array->tag == TypeTag::Array && array->count == 0) {
            const Type* pointer = array->target != nullptr ? array->target : array->elem;
            if (pointer != nullptr && pointer->underlying()->kind == GoKind::Pointer) return pointer;
        }
    }
    return nullptr;
}

void Reachability::expandFuncValue(const Pending& item) {
    // A func value is a *funcval: its first word is the code pointer, and a closure's captured
    // variables (or a method value's receiver) follow it (src/runtime/runtime2.go funcval;
    // src/cmd/compile/internal/typecheck/func.go ClosureType, MethodValueType). A plain
    // function's funcval is read-only data with nothing after the code pointer.
    if (!closures_) return;
    Reader reader(memory_);
    auto funcval = reader.u64(item.address);
    if (!funcval || *funcval == 0) return;
    auto code = reader.u64(*funcval);
    if (!code) return;
    const ClosureLayout* closure = closures_(*funcval, *code);
    if (closure == nullptr) return;
    if (!firstVisit(*funcval, funcValueType())) return;
    const std::uint8_t through =
        item.through | (closure->methodValue ? kThroughMethodValue : kThroughClosure);
    const std::string prefix = fmt::format("{} (closure {}).", item.path, closure->function);
    for (const ClosureCapture& capture : closure->captures) {
        if (!mayHoldPointers(capture.type)) continue;
        if (!enqueue(Pending{prefix + capture.name, RootKind::Heap, *funcval + capture.offset, capture.type,
                             item.origin, through},
                     true))
            return;
    }
}

void Reachability::expandUntypedPointer(const Pending& item) {
    // An unsafe.Pointer or uintptr says nothing of what it points at; the heap may: the type
    // a malloc header or a large object's span records (resolved by untyped_).
    if (!untyped_) return;
    auto pointer = Reader(memory_).u64(item.address);
    if (!pointer || *pointer == 0) return;
    std::optional<UntypedTarget> target = untyped_(*pointer);
    if (!target || target->type == nullptr || target->count == 0 || !mayHoldPointers(target->type)) return;
    if (target->recognised != UntypedTarget::Recognised::No) {
        // A map value: the untyped word itself (it points at the header), or the one word of
        // the object it points at.
        const bool header = target->recognised == UntypedTarget::Recognised::MapHeader;
        const std::uint64_t value = header ? item.address : *pointer;
        auto mapHeader = Reader(memory_).u64(value);
        if (!mapHeader) return;
        if (!target->typeCandidates.empty()) recognisedCandidates_[*mapHeader] = target->typeCandidates;
        enqueue(Pending{fmt::format("{} (heap object: {})", item.path, header ? "a map header" : "a map"),
                        RootKind::Heap, value, target->type, item.origin,
                        static_cast<std::uint8_t>(item.through | kThroughRecognisedMap)});
        return;
    }
    if (!firstVisit(*pointer, target->type)) return;
    const std::uint8_t through = item.through | kThroughUntypedPointer;
    const std::string path = fmt::format("{} (heap object {})", item.path, target->type->name);
    if (target->count == 1) {
        enqueue(Pending{path, RootKind::Heap, *pointer, target->type, item.origin, through});
        return;
    }
    const std::uint64_t size = target->type->byteSize();
    std::uint64_t count = elementsToFollow(target->count);
    for (std::uint64_t i = 0; i < count; ++i)
        if (!enqueue(Pending{fmt::format("{}[{}]", path, i), RootKind::Heap, *pointer + i * size,
                             target->type, item.origin, through}))
            return;
}

std::optional<std::uint64_t> Reachability::mappedExtentEnd(std::uint64_t address) const {
    constexpr int kMaxAdjacentRegions = 1 << 16;
    std::optional<MemoryRegion> region = memory_.regionAt(address);
    if (!region) return std::nullopt;
    std::uint64_t end = region->end;
    for (int i = 0; i < kMaxAdjacentRegions; ++i) {
        std::optional<MemoryRegion> next = memory_.regionAt(end);
        if (!next || next->start != end || next->end <= end) break;
        end = next->end;
    }
    return end;
}

void Reachability::expandChannel(const Pending& item, const Type* chanType) {
    // src/runtime/chan.go: a channel value is a *hchan; qcount elements wait in the circular
    // buffer buf of dataqsiz slots, the oldest at slot recvx (chanbuf(c, i) = buf + i*elemsize).
    // The linker synthesizes hchan<T> for DWARF (src/cmd/link/internal/ld/dwarf.go,
    // synthesizechantypes) with buf untyped; the element type is the channel's DW_AT_go_elem.
    // Slots outside the queue hold stale values and are not followed.
    const Type* element = chanType->elem;
    if (element == nullptr || !mayHoldPointers(element)) return;
    const Type* pointer = chanType->underlying();
    const Type* hchan =
        pointer != nullptr && pointer->target != nullptr ? pointer->target->underlying() : nullptr;
    if (hchan == nullptr) return;
    const Field* qcount = hchan->field("qcount");
    const Field* dataqsiz = hchan->field("dataqsiz");
    const Field* buf = hchan->field("buf");
    const Field* recvx = hchan->field("recvx");
    if (qcount == nullptr || dataqsiz == nullptr || buf == nullptr || recvx == nullptr) return;
    Reader reader(memory_);
    auto channel = reader.u64(item.address);
    if (!channel || *channel == 0) return;
    if (!firstVisit(*channel, chanType)) return;
    auto count = reader.u64(*channel + qcount->offset);
    auto slots = reader.u64(*channel + dataqsiz->offset);
    auto data = reader.u64(*channel + buf->offset);
    auto first = reader.u64(*channel + recvx->offset);
    const std::uint64_t elementSize = element->byteSize();
    // What makechan and the send/receive paths maintain; anything else is not followed.
    if (!count || !slots || !data || !first || *count == 0 || *count > *slots || *first >= *slots ||
        *data == 0 || elementSize == 0 || *slots > (std::uint64_t{1} << 40) / elementSize)
        return;
    std::uint64_t followed = elementsToFollow(*count);
    for (std::uint64_t i = 0; i < followed; ++i) {
        std::uint64_t slot = (*first + i) % *slots;
        if (!enqueue(Pending{fmt::format("{}.buf[{}]", item.path, slot), RootKind::Heap,
                             *data + slot * elementSize, element, item.origin, item.through}))
            return;
    }
}

void Reachability::expandInterface(const Pending& item, const Type* interfaceType) {
    // An interface is {type word, data}: eface {_type, data} or iface {tab *itab, data}
    // (src/runtime/runtime2.go); the itab's type field is _type (Go <= 1.21) or Type
    // (internal/abi.ITab).
    if (!resolver_) return;
    const Type* shape = interfaceType->underlying();
    const Field* data = shape->field("data");
    if (data == nullptr || shape->fields.empty()) return;
    const Field& first = shape->fields.front();
    Reader reader(memory_);
    auto typeWord = reader.u64(item.address + first.offset);
    if (!typeWord || *typeWord == 0) return;
    std::uint64_t descriptor = *typeWord;
    if (first.name == "tab") {
        const Type* tab = first.type != nullptr ? first.type->underlying() : nullptr;
        const Type* itab = tab != nullptr && tab->target != nullptr ? tab->target->underlying() : nullptr;
        const Field* typeField = itab != nullptr ? itab->field("_type") : nullptr;
        if (typeField == nullptr && itab != nullptr) typeField = itab->field("Type");
        if (typeField == nullptr) return;
        auto word = reader.u64(descriptor + typeField->offset);
        if (!word || *word == 0) return;
        descriptor = *word;
    }
    const Type* dynamic = resolver_(descriptor);
    if (dynamic == nullptr || !mayHoldPointers(dynamic)) return;
    std::string path = item.path + ".(" + dynamic->name + ")";
    if (pointerShaped(dynamic)) {
        enqueue(Pending{path, item.kind, item.address + data->offset, dynamic, item.origin, item.through});
        return;
    }
    auto value = reader.u64(item.address + data->offset);
    if (!value || *value == 0) return;
    if (!firstVisit(*value, dynamic)) return;
    enqueue(Pending{path, RootKind::Heap, *value, dynamic, item.origin, item.through});
}

void Reachability::expandMapEntries(const Pending& item, std::uint64_t header, const Type* mapType) {
    const Type* elem = mapType->elem != nullptr ? mapType->elem : mapType->underlying()->elem;
    if (!mayHoldPointers(elem)) return;
    if (!firstVisit(header, mapType)) return;
    const MapTypeLayout* layout = layouts_.layoutFor(mapType, nullptr);
    if (layout == nullptr) return;
    WalkLimits limits = walkLimits_;
    limits.collectSlots = true;
    // The walk is only read for its slots and then dropped, so it is not charged for good; but
    // while it lives its slots are real memory (a map of millions of entries), so it may use
    // at most what is left of the analysis budget.
    AnalysisBudget scratch;
    if (limits.budget != nullptr) {
        scratch = limits.budget->timeOnly();
        scratch.limitMemory(limits.budget->remaining());
        limits.budget = &scratch;
    }
    MapResult result = walkMap(memory_, *layout, header, limits);
    // Entries the walk could not hold are entries not followed: say so.
    if (scratch.memoryExhausted()) hitLimit(limits_.budget->memoryLimitName());
    std::size_t followed = 0;
    std::vector<const MapNode*> nodes{&result.root};
    while (!nodes.empty()) {
        const MapNode* node = nodes.back();
        nodes.pop_back();
        for (const MapNode& child : node->children)
            nodes.push_back(&child);
        for (const Slot& slot : node->slots) {
            if (!slot.elemReadable || !slot.keyReadable) continue;
            if (followed++ >= limits_.maxMapEntries) {
                hitLimit("max-map-entries");
                return;
            }
            std::string key = formatValue(memory_, layout->keyType, slot.keyAddress, redactKeys_);
            if (!enqueue(Pending{item.path + "[" + key + "]", RootKind::Heap, slot.elemAddress, elem,
                                 item.origin, item.through}))
                return;
        }
    }
}

}  // namespace gomapcore
