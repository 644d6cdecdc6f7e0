// A plain driver for the fuzz targets, built with the ordinary compiler and run by CTest: it
// feeds each file named on the command line (or each file in a named directory, in name
// order) to the target once, plus an empty input. A crash, sanitizer report or hang of a
// regression input fails the test. -max_len=N truncates longer inputs to N bytes, as libFuzzer
// does when it replays with that flag.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

std::size_t maxLength = SIZE_MAX;

int runFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
        return 1;
    }
    std::vector<char> bytes;
    for (std::istreambuf_iterator<char> it(in), end; it != end && bytes.size() < maxLength; ++it)
        bytes.push_back(*it);
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", path.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
    LLVMFuzzerTestOneInput(nullptr, 0);
    std::size_t inputs = 1;
    for (int i = 1; i < argc; ++i) {
        std::string text(argv[i]);
        if (text.rfind("-max_len=", 0) == 0) {
            maxLength = std::stoull(text.substr(9));
            continue;
        }
        std::filesystem::path arg(text);
        if (std::filesystem::is_directory(arg)) {
            std::vector<std::filesystem::path> files;
            for (const auto& entry : std::filesystem::directory_iterator(arg))
                if (entry.is_regular_file() && entry.path().filename().string()[0] != '.')
                    files.push_back(entry.path());
            std::sort(files.begin(), files.end());
            for (const auto& f : files) {
                if (runFile(f) != 0) return 1;
                ++inputs;
            }
        } else {
            if (runFile(arg) != 0) return 1;
            ++inputs;
        }
    }
    std::fprintf(stderr, "replay: %zu inputs, no crash\n", inputs);
    return 0;
}
