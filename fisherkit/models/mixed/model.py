"""A generalized linear mixed model fitted by maximum likelihood: the protocol's mixed model.

Its log-likelihood is the marginal one of :mod:`fisherkit.models.mixed.laplace` (Laplace,
or adaptive Gauss-Hermite quadrature with ``nagq`` points), with every constant of the
family's density. Score and Hessian are autograd's exact derivatives of that
approximation, through the inner modes: the observed information is that of fixed effects
and variance components jointly (Stata's ``melogit`` convention).

The independent units are the groups: the outer product of scores and the sandwich sum
per-group scores (Stata's ``vce(robust)`` for mixed models clusters at the grouping level).

The parameters: the fixed effects (the formula library's names), then the random effects'
standard deviations and correlations (``sd(Intercept | g)``, ``cor(Intercept, x | g)``,
estimated on the Cholesky scale of :mod:`fisherkit.models.mixed.covariance`), then the
family's own (``sigma``, ``alpha``, ...).
"""

from __future__ import annotations


import autograd
import autograd.numpy as anp
import numpy as np
import pandas as pd
from autograd.tracer import getval

from ...autodiff import derivatives
from ...exceptions import BoundaryWarning, ConvergenceWarning, SpecificationError
from ..protocol import Finding, refuse_subset
from .rows import MixedRows, mixed_rows
from .laplace import group_marginals, marginal_loglik
from .problem import GroupedProblem

__all__ = ["MixedModel", "MixedRows", "BoundaryWarning"]

#: re-exported here for ``from fisherkit.models.mixed import BoundaryWarning``: the one class
#: of :mod:`fisherkit.exceptions`, so that ``fk.BoundaryWarning`` filters it too


def _refuse(what: str):
    raise SpecificationError(f"{what} are not available yet for mixed models (random-effects "
                             "terms in the formula).")


