"""Functions of fitted parameters and the fit in other coordinates, through exact Jacobians.

- :func:`delta_method`: ``f(theta)`` with covariance ``J cov J'``, ``J = d f / d theta``
  (Casella and Berger, *Statistical Inference*, 2nd ed., sec. 5.5.4).
- :class:`Reparameterized`: the fit in ``phi = g(theta)``; information ``J^-T I J^-1``
  (Lehmann and Casella, *Theory of Point Estimation*, 2nd ed., sec. 2.5).
- :func:`jeffreys`: ``log sqrt det I(theta)`` (Jeffreys, 1946, Proc. R. Soc. A 186).
- :func:`summary_scales`: constrained parameters on their natural and working scales.

Functions receive the natural-scale parameters (``sigma``, not ``log sigma``) as a mapping
from name to an autograd-traceable value, and return a scalar, a sequence, an array or a
dict (whose keys name the outputs).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Callable, Sequence

import autograd.numpy as anp
import numpy as np
import pandas as pd
from scipy import stats

from ..autodiff import derivatives
from ..exceptions import FisherkitWarning, SingularInformationWarning, SpecificationError, user_stacklevel
from ..validation import check_alpha
from .covariance import as_frame, carry_cov, describe_direction

__all__ = ["ParameterMap", "DeltaMethodWarning", "delta_method", "Reparameterized",
           "jeffreys", "summary_scales"]

#: points at which a one-parameter function's derivative is checked for one strict sign
MONOTONE_GRID = 101


class DeltaMethodWarning(FisherkitWarning):
    """A function's derivative vanishes at the estimate: its first-order standard error is
    zero, and the delta method says nothing about its spread."""


class ParameterMap(Mapping):
    """Parameters by name, read from a (possibly traced) flat vector.

    Examples
    --------
    >>> p = ParameterMap(np.array([1.0, 2.0]), ["a", "b"])
    >>> float(p["b"]), list(p)
    (2.0, ['a', 'b'])
    """

    def __init__(self, vector, names: Sequence[str]):
        self._vector, self._names = vector, tuple(names)
        self._index = {name: i for i, name in enumerate(self._names)}

    def __getitem__(self, name):
        if name not in self._index:
            raise SpecificationError(
                f"The function asks for the parameter {name!r}, which the model does not "
                f"have; its parameters are {list(self._names)}.")
        return self._vector[self._index[name]]

    def __contains__(self, name) -> bool:
        return name in self._index

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _flatten(out):
    """A function's output as a 1-d (traced) array, and the names a dict gives it."""
    keys = None
    if isinstance(out, Mapping):
        keys, out = [str(k) for k in out], list(out.values())
    if isinstance(out, (list, tuple)):
        out = anp.array(list(out))
    return anp.reshape(out, (-1,)), keys


def _output_names(name, size: int, keys, func) -> list[str]:
    if name is None:
        if keys is not None:
            return keys
        base = getattr(func, "__name__", "")
        base = base if base.isidentifier() else "value"
        return [base] if size == 1 else [f"{base}[{i}]" for i in range(size)]
    names = [name] if isinstance(name, str) else [str(n) for n in name]
    if len(names) != size:
        raise SpecificationError(f"The function returns {size} value(s) but {len(names)} "
                                 f"name(s) were given: {names}.")
    return names


def evaluate(func: Callable, estimate: pd.Series, name=None):
    """Values, Jacobian (outputs x parameters) and output names of ``func`` at ``estimate``."""
    names = list(estimate.index)
    theta = estimate.to_numpy(dtype=float)
    keys = []

    def vector_func(vector):
        out, k = _flatten(func(ParameterMap(vector, names)))
        keys[:] = [k]
        return out

    with np.errstate(all="ignore"):  # non-finite values are reported below, by name
        values = np.asarray(vector_func(theta), dtype=float)
        finite = values.size > 0 and np.all(np.isfinite(values))
        J = derivatives.jacobian(vector_func, theta) if finite else None
    if values.size == 0:
        raise SpecificationError("The function returned no values.")
    out_names = _output_names(name, values.size, keys[0], func)
    bad = [n for n, v in zip(out_names, values) if not np.isfinite(v)]
    if bad:
        raise SpecificationError("The function is not finite at the estimate: "
                                 + ", ".join(f"{n} = {v}" for n, v in zip(out_names, values)
                                             if n in bad) + ".")
    rows, cols = np.nonzero(~np.isfinite(J))
    if rows.size:
        raise SpecificationError(f"The derivative of {out_names[rows[0]]} with respect to "
                                 f"{names[cols[0]]} is not finite at the estimate.")
    return values, J, out_names


