// Progress and cancellation of a long analysis, for front ends that show a progress bar and a
// Cancel button (the CLI on a terminal, the GUI, the LLDB plugin).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace gomapcore {

// The phases of Analysis::run, in order. Names are stable: front ends may show them.
namespace phases {
inline constexpr const char* kGoroutines = "goroutines";  // reading and unwinding goroutines
inline constexpr const char* kCrashFirst =
    "crash-first";                                      // the crash and its map, before the search (onCrash)
inline constexpr const char* kSearch = "search";        // following roots to maps
inline constexpr const char* kWalk = "walk";            // walking and validating each map
inline constexpr const char* kCrash = "crash";          // explaining the crash
inline constexpr const char* kUnreached = "unreached";  // scanning the heap for unreached maps
}  // namespace phases

struct ProgressEvent {
    std::string phase;
    std::uint64_t done = 0;
    std::uint64_t total = 0;  // 0 when unknown
};

// Called on the thread that runs the analysis, from inside it: keep it short.
using ProgressCallback = std::function<void(const ProgressEvent&)>;

// Shared between the analysis and whoever may cancel it (another thread). Once cancelled, every
// walk stops at its next step and run() throws Error(Cancelled).
class CancelToken {
  public:
    void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
    bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  private:
    std::atomic<bool> cancelled_{false};
};

}  // namespace gomapcore
