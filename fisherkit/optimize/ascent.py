"""Optimizers other than Newton: Fisher scoring, natural gradient, plain gradient, BFGS.

Each maximizes the same log-likelihood and returns the same :class:`OptimizeResult` with a
trace, so that they can be held side by side (``fk.compare``).

- ``fisher_scoring``: steps solve ``I(theta) delta = score`` with the expected information,
  line-searched from the unit step (McCullagh and Nelder, 1989: IRLS for GLMs);
- ``natural_gradient``: the same direction (or with the empirical Fisher, the outer product
  of scores) times a fixed learning rate, with damping (Amari, 1998; Martens, 2020);
- ``gradient``: plain gradient ascent, fixed learning rate or backtracking;
- ``bfgs`` and ``lbfgs``: scipy's quasi-Newton methods fed autograd's exact gradient.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import optimize as sopt

from ..exceptions import ConvergenceWarning, SpecificationError, user_stacklevel
from ..models.index_model import Model
from .newton import OptimizeResult, Trace, _line_search, check_start
from .stochastic import stochastic_ascent

__all__ = ["fisher_scoring", "natural_gradient", "gradient", "bfgs", "lbfgs"]


def _solve_damped(P: np.ndarray, g: np.ndarray, damping: float) -> np.ndarray:
    """``(P + lambda I) d = g`` with ``lambda`` relative to P's mean diagonal, raised tenfold
    until P + lambda I is positive definite, with a warning when it had to be raised."""
    P = 0.5 * (P + P.T)
    scale = max(float(np.mean(np.abs(np.diag(P)))), np.finfo(float).tiny)
    lam = damping
    for _ in range(20):
        try:
            L = np.linalg.cholesky(P + lam * scale * np.eye(len(g)))
            if lam > damping:
                warnings.warn(f"The Fisher matrix is singular or ill-conditioned; damping "
                              f"raised to {lam:.1e} of its mean diagonal.",
                              ConvergenceWarning, stacklevel=user_stacklevel())
            return np.linalg.solve(L.T, np.linalg.solve(L, g))
        except np.linalg.LinAlgError:
            lam = max(lam * 10.0, 1e-12)
    return g / scale


def _ascent(model: Model, theta0, precondition, *, maxiter, tol, learning_rate, damping,
            callback, name):
    theta = np.array(theta0, dtype=float)
    trace = Trace(callback, model)
    loglik, score, _ = model.derivatives(theta, second=False)
    check_start(loglik)
    converged, message = False, "maximum number of iterations reached"

    def record(it, dec, t):
        trace.record(it, theta, loglik, score, dec, t)

    record(0, np.nan, np.nan)
    n_iter = 0
    for n_iter in range(1, maxiter + 1):
        P = precondition(theta)
        direction = score.copy() if P is None else _solve_damped(P, score, damping)
        decrement = float(score @ direction)
        # absolute, unlike Newton's relative rule: these methods converge linearly, so the
        # remaining gain in log-likelihood (about half the decrement) must itself be small
        if decrement <= tol:
            # as in Newton, the step already solved for is taken: for a preconditioned
            # method it shrinks the remaining error by the method's rate at no extra solve
            t = 1.0 if learning_rate is None else float(learning_rate)
            trial = theta + t * direction
            with np.errstate(all="ignore"):
                final = model.derivatives(trial, second=False)
            if np.isfinite(final[0]) and final[0] >= loglik:
                theta, (loglik, score, _) = trial, final
            else:
                t = 0.0
            record(n_iter, decrement, t)
            converged, message = True, f"converged: {name} decrement below tolerance"
            break
        if learning_rate is None:
            t = _line_search(model, theta, loglik, direction, decrement)
            if t == 0.0:
                record(n_iter, decrement, 0.0)
                message = "line search failed to increase the log-likelihood"
                break
            theta = theta + t * direction
            loglik, score, _ = model.derivatives(theta, second=False)
        else:
            t = float(learning_rate)
            while True:
                with np.errstate(all="ignore"):
                    moved = model.derivatives(theta + t * direction, second=False)
                # a fixed rate is kept unless it leaves the model's domain
                if np.isfinite(moved[0]) or t <= 1e-12:
                    break
                t *= 0.5
            theta = theta + t * direction
            loglik, score, _ = moved
        record(n_iter, decrement, t)
    return OptimizeResult(theta, loglik, score, None, converged, n_iter, trace.frame(), message,
                          trace.path())


def fisher_scoring(model: Model, theta0, *, maxiter: int = 100, tol: float = 1e-10,
                   damping: float = 0.0, callback=None) -> OptimizeResult:
    """Fisher scoring: line-searched steps ``I_expected^-1 score``.

    Examples
    --------
    >>> import fisherkit as fk
    >>> fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit",
    ...        method="fisher_scoring").converged
    True
    """
    return _ascent(model, theta0, _expected_fisher(model),
                   maxiter=maxiter, tol=tol, learning_rate=None, damping=damping,
                   callback=callback, name="Fisher scoring")


def _expected_fisher(model):
    return lambda theta: model.expected_information(theta).matrix


def _user_metric(metric, p: int):
    """A user's Fisher metric, checked at every call: a finite symmetric ``p x p`` array."""
    def checked(theta):
        M = np.asarray(metric(theta), dtype=float)
        if M.shape != (p, p):
            raise SpecificationError(f"The 'fisher' function must return a {p} x {p} matrix; "
                                     f"got shape {M.shape}.")
        if not np.all(np.isfinite(M)):
            raise SpecificationError(f"The 'fisher' function returned non-finite entries at "
                                     f"theta = {np.round(theta, 6).tolist()}.")
        if not np.allclose(M, M.T, rtol=1e-8, atol=1e-12 * max(np.max(np.abs(M)), 1.0)):
            raise SpecificationError("The 'fisher' function returned a matrix that is not "
                                     "symmetric.")
        return M
    return checked