def summary_frame(values, cov: np.ndarray, names, alpha: float, null=0.0) -> pd.DataFrame:
    """The summary table (estimate, se, z, p_value, ci_lower, ci_upper) of normal estimates."""
    check_alpha(alpha)
    values = np.asarray(values, dtype=float)
    se = np.sqrt(np.diag(cov))
    if np.any(np.isnan(se)):
        warnings.warn(f"The standard errors of {[n for n, v in zip(names, se) if np.isnan(v)]} "
                      "are NaN: they depend on parameters the data do not identify.",
                      SingularInformationWarning, stacklevel=user_stacklevel())
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (values - np.asarray(null, dtype=float)) / se
    q = stats.norm.ppf(1.0 - alpha / 2.0)
    table = pd.DataFrame({"estimate": values, "se": se, "z": z,
                          "p_value": 2.0 * stats.norm.sf(np.abs(z)),
                          "ci_lower": values - q * se, "ci_upper": values + q * se},
                         index=list(names))
    table.attrs["alpha"] = alpha
    return table


def _endpoint_interval(func, estimate: pd.Series, cov: np.ndarray, grad: np.ndarray,
                       name: str, alpha: float) -> tuple[float, float]:
    """The Wald interval of the one parameter ``func`` depends on, mapped through ``func``."""
    used = np.flatnonzero(grad != 0.0)
    if used.size != 1:
        what = "none" if used.size == 0 else ", ".join(estimate.index[used])
        raise SpecificationError(
            f"interval='endpoints' needs a scalar function of one parameter whose derivative "
            f"is not zero at the estimate; {name} depends on {what}.")
    j = int(used[0])
    q = stats.norm.ppf(1.0 - alpha / 2.0)
    centre, half = float(estimate.iloc[j]), q * float(np.sqrt(cov[j, j]))
    # checked along the parameter's whole interval (the grid includes both ends): one
    # strict sign of the derivative, and no dependence on the other parameters
    ends = []
    for x in np.linspace(centre - half, centre + half, MONOTONE_GRID):
        point = estimate.copy()
        point.iloc[j] = x
        try:
            values, J, _ = evaluate(func, point, name)
        except SpecificationError as err:
            raise SpecificationError(f"interval='endpoints': {err}") from None
        if np.any(np.delete(J[0], j) != 0.0):
            raise SpecificationError(
                f"interval='endpoints' needs a function of one parameter; {name} also depends "
                f"on {estimate.index[np.flatnonzero(J[0] != 0)[-1]]} away from the estimate.")
        if not J[0, j] * grad[j] > 0.0:
            raise SpecificationError(
                f"{name} is not monotone over the interval of {estimate.index[j]} "
                f"[{centre - half:.6g}, {centre + half:.6g}]: its derivative is {J[0, j]:.3g} "
                f"at {x:.6g}; use interval='wald'.")
        ends.append(values[0])
    return (min(ends[0], ends[-1]), max(ends[0], ends[-1]))


