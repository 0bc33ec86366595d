"""Standard errors four ways: a vignette on the ships data (McCullagh and Nelder, 1989).

Run ``python vignettes/standard_errors.py`` to write ``standard_errors.md`` and
``figures/standard_errors.png`` next to this script, or give ``--output-dir DIR`` to write
them under ``DIR``. Every number in the Markdown is computed here; none is typed by hand.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

import fisherkit as fk  # noqa: E402
from _render import markdown_table  # noqa: E402

FORMULA = "accident ~ yr_con + op_75_79"
RANDHIE = "mdvis ~ lncoins + idp + lpi + fmde + physlm + disea + hlthg + hlthf + hlthp"
KINDS = ["observed", "expected", "opg", "sandwich", "cluster"]
TARGET_SE = 0.05
FOCUS = "op_75_79"
SIZE_SETS, SIZE_N = 200, 2000
COVERAGE_SETS = 1000


def im_test_size(n_sets: int, n: int, seed: int) -> float:
    """Share of correctly specified Poisson data sets the IM test rejects at 5%."""
    rng = np.random.default_rng(seed)
    rejected = 0
    for _ in range(n_sets):
        x = rng.normal(size=n)
        y = rng.poisson(np.exp(0.5 + 0.5 * x))
        res = fk.fit("y ~ x", data=pd.DataFrame({"x": x, "y": y}), family="poisson")
        rejected += res.information_matrix_test()["p_value"] < 0.05
    return rejected / n_sets


def coverage(poisson, ships, n_sets: int, seed: int) -> dict:
    """Refits to data drawn from the fitted Poisson model, on its own design and exposure."""
    used = ships[ships["service"] > 0]
    mean = np.exp(poisson.model.eta_matrix(poisson.theta)[:, 0])
    truth = poisson.params
    rng = np.random.default_rng(seed)
    kinds = ("observed", "sandwich")
    covered = {k: np.zeros(len(truth)) for k in kinds}
    estimates = []
    for _ in range(n_sets):
        draw = used.assign(accident=rng.poisson(mean))
        res = fk.fit(FORMULA, data=draw, family="poisson", offset=np.log(draw["service"]))
        estimates.append(res.params.to_numpy())
        for kind in kinds:
            ci = res.with_cov(kind).conf_int()
            covered[kind] += ((ci["ci_lower"] <= truth) & (truth <= ci["ci_upper"])).to_numpy()
    table = pd.DataFrame({f"coverage, {k}": covered[k] / n_sets for k in kinds},
                         index=truth.index)
    # the spread of the estimates across data sets against the Cramér-Rao bound
    table["sd of estimates / expected se"] = (np.std(estimates, axis=0, ddof=1)
                                              / poisson.with_cov("expected").se.to_numpy())
    return {"table": table, "n_sets": n_sets,
            "mc_se": float(np.sqrt(0.95 * 0.05 / n_sets))}


def compute() -> dict:
    """Every fit and number the vignette reports."""
    ships = fk.datasets.load("ships")
    common = dict(data=ships, offset=np.log(ships["service"]), cluster="ship")
    poisson = fk.fit(FORMULA, family="poisson", **common)
    negbin = fk.fit(FORMULA, family="negbin", **common)
    out = {"ships": ships, "poisson": poisson, "negbin": negbin}
    out["poisson_table"] = poisson.se_table(KINDS)
    out["negbin_table"] = negbin.se_table(KINDS)
    out["poisson_im"] = poisson.information_matrix_test()
    out["negbin_im"] = negbin.information_matrix_test()
    # NB2 nests the Poisson at alpha = 0, on the boundary: the LR statistic is a 50:50
    # mixture of 0 and chi2(1) (Cameron and Trivedi, 2013, sec. 3.4)
    lr = 2.0 * (negbin.loglik - poisson.loglik)
    out["lr"], out["lr_p"] = lr, 0.5 * stats.chi2.sf(lr, 1)
    randhie = fk.fit(RANDHIE, data=fk.datasets.load("randhie"), family="poisson")
    out["randhie"] = randhie
    out["randhie_im"] = randhie.information_matrix_test()
    out["randhie_ratio"] = randhie.with_cov("sandwich").se / randhie.se
    out["curvature"] = negbin.curvature()
    out["n_clusters"] = len(np.unique(poisson.model.data.cluster))
    out["im_size"] = im_test_size(SIZE_SETS, SIZE_N, seed=2024)
    out["plan_n"] = poisson.plan(n=4 * poisson.n_obs)
    out["plan_se"] = poisson.plan(se=TARGET_SE)
    out["coverage"] = coverage(poisson, ships, COVERAGE_SETS, seed=7)
    return out


def draw_figure(r: dict, path: Path) -> None:
    """Each kind's standard error divided by the observed-information one, by parameter."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    colours = ["#444444", "#8c8c8c", "#2b83ba", "#d7191c", "#fdae61"]
    for ax, key, title in [(axes[0], "poisson_table", "Poisson"),
                           (axes[1], "negbin_table", "NB2")]:
        table = r[key].drop(index=[i for i in r[key].index if i == "alpha"])
        ratio = table.div(table["observed"], axis=0)
        x = np.arange(len(ratio.index))
        width = 0.8 / len(ratio.columns)
        for j, (kind, colour) in enumerate(zip(ratio.columns, colours)):
            ax.bar(x + (j - (len(ratio.columns) - 1) / 2) * width, ratio[kind], width,
                   label=kind, color=colour)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks(x, ratio.index)
        ax.set_title(f"{title}, ships with exposure (n = {r['poisson'].n_obs})")
    axes[0].set_ylabel("standard error / observed-information standard error")
    axes[1].legend(title="cov", frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def check_claims(r: dict) -> None:
    """The prose below states these; refuse to write it if the numbers say otherwise."""
    pt, nt = r["poisson_table"], r["negbin_table"]
    assert np.allclose(pt["observed"], pt["expected"], rtol=1e-10), "Poisson: obs != exp"
    assert (pt["sandwich"] > pt["observed"]).all(), "Poisson: sandwich not above observed"
    assert (pt["opg"] < pt["observed"]).all(), "Poisson: OPG not below observed"
    coefs = [i for i in nt.index if i != "alpha"]
    assert ((nt["sandwich"] / nt["observed"] - 1).abs()[coefs].max()
            < (pt["sandwich"] / pt["observed"] - 1).abs().max()), "NB2 sandwich not closer"
    assert not np.allclose(nt["observed"], nt["expected"], rtol=1e-3), "NB2: obs == exp"
    assert r["poisson_im"]["p_value"] > 0.05 and r["lr_p"] < 0.01
    assert r["randhie_im"]["p_value"] < 1e-6
    assert r["curvature"].classification == "maximum"
    cov = r["coverage"]
    assert (cov["table"]["coverage, observed"] - 0.95).abs().max() < 3 * cov["mc_se"]
    assert (cov["table"]["coverage, sandwich"] < cov["table"]["coverage, observed"]).all()


def write_markdown(r: dict, path: Path, figure: Path) -> None:
    poisson, negbin = r["poisson"], r["negbin"]
    cov_table = r["coverage"]["table"]
    cov_obs_min, cov_obs_max = (cov_table["coverage, observed"].min(),
                                cov_table["coverage, observed"].max())
    cov_sand_min, cov_sand_max = (cov_table["coverage, sandwich"].min(),
                                  cov_table["coverage, sandwich"].max())
    pt, nt = r["poisson_table"], r["negbin_table"]
    ratio = pt["sandwich"] / pt["observed"]
    nb_diff = (nt["expected"] / nt["observed"] - 1.0).abs()
    pim, nim, rim = r["poisson_im"], r["negbin_im"], r["randhie_im"]
    plan_n, plan_se = r["plan_n"], r["plan_se"]
    n_focus = int(plan_se.loc[FOCUS, "n_needed"])
    robust_inflation = (pt.loc[FOCUS, "sandwich"] / pt.loc[FOCUS, "expected"]) ** 2
    md = f"""# Standard errors four ways

*Generated by `vignettes/standard_errors.py`; every number below is computed by that script.*

A maximum-likelihood fit gives one estimate and several defensible standard errors. fisherkit
computes four from the same fit, without refitting, plus a cluster-robust fifth:

- **observed**: the inverse of minus the Hessian of the log-likelihood at the estimate
  (Stata's `oim`);
- **expected**: the inverse of the Fisher information, the expectation of minus the Hessian
  under the fitted model (what R's `glm` reports, before any dispersion factor);
- **opg**: the inverse of the outer product of the per-observation scores (BHHH);
- **sandwich**: `H^-1 (sum_i s_i s_i') H^-1` (Huber, 1967; White, 1982), which stays valid
  when the model's distribution is wrong but its estimating equations are right;
- **cluster**: the sandwich with scores summed within clusters, times `G / (G - 1)` as in
  Stata's `vce(cluster)`.

## The data

The ships data (McCullagh and Nelder, 1989, sec. 6.3.2) count damage incidents of cargo ships
by ship type, period of construction and period of operation, with the aggregate months of
service as exposure. The file has {len(r["ships"])} rows; {poisson.n_dropped} miss the
count and the exposure and are dropped (as Stata does), leaving {poisson.n_obs} rows from
{len(np.unique(r["ships"]["ship"]))} ship types. The model is

```
accident ~ yr_con + op_75_79,  offset = log(service)
```

## A Poisson fit, five standard errors

```python
res = fk.fit("{FORMULA}", data=ships, family="poisson",
             offset=np.log(ships["service"]), cluster="ship")
res.se_table()
```

Estimates: {", ".join(f"`{k}` {v:.4f}" for k, v in poisson.params.items())}
(log-likelihood {poisson.loglik:.4f}). Standard errors:

{markdown_table(pt)}

**Observed and expected agree** (largest relative difference
{np.max(np.abs(pt["observed"] / pt["expected"] - 1)):.1e}): the log link is canonical for
the Poisson, so the Hessian does not involve the outcome and equals its expectation. Efron
and Hinkley (1978) argue that, when the two differ, the observed information is the better
guide to the precision of the estimate at hand (it is closer to the conditional variance
given an ancillary statistic); for a canonical link there is nothing to choose.

**The sandwich is larger**, by a factor of {ratio.min():.2f} to {ratio.max():.2f}
(largest for `{ratio.idxmax()}`). The observed and expected information both assume the
Poisson variance `Var(y) = mu`; the sandwich estimates the variance of the score from the
data instead. When the counts vary more than a Poisson allows, the model-based standard errors
are too small and the sandwich is the one to report (White, 1982): the Poisson estimates of
the coefficients remain consistent if the mean is right, but their model-based precision does
not.

**The OPG** uses only the squared scores. It estimates the same matrix as the observed
information when the model is right, with more noise. Under over-dispersion the squared scores
are larger than the Poisson expects, so the OPG information is too large and its standard
errors ({(pt["opg"] / pt["observed"]).min():.2f} to {(pt["opg"] / pt["observed"]).max():.2f}
times the observed ones here) are too small: the OPG is the meat of the sandwich, not a
robust estimate on its own.

**The cluster-robust** standard errors allow any correlation within a ship type. With only
{r["n_clusters"]} ship types they rest on {r["n_clusters"]} summed scores and are themselves
very uncertain (Cameron and Miller, 2015); they are reported for completeness, not recommended here.

## The information-matrix test

White's (1982) test asks whether the information-matrix equality `E[H_i + s_i s_i'] = 0`
holds, element by element; fisherkit computes it in the outer-product form (Chesher, 1983;
Lancaster, 1984).

```python
res.information_matrix_test()
```

| | Poisson, ships | NB2, ships | Poisson, RAND HIE |
|---|---|---|---|
| statistic | {pim["statistic"]:.3f} | {nim["statistic"]:.3f} | {rim["statistic"]:.1f} |
| df | {pim["df"]} | {nim["df"]} | {rim["df"]} |
| p_value | {pim["p_value"]:.3f} | {nim["p_value"]:.3f} | {rim["p_value"]:.1e} |
| n_obs | {poisson.n_obs} | {negbin.n_obs} | {r["randhie"].n_obs} |

For the Poisson fit on ships it says:

> {pim["conclusion"]}

That sentence should be read with the sample size in mind. With {poisson.n_obs} rows and
{pim["df"]} indicators the test has little power: the likelihood-ratio test of the Poisson
against the negative binomial (NB2, `Var = mu + alpha mu^2`) gives LR = {r["lr"]:.2f}, p =
{r["lr_p"]:.1e} (half a chi-square(1) tail, because `alpha = 0` is on the boundary), a clear
sign of over-dispersion that the information-matrix test did not detect at 5%. On the RAND
Health Insurance Experiment ({r["randhie"].n_obs} person-years of doctor visits) the same test
of a Poisson model rejects with p = {rim["p_value"]:.1e}:

> {rim["conclusion"]}

and there the sandwich standard errors are {r["randhie_ratio"].min():.2f} to
{r["randhie_ratio"].max():.2f} times the observed ones. Also bear in mind that the OPG form
over-rejects in moderate samples (Chesher and Spady, 1991). Simulating {SIZE_SETS} correctly
specified Poisson data sets of n = {SIZE_N} (`log mu = 0.5 + 0.5 x`, x standard normal), the
test rejected {100 * r["im_size"]:.1f}% of them at the 5% level (Monte Carlo standard error
{100 * np.sqrt(r["im_size"] * (1 - r["im_size"]) / SIZE_SETS):.1f} points), so a marginal
rejection is weak evidence.

## A negative binomial fit: observed and expected part ways

The NB2 model takes the over-dispersion into the likelihood (alpha = {negbin.params["alpha"]:.4f},
se {negbin.se["alpha"]:.4f}).

{markdown_table(nt)}

Now the observed and expected columns differ, by up to {100 * nb_diff.max():.1f}%
(`{nb_diff.idxmax()}`): the log link is not the canonical link of the negative binomial, so
the Hessian depends on the outcome. fisherkit's expected information for NB2 has no closed
form for alpha; it is summed exactly over the count outcome. Efron and Hinkley's argument
favours the observed column. The sandwich is now much closer to the model-based standard
errors than under the Poisson model, as it should be when the variance is modelled well.

## Curvature

```python
print(res.curvature())
```

For the NB2 fit:

```
{r["curvature"]}
```

Eigenvalues of the Jacobi-scaled information (unit diagonal, so units do not matter):
{", ".join(f"{v:.3g}" for v in r["curvature"].eigenvalues)}. All are positive, so the
estimate is a maximum and every parameter is identified; a zero eigenvalue would be reported as
a named combination of parameters (for example `-x1 - x2 + x3 is not identified` for a design
with `x3 = x1 + x2`) and those standard errors would be NaN.

## Planning a study: Cramér-Rao

The expected information per observation, taken from these data, gives the Cramér-Rao
standard errors at another sample size: `se(n) = se_expected * sqrt(n_obs / n)`. At four times
the sample ({4 * poisson.n_obs} ship-period rows) every Poisson standard error halves:

```python
res.plan(n={4 * poisson.n_obs})
```

{markdown_table(plan_n)}

and the size needed for a target standard error of {TARGET_SE}:

```python
res.plan(se={TARGET_SE})
```

{markdown_table(plan_se.astype({"n_needed": int}))}

To estimate the `{FOCUS}` effect to ±{1.96 * TARGET_SE:.2f} (95%) under the Poisson model, about
{n_focus} rows like these are needed. The plan trusts the model's variance: if the sandwich is
right, the variance is {robust_inflation:.2f} times larger and so is the sample needed (about
{int(np.ceil(n_focus * robust_inflation))} rows).

## Coverage and the Cramér-Rao bound, by simulation

Do the intervals mean what they say? {r["coverage"]["n_sets"]} data sets drawn from the fitted
Poisson model, on the same {poisson.n_obs} ship-periods and exposures, each refitted; the
share of 95% Wald intervals that cover the true coefficient (Monte Carlo standard error
{r["coverage"]["mc_se"]:.3f}), and the standard deviation of the estimates across data sets
against the Cramér-Rao standard error (the inverse expected information at the truth):

{markdown_table(r["coverage"]["table"])}

**The observed-information intervals cover {cov_obs_min:.1%} to {cov_obs_max:.1%}** of the
time, within about two Monte Carlo standard errors of 95%, and the estimates scatter as the
Cramér-Rao bound says they should (ratios near 1): with the model right, its information
is the variance. The sandwich intervals, which do not trust the model, pay for it with
{poisson.n_obs} rows: they cover less ({cov_sand_min:.1%} to {cov_sand_max:.1%}), the known
small-sample bias of the sandwich (Kauermann and Carroll, 2001).

## Which standard error when

![Standard errors by kind, relative to the observed information]({figure.as_posix()})

- The model is believed, the link is canonical: observed = expected; report either.
- The model is believed, the link is not canonical (probit, NB2, gamma with a log link): the
  observed information (Efron and Hinkley, 1978); the expected one is what R's `glm` reports
  and is the right input to planning.
- The variance or distribution may be wrong but the mean is right: the sandwich (White, 1982);
  the information-matrix test is one check, with little power in small samples.
- Observations are grouped and may be correlated within groups: cluster-robust, given enough
  groups (Cameron and Miller, 2015).
- The OPG alone is a cheap estimate of the information, not a robust one (Kunstner, Balles
  and Hennig, 2019, on the "empirical Fisher").

### References

- Cameron, A. C. and Miller, D. L. (2015). A practitioner's guide to cluster-robust inference.
  *Journal of Human Resources* 50.
- Cameron, A. C. and Trivedi, P. K. (2013). *Regression Analysis of Count Data*, 2nd ed.
- Chesher, A. and Spady, R. (1991). Asymptotic expansions of the information matrix test
  statistic. *Econometrica* 59.
- Chesher, A. (1983). The information matrix test: simplified calculation via a score test
  interpretation. *Economics Letters* 13.
- Efron, B. and Hinkley, D. V. (1978). Assessing the accuracy of the maximum likelihood
  estimator: observed versus expected Fisher information. *Biometrika* 65.
- Huber, P. J. (1967). The behavior of maximum likelihood estimates under nonstandard
  conditions. *Proc. Fifth Berkeley Symposium* 1.
- Kauermann, G. and Carroll, R. J. (2001). A note on the efficiency of sandwich covariance
  matrix estimation. *Journal of the American Statistical Association* 96.
- Kunstner, F., Balles, L. and Hennig, P. (2019). Limitations of the empirical Fisher
  approximation. *NeurIPS*.
- Lancaster, T. (1984). The covariance matrix of the information matrix test. *Econometrica* 52.
- McCullagh, P. and Nelder, J. A. (1989). *Generalized Linear Models*, 2nd ed.
- White, H. (1982). Maximum likelihood estimation of misspecified models. *Econometrica* 50.
"""
    path.write_text(md)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=Path(__file__).resolve().parent,
                        help="where standard_errors.md and figures/ go "
                             "(default: beside this script)")
    args = parser.parse_args(argv)
    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", fk.FisherkitWarning)  # a numerical problem stops it
        results = compute()
    check_claims(results)
    figure = Path("figures") / "standard_errors.png"
    draw_figure(results, out / figure)
    write_markdown(results, out / "standard_errors.md", figure)


if __name__ == "__main__":
    main()
