"""Metamorphic relations: transformations of the input whose effect on the fit is known.

- Shuffling the rows of the DataFrame changes nothing; residuals and predictions follow
  their rows (aligned by index).
- New row labels change no number; the results' indexes carry the new labels.
- offset= and cluster= given as pandas Series with a shuffled index are aligned by label:
  the fit is the one with the values in row order.
- A covariate multiplied by c divides its coefficient and standard error by c and leaves the
  other parameters and the log-likelihood unchanged (the model is the same).
- A constant added to a normal outcome shifts the intercept by it and nothing else.
- Every row twice is the same fit as frequency weights of 2.

The tolerances are those of two optimizer runs reaching the same optimum through different
summation orders (measured about 1e-13), not of any approximation.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import fisherkit as fk

from tests.shared import simulate

# families whose fits cover the index model's kinds: a GLM, a count model with an extra
# parameter, a censored survival model, a location-scale model and cut points
FAMILIES = ["logit", "poisson", "negbin", "weibull", "normal", "ordinal"]
COVS = ["observed", "expected", "sandwich", "robust", "cluster"]
N = 200


def cases(families, covs):
    """(family, cov) pairs; NB2's exact expected information sums over counts and takes
    seconds a fit, so those pairs run with the slow tests."""
    return [pytest.param(f, c, marks=pytest.mark.slow) if (f, c) == ("negbin", "expected")
            else (f, c) for f in families for c in covs]


def data(family: str, seed: int = 1):
    df, kwargs = simulate(family, n=N, seed=seed)
    df["g"] = np.repeat(np.arange(N // 10), 10)
    return df, kwargs


def fit(df, family, cov="observed", **kwargs):
    extra = {"cluster": "g"} if cov == "cluster" and "cluster" not in kwargs else {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", fk.FisherkitWarning)
        try:
            return fk.fit("y ~ x1 + x2", df, family, cov=cov, **kwargs, **extra)
        except fk.DataError as exc:
            if "expected information" in str(exc):
                pytest.skip(f"{family} has no expected information here: {exc}")
            raise


def close(a, b, tol=1e-10):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=tol, atol=tol)


def same_fit(a, b, tol=1e-10):
    assert list(a.params.index) == list(b.params.index)
    close(a.params, b.params, tol)
    close(a.se, b.se, tol)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-12)
    assert a.n_obs == b.n_obs


def per_row(res, family):
    """What a fit says about each of its rows: residuals, and predictions (the category
    probabilities of an ordinal model, which defines no residuals)."""
    if family == "ordinal":
        return [res.predict(scale="probabilities")]
    kind = "cox_snell" if family == "weibull" else "response"
    return [res.residuals(kind).to_frame(), res.predict()]


@pytest.mark.parametrize("family, cov", cases(FAMILIES, COVS))
def test_shuffling_rows_changes_nothing(family, cov):
    df, kwargs = data(family)
    shuffled = df.sample(frac=1.0, random_state=7)
    a, b = fit(df, family, cov, **kwargs), fit(shuffled, family, cov, **kwargs)
    same_fit(a, b)
    for ra, rb in zip(per_row(a, family), per_row(b, family)):
        assert list(rb.index) == list(shuffled.index)
        close(rb.loc[ra.index], ra)
    # new data in any order: each row gets its own prediction
    new = df.iloc[[5, 3, 11]]
    scale = "probabilities" if family == "ordinal" else "response"
    close(b.predict(new, scale=scale), a.predict(new, scale=scale))


@pytest.mark.parametrize("family", FAMILIES)
def test_new_row_labels_change_no_number(family):
    df, kwargs = data(family)
    relabelled = df.set_axis([f"r{i}" for i in range(N)][::-1], axis=0)
    a, b = fit(df, family, **kwargs), fit(relabelled, family, **kwargs)
    same_fit(a, b, tol=0)
    for ra, rb in zip(per_row(a, family), per_row(b, family)):
        assert list(rb.index) == list(relabelled.index)
        close(rb.to_numpy(), ra.to_numpy(), 0)


@pytest.mark.parametrize("cov", ["observed", "cluster"])
@pytest.mark.parametrize("family", FAMILIES)
def test_offset_and_cluster_series_are_aligned_by_label(family, cov):
    df, kwargs = data(family)
    offset = np.linspace(-0.3, 0.3, N)
    order = np.random.default_rng(3).permutation(N)
    aligned = fit(df, family, cov, offset=offset, cluster=df["g"].to_numpy(), **kwargs)
    shuffled = fit(df, family, cov,
                   offset=pd.Series(offset[order], index=df.index[order]),
                   cluster=pd.Series(df["g"].to_numpy()[order], index=df.index[order]),
                   **kwargs)
    same_fit(shuffled, aligned, tol=0)


@pytest.mark.parametrize("family", ["binomial", "weibull"])
def test_trials_and_event_series_are_aligned_by_label(family):
    df, kwargs = data(family)
    (option, column), = kwargs.items()
    order = np.random.default_rng(4).permutation(N)
    values = df[column].to_numpy()
    aligned = fit(df, family, **{option: values})
    shuffled = fit(df, family, **{option: pd.Series(values[order], index=df.index[order])})
    same_fit(shuffled, aligned, tol=0)


@pytest.mark.parametrize("c", [1e-3, -2.5, 40.0])
@pytest.mark.parametrize("family, cov", cases(FAMILIES, ["observed", "expected", "sandwich",
                                                        "cluster"]))
def test_scaling_a_covariate_scales_its_coefficient(family, cov, c):
    df, kwargs = data(family)
    a = fit(df, family, cov, **kwargs)
    b = fit(df.assign(x1=df["x1"] * c), family, cov, **kwargs)
    others = [n for n in a.params.index if n != "x1"]
    # the optimizer takes other steps on the rescaled problem; both stop within 1e-10 of
    # the Newton decrement, which leaves about 1e-8 on the estimates
    close(b.params["x1"] * c, a.params["x1"], 1e-7)
    close(b.se["x1"] * abs(c), a.se["x1"], 1e-7)
    close(b.params[others], a.params[others], 1e-7)
    close(b.se[others], a.se[others], 1e-7)
    assert b.loglik == pytest.approx(a.loglik, rel=1e-10)


@pytest.mark.parametrize("shift", [-1e3, -3.0, 0.5, 250.0])
@pytest.mark.parametrize("cov", ["observed", "expected", "sandwich", "robust", "cluster"])
def test_shifting_a_normal_outcome_shifts_the_intercept(cov, shift):
    df, _ = data("normal")
    a = fit(df, "normal", cov)
    b = fit(df.assign(y=df["y"] + shift), "normal", cov)
    close(b.params["Intercept"] - shift, a.params["Intercept"], 1e-8)
    others = ["x1", "x2", "sigma"]
    close(b.params[others], a.params[others], 1e-8)
    close(b.se, a.se, 1e-8)
    assert b.loglik == pytest.approx(a.loglik, rel=1e-10)


@pytest.mark.parametrize("family, cov", cases(FAMILIES + ["binomial"], COVS))
def test_every_row_twice_is_frequency_weights_of_two(family, cov):
    df, kwargs = data(family)
    twice = pd.concat([df, df], ignore_index=True)
    weighted = fit(df.assign(w=2.0), family, cov, weights="w", weight_type="frequency",
                   **kwargs)
    replicated = fit(twice, family, cov, **kwargs)
    same_fit(weighted, replicated, tol=1e-9)
    assert weighted.n_obs == 2 * N
