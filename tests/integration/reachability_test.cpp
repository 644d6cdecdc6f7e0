// Reachability over a hand-built address space typed by a real executable's DWARF: paths
// through interfaces (both a pointer-shaped dynamic type stored in the data word and a boxed
// value behind it), pointers and struct fields, with each object visited once; and through
// closures, atomic.Pointer and untyped pointers.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "../unit/fake_memory.h"
#include "analysis/reachability.h"
#include "binary/executable.h"
#include "corpus.h"
#include "maps/map_layout.h"

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

TEST_F(ReachabilityTest, TheWorkListIsChargedAsItGrowsNotAsItDrains) {
    // A slice of a million pointers queues a million elements before the first is expanded: on
    // a real program's core that work list, not the objects expanded, is what ran out of
    // memory. Charged as it grows, it stops at the budget and says so.
    const Type* sliceType = types_->byName("[]*main.T");
    ASSERT_NE(sliceType, nullptr);
    const Type* sliceShape = sliceType->underlying();
    constexpr std::uint64_t kElements = 1'000'000, kData = 0x10000000;
    memory_.addCaptured(kData, kElements * 8);
    memory_.put64(kRoot + sliceShape->field("array")->offset, kData);
    memory_.put64(kRoot + sliceShape->field("len")->offset, kElements);
    memory_.put64(kRoot + sliceShape->field("cap")->offset, kElements);
    AnalysisBudget budget;
    constexpr std::uint64_t kRoom = 256 << 10;
    budget.limitMemory(kRoom);
    ReachLimits limits;
    limits.budget = &budget;
    Reachability walk(memory_, *layouts_, limits, {});
    walk.addRoot("main.keepAlive", RootKind::Global, kRoot, sliceType);
    walk.run();
    EXPECT_EQ(walk.limitsHit(), (std::vector<std::string>{budget.memoryLimitName()}));
    EXPECT_GT(walk.peakQueued(), 0u);
    EXPECT_LT(walk.peakQueued(), kRoom / 64);  // each queued value is charged at least 64 bytes
    EXPECT_LE(budget.charged(), kRoom);
}

