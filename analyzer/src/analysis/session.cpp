#include "analysis/session.h"

#include <elf.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <span>

#include "gomapcore/error.h"
#include "maps/walkers.h"

namespace gomapcore {
namespace {

// Compares the parts of the ELF header page that identify a build: the ELF header's identity
// and entry, every program header's placement, and any note (Go and GNU build IDs) the page
// holds. Section headers are left out on purpose: strip and objcopy rewrite them (and a
// writable segment's file size), so a core of a stripped binary must still match the
// unstripped executable. Returns "" when they agree, else what differs.
std::string headerPageDifference(std::span<const std::byte> dumped, std::span<const std::byte> file) {
    Elf64_Ehdr a{}, b{};
    if (dumped.size() < sizeof a) return "the dumped page is too short for an ELF header";
    std::memcpy(&a, dumped.data(), sizeof a);
    std::memcpy(&b, file.data(), sizeof b);
    if (std::memcmp(a.e_ident, b.e_ident, EI_NIDENT) != 0 || a.e_type != b.e_type ||
        a.e_machine != b.e_machine || a.e_version != b.e_version || a.e_flags != b.e_flags)
        return "the ELF identity differs";
    if (a.e_entry != b.e_entry)
        return fmt::format("the entry point differs ({:#x} vs {:#x})", a.e_entry, b.e_entry);
    if (a.e_phoff != b.e_phoff || a.e_phnum != b.e_phnum || a.e_phentsize != b.e_phentsize)
        return "the program header table differs";
    if (a.e_phentsize != sizeof(Elf64_Phdr) ||
        a.e_phoff + std::uint64_t{a.e_phnum} * sizeof(Elf64_Phdr) > dumped.size())
        return "";  // the table is not in the page: nothing more to compare here
    for (std::uint16_t i = 0; i < a.e_phnum; ++i) {
        Elf64_Phdr p{}, q{};
        std::memcpy(&p, dumped.data() + a.e_phoff + i * sizeof p, sizeof p);
        std::memcpy(&q, file.data() + a.e_phoff + i * sizeof q, sizeof q);
        bool writable = (p.p_flags & PF_W) != 0;
        if (p.p_type != q.p_type || p.p_offset != q.p_offset || p.p_vaddr != q.p_vaddr ||
            p.p_memsz != q.p_memsz || p.p_flags != q.p_flags || (!writable && p.p_filesz != q.p_filesz))
            return fmt::format("program header {} differs", i);
        if (p.p_type == PT_NOTE && p.p_offset + p.p_filesz <= dumped.size() &&
            std::memcmp(dumped.data() + p.p_offset, file.data() + p.p_offset, p.p_filesz) != 0)
            return fmt::format("the build ID note at file offset {:#x} differs", p.p_offset);
    }
    return "";
}

// internal/abi.Type (src/internal/abi/type.go), runtime._type before Go 1.21 with lower-case
// field names, described once (binary/struct_fields.h).
struct AbiTypeLayout {
    FieldSlot size, ptrBytes, tflag, kind, gcData, str;
};
constexpr FieldSpec<AbiTypeLayout> kAbiTypeFields[] = {
    {"Size_", "size", &AbiTypeLayout::size, true},
    {"PtrBytes", "ptrdata", &AbiTypeLayout::ptrBytes, true},
    {"TFlag", "tflag", &AbiTypeLayout::tflag, true},
    {"Kind_", "kind", &AbiTypeLayout::kind, true},
    {"GCData", "gcdata", &AbiTypeLayout::gcData, true},
    {"Str", "str", &AbiTypeLayout::str, true},
};

std::optional<AbiTypeLayout> abiTypeLayout(TypeTable& types) {
    const Type* type = types.byName("internal/abi.Type");
    if (type == nullptr) type = types.byName("runtime._type");
    AbiTypeLayout layout;
    if (type == nullptr || !resolveFields<AbiTypeLayout>(type, kAbiTypeFields, layout)) return std::nullopt;
    for (const FieldSlot* slot :
         {&layout.size, &layout.ptrBytes, &layout.tflag, &layout.kind, &layout.gcData, &layout.str})
        if (slot->size < 1 || slot->size > 8) return std::nullopt;
    return layout;
}

}  // namespace

bool runtimeInternal(std::string_view name) {
    return name.rfind("runtime.", 0) == 0 || name.rfind("internal/runtime/", 0) == 0;
}

Session::Session(std::unique_ptr<Target> target, std::unique_ptr<Executable> executable)
    : target_(std::move(target)), executable_(std::move(executable)) {
    const std::string targetArchitecture = target_->description().architecture;
    if (!targetArchitecture.empty() && targetArchitecture != executable_->architecture().name)
        throw Error(Error::Code::ExecutableMismatch,
                    fmt::format("executable {} is an {} program and the core is of an {} process",
                                executable_->path(), executable_->architecture().name, targetArchitecture));
    if (executable_->positionIndependent()) {
        auto entry = target_->auxv().find(AT_ENTRY);
        if (entry == target_->auxv().end())
            throw Error(
                Error::Code::ExecutableMismatch,
                "the executable is position-independent and the core has no AT_ENTRY to find where it was "
                "loaded");
        loadBias_ = entry->second - executable_->entry();
    }
    memory_ = std::make_unique<ExecutableBackedMemory>(target_->memory(), *executable_, loadBias_,
                                                       target_->fileMappings());
    verifyExecutableMatchesTarget();
    types_ = std::make_unique<TypeTable>(executable_->dwarf());
    layouts_ = std::make_unique<LayoutCatalog>(*types_);
    detectProgramLayout();
}

void Session::matchSegmentsWithoutFileMappings() {
    // A core without NT_FILE (qemu-user's, some minimal dumpers') does not say which file a
    // mapping holds, and may not have dumped the ELF header page either: the executable's
    // loadable segments must then each begin a mapping of the core, with the same permissions,
    // and a read-only one end where the segment's last page does (the kernel's elf_map maps
    // PT_LOADs page by page; a writable one goes on into its bss, which may be mapped apart).
    std::uint64_t pageSize = 4096;
    if (auto found = target_->auxv().find(AT_PAGESZ);
        found != target_->auxv().end() && found->second >= 4096 && (found->second & (found->second - 1)) == 0)
        pageSize = found->second;
    const Memory& captured = target_->memory();
    std::size_t matched = 0;
    for (const ExecutableSegment& segment : executable_->segments()) {
        if (segment.memSize == 0) continue;
        const std::uint64_t start = (segment.vaddr + loadBias_) & ~(pageSize - 1);
        const std::uint64_t end =
            (segment.vaddr + loadBias_ + segment.memSize + pageSize - 1) & ~(pageSize - 1);
        std::optional<MemoryRegion> region = captured.regionAt(start);
        std::string why;
        if (!region || region->start != start)
            why = fmt::format("no mapping of the core begins at {:#x}", start);
        else if (region->writable != segment.writable || region->executable != segment.executable)
            why = fmt::format("the mapping at {:#x} is {}{}{}, the segment {}{}", start,
                              region->readable ? "r" : "-", region->writable ? "w" : "-",
                              region->executable ? "x" : "-", segment.writable ? "writable" : "read-only",
                              segment.executable ? " and executable" : "");
        else if (!segment.writable && region->end != end)
            why = fmt::format("the mapping at {:#x} ends at {:#x}, the segment at {:#x}", start, region->end,
                              end);
        // What the core did dump of a read-only segment must be the executable's own bytes
        // (qemu-user dumps .rodata, where the type descriptors and pclntab of another build
        // would differ).
        if (why.empty() && !segment.writable && segment.fileSize > 0) {
            std::vector<std::byte> dumped(std::min<std::uint64_t>(segment.fileSize, 64 << 10));
            ReadResult read = captured.read(segment.vaddr + loadBias_, dumped);
            auto fileBytes = executable_->fileBytes(segment.fileOffset, read.bytesRead);
            if (read.bytesRead > 0 && (fileBytes.size() != read.bytesRead ||
                                       !std::equal(fileBytes.begin(), fileBytes.end(), dumped.begin())))
                why = fmt::format("the {} bytes the core dumped at {:#x} are not the executable's",
                                  read.bytesRead, segment.vaddr + loadBias_);
        }
        if (!why.empty())
            throw Error(Error::Code::ExecutableMismatch,
                        fmt::format("executable {} does not match the core, which has no file mappings (no "
                                    "NT_FILE note): its segment at {:#x} does not fit: {}",
                                    executable_->path(), segment.vaddr + loadBias_, why));
        ++matched;
    }
    notes_.push_back(fmt::format(
        "the core has no file mappings (no NT_FILE note): the executable's {} loadable "
        "segments were matched against the core's mappings by address, size and permissions, and the "
        "read-only bytes it dumped against the file",
        matched));
}

void Session::verifyExecutableMatchesTarget() {
    if (target_->fileMappings().empty()) matchSegmentsWithoutFileMappings();
    // The kernel dumps the first page of an ELF mapping (coredump_filter bit 4, "ELF headers"),
    // which holds the ELF header, program headers and Go build ID note. Compare it byte for
    // byte with the executable's file.
    const ExecutableSegment* first = nullptr;
    for (const auto& s : executable_->segments())
        if (s.fileOffset == 0 && s.fileSize > 0) first = &s;
    if (first == nullptr) {
        notes_.push_back(
            "could not verify that the executable matches the core: no segment maps file offset 0");
        return;
    }
    std::uint64_t address = first->vaddr + loadBias_;
    std::uint64_t length = std::min<std::uint64_t>(first->fileSize, 4096);
    std::vector<std::byte> dumped(length);
    // Only what the target itself holds: the executable's own bytes would always match.
    const Memory& captured = target_->memory();
    ReadResult read = captured.read(address, dumped);
    if (read.bytesRead == 0) {
        if (captured.classify(address) == AddressState::Unmapped)
            throw Error(
                Error::Code::ExecutableMismatch,
                fmt::format("executable {} does not match the core: the core has no mapping at {:#x}, where "
                            "the executable's first segment is loaded",
                            executable_->path(), address));
        notes_.push_back(
            fmt::format("could not verify that the executable matches the core: the core did not "
                        "capture the ELF header page at {:#x}",
                        address));
        return;
    }
    auto fileBytes = executable_->fileBytes(0, read.bytesRead);
    std::string difference =
        fileBytes.size() == read.bytesRead
            ? headerPageDifference(std::span<const std::byte>(dumped.data(), read.bytesRead), fileBytes)
            : "the executable file is shorter than its first segment";
    if (!difference.empty())
        throw Error(
            Error::Code::ExecutableMismatch,
            fmt::format("executable {} does not match the core: in the ELF header page the kernel dumped "
                        "at {:#x}, {} (another build?)",
                        executable_->path(), address, difference));
}

void Session::detectProgramLayout() {
    if (!types_->hasDwarf())
        throw Error(Error::Code::NotGoProgram,
                    executable_->path() +
                        " has no DWARF debug information (stripped); gomapcore needs it to decode maps");
    // Layout selection from DWARF shape, not the version string: the runtime's own map header
    // type exists only for the implementation the binary was built with.
    if (types_->byName("runtime.hmap") != nullptr) {
        programLayout_ = MapLayoutKind::Classic;
    } else if (types_->byName("internal/runtime/maps.Map") != nullptr) {
        programLayout_ = MapLayoutKind::Swiss;
    } else {
        throw Error(Error::Code::NotGoProgram,
                    executable_->path() +
                        ": its DWARF has neither runtime.hmap nor internal/runtime/maps.Map; is it a Go "
                        "program?");
    }
}

const GoSymbols* Session::symbols() {
    if (!symbols_) symbols_ = GoSymbols::load(*memory_, *types_, loadBias_, notes_);
    return symbols_->get();
}

const GoroutineTable* Session::goroutines() {
    if (!goroutines_) {
        const GoSymbols* table = symbols();
        goroutines_ = table == nullptr ? nullptr
                                       : GoroutineTable::load(*memory_, architecture(), *types_, loadBias_,
                                                              *table, target_->threads(), notes_);
    }
    return goroutines_->get();
}

const HeapModel* Session::heap() {
    if (!heap_) {
        auto model = HeapModel::load(*memory_, *types_, loadBias_, notes_);
        heap_ = model ? std::make_unique<HeapModel>(std::move(*model)) : nullptr;
    }
    return heap_->get();
}

const FrameVariables& Session::frameVariables() {
    if (!frameVariables_) frameVariables_ = std::make_unique<FrameVariables>(executable_->dwarf(), *types_);
    return *frameVariables_;
}

const ClosureLayout* Session::closureAt(std::uint64_t codePointer) {
    auto memo = closures_.find(codePointer);
    if (memo != closures_.end()) return memo->second ? &*memo->second : nullptr;
    std::optional<ClosureLayout>& layout = closures_[codePointer];
    const GoSymbols* functions = symbols();
    const GoFunction* function = functions != nullptr ? functions->functionAt(codePointer) : nullptr;
    // A funcval's code pointer is a function's entry (src/runtime/runtime2.go funcval).
    if (function != nullptr && function->entry == codePointer)
        layout = frameVariables().closureLayout(*function);
    return layout ? &*layout : nullptr;
}

const Type* Session::mapHeaderType() {
    return types_->byName(programLayout_ == MapLayoutKind::Classic ? "runtime.hmap"
                                                                   : "internal/runtime/maps.Map");
}

MapResult Session::walk(std::uint64_t address, const Type* mapType, const WalkLimits& limits) {
    std::string why;
    const MapTypeLayout* layout = layouts_->layoutFor(mapType, &why);
    if (layout == nullptr) {
        MapResult result;
        result.address = address;
        result.root.address = address;
        result.root.findings.push_back(Finding{rules::kHeaderImplausible, Severity::Warning, address, address,
                                               "cannot decode this map type: " + why});
        return result;
    }
    return walkMap(*memory_, *layout, address, limits);
}

const Type* Session::dynamicType(std::uint64_t descriptor) {
    RuntimeTypeInfo info = runtimeType(descriptor);
    return info.name.empty() ? nullptr : types_->byName(info.name);
}

std::optional<RuntimeTypeShape> Session::runtimeTypeShape(std::uint64_t descriptor) {
    auto memo = typeShapes_.find(descriptor);
    if (memo != typeShapes_.end()) return memo->second;
    std::optional<RuntimeTypeShape>& shape = typeShapes_[descriptor];
    // src/internal/abi/type.go: Size_, PtrBytes (the prefix that can hold pointers) and GCData,
    // a bitmask of PtrBytes/8 bits, except that before Go 1.24 KindGCProg in Kind_ makes it a GC
    // program, and from Go 1.24 TFlagGCMaskOnDemand in TFlag makes it a **byte whose target the
    // runtime builds on first use (runtime/type.go getGCMask). runtime._type (Go < 1.21) spells
    // the fields size, ptrdata, gcdata, kind, tflag.
    std::optional<AbiTypeLayout> abi = abiTypeLayout(*types_);
    if (!abi || abi->size.size != 8 || abi->ptrBytes.size != 8 || abi->gcData.size != 8) return shape;
    Reader reader(*memory_);
    auto bytes = reader.u64(descriptor + abi->size.offset);
    auto pointerBytes = reader.u64(descriptor + abi->ptrBytes.offset);
    if (!bytes || !pointerBytes || *pointerBytes > *bytes) return shape;
    shape = RuntimeTypeShape{*bytes, std::nullopt};
    // A mask longer than this is not read (1 MiB of pointer words).
    constexpr std::uint64_t kMaxMaskWords = std::uint64_t{1} << 17;
    const std::uint64_t words = *pointerBytes / 8;
    if (words > kMaxMaskWords) return shape;
    auto mask = reader.u64(descriptor + abi->gcData.offset);
    if (!mask) return shape;
    std::optional<std::int64_t> gcProg = types_->constant("internal/abi.KindGCProg");
    if (!gcProg) gcProg = types_->constant("runtime.kindGCProg");
    std::optional<std::int64_t> onDemand = types_->constant("internal/abi.TFlagGCMaskOnDemand");
    // Without either flag's value a program or an indirection cannot be told from a mask.
    if (!gcProg && !onDemand) return shape;
    if (gcProg) {
        auto k = reader.unsignedOfSize(descriptor + abi->kind.offset, abi->kind.size);
        if (!k || (*k & static_cast<std::uint64_t>(*gcProg)) != 0) return shape;
    }
    if (onDemand) {
        auto flags = reader.unsignedOfSize(descriptor + abi->tflag.offset, abi->tflag.size);
        if (!flags) return shape;
        if ((*flags & static_cast<std::uint64_t>(*onDemand)) != 0) {
            mask = reader.u64(*mask);
            // Not built yet (nil), or being built (the address of runtime.inProgress).
            if (!mask || *mask == 0) return shape;
            if (const GlobalVariable* busy = types_->global("runtime.inProgress");
                busy != nullptr && *mask == busy->address + loadBias_)
                return shape;
        }
    }
    if (words == 0) {
        shape->pointerWords = std::vector<bool>{};
        return shape;
    }
    if (*mask == 0) return shape;
    auto maskBytes = reader.bytes(*mask, (words + 7) / 8);
    if (!maskBytes) return shape;
    std::vector<bool> flags(words);
    for (std::uint64_t w = 0; w < words; ++w)
        flags[w] = ((std::to_integer<unsigned>((*maskBytes)[w / 8]) >> (w % 8)) & 1) != 0;
    while (!flags.empty() && !flags.back())
        flags.pop_back();
    shape->pointerWords = std::move(flags);
    return shape;
}

RuntimeTypeInfo Session::runtimeType(std::uint64_t descriptor) {
    // src/internal/abi/type.go Type (runtime._type before Go 1.21): Kind_ & KindMask is the
    // kind; Str is a NameOff into moduledata.types; a name starts with a flags byte and a
    // varint length (abi.Name); TFlagExtraStar means the stored name has a leading '*' to drop.
    RuntimeTypeInfo info;
    Reader reader(*memory_);
    std::optional<AbiTypeLayout> abi = abiTypeLayout(*types_);
    const GlobalVariable* module = types_->global("runtime.firstmoduledata");
    if (!abi || module == nullptr) return info;
    ModuledataLayout moduleFields;
    resolveFields<ModuledataLayout>(module->type->underlying(), kModuledataFields, moduleFields);
    if (!moduleFields.types.present || abi->str.size != 4) return info;
    if (auto k = reader.u8(descriptor + abi->kind.offset)) info.kind = static_cast<GoKind>(*k & 0x1f);
    auto nameOff = reader.readValue<std::int32_t>(descriptor + abi->str.offset);
    auto flags = reader.u8(descriptor + abi->tflag.offset);
    auto base = reader.u64(module->address + loadBias_ + moduleFields.types.offset);
    if (!nameOff || !flags || !base) return info;
    std::uint64_t at = *base + static_cast<std::uint64_t>(static_cast<std::int64_t>(*nameOff)) + 1;
    std::uint64_t length = 0;
    for (int shift = 0; shift < 28; shift += 7) {
        auto byte = reader.u8(at++);
        if (!byte) return info;
        length |= static_cast<std::uint64_t>(*byte & 0x7f) << shift;
        if ((*byte & 0x80) == 0) break;
    }
    if (length == 0 || length > 4096) return info;
    auto bytes = reader.bytes(at, length);
    if (!bytes) return info;
    info.name.assign(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    constexpr std::uint8_t kTFlagExtraStar = 1 << 1;
    if ((*flags & kTFlagExtraStar) != 0 && !info.name.empty() && info.name[0] == '*') info.name.erase(0, 1);
    return info;
}

}  // namespace gomapcore
