"""The side panels: the problem (its kind's page, start, stop rules) and the runs.

Panels bind to :class:`ExplorerModel`: user edits call model setters; model signals
refresh the widgets (with signals blocked, so nothing loops back).
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
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
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gd_explorer.core.limits import MAX_COUNT, MAX_RUNS, MAX_STEPS
from gd_explorer.core.optim.hyper import HyperParameter
from gd_explorer.core.optim.optimizers import OPTIMIZERS
from gd_explorer.core.optim.schedules import SCHEDULES
from gd_explorer.core.pretty import pretty_formula
from gd_explorer.core.problems.datasets import DATASETS, LOSSES, MODELS
from gd_explorer.core.problems.functions import FUNCTIONS
from gd_explorer.core.problems.kinds import KINDS
from gd_explorer.core.problems.nets import ACTIVATIONS, NET_DATASETS, NET_LOSSES, NET_MODELS
from gd_explorer.model.explorer import ExplorerModel
from gd_explorer.ui.support import error_html, plain_tip, weak_slot
from gd_explorer.ui.widgets import NUMBER, LearningRateEdit, NumberEdit, format_number

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


# ====================================================================== problem pages
class ProblemPage(QWidget):
    """The settings of one problem kind, shown when the problem is of that kind.

    A page edits the problem through :meth:`apply` (the panel shows a refused change
    and restores the model's values); :meth:`refresh` shows the model's problem, with its
    own widgets' signals blocked so that nothing loops back.
    """

    kind = ""

    def __init__(self, panel: ProblemPanel):
        super().__init__()
        self.panel = panel

    @property
    def model(self) -> ExplorerModel:
        return self.panel.model

    def apply(self, **fields) -> bool:
        """Make the problem this kind with ``fields`` changed (False: refused, shown)."""
        return self.panel._apply(self.model.problem.with_fields(kind=self.kind, **fields))

    def refresh(self, problem, objective) -> None:
        """Show ``problem`` (of any kind: a page keeps its fields while another is shown)."""

    def show_error(self, html_text: str) -> None:
        """Show a refusal (rich text, already escaped)."""

    def start_note(self, problem) -> str:
        """How the default start point of ``problem`` is made, for the start editor's
        summary ("" : the problem's own start, nothing to say)."""
        return ""


class FunctionPage(ProblemPage):
    """A built-in function (by dimension) or a typed formula."""

    kind = "function"

    def __init__(self, panel: ProblemPanel):
        super().__init__(panel)
        lay = QVBoxLayout(self)
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
            _disable_last(self.function_picker)
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
        self.function_picker.activated.connect(self._on_function_picked)
        self.formula_edit.textEdited.connect(self._on_formula_edited)
        self.formula_edit.returnPressed.connect(self._on_formula_entered)

    def refresh(self, problem, objective) -> None:
        self.function_picker.blockSignals(True)
        try:
            name = problem.function
            i = self.function_picker.findData(name if name in FUNCTIONS else CUSTOM)
            self.function_picker.setCurrentIndex(i)
            if name not in FUNCTIONS:
                self.formula_edit.setText(name)
        finally:
            self.function_picker.blockSignals(False)

    def show_error(self, html_text: str) -> None:
        self.formula_status.setText(html_text)

    def _on_function_picked(self, index: int) -> None:
        name = self.function_picker.itemData(index)
        if name == CUSTOM:
            self.formula_edit.setFocus()
            self.formula_status.setText("Type a formula and press Enter.")
            return
        if name:
            self.formula_status.setText("")
            self.apply(function=name, maximize=None)

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
        if self.apply(function=text, maximize=None):
            self.formula_status.setText("<span style='color:#2e7d32'>in use</span>")


class DatasetPage(ProblemPage):
    """A dataset (built-in or CSV), the model, the loss (Huber's δ), mini-batches."""

    kind = "dataset"

    def __init__(self, panel: ProblemPanel):
        super().__init__(panel)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.dataset_picker = QComboBox()
        self.dataset_picker.setObjectName("datasetPicker")
        self.dataset_picker.setToolTip("Built-in datasets, or open a CSV file of x and y")
        for name in DATASETS:
            self.dataset_picker.addItem(name, name)
        self.dataset_picker.addItem("Open CSV…", OPEN_CSV)
        self.dataset_picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.dataset_picker.setMinimumContentsLength(14)
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
        form.addRow("Data", self.dataset_picker)
        form.addRow("Model", self.model_picker)
        form.addRow("Loss", self.loss_picker)
        form.addRow(self.huber_label, self.huber_delta)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Seed", self.seed)
        self.dataset_info = QLabel()
        self.dataset_info.setObjectName("datasetInfo")
        self.dataset_info.setTextFormat(Qt.TextFormat.RichText)  # always escaped text
        self.dataset_info.setWordWrap(True)
        form.addRow(self.dataset_info)
        self.dataset_picker.activated.connect(self._on_dataset_picked)
        self.model_picker.activated.connect(self._on_settings)
        self.loss_picker.activated.connect(self._on_settings)
        self.huber_delta.value_edited.connect(self._on_settings)
        self.batch_size.editingFinished.connect(self._on_settings)
        self.seed.editingFinished.connect(self._on_settings)

    def refresh(self, problem, objective) -> None:
        widgets = (self.dataset_picker, self.model_picker, self.loss_picker, self.batch_size,
                   self.seed)
        for w in widgets:
            w.blockSignals(True)
        try:
            j = self.dataset_picker.findData(problem.dataset)
            if j < 0:  # a CSV path: show it as an entry of its own
                self.dataset_picker.insertItem(self.dataset_picker.count() - 1,
                                               problem.dataset, problem.dataset)
                j = self.dataset_picker.findData(problem.dataset)
            self.dataset_picker.setCurrentIndex(j)
            self.model_picker.setCurrentIndex(self.model_picker.findData(problem.model))
            self.loss_picker.setCurrentIndex(self.loss_picker.findData(problem.loss))
            self.huber_delta.set_value(problem.huber_delta)
            huber = problem.loss == "huber"
            self.huber_label.setVisible(huber)
            self.huber_delta.setVisible(huber)
            self.batch_size.setValue(problem.batch_size or 0)
            self.seed.setValue(problem.seed)
        finally:
            for w in widgets:
                w.blockSignals(False)
        if problem.kind == self.kind:
            x = objective.fit_data()[0]
            self.dataset_info.setText(html.escape(f"{x.size} points; "
                                                  f"{objective.dataset.description}"))

    def show_error(self, html_text: str) -> None:
        self.dataset_info.setText(html_text)

    def _on_dataset_picked(self, index: int) -> None:
        name = self.dataset_picker.itemData(index)
        if name == OPEN_CSV:
            self.panel.refresh()  # put the picker back; the window opens the dialog
            self.panel.open_csv_requested.emit()
            return
        self.apply(dataset=name, x_column=None, y_column=None, maximize=None)

    def _on_settings(self, *_ignored) -> None:
        bs = self.batch_size.value()
        self.apply(model=self.model_picker.currentData(), loss=self.loss_picker.currentData(),
                   huber_delta=self.huber_delta.value(), batch_size=bs if bs > 0 else None,
                   seed=self.seed.value())


def _typed_value(text: str):
    """What a typed field holds, for the kind's checks: None (blank), an int, a float, or
    the text itself (the check then says it is not a number)."""
    t = text.strip()
    if not t:
        return None
    if re.fullmatch(r"[+-]?\d+", t):
        return int(t)
    if NUMBER.fullmatch(t):
        return float(t)
    return t


#: the nets page's typed fields: field -> (label, placeholder, tooltip)
_NET_TEXT_FIELDS = {
    "noise": ("Noise", "dataset default",
              "Standard deviation of the Gaussian noise added to the inputs (classification) "
              "or the targets (regression); blank: the dataset's default"),
    "samples": ("Samples", "", "How many points the dataset has (train and test together)"),
    "test_fraction": ("Test fraction", "0",
                      "Share of the points held out as a test set (0 to below 1); the runs "
                      "train on the rest, the metrics show both losses"),
    "data_seed": ("Data seed", "0", "Seed of the generated points and of the train/test split"),
    "init_seed": ("Init seed", "0", "Seed of the initial weights (the start point)"),
    "net_batch_size": ("Batch size", "full batch",
                       "Mini-batch size of each update; blank: the whole training set. The "
                       "loss shown is always the full training loss."),
}


class NetsPage(ProblemPage):
    """A network (logistic regression or an MLP) trained on a generated dataset.

    Every edit goes through the model; typed fields are checked by the kind's own session
    reader (``NetKind.read_fields``), so the page holds no second copy of the limits.
    """

    kind = "nets"

    def __init__(self, panel: ProblemPanel):
        super().__init__(panel)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.net_dataset_picker = QComboBox()
        self.net_dataset_picker.setObjectName("netDatasetPicker")
        self.net_dataset_picker.setToolTip("The generated dataset and its task: 2-D binary "
                                           "classification or 1-D regression")
        for s in NET_DATASETS.values():
            self.net_dataset_picker.addItem(f"{s.name} ({s.task})", s.name)
            self.net_dataset_picker.setItemData(
                self.net_dataset_picker.count() - 1,
                f"{s.description} ({s.task}, default noise {s.noise:g})",
                Qt.ItemDataRole.ToolTipRole)
        self.net_model_picker = QComboBox()
        self.net_model_picker.setObjectName("netModelPicker")
        self.net_model_picker.setToolTip("Logistic regression (a 2-1 network, parameters w1, "
                                         "w2, b) or a multi-layer perceptron of the layers "
                                         "below")
        for m in NET_MODELS.values():
            self.net_model_picker.addItem(m.name, m.name)
            self.net_model_picker.setItemData(self.net_model_picker.count() - 1, m.title,
                                              Qt.ItemDataRole.ToolTipRole)
        self.layers_edit = QLineEdit()
        self.layers_edit.setObjectName("layersEdit")
        self.layers_edit.setPlaceholderText("e.g. 2-16-16-1")
        self.layers_edit.setToolTip(
            "Layer sizes joined by '-': the inputs first (2 for a classification dataset, 1 "
            "for regression), the hidden layers, then 1 output. Press Enter to use them.")
        self.activation_picker = QComboBox()
        self.activation_picker.setObjectName("activationPicker")
        self.activation_picker.setToolTip("The hidden layers' activation (tanh and sigmoid "
                                          "start Xavier-uniform, relu and gelu He-normal)")
        for name in ACTIVATIONS:
            self.activation_picker.addItem(name, name)
        self.net_loss_picker = QComboBox()
        self.net_loss_picker.setObjectName("netLossPicker")
        self.net_loss_picker.setToolTip("Binary cross-entropy on the logit (classification "
                                        "only) or the mean squared error")
        for loss in NET_LOSSES.values():
            self.net_loss_picker.addItem(loss.name, loss.name)
            self.net_loss_picker.setItemData(self.net_loss_picker.count() - 1, loss.title,
                                             Qt.ItemDataRole.ToolTipRole)
        form.addRow("Data", self.net_dataset_picker)
        form.addRow("Model", self.net_model_picker)
        form.addRow("Layers", self.layers_edit)
        form.addRow("Activation", self.activation_picker)
        form.addRow("Loss", self.net_loss_picker)
        self.text_edits: dict[str, QLineEdit] = {}
        for name, (label, placeholder, tip) in _NET_TEXT_FIELDS.items():
            e = QLineEdit()
            e.setObjectName(f"net_{name.removeprefix('net_')}")
            e.setPlaceholderText(placeholder)
            e.setToolTip(tip)
            e.editingFinished.connect(weak_slot(self._on_text_field, name))
            self.text_edits[name] = e
            form.addRow(label, e)
        self.net_info = QLabel()
        self.net_info.setObjectName("netInfo")
        self.net_info.setTextFormat(Qt.TextFormat.RichText)  # always escaped text
        self.net_info.setWordWrap(True)
        form.addRow(self.net_info)
        self._note = self._error = ""
        self.net_dataset_picker.activated.connect(self._on_dataset_picked)
        self.net_model_picker.activated.connect(self._on_model_picked)
        self.layers_edit.editingFinished.connect(self._on_layers)
        self.activation_picker.activated.connect(self._on_choices)
        self.net_loss_picker.activated.connect(self._on_choices)

    # ------------------------------------------------------------------ refresh
    def refresh(self, problem, objective) -> None:
        g = problem.get
        combos = ((self.net_dataset_picker, "net_dataset"), (self.net_model_picker, "net_model"),
                  (self.activation_picker, "activation"), (self.net_loss_picker, "net_loss"))
        for combo, key in combos:
            combo.blockSignals(True)
            combo.setCurrentIndex(max(combo.findData(g(key)), 0))
            combo.blockSignals(False)
        logistic = NET_MODELS[g("net_model")].fixed_layers
        self.layers_edit.setText(logistic or g("layers"))
        self.layers_edit.setEnabled(logistic is None)
        self.activation_picker.setEnabled(logistic is None)  # no hidden layer
        for name, e in self.text_edits.items():
            v = g(name)
            e.setText("" if v is None else format_number(v) if isinstance(v, float)
                      else str(v))
        if problem.kind == self.kind:
            data = objective.data
            n_test = data.y_test.size
            split = f" ({data.y.size} train, {n_test} test)" if n_test else ""
            text = (f"{data.y.size + n_test} points{split}; {data.inputs}-D {data.task}; "
                    f"{objective.dim:,} parameters; {data.description}")
            note = f"<br><span style='color:#5d6d7e'>{html.escape(self._note)}</span>" \
                if self._note else ""
            error = f"<br>{self._error}" if self._error else ""
            self.net_info.setText(html.escape(text) + note + error)
        self._note = self._error = ""

    def show_error(self, html_text: str) -> None:
        # kept for the refresh that follows a refusal (it puts the model's values back)
        self._error = html_text
        self.net_info.setText(html_text)

    def start_note(self, problem) -> str:
        """How the start point was made: the init seed and the scheme."""
        scheme = ("Xavier uniform" if ACTIVATIONS[problem.get("activation")].init == "xavier"
                  or NET_MODELS[problem.get("net_model")].fixed_layers
                  else "He normal, output layer Xavier uniform")
        return f"initialised by seed {problem.get('init_seed')} ({scheme})"

    # ------------------------------------------------------------------ edits
    def _apply_noted(self, note: str, **fields) -> bool:
        self._note = note
        ok = self.apply(**fields)
        self._note = ""
        return ok

    def _on_dataset_picked(self, index: int) -> None:
        """A new dataset: the inputs, the loss and the model follow its task (said so)."""
        spec = NET_DATASETS[self.net_dataset_picker.itemData(index)]
        p = self.model.problem
        inputs = 2 if spec.task == "classification" else 1
        fields, notes = {"net_dataset": spec.name, "noise": None}, []
        if NET_MODELS[p.get("net_model")].fixed_layers and inputs != 2:
            fields["net_model"] = "mlp"
            notes.append("logistic regression takes 2-D inputs: model set to mlp")
        sizes = p.get("layers").split("-")
        if sizes[0].strip() != str(inputs):
            fields["layers"] = "-".join([str(inputs), *sizes[1:]])
            notes.append(f"{spec.name} has {inputs}-D inputs: layers {fields['layers']}")
        if p.get("net_loss") == "cross-entropy" and spec.task != "classification":
            fields["net_loss"] = "mse"
            notes.append("cross-entropy needs class labels: loss set to mse")
        self._apply_noted("; ".join(notes), **fields)

    def _on_model_picked(self, index: int) -> None:
        self.apply(net_model=self.net_model_picker.itemData(index))

    def _on_layers(self) -> None:
        text = self.layers_edit.text().strip()
        if self.layers_edit.isEnabled() and text != self.model.problem.get("layers"):
            self._checked_apply(layers=text)

    def _on_choices(self, *_ignored) -> None:
        self.apply(activation=self.activation_picker.currentData(),
                   net_loss=self.net_loss_picker.currentData())

    def _on_text_field(self, name: str) -> None:
        self._checked_apply(**{name: _typed_value(self.text_edits[name].text())})

    def _checked_apply(self, **changes) -> bool:
        """Check the changed fields as a session file's would be, then apply them."""
        p = self.model.problem
        kind = KINDS[self.kind]
        d = {name: p.get(name) for name in kind.fields} | changes
        try:
            fields = kind.read_fields("", d, True)
        except ValueError as exc:
            msg = str(exc)  # "samples: must be ..." -> "Samples: must be ..." (its label)
            key = msg.split(":", 1)[0]
            if key in _NET_TEXT_FIELDS:
                msg = _NET_TEXT_FIELDS[key][0] + msg[len(key):]
            self.panel._show_problem_error(msg)
            self.panel.refresh()  # the model's values back in the fields
            return False
        return self.apply(**{k: fields[k] for k in changes})


#: problem kind -> its settings page (a kind without one gets an empty page)
PROBLEM_PAGES: dict[str, type[ProblemPage]] = {"function": FunctionPage, "dataset": DatasetPage,
                                               "nets": NetsPage}


def _disable_last(combo: QComboBox) -> None:
    item = combo.model().item(combo.count() - 1)
    item.setEnabled(False)


# ====================================================================== start editor
#: above this many parameters the start is a filterable table instead of one field each
START_FIELDS_MAX = 12
_ROOT = QModelIndex()


class StartTableModel(QAbstractTableModel):
    """The start point as rows (parameter, value); an edited value goes to ``edited``."""

    edited = Signal(int, float)
    refused = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._names: tuple[str, ...] = ()
        self._values = np.zeros(0)
        self._check = NumberEdit()  # the number fields' own check of typed text

    def set_point(self, names, values) -> None:
        values = np.asarray(values, dtype=np.float64)
        if tuple(names) != self._names:
            self.beginResetModel()
            self._names, self._values = tuple(names), values.copy()
            self.endResetModel()
        elif not np.array_equal(values, self._values):
            self._values = values.copy()
            self.dataChanged.emit(self.index(0, 1), self.index(len(self._names) - 1, 1))

    def rowCount(self, parent=_ROOT) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self._names)

    def columnCount(self, parent=_ROOT) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else 2

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return ("parameter", "start value")[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        name = self._names[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return name if index.column() == 0 else format_number(self._values[index.row()])
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"Start value of {name}: double-click or type to change it (every run "
                    "restarts from here)")
        return None

    def flags(self, index):
        f = super().flags(index)
        return f | Qt.ItemFlag.ItemIsEditable if index.column() == 1 else f

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or index.column() != 1:
            return False
        text = str(value)
        problem = self._check.problem(text)
        if problem:
            self.refused.emit(f"{self._names[index.row()]}: {problem}")
            return False
        self.edited.emit(index.row(), float(text.strip()))
        return True


class StartTable(QWidget):
    """The start point of a network: a filter box, the table of (parameter, value), a
    summary line and a reset to the initialisation."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel()
        self.summary.setObjectName("startSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.summary.setToolTip("How many parameters the start has and how it was made")
        lay.addWidget(self.summary)
        row = QHBoxLayout()
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("startFilter")
        self.filter_edit.setPlaceholderText("filter, e.g. w2_ or b1")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setToolTip("Show only the parameters whose name contains this text "
                                    "(w2_ : layer 2's weights, b : the biases)")
        self.reset_button = QPushButton("Reset to initialisation")
        self.reset_button.setObjectName("resetStartButton")
        self.reset_button.setToolTip("Put every parameter back to the problem's own start "
                                     "(the seeded initialisation)")
        row.addWidget(self.filter_edit, 1)
        row.addWidget(self.reset_button)
        lay.addLayout(row)
        self.table_model = StartTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.table_model)
        self.proxy.setFilterKeyColumn(0)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table = QTableView()
        self.table.setObjectName("startTable")
        self.table.setToolTip("The start value of every parameter; double-click a value (or "
                              "select it and type) to change it")
        self.table.setModel(self.proxy)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 6)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 110)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.table.setMinimumHeight(160)
        lay.addWidget(self.table)
        self.error = QLabel()
        self.error.setObjectName("startError")
        self.error.setTextFormat(Qt.TextFormat.RichText)  # always escaped text
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)


# ====================================================================== problem panel
class ProblemPanel(QWidget):
    """Pick the kind of problem and its settings, the direction, the start and the stop rules.

    The kind picker lists :data:`~gd_explorer.core.problems.kinds.KINDS`; each kind's
    settings are its page (:data:`PROBLEM_PAGES`).  The pages' widgets are reachable as
    the panel's attributes too (``panel.function_picker``, ``panel.loss_picker``).
    """

    open_csv_requested = Signal()

    def __init__(self, model: ExplorerModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)

        # -- kind
        kind_row = QHBoxLayout()
        self._kind_group = QButtonGroup(self)
        self.kind_radios: dict[str, QRadioButton] = {}
        self.pages: dict[str, ProblemPage] = {}
        self.stack = QStackedWidget()
        for name, kind in KINDS.items():
            radio = QRadioButton(kind.title)
            radio.setObjectName(f"{name}Radio")
            radio.setToolTip(kind.tooltip)
            self._kind_group.addButton(radio)
            kind_row.addWidget(radio)
            self.kind_radios[name] = radio
            page = PROBLEM_PAGES.get(name, ProblemPage)(self)
            self.pages[name] = page
            self.stack.addWidget(page)
        kind_row.addStretch(1)
        lay.addLayout(kind_row)
        self.stack.currentChanged.connect(self._fit_stack)
        lay.addWidget(self.stack)

        axes_row = QWidget()
        ar = QHBoxLayout(axes_row)
        ar.setContentsMargins(0, 0, 0, 0)
        self.axes_label = QLabel("Surface axes")
        ar.addWidget(self.axes_label)
        self.axis_x = QComboBox()
        self.axis_x.setObjectName("surfaceAxisX")
        self.axis_y = QComboBox()
        self.axis_y.setObjectName("surfaceAxisY")
        for c in (self.axis_x, self.axis_y):
            c.setToolTip("Which two parameters the surface shows; the others are held at "
                         "the selected run's current values")
            ar.addWidget(c)
        lay.addWidget(axes_row)
        self._axes_row = axes_row

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
        self.start_box = QGroupBox("Start point")
        self.start_box.setToolTip("Where every run starts; you can also click on the surface")
        start_lay = QVBoxLayout(self.start_box)
        fields = QWidget()
        self.start_form = QFormLayout(fields)
        self.start_form.setContentsMargins(0, 0, 0, 0)
        self.start_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        start_lay.addWidget(fields)
        # many parameters (a network): one table instead of a field each
        self.start_table = StartTable()
        start_lay.addWidget(self.start_table)
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
        for name, radio in self.kind_radios.items():
            radio.toggled.connect(weak_slot(self._on_kind_toggled, name, pass_signal_args=True))
        self.axis_x.activated.connect(self._on_axes)
        self.axis_y.activated.connect(self._on_axes)
        self.maximize_check.toggled.connect(self._on_maximize)
        self.max_steps.editingFinished.connect(self._on_limits)
        self.tol.value_edited.connect(self._on_limits)
        self.start_table.table_model.edited.connect(self._on_start)
        self.start_table.table_model.refused.connect(self._show_start_error)
        self.start_table.reset_button.clicked.connect(self._on_reset_start)
        model.problem_changed.connect(self.refresh)
        model.start_changed.connect(self._refresh_start)
        model.limits_changed.connect(self._refresh_limits)
        model.surface_axes_changed.connect(self._refresh_axes)
        self.refresh()

    def __getattr__(self, name: str):
        # the pages' widgets as the panel's own (panel.function_picker, panel.loss_picker)
        pages = self.__dict__.get("pages")
        if pages is not None and not name.startswith("__"):
            for page in pages.values():
                if name in page.__dict__:
                    return page.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def function_radio(self) -> QRadioButton:
        return self.kind_radios["function"]

    @property
    def dataset_radio(self) -> QRadioButton:
        return self.kind_radios["dataset"]

    def _fit_stack(self, index: int) -> None:
        # a stacked widget is as tall as its tallest page; let hidden pages not count
        for i in range(self.stack.count()):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            self.stack.widget(i).setSizePolicy(QSizePolicy.Policy.Preferred, policy)
        self.stack.updateGeometry()

    # ------------------------------------------------------------------ refresh from model
    def refresh(self) -> None:
        """Show the model's problem."""
        m, p = self.model, self.model.problem
        obj = m.objective
        widgets = (*self.kind_radios.values(), self.maximize_check)
        for w in widgets:
            w.blockSignals(True)
        try:
            if p.kind in self.kind_radios:
                self.kind_radios[p.kind].setChecked(True)
                self.stack.setCurrentWidget(self.pages[p.kind])
            self._fit_stack(self.stack.currentIndex())
            self.maximize_check.setChecked(m.maximize)
        finally:
            for w in widgets:
                w.blockSignals(False)
        for page in self.pages.values():
            page.refresh(p, obj)
        self.formula_label.setText(formula_html(obj.formula, obj.names,
                                                getattr(obj, "gradient_formulas", ())))
        self.formula_label.setToolTip(obj.description or "The objective and its exact gradient")
        self._refresh_start()
        self._refresh_limits()
        self._refresh_axes()

    def _refresh_start(self) -> None:
        names = self.model.names
        many = len(names) > START_FIELDS_MAX
        self.start_table.setVisible(many)
        self.start_form.parentWidget().setVisible(not many)
        if many:
            while self.start_form.rowCount():
                self.start_form.removeRow(0)
            self.start_edits = []
            self.start_table.table_model.set_point(names, self.model.start)
            page = self.pages.get(self.model.problem.kind)
            note = page.start_note(self.model.problem) if page is not None else ""
            self.start_table.summary.setText(" · ".join(
                t for t in (f"{len(names):,} parameters", note) if t))
            return
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
        self._axes_row.setVisible(show)
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
        for page in self.pages.values():
            page.show_error(error_html(text))

    def _on_kind_toggled(self, name: str, checked: bool) -> None:
        if checked:
            self._apply(replace(self.model.problem, kind=name, maximize=None))

    def _on_axes(self) -> None:
        try:
            self.model.set_surface_axes((self.axis_x.currentIndex(), self.axis_y.currentIndex()))
        except ValueError as exc:
            self.pages[self.model.problem.kind].show_error(error_html(exc))
            self._refresh_axes()

    def _on_maximize(self, checked: bool) -> None:
        default = self.model.objective.maximize
        self._apply(replace(self.model.problem, maximize=None if checked == default else checked))

    def _on_start(self, i: int, v: float) -> None:
        p = self.model.start
        p[i] = v
        self._set_start(p, i)

    def _set_start(self, p, i: int | None = None) -> None:
        try:
            self.model.set_start(p)
        except ValueError as exc:
            if self.start_table.isVisible() or i is None or i >= len(self.start_edits):
                self._show_start_error(str(exc))
            else:
                self.start_edits[i].setToolTip(str(exc))
            self._refresh_start()
            return
        self.start_table.error.setText("")

    def _show_start_error(self, text: str) -> None:
        self.start_table.error.setText(error_html(text))

    def _on_reset_start(self) -> None:
        self._set_start(np.array(self.model.objective.start, dtype=np.float64))

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


#: the run's warm-up, edited next to its schedule's parameters (RunSpec.warmup)
WARMUP = HyperParameter("warmup", "int", 0, "linear warm-up updates before the schedule "
                        "(torch's SequentialLR of LinearLR(start_factor=1/3) and the "
                        "schedule); 0: none", low=0, high=MAX_COUNT)


def _schedule_rule(cls) -> str:
    """The schedule's rule, as the picker's tooltip shows it."""
    torch_name = f"torch's {cls.torch_name}" if cls.torch_name != "none" else "no scheduler"
    return f"{cls.title} ({torch_name}): {cls.rule_text}"


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
            self.schedule_picker.setItemData(self.schedule_picker.count() - 1,
                                             _schedule_rule(cls), Qt.ItemDataRole.ToolTipRole)
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

    def show_curvature(self, curvature) -> None:
        """Mark the selected run's stability edge at the timeline's step on the lr slider
        (``curvature``: the model's :class:`~gd_explorer.model.curvature.Curvature`)."""
        if curvature is None or curvature.run_id != self.model.selected_run_id:
            self.lr_edit.set_edge(None, "")
            return
        self.lr_edit.set_edge(curvature.edge, curvature.edge_text())

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
        self._show_schedule_values(spec)
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
        """One widget per declared parameter, by kind: a spin box within the range (int),
        a number field (float), a check box (bool), a combo box (choice), a line edit of
        comma-separated whole numbers (ints); the warm-up where the schedule takes one."""
        while self.schedule_form.rowCount():
            self.schedule_form.removeRow(0)
        self._schedule_widgets = {}
        cls = SCHEDULES[spec.schedule]
        rule = _schedule_rule(cls)
        params = list(cls.params)
        if cls.allows_warmup:
            params.append(WARMUP)
        for hp in params:
            slot = weak_slot(self._on_schedule_widget, hp.name)
            if hp.kind == "int":
                w = QSpinBox()
                w.setRange(int(hp.low if hp.low is not None else 0),
                           int(min(hp.high if hp.high is not None else MAX_COUNT, MAX_COUNT)))
                w.setKeyboardTracking(False)
                w.editingFinished.connect(slot)
            elif hp.kind == "bool":
                w = QCheckBox()
                w.toggled.connect(slot)
            elif hp.kind == "choice":
                w = QComboBox()
                for c in hp.choices:
                    w.addItem(c, c)
                w.activated.connect(slot)
            elif hp.kind == "ints":
                w = QLineEdit()
                w.setPlaceholderText("e.g. 100,200,300")
                w.editingFinished.connect(slot)
            else:
                w = NumberEdit(hp.default,
                               minimum=hp.low if hp.low is not None else -math.inf,
                               maximum=hp.high if hp.high is not None else math.inf,
                               positive=hp.low == 0 and hp.low_open)
                w.value_edited.connect(slot)
            w.setObjectName(f"schedule_{hp.name}")
            w.setToolTip(plain_tip(f"{hp.describe()}\n\n{rule}"))
            self.schedule_form.addRow(hp.name, w)
            self._schedule_widgets[hp.name] = (hp, w)

    def _show_schedule_values(self, spec) -> None:
        for name, (hp, w) in self._schedule_widgets.items():
            v = spec.warmup if hp is WARMUP else spec.schedule_params.get(name, hp.default)
            w.blockSignals(True)
            if hp.kind == "int":
                w.setValue(int(v))
            elif hp.kind == "bool":
                w.setChecked(bool(v))
            elif hp.kind == "choice":
                w.setCurrentIndex(w.findData(v))
            elif hp.kind == "ints":
                if w.text() != hp.format(v):
                    w.setText(hp.format(v))
            else:
                w.set_value(v)
            w.blockSignals(False)

    def _on_schedule_widget(self, name: str) -> None:
        hp, w = self._schedule_widgets[name]
        if hp.kind == "int":
            value = int(w.value())
        elif hp.kind == "bool":
            value = bool(w.isChecked())
        elif hp.kind == "choice":
            value = w.currentData()
        elif hp.kind == "ints":
            try:
                value = hp.parse(w.text())
            except ValueError as exc:
                self._show_error(str(exc))
                return
        else:
            value = w.value()
        if hp is WARMUP:
            self._edit(warmup=value)
        else:
            self._edit_schedule(name, value)

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
            why = self.error_label.text()  # the picker goes back; the reason stays in view
            self._refresh_editor()
            self.error_label.setText(why)
            return
        usual = self.model.objective.default_lr(name)
        if usual != lr:
            title = OPTIMIZERS[name].title.split(" (")[0]
            self._show_note(f"lr kept at {lr:g}; {title}'s usual rate for this problem "
                            f"is {usual:g}")

    def _on_schedule(self, index: int) -> None:
        name = self.schedule_picker.itemData(index)
        entry = self._selected()
        if entry is None or name == entry.spec.schedule:
            return
        cls = SCHEDULES[name]
        warmup = entry.spec.warmup if cls.allows_warmup else 0
        new = replace(entry.spec, schedule=name, schedule_params={}, warmup=warmup)
        try:
            new.build(False)
        except ValueError:
            if any(p.name == "cycle_momentum" for p in cls.params):
                # torch refuses to cycle a momentum the optimizer lacks (adagrad): say so
                new = replace(new, schedule_params={"cycle_momentum": False})
                if self._apply_spec(new):
                    self._show_note(f"{entry.spec.optimizer} has no momentum or betas: "
                                    "cycle_momentum set to false")
                    return
        if not self._apply_spec(new):
            self._refresh_editor()

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
