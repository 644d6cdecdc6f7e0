#include "lldb_target.h"

#include <elf.h>
#include <lldb/API/SBError.h>
#include <lldb/API/SBFileSpec.h>
#include <lldb/API/SBFrame.h>
#include <lldb/API/SBMemoryRegionInfo.h>
#include <lldb/API/SBMemoryRegionInfoList.h>
#include <lldb/API/SBModule.h>
#include <lldb/API/SBPlatform.h>
#include <lldb/API/SBSection.h>
#include <lldb/API/SBStream.h>
#include <lldb/API/SBThread.h>
#include <lldb/API/SBUnixSignals.h>
#include <lldb/API/SBValue.h>
#include <lldb/API/SBValueList.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gomapcore_lldb {
namespace {

using gomapcore::AddressState;
using gomapcore::MemoryRegion;
using gomapcore::ReadResult;

constexpr std::uint64_t kPage = 4096;

std::string readTextFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// /proc/PID/maps: "start-end perms offset dev inode   path".
struct ProcMapping {
    MemoryRegion region;
    std::uint64_t offset = 0;
};

std::vector<ProcMapping> parseProcMaps(const std::string& text) {
    std::vector<ProcMapping> out;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string range, perms, offset, device, inode;
        if (!(fields >> range >> perms >> offset >> device >> inode)) continue;
        auto dash = range.find('-');
        if (dash == std::string::npos || perms.size() < 3) continue;
        ProcMapping m;
        try {
            m.region.start = std::stoull(range.substr(0, dash), nullptr, 16);
            m.region.end = std::stoull(range.substr(dash + 1), nullptr, 16);
            m.offset = std::stoull(offset, nullptr, 16);
        } catch (const std::exception&) {
            continue;
        }
        m.region.readable = perms[0] == 'r';
        m.region.writable = perms[1] == 'w';
        m.region.executable = perms[2] == 'x';
        std::string rest;
        std::getline(fields, rest);
        auto first = rest.find_first_not_of(' ');
        m.region.name = first == std::string::npos ? "" : rest.substr(first);
        if (m.region.end > m.region.start) out.push_back(std::move(m));
    }
    return out;
}

}  // namespace

std::string pathOf(const lldb::SBFileSpec& spec) {
    if (!spec.IsValid()) return {};
    char buffer[PATH_MAX];
    std::uint32_t length = spec.GetPath(buffer, sizeof buffer);
    if (length == 0 || length >= sizeof buffer) return {};
    return std::string(buffer, length);
}

// ---- LldbMemory ----------------------------------------------------------------------------

LldbMemory::LldbMemory(lldb::SBProcess process, std::vector<MemoryRegion> regions, bool live)
    : process_(process), regions_(std::move(regions)), live_(live), stopId_(process_.GetStopID()) {}

void LldbMemory::dropIfResumed() const {
    std::uint32_t now = process_.GetStopID();
    if (now == stopId_) return;
    cache_.clear();
    processReads_ = 0;
    stopId_ = now;
}

const MemoryRegion* LldbMemory::regionContaining(std::uint64_t address) const {
    auto after = std::upper_bound(regions_.begin(), regions_.end(), address,
                                  [](std::uint64_t a, const MemoryRegion& r) { return a < r.start; });
    if (after == regions_.begin()) return nullptr;
    const MemoryRegion& region = *std::prev(after);
    return address < region.end ? &region : nullptr;
}

const LldbMemory::Block& LldbMemory::block(std::uint64_t readStart, const MemoryRegion& region) const {
    auto found = cache_.find(readStart);
    if (found != cache_.end()) return found->second;
    const std::uint64_t blockEnd = (readStart & ~(kBlock - 1)) + kBlock;
    const std::uint64_t length = std::min(blockEnd, region.end) - readStart;
    Block block;
    block.bytes.resize(static_cast<std::size_t>(length));
    std::uint64_t got = 0;
    // One read for the block; where it comes back short (LLDB may report success with fewer
    // bytes, or fail the whole range for one bad page), go on page by page, as far as possible.
    bool whole = true;
    while (got < length) {
        const std::uint64_t at = readStart + got;
        const std::uint64_t want = whole ? length - got : std::min(length - got, kPage - at % kPage);
        lldb::SBError error;
        ++processReads_;
        std::size_t n =
            process_.ReadMemory(at, block.bytes.data() + got, static_cast<std::size_t>(want), error);
        if (n > want) n = static_cast<std::size_t>(want);
        got += n;
        if (n == 0 && !whole) break;
        whole = false;
    }
    block.bytes.resize(static_cast<std::size_t>(got));
    return cache_.emplace(readStart, std::move(block)).first->second;
}

