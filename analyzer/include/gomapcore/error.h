// The engine's single error type. Anything that stops an analysis as a whole (bad input,
// mismatched executable, unsupported target) is thrown as gomapcore::Error; damage inside the
// target's memory is never an Error, it becomes a Finding on the node it concerns.
#pragma once

#include <stdexcept>
#include <string>

namespace gomapcore {

class Error : public std::runtime_error {
  public:
    enum class Code {
        Unreadable,          // file missing, unreadable, or not mappable
        NotElfCore,          // not an ELF file, or an ELF file that is not a core
        NotGoProgram,        // the executable has no Go runtime / map types
        ExecutableMismatch,  // the executable is not the one that produced the core
        UnsupportedTarget,   // architecture, class or byte order gomapcore does not decode
        MissingExecutable,   // no executable given and none could be found
        BadArgument,         // a user-supplied argument does not make sense
        NotFound,            // a named map or address is not among the maps found
        Cancelled,           // the caller cancelled the analysis (AnalysisOptions::cancel)
    };

    Error(Code code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
    Code code() const { return code_; }

  private:
    Code code_;
};

}  // namespace gomapcore
