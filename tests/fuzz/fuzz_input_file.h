// Fuzz inputs arrive as bytes, but the engine opens files (it memory-maps them, as it must for
// multi-gigabyte cores). An anonymous in-memory file bridges the two without touching disk.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace gomapcore::fuzz {

class InputFile {
  public:
    InputFile(const std::uint8_t* data, std::size_t size) {
        fd_ = memfd_create("gomapcore-fuzz-input", MFD_CLOEXEC);
        if (fd_ < 0) return;
        std::size_t written = 0;
        while (written < size) {
            ssize_t n = ::write(fd_, data + written, size - written);
            if (n <= 0) break;
            written += static_cast<std::size_t>(n);
        }
        ok_ = written == size;
    }
    ~InputFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    bool ok() const { return ok_; }
    std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

  private:
    int fd_ = -1;
    bool ok_ = false;
};

}  // namespace gomapcore::fuzz
