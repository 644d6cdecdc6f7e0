// Who ended the process when it did not crash on its own: a signal sent from outside (kill,
// timeout -s ABRT, a watchdog or supervisor asking for a core under GOTRACEBACK=crash), taken by
// the Go runtime's handler on one thread, and whether the runtime then re-raised a signal itself.
#pragma once

#include <optional>
#include <string>

#include "gomapcore/target.h"
#include "runtime/goroutines.h"

namespace gomapcore {

struct SignalOrigin {
    // The M whose handler took the signal; nullptr when only the core's NT_SIGINFO tells.
    const RuntimeThread* thread = nullptr;
    int tid = 0;  // that thread (or the dumping thread, when only NT_SIGINFO tells)
    HandledSignal signal;
    // The core's NT_SIGINFO is the runtime's own SIGABRT to itself (si_code SI_TKILL from the
    // process's own pid): under GOTRACEBACK=crash the runtime prints its traceback, then
    // runtime.crash re-raises (src/runtime/signal_unix.go fatalsignal, dieFromSignal).
    bool reraisedByRuntime = false;
};

// The signal another process sent, as the runtime's handler received it: the outermost signal
// frame on a thread's signal stack whose sender is not the process itself (the runtime relays
// SIGQUIT to its other threads with kill(getpid()), and those are not the origin). Falls back to
// the core's NT_SIGINFO when no handler frame survives. nullopt when nothing came from outside.
// threads: the target's (the first with a signal dumped the core); coreSignal: its NT_SIGINFO;
// ownPid: the process's pid when known; runtimeThreads: the Ms the goroutine table found.
std::optional<SignalOrigin> signalFromOutside(const std::vector<ThreadState>& threads,
                                              const std::optional<SignalInfo>& coreSignal,
                                              std::optional<int> ownPid,
                                              const std::vector<RuntimeThread>& runtimeThreads);

// What a thread was doing when its handler took the signal (runtime.sighandler records the
// interrupted g in m.caughtsig): a goroutine (running, or in a system call, whose g the M
// keeps as m.curg), or its own system stack (the scheduler, GC work, a systemstack call made
// for m.curg, if any).
struct ThreadActivity {
    std::optional<std::int64_t> goroutine;  // goid of the interrupted g; 0 for the M's g0
    std::uint64_t g = 0;                    // the interrupted user goroutine's runtime.g, else 0
    bool onSystemStack = false;
    std::uint64_t onBehalfOf = 0;  // on the system stack: m.curg, the goroutine it worked for
};
ThreadActivity activityOf(const RuntimeThread& thread);

// The runtime's own name for a signal, as its traceback's first line prints it
// (src/runtime/sigtab_linux_generic.go): "SIGQUIT: quit".
std::string runtimeSignalName(int signo);
// "SI_USER", "SI_TKILL", ...: how a process sent it (include/uapi/asm-generic/siginfo.h).
std::string senderCodeName(int code);

}  // namespace gomapcore
