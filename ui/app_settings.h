#pragma once
// Every persistent setting declared once, typed, with its key and default (STYLE "Undo
// and settings", Tiled Preference<T>). QSettings uses the application's organisation and
// name, so tests that set their own names never touch the user's settings.
#include <QByteArray>
#include <QSettings>
#include <QString>
#include <QStringList>

namespace pipelab::ui {

template <typename T>
class Setting {
public:
    Setting(const char* key, T def) : m_key(key), m_def(std::move(def)) {}
    T value() const { return QSettings().value(QLatin1String(m_key), QVariant::fromValue(m_def)).template value<T>(); }
    // Writes only on a real change.
    bool setValue(const T& v) const {
        if (value() == v) return false;
        QSettings().setValue(QLatin1String(m_key), QVariant::fromValue(v));
        return true;
    }

private:
    const char* m_key;
    T m_def;
};

namespace settings {
inline const Setting<QStringList> recentFiles{"files/recent", {}};
inline const Setting<QString> lastDir{"files/lastDir", {}};
inline const Setting<QByteArray> windowGeometry{"window/geometry", {}};
inline const Setting<QByteArray> windowState{"window/state", {}};
inline const Setting<bool> rerunOnChange{"run/rerunOnChange", true};
inline const Setting<bool> darkPalette{"view/dark", false};
inline const Setting<bool> colorBlindSafe{"view/colorBlindSafe", false};
inline const Setting<int> memoryMode{"view/memoryMode", 0};
inline const Setting<bool> criticalPath{"explain/criticalPath", false};
inline const Setting<bool> idleLabels{"explain/idleLabels", true};
constexpr int kMaxRecent = 8;
}  // namespace settings

}  // namespace pipelab::ui
