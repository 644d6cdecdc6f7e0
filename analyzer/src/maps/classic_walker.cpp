// Walks and validates a classic Go map (hmap + buckets). Follows golang/go src/runtime/map.go
// @go1.23 (and map_noswiss.go @go1.24/1.25): tophash states (lines 86-96), hashGrow, evacuate
// and advanceEvacuationMark for growth, makeBucketArray for preallocated overflow buckets.
#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_set>

#include "arch/architecture.h"
#include "gomapcore/map_model.h"
#include "maps/walk_common.h"

namespace gomapcore {
namespace {

using detail::hex;

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
// A Go slice header (data pointer, len, cap), as extra.overflow and extra.oldoverflow point to
// one: 8-byte words on the 64-bit architectures analyzed.
constexpr std::uint64_t kSliceHeaderSize = 24;
// Bucket pointers of an overflow list read at once: bounds the buffer whatever len says.
constexpr std::uint64_t kListChunk = 4096;
// No process can hold more buckets than its user address space (arch/architecture.h: 47 bits on
// amd64, 48 on arm64); the wider bound serves both, as a plausibility limit on B.

// Buckets makeBucketArray (runtime/map.go) allocates for 2^b buckets: from b = 4 on, 2^(b-4)
// preallocated overflow buckets follow the main ones (and the array is then rounded up to its
// size class, which only the heap's span can tell: the layout gives this lower bound).
std::uint64_t arrayBuckets(std::uint64_t length) {
    return length >= 16 ? length + length / 16 : length;
}

bool isEmpty(std::uint8_t top) {
    return top <= kEmptyOne;
}
// Every value below minTopHash except the two empty states is an evacuation mark.
bool isEvacuatedMark(std::uint8_t top) {
    static_assert(kEvacuatedEmpty + 1 == kMinTopHash);
    return top >= kEvacuatedX && top < kMinTopHash;
}

// What the walk learned about an old bucket's evacuation (evacuated() in map.go). Unknown when
// its tophash could not be read: no verdict may rest on bytes the core does not hold.
// InProgress: the chain's cells carry evacuation marks up to some cell and none after it, which is
// what evacuate() leaves when the process dies inside it: it visits the chain's buckets in order
// and each bucket's cells 0..7 in order, marking every cell as it moves the entry (or marking it
// evacuatedEmpty), and clears nothing until the whole chain is done.
enum class Evacuation { Unknown, NotEvacuated, InProgress, Evacuated };

// One bucket and its overflow chain, as walkChain saw it.
struct Chain {
    std::uint64_t live = 0;
    Evacuation evacuation = Evacuation::Unknown;
    std::optional<std::size_t> node;  // the first bucket's node in parent.children, if one was added
    // Old chains only: cells read with and without an evacuation mark, in chain order.
    std::uint64_t markedCells = 0, unmarkedCells = 0;
    bool lastMarkMovedAnEntry = false;  // evacuatedX/Y rather than evacuatedEmpty
    bool marksOutOfOrder = false;       // a mark after an unmarked cell (reported on its node)
};

// An old chain's state from the cells read so far: marks on all, none or a leading part of them.
Evacuation oldChainState(const Chain& chain) {
    if (chain.markedCells == 0) return Evacuation::NotEvacuated;
    if (chain.unmarkedCells == 0) return Evacuation::Evacuated;
    return Evacuation::InProgress;
}

class ClassicWalker : detail::MapWalker {
  public:
    ClassicWalker(const Memory& memory, const MapTypeLayout& layout, std::uint64_t address,
                  const WalkLimits& limits)
        : MapWalker(memory, layout, address, layout.classic.headerSize, limits), c_(layout.classic) {}

    MapResult run();

