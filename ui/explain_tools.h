#pragma once
// The teaching tools of the main window, kept apart from its layout: the Explain menu
// (critical path, idle causes, walking the blocks by keyboard) and the Schedule editor
// tab, which follows the experiment being edited.
namespace pipelab::ui {

class MainWindow;
class ScheduleEditor;

// Adds the Explain menu and the Schedule editor tab; returns the editor.
ScheduleEditor* addExplainTools(MainWindow* window);

}  // namespace pipelab::ui
