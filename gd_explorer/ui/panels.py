"""The side panels: the problem (function or dataset, start, stop rules) and the runs.

Panels bind to :class:`ExplorerModel`: user edits call model setters; model signals
refresh the widgets (with signals blocked, so nothing loops back).
"""

from __future__ import annotations

import html
import math
from dataclasses import replace

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gd_explorer.core.limits import MAX_COUNT, MAX_RUNS, MAX_STEPS
from gd_explorer.core.optim.optimizers import OPTIMIZERS
from gd_explorer.core.optim.schedules import SCHEDULES
from gd_explorer.core.pretty import pretty_formula
from gd_explorer.core.problems.datasets import DATASETS, LOSSES, MODELS
from gd_explorer.core.problems.functions import FUNCTIONS
from gd_explorer.model.explorer import ExplorerModel
from gd_explorer.ui.support import error_html, plain_tip, weak_slot
from gd_explorer.ui.widgets import LearningRateEdit, NumberEdit

CUSTOM = "__custom__"
OPEN_CSV = "__open_csv__"


def _update_rule(cls) -> str:
    """The optimizer's entry as a tooltip: title, update rule, hyperparameters."""
    return cls.describe()


def _open_bound(v: float | None, is_open: bool, up: bool, default: float) -> float:
    """A NumberEdit bound from a declared one (an open end: the next float inside)."""
    if v is None:
        return default
    return float(np.nextafter(v, np.inf if up else -np.inf)) if is_open else float(v)


def _number_edit(hp, value) -> NumberEdit:
    """A NumberEdit limited to the declared range of ``hp``."""
    return NumberEdit(value, minimum=_open_bound(hp.low, hp.low_open, True, -math.inf),
                      maximum=_open_bound(hp.high, hp.high_open, False, math.inf))


def formula_html(formula: str, names, gradients) -> str:
    """The objective and its gradient as readable math, one component a line (escaped)."""
    e = html.escape
    lines = [f"<b>f</b> = {e(pretty_formula(formula))}"]
    for name, g in zip(names, gradients):
        lines.append(f"<b>∂f/∂{e(name)}</b> = {e(pretty_formula(g))}")
    return "<br>".join(lines)


def _group(title: str) -> tuple[QGroupBox, QFormLayout]:
    box = QGroupBox(title)
    form = QFormLayout(box)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
    return box, form


