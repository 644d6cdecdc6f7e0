// The GUI's first window: the maps of one core and their findings, and the report's export.
// The bucket-chain drawing comes with the GUI issue; this window already shows real engine
// results.
#pragma once

#include <QMainWindow>
#include <QString>
#include <memory>
#include <optional>

#include "gomapcore/analysis.h"

class QTreeWidget;

class MapListWindow : public QMainWindow {
    Q_OBJECT
  public:
    explicit MapListWindow(QWidget* parent = nullptr);
    // Analyzes the core; returns false and shows the reason in the window when it cannot. With
    // redact, keys, values and panic values appear only as their type and length, in the window
    // and in every export.
    bool openCore(const QString& core, const QString& executable, bool redact = false);
    // Writes the report of the open core to path: JSON when path ends in .json, text otherwise.
    // redact as in openCore (a redacted export of an unredacted window re-runs the analysis with
    // redaction; nothing of the unredacted report reaches the file). False, with lastError(),
    // when there is no report or the file cannot be written.
    bool exportReport(const QString& path, bool redact);
    QTreeWidget* mapTree() const { return tree_; }
    const QString& lastError() const { return lastError_; }

  private:
    void exportWithDialog(bool redact);

    QTreeWidget* tree_;
    QString lastError_;
    std::unique_ptr<gomapcore::Analysis> analysis_;
    std::optional<gomapcore::Report> report_;
    bool redact_ = false;
};
