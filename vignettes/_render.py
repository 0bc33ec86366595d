"""What every vignette shares: tables rendered as Markdown.

The vignettes run as scripts (``python vignettes/NAME.py``), so this module sits on their
path as a sibling file.
"""

from __future__ import annotations

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
