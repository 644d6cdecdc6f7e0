// The process's mappings as one strip: each mapping a block whose width grows with the log of
// its size (a 4 KiB guard page and a 64 MiB heap arena both stay visible), the unmapped gaps
// between them as narrow hatched blocks; captured mappings green, not captured ones grey. The
// selected map's places (its header, buckets, tables, groups) are ticks on it, red where they
// lie in no mapping or were not captured. Clicking the strip goes to that address.
#pragma once

#include <QVector>
#include <QWidget>

struct StripRegion {
    quint64 start = 0, end = 0;  // [start, end)
    bool captured = true;        // the dump holds its bytes (its first byte stands for it)
    QString description;         // permissions and the mapped file, for the tooltip
};

struct StripMark {
    quint64 address = 0;
    bool suspect = false;  // unmapped or not captured
    QString what;          // "bucket", "group", ... and its state, for the tooltip
};

class MappingStrip : public QWidget {
    Q_OBJECT
  public:
    explicit MappingStrip(QWidget* parent = nullptr);
    // regions sorted by start, not overlapping.
    void setRegions(QVector<StripRegion> regions);
    void setMarks(QVector<StripMark> marks);
    const QVector<StripRegion>& regions() const { return regions_; }
    const QVector<StripMark>& marks() const { return marks_; }
    // Where address is drawn, in widget coordinates; the mapping (index into regions()) that
    // holds it or -1 for a gap.
    double xOf(quint64 address) const;
    int regionAt(quint64 address) const;
    QSize sizeHint() const override;

  Q_SIGNALS:
    void addressClicked(quint64 address);

  protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

  private:
    struct Block {
        quint64 start = 0, end = 0;  // [start, end); the last gap ends at the top of the address space
        double x0 = 0, x1 = 0;
        int region = -1;  // -1: a gap
    };
    void layoutBlocks();
    const Block* blockOf(quint64 address) const;
    const Block* blockAtX(double x) const;
    quint64 addressAtX(double x) const;

    QVector<StripRegion> regions_;
    QVector<StripMark> marks_;
    QVector<Block> blocks_;
};
