"""Every view of the window, declared once: its key, how it is made, its tab's title and
tool tip, where it sits, when it shows and how often it is fed.

The window builds its tabs from :data:`VIEWS` (:class:`ViewHost`) and finds them by key,
never by position; each display tick it hands one :class:`~gd_explorer.ui.views.frame.Frame`
to every view shown for the problem. Adding a view is one entry, e.g. a side tab that
plots each run's gradient norm::

    ViewSpec("norms", "Norms", "The gradient norm of every run per step", SIDE, NormView,
             feed=runs_feed, rate=PACED)

Which views a problem shows: a problem model that knows says so with a set of keys
(``model.views``); otherwise each entry's ``shows(model)`` decides (a surface for
two or more parameters, a curve for one, the fit for a problem that predicts data).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6 import QtCore, QtWidgets

from gd_explorer.ui.views._common import LazyPage
from gd_explorer.ui.views.curve import CurveView
from gd_explorer.ui.views.decision import DecisionView
from gd_explorer.ui.views.fit import FitView
from gd_explorer.ui.views.frame import Frame
from gd_explorer.ui.views.landscape import LandscapeView
from gd_explorer.ui.views.loss import LossView
from gd_explorer.ui.views.lr import LRView
from gd_explorer.ui.views.metrics import MetricsView
from gd_explorer.ui.views.sharpness import SharpnessView
from gd_explorer.ui.views.slice_view import SlicePage
from gd_explorer.ui.views.steplog import StepLogView
from gd_explorer.ui.views.surface import SurfaceView
from gd_explorer.ui.views.surface3d import Surface3DView
from gd_explorer.ui.views.sweep import SweepView

#: where a view sits: the main tabs (left), the side tabs (right, below the loss) ...
MAIN, SIDE = "main", "side"
#: ... or the pane above the side tabs (no tab: always in view)
PANE = "pane"
AREAS = (MAIN, SIDE, PANE)

#: fed every display tick (<= 60 Hz)
EVERY_FRAME = "frame"
#: fed every tick while paused; while running at most every ``PACED_S``, a few ms after the
#: tick that triggers it, in an event of its own (its axes re-lay out their text: ~10 ms)
PACED = "paced"
#: text read at human speed: at most 8 times a second while running
TEXT = "text"
#: derived data that costs more than a redraw (computed for it): at most 5 times a
#: second, and only while its tab is the one shown
SLOW = "slow"
RATES = (EVERY_FRAME, PACED, TEXT, SLOW)

PACED_S = 0.1
PACED_DELAY_MS = 8


def show_frame(view, frame: Frame) -> None:
    """The default feed: ``view.show_frame(frame)``."""
    view.show_frame(frame)


def no_feed(_view, _frame: Frame) -> None:
    """Feed for a view that draws results of its own, not the runs (the Sweep view)."""


def runs_feed(view, frame: Frame) -> None:
    """Feed for a view with ``set_runs(snapshots, cursor)`` and no ``show_frame``."""
    view.set_runs(frame.snapshots, frame.cursor)


def always(_model) -> bool:
    return True


def classifies(model) -> bool:
    """Whether the problem is a classifier of 2-D inputs (its capability)."""
    return model.objective.decision_data() is not None


def measures(model) -> bool:
    """Whether the problem has measures beyond the loss, or layers (its capabilities)."""
    return bool(model.objective.metric_names) or model.objective.layers() is not None


def two_or_more(model) -> bool:
    return model.dim >= 2


def one_parameter(model) -> bool:
    return model.dim == 1


def has_layers(model) -> bool:
    """Whether the problem's parameters come in layers of filters (a network)."""
    return model.objective.filter_groups() is not None


def fits_data(model) -> bool:
    """Whether the problem predicts data (a dataset fit): its capability when it states
    one, else what the problem spec says."""
    return model.objective.fit_data() is not None


