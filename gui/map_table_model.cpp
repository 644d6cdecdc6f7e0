#include "map_table_model.h"

#include "address_text.h"

#include <QBrush>
#include <QColor>
#include <QFont>

namespace {

std::uint64_t headerField(const gomapcore::MapResult& map, const char* name, bool* found) {
    for (const auto& [field, value] : map.header)
        if (field == name) {
            *found = true;
            return value;
        }
    *found = false;
    return 0;
}

}  // namespace

namespace palette {
QColor damagedBackground() {
    return QColor(255, 205, 205);
}
QColor suspectBackground() {
    return QColor(255, 236, 179);
}
QColor severityColor(int severity) {
    switch (severity) {
        case 2:
            return QColor(200, 0, 0);
        case 1:
            return QColor(190, 110, 0);
        case 0:
            return QColor(40, 90, 170);
        default:
            return QColor(90, 90, 90);
    }
}
}  // namespace palette

MapTableModel::MapTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void MapTableModel::setReport(std::shared_ptr<const gomapcore::Report> report) {
    beginResetModel();
    report_ = std::move(report);
    rows_.clear();
    if (report_) {
        const bool swiss = report_->target.mapLayout == gomapcore::MapLayoutKind::Swiss;
        rows_.reserve(report_->maps.size());
        for (const gomapcore::MapResult& map : report_->maps) {
            Row row;
            row.text[Address] = hex(map.address);
            row.numbers[Address] = static_cast<qlonglong>(map.address);
            QStringList roots;
            for (const std::string& root : map.roots)
                roots << QString::fromStdString(root);
            row.text[Root] = roots.isEmpty() ? QStringLiteral("(unreached heap object)") : roots.join(", ");
            row.text[Type] = QString::fromStdString(map.typeName());
            if (map.confidence != gomapcore::Confidence::Exact)
                row.text[Type] +=
                    QStringLiteral(" (%1)").arg(QString::fromUtf8(gomapcore::toString(map.confidence)));
            row.text[Layout] = gomapcore::toString(report_->target.mapLayout);
            row.numbers[Count] = map.count;
            row.text[Count] = QString::number(map.count);
            row.numbers[Live] = static_cast<qlonglong>(map.liveEntries);
            row.text[Live] = QString::number(map.liveEntries);
            bool found = false;
            if (swiss) {
                std::uint64_t dirLen = headerField(map, "dirLen", &found);
                row.numbers[Size] = static_cast<qlonglong>(dirLen);
                row.text[Size] = !found        ? QString()
                                 : dirLen == 0 ? QStringLiteral("small")
                                               : QStringLiteral("dir %1").arg(dirLen);
            } else {
                std::uint64_t b = headerField(map, "B", &found);
                row.numbers[Size] = static_cast<qlonglong>(b);
                row.text[Size] = found ? QStringLiteral("B=%1").arg(b) : QString();
            }
            row.numbers[Bytes] = static_cast<qlonglong>(map.memory.bytes());
            row.text[Bytes] = QString::fromStdString(gomapcore::bytesText(map.memory.bytes()));
            const std::vector<gomapcore::Finding> findings = map.findings();
            const gomapcore::Finding* worst = nullptr;
            for (const gomapcore::Finding& f : findings)
                if (worst == nullptr || f.severity > worst->severity) worst = &f;
            if (worst != nullptr) {
                row.severity = static_cast<int>(worst->severity);
                row.numbers[WorstFinding] = row.severity;
                row.text[WorstFinding] = QStringLiteral("%1 %2").arg(gomapcore::toString(worst->severity),
                                                                     QString::fromStdString(worst->rule));
                if (findings.size() > 1)
                    row.text[WorstFinding] += QStringLiteral(" (+%1)").arg(findings.size() - 1);
                row.tooltip = QString::fromStdString(worst->message);
            } else {
                row.numbers[WorstFinding] = -1;
            }
            row.status = static_cast<int>(map.status());
            if (map.status() == gomapcore::MapStatus::Incomplete && worst == nullptr)
                row.text[WorstFinding] = QStringLiteral("incomplete walk");
            rows_.push_back(std::move(row));
        }
        // Maps the report counts together (main.many[*]): one row per group.
        for (const gomapcore::MapGroup& group : report_->mapGroups) {
            Row row;
            row.text[Address] = QStringLiteral("group of %1").arg(group.maps);
            row.text[Root] = QString::fromStdString(group.rootPattern);
            row.text[Type] = QString::fromStdString(group.type);
            row.text[Layout] = gomapcore::toString(report_->target.mapLayout);
            row.numbers[Count] = static_cast<qlonglong>(group.maps);
            row.text[Count] = QStringLiteral("%1 maps").arg(group.maps);
            row.numbers[Live] = static_cast<qlonglong>(group.entries);
            row.text[Live] = QString::number(group.entries);
            row.numbers[Bytes] = static_cast<qlonglong>(group.bytes);
            row.text[Bytes] = QString::fromStdString(gomapcore::bytesText(group.bytes));
            row.severity = group.damaged > 0 ? 2 : group.suspect > 0 ? 1 : -1;
            row.numbers[WorstFinding] = row.severity;
            row.status = static_cast<int>(group.damaged > 0      ? gomapcore::MapStatus::Damaged
                                          : group.suspect > 0    ? gomapcore::MapStatus::Suspect
                                          : group.incomplete > 0 ? gomapcore::MapStatus::Incomplete
                                                                 : gomapcore::MapStatus::Ok);
            if (group.damaged + group.suspect + group.incomplete > 0)
                row.text[WorstFinding] = QStringLiteral("%1 damaged, %2 suspect, %3 incomplete")
                                             .arg(group.damaged)
                                             .arg(group.suspect)
                                             .arg(group.incomplete);
            rows_.push_back(std::move(row));
        }
    }
    endResetModel();
}

