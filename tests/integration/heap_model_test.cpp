// HeapModel over the corpus of real Go cores: the span model must load on every Go build, and
// the runtime's own allocation state must agree with what the sample program knew (its map
// headers are allocated heap objects; its goroutine-local headers are on goroutine stacks).
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>

#include "analysis/session.h"
#include "corpus.h"
#include "gomapcore/analysis.h"
#include "runtime/heap_model.h"

namespace gomapcore {
namespace {

using testing::CorpusCase;
using testing::parseHex;

std::string joined(const std::vector<std::string>& notes) {
    std::string out;
    for (const std::string& n : notes)
        out += "\n  " + n;
    return out;
}

// --- Per Go build: the DWARF the model reads -------------------------------------------------

class HeapLayoutTest : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        exe_ = Executable::open(testing::corpusDir() + "/" + GetParam() + "/mapcrash");
        types_ = std::make_unique<TypeTable>(exe_->dwarf());
    }
    std::unique_ptr<Executable> exe_;
    std::unique_ptr<TypeTable> types_;
};

TEST_P(HeapLayoutTest, RuntimeConstantsAreInTheDwarf) {
    // Values from golang/go src/runtime/mheap.go (mSpanState iota) and malloc.go (_PageShift 13;
    // heapArenaBytes 64 MiB on 64-bit Linux; arenaBaseOffset 0xffff800000000000 on amd64, 0 on
    // arm64).
    EXPECT_EQ(types_->constant("runtime.mSpanDead"), 0);
    EXPECT_EQ(types_->constant("runtime.mSpanInUse"), 1);
    EXPECT_EQ(types_->constant("runtime.mSpanManual"), 2);
    EXPECT_EQ(types_->constant("runtime.pageSize"), 8192);
    EXPECT_EQ(types_->constant("runtime.heapArenaBytes"), 64 << 20);
    ASSERT_TRUE(types_->constant("runtime.arenaBaseOffsetUintptr").has_value());
    EXPECT_EQ(static_cast<std::uint64_t>(*types_->constant("runtime.arenaBaseOffsetUintptr")),
              testing::buildArchitecture(GetParam()) == "amd64" ? 0xffff800000000000u : 0u);
    EXPECT_FALSE(types_->constant("runtime.noSuchConstant").has_value());
}

TEST_P(HeapLayoutTest, LayoutComesFromDwarfWithoutFallbacks) {
    std::string why;
    std::vector<std::string> notes;
    auto layout = HeapLayout::fromDwarf(*types_, &why, &notes);
    ASSERT_TRUE(layout.has_value()) << why;
    EXPECT_TRUE(notes.empty()) << joined(notes);
    const Type* span = types_->byName("runtime.mspan");
    ASSERT_NE(span, nullptr);
    EXPECT_EQ(layout->spanSize, span->byteSize());
    // The state byte is the first byte of mspan.state, whether it is a bare mSpanState (uint8)
    // or an mSpanStateBox around an mSpanState (1.19) or an atomic.Uint8 (1.20+).
    ASSERT_NE(span->field("state"), nullptr);
    EXPECT_EQ(layout->state.offset, span->field("state")->offset);
    EXPECT_EQ(layout->state.size, 1u);
    // freeindex and nelems were uintptr until Go 1.22 made them uint16.
    const std::string go = testing::goBuild(GetParam());
    bool go119 = go == "go1.19";
    EXPECT_EQ(layout->freeindex.size, go119 ? 8u : 2u);
    EXPECT_EQ(layout->nelems.size, go119 ? 8u : 2u);
    EXPECT_EQ(layout->pageSize, 8192u);
    EXPECT_TRUE(layout->hasArenas);
    // Green Tea GC is the default from Go 1.26 on.
    bool greenTea = go.rfind("go1.26", 0) == 0 || go.rfind("go1.27", 0) == 0;
    EXPECT_EQ(layout->inlineMarkBits, greenTea);
    if (greenTea) {
        EXPECT_EQ(layout->minSizeForMallocHeader, 512u);
        EXPECT_EQ(layout->inlineMarkBitsSize, 128u);
    }
}

std::string buildName(const ::testing::TestParamInfo<std::string>& info) {
    return testing::testName(info.param);
}

INSTANTIATE_TEST_SUITE_P(Builds, HeapLayoutTest, ::testing::ValuesIn(testing::corpusBuilds()), buildName);

// --- Per case: the model against the ground truth ---------------------------------------------

