"""What every vignette shares: tables rendered as Markdown.

The vignettes run as scripts (``python vignettes/NAME.py``), so this module sits on their
path as a sibling file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def markdown_table(frame: pd.DataFrame, digits: int = 4) -> str:
    """A DataFrame as a GitHub Markdown table, numbers to ``digits`` significant digits."""
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "NaN" if np.isnan(v) else f"{v:.{digits}g}"
        return str(v)
    header = "| " + " | ".join([""] + [str(c) for c in frame.columns]) + " |"
    rule = "|" + "---|" * (len(frame.columns) + 1)
    rows = ["| " + " | ".join([f"`{i}`"] + [cell(v) for v in row]) + " |"
            for i, row in zip(frame.index, frame.to_numpy(dtype=object))]
    return "\n".join([header, rule, *rows])


def output_dir(doc: str, argv=None) -> Path:
    """The ``--output-dir`` of a vignette's command line (default: the vignettes folder),
    with its ``figures/`` folder made."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=Path(__file__).resolve().parent)
    out = parser.parse_args(argv).output_dir
    (out / "figures").mkdir(parents=True, exist_ok=True)
    return out
