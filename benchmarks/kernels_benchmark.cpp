// Google Benchmark for the engine's inner kernels, over real cores of the sample corpus (unpacked
// into the build tree): segment lookup and reads, a classic bucket walk, a swiss group scan, a
// span lookup in the heap model, and the search for maps. Not a test: nothing here asserts a
// time (docs/performance.md). Run: build/default/benchmarks/kernels_benchmark [--benchmark_filter=…]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "analysis/roots.h"
#include "analysis/run_context.h"
#include "analysis/session.h"
#include "gomapcore/analysis.h"
#include "maps/walkers.h"

namespace {

using namespace gomapcore;

std::string corpusCase(const std::string& build, const std::string& file) {
    return std::string(GOMAPCORE_CORPUS_DIR) + "/" + build + "/" + file;
}

// One analysis per corpus build, opened once for all benchmarks.
Analysis& opened(const std::string& build) {
    static std::map<std::string, std::unique_ptr<Analysis>> analyses;
    auto& slot = analyses[build];
    if (!slot) slot = Analysis::open(corpusCase(build, "healthy.core"), corpusCase(build, "mapcrash"));
    return *slot;
}

// The walk of one global map of the healthy sample, with everything it needs looked up once.
struct HeldMap {
    const MapTypeLayout* layout = nullptr;
    std::uint64_t address = 0;
};

HeldMap globalMap(const std::string& build, const std::string& name) {
    Analysis& analysis = opened(build);
    Session& session = analysis.session();
    RunContext run{AnalysisOptions{}};
    for (const MapRoot& root : findRoots(session, run))
        if (root.name == name && root.mapAddress != 0)
            return HeldMap{session.layouts().layoutFor(root.type), root.mapAddress};
    return {};
}

void SegmentLookupAndRead(benchmark::State& state) {
    Analysis& analysis = opened("go1.23");
    std::vector<MemoryRegion> regions = analysis.target().regions();
    std::mt19937_64 random(1);
    std::vector<std::uint64_t> addresses;
    for (int i = 0; i < 4096; ++i) {
        const MemoryRegion& r = regions[random() % regions.size()];
        addresses.push_back(r.start + (random() % (r.end - r.start)) / 8 * 8);
    }
    Reader reader(analysis.memory());
    std::size_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(reader.u64(addresses[i++ % addresses.size()]));
}
BENCHMARK(SegmentLookupAndRead);

void WalkMap(benchmark::State& state, const std::string& build, const std::string& name) {
    HeldMap map = globalMap(build, name);
    if (map.layout == nullptr) {
        state.SkipWithError(("no global " + name + " in " + build).c_str());
        return;
    }
    const Memory& memory = opened(build).memory();
    WalkLimits limits;
    for (auto _ : state) {
        MapResult result = walkMap(memory, *map.layout, map.address, limits);
        benchmark::DoNotOptimize(result.liveEntries);
    }
}
BENCHMARK_CAPTURE(WalkMap, ClassicBucketWalk, std::string("go1.23"), std::string("main.users"));
BENCHMARK_CAPTURE(WalkMap, SwissGroupScan, std::string("go1.26"), std::string("main.users"));
BENCHMARK_CAPTURE(WalkMap, SwissTablesWalk, std::string("go1.26"), std::string("main.large"));

void SpanLookup(benchmark::State& state) {
    Session& session = opened("go1.26").session();
    const HeapModel* heap = session.heap();
    if (heap == nullptr || heap->spans().empty()) {
        state.SkipWithError("no heap model");
        return;
    }
    std::mt19937_64 random(2);
    std::vector<std::uint64_t> addresses;
    for (int i = 0; i < 4096; ++i) {
        const SpanInfo& span = heap->spans()[random() % heap->spans().size()];
        addresses.push_back(span.start + random() % (span.end - span.start));
    }
    std::size_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(heap->classify(addresses[i++ % addresses.size()]).kind);
}
BENCHMARK(SpanLookup);

void SearchForMaps(benchmark::State& state) {
    Session& session = opened("go1.23").session();
    std::size_t roots = 0;
    for (auto _ : state) {
        RunContext run{AnalysisOptions{}};
        roots = findRoots(session, run).size();
        benchmark::DoNotOptimize(roots);
    }
    state.counters["roots"] = static_cast<double>(roots);
}
BENCHMARK(SearchForMaps)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
