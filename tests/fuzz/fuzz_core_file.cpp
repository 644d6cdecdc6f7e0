// Fuzz target: the ELF core and note parser, the decompression of compressed cores, and the
// memory view built on them.
//
// Any byte string must either parse into a CoreFile or raise gomapcore::Error; reads through
// CoreMemory must stay inside the file and report what they could not fill.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/core_file.h"
#include "core/core_memory.h"
#include "fuzz_input_file.h"
#include "gomapcore/error.h"

using namespace gomapcore;

namespace {
volatile std::size_t sink;
constexpr std::uint64_t kFuzzMaxDecompressedBytes = std::uint64_t{64} << 20;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::InputFile input(data, size);
    if (!input.ok()) return 0;
    std::unique_ptr<CoreFile> core;
    try {
        // A mutated zstd, lz4 or xz stream is decompressed first (support/compressed_file.cpp is
        // fuzzed through here too); a small output bound keeps each run fast.
        core = CoreFile::open(input.path(), kFuzzMaxDecompressedBytes);
    } catch (const Error&) {
        return 0;
    }
    CoreMemory memory(*core);
    std::vector<std::byte> buffer(256);
    std::size_t checksum = 0;
    for (const auto& segment : core->segments()) {
        // Read at the start, across the end of what was captured, and across the segment's end.
        for (std::uint64_t probe :
             {segment.vaddr, segment.vaddr + segment.capturedSize - 8, segment.end() - 8}) {
            ReadResult result = memory.read(probe, buffer);
            checksum += result.bytesRead;
            checksum += static_cast<std::size_t>(memory.classify(probe));
            if (auto region = memory.regionAt(probe)) checksum += region->name.size();
        }
    }
    for (const auto& thread : core->threads())
        checksum += thread.signal;
    for (const auto& mapping : core->fileMappings())
        checksum += mapping.path.size();
    checksum += core->noteProblems().size() + core->auxv().size();
    sink = checksum;  // keeps the reads from being optimized away
    return 0;
}