ReadResult LldbMemory::read(std::uint64_t address, std::span<std::byte> out) const {
    dropIfResumed();
    ReadResult result;
    while (result.bytesRead < out.size()) {
        const std::uint64_t at = address + result.bytesRead;
        if (at < address) {  // wrapped past the top of the address space
            result.state = AddressState::Unmapped;
            return result;
        }
        const MemoryRegion* region = regionContaining(at);
        if (region == nullptr) {
            result.state = AddressState::Unmapped;
            return result;
        }
        // A live mapping the process itself cannot read (PROT_NONE: Go's arena reservations)
        // holds nothing of the program's, although ptrace could read it; a core does not dump it.
        if (live_ && !region->readable) {
            result.state = AddressState::NotCaptured;
            return result;
        }
        const std::uint64_t readStart = std::max(at & ~(kBlock - 1), region->start);
        const Block& b = block(readStart, *region);
        const std::uint64_t within = at - readStart;
        if (within >= b.bytes.size()) {
            result.state = AddressState::NotCaptured;
            return result;
        }
        const std::size_t chunk = static_cast<std::size_t>(
            std::min<std::uint64_t>(b.bytes.size() - within, out.size() - result.bytesRead));
        std::memcpy(out.data() + result.bytesRead, b.bytes.data() + within, chunk);
        result.bytesRead += chunk;
    }
    return result;
}

AddressState LldbMemory::classify(std::uint64_t address) const {
    std::byte probe[1];
    return read(address, probe).state;
}

std::optional<MemoryRegion> LldbMemory::regionAt(std::uint64_t address) const {
    const MemoryRegion* region = regionContaining(address);
    if (region == nullptr) return std::nullopt;
    return *region;
}

// ---- LldbTarget ----------------------------------------------------------------------------

LldbTarget::LldbTarget(lldb::SBTarget target, lldb::SBProcess process) {
    const std::string core = pathOf(process.GetCoreFile());
    corePath_ = core;
    live_ = core.empty();
    // /proc describes this machine's processes: only a process of the host platform is there.
    lldb::SBPlatform platform = target.GetPlatform();
    local_ = live_ && platform.IsValid() && platform.GetName() != nullptr &&
             std::string(platform.GetName()) == "host";
    const int pid = static_cast<int>(process.GetProcessID());
    gomapcore::ProcessInfo info;
    info.pid = pid;
    const std::string exe = pathOf(target.GetExecutable());
    if (local_) {
        std::string comm = readTextFile("/proc/" + std::to_string(pid) + "/comm");
        while (!comm.empty() && comm.back() == '\n')
            comm.pop_back();
        info.command = comm;
        std::string cmdline = readTextFile("/proc/" + std::to_string(pid) + "/cmdline");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        while (!cmdline.empty() && cmdline.back() == ' ')
            cmdline.pop_back();
        info.arguments = cmdline;
    }
    if (info.command.empty()) {
        const std::string base = exe.substr(exe.rfind('/') + 1);
        info.command = base.substr(0, 15);  // as pr_fname and /proc/PID/comm hold it
    }
    process_ = info;

    std::string triple = target.GetTriple() ? target.GetTriple() : "";
    std::string arch = triple.substr(0, triple.find('-'));
    if (arch == "x86_64") arch = "amd64";
    if (arch == "aarch64") arch = "arm64";
    description_.kind = live_ ? "live" : "core";
    description_.path = live_ ? "live process " + std::to_string(pid) + " (" + exe + ")" : core;
    description_.architecture = arch;

    readThreads(process);
    std::vector<MemoryRegion> regions;
    readRegions(process, regions);
    memory_ = std::make_unique<LldbMemory>(process, std::move(regions), live_);
    if (mappings_.empty()) readMappings(target);
    readAuxv(target);
}

