"""The window's actions as one table: menus, shortcuts, tool tips, the F1 help and the
README's shortcut table are all made from :data:`ACTIONS` (a test checks the README).

Each entry names the :class:`~gd_explorer.ui.main_window.MainWindow` method it calls, or
the method of one of its parts (``files.open_session``: the window's
:class:`~gd_explorer.ui.file_actions.FileActions`).
Plain actions call it with no argument (Qt's ``triggered`` sends ``checked``, which a
method like ``export_csv(path=None)`` would take for a path); checkable actions call it
with the new state.  Presets and the docks' show/hide actions are made apart (one per
preset; Qt's own toggle actions) but live in the same menus.
"""

from __future__ import annotations

from dataclasses import dataclass

MENUS = ("File", "Run", "View", "Presets", "Help")


@dataclass(frozen=True)
class ActionSpec:
    """One menu action.

    Attributes
    ----------
    name
        Object name (``actionExportCsv``): tests and automation find the action by it.
    menu
        Title of the menu it sits in (one of :data:`MENUS`).
    text
        Menu text, with ``&`` before the mnemonic letter.
    handler
        Name of the window method it calls; dotted for a part of the window
        (``files.export_csv``).
    shortcut
        ``QKeySequence`` text, e.g. ``"Ctrl+E"``; empty for none.
    tip
        Tool tip and status-bar text (default: the menu text).
    checkable
        A toggle; ``handler`` receives the new state.
    default
        Initial state of a toggle.
    setting
        ``QSettings`` key that remembers a toggle's state between sessions ("" : not kept).
    group
        Actions of a menu with different groups are divided by a separator.
    help
        Text of the F1 help and the README table (default: the menu text).
    """

    name: str
    menu: str
    text: str
    handler: str
    shortcut: str = ""
    tip: str = ""
    checkable: bool = False
    default: bool = False
    setting: str = ""
    group: int = 0
    help: str = ""

    @property
    def title(self) -> str:
        """The menu text without mnemonics and ellipsis."""
        return self.text.replace("&", "").rstrip("…").strip()

    @property
    def help_text(self) -> str:
        return self.help or self.title


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("actionOpenSession", "File", "&Open session…", "files.open_session", "Ctrl+O",
               "Open a saved session (a broken or hostile file is refused and changes "
               "nothing)", help="Open a session"),
    ActionSpec("actionSaveSession", "File", "&Save session", "files.save_session", "Ctrl+S",
               "Save the session to its file (asks for one the first time)"),
    ActionSpec("actionSaveSessionAs", "File", "Save session &as…", "files.save_session_as",
               "Ctrl+Shift+S", "Save the session to a new file"),
    ActionSpec("actionOpenCsv", "File", "Open CSV &dataset…", "files.open_csv", "Ctrl+D",
               "Fit a model to the x and y columns of a CSV file", group=1,
               help="Open a CSV dataset"),
    ActionSpec("actionExportCsv", "File", "&Export selected run to CSV…", "files.export_csv",
               "Ctrl+E", "Write the selected run's trajectory (same format as gd-explorer "
               "run --out)", group=2, help="Export the selected run to CSV"),
    ActionSpec("actionExportAllCsv", "File", "Export &all runs to CSV…", "files.export_all_csv",
               "Ctrl+Shift+E", "Write every run's trajectory into a folder, one file each",
               group=2, help="Export all runs"),
    ActionSpec("actionExportScalar", "File", "Export s&calar columns only",
               "files.set_scalar_columns", "", "CSV exports write step, loss, gradient norm, "
               "parameter norm, update norm and lr only: six columns however many "
               "parameters (off: every parameter and gradient as well)", checkable=True,
               setting="export/scalar_columns", group=2, help="Export scalar columns only"),
    ActionSpec("actionExportPlot", "File", "Export current &plot (PNG/SVG)…", "files.export_plot",
               "Ctrl+P", "Save the plot on screen as a PNG or SVG image", group=2,
               help="Export the current plot"),
    ActionSpec("actionQuit", "File", "&Quit", "close", "Ctrl+Q", "Quit gd-explorer (the "
               "session is remembered)", group=3),
    ActionSpec("actionRun", "Run", "Run / &pause", "toggle_run", "Space",
               "Run every run, or pause them"),
    ActionSpec("actionStep", "Run", "&Step", "step", "Right", "One update of every run",
               help="Step: one update of every run"),
    ActionSpec("actionReset", "Run", "&Reset", "reset", "R",
               "Every run back to the start", help="Reset every run to the start"),
    ActionSpec("actionAddRun", "Run", "&Add run", "add_run", "Ctrl+N",
               "Add a run with another optimizer", group=1),
    ActionSpec("actionRemoveRun", "Run", "Re&move selected run", "remove_run", "",
               "Remove the selected run (one run always stays)", group=1),
    ActionSpec("actionSweepRates", "Run", "S&weep learning rates…", "sweep_learning_rates",
               "Ctrl+L", "Run the Sweep tab's sweep for the selected run's optimizer (learning "
               "rates, rates × momenta or the LR range test) off the window's thread",
               group=2, help="Sweep learning rates"),
    ActionSpec("actionCancelSweep", "Run", "&Cancel sweep", "cancel_sweep", "",
               "Stop the sweep that runs (nothing is drawn)", group=2),
    ActionSpec("actionBasins", "Run", "&Basins of attraction…", "compute_basins", "B",
               "Descend a grid of starts over the surface with the selected run's optimizer "
               "and colour each by the minimum it reaches", group=2,
               help="Basins of attraction of the selected run's optimizer"),
    ActionSpec("actionLogColour", "View", "&Log colour scale", "set_log_colour", "L",
               "Colour the surface by log(f − min): losses span decades", checkable=True,
               default=True, setting="view/log_colour", help="Log colour scale"),
    ActionSpec("actionArrows", "View", "−∇f &arrow field", "set_arrow_field", "A",
               "Show −∇f on a grid over the surface", checkable=True,
               setting="view/arrows", help="−∇f arrow field"),
    ActionSpec("actionCurvature", "View", "&Curvature ellipse", "set_curvature_ellipse", "",
               "Draw the local quadratic model's contour at the selected run's point: an "
               "ellipse along the Hessian's eigenvectors (half-axes ∝ 1/√λ), a hyperbola "
               "at a saddle", checkable=True, setting="view/curvature",
               help="Curvature ellipse"),
    ActionSpec("actionLogY", "View", "Log-scale &loss axis", "set_log_loss", "Y",
               "Loss axis on a log scale (linear when a loss is ≤ 0)", checkable=True,
               default=True, setting="view/log_loss", help="Log loss axis"),
    ActionSpec("actionShowBasins", "View", "Show &basins of attraction", "set_basins_shown",
               "Shift+B", "Show or hide the basins-of-attraction map over the surface",
               checkable=True, default=True, setting="view/basins",
               help="Show or hide the basins of attraction"),
    ActionSpec("actionFitToPaths", "View", "Fit surface to &paths", "fit_surface_to_paths",
               "F", "Show the surface around the visible runs' paths and the start "
               "(right-click → View All: the problem's own window)", group=1,
               help="Fit the surface to the paths"),
    ActionSpec("actionShortcuts", "Help", "&Keyboard shortcuts", "show_shortcuts", "F1",
               "List the keyboard shortcuts", help="This list of shortcuts"),
    ActionSpec("actionAbout", "Help", "&About gd-explorer", "show_about"),
)


def shortcut_rows() -> list[tuple[str, str]]:
    """``(key, what it does)`` for every action with a shortcut, in menu order."""
    return [(a.shortcut, a.help_text) for a in ACTIONS if a.shortcut]


_KEY_NAMES = {"Right": "→", "Left": "←"}


def key_text(shortcut: str) -> str:
    """A shortcut as the README and the help write it ("→" for Right)."""
    return "+".join(_KEY_NAMES.get(part, part) for part in shortcut.split("+"))


def readme_shortcut_table() -> str:
    """The README's shortcut table (Markdown), one row per shortcut."""
    rows = ["| key | action |", "|---|---|"]
    rows += [f"| {key_text(k)} | {text} |" for k, text in shortcut_rows()]
    return "\n".join(rows)


def shortcuts_text() -> str:
    """The F1 help: one line per shortcut."""
    rows = shortcut_rows()
    width = max(len(k) for k, _ in rows)
    lines = [f"{key_text(k).ljust(width)}   {text}" for k, text in rows]
    lines.append("")
    lines.append("Keys typed into a field, or arrows on a focused slider or list, go to "
                 "that control.")
    return "\n".join(lines)
