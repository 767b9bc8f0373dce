#include "ui/step_bar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QStyle>
#include <QTimer>
#include <QToolButton>

namespace pipelab::ui {

StepBar::StepBar(QWidget* parent)
    : QWidget(parent), m_play(new QToolButton(this)), m_slider(new QSlider(Qt::Horizontal, this)),
      m_label(new QLabel(this)), m_timer(new QTimer(this)) {
    m_play->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    m_play->setCheckable(true);
    m_play->setToolTip(tr("Play: reveal the actions in time order"));
    m_slider->setToolTip(tr("Step through the actions in time order"));
    m_label->setMinimumWidth(m_label->fontMetrics().horizontalAdvance(QStringLiteral("action 00000 / 00000")));
    auto* lay = new QHBoxLayout(this);
    lay->setContentsMargins(4, 0, 4, 0);
    lay->addWidget(new QLabel(tr("Step through:"), this));
    lay->addWidget(m_play);
    lay->addWidget(m_slider, 1);
    lay->addWidget(m_label);
    m_timer->setInterval(120);
    connect(m_slider, &QSlider::valueChanged, this, &StepBar::onValue);
    connect(m_play, &QToolButton::toggled, this, &StepBar::setPlaying);
    connect(m_timer, &QTimer::timeout, this, [this] {
        if (m_slider->value() >= m_count) return setPlaying(false);
        m_slider->setValue(m_slider->value() + 1);
    });
    setActionCount(0);
}

void StepBar::setActionCount(int n) {
    setPlaying(false);
    m_count = n;
    m_slider->setRange(0, n);
    m_slider->setValue(n);
    onValue(n);
}

int StepBar::shown() const { return m_slider->value(); }
void StepBar::setShown(int k) { m_slider->setValue(k); }
bool StepBar::isPlaying() const { return m_timer->isActive(); }

void StepBar::setPlaying(bool on) {
    if (on && m_slider->value() >= m_count) m_slider->setValue(0);  // replay from the start
    if (on)
        m_timer->start();
    else
        m_timer->stop();
    m_play->blockSignals(true);
    m_play->setChecked(on);
    m_play->blockSignals(false);
    m_play->setIcon(style()->standardIcon(on ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
}

void StepBar::onValue(int v) {
    m_label->setText(tr("action %1 / %2").arg(v).arg(m_count));
    emit revealChanged(v >= m_count ? -1 : v);
}

}  // namespace pipelab::ui
