"""Conformance: what every model owes the optimizers and the standard errors.

:func:`check_model` states the contract of a model (the protocol in
``fisherkit/models/protocol.py``) as assertions with tolerances, independently of how the
model computes its derivatives. It runs here on every built-in family with every link it
accepts, on a user's :class:`fisherkit.Family` (the zero-inflated Poisson of the README) and
on a user's :class:`fisherkit.Likelihood`; run it on your own model the same way::

    import fisherkit as fk
    from test_conformance import check_model

    model = fk.fitting.build_model("y ~ x", df, my_family)   # or an fk.Likelihood
    check_model(model, model.start_values() + 0.05)          # any theta off the optimum

Choose ``theta`` where the log-likelihood is finite and not at the optimum: the checks are
relative to the size of the score and Hessian there. The per-observation checks need the
rows in memory (a Dask model keeps only sums over partitions and has no ``scores_obs``).
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest
from autograd.scipy.special import gammaln

import fisherkit as fk
from fisherkit.models.builtins import FAMILIES
from fisherkit.models.protocol import LikelihoodModel
from shared import accepted_links, simulate

__all__ = ["check_model", "central_difference"]

#: fourth-order central differences (below) with step ``STEP * max(1, |theta_j|)``: the
#: truncation error is ``h^4 |f^(5)| / 30`` ~ 3e-14 |f^(5)|, the rounding error about
#: ``1.5 eps |f| / h`` ~ 3e-13 |f|, both orders below the tolerances that follow
STEP = 1e-3
#: the score against central differences of the log-likelihood, relative to its largest entry
SCORE_RTOL = 1e-6
#: the Hessian against central differences of the score, relative to its largest entry
HESSIAN_RTOL = 1e-5
#: two exact computations that differ only in the order of their sums (structured against
#: general Hessian, summed per-observation scores against the score, OPG against S'S)
ROUNDING_RTOL = 1e-10


def central_difference(f, x: np.ndarray, j: int, step: float = STEP):
    """``d f / d x_j`` by the fourth-order central stencil
    ``(-f(x + 2h) + 8 f(x + h) - 8 f(x - h) + f(x - 2h)) / (12 h)``; ``f`` may return an
    array (then so does this)."""
    h = step * max(1.0, abs(float(x[j])))
    e = np.zeros_like(x, dtype=float)
    e[j] = h
    values = [np.asarray(f(x + k * e), dtype=float) for k in (2, 1, -1, -2)]
    return (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)


def assert_relative(actual, expected, rtol: float, what: str) -> None:
    """``max |actual - expected| <= rtol * max |expected|`` (single entries can be near
    zero, so the scale is the largest entry, as autograd's and fisherkit's own checks)."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"{what}: shapes {actual.shape} and {expected.shape}"
    assert np.all(np.isfinite(actual)), f"{what}: not finite\n{actual}"
    scale = max(float(np.max(np.abs(expected))), np.finfo(float).tiny)
    worst = float(np.max(np.abs(actual - expected)))
    assert worst <= rtol * scale, (f"{what}: off by {worst:.3g}, {worst / scale:.3g} of the "
                                   f"largest entry (allowed {rtol:g})\n{actual}\n{expected}")


