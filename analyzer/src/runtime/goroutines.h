// Goroutines as the runtime kept them (runtime.allgs, runtime.allm), and their stacks unwound
// the way the runtime's own traceback does it (src/runtime/traceback.go): from the frame size
// the pc-sp table gives at each pc, never from guesses.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/architecture.h"
#include "binary/go_symbols.h"
#include "binary/struct_fields.h"
#include "binary/types.h"
#include "gomapcore/memory.h"
#include "gomapcore/target.h"

namespace gomapcore {

struct StackFrame {
    std::uint64_t pc = 0;  // as the runtime prints it: a return address except for trap frames
    std::uint64_t sp = 0;
    std::uint64_t fp =
        0;  // the CFA (the runtime's "fp="): sp + frame size, + the pushed return address on amd64
    const GoFunction* function = nullptr;  // nullptr when pc is in no Go function
    // The pc looked up for file and line: pc-1 for a return address (runtime tracepc).
    std::uint64_t symbolPc = 0;
    std::vector<SourceFrame> source;  // innermost first; inlined calls expanded

    // src/runtime/traceback.go resolveInternal: varp is the CFA, below the return address on
    // amd64, and below the saved frame pointer in a frame that has one (amd64 and arm64 both
    // keep frame pointers); argp is the CFA plus sys.MinFrameSize (arm64's saved LR slot).
    std::uint64_t varp = 0;
    std::uint64_t argp = 0;
    // Where a stack object of this frame's function lies: negative offsets count from varp,
    // the others from argp (src/runtime/stack.go stackObjectRecord).
    std::uint64_t addressOf(const StackObject& object) const {
        return object.offset < 0
                   ? varp - static_cast<std::uint64_t>(-static_cast<std::int64_t>(object.offset))
                   : argp + static_cast<std::uint64_t>(object.offset);
    }
};

struct Goroutine {
    std::uint64_t address = 0;  // the runtime.g
    std::int64_t id = 0;        // goid
    std::uint32_t status = 0;   // atomicstatus without the _Gscan bit
    std::string state;          // as the runtime prints it: "running", "chan receive", ...
    std::uint64_t stackLo = 0, stackHi = 0;
    std::uint64_t m = 0;            // the runtime.m running it, or 0
    std::optional<int> thread;      // the OS thread (tid) running it
    bool onCrashingThread = false;  // running on the thread that took the fatal signal
    bool system = false;            // a runtime goroutine (runtime isSystemGoroutine)
    std::uint64_t startPc = 0;      // the go statement's function
    std::uint64_t schedPc = 0;      // g.sched.pc: where it resumes (startPc if it never ran)
    // Where g.sched.ctxt lies: the closure pointer it resumes with, a GC root (src/runtime/mgcmark.go
    // scanstack). A goroutine that never ran holds its start closure there (proc.go newproc1,
    // gostartcallfn). 0 when the DWARF does not describe the field.
    std::uint64_t contextSlot = 0;
    std::uint64_t creatorPc = 0;            // gopc: where the go statement was
    std::optional<std::int64_t> creatorId;  // parentGoid (Go 1.21+)
    std::vector<StackFrame> frames;         // innermost first
    std::string unwindProblem;              // why unwinding stopped early, if it did
};

// Where the goroutine machinery's fields lie: runtime.g, runtime.m, runtime.gobuf and
// runtime.stack (golang/go src/runtime/runtime2.go), from DWARF.
struct GoroutineLayout {
    FieldSlot gStack, gSched, gAtomicstatus, gGoid, gM, gStartpc, gGopc, gParentGoid, gWaitreason, gSyscallsp,
        gSyscallpc;
    FieldSlot mProcid, mCurg, mG0, mGsignal, mAlllink, mCaughtsig, mId;
    FieldSlot gobufPc, gobufSp, gobufCtxt, gobufLr;
    FieldSlot stackLo, stackHi;
};

// The runtime structs behind goroutines, described once (binary/struct_fields.h). parentGoid
// exists from Go 1.21.
inline constexpr FieldSpec<GoroutineLayout> kGFields[] = {
    {"stack", "", &GoroutineLayout::gStack, true},
    {"sched", "", &GoroutineLayout::gSched, true},
    {"atomicstatus", "", &GoroutineLayout::gAtomicstatus, false},
    {"goid", "", &GoroutineLayout::gGoid, false},
    {"m", "", &GoroutineLayout::gM, false},
    {"startpc", "", &GoroutineLayout::gStartpc, false},
    {"gopc", "", &GoroutineLayout::gGopc, false},
    {"parentGoid", "", &GoroutineLayout::gParentGoid, false},
    {"waitreason", "", &GoroutineLayout::gWaitreason, false},
    {"syscallsp", "", &GoroutineLayout::gSyscallsp, false},
    {"syscallpc", "", &GoroutineLayout::gSyscallpc, false},
};
inline constexpr FieldSpec<GoroutineLayout> kMFields[] = {
    {"procid", "", &GoroutineLayout::mProcid, false},
    {"curg", "", &GoroutineLayout::mCurg, false},
    {"g0", "", &GoroutineLayout::mG0, false},
    {"gsignal", "", &GoroutineLayout::mGsignal, false},
    {"alllink", "", &GoroutineLayout::mAlllink, false},
    {"caughtsig", "", &GoroutineLayout::mCaughtsig, false},
    {"id", "", &GoroutineLayout::mId, false},
};
inline constexpr FieldSpec<GoroutineLayout> kGobufFields[] = {
    {"pc", "", &GoroutineLayout::gobufPc, true},
    {"sp", "", &GoroutineLayout::gobufSp, true},
    {"ctxt", "", &GoroutineLayout::gobufCtxt, false},
    {"lr", "", &GoroutineLayout::gobufLr, false},
};
inline constexpr FieldSpec<GoroutineLayout> kStackFields[] = {
    {"lo", "", &GoroutineLayout::stackLo, true},
    {"hi", "", &GoroutineLayout::stackHi, true},
};

// What the kernel handed a signal handler, read from the siginfo of the rt_sigframe the handler
// ran on (Linux include/uapi/asm-generic/siginfo.h: si_signo, si_errno, si_code, then for a
// signal a process sent with kill/tgkill/sigqueue, si_code <= 0, the sender's si_pid, si_uid).
struct HandledSignal {
    int signo = 0;
    int code = 0;
    std::optional<int> senderPid, senderUid;             // only for a signal a process sent
    std::optional<std::uint64_t> faultAddress;           // only for a fault the kernel raised (si_code > 0)
    std::string interruptedFunction;                     // where the signal found the thread
    std::uint64_t interruptedPc = 0, interruptedSp = 0;  // its registers then (the signal context)
    std::uint64_t interruptedLr = 0;                     // arm64: its link register then
};

// An OS thread the runtime ran as an M (src/runtime/runtime2.go type m), as the core left it.
struct RuntimeThread {
    int tid = 0;
    std::optional<std::int64_t> mId;  // m.id, the traceback's "m=N"
    std::uint64_t m = 0;
    std::uint64_t curg = 0;  // m.curg: the user goroutine the M runs (0 when idle)
    // m.caughtsig: the g that was running when the M's handler took a signal it treats as
    // fatal (set in runtime.sighandler before fatalsignal prints it first); 0 when none.
    std::uint64_t caughtsig = 0;
    std::optional<std::int64_t> caughtGoroutine;  // its goid (0 for the M's own g0)
    bool caughtOnSystemStack = false;             // caughtsig is the M's g0 or gsignal
    // The signal frames on the thread's system and signal stacks, innermost first: a thread
    // still inside runtime.sighandler (the runtime's crash path sleeps and re-raises there).
    std::vector<HandledSignal> signals;
    // The thread's own frames from its registers, as far as they stay on its g0 and signal
    // stacks: where a throw on the system stack (the scheduler, the GC) was raised.
    std::vector<StackFrame> systemFrames;
};

struct StackBounds {
    std::uint64_t lo = 0, hi = 0;  // [lo, hi), as runtime.stack
};

struct UnwindLimits {
    std::size_t maxFrames = 1024;
};

class GoroutineTable {
  public:
    // Reads runtime.allgs and runtime.allm; threads give the registers of goroutines that
    // were on a CPU. Returns nullptr with a note when the runtime's lists cannot be read.
    static std::unique_ptr<GoroutineTable> load(const Memory& memory, const Architecture& architecture,
                                                TypeTable& types, std::uint64_t globalsBias,
                                                const GoSymbols& symbols,
                                                const std::vector<ThreadState>& threads,
                                                std::vector<std::string>& notes,
                                                const UnwindLimits& limits = {});

