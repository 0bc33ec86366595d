"""Small normalizing flows, fitted by maximum likelihood with standard errors.

A flow models a density on ``R^d`` by a chain of invertible maps from the data ``x`` to a
standard normal ``z = g(x)``; by the change of variables (Papamakarios et al., 2021, eq. 2)

    log p(x) = log N(g(x); 0, I) + log |det J_g(x)|.

Two kinds of layer, each with a closed-form log-determinant:

- ``"affine"``: ``z = L^-1 (x - shift)`` with ``L`` lower triangular with a positive
  diagonal (``scale``) and free entries below it (``shear``); alone, it is the Gaussian
  maximum-likelihood fit (``L L'`` the covariance).
- ``"planar"``: ``z = x + u_hat tanh(w'x + b)`` (Rezende and Mohamed, 2015), whose
  determinant is ``1 + u_hat'w (1 - tanh^2(w'x + b))``. ``u`` is free; ``u_hat = u + (m(w'u)
  - w'u) w / |w|^2`` with ``m(a) = -1 + log(1 + e^a)`` keeps ``u_hat'w > -1``, which makes the
  layer invertible (Rezende and Mohamed, appendix A).

A :class:`Flow` becomes a :class:`fisherkit.Likelihood`, so its fit has everything any fit
has: standard errors of the layer parameters from the exact Hessian, profile intervals,
the delta method for functions of the density.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import autograd.numpy as anp
import numpy as np
import pandas as pd

from .autodiff.primitives import softplus
from .models.change_of_variables import Transform
from .exceptions import DataError, FisherkitWarning, SpecificationError
from .fitting import fit_likelihood
from .models.likelihood import Likelihood
from .models.parameters import Array

__all__ = ["Flow"]

LAYERS = ("affine", "planar")


def _planar(x, u, w, b):
    """One planar layer on the rows of ``x``: the image and the log-determinant per row."""
    wu = anp.dot(w, u)
    u_hat = u + (softplus(wu) - 1.0 - wu) * w / anp.dot(w, w)
    activation = anp.tanh(anp.dot(x, w) + b)
    image = x + activation[:, None] * u_hat[None, :]
    log_det = anp.log1p(anp.dot(w, u_hat) * (1.0 - activation ** 2))
    return image, log_det


class Flow:
    """A normalizing flow of affine and planar layers on ``d``-dimensional data.

    Parameters
    ----------
    layers : sequence of {"affine", "planar"}
        Applied to the data in this order on the way to the standard normal.
    dim : int
        Dimension of the data.
    seed : int
        Seeds the starting directions ``w`` of the planar layers (``u`` and ``b`` start at
        0); the fit is deterministic given it.

    Examples
    --------
    >>> import fisherkit as fk
    >>> flow = Flow(["planar", "affine"], dim=2)
    >>> [name for name in flow.declarations()][:3]
    ['planar1_u', 'planar1_w', 'planar1_b']
    """

    def __init__(self, layers: Sequence[str] = ("planar", "planar", "affine"), dim: int = 2,
                 seed: int = 0):
        layers = [layers] if isinstance(layers, str) else list(layers)
        unknown = [layer for layer in layers if layer not in LAYERS]
        if unknown or not layers:
            raise SpecificationError(f"Flow layers are {list(LAYERS)}; got {layers!r}.")
        if not (isinstance(dim, (int, np.integer)) and dim >= 1):
            raise SpecificationError(f"The 'dim' must be a positive integer; got {dim!r}.")
        self.layers, self.dim, self.seed = tuple(layers), int(dim), seed

    def __repr__(self) -> str:
        return f"Flow({list(self.layers)!r}, dim={self.dim})"

    def _keys(self):
        counts = {}
        for layer in self.layers:
            counts[layer] = counts.get(layer, 0) + 1
            yield layer, f"{layer}{counts[layer]}"

    def declarations(self) -> dict:
        """Parameter declarations for :class:`fisherkit.Likelihood`, layer by layer."""
        rng = np.random.default_rng(self.seed)
        d, out = self.dim, {}
        for layer, key in self._keys():
            if layer == "affine":
                out[f"{key}_shift"] = Array(np.zeros(d))
                out[f"{key}_scale"] = Array(np.ones(d), "positive")
                if d > 1:
                    out[f"{key}_shear"] = Array(np.zeros(d * (d - 1) // 2))
            else:
                direction = rng.normal(size=d)
                out[f"{key}_u"] = Array(np.zeros(d))
                out[f"{key}_w"] = Array(direction / np.linalg.norm(direction))
                out[f"{key}_b"] = 0.0
        return out

    def to_normal(self, params: Mapping, x):
        """``z = g(x)`` and ``log |det J_g(x)|`` for the rows of ``x``."""
        d = self.dim
        z, log_det = x, anp.zeros(anp.shape(x)[0])
        below = np.tril_indices(d, -1)
        for layer, key in self._keys():
            if layer == "affine":
                scale = params[f"{key}_scale"]
                centred = z - params[f"{key}_shift"]
                if d > 1:
                    # L^-1 by forward substitution, one coordinate at a time (autograd has
                    # no triangular solve with gradients in both arguments)
                    shear = params[f"{key}_shear"]
                    columns = []
                    for i in range(d):
                        row = centred[:, i]
                        for k, (r, c) in enumerate(zip(*below)):
                            if r == i:
                                row = row - shear[k] * columns[c]
                        columns.append(row / scale[i])
                    z = anp.stack(columns, axis=1)
                else:
                    z = centred / scale
                log_det = log_det - anp.sum(anp.log(scale))
            else:
                z, step = _planar(z, params[f"{key}_u"], params[f"{key}_w"], params[f"{key}_b"])
                log_det = log_det + step
        return z, log_det

    def logpdf(self, params: Mapping, x):
        """The flow's log-density at the rows of ``x`` (natural-scale ``params`` by name).

        Examples
        --------
        >>> import numpy as np
        >>> from scipy import stats
        >>> flow = Flow(["affine"], dim=2)
        >>> p = {"affine1_shift": np.zeros(2), "affine1_scale": np.ones(2),
        ...      "affine1_shear": np.zeros(1)}
        >>> x = np.array([[0.5, -1.0]])
        >>> bool(np.isclose(flow.logpdf(p, x)[0], stats.multivariate_normal(np.zeros(2)).logpdf(x)))
        True
        """
        z, log_det = self.to_normal(params, x)
        return (-0.5 * anp.sum(z ** 2, axis=1) - 0.5 * self.dim * np.log(2 * np.pi) + log_det)

    def sample(self, params: Mapping, n: int, seed=0) -> np.ndarray:
        """``n`` draws from the flow: normal draws sent back through the layers.

        A planar layer is inverted along ``w``: ``a = w'x`` solves ``a + w'u_hat tanh(a + b)
        = w'z``, increasing in ``a`` because ``w'u_hat > -1``, so bisection finds it.

        Examples
        --------
        >>> flow = Flow(["affine"], dim=2)
        >>> p = {"affine1_shift": np.array([1.0, -1.0]), "affine1_scale": np.ones(2),
        ...      "affine1_shear": np.zeros(1)}
        >>> flow.sample(p, 50_000).mean(axis=0).round(1).tolist()
        [1.0, -1.0]
        """
        params = {k: np.asarray(v, dtype=float) for k, v in params.items()}
        x = np.random.default_rng(seed).standard_normal((n, self.dim))
        d, below = self.dim, np.tril_indices(self.dim, -1)
        for layer, key in reversed(list(self._keys())):
            if layer == "affine":
                L = np.diag(params[f"{key}_scale"])
                if d > 1:
                    L[below] = params[f"{key}_shear"]
                x = x @ L.T + params[f"{key}_shift"]
            else:
                u, w, b = params[f"{key}_u"], params[f"{key}_w"], float(params[f"{key}_b"])
                wu = float(w @ u)
                u_hat = u + (np.logaddexp(0.0, wu) - 1.0 - wu) * w / float(w @ w)
                slope, target = float(w @ u_hat), x @ w
                low, high = target - abs(slope) - 1.0, target + abs(slope) + 1.0
                for _ in range(200):  # brackets shrink to rounding well before this
                    mid = 0.5 * (low + high)
                    above = mid + slope * np.tanh(mid + b) > target
                    high, low = np.where(above, mid, high), np.where(above, low, mid)
                a = 0.5 * (low + high)
                x = x - np.tanh(a + b)[:, None] * u_hat[None, :]
        return x

    def transform(self, params: Mapping) -> Transform:
        """The fitted map as a :class:`fisherkit.Transform` from the normal to the data:
        ``transformed_logpdf(standard_normal, flow.transform(p))`` is the flow's density,
        with the log-determinant from autograd rather than the closed form."""
        params = dict(params)
        return Transform(inverse=lambda y: self.to_normal(params, anp.atleast_2d(y))[0],
                         elementwise=False, name="flow")

    def _points(self, data) -> np.ndarray:
        x = data.to_numpy(dtype=float) if isinstance(data, pd.DataFrame) else np.asarray(
            data, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise DataError(f"A flow of dimension {self.dim} needs an (n, {self.dim}) array or "
                            f"DataFrame; got shape {x.shape}.")
        bad = np.argwhere(~np.isfinite(x))
        if len(bad):
            raise DataError(f"The data hold a value that is not finite at row {bad[0][0]}, "
                            f"column {bad[0][1]}; drop or fill it first.")
        return x

    def loglik_obs(self, params: Mapping, data: Mapping):
        """The log-density at the rows of ``data["x"]``: the function of the flow's
        :class:`fisherkit.Likelihood` (a bound method, so that its fit pickles)."""
        return self.logpdf(params, data["x"])

    def likelihood(self, data) -> Likelihood:
        """The flow's :class:`fisherkit.Likelihood` on ``data`` (``(n, dim)``)."""
        x = self._points(data)
        return Likelihood(self.loglik_obs, {"x": x}, params=self.declarations(),
                          name=f"flow {'-'.join(self.layers)}")

    def fit(self, data, *, method: str | None = None, maxiter: int = 1000, n_starts: int = 5,
            **options):
        """Maximum-likelihood fit on the rows of ``data``; options as for
        :func:`fisherkit.fit_likelihood`.

        By default BFGS takes the fit near the maximum and Newton's method finishes it:
        far from the maximum a planar layer's log-likelihood is not concave and Newton
        steps make slow progress, while near it BFGS stalls at a precision short of what
        standard errors need. ``method=`` runs one optimizer alone.

        A flow's log-likelihood has local maxima (and the sign symmetry of ``tanh``), so the
        BFGS stage runs from ``n_starts`` starting directions of the planar layers (seeds
        ``seed``, ``seed + 1``, ...) and the best is finished; with ``method=`` only the
        first is used.

        Examples
        --------
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(size=(200, 2)) * [1.0, 3.0]
        >>> res = Flow(["affine"], dim=2).fit(x)
        >>> bool(np.isclose(res.params["affine1_scale[0]"], x[:, 0].std(), rtol=1e-8))  # L[0, 0]
        True
        """
        likelihood = self.likelihood(data)
        if method is not None:
            return fit_likelihood(likelihood, method=method, maxiter=maxiter, **options)
        if not (isinstance(n_starts, (int, np.integer)) and n_starts >= 1):
            raise SpecificationError(f"The 'n_starts' must be a positive integer; got {n_starts!r}.")
        starts = {self.seed + k for k in range(n_starts if "planar" in self.layers else 1)}
        best = None
        for seed in sorted(starts):
            start = Flow(self.layers, self.dim, seed).likelihood(self._points(data)).start_values()
            with warnings.catch_warnings():
                # the first stage only needs to get close; the Newton stage reports on the fit
                warnings.simplefilter("ignore", FisherkitWarning)
                near = fit_likelihood(likelihood, method="bfgs", maxiter=maxiter, start=start)
            if best is None or near.loglik > best.loglik:
                best = near
        return fit_likelihood(likelihood, method="newton", start=best.theta, **options)
