// The engine's front-end API over real cores: a second Target implementation (memory, threads
// and notes recorded from a core into plain buffers, the core file closed) gives the same
// report; each run starts from nothing an earlier run found; and Analysis::inspect reports a
// map exactly as run() does, heuristic type included.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "analysis/map_listing.h"
#include "analysis/run_context.h"
#include "corpus.h"
#include "gomapcore/analysis.h"
#include "gomapcore/error.h"
#include "gomapcore/report.h"

namespace gomapcore {
namespace {

// A Target over memory held in ordinary buffers: every region of the source target copied with
// its captured bytes, and where they stop (not captured) recorded too.
class RecordedTarget : public Target {
  public:
    class RecordedMemory : public Memory {
      public:
        struct Region {
            MemoryRegion region;
            std::vector<std::byte> captured;  // the first captured.size() bytes of the region
        };
        ReadResult read(std::uint64_t address, std::span<std::byte> out) const override {
            ReadResult result;
            while (result.bytesRead < out.size()) {
                std::uint64_t at = address + result.bytesRead;
                const Region* r = find(at);
                if (r == nullptr) {
                    result.state = AddressState::Unmapped;
                    return result;
                }
                std::uint64_t within = at - r->region.start;
                if (within >= r->captured.size()) {
                    result.state = AddressState::NotCaptured;
                    return result;
                }
                std::size_t chunk =
                    std::min<std::size_t>(r->captured.size() - within, out.size() - result.bytesRead);
                std::memcpy(out.data() + result.bytesRead, r->captured.data() + within, chunk);
                result.bytesRead += chunk;
            }
            return result;
        }
        AddressState classify(std::uint64_t address) const override {
            std::byte probe[1];
            return read(address, probe).state;
        }
        std::optional<MemoryRegion> regionAt(std::uint64_t address) const override {
            const Region* r = find(address);
            if (r == nullptr) return std::nullopt;
            return r->region;
        }
        std::map<std::uint64_t, Region> regions;  // by start

      private:
        const Region* find(std::uint64_t address) const {
            auto it = regions.upper_bound(address);
            if (it == regions.begin()) return nullptr;
            --it;
            return address < it->second.region.end ? &it->second : nullptr;
        }
    };

    // Copies every region of source with the bytes it captured.
    static std::unique_ptr<RecordedTarget> record(const Target& source) {
        auto target = std::make_unique<RecordedTarget>();
        for (const MemoryRegion& region : source.regions()) {
            RecordedMemory::Region copy{region, std::vector<std::byte>(region.end - region.start)};
            ReadResult read = source.memory().read(region.start, copy.captured);
            copy.captured.resize(read.bytesRead);
            target->memory_.regions[region.start] = std::move(copy);
        }
        target->threads_ = source.threads();
        target->signal_ = source.signalInfo();
        target->process_ = source.processInfo();
        target->auxv_ = source.auxv();
        target->mappings_ = source.fileMappings();
        target->description_ = source.description();
        target->description_.kind = "recorded";
        return target;
    }

    // A region with nothing captured in it.
    void addRegion(const MemoryRegion& region) {
        memory_.regions[region.start] = RecordedMemory::Region{region, {}};
    }

    const Memory& memory() const override { return memory_; }
    const std::vector<ThreadState>& threads() const override { return threads_; }
    std::optional<SignalInfo> signalInfo() const override { return signal_; }
    std::optional<ProcessInfo> processInfo() const override { return process_; }
    const std::map<std::uint64_t, std::uint64_t>& auxv() const override { return auxv_; }
    const std::vector<FileMapping>& fileMappings() const override { return mappings_; }
    std::vector<MemoryRegion> regions() const override {
        std::vector<MemoryRegion> out;
        for (const auto& [start, r] : memory_.regions)
            out.push_back(r.region);
        return out;
    }
    TargetDescription description() const override { return description_; }

