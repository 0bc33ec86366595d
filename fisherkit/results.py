"""The fit result: estimates, covariance, summaries and intervals, computed lazily.

A :class:`FitResult` never changes after it is made. Everything derived from the estimate
(standard errors, the summary table, information matrices) is computed on first use and
cached. Parameters are reported on their natural scale (``sigma``, ``alpha``, increasing cut
points); their covariance is the working-scale covariance carried through the Jacobian of
the working-to-natural map (the delta method).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from .information import as_frame, invert_information
from .model import Model

__all__ = ["FitResult"]


class FitResult:
    """The outcome of :func:`fisherkit.fit`.

    Attributes
    ----------
    params, se : pandas.Series
        Estimates and standard errors on the natural scale, indexed by parameter name.
    cov : pandas.DataFrame
        Covariance of the estimates, parameter by parameter.
    loglik, aic, bic : float
    n_obs, n_dropped, n_iter : int
    converged : bool
    trace : pandas.DataFrame
        One row per iteration of the optimizer.
    flags : frozenset of str
        Numerical trouble seen: ``"not_converged"``, ``"singular_information"``,
        ``"saddle"``, ``"separation"``.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
    >>> round(res.params["GPA"], 4)
    2.8261
    """

    def __init__(self, model: Model, theta: np.ndarray, *, optimize_result, method: str,
                 formula: str, cov_type: str = "observed", flags=frozenset(),
                 hessian: np.ndarray | None = None):
        object.__setattr__(self, "_frozen", False)
        self.model = model
        self.theta = np.asarray(theta, dtype=float)
        self.theta.setflags(write=False)
        self.optimize_result = optimize_result
        self.method = method
        self.formula = formula
        self.cov_type = cov_type
        self._hessian = hessian
        self._flags = set(flags)
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, name, value):
        if self._frozen:
            raise AttributeError("FitResult is immutable; use with_cov() for another covariance.")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return (f"<FitResult {self.model.family.name}: {self.formula!r}, n_obs={self.n_obs}, "
                f"loglik={self.loglik:.6g}, converged={self.converged}>")

    # ---- basics -----------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        return self.model.names

    @cached_property
    def params(self) -> pd.Series:
        return pd.Series(np.asarray(self.model.to_natural(self.theta)), index=list(self.names),
                         name="estimate")

    @cached_property
    def params_working(self) -> pd.Series:
        """Estimates on the working scale (log sigma, log alpha, log cut-point gaps)."""
        return pd.Series(self.theta, index=list(self.model.working_names), name="estimate")

    @property
    def loglik(self) -> float:
        return float(self.optimize_result.loglik)

    @property
    def n_obs(self) -> int:
        return self.model.n_obs

    @property
    def n_dropped(self) -> int:
        """Rows dropped for missing values in used columns."""
        return self.model.data.n_dropped

    @property
    def n_params(self) -> int:
        return self.model.n_params

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        return -2.0 * self.loglik + np.log(self.n_obs) * self.n_params

    @property
    def converged(self) -> bool:
        return bool(self.optimize_result.converged)

    @property
    def n_iter(self) -> int:
        return int(self.optimize_result.n_iter)

    @property
    def trace(self) -> pd.DataFrame:
        return self.optimize_result.trace

    @property
    def flags(self) -> frozenset:
        _ = self._cov_working  # inversion problems become flags
        return frozenset(self._flags)

    # ---- information and covariance ---------------------------------------------------

    @cached_property
    def _observed_working(self) -> np.ndarray:
        H = self._hessian if self._hessian is not None else self.model.hessian(self.theta)
        return -H

    def _information_working(self, kind: str) -> np.ndarray:
        if kind == "observed":
            return self._observed_working
        raise ValueError(f"Unknown information kind {kind!r}; this result knows 'observed'.")

    @cached_property
    def _jacobian(self) -> np.ndarray:
        return self.model.natural_jacobian(self.theta)

    @cached_property
    def _cov_working(self) -> np.ndarray:
        cov, problems = invert_information(self._information_working(self.cov_type),
                                           self.model.working_names)
        if problems:
            self._flags.add("singular_information")
        return cov

    @cached_property
    def cov(self) -> pd.DataFrame:
        J = self._jacobian
        return as_frame(J @ self._cov_working @ J.T, self.names)

    @cached_property
    def se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=list(self.names), name="se")

    def information(self, kind: str = "observed", scale: str = "natural") -> pd.DataFrame:
        """An information matrix at the estimate, labelled by parameter name.

        Parameters
        ----------
        kind : {"observed"}
            ``"observed"`` is minus the Hessian of the log-likelihood.
        scale : {"natural", "working"}
            The natural scale transforms the working-scale information by the inverse
            Jacobian of the working-to-natural map, ``J^-T I J^-1``.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
        >>> res.information().shape
        (2, 2)
        """
        info = self._information_working(kind)
        if scale == "working":
            return as_frame(info, self.model.working_names)
        if scale != "natural":
            raise ValueError(f"The 'scale' must be 'natural' or 'working'; got {scale!r}.")
        Jinv = np.linalg.inv(self._jacobian)
        return as_frame(Jinv.T @ info @ Jinv, self.names)

    # ---- tables -----------------------------------------------------------------------

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald confidence intervals ``estimate -/+ z_{1 - alpha/2} se``.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
        >>> list(res.conf_int(0.1).columns)
        ['ci_lower', 'ci_upper']
        """
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"The 'alpha' must lie in (0, 1); got {alpha!r}.")
        z = stats.norm.ppf(1.0 - alpha / 2.0)
        out = pd.DataFrame({"ci_lower": self.params - z * self.se,
                            "ci_upper": self.params + z * self.se})
        out.attrs["alpha"] = alpha
        return out

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """Estimates, standard errors, z statistics, two-sided p-values and intervals.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
        >>> list(res.summary().columns)
        ['estimate', 'se', 'z', 'p_value', 'ci_lower', 'ci_upper']
        """
        z = self.params / self.se
        table = pd.DataFrame({"estimate": self.params, "se": self.se, "z": z,
                              "p_value": 2.0 * stats.norm.sf(np.abs(z))})
        table = table.join(self.conf_int(alpha))
        table.attrs.update(alpha=alpha, cov_type=self.cov_type, family=self.model.family.name,
                           n_obs=self.n_obs, loglik=self.loglik)
        return table
