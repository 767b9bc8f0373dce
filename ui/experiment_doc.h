#pragma once
// The experiment being edited: a RunConfig and its undo stack. Every user edit (panel
// field, partition boundary) is one SetConfigCommand; the document signals, views update
// (STYLE "Undo and settings", Tiled). Derived data the editor needs before any run (the
// layers, their analytic costs, the effective partition) is computed here from the
// config, cheaply: no engine work.
#include <memory>

#include <QObject>
#include <QString>
#include <QUndoCommand>
#include <QUndoStack>

#include "core/profile.h"
#include "core/run_config.h"

namespace pipelab::ui {

class ExperimentDoc : public QObject {
    Q_OBJECT
public:
    explicit ExperimentDoc(QObject* parent = nullptr);

    const RunConfig& config() const { return m_cfg; }
    QUndoStack* undoStack() { return &m_undo; }
    QString filePath() const { return m_path; }
    void setFilePath(const QString& path) { m_path = path; }

    // Replaces the config without undo history (file open, new document).
    void reset(const RunConfig& cfg);
    // One undoable edit. Edits with the same non-zero mergeId merge into one undo step
    // (a drag); a merged edit that returns to the start disappears.
    void edit(const RunConfig& next, const QString& text, int mergeId = 0);
    // Applied by the undo command; not for direct use.
    void apply(const RunConfig& cfg);

    // The partition in effect: the config's boundaries, or the cost model's balanced
    // split when they are empty. Empty when the config cannot be partitioned.
    std::vector<int> effectiveCuts() const;
    std::vector<Layer> layers() const;
    std::vector<double> layerCostsUs() const;  // F + B per microbatch, from the cost model
    // Next id for a drag's merged edits.
    int newMergeId() { return ++m_lastMergeId; }

    // The measured profile kept with the experiment (not part of the undo history): the
    // simulator takes its costs from it while it matches the model. Null when none.
    std::shared_ptr<const Profile> profile() const { return m_profile; }
    // The profile when it was measured on the document's model, else null.
    std::shared_ptr<const Profile> matchingProfile() const;
    void setProfile(std::shared_ptr<const Profile> profile);

signals:
    void changed();
    void profileChanged();

private:
    RunConfig m_cfg;
    QUndoStack m_undo;
    QString m_path;
    int m_lastMergeId = 0;
    std::shared_ptr<const Profile> m_profile;
};

class SetConfigCommand : public QUndoCommand {
public:
    SetConfigCommand(ExperimentDoc* doc, RunConfig before, RunConfig after, const QString& text, int mergeId);
    void undo() override;
    void redo() override;
    int id() const override { return m_mergeId != 0 ? 4242 : -1; }
    bool mergeWith(const QUndoCommand* other) override;

private:
    ExperimentDoc* m_doc;
    RunConfig m_before, m_after;
    int m_mergeId;
};

}  // namespace pipelab::ui
