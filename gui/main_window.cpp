#include "main_window.h"

#include "address_text.h"

#include <QAction>
#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QCoreApplication>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QTextCursor>
#include <QTextDocument>
#include <QThreadPool>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <optional>

#include "gomapcore/error.h"

namespace {

constexpr int kMaxRecent = 8;

// QSettings writes its file with fdatasync, which took more than a second on the GUI thread while
// another process wrote heavily to the disk (docs/performance.md, "GUI"). The recent files, written
// as each analysis ends, go through this one background thread, in order; a window reads them once
// the writes before it are done, and waits for its own when it goes.
QThreadPool& settingsWriter() {
    static QThreadPool* pool = [] {
        auto* writer = new QThreadPool(QCoreApplication::instance());
        writer->setMaxThreadCount(1);
        return writer;
    }();
    return *pool;
}

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      runner_(new AnalysisRunner(this)),
      crashPanel_(new CrashPanel(this)),
      filter_(new QLineEdit(this)),
      severity_(new QComboBox(this)),
      table_(new QTableView(this)),
      model_(new MapTableModel(this)),
      proxy_(new MapFilterProxy(this)),
      mapView_(new MapView(this)),
      splitter_(new QSplitter(Qt::Vertical, this)),
      findings_(new QTreeWidget(this)),
      selectedMapFindings_(new QCheckBox("Only the selected map's findings", this)),
      goroutines_(new QPlainTextEdit(this)),
      memory_(new MemoryPanel(this)),
      mapMemory_(new MapMemoryView(this)),
      progress_(new QProgressBar(this)),
      cancel_(new QPushButton("Cancel", this)) {
    setObjectName("mainWindow");
    setWindowTitle("gomapcore");
    setAcceptDrops(true);
    resize(1280, 860);

    // Maps table with its filter bar.
    proxy_->setSourceModel(model_);
    table_->setModel(proxy_);
    table_->setObjectName("mapTable");
    table_->setSortingEnabled(true);
    table_->sortByColumn(MapTableModel::WorstFinding, Qt::DescendingOrder);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->viewport()->installEventFilter(this);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->verticalHeader()->setVisible(false);
    table_->verticalHeader()->setDefaultSectionSize(20);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setWordWrap(false);
    const int widths[] = {130, 330, 190, 60, 60, 80, 70, 80, 200};
    for (int c = 0; c < MapTableModel::ColumnCount; ++c)
        table_->setColumnWidth(c, widths[c]);
    filter_->setPlaceholderText("Filter maps: root, type, address, finding…");
    filter_->setClearButtonEnabled(true);
    filter_->setObjectName("mapFilter");
    severity_->addItems({"All maps", "With findings", "Warnings and errors", "Errors only"});
    severity_->setObjectName("severityFilter");
    connect(filter_, &QLineEdit::textChanged, proxy_, &MapFilterProxy::setText);
    connect(severity_, &QComboBox::currentIndexChanged, this, [this](int index) {
        proxy_->setSeverityFilter(static_cast<MapFilterProxy::SeverityFilter>(index));
    });
    connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &MainWindow::currentMapChanged);

    auto* tablePane = new QWidget(this);
    auto* tableLayout = new QVBoxLayout(tablePane);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    auto* filterBar = new QHBoxLayout;
    filterBar->addWidget(filter_, 1);
    filterBar->addWidget(severity_);
    tableLayout->addLayout(filterBar);
    tableLayout->addWidget(table_, 1);
    splitter_->addWidget(tablePane);
    splitter_->addWidget(mapView_);
    splitter_->setStretchFactor(0, 2);
    splitter_->setStretchFactor(1, 3);
    splitter_->setSizes({300, 500});
    splitter_->setObjectName("mainSplitter");

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(4, 4, 4, 0);
    layout->addWidget(crashPanel_);
    layout->addWidget(splitter_, 1);
    setCentralWidget(central);
    connect(crashPanel_, &CrashPanel::mapClicked, this, [this](quint64 address) { selectMap(address); });

