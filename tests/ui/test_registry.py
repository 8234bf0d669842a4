"""The view registry: every view declared once, built, found by key, shown for the problems
it claims; one frame per display tick for every view; the per-run item pool."""

import dataclasses
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gd_explorer.core.problems.kinds import COMMON_VIEWS
from gd_explorer.model.snapshot import RunSnapshot
from gd_explorer.ui.views._common import RunItems
from gd_explorer.ui.views.frame import Frame
from gd_explorer.ui.views.registry import (
    MAIN,
    PACED,
    PANE,
    SIDE,
    VIEWS,
    ViewHost,
    ViewSpec,
    runs_feed,
)

#: the views every problem shows whatever its dimension
BASE = COMMON_VIEWS - {"surface", "surface3d", "curve"}


def snap(run_id, n=5, color="#ff0000"):
    p = np.linspace(0, 1, 2 * n).reshape(n, 2)
    return RunSnapshot.make(run_id, f"run {run_id}", color, True, p, np.arange(n, 0, -1.0),
                            p, np.full(n, 0.1))


def shown_keys(w) -> set[str]:
    """The views a user can see: tabs not hidden, pane views not hidden."""
    views, keys = w.views, set()
    for key, spec in views.specs.items():
        if spec.area == PANE:
            if not views.page(key).isHidden():
                keys.add(key)
        else:
            tabs = views.main_tabs if spec.area == MAIN else views.side_tabs
            if tabs.isTabVisible(views.tab_index(key)):
                keys.add(key)
    return keys


def pick_function(w, name):
    picker = w.problem_panel.function_picker
    i = picker.findData(name)
    assert i >= 0, name
    picker.setCurrentIndex(i)
    picker.activated.emit(i)


def test_every_entry_builds_and_says_what_it_is(qtbot):
    keys = [s.key for s in VIEWS]
    assert len(set(keys)) == len(keys)
    assert set(keys) >= {"surface", "curve", "surface3d", "fit", "loss", "steplog", "slice", "lr"}
    for spec in VIEWS:
        assert spec.title.strip() and spec.tooltip.strip(), spec.key
        assert spec.area in (MAIN, SIDE, PANE)
        view = spec.factory()
        qtbot.addWidget(view)
        assert isinstance(view, QWidget) and view.objectName(), spec.key


def test_an_entry_with_a_wrong_area_or_rate_is_refused():
    with pytest.raises(ValueError, match="area"):
        ViewSpec("x", "X", "tip", "left", QWidget)
    with pytest.raises(ValueError, match="rate"):
        ViewSpec("x", "X", "tip", MAIN, QWidget, rate="often")


def test_tabs_are_made_from_the_registry_and_found_by_key(window, qtbot):
    views = window.views
    window.show()
    qtbot.waitExposed(window)
    for spec in VIEWS:
        if spec.area == PANE:
            assert views.tab_index(spec.key) == -1
            assert views.view(spec.key).isVisible()
            continue
        tabs = views.main_tabs if spec.area == MAIN else views.side_tabs
        i = views.tab_index(spec.key)
        assert i >= 0, spec.key
        assert tabs.tabText(i) == spec.title and tabs.tabToolTip(i) == spec.tooltip
        if tabs.isTabVisible(i):
            views.show_tab(spec.key)
            assert tabs.currentIndex() == i and views.current(spec.area) == spec.key
            view = views.view(spec.key)
            assert view is tabs.widget(i) or tabs.widget(i).isAncestorOf(view)
    # the window's names for its views are the registry's
    assert window.surface_view is views.view("surface")
    assert window.loss_view is views.view("loss")
    assert window.step_log is views.view("steplog")
    assert window.slice_view is views.view("slice").view


def test_each_view_shows_for_the_problems_it_claims(window, tmp_path):
    assert shown_keys(window) == BASE | {"surface", "surface3d"}  # Rosenbrock: 2 parameters
    pick_function(window, "parabola")
    assert shown_keys(window) == BASE | {"curve"}
    assert window.views.current() == "curve"
    data = tmp_path / "pts.csv"
    data.write_text("x,y\n1,2\n2,4.1\n3,5.9\n4,8.2\n", encoding="utf-8")
    assert window.load_csv(str(data))
    assert shown_keys(window) == BASE | {"surface", "surface3d", "fit"}
    assert window.views.current() == "surface"  # left the hidden curve
    window.views.show_tab("fit")
    pick_function(window, "himmelblau")
    assert shown_keys(window) == BASE | {"surface", "surface3d"}
    assert window.views.current() == "surface"  # the fit tab is gone with the data
    for spec in VIEWS:  # and each entry's own claim agrees with what is shown
        assert spec.shows(window.model) == (spec.key in shown_keys(window)), spec.key


def test_a_problem_that_lists_its_views_is_obeyed(window, monkeypatch):
    from gd_explorer.model.explorer import ExplorerModel

    monkeypatch.setattr(ExplorerModel, "views",
                        property(lambda m: frozenset({"surface", "loss", "steplog", "no-such-view"})))
    pick_function(window, "booth")
    assert shown_keys(window) == {"surface", "loss", "steplog"}


