// The Go heap's span model, read from a core: which addresses belong to heap objects, which to
// goroutine stacks, and whether a given object slot is allocated. Everything comes from the
// runtime's own bookkeeping, runtime.mheap_ and the mspans in mheap_.allspans (golang/go
// src/runtime/mheap.go), with every field offset and runtime constant taken from the
// executable's DWARF; nothing here is a per-version offset.
//
// Allocation state is decided the way the runtime decides it (src/runtime/mbitmap.go,
// mspan.isFree): slot i of an in-use span is allocated iff i < freeindex or allocBits[i] is set.
// In a span the sweeper has not reached yet in the current GC cycle, the previous cycle's mark
// bits also decide: an allocated but unmarked object there is garbage the next sweep frees
// (src/runtime/mgcsweep.go, mspan.sweep). Bits the core did not capture give Unknown, never a
// guess.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "binary/struct_fields.h"
#include "binary/types.h"
#include "gomapcore/memory.h"

namespace gomapcore {

// Where a span and its heap live in memory: offsets into runtime.mheap and runtime.mspan and the
// runtime constants the model needs. Read from DWARF by fromDwarf; unit tests build one by hand.
struct HeapLayout {
    // runtime.mheap
    std::uint64_t heapSweepgen = 0;                    // mheap.sweepgen (uint32)
    std::uint64_t allspansArray = 0, allspansLen = 0;  // mheap.allspans []*mspan: data, len
    std::uint64_t allspansCap = 0;                     //   and cap
    bool hasArenas = false;                            // mheap.allArenas / heapArenas known
    std::uint64_t arenasArray = 0, arenasLen = 0;      // []arenaIdx: data and len
    std::uint64_t arenaIndexSize = 8;                  // sizeof(arenaIdx)
    std::uint64_t heapArenaBytes = 0;                  // runtime.heapArenaBytes
    std::uint64_t arenaBaseOffset = 0;                 // runtime.arenaBaseOffsetUintptr
    // mheap.pagesInUse: pages of spans in state mSpanInUse (optional; the heap in use).
    FieldSlot pagesInUse;
    // runtime.mspan
    std::uint64_t spanSize = 0;
    FieldSlot startAddr, npages, freeindex, nelems, allocBits, gcmarkBits, sweepgen, allocCount, spanclass,
        elemsize;
    FieldSlot state;  // the state byte itself, inside mSpanStateBox when the field is boxed
    // Constants (runtime/mheap.go mSpanState values; runtime/malloc.go page size).
    std::uint64_t pageSize = 0;
    std::uint8_t stateDead = 0, stateInUse = 0, stateManual = 0;
    // Green Tea GC (Go 1.26 default; GOEXPERIMENT=greenteagc in 1.25): small-object spans keep
    // the current cycle's marks inline at the end of their page (runtime/mgcmark_greenteagc.go,
    // spanInlineMarkBits) until the sweeper merges them into gcmarkBits.
    bool inlineMarkBits = false;
    std::uint64_t inlineMarkBitsSize = 0;      // sizeof(runtime.spanInlineMarkBits)
    std::uint64_t inlineMarksOffset = 0;       // offset of its marks array
    std::uint64_t minSizeForMallocHeader = 0;  // largest elemsize with heap bits in the span
    // Go 1.22+ allocation headers (runtime/mbitmap.go): a scannable span of objects of at most
    // minSizeForMallocHeader bytes keeps their pointer bits at its end, one bit per word.
    bool heapBitsInSpan = false;
    // With them, a larger small scannable object starts with a malloc header, the *_type of
    // what mallocgc was asked for, and its data follows it (runtime/malloc.go mallocHeaderSize);
    // a large object's type is mspan.largeType.
    std::uint64_t mallocHeaderSize = 0;
    FieldSlot largeType;

