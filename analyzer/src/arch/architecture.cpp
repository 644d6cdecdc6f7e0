#include "arch/architecture.h"

#include <elf.h>

#include <algorithm>
#include <array>

namespace gomapcore {
namespace {

// arch/x86/include/asm/user_64.h struct user_regs_struct.
constexpr std::array<std::string_view, 27> kAmd64Registers = {
    "r15",    "r14", "r13", "r12",     "rbp",     "rbx", "r11",      "r10", "r9",
    "r8",     "rax", "rcx", "rdx",     "rsi",     "rdi", "orig_rax", "rip", "cs",
    "eflags", "rsp", "ss",  "fs_base", "gs_base", "ds",  "es",       "fs",  "gs"};

// arch/arm64/include/uapi/asm/ptrace.h struct user_pt_regs: regs[31], sp, pc, pstate.
constexpr std::array<std::string_view, 34> kArm64Registers = {
    "x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",  "x8",  "x9",    "x10", "x11",
    "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21",   "x22", "x23",
    "x24", "x25", "x26", "x27", "x28", "x29", "x30", "sp",  "pc",  "pstate"};

// amd64 (arch/x86/include/asm/sigframe.h rt_sigframe {pretcode, uc, info}): the handler's CFA
// is the ucontext, past the return address the kernel pushed. struct ucontext
// (include/uapi/asm-generic/ucontext.h) puts uc_mcontext after uc_flags, uc_link and a
// 24-byte stack_t, at 40; its struct sigcontext (arch/x86/include/uapi/asm/sigcontext.h) holds
// r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip as words 0..16, and is 256 bytes; the
// 8-byte uc_sigmask follows, then the siginfo, at 40 + 256 + 8.
constexpr std::uint64_t kAmd64Mcontext = 40;

// arm64 (arch/arm64/kernel/signal.c rt_sigframe {info, uc}): the kernel points sp at the frame,
// and Go's sigtramp CFA is that sp, so the 128-byte siginfo comes first. struct ucontext
// (arch/arm64/include/uapi/asm/ucontext.h): uc_flags, uc_link, uc_stack (24 bytes), uc_sigmask
// (8), 120 bytes reserved for a larger sigset, then uc_mcontext aligned to 16, at 176. struct
// sigcontext (arch/arm64/include/uapi/asm/sigcontext.h): fault_address, regs[31], sp, pc.
constexpr std::uint64_t kArm64Mcontext = 128 + 176;
constexpr std::uint64_t kArm64Regs = kArm64Mcontext + 8;

const Architecture kAmd64{
    CpuArchitecture::Amd64,
    "amd64",
    EM_X86_64,
    kAmd64Registers,
    16,
    19,
    4,
    std::nullopt,
    false,
    0,
    8,
    std::uint64_t{1} << 47,
    kAmd64Mcontext + 256 + 8,
    kAmd64Mcontext + 8 * 16,
    kAmd64Mcontext + 8 * 15,
    kAmd64Mcontext + 8 * 10,
    std::nullopt,
};

const Architecture kArm64{
    CpuArchitecture::Arm64,
    "arm64",
    EM_AARCH64,
    kArm64Registers,
    32,
    31,
    29,
    30,
    true,
    8,
    16,
    std::uint64_t{1} << 48,
    0,
    kArm64Regs + 8 * 32,
    kArm64Regs + 8 * 31,
    kArm64Regs + 8 * 29,
    kArm64Regs + 8 * 30,
};

}  // namespace

const Architecture& amd64Architecture() {
    return kAmd64;
}
const Architecture& arm64Architecture() {
    return kArm64;
}

const Architecture* architectureForElfMachine(std::uint16_t machine) {
    for (const Architecture* arch : {&kAmd64, &kArm64})
        if (arch->elfMachine == machine) return arch;
    return nullptr;
}

std::uint64_t widestUserAddressEnd() {
    return std::max(kAmd64.userAddressEnd, kArm64.userAddressEnd);
}

const Architecture* architectureNamed(std::string_view name) {
    for (const Architecture* arch : {&kAmd64, &kArm64})
        if (arch->name == name) return arch;
    return nullptr;
}

}  // namespace gomapcore