def delta_method(func: Callable, estimate: pd.Series, cov: pd.DataFrame, *, name=None,
                 alpha: float = 0.05, null=0.0, interval: str = "wald",
                 return_cov: bool = False):
    """Estimate, standard error and interval of a function of the parameters.

    Parameters
    ----------
    func : callable
        ``func(p)`` with ``p`` a mapping from parameter name to its value (traced by
        autograd), returning a scalar, a sequence, an array or a dict of values.
    estimate : pandas.Series
        The parameter estimates, indexed by name.
    cov : pandas.DataFrame
        Their covariance.
    name : str or list of str, optional
        Labels of the outputs. Defaults to a dict's keys, else the function's name (indexed
        ``[i]`` for several outputs), else ``"value"``.
    alpha : float
        The intervals are ``1 - alpha`` two-sided.
    null : float or array-like
        The value ``z`` and ``p_value`` test against.
    interval : {"wald", "endpoints"}
        ``"wald"`` is ``f -/+ z se``. ``"endpoints"`` maps the Wald interval of the one
        parameter a scalar ``func`` depends on through ``func``; it needs ``func`` to be
        strictly monotone there (its derivative keeps one sign at ``MONOTONE_GRID`` points
        across the interval).
    return_cov : bool
        Also return the covariance ``J cov J'`` of the outputs, a labelled DataFrame.

    Returns
    -------
    pandas.DataFrame, or (DataFrame, DataFrame) with ``return_cov``
        Columns estimate, se, z, p_value, ci_lower, ci_upper; ``attrs`` hold ``alpha``,
        ``interval`` and ``jacobian`` (outputs x parameters, a nested list).

    Examples
    --------
    >>> est = pd.Series([1.0, 2.0], index=["a", "b"])
    >>> cov = pd.DataFrame(np.diag([0.1, 0.2]), index=est.index, columns=est.index)
    >>> table = delta_method(lambda p: p["a"] + p["b"], est, cov, name="sum")
    >>> round(float(table.loc["sum", "se"]) ** 2, 12)
    0.3
    """
    if interval not in ("wald", "endpoints"):
        raise SpecificationError(f"The 'interval' must be 'wald' or 'endpoints'; got {interval!r}.")
    values, J, out_names = evaluate(func, estimate, name)
    C = carry_cov(J, cov.to_numpy(dtype=float))
    table = summary_frame(values, C, out_names, alpha, null)
    zero = [n for n, row in zip(out_names, J) if not np.any(row)]
    if zero:
        warnings.warn(f"The derivative of {', '.join(zero)} is zero at the estimate, so its "
                      "delta-method standard error is 0; the first-order approximation does "
                      "not describe its spread.", DeltaMethodWarning, stacklevel=user_stacklevel())
    if interval == "endpoints":
        if values.size != 1:
            raise SpecificationError(f"interval='endpoints' needs a scalar function; this one "
                                     f"returns {values.size} values.")
        low, high = _endpoint_interval(func, estimate, cov.to_numpy(dtype=float), J[0],
                                       out_names[0], alpha)
        table.loc[out_names[0], ["ci_lower", "ci_upper"]] = [low, high]
    table.attrs.update(interval=interval, jacobian=J.tolist())
    if return_cov:
        return table, as_frame(C, out_names)
    return table


class Reparameterized:
    """A fitted result re-expressed in new coordinates ``phi = g(theta)``.

    ``theta`` are the natural-scale parameters of the fit. The estimate maps,
    ``phi_hat = g(theta_hat)``; with ``J = d phi / d theta`` the covariance is
    ``J cov J'`` and every information matrix ``J^-T I J^-1``. At a maximum of the
    likelihood this is what refitting in ``phi`` gives.

    Made by :meth:`fisherkit.FitResult.reparameterize`; immutable. ``params``, ``se``,
    ``cov`` and ``jacobian`` (``d phi / d theta``, new by old names) are labelled copies;
    ``loglik``, ``n_obs`` and ``cov_type`` are the fit's.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ 1", data=fk.datasets.load("spector"), family="logit")
    >>> p = res.reparameterize(lambda t: {"p": 1 / (1 + anp.exp(-t["Intercept"]))})
    >>> round(float(p.params["p"]), 5)   # 11 of 32 got an A
    0.34375
    """

    def __init__(self, result, func: Callable, names=None):
        object.__setattr__(self, "_frozen", False)
        estimate = result.params
        values, J, out_names = evaluate(func, estimate, names)
        p = len(estimate)
        if J.shape != (p, p):
            raise SpecificationError(f"A reparameterization maps the {p} parameters to {p} new "
                                     f"ones; this function returns {values.size}.")
        s = np.linalg.svd(J, compute_uv=False)
        if s[-1] <= 1e-12 * s[0]:
            null = np.linalg.svd(J)[2][-1]
            raise SpecificationError(
                "The reparameterization is not invertible at the estimate: its Jacobian is "
                f"singular along {describe_direction(null, list(estimate.index))}.")
        self._result, self.names, self._values = result, tuple(out_names), values
        self._J, self._Jinv = J, np.linalg.inv(J)
        self._cov = carry_cov(J, result.cov.to_numpy())
        self.loglik, self.n_obs, self.cov_type = result.loglik, result.n_obs, result.cov_type
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, name, value):
        if self._frozen:
            raise AttributeError("Reparameterized results are immutable.")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"<Reparameterized {list(self.names)} of {self._result!r}>"

    @property
    def params(self) -> pd.Series:
        return pd.Series(self._values.copy(), index=list(self.names), name="estimate")

    @property
    def cov(self) -> pd.DataFrame:
        return as_frame(self._cov.copy(), self.names)

    @property
    def se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self._cov)), index=list(self.names), name="se")

    @property
    def jacobian(self) -> pd.DataFrame:
        return pd.DataFrame(self._J.copy(), index=list(self.names),
                            columns=list(self._result.names))

    def information(self, kind: str = "observed") -> pd.DataFrame:
        """``J^-T I J^-1``: the fit's natural-scale information of ``kind`` in ``phi``."""
        info = self._result.information(kind).to_numpy()
        return as_frame(self._Jinv.T @ info @ self._Jinv, self.names)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals in the new coordinates."""
        return self.summary(alpha)[["ci_lower", "ci_upper"]]

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """Estimates, standard errors, z, p-values and Wald intervals in ``phi``."""
        table = summary_frame(self._values, self._cov, self.names, alpha)
        table.attrs.update(cov_type=self.cov_type, n_obs=self.n_obs, loglik=self.loglik)
        return table

    def delta(self, func: Callable, **options):
        """The delta method in the new coordinates (``func`` receives ``phi`` by name); the
        options are :func:`delta_method`'s."""
        return delta_method(func, self.params, self.cov, **options)

    def jeffreys(self) -> float:
        """``log sqrt det`` of the expected information in ``phi``, at the estimate:
        the fit's value minus ``log |det J|``."""
        return self._result.jeffreys() - float(np.linalg.slogdet(self._J)[1])