@dataclass(frozen=True)
class ViewSpec:
    """One view of the window.

    Attributes
    ----------
    key
        Its name everywhere ("surface"): the tab is found by it, a problem kind lists it.
    title
        Tab text.
    tooltip
        Tab tool tip.
    area
        :data:`MAIN`, :data:`SIDE` or :data:`PANE`.
    factory
        Makes the view (a widget); called once.
    shows
        ``shows(model) -> bool``: whether the problem has this view, when the model does
        not say (``model.views``).
    feed
        ``feed(view, frame)``: draws a frame (default ``view.show_frame(frame)``).
    rate
        How often it is fed (one of :data:`RATES`).
    lazy
        Built the first time its tab is shown or it is used (a tab that starts hidden);
        ``page`` names the placeholder page.
    page
        Object name of the lazy page.
    """

    key: str
    title: str
    tooltip: str
    area: str
    factory: Callable[[], QtWidgets.QWidget]
    shows: Callable[[object], bool] = always
    feed: Callable[[QtWidgets.QWidget, Frame], None] = show_frame
    rate: str = EVERY_FRAME
    lazy: bool = False
    page: str = ""

    def __post_init__(self):
        if self.area not in AREAS:
            raise ValueError(f"view {self.key!r}: area must be one of {AREAS}, got "
                             f"{self.area!r}")
        if self.rate not in RATES:
            raise ValueError(f"view {self.key!r}: rate must be one of {RATES}, got "
                             f"{self.rate!r}")


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("surface", "Surface", "Loss surface with every run's path (2 parameters)",
             MAIN, SurfaceView, shows=two_or_more),
    ViewSpec("curve", "Curve", "The function with the iterates and the tangent", MAIN,
             CurveView, shows=one_parameter, lazy=True, page="curvePage"),
    ViewSpec("surface3d", "3-D", "3-D surface (needs OpenGL)", MAIN, Surface3DView,
             shows=two_or_more),
    ViewSpec("fit", "Fit", "The data and every run's fitted curve", MAIN, FitView,
             shows=fits_data),
    ViewSpec("decision", "Decision", "A classifier's decision function: the selected run's "
             "P(class 1) over the input plane at the timeline's step, the 0.5 boundary and "
             "the data (train filled, test hollow)", MAIN, DecisionView, shows=classifies,
             rate=PACED, lazy=True, page="decisionPage"),
    ViewSpec("landscape", "Landscape", "The loss of a network through a random "
             "filter-normalised plane, the plane of the path (PCA) or along the line from the "
             "start (Li et al. 2018)", MAIN, LandscapeView, shows=has_layers, rate=SLOW,
             lazy=True, page="landscapePage"),
    ViewSpec("sweep", "Sweep", "Learning-rate sweeps: final and best loss per rate, the "
             "divergence edge, the lr × momentum map, the LR range test (Ctrl+L)", MAIN,
             SweepView, feed=no_feed, rate=SLOW, lazy=True, page="sweepPage"),
    ViewSpec("loss", "Loss", "Loss per step of every run", PANE, LossView, rate=PACED),
    ViewSpec("steplog", "Step log", "The selected run's step written out with numbers", SIDE,
             StepLogView, rate=TEXT),
    ViewSpec("slice", "Slice", "Loss along one parameter through the current point", SIDE,
             SlicePage, rate=SLOW),
    ViewSpec("lr", "LR", "The selected run's learning rate (and the momentum its schedule "
             "cycles) against step", SIDE, LRView, rate=PACED),
    ViewSpec("sharpness", "Sharpness", "λmax of the Hessian along every run against step, "
             "with each run's 2/lr (the edge of stability)", SIDE, SharpnessView, rate=SLOW),
    ViewSpec("metrics", "Metrics", "Train and test loss and accuracy of every run against "
             "step, and the selected run's per-layer weight and gradient norms", SIDE,
             MetricsView, shows=measures, rate=PACED, lazy=True, page="metricsPage"),
)


def views_for(model, specs: Iterable[ViewSpec] = VIEWS) -> frozenset[str]:
    """The keys of the views the model's problem shows: ``model.views`` when the
    model has it (a set of keys, or a method returning one), else each entry's ``shows``."""
    keys = getattr(model, "views", None)
    if callable(keys):
        keys = keys()
    if keys is not None:  # the problem's kind says
        return frozenset(s.key for s in specs if s.key in keys)
    return frozenset(s.key for s in specs if s.shows(model))


