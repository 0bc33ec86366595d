"""The expected information of the NB2 dispersion without summing over the counts.

For ``Y ~ NB2(mu, alpha)`` with ``r = 1 / alpha``, the expected information of ``r`` is
(Lawless, 1987, *Canadian Journal of Statistics* 15, eq. 2.6)

    I_rr = E[psi'(r) - psi'(Y + r)] - mu / (r (r + mu)),

and that of ``log alpha`` is ``r^2 I_rr`` (the score has mean zero). Summed term by term
over the support, the first expectation costs as many terms per row as the counts spread
over: minutes for a thousand rows of means near 1e4. It is instead the integral

    E[psi'(r) - psi'(Y + r)] = int_0^inf t e^{-r t} / (1 - e^{-t}) [1 - G(e^{-t})] dt,

from ``psi'(z) = int_0^inf t e^{-z t} / (1 - e^{-t}) dt`` and the probability generating
function ``G(s) = (1 + mu (1 - s) / r)^{-r}``. Over ``t = e^u`` its integrand is analytic in
a strip of half-width pi/2 around the real line, so the trapezoidal rule in ``u`` with step
``h`` errs by about ``exp(-pi^2 / h)`` (Trefethen and Weideman, 2014, *SIAM Review* 56,
sec. 5): below 1e-30 at the step used here. The range is cut where the integrand's bounds
(``m t^2`` below, ``e^{-r t} (1 + t) / r`` above) leave out less than 1e-17 of the value.
"""

from __future__ import annotations

import numpy as np

__all__ = ["trigamma_gap", "log_alpha_information"]

#: the trapezoidal step in log t
STEP = 0.1
#: rows integrated at once (the nodes make a rows x nodes array)
ROWS = 2048
#: the part of the value each cut end of the range may leave out
CUT = 1e-17


def _integrand(t, r, mu):
    # t / (1 - e^-t) and 1 - G(e^-t), each without cancellation near t = 0
    kernel = t / -np.expm1(-t)
    above_zero = -np.expm1(-r * np.log1p(mu * -np.expm1(-t) / r))
    return np.exp(-r * t) * kernel * above_zero


def trigamma_gap(r, mu) -> np.ndarray:
    """``E[psi'(r) - psi'(Y + r)]`` for ``Y ~ NB2`` with mean ``mu`` and size ``r``, per row.

    Examples
    --------
    >>> from scipy import special, stats
    >>> r, mu = 2.0, 3.0
    >>> y = np.arange(400)
    >>> direct = np.sum(stats.nbinom.pmf(y, r, r / (r + mu))
    ...                 * (special.polygamma(1, r) - special.polygamma(1, y + r)))
    >>> bool(np.isclose(trigamma_gap(np.array([r]), np.array([mu]))[0], direct, rtol=1e-13))
    True
    """
    r, mu = np.broadcast_arrays(np.asarray(r, dtype=float), np.asarray(mu, dtype=float))
    r, mu = r.ravel(), mu.ravel()
    out = np.zeros(len(r))
    positive = mu > 0  # a mean of zero is a point mass at 0: no gap
    for a in range(0, len(r), ROWS):
        rows = np.flatnonzero(positive[a:a + ROWS]) + a
        if rows.size:
            out[rows] = _integrate(r[rows], mu[rows])
    return out


def _integrate(r, mu):
    # every term of the series sum_j P(Y > j) / (r + j)^2 is positive: its first bounds
    # the value from below, and so the range needed
    low = -np.expm1(-r * np.log1p(mu / r)) / r**2
    t_low = np.sqrt(CUT * low / mu)
    t_high = 40.0 / r
    for _ in range(3):
        t_high = np.maximum(np.log(((1.0 + t_high) / r + 1.0 / r**2) / (CUT * low)) / r, 1.0)
    u_low, u_high = np.log(t_low), np.log(t_high)
    nodes = int(np.ceil(np.max(u_high - u_low) / STEP)) + 1
    grid = np.linspace(0.0, 1.0, nodes)
    u = u_low[:, None] + (u_high - u_low)[:, None] * grid[None, :]
    h = (u_high - u_low) / (nodes - 1)
    t = np.exp(u)
    values = _integrand(t, r[:, None], mu[:, None]) * t
    # the ends carry the trapezoid's half weights; both are negligible there anyway
    return h * (values.sum(axis=1) - 0.5 * (values[:, 0] + values[:, -1]))


def log_alpha_information(mu, alpha) -> np.ndarray:
    """The expected information of ``log alpha`` per row of an NB2 model,
    ``r^2 (E[psi'(r) - psi'(Y + r)] - mu / (r (r + mu)))`` with ``r = 1 / alpha``.

    Examples
    --------
    >>> info = log_alpha_information(np.array([1e4]), np.array([0.5]))
    >>> bool(info[0] > 0)
    True
    """
    mu, alpha = np.asarray(mu, dtype=float), np.asarray(alpha, dtype=float)
    r = 1.0 / alpha
    return r * r * (trigamma_gap(r, mu) - mu / (r * (r + mu)))
