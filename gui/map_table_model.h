// The maps of a report as a flat table: one row per map, every cell computed once when the
// report arrives, so sorting and filtering 100,000+ rows stay cheap. Behind a MapFilterProxy.
#pragma once

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QString>
#include <QVariant>
#include <memory>
#include <vector>

#include "gomapcore/report.h"

class MapTableModel : public QAbstractTableModel {
    Q_OBJECT
  public:
    enum Column { Address, Root, Type, Layout, Count, Live, Size, Bytes, WorstFinding, ColumnCount };
    enum Role {
        AddressRole = Qt::UserRole + 1,  // qulonglong header address
        SeverityRole,                    // int: worst finding's severity, -1 without findings
        StatusRole,                      // int: gomapcore::MapStatus
        SortRole,                        // numbers as numbers
    };

    explicit MapTableModel(QObject* parent = nullptr);
    void setReport(std::shared_ptr<const gomapcore::Report> report);
    const gomapcore::MapResult* mapAt(int row) const;
    // The row of the map with this header address, or -1.
    int rowOfAddress(quint64 address) const;
    // The row of report->mapGroups[group], or -1.
    int rowOfGroup(std::size_t group) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

  private:
    struct Row {
        QString text[ColumnCount];
        qlonglong numbers[ColumnCount] = {};
        int severity = -1;
        int status = 0;
        QString tooltip;
    };
    std::shared_ptr<const gomapcore::Report> report_;
    std::vector<Row> rows_;
};

// Filters by text (any column, case-insensitive) and by the worst finding's severity.
class MapFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
  public:
    // Which rows pass the severity filter.
    enum class SeverityFilter { All, AnyFinding, WarningOrWorse, ErrorOnly };
    explicit MapFilterProxy(QObject* parent = nullptr);
    void setText(const QString& text);
    void setSeverityFilter(SeverityFilter filter);

  protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

  private:
    QString text_;
    SeverityFilter severity_ = SeverityFilter::All;
};

// The colours the GUI gives statuses and severities (table rows, scene items, panels).
namespace palette {
QColor damagedBackground();
QColor suspectBackground();
QColor severityColor(int severity);
}  // namespace palette
