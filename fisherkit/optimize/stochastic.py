"""Mini-batches: the source of the stochastic variants, SGD and the stochastic natural
gradient, run by the same loop as the full-batch methods (:mod:`fisherkit.optimize.loop`).

Each step draws the next ``batch_size`` rows of a fresh random permutation (every row once
per epoch), evaluates the model over them (``model.subset(rows)``) and moves ``theta`` by
the learning rate times

- gradient: the batch score scaled by ``n / b``, an unbiased estimate of the total
  score, so that a learning rate means what it means for the full-batch gradient;
- natural gradient: ``(F_b + damping)^-1 g_b`` with ``F_b`` the batch's expected
  Fisher (or its empirical Fisher), the ``n / b`` factors cancelling (Amari, 1998; Martens,
  2020, sec. 13).

The trace records the full-data log-likelihood and score every ``record_every`` steps (by
default once per epoch). Its ``passes`` column counts the optimizer's own work only, in
passes over the data: a batch's derivatives cost ``b / n`` of a pass and its expected
Fisher as much again; the trace's full-data evaluations are not counted. A stochastic fit
is reported converged when a recorded full-data criterion (the natural-gradient decrement,
or ``|score|^2`` for SGD) falls below ``tol``; with a fixed learning rate the iterates keep
moving within the noise of the batches, so a loose ``tol`` or a fixed number of steps
(``maxiter``) is the usual choice.

Examples
--------
>>> import numpy as np, pandas as pd, fisherkit as fk
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"x": rng.normal(size=5000)})
>>> df["y"] = rng.poisson(np.exp(0.3 + 0.5 * df["x"]))
>>> best = fk.fit("y ~ x", data=df, family="poisson")
>>> res = fk.fit("y ~ x", data=df, family="poisson", maxiter=300, tol=1e-3,
...              method=fk.optimize.NaturalGradient(batch_size=500, decay=10))
>>> res.converged, bool(np.all(np.abs(res.params - best.params) < 0.1 * best.se))
(True, True)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..exceptions import SpecificationError
from .trace import Point

__all__ = ["MiniBatches"]


def _batches(n: int, batch_size: int, rng: np.random.Generator):
    """Row indices of successive mini-batches, each epoch a new permutation."""
    while True:
        order = rng.permutation(n)
        for a in range(0, n, batch_size):
            # sorted rows read the design in memory order
            yield np.sort(order[a:a + batch_size])


class MiniBatches:
    """The source of a stochastic method: each direction from the next mini-batch.

    Parameters
    ----------
    batch_size : int
        Rows per step; at most the number of observations.
    record_every : int, optional
        Steps between trace rows; one epoch (``ceil(n / batch_size)`` steps) by default.
    seed : int, numpy Generator or SeedSequence, optional
        Draws the permutations (a Generator is drawn from as it is).

    Examples
    --------
    >>> import fisherkit as fk
    >>> from fisherkit.optimize.directions import GradientDirection
    >>> model = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit").model
    >>> source = MiniBatches(8, seed=0)
    >>> source.start(model)
    >>> source.record_every
    4
    >>> _, _, decrement = source.direction(GradientDirection(), model, Point(np.zeros(2)))
    >>> source.passes(), decrement
    (0.25, nan)
    """

    def __init__(self, batch_size: int, record_every: int | None = None, seed=0):
        self.batch_size, self.every, self.seed = int(batch_size), record_every, seed

    def start(self, model) -> None:
        """Check the batch size against the data and draw from the seed afresh."""
        self.n = model.n_rows
        if self.batch_size > self.n:
            raise SpecificationError(f"The 'batch_size' ({self.batch_size}) exceeds the number "
                                     f"of observations ({self.n}).")
        steps_per_epoch = -(-self.n // self.batch_size)
        self.record_every = steps_per_epoch if self.every is None else int(self.every)
        rng = (self.seed if isinstance(self.seed, np.random.Generator)
               else np.random.default_rng(self.seed))
        self._batches = _batches(self.n, self.batch_size, rng)
        self.work = 0.0  # the optimizer's own passes over the data

    def direction(self, rule: Callable, model, point: Point) -> tuple[np.ndarray, bool, float]:
        """The rule's direction on the next batch; its decrement is not known (NaN): the
        stopping rule judges the recorded full-data points instead."""
        rows = next(self._batches)
        batch = model.subset(rows)
        loglik, g, _ = batch.derivatives(point.theta, second=False)
        vector, exact = rule(batch, Point(point.theta, loglik, g), self.n / len(rows))
        self.work += batch.passes * len(rows) / self.n
        return vector, exact, np.nan

    def passes(self) -> float:
        return self.work
