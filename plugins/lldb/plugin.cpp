// LLDB command plugin: `plugin load libgomapcore_lldb.so` adds the `gomap` command.
//
// `gomap analyze` runs the gomapcore engine on the target's core file and its executable, as the
// CLI does, and prints the report into lldb. A live process needs a memory backend over the SB
// API, which is not written yet: there the command says so and fails rather than pretending.
#include <lldb/API/SBCommandInterpreter.h>
#include <lldb/API/SBCommandReturnObject.h>
#include <lldb/API/SBDebugger.h>
#include <lldb/API/SBFileSpec.h>
#include <lldb/API/SBProcess.h>
#include <lldb/API/SBTarget.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <string>

#include "gomapcore/analysis.h"
#include "gomapcore/error.h"
#include "gomapcore/report.h"

namespace {

constexpr const char* kAnalyzeUsage =
    "usage: gomap analyze [--format text|json] [--redact] [--exe EXECUTABLE]";

std::string pathOf(const lldb::SBFileSpec& spec) {
    if (!spec.IsValid()) return {};
    char buffer[PATH_MAX];
    std::uint32_t length = spec.GetPath(buffer, sizeof buffer);
    if (length == 0 || length >= sizeof buffer) return {};
    return std::string(buffer, length);
}

bool fail(lldb::SBCommandReturnObject& result, const std::string& message) {
    result.SetError(("gomap: " + message).c_str());
    result.SetStatus(lldb::eReturnStatusFailed);
    return false;
}

class AnalyzeCommand : public lldb::SBCommandPluginInterface {
  public:
    bool DoExecute(lldb::SBDebugger debugger, char** arguments,
                   lldb::SBCommandReturnObject& result) override {
        bool json = false;
        gomapcore::AnalysisOptions options;
        std::string exe;
        for (char** arg = arguments; arg != nullptr && *arg != nullptr; ++arg) {
            std::string a = *arg;
            if (a == "--redact") {
                options.redact = true;
            } else if (a == "--format") {
                std::string value = arg[1] != nullptr ? *++arg : "";
                if (value != "json" && value != "text")
                    return fail(result, "--format takes text or json, not '" + value + "'; " + kAnalyzeUsage);
                json = value == "json";
            } else if (a == "--exe") {
                if (arg[1] == nullptr)
                    return fail(result, std::string("--exe needs a path; ") + kAnalyzeUsage);
                exe = *++arg;
            } else {
                return fail(result, "unknown argument '" + a + "'; " + kAnalyzeUsage);
            }
        }
        lldb::SBTarget target = debugger.GetSelectedTarget();
        if (!target.IsValid())
            return fail(result, "no target; load one with: target create --core CORE EXECUTABLE");
        lldb::SBProcess process = target.GetProcess();
        if (!process.IsValid())
            return fail(result,
                        "the target has no process; load a core with: target create --core CORE EXECUTABLE");
        std::string core = pathOf(process.GetCoreFile());
        if (core.empty())
            return fail(
                result,
                "live processes are not supported yet (the plugin reads core files only); write a core "
                "with gcore PID and open that");
        if (exe.empty()) exe = pathOf(target.GetExecutable());
        try {
            auto analysis = gomapcore::Analysis::open(core, exe);
            gomapcore::Report report = analysis->run(options);
            std::string text = json ? gomapcore::renderJson(report) : gomapcore::renderText(report);
            result.AppendMessage(text.c_str());
            result.SetStatus(lldb::eReturnStatusSuccessFinishResult);
            return true;
        } catch (const gomapcore::Error& e) {
            return fail(result, e.what());
        } catch (const std::exception& e) {
            return fail(result, std::string("internal error: ") + e.what());
        }
    }
};

}  // namespace

namespace lldb {
__attribute__((visibility("default"))) bool PluginInitialize(SBDebugger debugger) {
    const char* version = SBDebugger::GetVersionString();
    if (version == nullptr || std::strstr(version, "lldb version 19.") == nullptr) {
        std::fprintf(stderr, "gomapcore: plugin built for LLDB 19, refusing to load into '%s'\n",
                     version ? version : "unknown");
        return false;
    }
    SBCommandInterpreter interpreter = debugger.GetCommandInterpreter();
    SBCommand gomap = interpreter.AddMultiwordCommand("gomap", "Go map analysis (gomapcore)");
    gomap.AddCommand(
        "analyze", new AnalyzeCommand(),
        "find, decode and validate every Go map of the target's core file and explain the crash; "
        "options: --format text|json, --redact (keys, values and panic values only as type and "
        "length), --exe EXECUTABLE",
        kAnalyzeUsage);
    return true;
}
}  // namespace lldb
