"""Real, public data sets shipped with fisherkit (provenance in ``datasets/README.md``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = ["load", "names", "ORDERED"]


def _folder():
    # a source checkout reads its own datasets/ folder, which an editable install made
    # from another checkout would not map to fisherkit._data
    source = Path(__file__).resolve().parent.parent / "datasets"
    if (source / "README.md").is_file():
        return source
    return resources.files("fisherkit._data")


def names() -> list[str]:
    """Names of the shipped data sets.

    Examples
    --------
    >>> "spector" in names()
    True
    """
    return sorted(p.name[:-4] for p in _folder().iterdir() if p.name.endswith(".csv"))


#: ordinal columns of the shipped data sets, lowest level first: loaded as ordered
#: Categoricals, so that their order is the data's and not the alphabet's
ORDERED = {"ucla_apply": {"apply": ["unlikely", "somewhat likely", "very likely"]}}


def load(name: str) -> pd.DataFrame:
    """A shipped data set as a DataFrame (ordinal columns as ordered Categoricals).

    Examples
    --------
    >>> load("spector").shape
    (32, 4)
    """
    available = names()
    if name not in available:
        raise ValueError(f"Unknown data set {name!r}; choose one of {available}.")
    with resources.as_file(_folder() / f"{name}.csv") as path:
        frame = pd.read_csv(path)
    for column, levels in ORDERED.get(name, {}).items():
        frame[column] = pd.Categorical(frame[column], categories=levels, ordered=True)
    return frame
