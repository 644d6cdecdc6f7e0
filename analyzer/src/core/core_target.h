// The Target of an ELF core file: its segments as memory, its notes as threads, signal, process
// information, auxiliary vector and file mappings.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/core_file.h"
#include "core/core_memory.h"
#include "gomapcore/target.h"

namespace gomapcore {

class CoreTarget : public Target {
  public:
    explicit CoreTarget(std::unique_ptr<CoreFile> core);

    const Memory& memory() const override { return memory_; }
    const std::vector<ThreadState>& threads() const override { return threads_; }
    std::optional<SignalInfo> signalInfo() const override { return core_->signalInfo(); }
    std::optional<ProcessInfo> processInfo() const override { return core_->processInfo(); }
    const std::map<std::uint64_t, std::uint64_t>& auxv() const override { return core_->auxv(); }
    const std::vector<FileMapping>& fileMappings() const override { return core_->fileMappings(); }
    std::vector<MemoryRegion> regions() const override;
    TargetDescription description() const override;
    std::vector<std::string> problems() const override { return core_->noteProblems(); }

    const CoreFile& core() const { return *core_; }

  private:
    std::unique_ptr<CoreFile> core_;
    CoreMemory memory_;
    std::vector<ThreadState> threads_;
};

// A thread's NT_PRSTATUS registers as a ThreadState, named as architecture's kernel names them;
// a thread whose register set has another size gets none.
ThreadState threadStateOf(const CoreThread& thread, const Architecture& architecture);

}  // namespace gomapcore
