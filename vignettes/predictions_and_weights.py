"""After the fit: predictions with intervals, residuals, observation weights and saving a result.

Run ``python vignettes/predictions_and_weights.py`` to write ``predictions_and_weights.md``
and ``figures/predictions_and_weights.png`` next to this script, or give ``--output-dir DIR``
to write them under ``DIR``. Every number in the Markdown is computed here; none is typed by
hand. Stata's numbers come from the results statsmodels ships with its own tests.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import statsmodels.api as sm  # noqa: E402
import statsmodels.genmod.tests.results.results_glm_poisson_weights as stata  # noqa: E402
from scipy import special, stats  # noqa: E402
from statsmodels.datasets.cpunish import load as load_cpunish  # noqa: E402

import fisherkit as fk  # noqa: E402
from _render import markdown_table, output_dir  # noqa: E402

SPECTOR = "GRADE ~ GPA + TUCE + PSI"
COVARIATES = ["GPA", "TUCE", "PSI"]
GRID = np.linspace(2.0, 4.0, 81)
SHOWN_GPA = [2.0, 2.5, 3.0, 3.5, 4.0]
RESIDUAL_KINDS = ["response", "pearson", "deviance", "anscombe", "working"]
CPUNISH = "EXECUTIONS ~ INCOME + PERPOVERTY + PERBLACK + LN_VC100k96 + SOUTH + DEGREE"
CPUNISH_WEIGHTS = [1, 1, 1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 2, 2, 2, 3, 3]
WEIGHT_TYPES = ["frequency", "analytic", "probability"]
# the default covariance of each weighted fit, and Stata's run with the same one
STATA_RUNS = {"frequency": stata.results_poisson_fweight_nonrobust,
              "analytic": stata.results_poisson_aweight_nonrobust,
              "probability": stata.results_poisson_pweight_nonrobust}


def grid_frame(spector: pd.DataFrame) -> pd.DataFrame:
    """Students not taught by PSI, at the average TUCE score, over a range of GPA."""
    return pd.DataFrame({"GPA": GRID, "TUCE": spector["TUCE"].mean(), "PSI": 0.0})


def statsmodels_predictions(spector, grid):
    """The same logit by statsmodels: its GLM's prediction frame over the grid, and the
    Logit model's average prediction (the mean-scale average; the linear one through the
    mean row, since the mean of x'b is x-bar'b)."""
    X = sm.add_constant(spector[COVARIATES])
    glm = sm.GLM(spector["GRADE"], X, family=sm.families.Binomial()).fit(tol=1e-12)
    frame = glm.get_prediction(sm.add_constant(grid[COVARIATES], has_constant="add"))
    logit = sm.Logit(spector["GRADE"], X).fit(method="newton", tol=1e-12, disp=0)
    average = logit.get_prediction(average=True).summary_frame().iloc[0]
    mean_row = X.mean().to_frame().T
    linear = logit.get_prediction(mean_row, which="linear").summary_frame().iloc[0]
    return frame.summary_frame(), average, linear


def predictions(spector) -> dict:
    res = fk.fit(SPECTOR, data=spector, family="logit")
    grid = grid_frame(spector)
    response = res.predict(grid, scale="response")
    link = res.predict(grid, scale="link")
    z = stats.norm.ppf(0.975)
    naive = pd.DataFrame({"ci_lower": response["estimate"] - z * response["se"],
                          "ci_upper": response["estimate"] + z * response["se"]})
    sm_grid, sm_average, sm_linear = statsmodels_predictions(spector, grid)
    shown = np.isin(np.round(GRID, 6), SHOWN_GPA)
    table = pd.DataFrame({
        "GPA": GRID[shown],
        "eta": link["estimate"][shown], "se(eta)": link["se"][shown],
        "p": response["estimate"][shown], "se(p)": response["se"][shown],
        "ci_lower": response["ci_lower"][shown], "ci_upper": response["ci_upper"][shown],
        "naive lower": naive["ci_lower"][shown], "naive upper": naive["ci_upper"][shown],
        "statsmodels ci_lower": sm_grid["mean_ci_lower"].to_numpy()[shown],
        "statsmodels ci_upper": sm_grid["mean_ci_upper"].to_numpy()[shown],
    }).set_index("GPA")
    table.index = [f"{g:.1f}" for g in table.index]
    averages = pd.DataFrame({
        "fisherkit estimate": [res.predict(average=True)["estimate"].iloc[0],
                               res.predict(scale="link", average=True)["estimate"].iloc[0]],
        "statsmodels estimate": [sm_average["predicted"], sm_linear["predicted"]],
        "fisherkit se": [res.predict(average=True)["se"].iloc[0],
                         res.predict(scale="link", average=True)["se"].iloc[0]],
        "statsmodels se": [sm_average["se"], sm_linear["se"]],
    }, index=["response (probability)", "link (log-odds)"])
    return {
        "res": res, "grid": grid, "response": response, "link": link, "naive": naive,
        "table": table, "averages": averages,
        # the response interval is the link interval through the inverse link
        "transform_gap": float(np.max(np.abs(special.expit(link[["ci_lower", "ci_upper"]])
                                             - response[["ci_lower", "ci_upper"]]).to_numpy())),
        "statsmodels_gap": float(np.max(np.abs(
            sm_grid[["mean", "mean_se", "mean_ci_lower", "mean_ci_upper"]].to_numpy()
            - response[["estimate", "se", "ci_lower", "ci_upper"]].to_numpy()))),
        "n_below": int(np.sum(naive["ci_lower"] < 0)),
        "n_above": int(np.sum(naive["ci_upper"] > 1)),
        "naive_min": float(naive["ci_lower"].min()),
        "naive_max": float(naive["ci_upper"].max()),
        "share_passed": float(spector["GRADE"].mean()),
    }


def residual_tables(res, spector) -> dict:
    frame = pd.DataFrame({kind: res.residuals(kind) for kind in RESIDUAL_KINDS})
    fitted = res.predict()["estimate"]
    head = pd.concat([spector[["GRADE"]], fitted.rename("fitted"), frame], axis=1).head(6)
    head.index = [f"student {i + 1}" for i in head.index]
    return {"frame": frame, "fitted": fitted, "head": head,
            "deviance": float(np.sum(frame["deviance"] ** 2)),
            "pearson_chi2": float(np.sum(frame["pearson"] ** 2))}


def cpunish_data() -> pd.DataFrame:
    """The cpunish data as statsmodels' weighted Poisson tests use them (after Stata's
    do-file): log of violent crime per 100,000, and the made-up weights 1, 1, 1, 2, 2, 2, ...
    The covariates are rounded to float32, as Stata stored them."""
    df = pd.DataFrame(load_cpunish().data)
    df["LN_VC100k96"] = np.log(df["VC100k96"])
    covariates = ["INCOME", "PERPOVERTY", "PERBLACK", "LN_VC100k96", "SOUTH", "DEGREE"]
    df[covariates] = df[covariates].astype(np.float32).astype(float)
    df["w"] = CPUNISH_WEIGHTS
    return df


def stata_order(column: np.ndarray) -> np.ndarray:
    """Stata lists the constant last; fisherkit lists it first."""
    return np.r_[column[-1], column[:-1]]


def weights() -> dict:
    df = cpunish_data()
    fits = {kind: fk.fit(CPUNISH, df, "poisson", weights="w", weight_type=kind)
            for kind in WEIGHT_TYPES}
    names = fits["frequency"].params.index
    estimates = pd.DataFrame({
        f"{kind}": fits[kind].params for kind in WEIGHT_TYPES}, index=names)
    estimates["Stata"] = stata_order(STATA_RUNS["frequency"].params_table[:, 0])
    ses = pd.DataFrame(index=names)
    for kind in WEIGHT_TYPES:
        ses[f"{kind}"] = fits[kind].se
        ses[f"{kind}, Stata"] = stata_order(STATA_RUNS[kind].params_table[:, 1])
    fit_rows = {}
    for kind in WEIGHT_TYPES:
        n, _, loglik, _, aic, bic = STATA_RUNS[kind].infocrit
        f = fits[kind]
        fit_rows[kind] = {"cov": f.cov_type, "n_obs": str(f.n_obs), "n_obs, Stata": str(int(n)),
                          "loglik": f.loglik, "loglik, Stata": loglik,
                          "aic": f.aic, "aic, Stata": aic, "bic": f.bic, "bic, Stata": bic}
    try:
        fits["probability"].with_cov("observed")
        refusal = None
    except fk.SpecificationError as error:
        refusal = str(error)
    replicated = df.loc[df.index.repeat(df["w"])].reset_index(drop=True)
    long = fk.fit(CPUNISH, replicated, "poisson")
    freq = fits["frequency"]
    robust_ratio = {kind: fits[kind].with_cov("robust").se / fits[kind].with_cov("HC0").se
                    for kind in ("frequency", "probability")}
    return {
        "df": df, "fits": fits, "estimates": estimates, "ses": ses,
        "fit_table": pd.DataFrame(fit_rows).T, "refusal": refusal,
        "n_replicated": len(replicated),
        "replication_gap": {
            "estimates": float((freq.params - long.params).abs().max()),
            "se": float((freq.se - long.se).abs().max()),
            "sandwich se": float((freq.with_cov("sandwich").se
                                  - long.with_cov("sandwich").se).abs().max()),
            "loglik": abs(freq.loglik - long.loglik)},
        "robust_ratio": robust_ratio,
        "robust_hc1_gap": float((freq.with_cov("robust").se
                                 / stata_order(stata.results_poisson_fweight_hc1
                                               .params_table[:, 1]) - 1).abs().max()),
    }


def saving(res, grid) -> dict:
    blob = pickle.dumps(res)
    again = pickle.loads(blob)
    before, after = res.predict(grid), again.predict(grid)
    return {"bytes": len(blob),
            "predict_gap": float(np.max(np.abs(before.to_numpy() - after.to_numpy()))),
            "se_gap": float((res.se - again.se).abs().max()),
            "cov_type": again.cov_type}


def compute() -> dict:
    spector = fk.datasets.load("spector")
    out = {"spector": spector}
    out.update(predictions(spector))
    out["residuals"] = residual_tables(out["res"], spector)
    out["weights"] = weights()
    out["saving"] = saving(out["res"], out["grid"])
    return out


def check_claims(r: dict) -> None:
    """The prose below states these; refuse to write it if the numbers say otherwise."""
    response = r["response"]
    assert ((response["ci_lower"] > 0) & (response["ci_upper"] < 1)).all()
    assert r["n_below"] > 0 and r["n_above"] > 0
    assert r["transform_gap"] < 1e-12 and r["statsmodels_gap"] < 1e-8
    averages = r["averages"]
    assert np.allclose(averages["fisherkit estimate"], averages["statsmodels estimate"],
                       rtol=1e-8)
    assert np.allclose(averages["fisherkit se"], averages["statsmodels se"], rtol=1e-6)
    assert abs(averages["fisherkit estimate"].iloc[0] - r["share_passed"]) < 1e-10
    assert abs(r["residuals"]["deviance"] + 2 * r["res"].loglik) < 1e-8
    w = r["weights"]
    assert w["refusal"] is not None and "pseudo-log-likelihood" in w["refusal"]
    assert max(w["replication_gap"].values()) < 1e-9
    est = w["estimates"]
    assert np.allclose(est[WEIGHT_TYPES].to_numpy(), est[["frequency"]].to_numpy(), rtol=1e-10)
    for kind in WEIGHT_TYPES:
        assert np.allclose(w["ses"][kind], w["ses"][f"{kind}, Stata"], rtol=1e-5)
        assert np.allclose(STATA_RUNS[kind].params_table[:, 0],
                           STATA_RUNS["frequency"].params_table[:, 0], rtol=1e-12)
    n_freq, n_rows = w["fits"]["frequency"].n_obs, len(w["df"])
    ratio = w["ses"]["analytic"] / w["ses"]["frequency"]
    assert np.allclose(ratio, np.sqrt(n_freq / n_rows), rtol=1e-8)
    for kind, n in (("frequency", n_freq), ("probability", n_rows)):
        assert np.allclose(w["robust_ratio"][kind], np.sqrt(n / (n - 1)), rtol=1e-12)
    assert r["saving"]["predict_gap"] == 0.0


def draw(r: dict, out: Path) -> Path:
    """Left: the interval of a probability two ways. Right: residuals against fitted."""
    figure = Path("figures") / "predictions_and_weights.png"
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    response, naive = r["response"], r["naive"]
    left.fill_between(GRID, response["ci_lower"], response["ci_upper"], color="#2b83ba",
                      alpha=0.3, label="inverse logit of the link-scale interval")
    left.plot(GRID, response["estimate"], color="#2b83ba", label="predicted probability")
    left.plot(GRID, naive["ci_lower"], color="#d7191c", linestyle="--",
              label="naive p -/+ 1.96 se(p)")
    left.plot(GRID, naive["ci_upper"], color="#d7191c", linestyle="--")
    for edge in (0.0, 1.0):
        left.axhline(edge, color="black", linewidth=0.8)
    untaught = r["spector"][r["spector"]["PSI"] == 0]
    left.plot(untaught["GPA"], untaught["GRADE"], "|", color="#444444", markersize=10,
              label="students without PSI (grade improved = 1)")
    left.set_xlabel("GPA (TUCE at its mean, PSI = 0)")
    left.set_ylabel("P(grade improved)")
    left.set_title("95% intervals for a probability")
    left.legend(frameon=False, fontsize=8, loc="center left")

    res_frame, fitted = r["residuals"]["frame"], r["residuals"]["fitted"]
    grade = r["spector"]["GRADE"].to_numpy()
    for kind, marker, colour in (("deviance", "o", "#2b83ba"), ("pearson", "x", "#d7191c")):
        right.scatter(fitted, res_frame[kind], marker=marker, color=colour, label=kind,
                      s=22)
    right.axhline(0.0, color="black", linewidth=0.8)
    right.set_xlabel("fitted probability")
    right.set_ylabel("residual")
    right.set_title(f"Residuals against fitted (n = {len(grade)})")
    right.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(out / figure, dpi=120)
    plt.close(fig)
    return figure


def write(r: dict, out: Path, figure: Path) -> None:
    res, table, averages = r["res"], r["table"], r["averages"]
    resid, w, saved = r["residuals"], r["weights"], r["saving"]
    gaps = w["replication_gap"]
    n_freq = w["fits"]["frequency"].n_obs
    n_rows = len(w["df"])
    ratio_f = float(w["robust_ratio"]["frequency"].iloc[0])
    ratio_p = float(w["robust_ratio"]["probability"].iloc[0])
    analytic_ratio = w["ses"]["analytic"] / w["ses"]["frequency"]
    md = f"""# After the fit: predictions, residuals, weights and saving

