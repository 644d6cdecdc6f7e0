// Hand-built Go types and map layouts for unit tests (amd64, no DWARF).
//
// LayoutFactory owns every Type and MapTypeLayout it builds (in deques, so addresses stay
// stable), so a layout stays valid for as long as the factory: keep the factory in the test
// fixture. The Type graph mirrors what the Go linker synthesizes (map[K]V typedef -> *hash<K,V>
// or *map<K,V>, with bucket / table / group structs).
// The FieldSlots come from the engine's runtime struct descriptions (maps/map_layout.h), and
// must land on the amd64 offsets of the runtime's own structs (src/runtime/map.go;
// src/internal/runtime/maps/map.go, table.go, group.go):
//   classic hmap (48 bytes, Go 1.19-1.23): count@0 flags@8 B@9 noverflow@10 hash0@12 buckets@16
//     oldbuckets@24 nevacuate@32 extra@40; bucket: tophash[8]@0, keys@8, values@8+8*ksize,
//     overflow pointer as the last word.
//   swiss Map (48 bytes): used@0 seed@8 dirPtr@16 dirLen@24 globalDepth@32 globalShift@33
//     writing@34 tombstonePossible@35 clearSeq@40; table (32 bytes): used u16@0 capacity u16@2
//     growthLeft u16@4 localDepth u8@6 index@8 groups.data@16 groups.lengthMask@24;
//     group: ctrl u64@0, then 8 interleaved slots {key, elem}.
// Keys and elems larger than 128 bytes are stored indirectly (the slot holds a pointer).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "binary/types.h"
#include "field_slot.h"
#include "maps/map_layout.h"

namespace gmtest {

class LayoutFactory {
  public:
    static constexpr std::uint64_t kMaxInlineSize = 128;

    LayoutFactory() = default;
    LayoutFactory(const LayoutFactory&) = delete;
    LayoutFactory& operator=(const LayoutFactory&) = delete;

    // --- Types ---------------------------------------------------------------------------
    const gomapcore::Type* int64Type() { return cached(int64_, "int64", 8, gomapcore::GoKind::Int64, true); }
    const gomapcore::Type* intType() { return cached(int_, "int", 8, gomapcore::GoKind::Int, true); }
    const gomapcore::Type* uint64Type() {
        return cached(uint64_, "uint64", 8, gomapcore::GoKind::Uint64, false);
    }
    const gomapcore::Type* uint32Type() {
        return cached(uint32_, "uint32", 4, gomapcore::GoKind::Uint32, false);
    }
    const gomapcore::Type* uint16Type() {
        return cached(uint16_, "uint16", 2, gomapcore::GoKind::Uint16, false);
    }
    const gomapcore::Type* uint8Type() { return cached(uint8_, "uint8", 1, gomapcore::GoKind::Uint8, false); }
    const gomapcore::Type* uintptrType() {
        return cached(uintptr_, "uintptr", 8, gomapcore::GoKind::Uintptr, false);
    }
    const gomapcore::Type* boolType() { return cached(bool_, "bool", 1, gomapcore::GoKind::Bool, false); }
    const gomapcore::Type* unsafePointerType() {
        if (unsafePointer_ == nullptr) {
            gomapcore::Type* t =
                newType("unsafe.Pointer", gomapcore::TypeTag::Pointer, gomapcore::GoKind::UnsafePointer, 8);
            unsafePointer_ = t;
        }
        return unsafePointer_;
    }

    const gomapcore::Type* pointerTo(const gomapcore::Type* target) {
        gomapcore::Type* t =
            newType("*" + target->name, gomapcore::TypeTag::Pointer, gomapcore::GoKind::Pointer, 8);
        t->target = target;
        return t;
    }

    const gomapcore::Type* arrayOf(const gomapcore::Type* element, std::uint64_t count,
                                   std::string name = "") {
        if (name.empty()) name = "[" + std::to_string(count) + "]" + element->name;
        gomapcore::Type* t = newType(std::move(name), gomapcore::TypeTag::Array, gomapcore::GoKind::Array,
                                     element->byteSize() * count);
        t->target = element;
        t->elem = element;
        t->count = count;
        return t;
    }

    // A struct laid out with Go's rules (fields aligned to their alignment, size rounded up to
    // the struct's alignment, one padding byte after a trailing zero-size field).
    const gomapcore::Type* structOf(
        std::string name, const std::vector<std::pair<std::string, const gomapcore::Type*>>& fields) {
        gomapcore::Type* t = declareStruct(std::move(name));
        defineStruct(t, fields);
        return t;
    }

