// Runtime structs described once each. A description lists the fields of one Go runtime struct
// (hmap, bmap, maps.Map, table, mspan, ...) that gomapcore reads, each with the member of the
// layout struct its placement goes into; resolveFields fills those members from the struct's
// DWARF type. Layout code, the heap model and the tests all read the same description, so every
// field name is written once, next to the layout it fills (maps/map_layout.h,
// runtime/heap_model.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "binary/types.h"

namespace gomapcore {

// Where a field lies in its struct, as the executable's DWARF says.
struct FieldSlot {
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
    bool present = false;
};

// One field of a runtime struct: its name (and the name another Go version gives it, if any),
// the member of Layout its placement goes into, and whether a layout is unusable without it.
template <class Layout>
struct FieldSpec {
    std::string_view name;
    std::string_view otherName;  // "" when every supported Go version uses name
    FieldSlot Layout::*slot;
    bool required;
};

// The placement of field name in structType (typedefs followed), or an absent slot.
FieldSlot fieldSlot(const Type* structType, std::string_view name);

// Fills the members of layout that spec names from structType. Returns false, with the first
// missing required field's name in missing, when a required field is absent.
template <class Layout>
bool resolveFields(const Type* structType, std::span<const FieldSpec<Layout>> spec, Layout& layout,
                   std::string* missing = nullptr) {
    for (const FieldSpec<Layout>& field : spec) {
        FieldSlot slot = fieldSlot(structType, field.name);
        if (!slot.present && !field.otherName.empty()) slot = fieldSlot(structType, field.otherName);
        layout.*field.slot = slot;
        if (!slot.present && field.required) {
            if (missing != nullptr) *missing = std::string(field.name);
            return false;
        }
    }
    return true;
}

}  // namespace gomapcore
