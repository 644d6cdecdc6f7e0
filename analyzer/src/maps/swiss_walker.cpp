// Walks and validates a swiss-table Go map. Follows golang/go src/internal/runtime/maps
// @go1.24..1.27: map.go (Map, directory, small maps), table.go (table, growthLeft, split),
// group.go (control bytes), and table_debug.go's checkInvariants, which is the runtime's own
// (compiled-out) definition of a valid table.
#include <fmt/format.h>

#include <unordered_map>

#include "gomapcore/map_model.h"
#include "maps/walk_common.h"

namespace gomapcore {
namespace {

using detail::hex;

constexpr std::uint8_t kCtrlEmpty = 0x80;
constexpr std::uint8_t kCtrlDeleted = 0xfe;
constexpr unsigned kGroupSlots = 8;
constexpr std::uint64_t kMaxTableCapacity = 1024;  // maxTableCapacity, table.go

bool isFull(std::uint8_t ctrl) {
    return (ctrl & 0x80) == 0;
}

// maxGrowthLeft (table.go @go1.25; resetGrowthLeft @go1.24): capacity-1 for one group,
// otherwise 7/8 of the capacity (maxAvgGroupLoad = 7).
std::uint64_t maxGrowthLeft(std::uint64_t capacity) {
    return capacity <= kGroupSlots ? capacity - 1 : capacity * 7 / 8;
}

struct GroupCounts {
    unsigned full = 0, deleted = 0, empty = 0;
};

class SwissWalker : detail::MapWalker {
  public:
    SwissWalker(const Memory& memory, const MapTypeLayout& layout, std::uint64_t address,
                const WalkLimits& limits)
        : MapWalker(memory, layout, address, layout.swiss.headerSize, limits), s_(layout.swiss) {}

    MapResult run();

  private:
    bool readHeader();
    // Reads and checks one group; adds its node to parent. unmappedRule names a hole in the
    // group's array.
    bool walkGroup(std::uint64_t address, std::int64_t index, bool small, const char* unmappedRule,
                   MapNode& parent, GroupCounts& counts);
    void walkSmall();
    void walkDirectory();
    void walkTable(std::uint64_t table, std::int64_t dirIndex, MapNode& parent);

    bool budgetLeft() { return MapWalker::budgetLeft(groupsVisited_); }

    const SwissLayout& s_;

    std::uint64_t used_ = 0, dirPtr_ = 0, writing_ = 0;
    std::int64_t dirLen_ = 0;
    std::uint8_t globalDepth_ = 0, globalShift_ = 0;
    std::uint64_t live_ = 0;
    std::uint64_t groupsVisited_ = 0;
};

bool SwissWalker::readHeader() {
    std::vector<std::byte> buffer(s_.headerSize);
    if (!MapWalker::readHeader(buffer)) return false;
    used_ = headerField(buffer, "used", s_.used);
    headerField(buffer, "seed", s_.seed);
    dirPtr_ = headerField(buffer, "dirPtr", s_.dirPtr);
    dirLen_ = static_cast<std::int64_t>(headerField(buffer, "dirLen", s_.dirLen));
    globalDepth_ = static_cast<std::uint8_t>(headerField(buffer, "globalDepth", s_.globalDepth));
    globalShift_ = static_cast<std::uint8_t>(headerField(buffer, "globalShift", s_.globalShift));
    writing_ = headerField(buffer, "writing", s_.writing);
    if (s_.tombstonePossible.present) headerField(buffer, "tombstonePossible", s_.tombstonePossible);
    if (s_.clearSeq.present) headerField(buffer, "clearSeq", s_.clearSeq);
    result_.count = static_cast<std::int64_t>(used_);
    result_.memory.header = allocation(result_.address, s_.headerSize);

    bool plausible = true;
    if (static_cast<std::int64_t>(used_) < 0) {
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            fmt::format("used = {} is negative as an int", static_cast<std::int64_t>(used_)));
        plausible = false;
    }
    if (dirLen_ < 0) {
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            fmt::format("dirLen = {} is negative", dirLen_));
        plausible = false;
    }
    if (dirLen_ == 0 && used_ > kGroupSlots) {
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            fmt::format("small map (dirLen = 0) claims used = {}, but one group holds at most 8", used_));
    }
    if (dirLen_ == 0 && (globalDepth_ != 0 || globalShift_ != 0)) {
        // map.go: NewMap sets globalDepth/globalShift only when it makes a directory, NewEmptyMap and
        // small hints leave them 0, and only growToTable changes them, after setting dirLen = 1. No
        // path shrinks a map back to small.
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            fmt::format("small map (dirLen = 0) has globalDepth = {} and globalShift = {}; the runtime only "
                        "sets them when it makes a directory",
                        globalDepth_, globalShift_));
    }
    if (dirPtr_ == 0 && (used_ != 0 || dirLen_ > 0)) {
        // Only a never-written map has a nil dirPtr (growToSmall is lazy), and it is empty and small.
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            fmt::format("dirPtr is nil but used = {} and dirLen = {}; only an empty, never-written small map "
                        "has a nil dirPtr",
                        used_, dirLen_));
    }
    if (writing_ > 1) {
        add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
            fmt::format("writing = {}: the runtime only toggles it between 0 and 1", writing_));
    } else if (writing_ != 0) {
        add(header(), rules::kWriteInProgress, Severity::Warning, result_.address,
            "writing is set: a write was in progress when the process died (racy evidence: writers toggle it "
            "with XOR, so two writers can also leave it at 0)");
    }
    if (dirLen_ > 0) {
        if (globalDepth_ >= 64 || dirLen_ != (std::int64_t{1} << globalDepth_)) {
            add(header(), rules::kDirectoryCorrupt, Severity::Error, result_.address,
                fmt::format("dirLen = {} is not 1 << globalDepth (globalDepth = {})", dirLen_, globalDepth_));
            plausible = false;
        } else if (globalShift_ != 64 - globalDepth_) {
            add(header(), rules::kDirectoryCorrupt, Severity::Error, result_.address,
                fmt::format("globalShift = {} but 64 - globalDepth = {}", globalShift_, 64 - globalDepth_));
        }
        if (static_cast<std::uint64_t>(dirLen_) > limits_.maxDirectoryEntries) {
            hitLimit(fmt::format("max-directory-entries ({})", limits_.maxDirectoryEntries));
            add(header(), rules::kHeaderImplausible, Severity::Error, result_.address,
                fmt::format("dirLen = {} exceeds the directory limit of {} entries", dirLen_,
                            limits_.maxDirectoryEntries));
            plausible = false;
        }
    }
    return plausible;
}

