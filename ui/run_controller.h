#pragma once
// Runs experiments off the GUI thread (DESIGN "UI rules", STYLE "Background work").
// start() cancels whatever is running (a newer edit makes it outdated) and launches a
// worker thread that builds the plan, runs the backend and computes the stats. Results
// come back by a queued call on the GUI thread, tagged with a job id; a result whose id
// is not the current job's is stale and dropped. The destructor cancels and joins.
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <thread>

#include <QObject>

#include "core/run_config.h"
#include "core/run_control.h"
#include "ui/run_record.h"

namespace pipelab::ui {

class RunController : public QObject {
    Q_OBJECT
public:
    explicit RunController(QObject* parent = nullptr);
    ~RunController() override;

    quint64 start(const RunConfig& cfg);  // returns the job id
    void cancel();                        // the current job, if any
    bool isRunning() const { return m_running; }
    quint64 currentJob() const { return m_current; }
    int droppedStaleResults() const { return m_dropped; }

signals:
    void started(quint64 job);
    void progress(quint64 job, int step, int steps, const QString& status);
    void finished(quint64 job, pipelab::ui::RunPtr run);
    void failed(quint64 job, const QString& message);
    void cancelled(quint64 job);
    void runningChanged(bool running);

private:
    struct Job {
        quint64 id = 0;
        RunControl control;
        std::atomic<bool> done{false};
        std::thread thread;
    };
    void reapFinished();
    void setRunning(bool running);

    std::list<std::unique_ptr<Job>> m_jobs;
    quint64 m_next = 1;
    quint64 m_current = 0;
    bool m_running = false;
    int m_dropped = 0;
};

}  // namespace pipelab::ui
