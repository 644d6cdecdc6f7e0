// Walks and validates a classic Go map (hmap + buckets). Follows golang/go src/runtime/map.go
// @go1.23 (and map_noswiss.go @go1.24/1.25): tophash states (lines 86-96), hashGrow, evacuate
// and advanceEvacuationMark for growth, makeBucketArray for preallocated overflow buckets.
#include <fmt/format.h>

#include <unordered_set>

#include "gomapcore/map_model.h"
#include "walk_common.h"

namespace gomapcore {
namespace {

using detail::hex;
using detail::makeFinding;

// tophash values (runtime/map.go).
constexpr std::uint8_t kEmptyRest = 0;
constexpr std::uint8_t kEmptyOne = 1;
constexpr std::uint8_t kEvacuatedX = 2;
constexpr std::uint8_t kEvacuatedEmpty = 4;
constexpr std::uint8_t kMinTopHash = 5;
// hmap.flags bits.
constexpr std::uint8_t kHashWriting = 4;
constexpr std::uint8_t kSameSizeGrow = 8;
constexpr std::uint8_t kKnownFlags = 1 | 2 | 4 | 8;
constexpr unsigned kBucketCount = 8;
// No process can hold more than 2^47 bytes of buckets on amd64 (47-bit user address space).
constexpr unsigned kUserAddressBits = 47;

bool isEmpty(std::uint8_t top) {
    return top <= kEmptyOne;
}
bool isEvacuatedMark(std::uint8_t top) {
    return top >= kEvacuatedX && top <= kEvacuatedEmpty;
}

class ClassicWalker {
  public:
    ClassicWalker(const Memory& memory, const MapTypeLayout& layout, std::uint64_t address,
                  const WalkLimits& limits)
        : memory_(memory), reader_(memory), layout_(layout), c_(layout.classic), limits_(limits) {
        result_.address = address;
        result_.layout = &layout;
        result_.root.kind = NodeKind::Header;
        result_.root.address = address;
        result_.root.size = c_.headerSize;
    }

    MapResult run();

  private:
    bool readHeader();
    bool checkArrayPointer(std::uint64_t pointer, std::uint64_t bytes, const char* field, const char* rule);
    // Walks one bucket and its overflow chain; returns the live entries found.
    std::uint64_t walkChain(std::uint64_t bucket, std::int64_t index, bool old, MapNode& parent,
                            bool& evacuated);
    void walkBuckets();
    void walkOldBuckets();
    void checkExtra();

    MapNode& header() { return result_.root; }
    bool insideArray(std::uint64_t address, std::uint64_t array, std::uint64_t length) const {
        return array != 0 && address >= array && address - array < length * c_.bucketSize;
    }
    void add(MapNode& node, const char* rule, Severity severity, std::uint64_t address, std::string message) {
        node.findings.push_back(makeFinding(rule, severity, result_.address, address, std::move(message)));
    }
    bool budgetLeft() {
        if (visited_.size() < limits_.maxBucketsPerMap) return true;
        if (!budgetReported_) {
            result_.limitsHit.push_back(fmt::format("max-buckets-per-map ({})", limits_.maxBucketsPerMap));
            budgetReported_ = true;
        }
        incomplete_ = true;
        return false;
    }

    const Memory& memory_;
    Reader reader_;
    const MapTypeLayout& layout_;
    const ClassicLayout& c_;
    const WalkLimits& limits_;
    MapResult result_;