void LldbTarget::readThreads(lldb::SBProcess& process) {
    const std::uint32_t count = process.GetNumThreads();
    lldb::SBThread signalled;
    for (std::uint32_t i = 0; i < count; ++i) {
        lldb::SBThread thread = process.GetThreadAtIndex(i);
        if (!thread.IsValid()) continue;
        gomapcore::ThreadState state;
        state.tid = static_cast<int>(thread.GetThreadID());
        if (thread.GetStopReason() == lldb::eStopReasonSignal && thread.GetStopReasonDataCount() > 0) {
            state.signal = static_cast<int>(thread.GetStopReasonDataAtIndex(0));
            if (state.signal != 0 && !signalled.IsValid()) signalled = thread;
        }
        lldb::SBFrame frame = thread.GetFrameAtIndex(0);
        if (frame.IsValid()) {
            state.pc = frame.GetPC();
            state.sp = frame.GetSP();
            state.framePointer = frame.GetFP();
            lldb::SBValueList sets = frame.GetRegisters();
            // The first set is the general registers; the 8-byte ones are the full registers
            // (rax, ..., rip, rflags, fs_base, ...), the smaller ones their parts.
            lldb::SBValue general = sets.GetSize() > 0 ? sets.GetValueAtIndex(0) : lldb::SBValue();
            const std::uint32_t n = general.IsValid() ? general.GetNumChildren() : 0;
            for (std::uint32_t r = 0; r < n; ++r) {
                lldb::SBValue reg = general.GetChildAtIndex(r);
                if (!reg.IsValid() || reg.GetByteSize() != 8 || reg.GetName() == nullptr) continue;
                lldb::SBError error;
                std::uint64_t value = reg.GetValueAsUnsigned(error, 0);
                if (!error.Success()) continue;
                std::string name = reg.GetName();
                if (name == "rflags") name = "eflags";  // the name NT_PRSTATUS readers use
                state.registers.push_back({name, value});
            }
            if (auto rip = state.registerValue("rip")) state.pc = *rip;
            if (auto rsp = state.registerValue("rsp")) state.sp = *rsp;
            if (auto rbp = state.registerValue("rbp")) state.framePointer = *rbp;
            // arm64: LLDB names x29 and x30 by their roles.
            if (auto lr = state.registerValue("lr")) state.linkRegister = *lr;
        }
        threads_.push_back(std::move(state));
    }
    // Why the process stopped: the first thread with a stop reason says it.
    for (std::uint32_t i = 0; i < count && stopDescription_.empty(); ++i) {
        lldb::SBThread thread = process.GetThreadAtIndex(i);
        lldb::StopReason reason = thread.GetStopReason();
        if (reason == lldb::eStopReasonNone || reason == lldb::eStopReasonInvalid) continue;
        if (reason == lldb::eStopReasonSignal && thread.GetStopReasonDataAtIndex(0) == 0) continue;
        std::string text;
        if (reason == lldb::eStopReasonBreakpoint && thread.GetStopReasonDataCount() >= 2) {
            text = "breakpoint " + std::to_string(thread.GetStopReasonDataAtIndex(0)) + "." +
                   std::to_string(thread.GetStopReasonDataAtIndex(1));
        } else if (reason == lldb::eStopReasonSignal) {
            const auto signo = static_cast<std::int32_t>(thread.GetStopReasonDataAtIndex(0));
            const char* name = process.GetUnixSignals().GetSignalAsCString(signo);
            text = std::string("signal ") + (name != nullptr ? name : std::to_string(signo).c_str());
        } else if (reason == lldb::eStopReasonTrace || reason == lldb::eStopReasonPlanComplete) {
            text = "a step";
        } else {
            text = "stop reason " + std::to_string(static_cast<int>(reason));
        }
        stopDescription_ = "thread " + std::to_string(thread.GetThreadID()) + ": " + text;
    }
    if (!signalled.IsValid()) return;
    // A core's NT_SIGINFO or, live, the kernel's siginfo as LLDB reads it; else the signal
    // number of the stop reason alone.
    gomapcore::SignalInfo info;
    info.signo = static_cast<int>(signalled.GetStopReasonDataAtIndex(0));
    lldb::SBValue siginfo = signalled.GetSiginfo();
    if (siginfo.IsValid() && siginfo.GetError().Success()) {
        lldb::SBError error;
        lldb::SBValue code = siginfo.GetChildMemberWithName("si_code");
        if (code.IsValid()) info.code = static_cast<int>(code.GetValueAsSigned(error, 0));
        lldb::SBValue err = siginfo.GetChildMemberWithName("si_errno");
        if (err.IsValid()) info.errnoValue = static_cast<int>(err.GetValueAsSigned(error, 0));
        lldb::SBValue addr = siginfo.GetValueForExpressionPath("._sifields._sigfault.si_addr");
        if (addr.IsValid()) info.faultAddress = addr.GetValueAsUnsigned(error, 0);
        sources_.push_back("siginfo: the kernel's, through LLDB");
    } else if (!live_) {
        // LLDB 19 does not give a core's NT_SIGINFO ("Not implemented"); gomapcore's own core
        // reader does, and only that note is taken from it.
        try {
            if (auto note = gomapcore::Target::openCore(corePath_)->signalInfo()) {
                info = *note;
                sources_.push_back(
                    "siginfo: the core's NT_SIGINFO, read by gomapcore (LLDB 19 does not give it)");
            }
        } catch (const std::exception&) {
        }
    }
    if (sources_.empty() || sources_.back().rfind("siginfo:", 0) != 0)
        sources_.push_back("siginfo: none (only the signal number of the stop reason)");
    signal_ = info;
}