    const gomapcore::Type* emptyStruct() {
        if (emptyStruct_ == nullptr) emptyStruct_ = structOf("struct {}", {});
        return emptyStruct_;
    }

    // main.T {id int64; next *main.T}: 16 bytes, pointerful.
    const gomapcore::Type* typeT() {
        if (typeT_ == nullptr) {
            gomapcore::Type* t = declareStruct("main.T");
            defineStruct(t, {{"id", int64Type()}, {"next", pointerTo(t)}});
            typeT_ = t;
        }
        return typeT_;
    }

    // main.Big {data [25]int64}: 200 bytes, above the 128-byte inline limit.
    const gomapcore::Type* typeBig() {
        if (typeBig_ == nullptr) typeBig_ = structOf("main.Big", {{"data", arrayOf(int64Type(), 25)}});
        return typeBig_;
    }

    // --- Layouts -------------------------------------------------------------------------
    const gomapcore::MapTypeLayout& classicMap(const gomapcore::Type* key, const gomapcore::Type* elem) {
        const auto [keySlot, elemSlot] = slotTypes(key, elem);
        const std::string kv = key->name + "," + elem->name;

        // Types, as the linker synthesizes them.
        gomapcore::Type* bucket = declareStruct("bucket<" + kv + ">");
        defineStruct(bucket, {{"tophash", arrayOf(uint8Type(), 8)},
                              {"keys", arrayOf(keySlot, 8, "[]key<" + key->name + ">")},
                              {"values", arrayOf(elemSlot, 8, "[]val<" + elem->name + ">")},
                              {"overflow", pointerTo(bucket)}});
        const gomapcore::Type* extra = structOf("runtime.mapextra", {{"overflow", unsafePointerType()},
                                                                     {"oldoverflow", unsafePointerType()},
                                                                     {"nextOverflow", unsafePointerType()}});
        const gomapcore::Type* header = structOf("hash<" + kv + ">", {{"count", intType()},
                                                                      {"flags", uint8Type()},
                                                                      {"B", uint8Type()},
                                                                      {"noverflow", uint16Type()},
                                                                      {"hash0", uint32Type()},
                                                                      {"buckets", pointerTo(bucket)},
                                                                      {"oldbuckets", pointerTo(bucket)},
                                                                      {"nevacuate", uintptrType()},
                                                                      {"extra", pointerTo(extra)}});

        gomapcore::MapTypeLayout& layout = newLayout(gomapcore::MapLayoutKind::Classic, key, elem, header);

        // The slots, from the runtime struct descriptions the engine itself uses, checked
        // against the amd64 offsets of the reference (the header comment above).
        gomapcore::ClassicLayout& c = layout.classic;
        c.headerSize = header->byteSize();
        gomapcore::resolveFields<gomapcore::ClassicLayout>(header, gomapcore::kHmapFields, c);
        gomapcore::resolveFields<gomapcore::ClassicLayout>(bucket, gomapcore::kBmapFields, c);
        gomapcore::resolveFields<gomapcore::ClassicLayout>(extra, gomapcore::kMapextraFields, c);
        c.keySlotSize = keySlot->byteSize();
        c.elemSlotSize = elemSlot->byteSize();
        c.bucketSize = bucket->byteSize();
        expectPlaced(c.headerSize == 48 && c.buckets.offset == 16 && c.extra.offset == 40 &&
                         c.overflow.offset + 8 == c.bucketSize && c.extraNextOverflow.offset == 16,
                     "classic");
        return layout;
    }

