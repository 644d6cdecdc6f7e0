#include "binary/go_symbols.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace gomapcore {

namespace {

// The pclntab header magics (src/internal/abi/symtab.go, src/runtime/symtab.go).
constexpr std::uint32_t kMagicGo118 = 0xfffffff0;  // Go 1.18 and 1.19
constexpr std::uint32_t kMagicGo120 = 0xfffffff1;  // Go 1.20 and later

// Stable since Go 1.12 (src/internal/abi/symtab.go PCDATA_InlTreeIndex, FUNCDATA_InlTree);
// read from DWARF when the linker emitted them, these are the fallbacks.
constexpr std::uint32_t kPcdataInlTreeIndex = 2;
constexpr std::uint32_t kFuncdataInlTree = 3;
constexpr std::uint32_t kFuncdataStackObjects = 2;
constexpr std::uint64_t kMaxStackObjects = 4096;

// Bounds against a corrupt module: no Go program has tables this large.
constexpr std::uint64_t kMaxTableBytes = 1ull << 31;
constexpr std::uint64_t kMaxFunctions = 1ull << 24;
constexpr int kMaxInlineDepth = 64;

std::optional<std::uint64_t> fieldOffset(const Type* type, std::string_view name) {
    if (type == nullptr) return std::nullopt;
    const Field* field = type->field(name);
    if (field == nullptr) return std::nullopt;
    return field->offset;
}

template <typename T>
T loadLE(const std::vector<std::byte>& bytes, std::uint64_t offset) {
    T value{};
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

// Reads a Go slice header {ptr, len, cap} and the bytes it points at.
std::optional<std::vector<std::byte>> readSlice(const Reader& reader, std::uint64_t address,
                                                std::uint64_t elementSize,
                                                std::uint64_t* dataAddress = nullptr) {
    auto ptr = reader.u64(address);
    auto len = reader.u64(address + 8);
    if (!ptr || !len || *len > kMaxTableBytes / elementSize) return std::nullopt;
    if (dataAddress != nullptr) *dataAddress = *ptr;
    return reader.bytes(*ptr, *len * elementSize);
}

// Reads an unsigned LEB128 varint as runtime.readvarint does.
bool readVarint(const std::vector<std::byte>& table, std::uint64_t& position, std::uint32_t& value) {
    value = 0;
    for (std::uint32_t shift = 0; shift < 35; shift += 7) {
        if (position >= table.size()) return false;
        auto byte = static_cast<std::uint32_t>(table[position++]);
        value |= (byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) return true;
    }
    return false;
}

std::string_view cString(const std::vector<std::byte>& table, std::uint64_t offset) {
    if (offset >= table.size()) return {};
    const char* begin = reinterpret_cast<const char*>(table.data()) + offset;
    const void* nul = std::memchr(begin, 0, table.size() - offset);
    if (nul == nullptr) return {};
    return std::string_view(begin, static_cast<const char*>(nul) - begin);
}

}  // namespace

std::optional<std::int32_t> GoSymbols::pcValue(const std::vector<std::byte>& table, std::uint32_t offset,
                                               std::uint64_t entry, std::uint64_t targetPc,
                                               std::uint32_t pcQuantum) {
    // runtime.pcvalue / runtime.step: pairs of (zig-zag value delta, pc delta) varints; the
    // value holds for pcs below the running pc; a zero value delta after the first pair ends
    // the table.
    if (offset == 0 || offset >= table.size()) return std::nullopt;
    std::uint64_t position = offset;
    std::uint64_t pc = entry;
    std::int32_t value = -1;
    bool first = true;
    for (int steps = 0; steps < (1 << 24); ++steps) {
        std::uint32_t valueDelta = 0, pcDelta = 0;
        if (!readVarint(table, position, valueDelta)) return std::nullopt;
        if (valueDelta == 0 && !first) return std::nullopt;  // end of table before targetPc
        value += static_cast<std::int32_t>(-(valueDelta & 1) ^ (valueDelta >> 1));
        if (!readVarint(table, position, pcDelta)) return std::nullopt;
        pc += static_cast<std::uint64_t>(pcDelta) * pcQuantum;
        first = false;
        if (targetPc < pc) return value;
    }
    return std::nullopt;
}

std::unique_ptr<GoSymbols> GoSymbols::load(const Memory& memory, TypeTable& types, std::uint64_t globalsBias,
                                           std::vector<std::string>& notes) {
    const GlobalVariable* module = types.global("runtime.firstmoduledata");
    const Type* moduleType = module != nullptr ? module->type->underlying() : nullptr;
    const Type* funcType = types.byName("runtime._func");
    if (moduleType == nullptr || funcType == nullptr) {
        notes.push_back(
            "no runtime.firstmoduledata or runtime._func in DWARF: cannot decode the Go symbol table");
        return nullptr;
    }
    Reader reader(memory);
    const std::uint64_t moduleAddress = module->address + globalsBias;
    auto symbols = std::unique_ptr<GoSymbols>(new GoSymbols());
    symbols->memory_ = &memory;
    ModuledataLayout m;
    if (!resolveFields<ModuledataLayout>(moduleType, kModuledataFields, m)) {
        notes.push_back("runtime.moduledata lacks pcHeader or text: unsupported Go version");
        return nullptr;
    }
    auto offsetOf = [](const FieldSlot& slot) {
        return slot.present ? std::optional<std::uint64_t>(slot.offset) : std::nullopt;
    };
    auto pcHeader = reader.u64(moduleAddress + m.pcHeader.offset);
    auto text = reader.u64(moduleAddress + m.text.offset);
    if (!pcHeader || !text) {
        notes.push_back("runtime.firstmoduledata is not captured in the core");
        return nullptr;
    }
    auto magic = reader.u32(*pcHeader);
    auto minLC = reader.u8(*pcHeader + 6);
    if (!magic || (*magic != kMagicGo118 && *magic != kMagicGo120)) {
        notes.push_back(
            fmt::format("unsupported pclntab magic {:#x} (Go 1.18 or later is needed)", magic.value_or(0)));
        return nullptr;
    }
    symbols->magic_ = *magic;
    symbols->pcQuantum_ = minLC.value_or(1) == 0 ? 1 : *minLC;
    symbols->text_ = *text;
    if (auto gofunc = offsetOf(m.gofunc)) {
        auto value = reader.u64(moduleAddress + *gofunc);
        if (!value) {
            notes.push_back("runtime.firstmoduledata.gofunc is not captured");
            return nullptr;
        }
        symbols->hasGofunc_ = true;
        symbols->gofunc_ = *value;
    }
    if (auto rodata = offsetOf(m.rodata)) symbols->rodata_ = reader.u64(moduleAddress + *rodata);

    struct SliceField {
        const char* name;
        const FieldSlot& slot;
        std::vector<std::byte>* out;
        std::uint64_t elementSize;
    };
    std::uint64_t ftabAddress = 0;
    for (const SliceField& slice : {SliceField{"funcnametab", m.funcnametab, &symbols->funcnametab_, 1},
                                    SliceField{"cutab", m.cutab, &symbols->cutab_, 4},
                                    SliceField{"filetab", m.filetab, &symbols->filetab_, 1},
                                    SliceField{"pctab", m.pctab, &symbols->pctab_, 1},
                                    SliceField{"pclntable", m.pclntable, &symbols->pclntable_, 1}}) {
        const auto& [name, slot, out, elementSize] = slice;
        auto field = offsetOf(slot);
        std::optional<std::vector<std::byte>> bytes;
        std::uint64_t dataAddress = 0;
        if (field) bytes = readSlice(reader, moduleAddress + *field, elementSize, &dataAddress);
        if (out == &symbols->pclntable_) symbols->pclntableAddress_ = dataAddress;
        if (!bytes) {
            notes.push_back(fmt::format("runtime.firstmoduledata.{} is missing or not captured", name));
            return nullptr;
        }
        *out = std::move(*bytes);
    }
    // ftab: nfunc+1 entries of {entryoff, funcoff uint32} (runtime.functab since Go 1.18).
    auto ftabField = offsetOf(m.ftab);
    std::optional<std::vector<std::byte>> ftab;
    if (ftabField) ftab = readSlice(reader, moduleAddress + *ftabField, 8, &ftabAddress);
    if (!ftab || ftab->size() < 16 || ftab->size() / 8 > kMaxFunctions) {
        notes.push_back("runtime.firstmoduledata.ftab is missing, empty or not captured");
        return nullptr;
    }

    auto funcField = [&](std::initializer_list<const char*> names) -> std::optional<std::uint64_t> {
        for (const char* name : names)
            if (auto offset = fieldOffset(funcType, name)) return offset;
        return std::nullopt;
    };
    auto nameOff = funcField({"nameOff", "nameoff"});
    auto pcsp = funcField({"pcsp"});
    auto pcfile = funcField({"pcfile"});
    auto pcln = funcField({"pcln"});
    auto npcdata = funcField({"npcdata"});
    auto cuOffset = funcField({"cuOffset"});
    auto flag = funcField({"flag"});
    auto nfuncdata = funcField({"nfuncdata"});
    if (!nameOff || !pcsp || !pcfile || !pcln || !npcdata || !cuOffset || !flag || !nfuncdata) {
        notes.push_back("runtime._func has an unknown shape in DWARF");
        return nullptr;
    }
    symbols->func_ = {*nameOff, *pcsp,      *pcfile,
                      *pcln,    *npcdata,   *cuOffset,
                      *flag,    *nfuncdata, funcType->underlying()->byteSize()};
    if (const Type* inl = types.byName("runtime.inlinedCall")) {
        symbols->inlined_.size = inl->underlying()->byteSize();
        symbols->inlined_.nameOff = fieldOffset(inl, "nameOff");
        if (!symbols->inlined_.nameOff) symbols->inlined_.nameOff = fieldOffset(inl, "func_");
        symbols->inlined_.parentPc = fieldOffset(inl, "parentPc");
    }

    std::size_t count = ftab->size() / 8 - 1;
    symbols->functions_.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        auto entryOff = loadLE<std::uint32_t>(*ftab, i * 8);
        auto funcOff = loadLE<std::uint32_t>(*ftab, i * 8 + 4);
        auto nextEntryOff = loadLE<std::uint32_t>(*ftab, (i + 1) * 8);
        GoFunction function;
        function.entry = *text + entryOff;
        function.end = *text + nextEntryOff;
        function.funcOffset = funcOff;
        if (auto rec = symbols->record(function)) {
            function.name = symbols->nameAt(rec->nameOff);
            // abi.FuncFlag bits (src/internal/abi/symtab.go): TopFrame 1, SPWrite 2.
            function.topFrame = (rec->flag & 1) != 0;
            function.spWrite = (rec->flag & 2) != 0;
        }
        symbols->functions_.push_back(function);
    }
    if (!std::is_sorted(symbols->functions_.begin(), symbols->functions_.end(),
                        [](const GoFunction& a, const GoFunction& b) { return a.entry < b.entry; })) {
        notes.push_back("the Go function table is not sorted by entry: corrupt module data");
        return nullptr;
    }
    return symbols;
}

