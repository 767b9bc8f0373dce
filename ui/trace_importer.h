#pragma once
// Opens traces off the GUI thread: one or several files (a torch.profiler trace per rank,
// or one PipeLab trace) become one run for the run history. A 100 MB job takes about a
// second to read, too long for the GUI thread. One worker at a time; a newer request
// waits for it (only the latest is kept) and the older result is dropped as stale; the
// older read is cancelled so the newer starts soon. Reading polls a cancel flag every few
// thousand events, so cancel() and the destructor (closing the window) are prompt.
#include <atomic>
#include <memory>
#include <optional>
#include <thread>

#include <QObject>
#include <QStringList>

#include "ui/run_record.h"

namespace pipelab::ui {

class TraceImporter : public QObject {
    Q_OBJECT
public:
    explicit TraceImporter(QObject* parent = nullptr);
    ~TraceImporter() override;

    // Returns the job id. step: the training step to read (nullopt: the last one every
    // rank completed).
    quint64 start(const QStringList& paths, std::optional<long long> step = std::nullopt);
    bool isBusy() const { return m_workerJob != 0; }
    // Stops the running read and drops a waiting one; the job ends with cancelled().
    void cancel();

signals:
    // The record holds the Timeline, its Stats, the import notes and the order.
    void finished(quint64 job, pipelab::ui::RunOwner run);
    void failed(quint64 job, const QString& message);
    void cancelled(quint64 job);

private:
    struct Request {
        quint64 id = 0;
        QStringList paths;
        std::optional<long long> step;
    };
    void launch(Request req);
    void onWorkerEnded(quint64 id, const RunOwner& rec, const QString& error, bool wasCancelled);

    std::thread m_worker;
    std::shared_ptr<std::atomic<bool>> m_cancel;  // the running worker's flag
    quint64 m_workerJob = 0;
    std::optional<Request> m_pending;
    quint64 m_next = 1;
    quint64 m_current = 0;
};

}  // namespace pipelab::ui