    // The layout the executable's DWARF describes, or nullopt with the reason in whyNot. Runtime
    // constants come from TypeTable::constant (the DW_TAG_constant entries the Go compiler emits
    // per package, golang/go src/cmd/compile/internal/gc/obj.go dumpGlobalConst); notes about
    // ones the DWARF lacks (a documented fallback is used) go to notes.
    static std::optional<HeapLayout> fromDwarf(TypeTable& types, std::string* whyNot,
                                               std::vector<std::string>* notes);
};

// runtime.mspan (golang/go src/runtime/mheap.go): the fields the model reads, all required.
// state is found separately (stateByte in heap_model.cpp): its type changed shape over versions.
inline constexpr FieldSpec<HeapLayout> kMspanFields[] = {
    {"startAddr", "", &HeapLayout::startAddr, true}, {"npages", "", &HeapLayout::npages, true},
    {"freeindex", "", &HeapLayout::freeindex, true}, {"nelems", "", &HeapLayout::nelems, true},
    {"allocBits", "", &HeapLayout::allocBits, true}, {"gcmarkBits", "", &HeapLayout::gcmarkBits, true},
    {"sweepgen", "", &HeapLayout::sweepgen, true},   {"allocCount", "", &HeapLayout::allocCount, true},
    {"spanclass", "", &HeapLayout::spanclass, true}, {"elemsize", "", &HeapLayout::elemsize, true},
};

enum class SpanState : std::uint8_t {
    InUse,    // mSpanInUse: garbage-collected heap objects
    Manual,   // mSpanManual: goroutine stacks and other runtime-managed memory
    Dead,     // mSpanDead: the mspan describes nothing (its start and size are stale)
    Unknown,  // a state byte the runtime does not define
};
const char* toString(SpanState state);

// Where a span stands in the current GC cycle (mspan.sweepgen against mheap_.sweepgen, see the
// comment on mspan.sweepgen in runtime/mheap.go).
enum class SweepState : std::uint8_t {
    Swept,       // sweepgen == h.sweepgen, or h.sweepgen+3 (swept, then cached)
    Unswept,     // h.sweepgen-2 (needs sweeping), or h.sweepgen+1 (cached before the sweep began)
    BeingSwept,  // h.sweepgen-1: a sweeper was rewriting its bits when the process stopped
    Inconsistent,
};
const char* toString(SweepState state);

struct SpanInfo {
    std::uint64_t mspan = 0;  // address of the runtime.mspan record
    std::uint64_t start = 0;
    std::uint64_t end = 0;  // start + npages * pageSize (exclusive)
    std::uint64_t npages = 0;
    SpanState state = SpanState::Unknown;
    std::uint8_t rawState = 0;
    std::uint8_t sizeClass = 0;  // spanclass >> 1; 0 for a large-object span
    bool noscan = false;         // spanclass & 1: objects hold no pointers
    SweepState sweep = SweepState::Inconsistent;
    std::uint64_t elemSize = 0;
    std::uint64_t nelems = 0;
    std::uint64_t freeindex = 0;
    std::uint64_t allocCount = 0;
    std::uint32_t sweepgen = 0;
    std::uint64_t allocBits = 0;   // address of the span's allocation bitmap (*gcBits)
    std::uint64_t gcmarkBits = 0;  // address of its mark bitmap
    std::uint64_t largeType = 0;   // mspan.largeType (Go 1.22+): a large object's *_type, or 0

    bool contains(std::uint64_t address) const { return address >= start && address < end; }
};

enum class HeapAddressKind : std::uint8_t {
    NotHeap,               // in no live span and no heap arena
    InUseObjectAllocated,  // inside an allocated object of an in-use span
    InUseObjectFree,       // inside a free object slot (or garbage awaiting the sweeper)
    SpanTail,              // in an in-use span but past its last object slot
    FreeSpan,              // in a heap arena, in pages no live span holds
    StackSpan,             // in an mSpanManual span: goroutine stacks (and other manual memory)
    Unknown,               // the core does not say (bits not captured, span being swept, ...)
};
const char* toString(HeapAddressKind kind);

struct HeapAddress {
    HeapAddressKind kind = HeapAddressKind::NotHeap;
    std::uint64_t objectStart = 0;  // object kinds: the slot's first byte
    std::uint64_t objectSize = 0;   // object kinds: the slot size (the span's elemsize)
    const SpanInfo* span = nullptr;
    bool garbage = false;       // InUseObjectFree: allocated, but unmarked in an unswept span
    const char* why = nullptr;  // Unknown: the reason
};

struct HeapLimits {
    // At most this many entries of allspans are read; a larger len is reported and cut.
    std::size_t maxSpans = std::size_t{1} << 22;
    // At most this many heap arenas (a 64-bit Linux heap has at most 1 << 22 of 64 MiB).
    std::size_t maxArenas = std::size_t{1} << 22;
};

struct HeapStats {
    std::uint64_t allspansLen = 0;  // as the core holds it
    std::size_t recordsRead = 0;    // mspan records decoded
    std::size_t inUse = 0, manual = 0, dead = 0, unknownState = 0;
    std::size_t unreadable = 0;   // allspans entries or mspan records not captured
    std::size_t corrupt = 0;      // records that cannot describe a span (nil, no pages, wraps)
    std::size_t overlapping = 0;  // live spans that overlap the previous one
    std::size_t unswept = 0, beingSwept = 0, inconsistentSweep = 0;  // in-use spans only
    std::size_t arenas = 0;
    bool truncated = false;  // allspans longer than HeapLimits::maxSpans
    std::uint32_t sweepgen = 0;
    std::optional<std::uint64_t> pagesInUse;  // mheap_.pagesInUse, when the core holds it
};

// The Go heap in use (the runtime's HeapInuse): bytes in spans of state mSpanInUse, and where
// the figure came from.
struct HeapInUse {
    std::uint64_t bytes = 0;
    const char* source = "";  // "mheap_.pagesInUse", or "spans" (summed over the spans read)
};

// An allocated heap object and where the data mallocgc returned for it begins: at the slot's
// start, or behind a malloc header (Go 1.22+, runtime/malloc.go).
struct HeapObject {
    std::uint64_t start = 0;  // the slot's first byte
    std::uint64_t size = 0;   // the slot size (elemsize: the size class, or all pages of a large object)
    std::uint64_t data = 0;   // start, or start + mallocHeaderSize
    const SpanInfo* span = nullptr;

