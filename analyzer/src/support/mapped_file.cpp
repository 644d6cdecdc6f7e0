#include "support/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gomapcore/error.h"

namespace gomapcore {

MappedFile::MappedFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw Error(Error::Code::Unreadable, "cannot open " + path + ": " + std::strerror(errno));
    map();
}

MappedFile::MappedFile(int fd, const std::string& path) : path_(path), fd_(fd) {
    map();
}

void MappedFile::map() {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        int err = errno;
        ::close(fd_);
        throw Error(Error::Code::Unreadable, "cannot stat " + path_ + ": " + std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd_);
        throw Error(Error::Code::Unreadable, path_ + " is not a regular file");
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ == 0) return;  // an empty file maps to nothing; callers see size() == 0
    // Read-only: these bytes are the evidence. libelf gets its own mapping through fd(), since
    // it rewrites headers in place (e.g. clears SHF_COMPRESSED after libdw decompresses).
    void* mapping = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
    if (mapping == MAP_FAILED) {
        int err = errno;
        ::close(fd_);
        throw Error(Error::Code::Unreadable, "cannot map " + path_ + ": " + std::strerror(err));
    }
    data_ = static_cast<const std::byte*>(mapping);
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace gomapcore
