"""An opt-in progress display for long fits: one line per trace row.

Library code never prints; ``fk.fit(..., progress=True)`` (or a stream such as a log file)
asks for a line per iteration, written as each trace row is made::

    natural_gradient iter    3  loglik -12.889667  |grad| 2.10e-03  step 1  passes 7  0.01 s
"""

from __future__ import annotations

import sys
from typing import Callable, TextIO

import numpy as np

from ..exceptions import SpecificationError

__all__ = ["ProgressLine", "with_progress"]


class ProgressLine:
    """Writes one line per trace row to a stream (standard error by default).

    Parameters
    ----------
    label : str
        Printed first, usually the method's name.
    stream : file-like, optional
        Where lines go; ``sys.stderr`` at the time of each write if not given.
    every : int
        Write every ``every``-th row (the first and the rows of a multiple of it).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> line = ProgressLine("newton", stream=out)
    >>> line({"iteration": 2, "loglik": -12.5, "grad_norm": 0.01, "step_size": 1.0,
    ...       "passes": 3.0, "elapsed": 0.02})
    >>> out.getvalue()
    'newton iter    2  loglik -12.5  |grad| 1.00e-02  step 1  passes 3  0.02 s\\n'
    """

    def __init__(self, label: str = "fit", stream: TextIO | None = None, every: int = 1):
        if not (isinstance(every, int) and every > 0):
            raise SpecificationError(f"The progress 'every' must be a positive integer; got {every!r}.")
        self.label, self.stream, self.every, self.rows = label, stream, every, 0

    def __call__(self, row: dict) -> None:
        self.rows += 1
        if (self.rows - 1) % self.every:
            return
        parts = [f"{self.label} iter {int(row['iteration']):>4}",
                 f"loglik {row['loglik']:.8g}", f"|grad| {row['grad_norm']:.2e}"]
        step = row.get("step_size", np.nan)
        if np.isfinite(step):
            parts.append(f"step {step:.3g}")
        passes = row.get("passes", np.nan)
        if np.isfinite(passes):
            parts.append(f"passes {passes:.4g}")
        parts.append(f"{row['elapsed']:.2f} s")
        stream = sys.stderr if self.stream is None else self.stream
        stream.write("  ".join(parts) + "\n")
        stream.flush()


def with_progress(options: dict | None, progress, label: str) -> dict:
    """The optimizer's options with a progress display added to any callback of the user's.

    ``progress`` is False (nothing), True (standard error), a stream (anything with
    ``write``) or a callable taking each trace row.
    """
    options = dict(options or {})
    if progress is False or progress is None:
        return options
    if progress is True:
        show: Callable = ProgressLine(label)
    elif hasattr(progress, "write"):
        show = ProgressLine(label, stream=progress)
    elif callable(progress):
        show = progress
    else:
        raise SpecificationError("The 'progress' must be True, False, a stream or a function "
                                 f"of each trace row; got {progress!r}.")
    user = options.get("callback")
    if user is None:
        options["callback"] = show
    else:
        def both(row):
            user(row)
            show(row)
        options["callback"] = both
    return options
