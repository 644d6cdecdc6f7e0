#include "binary/types.h"

#include <dwarf.h>

#include <elfutils/libdw.h>
#include <fmt/format.h>
#include <algorithm>

#include "gomapcore/error.h"

namespace gomapcore {
namespace {

// Go-specific DWARF attributes (golang/go src/cmd/internal/dwarf/dwarf.go).
constexpr unsigned kAttrGoKind = 0x2900;
constexpr unsigned kAttrGoKey = 0x2901;
constexpr unsigned kAttrGoElem = 0x2902;
constexpr int kMaxTypeDepth = 64;

std::optional<std::uint64_t> udataAttr(Dwarf_Die* die, unsigned name) {
    Dwarf_Attribute attr;
    Dwarf_Word value;
    if (dwarf_attr(die, name, &attr) == nullptr || dwarf_formudata(&attr, &value) != 0) return std::nullopt;
    return value;
}

std::optional<std::uint64_t> refAttr(Dwarf_Die* die, unsigned name) {
    Dwarf_Attribute attr;
    Dwarf_Die target;
    if (dwarf_attr(die, name, &attr) == nullptr || dwarf_formref_die(&attr, &target) == nullptr)
        return std::nullopt;
    return dwarf_dieoffset(&target);
}

bool isTypeTag(int tag) {
    switch (tag) {
        case DW_TAG_base_type:
        case DW_TAG_pointer_type:
        case DW_TAG_structure_type:
        case DW_TAG_array_type:
        case DW_TAG_typedef:
        case DW_TAG_subroutine_type:
        case DW_TAG_unspecified_type:
            return true;
        default:
            return false;
    }
}

// For DIEs without DW_AT_go_kind (older linkers omit it on some types), the kind their
// DWARF shape implies.
GoKind kindFromShape(const Type& type) {
    switch (type.tag) {
        case TypeTag::Pointer:
            // The linker writes unsafe.Pointer as a pointer to nothing, without
            // DW_AT_go_kind (src/cmd/link/internal/ld/dwarf.go, dwarfGenerateDebugInfo).
            return type.target == nullptr && type.name == "unsafe.Pointer" ? GoKind::UnsafePointer
                                                                           : GoKind::Pointer;
        case TypeTag::Struct:
            return GoKind::Struct;
        case TypeTag::Array:
            return GoKind::Array;
        case TypeTag::Function:
            return GoKind::Func;
        case TypeTag::Typedef:
            return type.target != nullptr ? type.target->kind : GoKind::Invalid;
        case TypeTag::Base:
            if (type.isFloat) return type.size == 4 ? GoKind::Float32 : GoKind::Float64;
            switch (type.size) {
                case 1:
                    return type.isSigned ? GoKind::Int8 : GoKind::Uint8;
                case 2:
                    return type.isSigned ? GoKind::Int16 : GoKind::Uint16;
                case 4:
                    return type.isSigned ? GoKind::Int32 : GoKind::Uint32;
                case 8:
                    return type.isSigned ? GoKind::Int64 : GoKind::Uint64;
                default:
                    return GoKind::Invalid;
            }
        case TypeTag::Other:
            return GoKind::Invalid;
    }
    return GoKind::Invalid;
}

// A compilation unit libdw cannot walk would silently drop its types and variables (and with
// them the maps they reach): the executable is damaged, and nothing it says can be relied on.
[[noreturn]] void corruptDwarf(Dwarf_Off unit, const char* what) {
    throw Error(Error::Code::Unreadable,
                fmt::format("the executable's DWARF debug information is corrupt: the compilation unit at "
                            ".debug_info offset {:#x} {} (libdw: {})",
                            unit, what, dwarf_errmsg(-1)));
}

}  // namespace

const Type* Type::underlying() const {
    const Type* t = this;
    for (int i = 0; i < kMaxTypeDepth && t->tag == TypeTag::Typedef && t->target != nullptr; ++i)
        t = t->target;
    return t;
}

namespace {
bool markPointerWordsAt(const Type* type, std::uint64_t offset, std::vector<bool>& words, int depth) {
    if (type == nullptr || depth > kMaxTypeDepth) return false;
    auto mark = [&](std::uint64_t at) {
        if (at % 8 != 0) return false;
        if (words.size() <= at / 8) words.resize(at / 8 + 1);
        words[at / 8] = true;
        return true;
    };
    // Map, chan and interface types are typedefs of their runtime shapes: their kind says what
    // they are before the typedef is followed.
    switch (type->kind) {
        case GoKind::Map:
        case GoKind::Chan:
        case GoKind::Func:
        case GoKind::Pointer:
        case GoKind::UnsafePointer:
        case GoKind::String:
        case GoKind::Slice:
            return mark(offset);
        case GoKind::Interface:
            // Only the data word: the GC does not treat the type or itab word as a pointer
            // (src/cmd/compile/internal/typebits/typebits.go, Set: "pointer in second slot";
            // itabs are persistentalloc'd, compiled types read-only data).
            return mark(offset + 8);
        default:
            break;
    }
    // A named type's typedef: its target says what it is.
    if (type->tag == TypeTag::Typedef) return markPointerWordsAt(type->target, offset, words, depth + 1);
    if (type->tag == TypeTag::Pointer) return mark(offset);
    if (type->tag == TypeTag::Struct) {
        for (const Field& f : type->fields)
            if (!markPointerWordsAt(f.type, offset + f.offset, words, depth + 1)) return false;
        return true;
    }
    if (type->tag == TypeTag::Array) {
        const Type* element = type->target != nullptr ? type->target : type->elem;
        if (type->count == 0) return true;
        if (element == nullptr) return false;
        const std::uint64_t size = element->byteSize();
        // A pointer-free element marks nothing: skip the loop over a large array of them.
        std::vector<bool> one;
        if (!markPointerWordsAt(element, 0, one, depth + 1)) return false;
        if (std::find(one.begin(), one.end(), true) == one.end()) return true;
        // Bounded work: an array of pointers this long cannot be a map key or elem stored inline.
        if (type->count > (std::uint64_t{1} << 20)) return false;
        for (std::uint64_t i = 0; i < type->count; ++i)
            for (std::size_t w = 0; w < one.size(); ++w)
                if (one[w] && !mark(offset + i * size + w * 8)) return false;
        return true;
    }
    return type->tag == TypeTag::Base;
}
}  // namespace

bool markPointerWords(const Type* type, std::uint64_t offset, std::vector<bool>& words) {
    return markPointerWordsAt(type, offset, words, 0);
}

const Field* Type::field(std::string_view wanted) const {
    for (const Field& f : underlying()->fields)
        if (f.name == wanted) return &f;
    return nullptr;
}

std::uint64_t Type::byteSize() const {
    if (hasSize) return size;
    const Type* u = underlying();
    return u->hasSize ? u->size : 0;
}

static void recordConstant(Dwarf_Die* die, std::unordered_map<std::string, std::int64_t>& constants) {
    const char* name = dwarf_diename(die);
    Dwarf_Attribute attr;
    if (name == nullptr || dwarf_attr(die, DW_AT_const_value, &attr) == nullptr) return;
    Dwarf_Sword signedValue = 0;
    Dwarf_Word unsignedValue = 0;
    // Go writes signed constants as DW_FORM_sdata and others as DW_FORM_udata.
    if (dwarf_whatform(&attr) == DW_FORM_sdata && dwarf_formsdata(&attr, &signedValue) == 0)
        constants.emplace(name, signedValue);
    else if (dwarf_formudata(&attr, &unsignedValue) == 0)
        constants.emplace(name, static_cast<std::int64_t>(unsignedValue));
}

TypeTable::TypeTable(Dwarf* dwarf) : dwarf_(dwarf) {}
TypeTable::~TypeTable() = default;

void TypeTable::buildIndex() {
    if (indexed_ || dwarf_ == nullptr) return;
    // Rebuilt from scratch on every attempt: a corrupt unit throws, and a half-built index must
    // never answer later lookups.
    typeNames_.clear();
    mapTypes_.clear();
    variableDies_.clear();
    constants_.clear();
    Dwarf_Off offset = 0, next = 0;
    std::size_t headerSize = 0;
    std::size_t units = 0;
    int status = 0;
    while ((status = dwarf_nextcu(dwarf_, offset, &next, &headerSize, nullptr, nullptr, nullptr)) == 0) {
        ++units;
        Dwarf_Die cu;
        if (dwarf_offdie(dwarf_, offset + headerSize, &cu) == nullptr)
            corruptDwarf(offset, "has an unreadable root");
        Dwarf_Die child;
        int childStatus = dwarf_child(&cu, &child);
        if (childStatus < 0) corruptDwarf(offset, "has unreadable children");
        if (childStatus == 0) {
            int siblingStatus = 0;
            do {
                int tag = dwarf_tag(&child);
                if (tag == DW_TAG_variable) {
                    variableDies_.push_back(dwarf_dieoffset(&child));
                } else if (tag == DW_TAG_constant) {
                    recordConstant(&child, constants_);
                } else if (isTypeTag(tag)) {
                    const char* name = dwarf_diename(&child);
                    if (name == nullptr) continue;
                    std::uint64_t dieOffset = dwarf_dieoffset(&child);
                    typeNames_.emplace(name, dieOffset);
                    if (udataAttr(&child, kAttrGoKind) == static_cast<std::uint64_t>(GoKind::Map))
                        mapTypes_.emplace_back(name, dieOffset);
                }
            } while ((siblingStatus = dwarf_siblingof(&child, &child)) == 0);
            if (siblingStatus < 0) corruptDwarf(offset, "has an unreadable entry");
        }
        offset = next;
    }
    if (status < 0) corruptDwarf(offset, "has an unreadable header");
    if (units == 0)
        throw Error(
            Error::Code::Unreadable,
            "the executable's DWARF debug information is corrupt: .debug_info holds no compilation unit");
    indexed_ = true;
}

std::optional<std::int64_t> TypeTable::constant(std::string_view name) {
    buildIndex();
    auto it = constants_.find(std::string(name));
    if (it == constants_.end()) return std::nullopt;
    return it->second;
}

const GlobalVariable* TypeTable::global(std::string_view name) {
    const auto& all = globals();
    if (globalIndex_.empty())
        for (std::size_t i = 0; i < all.size(); ++i)
            globalIndex_.emplace(all[i].name, i);
    auto it = globalIndex_.find(std::string(name));
    return it == globalIndex_.end() ? nullptr : &all[it->second];
}

const Type* TypeTable::byName(std::string_view name) {
    buildIndex();
    auto it = typeNames_.find(std::string(name));
    return it == typeNames_.end() ? nullptr : resolve(it->second, 0);
}

const Type* TypeTable::byOffset(std::uint64_t dieOffset) {
    return resolve(dieOffset, 0);
}

std::vector<std::string> TypeTable::mapTypeNames() const {
    std::vector<std::string> names;
    for (const auto& [name, offset] : mapTypes_)
        names.push_back(name);
    return names;
}

const Type* TypeTable::resolve(std::uint64_t dieOffset, int depth) {
    if (dwarf_ == nullptr) return nullptr;
    if (auto it = byOffset_.find(dieOffset); it != byOffset_.end()) return it->second;
    if (depth > kMaxTypeDepth) return nullptr;
    Dwarf_Die die;
    if (dwarf_offdie(dwarf_, dieOffset, &die) == nullptr) return nullptr;
    int tag = dwarf_tag(&die);
    if (!isTypeTag(tag)) return nullptr;

    // Registered before its children are resolved, so that recursive types terminate.
    Type& type = storage_.emplace_back();
    byOffset_.emplace(dieOffset, &type);
    type.dieOffset = dieOffset;
    if (const char* name = dwarf_diename(&die)) type.name = name;
    if (auto kind = udataAttr(&die, kAttrGoKind);
        kind && *kind <= static_cast<std::uint64_t>(GoKind::UnsafePointer))
        type.kind = static_cast<GoKind>(*kind);
    if (auto size = udataAttr(&die, DW_AT_byte_size)) {
        type.size = *size;
        type.hasSize = true;
    }
    auto resolveRef = [&](unsigned attr) -> const Type* {
        auto ref = refAttr(&die, attr);
        return ref ? resolve(*ref, depth + 1) : nullptr;
    };
    type.key = resolveRef(kAttrGoKey);
    type.elem = resolveRef(kAttrGoElem);

    switch (tag) {
        case DW_TAG_base_type: {
            type.tag = TypeTag::Base;
            auto encoding = udataAttr(&die, DW_AT_encoding).value_or(0);
            type.isSigned = encoding == DW_ATE_signed || encoding == DW_ATE_signed_char;
            type.isFloat = encoding == DW_ATE_float || encoding == DW_ATE_complex_float;
            if (encoding == DW_ATE_boolean && type.kind == GoKind::Invalid) type.kind = GoKind::Bool;
            break;
        }
        case DW_TAG_pointer_type:
            type.tag = TypeTag::Pointer;
            type.target = resolveRef(DW_AT_type);
            if (!type.hasSize) {
                type.size = 8;
                type.hasSize = true;
            }
            break;
        case DW_TAG_typedef:
            type.tag = TypeTag::Typedef;
            type.target = resolveRef(DW_AT_type);
            break;
        case DW_TAG_subroutine_type:
            type.tag = TypeTag::Function;
            break;
        case DW_TAG_array_type: {
            type.tag = TypeTag::Array;
            type.target = resolveRef(DW_AT_type);
            Dwarf_Die child;
            if (dwarf_child(&die, &child) == 0) {
                do {
                    if (dwarf_tag(&child) != DW_TAG_subrange_type) continue;
                    if (auto count = udataAttr(&child, DW_AT_count))
                        type.count = *count;
                    else if (auto upper = udataAttr(&child, DW_AT_upper_bound))
                        type.count = *upper + 1;
                    break;
                } while (dwarf_siblingof(&child, &child) == 0);
            }
            if (!type.hasSize && type.target != nullptr && type.target->byteSize() != 0) {
                type.size = type.target->byteSize() * type.count;
                type.hasSize = true;
            }
            break;
        }
        case DW_TAG_structure_type: {
            type.tag = TypeTag::Struct;
            Dwarf_Die child;
            if (dwarf_child(&die, &child) == 0) {
                do {
                    if (dwarf_tag(&child) != DW_TAG_member) continue;
                    Field field;
                    if (const char* name = dwarf_diename(&child)) field.name = name;
                    Dwarf_Word location = 0;
                    Dwarf_Attribute attr;
                    if (dwarf_attr(&child, DW_AT_data_member_location, &attr) != nullptr)
                        dwarf_formudata(&attr, &location);
                    field.offset = location;
                    if (auto ref = refAttr(&child, DW_AT_type)) field.type = resolve(*ref, depth + 1);
                    type.fields.push_back(std::move(field));
                } while (dwarf_siblingof(&child, &child) == 0);
            }
            break;
        }
        default:
            type.tag = TypeTag::Other;
            break;
    }
    if (type.kind == GoKind::Invalid) type.kind = kindFromShape(type);
    return &type;
}

const std::vector<GlobalVariable>& TypeTable::globals() {
    if (globals_) return *globals_;
    buildIndex();
    globals_.emplace();
    for (std::uint64_t offset : variableDies_) {
        Dwarf_Die die;
        if (dwarf_offdie(dwarf_, offset, &die) == nullptr) continue;
        const char* name = dwarf_diename(&die);
        Dwarf_Attribute attr;
        if (name == nullptr || dwarf_attr(&die, DW_AT_location, &attr) == nullptr) continue;
        // Go writes a package variable's location as a block holding a single DW_OP_addr
        // (cmd/link/internal/ld/dwarf.go defgotype/dwarfVisitSymbol); decode it directly.
        Dwarf_Block block;
        if (dwarf_formblock(&attr, &block) != 0 || block.length != 9 || block.data[0] != DW_OP_addr) continue;
        std::uint64_t address = 0;
        for (int i = 0; i < 8; ++i)
            address |= static_cast<std::uint64_t>(block.data[1 + i]) << (8 * i);
        auto ref = refAttr(&die, DW_AT_type);
        if (!ref) continue;
        GlobalVariable variable;
        variable.name = name;
        variable.address = address;
        variable.type = resolve(*ref, 0);
        if (variable.type != nullptr) globals_->push_back(std::move(variable));
    }
    return *globals_;
}

}  // namespace gomapcore
