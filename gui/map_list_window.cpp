#include "map_list_window.h"

#include <fmt/format.h>

#include <QHeaderView>
#include <QStatusBar>
#include <QTreeWidget>

#include "gomapcore/error.h"

MapListWindow::MapListWindow(QWidget* parent) : QMainWindow(parent), tree_(new QTreeWidget(this)) {
    tree_->setColumnCount(6);
    tree_->setHeaderLabels({"Address", "Type", "Count", "Live", "Status", "Roots"});
    tree_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    setCentralWidget(tree_);
    setWindowTitle("gomapcore");
    resize(1100, 600);
}

bool MapListWindow::openCore(const QString& core, const QString& executable) {
    tree_->clear();
    try {
        auto analysis = gomapcore::Analysis::open(core.toStdString(), executable.toStdString());
        gomapcore::Report report = analysis->run({});
        for (const gomapcore::MapResult& map : report.maps) {
            QStringList roots;
            for (const std::string& root : map.roots)
                roots << QString::fromStdString(root);
            auto* item =
                new QTreeWidgetItem(tree_, {QString::fromStdString(fmt::format("{:#x}", map.address)),
                                            QString::fromStdString(map.typeName()),
                                            QString::number(map.count), QString::number(map.liveEntries),
                                            QString::fromStdString(map.status()), roots.join(", ")});
            for (const gomapcore::Finding& finding : map.findings()) {
                new QTreeWidgetItem(
                    item, {QString::fromStdString(fmt::format("{:#x}", finding.address)),
                           QString::fromStdString(finding.rule), QString(), QString(),
                           gomapcore::toString(finding.severity), QString::fromStdString(finding.message)});
            }
            if (map.status() == "damaged") {
                for (int column = 0; column < 6; ++column)
                    item->setForeground(column, Qt::red);
                item->setExpanded(true);
            }
        }
        setWindowTitle(QString("gomapcore — %1").arg(core));
        statusBar()->showMessage(QString("%1 %2 maps, %3 maps found, %4 error findings")
                                     .arg(QString::fromStdString(report.target.goVersion),
                                          QString::fromStdString(report.target.mapLayout))
                                     .arg(report.maps.size())
                                     .arg(report.countAtLeast(gomapcore::Severity::Error)));
        lastError_.clear();
        return true;
    } catch (const gomapcore::Error& e) {
        lastError_ = QString::fromUtf8(e.what());
        statusBar()->showMessage("cannot analyze: " + lastError_);
        return false;
    }
}
