// Who ended a process killed from outside, over hand-built thread and M states: the signal the
// runtime's handler took (its kernel signal frame) against the runtime's own relays and its
// final re-raise, the core's NT_SIGINFO when no handler frame survived, and what the thread
// was doing (a goroutine in a system call, the scheduler, GC work for a goroutine).
#include <gtest/gtest.h>

#include <csignal>

#include "analysis/signal_origin.h"

namespace gomapcore {
namespace {

constexpr int kOwnPid = 4000, kSender = 3100;
constexpr int kSiUser = 0, kSiTkill = -6;

ThreadState thread(int tid, int signal) {
    ThreadState state;
    state.tid = tid;
    state.signal = signal;
    return state;
}

HandledSignal sent(int signo, int code, std::optional<int> pid) {
    HandledSignal signal;
    signal.signo = signo;
    signal.code = code;
    signal.senderPid = pid;
    signal.senderUid = 0;
    return signal;
}

RuntimeThread m(int tid, std::int64_t id, std::vector<HandledSignal> signals) {
    RuntimeThread runtimeThread;
    runtimeThread.tid = tid;
    runtimeThread.mId = id;
    runtimeThread.signals = std::move(signals);
    return runtimeThread;
}

SignalInfo coreNote(int signo, int code, std::optional<int> pid) {
    SignalInfo info;
    info.signo = signo;
    info.code = code;
    info.senderPid = pid;
    return info;
}

TEST(SignalOrigin, TheSenderIsTheProcessThatSentItNotTheRuntimesRelay) {
    // The runtime took SIGQUIT from kSender on m=0, relayed SIGQUIT to m=1 with kill(getpid()),
    // and then aborted itself: NT_SIGINFO is its own SIGABRT.
    std::vector<ThreadState> threads{thread(11, SIGABRT), thread(12, SIGABRT)};
    std::vector<RuntimeThread> ms{m(12, 1, {sent(SIGQUIT, kSiUser, kOwnPid)}),
                                  m(11, 0, {sent(SIGQUIT, kSiUser, kSender)})};
    auto origin = signalFromOutside(threads, coreNote(SIGABRT, kSiTkill, kOwnPid), kOwnPid, ms);
    ASSERT_TRUE(origin);
    EXPECT_EQ(origin->tid, 11);
    EXPECT_EQ(origin->thread, &ms[1]);
    EXPECT_EQ(origin->signal.signo, SIGQUIT);
    EXPECT_EQ(origin->signal.senderPid, kSender);
    EXPECT_TRUE(origin->reraisedByRuntime);
}

TEST(SignalOrigin, TheDumpingThreadWinsAmongSeveralSignalsFromOutside) {
    std::vector<ThreadState> threads{thread(22, SIGABRT), thread(21, SIGABRT)};
    std::vector<RuntimeThread> ms{m(21, 0, {sent(SIGTERM, kSiUser, kSender)}),
                                  m(22, 3, {sent(SIGABRT, kSiUser, kSender)})};
    auto origin = signalFromOutside(threads, coreNote(SIGABRT, kSiTkill, kOwnPid), kOwnPid, ms);
    ASSERT_TRUE(origin);
    EXPECT_EQ(origin->tid, 22);
    EXPECT_EQ(origin->signal.signo, SIGABRT);
}

TEST(SignalOrigin, OnlyTheRuntimesOwnSignalsMeanNothingCameFromOutside) {
    // A fatal error: the runtime aborted itself, and its relays are its own.
    std::vector<ThreadState> threads{thread(31, SIGABRT)};
    std::vector<RuntimeThread> ms{m(31, 0, {}), m(32, 1, {sent(SIGQUIT, kSiUser, kOwnPid)})};
    EXPECT_FALSE(signalFromOutside(threads, coreNote(SIGABRT, kSiTkill, kOwnPid), kOwnPid, ms));
}

TEST(SignalOrigin, AFaultTheKernelRaisedIsNotFromOutside) {
    std::vector<ThreadState> threads{thread(41, SIGSEGV)};
    constexpr int kSegvMaperr = 1;
    EXPECT_FALSE(signalFromOutside(threads, coreNote(SIGSEGV, kSegvMaperr, std::nullopt), kOwnPid, {}));
}

TEST(SignalOrigin, WithoutAHandlerFrameTheCoreNoteTellsWithItsSender) {
    // SIGKILL-like deaths, or a dumper whose threads are not Ms: only NT_SIGINFO is left.
    std::vector<ThreadState> threads{thread(51, SIGABRT)};
    auto origin = signalFromOutside(threads, coreNote(SIGABRT, kSiUser, kSender), kOwnPid, {});
    ASSERT_TRUE(origin);
    EXPECT_EQ(origin->tid, 51);
    EXPECT_EQ(origin->thread, nullptr);
    EXPECT_EQ(origin->signal.senderPid, kSender);
    EXPECT_FALSE(origin->reraisedByRuntime);
}

TEST(SignalOrigin, ASignalWithNoSenderRecordedIsNotAttributed) {
    // A core without NT_SIGINFO and no handler frame: nothing says where the signal came from.
    std::vector<ThreadState> threads{thread(61, SIGQUIT)};
    EXPECT_FALSE(signalFromOutside(threads, std::nullopt, kOwnPid, {}));
    // Nor when the sender is unknown even though si_code says a process sent it.
    EXPECT_FALSE(signalFromOutside(threads, coreNote(SIGQUIT, kSiUser, std::nullopt), kOwnPid, {}));
}

TEST(ThreadActivity, AGoroutineInASystemCallIsTheInterruptedOne) {
    RuntimeThread t = m(71, 0, {sent(SIGQUIT, kSiUser, kSender)});
    t.curg = 0xc000001000;
    t.caughtsig = 0xc000001000;  // the syscall goroutine itself: entersyscall keeps g
    t.caughtGoroutine = 2824;
    ThreadActivity activity = activityOf(t);
    EXPECT_EQ(activity.goroutine, 2824);
    EXPECT_EQ(activity.g, 0xc000001000u);
    EXPECT_FALSE(activity.onSystemStack);
}

TEST(ThreadActivity, AThreadInTheSchedulerRunsGoroutineZero) {
    RuntimeThread t = m(72, 0, {sent(SIGABRT, kSiUser, kSender)});
    t.caughtsig = 0x6892a0;  // m.g0
    t.caughtGoroutine = 0;
    t.caughtOnSystemStack = true;
    ThreadActivity activity = activityOf(t);
    EXPECT_EQ(activity.goroutine, 0);
    EXPECT_EQ(activity.g, 0u);
    EXPECT_TRUE(activity.onSystemStack);
    EXPECT_EQ(activity.onBehalfOf, 0u);
}

TEST(ThreadActivity, GcWorkOnTheSystemStackIsDoneForTheMsGoroutine) {
    RuntimeThread t = m(73, 2, {sent(SIGQUIT, kSiUser, kSender)});
    t.curg = 0xc000002000;  // a mark worker that switched to g0
    t.caughtsig = 0x6892a0;
    t.caughtGoroutine = 0;
    t.caughtOnSystemStack = true;
    ThreadActivity activity = activityOf(t);
    EXPECT_TRUE(activity.onSystemStack);
    EXPECT_EQ(activity.onBehalfOf, 0xc000002000u);
}

TEST(ThreadActivity, WithoutACaughtSignalTheMsGoroutineIsTheBestAccount) {
    RuntimeThread t = m(74, 0, {});
    t.curg = 0xc000003000;
    ThreadActivity activity = activityOf(t);
    EXPECT_EQ(activity.g, 0xc000003000u);
    EXPECT_FALSE(activity.goroutine);
}

TEST(SignalNames, AsTheRuntimePrintsThem) {
    EXPECT_EQ(runtimeSignalName(SIGQUIT), "SIGQUIT: quit");
    EXPECT_EQ(runtimeSignalName(SIGABRT), "SIGABRT: abort");
    EXPECT_EQ(runtimeSignalName(63), "signal 63");
    EXPECT_EQ(senderCodeName(kSiTkill), "SI_TKILL");
}

}  // namespace
}  // namespace gomapcore
