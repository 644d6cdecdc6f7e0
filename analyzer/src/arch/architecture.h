// What differs between the CPU architectures gomapcore reads, kept in one place per
// architecture: the registers a core's NT_PRSTATUS note holds, the Go ABI's frame layout, and
// the kernel's signal frame. Everything about Go's own data structures is read from the binary.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace gomapcore {

enum class CpuArchitecture : std::uint8_t { Amd64, Arm64 };

struct Architecture {
    CpuArchitecture id;
    std::string_view name;     // GOARCH: "amd64", "arm64"
    std::uint16_t elfMachine;  // e_machine: EM_X86_64, EM_AARCH64

    // The general registers of NT_PRSTATUS's pr_reg (elf_gregset_t), in the kernel's order, and
    // which of them are the pc, the stack pointer, the frame pointer and the link register.
    std::span<const std::string_view> registerNames;
    std::size_t pcRegister, spRegister, framePointerRegister;
    std::optional<std::size_t> linkRegister;  // arm64's x30; amd64 pushes return addresses
    // The size of struct elf_prstatus (include/uapi/linux/elfcore.h): the fixed fields, pr_reg,
    // and pr_fpvalid padded to 8.
    std::size_t prstatusSize() const { return kPrstatusRegs + 8 * registerNames.size() + 8; }
    static constexpr std::size_t kPrstatusRegs =
        112;  // offsetof(struct elf_prstatus, pr_reg) on 64-bit Linux

    // Go's frames (src/runtime/traceback.go, src/cmd/internal/sys/arch.go): on a link-register
    // machine the caller's return address is saved at the callee's sp and the CFA is
    // sp + spdelta; on amd64 the call pushed it, so the CFA is one word higher.
    bool usesLinkRegister;
    std::uint64_t minFrameSize;  // sys.MinFrameSize: the saved LR below the arguments (arm64: 8)
    std::uint64_t stackAlign;    // sys.StackAlign

    // The first address past the user address space (47-bit on amd64, 48-bit on arm64).
    std::uint64_t userAddressEnd;

    // The kernel's signal frame, at offsets from the CFA of runtime.sigtramp (the sp the kernel
    // handed the handler, plus the return address on amd64): the siginfo, and the interrupted
    // pc, sp, frame pointer and link register in the ucontext's mcontext.
    std::uint64_t signalInfoOffset;
    std::uint64_t interruptedPcOffset, interruptedSpOffset, interruptedFramePointerOffset;
    std::optional<std::uint64_t> interruptedLinkRegisterOffset;
};

const Architecture& amd64Architecture();
const Architecture& arm64Architecture();
// The architecture of an ELF e_machine, or nullptr for one gomapcore does not read.
const Architecture* architectureForElfMachine(std::uint16_t machine);
// The end of the widest user address space of the architectures read (a bound on what any
// process can hold).
std::uint64_t widestUserAddressEnd();
// The architecture of a GOARCH name ("amd64", "arm64"), or nullptr.
const Architecture* architectureNamed(std::string_view name);

}  // namespace gomapcore
