#include "map_memory_view.h"

#include "address_text.h"

#include <QApplication>
#include <QItemSelectionModel>
#include <QLabel>
#include <QListView>
#include <QPainter>
#include <QProgressBar>
#include <QStyledItemDelegate>
#include <QVBoxLayout>
#include <algorithm>

namespace {

QString bytesText(std::uint64_t bytes) {
    return QString::fromStdString(gomapcore::bytesText(bytes));
}

// "27.0% of the heap", or nothing when the heap in use is unknown.
QString heapShare(std::uint64_t bytes, const gomapcore::MemorySummary& memory) {
    if (!memory.heapInUse || *memory.heapInUse == 0) return {};
    return QStringLiteral("%1% of the heap")
        .arg(100.0 * static_cast<double>(bytes) / static_cast<double>(*memory.heapInUse), 0, 'f', 1);
}

QString joined(QStringList parts) {
    parts.removeAll(QString());
    return parts.join(QStringLiteral("  ·  "));
}

// Roots hold keys, which may hold "%1": they are appended, never passed through arg().
QString mapTooltip(const gomapcore::MapResult& map) {
    const gomapcore::MapMemory& m = map.memory;
    QStringList roots;
    for (const std::string& root : map.roots)
        roots << QString::fromStdString(root);
    QString text =
        QStringLiteral("map %1 %2\nroots: ").arg(hex(map.address), QString::fromStdString(map.typeName()));
    text += roots.isEmpty() ? QStringLiteral("(unreached heap object)") : roots.join(", ");
    text += QStringLiteral(
                "\n%1 bytes: header %2, buckets/groups %3, directory %4, overflow %5, old buckets %6, "
                "indirect %7")
                .arg(m.bytes())
                .arg(m.header)
                .arg(m.buckets)
                .arg(m.directory)
                .arg(m.overflow)
                .arg(m.oldBuckets)
                .arg(m.indirect);
    if (!m.complete) text += QStringLiteral("\nthe walk did not reach everything: at least this much");
    return text;
}

QColor barColour(int status) {
    switch (static_cast<gomapcore::MapStatus>(status)) {
        case gomapcore::MapStatus::Damaged:
            return QColor(240, 150, 150);
        case gomapcore::MapStatus::Suspect:
        case gomapcore::MapStatus::Incomplete:
            return QColor(245, 200, 110);
        default:
            return QColor(150, 190, 235);
    }
}

// A bar: bytes right-aligned on the left, then the bar at its share of the largest, the label
// written over it.
class BarDelegate : public QStyledItemDelegate {
  public:
    using QStyledItemDelegate::QStyledItemDelegate;
    static constexpr int kBytesWidth = 76;

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override {
        QStyleOptionViewItem opt(option);
        initStyleOption(&opt, index);
        opt.text.clear();
        const QWidget* widget = option.widget;
        QStyle* style = widget != nullptr ? widget->style() : QApplication::style();
        style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);  // background, selection
        painter->save();
        const QRect r = option.rect.adjusted(4, 2, -4, -2);
        const bool selected = option.state & QStyle::State_Selected;
        painter->setPen(option.palette.color(selected ? QPalette::HighlightedText : QPalette::Text));
        const QString label = index.data(MapMemoryModel::LabelRole).toString();
        if (index.data(MapMemoryModel::RestRole).toBool()) {
            QFont italic = option.font;
            italic.setItalic(true);
            painter->setFont(italic);
            painter->drawText(r, Qt::AlignLeft | Qt::AlignVCenter,
                              option.fontMetrics.elidedText(label, Qt::ElideRight, r.width()));
            painter->restore();
            return;
        }
        const QRect bytesRect(r.left(), r.top(), kBytesWidth, r.height());
        painter->drawText(bytesRect, Qt::AlignRight | Qt::AlignVCenter,
                          index.data(MapMemoryModel::BytesTextRole).toString());
        const QRect area(bytesRect.right() + 8, r.top(), r.right() - bytesRect.right() - 8, r.height());
        const double fraction = index.data(MapMemoryModel::FractionRole).toDouble();
        const int width = fraction > 0 ? std::max(2, static_cast<int>(fraction * area.width())) : 0;
        painter->fillRect(QRect(area.left(), area.top(), width, area.height()),
                          barColour(index.data(MapMemoryModel::StatusRole).toInt()));
        painter->setPen(option.palette.color(QPalette::Text));  // dark on the light bar
        const QRect text = area.adjusted(4, 0, -2, 0);
        painter->drawText(text, Qt::AlignLeft | Qt::AlignVCenter,
                          option.fontMetrics.elidedText(label, Qt::ElideRight, text.width()));
        painter->restore();
    }

    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override {
        QSize size = QStyledItemDelegate::sizeHint(option, index);
        size.setHeight(option.fontMetrics.height() + 8);
        return size;
    }
};

}  // namespace

