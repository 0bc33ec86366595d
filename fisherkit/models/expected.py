"""Expected (Fisher) information ``E_y[-H]`` under the fitted model, three ways.

- closed form: the family's ``E[-d2 l / d eta d eta']`` per observation, assembled with the
  design matrices like the Hessian;
- exact summation: for a discrete outcome, ``sum_y p(y) (-W(y))`` over the support, with
  the log-density and its eta-derivatives from autograd at each value; a count support is
  summed until the mass left out is below ``tail`` for every observation, and that bound
  is reported;
- Monte Carlo: the average of ``-H`` over outcomes drawn from the model, with its Monte
  Carlo standard error, reproducible under ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..autodiff import derivatives
from ..exceptions import SpecificationError

__all__ = ["ExpectedInformation", "expected_information", "index_expected_information",
           "monte_carlo_information", "summed_expected_information"]


@dataclass(frozen=True)
class ExpectedInformation:
    """An expected information matrix and how it was obtained."""

    matrix: np.ndarray
    method: str
    mc_se: np.ndarray | None = None
    tail_bound: float = 0.0
    draws: int = 0


def _exact(model, E: np.ndarray, support, tail: float, max_terms: int):
    n, k = E.shape
    acc = np.zeros((n, k, k))
    mass = np.zeros(n)
    counts = support == "counts"
    values = range(max_terms) if counts else support
    # a count summation goes on only for the observations whose mass is not yet within
    # `tail` of one: the long right tails of a few large means do not cost a pass over
    # every row; the set is re-cut when it has shrunk by a quarter
    active = np.arange(n)
    E_active = E
    last = 0
    for last, v in enumerate(values):
        y = np.full(len(active), float(v))
        rows = None if len(active) == n else active
        with np.errstate(all="ignore"):
            # a log-probability: the weights multiply the expectation, not the mass
            logp, _, W = model.eta_derivatives(E_active, True, y, rows, weighted=False)
        p = np.exp(logp)
        # where p underflows to 0, W may be infinite or NaN; the term is then nothing
        term = np.where((p > 0)[:, None, None], p[:, None, None] * W, 0.0)
        if rows is None:
            acc -= term
            mass += p
        else:
            acc[active] -= term
            mass[active] += p
        if not counts or v == 0:
            continue
        open_ = mass[active] < 1.0 - tail
        if not open_.any():
            break
        if open_.sum() <= 0.75 * len(active):
            active = active[open_]
            E_active = E[active]
    left = float(max(0.0, 1.0 - np.min(mass)))
    if counts and left > tail:
        raise SpecificationError(
            f"Summing the outcome of the {model.family.name} family up to {last} left mass "
            f"{left:.3g} > tail={tail:g} out, so the exact expected information is not "
            "reached; raise max_terms (res.with_cov('expected', max_terms=...)) or use "
            "method='monte_carlo'.")
    return model.assemble(_weighted(model, acc)), left


def _weighted(model, W: np.ndarray) -> np.ndarray:
    """Per-row expectations of the log-density times the rows' observation weights."""
    w = model.data.weights
    return W if w is None else W * w[:, None, None]


def summed_expected_information(model, theta: np.ndarray, *, tail: float = 1e-12,
                                max_terms: int = 100_000) -> ExpectedInformation:
    """The expected information of an index model summed term by term over its outcome's
    discrete support, even where the family knows a faster exact form (a check of it).

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
    >>> info = summed_expected_information(res.model, res.theta)
    >>> bool(np.allclose(info.matrix, res.information("expected", scale="working")))
    True
    """
    support = model.family.outcome_support(model.data)
    if support is None:
        raise SpecificationError(f"The {model.family.name} family has no discrete support to "
                                 "sum over.")
    matrix, left = _exact(model, model.eta_matrix(theta), support, tail, max_terms)
    return ExpectedInformation(matrix, "exact", tail_bound=left)


