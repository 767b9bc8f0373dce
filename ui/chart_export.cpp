#include "ui/chart_export.h"

#include <QFileInfo>
#include <QSvgGenerator>

#include <qcustomplot.h>

#include "core/trace_io.h"
#include "ui/timeline_chart.h"

namespace pipelab::ui {

bool chartFormatForPath(const QString& path, ChartFormat* format) {
    const QString ext = QFileInfo(path).suffix().toLower();
    if (ext == QLatin1String("png"))
        *format = ChartFormat::Png;
    else if (ext == QLatin1String("svg"))
        *format = ChartFormat::Svg;
    else if (ext == QLatin1String("pdf"))
        *format = ChartFormat::Pdf;
    else
        return false;
    return true;
}

QString exportChart(QCustomPlot* plot, const QString& path, int width, int height) {
    ChartFormat format;
    if (!chartFormatForPath(path, &format))
        return QObject::tr("Cannot export \"%1\": use a .png, .svg or .pdf file name").arg(path);
    bool ok = false;
    switch (format) {
    case ChartFormat::Png: ok = plot->savePng(path, width, height, 1.0); break;
    case ChartFormat::Pdf: ok = plot->savePdf(path, width, height, QCP::epNoCosmetic, QStringLiteral("PipeLab")); break;
    case ChartFormat::Svg: {
        QSvgGenerator gen;
        gen.setFileName(path);
        gen.setSize(QSize(width, height));
        gen.setViewBox(QRect(0, 0, width, height));
        gen.setTitle(QStringLiteral("PipeLab timeline"));
        auto* timeline = qobject_cast<TimelineChart*>(plot);
        if (timeline) timeline->setSolidIdle(true);
        QCPPainter painter;
        ok = painter.begin(&gen);
        if (ok) {
            plot->toPainter(&painter, width, height);
            ok = painter.end();
        }
        if (timeline) timeline->setSolidIdle(false);
        ok = ok && QFileInfo(path).size() > 0;
        break;
    }
    }
    return ok ? QString() : QObject::tr("Could not write \"%1\"").arg(path);
}

QString exportTrace(const Timeline& tl, const QString& path) {
    try {
        write_chrome_trace(tl, path.toStdString());
    } catch (const std::exception& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

}  // namespace pipelab::ui
