"""A user-written logit likelihood: fisherkit.fit_likelihood against statsmodels
GenericLikelihoodModel (Newton), with standard errors checked against the analytic logit.

Run ``python benchmarks/bench_likelihood.py`` (n = 200,000, p = 20) to print the row;
``--quick`` runs a small size. Times are medians of ``--repeats`` runs in one process
(statsmodels is run ``--sm-repeats`` times, by default once, as it is slow).
"""

from __future__ import annotations

import argparse
import time

import autograd.numpy as anp
import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.base.model import GenericLikelihoodModel

import fisherkit as fk


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


def _median(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


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

    t_fk, (res_fk, se_fk) = _median(fisherkit_fit, repeats)
    t_sm, (res_sm, se_sm) = _median(statsmodels_fit, sm_repeats)
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--p", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sm-repeats", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args(argv)
    row = run(5_000, 5, 1) if args.quick else run(args.n, args.p, args.repeats, args.sm_repeats)
    print(pd.Series(row).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
