"""Profile likelihoods and the confidence intervals they give.

The profile log-likelihood of one parameter fixes it at a value and maximizes over all the
others (the nuisance parameters); ``2 (loglik_hat - loglik_profile)`` is the likelihood-ratio
statistic of that value, asymptotically chi-squared with one degree of freedom. The interval
``{value : statistic <= chi2_{1 - alpha}(1)}`` needs no quadratic approximation of the
log-likelihood and maps through any monotone reparameterization unchanged, unlike the Wald
interval (Venzon and Moolgavkar, 1988; the method of R's ``confint.glm`` and bbmle).

Parameters are profiled on their working coordinate (``log sigma`` for ``sigma``), which is
the same interval, because the map between the two is monotone, and keeps every value of the
search inside the parameter space. Ordered cut points share coordinates and cannot be
profiled one at a time.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..exceptions import ConvergenceWarning, FisherkitWarning, SpecificationError, user_stacklevel
from ..models.weights import refuse_pseudo_likelihood
from ..optimize.directions import newton_direction
from .covariance import INFORMATION_COVS, invert_information

__all__ = ["profile", "profile_ci", "OpenIntervalWarning", "maximize_nuisance", "single_coordinate",
           "refuse_unidentified"]


class OpenIntervalWarning(FisherkitWarning):
    """A profile never falls to the interval's level on one side: the interval is open."""


# ---- coordinates ----------------------------------------------------------------------

def single_coordinate(model, index: int, name: str) -> None:
    """Checks that natural parameter ``index`` is one working coordinate of its own."""
    if not model.own_coordinate(index):
        raise SpecificationError(f"The cut point {name!r} shares its working coordinates with "
                                 "the other cut points and cannot be profiled on its own.")


def refuse_unidentified(result, index: int, name: str) -> None:
    """Refuse to profile a parameter the data do not identify (no finite working variance):
    its profile is flat along a direction of the information, and the search for where it
    falls would climb every doubling of its steps to no end. The message names the flat
    direction, as the covariance's warning does.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
    >>> refuse_unidentified(res, 1, "GPA") is None
    True
    """
    variance = float(result.cov_working.iloc[index, index])
    if np.isfinite(variance):
        return
    kind = result.cov_type if result.cov_type in INFORMATION_COVS else "observed"
    info = result.information(kind, scale="working").to_numpy()
    _, problems = invert_information(info, result.model.working_names, warn=False)
    why = "; ".join(problems) if problems else f"the {result.cov_type} covariance is not finite"
    raise SpecificationError(f"The parameter {name!r} is not identified by the data ({why}): "
                             "its profile likelihood is flat in that direction and has no "
                             "interval. Drop or merge the columns involved, or fix one of "
                             "the parameters.")


def maximize_nuisance(model, theta, free, max_steps: int = 100, tol: float = 1e-12):
    """Safeguarded Newton steps on the coordinates ``free``, the others held fixed.

    Returns the log-likelihood reached, the working vector, and whether the Newton
    decrement fell below ``tol * (1 + |loglik|)``.
    """
    theta = np.array(theta, dtype=float)
    loglik, score, hess = model.derivatives(theta)
    if len(free) == 0:
        return loglik, theta, bool(np.isfinite(loglik))
    for _ in range(max_steps):
        if not np.isfinite(loglik):
            return loglik, theta, False
        direction, _ = newton_direction(score[free], hess[np.ix_(free, free)])
        if float(score[free] @ direction) < tol * (1.0 + abs(loglik)):
            return loglik, theta, True
        improved = _line_step(model, theta, free, direction, loglik, shrink=True)
        if improved is None:
            # a saturated start (probabilities at 0 or 1) has no curvature to scale the
            # Newton step by; climb along the gradient instead, doubling while it helps
            improved = _line_step(model, theta, free, score[free], loglik, shrink=False)
        if improved is None:
            direction, _ = newton_direction(score[free], hess[np.ix_(free, free)])
            return loglik, theta, float(score[free] @ direction) < 1e-8 * (1.0 + abs(loglik))
        theta, (loglik, score, hess) = improved
    return loglik, theta, False


def _line_step(model, theta, free, direction, loglik, shrink: bool):
    """The first halving (``shrink``) or the best doubling of a step along ``direction``
    that raises the log-likelihood, with its derivatives; None when no step does."""
    best, t = None, 1.0
    for _ in range(60):
        trial = theta.copy()
        trial[free] += t * direction
        values = model.derivatives(trial)
        better = np.isfinite(values[0]) and values[0] > (loglik if best is None else best[1][0])
        if shrink:
            if np.isfinite(values[0]) and values[0] > loglik:
                return trial, values
            t *= 0.5
        elif better:
            best, t = (trial, values), 2.0 * t
        elif best is not None or t < 1e-12:
            break
        else:
            t *= 0.5
    return best