def check_model(model, theta) -> None:
    """Assert that ``model`` keeps the model protocol at ``theta`` (working scale).

    - ``loglik``, ``derivatives``, ``score`` and ``hessian`` agree with one another;
    - the score equals central differences of ``loglik`` (``SCORE_RTOL``);
    - the Hessian is symmetric and equals central differences of the score
      (``HESSIAN_RTOL``);
    - the structured Hessian equals ``model.hessian_general`` where the model has one (the
      index models of ``fk.fit``: ``autograd.hessian`` of the total);
    - the per-observation scores ``scores_obs`` sum to the score and ``opg`` is ``S'S``;
    - ``to_working(to_natural(theta))`` is ``theta`` where the model maps back, and the
      natural-scale Jacobian is that of ``to_natural`` by central differences.
    """
    theta = np.asarray(theta, dtype=float)
    assert isinstance(model, LikelihoodModel), "the model lacks members of the model protocol"
    p = model.n_params
    assert theta.shape == (p,), f"theta has shape {theta.shape}; the model has {p} parameters"
    assert len(model.names) == len(model.working_names) == p

    loglik = model.loglik(theta)
    assert np.isfinite(loglik), f"the log-likelihood is {loglik} at theta = {theta}"
    score, hessian = np.asarray(model.score(theta)), np.asarray(model.hessian(theta))
    assert score.shape == (p,) and hessian.shape == (p, p)
    value, score_again, hessian_again = model.derivatives(theta)
    assert value == pytest.approx(loglik, rel=1e-12, abs=1e-12)
    assert_relative(score_again, score, ROUNDING_RTOL, "derivatives()[1] against score()")
    assert_relative(hessian_again, hessian, ROUNDING_RTOL, "derivatives()[2] against hessian()")

    fd_score = np.array([central_difference(model.loglik, theta, j) for j in range(p)])
    assert_relative(score, fd_score, SCORE_RTOL, "score against differences of loglik")

    assert_relative(hessian.T, hessian, 1e-12, "Hessian transposed against the Hessian")
    fd_hessian = np.column_stack([central_difference(model.score, theta, j) for j in range(p)])
    assert_relative(hessian, fd_hessian, HESSIAN_RTOL, "Hessian against differences of score")

    general = getattr(model, "hessian_general", None)
    if general is not None:
        assert_relative(hessian, general(theta), ROUNDING_RTOL,
                        "structured Hessian against hessian_general")

    S = np.asarray(model.scores_obs(theta))
    assert S.shape == (model.n_obs, p), f"scores_obs has shape {S.shape}"
    assert_relative(S.sum(axis=0), score, ROUNDING_RTOL, "summed scores_obs against score")
    assert_relative(model.opg(theta), S.T @ S, ROUNDING_RTOL, "opg against S'S")

    natural = np.asarray(model.to_natural(theta), dtype=float)
    assert natural.shape == (p,)
    assert_relative(model.to_working(natural), theta, 1e-12, "to_working(to_natural(theta))")
    fd_jacobian = np.column_stack([central_difference(model.to_natural, theta, j)
                                   for j in range(p)])
    assert_relative(model.natural_jacobian(theta), fd_jacobian, SCORE_RTOL,
                    "natural_jacobian against differences of to_natural")


# ---- every built-in family ------------------------------------------------------------------

FORMULA = "y ~ x1 + x2"


BUILTIN = accepted_links()


def off_optimum(model, seed: int, scale: float = 0.05) -> np.ndarray:
    """The model's starting values moved by a seeded draw: finite, and not a maximum."""
    theta = model.start_values() + scale * np.random.default_rng(seed).standard_normal(
        model.n_params)
    assert np.isfinite(model.loglik(theta))
    return theta


def test_every_builtin_family_is_checked():
    assert {name for name, _ in BUILTIN} == set(FAMILIES)


@pytest.mark.parametrize("name, link", BUILTIN, ids=[f"{n}-{k}" for n, k in BUILTIN])
def test_builtin_family_conforms(name, link):
    df, kwargs = simulate(name, n=120)
    model = fk.fitting.build_model(FORMULA, df, name, link=link, **kwargs)
    check_model(model, off_optimum(model, seed=1))


# ---- a user's Family: the README's zero-inflated Poisson ------------------------------------


def zip_logpdf(y, rate, zero):
    """A structural zero with probability `zero`, otherwise Poisson(rate) (README.md)."""
    log_poisson = y * anp.log(rate) - rate - gammaln(y + 1)
    log_zero = anp.log(zero + (1 - zero) * anp.exp(-rate))
    return anp.where(y == 0, log_zero, anp.log1p(-zero) + log_poisson)


ZIP_FAMILY = fk.Family(zip_logpdf, rate=fk.Predictor(link="log"), zero=fk.Scalar("unit_interval"))


