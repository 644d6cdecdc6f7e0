// The GUI's first window: the maps of one core and their findings. The bucket-chain drawing
// comes with the GUI issue; this window already shows real engine results.
#pragma once

#include <QMainWindow>
#include <QString>

#include "gomapcore/analysis.h"

class QTreeWidget;

class MapListWindow : public QMainWindow {
    Q_OBJECT
  public:
    explicit MapListWindow(QWidget* parent = nullptr);
    // Analyzes the core; returns false and shows the reason in the window when it cannot.
    bool openCore(const QString& core, const QString& executable);
    QTreeWidget* mapTree() const { return tree_; }
    const QString& lastError() const { return lastError_; }

  private:
    QTreeWidget* tree_;
    QString lastError_;
};
