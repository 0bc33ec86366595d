"""fisherkit.autodiff.linalg: the blocked weighted products against the direct products
they replace."""

import numpy as np
import pytest

from fisherkit.autodiff import linalg


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


def test_weights_with_nan_give_nan_not_a_wrong_number(design):
    X, _ = design
    w = np.ones(len(X))
    w[5] = np.nan
    # every entry X_a' diag(w) X_b sums over row 5, so every entry is NaN
    assert np.isnan(linalg.weighted_gram(X, w)).all()