    const gomapcore::MapTypeLayout& swissMap(const gomapcore::Type* key, const gomapcore::Type* elem) {
        const auto [keySlot, elemSlot] = slotTypes(key, elem);
        const std::string kv = key->name + "," + elem->name;

        const gomapcore::Type* slotType =
            structOf("noalg.struct { key " + keySlot->name + "; elem " + elemSlot->name + " }",
                     {{"key", keySlot}, {"elem", elemSlot}});
        const gomapcore::Type* group = structOf("noalg.map.group[" + key->name + "]" + elem->name,
                                                {{"ctrl", uint64Type()}, {"slots", arrayOf(slotType, 8)}});
        const gomapcore::Type* groupReference = structOf(
            "groupReference<" + kv + ">", {{"data", pointerTo(group)}, {"lengthMask", uint64Type()}});
        const gomapcore::Type* table = structOf("table<" + kv + ">", {{"used", uint16Type()},
                                                                      {"capacity", uint16Type()},
                                                                      {"growthLeft", uint16Type()},
                                                                      {"localDepth", uint8Type()},
                                                                      {"index", intType()},
                                                                      {"groups", groupReference}});
        const gomapcore::Type* header = structOf("map<" + kv + ">", {{"used", uint64Type()},
                                                                     {"seed", uintptrType()},
                                                                     {"dirPtr", pointerTo(pointerTo(table))},
                                                                     {"dirLen", intType()},
                                                                     {"globalDepth", uint8Type()},
                                                                     {"globalShift", uint8Type()},
                                                                     {"writing", uint8Type()},
                                                                     {"tombstonePossible", boolType()},
                                                                     {"clearSeq", uint64Type()}});

        gomapcore::MapTypeLayout& layout = newLayout(gomapcore::MapLayoutKind::Swiss, key, elem, header);

        gomapcore::SwissLayout& s = layout.swiss;
        s.headerSize = header->byteSize();
        s.tableSize = table->byteSize();
        gomapcore::resolveFields<gomapcore::SwissLayout>(header, gomapcore::kSwissMapFields, s);
        gomapcore::resolveFields<gomapcore::SwissLayout>(table, gomapcore::kSwissTableFields, s);
        gomapcore::resolveFields<gomapcore::SwissLayout>(groupReference, gomapcore::kGroupReferenceFields, s);
        s.groupsData.offset += table->field("groups")->offset;
        s.lengthMask.offset += table->field("groups")->offset;
        gomapcore::resolveFields<gomapcore::SwissLayout>(group, gomapcore::kSwissGroupFields, s);
        expectPlaced(s.headerSize == 48 && s.dirPtr.offset == 16 && s.clearSeq.offset == 40 &&
                         s.tableSize == 32 && s.index.offset == 8 && s.groupsData.offset == 16 &&
                         s.lengthMask.offset == 24,
                     "swiss");
        s.splitGroup = false;
        // Slot {key; elem}: elem aligned after key; a trailing zero-size elem gets one padding
        // byte; the stride is rounded up to the slot's alignment.
        const std::uint64_t ks = keySlot->byteSize();
        const std::uint64_t es = elemSlot->byteSize();
        const std::uint64_t slotAlign = std::max(alignOf(keySlot), alignOf(elemSlot));
        s.slotsOffset = 8;
        s.keyInSlot = 0;
        s.elemInSlot = alignUp(ks, alignOf(elemSlot));
        s.slotStride = alignUp(s.elemInSlot + es + (es == 0 ? 1 : 0), slotAlign);
        s.groupSize = s.slotsOffset + 8 * s.slotStride;
        return layout;
    }

    // The layouts the walker tests use.
    const gomapcore::MapTypeLayout& classicInt64Int64() { return classicMap(int64Type(), int64Type()); }
    const gomapcore::MapTypeLayout& classicInt64PtrT() { return classicMap(int64Type(), pointerTo(typeT())); }
    const gomapcore::MapTypeLayout& classicInt64Big() { return classicMap(int64Type(), typeBig()); }
    const gomapcore::MapTypeLayout& classicUint32Empty() { return classicMap(uint32Type(), emptyStruct()); }
    const gomapcore::MapTypeLayout& swissInt64Int64() { return swissMap(int64Type(), int64Type()); }
    const gomapcore::MapTypeLayout& swissInt64PtrT() { return swissMap(int64Type(), pointerTo(typeT())); }
    const gomapcore::MapTypeLayout& swissInt64Big() { return swissMap(int64Type(), typeBig()); }
    const gomapcore::MapTypeLayout& swissUint32Empty() { return swissMap(uint32Type(), emptyStruct()); }

    // The hand-built structs must come out at the reference's amd64 offsets.
    static void expectPlaced(bool placed, const char* what) {
        if (!placed)
            throw std::logic_error(std::string("layout builder: ") + what + " structs are misplaced");
    }

    static std::uint64_t alignUp(std::uint64_t value, std::uint64_t align) {
        return align <= 1 ? value : (value + align - 1) / align * align;
    }