def monte_carlo_information(draw_information, draws: int):
    """The mean of ``draws`` information matrices, each from ``draw_information()`` (minus
    the Hessian at one simulated outcome), and the Monte Carlo standard error of the mean."""
    total = total_sq = None
    for _ in range(draws):
        info = draw_information()
        total = info if total is None else total + info
        total_sq = info * info if total_sq is None else total_sq + info * info
    mean = total / draws
    var = np.maximum(total_sq / draws - mean * mean, 0.0)
    return mean, np.sqrt(var / (draws - 1))


def _monte_carlo(model, E: np.ndarray, draws: int, seed):
    rng = np.random.default_rng(seed)

    def draw_information():
        y = model.family.draw(rng, E, model.data.aux)
        _, _, W = derivatives.eta_derivatives(lambda A: model.loglik_rows_of_eta(A, y), E)
        return -model.assemble(W)

    return monte_carlo_information(draw_information, draws)


def expected_information(model, theta: np.ndarray, **options) -> ExpectedInformation:
    """The expected information of any model at ``theta`` on the working scale: its
    ``expected_information`` method (options as for :func:`index_expected_information`).

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
    >>> expected_information(res.model, res.theta).method
    'closed'
    """
    return model.expected_information(theta, **options)


def index_expected_information(model, theta: np.ndarray, *, method: str = "auto",
                               draws: int = 200, seed=0, tail: float = 1e-12,
                               max_terms: int = 100_000) -> ExpectedInformation:
    """The expected information of an index model at ``theta`` on the working scale.

    Parameters
    ----------
    model : Model
    theta : ndarray
    method : {"auto", "closed", "exact", "monte_carlo"}
        ``"auto"`` takes the closed form where the family has one, else exact summation for
        a discrete outcome, else Monte Carlo where the family can sample.
    draws : int
        Monte Carlo replicates.
    seed : int or numpy Generator
        Monte Carlo seed.
    tail : float
        Largest outcome mass an exact count summation may leave out.
    max_terms : int
        Most outcome values an exact count summation visits.

    Examples
    --------
    >>> import fisherkit as fk
    >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
    >>> info = index_expected_information(res.model, res.theta)
    >>> info.method, bool(np.allclose(info.matrix, res.information("observed").to_numpy()))
    ('closed', True)
    """
    family = model.family
    E = model.eta_matrix(theta)
    closed = family.expected_weights(E, model.data.aux) if method in ("auto", "closed") else None
    if closed is not None:
        return ExpectedInformation(model.assemble(_weighted(model, closed)), "closed")
    support = family.outcome_support(model.data)
    if method == "exact" or (method == "auto" and support is not None):
        if support is None:
            raise SpecificationError(f"The {family.name} family has no discrete support to sum "
                                     "over; declare Family(..., support=...).")
        weights = family.exact_weights(E, model.data.aux)
        if weights is not None:
            # a series or integral over the whole support: no outcome mass is left out
            return ExpectedInformation(model.assemble(_weighted(model, weights)), "exact")
        matrix, left = _exact(model, E, support, tail, max_terms)
        return ExpectedInformation(matrix, "exact", tail_bound=left)
    if method in ("auto", "monte_carlo"):
        if family.draw(np.random.default_rng(0), E[:1], {k: v[:1] for k, v in model.data.aux.items()}) is None:
            raise SpecificationError(
                f"The {family.name} family has no closed-form expected information, no discrete "
                "support and no sampler: give Family(..., support=...) or Family(..., sample=...), "
                "or use the observed information.")
        if draws < 2:
            raise SpecificationError(f"Monte Carlo needs at least 2 draws; got {draws}.")
        mean, se = _monte_carlo(model, E, draws, seed)
        return ExpectedInformation(mean, "monte_carlo", mc_se=se, draws=draws)
    if method == "closed":
        raise SpecificationError(f"The {family.name} family has no closed-form expected information.")
    raise SpecificationError(f"Unknown method {method!r}; choose 'auto', 'closed', 'exact' or "
                             "'monte_carlo'.")
