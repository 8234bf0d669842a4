"""Benchmark: showing the start point of a network in the problem panel.

Before: one labelled number field per parameter (a QFormLayout row each, as the panel
did for every problem). Now, above 12 parameters: one table on a model
(:class:`~gd_explorer.ui.panels.StartTable`), whatever the size. Prints the median time
to show a start of d parameters both ways, and their ratio, measured in the same run.

    QT_QPA_PLATFORM=offscreen uv run python tests/benchmarks/bench_start_editor.py
"""

import statistics
import time

from PySide6.QtWidgets import QApplication, QFormLayout, QWidget

from gd_explorer.core.problems.nets import make_network
from gd_explorer.ui.panels import StartTable
from gd_explorer.ui.widgets import NumberEdit

REPEATS = 3
LAYERS = ("2-8-8-1", "2-16-16-1", "2-32-32-32-1", "2-64-64-64-64-1")


def fields(names, values) -> float:
    """The former editor: a NumberEdit row per parameter (built, filled, shown)."""
    t = time.perf_counter()
    box = QWidget()
    form = QFormLayout(box)
    for n, v in zip(names, values):
        e = NumberEdit(0.0)
        e.setObjectName(f"start_{n}")
        e.setToolTip(f"Start value of {n} (every run restarts from here)")
        form.addRow(n, e)
        e.set_value(float(v))
    box.show()
    QApplication.processEvents()
    dt = time.perf_counter() - t
    box.deleteLater()
    QApplication.processEvents()
    return dt


def table(names, values) -> float:
    t = time.perf_counter()
    w = StartTable()
    w.table_model.set_point(names, values)
    w.summary.setText(f"{len(names):,} parameters")
    w.show()
    QApplication.processEvents()
    dt = time.perf_counter() - t
    w.deleteLater()
    QApplication.processEvents()
    return dt


def main() -> None:
    QApplication.instance() or QApplication([])
    print(f"{'layers':<18} {'d':>7} {'fields (ms)':>12} {'table (ms)':>11} {'ratio':>7}")
    for layers in LAYERS:
        net = make_network("mlp", layers)
        names, values = net.names, net.init(0)
        a = statistics.median(fields(names, values) for _ in range(REPEATS)) * 1e3
        b = statistics.median(table(names, values) for _ in range(REPEATS)) * 1e3
        print(f"{layers:<18} {net.dim:>7,} {a:>12.1f} {b:>11.1f} {a / b:>6.0f}x")


if __name__ == "__main__":
    main()
