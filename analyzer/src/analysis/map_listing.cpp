#include "analysis/map_listing.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace gomapcore {

RootPattern rootPattern(std::string_view path) {
    // Paths are made by the search for maps (analysis/reachability.cpp): a root name, then
    // .field steps and [index] or [key] steps, where a key is formatted by formatValue (strings
    // quoted with \" and \\ escaped, composite keys with brackets of their own).
    RootPattern out;
    out.pattern.reserve(path.size());
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (path[i] != '[') {
            out.pattern.push_back(path[i]);
            continue;
        }
        int depth = 0;
        bool quoted = false;
        std::size_t j = i;
        for (; j < path.size(); ++j) {
            char c = path[j];
            if (quoted) {
                if (c == '\\')
                    ++j;
                else if (c == '"')
                    quoted = false;
                continue;
            }
            if (c == '"')
                quoted = true;
            else if (c == '[')
                ++depth;
            else if (c == ']' && --depth == 0)
                break;
        }
        out.pattern += "[*]";
        ++out.indexDepth;
        i = j;  // past the closing bracket (or the end of an unbalanced path)
    }
    return out;
}

void applyListing(Report& report, const MapListing& listing) {
    if (listing.all) return;
    std::set<std::uint64_t> crashMaps;
    if (report.crash && report.crash->map) crashMaps.insert(*report.crash->map);
    // The maps holding the most memory stay listed, whatever their entries.
    for (const MemorySummary::LargestMap& map : report.memory.largest)
        crashMaps.insert(map.address);
    // The largest maps by live entries (ties by address): listed whatever their roots.
    std::vector<std::size_t> bySize(report.maps.size());
    for (std::size_t i = 0; i < bySize.size(); ++i)
        bySize[i] = i;
    std::size_t largest = std::min(listing.largest, bySize.size());
    std::partial_sort(bySize.begin(), bySize.begin() + static_cast<std::ptrdiff_t>(largest), bySize.end(),
                      [&](std::size_t a, std::size_t b) {
                          const MapResult& x = report.maps[a];
                          const MapResult& y = report.maps[b];
                          return std::tie(y.liveEntries, x.address) < std::tie(x.liveEntries, y.address);
                      });
    std::vector<bool> listed(report.maps.size(), false);
    for (std::size_t i = 0; i < largest; ++i)
        listed[bySize[i]] = true;
    std::map<std::pair<std::string, std::string>, MapGroup> groups;
    std::vector<MapResult> kept;
    for (std::size_t i = 0; i < report.maps.size(); ++i) {
        MapResult& map = report.maps[i];
        bool keep = listed[i] || crashMaps.count(map.address) > 0 || !map.findings().empty();
        std::string pattern = "(unreached)";
        for (std::size_t r = 0; r < map.roots.size(); ++r) {
            RootPattern root = rootPattern(map.roots[r]);
            if (root.indexDepth <= listing.maxIndexDepth) keep = true;
            if (r == 0) pattern = std::move(root.pattern);
        }
        if (keep) {
            kept.push_back(std::move(map));
            continue;
        }
        std::string type = map.typeCandidates.size() > 1 ? "unknown" : map.typeName();
        MapGroup& group = groups[{type, pattern}];
        group.type = type;
        group.rootPattern = pattern;
        ++group.maps;
        group.entries += map.liveEntries;
        group.bytes += map.memory.bytes();
        switch (map.status()) {
            case MapStatus::Ok:
                ++group.ok;
                break;
            case MapStatus::Suspect:
                ++group.suspect;
                break;
            case MapStatus::Damaged:
                ++group.damaged;
                break;
            case MapStatus::Incomplete:
                ++group.incomplete;
                break;
        }
    }
    report.maps = std::move(kept);
    for (auto& [key, group] : groups)
        report.mapGroups.push_back(std::move(group));
}

}  // namespace gomapcore