class _Profiler:
    """The profile log-likelihood of one parameter as a function of its working value."""

    def __init__(self, result, name: str):
        names = list(result.names)
        if name not in names:
            raise SpecificationError(f"Unknown parameter {name!r}; the parameters are {names}.")
        self.result, self.name = result, name
        self.model = result.model
        self.index = names.index(name)
        single_coordinate(self.model, self.index, name)
        refuse_unidentified(result, self.index, name)
        self.free = np.array([k for k in range(self.model.n_params) if k != self.index], int)
        self.theta_hat = np.array(result.theta, dtype=float)
        self.loglik_hat = float(result.loglik)
        self.working_hat = float(self.theta_hat[self.index])
        # the Wald scale of the working coordinate, to size the first search steps
        with np.errstate(all="ignore"):
            se = float(np.sqrt(result.cov_working.iloc[self.index, self.index]))
        self.se_working = se if np.isfinite(se) and se > 0 else 1.0
        # converged solutions by working value: each new value starts from the nearest one,
        # never from a far point where a saturated likelihood has no gradient to follow
        self.solutions = {self.working_hat: self.theta_hat}
        self.not_converged = 0
        self.best = -np.inf

    def natural(self, w: float) -> float:
        theta = self.theta_hat.copy()
        theta[self.index] = w
        with np.errstate(all="ignore"):
            return float(np.asarray(self.model.to_natural(theta))[self.index])

    def working(self, value: float) -> float:
        natural = np.array(self.result.params, dtype=float)
        natural[self.index] = value
        with np.errstate(all="ignore"):
            return float(self.model.to_working(natural)[self.index])

    def __call__(self, w: float):
        """Profile log-likelihood at working value ``w``, and the maximizing vector."""
        nearest = min(self.solutions, key=lambda v: abs(v - w))
        theta = self.solutions[nearest].copy()
        theta[self.index] = w
        with np.errstate(all="ignore"):
            loglik, theta, converged = maximize_nuisance(self.model, theta, self.free)
        if np.isfinite(loglik):
            self.best = max(self.best, float(loglik))
            if converged:
                self.solutions[float(w)] = theta
        return float(loglik), theta, converged

    def deviance(self, w: float) -> tuple[float, bool]:
        """``2 (loglik_hat - profile(w))`` and whether the inner maximization converged."""
        loglik, _, converged = self(w)
        if not np.isfinite(loglik):
            return np.nan, False
        return 2.0 * (self.loglik_hat - loglik), converged

    def endpoint(self, side: int, level: float) -> float:
        """The working value on ``side`` (+1 or -1) where the deviance reaches ``level``."""
        inner, step = self.working_hat, np.sqrt(level) * self.se_working
        known = {inner: -level}
        for _ in range(60):
            outer = self.working_hat + side * step
            value, converged = self.deviance(outer)
            if not (np.isfinite(value) and converged):
                # outside the model's domain, or a point whose nuisance maximum cannot be
                # found (it runs off to infinity): close in on the last good point
                gap = abs(inner - self.working_hat)
                step = 0.5 * (gap + step)
                if step - gap < 1e-8 * max(self.se_working, abs(inner)):
                    break
                continue
            if value >= level:
                known[outer] = value - level

                def excess(w):
                    if w in known:
                        return known[w]
                    value, converged = self.deviance(w)
                    self.not_converged += not converged
                    return value - level

                return float(optimize.brentq(excess, inner, outer, rtol=1e-13,
                                             xtol=1e-12 * max(1.0, abs(outer))))
            known = {outer: value - level}
            inner, step = outer, 2.0 * step
        return side * np.inf


