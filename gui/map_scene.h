// The structure view of one map as a QGraphicsScene: classic bucket arrays with their overflow
// chains and old buckets, or swiss directories, tables and groups, with the control bytes
// coloured and every finding drawn where it points. Built from Analysis::inspect's node tree;
// buildMapScene touches no widget, so it runs off the GUI thread (the window's jobs) and
// headless (--render-map) alike.
#pragma once

#include <QColor>
#include <QGraphicsScene>
#include <QString>
#include <cstdint>

#include "gomapcore/map_model.h"
#include "gomapcore/memory.h"

namespace mapscene {

// QGraphicsItem::data keys the scene sets, for tests and for the view's tooltips and links.
inline constexpr int kRoleKind = 0;     // QString: "header", "node", "cell", "suspect", "arrow", "summary"
inline constexpr int kRoleAddress = 1;  // qulonglong: the node's or the suspect's address
inline constexpr int kRoleRed = 2;      // bool: drawn red because of a finding
inline constexpr int kRoleSlot = 3;     // int: a control cell's slot index (its node's address in kRoleNode)
inline constexpr int kRoleNode = 4;     // qulonglong: the bucket or group a control cell belongs to
inline constexpr int kRoleSize = 5;     // qulonglong: a node's size in bytes, when known

struct Options {
    // Above this many buckets (classic) or groups (swiss), ranges are drawn as summaries with
    // occupancy histograms instead of one box per bucket or group; nodes with findings are
    // still drawn one by one.
    std::size_t maxDetailedNodes = 2048;
};

struct Stats {
    std::size_t nodesDrawn = 0;
    std::size_t summaries = 0;
    std::size_t suspects = 0;
    bool levelOfDetail = false;
};

// Fills scene (which must be empty) with the map's structure. memory classifies the addresses
// findings point to (unmapped, not captured).
Stats buildMapScene(QGraphicsScene& scene, const gomapcore::MapResult& map, const gomapcore::Memory& memory,
                    const Options& options = {});

QColor suspectRed();
// The colour of a tophash (classic) or ctrl byte (swiss) cell.
QColor controlColor(bool swiss, std::uint8_t control);

}  // namespace mapscene
