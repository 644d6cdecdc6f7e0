#include "mapping_strip.h"

#include "address_text.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>
#include <algorithm>
#include <cmath>
#include <limits>

namespace {

constexpr int kTickHeight = 9;
constexpr int kBlockHeight = 22;
constexpr double kGapWeight = 0.6;
constexpr double kMargin = 4;

// A mapping's share of the strip: 1 for a page, one more for every doubling up to 64 MiB and
// beyond, so neither the smallest nor the largest crowds out the rest.
double weightOf(quint64 bytes) {
    return 1.0 + std::max(0.0, std::log2(static_cast<double>(std::max<quint64>(bytes, 4096)) / 4096.0)) / 2.0;
}

}  // namespace

MappingStrip::MappingStrip(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setObjectName("mappingStrip");
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

QSize MappingStrip::sizeHint() const {
    return {600, kTickHeight + kBlockHeight + 6};
}

void MappingStrip::setRegions(QVector<StripRegion> regions) {
    regions_ = std::move(regions);
    layoutBlocks();
    update();
}

void MappingStrip::setMarks(QVector<StripMark> marks) {
    marks_ = std::move(marks);
    update();
}

void MappingStrip::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    layoutBlocks();
}

void MappingStrip::layoutBlocks() {
    blocks_.clear();
    quint64 previousEnd = 0;
    for (int i = 0; i < regions_.size(); ++i) {
        const StripRegion& r = regions_[i];
        if (r.start > previousEnd) blocks_.push_back({previousEnd, r.start, 0, 0, -1});
        blocks_.push_back({r.start, r.end, 0, 0, i});
        previousEnd = std::max(previousEnd, r.end);
    }
    blocks_.push_back({previousEnd, std::numeric_limits<quint64>::max(), 0, 0, -1});
    double total = 0;
    for (const Block& b : blocks_)
        total += b.region < 0 ? kGapWeight : weightOf(b.end - b.start);
    const double width = std::max(1.0, static_cast<double>(this->width()) - 2 * kMargin);
    double x = kMargin;
    for (Block& b : blocks_) {
        b.x0 = x;
        x += width * (b.region < 0 ? kGapWeight : weightOf(b.end - b.start)) / total;
        b.x1 = x;
    }
}

const MappingStrip::Block* MappingStrip::blockOf(quint64 address) const {
    auto it = std::upper_bound(blocks_.begin(), blocks_.end(), address,
                               [](quint64 a, const Block& b) { return a < b.start; });
    if (it == blocks_.begin()) return nullptr;
    --it;
    return address < it->end || it->end == std::numeric_limits<quint64>::max() ? &*it : nullptr;
}

const MappingStrip::Block* MappingStrip::blockAtX(double x) const {
    for (const Block& b : blocks_)
        if (x >= b.x0 && x < b.x1) return &b;
    return nullptr;
}

double MappingStrip::xOf(quint64 address) const {
    const Block* b = blockOf(address);
    if (b == nullptr) return -1;
    const double span = static_cast<double>(b->end - b->start);
    const double into = span > 0 ? static_cast<double>(address - b->start) / span : 0;
    return b->x0 + (b->x1 - b->x0) * into;
}

int MappingStrip::regionAt(quint64 address) const {
    const Block* b = blockOf(address);
    return b != nullptr ? b->region : -1;
}

quint64 MappingStrip::addressAtX(double x) const {
    const Block* b = blockAtX(x);
    if (b == nullptr || b->x1 <= b->x0) return 0;
    const double into = (x - b->x0) / (b->x1 - b->x0);
    return b->start + static_cast<quint64>(static_cast<double>(b->end - b->start) * into);
}

void MappingStrip::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing, false);
    const int top = kTickHeight;
    for (const Block& b : blocks_) {
        QRectF rect(b.x0, top, std::max(1.0, b.x1 - b.x0 - 1), kBlockHeight);
        if (b.region < 0) {
            painter.fillRect(rect, QBrush(QColor(200, 200, 200), Qt::BDiagPattern));
            continue;
        }
        const StripRegion& r = regions_[b.region];
        painter.fillRect(rect, r.captured ? QColor(129, 199, 132) : QColor(189, 189, 189));
        painter.setPen(QColor(90, 90, 90));
        painter.drawRect(rect);
    }
    for (const StripMark& m : marks_) {
        const double x = xOf(m.address);
        if (x < 0) continue;
        const QColor colour = m.suspect ? QColor(211, 47, 47) : QColor(21, 101, 192);
        painter.setPen(QPen(colour, m.suspect ? 2 : 1));
        painter.drawLine(QPointF(x, top), QPointF(x, top + kBlockHeight));
        QPainterPath tick;
        tick.moveTo(x - 4, 0);
        tick.lineTo(x + 4, 0);
        tick.lineTo(x, kTickHeight - 1);
        tick.closeSubpath();
        painter.fillPath(tick, colour);
    }
}

void MappingStrip::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    const double x = event->position().x();
    // A click near a mark goes to the mark's address, anywhere else to the address under it.
    for (const StripMark& m : marks_)
        if (std::abs(xOf(m.address) - x) <= 3) {
            Q_EMIT addressClicked(m.address);
            return;
        }
    if (const Block* b = blockAtX(x); b != nullptr && b->region >= 0) Q_EMIT addressClicked(addressAtX(x));
}

bool MappingStrip::event(QEvent* event) {
    if (event->type() != QEvent::ToolTip) return QWidget::event(event);
    auto* help = static_cast<QHelpEvent*>(event);
    const double x = help->pos().x();
    QStringList lines;
    for (const StripMark& m : marks_)
        if (std::abs(xOf(m.address) - x) <= 3) lines << QString("%1  %2").arg(hex(m.address), m.what);
    if (const Block* b = blockAtX(x)) {
        if (b->region < 0)
            lines << QString("unmapped: %1 – %2").arg(hex(b->start), hex(b->end));
        else
            lines << QString("%1 – %2  %3").arg(hex(b->start), hex(b->end), regions_[b->region].description);
    }
    if (lines.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(help->globalPos(), lines.join('\n'), this);
    return true;
}
