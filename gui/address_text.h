// Addresses as the GUI writes them everywhere: lowercase hexadecimal with 0x, as the reports do.
#pragma once

#include <QString>

inline QString hex(quint64 value) {
    return QStringLiteral("0x%1").arg(value, 0, 16);
}