def test_one_frame_per_tick_reaches_every_view_shown(window, qtbot, monkeypatch, tmp_path):
    import gd_explorer.ui.main_window as mw

    data = tmp_path / "pts.csv"
    data.write_text("x,y\n1,2\n2,4.1\n3,5.9\n", encoding="utf-8")
    assert window.load_csv(str(data))
    built, fed = [], {}
    real = mw.frame_of

    def counting(model):
        built.append(real(model))
        return built[-1]

    monkeypatch.setattr(mw, "frame_of", counting)
    assert not window.views.is_built("curve")
    for spec in VIEWS:
        if window.views.is_built(spec.key):
            monkeypatch.setattr(window.views.view(spec.key), "show_frame",
                                lambda f, key=spec.key: fed.setdefault(key, []).append(f))
    window.model.progressed.emit()
    assert len(built) == 1
    frame = built[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        frame.cursor = 3
    # the slice computes: fed by its own slow timer, only while its tab is shown
    assert set(fed) == {"surface", "surface3d", "fit", "loss", "steplog", "lr"}
    assert all(got == [frame] for got in fed.values())
    assert not window.views.is_built("curve")  # hidden for a 2-parameter fit: not fed


def test_a_new_view_is_one_entry(qtbot):
    class NormView(QWidget):  # a view with set_runs(snaps, cursor) and no show_frame
        def __init__(self):
            super().__init__()
            self.setObjectName("normPlot")
            self.got = []

        def set_runs(self, snaps, cursor):
            self.got.append((len(snaps), cursor))

    lr = ViewSpec("norms", "Norms", "The gradient norm of every run per step", SIDE, NormView,
                  feed=runs_feed, rate=PACED)
    holder = QWidget()  # owns every widget of the host, as the window does
    qtbot.addWidget(holder)
    host = ViewHost((*VIEWS, lr), parent=holder)
    layout = QVBoxLayout(holder)
    for widget in (host.main_tabs, *host.pane, host.side_tabs):
        layout.addWidget(widget)
    i = host.tab_index("norms")
    assert host.side_tabs.tabText(i) == "Norms" and host.view("norms").objectName() == "normPlot"
    frame = Frame((snap(1), snap(2)), 3, 1, (0, 1), ("x", "y"), 2)
    host.set_active({"surface", "loss", "norms"})
    host.show_frame(frame)  # paused: paced views at once
    assert host.view("norms").got == [(2, 3)]
    host.set_active({"surface", "loss"})
    host.show_frame(frame)
    assert host.view("norms").got == [(2, 3)]  # not shown for this problem: not fed
    assert not host.side_tabs.isTabVisible(i)
    with pytest.raises(ValueError, match="two views"):
        ViewHost((*VIEWS, lr, lr))


def test_run_items_make_update_and_remove_per_run():
    made, removed, updated = [], [], []

    class Items:
        def __init__(self, s):
            self.color = s.color
            made.append(s.run_id)

        def set_color(self, c):
            updated.append(c)
            self.color = c

    pool = RunItems(Items, lambda it: removed.append(it))
    pairs = pool.sync([snap(1), snap(2)])
    assert made == [1, 2] and [s.run_id for s, _ in pairs] == [1, 2]
    first = pool[1]
    pairs = pool.sync([snap(1, color="#00ff00"), snap(3)])
    assert made == [1, 2, 3] and pairs[0][1] is first and first.color == "#00ff00"
    assert updated == ["#00ff00"] and len(removed) == 1 and list(pool) == [1, 3]
    assert 2 not in pool and len(pool) == 2
    pool.clear()
    assert len(pool) == 0 and len(removed) == 3


def test_views_drop_the_items_of_a_removed_run(window, qtbot):
    window.show()
    qtbot.waitExposed(window)
    window.add_run()
    ids = [r.run_id for r in window.model.runs]
    assert len(ids) >= 2
    assert all(window.surface_view.run_items(r) is not None for r in ids)
    assert all(window.loss_view.run_item(r) is not None for r in ids)
    window.runs_panel.run_list.setCurrentRow(len(ids) - 1)
    window.remove_run()
    gone = ids[-1] if ids[-1] not in [r.run_id for r in window.model.runs] else None
    assert gone is not None
    assert window.surface_view.run_items(gone) is None
    qtbot.waitUntil(lambda: window.loss_view.run_item(gone) is None, timeout=2000)



def test_a_dropped_view_is_freed_without_the_garbage_collector():
    # A view in a reference cycle with its own parts (a view box holding the view's bound
    # method, a per-run pool holding its factories) is freed by the collector, in an
    # order that segfaulted for the surface (its colour bar). Views keep no such cycle.
    code = textwrap.dedent("""
        import gc, os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtWidgets import QApplication
        app = QApplication(sys.argv)
        from gd_explorer.ui.views.registry import VIEWS
        gc.collect()
        gc.disable()
        for spec in VIEWS:
            view = spec.factory()
            view.show()
            app.processEvents()
            del view
            left = gc.collect()
            print(spec.key, left, flush=True)
    """)
    out = subprocess.run([sys.executable, "-X", "faulthandler", "-c", code],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]
    left = dict(line.split() for line in out.stdout.split("\n") if line)
    assert set(left) == {s.key for s in VIEWS}
    assert all(v == "0" for v in left.values()), left
