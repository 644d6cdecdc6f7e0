#include "analysis/executable_resolver.h"

#include <elf.h>
#include <elfutils/debuginfod.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

#include "gomapcore/error.h"
#include "support/mapped_file.h"

namespace gomapcore {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kHeaderPage = 4096;
// Files of one --exe-dir looked at, at most: a symbol store is searched, not crawled.
constexpr std::size_t kMaxDirectoryEntries = 100000;

bool regularFile(const std::string& path) {
    std::error_code error;
    return !path.empty() && fs::is_regular_file(path, error);
}

std::string baseName(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The address of the executable's first page in the process: its NT_FILE mapping of file
// offset 0, else the page of the program headers (AT_PHDR).
std::optional<std::uint64_t> headerPageAddress(const Target& target, const std::string& recorded) {
    for (const FileMapping& m : target.fileMappings())
        if (!recorded.empty() && m.path == recorded && m.fileOffset == 0) return m.start;
    auto phdr = target.auxv().find(AT_PHDR);
    if (phdr != target.auxv().end()) return phdr->second & ~(kHeaderPage - 1);
    return std::nullopt;
}

class Search {
  public:
    Search(const Target& target, const OpenOptions& options)
        : options_(options), recorded_(recordedExecutablePath(target)), core_(targetBuildIds(target)) {}

    ResolvedExecutable run() {
        if (!recorded_.empty()) {
            if (regularFile(recorded_))
                tryCandidate(recorded_, "core-file-note");
            else
                reject(recorded_ + " (the path in the core's NT_FILE note) does not exist here");
        }
        for (const std::string& directory : options_.executableDirs) {
            if (found_.executable) break;
            searchDirectory(directory);
        }
        if (!found_.executable && options_.debuginfod) askDebuginfod();
        if (!found_.executable) {
            std::string tried = found_.origin.rejected.empty()
                                    ? std::string("nothing to try")
                                    : fmt::format("{}", fmt::join(found_.origin.rejected, "; "));
            throw Error(
                Error::Code::MissingExecutable,
                fmt::format("{}; pass it with --exe or --exe-dir ({})",
                            recorded_.empty() ? "the core does not name its executable (no NT_FILE note)"
                                              : "no executable found for the core",
                            tried));
        }
        return std::move(found_);
    }

  private:
    void reject(std::string why) { found_.origin.rejected.push_back(std::move(why)); }

    // Takes path as the executable unless its build IDs contradict the core's or it cannot be
    // opened. Returns whether it was taken.
    bool tryCandidate(const std::string& path, const char* source) {
        std::unique_ptr<Executable> executable;
        try {
            executable = Executable::open(path);
        } catch (const Error& e) {
            reject(e.what());
            return false;
        }
        std::string mismatch = buildIdMismatch(core_, executable->buildIds());
        if (!mismatch.empty()) {
            reject(path + ": " + mismatch);
            return false;
        }
        found_.origin.path = path;
        found_.origin.source = source;
        found_.executable = std::move(executable);
        return true;
    }

    void searchDirectory(const std::string& directory) {
        std::error_code error;
        if (!fs::is_directory(directory, error)) {
            reject("--exe-dir " + directory + " is not a directory");
            return;
        }
        // A sysroot: the recorded path under it.
        if (!recorded_.empty() && recorded_.front() == '/') {
            std::string joined = (fs::path(directory) / recorded_.substr(1)).string();
            if (regularFile(joined) && tryCandidate(joined, "exe-dir")) return;
        }
        // A flat folder: the file whose build ID is the core's, or, when the core's header page
        // holds none, the one named like the recorded executable.
        std::size_t seen = 0;
        for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
            if (++seen > kMaxDirectoryEntries) {
                reject(fmt::format("--exe-dir {}: only its first {} entries were looked at", directory,
                                   kMaxDirectoryEntries));
                return;
            }
            const std::string path = it->path().string();
            if (!regularFile(path)) continue;
            bool sameName = !recorded_.empty() && baseName(path) == baseName(recorded_);
            if (core_.empty()) {
                if (sameName && tryCandidate(path, "exe-dir")) return;
                continue;
            }
            BuildIds ids;
            try {
                MappedFile file(path);
                ids = buildIdsOfElfImage(file.bytes());
            } catch (const Error&) {
                continue;  // unreadable: not a candidate
            }
            if (ids.empty() || !buildIdMismatch(core_, ids).empty()) {
                // Only a file named like the executable is worth a word about why not.
                if (sameName)
                    reject(path + ": " +
                           (ids.empty() ? "it carries no build ID" : buildIdMismatch(core_, ids)));
                continue;
            }
            if (tryCandidate(path, "exe-dir")) return;
        }
        if (error) reject("--exe-dir " + directory + ": " + error.message());
    }

    void askDebuginfod() {
        const char* urls = std::getenv("DEBUGINFOD_URLS");
        if (urls == nullptr || *urls == '\0') {
            reject("debuginfod: DEBUGINFOD_URLS is not set");
            return;
        }
        if (core_.gnu.empty()) {
            reject("debuginfod: the core holds no GNU build ID to ask for (link with -ldflags=-B=gobuildid)");
            return;
        }
        std::unique_ptr<debuginfod_client, decltype(&debuginfod_end)> client(debuginfod_begin(),
                                                                             debuginfod_end);
        if (!client) {
            reject("debuginfod: cannot start a client");
            return;
        }
        char* path = nullptr;
        // A length of 0 tells libdebuginfod the build ID is given as hex text.
        int fd = debuginfod_find_executable(
            client.get(), reinterpret_cast<const unsigned char*>(core_.gnu.c_str()), 0, &path);
        if (fd < 0) {
            reject(fmt::format("debuginfod ({}): no executable with build ID {}: {}", urls, core_.gnu,
                               std::strerror(-fd)));
            return;
        }
        ::close(fd);
        std::string fetched = path != nullptr ? path : "";
        std::free(path);
        tryCandidate(fetched, "debuginfod");
    }

    const OpenOptions& options_;
    std::string recorded_;
    BuildIds core_;
    ResolvedExecutable found_;
};

}  // namespace

std::string recordedExecutablePath(const Target& target) {
    // The NT_FILE mapping that contains the entry point (AT_ENTRY), else the mapping of file
    // offset 0 named like pr_fname.
    auto entry = target.auxv().find(AT_ENTRY);
    if (entry != target.auxv().end()) {
        for (const auto& m : target.fileMappings())
            if (entry->second >= m.start && entry->second < m.end) return m.path;
    }
    if (target.processInfo()) {
        for (const auto& m : target.fileMappings()) {
            std::string base = baseName(m.path);
            if (m.fileOffset == 0 && base.rfind(target.processInfo()->command, 0) == 0) return m.path;
        }
    }
    return {};
}

BuildIds targetBuildIds(const Target& target) {
    auto address = headerPageAddress(target, recordedExecutablePath(target));
    if (!address) return {};
    std::vector<std::byte> page(kHeaderPage);
    ReadResult read = target.memory().read(*address, page);
    return buildIdsOfElfImage(std::span<const std::byte>(page.data(), read.bytesRead));
}

ResolvedExecutable resolveExecutable(const Target& target, const OpenOptions& options) {
    if (!options.executable.empty()) {
        ResolvedExecutable given;
        given.executable = Executable::open(options.executable);
        given.origin.path = options.executable;
        given.origin.source = "argument";
        return given;
    }
    return Search(target, options).run();
}

}  // namespace gomapcore