const GoFunction* GoSymbols::functionAt(std::uint64_t pc) const {
    auto it = std::upper_bound(functions_.begin(), functions_.end(), pc,
                               [](std::uint64_t value, const GoFunction& f) { return value < f.entry; });
    if (it == functions_.begin()) return nullptr;
    --it;
    if (pc >= it->end) return nullptr;
    return &*it;
}

const GoFunction* GoSymbols::functionNamed(std::string_view name) const {
    for (const GoFunction& function : functions_)
        if (function.name == name) return &function;
    return nullptr;
}

std::optional<GoSymbols::FuncRecord> GoSymbols::record(const GoFunction& function) const {
    std::uint64_t base = function.funcOffset;
    if (base + func_.size > pclntable_.size()) return std::nullopt;
    FuncRecord rec;
    rec.nameOff = loadLE<std::int32_t>(pclntable_, base + func_.nameOff);
    rec.pcsp = loadLE<std::uint32_t>(pclntable_, base + func_.pcsp);
    rec.pcfile = loadLE<std::uint32_t>(pclntable_, base + func_.pcfile);
    rec.pcln = loadLE<std::uint32_t>(pclntable_, base + func_.pcln);
    rec.npcdata = loadLE<std::uint32_t>(pclntable_, base + func_.npcdata);
    rec.cuOffset = loadLE<std::uint32_t>(pclntable_, base + func_.cuOffset);
    rec.flag = loadLE<std::uint8_t>(pclntable_, base + func_.flag);
    rec.nfuncdata = loadLE<std::uint8_t>(pclntable_, base + func_.nfuncdata);
    // The pcdata offsets follow nfuncdata, the last field (src/runtime/runtime2.go _func).
    rec.pcdataStart = base + func_.nfuncdata + 1;
    return rec;
}