def test_users_family_conforms():
    rng = np.random.default_rng(7)
    n = 200
    df = pd.DataFrame({"x1": rng.uniform(-1, 1, n), "x2": rng.uniform(-1, 1, n)})
    counts = rng.poisson(np.exp(0.5 + 0.4 * df["x1"] - 0.3 * df["x2"]))
    df["y"] = np.where(rng.uniform(size=n) < 0.3, 0, counts)
    model = fk.fitting.build_model(FORMULA, df, ZIP_FAMILY)
    assert model.working_names[-1] == "logit(zero)"
    check_model(model, off_optimum(model, seed=2))


# ---- a user's Likelihood: a contaminated normal regression ----------------------------------


def contaminated_normal(p, d):
    """Normal errors of scale sigma, a share `weight` of them with scale 3 sigma."""
    mu = p["beta"][0] + p["beta"][1] * d["x"]
    z = (d["y"] - mu) / p["sigma"]
    core = -0.5 * z ** 2 - anp.log(p["sigma"])
    wide = -0.5 * (z / 3.0) ** 2 - anp.log(3.0 * p["sigma"])
    return anp.logaddexp(anp.log1p(-p["weight"]) + core, anp.log(p["weight"]) + wide) \
        - 0.5 * np.log(2 * np.pi)


def test_users_likelihood_conforms():
    rng = np.random.default_rng(8)
    n = 150
    x = rng.normal(size=n)
    scale = np.where(rng.uniform(size=n) < 0.2, 3.0, 1.0) * 0.7
    data = {"x": x, "y": 1.0 + 0.5 * x + scale * rng.normal(size=n)}
    lik = fk.Likelihood(contaminated_normal, data,
                        params={"beta": np.array([0.0, 0.0]),
                                "sigma": fk.Scalar("positive", start=1.0),
                                "weight": fk.Scalar("unit_interval", start=0.3)})
    assert lik.working_names == ("beta[0]", "beta[1]", "log(sigma)", "logit(weight)")
    check_model(lik, off_optimum(lik, seed=3, scale=0.2))


# ---- the check has teeth --------------------------------------------------------------------


class Tampered:
    """A model that answers as ``model`` does, except for one method made slightly wrong."""

    def __init__(self, model, name: str, wrong):
        self._model, self._name, self._wrong = model, name, wrong

    def __getattr__(self, attribute):
        value = getattr(self._model, attribute)
        if attribute == self._name:
            return lambda *args, **kwargs: self._wrong(value(*args, **kwargs))
        if attribute == "derivatives" and self._name in ("score", "hessian"):
            position = 1 if self._name == "score" else 2

            def derivatives(*args, **kwargs):
                out = list(value(*args, **kwargs))
                out[position] = self._wrong(out[position])
                return tuple(out)
            return derivatives
        return value


def scaled(factor):
    return lambda array: np.asarray(array) * factor


@pytest.mark.parametrize("name, wrong", [
    ("score", scaled(1 + 1e-5)),               # 10 times the score's tolerance
    ("hessian", scaled(1 + 1e-4)),             # 10 times the Hessian's
    ("hessian", lambda H: H + np.triu(np.full_like(H, 1e-9 * np.abs(H).max()), 1)),
    ("scores_obs", lambda S: S[::-1] * (1 + 1e-8)),
    ("opg", scaled(1 + 1e-8)),
    ("natural_jacobian", scaled(1 + 1e-5)),
    ("hessian_general", scaled(1 + 1e-8)),
], ids=["score", "hessian", "asymmetric-hessian", "scores_obs", "opg", "natural_jacobian",
        "hessian_general"])
def test_check_model_fails_a_slightly_wrong_model(name, wrong):
    df, kwargs = simulate("negbin", n=120)
    model = fk.fitting.build_model(FORMULA, df, "negbin", **kwargs)
    theta = off_optimum(model, seed=1)
    check_model(model, theta)
    with pytest.raises(AssertionError):
        check_model(Tampered(model, name, wrong), theta)
