#include "batch.h"

#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <system_error>

#include "gomapcore/error.h"
#include "gomapcore/target.h"

namespace gomapcore::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kExitClean = 0;
constexpr int kExitFindings = 1;
constexpr int kExitUnanalyzable = 2;
// What a child may write before it is cut off: a report of a million maps is a few hundred MB.
constexpr std::size_t kMaxReportBytes = std::size_t{4} << 30;

// Files as named; directories searched (recursively, in name order) for cores; a name that does
// not exist but holds a glob character is expanded.
std::vector<std::string> expandInputs(const std::vector<std::string>& inputs) {
    std::vector<std::string> out;
    for (const std::string& input : inputs) {
        std::error_code error;
        if (fs::is_directory(input, error)) {
            std::vector<std::string> found;
            for (fs::recursive_directory_iterator
                     it(input, fs::directory_options::skip_permission_denied, error),
                 end;
                 !error && it != end; it.increment(error))
                // Executables, logs and the rest of a crash folder are passed over.
                if (it->is_regular_file(error) && Target::looksLikeCore(it->path().string()))
                    found.push_back(it->path().string());
            std::sort(found.begin(), found.end());
            out.insert(out.end(), found.begin(), found.end());
            continue;
        }
        if (!fs::exists(input, error) && input.find_first_of("*?[") != std::string::npos) {
            glob_t matches{};
            if (::glob(input.c_str(), 0, nullptr, &matches) == 0)
                for (std::size_t i = 0; i < matches.gl_pathc; ++i)
                    out.emplace_back(matches.gl_pathv[i]);
            else
                out.push_back(input);  // matches nothing: its line says it cannot be opened
            ::globfree(&matches);
            continue;
        }
        out.push_back(input);  // a missing file gets its error line like any other bad input
    }
    return out;
}