// A stack slot DWARF calls a live slice before the function wrote it: seen on a real gofmt core
// as len 824,636,076,464 over data at 0x20. It is no slice, so no limit may claim to have cut it.
TEST_F(ReachabilityTest, ASliceWhoseDataLiesInNoMappingHitsNoLimit) {
    const Type* sliceType = types_->byName("[]*main.T");
    ASSERT_NE(sliceType, nullptr);
    const Type* sliceShape = sliceType->underlying();
    memory_.put64(kRoot + sliceShape->field("array")->offset, 0x20);
    memory_.put64(kRoot + sliceShape->field("len")->offset, 824'636'076'464);
    memory_.put64(kRoot + sliceShape->field("cap")->offset, 824'636'076'464);
    ReachLimits limits;
    limits.maxElementsPerArray = 1000;
    Reachability walk(memory_, *layouts_, limits, {});
    walk.addRoot("goroutine 368 go/parser.(*parser).parseStmtList list", RootKind::Stack, kRoot, sliceType);
    walk.run();
    EXPECT_TRUE(walk.limitsHit().empty());
    EXPECT_TRUE(walk.maps().empty());
}

// Every slice the runtime makes keeps len <= cap; a value that does not is a stale slot.
TEST_F(ReachabilityTest, ASliceLongerThanItsCapIsNoSlice) {
    const Type* sliceType = types_->byName("[]*main.T");
    ASSERT_NE(sliceType, nullptr);
    const Type* sliceShape = sliceType->underlying();
    constexpr std::uint64_t kData = 0x10000000;
    memory_.addCaptured(kData, 0x1000);
    memory_.put64(kRoot + sliceShape->field("array")->offset, kData);
    memory_.put64(kRoot + sliceShape->field("len")->offset, 16);
    memory_.put64(kRoot + sliceShape->field("cap")->offset, 15);
    Reachability walk(memory_, *layouts_, {}, {});
    walk.addRoot("goroutine 98 main.f list", RootKind::Stack, kRoot, sliceType);
    walk.run();
    EXPECT_TRUE(walk.limitsHit().empty());
    EXPECT_EQ(walk.impossibleSlices(), 1u);
    EXPECT_EQ(walk.objectsVisited(), 0u);
}

// The heap slot a slice's data lies in bounds its cap: on a real gofmt core a stale stack slot
// held len 824,639,952,736 over data in the heap, and cutting it only at the mapping's end
// queued garbage until the memory budget was spent. A slice within its slot is followed whole.
class SliceBackingTest : public ReachabilityTest {
  protected:
    static constexpr std::uint64_t kData = 0x10000000, kSlotEnd = kData + 64;
    void SetUp() override {
        ReachabilityTest::SetUp();
        sliceType_ = types_->byName("[]*main.T");
        ASSERT_NE(sliceType_, nullptr);
        memory_.addCaptured(kData, 0x100000);
    }
    Reachability walk(std::uint64_t len, std::uint64_t cap, SliceBacking::Kind kind) {
        const Type* shape = sliceType_->underlying();
        memory_.put64(kRoot + shape->field("array")->offset, kData);
        memory_.put64(kRoot + shape->field("len")->offset, len);
        memory_.put64(kRoot + shape->field("cap")->offset, cap);
        Reachability reach(memory_, *layouts_, {}, {});
        reach.setSliceBackingResolver([kind](std::uint64_t data) {
            return data >= kData && data < kSlotEnd ? SliceBacking{kind, kSlotEnd} : SliceBacking{};
        });
        reach.addRoot("goroutine 98 go/parser.(*parser).parseParameterList params", RootKind::Stack, kRoot,
                      sliceType_);
        reach.run();
        return reach;
    }
    const Type* sliceType_ = nullptr;
};

TEST_F(SliceBackingTest, ACapPastItsHeapSlotIsNoSlice) {
    Reachability reach = walk(824'639'952'736, 824'639'952'736, SliceBacking::Kind::HeapSlot);
    EXPECT_TRUE(reach.limitsHit().empty());
    EXPECT_EQ(reach.impossibleSlices(), 1u);
    EXPECT_EQ(reach.peakQueued(), 1u);  // the root alone
}

TEST_F(SliceBackingTest, ASliceFillingItsSlotIsFollowedWhole) {
    Reachability reach = walk(8, 8, SliceBacking::Kind::HeapSlot);
    EXPECT_EQ(reach.impossibleSlices(), 0u);
    EXPECT_TRUE(reach.limitsHit().empty());
    EXPECT_EQ(reach.peakQueued(), 8u);  // its eight elements waited at once
}

// One word past its slot is already too many; data past an in-use span's last slot is no
// object at all.
TEST_F(SliceBackingTest, OneWordPastItsSlotOrPastTheLastSlotIsNoSlice) {
    for (auto [cap, kind] : {std::pair{std::uint64_t{9}, SliceBacking::Kind::HeapSlot},
                             std::pair{std::uint64_t{8}, SliceBacking::Kind::NoObject}}) {
        Reachability reach = walk(8, cap, kind);
        EXPECT_EQ(reach.impossibleSlices(), 1u) << cap;
        EXPECT_TRUE(reach.limitsHit().empty()) << cap;
    }
}

TEST_F(SliceBackingTest, OutsideTheHeapOnlyTheMappingCutsAndSaysSo) {
    Reachability reach = walk(0x100000, 0x100000, SliceBacking::Kind::Unknown);
    EXPECT_EQ(reach.impossibleSlices(), 0u);
    EXPECT_EQ(reach.limitsHit(), (std::vector<std::string>{"slice-past-its-mapping"}));
}

// A real slice longer than the element limit is cut there, and says so.
TEST_F(ReachabilityTest, ASliceLongerThanTheElementLimitIsCutAndSaysSo) {
    const Type* sliceType = types_->byName("[]*main.T");
    ASSERT_NE(sliceType, nullptr);
    const Type* sliceShape = sliceType->underlying();
    constexpr std::uint64_t kElements = 4096, kData = 0x10000000;
    memory_.addCaptured(kData, kElements * 8);
    memory_.put64(kRoot + sliceShape->field("array")->offset, kData);
    memory_.put64(kRoot + sliceShape->field("len")->offset, kElements);
    memory_.put64(kRoot + sliceShape->field("cap")->offset, kElements);
    ReachLimits limits;
    limits.maxElementsPerArray = 1000;
    Reachability walk(memory_, *layouts_, limits, {});
    walk.addRoot("main.keepAlive", RootKind::Global, kRoot, sliceType);
    walk.run();
    EXPECT_EQ(walk.limitsHit(), (std::vector<std::string>{"max-elements-per-array"}));
}

TEST_F(ReachabilityTest, MaxMapEntriesBoundsTheEntriesFollowed) {
    // main.Server.sessions, map[string]*main.Session, as a small swiss map (one group, no
    // directory) holding three sessions, each with its own byID map.
    const Type* sessionsType = server_->underlying()->field("sessions")->type;
    const MapTypeLayout* layout = layouts_->layoutFor(sessionsType);
    ASSERT_NE(layout, nullptr);
    ASSERT_EQ(layout->kind, MapLayoutKind::Swiss);
    const Type* session = types_->byName("main.Session");
    ASSERT_NE(session, nullptr);
    const std::uint64_t byIdOffset = session->underlying()->field("byID")->offset;
    const SwissLayout& w = layout->swiss;
    constexpr std::uint64_t kGroup = 0x410000, kKeys = 0x420000, kSessions = 0x430000;
    memory_.addCaptured(kHeader, 0x1000);
    memory_.addCaptured(kGroup, 0x1000);
    memory_.addCaptured(kKeys, 0x1000);
    memory_.addCaptured(kSessions, 0x1000);
    memory_.putLittleEndian(kHeader + w.used.offset, 3, w.used.size);
    memory_.put64(kHeader + w.dirPtr.offset, kGroup);
    std::uint64_t ctrl = 0x8080808080808080ULL;  // all empty
    for (unsigned i = 0; i < 3; ++i) {
        ctrl &= ~(std::uint64_t{0xff} << (8 * i));
        ctrl |= std::uint64_t{0x10 + i} << (8 * i);  // full, h2 = 0x10 + i
        memory_.put8(kKeys + i, static_cast<std::uint8_t>('a' + i));
        memory_.put64(layout->keySlot(kGroup, i), kKeys + i);  // key: a one-byte string
        memory_.put64(layout->keySlot(kGroup, i) + 8, 1);
        memory_.put64(layout->elemSlot(kGroup, i), kSessions + 0x100 * i);
        memory_.put64(kSessions + 0x100 * i + byIdOffset, 0x440000 + 0x100 * i);
    }
    memory_.put64(kGroup + w.ctrl.offset, ctrl);
    memory_.put64(kRoot, kServer);

    auto run = [&](std::size_t maxEntries) {
        ReachLimits limits;
        limits.maxMapEntries = maxEntries;
        Reachability walk(memory_, *layouts_, limits, {});
        walk.addRoot("main.srv", RootKind::Global, kRoot, serverPointer_);
        walk.run();
        std::set<std::string> names;
        for (const MapRoot& m : walk.maps())
            names.insert(m.name);
        return std::make_pair(names, walk.limitsHit());
    };
    auto [all, noLimit] = run(3);
    EXPECT_EQ(all,
              (std::set<std::string>{"main.srv.sessions", R"(main.srv.sessions["a"].byID)",
                                     R"(main.srv.sessions["b"].byID)", R"(main.srv.sessions["c"].byID)"}));
    EXPECT_TRUE(noLimit.empty());
    auto [cut, limit] = run(2);
    EXPECT_EQ(cut.size(), 3u);  // the map itself and two of its entries' maps
    EXPECT_EQ(limit, (std::vector<std::string>{"max-map-entries"}));
}

// A buffered channel of *main.Server. The sample has no such channel, but hchan<T> is laid out
// the same for every T (src/runtime/chan.go), so the real chan int type with its element type
// swapped stands for it.
class ChannelReachabilityTest : public ReachabilityTest {
  protected:
    static constexpr std::uint64_t kChannel = 0x500000;
    static constexpr std::uint64_t kBuffer = 0x600000;
    static constexpr std::uint64_t kServers = 0x700000;  // one main.Server per 0x1000

    void SetUp() override {
        ReachabilityTest::SetUp();
        const Type* chanInt = types_->byName("chan int");
        ASSERT_NE(chanInt, nullptr);
        ASSERT_EQ(chanInt->kind, GoKind::Chan);
        chanOfServers_ = *chanInt;
        chanOfServers_.name = "chan *main.Server";
        chanOfServers_.elem = serverPointer_;
        const Type* hchan = chanInt->underlying()->target->underlying();
        ASSERT_EQ(hchan->name, "hchan<int>");
        for (const char* name : {"qcount", "dataqsiz", "buf", "recvx"}) {
            const Field* field = hchan->field(name);
            ASSERT_NE(field, nullptr) << name;
            offsets_[name] = field->offset;
        }
        memory_.addCaptured(kChannel, 0x1000);
        memory_.addCaptured(kBuffer, 0x1000);
        memory_.addCaptured(kServers, 0x10000);
        memory_.put64(kRoot, kChannel);
    }
    // A channel of capacity slots holding count elements from slot recvx; every slot of the
    // buffer points to its own server, whose sessions map is at kHeader + slot.
    void fill(std::uint64_t count, std::uint64_t slots, std::uint64_t recvx) {
        memory_.put64(kChannel + offsets_["qcount"], count);
        memory_.put64(kChannel + offsets_["dataqsiz"], slots);
        memory_.put64(kChannel + offsets_["buf"], kBuffer);
        memory_.put64(kChannel + offsets_["recvx"], recvx);
        for (std::uint64_t i = 0; i < slots; ++i) {
            std::uint64_t server = kServers + i * 0x1000;
            memory_.put64(kBuffer + i * 8, server);
            memory_.put64(server + sessionsOffset_, kHeader + 0x100 * i);
        }
    }
    std::set<std::string> names(const std::vector<MapRoot>& maps) {
        std::set<std::string> out;
        for (const MapRoot& m : maps)
            out.insert(m.name);
        return out;
    }

    Type chanOfServers_;
    std::map<std::string, std::uint64_t> offsets_;
};

TEST_F(ChannelReachabilityTest, FollowsTheQueuedElementsOfAWrappedBuffer) {
    // Capacity 4, two queued elements from slot 3: slots 3 and 0. Slots 1 and 2 are stale.
    fill(2, 4, 3);
    auto maps = reach("main.q", &chanOfServers_);
    EXPECT_EQ(names(maps), (std::set<std::string>{"main.q.buf[3].sessions", "main.q.buf[0].sessions"}));
    for (const MapRoot& m : maps) {
        EXPECT_EQ(m.kind, RootKind::Heap);
        EXPECT_EQ(m.mapAddress, m.name == "main.q.buf[3].sessions" ? kHeader + 0x300 : kHeader);
    }
}

TEST_F(ChannelReachabilityTest, EmptyChannelLeadsNowhere) {
    fill(0, 4, 1);
    EXPECT_TRUE(reach("main.q", &chanOfServers_).empty());
}

TEST_F(ChannelReachabilityTest, ImpossibleChannelStateIsNotFollowed) {
    fill(5, 4, 0);  // more queued than the buffer holds
    EXPECT_TRUE(reach("main.q", &chanOfServers_).empty());
    fill(1, 4, 4);  // recvx outside the buffer
    EXPECT_TRUE(reach("main.q", &chanOfServers_).empty());
}

TEST_F(ChannelReachabilityTest, MaxElementsPerArrayBoundsTheQueuedElementsFollowed) {
    fill(3, 4, 0);
    ReachLimits limits;
    limits.maxElementsPerArray = 2;
    Reachability walk(memory_, *layouts_, limits, {});
    walk.addRoot("main.q", RootKind::Global, kRoot, &chanOfServers_);
    walk.run();
    EXPECT_EQ(names(walk.maps()),
              (std::set<std::string>{"main.q.buf[0].sessions", "main.q.buf[1].sessions"}));
    EXPECT_EQ(walk.limitsHit(), (std::vector<std::string>{"max-elements-per-array"}));
}

TEST_F(ChannelReachabilityTest, MaxObjectsBoundsTheObjectsExpanded) {
    fill(3, 4, 0);
    ReachLimits limits;
    limits.maxObjects = 2;  // the channel and one server
    Reachability walk(memory_, *layouts_, limits, {});
    walk.addRoot("main.q", RootKind::Global, kRoot, &chanOfServers_);
    walk.run();
    EXPECT_EQ(walk.objectsVisited(), 2u);
    EXPECT_EQ(names(walk.maps()), (std::set<std::string>{"main.q.buf[0].sessions"}));
    EXPECT_EQ(walk.limitsHit(), (std::vector<std::string>{"max-objects"}));
}

TEST_F(ChannelReachabilityTest, ChannelOfPlainValuesIsNotExpanded) {
    fill(2, 4, 0);
    Reachability walk(memory_, *layouts_, {}, {});
    walk.addRoot("main.q", RootKind::Global, kRoot, types_->byName("chan int"));
    walk.run();
    EXPECT_TRUE(walk.maps().empty());
    EXPECT_EQ(walk.objectsVisited(), 0u);
}

// --- Closures, atomic.Pointer and untyped pointers (issue #19) ------------------------------------

constexpr std::uint64_t kFuncval = 0x300000;  // a closure object {F, captured map}
constexpr std::uint64_t kCode = 0x4a0000;     // its code pointer

class HiddenHolderTest : public ReachabilityTest {
  protected:
    void SetUp() override {
        ReachabilityTest::SetUp();
        memory_.addCaptured(kFuncval, 0x1000);
        closure_.function = "main.f.func1";
        closure_.captures.push_back(ClosureCapture{"m", types_->byName("map[string]int"), 8, false});
        ASSERT_NE(closure_.captures[0].type, nullptr);
    }
    Reachability walker() {
        Reachability walk(memory_, *layouts_, {}, {});
        walk.setClosureResolver([this](std::uint64_t, std::uint64_t code) -> const ClosureLayout* {
            ++closureLookups_;
            return code == kCode ? &closure_ : nullptr;
        });
        walk.setUntypedPointerResolver([this](std::uint64_t pointer) -> std::optional<UntypedTarget> {
            ++untypedLookups_;
            if (pointer == kServer) return UntypedTarget{server_, 1, UntypedTarget::Recognised::No, {}};
            return std::nullopt;
        });
        return walk;
    }
    // A func value at address pointing at the closure object {kCode, kHeader}.
    void putClosure(std::uint64_t address) {
        memory_.put64(address, kFuncval);
        memory_.put64(kFuncval, kCode);
        memory_.put64(kFuncval + 8, kHeader);
    }
    // The maps a walk from one root of type at kRoot finds, with both resolvers or neither.
    std::vector<MapRoot> mapsFrom(const std::string& name, const Type* type, bool resolvers = true) {
        Reachability walk = resolvers ? walker() : Reachability(memory_, *layouts_, {}, {});
        walk.addRoot(name, RootKind::Global, kRoot, type);
        walk.run();
        return walk.maps();
    }
    ClosureLayout closure_;
    int closureLookups_ = 0, untypedLookups_ = 0;
};

TEST_F(HiddenHolderTest, AFuncValueFieldLeadsIntoItsClosure) {
    const Type* handler = types_->byName("main.handler");
    ASSERT_NE(handler, nullptr);
    const Field* fn = handler->field("fn");
    ASSERT_NE(fn, nullptr);
    putClosure(kRoot + fn->offset);
    auto maps = mapsFrom("main.h", handler);
    ASSERT_EQ(maps.size(), 1u);
    EXPECT_EQ(maps[0].name, "main.h.fn (closure main.f.func1).m");
    EXPECT_EQ(maps[0].through, kThroughClosure);
    EXPECT_EQ(maps[0].origin, RootOrigin::Global);
    EXPECT_EQ(maps[0].mapAddress, kHeader);
    // Without a resolver (ReachLimits::followClosures off) func values lead nowhere.
    EXPECT_TRUE(mapsFrom("main.h", handler, false).empty());
}

TEST_F(HiddenHolderTest, AGoroutinesContextWordIsAFuncValue) {
    putClosure(kRoot);
    Reachability walk = walker();
    walk.addFuncValueRoot("goroutine 7 start", RootKind::Stack, kRoot, RootOrigin::GoroutineStart);
    walk.run();
    ASSERT_EQ(walk.maps().size(), 1u);
    EXPECT_EQ(walk.maps()[0].name, "goroutine 7 start (closure main.f.func1).m");
    EXPECT_EQ(walk.maps()[0].origin, RootOrigin::GoroutineStart);
}

TEST_F(HiddenHolderTest, AnAtomicPointerIsTypedByItsTypeParameter) {
    // sync/atomic.Pointer[map[string]int]: v is a *map[string]int whatever the resolvers say.
    const Type* atomic = types_->byName("sync/atomic.Pointer[map[string]int]");
    ASSERT_NE(atomic, nullptr);
    constexpr std::uint64_t kCell = 0x500000;  // the map variable v points at
    memory_.addCaptured(kCell, 0x1000);
    memory_.put64(kRoot + atomic->field("v")->offset, kCell);
    memory_.put64(kCell, kHeader);
    auto maps = mapsFrom("main.gAtomic", atomic, false);
    ASSERT_EQ(maps.size(), 1u);
    EXPECT_EQ(maps[0].name, "main.gAtomic.v");
    EXPECT_EQ(maps[0].mapAddress, kHeader);
    EXPECT_EQ(maps[0].through, 0);
}

TEST_F(HiddenHolderTest, AnUnsafePointerIsTypedByTheHeapsRecord) {
    const Type* unsafePointer = types_->byName("unsafe.Pointer");
    ASSERT_NE(unsafePointer, nullptr);
    EXPECT_EQ(unsafePointer->kind, GoKind::UnsafePointer);
    memory_.put64(kRoot, kServer);
    auto maps = mapsFrom("main.raw", unsafePointer);
    ASSERT_EQ(maps.size(), 1u);
    EXPECT_EQ(maps[0].name, "main.raw (heap object main.Server).sessions");
    EXPECT_EQ(maps[0].through, kThroughUntypedPointer);
}

TEST_F(HiddenHolderTest, AMapRecognisedBehindAnUntypedPointerIsHeuristic) {
    // unsafe.Pointer(&m): the object holds one pointer, to a header that validates as two types.
    const Type* unsafePointer = types_->byName("unsafe.Pointer");
    const Type* mapType = types_->byName("map[string]int");
    ASSERT_NE(mapType, nullptr);
    constexpr std::uint64_t kCell = 0x500000;
    memory_.addCaptured(kCell, 0x1000);
    memory_.put64(kRoot, kCell);
    memory_.put64(kCell, kHeader);
    Reachability walk(memory_, *layouts_, {}, {});
    walk.setUntypedPointerResolver([&](std::uint64_t pointer) -> std::optional<UntypedTarget> {
        if (pointer != kCell) return std::nullopt;
        return UntypedTarget{
            mapType, 1, UntypedTarget::Recognised::MapVariable, {"map[string]int", "map[string]bool"}};
    });
    walk.addRoot("main.p", RootKind::Global, kRoot, unsafePointer);
    walk.run();
    ASSERT_EQ(walk.maps().size(), 1u);
    const MapRoot& root = walk.maps()[0];
    EXPECT_EQ(root.name, "main.p (heap object: a map)");
    EXPECT_EQ(root.mapAddress, kHeader);
    EXPECT_TRUE(root.heuristic);
    EXPECT_EQ(root.typeCandidates, (std::vector<std::string>{"map[string]int", "map[string]bool"}));
    EXPECT_EQ(hopNames(root.through), std::vector<std::string>{"untyped-pointer"});
    // Of unknown type among two: its entries are not followed, so no object was expanded.
    EXPECT_EQ(walk.objectsVisited(), 0u);
}

TEST_F(HiddenHolderTest, UintptrFieldsAreFollowedButNotUintptrSlices) {
    // runtime.funcval {fn uintptr}: a uintptr field is looked up...
    const Type* withField = types_->byName("runtime.funcval");
    ASSERT_NE(withField, nullptr);
    memory_.put64(kRoot, kServer);
    auto maps = mapsFrom("main.cell", withField);
    ASSERT_EQ(maps.size(), 1u);
    EXPECT_EQ(maps[0].name, "main.cell.fn (heap object main.Server).sessions");
    EXPECT_EQ(untypedLookups_, 1);
    // ... the elements of a []uintptr are not: numbers far more often than pointers.
    const Type* slice = types_->byName("[]uintptr");
    ASSERT_NE(slice, nullptr);
    constexpr std::uint64_t kData = 0x600000;
    memory_.addCaptured(kData, 0x1000);
    memory_.put64(kData, kServer);
    memory_.put64(kRoot + slice->underlying()->field("array")->offset, kData);
    memory_.put64(kRoot + slice->underlying()->field("len")->offset, 1);
    memory_.put64(kRoot + slice->underlying()->field("cap")->offset, 1);
    untypedLookups_ = 0;
    EXPECT_TRUE(mapsFrom("main.pcs", slice).empty());
    EXPECT_EQ(untypedLookups_, 0);
}

}  // namespace
}  // namespace gomapcore