std::string_view GoSymbols::nameAt(std::int64_t offset) const {
    if (offset < 0) return {};
    return cString(funcnametab_, static_cast<std::uint64_t>(offset));
}

std::string_view GoSymbols::fileAt(std::uint32_t cuOffset, std::int32_t fileIndex) const {
    // runtime.funcfile: cutab[cuOffset + fileno] is the file's offset in filetab.
    if (fileIndex < 0) return {};
    std::uint64_t index = static_cast<std::uint64_t>(cuOffset) + static_cast<std::uint64_t>(fileIndex);
    if ((index + 1) * 4 > cutab_.size()) return {};
    auto fileOffset = loadLE<std::uint32_t>(cutab_, index * 4);
    if (fileOffset == 0xffffffff) return {};
    return cString(filetab_, fileOffset);
}

std::optional<std::int64_t> GoSymbols::spDelta(const GoFunction& function, std::uint64_t pc) const {
    auto rec = record(function);
    if (!rec) return std::nullopt;
    auto value = pcValue(pctab_, rec->pcsp, function.entry, pc, pcQuantum_);
    if (!value) return std::nullopt;
    return *value;
}

std::optional<SourceFrame> GoSymbols::position(const GoFunction& function, std::uint64_t pc) const {
    auto rec = record(function);
    if (!rec) return std::nullopt;
    auto fileIndex = pcValue(pctab_, rec->pcfile, function.entry, pc, pcQuantum_);
    auto line = pcValue(pctab_, rec->pcln, function.entry, pc, pcQuantum_);
    if (!fileIndex || !line) return std::nullopt;
    SourceFrame frame;
    frame.function = function.name;
    frame.file = fileAt(rec->cuOffset, *fileIndex);
    frame.line = *line;
    return frame;
}

