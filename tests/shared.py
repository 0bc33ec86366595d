"""Helpers several test modules share: simulated data for every built-in family, the
shipped data sets as the statsmodels comparisons need them, and matrix distances."""

import numpy as np
import pandas as pd
import scipy.special as sc
import statsmodels.api as sm

import fisherkit as fk
from fisherkit.models.builtins import FAMILIES, make_family
from fisherkit.models.links import LINKS

#: statsmodels' Newton to full precision, silent
STATSMODELS_FIT = {"method": "newton", "tol": 1e-12, "disp": 0}


def accepted_links() -> list[tuple[str, str]]:
    """Every (family, link) pair the built-in families accept."""
    cases = []
    for name in sorted(FAMILIES):
        for link in sorted(LINKS):
            try:
                make_family(name, link)
            except fk.SpecificationError:
                continue
            cases.append((name, link))
    return cases


def simulate(name: str, n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """A small data set drawn from family ``name`` and the keywords its fit needs.

    Regressors are uniform on (-1, 1) and means are kept away from the edges of their
    domains, so that every accepted link is finite near its starting values.
    """
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x1": rng.uniform(-1, 1, n), "x2": rng.uniform(-1, 1, n)})
    lin = 0.5 * df["x1"].to_numpy() - 0.3 * df["x2"].to_numpy()
    kwargs = {}
    if name == "normal":
        y = 2.0 + lin + 0.5 * rng.normal(size=n)
    elif name in ("logit", "probit"):
        y = (rng.uniform(size=n) < sc.expit(0.3 + lin)).astype(float)
    elif name == "binomial":
        df["m"] = rng.integers(1, 11, size=n)
        y = rng.binomial(df["m"], sc.expit(0.3 + lin))
        kwargs["trials"] = "m"
    elif name == "poisson":
        y = rng.poisson(np.exp(1.0 + lin))
    elif name == "negbin":
        mu, alpha = np.exp(1.0 + lin), 0.5
        y = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mu))
    elif name == "gamma":
        y = rng.gamma(3.0, np.exp(0.7 + lin) / 3.0)
    elif name in ("exponential", "weibull"):
        t = np.exp(0.7 + lin) * rng.weibull(1.0 if name == "exponential" else 1.5, size=n)
        c = rng.exponential(4.0, size=n)
        y = np.minimum(t, c)
        df["d"] = (t <= c).astype(float)
        kwargs["event"] = "d"
    elif name == "student_t":
        y = 1.0 + lin + 0.5 * rng.standard_t(3, size=n)
    elif name == "ordinal":
        y = np.digitize(2 * lin + rng.logistic(size=n), [-1.0, 0.0, 1.0])
    else:
        raise KeyError(f"no simulated data for the family {name!r}: add it to simulate()")
    df["y"] = y
    return df, kwargs


def logit_statsmodels(spector, **kwargs):
    df, X = spector
    return sm.Logit(df["GRADE"], X).fit(**STATSMODELS_FIT, **kwargs)


def relabel(frame: pd.DataFrame) -> np.ndarray:
    """statsmodels' covariance in fisherkit's order ("const" is fisherkit's "Intercept")."""
    frame = frame.rename(index={"const": "Intercept"}, columns={"const": "Intercept"})
    names = ["Intercept", "GPA", "TUCE", "PSI"]
    return frame.loc[names, names].to_numpy()


def scaled_max_diff(a, b):
    """Largest ``|a - b|`` relative to ``sqrt(b_ii b_jj)``: a scale-free matrix distance."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = np.sqrt(np.abs(np.diag(b)))
    return float(np.max(np.abs(a - b) / np.outer(d, d)))


def ships():
    return fk.datasets.load("ships")


def ships_complete():
    """The 34 rows Stata used, for statsmodels (which does not drop missing rows itself)."""
    df = ships()
    return df.dropna(subset=["accident", "service"]).reset_index(drop=True)


def spector_frame():
    df = fk.datasets.load("spector")
    return df, sm.add_constant(df[["GPA", "TUCE", "PSI"]], prepend=True)
