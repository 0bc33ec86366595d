"""The Hessian vignette runs from a clean directory and its saddle claim holds."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

VIGNETTES = Path(__file__).resolve().parents[1] / "vignettes"


@pytest.mark.slow
def test_hessian_vignette_runs_and_its_saddle_is_the_closed_form_one(tmp_path):
    subprocess.run([sys.executable, str(VIGNETTES / "hessians.py"), "--output-dir",
                    str(tmp_path)], check=True, capture_output=True, timeout=300)
    text = (tmp_path / "hessians.md").read_text()
    assert (tmp_path / "figures" / "hessians_mixture.png").read_bytes()[:4] == b"\x89PNG"
    assert "**2 maxima and 1 saddle**" in text
    assert "**The largest asymmetry is 0**" in text

    # the vignette's data, drawn again: with equal means m the gradient is sum(y - m) / 2,
    # so the saddle is at the sample mean; there the Hessian is -n/2 along the diagonal
    # and n/2 (mean squared deviation - 1) across it
    rng = np.random.default_rng(4)
    y = np.where(rng.random(400) < 0.5, -1.5, 1.5) + rng.normal(size=400)
    n, msd = y.size, np.mean((y - y.mean()) ** 2)
    where = re.search(r"the saddle sits at\s+\$\\mu_1 = \\mu_2 = (-?[\d.]+)\$", text)
    assert where is not None and float(where.group(1)) == round(y.mean(), 4)
    eig = re.search(r"eigenvalues ([\d.]+), for an eigenvector.*?and (-[\d.]+) along it", text,
                    flags=re.S)
    assert eig is not None
    assert float(eig.group(1)) == round(n / 2 * (msd - 1), 2)
    assert float(eig.group(2)) == round(-n / 2, 2)
