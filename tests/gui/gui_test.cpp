// The desktop GUI in a real QApplication on the offscreen platform, against real corpus cores:
// the models (QAbstractItemModelTester), the window's background analysis (progress, cancel,
// errors), the crash panel, the map structure scenes of damaged maps, the map memory view,
// --render-map, the report exports and screenshots of the window.
#include <gtest/gtest.h>

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QFile>
#include <QGraphicsItem>
#include <QGraphicsSimpleTextItem>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSet>
#include <QSettings>
#include <QSignalSpy>
#include <QSplitter>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextCursor>
#include <QTextEdit>
#include <QTimer>
#include <QToolButton>
#include <QTreeWidget>
#include <chrono>
#include <map>
#include <numeric>
#include <set>
#include <thread>

#include "analysis_runner.h"
#include "corpus.h"
#include "main_window.h"
#include "map_memory_view.h"
#include "map_scene.h"
#include "map_table_model.h"
#include "mapping_strip.h"
#include "memory_panel.h"
#include "scene_export.h"

namespace {

using gomapcore::testing::corpusDir;
using gomapcore::testing::parseHex;

QString core(const std::string& build, const std::string& scenario) {
    return QString::fromStdString(corpusDir() + "/" + build + "/" + scenario + ".core");
}
QString exe(const std::string& build) {
    return QString::fromStdString(corpusDir() + "/" + build + "/mapcrash");
}

gomapcore::testing::CorpusCase corpusCase(const std::string& build, const std::string& scenario) {
    for (const auto& c : gomapcore::testing::corpusCases())
        if (c.build == build && c.scenario == scenario) return c;
    ADD_FAILURE() << "no corpus case " << build << "/" << scenario;
    return {};
}

QString hex(quint64 value) {
    return QStringLiteral("0x%1").arg(value, 0, 16);
}

// The map a corpus scenario damaged and the address it planted there, from the case's truth
// records: regenerating the corpus moves every address, so no test may spell one out.
struct PlantedDamage {
    quint64 map = 0;
    quint64 address = 0;
};
PlantedDamage plantedDamage(const std::string& build, const std::string& scenario) {
    auto damage = corpusCase(build, scenario).records("damage");
    if (damage.empty()) {
        ADD_FAILURE() << build << "/" << scenario << " records no damage";
        return {};
    }
    return {parseHex(damage[0]["map"].get<std::string>()), parseHex(damage[0]["address"].get<std::string>())};
}

// Every text of a scene, joined.
QString sceneText(QGraphicsScene& scene) {
    QStringList texts;
    for (QGraphicsItem* item : scene.items())
        if (auto* t = dynamic_cast<QGraphicsSimpleTextItem*>(item)) texts << t->text();
    return texts.join('\n');
}

int redItems(QGraphicsScene& scene) {
    int red = 0;
    for (QGraphicsItem* item : scene.items())
        red += item->data(mapscene::kRoleRed).toBool() ? 1 : 0;
    return red;
}

int distinctColours(const QImage& image) {
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 2)
        for (int x = 0; x < image.width(); x += 2)
            colours.insert(image.pixel(x, y));
    return colours.size();
}

// ---- Models ------------------------------------------------------------------------------

TEST(GuiModels, MapTableAndProxyPassTheModelTester) {
    auto analysis = gomapcore::Analysis::open(core("go1.23", "buckets-unmapped").toStdString(),
                                              exe("go1.23").toStdString());
    auto report = std::make_shared<const gomapcore::Report>(analysis->run({}));
    MapTableModel model;
    MapFilterProxy proxy;
    QAbstractItemModelTester modelTester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);
    proxy.setSourceModel(&model);
    model.setReport(report);
    ASSERT_EQ(model.rowCount(), static_cast<int>(report->maps.size()));
    ASSERT_EQ(proxy.rowCount(), model.rowCount());
    proxy.sort(MapTableModel::Count, Qt::DescendingOrder);
    proxy.sort(MapTableModel::Root, Qt::AscendingOrder);
    proxy.setSeverityFilter(MapFilterProxy::SeverityFilter::ErrorOnly);
    ASSERT_EQ(proxy.rowCount(), 1);
    const QModelIndex damaged = proxy.index(0, MapTableModel::WorstFinding);
    EXPECT_EQ(proxy.data(damaged).toString(), "error buckets-unmapped");
    EXPECT_EQ(proxy.data(damaged, MapTableModel::StatusRole).toInt(),
              static_cast<int>(gomapcore::MapStatus::Damaged));
    EXPECT_EQ(proxy.data(damaged, Qt::BackgroundRole).value<QBrush>().color(), palette::damagedBackground());
    EXPECT_EQ(proxy.data(proxy.index(0, MapTableModel::Root)).toString(), "main.target");
    proxy.setSeverityFilter(MapFilterProxy::SeverityFilter::All);
    proxy.setText("main.target");
    EXPECT_GE(proxy.rowCount(), 1);
    proxy.setText("no such map anywhere");
    EXPECT_EQ(proxy.rowCount(), 0);
    model.setReport(nullptr);
    EXPECT_EQ(proxy.rowCount(), 0);
}

