"""fisherkit.models.links: each inverse link, its log and the log of its complement against
scipy and closed forms, in the body and far into the tails, with the derivative of each
inverse link against its density."""

import numpy as np
import pytest
from autograd import elementwise_grad
from scipy import special, stats

import fisherkit as fk
from fisherkit.models.links import LINKS, get_link

#: a grid over the body of every link onto the unit interval, and its tails up to where
#: the probabilities are still normal numbers
BODY = np.linspace(-30.0, 30.0, 241)
TAILS = np.concatenate([-np.geomspace(30.0, 700.0, 40), np.geomspace(30.0, 700.0, 40)])


def log1mexp(a):
    """``log(1 - exp(a))`` for ``a < 0``, each branch where it does not cancel (Maechler, 2012)."""
    a = np.asarray(a, dtype=float)
    with np.errstate(divide="ignore"):  # the branch not taken may be log(0)
        return np.where(a > -np.log(2.0), np.log(-np.expm1(a)), np.log1p(-np.exp(a)))


def test_the_registry_names_its_links():
    assert sorted(LINKS) == ["cloglog", "identity", "inverse", "log", "logit", "probit"]
    assert all(link.name == name for name, link in LINKS.items())
    assert [n for n, link in LINKS.items() if link.log1m_inverse is not None] == [
        "logit", "probit", "cloglog"]
    assert LINKS["inverse"].domain == "positive"


# ---- the inverse links and their logs against scipy ---------------------------------------

def test_logit_against_scipy_expit_and_log_expit():
    logit = LINKS["logit"]
    eta = np.concatenate([BODY, TAILS])
    # scipy's expit and log_expit are accurate to a few ulp over the whole line
    np.testing.assert_allclose(logit.inverse(BODY), special.expit(BODY), rtol=1e-14)
    np.testing.assert_allclose(logit.log_inverse(eta), special.log_expit(eta), rtol=1e-14)
    np.testing.assert_allclose(logit.log1m_inverse(eta), special.log_expit(-eta), rtol=1e-14)
    assert logit.log_inverse(-800.0) == -800.0 and logit.log1m_inverse(800.0) == -800.0


def test_probit_against_scipy_normal_cdf_and_its_logs():
    probit = LINKS["probit"]
    tails = np.concatenate([-np.geomspace(8.0, 38.0, 30), np.geomspace(8.0, 38.0, 30)])
    eta = np.concatenate([np.linspace(-8.0, 8.0, 161), tails])
    # the inverse is exp(log Phi): its relative error is the absolute error of log Phi, up to
    # |log Phi| eps = 720 * 1.1e-16 in the left tail, hence 1e-13
    np.testing.assert_allclose(probit.inverse(eta), stats.norm.cdf(eta), rtol=1e-13, atol=1e-300)
    # log Phi in both tails (Phi(-38) is 3e-317, still above zero): scipy's logcdf and logsf
    np.testing.assert_allclose(probit.log_inverse(eta), stats.norm.logcdf(eta), rtol=1e-14)
    np.testing.assert_allclose(probit.log1m_inverse(eta), stats.norm.logsf(eta), rtol=1e-14)
    # beyond, log Phi(x) ~ -x^2 / 2 - log(-x) - log(2 pi) / 2 (the Mills ratio's first term)
    x = -1e4
    assert probit.log_inverse(x) == pytest.approx(-x * x / 2 - np.log(-x) - 0.5 * np.log(2 * np.pi),
                                                  rel=1e-12)


def test_cloglog_against_its_closed_form():
    cloglog = LINKS["cloglog"]
    # mu = 1 - exp(-e^eta), log(1 - mu) = -e^eta exactly
    eta = np.linspace(-30.0, 3.5, 135)
    np.testing.assert_allclose(cloglog.inverse(eta), -np.expm1(-np.exp(eta)), rtol=1e-14)
    wide = np.concatenate([-np.geomspace(30.0, 700.0, 40), np.linspace(-30.0, 6.0, 145)])
    np.testing.assert_allclose(cloglog.log1m_inverse(wide), -np.exp(wide), rtol=1e-14)
    # log mu = log(1 - exp(-e^eta)), by the two branches of log1mexp from numpy: to 1e-13
    # relative up to eta = 2; beyond, log mu is within 1e-11 of zero and fisherkit's
    # log(-expm1(-e^eta)) keeps it to 1e-16 absolute (1 - mu has rounded), not relative
    body = wide <= 2.0
    np.testing.assert_allclose(cloglog.log_inverse(wide[body]), log1mexp(-np.exp(wide[body])),
                               rtol=1e-13)
    np.testing.assert_allclose(cloglog.log_inverse(wide[~body]), log1mexp(-np.exp(wide[~body])),
                               rtol=0, atol=1e-15)
    # far left, log mu = eta - e^eta / 2 + O(e^2eta): eta itself to double precision
    assert cloglog.log_inverse(-800.0) == -800.0
    # far right, log mu = -exp(-e^eta) is below 1e-175 in magnitude: zero to double precision
    right = np.array([6.5, 10.0, 50.0, 700.0])
    assert np.all((cloglog.log_inverse(right) <= 0) & (cloglog.log_inverse(right) > -1e-170))


