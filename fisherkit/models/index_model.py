"""A likelihood model: a family bound to data, with its score, Hessian and scores per row.

Two paths compute the same derivatives. The structured path treats the model as an index
model: every distribution parameter of observation ``i`` is one entry of a row of the
``n x K`` matrix ``E`` of linear predictors (a scalar parameter is a column of ones times
its value), so ``H = sum_jk X_j' diag(W_jk) X_k`` with ``W`` from autograd in eta-space: one
pass over the data. The general path differentiates the total log-likelihood as a function
of the flat parameter vector with ``autograd.hessian``; it serves as a check and for models
whose parameters are not of that form.
"""

from __future__ import annotations


import autograd.numpy as anp
import numpy as np
import pandas as pd

from ..autodiff import derivatives
from ..autodiff.linalg import gram_and_product, group_sums, weighted_cross
from ..exceptions import SpecificationError
from .divergence import step_divergence
from .expected import index_expected_information
from .family import Family
from .formula import ModelData
from .parameters import Block
from .protocol import refuse_random_effects
from .rows import Rows, fitted_rows, new_rows
from .weights import effective_n

__all__ = ["Model"]

#: rows per block of the elementwise derivatives (see :meth:`Model.eta_derivatives`)
ETA_BLOCK = 65536


class Model:
    """A family and its data, exposing log-likelihood, score and Hessian of ``theta``.

    ``theta`` is the flat *working* parameter vector (coefficients, log scale parameters,
    first cut point and log gaps). Natural-scale values come from :meth:`to_natural`.

    Examples
    --------
    >>> import fisherkit as fk
    >>> from fisherkit.models.formula import build_data
    >>> fam = fk.families.make_family("poisson")
    >>> df = fk.datasets.load("spector")
    >>> m = Model(fam, build_data("GRADE ~ GPA", df, fam))
    >>> m.names
    ('Intercept', 'GPA')
    """

    def __init__(self, family: Family, data: ModelData):
        self.family, self.data = family, data
        #: evaluations over the whole data (log-likelihood, derivatives, information)
        self.passes = 0
        blocks, at = [], 0
        for key, spec in family.params.items():
            names, working = spec.labels(key, data)
            blocks.append(Block(key, spec, at, at + len(names), tuple(names), tuple(working)))
            at += len(names)
        self.blocks: tuple[Block, ...] = tuple(blocks)
        self.n_params = at
        self.names = tuple(n for b in self.blocks for n in b.names)
        self.working_names = tuple(n for b in self.blocks for n in b.working_names)
        if len(set(self.names)) < len(self.names):
            twice = sorted({n for n in self.names if self.names.count(n) > 1})
            # results are labelled by name: two parameters of one name would be confused
            raise SpecificationError(
                f"The parameter name(s) {twice} stand for two parameters of the "
                f"{family.name} family (a design column named like one of its parameters "
                f"{list(family.params)}?); rename the column.")
        # each column of E: (block, slice of theta it takes, design or None for ones)
        self._columns = []
        for b in self.blocks:
            if b.spec.has_design:
                self._columns.append((b, slice(b.start, b.stop), data.designs[b.key]))
            else:
                self._columns.extend((b, slice(i, i + 1), None) for i in range(b.start, b.stop))

    @property
    def n_obs(self) -> int:
        """Observations: the rows, or the sum of their frequency weights."""
        return effective_n(self.data.weights, self.data.weight_type, self.data.n_obs)

    @property
    def n_rows(self) -> int:
        return self.data.n_obs

    @property
    def weight_type(self) -> str | None:
        return self.data.weight_type

    @property
    def label(self) -> str:
        return self.family.name

    def outcome_values(self) -> np.ndarray:
        return self.data.y

    def subset(self, rows) -> "Model":
        """The model over some of its rows (mini-batches)."""
        return Model(self.family, self.data.take(rows))

    def prefetch(self, pieces: tuple[str, ...]) -> None:
        """In memory every piece is computed when asked: nothing to plan."""

    def mean_predictor(self) -> Block:
        """The block whose inverse link gives the mean of the outcome (marginal effects).

        Raises SpecificationError for families whose first predictor is not the mean (the
        Weibull's log scale, an ordinal model's location).
        """
        reasons = [self.family.no_mean] + [b.spec.no_mean for b in self.blocks]
        reason = next((r for r in reasons if r is not None), None)
        if reason is not None:
            raise SpecificationError(f"Marginal effects on the mean are not available for the "
                                     f"{self.family.name} family: {reason}.")
        return next(b for b in self.blocks if b.spec.has_design)

    # ---- rows to predict at (fisherkit.inference.predictions and .residuals) ------------

    def design_for(self, data=None, *, offset=None, random_effects=None) -> Rows:
        """The designs and offsets of the fitted rows (``data`` None) or of new rows, built
        with the fit's own formula state (see :mod:`fisherkit.models.rows`)."""
        if random_effects is not None:
            refuse_random_effects(self.label)
        if data is None:
            if offset is not None:
                raise SpecificationError("offset= goes with new data; the fitted rows keep "
                                         "their own offset.")
            return fitted_rows(self.data)
        return new_rows(self.data, data, offset)

    def eta_for(self, theta, rows: Rows):
        """The matrix ``E`` of working-scale distribution parameters at the complete
        ``rows`` (autograd-traceable in ``theta``)."""
        n, columns = rows.n_complete, []
        for b, sl, X in self._columns:
            if X is None:
                columns.append(theta[sl][0] * anp.ones(n))
                continue
            eta = anp.dot(rows.designs[b.key], theta[sl])
            off = rows.offsets[b.key]
            columns.append(eta if off is None else eta + off)
        return anp.stack(columns, axis=1)

    @property
    def link_column(self) -> int:
        """The column of ``E`` holding the first linear predictor (``scale="link"``)."""
        return next(c for c, (_, _, X) in enumerate(self._columns) if X is not None)

    def theta_gradients(self, G: np.ndarray, rows: Rows, part: slice) -> np.ndarray:
        """Per-row gradients in ``theta`` of a row-wise function of ``E``, for the rows
        ``part`` of ``rows``: ``G`` holds its derivatives in the columns of ``E`` (the
        chain rule through each design), ``len(part) x p``."""
        G = G[part]
        out = np.empty((len(G), self.n_params))
        for c, (b, sl, X) in enumerate(self._columns):
            out[:, sl] = G[:, c:c + 1] if X is None else G[:, c:c + 1] * rows.designs[b.key][part]
        return out

    def fitted_outcome(self, theta: np.ndarray):
        """The outcome, ``E`` at ``theta`` and the extra data of the fitted rows (residuals)."""
        return self.data.y, self.eta_matrix(theta), self.data.aux

    def count_separated(self, theta: np.ndarray) -> int:
        """Observations a binary model fits with probability within 1e-8 of their outcome."""
        return self.family.count_separated(self.data.y, self.eta_matrix(theta)[:, 0],
                                           self.data.aux)

    def post_fit_checks(self, theta: np.ndarray):
        return self.family.post_fit_checks(self, theta)

    def step_divergence(self, path: np.ndarray) -> np.ndarray:
        """See :func:`fisherkit.models.divergence.step_divergence`."""
        return step_divergence(self, path)

    def expected_information(self, theta: np.ndarray, **options):
        """See :func:`fisherkit.models.expected.index_expected_information`."""
        return index_expected_information(self, theta, **options)

    def random_effects(self, theta):
        refuse_random_effects(self.label)

    def variance_null(self, restricted, removed) -> None:
        """No random effects: a likelihood-ratio test has its plain chi-square."""
        return None

    # ---- values on the eta scale ------------------------------------------------------

    def _block_values(self, theta, E=None):
        """Per-block working values from ``theta`` (general path) or from ``E`` columns."""
        values, c = [], 0
        for b in self.blocks:
            if E is not None:
                values.append(b.spec.from_columns([E[:, c + j] for j in range(b.n_columns)]))
            elif b.spec.has_design:
                eta = anp.dot(self.data.designs[b.key], theta[b.start:b.stop])
                off = self.data.offsets[b.key]
                values.append(eta if off is None else eta + off)
            else:
                values.append(b.spec.from_columns([theta[i] for i in range(b.start, b.stop)]))
            c += b.n_columns
        return values

    def eta_matrix(self, theta: np.ndarray) -> np.ndarray:
        """The ``n x K`` matrix of linear predictors (scalars broadcast down their column).

        The last one made is kept (read-only): the checks and standard errors after a fit
        evaluate at the estimate the optimizer's last pass already reached, and re-reading
        the designs for them would cost as much as an iteration.
        """
        # every evaluation over the data starts here, so this counts passes for the traces
        self.passes += 1
        theta = np.asarray(theta, dtype=float)
        kept = getattr(self, "_last_eta", None)
        if kept is not None and np.array_equal(kept[0], theta):
            return kept[1]
        E = np.empty((self.n_rows, len(self._columns)))
        for c, (b, sl, X) in enumerate(self._columns):
            if X is None:
                E[:, c] = theta[sl][0]
            else:
                E[:, c] = X @ theta[sl]
                if self.data.offsets[b.key] is not None:
                    E[:, c] += self.data.offsets[b.key]
        E.flags.writeable = False
        self._last_eta = (theta.copy(), E)
        return E

    def loglik_rows_of_eta(self, E, y=None, rows=None, weighted: bool = True):
        """Per-observation log-likelihood as a function of ``E`` (autograd-traceable).

        ``y`` replaces the observed outcome (for expectations over the outcome); ``rows``
        (an index) says which observations the rows of ``E`` and ``y`` are, for the
        per-observation extra data. Each row's value is times its weight (unless not
        ``weighted``: a log-probability to sum over outcomes), so that every derivative,
        expectation and score taken from here is weighted.
        """
        y = self.data.y if y is None else y
        aux = self.data.aux if rows is None else {k: v[rows] for k, v in self.data.aux.items()}
        values = self.family.loglik_obs(y, self._block_values(None, E), aux)
        w = self.data.weights if weighted else None
        return values if w is None else values * (w if rows is None else w[rows])

    def loglik_obs(self, theta) -> np.ndarray:
        """Per-observation (weighted) log-likelihood of ``theta`` (autograd-traceable)."""
        values = self.family.loglik_obs(self.data.y, self._block_values(theta), self.data.aux)
        return values if self.data.weights is None else values * self.data.weights

    def loglik(self, theta) -> float:
        """Total log-likelihood; ``-inf`` where ``theta`` is outside the model's domain."""
        with np.errstate(all="ignore"):
            value = float(np.sum(self.loglik_rows_of_eta(self.eta_matrix(theta))))
        return value if np.isfinite(value) else -np.inf

    # ---- structured derivatives -------------------------------------------------------

    def derivatives(self, theta: np.ndarray, second: bool = True):
        """Total log-likelihood, score and Hessian (or None) in one pass over the data."""
        values, U, W = self.eta_derivatives(self.eta_matrix(theta), second)
        loglik = float(np.sum(values))
        if not second:
            score = np.zeros(self.n_params)
            for c, (_, sl, X) in enumerate(self._columns):
                score[sl] += U[:, c].sum() if X is None else X.T @ U[:, c]
            return loglik, score, None
        hessian, score = self._assemble(W, U)
        return loglik, score, hessian

    def eta_derivatives(self, E: np.ndarray, second: bool, y=None, rows=None,
                        weighted: bool = True):
        """:func:`fisherkit.autodiff.derivatives.eta_derivatives` of the log-likelihood, taken over
        blocks of ``ETA_BLOCK`` rows: autograd's temporaries are then a few hundred kB,
        reused while in cache, instead of fresh arrays of ``n`` values.

        ``y`` replaces the outcome and ``rows`` (indices) says which observations the rows
        of ``E`` are, and ``weighted`` whether rows count their weights, as in
        :meth:`loglik_rows_of_eta`.
        """
        n, k = E.shape
        y = self.data.y if y is None else y
        if n <= ETA_BLOCK:
            return derivatives.eta_derivatives(
                lambda A: self.loglik_rows_of_eta(A, y, rows, weighted), E, second)
        values, U = np.empty(n), np.empty((n, k))
        W = np.empty((n, k, k)) if second else None
        for a in range(0, n, ETA_BLOCK):
            block = slice(a, a + ETA_BLOCK)
            y_block = y[block]
            which = block if rows is None else rows[block]
            v, u, w = derivatives.eta_derivatives(
                lambda A: self.loglik_rows_of_eta(A, y_block, which, weighted), E[block],
                second)
            values[block], U[block] = v, u
            if second:
                W[block] = w
        return values, U, W

    def assemble(self, W: np.ndarray) -> np.ndarray:
        """``sum_jk X_j' diag(W[:, j, k]) X_k``: eta-space weights to a ``p x p`` matrix.

        The Hessian takes the second derivatives in eta, the expected information their
        expectation, and the outer product of scores ``U_j U_k``.
        """
        return self._assemble(W)[0]

    def _assemble(self, W: np.ndarray, U: np.ndarray | None = None):
        """The assembled ``p x p`` matrix and, given ``U``, the score ``sum_j X_j' U_j``,
        the score taken in the same pass over each design as its diagonal block."""
        H = np.zeros((self.n_params, self.n_params))
        score = None if U is None else np.zeros(self.n_params)
        for c, (_, slc, Xc) in enumerate(self._columns):
            if U is not None:
                u = np.ascontiguousarray(U[:, c])
                if Xc is None:
                    score[slc] += u.sum()
                else:
                    block, score[slc] = gram_and_product(
                        Xc, np.ascontiguousarray(W[:, c, c]), u)
                    H[slc, slc] += block
            for d in range(c, len(self._columns)):
                _, sld, Xd = self._columns[d]
                if d == c and U is not None and Xc is not None:
                    continue
                block = weighted_cross(Xc, W[:, c, d], Xd)
                H[slc, sld] += block
                if d != c:
                    H[sld, slc] += block.T
        return H, score

    def eta_scores(self, theta: np.ndarray) -> np.ndarray:
        """``U``: per-observation derivatives of the log-likelihood in each eta column."""
        return self.eta_derivatives(self.eta_matrix(theta), second=False)[1]

    def opg(self, theta: np.ndarray) -> np.ndarray:
        """Outer product of per-observation scores, ``sum_i w_i s_i s_i'`` (the information
        of rows each standing for ``w_i`` observations), without an ``n x p`` array."""
        U = self.eta_scores(theta)
        outer = U[:, :, None] * U[:, None, :]
        # U holds the weighted scores w s: one weight too many for w s s'
        w = self.data.weights
        return self.assemble(outer if w is None else outer / w[:, None, None])

    def sandwich_meat(self, theta: np.ndarray) -> np.ndarray:
        """The sandwich's middle: ``sum w s s'`` for frequency weights (and none),
        ``sum (w s)(w s)'`` for analytic and probability weights."""
        if self.data.weight_type in (None, "frequency"):
            return self.opg(theta)
        U = self.eta_scores(theta)
        return self.assemble(U[:, :, None] * U[:, None, :])

    def group_scores(self, theta: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Scores summed within groups, ``G x p``, without an ``n x p`` array."""
        U = self.eta_scores(theta)
        codes, _ = pd.factorize(np.asarray(groups), sort=True)
        out = np.zeros((codes.max() + 1, self.n_params))
        for c, (_, sl, X) in enumerate(self._columns):
            out[:, sl] += group_sums(codes, U[:, c], X, len(out))
        return out

    def observation_hessian(self, theta: np.ndarray, pairs) -> np.ndarray:
        """Per-observation second derivatives ``d2 l_i / d theta_a d theta_b`` for each
        ``(a, b)`` of ``pairs``, ``n x len(pairs)`` (the information-matrix test)."""
        _, _, W = self.eta_derivatives(self.eta_matrix(theta), True)
        column, design = [], []
        for c, (_, sl, X) in enumerate(self._columns):
            for j in range(sl.start, sl.stop):
                column.append(c)
                design.append(1.0 if X is None else X[:, j - sl.start])
        return np.column_stack([W[:, column[a], column[b]] * design[a] * design[b]
                                for a, b in pairs])

    def score(self, theta: np.ndarray) -> np.ndarray:
        """Gradient of the log-likelihood in ``theta``."""
        return self.derivatives(theta, second=False)[1]

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """Hessian of the log-likelihood in ``theta`` (structured path)."""
        return self.derivatives(theta)[2]

    def scores_obs(self, theta: np.ndarray) -> np.ndarray:
        """Per-row scores, ``n x p``: row ``i`` is ``d w_i l_i / d theta``."""
        U = self.eta_scores(theta)
        S = np.empty((self.n_rows, self.n_params))
        for c, (_, sl, X) in enumerate(self._columns):
            S[:, sl] = U[:, c:c + 1] if X is None else U[:, c:c + 1] * X
        return S

    # ---- general path -----------------------------------------------------------------

    def loglik_total(self, theta):
        """Total log-likelihood as an autograd-traceable function of ``theta``."""
        return anp.sum(self.loglik_obs(theta))

    def hessian_general(self, theta: np.ndarray) -> np.ndarray:
        """Hessian by ``autograd.hessian`` of the total: ``p`` reverse passes over the data."""
        return derivatives.hessian(self.loglik_total, theta)

    def score_general(self, theta: np.ndarray) -> np.ndarray:
        return derivatives.gradient(self.loglik_total, theta)

    # ---- scales -----------------------------------------------------------------------

    def to_natural(self, theta):
        """Natural-scale parameter vector (autograd-traceable)."""
        return anp.concatenate([b.spec.block_to_natural(theta[b.start:b.stop])
                                for b in self.blocks])

    def natural_jacobian(self, theta: np.ndarray) -> np.ndarray:
        """``d natural / d working``, ``p x p``."""
        return derivatives.jacobian(self.to_natural, theta)

    def to_working(self, natural: np.ndarray) -> np.ndarray:
        """The working vector of a natural one, block by block (NaN outside a constraint)."""
        natural = np.asarray(natural, dtype=float)
        theta = np.empty(self.n_params)
        for b in self.blocks:
            theta[b.start:b.stop] = b.spec.block_to_working(natural[b.start:b.stop])
        return theta

    def _block_of(self, index: int) -> Block:
        return next(b for b in self.blocks if b.start <= index < b.stop)

    def own_coordinate(self, index: int) -> bool:
        """Cut points share their working coordinates (first cut and log gaps); every
        other value has its own."""
        return self._block_of(index).spec.own_coordinates

    def can_be_zero(self, index: int) -> bool:
        """Coefficients of a linear predictor may be 0; scalars and cut points may not."""
        return self._block_of(index).spec.zero_allowed

    def start_values(self) -> np.ndarray:
        """Starting ``theta``: intercepts and scalars from the family, slopes at zero."""
        start = self.family.start(self.data.y, self.data.aux, self.data.levels)
        theta = np.zeros(self.n_params)
        for b in self.blocks:
            value = start.get(b.key)
            if value is not None:
                theta[b.start:b.stop] = b.spec.start_block(value, b.names)
        return theta
