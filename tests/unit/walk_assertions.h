// Assertion helpers shared by the walker unit tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gomapcore/map_model.h"

namespace gmtest {

struct ExpectedFinding {
    const char* rule;
    gomapcore::Severity severity;
    std::uint64_t address;
};

inline std::string describe(const std::vector<gomapcore::Finding>& findings) {
    std::string out;
    for (const gomapcore::Finding& f : findings) {
        char address[32];
        std::snprintf(address, sizeof address, "%#llx", static_cast<unsigned long long>(f.address));
        out += std::string("\n  ") + f.rule + " [" + gomapcore::toString(f.severity) + "] @" + address +
               ": " + f.message;
    }
    return out.empty() ? std::string("\n  (no findings)") : out;
}

// The map's findings are exactly expected, in walk order, each naming the map's header.
inline void expectFindings(const gomapcore::MapResult& result, const std::vector<ExpectedFinding>& expected) {
    std::vector<gomapcore::Finding> actual = result.findings();
    ASSERT_EQ(actual.size(), expected.size()) << describe(actual);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        SCOPED_TRACE("finding #" + std::to_string(i) + describe(actual));
        EXPECT_EQ(actual[i].rule, expected[i].rule);
        EXPECT_EQ(actual[i].severity, expected[i].severity);
        EXPECT_EQ(actual[i].address, expected[i].address);
        EXPECT_EQ(actual[i].map, result.address);
        EXPECT_FALSE(actual[i].message.empty());
    }
}

inline void expectNoFindings(const gomapcore::MapResult& result) {
    expectFindings(result, {});
}

// A healthy map: no finding at all, a complete walk, liveEntries entries found, status "ok".
inline void expectHealthy(const gomapcore::MapResult& result, std::uint64_t liveEntries) {
    expectNoFindings(result);
    EXPECT_TRUE(result.complete);
    EXPECT_EQ(result.liveEntries, liveEntries);
    EXPECT_EQ(result.status(), gomapcore::MapStatus::Ok);
}

// The first node of the tree (depth first) with this kind and address, or nullptr.
inline const gomapcore::MapNode* findNode(const gomapcore::MapNode& root, gomapcore::NodeKind kind,
                                          std::uint64_t address) {
    if (root.kind == kind && root.address == address) return &root;
    for (const gomapcore::MapNode& child : root.children)
        if (const gomapcore::MapNode* found = findNode(child, kind, address)) return found;
    return nullptr;
}

}  // namespace gmtest
