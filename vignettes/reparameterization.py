"""Reparameterization, the delta method, likelihood intervals and a small normalizing flow.

Run ``python vignettes/reparameterization.py`` to write ``reparameterization.md`` and its
figures next to this script, or give ``--output-dir DIR`` to write them under ``DIR``.
Every number in the Markdown is computed here; none is typed by hand.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import autograd.numpy as anp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import fisherkit as fk  # noqa: E402
from _render import markdown_table, output_dir  # noqa: E402

SPECTOR = "GRADE ~ GPA + TUCE + PSI"
LONGLEY = "TOTEMP ~ GNP"


def odds_ratios(res) -> pd.DataFrame:
    """Odds ratio of each coefficient three ways: Wald on the ratio, mapped Wald endpoints,
    mapped profile endpoints."""
    rows = {}
    profile = res.profile_ci(["GPA", "TUCE", "PSI"])
    for name in ("GPA", "TUCE", "PSI"):
        wald = res.delta(lambda p, n=name: anp.exp(p[n]), name=name).iloc[0]
        mapped = res.delta(lambda p, n=name: anp.exp(p[n]), name=name,
                           interval="endpoints").iloc[0]
        rows[name] = {"odds ratio": wald["estimate"], "delta se": wald["se"],
                      "Wald on the ratio": f"[{wald['ci_lower']:.3f}, {wald['ci_upper']:.3f}]",
                      "exp(Wald on the log)": f"[{mapped['ci_lower']:.3f}, "
                                              f"{mapped['ci_upper']:.3f}]",
                      "exp(profile)": f"[{np.exp(profile.loc[name, 'ci_lower']):.3f}, "
                                      f"{np.exp(profile.loc[name, 'ci_upper']):.3f}]"}
    return pd.DataFrame(rows).T


def sigma_intervals(res) -> pd.DataFrame:
    scales = res.summary_scales()
    natural = scales.loc[("sigma", "natural")]
    working = scales.loc[("sigma", "working")]
    profile = res.profile_ci("sigma").loc["sigma"]
    rows = {"Wald in sigma": (natural["ci_lower"], natural["ci_upper"]),
            "exp(Wald in log sigma)": (np.exp(working["ci_lower"]), np.exp(working["ci_upper"])),
            "profile": (profile["ci_lower"], profile["ci_upper"])}
    table = pd.DataFrame(rows, index=["ci_lower", "ci_upper"]).T
    table["estimate - lower"] = natural["estimate"] - table["ci_lower"]
    table["upper - estimate"] = table["ci_upper"] - natural["estimate"]
    table["asymmetry"] = table["upper - estimate"] / table["estimate - lower"]
    return table


def interval_comparison(res) -> pd.DataFrame:
    wald, profile = res.conf_int(), res.profile_ci()
    table = pd.DataFrame({"estimate": res.params, "Wald lower": wald["ci_lower"],
                          "profile lower": profile["ci_lower"], "Wald upper": wald["ci_upper"],
                          "profile upper": profile["ci_upper"]})
    # how far the profile interval is shifted from the Wald one, in standard errors
    table["shift (se)"] = ((profile["ci_lower"] + profile["ci_upper"])
                           - (wald["ci_lower"] + wald["ci_upper"])) / (2 * res.se)
    return table


def three_tests(spector) -> tuple[pd.DataFrame, dict]:
    small = fk.fit("GRADE ~ GPA", data=spector, family="logit")
    big = fk.fit(SPECTOR, data=spector, family="logit")
    table = pd.DataFrame({
        "Wald": big.wald_test("TUCE = 0, PSI = 0"),
        "likelihood ratio": fk.lr_test(small, big),
        "score (expected information)": fk.score_test(small, big),
        "score (OPG)": fk.score_test(small, big, information="opg"),
    }).T
    return table, {"equal": big.wald_test("GPA = PSI")}


def heart_points() -> np.ndarray:
    heart = fk.datasets.load("heart")
    x = np.column_stack([np.log(heart["survival"]), heart["age"]])
    return (x - x.mean(axis=0)) / x.std(axis=0)


def flows(x: np.ndarray) -> dict:
    gaussian = fk.Flow(["affine"]).fit(x)
    flow = fk.Flow(["affine", "planar"])
    fitted = flow.fit(x)
    params = fitted.model.unpack(fitted.model.to_natural(fitted.theta))
    grid = np.linspace(-3.5, 3.5, 281)
    gx, gy = np.meshgrid(grid, grid)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    wide = np.linspace(-12.0, 12.0, 1201)
    wx, wy = np.meshgrid(wide, wide)
    density = np.exp(flow.logpdf(params, np.column_stack([wx.ravel(), wy.ravel()])))
    total = float(np.trapezoid(np.trapezoid(density.reshape(wx.shape), wide, axis=1), wide))
    return {"gaussian": gaussian, "flow": fitted, "model": flow, "params": params,
            "grid": (gx, gy), "total": total,
            "density": np.exp(flow.logpdf(params, points)).reshape(gx.shape),
            "gaussian_density": np.exp(fk.Flow(["affine"]).logpdf(
                gaussian.model.unpack(gaussian.model.to_natural(gaussian.theta)),
                points)).reshape(gx.shape)}


def compute() -> dict:
    spector = fk.datasets.load("spector")
    logit = fk.fit(SPECTOR, data=spector, family="logit")
    longley = fk.fit(LONGLEY, data=fk.datasets.load("longley"), family="normal")
    tests, extra = three_tests(spector)
    x = heart_points()
    return {"logit": logit, "odds": odds_ratios(logit), "longley": longley,
            "sigma": sigma_intervals(longley), "intervals": interval_comparison(logit),
            "tests": tests, "extra": extra, "x": x, "flows": flows(x)}


def draw(r: dict, out: Path) -> tuple[Path, Path]:
    profile_path = out / "figures" / "reparameterization_profile.png"
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    fk.plotting.plot_profile(r["logit"], "GPA", ax=axes[0], n_points=31)
    fk.plotting.plot_profile(r["longley"], "sigma", ax=axes[1], n_points=31)
    fig.tight_layout()
    fig.savefig(profile_path, dpi=90)
    plt.close(fig)

    flow_path = out / "figures" / "reparameterization_flow.png"
    f = r["flows"]
    gx, gy = f["grid"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharex=True, sharey=True)
    for ax, key, title in ((axes[0], "gaussian_density", "Gaussian (one affine layer)"),
                           (axes[1], "density", "affine + planar flow")):
        ax.contour(gx, gy, f[key], levels=8, cmap="viridis")
        ax.scatter(r["x"][:, 0], r["x"][:, 1], s=10, color="k")
        ax.set_title(title)
        ax.set_xlabel("log survival time (standardized)")
    axes[0].set_ylabel("age (standardized)")
    fig.tight_layout()
    fig.savefig(flow_path, dpi=90)
    plt.close(fig)
    return profile_path, flow_path


def write(r: dict, out: Path, figures: tuple[Path, Path]) -> None:
    profile_figure, flow_figure = (p.relative_to(out).as_posix() for p in figures)
    logit, sigma, intervals, tests = r["logit"], r["sigma"], r["intervals"], r["tests"]
    f = r["flows"]
    lr_flow = 2 * (f["flow"].loglik - f["gaussian"].loglik)
    widest = intervals["shift (se)"].abs().idxmax()
    asymmetry = sigma["asymmetry"]
    away = bool((np.sign(intervals["shift (se)"]) == np.sign(intervals["estimate"])).all())
    statistics = tests["statistic"]
    flow_summary = f["flow"].summary()[["estimate", "se", "ci_lower", "ci_upper"]]
    text = f"""# Reparameterization, the delta method and likelihood intervals