const gomapcore::MapResult* MapTableModel::mapAt(int row) const {
    if (!report_ || row < 0 || static_cast<std::size_t>(row) >= report_->maps.size()) return nullptr;
    return &report_->maps[static_cast<std::size_t>(row)];
}

int MapTableModel::rowOfAddress(quint64 address) const {
    if (!report_) return -1;
    for (std::size_t i = 0; i < report_->maps.size(); ++i)
        if (report_->maps[i].address == address) return static_cast<int>(i);
    return -1;
}

int MapTableModel::rowOfGroup(std::size_t group) const {
    if (!report_ || group >= report_->mapGroups.size()) return -1;
    return static_cast<int>(report_->maps.size() + group);
}

int MapTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int MapTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant MapTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= static_cast<int>(rows_.size()) || index.column() >= ColumnCount)
        return {};
    const Row& row = rows_[static_cast<std::size_t>(index.row())];
    const int column = index.column();
    switch (role) {
        case Qt::DisplayRole:
            return row.text[column];
        case SortRole:
            if (column == Address || column == Count || column == Live || column == Size || column == Bytes ||
                column == WorstFinding)
                return row.numbers[column];
            return row.text[column];
        case AddressRole:
            return static_cast<qulonglong>(row.numbers[Address]);
        case SeverityRole:
            return row.severity;
        case StatusRole:
            return row.status;
        case Qt::ToolTipRole:
            return row.tooltip.isEmpty() ? QVariant() : QVariant(row.tooltip);
        case Qt::BackgroundRole:
            if (row.status == static_cast<int>(gomapcore::MapStatus::Damaged))
                return QBrush(palette::damagedBackground());
            if (row.status == static_cast<int>(gomapcore::MapStatus::Suspect) ||
                row.status == static_cast<int>(gomapcore::MapStatus::Incomplete))
                return QBrush(palette::suspectBackground());
            return {};
        case Qt::ForegroundRole:
            if (column == WorstFinding && row.severity >= 0)
                return QBrush(palette::severityColor(row.severity));
            return {};
        case Qt::FontRole:
            if (row.status == static_cast<int>(gomapcore::MapStatus::Damaged)) {
                QFont font;
                font.setBold(true);
                return font;
            }
            return {};
        case Qt::TextAlignmentRole:
            if (column == Count || column == Live || column == Bytes)
                return QVariant(Qt::AlignRight | Qt::AlignVCenter);
            return {};
        default:
            return {};
    }
}

QVariant MapTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    static const char* const names[ColumnCount] = {"Address",      "Root", "Type",  "Layout",       "Count",
                                                   "Live entries", "Size", "Bytes", "Worst finding"};
    return QString::fromLatin1(names[section]);
}

MapFilterProxy::MapFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {
    setSortRole(MapTableModel::SortRole);
    setDynamicSortFilter(false);
}

void MapFilterProxy::setText(const QString& text) {
    text_ = text;
    invalidateFilter();
}

void MapFilterProxy::setSeverityFilter(SeverityFilter filter) {
    severity_ = filter;
    invalidateFilter();
}

bool MapFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    const QAbstractItemModel* model = sourceModel();
    if (severity_ != SeverityFilter::All) {
        int severity =
            model->data(model->index(sourceRow, 0, sourceParent), MapTableModel::SeverityRole).toInt();
        int minimum = severity_ == SeverityFilter::AnyFinding       ? 0
                      : severity_ == SeverityFilter::WarningOrWorse ? 1
                                                                    : 2;
        if (severity < minimum) return false;
    }
    if (text_.isEmpty()) return true;
    for (int column = 0; column < model->columnCount(sourceParent); ++column) {
        if (model->data(model->index(sourceRow, column, sourceParent))
                .toString()
                .contains(text_, Qt::CaseInsensitive))
            return true;
    }
    return false;
}
