#include "map_scene.h"

#include "address_text.h"

#include <QBrush>
#include <QFont>
#include <QFontDatabase>
#include <QGraphicsPathItem>
#include <QGraphicsRectItem>
#include <QGraphicsSimpleTextItem>
#include <QPainterPath>
#include <QPen>
#include <QRegularExpression>
#include <QStringList>
#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mapscene {

namespace {

using gomapcore::AddressState;
using gomapcore::Finding;
using gomapcore::MapNode;
using gomapcore::MapResult;
using gomapcore::NodeKind;

constexpr qreal kCell = 14;
constexpr qreal kCellGap = 2;
constexpr qreal kNodeWidth = 8 * (kCell + kCellGap) + 10;
constexpr qreal kNodeHeight = 44;
constexpr qreal kHGap = 26;
constexpr qreal kVGap = 22;
constexpr int kPerRow = 16;
constexpr std::size_t kGroupsPerRow = 8;
constexpr std::size_t kTablesPerRow = 4;
constexpr std::size_t kMaxTableBoxes = 64;  // beyond, tables are summarised in ranges
constexpr std::size_t kMaxListRows = 24;    // addresses drawn per extra overflow list

QFont monoFont(qreal points, bool bold = false) {
    QFont font = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    font.setPointSizeF(points);
    font.setBold(bold);
    return font;
}

QString stateText(const Finding& finding, const gomapcore::Memory& memory) {
    if (finding.rule == gomapcore::rules::kPointerIntoFreeMemory) return QStringLiteral("free heap");
    switch (memory.classify(finding.address)) {
        case AddressState::Unmapped:
            return QStringLiteral("unmapped");
        case AddressState::NotCaptured:
            return QStringLiteral("not captured");
        case AddressState::Captured:
            return QStringLiteral("captured");
    }
    return {};
}

QString findingTip(const Finding& finding) {
    return QStringLiteral("%1 %2 at %3\n%4")
        .arg(gomapcore::toString(finding.severity), QString::fromStdString(finding.rule),
             hex(finding.address), QString::fromStdString(finding.message));
}

class Builder {
  public:
    Builder(QGraphicsScene& scene, const MapResult& map, const gomapcore::Memory& memory,
            const Options& options)
        : scene_(scene), map_(map), memory_(memory), options_(options) {}

    Stats build(std::vector<const MapNode*>* drawn) {
        swiss_ = isSwiss();
        QRectF header = drawHeader();
        if (swiss_)
            drawSwiss(header);
        else
            drawClassic(header);
        drawFindings();
        scene_.setSceneRect(scene_.itemsBoundingRect().adjusted(-20, -20, 20, 20));
        if (drawn != nullptr) {
            for (const auto& [node, item] : nodeItems_)
                drawn->push_back(node);
            drawn->insert(drawn->end(), listed_.begin(), listed_.end());
        }
        return stats_;
    }

  private:
    struct Placed {
        const MapNode* node;
        QRectF rect;
    };

    bool isSwiss() const {
        for (const auto& [name, value] : map_.header)
            if (name == "dirLen" || name == "dirPtr") return true;
        return false;
    }

    QGraphicsSimpleTextItem* text(const QString& s, QPointF at, const QFont& font, QColor color = Qt::black) {
        auto* item = scene_.addSimpleText(s, font);
        item->setBrush(color);
        item->setPos(at);
        item->setZValue(3);
        return item;
    }

