#include "gomapcore/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "binary/value_text.h"
#include "maps/map_layout.h"

namespace gomapcore {
namespace {

using nlohmann::json;

std::string hex(std::uint64_t value) {
    return fmt::format("{:#x}", value);
}

std::uint64_t headerField(const MapResult& map, const char* name) {
    for (const auto& [key, value] : map.header)
        if (key == name) return value;
    return 0;
}

json memoryToJson(const MapMemory& memory, std::int64_t count) {
    return json{{"bytes", memory.bytes()},
                {"header", memory.header},
                {"buckets", memory.buckets},
                {"directory", memory.directory},
                {"overflow", memory.overflow},
                {"old_buckets", memory.oldBuckets},
                {"indirect", memory.indirect},
                {"capacity", memory.capacity},
                {"load_factor", memory.loadFactor(count)},
                {"overflow_buckets", memory.overflowBuckets},
                {"allocations", memory.allocations},
                {"heap_sized", memory.heapSized},
                {"complete", memory.complete}};
}

json mapToJson(const MapResult& map) {
    json j;
    j["address"] = hex(map.address);
    bool typeUnknown = map.typeCandidates.size() > 1;
    j["type"] = typeUnknown ? "unknown" : map.typeName();
    std::string keyType = map.layout && map.layout->keyType ? map.layout->keyType->name : "";
    std::string elemType = map.layout && map.layout->elemType ? map.layout->elemType->name : "";
    j["key_type"] = typeUnknown ? "unknown" : keyType;
    j["elem_type"] = typeUnknown ? "unknown" : elemType;
    j["confidence"] = toString(map.confidence);
    if (typeUnknown) j["type_candidates"] = map.typeCandidates;
    j["layout"] = map.layout ? toString(map.layout->kind) : "unknown";
    j["count"] = map.headerReadable ? json(map.count) : json(nullptr);
    j["live_entries"] = map.liveEntries;
    j["complete"] = map.complete;
    j["status"] = toString(map.status());
    j["roots"] = map.roots;
    json kinds = json::array();
    for (std::size_t i = 0; i < map.roots.size(); ++i) {
        RootDescription kind = map.rootKind(i);
        kinds.push_back({{"origin", kind.origin}, {"through", kind.through}});
    }
    j["root_kinds"] = kinds;
    json header = json::object();
    for (const auto& [key, value] : map.header)
        header[std::string(key)] = value;
    j["header"] = header;
    if (map.layout && map.headerReadable) {
        if (map.layout->kind == MapLayoutKind::Classic) {
            j["B"] = headerField(map, "B");
            j["buckets"] = hex(headerField(map, "buckets"));
            j["oldbuckets"] = hex(headerField(map, "oldbuckets"));
            j["growing"] = headerField(map, "oldbuckets") != 0;
        } else {
            j["dir_len"] = headerField(map, "dirLen");
            j["global_depth"] = headerField(map, "globalDepth");
            j["tables"] = map.tables;
            j["dir_ptr"] = hex(headerField(map, "dirPtr"));
            j["group_layout"] = map.layout->swiss.splitGroup ? "split" : "interleaved";
        }
    }
    j["limits_hit"] = map.limitsHit;
    j["memory"] = memoryToJson(map.memory, map.count);
    return j;
}

json groupToJson(const MapGroup& group) {
    return json{{"type", group.type},
                {"root_pattern", group.rootPattern},
                {"maps", group.maps},
                {"entries", group.entries},
                {"bytes", group.bytes},
                {"status",
                 {{"ok", group.ok},
                  {"suspect", group.suspect},
                  {"damaged", group.damaged},
                  {"incomplete", group.incomplete}}}};
}

json memorySummaryJson(const MemorySummary& memory) {
    json largest = json::array();
    for (const MemorySummary::LargestMap& map : memory.largest)
        largest.push_back({{"address", hex(map.address)},
                           {"type", map.type},
                           {"roots", map.roots},
                           {"count", map.count},
                           {"bytes", map.memory.bytes()},
                           {"capacity", map.memory.capacity},
                           {"load_factor", map.memory.loadFactor(map.count)}});
    const bool heapKnown = memory.heapInUse.has_value();
    return json{{"maps", memory.maps},
                {"maps_bytes", memory.mapBytes},
                {"incomplete_maps", memory.incompleteMaps},
                {"heap_in_use", heapKnown ? json(*memory.heapInUse) : json(nullptr)},
                {"heap_in_use_source", heapKnown ? json(memory.heapInUseSource) : json(nullptr)},
                {"maps_share",
                 heapKnown && *memory.heapInUse > 0
                     ? json(static_cast<double>(memory.mapBytes) / static_cast<double>(*memory.heapInUse))
                     : json(nullptr)},
                {"largest", largest}};
}

std::string heapText(const MemorySummary& memory) {
    if (!memory.heapInUse) return "Go heap in use unknown";
    return fmt::format("Go heap in use {} ({:.0f}% in maps)", bytesText(*memory.heapInUse),
                       *memory.heapInUse == 0 ? 0.0
                                              : 100.0 * static_cast<double>(memory.mapBytes) /
                                                    static_cast<double>(*memory.heapInUse));
}

// One line of a table of maps by bytes held.
std::string memoryLine(std::uint64_t bytes, std::uint64_t capacity, double loadFactor, std::int64_t count,
                       const std::string& what) {
    return fmt::format("  {:>10} {:>10} {:>7.3f} {:>9} {}\n", bytesText(bytes), capacity, loadFactor, count,
                       what);
}

constexpr const char* kMemoryColumns = "  {:>10} {:>10} {:>7} {:>9} {}\n";

json findingToJson(const Finding& f) {
    return json{{"rule", f.rule},
                {"severity", toString(f.severity)},
                {"map", hex(f.map)},
                {"address", hex(f.address)},
                {"message", f.message}};
}

const char* signalName(int signal) {
    switch (signal) {
        case 0:
            return "none";
        case 4:
            return "SIGILL";
        case 5:
            return "SIGTRAP";
        case 6:
            return "SIGABRT";
        case 7:
            return "SIGBUS";
        case 8:
            return "SIGFPE";
        case 9:
            return "SIGKILL";
        case 11:
            return "SIGSEGV";
        case 31:
            return "SIGSYS";
        default:
            return "signal";
    }
}

std::string rootsText(const MapResult& map) {
    if (map.roots.empty()) return "(unreached)";
    std::string out;
    for (std::size_t i = 0; i < map.roots.size(); ++i)
        out += (i ? ", " : "") + map.roots[i];
    return out;
}

nlohmann::ordered_json locationJson(const std::optional<CodeLocation>& location) {
    if (!location) return nullptr;
    nlohmann::ordered_json j;
    j["function"] = location->function;
    j["file"] = location->file;
    j["line"] = location->line;
    return j;
}

template <typename T>
nlohmann::ordered_json optionalJson(const std::optional<T>& value) {
    return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json textOrNull(const std::string& text) {
    return text.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(text);
}

nlohmann::ordered_json crashJson(const CrashReport& crash) {
    nlohmann::ordered_json j;
    j["kind"] = crash.kind;
    j["message"] = crash.message;
    j["explanation"] = crash.explanation;
    j["signal"] = crash.signal;
    j["signal_code"] = crash.signalCode;
    j["fault_address"] = crash.faultAddress ? nlohmann::ordered_json(hex(*crash.faultAddress)) : nullptr;
    j["thread"] = optionalJson(crash.thread);
    j["goroutine"] = optionalJson(crash.goroutine);
    j["map"] = crash.map ? nlohmann::ordered_json(hex(*crash.map)) : nullptr;
    j["map_roots"] = crash.mapRoots;
    j["map_function"] = textOrNull(crash.mapFunction);
    j["map_from_fallback"] = crash.mapFromFallback;
    j["variable"] = textOrNull(crash.variable);
    j["field"] = textOrNull(crash.field);
    j["frame"] = locationJson(crash.userFrame ? crash.userFrame : crash.crashFrame);
    nlohmann::ordered_json others = nlohmann::ordered_json::array();
    for (const MapHolder& holder : crash.others) {
        nlohmann::ordered_json o;
        o["goroutine"] = holder.goroutine;
        o["how"] = holder.how;
        o["frame"] = locationJson(holder.userFrame);
        others.push_back(std::move(o));
    }
    j["other_goroutines"] = std::move(others);
    nlohmann::ordered_json mapFindings = nlohmann::ordered_json::array();
    for (const auto& [rule, address] : crash.mapFindings)
        mapFindings.push_back({{"rule", rule}, {"address", hex(address)}});
    j["map_findings"] = std::move(mapFindings);
    j["goroutine_state"] = textOrNull(crash.goroutineState);
    j["on_system_stack"] = crash.onSystemStack;
    if (crash.sentSignal) {
        const SentSignal& sent = *crash.sentSignal;
        nlohmann::ordered_json s;
        s["signal"] = sent.signal;
        s["code"] = sent.code;
        s["sender_pid"] = optionalJson(sent.senderPid);
        s["sender_uid"] = optionalJson(sent.senderUid);
        s["thread"] = sent.thread;
        s["m"] = optionalJson(sent.m);
        s["interrupted_function"] = textOrNull(sent.interruptedFunction);
        s["from_core_note"] = sent.fromCoreNote;
        j["signal_sent"] = std::move(s);
    } else {
        j["signal_sent"] = nullptr;
    }
    j["reraised_by_runtime"] = crash.reraisedByRuntime;
    nlohmann::ordered_json inUse = nlohmann::ordered_json::array();
    for (const MapInUse& use : crash.mapsInUse) {
        nlohmann::ordered_json u;
        u["goroutine"] = use.goroutine;
        u["function"] = use.function;
        u["map"] = use.map ? nlohmann::ordered_json(hex(*use.map)) : nullptr;
        u["map_roots"] = use.mapRoots;
        u["frame"] = locationJson(use.userFrame);
        inUse.push_back(std::move(u));
    }
    j["maps_in_use"] = std::move(inUse);
    j["notes"] = crash.notes;
    return j;
}

}  // namespace

void writeJson(const Report& report, std::ostream& out) {
    json j;
    j["schema"] = kReportSchema;
    j["tool"] = {{"name", "gomapcore"}, {"version", kVersion}};
    j["input"] = {{"core", report.input.core},
                  {"executable", report.input.executable},
                  {"core_truncated", report.input.coreTruncated}};
    // Where the executable came from; absent in a report of a front end that does not say.
    if (!report.executable.source.empty()) {
        auto orNull = [](const std::string& text) { return text.empty() ? json(nullptr) : json(text); };
        j["executable"] = {{"path", report.executable.path},
                           {"source", report.executable.source},
                           {"build_id", orNull(report.executable.buildId)},
                           {"go_build_id", orNull(report.executable.goBuildId)},
                           {"rejected", report.executable.rejected}};
    }
    j["target"] = {{"go_version", report.target.goVersion},
                   {"go_experiment", report.target.goExperiment},
                   {"map_layout", toString(report.target.mapLayout)},
                   {"arch", report.target.arch},
                   {"pid", report.target.pid},
                   {"signal", report.target.signal},
                   {"signal_name", signalName(report.target.signal)},
                   {"threads", report.target.threads}};
    auto findings = report.findings();
    j["summary"] = {
        {"maps", report.mapCount()},
        {"findings",
         {{"error", report.countAtLeast(Severity::Error)},
          {"warning", report.countAtLeast(Severity::Warning) - report.countAtLeast(Severity::Error)},
          {"info", findings.size() - report.countAtLeast(Severity::Warning)}}}};
    // The maps array is written map by map below, never held as one document: with a million
    // maps the document and its dump cost gigabytes (docs/performance.md).
    j["maps"] = json::array();
    json nilMaps = json::array();
    for (const NilMap& nil : report.nilMaps)
        nilMaps.push_back({{"root", nil.root}, {"type", nil.type}});
    j["nil_maps"] = nilMaps;
    json groups = json::array();
    for (const MapGroup& group : report.mapGroups)
        groups.push_back(groupToJson(group));
    j["map_groups"] = groups;
    json list = json::array();
    for (const Finding& f : findings)
        list.push_back(findingToJson(f));
    j["findings"] = list;
    j["crash"] = report.crash ? crashJson(*report.crash) : nlohmann::ordered_json(nullptr);
    json limits = json::array();
    for (const MapResult& map : report.maps)
        for (const std::string& limit : map.limitsHit)
            limits.push_back({{"map", hex(map.address)}, {"limit", limit}});
    for (const std::string& limit : report.limitsHit)
        limits.push_back({{"map", nullptr}, {"limit", limit}});
    j["limits_hit"] = limits;
    j["memory"] = memorySummaryJson(report.memory);
    j["notes"] = report.notes;
    // The document is written key by key in its own (sorted) order, as dump(2) would, with the
    // maps array streamed in its place.
    out << "{";
    bool firstKey = true;
    for (const auto& [key, value] : j.items()) {
        out << (firstKey ? "\n  " : ",\n  ") << json(key).dump() << ": ";
        firstKey = false;
        if (key != "maps") {
            const std::string text = value.dump(2);
            for (char c : text) {
                out.put(c);
                if (c == '\n') out << "  ";
            }
            continue;
        }
        if (report.maps.empty()) {
            out << "[]";
            continue;
        }
        out << "[";
        bool firstMap = true;
        for (const MapResult& map : report.maps) {
            const std::string element = mapToJson(map).dump(2);
            out << (firstMap ? "\n    " : ",\n    ");
            firstMap = false;
            for (char c : element) {
                out.put(c);
                if (c == '\n') out << "    ";
            }
        }
        out << "\n  ]";
    }
    out << "\n}\n";
}

std::string renderJson(const Report& report) {
    std::ostringstream out;
    writeJson(report, out);
    return std::move(out).str();
}

std::string renderMapJsonLine(const MapResult& map) {
    return mapToJson(map).dump() + "\n";
}

std::string bytesText(std::uint64_t bytes) {
    if (bytes < 1024) return fmt::format("{} B", bytes);
    const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes) / 1024;
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string renderText(const Report& report) {
    std::string out;
    auto findings = report.findings();
    std::size_t errors = report.countAtLeast(Severity::Error);
    std::size_t warnings = report.countAtLeast(Severity::Warning) - errors;
    std::size_t infos = findings.size() - errors - warnings;
    out += fmt::format("gomapcore {} — {}\n", kVersion, report.input.core);
    if (report.crash) {
        out += fmt::format("\n  {}\n", report.crash->explanation);
        out += fmt::format("  (crash kind: {})\n\n", report.crash->kind);
    }
    out += fmt::format("  executable   {}{}\n", report.input.executable,
                       report.executable.source.empty() || report.executable.source == "argument"
                           ? ""
                           : " (from " + report.executable.source + ")");
    out +=
        fmt::format("  go           {}{} ({} maps)\n",
                    report.target.goVersion.empty() ? "unknown" : report.target.goVersion,
                    report.target.goExperiment.empty() ? "" : " GOEXPERIMENT=" + report.target.goExperiment,
                    toString(report.target.mapLayout));
    out += fmt::format("  process      pid {}, {} threads, {} ({}){}\n", report.target.pid,
                       report.target.threads, signalName(report.target.signal), report.target.signal,
                       report.input.coreTruncated ? ", core TRUNCATED" : "");
    out += fmt::format("  maps         {} found ({} nil)\n", report.mapCount(), report.nilMaps.size());
    if (!report.mapGroups.empty())
        out += fmt::format("               {} listed one by one, the rest in {} groups by type and root\n",
                           report.maps.size(), report.mapGroups.size());
    out += fmt::format("  findings     {} error, {} warning, {} info\n", errors, warnings, infos);
    out += fmt::format("  memory       maps hold {}; {}\n", bytesText(report.memory.mapBytes),
                       heapText(report.memory));
    if (!report.memory.largest.empty()) {
        out += "\nWhere the memory went (maps holding the most)\n";
        out += fmt::format(kMemoryColumns, "BYTES", "SLOTS", "LOAD", "COUNT", "MAP");
        constexpr std::size_t kTextRows = 5;
        for (std::size_t i = 0; i < report.memory.largest.size() && i < kTextRows; ++i) {
            const MemorySummary::LargestMap& map = report.memory.largest[i];
            std::string roots = map.roots.empty() ? "(unreached)" : map.roots.front();
            if (map.roots.size() > 1) roots += fmt::format(" (+{} more)", map.roots.size() - 1);
            out += memoryLine(map.memory.bytes(), map.memory.capacity, map.memory.loadFactor(map.count),
                              map.count, fmt::format("{} {} {}", hex(map.address), map.type, roots));
        }
    }
    if (!findings.empty()) {
        out += "\nFindings\n";
        for (const MapResult& map : report.maps) {
            for (const Finding& f : map.findings()) {
                out += fmt::format("  {:<7} {:<22} map {} ({} {})\n          at {}: {}\n",
                                   toString(f.severity), f.rule, hex(f.map), map.typeName(), rootsText(map),
                                   hex(f.address), f.message);
            }
        }
    }
    bool anyLimit = false;
    for (const MapResult& map : report.maps) {
        for (const std::string& limit : map.limitsHit) {
            if (!anyLimit) out += "\nLimits reached (the walk stopped early there)\n";
            anyLimit = true;
            out += fmt::format("  map {}: {}\n", hex(map.address), limit);
        }
    }
    for (const std::string& limit : report.limitsHit) {
        if (!anyLimit) out += "\nLimits reached (the walk stopped early there)\n";
        anyLimit = true;
        out += fmt::format("  analysis: {}\n", limit);
    }
    if (!report.notes.empty()) {
        out += "\nNotes\n";
        for (const std::string& note : report.notes)
            out += "  " + note + "\n";
    }
    return out;
}

std::string renderMemoryText(const Report& report) {
    std::vector<const MapResult*> maps;
    for (const MapResult& map : report.maps)
        maps.push_back(&map);
    std::stable_sort(maps.begin(), maps.end(), [](const MapResult* a, const MapResult* b) {
        return a->memory.bytes() > b->memory.bytes();
    });
    std::string out = fmt::format(kMemoryColumns, "BYTES", "SLOTS", "LOAD", "COUNT", "MAP");
    for (const MapResult* map : maps) {
        std::string type = map->typeCandidates.size() > 1 ? "unknown" : map->typeName();
        out += memoryLine(map->memory.bytes(), map->memory.capacity, map->memory.loadFactor(map->count),
                          map->count,
                          fmt::format("{} {} {}{}", hex(map->address), type, rootsText(*map),
                                      map->memory.complete ? "" : " (walk incomplete: at least this)"));
    }
    for (const MapGroup& group : report.mapGroups)
        out += fmt::format("  {:>10} {:>10} {:>7} {:>9} {} maps {} {}\n", bytesText(group.bytes), "-", "-",
                           group.entries, group.maps, group.type, group.rootPattern);
    out += fmt::format("  total {} in {} maps; {}\n", bytesText(report.memory.mapBytes), report.memory.maps,
                       heapText(report.memory));
    return out;
}

std::string renderMemoryJson(const Report& report) {
    json j;
    j["schema"] = "gomapcore/memory-v1";
    j["memory"] = memorySummaryJson(report.memory);
    std::vector<const MapResult*> maps;
    for (const MapResult& map : report.maps)
        maps.push_back(&map);
    std::stable_sort(maps.begin(), maps.end(), [](const MapResult* a, const MapResult* b) {
        return a->memory.bytes() > b->memory.bytes();
    });
    json list = json::array();
    for (const MapResult* map : maps) {
        list.push_back({{"address", hex(map->address)},
                        {"type", map->typeCandidates.size() > 1 ? "unknown" : map->typeName()},
                        {"roots", map->roots},
                        {"count", map->headerReadable ? json(map->count) : json(nullptr)},
                        {"memory", memoryToJson(map->memory, map->count)}});
    }
    j["maps"] = list;
    json groups = json::array();
    for (const MapGroup& group : report.mapGroups)
        groups.push_back(groupToJson(group));
    j["map_groups"] = groups;
    return j.dump(2) + "\n";
}

std::string renderMapList(const Report& report) {
    std::string out = fmt::format("{:<16} {:<36} {:>8} {:>8} {:<9} {:<10} {}\n", "ADDRESS", "TYPE", "COUNT",
                                  "LIVE", "SHAPE", "STATUS", "ROOTS");
    for (const MapResult& map : report.maps) {
        std::string shape = "-";
        if (map.layout && map.headerReadable) {
            shape = map.layout->kind == MapLayoutKind::Classic
                        ? fmt::format("B={}", headerField(map, "B"))
                        : fmt::format("dir={}", headerField(map, "dirLen"));
        }
        std::string type = map.typeCandidates.size() > 1 ? "unknown" : map.typeName();
        if (type.size() > 36) type = type.substr(0, 35) + "…";
        out += fmt::format("{:<16} {:<36} {:>8} {:>8} {:<9} {:<10} {}\n", hex(map.address), type, map.count,
                           map.liveEntries, shape, toString(map.status()), rootsText(map));
    }
    for (const MapGroup& group : report.mapGroups) {
        std::string type = group.type.size() > 36 ? group.type.substr(0, 35) + "…" : group.type;
        std::string tally = fmt::format("{} ok", group.ok);
        if (group.suspect + group.damaged + group.incomplete > 0)
            tally += fmt::format(", {} other", group.suspect + group.damaged + group.incomplete);
        out += fmt::format("{:<16} {:<36} {:>8} {:>8} {:<9} {:<10} {}\n", fmt::format("{} maps", group.maps),
                           type, "-", group.entries, "-", tally, group.rootPattern);
    }
    for (const NilMap& nil : report.nilMaps)
        out += fmt::format("{:<16} {:<36} {:>8} {:>8} {:<9} {:<10} {}\n", "nil", nil.type, 0, 0, "-", "nil",
                           nil.root);
    return out;
}

namespace {

void renderNode(const Memory& memory, const MapResult& map, const MapNode& node, int depth,
                std::size_t& entriesLeft, bool redact, std::string& out) {
    std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
    // What extra lists (inspect only) holds no entries of its own: a listed bucket's entries are
    // printed where its chain holds it, so a count here would read as an empty bucket.
    const bool listing = node.kind == NodeKind::OverflowList || node.kind == NodeKind::OldOverflowList ||
                         node.kind == NodeKind::ListedOverflowBucket || node.kind == NodeKind::NextOverflow;
    if (listing) {
        out += fmt::format(
            "{}{} {}{}{}\n", indent, toString(node.kind),
            node.index >= 0 ? fmt::format("#{} ", node.index) : "", hex(node.address),
            node.state == AddressState::Captured ? "" : fmt::format(" [{}]", toString(node.state)));
    } else if (node.kind != NodeKind::Header) {
        std::string control;
        for (std::uint8_t b : node.control)
            control += fmt::format("{:02x} ", b);
        out +=
            fmt::format("{}{} {}{} {} live {}{}{}\n", indent, toString(node.kind),
                        node.index >= 0 ? fmt::format("#{} ", node.index) : "", hex(node.address),
                        node.state == AddressState::Captured ? "" : fmt::format("[{}]", toString(node.state)),
                        node.liveEntries, control.empty() ? "" : "  ctrl ", control);
    }
    for (const Finding& f : node.findings)
        out += fmt::format("{}  ! {} {}: {}\n", indent, toString(f.severity), f.rule, f.message);
    for (const Slot& slot : node.slots) {
        if (entriesLeft == 0) break;
        --entriesLeft;
        std::string key = slot.keyReadable ? formatValue(memory, map.layout->keyType, slot.keyAddress, redact)
                                           : "<unreadable>";
        std::string elem = slot.elemReadable
                               ? formatValue(memory, map.layout->elemType, slot.elemAddress, redact)
                               : "<unreadable>";
        out += fmt::format("{}    [{}] {}: {}\n", indent, slot.index, key, elem);
    }
    for (const MapNode& child : node.children)
        renderNode(memory, map, child, depth + 1, entriesLeft, redact, out);
}

}  // namespace

std::string renderMapDetail(const Memory& memory, const MapResult& map, std::size_t maxEntries, bool redact) {
    std::string out =
        fmt::format("map {} {} — {}\n", hex(map.address), map.typeName(), toString(map.status()));
    out += fmt::format("  roots: {}\n", rootsText(map));
    if (map.confidence == Confidence::Heuristic)
        out += fmt::format("  found by: {} (validated as a map header)\n", toString(map.confidence));
    if (map.confidence == Confidence::HeapTyped)
        out += fmt::format("  found by: {} (through an untyped pointer, typed by the heap's record)\n",
                           toString(map.confidence));
    if (map.typeCandidates.size() > 1) {
        out += "  type: not recorded anywhere; it validates as each of:";
        for (const std::string& candidate : map.typeCandidates)
            out += " " + candidate;
        out += fmt::format("\n  entries below are decoded as {}\n", map.typeName());
    }
    out += "  header:";
    for (const auto& [key, value] : map.header) {
        bool pointer = key == "buckets" || key == "oldbuckets" || key == "extra" || key == "dirPtr";
        out += fmt::format(" {}={}", key, pointer ? hex(value) : fmt::format("{}", value));
    }
    out += fmt::format("\n  live entries found: {}{}\n", map.liveEntries,
                       map.complete ? "" : " (walk incomplete)");
    // A walk a bound cut says which, so that it is never mistaken for the map's own shape.
    if (!map.limitsHit.empty()) {
        out += "  limits hit:";
        for (const std::string& limit : map.limitsHit)
            out += " " + limit;
        out += " (the walk stopped there)\n";
    }
    std::size_t entriesLeft = maxEntries;
    renderNode(memory, map, map.root, 0, entriesLeft, redact, out);
    if (entriesLeft == 0 && map.liveEntries > maxEntries)
        out += fmt::format("  … {} more entries not shown (--max-entries)\n", map.liveEntries - maxEntries);
    return out;
}

}  // namespace gomapcore
