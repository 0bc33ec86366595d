"""The marginal log-likelihood of a grouped model: Laplace and adaptive Gauss-Hermite.

Each group ``g`` has random effects ``u_g ~ N(0, Sigma)`` entering the linear predictor as
``z_i' u_g``. With ``h_g(u) = sum_{i in g} l_i(eta_i + z_i' u) + log N(u; 0, Sigma)``,
the group's marginal log-likelihood ``log integral exp(h_g(u)) du`` is approximated at the
inner mode ``u_hat_g`` by (Tierney and Kadane, 1986; Pinheiro and Bates, 1995)

- Laplace: ``h_g(u_hat) + (q/2) log 2 pi - (1/2) log det(-h_g''(u_hat))``;
- adaptive Gauss-Hermite with ``k`` points per dimension (the product rule, ``k^q``
  nodes): the nodes ``x_j`` and weights ``w_j`` of ``exp(-|x|^2)`` moved to
  ``u_hat + sqrt(2) L^{-T} x_j`` with ``L L' = -h_g''(u_hat)``:
  ``(q/2) log 2 - log det L + log sum_j w_j exp(|x_j|^2 + h_g(u_hat + sqrt(2) L^{-T} x_j))``;
  one point is the Laplace approximation (Liu and Pierce, 1994; Pinheiro and Bates, 1995).

The modes are found by Newton's method on all groups at once (one pass over the rows per
step, group sums by ``bincount``). Their derivative in the parameters comes from the
implicit function theorem: ``h_g'(theta, u_hat(theta)) = 0`` gives
``d u_hat / d theta = (-h_g'')^{-1} d h_g' / d theta``; :func:`conditional_modes` is an
autograd primitive whose derivative rule is written in traceable operations, so that
autograd's Hessian of the marginal log-likelihood (which differentiates that rule again)
is exact.

A *problem* (:class:`fisherkit.models.mixed.model.GroupedProblem`) supplies the pieces:
``n_groups``, ``q``, ``codes``, ``Z`` and the traceable ``row_pieces``, ``log_prior``,
``precision`` and ``inner_gradient``, ``neg_hessian``; and the numerical ``numeric_pieces``.
"""

from __future__ import annotations

import itertools

import autograd
import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp, primitive
from autograd.scipy.special import logsumexp

from .covariance import back_substitute, cholesky

__all__ = ["segment_sum", "spread", "conditional_modes", "find_modes", "marginal_loglik",
           "group_marginals"]

_LOG_2PI = np.log(2.0 * np.pi)


@primitive
def segment_sum(values, codes, n_groups):
    """Sums of ``values`` within groups ``codes`` (``0 .. n_groups - 1``), traceable.

    Examples
    --------
    >>> segment_sum(np.array([1.0, 2.0, 3.0]), np.array([0, 1, 0]), 2)
    array([4., 2.])
    """
    return np.bincount(codes, weights=values, minlength=n_groups)


@primitive
def spread(values, codes):
    """Each row's group value ``values[codes]``, traceable: the transpose of
    :func:`segment_sum`, so that each is the other's derivative (autograd's own rule for an
    integer index scatters with the slower ``np.add.at``).

    Examples
    --------
    >>> spread(np.array([4.0, 2.0]), np.array([0, 1, 0]))
    array([4., 2., 4.])
    """
    return values[codes]


defvjp(segment_sum, lambda ans, values, codes, n_groups: lambda g: spread(g, codes))
defvjp(spread, lambda ans, values, codes: lambda g: segment_sum(g, codes, len(values)))


def find_modes(problem, theta: np.ndarray, start: np.ndarray, *, maxiter: int = 200,
               tol: float = 1e-10):
    """The inner modes ``u_hat`` (``G x q``) by damped Newton steps on every group at once.

    A step is halved, group by group, until the group's ``h_g`` does not fall; the
    curvature's eigenvalues are floored so that a group where ``h_g`` is not concave still
    climbs. Stops when no group's step exceeds ``tol``, or when its next one would not at
    the rate of its last two full steps (Newton's convergence is quadratic, so the modes are
    then right to about ``tol ** 2``). Returns the modes and whether they converged.

    Examples
    --------
    >>> import fisherkit as fk
    >>> from fisherkit.building import build_model
    >>> model = build_model("incidence ~ C(period) + (1 | herd)", fk.datasets.load("cbpp"),
    ...                     "binomial", trials="size")
    >>> theta = model.start_values()
    >>> U, converged = find_modes(model.problem, theta, np.zeros((15, 1)))
    >>> U.shape, converged
    ((15, 1), True)
    """
    U = np.array(start, dtype=float)
    h, g, A = problem.numeric_pieces(theta, U)
    previous = np.zeros(len(U))  # each group's last full step (0: none yet)
    for _ in range(maxiter):
        lam, V = np.linalg.eigh(A)
        floor = 1e-8 * np.maximum(np.abs(lam).max(axis=1, keepdims=True), 1.0)
        lam = np.maximum(lam, floor)
        step = np.einsum("gab,gb->ga", V, np.einsum("gba,gb->ga", V, g) / lam)
        size = np.max(np.abs(step), axis=1)
        rate = np.divide(size, previous, out=np.ones_like(size), where=previous > 0)
        if np.all(np.isfinite(size)) and np.all(size * np.minimum(rate, 1.0) <= tol):
            # the step after this one, at the rate of the last two (an overestimate once
            # the convergence is quadratic), is within tol: this one is taken without a
            # pass over the rows, which a line search would accept whole anyway
            return U + step, True
        lost = ~np.all(np.isfinite(step), axis=1)
        if lost.any():
            # a group whose pieces are not finite cannot be moved: not converged
            step[lost] = 0.0
            if lost.all():
                return U, False
        t = np.ones(len(U))
        for _ in range(60):
            trial = U + t[:, None] * step
            h_new, g_new, A_new = problem.numeric_pieces(theta, trial)
            worse = ~(h_new >= h - 1e-12 * (1.0 + np.abs(h)))
            if not worse.any():
                break
            t[worse] *= 0.5
        U, h, g, A = trial, h_new, g_new, A_new
        # a halved step says nothing of the rate of convergence
        previous = np.where(t == 1.0, size, 0.0)
        if np.max(np.abs(t[:, None] * step)) <= tol:
            return U, not lost.any()
    return U, False