class ProblemPanel(QWidget):
    """Pick a function or a dataset, the direction, the start and the stop rules."""

    open_csv_requested = Signal()

    def __init__(self, model: ExplorerModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)

        # -- kind
        kind_row = QHBoxLayout()
        self.function_radio = QRadioButton("Function")
        self.function_radio.setObjectName("functionRadio")
        self.function_radio.setToolTip("Descend a function of x (and y)")
        self.dataset_radio = QRadioButton("Dataset fit")
        self.dataset_radio.setObjectName("datasetRadio")
        self.dataset_radio.setToolTip("Fit a model to data: descend the loss over the "
                                      "model's parameters")
        self._kind_group = QButtonGroup(self)
        self._kind_group.addButton(self.function_radio)
        self._kind_group.addButton(self.dataset_radio)
        kind_row.addWidget(self.function_radio)
        kind_row.addWidget(self.dataset_radio)
        kind_row.addStretch(1)
        lay.addLayout(kind_row)

        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_function_page())
        self.stack.addWidget(self._build_dataset_page())
        self.stack.currentChanged.connect(self._fit_stack)
        lay.addWidget(self.stack)

        self.maximize_check = QCheckBox("Maximize (gradient ascent)")
        self.maximize_check.setObjectName("maximizeCheck")
        self.maximize_check.setToolTip("Climb instead of descend: every optimizer uses −∇f "
                                       "(torch's maximize=True). The fencing area is "
                                       "maximized by default.")
        lay.addWidget(self.maximize_check)

        self.formula_label = QLabel()
        self.formula_label.setObjectName("objectiveFormula")
        self.formula_label.setTextFormat(Qt.TextFormat.RichText)  # escaped in formula_html
        self.formula_label.setWordWrap(True)
        self.formula_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.formula_label.setToolTip("The objective and its exact gradient (sympy)")
        lay.addWidget(self.formula_label)

        # -- start and stop rules
        self.start_box, self.start_form = _group("Start point")
        self.start_box.setToolTip("Where every run starts; you can also click on the surface")
        lay.addWidget(self.start_box)
        self.start_edits: list[NumberEdit] = []

        stop_box, stop_form = _group("Stop rules")
        self.max_steps = QSpinBox()
        self.max_steps.setObjectName("maxSteps")
        self.max_steps.setRange(0, MAX_STEPS)
        self.max_steps.setSingleStep(100)
        self.max_steps.setGroupSeparatorShown(True)
        self.max_steps.setToolTip("Each run stops after this many updates")
        self.tol = NumberEdit(1e-8, minimum=0.0)
        self.tol.setObjectName("tolerance")
        self.tol.setToolTip("A run has converged when the gradient norm |∇f| ≤ this (0: never)")
        stop_form.addRow("Max steps", self.max_steps)
        stop_form.addRow("Tolerance |∇f| ≤", self.tol)
        lay.addWidget(stop_box)
        lay.addStretch(1)

        # -- wiring
        self.function_radio.toggled.connect(self._on_kind_toggled)
        self.function_picker.activated.connect(self._on_function_picked)
        self.formula_edit.textEdited.connect(self._on_formula_edited)
        self.formula_edit.returnPressed.connect(self._on_formula_entered)
        self.dataset_picker.activated.connect(self._on_dataset_picked)
        self.model_picker.activated.connect(self._on_dataset_settings)
        self.loss_picker.activated.connect(self._on_dataset_settings)
        self.huber_delta.value_edited.connect(self._on_dataset_settings)
        self.batch_size.editingFinished.connect(self._on_dataset_settings)
        self.seed.editingFinished.connect(self._on_dataset_settings)
        self.axis_x.activated.connect(self._on_axes)
        self.axis_y.activated.connect(self._on_axes)
        self.maximize_check.toggled.connect(self._on_maximize)
        self.max_steps.editingFinished.connect(self._on_limits)
        self.tol.value_edited.connect(self._on_limits)
        model.problem_changed.connect(self.refresh)
        model.start_changed.connect(self._refresh_start)
        model.limits_changed.connect(self._refresh_limits)
        model.surface_axes_changed.connect(self._refresh_axes)
        self.refresh()

    # ------------------------------------------------------------------ pages
    def _build_function_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        self.function_picker = QComboBox()
        self.function_picker.setObjectName("functionPicker")
        self.function_picker.setToolTip("Built-in functions, or type your own below")
        self.function_picker.setMaxVisibleItems(24)
        self.function_picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.function_picker.setMinimumContentsLength(18)
        for dim, title in ((1, "— 1-D —"), (2, "— 2-D —")):
            self.function_picker.addItem(title)
            self._disable_last(self.function_picker)
            for spec in FUNCTIONS.values():
                if spec.dim == dim:
                    self.function_picker.addItem(
                        f"{spec.title}   {pretty_formula(spec.formula)}", spec.name)
                    self.function_picker.setItemData(self.function_picker.count() - 1,
                                                     spec.description, Qt.ItemDataRole.ToolTipRole)
        self.function_picker.addItem("Typed formula…", CUSTOM)
        lay.addWidget(self.function_picker)
        self.formula_edit = QLineEdit()
        self.formula_edit.setObjectName("formulaEdit")
        self.formula_edit.setPlaceholderText("type f(x, y), e.g. x^2*sin(y), then Enter")
        self.formula_edit.setToolTip(
            "A function of x (and y): numbers, pi, e, + - * / ** (or ^), and sin cos tan exp "
            "log sqrt abs tanh sinh cosh arctan arcsin arccos. Press Enter to use it.")
        self.formula_edit.setClearButtonEnabled(True)
        lay.addWidget(self.formula_edit)
        self.formula_status = QLabel()
        self.formula_status.setObjectName("formulaStatus")
        self.formula_status.setTextFormat(Qt.TextFormat.RichText)  # always escaped text
        self.formula_status.setWordWrap(True)
        lay.addWidget(self.formula_status)
        return page

    def _fit_stack(self, index: int) -> None:
        # a stacked widget is as tall as its tallest page; let hidden pages not count
        for i in range(self.stack.count()):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            self.stack.widget(i).setSizePolicy(QSizePolicy.Policy.Preferred, policy)
        self.stack.updateGeometry()

    @staticmethod
    def _disable_last(combo: QComboBox) -> None:
        item = combo.model().item(combo.count() - 1)
        item.setEnabled(False)

    def _build_dataset_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.dataset_picker = QComboBox()
        self.dataset_picker.setObjectName("datasetPicker")
        self.dataset_picker.setToolTip("Built-in datasets, or open a CSV file of x and y")
        for name in DATASETS:
            self.dataset_picker.addItem(name, name)
        self.dataset_picker.addItem("Open CSV…", OPEN_CSV)
        for combo in (self.dataset_picker,):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
        self.model_picker = QComboBox()
        self.model_picker.setObjectName("modelPicker")
        for m in MODELS.values():
            self.model_picker.addItem(f"{m.name}: {pretty_formula(m.formula)}", m.name)
        self.model_picker.setToolTip("The model F(x) whose parameters are fitted")
        self.loss_picker = QComboBox()
        self.loss_picker.setObjectName("lossPicker")
        for loss in LOSSES.values():
            self.loss_picker.addItem(loss.title.split(" (")[0], loss.name)  # δ: its field
            self.loss_picker.setItemData(self.loss_picker.count() - 1, loss.description,
                                         Qt.ItemDataRole.ToolTipRole)
        self.loss_picker.setToolTip("How the residuals r = F(x) − y are scored")
        self.huber_delta = NumberEdit(1.0, positive=True)
        self.huber_delta.setObjectName("huberDelta")
        self.huber_delta.setToolTip("Huber's δ: residuals |r| < δ count as ½r², larger ones "
                                    "as δ(|r| − ½δ), so outliers pull linearly "
                                    "(torch.nn.HuberLoss's delta)")
        self.huber_label = QLabel("Huber δ")
        self.batch_size = QSpinBox()
        self.batch_size.setObjectName("batchSize")
        self.batch_size.setRange(0, MAX_COUNT)
        self.batch_size.setSpecialValueText("full batch")
        self.batch_size.setToolTip("Mini-batch size for each update (0: the full data; 1: SGD "
                                   "one sample at a time). The loss shown is always the "
                                   "full-data loss.")
        self.seed = QSpinBox()
        self.seed.setObjectName("seed")
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of the mini-batch shuffling (same seed, same path)")
        axes_row = QWidget()
        ar = QHBoxLayout(axes_row)
        ar.setContentsMargins(0, 0, 0, 0)
        self.axis_x = QComboBox()
        self.axis_x.setObjectName("surfaceAxisX")
        self.axis_y = QComboBox()
        self.axis_y.setObjectName("surfaceAxisY")
        for c in (self.axis_x, self.axis_y):
            c.setToolTip("Which two parameters the surface shows; the others are held at "
                         "the selected run's current values")
            ar.addWidget(c)
        self.axes_label = QLabel("Surface axes")
        form.addRow("Data", self.dataset_picker)
        form.addRow("Model", self.model_picker)
        form.addRow("Loss", self.loss_picker)
        form.addRow(self.huber_label, self.huber_delta)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Seed", self.seed)
        form.addRow(self.axes_label, axes_row)
        self.dataset_info = QLabel()
        self.dataset_info.setObjectName("datasetInfo")
        self.dataset_info.setTextFormat(Qt.TextFormat.RichText)  # always escaped text
        self.dataset_info.setWordWrap(True)
        form.addRow(self.dataset_info)
        return page

    # ------------------------------------------------------------------ refresh from model
    def refresh(self) -> None:
        """Show the model's problem."""
        m, p = self.model, self.model.problem
        widgets = (self.function_radio, self.dataset_radio, self.function_picker,
                   self.dataset_picker, self.model_picker, self.loss_picker, self.batch_size,
                   self.seed, self.maximize_check)
        for w in widgets:
            w.blockSignals(True)
        try:
            is_fn = p.kind == "function"
            self.function_radio.setChecked(is_fn)
            self.dataset_radio.setChecked(not is_fn)
            self.stack.setCurrentIndex(0 if is_fn else 1)
            self._fit_stack(self.stack.currentIndex())
            i = self.function_picker.findData(p.function if p.function in FUNCTIONS else CUSTOM)
            self.function_picker.setCurrentIndex(i)
            if p.function not in FUNCTIONS:
                self.formula_edit.setText(p.function)
            j = self.dataset_picker.findData(p.dataset)
            if j < 0:  # a CSV path: show it as an entry of its own
                self.dataset_picker.insertItem(self.dataset_picker.count() - 1, p.dataset,
                                               p.dataset)
                j = self.dataset_picker.findData(p.dataset)
            self.dataset_picker.setCurrentIndex(j)
            self.model_picker.setCurrentIndex(self.model_picker.findData(p.model))
            self.loss_picker.setCurrentIndex(self.loss_picker.findData(p.loss))
            self.huber_delta.set_value(p.huber_delta)
            huber = p.loss == "huber"
            self.huber_label.setVisible(huber)
            self.huber_delta.setVisible(huber)
            self.batch_size.setValue(p.batch_size or 0)
            self.seed.setValue(p.seed)
            self.maximize_check.setChecked(m.maximize)
        finally:
            for w in widgets:
                w.blockSignals(False)
        obj = m.objective
        self.formula_label.setText(formula_html(obj.formula, obj.names,
                                                getattr(obj, "gradient_formulas", ())))
        if p.kind == "dataset":
            ds = obj.dataset
            self.dataset_info.setText(html.escape(f"{ds.x.size} points; {ds.description}"))
        self.formula_label.setToolTip(obj.description or "The objective and its exact gradient")
        self._refresh_start()
        self._refresh_limits()
        self._refresh_axes()

    def _refresh_start(self) -> None:
        names = self.model.names
        if [e.objectName() for e in self.start_edits] != [f"start_{n}" for n in names]:
            while self.start_form.rowCount():
                self.start_form.removeRow(0)
            self.start_edits = []
            for i, n in enumerate(names):
                e = NumberEdit(0.0)
                e.setObjectName(f"start_{n}")
                e.setToolTip(f"Start value of {n} (every run restarts from here)")
                e.value_edited.connect(weak_slot(self._on_start, i, pass_signal_args=True))
                self.start_form.addRow(n, e)
                self.start_edits.append(e)
        for e, v in zip(self.start_edits, self.model.start):
            e.set_value(float(v))

    def _refresh_limits(self) -> None:
        self.max_steps.blockSignals(True)
        self.max_steps.setValue(self.model.max_steps)
        self.max_steps.blockSignals(False)
        self.tol.set_value(self.model.tol)

    def _refresh_axes(self) -> None:
        names = self.model.names
        show = len(names) > 2
        self.axes_label.setVisible(show)
        self.axis_x.setVisible(show)
        self.axis_y.setVisible(show)
        for combo, idx in ((self.axis_x, 0), (self.axis_y, 1)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(list(names))
            axes = self.model.surface_axes
            if idx < len(axes):
                combo.setCurrentIndex(axes[idx])
            combo.blockSignals(False)

    # ------------------------------------------------------------------ user edits
    def _apply(self, spec) -> bool:
        try:
            self.model.set_problem(spec)
        except ValueError as exc:
            self._show_problem_error(str(exc))
            self.refresh()
            return False
        return True

    def _show_problem_error(self, text: str) -> None:
        self.formula_status.setText(error_html(text))
        self.dataset_info.setText(error_html(text))

    def _on_kind_toggled(self, function_checked: bool) -> None:
        kind = "function" if function_checked else "dataset"
        self._apply(replace(self.model.problem, kind=kind, maximize=None))

    def _on_function_picked(self, index: int) -> None:
        name = self.function_picker.itemData(index)
        if name == CUSTOM:
            self.formula_edit.setFocus()
            self.formula_status.setText("Type a formula and press Enter.")
            return
        if name:
            self.formula_status.setText("")
            self._apply(replace(self.model.problem, kind="function", function=name,
                                maximize=None))

    def formula_problem(self, text: str) -> str | None:
        """Why ``text`` is not a usable function, or None (live validation)."""
        from gd_explorer.core.problems.expressions import ExpressionError, parse_expression

        try:
            expr = parse_expression(text)
        except ExpressionError as exc:
            return str(exc)
        return None if expr else "empty"

    def _on_formula_edited(self, text: str) -> None:
        if not text.strip():
            self.formula_status.setText("")
            return
        problem = self.formula_problem(text)
        if problem:
            self.formula_status.setText(error_html(problem))
            return
        from gd_explorer.core.problems.objectives import expression_objective

        try:
            grads = expression_objective(text).gradient_formulas
        except ValueError as exc:
            self.formula_status.setText(error_html(exc))
            return
        self.formula_status.setText(
            "<span style='color:#2e7d32'>OK</span> — ∇f = ("
            + ", ".join(html.escape(pretty_formula(g)) for g in grads) + "); press Enter")

    def _on_formula_entered(self) -> None:
        text = self.formula_edit.text().strip()
        problem = self.formula_problem(text) if text else "type a formula first"
        if problem:
            self.formula_status.setText(error_html(problem))
            return
        if self._apply(replace(self.model.problem, kind="function", function=text,
                               maximize=None)):
            self.formula_status.setText("<span style='color:#2e7d32'>in use</span>")

    def _on_dataset_picked(self, index: int) -> None:
        name = self.dataset_picker.itemData(index)
        if name == OPEN_CSV:
            self.refresh()  # put the picker back; the window opens the dialog
            self.open_csv_requested.emit()
            return
        self._apply(replace(self.model.problem, kind="dataset", dataset=name,
                            x_column=None, y_column=None, maximize=None))

    def _on_dataset_settings(self, *_ignored) -> None:
        bs = self.batch_size.value()
        self._apply(replace(self.model.problem, kind="dataset",
                            model=self.model_picker.currentData(),
                            loss=self.loss_picker.currentData(),
                            huber_delta=self.huber_delta.value(),
                            batch_size=bs if bs > 0 else None, seed=self.seed.value()))

    def _on_axes(self) -> None:
        try:
            self.model.set_surface_axes((self.axis_x.currentIndex(), self.axis_y.currentIndex()))
        except ValueError as exc:
            self.dataset_info.setText(error_html(exc))
            self._refresh_axes()

    def _on_maximize(self, checked: bool) -> None:
        default = self.model.objective.maximize
        self._apply(replace(self.model.problem, maximize=None if checked == default else checked))

    def _on_start(self, i: int, v: float) -> None:
        p = self.model.start
        p[i] = v
        try:
            self.model.set_start(p)
        except ValueError as exc:
            self.start_edits[i].setToolTip(str(exc))
            self._refresh_start()

    def _on_limits(self, *_ignored) -> None:
        try:
            self.model.set_limits(self.max_steps.value(), self.tol.value())
        except ValueError:
            self._refresh_limits()


# ====================================================================== runs
def _swatch(color: str) -> QIcon:
    pm = QPixmap(14, 14)
    pm.fill(QColor(color))
    return QIcon(pm)


class RunsPanel(QWidget):
    """The list of runs and the editor of the selected one."""

    def __init__(self, model: ExplorerModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.run_list = QListWidget()
        self.run_list.setObjectName("runList")
        self.run_list.setToolTip("Runs descend the same problem from the same start. Tick to "
                                 "show, select to edit; the status says how each one ended.")
        self.run_list.setMinimumHeight(110)
        # two lines per run, wrapped, never cut in the middle: runs that differ only in
        # their rate ("… lr=0.001" / "… lr=0.1") stay distinguishable
        self.run_list.setWordWrap(True)
        self.run_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.run_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lay.addWidget(self.run_list)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add run")
        self.add_button.setObjectName("addRunButton")
        self.add_button.setToolTip(f"Add a run with another optimizer (up to {MAX_RUNS})")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("removeRunButton")
        self.remove_button.setToolTip("Remove the selected run")
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        lay.addLayout(row)

        box, form = _group("Selected run")
        self.editor_form = form
        self.optimizer_picker = QComboBox()
        self.optimizer_picker.setObjectName("optimizerPicker")
        for name, cls in OPTIMIZERS.items():
            self.optimizer_picker.addItem(cls.title, name)
            self.optimizer_picker.setItemData(self.optimizer_picker.count() - 1,
                                              plain_tip(_update_rule(cls)),
                                              Qt.ItemDataRole.ToolTipRole)
        self.optimizer_picker.setToolTip("The optimizer (torch.optim's update rules and names)")
        self.lr_edit = LearningRateEdit()
        form.addRow("Optimizer", self.optimizer_picker)
        form.addRow("lr", self.lr_edit)
        self.hyper_box = QWidget()
        self.hyper_form = QFormLayout(self.hyper_box)
        self.hyper_form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.hyper_box)
        self.schedule_picker = QComboBox()
        self.schedule_picker.setObjectName("schedulePicker")
        for name, cls in SCHEDULES.items():
            self.schedule_picker.addItem(cls.title, name)
        self.schedule_picker.setToolTip("Learning-rate schedule (torch.optim.lr_scheduler "
                                        "semantics, one scheduler step per update)")
        form.addRow("Schedule", self.schedule_picker)
        self.schedule_box = QWidget()
        self.schedule_form = QFormLayout(self.schedule_box)
        self.schedule_form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.schedule_box)
        self.error_label = QLabel()
        self.error_label.setObjectName("runError")
        self.error_label.setTextFormat(Qt.TextFormat.RichText)  # always escaped text
        self.error_label.setWordWrap(True)
        form.addRow(self.error_label)
        lay.addWidget(box)
        lay.addStretch(1)

        self.add_button.clicked.connect(self.add_run)
        self.remove_button.clicked.connect(self.remove_selected)
        self.run_list.currentRowChanged.connect(self._on_row)
        self.run_list.itemChanged.connect(self._on_item_changed)
        self.optimizer_picker.activated.connect(self._on_optimizer)
        self.lr_edit.value_edited.connect(self._on_lr)
        self.schedule_picker.activated.connect(self._on_schedule)
        model.runs_changed.connect(self.refresh)
        model.selected_run_changed.connect(self.refresh)
        model.problem_changed.connect(self.refresh)
        self._hyper_widgets: dict = {}
        self._editor_for: tuple | None = None
        self.refresh()

    # ------------------------------------------------------------------ refresh
    def refresh(self, *_ignored) -> None:
        """Rebuild the list and the editor from the model."""
        self.run_list.blockSignals(True)
        self.run_list.clear()
        selected_row = 0
        for i, r in enumerate(self.model.runs):
            item = QListWidgetItem(_swatch(r.color), r.spec.display_label() + "\n")
            item.setData(Qt.ItemDataRole.UserRole, r.run_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if r.spec.visible else
                               Qt.CheckState.Unchecked)
            self.run_list.addItem(item)
            if r.run_id == self.model.selected_run_id:
                selected_row = i
        self.run_list.setCurrentRow(selected_row)
        self.run_list.blockSignals(False)
        self.remove_button.setEnabled(len(self.model.runs) > 1)
        self.add_button.setEnabled(len(self.model.runs) < MAX_RUNS)
        self.refresh_statuses()
        self._refresh_editor()

    def refresh_statuses(self) -> None:
        """Each run's two lines: its label, then how it stands ("paused at step 40")."""
        m = self.model
        snaps = {s.run_id: s for s in m.snapshots()}
        for i in range(self.run_list.count()):
            item = self.run_list.item(i)
            s = snaps.get(item.data(Qt.ItemDataRole.UserRole))
            if s is None:
                continue
            text = f"{s.label}\n    {m.status_text(s)}"
            if item.text() != text:
                self.run_list.blockSignals(True)
                item.setText(text)
                item.setToolTip(plain_tip(text.replace("\n    ", " — ")))
                self.run_list.blockSignals(False)

    def _selected(self):
        rid = self.model.selected_run_id
        return None if rid is None else self.model.run(rid)

    def _refresh_editor(self) -> None:
        entry = self._selected()
        if entry is None:
            return
        spec = entry.spec
        self.optimizer_picker.setCurrentIndex(self.optimizer_picker.findData(spec.optimizer))
        self.lr_edit.set_value(spec.lr)
        self.schedule_picker.setCurrentIndex(self.schedule_picker.findData(spec.schedule))
        key = (entry.run_id, spec.optimizer, spec.schedule)
        if key != self._editor_for:
            self._build_hyper_form(spec)
            self._build_schedule_form(spec)
            self._editor_for = key
        self._show_hyper_values(spec)
        self.error_label.setText("")

    def _build_hyper_form(self, spec) -> None:
        """One widget per declared hyperparameter, by its kind, limited to its range."""
        while self.hyper_form.rowCount():
            self.hyper_form.removeRow(0)
        self._hyper_widgets = {}
        cls = OPTIMIZERS[spec.optimizer]
        rule = cls.rule_text
        for hp in cls.params:
            tip = f"{hp.describe()}\n\n{cls.title}:\n{rule}"
            slot = weak_slot(self._on_hyper_widget, hp.name)
            if hp.kind == "bool":
                w = QCheckBox()
                w.toggled.connect(slot)
            elif hp.none_ok:
                # "none" is a value here (torch's None): typed as text, read by the declaration
                w = QLineEdit(hp.format(hp.default))
                w.editingFinished.connect(slot)
            elif hp.kind == "int":
                w = QSpinBox()
                lo = -MAX_COUNT if hp.low is None else int(math.floor(hp.low)) + hp.low_open
                hi = MAX_COUNT if hp.high is None else int(math.ceil(hp.high)) - hp.high_open
                w.setRange(max(lo, -MAX_COUNT), min(hi, MAX_COUNT))
                w.setValue(int(hp.default))
                w.editingFinished.connect(slot)
            elif hp.kind == "choice":
                w = QComboBox()
                for choice in hp.choices:
                    w.addItem(choice, choice)
                w.activated.connect(slot)
            elif hp.kind == "pair":
                w = QWidget()
                hl = QHBoxLayout(w)
                hl.setContentsMargins(0, 0, 0, 0)
                a, b = _number_edit(hp, hp.default[0]), _number_edit(hp, hp.default[1])
                hl.addWidget(a)
                hl.addWidget(b)
                w.parts = (a, b)
                for part in (a, b):
                    part.setToolTip(tip)
                    part.value_edited.connect(slot)
            else:
                w = _number_edit(hp, hp.default)
                w.value_edited.connect(slot)
            w.setObjectName(f"hyper_{hp.name}")
            w.setToolTip(tip if isinstance(w, NumberEdit) or hasattr(w, "parts")
                         else plain_tip(tip))
            self.hyper_form.addRow(hp.name, w)
            self._hyper_widgets[hp.name] = (hp, w)

    def _on_hyper_widget(self, name: str) -> None:
        hp, w = self._hyper_widgets[name]
        if hp.kind == "bool":
            value = bool(w.isChecked())
        elif hp.none_ok:
            try:
                value = hp.parse(w.text())
            except ValueError as exc:
                self._show_error(str(exc))
                return
        elif hp.kind == "int":
            value = int(w.value())
        elif hp.kind == "choice":
            value = w.currentData()
        elif hp.kind == "pair":
            value = (w.parts[0].value(), w.parts[1].value())
        else:
            value = w.value()
        self._edit_hyper(name, value)

    def _show_hyper_values(self, spec) -> None:
        for name, (hp, w) in self._hyper_widgets.items():
            v = spec.hyper.get(name, hp.default)
            w.blockSignals(True)
            if hp.kind == "bool":
                w.setChecked(bool(v))
            elif hp.none_ok:
                w.setText(hp.format(v))
            elif hp.kind == "int":
                w.setValue(int(v))
            elif hp.kind == "choice":
                w.setCurrentIndex(max(w.findData(hp.check(v)), 0))
            elif hp.kind == "pair":
                w.parts[0].set_value(v[0])
                w.parts[1].set_value(v[1])
            else:
                w.set_value(v)
            w.blockSignals(False)

    def _build_schedule_form(self, spec) -> None:
        while self.schedule_form.rowCount():
            self.schedule_form.removeRow(0)
        self._schedule_widgets = {}
        cls = SCHEDULES[spec.schedule]
        for name, default, help_text in cls.params:
            v = spec.schedule_params.get(name, default)
            slot = weak_slot(self._on_schedule_widget, name)
            if isinstance(default, int):
                w = QSpinBox()
                w.setRange(1, MAX_COUNT)
                w.setValue(int(v))
                w.editingFinished.connect(slot)
            else:
                w = NumberEdit(v, minimum=0.0)
                w.value_edited.connect(slot)
            w.setObjectName(f"schedule_{name}")
            w.setToolTip(f"{name}: {help_text}")
            self.schedule_form.addRow(name, w)
            self._schedule_widgets[name] = w

    def _on_schedule_widget(self, name: str) -> None:
        self._edit_schedule(name, self._schedule_widgets[name].value())

    # ------------------------------------------------------------------ edits
    def _show_error(self, text: str) -> None:
        self.error_label.setText(error_html(text))

    def _show_note(self, text: str) -> None:
        self.error_label.setText(f"<span style='color:#5d6d7e'>{html.escape(text)}</span>")

    def _apply_spec(self, spec) -> bool:
        entry = self._selected()
        if entry is None:
            return False
        if spec == entry.spec:
            return True
        # a run's legend text follows its settings: a preset's label ("SGD lr=0.001")
        # would be wrong once the rate changes
        spec = replace(spec, label="")
        try:
            self.model.update_run(entry.run_id, spec)
        except ValueError as exc:
            self._show_error(str(exc))
            return False
        self.error_label.setText("")
        return True

    def _edit(self, **changes) -> bool:
        entry = self._selected()
        return entry is not None and self._apply_spec(replace(entry.spec, **changes))

    def _on_lr(self, lr: float) -> None:
        self._edit(lr=lr)

    def _edit_hyper(self, name: str, value) -> None:
        entry = self._selected()
        if entry is not None:
            hyper = dict(entry.spec.hyper)
            hyper[name] = value
            self._apply_spec(replace(entry.spec, hyper=hyper))

    def _edit_schedule(self, name: str, value) -> None:
        entry = self._selected()
        if entry is not None:
            params = dict(entry.spec.schedule_params)
            params[name] = value
            self._apply_spec(replace(entry.spec, schedule_params=params))

    def _on_optimizer(self, index: int) -> None:
        name = self.optimizer_picker.itemData(index)
        entry = self._selected()
        if entry is None or name == entry.spec.optimizer:
            return
        # hyperparameters differ between optimizers: the new one starts from its
        # defaults; the rate is the user's and stays (the note says if another is usual)
        lr = entry.spec.lr
        if not self._apply_spec(replace(entry.spec, optimizer=name, hyper={})):
            self._refresh_editor()
            return
        usual = self.model.objective.default_lr(name)
        if usual != lr:
            title = OPTIMIZERS[name].title.split(" (")[0]
            self._show_note(f"lr kept at {lr:g}; {title}'s usual rate for this problem "
                            f"is {usual:g}")

    def _on_schedule(self, index: int) -> None:
        self._edit(schedule=self.schedule_picker.itemData(index), schedule_params={})

    def add_run(self) -> None:
        """Add a run (the next optimizer at its usual rate); a refusal is shown here."""
        try:
            self.model.add_run()
        except ValueError as exc:
            self._show_error(str(exc))

    def remove_selected(self) -> None:
        """Remove the selected run; a refusal is shown here."""
        entry = self._selected()
        if entry is None:
            return
        try:
            self.model.remove_run(entry.run_id)
        except ValueError as exc:
            self._show_error(str(exc))

    def _on_row(self, row: int) -> None:
        item = self.run_list.item(row)
        if item is not None:
            self.model.select_run(item.data(Qt.ItemDataRole.UserRole))

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        self.model.set_run_visible(item.data(Qt.ItemDataRole.UserRole),
                                   item.checkState() == Qt.CheckState.Checked)