    std::int64_t count_ = 0;
    std::uint8_t flags_ = 0, B_ = 0;
    std::uint64_t buckets_ = 0, oldbuckets_ = 0, nevacuate_ = 0, extra_ = 0;
    std::uint64_t bucketsLength_ = 0, oldLength_ = 0;
    std::uint64_t live_ = 0;
    bool incomplete_ = false;
    bool budgetReported_ = false;
    std::vector<bool> oldEvacuated_;
    std::unordered_set<std::uint64_t> visited_;  // every bucket reached, for cycle detection
};

bool ClassicWalker::readHeader() {
    std::vector<std::byte> buffer(c_.headerSize);
    ReadResult read = memory_.read(result_.address, buffer);
    if (!read.complete()) {
        header().state = read.state;
        if (read.state == AddressState::Unmapped) {
            add(header(), rules::kHeaderUnmapped, Severity::Error, result_.address,
                fmt::format("map header at {} lies in no mapping of the process", hex(result_.address)));
        } else {
            add(header(), rules::kPointerNotCaptured, Severity::Warning, result_.address,
                fmt::format("map header at {} is in a mapping the core did not capture",
                            hex(result_.address)));
        }
        return false;
    }
    result_.headerReadable = true;
    auto field = [&](const char* name, const FieldSlot& slot) {
        std::uint64_t value = detail::fieldValue(buffer, slot);
        if (slot.present) result_.header.emplace_back(name, value);
        return value;
    };
    count_ = static_cast<std::int64_t>(field("count", c_.count));
    flags_ = static_cast<std::uint8_t>(field("flags", c_.flags));
    B_ = static_cast<std::uint8_t>(field("B", c_.B));
    std::uint64_t noverflow = field("noverflow", c_.noverflow);
    field("hash0", c_.hash0);
    buckets_ = field("buckets", c_.buckets);
    oldbuckets_ = field("oldbuckets", c_.oldbuckets);
    nevacuate_ = field("nevacuate", c_.nevacuate);
    if (c_.clearSeq.present) field("clearSeq", c_.clearSeq);
    extra_ = field("extra", c_.extra);
    result_.count = count_;

    std::uint64_t maxB = 0;
    while (maxB < 63 &&
           (std::uint64_t{1} << (maxB + 1)) * c_.bucketSize < (std::uint64_t{1} << kUserAddressBits))
        ++maxB;
    bool plausible = true;
    if (count_ < 0) {
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            fmt::format("count is negative ({})", count_));
        plausible = false;
    }
    if (B_ > maxB) {
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            fmt::format("B = {} would need 2^{} buckets of {} bytes, more than the address space holds", B_,
                        B_, c_.bucketSize));
        plausible = false;
    }
    if ((flags_ & ~kKnownFlags) != 0) {
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            fmt::format("flags = {:#x} has bits the runtime never sets (known: iterator 1, oldIterator 2, "
                        "hashWriting 4, sameSizeGrow 8)",
                        flags_));
    }
    if ((flags_ & kSameSizeGrow) != 0 && oldbuckets_ == 0) {
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            "flags has sameSizeGrow set but oldbuckets is nil (advanceEvacuationMark clears both together)");
    }
    if (oldbuckets_ != 0 && B_ == 0 && (flags_ & kSameSizeGrow) == 0) {
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            "oldbuckets is set while B = 0: a doubling growth always leaves B >= 1");
    }
    if (plausible && B_ < 16 && noverflow > (std::uint64_t{1} << B_) * limits_.maxChainLength) {
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            fmt::format("noverflow = {} is far beyond what 2^{} buckets can have", noverflow, B_));
    }
    if (buckets_ == 0 && count_ > 0) {
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            fmt::format("buckets is nil but count = {}", count_));
    }
    if ((flags_ & kHashWriting) != 0) {
        add(header(), rules::kWriteInProgress, Severity::Warning, result_.address,
            "flags has hashWriting set: a write was in progress when the process died (racy evidence: the "
            "writer may have finished or another may have cleared it)");
    }
    if (!plausible) return false;
    bucketsLength_ = std::uint64_t{1} << B_;
    if (oldbuckets_ != 0) oldLength_ = (flags_ & kSameSizeGrow) != 0 ? bucketsLength_ : bucketsLength_ >> 1;
    return true;
}

bool ClassicWalker::checkArrayPointer(std::uint64_t pointer, std::uint64_t bytes, const char* field,
                                      const char* rule) {
    if (pointer % 8 != 0) {
        add(header(), rules::kHeaderImplausible, Severity::Error, pointer,
            fmt::format("{} = {} is not pointer-aligned", field, hex(pointer)));
        return false;
    }
    AddressState state = memory_.classify(pointer);
    if (state == AddressState::Unmapped) {
        add(header(), rule, Severity::Error, pointer,
            fmt::format("{} = {} lies in no mapping of the process", field, hex(pointer)));
        return false;
    }
    if (state == AddressState::NotCaptured) {
        add(header(), rules::kPointerNotCaptured, Severity::Warning, pointer,
            fmt::format("{} = {} is in a mapping the core did not capture; its buckets cannot be checked",
                        field, hex(pointer)));
        incomplete_ = true;
        return false;
    }
    std::uint64_t last = pointer + bytes - 1;
    if (last < pointer || memory_.classify(last) == AddressState::Unmapped) {
        add(header(), rule, Severity::Error, pointer,
            fmt::format("{} = {} starts in mapped memory but its {} bytes run into unmapped memory", field,
                        hex(pointer), bytes));
        return false;
    }
    return true;
}

