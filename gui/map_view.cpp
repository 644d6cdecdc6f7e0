#include "map_view.h"

#include <QEventLoop>
#include <QFileDialog>
#include <QFontDatabase>
#include <QGraphicsItem>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QMessageBox>
#include <QMouseEvent>
#include <QPlainTextEdit>
#include <QShortcut>
#include <QSplitter>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocument>
#include <QThread>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QWheelEvent>
#include <exception>

#include "gomapcore/error.h"
#include "gomapcore/report.h"
#include "scene_export.h"

namespace {
// Entries decoded in the detail panel (renderMapDetail's maxEntries).
constexpr std::size_t kDetailEntries = 2000;
// At most this many of a map's places are marked on the memory strip (a strip a few hundred pixels
// wide shows no more; the walk itself is bounded by --max-buckets).
constexpr std::size_t kMaxPlaces = 20000;
}  // namespace

ZoomableView::ZoomableView(QWidget* parent) : QGraphicsView(parent) {
    setDragMode(QGraphicsView::ScrollHandDrag);
    setRenderHint(QPainter::Antialiasing);
    setRenderHint(QPainter::TextAntialiasing);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setViewportUpdateMode(QGraphicsView::SmartViewportUpdate);
    setBackgroundBrush(Qt::white);
}

void ZoomableView::zoomBy(qreal factor) {
    zoomAround(factor, viewport()->rect().center());
}

void ZoomableView::zoomAround(qreal factor, QPoint position) {
    const qreal current = transform().m11();
    if ((current > 20 && factor > 1) || (current < 0.002 && factor < 1)) return;
    scale(factor, factor);
    if (factor > 1) activateZoomedSummary(position);
}

void ZoomableView::activate(const QGraphicsItem& summary) {
    Q_EMIT summaryActivated(summary.data(mapscene::kRoleRegion).toInt(),
                            summary.data(mapscene::kRoleFirst).toLongLong(),
                            summary.data(mapscene::kRoleLast).toLongLong());
}

QGraphicsItem* ZoomableView::summaryAt(QPoint position) const {
    for (QGraphicsItem* item : items(position))
        if (item->data(mapscene::kRoleKind).toString() == QLatin1String("summary")) return item;
    return nullptr;
}

void ZoomableView::activateZoomedSummary(QPoint position) {
    QGraphicsItem* summary = summaryAt(position);
    if (summary == nullptr) return;
    const qreal shownWidth = summary->sceneBoundingRect().width() * transform().m11();
    if (shownWidth * 2 < viewport()->width()) return;
    activate(*summary);
}

void ZoomableView::mouseDoubleClickEvent(QMouseEvent* event) {
    if (QGraphicsItem* summary = summaryAt(event->pos())) {
        activate(*summary);
        event->accept();
        return;
    }
    QGraphicsView::mouseDoubleClickEvent(event);
}

void ZoomableView::fit() {
    if (scene() != nullptr) fitInView(scene()->sceneRect(), Qt::KeepAspectRatio);
}

void ZoomableView::mousePressEvent(QMouseEvent* event) {
    for (QGraphicsItem* item : items(event->pos())) {
        if (item->data(mapscene::kRoleNode).isValid()) {
            Q_EMIT itemClicked(item->data(mapscene::kRoleNode).toULongLong(),
                               item->data(mapscene::kRoleSlot).toInt());
            break;
        }
        if (item->data(mapscene::kRoleAddress).isValid()) {
            Q_EMIT itemClicked(item->data(mapscene::kRoleAddress).toULongLong(), -1);
            break;
        }
    }
    QGraphicsView::mousePressEvent(event);
}

void ZoomableView::wheelEvent(QWheelEvent* event) {
    // The wheel zooms (under the mouse); dragging pans.
    zoomAround(event->angleDelta().y() > 0 ? 1.2 : 1 / 1.2, event->position().toPoint());
    event->accept();
}

