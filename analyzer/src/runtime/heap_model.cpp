#include "runtime/heap_model.h"

#include <fmt/format.h>

#include <algorithm>

namespace gomapcore {
namespace {

// Entries of allspans (and of the arena list) read per request.
constexpr std::size_t kWordsPerRead = 4096;
// ELF cores capture memory in whole pages (4 KiB on amd64).
constexpr std::uint64_t kCorePageSize = 4096;
// No span the runtime makes has more objects: mspan.nelems is a uint16 from Go 1.22 on
// (runtime/mheap.go), and a one-page span of the smallest size class (8 bytes) has 1024. A record
// claiming more is damaged, and its bitmaps are not read.
constexpr std::uint64_t kMaxObjectsPerSpan = std::uint64_t{1} << 16;

// Fallbacks for runtime constants the DWARF lacks. Every Go build the corpus covers
// (1.19, 1.23-1.27) emits all of them; a fallback is used, and noted, only for another build.
// golang/go src/runtime/mheap.go: `mSpanDead mSpanState = iota; mSpanInUse; mSpanManual`, the
// same in every release from 1.19 to 1.27.
constexpr std::uint8_t kFallbackSpanDead = 0, kFallbackSpanInUse = 1, kFallbackSpanManual = 2;
// src/runtime/malloc.go: _PageShift = 13 (pageSize = 8 KiB on every platform).
constexpr std::uint64_t kFallbackPageSize = 8192;
// src/runtime/malloc.go: heapArenaBytes = 64 MiB on 64-bit non-Windows; arenaBaseOffset =
// 0xffff800000000000 on amd64 and 0 elsewhere; the fallback is amd64's (every corpus build, arm64
// included, carries runtime.arenaBaseOffset in its DWARF).
constexpr std::uint64_t kFallbackHeapArenaBytes = std::uint64_t{64} << 20;
constexpr std::uint64_t kFallbackArenaBaseOffset = 0xffff800000000000;
// Needed with allocation headers (Go 1.22+): src/internal/runtime/gc/malloc.go MinSizeForMallocHeader =
// goarch.PtrSize * goarch.PtrBits, which runtime/malloc.go re-exports as minSizeForMallocHeader.
constexpr std::uint64_t kFallbackMinSizeForMallocHeader = 8 * 64;
// src/runtime/malloc.go: mallocHeaderSize = 8, one *_type.
constexpr std::uint64_t kFallbackMallocHeaderSize = 8;
// src/runtime/mgcmark_greenteagc.go, gcUsesSpanInlineMarkBits: heapBitsInSpan(size) && size >= 16.
constexpr std::uint64_t kMinInlineMarkElemSize = 16;

bool validIntegerSize(std::uint64_t size) {
    return size == 1 || size == 2 || size == 4 || size == 8;
}

// mspan.state is `state mSpanState` (a uint8) in old runtimes and `state mSpanStateBox` later,
// whose `s` is an mSpanState (Go 1.19) or an atomic.Uint8 {noCopy; value uint8} (Go 1.20+).
// Follows the one member with a size down to the byte.
FieldSlot stateByte(const Type* spanType) {
    FieldSlot slot = fieldSlot(spanType, "state");
    if (!slot.present) return slot;
    const Type* t = spanType->field("state")->type;
    for (int depth = 0; depth < 8 && t != nullptr; ++depth) {
        const Type* u = t->underlying();
        if (u->tag != TypeTag::Struct) break;
        const Field* sized = nullptr;
        for (const Field& f : u->fields) {
            if (f.type == nullptr || f.type->byteSize() == 0) continue;
            if (sized != nullptr) return {};  // more than one member with bytes: not a box
            sized = &f;
        }
        if (sized == nullptr) return {};
        slot.offset += sized->offset;
        t = sized->type;
    }
    if (t == nullptr || t->byteSize() != 1) return {};
    slot.size = 1;
    return slot;
}

// A Go slice field: offsets of its data pointer and len (cmd/link/internal/ld/dwarf.go writes
// slices as structs {array, len, cap}) and its element size.
struct SliceSlot {
    std::uint64_t array = 0, len = 0, cap = 0, elemSize = 0;
    bool present = false;
};

SliceSlot sliceSlot(const Type* structType, std::string_view name) {
    SliceSlot slot;
    if (structType == nullptr) return slot;
    const Field* f = structType->field(name);
    if (f == nullptr || f->type == nullptr) return slot;
    const Type* slice = f->type->underlying();
    const Field* array = slice->field("array");
    const Field* len = slice->field("len");
    const Field* cap = slice->field("cap");
    if (array == nullptr || len == nullptr || cap == nullptr || array->type == nullptr) return slot;
    const Type* pointer = array->type->underlying();
    if (pointer->tag != TypeTag::Pointer || pointer->target == nullptr) return slot;
    slot.array = f->offset + array->offset;
    slot.len = f->offset + len->offset;
    slot.cap = f->offset + cap->offset;
    slot.elemSize = pointer->target->byteSize();
    slot.present = true;
    return slot;
}

// Reads count little-endian words of wordSize bytes from address, in bounded requests; calls
// visit(index, value-or-nullopt). A request the core only partly holds is retried word by word
// so that one missing page loses only the words on it.
template <typename Visit>
void readWords(const Memory& memory, std::uint64_t address, std::uint64_t count, std::size_t wordSize,
               Visit visit) {
    std::vector<std::byte> buffer(std::min<std::uint64_t>(count, kWordsPerRead) * wordSize);
    for (std::uint64_t first = 0; first < count; first += kWordsPerRead) {
        std::uint64_t n = std::min<std::uint64_t>(kWordsPerRead, count - first);
        std::span<std::byte> chunk(buffer.data(), n * wordSize);
        ReadResult result = memory.read(address + first * wordSize, chunk);
        std::uint64_t whole = result.bytesRead / wordSize;
        for (std::uint64_t i = 0; i < whole; ++i)
            visit(first + i, std::optional(loadUnsigned(buffer.data() + i * wordSize, wordSize)));
        std::uint64_t skipUntil = 0;
        for (std::uint64_t i = whole; i < n; ++i) {
            std::uint64_t at = address + (first + i) * wordSize;
            std::span<std::byte> word(buffer.data(), wordSize);
            ReadResult one =
                at < skipUntil ? ReadResult{0, AddressState::NotCaptured} : memory.read(at, word);
            if (one.complete()) {
                visit(first + i, std::optional(loadUnsigned(buffer.data(), wordSize)));
                continue;
            }
            visit(first + i, std::optional<std::uint64_t>());
            // A core holds whole pages: the rest of the page that failed is missing too.
            if (at >= skipUntil) skipUntil = ((at + one.bytesRead) | (kCorePageSize - 1)) + 1;
        }
    }
}

std::uint64_t field(const std::byte* record, const FieldSlot& slot) {
    return loadUnsigned(record + slot.offset, slot.size);
}

// mspan.sweepgen against mheap_.sweepgen (the comment on mspan.sweepgen in runtime/mheap.go;
// unsigned arithmetic, as the runtime's counters wrap).
SweepState sweepStateOf(std::uint32_t spanGen, std::uint32_t heapGen) {
    if (spanGen == heapGen || spanGen == heapGen + 3) return SweepState::Swept;
    if (spanGen == heapGen - 2 || spanGen == heapGen + 1) return SweepState::Unswept;
    if (spanGen == heapGen - 1) return SweepState::BeingSwept;
    return SweepState::Inconsistent;
}

enum class Slot { Allocated, Free, Garbage, Unknown };
struct SlotVerdict {
    Slot slot = Slot::Unknown;
    const char* why = nullptr;
};

// The allocation state of object slot i (i < nelems) of an in-use span. allocBit(i) and
// markBit(i) return the bit, or nullopt when the core does not hold it; they are only asked
// when the answer depends on them.
template <typename AllocBit, typename MarkBit>
SlotVerdict decideSlot(const SpanInfo& span, std::uint64_t i, AllocBit allocBit, MarkBit markBit) {
    // A sweeper rewrites allocBits, gcmarkBits and freeindex one after the other
    // (runtime/mgcsweep.go, mspan.sweep), so neither the old nor the new reading holds.
    if (span.sweep == SweepState::BeingSwept) return {Slot::Unknown, "the span was being swept"};
    if (span.sweep == SweepState::Inconsistent)
        return {Slot::Unknown, "the span's sweepgen fits no state of the current GC cycle"};
    // runtime/mbitmap.go, mspan.isFree: objects below freeindex are allocated; above it,
    // allocBits tells ("If n >= freeindex and allocBits[n/8] & (1<<(n%8)) is 0 then object n is
    // free; otherwise, object n is allocated", runtime/mheap.go).
    bool allocated = i < span.freeindex;
    if (!allocated) {
        std::optional<bool> bit = allocBit(i);
        if (!bit) return {Slot::Unknown, "the span's allocBits are not captured"};
        allocated = *bit;
    }
    if (!allocated) return {Slot::Free, nullptr};
    if (span.sweep == SweepState::Swept) return {Slot::Allocated, nullptr};
    // Not swept since the last mark phase: no allocation happened in the span since (mcentral
    // sweeps a span before handing it out), and the sweep will free what is not marked.
    std::optional<bool> mark = markBit(i);
    if (!mark) return {Slot::Unknown, "the span's mark bits are not captured"};
    return {*mark ? Slot::Allocated : Slot::Garbage, nullptr};
}

bool bitOf(std::span<const std::byte> bytes, std::uint64_t i) {
    return (std::to_integer<unsigned>(bytes[i / 8]) >> (i % 8) & 1) != 0;
}

// A bitmap of a span read from the core: the captured prefix of its bytes.
struct Bitmap {
    std::vector<std::byte> bytes;
    std::size_t known = 0;  // leading bytes captured

