#include "ui/run_controller.h"

#include "core/executor.h"

#include <chrono>

#include <QMetaObject>
#include <QPointer>

#include "core/backend.h"
#include "core/stats.h"
#include "core/validate.h"

namespace pipelab::ui {

QString RunRecord::label() const {
    const RunMeta& m = timeline.meta;
    // v only when it says something (interleaved): keeps the history column narrow.
    // An imported job with several steps says which one it shows.
    const QString step = importSteps.size() > 1 ? QStringLiteral(" \u00b7 step %1").arg(importStep) : QString();
    return QStringLiteral("#%1 %2 p%3 m%4%5 \u00b7 %6%7")
        .arg(number)
        .arg(QString::fromStdString(m.schedule))
        .arg(m.stages)
        .arg(m.microbatches)
        .arg(m.chunks > 1 ? QStringLiteral(" v%1").arg(m.chunks) : QString())
        .arg(QString::fromStdString(m.backend), step);
}

RunController::RunController(QObject* parent) : QObject(parent) {
    qRegisterMetaType<RunPtr>();
    qRegisterMetaType<RunOwner>();
}

RunController::~RunController() {
    // Blocks for as long as the worker takes to notice the flag (header: one action +
    // 10 ms on a real backend). Its queued result is dropped by Qt with this object.
    m_pending.reset();
    if (m_control) m_control->cancel = true;
    if (m_worker.joinable()) m_worker.join();
}

void RunController::setRunning(bool running) {
    if (running == m_running) return;
    m_running = running;
    emit runningChanged(running);
}

quint64 RunController::start(const RunConfig& cfg, std::optional<Schedule> schedule) {
    Request req{m_next++, cfg, m_profile, std::move(schedule)};
    m_current = req.id;
    setRunning(true);
    emit started(req.id);
    if (m_workerJob != 0) {
        // The running job is outdated: cancel it and queue this one behind it. An older
        // queued request is simply replaced, it never starts.
        m_control->cancel = true;
        m_pending = std::move(req);
    } else {
        launch(std::move(req));
    }
    return m_current;
}

void RunController::cancel() {
    if (m_pending) {
        const quint64 id = m_pending->id;
        m_pending.reset();
        emit cancelled(id);  // it never ran; runningChanged(false) follows when the worker ends
    }
    if (m_control && m_workerJob == m_current) m_control->cancel = true;
}

void RunController::launch(Request req) {
    if (m_worker.joinable()) m_worker.join();  // an ended worker: returns at once
    m_control = std::make_shared<RunControl>();
    m_workerJob = req.id;
    const quint64 id = req.id;
    QPointer<RunController> self(this);

    m_control->on_progress = [self, id](int step, int steps, const std::string& status) {
        QMetaObject::invokeMethod(
            self.data(),
            [self, id, step, steps, s = QString::fromStdString(status)] {
                if (self && id == self->m_current) emit self->progress(id, step, steps, s);
            },
            Qt::QueuedConnection);
    };
    m_worker = std::thread([self, control = m_control, id, cfg = std::move(req.cfg), profile = std::move(req.profile),
                            custom = std::move(req.schedule), live = m_live, peak = m_peak] {
        // Runs on the worker: nothing here touches a QObject except by queued call.
        const int alive = ++*live;
        for (int seen = peak->load(); alive > seen && !peak->compare_exchange_weak(seen, alive);) {}
        auto rec = std::make_shared<RunRecord>();
        rec->source = QStringLiteral("run");
        rec->hasConfig = true;
        rec->config = cfg;
        QString error;
        bool wasCancelled = false;
        const auto t0 = std::chrono::steady_clock::now();
        try {
            Plan plan = make_plan(cfg);
            if (cfg.backend == "sim" && profile && !profile_mismatch(*profile, cfg.model))
                plan.cost = apply_profile(*profile, cfg.model, plan.cost, plan.schedule.n_ranks);
            if (custom) {
                if (auto err = validate_schedule(*custom)) throw ConfigError("schedule", err->what());
                if (custom->n_chunks() != plan.partition.n_chunks())
                    throw ConfigError("schedule", "schedule has " + std::to_string(custom->n_chunks()) +
                                                      " chunks, the experiment's partition has " +
                                                      std::to_string(plan.partition.n_chunks()));
                if (custom->n_ranks != plan.schedule.n_ranks || custom->n_microbatches != plan.schedule.n_microbatches)
                    throw ConfigError("schedule", "schedule has " + std::to_string(custom->n_ranks) + " ranks and " +
                                                      std::to_string(custom->n_microbatches) +
                                                      " microbatches, the experiment " +
                                                      std::to_string(plan.schedule.n_ranks) + " and " +
                                                      std::to_string(plan.schedule.n_microbatches));
                plan.schedule = *custom;
            }
            RunResult result = run_backend(cfg, plan, *control);
            rec->layers = std::move(plan.layers);
            rec->cost = std::move(plan.cost);
            rec->partition = std::move(plan.partition);
            rec->timeline = std::move(result.timeline);
            rec->losses = std::move(result.losses);
            rec->stats = compute_stats(rec->timeline);
        } catch (const RunCancelled&) {
            wasCancelled = true;
        } catch (const ExecutorError& e) {  // the marked grid says where in the schedule
            error =
                QString::fromStdString(e.grid.empty() ? std::string(e.what()) : std::string(e.what()) + "\n" + e.grid);
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
            if (error.isEmpty()) error = QStringLiteral("the run failed");
        }
        rec->wallMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        --*live;
        // The controller joins this thread before it dies, so `self` is valid here; Qt
        // drops the call if the object dies before delivery.
        QMetaObject::invokeMethod(
            self.data(),
            [self, id, rec = std::move(rec), error, wasCancelled]() mutable {
                if (self) self->onWorkerEnded(id, rec, error, wasCancelled);
            },
            Qt::QueuedConnection);
    });
}

void RunController::onWorkerEnded(quint64 id, const RunOwner& rec, const QString& error, bool wasCancelled) {
    if (m_worker.joinable()) m_worker.join();  // it posted this call as its last act
    m_workerJob = 0;
    m_control.reset();
    // A queued request is always the current job, so it exists only when this one is stale.
    const bool current = id == m_current;
    if (current) {
        setRunning(false);
        if (wasCancelled)
            emit cancelled(id);
        else if (!error.isEmpty())
            emit failed(id, error);
        else
            emit finished(id, rec);
    } else {
        ++m_dropped;
    }
    if (m_pending) {
        Request next = std::move(*m_pending);
        m_pending.reset();
        launch(std::move(next));
    } else if (!current) {
        setRunning(false);  // the newer request was cancelled while it waited
    }
}

}  // namespace pipelab::ui
