// Go's own function table (the "pclntab"), read from the running module's
// runtime.firstmoduledata: function names and bounds, PC→file:line, the stack-pointer delta at
// every PC (which is how Go unwinds without frame-pointer guesses), and inlined calls.
//
// Decoders follow golang/go src/runtime/symtab.go (findfunc, pcvalue, step, funcline1,
// funcfile, funcdata, pcdatavalue) and src/runtime/symtabinl.go (inline unwinder). The table
// format changed in Go 1.18 (entry offsets, magic 0xfffffff0), in Go 1.19 (funcdata as 32-bit
// offsets from moduledata.gofunc) and in Go 1.20 (magic 0xfffffff1, inlinedCall reshaped);
// all are handled. Struct layouts
// (moduledata, _func, inlinedCall) come from DWARF.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "binary/struct_fields.h"
#include "binary/types.h"
#include "gomapcore/memory.h"

namespace gomapcore {

// Where runtime.moduledata's fields lie (golang/go src/runtime/symtab.go): the pclntab's parts,
// the text base and the type section, from DWARF.
struct ModuledataLayout {
    FieldSlot pcHeader, text, gofunc, rodata, funcnametab, cutab, filetab, pctab, pclntable, ftab, types;
};

// runtime.moduledata, described once (binary/struct_fields.h): the slices are read as
// {data, len} at their offset. gofunc exists from Go 1.20.
inline constexpr FieldSpec<ModuledataLayout> kModuledataFields[] = {
    {"pcHeader", "", &ModuledataLayout::pcHeader, true},
    {"text", "", &ModuledataLayout::text, true},
    {"gofunc", "", &ModuledataLayout::gofunc, false},
    {"rodata", "", &ModuledataLayout::rodata, false},
    {"funcnametab", "", &ModuledataLayout::funcnametab, false},
    {"cutab", "", &ModuledataLayout::cutab, false},
    {"filetab", "", &ModuledataLayout::filetab, false},
    {"pctab", "", &ModuledataLayout::pctab, false},
    {"pclntable", "", &ModuledataLayout::pclntable, false},
    {"ftab", "", &ModuledataLayout::ftab, false},
    {"types", "", &ModuledataLayout::types, false},
};

struct GoFunction {
    std::uint64_t entry = 0;
    std::uint64_t end = 0;         // the next function's entry (exclusive)
    std::uint32_t funcOffset = 0;  // offset of its _func record in pclntable
    std::string_view name;
    // abi.FuncFlagTopFrame: nothing calls it (goexit, mstart, rt0_go); unwinding ends here.
    bool topFrame = false;
    // abi.FuncFlagSPWrite: it writes SP arbitrarily (systemstack, mcall, morestack); the frame
    // above it cannot be found from the pc-sp table.
    bool spWrite = false;
};

// An address-taken local the compiler placed in a frame (runtime.stackObjectRecord): the GC
// scans it precisely, so the runtime lists it even when DWARF says nothing about it.
struct StackObject {
    std::int32_t offset = 0;  // negative: from the frame's varp; otherwise from its argp
    std::int32_t size = 0;
    std::int32_t pointerBytes = 0;   // bytes that hold pointers (negative: a GC program)
    std::uint32_t gcdataOffset = 0;  // its pointer bitmap, from moduledata.rodata
};

// One source-level frame at a PC: the physical function, or a call inlined into it.
struct SourceFrame {
    std::string_view function;
    std::string_view file;
    std::int64_t line = 0;
    bool inlined = false;  // a call the compiler inlined into the physical function
};

class GoSymbols {
  public:
    // Reads the tables through memory (the pclntab lives in read-only data, which a core backs
    // with the executable's own bytes). Returns nullptr, with a reason in notes, when the
    // module data is missing or implausible.
    // globalsBias: the load bias to add to DWARF addresses of globals (PIE builds).
    static std::unique_ptr<GoSymbols> load(const Memory& memory, TypeTable& types, std::uint64_t globalsBias,
                                           std::vector<std::string>& notes);

