"""An objective that the engine process can load cheaply (numpy and the core only), and
whose evaluations there are slow: for tests of the parent's patience."""

import dataclasses
import os
import time

import numpy as np

from gd_explorer.core.problems.objectives import Objective


@dataclasses.dataclass
class SlowBowl(Objective):
    """x² + y², each evaluation sleeping ``seconds`` in any process but the one that made it
    (the engine process): a step slower than the parent's patience."""

    seconds: float = 0.0
    home: int = dataclasses.field(default_factory=os.getpid)

    def value_and_grad(self, p):
        if os.getpid() != self.home:
            time.sleep(self.seconds)
        p = np.asarray(p, dtype=np.float64)
        return (p * p).sum(axis=-1), 2 * p
