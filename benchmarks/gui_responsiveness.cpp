// How the real window behaves on a big core (docs/performance.md, "GUI"), for
// scripts/gui-responsiveness.sh: opens CORE in MainWindow on the offscreen platform and prints
// when the crash panel and the maps table were filled, the longest time the GUI thread did not
// get back to its event loop (a 10 ms timer's longest gap between two ticks) while the analysis
// ran and while MAP's structure was built and shown, and how long that took, with the level of
// detail and then with one summary's range in detail. Not a test: nothing here asserts a time.
//
// usage: gui_responsiveness CORE EXE [MAP]   (MAP: a root name, main.huge by default)
#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QGraphicsItem>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <cstdio>
#include <functional>
#include <string>

#include "main_window.h"

namespace {

// The longest gap between two ticks of a 10 ms timer on the GUI thread, and the stage it ended in
// (with what the window's status bar said then: the analysis's phase).
class StallMeter : public QObject {
  public:
    StallMeter(const QElapsedTimer& clock, const QStatusBar& status) : clock_(clock), status_(status) {
        timer_.setInterval(10);
        timer_.setTimerType(Qt::PreciseTimer);
        connect(&timer_, &QTimer::timeout, this, [this] { tick(); });
    }
    void start(const char* stage) {
        stage_ = stage;
        longest_ = 0;
        last_ = clock_.elapsed();
        timer_.start();
    }
    void setStage(const char* stage) { stage_ = stage; }
    qint64 longest() const { return longest_; }
    std::string longestStage() const { return longestStage_; }
    qint64 longestEndedAt() const { return longestEndedAt_; }

  private:
    void tick() {
        const qint64 now = clock_.elapsed();
        if (now - last_ > longest_) {
            longest_ = now - last_;
            longestStage_ = std::string(stage_) + "; status bar: " + status_.currentMessage().toStdString();
            longestEndedAt_ = now;
        }
        last_ = now;
    }

    const QElapsedTimer& clock_;
    const QStatusBar& status_;
    QTimer timer_;
    const char* stage_ = "";
    std::string longestStage_;
    qint64 last_ = 0, longest_ = 0, longestEndedAt_ = 0;
};

// Runs the event loop until done() holds (checked every 5 ms, sleeping in between: a loop that
// polled without sleeping would take a core from the analysis it measures); false on timeout.
bool waitFor(const std::function<bool()>& done, int timeoutMs) {
    QEventLoop loop;
    QElapsedTimer waited;
    waited.start();
    QTimer check;
    QObject::connect(&check, &QTimer::timeout, &loop, [&] {
        if (done() || waited.elapsed() > timeoutMs) loop.quit();
    });
    check.start(5);
    if (!done()) loop.exec();
    return done();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: gui_responsiveness CORE EXE [MAP]\n");
        return 2;
    }
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QStandardPaths::setTestModeEnabled(true);  // recent files and window state stay out of ~/.config
    QApplication app(argc, argv);
    const QString core = QString::fromLocal8Bit(argv[1]), exe = QString::fromLocal8Bit(argv[2]);
    const std::string mapName = argc > 3 ? argv[3] : "main.huge";
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    QApplication::processEvents();

    QElapsedTimer clock;
    clock.start();
    StallMeter meter(clock, *window.statusBar());
    qint64 tableFilled = -1, crashFilled = -1;
    QObject::connect(window.mapModel(), &QAbstractItemModel::modelReset, [&] {
        if (window.mapModel()->rowCount() > 0 && tableFilled < 0) {
            tableFilled = clock.elapsed();
            meter.setStage("showing the report");
        }
    });
    meter.start("analysis");
    window.startOpen(core, exe);
    // The crash panel says "Analyzing …" until the crash is explained (before the search for maps,
    // or with the report): seen here within 5 ms of the change.
    const QString analyzing = window.crashPanel()->text();
    if (!waitFor(
            [&] {
                if (crashFilled < 0 && window.crashPanel()->text() != analyzing)
                    crashFilled = clock.elapsed();
                return !window.analysisRunning() && window.report() != nullptr;
            },
            3600 * 1000)) {
        std::fprintf(stderr, "gui_responsiveness: the analysis did not finish: %s\n",
                     window.lastError().toUtf8().constData());
        return 1;
    }
    QApplication::processEvents();
    std::printf("crash panel filled: %.2f s\n", crashFilled / 1000.0);
    std::printf("maps table filled: %.2f s (%d rows)\n", tableFilled / 1000.0, window.mapModel()->rowCount());
    std::printf(
        "longest GUI-thread gap while analyzing and showing the report: %lld ms (%s, ending at %.2f s)\n",
        static_cast<long long>(meter.longest()), meter.longestStage().c_str(),
        meter.longestEndedAt() / 1000.0);

    // The map's structure, as a person selecting it in the table sees it.
    quint64 address = 0;
    for (const gomapcore::MapResult& map : window.report()->maps)
        for (const std::string& root : map.roots)
            if (root == mapName) address = map.address;
    if (address == 0) {
        std::fprintf(stderr, "gui_responsiveness: no map %s in the report\n", mapName.c_str());
        return 1;
    }
    MapView* view = window.mapView();
    view->waitIdle(600000);
    meter.start("building the map's scene");
    qint64 started = clock.elapsed();
    window.selectMap(address);
    if (!waitFor([&] { return !view->building(); }, 3600 * 1000)) return 1;
    QApplication::processEvents();
    qint64 built = clock.elapsed() - started;
    QElapsedTimer paint;
    paint.start();
    view->view()->viewport()->repaint();
    const qint64 painted = paint.elapsed();
    const mapscene::Stats whole = view->stats();
    std::printf(
        "%s scene: built and shown in %.2f s (%zu boxes, %zu summaries, level of detail %s), "
        "first paint %lld ms; longest GUI-thread gap %lld ms (%s)\n",
        mapName.c_str(), built / 1000.0, whole.nodesDrawn, whole.summaries,
        whole.levelOfDetail ? "on" : "off", static_cast<long long>(painted),
        static_cast<long long>(meter.longest()), meter.longestStage().c_str());

    // One summary's range in detail (what a double click asks for), from the structure already read.
    QGraphicsItem* summary = nullptr;
    for (QGraphicsItem* item : view->scene()->items())
        if (item->data(mapscene::kRoleKind).toString() == "summary") summary = item;
    if (summary == nullptr) return 0;
    meter.start("drawing a range in detail");
    started = clock.elapsed();
    view->showRange({static_cast<mapscene::Region>(summary->data(mapscene::kRoleRegion).toInt()),
                     summary->data(mapscene::kRoleFirst).toLongLong(),
                     summary->data(mapscene::kRoleLast).toLongLong()});
    if (!waitFor([&] { return !view->building(); }, 3600 * 1000)) return 1;
    QApplication::processEvents();
    built = clock.elapsed() - started;
    paint.restart();
    view->view()->viewport()->repaint();
    std::printf(
        "a summary's range in detail: shown in %.2f s (%lld–%lld, %zu boxes), first paint %lld ms; "
        "longest GUI-thread gap %lld ms\n",
        built / 1000.0, static_cast<long long>(view->stats().focusFirst),
        static_cast<long long>(view->stats().focusLast), view->stats().focusNodes,
        static_cast<long long>(paint.elapsed()), static_cast<long long>(meter.longest()));
    return 0;
}
