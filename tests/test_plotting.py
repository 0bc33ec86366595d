"""fisherkit.plotting: what the plots draw, against the tables they are drawn from."""

import numpy as np

import fisherkit as fk


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
