#include "ui/run_controller.h"

#include <chrono>

#include <QMetaObject>
#include <QPointer>

#include "core/backend.h"
#include "core/stats.h"

namespace pipelab::ui {

QString RunRecord::label() const {
    const RunMeta& m = timeline.meta;
    // v only when it says something (interleaved): keeps the history column narrow.
    return QStringLiteral("#%1 %2 p%3 m%4%5 \u00b7 %6")
        .arg(number)
        .arg(QString::fromStdString(m.schedule))
        .arg(m.stages)
        .arg(m.microbatches)
        .arg(m.chunks > 1 ? QStringLiteral(" v%1").arg(m.chunks) : QString())
        .arg(QString::fromStdString(m.backend));
}

RunController::RunController(QObject* parent) : QObject(parent) { qRegisterMetaType<RunPtr>(); }

RunController::~RunController() {
    for (auto& job : m_jobs) job->control.cancel = true;
    for (auto& job : m_jobs)
        if (job->thread.joinable()) job->thread.join();
}

void RunController::reapFinished() {
    for (auto it = m_jobs.begin(); it != m_jobs.end();) {
        if ((*it)->done.load()) {
            if ((*it)->thread.joinable()) (*it)->thread.join();
            it = m_jobs.erase(it);
        } else {
            ++it;
        }
    }
}

void RunController::setRunning(bool running) {
    if (running == m_running) return;
    m_running = running;
    emit runningChanged(running);
}

quint64 RunController::start(const RunConfig& cfg) {
    cancel();  // an older run is outdated now
    reapFinished();
    auto job = std::make_unique<Job>();
    Job* raw = job.get();
    raw->id = m_next++;
    m_current = raw->id;
    const quint64 id = raw->id;
    QPointer<RunController> self(this);

    raw->control.on_progress = [self, id](int step, int steps, const std::string& status) {
        QMetaObject::invokeMethod(
            self.data(),
            [self, id, step, steps, s = QString::fromStdString(status)] {
                if (self && id == self->m_current) emit self->progress(id, step, steps, s);
            },
            Qt::QueuedConnection);
    };
    raw->thread = std::thread([self, raw, id, cfg] {
        // Runs on the worker: nothing here touches a QObject except by queued call.
        auto rec = std::make_shared<RunRecord>();
        rec->source = QStringLiteral("run");
        rec->hasConfig = true;
        rec->config = cfg;
        QString error;
        bool wasCancelled = false;
        const auto t0 = std::chrono::steady_clock::now();
        try {
            Plan plan = make_plan(cfg);
            RunResult result = run_backend(cfg, plan, raw->control);
            rec->layers = std::move(plan.layers);
            rec->cost = std::move(plan.cost);
            rec->partition = std::move(plan.partition);
            rec->timeline = std::move(result.timeline);
            rec->losses = std::move(result.losses);
            rec->stats = compute_stats(rec->timeline);
        } catch (const RunCancelled&) {
            wasCancelled = true;
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
            if (error.isEmpty()) error = QStringLiteral("the run failed");
        }
        rec->wallMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        // The controller outlives its threads (its destructor joins), so `self` is valid
        // when the queued call is posted; Qt drops it if the object dies before delivery.
        QMetaObject::invokeMethod(
            self.data(),
            [self, id, rec, error, wasCancelled] {
                if (!self) return;
                if (id != self->m_current) {  // a newer job replaced this one
                    ++self->m_dropped;
                    return;
                }
                self->setRunning(false);
                if (wasCancelled) emit self->cancelled(id);
                else if (!error.isEmpty()) emit self->failed(id, error);
                else emit self->finished(id, RunPtr(rec));
            },
            Qt::QueuedConnection);
        raw->done = true;
    });
    m_jobs.push_back(std::move(job));
    setRunning(true);
    emit started(id);
    return id;
}

void RunController::cancel() {
    for (auto& job : m_jobs)
        if (job->id == m_current) job->control.cancel = true;
}

}  // namespace pipelab::ui
