// The structure view of the selected map: a zoomable, pannable QGraphicsView whose scene is
// built off the GUI thread from Analysis::inspect (MapSceneJob), and exported as PNG or SVG.
#pragma once

#include <QGraphicsView>
#include <QString>
#include <QWidget>
#include <atomic>
#include <memory>

#include "engine_handle.h"
#include "map_scene.h"
#include "mapping_strip.h"

class QLabel;
class QToolButton;
class QPlainTextEdit;

class ZoomableView : public QGraphicsView {
    Q_OBJECT
  public:
    explicit ZoomableView(QWidget* parent = nullptr);
    void zoomBy(qreal factor);
    void fit();

  Q_SIGNALS:
    // A bucket, group, table or suspect box (address) or one of its control cells (slot >= 0)
    // was clicked.
    void itemClicked(quint64 address, int slot);
    // A summary was double-clicked, or zoomed into until it fills much of the view: the range it
    // stands for (a mapscene::Region, its first and last index) is wanted in detail.
    void summaryActivated(int region, qlonglong first, qlonglong last);

  protected:
    void mousePressEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

  private:
    // Zooms by factor, and past the threshold activates the summary at position (viewport
    // coordinates: under the mouse for the wheel, the view's centre for keys and buttons).
    void zoomAround(qreal factor, QPoint position);
    void activate(const QGraphicsItem& summary);
    // The summary under the viewport position, if any.
    QGraphicsItem* summaryAt(QPoint position) const;
    // After zooming in around position: activates the summary there once it is drawn wider than
    // half the view, the size at which its histogram says less than its buckets would.
    void activateZoomedSummary(QPoint position);
};

class MapView : public QWidget {
    Q_OBJECT
  public:
    explicit MapView(QWidget* parent = nullptr);
    ~MapView() override;

    // Inspects the map at address in the background and shows its scene, and its entries
    // decoded as `show` decodes them (only type and length with redact), when ready: of a
    // summarised map, the entries of the nodes the scene draws one by one.
    void showMap(std::shared_ptr<EngineHandle> engine, quint64 address, bool redact = false);
    // Rebuilds the shown map's scene (in the background, from the structure already read) with
    // range in detail and the rest summarised; showWholeMap goes back to the whole map's
    // summaries. Nothing happens while no map is shown or when the map is not summarised.
    void showRange(const mapscene::Focus& range);
    void showWholeMap();
    const mapscene::Focus& focus() const { return focus_; }
    // Boxes drawn one by one before a map is summarised (mapscene::Options::maxDetailedNodes),
    // for the maps shown from now on.
    void setMaxDetailedNodes(std::size_t nodes) { maxDetailedNodes_ = nodes; }
    QPlainTextEdit* detail() const { return detail_; }
    // Scrolls the decoded entries to the node at address (and its slot, when >= 0).
    bool showDetail(quint64 address, int slot);
    void clear();
    QGraphicsScene* scene() const { return scene_.get(); }
    ZoomableView* view() const { return view_; }
    bool building() const { return jobs_ > 0; }
    // Blocks (running the event loop) until no scene is being built; false on timeout.
    bool waitIdle(int timeoutMs);
    // PNG or SVG by extension.
    bool exportTo(const QString& path, QString* error);
    const mapscene::Stats& stats() const { return stats_; }
    // Centres the view on the item for address (a node or a suspect box), now or once the
    // scene being built is shown.
    void focusAddress(quint64 address);

  Q_SIGNALS:
    void sceneReady(quint64 address);
    // Where the shown map's structure lies (MapResult::places), for the memory strip.
    void placesRead(quint64 address, const QVector<StripMark>& places);
    void failed(const QString& message);
    void idle();

  private:
    void exportWithDialog();
    void jobDone();
    // Builds the scene of the map at address off the GUI thread, from map when given (a refocus),
    // else from a fresh Analysis::inspect (which also fills the decoded entries and the places).
    void buildInBackground(std::shared_ptr<EngineHandle> engine, quint64 address,
                           std::shared_ptr<const gomapcore::MapResult> map, const mapscene::Focus& focus,
                           bool redact);
    void updateStatus();

    ZoomableView* view_;
    QLabel* status_;
    QPlainTextEdit* detail_;
    std::unique_ptr<QGraphicsScene> scene_;
    mapscene::Stats stats_;
    std::shared_ptr<std::atomic<quint64>> generation_ = std::make_shared<std::atomic<quint64>>(0);
    int jobs_ = 0;
    quint64 pendingFocus_ = 0;
    // The shown map's structure, kept for rebuilding its scene around another focus.
    std::shared_ptr<EngineHandle> engine_;
    std::shared_ptr<const gomapcore::MapResult> map_;
    quint64 address_ = 0;
    mapscene::Focus focus_;
    bool redact_ = false;
    std::size_t maxDetailedNodes_ = mapscene::Options{}.maxDetailedNodes;
    QToolButton* wholeMap_ = nullptr;
};
