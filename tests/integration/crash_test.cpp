// Crash attribution against the ground truth each sample printed just before it crashed:
// the kind, the map and its root, the user frame, and the goroutines holding the map.
#include <gtest/gtest.h>

#include <set>

#include "analysis/crash_explanation.h"
#include "analysis/executable_resolver.h"
#include "analysis/session.h"
#include "corpus.h"
#include "gomapcore/analysis.h"

namespace gomapcore {
namespace {

using testing::CorpusCase;
using testing::parseHex;

class CrashTest : public ::testing::TestWithParam<CorpusCase> {};

TEST_P(CrashTest, MatchesTruth) {
    const CorpusCase& c = GetParam();
    auto records = c.records("crash");
    ASSERT_EQ(records.size(), 1u) << "each case prints one crash record";
    const auto& truth = records.front();
    const Report& report = testing::analyzedCase(c).report;
    ASSERT_TRUE(report.crash.has_value());
    const CrashReport& crash = *report.crash;
    SCOPED_TRACE(crash.explanation);

    EXPECT_EQ(crash.kind, truth.value("kind", ""));
    if (truth.contains("map")) {
        ASSERT_TRUE(crash.map.has_value()) << "no map named";
        EXPECT_EQ(*crash.map, parseHex(truth["map"]));
        std::string root = truth.value("root", "");
        EXPECT_NE(std::find(crash.mapRoots.begin(), crash.mapRoots.end(), root), crash.mapRoots.end())
            << "root " << root << " not among the crash map's roots";
    } else {
        // A plain panic is never pinned on a map.
        EXPECT_FALSE(crash.map.has_value()) << "misattributed to map 0x" << std::hex << crash.map.value_or(0);
    }
    if (truth.contains("function")) {
        auto frame = crash.userFrame ? crash.userFrame : crash.crashFrame;
        ASSERT_TRUE(frame.has_value());
        EXPECT_EQ(frame->function, truth.value("function", ""));
        EXPECT_EQ(frame->file, truth.value("file", ""));
        EXPECT_EQ(frame->line, truth.value("line", 0));
    }
    // A fault caused by a damaged map links to that map's findings: each damage record of the
    // crash's map is among them.
    if (crash.kind == crash_kinds::kMapMemoryFault && crash.map) {
        for (const auto& damage : c.records("damage")) {
            if (parseHex(damage["map"]) != *crash.map) continue;
            auto wanted = std::make_pair(damage.value("rule", ""), parseHex(damage["address"]));
            EXPECT_NE(std::find(crash.mapFindings.begin(), crash.mapFindings.end(), wanted),
                      crash.mapFindings.end())
                << "crash does not link to finding " << wanted.first;
        }
        EXPECT_EQ(crash.field,
                  c.records("damage").empty() ? "" : c.records("damage").front().value("field", ""));
    }
    if (crash.kind == crash_kinds::kNilMapWrite) {
        EXPECT_EQ(crash.variable, "m");
    }

    // Goroutines taking part (the truth's goroutine records with a reader/writer/iterator
    // role): the crasher is one of them, and every other holder gomapcore names is too.
    std::set<std::int64_t> participants;
    for (const auto& g : c.records("goroutine")) {
        std::string role = g.value("role", "");
        if (role == "writer" || role == "reader" || role == "iterator")
            participants.insert(g.value("goid", -1));
    }
    if (!participants.empty()) {
        ASSERT_TRUE(crash.goroutine.has_value());
        EXPECT_TRUE(participants.count(*crash.goroutine)) << "crashing goroutine " << *crash.goroutine;
        EXPECT_FALSE(crash.others.empty()) << "no other goroutine found holding the map";
        for (const MapHolder& other : crash.others) {
            // Goroutine 1 created the map and keeps it in a variable while it waits.
            if (other.goroutine == 1) continue;
            EXPECT_TRUE(participants.count(other.goroutine))
                << "goroutine " << other.goroutine << " (" << other.how << ") is not a participant";
        }
    }
}

// The crash delivered first (onCrash, before the search for maps) says what the report's crash
// says: the same kind, message, goroutine, frames and map; and the crash's map, walked then,
// has the findings the report gives it. Only the roots naming the map may grow with the search.
TEST_P(CrashTest, DeliveredFirstWithTheSameAnswer) {
    const testing::AnalyzedCase& analyzed = testing::analyzedCase(GetParam());
    ASSERT_TRUE(analyzed.report.crash.has_value());
    ASSERT_TRUE(analyzed.earlyCrash.has_value()) << "onCrash was not called";
    const CrashReport& crash = *analyzed.report.crash;
    const CrashReport& early = *analyzed.earlyCrash;
    EXPECT_EQ(early.kind, crash.kind);
    EXPECT_EQ(early.message, crash.message);
    EXPECT_EQ(early.goroutine, crash.goroutine);
    EXPECT_EQ(early.map, crash.map);
    EXPECT_EQ(early.mapFunction, crash.mapFunction);
    EXPECT_EQ(early.field, crash.field);
    EXPECT_EQ(early.mapFindings, crash.mapFindings);
    auto frameText = [](const std::optional<CodeLocation>& frame) {
        return frame ? frame->function + " " + frame->file + ":" + std::to_string(frame->line) : "";
    };
    EXPECT_EQ(frameText(early.userFrame), frameText(crash.userFrame));
    EXPECT_EQ(frameText(early.crashFrame), frameText(crash.crashFrame));
    for (const std::string& root : early.mapRoots)
        EXPECT_NE(std::find(crash.mapRoots.begin(), crash.mapRoots.end(), root), crash.mapRoots.end())
            << root;
    if (!crash.map || *crash.map == 0) {
        EXPECT_FALSE(analyzed.earlyCrashMap.has_value());
        return;
    }
    ASSERT_TRUE(analyzed.earlyCrashMap.has_value()) << "the crash's map was not walked before the search";
    const MapResult& walked = *analyzed.earlyCrashMap;
    EXPECT_EQ(walked.address, *crash.map);
    const MapResult* reported = nullptr;
    for (const MapResult& map : analyzed.report.maps)
        if (map.address == *crash.map) reported = &map;
    ASSERT_NE(reported, nullptr);
    EXPECT_EQ(walked.count, reported->count);
    EXPECT_EQ(walked.liveEntries, reported->liveEntries);
    EXPECT_EQ(walked.status(), reported->status());
    auto rulesAt = [](const MapResult& map) {
        std::set<std::pair<std::string, std::uint64_t>> found;
        for (const Finding& finding : map.findings())
            found.emplace(finding.rule, finding.address);
        return found;
    };
    EXPECT_EQ(rulesAt(walked), rulesAt(*reported));
}

// When no map variable holds the crash's map (it lies behind pointers the search follows
// later), the crash-first walk types it by the runtime map function's own type argument. On
// every case whose crash names a map, that argument gives the map's type as the report has it.
TEST_P(CrashTest, RuntimeFrameGivesTheCrashMapsType) {
    const CorpusCase& c = GetParam();
    const Report& report = testing::analyzedCase(c).report;
    ASSERT_TRUE(report.crash.has_value());
    const CrashReport& crash = *report.crash;
    if (!crash.map || *crash.map == 0 || crash.mapFunction.empty()) GTEST_SKIP() << "no map in the crash";
    const MapResult* reported = nullptr;
    for (const MapResult& map : report.maps)
        if (map.address == *crash.map) reported = &map;
    ASSERT_NE(reported, nullptr);
    std::unique_ptr<Target> target = Target::openCore(c.core);
    OpenOptions open;
    open.executable = c.executable;
    ResolvedExecutable resolved = resolveExecutable(*target, open);
    Session session(std::move(target), std::move(resolved.executable));
    const Type* type = crashMapType(session, crash);
    if (type == nullptr) {
        // The one case measured without it: Go 1.24's (*Iter).Next keeps no location for its
        // receiver, its spill slot holds the map itself, and runtime.mapIterNext's slot is
        // stale. Its crash-first map then comes from the map variable holding it.
        EXPECT_EQ(c.build + "/" + c.scenario, "go1.24/concurrent-iteration-write")
            << crash.mapFunction << " gives no map type";
        return;
    }
    EXPECT_EQ(type->name, reported->typeName());
}

INSTANTIATE_TEST_SUITE_P(Corpus, CrashTest, ::testing::ValuesIn(testing::corpusCases()),
                         testing::caseTestName);

}  // namespace
}  // namespace gomapcore
