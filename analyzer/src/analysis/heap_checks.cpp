// Maps checked against the heap's allocation state (HeapModel).
#include "analysis/heap_checks.h"

#include <fmt/format.h>

#include <algorithm>

namespace gomapcore {
namespace {

// The header field or structure a node stands for, as the runtime names it
// (runtime/map.go hmap/mapextra; internal/runtime/maps/map.go, table.go).
const char* structureName(NodeKind kind) {
    switch (kind) {
        case NodeKind::Header:
            return "map header";
        case NodeKind::Bucket:
            return "buckets";
        case NodeKind::OverflowBucket:
            return "overflow bucket";
        case NodeKind::OldBucket:
            return "oldbuckets";
        case NodeKind::OldOverflowBucket:
            return "old overflow bucket";
        case NodeKind::Extra:
            return "extra";
        case NodeKind::Directory:
            return "dirPtr";
        case NodeKind::Table:
            return "directory table";
        case NodeKind::Group:
            return "groups";
        case NodeKind::OverflowList:
            return "extra.overflow";
        case NodeKind::OldOverflowList:
            return "extra.oldoverflow";
        case NodeKind::ListedOverflowBucket:
            return "listed overflow bucket";
        case NodeKind::NextOverflow:
            return "extra.nextOverflow";
    }
    return "structure";
}

// Why an address is in free memory, or nullopt when it is not (or the core does not say).
std::optional<std::string> freeMemory(const HeapAddress& h) {
    if (h.kind == HeapAddressKind::FreeSpan)
        return std::string("heap pages that no live span holds (freed to the page heap)");
    if (h.kind != HeapAddressKind::InUseObjectFree || h.span == nullptr) return std::nullopt;
    std::string sizeClass = h.span->sizeClass != 0 ? fmt::format("size class {}", h.span->sizeClass)
                                                   : std::string("a large-object span");
    return fmt::format("{} {}-byte slot at {:#x} ({}, span {:#x}-{:#x})",
                       h.garbage ? "an unmarked (garbage) object in the unswept" : "a free", h.objectSize,
                       h.objectStart, sizeClass, h.span->start, h.span->end);
}

// The last object classified: the buckets of one array, or the groups of one table, share it,
// so a large map costs one classification per allocation rather than per node.
struct ClassifyCache {
    const HeapModel& heap;
    HeapAddress last;
    bool valid = false;

    HeapAddress operator()(std::uint64_t address) {
        bool object = last.kind == HeapAddressKind::InUseObjectAllocated ||
                      last.kind == HeapAddressKind::InUseObjectFree;
        if (valid && object && address >= last.objectStart && address - last.objectStart < last.objectSize)
            return last;
        last = heap.classify(address);
        valid = true;
        return last;
    }
};

// extra's lists are read by inspect alone (a report's walk does not list them), so a finding on
// them would make inspect and the report disagree; the buckets they list lie on the chains, and
// are checked there.
bool listedOnlyByInspect(NodeKind kind) {
    return kind == NodeKind::OverflowList || kind == NodeKind::OldOverflowList ||
           kind == NodeKind::ListedOverflowBucket || kind == NodeKind::NextOverflow;
}

std::size_t checkNode(ClassifyCache& classify, std::uint64_t map, MapNode& node) {
    if (listedOnlyByInspect(node.kind)) return 0;
    std::size_t added = 0;
    if (node.address != 0) {
        HeapAddress h = classify(node.address);
        if (auto why = freeMemory(h)) {
            // A reachable structure in memory the runtime considers free: the GC freed it while
            // the map still pointed at it (a use after free), or the pointer is corrupt.
            node.findings.push_back(
                Finding{rules::kPointerIntoFreeMemory, Severity::Error, map, node.address,
                        fmt::format("{} at {:#x} lies in {}", structureName(node.kind), node.address, *why)});
            ++added;
        }
    }
    for (MapNode& child : node.children)
        added += checkNode(classify, map, child);
    return added;
}

}  // namespace

std::size_t checkFreedStructures(const HeapModel& heap, MapResult& map) {
    ClassifyCache classify{heap, {}, false};
    return checkNode(classify, map.address, map.root);
}

}  // namespace gomapcore
