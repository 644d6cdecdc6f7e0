// Cores that arrive compressed whole (systemd-coredump writes zstd; uploaders use lz4 or xz).
// They are recognised by their magic bytes, never by their name, decompressed once, streaming,
// into an unlinked temporary file (sparse: all-zero pages are left as holes, and a core is
// mostly zeroes), and that file is memory-mapped like any other core, so random access stays
// as fast as on an uncompressed core and the core reading path does not know the difference.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "support/mapped_file.h"

namespace gomapcore {

enum class Compression { None, Zstd, Lz4, Xz };

const char* compressionName(Compression kind);

// What the first bytes of a file say it is compressed with (None for anything else).
Compression detectCompression(std::span<const std::byte> head);

struct DecompressOptions {
    // Refuse to decompress to more than this many bytes (a bound against a stream that lies).
    std::uint64_t maxBytes = 0;
    // Where the temporary file goes; empty: $TMPDIR, else /var/tmp (disk, where /tmp is often
    // memory).
    std::string directory;
};

// How a compressed input was read, for the report's note.
struct Decompression {
    Compression kind = Compression::None;
    std::uint64_t compressedBytes = 0;
    std::uint64_t bytes = 0;        // decompressed size
    std::uint64_t storedBytes = 0;  // of which written to disk (the rest are holes)
    double seconds = 0;
    std::string directory;
};

struct OpenedInput {
    std::unique_ptr<MappedFile> file;
    std::optional<Decompression> decompression;  // unset for a file that was not compressed
};

// Opens and maps path; a compressed file is first decompressed as described above. The
// temporary file has no name from the moment it exists (O_TMPFILE, or unlinked right after it
// is created), so nothing is left behind however the process ends, SIGKILL included. Throws
// Error(Unreadable) with one sentence for a truncated or corrupt stream, output beyond
// options.maxBytes or beyond the free space of the temporary directory.
OpenedInput openPossiblyCompressed(const std::string& path, const DecompressOptions& options);

// One sentence for the report: the format, the sizes, the time and where it went.
std::string describeDecompression(const Decompression& decompression);

}  // namespace gomapcore
