// Streaming decompression of zstd, lz4 (frame format) and xz cores into a sparse, unlinked
// temporary file. Formats: zstd RFC 8878 (frame magic 28 b5 2f fd), the LZ4 frame format
// (lz4/doc/lz4_Frame_format.md, magic 04 22 4d 18), the .xz file format (magic fd 37 7a 58 5a 00).
#include "support/compressed_file.h"

#include <fcntl.h>
#include <lz4frame.h>
#include <lzma.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zstd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "gomapcore/error.h"

namespace gomapcore {
namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;  // read and write in MiB steps
constexpr std::size_t kPage = 4096;                   // the unit of holes
// Free space left to everyone else when decompressing: a full disk breaks more than gomapcore.
constexpr std::uint64_t kMinReserveBytes = std::uint64_t{256} << 20;
// xz's decoder memory (its dictionary): xz -9 needs 65 MiB, so this refuses only a lying header.
constexpr std::uint64_t kXzMemoryLimit = std::uint64_t{1} << 30;
// zstd's window: the corpus and `zstd --long=31` use up to 2 GiB, and a frame that states its
// content size gets a window no larger than that, so the cost stays within the core's size.
constexpr int kZstdWindowLogMax = 31;

struct Fd {
    int fd = -1;
    explicit Fd(int value) : fd(value) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    int release() { return std::exchange(fd, -1); }
};

Error failure(const std::string& message) {
    return Error(Error::Code::Unreadable, message);
}

std::string mib(std::uint64_t bytes) {
    return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

std::string temporaryDirectory(const std::string& requested) {
    if (!requested.empty()) return requested;
    const char* tmpdir = std::getenv("TMPDIR");
    if (tmpdir != nullptr && *tmpdir != '\0') return tmpdir;
    return "/var/tmp";
}

// A file that never has a name (O_TMPFILE), or, on a filesystem without O_TMPFILE, one unlinked
// right after it is made: either way the kernel frees it when the last descriptor closes.
int openTemporaryFile(const std::string& directory) {
    int fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC | O_EXCL, 0600);
    if (fd >= 0) return fd;
    std::string name = directory + "/gomapcore-core-XXXXXX";
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0)
        throw failure(
            fmt::format("cannot create a temporary file in {} for the decompressed core: {} "
                        "(set TMPDIR to a writable directory)",
                        directory, std::strerror(errno)));
    ::unlink(name.c_str());
    return fd;
}

bool allZero(const std::byte* data, std::size_t size) {
    static const std::array<std::byte, kPage> zeroes{};
    return std::memcmp(data, zeroes.data(), size) == 0;
}

// Collects decompressed bytes in a page-aligned buffer and writes only its non-zero pages, at
// their offsets: the zero pages become holes. Every byte is counted against the size limit and
// every stored byte against the free space, before it is written.
class SparseWriter {
  public:
    SparseWriter(int fd, const std::string& input, const std::string& directory, std::uint64_t maxBytes)
        : fd_(fd), input_(input), directory_(directory), maxBytes_(maxBytes), buffer_(kChunk) {
        struct statvfs vfs {};
        if (::fstatvfs(fd, &vfs) == 0) {
            std::uint64_t available = std::uint64_t{vfs.f_bavail} * vfs.f_frsize;
            std::uint64_t reserve = std::max(kMinReserveBytes, available / 20);
            spaceBudget_ = available > reserve ? available - reserve : 0;
        }
    }

    std::span<std::byte> space() {
        if (fill_ == buffer_.size()) flush();
        return {buffer_.data() + fill_, buffer_.size() - fill_};
    }
    void commit(std::size_t bytes) { fill_ += bytes; }
    std::uint64_t size() const { return offset_ + fill_; }
    std::uint64_t stored() const { return stored_; }

    void finish() {
        flush();
        if (::ftruncate(fd_, static_cast<off_t>(offset_)) != 0)
            throw failure(fmt::format("cannot size the temporary file for {} in {}: {}", input_, directory_,
                                      std::strerror(errno)));
    }

