#pragma once
// Runs experiments off the GUI thread (DESIGN "UI rules", STYLE "Background work").
// At most ONE worker thread exists at a time. start() makes the running job outdated:
// it is cancelled, and the new request waits (only the latest one is kept: a burst of
// edits costs one cancelled run and one real run) until the old worker has ended; then
// it starts. Results come back by a queued call on the GUI thread, tagged with a job id;
// a result whose id is not the current job's is stale and dropped.
//
// The destructor cancels and joins the single worker. How long that blocks is bounded by
// how fast the engine notices RunControl::cancel: the executor checks it between actions
// and wakes from every wait within 10 ms, so a CPU run ends within one action plus 10 ms;
// the simulator is not interruptible but takes tens of ms even at p=32, m=512.
#include <atomic>
#include <memory>
#include <optional>
#include <thread>

#include <QObject>

#include "core/profile.h"
#include "core/run_config.h"
#include "core/run_control.h"
#include "ui/run_record.h"

namespace pipelab::ui {

class RunController : public QObject {
    Q_OBJECT
public:
    explicit RunController(QObject* parent = nullptr);
    ~RunController() override;

    // Returns the job id. With `schedule`, that order runs instead of the generated one
    // (a hand-edited schedule); it must pass the validator and match the partition.
    quint64 start(const RunConfig& cfg, std::optional<Schedule> schedule = std::nullopt);
    // Simulated runs take their costs from this profile while it matches the model.
    void setProfile(std::shared_ptr<const Profile> profile) { m_profile = std::move(profile); }
    void cancel();  // the current job, running or queued
    bool isRunning() const { return m_running; }
    quint64 currentJob() const { return m_current; }
    int droppedStaleResults() const { return m_dropped; }
    // Worker threads alive now, and the most ever alive at once (tests: never above 1).
    int liveWorkers() const { return m_live->load(); }
    int peakWorkers() const { return m_peak->load(); }

signals:
    void started(quint64 job);
    void progress(quint64 job, int step, int steps, const QString& status);
    // The record is handed over (the controller keeps no reference), so the receiver may
    // move from it instead of copying ~200k events.
    void finished(quint64 job, pipelab::ui::RunOwner run);
    void failed(quint64 job, const QString& message);
    void cancelled(quint64 job);
    void runningChanged(bool running);

private:
    struct Request {
        quint64 id = 0;
        RunConfig cfg;
        std::shared_ptr<const Profile> profile;
        std::optional<Schedule> schedule;
    };
    void launch(Request req);
    void onWorkerEnded(quint64 id, const RunOwner& rec, const QString& error, bool wasCancelled);
    void setRunning(bool running);

    std::thread m_worker;                   // joinable while a job runs (or just ended)
    std::shared_ptr<RunControl> m_control;  // the worker's; shared so it outlives either side
    quint64 m_workerJob = 0;                // id of the job on m_worker, 0 = none
    std::optional<Request> m_pending;       // the latest request waiting for the worker
    std::shared_ptr<std::atomic<int>> m_live = std::make_shared<std::atomic<int>>(0);
    std::shared_ptr<std::atomic<int>> m_peak = std::make_shared<std::atomic<int>>(0);
    std::shared_ptr<const Profile> m_profile;
    quint64 m_next = 1;
    quint64 m_current = 0;
    bool m_running = false;
    int m_dropped = 0;
};

}  // namespace pipelab::ui
