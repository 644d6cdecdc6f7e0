// The GUI's map list, in a real QApplication on the offscreen platform, against a real core.
#include <gtest/gtest.h>

#include <QApplication>
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