  private:
    void flush() {
        if (offset_ + fill_ > maxBytes_)
            throw failure(
                fmt::format("{} decompresses to more than {} (the limit, "
                            "--max-decompressed-size); it was not analyzed",
                            input_, mib(maxBytes_)));
        std::size_t position = 0;
        while (position < fill_) {
            std::size_t length = std::min(kPage, fill_ - position);
            if (allZero(buffer_.data() + position, length)) {
                position += length;
                continue;
            }
            std::size_t start = position;
            while (position < fill_) {
                length = std::min(kPage, fill_ - position);
                if (allZero(buffer_.data() + position, length)) break;
                position += length;
            }
            write(start, position - start);
        }
        offset_ += fill_;
        fill_ = 0;
    }

    void write(std::size_t start, std::size_t length) {
        if (stored_ + length > spaceBudget_) throw noSpace();
        std::size_t done = 0;
        while (done < length) {
            ssize_t n = ::pwrite(fd_, buffer_.data() + start + done, length - done,
                                 static_cast<off_t>(offset_ + start + done));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == ENOSPC || errno == EDQUOT || errno == EFBIG)) throw noSpace();
            if (n <= 0)
                throw failure(fmt::format("cannot write the decompressed core of {} to {}: {}", input_,
                                          directory_, std::strerror(errno)));
            done += static_cast<std::size_t>(n);
        }
        stored_ += length;
    }

    Error noSpace() const {
        return failure(
            fmt::format("not enough free space in {} to decompress {}: {} of data so far, and "
                        "gomapcore leaves at least {} or 5% free (set TMPDIR to a directory "
                        "with more room)",
                        directory_, input_, mib(stored_), mib(kMinReserveBytes)));
    }

    int fd_;
    const std::string& input_;
    const std::string& directory_;
    std::uint64_t maxBytes_;
    std::uint64_t spaceBudget_ = 0;
    std::vector<std::byte> buffer_;
    std::size_t fill_ = 0;
    std::uint64_t offset_ = 0;
    std::uint64_t stored_ = 0;
};

// Reads the compressed file a chunk at a time.
class Input {
  public:
    Input(int fd, const std::string& path) : fd_(fd), path_(path), buffer_(kChunk) {}
    // The next chunk; empty at the end of the file.
    std::span<const std::byte> next() {
        for (;;) {
            ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw failure(fmt::format("cannot read {}: {}", path_, std::strerror(errno)));
            consumed_ += static_cast<std::uint64_t>(n);
            return {buffer_.data(), static_cast<std::size_t>(n)};
        }
    }
    std::uint64_t consumed() const { return consumed_; }

  private:
    int fd_;
    const std::string& path_;
    std::vector<std::byte> buffer_;
    std::uint64_t consumed_ = 0;
};

Error truncatedStream(const char* format, const std::string& path, const Input& in, const SparseWriter& out) {
    return failure(
        fmt::format("{} is a truncated {} stream: it ends after {} compressed bytes, inside a "
                    "frame ({} decompressed so far)",
                    path, format, in.consumed(), out.size()));
}

Error corruptStream(const char* format, const std::string& path, const Input& in, const char* why) {
    return failure(fmt::format("{} is a corrupt {} stream (in its first {} compressed bytes): {}", path,
                               format, in.consumed(), why));
}

