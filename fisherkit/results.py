"""The fit result: estimates, covariance, summaries and intervals, computed lazily.

A :class:`FitResult` never changes after it is made; what derives from the estimate is
computed on first use and cached. Parameters are reported on their natural scale, with the
covariance of :mod:`fisherkit.inference.covariance`. The analyses (tests, profiles, the delta
method, diagnostics) are methods of :class:`fisherkit.analyses.Analyses`, forwarding to
:mod:`fisherkit.inference`, which reads only the public attributes documented here.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy import stats

from .analyses import Analyses
from .exceptions import SpecificationError
from .inference.covariance import COV_TYPES, Covariance, InformationCache, as_frame
from .models.protocol import LikelihoodModel
from .tables import array_table, header
from .validation import check_alpha

__all__ = ["FitResult", "COV_TYPES"]


class FitResult(Analyses):
    """The outcome of :func:`fisherkit.fit`.

    Attributes
    ----------
    params, se : pandas.Series
        Estimates and standard errors on the natural scale, indexed by parameter name.
    cov : pandas.DataFrame
        Covariance of the estimates, parameter by parameter.
    params_working, cov_working
        The same on the working scale the model is fitted on (``log(sigma)``).
    loglik, aic, bic : float
    n_obs, n_dropped, n_params, n_iter : int
    converged : bool
    trace : pandas.DataFrame
        One row per iteration of the optimizer.
    flags : frozenset of str
        Numerical trouble seen: ``"not_converged"``, ``"singular_information"``,
        ``"saddle"``, ``"separation"``, ``"boundary"``, ``"few_clusters"``.
    expected_options, expected_information
        How the expected information is computed (``method``, ``draws``, ``seed``), and
        the expected information itself with how it was obtained.
    model, theta, optimize_result, method, formula, cov_type
        The model, the working-scale estimate, the optimizer's outcome, the fit's settings.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
    >>> round(float(res.params["GPA"]), 4)
    2.8261
    """

    def __init__(self, model: LikelihoodModel, theta: np.ndarray, *, optimize_result,
                 method: str, formula: str, cov_type: str = "observed", flags=frozenset(),
                 hessian: np.ndarray | None = None, cluster=None,
                 expected_options: Mapping | None = None, matrices: dict | None = None):
        theta = np.asarray(theta, dtype=float)
        theta.setflags(write=False)
        information = InformationCache(model, theta, hessian=hessian, store=matrices)
        covariance = Covariance(model, theta, cov_type, cluster=cluster,
                                expected_options=expected_options, information=information)
        vars(self).update(model=model, theta=theta, optimize_result=optimize_result,
                          method=method, formula=formula, cov_type=cov_type,
                          _covariance=covariance, _flags=frozenset(flags))

    def __setattr__(self, name, value):
        raise AttributeError("FitResult is immutable; use with_cov() for another covariance.")

    def __repr__(self) -> str:
        return (f"<FitResult {self.model.label}: {self.formula!r}, n_obs={self.n_obs}, "
                f"loglik={self.loglik:.6g}, converged={self.converged}>")

    # ---- estimates and the fit --------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        return self.model.names

    @property
    def params(self) -> pd.Series:
        """Estimates on the natural scale (a copy: the result itself never changes)."""
        return self._params.copy()

    @cached_property
    def _params(self) -> pd.Series:
        return pd.Series(np.asarray(self.model.to_natural(self.theta)), index=list(self.names),
                         name="estimate")

    @property
    def params_working(self) -> pd.Series:
        """Estimates on the working scale (log sigma, log alpha, log cut-point gaps)."""
        return pd.Series(self.theta.copy(), index=list(self.model.working_names), name="estimate")

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
        """One row per iteration: loglik, grad_norm, decrement, step_size, elapsed, passes
        (over the data, cumulative) and ``kl``, the Kullback-Leibler divergence of the
        step's fitted distributions from the previous row's (NaN where the model defines
        none; see :mod:`fisherkit.models.divergence`). A copy."""
        return self._trace.copy()

    @cached_property
    def _trace(self) -> pd.DataFrame:
        frame = self.optimize_result.trace.copy()
        path = self.optimize_result.path
        if path is not None and len(path) == len(frame):
            frame["kl"] = self.model.step_divergence(path)
        return frame

    @property
    def flags(self) -> frozenset:
        """Numerical trouble seen; reading it inverts the information (a failure warns)."""
        return self._flags | self._covariance.flags

    # ---- information and covariance (fisherkit.inference.covariance) ----------------------

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance of the natural-scale estimates (a copy)."""
        return self._cov.copy()

    @cached_property
    def _cov(self) -> pd.DataFrame:
        return as_frame(self._covariance.natural, self.names)

    @property
    def cov_working(self) -> pd.DataFrame:
        """Covariance of ``theta`` by working name (a copy; NaN where the data do not identify
        a parameter); ``cov`` is ``J cov_working J'``, ``J = d natural / d working``.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="normal")
        >>> list(res.cov_working.columns)
        ['Intercept', 'GPA', 'log(sigma)']
        """
        return as_frame(self._covariance.working.copy(), self.model.working_names)

    @property
    def expected_options(self) -> Mapping:
        """The options of the expected information given to :meth:`with_cov` (``method``,
        ``draws``, ``seed``), read-only; empty for the defaults.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
        >>> dict(res.with_cov("expected", method="exact").expected_options)
        {'method': 'exact'}
        """
        return MappingProxyType(self._covariance.expected_options)

    @property
    def expected_information(self):
        """The expected information on the working scale with how it was obtained (its
        ``method``, and ``mc_se`` and ``draws`` for Monte Carlo): an
        :class:`fisherkit.models.expected.ExpectedInformation` for ``expected_options``.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
        >>> res.expected_information.method
        'closed'
        """
        return self._covariance.information.expected(self.expected_options)

    @property
    def se(self) -> pd.Series:
        """Standard errors on the natural scale (a copy)."""
        return self._se.copy()

    @cached_property
    def _se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self._cov.to_numpy())), index=list(self.names), name="se")

    def information(self, kind: str = "observed", scale: str = "natural") -> pd.DataFrame:
        """An information matrix at the estimate, labelled by parameter name (a copy).

        Parameters
        ----------
        kind : {"observed", "expected", "opg"}
            ``"observed"`` is minus the Hessian of the log-likelihood; ``"expected"`` its
            expectation under the fitted model (closed form, exact summation over a discrete
            outcome, or Monte Carlo: see :func:`fisherkit.models.expected.expected_information`);
            ``"opg"`` the outer product of per-observation scores (BHHH).
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
        if scale not in ("natural", "working"):
            raise SpecificationError(f"The 'scale' must be 'natural' or 'working'; got {scale!r}.")
        info = self._covariance.information.matrix(kind, self.expected_options)
        if scale == "working":
            return as_frame(info.copy(), self.model.working_names)
        Jinv = np.linalg.inv(self._covariance.jacobian)
        return as_frame(Jinv.T @ info @ Jinv, self.names)

    def with_cov(self, cov: str, *, cluster=None, **expected_options) -> "FitResult":
        """The same fit with another covariance, without refitting or recomputing the
        information matrices the two share.

        Parameters
        ----------
        cov : str
            One of ``COV_TYPES``: ``"observed"``, ``"expected"``, ``"opg"``,
            ``"sandwich"`` (HC0), ``"HC0"``, ``"HC1"``, ``"cluster"``.
        cluster : array-like, optional
            Cluster labels of the observations used in the fit, for ``"cluster"`` when the
            fit was not given ``cluster=``.
        **expected_options
            ``method``, ``draws``, ``seed`` for the expected information.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
        >>> res.with_cov("sandwich").cov_type
        'sandwich'
        """
        own = self._covariance
        return FitResult(self.model, self.theta, optimize_result=self.optimize_result,
                         method=self.method, formula=self.formula, cov_type=cov,
                         flags=self._flags - {"singular_information"},
                         hessian=own.information.hessian,
                         cluster=cluster if cluster is not None else own.cluster,
                         expected_options=expected_options or own.expected_options,
                         matrices=own.information.store)

    def se_table(self, kinds=None) -> pd.DataFrame:
        """Standard errors side by side, a column per covariance kind; by default observed,
        expected, opg and sandwich, plus cluster when the fit has cluster labels.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
        >>> list(res.se_table().columns)
        ['observed', 'expected', 'opg', 'sandwich']
        """
        if kinds is None:
            kinds = ["observed", "expected", "opg", "sandwich"]
            if self.model.weight_type == "probability":
                kinds = ["sandwich", "robust"]  # a pseudo-likelihood has no other
            if self._covariance.cluster is not None or self.model.data.cluster is not None:
                kinds.append("cluster")
        table = pd.DataFrame({k: self.with_cov(k).se for k in kinds})
        table.columns.name = "cov"
        return table

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
        check_alpha(alpha)
        z = stats.norm.ppf(1.0 - alpha / 2.0)
        out = pd.DataFrame({"ci_lower": self.params - z * self.se,
                            "ci_upper": self.params + z * self.se})
        out.attrs["alpha"] = alpha
        return out

    @property
    def header(self) -> pd.Series:
        """What the fit is and how it went, as a Series (see :func:`fisherkit.tables.header`).

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
        >>> res.header["converged"], res.header["method"]
        (True, 'newton')
        """
        return header(self)

    def array(self, name: str, column: str = "estimate", *, alpha: float = 0.05):
        """An array parameter (``fk.Array``) in its own shape: a Series for a vector, a
        DataFrame for a matrix, labelled by position (see :func:`fisherkit.tables.array_table`).

        Parameters
        ----------
        name : str
            The parameter's name in ``params=`` of the ``fk.Likelihood``.
        column : str
            A column of :meth:`summary`: ``"estimate"`` (the default), ``"se"``, ``"z"``,
            ``"p_value"``, ``"ci_lower"``, ``"ci_upper"``.
        alpha : float
            The level of the intervals.

        Examples
        --------
        >>> import autograd.numpy as anp
        >>> import fisherkit as fk
        >>> def normal(p, data):
        ...     return -0.5 * anp.sum((data - p["mean"]) ** 2, axis=1)
        >>> data = np.array([[1.0, 2.0], [3.0, 6.0]])
        >>> res = fk.fit_likelihood(fk.Likelihood(normal, data, params={"mean": np.zeros(2)}))
        >>> res.array("mean").round(6).tolist(), res.array("mean", "se").round(6).tolist()
        ([2.0, 4.0], [0.707107, 0.707107])
        """
        return array_table(self, name, column, alpha)

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """Estimates, standard errors, z statistics, two-sided p-values and intervals.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
        >>> list(res.summary().columns)
        ['estimate', 'se', 'z', 'p_value', 'ci_lower', 'ci_upper']
        """
        intervals = self.conf_int(alpha)
        z = self.params / self.se
        table = pd.DataFrame({"estimate": self.params, "se": self.se, "z": z,
                              "p_value": 2.0 * stats.norm.sf(np.abs(z))})
        table = table.join(intervals)
        table.attrs.update(alpha=alpha, cov_type=self.cov_type, family=self.model.label,
                           n_obs=self.n_obs, loglik=self.loglik)
        return table
