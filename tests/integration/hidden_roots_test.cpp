// Maps that only closures, method values, time.AfterFunc callbacks, goroutines' start closures
// and untyped pointers hold (issue #19), over the corpus's hidden-roots cases
// (samples/mapcrash/hidden.go); and the closure layouts each corpus build's DWARF describes.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "analysis/session.h"
#include "corpus.h"
#include "gomapcore/analysis.h"

namespace gomapcore {
namespace {

using testing::CorpusCase;
using testing::parseHex;

std::vector<CorpusCase> hiddenRootsCases() {
    std::vector<CorpusCase> cases;
    for (CorpusCase& c : testing::corpusCases())
        if (c.scenario == "hidden-roots") cases.push_back(std::move(c));
    return cases;
}

const MapResult* mapAt(const Report& report, std::uint64_t address) {
    for (const MapResult& map : report.maps)
        if (map.address == address) return &map;
    return nullptr;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

class HiddenRootsTest : public ::testing::TestWithParam<CorpusCase> {
  protected:
    void SetUp() override { analysis_ = Analysis::open(GetParam().core, GetParam().executable); }
    AnalysisOptions listingAll() const {
        AnalysisOptions options;
        options.listing.all = true;
        return options;
    }
    std::unique_ptr<Analysis> analysis_;
};

// Each map is found at its address with its count, named by the path through its holder, and
// says how it is held: where the path starts and which untyped hops it takes.
TEST_P(HiddenRootsTest, EachMapIsNamedByItsHolder) {
    Report report = analysis_->run(listingAll());
    int checked = 0;
    for (const auto& truth : GetParam().records("map")) {
        const std::string root = truth["root"];
        SCOPED_TRACE(root);
        const MapResult* map = mapAt(report, parseHex(truth["addr"]));
        ASSERT_NE(map, nullptr) << "not found at " << truth["addr"];
        EXPECT_EQ(map->count, truth.value("count", -1));
        EXPECT_EQ(map->liveEntries, truth.value("count", 0ull));
        EXPECT_EQ(map->typeName(), truth.value("type", ""));
        auto at = std::find(map->roots.begin(), map->roots.end(), root);
        ASSERT_NE(at, map->roots.end()) << "roots: " << ::testing::PrintToString(map->roots);
        const RootDescription kind = map->rootKind(static_cast<std::size_t>(at - map->roots.begin()));
        // Typed by a malloc header ("(heap object T)"), or recognised by heap bits and a
        // validation walk ("(heap object: a map)").
        const bool heapTyped = root.find(" (heap object ") != std::string::npos &&
                               root.find(" (heap object: ") == std::string::npos;
        const bool recognised = root.find(" (heap object: ") != std::string::npos;
        const bool untyped = heapTyped || recognised;
        const bool methodValue = root.find("-fm)") != std::string::npos;
        const bool closure = !methodValue && root.find(" (closure ") != std::string::npos;
        std::string origin = "global";
        if (root.rfind("timer ", 0) == 0) origin = "timer";
        if (root.rfind("goroutine ", 0) == 0 && root.find(" start ") != std::string::npos)
            origin = "goroutine-start";
        EXPECT_EQ(kind.origin, origin);
        EXPECT_EQ(contains(kind.through, "closure"), closure);
        EXPECT_EQ(contains(kind.through, "method-value"), methodValue);
        EXPECT_EQ(contains(kind.through, "untyped-pointer"), untyped);
        EXPECT_EQ(map->confidence, recognised  ? Confidence::Heuristic
                                   : heapTyped ? Confidence::HeapTyped
                                               : Confidence::Exact);
        ++checked;
    }
    EXPECT_GE(checked, 10);
}

// With closures and untyped pointers not followed, no typed root reaches these maps (but the
// atomic.Pointer's, whose v is typed by its declared T): the unreached-map scan must still find
// every header, at its address with its count, of its type or of unknown type with it among the
// candidates. Go 1.22+ places their buckets or groups (over 512 bytes) behind a malloc header.
TEST_P(HiddenRootsTest, TheUnreachedScanFindsThemWithFollowingOff) {
    AnalysisOptions options = listingAll();
    options.reach.followClosures = false;
    options.reach.followUntypedPointers = false;
    Report report = analysis_->run(options);
    int unreached = 0;
    for (const auto& truth : GetParam().records("map")) {
        const std::string root = truth["root"];
        SCOPED_TRACE(root);
        const MapResult* map = mapAt(report, parseHex(truth["addr"]));
        ASSERT_NE(map, nullptr) << "not found at " << truth["addr"]
                                << "; notes: " << ::testing::PrintToString(report.notes);
        EXPECT_EQ(map->count, truth.value("count", -1));
        EXPECT_EQ(map->liveEntries, truth.value("count", 0ull));
        if (root == "main.gAtomic.v") {
            EXPECT_EQ(map->roots, std::vector<std::string>{root});
            continue;
        }
        EXPECT_TRUE(map->roots.empty()) << ::testing::PrintToString(map->roots);
        EXPECT_EQ(map->confidence, Confidence::Heuristic);
        std::vector<std::string> types = map->typeCandidates;
        if (types.empty()) types.push_back(map->typeName());
        EXPECT_TRUE(contains(types, truth.value("type", ""))) << ::testing::PrintToString(types);
        ++unreached;
    }
    EXPECT_GE(unreached, 9);
}

// The closure held by a goroutine that never ran: its g.sched.ctxt.
TEST_P(HiddenRootsTest, TheRunnableGoroutineHoldsItsStartClosure) {
    const GoroutineTable* table = analysis_->goroutines();
    ASSERT_NE(table, nullptr);
    int found = 0;
    for (const auto& record : GetParam().records("goroutine")) {
        if (record.value("role", "") != "start-closure") continue;
        const Goroutine* g = table->byId(record.value("goid", std::int64_t{-1}));
        ASSERT_NE(g, nullptr);
        EXPECT_EQ(g->schedPc, g->startPc) << "it never ran";
        ASSERT_NE(g->contextSlot, 0u);
        Reader reader(analysis_->session().memory());
        auto funcval = reader.u64(g->contextSlot);
        ASSERT_TRUE(funcval.has_value());
        auto code = reader.u64(*funcval);
        ASSERT_TRUE(code.has_value());
        EXPECT_EQ(*code, g->startPc) << "the closure runs the go statement's function";
        const ClosureLayout* closure = analysis_->session().closureAt(*code);
        ASSERT_NE(closure, nullptr);
        EXPECT_EQ(closure->function, record.value("function", ""));
        ++found;
    }
    EXPECT_EQ(found, 1);
}

INSTANTIATE_TEST_SUITE_P(Corpus, HiddenRootsTest, ::testing::ValuesIn(hiddenRootsCases()),
                         testing::caseTestName);

// --- Closure layouts from each build's DWARF ---------------------------------------------------

class ClosureLayoutTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        const std::string dir = testing::corpusDir() + "/" + GetParam() + "/";
        analysis_ = Analysis::open(dir + "healthy.core", dir + "mapcrash");
    }
    std::optional<ClosureLayout> layoutOf(const std::string& name) {
        const GoFunction* function = analysis_->session().symbols()->functionNamed(name);
        if (function == nullptr) ADD_FAILURE() << name << " is not in the pclntab";
        if (function == nullptr) return std::nullopt;
        return analysis_->session().frameVariables().closureLayout(*function);
    }
    std::unique_ptr<Analysis> analysis_;
};

// samples/mapcrash/concurrent.go: each writer closure captures the starter st, the map m and its
// own w (`w := w`), all by value. Go 1.23 on says where (DW_AT_go_closure_offset); 1.19 does not,
// and then no layout is made up.
TEST_P(ClosureLayoutTest, TheConcurrentWritersCaptures) {
    auto layout = layoutOf("main.scenarioConcurrentWrites.func1");
    const bool offsets = analysis_->session().frameVariables().hasClosureOffsets();
    EXPECT_EQ(offsets, testing::goBuild(GetParam()) != "go1.19");
    if (!offsets) {
        EXPECT_FALSE(layout.has_value());
        return;
    }
    ASSERT_TRUE(layout.has_value());
    EXPECT_FALSE(layout->methodValue);
    std::vector<std::string> described;
    for (const ClosureCapture& capture : layout->captures)
        described.push_back(capture.name + "@" + std::to_string(capture.offset) + " " + capture.type->name +
                            (capture.byReference ? " &" : ""));
    EXPECT_EQ(described, (std::vector<std::string>{"st@8 *main.starter", "m@16 map[int]int", "w@24 int"}));
}

// A method value's wrapper: struct { F uintptr; R *counter } (typecheck.MethodValueType), the
// receiver named as the method names it. Only the builds whose mapcrash has hidden-roots.
TEST_P(ClosureLayoutTest, AMethodValueHoldsItsReceiver) {
    if (analysis_->session().symbols()->functionNamed("main.(*counter).Count-fm") == nullptr)
        GTEST_SKIP() << GetParam() << "'s mapcrash predates the hidden-roots scenario";
    auto layout = layoutOf("main.(*counter).Count-fm");
    ASSERT_TRUE(layout.has_value());
    EXPECT_TRUE(layout->methodValue);
    ASSERT_EQ(layout->captures.size(), 1u);
    EXPECT_EQ(layout->captures[0].name, "c");
    EXPECT_EQ(layout->captures[0].offset, 8u);
    EXPECT_EQ(layout->captures[0].type->name, "*main.counter");
}

std::string buildName(const ::testing::TestParamInfo<std::string>& build) {
    return testing::testName(build.param);
}

INSTANTIATE_TEST_SUITE_P(Corpus, ClosureLayoutTest, ::testing::ValuesIn(testing::corpusBuilds()), buildName);

}  // namespace
}  // namespace gomapcore
