#pragma once
// Measures a profile (core/profile_run.h) off the GUI thread: one worker at a time,
// progress and the result by queued calls, cancel through RunControl; the destructor
// cancels and joins.
#include <atomic>
#include <memory>
#include <thread>

#include <QObject>

#include "core/profile.h"
#include "core/run_config.h"
#include "core/run_control.h"

namespace pipelab::ui {

class ProfileRunner : public QObject {
    Q_OBJECT
public:
    explicit ProfileRunner(QObject* parent = nullptr);
    ~ProfileRunner() override;

    // False (and nothing starts) while a profile is being measured.
    bool start(const RunConfig& cfg);
    void cancel();
    bool isRunning() const { return m_worker.joinable(); }

signals:
    void progress(int step, int steps, const QString& status);
    void finished(std::shared_ptr<const pipelab::Profile> profile);
    void failed(const QString& message);
    void cancelled();

private:
    void onEnded(std::shared_ptr<const Profile> profile, const QString& error, bool wasCancelled);

    std::thread m_worker;
    std::shared_ptr<RunControl> m_control;
};

}  // namespace pipelab::ui
