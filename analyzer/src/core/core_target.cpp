#include "core/core_target.h"

#include <elf.h>

#include <array>
#include <cstring>
#include <fstream>
#include <span>

namespace gomapcore {

ThreadState threadStateOf(const CoreThread& thread, const Architecture& architecture) {
    ThreadState state;
    state.tid = thread.tid;
    state.signal = thread.signal;
    const auto& r = thread.registers;
    if (r.size() != architecture.registerNames.size()) return state;
    state.pc = r[architecture.pcRegister];
    state.sp = r[architecture.spRegister];
    state.framePointer = r[architecture.framePointerRegister];
    if (architecture.linkRegister) state.linkRegister = r[*architecture.linkRegister];
    for (std::size_t i = 0; i < r.size(); ++i)
        state.registers.push_back({std::string(architecture.registerNames[i]), r[i]});
    return state;
}

CoreTarget::CoreTarget(std::unique_ptr<CoreFile> core) : core_(std::move(core)), memory_(*core_) {
    for (const CoreThread& thread : core_->threads())
        threads_.push_back(threadStateOf(thread, core_->architecture()));
}

std::vector<MemoryRegion> CoreTarget::regions() const {
    std::vector<MemoryRegion> out;
    for (const CoreSegment& segment : core_->segments())
        if (auto region = memory_.regionAt(segment.vaddr)) out.push_back(*region);
    return out;
}

TargetDescription CoreTarget::description() const {
    TargetDescription description{
        "core", core_->path(), std::string(core_->architecture().name), core_->truncated(), {}};
    if (core_->decompression()) description.notes.push_back(describeDecompression(*core_->decompression()));
    return description;
}

bool Target::looksLikeCore(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::array<char, EI_NIDENT + 2> head{};
    in.read(head.data(), head.size());
    auto bytes = std::as_bytes(std::span<const char>(head.data(), static_cast<std::size_t>(in.gcount())));
    if (detectCompression(bytes) != Compression::None) return true;
    // e_type is the little-endian half-word after e_ident.
    return bytes.size() == head.size() && std::memcmp(head.data(), ELFMAG, SELFMAG) == 0 &&
           head[EI_NIDENT] == ET_CORE && head[EI_NIDENT + 1] == 0;
}

std::unique_ptr<Target> Target::openCore(const std::string& path, std::uint64_t maxDecompressedBytes) {
    return std::make_unique<CoreTarget>(CoreFile::open(path, maxDecompressedBytes));
}

}  // namespace gomapcore
