#include "analysis/map_recognition.h"

#include <fmt/format.h>

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
                                         const std::vector<StackObject>* frameObjects, std::string* why) {
    // The one group of a small swiss map (dirLen 0, dirPtr the group) or the buckets of a
    // classic map are an allocation the GC scans, and it records which of their words hold
    // pointers: in the frame, the bitmap the compiler wrote for the stack object
    // (src/cmd/compile/internal/walk/builtin.go walkMakeMap puts a non-escaping map's storage
    // there); on the heap (Go 1.22+, src/runtime/mbitmap.go), the span's heap bits or the noscan
    // span class for a small object, and for a larger one the type mallocgc was asked for,
    // which its malloc header or its span's largeType names (newarray(t.Bucket, n) in
    // runtime/map.go makeBucketArray, newarray(typ.Group, n) in internal/runtime/maps): its
    // size is exactly one bucket's or group's. Only the map types whose bucket or group has
    // those pointer words (and that size) can have made it. Types that differ only in
    // non-pointer words (map[string]int, map[string]bool) stay candidates; when nothing can be
    // told, all do.
    const MapTypeLayout* first = session.layouts().layoutFor(types.front(), nullptr);
    if (first == nullptr) return types;
    Reader reader(session.memory());
    std::optional<std::uint64_t> storage;
    if (first->kind == MapLayoutKind::Swiss) {
        const SwissLayout& s = first->swiss;
        auto dirLen = reader.unsignedOfSize(header + s.dirLen.offset, s.dirLen.size);
        if (dirLen && *dirLen == 0) {
            storage = reader.u64(header + s.dirPtr.offset);
        } else if (dirLen && s.groupsData.present) {
            // A big map: the first table's groups.
            auto dirPtr = reader.u64(header + s.dirPtr.offset);
            auto table = dirPtr ? reader.u64(*dirPtr) : std::nullopt;
            if (table && *table != 0) storage = reader.u64(*table + s.groupsData.offset);
        }
    } else {
        storage = reader.u64(header + first->classic.buckets.offset);
    }
    if (!storage || *storage == 0) return types;
    std::optional<std::vector<bool>> mask;
    std::optional<std::uint64_t> exactSize, maxSize;
    std::string record, recordedName;
    const GoSymbols* functions = session.symbols();
    if (frame != nullptr && frameObjects != nullptr && functions != nullptr) {
        for (const StackObject& object : *frameObjects) {
            if (frame->addressOf(object) != *storage) continue;
            mask = functions->pointerWords(object);
            exactSize = static_cast<std::uint64_t>(object.size);
            record = fmt::format("the compiler's bitmap of the stack object at {:#x}", *storage);
            break;
        }
    }
    if (!exactSize) {
        const HeapModel* model = session.heap();
        if (model == nullptr) return types;
        mask = model->objectPointerWords(*storage);
        if (mask) {
            maxSize = model->classify(*storage).objectSize;
            record = fmt::format("the heap's pointer bits of the object at {:#x}", *storage);
        } else if (auto object = model->objectWithDataAt(*storage)) {
            if (auto descriptor = model->recordedType(*object)) {
                if (auto shape = session.runtimeTypeShape(*descriptor)) {
                    exactSize = shape->size;
                    mask = shape->pointerWords;
                    recordedName = session.runtimeType(*descriptor).name;
                    record =
                        fmt::format("the type {} ({} bytes) the heap records for the object at {:#x}",
                                    recordedName.empty() ? fmt::format("{:#x}", *descriptor) : recordedName,
                                    shape->size, *storage);
                }
            }
        }
    }
    if (!mask && !exactSize) return types;
    if (mask)
        while (!mask->empty() && !mask->back())
            mask->pop_back();
    std::vector<const Type*> fitting;
    for (const Type* type : types) {
        const MapTypeLayout* layout = session.layouts().layoutFor(type, nullptr);
        if (layout == nullptr) continue;
        const std::uint64_t size = layout->storageSize();
        if ((exactSize && size != *exactSize) || (maxSize && size > *maxSize)) continue;
        if (!mask) {
            fitting.push_back(type);
            continue;
        }
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
    // types.
    if (fitting.empty() && why != nullptr) *why = record;
    // The recorded type's name tells apart types of one shape: the compiler spells the bucket
    // of map[K]V "map.bucket[K]V" and the group "map.group[K]V"
    // (src/cmd/compile/internal/types/fmt.go, tconv2 for a map's internal structs). Runtime
    // names qualify types by package name and DWARF by import path, so only an exact match
    // counts, and none leaves the candidates as they are.
    if (fitting.size() > 1 && !recordedName.empty()) {
        const char* prefix = first->kind == MapLayoutKind::Swiss ? "map.group" : "map.bucket";
        std::vector<const Type*> named;
        for (const Type* type : fitting)
            if (type->name.rfind("map[", 0) == 0 && prefix + type->name.substr(3) == recordedName)
                named.push_back(type);
        if (named.size() == 1) return named;
    }
    return fitting;
}

}  // namespace gomapcore