  private:
    bool readHeader();
    Chain walkChain(std::uint64_t bucket, std::int64_t index, bool old, MapNode& parent);
    // Why the overflow pointer next, held by node (link `link` of its chain), cannot be followed;
    // nullptr when it can.
    const char* overflowProblem(std::uint64_t next, std::uint32_t link);
    void walkBuckets();
    void walkOldBuckets();
    void checkExtra();
    // Inspect only (collectSlots): lists, under extra's node, the []*bmap slice at slice
    // (extra.overflow or extra.oldoverflow, as kind says) and the buckets it holds.
    void listOverflow(MapNode& extra, NodeKind kind, std::uint64_t slice);
    void judgeEvacuation(std::uint64_t index, Chain& chain);
    void checkCount();

    bool insideArray(std::uint64_t address, std::uint64_t array, std::uint64_t length) const {
        return array != 0 && address >= array && address - array < length * c_.bucketSize;
    }
    // Counts a bucket array of length main buckets as allocated; returns its extent in bytes,
    // within which overflow buckets are the preallocated ones, not allocations of their own.
    std::uint64_t countArray(std::uint64_t array, std::uint64_t length, std::uint64_t& bytes) {
        std::uint64_t allocated = allocation(array, arrayBuckets(length) * c_.bucketSize);
        bytes += allocated;
        return allocated;
    }
    // Counts an overflow bucket reached on a chain (newoverflow takes it from the array's
    // preallocated tail, else allocates it with newobject).
    void countOverflow(std::uint64_t bucket, bool old);
    bool budgetLeft() { return MapWalker::budgetLeft(visited_.size()); }

    const ClassicLayout& c_;

