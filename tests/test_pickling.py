"""Pickling: every result round-trips through plain ``pickle`` and gives the same numbers.

Each case is pickled twice: once straight after the fit (so that everything is computed
after unpickling, and agrees to ``rtol=1e-12``) and once after every number was read (so
that the numbers the result had already computed come back bitwise equal). The unpickled
model's score and Hessian off the optimum check that the autograd primitives inside kept
their derivative rules.
"""

from __future__ import annotations

import pickle
import warnings

import autograd.numpy as anp
import numpy as np
import pandas as pd
import pytest

import fisherkit as fk
from fisherkit.inference.covariance import COV_TYPES
from fisherkit.optimize.optimizers import METHODS
from test_conformance import BUILTIN, FORMULA, ZIP_FAMILY, contaminated_normal, simulate

#: the censored families have no expected information (it depends on the censoring)
CENSORED = ("exponential", "weibull")


def round_trip(value):
    return pickle.loads(pickle.dumps(value))


def attempt(compute):
    """What ``compute()`` gives, or the class and message of the error it raises."""
    try:
        return compute()
    except (fk.SpecificationError, fk.DataError) as error:
        return f"{type(error).__name__}: {error}"


def numbers(res, kinds=COV_TYPES, profile=True) -> dict:
    """Every number a result gives, by method, with profile intervals unless ``profile`` is
    False."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.FisherkitWarning)
        out = {"params": res.params, "se": res.se, "cov": res.cov, "summary": res.summary(),
               "trace": res.trace, "loglik": res.loglik, "flags": res.flags}
        for kind in kinds:
            out[f"se {kind}"] = res.with_cov(kind).se
        if "expected" in kinds:
            out["expected information"] = res.information("expected")
        if profile:
            out["profile"] = res.profile_ci()
        out["marginal effects"] = attempt(res.marginal_effects)
    return out


def assert_numbers(actual: dict, expected: dict, exact: bool) -> None:
    assert actual.keys() == expected.keys()
    for key, want in expected.items():
        got = actual[key]
        if isinstance(want, (pd.Series, pd.DataFrame)):
            assert type(got) is type(want), key
            assert got.index.equals(want.index), key
            if isinstance(want, pd.DataFrame):
                assert got.columns.equals(want.columns), key
                assert got.attrs == want.attrs, key
            got, want = got.to_numpy(dtype=float), want.to_numpy(dtype=float)
        if isinstance(want, (str, frozenset)):
            assert got == want, key
        elif exact:
            np.testing.assert_array_equal(got, want, err_msg=key)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=0, err_msg=key)


def assert_same_derivatives(model, again, theta) -> None:
    """Score and Hessian of the unpickled model off the optimum, against the original's."""
    off = theta + 0.01
    np.testing.assert_allclose(again.score(off), model.score(off), rtol=1e-12, atol=0)
    np.testing.assert_allclose(again.hessian(off), model.hessian(off), rtol=1e-12, atol=0)


def check_round_trips(res, kinds=COV_TYPES, profile=True) -> None:
    fresh = round_trip(res)  # nothing but the fit computed yet
    before = numbers(res, kinds, profile)
    again = round_trip(res)
    assert_numbers(numbers(again, kinds, profile), before, exact=True)
    assert_numbers(numbers(fresh, kinds, profile), before, exact=False)
    assert_same_derivatives(res.model, fresh.model, res.theta)


def with_clusters(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(g=np.arange(len(df)) % 10)


@pytest.mark.parametrize("name, link", BUILTIN, ids=[f"{n}-{k}" for n, k in BUILTIN])
def test_every_builtin_family_and_link_round_trips(name, link):
    df, kwargs = simulate(name, n=200)
    res = fk.fit(FORMULA, with_clusters(df), name, link=link, cluster="g", **kwargs)
    kinds = tuple(k for k in COV_TYPES if not (name in CENSORED and k == "expected"))
    check_round_trips(res, kinds)
    if name in CENSORED:
        with pytest.raises(fk.DataError, match="depends on the censoring"):
            round_trip(res).with_cov("expected").se


@pytest.mark.parametrize("weight_type", ["frequency", "analytic", "probability"])
def test_weighted_fits_round_trip(weight_type):
    df, _ = simulate("poisson", n=120)
    w = np.random.default_rng(2).integers(1, 4, size=len(df))
    res = fk.fit(FORMULA, with_clusters(df).assign(w=w), "poisson", cluster="g", weights="w",
                 weight_type=weight_type)
    kinds = tuple(k for k in COV_TYPES
                  if not (weight_type == "probability" and k in ("observed", "expected", "opg")))
    check_round_trips(res, kinds, profile=weight_type != "probability")
    again = round_trip(res)
    assert (again.n_obs, again.model.weight_type) == (res.n_obs, weight_type)
    np.testing.assert_array_equal(again.predict(average=True), res.predict(average=True))


def zip_data(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"x1": rng.uniform(-1, 1, n), "x2": rng.uniform(-1, 1, n)})
    counts = rng.poisson(np.exp(0.5 + 0.4 * df["x1"] - 0.3 * df["x2"]))
    return with_clusters(df.assign(y=np.where(rng.uniform(size=n) < 0.3, 0, counts)))


