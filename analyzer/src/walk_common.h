// Pieces both map walkers share: formatting, pointer classification, and the per-slot checks
// on keys and elems.
#pragma once

#include <cstdint>
#include <string>

#include "gomapcore/map_model.h"

namespace gomapcore::detail {

std::string hex(std::uint64_t value);

// Creates a finding for map at address with the given rule and message.
Finding makeFinding(const char* rule, Severity severity, std::uint64_t map, std::uint64_t address,
                    std::string message);

// Resolves slot i of a bucket or group: follows indirect key/elem storage and reports
// dangling pointers held by the key or the elem (pointers, maps, chans, strings, interface
// data words, and those fields of structs and arrays, a few levels deep).
Slot inspectSlot(const Memory& memory, const MapTypeLayout& layout, std::uint64_t container, unsigned index,
                 std::uint8_t control, std::uint64_t map, MapNode& node);

// Reads one field of a struct whose bytes are in buffer.
std::uint64_t fieldValue(const std::vector<std::byte>& buffer, const FieldSlot& slot);

}  // namespace gomapcore::detail
