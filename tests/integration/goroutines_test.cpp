// Goroutine listings against the runtime's own traceback: every sample crashed with
// GOTRACEBACK=crash, so its stderr holds every goroutine's stack as the runtime unwound it,
// with fp/sp/pc for each physical frame. gomapcore must reproduce them from the core alone.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>

#include "corpus.h"
#include "gomapcore/analysis.h"
#include "runtime/goroutines.h"

namespace gomapcore {
namespace {

using testing::CorpusCase;

struct PrintedFrame {
    std::string function;  // as printed, without arguments
    std::string file;
    std::int64_t line = 0;
    std::optional<std::uint64_t> pc, sp, fp;  // absent for inlined frames
};

struct PrintedGoroutine {
    std::int64_t id = 0;
    std::string state;
    std::vector<PrintedFrame> frames;
};

// Parses the "goroutine N ...:" blocks of a Go traceback (src/runtime/traceback.go).
std::map<std::int64_t, PrintedGoroutine> parseTraceback(const std::string& path) {
    static const std::regex header(R"(^goroutine (\d+)(?: gp=\S+)?(?: m=\S+)?(?: mp=\S+)? \[([^\]]*)\]:$)");
    static const std::regex call(R"(^(\S.*)\((.*)\)$)");
    static const std::regex position(
        R"(^\t(.*):(\d+)(?: \+0x[0-9a-f]+)?(?: fp=(0x[0-9a-f]+) sp=(0x[0-9a-f]+) pc=(0x[0-9a-f]+))?$)");
    std::map<std::int64_t, PrintedGoroutine> out;
    std::ifstream in(path);
    std::string line;
    PrintedGoroutine* current = nullptr;
    bool createdBy = false;
    std::smatch m;
    while (std::getline(in, line)) {
        if (std::regex_match(line, m, header)) {
            std::int64_t id = std::stoll(m[1]);
            // A goroutine printed twice (the crashing one can be) keeps its first listing.
            current = out.count(id) ? nullptr : &out[id];
            if (current != nullptr) {
                current->id = id;
                current->state = m[2];
            }
            createdBy = false;
            continue;
        }
        if (current == nullptr) continue;
        if (line.empty()) {
            current = nullptr;
            continue;
        }
        if (line.rfind("created by ", 0) == 0) {
            createdBy = true;
            continue;
        }
        if (createdBy) continue;
        if (std::regex_match(line, m, call)) {
            current->frames.push_back(PrintedFrame{m[1], "", 0, {}, {}, {}});
        } else if (std::regex_match(line, m, position) && !current->frames.empty()) {
            PrintedFrame& frame = current->frames.back();
            frame.file = m[1];
            frame.line = std::stoll(m[2]);
            if (m[3].matched) {
                frame.fp = testing::parseHex(m[3]);
                frame.sp = testing::parseHex(m[4]);
                frame.pc = testing::parseHex(m[5]);
            }
        }
    }
    return out;
}

// The runtime prints runtime.gopanic as "panic" (src/runtime/traceback.go printFuncName).
std::string printedName(std::string_view function) {
    if (function == "runtime.gopanic") return "panic";
    return std::string(function);
}

struct OurFrame {
    std::string function, file;
    std::int64_t line;
    std::optional<std::uint64_t> pc, sp, fp;
};

std::vector<OurFrame> flatten(const Goroutine& g) {
    std::vector<OurFrame> out;
    for (const StackFrame& frame : g.frames) {
        for (std::size_t i = 0; i < frame.source.size(); ++i) {
            const SourceFrame& s = frame.source[i];
            bool physical = i + 1 == frame.source.size();
            OurFrame f{printedName(s.function), std::string(s.file), s.line, {}, {}, {}};
            if (physical) {
                f.pc = frame.pc;
                f.sp = frame.sp;
                f.fp = frame.fp;
            }
            out.push_back(f);
        }
    }
    return out;
}

std::string describe(const std::vector<OurFrame>& frames) {
    std::string out;
    for (const auto& f : frames)
        out += "  " + f.function + " " + f.file + ":" + std::to_string(f.line) + "\n";
    return out;
}

class GoroutineTest : public ::testing::TestWithParam<CorpusCase> {};

TEST_P(GoroutineTest, MatchRuntimeTraceback) {
    const CorpusCase& c = GetParam();
    auto printed = parseTraceback(c.stderrPath);
    ASSERT_FALSE(printed.empty()) << "no traceback in " << c.stderrPath;
    Analysis* analysis = testing::analyzedCase(c).analysis.get();
    const GoroutineTable* table = analysis->goroutines();
    ASSERT_NE(table, nullptr) << (analysis->notes().empty() ? "" : analysis->notes().back());

    std::set<std::int64_t> ours, theirs;
    for (const Goroutine& g : table->goroutines())
        ours.insert(g.id);
    for (const auto& [id, g] : printed)
        theirs.insert(id);
    EXPECT_EQ(ours, theirs) << "goroutine ids differ";

    const Goroutine* crashing = table->crashing();
    for (const auto& [id, runtimeView] : printed) {
        const Goroutine* g = table->byId(id);
        if (g == nullptr) continue;
        std::vector<OurFrame> frames = flatten(*g);
        SCOPED_TRACE("goroutine " + std::to_string(id) + "; ours:\n" + describe(frames));
        EXPECT_TRUE(g->unwindProblem.empty()) << g->unwindProblem;
        // The runtime lists the crashing goroutine from its fatal frame; gomapcore unwinds it
        // from where it switched to the system stack, a few runtime frames deeper. Every other
        // goroutine must match frame for frame.
        std::size_t skip = 0;
        if (g == crashing && frames.size() >= runtimeView.frames.size())
            skip = frames.size() - runtimeView.frames.size();
        else
            EXPECT_EQ(runtimeView.state, g->state);
        ASSERT_EQ(frames.size() - skip, runtimeView.frames.size());
        for (std::size_t i = 0; i < runtimeView.frames.size(); ++i) {
            const PrintedFrame& want = runtimeView.frames[i];
            const OurFrame& have = frames[i + skip];
            EXPECT_EQ(have.function, want.function) << "frame " << i;
            EXPECT_EQ(have.file, want.file) << "frame " << i;
            EXPECT_EQ(have.line, want.line) << "frame " << i << " " << want.function;
            if (want.pc) {
                EXPECT_EQ(have.pc, want.pc) << "frame " << i << " " << want.function;
                EXPECT_EQ(have.sp, want.sp) << "frame " << i << " " << want.function;
                EXPECT_EQ(have.fp, want.fp) << "frame " << i << " " << want.function;
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Corpus, GoroutineTest, ::testing::ValuesIn(testing::corpusCases()),
                         testing::caseTestName);

}  // namespace
}  // namespace gomapcore
