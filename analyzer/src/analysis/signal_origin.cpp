#include "analysis/signal_origin.h"

#include <fmt/format.h>

#include <csignal>

namespace gomapcore {

namespace {

bool sentByAnotherProcess(int code, std::optional<int> senderPid, std::optional<int> ownPid) {
    // si_code <= 0: sent by a process (SI_USER, SI_QUEUE, SI_TKILL, ...); > 0: raised by the kernel.
    if (code > 0 || !senderPid) return false;
    return !ownPid || *senderPid != *ownPid;
}

}  // namespace

std::optional<SignalOrigin> signalFromOutside(const std::vector<ThreadState>& threads,
                                              const std::optional<SignalInfo>& core,
                                              std::optional<int> ownPid,
                                              const std::vector<RuntimeThread>& runtimeThreads) {
    std::optional<SignalOrigin> origin;
    {
        // The thread that dumped the core comes first among those that took a signal from
        // outside: since Go 1.21 the thread that got it first is the one that crashes
        // (golang/go#63277); before, it may be any of them.
        int dumping = 0;
        for (const ThreadState& thread : threads)
            if (thread.signal != 0) {
                dumping = thread.tid;
                break;
            }
        for (const RuntimeThread& thread : runtimeThreads) {
            if (thread.signals.empty()) continue;
            const HandledSignal& outermost = thread.signals.back();
            if (!sentByAnotherProcess(outermost.code, outermost.senderPid, ownPid)) continue;
            if (origin && (origin->tid == dumping || thread.tid != dumping)) continue;
            origin = SignalOrigin{&thread, thread.tid, outermost, false};
        }
    }
    if (!origin && core && sentByAnotherProcess(core->code, core->senderPid, ownPid)) {
        SignalOrigin fromNote;
        for (const ThreadState& thread : threads)
            if (thread.signal != 0) {
                fromNote.tid = thread.tid;
                break;
            }
        for (const RuntimeThread& thread : runtimeThreads)
            if (thread.tid == fromNote.tid) fromNote.thread = &thread;
        fromNote.signal.signo = core->signo;
        fromNote.signal.code = core->code;
        fromNote.signal.senderPid = core->senderPid;
        fromNote.signal.senderUid = core->senderUid;
        origin = fromNote;
    }
    if (origin && core && ownPid && core->signo == SIGABRT && core->senderPid == ownPid && core->code <= 0)
        origin->reraisedByRuntime = true;
    return origin;
}

ThreadActivity activityOf(const RuntimeThread& thread) {
    ThreadActivity activity;
    if (thread.caughtsig != 0) {
        activity.goroutine = thread.caughtGoroutine;
        activity.onSystemStack = thread.caughtOnSystemStack;
        if (thread.caughtOnSystemStack)
            activity.onBehalfOf = thread.curg;
        else
            activity.g = thread.caughtsig;
    } else if (thread.curg != 0) {
        // No fatal signal was recorded on this M (the handler frame is all there is): the
        // goroutine the M runs is the best account of what the thread was doing.
        activity.g = thread.curg;
    }
    return activity;
}

std::string runtimeSignalName(int signo) {
    switch (signo) {
        case SIGHUP:
            return "SIGHUP: terminal line hangup";
        case SIGINT:
            return "SIGINT: interrupt";
        case SIGQUIT:
            return "SIGQUIT: quit";
        case SIGILL:
            return "SIGILL: illegal instruction";
        case SIGTRAP:
            return "SIGTRAP: trace trap";
        case SIGABRT:
            return "SIGABRT: abort";
        case SIGBUS:
            return "SIGBUS: bus error";
        case SIGFPE:
            return "SIGFPE: floating-point exception";
        case SIGKILL:
            return "SIGKILL: kill";
        case SIGUSR1:
            return "SIGUSR1: user-defined signal 1";
        case SIGSEGV:
            return "SIGSEGV: segmentation violation";
        case SIGUSR2:
            return "SIGUSR2: user-defined signal 2";
        case SIGPIPE:
            return "SIGPIPE: write to broken pipe";
        case SIGALRM:
            return "SIGALRM: alarm clock";
        case SIGTERM:
            return "SIGTERM: termination";
        case SIGXCPU:
            return "SIGXCPU: cpu limit exceeded";
        case SIGXFSZ:
            return "SIGXFSZ: file size limit exceeded";
        case SIGSYS:
            return "SIGSYS: bad system call";
        default:
            return fmt::format("signal {}", signo);
    }
}

std::string senderCodeName(int code) {
    switch (code) {
        case 0:
            return "SI_USER";
        case -1:
            return "SI_QUEUE";
        case -2:
            return "SI_TIMER";
        case -3:
            return "SI_MESGQ";
        case -4:
            return "SI_ASYNCIO";
        case -5:
            return "SI_SIGIO";
        case -6:
            return "SI_TKILL";
        default:
            return fmt::format("si_code {}", code);
    }
}

}  // namespace gomapcore