class HeapModelCorpusTest : public ::testing::TestWithParam<CorpusCase> {
  protected:
    void SetUp() override {
        analysis_ = testing::analyzedCase(GetParam()).analysis.get();
        model_ = HeapModel::load(analysis_->memory(), analysis_->session().types(),
                                 analysis_->session().loadBias(), notes_);
        ASSERT_TRUE(model_.has_value()) << joined(notes_);
    }
    // Size of the map header type of this build (runtime.hmap or internal/runtime/maps.Map).
    std::uint64_t headerSize() {
        const Type* t = analysis_->session().types().byName("runtime.hmap");
        if (t == nullptr) t = analysis_->session().types().byName("internal/runtime/maps.Map");
        return t == nullptr ? 0 : t->byteSize();
    }
    // Map records the program made with make() and kept, whose headers are heap objects.
    std::vector<nlohmann::json> heapMaps() const {
        std::vector<nlohmann::json> out;
        for (const auto& truth : GetParam().records("map")) {
            std::string where = truth.value("where", "");
            if ((where == "global" || where == "heap") && !truth.value("nil", false)) out.push_back(truth);
        }
        return out;
    }
    // A truth map's type, layout and header fields storage (buckets or dirPtr) and dirLen.
    struct MapStorage {
        const Type* type = nullptr;
        const MapTypeLayout* layout = nullptr;
        std::uint64_t storage = 0, dirLen = 0;
    };
    MapStorage storageOf(const nlohmann::json& truth) {
        MapStorage out;
        out.type = analysis_->session().types().byName(truth.value("type", ""));
        EXPECT_NE(out.type, nullptr) << truth.value("type", "");
        out.layout = out.type != nullptr ? analysis_->session().layouts().layoutFor(out.type) : nullptr;
        EXPECT_NE(out.layout, nullptr);
        if (out.layout == nullptr) return out;
        MapResult map = analysis_->session().walk(parseHex(truth["addr"]), out.type, {});
        for (const auto& [name, value] : map.header) {
            if (name == "buckets" || name == "dirPtr") out.storage = value;
            if (name == "dirLen") out.dirLen = value;
        }
        return out;
    }

    Analysis* analysis_ = nullptr;  // shared by the case's tests (testing::analyzedCase)
    std::vector<std::string> notes_;
    std::optional<HeapModel> model_;
};

TEST_P(HeapModelCorpusTest, LoadsEveryLiveSpanAndItsAllocationState) {
    const HeapStats& s = model_->stats();
    std::cout << "[heap] " << GetParam().build << "/" << GetParam().scenario << ": allspans " << s.allspansLen
              << ", in-use " << s.inUse << ", manual " << s.manual << ", dead " << s.dead << ", unswept "
              << s.unswept << ", arenas " << s.arenas << ", sweepgen " << s.sweepgen << "\n";
    EXPECT_GT(s.inUse, 0u);
    EXPECT_GT(s.manual, 0u) << "goroutine stacks live in manual spans";
    EXPECT_EQ(s.recordsRead, s.allspansLen) << "every mspan record is in the core";
    EXPECT_EQ(s.inUse + s.manual + s.dead, s.recordsRead);
    EXPECT_EQ(s.unreadable, 0u);
    EXPECT_EQ(s.corrupt, 0u);
    EXPECT_EQ(s.unknownState, 0u);
    EXPECT_EQ(s.overlapping, 0u);
    EXPECT_FALSE(s.truncated);
    EXPECT_GT(s.arenas, 0u);
    EXPECT_TRUE(notes_.empty()) << joined(notes_);
    // Every live span lies in a heap arena.
    for (const SpanInfo& span : model_->spans()) {
        EXPECT_TRUE(model_->inArena(span.start)) << std::hex << span.start;
        EXPECT_TRUE(model_->inArena(span.end - 1)) << std::hex << span.end;
    }

    // In a swept span, slots below freeindex or with their allocBit set are exactly the objects
    // mspan.allocCount counts: the sweep sets allocCount to the marked objects, which become
    // allocBits, and every allocation past that advances freeindex and allocCount together
    // (runtime/mgcsweep.go mspan.sweep; runtime/malloc.go nextFreeFast, mcache.go nextFree).
    std::map<std::uint64_t, std::uint64_t> counted;
    const SpanInfo* current = nullptr;
    ObjectWalk walk = model_->forEachAllocatedObject(
        [&](const SpanInfo& span) {
            current = &span;
            counted[span.start] = 0;
            return span.sweep == SweepState::Swept;
        },
        [&](std::uint64_t, std::uint64_t) { return ++counted[current->start], true; });
    EXPECT_EQ(walk.unknownSlots, 0u);
    std::size_t spans = 0, mismatches = 0;
    for (const SpanInfo& span : model_->spans()) {
        if (span.state != SpanState::InUse || span.sweep != SweepState::Swept) continue;
        ++spans;
        if (counted[span.start] != span.allocCount) {
            ++mismatches;
            ADD_FAILURE() << "span " << std::hex << span.start << std::dec << " (elemsize " << span.elemSize
                          << ", nelems " << span.nelems << ", freeindex " << span.freeindex
                          << "): " << counted[span.start] << " allocated slots, allocCount "
                          << span.allocCount;
        }
    }
    std::cout << "[heap] " << GetParam().build << "/" << GetParam().scenario << ": " << walk.objects
              << " allocated objects in " << spans << " swept spans, " << mismatches
              << " allocCount mismatches\n";
    EXPECT_GT(spans, 0u);
}