def _to_working(model, natural) -> np.ndarray:
    """The working vector of natural-scale values (a Series or mapping by name, or an array
    in the order of the model's parameters), with each constraint checked."""
    names = list(model.names)
    if isinstance(natural, (Mapping, pd.Series)):
        missing = [n for n in names if n not in natural]
        if missing:
            raise SpecificationError(f"Values are missing for the parameter(s) {missing}.")
        vector = np.array([float(natural[n]) for n in names])
    else:
        vector = np.asarray(natural, dtype=float).reshape(-1)
        if vector.size != len(names):
            raise SpecificationError(f"Give {len(names)} values ({', '.join(names)}); got "
                                     f"{vector.size}.")
    with np.errstate(all="ignore"):
        theta = model.to_working(vector)
    bad = [n for n, t in zip(names, theta) if not np.isfinite(t)]
    if bad:
        raise SpecificationError(f"The value(s) of {bad} lie outside their constraint "
                                 "(positive, unit interval, increasing cut points) or are not finite.")
    return theta


def jeffreys(result, theta=None) -> float:
    """``log sqrt det I(theta)`` of the expected information on the natural scale.

    ``I`` is the fit's expected information (its ``expected_options``) at ``theta``
    (natural scale; the estimate by default). On the natural scale
    ``log det I = log det I_working - 2 log |det d natural / d working|``.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ 1", data=fk.datasets.load("spector"), family="poisson")
    >>> round(jeffreys(res, {"Intercept": 0.0}) - 0.5 * float(np.log(32.0)), 12)   # I = n e^b
    0.0
    """

    model = result.model
    working = np.asarray(result.theta, dtype=float) if theta is None else _to_working(model, theta)
    info = model.expected_information(working, **result.expected_options).matrix
    sign, logdet = np.linalg.slogdet(0.5 * (info + info.T))
    if sign <= 0:
        warnings.warn("The expected information is singular or not positive definite here, "
                      "so Jeffreys' prior density is zero.", SingularInformationWarning,
                      stacklevel=user_stacklevel())
        return -np.inf
    log_det_J = np.linalg.slogdet(model.natural_jacobian(working))[1]
    return float(0.5 * logdet - log_det_J)


def summary_scales(result, alpha: float = 0.05) -> pd.DataFrame:
    """Every parameter on its natural scale, and constrained ones also on their working scale.

    The index has levels ``parameter`` (natural name) and ``scale`` (``"natural"`` or
    ``"working"``); ``label`` names the quantity on that scale (``sigma`` and
    ``log(sigma)``). Working rows hold the estimate and Wald interval of the unconstrained
    scale the model is fitted on; mapped back through the constraint, that interval stays
    inside it, unlike the natural-scale Wald interval.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="normal")
    >>> summary_scales(res).index[-1]
    ('sigma', 'working')
    """
    natural, model = result.summary(alpha), result.model
    working = summary_frame(result.theta, result.cov_working.to_numpy(), model.working_names,
                            alpha)
    rows, index = [], []
    for i, (name, label) in enumerate(zip(model.names, model.working_names)):
        rows.append([name, *natural.iloc[i].tolist()])
        index.append((name, "natural"))
        if label != name:
            rows.append([label, *working.iloc[i].tolist()])
            index.append((name, "working"))
    table = pd.DataFrame(rows, columns=["label", *natural.columns],
                         index=pd.MultiIndex.from_tuples(index, names=["parameter", "scale"]))
    table.attrs.update(natural.attrs)
    return table
