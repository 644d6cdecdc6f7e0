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
#include <unordered_map>
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

    Stats build() {
        swiss_ = isSwiss();
        QRectF header = drawHeader();
        if (swiss_)
            drawSwiss(header);
        else
            drawClassic(header);
        drawFindings();
        scene_.setSceneRect(scene_.itemsBoundingRect().adjusted(-20, -20, 20, 20));
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
    void drawSummary(QPointF at, const QString& title, const std::vector<std::size_t>& histogram,
                     std::size_t extra, const QString& extraLabel) {
        ++stats_.summaries;
        QRectF r(at, QSizeF(kNodeWidth, kNodeHeight + 24));
        auto* box = scene_.addRect(r, QPen(QColor(90, 90, 90)), QBrush(QColor(240, 244, 236)));
        box->setData(kRoleKind, QStringLiteral("summary"));
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

    // Draws chains in bands of kPerRow columns from origin; returns the block's bounding rect.
    QRectF drawChains(const std::vector<Chain>& chains, QPointF origin, const QString& kind, QRectF from) {
        QRectF bounds(origin, QSizeF(0, 0));
        if (chains.empty()) return bounds;
        std::size_t total = 0;
        for (const Chain& c : chains)
            total += c.nodes.size();
        const bool summarise = total > options_.maxDetailedNodes;
        std::vector<const Chain*> detailed;
        qreal y = origin.y();
        if (summarise) {
            stats_.levelOfDetail = true;
            const std::size_t ranges = 256;
            const std::size_t per = (chains.size() + ranges - 1) / ranges;
            std::size_t column = 0;
            qreal rowBottom = y;
            for (std::size_t first = 0; first < chains.size(); first += per, ++column) {
                const std::size_t last = std::min(chains.size(), first + per);
                std::vector<std::size_t> histogram(9, 0);
                std::size_t overflow = 0;
                for (std::size_t i = first; i < last; ++i) {
                    for (const MapNode* n : chains[i].nodes)
                        ++histogram[std::min<std::size_t>(n->liveEntries, 8)];
                    overflow += chains[i].nodes.size() - 1;
                    if (chainHasFindings(chains[i])) detailed.push_back(&chains[i]);
                }
                QPointF at(origin.x() + static_cast<qreal>(column % kPerRow) * (kNodeWidth + kHGap),
                           y + static_cast<qreal>(column / kPerRow) * (kNodeHeight + 24 + kVGap));
                drawSummary(at,
                            QStringLiteral("%1 %2–%3")
                                .arg(kind)
                                .arg(chains[first].nodes.front()->index)
                                .arg(chains[last - 1].nodes.front()->index),
                            histogram, overflow, QStringLiteral("overflow"));
                rowBottom = std::max(rowBottom, at.y() + kNodeHeight + 24);
            }
            y = rowBottom + 3 * kVGap;
            if (!detailed.empty())
                text(QStringLiteral("%1 with findings, one by one:").arg(kind), QPointF(origin.x(), y - 18),
                     monoFont(8, true), suspectRed());
        } else {
            for (const Chain& c : chains)
                detailed.push_back(&c);
        }
        qreal bandTop = y;
        for (std::size_t band = 0; band * kPerRow < detailed.size(); ++band) {
            std::size_t deepest = 0;
            for (std::size_t column = 0; column < kPerRow && band * kPerRow + column < detailed.size();
                 ++column) {
                const Chain& chain = *detailed[band * kPerRow + column];
                deepest = std::max(deepest, chain.nodes.size());
                QRectF previous;
                for (std::size_t depth = 0; depth < chain.nodes.size(); ++depth) {
                    const MapNode& node = *chain.nodes[depth];
                    QPointF at(origin.x() + static_cast<qreal>(column) * (kNodeWidth + kHGap),
                               bandTop + static_cast<qreal>(depth) * (kNodeHeight + kVGap));
                    QString title = depth == 0 ? QStringLiteral("#%1").arg(node.index)
                                               : QStringLiteral("ovf %1").arg(node.index);
                    if (depth == 0 && kind == "old" && evacuated(node)) title += " evac";
                    QGraphicsRectItem* box = drawNode(node, at, title);
                    if (depth > 0)
                        arrow(bottomCenter(previous), topCenter(box->rect()), QColor(70, 70, 70), 1.2);
                    previous = box->rect();
                    bounds = bounds.united(box->rect());
                }
            }
            bandTop += static_cast<qreal>(deepest) * (kNodeHeight + kVGap) + kVGap;
        }
        if (!from.isNull() && !bounds.isEmpty())
            arrow(bottomCenter(from), QPointF(bounds.left() + kNodeWidth / 2, origin.y() - 22),
                  QColor(70, 70, 70), 1.2);
        return bounds.united(QRectF(origin, QSizeF(kNodeWidth, 1)));
    }

    void drawClassic(const QRectF& header) {
        const MapNode& root = map_.root;
        const qreal top = header.bottom() + 60;
        std::vector<Chain> main = chainsOf(root, false);
        std::vector<Chain> old = chainsOf(root, true);
        text(main.empty() ? QStringLiteral("no bucket read") : QStringLiteral("buckets: %1").arg(main.size()),
             QPointF(0, top - 20), monoFont(8, true));
        QRectF mainBlock = drawChains(main, QPointF(0, top), QStringLiteral("bucket"), QRectF());
        if (!main.empty())
            arrow(QPointF(40, header.bottom()), QPointF(40, top - 22), QColor(70, 70, 70), 1.2);
        if (!old.empty()) {
            std::size_t done = 0;
            for (const Chain& c : old)
                done += evacuated(*c.nodes.front()) ? 1 : 0;
            const qreal x = mainBlock.right() + 80;
            text(QStringLiteral("oldbuckets: %1, evacuated %2 of %1").arg(old.size()).arg(done),
                 QPointF(x, top - 20), monoFont(8, true), QColor(94, 53, 177));
            drawChains(old, QPointF(x, top), QStringLiteral("old"), QRectF());
        }
        for (const MapNode& child : root.children) {
            if (child.kind != NodeKind::Extra) continue;
            QGraphicsRectItem* box =
                drawNode(child, QPointF(header.right() + 40, 0), QStringLiteral("extra"));
            arrow(QPointF(header.right(), 20), QPointF(box->rect().left(), 20), QColor(70, 70, 70), 1.2);
        }
    }

    // ---- swiss -----------------------------------------------------------------------------

    std::uint64_t headerValue(const char* name) const {
        for (const auto& [field, value] : map_.header)
            if (field == name) return value;
        return 0;
    }

    QRectF drawTable(const MapNode& table, QPointF at) {
        const std::size_t groups = table.children.size();
        const bool summarise = summariseAll_;
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
            drawSummary(QPointF(at.x() + 5, y), QStringLiteral("%1 groups").arg(groups), histogram, 0,
                        QString());
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
        // Tables in rows of kPerRow below the directory.
        qreal tablesTop = top + 40 + 70;
        const bool rangesDrawn = summariseAll_ && tables.size() > kMaxTableBoxes;
        if (rangesDrawn) {
            // Very many tables: ranges of tables as occupancy summaries; tables with findings below,
            // one by one.
            std::vector<const MapNode*> flagged;
            const std::size_t per = (tables.size() + kMaxTableBoxes - 1) / kMaxTableBoxes;
            qreal bottom = tablesTop;
            for (std::size_t first = 0, column = 0; first < tables.size(); first += per, ++column) {
                const std::size_t last = std::min(tables.size(), first + per);
                std::vector<std::size_t> histogram(9, 0);
                std::size_t groups = 0;
                for (std::size_t t = first; t < last; ++t) {
                    const MapNode& table = *tables[t];
                    if (!table.findings.empty() || table.state != AddressState::Captured)
                        flagged.push_back(&table);
                    for (const MapNode& g : table.children) {
                        ++histogram[std::min<std::size_t>(g.liveEntries, 8)];
                        ++groups;
                        if (!g.findings.empty() && (flagged.empty() || flagged.back() != &table))
                            flagged.push_back(&table);
                    }
                }
                QPointF at(static_cast<qreal>(column % kPerRow) * (kNodeWidth + kHGap),
                           tablesTop + static_cast<qreal>(column / kPerRow) * (kNodeHeight + 24 + kVGap));
                drawSummary(at, QStringLiteral("tables %1–%2").arg(first).arg(last - 1), histogram, groups,
                            QStringLiteral("groups"));
                bottom = std::max(bottom, at.y() + kNodeHeight + 24);
            }
            arrow(QPointF(dirRect.center().x(), dirRect.bottom()),
                  QPointF(dirRect.center().x(), tablesTop - 4), QColor(70, 70, 70), 1.2);
            tables = flagged;
            tablesTop = bottom + 3 * kVGap;
            if (!tables.empty())
                text(QStringLiteral("tables with findings, one by one:"), QPointF(0, tablesTop - 18),
                     monoFont(8, true), suspectRed());
        }
        qreal rowTop = tablesTop, rowBottom = tablesTop, x = 0;
        for (std::size_t t = 0; t < tables.size(); ++t) {
            if (t > 0 && t % kTablesPerRow == 0) {
                rowTop = rowBottom + 50;
                x = 0;
            }
            QRectF r = drawTable(*tables[t], QPointF(x, rowTop));
            x = r.right() + kHGap * 2;
            rowBottom = std::max(rowBottom, r.bottom());
            // Arrows from the directory entries this table owns.
            const std::int64_t first = std::max<std::int64_t>(tables[t]->index, 0);
            std::int64_t end =
                t + 1 < tables.size() ? tables[t + 1]->index : static_cast<std::int64_t>(dirLen);
            if (end <= first) end = first + 1;
            const QColor color = tables[t]->findings.empty() && tables[t]->state == AddressState::Captured
                                     ? QColor(70, 70, 70)
                                     : suspectRed();
            for (std::int64_t i = first; i < end; ++i) {
                if (badEntries.count(i) != 0) break;  // an entry a finding names points elsewhere
                QPointF from = cells ? QPointF(static_cast<qreal>(i) * cellWidth + cellWidth / 2, top + 36)
                                     : QPointF(dirRect.center().x(), dirRect.bottom());
                arrow(from, topCenter(r), color, i == first ? 1.3 : 0.9,
                      i == first ? QString()
                                 : QStringLiteral("directory[%1] aliases table %2")
                                       .arg(i)
                                       .arg(hex(tables[t]->address)));
                if (!cells || rangesDrawn) break;
            }
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
    std::unordered_map<const Finding*, QRectF> fromOverride_;
};

}  // namespace

QColor suspectRed() {
    return QColor(220, 0, 0);
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
                    const Options& options) {
    scene.setItemIndexMethod(QGraphicsScene::NoIndex);
    scene.setBackgroundBrush(Qt::white);
    return Builder(scene, map, memory, options).build();
}

}  // namespace mapscene
