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
    const qreal current = transform().m11();
    if ((current > 20 && factor > 1) || (current < 0.002 && factor < 1)) return;
    scale(factor, factor);
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
    zoomBy(event->angleDelta().y() > 0 ? 1.2 : 1 / 1.2);
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
    status_->setText("Select a map to see its structure.");
}

void MapView::showMap(std::shared_ptr<EngineHandle> engine, quint64 address, bool redact) {
    const quint64 generation = ++*generation_;
    auto current = generation_;
    QThread* gui = thread();
    status_->setText(QString("building the structure of map 0x%1…").arg(address, 0, 16));
    const std::string name = QString("0x%1").arg(address, 0, 16).toStdString();
    // The scene is made here (QGraphicsScene registers with the application), handed to the job's
    // thread to be filled, and handed back.
    auto* fresh = new QGraphicsScene;
    QThread* job = QThread::create([this, engine, name, address, generation, current, gui, fresh, redact] {
        std::unique_ptr<QGraphicsScene> scene(fresh);
        mapscene::Stats stats;
        QString error, detail;
        QVector<StripMark> places;
        try {
            std::lock_guard<std::mutex> lock(engine->mutex);
            if (current->load() != generation)
                throw gomapcore::Error(gomapcore::Error::Code::Cancelled, "superseded");
            gomapcore::MapInspection inspection = engine->analysis->inspect(name, {});
            if (!inspection.map)
                throw gomapcore::Error(gomapcore::Error::Code::NotFound, "a nil map has no structure");
            stats = mapscene::buildMapScene(*scene, *inspection.map, engine->analysis->memory());
            detail = QString::fromStdString(gomapcore::renderMapDetail(
                engine->analysis->memory(), *inspection.map, kDetailEntries, redact));
            for (const gomapcore::MapResult::Place& place : inspection.map->places(kMaxPlaces))
                places.push_back(StripMark{place.address, place.suspect(),
                                           place.rule.empty()
                                               ? QString("%1, %2").arg(gomapcore::toString(place.kind),
                                                                       gomapcore::toString(place.state))
                                               : QString("%1 (%2)").arg(QString::fromStdString(place.rule),
                                                                        gomapcore::toString(place.kind))});
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
            [this, raw, stats, error, detail, places, address, generation, current] {
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
                view_->resetTransform();
                view_->fit();
                if (view_->transform().m11() > 1) view_->resetTransform();
                status_->setText(
                    QString("map 0x%1: %2 nodes%3%4")
                        .arg(address, 0, 16)
                        .arg(stats.nodesDrawn)
                        .arg(stats.levelOfDetail
                                 ? QString(", %1 summaries (level of detail)").arg(stats.summaries)
                                 : QString())
                        .arg(stats.suspects > 0 ? QString(", %1 suspect addresses").arg(stats.suspects)
                                                : QString()));
                if (pendingFocus_ != 0) focusAddress(pendingFocus_);
                Q_EMIT placesRead(address, places);
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