    void load(const Memory& memory, std::uint64_t address, std::size_t size) {
        bytes.assign(size, std::byte{0});
        known = address == 0 || size == 0 ? 0 : memory.read(address, bytes).bytesRead;
    }
    std::optional<bool> bit(std::uint64_t i) const {
        if (i / 8 >= known) return std::nullopt;
        return bitOf(bytes, i);
    }
};

}  // namespace

// --- HeapLayout -------------------------------------------------------------------------------

std::optional<HeapLayout> HeapLayout::fromDwarf(TypeTable& types, std::string* whyNot,
                                                std::vector<std::string>* notes) {
    auto fail = [&](std::string why) -> std::optional<HeapLayout> {
        if (whyNot != nullptr) *whyNot = std::move(why);
        return std::nullopt;
    };
    auto constant = [&](std::initializer_list<const char*> names, std::uint64_t fallback,
                        const char* source) -> std::uint64_t {
        for (const char* name : names)
            if (auto v = types.constant(name)) return static_cast<std::uint64_t>(*v);
        if (notes != nullptr)
            notes->push_back(fmt::format("heap: the DWARF has no constant {}; using {} from {}",
                                         *names.begin(), fallback, source));
        return fallback;
    };

    const Type* heap = types.byName("runtime.mheap");
    const Type* span = types.byName("runtime.mspan");
    if (heap == nullptr || span == nullptr)
        return fail("the DWARF describes no runtime.mheap / runtime.mspan");

    HeapLayout layout;
    FieldSlot heapSweepgen = fieldSlot(heap, "sweepgen");
    SliceSlot allspans = sliceSlot(heap, "allspans");
    if (!heapSweepgen.present || heapSweepgen.size != 4) return fail("runtime.mheap has no uint32 sweepgen");
    if (!allspans.present || allspans.elemSize != 8) return fail("runtime.mheap has no allspans []*mspan");
    layout.heapSweepgen = heapSweepgen.offset;
    layout.allspansArray = allspans.array;
    layout.allspansLen = allspans.len;
    layout.allspansCap = allspans.cap;
    // pagesInUse: uintptr up to Go 1.19's atomic.Uint64 wrapper (runtime/mheap.go); either way
    // one 8-byte counter.
    layout.pagesInUse = fieldSlot(heap, "pagesInUse");
    // The list of heap arenas: allArenas []arenaIdx up to Go 1.24, heapArenas from Go 1.25
    // (runtime/mheap.go; 1.25 split user arenas out into userArenaArenas).
    SliceSlot arenas = sliceSlot(heap, "heapArenas");
    if (!arenas.present) arenas = sliceSlot(heap, "allArenas");
    if (arenas.present && validIntegerSize(arenas.elemSize)) {
        layout.hasArenas = true;
        layout.arenasArray = arenas.array;
        layout.arenasLen = arenas.len;
        layout.arenaIndexSize = arenas.elemSize;
    } else if (notes != nullptr) {
        notes->push_back("heap: runtime.mheap lists no heap arenas; free heap pages classify as not heap");
    }

    layout.spanSize = span->byteSize();
    resolveFields<HeapLayout>(span, kMspanFields, layout);
    layout.state = stateByte(span);
    auto usable = [&](const FieldSlot& slot) {
        return slot.present && validIntegerSize(slot.size) && slot.offset + slot.size <= layout.spanSize;
    };
    for (const FieldSpec<HeapLayout>& field : kMspanFields)
        if (!usable(layout.*field.slot))
            return fail(fmt::format("runtime.mspan has no usable field {}", field.name));
    if (!usable(layout.state)) return fail("runtime.mspan has no usable field state");

    layout.pageSize =
        constant({"runtime.pageSize", "runtime._PageSize"}, kFallbackPageSize, "runtime/malloc.go");
    layout.stateDead =
        static_cast<std::uint8_t>(constant({"runtime.mSpanDead"}, kFallbackSpanDead, "runtime/mheap.go"));
    layout.stateInUse =
        static_cast<std::uint8_t>(constant({"runtime.mSpanInUse"}, kFallbackSpanInUse, "runtime/mheap.go"));
    layout.stateManual =
        static_cast<std::uint8_t>(constant({"runtime.mSpanManual"}, kFallbackSpanManual, "runtime/mheap.go"));
    if (layout.hasArenas) {
        layout.heapArenaBytes =
            constant({"runtime.heapArenaBytes"}, kFallbackHeapArenaBytes, "runtime/malloc.go");
        layout.arenaBaseOffset =
            constant({"runtime.arenaBaseOffsetUintptr"}, kFallbackArenaBaseOffset, "runtime/malloc.go");
    }
    if (layout.pageSize == 0 || (layout.pageSize & (layout.pageSize - 1)) != 0)
        return fail(fmt::format("runtime.pageSize {} is not a power of two", layout.pageSize));
    if (layout.hasArenas && layout.heapArenaBytes == 0) layout.hasArenas = false;

    // Green Tea: the type exists in the DWARF exactly when mgcmark_greenteagc.go was compiled in.
    if (const Type* inline_ = types.byName("runtime.spanInlineMarkBits")) {
        const Field* marks = inline_->field("marks");
        if (marks != nullptr && inline_->byteSize() != 0 && inline_->byteSize() < layout.pageSize) {
            layout.inlineMarkBits = true;
            layout.inlineMarkBitsSize = inline_->byteSize();
            layout.inlineMarksOffset = marks->offset;
            layout.minSizeForMallocHeader =
                constant({"runtime.minSizeForMallocHeader", "internal/runtime/gc.MinSizeForMallocHeader"},
                         kFallbackMinSizeForMallocHeader, "internal/runtime/gc/malloc.go");
        }
    }
    // Allocation headers (Go 1.22, src/runtime/mbitmap.go) brought mspan.largeType; with them,
    // small objects' pointer bits moved from the arena bitmap to the end of their span.
    if (span->field("largeType") != nullptr) {
        layout.heapBitsInSpan = true;
        if (layout.minSizeForMallocHeader == 0)
            layout.minSizeForMallocHeader =
                constant({"runtime.minSizeForMallocHeader", "internal/runtime/gc.MinSizeForMallocHeader"},
                         kFallbackMinSizeForMallocHeader, "runtime/mbitmap.go");
        layout.mallocHeaderSize =
            constant({"runtime.mallocHeaderSize"}, kFallbackMallocHeaderSize, "runtime/malloc.go");
        FieldSlot largeType = fieldSlot(span, "largeType");
        if (largeType.size == 8 && largeType.offset + 8 <= layout.spanSize) layout.largeType = largeType;
    }
    return layout;
}

// --- names --------------------------------------------------------------------------------------

const char* toString(SpanState state) {
    switch (state) {
        case SpanState::InUse:
            return "in-use";
        case SpanState::Manual:
            return "manual";
        case SpanState::Dead:
            return "dead";
        case SpanState::Unknown:
            return "unknown";
    }
    return "unknown";
}

const char* toString(SweepState state) {
    switch (state) {
        case SweepState::Swept:
            return "swept";
        case SweepState::Unswept:
            return "unswept";
        case SweepState::BeingSwept:
            return "being-swept";
        case SweepState::Inconsistent:
            return "inconsistent";
    }
    return "inconsistent";
}

const char* toString(HeapAddressKind kind) {
    switch (kind) {
        case HeapAddressKind::NotHeap:
            return "not-heap";
        case HeapAddressKind::InUseObjectAllocated:
            return "allocated-object";
        case HeapAddressKind::InUseObjectFree:
            return "free-object";
        case HeapAddressKind::SpanTail:
            return "span-tail";
        case HeapAddressKind::FreeSpan:
            return "free-span";
        case HeapAddressKind::StackSpan:
            return "stack-span";
        case HeapAddressKind::Unknown:
            return "unknown";
    }
    return "unknown";
}

// --- HeapModel ------------------------------------------------------------------------------------

std::optional<HeapModel> HeapModel::load(const Memory& memory, TypeTable& types, std::uint64_t globalsBias,
                                         std::vector<std::string>& notes, const HeapLimits& limits) {
    if (!types.hasDwarf()) {
        notes.push_back("heap: the executable has no DWARF; the heap's spans cannot be read");
        return std::nullopt;
    }
    const GlobalVariable* mheap = types.global("runtime.mheap_");
    if (mheap == nullptr) {
        notes.push_back("heap: the DWARF has no variable runtime.mheap_; the heap's spans cannot be read");
        return std::nullopt;
    }
    std::string why;
    auto layout = HeapLayout::fromDwarf(types, &why, &notes);
    if (!layout) {
        notes.push_back("heap: " + why);
        return std::nullopt;
    }
    return build(memory, *layout, mheap->address + globalsBias, notes, limits);
}

std::optional<HeapModel> HeapModel::build(const Memory& memory, const HeapLayout& layout,
                                          std::uint64_t mheapAddress, std::vector<std::string>& notes,
                                          const HeapLimits& limits) {
    Reader reader(memory);
    auto heapSweepgen = reader.u32(mheapAddress + layout.heapSweepgen);
    auto array = reader.u64(mheapAddress + layout.allspansArray);
    auto len = reader.u64(mheapAddress + layout.allspansLen);
    auto cap = reader.u64(mheapAddress + layout.allspansCap);
    if (!heapSweepgen || !array || !len || !cap) {
        notes.push_back(fmt::format("heap: runtime.mheap_ at {:#x} is not captured", mheapAddress));
        return std::nullopt;
    }

    HeapModel model(memory, layout);
    HeapStats& stats = model.stats_;
    stats.sweepgen = *heapSweepgen;
    if (layout.pagesInUse.present && layout.pagesInUse.size == 8)
        stats.pagesInUse = reader.u64(mheapAddress + layout.pagesInUse.offset);
    stats.allspansLen = *len;
    if (*len > *cap)
        notes.push_back(fmt::format("heap: mheap_.allspans has len {} > cap {}; the slice header is damaged",
                                    *len, *cap));
    std::uint64_t count = *len;
    if (count > limits.maxSpans) {
        notes.push_back(fmt::format("heap: mheap_.allspans has {} entries; only the first {} are read", count,
                                    limits.maxSpans));
        count = limits.maxSpans;
        stats.truncated = true;
    }
    if (count > 0 && *array == 0) {
        notes.push_back("heap: mheap_.allspans has entries but a nil array");
        count = 0;
    }

    std::vector<std::byte> record(layout.spanSize);
    const std::uint64_t maxPages = ~std::uint64_t{0} / layout.pageSize;
    readWords(memory, *array, count, 8, [&](std::uint64_t, std::optional<std::uint64_t> pointer) {
        if (!pointer) {
            ++stats.unreadable;
            return;
        }
        if (*pointer == 0 || *pointer % 8 != 0) {
            ++stats.corrupt;
            return;
        }
        if (!memory.read(*pointer, record).complete()) {
            ++stats.unreadable;
            return;
        }
        ++stats.recordsRead;
        SpanInfo span;
        span.mspan = *pointer;
        span.rawState = static_cast<std::uint8_t>(field(record.data(), layout.state));
        if (span.rawState == layout.stateDead) {
            // A freed mspan keeps its stale startAddr/npages (runtime/mheap.go, freeMSpanLocked):
            // it describes no memory, so it does not go into the lookup.
            ++stats.dead;
            return;
        }
        span.state = span.rawState == layout.stateInUse    ? SpanState::InUse
                     : span.rawState == layout.stateManual ? SpanState::Manual
                                                           : SpanState::Unknown;
        span.start = field(record.data(), layout.startAddr);
        span.npages = field(record.data(), layout.npages);
        if (span.npages == 0 || span.npages > maxPages ||
            span.start + span.npages * layout.pageSize < span.start) {
            ++stats.corrupt;
            return;
        }
        span.end = span.start + span.npages * layout.pageSize;
        std::uint64_t spanclass = field(record.data(), layout.spanclass);
        span.sizeClass = static_cast<std::uint8_t>(spanclass >> 1);
        span.noscan = (spanclass & 1) != 0;
        span.elemSize = field(record.data(), layout.elemsize);
        span.nelems = field(record.data(), layout.nelems);
        span.freeindex = field(record.data(), layout.freeindex);
        span.allocCount = field(record.data(), layout.allocCount);
        span.sweepgen = static_cast<std::uint32_t>(field(record.data(), layout.sweepgen));
        span.allocBits = field(record.data(), layout.allocBits);
        span.gcmarkBits = field(record.data(), layout.gcmarkBits);
        if (layout.largeType.present) span.largeType = field(record.data(), layout.largeType);
        switch (span.state) {
            case SpanState::InUse:
                ++stats.inUse;
                span.sweep = sweepStateOf(span.sweepgen, stats.sweepgen);
                stats.unswept += span.sweep == SweepState::Unswept;
                stats.beingSwept += span.sweep == SweepState::BeingSwept;
                stats.inconsistentSweep += span.sweep == SweepState::Inconsistent;
                break;
            case SpanState::Manual:
                ++stats.manual;
                break;
            default:
                ++stats.unknownState;
                break;
        }
        model.spans_.push_back(span);
    });
    std::sort(model.spans_.begin(), model.spans_.end(),
              [](const SpanInfo& a, const SpanInfo& b) { return a.start < b.start; });
    for (std::size_t i = 1; i < model.spans_.size(); ++i)
        stats.overlapping += model.spans_[i].start < model.spans_[i - 1].end;

    if (stats.unreadable != 0)
        notes.push_back(fmt::format("heap: {} of {} allspans entries or their mspan records are not captured",
                                    stats.unreadable, count));
    if (stats.corrupt != 0)
        notes.push_back(fmt::format(
            "heap: {} allspans entries do not describe a span (nil, misaligned, no pages)", stats.corrupt));
    if (stats.unknownState != 0)
        notes.push_back(
            fmt::format("heap: {} spans have a state byte the runtime does not define", stats.unknownState));
    if (stats.overlapping != 0)
        notes.push_back(fmt::format("heap: {} live spans overlap another; lookups there use the later one",
                                    stats.overlapping));
    if (stats.beingSwept + stats.inconsistentSweep != 0)
        notes.push_back(fmt::format(
            "heap: {} in-use spans were being swept or have an inconsistent sweepgen; their objects classify "
            "as unknown",
            stats.beingSwept + stats.inconsistentSweep));

    if (layout.hasArenas) {
        auto arenaArray = reader.u64(mheapAddress + layout.arenasArray);
        auto arenaLen = reader.u64(mheapAddress + layout.arenasLen);
        if (!arenaArray || !arenaLen) {
            notes.push_back(
                "heap: the heap arena list is not captured; free heap pages classify as not heap");
        } else {
            std::uint64_t n = std::min<std::uint64_t>(*arenaLen, limits.maxArenas);
            if (n < *arenaLen)
                notes.push_back(
                    fmt::format("heap: {} heap arenas listed; only the first {} are read", *arenaLen, n));
            if (*arenaArray == 0) n = 0;
            std::size_t missing = 0;
            readWords(memory, *arenaArray, n, layout.arenaIndexSize,
                      [&](std::uint64_t, std::optional<std::uint64_t> index) {
                          if (!index) {
                              ++missing;
                              return;
                          }
                          // runtime/mheap.go arenaBase: uintptr(i)*heapArenaBytes + arenaBaseOffset
                          // (wrapping on purpose: amd64's offset is "negative").
                          std::uint64_t start = *index * layout.heapArenaBytes + layout.arenaBaseOffset;
                          std::uint64_t end = start + layout.heapArenaBytes;
                          if (end > start) model.arenas_.emplace_back(start, end);
                      });
            if (missing != 0)
                notes.push_back(fmt::format("heap: {} heap arena indexes are not captured", missing));
            std::sort(model.arenas_.begin(), model.arenas_.end());
            std::vector<std::pair<std::uint64_t, std::uint64_t>> merged;
            for (const auto& arena : model.arenas_) {
                if (!merged.empty() && arena.first <= merged.back().second)
                    merged.back().second = std::max(merged.back().second, arena.second);
                else
                    merged.push_back(arena);
            }
            model.arenas_ = std::move(merged);
            stats.arenas = n - missing;
        }
    }
    return model;
}

const SpanInfo* HeapModel::spanFor(std::uint64_t address) const {
    auto it = std::upper_bound(spans_.begin(), spans_.end(), address,
                               [](std::uint64_t a, const SpanInfo& s) { return a < s.start; });
    if (it == spans_.begin()) return nullptr;
    --it;
    return it->contains(address) ? &*it : nullptr;
}

bool HeapModel::inArena(std::uint64_t address) const {
    auto it = std::upper_bound(arenas_.begin(), arenas_.end(), address,
                               [](std::uint64_t a, const auto& arena) { return a < arena.first; });
    if (it == arenas_.begin()) return false;
    --it;
    return address < it->second;
}

namespace {

// Whether the span's object geometry is one the runtime could have made.
bool plausibleObjects(const SpanInfo& span) {
    return span.elemSize != 0 && span.nelems != 0 && span.nelems <= kMaxObjectsPerSpan &&
           span.nelems <= (span.end - span.start) / span.elemSize;
}

// Green Tea keeps the current cycle's marks of small-object spans inline until the sweeper
// merges them into gcmarkBits (runtime/mgcmark_greenteagc.go: markBitsForIndex,
// gcUsesSpanInlineMarkBits, spanInlineMarkBitsFromBase; mgcsweep.go calls moveInlineMarks).
std::optional<std::uint64_t> inlineMarksAddress(const HeapLayout& layout, const SpanInfo& span) {
    if (!layout.inlineMarkBits || span.elemSize < kMinInlineMarkElemSize ||
        span.elemSize > layout.minSizeForMallocHeader)
        return std::nullopt;
    return span.start + layout.pageSize - layout.inlineMarkBitsSize + layout.inlineMarksOffset;
}

// src/runtime/mbitmap.go spanHeapBitsRange: one bit per word of the span, in its last
// spanSize/64 bytes, below the inline mark bits when Green Tea keeps them in the span.
std::optional<std::uint64_t> heapBitsAddress(const HeapLayout& layout, const SpanInfo& span) {
    if (!layout.heapBitsInSpan || span.noscan || span.elemSize == 0 ||
        span.elemSize > layout.minSizeForMallocHeader)
        return std::nullopt;
    const std::uint64_t spanBytes = span.end - span.start;
    std::uint64_t base = span.end - spanBytes / 64;
    if (inlineMarksAddress(layout, span)) base -= layout.inlineMarkBitsSize;
    return base;
}

std::optional<bool> bitAt(const Memory& memory, std::uint64_t bitmap, std::uint64_t i) {
    if (bitmap == 0) return std::nullopt;
    std::byte b[1];
    if (!memory.read(bitmap + i / 8, b).complete()) return std::nullopt;
    return bitOf(b, i % 8);  // b holds byte i / 8 of the bitmap
}

// A mark is set if either the out-of-line or the inline bitmap has it; unset only when every
// bitmap that may hold it says so.
std::optional<bool> either(std::optional<bool> a, std::optional<bool> b, bool needB) {
    if (a.value_or(false) || b.value_or(false)) return true;
    if (!a || (needB && !b)) return std::nullopt;
    return false;
}

}  // namespace

std::optional<std::vector<bool>> HeapModel::objectPointerWords(std::uint64_t objectStart) const {
    HeapAddress h = classify(objectStart);
    if (h.kind != HeapAddressKind::InUseObjectAllocated || h.objectStart != objectStart || h.span == nullptr)
        return std::nullopt;
    const SpanInfo& span = *h.span;
    if (!layout_.heapBitsInSpan) return std::nullopt;
    std::vector<bool> words;
    if (span.noscan) return words;  // spanclass says: no pointers in any object of the span
    auto bits = heapBitsAddress(layout_, span);
    if (!bits) return std::nullopt;  // a malloc header or largeType describes the object
    const std::uint64_t first = (objectStart - span.start) / 8;
    const std::uint64_t count = span.elemSize / 8;
    std::vector<std::byte> bytes((first + count) / 8 - first / 8 + 1);
    if (!memory_->read(*bits + first / 8, bytes).complete()) return std::nullopt;
    words.resize(count);
    for (std::uint64_t w = 0; w < count; ++w) {
        std::uint64_t bit = first + w;
        words[w] = (std::to_integer<unsigned>(bytes[bit / 8 - first / 8]) >> (bit % 8)) & 1;
    }
    while (!words.empty() && !words.back())
        words.pop_back();
    return words;
}

HeapAddress HeapModel::classify(std::uint64_t address) const {
    HeapAddress out;
    const SpanInfo* span = spanFor(address);
    if (span == nullptr) {
        out.kind = inArena(address) ? HeapAddressKind::FreeSpan : HeapAddressKind::NotHeap;
        return out;
    }
    out.span = span;
    if (span->state == SpanState::Manual) {
        out.kind = HeapAddressKind::StackSpan;
        return out;
    }
    if (span->state != SpanState::InUse) {
        out.kind = HeapAddressKind::Unknown;
        out.why = "the span's state byte is not one the runtime defines";
        return out;
    }
    if (!plausibleObjects(*span)) {
        out.kind = HeapAddressKind::Unknown;
        out.why = "the span's elemsize and nelems do not fit in it";
        return out;
    }
    std::uint64_t index = (address - span->start) / span->elemSize;
    if (index >= span->nelems) {
        out.kind = HeapAddressKind::SpanTail;
        return out;
    }
    out.objectStart = span->start + index * span->elemSize;
    out.objectSize = span->elemSize;
    auto inlineMarks = inlineMarksAddress(layout_, *span);
    SlotVerdict verdict = decideSlot(
        *span, index, [&](std::uint64_t i) { return bitAt(*memory_, span->allocBits, i); },
        [&](std::uint64_t i) {
            return either(bitAt(*memory_, span->gcmarkBits, i),
                          inlineMarks ? bitAt(*memory_, *inlineMarks, i) : std::nullopt,
                          inlineMarks.has_value());
        });
    switch (verdict.slot) {
        case Slot::Allocated:
            out.kind = HeapAddressKind::InUseObjectAllocated;
            break;
        case Slot::Free:
            out.kind = HeapAddressKind::InUseObjectFree;
            break;
        case Slot::Garbage:
            out.kind = HeapAddressKind::InUseObjectFree;
            out.garbage = true;
            break;
        case Slot::Unknown:
            out.kind = HeapAddressKind::Unknown;
            out.why = verdict.why;
            break;
    }
    return out;
}

namespace {

// mallocgc (Go 1.22+) puts a malloc header, the object's *_type, before a small object of a
// scannable span too large for heap bits in the span (runtime/malloc.go, heapBitsInSpan and
// mallocgcSmallScanHeader), and returns the address after it.
bool hasMallocHeader(const HeapLayout& layout, const SpanInfo& span) {
    return layout.heapBitsInSpan && layout.mallocHeaderSize != 0 && span.sizeClass != 0 && !span.noscan &&
           span.elemSize > layout.minSizeForMallocHeader && span.elemSize > layout.mallocHeaderSize;
}

}  // namespace

std::optional<HeapObject> HeapModel::objectContaining(std::uint64_t address) const {
    HeapAddress where = classify(address);
    if (where.kind != HeapAddressKind::InUseObjectAllocated || where.garbage || where.span == nullptr)
        return std::nullopt;
    HeapObject object{where.objectStart, where.objectSize, where.objectStart, where.span};
    if (hasMallocHeader(layout_, *where.span)) object.data += layout_.mallocHeaderSize;
    return object;
}

std::optional<HeapObject> HeapModel::objectWithDataAt(std::uint64_t address) const {
    auto object = objectContaining(address);
    if (!object) return std::nullopt;
    // Without a header, the data is the slot; with one, a pointer to the slot's start would be
    // a pointer to the header, which mallocgc never hands out.
    if (object->data != address) return std::nullopt;
    return object;
}

std::optional<std::uint64_t> HeapModel::recordedType(const HeapObject& object) const {
    if (object.span == nullptr) return std::nullopt;
    std::optional<std::uint64_t> type;
    if (object.mallocHeader()) {
        type = Reader(*memory_).u64(object.start);
    } else if (object.span->sizeClass == 0 && layout_.largeType.present && !object.span->noscan) {
        type = object.span->largeType;
    }
    if (!type || *type == 0) return std::nullopt;
    return type;
}

std::optional<std::uint64_t> HeapModel::allocationSize(std::uint64_t address) const {
    auto object = objectWithDataAt(address);
    if (!object) return std::nullopt;
    return object->size;
}

HeapInUse HeapModel::inUse() const {
    if (stats_.pagesInUse) return HeapInUse{*stats_.pagesInUse * layout_.pageSize, "mheap_.pagesInUse"};
    HeapInUse out{0, "spans"};
    for (const SpanInfo& span : spans_)
        if (span.state == SpanState::InUse) out.bytes += span.npages * layout_.pageSize;
    return out;
}

ObjectWalk HeapModel::forEachAllocatedObject(
    const std::function<bool(const SpanInfo&)>& filter,
    const std::function<bool(std::uint64_t, std::uint64_t)>& callback, std::size_t maxObjects) const {
    ObjectWalk walk;
    Bitmap alloc, marks, inlineMarks;
    for (const SpanInfo& span : spans_) {
        if (span.state != SpanState::InUse || (filter && !filter(span))) continue;
        ++walk.spans;
        if (!plausibleObjects(span)) continue;
        std::size_t bytes = static_cast<std::size_t>((span.nelems + 7) / 8);
        // Bits are only read when some slot depends on them.
        bool needAlloc = span.freeindex < span.nelems;
        bool needMarks = span.sweep == SweepState::Unswept;
        auto inlineAddress = inlineMarksAddress(layout_, span);
        alloc.load(*memory_, needAlloc ? span.allocBits : 0, needAlloc ? bytes : 0);
        marks.load(*memory_, needMarks ? span.gcmarkBits : 0, needMarks ? bytes : 0);
        inlineMarks.load(*memory_, needMarks && inlineAddress ? *inlineAddress : 0,
                         needMarks && inlineAddress ? bytes : 0);
        for (std::uint64_t i = 0; i < span.nelems; ++i) {
            SlotVerdict verdict = decideSlot(
                span, i, [&](std::uint64_t n) { return alloc.bit(n); },
                [&](std::uint64_t n) {
                    return either(marks.bit(n), inlineMarks.bit(n), inlineAddress.has_value());
                });
            if (verdict.slot == Slot::Unknown) ++walk.unknownSlots;
            if (verdict.slot != Slot::Allocated) continue;
            if (walk.objects >= maxObjects) {
                walk.stopped = true;
                return walk;
            }
            ++walk.objects;
            if (!callback(span.start + i * span.elemSize, span.elemSize)) {
                walk.stopped = true;
                return walk;
            }
        }
    }
    return walk;
}

ObjectWalk HeapModel::forEachAllocatedObject(
    std::uint64_t elemSize, const std::function<bool(std::uint64_t, std::uint64_t)>& callback,
    std::size_t maxObjects) const {
    return forEachAllocatedObject([elemSize](const SpanInfo& span) { return span.elemSize == elemSize; },
                                  callback, maxObjects);
}

}  // namespace gomapcore
