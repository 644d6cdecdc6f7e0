#include "crash_panel.h"

#include "address_text.h"

#include <QStringList>

namespace {

QString esc(const std::string& s) {
    return QString::fromStdString(s).toHtmlEscaped();
}

QString location(const gomapcore::CodeLocation& at) {
    return QStringLiteral("<b>%1</b> at %2:%3").arg(esc(at.function), esc(at.file)).arg(at.line);
}

QString goroutineLink(qlonglong id) {
    return QStringLiteral("<a href=\"goroutine:%1\">goroutine %1</a>").arg(id);
}

}  // namespace

QString crashPanelHtml(const gomapcore::Report& report) {
    QStringList rows;
    if (!report.crash) {
        rows << QStringLiteral("<b>No crash recorded</b> (signal %1); %2 maps found.")
                    .arg(report.target.signal)
                    .arg(report.maps.size());
        return rows.join("<br>");
    }
    const gomapcore::CrashReport& crash = *report.crash;
    const bool mapCrash = gomapcore::crash_kinds::isMapKind(crash.kind);
    rows << QStringLiteral(
                "<span style=\"color:%1; font-size:large\"><b>%2</b></span> &nbsp; <code>%3</code>")
                .arg(mapCrash ? "#c00000" : "#333333", esc(crash.message.empty() ? "crash" : crash.message),
                     esc(crash.kind));
    if (!crash.explanation.empty()) rows << esc(crash.explanation);
    QStringList facts;
    if (crash.map) {
        if (*crash.map == 0) {
            facts << QStringLiteral("map: <b>nil</b>%1")
                         .arg(crash.variable.empty() ? QString() : " (" + esc(crash.variable) + ")");
        } else {
            QStringList roots;
            for (const std::string& root : crash.mapRoots)
                roots << esc(root);
            facts << QStringLiteral("map: <a href=\"map:%1\">%1</a>%2%3")
                         .arg(hex(*crash.map), roots.isEmpty() ? QString() : " — " + roots.join(", "),
                              crash.mapFromFallback ? QStringLiteral(" <i>(from the spill-slot fallback)</i>")
                                                    : QString());
        }
    }
    if (crash.goroutine) facts << QStringLiteral("in ") + goroutineLink(*crash.goroutine);
    if (crash.userFrame)
        facts << QStringLiteral("user frame: ") + location(*crash.userFrame);
    else if (crash.crashFrame)
        facts << QStringLiteral("frame: ") + location(*crash.crashFrame);
    if (!facts.isEmpty()) rows << facts.join(" &nbsp;·&nbsp; ");
    if (!crash.others.empty()) {
        QStringList others;
        for (const gomapcore::MapHolder& holder : crash.others)
            others << goroutineLink(holder.goroutine) + " " + esc(holder.how);
        rows << QStringLiteral("also holding the map: ") + others.join(", ");
    }
    if (!crash.mapFindings.empty()) {
        QStringList findings;
        for (const auto& [rule, address] : crash.mapFindings)
            findings << QStringLiteral("%1 at %2").arg(esc(rule), hex(address));
        rows << QStringLiteral("<span style=\"color:#c00000\">findings on this map: %1</span>")
                    .arg(findings.join(", "));
    }
    return rows.join("<br>");
}

CrashPanel::CrashPanel(QWidget* parent) : QLabel(parent) {
    setObjectName("crashPanel");
    setTextFormat(Qt::RichText);
    setWordWrap(true);
    setTextInteractionFlags(Qt::TextBrowserInteraction);
    setMargin(8);
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    showMessage("Open a core dump (File › Open, or drop it here).", false);
    connect(this, &QLabel::linkActivated, this, [this](const QString& link) {
        if (link.startsWith("map:")) Q_EMIT mapClicked(link.mid(4).toULongLong(nullptr, 16));
        if (link.startsWith("goroutine:")) Q_EMIT goroutineClicked(link.mid(10).toLongLong());
    });
}

void CrashPanel::showReport(const gomapcore::Report& report) {
    const bool mapCrash = report.crash && gomapcore::crash_kinds::isMapKind(report.crash->kind);
    setStyleSheet(mapCrash ? "QLabel#crashPanel { background: #fff0f0; }"
                           : "QLabel#crashPanel { background: #f4f6fa; }");
    setText(crashPanelHtml(report));
}

void CrashPanel::showMessage(const QString& text, bool error) {
    setStyleSheet(error ? "QLabel#crashPanel { background: #ffe0e0; color: #a00000; }"
                        : "QLabel#crashPanel { background: #f4f6fa; }");
    setText(text.toHtmlEscaped());
}
