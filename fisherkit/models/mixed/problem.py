"""The inner problem of a grouped model: ``h_g(u)`` and its derivatives in ``u``.

A :class:`GroupedProblem` binds an index model of the fixed part (its family, designs,
offsets and extra data), the random-effects design ``Z``, the group of each row and the
covariance term. It splits the mixed model's working vector into the index model's and the
covariance's, and gives :mod:`fisherkit.models.mixed.laplace` what it needs: per-row
log-likelihoods with their first two derivatives in the linear predictor, traceable in
``theta`` (autograd's ``elementwise_grad``, each row depending on its own predictor only),
and the same numerically in one pass for the Newton steps.
"""

from __future__ import annotations

import warnings

import autograd.numpy as anp
import numpy as np
from autograd import elementwise_grad

from ...exceptions import ConvergenceWarning
from ..index_model import Model
from .covariance import CovarianceTerm
from .laplace import find_modes, segment_sum, spread

__all__ = ["GroupedProblem"]

#: how many points' inner modes are kept to start from and to reuse
KEPT_MODES = 16


class GroupedProblem:
    """One grouping factor's random effects added to an index model's linear predictor.

    Parameters
    ----------
    base : Model
        The fixed part: a family with one linear predictor, on the fitted rows.
    Z : ndarray
        ``n x q`` random-effects design.
    codes : ndarray of int
        The group of each row, ``0 .. G - 1``.
    covariance : CovarianceTerm
    """

    def __init__(self, base: Model, Z: np.ndarray, codes: np.ndarray, n_groups: int,
                 covariance: CovarianceTerm):
        self.base, self.Z, self.codes, self.n_groups = base, Z, codes, n_groups
        self.covariance, self.q = covariance, covariance.q
        self.rows = base.design_for()
        self.column = base.link_column
        main = next(b for b in base.blocks if b.spec.has_design)
        #: where the covariance's working parameters sit in the mixed model's vector
        self.cov_slice = slice(main.stop, main.stop + covariance.n_params)
        self._known = []  # (theta, modes, converged), the latest first
        self.converged = True

    # ---- the working vector ------------------------------------------------------------

    def base_theta(self, theta):
        s = self.cov_slice
        return anp.concatenate([theta[:s.start], theta[s.stop:]])

    def cov_theta(self, theta):
        return theta[self.cov_slice]

    # ---- traceable pieces --------------------------------------------------------------

    def row_pieces(self, theta, effects, second: bool = True, value: bool = True):
        """Per-row log-likelihood at predictor ``eta_i + effects_i`` (unless not
        ``value``: None) and, if ``second``, its first and second derivatives in that
        predictor."""
        columns = self._eta_columns(theta)

        def rows_at(shift):
            return self.base.loglik_rows_of_eta(self._moved(columns, effects + shift))

        zero = np.zeros(len(self.codes))
        f0 = rows_at(zero) if value else None
        if not second:
            return f0, None, None
        first = elementwise_grad(rows_at)
        return f0, first(zero), elementwise_grad(first)(zero)

    def row_gradients(self, theta, effects):
        """The rows' first derivatives in the predictor alone (the modes' derivative rule
        needs no more)."""
        columns = self._eta_columns(theta)
        return elementwise_grad(lambda shift: self.base.loglik_rows_of_eta(
            self._moved(columns, effects + shift)))(np.zeros(len(self.codes)))

    def _eta_columns(self, theta) -> list:
        """The columns of the index model's ``E`` at ``theta``, each traced on its own:
        reading a column of a traced matrix costs a scatter-add over all rows in every
        reverse pass, and the nested derivatives here take many."""
        base_theta, rows, n = self.base_theta(theta), self.rows, self.rows.n_complete
        columns = []
        for b in self.base.blocks:
            if not b.spec.has_design:
                columns.extend(base_theta[i] * np.ones(n) for i in range(b.start, b.stop))
                continue
            eta = anp.dot(rows.designs[b.key], base_theta[b.start:b.stop])
            offset = rows.offsets[b.key]
            columns.append(eta if offset is None else eta + offset)
        return columns

    def _moved(self, columns: list, shift) -> "_Columns":
        moved = list(columns)
        moved[self.column] = columns[self.column] + shift
        return _Columns(moved)

    def log_prior(self, theta, U: list):
        return self.covariance.log_prior(self.cov_theta(theta), U)

    def neg_hessian_from(self, theta, f2) -> list[list]:
        """``-h_g''`` per group from the rows' second derivatives ``f2``."""
        P = self.covariance.precision(self.cov_theta(theta))
        Z, q = self.Z, self.q
        out = [[None] * q for _ in range(q)]
        for a in range(q):
            for b in range(a, q):
                out[a][b] = out[b][a] = (P[a][b] - segment_sum(f2 * Z[:, a] * Z[:, b],
                                                               self.codes, self.n_groups))
        return out

    def _effects(self, U):
        return sum(self.Z[:, a] * spread(U[:, a], self.codes) for a in range(self.q))

    def neg_hessian(self, theta, U) -> list[list]:
        """``-h_g''`` at effects ``U`` (``G x q``)."""
        f2 = self.row_pieces(theta, self._effects(U), value=False)[2]
        return self.neg_hessian_from(theta, f2)

    def inner_gradient(self, theta, U) -> list:
        """``h_g'`` at effects ``U``, a list of ``q`` arrays over groups."""
        f1 = self.row_gradients(theta, self._effects(U))
        P = self.covariance.precision(self.cov_theta(theta))
        return [segment_sum(f1 * self.Z[:, a], self.codes, self.n_groups)
                - sum(P[a][b] * U[:, b] for b in range(self.q)) for a in range(self.q)]

    # ---- numerical pieces for the Newton steps -------------------------------------------

    def numeric_pieces(self, theta: np.ndarray, U: np.ndarray):
        """``h_g``, ``h_g'`` (``G x q``) and ``-h_g''`` (``G x q x q``) in one pass."""
        base, cov = self.base, self.cov_theta(theta)
        E = np.array(base.eta_matrix(self.base_theta(theta)))
        E[:, self.column] += self._effects(U)
        with np.errstate(all="ignore"):
            f0, F1, F2 = base.eta_derivatives(E, second=True)
        f1, f2 = F1[:, self.column], F2[:, self.column, self.column]
        G, q, Z, codes = self.n_groups, self.q, self.Z, self.codes
        P = np.array(self.covariance.precision(cov), dtype=float)
        h = (np.bincount(codes, weights=f0, minlength=G)
             + self.covariance.log_prior(cov, [U[:, a] for a in range(q)]))
        g = np.column_stack([np.bincount(codes, weights=f1 * Z[:, a], minlength=G)
                             for a in range(q)]) - U @ P
        A = np.empty((G, q, q))
        for a in range(q):
            for b in range(a, q):
                A[:, a, b] = A[:, b, a] = P[a, b] - np.bincount(
                    codes, weights=f2 * Z[:, a] * Z[:, b], minlength=G)
        h = np.where(np.isfinite(h), h, -np.inf)
        return h, g, A

    def modes(self, theta: np.ndarray) -> np.ndarray:
        """The inner modes at ``theta``, started from those found at the nearest of the
        last points (the optimizer's points are close to each other, and the start-value
        search returns to a point it tried) and kept for a repeated ``theta``."""
        theta = np.asarray(theta, dtype=float)
        for known, U, converged in self._known:
            if np.array_equal(known, theta):
                self.converged = converged
                return U
        zeros = np.zeros((self.n_groups, self.q))
        start = zeros
        if self._known:
            start = min(self._known, key=lambda k: float(np.sum((k[0] - theta) ** 2)))[1]
        U, converged = find_modes(self, theta, start)
        if not converged and start is not zeros:
            U, converged = find_modes(self, theta, zeros)
        if not converged:
            warnings.warn("The inner Newton iterations for the conditional modes did not "
                          "converge; the marginal log-likelihood is not reliable here.",
                          ConvergenceWarning, stacklevel=2)
        self.converged = converged
        # a few G x q arrays: memory in the groups, not the rows
        self._known = [(theta.copy(), U, converged)] + self._known[:KEPT_MODES - 1]
        return U

class _Columns:
    """A list of columns read as the matrix ``E[:, j]`` by the index model's log-likelihood."""

    def __init__(self, columns: list):
        self.columns = columns
        self.shape = (len(columns[0]), len(columns))

    def __getitem__(self, key):
        rows, column = key
        # the whole column as it is: even a full slice of a traced array scatters back
        return self.columns[column] if rows == slice(None) else self.columns[column][rows]
