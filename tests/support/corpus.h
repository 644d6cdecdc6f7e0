// Access to the unpacked sample corpus (tests/corpus, unpacked into the build tree) and the
// ground truth each sample printed (samples/README.md defines the GOMAPCORE-TRUTH lines).
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

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
std::vector<std::string> corpusBuilds();
std::vector<CorpusCase> corpusCases();
// A gtest-safe name (letters, digits, underscores) for a build or case label.
std::string testName(std::string label);

// The name of a parameterized test over one corpus case: "<build>_<scenario>".
std::string caseTestName(const ::testing::TestParamInfo<CorpusCase>& info);

// Parses "0x…" into a number.
std::uint64_t parseHex(const std::string& text);

}  // namespace gomapcore::testing
