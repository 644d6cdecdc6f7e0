#include "analysis/out_of_memory.h"

#include <fmt/format.h>

namespace gomapcore {

namespace {

std::string mib(std::uint64_t bytes) {
    return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

}  // namespace

std::optional<std::string_view> outOfMemoryMessage(std::string_view message) {
    // The runtime's throws when the OS refuses memory (golang/go src/runtime @go1.19..1.27):
    // mcache.go refill/allocLarge when mheap.grow fails, mem_linux.go sysMap on mmap ENOMEM,
    // malloc.go sysAlloc's arena bookkeeping, stack.go stackalloc. Longest first: each is
    // matched as a prefix.
    static constexpr std::string_view kMessages[] = {
        "out of memory allocating heap arena metadata",
        "out of memory allocating heap arena map",
        "out of memory allocating allArenas",
        "out of memory (stackalloc)",
        "runtime: out of memory",
        "out of memory",
    };
    for (std::string_view known : kMessages)
        if (message.substr(0, known.size()) == known) return known;
    return std::nullopt;
}

void explainOutOfMemory(Report& report) {
    if (!report.crash || report.crash->kind != crash_kinds::kOutOfMemory) return;
    CrashReport& crash = *report.crash;
    const MemorySummary& memory = report.memory;
    std::string text =
        fmt::format("fatal error: {} in goroutine {}", crash.message, crash.goroutine.value_or(0));
    if (const std::optional<CodeLocation>& frame = crash.crashFrame) {
        const std::string_view file = frame->file;
        text += fmt::format(" at {} ({}:{})", frame->function, file.substr(file.rfind('/') + 1), frame->line);
    }
    if (!crash.mapFunction.empty() && crash.map && *crash.map != 0)
        text += fmt::format(" (in {} on map {:#x})", crash.mapFunction, *crash.map);
    if (memory.heapInUse)
        text += fmt::format("; the Go heap had {} in use, {} of it ({:.0f}%) in {} maps",
                            mib(*memory.heapInUse), mib(memory.mapBytes),
                            *memory.heapInUse == 0 ? 0.0
                                                   : 100.0 * static_cast<double>(memory.mapBytes) /
                                                         static_cast<double>(*memory.heapInUse),
                            memory.maps);
    else
        text += fmt::format("; the heap's size is unknown, the {} maps hold {}", memory.maps,
                            mib(memory.mapBytes));
    if (!memory.largest.empty()) {
        const MemorySummary::LargestMap& top = memory.largest.front();
        text += fmt::format("; the most in map {:#x} ({} {}): {} for {} entries in {} slots", top.address,
                            top.type, top.roots.empty() ? "(unreached)" : top.roots.front(),
                            mib(top.memory.bytes()), top.count, top.memory.capacity);
        for (std::size_t i = 1; i < memory.largest.size() && i < 3; ++i) {
            const MemorySummary::LargestMap& next = memory.largest[i];
            text += fmt::format("{} {} {}", i == 1 ? ", then" : ",",
                                next.roots.empty() ? fmt::format("{:#x}", next.address) : next.roots.front(),
                                mib(next.memory.bytes()));
        }
    }
    crash.explanation = std::move(text);
}

}  // namespace gomapcore