def test_a_users_family_of_a_module_level_function_round_trips():
    res = fk.fit(FORMULA, zip_data(), ZIP_FAMILY, cluster="g")
    # a user's Family has no expected information without support= or sample=
    check_round_trips(res, tuple(k for k in COV_TYPES if k != "expected"))
    assert round_trip(res).model.family.logpdf is ZIP_FAMILY.logpdf


def test_a_users_family_of_a_lambda_does_not_pickle_and_the_error_names_it():
    family = fk.Family(lambda y, rate: y * anp.log(rate) - rate, rate=fk.Predictor(link="log"))
    res = fk.fit(FORMULA, zip_data(), family)
    with pytest.raises((pickle.PicklingError, AttributeError), match="Can't pickle.*<lambda>"):
        pickle.dumps(res)


def contaminated_fit():
    rng = np.random.default_rng(8)
    n = 200
    x = rng.normal(size=n)
    scale = np.where(rng.uniform(size=n) < 0.2, 3.0, 1.0) * 0.7
    data = {"x": x, "y": 1.0 + 0.5 * x + scale * rng.normal(size=n)}
    params = {"beta": np.array([0.0, 0.0]), "sigma": fk.Scalar("positive", start=1.0),
              "weight": fk.Scalar("unit_interval", start=0.3)}
    return data, params


def test_a_users_likelihood_of_a_module_level_function_round_trips():
    data, params = contaminated_fit()
    lik = fk.Likelihood(contaminated_normal, data, params=params, cluster=np.arange(200) % 10)
    res = fk.fit_likelihood(lik)
    # without sample= a Likelihood has no expected information
    check_round_trips(res, tuple(k for k in COV_TYPES if k != "expected"))


def test_a_users_likelihood_of_a_lambda_does_not_pickle_and_the_error_names_it():
    data, params = contaminated_fit()
    res = fk.fit_likelihood(fk.Likelihood(lambda p, d: contaminated_normal(p, d), data,
                                          params=params))
    with pytest.raises((pickle.PicklingError, AttributeError), match="Can't pickle.*<lambda>"):
        pickle.dumps(res)


def test_a_flow_fit_round_trips():
    x = np.random.default_rng(3).normal(size=(200, 2)) * [1.0, 0.5]
    x[:, 1] += np.tanh(x[:, 0])
    res = fk.Flow(["planar", "affine"], dim=2).fit(x, n_starts=1)
    # a flow's profile intervals refit it many times over (minutes): not here
    check_round_trips(res, ("observed", "opg", "sandwich", "HC0", "HC1"), profile=False)
    assert round_trip(res).model.function.__self__.layers == ("planar", "affine")


def test_every_optimizer_pickles():
    for name, cls in METHODS.items():
        assert round_trip(cls()) == cls(), name


# ---- a Dask fit: the numbers it computed, no graph and no client ----------------------------


def dask_fit():
    dd = pytest.importorskip("dask.dataframe")
    df, _ = simulate("logit", n=200)
    return fk.fit(FORMULA, dd.from_pandas(with_clusters(df), npartitions=2), "logit",
                  cluster="g")


def test_a_dask_fit_round_trips_with_the_numbers_it_computed():
    res = dask_fit()
    before = {"params": res.params, "se": res.se, "cov": res.cov, "summary": res.summary(),
              "trace": res.trace, "expected information": res.information("expected"),
              **{f"se {kind}": res.with_cov(kind).se for kind in COV_TYPES}}
    again = round_trip(res)
    after = {"params": again.params, "se": again.se, "cov": again.cov,
             "summary": again.summary(), "trace": again.trace,
             "expected information": again.information("expected"),
             **{f"se {kind}": again.with_cov(kind).se for kind in COV_TYPES}}
    assert_numbers(after, before, exact=True)
    assert again.n_obs == res.n_obs and again.model.data.n_partitions == 2


def test_an_unpickled_dask_fit_refuses_new_passes_over_the_data():
    res = dask_fit()
    again = round_trip(res)  # before any standard error other than the observed one
    np.testing.assert_array_equal(again.se, res.se)
    with pytest.raises(fk.SpecificationError, match="unpickled without its data.*Refit"):
        again.with_cov("sandwich").se
    with pytest.raises(fk.SpecificationError, match="unpickled without its data.*Refit"):
        again.profile_ci("x1")
    # the original keeps its frame and still computes
    assert np.all(np.isfinite(res.with_cov("sandwich").se))
