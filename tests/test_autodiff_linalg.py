"""The blocked weighted products, the kept eta matrix and the cheap checks of a fit, each
against the direct computation they replace."""

import numpy as np
import pandas as pd
import pytest

import fisherkit as fk
from fisherkit.autodiff import linalg
from fisherkit.models.builtins import make_family
from fisherkit.models.formula import _check_design, _design_summary, _plain_design, build_data
from fisherkit.models.index_model import Model


@pytest.fixture(params=["column-major", "row-major", "strided"])
def design(request):
    rng = np.random.default_rng(3)
    # more rows than a few blocks of either layout, and not a multiple of one
    n = 8 * linalg.ROW_BLOCK + 123
    X = rng.standard_normal((n, 7))
    X = {"column-major": np.asfortranarray(X), "row-major": X,
         "strided": np.asfortranarray(rng.standard_normal((2 * n, 7)))[::2]}[request.param]
    return X, rng.standard_normal(n)


@pytest.mark.parametrize("kind", ["positive", "negative", "mixed", "equal", "equal negative",
                                  "zero"])
@pytest.mark.parametrize("with_u", [True, False])
def test_gram_and_product_equal_the_direct_products(design, kind, with_u):
    X, u = design
    rng = np.random.default_rng(4)
    n = len(X)
    w = {"positive": rng.random(n), "negative": -rng.random(n),
         "mixed": rng.standard_normal(n), "equal": np.full(n, 0.25),
         "equal negative": np.full(n, -2.0), "zero": np.zeros(n)}[kind]
    gram, product = linalg.gram_and_product(X, w, u if with_u else None)
    direct = X.T @ (w[:, None] * X)
    np.testing.assert_allclose(gram, direct, rtol=1e-12, atol=1e-12 * max(np.abs(direct).max(), 1))
    assert np.array_equal(gram, gram.T)
    if with_u:
        np.testing.assert_allclose(product, X.T @ u, rtol=1e-12, atol=1e-10)
    else:
        assert product is None


def test_designs_are_built_column_major_also_after_dropping_rows():
    rng = np.random.default_rng(9)
    df = pd.DataFrame({"y": (rng.random(300) < 0.5).astype(float),
                       "a": rng.standard_normal(300), "b": rng.standard_normal(300)})
    family = make_family("logit")
    X = build_data("y ~ a + b", df, family).designs["mu"]
    assert X.flags.f_contiguous
    np.testing.assert_array_equal(X[:, 1:], df[["a", "b"]].to_numpy())
    df.loc[[4, 9], "b"] = np.nan
    X = build_data("y ~ a + b", df, family).designs["mu"]
    assert X.flags.f_contiguous and X.shape == (298, 3)
    np.testing.assert_array_equal(X[:, 1:], df[["a", "b"]].dropna().to_numpy())
    X = build_data("y ~ a + np.exp(b)", df, family).designs["mu"]
    assert X.flags.f_contiguous and X.shape == (298, 3)


def test_weights_with_nan_give_nan_not_a_wrong_number(design):
    X, _ = design
    w = np.ones(len(X))
    w[5] = np.nan
    # every entry X_a' diag(w) X_b sums over row 5, so every entry is NaN
    assert np.isnan(linalg.weighted_gram(X, w)).all()


def test_kept_eta_is_read_only_and_follows_theta():
    df = fk.datasets.load("spector")
    family = make_family("logit")
    model = Model(family, build_data("GRADE ~ GPA + PSI", df, family))
    a, b = np.array([0.1, 0.2, 0.3]), np.array([-1.0, 0.5, 2.0])
    Ea = model.eta_matrix(a)
    with pytest.raises(ValueError, match="read-only"):
        Ea[0, 0] = 1.0
    X = model.data.designs["mu"]
    np.testing.assert_array_equal(model.eta_matrix(b)[:, 0], X @ b)
    np.testing.assert_array_equal(model.eta_matrix(a)[:, 0], X @ a)
    # the caller's array may change afterwards without touching what was kept
    c = b.copy()
    E = model.eta_matrix(c)
    c[0] = 7.0
    np.testing.assert_array_equal(model.eta_matrix(b), E)
    passes = model.passes
    model.loglik(b)
    assert model.passes == passes + 1


