#include "corpus.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace gomapcore::testing {

namespace fs = std::filesystem;

void PrintTo(const CorpusCase& c, std::ostream* out) {
    *out << c.build << "/" << c.scenario;
}

std::string corpusDir() {
    return GOMAPCORE_CORPUS_DIR;
}

namespace {
constexpr std::string_view kArm64Prefix = "arm64-";
}

std::string buildArchitecture(const std::string& build) {
    return build.rfind(kArm64Prefix, 0) == 0 ? "arm64" : "amd64";
}

std::string goBuild(const std::string& build) {
    return build.rfind(kArm64Prefix, 0) == 0 ? build.substr(kArm64Prefix.size()) : build;
}

std::vector<std::string> corpusBuilds() {
    std::vector<std::string> builds;
    if (!fs::is_directory(corpusDir())) return builds;
    for (const auto& entry : fs::directory_iterator(corpusDir()))
        if (entry.is_directory() && fs::exists(entry.path() / "mapcrash"))
            builds.push_back(entry.path().filename());
    std::sort(builds.begin(), builds.end());
    return builds;
}

std::vector<CorpusCase> corpusCases() {
    std::vector<CorpusCase> cases;
    for (const std::string& build : corpusBuilds()) {
        fs::path dir = fs::path(corpusDir()) / build;
        std::vector<fs::path> cores;
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.path().extension() == ".core") cores.push_back(entry.path());
        std::sort(cores.begin(), cores.end());
        for (const fs::path& core : cores) {
            CorpusCase c;
            c.build = build;
            c.scenario = core.stem();
            c.core = core;
            c.executable = dir / "mapcrash";
            c.stderrPath = dir / (c.scenario + ".stderr");
            std::ifstream in(c.stderrPath);
            if (!in) throw std::runtime_error("missing ground truth " + c.stderrPath);
            const std::string prefix = "GOMAPCORE-TRUTH ";
            for (std::string line; std::getline(in, line);)
                if (line.rfind(prefix, 0) == 0)
                    c.truth.push_back(nlohmann::json::parse(line.substr(prefix.size())));
            cases.push_back(std::move(c));
        }
    }
    return cases;
}

std::vector<nlohmann::json> CorpusCase::records(const std::string& kind) const {
    std::vector<nlohmann::json> out;
    for (const auto& record : truth)
        if (record.value("record", "") == kind) out.push_back(record);
    return out;
}

nlohmann::json CorpusCase::caseRecord() const {
    auto list = records("case");
    return list.empty() ? nlohmann::json() : list.front();
}

std::string testName(std::string label) {
    for (char& ch : label)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return label;
}

std::uint64_t parseHex(const std::string& text) {
    return std::stoull(text, nullptr, 16);
}

const AnalyzedCase& analyzedCase(const CorpusCase& c) {
    static std::string lastCore;
    static AnalyzedCase last;
    if (lastCore != c.core || last.analysis == nullptr) {
        last = AnalyzedCase{};  // if open() throws, the null analysis makes the next call retry
        last.analysis = gomapcore::Analysis::open(c.core, c.executable);
        gomapcore::AnalysisOptions options;
        options.onCrash = [](const gomapcore::CrashReport& crash, const gomapcore::MapResult* map) {
            last.earlyCrash = crash;
            if (map != nullptr) last.earlyCrashMap = *map;
        };
        last.report = last.analysis->run(options);
        lastCore = c.core;
    }
    return last;
}

std::string caseTestName(const ::testing::TestParamInfo<CorpusCase>& info) {
    return testName(info.param.build + "_" + info.param.scenario);
}

}  // namespace gomapcore::testing
