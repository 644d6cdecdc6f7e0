// The state of one run of an analysis: its options, its budget, and what it noted. Each run
// (Analysis::run, Analysis::inspect) creates a fresh one, so nothing one run found or hit (notes,
// limits_hit) leaks into the next; the program model the runs share lives in Session.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "gomapcore/analysis.h"
#include "gomapcore/budget.h"
#include "gomapcore/error.h"
#include "gomapcore/limits.h"
#include "gomapcore/target.h"

namespace gomapcore {

struct RunContext {
    explicit RunContext(const AnalysisOptions& options)
        : budget(options.makeBudget()),
          limits(options.limits),
          reach(options.reach),
          unreached(options.unreached),
          redact(options.redact),
          progress_(options.progress) {
        limits.budget = &budget;
        reach.budget = &budget;
    }
    RunContext(const RunContext&) = delete;
    RunContext& operator=(const RunContext&) = delete;

    AnalysisBudget budget;
    WalkLimits limits;  // drawing on budget
    ReachLimits reach;  // drawing on budget
    UnreachedLimits unreached;
    bool redact = false;
    // What this run could not do, and why.
    std::vector<std::string> notes;
    // Bounds of the run as a whole (not of one map's walk) that stopped it early.
    std::vector<std::string> limitsHit;

    // Reports progress of phase; done == total (both 0 for an unknown total) ends it.
    void progress(const char* phase, std::uint64_t done, std::uint64_t total) const {
        if (progress_) progress_(ProgressEvent{phase, done, total});
    }
    // Throws Error(Cancelled) once the caller cancelled the run: between phases, where
    // stopping leaves nothing half-done that the caller could mistake for a result.
    void stopIfCancelled() const {
        if (budget.cancelled()) throw Error(Error::Code::Cancelled, "the analysis was cancelled");
    }

  private:
    ProgressCallback progress_;
};

// The default bucket bound raised to the target's readable mapped bytes / kSmallestBucketBytes
// when that is more (kDefaultMaxBucketsPerMap); a bound the caller set is kept as it is.
inline void scaleBucketBound(const Target& target, WalkLimits& limits) {
    if (limits.maxBucketsPerMap != kDefaultMaxBucketsPerMap) return;
    std::uint64_t mapped = 0;
    for (const MemoryRegion& region : target.regions())
        if (region.readable && region.end > region.start) mapped += region.end - region.start;
    limits.maxBucketsPerMap = std::max(kDefaultMaxBucketsPerMap, mapped / kSmallestBucketBytes);
}

}  // namespace gomapcore
