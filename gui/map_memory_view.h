// Where the memory went, drawn: the maps (and map groups) of a report as horizontal bars by bytes
// held, largest first (the engine's rankByBytes), under a line with their total against the Go
// heap in use. At most kMaxBars bars; a last line sums the maps past them. Clicking a bar asks
// the window to select that map (or group) in the maps table.
#pragma once

#include <QAbstractListModel>
#include <QLabel>
#include <QListView>
#include <QProgressBar>
#include <QString>
#include <QWidget>
#include <memory>
#include <vector>

#include "gomapcore/report.h"

class MapMemoryModel : public QAbstractListModel {
    Q_OBJECT
  public:
    static constexpr std::size_t kMaxBars = 200;
    enum Role {
        AddressRole = Qt::UserRole + 1,  // qulonglong: a map's header address; 0 for the others
        GroupRole,                       // int: index in report->mapGroups, or -1
        BytesRole,                       // qulonglong: bytes held (the last line: by the maps it sums)
        FractionRole,                    // double: bytes over the largest bar's, 0..1
        BytesTextRole,                   // QString: bytes for people
        LabelRole,                       // QString: root, type, slots, load factor
        RestRole,                        // bool: the last line, the maps past the bars
        StatusRole,                      // int: gomapcore::MapStatus (a group's worst)
    };

    explicit MapMemoryModel(QObject* parent = nullptr);
    void setReport(std::shared_ptr<const gomapcore::Report> report, std::size_t maxBars = kMaxBars);
    const gomapcore::Report* report() const { return report_.get(); }
    const gomapcore::MemoryRanking& ranking() const { return ranking_; }
    // The row of the bar of the map with this header address (group < 0) or of
    // report->mapGroups[group], or -1 when it has none.
    int rowOf(quint64 address, int group = -1) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

  private:
    struct Line {
        quint64 address = 0;
        int group = -1;
        quint64 bytes = 0;
        double fraction = 0;
        QString bytesText, label, tooltip;
        int status = 0;
        bool rest = false;
    };
    std::shared_ptr<const gomapcore::Report> report_;
    gomapcore::MemoryRanking ranking_;
    std::vector<Line> lines_;
};

class MapMemoryView : public QWidget {
    Q_OBJECT
  public:
    explicit MapMemoryView(QWidget* parent = nullptr);
    void setReport(std::shared_ptr<const gomapcore::Report> report);
    // Makes the bar of this map (group < 0) or group the current one, or none when it has no
    // bar, without emitting mapClicked or groupClicked.
    void showCurrent(quint64 address, int group = -1);
    MapMemoryModel* model() const { return model_; }
    QListView* bars() const { return bars_; }
    QLabel* summary() const { return summary_; }

  Q_SIGNALS:
    void mapClicked(quint64 address);
    void groupClicked(int group);

  private:
    void currentChanged(const QModelIndex& current);

    // Children of this view (built after the QWidget base, so `this` is a parent already).
    MapMemoryModel* model_ = new MapMemoryModel(this);
    QLabel* summary_ = new QLabel(this);
    QProgressBar* share_ = new QProgressBar(this);
    QListView* bars_ = new QListView(this);
    bool quiet_ = false;
};
