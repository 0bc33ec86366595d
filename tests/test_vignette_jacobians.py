"""The Jacobian vignette runs from a clean directory and its slope claim holds."""

import re
import subprocess
import sys
from pathlib import Path

import autograd.numpy as anp
import numpy as np

import fisherkit as fk

VIGNETTES = Path(__file__).resolve().parents[1] / "vignettes"


def test_jacobian_vignette_runs_and_prints_quadratic_slopes(tmp_path):
    subprocess.run([sys.executable, str(VIGNETTES / "jacobians.py"), "--output-dir",
                    str(tmp_path)], check=True, capture_output=True, timeout=300)
    text = (tmp_path / "jacobians.md").read_text()
    png = (tmp_path / "figures" / "jacobians_linearization.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "](figures/jacobians_linearization.png)" in text
    printed = re.search(r"\*\*The log-log slopes are ([\d.]+), ([\d.]+), ([\d.]+)\*\*", text)
    assert printed is not None
    assert all(abs(float(s) - 2.0) < 0.02 for s in printed.groups())


def test_linearization_error_is_quadratic_for_an_independent_map():
    # a map not in the vignette: the error ratio for halved steps tends to 4
    def f(x):
        return anp.array([anp.exp(x[0]) * x[1], anp.sin(x[0] * x[1]), x[1] ** 3])

    x, v = np.array([0.3, -1.2]), np.array([0.6, 0.8])
    J = fk.derivatives.jacobian(f, x)
    errors = [np.linalg.norm(f(x + h * v) - f(x) - h * J @ v) for h in (1e-2, 5e-3)]
    assert abs(errors[0] / errors[1] - 4.0) < 0.05
