// Renders reports: the versioned JSON contract (docs/report-v1.md) and text for people.
#pragma once

#include <cstdint>
#include <string>

#include "gomapcore/analysis.h"

namespace gomapcore {

std::string renderJson(const Report& report);
std::string renderText(const Report& report);
// One line per map: address, type, count, B or directory, roots, status.
std::string renderMapList(const Report& report);
// One map in depth: header, bucket/table structure with its findings, and its entries.
std::string renderMapDetail(const Memory& memory, const MapResult& map, std::size_t maxEntries,
                            bool redact = false);

// Every goroutine with its stack, laid out like the runtime's own traceback.
std::string renderGoroutinesText(const GoroutineTable& table);
// The same as JSON (schema gomapcore/goroutines-v1).
std::string renderGoroutinesJson(const GoroutineTable& table);

// A short rendering of the value of type at address (strings quoted, structs shallow,
// anything else as raw bytes with its type name). Never reads more than a few hundred bytes.
// With redact, only the type and length (redactedValue).
std::string formatValue(const Memory& memory, const Type* type, std::uint64_t address, bool redact = false);
// A value's type and, for strings and slices, its length, never its contents (--redact).
std::string redactedValue(const Memory& memory, const Type* type, std::uint64_t address);

}  // namespace gomapcore
