"""The built-in families by name: :func:`make_family` and the table behind it.

Each family is a class of :mod:`fisherkit.models.glm_families` or
:mod:`fisherkit.models.nonglm_families` (on :class:`fisherkit.models.builtin_family.BuiltinFamily`)
with a log-density of :mod:`fisherkit.models.logpdfs`.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import SpecificationError
from . import logpdfs
from .family import Family
from .glm_families import Binary, Binomial, Gamma, NegativeBinomial, Normal, Poisson
from .links import get_link
from .nonglm_families import Exponential, Ordinal, StudentT, Weibull
from .parameters import CutPoints, Predictor, Scalar

__all__ = ["make_family", "FAMILIES"]


def _ones(n):
    return np.ones(n)


def make_family(name: str, link: str | None = None) -> Family:
    """A built-in family by name, with an optional non-default link.

    Examples
    --------
    >>> make_family("gamma", link="log").link.name
    'log'
    """
    if name not in FAMILIES:
        raise SpecificationError(f"Unknown family {name!r}; choose one of {sorted(FAMILIES)}.")
    cls, factory, default_link, allowed, extra, aux = FAMILIES[name]
    link_obj = get_link(default_link if link is None else link, allowed)
    logpdf = factory(link_obj)
    params = {"mu": Predictor(link=link_obj.name)}
    for key, spec in extra.items():
        params[key] = spec
    fam = cls(name, logpdf, link_obj.name, allowed, aux=aux, **params)
    if "event" in aux:
        fam.default_aux["event"] = _ones
    return fam


_POS = Scalar("positive")
FAMILIES = {
    "normal": (Normal, logpdfs.normal, "identity", ("identity", "log"),
               {"sigma": _POS}, ()),
    "logit": (Binary, logpdfs.binary, "logit", ("logit",), {}, ()),
    "probit": (Binary, logpdfs.binary, "probit", ("probit",), {}, ()),
    "binomial": (Binomial, logpdfs.binomial, "logit", ("logit", "probit", "cloglog"),
                 {}, ("trials",)),
    "poisson": (Poisson, logpdfs.poisson, "log", ("log", "identity"), {}, ()),
    "negbin": (NegativeBinomial, logpdfs.negbin, "log", ("log",), {"alpha": _POS}, ()),
    "gamma": (Gamma, logpdfs.gamma, "inverse", ("inverse", "log", "identity"),
              {"shape": _POS}, ()),
    "exponential": (Exponential, logpdfs.exponential, "log", ("log",), {}, ("event",)),
    "weibull": (Weibull, logpdfs.weibull, "log", ("log",), {"shape": _POS}, ("event",)),
    "student_t": (StudentT, logpdfs.student_t, "identity", ("identity",),
                  {"sigma": _POS, "df": _POS}, ()),
    "ordinal": (Ordinal, logpdfs.ordinal, "logit", ("logit", "probit", "cloglog"),
                {"cuts": CutPoints()}, ()),
}
