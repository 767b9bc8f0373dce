#include "ui/trace_importer.h"

#include <chrono>

#include <QFileInfo>
#include <QMetaObject>
#include <QPointer>

#include "core/kineto_import.h"
#include "core/stats.h"

namespace pipelab::ui {

TraceImporter::TraceImporter(QObject* parent) : QObject(parent) { qRegisterMetaType<RunOwner>(); }

TraceImporter::~TraceImporter() {
    m_pending.reset();
    if (m_cancel) m_cancel->store(true);
    if (m_worker.joinable()) m_worker.join();
}

void TraceImporter::cancel() {
    m_pending.reset();
    if (m_workerJob != 0 && m_cancel) m_cancel->store(true);
}

quint64 TraceImporter::start(const QStringList& paths, std::optional<long long> step) {
    Request req{m_next++, paths, step};
    m_current = req.id;
    if (m_workerJob != 0) {
        m_pending = std::move(req);
        m_cancel->store(true);  // its result would be stale: stop reading it
    } else {
        launch(std::move(req));
    }
    return m_current;
}

void TraceImporter::launch(Request req) {
    if (m_worker.joinable()) m_worker.join();  // an ended worker: returns at once
    m_workerJob = req.id;
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    QPointer<TraceImporter> self(this);
    std::vector<std::string> files;
    for (const QString& p : req.paths) files.push_back(p.toStdString());
    m_worker = std::thread(
        [self, id = req.id, files = std::move(files), paths = req.paths, step = req.step, cancel = m_cancel] {
            // Runs on the worker: nothing here touches a QObject except by queued call.
            auto rec = std::make_shared<RunRecord>();
            QString error;
            bool wasCancelled = false;
            const auto t0 = std::chrono::steady_clock::now();
            try {
                ImportOptions opt;
                opt.step = step;
                opt.cancel = cancel.get();
                ImportResult r = import_trace_files(files, opt);
                rec->importPaths = paths;
                rec->importSteps = r.steps;
                rec->importStep = r.step;
                rec->timeline = std::move(r.timeline);
                rec->stats = compute_stats(rec->timeline);
                for (const auto& n : r.notes) rec->importNotes << QString::fromStdString(n);
                if (!r.order.ranks.empty()) rec->importedOrder = std::move(r.order);
                QStringList names;
                for (const auto& f : r.files) names << QFileInfo(QString::fromStdString(f)).fileName();
                rec->source = names.join(QStringLiteral(", "));
            } catch (const ImportCancelled&) {
                wasCancelled = true;
            } catch (const std::exception& e) {
                error = QString::fromStdString(e.what());
                if (error.isEmpty()) error = QStringLiteral("the import failed");
            }
            rec->wallMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            // The importer joins this thread before it dies, so `self` is valid here; Qt
            // drops the call if the object dies before delivery.
            QMetaObject::invokeMethod(
                self.data(),
                [self, id, rec = std::move(rec), error, wasCancelled]() mutable {
                    if (self) self->onWorkerEnded(id, rec, error, wasCancelled);
                },
                Qt::QueuedConnection);
        });
}

void TraceImporter::onWorkerEnded(quint64 id, const RunOwner& rec, const QString& error, bool wasCancelled) {
    if (m_worker.joinable()) m_worker.join();  // it posted this call as its last act
    m_workerJob = 0;
    m_cancel.reset();
    if (id == m_current) {
        if (wasCancelled)
            emit cancelled(id);
        else if (error.isEmpty())
            emit finished(id, rec);
        else
            emit failed(id, error);
    }
    if (m_pending) {
        Request next = std::move(*m_pending);
        m_pending.reset();
        launch(std::move(next));
    }
}

}  // namespace pipelab::ui
