"""A user-written logit likelihood: fisherkit.fit_likelihood against statsmodels
GenericLikelihoodModel (Newton), with standard errors checked against the analytic logit.

Run ``python benchmarks/bench_likelihood.py`` (n = 200,000, p = 20) to print its table;
``benchmarks/run.py`` runs it with the others and writes ``benchmarks/RESULTS.md``.
``--quick`` runs a small size. Times are medians of ``--repeats`` runs in one process
(statsmodels' ``--sm-repeats``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import autograd.numpy as anp
import numpy as np
import statsmodels.api as sm
from statsmodels.base.model import GenericLikelihoodModel

import fisherkit as fk

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_logit import median_time  # noqa: E402


def make_data(n: int, p: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    beta = rng.normal(scale=0.2, size=p)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ beta)))).astype(float)
    return X, y


def logit_loglik_obs(beta, data):
    eta = data["X"] @ beta
    return data["y"] * eta - anp.logaddexp(0.0, eta)


class _UserLogit(GenericLikelihoodModel):
    def loglikeobs(self, params):
        eta = self.exog @ params
        return self.endog * eta - np.logaddexp(0.0, eta)


def run(n: int, p: int, repeats: int, sm_repeats: int = 1) -> dict:
    X, y = make_data(n, p)
    data = {"X": X, "y": y}

    def fisherkit_fit():
        res = fk.fit_likelihood(fk.Likelihood(logit_loglik_obs, data, start=np.zeros(p)))
        return res, res.se.to_numpy()

    def statsmodels_fit():
        res = _UserLogit(y, X).fit(start_params=np.zeros(p), method="newton", disp=0,
                                   maxiter=100)
        return res, np.asarray(res.bse)

    t_fk, (res_fk, se_fk) = median_time(fisherkit_fit, repeats, warmup=True)
    t_sm, (res_sm, se_sm) = median_time(statsmodels_fit, sm_repeats)
    analytic = sm.Logit(y, X).fit(disp=0, tol=1e-12)
    se_analytic = np.asarray(analytic.bse)
    return {
        "n": n, "p": p, "fisherkit_s": t_fk, "statsmodels_generic_newton_s": t_sm,
        "speedup": t_sm / t_fk,
        "max_rel_se_diff_fisherkit_vs_analytic":
            float(np.max(np.abs(se_fk - se_analytic) / se_analytic)),
        "max_rel_se_diff_statsmodels_generic_vs_analytic":
            float(np.max(np.abs(se_sm - se_analytic) / se_analytic)),
        "max_rel_param_diff_fisherkit_vs_analytic":
            float(np.max(np.abs(res_fk.params.to_numpy() - analytic.params)
                         / np.abs(analytic.params))),
    }


TITLE = "## A user-written likelihood against GenericLikelihoodModel"


def section(row: dict, repeats: int, sm_repeats: int) -> str:
    """The user-likelihood table, for ``benchmarks/run.py``."""
    return f"""{TITLE}

n = {row['n']:,}, p = {row['p']}, the logit written by hand as `y eta - log(1 + e^eta)`
(`anp.logaddexp`); fisherkit `fk.fit_likelihood(fk.Likelihood(...))` then `.se`, median of
{repeats} after one untimed run (the Hessian of the total by autograd, {row['p']} reverse
passes); statsmodels `GenericLikelihoodModel.fit(method="newton")` then `.bse` (numerical
derivatives), median of {sm_repeats}. The analytic reference is statsmodels `Logit`.

| quantity | value |
| --- | --- |
| GenericLikelihoodModel (Newton) / fisherkit | {row['speedup']:.1f} |
| fisherkit seconds | {row['fisherkit_s']:.3f} |
| GenericLikelihoodModel seconds | {row['statsmodels_generic_newton_s']:.3g} |
| largest relative se difference, fisherkit vs analytic `Logit` | {row['max_rel_se_diff_fisherkit_vs_analytic']:.1e} |
| largest relative se difference, GenericLikelihoodModel vs analytic `Logit` | {row['max_rel_se_diff_statsmodels_generic_vs_analytic']:.1e} |
| largest relative param difference, fisherkit vs analytic `Logit` | {row['max_rel_param_diff_fisherkit_vs_analytic']:.1e} |
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--p", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sm-repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        print(section(run(5_000, 5, 1), 1, 1))
    else:
        print(section(run(args.n, args.p, args.repeats, args.sm_repeats), args.repeats,
                      args.sm_repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