void ZoomableView::keyPressEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_Plus || event->key() == Qt::Key_Equal)
        zoomBy(1.25);
    else if (event->key() == Qt::Key_Minus)
        zoomBy(0.8);
    else if (event->key() == Qt::Key_0 || event->key() == Qt::Key_F)
        fit();
    else
        QGraphicsView::keyPressEvent(event);
}

MapView::MapView(QWidget* parent)
    : QWidget(parent),
      view_(new ZoomableView(this)),
      status_(new QLabel(this)),
      detail_(new QPlainTextEdit(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* bar = new QHBoxLayout;
    auto button = [&](const QString& label, const QString& tip, auto slot) {
        auto* b = new QToolButton(this);
        b->setText(label);
        b->setToolTip(tip);
        connect(b, &QToolButton::clicked, this, slot);
        bar->addWidget(b);
        return b;
    };
    button("+", "Zoom in (+)", [this] { view_->zoomBy(1.25); });
    button("−", "Zoom out (-)", [this] { view_->zoomBy(0.8); });
    button("Fit", "Fit the whole map (0)", [this] { view_->fit(); });
    button("1:1", "Actual size", [this] { view_->resetTransform(); });
    wholeMap_ =
        button("Whole map", "Back to the whole map's summaries (Backspace)", [this] { showWholeMap(); });
    wholeMap_->setObjectName("wholeMap");
    wholeMap_->setEnabled(false);
    button("Export view…", "Save this view as PNG or SVG", [this] {
        exportWithDialog();
    })->setObjectName("exportMapView");
    status_->setText("Select a map to see its structure.");
    bar->addWidget(status_, 1);
    layout->addLayout(bar);
    detail_->setReadOnly(true);
    detail_->setLineWrapMode(QPlainTextEdit::NoWrap);
    detail_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    detail_->setObjectName("mapDetail");
    detail_->setPlaceholderText("Click a bucket, group or cell to see its entries.");
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(view_);
    split->addWidget(detail_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setSizes({900, 300});
    layout->addWidget(split, 1);
    connect(view_, &ZoomableView::itemClicked, this,
            [this](quint64 address, int slot) { showDetail(address, slot); });
    connect(view_, &ZoomableView::summaryActivated, this,
            [this](int region, qlonglong first, qlonglong last) {
                showRange({static_cast<mapscene::Region>(region), first, last});
            });
    auto* back = new QShortcut(QKeySequence(Qt::Key_Backspace), view_, [this] { showWholeMap(); });
    back->setContext(Qt::WidgetShortcut);
}

MapView::~MapView() {
    ++*generation_;
    for (QThread* thread : findChildren<QThread*>()) {
        thread->wait();
        delete thread;
    }
}

void MapView::clear() {
    ++*generation_;
    detail_->clear();
    view_->setScene(nullptr);
    scene_.reset();
    stats_ = {};
    engine_.reset();
    map_.reset();
    address_ = 0;
    focus_ = {};
    wholeMap_->setEnabled(false);
    status_->setText("Select a map to see its structure.");
}

void MapView::showRange(const mapscene::Focus& range) {
    if (!map_ || !stats_.levelOfDetail || building()) return;
    if (range.region == focus_.region && range.first == focus_.first && range.last == focus_.last) return;
    buildInBackground(engine_, address_, map_, range, redact_);
}

void MapView::showWholeMap() {
    if (!map_ || focus_.region == mapscene::Region::None) return;
    buildInBackground(engine_, address_, map_, {}, redact_);
}

void MapView::updateStatus() {
    QString detailed;
    if (stats_.focusLast >= stats_.focusFirst) {
        const char* what = focus_.region == mapscene::Region::Tables       ? "tables"
                           : focus_.region == mapscene::Region::OldBuckets ? "old buckets"
                                                                           : "buckets";
        detailed = QString(", %1 %2–%3 in detail").arg(what).arg(stats_.focusFirst).arg(stats_.focusLast);
    }
    status_->setText(
        QString("map 0x%1: %2 nodes%3%4%5")
            .arg(address_, 0, 16)
            .arg(stats_.nodesDrawn)
            .arg(stats_.levelOfDetail
                     ? QString(", %1 summaries (level of detail; double-click one to see it)")
                           .arg(stats_.summaries)
                     : QString())
            .arg(detailed)
            .arg(stats_.suspects > 0 ? QString(", %1 suspect addresses").arg(stats_.suspects) : QString()));
}

void MapView::showMap(std::shared_ptr<EngineHandle> engine, quint64 address, bool redact) {
    buildInBackground(std::move(engine), address, nullptr, {}, redact);
}

void MapView::buildInBackground(std::shared_ptr<EngineHandle> engine, quint64 address,
                                std::shared_ptr<const gomapcore::MapResult> map, const mapscene::Focus& focus,
                                bool redact) {
    const quint64 generation = ++*generation_;
    auto current = generation_;
    QThread* gui = thread();
    const bool refocus = map != nullptr;
    status_->setText(refocus ? QString("drawing map 0x%1 again…").arg(address, 0, 16)
                             : QString("building the structure of map 0x%1…").arg(address, 0, 16));
    const std::string name = QString("0x%1").arg(address, 0, 16).toStdString();
    mapscene::Options options;
    options.maxDetailedNodes = maxDetailedNodes_;
    options.focus = focus;
    // The scene is made here (QGraphicsScene registers with the application), handed to the job's
    // thread to be filled, and handed back.
    auto* fresh = new QGraphicsScene;
    QThread* job = QThread::create([this, engine, name, address, generation, current, gui, fresh, redact, map,
                                    options, refocus] {
        std::unique_ptr<QGraphicsScene> scene(fresh);
        std::shared_ptr<const gomapcore::MapResult> walked = map;
        mapscene::Stats stats;
        QString error, detail;
        QVector<StripMark> places;
        try {
            std::lock_guard<std::mutex> lock(engine->mutex);
            if (current->load() != generation)
                throw gomapcore::Error(gomapcore::Error::Code::Cancelled, "superseded");
            if (!walked) {
                gomapcore::MapInspection inspection = engine->analysis->inspect(name, {});
                if (!inspection.map)
                    throw gomapcore::Error(gomapcore::Error::Code::NotFound, "a nil map has no structure");
                walked = std::make_shared<const gomapcore::MapResult>(std::move(*inspection.map));
                for (const gomapcore::MapResult::Place& place : walked->places(kMaxPlaces))
                    places.push_back(StripMark{
                        place.address, place.suspect(),
                        place.rule.empty() ? QString("%1, %2").arg(gomapcore::toString(place.kind),
                                                                   gomapcore::toString(place.state))
                                           : QString("%1 (%2)").arg(QString::fromStdString(place.rule),
                                                                    gomapcore::toString(place.kind))});
            }
            std::vector<const gomapcore::MapNode*> drawn;
            stats = mapscene::buildMapScene(*scene, *walked, engine->analysis->memory(), options, &drawn);
            // The entries of what the scene shows: all of a map drawn whole, the focused range and
            // the nodes with findings of a summarised one.
            detail = QString::fromStdString(gomapcore::renderMapDetail(
                engine->analysis->memory(),
                stats.levelOfDetail ? mapscene::shownPart(*walked, drawn) : *walked, kDetailEntries, redact));
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        }
        if (error.isEmpty())
            scene->moveToThread(gui);
        else
            scene.reset();  // deleted in the thread it lives in
        QGraphicsScene* raw = scene.release();
        QMetaObject::invokeMethod(
            this,
            [this, raw, stats, error, detail, places, address, generation, current, engine, walked, options,
             refocus, redact] {
                std::unique_ptr<QGraphicsScene> owned(raw);
                if (current->load() != generation) return;
                if (!owned) {
                    status_->setText("cannot draw this map: " + error);
                    Q_EMIT failed(error);
                    return;
                }
                view_->setScene(owned.get());
                scene_ = std::move(owned);
                detail_->setPlainText(detail);
                stats_ = stats;
                engine_ = engine;
                map_ = walked;
                redact_ = redact;
                address_ = address;
                focus_ = stats.focusLast >= stats.focusFirst ? options.focus : mapscene::Focus{};
                wholeMap_->setEnabled(focus_.region != mapscene::Region::None);
                view_->resetTransform();
                if (focus_.region != mapscene::Region::None) {
                    // The range asked for, at its own size.
                    view_->centerOn(stats.focusArea.center());
                } else {
                    view_->fit();
                    if (view_->transform().m11() > 1) view_->resetTransform();
                }
                updateStatus();
                if (pendingFocus_ != 0) focusAddress(pendingFocus_);
                if (!refocus) Q_EMIT placesRead(address, places);
                Q_EMIT sceneReady(address);
            },
            Qt::QueuedConnection);
    });
    fresh->moveToThread(job);
    job->setParent(this);
    ++jobs_;
    connect(job, &QThread::finished, this, [this, job] {
        job->deleteLater();
        jobDone();
    });
    job->start();
}

void MapView::focusAddress(quint64 address) {
    pendingFocus_ = address;
    if (!scene_ || building()) return;
    pendingFocus_ = 0;
    // The item at address itself, else the smallest node that holds it (a finding's address is
    // often a byte inside a bucket or group: its tophash or control byte, a slot).
    QGraphicsItem* found = nullptr;
    quint64 foundSize = 0;
    for (QGraphicsItem* item : scene_->items()) {
        const quint64 start = item->data(mapscene::kRoleAddress).toULongLong();
        if (start == 0) continue;
        if (start == address) {
            found = item;
            break;
        }
        const quint64 size = item->data(mapscene::kRoleSize).toULongLong();
        if (size != 0 && address > start && address - start < size &&
            (found == nullptr || size < foundSize)) {
            found = item;
            foundSize = size;
        }
    }
    if (found == nullptr) return;
    if (view_->transform().m11() < 0.5) view_->resetTransform();
    view_->centerOn(found);
    scene_->clearSelection();
    found->setFlag(QGraphicsItem::ItemIsSelectable);
    found->setSelected(true);
}

bool MapView::showDetail(quint64 address, int slot) {
    QTextDocument* document = detail_->document();
    QTextCursor at = document->find(QStringLiteral("0x%1 ").arg(address, 0, 16));
    if (at.isNull()) at = document->find(QStringLiteral("0x%1").arg(address, 0, 16));
    if (at.isNull()) return false;
    if (slot >= 0) {
        // The slot's line follows its node's line: "      [3] key: value".
        QTextBlock block = at.block().next();
        const QString prefix = QStringLiteral("[%1] ").arg(slot);
        while (block.isValid() && block.text().startsWith("      ")) {
            if (block.text().trimmed().startsWith(prefix)) {
                at = QTextCursor(block);
                break;
            }
            block = block.next();
        }
    }
    at.select(QTextCursor::LineUnderCursor);
    detail_->setTextCursor(at);
    detail_->centerCursor();
    return true;
}

void MapView::jobDone() {
    if (--jobs_ == 0) Q_EMIT idle();
}

bool MapView::waitIdle(int timeoutMs) {
    if (!building()) return true;
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    connect(this, &MapView::idle, &loop, &QEventLoop::quit);
    timer.start(timeoutMs);
    loop.exec();
    return !building();
}

bool MapView::exportTo(const QString& path, QString* error) {
    if (!scene_) {
        *error = "no map is shown";
        return false;
    }
    return exportScene(*scene_, path, error);
}

void MapView::exportWithDialog() {
    QString path =
        QFileDialog::getSaveFileName(this, "Export map view", "map.svg", "SVG (*.svg);;PNG (*.png)");
    if (path.isEmpty()) return;
    QString error;
    if (!exportTo(path, &error)) QMessageBox::warning(this, "gomapcore", error);
}