*Generated by `vignettes/reparameterization.py`; every number below is computed by that script.*

A fitted model answers questions about its parameters, and most questions are about
functions of them: an odds ratio rather than a log-odds coefficient, a standard deviation
rather than its logarithm, a density rather than the weights that shape it. This vignette
works through them on three real data sets shipped with fisherkit.

## Odds ratios: the delta method and where to map the interval

For the logit model `{SPECTOR}` on the Spector and Mazzeo (1980) data, the odds ratio of a
coefficient is $e^\\beta$. `res.delta(lambda p: anp.exp(p["GPA"]))` gives its standard error
$e^{{\\hat\\beta}} \\operatorname{{se}}(\\hat\\beta)$ from the Jacobian (autograd's, for any
function). There are three intervals for it:

{markdown_table(r["odds"])}

The Wald interval on the ratio itself is symmetric and reaches below 0 for small samples,
which no odds ratio can. Mapping the endpoints of the log-scale interval
(`interval="endpoints"`, for monotone functions) respects the range; mapping the profile
interval needs no quadratic approximation at all. Only the last is the same whichever scale
the model was fitted in.

## sigma against log sigma

fisherkit estimates $\\sigma$ on the working scale $\\log\\sigma$ and reports it on the
natural one. For `{LONGLEY}` on Longley's (1967) {r["longley"].n_obs} years,
`res.summary_scales()` shows both; the 95% intervals for $\\sigma$ three ways:

