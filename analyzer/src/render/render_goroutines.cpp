// Goroutine listings, in the shape of the runtime's own traceback (src/runtime/traceback.go
// goroutineheader, traceback2, printFuncName) so that a person can compare them line by line.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "gomapcore/report.h"
#include "runtime/goroutines.h"

namespace gomapcore {

namespace {

std::string hex(std::uint64_t value) {
    return fmt::format("{:#x}", value);
}

std::string functionName(const StackFrame& frame) {
    return frame.function != nullptr ? std::string(frame.function->name) : "?";
}

}  // namespace

std::string renderGoroutinesText(const GoroutineTable& table) {
    std::string out;
    for (const Goroutine& g : table.goroutines()) {
        out += fmt::format("goroutine {} gp={} [{}]", g.id, hex(g.address), g.state);
        if (g.thread) out += fmt::format(" thread {}", *g.thread);
        if (g.onCrashingThread) out += " (crashed)";
        if (g.system) out += " (system goroutine)";
        out += ":\n";
        for (const StackFrame& frame : g.frames) {
            if (frame.function == nullptr) {
                out += fmt::format("?\n\tpc={} sp={}\n", hex(frame.pc), hex(frame.sp));
                continue;
            }
            for (std::size_t i = 0; i < frame.source.size(); ++i) {
                const SourceFrame& source = frame.source[i];
                bool physical = i + 1 == frame.source.size();
                out += fmt::format("{}({})\n\t{}:{}", source.function, physical ? "" : "...", source.file,
                                   source.line);
                if (physical)
                    out += fmt::format(" +{:#x} fp={} sp={} pc={}", frame.pc - frame.function->entry,
                                       hex(frame.fp), hex(frame.sp), hex(frame.pc));
                out += "\n";
            }
            if (frame.source.empty())
                out += fmt::format("{}()\n\tpc={}\n", functionName(frame), hex(frame.pc));
        }
        if (!g.unwindProblem.empty()) out += fmt::format("\t(unwinding stopped: {})\n", g.unwindProblem);
        out += "\n";
    }
    return out;
}

std::string renderGoroutinesJson(const GoroutineTable& table) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const Goroutine& g : table.goroutines()) {
        nlohmann::ordered_json item;
        item["id"] = g.id;
        item["address"] = hex(g.address);
        item["state"] = g.state;
        item["thread"] = g.thread ? nlohmann::ordered_json(*g.thread) : nlohmann::ordered_json(nullptr);
        item["crashed"] = g.onCrashingThread;
        item["system"] = g.system;
        item["stack"] = {hex(g.stackLo), hex(g.stackHi)};
        nlohmann::ordered_json frames = nlohmann::ordered_json::array();
        for (const StackFrame& frame : g.frames) {
            for (std::size_t i = 0; i < frame.source.size(); ++i) {
                const SourceFrame& source = frame.source[i];
                nlohmann::ordered_json f;
                f["function"] = std::string(source.function);
                f["file"] = std::string(source.file);
                f["line"] = source.line;
                f["inlined"] = source.inlined;
                f["pc"] = hex(frame.pc);
                f["sp"] = hex(frame.sp);
                f["fp"] = hex(frame.fp);
                frames.push_back(std::move(f));
            }
            if (frame.source.empty()) {
                nlohmann::ordered_json f;
                f["function"] = functionName(frame);
                f["pc"] = hex(frame.pc);
                frames.push_back(std::move(f));
            }
        }
        item["frames"] = std::move(frames);
        if (!g.unwindProblem.empty()) item["unwind_problem"] = g.unwindProblem;
        list.push_back(std::move(item));
    }
    nlohmann::ordered_json root;
    root["schema"] = "gomapcore/goroutines-v1";
    root["goroutines"] = std::move(list);
    return root.dump(2) + "\n";
}

}  // namespace gomapcore
