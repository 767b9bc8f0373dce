#include "ui/experiment_doc.h"

#include "core/measured_costs.h"

#include <nlohmann/json.hpp>

#include "core/cost_model.h"
#include "core/partition.h"

namespace pipelab::ui {

ExperimentDoc::ExperimentDoc(QObject* parent) : QObject(parent) {}

void ExperimentDoc::reset(const RunConfig& cfg) {
    m_undo.clear();
    apply(cfg);
}

void ExperimentDoc::edit(const RunConfig& next, const QString& text, int mergeId) {
    if (same_run_config(next, m_cfg)) return;
    m_undo.push(new SetConfigCommand(this, m_cfg, next, text, mergeId));
}

void ExperimentDoc::apply(const RunConfig& cfg) {
    m_cfg = cfg;
    emit changed();
}

std::shared_ptr<const Profile> ExperimentDoc::matchingProfile() const {
    return m_profile && !profile_mismatch(*m_profile, m_cfg.model) ? m_profile : nullptr;
}

void ExperimentDoc::setProfile(std::shared_ptr<const Profile> profile) {
    m_profile = std::move(profile);
    emit profileChanged();
}

std::vector<Layer> ExperimentDoc::layers() const { return build_layers(m_cfg.model); }

std::vector<double> ExperimentDoc::layerCostsUs() const {
    return layer_step_costs_us(cost_model_from_flops(m_cfg.model, m_cfg.simulator));
}

std::vector<int> ExperimentDoc::effectiveCuts() const {
    const int nLayers = m_cfg.model.layers + 2;
    const int nChunks = m_cfg.pipeline.stages * m_cfg.pipeline.chunks;
    if (nChunks < 1 || nChunks > nLayers) return {};
    if (!m_cfg.pipeline.boundaries.empty()) {
        const Partition part = partition_from_cuts(nLayers, m_cfg.pipeline.boundaries);
        if (!check_partition(part, nChunks)) return m_cfg.pipeline.boundaries;
    }
    // make_plan's rule, from core.
    return balanced_by_cost(cost_model_from_flops(m_cfg.model, m_cfg.simulator), nChunks).cuts();
}

SetConfigCommand::SetConfigCommand(ExperimentDoc* doc, RunConfig before, RunConfig after, const QString& text,
                                   int mergeId)
    : QUndoCommand(text), m_doc(doc), m_before(std::move(before)), m_after(std::move(after)), m_mergeId(mergeId) {}

void SetConfigCommand::undo() { m_doc->apply(m_before); }
void SetConfigCommand::redo() { m_doc->apply(m_after); }

bool SetConfigCommand::mergeWith(const QUndoCommand* other) {
    const auto* o = static_cast<const SetConfigCommand*>(other);
    if (o->m_mergeId != m_mergeId) return false;
    m_after = o->m_after;
    setObsolete(same_run_config(m_before, m_after));  // dragged back to the start
    return true;
}

}  // namespace pipelab::ui
