#include "binary/value_text.h"

#include <fmt/format.h>

#include <cstring>

namespace gomapcore {
namespace {

constexpr std::size_t kMaxStringBytes = 64;
constexpr int kMaxDepth = 2;
constexpr std::uint64_t kMaxArrayItems = 8;
constexpr std::size_t kMaxRawBytes = 32;

std::string quote(const std::string& raw) {
    std::string out = "\"";
    for (unsigned char ch : raw) {
        if (ch == '"' || ch == '\\')
            out += fmt::format("\\{}", static_cast<char>(ch));
        else if (ch >= 0x20 && ch < 0x7f)
            out.push_back(static_cast<char>(ch));
        else
            out += fmt::format("\\x{:02x}", ch);
    }
    return out + "\"";
}

std::string raw(const Memory& memory, const Type* type, std::uint64_t address) {
    std::size_t size = static_cast<std::size_t>(std::min<std::uint64_t>(type->byteSize(), kMaxRawBytes));
    Reader reader(memory);
    auto bytes = reader.bytes(address, size);
    std::string name = type->name.empty() ? "?" : type->name;
    if (!bytes) return fmt::format("<{}: not captured>", name);
    std::string hexBytes;
    for (std::byte b : *bytes)
        hexBytes += fmt::format("{:02x}", std::to_integer<unsigned>(b));
    return fmt::format("<{} {}{}>", name, hexBytes, type->byteSize() > size ? "…" : "");
}

std::string format(const Memory& memory, const Type* type, std::uint64_t address, int depth) {
    if (type == nullptr) return "<unknown type>";
    Reader reader(memory);
    const Type* u = type->underlying();
    auto unreadable = [&] { return fmt::format("<{}: not captured at {:#x}>", type->name, address); };
    switch (type->kind) {
        case GoKind::Bool: {
            auto v = reader.u8(address);
            return v ? (*v ? "true" : "false") : unreadable();
        }
        case GoKind::Int:
        case GoKind::Int8:
        case GoKind::Int16:
        case GoKind::Int32:
        case GoKind::Int64: {
            auto v = reader.unsignedOfSize(address, u->byteSize());
            if (!v) return unreadable();
            unsigned bits = static_cast<unsigned>(u->byteSize() * 8);
            std::int64_t s = bits == 64 ? static_cast<std::int64_t>(*v)
                                        : static_cast<std::int64_t>(*v << (64 - bits)) >> (64 - bits);
            return fmt::format("{}", s);
        }
        case GoKind::Uint:
        case GoKind::Uint8:
        case GoKind::Uint16:
        case GoKind::Uint32:
        case GoKind::Uint64:
        case GoKind::Uintptr: {
            auto v = reader.unsignedOfSize(address, u->byteSize());
            return v ? fmt::format("{}", *v) : unreadable();
        }
        case GoKind::Float32: {
            auto v = reader.u32(address);
            if (!v) return unreadable();
            float f;
            std::memcpy(&f, &*v, 4);
            return fmt::format("{}", f);
        }
        case GoKind::Float64: {
            auto v = reader.u64(address);
            if (!v) return unreadable();
            double d;
            std::memcpy(&d, &*v, 8);
            return fmt::format("{}", d);
        }
        case GoKind::String: {
            auto data = reader.u64(address);
            auto length = reader.u64(address + 8);
            if (!data || !length) return unreadable();
            if (*length == 0) return "\"\"";
            std::size_t shown = static_cast<std::size_t>(std::min<std::uint64_t>(*length, kMaxStringBytes));
            auto bytes = reader.bytes(*data, shown);
            if (!bytes)
                return fmt::format("<string len {} at {:#x}: {}>", *length, *data,
                                   toString(memory.classify(*data)));
            std::string text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
            return quote(text) + (*length > shown ? fmt::format("…({} bytes)", *length) : "");
        }
        case GoKind::Pointer:
        case GoKind::UnsafePointer:
        case GoKind::Map:
        case GoKind::Chan:
        case GoKind::Func: {
            auto v = reader.u64(address);
            if (!v) return unreadable();
            return *v == 0 ? "nil" : fmt::format("({}) {:#x}", type->name, *v);
        }
        case GoKind::Struct: {
            if (depth >= kMaxDepth) return fmt::format("{}{{…}}", type->name);
            std::string out = type->name + "{";
            bool first = true;
            for (const Field& f : u->fields) {
                if (!first) out += ", ";
                first = false;
                out += f.name + ": " + format(memory, f.type, address + f.offset, depth + 1);
            }
            return out + "}";
        }
        case GoKind::Array: {
            if (depth >= kMaxDepth || u->target == nullptr) return raw(memory, type, address);
            std::string out = "[";
            std::uint64_t stride = u->target->byteSize();
            for (std::uint64_t i = 0; i < u->count && i < kMaxArrayItems; ++i) {
                if (i) out += ", ";
                out += format(memory, u->target, address + i * stride, depth + 1);
            }
            if (u->count > kMaxArrayItems) out += ", …";
            return out + "]";
        }
        case GoKind::Slice: {
            auto data = reader.u64(address);
            auto length = reader.u64(address + 8);
            if (!data || !length) return unreadable();
            return fmt::format("{} len {} at {:#x}", type->name, *length, *data);
        }
        default:
            return raw(memory, type, address);
    }
}

}  // namespace

std::string formatValue(const Memory& memory, const Type* type, std::uint64_t address, bool redact) {
    if (redact) return redactedValue(memory, type, address);
    return format(memory, type, address, 0);
}

std::string redactedValue(const Memory& memory, const Type* type, std::uint64_t address) {
    // Only the type and, for variable-length values, the length: cores hold secrets
    // (tokens, passwords, personal data) in map keys and values.
    if (type == nullptr) return "<?>";
    Reader reader(memory);
    const Type* u = type->underlying();
    if (u->kind == GoKind::String || u->kind == GoKind::Slice) {
        auto length = reader.u64(address + 8);
        if (!length) return fmt::format("<{}, unreadable>", type->name);
        return fmt::format("<{}, {} {}>", type->name, *length,
                           u->kind == GoKind::String ? "bytes" : "elements");
    }
    return fmt::format("<{}>", type->name);
}

}  // namespace gomapcore
