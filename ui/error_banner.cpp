#include "ui/error_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

namespace pipelab::ui {

ErrorBanner::ErrorBanner(QWidget* parent) : QFrame(parent), m_label(new QLabel(this)) {
    setObjectName(QStringLiteral("errorBanner"));
    // Fixed colours: an error must look like one on light and dark palettes alike.
    setStyleSheet(
        QStringLiteral("#errorBanner { background: #b3261e; border-radius: 4px; }"
                       "#errorBanner QLabel, #errorBanner QToolButton { color: white; }"));
    m_label->setWordWrap(true);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* close = new QToolButton(this);
    close->setText(QStringLiteral("\u2715"));
    close->setAutoRaise(true);
    close->setToolTip(tr("Dismiss"));
    auto* lay = new QHBoxLayout(this);
    lay->setContentsMargins(8, 4, 4, 4);
    lay->addWidget(m_label, 1);
    lay->addWidget(close);
    connect(close, &QToolButton::clicked, this, &ErrorBanner::clear);
    hide();
}

void ErrorBanner::showError(const QString& message) {
    m_message = message;
    m_label->setText(message);
    show();
}

void ErrorBanner::clear() {
    m_message.clear();
    hide();
}

}  // namespace pipelab::ui
