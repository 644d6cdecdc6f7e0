// A read-only memory mapping of a whole file. Cores can be many gigabytes: they are never
// copied into memory, only mapped.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace gomapcore {

class MappedFile {
  public:
    // Throws Error(Unreadable) with the OS's reason.
    explicit MappedFile(const std::string& path);
    // Maps an already open file and takes ownership of fd (closed even when this throws); path
    // is only what messages call it (a decompressed core's temporary file has no name).
    MappedFile(int fd, const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::string& path() const { return path_; }
    std::span<const std::byte> bytes() const { return {data_, size_}; }
    std::size_t size() const { return size_; }
    int fd() const { return fd_; }

  private:
    void map();

    std::string path_;
    int fd_ = -1;
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace gomapcore
