#include "scene_export.h"

#include <QImage>
#include <QPainter>
#include <QSvgGenerator>
#include <algorithm>
#include <cmath>

bool exportScene(QGraphicsScene& scene, const QString& path, QString* error) {
    const QRectF source = scene.sceneRect();
    if (path.endsWith(".svg", Qt::CaseInsensitive)) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(source.size().toSize());
        svg.setViewBox(QRectF(QPointF(0, 0), source.size()));
        svg.setTitle("gomapcore map structure");
        QPainter painter;
        if (!painter.begin(&svg)) {
            *error = QString("cannot write %1").arg(path);
            return false;
        }
        scene.render(&painter, QRectF(QPointF(0, 0), source.size()), source);
        painter.end();
        return true;
    }
    if (path.endsWith(".png", Qt::CaseInsensitive)) {
        // Twice the scene's size for legible text, within 16k pixels a side.
        qreal scale = std::min(
            {2.0, 16000 / std::max<qreal>(source.width(), 1), 16000 / std::max<qreal>(source.height(), 1)});
        QSize size(std::max(1, static_cast<int>(std::ceil(source.width() * scale))),
                   std::max(1, static_cast<int>(std::ceil(source.height() * scale))));
        QImage image(size, QImage::Format_ARGB32);
        image.fill(Qt::white);
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setRenderHint(QPainter::TextAntialiasing);
        scene.render(&painter, QRectF(QPointF(0, 0), QSizeF(size)), source);
        painter.end();
        if (!image.save(path, "PNG")) {
            *error = QString("cannot write %1").arg(path);
            return false;
        }
        return true;
    }
    *error = QString("%1: the output must end in .svg or .png").arg(path);
    return false;
}
