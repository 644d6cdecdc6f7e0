// The scan for map headers among allocated heap objects that no typed root reaches.
#include "analysis/unreached_maps.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "analysis/heap_checks.h"
#include "analysis/map_recognition.h"
#include "maps/walkers.h"

namespace gomapcore {
namespace {

std::uint64_t valueOf(const std::vector<std::byte>& bytes, const FieldSlot& slot) {
    return loadUnsigned(bytes.data() + slot.offset, slot.size);
}

// Whether an allocation of need bytes can be the object of objectSize bytes it landed in. The
// allocator rounds a small request up to its size class (runtime/sizeclasses.go: a class wastes
// at most a quarter of the smaller sizes map structures use) and a large one up to whole pages
// (runtime/malloc.go, mallocgc); a class bucket array may carry preallocated overflow buckets,
// 1/16 more for B >= 4 (runtime/map.go, makeBucketArray). A pruning bound only: full validation
// decides.
bool fits(std::uint64_t need, std::uint64_t objectSize, bool overflowSlack, std::uint64_t pageSize) {
    if (need == 0 || need > objectSize) return false;
    std::uint64_t upper = need + (overflowSlack ? need / 16 : 0);
    upper += upper / 4 + std::max<std::uint64_t>(pageSize, 16);
    return objectSize <= upper;
}

// The element size of the size class holding a size-byte object: the runtime's own table,
// runtime.class_to_size (src/runtime/sizeclasses.go) or, from Go 1.25,
// internal/runtime/gc.SizeClassToSize (src/internal/runtime/gc/sizeclasses.go).
std::optional<std::uint64_t> sizeClassOf(TypeTable& types, const Memory& memory, std::uint64_t bias,
                                         std::uint64_t size) {
    const GlobalVariable* table = types.global("internal/runtime/gc.SizeClassToSize");
    if (table == nullptr) table = types.global("runtime.class_to_size");
    if (table == nullptr || table->type == nullptr) return std::nullopt;
    const Type* array = table->type->underlying();
    if (array->tag != TypeTag::Array || array->target == nullptr || array->count == 0 || array->count > 1024)
        return std::nullopt;
    std::uint64_t width = array->target->byteSize();
    if (width != 2 && width != 4 && width != 8) return std::nullopt;
    std::vector<std::byte> bytes(array->count * width);
    if (!memory.read(table->address + bias, bytes).complete()) return std::nullopt;
    // Class 0 stands for large objects; classes ascend.
    for (std::uint64_t i = 1; i < array->count; ++i) {
        std::uint64_t classSize = loadUnsigned(bytes.data() + i * width, width);
        if (classSize >= size) return classSize;
    }
    return std::nullopt;
}

}  // namespace

void addUnreachedMaps(Session& session, RunContext& run, std::vector<MapResult>& maps) {
    const WalkLimits& limits = run.limits;
    const UnreachedLimits& bounds = run.unreached;
    const HeapModel* model = session.heap();
    if (model == nullptr) return;
    const bool classic = session.programLayout() == MapLayoutKind::Classic;
    const Type* header = session.mapHeaderType();
    if (header == nullptr) return;
    const std::uint64_t headerSize = header->underlying()->byteSize();
    // The runtime allocates a map header on its own (runtime/map.go makemap: new(hmap);
    // internal/runtime/maps/map.go NewMap: new(Map)), so it is an object of exactly its size class.
    auto classSize = sizeClassOf(session.types(), session.memory(), session.loadBias(), headerSize);
    if (!classSize) {
        run.notes.push_back(
            "unreached maps: the runtime's size class table is not readable; heap objects are not "
            "scanned for map headers");
        return;
    }
    // Type-independent header fields, from the runtime's own header type.
    ClassicLayout hmap;
    SwissLayout swiss;
    if (classic ? !resolveFields<ClassicLayout>(header, kHmapFields, hmap)
                : !resolveFields<SwissLayout>(header, kSwissMapFields, swiss) || !swiss.globalShift.present)
        return;
    const FieldSlot count = hmap.count, B = hmap.B, buckets = hmap.buckets;
    const FieldSlot dirPtr = swiss.dirPtr, dirLen = swiss.dirLen, globalDepth = swiss.globalDepth,
                    globalShift = swiss.globalShift;
    for (const FieldSlot& slot : classic ? std::vector<FieldSlot>{count, B, buckets}
                                         : std::vector<FieldSlot>{dirPtr, dirLen, globalDepth, globalShift})
        if (slot.size < 1 || slot.size > 8) return;
    // internal/runtime/maps.table: capacity and groups.data, to size a big swiss map's groups.
    const Type* table = classic ? nullptr : session.types().byName("internal/runtime/maps.table");
    SwissLayout tableLayout;
    FieldSlot capacity, groupsData;
    if (const Field* groups = table == nullptr ? nullptr : table->field("groups"); groups && groups->type) {
        resolveFields<SwissLayout>(table, kSwissTableFields, tableLayout);
        resolveFields<SwissLayout>(groups->type, kGroupReferenceFields, tableLayout);
        if (tableLayout.capacity.size >= 1 && tableLayout.capacity.size <= 8) capacity = tableLayout.capacity;
        if (tableLayout.groupsData.size >= 1 && tableLayout.groupsData.size <= 8) {
            groupsData = tableLayout.groupsData;
            groupsData.offset += groups->offset;
        }
    }

    std::set<std::uint64_t> known;
    for (const MapResult& map : maps)
        known.insert(map.address);
    // Every program map type of this layout; go.shape.* are the compiler's generic shapes,
    // duplicates of real types.
    std::vector<const MapTypeLayout*> layouts;
    bool layoutsLoaded = false;
    auto allLayouts = [&]() -> const std::vector<const MapTypeLayout*>& {
        if (!layoutsLoaded) {
            layoutsLoaded = true;
            for (const std::string& name : session.types().mapTypeNames()) {
                if (name.find("go.shape.") != std::string::npos) continue;
                const Type* type = session.types().byName(name);
                const MapTypeLayout* layout = type ? session.layouts().layoutFor(type, nullptr) : nullptr;
                if (layout != nullptr && layout->kind == session.programLayout()) layouts.push_back(layout);
            }
        }
        return layouts;
    };
    const std::uint64_t pageSize = model->layout().pageSize;
    WalkLimits probe = limits;
    probe.maxBucketsPerMap = std::min<std::uint64_t>(probe.maxBucketsPerMap, 1u << 16);
    probe.collectSlots = false;

    Reader reader(session.memory());
    std::vector<std::byte> bytes(headerSize);
    std::size_t validations = 0;
    bool validationLimit = false;
    bool outOfTime = false;
    std::vector<std::pair<std::uint64_t, std::vector<const Type*>>> found;
    // The bytes of the allocated object whose data starts at address: at the slot's start, or
    // behind a malloc header (Go 1.22+: a scannable object over 512 bytes, such as the buckets
    // of a map[string]bool of more than 8 entries or the groups of a table, starts 8 bytes into
    // its slot, runtime/malloc.go mallocgcSmallScanHeader).
    auto objectAt = [&](std::uint64_t address) -> std::optional<std::uint64_t> {
        auto object = model->objectWithDataAt(address);
        if (!object) return std::nullopt;
        return object->dataSize();
    };

    ObjectWalk scan = model->forEachAllocatedObject(
        *classSize,
        [&](std::uint64_t address, std::uint64_t) {
            if (limits.budget != nullptr && limits.budget->timeUp()) {
                outOfTime = true;
                return false;
            }
            if (known.count(address) || !session.memory().read(address, bytes).complete()) return true;
            // Cheap, type-independent checks of what the runtime can have written; then the
            // map types whose storage fits the object it points at.
            std::vector<const MapTypeLayout*> candidates;
            if (classic) {
                // runtime/map.go: B < 64 (bucketShift), count >= 0, buckets the start of its
                // own allocation (makeBucketArray: newarray), or a bucket in a frame.
                std::uint64_t b = valueOf(bytes, B);
                std::uint64_t bucketArray = valueOf(bytes, buckets);
                if (b > 63 || static_cast<std::int64_t>(valueOf(bytes, count)) < 0 || bucketArray == 0)
                    return true;
                std::optional<std::uint64_t> size = objectAt(bucketArray);
                if (!size && model->classify(bucketArray).kind != HeapAddressKind::StackSpan) return true;
                for (const MapTypeLayout* layout : allLayouts()) {
                    std::uint64_t bucketSize = layout->classic.bucketSize;
                    // bucketSize <= size >> b first: bucketSize << b cannot overflow then.
                    if (!size ||
                        (bucketSize <= (*size >> b) && fits(bucketSize << b, *size, b >= 4, pageSize)))
                        candidates.push_back(layout);
                }
            } else {
                std::uint64_t directory = valueOf(bytes, dirPtr);
                std::uint64_t length = valueOf(bytes, dirLen);
                std::uint64_t depth = valueOf(bytes, globalDepth);
                // A small map with no group holds nothing validation could check (it demands
                // storage), so dirPtr must be an allocation.
                if (directory == 0) return true;
                std::optional<std::uint64_t> size = objectAt(directory);
                if (!size) return true;
                if (length == 0) {
                    // internal/runtime/maps/map.go: a small map's dirPtr is its one group
                    // (newarray(typ.Group, 1)).
                    for (const MapTypeLayout* layout : allLayouts())
                        if (fits(layout->swiss.groupSize, *size, false, pageSize))
                            candidates.push_back(layout);
                } else {
                    // map.go: len(directory) == 1 << globalDepth, globalShift == 64 - globalDepth
                    // (PtrSize*8 - globalDepth, see installTableSplit / newarray of the directory).
                    if (depth > 63 || length != std::uint64_t{1} << depth ||
                        valueOf(bytes, globalShift) != 64 - depth || length > limits.maxDirectoryEntries ||
                        *size < length * 8)
                        return true;
                    // The first table's groups: capacity/8 groups of the type's size
                    // (table.go, newTable/reset: newarray(typ.Group, capacity/abi.MapGroupSlots)).
                    std::optional<std::uint64_t> groupsSize;
                    std::uint64_t slots = 0;
                    if (capacity.present && groupsData.present) {
                        if (auto first = reader.u64(directory); first && objectAt(*first)) {
                            auto cap = reader.u64(*first + capacity.offset);
                            auto data = reader.u64(*first + groupsData.offset);
                            if (cap && data) {
                                slots = *cap & ((std::uint64_t{1} << (8 * capacity.size)) - 1);
                                groupsSize = objectAt(*data);
                            }
                        }
                    }
                    if (!groupsSize || slots < 8) return true;
                    for (const MapTypeLayout* layout : allLayouts())
                        if (fits(slots / 8 * layout->swiss.groupSize, *groupsSize, false, pageSize))
                            candidates.push_back(layout);
                }
            }
            std::vector<const Type*> valid;
            for (const MapTypeLayout* layout : candidates) {
                if (validations >= bounds.maxValidations) {
                    validationLimit = true;
                    return false;
                }
                ++validations;
                if (validatesAsMap(session, address, layout->mapType, probe))
                    valid.push_back(layout->mapType);
            }
            if (!valid.empty()) found.emplace_back(address, std::move(valid));
            return true;
        },
        bounds.maxCandidates);

    if (outOfTime) {
        run.limitsHit.push_back(limits.budget->timeLimitName());
        run.notes.push_back(
            fmt::format("unreached maps: the time limit ran out after {} heap objects of {} bytes",
                        scan.objects, *classSize));
    } else if (validationLimit) {
        run.limitsHit.push_back("max-unreached-validations");
        run.notes.push_back(
            fmt::format("unreached maps: the scan stopped after {} validation walks (limit "
                        "max_validations); later heap objects were not looked at",
                        validations));
    } else if (scan.stopped) {
        run.limitsHit.push_back("max-unreached-candidates");
        run.notes.push_back(
            fmt::format("unreached maps: the scan stopped after {} heap objects of {} bytes (limit "
                        "max_candidates); later ones were not looked at",
                        scan.objects, *classSize));
    }
    std::vector<std::string> contradicted;
    for (auto& [address, types] : found) {
        std::string why;
        std::vector<const Type*> validated = types;
        types = narrowByStorage(session, address, types, nullptr, nullptr, &why);
        if (types.empty()) {
            std::string names;
            for (const Type* type : validated)
                names += (names.empty() ? "" : ", ") + type->name;
            contradicted.push_back(fmt::format("{:#x} (validates as {}; {})", address, names, why));
            continue;
        }
        MapResult result = session.walk(address, types.front(), limits);
        result.confidence = Confidence::Heuristic;
        // With several fitting types the map is walked as the first and reported as of
        // unknown type with the candidates, never as one of them.
        if (types.size() > 1)
            for (const Type* type : types)
                result.typeCandidates.push_back(type->name);
        checkFreedStructures(*model, result);
        if (!limits.collectSlots) dropStructure(result, limits.budget);
        maps.push_back(std::move(result));
    }
    // Each is named, so a map that should have been found can be traced to its record.
    constexpr std::size_t kNamedContradictions = 5;
    if (!contradicted.empty()) {
        std::string named;
        for (std::size_t i = 0; i < contradicted.size() && i < kNamedContradictions; ++i)
            named += (i == 0 ? "" : "; ") + contradicted[i];
        if (contradicted.size() > kNamedContradictions)
            named += fmt::format("; and {} more", contradicted.size() - kNamedContradictions);
        run.notes.push_back(
            fmt::format("unreached maps: {} heap objects validate as map headers, but what the GC records "
                        "of their storage fits none of those map types; not reported: {}",
                        contradicted.size(), named));
    }
}

}  // namespace gomapcore
