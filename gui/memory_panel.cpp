#include "memory_panel.h"

#include "address_text.h"

#include <QBrush>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>
#include <cstddef>
#include <mutex>

namespace {

QString stateName(gomapcore::AddressState state) {
    return gomapcore::toString(state);
}

}  // namespace

MemoryPanel::MemoryPanel(QWidget* parent)
    : QWidget(parent),
      strip_(new MappingStrip(this)),
      regions_(new QTableWidget(this)),
      address_(new QLineEdit(this)),
      hex_(new QPlainTextEdit(this)) {
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->setSpacing(2);
    outer->addWidget(strip_);
    auto* legend = new QLabel(
        "Mappings (width by log of size): green captured, grey not captured, hatched unmapped. Ticks: the "
        "selected map's header, buckets, tables and groups; red where a pointer is suspect. Click to see the "
        "bytes.",
        this);
    legend->setWordWrap(true);
    legend->setStyleSheet("color: #555;");
    outer->addWidget(legend);
    connect(strip_, &MappingStrip::addressClicked, this, [this](quint64 address) { goTo(address); });
    auto* layout = new QHBoxLayout;
    outer->addLayout(layout, 1);
    regions_->setColumnCount(5);
    regions_->setHorizontalHeaderLabels({"Start", "End", "Size", "Perms / state", "Mapping"});
    regions_->verticalHeader()->setVisible(false);
    regions_->verticalHeader()->setDefaultSectionSize(18);
    regions_->horizontalHeader()->setStretchLastSection(true);
    regions_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    regions_->setSelectionBehavior(QAbstractItemView::SelectRows);
    regions_->setObjectName("memoryRegions");
    connect(regions_, &QTableWidget::cellDoubleClicked, this,
            [this](int row, int) { goTo(regions_->item(row, 0)->data(Qt::UserRole).toULongLong()); });
    auto* right = new QVBoxLayout;
    auto* bar = new QHBoxLayout;
    address_->setPlaceholderText("Go to address (0x…)");
    address_->setObjectName("goToAddress");
    auto* go = new QPushButton("Go", this);
    bar->addWidget(address_, 1);
    bar->addWidget(go);
    auto goToTyped = [this] {
        bool ok = false;
        QString text = address_->text().trimmed();
        quint64 address =
            text.startsWith("0x") ? text.mid(2).toULongLong(&ok, 16) : text.toULongLong(&ok, 16);
        if (ok)
            goTo(address);
        else
            hex_->setPlainText(QString("'%1' is not a hexadecimal address").arg(text));
    };
    connect(address_, &QLineEdit::returnPressed, this, goToTyped);
    connect(go, &QPushButton::clicked, this, goToTyped);
    hex_->setReadOnly(true);
    hex_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    hex_->setObjectName("hexView");
    hex_->setLineWrapMode(QPlainTextEdit::NoWrap);
    right->addLayout(bar);
    right->addWidget(hex_, 1);
    layout->addWidget(regions_, 3);
    layout->addLayout(right, 2);
}

void MemoryPanel::setEngine(std::shared_ptr<EngineHandle> engine) {
    engine_ = std::move(engine);
    regions_->setRowCount(0);
    hex_->clear();
    strip_->setRegions({});
    strip_->setMarks({});
    if (!engine_) return;
    QVector<StripRegion> stripRegions;
    regions_->setRowCount(static_cast<int>(engine_->regions.size()));
    std::unique_lock<std::mutex> lock(engine_->mutex, std::try_to_lock);
    for (std::size_t i = 0; i < engine_->regions.size(); ++i) {
        const gomapcore::MemoryRegion& r = engine_->regions[i];
        const int row = static_cast<int>(i);
        QString perms =
            QString("%1%2%3").arg(r.readable ? "r" : "-", r.writable ? "w" : "-", r.executable ? "x" : "-");
        // Whether the dump holds the mapping's bytes (its first byte stands for it).
        gomapcore::AddressState state = gomapcore::AddressState::Captured;
        if (lock.owns_lock()) state = engine_->analysis->memory().classify(r.start);
        perms += "  " + stateName(state);
        auto* start = new QTableWidgetItem(hex(r.start));
        start->setData(Qt::UserRole, static_cast<qulonglong>(r.start));
        regions_->setItem(row, 0, start);
        regions_->setItem(row, 1, new QTableWidgetItem(hex(r.end)));
        regions_->setItem(row, 2, new QTableWidgetItem(QString("%1 KiB").arg((r.end - r.start) / 1024)));
        regions_->setItem(row, 3, new QTableWidgetItem(perms));
        regions_->setItem(row, 4, new QTableWidgetItem(QString::fromStdString(r.name)));
        if (state != gomapcore::AddressState::Captured)
            for (int c = 0; c < 5; ++c)
                regions_->item(row, c)->setBackground(QColor(255, 236, 179));
        stripRegions.push_back(StripRegion{r.start, r.end, state == gomapcore::AddressState::Captured,
                                           perms + "  " + QString::fromStdString(r.name)});
    }
    regions_->resizeColumnsToContents();
    strip_->setRegions(std::move(stripRegions));
}

void MemoryPanel::goTo(quint64 address) {
    address_->setText(hex(address));
    if (!engine_) {
        hex_->setPlainText("no core is open");
        return;
    }
    for (int row = 0; row < regions_->rowCount(); ++row) {
        const gomapcore::MemoryRegion& r = engine_->regions[static_cast<std::size_t>(row)];
        if (address >= r.start && address < r.end) {
            regions_->selectRow(row);
            regions_->scrollToItem(regions_->item(row, 0));
        }
    }
    std::unique_lock<std::mutex> lock(engine_->mutex, std::try_to_lock);
    if (!lock.owns_lock()) {
        hex_->setPlainText("the engine is busy (a map is being drawn); try again in a moment");
        return;
    }
    const gomapcore::Memory& memory = engine_->analysis->memory();
    const quint64 start = address & ~quint64{15};
    std::byte bytes[256];
    gomapcore::ReadResult read = memory.read(start, bytes);
    QStringList lines;
    lines << QString("%1: %2").arg(hex(address), stateName(memory.classify(address)));
    for (std::size_t line = 0; line < 16; ++line) {
        QString hexPart, ascii;
        for (std::size_t i = 0; i < 16; ++i) {
            const std::size_t at = line * 16 + i;
            if (at < read.bytesRead) {
                const auto b = std::to_integer<unsigned>(bytes[at]);
                hexPart += QString("%1 ").arg(b, 2, 16, QLatin1Char('0'));
                ascii += b >= 32 && b < 127 ? QChar(static_cast<char16_t>(b)) : QChar('.');
            } else {
                hexPart += "?? ";
                ascii += ' ';
            }
            if (i == 7) hexPart += ' ';
        }
        lines << QString("%1  %2 %3").arg(start + line * 16, 12, 16, QLatin1Char('0')).arg(hexPart, ascii);
    }
    if (!read.complete())
        lines << QString("?? from %1: %2").arg(hex(start + read.bytesRead), stateName(read.state));
    hex_->setPlainText(lines.join('\n'));
}
