// Access to the unpacked sample corpus (tests/corpus, unpacked into the build tree) and the
// ground truth each sample printed (samples/README.md defines the GOMAPCORE-TRUTH lines).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "gomapcore/analysis.h"

namespace gomapcore::testing {

struct CorpusCase {
    std::string build;     // e.g. "go1.23", "go1.24-noswiss"
    std::string scenario;  // e.g. "healthy"
    std::string core;      // path to the unpacked core
    std::string executable;
    std::string stderrPath;
    std::vector<nlohmann::json> truth;  // every GOMAPCORE-TRUTH record, in order

    std::vector<nlohmann::json> records(const std::string& kind) const;
    // The "case" record.
    nlohmann::json caseRecord() const;
};

// gtest prints a parameter with this instead of dumping its bytes.
void PrintTo(const CorpusCase& c, std::ostream* out);

std::string corpusDir();
// The CPU a build's cores come from: the arm64 corpus (tests/corpus-arm64) is unpacked beside
// the amd64 one as builds named "arm64-go1.N".
std::string buildArchitecture(const std::string& build);
// The Go toolchain of a build, without its architecture: "arm64-go1.26" -> "go1.26".
std::string goBuild(const std::string& build);
std::vector<std::string> corpusBuilds();
std::vector<CorpusCase> corpusCases();
// A gtest-safe name (letters, digits, underscores) for a build or case label.
std::string testName(std::string label);

// The name of a parameterized test over one corpus case: "<build>_<scenario>".
std::string caseTestName(const ::testing::TestParamInfo<CorpusCase>& info);

// One corpus case opened and analyzed with default options, shared by the tests of one process:
// ctest runs each corpus case's tests in one process (tests/support/group_gtest.py), so a case
// is opened and analyzed once, not once per test. Only the last case asked for is kept, so an
// unfiltered run over every case holds one analysis at a time. Tests must not change it.
struct AnalyzedCase {
    std::unique_ptr<gomapcore::Analysis> analysis;
    gomapcore::Report report;  // analysis->run() with default options and an onCrash
    // What onCrash delivered before the search: the crash and its walked map.
    std::optional<gomapcore::CrashReport> earlyCrash;
    std::optional<gomapcore::MapResult> earlyCrashMap;
};
const AnalyzedCase& analyzedCase(const CorpusCase& c);

// Parses "0x…" into a number.
std::uint64_t parseHex(const std::string& text);

}  // namespace gomapcore::testing
