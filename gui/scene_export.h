// Writes a scene to an image: SVG (addresses stay text) or PNG, by the path's extension.
#pragma once

#include <QGraphicsScene>
#include <QString>

// False with *error set when the format is unknown or the file cannot be written.
bool exportScene(QGraphicsScene& scene, const QString& path, QString* error);
