#include "gomapcore/budget.h"

#include <fmt/format.h>

namespace gomapcore {

namespace {
// Clock reads per call of timeUp(): one in 64 keeps the cost of a check below a nanosecond
// while a walk step (a bucket or group read) takes far longer than 64 clock periods' worth.
constexpr std::uint32_t kCallsPerClockRead = 64;
}  // namespace

void AnalysisBudget::limitTime(std::chrono::milliseconds duration) {
    duration_ = duration;
    deadline_ = Clock::now() + duration;
    timeExpired_ = false;
}

void AnalysisBudget::limitMemory(std::uint64_t bytes) {
    memoryLimit_ = bytes;
    memoryExhausted_ = charged_ > memoryLimit_;
}

AnalysisBudget AnalysisBudget::timeOnly() const {
    AnalysisBudget copy;
    copy.deadline_ = deadline_;
    copy.duration_ = duration_;
    copy.timeExpired_ = timeExpired_;
    copy.cancel_ = cancel_;
    return copy;
}

bool AnalysisBudget::timeUp() {
    if (timeExpired_) return true;
    if (cancelled()) return true;
    if (!deadline_) return false;
    if (++callsSinceClock_ < kCallsPerClockRead) return false;
    callsSinceClock_ = 0;
    timeExpired_ = Clock::now() >= *deadline_;
    return timeExpired_;
}

bool AnalysisBudget::charge(std::uint64_t bytes) {
    if (memoryExhausted_) return false;
    if (bytes > memoryLimit_ - charged_) {
        memoryExhausted_ = true;
        return false;
    }
    charged_ += bytes;
    return true;
}

std::string AnalysisBudget::timeLimitName() const {
    double seconds = static_cast<double>(duration_.count()) / 1000.0;
    return fmt::format("time-limit ({:g} s)", seconds);
}

std::string AnalysisBudget::memoryLimitName() const {
    constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
    if (memoryLimit_ % kMiB == 0) return fmt::format("max-memory ({} MiB)", memoryLimit_ / kMiB);
    return fmt::format("max-memory ({} bytes)", memoryLimit_);
}

}  // namespace gomapcore
