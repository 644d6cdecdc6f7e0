// Finds the executable of a target when the caller does not name it, and says where it came
// from: the path the core's NT_FILE note records, then each --exe-dir (a sysroot the recorded
// path is joined under, or a flat folder of binaries matched by build ID), then the debuginfod
// servers of DEBUGINFOD_URLS (elfutils' libdebuginfod, with its cache) by GNU build ID. Each
// candidate's build IDs are compared with those in the ELF header page the core holds.
#pragma once

#include <memory>
#include <string>

#include "binary/build_id.h"
#include "binary/executable.h"
#include "gomapcore/analysis.h"
#include "gomapcore/report.h"
#include "gomapcore/target.h"

namespace gomapcore {

struct ResolvedExecutable {
    std::unique_ptr<Executable> executable;
    ExecutableOrigin origin;
};

// Throws Error(MissingExecutable) naming every place tried and why each candidate was refused,
// or the error of opening an executable given as an argument.
ResolvedExecutable resolveExecutable(const Target& target, const OpenOptions& options);

// The executable's path as the target records it ("" when it does not).
std::string recordedExecutablePath(const Target& target);

// The build IDs in the executable's ELF header page as the target captured it (empty when the
// page was not dumped or holds none).
BuildIds targetBuildIds(const Target& target);

}  // namespace gomapcore
