#include "ui/profile_runner.h"

#include <QPointer>

#include "core/host_device.h"
#include "core/profile_run.h"

namespace pipelab::ui {

ProfileRunner::ProfileRunner(QObject* parent) : QObject(parent) {}

ProfileRunner::~ProfileRunner() {
    if (m_control) m_control->cancel = true;
    if (m_worker.joinable()) m_worker.join();
}

void ProfileRunner::cancel() {
    if (m_control) m_control->cancel = true;
}

bool ProfileRunner::start(const RunConfig& cfg_in) {
    if (m_worker.joinable()) return false;
    RunConfig cfg = cfg_in;
    if (cfg.backend == "sim") cfg.backend = "cpu";  // a profile is measured on a real backend
    m_control = std::make_shared<RunControl>();
    QPointer<ProfileRunner> self(this);
    m_control->on_progress = [self](int step, int steps, const std::string& status) {
        QMetaObject::invokeMethod(
            self.data(),
            [self, step, steps, s = QString::fromStdString(status)] {
                if (self) emit self->progress(step, steps, s);
            },
            Qt::QueuedConnection);
    };
    m_worker = std::thread([self, control = m_control, cfg] {
        std::shared_ptr<const Profile> profile;
        QString error;
        bool wasCancelled = false;
        try {
            // The transfer fit needs a device of two ranks; the CPU one here (a CUDA
            // profile from the app measures its layers and leaves the link to the CLI).
            HostDevice link(2);
            profile = std::make_shared<const Profile>(
                measure_profile(cfg, ProfileOptions{}, *control, cfg.backend == "cpu" ? &link : nullptr));
        } catch (const RunCancelled&) {
            wasCancelled = true;
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
        }
        QMetaObject::invokeMethod(
            self.data(),
            [self, profile, error, wasCancelled] {
                if (self) self->onEnded(profile, error, wasCancelled);
            },
            Qt::QueuedConnection);
    });
    return true;
}

void ProfileRunner::onEnded(std::shared_ptr<const Profile> profile, const QString& error, bool wasCancelled) {
    if (m_worker.joinable()) m_worker.join();  // it posted this call as its last act
    m_control.reset();
    if (wasCancelled)
        emit cancelled();
    else if (!error.isEmpty())
        emit failed(error);
    else
        emit finished(std::move(profile));
}

}  // namespace pipelab::ui
