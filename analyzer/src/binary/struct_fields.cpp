#include "binary/struct_fields.h"

namespace gomapcore {

FieldSlot fieldSlot(const Type* structType, std::string_view name) {
    FieldSlot slot;
    if (structType == nullptr) return slot;
    const Field* f = structType->field(name);
    if (f == nullptr || f->type == nullptr) return slot;
    slot.offset = f->offset;
    slot.size = f->type->byteSize();
    slot.present = true;
    return slot;
}

}  // namespace gomapcore