@primitive
def conditional_modes(theta, problem):
    """The inner modes ``u_hat(theta)``, ``G x q``: Newton's method forward, the implicit
    function theorem backward (see the module docstring)."""
    return problem.modes(theta)


def _modes_vjp(ans, theta, problem):
    q = problem.q

    def vjp(v):
        # v' du/dtheta = w' d(h')/dtheta with (-h'') w = v, by Cholesky per group
        L = cholesky(problem.neg_hessian(theta, ans))
        y = [None] * q
        for i in range(q):
            y[i] = (v[:, i] - sum(L[i][k] * y[k] for k in range(i))) / L[i][i]
        w = [None] * q
        for i in reversed(range(q)):
            w[i] = (y[i] - sum(L[k][i] * w[k] for k in range(i + 1, q))) / L[i][i]

        def along_w(t):
            return sum(anp.sum(w[a] * grad_a) for a, grad_a in
                       enumerate(problem.inner_gradient(t, ans)))

        return autograd.grad(along_w)(theta)

    return vjp


defvjp(conditional_modes, _modes_vjp)


def _effects(problem, U):
    """The per-row random part ``z_i' u_{g_i}`` of the linear predictor."""
    return sum(problem.Z[:, a] * spread(U[a], problem.codes) for a in range(problem.q))


def group_marginals(problem, theta, nagq: int = 1):
    """Each group's approximate marginal log-likelihood (``G`` values, traceable)."""
    q, G, codes = problem.q, problem.n_groups, problem.codes
    modes = conditional_modes(theta, problem)
    U = [modes[:, a] for a in range(q)]
    f0, _, f2 = problem.row_pieces(theta, _effects(problem, U), second=True)
    L = cholesky(problem.neg_hessian_from(theta, f2))
    half_log_det = sum(anp.log(L[j][j]) for j in range(q))
    if nagq == 1:
        h = segment_sum(f0, codes, G) + problem.log_prior(theta, U)
        return h + 0.5 * q * _LOG_2PI - half_log_det
    # the product rule: nodes x on the grid moved to u_hat + sqrt(2) L^{-T} x, where
    # L L' = -h'', so that the integrand is exp(-|x|^2) times a near-constant
    nodes, weights = np.polynomial.hermite.hermgauss(nagq)
    terms = []
    for point in itertools.product(range(nagq), repeat=q):
        x = nodes[list(point)]
        shift = back_substitute(L, [float(v) for v in x])
        u = [U[a] + np.sqrt(2.0) * shift[a] for a in range(q)]
        f = problem.row_pieces(theta, _effects(problem, u), second=False)[0]
        terms.append(float(np.sum(np.log(weights[list(point)]) + x * x))
                     + segment_sum(f, codes, G) + problem.log_prior(theta, u))
    return 0.5 * q * np.log(2.0) - half_log_det + logsumexp(anp.stack(terms), axis=0)


def marginal_loglik(problem, theta, nagq: int = 1):
    """The approximate marginal log-likelihood, summed over groups (traceable).

    Examples
    --------
    >>> import fisherkit as fk
    >>> from fisherkit.building import build_model
    >>> model = build_model("incidence ~ C(period) + (1 | herd)", fk.datasets.load("cbpp"),
    ...                     "binomial", trials="size")
    >>> theta = np.array([-1.3985, -0.9923, -1.1287, -1.5803, np.log(0.6423)])
    >>> round(float(marginal_loglik(model.problem, theta)), 4)
    -92.0263
    """
    return anp.sum(group_marginals(problem, theta, nagq))