    QRectF drawHeader() {
        QStringList lines;
        lines << QStringLiteral("%1 %2  %3")
                     .arg(swiss_ ? "maps.Map" : "hmap", hex(map_.address),
                          QString::fromStdString(map_.typeName()));
        QStringList roots;
        for (const std::string& root : map_.roots)
            roots << QString::fromStdString(root);
        if (!roots.isEmpty()) lines << QStringLiteral("roots: ") + roots.join(", ");
        QStringList fields;
        for (const auto& [name, value] : map_.header) {
            const bool pointer = name.find("ptr") != std::string::npos ||
                                 name.find("Ptr") != std::string::npos || name == "buckets" ||
                                 name == "oldbuckets" || name == "extra";
            fields << QStringLiteral("%1=%2").arg(
                QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size())),
                pointer ? hex(value) : QString::number(value));
            if (fields.size() == 5) {
                lines << fields.join("  ");
                fields.clear();
            }
        }
        if (!fields.isEmpty()) lines << fields.join("  ");
        lines << QStringLiteral("count %1, live entries found %2%3")
                     .arg(map_.count)
                     .arg(map_.liveEntries)
                     .arg(map_.complete ? QString() : QStringLiteral(" (walk incomplete)"));
        auto* label = text(lines.join('\n'), QPointF(8, 6), monoFont(8));
        QRectF r(0, 0, std::max<qreal>(label->boundingRect().width() + 16, 300),
                 label->boundingRect().height() + 12);
        const bool red = !map_.root.findings.empty();
        auto* box = scene_.addRect(r, QPen(red ? suspectRed() : QColor(60, 60, 60), red ? 2.5 : 1.5),
                                   QBrush(QColor(232, 240, 254)));
        box->setData(kRoleKind, QStringLiteral("header"));
        box->setData(kRoleRed, red);
        QString tip = QStringLiteral("map header %1").arg(hex(map_.address));
        for (const Finding& f : map_.root.findings)
            tip += "\n\n" + findingTip(f);
        box->setToolTip(tip);
        box->setData(kRoleAddress, static_cast<qulonglong>(map_.address));
        placed_[map_.address].push_back({&map_.root, r});
        nodeItems_[&map_.root] = box;
        return r;
    }

    // One bucket or group: a label line and 8 control cells.
    QGraphicsRectItem* drawNode(const MapNode& node, QPointF at, const QString& title) {
        ++stats_.nodesDrawn;
        QRectF r(at, QSizeF(kNodeWidth, kNodeHeight));
        const bool unreadable = node.state != AddressState::Captured;
        const bool red = !node.findings.empty();
        QColor fill = unreadable ? QColor(255, 225, 225) : QColor(250, 250, 250);
        QPen pen(red ? suspectRed() : QColor(90, 90, 90), red ? 2.5 : 1);
        if (unreadable) pen.setStyle(Qt::DashLine);
        auto* box = scene_.addRect(r, pen, QBrush(fill));
        box->setData(kRoleKind, unreadable ? QStringLiteral("suspect") : QStringLiteral("node"));
        box->setData(kRoleAddress, static_cast<qulonglong>(node.address));
        box->setData(kRoleSize, static_cast<qulonglong>(node.size));
        box->setData(kRoleRed, red);
        QString tip = QStringLiteral("%1 %2 #%3, %4 bytes, %5 live")
                          .arg(gomapcore::toString(node.kind), hex(node.address))
                          .arg(node.index)
                          .arg(node.size)
                          .arg(node.liveEntries);
        for (const Finding& f : node.findings)
            tip += "\n\n" + findingTip(f);
        box->setToolTip(tip);
        text(QStringLiteral("%1 %2").arg(title, hex(node.address)), r.topLeft() + QPointF(4, 2),
             monoFont(6.5), red ? suspectRed() : Qt::black);
        if (unreadable) {
            text(gomapcore::toString(node.state), r.topLeft() + QPointF(4, 22), monoFont(7, true),
                 suspectRed());
        } else {
            for (std::size_t i = 0; i < node.control.size() && i < 8; ++i) {
                QRectF cell(r.left() + 5 + static_cast<qreal>(i) * (kCell + kCellGap), r.top() + 22, kCell,
                            kCell);
                const std::uint8_t c = node.control[i];
                QColor color = controlColor(swiss_, c);
                const bool badCell = color == suspectRed();
                auto* cellItem = scene_.addRect(
                    cell, QPen(badCell ? suspectRed() : QColor(120, 120, 120), 0.6), QBrush(color));
                cellItem->setZValue(2);
                cellItem->setData(kRoleKind, QStringLiteral("cell"));
                cellItem->setData(kRoleRed, badCell);
                cellItem->setData(kRoleSlot, static_cast<int>(i));
                cellItem->setData(kRoleNode, static_cast<qulonglong>(node.address));
                QString cellTip = QStringLiteral("slot %1: %2 = 0x%3")
                                      .arg(i)
                                      .arg(swiss_ ? "ctrl" : "tophash")
                                      .arg(c, 2, 16, QLatin1Char('0'));
                for (const gomapcore::Slot& slot : node.slots) {
                    if (slot.index != i) continue;
                    cellTip += QStringLiteral("\nkey at %1%2\nelem at %3%4")
                                   .arg(hex(slot.keyAddress), slot.keyReadable ? "" : " (unreadable)",
                                        hex(slot.elemAddress), slot.elemReadable ? "" : " (unreadable)");
                }
                cellItem->setToolTip(cellTip);
            }
        }
        placed_[node.address].push_back({&node, r});
        nodeItems_[&node] = box;
        return box;
    }

    void arrow(QPointF from, QPointF to, QColor color, qreal width, const QString& tip = {},
               bool curved = false) {
        QPainterPath path(from);
        if (curved) {
            QPointF mid = (from + to) / 2;
            QPointF normal(-(to.y() - from.y()), to.x() - from.x());
            qreal length = std::hypot(normal.x(), normal.y());
            if (length > 0) normal *= 60 / length;
            path.quadTo(mid + normal, to);
        } else {
            path.lineTo(to);
        }
        auto* line = scene_.addPath(path, QPen(color, width));
        line->setZValue(1);
        line->setData(kRoleKind, QStringLiteral("arrow"));
        line->setData(kRoleRed, color == suspectRed());
        if (!tip.isEmpty()) line->setToolTip(tip);
        // The head, along the path's last direction.
        QPointF direction = to - path.pointAtPercent(0.95);
        qreal length = std::hypot(direction.x(), direction.y());
        if (length <= 0) return;
        direction /= length;
        QPointF normal(-direction.y(), direction.x());
        QPolygonF head;
        head << to << to - direction * 9 + normal * 4.5 << to - direction * 9 - normal * 4.5;
        auto* headItem = scene_.addPolygon(head, QPen(color, 1), QBrush(color));
        headItem->setZValue(1);
        headItem->setData(kRoleKind, QStringLiteral("arrow"));
        headItem->setData(kRoleRed, color == suspectRed());
    }

    static QPointF bottomCenter(const QRectF& r) { return {r.center().x(), r.bottom()}; }
    static QPointF topCenter(const QRectF& r) { return {r.center().x(), r.top()}; }

    // An occupancy summary of many buckets or groups: one bar per number of live entries (0..8).
    // range is what it stands for, for a view to ask for in detail.
    QRectF drawSummary(QPointF at, const QString& title, const std::vector<std::size_t>& histogram,
                       std::size_t extra, const QString& extraLabel, const Focus& range) {
        ++stats_.summaries;
        QRectF r(at, QSizeF(kNodeWidth, kNodeHeight + 24));
        auto* box = scene_.addRect(r, QPen(QColor(90, 90, 90)), QBrush(QColor(240, 244, 236)));
        box->setData(kRoleKind, QStringLiteral("summary"));
        box->setData(kRoleRegion, static_cast<int>(range.region));
        box->setData(kRoleFirst, static_cast<qlonglong>(range.first));
        box->setData(kRoleLast, static_cast<qlonglong>(range.last));
        std::size_t most = 1;
        for (std::size_t n : histogram)
            most = std::max(most, n);
        QString tip = title + "\nlive entries per node:";
        for (std::size_t i = 0; i < histogram.size(); ++i) {
            qreal h = 36.0 * static_cast<qreal>(histogram[i]) / static_cast<qreal>(most);
            QRectF bar(r.left() + 5 + static_cast<qreal>(i) * (kCell + kCellGap), r.bottom() - 6 - h, kCell,
                       h);
            auto* barItem = scene_.addRect(bar, Qt::NoPen,
                                           QBrush(i == 0 ? QColor(200, 200, 200) : QColor(102, 187, 106)));
            barItem->setZValue(2);
            tip += QStringLiteral("\n  %1: %2").arg(i).arg(histogram[i]);
        }
        if (extra > 0) tip += QStringLiteral("\n%1 %2").arg(extra).arg(extraLabel);
        box->setToolTip(tip);
        text(title, r.topLeft() + QPointF(4, 2), monoFont(6.5));
        if (extra > 0)
            text(QStringLiteral("%1 %2").arg(extra).arg(extraLabel), r.topLeft() + QPointF(4, 12),
                 monoFont(6));
        return r;
    }

    // Stands, among the summaries, where the focused range would be summarised: the range itself
    // is drawn in detail further down.
    QRectF drawFocusMarker(QPointF at, const QString& title) {
        QRectF r(at, QSizeF(kNodeWidth, kNodeHeight + 24));
        auto* box = scene_.addRect(r, QPen(focusBlue(), 2.5), QBrush(QColor(227, 242, 253)));
        box->setData(kRoleKind, QStringLiteral("focus"));
        box->setToolTip(title);
        text(title, r.topLeft() + QPointF(4, 2), monoFont(6.5, true), focusBlue());
        text(QStringLiteral("in detail below"), r.topLeft() + QPointF(4, 16), monoFont(6.5), focusBlue());
        return r;
    }

    // Where summaries go: rows of kPerRow cells from origin, in order.
    struct SummaryGrid {
        QPointF origin;
        qreal bottom = 0;
        std::size_t column = 0;

        QPointF next() {
            QPointF at(origin.x() + static_cast<qreal>(column % kPerRow) * (kNodeWidth + kHGap),
                       origin.y() + static_cast<qreal>(column / kPerRow) * (kNodeHeight + 24 + kVGap));
            ++column;
            bottom = std::max(bottom, at.y() + kNodeHeight + 24);
            return at;
        }
    };

    // Draws items [0, focusBegin) and [focusEnd, count) as summaries of per items each on grid, with
    // the focus marker (focusTitle) between them when the focus holds any. visit(i, histogram) adds
    // item i's nodes to the histogram and returns what it adds to the summary's count of
    // countLabel; describe(first, last) gives a summary's title and the range it stands for.
    // Returns the rect of what was drawn.
    template <typename Visit, typename Describe>
    QRectF drawSummaries(SummaryGrid& grid, std::size_t count, std::size_t per, std::size_t focusBegin,
                         std::size_t focusEnd, const QString& focusTitle, const QString& countLabel,
                         Visit visit, Describe describe) {
        QRectF drawn;
        auto summarise = [&](std::size_t begin, std::size_t end) {
            for (std::size_t first = begin; first < end; first += per) {
                const std::size_t last = std::min(end, first + per) - 1;
                std::vector<std::size_t> histogram(9, 0);
                std::size_t counted = 0;
                for (std::size_t i = first; i <= last; ++i)
                    counted += visit(i, histogram);
                const auto [title, range] = describe(first, last);
                drawn = drawn.united(drawSummary(grid.next(), title, histogram, counted, countLabel, range));
            }
        };
        summarise(0, focusBegin);
        if (focusEnd > focusBegin) drawn = drawn.united(drawFocusMarker(grid.next(), focusTitle));
        summarise(focusEnd, count);
        return drawn;
    }

    // Of items 0..count-1 (chains or tables, whose index(i) grows with i), the positions
    // [begin, end) the focus covers for region, as far as maxDetailedNodes allows (weight(i) is
    // the boxes item i takes). Empty when the focus is on another region.
    template <typename Index, typename Weight>
    std::pair<std::size_t, std::size_t> focusedPositions(Region region, std::size_t count, Index index,
                                                         Weight weight) {
        const Focus& focus = options_.focus;
        if (focus.region != region || focus.last < focus.first) return {count, count};
        std::size_t begin = 0;
        while (begin < count && index(begin) < focus.first)
            ++begin;
        std::size_t end = begin, boxes = 0;
        while (end < count && index(end) <= focus.last && boxes + weight(end) <= options_.maxDetailedNodes)
            boxes += weight(end++);
        if (end > begin) {
            stats_.focusFirst = index(begin);
            stats_.focusLast = index(end - 1);
            stats_.focusNodes = boxes;
        }
        return {begin, end};
    }

    // ---- classic ---------------------------------------------------------------------------

    struct Chain {
        std::vector<const MapNode*> nodes;
    };

    static std::vector<Chain> chainsOf(const MapNode& header, bool old) {
        std::vector<Chain> chains;
        for (const MapNode& child : header.children) {
            const NodeKind first = old ? NodeKind::OldBucket : NodeKind::Bucket;
            const NodeKind next = old ? NodeKind::OldOverflowBucket : NodeKind::OverflowBucket;
            if (child.kind == first)
                chains.push_back({{&child}});
            else if (child.kind == next && !chains.empty())
                chains.back().nodes.push_back(&child);
        }
        return chains;
    }

    static bool chainHasFindings(const Chain& chain) {
        return std::any_of(chain.nodes.begin(), chain.nodes.end(), [](const MapNode* n) {
            return !n->findings.empty() || n->state != AddressState::Captured;
        });
    }

    static bool evacuated(const MapNode& bucket) {
        return bucket.control.size() == 8 && std::all_of(bucket.control.begin(), bucket.control.end(),
                                                         [](std::uint8_t c) { return c >= 2 && c <= 4; });
    }

    // Draws chains in bands of kPerRow columns from (x, y), each chain a column; returns the y
    // below them and widens bounds to hold them.
    qreal drawBands(const std::vector<const Chain*>& chains, qreal x, qreal y, const QString& kind,
                    QRectF& bounds) {
        for (std::size_t band = 0; band * kPerRow < chains.size(); ++band) {
            std::size_t deepest = 0;
            for (std::size_t column = 0; column < kPerRow && band * kPerRow + column < chains.size();
                 ++column) {
                const Chain& chain = *chains[band * kPerRow + column];
                deepest = std::max(deepest, chain.nodes.size());
                QRectF previous;
                for (std::size_t depth = 0; depth < chain.nodes.size(); ++depth) {
                    const MapNode& node = *chain.nodes[depth];
                    QPointF at(x + static_cast<qreal>(column) * (kNodeWidth + kHGap),
                               y + static_cast<qreal>(depth) * (kNodeHeight + kVGap));
                    QString title = depth == 0 ? QStringLiteral("#%1").arg(node.index)
                                               : QStringLiteral("ovf %1").arg(node.index);
                    if (depth == 0 && kind == "old" && evacuated(node)) title += " evac";
                    QGraphicsRectItem* box = drawNode(node, at, title);
                    if (depth > 0)
                        arrow(bottomCenter(previous), topCenter(box->rect()), QColor(70, 70, 70), 1.2);
                    previous = box->rect();
                    bounds = bounds.isEmpty() ? box->rect() : bounds.united(box->rect());
                }
            }
            y += static_cast<qreal>(deepest) * (kNodeHeight + kVGap) + kVGap;
        }
        return y;
    }

    // Draws chains from origin, one column each; returns the block's bounding rect. With more
    // nodes than maxDetailedNodes: ranges of chains as summaries, then the focused range (if the
    // focus is on these chains) and the chains with findings one by one.
    QRectF drawChains(const std::vector<Chain>& chains, QPointF origin, const QString& kind) {
        QRectF bounds(origin, QSizeF(kNodeWidth, 1));
        if (chains.empty()) return bounds;
        std::size_t total = 0;
        for (const Chain& c : chains)
            total += c.nodes.size();
        if (total <= options_.maxDetailedNodes) {
            std::vector<const Chain*> all;
            for (const Chain& c : chains)
                all.push_back(&c);
            drawBands(all, origin.x(), origin.y(), kind, bounds);
            return bounds;
        }
        stats_.levelOfDetail = true;
        const Region region = kind == "old" ? Region::OldBuckets : Region::Buckets;
        auto index = [&](std::size_t i) { return chains[i].nodes.front()->index; };
        std::size_t focusBegin = 0, focusEnd = 0;
        std::tie(focusBegin, focusEnd) = focusedPositions(
            region, chains.size(), index, [&](std::size_t i) { return chains[i].nodes.size(); });
        const std::size_t ranges = 256;
        const std::size_t per = (chains.size() + ranges - 1) / ranges;
        SummaryGrid grid{origin, origin.y()};
        std::vector<const Chain*> flagged;
        const QString focusTitle =
            QStringLiteral("%1 %2–%3").arg(kind).arg(stats_.focusFirst).arg(stats_.focusLast);
        bounds = bounds.united(drawSummaries(
            grid, chains.size(), per, focusBegin, focusEnd, focusTitle, QStringLiteral("overflow"),
            [&](std::size_t i, std::vector<std::size_t>& histogram) {
                for (const MapNode* n : chains[i].nodes)
                    ++histogram[std::min<std::size_t>(n->liveEntries, 8)];
                if (chainHasFindings(chains[i])) flagged.push_back(&chains[i]);
                return chains[i].nodes.size() - 1;
            },
            [&](std::size_t first, std::size_t last) {
                return std::make_pair(QStringLiteral("%1 %2–%3").arg(kind).arg(index(first)).arg(index(last)),
                                      Focus{region, index(first), index(last)});
            }));
        qreal y = grid.bottom + 3 * kVGap;
        if (focusEnd > focusBegin) {
            text(focusTitle + QStringLiteral(" in detail:"), QPointF(origin.x(), y - 18), monoFont(8, true),
                 focusBlue());
            std::vector<const Chain*> focused;
            for (std::size_t i = focusBegin; i < focusEnd; ++i)
                focused.push_back(&chains[i]);
            QRectF area;
            y = drawBands(focused, origin.x(), y, kind, area) + 2 * kVGap;
            stats_.focusArea = area;
            bounds = bounds.united(area);
        }
        if (!flagged.empty()) {
            text(QStringLiteral("%1 with findings, one by one:").arg(kind), QPointF(origin.x(), y - 18),
                 monoFont(8, true), suspectRed());
            drawBands(flagged, origin.x(), y, kind, bounds);
        }
        return bounds;
    }

    // What extra holds (inspect lists it): extra.nextOverflow and one box per overflow list with its
    // buckets' addresses (kMaxListRows of them; the detail panel lists all), one below the other to
    // the right of extra's box, so that no arrow to one crosses another. Returns the bottom of what
    // was drawn.
    qreal drawExtraLists(const MapNode& extra, const QRectF& extraBox) {
        constexpr qreal kRow = 13, kListWidth = 230;
        const qreal x = extraBox.right() + 50;
        qreal top = extraBox.top(), bottom = extraBox.bottom();
        for (const MapNode& list : extra.children) {
            const bool next = list.kind == NodeKind::NextOverflow;
            const QString field = list.kind == NodeKind::OverflowList ? QStringLiteral("extra.overflow")
                                  : list.kind == NodeKind::OldOverflowList
                                      ? QStringLiteral("extra.oldoverflow")
                                  : next ? QStringLiteral("extra.nextOverflow")
                                         : QString();
            if (field.isEmpty()) continue;
            // Every bucket a list holds is in the decoded entries, the ones not drawn too.
            listed_.push_back(&list);
            for (const MapNode& bucket : list.children)
                listed_.push_back(&bucket);
            const bool unreadable = list.state != AddressState::Captured;
            const std::size_t rows = std::min(list.children.size(), kMaxListRows);
            const bool more = list.children.size() > rows;
            QRectF r(x, top, kListWidth, 34 + static_cast<qreal>(rows + (more ? 1 : 0)) * kRow);
            QPen pen(unreadable ? suspectRed() : QColor(90, 90, 90), unreadable ? 2 : 1);
            if (unreadable) pen.setStyle(Qt::DashLine);
            auto* box =
                scene_.addRect(r, pen, QBrush(unreadable ? QColor(255, 225, 225) : QColor(243, 237, 250)));
            box->setData(kRoleKind, QStringLiteral("extra-list"));
            box->setData(kRoleRed, unreadable);
            box->setData(kRoleNode, static_cast<qulonglong>(list.address));
            box->setData(kRoleSlot, -1);
            const QString what = next ? QStringLiteral("the next free preallocated overflow bucket")
                                      : QStringLiteral("*[]*bmap: %1 overflow buckets kept alive for the GC")
                                            .arg(list.children.size());
            box->setToolTip(
                QStringLiteral("%1 = %2\n%3%4")
                    .arg(field, hex(list.address), what,
                         unreadable
                             ? QStringLiteral("\nread stopped: %1").arg(gomapcore::toString(list.state))
                             : QString()));
            text(QStringLiteral("%1 → %2").arg(field, hex(list.address)), r.topLeft() + QPointF(4, 3),
                 monoFont(6.5, true), unreadable ? suspectRed() : Qt::black);
            text(next ? (unreadable ? QString(gomapcore::toString(list.state))
                                    : QStringLiteral("next free bucket"))
                      : QStringLiteral("%1 buckets%2")
                            .arg(list.children.size())
                            .arg(unreadable ? QStringLiteral(", ") + gomapcore::toString(list.state)
                                            : QString()),
                 r.topLeft() + QPointF(4, 17), monoFont(6.5), unreadable ? suspectRed() : QColor(60, 60, 60));
            for (std::size_t i = 0; i < rows; ++i) {
                const MapNode& bucket = list.children[i];
                const bool bad = bucket.state != AddressState::Captured;
                QRectF row(r.left() + 2, r.top() + 32 + static_cast<qreal>(i) * kRow, kListWidth - 4, kRow);
                auto* entry = scene_.addRect(row, Qt::NoPen, Qt::NoBrush);
                entry->setData(kRoleKind, QStringLiteral("listed"));
                entry->setData(kRoleNode, static_cast<qulonglong>(bucket.address));
                entry->setData(kRoleSlot, -1);
                entry->setData(kRoleRed, bad);
                entry->setToolTip(QStringLiteral("%1[%2] = %3 (%4)")
                                      .arg(field)
                                      .arg(bucket.index)
                                      .arg(hex(bucket.address), gomapcore::toString(bucket.state)));
                text(QStringLiteral("[%1] %2").arg(bucket.index).arg(hex(bucket.address)),
                     row.topLeft() + QPointF(4, 1), monoFont(6.5), bad ? suspectRed() : Qt::black);
            }
            if (more)
                text(QStringLiteral("… %1 more").arg(list.children.size() - rows),
                     r.topLeft() + QPointF(6, 33 + static_cast<qreal>(rows) * kRow), monoFont(6.5));
            arrow(QPointF(extraBox.right(), extraBox.center().y()), QPointF(r.left(), r.top() + 10),
                  QColor(94, 53, 177), 1.1);
            top = r.bottom() + 16;
            bottom = std::max(bottom, r.bottom());
        }
        return bottom;
    }

    void drawClassic(const QRectF& header) {
        const MapNode& root = map_.root;
        qreal top = header.bottom() + 60;
        for (const MapNode& child : root.children) {
            if (child.kind != NodeKind::Extra) continue;
            QGraphicsRectItem* box =
                drawNode(child, QPointF(header.right() + 40, 0), QStringLiteral("extra"));
            arrow(QPointF(header.right(), 20), QPointF(box->rect().left(), 20), QColor(70, 70, 70), 1.2);
            // The buckets start below extra's lists.
            top = std::max(top, drawExtraLists(child, box->rect()) + 60);
        }
        std::vector<Chain> main = chainsOf(root, false);
        std::vector<Chain> old = chainsOf(root, true);
        text(main.empty() ? QStringLiteral("no bucket read") : QStringLiteral("buckets: %1").arg(main.size()),
             QPointF(0, top - 20), monoFont(8, true));
        QRectF mainBlock = drawChains(main, QPointF(0, top), QStringLiteral("bucket"));
        if (!main.empty())
            arrow(QPointF(40, header.bottom()), QPointF(40, top - 22), QColor(70, 70, 70), 1.2);
        if (!old.empty()) {
            std::size_t done = 0;
            for (const Chain& c : old)
                done += evacuated(*c.nodes.front()) ? 1 : 0;
            const qreal x = mainBlock.right() + 80;
            text(QStringLiteral("oldbuckets: %1, evacuated %2 of %1").arg(old.size()).arg(done),
                 QPointF(x, top - 20), monoFont(8, true), QColor(94, 53, 177));
            drawChains(old, QPointF(x, top), QStringLiteral("old"));
        }
    }

    // ---- swiss -----------------------------------------------------------------------------

    std::uint64_t headerValue(const char* name) const {
        for (const auto& [field, value] : map_.header)
            if (field == name) return value;
        return 0;
    }

    // position: the table's place in the directory's list of tables (what Region::Tables counts).
    QRectF drawTable(const MapNode& table, std::size_t position, QPointF at, bool summarise) {
        const std::size_t groups = table.children.size();
        const qreal innerTop = at.y() + 18;
        std::vector<const MapNode*> detailed;
        qreal y = innerTop;
        if (summarise) {
            stats_.levelOfDetail = true;
            std::vector<std::size_t> histogram(9, 0);
            for (const MapNode& g : table.children) {
                ++histogram[std::min<std::size_t>(g.liveEntries, 8)];
                if (!g.findings.empty() || g.state != AddressState::Captured) detailed.push_back(&g);
            }
            const auto self = static_cast<std::int64_t>(position);
            drawSummary(QPointF(at.x() + 5, y), QStringLiteral("%1 groups").arg(groups), histogram, 0,
                        QString(), Focus{Region::Tables, self, self});
            y += kNodeHeight + 24 + 6;
        } else {
            for (const MapNode& g : table.children)
                detailed.push_back(&g);
        }
        // Groups in rows of up to kGroupsPerRow.
        const std::size_t columns = std::max<std::size_t>(1, std::min(kGroupsPerRow, detailed.size()));
        for (std::size_t i = 0; i < detailed.size(); ++i) {
            const MapNode* g = detailed[i];
            drawNode(*g,
                     QPointF(at.x() + 5 + static_cast<qreal>(i % columns) * (kNodeWidth + 6),
                             y + static_cast<qreal>(i / columns) * (kNodeHeight + 6)),
                     QStringLiteral("g%1").arg(g->index));
        }
        y += static_cast<qreal>((detailed.size() + columns - 1) / columns) * (kNodeHeight + 6);
        QRectF r(at, QSizeF(static_cast<qreal>(columns) * (kNodeWidth + 6) + 4,
                            std::max<qreal>(y - at.y(), kNodeHeight)));
        const bool red = !table.findings.empty();
        const bool unreadable = table.state != AddressState::Captured;
        QPen pen(red ? suspectRed() : QColor(60, 60, 60), red ? 2.5 : 1.2);
        if (unreadable) pen.setStyle(Qt::DashLine);
        auto* box =
            scene_.addRect(r, pen, QBrush(unreadable ? QColor(255, 225, 225) : QColor(227, 242, 253)));
        box->setZValue(-1);
        box->setData(kRoleKind, unreadable ? QStringLiteral("suspect") : QStringLiteral("node"));
        box->setData(kRoleAddress, static_cast<qulonglong>(table.address));
        box->setData(kRoleSize, static_cast<qulonglong>(table.size));
        box->setData(kRoleRed, red);
        QString tip = QStringLiteral("table %1 (directory index %2), %3 groups, %4 live")
                          .arg(hex(table.address))
                          .arg(table.index)
                          .arg(groups)
                          .arg(table.liveEntries);
        for (const Finding& f : table.findings)
            tip += "\n\n" + findingTip(f);
        box->setToolTip(tip);
        text(QStringLiteral("table %1").arg(hex(table.address)), at + QPointF(4, 3), monoFont(6.5, true),
             red ? suspectRed() : Qt::black);
        if (unreadable)
            text(gomapcore::toString(table.state), at + QPointF(4, 20), monoFont(7, true), suspectRed());
        ++stats_.nodesDrawn;
        placed_[table.address].push_back({&table, r});
        nodeItems_[&table] = box;
        return r;
    }

    void drawSwiss(const QRectF& header) {
        const MapNode& root = map_.root;
        const qreal top = header.bottom() + 60;
        std::size_t totalGroups = 0;
        for (const MapNode& child : root.children)
            for (const MapNode& table : child.children)
                totalGroups += table.children.size();
        summariseAll_ = totalGroups > options_.maxDetailedNodes;
        stats_.levelOfDetail = summariseAll_;
        for (const MapNode& child : root.children) {
            if (child.kind == NodeKind::Group) {  // a small map: one group
                text(QStringLiteral("small map: one group"), QPointF(0, top - 20), monoFont(8, true));
                QGraphicsRectItem* box = drawNode(child, QPointF(0, top), QStringLiteral("group"));
                arrow(QPointF(40, header.bottom()), topCenter(box->rect()), QColor(70, 70, 70), 1.2);
                continue;
            }
            if (child.kind != NodeKind::Directory) continue;
            drawDirectory(child, header, top);
        }
    }

    void drawDirectory(const MapNode& directory, const QRectF& header, qreal top) {
        const std::uint64_t dirLen = std::max<std::uint64_t>(headerValue("dirLen"), directory.size / 8);
        // Which directory entries point to each table: a table walked at index i owns the entries up to
        // the next walked table's index (aliases share a table).
        std::vector<const MapNode*> tables;
        for (const MapNode& t : directory.children)
            tables.push_back(&t);
        const bool cells = dirLen <= 256;
        // Entries the findings name ("directory[3] = ... lies in no mapping"): their arrows start at
        // their cell, and they belong to no walked table.
        std::set<std::int64_t> badEntries;
        static const QRegularExpression entry(QStringLiteral("directory\\[(\\d+)\\]"));
        for (const Finding& f : directory.findings) {
            QRegularExpressionMatch m = entry.match(QString::fromStdString(f.message));
            if (!m.hasMatch()) continue;
            const std::int64_t i = m.captured(1).toLongLong();
            badEntries.insert(i);
            if (cells && i >= 0 && static_cast<std::uint64_t>(i) < dirLen)
                fromOverride_[&f] = QRectF(static_cast<qreal>(i) * 34 + 2, top + 14, 30, 22);
        }
        const qreal cellWidth = 34;
        QRectF dirRect(0, top, cells ? std::max<qreal>(static_cast<qreal>(dirLen) * cellWidth, 200) : 400,
                       40);
        const bool red = !directory.findings.empty();
        auto* box = scene_.addRect(dirRect, QPen(red ? suspectRed() : QColor(60, 60, 60), red ? 2.5 : 1.2),
                                   QBrush(QColor(255, 248, 225)));
        box->setData(kRoleKind, QStringLiteral("node"));
        box->setData(kRoleAddress, static_cast<qulonglong>(directory.address));
        box->setData(kRoleRed, red);
        QString tip = QStringLiteral("directory %1, %2 entries, %3 tables")
                          .arg(hex(directory.address))
                          .arg(dirLen)
                          .arg(tables.size());
        for (const Finding& f : directory.findings)
            tip += "\n\n" + findingTip(f);
        box->setToolTip(tip);
        placed_[directory.address].push_back({&directory, dirRect});
        nodeItems_[&directory] = box;
        ++stats_.nodesDrawn;
        text(QStringLiteral("directory %1  dirLen=%2  globalDepth=%3  %4 tables")
                 .arg(hex(directory.address))
                 .arg(dirLen)
                 .arg(headerValue("globalDepth"))
                 .arg(tables.size()),
             QPointF(0, top - 20), monoFont(8, true), red ? suspectRed() : Qt::black);
        arrow(QPointF(40, header.bottom()), QPointF(40, top), QColor(70, 70, 70), 1.2);
        if (cells) {
            for (std::uint64_t i = 0; i < dirLen; ++i) {
                QRectF cell(static_cast<qreal>(i) * cellWidth + 2, top + 14, cellWidth - 4, 22);
                auto* c = scene_.addRect(cell, QPen(QColor(150, 150, 150)), QBrush(Qt::white));
                c->setZValue(1);
                text(QString::number(i), cell.topLeft() + QPointF(3, 4), monoFont(6.5));
            }
        }
        // Tables in rows of kPerRow below the directory. A summarised map draws every table's groups
        // as one summary, or, with very many tables, ranges of tables as summaries and then the
        // tables with findings one by one; the focused tables are drawn in detail either way.
        const qreal tablesTop = top + 40 + 70;
        const std::size_t count = directory.children.size();
        auto position = [&](const MapNode* table) {
            return static_cast<std::size_t>(table - directory.children.data());
        };
        std::size_t focusBegin = count, focusEnd = count;
        if (summariseAll_)
            std::tie(focusBegin, focusEnd) = focusedPositions(
                Region::Tables, count, [](std::size_t i) { return static_cast<std::int64_t>(i); },
                [&](std::size_t i) { return directory.children[i].children.size(); });
        auto focused = [&](const MapNode* table) {
            return position(table) >= focusBegin && position(table) < focusEnd;
        };
        const bool rangesDrawn = summariseAll_ && tables.size() > kMaxTableBoxes;
        qreal rowsTop = tablesTop;
        std::vector<const MapNode*> flagged;
        if (rangesDrawn) {
            const std::size_t per = (tables.size() + kMaxTableBoxes - 1) / kMaxTableBoxes;
            SummaryGrid grid{QPointF(0, tablesTop), tablesTop};
            drawSummaries(
                grid, tables.size(), per, focusBegin, focusEnd,
                QStringLiteral("tables %1–%2").arg(stats_.focusFirst).arg(stats_.focusLast),
                QStringLiteral("groups"),
                [&](std::size_t t, std::vector<std::size_t>& histogram) {
                    const MapNode& table = *tables[t];
                    bool hasFindings = !table.findings.empty() || table.state != AddressState::Captured;
                    for (const MapNode& g : table.children) {
                        ++histogram[std::min<std::size_t>(g.liveEntries, 8)];
                        hasFindings |= !g.findings.empty();
                    }
                    if (hasFindings) flagged.push_back(&table);
                    return table.children.size();
                },
                [&](std::size_t first, std::size_t last) {
                    return std::make_pair(QStringLiteral("tables %1–%2").arg(first).arg(last),
                                          Focus{Region::Tables, static_cast<std::int64_t>(first),
                                                static_cast<std::int64_t>(last)});
                });
            arrow(QPointF(dirRect.center().x(), dirRect.bottom()),
                  QPointF(dirRect.center().x(), tablesTop - 4), QColor(70, 70, 70), 1.2);
            rowsTop = grid.bottom + 3 * kVGap;
        }
        // The tables drawn one by one, in rows of kTablesPerRow from y; returns the y below them.
        auto drawTableRows = [&](const std::vector<const MapNode*>& rows, qreal y, QRectF* area) {
            qreal rowTop = y, rowBottom = y, x = 0;
            for (std::size_t t = 0; t < rows.size(); ++t) {
                if (t > 0 && t % kTablesPerRow == 0) {
                    rowTop = rowBottom + 50;
                    x = 0;
                }
                const MapNode& table = *rows[t];
                QRectF r =
                    drawTable(table, position(&table), QPointF(x, rowTop), summariseAll_ && !focused(&table));
                if (area != nullptr) *area = area->isEmpty() ? r : area->united(r);
                x = r.right() + kHGap * 2;
                rowBottom = std::max(rowBottom, r.bottom());
                // Arrows from the directory entries this table owns.
                const std::int64_t first = std::max<std::int64_t>(table.index, 0);
                std::int64_t end =
                    t + 1 < rows.size() ? rows[t + 1]->index : static_cast<std::int64_t>(dirLen);
                if (end <= first) end = first + 1;
                const QColor color = table.findings.empty() && table.state == AddressState::Captured
                                         ? QColor(70, 70, 70)
                                         : suspectRed();
                for (std::int64_t i = first; i < end; ++i) {
                    if (badEntries.count(i) != 0) break;  // an entry a finding names points elsewhere
                    QPointF from = cells
                                       ? QPointF(static_cast<qreal>(i) * cellWidth + cellWidth / 2, top + 36)
                                       : QPointF(dirRect.center().x(), dirRect.bottom());
                    arrow(from, topCenter(r), color, i == first ? 1.3 : 0.9,
                          i == first ? QString()
                                     : QStringLiteral("directory[%1] aliases table %2")
                                           .arg(i)
                                           .arg(hex(table.address)));
                    if (!cells || rangesDrawn) break;
                }
            }
            return rows.empty() ? y : rowBottom + 3 * kVGap;
        };
        if (!rangesDrawn) {
            drawTableRows(tables, rowsTop, nullptr);
            if (focusEnd > focusBegin) {
                QRectF area;
                for (const MapNode* table : tables)
                    if (focused(table)) {
                        const QRectF drawn = nodeItems_.at(table)->rect();
                        area = area.isEmpty() ? drawn : area.united(drawn);
                    }
                stats_.focusArea = area;
            }
            return;
        }
        if (focusEnd > focusBegin) {
            text(QStringLiteral("tables %1–%2 in detail:").arg(stats_.focusFirst).arg(stats_.focusLast),
                 QPointF(0, rowsTop - 18), monoFont(8, true), focusBlue());
            std::vector<const MapNode*> rows;
            for (std::size_t t = focusBegin; t < focusEnd; ++t)
                rows.push_back(&directory.children[t]);
            QRectF area;
            rowsTop = drawTableRows(rows, rowsTop, &area) + 2 * kVGap;
            stats_.focusArea = area;
        }
        if (!flagged.empty()) {
            text(QStringLiteral("tables with findings, one by one:"), QPointF(0, rowsTop - 18),
                 monoFont(8, true), suspectRed());
            drawTableRows(flagged, rowsTop, nullptr);
        }
    }

    // ---- findings --------------------------------------------------------------------------

    void collect(const MapNode& node, std::vector<const MapNode*>& out) {
        out.push_back(&node);
        for (const MapNode& child : node.children)
            collect(child, out);
    }

    void drawFindings() {
        std::vector<const MapNode*> nodes;
        collect(map_.root, nodes);
        const qreal x = scene_.itemsBoundingRect().right() + 140;
        qreal nextY = 0;
        std::unordered_map<std::uint64_t, QRectF> suspects;
        for (const MapNode* node : nodes) {
            auto item = nodeItems_.find(node);
            if (item == nodeItems_.end()) continue;  // summarised
            for (const Finding& f : node->findings) {
                const auto override = fromOverride_.find(&f);
                const QRectF from = override != fromOverride_.end() ? override->second : item->second->rect();
                const QString tip = findingTip(f);
                if (f.address == node->address) continue;  // the node itself is marked
                const bool inside = f.address > node->address && f.address < node->address + node->size;
                // A pointer back to a node already drawn (a cycle): the loop, as it is.
                auto target = inside ? placed_.end() : placed_.find(f.address);
                if (target != placed_.end() && !target->second.empty()) {
                    const QRectF to = target->second.front().rect;
                    arrow(QPointF(from.right(), from.center().y()), QPointF(to.right(), to.center().y()),
                          suspectRed(), 2.5, tip, true);
                    text(QStringLiteral("cycle → %1").arg(hex(f.address)),
                         QPointF(from.right() + 4, from.top() - 12), monoFont(7, true), suspectRed());
                    continue;
                }
                // Anything else: a marked box with the address and its state, in the suspects column.
                QRectF box;
                if (auto seen = suspects.find(f.address); seen != suspects.end()) {
                    box = seen->second;
                } else {
                    box = QRectF(x, std::max(nextY, from.top()), 210, 46);
                    nextY = box.bottom() + 16;
                    suspects[f.address] = box;
                    ++stats_.suspects;
                    QPen pen(suspectRed(), 2.5);
                    auto* rect = scene_.addRect(box, pen, QBrush(QColor(255, 225, 225)));
                    rect->setData(kRoleKind, QStringLiteral("suspect"));
                    rect->setData(kRoleAddress, static_cast<qulonglong>(f.address));
                    rect->setData(kRoleRed, true);
                    rect->setToolTip(tip);
                    // The "marked" box: a cross in its corner.
                    QPainterPath cross;
                    cross.moveTo(box.right() - 16, box.top() + 4);
                    cross.lineTo(box.right() - 4, box.top() + 16);
                    cross.moveTo(box.right() - 4, box.top() + 4);
                    cross.lineTo(box.right() - 16, box.top() + 16);
                    scene_.addPath(cross, QPen(suspectRed(), 2))->setData(kRoleRed, true);
                    auto* label =
                        text(hex(f.address), box.topLeft() + QPointF(6, 4), monoFont(8, true), suspectRed());
                    label->setData(kRoleKind, QStringLiteral("suspect"));
                    label->setData(kRoleAddress, static_cast<qulonglong>(f.address));
                    const QString where =
                        inside ? QStringLiteral("inside %1").arg(gomapcore::toString(node->kind))
                               : stateText(f, memory_);
                    text(QStringLiteral("%1 · %2").arg(where, QString::fromStdString(f.rule)),
                         box.topLeft() + QPointF(6, 24), monoFont(7), suspectRed());
                }
                arrow(QPointF(from.right(), from.center().y()), QPointF(box.left(), box.center().y()),
                      suspectRed(), 2.2, tip);
            }
        }
    }

    QGraphicsScene& scene_;
    const MapResult& map_;
    const gomapcore::Memory& memory_;
    Options options_;
    Stats stats_;
    bool swiss_ = false;
    bool summariseAll_ = false;
    std::unordered_map<std::uint64_t, std::vector<Placed>> placed_;
    std::unordered_map<const MapNode*, QGraphicsRectItem*> nodeItems_;
    std::vector<const MapNode*> listed_;  // extra's lists and their buckets
    std::unordered_map<const Finding*, QRectF> fromOverride_;
};

}  // namespace