MapMemoryModel::MapMemoryModel(QObject* parent) : QAbstractListModel(parent) {}

void MapMemoryModel::setReport(std::shared_ptr<const gomapcore::Report> report, std::size_t maxBars) {
    beginResetModel();
    report_ = std::move(report);
    lines_.clear();
    ranking_ = report_ ? gomapcore::rankByBytes(*report_, maxBars) : gomapcore::MemoryRanking{};
    if (report_) {
        const gomapcore::MemorySummary& memory = report_->memory;
        const double largest = ranking_.top.empty() ? 0.0 : static_cast<double>(ranking_.top.front().bytes);
        for (const gomapcore::MemoryShare& share : ranking_.top) {
            Line line;
            line.bytes = share.bytes;
            line.fraction = largest > 0 ? static_cast<double>(share.bytes) / largest : 0.0;
            line.bytesText = bytesText(share.bytes);
            if (const gomapcore::MapResult* map = share.map) {
                line.address = map->address;
                QString root = map->roots.empty() ? QStringLiteral("(unreached heap object)")
                                                  : QString::fromStdString(map->roots.front());
                if (map->roots.size() > 1) root += QStringLiteral(" (+%1 roots)").arg(map->roots.size() - 1);
                line.label =
                    joined({root, QString::fromStdString(map->typeName()),
                            QStringLiteral("%1 slots").arg(map->memory.capacity),
                            QStringLiteral("load %1").arg(map->memory.loadFactor(map->count), 0, 'f', 3),
                            heapShare(share.bytes, memory),
                            map->memory.complete ? QString() : QStringLiteral("walk incomplete")});
                line.tooltip = mapTooltip(*map);
                line.status = static_cast<int>(map->status());
            } else {
                const gomapcore::MapGroup& group = *share.group;
                line.group = static_cast<int>(&group - report_->mapGroups.data());
                line.label =
                    joined({QString::fromStdString(group.rootPattern), QString::fromStdString(group.type),
                            QStringLiteral("%1 maps, %2 entries").arg(group.maps).arg(group.entries),
                            heapShare(share.bytes, memory)});
                line.tooltip = QStringLiteral("%1 maps counted together: %2 bytes summed")
                                   .arg(group.maps)
                                   .arg(group.bytes);
                line.status = static_cast<int>(group.damaged > 0      ? gomapcore::MapStatus::Damaged
                                               : group.suspect > 0    ? gomapcore::MapStatus::Suspect
                                               : group.incomplete > 0 ? gomapcore::MapStatus::Incomplete
                                                                      : gomapcore::MapStatus::Ok);
            }
            lines_.push_back(std::move(line));
        }
        if (ranking_.restLines > 0) {
            Line rest;
            rest.rest = true;
            rest.bytes = ranking_.restBytes;
            rest.bytesText = bytesText(ranking_.restBytes);
            rest.label = QStringLiteral(
                             "%1 more maps, %2 (%3 bytes), not drawn: each holds at most what the last "
                             "bar does")
                             .arg(ranking_.restMaps)
                             .arg(rest.bytesText)
                             .arg(ranking_.restBytes);
            lines_.push_back(std::move(rest));
        }
    }
    endResetModel();
}

int MapMemoryModel::rowOf(quint64 address, int group) const {
    for (std::size_t i = 0; i < lines_.size(); ++i) {
        const Line& line = lines_[i];
        if (line.rest) continue;
        if (group >= 0 ? line.group == group : line.group < 0 && line.address == address)
            return static_cast<int>(i);
    }
    return -1;
}

int MapMemoryModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(lines_.size());
}

