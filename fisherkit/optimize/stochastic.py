"""Stochastic variants on mini-batches: SGD and the stochastic natural gradient.

Each step draws the next ``batch_size`` rows of a fresh random permutation (every row once
per epoch) and moves ``theta`` by the learning rate times

- ``"gradient"``: the batch score scaled by ``n / b``, an unbiased estimate of the total
  score, so that a learning rate means what it means for the full-batch gradient;
- ``"natural_gradient"``: ``(F_b + damping)^-1 g_b`` with ``F_b`` the batch's expected
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
"""

from __future__ import annotations

import numpy as np

from ..exceptions import SpecificationError
from ..models.index_model import Model
from .newton import OptimizeResult, Trace, check_start

__all__ = ["stochastic_ascent"]


def _check_options(n: int, batch_size, record_every, learning_rate) -> tuple[int, int]:
    if not (isinstance(batch_size, (int, np.integer)) and 0 < batch_size):
        raise SpecificationError(f"The 'batch_size' must be a positive integer; got {batch_size!r}.")
    if batch_size > n:
        raise SpecificationError(f"The 'batch_size' ({batch_size}) exceeds the number of "
                                 f"observations ({n}).")
    if not (isinstance(learning_rate, (int, float)) and np.isfinite(learning_rate)
            and learning_rate > 0):
        raise SpecificationError("A stochastic method needs a positive 'learning_rate'; got "
                                 f"{learning_rate!r}.")
    steps_per_epoch = -(-n // int(batch_size))
    every = steps_per_epoch if record_every is None else record_every
    if not (isinstance(every, (int, np.integer)) and every > 0):
        raise SpecificationError(f"The 'record_every' must be a positive integer; got {every!r}.")
    return int(batch_size), int(every)


def _batches(n: int, batch_size: int, rng: np.random.Generator):
    """Row indices of successive mini-batches, each epoch a new permutation."""
    while True:
        order = rng.permutation(n)
        for a in range(0, n, batch_size):
            # sorted rows read the design in memory order
            yield np.sort(order[a:a + batch_size])


def stochastic_ascent(model: Model, theta0, *, natural: bool, batch_size: int, maxiter: int,
                      tol: float, learning_rate: float, damping: float = 1e-8,
                      fisher="expected", record_every: int | None = None, seed=0,
                      decay: float | None = None, callback=None) -> OptimizeResult:
    """Mini-batch gradient or natural-gradient ascent (see the module notes).

    Parameters
    ----------
    model : Model
    theta0 : ndarray
    natural : bool
        Precondition by the batch's Fisher matrix (natural gradient) or not (SGD).
    batch_size : int
        Rows per step.
    maxiter : int
        Most mini-batch steps.
    tol : float
        Stop when a recorded full-data criterion falls below it.
    learning_rate : float
    damping : float
        Natural gradient: added to the batch Fisher as a multiple of its mean diagonal.
    fisher : {"expected", "empirical"}
    record_every : int, optional
        Steps between trace rows; one epoch by default.
    seed : int or numpy Generator
        Draws the permutations.
    decay : float, optional
        Step ``t`` uses ``learning_rate / (1 + (t - 1) / decay)``, the decreasing rate that
        lets stochastic iterates settle (Robbins and Monro, 1951); constant if not given.
    callback : callable, optional
        Called with each trace row.

    Examples
    --------
    >>> import numpy as np, pandas as pd, fisherkit as fk
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=5000)})
    >>> df["y"] = rng.poisson(np.exp(0.3 + 0.5 * df["x"]))
    >>> best = fk.fit("y ~ x", data=df, family="poisson")
    >>> res = fk.fit("y ~ x", data=df, family="poisson", method="natural_gradient",
    ...              maxiter=300, tol=1e-3, options={"batch_size": 500, "decay": 10})
    >>> res.converged, bool(np.all(np.abs(res.params - best.params) < 0.1 * best.se))
    (True, True)
    """
    from .ascent import _solve_damped  # the full-batch module imports this one

    if not isinstance(model, Model):
        raise SpecificationError("The mini-batch variants (batch_size=) take an index model "
                                 "fitted in memory by fk.fit on a pandas DataFrame; got a "
                                 f"{type(model).__name__}.")
    n = model.n_obs
    batch_size, every = _check_options(n, batch_size, record_every, learning_rate)
    if decay is not None and not (isinstance(decay, (int, float)) and decay > 0):
        raise SpecificationError(f"The 'decay' must be a positive number of steps; got {decay!r}.")
    if fisher not in ("expected", "empirical"):
        raise SpecificationError(f"A stochastic natural gradient's 'fisher' must be 'expected' "
                                 f"or 'empirical'; got {fisher!r}.")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    theta = np.array(theta0, dtype=float)
    trace = Trace(callback)
    work = 0.0  # the optimizer's own passes over the data

    def record(it, decrement, t):
        loglik, score, _ = model.derivatives(theta, second=False)
        trace.record(it, theta, loglik, score, decrement, t, passes=work)
        return loglik, score

    loglik, score = record(0, np.nan, np.nan)
    check_start(loglik)
    converged, message = False, "maximum number of mini-batch steps reached"
    batches = _batches(n, batch_size, rng)
    step = 0
    for step in range(1, maxiter + 1):
        rows = next(batches)
        batch = Model(model.family, model.data.take(rows))
        _, g, _ = batch.derivatives(theta, second=False)
        if natural:
            F = (batch.expected_information(theta).matrix if fisher == "expected"
                 else batch.opg(theta))
            direction = _solve_damped(F, g, damping)
        else:
            direction = g * (n / len(rows))
        work += batch.passes * len(rows) / n
        t = float(learning_rate) if decay is None else learning_rate / (1 + (step - 1) / decay)
        theta = theta + t * direction
        if step % every == 0 or step == maxiter:
            loglik, score = record(step, np.nan, t)
            if not np.isfinite(loglik):
                message = "a mini-batch step left the model's domain; lower the learning rate"
                break
            criterion = _full_criterion(model, theta, score, natural, fisher, damping)
            if criterion <= tol:
                converged, message = True, "converged: full-data criterion below tolerance"
                break
    return OptimizeResult(theta, loglik, score, None, converged, step, trace.frame(), message,
                          trace.path())


def _full_criterion(model, theta, score, natural, fisher, damping) -> float:
    """The full-batch method's own stopping quantity at a recorded iterate."""
    if not natural:
        return float(score @ score)
    from .ascent import _solve_damped

    F = model.expected_information(theta).matrix if fisher == "expected" else model.opg(theta)
    return float(score @ _solve_damped(F, score, damping))