    const std::vector<Goroutine>& goroutines() const { return goroutines_; }
    const Goroutine* byId(std::int64_t id) const;
    const Goroutine* byAddress(std::uint64_t g) const;
    // The goroutine that was running on the thread that took the fatal signal, if any.
    const Goroutine* crashing() const;
    // Every thread the runtime ran as an M and the core holds registers for, in allm order.
    const std::vector<RuntimeThread>& threads() const { return threads_; }

  private:
    std::vector<Goroutine> goroutines_;
    std::vector<RuntimeThread> threads_;
};

// Where unwinding starts: a thread's registers, a signal context, or a goroutine's saved ones.
struct UnwindStart {
    std::uint64_t pc = 0, sp = 0;
    // The link register, where the architecture has one and it is known (a thread's registers, a
    // signal context, gobuf.lr): the return address of an innermost function without a frame.
    std::uint64_t lr = 0;
    // pc is the interrupted instruction (registers of a stopped thread), not a return address.
    bool trap = false;
};

// Unwinds from start, innermost first, through signal frames, as long as frames stay on one of
// stacks.
std::vector<StackFrame> unwindStack(const Memory& memory, const GoSymbols& symbols,
                                    const Architecture& architecture, UnwindStart start,
                                    const std::vector<StackBounds>& stacks, const UnwindLimits& limits,
                                    std::string& problem);

}  // namespace gomapcore
