"""The fit result: estimates, covariance, summaries and intervals, computed lazily.

A :class:`FitResult` never changes after it is made. Everything derived from the estimate
(standard errors, the summary table, information matrices) is computed on first use and
cached. Parameters are reported on their natural scale (``sigma``, ``alpha``, increasing cut
points); their covariance is the working-scale covariance carried through the Jacobian of
the working-to-natural map (the delta method).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy import stats

from .exceptions import SpecificationError
from .inference.covariance import as_frame, invert_information
from .models.index_model import Model

__all__ = ["FitResult", "COV_TYPES"]

#: covariances that are the inverse of one information matrix
INFORMATION_COVS = ("observed", "expected", "opg")
#: every covariance; the sandwich kinds take minus the Hessian as bread. Conventions:
#: "sandwich" and "HC0" have no small-sample factor (Huber, 1967; White, 1980);
#: "HC1" multiplies by n / (n - p), p counting every estimated parameter;
#: "cluster" sums scores within clusters and multiplies by G / (G - 1), as Stata's
#: vce(cluster) does for ML models (statsmodels' default also has (n - 1) / (n - p)).
COV_TYPES = INFORMATION_COVS + ("sandwich", "HC0", "HC1", "cluster")


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
    >>> round(float(res.params["GPA"]), 4)
    2.8261
    """

    def __init__(self, model: Model, theta: np.ndarray, *, optimize_result, method: str,
                 formula: str, cov_type: str = "observed", flags=frozenset(),
                 hessian: np.ndarray | None = None, cluster=None, expected_options=None,
                 matrices: dict | None = None):
        if cov_type not in COV_TYPES:
            raise SpecificationError(f"Unknown cov {cov_type!r}; choose one of {list(COV_TYPES)}.")
        if cov_type == "cluster":
            cluster = model.data.cluster if cluster is None else np.asarray(cluster)
            if cluster is None:
                raise SpecificationError("cov='cluster' needs cluster= (a column or an array).")
            if len(cluster) != model.n_obs:
                raise SpecificationError(f"The cluster labels have {len(cluster)} values for "
                                         f"{model.n_obs} observations used in the fit.")
        object.__setattr__(self, "_frozen", False)
        self.model = model
        self.theta = np.asarray(theta, dtype=float)
        self.theta.setflags(write=False)
        self.optimize_result = optimize_result
        self.method = method
        self.formula = formula
        self.cov_type = cov_type
        self._hessian = hessian
        self._cluster = cluster
        self._expected_options = dict(expected_options or {})
        self._matrices = {} if matrices is None else matrices
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
        _ = self._cov_working  # inversion problems become flags
        return frozenset(self._flags)

    # ---- information and covariance ---------------------------------------------------

    def _shared(self, key, compute):
        """Information matrices are shared by every with_cov() view of one fit."""
        if key not in self._matrices:
            self._matrices[key] = compute()
        return self._matrices[key]

    @property
    def _observed_working(self) -> np.ndarray:
        return self._shared("observed", lambda: -(self._hessian if self._hessian is not None
                                                   else self.model.hessian(self.theta)))

    @property
    def _expected(self):
        key = ("expected", tuple(sorted(self._expected_options.items())))
        return self._shared(key, lambda: self.model.expected_information(self.theta,
                                                               **self._expected_options))

    @property
    def _opg_working(self) -> np.ndarray:
        return self._shared("opg", lambda: self.model.opg(self.theta))

    def _information_working(self, kind: str) -> np.ndarray:
        if kind == "observed":
            return self._observed_working
        if kind == "expected":
            return self._expected.matrix
        if kind == "opg":
            return self._opg_working
        raise SpecificationError(
            f"Unknown information kind {kind!r}; choose 'observed', 'expected' or 'opg'.")

    def _meat(self) -> tuple[np.ndarray, float]:
        """The middle of the sandwich and its small-sample factor, for this cov_type."""
        n, p = self.n_obs, self.n_params
        if self.cov_type in ("sandwich", "HC0"):
            return self._opg_working, 1.0
        if self.cov_type == "HC1":
            return self._opg_working, n / (n - p)
        groups = self._cluster
        S = self.model.group_scores(self.theta, groups)
        G = S.shape[0]
        if G < 2:
            raise SpecificationError("Cluster-robust covariance needs at least two clusters.")
        return S.T @ S, G / (G - 1.0)

    @cached_property
    def _cov_working(self) -> np.ndarray:
        names = self.model.working_names
        if self.cov_type in INFORMATION_COVS:
            cov, problems = invert_information(self._information_working(self.cov_type), names)
        else:
            bread, problems = invert_information(self._observed_working, names)
            meat, factor = self._meat()
            cov = factor * bread @ meat @ bread
        if problems:
            self._flags.add("singular_information")
        return cov

    @cached_property
    def _jacobian(self) -> np.ndarray:
        return self.model.natural_jacobian(self.theta)

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance of the natural-scale estimates (a copy)."""
        return self._cov.copy()

    @cached_property
    def _cov(self) -> pd.DataFrame:
        # NaN marks parameters the data do not identify; carry the marks through J by
        # hand, because NaN * 0 inside the product would spread them to every parameter
        J, cov = self._jacobian, self._cov_working
        unknown = np.isnan(np.diag(cov))
        natural = J @ np.where(np.isnan(cov), 0.0, cov) @ J.T
        touched = (np.abs(J[:, unknown]) > 0).any(axis=1)
        natural[touched, :] = np.nan
        natural[:, touched] = np.nan
        return as_frame(natural, self.names)

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
        return as_frame(self._cov_working.copy(), self.model.working_names)

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
        return MappingProxyType(self._expected_options)

    @property
    def se(self) -> pd.Series:
        """Standard errors on the natural scale (a copy)."""
        return self._se.copy()

    @cached_property
    def _se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self._cov.to_numpy())), index=list(self.names), name="se")

    def information(self, kind: str = "observed", scale: str = "natural") -> pd.DataFrame:
        """An information matrix at the estimate, labelled by parameter name.

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
        info = self._information_working(kind)
        if scale == "working":
            return as_frame(info, self.model.working_names)
        if scale != "natural":
            raise ValueError(f"The 'scale' must be 'natural' or 'working'; got {scale!r}.")
        Jinv = np.linalg.inv(self._jacobian)
        return as_frame(Jinv.T @ info @ Jinv, self.names)

    def with_cov(self, cov: str, *, cluster=None, **expected_options) -> "FitResult":
        """The same fit with another covariance, without refitting.

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
        return FitResult(self.model, self.theta, optimize_result=self.optimize_result,
                         method=self.method, formula=self.formula, cov_type=cov,
                         flags=self._flags - {"singular_information"}, hessian=self._hessian,
                         cluster=cluster if cluster is not None else self._cluster,
                         expected_options=expected_options or self._expected_options,
                         matrices=self._matrices)

    def se_table(self, kinds=None) -> pd.DataFrame:
        """Standard errors side by side, a column per covariance kind.

        Parameters
        ----------
        kinds : sequence of str, optional
            Defaults to observed, expected, opg and sandwich, plus cluster when the fit
            has cluster labels.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
        >>> list(res.se_table().columns)
        ['observed', 'expected', 'opg', 'sandwich']
        """
        if kinds is None:
            kinds = ["observed", "expected", "opg", "sandwich"]
            if self._cluster is not None or self.model.data.cluster is not None:
                kinds.append("cluster")
        table = pd.DataFrame({k: self.with_cov(k).se for k in kinds})
        table.columns.name = "cov"
        return table

    # ---- diagnostics ------------------------------------------------------------------

    def information_matrix_test(self, pairs=None) -> pd.Series:
        """White's information-matrix test (OPG form); see
        :func:`fisherkit.inference.diagnostics.information_matrix_test`."""
        from .inference.diagnostics import information_matrix_test
        return information_matrix_test(self, pairs)

    def curvature(self):
        """Eigenvalues, condition number, kind of point and flat directions; see
        :func:`fisherkit.inference.diagnostics.curvature_report`."""
        from .inference.diagnostics import curvature_report
        return curvature_report(self)

    def plan(self, n=None, se=None) -> pd.DataFrame:
        """Cramér-Rao planning; see :func:`fisherkit.inference.diagnostics.plan_sample_size`."""
        from .inference.diagnostics import plan_sample_size
        return plan_sample_size(self, n=n, se=se)

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

    # ---- functions of the parameters and other coordinates (fisherkit.inference.reparam, .marginal)

    def delta(self, func, *, name=None, alpha: float = 0.05, null=0.0,
              interval: str = "wald", return_cov: bool = False):
        """Estimate, standard error and interval of a function of the parameters.

        ``func(p)`` receives a mapping from parameter name to its natural-scale value,
        traced by autograd, and returns a scalar, a sequence, an array or a dict; the
        covariance of its outputs is ``J cov J'`` with this result's ``cov`` (so
        ``with_cov`` views give robust versions) and ``J`` from autograd. See
        :func:`fisherkit.inference.reparam.delta_method` for ``name``, ``null``, ``interval``
        (``"endpoints"`` maps a monotone function's parameter interval) and
        ``return_cov`` (also return the covariance as a DataFrame).

        Examples
        --------
        >>> import autograd.numpy as anp
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
        >>> res.delta(lambda p: anp.exp(p["GPA"]), name="odds_ratio_GPA").round(3).iloc[0, :2].tolist()
        [16.88, 21.318]
        """
        from .inference.reparam import delta_method
        return delta_method(func, self.params, self.cov, name=name, alpha=alpha, null=null,
                            interval=interval, return_cov=return_cov)

    def reparameterize(self, func, *, names=None):
        """This fit in coordinates ``phi = func(p)``: a :class:`fisherkit.inference.reparam.Reparameterized`.

        ``func`` maps the natural-scale parameters (a mapping by name) to as many new ones,
        returned as a dict (its keys name them) or a sequence named by ``names``.

        Examples
        --------
        >>> import autograd.numpy as anp
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
        >>> new = res.reparameterize(lambda p: [p["Intercept"] + 3 * p["GPA"], p["GPA"]],
        ...                          names=["logit_at_GPA_3", "GPA"])
        >>> list(new.summary().index)
        ['logit_at_GPA_3', 'GPA']
        """
        from .inference.reparam import Reparameterized
        return Reparameterized(self, func, names)

    def marginal_effects(self, *, at: str = "overall", method: str = "dydx",
                         dummy: bool = False, count: bool = False, alpha: float = 0.05):
        """Marginal effects on the mean response with delta-method standard errors; see
        :func:`fisherkit.inference.marginal.marginal_effects`.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
        >>> res.marginal_effects().round(4).loc["GPA", ["estimate", "se"]].tolist()
        [0.3626, 0.1094]
        """
        from .inference.marginal import marginal_effects
        return marginal_effects(self, at=at, method=method, dummy=dummy, count=count,
                                alpha=alpha)

    def jeffreys(self, theta=None) -> float:
        """``log sqrt det`` of the expected information on the natural scale: the log of
        Jeffreys' prior density, up to a constant, at the estimate or at ``theta``
        (natural-scale values by name, or an array in the order of ``params``).

        Examples
        --------
        >>> import numpy as np
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ 1", data=fk.datasets.load("spector"), family="logit")
        >>> bool(np.isclose(res.jeffreys(), 0.5 * np.log(32 * (11 / 32) * (21 / 32))))
        True
        """
        from .inference.reparam import jeffreys
        return jeffreys(self, theta)

    def summary_scales(self, alpha: float = 0.05) -> pd.DataFrame:
        """The summary with constrained parameters also on their working scale (``sigma``
        and ``log(sigma)``); see :func:`fisherkit.inference.reparam.summary_scales`.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="normal")
        >>> res.summary_scales().loc["sigma", "label"].tolist()
        ['sigma', 'log(sigma)']
        """
        from .inference.reparam import summary_scales
        return summary_scales(self, alpha)

    # ---- tests and likelihood intervals (fisherkit.inference.hypothesis_tests, fisherkit.inference.profile) -------

    def wald_test(self, restriction, *, cov: str | None = None) -> pd.Series:
        """Wald test of linear restrictions ``R params = r``; see
        :func:`fisherkit.inference.hypothesis_tests.wald_test`.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
        >>> res.wald_test("GPA = TUCE").round(4).tolist()
        [4.416, 1.0, 0.0356]
        """
        from .inference.hypothesis_tests import wald_test
        return wald_test(self, restriction, cov=cov)

    def profile(self, name: str, values=None, *, n_points: int = 21,
                width: float = 3.0) -> pd.DataFrame:
        """The profile log-likelihood of one parameter; see :func:`fisherkit.inference.profile.profile`.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
        >>> list(res.profile("PSI", n_points=3).columns[:3])
        ['loglik', 'signed_root', 'wald']
        """
        from .inference.profile import profile
        return profile(self, name, values, n_points=n_points, width=width)

    def profile_ci(self, names=None, alpha: float = 0.05) -> pd.DataFrame:
        """Profile-likelihood confidence intervals; see :func:`fisherkit.inference.profile.profile_ci`.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
        >>> res.profile_ci("GPA").round(3).loc["GPA"].tolist()
        [2.826, 0.639, 5.757]
        """
        from .inference.profile import profile_ci
        return profile_ci(self, names, alpha)
