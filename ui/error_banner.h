#pragma once
// A non-modal error line at the top of the window: errors never block (a modal dialog
// would freeze tests and annoy a lecturer). Hidden until showError; a close button hides.
#include <QFrame>

class QLabel;

namespace pipelab::ui {

class ErrorBanner : public QFrame {
    Q_OBJECT
public:
    explicit ErrorBanner(QWidget* parent = nullptr);
    void showError(const QString& message);
    void clear();
    QString message() const { return m_message; }

private:
    QLabel* m_label;
    QString m_message;
};

}  // namespace pipelab::ui
