// LLDB command plugin: `plugin load libgomapcore_lldb.so` adds the `gomap` command.
// The subcommands arrive with the LLDB plugin issue; until then every subcommand says so and
// fails, rather than pretending.
#include <lldb/API/SBCommandInterpreter.h>
#include <lldb/API/SBCommandReturnObject.h>
#include <lldb/API/SBDebugger.h>

#include <cstring>

namespace {

class NotYetCommand : public lldb::SBCommandPluginInterface {
  public:
    bool DoExecute(lldb::SBDebugger, char**, lldb::SBCommandReturnObject& result) override {
        result.SetError(
            "gomap: not implemented yet in the LLDB plugin; use the gomapcore CLI "
            "(gomapcore analyze CORE --exe EXE) meanwhile");
        result.SetStatus(lldb::eReturnStatusFailed);
        return false;
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
    gomap.AddCommand("analyze", new NotYetCommand(),
                     "analyze every Go map of the target (not implemented yet)");
    return true;
}
}  // namespace lldb