QVariant MapMemoryModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= static_cast<int>(lines_.size())) return {};
    const Line& line = lines_[static_cast<std::size_t>(index.row())];
    switch (role) {
        case Qt::DisplayRole:
            return line.rest ? line.label : line.bytesText + QStringLiteral("  ") + line.label;
        case Qt::ToolTipRole:
            return line.tooltip.isEmpty() ? QVariant() : QVariant(line.tooltip);
        case AddressRole:
            return static_cast<qulonglong>(line.address);
        case GroupRole:
            return line.group;
        case BytesRole:
            return static_cast<qulonglong>(line.bytes);
        case FractionRole:
            return line.fraction;
        case BytesTextRole:
            return line.bytesText;
        case LabelRole:
            return line.label;
        case RestRole:
            return line.rest;
        case StatusRole:
            return line.status;
        default:
            return {};
    }
}

MapMemoryView::MapMemoryView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 2, 4, 0);
    layout->setSpacing(2);
    summary_->setObjectName("mapMemorySummary");
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    summary_->setWordWrap(true);
    share_->setObjectName("mapMemoryShare");
    share_->setRange(0, 1000);
    share_->setMaximumHeight(summary_->fontMetrics().height() + 4);
    share_->setTextVisible(true);
    share_->setVisible(false);
    bars_->setObjectName("mapMemoryBars");
    bars_->setModel(model_);
    bars_->setItemDelegate(new BarDelegate(bars_));
    bars_->setUniformItemSizes(true);
    bars_->setSelectionMode(QAbstractItemView::SingleSelection);
    bars_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    bars_->setMouseTracking(true);  // tooltips
    layout->addWidget(summary_);
    layout->addWidget(share_);
    layout->addWidget(bars_, 1);
    connect(bars_->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& current) { currentChanged(current); });
    setReport(nullptr);
}

void MapMemoryView::setReport(std::shared_ptr<const gomapcore::Report> report) {
    quiet_ = true;
    model_->setReport(std::move(report));
    quiet_ = false;
    const gomapcore::Report* r = model_->report();
    if (r == nullptr) {
        summary_->setText(QStringLiteral("No core open."));
        share_->setVisible(false);
        return;
    }
    const gomapcore::MemorySummary& memory = r->memory;
    const gomapcore::MemoryRanking& ranking = model_->ranking();
    QString text = QStringLiteral("Total: the maps hold %1 (%2 bytes) in %3 maps")
                       .arg(bytesText(memory.mapBytes))
                       .arg(memory.mapBytes)
                       .arg(memory.maps);
    if (memory.heapInUse) {
        text += QStringLiteral("; the Go heap in use is %1 (%2)")
                    .arg(bytesText(*memory.heapInUse), QString::fromStdString(memory.heapInUseSource));
    } else {
        text += QStringLiteral("; the Go heap in use could not be read");
    }
    text += QStringLiteral(". Largest first, %1 bars").arg(ranking.top.size());
    if (!r->mapGroups.empty()) text += QStringLiteral(" (a map group is one bar, its maps' bytes summed)");
    text += '.';
    if (memory.incompleteMaps > 0)
        text += QStringLiteral(" %1 maps were not walked to the end: their bytes are a lower bound.")
                    .arg(memory.incompleteMaps);
    summary_->setText(text);
    if (memory.heapInUse && *memory.heapInUse > 0) {
        const double share = static_cast<double>(memory.mapBytes) / static_cast<double>(*memory.heapInUse);
        share_->setValue(static_cast<int>(std::min(1.0, share) * 1000));
        share_->setFormat(QStringLiteral("maps %1 of the %2 heap in use: %3%")
                              .arg(bytesText(memory.mapBytes), bytesText(*memory.heapInUse))
                              .arg(100.0 * share, 0, 'f', 1));
        share_->setVisible(true);
    } else {
        share_->setVisible(false);
    }
}

void MapMemoryView::showCurrent(quint64 address, int group) {
    const int row = model_->rowOf(address, group);
    quiet_ = true;
    if (row < 0) {
        bars_->selectionModel()->clear();
    } else {
        const QModelIndex index = model_->index(row);
        bars_->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect);
        bars_->scrollTo(index);
    }
    quiet_ = false;
}

void MapMemoryView::currentChanged(const QModelIndex& current) {
    if (quiet_ || !current.isValid() || current.data(MapMemoryModel::RestRole).toBool()) return;
    const int group = current.data(MapMemoryModel::GroupRole).toInt();
    if (group >= 0)
        Q_EMIT groupClicked(group);
    else
        Q_EMIT mapClicked(current.data(MapMemoryModel::AddressRole).toULongLong());
}
