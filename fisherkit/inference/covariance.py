"""Information matrices and their inversion into covariances, with honest failure.

An information matrix is inverted after Jacobi scaling (``D^-1/2 I D^-1/2``, which makes the
check scale-free: a badly scaled but well-identified model passes, two collinear columns do
not). Eigenvalues at or below ``rtol`` times the largest mark directions the data do not
identify; each is reported as a named combination of parameters, the parameters it involves
get NaN variances, and the rest of the covariance is the inverse on the identified subspace.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..exceptions import SingularInformationWarning, user_stacklevel

__all__ = ["invert_information", "describe_direction"]

#: eigenvalues of the scaled information below this fraction of the largest count as zero
RTOL = 1e-12


def describe_direction(vector: np.ndarray, names, cutoff: float = 1e-3) -> str:
    """A direction in parameter space as a readable combination: ``"GPA - TUCE"``.

    Examples
    --------
    >>> describe_direction(np.array([0.7071, -0.7071, 0.0]), ["GPA", "TUCE", "PSI"])
    'GPA - TUCE'
    """
    v = np.asarray(vector, dtype=float)
    v = v / v[np.argmax(np.abs(v))]
    terms = []
    for coef, name in zip(v, names):
        if abs(coef) < cutoff:
            continue
        mag = abs(coef)
        body = name if abs(mag - 1.0) < 1e-6 else f"{mag:.3g}*{name}"
        sign = "-" if coef < 0 else "+"
        terms.append((sign, body))
    text = ("-" if terms[0][0] == "-" else "") + terms[0][1]
    for sign, body in terms[1:]:
        text += f" {sign} {body}"
    return text


def invert_information(info: np.ndarray, names, *, rtol: float = RTOL, warn: bool = True):
    """Covariance from information, with a diagnosis when it is not positive definite.

    Parameters
    ----------
    info : ndarray (p, p)
        An information matrix (minus a Hessian, an expected information, an OPG).
    names : sequence of str
        Parameter names, for messages.
    rtol : float
        Relative eigenvalue threshold below which a direction counts as not identified.
    warn : bool
        Emit a :class:`SingularInformationWarning` when there is a problem.

    Returns
    -------
    cov : ndarray (p, p)
        NaN in the rows and columns of parameters involved in a bad direction.
    problems : list of str
        One sentence per bad direction; empty when the information is positive definite.

    Examples
    --------
    >>> cov, problems = invert_information(np.array([[2.0, 0.0], [0.0, 4.0]]), ["a", "b"])
    >>> np.diag(cov), problems
    (array([0.5 , 0.25]), [])
    """
    info = 0.5 * (np.asarray(info, dtype=float) + np.asarray(info, dtype=float).T)
    p = info.shape[0]
    if not np.all(np.isfinite(info)):
        bad = [names[j] for j in range(p) if not np.all(np.isfinite(info[j]))]
        problems = [f"the information is not finite for {', '.join(bad)}"]
        if warn:
            warnings.warn(f"Standard errors cannot be computed: {problems[0]}.",
                          SingularInformationWarning, stacklevel=user_stacklevel())
        return np.full((p, p), np.nan), problems
    diag = np.diag(info)
    d = np.sqrt(np.where(diag > 0, diag, 1.0))
    lam, V = np.linalg.eigh(info / np.outer(d, d))
    top = max(np.max(np.abs(lam)), np.finfo(float).tiny)
    good = lam > rtol * top
    problems, involved = [], np.zeros(p, dtype=bool)
    for j in np.flatnonzero(~good):
        direction = V[:, j] / d
        combo = describe_direction(direction, names)
        kind = "is not identified" if abs(lam[j]) <= rtol * top else "has negative curvature"
        problems.append(f"{combo} {kind} (eigenvalue {lam[j] * 1.0:.3g} of the scaled "
                        f"information)")
        involved |= np.abs(direction / np.max(np.abs(direction))) > 1e-6
    for j in np.flatnonzero(diag <= 0):
        if not involved[j]:
            problems.append(f"{names[j]} has zero or negative information")
            involved[j] = True
    Vg = V[:, good]
    cov = (Vg / lam[good]) @ Vg.T / np.outer(d, d)
    if problems:
        cov[involved, :] = np.nan
        cov[:, involved] = np.nan
        if warn:
            warnings.warn(
                "The information matrix is not positive definite, so standard errors of "
                f"{', '.join(n for n, i in zip(names, involved) if i)} are NaN: "
                + "; ".join(problems) + ".",
                SingularInformationWarning, stacklevel=user_stacklevel())
    return cov, problems


def as_frame(matrix: np.ndarray, names) -> pd.DataFrame:
    """A square matrix labelled by parameter name on both axes."""
    return pd.DataFrame(matrix, index=list(names), columns=list(names))
