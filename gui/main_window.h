// gomapcore-gui's window: the crash panel on top, the maps table (filterable, sortable) and the
// selected map's structure view, a findings dock, and a status bar with the analysis's progress
// and Cancel. The analysis runs off the GUI thread (AnalysisRunner); so does each map's scene.
#pragma once

#include <QMainWindow>
#include <QString>
#include <QStringList>
#include <memory>

#include "analysis_runner.h"
#include "crash_panel.h"
#include "map_memory_view.h"
#include "map_table_model.h"
#include "map_view.h"
#include "memory_panel.h"

class QCheckBox;
class QComboBox;
class QDockWidget;
class QPlainTextEdit;
class QLineEdit;
class QMenu;
class QProgressBar;
class QPushButton;
class QSplitter;
class QTableView;
class QTreeWidget;

class MainWindow : public QMainWindow {
    Q_OBJECT
  public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Starts analyzing a core in the background. With interactive, a missing or mismatched
    // executable opens a dialog that asks for it.
    void startOpen(const QString& core, const QString& executable, bool redact = false,
                   bool interactive = false);
    // The same, waiting for the result (tests, scripts): false with lastError() when the core
    // cannot be analyzed or the analysis was cancelled.
    bool openCore(const QString& core, const QString& executable, bool redact = false);
    void cancelAnalysis();
    bool analysisRunning() const { return runner_->busy(); }
    // Waits (running the event loop) until the analysis is done.
    bool waitForAnalysis(int timeoutMs = 120000);

    // Writes the report: JSON when path ends in .json, text otherwise. A redacted export of an
    // unredacted window re-runs the analysis with redaction; a redacted window exports only
    // redacted. False, with lastError(), when there is no report or the file cannot be written.
    bool exportReport(const QString& path, bool redact);

    // Selects the map in the table (clearing filters that hide it) and shows its structure.
    bool selectMap(quint64 address);
    // Selects the row of report()->mapGroups[group] in the table (clearing filters that hide it).
    bool selectGroup(int group);

    const QString& lastError() const { return lastError_; }
    MapTableModel* mapModel() const { return model_; }
    MapFilterProxy* mapProxy() const { return proxy_; }
    QTableView* mapTable() const { return table_; }
    CrashPanel* crashPanel() const { return crashPanel_; }
    MapView* mapView() const { return mapView_; }
    QTreeWidget* findingsList() const { return findings_; }
    // Whether the findings list shows only the selected map's findings (else the whole core's).
    QCheckBox* findingsOfSelectedMapOnly() const { return selectedMapFindings_; }
    QPlainTextEdit* goroutinesView() const { return goroutines_; }
    MemoryPanel* memoryPanel() const { return memory_; }
    MapMemoryView* mapMemoryView() const { return mapMemory_; }
    // Scrolls the goroutines view to goroutine id; false when it is not listed.
    bool showGoroutine(qlonglong id);
    const gomapcore::Report* report() const { return report_.get(); }

  protected:
    // Keeps the maps table's current row in view when docks resize the table.
    bool eventFilter(QObject* watched, QEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

  private:
    void buildMenus();
    void openWithDialog();
    void exportWithDialog(bool redact);
    void addRecent(const QString& core, const QString& executable);
    void refreshRecentMenu();
    void analysisFinished(std::shared_ptr<EngineHandle> engine,
                          std::shared_ptr<const gomapcore::Report> report);
    void analysisFailed(int code, const QString& message);
    void showProgress(const QString& phase, qulonglong done, qulonglong total);
    void setRunning(bool running);
    void currentMapChanged();
    void fillFindings();
    // Marks, in the goroutines view, the goroutines the crash involves and those whose frames
    // hold the selected map (none when selected is null), and says how many in the dock title.
    void markGoroutines(const gomapcore::MapResult* selected);
    quint64 selectedMapAddress() const;
    bool selectRow(int sourceRow);

    AnalysisRunner* runner_;
    CrashPanel* crashPanel_;
    QLineEdit* filter_;
    QComboBox* severity_;
    QTableView* table_;
    MapTableModel* model_;
    MapFilterProxy* proxy_;
    MapView* mapView_;
    QSplitter* splitter_;
    QTreeWidget* findings_;
    QCheckBox* selectedMapFindings_;
    QDockWidget* goroutineDock_ = nullptr;
    QPlainTextEdit* goroutines_;
    MemoryPanel* memory_;
    MapMemoryView* mapMemory_;
    QProgressBar* progress_;
    QPushButton* cancel_;
    QMenu* recentMenu_ = nullptr;
    QStringList recent_;  // the recent files, most recent first ("core" or "core\nexecutable")

    std::shared_ptr<EngineHandle> engine_;
    std::shared_ptr<const gomapcore::Report> report_;
    QString lastError_;
    QString pendingCore_, pendingExe_;
    bool redact_ = false;
    bool interactive_ = false;
};
