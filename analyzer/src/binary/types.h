// Go types as the executable's DWARF describes them (golang/go src/cmd/link/internal/ld/dwarf.go
// writes them; Go-specific attributes DW_AT_go_kind/key/elem are in src/cmd/internal/dwarf).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

typedef struct Dwarf Dwarf;

namespace gomapcore {

// Go's reflect.Kind numbering, which DW_AT_go_kind uses.
enum class GoKind : std::uint8_t {
    Invalid = 0,
    Bool,
    Int,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Uintptr,
    Float32,
    Float64,
    Complex64,
    Complex128,
    Array,
    Chan,
    Func,
    Interface,
    Map,
    Pointer,
    Slice,
    String,
    Struct,
    UnsafePointer,
};

enum class TypeTag : std::uint8_t { Base, Pointer, Struct, Array, Typedef, Function, Other };

struct Type;

struct Field {
    std::string name;
    std::uint64_t offset = 0;
    const Type* type = nullptr;
};

struct Type {
    std::uint64_t dieOffset = 0;
    TypeTag tag = TypeTag::Other;
    GoKind kind = GoKind::Invalid;
    std::string name;
    std::uint64_t size = 0;
    bool hasSize = false;
    bool isSigned = false;         // integers
    bool isFloat = false;          // base types with a float encoding
    const Type* target = nullptr;  // Pointer: pointee; Array: element; Typedef: aliased type
    std::uint64_t count = 0;       // Array length
    std::vector<Field> fields;     // Struct members
    const Type* key = nullptr;     // DW_AT_go_key (maps)
    const Type* elem = nullptr;    // DW_AT_go_elem (maps, slices, arrays, chans)

    // Follows typedefs to the type that has the layout (bounded; typedef cycles stop).
    const Type* underlying() const;
    // The member named name of this struct (after typedefs), or nullptr.
    const Field* field(std::string_view name) const;
    std::uint64_t byteSize() const;
};

// Marks the words of a value of type at byte offset that hold pointers, as Go's GC sees them
// (src/internal/abi/type.go PtrBytes/GCData; cmd/compile/internal/reflectdata fillptrmask):
// pointers, maps, channels, funcs and unsafe.Pointer are one pointer word; a string's and a
// slice's first word; an interface's data word (its type or itab word is not one to the GC,
// src/cmd/compile/internal/typebits/typebits.go). words grows as needed. False when the type is
// not fully described (a missing size or field type).
bool markPointerWords(const Type* type, std::uint64_t offset, std::vector<bool>& words);

struct GlobalVariable {
    std::string name;
    std::uint64_t address = 0;
    const Type* type = nullptr;
};

class TypeTable {
  public:
    // dwarf may be null (stripped binary): then every lookup fails.
    explicit TypeTable(Dwarf* dwarf);
    ~TypeTable();
    TypeTable(const TypeTable&) = delete;
    TypeTable& operator=(const TypeTable&) = delete;

    bool hasDwarf() const { return dwarf_ != nullptr; }
    // A named type (e.g. "runtime.hmap", "map[string]int"), or nullptr.
    const Type* byName(std::string_view name);
    const Type* byOffset(std::uint64_t dieOffset);
    // Every package-level variable with a static address.
    const std::vector<GlobalVariable>& globals();
    // Names of every type whose DW_AT_go_kind is Map.
    std::vector<std::string> mapTypeNames() const;
    // A package-level constant's value (the Go linker writes DW_TAG_constant with
    // DW_AT_const_value for them, e.g. "runtime._Grunning", "runtime.mSpanInUse").
    std::optional<std::int64_t> constant(std::string_view name);
    // A global variable by its qualified name, or nullptr.
    const GlobalVariable* global(std::string_view name);

  private:
    void buildIndex();
    const Type* resolve(std::uint64_t dieOffset, int depth);

    Dwarf* dwarf_;
    bool indexed_ = false;
    std::unordered_map<std::string, std::uint64_t> typeNames_;
    std::vector<std::pair<std::string, std::uint64_t>> mapTypes_;
    std::vector<std::uint64_t> variableDies_;
    std::unordered_map<std::string, std::int64_t> constants_;
    std::unordered_map<std::string, std::size_t> globalIndex_;
    std::optional<std::vector<GlobalVariable>> globals_;
    std::unordered_map<std::uint64_t, Type*> byOffset_;
    std::deque<Type> storage_;
};

}  // namespace gomapcore