std::string jsonString(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            out += fmt::format("\\u{:04x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

// analyze's report on one line: its JSON is indented with newlines only between tokens (a
// string holds "\n" escaped, never a raw newline), so dropping each newline and the indentation
// after it leaves the same document.
std::string oneLine(const std::string& report) {
    std::string out;
    out.reserve(report.size());
    for (std::size_t i = 0; i < report.size(); ++i) {
        if (report[i] != '\n') {
            out += report[i];
            continue;
        }
        while (i + 1 < report.size() && report[i + 1] == ' ')
            ++i;
    }
    return out;
}

struct Child {
    std::size_t index = 0;
    pid_t pid = -1;
    int out = -1, err = -1;
    std::string stdoutText, stderrText;
    Clock::time_point deadline = Clock::time_point::max();
    bool timedOut = false;
    bool tooLarge = false;
};

struct Result {
    std::string line;
    int code = kExitUnanalyzable;
};

class Runner {
  public:
    Runner(const BatchOptions& options, std::vector<std::string> cores)
        : options_(options), cores_(std::move(cores)), results_(cores_.size()) {
        char self[4096];
        ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
            throw Error(Error::Code::Unreadable, "cannot find the gomapcore executable (/proc/self/exe)");
        self_.assign(self, static_cast<std::size_t>(n));
    }

    // Runs every core; calls emit with each result in input order as soon as it and all before
    // it are done.
    template <typename Emit>
    void run(Emit emit) {
        std::size_t next = 0, emitted = 0;
        std::vector<Child> running;
        while (emitted < cores_.size()) {
            while (running.size() < std::max<std::size_t>(1, options_.jobs) && next < cores_.size())
                running.push_back(start(next++));
            waitForOutput(running);
            for (auto it = running.begin(); it != running.end();) {
                if (it->out < 0 && it->err < 0) {
                    finish(*it);
                    it = running.erase(it);
                } else {
                    ++it;
                }
            }
            while (emitted < cores_.size() && results_[emitted]) {
                emit(cores_[emitted], *results_[emitted]);
                results_[emitted].reset();
                ++emitted;
            }
        }
    }

  private:
    Child start(std::size_t index) {
        std::vector<std::string> args{self_,  "analyze",   cores_[index],  "--format",
                                      "json", "--fail-on", options_.failOn};
        if (options_.timeoutSeconds > 0) {
            args.push_back("--time-limit");
            args.push_back(fmt::format("{}", options_.timeoutSeconds));
        }
        args.insert(args.end(), options_.childArguments.begin(), options_.childArguments.end());
        int outPipe[2], errPipe[2];
        if (::pipe2(outPipe, O_CLOEXEC) != 0 || ::pipe2(errPipe, O_CLOEXEC) != 0)
            throw Error(Error::Code::Unreadable, fmt::format("cannot make a pipe: {}", std::strerror(errno)));
        std::vector<char*> argv;
        for (std::string& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = ::fork();
        if (pid < 0)
            throw Error(Error::Code::Unreadable, fmt::format("cannot fork: {}", std::strerror(errno)));
        if (pid == 0) {
            ::dup2(outPipe[1], STDOUT_FILENO);
            ::dup2(errPipe[1], STDERR_FILENO);
            ::execv(argv[0], argv.data());
            std::fprintf(stderr, "gomapcore: cannot run %s: %s\n", argv[0], std::strerror(errno));
            ::_exit(kExitUnanalyzable);
        }
        ::close(outPipe[1]);
        ::close(errPipe[1]);
        Child child;
        child.index = index;
        child.pid = pid;
        child.out = outPipe[0];
        child.err = errPipe[0];
        if (options_.timeoutSeconds > 0) {
            // The child stops itself at the limit plus analyze's grace period; this is the
            // backstop for one that does not.
            double grace = std::max(5.0, options_.timeoutSeconds / 10) + 5;
            child.deadline = Clock::now() + std::chrono::milliseconds(static_cast<std::int64_t>(
                                                (options_.timeoutSeconds + grace) * 1000));
        }
        return child;
    }

    void waitForOutput(std::vector<Child>& running) {
        std::vector<pollfd> fds;
        std::vector<std::pair<Child*, bool>> owners;  // (child, is stdout)
        auto soonest = Clock::time_point::max();
        for (Child& c : running) {
            if (c.out >= 0) {
                fds.push_back({c.out, POLLIN, 0});
                owners.emplace_back(&c, true);
            }
            if (c.err >= 0) {
                fds.push_back({c.err, POLLIN, 0});
                owners.emplace_back(&c, false);
            }
            soonest = std::min(soonest, c.deadline);
        }
        int timeout = -1;
        if (soonest != Clock::time_point::max())
            timeout = static_cast<int>(std::clamp<std::int64_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(soonest - Clock::now()).count(), 0,
                1000));
        if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR)
            throw Error(Error::Code::Unreadable, fmt::format("poll: {}", std::strerror(errno)));
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].revents == 0) continue;
            auto [child, isOut] = owners[i];
            std::string& sink = isOut ? child->stdoutText : child->stderrText;
            char buffer[65536];
            ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0 && sink.size() + static_cast<std::size_t>(n) <= kMaxReportBytes) {
                sink.append(buffer, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n > 0) {
                child->tooLarge = true;
                ::kill(child->pid, SIGKILL);
            }
            ::close(fds[i].fd);
            (isOut ? child->out : child->err) = -1;
        }
        for (Child& c : running)
            if (!c.timedOut && Clock::now() >= c.deadline) {
                c.timedOut = true;
                ::kill(c.pid, SIGKILL);
            }
    }

    void finish(Child& child) {
        int status = 0;
        while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
        }
        Result result;
        const std::string& core = cores_[child.index];
        auto errorLine = [&](const std::string& why) {
            return fmt::format("{{\"input\": {}, \"error\": {}}}", jsonString(core), jsonString(why));
        };
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (child.timedOut) {
            result.line = errorLine(fmt::format(
                "no report within --timeout {} s and its grace period; killed", options_.timeoutSeconds));
        } else if (child.tooLarge) {
            result.line =
                errorLine(fmt::format("the report is larger than {} bytes; killed", kMaxReportBytes));
        } else if (WIFSIGNALED(status)) {
            result.line = errorLine(fmt::format("gomapcore crashed on it (signal {})", WTERMSIG(status)));
        } else if ((code == kExitClean || code == kExitFindings) && !child.stdoutText.empty()) {
            std::string line = oneLine(child.stdoutText);
            while (!line.empty() && (line.back() == '\n' || line.back() == ' '))
                line.pop_back();
            result.line = std::move(line);
            result.code = code;
        } else {
            // analyze's one-line reason, without its "gomapcore: " prefix.
            std::string why = child.stderrText.substr(0, child.stderrText.find('\n'));
            if (why.rfind("gomapcore: ", 0) == 0) why = why.substr(11);
            result.line =
                errorLine(why.empty() ? fmt::format("analyze exited {} without a reason", code) : why);
        }
        results_[child.index] = std::move(result);
    }

    const BatchOptions& options_;
    std::vector<std::string> cores_;
    std::vector<std::optional<Result>> results_;
    std::string self_;
};

}  // namespace

int runBatch(const BatchOptions& options) {
    const auto started = Clock::now();
    std::vector<std::string> cores = expandInputs(options.inputs);
    std::ofstream file;
    std::ostream* out = &std::cout;
    if (!options.output.empty() && options.output != "-") {
        file.open(options.output, std::ios::binary);
        if (!file) throw Error(Error::Code::BadArgument, "cannot write " + options.output);
        out = &file;
    }
    std::size_t clean = 0, findings = 0, failed = 0;
    Runner(options, cores).run([&](const std::string&, const Result& result) {
        *out << result.line << '\n';
        out->flush();
        (result.code == kExitClean ? clean : result.code == kExitFindings ? findings : failed)++;
    });
    if (!*out) throw Error(Error::Code::BadArgument, "failed writing " + options.output);
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::fprintf(stderr,
                 "gomapcore batch: %zu cores in %.1f s: %zu clean, %zu with findings at or above %s, %zu "
                 "not analyzed\n",
                 cores.size(), seconds, clean, findings, options.failOn.c_str(), failed);
    return failed > 0 ? kExitUnanalyzable : findings > 0 ? kExitFindings : kExitClean;
}

}  // namespace gomapcore::cli
