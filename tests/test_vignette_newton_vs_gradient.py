"""The Newton-versus-gradient vignette runs and its convergence-rate claims hold."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm

import fisherkit as fk

VIGNETTES = Path(__file__).resolve().parents[1] / "vignettes"


def test_gradient_rate_is_one_minus_the_eigenvalue_ratio(tmp_path):
    subprocess.run([sys.executable, str(VIGNETTES / "newton_vs_gradient.py"), "--output-dir",
                    str(tmp_path)], check=True, capture_output=True, timeout=300)
    text = (tmp_path / "newton_vs_gradient.md").read_text()
    assert (tmp_path / "figures" / "newton_vs_gradient.png").read_bytes()[:4] == b"\x89PNG"

    # with the rate 1 / lambda_max the asymptotic factor is 1 - lambda_min / lambda_max;
    # the eigenvalues here come from statsmodels' Hessian on the same standardized data
    df = fk.datasets.load("spector")
    X = np.column_stack([np.ones(32)] + [(df[c] - df[c].mean()) / df[c].std()
                                         for c in ("GPA", "TUCE")] + [df["PSI"]])
    model = sm.Logit(df["GRADE"], X)
    eig = np.linalg.eigvalsh(-model.hessian(model.fit(disp=0, tol=1e-12).params))
    printed = re.search(r"a ratio of\s+([\d.]+) per step", text)
    assert printed is not None
    assert float(printed.group(1)) == pytest.approx(1 - eig.min() / eig.max(), abs=2e-6)
    newton = re.search(r"Newton needed (\d+)", text)
    assert newton is not None and int(newton.group(1)) <= 7
    assert "**quadratic convergence**" in text

