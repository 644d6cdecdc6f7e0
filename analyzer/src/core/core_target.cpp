#include "core/core_target.h"

namespace gomapcore {

ThreadState threadStateOf(const CoreThread& thread) {
    const Amd64Registers& r = thread.registers;
    ThreadState state;
    state.tid = thread.tid;
    state.signal = thread.signal;
    state.pc = r.rip;
    state.sp = r.rsp;
    state.framePointer = r.rbp;
    state.registers = {{"rax", r.rax}, {"rbx", r.rbx},       {"rcx", r.rcx},        {"rdx", r.rdx},
                       {"rsi", r.rsi}, {"rdi", r.rdi},       {"rbp", r.rbp},        {"rsp", r.rsp},
                       {"r8", r.r8},   {"r9", r.r9},         {"r10", r.r10},        {"r11", r.r11},
                       {"r12", r.r12}, {"r13", r.r13},       {"r14", r.r14},        {"r15", r.r15},
                       {"rip", r.rip}, {"eflags", r.eflags}, {"fs_base", r.fsBase}, {"gs_base", r.gsBase}};
    return state;
}

CoreTarget::CoreTarget(std::unique_ptr<CoreFile> core) : core_(std::move(core)), memory_(*core_) {
    for (const CoreThread& thread : core_->threads())
        threads_.push_back(threadStateOf(thread));
}

std::vector<MemoryRegion> CoreTarget::regions() const {
    std::vector<MemoryRegion> out;
    for (const CoreSegment& segment : core_->segments())
        if (auto region = memory_.regionAt(segment.vaddr)) out.push_back(*region);
    return out;
}

TargetDescription CoreTarget::description() const {
    TargetDescription description{"core", core_->path(), core_->architecture(), core_->truncated(), {}};
    if (core_->decompression()) description.notes.push_back(describeDecompression(*core_->decompression()));
    return description;
}

std::unique_ptr<Target> Target::openCore(const std::string& path, std::uint64_t maxDecompressedBytes) {
    return std::make_unique<CoreTarget>(CoreFile::open(path, maxDecompressedBytes));
}

}  // namespace gomapcore
