// The process's memory: its mappings as a strip (captured, not captured, unmapped gaps) with the
// selected map's places marked, the mappings as a table, and a hex view of any address (a
// Go-to-address box), read through the engine's Memory, which never invents bytes.
#pragma once

#include <QWidget>
#include <memory>

#include "engine_handle.h"
#include "mapping_strip.h"

class QLineEdit;
class QPlainTextEdit;
class QTableWidget;

class MemoryPanel : public QWidget {
    Q_OBJECT
  public:
    explicit MemoryPanel(QWidget* parent = nullptr);
    void setEngine(std::shared_ptr<EngineHandle> engine);
    // Shows 256 bytes from address in the hex view and selects the mapping that holds it.
    void goTo(quint64 address);
    QPlainTextEdit* hexView() const { return hex_; }
    QTableWidget* regionTable() const { return regions_; }
    MappingStrip* strip() const { return strip_; }
    // Marks the places of the selected map on the strip (none: clears them).
    void showPlaces(QVector<StripMark> places) { strip_->setMarks(std::move(places)); }

  private:
    std::shared_ptr<EngineHandle> engine_;
    MappingStrip* strip_;
    QTableWidget* regions_;
    QLineEdit* address_;
    QPlainTextEdit* hex_;
};
