// MainWindow's calibration: profiling from the Run menu, the calibrated prediction beside
// a real run, and the partition editor's Auto button.
#include <utility>

#include <QAction>
#include <QFileInfo>
#include <QMenu>
#include <QPointer>
#include <QProgressDialog>
#include <QStatusBar>

#include "core/auto_partition.h"
#include "core/profile.h"
#include "ui/auto_partition_job.h"
#include "ui/error_banner.h"
#include "ui/experiment_doc.h"
#include "ui/main_window.h"
#include "ui/partition_editor.h"
#include "ui/profile_runner.h"
#include "ui/run_controller.h"
#include "ui/run_history_model.h"

namespace pipelab::ui {

namespace {
QString profilePathFor(const QString& configPath) {
    QString base = configPath;
    if (base.endsWith(QStringLiteral(".json"))) base.chop(5);
    return base + QStringLiteral(".profile.json");
}
}  // namespace

void MainWindow::buildCalibrationActions(QMenu* runMenu) {
    m_profiler = new ProfileRunner(this);
    runMenu->addSeparator();
    runMenu->addAction(tr("&Profile this model\u2026"), this, &MainWindow::profileExperiment);
    m_compareCalibAct =
        runMenu->addAction(tr("Compare with &calibrated prediction"), this, [this] { compareWithPrediction(); });
    m_compareCalibAct->setToolTip(tr("Simulate the shown real run with the profile's costs and compare the two"));
    runMenu->addAction(tr("&Auto partition"), this, &MainWindow::autoPartition);
    connect(m_doc, &ExperimentDoc::profileChanged, this, [this] {
        m_controller->setProfile(m_doc->profile());
        updateMeasuredCosts();
    });
    connect(m_editor, &PartitionEditor::autoRequested, this, &MainWindow::autoPartition);
    connect(this, &MainWindow::runDisplayed, this, [this](const RunPtr& shown) {
        // The calibrated prediction of a real run has just landed in the history: compare.
        if (!m_predictionOf || shown == m_predictionOf || shown->timeline.meta.backend != "sim") return;
        const RunPtr real = std::exchange(m_predictionOf, nullptr);
        int a = -1, b = -1;
        for (int r = 0; r < m_history->rowCount(); ++r) {
            if (m_history->run(r) == real) a = r;
            if (m_history->run(r) == shown) b = r;
        }
        if (a >= 0 && b >= 0) compareRuns(a, b);
    });
}

void MainWindow::loadProfileBeside(const QString& configPath) {
    const QString path = profilePathFor(configPath);
    if (!QFileInfo::exists(path)) {
        m_doc->setProfile(nullptr);
        return;
    }
    try {
        m_doc->setProfile(std::make_shared<const Profile>(load_profile(path.toStdString())));
        statusBar()->showMessage(tr("Profile %1 loaded").arg(QFileInfo(path).fileName()), 5000);
    } catch (const std::exception& e) {
        m_doc->setProfile(nullptr);
        m_banner->showError(
            tr("Profile %1 ignored: %2").arg(QFileInfo(path).fileName(), QString::fromStdString(e.what())));
    }
}

void MainWindow::saveProfileBeside(const QString& configPath) {
    if (!m_doc->profile() || configPath.isEmpty()) return;
    try {
        save_profile(*m_doc->profile(), profilePathFor(configPath).toStdString());
    } catch (const std::exception& e) {
        m_banner->showError(tr("Cannot save the profile: %1").arg(QString::fromStdString(e.what())));
    }
}

void MainWindow::profileExperiment() {
    if (m_profiler->isRunning()) return;
    auto* dlg = new QProgressDialog(
        tr("Profiling every layer on the %1 backend\u2026")
            .arg(m_doc->config().backend == "sim" ? QStringLiteral("cpu")
                                                  : QString::fromStdString(m_doc->config().backend)),
        tr("Cancel"), 0, 1, this);
    dlg->setObjectName(QStringLiteral("profileProgress"));
    dlg->setWindowModality(Qt::WindowModal);
    dlg->setMinimumDuration(0);
    dlg->setAttribute(Qt::WA_DeleteOnClose);
    connect(dlg, &QProgressDialog::canceled, m_profiler, &ProfileRunner::cancel);
    const auto done = [dlg] { dlg->close(); };
    QList<QMetaObject::Connection> links;
    links << connect(m_profiler, &ProfileRunner::progress, dlg, [dlg](int step, int steps, const QString& status) {
        dlg->setMaximum(steps);
        dlg->setValue(step);
        dlg->setLabelText(status);
    });
    links << connect(m_profiler, &ProfileRunner::finished, this, [this, done](std::shared_ptr<const Profile> p) {
        done();
        m_doc->setProfile(std::move(p));
        saveProfileBeside(m_doc->filePath());
        statusBar()->showMessage(tr("Profiled: the simulator now uses the measured costs"), 8000);
    });
    links << connect(m_profiler, &ProfileRunner::failed, this, [this, done](const QString& msg) {
        done();
        m_banner->showError(tr("Profiling failed: %1").arg(msg));
    });
    links << connect(m_profiler, &ProfileRunner::cancelled, this, [this, done] {
        done();
        statusBar()->showMessage(tr("Profiling cancelled"), 5000);
    });
    // One-shot: the links go with the dialog.
    connect(dlg, &QObject::destroyed, this, [links] {
        for (const auto& l : links) QObject::disconnect(l);
    });
    if (!m_profiler->start(m_doc->config()))
        dlg->close();
    else
        dlg->show();
}

bool MainWindow::compareWithPrediction() {
    const RunPtr real = m_current;
    if (!real || !real->hasConfig || real->timeline.meta.backend == "sim") {
        m_banner->showError(tr("Show a real (cpu or cuda) run first: the prediction is compared with it."));
        return false;
    }
    const auto profile = m_doc->profile();
    if (!profile) {
        m_banner->showError(tr("No profile yet: Run \u2192 Profile this model measures one."));
        return false;
    }
    if (auto diff = profile_mismatch(*profile, real->config.model)) {
        m_banner->showError(QString::fromStdString(*diff));
        return false;
    }
    RunConfig cfg = real->config;
    cfg.backend = "sim";
    cfg.pipeline.boundaries = real->partition.cuts();
    m_predictionOf = real;
    m_controller->start(cfg);
    return true;
}

void MainWindow::autoPartition() {
    RunConfig cfg = m_doc->config();
    const auto profile = m_doc->matchingProfile();
    const quint64 job = ++m_autoJobs;
    m_autoJob.reset();  // joins a search still running (under a second)
    m_autoJob = std::make_unique<AutoPartitionJob>();
    QPointer<MainWindow> self(this);
    statusBar()->showMessage(tr("Searching boundaries\u2026"));
    m_autoJob->worker = std::thread([self, job, cfg, profile]() mutable {
        std::vector<int> cuts;
        QString summary;
        try {
            cfg.pipeline.boundaries.clear();
            Plan plan = make_plan(cfg);
            if (profile) plan.cost = apply_profile(*profile, cfg.model, plan.cost, plan.schedule.n_ranks);
            const double before = score_partition(plan.schedule, plan.partition, plan.cost).step_us;
            const AutoPartitionResult r = auto_partition(plan.schedule, plan.cost);
            cuts = r.best.cuts();
            summary = QObject::tr("Auto partition: predicted %1 ms (balanced %2 ms, %3 costs)")
                          .arg(r.score.step_us / 1e3, 0, 'f', 2)
                          .arg(before / 1e3, 0, 'f', 2)
                          .arg(profile ? QObject::tr("measured") : QObject::tr("cost-model"));
        } catch (const std::exception& e) {
            summary = QString::fromStdString(e.what());
        }
        QMetaObject::invokeMethod(
            self.data(),
            [self, job, cuts, summary] {
                if (self) self->onAutoPartitionFound(job, cuts, summary);
            },
            Qt::QueuedConnection);
    });
}

void MainWindow::onAutoPartitionFound(quint64 job, const std::vector<int>& cuts, const QString& summary) {
    if (job != m_autoJobs) return;  // a newer search is on its way
    if (cuts.empty() && m_doc->config().pipeline.stages * m_doc->config().pipeline.chunks > 1) {
        m_banner->showError(tr("Auto partition failed: %1").arg(summary));
        return;
    }
    RunConfig next = m_doc->config();
    next.pipeline.boundaries = cuts;
    m_doc->edit(next, tr("Auto partition"));  // one undo step
    statusBar()->showMessage(summary, 8000);
    scheduleRerun();  // as after a drag
}

}  // namespace pipelab::ui
