// gomapcore-gui CORE [--exe EXE]: the desktop front end.
#include <QApplication>
#include <QCommandLineParser>
#include <cstdio>

#include "map_list_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("gomapcore-gui");
    QCommandLineParser parser;
    parser.setApplicationDescription("gomapcore: the maps of a crashed Go program, from its core dump");
    parser.addHelpOption();
    parser.addPositionalArgument("core", "ELF core dump of the Go process");
    QCommandLineOption exe("exe", "the Go executable that produced the core", "executable");
    parser.addOption(exe);
    QCommandLineOption redact("redact",
                              "show and export map keys, values and panic values only as type and length");
    parser.addOption(redact);
    parser.process(app);
    if (parser.positionalArguments().size() != 1) {
        std::fprintf(stderr,
                     "gomapcore-gui: give one core file (opening a core from the window comes later)\n");
        return 2;
    }
    MapListWindow window;
    if (!window.openCore(parser.positionalArguments().front(), parser.value(exe), parser.isSet(redact))) {
        std::fprintf(stderr, "gomapcore-gui: %s\n", window.lastError().toUtf8().constData());
        return 2;
    }
    window.show();
    return app.exec();
}
