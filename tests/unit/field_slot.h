// A present FieldSlot at offset with size bytes: how the unit tests' hand-filled layouts spell
// a struct field.
#pragma once

#include <cstdint>

#include "maps/map_layout.h"

namespace gmtest {

inline gomapcore::FieldSlot fieldSlot(std::uint64_t offset, std::uint64_t size) {
    gomapcore::FieldSlot s;
    s.offset = offset;
    s.size = size;
    s.present = true;
    return s;
}

}  // namespace gmtest
