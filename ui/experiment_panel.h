#pragma once
// The experiment's knobs: model size, p, m, v, schedule, backend, steps; Run / Cancel,
// the "rerun on change" toggle and the progress bar. Field edits become undoable
// document edits; the panel re-reads the document when it changes (undo, file open).
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace pipelab::ui {

class ExperimentDoc;

class ExperimentPanel : public QWidget {
    Q_OBJECT
public:
    explicit ExperimentPanel(ExperimentDoc* doc, QWidget* parent = nullptr);

    void refresh();  // from the document
    void setRunning(bool running);
    void setProgress(int step, int steps, const QString& status);
    bool rerunOnChange() const;
    void setRerunOnChange(bool on);
    QComboBox* backendBox() const { return m_backend; }
    QSpinBox* stagesBox() const { return m_stages; }
    QSpinBox* microbatchesBox() const { return m_micro; }
    QComboBox* scheduleBox() const { return m_schedule; }

signals:
    void runRequested();
    void cancelRequested();
    void rerunOnChangeToggled(bool on);

private:
    void commit(const QString& what);  // widgets -> one document edit

    ExperimentDoc* m_doc;
    QSpinBox* m_layers;
    QComboBox* m_dModel;
    QComboBox* m_vocab;
    QSpinBox* m_stages;
    QSpinBox* m_micro;
    QSpinBox* m_chunks;
    QComboBox* m_schedule;
    QComboBox* m_backend;
    QSpinBox* m_steps;
    QPushButton* m_run;
    QPushButton* m_cancel;
    QCheckBox* m_rerun;
    QProgressBar* m_progress;
    QLabel* m_status;
    bool m_refreshing = false;
};

}  // namespace pipelab::ui