std::optional<std::uint32_t> GoSymbols::pcdataOffset(const FuncRecord& rec, std::uint32_t index) const {
    if (index >= rec.npcdata) return std::nullopt;
    std::uint64_t at = rec.pcdataStart + 4ull * index;
    if (at + 4 > pclntable_.size()) return std::nullopt;
    return loadLE<std::uint32_t>(pclntable_, at);
}

std::optional<std::uint64_t> GoSymbols::funcdataAddress(const GoFunction& function, const FuncRecord& rec,
                                                        std::uint32_t index) const {
    if (index >= rec.nfuncdata) return std::nullopt;
    std::uint64_t start = rec.pcdataStart + 4ull * rec.npcdata;
    if (!hasGofunc_) {
        // Go 1.18: pointer-sized absolute addresses, 8-aligned in memory
        // (src/runtime/symtab.go @go1.18 funcdata).
        if ((pclntableAddress_ + start) % 8 != 0) start += 4;
        std::uint64_t at = start + 8ull * index;
        if (at + 8 > pclntable_.size()) return std::nullopt;
        auto address = loadLE<std::uint64_t>(pclntable_, at);
        if (address == 0) return std::nullopt;
        return address;
    }
    // Go 1.19+: 32-bit offsets from moduledata.gofunc; ^0 means none
    // (src/runtime/symtab.go @go1.19 funcdata).
    std::uint64_t at = start + 4ull * index;
    if (at + 4 > pclntable_.size()) return std::nullopt;
    auto offset = loadLE<std::uint32_t>(pclntable_, at);
    if (offset == 0xffffffff) return std::nullopt;
    (void)function;
    return gofunc_ + offset;
}

