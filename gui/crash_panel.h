// The crash panel at the top of the window: what killed the process, on which map (with its
// roots), in which goroutine and user frame. Map and goroutine names are links.
#pragma once

#include <QLabel>
#include <QString>

#include "gomapcore/report.h"

// Links are "map:0x…" and "goroutine:N".
QString crashPanelHtml(const gomapcore::Report& report);

class CrashPanel : public QLabel {
    Q_OBJECT
  public:
    explicit CrashPanel(QWidget* parent = nullptr);
    void showReport(const gomapcore::Report& report);
    void showMessage(const QString& text, bool error);

  Q_SIGNALS:
    void mapClicked(quint64 address);
    void goroutineClicked(qlonglong goroutine);
};