TEST_P(HeapModelCorpusTest, MapHeadersAreAllocatedHeapObjects) {
    std::uint64_t header = headerSize();
    ASSERT_GT(header, 0u);
    if (heapMaps().empty()) GTEST_SKIP() << "this case's maps are all goroutine locals or nil";
    int checked = 0;
    for (const auto& truth : heapMaps()) {
        std::uint64_t address = parseHex(truth["addr"]);
        HeapAddress h = model_->classify(address);
        std::string root = truth["root"];
        EXPECT_EQ(h.kind, HeapAddressKind::InUseObjectAllocated)
            << root << " at " << truth["addr"] << ": " << toString(h.kind) << (h.why ? h.why : "");
        EXPECT_EQ(h.objectStart, address) << root << ": a map header is an allocation of its own";
        // The header's own size class: 48 bytes (hmap through 1.23, maps.Map) or 64 (the 56-byte
        // hmap of 1.24/1.25 noswissmap).
        EXPECT_GE(h.objectSize, header) << root;
        EXPECT_LT(h.objectSize, header + 16) << root;
        ASSERT_NE(h.span, nullptr) << root;
        EXPECT_EQ(h.span->elemSize, h.objectSize) << root;
        EXPECT_NE(h.span->sizeClass, 0) << root << " is a small object";
        EXPECT_FALSE(h.span->noscan) << root << ": map headers hold pointers";
        ++checked;
    }
    std::cout << "[heap] " << GetParam().build << "/" << GetParam().scenario << ": " << checked
              << " map headers classified\n";
    EXPECT_GT(checked, 0);

    // forEachAllocatedObject reports the same headers, from the spans of their size classes.
    std::set<std::uint64_t> want;
    std::set<std::uint64_t> sizes;
    for (const auto& truth : heapMaps()) {
        std::uint64_t address = parseHex(truth["addr"]);
        want.insert(address);
        if (const SpanInfo* span = model_->spanFor(address)) sizes.insert(span->elemSize);
    }
    std::set<std::uint64_t> found;
    for (std::uint64_t size : sizes) {
        ObjectWalk walk = model_->forEachAllocatedObject(size, [&](std::uint64_t start, std::uint64_t) {
            if (want.count(start)) found.insert(start);
            return true;
        });
        EXPECT_EQ(walk.unknownSlots, 0u);
        EXPECT_FALSE(walk.stopped);
    }
    EXPECT_EQ(found, want);
}

// The pointer words the heap records for a map's storage (its buckets, or a small swiss map's one
// group) against those derived from DWARF for the map's true type: the span's heap bits (Go
// 1.22+, objects of at most 512 bytes) or an empty set for a noscan span.
TEST_P(HeapModelCorpusTest, ObjectPointerWordsMatchTheMapTypes) {
    int compared = 0;
    for (const auto& truth : heapMaps()) {
        auto [type, layout, storage, dirLen] = storageOf(truth);
        if (layout == nullptr) continue;
        if (storage == 0 || dirLen != 0) continue;
        auto words = model_->objectPointerWords(storage);
        if (!model_->layout().heapBitsInSpan) {
            EXPECT_FALSE(words.has_value()) << "no heap bits in spans before Go 1.22";
            continue;
        }
        if (!words) continue;  // a malloc header describes it
        std::vector<bool> first(
            words->begin(), words->begin() + std::min<std::size_t>(words->size(), layout->storageSize() / 8));
        while (!first.empty() && !first.back())
            first.pop_back();
        EXPECT_EQ(layout->storagePointerWords(), first) << truth.value("root", "") << " " << type->name;
        ++compared;
    }
    std::cout << "[heap] " << GetParam().build << "/" << GetParam().scenario << ": " << compared
              << " map storages' pointer words compared\n";
    if (model_->layout().heapBitsInSpan && GetParam().scenario == "healthy") {
        EXPECT_GT(compared, 0);
    }
}