{markdown_table(sigma)}

The Wald interval in $\\sigma$ is symmetric; the likelihood is not: with {r["longley"].n_obs}
observations **the profile interval reaches {asymmetry["profile"]:.3f} times as far above the
estimate as below it**. The Wald interval in $\\log\\sigma$, mapped back, goes part of the
way ({asymmetry["exp(Wald in log sigma)"]:.3f}): the log-likelihood is closer to quadratic
in $\\log\\sigma$ than in $\\sigma$, which is also why the optimizer works there.

## Wald against profile intervals

For every coefficient of the Spector logit, the Wald interval $\\hat\\beta \\pm 1.96\\,
\\operatorname{{se}}$ and the profile-likelihood interval (`res.profile_ci()`, the values
whose likelihood-ratio statistic stays below $\\chi^2_{{0.95}}(1)$):

{markdown_table(intervals)}

With 32 students the profile intervals are shifted {"away from zero for every coefficient" if away else "from the Wald ones"},
most for `{widest}` ({intervals.loc[widest, "shift (se)"]:.2f} standard errors). The plots show why: the signed
root of the profile deviance (solid) bends away from the straight Wald line (dashed), and the
interval is where it crosses $\\pm 1.96$ (dotted lines). For $\\sigma$ in the Longley fit the
bend is the skewness of the interval above.

![Profiles of GPA (Spector logit) and sigma (Longley)]({profile_figure})

## Three tests of one hypothesis

Do `TUCE` and `PSI` matter once `GPA` is in the model? The Wald test needs only the full fit,
the score test only the fit without them, the likelihood-ratio test both:

{markdown_table(tests)}

In a sample of 32 they differ, from {statistics.min():.2f} ({statistics.idxmin()}) to
{statistics.max():.2f} ({statistics.idxmax()}), and only some reject at 5%; they are
asymptotically equivalent and draw together as $n$ grows (the test suite checks them
against each other on 100,000 rows, to within 1%). Any linear hypothesis can be written out:
`res.wald_test("GPA = PSI")` gives a statistic of {r["extra"]["equal"]["statistic"]:.4f}
(p = {r["extra"]["equal"]["p_value"]:.3f}).

## Change of variables: a small normalizing flow

A flow models a density by an invertible map $g$ from the data to a standard normal,
$\\log p(x) = \\log N(g(x)) + \\log |\\det J_g(x)|$. `fk.Flow(["affine", "planar"])` is an
affine layer (alone, it is the Gaussian fit) followed by one planar layer $z = x + \\hat u
\\tanh(w'x + b)$ (Rezende and Mohamed, 2015). It is an ordinary fisherkit likelihood, so it
has standard errors. On the {len(r["x"])} patients of the Stanford heart transplant data
(`heart`: log survival time and age, standardized):

{markdown_table(flow_summary)}

The planar layer raises the log-likelihood from {f["gaussian"].loglik:.2f} to
{f["flow"].loglik:.2f} (twice the difference is {lr_flow:.1f} for 5 more parameters; the
chi-squared reference does not apply, since without the layer its direction $w$ and offset
$b$ are not identified). The fitted density integrates to **{f["total"]:.6f}** on a grid,
as a density must:

![Gaussian and flow densities on the heart data]({flow_figure})
"""
    (out / "reparameterization.md").write_text(text)


def main(argv=None) -> None:
    out = output_dir(__doc__, argv)
    r = compute()
    write(r, out, draw(r, out))


if __name__ == "__main__":
    main()