    // Findings of the whole core; selecting one selects its map.
    findings_->setObjectName("findingsList");
    findings_->setHeaderLabels({"Severity", "Rule", "Map", "Address", "Message"});
    findings_->setRootIsDecorated(false);
    findings_->setColumnWidth(0, 70);
    findings_->setColumnWidth(1, 170);
    findings_->setColumnWidth(2, 120);
    findings_->setColumnWidth(3, 120);
    connect(findings_, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        if (item == nullptr) return;
        selectMap(item->data(2, Qt::UserRole).toULongLong());
        mapView_->focusAddress(item->data(3, Qt::UserRole).toULongLong());
    });
    selectedMapFindings_->setObjectName("findingsOfSelectedMapOnly");
    connect(selectedMapFindings_, &QCheckBox::toggled, this, [this] { fillFindings(); });
    auto* findingsPane = new QWidget(this);
    auto* findingsLayout = new QVBoxLayout(findingsPane);
    findingsLayout->setContentsMargins(0, 0, 0, 0);
    findingsLayout->setSpacing(2);
    findingsLayout->addWidget(selectedMapFindings_);
    findingsLayout->addWidget(findings_, 1);
    auto* dock = new QDockWidget("Findings", this);
    dock->setObjectName("findingsDock");
    dock->setWidget(findingsPane);
    addDockWidget(Qt::BottomDockWidgetArea, dock);
    // Goroutines and memory, tabbed with the findings.
    goroutines_->setReadOnly(true);
    goroutines_->setLineWrapMode(QPlainTextEdit::NoWrap);
    goroutines_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    goroutines_->setObjectName("goroutinesView");
    auto* goroutineDock = new QDockWidget("Goroutines", this);
    goroutineDock_ = goroutineDock;
    goroutineDock->setObjectName("goroutinesDock");
    goroutineDock->setWidget(goroutines_);
    addDockWidget(Qt::BottomDockWidgetArea, goroutineDock);
    tabifyDockWidget(dock, goroutineDock);
    auto* memoryDock = new QDockWidget("Memory", this);
    memoryDock->setObjectName("memoryDock");
    memoryDock->setWidget(memory_);
    addDockWidget(Qt::BottomDockWidgetArea, memoryDock);
    tabifyDockWidget(dock, memoryDock);
    // The maps by bytes held; clicking a bar selects its map (or group) in the table.
    auto* mapMemoryDock = new QDockWidget("Map memory", this);
    mapMemoryDock->setObjectName("mapMemoryDock");
    mapMemoryDock->setWidget(mapMemory_);
    addDockWidget(Qt::BottomDockWidgetArea, mapMemoryDock);
    tabifyDockWidget(dock, mapMemoryDock);
    connect(mapMemory_, &MapMemoryView::mapClicked, this, [this](quint64 address) { selectMap(address); });
    // The selected map's places on the memory strip, once its structure is read.
    connect(mapView_, &MapView::placesRead, this,
            [this](quint64, const QVector<StripMark>& places) { memory_->showPlaces(places); });
    connect(mapMemory_, &MapMemoryView::groupClicked, this, [this](int group) { selectGroup(group); });
    dock->raise();
    resizeDocks({dock}, {130}, Qt::Vertical);
    connect(crashPanel_, &CrashPanel::goroutineClicked, this, [this, goroutineDock](qlonglong id) {
        goroutineDock->raise();
        showGoroutine(id);
    });

    // Status bar: progress and Cancel while an analysis runs.
    progress_->setMaximumWidth(260);
    progress_->setTextVisible(true);
    cancel_->setObjectName("cancelAnalysis");
    connect(cancel_, &QPushButton::clicked, this, &MainWindow::cancelAnalysis);
    statusBar()->addPermanentWidget(progress_);
    statusBar()->addPermanentWidget(cancel_);
    setRunning(false);

    connect(runner_, &AnalysisRunner::progress, this, &MainWindow::showProgress);
    connect(
        runner_, &AnalysisRunner::crashKnown, this,
        [this](std::shared_ptr<const gomapcore::Report> crashOnly) { crashPanel_->showReport(*crashOnly); });
    connect(runner_, &AnalysisRunner::finished, this, &MainWindow::analysisFinished);
    connect(runner_, &AnalysisRunner::failed, this, &MainWindow::analysisFailed);
    connect(runner_, &AnalysisRunner::cancelled, this, [this] {
        lastError_ = "The analysis was cancelled.";
        crashPanel_->showMessage(lastError_, false);
        statusBar()->showMessage(lastError_);
    });
    connect(runner_, &AnalysisRunner::idle, this, [this] { setRunning(false); });
    connect(mapView_, &MapView::failed, this,
            [this](const QString& message) { statusBar()->showMessage(message); });

    buildMenus();
    QSettings settings;
    restoreGeometry(settings.value("window/geometry").toByteArray());
    restoreState(settings.value("window/state").toByteArray());
    splitter_->restoreState(settings.value("window/splitter").toByteArray());
}