class ViewHost(QtCore.QObject):
    """The views of :data:`VIEWS` in their areas, found by key, and fed frames.

    Parameters
    ----------
    specs
        The views (default :data:`VIEWS`), in tab order.
    on_built
        ``on_built(key, view)`` once per view, when it exists (at once, or when a lazy
        view is first needed): the window connects the view's signals there.
    parent
        The owning window.

    Attributes
    ----------
    main_tabs, side_tabs
        The two tab widgets (``mainTabs``, ``sideTabs``).
    pane
        The widgets of the pane, in order (the loss view).
    """

    def __init__(self, specs: Iterable[ViewSpec] = VIEWS, on_built=None, parent=None):
        super().__init__(parent)
        self.specs: dict[str, ViewSpec] = {}
        for spec in specs:
            if spec.key in self.specs:
                raise ValueError(f"two views are called {spec.key!r}")
            self.specs[spec.key] = spec
        self._on_built = on_built
        self.main_tabs = QtWidgets.QTabWidget()
        self.main_tabs.setObjectName("mainTabs")
        self.side_tabs = QtWidgets.QTabWidget()
        self.side_tabs.setObjectName("sideTabs")
        self.pane: list[QtWidgets.QWidget] = []
        self._pages: dict[str, QtWidgets.QWidget] = {}  # what sits in the area
        self._views: dict[str, QtWidgets.QWidget] = {}  # built views
        self._active = frozenset(self.specs)
        self._frame: Frame | None = None
        self._paced_at = 0.0
        self.closing = False
        for spec in self.specs.values():
            if spec.lazy:
                page = LazyPage(self._lazy_factory(spec.key), spec.page or f"{spec.key}Page")
            else:
                page = self._build(spec.key)
            self._pages[spec.key] = page
            tabs = self._tabs(spec.area)
            if tabs is None:
                self.pane.append(page)
            else:
                i = tabs.addTab(page, spec.title)
                tabs.setTabToolTip(i, spec.tooltip)

    # ----------------------------------------------------------------- building
    def _lazy_factory(self, key: str):
        ref = weakref.ref(self)  # the page must not keep the host (and its window) alive

        def build():
            return ref()._build(key)

        return build

    def _build(self, key: str) -> QtWidgets.QWidget:
        view = self.specs[key].factory()
        self._views[key] = view
        if self._on_built is not None:
            self._on_built(key, view)
        return view

    def _tabs(self, area: str) -> QtWidgets.QTabWidget | None:
        return {MAIN: self.main_tabs, SIDE: self.side_tabs}.get(area)

    # ----------------------------------------------------------------- finding
    def view(self, key: str) -> QtWidgets.QWidget:
        """The view called ``key`` (built now if it is lazy and not built yet)."""
        page = self._pages[key]
        return page.view if isinstance(page, LazyPage) else page

    def is_built(self, key: str) -> bool:
        return key in self._views

    def page(self, key: str) -> QtWidgets.QWidget:
        """What sits in the view's area: the view, or the page that will hold it."""
        return self._pages[key]

    def tab_index(self, key: str) -> int:
        """The view's tab index in its tab widget (-1 for a pane view)."""
        tabs = self._tabs(self.specs[key].area)
        return -1 if tabs is None else tabs.indexOf(self._pages[key])

    def key_of(self, widget: QtWidgets.QWidget | None) -> str | None:
        """The key of a page or view (None: not one of ours)."""
        for key, page in self._pages.items():
            if widget is page or (widget is not None and widget is self._views.get(key)):
                return key
        return None

    def current(self, area: str = MAIN) -> str | None:
        """The key of the tab shown in ``area``."""
        tabs = self._tabs(area)
        return None if tabs is None else self.key_of(tabs.currentWidget())

    def show_tab(self, key: str) -> None:
        """Bring the view's tab to the front."""
        tabs = self._tabs(self.specs[key].area)
        if tabs is not None:
            tabs.setCurrentWidget(self._pages[key])

    def is_shown_for_problem(self, key: str) -> bool:
        return key in self._active

    @property
    def active(self) -> frozenset[str]:
        """Keys of the views the current problem shows."""
        return self._active

    # ----------------------------------------------------------------- the problem
    def set_active(self, keys: Iterable[str]) -> None:
        """Show the tabs (and pane views) of ``keys``, hide the others."""
        keys = frozenset(keys)
        unknown = keys - set(self.specs)
        keys -= unknown  # a key of a view this window does not have: nothing to show
        self._active = keys
        for key, spec in self.specs.items():
            tabs = self._tabs(spec.area)
            if tabs is None:
                self._pages[key].setVisible(key in keys)
            else:
                tabs.setTabVisible(tabs.indexOf(self._pages[key]), key in keys)

    # ----------------------------------------------------------------- feeding
    def _fed(self, rate: str):
        for key in self.specs:
            spec = self.specs[key]
            if spec.rate == rate and key in self._active:
                yield spec

    def show_frame(self, frame: Frame) -> None:
        """Feed a display tick to the views fed every frame, and to the paced ones at
        their rate."""
        self._frame = frame
        for spec in self._fed(EVERY_FRAME):
            spec.feed(self.view(spec.key), frame)
        now = time.monotonic()
        if not frame.running:
            self._paced_at = now
            self._feed_paced()
        elif now - self._paced_at >= PACED_S:
            # while running, the loss axes rescale every frame (text layout, ~10 ms): the
            # surface stays live, the paced views follow at 10 Hz, in an event of their
            # own so that their update and repaint do not add to this frame's
            self._paced_at = now
            QtCore.QTimer.singleShot(PACED_DELAY_MS, self._feed_paced)

    def _feed_paced(self) -> None:
        if self.closing or self._frame is None:
            return
        for spec in self._fed(PACED):
            spec.feed(self.view(spec.key), self._frame)

    def show_text(self, frame: Frame) -> None:
        """Feed the text views (the window calls this at <= 8 Hz while running)."""
        for spec in self._fed(TEXT):
            spec.feed(self.view(spec.key), frame)

    def show_slow(self, frame: Frame) -> None:
        """Feed the views of derived data whose tab is shown (the window calls this at a
        low rate)."""
        for spec in self._fed(SLOW):
            tabs = self._tabs(spec.area)
            if tabs is None or tabs.currentWidget() is self._pages[spec.key]:
                spec.feed(self.view(spec.key), frame)
