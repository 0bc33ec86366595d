"""The vignettes run from a clean directory and say what their numbers say."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

import fisherkit as fk

VIGNETTES = Path(__file__).resolve().parents[1] / "vignettes"


def test_standard_errors_vignette_runs_and_its_sandwich_claim_holds(tmp_path):
    subprocess.run([sys.executable, str(VIGNETTES / "standard_errors.py"),
                    "--output-dir", str(tmp_path)], check=True, capture_output=True, timeout=300)
    text = (tmp_path / "standard_errors.md").read_text()
    png = (tmp_path / "figures" / "standard_errors.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert text.startswith("# Standard errors four ways")
    assert "](figures/standard_errors.png)" in text

    # the claim: for the over-dispersed Poisson fit the sandwich standard errors exceed the
    # observed-information ones, by the range of factors the vignette prints
    ships = fk.datasets.load("ships")
    res = fk.fit("accident ~ yr_con + op_75_79", data=ships, family="poisson",
                 offset=np.log(ships["service"]))
    ratio = res.with_cov("sandwich").se / res.se
    assert (ratio > 1.2).all()
    printed = re.search(r"\*\*The sandwich is larger\*\*, by a factor of ([\d.]+) to ([\d.]+)",
                        text)
    assert printed is not None
    assert (float(printed.group(1)), float(printed.group(2))) == (round(ratio.min(), 2),
                                                                    round(ratio.max(), 2))


def test_standard_errors_vignette_reports_coverage_near_95_percent():
    text = (VIGNETTES / "standard_errors.md").read_text()
    printed = re.search(r"\*\*The observed-information intervals cover ([\d.]+)% to ([\d.]+)%\*\*",
                        text)
    assert printed is not None
    n_sets = int(re.search(r"(\d+) data sets drawn from the fitted", text).group(1))
    mc_se = np.sqrt(0.95 * 0.05 / n_sets)
    for share in printed.groups():
        assert abs(float(share) / 100 - 0.95) < 3 * mc_se