*Generated by `vignettes/predictions_and_weights.py`; every number below is computed by that
script.*

A fit is rarely the end. This page takes two small real data sets through what usually comes
next: predicted probabilities with intervals that respect the range of a probability, the
average prediction (Stata's `margins`), residuals, fits with observation weights of the three
kinds Stata knows, and saving a result to use later. Where statsmodels or Stata's published
output has the same number, it is printed beside fisherkit's.

## Predictions with intervals

The Spector and Mazzeo (1980) data: did the grade of {len(r["spector"])} students improve
after a new teaching method (PSI), given their grade point average (GPA) and a pre-test
score (TUCE)?

```python
spector = fk.datasets.load("spector")
res = fk.fit("{SPECTOR}", data=spector, family="logit")
grid = pd.DataFrame({{"GPA": np.linspace(2.0, 4.0, {len(GRID)}), "TUCE": spector["TUCE"].mean(),
                     "PSI": 0.0}})
res.predict(grid, scale="link")       # eta = x'b, se from x' C x
res.predict(grid, scale="response")   # p = 1 / (1 + exp(-eta)), the default
```

Both return `estimate`, `se`, `ci_lower` and `ci_upper`, one row per row of `grid`. The
link-scale interval is `eta -/+ z se(eta)`. The response-scale standard error is the delta
method, `se(p) = p (1 - p) se(eta)`, but the response-scale **interval is not**
`p -/+ z se(p)`: it is the link-scale interval carried through the inverse link, which
cannot leave (0, 1). A few points of the grid:

{markdown_table(table, digits=4)}

The naive interval `p -/+ 1.96 se(p)` reaches below zero at {r["n_below"]} of the
{len(GRID)} grid points (down to {r["naive_min"]:.3f}) and above one at {r["n_above"]} (up
to {r["naive_max"]:.3f}): at a low GPA the probability is near zero, its standard error is
of the same size, and a symmetric interval around it makes no sense. The transformed
interval is asymmetric where it should be and always inside (0, 1). It is exactly the
inverse logit of the link-scale limits (largest difference {r["transform_gap"]:.1e}), and
it agrees with statsmodels' `GLM(..., family=Binomial()).get_prediction(grid).summary_frame()`
(columns `mean`, `mean_se`, `mean_ci_lower`, `mean_ci_upper`) to {r["statsmodels_gap"]:.1e}
over the whole grid.

![Predicted probability with the transformed and the naive interval; residuals against
fitted]({figure.as_posix()})

### The average prediction: Stata's `margins`

`average=True` gives one row, the mean of the predictions over the fitted rows (or over the
rows given), with its delta-method standard error and a Wald interval:

```python
res.predict(average=True)                 # Stata: margins
res.predict(scale="link", average=True)   # Stata: margins, predict(xb)
```

{markdown_table(averages, digits=6)}

The statsmodels numbers are `Logit(...).get_prediction(average=True).summary_frame()` for
the probability and, for the log-odds, `get_prediction(x_bar, which="linear")` at the mean
row (the mean of `x'b` is `x_bar'b`). The average predicted probability,
{averages["fisherkit estimate"].iloc[0]:.5f}, is the share of students whose grade improved
({int(r["spector"]["GRADE"].sum())} of {len(r["spector"])}): a logit with an intercept
reproduces the sample mean, because its score equation for the intercept is
`sum (y_i - p_i) = 0`.

## Residuals

`res.residuals(kind)` gives a Series over the fitted rows, by the conventions of Stata's
`glm` (McCullagh and Nelder, 1989, sec. 2.4): `response` is `y - p`, `pearson` divides it by
`sqrt(p (1 - p))`, `deviance` is `sign(y - p) sqrt(d_i)` with `d_i` the unit deviance,
`anscombe` is McCullagh and Nelder's variance-stabilized residual, and `working` is
`(y - p) d eta / d p`, the residual of the last IRLS step.

```python
pd.DataFrame({{kind: res.residuals(kind) for kind in
              ["response", "pearson", "deviance", "anscombe", "working"]}})
```

The first six students:

{markdown_table(resid["head"], digits=4)}

The squared deviance residuals add up to the deviance, {resid["deviance"]:.4f}, which for
0/1 outcomes is `-2 loglik` ({-2 * res.loglik:.4f}: the saturated model's log-likelihood is
zero); the squared Pearson residuals add up to Pearson's chi-square, {resid["pearson_chi2"]:.4f}.
With binary outcomes, residuals against the fitted values fall on two curves, one for
`y = 0` (below zero) and one for `y = 1` (above); the right panel of the figure shows them,
and a binary model's residual plot is read for points far from the rest, not for a pattern.

## Observation weights

fisherkit takes the three kinds of weight Stata has, with `weights=` (a column or an array)
and `weight_type=`, which has no default because the three mean different things. Each
multiplies its row's log-likelihood, so the **estimates are the same** under all three; what
differs is what the weights stand for, and so `n_obs` and which standard errors are valid.
The data are the {n_rows} US states of statsmodels' `cpunish` (executions in 1997), with the
weights statsmodels' tests give them ({", ".join(str(v) for v in CPUNISH_WEIGHTS)}) and
Stata's results for those fits, quoted in
`statsmodels/genmod/tests/results/results_glm_poisson_weights.py`:

Stata held the covariates as `float` (single precision), so they are rounded the same way
here; unrounded, the estimates would differ from Stata's in the seventh digit.

```python
df["LN_VC100k96"] = np.log(df["VC100k96"])
covariates = ["INCOME", "PERPOVERTY", "PERBLACK", "LN_VC100k96", "SOUTH", "DEGREE"]
df[covariates] = df[covariates].astype(np.float32).astype(float)   # as Stata stored them
formula = "{CPUNISH}"
res = fk.fit(formula, df, "poisson", weights="w", weight_type="frequency")
```

- **frequency** (Stata's `fweight`): row `i` stands for `w_i` identical observations, so
  `n_obs` is the sum of the weights, {n_freq}, and every number equals the fit to the
  replicated rows.
- **analytic** (`aweight`): weights inversely proportional to a row's variance, rescaled
  to sum to the number of rows ({n_rows}); the log-likelihood is that of the rescaled
  weights, {w["fits"]["analytic"].loglik:.2f}.
- **probability** (`pweight`): inverse probabilities of selection. The weighted sum is a
  pseudo-log-likelihood, not a likelihood, so the default covariance is `"robust"` and the
  model-based ones are refused.

Estimates under each weight type, and Stata's (the same in its three runs):

{markdown_table(w["estimates"], digits=6)}

Standard errors, each with its default covariance (observed information for frequency and
analytic weights, `"robust"` for probability weights), beside Stata's `poisson ...
[fweight=w]`, `[aweight=w]` and `[pweight=w]`:

{markdown_table(w["ses"], digits=5)}

and the fit statistics:

{markdown_table(w["fit_table"], digits=7)}

The analytic standard errors are {analytic_ratio.min():.6f} times the frequency ones for
every coefficient, `sqrt({n_freq} / {n_rows})` = {np.sqrt(n_freq / n_rows):.6f}: the same
weights, rescaled from summing to {n_freq} to summing to {n_rows}. The probability-weighted
log-likelihood equals the frequency one (the same unscaled weights), but its BIC uses
`n_obs = {n_rows}`. Asking a probability-weighted fit for a model-based covariance,

```python
res.with_cov("observed")
```

raises `fk.SpecificationError`:

> {w["refusal"]}

**Frequency weights are replicated rows.** Fitting the {w["n_replicated"]} rows of
`df.loc[df.index.repeat(df["w"])]` without weights gives the same fit: the largest
differences are {gaps["estimates"]:.1e} in the estimates, {gaps["se"]:.1e} in the standard
errors, {gaps["sandwich se"]:.1e} in the sandwich standard errors and {gaps["loglik"]:.1e}
in the log-likelihood.

`cov="robust"` is Stata's `vce(robust)` for ML models: the sandwich covariance (HC0) times
`N / (N - 1)`, with `N = n_obs`. Its standard errors are {ratio_f:.6f} times `cov="HC0"`'s
for the frequency-weighted fit (`sqrt({n_freq} / {n_freq - 1})` =
{np.sqrt(n_freq / (n_freq - 1)):.6f}) and {ratio_p:.6f} for the probability-weighted one
(`sqrt({n_rows} / {n_rows - 1})` = {np.sqrt(n_rows / (n_rows - 1)):.6f}), and they match
Stata's `poisson ... [fweight=w], vce(robust)` to {w["robust_hc1_gap"]:.1e} (relative).

## Saving a result

A result pickles with its model and data, so it can be saved and used later without
refitting:

```python
blob = pickle.dumps(res)
again = pickle.loads(blob)
again.predict(grid)
```

The Spector logit takes {saved["bytes"]:,} bytes. After the round trip `again.predict(grid)`
gives the same numbers as `res.predict(grid)` (largest difference over every column:
{saved["predict_gap"]:g}), so do the standard errors (largest difference
{saved["se_gap"]:g}), and the covariance kind is still
`{saved["cov_type"]}`. A model of your own (`fk.Family`, `fk.Likelihood`) pickles when its
functions are defined at the top level of a module; pickle refuses a lambda, naming it.

### References

- McCullagh, P. and Nelder, J. A. (1989). *Generalized Linear Models*, 2nd ed.
- Spector, L. C. and Mazzeo, M. (1980). Probit analysis and economic education. *Journal
  of Economic Education* 11.
- StataCorp. *Stata Base Reference Manual*: `margins`; `predict` after `logit`; weights
  (`help weight`).
"""
    (out / "predictions_and_weights.md").write_text(md)


def main(argv=None) -> None:
    out = output_dir(__doc__, argv)
    with warnings.catch_warnings():
        warnings.simplefilter("error", fk.FisherkitWarning)  # a numerical problem stops it
        r = compute()
    check_claims(r)
    write(r, out, draw(r, out))


if __name__ == "__main__":
    main()