    std::int64_t count_ = 0;
    std::uint8_t flags_ = 0, B_ = 0;
    std::uint64_t buckets_ = 0, oldbuckets_ = 0, nevacuate_ = 0, extra_ = 0;
    std::uint64_t bucketsLength_ = 0, oldLength_ = 0;
    std::uint64_t bucketsExtent_ = 0, oldExtent_ = 0;  // bytes of each array's allocation
    std::uint64_t live_ = 0;
    std::vector<Evacuation> oldEvacuation_;
    // The one old bucket found part evacuated while hashWriting is set, and whether the last cell
    // evacuate() marked there held an entry.
    std::optional<std::uint64_t> evacuatingBucket_;
    bool evacuatingLastMarkMovedAnEntry_ = false;
    std::unordered_set<std::uint64_t> visited_;  // every bucket reached, for cycle detection
};

bool ClassicWalker::readHeader() {
    std::vector<std::byte> buffer(c_.headerSize);
    if (!MapWalker::readHeader(buffer)) return false;
    count_ = static_cast<std::int64_t>(headerField(buffer, "count", c_.count));
    flags_ = static_cast<std::uint8_t>(headerField(buffer, "flags", c_.flags));
    B_ = static_cast<std::uint8_t>(headerField(buffer, "B", c_.B));
    std::uint64_t noverflow = headerField(buffer, "noverflow", c_.noverflow);
    headerField(buffer, "hash0", c_.hash0);
    buckets_ = headerField(buffer, "buckets", c_.buckets);
    oldbuckets_ = headerField(buffer, "oldbuckets", c_.oldbuckets);
    nevacuate_ = headerField(buffer, "nevacuate", c_.nevacuate);
    if (c_.clearSeq.present) headerField(buffer, "clearSeq", c_.clearSeq);
    extra_ = headerField(buffer, "extra", c_.extra);
    result_.count = count_;

    std::uint64_t maxB = 0;
    while (maxB < 63 && (std::uint64_t{1} << (maxB + 1)) * c_.bucketSize < widestUserAddressEnd())
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
    result_.memory.header = allocation(result_.address, c_.headerSize);
    if (!plausible) return false;
    bucketsLength_ = std::uint64_t{1} << B_;
    if (oldbuckets_ != 0) oldLength_ = (flags_ & kSameSizeGrow) != 0 ? bucketsLength_ : bucketsLength_ >> 1;
    return true;
}

void ClassicWalker::countOverflow(std::uint64_t bucket, bool old) {
    std::uint64_t array = old ? oldbuckets_ : buckets_;
    std::uint64_t extent = old ? oldExtent_ : bucketsExtent_;
    if (!old) ++result_.memory.overflowBuckets;
    if (array != 0 && bucket >= array && bucket - array < extent) return;
    (old ? result_.memory.oldBuckets : result_.memory.overflow) += allocation(bucket, c_.bucketSize);
}

const char* ClassicWalker::overflowProblem(std::uint64_t next, std::uint32_t link) {
    switch (detail::classifyRange(memory_, next, c_.bucketSize)) {
        case detail::RangeState::Misaligned:
            return "is misaligned";
        case detail::RangeState::Unmapped:
            return "lies in no mapping";
        case detail::RangeState::RunsOff:
            return "starts in a mapping, but the bucket runs past its end into unmapped memory";
        case detail::RangeState::Followable:
        case detail::RangeState::NotCaptured:  // followed: the bucket's node reports it
            break;
    }
    if (visited_.count(next) != 0) return "points back to a bucket already on a chain (a cycle)";
    if (insideArray(next, buckets_, bucketsLength_) || insideArray(next, oldbuckets_, oldLength_))
        return "points into a main bucket array, where no overflow bucket lives";
    // maxChainLength is the number of overflow buckets allowed behind one bucket: node `link` may
    // point to overflow bucket link + 1 only while that is within the limit.
    if (link >= limits_.maxChainLength) return "extends the chain beyond the chain-length limit";
    return nullptr;
}

Chain ClassicWalker::walkChain(std::uint64_t bucket, std::int64_t index, bool old, MapNode& parent) {
    Chain chain;
    bool seenEmptyRest = false;
    std::uint64_t address = bucket;
    std::vector<std::byte> buffer(c_.bucketSize);
    for (std::uint32_t link = 0; address != 0; ++link) {
        if (!budgetLeft() || !analysisBudgetLeft(nodeBytes())) return chain;
        MapNode node;
        node.kind = link == 0 ? (old ? NodeKind::OldBucket : NodeKind::Bucket)
                              : (old ? NodeKind::OldOverflowBucket : NodeKind::OverflowBucket);
        node.address = address;
        node.size = c_.bucketSize;
        node.index = link == 0 ? index : link;
        visited_.insert(address);
        if (link == 0) chain.node = parent.children.size();
        ReadResult read = memory_.read(address, buffer);
        if (link > 0 && read.complete()) countOverflow(address, old);
        if (!read.complete()) {
            // A main bucket in a hole of its array is the array's fault (the array check sees only its
            // ends); an overflow bucket in one, its chain's. evacuation stays Unknown for a first bucket.
            if (link == 0)
                unreadable(node, read, fmt::format("{}bucket {}", old ? "old " : "", index),
                           old ? rules::kOldbucketsUnmapped : rules::kBucketsUnmapped, address);
            else
                unreadable(node, read, "overflow bucket", rules::kOverflowChainCorrupt, address);
            parent.children.push_back(std::move(node));
            return chain;
        }
        node.control.resize(kBucketCount);
        unsigned evacuatedCells = 0;
        for (unsigned i = 0; i < kBucketCount; ++i) {
            auto top = std::to_integer<std::uint8_t>(buffer[c_.tophash.offset + i]);
            node.control[i] = top;
            if (isEvacuatedMark(top)) {
                ++evacuatedCells;
                if (old && chain.unmarkedCells > 0 && !chain.marksOutOfOrder) {
                    chain.marksOutOfOrder = true;
                    add(node, rules::kControlBytesCorrupt, Severity::Error, address,
                        fmt::format(
                            "tophash[{}] of old bucket {}'s chain holds an evacuation mark after cells "
                            "that have none; evacuate() marks a chain's cells in order",
                            i, index));
                }
                ++chain.markedCells;
                chain.lastMarkMovedAnEntry = top != kEvacuatedEmpty;
                continue;
            }
            ++chain.unmarkedCells;
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
            countIndirect(slot);
            if (limits_.collectSlots) node.slots.push_back(slot);
        }
        if (evacuatedCells > 0 && !old) {
            add(node, rules::kControlBytesCorrupt, Severity::Error, address,
                fmt::format("{} of bucket {}'s tophash bytes hold evacuation marks (2..4), which only "
                            "old buckets being evacuated may hold",
                            evacuatedCells, index));
        }
        if (old) chain.evacuation = oldChainState(chain);
        if (old && link == 0 && evacuatedCells == kBucketCount && (flags_ & kHashWriting) == 0) {
            // evacuate() clears the old bucket's keys, elems and overflow pointer (memclrHasPointers)
            // when no old iterator exists; whatever is left there is not a live chain. While a write
            // is in progress the chain is walked on: evacuate() may have died in an overflow bucket.
            parent.children.push_back(std::move(node));
            return chain;
        }
        chain.live += node.liveEntries;
        std::uint64_t next = detail::fieldValue(buffer, c_.overflow);
        if (next != 0) {
            if (const char* problem = overflowProblem(next, link)) {
                add(node, rules::kOverflowChainCorrupt, Severity::Error, next,
                    fmt::format("overflow pointer of {} {} ({}) {}", toString(node.kind), hex(address),
                                hex(next), problem));
                // Whatever the chain holds beyond the cut was not walked.
                incomplete_ = true;
                if (link >= limits_.maxChainLength)
                    hitLimit(fmt::format("max-chain-length ({})", limits_.maxChainLength));
                next = 0;
            }
        }
        parent.children.push_back(std::move(node));
        address = next;
    }
    return chain;
}

void ClassicWalker::walkOldBuckets() {
    if (oldbuckets_ == 0) return;
    if (nevacuate_ > oldLength_) {
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            fmt::format("nevacuate = {} exceeds the {} old buckets being evacuated", nevacuate_, oldLength_));
    }
    if (oldLength_ == 0) {
        // oldbuckets with B = 0 and no sameSizeGrow, which readHeader reported: there is no telling how
        // many old buckets there are, so none is walked (and no 0-byte array is checked).
        incomplete_ = true;
        return;
    }
    if (!followable(header(), oldbuckets_, oldLength_ * c_.bucketSize, "oldbuckets",
                    rules::kOldbucketsUnmapped, rules::kHeaderImplausible))
        return;
    oldExtent_ = countArray(oldbuckets_, oldLength_, result_.memory.oldBuckets);
    oldEvacuation_.assign(oldLength_, Evacuation::Unknown);
    for (std::uint64_t j = 0; j < oldLength_; ++j) {
        Chain chain =
            walkChain(oldbuckets_ + j * c_.bucketSize, static_cast<std::int64_t>(j), true, header());
        live_ += chain.live;
        judgeEvacuation(j, chain);
        oldEvacuation_[j] = chain.evacuation;
        // advanceEvacuationMark moves nevacuate only past evacuated buckets. A bucket whose tophash
        // is not captured (Unknown) proves nothing either way.
        if ((chain.evacuation == Evacuation::NotEvacuated || chain.evacuation == Evacuation::InProgress) &&
            j < nevacuate_) {
            add(header().children[*chain.node], rules::kControlBytesCorrupt, Severity::Error,
                oldbuckets_ + j * c_.bucketSize,
                fmt::format("old bucket {} is below nevacuate = {} but not evacuated", j, nevacuate_));
        }
        if (!budgetLeft()) return;
    }
}

// A part-evacuated old chain is what a process killed inside evacuate() leaves, so it is expected
// for one bucket while hashWriting is set (growWork evacuates under it, one bucket at a time).
// Any other is damage, and the chain then counts as not evacuated.
void ClassicWalker::judgeEvacuation(std::uint64_t index, Chain& chain) {
    if (chain.evacuation != Evacuation::InProgress) return;
    std::uint64_t address = oldbuckets_ + index * c_.bucketSize;
    MapNode& node = header().children[*chain.node];
    if (chain.marksOutOfOrder) {
        chain.evacuation = Evacuation::NotEvacuated;  // reported on the bucket holding the stray mark
    } else if ((flags_ & kHashWriting) == 0) {
        chain.evacuation = Evacuation::NotEvacuated;
        add(node, rules::kControlBytesCorrupt, Severity::Error, address,
            fmt::format("old bucket {} mixes evacuation marks with live or empty cells while no write is in "
                        "progress (hashWriting clear); evacuate() finishes a bucket's chain before the write "
                        "that called it returns",
                        index));
    } else if (evacuatingBucket_) {
        chain.evacuation = Evacuation::NotEvacuated;
        add(node, rules::kControlBytesCorrupt, Severity::Error, address,
            fmt::format("old bucket {} is part evacuated, and so is old bucket {}; evacuate() works on one "
                        "bucket at a time",
                        index, *evacuatingBucket_));
    } else {
        evacuatingBucket_ = index;
        evacuatingLastMarkMovedAnEntry_ = chain.lastMarkMovedAnEntry;
        add(node, rules::kWriteInProgress, Severity::Warning, address,
            fmt::format(
                "old bucket {} was being evacuated when the process died: evacuate() had marked {} of "
                "its chain's cells and not reached the other {}; entries are counted where they are",
                index, chain.markedCells, chain.unmarkedCells));
    }
}

void ClassicWalker::walkBuckets() {
    if (buckets_ == 0) return;
    if (!followable(header(), buckets_, bucketsLength_ * c_.bucketSize, "buckets", rules::kBucketsUnmapped,
                    rules::kHeaderImplausible))
        return;
    bucketsExtent_ = countArray(buckets_, bucketsLength_, result_.memory.buckets);
    for (std::uint64_t i = 0; i < bucketsLength_; ++i) {
        Chain chain = walkChain(buckets_ + i * c_.bucketSize, static_cast<std::int64_t>(i), false, header());
        live_ += chain.live;
        // During growth a new bucket fills only once its source old bucket has been evacuated
        // (growWork evacuates before mapassign writes). A source that could not be read proves
        // nothing.
        if (chain.live > 0 && !oldEvacuation_.empty()) {
            std::uint64_t source = i & (oldLength_ - 1);
            if (oldEvacuation_[source] == Evacuation::NotEvacuated) {
                add(header().children[*chain.node], rules::kControlBytesCorrupt, Severity::Error,
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
    } else if (c_.extraSize > 0) {
        result_.memory.header += allocation(extra_, c_.extraSize);
    }
    if (state == AddressState::Captured && c_.extraNextOverflow.present) {
        auto next = reader_.u64(extra_ + c_.extraNextOverflow.offset);
        if (next && *next != 0 && memory_.classify(*next) == AddressState::Unmapped)
            add(node, rules::kOverflowChainCorrupt, Severity::Error, *next,
                fmt::format("extra.nextOverflow = {} lies in no mapping", hex(*next)));
        if (next && *next != 0 && limits_.collectSlots) {
            MapNode nextOverflow;
            nextOverflow.kind = NodeKind::NextOverflow;
            nextOverflow.address = *next;
            nextOverflow.size = c_.bucketSize;
            nextOverflow.state = memory_.classify(*next);
            node.children.push_back(std::move(nextOverflow));
        }
    }
    // What extra lists is what the chains hold (newoverflow appends every overflow bucket it
    // allocates for a map whose buckets hold no pointers, so that the GC keeps them alive), so a
    // report's walk does not read it; a person inspecting the map sees it.
    if (state == AddressState::Captured && limits_.collectSlots) {
        const std::pair<const FieldSlot*, NodeKind> lists[] = {
            {&c_.extraOverflow, NodeKind::OverflowList}, {&c_.extraOldOverflow, NodeKind::OldOverflowList}};
        for (const auto& [slot, kind] : lists) {
            if (!slot->present) continue;
            auto slice = reader_.u64(extra_ + slot->offset);
            if (slice && *slice != 0) listOverflow(node, kind, *slice);
        }
    }
    header().children.push_back(std::move(node));
}

void ClassicWalker::listOverflow(MapNode& extra, NodeKind kind, std::uint64_t slice) {
    MapNode list;
    list.kind = kind;
    list.address = slice;
    list.size = kSliceHeaderSize;
    std::array<std::byte, kSliceHeaderSize> sliceHeader{};
    ReadResult read = memory_.read(slice, sliceHeader);
    list.state = read.state;
    if (read.complete()) {
        const std::uint64_t data = loadUnsigned(sliceHeader.data(), 8);
        const std::uint64_t length = loadUnsigned(sliceHeader.data() + 8, 8);
        const std::uint64_t capacity = loadUnsigned(sliceHeader.data() + 16, 8);
        // A length past the capacity or past the buckets a walk may visit, or an array that would
        // wrap around the address space, is no slice the runtime made: nothing of it is listed.
        const bool plausible = length <= capacity && length <= limits_.maxBucketsPerMap &&
                               (length == 0 || (data != 0 && data <= UINT64_MAX - length * 8));
        std::vector<std::byte> chunk;
        for (std::uint64_t first = 0; plausible && first < length; first += kListChunk) {
            chunk.resize(std::min(kListChunk, length - first) * 8);
            ReadResult part = memory_.read(data + first * 8, chunk);
            // Only pointers read whole are listed; the list's state says where reading stopped.
            for (std::uint64_t i = 0; i < part.bytesRead / 8; ++i) {
                if (!analysisBudgetLeft(nodeBytes())) break;
                MapNode bucket;
                bucket.kind = NodeKind::ListedOverflowBucket;
                bucket.address = loadUnsigned(chunk.data() + i * 8, 8);
                bucket.size = c_.bucketSize;
                bucket.index = static_cast<std::int64_t>(first + i);
                bucket.state = memory_.classify(bucket.address);
                list.children.push_back(std::move(bucket));
            }
            if (!part.complete()) {
                list.state = part.state;
                break;
            }
        }
    }
    extra.children.push_back(std::move(list));
}

MapResult ClassicWalker::run() {
    if (readHeader()) {
        walkOldBuckets();
        walkBuckets();
        checkExtra();
        // Slots the map can fill without growing: the main buckets and the overflow buckets
        // linked on their chains (the old array is being emptied into these).
        if (buckets_ != 0)
            result_.memory.capacity = (bucketsLength_ + result_.memory.overflowBuckets) * kBucketCount;
    } else {
        incomplete_ = true;
    }
    finish(live_);
    checkCount();
    return std::move(result_);
}

void ClassicWalker::checkCount() {
    if (!countComparable() || static_cast<std::uint64_t>(count_) == live_) return;
    // evacuate() marks an entry's old cell before it writes the entry's tophash into the new bucket,
    // and may allocate an overflow bucket in between (newoverflow): dying there leaves the entry in
    // neither place the walk counts.
    if (evacuatingBucket_ && evacuatingLastMarkMovedAnEntry_ &&
        static_cast<std::uint64_t>(count_) == live_ + 1) {
        add(header(), rules::kWriteInProgress, Severity::Warning, result_.address,
            fmt::format("count = {} is one more than the {} live entries found: the last entry evacuate() "
                        "marked in old bucket {} was not yet written to its new bucket",
                        count_, live_, *evacuatingBucket_));
        return;
    }
    add(header(), rules::kCountMismatch, Severity::Error, result_.address,
        fmt::format("count = {} but the buckets hold {} live entries{}", count_, live_,
                    oldbuckets_ != 0 ? " (old buckets not yet evacuated included)" : ""));
}

}  // namespace

MapResult walkClassicMap(const Memory& memory, const MapTypeLayout& layout, std::uint64_t address,
                         const WalkLimits& limits) {
    return ClassicWalker(memory, layout, address, limits).run();
}

}  // namespace gomapcore
