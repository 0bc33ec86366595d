"""The reparameterization vignette runs from a clean directory and its claims hold."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import special, stats

import fisherkit as fk

VIGNETTES = Path(__file__).resolve().parents[1] / "vignettes"


@pytest.mark.slow
def test_reparameterization_vignette_runs_and_its_sigma_claim_holds(tmp_path):
    subprocess.run([sys.executable, str(VIGNETTES / "reparameterization.py"), "--output-dir",
                    str(tmp_path)], check=True, capture_output=True, timeout=300)
    text = (tmp_path / "reparameterization.md").read_text()
    for name in ("reparameterization_profile.png", "reparameterization_flow.png"):
        assert (tmp_path / "figures" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](figures/{name})" in text

    # the profile interval of sigma in a normal linear model in closed form: the
    # coefficients profile out to least squares, and with u = s^2 / sigma^2 (s^2 = RSS / n)
    # the interval's ends solve u - log u = 1 + q / n
    longley = fk.datasets.load("longley")
    ols = sm.OLS(longley["TOTEMP"], sm.add_constant(longley["GNP"])).fit()
    n = ols.nobs
    s = np.sqrt(ols.ssr / n)
    z = -np.exp(-(1 + stats.chi2.ppf(0.95, 1) / n))
    lower, upper = s / np.sqrt(-special.lambertw(z, -1).real), s / np.sqrt(
        -special.lambertw(z, 0).real)
    printed = re.search(r"\*\*the profile interval reaches ([\d.]+) times as far above", text)
    assert printed is not None
    assert float(printed.group(1)) == round((upper - s) / (s - lower), 3)

    total = re.search(r"integrates to \*\*([\d.]+)\*\*", text)
    assert total is not None and abs(float(total.group(1)) - 1.0) < 1e-5