std::vector<StackObject> GoSymbols::stackObjects(const GoFunction& function) const {
    // A uintptr count followed by 16-byte records {off, size int32; ptrdata int32; gcdataoff
    // uint32} (src/runtime/stack.go getStackMap, stackObjectRecord), unchanged since Go 1.18.
    std::vector<StackObject> objects;
    auto rec = record(function);
    if (!rec) return objects;
    auto address = funcdataAddress(function, *rec, kFuncdataStackObjects);
    if (!address) return objects;
    Reader reader(*memory_);
    auto count = reader.u64(*address);
    if (!count || *count > kMaxStackObjects) return objects;
    auto bytes = reader.bytes(*address + 8, *count * 16);
    if (!bytes) return objects;
    for (std::uint64_t i = 0; i < *count; ++i) {
        StackObject object;
        std::memcpy(&object.offset, bytes->data() + i * 16, 4);
        std::memcpy(&object.size, bytes->data() + i * 16 + 4, 4);
        std::memcpy(&object.pointerBytes, bytes->data() + i * 16 + 8, 4);
        std::memcpy(&object.gcdataOffset, bytes->data() + i * 16 + 12, 4);
        objects.push_back(object);
    }
    return objects;
}

std::optional<GoSymbols::LivePointers> GoSymbols::livePointers(const GoFunction& function,
                                                               std::uint64_t pc) const {
    // src/internal/abi/symtab.go: PCDATA_StackMapIndex selects the bitmap of the function's
    // FUNCDATA_ArgsPointerMaps and FUNCDATA_LocalsPointerMaps, each a runtime.stackmap
    // {n, nbit int32; bytedata [n][(nbit+7)/8]byte} (src/runtime/symtab.go stackmapdata).
    constexpr std::uint32_t kPcdataStackMapIndex = 1;
    constexpr std::uint32_t kFuncdataArgsPointerMaps = 0, kFuncdataLocalsPointerMaps = 1;
    constexpr std::int32_t kMaxBits = 1 << 24;  // a frame of 128 MiB; larger is damage
    auto rec = record(function);
    if (!rec) return std::nullopt;
    auto table = pcdataOffset(*rec, kPcdataStackMapIndex);
    if (!table) return std::nullopt;
    auto index = pcValue(pctab_, *table, function.entry, pc, pcQuantum_);
    if (!index || *index < 0) return std::nullopt;
    Reader reader(*memory_);
    auto bitmap = [&](std::uint32_t which) -> std::optional<std::vector<bool>> {
        auto address = funcdataAddress(function, *rec, which);
        if (!address) return std::vector<bool>{};  // no map: nothing of this kind is live
        auto count = reader.u32(*address);
        auto bits = reader.u32(*address + 4);
        if (!count || !bits) return std::nullopt;
        auto n = static_cast<std::int32_t>(*count), nbit = static_cast<std::int32_t>(*bits);
        if (nbit == 0) return std::vector<bool>{};
        if (n <= 0 || nbit < 0 || nbit > kMaxBits || *index >= n) return std::nullopt;
        const std::uint64_t rowBytes = (static_cast<std::uint64_t>(nbit) + 7) / 8;
        auto row = reader.bytes(*address + 8 + static_cast<std::uint64_t>(*index) * rowBytes, rowBytes);
        if (!row) return std::nullopt;
        std::vector<bool> live(static_cast<std::size_t>(nbit));
        for (std::size_t w = 0; w < live.size(); ++w)
            live[w] = (std::to_integer<unsigned>((*row)[w / 8]) >> (w % 8)) & 1;
        return live;
    };
    auto locals = bitmap(kFuncdataLocalsPointerMaps);
    auto args = bitmap(kFuncdataArgsPointerMaps);
    if (!locals || !args) return std::nullopt;
    return LivePointers{std::move(*locals), std::move(*args)};
}

