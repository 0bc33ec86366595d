"""The model protocol: what every model offers the optimizers, the fit and the analyses.

Three kinds of model implement it: the index model (:class:`fisherkit.models.Model`, a
family bound to designs in memory), a user's :class:`fisherkit.Likelihood`, and the Dask
model (:class:`fisherkit.distributed.DistributedModel`). Nothing outside them asks which
one it has: a behaviour that differs between them is a method here, and a model that
cannot do something raises :class:`fisherkit.SpecificationError` saying why.

Parameters live on two scales. ``theta``, the flat *working* vector, is unconstrained
(``log sigma``, logit of a probability, log gaps between cut points); the optimizers and
every derivative work on it. The *natural* scale is what users read (``sigma``, increasing
cut points); ``to_natural`` and ``to_working`` map between the two and
``natural_jacobian`` carries covariances across (the delta method).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from ..exceptions import SpecificationError

__all__ = ["LikelihoodModel", "Finding", "PIECES", "refuse_subset", "refuse_random_effects"]

#: what an optimizer may ask of every point it visits, for models that compute several
#: at once (see :meth:`LikelihoodModel.prefetch`)
PIECES = ("hessian", "expected", "opg")


class Finding(NamedTuple):
    """Something a check after the fit found: a flag for ``res.flags``, the warning class
    to raise and the sentence that explains it."""

    flag: str
    category: type
    message: str


@runtime_checkable
class LikelihoodModel(Protocol):
    """A log-likelihood of a flat working parameter vector, with its derivatives.

    ``isinstance(x, LikelihoodModel)`` tells whether a user's argument is a model at all
    (it checks that every member exists); nothing should use it to tell models apart.

    Attributes
    ----------
    names, working_names : tuple of str
        Parameter names on the natural and the working scale, in the order of ``theta``.
    n_params : int
    n_obs : int
        Observations the log-likelihood sums over (frequency weights count as rows).
    n_rows : int
        Rows the log-likelihood sums over (per-row arrays and cluster labels have as many).
    weight_type : str or None
        The kind of observation weights (:mod:`fisherkit.models.weights`), or None.
    passes : int
        Evaluations over the whole data so far (the traces count work with it).
    label : str
        What summaries call the model (the family's name, or the likelihood's).
    data
        Row bookkeeping read by results: ``n_dropped``, ``index`` (the DataFrame index of
        the rows used, or None) and ``cluster`` (labels given at the fit, or None).
    """

    names: tuple[str, ...]
    working_names: tuple[str, ...]
    n_params: int
    passes: int
    data: Any

    @property
    def n_obs(self) -> int: ...

    @property
    def n_rows(self) -> int: ...

    @property
    def weight_type(self) -> str | None: ...

    @property
    def label(self) -> str: ...

    # ---- values and derivatives ---------------------------------------------------------

    def start_values(self) -> np.ndarray:
        """Starting ``theta`` on the working scale."""

    def loglik(self, theta: np.ndarray) -> float:
        """Total log-likelihood; ``-inf`` outside the model's domain."""

    def derivatives(self, theta: np.ndarray, second: bool = True):
        """``(loglik, score, hessian)`` in one evaluation; the Hessian is None unless
        ``second``."""

    def score(self, theta: np.ndarray) -> np.ndarray:
        """Gradient of the log-likelihood in ``theta``."""

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """Hessian of the log-likelihood in ``theta``."""

    def opg(self, theta: np.ndarray) -> np.ndarray:
        """Outer product of per-observation scores, ``sum_i s_i s_i'`` (with weights
        ``sum_i w_i s_i s_i'``)."""

    def sandwich_meat(self, theta: np.ndarray) -> np.ndarray:
        """The middle of the sandwich covariances: the OPG, except with analytic or
        probability weights, ``sum_i (w_i s_i)(w_i s_i)'``."""

    def group_scores(self, theta: np.ndarray, groups) -> np.ndarray:
        """Scores summed within groups (cluster labels), ``G x p``."""

    def expected_information(self, theta: np.ndarray, **options):
        """The expected information, an :class:`fisherkit.models.expected.ExpectedInformation`;
        ``options`` as for :func:`fisherkit.models.expected.expected_information`."""

    def subset(self, rows: np.ndarray) -> "LikelihoodModel":
        """The same model over some of its rows (mini-batches)."""

    def prefetch(self, pieces: tuple[str, ...]) -> None:
        """Say which of :data:`PIECES` each evaluation will also be asked for, so that a
        model computing in passes over remote data computes them in the same pass."""

    # ---- scales -------------------------------------------------------------------------

    def to_natural(self, theta):
        """Natural-scale vector from the working one (autograd-traceable)."""

    def to_working(self, natural: np.ndarray) -> np.ndarray:
        """Working-scale vector from the natural one."""

    def natural_jacobian(self, theta: np.ndarray) -> np.ndarray:
        """``d natural / d working``, ``p x p``."""

    def own_coordinate(self, index: int) -> bool:
        """Whether natural parameter ``index`` is a function of one working coordinate
        alone (cut points share theirs), so that it can be profiled on its own."""

    def can_be_zero(self, index: int) -> bool:
        """Whether natural parameter ``index`` may be set to 0 (a coefficient, an
        unconstrained scalar), as a score test does to a parameter absent from the
        restricted model."""

    def outcome_values(self) -> np.ndarray | None:
        """The outcome of the rows in memory, coded as the model uses it, or None where the
        model does not hold one (a user's likelihood, data in Dask)."""

    # ---- rows to predict at --------------------------------------------------------------

    def design_for(self, data=None, *, offset=None, random_effects=None):
        """A :class:`fisherkit.models.rows.Rows` of the fitted rows (``data`` None) or of a
        pandas DataFrame of new rows; models without designs refuse, and models without
        random effects refuse ``random_effects`` (conditional on the groups' modes, True,
        the default, or at the population level, False)."""

    def eta_for(self, theta, rows):
        """The ``n x K`` working-scale distribution parameters at ``rows`` (traceable)."""

    def theta_gradients(self, G: np.ndarray, rows, part: slice) -> np.ndarray:
        """Gradients in ``theta`` of a row-wise function of ``E`` from its derivatives ``G``
        in the columns of ``E``, for the rows ``part``."""

    def fitted_outcome(self, theta: np.ndarray):
        """``(y, E, aux)`` of the fitted rows, for residuals; models whose rows are not in
        memory refuse."""

    # ---- after the fit ------------------------------------------------------------------

    def post_fit_checks(self, theta: np.ndarray) -> list[Finding]:
        """What a fit ending at ``theta`` should warn about (separation and the like)."""

    def step_divergence(self, path: np.ndarray) -> np.ndarray:
        """Kullback-Leibler divergence of each step of an optimizer's path from the row
        before (NaN for the first row, and where the model defines none)."""

    # ---- random effects ---------------------------------------------------------------

    def random_effects(self, theta: np.ndarray):
        """The conditional modes of the random effects and their conditional standard
        deviations by group level; models without random effects refuse
        (:func:`refuse_random_effects`)."""

    def variance_null(self, restricted, removed) -> dict | None:
        """The null distribution of a likelihood-ratio test against ``restricted``, which
        lacks the parameters ``removed``, where it is not the plain chi-square (variance
        components at the boundary of their space); None where it is."""


def refuse_random_effects(label: str):
    """The refusal of :meth:`LikelihoodModel.random_effects` by a model without them."""
    raise SpecificationError(f"random_effects() and predict(random_effects=) are for models "
                             f"with random-effects terms '(terms | group)'; the {label} model "
                             "has none.")


def refuse_subset(kind: str):
    """The refusal of :meth:`LikelihoodModel.subset` by a model that cannot take some of its
    rows alone (``kind`` names it in the message)."""
    raise SpecificationError("The mini-batch variants (batch_size=) take an index model "
                             "fitted in memory by fk.fit on a pandas DataFrame; got a "
                             f"{kind}.")
