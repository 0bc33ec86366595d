"""General likelihoods: any per-observation log-likelihood of named parameters.

A model that is not an index model (a mixture, a small neural network, a normalizing flow)
is given as a function ``loglik_obs(params, data)`` returning one log-likelihood per
observation, written with ``autograd.numpy``. Its derivatives come from autograd on the flat
working vector: the Hessian of the total by ``autograd.hessian``, per-observation scores by
one forward-mode pass per parameter (``O(n p)`` memory). A :class:`Likelihood` offers the
same methods as :class:`fisherkit.models.index_model.Model`, so every optimizer and :class:`FitResult`
(summary, covariances, curvature) works on it unchanged.

Its expected information is the mean of minus the Hessian over data sets drawn by the
user's ``sample`` (Monte Carlo, with its standard error).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import autograd
import autograd.numpy as anp
import numpy as np
import pandas as pd
from autograd.core import make_jvp

from ..autodiff import derivatives
from ..exceptions import SpecificationError
from .expected import ExpectedInformation, monte_carlo_information
from .parameters import CONSTRAINTS, check_start_value, declare, element_names
from .likelihood_data import LikelihoodData, prepare_data
from .protocol import refuse_random_effects, refuse_subset
from .weights import check_weight_type, effective_n, model_weights

__all__ = ["Likelihood"]


@dataclass(frozen=True)
class _Block:
    key: str
    shape: tuple
    constraint: str
    start: int
    stop: int
    names: tuple
    working_names: tuple
    start_natural: np.ndarray = field(repr=False)


class Likelihood:
    """A likelihood given by its per-observation log-likelihood in named parameters.

    Parameters
    ----------
    loglik_obs : callable
        ``loglik_obs(params, data)`` returning the log-likelihood of each observation (a
        vector), written with ``autograd.numpy``. ``params`` maps each declared name to its
        value on the natural scale (a scalar or an array of the declared shape); with
        ``start=`` instead of ``params=`` it is the flat parameter vector itself. Fits
        pickle when it (and ``sample``) is a module-level function or a method: pickle
        stores functions by name and refuses a lambda or a nested function.
    data : DataFrame or any object
        Passed to ``loglik_obs`` as given, except that a DataFrame becomes a mapping from
        column name to numpy array, holding its complete rows only (pass only the columns
        the model uses), and that the float matrices in a dict are kept column-major (a
        copy of those that are not; the same values, with faster derivatives). A
        DataFrame's columns follow the column policy of formulas
        (:mod:`fisherkit.models.columns`): an object column of numbers becomes float, a
        column mixing numbers and text, and dates, are refused naming the column.
    params : mapping, optional
        Name to declaration: a number or an array (an unconstrained parameter starting
        there), :class:`fisherkit.Scalar` or :class:`fisherkit.Array` (constrained, estimated on the log
        or logit scale and reported on the natural one).
    start, names : array-like and sequence of str, optional
        A flat unconstrained parameter vector and its names (``theta[0]``, ... by default).
    sample : callable, optional
        ``sample(rng, params, data)`` returning a data set drawn from the model, like
        ``data``; makes the expected information available by Monte Carlo.
    cluster : str or array-like, optional
        Group labels (a column of a DataFrame) for cluster-robust covariances.
    weights, weight_type : str or array-like, and str, optional
        Observation weights (a column of a DataFrame, or one value per observation) and
        what they mean: ``"frequency"``, ``"analytic"`` or ``"probability"``, as for
        :func:`fisherkit.fit` (see :mod:`fisherkit.models.weights`). Each observation's
        log-likelihood is multiplied by its weight.
    missing : {"drop", "raise"}
        What to do with DataFrame rows holding missing values.
    name : str, optional
        A label for summaries; the function's name by default.

    Notes
    -----
    The Hessian of the total comes from ``autograd.hessian`` (``p`` reverse passes over the
    data) and per-observation scores from ``p`` forward-mode passes; a structured index model
    (:func:`fisherkit.fit`) is faster where one exists.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> import fisherkit as fk
    >>> def normal(p, data):
    ...     z = (data["y"] - p["mu"]) / p["sigma"]
    ...     return -0.5 * z ** 2 - anp.log(p["sigma"]) - 0.5 * anp.log(2 * anp.pi)
    >>> data = {"y": np.array([1.0, 2.0, 4.0])}
    >>> lik = Likelihood(normal, data, params={"mu": 0.0, "sigma": fk.Scalar("positive")})
    >>> lik.names, lik.working_names, lik.n_obs
    (('mu', 'sigma'), ('mu', 'log(sigma)'), 3)
    """

    def __init__(self, loglik_obs: Callable, data=None, *, params: Mapping | None = None,
                 start=None, names=None, sample: Callable | None = None, cluster=None,
                 weights=None, weight_type: str | None = None, missing: str = "drop",
                 name: str | None = None):
        if not callable(loglik_obs):
            raise SpecificationError("The 'loglik_obs' of a Likelihood must be callable.")
        if (params is None) == (start is None):
            raise SpecificationError("Give either params= (a mapping of named parameters) or "
                                     "start= (a flat starting vector), not both or neither.")
        self._flat = params is None
        if self._flat:
            start = np.atleast_1d(np.asarray(start, dtype=float))
            if start.ndim != 1:
                raise SpecificationError(f"The 'start' must be a flat vector; got shape {start.shape}.")
            names = [f"theta[{i}]" for i in range(start.size)] if names is None else list(names)
            if len(names) != start.size:
                raise SpecificationError(f"{len(names)} names for {start.size} starting values.")
            params = {"theta": start}
        elif names is not None:
            raise SpecificationError("names= goes with start=; with params= the keys are the names.")
        if sample is not None and not callable(sample):
            raise SpecificationError("The 'sample' of a Likelihood must be callable.")
        blocks, at = [], 0
        for key, spec in params.items():
            shape, constraint, natural = declare(key, spec)
            check_start_value(key, constraint, natural)
            elements = names if self._flat else element_names(key, shape)
            label = CONSTRAINTS[constraint].working_label
            blocks.append(_Block(key, shape, constraint, at, at + natural.size, tuple(elements),
                                 tuple(label.format(e) for e in elements), natural))
            at += natural.size
        if at == 0:
            raise SpecificationError("A Likelihood needs at least one parameter.")
        self.blocks: tuple[_Block, ...] = tuple(blocks)
        self.n_params = at
        self.names = tuple(n for b in blocks for n in b.names)
        self.working_names = tuple(n for b in blocks for n in b.working_names)
        if len(set(self.names)) != len(self.names):
            raise SpecificationError(f"Parameter names must be distinct; got {list(self.names)}.")
        self.function = loglik_obs
        #: evaluations of the log-likelihood over the data (each value, score, Hessian or
        #: set of per-observation scores counts one)
        self.passes = 0
        self.name = name or getattr(loglik_obs, "__name__", "likelihood")
        weight_type = check_weight_type(weights, weight_type)
        values, n_dropped, index, cluster, raw = prepare_data(data, missing, cluster, weights,
                                                               weight_type)
        self.data = LikelihoodData(values, n_dropped, index, cluster)
        self.sample = sample
        self._n_rows = self._check_values(self.start_values())
        if cluster is not None and len(cluster) != self._n_rows:
            raise SpecificationError(f"The cluster labels have {len(cluster)} values for "
                                     f"{self._n_rows} observations.")
        if raw is not None:
            if len(raw) != self._n_rows:
                raise SpecificationError(f"The weights have {len(raw)} values for the "
                                         f"{self._n_rows} observations of {self.name!r}.")
            self.data = LikelihoodData(values, n_dropped, index, cluster,
                              weights=model_weights(raw, weight_type), weight_type=weight_type)

    def __repr__(self) -> str:
        return f"Likelihood({self.name!r}, params={list(self.names)}, n_obs={self.n_obs})"

    def _check_values(self, theta: np.ndarray) -> int:
        with np.errstate(all="ignore"):
            values = np.asarray(self.loglik_obs(theta), dtype=float)
        if values.ndim != 1 or values.size == 0:
            raise SpecificationError(
                f"The function {self.name!r} must return one log-likelihood per observation "
                f"(a non-empty vector); got shape {values.shape}.")
        if self.data.index is not None and values.size != len(self.data.index):
            # the DataFrame's complete rows are the observations
            raise SpecificationError(
                f"The function {self.name!r} returned {values.size} log-likelihoods for the "
                f"{len(self.data.index)} rows of its data; it must return one per row.")
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise SpecificationError(
                f"The log-likelihood {self.name!r} is not finite at the starting values for "
                f"{bad.size} observations (positions {bad[:5].tolist()}); choose other starts.")
        return values.size

    @property
    def n_obs(self) -> int:
        """Observations: the rows, or the sum of their frequency weights."""
        return effective_n(self.data.weights, self.data.weight_type, self._n_rows)

    @property
    def n_rows(self) -> int:
        return self._n_rows

    @property
    def weight_type(self) -> str | None:
        return self.data.weight_type

    @property
    def label(self) -> str:
        return self.name

    def outcome_values(self) -> None:
        """The user's data need not separate an outcome from the rest."""
        return None

    def subset(self, rows):
        refuse_subset("Likelihood")

    def step_divergence(self, path: np.ndarray) -> np.ndarray:
        """NaN: a user's likelihood defines no divergence between its fitted distributions."""
        return np.full(len(path), np.nan)

    def mean_predictor(self):
        raise SpecificationError(
            f"Marginal effects on the mean are not available for the likelihood {self.name!r}: "
            "it has no mean response given by a linear predictor; use res.delta() with the "
            "mean written as a function of the parameters.")

    def design_for(self, *args, **kwargs):
        """Refused: a user's likelihood has no design to predict with."""
        raise SpecificationError(
            f"Predictions need a design, and the likelihood {self.name!r} has none; write the "
            "prediction as a function of the parameters and use res.delta().")

    eta_for = theta_gradients = design_for

    def fitted_outcome(self, theta):
        raise SpecificationError(
            f"Residuals need an outcome and a fitted mean, which the likelihood {self.name!r} "
            "does not separate from its data.")

    def post_fit_checks(self, theta: np.ndarray) -> list:
        """A user's likelihood declares no checks of its own."""
        return []

    def prefetch(self, pieces: tuple[str, ...]) -> None:
        """Every piece is computed when asked: nothing to plan."""

    def random_effects(self, theta):
        refuse_random_effects(self.label)

    def variance_null(self, restricted, removed) -> None:
        """No random effects: a likelihood-ratio test has its plain chi-square."""
        return None

    def expected_information(self, theta: np.ndarray, *, method: str = "auto", draws: int = 200,
                             seed=0, tail: float = 1e-12, max_terms: int = 100_000):
        """The expected information by Monte Carlo: the mean of minus the Hessian over data
        sets drawn by ``sample``, with its Monte Carlo standard error (``tail`` and
        ``max_terms`` are for discrete outcomes of index models and unused here)."""
        if method not in ("auto", "monte_carlo"):
            raise SpecificationError(
                f"The likelihood {self.name!r} has its expected information by Monte Carlo "
                f"only (method='auto' or 'monte_carlo'); got method={method!r}.")
        if self.sample is None:
            raise SpecificationError(
                f"The general likelihood {self.name!r} has no closed-form expected "
                "information: give fk.Likelihood(..., sample=...) to have it by Monte Carlo, "
                "or use the observed information.")
        if draws < 2:
            raise SpecificationError(f"Monte Carlo needs at least 2 draws; got {draws}.")
        theta = np.asarray(theta, dtype=float)
        rng = np.random.default_rng(seed)
        params = self.unpack(self.to_natural(theta))

        def draw_information():
            simulated = self.sample(rng, params, self.data.values)
            return -derivatives.hessian(lambda t: self.loglik_total(t, simulated), theta)

        mean, se = monte_carlo_information(draw_information, draws)
        return ExpectedInformation(mean, "monte_carlo", mc_se=se, draws=draws)

    # ---- parameters -------------------------------------------------------------------

    def start_values(self) -> np.ndarray:
        """The declared starting values on the working scale."""
        return np.concatenate([np.ravel(CONSTRAINTS[b.constraint].to_working(b.start_natural))
                               for b in self.blocks])

    def to_natural(self, theta):
        """Natural-scale flat vector from the working one (autograd-traceable)."""
        return anp.concatenate([CONSTRAINTS[b.constraint].to_natural(theta[b.start:b.stop])
                                for b in self.blocks])

    def to_working(self, natural: np.ndarray) -> np.ndarray:
        """The working vector of a natural one (NaN outside a constraint)."""
        natural = np.asarray(natural, dtype=float)
        return np.concatenate([np.ravel(CONSTRAINTS[b.constraint].to_working(natural[b.start:b.stop]))
                               for b in self.blocks])

    def own_coordinate(self, index: int) -> bool:
        """Constraints act elementwise: every parameter is one working coordinate."""
        return True

    def can_be_zero(self, index: int) -> bool:
        """Unconstrained parameters may be 0."""
        return next(b for b in self.blocks if b.start <= index < b.stop).constraint == "real"

    def natural_jacobian(self, theta: np.ndarray) -> np.ndarray:
        """``d natural / d working``, ``p x p`` (diagonal: constraints act elementwise)."""
        return derivatives.jacobian(self.to_natural, theta)

    def unpack(self, natural) -> dict | Any:
        """What ``loglik_obs`` receives: the flat vector, or name to value (natural scale).

        Examples
        --------
        >>> import fisherkit as fk
        >>> lik = Likelihood(lambda p, d: -(d - p["m"]) ** 2, np.zeros(2),
        ...                  params={"m": fk.Array([0.0, 1.0])})
        >>> lik.unpack(np.array([3.0, 4.0]))["m"]
        array([3., 4.])
        """
        if isinstance(natural, pd.Series):
            natural = natural.to_numpy(dtype=float)
        if self._flat:
            return natural
        out = {}
        for b in self.blocks:
            part = natural[b.start:b.stop]
            out[b.key] = part[0] if b.shape == () else anp.reshape(part, b.shape)
        return out

    # ---- log-likelihood and derivatives -----------------------------------------------

    def loglik_obs(self, theta, data=None):
        """Per-observation log-likelihood of the working vector (autograd-traceable)."""
        data = self.data.values if data is None else data
        values = self.function(self.unpack(self.to_natural(theta)), data)
        # a data set drawn by sample= holds the fitted rows anew, each with its weight
        w = self.data.weights
        return values if w is None else values * w

    def loglik_total(self, theta, data=None):
        return anp.sum(self.loglik_obs(theta, data))

    def loglik(self, theta) -> float:
        """Total log-likelihood; ``-inf`` where it is not finite (outside the domain)."""
        self.passes += 1
        with np.errstate(all="ignore"):
            value = float(self.loglik_total(np.asarray(theta, dtype=float)))
        return value if np.isfinite(value) else -np.inf

    def derivatives(self, theta: np.ndarray, second: bool = True):
        """Total log-likelihood, score and Hessian (or None), from autograd."""
        self.passes += 1
        return derivatives.total_derivatives(self.loglik_total, theta, second)

    def score(self, theta: np.ndarray) -> np.ndarray:
        return self.derivatives(theta, second=False)[1]

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        return self.derivatives(theta)[2]

    def scores_obs(self, theta: np.ndarray) -> np.ndarray:
        """Per-observation scores ``n x p``: one forward-mode pass per parameter."""
        self.passes += 1
        theta = np.asarray(theta, dtype=float)
        try:
            jvp = make_jvp(self.loglik_obs, theta)
            return np.column_stack([np.asarray(jvp(e)[1], dtype=float)
                                    for e in np.eye(self.n_params)])
        except NotImplementedError:
            # some primitives have no forward-mode rule: n reverse passes instead
            return np.asarray(autograd.jacobian(self.loglik_obs)(theta)).reshape(self.n_rows, -1)

    def observation_hessian(self, theta: np.ndarray, pairs) -> np.ndarray:
        """Per-observation second derivatives ``d2 l_i / d theta_a d theta_b`` for each
        ``(a, b)`` of ``pairs``, ``n x len(pairs)``: forward mode over forward mode, one
        nested pass per pair."""
        theta = np.asarray(theta, dtype=float)
        unit = np.eye(self.n_params)

        def along(a):
            return lambda t: make_jvp(self.loglik_obs, t)(unit[a])[1]

        try:
            return np.column_stack([np.asarray(make_jvp(along(a), theta)(unit[b])[1], dtype=float)
                                    for a, b in pairs])
        except NotImplementedError:
            raise SpecificationError(
                f"The likelihood {self.name!r} uses a function without a forward-mode "
                "derivative rule, so its per-observation Hessian (for the information-matrix "
                "test) is not available.") from None

    def opg(self, theta: np.ndarray) -> np.ndarray:
        """Outer product of per-observation scores, ``sum_i w_i s_i s_i'``."""
        S = self.scores_obs(theta)
        w = self.data.weights
        # the scores are of the weighted rows, w s: one weight too many for w s s'
        return S.T @ S if w is None else (S / w[:, None]).T @ S

    def sandwich_meat(self, theta: np.ndarray) -> np.ndarray:
        """``sum w s s'`` for frequency weights (and none), else ``sum (w s)(w s)'``."""
        if self.data.weight_type in (None, "frequency"):
            return self.opg(theta)
        S = self.scores_obs(theta)
        return S.T @ S

    def group_scores(self, theta: np.ndarray, groups) -> np.ndarray:
        """Scores summed within groups, ``G x p``."""
        codes, _ = pd.factorize(np.asarray(groups), sort=True)
        S = self.scores_obs(theta)
        out = np.zeros((codes.max() + 1, self.n_params))
        np.add.at(out, codes, S)
        return out
