// A value of a DWARF type in the target's memory, as short text: how map keys and values read in
// `show`, in root paths (main.srv.sessions["eu"]) and in the crash message. Depends only on
// memory and types, so both the search for maps and the renderers use it.
#pragma once

#include <cstdint>
#include <string>

#include "binary/types.h"
#include "gomapcore/memory.h"

namespace gomapcore {

// A short rendering of the value of type at address (strings quoted, structs shallow,
// anything else as raw bytes with its type name). Never reads more than a few hundred bytes.
// With redact, only the type and length (redactedValue).
std::string formatValue(const Memory& memory, const Type* type, std::uint64_t address, bool redact = false);
// A value's type and, for strings and slices, its length, never its contents (--redact).
std::string redactedValue(const Memory& memory, const Type* type, std::uint64_t address);

}  // namespace gomapcore
