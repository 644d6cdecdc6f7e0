// Byte layouts of a map type's runtime structures, taken from the DWARF the Go linker
// synthesizes for each map type (classic: hash<K,V> and bucket<K,V>; swiss: map<K,V>,
// table<K,V>, groupReference<K,V> and the compiler's noalg.map.group[K]V). Nothing here is a
// per-version constant: every offset and size comes from the executable.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "binary/struct_fields.h"
#include "binary/types.h"
#include "gomapcore/map_model.h"

namespace gomapcore {

// golang/go src/runtime/map.go (hmap, bmap, mapextra) @go1.23; map_noswiss.go @go1.24/1.25.
struct ClassicLayout {
    std::uint64_t headerSize = 0;
    FieldSlot count, flags, B, noverflow, hash0, buckets, oldbuckets, nevacuate, clearSeq, extra;
    std::uint64_t bucketSize = 0;
    FieldSlot tophash, keys, values, overflow;
    std::uint64_t keySlotSize = 0;   // stride of keys[i] (pointer size when indirect)
    std::uint64_t elemSlotSize = 0;  // stride of values[i]
    FieldSlot extraOverflow, extraOldOverflow, extraNextOverflow;  // runtime.mapextra
    std::uint64_t extraSize = 0;                                   // sizeof(runtime.mapextra)
};

// The runtime structs behind a classic map, described once (binary/struct_fields.h).
// runtime.hmap; clearSeq only in the 56-byte headers of Go 1.24/1.25 noswissmap.
inline constexpr FieldSpec<ClassicLayout> kHmapFields[] = {
    {"count", "", &ClassicLayout::count, true},
    {"flags", "", &ClassicLayout::flags, true},
    {"B", "", &ClassicLayout::B, true},
    {"noverflow", "", &ClassicLayout::noverflow, true},
    {"hash0", "", &ClassicLayout::hash0, false},
    {"buckets", "", &ClassicLayout::buckets, true},
    {"oldbuckets", "", &ClassicLayout::oldbuckets, true},
    {"nevacuate", "", &ClassicLayout::nevacuate, true},
    {"clearSeq", "", &ClassicLayout::clearSeq, false},
    {"extra", "", &ClassicLayout::extra, true},
};
// runtime.bmap as the linker synthesizes it per map type (bucket<K,V>); "values" is "elems" in
// some releases.
inline constexpr FieldSpec<ClassicLayout> kBmapFields[] = {
    {"tophash", "", &ClassicLayout::tophash, true},
    {"keys", "", &ClassicLayout::keys, true},
    {"values", "elems", &ClassicLayout::values, true},
    {"overflow", "", &ClassicLayout::overflow, true},
};
// runtime.mapextra.
inline constexpr FieldSpec<ClassicLayout> kMapextraFields[] = {
    {"overflow", "", &ClassicLayout::extraOverflow, false},
    {"oldoverflow", "", &ClassicLayout::extraOldOverflow, false},
    {"nextOverflow", "", &ClassicLayout::extraNextOverflow, false},
};

// golang/go src/internal/runtime/maps/{map.go,table.go,group.go} @go1.24..1.27.
struct SwissLayout {
    std::uint64_t headerSize = 0;
    FieldSlot used, seed, dirPtr, dirLen, globalDepth, globalShift, writing, tombstonePossible, clearSeq;
    std::uint64_t tableSize = 0;
    FieldSlot tableUsed, capacity, growthLeft, localDepth, index, groupsData, lengthMask;
    std::uint64_t groupSize = 0;
    FieldSlot ctrl;
    bool splitGroup = false;  // GOEXPERIMENT=mapsplitgroup: keys and elems in separate arrays
    // Interleaved: slot i at slotsOffset + i*slotStride, key/elem at keyInSlot/elemInSlot within.
    std::uint64_t slotsOffset = 0, slotStride = 0, keyInSlot = 0, elemInSlot = 0;
    // Split: key i at keysOffset + i*keyStride, elem i at elemsOffset + i*elemStride.
    std::uint64_t keysOffset = 0, keyStride = 0, elemsOffset = 0, elemStride = 0;
};

// The runtime structs behind a swiss map, described once (binary/struct_fields.h).
// internal/runtime/maps.Map (map<K,V>).
inline constexpr FieldSpec<SwissLayout> kSwissMapFields[] = {
    {"used", "", &SwissLayout::used, true},
    {"seed", "", &SwissLayout::seed, false},
    {"dirPtr", "", &SwissLayout::dirPtr, true},
    {"dirLen", "", &SwissLayout::dirLen, true},
    {"globalDepth", "", &SwissLayout::globalDepth, true},
    {"globalShift", "", &SwissLayout::globalShift, false},
    {"writing", "", &SwissLayout::writing, true},
    {"tombstonePossible", "", &SwissLayout::tombstonePossible, false},
    {"clearSeq", "", &SwissLayout::clearSeq, false},
};
// internal/runtime/maps.table (table<K,V>); its groups field (a groupReference) is read apart.
inline constexpr FieldSpec<SwissLayout> kSwissTableFields[] = {
    {"used", "", &SwissLayout::tableUsed, true},        {"capacity", "", &SwissLayout::capacity, true},
    {"growthLeft", "", &SwissLayout::growthLeft, true}, {"localDepth", "", &SwissLayout::localDepth, true},
    {"index", "", &SwissLayout::index, true},
};
// internal/runtime/maps.groupReference, offsets relative to the table's groups field.
inline constexpr FieldSpec<SwissLayout> kGroupReferenceFields[] = {
    {"data", "", &SwissLayout::groupsData, true},
    {"lengthMask", "", &SwissLayout::lengthMask, true},
};
// The group (noalg.map.group[K]V): its control word.
inline constexpr FieldSpec<SwissLayout> kSwissGroupFields[] = {
    {"ctrl", "", &SwissLayout::ctrl, true},
};

struct MapTypeLayout {
    const Type* mapType = nullptr;     // the map[K]V typedef
    const Type* headerType = nullptr;  // hash<K,V> or map<K,V>
    const Type* keyType = nullptr;
    const Type* elemType = nullptr;
    MapLayoutKind kind = MapLayoutKind::Classic;
    bool indirectKey = false;    // slots hold *K (K larger than 128 bytes)
    bool indirectElem = false;   // slots hold *V
    std::uint64_t keySize = 0;   // sizeof(K)
    std::uint64_t elemSize = 0;  // sizeof(V)
    ClassicLayout classic;
    SwissLayout swiss;

    // Address of key/elem slot i of a bucket (classic) or group (swiss).
    std::uint64_t keySlot(std::uint64_t container, unsigned i) const;
    std::uint64_t elemSlot(std::uint64_t container, unsigned i) const;
    // Bytes of one bucket (classic) or group (swiss).
    std::uint64_t storageSize() const {
        return kind == MapLayoutKind::Classic ? classic.bucketSize : swiss.groupSize;
    }
    // Which words of one bucket or group hold pointers, as the GC scans it, up to the last
    // pointer word (its PtrBytes); nullopt when a key or elem type is not fully described.
    std::optional<std::vector<bool>> storagePointerWords() const;
};

// Derives and caches layouts per map type.
class LayoutCatalog {
  public:
    explicit LayoutCatalog(TypeTable& types) : types_(types) {}

    // The layout of a map type (a type whose kind is Map), or an explanation of why the DWARF
    // does not describe a layout gomapcore understands.
    const MapTypeLayout* layoutFor(const Type* mapType, std::string* whyNot = nullptr);

  private:
    TypeTable& types_;
    std::unordered_map<const Type*, std::unique_ptr<MapTypeLayout>> cache_;
    std::unordered_map<const Type*, std::string> failures_;
};

}  // namespace gomapcore
