// MainWindow: files (configs, traces, exports), recent files and window state.
#include <algorithm>

#include <QCloseEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QMenu>
#include <QStatusBar>
#include <QUndoStack>

#include <nlohmann/json.hpp>

#include "core/schedule.h"
#include "core/stats.h"
#include "core/trace_io.h"
#include "ui/app_settings.h"
#include "ui/chart_export.h"
#include "ui/error_banner.h"
#include "ui/experiment_doc.h"
#include "ui/experiment_panel.h"
#include "ui/main_window.h"
#include "ui/run_controller.h"
#include "ui/run_history_model.h"
#include "ui/timeline_chart.h"
#include "ui/trace_importer.h"

namespace pipelab::ui {

bool MainWindow::openConfig(const QString& path) {
    RunConfig cfg;
    try {
        cfg = load_run_config(path.toStdString());
    } catch (const std::exception& e) {
        // Keep the current experiment: a bad file must not destroy work.
        m_banner->showError(
            tr("Cannot open config %1: %2").arg(QFileInfo(path).fileName(), QString::fromStdString(e.what())));
        return false;
    }
    m_doc->setFilePath(path);
    loadProfileBeside(path);  // before the rerun, so that it already uses the profile
    m_doc->reset(cfg);        // signals changed(): reruns when "rerun on change" is on
    m_banner->clear();
    addRecent(path);
    updateTitle();
    statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
    return true;
}

bool MainWindow::saveConfig(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
        m_banner->showError(tr("Cannot save %1: %2").arg(path, f.errorString()));
        return false;
    }
    f.write(QByteArray::fromStdString(run_config_to_json(m_doc->config()).dump(2) + "\n"));
    f.close();
    saveProfileBeside(path);  // the profile stays with the experiment
    m_doc->setFilePath(path);
    m_doc->undoStack()->setClean();
    addRecent(path);
    updateTitle();
    statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
    return true;
}

bool MainWindow::openTrace(const QString& path) {
    RunRecord rec;
    try {
        rec.timeline = read_chrome_trace(path.toStdString());
        rec.stats = compute_stats(rec.timeline);
    } catch (const std::exception& e) {
        m_banner->showError(
            tr("Cannot open trace %1: %2").arg(QFileInfo(path).fileName(), QString::fromStdString(e.what())));
        return false;
    }
    rec.source = path;
    m_banner->clear();
    showRun(m_history->add(std::move(rec)));
    addRecent(path);
    statusBar()->showMessage(tr("Opened trace %1").arg(path), 5000);
    return true;
}

bool MainWindow::openTraces(const QStringList& paths) {
    if (paths.isEmpty()) return false;
    m_importer->start(paths);
    m_cancelAct->setEnabled(true);
    statusBar()->showMessage(
        tr("Reading %n trace file(s)\u2026 (Esc cancels)", nullptr, static_cast<int>(paths.size())));
    if (paths.size() == 1) addRecent(paths.front());
    return true;
}

void MainWindow::connectTraceImporter() {
    connect(m_importer, &TraceImporter::finished, this, [this](quint64, const RunOwner& run) {
        const RunPtr stored = m_history->add(run);
        m_banner->clear();
        showRun(stored);
        // The first notes say which step and which schedule; all of them in the tooltip.
        const QStringList& notes = stored->importNotes;
        statusBar()->showMessage(tr("Imported %1: %2").arg(stored->source, notes.mid(0, 2).join(QStringLiteral("; "))));
        statusBar()->setToolTip(notes.join(QLatin1Char('\n')));
        emit traceImported(stored);
    });
    connect(m_importer, &TraceImporter::failed, this, [this](quint64, const QString& message) {
        m_banner->showError(tr("Cannot open trace: %1").arg(message));
        statusBar()->showMessage(tr("Import failed"), 5000);
    });
    connect(m_importer, &TraceImporter::cancelled, this,
            [this](quint64) { statusBar()->showMessage(tr("Import cancelled"), 5000); });
    // Whichever way an import ends, Cancel stays on only for a run still going.
    const auto ended = [this] { m_cancelAct->setEnabled(m_controller->isRunning() || m_importer->isBusy()); };
    connect(m_importer, &TraceImporter::finished, this, ended);
    connect(m_importer, &TraceImporter::failed, this, ended);
    connect(m_importer, &TraceImporter::cancelled, this, ended);
}

bool MainWindow::saveImportedOrder(const QString& path) {
    if (!m_current || !m_current->importedOrder) {
        m_banner->showError(tr("The shown run is not an imported job: there is no order to save."));
        return false;
    }
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
        m_banner->showError(tr("Cannot save %1: %2").arg(path, f.errorString()));
        return false;
    }
    f.write(QByteArray::fromStdString(schedule_to_json(*m_current->importedOrder).dump(2) + "\n"));
    f.close();
    statusBar()->showMessage(tr("Saved the order as %1 (pipelab-cli simulate --schedule-file runs it)").arg(path),
                             5000);
    return true;
}