@pytest.mark.parametrize("name", ["identity", "log", "inverse"])
def test_links_onto_the_positive_half_line(name):
    link = LINKS[name]
    eta = np.geomspace(1e-3, 1e2, 51)
    mu = {"identity": eta, "log": np.exp(eta), "inverse": 1.0 / eta}[name]
    log_mu = {"identity": np.log(eta), "log": eta, "inverse": -np.log(eta)}[name]
    np.testing.assert_allclose(link.inverse(eta), mu, rtol=1e-15)
    np.testing.assert_allclose(link.log_inverse(eta), log_mu, rtol=1e-15)
    assert link.log1m_inverse is None


@pytest.mark.parametrize("name", sorted(LINKS))
def test_the_link_inverts_the_inverse_link(name):
    link = LINKS[name]
    # onto the unit interval up to eta = 2 only: beyond, 1 - mu is below 1e-3 (cloglog) and
    # the round trip through mu loses the digits of 1 - mu, not the link's
    eta = np.linspace(0.1, 3.0, 30) if link.domain == "positive" or name == "identity" else (
        np.linspace(-3.0, 2.0, 51))
    np.testing.assert_allclose(link.link(np.asarray(link.inverse(eta))), eta, rtol=1e-12,
                               atol=1e-12)


# ---- derivatives of the inverse links --------------------------------------------------

def test_derivatives_of_the_inverse_links_are_the_densities():
    eta = np.linspace(-8.0, 8.0, 81)
    expected = {
        "logit": stats.logistic.pdf(eta),
        "probit": stats.norm.pdf(eta),
        # d/deta (1 - exp(-e^eta)) = exp(eta - e^eta), the Gumbel (minimum) density
        "cloglog": stats.gumbel_l.pdf(eta),
    }
    for name, density in expected.items():
        slope = elementwise_grad(LINKS[name].inverse)(eta)
        if name == "cloglog":
            # autograd differentiates expm1 as (expm1 + 1): once exp(-e^eta) is below 1e-3
            # (eta > 2) that sum keeps the slope to 1e-14 absolute only, and it is exactly 0
            # from eta = 3.7, where the density is below 1e-17
            body = eta <= 2.0
            np.testing.assert_allclose(slope[~body], density[~body], rtol=0, atol=1e-14)
            slope, density = slope[body], density[body]
        np.testing.assert_allclose(slope, density, rtol=1e-12, atol=1e-300, err_msg=name)


def test_log_inverse_slopes_stay_finite_in_the_tails():
    # d log mu / d eta: 1 - mu for the logit, the Mills ratio for the probit, and
    # e^eta / (exp(e^eta) - 1) for the cloglog; each finite where mu underflows
    eta = np.array([-700.0, -40.0, 0.0, 40.0, 700.0])
    logit = elementwise_grad(LINKS["logit"].log_inverse)(eta)
    np.testing.assert_allclose(logit, special.expit(-eta), rtol=1e-14, atol=1e-300)
    probit = elementwise_grad(LINKS["probit"].log_inverse)(eta[1:-1])
    mills = np.exp(stats.norm.logpdf(eta[1:-1]) - stats.norm.logcdf(eta[1:-1]))
    np.testing.assert_allclose(probit, mills, rtol=1e-10, atol=1e-300)
    cloglog = elementwise_grad(LINKS["cloglog"].log_inverse)(np.array([-700.0, -40.0, 0.0, 2.0]))
    e = np.exp(np.array([-700.0, -40.0, 0.0, 2.0]))
    np.testing.assert_allclose(cloglog, e / np.expm1(e), rtol=1e-12)
    # further right the slope is below 4e-8 and, as the inverse's, kept to 1e-14 absolute
    right = np.array([3.0, 3.5, 4.0, 6.0])
    e = np.exp(right)
    np.testing.assert_allclose(elementwise_grad(LINKS["cloglog"].log_inverse)(right),
                               e / np.expm1(e), rtol=0, atol=1e-14)


# ---- looking links up --------------------------------------------------------------------

def test_get_link_by_name_by_object_and_within_what_a_family_allows():
    assert get_link("probit") is LINKS["probit"]
    assert get_link(LINKS["log"]) is LINKS["log"]
    assert get_link("log", allowed=("log", "identity")).name == "log"
    with pytest.raises(fk.SpecificationError, match=r"Unknown link 'logistic'; choose one of \["):
        get_link("logistic")
    with pytest.raises(fk.SpecificationError,
                       match=r"The link 'probit' is not available for this family; choose one "
                             r"of \['log', 'identity'\]"):
        get_link(LINKS["probit"], allowed=("log", "identity"))
