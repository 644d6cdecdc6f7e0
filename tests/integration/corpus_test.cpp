// Integration tests over the committed corpus of real Go cores: every case is analyzed and
// compared with the ground truth the sample program printed before it crashed.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "analysis/session.h"
#include "corpus.h"
#include "gomapcore/analysis.h"

namespace gomapcore {
namespace {

using testing::CorpusCase;
using testing::parseHex;

TEST(Corpus, Present) {
    auto builds = testing::corpusBuilds();
    std::set<std::string> have(builds.begin(), builds.end());
    // The Go versions and layouts the corpus must cover (issue: skeleton and corpus).
    for (const char* required : {"go1.19", "go1.23", "go1.24-noswiss", "go1.24", "go1.26", "go1.27"})
        EXPECT_TRUE(have.count(required))
            << "corpus lacks build " << required << " in " << testing::corpusDir();
    auto cases = testing::corpusCases();
    std::set<std::string> healthy;
    for (const CorpusCase& c : cases) {
        EXPECT_FALSE(c.caseRecord().is_null()) << c.build << "/" << c.scenario << " has no case record";
        EXPECT_EQ(c.caseRecord().value("scenario", ""), c.scenario);
        if (c.scenario == "healthy") healthy.insert(c.build);
    }
    for (const std::string& build : builds)
        EXPECT_TRUE(healthy.count(build)) << build << " has no healthy case";
}

class CorpusCaseTest : public ::testing::TestWithParam<CorpusCase> {
  protected:
    void SetUp() override {
        const testing::AnalyzedCase& analyzed = testing::analyzedCase(GetParam());
        analysis_ = analyzed.analysis.get();
        report_ = analyzed.report;
    }
    const MapResult* mapByRoot(const std::string& root) const {
        for (const MapResult& map : report_.maps)
            for (const std::string& name : map.roots)
                if (name == root) return &map;
        return nullptr;
    }
    const MapResult* mapByAddress(std::uint64_t address) const {
        for (const MapResult& map : report_.maps)
            if (map.address == address) return &map;
        return nullptr;
    }
    // Whether DWARF declares the variable a stack root "goroutine N F v" names, in F's frame.
    bool dwarfNamesStackVariable(const std::string& root) {
        std::istringstream in(root);
        std::string word, function, variable;
        std::int64_t id = 0;
        in >> word >> id >> function >> variable;
        const GoroutineTable* table = analysis_->goroutines();
        const Goroutine* g = table != nullptr ? table->byId(id) : nullptr;
        if (g == nullptr) return true;
        for (const StackFrame& frame : g->frames)
            if (frame.function != nullptr && frame.function->name == function)
                for (const FrameVariable& v : analysis_->session().frameVariables().variables(frame))
                    if (v.name == variable) return true;
        return false;
    }
    // The compiler's pointer bitmap of the stack object at address in the frame of function in
    // goroutine id (FUNCDATA_StackObjects), trailing non-pointer words dropped; nullopt when no
    // stack object of that frame starts there.
    std::optional<std::vector<bool>> stackObjectPointerWords(std::int64_t id, const std::string& function,
                                                             std::uint64_t address) {
        const GoroutineTable* table = analysis_->goroutines();
        const GoSymbols* symbols = analysis_->session().symbols();
        const Goroutine* g = table != nullptr ? table->byId(id) : nullptr;
        if (g == nullptr || symbols == nullptr) return std::nullopt;
        for (const StackFrame& frame : g->frames) {
            if (frame.function == nullptr || frame.function->name != function) continue;
            for (const StackObject& object : symbols->stackObjects(*frame.function)) {
                if (frame.addressOf(object) != address) continue;
                auto words = symbols->pointerWords(object);
                if (words)
                    while (!words->empty() && !words->back())
                        words->pop_back();
                return words;
            }
        }
        return std::nullopt;
    }
    std::set<std::uint64_t> damagedMaps() const {
        std::set<std::uint64_t> maps;
        for (const auto& d : GetParam().records("damage"))
            maps.insert(parseHex(d["map"]));
        return maps;
    }
    bool concurrent() const { return GetParam().scenario.rfind("concurrent", 0) == 0; }

