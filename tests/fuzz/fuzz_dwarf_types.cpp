// Fuzz target: the DWARF-derived type and map-layout reader, on mutated Go executables.
//
// Inputs are whole executables. A custom mutator keeps the file size and mutates mostly
// inside the .debug_* sections (build the seeds with -ldflags=-compressdwarf=false so that
// the mutations reach libdw's parser and ours, not zlib), so that runs are not spent on ELF
// headers the executable reader rejects at once.
#include <elf.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "binary/executable.h"
#include "binary/types.h"
#include "fuzz_input_file.h"
#include "gomapcore/error.h"
#include "maps/map_layout.h"

using namespace gomapcore;

namespace {

volatile std::size_t sink;

// Visits a type tree to a bounded depth so that every resolved DIE is touched.
std::size_t touch(const Type* type, int depth) {
    if (type == nullptr || depth > 6) return 0;
    std::size_t n = type->name.size() + type->byteSize();
    if (const Type* u = type->underlying()) n += static_cast<std::size_t>(u->tag);
    n += touch(type->target, depth + 1) + touch(type->key, depth + 1) + touch(type->elem, depth + 1);
    std::size_t fields = 0;
    for (const auto& f : type->fields) {
        if (++fields > 64) break;
        n += f.offset + touch(f.type, depth + 1);
    }
    return n;
}

struct FileRange {
    std::size_t offset = 0;
    std::size_t size = 0;
};

// File ranges of the .debug_* sections of a 64-bit little-endian ELF; empty if the section
// headers cannot be read.
std::vector<FileRange> debugSections(const std::uint8_t* data, std::size_t size) {
    std::vector<FileRange> ranges;
    if (size < sizeof(Elf64_Ehdr)) return ranges;
    Elf64_Ehdr eh;
    std::memcpy(&eh, data, sizeof eh);
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_shentsize != sizeof(Elf64_Shdr)) return ranges;
    if (eh.e_shoff > size || eh.e_shnum > (size - eh.e_shoff) / sizeof(Elf64_Shdr)) return ranges;
    if (eh.e_shstrndx >= eh.e_shnum) return ranges;
    Elf64_Shdr names;
    std::memcpy(&names, data + eh.e_shoff + eh.e_shstrndx * sizeof(Elf64_Shdr), sizeof names);
    for (unsigned i = 0; i < eh.e_shnum; ++i) {
        Elf64_Shdr sh;
        std::memcpy(&sh, data + eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof sh);
        if (sh.sh_type == SHT_NOBITS || sh.sh_offset > size || sh.sh_size > size - sh.sh_offset) continue;
        if (names.sh_offset > size || sh.sh_name >= names.sh_size || names.sh_offset + sh.sh_name + 8 > size)
            continue;
        const char* name = reinterpret_cast<const char*>(data + names.sh_offset + sh.sh_name);
        if (std::strncmp(name, ".debug_", 7) == 0 && sh.sh_size > 0)
            ranges.push_back({sh.sh_offset, sh.sh_size});
    }
    return ranges;
}

}  // namespace

// Provided by libFuzzer; the plain replay driver never calls the custom mutator.
extern "C" __attribute__((weak)) std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size,
                                                              std::size_t maxSize);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t maxSize,
                                               unsigned int seed) {
    std::minstd_rand random(seed);
    std::vector<FileRange> ranges = debugSections(data, size);
    if (ranges.empty() || random() % 16 == 0) return LLVMFuzzerMutate(data, size, maxSize);
    // Mutate a window of at most 512 bytes inside one debug section; the size stays the same,
    // so the section headers stay valid and the mutation reaches the DWARF readers.
    const FileRange& range = ranges[random() % ranges.size()];
    std::size_t window = std::min<std::size_t>(range.size, 1 + random() % 512);
    std::size_t start = range.offset + random() % (range.size - window + 1);
    std::vector<std::uint8_t> scratch(data + start, data + start + window);
    std::size_t mutated = LLVMFuzzerMutate(scratch.data(), window, window);
    std::memcpy(data + start, scratch.data(), std::min(mutated, window));
    return size;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::InputFile input(data, size);
    if (!input.ok()) return 0;
    std::unique_ptr<Executable> exe;
    try {
        exe = Executable::open(input.path());
    } catch (const Error&) {
        return 0;
    }
    std::size_t n = exe->goVersion().size() + exe->segments().size();
    try {
        TypeTable types(exe->dwarf());
        LayoutCatalog layouts(types);
        for (const auto& global : types.globals())
            n += global.address + touch(global.type, 0);
        for (const char* name :
             {"runtime.hmap", "runtime.bmap", "internal/runtime/maps.Map", "internal/runtime/maps.table",
              "runtime.g", "runtime.m", "runtime.moduledata", "runtime.mspan", "runtime.mheap",
              "runtime.eface", "runtime.iface"})
            n += touch(types.byName(name), 0);
        for (const std::string& name : types.mapTypeNames()) {
            const Type* mapType = types.byName(name);
            std::string why;
            if (const MapTypeLayout* layout = layouts.layoutFor(mapType, &why))
                n += layout->keySize + layout->elemSize + layout->keySlot(0x1000, 7) +
                     layout->elemSlot(0x1000, 7);
            n += why.size();
        }
        if (auto c = types.constant("internal/runtime/maps.maxTableCapacity"))
            n += static_cast<std::size_t>(*c);
    } catch (const Error&) {
        // A DWARF reader may refuse what it cannot make sense of, but only with an Error.
    }
    sink = n;
    return 0;
}
