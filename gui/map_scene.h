// The structure view of one map as a QGraphicsScene: classic bucket arrays with their overflow
// chains and old buckets, or swiss directories, tables and groups, with the control bytes
// coloured and every finding drawn where it points. Built from Analysis::inspect's node tree;
// buildMapScene touches no widget, so it runs off the GUI thread (the window's jobs) and
// headless (--render-map) alike.
#pragma once

#include <QColor>
#include <QGraphicsScene>
#include <QRectF>
#include <QString>
#include <cstdint>
#include <vector>

#include "gomapcore/map_model.h"
#include "gomapcore/memory.h"

namespace mapscene {

// QGraphicsItem::data keys the scene sets, for tests and for the view's tooltips and links.
inline constexpr int kRoleKind = 0;     // QString: "header", "node", "cell", "suspect", "arrow", "summary",
                                        // "focus", "extra-list", "listed" (a bucket an extra list holds)
inline constexpr int kRoleAddress = 1;  // qulonglong: the node's or the suspect's address
inline constexpr int kRoleRed = 2;      // bool: drawn red because of a finding
inline constexpr int kRoleSlot = 3;     // int: a control cell's slot index (its node's address in kRoleNode)
inline constexpr int kRoleNode = 4;     // qulonglong: the bucket or group a control cell belongs to,
                                        // or an extra list (entry) links to (clicks show its entries)
inline constexpr int kRoleSize = 5;     // qulonglong: a node's size in bytes, when known
// On "summary" items: the range they stand for, so that a view can ask for it in detail.
inline constexpr int kRoleRegion = 6;  // int: a Region
inline constexpr int kRoleFirst = 7;   // qlonglong: the range's first index
inline constexpr int kRoleLast = 8;    // qlonglong: its last index (inclusive)

// What a focus range counts: classic bucket indices (of the bucket array or of oldbuckets), or
// swiss tables by their position in the directory's list of distinct tables.
enum class Region { None, Buckets, OldBuckets, Tables };

struct Focus {
    Region region = Region::None;
    std::int64_t first = 0;
    std::int64_t last = -1;  // inclusive
};

struct Options {
    // Above this many buckets (classic) or groups (swiss), ranges are drawn as summaries with
    // occupancy histograms instead of one box per bucket or group; nodes with findings are
    // still drawn one by one.
    std::size_t maxDetailedNodes = 2048;
    // Of a summarised map, this range is drawn in detail and the rest stays summarised. It is
    // cut short where it would pass maxDetailedNodes boxes, so a focus costs no more than a map
    // small enough to be drawn whole.
    Focus focus;
};

struct Stats {
    std::size_t nodesDrawn = 0;
    std::size_t summaries = 0;
    std::size_t suspects = 0;
    bool levelOfDetail = false;
    // The part of Options::focus drawn in detail (none when focusLast < focusFirst), and where.
    std::int64_t focusFirst = 0;
    std::int64_t focusLast = -1;
    std::size_t focusNodes = 0;
    QRectF focusArea;
};

// Fills scene (which must be empty) with the map's structure. memory classifies the addresses
// findings point to (unmapped, not captured). drawn, when given, receives the nodes drawn one by
// one (the header, buckets, groups, tables, directory, extra and its lists).
Stats buildMapScene(QGraphicsScene& scene, const gomapcore::MapResult& map, const gomapcore::Memory& memory,
                    const Options& options = {}, std::vector<const gomapcore::MapNode*>* drawn = nullptr);

// The part of map made of the drawn nodes and the nodes on their way from the root, the rest of
// the result as it is: what the decoded entries beside a scene list. A map of millions of entries
// summarised into a few hundred boxes is then not decoded whole, node by node, into text no one
// could scroll.
gomapcore::MapResult shownPart(const gomapcore::MapResult& map,
                               const std::vector<const gomapcore::MapNode*>& drawn);

QColor suspectRed();
// The colour of the focused range, drawn in detail among summaries.
QColor focusBlue();
// The colour of a tophash (classic) or ctrl byte (swiss) cell.
QColor controlColor(bool swiss, std::uint8_t control);

}  // namespace mapscene
