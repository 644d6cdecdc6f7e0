#include "runtime/goroutines.h"

#include <fmt/format.h>

#include <cstddef>

#include <algorithm>
#include <unordered_map>

namespace gomapcore {

namespace {

// Bounds against corrupt runtime lists.
constexpr std::uint64_t kMaxGoroutines = 1ull << 22;
constexpr int kMaxThreads = 1 << 16;
constexpr std::int64_t kMaxFrameSize = 1ll << 30;

// An integer field at base; atomic wrappers (atomic.Uint32{noCopy; value}) read as their size.
// nullopt when the field is absent or not an integer's size, or not captured.
std::optional<std::uint64_t> readField(const Reader& reader, std::uint64_t base, const FieldSlot& slot) {
    if (!slot.present || (slot.size != 1 && slot.size != 2 && slot.size != 4 && slot.size != 8))
        return std::nullopt;
    return reader.unsignedOfSize(base + slot.offset, slot.size);
}

const Type* structNamed(TypeTable& types, std::string_view name) {
    const Type* type = types.byName(name);
    return type == nullptr ? nullptr : type->underlying();
}

// Reads element index of a global [N]string array (runtime.waitReasonStrings,
// runtime.gStatusStrings).
std::optional<std::string> stringArrayElement(const Reader& reader, TypeTable& types, std::uint64_t bias,
                                              std::string_view global, std::uint64_t index) {
    const GlobalVariable* variable = types.global(global);
    if (variable == nullptr) return std::nullopt;
    const Type* array = variable->type->underlying();
    if (array->tag != TypeTag::Array || index >= array->count) return std::nullopt;
    auto data = reader.u64(variable->address + bias + index * 16);
    auto length = reader.u64(variable->address + bias + index * 16 + 8);
    if (!data || !length || *length > 256) return std::nullopt;
    auto bytes = reader.bytes(*data, *length);
    if (!bytes) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

// The signal frames a thread's handler ran on, read from the unwound frames of the thread.
std::vector<HandledSignal> handledSignals(const Reader& reader, const Architecture& architecture,
                                          const std::vector<StackFrame>& frames) {
    constexpr int kSiUser = 0;  // si_code values <= 0 are sent by a process (SI_USER, SI_QUEUE, SI_TKILL)
    std::vector<HandledSignal> signals;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        if (frames[i].function == nullptr || frames[i].function->name != "runtime.sigtramp") continue;
        std::uint64_t info = frames[i].fp + architecture.signalInfoOffset;
        auto signo = reader.u32(info);
        auto code = reader.u32(info + 8);
        if (!signo || !code || *signo == 0 || *signo > 64) continue;  // not a siginfo the kernel wrote
        HandledSignal signal;
        signal.signo = static_cast<int>(*signo);
        signal.code = static_cast<std::int32_t>(*code);
        if (signal.code <= kSiUser) {
            if (auto pid = reader.u32(info + 16)) signal.senderPid = static_cast<std::int32_t>(*pid);
            if (auto uid = reader.u32(info + 20)) signal.senderUid = static_cast<std::int32_t>(*uid);
        } else if (auto address = reader.u64(info + 16)) {
            signal.faultAddress = *address;
        }
        if (architecture.interruptedLinkRegisterOffset)
            signal.interruptedLr =
                reader.u64(frames[i].fp + *architecture.interruptedLinkRegisterOffset).value_or(0);
        if (i + 1 < frames.size()) {
            signal.interruptedPc = frames[i + 1].pc;
            signal.interruptedSp = frames[i + 1].sp;
            if (frames[i + 1].function != nullptr)
                signal.interruptedFunction = std::string(frames[i + 1].function->name);
        }
        signals.push_back(std::move(signal));
    }
    return signals;
}

// src/runtime/traceback.go isSystemGoroutine: a goroutine the runtime started for itself
// (its start function is in package runtime), except runtime.main and the few runtime start
// functions that run user code. The finalizer goroutine counts as a user goroutine while it runs
// a finalizer; that state is not read here, so it is always reported as a system goroutine.
bool isSystemGoroutine(const GoSymbols& symbols, std::uint64_t startPc) {
    const GoFunction* start = symbols.functionAt(startPc);
    if (start == nullptr) return false;
    std::string_view name = start->name;
    if (name == "runtime.main" || name == "runtime.corostart" || name == "runtime.handleAsyncEvent")
        return false;
    return name.rfind("runtime.", 0) == 0;
}

}  // namespace

std::vector<StackFrame> unwindStack(const Memory& memory, const GoSymbols& symbols,
                                    const Architecture& architecture, UnwindStart start,
                                    const std::vector<StackBounds>& stacks, const UnwindLimits& limits,
                                    std::string& problem) {
    // src/runtime/traceback.go (unwinder.resolveInternal, unwinder.next). The CFA is
    // sp + spdelta(pc), plus the return address the call pushed on amd64. The caller's pc is
    // that return address: on amd64 the word below the CFA; on a link-register machine (arm64)
    // the word the prologue saved at the callee's sp, or, for an innermost function without a
    // frame yet, the link register itself. The caller's sp is the CFA. A frame after
    // runtime.sigpanic resumes at the faulting instruction itself.
    std::vector<StackFrame> frames;
    Reader reader(memory);
    std::uint64_t pc = start.pc, sp = start.sp, lr = start.lr;
    bool pcIsTrap = start.trap;
    auto onSomeStack = [&](std::uint64_t address) {
        return std::any_of(stacks.begin(), stacks.end(),
                           [&](const StackBounds& s) { return address > s.lo && address <= s.hi; });
    };
    for (std::size_t n = 0; n < limits.maxFrames; ++n) {
        const GoFunction* function = symbols.functionAt(pc);
        StackFrame frame;
        frame.pc = pc;
        frame.sp = sp;
        frame.function = function;
        if (function == nullptr) {
            frames.push_back(frame);
            problem = fmt::format("pc {:#x} is in no Go function", pc);
            return frames;
        }
        frame.symbolPc = (!pcIsTrap && pc > function->entry) ? pc - 1 : pc;
        frame.source = symbols.sourceFrames(*function, frame.symbolPc);
        auto delta = symbols.spDelta(*function, pc);
        if (!delta || *delta < 0 || *delta > kMaxFrameSize) {
            frames.push_back(frame);
            problem = fmt::format("no frame size for {} at pc {:#x}", function->name, pc);
            return frames;
        }
        frame.fp = sp + static_cast<std::uint64_t>(*delta) + (architecture.usesLinkRegister ? 0 : 8);
        frame.varp = architecture.usesLinkRegister ? frame.fp : frame.fp - 8;
        if (frame.varp > frame.sp) frame.varp -= 8;  // the saved frame pointer
        frame.argp = frame.fp + architecture.minFrameSize;
        frames.push_back(frame);
        if (!onSomeStack(frame.fp)) {
            problem = fmt::format("frame of {} at sp {:#x} leaves every known stack", function->name, sp);
            return frames;
        }
        if (function->name == "runtime.sigtramp") {
            // The kernel entered the signal handler on an rt_sigframe whose ucontext holds the
            // interrupted registers, at fixed offsets from the handler's CFA (the kernel ABI,
            // arch/Architecture.h, not a Go layout).
            auto interruptedPc = reader.u64(frame.fp + architecture.interruptedPcOffset);
            auto interruptedSp = reader.u64(frame.fp + architecture.interruptedSpOffset);
            if (!interruptedPc || !interruptedSp) {
                problem = "the signal frame is not captured";
                return frames;
            }
            pc = *interruptedPc;
            sp = *interruptedSp;
            lr = architecture.interruptedLinkRegisterOffset
                     ? reader.u64(frame.fp + *architecture.interruptedLinkRegisterOffset).value_or(0)
                     : 0;
            pcIsTrap = true;
            continue;
        }
        if (function->topFrame) return frames;
        // Past the innermost frame, an SP-writing function (systemstack, mcall, morestack)
        // means the stack was switched and the pc-sp table says nothing about its caller.
        if (function->spWrite && n > 0) {
            problem = fmt::format("stack switched in {}", function->name);
            return frames;
        }
        std::uint64_t returnSlot = architecture.usesLinkRegister ? frame.sp : frame.fp - 8;
        std::optional<std::uint64_t> returnAddress;
        if (architecture.usesLinkRegister && frame.sp == frame.fp && lr != 0)
            returnAddress = lr;  // no frame yet: the return address is still in the link register
        else
            returnAddress = reader.u64(returnSlot);
        if (!returnAddress) {
            problem = fmt::format("return address at {:#x} is not captured", returnSlot);
            return frames;
        }
        if (*returnAddress == 0) return frames;
        // Calls the signal handler injects into the interrupted code (traceback.go
        // unwinder.next: FuncID_sigpanic, FuncID_asyncPreempt, FuncID_debugCallV2): the frame
        // after them resumes at the interrupted instruction itself.
        const bool injected = function->name == "runtime.sigpanic" ||
                              function->name == "runtime.asyncPreempt" ||
                              function->name == "runtime.debugCallV2";
        pcIsTrap = injected;
        pc = *returnAddress;
        sp = frame.fp;
        lr = 0;
        if (architecture.usesLinkRegister && injected) {
            // The signal handler made the interrupted code look as if it called the injected
            // function, saving that code's link register in a word it pushed first
            // (runtime/signal_arm64.go preparePanic and pushCall; traceback.go unwinder.next).
            auto saved = reader.u64(sp);
            sp += (architecture.minFrameSize + architecture.stackAlign - 1) / architecture.stackAlign *
                  architecture.stackAlign;
            const GoFunction* faulting = symbols.functionAt(pc);
            if (faulting == nullptr) {
                if (saved) pc = *saved;
            } else if (auto faultingDelta = symbols.spDelta(*faulting, pc);
                       faultingDelta && *faultingDelta == 0) {
                lr = saved.value_or(0);
            }
        }
    }
    problem = fmt::format("more than {} frames", limits.maxFrames);
    return frames;
}

std::unique_ptr<GoroutineTable> GoroutineTable::load(const Memory& memory, const Architecture& architecture,
                                                     TypeTable& types, std::uint64_t globalsBias,
                                                     const GoSymbols& symbols,
                                                     const std::vector<ThreadState>& threads,
                                                     std::vector<std::string>& notes,
                                                     const UnwindLimits& limits) {
    Reader reader(memory);
    const Type* gType = structNamed(types, "runtime.g");
    const Type* mType = structNamed(types, "runtime.m");
    const Type* gobufType = structNamed(types, "runtime.gobuf");
    const Type* stackType = structNamed(types, "runtime.stack");
    const GlobalVariable* allgs = types.global("runtime.allgs");
    const GlobalVariable* allm = types.global("runtime.allm");
    if (!gType || !mType || !gobufType || !stackType || !allgs || !allm) {
        notes.push_back("runtime.g, runtime.m or runtime.allgs missing from DWARF: goroutines not listed");
        return nullptr;
    }
    GoroutineLayout f;
    if (!resolveFields<GoroutineLayout>(gType, kGFields, f) ||
        !resolveFields<GoroutineLayout>(mType, kMFields, f) ||
        !resolveFields<GoroutineLayout>(gobufType, kGobufFields, f) ||
        !resolveFields<GoroutineLayout>(stackType, kStackFields, f)) {
        notes.push_back("runtime.g has an unknown shape in DWARF: goroutines not listed");
        return nullptr;
    }
    const std::uint64_t stackField = f.gStack.offset, schedField = f.gSched.offset;
    const std::uint64_t lo = f.stackLo.offset, hi = f.stackHi.offset;
    const std::uint64_t schedPc = f.gobufPc.offset, schedSp = f.gobufSp.offset;
    auto constant = [&](const char* name) { return types.constant(name); };
    const std::int64_t scanBit = constant("runtime._Gscan").value_or(0x1000);
    const auto gWaiting = constant("runtime._Gwaiting");
    const auto gDead = constant("runtime._Gdead");
    const auto gRunning = constant("runtime._Grunning");
    const auto gSyscall = constant("runtime._Gsyscall");
    if (!gWaiting || !gDead || !gRunning || !gSyscall) {
        notes.push_back("goroutine status constants missing from DWARF: goroutines not listed");
        return nullptr;
    }

    // Which OS thread runs which M (m.procid is the tid), and what that thread's registers
    // were: src/runtime/runtime2.go type m.
    struct ThreadOfM {
        const ThreadState* thread;
        std::vector<StackBounds> systemStacks;  // g0's and gsignal's
    };
    auto stackOf = [&](std::uint64_t gAddress) -> std::optional<StackBounds> {
        auto stackLo = reader.u64(gAddress + stackField + lo);
        auto stackHi = reader.u64(gAddress + stackField + hi);
        if (!stackLo || !stackHi || *stackLo >= *stackHi) return std::nullopt;
        return StackBounds{*stackLo, *stackHi};
    };
    std::unordered_map<std::uint64_t, ThreadOfM> threadOfG;  // curg -> thread
    std::vector<RuntimeThread> runtimeThreads;
    const ThreadState* crashingThread = nullptr;
    for (const ThreadState& thread : threads)
        if (thread.signal != 0) {
            crashingThread = &thread;
            break;
        }
    {
        auto address = reader.u64(allm->address + globalsBias);
        for (int n = 0; address && *address != 0 && n < kMaxThreads; ++n) {
            std::uint64_t mAddress = *address;
            auto procid = readField(reader, mAddress, f.mProcid);
            auto curg = readField(reader, mAddress, f.mCurg);
            const ThreadState* thread = nullptr;
            for (const ThreadState& candidate : threads)
                if (procid && static_cast<std::uint64_t>(candidate.tid) == *procid) thread = &candidate;
            if (thread != nullptr) {
                std::vector<StackBounds> systemStacks;
                std::vector<std::uint64_t> systemGs;
                for (const FieldSlot* systemG : {&f.mG0, &f.mGsignal})
                    if (auto systemGAddress = readField(reader, mAddress, *systemG);
                        systemGAddress && *systemGAddress != 0) {
                        systemGs.push_back(*systemGAddress);
                        if (auto bounds = stackOf(*systemGAddress)) systemStacks.push_back(*bounds);
                    }
                if (curg && *curg != 0) threadOfG[*curg] = ThreadOfM{thread, systemStacks};

                RuntimeThread described;
                described.tid = thread->tid;
                described.m = mAddress;
                described.curg = curg.value_or(0);
                if (auto id = readField(reader, mAddress, f.mId))
                    described.mId = static_cast<std::int64_t>(*id);
                if (auto caught = readField(reader, mAddress, f.mCaughtsig); caught && *caught != 0) {
                    described.caughtsig = *caught;
                    if (auto goid = readField(reader, *caught, f.gGoid))
                        described.caughtGoroutine = static_cast<std::int64_t>(*goid);
                    described.caughtOnSystemStack =
                        std::find(systemGs.begin(), systemGs.end(), *caught) != systemGs.end();
                }
                // Only the handler's frames matter here; unwinding stops where the interrupted
                // code's stack begins, which is not among these stacks.
                std::string ignored;
                auto frames = unwindStack(memory, symbols, architecture,
                                          UnwindStart{thread->pc, thread->sp, thread->linkRegister, true},
                                          systemStacks, limits, ignored);
                described.signals = handledSignals(reader, architecture, frames);
                described.systemFrames = std::move(frames);
                runtimeThreads.push_back(std::move(described));
            }
            auto next = readField(reader, mAddress, f.mAlllink);
            if (!next) {
                notes.push_back(
                    fmt::format("runtime.m at {:#x} is not captured: thread list incomplete", mAddress));
                break;
            }
            address = next;
        }
    }

    auto table = std::unique_ptr<GoroutineTable>(new GoroutineTable());
    auto slice = reader.u64(allgs->address + globalsBias);
    auto length = reader.u64(allgs->address + globalsBias + 8);
    if (!slice || !length) {
        notes.push_back("runtime.allgs is not captured: goroutines not listed");
        return nullptr;
    }
    std::uint64_t count = std::min<std::uint64_t>(*length, kMaxGoroutines);
    if (count < *length)
        notes.push_back(
            fmt::format("runtime.allgs claims {} goroutines; listed the first {}", *length, count));
    for (std::uint64_t i = 0; i < count; ++i) {
        auto gAddress = reader.u64(*slice + 8 * i);
        if (!gAddress) {
            notes.push_back(fmt::format("runtime.allgs[{}] is not captured", i));
            continue;
        }
        if (*gAddress == 0) continue;
        auto status = readField(reader, *gAddress, f.gAtomicstatus);
        auto goid = readField(reader, *gAddress, f.gGoid);
        if (!status || !goid) {
            notes.push_back(fmt::format("goroutine at {:#x} is not captured", *gAddress));
            continue;
        }
        std::uint32_t plainStatus =
            static_cast<std::uint32_t>(*status & ~static_cast<std::uint64_t>(scanBit));
        if (plainStatus == *gDead) continue;
        Goroutine goroutine;
        goroutine.address = *gAddress;
        goroutine.id = static_cast<std::int64_t>(*goid);
        goroutine.status = plainStatus;
        goroutine.stackLo = reader.u64(*gAddress + stackField + lo).value_or(0);
        goroutine.stackHi = reader.u64(*gAddress + stackField + hi).value_or(0);
        goroutine.m = readField(reader, *gAddress, f.gM).value_or(0);
        goroutine.startPc = readField(reader, *gAddress, f.gStartpc).value_or(0);
        goroutine.system = isSystemGoroutine(symbols, goroutine.startPc);
        goroutine.creatorPc = readField(reader, *gAddress, f.gGopc).value_or(0);
        if (auto parent = readField(reader, *gAddress, f.gParentGoid))
            goroutine.creatorId = static_cast<std::int64_t>(*parent);
        // The state as runtime.goroutineheader prints it: the wait reason while waiting,
        // else the status name.
        std::optional<std::string> state;
        if (plainStatus == *gWaiting)
            if (auto reason = readField(reader, *gAddress, f.gWaitreason))
                state = stringArrayElement(reader, types, globalsBias, "runtime.waitReasonStrings", *reason);
        if (!state)
            state = stringArrayElement(reader, types, globalsBias, "runtime.gStatusStrings", plainStatus);
        goroutine.state = state.value_or(fmt::format("status {}", plainStatus));

        // Where to start unwinding: a goroutine that was on a CPU at dump time starts from
        // its thread's registers, through the system and signal stacks back to its own stack,
        // unless it had switched to the system stack and saved its registers in g.sched
        // (systemstack, mcall). Every other goroutine starts from g.sched, or from
        // syscallsp/pc in a syscall.
        std::uint64_t pc = reader.u64(*gAddress + schedField + schedPc).value_or(0);
        std::uint64_t sp = reader.u64(*gAddress + schedField + schedSp).value_or(0);
        // gobuf.lr: a link-register machine's return address when the goroutine was switched out
        // before its function saved it (traceback.go initAt(gp.sched.pc, gp.sched.sp, gp.sched.lr)).
        std::uint64_t lr = architecture.usesLinkRegister && f.gobufLr.present && f.gobufLr.size == 8
                               ? reader.u64(*gAddress + schedField + f.gobufLr.offset).value_or(0)
                               : 0;
        goroutine.schedPc = pc;
        if (f.gobufCtxt.present && f.gobufCtxt.size == 8)
            goroutine.contextSlot = *gAddress + schedField + f.gobufCtxt.offset;
        StackBounds own{goroutine.stackLo, goroutine.stackHi};
        std::vector<StackBounds> stacks{own};
        bool trap = false;
        auto onThread = threadOfG.find(*gAddress);
        if (onThread != threadOfG.end() && plainStatus == *gRunning) {
            goroutine.thread = onThread->second.thread->tid;
            goroutine.onCrashingThread = onThread->second.thread == crashingThread;
            const ThreadState& thread = *onThread->second.thread;
            bool userStack = thread.sp >= goroutine.stackLo && thread.sp < goroutine.stackHi;
            if (userStack || sp == 0) {
                pc = thread.pc;
                sp = thread.sp;
                lr = thread.linkRegister;
                trap = true;
                stacks.insert(stacks.end(), onThread->second.systemStacks.begin(),
                              onThread->second.systemStacks.end());
            }
        }
        if (plainStatus == *gSyscall) {
            auto syscallSp = readField(reader, *gAddress, f.gSyscallsp);
            auto syscallPc = readField(reader, *gAddress, f.gSyscallpc);
            if (syscallSp && syscallPc && *syscallSp != 0) {
                pc = *syscallPc;
                sp = *syscallSp;
                lr = 0;
            }
        }
        // The goroutine the fatal signal interrupted (m.caughtsig) is unwound from the signal's
        // context, as the runtime's own first listing of it is (fatalsignal: tracebacktrap with
        // the signal pc and sp): for a goroutine in a system call that is the instruction in the
        // raw syscall, a few frames inside where entersyscall left syscallpc.
        for (const RuntimeThread& thread : runtimeThreads) {
            // Only on the thread that took the fatal signal: the runtime relays SIGQUIT to its
            // other threads after its first listing, and those set caughtsig too.
            if (thread.caughtsig != *gAddress || thread.signals.empty() || crashingThread == nullptr ||
                thread.tid != crashingThread->tid)
                continue;
            const HandledSignal& caught = thread.signals.back();
            if (caught.interruptedSp >= own.lo && caught.interruptedSp < own.hi &&
                caught.interruptedPc != 0) {
                pc = caught.interruptedPc;
                sp = caught.interruptedSp;
                lr = caught.interruptedLr;
                trap = true;
            }
        }
        if (pc == 0 || sp == 0) {
            goroutine.unwindProblem = "no saved registers";
        } else {
            auto frames = unwindStack(memory, symbols, architecture, UnwindStart{pc, sp, lr, trap}, stacks,
                                      limits, goroutine.unwindProblem);
            // Frames on the thread's system or signal stacks belong to the thread, not to the
            // goroutine; the runtime's traceback leaves them out too.
            for (StackFrame& frame : frames)
                if (frame.sp >= own.lo && frame.sp < own.hi) goroutine.frames.push_back(std::move(frame));
        }
        table->goroutines_.push_back(std::move(goroutine));
    }
    table->threads_ = std::move(runtimeThreads);
    return table;
}

const Goroutine* GoroutineTable::byId(std::int64_t id) const {
    for (const Goroutine& g : goroutines_)
        if (g.id == id) return &g;
    return nullptr;
}

const Goroutine* GoroutineTable::byAddress(std::uint64_t address) const {
    for (const Goroutine& g : goroutines_)
        if (g.address == address) return &g;
    return nullptr;
}

const Goroutine* GoroutineTable::crashing() const {
    for (const Goroutine& g : goroutines_)
        if (g.onCrashingThread) return &g;
    return nullptr;
}

}  // namespace gomapcore
