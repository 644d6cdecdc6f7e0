// gomapcore batch: many cores in one run, one JSON report a line (README, "Batch").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gomapcore::cli {

struct BatchOptions {
    std::vector<std::string> inputs;  // files, directories (searched for cores) and glob patterns
    std::size_t jobs = 1;
    std::string output;                       // "" or "-": stdout
    std::string failOn = "error";             // as analyze's --fail-on
    double timeoutSeconds = 0;                // per core; 0: none
    std::vector<std::string> childArguments;  // passed to each `analyze` (--exe-dir, --redact, ...)
};

// Runs `gomapcore analyze` on each core in a child process of its own (a core that crashes,
// hangs or exhausts memory takes only its own line down), at most jobs at a time, and writes
// the lines in input order. Returns the exit code: 0 every core analyzed and clean, 1 findings
// at or above failOn in some core, 2 some core could not be analyzed.
int runBatch(const BatchOptions& options);

}  // namespace gomapcore::cli