// Map storage over 512 bytes (Go 1.22+): the buckets or groups start 8 bytes into their slot,
// behind a malloc header naming the bucket or group type (runtime/malloc.go; newarray in
// runtime/map.go makeBucketArray and internal/runtime/maps); a large array's type is its span's
// largeType. That type's size and GC mask are the layout's bucket or group, and the compiler
// spells it map.bucket[K]V or map.group[K]V.
TEST_P(HeapModelCorpusTest, RecordedTypesOfMapStorageAreItsBucketOrGroup) {
    std::set<std::string> damaged;
    for (const auto& damage : GetParam().records("damage"))
        damaged.insert(damage.value("map", ""));
    int compared = 0;
    for (const auto& truth : heapMaps()) {
        if (damaged.count(truth.value("addr", ""))) continue;
        auto [type, layout, storage, dirLen] = storageOf(truth);
        if (layout == nullptr) continue;
        if (storage != 0 && dirLen != 0) {
            // A big swiss map: its first table's groups.
            Reader reader(analysis_->session().memory());
            auto table = reader.u64(storage);
            ASSERT_TRUE(table.has_value());
            auto groups = reader.u64(*table + layout->swiss.groupsData.offset);
            ASSERT_TRUE(groups.has_value());
            storage = *groups;
        }
        if (storage == 0) continue;
        auto object = model_->objectWithDataAt(storage);
        ASSERT_TRUE(object.has_value()) << truth.value("root", "") << ": storage is no allocated object";
        auto descriptor = model_->recordedType(*object);
        if (!model_->layout().heapBitsInSpan) {
            EXPECT_FALSE(descriptor.has_value()) << "no malloc headers before Go 1.22";
            continue;
        }
        if (!descriptor) continue;  // heap bits or a noscan span describe it
        auto shape = analysis_->session().runtimeTypeShape(*descriptor);
        ASSERT_TRUE(shape.has_value()) << truth.value("root", "");
        EXPECT_EQ(shape->size, layout->storageSize()) << truth.value("root", "");
        EXPECT_EQ(shape->pointerWords, layout->storagePointerWords()) << truth.value("root", "");
        std::string spelled =
            (layout->kind == MapLayoutKind::Swiss ? "map.group" : "map.bucket") + type->name.substr(3);
        EXPECT_EQ(analysis_->session().runtimeType(*descriptor).name, spelled);
        ++compared;
    }
    std::cout << "[heap] " << GetParam().build << "/" << GetParam().scenario << ": " << compared
              << " map storages' recorded types compared\n";
    if (model_->layout().heapBitsInSpan && GetParam().scenario == "healthy") {
        EXPECT_GT(compared, 0);
    }
}

TEST_P(HeapModelCorpusTest, StacksAndNonHeapAddresses) {
    // runtime.mheap_ itself is a global in the executable's data, not a heap object.
    for (const GlobalVariable& global : analysis_->session().types().globals()) {
        if (global.name != "runtime.mheap_") continue;
        EXPECT_EQ(model_->classify(global.address).kind, HeapAddressKind::NotHeap);
    }
    // Unmapped regions the damage scenarios made are outside the heap too.
    for (const auto& unmapped : GetParam().records("unmapped"))
        EXPECT_EQ(model_->classify(parseHex(unmapped["address"])).kind, HeapAddressKind::NotHeap);
    // Goroutine-local maps.
    for (const auto& truth : GetParam().records("map")) {
        if (truth.value("where", "") != "stack" || truth.value("nil", false)) continue;
        std::string root = truth["root"];
        std::uint64_t address = parseHex(truth["addr"]);
        HeapAddress h = model_->classify(address);
        // The healthy case's locals do not escape: their headers are on the goroutine's stack
        // (samples/README.md). Elsewhere a "stack" root may hold a header that escaped to the
        // heap (captured by closures), which then is an allocated object of its own.
        if (root.find("main.localHolder") != std::string::npos) {
            EXPECT_EQ(h.kind, HeapAddressKind::StackSpan) << root << ": " << toString(h.kind);
        } else {
            bool onStack = h.kind == HeapAddressKind::StackSpan;
            bool escaped = h.kind == HeapAddressKind::InUseObjectAllocated && h.objectStart == address;
            EXPECT_TRUE(onStack || escaped) << root << ": " << toString(h.kind);
        }
        std::cout << "[heap] " << GetParam().build << "/" << GetParam().scenario << ": " << root << " "
                  << toString(h.kind) << "\n";
    }
}

std::string caseName(const ::testing::TestParamInfo<CorpusCase>& info) {
    return testing::testName(info.param.build + "_" + info.param.scenario);
}

INSTANTIATE_TEST_SUITE_P(Corpus, HeapModelCorpusTest, ::testing::ValuesIn(testing::corpusCases()), caseName);

}  // namespace
}  // namespace gomapcore
