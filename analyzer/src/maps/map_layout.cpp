#include "maps/map_layout.h"

#include "gomapcore/error.h"

#include <algorithm>
#include <tuple>

namespace gomapcore {
namespace {

// The runtime stores keys and elems larger than this indirectly (abi.MapMaxKeyBytes /
// MapMaxElemBytes = 128, golang/go src/internal/abi/map.go @go1.21; maxKeySize in
// runtime/map.go @go1.19). Only used to cross-check what the DWARF slot types say.
constexpr std::uint64_t kMaxInlineSize = 128;

const Type* pointee(const Type* t) {
    if (t == nullptr) return nullptr;
    t = t->underlying();
    return t->tag == TypeTag::Pointer && t->target != nullptr ? t->target->underlying() : nullptr;
}

// Whether a slot of type slotType holds the value of type valueType itself, or a pointer to it.
// Returns nullopt when it is neither.
std::optional<bool> isIndirect(const Type* slotType, const Type* valueType) {
    if (slotType == nullptr || valueType == nullptr) return std::nullopt;
    if (slotType == valueType || slotType->underlying() == valueType->underlying()) return false;
    const Type* target = pointee(slotType);
    if (target != nullptr && target == valueType->underlying()) return true;
    if (slotType->byteSize() == valueType->byteSize()) return false;
    if (slotType->byteSize() == 8 && valueType->byteSize() > kMaxInlineSize) return true;
    return std::nullopt;
}

}  // namespace

std::uint64_t MapTypeLayout::keySlot(std::uint64_t container, unsigned i) const {
    if (kind == MapLayoutKind::Classic) return container + classic.keys.offset + i * classic.keySlotSize;
    if (swiss.splitGroup) return container + swiss.keysOffset + i * swiss.keyStride;
    return container + swiss.slotsOffset + i * swiss.slotStride + swiss.keyInSlot;
}

std::uint64_t MapTypeLayout::elemSlot(std::uint64_t container, unsigned i) const {
    if (kind == MapLayoutKind::Classic) return container + classic.values.offset + i * classic.elemSlotSize;
    if (swiss.splitGroup) return container + swiss.elemsOffset + i * swiss.elemStride;
    return container + swiss.slotsOffset + i * swiss.slotStride + swiss.elemInSlot;
}

std::optional<std::vector<bool>> MapTypeLayout::storagePointerWords() const {
    std::vector<bool> words;
    for (unsigned i = 0; i < 8; ++i) {
        for (auto [indirect, type, at] : {std::tuple{indirectKey, keyType, keySlot(0, i)},
                                          std::tuple{indirectElem, elemType, elemSlot(0, i)}}) {
            if (indirect) {
                if (words.size() <= at / 8) words.resize(at / 8 + 1);
                words[at / 8] = true;
            } else if (!markPointerWords(type, at, words)) {
                return std::nullopt;
            }
        }
    }
    // runtime/map.go (bmap): when neither key nor elem holds pointers the bucket is pointer-free
    // and overflow is typed uintptr; otherwise overflow is a pointer the GC scans.
    bool anyPointer = std::find(words.begin(), words.end(), true) != words.end();
    if (kind == MapLayoutKind::Classic && anyPointer && classic.overflow.present) {
        std::uint64_t at = classic.overflow.offset;
        if (words.size() <= at / 8) words.resize(at / 8 + 1);
        words[at / 8] = true;
    }
    while (!words.empty() && !words.back())
        words.pop_back();
    return words;
}

const MapTypeLayout* LayoutCatalog::layoutFor(const Type* mapType, std::string* whyNot) {
    if (auto it = cache_.find(mapType); it != cache_.end()) return it->second.get();
    if (auto it = failures_.find(mapType); it != failures_.end()) {
        if (whyNot) *whyNot = it->second;
        return nullptr;
    }
    std::string reason;
    auto fail = [&](std::string message) -> const MapTypeLayout* {
        failures_[mapType] = message;
        if (whyNot) *whyNot = message;
        return nullptr;
    };
    if (mapType == nullptr || mapType->kind != GoKind::Map) return fail("not a map type");
    auto layout = std::make_unique<MapTypeLayout>();
    layout->mapType = mapType;
    layout->keyType = mapType->key;
    layout->elemType = mapType->elem;
    // The map typedef points to a pointer to the synthesized header struct.
    const Type* header = pointee(mapType->underlying() == mapType ? mapType : mapType->underlying());
    if (header == nullptr) header = pointee(mapType->target);
    if (header == nullptr || header->tag != TypeTag::Struct)
        return fail("DWARF for " + mapType->name + " does not point to a map header struct");
    if (layout->keyType == nullptr || layout->elemType == nullptr)
        return fail("DWARF for " + mapType->name + " lacks DW_AT_go_key/DW_AT_go_elem");
    layout->headerType = header;
    layout->keySize = layout->keyType->byteSize();
    layout->elemSize = layout->elemType->byteSize();

    if (header->field("buckets") != nullptr) {
        layout->kind = MapLayoutKind::Classic;
        ClassicLayout& c = layout->classic;
        c.headerSize = header->byteSize();
        std::string missing;
        if (!resolveFields<ClassicLayout>(header, kHmapFields, c, &missing))
            return fail("map structure has no field '" + missing + "'");
        const Type* bucket = pointee(header->field("buckets")->type);
        if (bucket == nullptr || bucket->tag != TypeTag::Struct)
            return fail("classic map " + mapType->name +
                        ": buckets field is not a pointer to a bucket struct");
        c.bucketSize = bucket->byteSize();
        if (!resolveFields<ClassicLayout>(bucket, kBmapFields, c) || c.bucketSize == 0)
            return fail("classic bucket type of " + mapType->name + " lacks tophash/keys/values/overflow");
        const Type* keysArray = bucket->field("keys")->type->underlying();
        const Type* valuesArray =
            (bucket->field("values") ? bucket->field("values") : bucket->field("elems"))->type->underlying();
        if (keysArray->tag != TypeTag::Array || valuesArray->tag != TypeTag::Array || keysArray->count == 0 ||
            keysArray->count != valuesArray->count || c.tophash.size != keysArray->count)
            return fail("classic bucket type of " + mapType->name + " has inconsistent array lengths");
        c.keySlotSize = keysArray->target ? keysArray->target->byteSize() : 0;
        c.elemSlotSize = valuesArray->target ? valuesArray->target->byteSize() : 0;
        auto indirectKey = isIndirect(keysArray->target, layout->keyType);
        auto indirectElem = isIndirect(valuesArray->target, layout->elemType);
        if (!indirectKey || !indirectElem)
            return fail("classic bucket slots of " + mapType->name + " match neither K/V nor *K/*V");
        layout->indirectKey = *indirectKey;
        layout->indirectElem = *indirectElem;
        if (c.extra.present) {
            const Type* extra = pointee(header->field("extra")->type);
            if (extra == nullptr) extra = types_.byName("runtime.mapextra");
            resolveFields<ClassicLayout>(extra, kMapextraFields, c);
            if (extra != nullptr) c.extraSize = extra->byteSize();
        }
    } else if (header->field("dirPtr") != nullptr) {
        layout->kind = MapLayoutKind::Swiss;
        SwissLayout& s = layout->swiss;
        s.headerSize = header->byteSize();
        std::string missing;
        if (!resolveFields<SwissLayout>(header, kSwissMapFields, s, &missing))
            return fail("map structure has no field '" + missing + "'");
        // dirPtr is typed **table<K,V>.
        const Type* table = pointee(header->field("dirPtr")->type);
        table = table != nullptr ? pointee(table) : nullptr;
        if (table == nullptr || table->tag != TypeTag::Struct)
            return fail("swiss map " + mapType->name + ": dirPtr is not a **table");
        s.tableSize = table->byteSize();
        const Field* groups = table->field("groups");
        if (groups == nullptr || groups->type == nullptr)
            return fail("swiss table type of " + mapType->name + " has no groups field");
        if (!resolveFields<SwissLayout>(table, kSwissTableFields, s) ||
            !resolveFields<SwissLayout>(groups->type, kGroupReferenceFields, s))
            return fail("swiss table type of " + mapType->name + " lacks required fields");
        s.groupsData.offset += groups->offset;
        s.lengthMask.offset += groups->offset;
        const Type* group = pointee(groups->type->field("data")->type);
        if (group == nullptr || group->tag != TypeTag::Struct)
            return fail("swiss group type of " + mapType->name + " is not a struct");
        s.groupSize = group->byteSize();
        if (!resolveFields<SwissLayout>(group, kSwissGroupFields, s) || s.groupSize == 0)
            return fail("swiss group type of " + mapType->name + " has no ctrl word");
        const Type* keyType = nullptr;
        const Type* elemType = nullptr;
        if (const Field* slots = group->field("slots")) {
            const Type* array = slots->type ? slots->type->underlying() : nullptr;
            if (array == nullptr || array->tag != TypeTag::Array || array->count != 8 ||
                array->target == nullptr)
                return fail("swiss group slots of " + mapType->name + " is not an [8] array");
            const Type* slot = array->target->underlying();
            const Field* key = slot->field("key");
            const Field* elem = slot->field("elem");
            if (key == nullptr || elem == nullptr)
                return fail("swiss slot type of " + mapType->name + " lacks key/elem");
            s.slotsOffset = slots->offset;
            s.slotStride = slot->byteSize();
            s.keyInSlot = key->offset;
            s.elemInSlot = elem->offset;
            keyType = key->type;
            elemType = elem->type;
        } else if (group->field("keys") != nullptr && group->field("elems") != nullptr) {
            s.splitGroup = true;
            const Field* keys = group->field("keys");
            const Field* elems = group->field("elems");
            const Type* keysArray = keys->type ? keys->type->underlying() : nullptr;
            const Type* elemsArray = elems->type ? elems->type->underlying() : nullptr;
            if (keysArray == nullptr || elemsArray == nullptr || keysArray->tag != TypeTag::Array ||
                elemsArray->tag != TypeTag::Array || keysArray->count != 8 || elemsArray->count != 8 ||
                keysArray->target == nullptr || elemsArray->target == nullptr)
                return fail("split swiss group of " + mapType->name + " lacks [8] key/elem arrays");
            s.keysOffset = keys->offset;
            s.keyStride = keysArray->target->byteSize();
            s.elemsOffset = elems->offset;
            s.elemStride = elemsArray->target->byteSize();
            keyType = keysArray->target;
            elemType = elemsArray->target;
        } else {
            return fail("swiss group type of " + mapType->name + " has neither slots nor keys/elems");
        }
        auto indirectKey = isIndirect(keyType, layout->keyType);
        auto indirectElem = isIndirect(elemType, layout->elemType);
        if (!indirectKey || !indirectElem)
            return fail("swiss slots of " + mapType->name + " match neither K/V nor *K/*V");
        layout->indirectKey = *indirectKey;
        layout->indirectElem = *indirectElem;
    } else {
        return fail("map header " + header->name + " has neither 'buckets' nor 'dirPtr'");
    }
    auto* result = layout.get();
    cache_.emplace(mapType, std::move(layout));
    return result;
}

}  // namespace gomapcore
