// The GUI's map list, in a real QApplication on the offscreen platform, against a real core.
#include <gtest/gtest.h>

#include <QAction>
#include <QApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTreeWidget>

#include "corpus.h"
#include "map_list_window.h"

namespace {

TEST(GuiMapList, ListsEveryMapTheEngineFinds) {
    const std::string dir = gomapcore::testing::corpusDir() + "/go1.26/";
    auto analysis = gomapcore::Analysis::open(dir + "healthy.core", dir + "mapcrash");
    auto report = analysis->run({});
    MapListWindow window;
    ASSERT_TRUE(window.openCore(QString::fromStdString(dir + "healthy.core"),
                                QString::fromStdString(dir + "mapcrash")))
        << window.lastError().toStdString();
    ASSERT_EQ(window.mapTree()->topLevelItemCount(), static_cast<int>(report.maps.size()));
    bool usersListed = false;
    for (int i = 0; i < window.mapTree()->topLevelItemCount(); ++i)
        usersListed |= window.mapTree()->topLevelItem(i)->text(5).contains("main.users");
    EXPECT_TRUE(usersListed);
}

TEST(GuiMapList, DamagedMapIsExpandedWithItsFinding) {
    const std::string dir = gomapcore::testing::corpusDir() + "/go1.23/";
    MapListWindow window;
    ASSERT_TRUE(window.openCore(QString::fromStdString(dir + "buckets-unmapped.core"),
                                QString::fromStdString(dir + "mapcrash")));
    int damaged = 0;
    for (int i = 0; i < window.mapTree()->topLevelItemCount(); ++i) {
        QTreeWidgetItem* item = window.mapTree()->topLevelItem(i);
        if (item->text(4) != "damaged") continue;
        ++damaged;
        ASSERT_GE(item->childCount(), 1);
        EXPECT_EQ(item->child(0)->text(1), "buckets-unmapped");
    }
    EXPECT_EQ(damaged, 1);
}

// The healthy sample keeps sessions keyed by "eu"/"us" and panics with "healthy: done": what
// --redact must keep out of every export.
const QRegularExpression kSecrets(R"(sessions\[[^<]|healthy: done)");

QString readAll(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    return QString::fromUtf8(file.readAll());
}

TEST(GuiExport, ExportsTheReportAsJsonAndText) {
    const std::string dir = gomapcore::testing::corpusDir() + "/go1.26/";
    MapListWindow window;
    ASSERT_TRUE(window.openCore(QString::fromStdString(dir + "healthy.core"),
                                QString::fromStdString(dir + "mapcrash")));
    QTemporaryDir tmp;
    ASSERT_TRUE(window.exportReport(tmp.filePath("report.json"), false)) << window.lastError().toStdString();
    ASSERT_TRUE(window.exportReport(tmp.filePath("report.txt"), false)) << window.lastError().toStdString();
    QString json = readAll(tmp.filePath("report.json"));
    EXPECT_TRUE(json.contains(R"("schema": "gomapcore/report-v1")"));
    EXPECT_TRUE(json.contains(kSecrets));  // unredacted: the pattern below can match
    EXPECT_TRUE(readAll(tmp.filePath("report.txt")).startsWith("gomapcore "));
}

TEST(GuiExport, RedactedExportOfAnUnredactedWindowLeaksNothing) {
    const std::string dir = gomapcore::testing::corpusDir() + "/go1.26/";
    MapListWindow window;
    ASSERT_TRUE(window.openCore(QString::fromStdString(dir + "healthy.core"),
                                QString::fromStdString(dir + "mapcrash")));
    QTemporaryDir tmp;
    ASSERT_TRUE(window.exportReport(tmp.filePath("redacted.json"), true)) << window.lastError().toStdString();
    QString json = readAll(tmp.filePath("redacted.json"));
    EXPECT_TRUE(json.contains("sessions[<string, 2 bytes>]"));
    EXPECT_FALSE(json.contains(kSecrets)) << kSecrets.match(json).captured(0).toStdString();
    // The window itself still shows what it was opened with.
    bool keysShown = false;
    for (int i = 0; i < window.mapTree()->topLevelItemCount(); ++i)
        keysShown |= window.mapTree()->topLevelItem(i)->text(5).contains(kSecrets);
    EXPECT_TRUE(keysShown);
}

TEST(GuiExport, RedactedWindowShowsAndExportsNoKeys) {
    const std::string dir = gomapcore::testing::corpusDir() + "/go1.26/";
    MapListWindow window;
    ASSERT_TRUE(window.openCore(QString::fromStdString(dir + "healthy.core"),
                                QString::fromStdString(dir + "mapcrash"),
                                /*redact=*/true));
    bool redactedShown = false;
    for (int i = 0; i < window.mapTree()->topLevelItemCount(); ++i) {
        QString roots = window.mapTree()->topLevelItem(i)->text(5);
        EXPECT_FALSE(roots.contains(kSecrets)) << roots.toStdString();
        redactedShown |= roots.contains("sessions[<string, 2 bytes>]");
    }
    EXPECT_TRUE(redactedShown);
    QTemporaryDir tmp;
    // Even an export that does not ask for redaction stays redacted.
    ASSERT_TRUE(window.exportReport(tmp.filePath("report.txt"), false));
    QString text = readAll(tmp.filePath("report.txt"));
    EXPECT_FALSE(text.isEmpty());
    EXPECT_FALSE(text.contains(kSecrets));
}

TEST(GuiExport, NothingToExportBeforeACoreIsOpen) {
    MapListWindow window;
    QTemporaryDir tmp;
    EXPECT_FALSE(window.exportReport(tmp.filePath("report.json"), false));
    EXPECT_EQ(window.lastError(), "no core is open");
    // Both exports are in the File menu.
    EXPECT_NE(window.findChild<QAction*>("exportReport"), nullptr);
    EXPECT_NE(window.findChild<QAction*>("exportRedactedReport"), nullptr);
}

TEST(GuiMapList, BadInputIsReportedNotThrown) {
    MapListWindow window;
    EXPECT_FALSE(window.openCore("/nonexistent/core", ""));
    EXPECT_TRUE(window.lastError().contains("cannot open"));
}

}  // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
