"""``build_model``: a formula, data and a family in; the model a fit maximizes out.

The one place that tells data held in memory from data in Dask partitions: every layer above
receives a model of the protocol in :mod:`fisherkit.models.protocol` and never asks which.
"""

from __future__ import annotations

import os

from .distributed.build import distributed_model, is_dask_collection
from .exceptions import SpecificationError
from .models.builtins import make_family
from .models.family import Family
from .models.formula import build_data
from .models.index_model import Model
from .models.mixed import has_random_terms, mixed_model

__all__ = ["build_model"]


def build_model(formula: str, data, family: str | Family = "normal", *,
                link: str | None = None, offset=None, trials=None, event=None, cluster=None,
                weights=None, weight_type: str | None = None,
                missing: str = "drop", client=None, levels: dict | None = None,
                retries: int | None = None, nagq: int | None = None, **aux):
    """The model :func:`fit` would fit, built without fitting it.

    The arguments are :func:`fit`'s: a pandas DataFrame gives an index model in memory
    (:class:`fisherkit.models.Model`); a Dask DataFrame or a parquet path a model over its
    partitions (:func:`fisherkit.distributed.distributed_model`, which takes ``client=``,
    ``levels=`` and ``retries=``). Score tests use it to evaluate a larger model at a
    smaller model's estimate. A formula with a random-effects term ``(terms | group)``
    gives a mixed model (:func:`fisherkit.models.mixed.mixed_model`, which takes ``nagq=``).

    Examples
    --------
    >>> import fisherkit as fk
    >>> model = build_model("GRADE ~ GPA + PSI", fk.datasets.load("spector"), "logit")
    >>> model.names, model.n_obs
    (('Intercept', 'GPA', 'PSI'), 32)
    """
    if isinstance(family, str):
        family = make_family(family, link)
    elif not isinstance(family, Family):
        raise SpecificationError(f"The 'family' must be a name or a fk.Family; got {family!r}.")
    elif link is not None:
        raise SpecificationError("Give the link inside a custom Family's fk.Predictor, not as link=.")
    data_kwargs = {k: v for k, v in (("trials", trials), ("event", event)) if v is not None}
    dask_options = {k: v for k, v in (("client", client), ("levels", levels),
                                       ("retries", retries)) if v is not None}
    weight_kwargs = {k: v for k, v in (("weights", weights), ("weight_type", weight_type))
                     if v is not None}
    if has_random_terms(formula):
        if dask_options or isinstance(data, (str, os.PathLike)) or is_dask_collection(data):
            raise SpecificationError("Mixed models (random-effects terms in the formula) take "
                                     "a pandas DataFrame; data in Dask are not available yet.")
        return mixed_model(formula, data, family, nagq=1 if nagq is None else nagq,
                           offset=offset, missing=missing, cluster=cluster,
                           **data_kwargs, **weight_kwargs, **aux)
    if nagq is not None:
        raise SpecificationError(f"nagq= sets the quadrature over random effects; the formula "
                                 f"{formula!r} has no random-effects term '(terms | group)'.")
    if isinstance(data, (str, os.PathLike)) or is_dask_collection(data):
        return distributed_model(formula, data, family, offset=offset, missing=missing,
                                 cluster=cluster, **dask_options, **data_kwargs,
                                 **weight_kwargs, **aux)
    if dask_options:
        raise SpecificationError(f"The option(s) {sorted(dask_options)} are for data in Dask "
                                 "(a Dask DataFrame or a parquet path); the data here are a "
                                 f"{type(data).__name__}.")
    return Model(family, build_data(formula, data, family, offset=offset, missing=missing,
                                    cluster=cluster, **data_kwargs, **weight_kwargs, **aux))
