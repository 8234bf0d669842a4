"""The plots and read-outs of gd-explorer: widgets that draw arrays the model hands them.

Views hold no domain state and compute nothing expensive; they create their pyqtgraph
items once (per run_id for runs: :class:`~gd_explorer.ui.views._common.RunItems`) and
update them with ``setData``/``setImage``. Each display tick they are handed one
:class:`Frame` (``show_frame``); :mod:`gd_explorer.ui.views.registry` lists them all.
"""

from gd_explorer.ui.views.curve import CurveView
from gd_explorer.ui.views.fit import FitView
from gd_explorer.ui.views.frame import Frame
from gd_explorer.ui.views.loss import LossView
from gd_explorer.ui.views.slice_view import SlicePage, SliceView
from gd_explorer.ui.views.steplog import StepLogView
from gd_explorer.ui.views.surface import SurfaceView
from gd_explorer.ui.views.surface3d import PLACEHOLDER_TEXT, Surface3DView, opengl_available

__all__ = [
    "PLACEHOLDER_TEXT",
    "CurveView",
    "FitView",
    "Frame",
    "LossView",
    "SlicePage",
    "SliceView",
    "StepLogView",
    "Surface3DView",
    "SurfaceView",
    "opengl_available",
]
