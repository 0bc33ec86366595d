"""Kullback-Leibler divergences of the fitted distributions, checked three independent ways:
numerical integration (or summation) of the model's own log-density, the second-order
expansion ``delta' I delta / 2`` with the expected information, and the traces."""

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

import fisherkit as fk
from fisherkit.models.divergence import _summed, has_divergence, kl_divergence, step_divergence
from fisherkit.models.expected import expected_information

RNG = np.random.default_rng(31)
N = 300
X = RNG.normal(size=N)


def data_for(family: str, censored: bool = True) -> tuple[pd.DataFrame, dict]:
    mu = np.exp(0.5 + 0.4 * X)
    kwargs = {}
    if family in ("normal", "student_t"):
        y = 1.0 + 0.5 * X + RNG.normal(size=N)
    elif family in ("logit", "probit"):
        y = (RNG.random(N) < 1 / (1 + np.exp(-(0.3 + X)))).astype(float)
    elif family == "binomial":
        trials = RNG.integers(1, 8, size=N)
        y = RNG.binomial(trials, 1 / (1 + np.exp(-(0.3 + X))))
        kwargs["trials"] = trials
    elif family == "poisson":
        y = RNG.poisson(mu)
    elif family == "negbin":
        y = RNG.negative_binomial(2.0, 2.0 / (2.0 + mu))
    elif family == "gamma":
        y = RNG.gamma(3.0, mu / 3.0)
    elif family in ("exponential", "weibull"):
        y = mu * RNG.weibull(1.5, size=N)
        kwargs["event"] = (RNG.random(N) < (0.8 if censored else 2.0)).astype(float)
    elif family == "ordinal":
        y = np.digitize(X + RNG.logistic(size=N), [-1.0, 0.5, 1.5])
    df = pd.DataFrame({"x": X, "y": y})
    return df, kwargs


def fitted(family: str, censored: bool = True):
    df, kwargs = data_for(family, censored)
    formula = "y ~ x - 1" if family == "ordinal" else "y ~ x"
    return fk.fit(formula, data=df, family=family, **kwargs)


CONTINUOUS = {"normal": (-np.inf, np.inf), "gamma": (0.0, np.inf),
              "exponential": (0.0, np.inf), "weibull": (0.0, np.inf)}
DISCRETE = ["logit", "probit", "binomial", "poisson", "negbin", "ordinal"]


def direction(p: int) -> np.ndarray:
    return np.random.default_rng(p).normal(size=p)


def rows_of(model, theta, rows):
    return model.eta_matrix(theta)[rows]


@pytest.mark.parametrize("family", sorted(CONTINUOUS))
def test_closed_forms_equal_integrals_of_the_models_own_density(family):
    res = fitted(family)
    model = res.model
    theta_b = res.theta + 0.2 * direction(len(res.theta))
    per_row = kl_divergence(model, res.theta, theta_b, per_observation=True)
    A, B = model.eta_matrix(res.theta), model.eta_matrix(theta_b)
    aux = {k: np.ones(1) for k in model.data.aux}  # event times: no censoring
    lower, upper = CONTINUOUS[family]
    for i in (0, 7, 123):
        def log_density(E, y):
            fam = model.family
            values = fam.loglik_obs(np.array([y]), model._block_values(None, E[i:i + 1]), aux)
            return float(np.asarray(values)[0])

        def integrand(y):
            la, lb = log_density(A, y), log_density(B, y)
            return np.exp(la) * (la - lb) if np.isfinite(la) else 0.0

        value, error = integrate.quad(integrand, lower, upper, limit=200, epsabs=1e-13,
                                      epsrel=1e-11)
        np.testing.assert_allclose(per_row[i], value, rtol=1e-8, atol=1e-12)


def test_poisson_closed_form_equals_summation_over_the_counts():
    res = fitted("poisson")
    theta_b = res.theta + np.array([0.1, -0.2])
    A, B = res.model.eta_matrix(res.theta), res.model.eta_matrix(theta_b)
    summed = _summed(res.model, A, B, "counts", tail=1e-15, max_terms=10_000)
    closed = kl_divergence(res.model, res.theta, theta_b, per_observation=True)
    np.testing.assert_allclose(closed, summed, rtol=1e-10, atol=1e-14)


