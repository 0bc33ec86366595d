"""The covariance of a vector of random effects, on a Cholesky working scale.

``Sigma = L L'`` with ``L`` lower triangular: its diagonal enters on the log scale, its
entries below the diagonal as they are, so that every working vector gives a positive
definite ``Sigma`` and the optimizer is unconstrained (Pinheiro and Bates, 1996, "Unconstrained
parametrizations for variance-covariance matrices", *Statistics and Computing* 6). With one
effect the working parameter is ``log sd``. Users read standard deviations and
correlations, lme4's and Stata's reporting scale.

Working order: the ``q`` log diagonal entries, then the entries below the diagonal by rows
of pairs ``(a, b)``, ``a < b`` (``L[b, a]``); natural order: the ``q`` standard deviations,
then the correlations of the same pairs.

Matrices here are lists of lists of scalars (or of arrays over groups), so that every
operation is elementwise and autograd traces it to any order.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np

__all__ = ["CovarianceTerm", "forward_substitute", "back_substitute", "cholesky"]


class CovarianceTerm:
    """Names and maps of the covariance of ``q`` random effects grouped by ``group``.

    Examples
    --------
    >>> term = CovarianceTerm(("Intercept", "Days"), "Subject")
    >>> term.names
    ('sd(Intercept | Subject)', 'sd(Days | Subject)', 'cor(Intercept, Days | Subject)')
    >>> term.working_names[2]
    'chol(Days, Intercept | Subject)'
    """

    def __init__(self, columns: tuple[str, ...], group: str):
        self.columns, self.group, self.q = tuple(columns), group, len(columns)
        self.pairs = [(a, b) for a in range(self.q) for b in range(a + 1, self.q)]
        self.n_params = self.q + len(self.pairs)
        c = self.columns
        self.names = (tuple(f"sd({name} | {group})" for name in c)
                      + tuple(f"cor({c[a]}, {c[b]} | {group})" for a, b in self.pairs))
        self.working_names = (tuple(f"log(sd({name} | {group}))" if self.q == 1
                                    else f"log(chol({name} | {group}))" for name in c)
                              + tuple(f"chol({c[b]}, {c[a]} | {group})" for a, b in self.pairs))

    def cholesky(self, theta) -> list[list]:
        """``L`` from the working vector (lists of scalars; zeros above the diagonal)."""
        L = [[0.0] * self.q for _ in range(self.q)]
        for j in range(self.q):
            L[j][j] = anp.exp(theta[j])
        for k, (a, b) in enumerate(self.pairs):
            L[b][a] = theta[self.q + k]
        return L

    def to_natural(self, theta):
        """Standard deviations and correlations from the working vector (traceable)."""
        L = self.cholesky(theta)
        S = [[sum(L[i][k] * L[j][k] for k in range(self.q)) for j in range(self.q)]
             for i in range(self.q)]
        sd = [anp.sqrt(S[j][j]) for j in range(self.q)]
        cor = [S[a][b] / (sd[a] * sd[b]) for a, b in self.pairs]
        return anp.stack(sd + cor)

    def to_working(self, natural: np.ndarray) -> np.ndarray:
        """The working vector of standard deviations and correlations (NaN where they do
        not make a positive definite covariance)."""
        natural = np.asarray(natural, dtype=float)
        sd = natural[:self.q]
        R = np.eye(self.q)
        for k, (a, b) in enumerate(self.pairs):
            R[a, b] = R[b, a] = natural[self.q + k]
        S = R * np.outer(sd, sd)
        try:
            L = np.linalg.cholesky(S)
        except np.linalg.LinAlgError:
            return np.full(self.n_params, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            diagonal = np.log(np.diag(L))
        return np.concatenate([diagonal, [L[b, a] for a, b in self.pairs]])

    def start(self) -> np.ndarray:
        """Uncorrelated effects of standard deviation 0.5: large enough that the
        first steps see the curvature in the variance, small enough to keep inner modes
        near the fixed-effect fit."""
        return np.concatenate([np.full(self.q, np.log(0.5)), np.zeros(len(self.pairs))])

    def log_prior(self, theta, U: list):
        """``log N(u_g; 0, Sigma)`` of each group's effects ``U`` (``q`` arrays over
        groups), by forward substitution ``L v = u``."""
        L = self.cholesky(theta)
        v = forward_substitute(L, U)
        return (-0.5 * self.q * np.log(2.0 * np.pi) - sum(theta[j] for j in range(self.q))
                - 0.5 * sum(vj * vj for vj in v))

    def precision(self, theta) -> list[list]:
        """``Sigma^{-1} = L^{-T} L^{-1}`` (lists of scalars)."""
        L = self.cholesky(theta)
        columns = [forward_substitute(L, [1.0 if i == j else 0.0 for i in range(self.q)])
                   for j in range(self.q)]  # column j of L^{-1}
        return [[sum(columns[i][k] * columns[j][k] for k in range(self.q))
                 for j in range(self.q)] for i in range(self.q)]


def forward_substitute(L: list[list], b: list) -> list:
    """``x`` solving ``L x = b`` for lower triangular ``L`` (entries scalars or arrays).

    Examples
    --------
    >>> forward_substitute([[2.0, 0.0], [1.0, 1.0]], [2.0, 3.0])
    [1.0, 2.0]
    """
    x = []
    for i in range(len(b)):
        x.append((b[i] - sum(L[i][k] * x[k] for k in range(i))) / L[i][i])
    return x


def back_substitute(L: list[list], b: list) -> list:
    """``x`` solving ``L' x = b`` for lower triangular ``L``.

    Examples
    --------
    >>> back_substitute([[2.0, 0.0], [1.0, 1.0]], [4.0, 2.0])
    [1.0, 2.0]
    """
    q = len(b)
    x = [None] * q
    for i in reversed(range(q)):
        x[i] = (b[i] - sum(L[k][i] * x[k] for k in range(i + 1, q))) / L[i][i]
    return x


def cholesky(A: list[list]) -> list[list]:
    """The lower Cholesky factor of a symmetric positive definite ``A`` whose entries are
    arrays over groups (one small matrix per group, factored elementwise).

    Examples
    --------
    >>> L = cholesky([[np.array([4.0, 9.0]), np.array([2.0, 3.0])],
    ...               [np.array([2.0, 3.0]), np.array([5.0, 2.0])]])
    >>> L[0][0], L[1][0], L[1][1]
    (array([2., 3.]), array([1., 1.]), array([2., 1.]))
    """
    q = len(A)
    L = [[0.0] * q for _ in range(q)]
    for j in range(q):
        L[j][j] = anp.sqrt(A[j][j] - sum(L[j][k] * L[j][k] for k in range(j)))
        for i in range(j + 1, q):
            L[i][j] = (A[i][j] - sum(L[i][k] * L[j][k] for k in range(j))) / L[j][j]
    return L
