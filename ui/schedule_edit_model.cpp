#include "ui/schedule_edit_model.h"

#include <algorithm>

#include <QFile>
#include <QUndoCommand>
#include <nlohmann/json.hpp>

#include "core/schedule_gen.h"
#include "core/validate.h"

namespace pipelab::ui {

namespace {
class MoveCommand : public QUndoCommand {
public:
    MoveCommand(ScheduleEditModel* model, Schedule before, Schedule after, std::vector<Action> movedBefore,
                std::vector<Action> movedAfter, const QString& text)
        : QUndoCommand(text), m_model(model), m_before(std::move(before)), m_after(std::move(after)),
          m_movedBefore(std::move(movedBefore)), m_movedAfter(std::move(movedAfter)) {}
    void undo() override { m_model->apply(m_before, m_movedBefore); }
    void redo() override { m_model->apply(m_after, m_movedAfter); }

private:
    ScheduleEditModel* m_model;
    Schedule m_before, m_after;
    std::vector<Action> m_movedBefore, m_movedAfter;
};
}  // namespace

Schedule computeOrder(const Schedule& s) {
    Schedule out = s;
    for (auto& row : out.ranks)
        row.erase(std::remove_if(row.begin(), row.end(), [](const Action& a) { return is_comm(a.kind); }), row.end());
    return out;
}

ScheduleEditModel::ScheduleEditModel(QObject* parent) : QObject(parent) {}

void ScheduleEditModel::setBase(const Schedule& s) {
    m_base = computeOrder(s);
    m_order = m_base;
    m_moved.clear();
    m_undo.clear();
    emit changed();
}

Schedule ScheduleEditModel::lowered() const { return add_send_recv(m_order); }

int ScheduleEditModel::actionCount(int rank) const {
    return rank >= 0 && rank < rankCount() ? static_cast<int>(m_order.ranks[static_cast<std::size_t>(rank)].size()) : 0;
}

QString ScheduleEditModel::verdict(const Schedule& order) {
    const auto err = validate_schedule(add_send_recv(computeOrder(order)));
    return err ? QString::fromStdString(err->message) : QString();
}

QString ScheduleEditModel::move(int rank, int from, int to) {
    const int n = actionCount(rank);
    if (from < 0 || from >= n || to < 0 || to >= n) return tr("no action there to move");
    if (from == to) return {};
    Schedule next = m_order;
    auto& row = next.ranks[static_cast<std::size_t>(rank)];
    const Action a = row[static_cast<std::size_t>(from)];
    row.erase(row.begin() + from);
    row.insert(row.begin() + to, a);
    next.name = "custom";
    if (const QString why = verdict(next); !why.isEmpty()) {
        emit refused(rank, to, why);
        return why;
    }
    std::vector<Action> moved = m_moved;
    if (!isMoved(a)) moved.push_back(a);
    // A rank back in its starting order has nothing moved on it.
    if (row == m_base.ranks[static_cast<std::size_t>(rank)])
        moved.erase(
            std::remove_if(moved.begin(), moved.end(), [&](const Action& x) { return next.rank_of(x.chunk) == rank; }),
            moved.end());
    if (next.ranks == m_base.ranks) next.name = m_base.name;
    const QString text = tr("Move %1 to #%2 on stage %3").arg(QString::fromStdString(to_string(a))).arg(to).arg(rank);
    m_undo.push(new MoveCommand(this, m_order, std::move(next), m_moved, std::move(moved), text));
    return {};
}

bool ScheduleEditModel::isMoved(const Action& a) const {
    return std::find(m_moved.begin(), m_moved.end(), a) != m_moved.end();
}

void ScheduleEditModel::apply(const Schedule& order, const std::vector<Action>& moved) {
    m_order = order;
    m_moved = moved;
    emit changed();
}

bool ScheduleEditModel::save(const QString& path, QString* error) const {
    QFile f(path);
    if (!hasSchedule() || !f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
        if (error)
            *error = hasSchedule() ? tr("cannot write %1: %2").arg(path, f.errorString()) : tr("no schedule to save");
        return false;
    }
    const std::string text = schedule_to_json(lowered()).dump(2) + "\n";
    if (f.write(text.data(), static_cast<qint64>(text.size())) != static_cast<qint64>(text.size())) {
        if (error) *error = tr("error while writing %1: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}

bool ScheduleEditModel::load(const QString& path, QString* error) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error) *error = tr("cannot read %1: %2").arg(path, f.errorString());
        return false;
    }
    const QByteArray bytes = f.readAll();
    try {
        const Schedule s =
            schedule_from_json(nlohmann::json::parse(bytes.constData(), bytes.constData() + bytes.size()));
        if (const auto err = validate_schedule(s)) {
            if (error) *error = tr("%1: %2").arg(path, QString::fromStdString(err->what()));
            return false;
        }
        setBase(s);
        return true;
    } catch (const std::exception& e) {
        if (error) *error = tr("%1: %2").arg(path, QString::fromUtf8(e.what()));
        return false;
    }
}

}  // namespace pipelab::ui