  private:
    RecordedMemory memory_;
    std::vector<ThreadState> threads_;
    std::optional<SignalInfo> signal_;
    std::optional<ProcessInfo> process_;
    std::map<std::uint64_t, std::uint64_t> auxv_;
    std::vector<FileMapping> mappings_;
    TargetDescription description_;
};

std::string withoutInput(std::string json) {
    // The input paths are the only thing that may differ: the recorded target has no file.
    auto at = json.find("\"input\":");
    if (at == std::string::npos) return json;
    auto end = json.find('}', at);
    return json.erase(at, end - at + 1);
}

TEST(AnalysisApiTest, ASecondTargetOverRecordedMemoryGivesTheSameReport) {
    for (const char* build : {"go1.23", "go1.26"}) {
        SCOPED_TRACE(build);
        std::string dir = testing::corpusDir() + "/" + build + "/";
        auto fromCore = Analysis::open(dir + "concurrent-writes.core", dir + "mapcrash");
        Report expected = fromCore->run({});

        std::unique_ptr<Target> core = Target::openCore(dir + "concurrent-writes.core");
        std::unique_ptr<Target> recorded = RecordedTarget::record(*core);
        core.reset();  // nothing below may still read the core file

        auto fromRecording = Analysis::create(std::move(recorded), dir + "mapcrash");
        EXPECT_EQ(fromRecording->target().description().kind, "recorded");
        Report actual = fromRecording->run({});
        EXPECT_EQ(withoutInput(renderJson(actual)), withoutInput(renderJson(expected)));
        ASSERT_TRUE(actual.crash.has_value());
        EXPECT_EQ(actual.crash->kind, "concurrent-map-writes");
        EXPECT_GT(actual.maps.size(), 5u);
    }
}

// The default bucket bound grows with what the target maps (a map of 60 million entries in an
// 8 GiB core has 8.6 million groups, past the fixed default); a bound the caller chose stays.
TEST(AnalysisApiTest, TheDefaultBucketBoundScalesWithTheTargetsMappedMemory) {
    std::string dir = testing::corpusDir() + "/go1.26/";
    std::unique_ptr<Target> core = Target::openCore(dir + "healthy.core");
    std::unique_ptr<RecordedTarget> target = RecordedTarget::record(*core);
    WalkLimits small;
    scaleBucketBound(*target, small);
    EXPECT_EQ(small.maxBucketsPerMap, kDefaultMaxBucketsPerMap);  // a small core keeps the default
    // 1 GiB more readable, and 1 TiB reserved but unreadable, which holds no bucket.
    const std::uint64_t base = std::uint64_t{1} << 44;
    target->addRegion(MemoryRegion{base, base + (std::uint64_t{1} << 30), true, true, false, ""});
    target->addRegion(MemoryRegion{base + (std::uint64_t{1} << 31), base + (std::uint64_t{1} << 40), false,
                                   false, false, ""});
    std::uint64_t readable = 0;
    for (const MemoryRegion& region : target->regions())
        if (region.readable) readable += region.end - region.start;
    WalkLimits scaled;
    scaleBucketBound(*target, scaled);
    EXPECT_EQ(scaled.maxBucketsPerMap, readable / kSmallestBucketBytes);
    EXPECT_GT(scaled.maxBucketsPerMap, kDefaultMaxBucketsPerMap);
    WalkLimits chosen;
    chosen.maxBucketsPerMap = 1000;
    scaleBucketBound(*target, chosen);
    EXPECT_EQ(chosen.maxBucketsPerMap, 1000u);
}

TEST(AnalysisApiTest, ARunDoesNotInheritTheLimitsAnEarlierRunHit) {
    std::string dir = testing::corpusDir() + "/go1.26/";
    auto analysis = Analysis::open(dir + "healthy.core", dir + "mapcrash");
    AnalysisOptions tight;
    tight.reach.maxObjects = 1;
    Report first = analysis->run(tight);
    ASSERT_NE(std::find(first.limitsHit.begin(), first.limitsHit.end(), "max-objects"),
              first.limitsHit.end());
    Report second = analysis->run({});
    EXPECT_TRUE(second.limitsHit.empty()) << "first limit carried over: " << second.limitsHit.front();
    for (const std::string& note : second.notes)
        EXPECT_EQ(note.find("stopped early"), std::string::npos) << note;
    EXPECT_GT(second.maps.size(), first.maps.size());
}

TEST(AnalysisApiTest, InspectReportsAHeuristicStackMapWithItsTypeCandidates) {
    std::string dir = testing::corpusDir() + "/go1.26/";
    auto analysis = Analysis::open(dir + "healthy.core", dir + "mapcrash");
    Report report = analysis->run({});
    const MapResult* heuristic = nullptr;
    for (const MapResult& map : report.maps)
        if (map.confidence == Confidence::Heuristic && !map.roots.empty() && map.typeCandidates.size() > 1)
            heuristic = &map;
    ASSERT_NE(heuristic, nullptr) << "the go1.26 healthy core has stack maps of unknown type";
    for (const std::string& which :
         std::vector<std::string>{heuristic->roots.front(), fmt::format("{:#x}", heuristic->address)}) {
        SCOPED_TRACE(which);
        MapInspection inspection = analysis->inspect(which, {});
        ASSERT_TRUE(inspection.map.has_value());
        EXPECT_EQ(inspection.map->address, heuristic->address);
        EXPECT_EQ(inspection.map->confidence, Confidence::Heuristic);
        EXPECT_EQ(inspection.map->typeCandidates, heuristic->typeCandidates);
        EXPECT_EQ(inspection.map->roots, heuristic->roots);
        EXPECT_EQ(inspection.map->liveEntries, heuristic->liveEntries);
        std::size_t slots = 0;
        std::vector<const MapNode*> stack{&inspection.map->root};
        while (!stack.empty()) {
            const MapNode* node = stack.back();
            stack.pop_back();
            slots += node->slots.size();
            for (const MapNode& child : node->children)
                stack.push_back(&child);
        }
        EXPECT_EQ(slots, inspection.map->liveEntries) << "inspect keeps every slot";
    }
}

TEST(AnalysisApiTest, InspectFindsUnreachedMapsAndRefusesUnknownNames) {
    std::string dir = testing::corpusDir() + "/go1.23/";
    auto analysis = Analysis::open(dir + "healthy.core", dir + "mapcrash");
    Report report = analysis->run({});
    const MapResult* unreached = nullptr;
    for (const MapResult& map : report.maps)
        if (map.roots.empty()) unreached = &map;
    ASSERT_NE(unreached, nullptr);
    MapInspection inspection = analysis->inspect(fmt::format("{:#x}", unreached->address), {});
    ASSERT_TRUE(inspection.map.has_value());
    EXPECT_EQ(inspection.map->confidence, Confidence::Heuristic);
    EXPECT_EQ(inspection.map->typeCandidates, unreached->typeCandidates);
    EXPECT_THROW(analysis->inspect("main.noSuchMap", {}), Error);
    EXPECT_THROW(analysis->inspect("0x10", {}), Error);
}

TEST(AnalysisApiTest, ProgressCrashAndMapEventsAndCancellation) {
    std::string dir = testing::corpusDir() + "/go1.26/";
    auto analysis = Analysis::open(dir + "concurrent-writes.core", dir + "mapcrash");
    AnalysisOptions options;
    std::vector<std::string> phases;
    std::vector<ProgressEvent> walkEvents;
    options.progress = [&](const ProgressEvent& e) {
        if (phases.empty() || phases.back() != e.phase) phases.push_back(e.phase);
        if (e.phase == phases::kWalk) walkEvents.push_back(e);
    };
    int crashes = 0;
    std::optional<CrashReport> early;
    std::optional<MapResult> earlyMap;
    std::size_t phasesAtCrash = 0;
    options.onCrash = [&](const CrashReport& crash, const MapResult* map) {
        ++crashes;
        early = crash;
        if (map != nullptr) earlyMap = *map;
        phasesAtCrash = phases.size();
    };
    std::size_t mapsSeen = 0;
    options.onMap = [&](const MapResult&) { ++mapsSeen; };
    Report report = analysis->run(options);
    EXPECT_EQ(phases, (std::vector<std::string>{phases::kGoroutines, phases::kCrashFirst, phases::kSearch,
                                                phases::kWalk, phases::kCrash, phases::kUnreached}));
    ASSERT_FALSE(walkEvents.empty());
    EXPECT_EQ(walkEvents.back().done, walkEvents.back().total);
    // The crash came first: before the search, already explained, with its map walked.
    EXPECT_EQ(crashes, 1);
    EXPECT_EQ(phasesAtCrash, 2u);
    ASSERT_TRUE(early.has_value());
    EXPECT_EQ(early->kind, report.crash->kind);
    EXPECT_EQ(early->map, report.crash->map);
    EXPECT_EQ(early->goroutine, report.crash->goroutine);
    EXPECT_EQ(early->explanation, report.crash->explanation);
    ASSERT_TRUE(earlyMap.has_value());
    EXPECT_EQ(earlyMap->address, report.crash->map.value_or(0));
    const MapResult* reported = nullptr;
    for (const MapResult& map : report.maps)
        if (map.address == earlyMap->address) reported = &map;
    ASSERT_NE(reported, nullptr);
    EXPECT_EQ(earlyMap->count, reported->count);
    EXPECT_EQ(earlyMap->liveEntries, reported->liveEntries);
    EXPECT_EQ(earlyMap->status(), reported->status());
    EXPECT_EQ(earlyMap->memory.bytes(), reported->memory.bytes());
    EXPECT_EQ(mapsSeen, report.mapCount());

    auto cancel = std::make_shared<CancelToken>();
    cancel->cancel();
    AnalysisOptions cancelled;
    cancelled.cancel = cancel;
    try {
        analysis->run(cancelled);
        FAIL() << "a cancelled run returned a report";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Error::Code::Cancelled);
    }
}

TEST(AnalysisApiTest, ListingGroupsMapsBeyondTheDepthAndKeepsTheRest) {
    EXPECT_EQ(rootPattern("main.users").pattern, "main.users");
    EXPECT_EQ(rootPattern("main.many[12]").pattern, "main.many[*]");
    RootPattern keyed = rootPattern("main.srv.sessions[\"a]\\\"[b\"].byID[3]");
    EXPECT_EQ(keyed.pattern, "main.srv.sessions[*].byID[*]");
    EXPECT_EQ(keyed.indexDepth, 2u);

    std::string dir = testing::corpusDir() + "/go1.23/";
    auto analysis = Analysis::open(dir + "healthy.core", dir + "mapcrash");
    AnalysisOptions all;
    all.listing.all = true;
    Report everything = analysis->run(all);
    AnalysisOptions few;
    few.listing.largest = 1;
    Report grouped = analysis->run(few);
    EXPECT_EQ(grouped.mapCount(), everything.mapCount());
    EXPECT_LT(grouped.maps.size(), everything.maps.size());
    EXPECT_FALSE(grouped.mapGroups.empty());
    for (const MapResult& map : everything.maps) {
        bool listed = std::any_of(grouped.maps.begin(), grouped.maps.end(),
                                  [&](const MapResult& m) { return m.address == map.address; });
        bool shallow = std::any_of(map.roots.begin(), map.roots.end(),
                                   [](const std::string& r) { return rootPattern(r).indexDepth == 0; });
        if (!map.findings().empty() || shallow) {
            EXPECT_TRUE(listed) << map.address;
        }
    }
}

}  // namespace
}  // namespace gomapcore