    bool mallocHeader() const { return data != start; }
    std::uint64_t dataSize() const { return size - (data - start); }
};

// The result of forEachAllocatedObject.
struct ObjectWalk {
    std::size_t objects = 0;       // callbacks made
    std::size_t spans = 0;         // in-use spans whose slots were looked at
    std::size_t unknownSlots = 0;  // slots whose state the core does not tell (skipped)
    bool stopped = false;          // the callback asked to stop, or maxObjects was reached
};

class HeapModel {
  public:
    // Reads runtime.mheap_ (DWARF global of type runtime.mheap) and every span in allspans.
    // globalsBias is added to the DWARF address of runtime.mheap_ (the load bias of a PIE
    // build; 0 otherwise). Returns nullopt with a note when the heap cannot be read at all;
    // damage inside it gives notes and a partial model. memory must outlive the model (classify
    // reads bits lazily).
    static std::optional<HeapModel> load(const Memory& memory, TypeTable& types, std::uint64_t globalsBias,
                                         std::vector<std::string>& notes, const HeapLimits& limits = {});
    // The same from a layout and the address of runtime.mheap_ (what load uses; unit tests too).
    static std::optional<HeapModel> build(const Memory& memory, const HeapLayout& layout,
                                          std::uint64_t mheapAddress, std::vector<std::string>& notes,
                                          const HeapLimits& limits = {});

    // The live (in-use, manual or unknown-state) span holding address, or nullptr. O(log n).
    const SpanInfo* spanFor(std::uint64_t address) const;
    // Which words of the allocated object starting at objectStart hold pointers, as the GC
    // scans it, trailing non-pointer words dropped: empty for an object of a noscan span, the
    // span's heap bits for a small object (Go 1.22+). nullopt when the heap does not say
    // (older Go, objects with a malloc header, bits not captured, not an object start).
    std::optional<std::vector<bool>> objectPointerWords(std::uint64_t objectStart) const;
    HeapAddress classify(std::uint64_t address) const;
    // The bytes allocated for the heap object a structure at address starts: the slot size
    // (elemsize: the size class, or all pages of a large object) of an allocated object that
    // begins at address, or 8 bytes before it behind a malloc header (Go 1.22+, mallocgc in
    // runtime/malloc.go). nullopt for anything else (stacks, free slots, interior pointers).
    std::optional<std::uint64_t> allocationSize(std::uint64_t address) const;
    // The allocated object whose data begins at address: a slot that starts there, or one
    // whose malloc header lies just before it. nullopt for anything else (stacks, free slots,
    // garbage, interior pointers).
    std::optional<HeapObject> objectWithDataAt(std::uint64_t address) const;
    // The allocated object whose slot holds address, wherever inside it address lies.
    std::optional<HeapObject> objectContaining(std::uint64_t address) const;
    // The runtime type descriptor (*_type) the heap records for an object (Go 1.22+): its
    // malloc header, or its span's largeType for a large object. What mallocgc was asked to
    // allocate: the element type of an array (newarray), so the object may hold several. nullopt
    // when nothing records one (heap bits or a noscan span describe the object, older Go, a
    // large object not yet published) or the word is not captured.
    std::optional<std::uint64_t> recordedType(const HeapObject& object) const;
    // mheap_.pagesInUse times the page size (runtime/mheap.go); without it, the pages of the
    // in-use spans read.
    HeapInUse inUse() const;

    // Calls callback(objectStart, size) for every allocated object in the in-use spans that
    // filter accepts (null filter: all), in address order, until the callback returns false or
    // maxObjects callbacks were made. Slots the core does not tell about are skipped and counted.
    ObjectWalk forEachAllocatedObject(const std::function<bool(const SpanInfo&)>& filter,
                                      const std::function<bool(std::uint64_t, std::uint64_t)>& callback,
                                      std::size_t maxObjects = std::size_t{1} << 26) const;
    // Only spans whose objects are elemSize bytes.
    ObjectWalk forEachAllocatedObject(std::uint64_t elemSize,
                                      const std::function<bool(std::uint64_t, std::uint64_t)>& callback,
                                      std::size_t maxObjects = std::size_t{1} << 26) const;

    // Live spans sorted by start.
    const std::vector<SpanInfo>& spans() const { return spans_; }
    const HeapStats& stats() const { return stats_; }
    const HeapLayout& layout() const { return layout_; }
    // Whether address lies in a heap arena the runtime reserved (false when arenas are unknown).
    bool inArena(std::uint64_t address) const;

  private:
    HeapModel(const Memory& memory, const HeapLayout& layout) : memory_(&memory), layout_(layout) {}

    const Memory* memory_;
    HeapLayout layout_;
    std::vector<SpanInfo> spans_;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> arenas_;  // [start, end), sorted, merged
    HeapStats stats_;
};

}  // namespace gomapcore
