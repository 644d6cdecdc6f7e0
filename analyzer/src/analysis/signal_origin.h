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
std::optional<SignalOrigin> signalFromOutside(const Target& target, const GoroutineTable* table);

// The runtime's own name for a signal, as its traceback's first line prints it
// (src/runtime/sigtab_linux_generic.go): "SIGQUIT: quit".
std::string runtimeSignalName(int signo);
// "SI_USER", "SI_TKILL", ...: how a process sent it (include/uapi/asm-generic/siginfo.h).
std::string senderCodeName(int code);

}  // namespace gomapcore