@pytest.mark.parametrize("family, link", [("logit", None), ("probit", None),
                                          ("binomial", "cloglog"), ("binomial", "logit")])
def test_separation_count_from_eta_bounds_equals_the_count_on_mu(family, link):
    rng = np.random.default_rng(5)
    n = 400
    x = rng.standard_normal(n)
    trials = np.full(n, 3.0) if family == "binomial" else None
    y = (x > 0).astype(float) * (3.0 if trials is not None else 1.0)
    df = pd.DataFrame({"y": y, "x": x})
    fam = make_family(family, link)
    extra = {"trials": trials} if trials is not None else {}
    model = Model(fam, build_data("y ~ x", df, fam, **extra))
    counts = []
    for slope in (1.0, 8.0, 30.0, 200.0):
        theta = np.array([0.0, slope])
        eta = model.data.designs["mu"] @ theta
        mu = np.asarray(fam.link.inverse(eta))
        share = model.data.y / model.data.aux.get("trials", 1.0)
        expected = int(np.sum(((share == 1) & (mu > 1 - 1e-8)) | ((share == 0) & (mu < 1e-8))))
        assert model.count_separated(theta) == expected
        counts.append(expected)
    assert counts[0] == 0 and counts[-1] > n // 2  # both sides of the question are asked


def test_summary_from_source_columns_equals_the_summary_of_the_design():
    rng = np.random.default_rng(6)
    df = pd.DataFrame({"a": rng.standard_normal(5000), "b": rng.random(5000),
                       "c": rng.integers(0, 4, 5000).astype(float)})
    X, names, _, (lo, hi, proj) = _plain_design("a + b + c", df, drop_intercept=False)
    assert names == ("Intercept", "a", "b", "c")
    lo2, hi2, proj2 = _design_summary(X)
    np.testing.assert_array_equal(lo, lo2)
    np.testing.assert_array_equal(hi, hi2)
    np.testing.assert_allclose(proj, proj2, rtol=1e-12)


def test_design_check_from_the_source_summary_still_finds_problems():
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"a": rng.standard_normal(300), "k": np.full(300, 2.0)})
    df["a2"] = df["a"]
    X, names, _, summary = _plain_design("a + k", df, drop_intercept=False)
    with pytest.raises(fk.DataError, match=r"\['k'\].*constant"):
        _check_design(X, names, "mu", summary)
    X, names, _, summary = _plain_design("a + a2", df, drop_intercept=False)
    with pytest.raises(fk.DataError, match="'a' and 'a2'.*identical"):
        _check_design(X, names, "mu", summary)


def test_missing_and_infinite_values_in_plain_columns_are_still_found():
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"y": (rng.random(200) < 0.5).astype(float),
                       "a": rng.standard_normal(200), "b": rng.standard_normal(200)})
    df.loc[[3, 17], "a"] = np.nan
    data = build_data("y ~ a + b", df, make_family("logit"))
    assert data.n_dropped == 2 and data.n_obs == 198
    assert np.all(np.isfinite(data.designs["mu"]))
    np.testing.assert_array_equal(data.designs["mu"][:, 1:], df[["a", "b"]].dropna().to_numpy())
    df.loc[40, "b"] = -np.inf
    with pytest.raises(fk.DataError, match="'b' holds infinite values, first at row 40"):
        build_data("y ~ a + b", df, make_family("logit"))


def test_missing_and_infinite_values_beyond_the_first_piece_of_a_column_are_found():
    # the plain design is copied and summarized in pieces; a NaN in a later piece must
    # still mark its row, and an infinite value still be refused
    rng = np.random.default_rng(10)
    n = 300_000
    df = pd.DataFrame({"y": (rng.random(n) < 0.5).astype(float), "a": rng.standard_normal(n)})
    df.loc[250_000, "a"] = np.nan
    data = build_data("y ~ a", df, make_family("logit"))
    assert data.n_dropped == 1 and 250_000 not in data.index
    df.loc[200_001, "a"] = np.inf
    with pytest.raises(fk.DataError, match="'a' holds infinite values, first at row 200001"):
        build_data("y ~ a", df, make_family("logit"))
