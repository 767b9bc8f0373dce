#pragma once
// The partition editor: a strip of the model's layers (embedding, blocks, head), each
// with a bar of its cost, coloured by the stage that holds it. Drag a boundary handle to
// move layers between stages, or use the keyboard (Up/Down pick a boundary, Left/Right
// move it). A boundary can never pass its neighbours, so no stage is ever empty. Edits
// go to the ExperimentDoc as undoable commands; a drag is one undo step; editFinished()
// fires on release (or per key press) so the window reruns.
#include <vector>

#include <QWidget>

class QToolButton;

#include "core/model.h"

namespace pipelab::ui {

class ExperimentDoc;

// Layer index <-> pixel of the strip, outside paintEvent so it is unit-tested.
struct StripGeometry {
    int nLayers = 1;
    double x0 = 0, width = 1;
    double first = 0;  // layer at the strip's left edge (zoomed in: > 0)
    double shown = 0;  // layers across the strip; <= 0 = all
    double span() const { return shown > 0 ? shown : nLayers; }
    double cellWidth() const { return width / span(); }
    double cutToX(int cut) const { return x0 + (cut - first) * cellWidth(); }  // left edge of layer `cut`
    int nearestCut(double x) const;                                            // 0 .. nLayers
    int layerAt(double x) const;                                               // -1 outside
};

class PartitionEditor : public QWidget {
    Q_OBJECT
public:
    explicit PartitionEditor(ExperimentDoc* doc, QWidget* parent = nullptr);

    // Per-layer costs measured by the last run, or empty to use the cost model's. A
    // vector whose length is not the document's layer count is ignored (cost model).
    void setMeasuredCosts(const std::vector<double>& costsUs);
    bool showsMeasured() const { return !m_measured.empty(); }
    void refresh();  // re-read the document

    const std::vector<int>& cuts() const { return m_cuts; }
    int selectedBoundary() const { return m_selected; }
    bool isDragging() const { return m_dragging >= 0; }
    void setSelectedBoundary(int b);
    StripGeometry geometry() const;
    QPoint boundaryPos(int boundary) const;  // centre of a handle, for tests
    QPoint cutPos(int cut) const;            // where a boundary at `cut` would be

    QSize sizeHint() const override { return {800, 150}; }
    QSize minimumSizeHint() const override { return {300, 110}; }

    QToolButton* autoButton() const { return m_autoBtn; }

    // Zoom over layers (L = 256 does not fit at a readable width): `shown` layers from
    // `first`, clamped to the model. Ctrl+wheel zooms about the cursor, wheel scrolls;
    // keys on the strip: + / - zoom about the selected boundary, 0 shows all.
    void setLayerView(double first, double shown);
    double firstLayerShown() const { return m_first; }
    double layersShown() const { return m_shown > 0 ? m_shown : static_cast<double>(m_names.size()); }

signals:
    void editFinished();
    // The Auto button: the window finds the boundaries that minimise the predicted step
    // time and applies them as one undo step.
    void autoRequested();

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    bool event(QEvent* event) override;  // per-layer tooltips
    void resizeEvent(QResizeEvent* event) override;

private:
    int boundaryNear(double x) const;
    bool moveBoundary(int b, int cut, int mergeId);  // clamped; false when nothing changed
    int stageOfChunk(int chunk) const;

    ExperimentDoc* m_doc;
    std::vector<QString> m_names;
    std::vector<Layer> m_layers;
    std::vector<double> m_costs;
    std::vector<double> m_measured;
    std::vector<int> m_cuts;
    int m_stages = 1;
    std::vector<int> m_chunkRank;  // chunk -> stage, the schedule's placement
    int m_selected = 0;
    int m_dragging = -1;
    int m_dragMergeId = 0;
    QToolButton* m_autoBtn = nullptr;
    double m_first = 0;  // layer view, see setLayerView
    double m_shown = 0;  // <= 0: all layers
};

}  // namespace pipelab::ui