void decodeZstd(const std::string& path, Input& in, SparseWriter& out) {
    std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!context) throw failure("cannot allocate a zstd decoder");
    ZSTD_DCtx_setParameter(context.get(), ZSTD_d_windowLogMax, kZstdWindowLogMax);
    std::size_t pending = 1;  // 0 once a frame is complete and flushed
    for (auto chunk = in.next(); !chunk.empty(); chunk = in.next()) {
        ZSTD_inBuffer source{chunk.data(), chunk.size(), 0};
        while (source.pos < source.size) {
            auto space = out.space();
            ZSTD_outBuffer target{space.data(), space.size(), 0};
            pending = ZSTD_decompressStream(context.get(), &target, &source);
            if (ZSTD_isError(pending)) throw corruptStream("zstd", path, in, ZSTD_getErrorName(pending));
            out.commit(target.pos);
        }
    }
    // Output the decoder still holds once the input is all read. A call that produces nothing
    // leaves pending alone: after a complete frame, it would be the size of a next frame's header.
    for (;;) {
        auto space = out.space();
        ZSTD_inBuffer none{nullptr, 0, 0};
        ZSTD_outBuffer target{space.data(), space.size(), 0};
        std::size_t hint = ZSTD_decompressStream(context.get(), &target, &none);
        if (ZSTD_isError(hint)) throw corruptStream("zstd", path, in, ZSTD_getErrorName(hint));
        out.commit(target.pos);
        if (target.pos == 0) break;
        pending = hint;
    }
    if (pending != 0 || in.consumed() == 0) throw truncatedStream("zstd", path, in, out);
}

void decodeLz4(const std::string& path, Input& in, SparseWriter& out) {
    LZ4F_dctx* raw = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION)))
        throw failure("cannot allocate an lz4 decoder");
    std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> context(
        raw, LZ4F_freeDecompressionContext);
    std::size_t pending = 1;  // LZ4F_decompress's hint: 0 once a frame is complete
    auto step = [&](const std::byte*& source, std::size_t& left) {
        auto space = out.space();
        std::size_t produced = space.size(), taken = left;
        std::size_t hint = LZ4F_decompress(context.get(), space.data(), &produced, source, &taken, nullptr);
        if (LZ4F_isError(hint)) throw corruptStream("lz4", path, in, LZ4F_getErrorName(hint));
        out.commit(produced);
        source += taken;
        left -= taken;
        // As for zstd: a call that does nothing says nothing about the frame read so far.
        if (produced == 0 && taken == 0) return false;
        pending = hint;
        return true;
    };
    for (auto chunk = in.next(); !chunk.empty(); chunk = in.next()) {
        const std::byte* source = chunk.data();
        std::size_t left = chunk.size();
        while (left > 0)
            if (!step(source, left)) break;
    }
    const std::byte* none = nullptr;
    std::size_t zero = 0;
    while (step(none, zero)) {
    }
    if (pending != 0 || in.consumed() == 0) throw truncatedStream("lz4", path, in, out);
}

void decodeXz(const std::string& path, Input& in, SparseWriter& out) {
    lzma_stream stream = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&stream, kXzMemoryLimit, LZMA_CONCATENATED) != LZMA_OK)
        throw failure("cannot allocate an xz decoder");
    std::unique_ptr<lzma_stream, decltype(&lzma_end)> guard(&stream, lzma_end);
    lzma_action action = LZMA_RUN;
    for (;;) {
        if (stream.avail_in == 0 && action == LZMA_RUN) {
            auto chunk = in.next();
            stream.next_in = reinterpret_cast<const std::uint8_t*>(chunk.data());
            stream.avail_in = chunk.size();
            if (chunk.empty()) action = LZMA_FINISH;
        }
        auto space = out.space();
        stream.next_out = reinterpret_cast<std::uint8_t*>(space.data());
        stream.avail_out = space.size();
        lzma_ret status = lzma_code(&stream, action);
        out.commit(space.size() - stream.avail_out);
        if (status == LZMA_STREAM_END) return;
        if (status == LZMA_OK) continue;
        if (status == LZMA_BUF_ERROR) throw truncatedStream("xz", path, in, out);
        if (status == LZMA_MEMLIMIT_ERROR)
            throw failure(fmt::format("{}: its xz stream needs more than {} of decoder memory; refused", path,
                                      mib(kXzMemoryLimit)));
        const char* why = status == LZMA_DATA_ERROR      ? "the compressed data is damaged"
                          : status == LZMA_FORMAT_ERROR  ? "it is not in the xz format"
                          : status == LZMA_OPTIONS_ERROR ? "it uses options this decoder does not know"
                          : status == LZMA_MEM_ERROR     ? "out of memory"
                                                         : "liblzma reports an error";
        throw corruptStream("xz", path, in, why);
    }
}