def profile(result, name: str, values=None, *, n_points: int = 21, width: float = 3.0,
            ) -> pd.DataFrame:
    """The profile log-likelihood of one parameter on a grid of its values.

    Parameters
    ----------
    result : FitResult
    name : str
        A parameter of ``result.params`` that is one working coordinate (not a cut point).
    values : array-like, optional
        Natural-scale values; by default ``n_points`` values evenly spaced on the working
        scale over ``width`` Wald standard errors either side of the estimate.

    Returns
    -------
    pandas.DataFrame
        Indexed by the values: ``loglik`` (the profile), ``signed_root`` (``sign(value -
        estimate) sqrt(2 (loglik_hat - loglik))``, standard normal under the null at that
        value), ``wald`` (``(value - estimate) / se``: what the signed root would be were the
        log-likelihood quadratic), ``converged`` (of the inner maximization), then the
        maximizing natural values of the other parameters.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
    >>> table = profile(res, "GPA", n_points=5)
    >>> round(float(table.loc[res.params["GPA"], "signed_root"]), 6)
    0.0
    """
    profiler = _Profiler(result, name)
    if values is None:
        if not (isinstance(n_points, (int, np.integer)) and n_points >= 2):
            raise SpecificationError(f"The 'n_points' must be an integer >= 2; got {n_points!r}.")
        if n_points % 2 == 0:
            n_points += 1  # keep the estimate itself on the grid
        half = width * profiler.se_working
        grid = np.linspace(profiler.working_hat - half, profiler.working_hat + half, n_points)
        working = grid
        values = np.array([profiler.natural(w) for w in grid])
    else:
        values = np.atleast_1d(np.asarray(values, dtype=float))
        if not np.all(np.isfinite(values)):
            raise SpecificationError(f"The profile values of {name!r} must be finite.")
        working = np.array([profiler.working(v) for v in values])
        bad = values[~np.isfinite(working)]
        if bad.size:
            raise SpecificationError(f"The value {bad[0]!r} is outside the range of {name!r}.")
    estimate = float(result.params[name])
    se = float(result.se[name])
    others = [n for n in result.names if n != name]
    rows = [None] * len(values)
    # outward from the estimate on both sides, each point warm-started from its neighbour
    order = np.argsort(working)
    above = [k for k in order if working[k] >= profiler.working_hat]
    below = [k for k in order[::-1] if working[k] < profiler.working_hat]
    for side in (above, below):
        for k in side:
            loglik, theta, converged = profiler(working[k])
            profiler.not_converged += not converged
            dev = max(2.0 * (profiler.loglik_hat - loglik), 0.0)
            natural = np.asarray(result.model.to_natural(theta), dtype=float)
            rows[k] = {"loglik": loglik,
                       "signed_root": np.sign(values[k] - estimate) * np.sqrt(dev),
                       "wald": (values[k] - estimate) / se,
                       "converged": bool(converged),
                       **{n: natural[result.names.index(n)] for n in others}}
    table = pd.DataFrame(rows, index=pd.Index(values, name=name))
    _check_profile(profiler)
    table.attrs.update(estimate=estimate, loglik=profiler.loglik_hat)
    return table


def _check_profile(profiler: _Profiler) -> None:
    if profiler.not_converged:
        warnings.warn(f"The inner maximization of the profile of {profiler.name!r} did not "
                      f"converge at {profiler.not_converged} values.", ConvergenceWarning,
                      stacklevel=user_stacklevel())
    best = profiler.best
    if best > profiler.loglik_hat + 1e-6 * (1.0 + abs(profiler.loglik_hat)):
        warnings.warn(f"The profile of {profiler.name!r} rises above the fit's log-likelihood "
                      f"({best:.10g} > {profiler.loglik_hat:.10g}): the fit is not at the "
                      "maximum.", ConvergenceWarning, stacklevel=user_stacklevel())


def profile_ci(result, names=None, alpha: float = 0.05) -> pd.DataFrame:
    """Profile-likelihood confidence intervals.

    The endpoints solve ``2 (loglik_hat - loglik_profile(value)) = chi2_{1 - alpha}(1)``, by
    Brent's method on the working coordinate, bracketed by steps of a Wald standard error
    that double until the level is crossed. A side that never crosses (separation, a
    likelihood flat towards the edge of the parameter space) gets the edge (``inf``, or 0 for
    a positive parameter) and an :class:`OpenIntervalWarning`.

    Parameters
    ----------
    result : FitResult
    names : str or sequence of str, optional
        Defaults to every parameter that is one working coordinate (all but cut points).
    alpha : float
        One minus the coverage.

    Returns
    -------
    pandas.DataFrame
        ``estimate``, ``ci_lower``, ``ci_upper``, indexed by parameter.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
    >>> profile_ci(res, "PSI").round(3).loc["PSI"].tolist()
    [2.379, 0.478, 4.81]
    """
    if not (isinstance(alpha, (float, int)) and 0.0 < alpha < 1.0):
        raise SpecificationError(f"The 'alpha' must lie in (0, 1); got {alpha!r}.")
    refuse_pseudo_likelihood(result.model.weight_type, "A profile-likelihood interval",
                             "the Wald intervals of res.conf_int() (robust covariance)")
    if names is None:
        names = [n for i, n in enumerate(result.names) if result.model.own_coordinate(i)]
    elif isinstance(names, str):
        names = [names]
    level = float(stats.chi2.ppf(1.0 - alpha, 1))
    rows = {}
    for name in names:
        profiler = _Profiler(result, name)
        ends = []
        for side in (-1, 1):
            w = profiler.endpoint(side, level)
            if np.isfinite(w):
                ends.append(profiler.natural(w))
                continue
            with np.errstate(all="ignore"):
                edge = profiler.natural(w)
            ends.append(edge if not np.isnan(edge) else side * np.inf)
            warnings.warn(f"The profile of {name!r} does not fall to the {1 - alpha:.0%} level "
                          f"on the {'upper' if side > 0 else 'lower'} side; that end of the "
                          f"interval is open ({ends[-1]}).", OpenIntervalWarning,
                          stacklevel=user_stacklevel())
        _check_profile(profiler)
        rows[name] = {"estimate": float(result.params[name]), "ci_lower": min(ends),
                      "ci_upper": max(ends)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.attrs["alpha"] = alpha
    return table

