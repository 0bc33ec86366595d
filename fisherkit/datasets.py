"""Real, public data sets shipped with fisherkit (provenance in ``datasets/README.md``)."""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load", "names"]


def _folder():
    return resources.files("fisherkit._data")


def names() -> list[str]:
    """Names of the shipped data sets.

    Examples
    --------
    >>> "spector" in names()
    True
    """
    return sorted(p.name[:-4] for p in _folder().iterdir() if p.name.endswith(".csv"))


def load(name: str) -> pd.DataFrame:
    """A shipped data set as a DataFrame.

    Examples
    --------
    >>> load("spector").shape
    (32, 4)
    """
    available = names()
    if name not in available:
        raise ValueError(f"Unknown data set {name!r}; choose one of {available}.")
    with resources.as_file(_folder() / f"{name}.csv") as path:
        return pd.read_csv(path)