bool MainWindow::haveRunToExport() {
    if (m_current) return true;
    m_banner->showError(tr("Nothing to export yet: run an experiment first."));
    return false;
}

bool MainWindow::exportCharts(const QString& path, int width, int height) {
    if (!haveRunToExport()) return false;
    const QString err = exportChart(m_chart, path, width, height);
    if (!err.isEmpty()) {
        m_banner->showError(err);
        return false;
    }
    statusBar()->showMessage(tr("Exported %1").arg(path), 5000);
    return true;
}

bool MainWindow::exportTrace(const QString& path) {
    if (!haveRunToExport()) return false;
    const QString err = ui::exportTrace(m_current->timeline, path);
    if (!err.isEmpty()) {
        m_banner->showError(err);
        return false;
    }
    statusBar()->showMessage(tr("Exported trace %1 (open it in Perfetto)").arg(path), 5000);
    return true;
}

void MainWindow::addRecent(const QString& path) {
    QStringList list = settings::recentFiles.value();
    const QString abs = QFileInfo(path).absoluteFilePath();
    list.removeAll(abs);
    list.prepend(abs);
    while (list.size() > settings::kMaxRecent) list.removeLast();
    settings::recentFiles.setValue(list);
    settings::lastDir.setValue(QFileInfo(abs).absolutePath());
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
    m_recentMenu->clear();
    const QStringList list = settings::recentFiles.value();
    for (const QString& path : list) {
        m_recentMenu
            ->addAction(QFileInfo(path).fileName(), this,
                        [this, path] {
                            // Traces and configs are both .json: a trace has "traceEvents".
                            QFile f(path);
                            const bool isTrace =
                                f.open(QIODevice::ReadOnly) && f.read(1 << 16).contains("\"traceEvents\"");
                            if (isTrace)
                                openTraces({path});
                            else
                                openConfig(path);
                        })
            ->setToolTip(path);
    }
    m_recentMenu->setEnabled(!list.isEmpty());
}

void MainWindow::openConfigDialog() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open experiment config"), settings::lastDir.value(),
                                                      tr("Experiment config (*.json)"));
    if (!path.isEmpty()) openConfig(path);
}

void MainWindow::saveConfigDialog() {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save experiment config"), settings::lastDir.value(),
                                                      tr("Experiment config (*.json)"));
    if (!path.isEmpty()) saveConfig(path);
}

void MainWindow::openTraceDialog() {
    // A PipeLab trace, or a torch.profiler trace per rank of one job (select them all).
    const QStringList paths =
        QFileDialog::getOpenFileNames(this, tr("Open traces: a PipeLab trace, or one torch.profiler trace per rank"),
                                      settings::lastDir.value(), tr("Chrome traces (*.json *.json.gz);;All files (*)"));
    openTraces(paths);
}

bool MainWindow::openImportedStep(long long step) {
    if (!m_current || m_current->importPaths.isEmpty()) {
        m_banner->showError(tr("The shown run is not an imported job: there is no other step to read."));
        return false;
    }
    const auto& steps = m_current->importSteps;
    if (std::find(steps.begin(), steps.end(), step) == steps.end()) {
        QStringList have;
        for (long long s : steps) have << QString::number(s);
        m_banner->showError(
            tr("The imported job has no step %1 (it has %2).").arg(step).arg(have.join(QStringLiteral(", "))));
        return false;
    }
    m_importer->start(m_current->importPaths, step);
    m_cancelAct->setEnabled(true);
    statusBar()->showMessage(tr("Reading step %1\u2026").arg(step));
    return true;
}

void MainWindow::chooseImportedStepDialog() {
    if (!m_current || m_current->importSteps.size() < 2) return;
    QStringList items;
    int current = 0;
    for (long long s : m_current->importSteps) {
        if (s == m_current->importStep) current = static_cast<int>(items.size());
        items << QString::number(s);
    }
    bool ok = false;
    const QString pick =
        QInputDialog::getItem(this, tr("Imported step"), tr("Training step to show (every rank completed these):"),
                              items, current, false, &ok);
    if (ok) openImportedStep(pick.toLongLong());
}

void MainWindow::saveImportedOrderDialog() {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save the imported order as a schedule"),
                                                      settings::lastDir.value(), tr("Schedule (*.json)"));
    if (!path.isEmpty()) saveImportedOrder(path);
}

void MainWindow::exportChartsDialog() {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export charts"), settings::lastDir.value(),
                                     tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"));
    if (!path.isEmpty()) exportCharts(path);
}

void MainWindow::exportTraceDialog() {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export Chrome trace"), settings::lastDir.value(),
                                                      tr("Chrome trace (*.json);;Gzipped Chrome trace, about a "
                                                         "twentieth of the size (*.json.gz)"));
    if (!path.isEmpty()) exportTrace(path);  // the extension chooses gzip (core/file_io)
}

void MainWindow::closeEvent(QCloseEvent* event) {
    settings::windowGeometry.setValue(saveGeometry());
    settings::windowState.setValue(saveState());
    QMainWindow::closeEvent(event);
}

}  // namespace pipelab::ui