def test_binary_closed_form_is_the_bernoulli_divergence():
    res = fitted("logit")
    theta_b = res.theta + np.array([0.3, -0.1])
    p = 1 / (1 + np.exp(-res.model.eta_matrix(res.theta)[:, 0]))
    q = 1 / (1 + np.exp(-res.model.eta_matrix(theta_b)[:, 0]))
    expected = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
    np.testing.assert_allclose(kl_divergence(res.model, res.theta, theta_b, per_observation=True),
                               expected, rtol=1e-12)


@pytest.mark.parametrize("family", sorted(CONTINUOUS) + DISCRETE)
def test_small_steps_approach_half_the_expected_information_length(family):
    # KL(theta, theta + h d) = h^2 d' I d / 2 + O(h^3): the relative error shrinks like h
    # (uncensored survival times: the divergence is the event-time distribution's)
    res = fitted(family, censored=False)
    d = direction(len(res.theta))
    info = expected_information(res.model, res.theta).matrix
    errors = []
    for h in (1e-2, 1e-3):
        quadratic = 0.5 * h ** 2 * d @ info @ d
        errors.append(abs(kl_divergence(res.model, res.theta, res.theta + h * d) / quadratic - 1))
    assert errors[1] < 3e-3
    assert errors[1] < 0.2 * errors[0]


def test_divergence_is_zero_at_equal_parameters_and_positive_elsewhere():
    res = fitted("gamma")
    assert kl_divergence(res.model, res.theta, res.theta) == 0.0
    per_row = kl_divergence(res.model, res.theta, res.theta + 0.1, per_observation=True)
    assert per_row.shape == (N,) and (per_row > 0).all()
    # the divergence between gammas of shapes k and rates b = k / mu (inverse link, working
    # log shape) in closed form: (k1 - k2) psi(k1) - log Gamma(k1) + log Gamma(k2)
    # + k2 (log b1 - log b2) + k1 (b2 - b1) / b1
    assert res.model.working_names == ("Intercept", "x", "log(shape)")
    design = np.column_stack([np.ones(N), X])

    def shape_and_rate(theta):
        shape = np.exp(theta[2])
        return shape, shape * (design @ theta[:2])

    (k1, b1), (k2, b2) = shape_and_rate(res.theta), shape_and_rate(res.theta + 0.1)
    closed = ((k1 - k2) * special.digamma(k1) - special.gammaln(k1) + special.gammaln(k2)
              + k2 * (np.log(b1) - np.log(b2)) + k1 * (b2 - b1) / b1)
    np.testing.assert_allclose(per_row, closed, rtol=1e-11)  # measured 1.3e-13
    assert np.isclose(per_row.sum(), kl_divergence(res.model, res.theta, res.theta + 0.1),
                      rtol=1e-13)


def test_student_t_defines_none_and_its_trace_says_nan():
    res = fitted("student_t")
    assert not has_divergence(res.model)
    assert np.isnan(kl_divergence(res.model, res.theta, res.theta + 0.1))
    assert res.trace["kl"].isna().all()


def test_trace_kl_matches_the_steps_it_records():
    res = fk.fit("y ~ x", data=data_for("poisson")[0], family="poisson",
                 method="natural_gradient", options={"learning_rate": 0.5})
    path = res.optimize_result.path
    kl = res.trace["kl"].to_numpy()
    assert np.isnan(kl[0])
    for i in (1, 3):
        assert kl[i] == pytest.approx(kl_divergence(res.model, path[i - 1], path[i]), rel=1e-14)
    np.testing.assert_array_equal(step_divergence(res.model, path)[1:], kl[1:])


def test_a_count_sum_that_cannot_reach_its_tail_says_so():
    res = fitted("negbin")
    A = res.model.eta_matrix(res.theta)
    with pytest.raises(fk.SpecificationError, match="raise max_terms"):
        _summed(res.model, A, A, "counts", tail=1e-12, max_terms=3)
