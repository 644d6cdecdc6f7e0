#include "maps/walk_common.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "maps/walkers.h"

namespace gomapcore {

const char* toString(Severity severity) {
    switch (severity) {
        case Severity::Info:
            return "info";
        case Severity::Warning:
            return "warning";
        case Severity::Error:
            return "error";
    }
    return "unknown";
}

const char* toString(NodeKind kind) {
    switch (kind) {
        case NodeKind::Header:
            return "header";
        case NodeKind::Bucket:
            return "bucket";
        case NodeKind::OverflowBucket:
            return "overflow-bucket";
        case NodeKind::OldBucket:
            return "old-bucket";
        case NodeKind::OldOverflowBucket:
            return "old-overflow-bucket";
        case NodeKind::Extra:
            return "extra";
        case NodeKind::Directory:
            return "directory";
        case NodeKind::Table:
            return "table";
        case NodeKind::Group:
            return "group";
        case NodeKind::OverflowList:
            return "overflow-list";
        case NodeKind::OldOverflowList:
            return "old-overflow-list";
        case NodeKind::ListedOverflowBucket:
            return "listed-overflow-bucket";
        case NodeKind::NextOverflow:
            return "next-overflow";
    }
    return "unknown";
}

namespace {
void collect(const MapNode& node, std::vector<Finding>& out) {
    out.insert(out.end(), node.findings.begin(), node.findings.end());
    for (const MapNode& child : node.children)
        collect(child, out);
}
}  // namespace

std::vector<Finding> MapResult::findings() const {
    std::vector<Finding> out;
    collect(root, out);
    return out;
}

MapStatus MapResult::status() const {
    Severity worst = Severity::Info;
    bool any = false;
    for (const Finding& f : findings()) {
        if (!any || f.severity > worst) worst = f.severity;
        any = true;
    }
    if (any && worst == Severity::Error) return MapStatus::Damaged;
    if (!headerReadable || !complete) return MapStatus::Incomplete;
    if (any && worst == Severity::Warning) return MapStatus::Suspect;
    return MapStatus::Ok;
}

const char* toString(MapStatus status) {
    switch (status) {
        case MapStatus::Damaged:
            return "damaged";
        case MapStatus::Incomplete:
            return "incomplete";
        case MapStatus::Suspect:
            return "suspect";
        case MapStatus::Ok:
            return "ok";
    }
    return "unknown";
}

const char* toString(MapLayoutKind kind) {
    return kind == MapLayoutKind::Classic ? "classic" : "swiss";
}

const char* toString(Confidence confidence) {
    switch (confidence) {
        case Confidence::Exact:
            return "exact";
        case Confidence::Heuristic:
            return "heuristic";
        case Confidence::HeapTyped:
            return "heap-typed";
    }
    return "heuristic";
}

RootDescription MapResult::rootKind(std::size_t i) const {
    if (i < rootKinds.size()) return rootKinds[i];
    const bool stack = i < roots.size() && roots[i].rfind("goroutine ", 0) == 0;
    return RootDescription{stack ? "goroutine" : "global", {}};
}

std::vector<std::int64_t> MapResult::holdingGoroutines() const {
    // Stack roots are named "goroutine <id> <function> <variable>" (analysis/roots.cpp).
    constexpr std::string_view kPrefix = "goroutine ";
    std::vector<std::int64_t> ids;
    for (const std::string& name : roots) {
        if (name.rfind(kPrefix, 0) != 0) continue;
        std::int64_t id = 0;
        const char* begin = name.data() + kPrefix.size();
        const char* end = name.data() + name.size();
        auto [next, error] = std::from_chars(begin, end, id);
        if (error == std::errc() && next != begin && (next == end || *next == ' ')) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

std::vector<MapResult::Place> MapResult::places(std::size_t max) const {
    std::vector<Place> out;
    std::vector<const MapNode*> stack{&root};
    while (!stack.empty()) {
        const MapNode* node = stack.back();
        stack.pop_back();
        if (node->address != 0) out.push_back(Place{node->address, node->kind, node->state, {}});
        for (const Finding& finding : node->findings)
            if (finding.address != 0 && finding.severity >= Severity::Warning)
                out.push_back(Place{finding.address, node->kind, node->state, finding.rule});
        for (const MapNode& child : node->children)
            stack.push_back(&child);
    }
    // By address, a finding's place before a node's at the same address (unique keeps the first).
    auto byAddress = [](const Place& a, const Place& b) {
        return a.address != b.address ? a.address < b.address : a.rule > b.rule;
    };
    std::sort(out.begin(), out.end(), byAddress);
    out.erase(std::unique(out.begin(), out.end(),
                          [](const Place& a, const Place& b) { return a.address == b.address; }),
              out.end());
    if (out.size() > max) {
        // Cut, the places whose memory is not captured (the suspect ones) are kept first.
        std::stable_partition(out.begin(), out.end(), [](const Place& p) { return p.suspect(); });
        out.resize(max);
        std::sort(out.begin(), out.end(), byAddress);
    }
    return out;
}

std::string MapResult::typeName() const {
    return layout != nullptr && layout->mapType != nullptr ? layout->mapType->name : std::string("map");
}

void dropStructure(MapResult& map, AnalysisBudget* budget) {
    if (map.root.children.empty()) return;
    std::vector<Finding> findings = map.findings();
    std::uint64_t nodes = 0;
    std::vector<const MapNode*> stack{&map.root};
    while (!stack.empty()) {
        const MapNode* node = stack.back();
        stack.pop_back();
        ++nodes;
        for (const MapNode& child : node->children)
            stack.push_back(&child);
    }
    map.root.children.clear();
    map.root.children.shrink_to_fit();
    map.root.findings = std::move(findings);
    if (budget != nullptr) budget->release((nodes - 1) * detail::MapWalker::nodeCharge(false));
}

MapResult walkMap(const Memory& memory, const MapTypeLayout& layout, std::uint64_t address,
                  const WalkLimits& limits) {
    return layout.kind == MapLayoutKind::Classic ? walkClassicMap(memory, layout, address, limits)
                                                 : walkSwissMap(memory, layout, address, limits);
}

namespace detail {

std::string hex(std::uint64_t value) {
    return fmt::format("{:#x}", value);
}

Finding makeFinding(const char* rule, Severity severity, std::uint64_t map, std::uint64_t address,
                    std::string message) {
    return Finding{rule, severity, map, address, std::move(message)};
}

std::uint64_t fieldValue(const std::vector<std::byte>& buffer, const FieldSlot& slot) {
    if (!slot.present || slot.size == 0 || slot.size > 8 || slot.offset + slot.size > buffer.size()) return 0;
    return loadUnsigned(buffer.data() + slot.offset, slot.size);
}

RangeState classifyRange(const Memory& memory, std::uint64_t pointer, std::uint64_t bytes) {
    if (pointer % 8 != 0) return RangeState::Misaligned;
    AddressState first = memory.classify(pointer);
    if (first == AddressState::Unmapped) return RangeState::Unmapped;
    if (first == AddressState::NotCaptured) return RangeState::NotCaptured;
    // A zero-byte range is its start (an empty array needs no memory behind it).
    if (bytes == 0) return RangeState::Followable;
    std::uint64_t last = pointer + bytes - 1;
    if (last < pointer || memory.classify(last) == AddressState::Unmapped) return RangeState::RunsOff;
    return RangeState::Followable;
}

MapWalker::MapWalker(const Memory& memory, const MapTypeLayout& layout, std::uint64_t address,
                     std::uint64_t headerSize, const WalkLimits& limits)
    : memory_(memory), reader_(memory), layout_(layout), limits_(limits) {
    result_.address = address;
    result_.layout = &layout;
    result_.root.kind = NodeKind::Header;
    result_.root.address = address;
    result_.root.size = headerSize;
}

void MapWalker::add(MapNode& node, const char* rule, Severity severity, std::uint64_t address,
                    std::string message) {
    node.findings.push_back(makeFinding(rule, severity, result_.address, address, std::move(message)));
}

bool MapWalker::readHeader(std::vector<std::byte>& buffer) {
    ReadResult read = memory_.read(result_.address, buffer);
    if (!read.complete()) {
        unreadable(header(), read, "map header", rules::kHeaderUnmapped, result_.address);
        return false;
    }
    result_.headerReadable = true;
    result_.header.reserve(10);
    return true;
}

std::uint64_t MapWalker::headerField(const std::vector<std::byte>& buffer, const char* name,
                                     const FieldSlot& slot) {
    std::uint64_t value = fieldValue(buffer, slot);
    if (slot.present) result_.header.emplace_back(name, value);
    return value;
}

bool MapWalker::followable(MapNode& node, std::uint64_t pointer, std::uint64_t bytes, const char* field,
                           const char* unmappedRule, const char* misalignedRule) {
    switch (classifyRange(memory_, pointer, bytes)) {
        case RangeState::Followable:
            return true;
        case RangeState::Misaligned:
            add(node, misalignedRule, Severity::Error, pointer,
                fmt::format("{} = {} is not pointer-aligned", field, hex(pointer)));
            break;
        case RangeState::Unmapped:
            add(node, unmappedRule, Severity::Error, pointer,
                fmt::format("{} = {} lies in no mapping of the process", field, hex(pointer)));
            break;
        case RangeState::RunsOff:
            add(node, unmappedRule, Severity::Error, pointer,
                fmt::format("{} = {} starts in mapped memory but its {} bytes run into unmapped memory",
                            field, hex(pointer), bytes));
            break;
        case RangeState::NotCaptured:
            add(node, rules::kPointerNotCaptured, Severity::Warning, pointer,
                fmt::format(
                    "{} = {} is in a mapping the core did not capture; nothing behind it can be checked",
                    field, hex(pointer)));
            break;
    }
    // Whatever lies behind the pointer was not walked.
    incomplete_ = true;
    return false;
}

void MapWalker::unreadable(MapNode& node, const ReadResult& read, const std::string& what,
                           const char* unmappedRule, std::uint64_t at) {
    node.state = read.state;
    incomplete_ = true;
    const std::uint64_t missing = node.address + read.bytesRead;
    if (read.state == AddressState::Unmapped) {
        add(node, unmappedRule, Severity::Error, at,
            read.bytesRead == 0
                ? fmt::format("{} at {} lies in no mapping of the process", what, hex(node.address))
                : fmt::format("{} at {} runs into memory that lies in no mapping, at {}", what,
                              hex(node.address), hex(missing)));
    } else {
        // Not captured says nothing about the bytes: no verdict may be drawn from them.
        add(node, rules::kPointerNotCaptured, Severity::Warning, at,
            read.bytesRead == 0
                ? fmt::format("{} at {} is in a mapping the core did not capture", what, hex(node.address))
                : fmt::format("{} at {} is captured only up to {}", what, hex(node.address), hex(missing)));
    }
}

void MapWalker::hitLimit(const std::string& limit) {
    incomplete_ = true;
    if (std::find(result_.limitsHit.begin(), result_.limitsHit.end(), limit) == result_.limitsHit.end())
        result_.limitsHit.push_back(limit);
}

bool MapWalker::budgetLeft(std::uint64_t spent) {
    if (spent >= limits_.maxBucketsPerMap) {
        hitLimit(fmt::format("max-buckets-per-map ({})", limits_.maxBucketsPerMap));
        return false;
    }
    AnalysisBudget* budget = limits_.budget;
    if (budget == nullptr) return true;
    if (budget->timeUp()) {
        hitLimit(budget->timeLimitName());
        return false;
    }
    if (budget->memoryExhausted()) {
        hitLimit(budget->memoryLimitName());
        return false;
    }
    return true;
}

bool MapWalker::analysisBudgetLeft(std::uint64_t bytes) {
    AnalysisBudget* budget = limits_.budget;
    if (budget == nullptr) return true;
    if (budget->timeUp()) {
        hitLimit(budget->timeLimitName());
        return false;
    }
    if (!budget->charge(bytes)) {
        hitLimit(budget->memoryLimitName());
        return false;
    }
    return true;
}

std::uint64_t MapWalker::nodeCharge(bool withSlots) {
    // The node, its eight control bytes (heap-allocated), and its slots when they are kept.
    constexpr std::uint64_t kSlotsPerNode = 8;
    return sizeof(MapNode) + 2 * sizeof(void*) + kSlotsPerNode +
           (withSlots ? kSlotsPerNode * sizeof(Slot) : 0);
}

std::uint64_t MapWalker::nodeBytes() const {
    return nodeCharge(limits_.collectSlots);
}

bool MapWalker::countComparable() const {
    if (!result_.headerReadable || incomplete_) return false;
    for (const Finding& f : result_.findings())
        if (f.severity == Severity::Error && f.rule != rules::kDanglingEntryPointer &&
            f.rule != rules::kControlBytesCorrupt && f.rule != rules::kCountMismatch)
            return false;
    return true;
}

void MapWalker::finish(std::uint64_t liveEntries) {
    result_.liveEntries = liveEntries;
    result_.complete = result_.headerReadable && !incomplete_;
    result_.memory.complete = result_.complete;
}

std::uint64_t MapWalker::allocation(std::uint64_t address, std::uint64_t nominal) {
    ++result_.memory.allocations;
    if (!limits_.allocationSize) return nominal;
    std::optional<std::uint64_t> allocated = limits_.allocationSize(address);
    // An object smaller than what the layout says lives there is not this structure's
    // allocation (a pointer into something else): the layout's size stands.
    if (!allocated || *allocated < nominal) return nominal;
    ++result_.memory.heapSized;
    return *allocated;
}

void MapWalker::countIndirectObject(std::uint64_t address, std::uint64_t size, IndirectSize& cached) {
    if (!cached.known) {
        const std::uint64_t heapSizedBefore = result_.memory.heapSized;
        cached.bytes = allocation(address, size);
        cached.fromHeap = result_.memory.heapSized != heapSizedBefore;
        cached.known = true;
    } else {
        ++result_.memory.allocations;
        if (cached.fromHeap) ++result_.memory.heapSized;
    }
    result_.memory.indirect += cached.bytes;
}

void MapWalker::countIndirect(const Slot& slot) {
    if (layout_.indirectKey && slot.keyReadable)
        countIndirectObject(slot.keyAddress, layout_.keySize, keyObject_);
    if (layout_.indirectElem && slot.elemReadable)
        countIndirectObject(slot.elemAddress, layout_.elemSize, elemObject_);
}

namespace {

constexpr int kMaxPointerDepth = 3;
constexpr std::uint64_t kMaxArrayScan = 16;

// Checks a pointer value found inside a key or elem.
void checkEntryPointer(const Memory& memory, std::uint64_t pointer, std::uint64_t map,
                       const std::string& what, MapNode& node) {
    if (pointer == 0) return;
    if (memory.classify(pointer) == AddressState::Unmapped) {
        node.findings.push_back(makeFinding(
            rules::kDanglingEntryPointer, Severity::Error, map, pointer,
            fmt::format("{} points to {}, which lies in no mapping of the process", what, hex(pointer))));
    }
}

void checkValuePointers(const Memory& memory, const Type* type, std::uint64_t address, std::uint64_t map,
                        const std::string& what, MapNode& node, int depth) {
    if (type == nullptr || depth > kMaxPointerDepth) return;
    Reader reader(memory);
    const Type* u = type->underlying();
    switch (type->kind) {
        case GoKind::Pointer:
        case GoKind::UnsafePointer:
        case GoKind::Map:
        case GoKind::Chan: {
            if (auto value = reader.u64(address)) checkEntryPointer(memory, *value, map, what, node);
            return;
        }
        case GoKind::String: {
            auto data = reader.u64(address);
            auto length = reader.u64(address + 8);
            if (data && length && *length > 0)
                checkEntryPointer(memory, *data, map, what + " string data", node);
            return;
        }
        case GoKind::Interface: {
            auto data = reader.u64(address + 8);
            if (data) checkEntryPointer(memory, *data, map, what + " interface data", node);
            return;
        }
        case GoKind::Struct:
            for (const Field& f : u->fields)
                checkValuePointers(memory, f.type, address + f.offset, map, what + "." + f.name, node,
                                   depth + 1);
            return;
        case GoKind::Array:
            if (u->target != nullptr && u->target->byteSize() > 0)
                for (std::uint64_t i = 0; i < u->count && i < kMaxArrayScan; ++i)
                    checkValuePointers(memory, u->target, address + i * u->target->byteSize(), map,
                                       fmt::format("{}[{}]", what, i), node, depth + 1);
            return;
        default:
            return;
    }
}

// Resolves an indirect slot (it holds *K or *V); returns the address of the value.
std::uint64_t resolveIndirect(const Memory& memory, std::uint64_t slotAddress, std::uint64_t map,
                              const char* what, MapNode& node, bool& readable) {
    Reader reader(memory);
    auto pointer = reader.u64(slotAddress);
    if (!pointer) {
        readable = false;
        return 0;
    }
    if (*pointer == 0 || memory.classify(*pointer) == AddressState::Unmapped) {
        node.findings.push_back(
            makeFinding(rules::kDanglingEntryPointer, Severity::Error, map, *pointer,
                        fmt::format("indirect {} pointer of an occupied slot is {}, which lies in no mapping",
                                    what, hex(*pointer))));
        readable = false;
        return *pointer;
    }
    return *pointer;
}

}  // namespace

Slot inspectSlot(const Memory& memory, const MapTypeLayout& layout, std::uint64_t container, unsigned index,
                 std::uint8_t control, std::uint64_t map, MapNode& node) {
    Slot slot;
    slot.index = static_cast<std::uint8_t>(index);
    slot.control = control;
    slot.keyAddress = layout.keySlot(container, index);
    slot.elemAddress = layout.elemSlot(container, index);
    if (layout.indirectKey)
        slot.keyAddress = resolveIndirect(memory, slot.keyAddress, map, "key", node, slot.keyReadable);
    if (layout.indirectElem)
        slot.elemAddress = resolveIndirect(memory, slot.elemAddress, map, "elem", node, slot.elemReadable);
    if (slot.keyReadable) checkValuePointers(memory, layout.keyType, slot.keyAddress, map, "key", node, 0);
    if (slot.elemReadable)
        checkValuePointers(memory, layout.elemType, slot.elemAddress, map, "value", node, 0);
    return slot;
}

}  // namespace detail
}  // namespace gomapcore
