"""An opt-in progress display for long fits: one line per trace row.

Library code never prints; ``fk.fit(..., progress=True)`` (or a stream such as a log file)
asks for a line per iteration, written as each trace row is made::

    natural_gradient iter    3  loglik -12.889667  |grad| 2.10e-03  step 1  passes 7  0.01 s
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Mapping, TextIO

import numpy as np

from ..exceptions import SpecificationError

__all__ = ["ProgressLine", "with_progress", "split_callback"]


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


def with_progress(callback: Callable | None, progress, label: str) -> Callable | None:
    """A user's callback with a progress display added: the callback an optimizer runs with.

    ``progress`` is False (nothing), True (standard error), a stream (anything with
    ``write``) or a callable taking each trace row; ``callback`` (or None) receives every
    row first.

    Examples
    --------
    >>> import io
    >>> out, seen = io.StringIO(), []
    >>> both = with_progress(seen.append, out, "newton")
    >>> both({"iteration": 0, "loglik": -3.0, "grad_norm": 1.0, "elapsed": 0.0})
    >>> len(seen), out.getvalue()
    (1, 'newton iter    0  loglik -3  |grad| 1.00e+00  0.00 s\\n')
    >>> with_progress(None, False, "newton") is None
    True
    """
    if progress is False or progress is None:
        return callback
    if progress is True:
        show: Callable = ProgressLine(label)
    elif hasattr(progress, "write"):
        show = ProgressLine(label, stream=progress)
    elif callable(progress):
        show = progress
    else:
        raise SpecificationError("The 'progress' must be True, False, a stream or a function "
                                 f"of each trace row; got {progress!r}.")
    if callback is None:
        return show

    def both(row):
        callback(row)
        show(row)
    return both


def split_callback(options: Mapping[str, Any] | None) -> tuple[Any, Callable | None]:
    """A fit's ``options=`` as the optimizer's settings and the user's callback, which
    ``options=`` carries beside them but the optimizer is given apart.

    Examples
    --------
    >>> split_callback({"learning_rate": 0.5, "callback": print})
    ({'learning_rate': 0.5}, <built-in function print>)
    """
    if options is None:
        return {}, None
    if not isinstance(options, Mapping):
        return options, None  # for resolve_optimizer to refuse
    settings = dict(options)
    return settings, settings.pop("callback", None)