def natural_gradient(model: Model, theta0, *, maxiter: int = 100, tol: float = 1e-10,
                     learning_rate: float = 1.0, damping: float = 1e-8,
                     fisher="expected", batch_size: int | None = None,
                     record_every: int | None = None, seed=0, decay: float | None = None,
                     callback=None) -> OptimizeResult:
    """Natural gradient ascent: ``theta += learning_rate (F + damping) \\ score``.

    Parameters
    ----------
    learning_rate : float
        Fixed step multiplier; 1 with the expected Fisher is Fisher scoring without a line
        search.
    damping : float
        Added to the Fisher matrix as a multiple of its mean diagonal; raised (with a
        warning) when the matrix is singular.
    fisher : {"expected", "empirical"} or callable
        The expected information, or the empirical Fisher (outer product of scores), which
        is not the Fisher away from the optimum (Kunstner et al., 2019), or a user's metric:
        a function of the working-scale ``theta`` returning a symmetric ``p x p`` matrix.
    batch_size : int, optional
        Steps on mini-batches of this many rows, each preconditioned by the batch's own
        Fisher matrix (:func:`fisherkit.optimize.stochastic.stochastic_ascent`); ``maxiter`` then
        counts mini-batch steps.
    record_every, seed, decay
        Stochastic variant: steps between trace rows (one epoch by default), the seed of
        the batches, and the decay of the learning rate.

    Examples
    --------
    >>> import fisherkit as fk
    >>> fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit",
    ...        method="natural_gradient").converged
    True
    """
    if batch_size is not None:
        return stochastic_ascent(model, theta0, natural=True, batch_size=batch_size,
                                 maxiter=maxiter, tol=tol, learning_rate=learning_rate,
                                 damping=damping, fisher=fisher, record_every=record_every,
                                 seed=seed, decay=decay, callback=callback)
    if callable(fisher):
        pre = _user_metric(fisher, model.n_params)
    elif fisher == "expected":
        pre = _expected_fisher(model)
    elif fisher == "empirical":
        pre = model.opg
    else:
        raise SpecificationError("The 'fisher' option must be 'expected', 'empirical' or a "
                                 f"function of theta; got {fisher!r}.")
    return _ascent(model, theta0, pre, maxiter=maxiter, tol=tol, learning_rate=learning_rate,
                   damping=damping, callback=callback, name="natural gradient")


def gradient(model: Model, theta0, *, maxiter: int = 10_000, tol: float = 1e-10,
             learning_rate: float | None = None, batch_size: int | None = None,
             record_every: int | None = None, seed=0, decay: float | None = None,
             callback=None) -> OptimizeResult:
    """Plain gradient ascent, with a fixed learning rate or a backtracking line search.

    Its stopping rule, ``|score|^2 <= tol``, is not invariant to rescaling a parameter,
    which is the point of holding it beside the natural gradient. Given ``batch_size``, it
    is stochastic gradient ascent (SGD) on mini-batches with the fixed ``learning_rate``
    applied to ``n / b`` times the batch score (see :mod:`fisherkit.optimize.stochastic`).

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit",
    ...              method="gradient", maxiter=20_000)
    >>> res.converged
    True
    """
    if batch_size is not None:
        return stochastic_ascent(model, theta0, natural=False, batch_size=batch_size,
                                 maxiter=maxiter, tol=tol, learning_rate=learning_rate,
                                 record_every=record_every, seed=seed, decay=decay,
                                 callback=callback)
    return _ascent(model, theta0, lambda th: None, maxiter=maxiter, tol=tol,
                   learning_rate=learning_rate, damping=0.0, callback=callback, name="gradient")


def _scipy(method: str, model: Model, theta0, *, maxiter: int, tol: float, callback):
    trace = Trace(callback, model)

    last = {}

    def evaluate(th):
        # scipy's callback sees the iterate it has just evaluated: recording it costs no pass
        if "theta" not in last or not np.array_equal(last["theta"], th):
            last["theta"], last["value"] = np.array(th), model.derivatives(th, second=False)
        return last["value"]

    def objective(th):
        ll, g, _ = evaluate(th)
        if not np.isfinite(ll):
            return np.inf, np.zeros_like(th)
        return -ll, -g

    def record(th):
        ll, g, _ = evaluate(th)
        trace.record(len(trace.rows), th, ll, g, np.nan, np.nan)

    record(np.asarray(theta0, dtype=float))
    out = sopt.minimize(objective, np.asarray(theta0, dtype=float), jac=True, method=method,
                        callback=lambda xk, *a: record(np.asarray(xk)),
                        options={"maxiter": maxiter, "gtol": tol ** 0.5 if method == "BFGS" else tol,
                                 **({"ftol": 1e-15} if method == "L-BFGS-B" else {})})
    theta = np.asarray(out.x, dtype=float)
    ll, g, _ = evaluate(theta)
    return OptimizeResult(theta, ll, g, None, bool(out.success), int(out.nit), trace.frame(),
                          str(out.message), trace.path())


def bfgs(model: Model, theta0, *, maxiter: int = 1000, tol: float = 1e-10, callback=None):
    """scipy's BFGS on the negative log-likelihood with autograd's exact gradient."""
    return _scipy("BFGS", model, theta0, maxiter=maxiter, tol=tol, callback=callback)


def lbfgs(model: Model, theta0, *, maxiter: int = 1000, tol: float = 1e-10, callback=None):
    """scipy's L-BFGS-B on the negative log-likelihood with autograd's exact gradient."""
    return _scipy("L-BFGS-B", model, theta0, maxiter=maxiter, tol=tol, callback=callback)
