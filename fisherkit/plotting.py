"""Plots of how optimizers converge: the log-likelihood gap per iteration, and the paths
they take over the log-likelihood surface of two parameters.

matplotlib is imported inside the functions, so that fisherkit imports without it
(``pip install fisherkit[plot]``). Each function draws into ``ax`` when given one, otherwise
into a new figure, and returns the Axes.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .exceptions import FisherkitWarning, SpecificationError, user_stacklevel
from .inference.profile import maximize_nuisance, single_coordinate

__all__ = ["plot_convergence", "plot_paths", "plot_profile", "loglik_grid", "loglik_gaps",
           "natural_path"]

X_AXES = ("iteration", "passes", "elapsed")


def _new_axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    return plt.subplots(figsize=(6, 4.5))[1]


def _traces(source) -> dict[str, pd.DataFrame]:
    """Method name to trace, from a ``compare`` table or a mapping of results or traces."""
    if isinstance(source, pd.DataFrame) and "traces" in source.attrs:
        return {m: source.attrs["traces"][m] for m in source.attrs["traces"]}
    if isinstance(source, Mapping) and source:
        out = {}
        for name, value in source.items():
            trace = value if isinstance(value, pd.DataFrame) else getattr(value, "trace", None)
            if not isinstance(trace, pd.DataFrame) or "loglik" not in trace.columns:
                raise SpecificationError(f"The entry {name!r} is neither a fit result nor a "
                                         "trace with a 'loglik' column.")
            out[str(name)] = trace
        return out
    raise SpecificationError("Give a table from fk.compare or a non-empty mapping from "
                             "method name to fit result or trace.")


def _results(source) -> dict:
    """Method name to fit result, from a ``compare`` table or a mapping of results."""
    if isinstance(source, pd.DataFrame) and "results" in source.attrs:
        return dict(source.attrs["results"])
    if hasattr(source, "optimize_result"):
        return {source.method: source}
    if isinstance(source, Mapping) and source:
        bad = [k for k, v in source.items() if not hasattr(v, "optimize_result")]
        if not bad:
            return dict(source)
    raise SpecificationError("Optimizer paths need fit results: a table from fk.compare, a "
                             "fit result or a mapping from method name to fit result.")


def loglik_gaps(source, best_loglik: float | None = None) -> dict[str, pd.Series]:
    """Best log-likelihood minus each trace row's, per method, as plotted.

    ``best_loglik`` defaults to the highest log-likelihood in any trace. Gaps below the
    rounding level of the log-likelihood, ``eps * (1 + |best|)``, are set to that level,
    which a log scale can show.

    Examples
    --------
    >>> import fisherkit as fk
    >>> table = fk.compare("GRADE ~ GPA", fk.datasets.load("spector"), "logit",
    ...                    methods=("newton", "bfgs"))
    >>> gaps = loglik_gaps(table)
    >>> bool(gaps["newton"].iloc[0] > gaps["newton"].iloc[-1])
    True
    """
    traces = _traces(source)
    if best_loglik is None:
        best_loglik = max(float(np.nanmax(t["loglik"])) for t in traces.values())
    floor = np.finfo(float).eps * (1.0 + abs(best_loglik))
    return {m: np.maximum(best_loglik - t["loglik"].astype(float), floor).rename("loglik_gap")
            for m, t in traces.items()}


def plot_convergence(source, *, x: str = "iteration", best_loglik: float | None = None,
                     ax=None):
    """Log-likelihood gap to the best fit per iteration, on a log scale, a line per method.

    Parameters
    ----------
    source : DataFrame or mapping
        A table from :func:`fisherkit.compare`, or a mapping from method name to a fit
        result or a trace.
    x : {"iteration", "passes", "elapsed"}
        The horizontal axis: iterations, passes over the data (where the traces count
        them) or seconds.
    best_loglik : float, optional
        The reference maximum; by default the highest log-likelihood in any trace. See
        :func:`loglik_gaps` for how gaps at rounding level are drawn.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import fisherkit as fk
    >>> table = fk.compare("GRADE ~ GPA", fk.datasets.load("spector"), "logit",
    ...                    methods=("newton", "gradient"), maxiter={"gradient": 50})
    >>> ax = fk.plotting.plot_convergence(table)
    >>> [line.get_label() for line in ax.get_lines()]
    ['newton', 'gradient']
    """
    if x not in X_AXES:
        raise SpecificationError(f"The 'x' axis must be one of {list(X_AXES)}; got {x!r}.")
    traces = _traces(source)
    missing = [m for m, t in traces.items() if x not in t.columns]
    if missing:
        raise SpecificationError(f"The traces of {missing} have no {x!r} column.")
    gaps = loglik_gaps(traces, best_loglik)
    ax = _new_axes(ax)
    for method, trace in traces.items():
        ax.plot(trace[x].to_numpy(dtype=float), gaps[method].to_numpy(), marker="o",
                markersize=2.5, linewidth=1.2, label=method)
    ax.set_yscale("log")
    ax.set_xlabel({"iteration": "iteration", "passes": "passes over the data",
                   "elapsed": "seconds"}[x])
    ax.set_ylabel("best log-likelihood - log-likelihood")
    ax.legend(frameon=False)
    return ax


# ---- the log-likelihood surface of two parameters ------------------------------------

def loglik_grid(result, params: Sequence[str], x_values, y_values, *, profile: bool = False,
                newton_steps: int = 6) -> pd.DataFrame:
    """The log-likelihood on a grid of two natural-scale parameters.

    Parameters
    ----------
    result : FitResult
        The fit whose model and estimate are used.
    params : pair of str
        Parameter names, as in ``result.params``: the horizontal and the vertical one.
    x_values, y_values : array-like
        Grid values of the two parameters on their natural scale.
    profile : bool
        False: the other parameters held at the estimate (one pass over the data per grid
        point). True: maximized at every grid point by up to ``newton_steps`` Newton
        steps, warm-started from the neighbouring point (up to ``newton_steps + 1`` passes
        per point, each with a Hessian).

    Returns
    -------
    pandas.DataFrame
        Rows are ``y_values``, columns ``x_values`` (the layout of ``matplotlib.contour``);
        NaN where the grid point is outside the model's domain.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA + PSI", data=fk.datasets.load("spector"), family="logit")
    >>> grid = loglik_grid(res, ["GPA", "PSI"], [res.params["GPA"]], [res.params["PSI"]])
    >>> bool(abs(grid.iloc[0, 0] - res.loglik) < 1e-9)
    True
    """
    model = result.model
    names = list(result.names)
    params = list(params)
    if len(params) != 2 or params[0] == params[1]:
        raise SpecificationError(f"The 'params' must be two different parameter names; got "
                                 f"{params!r}.")
    for name in params:
        if name not in names:
            raise SpecificationError(f"Unknown parameter {name!r}; the parameters are {names}.")
    i, j = names.index(params[0]), names.index(params[1])
    if profile:
        for index, name in ((i, params[0]), (j, params[1])):
            single_coordinate(model, index, name)
    xs, ys = np.asarray(x_values, dtype=float), np.asarray(y_values, dtype=float)
    natural = np.asarray(result.params, dtype=float)
    free = np.array([k for k in range(model.n_params) if k not in (i, j)], dtype=int)
    values = np.full((len(ys), len(xs)), np.nan)
    start = np.array(result.theta, dtype=float)
    for r, yv in enumerate(ys):
        # serpentine order: every point starts from its neighbour's profiled values
        columns = range(len(xs)) if r % 2 == 0 else range(len(xs) - 1, -1, -1)
        for c in columns:
            point = natural.copy()
            point[i], point[j] = xs[c], yv
            with np.errstate(all="ignore"):
                theta = model.to_working(point)
                if not np.all(np.isfinite(theta)):
                    continue
                if profile and len(free):
                    theta[free] = start[free]
                    loglik, theta, _ = maximize_nuisance(model, theta, free, max_steps=newton_steps)
                    if np.isfinite(loglik):
                        start = theta
                else:
                    loglik = model.loglik(theta)
            values[r, c] = loglik if np.isfinite(loglik) else np.nan
    return pd.DataFrame(values, index=pd.Index(ys, name=params[1]),
                        columns=pd.Index(xs, name=params[0]))


def natural_path(result, params: Sequence[str]) -> np.ndarray:
    """The optimizer's path in two natural-scale parameters, ``n_rows x 2`` (a row per
    trace row).

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA + PSI", data=fk.datasets.load("spector"), family="logit")
    >>> natural_path(res, ["GPA", "PSI"]).shape == (len(res.trace), 2)
    True
    """
    path = result.optimize_result.path
    names = list(result.names)
    index = [names.index(p) for p in params]
    natural = np.array([np.asarray(result.model.to_natural(row), dtype=float) for row in path])
    return natural[:, index]


def plot_paths(source, params: Sequence[str], *, methods: Sequence[str] | None = None,
               profile: bool = False, grid_size: int = 41, levels: int = 10,
               limits=None, newton_steps: int = 6, ax=None):
    """Optimizer paths over the log-likelihood contours of two parameters.

    Parameters
    ----------
    source : DataFrame, FitResult or mapping
        A table from :func:`fisherkit.compare`, one fit result, or a mapping from method
        name to fit result (all of one model and data set).
    params : pair of str
        The horizontal and vertical parameter, by name; both axes are on their natural
        scale (``sigma``, not ``log(sigma)``), and so are the paths.
    methods : sequence of str, optional
        Paths to draw; all by default.
    profile : bool
        Contours with the other parameters held at the best estimate (default) or
        maximized at each grid point (see :func:`loglik_grid` for the cost).
    grid_size : int
        Grid points along each axis.
    levels : int
        Contours, at gaps below the best log-likelihood spaced geometrically from 0.5 to
        the largest gap on the grid.
    limits : pair of (low, high), optional
        Axis ranges; by default the paths and three standard errors around the estimate.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import fisherkit as fk
    >>> table = fk.compare("GRADE ~ GPA + PSI", fk.datasets.load("spector"), "logit",
    ...                    methods=("newton", "gradient"), maxiter={"gradient": 30})
    >>> ax = fk.plotting.plot_paths(table, ["GPA", "PSI"], grid_size=15)
    >>> [line.get_label() for line in ax.get_lines()]
    ['newton', 'gradient', 'maximum']
    """
    results = _results(source)
    # a method keeps its colour whichever subset is drawn
    colours = {m: f"C{k}" for k, m in enumerate(results)}
    if methods is not None:
        unknown = [m for m in methods if m not in results]
        if unknown:
            raise SpecificationError(f"No fit for method(s) {unknown}; have {list(results)}.")
        results = {m: results[m] for m in methods}
    if not (isinstance(grid_size, (int, np.integer)) and grid_size >= 2):
        raise SpecificationError(f"The 'grid_size' must be an integer >= 2; got {grid_size!r}.")
    best = max(results.values(), key=lambda r: r.loglik)
    paths = {}
    for method, res in results.items():
        if res.optimize_result.path is None:
            warnings.warn(f"The {method} fit kept no path; it is not drawn.", FisherkitWarning,
                          stacklevel=user_stacklevel())
            continue
        paths[method] = natural_path(res, params)
    estimate = best.params[list(params)].to_numpy(dtype=float)
    if limits is None:
        se = best.se[list(params)].to_numpy(dtype=float)
        se = np.where(np.isfinite(se) & (se > 0), se, np.maximum(np.abs(estimate), 1.0))
        points = np.vstack([estimate - 3 * se, estimate + 3 * se, *paths.values()])
        points = points[np.all(np.isfinite(points), axis=1)]
        low, high = points.min(axis=0), points.max(axis=0)
        pad = 0.05 * (high - low)
        limits = list(zip(low - pad, high + pad))
    xs = np.linspace(*limits[0], grid_size)
    ys = np.linspace(*limits[1], grid_size)
    grid = loglik_grid(best, params, xs, ys, profile=profile, newton_steps=newton_steps)
    z = grid.to_numpy()
    top = max(best.loglik, float(np.nanmax(z)))
    largest_gap = top - float(np.nanmin(z))
    gaps = (np.geomspace(0.5, largest_gap, levels) if largest_gap > 0.5
            else np.linspace(largest_gap / levels, largest_gap, levels))
    contour_levels = np.unique(top - gaps[::-1])

    ax = _new_axes(ax)
    contours = ax.contour(xs, ys, z, levels=contour_levels, colors="0.6", linewidths=0.8)
    ax.clabel(contours, fmt=lambda v: f"{top - v:.3g}", fontsize=7)
    for method, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], marker="o", markersize=2.5, linewidth=1.2,
                color=colours[method], label=method)
    ax.plot([estimate[0]], [estimate[1]], marker="*", markersize=12, linestyle="none",
            color="black", label="maximum")
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])
    ax.set_xlabel(params[0])
    ax.set_ylabel(params[1])
    held = "profiled" if profile else "held at the maximum"
    ax.set_title(f"log-likelihood below its maximum; other parameters {held}", fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    return ax


# ---- profile likelihoods --------------------------------------------------------------

def plot_profile(result, name: str, *, alpha: float = 0.05, n_points: int = 41,
                 width: float = 3.0, ax=None):
    """The signed root of the profile deviance of one parameter, beside the Wald line.

    Where the log-likelihood is quadratic the signed root ``sign(value - estimate)
    sqrt(2 (loglik_hat - loglik_profile))`` is the straight line ``(value - estimate) /
    se``; the gap between the two curves is what separates the profile interval (where the
    root crosses ``-/+ z_{1 - alpha/2}``, marked) from the Wald one.

    Parameters
    ----------
    result : FitResult
    name : str
        A parameter that is one working coordinate (see :func:`fisherkit.inference.profile.profile`).
    alpha : float
        Level of the marked interval.
    n_points, width : int, float
        The grid of :func:`fisherkit.inference.profile.profile`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
    >>> ax = fk.plotting.plot_profile(res, "PSI", n_points=11)
    >>> [line.get_label() for line in ax.get_lines()][:2]
    ['profile', 'Wald (quadratic)']
    """
    from scipy import stats

    from .inference.profile import profile, profile_ci

    table = profile(result, name, n_points=n_points, width=width)
    interval = profile_ci(result, name, alpha).loc[name]
    z = float(stats.norm.ppf(1.0 - alpha / 2.0))
    ax = _new_axes(ax)
    ax.plot(table.index, table["signed_root"], "-", color="C0", label="profile")
    ax.plot(table.index, table["wald"], "--", color="C1", label="Wald (quadratic)")
    for level in (-z, z):
        ax.axhline(level, color="0.6", lw=0.8)
    for end in (interval["ci_lower"], interval["ci_upper"]):
        if np.isfinite(end):
            ax.axvline(end, color="C0", lw=0.8, ls=":")
    ax.set_xlabel(name)
    ax.set_ylabel("signed root of the profile deviance")
    ax.set_title(f"Profile of {name}: {1 - alpha:.0%} interval "
                 f"[{interval['ci_lower']:.4g}, {interval['ci_upper']:.4g}]")
    ax.legend()
    return ax
