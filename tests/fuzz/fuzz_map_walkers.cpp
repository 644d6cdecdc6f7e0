// Fuzz target: both map walkers over a real core whose bytes they read are mutated.
//
// At start-up the target opens one corpus core (GOMAPCORE_FUZZ_CORE, GOMAPCORE_FUZZ_EXE), finds
// its maps as the analysis does, and walks each once through a recording view of memory. The
// bytes those walks read, in address order, are what an input replaces: input byte i stands
// for recorded byte i (a shorter input leaves the rest as captured). The executable stays
// fixed, so layouts are the real ones and every mutation lands in a header, bucket, overflow
// pointer, directory, table, group or control word the walkers really decode.
//
// GOMAPCORE_FUZZ_WRITE_SEED=FILE writes the unmutated recorded bytes to FILE (the seed input).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "analysis/roots.h"
#include "analysis/session.h"
#include "gomapcore/analysis.h"
#include "gomapcore/error.h"
#include "gomapcore/map_model.h"
#include "gomapcore/memory.h"
#include "maps/walkers.h"

using namespace gomapcore;

namespace {

volatile std::size_t sink;

// At most this many distinct bytes are open to mutation (the first ones read, in address order).
constexpr std::size_t kMaxMutableBytes = 1u << 16;

class RecordingMemory : public Memory {
  public:
    explicit RecordingMemory(const Memory& base) : base_(base) {}
    ReadResult read(std::uint64_t address, std::span<std::byte> out) const override {
        ReadResult result = base_.read(address, out);
        for (std::size_t i = 0; i < result.bytesRead && addresses_.size() < kMaxMutableBytes; ++i)
            addresses_.insert(address + i);
        return result;
    }
    AddressState classify(std::uint64_t address) const override { return base_.classify(address); }
    std::optional<MemoryRegion> regionAt(std::uint64_t address) const override {
        return base_.regionAt(address);
    }
    const std::set<std::uint64_t>& addresses() const { return addresses_; }

  private:
    const Memory& base_;
    mutable std::set<std::uint64_t> addresses_;
};

// Runs of consecutive recorded bytes: [start, start + size) is input[inputOffset, +size).
struct OverlayRun {
    std::uint64_t start = 0;
    std::uint64_t size = 0;
    std::size_t inputOffset = 0;
};

class OverlayMemory : public Memory {
  public:
    OverlayMemory(const Memory& base, const std::vector<OverlayRun>& runs, const std::uint8_t* data,
                  std::size_t size)
        : base_(base), runs_(runs), data_(data), size_(size) {}
    ReadResult read(std::uint64_t address, std::span<std::byte> out) const override {
        ReadResult result = base_.read(address, out);
        if (result.bytesRead == 0) return result;
        std::uint64_t end = address + result.bytesRead;
        // First run that ends after address.
        auto it = std::upper_bound(runs_.begin(), runs_.end(), address,
                                   [](std::uint64_t a, const OverlayRun& r) { return a < r.start + r.size; });
        for (; it != runs_.end() && it->start < end; ++it) {
            std::uint64_t from = std::max(address, it->start);
            std::uint64_t to = std::min(end, it->start + it->size);
            for (std::uint64_t a = from; a < to; ++a) {
                std::size_t index = it->inputOffset + (a - it->start);
                if (index >= size_) return result;
                out[a - address] = static_cast<std::byte>(data_[index]);
            }
        }
        return result;
    }
    AddressState classify(std::uint64_t address) const override { return base_.classify(address); }
    std::optional<MemoryRegion> regionAt(std::uint64_t address) const override {
        return base_.regionAt(address);
    }

  private:
    const Memory& base_;
    const std::vector<OverlayRun>& runs_;
    const std::uint8_t* data_;
    std::size_t size_;
};

struct Target {
    std::unique_ptr<Analysis> analysis;
    std::vector<std::pair<std::uint64_t, const MapTypeLayout*>> maps;
    std::vector<OverlayRun> runs;
    WalkLimits limits;
};

Target* target = nullptr;

void fail(const std::string& why) {
    std::fprintf(stderr, "fuzz_map_walkers: %s\n", why.c_str());
    std::exit(2);
}

void setUp() {
    const char* core = std::getenv("GOMAPCORE_FUZZ_CORE");
    const char* exe = std::getenv("GOMAPCORE_FUZZ_EXE");
    if (core == nullptr || exe == nullptr)
        fail("set GOMAPCORE_FUZZ_CORE and GOMAPCORE_FUZZ_EXE to a corpus core");
    target = new Target;
    try {
        target->analysis = Analysis::open(core, exe);
    } catch (const Error& e) {
        fail(e.what());
    }
    // Small enough that a mutated B or dirLen cannot make one input take seconds; large
    // enough for every map of the sample program.
    target->limits.maxBucketsPerMap = 1u << 14;
    target->limits.maxChainLength = 256;
    target->limits.maxDirectoryEntries = 1u << 12;
    target->limits.collectSlots = true;
    std::set<std::pair<std::uint64_t, const Type*>> seen;
    gomapcore::RunContext search{gomapcore::AnalysisOptions{}};
    for (const MapRoot& root : gomapcore::findRoots(target->analysis->session(), search)) {
        if (root.mapAddress == 0 || root.type == nullptr || !seen.insert({root.mapAddress, root.type}).second)
            continue;
        if (const MapTypeLayout* layout = target->analysis->session().layouts().layoutFor(root.type))
            target->maps.emplace_back(root.mapAddress, layout);
    }
    if (target->maps.empty()) fail("the core has no maps to walk");
    // Each map gets an equal share of the mutable bytes (its first ones in address order), so
    // that a map with a large bucket array does not crowd out the others.
    std::set<std::uint64_t> mutable_;
    const std::size_t share = kMaxMutableBytes / target->maps.size();
    for (const auto& [address, layout] : target->maps) {
        RecordingMemory recorder(target->analysis->memory());
        walkMap(recorder, *layout, address, target->limits);
        std::size_t taken = 0;
        for (std::uint64_t a : recorder.addresses()) {
            if (taken++ == share) break;
            mutable_.insert(a);
        }
    }
    std::size_t offset = 0;
    for (std::uint64_t a : mutable_) {
        if (!target->runs.empty() && target->runs.back().start + target->runs.back().size == a)
            ++target->runs.back().size;
        else
            target->runs.push_back({a, 1, offset});
        ++offset;
    }
    std::fprintf(stderr, "fuzz_map_walkers: %zu maps, %zu mutable bytes in %zu runs\n", target->maps.size(),
                 offset, target->runs.size());
    if (const char* seedPath = std::getenv("GOMAPCORE_FUZZ_WRITE_SEED")) {
        std::vector<char> seed(offset);
        for (const OverlayRun& run : target->runs) {
            std::vector<std::byte> bytes(run.size);
            target->analysis->memory().read(run.start, bytes);
            std::memcpy(seed.data() + run.inputOffset, bytes.data(), run.size);
        }
        std::ofstream(seedPath, std::ios::binary)
            .write(seed.data(), static_cast<std::streamsize>(seed.size()));
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    setUp();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (target == nullptr) setUp();
    OverlayMemory memory(target->analysis->memory(), target->runs, data, size);
    std::size_t n = 0;
    for (const auto& [address, layout] : target->maps) {
        MapResult result = walkMap(memory, *layout, address, target->limits);
        n += result.findings().size() + result.liveEntries + static_cast<std::size_t>(result.complete);
    }
    sink = n;
    return 0;
}
