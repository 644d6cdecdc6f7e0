// The process's memory: its mappings (captured, not captured) and a hex view of any address
// (a Go-to-address box), read through the engine's Memory, which never invents bytes.
#pragma once

#include <QWidget>
#include <memory>

#include "engine_handle.h"

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

  private:
    std::shared_ptr<EngineHandle> engine_;
    QTableWidget* regions_;
    QLineEdit* address_;
    QPlainTextEdit* hex_;
};
