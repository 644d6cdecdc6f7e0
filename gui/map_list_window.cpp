#include "map_list_window.h"

#include <fmt/format.h>

#include <QAction>
#include <QFile>
#include <QFileDialog>
#include <QHeaderView>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>
#include <QTreeWidget>

#include "gomapcore/error.h"
#include "gomapcore/report.h"

MapListWindow::MapListWindow(QWidget* parent) : QMainWindow(parent), tree_(new QTreeWidget(this)) {
    tree_->setColumnCount(6);
    tree_->setHeaderLabels({"Address", "Type", "Count", "Live", "Status", "Roots"});
    tree_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    setCentralWidget(tree_);
    setWindowTitle("gomapcore");
    resize(1100, 600);
    QMenu* file = menuBar()->addMenu("&File");
    QAction* exportPlain = file->addAction("&Export report…", [this] { exportWithDialog(false); });
    exportPlain->setObjectName("exportReport");
    QAction* exportRedacted = file->addAction("Export &redacted report…", [this] { exportWithDialog(true); });
    exportRedacted->setObjectName("exportRedactedReport");
    exportRedacted->setToolTip("keys, values and panic values only as their type and length");
}

void MapListWindow::exportWithDialog(bool redact) {
    QString path = QFileDialog::getSaveFileName(this, redact ? "Export redacted report" : "Export report",
                                                "gomapcore-report.json", "JSON (*.json);;Text (*.txt)");
    if (path.isEmpty()) return;
    if (!exportReport(path, redact)) QMessageBox::warning(this, "gomapcore", lastError_);
}

bool MapListWindow::exportReport(const QString& path, bool redact) {
    if (!analysis_ || !report_) {
        lastError_ = "no core is open";
        return false;
    }
    try {
        std::optional<gomapcore::Report> rerun;
        const gomapcore::Report* report = &*report_;
        // An unredacted window may export redacted, never the other way round.
        if (redact && !redact_) {
            gomapcore::AnalysisOptions options;
            options.redact = true;
            rerun = analysis_->run(options);
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

bool MapListWindow::openCore(const QString& core, const QString& executable, bool redact) {
    tree_->clear();
    analysis_.reset();
    report_.reset();
    redact_ = redact;
    try {
        auto analysis = gomapcore::Analysis::open(core.toStdString(), executable.toStdString());
        gomapcore::AnalysisOptions options;
        options.redact = redact;
        gomapcore::Report report = analysis->run(options);
        for (const gomapcore::MapResult& map : report.maps) {
            QStringList roots;
            for (const std::string& root : map.roots)
                roots << QString::fromStdString(root);
            auto* item =
                new QTreeWidgetItem(tree_, {QString::fromStdString(fmt::format("{:#x}", map.address)),
                                            QString::fromStdString(map.typeName()),
                                            QString::number(map.count), QString::number(map.liveEntries),
                                            gomapcore::toString(map.status()), roots.join(", ")});
            for (const gomapcore::Finding& finding : map.findings()) {
                new QTreeWidgetItem(
                    item, {QString::fromStdString(fmt::format("{:#x}", finding.address)),
                           QString::fromStdString(finding.rule), QString(), QString(),
                           gomapcore::toString(finding.severity), QString::fromStdString(finding.message)});
            }
            if (map.status() == gomapcore::MapStatus::Damaged) {
                for (int column = 0; column < 6; ++column)
                    item->setForeground(column, Qt::red);
                item->setExpanded(true);
            }
        }
        setWindowTitle(QString("gomapcore — %1").arg(core));
        statusBar()->showMessage(QString("%1 %2 maps, %3 maps found, %4 error findings")
                                     .arg(QString::fromStdString(report.target.goVersion),
                                          gomapcore::toString(report.target.mapLayout))
                                     .arg(report.maps.size())
                                     .arg(report.countAtLeast(gomapcore::Severity::Error)));
        analysis_ = std::move(analysis);
        report_ = std::move(report);
        lastError_.clear();
        return true;
    } catch (const gomapcore::Error& e) {
        lastError_ = QString::fromUtf8(e.what());
        statusBar()->showMessage("cannot analyze: " + lastError_);
        return false;
    }
}
