// The target: the process whose maps are analyzed, as one object the engine reads everything
// through. An ELF core file is one implementation (CoreTarget, Target::openCore); the LLDB
// plugin's SB API backend over a live process or a core is another; the tests have a third over
// recorded memory. Nothing below this seam knows which one it has: Delve's Process plays the
// same role (pkg/proc/target.go).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gomapcore/memory.h"

namespace gomapcore {

// One named register of a thread, as the target reports it.
struct RegisterValue {
    std::string name;  // as the kernel's register set names it: "rip", "rsp", ... or "x0", "pc", ...
    std::uint64_t value = 0;
};

// A thread as it was stopped (or dumped): enough to start unwinding its stack.
struct ThreadState {
    int tid = 0;
    int signal = 0;  // the signal the thread took (pr_cursig of a core), 0 if none
    std::uint64_t pc = 0;
    std::uint64_t sp = 0;
    std::uint64_t framePointer = 0;
    std::uint64_t linkRegister = 0;        // arm64's x30 (the return address of a leaf); 0 on amd64
    std::vector<RegisterValue> registers;  // every general register the target gives

    std::optional<std::uint64_t> registerValue(const std::string& name) const {
        for (const RegisterValue& r : registers)
            if (r.name == name) return r.value;
        return std::nullopt;
    }
};

// Why the process stopped, when the target records it (a core's NT_SIGINFO).
struct SignalInfo {
    int signo = 0;
    int errnoValue = 0;
    int code = 0;
    std::uint64_t faultAddress = 0;  // si_addr, meaningful for SIGSEGV/SIGBUS/SIGILL/SIGFPE
    // For a signal a process sent (si_code <= 0: SI_USER from kill, SI_QUEUE, SI_TKILL from
    // tgkill), the sender: si_pid and si_uid, which share si_addr's place in the union.
    std::optional<int> senderPid, senderUid;
};

// A file mapping of the process (a core's NT_FILE entry).
struct FileMapping {
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    std::uint64_t fileOffset = 0;
    std::string path;
};

struct ProcessInfo {
    int pid = 0;
    std::string command;    // pr_fname
    std::string arguments;  // pr_psargs
};

// What the report says about where its input came from.
struct TargetDescription {
    std::string kind;          // "core", "live", "recorded"
    std::string path;          // the core file, or a description of the process
    std::string architecture;  // GOARCH: "amd64", "arm64"
    bool truncated = false;    // a core file that ends before what its headers describe
    // How the input was read, when the report should say so (a core decompressed first).
    std::vector<std::string> notes;
};

// A compressed core is refused when it decompresses to more than this (README, "Compressed
// cores"); --max-decompressed-size changes it.
inline constexpr std::uint64_t kDefaultMaxDecompressedBytes = std::uint64_t{256} << 30;

class Target {
  public:
    virtual ~Target() = default;

    // Opens an ELF core file, plain or compressed whole with zstd, lz4 or xz (decompressed
    // first into an unlinked temporary file, at most maxDecompressedBytes). Throws
    // Error(Unreadable, NotElfCore, UnsupportedTarget).
    static std::unique_ptr<Target> openCore(
        const std::string& path, std::uint64_t maxDecompressedBytes = kDefaultMaxDecompressedBytes);

    // Whether path starts like a core openCore reads: an ELF core file, or a zstd, lz4 or xz
    // stream (what the stream holds is only known once it is decompressed). For picking cores
    // out of a folder; false for anything unreadable.
    static bool looksLikeCore(const std::string& path);

    // The process's memory as the target itself holds it: for a core, only what the kernel
    // dumped (the engine adds the executable's file bytes for read-only file mappings).
    virtual const Memory& memory() const = 0;
    virtual const std::vector<ThreadState>& threads() const = 0;
    virtual std::optional<SignalInfo> signalInfo() const = 0;
    virtual std::optional<ProcessInfo> processInfo() const = 0;
    // The auxiliary vector (AT_* keys).
    virtual const std::map<std::uint64_t, std::uint64_t>& auxv() const = 0;
    // Every mapping of the process the target knows, sorted by start (a core's PT_LOAD
    // segments; a live process's memory regions).
    virtual std::vector<MemoryRegion> regions() const = 0;
    // The process's file mappings; empty when the target does not know them.
    virtual const std::vector<FileMapping>& fileMappings() const = 0;
    virtual TargetDescription description() const = 0;
    // Problems met while reading the target (malformed or cut-off notes), for the report.
    virtual std::vector<std::string> problems() const { return {}; }
};

}  // namespace gomapcore
