// Reachability over a hand-built address space typed by a real executable's DWARF: paths
// through interfaces (both a pointer-shaped dynamic type stored in the data word and a boxed
// value behind it), pointers and struct fields, with each object visited once.
#include <gtest/gtest.h>

#include "../unit/fake_memory.h"
#include "corpus.h"
#include "gomapcore/executable.h"
#include "gomapcore/map_layout.h"
#include "gomapcore/reachability.h"

namespace gomapcore {
namespace {

constexpr std::uint64_t kRoot = 0x100000;    // the root value
constexpr std::uint64_t kServer = 0x200000;  // a main.Server object
constexpr std::uint64_t kHeader = 0x400000;  // where sessions points (bytes not needed)
constexpr std::uint64_t kServerDescriptor = 0x7000;
constexpr std::uint64_t kServerPointerDescriptor = 0x7100;

class ReachabilityTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string exe = testing::corpusDir() + "/go1.26/mapcrash";
        executable_ = Executable::open(exe);
        types_ = std::make_unique<TypeTable>(executable_->dwarf());
        layouts_ = std::make_unique<LayoutCatalog>(*types_);
        server_ = types_->byName("main.Server");
        serverPointer_ = types_->byName("*main.Server");
        empty_ = types_->byName("interface {}");
        ASSERT_NE(server_, nullptr);
        ASSERT_NE(serverPointer_, nullptr);
        ASSERT_NE(empty_, nullptr);
        const Field* sessions = server_->underlying()->field("sessions");
        ASSERT_NE(sessions, nullptr);
        sessionsOffset_ = sessions->offset;
        memory_.addCaptured(kRoot, 0x1000);
        memory_.addCaptured(kServer, 0x1000);
        memory_.put64(kServer + sessionsOffset_, kHeader);
    }
    std::vector<MapRoot> reach(const std::string& name, const Type* type) {
        Reachability walk(memory_, *layouts_, {}, {}, [this](std::uint64_t descriptor) -> const Type* {
            if (descriptor == kServerDescriptor) return server_;
            if (descriptor == kServerPointerDescriptor) return serverPointer_;
            return nullptr;
        });
        walk.addRoot(name, RootKind::Global, kRoot, type);
        walk.run();
        return walk.maps();
    }

    gmtest::FakeMemory memory_;
    std::unique_ptr<Executable> executable_;
    std::unique_ptr<TypeTable> types_;
    std::unique_ptr<LayoutCatalog> layouts_;
    const Type* server_ = nullptr;
    const Type* serverPointer_ = nullptr;
    const Type* empty_ = nullptr;
    std::uint64_t sessionsOffset_ = 0;
};

TEST_F(ReachabilityTest, PointerInAnInterfaceDataWord) {
    // any(&server): *main.Server is pointer-shaped, so the data word is the pointer itself.
    memory_.put64(kRoot, kServerPointerDescriptor);
    memory_.put64(kRoot + 8, kServer);
    auto maps = reach("main.v", empty_);
    ASSERT_EQ(maps.size(), 1u);
    EXPECT_EQ(maps[0].name, "main.v.(*main.Server).sessions");
    EXPECT_EQ(maps[0].mapAddress, kHeader);
    EXPECT_EQ(maps[0].kind, RootKind::Heap);  // past a pointer: inside a heap object
}

TEST_F(ReachabilityTest, BoxedStructBehindAnInterface) {
    // any(server): a struct value is boxed, the data word points at it.
    memory_.put64(kRoot, kServerDescriptor);
    memory_.put64(kRoot + 8, kServer);
    auto maps = reach("main.v", empty_);
    ASSERT_EQ(maps.size(), 1u);
    EXPECT_EQ(maps[0].name, "main.v.(main.Server).sessions");
    EXPECT_EQ(maps[0].mapAddress, kHeader);
}

TEST_F(ReachabilityTest, UnknownDynamicTypeOrNilInterfaceLeadsNowhere) {
    memory_.put64(kRoot, 0x9999);
    memory_.put64(kRoot + 8, kServer);
    EXPECT_TRUE(reach("main.v", empty_).empty());
    memory_.put64(kRoot, 0);
    EXPECT_TRUE(reach("main.v", empty_).empty());
}

TEST_F(ReachabilityTest, EachObjectIsExpandedOnce) {
    // Two roots holding the same object: it is expanded (and its map named) once, under the
    // first path the breadth-first walk reaches it by.
    memory_.put64(kRoot, kServerPointerDescriptor);
    memory_.put64(kRoot + 8, kServer);
    memory_.put64(kRoot + 16, kServerPointerDescriptor);
    memory_.put64(kRoot + 24, kServer);
    Reachability walk(memory_, *layouts_, {}, {}, [this](std::uint64_t descriptor) -> const Type* {
        return descriptor == kServerPointerDescriptor ? serverPointer_ : nullptr;
    });
    walk.addRoot("main.a", RootKind::Global, kRoot, empty_);
    walk.addRoot("main.b", RootKind::Global, kRoot + 16, empty_);
    walk.run();
    ASSERT_EQ(walk.maps().size(), 1u);
    EXPECT_EQ(walk.maps()[0].name, "main.a.(*main.Server).sessions");
    EXPECT_EQ(walk.objectsVisited(), 2u);  // the Server and its sessions map, once each
}

}  // namespace
}  // namespace gomapcore