bool SwissWalker::walkGroup(std::uint64_t address, std::int64_t index, bool small, const char* unmappedRule,
                            MapNode& parent, GroupCounts& counts) {
    ++groupsVisited_;
    MapNode node;
    node.kind = NodeKind::Group;
    node.address = address;
    node.size = s_.groupSize;
    node.index = index;
    std::byte ctrlBytes[kGroupSlots];
    ReadResult read = memory_.read(address + s_.ctrl.offset, ctrlBytes);
    if (!read.complete()) {
        unreadable(node, read, fmt::format("group {}", index), unmappedRule, address);
        parent.children.push_back(std::move(node));
        return false;
    }
    node.control.resize(kGroupSlots);
    for (unsigned i = 0; i < kGroupSlots; ++i) {
        auto ctrl = std::to_integer<std::uint8_t>(ctrlBytes[i]);
        node.control[i] = ctrl;
        if (isFull(ctrl)) {
            ++counts.full;
            ++node.liveEntries;
            Slot slot = detail::inspectSlot(memory_, layout_, address, i, ctrl, result_.address, node);
            countIndirect(slot);
            if (limits_.collectSlots) node.slots.push_back(slot);
        } else if (ctrl == kCtrlEmpty) {
            ++counts.empty;
        } else if (ctrl == kCtrlDeleted) {
            ++counts.deleted;
            if (small)
                add(node, rules::kControlBytesCorrupt, Severity::Error, address,
                    fmt::format("ctrl[{}] = 0xfe (deleted) in a small map; deleteSmall always writes empty",
                                i));
        } else {
            add(node, rules::kControlBytesCorrupt, Severity::Error, address,
                fmt::format("ctrl[{}] = {:#04x} is neither empty (0x80), deleted (0xfe) nor full (0x00-0x7f)",
                            i, ctrl));
        }
    }
    live_ += node.liveEntries;
    parent.children.push_back(std::move(node));
    return true;
}

void SwissWalker::walkSmall() {
    // dirPtr is a header field: a misaligned one is a header fault, as classic buckets is.
    if (!followable(header(), dirPtr_, s_.groupSize, "dirPtr", rules::kBucketsUnmapped,
                    rules::kHeaderImplausible))
        return;
    // growToSmall (map.go): one group, newGroups(typ, 1).
    result_.memory.buckets = allocation(dirPtr_, s_.groupSize);
    result_.memory.capacity = kGroupSlots;
    GroupCounts counts;
    walkGroup(dirPtr_, 0, true, rules::kBucketsUnmapped, header(), counts);
}

