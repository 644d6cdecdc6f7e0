// How long a front end waits for the crash explanation (docs/performance.md, scripts/bench.sh):
// opens a core as the GUI does, runs the analysis with an onCrash, and prints the seconds from
// the start to the open analysis and to the crash (with its map walked), then cancels the run.
// A measuring tool, never a test.
//
// usage: time_to_crash CORE EXE
#include <chrono>
#include <cstdio>
#include <memory>

#include "gomapcore/analysis.h"
#include "gomapcore/error.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: time_to_crash CORE EXE\n");
        return 2;
    }
    using Clock = std::chrono::steady_clock;
    const Clock::time_point start = Clock::now();
    auto seconds = [&start] { return std::chrono::duration<double>(Clock::now() - start).count(); };
    try {
        auto analysis = gomapcore::Analysis::open(argv[1], argv[2]);
        const double opened = seconds();
        gomapcore::AnalysisOptions options;
        auto cancel = std::make_shared<gomapcore::CancelToken>();
        options.cancel = cancel;
        double crashed = -1;
        options.onCrash = [&](const gomapcore::CrashReport& crash, const gomapcore::MapResult* map) {
            crashed = seconds();
            std::printf("open %.3f s, crash %.3f s: %s%s\n", opened, crashed, crash.explanation.c_str(),
                        map != nullptr ? " (its map walked)" : "");
            cancel->cancel();
        };
        try {
            analysis->run(options);
        } catch (const gomapcore::Error& e) {
            if (e.code() != gomapcore::Error::Code::Cancelled) throw;
        }
        return crashed >= 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "time_to_crash: %s\n", e.what());
        return 2;
    }
}
