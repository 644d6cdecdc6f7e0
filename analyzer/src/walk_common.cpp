#include "walk_common.h"

#include <fmt/format.h>

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

std::string MapResult::status() const {
    Severity worst = Severity::Info;
    bool any = false;
    for (const Finding& f : findings()) {
        if (!any || f.severity > worst) worst = f.severity;
        any = true;
    }
    if (any && worst == Severity::Error) return "damaged";
    if (!headerReadable || !complete) return "incomplete";
    if (any && worst == Severity::Warning) return "suspect";
    return "ok";
}

std::string MapResult::typeName() const {
    return layout != nullptr && layout->mapType != nullptr ? layout->mapType->name : std::string("map");
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
