#include "analysis/map_memory.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace gomapcore {

namespace {

std::uint64_t headerField(const MapResult& map, std::string_view name) {
    for (const auto& [key, value] : map.header)
        if (key == name) return value;
    return 0;
}

std::string mib(std::uint64_t bytes) {
    return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

void addFinding(MapResult& map, const char* rule, Severity severity, std::string message) {
    map.root.findings.push_back(Finding{rule, severity, map.address, map.address, std::move(message)});
}

}  // namespace

void sizeAllocationsFromHeap(Session& session, WalkLimits& limits) {
    const HeapModel* heap = session.heap();
    if (heap == nullptr) return;
    limits.allocationSize = [heap](std::uint64_t address) { return heap->allocationSize(address); };
}

void checkMapMemory(MapResult& map, const MemoryRules& rules) {
    if (!map.headerReadable || map.layout == nullptr) return;
    const MapMemory& memory = map.memory;
    const std::uint64_t live = map.count > 0 ? static_cast<std::uint64_t>(map.count) : 0;
    // A map grows only when full enough (classic overLoadFactor: 6.5 entries per bucket; swiss
    // tables at 7/8 of their slots) and never shrinks (runtime/map.go mapdelete,
    // internal/runtime/maps table.go Delete), so slots far beyond the live entries are what a
    // grown-then-emptied map keeps. The size floor spares small maps: a fresh map of one entry
    // already has 8 slots.
    if (memory.capacity > 0 && memory.capacity / std::max<std::uint64_t>(live, 1) >= rules.oversizedRatio &&
        memory.bytes() >= rules.oversizedMinBytes) {
        addFinding(map, rules::kMapOversized, Severity::Warning,
                   fmt::format("{} slots for {} live entries (load factor {:.4f}) hold {}: the map was grown "
                               "and then emptied, and Go maps never shrink (copy it into a new map to give "
                               "the memory back)",
                               memory.capacity, live, memory.loadFactor(map.count), mib(memory.bytes())));
    }
    if (map.layout->kind == MapLayoutKind::Classic) {
        const std::uint64_t B = headerField(map, "B");
        const std::uint64_t mainBuckets = B < 64 ? std::uint64_t{1} << B : 0;
        const double ratio =
            mainBuckets == 0 ? 0.0
                             : static_cast<double>(memory.overflowBuckets) / static_cast<double>(mainBuckets);
        if (memory.overflowBuckets >= rules.overflowHeavyMinBuckets && ratio >= rules.overflowHeavyRatio) {
            addFinding(
                map, rules::kMapOverflowHeavy, Severity::Info,
                fmt::format("{} overflow buckets behind {} main buckets ({:.2f} per bucket, {} apart from "
                            "the array): keys whose hashes collide, or many deletions the runtime has "
                            "not compacted yet (a same-size grow starts at one per bucket)",
                            memory.overflowBuckets, mainBuckets, ratio, mib(memory.overflow)));
        }
    }
}

void summarizeMemory(Report& report, const HeapModel* heap, const MemoryRules& rules) {
    MemorySummary& summary = report.memory;
    summary = MemorySummary{};
    if (heap != nullptr) {
        HeapInUse inUse = heap->inUse();
        summary.heapInUse = inUse.bytes;
        summary.heapInUseSource = inUse.source;
    }
    std::vector<const MapResult*> bySize;
    bySize.reserve(report.maps.size());
    for (const MapResult& map : report.maps) {
        summary.mapBytes += map.memory.bytes();
        ++summary.maps;
        if (!map.memory.complete) ++summary.incompleteMaps;
        if (map.memory.bytes() > 0) bySize.push_back(&map);
    }
    const std::size_t largest = std::min(rules.largest, bySize.size());
    std::partial_sort(bySize.begin(), bySize.begin() + static_cast<std::ptrdiff_t>(largest), bySize.end(),
                      [](const MapResult* a, const MapResult* b) {
                          return std::make_pair(b->memory.bytes(), a->address) <
                                 std::make_pair(a->memory.bytes(), b->address);
                      });
    for (std::size_t i = 0; i < largest; ++i) {
        const MapResult& map = *bySize[i];
        summary.largest.push_back(
            MemorySummary::LargestMap{map.address, map.typeCandidates.size() > 1 ? "unknown" : map.typeName(),
                                      map.roots, map.count, map.memory});
    }
    if (!summary.heapInUse || *summary.heapInUse == 0) return;
    const double heapBytes = static_cast<double>(*summary.heapInUse);
    for (MapResult& map : report.maps) {
        const std::uint64_t bytes = map.memory.bytes();
        if (bytes < rules.dominantMinBytes || static_cast<double>(bytes) < rules.dominantShare * heapBytes)
            continue;
        addFinding(map, rules::kMapDominant, Severity::Info,
                   fmt::format("the map holds {} of the {} Go heap in use ({:.0f}%, {})", mib(bytes),
                               mib(*summary.heapInUse), 100.0 * static_cast<double>(bytes) / heapBytes,
                               summary.heapInUseSource));
    }
}

MemoryRanking rankByBytes(const Report& report, std::size_t limit) {
    MemoryRanking ranking;
    std::vector<MemoryShare> lines;
    lines.reserve(report.maps.size() + report.mapGroups.size());
    for (const MapResult& map : report.maps)
        lines.push_back(MemoryShare{&map, nullptr, map.memory.bytes()});
    for (const MapGroup& group : report.mapGroups)
        lines.push_back(MemoryShare{nullptr, &group, group.bytes});
    const auto larger = [](const MemoryShare& a, const MemoryShare& b) {
        if (a.bytes != b.bytes) return a.bytes > b.bytes;
        if ((a.map != nullptr) != (b.map != nullptr)) return a.map != nullptr;
        if (a.map != nullptr) return a.map->address < b.map->address;
        return std::tie(a.group->rootPattern, a.group->type) < std::tie(b.group->rootPattern, b.group->type);
    };
    const std::size_t shown = std::min(limit, lines.size());
    std::partial_sort(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(shown), lines.end(), larger);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::uint64_t maps = lines[i].map != nullptr ? 1 : lines[i].group->maps;
        ranking.totalMaps += maps;
        ranking.totalBytes += lines[i].bytes;
        if (i < shown) continue;
        ++ranking.restLines;
        ranking.restMaps += maps;
        ranking.restBytes += lines[i].bytes;
    }
    lines.resize(shown);
    ranking.top = std::move(lines);
    return ranking;
}

}  // namespace gomapcore