    std::size_t functionCount() const { return functions_.size(); }
    std::uint32_t magic() const { return magic_; }
    const GoFunction* functionAt(std::uint64_t pc) const;
    const GoFunction* functionNamed(std::string_view name) const;

    // The distance from SP to the top of the frame at pc (runtime.funcspdelta).
    std::optional<std::int64_t> spDelta(const GoFunction& function, std::uint64_t pc) const;
    // The source position of pc in the physical function (no inline expansion).
    std::optional<SourceFrame> position(const GoFunction& function, std::uint64_t pc) const;
    // Source frames at pc, innermost first, the inlined calls expanded as the runtime's
    // traceback prints them; the last entry is the physical function.
    std::vector<SourceFrame> sourceFrames(const GoFunction& function, std::uint64_t pc) const;

    // The stack objects of a function (FUNCDATA_StackObjects, src/runtime/stack.go
    // stackObjectRecord); empty when it has none or they are not captured.
    std::vector<StackObject> stackObjects(const GoFunction& function) const;
    // Which words of a stack object hold pointers, as the GC scans it: one flag per word of
    // its first pointerBytes bytes (src/runtime/stack.go stackObjectRecord.gcdata). nullopt
    // when the bitmap is not captured or the object uses a GC program.
    std::optional<std::vector<bool>> pointerWords(const StackObject& object) const;

    // Which words of a frame hold live pointers at pc, as the garbage collector scans it
    // (src/runtime/stkframe.go getStackMap, src/runtime/mgcmark.go scanframeworker): the
    // locals bitmap covers the locals.size() words just below varp, the args bitmap the
    // words from argp. pc is the frame's symbol pc (a return address minus one). nullopt
    // when the function has no maps or they are not captured.
    struct LivePointers {
        std::vector<bool> locals, args;
    };
    std::optional<LivePointers> livePointers(const GoFunction& function, std::uint64_t pc) const;

    // Decodes a pc-value table (runtime.pcvalue). Public for unit tests.
    static std::optional<std::int32_t> pcValue(const std::vector<std::byte>& table, std::uint32_t offset,
                                               std::uint64_t entry, std::uint64_t targetPc,
                                               std::uint32_t pcQuantum);

  private:
    struct FuncRecord {
        std::int32_t nameOff = 0;
        std::uint32_t pcsp = 0, pcfile = 0, pcln = 0, npcdata = 0, cuOffset = 0;
        std::uint8_t flag = 0;
        std::uint8_t nfuncdata = 0;
        std::uint64_t pcdataStart = 0;  // offset in pclntable of the pcdata offsets
    };
    std::optional<FuncRecord> record(const GoFunction& function) const;
    std::optional<std::uint32_t> pcdataOffset(const FuncRecord& record, std::uint32_t index) const;
    std::optional<std::uint64_t> funcdataAddress(const GoFunction& function, const FuncRecord& record,
                                                 std::uint32_t index) const;
    std::string_view nameAt(std::int64_t offset) const;
    std::string_view fileAt(std::uint32_t cuOffset, std::int32_t fileIndex) const;

    const Memory* memory_ = nullptr;
    std::uint32_t magic_ = 0;
    std::uint32_t pcQuantum_ = 1;
    std::uint64_t text_ = 0;
    std::uint64_t gofunc_ = 0;
    bool hasGofunc_ = false;               // Go 1.19+: funcdata are offsets from moduledata.gofunc
    std::optional<std::uint64_t> rodata_;  // moduledata.rodata: base of stack object bitmaps
    std::uint64_t pclntableAddress_ = 0;
    std::vector<std::byte> funcnametab_, cutab_, filetab_, pctab_, pclntable_;
    std::vector<GoFunction> functions_;
    // _func field offsets (DWARF runtime._func).
    struct {
        std::uint64_t nameOff, pcsp, pcfile, pcln, npcdata, cuOffset, flag, nfuncdata, size;
    } func_{};
    // runtime.inlinedCall, whose fields changed in Go 1.20.
    struct {
        std::uint64_t size = 0;
        std::optional<std::uint64_t> nameOff, parentPc;
    } inlined_;
};

}  // namespace gomapcore