void SwissWalker::walkTable(std::uint64_t table, std::int64_t dirIndex, MapNode& parent) {
    MapNode node;
    node.kind = NodeKind::Table;
    node.address = table;
    node.size = s_.tableSize;
    node.index = dirIndex;
    std::vector<std::byte> buffer(s_.tableSize);
    ReadResult read = memory_.read(table, buffer);
    if (!read.complete()) {
        unreadable(node, read, "table", rules::kTableUnmapped, table);
        parent.children.push_back(std::move(node));
        return;
    }
    std::uint64_t used = detail::fieldValue(buffer, s_.tableUsed);
    std::uint64_t capacity = detail::fieldValue(buffer, s_.capacity);
    std::uint64_t growthLeft = detail::fieldValue(buffer, s_.growthLeft);
    std::uint64_t groups = detail::fieldValue(buffer, s_.groupsData);
    std::uint64_t lengthMask = detail::fieldValue(buffer, s_.lengthMask);
    // newTable (table.go): new(table), then its groups with newGroups.
    result_.memory.directory += allocation(table, s_.tableSize);

    bool shapeOk = true;
    if (capacity < kGroupSlots || capacity > kMaxTableCapacity || (capacity & (capacity - 1)) != 0) {
        add(node, rules::kDirectoryCorrupt, Severity::Error, table,
            fmt::format("table capacity = {} is not a power of two in [8, 1024]", capacity));
        shapeOk = false;
    } else if (lengthMask + 1 != capacity / kGroupSlots) {
        add(node, rules::kDirectoryCorrupt, Severity::Error, table,
            fmt::format("groups.lengthMask = {} does not match capacity {} (expected {})", lengthMask,
                        capacity, capacity / kGroupSlots - 1));
        shapeOk = false;
    }
    if (shapeOk && used > maxGrowthLeft(capacity)) {
        add(node, rules::kDirectoryCorrupt, Severity::Error, table,
            fmt::format("table used = {} exceeds the {} slots a capacity-{} table may fill", used,
                        maxGrowthLeft(capacity), capacity));
    }
    if (!shapeOk) incomplete_ = true;  // the group array's length is unknown: no group is walked
    if (!shapeOk || !followable(node, groups, (lengthMask + 1) * s_.groupSize, "groups.data",
                                rules::kGroupsUnmapped, rules::kGroupsUnmapped)) {
        parent.children.push_back(std::move(node));
        return;
    }
    result_.memory.buckets += allocation(groups, (lengthMask + 1) * s_.groupSize);
    result_.memory.capacity += capacity;
    GroupCounts counts;
    bool allRead = true;
    for (std::uint64_t g = 0; g <= lengthMask; ++g) {
        if (!budgetLeft() || !analysisBudgetLeft(nodeBytes())) {
            allRead = false;
            break;
        }
        allRead &= walkGroup(groups + g * s_.groupSize, static_cast<std::int64_t>(g), false,
                             rules::kGroupsUnmapped, node, counts);
    }
    if (allRead) {
        // table_debug.go checkInvariants.
        if (counts.full != used) {
            add(node, rules::kCountMismatch, Severity::Error, table,
                fmt::format("table used = {} but its groups hold {} full slots", used, counts.full));
        }
        std::uint64_t budget = maxGrowthLeft(capacity);
        if (used + growthLeft > budget || budget - used - growthLeft != counts.deleted) {
            add(node, rules::kDirectoryCorrupt, Severity::Error, table,
                fmt::format(
                    "growthLeft = {} is inconsistent: capacity {} allows {} insertions, used = {}, and the "
                    "groups hold {} tombstones",
                    growthLeft, capacity, budget, used, counts.deleted));
        }
        if (counts.empty == 0) {
            add(node, rules::kControlBytesCorrupt, Severity::Error, table,
                "table has no empty slot; probing would never terminate (checkInvariants requires one)");
        }
    }
    parent.children.push_back(std::move(node));
}