QColor suspectRed() {
    return QColor(220, 0, 0);
}

QColor focusBlue() {
    return QColor(21, 101, 192);
}

QColor controlColor(bool swiss, std::uint8_t control) {
    if (swiss) {
        if (control == 0x80) return QColor(236, 236, 236);  // empty
        if (control == 0xfe) return QColor(255, 183, 77);   // deleted
        if (control < 0x80) return QColor(102, 187, 106);   // full
        return suspectRed();
    }
    if (control == 0) return QColor(236, 236, 236);                  // emptyRest
    if (control == 1) return QColor(210, 210, 210);                  // emptyOne
    if (control >= 2 && control <= 4) return QColor(179, 157, 219);  // evacuated marks
    return QColor(102, 187, 106);                                    // full
}

Stats buildMapScene(QGraphicsScene& scene, const gomapcore::MapResult& map, const gomapcore::Memory& memory,
                    const Options& options, std::vector<const gomapcore::MapNode*>* drawn) {
    scene.setItemIndexMethod(QGraphicsScene::NoIndex);
    scene.setBackgroundBrush(Qt::white);
    return Builder(scene, map, memory, options).build(drawn);
}

namespace {

// Copies node into out without its children, then the children that are kept or lead to one;
// true when node is kept or leads to a kept node.
bool copyKept(const MapNode& node, const std::unordered_set<const MapNode*>& keep, MapNode& out) {
    out.kind = node.kind;
    out.address = node.address;
    out.size = node.size;
    out.index = node.index;
    out.state = node.state;
    out.liveEntries = node.liveEntries;
    out.control = node.control;
    out.slots = node.slots;
    out.findings = node.findings;
    for (const MapNode& child : node.children) {
        MapNode copy;
        if (copyKept(child, keep, copy)) out.children.push_back(std::move(copy));
    }
    return keep.count(&node) != 0 || !out.children.empty();
}

}  // namespace

gomapcore::MapResult shownPart(const gomapcore::MapResult& map, const std::vector<const MapNode*>& drawn) {
    // Every member but the node tree, which is the part of it that is kept.
    gomapcore::MapResult part;
    part.address = map.address;
    part.layout = map.layout;
    part.roots = map.roots;
    part.rootKinds = map.rootKinds;
    part.header = map.header;
    part.headerReadable = map.headerReadable;
    part.count = map.count;
    part.liveEntries = map.liveEntries;
    part.complete = map.complete;
    part.limitsHit = map.limitsHit;
    part.tables = map.tables;
    part.confidence = map.confidence;
    part.typeCandidates = map.typeCandidates;
    part.memory = map.memory;
    copyKept(map.root, std::unordered_set<const MapNode*>(drawn.begin(), drawn.end()), part.root);
    return part;
}

}  // namespace mapscene