std::uint64_t ClassicWalker::walkChain(std::uint64_t bucket, std::int64_t index, bool old, MapNode& parent,
                                       bool& evacuated) {
    std::uint64_t live = 0;
    bool seenEmptyRest = false;
    evacuated = false;
    std::uint64_t address = bucket;
    std::vector<std::byte> buffer(c_.bucketSize);
    for (std::uint32_t link = 0; address != 0; ++link) {
        if (!budgetLeft()) return live;
        MapNode node;
        node.kind = link == 0 ? (old ? NodeKind::OldBucket : NodeKind::Bucket)
                              : (old ? NodeKind::OldOverflowBucket : NodeKind::OverflowBucket);
        node.address = address;
        node.size = c_.bucketSize;
        node.index = link == 0 ? index : link;
        visited_.insert(address);
        ReadResult read = memory_.read(address, buffer);
        if (!read.complete()) {
            node.state = read.state;
            incomplete_ = true;
            if (link > 0 && read.state == AddressState::NotCaptured)
                add(node, rules::kPointerNotCaptured, Severity::Warning, address,
                    fmt::format("overflow bucket {} is in a mapping the core did not capture", hex(address)));
            else if (link == 0)
                add(node, rules::kPointerNotCaptured, Severity::Warning, address,
                    fmt::format("bucket {} at {} is not captured in the core", index, hex(address)));
            parent.children.push_back(std::move(node));
            return live;
        }
        node.control.resize(kBucketCount);
        unsigned evacuatedCells = 0;
        for (unsigned i = 0; i < kBucketCount; ++i) {
            auto top = std::to_integer<std::uint8_t>(buffer[c_.tophash.offset + i]);
            node.control[i] = top;
            if (isEvacuatedMark(top)) {
                ++evacuatedCells;
                continue;
            }
            if (top == kEmptyRest) seenEmptyRest = true;
            if (isEmpty(top)) continue;
            // A full cell.
            if (seenEmptyRest) {
                add(node, rules::kControlBytesCorrupt, Severity::Error, address,
                    fmt::format(
                        "tophash[{}] = {:#x} marks a full cell after an emptyRest cell earlier in the chain "
                        "(emptyRest promises every later cell is empty)",
                        i, top));
            }
            ++node.liveEntries;
            Slot slot = detail::inspectSlot(memory_, layout_, address, i, top, result_.address, node);
            if (limits_.collectSlots) node.slots.push_back(slot);
        }
        if (evacuatedCells > 0) {
            if (!old) {
                add(node, rules::kControlBytesCorrupt, Severity::Error, address,
                    fmt::format("{} of bucket {}'s tophash bytes hold evacuation marks (2..4), which only "
                                "old buckets "
                                "being evacuated may hold",
                                evacuatedCells, index));
            } else if (evacuatedCells != kBucketCount || node.liveEntries != 0) {
                add(node, rules::kControlBytesCorrupt, Severity::Error, address,
                    fmt::format(
                        "old bucket {} mixes evacuation marks with live or empty cells; evacuate() marks "
                        "every cell of a bucket at once",
                        index));
            } else if (link == 0) {
                evacuated = true;
            }
        }
        if (evacuated) {
            // evacuate() clears the old bucket's keys, elems and overflow pointer (memclrHasPointers)
            // when no old iterator exists; whatever is left there is not a live chain.
            parent.children.push_back(std::move(node));
            return 0;
        }
        live += node.liveEntries;
        std::uint64_t next = detail::fieldValue(buffer, c_.overflow);
        if (next != 0) {
            const char* problem = nullptr;
            AddressState state = AddressState::Captured;
            if (next % 8 != 0)
                problem = "is misaligned";
            else if ((state = memory_.classify(next)) == AddressState::Unmapped)
                problem = "lies in no mapping";
            else if (visited_.count(next) != 0)
                problem = "points back to a bucket already on a chain (a cycle)";
            else if (insideArray(next, buckets_, bucketsLength_) ||
                     insideArray(next, oldbuckets_, oldLength_))
                problem = "points into a main bucket array, where no overflow bucket lives";
            else if (link + 1 >= limits_.maxChainLength)
                problem = "extends a chain beyond the chain-length limit";
            if (problem != nullptr) {
                add(node, rules::kOverflowChainCorrupt, Severity::Error, next,
                    fmt::format("overflow pointer of {} {} ({}) {}", toString(node.kind), hex(address),
                                hex(next), problem));
                if (link + 1 >= limits_.maxChainLength)
                    result_.limitsHit.push_back(fmt::format("max-chain-length ({})", limits_.maxChainLength));
                incomplete_ = incomplete_ || state != AddressState::Captured;
                next = 0;
            }
        }
        parent.children.push_back(std::move(node));
        address = next;
    }
    return live;
}

