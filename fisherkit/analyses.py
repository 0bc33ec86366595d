"""The analyses of a fit as methods of :class:`fisherkit.FitResult`.

Each method forwards to a function of :mod:`fisherkit.inference`, which reads only the
result's public attributes (``params``, ``cov``, ``cov_working``, ``theta``, ``model``,
``information``, ``with_cov``, ``expected_options``, ...); the functions document the
formulas and their sources.
"""

from __future__ import annotations

import pandas as pd

from .inference import diagnostics, hypothesis_tests, marginal, predictions, reparam
from .inference import residuals as residual_kinds
from .inference import profile as profiles

__all__ = ["Analyses"]


class Analyses:
    """Tests, intervals, functions of the parameters and diagnostics of a fit; the base of
    :class:`fisherkit.FitResult`, which provides the attributes these methods read."""

    __slots__ = ()

    def information_matrix_test(self, pairs=None) -> pd.Series:
        """White's test, by :func:`fisherkit.inference.diagnostics.information_matrix_test`."""
        return diagnostics.information_matrix_test(self, pairs)

    def curvature(self):
        """The curvature report, by :func:`fisherkit.inference.diagnostics.curvature_report`."""
        return diagnostics.curvature_report(self)

    def plan(self, n=None, se=None) -> pd.DataFrame:
        """Cramér-Rao planning, by :func:`fisherkit.inference.diagnostics.plan_sample_size`."""
        return diagnostics.plan_sample_size(self, n=n, se=se)

    def delta(self, func, *, name=None, alpha: float = 0.05, null=0.0,
              interval: str = "wald", return_cov: bool = False):
        """A function of the parameters, by :func:`fisherkit.inference.reparam.delta_method`.

        >>> import autograd.numpy as anp
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
        >>> res.delta(lambda p: anp.exp(p["GPA"]), name="odds_ratio_GPA").round(3).iloc[0, :2].tolist()
        [16.88, 21.318]
        """
        return reparam.delta_method(func, self.params, self.cov, name=name, alpha=alpha,
                                    null=null, interval=interval, return_cov=return_cov)

    def reparameterize(self, func, *, names=None):
        """This fit in new coordinates, a :class:`fisherkit.inference.reparam.Reparameterized`.

        >>> import autograd.numpy as anp
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="logit")
        >>> new = res.reparameterize(lambda p: [p["Intercept"] + 3 * p["GPA"], p["GPA"]],
        ...                          names=["logit_at_GPA_3", "GPA"])
        >>> list(new.summary().index)
        ['logit_at_GPA_3', 'GPA']
        """
        return reparam.Reparameterized(self, func, names)

    def marginal_effects(self, *, at: str = "overall", method: str = "dydx",
                         dummy: bool = False, count: bool = False, alpha: float = 0.05):
        """Average marginal effects, by :func:`fisherkit.inference.marginal.marginal_effects`.

        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
        >>> res.marginal_effects().round(4).loc["GPA", ["estimate", "se"]].tolist()
        [0.3626, 0.1094]
        """
        return marginal.marginal_effects(self, at=at, method=method, dummy=dummy, count=count,
                                         alpha=alpha)

    def predict(self, data=None, *, scale: str = "response", average: bool = False,
                alpha: float = 0.05, offset=None, random_effects: bool | None = None
                ) -> pd.DataFrame:
        """Predictions with delta-method standard errors and intervals, by
        :func:`fisherkit.inference.predictions.predict`.

        Parameters
        ----------
        data : pandas.DataFrame, optional
            Rows to predict at (by default the fitted rows), built into designs with the
            fit's own formula state; an unseen categorical level is a ``fk.DataError``.
        scale : {"response", "link", "probabilities"}
            The mean of the outcome (the probability per trial for a binomial), the linear
            predictor (Stata's ``xb``, its ``se`` ``stdp``), or, for ordinal families, each
            category's probability (columns by level, then ``se[level]``).
        average : bool
            The mean prediction over the rows and its standard error (Stata's ``margins``).
        alpha : float
            The intervals are ``1 - alpha`` two-sided.
        offset : array-like, optional
            The new rows' offset, when the fit was given its offset as an array.
        random_effects : bool, optional
            Mixed models only: conditional on the groups' modes (True, the default, as
            lme4) or at the population level, the fixed part alone (False). Standard errors
            come from the fixed effects' covariance either way (the modes held fixed).

        Returns
        -------
        pandas.DataFrame
            ``estimate``, ``se``, ``ci_lower``, ``ci_upper`` indexed like ``data``;
            ``attrs["alpha"]``, ``attrs["scale"]`` and ``attrs["n_missing"]`` (rows with a
            missing value in a used column, given NaN rather than dropped).

        Examples
        --------
        >>> import fisherkit as fk
        >>> df = fk.datasets.load("spector")
        >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=df, family="logit")
        >>> res.predict(average=True).round(4)["estimate"].tolist()
        [0.3438]
        """
        return predictions.predict(self, data, scale=scale, average=average, alpha=alpha,
                                   offset=offset, random_effects=random_effects)

    def residuals(self, kind: str = "response") -> pd.Series:
        """Residuals of the fitted rows, by :func:`fisherkit.inference.residuals.residuals`.

        Parameters
        ----------
        kind : str
            ``"response"``, ``"pearson"``, ``"deviance"``, ``"working"``, ``"anscombe"``
            (Stata's ``glm`` conventions; binomial on the count scale), or for censored
            survival families ``"cox_snell"`` and ``"martingale"``.

        Examples
        --------
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
        >>> bool(abs(res.residuals("response").sum()) < 1e-10)
        True
        """
        return residual_kinds.residuals(self, kind)

    def random_effects(self) -> pd.DataFrame:
        """The conditional modes of a mixed model's random effects and their conditional
        standard deviations, a DataFrame indexed by group level (see
        :meth:`fisherkit.models.mixed.MixedModel.random_effects`); refused for models
        without random effects.

        >>> import fisherkit as fk
        >>> res = fk.fit("incidence ~ C(period) + (1 | herd)", fk.datasets.load("cbpp"),
        ...              "binomial", trials="size")
        >>> res.random_effects().round(3).iloc[0].tolist()
        [0.59, 0.348]
        """
        return self.model.random_effects(self.theta)

    def jeffreys(self, theta=None) -> float:
        """The log of Jeffreys' prior density, by :func:`fisherkit.inference.reparam.jeffreys`.

        >>> import numpy as np
        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ 1", data=fk.datasets.load("spector"), family="logit")
        >>> bool(np.isclose(res.jeffreys(), 0.5 * np.log(32 * (11 / 32) * (21 / 32))))
        True
        """
        return reparam.jeffreys(self, theta)

    def summary_scales(self, alpha: float = 0.05) -> pd.DataFrame:
        """The summary on both scales, by :func:`fisherkit.inference.reparam.summary_scales`.

        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA", data=fk.datasets.load("spector"), family="normal")
        >>> res.summary_scales().loc["sigma", "label"].tolist()
        ['sigma', 'log(sigma)']
        """
        return reparam.summary_scales(self, alpha)

    def wald_test(self, restriction, *, cov: str | None = None) -> pd.Series:
        """Wald test of ``R params = r``, by :func:`fisherkit.inference.hypothesis_tests.wald_test`.

        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
        >>> res.wald_test("GPA = TUCE").round(4).tolist()
        [4.416, 1.0, 0.0356]
        """
        return hypothesis_tests.wald_test(self, restriction, cov=cov)

    def profile(self, name: str, values=None, *, n_points: int = 21,
                width: float = 3.0) -> pd.DataFrame:
        """Profile log-likelihood of one parameter, by :func:`fisherkit.inference.profile.profile`.

        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
        >>> list(res.profile("PSI", n_points=3).columns[:3])
        ['loglik', 'signed_root', 'wald']
        """
        return profiles.profile(self, name, values, n_points=n_points, width=width)

    def profile_ci(self, names=None, alpha: float = 0.05) -> pd.DataFrame:
        """Profile-likelihood intervals, by :func:`fisherkit.inference.profile.profile_ci`.

        >>> import fisherkit as fk
        >>> res = fk.fit("GRADE ~ GPA + TUCE + PSI", data=fk.datasets.load("spector"), family="logit")
        >>> res.profile_ci("GPA").round(3).loc["GPA"].tolist()
        [2.826, 0.639, 5.757]
        """
        return profiles.profile_ci(self, names, alpha)