std::optional<std::vector<bool>> GoSymbols::pointerWords(const StackObject& object) const {
    // gcdata is a ptrmask: bit i (LSB first) of byte i/8 says whether word i is a pointer
    // (src/runtime/stack.go scanframeworker / stackObjectRecord.gcdata; src/cmd/compile
    // internal/liveness emitStackObjects writes it with objw.BitVec).
    // A frame is at most a few MiB; a larger claim is damage, not a bitmap to allocate.
    constexpr std::int32_t kMaxPointerBytes = 1 << 24;
    if (!rodata_ || object.pointerBytes < 0 || object.size < 0 || object.pointerBytes > object.size ||
        object.pointerBytes > kMaxPointerBytes)
        return std::nullopt;
    const std::size_t words = static_cast<std::size_t>(object.pointerBytes) / 8;
    std::vector<bool> pointers(words);
    if (words == 0) return pointers;
    auto mask = Reader(*memory_).bytes(*rodata_ + object.gcdataOffset, (words + 7) / 8);
    if (!mask) return std::nullopt;
    for (std::size_t w = 0; w < words; ++w)
        pointers[w] = (std::to_integer<unsigned>((*mask)[w / 8]) >> (w % 8)) & 1;
    return pointers;
}

std::vector<SourceFrame> GoSymbols::sourceFrames(const GoFunction& function, std::uint64_t pc) const {
    std::vector<SourceFrame> frames;
    auto rec = record(function);
    if (!rec) return frames;
    // The inline unwinder (src/runtime/symtabinl.go newInlineUnwinder/next): the inline tree
    // index at pc names the innermost inlined call; its parentPc is a pc in the caller at the
    // call site, where the index of the next level is looked up; file and line at each level
    // come from the physical function's tables at that level's pc.
    std::optional<std::uint64_t> tree;
    std::optional<std::uint32_t> indexTable;
    if (inlined_.size != 0 && inlined_.nameOff && inlined_.parentPc) {
        tree = funcdataAddress(function, *rec, kFuncdataInlTree);
        indexTable = pcdataOffset(*rec, kPcdataInlTreeIndex);
    }
    Reader reader(*memory_);
    std::uint64_t at = pc;
    for (int depth = 0; depth < kMaxInlineDepth; ++depth) {
        std::optional<std::int32_t> index;
        if (tree && indexTable) index = pcValue(pctab_, *indexTable, function.entry, at, pcQuantum_);
        auto here = position(function, at);
        SourceFrame frame = here.value_or(SourceFrame{function.name, {}, 0, false});
        if (!index || *index < 0) {
            frame.function = function.name;
            frames.push_back(frame);
            return frames;
        }
        std::uint64_t record = *tree + static_cast<std::uint64_t>(*index) * inlined_.size;
        auto nameOff = reader.readValue<std::int32_t>(record + *inlined_.nameOff);
        auto parentPc = reader.readValue<std::int32_t>(record + *inlined_.parentPc);
        if (!nameOff || !parentPc) {
            frame.function = function.name;
            frames.push_back(frame);
            return frames;
        }
        frame.function = nameAt(*nameOff);
        frame.inlined = true;
        frames.push_back(frame);
        at = function.entry + static_cast<std::uint32_t>(*parentPc);
    }
    return frames;
}

}  // namespace gomapcore
