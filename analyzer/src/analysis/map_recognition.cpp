#include "analysis/map_recognition.h"

#include <algorithm>

#include "maps/walkers.h"

namespace gomapcore {

bool validatesAsMap(Session& session, std::uint64_t address, const Type* mapType, const WalkLimits& limits) {
    const MapTypeLayout* layout = session.layouts().layoutFor(mapType, nullptr);
    if (layout == nullptr) return false;
    // A validation walk is thrown away: bounded in time, not charged to the memory budget.
    WalkLimits unbudgeted = limits;
    AnalysisBudget timeOnly;
    if (limits.budget != nullptr) {
        timeOnly = limits.budget->timeOnly();
        unbudgeted.budget = &timeOnly;
    }
    MapResult result = walkMap(session.memory(), *layout, address, unbudgeted);
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

std::vector<const Type*> narrowByStorage(Session& session, std::uint64_t header,
                                         const std::vector<const Type*>& types, const StackFrame* frame,
                                         const std::vector<StackObject>* frameObjects) {
    // The one group of a small swiss map (dirLen 0, dirPtr the group) or the buckets of a
    // classic map are an allocation the GC scans, and it records which of their words hold
    // pointers: in the frame, the bitmap the compiler wrote for the stack object
    // (src/cmd/compile/internal/walk/builtin.go walkMakeMap puts a non-escaping map's storage
    // there); on the heap, the span's heap bits, or the noscan span class (Go 1.22+,
    // src/runtime/mbitmap.go). Only the map types whose bucket or group has those pointer words
    // can have made it. Types that differ only in non-pointer words (map[string]int,
    // map[string]bool) stay candidates; when nothing can be told, all do.
    const MapTypeLayout* first = session.layouts().layoutFor(types.front(), nullptr);
    if (first == nullptr) return types;
    Reader reader(session.memory());
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
    const GoSymbols* functions = session.symbols();
    if (frame != nullptr && frameObjects != nullptr && functions != nullptr) {
        for (const StackObject& object : *frameObjects) {
            if (frame->addressOf(object) != *storage) continue;
            mask = functions->pointerWords(object);
            exactSize = static_cast<std::uint64_t>(object.size);
            break;
        }
    }
    if (!exactSize) {
        const HeapModel* model = session.heap();
        if (model == nullptr) return types;
        mask = model->objectPointerWords(*storage);
        if (mask) maxSize = model->classify(*storage).objectSize;
    }
    if (!mask) return types;
    while (!mask->empty() && !mask->back())
        mask->pop_back();
    std::vector<const Type*> fitting;
    for (const Type* type : types) {
        const MapTypeLayout* layout = session.layouts().layoutFor(type, nullptr);
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

}  // namespace gomapcore
