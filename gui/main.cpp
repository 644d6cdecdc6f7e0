// gomapcore-gui [CORE [--exe EXE]]: the desktop front end.
// gomapcore-gui CORE --exe EXE --render-map ADDRESS|NAME --output FILE.svg|FILE.png renders that
// map's structure view without a display and exits (0, or 2 with one line).
#include <QApplication>
#include <QCommandLineParser>
#include <QGraphicsScene>
#include <cstdio>
#include <cstring>
#include <exception>

#include "gomapcore/analysis.h"
#include "gomapcore/error.h"
#include "main_window.h"
#include "map_scene.h"
#include "scene_export.h"

namespace {

int fail(const QString& message) {
    std::fprintf(stderr, "gomapcore-gui: %s\n", message.simplified().toUtf8().constData());
    return 2;
}

// Rendering prints one line of its own on failure and nothing else: Qt's own chatter (a
// missing XDG_RUNTIME_DIR, font lookups) is dropped.
void quietMessages(QtMsgType, const QMessageLogContext&, const QString&) {}

int renderMap(const QString& core, const QString& exe, const QString& map, const QString& output) {
    if (!output.endsWith(".svg", Qt::CaseInsensitive) && !output.endsWith(".png", Qt::CaseInsensitive))
        return fail(QString("--output %1: give a file ending in .svg or .png").arg(output));
    try {
        auto analysis = gomapcore::Analysis::open(core.toStdString(), exe.toStdString());
        gomapcore::MapInspection inspection = analysis->inspect(map.toStdString(), {});
        if (!inspection.map) return fail(QString("%1 is a nil map: it has no structure to draw").arg(map));
        QGraphicsScene scene;
        mapscene::buildMapScene(scene, *inspection.map, analysis->memory());
        QString error;
        if (!exportScene(scene, output, &error)) return fail(error);
        return 0;
    } catch (const std::exception& e) {
        return fail(QString::fromUtf8(e.what()));
    }
}

}  // namespace

int main(int argc, char** argv) {
    // Rendering needs no display.
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--render-map") == 0 || std::strncmp(argv[i], "--render-map=", 13) == 0) {
            qputenv("QT_QPA_PLATFORM", "offscreen");
            qInstallMessageHandler(quietMessages);
        }
    }
    QApplication app(argc, argv);
    QApplication::setApplicationName("gomapcore-gui");
    QApplication::setOrganizationName("gomapcore");
    QCommandLineParser parser;
    parser.setApplicationDescription("gomapcore: the maps of a crashed Go program, from its core dump");
    parser.addHelpOption();
    parser.addPositionalArgument("core", "ELF core dump of the Go process (or open one from the window)",
                                 "[core]");
    QCommandLineOption exe("exe", "the Go executable that produced the core", "executable");
    parser.addOption(exe);
    QCommandLineOption redact("redact",
                              "show and export map keys, values and panic values only as type and length");
    parser.addOption(redact);
    QCommandLineOption render(
        "render-map", "render this map's structure (header address or root name) and exit", "address|name");
    parser.addOption(render);
    QCommandLineOption output("output", "with --render-map: the file to write (.svg or .png)", "file");
    parser.addOption(output);
    parser.process(app);
    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) return fail("give at most one core file");
    if (parser.isSet(render)) {
        if (positional.size() != 1) return fail("--render-map needs a core file");
        if (!parser.isSet(output)) return fail("--render-map needs --output FILE.svg|FILE.png");
        return renderMap(positional.front(), parser.value(exe), parser.value(render), parser.value(output));
    }
    if (parser.isSet(output)) return fail("--output goes with --render-map");
    MainWindow window;
    window.show();
    if (positional.size() == 1)
        window.startOpen(positional.front(), parser.value(exe), parser.isSet(redact), true);
    return app.exec();
}
