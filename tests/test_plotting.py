"""fisherkit.plotting: what the plots draw, against the tables they are drawn from, and the
log-likelihood surfaces against statsmodels and refits."""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm

import fisherkit as fk


@pytest.fixture(scope="module")
def spector():
    return fk.datasets.load("spector")


@pytest.fixture(scope="module")
def fits(spector):
    """Newton to the maximum, plain gradient stopped early: two traces of one model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.ConvergenceWarning)
        return {"newton": fk.fit("GRADE ~ GPA + PSI", data=spector, family="logit"),
                "gradient": fk.fit("GRADE ~ GPA + PSI", data=spector, family="logit",
                                   method="gradient", maxiter=30)}


def logit_loglik(spector, b):
    """The logit log-likelihood at coefficients ``b`` (Intercept, GPA, PSI), from statsmodels."""
    X = sm.add_constant(spector[["GPA", "PSI"]], prepend=True)
    return sm.Logit(spector["GRADE"], X).loglike(np.asarray(b, dtype=float))


# ---- convergence plots --------------------------------------------------------------------

def test_loglik_gaps_are_the_best_minus_each_row_floored_at_rounding(fits):
    gaps = fk.plotting.loglik_gaps(fits)
    best = max(res.trace["loglik"].max() for res in fits.values())
    floor = np.finfo(float).eps * (1 + abs(best))
    for name, res in fits.items():
        np.testing.assert_array_equal(gaps[name], np.maximum(best - res.trace["loglik"], floor))
    assert gaps["newton"].iloc[-1] == floor and gaps["gradient"].iloc[-1] > 1e-6
    # a reference maximum given by hand
    given = fk.plotting.loglik_gaps(fits, best_loglik=best + 1.0)
    np.testing.assert_allclose(given["newton"], best + 1.0 - fits["newton"].trace["loglik"],
                               rtol=1e-15)


def test_plot_convergence_draws_the_gaps_against_the_chosen_axis(fits):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gaps = fk.plotting.loglik_gaps(fits)
    ax = fk.plotting.plot_convergence(fits, x="passes")
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines) == ["newton", "gradient"] and ax.get_yscale() == "log"
    for name, res in fits.items():
        np.testing.assert_array_equal(lines[name].get_xdata(), res.trace["passes"])
        np.testing.assert_array_equal(lines[name].get_ydata(), gaps[name])
    plt.close(ax.figure)
    with pytest.raises(fk.SpecificationError,
                       match=r"The 'x' axis must be one of \['iteration', 'passes', 'elapsed'\]; "
                             r"got 'time'"):
        fk.plotting.plot_convergence(fits, x="time")
    with pytest.raises(fk.SpecificationError, match="Give a table from fk.compare or a non-empty "
                                                     "mapping"):
        fk.plotting.plot_convergence([])


# ---- the log-likelihood surface of two parameters -----------------------------------------

def test_loglik_grid_holds_the_others_at_the_estimate(fits, spector):
    res = fits["newton"]
    xs, ys = [2.0, 3.0, 4.0], [1.5, 2.5]
    grid = fk.plotting.loglik_grid(res, ["GPA", "PSI"], xs, ys)
    assert list(grid.columns) == xs and list(grid.index) == ys
    assert (grid.columns.name, grid.index.name) == ("GPA", "PSI")
    intercept = res.params["Intercept"]
    expected = [[logit_loglik(spector, [intercept, x, y]) for x in xs] for y in ys]
    np.testing.assert_allclose(grid.to_numpy(), expected, rtol=1e-13)


def test_profiled_grid_points_equal_refits_with_the_pair_as_an_offset(fits, spector):
    # with GPA and PSI fixed, the intercept is refitted: an intercept-only logit whose
    # offset is GPA * x + PSI * y
    res = fits["newton"]
    grid = fk.plotting.loglik_grid(res, ["GPA", "PSI"], [2.0, 3.5], [1.0], profile=True)
    for x in (2.0, 3.5):
        refit = fk.fit("GRADE ~ 1", data=spector, family="logit",
                       offset=x * spector["GPA"] + 1.0 * spector["PSI"])
        assert grid.loc[1.0, x] == pytest.approx(refit.loglik, rel=1e-10)


def test_natural_path_carries_each_iterate_to_the_natural_scale(spector):
    res = fk.fit("GPA ~ TUCE", data=spector, family="normal")
    path = fk.plotting.natural_path(res, ["TUCE", "sigma"])
    assert path.shape == (len(res.trace), 2)
    working = res.optimize_result.path
    np.testing.assert_allclose(path[:, 0], working[:, 1], rtol=1e-15)
    np.testing.assert_allclose(path[:, 1], np.exp(working[:, 2]), rtol=1e-15)


def test_grid_errors_name_the_parameters(fits):
    res = fits["newton"]
    with pytest.raises(fk.SpecificationError,
                       match=r"The 'params' must be two different parameter names; got \['GPA', "
                             r"'GPA'\]"):
        fk.plotting.loglik_grid(res, ["GPA", "GPA"], [1.0], [1.0])
    with pytest.raises(fk.SpecificationError, match="Unknown parameter 'gpa'; the parameters are"):
        fk.plotting.loglik_grid(res, ["gpa", "PSI"], [1.0], [1.0])


# ---- profiles -----------------------------------------------------------------------------


def test_plot_profile_draws_the_profile_and_marks_its_interval():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
    ax = fk.plotting.plot_profile(res, "GPA", n_points=9)
    profile_line, wald_line = ax.get_lines()[:2]
    table = res.profile("GPA", n_points=9)
    np.testing.assert_allclose(profile_line.get_ydata(), table["signed_root"], rtol=1e-10)
    np.testing.assert_allclose(wald_line.get_ydata(), table["wald"], rtol=1e-12)
    marked = sorted(line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == ":")
    np.testing.assert_allclose(marked, res.profile_ci("GPA").iloc[0, 1:].to_numpy(float),
                               rtol=1e-12)
    plt.close(ax.figure)