bool startsWith(std::span<const std::byte> head, std::initializer_list<unsigned char> magic) {
    return head.size() >= magic.size() &&
           std::equal(magic.begin(), magic.end(), head.begin(),
                      [](unsigned char m, std::byte b) { return std::byte{m} == b; });
}

// Compressed formats a core may come in that are not read here, to say so instead of "not an
// ELF file".
const char* unreadFormat(std::span<const std::byte> head) {
    if (startsWith(head, {0x1f, 0x8b})) return "gzip-compressed";
    if (startsWith(head, {'B', 'Z', 'h'})) return "bzip2-compressed";
    if (startsWith(head, {0x02, 0x21, 0x4c, 0x18})) return "in the legacy lz4 format (lz4 -l)";
    return nullptr;
}

}  // namespace

const char* compressionName(Compression kind) {
    switch (kind) {
        case Compression::Zstd:
            return "zstd";
        case Compression::Lz4:
            return "lz4";
        case Compression::Xz:
            return "xz";
        case Compression::None:
            break;
    }
    return "none";
}

Compression detectCompression(std::span<const std::byte> head) {
    if (startsWith(head, {0x28, 0xb5, 0x2f, 0xfd})) return Compression::Zstd;
    if (startsWith(head, {0x04, 0x22, 0x4d, 0x18})) return Compression::Lz4;
    if (startsWith(head, {0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00})) return Compression::Xz;
    return Compression::None;
}

OpenedInput openPossiblyCompressed(const std::string& path, const DecompressOptions& options) {
    Fd input(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (input.fd < 0) throw failure("cannot open " + path + ": " + std::strerror(errno));
    std::array<std::byte, 6> head{};
    ssize_t headBytes = ::pread(input.fd, head.data(), head.size(), 0);
    Compression kind = headBytes > 0 ? detectCompression({head.data(), static_cast<std::size_t>(headBytes)})
                                     : Compression::None;
    if (const char* other =
            unreadFormat({head.data(), static_cast<std::size_t>(std::max<ssize_t>(headBytes, 0))}))
        throw failure(
            fmt::format("{} is {}; gomapcore reads cores compressed with zstd, lz4 (frame format) "
                        "or xz: decompress it first",
                        path, other));
    OpenedInput opened;
    if (kind == Compression::None) {
        opened.file = std::make_unique<MappedFile>(input.release(), path);
        return opened;
    }
    const auto started = std::chrono::steady_clock::now();
    Decompression info;
    info.kind = kind;
    info.directory = temporaryDirectory(options.directory);
    Fd output(openTemporaryFile(info.directory));
    SparseWriter writer(output.fd, path, info.directory, options.maxBytes);
    Input reader(input.fd, path);
    switch (kind) {
        case Compression::Zstd:
            decodeZstd(path, reader, writer);
            break;
        case Compression::Lz4:
            decodeLz4(path, reader, writer);
            break;
        case Compression::Xz:
            decodeXz(path, reader, writer);
            break;
        case Compression::None:
            break;
    }
    writer.finish();
    info.compressedBytes = reader.consumed();
    info.bytes = writer.size();
    info.storedBytes = writer.stored();
    info.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    opened.file = std::make_unique<MappedFile>(output.release(), path);
    opened.decompression = info;
    return opened;
}

std::string describeDecompression(const Decompression& d) {
    return fmt::format(
        "the core is {}-compressed ({} bytes); it was decompressed once, in {:.2f} s, to {} "
        "bytes ({} of them stored, the zero pages left as holes) in an unlinked temporary "
        "file in {}",
        compressionName(d.kind), d.compressedBytes, d.seconds, d.bytes, d.storedBytes, d.directory);
}

}  // namespace gomapcore