void LldbTarget::readRegions(lldb::SBProcess& process, std::vector<MemoryRegion>& regions) {
    if (local_) {
        // LLDB leaves PROT_NONE mappings out of a live process's regions; /proc/PID/maps has
        // them all, with the file offsets of file mappings. Readable only on this machine.
        auto maps = parseProcMaps(readTextFile("/proc/" + std::to_string(process.GetProcessID()) + "/maps"));
        if (!maps.empty()) {
            for (ProcMapping& m : maps) {
                if (!m.region.name.empty() && m.region.name.front() == '/')
                    mappings_.push_back({m.region.start, m.region.end, m.offset, m.region.name});
                regions.push_back(std::move(m.region));
            }
            sources_.push_back("regions and file mappings: /proc/" + std::to_string(process.GetProcessID()) +
                               "/maps");
            return;
        }
    }
    lldb::SBMemoryRegionInfoList list = process.GetMemoryRegions();
    for (std::uint32_t i = 0; i < list.GetSize(); ++i) {
        lldb::SBMemoryRegionInfo info;
        if (!list.GetMemoryRegionAtIndex(i, info) || !info.IsMapped()) continue;
        MemoryRegion region;
        region.start = info.GetRegionBase();
        region.end = info.GetRegionEnd();
        region.readable = info.IsReadable();
        region.writable = info.IsWritable();
        region.executable = info.IsExecutable();
        if (info.GetName() != nullptr) region.name = info.GetName();
        if (region.end > region.start) regions.push_back(std::move(region));
    }
    sources_.push_back("regions: LLDB's memory regions");
    std::sort(regions.begin(), regions.end(),
              [](const MemoryRegion& a, const MemoryRegion& b) { return a.start < b.start; });
    // Keep them disjoint: a region that overlaps the one before it starts where that one ends.
    std::vector<MemoryRegion> disjoint;
    for (MemoryRegion& r : regions) {
        if (!disjoint.empty() && r.start < disjoint.back().end) r.start = disjoint.back().end;
        if (r.end > r.start) disjoint.push_back(std::move(r));
    }
    regions = std::move(disjoint);
}

void LldbTarget::readMappings(lldb::SBTarget& target) {
    // Without /proc: the file mappings LLDB knows, its modules' loaded segments (ELF PT_LOAD).
    for (std::uint32_t i = 0; i < target.GetNumModules(); ++i) {
        lldb::SBModule module = target.GetModuleAtIndex(i);
        const std::string path = pathOf(module.GetFileSpec());
        if (path.empty()) continue;
        for (std::size_t s = 0; s < module.GetNumSections(); ++s) {
            lldb::SBSection section = module.GetSectionAtIndex(s);
            if (section.GetSectionType() != lldb::eSectionTypeContainer || section.GetFileByteSize() == 0)
                continue;
            const lldb::addr_t load = section.GetLoadAddress(target);
            if (load == LLDB_INVALID_ADDRESS) continue;
            mappings_.push_back({load, load + section.GetFileByteSize(), section.GetFileOffset(), path});
        }
    }
    std::sort(
        mappings_.begin(), mappings_.end(),
        [](const gomapcore::FileMapping& a, const gomapcore::FileMapping& b) { return a.start < b.start; });
    sources_.push_back("file mappings: the loaded segments of LLDB's modules");
}

void LldbTarget::readAuxv(lldb::SBTarget& target) {
    if (local_) {
        const std::string text = readTextFile("/proc/" + std::to_string(process_->pid) + "/auxv");
        for (std::size_t at = 0; at + 16 <= text.size(); at += 16) {
            std::uint64_t key = 0, value = 0;
            std::memcpy(&key, text.data() + at, 8);
            std::memcpy(&value, text.data() + at + 8, 8);
            if (key == AT_NULL) break;
            auxv_[key] = value;
        }
        if (!auxv_.empty()) {
            sources_.push_back("auxiliary vector: /proc/" + std::to_string(process_->pid) + "/auxv");
            return;
        }
    }
    // LLDB 19's SB API does not give the auxiliary vector (of a core or a process). What the
    // engine needs of it is AT_ENTRY, where the executable's entry point was loaded, and LLDB
    // knows that from the loaded executable module.
    lldb::SBModule exe = target.GetModuleAtIndex(0);
    if (exe.IsValid()) {
        lldb::SBAddress entry = exe.GetObjectFileEntryPointAddress();
        const lldb::addr_t load = entry.IsValid() ? entry.GetLoadAddress(target) : LLDB_INVALID_ADDRESS;
        if (load != LLDB_INVALID_ADDRESS) auxv_[AT_ENTRY] = load;
    }
    sources_.push_back("auxiliary vector: AT_ENTRY only, from the executable module's loaded entry point");
}

}  // namespace gomapcore_lldb
