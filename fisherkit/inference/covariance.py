"""Covariances of a fit: the kinds, the information they share, and honest inversion.

A fit's covariance is the inverse of one information matrix (observed, expected, OPG) or a
sandwich ``B^-1 M B^-1`` with minus the Hessian as bread. :class:`InformationCache` computes
each information matrix of a fit once, for every ``with_cov`` view of it; :class:`Covariance`
is one kind of covariance on the working scale and, carried through the Jacobian of the
working-to-natural map, on the natural scale. Models are reached only through
:class:`fisherkit.models.protocol.LikelihoodModel`.

An information matrix is inverted after Jacobi scaling (``D^-1/2 I D^-1/2``, which makes the
check scale-free: a badly scaled but well-identified model passes, two collinear columns do
not). Eigenvalues at or below ``rtol`` times the largest mark directions the data do not
identify; each is reported as a named combination of parameters, the parameters it involves
get NaN variances, and the rest of the covariance is the inverse on the identified subspace.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from functools import cached_property

import numpy as np
import pandas as pd

from ..autodiff.linalg import scaled_eigh
from ..exceptions import SingularInformationWarning, SpecificationError, user_stacklevel
from ..models.protocol import LikelihoodModel
from ..models.weights import refuse_model_based

__all__ = ["COV_TYPES", "INFORMATION_COVS", "Covariance", "InformationCache", "as_frame",
           "carry_cov", "describe_direction", "invert_information", "few_clusters"]

#: covariances that are the inverse of one information matrix: "observed" (minus the
#: Hessian), "expected" (its expectation under the fitted model) and "opg" (the outer
#: product of per-observation scores, BHHH)
INFORMATION_COVS = ("observed", "expected", "opg")
#: every covariance; the sandwich kinds take minus the Hessian as bread. Conventions:
#: "sandwich" and "HC0" have no small-sample factor (Huber, 1967; White, 1980);
#: "HC1" multiplies by n / (n - p), p counting every estimated parameter;
#: "robust" multiplies HC0 by N / (N - 1), as Stata's vce(robust) does for ML models;
#: "cluster" sums scores within clusters and multiplies by G / (G - 1), as Stata's
#: vce(cluster) does for ML models (statsmodels' default also has (n - 1) / (n - p)).
#: With observation weights n and N count frequency weights (``n_obs``), and the meat is
#: sum w s s' for frequency weights and sum (w s)(w s)' for analytic and probability
#: weights; cluster sums the weighted scores w s within clusters
#: (:mod:`fisherkit.models.weights`). Probability weights refuse the information kinds.
COV_TYPES = INFORMATION_COVS + ("sandwich", "HC0", "HC1", "robust", "cluster")
#: eigenvalues of the scaled information below this fraction of the largest count as zero
RTOL = 1e-12


def describe_direction(vector: np.ndarray, names, cutoff: float = 1e-3) -> str:
    """A direction in parameter space as a readable combination: ``"GPA - TUCE"``.

    Examples
    --------
    >>> describe_direction(np.array([0.7071, -0.7071, 0.0]), ["GPA", "TUCE", "PSI"])
    'GPA - TUCE'
    """
    v = np.asarray(vector, dtype=float)
    v = v / v[np.argmax(np.abs(v))]
    terms = []
    for coef, name in zip(v, names):
        if abs(coef) < cutoff:
            continue
        mag = abs(coef)
        body = name if abs(mag - 1.0) < 1e-6 else f"{mag:.3g}*{name}"
        sign = "-" if coef < 0 else "+"
        terms.append((sign, body))
    text = ("-" if terms[0][0] == "-" else "") + terms[0][1]
    for sign, body in terms[1:]:
        text += f" {sign} {body}"
    return text


def invert_information(info: np.ndarray, names, *, rtol: float = RTOL, warn: bool = True):
    """Covariance from information, with a diagnosis when it is not positive definite.

    Parameters
    ----------
    info : ndarray (p, p)
        An information matrix (minus a Hessian, an expected information, an OPG).
    names : sequence of str
        Parameter names, for messages.
    rtol : float
        Relative eigenvalue threshold below which a direction counts as not identified.
    warn : bool
        Emit a :class:`SingularInformationWarning` when there is a problem.

    Returns
    -------
    cov : ndarray (p, p)
        NaN in the rows and columns of parameters involved in a bad direction.
    problems : list of str
        One sentence per bad direction; empty when the information is positive definite.

    Examples
    --------
    >>> cov, problems = invert_information(np.array([[2.0, 0.0], [0.0, 4.0]]), ["a", "b"])
    >>> np.diag(cov), problems
    (array([0.5 , 0.25]), [])
    """
    info = 0.5 * (np.asarray(info, dtype=float) + np.asarray(info, dtype=float).T)
    p = info.shape[0]
    if not np.all(np.isfinite(info)):
        bad = [names[j] for j in range(p) if not np.all(np.isfinite(info[j]))]
        problems = [f"the information is not finite for {', '.join(bad)}"]
        if warn:
            warnings.warn(f"Standard errors cannot be computed: {problems[0]}.",
                          SingularInformationWarning, stacklevel=user_stacklevel())
        return np.full((p, p), np.nan), problems
    diag = np.diag(info)
    lam, V, d = scaled_eigh(info, absolute=False)
    top = max(np.max(np.abs(lam)), np.finfo(float).tiny)
    good = lam > rtol * top
    problems, involved = [], np.zeros(p, dtype=bool)
    for j in np.flatnonzero(~good):
        direction = V[:, j] / d
        combo = describe_direction(direction, names)
        kind = "is not identified" if abs(lam[j]) <= rtol * top else "has negative curvature"
        problems.append(f"{combo} {kind} (eigenvalue {lam[j] * 1.0:.3g} of the scaled "
                        f"information)")
        involved |= np.abs(direction / np.max(np.abs(direction))) > 1e-6
    for j in np.flatnonzero(diag <= 0):
        if not involved[j]:
            problems.append(f"{names[j]} has zero or negative information")
            involved[j] = True
    Vg = V[:, good]
    cov = (Vg / lam[good]) @ Vg.T / np.outer(d, d)
    if problems:
        cov[involved, :] = np.nan
        cov[:, involved] = np.nan
        if warn:
            warnings.warn(
                "The information matrix is not positive definite, so standard errors of "
                f"{', '.join(n for n, i in zip(names, involved) if i)} are NaN: "
                + "; ".join(problems) + ".",
                SingularInformationWarning, stacklevel=user_stacklevel())
    return cov, problems


def few_clusters(meat: np.ndarray, names) -> str | None:
    """Why a cluster-robust covariance with this ``meat`` cannot be trusted for parameters
    ``names``, or None when the meat has full rank.

    The meat is a sum of one outer product of summed scores per cluster, and those sums
    add up to the total score, zero at the estimate: ``G`` clusters give it rank at most
    ``G - 1``. With no more clusters than parameters the covariance is singular, some
    combinations of the parameters getting zero variance (Cameron and Miller, 2015,
    *Journal of Human Resources* 50, sec. VI).

    Examples
    --------
    >>> few_clusters(np.eye(2), ["a", "b"]) is None
    True
    >>> few_clusters(np.ones((2, 2)), ["a", "b"])[:48]
    'The cluster-robust covariance has a meat of rank'
    """
    p = len(names)
    d = np.sqrt(np.maximum(np.diag(meat), 0.0))
    scaled = meat / np.outer(np.where(d > 0, d, 1.0), np.where(d > 0, d, 1.0))
    lam = np.linalg.eigvalsh(0.5 * (scaled + scaled.T))
    rank = int(np.sum(lam > 1e-10 * max(np.max(lam), np.finfo(float).tiny)))
    if rank >= p:
        return None
    return (f"The cluster-robust covariance has a meat of rank {rank} for {p} parameters "
            f"({', '.join(names)}): G clusters give it rank at most G - 1, so with no more "
            "clusters than parameters the covariance is singular (some combinations of the "
            "parameters get zero variance) and its standard errors and Wald tests are not "
            "reliable; use more clusters, fewer parameters, or another covariance.")


def as_frame(matrix: np.ndarray, names) -> pd.DataFrame:
    """A square matrix labelled by parameter name on both axes."""
    return pd.DataFrame(matrix, index=list(names), columns=list(names))


def carry_cov(J: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """``J cov J'`` where NaN marks unidentified parameters: an output touching one is NaN,
    the others are unaffected (a NaN times a zero derivative would otherwise spread).

    Examples
    --------
    >>> cov = np.array([[1.0, np.nan], [np.nan, np.nan]])
    >>> carry_cov(np.diag([2.0, 1.0]), cov)
    array([[ 4., nan],
           [nan, nan]])
    """
    unknown = np.isnan(np.diag(cov))
    out = J @ np.where(np.isnan(cov), 0.0, cov) @ J.T
    touched = (np.abs(J[:, unknown]) > 0).any(axis=1)
    out[touched, :] = np.nan
    out[:, touched] = np.nan
    return out


class InformationCache:
    """The information matrices of one fit at its estimate, each computed on first use.

    Every ``with_cov`` view of a fit holds a cache over the same ``store``, so another
    covariance of the same fit never computes a matrix twice.

    Parameters
    ----------
    model : LikelihoodModel
    theta : ndarray
        The estimate on the working scale.
    hessian : ndarray, optional
        The Hessian of the log-likelihood at ``theta``, when the optimizer has it.
    store : dict, optional
        Matrices computed so far, filled in place (a new dict by default).

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
    >>> cache = InformationCache(res.model, res.theta)
    >>> cache.matrix("opg").shape, sorted(cache.store)
    ((2, 2), ['opg'])
    """

    def __init__(self, model: LikelihoodModel, theta: np.ndarray, *,
                 hessian: np.ndarray | None = None, store: dict | None = None):
        self.model, self.theta, self.hessian = model, theta, hessian
        self.store = {} if store is None else store

    def _shared(self, key, compute):
        if key not in self.store:
            self.store[key] = compute()
        return self.store[key]

    def observed(self) -> np.ndarray:
        """Minus the Hessian of the log-likelihood (the optimizer's, when it gave one)."""
        return self._shared("observed", lambda: -(self.hessian if self.hessian is not None
                                                   else self.model.hessian(self.theta)))

    def expected(self, options: Mapping | None = None):
        """The :class:`fisherkit.models.expected.ExpectedInformation` for these options
        (``method``, ``draws``, ``seed``), one per distinct set of options."""
        options = dict(options or {})
        key = ("expected", tuple(sorted(options.items())))
        return self._shared(key, lambda: self.model.expected_information(self.theta, **options))

    def opg(self) -> np.ndarray:
        """The outer product of per-observation scores, ``sum_i s_i s_i'``."""
        return self._shared("opg", lambda: self.model.opg(self.theta))

    def meat(self) -> np.ndarray:
        """The sandwich's middle (:meth:`LikelihoodModel.sandwich_meat`): the OPG, or with
        analytic and probability weights the outer product of weighted scores."""
        if self.model.weight_type in (None, "frequency"):
            return self.opg()  # the same matrix: computed once
        return self._shared("meat", lambda: self.model.sandwich_meat(self.theta))

    def matrix(self, kind: str, options: Mapping | None = None) -> np.ndarray:
        """The information of ``kind`` (one of :data:`INFORMATION_COVS`) on the working scale."""
        if kind == "observed":
            return self.observed()
        if kind == "expected":
            return self.expected(options).matrix
        if kind == "opg":
            return self.opg()
        raise SpecificationError(
            f"Unknown information kind {kind!r}; choose 'observed', 'expected' or 'opg'.")


class Covariance:
    """One kind of covariance of a fit, on the working and the natural scale, computed lazily.

    Parameters
    ----------
    model : LikelihoodModel
    theta : ndarray
        The estimate on the working scale.
    kind : str
        One of :data:`COV_TYPES` (their conventions are documented beside it).
    cluster : array-like, optional
        Cluster labels of the observations used in the fit; for ``"cluster"`` they default
        to the model's (``model.data.cluster``).
    expected_options : mapping, optional
        ``method``, ``draws``, ``seed`` for the expected information.
    information : InformationCache, optional
        The fit's information matrices, shared with its other covariances.

    Attributes
    ----------
    working : ndarray
        The covariance of ``theta``; NaN in the rows and columns of parameters the data do
        not identify.
    problems : tuple of str
        What made the inversion fail (empty when it did not); it warned once.
    natural : ndarray
        ``J working J'``, with ``J = model.natural_jacobian(theta)`` (the delta method).

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
    >>> cov = Covariance(res.model, res.theta, "HC1")
    >>> bool(np.allclose(cov.natural, res.with_cov("HC1").cov)), cov.problems
    (True, ())
    """

    def __init__(self, model: LikelihoodModel, theta: np.ndarray, kind: str = "observed", *,
                 cluster=None, expected_options: Mapping | None = None,
                 information: InformationCache | None = None):
        if kind not in COV_TYPES:
            raise SpecificationError(f"Unknown cov {kind!r}; choose one of {list(COV_TYPES)}.")
        refuse_model_based(kind, model.weight_type)
        if kind == "cluster":
            cluster = model.data.cluster if cluster is None else np.asarray(cluster)
            if cluster is None:
                raise SpecificationError("cov='cluster' needs cluster= (a column or an array).")
            if len(cluster) != model.n_rows:
                raise SpecificationError(f"The cluster labels have {len(cluster)} values for "
                                         f"{model.n_rows} rows used in the fit.")
        self.model, self.theta, self.kind, self.cluster = model, theta, kind, cluster
        self.expected_options = dict(expected_options or {})
        self._meat_problem = None  # a cluster meat without full rank, once inverted
        self.information = InformationCache(model, theta) if information is None else information

    def meat(self) -> tuple[np.ndarray, float]:
        """The middle of the sandwich and its small-sample factor, for a sandwich kind."""
        if self.kind in INFORMATION_COVS:
            raise SpecificationError(f"The {self.kind!r} covariance is the inverse of one "
                                     "information matrix: it has no sandwich meat.")
        n, p = self.model.n_obs, self.model.n_params
        if self.kind in ("sandwich", "HC0"):
            return self.information.meat(), 1.0
        if self.kind == "HC1":
            return self.information.meat(), n / (n - p)
        if self.kind == "robust":
            return self.information.meat(), n / (n - 1.0)
        S = self.model.group_scores(self.theta, self.cluster)
        G = S.shape[0]
        if G < 2:
            raise SpecificationError("Cluster-robust covariance needs at least two clusters.")
        return S.T @ S, G / (G - 1.0)

    @cached_property
    def _inverse(self) -> tuple[np.ndarray, tuple[str, ...]]:
        names = self.model.working_names
        if self.kind in INFORMATION_COVS:
            info = self.information.matrix(self.kind, self.expected_options)
            cov, problems = invert_information(info, names)
        else:
            bread, problems = invert_information(self.information.observed(), names)
            meat, factor = self.meat()
            self._check_meat(meat)
            cov = factor * bread @ meat @ bread
        return cov, tuple(problems)

    def _check_meat(self, meat: np.ndarray) -> None:
        # kept for the flags; the inversion that finds it runs once (cached)
        self._meat_problem = few_clusters(meat, self.model.names) if self.kind == "cluster" else None
        if self._meat_problem is not None:
            warnings.warn(self._meat_problem, SingularInformationWarning,
                          stacklevel=user_stacklevel())

    @property
    def flags(self) -> frozenset:
        """What the covariance ran into, for ``res.flags``: ``"singular_information"``
        where the inversion failed, ``"few_clusters"`` where a cluster-robust covariance
        has fewer clusters than parameters."""
        flags = {"singular_information"} if self.problems else set()
        if self._meat_problem is not None:
            flags.add("few_clusters")
        return frozenset(flags)

    @property
    def working(self) -> np.ndarray:
        return self._inverse[0]

    @property
    def problems(self) -> tuple[str, ...]:
        return self._inverse[1]

    @cached_property
    def jacobian(self) -> np.ndarray:
        """``d natural / d working`` at the estimate."""
        return self.model.natural_jacobian(self.theta)

    @cached_property
    def natural(self) -> np.ndarray:
        # NaN marks parameters the data do not identify; carry_cov keeps them where they are
        return carry_cov(self.jacobian, self.working)