MainWindow::~MainWindow() {
    settingsWriter().waitForDone();
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu("&File");
    QAction* open = file->addAction("&Open core…", this, &MainWindow::openWithDialog);
    open->setShortcut(QKeySequence::Open);
    recentMenu_ = file->addMenu("Open &recent");
    recentMenu_->setObjectName("recentMenu");
    settingsWriter().waitForDone();
    // Settings written by another version may hold more than this one keeps.
    recent_ = QSettings().value("recent/files").toStringList().mid(0, kMaxRecent);
    refreshRecentMenu();
    file->addSeparator();
    QAction* exportPlain = file->addAction("&Export report…", [this] { exportWithDialog(false); });
    exportPlain->setObjectName("exportReport");
    QAction* exportRedacted = file->addAction("Export &redacted report…", [this] { exportWithDialog(true); });
    exportRedacted->setObjectName("exportRedactedReport");
    exportRedacted->setToolTip("keys, values and panic values only as their type and length");
    file->addSeparator();
    QAction* quit = file->addAction("&Quit", this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    QMenu* view = menuBar()->addMenu("&View");
    QAction* focusFilter = view->addAction("Filter maps", [this] { filter_->setFocus(); });
    focusFilter->setShortcut(QKeySequence::Find);
    for (QDockWidget* dock : findChildren<QDockWidget*>())
        view->addAction(dock->toggleViewAction());
}

void MainWindow::openWithDialog() {
    QString core = QFileDialog::getOpenFileName(this, "Open core dump", QString(),
                                                "Core dumps (*.core core*);;All files (*)");
    if (!core.isEmpty()) startOpen(core, QString(), redact_, true);
}

void MainWindow::startOpen(const QString& core, const QString& executable, bool redact, bool interactive) {
    pendingCore_ = core;
    pendingExe_ = executable;
    redact_ = redact;
    interactive_ = interactive;
    lastError_.clear();
    mapView_->clear();
    engine_.reset();
    report_.reset();
    model_->setReport(nullptr);
    findings_->clear();
    goroutines_->clear();
    memory_->setEngine(nullptr);
    mapMemory_->setReport(nullptr);
    crashPanel_->showMessage(QString("Analyzing %1…").arg(core), false);
    setWindowTitle(QString("gomapcore — %1").arg(core));
    setRunning(true);
    progress_->setRange(0, 0);
    runner_->start(core, executable, redact);
}

bool MainWindow::openCore(const QString& core, const QString& executable, bool redact) {
    startOpen(core, executable, redact, false);
    if (!waitForAnalysis()) {
        lastError_ = "the analysis did not finish in time";
        return false;
    }
    return lastError_.isEmpty() && report_ != nullptr;
}

bool MainWindow::waitForAnalysis(int timeoutMs) {
    return runner_->waitIdle(timeoutMs);
}

void MainWindow::cancelAnalysis() {
    if (!runner_->busy()) return;
    runner_->cancel();
    statusBar()->showMessage("cancelling…");
}

void MainWindow::setRunning(bool running) {
    progress_->setVisible(running);
    cancel_->setVisible(running);
    cancel_->setEnabled(running);
}

void MainWindow::showProgress(const QString& phase, qulonglong done, qulonglong total) {
    if (total > 0) {
        // QProgressBar holds ints: scale to per mille.
        progress_->setRange(0, 1000);
        progress_->setValue(static_cast<int>(std::min<qulonglong>(1000, done * 1000 / total)));
        progress_->setFormat(QString("%1 %2/%3").arg(phase).arg(done).arg(total));
    } else {
        progress_->setRange(0, 0);
        progress_->setFormat(phase);
    }
    statusBar()->showMessage(QString("analysis: %1…").arg(phase));
}

void MainWindow::analysisFinished(std::shared_ptr<EngineHandle> engine,
                                  std::shared_ptr<const gomapcore::Report> report) {
    engine_ = std::move(engine);
    report_ = std::move(report);
    lastError_.clear();
    model_->setReport(report_);
    crashPanel_->showReport(*report_);
    fillFindings();
    goroutines_->setPlainText(engine_->goroutinesText.empty()
                                  ? QStringLiteral("The runtime's goroutine lists could not be read.")
                                  : QString::fromStdString(engine_->goroutinesText));
    markGoroutines(nullptr);
    memory_->setEngine(engine_);
    mapMemory_->setReport(report_);
    addRecent(pendingCore_, pendingExe_);
    statusBar()->showMessage(QString("%1 %2 maps, %3 maps found, %4 error findings")
                                 .arg(QString::fromStdString(report_->target.goVersion),
                                      gomapcore::toString(report_->target.mapLayout))
                                 .arg(report_->maps.size())
                                 .arg(report_->countAtLeast(gomapcore::Severity::Error)));
    // Start where a person looks first: the crash's map, or else the worst map.
    if (report_->crash && report_->crash->map && *report_->crash->map != 0 && selectMap(*report_->crash->map))
        return;
    if (proxy_->rowCount() > 0 &&
        model_->data(proxy_->mapToSource(proxy_->index(0, 0)), MapTableModel::SeverityRole).toInt() >= 2)
        table_->selectRow(0);
}

void MainWindow::analysisFailed(int code, const QString& message) {
    lastError_ = describeError(code, message);
    crashPanel_->showMessage(lastError_, true);
    statusBar()->showMessage(lastError_);
    using Code = gomapcore::Error::Code;
    const bool needsExe = code == static_cast<int>(Code::MissingExecutable) ||
                          code == static_cast<int>(Code::ExecutableMismatch);
    if (!needsExe || !interactive_) return;
    QMessageBox::information(this, "gomapcore: which executable?",
                             lastError_ + "\n\nChoose the Go executable that produced this core.");
    QString exe = QFileDialog::getOpenFileName(this, "The Go executable that produced the core",
                                               QFileInfo(pendingCore_).absolutePath());
    if (!exe.isEmpty()) startOpen(pendingCore_, exe, redact_, true);
}

void MainWindow::fillFindings() {
    findings_->clear();
    if (!report_) return;
    QList<QTreeWidgetItem*> items;
    const bool selectedOnly = selectedMapFindings_->isChecked();
    const quint64 selected = selectedOnly ? selectedMapAddress() : 0;
    for (const gomapcore::MapResult& map : report_->maps) {
        if (selectedOnly && map.address != selected) continue;
        for (const gomapcore::Finding& f : map.findings()) {
            auto* item =
                new QTreeWidgetItem({gomapcore::toString(f.severity), QString::fromStdString(f.rule),
                                     hex(map.address), hex(f.address), QString::fromStdString(f.message)});
            item->setData(2, Qt::UserRole, static_cast<qulonglong>(map.address));
            item->setData(3, Qt::UserRole, static_cast<qulonglong>(f.address));
            item->setForeground(0, palette::severityColor(static_cast<int>(f.severity)));
            item->setToolTip(4, QString::fromStdString(f.message));
            items << item;
        }
    }
    findings_->addTopLevelItems(items);
}

bool MainWindow::selectMap(quint64 address) {
    return selectRow(model_->rowOfAddress(address));
}

bool MainWindow::selectGroup(int group) {
    return group >= 0 && selectRow(model_->rowOfGroup(static_cast<std::size_t>(group)));
}

bool MainWindow::selectRow(int row) {
    if (row < 0) return false;
    QModelIndex index = proxy_->mapFromSource(model_->index(row, 0));
    if (!index.isValid()) {  // filtered out: show everything again
        filter_->clear();
        severity_->setCurrentIndex(0);
        index = proxy_->mapFromSource(model_->index(row, 0));
    }
    table_->selectionModel()->setCurrentIndex(
        index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    table_->scrollTo(index);
    return true;
}

bool MainWindow::showGoroutine(qlonglong id) {
    QTextCursor found = goroutines_->document()->find(QRegularExpression(QString("^goroutine %1 ").arg(id)));
    if (found.isNull()) return false;
    found.select(QTextCursor::LineUnderCursor);
    goroutines_->setTextCursor(found);
    goroutines_->centerCursor();
    return true;
}

void MainWindow::currentMapChanged() {
    QModelIndex current = table_->selectionModel()->currentIndex();
    if (!current.isValid() || !engine_) return;
    const quint64 address = proxy_->data(current, MapTableModel::AddressRole).toULongLong();
    // Rows past the listed maps are the map groups' (MapTableModel::rowOfGroup).
    const int listed = report_ ? static_cast<int>(report_->maps.size()) : 0;
    const int sourceRow = proxy_->mapToSource(current).row();
    const int group = report_ && sourceRow >= listed ? sourceRow - listed : -1;
    mapMemory_->showCurrent(address, group);
    memory_->showPlaces({});
    if (group >= 0) {  // a map group has no one structure (and no address) to show
        mapView_->clear();
        const gomapcore::MapGroup& counted = report_->mapGroups[static_cast<std::size_t>(group)];
        statusBar()->showMessage(QString("%1 maps %2 counted together: none of them is listed one by one")
                                     .arg(counted.maps)
                                     .arg(QString::fromStdString(counted.rootPattern)));
        return;
    }
    mapView_->showMap(engine_, address, redact_);
    memory_->goTo(address);
    const gomapcore::MapResult* selected = nullptr;
    if (report_ && sourceRow >= 0 && sourceRow < listed)
        selected = &report_->maps[static_cast<std::size_t>(sourceRow)];
    markGoroutines(selected);
    if (selectedMapFindings_->isChecked()) fillFindings();
}

quint64 MainWindow::selectedMapAddress() const {
    QModelIndex current = table_->selectionModel()->currentIndex();
    return current.isValid() ? proxy_->data(current, MapTableModel::AddressRole).toULongLong() : 0;
}

void MainWindow::markGoroutines(const gomapcore::MapResult* selected) {
    // The crash's goroutines in the damaged colour, the selected map's holders in the suspect
    // one (a goroutine that is both keeps the crash's), each goroutine's header line whole.
    std::vector<std::int64_t> crash =
        report_ && report_->crash ? report_->crash->goroutinesInvolved() : std::vector<std::int64_t>{};
    std::vector<std::int64_t> holders =
        selected != nullptr ? selected->holdingGoroutines() : std::vector<std::int64_t>{};
    QList<QTextEdit::ExtraSelection> marks;
    auto mark = [&](std::int64_t id, const QColor& colour, const QString& why) {
        QTextCursor found =
            goroutines_->document()->find(QRegularExpression(QString("^goroutine %1 ").arg(id)));
        if (found.isNull()) return;
        QTextEdit::ExtraSelection selection;
        selection.cursor = found;
        selection.cursor.clearSelection();
        selection.format.setBackground(colour);
        selection.format.setProperty(QTextFormat::FullWidthSelection, true);
        selection.format.setToolTip(why);
        marks << selection;
    };
    for (std::int64_t id : crash)
        mark(id, palette::damagedBackground(), "takes part in the crash");
    for (std::int64_t id : holders)
        if (!std::binary_search(crash.begin(), crash.end(), id))
            mark(id, palette::suspectBackground(), "holds the selected map");
    goroutines_->setExtraSelections(marks);
    if (goroutineDock_ == nullptr) return;
    QStringList parts;
    if (!crash.empty()) parts << QString("%1 in the crash").arg(crash.size());
    if (selected != nullptr) parts << QString("%1 hold the selected map").arg(holders.size());
    goroutineDock_->setWindowTitle(parts.isEmpty() ? QString("Goroutines")
                                                   : QString("Goroutines (%1)").arg(parts.join(", ")));
}

void MainWindow::exportWithDialog(bool redact) {
    QString path = QFileDialog::getSaveFileName(this, redact ? "Export redacted report" : "Export report",
                                                "gomapcore-report.json", "JSON (*.json);;Text (*.txt)");
    if (path.isEmpty()) return;
    if (!exportReport(path, redact)) QMessageBox::warning(this, "gomapcore", lastError_);
}

bool MainWindow::exportReport(const QString& path, bool redact) {
    if (!engine_ || !report_) {
        lastError_ = "no core is open";
        return false;
    }
    try {
        std::optional<gomapcore::Report> rerun;
        const gomapcore::Report* report = report_.get();
        // An unredacted window may export redacted, never the other way round.
        if (redact && !redact_) {
            gomapcore::AnalysisOptions options;
            options.redact = true;
            std::lock_guard<std::mutex> lock(engine_->mutex);
            rerun = engine_->analysis->run(options);
            report = &*rerun;
        }
        std::string text =
            path.endsWith(".json") ? gomapcore::renderJson(*report) : gomapcore::renderText(*report);
        QFile out(path);
        if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
            out.write(text.data(), static_cast<qint64>(text.size())) != static_cast<qint64>(text.size())) {
            lastError_ = QString("cannot write %1: %2").arg(path, out.errorString());
            return false;
        }
        statusBar()->showMessage(QString("%1 written%2").arg(path, redact || redact_ ? " (redacted)" : ""));
        return true;
    } catch (const gomapcore::Error& e) {
        lastError_ = QString::fromUtf8(e.what());
        return false;
    }
}

void MainWindow::addRecent(const QString& core, const QString& executable) {
    const QString entry = executable.isEmpty() ? core : core + "\n" + executable;
    recent_.removeAll(entry);
    recent_.prepend(entry);
    while (recent_.size() > kMaxRecent)
        recent_.removeLast();
    refreshRecentMenu();
    settingsWriter().start([recent = recent_] { QSettings().setValue("recent/files", recent); });
}

void MainWindow::refreshRecentMenu() {
    recentMenu_->clear();
    for (const QString& entry : recent_) {
        const QStringList parts = entry.split('\n');
        const QString core = parts.value(0), exe = parts.value(1);
        recentMenu_->addAction(
            exe.isEmpty() ? core : QString("%1  (%2)").arg(core, QFileInfo(exe).fileName()),
            [this, core, exe] { startOpen(core, exe, redact_, true); });
    }
    recentMenu_->setEnabled(!recent_.isEmpty());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

bool MainWindow::eventFilter(QObject* watched, QEvent* event) {
    // A dock raised or resized after the crash's map was selected shrinks the table and can leave
    // the selected row scrolled out of sight, where a person looks first.
    if (watched == table_->viewport() && event->type() == QEvent::Resize && table_->currentIndex().isValid())
        table_->scrollTo(table_->currentIndex());
    return QMainWindow::eventFilter(watched, event);
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.isEmpty() || !urls.front().isLocalFile()) return;
    // One file: the core. Two: the core and its executable, in either order (the core's name
    // ends in .core or starts with core).
    QString core = urls.front().toLocalFile(), exe;
    if (urls.size() > 1 && urls[1].isLocalFile()) {
        exe = urls[1].toLocalFile();
        const QString name = QFileInfo(exe).fileName();
        if (name.endsWith(".core") || name.startsWith("core")) std::swap(core, exe);
    }
    event->acceptProposedAction();
    startOpen(core, exe, redact_, true);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    QSettings settings;
    settings.setValue("window/geometry", saveGeometry());
    settings.setValue("window/state", saveState());
    settings.setValue("window/splitter", splitter_->saveState());
    runner_->cancel();
    QMainWindow::closeEvent(event);
}
