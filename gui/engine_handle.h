// The open analysis, shared by the window and its background jobs. The engine's Analysis is
// used by one thread at a time: every job and the GUI thread take the mutex around each call.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gomapcore/analysis.h"
#include "gomapcore/memory.h"

struct EngineHandle {
    std::unique_ptr<gomapcore::Analysis> analysis;
    std::mutex mutex;
    std::string corePath;
    std::string executablePath;
    // Computed with the report, off the GUI thread.
    std::string goroutinesText;  // the runtime-style traceback of every goroutine
    std::vector<gomapcore::MemoryRegion> regions;
};