    // Go's alignment of a type on amd64.
    static std::uint64_t alignOf(const gomapcore::Type* type) {
        const gomapcore::Type* t = type->underlying();
        switch (t->tag) {
            case gomapcore::TypeTag::Pointer:
                return 8;
            case gomapcore::TypeTag::Array:
                return t->target != nullptr ? alignOf(t->target) : 1;
            case gomapcore::TypeTag::Struct: {
                std::uint64_t align = 1;
                for (const gomapcore::Field& f : t->fields)
                    align = std::max(align, alignOf(f.type));
                return align;
            }
            case gomapcore::TypeTag::Base:
                return std::clamp<std::uint64_t>(t->byteSize(), 1, 8);
            default:
                return 8;
        }
    }

  private:
    gomapcore::Type* newType(std::string name, gomapcore::TypeTag tag, gomapcore::GoKind kind,
                             std::uint64_t size) {
        gomapcore::Type& t = types_.emplace_back();
        t.dieOffset = types_.size();
        t.tag = tag;
        t.kind = kind;
        t.name = std::move(name);
        t.size = size;
        t.hasSize = true;
        return &t;
    }

    const gomapcore::Type* cached(const gomapcore::Type*& slotRef, const char* name, std::uint64_t size,
                                  gomapcore::GoKind kind, bool isSigned) {
        if (slotRef == nullptr) {
            gomapcore::Type* t = newType(name, gomapcore::TypeTag::Base, kind, size);
            t->isSigned = isSigned;
            slotRef = t;
        }
        return slotRef;
    }

    gomapcore::Type* declareStruct(std::string name) {
        return newType(std::move(name), gomapcore::TypeTag::Struct, gomapcore::GoKind::Struct, 0);
    }

    static void defineStruct(gomapcore::Type* t,
                             const std::vector<std::pair<std::string, const gomapcore::Type*>>& fields) {
        std::uint64_t offset = 0;
        std::uint64_t align = 1;
        bool lastZero = false;
        t->fields.clear();
        for (const auto& [name, type] : fields) {
            std::uint64_t fieldAlign = alignOf(type);
            align = std::max(align, fieldAlign);
            offset = alignUp(offset, fieldAlign);
            t->fields.push_back(gomapcore::Field{name, offset, type});
            offset += type->byteSize();
            lastZero = type->byteSize() == 0;
        }
        if (lastZero && offset > 0) ++offset;
        t->size = alignUp(offset, align);
        t->hasSize = true;
    }

    // What a bucket or group slot holds for K and V: the type itself, or a pointer to it when it is
    // larger than 128 bytes (indirect storage).
    struct SlotTypes {
        const gomapcore::Type* key;
        const gomapcore::Type* elem;
    };
    SlotTypes slotTypes(const gomapcore::Type* key, const gomapcore::Type* elem) {
        return {key->byteSize() > kMaxInlineSize ? pointerTo(key) : key,
                elem->byteSize() > kMaxInlineSize ? pointerTo(elem) : elem};
    }

    gomapcore::MapTypeLayout& newLayout(gomapcore::MapLayoutKind kind, const gomapcore::Type* key,
                                        const gomapcore::Type* elem, const gomapcore::Type* header) {
        gomapcore::Type* mapType = newType("map[" + key->name + "]" + elem->name, gomapcore::TypeTag::Typedef,
                                           gomapcore::GoKind::Map, 8);
        mapType->target = pointerTo(header);
        mapType->key = key;
        mapType->elem = elem;
        gomapcore::MapTypeLayout& layout = layouts_.emplace_back();
        layout.kind = kind;
        layout.indirectKey = key->byteSize() > kMaxInlineSize;
        layout.indirectElem = elem->byteSize() > kMaxInlineSize;
        layout.mapType = mapType;
        layout.headerType = header;
        layout.keyType = key;
        layout.elemType = elem;
        layout.keySize = key->byteSize();
        layout.elemSize = elem->byteSize();
        return layout;
    }

    std::deque<gomapcore::Type> types_;
    std::deque<gomapcore::MapTypeLayout> layouts_;
    const gomapcore::Type* int64_ = nullptr;
    const gomapcore::Type* int_ = nullptr;
    const gomapcore::Type* uint64_ = nullptr;
    const gomapcore::Type* uint32_ = nullptr;
    const gomapcore::Type* uint16_ = nullptr;
    const gomapcore::Type* uint8_ = nullptr;
    const gomapcore::Type* uintptr_ = nullptr;
    const gomapcore::Type* bool_ = nullptr;
    const gomapcore::Type* unsafePointer_ = nullptr;
    const gomapcore::Type* emptyStruct_ = nullptr;
    const gomapcore::Type* typeT_ = nullptr;
    const gomapcore::Type* typeBig_ = nullptr;
};

}  // namespace gmtest