    Analysis* analysis_ = nullptr;  // shared by the case's tests (testing::analyzedCase)
    Report report_;
};

TEST_P(CorpusCaseTest, TargetMatchesTruth) {
    auto record = GetParam().caseRecord();
    EXPECT_EQ(report_.target.goVersion, record.value("go_version", ""));
    EXPECT_EQ(gomapcore::toString(report_.target.mapLayout), record.value("layout", ""));
    EXPECT_EQ(report_.target.pid, record.value("pid", -1));
    EXPECT_EQ(report_.target.arch, testing::buildArchitecture(GetParam().build));
    EXPECT_FALSE(report_.input.coreTruncated);
}

// Every map the ground truth lists (globals, maps inside heap structures, goroutine locals)
// is found at its address with its type, count and root name.
TEST_P(CorpusCaseTest, MapsMatchTruth) {
    std::set<std::uint64_t> raced;
    for (const auto& crash : GetParam().records("crash"))
        if (crash.contains("map")) raced.insert(parseHex(crash["map"]));
    int listed = 0;
    int checked = 0;
    for (const auto& truth : GetParam().records("map")) {
        ++listed;
        std::string root = truth["root"];
        if (truth.value("nil", false)) {
            bool reported = false;
            for (const NilMap& nil : report_.nilMaps)
                reported |= nil.root == root;
            EXPECT_TRUE(reported) << root << " should be reported as a nil map";
            ++checked;
            continue;
        }
        const MapResult* map = mapByRoot(root);
        if (map == nullptr && truth.value("where", "") == "stack" && !dwarfNamesStackVariable(root)) {
            // Since Go 1.24 the compiler writes no DWARF variable for a map whose header it
            // placed in the frame (checked just above), so no tool can name it; it must still
            // be found, from the frame's stack objects, under its goroutine and function.
            std::string prefix = root.substr(0, root.rfind(' ')) + " stack object at ";
            map = mapByAddress(parseHex(truth["addr"]));
            ASSERT_NE(map, nullptr) << "unnamed stack map " << root << " at " << truth["addr"]
                                    << " not found";
            EXPECT_EQ(map->confidence, gomapcore::Confidence::Heuristic);
            ASSERT_FALSE(map->roots.empty());
            EXPECT_EQ(map->roots.front().rfind(prefix, 0), 0u) << map->roots.front();
            EXPECT_EQ(map->count, truth.value("count", -1)) << root;
            EXPECT_EQ(map->liveEntries, truth.value("count", 0ull)) << root;
            std::vector<std::string> types = map->typeCandidates;
            if (types.empty()) types.push_back(map->typeName());
            EXPECT_NE(std::find(types.begin(), types.end(), truth.value("type", "")), types.end()) << root;
            // A map with one group or bucket whose storage is a stack object of the same frame:
            // the compiler's bitmap for it equals the one derived from DWARF for the true type,
            // and every candidate left shares it.
            std::uint64_t storage = 0, shape = 1;
            for (const auto& [name, value] : map->header) {
                if (name == "dirPtr" || name == "buckets") storage = value;
                if (name == "dirLen" || name == "B") shape = value;
            }
            std::istringstream words(root);
            std::string word, function;
            std::int64_t id = 0;
            words >> word >> id >> function;
            const std::uint64_t distance =
                storage > map->address ? storage - map->address : map->address - storage;
            if (shape == 0 && storage != 0 && distance < 0x10000) {
                // Storage next to the header: in the same frame, so a stack object of it.
                auto compiled = stackObjectPointerWords(id, function, storage);
                ASSERT_TRUE(compiled.has_value()) << root << ": no stack object holds its storage";
                const Type* truthType = analysis_->session().types().byName(truth.value("type", ""));
                ASSERT_NE(truthType, nullptr);
                EXPECT_EQ(analysis_->session().layouts().layoutFor(truthType)->storagePointerWords(),
                          compiled)
                    << root;
                for (const std::string& candidate : types)
                    EXPECT_EQ(analysis_->session()
                                  .layouts()
                                  .layoutFor(analysis_->session().types().byName(candidate))
                                  ->storagePointerWords(),
                              compiled)
                        << root << " candidate " << candidate;
            }
            ++checked;
            continue;
        }
        if (map == nullptr) {
            ADD_FAILURE() << truth.value("where", "") << " map " << root << " at " << truth["addr"]
                          << " not found";
            continue;
        }
        EXPECT_EQ(map->address, parseHex(truth["addr"])) << root;
        EXPECT_EQ(map->typeName(), truth.value("type", "")) << root;
        bool damaged = damagedMaps().count(map->address) != 0;
        // A map other goroutines were writing when the process froze may be caught between
        // two updates: its count is only compared on the other maps.
        if (!raced.count(map->address) && !damaged) {
            EXPECT_EQ(map->count, truth.value("count", -1)) << root;
            EXPECT_EQ(map->liveEntries, truth.value("count", 0ull)) << root;
            EXPECT_TRUE(map->complete) << root;
        }
        if (map->layout != nullptr && map->layout->kind == MapLayoutKind::Classic && !damaged) {
            bool growing = false;
            for (const auto& [name, value] : map->header)
                if (name == "oldbuckets") growing = value != 0;
            if (!raced.count(map->address)) {
                EXPECT_EQ(growing, truth.value("growing", false)) << root;
            }
        }
        ++checked;
    }
    EXPECT_EQ(checked, listed);
}

TEST_P(CorpusCaseTest, DamageFoundExactly) {
    auto findings = report_.findings();
    for (const auto& damage : GetParam().records("damage")) {
        std::string rule = damage["rule"];
        std::uint64_t map = parseHex(damage["map"]);
        std::uint64_t address = parseHex(damage["address"]);
        bool found = false;
        for (const Finding& f : findings)
            found |= f.rule == rule && f.map == map && f.address == address;
        EXPECT_TRUE(found) << "expected " << rule << " on map " << damage["map"] << " at "
                           << damage["address"] << " (" << damage.value("field", "") << ")";
    }
}

TEST_P(CorpusCaseTest, NoFalseAlarms) {
    std::set<std::uint64_t> allowed = damagedMaps();
    if (concurrent())
        for (const auto& crash : GetParam().records("crash"))
            if (crash.contains("map")) allowed.insert(parseHex(crash["map"]));
    for (const Finding& f : report_.findings()) {
        if (f.severity != Severity::Error) continue;
        EXPECT_TRUE(allowed.count(f.map))
            << "false alarm: " << f.rule << " on map 0x" << std::hex << f.map << ": " << f.message;
    }
}

INSTANTIATE_TEST_SUITE_P(Corpus, CorpusCaseTest, ::testing::ValuesIn(testing::corpusCases()),
                         testing::caseTestName);

}  // namespace
}  // namespace gomapcore
