// What one analysis may spend as a whole, shared by every walk in it: wall-clock time, and the
// memory its results and work lists hold. Per-walk limits (WalkLimits, ReachLimits) bound one
// map or one search; this bounds their sum, whatever the headers in the core claim. When a
// bound is reached, every walk stops where it is, says so in its limits_hit, and the report
// still comes out with what was done.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "gomapcore/progress.h"

namespace gomapcore {

class AnalysisBudget {
  public:
    using Clock = std::chrono::steady_clock;

    // The analysis must stop walking once duration has passed from now.
    void limitTime(std::chrono::milliseconds duration);
    // The walks may hold at most bytes (estimated from the structures they keep).
    void limitMemory(std::uint64_t bytes);

    // Walks stop (timeUp) once token is cancelled, as when the time is up.
    void cancelWith(std::shared_ptr<const CancelToken> token) { cancel_ = std::move(token); }
    bool cancelled() const { return cancel_ != nullptr && cancel_->cancelled(); }

    // True once the deadline has passed (or the analysis was cancelled), and from then on.
    // Looks at the clock only every few calls: it sits in the walkers' inner loops.
    bool timeUp();
    // Takes bytes from the memory budget; false once they do not fit, and from then on.
    bool charge(std::uint64_t bytes);
    // Gives back bytes charged for structures since freed (a walk's nodes once its summary is
    // all that is kept). An exhausted budget stays exhausted.
    void release(std::uint64_t bytes) { charged_ -= bytes < charged_ ? bytes : charged_; }

    // The same deadline without the memory bound, for walks whose results are thrown away at
    // once (validation, following map entries): they must stop in time but hold nothing.
    AnalysisBudget timeOnly() const;

    bool timeExpired() const { return timeExpired_; }
    bool memoryExhausted() const { return memoryExhausted_; }
    std::uint64_t charged() const { return charged_; }
    // What may still be charged before the memory bound is reached.
    std::uint64_t remaining() const { return memoryExhausted_ ? 0 : memoryLimit_ - charged_; }
    // The names limits_hit uses: "time-limit (30 s)", "max-memory (2048 MiB)".
    std::string timeLimitName() const;
    std::string memoryLimitName() const;

  private:
    std::optional<Clock::time_point> deadline_;
    std::chrono::milliseconds duration_{0};
    std::uint64_t memoryLimit_ = UINT64_MAX;
    std::uint64_t charged_ = 0;
    std::uint32_t callsSinceClock_ = 0;
    bool timeExpired_ = false;
    bool memoryExhausted_ = false;
    std::shared_ptr<const CancelToken> cancel_;
};

}  // namespace gomapcore