void SwissWalker::walkDirectory() {
    std::uint64_t length = static_cast<std::uint64_t>(dirLen_);
    if (!followable(header(), dirPtr_, length * 8, "dirPtr", rules::kBucketsUnmapped,
                    rules::kHeaderImplausible))
        return;
    MapNode directory;
    directory.kind = NodeKind::Directory;
    directory.address = dirPtr_;
    directory.size = length * 8;
    // The directory is a make([]*table, dirLen) (map.go growToTable, installTableSplit).
    result_.memory.directory += allocation(dirPtr_, length * 8);
    if (!analysisBudgetLeft(length * 8)) {
        header().children.push_back(std::move(directory));
        return;
    }
    std::vector<std::uint64_t> entries(length);
    ReadResult read =
        memory_.read(dirPtr_, std::span<std::byte>(reinterpret_cast<std::byte*>(entries.data()), length * 8));
    if (!read.complete()) {
        unreadable(directory, read, "directory", rules::kBucketsUnmapped, dirPtr_ + read.bytesRead);
        header().children.push_back(std::move(directory));
        return;
    }
    // Where each table seen so far may appear: a table of localDepth L owns the 1 << (globalDepth - L)
    // consecutive entries from its index (map.go replaceTable, installTableSplit). No span is kept
    // for a table whose placement was already reported or could not be read.
    struct Placement {
        std::uint64_t first = 0, span = 0;
        bool checked = false;
    };
    std::unordered_map<std::uint64_t, Placement> seen;
    for (std::uint64_t i = 0; i < length; ++i) {
        std::uint64_t table = entries[i];
        std::string field = fmt::format("directory[{}]", i);
        if (table == 0) {
            add(directory, rules::kDirectoryCorrupt, Severity::Error, dirPtr_ + i * 8,
                fmt::format("{} is nil; every directory entry points to a table", field));
            incomplete_ = true;  // the table that belongs here, and its entries, are lost
            continue;
        }
        if (auto it = seen.find(table); it != seen.end()) {
            Placement& p = it->second;
            if (p.checked && (i < p.first || i - p.first >= p.span)) {
                add(directory, rules::kDirectoryCorrupt, Severity::Error, dirPtr_ + i * 8,
                    fmt::format(
                        "{} points to table {}, whose localDepth confines it to the {} entries from {}",
                        field, hex(table), p.span, p.first));
                p.checked = false;  // one finding per misplaced table
            }
            continue;  // an alias of a table already walked
        }
        if (!analysisBudgetLeft(nodeBytes())) break;
        Placement& placement = seen[table];
        if (!followable(directory, table, s_.tableSize, field.c_str(), rules::kTableUnmapped,
                        rules::kTableUnmapped))
            continue;
        auto localDepth = reader_.unsignedOfSize(table + s_.localDepth.offset, s_.localDepth.size);
        auto index = reader_.unsignedOfSize(table + s_.index.offset, s_.index.size);
        if (!localDepth || !index) {
            walkTable(table, static_cast<std::int64_t>(i), directory);  // reports the capture problem
            continue;
        }
        auto tableIndex = static_cast<std::int64_t>(*index);
        ++result_.tables;
        if (*localDepth > globalDepth_) {
            add(directory, rules::kDirectoryCorrupt, Severity::Error, table,
                fmt::format("table at {} has localDepth = {} above globalDepth = {}", hex(table), *localDepth,
                            globalDepth_));
        } else if (tableIndex != static_cast<std::int64_t>(i)) {
            add(directory, rules::kDirectoryCorrupt, Severity::Error, table,
                fmt::format(
                    "{} points to table {} whose index is {} (expected {}: a table first appears at its "
                    "own index)",
                    field, hex(table), tableIndex, i));
        } else {
            std::uint64_t span = std::uint64_t{1} << (globalDepth_ - *localDepth);
            placement = Placement{i, span, true};
            for (std::uint64_t k = i; k < i + span && k < length; ++k) {
                if (entries[k] != table) {
                    add(directory, rules::kDirectoryCorrupt, Severity::Error, dirPtr_ + k * 8,
                        fmt::format(
                            "directory[{}] = {} breaks the alias run of table {} (localDepth {} spans {} "
                            "entries from {})",
                            k, hex(entries[k]), hex(table), *localDepth, span, i));
                    break;
                }
            }
        }
        walkTable(table, static_cast<std::int64_t>(i), directory);
    }
    header().children.push_back(std::move(directory));
}

MapResult SwissWalker::run() {
    if (readHeader()) {
        if (dirPtr_ != 0) {
            if (dirLen_ == 0)
                walkSmall();
            else
                walkDirectory();
        }
    } else {
        incomplete_ = true;
    }
    finish(live_);
    if (countComparable() && live_ != used_) {
        add(header(), rules::kCountMismatch, Severity::Error, result_.address,
            fmt::format("used = {} but the {} hold {} full slots", used_, dirLen_ == 0 ? "group" : "tables",
                        live_));
    }
    return std::move(result_);
}

}  // namespace

MapResult walkSwissMap(const Memory& memory, const MapTypeLayout& layout, std::uint64_t address,
                       const WalkLimits& limits) {
    return SwissWalker(memory, layout, address, limits).run();
}

}  // namespace gomapcore
