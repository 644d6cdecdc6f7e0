// The open analysis, shared by the window and its background jobs. The engine's Analysis is
// used by one thread at a time: every job and the GUI thread take the mutex around each call.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "gomapcore/analysis.h"

struct EngineHandle {
    std::unique_ptr<gomapcore::Analysis> analysis;
    std::mutex mutex;
    std::string corePath;
    std::string executablePath;
};
