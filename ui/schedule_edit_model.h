#pragma once
// A schedule being edited by hand: the compute order of every rank (F, B, I, W, R; the
// SEND/RECV actions are derived from it by core's lowering pass, add_send_recv), an
// undo stack of moves, and which actions the user moved. Every move asks core's
// validator first: a legal one is applied and `changed` is emitted (the editor reruns
// the simulation); an illegal one leaves the schedule as it was and returns the
// validator's reason, the same words `pipelab-cli validate` prints for the saved file.
#include <vector>

#include <QObject>
#include <QString>
#include <QUndoStack>

#include "core/schedule.h"

namespace pipelab::ui {

class ScheduleEditModel : public QObject {
    Q_OBJECT
public:
    explicit ScheduleEditModel(QObject* parent = nullptr);

    // Starts over from a schedule (generated or loaded): no moves, no history.
    void setBase(const Schedule& s);
    bool hasSchedule() const { return m_order.n_ranks > 0; }
    const Schedule& order() const { return m_order; }  // compute actions only
    Schedule lowered() const;                          // with SEND/RECV: what runs and is saved
    int rankCount() const { return static_cast<int>(m_order.ranks.size()); }
    int actionCount(int rank) const;

    // Moves the action at `from` on `rank` so that it ends at index `to`. Returns an
    // empty string when applied, else why not (nothing changes). A refusal is also
    // signalled with the spot it concerns.
    QString move(int rank, int from, int to);
    // The validator's verdict on an order (compute-only, lowered before checking): empty
    // when legal.
    static QString verdict(const Schedule& order);

    std::vector<Action> movedActions() const { return m_moved; }
    bool isMoved(const Action& a) const;
    QUndoStack* undoStack() { return &m_undo; }

    // The lowered schedule as the JSON `pipelab-cli validate` and `simulate
    // --schedule-file` read. False with a message on failure.
    bool save(const QString& path, QString* error) const;
    // Loads such a file (lowered or compute-only); it must pass the validator.
    bool load(const QString& path, QString* error);

    // Applied by the undo commands; not for direct use.
    void apply(const Schedule& order, const std::vector<Action>& moved);

signals:
    void changed();
    void refused(int rank, int index, const QString& reason);

private:
    Schedule m_base, m_order;
    std::vector<Action> m_moved;
    QUndoStack m_undo;
};

// The compute actions of a schedule, in order (SEND/RECV dropped).
Schedule computeOrder(const Schedule& s);

}  // namespace pipelab::ui
