// The engine's Target over LLDB's SB API: a live process (attached or launched, stopped) or a
// core file LLDB has loaded. It only reads; nothing here changes the process.
//
// Memory comes from SBProcess::ReadMemory, whose byte count is checked on every call (a core read
// can "succeed" with zero bytes), and is classified with the process's regions: no region is
// unmapped; a region whose bytes cannot be read (a core segment the kernel did not dump, a live
// PROT_NONE mapping) is not captured. Reads are cached in blocks for one stop: when the process's
// stop ID changes (it was resumed), the cache is dropped before the next read.
#pragma once

#include <lldb/API/SBProcess.h>
#include <lldb/API/SBTarget.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "gomapcore/memory.h"
#include "gomapcore/target.h"

namespace gomapcore_lldb {

// The process's memory as LLDB reads it, cached per stop.
class LldbMemory : public gomapcore::Memory {
  public:
    LldbMemory(lldb::SBProcess process, std::vector<gomapcore::MemoryRegion> regions, bool live);

    gomapcore::ReadResult read(std::uint64_t address, std::span<std::byte> out) const override;
    gomapcore::AddressState classify(std::uint64_t address) const override;
    std::optional<gomapcore::MemoryRegion> regionAt(std::uint64_t address) const override;

    const std::vector<gomapcore::MemoryRegion>& regions() const { return regions_; }
    // Reads made through LLDB (cache misses) since the process last stopped.
    std::uint64_t processReads() const { return processReads_; }

  private:
    static constexpr std::uint64_t kBlock = 16 * 1024;
    struct Block {
        std::vector<std::byte> bytes;                                       // the leading bytes LLDB returned
        gomapcore::AddressState after = gomapcore::AddressState::Captured;  // state past them
    };
    const gomapcore::MemoryRegion* regionContaining(std::uint64_t address) const;
    const Block& block(std::uint64_t blockStart, const gomapcore::MemoryRegion& region) const;
    void dropIfResumed() const;

    mutable lldb::SBProcess process_;
    std::vector<gomapcore::MemoryRegion> regions_;  // sorted by start, not overlapping
    bool live_;
    mutable std::uint32_t stopId_;
    mutable std::unordered_map<std::uint64_t, Block> cache_;
    mutable std::uint64_t processReads_ = 0;
};

class LldbTarget : public gomapcore::Target {
  public:
    // Reads the threads, regions, mappings and auxiliary vector of a stopped process.
    explicit LldbTarget(lldb::SBTarget target, lldb::SBProcess process);

    const gomapcore::Memory& memory() const override { return *memory_; }
    const std::vector<gomapcore::ThreadState>& threads() const override { return threads_; }
    std::optional<gomapcore::SignalInfo> signalInfo() const override { return signal_; }
    std::optional<gomapcore::ProcessInfo> processInfo() const override { return process_; }
    const std::map<std::uint64_t, std::uint64_t>& auxv() const override { return auxv_; }
    std::vector<gomapcore::MemoryRegion> regions() const override { return memory_->regions(); }
    const std::vector<gomapcore::FileMapping>& fileMappings() const override { return mappings_; }
    gomapcore::TargetDescription description() const override { return description_; }

    bool live() const { return live_; }
    // Where each piece of the target came from (auxv, mappings, regions), for the live notes.
    const std::vector<std::string>& sources() const { return sources_; }
    // Why the process is stopped, in words ("breakpoint 1.1", "signal SIGABRT").
    const std::string& stopDescription() const { return stopDescription_; }

  private:
    void readThreads(lldb::SBProcess& process);
    void readRegions(lldb::SBProcess& process, std::vector<gomapcore::MemoryRegion>& regions);
    void readMappings(lldb::SBTarget& target);
    void readAuxv(lldb::SBTarget& target);

    bool live_ = false;
    bool local_ = false;  // a live process of this machine: /proc/PID is its
    std::string corePath_;
    std::unique_ptr<LldbMemory> memory_;
    std::vector<gomapcore::ThreadState> threads_;
    std::optional<gomapcore::SignalInfo> signal_;
    std::optional<gomapcore::ProcessInfo> process_;
    std::map<std::uint64_t, std::uint64_t> auxv_;
    std::vector<gomapcore::FileMapping> mappings_;
    gomapcore::TargetDescription description_;
    std::vector<std::string> sources_;
    std::string stopDescription_;
};

// The path of an lldb file spec; "" when it has none (or it does not fit PATH_MAX).
std::string pathOf(const lldb::SBFileSpec& spec);

}  // namespace gomapcore_lldb