TEST(GuiModels, HundredThousandMapsStayFast) {
    gomapcore::Report report;
    report.target.mapLayout = gomapcore::MapLayoutKind::Classic;
    report.maps.resize(100'000);
    for (std::size_t i = 0; i < report.maps.size(); ++i) {
        gomapcore::MapResult& map = report.maps[i];
        map.address = 0xc000000000 + i * 48;
        map.roots = {"main.many[" + std::to_string(i) + "]"};
        map.count = static_cast<std::int64_t>(i % 977);
        map.liveEntries = i % 977;
        map.header = {{"count", i % 977}, {"B", i % 9}};
        map.memory.buckets = (i % 977) * 16;
        map.headerReadable = map.complete = true;
        if (i % 1000 == 0)
            map.root.findings.push_back(
                {"count-mismatch", gomapcore::Severity::Error, map.address, map.address, "x"});
    }
    // A group the report counts together gets a row of its own.
    gomapcore::MapGroup group;
    group.type = "map[int32]int32";
    group.rootPattern = "main.more[*]";
    group.maps = 1'000'000;
    group.damaged = 2;
    report.mapGroups.push_back(group);
    QElapsedTimer clock;
    clock.start();
    MapTableModel model;
    MapFilterProxy proxy;
    proxy.setSourceModel(&model);
    auto shared = std::make_shared<const gomapcore::Report>(std::move(report));
    model.setReport(shared);
    ASSERT_EQ(model.rowCount(), 100'001);
    // The map memory bars of the same report: the 200 largest, and a line for the rest (99,800
    // maps and the group's million, which holds no bytes here).
    MapMemoryModel bars;
    bars.setReport(shared);
    ASSERT_EQ(bars.rowCount(), 201);
    EXPECT_TRUE(bars.index(200).data().toString().startsWith("1099800 more maps"))
        << bars.index(200).data().toString().toStdString();
    EXPECT_EQ(model.index(100'000, MapTableModel::Root).data().toString(), "main.more[*]");
    EXPECT_EQ(model.index(100'000, MapTableModel::Count).data().toString(), "1000000 maps");
    EXPECT_EQ(model.index(100'000, 0).data(MapTableModel::StatusRole).toInt(),
              static_cast<int>(gomapcore::MapStatus::Damaged));
    proxy.sort(MapTableModel::Count, Qt::DescendingOrder);
    proxy.setText("many[4242]");
    EXPECT_EQ(proxy.rowCount(), 1);
    proxy.setText("");
    proxy.setSeverityFilter(MapFilterProxy::SeverityFilter::ErrorOnly);
    EXPECT_EQ(proxy.rowCount(), 101);  // 100 maps and the group
    QTableView view;
    view.setModel(&proxy);
    view.resize(800, 600);
    view.show();
    QApplication::processEvents();
    const qint64 ms = clock.elapsed();
    std::printf("100,000 maps: model, memory bars, sort, two filters and a view in %lld ms\n",
                static_cast<long long>(ms));
    EXPECT_LT(ms, 15000);
}

// The Bytes column sorts by bytes, not by its text ("512 B" is less than "2.0 KiB").
TEST(GuiModels, TheBytesColumnSortsNumerically) {
    gomapcore::Report report;
    const std::uint64_t bytes[] = {512, 2048, std::uint64_t{3} << 19, 48, std::uint64_t{5} << 30};
    for (std::size_t i = 0; i < std::size(bytes); ++i) {
        gomapcore::MapResult map;
        map.address = 0x1000 + i * 0x100;
        map.memory.buckets = bytes[i];
        report.maps.push_back(map);
    }
    gomapcore::MapGroup group;
    group.rootPattern = "main.many[*]";
    group.maps = 10;
    group.bytes = 4096;
    report.mapGroups.push_back(group);
    MapTableModel model;
    MapFilterProxy proxy;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    proxy.setSourceModel(&model);
    model.setReport(std::make_shared<const gomapcore::Report>(std::move(report)));
    EXPECT_EQ(model.headerData(MapTableModel::Bytes, Qt::Horizontal).toString(), "Bytes");
    proxy.sort(MapTableModel::Bytes, Qt::DescendingOrder);
    QStringList texts;
    for (int row = 0; row < proxy.rowCount(); ++row)
        texts << proxy.index(row, MapTableModel::Bytes).data().toString();
    EXPECT_EQ(texts, QStringList({"5.0 GiB", "1.5 MiB", "4.0 KiB", "2.0 KiB", "512 B", "48 B"}));
    proxy.sort(MapTableModel::Bytes, Qt::AscendingOrder);
    EXPECT_EQ(proxy.index(0, MapTableModel::Bytes).data(MapTableModel::SortRole).toLongLong(), 48);
}

// Thousands of maps: at most kMaxBars bars, largest first, and a last line that sums the rest
// (never dropped); a group is one bar with its summed bytes.
TEST(GuiModels, MapMemoryBarsAreCappedAndTheRestIsSummed) {
    gomapcore::Report report;
    std::vector<std::uint64_t> all;
    for (std::uint64_t i = 0; i < 3000; ++i) {
        gomapcore::MapResult map;
        map.address = 0xc000000000 + i * 48;
        map.roots = {"main.cache[" + std::to_string(i) + "]"};
        map.memory.header = 48;
        map.memory.buckets = (i * 7919) % 100'000;
        map.memory.capacity = 8;
        map.count = 4;
        report.maps.push_back(map);
        all.push_back(map.memory.bytes());
    }
    gomapcore::MapGroup group;
    group.type = "map[int32]int32";
    group.rootPattern = "main.more[*]";
    group.maps = 100'000;
    group.bytes = std::uint64_t{300} << 20;
    report.mapGroups.push_back(group);
    report.memory.heapInUse = std::uint64_t{1} << 30;
    MapMemoryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    model.setReport(std::make_shared<const gomapcore::Report>(std::move(report)));
    ASSERT_EQ(model.rowCount(), static_cast<int>(MapMemoryModel::kMaxBars) + 1);
    // The group first: one bar, its bytes summed.
    const QModelIndex first = model.index(0);
    EXPECT_EQ(first.data(MapMemoryModel::GroupRole).toInt(), 0);
    EXPECT_EQ(first.data(MapMemoryModel::BytesRole).toULongLong(), std::uint64_t{300} << 20);
    EXPECT_EQ(first.data(MapMemoryModel::FractionRole).toDouble(), 1.0);
    EXPECT_TRUE(first.data().toString().startsWith("300.0 MiB  main.more[*]"))
        << first.data().toString().toStdString();
    EXPECT_TRUE(first.data().toString().contains("100000 maps")) << first.data().toString().toStdString();
    EXPECT_TRUE(first.data().toString().contains("29.3% of the heap"))
        << first.data().toString().toStdString();
    // Then the 199 largest maps, as the bytes sorted here say.
    std::sort(all.rbegin(), all.rend());
    for (int row = 1; row < static_cast<int>(MapMemoryModel::kMaxBars); ++row) {
        const QModelIndex index = model.index(row);
        EXPECT_EQ(index.data(MapMemoryModel::GroupRole).toInt(), -1);
        EXPECT_EQ(index.data(MapMemoryModel::BytesRole).toULongLong(),
                  all[static_cast<std::size_t>(row - 1)]);
        EXPECT_TRUE(index.data().toString().contains("8 slots  ·  load 0.500"))
            << index.data().toString().toStdString();
    }
    const std::uint64_t rest = std::accumulate(all.begin() + 199, all.end(), std::uint64_t{0});
    const QModelIndex last = model.index(static_cast<int>(MapMemoryModel::kMaxBars));
    EXPECT_TRUE(last.data(MapMemoryModel::RestRole).toBool());
    EXPECT_EQ(last.data(MapMemoryModel::BytesRole).toULongLong(), rest);
    EXPECT_TRUE(last.data().toString().startsWith(QString("2801 more maps, %1 (%2 bytes)")
                                                      .arg(QString::fromStdString(gomapcore::bytesText(rest)))
                                                      .arg(rest)))
        << last.data().toString().toStdString();
    EXPECT_EQ(model.rowOf(0xc000000000), -1);  // 0 bytes of buckets: among the rest
    model.setReport(nullptr);
    EXPECT_EQ(model.rowCount(), 0);
}

// ---- The window: opening, progress, cancel, errors --------------------------------------

TEST(GuiWindow, OpeningCorpusCoresFillsTheTable) {
    for (const char* build : {"go1.23", "go1.26"}) {
        auto analysis =
            gomapcore::Analysis::open(core(build, "healthy").toStdString(), exe(build).toStdString());
        auto report = analysis->run({});
        MainWindow window;
        ASSERT_TRUE(window.openCore(core(build, "healthy"), exe(build))) << window.lastError().toStdString();
        ASSERT_EQ(window.mapModel()->rowCount(), static_cast<int>(report.maps.size())) << build;
        QSet<QString> addresses;
        for (int row = 0; row < window.mapModel()->rowCount(); ++row)
            addresses << window.mapModel()->index(row, MapTableModel::Address).data().toString();
        for (const gomapcore::MapResult& map : report.maps)
            EXPECT_TRUE(addresses.contains(hex(map.address)))
                << build << " " << hex(map.address).toStdString();
        bool usersListed = false;
        for (int row = 0; row < window.mapModel()->rowCount(); ++row)
            usersListed |=
                window.mapModel()->index(row, MapTableModel::Root).data().toString().contains("main.users");
        EXPECT_TRUE(usersListed) << build;
        EXPECT_FALSE(window.analysisRunning());
    }
}

TEST(GuiWindow, TheRunnerReportsProgressPhases) {
    AnalysisRunner runner;
    QSignalSpy progress(&runner, &AnalysisRunner::progress);
    QSignalSpy finished(&runner, &AnalysisRunner::finished);
    runner.start(core("go1.26", "healthy"), exe("go1.26"), false);
    ASSERT_TRUE(runner.waitIdle(120000));
    EXPECT_EQ(finished.size(), 1);
    QSet<QString> phases;
    for (const QList<QVariant>& event : progress)
        phases << event.at(0).toString();
    EXPECT_TRUE(phases.contains("open"));
    EXPECT_GE(phases.size(), 2) << QStringList(phases.values()).join(",").toStdString();
}

TEST(GuiWindow, TheAnalysisCanBeCancelled) {
    MainWindow window;
    window.startOpen(core("go1.26", "healthy"), exe("go1.26"));
    EXPECT_TRUE(window.analysisRunning());
    QPushButton* cancel = window.findChild<QPushButton*>("cancelAnalysis");
    ASSERT_NE(cancel, nullptr);
    cancel->click();
    ASSERT_TRUE(window.waitForAnalysis());
    EXPECT_EQ(window.lastError(), "The analysis was cancelled.");
    EXPECT_EQ(window.report(), nullptr);
    EXPECT_EQ(window.mapModel()->rowCount(), 0);
    // The window is still usable: the same core opens afterwards.
    ASSERT_TRUE(window.openCore(core("go1.26", "healthy"), exe("go1.26")))
        << window.lastError().toStdString();
    EXPECT_GT(window.mapModel()->rowCount(), 0);
}

// Opens core with exe interactively, closing every modal dialog it raises; returns what they
// were (a message box's text, or a dialog's class name), in order.
QStringList dialogsWhileOpening(MainWindow& window, const QString& coreFile, const QString& executable) {
    QStringList seen;
    QTimer closer;
    QObject::connect(&closer, &QTimer::timeout, [&] {
        QWidget* modal = QApplication::activeModalWidget();
        if (modal == nullptr) return;
        if (auto* box = qobject_cast<QMessageBox*>(modal))
            seen << box->text();
        else
            seen << modal->metaObject()->className();
        if (auto* dialog = qobject_cast<QDialog*>(modal)) dialog->reject();
    });
    closer.start(50);
    window.startOpen(coreFile, executable, false, /*interactive=*/true);
    EXPECT_TRUE(window.waitForAnalysis());
    closer.stop();
    return seen;
}

// Opened from the window (interactive), a core whose executable is not where the core says
// asks for it: a message saying why, then a file dialog (both closed here, so nothing reopens).
TEST(GuiWindow, AMissingExecutableIsAskedFor) {
    MainWindow window;
    window.show();
    const QStringList seen = dialogsWhileOpening(window, core("go1.26", "healthy"), "");
    ASSERT_EQ(seen.size(), 2) << seen.join(" | ").toStdString();
    EXPECT_TRUE(seen[0].contains("does not exist here")) << seen[0].toStdString();
    EXPECT_TRUE(seen[0].contains("Choose the Go executable")) << seen[0].toStdString();
    EXPECT_EQ(seen[1], "QFileDialog");
    EXPECT_TRUE(window.crashPanel()->text().contains("not found"))
        << window.crashPanel()->text().toStdString();
    // Not interactive (scripts, tests): no dialog, the sentence only.
    MainWindow quiet;
    EXPECT_FALSE(quiet.openCore(core("go1.26", "healthy"), ""));
    EXPECT_TRUE(quiet.lastError().contains("does not exist here"));
}

// The wrong executable, opened interactively, is asked for again with the reason.
TEST(GuiWindow, AMismatchedExecutableIsAskedFor) {
    MainWindow window;
    window.show();
    const QStringList seen = dialogsWhileOpening(window, core("go1.26", "healthy"), exe("go1.23"));
    ASSERT_EQ(seen.size(), 2) << seen.join(" | ").toStdString();
    EXPECT_TRUE(seen[0].contains("does not match the core")) << seen[0].toStdString();
    EXPECT_TRUE(seen[0].contains("Choose the Go executable")) << seen[0].toStdString();
    EXPECT_EQ(seen[1], "QFileDialog");
    EXPECT_EQ(window.report(), nullptr);
}

TEST(GuiWindow, BadInputIsOneSentenceInTheWindow) {
    QTemporaryDir tmp;
    struct Case {
        QString core, exe, phrase;
    } cases[] = {
        {"/nonexistent/core", "", "cannot open"},
        {exe("go1.26"), exe("go1.26"), "not a core dump"},                      // an executable, not a core
        {core("go1.26", "healthy"), exe("go1.23"), "does not match the core"},  // the wrong executable
        // A C program's core (the malformed suite's abort-c, unpacked beside the corpus).
        {QString::fromStdString(corpusDir() + "/../malformed/abort-c/abort.core"),
         QString::fromStdString(corpusDir() + "/../malformed/abort-c/abort"), "is not a Go program"},
    };
    for (const Case& c : cases) {
        MainWindow window;
        EXPECT_FALSE(window.openCore(c.core, c.exe));
        EXPECT_TRUE(window.lastError().contains(c.phrase, Qt::CaseInsensitive))
            << window.lastError().toStdString();
        EXPECT_FALSE(window.lastError().contains('\n'));
        EXPECT_TRUE(window.crashPanel()->text().contains(c.phrase, Qt::CaseInsensitive));
    }
    // A truncated core: either analyzed as far as it goes or refused in one sentence, never a crash.
    QFile whole(core("go1.26", "healthy"));
    ASSERT_TRUE(whole.open(QIODevice::ReadOnly));
    QFile cut(tmp.filePath("cut.core"));
    ASSERT_TRUE(cut.open(QIODevice::WriteOnly));
    cut.write(whole.read(whole.size() / 3));
    cut.close();
    MainWindow window;
    if (!window.openCore(cut.fileName(), exe("go1.26"))) {
        EXPECT_FALSE(window.lastError().isEmpty());
    }
}

// ---- Crash panel ----------------------------------------------------------------------------

TEST(GuiCrashPanel, NamesTheTruthsMapOnConcurrentWrites) {
    for (const char* build : {"go1.23", "go1.26"}) {
        auto c = corpusCase(build, "concurrent-writes");
        auto crash = c.records("crash");
        ASSERT_EQ(crash.size(), 1u);
        const quint64 map = parseHex(crash[0]["map"].get<std::string>());
        const QString root = QString::fromStdString(crash[0]["root"].get<std::string>());
        MainWindow window;
        ASSERT_TRUE(window.openCore(core(build, "concurrent-writes"), exe(build)))
            << window.lastError().toStdString();
        const QString panel = window.crashPanel()->text();
        EXPECT_TRUE(panel.contains("concurrent map writes")) << panel.toStdString();
        EXPECT_TRUE(panel.contains(QString("href=\"map:%1\"").arg(hex(map)))) << panel.toStdString();
        EXPECT_TRUE(panel.contains(root.toHtmlEscaped())) << panel.toStdString();
        EXPECT_TRUE(panel.contains("goroutine:"));
        EXPECT_TRUE(panel.contains("concurrent.go:"));  // the user frame's file:line
        // The window starts on the crash's map, and the link leads there too.
        QModelIndex current = window.mapTable()->currentIndex();
        ASSERT_TRUE(current.isValid());
        EXPECT_EQ(current.data(MapTableModel::AddressRole).toULongLong(), map);
        window.mapTable()->clearSelection();
        window.mapTable()->setCurrentIndex({});
        Q_EMIT window.crashPanel()->linkActivated(QString("map:%1").arg(hex(map)));
        EXPECT_EQ(window.mapTable()->currentIndex().data(MapTableModel::AddressRole).toULongLong(), map);
        ASSERT_TRUE(window.mapView()->waitIdle(60000));
    }
}

TEST(GuiWindow, GoroutinesMemoryAndFindingsViews) {
    MainWindow window;
    ASSERT_TRUE(window.openCore(core("go1.26", "concurrent-writes"), exe("go1.26")))
        << window.lastError().toStdString();
    ASSERT_TRUE(window.report()->crash && window.report()->crash->goroutine);
    const qlonglong crashed = *window.report()->crash->goroutine;
    EXPECT_TRUE(window.goroutinesView()->toPlainText().contains(QString("goroutine %1 ").arg(crashed)));
    // The crash panel's goroutine link scrolls the goroutines view there.
    Q_EMIT window.crashPanel()->linkActivated(QString("goroutine:%1").arg(crashed));
    EXPECT_TRUE(window.goroutinesView()->textCursor().selectedText().startsWith(
        QString("goroutine %1 ").arg(crashed)));
    EXPECT_FALSE(window.showGoroutine(999999));
    // Memory: the crash's map header is captured; address 0x10 lies in no mapping.
    ASSERT_TRUE(window.mapView()->waitIdle(60000));
    EXPECT_GT(window.memoryPanel()->regionTable()->rowCount(), 3);
    window.memoryPanel()->goTo(*window.report()->crash->map);
    EXPECT_TRUE(window.memoryPanel()->hexView()->toPlainText().startsWith(hex(*window.report()->crash->map) +
                                                                          ": captured"))
        << window.memoryPanel()->hexView()->toPlainText().toStdString();
    window.memoryPanel()->goTo(0x10);
    EXPECT_TRUE(window.memoryPanel()->hexView()->toPlainText().contains("?? from 0x10: unmapped"))
        << window.memoryPanel()->hexView()->toPlainText().toStdString();

    // Selecting a finding selects its map.
    MainWindow damaged;
    ASSERT_TRUE(damaged.openCore(core("go1.23", "overflow-cycle"), exe("go1.23")));
    ASSERT_TRUE(damaged.mapView()->waitIdle(60000));
    damaged.mapTable()->setCurrentIndex(damaged.mapTable()->model()->index(3, 0));
    ASSERT_GE(damaged.findingsList()->topLevelItemCount(), 1);
    damaged.findingsList()->setCurrentItem(damaged.findingsList()->topLevelItem(0));
    EXPECT_EQ(damaged.mapTable()->currentIndex().data(MapTableModel::AddressRole).toULongLong(),
              plantedDamage("go1.23", "overflow-cycle").map);
    ASSERT_TRUE(damaged.mapView()->waitIdle(60000));
}

// The address of the listed map one of whose roots is root (0 when none is).
quint64 mapNamed(const gomapcore::Report& report, const std::string& root) {
    for (const gomapcore::MapResult& map : report.maps)
        if (std::find(map.roots.begin(), map.roots.end(), root) != map.roots.end()) return map.address;
    return 0;
}

// The goroutine ids the goroutines view marks, by the colour of their mark.
std::map<QRgb, std::set<qlonglong>> markedGoroutines(MainWindow& window) {
    std::map<QRgb, std::set<qlonglong>> marked;
    static const QRegularExpression header("^goroutine (\\d+) ");
    for (const QTextEdit::ExtraSelection& mark : window.goroutinesView()->extraSelections()) {
        QTextCursor line = mark.cursor;
        line.select(QTextCursor::LineUnderCursor);
        auto match = header.match(line.selectedText());
        EXPECT_TRUE(match.hasMatch()) << line.selectedText().toStdString();
        if (match.hasMatch())
            marked[mark.format.background().color().rgb()].insert(match.captured(1).toLongLong());
    }
    return marked;
}

TEST(GuiWindow, TheGoroutinesOfTheCrashAndOfTheSelectedMapAreMarked) {
    for (const char* build : {"go1.23", "go1.26"}) {
        SCOPED_TRACE(build);
        auto truth = corpusCase(build, "concurrent-writes").records("crash");
        ASSERT_EQ(truth.size(), 1u);
        MainWindow window;
        ASSERT_TRUE(window.openCore(core(build, "concurrent-writes"), exe(build)))
            << window.lastError().toStdString();
        ASSERT_TRUE(window.mapView()->waitIdle(60000));
        const gomapcore::Report& report = *window.report();
        ASSERT_TRUE(report.crash && report.crash->goroutine);
        // The window starts on the crash's map: the crash's goroutines in red, the map's other
        // holders in amber.
        const quint64 crashMap = parseHex(truth[0]["map"].get<std::string>());
        ASSERT_EQ(window.mapTable()->currentIndex().data(MapTableModel::AddressRole).toULongLong(), crashMap);
        const gomapcore::MapResult* map = nullptr;
        for (const gomapcore::MapResult& m : report.maps)
            if (m.address == crashMap) map = &m;
        ASSERT_NE(map, nullptr);
        auto marked = markedGoroutines(window);
        std::set<qlonglong> crash, holders;
        for (std::int64_t id : report.crash->goroutinesInvolved())
            crash.insert(id);
        for (std::int64_t id : map->holdingGoroutines())
            if (!crash.count(id)) holders.insert(id);
        EXPECT_GE(crash.size(), 2u);  // the writer and the goroutines holding the same map
        EXPECT_EQ(marked[palette::damagedBackground().rgb()], crash);
        EXPECT_EQ(marked[palette::suspectBackground().rgb()], holders);
        // The truth's root ("goroutine 1 main.scenarioConcurrentWrites m") is marked either way.
        const std::string root = truth[0]["root"].get<std::string>();
        ASSERT_EQ(root.rfind("goroutine ", 0), 0u) << root;
        const qlonglong rootGoroutine = std::stoll(root.substr(10));
        EXPECT_TRUE(crash.count(rootGoroutine) || holders.count(rootGoroutine)) << root;
        EXPECT_TRUE(window.findChild<QDockWidget*>("goroutinesDock")->windowTitle().contains("in the crash"));
        // A global map no goroutine holds: only the crash's marks stay.
        ASSERT_TRUE(window.selectMap(mapNamed(report, "main.scenarios")));
        marked = markedGoroutines(window);
        EXPECT_EQ(marked[palette::damagedBackground().rgb()], crash);
        EXPECT_TRUE(marked[palette::suspectBackground().rgb()].empty());
        EXPECT_TRUE(window.findChild<QDockWidget*>("goroutinesDock")
                        ->windowTitle()
                        .contains("0 hold the selected map"));
        ASSERT_TRUE(window.mapView()->waitIdle(60000));
    }
}

TEST(GuiWindow, TheFindingsListCanShowTheSelectedMapsAlone) {
    MainWindow window;
    ASSERT_TRUE(window.openCore(core("go1.23", "overflow-cycle"), exe("go1.23")));
    ASSERT_TRUE(window.mapView()->waitIdle(60000));
    const int whole = window.findingsList()->topLevelItemCount();
    std::size_t all = 0;
    for (const gomapcore::MapResult& m : window.report()->maps)
        all += m.findings().size();
    ASSERT_EQ(static_cast<std::size_t>(whole), all);
    const quint64 planted = plantedDamage("go1.23", "overflow-cycle").map;
    window.findingsOfSelectedMapOnly()->setChecked(true);
    ASSERT_TRUE(window.selectMap(planted));
    std::size_t own = 0;
    for (const gomapcore::MapResult& m : window.report()->maps)
        if (m.address == planted) own = m.findings().size();
    ASSERT_GE(own, 1u);
    ASSERT_EQ(static_cast<std::size_t>(window.findingsList()->topLevelItemCount()), own);
    for (int i = 0; i < window.findingsList()->topLevelItemCount(); ++i)
        EXPECT_EQ(window.findingsList()->topLevelItem(i)->data(2, Qt::UserRole).toULongLong(), planted);
    // A healthy map has none; unchecked, the whole core's come back.
    ASSERT_TRUE(window.selectMap(mapNamed(*window.report(), "main.scenarios")));
    EXPECT_EQ(window.findingsList()->topLevelItemCount(), 0);
    window.findingsOfSelectedMapOnly()->setChecked(false);
    EXPECT_EQ(window.findingsList()->topLevelItemCount(), whole);
    ASSERT_TRUE(window.mapView()->waitIdle(60000));
}

// The memory dock's strip: every mapping, the selected map's places marked, the planted
// unmapped address red and in a gap; clicking its mark shows it in the hex view.
TEST(GuiWindow, TheMappingStripMarksTheSelectedMapsPlaces) {
    for (const auto& [build, scenario] :
         {std::pair{"go1.23", "buckets-unmapped"}, std::pair{"go1.26", "groups-unmapped"}}) {
        SCOPED_TRACE(std::string(build) + "/" + scenario);
        const PlantedDamage planted = plantedDamage(build, scenario);
        MainWindow window;
        window.resize(1400, 900);
        window.show();
        ASSERT_TRUE(window.openCore(core(build, scenario), exe(build))) << window.lastError().toStdString();
        ASSERT_TRUE(window.selectMap(planted.map));
        ASSERT_TRUE(window.mapView()->waitIdle(60000));
        QApplication::processEvents();
        MappingStrip* strip = window.memoryPanel()->strip();
        EXPECT_EQ(strip->regions().size(), window.memoryPanel()->regionTable()->rowCount());
        std::map<quint64, bool> marks;
        for (const StripMark& m : strip->marks())
            marks[m.address] = m.suspect;
        ASSERT_TRUE(marks.count(planted.map));
        EXPECT_FALSE(marks[planted.map]);  // the header is captured
        EXPECT_GE(strip->regionAt(planted.map), 0);
        ASSERT_TRUE(marks.count(planted.address)) << hex(planted.address).toStdString();
        EXPECT_TRUE(marks[planted.address]);
        EXPECT_EQ(strip->regionAt(planted.address), -1);  // in a gap between mappings
        // Marks are drawn in order along the strip.
        double previous = -1;
        for (const auto& [address, suspect] : marks) {
            const double x = strip->xOf(address);
            EXPECT_GE(x, previous) << hex(address).toStdString();
            previous = x;
        }
        auto* dock = window.findChild<QDockWidget*>("memoryDock");
        dock->raise();
        QApplication::processEvents();
        QTest::mouseClick(strip, Qt::LeftButton, {},
                          QPoint(static_cast<int>(strip->xOf(planted.address)), 12));
        EXPECT_TRUE(
            window.memoryPanel()->hexView()->toPlainText().startsWith(hex(planted.address) + ": unmapped"))
            << window.memoryPanel()->hexView()->toPlainText().toStdString();
        // Another map's places replace them.
        ASSERT_TRUE(window.selectMap(mapNamed(*window.report(), "main.scenarios")));
        ASSERT_TRUE(window.mapView()->waitIdle(60000));
        for (const StripMark& m : strip->marks())
            EXPECT_FALSE(m.suspect) << hex(m.address).toStdString();
        if (const QString keep = qEnvironmentVariable("GOMAPCORE_SCREENSHOT_DIR"); !keep.isEmpty()) {
            ASSERT_TRUE(window.selectMap(planted.map));
            ASSERT_TRUE(window.mapView()->waitIdle(60000));
            window.resizeDocks({dock}, {300}, Qt::Vertical);
            QApplication::processEvents();
            window.grab().toImage().save(
                QString("%1/main-window-memory-strip-%2-%3.png").arg(keep, build, scenario));
        }
    }
}

// Focusing an address inside a node (a finding's tophash byte, a slot) centres the view on the
// smallest node that holds it and selects it; the node's own address selects the node.
TEST(GuiWindow, FocusingAnAddressInsideANodeSelectsThatNode) {
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    ASSERT_TRUE(window.openCore(core("go1.23", "healthy"), exe("go1.23")));
    ASSERT_TRUE(window.selectMap(mapNamed(*window.report(), "main.scenarios")));
    ASSERT_TRUE(window.mapView()->waitIdle(60000));
    QGraphicsItem* bucket = nullptr;
    for (QGraphicsItem* item : window.mapView()->scene()->items())
        if (item->data(mapscene::kRoleKind).toString() == "node" &&
            item->data(mapscene::kRoleSize).toULongLong() > 64)
            bucket = item;
    ASSERT_NE(bucket, nullptr);
    const quint64 start = bucket->data(mapscene::kRoleAddress).toULongLong();
    for (const quint64 address : {start + 17, start}) {
        window.mapView()->scene()->clearSelection();
        window.mapView()->focusAddress(address);
        const QList<QGraphicsItem*> selected = window.mapView()->scene()->selectedItems();
        ASSERT_EQ(selected.size(), 1) << hex(address).toStdString();
        EXPECT_EQ(selected[0]->data(mapscene::kRoleAddress).toULongLong(), start)
            << hex(address).toStdString();
    }
    // An address no node holds selects nothing.
    window.mapView()->scene()->clearSelection();
    window.mapView()->focusAddress(0x10);
    EXPECT_TRUE(window.mapView()->scene()->selectedItems().isEmpty());
}

// The crash comes first: the panel shows the crash (its message, its map) while the maps table is
// still empty, before the analysis finishes.
TEST(GuiWindow, CrashPanelIsFilledBeforeTheMapsAre) {
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    auto* runner = window.findChild<AnalysisRunner*>();
    ASSERT_NE(runner, nullptr);
    QStringList events;
    QString panelAtCrash;
    int rowsAtCrash = -1;
    QObject::connect(runner, &AnalysisRunner::crashKnown, &window,
                     [&](std::shared_ptr<const gomapcore::Report>) {
                         events << "crash";
                         panelAtCrash = window.crashPanel()->text();
                         rowsAtCrash = window.mapTable()->model()->rowCount();
                     });
    QObject::connect(runner, &AnalysisRunner::finished, &window, [&] { events << "finished"; });
    window.startOpen(core("go1.26", "concurrent-writes"), exe("go1.26"));
    ASSERT_TRUE(window.waitForAnalysis());
    EXPECT_EQ(events, (QStringList{"crash", "finished"}));
    EXPECT_EQ(rowsAtCrash, 0);
    EXPECT_TRUE(panelAtCrash.contains("concurrent map writes")) << panelAtCrash.toStdString();
    ASSERT_TRUE(window.report() != nullptr && window.report()->crash && window.report()->crash->map);
    EXPECT_TRUE(panelAtCrash.contains(hex(*window.report()->crash->map))) << panelAtCrash.toStdString();
}

// The crash's map, selected when the report arrives, stays in sight when a dock then takes the
// table's room (the goroutines dock raised and made tall, as in docs/gui-goroutines-marked.png).
TEST(GuiWindow, TheSelectedMapStaysVisibleWhenDocksShrinkTheTable) {
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    ASSERT_TRUE(window.openCore(core("go1.26", "concurrent-writes"), exe("go1.26")));
    const QModelIndex current = window.mapTable()->currentIndex();
    ASSERT_TRUE(current.isValid());
    ASSERT_EQ(current.data(MapTableModel::AddressRole).toULongLong(), *window.report()->crash->map);
    auto* dock = window.findChild<QDockWidget*>("goroutinesDock");
    ASSERT_NE(dock, nullptr);
    dock->raise();
    window.resizeDocks({dock}, {600}, Qt::Vertical);
    QApplication::processEvents();
    QTableView* table = window.mapTable();
    EXPECT_TRUE(table->viewport()->rect().intersects(table->visualRect(table->currentIndex())))
        << "the crash's map is scrolled out of the table";
}

// ---- Map memory ---------------------------------------------------------------------------

// The bars of a window that opened core, checked against the report's own JSON: one bar per
// map (maps[].memory.bytes) and per map group (map_groups[].bytes), largest first.
void expectBarsMatchTheReportJson(MainWindow& window, const std::string& label) {
    const nlohmann::json json = nlohmann::json::parse(gomapcore::renderJson(*window.report()));
    std::map<quint64, std::uint64_t> mapBytes;
    for (const nlohmann::json& map : json["maps"])
        mapBytes[parseHex(map["address"].get<std::string>())] = map["memory"]["bytes"].get<std::uint64_t>();
    std::vector<std::uint64_t> groupBytes;
    for (const nlohmann::json& group : json["map_groups"])
        groupBytes.push_back(group["bytes"].get<std::uint64_t>());
    const std::size_t lines = mapBytes.size() + groupBytes.size();
    ASSERT_GT(mapBytes.size(), 3u) << label;
    const MapMemoryModel* model = window.mapMemoryView()->model();
    ASSERT_EQ(static_cast<std::size_t>(model->rowCount()),
              std::min(lines, MapMemoryModel::kMaxBars) + (lines > MapMemoryModel::kMaxBars ? 1 : 0))
        << label;
    std::uint64_t previous = UINT64_MAX, drawn = 0;
    std::set<quint64> seen;
    for (int row = 0; row < model->rowCount(); ++row) {
        const QModelIndex index = model->index(row);
        if (index.data(MapMemoryModel::RestRole).toBool()) continue;
        const std::uint64_t bytes = index.data(MapMemoryModel::BytesRole).toULongLong();
        EXPECT_LE(bytes, previous) << label << " row " << row;
        previous = bytes;
        drawn += bytes;
        const int group = index.data(MapMemoryModel::GroupRole).toInt();
        if (group >= 0) {
            ASSERT_LT(static_cast<std::size_t>(group), groupBytes.size());
            EXPECT_EQ(bytes, groupBytes[static_cast<std::size_t>(group)]) << label << " group " << group;
            continue;
        }
        const quint64 address = index.data(MapMemoryModel::AddressRole).toULongLong();
        ASSERT_TRUE(mapBytes.count(address)) << label << " " << hex(address).toStdString();
        EXPECT_EQ(bytes, mapBytes[address]) << label << " " << hex(address).toStdString();
        EXPECT_TRUE(seen.insert(address).second) << label << " twice: " << hex(address).toStdString();
        EXPECT_TRUE(index.data().toString().startsWith(QString::fromStdString(gomapcore::bytesText(bytes))));
    }
    if (lines <= MapMemoryModel::kMaxBars) {
        EXPECT_EQ(seen.size(), mapBytes.size()) << label;
    }
    // The total line: what the report's memory summary says, and the heap in use.
    const nlohmann::json& memory = json["memory"];
    const QString summary = window.mapMemoryView()->summary()->text();
    EXPECT_TRUE(summary.contains(QString("(%1 bytes) in %2 maps")
                                     .arg(memory["maps_bytes"].get<std::uint64_t>())
                                     .arg(memory["maps"].get<std::uint64_t>())))
        << summary.toStdString();
    ASSERT_FALSE(memory["heap_in_use"].is_null()) << label;
    EXPECT_TRUE(summary.contains(QString::fromStdString(
        "Go heap in use is " + gomapcore::bytesText(memory["heap_in_use"].get<std::uint64_t>()))))
        << summary.toStdString();
    EXPECT_EQ(drawn + model->ranking().restBytes, memory["maps_bytes"].get<std::uint64_t>()) << label;
}

// Clicks the bar of row in the memory dock, as a person does.
void clickBar(MainWindow& window, int row) {
    window.findChild<QDockWidget*>("mapMemoryDock")->raise();
    QListView* bars = window.mapMemoryView()->bars();
    const QModelIndex index = bars->model()->index(row, 0);
    bars->scrollTo(index);
    QApplication::processEvents();
    QTest::mouseClick(bars->viewport(), Qt::LeftButton, {}, bars->visualRect(index).center());
}

TEST(GuiMapMemory, BarsAreTheReportsBytesLargestFirstAndClickThroughToTheMap) {
    for (const char* build : {"go1.23", "go1.26"}) {
        MainWindow window;
        window.resize(1400, 900);
        window.show();
        ASSERT_TRUE(window.openCore(core(build, "healthy"), exe(build))) << window.lastError().toStdString();
        expectBarsMatchTheReportJson(window, build);
        const MapMemoryModel* model = window.mapMemoryView()->model();
        ASSERT_EQ(model->index(0).data(MapMemoryModel::GroupRole).toInt(), -1) << build;
        const quint64 largest = model->index(0).data(MapMemoryModel::AddressRole).toULongLong();
        ASSERT_GT(model->index(0).data(MapMemoryModel::BytesRole).toULongLong(),
                  model->index(1).data(MapMemoryModel::BytesRole).toULongLong())
            << build << ": the test wants one largest map";
        // Start from another map, chosen in the table: its bar becomes the current one.
        const quint64 other = model->index(2).data(MapMemoryModel::AddressRole).toULongLong();
        ASSERT_TRUE(window.selectMap(other));
        EXPECT_EQ(window.mapMemoryView()->bars()->currentIndex().row(), 2) << build;
        ASSERT_TRUE(window.mapView()->waitIdle(60000));
        clickBar(window, 0);
        const QModelIndex current = window.mapTable()->currentIndex();
        ASSERT_TRUE(current.isValid()) << build;
        EXPECT_EQ(current.data(MapTableModel::AddressRole).toULongLong(), largest) << build;
        EXPECT_TRUE(window.mapTable()->selectionModel()->isRowSelected(current.row(), {})) << build;
        // And so its structure.
        ASSERT_TRUE(window.mapView()->waitIdle(60000));
        ASSERT_NE(window.mapView()->scene(), nullptr);
        EXPECT_TRUE(sceneText(*window.mapView()->scene()).contains(hex(largest))) << build;
    }
}

// A filtered table does not hide the map of a clicked bar.
TEST(GuiMapMemory, ClickingABarClearsAFilterThatHidesItsMap) {
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    ASSERT_TRUE(window.openCore(core("go1.26", "healthy"), exe("go1.26")))
        << window.lastError().toStdString();
    window.findChild<QLineEdit*>("mapFilter")->setText("no such map anywhere");
    ASSERT_EQ(window.mapProxy()->rowCount(), 0);
    clickBar(window, 1);
    const quint64 second =
        window.mapMemoryView()->model()->index(1).data(MapMemoryModel::AddressRole).toULongLong();
    EXPECT_EQ(window.mapTable()->currentIndex().data(MapTableModel::AddressRole).toULongLong(), second);
    EXPECT_TRUE(window.findChild<QLineEdit*>("mapFilter")->text().isEmpty());
    ASSERT_TRUE(window.mapView()->waitIdle(60000));
}

// The out-of-memory cores of the memory corpus (tests/corpus-memory): the crash panel says the
// runtime ran out of memory and names the map that holds it, and the first bar is that map,
// main.emptied (grown to a million entries, emptied to ten), as `gomapcore memory` lists it.
TEST(GuiMapMemory, OutOfMemoryCoreShowsTheEmptiedMapFirst) {
    for (const char* build : {"go1.19", "go1.26"}) {
        const QString folder = QString(GOMAPCORE_CORPUS_DIR) + "/../corpus-memory/" + build;
        MainWindow window;
        window.resize(1400, 900);
        window.show();
        ASSERT_TRUE(window.openCore(folder + "/out-of-memory.core", folder + "/mapcrash"))
            << build << ": " << window.lastError().toStdString();
        const QString panel = window.crashPanel()->text();
        EXPECT_TRUE(panel.contains("out of memory", Qt::CaseInsensitive))
            << build << ": " << panel.toStdString();
        EXPECT_TRUE(panel.contains("main.emptied")) << build << ": " << panel.toStdString();
        expectBarsMatchTheReportJson(window, build);
        const QModelIndex first = window.mapMemoryView()->model()->index(0);
        EXPECT_EQ(first.data(MapMemoryModel::GroupRole).toInt(), -1) << build;
        EXPECT_TRUE(first.data(MapMemoryModel::LabelRole).toString().contains("main.emptied"))
            << build << ": " << first.data(MapMemoryModel::LabelRole).toString().toStdString();
        // With GOMAPCORE_SCREENSHOT_DIR set, the picture of docs/gui-map-memory-out-of-memory.png:
        // the memory dock tall, main.emptied's bar clicked and its structure drawn.
        const QString keep = qEnvironmentVariable("GOMAPCORE_SCREENSHOT_DIR");
        if (keep.isEmpty()) continue;
        window.resizeDocks({window.findChild<QDockWidget*>("mapMemoryDock")}, {360}, Qt::Vertical);
        clickBar(window, 0);
        ASSERT_TRUE(window.mapView()->waitIdle(60000));
        QApplication::processEvents();
        window.grab().toImage().save(
            QString("%1/main-window-map-memory-%2-out-of-memory.png").arg(keep, build));
    }
}

// ---- Map structure scenes -------------------------------------------------------------------

struct DamageCase {
    const char* build;
    const char* scenario;
};

class GuiDamagedMap : public ::testing::TestWithParam<DamageCase> {};

// Selecting the damaged map in the real window builds its scene (off the GUI thread) with red
// items and the truth's offending address as text.
TEST_P(GuiDamagedMap, SceneShowsRedItemsAndTheOffendingAddress) {
    const DamageCase& d = GetParam();
    const auto [map, address] = plantedDamage(d.build, d.scenario);
    ASSERT_NE(map, 0u);
    MainWindow window;
    ASSERT_TRUE(window.openCore(core(d.build, d.scenario), exe(d.build))) << window.lastError().toStdString();
    const int row = window.mapModel()->rowOfAddress(map);
    ASSERT_GE(row, 0);
    EXPECT_EQ(window.mapModel()->index(row, 0).data(MapTableModel::StatusRole).toInt(),
              static_cast<int>(gomapcore::MapStatus::Damaged));
    ASSERT_TRUE(window.selectMap(map));
    ASSERT_TRUE(window.mapView()->waitIdle(60000));
    QGraphicsScene* scene = window.mapView()->scene();
    ASSERT_NE(scene, nullptr);
    EXPECT_GT(redItems(*scene), 0);
    EXPECT_TRUE(sceneText(*scene).contains(hex(address))) << hex(address).toStdString();
    EXPECT_TRUE(sceneText(*scene).contains(hex(map)));
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, GuiDamagedMap,
    ::testing::Values(DamageCase{"go1.23", "buckets-unmapped"}, DamageCase{"go1.23", "overflow-cycle"},
                      DamageCase{"go1.23", "control-bytes-corrupt"},
                      DamageCase{"go1.23", "oldbuckets-unmapped"}, DamageCase{"go1.26", "buckets-unmapped"},
                      DamageCase{"go1.26", "control-bytes-corrupt"}, DamageCase{"go1.26", "groups-unmapped"},
                      DamageCase{"go1.26", "table-unmapped"}, DamageCase{"go1.26", "dangling-entry-pointer"}),
    [](const ::testing::TestParamInfo<DamageCase>& param) {
        return gomapcore::testing::testName(std::string(param.param.build) + "_" + param.param.scenario);
    });

// Clicking a control cell shows its slot's key and value, decoded as `show` decodes them.
TEST(GuiScene, ClickingACellShowsItsEntry) {
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    ASSERT_TRUE(window.openCore(core("go1.23", "overflow-cycle"), exe("go1.23")));
    ASSERT_TRUE(window.mapView()->waitIdle(60000));
    ASSERT_NE(window.mapView()->scene(), nullptr);
    // A main bucket of the shown map whose slot 3 is full, as the engine walks it, from bucket #2 on
    // as the test always did. (Taking the first such bucket, a click selected the header's line in
    // the detail pane instead: not looked into yet.)
    const quint64 shown = window.mapTable()->currentIndex().data(MapTableModel::AddressRole).toULongLong();
    auto analysis = gomapcore::Analysis::open(core("go1.23", "overflow-cycle").toStdString(),
                                              exe("go1.23").toStdString());
    auto inspection = analysis->inspect(hex(shown).toStdString(), {});
    ASSERT_TRUE(inspection.map);
    const gomapcore::MapNode* bucket = nullptr;
    for (const gomapcore::MapNode& node : inspection.map->root.children)
        if (node.kind == gomapcore::NodeKind::Bucket && node.index >= 2 && node.control.size() > 3 &&
            node.control[3] >= 5) {
            bucket = &node;
            break;
        }
    ASSERT_NE(bucket, nullptr);
    EXPECT_TRUE(window.mapView()->detail()->toPlainText().contains(
        QString("bucket #%1 %2").arg(bucket->index).arg(hex(bucket->address))));
    QGraphicsItem* cell = nullptr;
    for (QGraphicsItem* item : window.mapView()->scene()->items())
        if (item->data(mapscene::kRoleNode).toULongLong() == bucket->address &&
            item->data(mapscene::kRoleSlot).toInt() == 3)
            cell = item;
    ASSERT_NE(cell, nullptr);
    ZoomableView* view = window.mapView()->view();
    view->resetTransform();
    view->centerOn(cell);
    QApplication::processEvents();
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {},
                      view->mapFromScene(cell->sceneBoundingRect().center()));
    const QString line = window.mapView()->detail()->textCursor().selectedText().trimmed();
    EXPECT_TRUE(line.startsWith("[3] ")) << line.toStdString();
    EXPECT_TRUE(line.contains(": ")) << line.toStdString();  // key: value
}

TEST(GuiScene, AnUnreadablePointerEndsInAMarkedBoxWithItsState) {
    auto analysis = gomapcore::Analysis::open(core("go1.26", "table-unmapped").toStdString(),
                                              exe("go1.26").toStdString());
    auto inspection = analysis->inspect("main.manyTables", {});
    ASSERT_TRUE(inspection.map);
    QGraphicsScene scene;
    mapscene::Stats stats = mapscene::buildMapScene(scene, *inspection.map, analysis->memory());
    EXPECT_EQ(stats.suspects, 1u);
    EXPECT_FALSE(stats.levelOfDetail);
    const quint64 unmapped = plantedDamage("go1.26", "table-unmapped").address;
    bool box = false;
    for (QGraphicsItem* item : scene.items()) {
        if (item->data(mapscene::kRoleKind).toString() != "suspect") continue;
        if (item->data(mapscene::kRoleAddress).toULongLong() != unmapped) continue;
        box = true;
        if (auto* rect = dynamic_cast<QGraphicsRectItem*>(item)) {
            EXPECT_TRUE(rect->toolTip().contains("table-unmapped")) << rect->toolTip().toStdString();
        }
    }
    EXPECT_TRUE(box);
    EXPECT_TRUE(sceneText(scene).contains("unmapped · table-unmapped"));
}

TEST(GuiScene, BigMapsGetLevelOfDetail) {
    auto analysis = gomapcore::Analysis::open(core("go1.26", "table-unmapped").toStdString(),
                                              exe("go1.26").toStdString());
    auto inspection = analysis->inspect("main.manyTables", {});
    ASSERT_TRUE(inspection.map);
    QGraphicsScene detailed, summarised;
    mapscene::Stats full = mapscene::buildMapScene(detailed, *inspection.map, analysis->memory());
    mapscene::Options small;
    small.maxDetailedNodes = 16;
    mapscene::Stats lod = mapscene::buildMapScene(summarised, *inspection.map, analysis->memory(), small);
    EXPECT_TRUE(lod.levelOfDetail);
    EXPECT_GT(lod.summaries, 0u);
    EXPECT_LT(lod.nodesDrawn, full.nodesDrawn);
    // The suspect address survives the summary.
    EXPECT_TRUE(sceneText(summarised).contains(hex(plantedDamage("go1.26", "table-unmapped").address)));
}

// Nothing is mapped: every address a finding names is unmapped.
class NoMemory : public gomapcore::Memory {
  public:
    gomapcore::ReadResult read(std::uint64_t, std::span<std::byte>) const override {
        return {0, gomapcore::AddressState::Unmapped};
    }
    gomapcore::AddressState classify(std::uint64_t) const override {
        return gomapcore::AddressState::Unmapped;
    }
    std::optional<gomapcore::MemoryRegion> regionAt(std::uint64_t) const override { return std::nullopt; }
};

gomapcore::MapNode fullNode(gomapcore::NodeKind kind, std::uint64_t address, std::int64_t index,
                            unsigned live) {
    gomapcore::MapNode node;
    node.kind = kind;
    node.address = address;
    node.index = index;
    node.size = 136;
    node.liveEntries = live;
    node.control.assign(8, 0x80);
    for (unsigned i = 0; i < live; ++i)
        node.control[i] = 0x11;
    return node;
}

// A swiss walk result with a directory of dirLen entries and tables distinct tables of groups
// groups each, every group holding 7 entries.
gomapcore::MapResult swissMap(std::int64_t tables, std::int64_t groups, std::uint64_t dirLen,
                              std::uint64_t globalDepth) {
    gomapcore::MapResult swiss;
    swiss.address = 0x1000;
    swiss.header = {{"used", static_cast<std::uint64_t>(tables * groups * 7)},
                    {"dirPtr", 0x2000},
                    {"dirLen", dirLen},
                    {"globalDepth", globalDepth}};
    gomapcore::MapNode directory;
    directory.kind = gomapcore::NodeKind::Directory;
    directory.address = 0x2000;
    directory.size = dirLen * 8;
    for (std::int64_t t = 0; t < tables; ++t) {
        gomapcore::MapNode table =
            fullNode(gomapcore::NodeKind::Table, 0x100000 + static_cast<std::uint64_t>(t) * 64, t, 0);
        table.control.clear();
        for (std::int64_t g = 0; g < groups; ++g)
            table.children.push_back(fullNode(gomapcore::NodeKind::Group,
                                              0x10000000 + static_cast<std::uint64_t>(t * groups + g) * 136,
                                              g, 7));
        directory.children.push_back(std::move(table));
    }
    swiss.root.children.push_back(std::move(directory));
    return swiss;
}

// Walk results of millions of entries (no core needed): the scene is summaries plus the damaged
// nodes, built in well under the time a person waits.
TEST(GuiScene, MillionsOfEntriesAreSummarised) {
    NoMemory memory;
    // Swiss: 2,400 tables of 128 groups (about 2.1M entries), one group with a bad ctrl byte.
    gomapcore::MapResult swiss = swissMap(2400, 128, 4096, 12);
    gomapcore::MapNode& bad = swiss.root.children[0].children[1234].children[77];
    bad.control[5] = 0x81;
    bad.findings.push_back({"control-bytes-corrupt", gomapcore::Severity::Error, swiss.address,
                            bad.address + 5, "ctrl[5] = 0x81"});
    QElapsedTimer clock;
    clock.start();
    QGraphicsScene swissScene;
    mapscene::Stats stats = mapscene::buildMapScene(swissScene, swiss, memory);
    const qint64 swissMs = clock.elapsed();
    EXPECT_TRUE(stats.levelOfDetail);
    EXPECT_LE(stats.summaries, 80u);
    EXPECT_LT(stats.nodesDrawn, 200u);
    EXPECT_TRUE(sceneText(swissScene).contains(hex(bad.address + 5)));
    EXPECT_GT(redItems(swissScene), 0);

    // Classic: 2^18 buckets (about 2M entries), one with a cycle back to bucket 7.
    gomapcore::MapResult classic;
    classic.address = 0xc000010000;
    classic.header = {{"count", 2'000'000}, {"B", 18}, {"buckets", 0xc100000000}};
    for (std::int64_t b = 0; b < (1 << 18); ++b)
        classic.root.children.push_back(
            fullNode(gomapcore::NodeKind::Bucket, 0xc100000000 + static_cast<std::uint64_t>(b) * 144, b, 8));
    for (auto& bucket : classic.root.children)
        bucket.control.assign(8, 0x33);
    gomapcore::MapNode& looped = classic.root.children[200'000];
    looped.findings.push_back({"overflow-chain-corrupt", gomapcore::Severity::Error, classic.address,
                               classic.root.children[7].address, "a cycle"});
    clock.restart();
    QGraphicsScene classicScene;
    stats = mapscene::buildMapScene(classicScene, classic, memory);
    const qint64 classicMs = clock.elapsed();
    EXPECT_TRUE(stats.levelOfDetail);
    EXPECT_LE(stats.summaries, 300u);
    EXPECT_LT(stats.nodesDrawn, 50u);
    EXPECT_TRUE(sceneText(classicScene).contains(hex(looped.address)));
    if (const QString keep = qEnvironmentVariable("GOMAPCORE_SCREENSHOT_DIR"); !keep.isEmpty()) {
        QString error;
        exportScene(swissScene, keep + "/lod-swiss.png", &error);
        exportScene(classicScene, keep + "/lod-classic.png", &error);
    }
    std::printf("scenes of ~2M entries: swiss %lld ms, classic %lld ms\n", static_cast<long long>(swissMs),
                static_cast<long long>(classicMs));
    EXPECT_LT(swissMs + classicMs, 20000);
}

// ---- Level of detail: a range of a summarised map in detail ------------------------------

// A healthy corpus core opened and one of its maps inspected, as the window's map view does.
struct Inspected {
    std::unique_ptr<gomapcore::Analysis> analysis;
    gomapcore::MapResult map;
};
Inspected inspectHealthy(const std::string& build, const std::string& root) {
    Inspected out{gomapcore::Analysis::open(core(build, "healthy").toStdString(), exe(build).toStdString()),
                  {}};
    auto inspection = out.analysis->inspect(root, {});
    if (!inspection.map) ADD_FAILURE() << build << " " << root << " is a nil map";
    if (inspection.map) out.map = std::move(*inspection.map);
    return out;
}

// The addresses of the buckets, groups and tables drawn one by one.
std::set<quint64> nodeAddresses(QGraphicsScene& scene) {
    std::set<quint64> out;
    for (QGraphicsItem* item : scene.items())
        if (item->data(mapscene::kRoleKind).toString() == "node")
            out.insert(item->data(mapscene::kRoleAddress).toULongLong());
    return out;
}

std::vector<QGraphicsItem*> itemsOfKind(QGraphicsScene& scene, const QString& kind) {
    std::vector<QGraphicsItem*> out;
    for (QGraphicsItem* item : scene.items())
        if (item->data(mapscene::kRoleKind).toString() == kind) out.push_back(item);
    return out;
}

// A classic map's bucket chains by bucket index: each main bucket with its overflow buckets.
std::map<std::int64_t, std::vector<quint64>> chainsByIndex(const gomapcore::MapResult& map) {
    std::map<std::int64_t, std::vector<quint64>> chains;
    std::int64_t current = -1;
    for (const gomapcore::MapNode& node : map.root.children) {
        if (node.kind == gomapcore::NodeKind::Bucket) current = node.index;
        if (node.kind == gomapcore::NodeKind::Bucket || node.kind == gomapcore::NodeKind::OverflowBucket)
            chains[current].push_back(node.address);
    }
    return chains;
}

TEST(GuiScene, AFocusedRangeOfBucketsIsDrawnInDetailAndBounded) {
    // go1.23's main.large: 512 buckets with overflow chains, summarised above 64 boxes.
    const Inspected large = inspectHealthy("go1.23", "main.large");
    const auto chains = chainsByIndex(large.map);
    ASSERT_GT(chains.size(), 256u);
    mapscene::Options options;
    options.maxDetailedNodes = 64;
    QGraphicsScene overview;
    ASSERT_TRUE(
        mapscene::buildMapScene(overview, large.map, large.analysis->memory(), options).levelOfDetail);
    for (const auto& [index, chain] : chains)
        EXPECT_EQ(nodeAddresses(overview).count(chain.front()), 0u) << index;

    // Asked for buckets 100 to the end: drawn from 100 on, as far as 64 boxes go.
    options.focus = {mapscene::Region::Buckets, 100, static_cast<std::int64_t>(chains.size()) - 1};
    QGraphicsScene focused;
    mapscene::Stats stats = mapscene::buildMapScene(focused, large.map, large.analysis->memory(), options);
    std::size_t boxes = 0;
    std::int64_t last = 99;
    for (auto chain = chains.find(100); chain != chains.end() && boxes + chain->second.size() <= 64;
         ++chain) {
        boxes += chain->second.size();
        last = chain->first;
    }
    EXPECT_EQ(stats.focusFirst, 100);
    EXPECT_EQ(stats.focusLast, last);
    EXPECT_EQ(stats.focusNodes, boxes);
    EXPECT_LE(stats.nodesDrawn, 64u + 1u);  // the focused chains and extra
    const std::set<quint64> drawn = nodeAddresses(focused);
    for (const auto& [index, chain] : chains) {
        const bool inFocus = index >= 100 && index <= last;
        for (quint64 address : chain)
            EXPECT_EQ(drawn.count(address), inFocus ? 1u : 0u)
                << "bucket " << index << " " << hex(address).toStdString();
    }
    // The rest stays summarised, around the focused range.
    const std::vector<QGraphicsItem*> summaries = itemsOfKind(focused, "summary");
    EXPECT_GT(summaries.size(), 1u);
    for (QGraphicsItem* summary : summaries) {
        const qlonglong first = summary->data(mapscene::kRoleFirst).toLongLong();
        const qlonglong end = summary->data(mapscene::kRoleLast).toLongLong();
        EXPECT_EQ(summary->data(mapscene::kRoleRegion).toInt(), static_cast<int>(mapscene::Region::Buckets));
        EXPECT_TRUE(end < 100 || first > last) << first << "-" << end;
    }
    EXPECT_EQ(itemsOfKind(focused, "focus").size(), 1u);
    EXPECT_TRUE(focused.sceneRect().contains(stats.focusArea));
    if (const QString keep = qEnvironmentVariable("GOMAPCORE_SCREENSHOT_DIR"); !keep.isEmpty()) {
        QString error;
        exportScene(focused, keep + "/lod-focus-classic.png", &error);
    }
}

TEST(GuiScene, AFocusedTableIsDrawnInDetail) {
    // go1.26's main.large: several tables; above 16 groups each table is one summary.
    const Inspected large = inspectHealthy("go1.26", "main.large");
    const gomapcore::MapNode* directory = nullptr;
    for (const gomapcore::MapNode& child : large.map.root.children)
        if (child.kind == gomapcore::NodeKind::Directory) directory = &child;
    ASSERT_NE(directory, nullptr);
    ASSERT_GE(directory->children.size(), 2u);
    mapscene::Options options;
    options.maxDetailedNodes = directory->children[1].children.size();
    options.focus = {mapscene::Region::Tables, 1, 1};
    QGraphicsScene scene;
    mapscene::Stats stats = mapscene::buildMapScene(scene, large.map, large.analysis->memory(), options);
    EXPECT_TRUE(stats.levelOfDetail);
    EXPECT_EQ(stats.focusFirst, 1);
    EXPECT_EQ(stats.focusLast, 1);
    const std::set<quint64> drawn = nodeAddresses(scene);
    for (std::size_t t = 0; t < directory->children.size(); ++t)
        for (const gomapcore::MapNode& group : directory->children[t].children)
            EXPECT_EQ(drawn.count(group.address), t == 1 ? 1u : 0u) << "table " << t;
    // Every other table is a summary that stands for itself.
    std::set<qlonglong> summarised;
    for (QGraphicsItem* summary : itemsOfKind(scene, "summary"))
        summarised.insert(summary->data(mapscene::kRoleFirst).toLongLong());
    EXPECT_EQ(summarised.size(), directory->children.size() - 1);
    EXPECT_EQ(summarised.count(1), 0u);
    if (const QString keep = qEnvironmentVariable("GOMAPCORE_SCREENSHOT_DIR"); !keep.isEmpty()) {
        QString error;
        exportScene(scene, keep + "/lod-focus-swiss.png", &error);
    }
}

// The window: double-clicking a summary draws its range in detail, Whole map goes back, and
// zooming into a summary does what the double click does.
TEST(GuiWindow, DoubleClickingOrZoomingIntoASummaryShowsItsBuckets) {
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    window.mapView()->setMaxDetailedNodes(64);
    ASSERT_TRUE(window.openCore(core("go1.23", "healthy"), exe("go1.23")));
    ASSERT_TRUE(window.mapView()->waitIdle(60000));
    ASSERT_TRUE(window.selectMap(mapNamed(*window.report(), "main.large")));
    ASSERT_TRUE(window.mapView()->waitIdle(60000));
    MapView* mapView = window.mapView();
    ASSERT_TRUE(mapView->stats().levelOfDetail);
    auto* wholeMap = mapView->findChild<QToolButton*>("wholeMap");
    ASSERT_NE(wholeMap, nullptr);
    EXPECT_FALSE(wholeMap->isEnabled());
    std::vector<QGraphicsItem*> summaries = itemsOfKind(*mapView->scene(), "summary");
    ASSERT_GT(summaries.size(), 3u);
    QGraphicsItem* target = summaries[summaries.size() / 2];
    const qlonglong first = target->data(mapscene::kRoleFirst).toLongLong();
    ZoomableView* view = mapView->view();
    QApplication::processEvents();
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {},
                       view->mapFromScene(target->sceneBoundingRect().center()));
    ASSERT_TRUE(mapView->waitIdle(60000));
    EXPECT_EQ(mapView->focus().region, mapscene::Region::Buckets);
    EXPECT_EQ(mapView->focus().first, first);
    EXPECT_EQ(mapView->stats().focusFirst, first);
    EXPECT_LE(mapView->stats().focusNodes, 64u);
    EXPECT_TRUE(wholeMap->isEnabled());
    const auto chains = chainsByIndex(inspectHealthy("go1.23", "main.large").map);
    const quint64 firstBucket = chains.at(first).front();
    EXPECT_EQ(nodeAddresses(*mapView->scene()).count(firstBucket), 1u);
    // The decoded entries are those of the buckets drawn.
    const QString bucketLine = QString("bucket #%1 %2").arg(first).arg(hex(firstBucket));
    EXPECT_TRUE(mapView->detail()->toPlainText().contains(bucketLine));
    EXPECT_FALSE(
        mapView->detail()->toPlainText().contains(QString("bucket #0 %1").arg(hex(chains.at(0).front()))));
    // The focused range is in view.
    EXPECT_TRUE(
        view->mapToScene(view->viewport()->rect()).boundingRect().intersects(mapView->stats().focusArea));

    QTest::mouseClick(wholeMap, Qt::LeftButton);
    ASSERT_TRUE(mapView->waitIdle(60000));
    EXPECT_EQ(mapView->focus().region, mapscene::Region::None);
    EXPECT_EQ(nodeAddresses(*mapView->scene()).count(firstBucket), 0u);
    EXPECT_FALSE(mapView->detail()->toPlainText().contains(bucketLine));
    EXPECT_FALSE(wholeMap->isEnabled());

    // Zooming in on a summary until it fills half the view.
    summaries = itemsOfKind(*mapView->scene(), "summary");
    target = summaries.front();
    const qlonglong zoomedFirst = target->data(mapscene::kRoleFirst).toLongLong();
    view->centerOn(target);
    for (int step = 0; step < 40 && !mapView->building() && mapView->focus().region == mapscene::Region::None;
         ++step) {
        view->zoomBy(1.25);
        view->centerOn(target);
    }
    ASSERT_TRUE(mapView->waitIdle(60000));
    EXPECT_EQ(mapView->focus().region, mapscene::Region::Buckets);
    EXPECT_EQ(mapView->focus().first, zoomedFirst);

    // Backspace in the view goes back to the whole map too.
    window.activateWindow();
    ASSERT_TRUE(QTest::qWaitForWindowActive(&window));
    view->setFocus();
    QTest::keyClick(view, Qt::Key_Backspace);
    ASSERT_TRUE(mapView->waitIdle(60000));
    EXPECT_EQ(mapView->focus().region, mapscene::Region::None);
}

// ---- extra's overflow lists -------------------------------------------------------------------

TEST(GuiScene, ExtrasOverflowListIsDrawnBesideTheHeader) {
    const Inspected large = inspectHealthy("go1.23", "main.large");
    const gomapcore::MapNode* list = nullptr;
    for (const gomapcore::MapNode& child : large.map.root.children)
        if (child.kind == gomapcore::NodeKind::Extra)
            for (const gomapcore::MapNode& held : child.children)
                if (held.kind == gomapcore::NodeKind::OverflowList) list = &held;
    ASSERT_NE(list, nullptr);
    ASSERT_FALSE(list->children.empty());
    QGraphicsScene scene;
    mapscene::buildMapScene(scene, large.map, large.analysis->memory());
    // One box per list extra holds (and one for nextOverflow, when set).
    std::vector<QGraphicsItem*> boxes;
    for (QGraphicsItem* box : itemsOfKind(scene, "extra-list"))
        if (box->data(mapscene::kRoleNode).toULongLong() == list->address) boxes.push_back(box);
    ASSERT_EQ(boxes.size(), 1u);
    std::set<quint64> listed;
    for (QGraphicsItem* entry : itemsOfKind(scene, "listed"))
        listed.insert(entry->data(mapscene::kRoleNode).toULongLong());
    const std::size_t shown = std::min<std::size_t>(list->children.size(), 24);
    EXPECT_EQ(listed.size(), shown);
    for (std::size_t i = 0; i < shown; ++i)
        EXPECT_EQ(listed.count(list->children[i].address), 1u) << i;
    const QString texts = sceneText(scene);
    EXPECT_TRUE(texts.contains(QString("extra.overflow → %1").arg(hex(list->address))));
    EXPECT_TRUE(texts.contains(QString("%1 buckets").arg(list->children.size())));
    // Beside the header, above the buckets.
    const QRectF header = itemsOfKind(scene, "header").front()->sceneBoundingRect();
    EXPECT_LT(boxes[0]->sceneBoundingRect().top(), header.bottom());
    EXPECT_GT(boxes[0]->sceneBoundingRect().left(), header.right());
    if (const QString keep = qEnvironmentVariable("GOMAPCORE_SCREENSHOT_DIR"); !keep.isEmpty()) {
        QString error;
        exportScene(scene, keep + "/extra-lists.png", &error);
    }
}

// ---- Drag and drop, recent files, saved window state, keyboard ------------------------------

// Points QSettings at a fresh folder and organisation for one test, and back when it ends: the
// user's settings, and the other tests', are never touched.
class ScopedSettings {
  public:
    ScopedSettings() : organisation_(QApplication::organizationName()) {
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, dir_.path());
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, dir_.path());
        QApplication::setOrganizationName("gomapcore-gui-test");
        QSettings().clear();
    }
    ~ScopedSettings() { QApplication::setOrganizationName(organisation_); }
    QString folder() const { return dir_.path(); }

  private:
    QTemporaryDir dir_;
    QString organisation_;
};

void drop(QWidget& target, const QList<QUrl>& urls) {
    auto* data = new QMimeData;  // owned by the drag: deleted below
    data->setUrls(urls);
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, data, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&target, &enter);
    EXPECT_TRUE(enter.isAccepted());
    QDropEvent event(QPointF(10, 10), Qt::CopyAction, data, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&target, &event);
    EXPECT_TRUE(event.isAccepted());
    delete data;
}

TEST(GuiWindow, DroppingACoreOpensIt) {
    ScopedSettings settings;
    MainWindow window;
    // Text is no file to open.
    auto* text = new QMimeData;
    text->setText("not a file");
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, text, Qt::LeftButton, Qt::NoModifier);
    enter.ignore();
    QApplication::sendEvent(&window, &enter);
    EXPECT_FALSE(enter.isAccepted());
    delete text;

    // The core and its executable, the executable first: the core is told by its name.
    drop(window, {QUrl::fromLocalFile(exe("go1.23")), QUrl::fromLocalFile(core("go1.23", "overflow-cycle"))});
    EXPECT_TRUE(window.analysisRunning());
    ASSERT_TRUE(window.waitForAnalysis());
    ASSERT_NE(window.report(), nullptr) << window.lastError().toStdString();
    EXPECT_TRUE(window.windowTitle().contains(core("go1.23", "overflow-cycle")));
    const PlantedDamage planted = plantedDamage("go1.23", "overflow-cycle");
    EXPECT_GE(window.mapModel()->rowOfAddress(planted.map), 0);
}

QStringList recentMenuEntries(MainWindow& window) {
    QStringList entries;
    auto* menu = window.findChild<QMenu*>("recentMenu");
    if (menu == nullptr) return {"no recent menu"};
    for (QAction* action : menu->actions())
        entries << action->text();
    return entries;
}

TEST(GuiWindow, RecentFilesAreMostRecentFirstAndBounded) {
    ScopedSettings settings;
    {
        // Nine entries (of another version, say); the menu shows the eight the window keeps.
        QStringList earlier;
        for (int i = 0; i < 9; ++i)
            earlier << QString("/earlier/core.%1").arg(i);
        QSettings().setValue("recent/files", earlier);
    }
    MainWindow window;
    QStringList entries = recentMenuEntries(window);
    ASSERT_EQ(entries.size(), 8) << entries.join(" | ").toStdString();
    EXPECT_EQ(entries[0], "/earlier/core.0");
    ASSERT_TRUE(window.openCore(core("go1.23", "healthy"), exe("go1.23")));
    ASSERT_TRUE(window.openCore(core("go1.26", "healthy"), exe("go1.26")));
    entries = recentMenuEntries(window);
    ASSERT_EQ(entries.size(), 8);
    EXPECT_TRUE(entries[0].startsWith(core("go1.26", "healthy"))) << entries[0].toStdString();
    EXPECT_TRUE(entries[1].startsWith(core("go1.23", "healthy"))) << entries[1].toStdString();
    EXPECT_EQ(entries[2], "/earlier/core.0");
    // Opening one again moves it to the top, once.
    ASSERT_TRUE(window.openCore(core("go1.23", "healthy"), exe("go1.23")));
    entries = recentMenuEntries(window);
    EXPECT_EQ(entries.size(), 8);
    EXPECT_TRUE(entries[0].startsWith(core("go1.23", "healthy")));
    EXPECT_EQ(entries.filter(core("go1.23", "healthy")).size(), 1);

    // A new window (a new run) lists the same; choosing an entry opens that core with its executable.
    MainWindow next;
    EXPECT_EQ(recentMenuEntries(next), entries);
    next.findChild<QMenu*>("recentMenu")->actions().at(1)->trigger();
    ASSERT_TRUE(next.waitForAnalysis());
    ASSERT_NE(next.report(), nullptr) << next.lastError().toStdString();
    EXPECT_EQ(QString::fromStdString(next.report()->target.goVersion).startsWith("go1.26"), true)
        << next.report()->target.goVersion;
}

TEST(GuiWindow, WindowStateAndSplittersAreRestoredInTheNextRun) {
    ScopedSettings settings;
    QList<int> sizes;
    {
        MainWindow window;
        window.resize(1300, 880);
        window.show();
        QApplication::processEvents();
        auto* splitter = window.findChild<QSplitter*>("mainSplitter");
        ASSERT_NE(splitter, nullptr);
        const int total = splitter->sizes().value(0) + splitter->sizes().value(1);
        splitter->setSizes({total / 5, total - total / 5});
        sizes = splitter->sizes();
        auto* findings = window.findChild<QDockWidget*>("findingsDock");
        window.addDockWidget(Qt::RightDockWidgetArea, findings);
        window.findChild<QDockWidget*>("memoryDock")->hide();
        window.close();
    }
    MainWindow window;
    window.show();
    QApplication::processEvents();
    EXPECT_EQ(window.size(), QSize(1300, 880));
    EXPECT_EQ(window.dockWidgetArea(window.findChild<QDockWidget*>("findingsDock")), Qt::RightDockWidgetArea);
    EXPECT_FALSE(window.findChild<QDockWidget*>("memoryDock")->isVisible());
    EXPECT_EQ(window.findChild<QSplitter*>("mainSplitter")->sizes(), sizes);
}

TEST(GuiWindow, TheKeyboardMovesThroughTheMapsAndFocusesTheFilter) {
    ScopedSettings settings;
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    window.activateWindow();
    ASSERT_TRUE(QTest::qWaitForWindowActive(&window));
    ASSERT_TRUE(window.openCore(core("go1.23", "healthy"), exe("go1.23")));
    ASSERT_TRUE(window.mapView()->waitIdle(60000));
    QTableView* table = window.mapTable();
    table->setFocus();
    table->selectRow(0);
    ASSERT_TRUE(window.mapView()->waitIdle(60000));
    QSignalSpy shown(window.mapView(), &MapView::sceneReady);
    QTest::keyClick(table, Qt::Key_Down);
    EXPECT_EQ(table->currentIndex().row(), 1);
    ASSERT_TRUE(window.mapView()->waitIdle(60000));
    ASSERT_EQ(shown.size(), 1);
    EXPECT_EQ(shown.at(0).at(0).toULongLong(),
              table->currentIndex().data(MapTableModel::AddressRole).toULongLong());
    QTest::keyClick(table, Qt::Key_End, Qt::ControlModifier);
    EXPECT_EQ(table->currentIndex().row(), window.mapProxy()->rowCount() - 1);
    ASSERT_TRUE(window.mapView()->waitIdle(60000));

    // Ctrl+F (the platform's Find) goes to the filter box; typing filters.
    auto* filter = window.findChild<QLineEdit*>("mapFilter");
    ASSERT_NE(filter, nullptr);
    EXPECT_FALSE(filter->hasFocus());
    QTest::keySequence(&window, QKeySequence::Find);
    EXPECT_TRUE(filter->hasFocus());
    QTest::keyClicks(filter, "main.large");
    EXPECT_EQ(window.mapProxy()->rowCount(), 1);

    // In the map view, + zooms in and 0 fits the whole map again.
    ZoomableView* view = window.mapView()->view();
    view->setFocus();
    QTest::keyClick(view, Qt::Key_0);
    const qreal fitted = view->transform().m11();
    QTest::keyClick(view, Qt::Key_Plus);
    EXPECT_GT(view->transform().m11(), fitted * 1.2);
    QTest::keyClick(view, Qt::Key_0);
    EXPECT_NEAR(view->transform().m11(), fitted, fitted * 0.01);
}

// Very many tables are summarised in ranges of tables; a focus draws the tables it covers whole,
// as many as the box budget allows, even when no table has a finding.
TEST(GuiScene, AFocusedRangeOfManyTablesIsDrawnInDetail) {
    NoMemory memory;
    const gomapcore::MapResult swiss = swissMap(100, 8, 128, 7);
    const gomapcore::MapNode& directory = swiss.root.children[0];
    mapscene::Options options;
    options.maxDetailedNodes = 64;
    QGraphicsScene overview;
    const mapscene::Stats whole = mapscene::buildMapScene(overview, swiss, memory, options);
    EXPECT_TRUE(whole.levelOfDetail);
    EXPECT_GT(whole.summaries, 0u);
    EXPECT_TRUE(nodeAddresses(overview).count(directory.children[10].children[0].address) == 0);
    options.focus = {mapscene::Region::Tables, 10, 30};
    QGraphicsScene scene;
    const mapscene::Stats stats = mapscene::buildMapScene(scene, swiss, memory, options);
    EXPECT_EQ(stats.focusFirst, 10);
    EXPECT_EQ(stats.focusLast, 17);  // 8 tables of 8 groups fill the 64 boxes
    const std::set<quint64> drawn = nodeAddresses(scene);
    for (std::size_t t = 0; t < directory.children.size(); ++t)
        for (const gomapcore::MapNode& group : directory.children[t].children)
            EXPECT_EQ(drawn.count(group.address), t >= 10 && t <= 17 ? 1u : 0u) << "table " << t;
    for (QGraphicsItem* summary : itemsOfKind(scene, "summary")) {
        const qlonglong first = summary->data(mapscene::kRoleFirst).toLongLong();
        const qlonglong last = summary->data(mapscene::kRoleLast).toLongLong();
        EXPECT_TRUE(last < 10 || first > 17) << first << "-" << last;
    }
}

// ---- --render-map ---------------------------------------------------------------------------

struct RenderResult {
    int exitCode;
    QString stderrText;
};

RenderResult render(const QStringList& arguments) {
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("QT_QPA_PLATFORM");  // --render-map needs no display of its own
    env.remove("DISPLAY");
    process.setProcessEnvironment(env);
    process.start(GOMAPCORE_GUI_EXECUTABLE, arguments);
    if (!process.waitForFinished(120000)) return {-1, "timeout"};
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            QString::fromUtf8(process.readAllStandardError())};
}

TEST(GuiRenderMap, WritesPngAndSvgForClassicAndSwiss) {
    QTemporaryDir tmp;
    // The map named by its root on go1.23 and by its address on go1.26.
    struct Case {
        const char* build;
        const char* scenario;
        bool byRoot;
    } cases[] = {{"go1.23", "buckets-unmapped", true}, {"go1.26", "table-unmapped", false}};
    for (const Case& c : cases) {
        const PlantedDamage planted = plantedDamage(c.build, c.scenario);
        const QString map =
            c.byRoot ? QString::fromStdString(
                           corpusCase(c.build, c.scenario).records("damage").at(0)["root"].get<std::string>())
                     : hex(planted.map);
        const QString png = tmp.filePath(QString("%1.png").arg(c.build));
        const QString svg = tmp.filePath(QString("%1.svg").arg(c.build));
        for (const QString& out : {png, svg}) {
            RenderResult r = render(
                {core(c.build, c.scenario), "--exe", exe(c.build), "--render-map", map, "--output", out});
            ASSERT_EQ(r.exitCode, 0) << r.stderrText.toStdString();
        }
        QImage image(png);
        ASSERT_FALSE(image.isNull());
        EXPECT_GT(distinctColours(image), 20) << c.build;
        QFile file(svg);
        ASSERT_TRUE(file.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(file.readAll());
        EXPECT_TRUE(text.contains("<svg"));
        EXPECT_TRUE(text.contains(hex(planted.address))) << c.build;
    }
}

TEST(GuiRenderMap, FailuresExitTwoWithOneLine) {
    QTemporaryDir tmp;
    const QStringList base = {core("go1.23", "healthy"), "--exe", exe("go1.23")};
    for (const QStringList& extra :
         {QStringList{"--render-map", "main.noSuchMap", "--output", tmp.filePath("x.png")},
          QStringList{"--render-map", "main.users", "--output", tmp.filePath("x.gif")},
          QStringList{"--render-map", "main.users"}}) {
        RenderResult r = render(base + extra);
        EXPECT_EQ(r.exitCode, 2) << extra.join(' ').toStdString();
        EXPECT_EQ(r.stderrText.count('\n'), 1) << r.stderrText.toStdString();
        EXPECT_TRUE(r.stderrText.startsWith("gomapcore-gui: ")) << r.stderrText.toStdString();
    }
    RenderResult r =
        render({"/nonexistent.core", "--render-map", "main.users", "--output", tmp.filePath("x.svg")});
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_EQ(r.stderrText.count('\n'), 1) << r.stderrText.toStdString();
}

// ---- Screenshot -----------------------------------------------------------------------------

// Renders the main window on a damaged core and checks the picture is not trivial. With
// GOMAPCORE_SCREENSHOT_DIR set, keeps the pictures there (docs/ screenshots come from here).
TEST(GuiScreenshot, MainWindowOnDamagedCores) {
    const QString keep = qEnvironmentVariable("GOMAPCORE_SCREENSHOT_DIR");
    for (const char* build : {"go1.23", "go1.26"}) {
        const char* scenario = std::string(build) == "go1.23" ? "overflow-cycle" : "table-unmapped";
        MainWindow window;
        window.resize(1400, 900);
        window.show();
        ASSERT_TRUE(window.openCore(core(build, scenario), exe(build))) << window.lastError().toStdString();
        ASSERT_TRUE(window.mapView()->waitIdle(60000));
        ASSERT_NE(window.mapView()->scene(), nullptr);
        QApplication::processEvents();
        QImage shot = window.grab().toImage();
        EXPECT_GT(distinctColours(shot), 60) << build;
        if (!keep.isEmpty()) {
            shot.save(QString("%1/main-window-%2-%3.png").arg(keep, build, scenario));
            QString error;
            window.mapView()->exportTo(QString("%1/map-view-%2-%3.png").arg(keep, build, scenario), &error);
        }
    }
}

// The window with the map memory dock raised and tall, its largest map clicked. With
// GOMAPCORE_SCREENSHOT_DIR set, keeps the picture there (docs/gui-map-memory.png comes from here).
TEST(GuiScreenshot, MainWindowWithTheMapMemoryDock) {
    const QString keep = qEnvironmentVariable("GOMAPCORE_SCREENSHOT_DIR");
    for (const char* build : {"go1.23", "go1.26"}) {
        MainWindow window;
        window.resize(1400, 900);
        window.show();
        ASSERT_TRUE(window.openCore(core(build, "healthy"), exe(build))) << window.lastError().toStdString();
        auto* dock = window.findChild<QDockWidget*>("mapMemoryDock");
        ASSERT_NE(dock, nullptr);
        EXPECT_EQ(dock->windowTitle(), "Map memory");
        EXPECT_NE(window.findChild<QDockWidget*>("memoryDock"), nullptr);  // the mappings and hex dock stays
        window.resizeDocks({dock}, {360}, Qt::Vertical);
        clickBar(window, 0);
        ASSERT_TRUE(window.mapView()->waitIdle(60000));
        QApplication::processEvents();
        EXPECT_TRUE(window.mapMemoryView()->isVisible());
        EXPECT_GE(window.mapMemoryView()->bars()->height(), 200) << build;
        QImage shot = window.grab().toImage();
        EXPECT_GT(distinctColours(shot), 60) << build;
        if (!keep.isEmpty()) shot.save(QString("%1/main-window-map-memory-%2-healthy.png").arg(keep, build));
    }
}

// The window on a concurrent-writes core with the goroutines dock raised: the crash's goroutines
// and the crash map's holders marked. With GOMAPCORE_SCREENSHOT_DIR set, keeps the picture there
// (docs/gui-goroutines-marked.png comes from here).
TEST(GuiScreenshot, MainWindowWithTheGoroutinesMarked) {
    const QString keep = qEnvironmentVariable("GOMAPCORE_SCREENSHOT_DIR");
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    ASSERT_TRUE(window.openCore(core("go1.26", "concurrent-writes"), exe("go1.26")))
        << window.lastError().toStdString();
    auto* dock = window.findChild<QDockWidget*>("goroutinesDock");
    ASSERT_NE(dock, nullptr);
    dock->raise();
    window.resizeDocks({dock}, {360}, Qt::Vertical);
    ASSERT_TRUE(window.mapView()->waitIdle(60000));
    ASSERT_TRUE(window.showGoroutine(*window.report()->crash->goroutine));
    QApplication::processEvents();
    QImage shot = window.grab().toImage();
    EXPECT_GT(distinctColours(shot), 60);
    if (!keep.isEmpty())
        shot.save(QString("%1/main-window-goroutines-go1.26-concurrent-writes.png").arg(keep));
}

// ---- Report export --------------------------------------------------------------------------

// The healthy sample keeps sessions keyed by "eu"/"us" and panics with "healthy: done": what
// --redact must keep out of every export.
const QRegularExpression kSecrets(R"(sessions\[[^<]|healthy: done)");

QString readAll(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    return QString::fromUtf8(file.readAll());
}

bool rootsMatch(const MainWindow& window, const QRegularExpression& pattern) {
    for (int row = 0; row < window.mapModel()->rowCount(); ++row)
        if (window.mapModel()->index(row, MapTableModel::Root).data().toString().contains(pattern))
            return true;
    return false;
}

TEST(GuiExport, ExportsTheReportAsJsonAndText) {
    MainWindow window;
    ASSERT_TRUE(window.openCore(core("go1.26", "healthy"), exe("go1.26")));
    QTemporaryDir tmp;
    ASSERT_TRUE(window.exportReport(tmp.filePath("report.json"), false)) << window.lastError().toStdString();
    ASSERT_TRUE(window.exportReport(tmp.filePath("report.txt"), false)) << window.lastError().toStdString();
    QString json = readAll(tmp.filePath("report.json"));
    EXPECT_TRUE(json.contains(R"("schema": "gomapcore/report-v1")"));
    EXPECT_TRUE(json.contains(kSecrets));  // unredacted: the pattern below can match
    EXPECT_TRUE(readAll(tmp.filePath("report.txt")).startsWith("gomapcore "));
}

TEST(GuiExport, RedactedExportOfAnUnredactedWindowLeaksNothing) {
    MainWindow window;
    ASSERT_TRUE(window.openCore(core("go1.26", "healthy"), exe("go1.26")));
    QTemporaryDir tmp;
    ASSERT_TRUE(window.exportReport(tmp.filePath("redacted.json"), true)) << window.lastError().toStdString();
    QString json = readAll(tmp.filePath("redacted.json"));
    EXPECT_TRUE(json.contains("sessions[<string, 2 bytes>]"));
    EXPECT_FALSE(json.contains(kSecrets)) << kSecrets.match(json).captured(0).toStdString();
    // The window itself still shows what it was opened with.
    EXPECT_TRUE(rootsMatch(window, kSecrets));
}

TEST(GuiExport, RedactedWindowShowsAndExportsNoKeys) {
    MainWindow window;
    ASSERT_TRUE(window.openCore(core("go1.26", "healthy"), exe("go1.26"), /*redact=*/true));
    EXPECT_FALSE(rootsMatch(window, kSecrets));
    EXPECT_TRUE(rootsMatch(window, QRegularExpression(R"(sessions\[<string, 2 bytes>\])")));
    EXPECT_FALSE(window.crashPanel()->text().contains("healthy: done"));
    // Nor does the structure view's entry panel.
    for (int row = 0; row < window.mapModel()->rowCount(); ++row) {
        if (!window.mapModel()->index(row, MapTableModel::Root).data().toString().contains("sessions"))
            continue;
        ASSERT_TRUE(window.selectMap(
            window.mapModel()->index(row, 0).data(MapTableModel::AddressRole).toULongLong()));
        ASSERT_TRUE(window.mapView()->waitIdle(60000));
        const QString detail = window.mapView()->detail()->toPlainText();
        EXPECT_TRUE(detail.contains("<string, 2 bytes>")) << detail.toStdString();
        EXPECT_FALSE(detail.contains("\"eu\"") || detail.contains("\"us\"")) << detail.toStdString();
        break;
    }
    QTemporaryDir tmp;
    // Even an export that does not ask for redaction stays redacted.
    ASSERT_TRUE(window.exportReport(tmp.filePath("report.txt"), false));
    QString text = readAll(tmp.filePath("report.txt"));
    EXPECT_FALSE(text.isEmpty());
    EXPECT_FALSE(text.contains(kSecrets));
}

TEST(GuiExport, NothingToExportBeforeACoreIsOpen) {
    MainWindow window;
    QTemporaryDir tmp;
    EXPECT_FALSE(window.exportReport(tmp.filePath("report.json"), false));
    EXPECT_EQ(window.lastError(), "no core is open");
    // Both exports are in the File menu.
    EXPECT_NE(window.findChild<QAction*>("exportReport"), nullptr);
    EXPECT_NE(window.findChild<QAction*>("exportRedactedReport"), nullptr);
}

}  // namespace

int main(int argc, char** argv) {
    QStandardPaths::setTestModeEnabled(true);  // recent files and window state stay out of ~/.config
    QApplication app(argc, argv);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