class MixedModel:
    """Random effects of one grouping factor in a family's linear predictor.

    Built by :func:`fisherkit.models.mixed.build.mixed_model` (``fk.fit`` with a formula
    holding ``(terms | group)``).

    Parameters
    ----------
    problem : GroupedProblem
    nagq : int
        Quadrature points per group: 1 is the Laplace approximation.
    levels : pandas.Index
        The group labels, in the order of the group codes.
    random_spec : formulaic.ModelSpec, optional
        The random-effects design's spec, which builds ``Z`` at new rows.

    Examples
    --------
    >>> import fisherkit as fk
    >>> cbpp = fk.datasets.load("cbpp")
    >>> from fisherkit.building import build_model
    >>> model = build_model("incidence ~ C(period) + (1 | herd)", cbpp, "binomial",
    ...                     trials="size")
    >>> model.names[-1], model.n_params
    ('sd(Intercept | herd)', 5)
    """

    def __init__(self, problem: GroupedProblem, nagq: int, levels: pd.Index,
                 random_spec=None):
        self.problem, self.nagq, self.levels = problem, nagq, levels
        self.random_spec = random_spec
        base, cov, s = problem.base, problem.covariance, problem.cov_slice
        self.family, self.data = base.family, base.data
        self.names = base.names[:s.start] + cov.names + base.names[s.start:]
        self.working_names = (base.working_names[:s.start] + cov.working_names
                              + base.working_names[s.start:])
        self.n_params = base.n_params + cov.n_params
        self.passes = 0

    def __repr__(self) -> str:
        return (f"MixedModel({self.family.name!r}, params={list(self.names)}, "
                f"groups={self.problem.n_groups}, nagq={self.nagq})")

    @property
    def n_obs(self) -> int:
        return self.problem.base.n_obs

    @property
    def n_rows(self) -> int:
        return self.problem.base.n_rows

    @property
    def weight_type(self) -> None:
        return None

    @property
    def label(self) -> str:
        kind = "Laplace" if self.nagq == 1 else f"adaptive quadrature, {self.nagq} points"
        return f"{self.family.name} mixed ({kind})"

    # ---- values and derivatives -----------------------------------------------------------

    def loglik_total(self, theta):
        """The approximate marginal log-likelihood (autograd-traceable)."""
        return marginal_loglik(self.problem, theta, self.nagq)

    def loglik(self, theta) -> float:
        self.passes += 1
        with np.errstate(all="ignore"):
            value = float(self.loglik_total(np.asarray(theta, dtype=float)))
        return value if np.isfinite(value) else -np.inf

    def derivatives(self, theta: np.ndarray, second: bool = True):
        """Marginal log-likelihood, its exact score and (if ``second``) Hessian."""
        self.passes += 1
        return derivatives.total_derivatives(self.loglik_total, theta, second)

    def score(self, theta: np.ndarray) -> np.ndarray:
        return self.derivatives(theta, second=False)[1]

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        return self.derivatives(theta)[2]

    def unit_scores(self, theta: np.ndarray) -> np.ndarray:
        """Scores of each group's marginal log-likelihood, ``G x p``."""
        self.passes += 1
        theta = np.asarray(theta, dtype=float)
        return np.asarray(autograd.jacobian(
            lambda t: group_marginals(self.problem, t, self.nagq))(theta))

    def opg(self, theta: np.ndarray) -> np.ndarray:
        """``sum_g s_g s_g'`` over the groups, the independent units."""
        S = self.unit_scores(theta)
        return S.T @ S

    sandwich_meat = opg

    def group_scores(self, theta: np.ndarray, groups) -> np.ndarray:
        """Group scores summed within clusters, which must each hold whole groups."""
        groups = np.asarray(groups)
        if len(groups) != self.n_rows:
            raise SpecificationError(f"The cluster labels have {len(groups)} values for "
                                     f"{self.n_rows} rows.")
        clusters, _ = pd.factorize(groups, sort=True)
        codes = self.problem.codes
        of_group = np.full(self.problem.n_groups, -1)
        of_group[codes] = clusters
        if np.any(of_group[codes] != clusters):
            raise SpecificationError(
                "Cluster-robust covariances of a mixed model need clusters that hold whole "
                "groups of its random effects; a group here spans several clusters.")
        S = self.unit_scores(theta)
        out = np.zeros((clusters.max() + 1, self.n_params))
        np.add.at(out, of_group, S)
        return out

    def expected_information(self, theta, **options):
        raise SpecificationError(
            "The expected information of a mixed model is not available: its marginal "
            "likelihood has no closed-form expectation; use the observed information "
            "(cov='observed', the default, with method='newton' or a quasi-Newton method), or "
            "cov='opg', 'sandwich' or 'cluster'.")

    def subset(self, rows):
        refuse_subset("mixed model")

    def prefetch(self, pieces) -> None:
        """Every piece is computed when asked: nothing to plan."""

    # ---- scales ---------------------------------------------------------------------------

    def to_natural(self, theta):
        p = self.problem
        base = p.base.to_natural(p.base_theta(theta))
        s = p.cov_slice
        return anp.concatenate([base[:s.start], p.covariance.to_natural(p.cov_theta(theta)),
                                base[s.start:]])

    def to_working(self, natural: np.ndarray) -> np.ndarray:
        natural = np.asarray(natural, dtype=float)
        p, s = self.problem, self.problem.cov_slice
        base = p.base.to_working(np.concatenate([natural[:s.start], natural[s.stop:]]))
        return np.concatenate([base[:s.start], p.covariance.to_working(natural[s]),
                               base[s.start:]])

    def natural_jacobian(self, theta: np.ndarray) -> np.ndarray:
        return derivatives.jacobian(self.to_natural, theta)

    def _base_index(self, index: int) -> int | None:
        s = self.problem.cov_slice
        if index < s.start:
            return index
        return None if index < s.stop else index - (s.stop - s.start)

    def own_coordinate(self, index: int) -> bool:
        """Fixed effects and family scalars as in the index model; a standard deviation
        alone has its own coordinate, the entries of a vector's covariance share theirs."""
        base = self._base_index(index)
        if base is None:
            return self.problem.q == 1
        return self.problem.base.own_coordinate(base)

    def can_be_zero(self, index: int) -> bool:
        """Fixed effects may be 0; variance components are estimated on a log scale."""
        base = self._base_index(index)
        return False if base is None else self.problem.base.can_be_zero(base)

    def start_values(self) -> np.ndarray:
        """The fixed-effect fit's estimates (a few Newton steps on the index model), and
        random effects' standard deviations from a coarse search: the effects live on the
        scale of the linear predictor, which is the outcome's for an identity link and
        about 1 for a logit, so a fixed start would be far off for one or the other."""
        base, s = self.problem.base, self.problem.cov_slice
        theta = base.start_values()
        for _ in range(25):
            value, score, hess = base.derivatives(theta)
            try:
                step = np.linalg.solve(-hess, score)
            except np.linalg.LinAlgError:
                break
            t = 1.0
            while t > 1e-4 and not base.loglik(theta + t * step) >= value:
                t *= 0.5
            if t <= 1e-4:
                break
            theta = theta + t * step
            if np.max(np.abs(t * step)) < 1e-8:
                break
        if not np.all(np.isfinite(theta)):
            theta = base.start_values()
        cov = self.problem.covariance.start()
        q = self.problem.q

        def at(shift):
            moved = cov.copy()
            moved[:q] += shift
            return np.concatenate([theta[:s.start], moved, theta[s.start:]])

        shifts = np.log(4.0) * np.arange(-2, 6)
        values = [self.loglik(at(shift)) for shift in shifts]
        return at(shifts[int(np.argmax(values))])

    def outcome_values(self) -> np.ndarray:
        return self.problem.base.outcome_values()

    # ---- rows to predict at (fisherkit.inference.predictions) -----------------------------

    @property
    def link_column(self) -> int:
        """The column of ``E`` holding the linear predictor the random effects enter."""
        return self.problem.column

    def design_for(self, data=None, *, offset=None, random_effects: bool | None = None
                   ) -> MixedRows:
        """The fitted rows (``data`` None) or new rows, conditional on the groups' modes
        (``random_effects``) or at the population level (the fixed part alone).

        Conditional rows need the grouping column and the random term's columns; a group
        level the fit did not see is refused, as lme4's ``predict`` does by default
        (``allow.new.levels = FALSE``): its mode is unknown, and the population level
        (``random_effects=False``) is the prediction at the effects' mean, 0.

        Examples
        --------
        >>> import fisherkit as fk
        >>> from fisherkit.building import build_model
        >>> cbpp = fk.datasets.load("cbpp")
        >>> model = build_model("incidence ~ C(period) + (1 | herd)", cbpp, "binomial",
        ...                     trials="size")
        >>> rows = model.design_for(cbpp.head(3))
        >>> rows.codes.tolist(), model.design_for(random_effects=False).Z is None
        ([0, 0, 0], True)
        """
        if random_effects is None:
            random_effects = True
        if not isinstance(random_effects, (bool, np.bool_)):
            raise SpecificationError(f"The 'random_effects' parameter of predict must be True "
                                     f"or False. Got {random_effects!r} instead.")
        return mixed_rows(self.problem, self.levels, self.random_spec, data, offset,
                          bool(random_effects))

    def eta_for(self, theta, rows: MixedRows):
        """``E`` at ``rows``, with ``z_i' u_hat_g`` added to the linear predictor for
        conditional rows. The modes are held at their values at ``theta`` when
        differentiating: the delta method then carries the fixed effects' uncertainty
        alone (the modes' own is their conditional sd, ``random_effects()``)."""
        p = self.problem
        E = p.base.eta_for(p.base_theta(theta), rows)
        if rows.Z is None:
            return E
        U = p.modes(np.asarray(getval(theta), dtype=float))
        effects = np.sum(rows.Z * U[rows.codes], axis=1)
        unit = np.zeros(E.shape[1])
        unit[p.column] = 1.0
        return E + effects[:, None] * unit

    def theta_gradients(self, G: np.ndarray, rows: MixedRows, part: slice) -> np.ndarray:
        """The fixed part's gradients, zero in the covariance parameters (the modes are
        held fixed, see :meth:`eta_for`)."""
        base = self.problem.base.theta_gradients(G, rows, part)
        s = self.problem.cov_slice
        out = np.zeros((len(base), self.n_params))
        out[:, :s.start], out[:, s.stop:] = base[:, :s.start], base[:, s.start:]
        return out

    # ---- what is not available yet --------------------------------------------------------

    def fitted_outcome(self, theta):
        _refuse("Residuals")

    def mean_predictor(self):
        _refuse("Marginal effects")

    def scores_obs(self, theta):
        _refuse("Per-observation scores (the information-matrix test)")

    observation_hessian = scores_obs

    def step_divergence(self, path: np.ndarray) -> np.ndarray:
        """NaN: no divergence between the marginal distributions is defined here."""
        return np.full(len(path), np.nan)

    # ---- after the fit --------------------------------------------------------------------

    def post_fit_checks(self, theta: np.ndarray) -> list[Finding]:
        """A standard deviation at zero (its log working value run off towards minus
        infinity) is flagged: the variance is on the boundary of its space."""
        natural = np.asarray(self.to_natural(np.asarray(theta, dtype=float)))
        s, q = self.problem.cov_slice, self.problem.q
        sds = natural[s.start:s.start + q]
        found = [Finding("variance_at_zero", BoundaryWarning,
                         f"The random-effect standard deviation {self.names[s.start + j]!r} is "
                         f"estimated at {sds[j]:.3g}, at the boundary zero; its standard error "
                         "and Wald tests are not meaningful there.")
                 for j in range(q) if sds[j] < 1e-4]
        if not self.problem.converged:
            found.append(Finding("inner_not_converged", ConvergenceWarning,
                                 "The inner Newton iterations did not converge at the estimate."))
        return found

    def variance_null(self, restricted, removed) -> dict | None:
        """The null distribution of a likelihood-ratio test against ``restricted``, when it
        is this model with random-effect parameters ``removed`` (names); None otherwise.

        ``restricted`` must be the model without random effects (the same family and
        fixed part: its label is the fixed part's) or a mixed model of the same kind (its
        label is this one's), with this model's parameters but ``removed``, which must be
        covariance parameters. Removing one standard deviation (and the correlations of that effect, ``k``
        of them) puts the null on the boundary of the parameter space: the statistic is
        then a 50:50 mixture of chi2(k) and chi2(k + 1) (Self and Liang, 1987, case 5;
        Stram and Lee, 1994), Stata's ``chibar2(01)`` for a random intercept. With several
        standard deviations removed the weights of the chi-bar-square depend on the
        information; the plain chi2 on all the parameters removed is conservative, which
        the note says.

        Returns
        -------
        dict or None
            ``weights`` (degrees of freedom to mixing weight), ``null`` (its name) and
            ``note`` (a sentence for the test's ``attrs``).

        Examples
        --------
        >>> import fisherkit as fk
        >>> cbpp = fk.datasets.load("cbpp")
        >>> from fisherkit.building import build_model
        >>> model = build_model("incidence ~ C(period) + (1 | herd)", cbpp, "binomial",
        ...                     trials="size")
        >>> fixed = build_model("incidence ~ C(period)", cbpp, "binomial", trials="size")
        >>> model.variance_null(fixed, ["sd(Intercept | herd)"])["null"]
        'chibar2(01)'
        """
        cov = self.problem.covariance
        if restricted.label not in (self.label, self.problem.base.label):
            return None
        removed = list(removed)
        if not removed or any(name not in cov.names for name in removed):
            return None
        if tuple(restricted.names) != tuple(n for n in self.names if n not in removed):
            return None
        sds = [name for name in removed if name in cov.names[:cov.q]]
        if not sds:  # correlations alone: an interior null, the plain chi2
            return None
        df = len(removed)
        if len(sds) == 1:
            null = "chibar2(01)" if df == 1 else f"chibar2({df - 1},{df})"
            return {"weights": {df - 1: 0.5, df: 0.5}, "null": null,
                    "note": f"The variance component {sds[0]!r} is 0 under the null, on the "
                            "boundary of its space: the p-value is from a 50:50 mixture of "
                            f"chi2({df - 1}) and chi2({df}) (Self and Liang, 1987)."}
        return {"weights": {df: 1.0}, "null": f"chi2({df})",
                "note": f"The {len(sds)} variance components {sds} are 0 under the null, on "
                        f"the boundary of their space: the chi2({df}) p-value is "
                        "conservative (the exact null is a chi-bar-square whose weights "
                        "depend on the information)."}

    def random_effects(self, theta: np.ndarray) -> pd.DataFrame:
        """The conditional modes of the random effects and their conditional standard
        deviations (from the inner curvature ``-h_g''`` at the mode), by group level."""
        p = self.problem
        theta = np.asarray(theta, dtype=float)
        U = p.modes(theta)
        _, _, A = p.numeric_pieces(theta, U)
        sd = np.sqrt(np.diagonal(np.linalg.inv(A), axis1=1, axis2=2))
        columns = p.covariance.columns
        frame = {}
        for a, name in enumerate(columns):
            frame[f"mode({name})"] = U[:, a]
        for a, name in enumerate(columns):
            frame[f"sd({name})"] = sd[:, a]
        out = pd.DataFrame(frame, index=self.levels)
        out.index.name = p.covariance.group
        return out