void ClassicWalker::walkOldBuckets() {
    if (oldbuckets_ == 0) return;
    if (nevacuate_ > oldLength_) {
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            fmt::format("nevacuate = {} exceeds the {} old buckets being evacuated", nevacuate_, oldLength_));
    }
    if (!checkArrayPointer(oldbuckets_, oldLength_ * c_.bucketSize, "oldbuckets",
                           rules::kOldbucketsUnmapped)) {
        incomplete_ = true;
        return;
    }
    oldEvacuated_.assign(oldLength_, false);
    for (std::uint64_t j = 0; j < oldLength_; ++j) {
        bool evacuated = false;
        std::size_t before = header().children.size();
        live_ += walkChain(oldbuckets_ + j * c_.bucketSize, static_cast<std::int64_t>(j), true, header(),
                           evacuated);
        oldEvacuated_[j] = evacuated;
        // walkChain adds no node when the bucket budget is already spent.
        if (!evacuated && j < nevacuate_ && header().children.size() > before) {
            add(header().children.back(), rules::kControlBytesCorrupt, Severity::Error,
                oldbuckets_ + j * c_.bucketSize,
                fmt::format("old bucket {} is below nevacuate = {} but not evacuated", j, nevacuate_));
        }
        if (!budgetLeft()) return;
    }
}

void ClassicWalker::walkBuckets() {
    if (buckets_ == 0) return;
    if (!checkArrayPointer(buckets_, bucketsLength_ * c_.bucketSize, "buckets", rules::kBucketsUnmapped)) {
        incomplete_ = true;
        return;
    }
    for (std::uint64_t i = 0; i < bucketsLength_; ++i) {
        bool evacuated = false;
        std::size_t before = header().children.size();
        std::uint64_t live =
            walkChain(buckets_ + i * c_.bucketSize, static_cast<std::int64_t>(i), false, header(), evacuated);
        live_ += live;
        // During growth a new bucket fills only once its source old bucket has been evacuated
        // (growWork evacuates before mapassign writes).
        if (live > 0 && !oldEvacuated_.empty()) {
            std::uint64_t source = i & (oldLength_ - 1);
            if (source < oldEvacuated_.size() && !oldEvacuated_[source] &&
                before < header().children.size()) {
                add(header().children[before], rules::kControlBytesCorrupt, Severity::Error,
                    buckets_ + i * c_.bucketSize,
                    fmt::format(
                        "bucket {} holds entries although its source old bucket {} is not evacuated yet", i,
                        source));
            }
        }
        if (!budgetLeft()) return;
    }
}

void ClassicWalker::checkExtra() {
    if (extra_ == 0) return;
    MapNode node;
    node.kind = NodeKind::Extra;
    node.address = extra_;
    AddressState state = memory_.classify(extra_);
    node.state = state;
    if (state == AddressState::Unmapped) {
        add(node, rules::kOverflowChainCorrupt, Severity::Error, extra_,
            fmt::format("extra = {} (the overflow bookkeeping) lies in no mapping", hex(extra_)));
    } else if (state == AddressState::Captured && c_.extraNextOverflow.present) {
        auto next = reader_.u64(extra_ + c_.extraNextOverflow.offset);
        if (next && *next != 0 && memory_.classify(*next) == AddressState::Unmapped)
            add(node, rules::kOverflowChainCorrupt, Severity::Error, *next,
                fmt::format("extra.nextOverflow = {} lies in no mapping", hex(*next)));
    }
    header().children.push_back(std::move(node));
}

MapResult ClassicWalker::run() {
    if (!readHeader()) {
        result_.complete = false;
        return std::move(result_);
    }
    walkOldBuckets();
    walkBuckets();
    checkExtra();
    result_.liveEntries = live_;
    result_.complete = !incomplete_;
    bool structural = false;
    for (const Finding& f : result_.findings())
        if (f.severity == Severity::Error && f.rule != rules::kDanglingEntryPointer &&
            f.rule != rules::kControlBytesCorrupt)
            structural = true;
    if (result_.complete && !structural && static_cast<std::uint64_t>(count_) != live_) {
        add(header(), rules::kCountMismatch, Severity::Error, result_.address,
            fmt::format("count = {} but the buckets hold {} live entries{}", count_, live_,
                        oldbuckets_ != 0 ? " (old buckets not yet evacuated included)" : ""));
    }
    return std::move(result_);
}

}  // namespace

MapResult walkClassicMap(const Memory& memory, const MapTypeLayout& layout, std::uint64_t address,
                         const WalkLimits& limits) {
    return ClassicWalker(memory, layout, address, limits).run();
}

}  // namespace gomapcore
