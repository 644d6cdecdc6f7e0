// Which maps a report lists one by one, and the groups the others are counted in
// (AnalysisOptions::listing): a report of a million maps stays readable and small.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "gomapcore/analysis.h"
#include "gomapcore/report.h"

namespace gomapcore {

// How a root path reads with each index or map key as [*] ("main.many[*]",
// "main.srv.sessions[*].byID"), and how many there are.
struct RootPattern {
    std::string pattern;
    std::size_t indexDepth = 0;
};
RootPattern rootPattern(std::string_view path);

// Splits report.maps into the maps listed one by one (kept in report.maps, in order) and groups
// (report.mapGroups, sorted by type and pattern).
void applyListing(Report& report, const MapListing& listing);

}  // namespace gomapcore
